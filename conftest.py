"""Root pytest configuration, shared by tests/ and the docstring examples in src/coterminus.

Docstring examples run on the real ONS data: ``COTERMINUS_DATA_DIR`` defaults to
``../shared/data`` beside the repository when that folder exists. Every run gets its own
parsed-layer/download cache, never the user's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
if "COTERMINUS_DATA_DIR" not in os.environ and (_DATA / "boundaries").is_dir():
    os.environ["COTERMINUS_DATA_DIR"] = str(_DATA)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point the parsed-layer/download cache at a per-session temp folder."""
    monkeypatch.setenv(
        "COTERMINUS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "coterminus-cache")
    )


@pytest.fixture(scope="session")
def _geo2019():  # type: ignore[no-untyped-def]
    import coterminus

    return coterminus.load(2019)


@pytest.fixture(autouse=True)
def _doctest_setup(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docstring examples run in a temporary folder (files they write go there) with ``geo``,
    the 2019 geography, already loaded."""
    from _pytest.doctest import DoctestItem

    if not isinstance(request.node, DoctestItem):
        return
    monkeypatch.chdir(tmp_path)
    if "COTERMINUS_DATA_DIR" in os.environ:
        namespace = request.getfixturevalue("doctest_namespace")
        import coterminus
        from coterminus import figures, maps

        namespace.update(
            geo=request.getfixturevalue("_geo2019"),
            coterminus=coterminus,
            maps=maps,
            figures=figures,
        )
