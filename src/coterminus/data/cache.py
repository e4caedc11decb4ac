"""The coterminus cache folder: where it is, what it holds, and emptying it.

One folder, ``COTERMINUS_CACHE_DIR`` when set, else the user cache folder
(``pooch.os_cache("coterminus")``, ``~/.cache/coterminus`` on Linux), holds everything coterminus
writes on its own:

- ``downloads/``: files fetched from ONS by ``coterminus data fetch`` (with a ``.source.json``
  beside each, saying which service or URL it came from);
- ``parsed/``: parsed boundary layers (GeoParquet) keyed by the source file's SHA-256, so a second
  ``coterminus.load`` is fast. Deleting it only costs time.

The folder is marked as coterminus's by a file, :data:`MARKER` (``.coterminus-cache``), made
with the folder; every file coterminus writes there is recorded in it
(:func:`record_written`). :func:`usage` says how big each sub-folder is; :func:`clean` deletes
the recorded files, and only those: pointing ``COTERMINUS_CACHE_DIR`` at a folder that holds other
files by mistake cannot lose them, and a folder without the marker is refused outright.

Examples
--------
>>> import tempfile
>>> from unittest import mock
>>> from coterminus.data import cache
>>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
...     path = cache.downloads_dir() / "x.csv"
...     _ = path.write_text("a,b\\n")
...     cache.record_written(path)
...     _ = (cache.downloads_dir() / "mine.txt").write_text("not written by coterminus")
...     print(cache.usage().loc["downloads", ["files", "bytes", "other_files"]].tolist())
...     print(cache.clean(), sorted(p.name for p in cache.downloads_dir().iterdir()))
[1, 4, 1]
(1, 4) ['mine.txt']
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from contextlib import suppress
from pathlib import Path

import pandas as pd
import pooch

from ..errors import CacheError, ParameterError
from .atomic import atomic_write_text

log = logging.getLogger(__name__)

__all__ = [
    "FOLDERS",
    "MARKER",
    "cache_dir",
    "cache_root",
    "check_marked",
    "clean",
    "downloads_dir",
    "record_written",
    "recorded",
    "remove_if_empty",
    "usage",
]

ENV_CACHE_DIR = "COTERMINUS_CACHE_DIR"
DOWNLOADS = "downloads"
PARSED = "parsed"
FOLDERS: dict[str, str] = {
    DOWNLOADS: "files downloaded from ONS by `coterminus data fetch`",
    PARSED: "parsed boundary layers (GeoParquet), rebuilt on demand",
}
"""The sub-folders coterminus writes, with what they hold; :func:`clean` deletes only there."""

MARKER = ".coterminus-cache"
"""The file that marks a folder as coterminus's cache; it lists every file coterminus wrote."""
_MARKER_HEAD = (
    "# coterminus cache folder. `coterminus data clean` deletes only the files listed below,\n"
    "# which coterminus wrote here; anything else in this folder is left alone.\n"
)
_OTHER = "not written by coterminus (clean leaves it)"


def cache_root() -> Path:
    """The cache folder, without creating it: ``COTERMINUS_CACHE_DIR`` or the user cache folder.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": "/tmp/ct-cache"}):
    ...     print(cache_root())
    /tmp/ct-cache
    """
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(pooch.os_cache("coterminus"))


def cache_error(root: Path, reason: str) -> CacheError:
    """A :class:`CacheError` naming the folder, where its name came from, and the fix."""
    from_env = bool(os.environ.get(ENV_CACHE_DIR, "").strip())
    origin = f"set by {ENV_CACHE_DIR}" if from_env else "the default user cache"
    msg = (
        f"The cache folder {root} ({origin}) cannot be created or written: {reason}. "
        f"Set {ENV_CACHE_DIR} to a writable folder, e.g. {ENV_CACHE_DIR}=$HOME/.cache/coterminus."
    )
    return CacheError(msg)


def _mark(root: Path) -> None:
    """Create the marker file of ``root`` unless it is there (``O_EXCL``: never overwritten)."""
    try:
        fd = os.open(root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_MARKER_HEAD)


