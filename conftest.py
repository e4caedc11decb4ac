"""Root pytest configuration, shared by tests/ and the docstring examples in src/coterminus.

Docstring examples run with ``geo``, the 2019 geography of the dataset embedded in coterminus
(exact people, display-grade polygons), loaded once per session, so they run with or without
the ONS files; ``COTERMINUS_DATA_DIR`` defaults to ``../shared/data`` beside the repository when
that folder exists, for examples that load a vintage themselves.

Every run gets its own parsed-layer/download cache, never the user's. The caches of the
libraries underneath go to one folder kept between runs, ``COTERMINUS_TEST_CACHE`` (default
``$XDG_CACHE_HOME/coterminus-tests``, i.e. ``~/.cache/coterminus-tests``), never the user's own:
numba's compiled kernels (numba keys each entry by its source file's content hash and checks
the numba version, so an edited kernel is compiled again; a new clone is given the entries of
another clone, see :func:`_seed_numba_cache`) and matplotlib's font list, one sub-folder per
library version. A folder that cannot be written falls back to a temporary one.
An environment that already says where these caches go is left alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

pytest_plugins = (
    "pytester",
)  # tests/test_markers.py runs the marker rules in a pytest of their own

_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
if "COTERMINUS_DATA_DIR" not in os.environ and (_DATA / "boundaries").is_dir():
    os.environ["COTERMINUS_DATA_DIR"] = str(_DATA)

ENV_TEST_CACHE = "COTERMINUS_TEST_CACHE"
#: library cache variable → (distribution whose version keys the folder, sub-folder prefix)
_LIBRARY_CACHES = {"NUMBA_CACHE_DIR": ("numba", "numba"), "MPLCONFIGDIR": ("matplotlib", "mpl")}
_made: list[str] = []
_set: list[str] = []


def library_cache_root() -> Path:
    """The folder the suite keeps library caches in between runs."""
    env = os.environ.get(ENV_TEST_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "coterminus-tests"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _numba_subfolder(source_dir: Path) -> str:
    """The sub-folder numba caches a source folder's kernels in (as numba's own locator names it:
    the folder's name and the SHA-1 of its absolute path)."""
    path = str(source_dir.resolve())
    return f"{source_dir.name}_{hashlib.sha1(path.encode()).hexdigest()}"


def _seed_numba_cache(cache: Path) -> None:
    """Give a fresh clone the kernels compiled for another clone of the same source.

    numba keys a cache folder by the absolute path of the source folder, but each entry by the
    content hash of its source file; so the entries of another clone are copied across, and
    numba keeps those whose source is unchanged and compiles the others again.
    """
    package = Path(__file__).resolve().parent / "src" / "coterminus"
    folders = {p.parent for p in package.rglob("*.py") if "njit(" in p.read_text(encoding="utf-8")}
    for folder in sorted(folders):
        target = cache / _numba_subfolder(folder)
        if target.exists():
            continue
        others = [p for p in cache.glob(f"{folder.name}_*") if p.is_dir()]
        if others:
            newest = max(others, key=lambda p: p.stat().st_mtime)
            shutil.copytree(newest, target, dirs_exist_ok=True)


def pytest_configure(config: pytest.Config) -> None:
    """Point numba's and matplotlib's caches at the kept folder (before either is imported)."""
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    for name, (dist, prefix) in _LIBRARY_CACHES.items():
        if os.environ.get(name):
            continue
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "none"
        folder = library_cache_root() / f"{prefix}-{version}-{python}"
        if not _writable(folder):
            folder = Path(tempfile.mkdtemp(prefix="coterminus-test-libcaches-")) / prefix
            _made.append(str(folder.parent))
        os.environ[name] = str(folder)
        _set.append(name)
        if name == "NUMBA_CACHE_DIR" and str(folder).startswith(str(library_cache_root())):
            _seed_numba_cache(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in _set:
        os.environ.pop(name, None)
    _set.clear()
    for root in _made:
        shutil.rmtree(root, ignore_errors=True)
    _made.clear()


#: Docstring examples that take seconds (they cannot carry a marker themselves).
SLOW_DOCTESTS = {
    "coterminus.outputs.figures",
    "coterminus.outputs.report",
    "coterminus.outputs.report.report",
    "coterminus.plans.mergers.iter_scored_plans",
    "coterminus.plans.mergers.national",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow docstring examples ``slow``."""
    for item in items:
        if item.name in SLOW_DOCTESTS and type(item).__name__ == "DoctestItem":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``COTERMINUS_CACHE_DIR`` (downloads and parsed layers) at a session temp folder.

    Session-scoped and autouse, so it is in place before any other fixture (the session-wide
    geographies write prepared tables) and the suite never writes into the user's cache. A test
    that needs its own cache overrides it with ``monkeypatch.setenv``.
    """
    root = tmp_path_factory.mktemp("coterminus-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COTERMINUS_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="session")
def embedded_geography():  # type: ignore[no-untyped-def]
    """``embedded_geography(v)``: the geography of the embedded copy of vintage ``v`` (no data
    directory), loaded once per session. Shared: do not change it (``with_level`` returns a new
    one)."""
    import coterminus

    loaded: dict[int, object] = {}

    def get(vintage: int):  # type: ignore[no-untyped-def]
        if vintage not in loaded:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("COTERMINUS_DATA_DIR", "")
                loaded[vintage] = coterminus.load(vintage)
        return loaded[vintage]

    return get


@pytest.fixture(autouse=True)
def _doctest_setup(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docstring examples run in a temporary folder (files they write go there) with ``geo``,
    the embedded 2019 geography, already loaded."""
    from _pytest.doctest import DoctestItem

    if not isinstance(request.node, DoctestItem):
        return
    monkeypatch.chdir(tmp_path)
    namespace = request.getfixturevalue("doctest_namespace")
    import coterminus
    from coterminus.outputs import figures, maps

    namespace.update(
        geo=request.getfixturevalue("embedded_geography")(2019),
        coterminus=coterminus,
        maps=maps,
        figures=figures,
    )
