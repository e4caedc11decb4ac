"""Where a dataset's file is: the offline data directory first, then the download cache.

Examples
--------
>>> import pathlib, tempfile
>>> from coterminus.data import locations
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> locations.find(locations.catalog.get("ccg-2019"), root)
('missing', None)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from ..errors import DataDirError
from . import cache, catalog
from .catalog import Dataset

__all__ = ["find", "locate", "locate_layer", "resolve_data_dir"]

ENV_DATA_DIR = "COTERMINUS_DATA_DIR"
Where = Literal["data_dir", "cache", "missing"]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the offline data directory, or ``None`` when none is configured.

    Parameters
    ----------
    data_dir : path-like, optional
        Used when given; otherwise the environment variable ``COTERMINUS_DATA_DIR`` (an empty value
        counts as unset). The folder is laid out like ``../shared/data``: ``boundaries/``,
        ``lookups/``, ``population/``.

    Returns
    -------
    pathlib.Path or None
        Absolute path of the directory.

    Raises
    ------
    DataDirError
        The directory given (or named by the environment variable) does not exist.

    Examples
    --------
    >>> from unittest import mock
    >>> from coterminus.data import resolve_data_dir
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_DATA_DIR": ""}):
    ...     print(resolve_data_dir())
    None
    >>> resolve_data_dir("/no/such/folder")
    Traceback (most recent call last):
    ...
    coterminus.errors.DataDirError: The data directory /no/such/folder (from the data_dir ...
    """
    if data_dir is not None:
        raw, source = os.fspath(data_dir), "the data_dir argument"
    else:
        raw = os.environ.get(ENV_DATA_DIR, "").strip()
        if not raw:
            return None
        source = f"the environment variable {ENV_DATA_DIR}"
    path = Path(raw).expanduser()
    if not path.is_dir():
        msg = (
            f"The data directory {path} (from {source}) does not exist or is not a directory; "
            "point it at a folder laid out like ../shared/data (boundaries/, lookups/, "
            "population/), e.g. COTERMINUS_DATA_DIR=../shared/data."
        )
        raise DataDirError(msg)
    return path.resolve()


def cache_path(ds: Dataset) -> Path | None:
    """Where a download of ``ds`` sits in the cache (it may not exist); ``None`` if no source."""
    if ds.remote is None:
        return None
    return cache.cache_root() / cache.DOWNLOADS / ds.remote.filename


def find(ds: Dataset, root: Path | None) -> tuple[Where, Path | None]:
    """``("data_dir", path)``, ``("cache", path)`` or ``("missing", None)`` for ``ds``."""
    if root is not None and ds.local is not None and (root / ds.local).is_file():
        return "data_dir", root / ds.local
    cached = cache_path(ds)
    if cached is not None and cached.is_file():
        return "cache", cached
    return "missing", None


def _missing_message(ds: Dataset, root: Path | None) -> str:
    if ds.local is None:
        looked_dir = "no data directory copy (this dataset is download-only)"
    elif root is None:
        looked_dir = f"no data directory ({ENV_DATA_DIR} is not set and no data_dir= was given)"
    else:
        layer = f", layer {ds.layer!r}" if ds.layer else ""
        looked_dir = f"the data directory file {root / ds.local}{layer}"
    cached = cache_path(ds)
    looked_cache = (
        f"the download cache file {cached}" if cached else "no download source is registered"
    )
    fixes = []
    if ds.local is not None:
        fixes.append(
            f"set {ENV_DATA_DIR}=../shared/data (or pass data_dir=) to use the offline ONS files"
        )
    if ds.remote is not None:
        fixes.append(
            f"download it with `coterminus data fetch {ds.id}` (`coterminus data fetch "
            f"--vintage {ds.vintages[0]}` gets every file that vintage needs)"
        )
    return (
        f"No file found for {ds.id} ({ds.title}). Looked in {looked_dir} and {looked_cache}. "
        f"Fix: {' or '.join(fixes)}."
    )


def locate(dataset_id: str | Dataset, *, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the file holding a dataset: the data-directory copy, else the downloaded one.

    Parameters
    ----------
    dataset_id : str or Dataset
        Registry id, e.g. ``"ccg-2019"``.
    data_dir : path-like, optional
        Offline data directory; defaults to ``COTERMINUS_DATA_DIR``.

    Returns
    -------
    pathlib.Path
        For GeoPackages in a data directory the layer is ``get(dataset_id).layer``; use
        :func:`locate_layer` to get the path and the right layer together.

    Raises
    ------
    DataDirError
        Neither place has the file; the message names both places and the fixes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.data import locate
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "boundaries").mkdir()
    >>> _ = (root / "boundaries" / "ons_2019.gpkg").write_bytes(b"")
    >>> locate("ccg-2019", data_dir=root).relative_to(root).as_posix()
    'boundaries/ons_2019.gpkg'
    """
    return locate_layer(dataset_id, data_dir=data_dir)[0]


def locate_layer(
    dataset_id: str | Dataset, *, data_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, str | None]:
    """Return ``(path, layer)`` of a dataset; ``layer`` is ``None`` for single-layer files.

    Parameters
    ----------
    dataset_id : str or Dataset
    data_dir : path-like, optional
        Offline data directory; defaults to ``COTERMINUS_DATA_DIR``.

    Returns
    -------
    tuple of (pathlib.Path, str or None)

    Raises
    ------
    DataDirError
        Neither the data directory nor the download cache has the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.data import locate_layer
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "boundaries").mkdir()
    >>> _ = (root / "boundaries" / "ons_2020.gpkg").write_bytes(b"")
    >>> path, layer = locate_layer("stp-2020-buc", data_dir=root)
    >>> path.name, layer
    ('ons_2020.gpkg', 'stp_ons_buc')
    """
    ds = catalog.get(dataset_id)
    root = resolve_data_dir(data_dir)
    where, path = find(ds, root)
    if path is None:
        raise DataDirError(_missing_message(ds, root))
    return path, (ds.layer if where == "data_dir" else None)
