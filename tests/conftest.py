"""Shared fixtures.

``data_dir`` is the real ONS data (``COTERMINUS_DATA_DIR`` or ``../shared/data`` beside the repository).
Locally a missing data directory skips the real-data tests; in CI (``CI=true``) it is an error.
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


# --- issue 21: no error message in the suite is longer than 1,000 characters ---------------------
# tests/message_budget.py measures every CoterminusError as it is made and fails the test (or,
# for the docstring examples, the session) during which a longer one was made.
from message_budget import (  # noqa: E402 - the hooks are this conftest's
    pytest_runtest_call as pytest_runtest_call,
)
from message_budget import pytest_sessionfinish as pytest_sessionfinish  # noqa: E402
from message_budget import watch_messages  # noqa: E402

watch_messages()