def cache_dir() -> Path:
    """Return the cache folder, creating it (with its marker) and checking that it is writable.

    The folder is ``COTERMINUS_CACHE_DIR`` when set, else the user cache folder given by
    ``pooch.os_cache("coterminus")`` (``~/.cache/coterminus`` on Linux). Downloads go to its
    ``downloads/`` sub-folder, parsed layers to ``parsed/``; :data:`MARKER` marks it as
    coterminus's and records the files written there.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CacheError
        The folder cannot be created or written; the message names it and how to choose another.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> from coterminus.data import cache_dir
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
    ...     print(cache_dir().is_dir(), (cache_dir() / MARKER).is_file())
    True True
    """
    root = cache_root()
    try:
        (root / DOWNLOADS).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root / DOWNLOADS):
            pass
        _mark(root)
    except OSError as exc:
        raise cache_error(root, str(exc.strerror or exc)) from exc
    return root


def record_written(*paths: str | os.PathLike[str]) -> None:
    """Record files coterminus has just written into the cache, so :func:`clean` may delete them.

    Paths outside the cache folder are ignored. The record is the marker file (one path,
    relative to the folder, per line, appended); the marker is made if it is missing.
    """
    root = cache_root()
    lines = []
    for path in paths:
        try:
            rel = Path(path).resolve().relative_to(root.resolve())
        except (ValueError, OSError):
            continue
        lines.append(rel.as_posix() + "\n")
    if not lines:
        return
    try:
        _mark(root)
        with open(root / MARKER, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))
    except OSError as exc:  # a cache entry that is not recorded is only kept, never lost
        log.info("could not record %s in the cache marker: %s", lines, exc)


