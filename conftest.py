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
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the parsed-layer/download cache at a per-session temp folder."""
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "coterminus-cache"))
