"""The coterminus cache folder: where it is, what it holds, and emptying it.

One folder, ``COTERMINUS_CACHE_DIR`` when set, else the user cache folder
(``pooch.os_cache("coterminus")``, ``~/.cache/coterminus`` on Linux), holds everything coterminus
writes on its own:

- ``downloads/``: files fetched from ONS by ``coterminus data fetch`` (with a ``.source.json``
  beside each, saying which service or URL it came from);
- ``parsed/``: parsed boundary layers (GeoParquet) keyed by the source file's SHA-256, so a second
  ``coterminus.load`` is fast. Deleting it only costs time.

:func:`usage` says how big each sub-folder is; :func:`clean` empties them. Nothing outside those
known sub-folders is ever deleted, so pointing ``COTERMINUS_CACHE_DIR`` at a folder that holds
other files by mistake cannot lose them.

Examples
--------
>>> import tempfile
>>> from unittest import mock
>>> from coterminus.data import cache
>>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
...     folder = cache.cache_dir() / "downloads"
...     _ = (folder / "x.csv").write_text("a,b\\n")
...     print(cache.usage().loc["downloads", ["files", "bytes"]].tolist())
...     print(cache.clean())
[1, 4]
(1, 4)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pooch

from ..errors import CacheError, ParameterError

__all__ = [
    "FOLDERS",
    "cache_dir",
    "cache_root",
    "clean",
    "downloads_dir",
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
"""The sub-folders coterminus writes, with what they hold; :func:`clean` deletes only these."""


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


def cache_dir() -> Path:
    """Return the cache folder, creating it and checking that it is writable.

    The folder is ``COTERMINUS_CACHE_DIR`` when set, else the user cache folder given by
    ``pooch.os_cache("coterminus")`` (``~/.cache/coterminus`` on Linux). Downloads go to its
    ``downloads/`` sub-folder, parsed layers to ``parsed/``.

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
    ...     print(cache_dir().is_dir())
    True
    """
    root = cache_root()
    try:
        (root / DOWNLOADS).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root / DOWNLOADS):
            pass
    except OSError as exc:
        raise cache_error(root, str(exc.strerror or exc)) from exc
    return root


def remove_if_empty() -> None:
    """Remove ``downloads/`` and the cache folder itself when they hold nothing.

    Called after a failed fetch, so a download that saved nothing leaves nothing behind, not even
    the empty folders made while checking that the cache is writable.
    """
    root = cache_root()
    for folder in (root / DOWNLOADS, root):
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return


def downloads_dir() -> Path:
    """``<cache>/downloads``, created and checked writable (see :func:`cache_dir`)."""
    return cache_dir() / DOWNLOADS


def _tree_size(path: Path) -> tuple[int, int]:
    if path.is_file() or path.is_symlink():
        return 1, path.lstat().st_size
    files = size = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            try:
                size += (Path(dirpath) / name).lstat().st_size
                files += 1
            except OSError:  # vanished while walking
                continue
    return files, size


def usage() -> pd.DataFrame:
    """How big the cache is, one row per sub-folder (known ones first, even when absent).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``folder``; columns ``path``, ``files``, ``bytes``, ``holds`` (what coterminus
        keeps there, or ``"not written by coterminus (clean leaves it)"``).

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
        names += sorted(p.name for p in root.iterdir() if p.name not in FOLDERS)
    rows = []
    for name in names:
        files, size = _tree_size(root / name) if (root / name).exists() else (0, 0)
        holds = FOLDERS.get(name, "not written by coterminus (clean leaves it)")
        rows.append(
            {
                "folder": name,
                "path": str(root / name),
                "files": files,
                "bytes": size,
                "holds": holds,
            }
        )
    return pd.DataFrame(rows).set_index("folder")


def clean(only: str | None = None) -> tuple[int, int]:
    """Empty the cache sub-folders coterminus writes (``downloads/``, ``parsed/``).

    Parameters
    ----------
    only : {"downloads", "parsed"}, optional
        Empty just this sub-folder. By default both.

    Returns
    -------
    tuple of (int, int)
        Files deleted and bytes freed.

    Raises
    ------
    ParameterError
        ``only`` is not a known sub-folder.
    CacheError
        Something could not be deleted; the message names it and the fix.

    Notes
    -----
    Anything else in the cache folder is left alone. Downloads can be fetched again with
    ``coterminus data fetch``; parsed layers are rebuilt the next time a geography is loaded.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
    ...     clean(only="parsed")
    (0, 0)
    """
    if only is not None and only not in FOLDERS:
        msg = f"only={only!r} is not a cache sub-folder; use one of {', '.join(FOLDERS)}."
        raise ParameterError(msg)
    root = cache_root()
    files = size = 0
    for name in [only] if only else list(FOLDERS):
        folder = root / name
        if not folder.exists():
            continue
        n, b = _tree_size(folder)
        try:
            if folder.is_symlink() or not folder.is_dir():
                folder.unlink()
            else:
                shutil.rmtree(folder)
        except OSError as exc:
            where = getattr(exc, "filename", None) or folder
            msg = (
                f"Could not delete {where} while cleaning the cache ({exc.strerror or exc}); "
                f"{folder} may be partly emptied, which is harmless. Fix the permissions of "
                f"{root} (or delete it by hand) and run `coterminus data clean` again."
            )
            raise CacheError(msg) from exc
        files += n
        size += b
    return files, size
