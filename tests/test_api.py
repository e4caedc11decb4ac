"""The public surface (issue 20): every name of ``coterminus.__all__`` has a narrow, typed signature.

* No public function or method takes more than 12 parameters (options objects instead:
  ``Constraints``, ``DrawOptions``). Result records and options objects (dataclasses) are
  exempt for their constructors: their fields are what they hold, not a workflow.
* No ``Any`` in a public signature: every parameter and return type of every function of
  ``__all__`` and every public method of its classes is resolved (``typing.get_type_hints``) and
  searched for ``typing.Any`` at any depth.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator

import pytest

import coterminus

MAX_PARAMETERS = 12
#: Classes whose constructor holds the pieces of a record rather than a workflow's options (not
#: dataclasses): a Geography is made by ``coterminus.load`` from a manifest's tables.
RECORDS = {"Geography"}


def _namespace() -> dict[str, object]:
    """Names the package's annotations refer to under ``from __future__ import annotations``."""
    import geopandas as gpd
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    ns: dict[str, object] = {"Axes": Axes, "Figure": Figure, "pd": pd, "gpd": gpd}
    for name in coterminus.__all__:
        ns[name] = getattr(coterminus, name)
    return ns


def _public() -> Iterator[tuple[str, Callable[..., object], bool]]:
    """``(label, callable, is_record_constructor)`` of every public function and method."""
    for name in coterminus.__all__:
        obj = getattr(coterminus, name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            yield f"{name}()", obj, dataclasses.is_dataclass(obj) or name in RECORDS
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member, False
        elif callable(obj):
            yield name, obj, False


def _has_any(tp: object) -> bool:
    if tp is typing.Any:
        return True
    return any(_has_any(arg) for arg in typing.get_args(tp))


PUBLIC = list(_public())


def test_the_walk_sees_the_whole_api() -> None:
    labels = {label for label, _, _ in PUBLIC}
    assert {"load", "assess", "mergers", "alignment", "diff", "report", "Geography.code"} <= labels
    assert len(PUBLIC) > 60


@pytest.mark.parametrize(("label", "func", "record"), PUBLIC, ids=[p[0] for p in PUBLIC])
def test_no_public_function_over_twelve_parameters(
    label: str, func: Callable[..., object], record: bool
) -> None:
    if record:
        pytest.skip("a result record or options object: its fields are what it holds")
    params = [
        p for p in inspect.signature(func).parameters.values() if p.name not in ("self", "cls")
    ]
    assert len(params) <= MAX_PARAMETERS, f"{label} takes {len(params)} parameters"


@pytest.mark.parametrize(("label", "func", "record"), PUBLIC, ids=[p[0] for p in PUBLIC])
def test_no_any_in_public_signatures(label: str, func: Callable[..., object], record: bool) -> None:
    target = func.__init__ if inspect.isclass(func) else func  # type: ignore[misc]
    hints = typing.get_type_hints(target, localns=_namespace())
    anys = sorted(name for name, tp in hints.items() if _has_any(tp))
    assert not anys, f"{label}: Any in {anys}"


def test_the_checks_can_fail() -> None:
    def wide(a: int, b: int, c: int, d: int, e: int, f: int, g: int, h: int, i: int, j: int,
             k: int, l: int, m: int) -> None: ...  # fmt: skip  # noqa: E741

    def loose(x: typing.Any) -> dict[str, typing.Any]:
        return {}

    assert len(inspect.signature(wide).parameters) > MAX_PARAMETERS
    assert _has_any(typing.get_type_hints(loose)["return"])
    assert _has_any(typing.get_type_hints(loose)["x"])


def test_toml_is_read_with_tomli_before_python_3_11() -> None:
    """Python 3.10 has no tomllib: the package requires tomli there, and every TOML reader
    (manifests, the named-scenario catalogue, the era criteria) falls back to it. Checked in a
    fresh interpreter where ``import tomllib`` fails and ``tomli`` is the same parser."""
    import subprocess
    import sys
    from importlib.metadata import requires

    assert 'tomli>=1.1; python_version < "3.11"' in (requires("coterminus") or [])
    assert 'weasyprint>=62; extra == "pdf"' in (requires("coterminus") or [])
    code = (
        "import sys, tomllib, pandas, pyarrow, numpy\n"  # the libraries first, on their own terms
        "sys.modules['tomli'] = tomllib; sys.modules['tomllib'] = None\n"
        "sys.version_info = (3, 10, 14, 'final', 0)\n"  # coterminus then takes its 3.10 path
        "from coterminus.data import criteria, manifest, scenarios\n"
        "assert manifest.tomllib is criteria.tomllib is scenarios.tomllib is sys.modules['tomli']\n"
        "m = manifest.read_manifest(2026)\n"
        "print(m.vintage, len(m.levels), len(scenarios.catalogue()), len(criteria.criteria_sets()))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[:3] == ["2026", "6", "3"]
