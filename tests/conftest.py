"""Shared fixtures, and the rules of the markers.

``data_dir`` is the real ONS data (``COTERMINUS_DATA_DIR`` or ``../shared/data`` beside the repository).
Locally a missing data directory skips the real-data tests; in CI (``CI=true``) it is an error.

Fast fixtures, loaded once per session and shared (do not change them; ``with_level`` and
``scenario`` return new geographies):

* ``geo2019`` … ``geo2024`` — the geography of each built-in vintage from the ONS files, and
  ``real_geography(v)`` for any vintage (they need the data: mark the test ``realdata``);
* ``embedded_geography(v)`` (root ``conftest.py``) — the embedded copy of vintage ``v``: exact
  people, display-grade polygons, no data needed; docstring examples get its 2019 as ``geo``.

Markers (``pytest -m "not slow"``, ``-m "not realdata"``...) are checked, not trusted:

* a test that uses ``data_dir`` (directly or through a fixture: ``geo2019``, ``ons``, ``geo``
  of ``helpers``...) and is not marked ``realdata`` fails at setup, saying so;
* a test not marked ``realdata`` runs with the ONS files hidden (``COTERMINUS_DATA_DIR`` empty),
  so one that reads them without saying so fails (or, loading a built-in vintage, gets the
  embedded copy, which is fine: it then does not need them);
* a test not marked ``browser`` that starts Chromium fails, saying so;
* ``slow`` (more than a few seconds): the terminal summary lists unmarked tests that took more
  than :data:`SLOW_SECONDS`, so the mark can be added (no time limit fails a test).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import skip_or_fail

REPO = Path(__file__).resolve().parents[1]


def _find_data_dir() -> Path | None:
    env = os.environ.get("COTERMINUS_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if (c / "boundaries").is_dir():
            return c.resolve()
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = _find_data_dir()
    if found is None:
        msg = "real ONS data not found: set COTERMINUS_DATA_DIR or place it at ../shared/data"
        skip_or_fail(msg)
    return found


# --- the fake ONS server (tests/ons_server.py) shared by the download tests ----------------------
@pytest.fixture(scope="module")
def ons_module(data_dir: Path):
    from ons_server import serve

    with serve(data_dir) as server:
        yield server


@pytest.fixture
def ons(ons_module):
    """The fake ONS server, with no failures switched on and an empty request log."""
    ons_module.reset()
    yield ons_module
    ons_module.reset()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty download cache for this test; no data dir; retries without waiting."""
    from coterminus.data import net

    root = tmp_path / "cache"
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(root))
    monkeypatch.delenv("COTERMINUS_DATA_DIR", raising=False)
    monkeypatch.delenv("COTERMINUS_ONS_BASE_URL", raising=False)
    monkeypatch.setattr(net, "BACKOFF_SECONDS", 0.0)
    for name in ("NO_PROXY", "no_proxy"):  # the fake server is local even behind a proxy
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return root


# --- session-wide geographies of the ONS files ----------------------------------------------------
@pytest.fixture(scope="session")
def real_geography(data_dir: Path):  # type: ignore[no-untyped-def]
    """``real_geography(v)``: ``coterminus.load(v, data_dir=...)`` once per session. Shared."""
    import coterminus

    loaded: dict[int, object] = {}

    def get(vintage: int):  # type: ignore[no-untyped-def]
        if vintage not in loaded:
            loaded[vintage] = coterminus.load(vintage, data_dir=data_dir)
        return loaded[vintage]

    return get


def _vintage(year: int):  # type: ignore[no-untyped-def]
    """A session fixture ``geo<year>``: the geography of ``year`` from the ONS files (shared)."""

    @pytest.fixture(scope="session", name=f"geo{year}")
    def fixture(real_geography):  # type: ignore[no-untyped-def]
        return real_geography(year)

    fixture.__doc__ = f"The {year} geography of the ONS files (session-wide, shared)."
    return fixture


geo2019 = _vintage(2019)
geo2020 = _vintage(2020)
geo2021 = _vintage(2021)
geo2022 = _vintage(2022)
geo2024 = _vintage(2024)


# --- the rules of the markers ----------------------------------------------------------------------
#: An unmarked test slower than this (call phase) is listed at the end of the run.
SLOW_SECONDS = 5.0
_slow_unmarked: list[tuple[str, float]] = []


def uses_real_data(item: pytest.Item) -> bool:
    """Whether a test asks for the ONS files (the ``data_dir`` fixture, directly or not)."""
    return "data_dir" in getattr(item, "fixturenames", ())


@pytest.fixture(autouse=True)
def _markers_are_true(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that uses the ONS files or Chromium without saying so; hide the ONS files
    from a test that does not say it needs them."""
    from _pytest.doctest import DoctestItem

    item = request.node
    if isinstance(item, DoctestItem):
        return
    if item.get_closest_marker("realdata") is None:
        if uses_real_data(item):
            pytest.fail(
                f"{item.nodeid} uses the ONS files (the data_dir fixture) but is not marked "
                "realdata: add @pytest.mark.realdata (or pytestmark = pytest.mark.realdata).",
                pytrace=False,
            )
        monkeypatch.setenv("COTERMINUS_DATA_DIR", "")
    if item.get_closest_marker("browser") is None:
        import browser

        def refuse() -> None:
            pytest.fail(
                f"{item.nodeid} starts Chromium but is not marked browser: add "
                "@pytest.mark.browser.",
                pytrace=False,
            )

        monkeypatch.setattr(browser, "chromium_path", refuse)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > SLOW_SECONDS and "slow" not in report.keywords:
        _slow_unmarked.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _slow_unmarked:
        terminalreporter.section(f"not marked slow, over {SLOW_SECONDS:g} s")
        for nodeid, seconds in sorted(_slow_unmarked, key=lambda x: -x[1]):
            terminalreporter.write_line(f"{seconds:6.1f}s  {nodeid}")


# --- issue 21: no error message in the suite is longer than 1,000 characters ---------------------
# tests/message_budget.py measures every CoterminusError as it is made and fails the test (or,
# for the docstring examples, the session) during which a longer one was made.
from message_budget import (  # noqa: E402 - the hooks are this conftest's
    pytest_runtest_call as pytest_runtest_call,
)
from message_budget import pytest_sessionfinish as pytest_sessionfinish  # noqa: E402
from message_budget import watch_messages  # noqa: E402

watch_messages()
