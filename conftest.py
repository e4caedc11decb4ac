"""Root pytest configuration, shared by tests/ and the docstring examples in src/coterminus.

Docstring examples run on the real ONS data: ``COTERMINUS_DATA_DIR`` defaults to
``../shared/data`` beside the repository when that folder exists. Every run gets its own
parsed-layer/download cache, never the user's, and the caches of the libraries underneath
(matplotlib's font cache, numba's compiled kernels) go to a temporary folder too, unless the
environment already says where they go.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
if "COTERMINUS_DATA_DIR" not in os.environ and (_DATA / "boundaries").is_dir():
    os.environ["COTERMINUS_DATA_DIR"] = str(_DATA)


_LIBRARY_CACHES = ("MPLCONFIGDIR", "NUMBA_CACHE_DIR")
_made: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Send matplotlib's and numba's caches to a temporary folder (before either is imported)."""
    unset = [name for name in _LIBRARY_CACHES if not os.environ.get(name)]
    if unset:
        root = tempfile.mkdtemp(prefix="coterminus-test-libcaches-")
        _made.append(root)
        for name in unset:
            os.environ[name] = str(Path(root) / name.lower())


def pytest_unconfigure(config: pytest.Config) -> None:
    for root in _made:
        shutil.rmtree(root, ignore_errors=True)
        for name in _LIBRARY_CACHES:
            if os.environ.get(name, "").startswith(root):
                del os.environ[name]
    _made.clear()


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``COTERMINUS_CACHE_DIR`` (downloads and parsed layers) at a session temp folder.

    Session-scoped and autouse, so it is in place before any other fixture (the session-wide
    ``_geo2019`` writes parsed layers) and the suite never writes into the user's cache. A test
    that needs its own cache overrides it with ``monkeypatch.setenv``.
    """
    root = tmp_path_factory.mktemp("coterminus-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COTERMINUS_CACHE_DIR", str(root))
        yield root


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
        from coterminus.outputs import figures, maps

        namespace.update(
            geo=request.getfixturevalue("_geo2019"),
            coterminus=coterminus,
            maps=maps,
            figures=figures,
        )
