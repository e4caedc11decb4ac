"""Shared fixtures.

``data_dir`` is the real ONS data (``COTERMINUS_DATA_DIR`` or ``../shared/data`` beside the repository).
Locally a missing data directory skips the real-data tests; in CI (``CI=true``) it is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return found