def _entries(root: Path) -> list[str]:
    """Relative paths recorded in ``root``'s marker (each once, in order); ``[]`` without one."""
    try:
        text = (root / MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = (line.strip() for line in text.splitlines())
    return list(dict.fromkeys(x for x in lines if x and not x.startswith("#")))


def _safe(root: Path, rel: str) -> Path | None:
    """``root/rel`` when ``rel`` stays inside ``root`` and names a regular file (not a link)."""
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts or parts[0] not in FOLDERS:
        return None
    path = root.joinpath(*parts)
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    return path if stat.S_ISREG(mode) else None


def recorded(only: str | None = None) -> list[Path]:
    """The files coterminus recorded as written to the cache that are still there.

    Parameters
    ----------
    only : {"downloads", "parsed"}, optional
        Just those of one sub-folder.
    """
    root = cache_root()
    out = []
    for rel in _entries(root):
        path = _safe(root, rel)
        if path is not None and (only is None or Path(rel).parts[0] == only):
            out.append(path)
    return out


def remove_if_empty() -> None:
    """Remove ``downloads/``, the marker and the cache folder itself when they hold nothing.

    Called after a failed fetch, so a download that saved nothing leaves nothing behind, not even
    the empty folders (and marker) made while checking that the cache is writable.
    """
    root = cache_root()
    try:
        (root / DOWNLOADS).rmdir()  # only succeeds when empty
        names = {p.name for p in root.iterdir()}
    except OSError:
        return
    if names <= {MARKER} and not _entries(root):
        with suppress(OSError):
            (root / MARKER).unlink(missing_ok=True)
            root.rmdir()


def downloads_dir() -> Path:
    """``<cache>/downloads``, created and checked writable (see :func:`cache_dir`)."""
    return cache_dir() / DOWNLOADS


def _walk(path: Path) -> list[Path]:
    """Every file (or link) under ``path``; ``path`` itself when it is one."""
    if path.is_symlink() or path.is_file():
        return [path]
    out = []
    for dirpath, _, names in os.walk(path):
        out += [Path(dirpath) / name for name in names]
    return out


def _size(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        with suppress(OSError):  # vanished while counting
            total += p.lstat().st_size
    return total


def usage() -> pd.DataFrame:
    """How big the cache is, one row per sub-folder (known ones first, even when absent).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``folder``; columns ``path``, ``files`` and ``bytes`` (what coterminus wrote
        there, which :func:`clean` would delete), ``other_files`` and ``other_bytes`` (anything
        else, which it leaves), ``holds`` (what coterminus keeps there, or
        ``"not written by coterminus (clean leaves it)"``).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
    ...     print(usage()[["files", "bytes"]].to_dict("index"))
    {'downloads': {'files': 0, 'bytes': 0}, 'parsed': {'files': 0, 'bytes': 0}}
    """
    root = cache_root()
    names = list(FOLDERS)
    if root.is_dir():
        names += sorted(p.name for p in root.iterdir() if p.name not in {*FOLDERS, MARKER})
    ours = {str(p) for p in recorded()}
    rows = []
    for name in names:
        present = _walk(root / name) if (root / name).exists() or (root / name).is_symlink() else []
        mine = [p for p in present if str(p) in ours]
        other = [p for p in present if str(p) not in ours]
        rows.append(
            {
                "folder": name,
                "path": str(root / name),
                "files": len(mine),
                "bytes": _size(mine),
                "other_files": len(other),
                "other_bytes": _size(other),
                "holds": FOLDERS.get(name, _OTHER),
            }
        )
    return pd.DataFrame(rows).set_index("folder")


def check_marked() -> Path:
    """The cache folder, after checking that it carries the marker (when it exists at all).

    Raises
    ------
    CacheError
        The folder exists and holds something but has no :data:`MARKER`: it is not
        coterminus's cache (an empty folder is simply an empty cache).
    """
    root = cache_root()
    if root.exists() and not (root / MARKER).is_file() and _holds_anything(root):
        raise _no_marker(root)
    return root


def _holds_anything(root: Path) -> bool:
    """Whether ``root`` is anything but an empty folder (an empty one has nothing to protect)."""
    try:
        return next(root.iterdir(), None) is not None
    except OSError:  # a file, or unreadable: treat as holding something
        return True


def _no_marker(root: Path) -> CacheError:
    msg = (
        f"{root} has no {MARKER} file, so it is not a folder coterminus made as its cache (or it "
        f"predates the marker); nothing was deleted. Check {ENV_CACHE_DIR}; if it is an old "
        f"coterminus cache, delete its {' and '.join(f'{f}/' for f in FOLDERS)} by hand."
    )
    return CacheError(msg)


def _prune(folder: Path) -> None:
    """Remove the empty folders under (and including) ``folder``, deepest first."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for dirpath, _, _ in sorted(os.walk(folder), key=lambda t: -len(t[0])):
        with suppress(OSError):
            Path(dirpath).rmdir()  # only succeeds when empty


def clean(only: str | None = None) -> tuple[int, int]:
    """Delete the files coterminus recorded as written to the cache (``downloads/``, ``parsed/``).

    Parameters
    ----------
    only : {"downloads", "parsed"}, optional
        Just the files of this sub-folder. By default both.

    Returns
    -------
    tuple of (int, int)
        Files deleted and bytes freed.

    Raises
    ------
    ParameterError
        ``only`` is not a known sub-folder.
    CacheError
        The folder holds files but no :data:`MARKER` (it is not coterminus's cache: nothing is
        deleted), or something could not be deleted; the message names it and the fix.

    Notes
    -----
    A file is deleted only when the marker records it and it is a regular file inside a known
    sub-folder (never through a link); folders left empty are removed. Anything else in the cache
    folder is left alone. Downloads can be fetched again with ``coterminus data fetch``; parsed
    layers are rebuilt the next time a geography is loaded.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> import pathlib
    >>> folder = tempfile.mkdtemp()
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": folder}):
    ...     clean(only="parsed")
    (0, 0)
    >>> _ = pathlib.Path(folder, "notes.txt").write_text("the user's")
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": folder}):
    ...     clean()
    Traceback (most recent call last):
    ...
    coterminus.errors.CacheError: ... has no .coterminus-cache file, so it is not a folder ...
    """
    if only is not None and only not in FOLDERS:
        msg = f"only={only!r} is not a cache sub-folder; use one of {', '.join(FOLDERS)}."
        raise ParameterError(msg)
    root = check_marked()
    if not (root / MARKER).is_file():
        return 0, 0  # absent or empty: nothing coterminus wrote
    files = size = 0
    for path in recorded(only):
        try:
            n = path.lstat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            msg = (
                f"Could not delete {path} while cleaning the cache ({exc.strerror or exc}); "
                f"the cache may be partly emptied, which is harmless. Fix the permissions of "
                f"{root} (or delete the file by hand) and run `coterminus data clean` again."
            )
            raise CacheError(msg) from exc
        files += 1
        size += n
    for name in [only] if only else list(FOLDERS):
        _prune(root / name)
    _rewrite_marker(root)
    return files, size


def _rewrite_marker(root: Path) -> None:
    """Keep in the marker only the entries whose files are still there."""
    keep = [rel for rel in _entries(root) if _safe(root, rel) is not None]
    with suppress(OSError):
        atomic_write_text(root / MARKER, _MARKER_HEAD + "".join(f"{rel}\n" for rel in keep))
