"""Dataset registry, downloader and cache for the ONS geography files coterminus uses.

Every dataset the library knows (CCG, STP, ICB, Sub-ICB, local authority and LSOA boundaries,
the ONS lookups between them, and mid-2019 population estimates) is one entry of
``registry.json``, documented in ``data/boundaries/README.md``. An entry says where the file sits
in an offline data directory laid out like ``../shared/data`` and how to download it from ONS.

Files are found in this order (:func:`locate`):

1. the data directory (``data_dir=`` or ``COTERMINUS_DATA_DIR``): offline copies are first-class;
2. the download cache (``COTERMINUS_CACHE_DIR``, else the user cache folder), filled by
   :func:`fetch`.

:func:`fetch` resolves the current name of an ONS ArcGIS FeatureServer (ONS renames services when
it republishes them), pages through the query API using the server's own ``maxRecordCount``,
checks the total against ``returnCountOnly`` and the registry, and moves the finished file into
the cache in one atomic step, so the cache never holds a partial file.

Examples
--------
>>> from coterminus.datasets import find_dataset, get
>>> get("ccg-2019").title
'Clinical Commissioning Groups (April 2019) Boundaries EN BGC'
>>> find_dataset("boundary", "utla", 2021, resolution="BUC").id
'utla-2021-buc'
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import http.client
import io
import json
import logging
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Literal, TypeVar, get_args, overload

import pandas as pd
import pooch
import pyogrio
from tqdm import tqdm

from ._atomic import atomic_path
from .errors import (
    ArchiveError,
    CacheError,
    ChecksumError,
    CoterminusError,
    DataDirError,
    DownloadError,
    OutputError,
    ParameterError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Dataset",
    "Remote",
    "UnknownDatasetError",
    "cache_dir",
    "fetch",
    "fetch_url",
    "find_dataset",
    "get",
    "locate",
    "locate_layer",
    "registry",
    "resolve_data_dir",
    "status",
    "verify",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis"
"""ArcGIS Online organisation that hosts the ONS Open Geography Portal services."""

ENV_DATA_DIR = "COTERMINUS_DATA_DIR"
ENV_CACHE_DIR = "COTERMINUS_CACHE_DIR"
ENV_BASE_URL = "COTERMINUS_ONS_BASE_URL"

Kind = Literal["boundary", "lookup", "population"]
Level = Literal["lsoa", "ccg", "stp", "icb", "sicbl", "nhser", "ltla", "utla", "cauth"]
Where = Literal["data_dir", "cache", "missing"]
KINDS: tuple[str, ...] = get_args(Kind)
LEVELS: tuple[str, ...] = get_args(Level)

_REGISTRY_FILE = Path(__file__).with_name("registry.json")
_DOWNLOADS = "downloads"
_CHUNK = 1 << 16
_BACKOFF_SECONDS = 1.0  # first retry waits this long, then doubles
_VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
_TABLE_SUFFIXES = (".csv", ".csv.gz")
_OFFLINE_FIX = "work offline with COTERMINUS_DATA_DIR=../shared/data (or data_dir=)"

T = TypeVar("T")


class UnknownDatasetError(CoterminusError, KeyError):
    """No registered dataset has this id, or matches this kind, level and vintage.

    Examples
    --------
    >>> issubclass(UnknownDatasetError, KeyError)
    True
    """

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


# --- registry -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Remote:
    """Where ONS publishes a dataset.

    ``type="featureserver"``: an ArcGIS FeatureServer, tried by candidate ``services`` names
    (newest first) and then by the ``pattern`` regex against the live services list.
    ``type="file"``: a plain download from ``url``, checked against ``sha256`` when it is pinned.

    Examples
    --------
    >>> from coterminus.datasets import get
    >>> get("ccg-2019").remote.services[0]
    'Clinical_Commissioning_Groups_April_2019_Boundaries_EN_BGC_2022'
    """

    type: Literal["featureserver", "file"]
    filename: str
    services: tuple[str, ...] = ()
    pattern: str | None = None
    layer: int = 0
    out_sr: int = 27700
    url: str | None = None
    sha256: str | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One registry entry (see ``data/boundaries/README.md`` for every field).

    Examples
    --------
    >>> from coterminus.datasets import get
    >>> ds = get("utla-2019-buc")
    >>> ds.local, ds.layer, ds.expected_rows
    ('boundaries/ons_2019.gpkg', 'utla_ons_buc', 151)
    """

    id: str
    kind: Kind
    level: Level
    vintage: int
    vintages: tuple[int, ...]
    resolution: str | None
    title: str
    licence: str
    attribution: str
    local: str | None
    layer: str | None
    sha256: str | None
    expected_columns: tuple[str, ...]
    expected_rows: int | None
    remote: Remote | None
    notes: str = ""


def _parse_entry(raw: dict[str, Any]) -> Dataset:
    remote = raw.get("remote")
    rem = None
    if remote is not None:
        rem = Remote(
            type=remote["type"],
            filename=remote["filename"],
            services=tuple(remote.get("services", ())),
            pattern=remote.get("pattern"),
            layer=int(remote.get("layer", 0)),
            out_sr=int(remote.get("out_sr", 27700)),
            url=remote.get("url"),
            sha256=remote.get("sha256"),
            resolution=remote.get("resolution"),
        )
    ds = Dataset(
        id=raw["id"],
        kind=raw["kind"],
        level=raw["level"],
        vintage=int(raw["vintage"]),
        vintages=tuple(int(v) for v in raw.get("vintages", [raw["vintage"]])),
        resolution=raw.get("resolution"),
        title=raw["title"],
        licence=raw["licence"],
        attribution=raw.get("attribution", ""),
        local=raw.get("local"),
        layer=raw.get("layer"),
        sha256=raw.get("sha256"),
        expected_columns=tuple(raw.get("expected_columns", ())),
        expected_rows=raw.get("expected_rows"),
        remote=rem,
        notes=raw.get("notes", ""),
    )
    problems = []
    if ds.kind not in KINDS:
        problems.append(f"kind {ds.kind!r} not in {KINDS}")
    if ds.level not in LEVELS:
        problems.append(f"level {ds.level!r} not in {LEVELS}")
    if rem is not None and rem.type not in ("featureserver", "file"):
        problems.append(f"remote type {rem.type!r} is neither 'featureserver' nor 'file'")
    if rem is not None and Path(rem.filename).name != rem.filename:
        problems.append(f"remote filename {rem.filename!r} must be a bare file name")
    if ds.local is None and rem is None:
        problems.append("has neither a local path nor a remote source")
    if problems:
        msg = f"registry.json entry {ds.id!r} is invalid: " + "; ".join(problems) + "."
        raise ValueError(msg)
    return ds


@lru_cache(maxsize=1)
def _load_entries() -> dict[str, Dataset]:
    doc = json.loads(_REGISTRY_FILE.read_text(encoding="utf-8"))
    entries: dict[str, Dataset] = {}
    for raw in doc["datasets"]:
        ds = _parse_entry(raw)
        if ds.id in entries:
            msg = f"registry.json lists the id {ds.id!r} twice; ids must be unique."
            raise ValueError(msg)
        entries[ds.id] = ds
    return entries


def _entries() -> dict[str, Dataset]:
    return _load_entries()


def registry() -> pd.DataFrame:
    """Return the dataset registry as a table, one row per dataset, indexed by dataset id.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind``, ``level``, ``vintage``, ``resolution``, ``title``, ``local``, ``layer``,
        ``expected_rows``, ``sha256``, ``remote_type``, ``remote_source`` (first candidate service
        name or the file URL), ``licence`` and ``vintages`` (the analysis vintages it serves).

    Examples
    --------
    >>> from coterminus.datasets import registry
    >>> reg = registry()
    >>> reg.loc["ccg-2019", ["kind", "level", "vintage", "resolution"]].to_dict()
    {'kind': 'boundary', 'level': 'ccg', 'vintage': 2019, 'resolution': 'BGC-derived'}
    >>> reg.loc["lsoa-boundaries-2011", "vintages"]
    (2019, 2020, 2021)
    >>> sorted(reg["kind"].unique())
    ['boundary', 'lookup', 'population']
    """
    rows = []
    for ds in _entries().values():
        remote = ds.remote
        source = None
        if remote is not None:
            source = remote.services[0] if remote.type == "featureserver" else remote.url
        rows.append(
            {
                "id": ds.id,
                "kind": ds.kind,
                "level": ds.level,
                "vintage": ds.vintage,
                "resolution": ds.resolution,
                "title": ds.title,
                "local": ds.local,
                "layer": ds.layer,
                "expected_rows": ds.expected_rows,
                "sha256": ds.sha256,
                "remote_type": None if remote is None else remote.type,
                "remote_source": source,
                "licence": ds.licence,
                "vintages": ds.vintages,
            }
        )
    frame = pd.DataFrame(rows).set_index("id")
    frame["expected_rows"] = frame["expected_rows"].astype("Int64")
    return frame


def get(dataset_id: str | Dataset) -> Dataset:
    """Return the registry entry of ``dataset_id``.

    Parameters
    ----------
    dataset_id : str or Dataset
        A registry id such as ``"ccg-2019"``; a :class:`Dataset` is returned unchanged.

    Returns
    -------
    Dataset

    Raises
    ------
    UnknownDatasetError
        The id is not registered; the message suggests the closest ids.

    Examples
    --------
    >>> from coterminus.datasets import get
    >>> get("ltla-utla-2019").expected_columns
    ('LTLA19CD', 'LTLA19NM', 'UTLA19CD', 'UTLA19NM')
    >>> get("ccg-2091")
    Traceback (most recent call last):
    ...
    coterminus.datasets.UnknownDatasetError: No dataset 'ccg-2091' in the registry; did you mean ...
    """
    if isinstance(dataset_id, Dataset):
        return dataset_id
    entries = _entries()
    try:
        return entries[dataset_id]
    except KeyError:
        close = difflib.get_close_matches(str(dataset_id), entries, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        msg = (
            f"No dataset {dataset_id!r} in the registry; {hint}"
            "list the ids with coterminus.datasets.registry() or `coterminus data status`."
        )
        raise UnknownDatasetError(msg) from None


def find_dataset(kind: Kind, level: Level, vintage: int, resolution: str | None = None) -> Dataset:
    """Return the preferred dataset of a kind and level for an analysis vintage.

    Parameters
    ----------
    kind : {"boundary", "lookup", "population"}
    level : {"lsoa", "ccg", "stp", "icb", "sicbl", "ltla", "utla"}
    vintage : int
        Analysis vintage (2019, 2020, 2021 or 2022). Datasets that serve several vintages match each
        of them, e.g. the LSOA (2011) boundaries and the mid-2019 LSOA populations.
    resolution : str, optional
        ``"BGC-derived"``, ``"BGC"`` or ``"BUC"`` (case-insensitive). By default the first matching
        entry in registry order, which is the offline, LSOA-derived layer where one exists.

    Returns
    -------
    Dataset

    Raises
    ------
    ParameterError
        ``kind`` or ``level`` is not one of the allowed values.
    UnknownDatasetError
        Nothing matches; the message lists what is registered for that kind and level.

    Examples
    --------
    >>> from coterminus.datasets import find_dataset
    >>> find_dataset("boundary", "ccg", 2019).id
    'ccg-2019'
    >>> find_dataset("boundary", "ccg", 2019, resolution="buc").id
    'ccg-2019-buc'
    >>> find_dataset("boundary", "lsoa", 2021).id
    'lsoa-boundaries-2011'
    >>> find_dataset("population", "lsoa", 2020).id
    'lsoa-population-mid2019'
    """
    problems = []
    if kind not in KINDS:
        problems.append(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    if level not in LEVELS:
        problems.append(f"level={level!r} is not one of {', '.join(LEVELS)}")
    if problems:
        msg = "; ".join(problems) + "."
        raise ParameterError(msg)
    vintage = _as_vintage(vintage)
    same = [ds for ds in _entries().values() if ds.kind == kind and ds.level == level]
    matches = [ds for ds in same if vintage in ds.vintages]
    if resolution is not None:
        matches = [ds for ds in matches if (ds.resolution or "").lower() == resolution.lower()]
    if matches:
        return matches[0]
    wanted = f"{kind} dataset for level {level!r}, vintage {vintage}" + (
        f", resolution {resolution!r}" if resolution else ""
    )
    listed = ", ".join(
        f"{ds.id} (vintages {'/'.join(map(str, ds.vintages))}, {ds.resolution or 'n/a'})"
        for ds in same
    )
    msg = f"No {wanted} is registered; registered {kind}/{level} datasets: {listed or 'none'}."
    raise UnknownDatasetError(msg)


def _as_vintage(vintage: int | str) -> int:
    try:
        return int(vintage)
    except (TypeError, ValueError):
        msg = f"vintage={vintage!r} is not a year; pass e.g. vintage=2019."
        raise ParameterError(msg) from None


def _select(vintage: int | str | None) -> list[Dataset]:
    entries = list(_entries().values())
    if vintage is None:
        return entries
    year = _as_vintage(vintage)
    chosen = [ds for ds in entries if year in ds.vintages]
    if not chosen:
        known = sorted({v for ds in entries for v in ds.vintages})
        msg = (
            f"No datasets are registered for vintage {year}; "
            f"registered vintages: {', '.join(map(str, known))}."
        )
        raise ParameterError(msg)
    return chosen


# --- directories --------------------------------------------------------------------------------
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
    >>> from coterminus.datasets import resolve_data_dir
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


def _cache_root() -> Path:
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    return Path(env).expanduser() if env else Path(pooch.os_cache("coterminus"))


def cache_dir() -> Path:
    """Return the download cache directory, creating it and checking that it is writable.

    The cache is ``COTERMINUS_CACHE_DIR`` when set, else the user cache folder given by
    ``pooch.os_cache("coterminus")`` (``~/.cache/coterminus`` on Linux). Downloads go to its
    ``downloads/`` sub-folder.

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
    >>> from coterminus.datasets import cache_dir
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
    ...     print(cache_dir().is_dir())
    True
    """
    root = _cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / _DOWNLOADS).mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=root / _DOWNLOADS):
            pass
    except OSError as exc:
        raise _cache_error(root, str(exc.strerror or exc)) from exc
    return root


def _cache_error(root: Path, reason: str) -> CacheError:
    from_env = bool(os.environ.get(ENV_CACHE_DIR, "").strip())
    origin = f"set by {ENV_CACHE_DIR}" if from_env else "the default user cache"
    msg = (
        f"The download cache {root} ({origin}) cannot be created or written: {reason}. "
        f"Set {ENV_CACHE_DIR} to a writable folder, e.g. {ENV_CACHE_DIR}=$HOME/.cache/coterminus."
    )
    return CacheError(msg)


def _downloads_dir() -> Path:
    return cache_dir() / _DOWNLOADS


def _local_path(ds: Dataset, root: Path | None) -> Path | None:
    if root is None or ds.local is None:
        return None
    path = root / ds.local
    return path if path.is_file() else None


def _cache_path(ds: Dataset) -> Path | None:
    if ds.remote is None:
        return None
    return _cache_root() / _DOWNLOADS / ds.remote.filename


def _find(ds: Dataset, root: Path | None) -> tuple[Where, Path | None]:
    local = _local_path(ds, root)
    if local is not None:
        return "data_dir", local
    cached = _cache_path(ds)
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
    cached = _cache_path(ds)
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
    >>> from coterminus.datasets import locate
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
    >>> from coterminus.datasets import locate_layer
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "boundaries").mkdir()
    >>> _ = (root / "boundaries" / "ons_2020.gpkg").write_bytes(b"")
    >>> path, layer = locate_layer("stp-2020-buc", data_dir=root)
    >>> path.name, layer
    ('ons_2020.gpkg', 'stp_ons_buc')
    """
    ds = get(dataset_id)
    root = resolve_data_dir(data_dir)
    where, path = _find(ds, root)
    if path is None:
        raise DataDirError(_missing_message(ds, root))
    return path, (ds.layer if where == "data_dir" else None)


# --- HTTP ---------------------------------------------------------------------------------------
class _TransientError(Exception):
    """A failure worth retrying: a 5xx/429, a dropped connection, a timeout, a truncated body."""


def _user_agent() -> str:
    try:
        version = metadata.version("coterminus")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"coterminus/{version} (Python urllib; NHS/council coterminosity checks)"


def _describe(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name ({reason}); no network, DNS or proxy?"
    return f"{type(reason).__name__}: {reason}"


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": _user_agent(), "Accept": "*/*"})
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code == 429:
            msg = f"HTTP {exc.code} {exc.reason}"
            raise _TransientError(msg) from exc
        msg = (
            f"HTTP {exc.code} {exc.reason} for {url}. The address is wrong or ONS moved the "
            f"dataset; check the base URL ({ENV_BASE_URL}) and the registry entry, or "
            f"{_OFFLINE_FIX}."
        )
        raise DownloadError(msg) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _TransientError(_describe(exc, timeout)) from exc
    return response


def _read_into(
    response: http.client.HTTPResponse,
    sink: Callable[[bytes], object],
    timeout: float,
    bar: tqdm | None = None,
) -> int:
    """Copy the body to ``sink``; a short body (fewer bytes than Content-Length) is an error."""
    header = response.headers.get("Content-Length")
    expected = int(header) if header and header.isdigit() else None
    received = 0
    try:
        while chunk := response.read(_CHUNK):
            sink(chunk)
            received += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as exc:
        msg = f"the connection broke mid-body ({_describe(exc, timeout)})"
        raise _TransientError(msg) from exc
    finally:
        response.close()
    if expected is not None and received != expected:
        msg = f"truncated body: received {received} of {expected} bytes (Content-Length)"
        raise _TransientError(msg)
    return received


def _retrying(action: Callable[[], T], *, retries: int, what: str, url: str) -> T:
    last: _TransientError | None = None
    for attempt in range(retries + 1):
        try:
            return action()
        except _TransientError as exc:
            last = exc
            if attempt < retries:
                delay = _BACKOFF_SECONDS * 2**attempt
                logger.warning(
                    "%s failed (%s); retry %d of %d in %.1f s",
                    what,
                    exc,
                    attempt + 1,
                    retries,
                    delay,
                )
                time.sleep(delay)
    msg = (
        f"Could not {what}: {last} (URL {url}; {retries + 1} attempt(s)). Nothing was saved. "
        "Check the network or proxy (HTTPS_PROXY), try again later, raise timeout=/retries=, "
        f"or {_OFFLINE_FIX}."
    )
    raise DownloadError(msg) from last


def _get_json(url: str, *, timeout: float, retries: int, what: str) -> dict[str, Any]:
    """GET ``url`` and parse JSON; an ArcGIS ``{"error": ...}`` body fails even with HTTP 200."""

    def attempt() -> dict[str, Any]:
        buffer = io.BytesIO()
        _read_into(_open(url, timeout), buffer.write, timeout)
        body = buffer.getvalue()
        try:
            data = json.loads(body)
        except ValueError:
            msg = (
                f"Could not {what}: {url} did not return JSON (it starts {body[:80]!r}). A proxy "
                f"or login page may be in the way; check the base URL, or {_OFFLINE_FIX}."
            )
            raise DownloadError(msg) from None
        if not isinstance(data, dict):
            msg = f"Could not {what}: {url} returned JSON that is not an object."
            raise DownloadError(msg)
        if "error" in data:
            err = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
            code = err.get("code")
            text = f"error {code}: {err.get('message', '')}"
            details = err.get("details")
            if details:
                text += f" ({'; '.join(map(str, details))})"
            if isinstance(code, int) and code >= 500:
                msg = f"the server answered with an error body, {text}"
                raise _TransientError(msg)
            msg = (
                f"Could not {what}: the server answered HTTP 200 with an error body, {text} "
                f"(URL {url}). The service name or query is no longer valid; check the registry "
                f"entry, or {_OFFLINE_FIX}."
            )
            raise DownloadError(msg)
        return data

    return _retrying(attempt, retries=retries, what=what, url=url)


def _progress_disabled(progress: bool) -> bool:
    return not (progress and sys.stderr is not None and sys.stderr.isatty())


def _write_atomically(
    dest: Path,
    write: Callable[[IO[bytes]], None],
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write to a temporary file next to ``dest``, check it, then ``os.replace`` it into place.

    On any failure the temporary file is removed and an existing ``dest`` is left untouched
    (:func:`coterminus._atomic.atomic_path`).
    """
    try:
        with atomic_path(dest) as tmp:
            with tmp.open("w+b") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            if check is not None:
                check(tmp)
    except OutputError as exc:  # the cache folder went away or turned read-only after cache_dir()
        cause = exc.__cause__
        reason = (
            cause.strerror
            if isinstance(cause, OSError) and cause.strerror
            else f"folder {dest.parent} is missing or read-only"
        )
        raise _cache_error(_cache_root(), reason) from exc
    return dest


def _check_zip(path: Path, url: str) -> None:
    """The archive checks of :mod:`coterminus.io` (intact, CRC, no zip-slip) on a download."""
    from .io import _zip_members

    try:
        _zip_members(path)
    except ArchiveError as exc:
        msg = (
            f"The file downloaded from {url} failed its archive check: {exc} It was deleted. "
            "Try again, or download it by hand and put it in the data directory."
        )
        raise ArchiveError(msg) from exc


def _check_args(timeout: float, retries: int) -> None:
    problems = []
    if not timeout > 0:
        problems.append(f"timeout={timeout!r} must be a positive number of seconds")
    if not (isinstance(retries, int) and retries >= 0):
        problems.append(f"retries={retries!r} must be a whole number >= 0")
    if problems:
        msg = "; ".join(problems) + "."
        raise ParameterError(msg)


def fetch_url(
    url: str,
    *,
    filename: str,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
) -> Path:
    """Download a plain file into the cache, check it, and move it into place atomically.

    The body is streamed to a temporary file in the cache, its SHA-256 computed on the way, the
    length compared with ``Content-Length``; zip archives are also tested. Only then is it renamed
    to ``<cache>/downloads/<filename>``, so the cache never holds a partial file.

    Parameters
    ----------
    url : str
    filename : str
        Bare file name inside the cache's ``downloads/`` folder.
    sha256 : str, optional
        Expected SHA-256 (hex). Without it the computed hash is logged so it can be pinned.
    progress : bool, default True
        Show a tqdm progress bar when stderr is a terminal.
    timeout : float, default 60
        Seconds to wait for the server to connect or send more bytes.
    retries : int, default 3
        Extra attempts after connection errors, timeouts, truncated bodies and HTTP 5xx/429,
        waiting 1, 2, 4, ... seconds in between.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DownloadError
        HTTP error, no answer, or a truncated body after every retry.
    ChecksumError
        The SHA-256 differs; the download was deleted.
    ArchiveError
        A ``.zip`` download is not a readable archive; it was deleted.
    CacheError
        The cache directory is not writable.

    Examples
    --------
    >>> from coterminus.datasets import fetch_url
    >>> fetch_url(
    ...     "https://www.ons.gov.uk/file?uri=/some/file.zip", filename="file.zip"
    ... )  # doctest: +SKIP
    PosixPath('/home/me/.cache/coterminus/downloads/file.zip')
    """
    _check_args(timeout, retries)
    if Path(filename).name != filename or filename in ("", ".", ".."):
        msg = f"filename={filename!r} must be a bare file name such as 'data.zip'."
        raise ParameterError(msg)
    dest = _downloads_dir() / filename
    digest: dict[str, str] = {}

    def write(handle: IO[bytes]) -> None:
        def attempt() -> None:
            handle.seek(0)
            handle.truncate()
            hasher = hashlib.sha256()

            def sink(chunk: bytes) -> None:
                handle.write(chunk)
                hasher.update(chunk)

            response = _open(url, timeout)
            length = response.headers.get("Content-Length")
            with tqdm(
                total=int(length) if length and length.isdigit() else None,
                unit="B",
                unit_scale=True,
                desc=filename,
                disable=_progress_disabled(progress),
                leave=False,
            ) as bar:
                _read_into(response, sink, timeout, bar)
            digest["sha256"] = hasher.hexdigest()

        _retrying(attempt, retries=retries, what=f"download {filename}", url=url)

    def check(tmp: Path) -> None:
        got = digest["sha256"]
        if sha256 is not None and got != sha256.lower():
            msg = (
                f"The file downloaded from {url} has SHA-256 {got}, but {sha256.lower()} was "
                f"expected. The download was deleted for safety and nothing was written to "
                f"{dest}. ONS may have republished the file, or something altered it in transit: "
                "retry, and if it persists check the file on the ONS site before updating the "
                f"sha256 in registry.json, or {_OFFLINE_FIX}."
            )
            raise ChecksumError(msg)
        if sha256 is None:
            logger.info("%s has sha256 %s (not pinned in the registry)", filename, got)
        if filename.lower().endswith(".zip"):
            _check_zip(tmp, url)

    _write_atomically(dest, write, check)
    logger.info("downloaded %s to %s", url, dest)
    return dest


# --- ArcGIS FeatureServer -----------------------------------------------------------------------
def _base_url(base_url: str | None) -> str:
    base = base_url or os.environ.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    return base.rstrip("/")


def _layer_url(base: str, service: str, layer: int) -> str:
    return f"{base}/rest/services/{urllib.parse.quote(service, safe='')}/FeatureServer/{layer}"


def _resolve_service(
    ds: Dataset, remote: Remote, base: str, *, timeout: float, retries: int
) -> tuple[str, dict[str, Any] | None]:
    """Pick the live service name: candidates in order, then case-insensitively, then the regex."""
    listing = _get_json(
        f"{base}/rest/services?f=json", timeout=timeout, retries=retries, what="list the services"
    )
    services = listing.get("services")
    names = [
        str(s["name"])
        for s in (services if isinstance(services, list) else [])
        if isinstance(s, dict) and "name" in s and s.get("type", "FeatureServer") == "FeatureServer"
    ]
    if names:
        lowered = {name.lower(): name for name in names}
        for candidate in remote.services:
            if candidate in names:
                return candidate, None
            if candidate.lower() in lowered:
                return lowered[candidate.lower()], None
        if remote.pattern:
            rx = re.compile(remote.pattern, re.IGNORECASE)
            hits = sorted(name for name in names if rx.fullmatch(name))
            if hits:
                logger.warning(
                    "%s: no candidate service is listed; the pattern %s matched %s, using %s",
                    ds.id,
                    remote.pattern,
                    hits,
                    hits[-1],
                )
                return hits[-1], None
        msg = (
            f"No service for {ds.id} is listed at {base}/rest/services: tried "
            f"{', '.join(remote.services)} and the pattern {remote.pattern!r} against "
            f"{len(names)} services. ONS renames services when it republishes them (e.g. adding "
            "_2022); find the current name on https://geoportal.statistics.gov.uk and add it to "
            f"`services` of {ds.id} in registry.json, or {_OFFLINE_FIX}."
        )
        raise DownloadError(msg)
    # The services list sometimes comes back empty: ask each candidate directly.
    logger.warning("the services list at %s is empty; probing the candidate names", base)
    for candidate in remote.services:
        url = f"{_layer_url(base, candidate, remote.layer)}?f=json"
        try:
            meta = _get_json(url, timeout=timeout, retries=0, what="read the layer metadata")
        except DownloadError:
            continue
        if "fields" in meta or "maxRecordCount" in meta:
            return candidate, meta
    msg = (
        f"No service for {ds.id} answers at {base}: the services list was empty and none of "
        f"{', '.join(remote.services)} has layer metadata. Try again later, or {_OFFLINE_FIX}."
    )
    raise DownloadError(msg)


def _match_columns(
    expected: Iterable[str], available: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Match ``expected`` specs (``"A|B"``: either) case-insensitively -> (matched, missing)."""
    lowered = {str(col).lower(): str(col) for col in available}
    matched, missing = [], []
    for spec in expected:
        hit = next(
            (lowered[alt.lower()] for alt in spec.split("|") if alt.lower() in lowered), None
        )
        if hit is None:
            missing.append(spec)
        else:
            matched.append(hit)
    return matched, missing


def _first_xy(geometry: Any) -> tuple[float, float] | None:
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    if isinstance(coords, list) and len(coords) >= 2:
        return float(coords[0]), float(coords[1])
    return None


def _fetch_featureserver(
    ds: Dataset, base: str, *, progress: bool, timeout: float, retries: int
) -> Path:
    remote = ds.remote
    assert remote is not None  # checked by the caller
    service, meta = _resolve_service(ds, remote, base, timeout=timeout, retries=retries)
    layer_url = _layer_url(base, service, remote.layer)
    if meta is None:
        meta = _get_json(
            f"{layer_url}?f=json", timeout=timeout, retries=retries, what="read the layer metadata"
        )
    page_size = meta.get("maxRecordCount")
    if not isinstance(page_size, int) or page_size <= 0:
        logger.warning("%s has no usable maxRecordCount (%r); using 1000", service, page_size)
        page_size = 1000
    oid = meta.get("objectIdField") or next(
        (f.get("name") for f in meta.get("fields") or [] if f.get("type") == "esriFieldTypeOID"),
        "OBJECTID",
    )
    table = remote.filename.lower().endswith(".csv")
    query = f"{layer_url}/query?"
    counted = _get_json(
        query + urllib.parse.urlencode({"where": "1=1", "returnCountOnly": "true", "f": "json"}),
        timeout=timeout,
        retries=retries,
        what=f"count the rows of {service}",
    )
    total = counted.get("count")
    if not isinstance(total, int):
        msg = f"Could not count the rows of {service}: the server answered {counted!r}."
        raise DownloadError(msg)
    logger.info("%s: %d rows in %s, %d per page", ds.id, total, service, page_size)

    features: list[dict[str, Any]] = []
    crs: Any = None
    pages = 0
    with tqdm(
        total=total, unit="rows", desc=ds.id, disable=_progress_disabled(progress), leave=False
    ) as bar:
        while True:
            params = {
                "where": "1=1",
                "outFields": "*",
                "outSR": remote.out_sr,
                "f": "geojson",
                "resultOffset": len(features),
                "resultRecordCount": page_size,
                "orderByFields": oid,
            }
            if table:
                params["returnGeometry"] = "false"
            page = _get_json(
                query + urllib.parse.urlencode(params),
                timeout=timeout,
                retries=retries,
                what=f"download page {pages + 1} of {service} (offset {len(features)})",
            )
            pages += 1
            batch = page.get("features")
            if not isinstance(batch, list):
                msg = f"Page {pages} of {service} is not GeoJSON: {str(page)[:200]}"
                raise DownloadError(msg)
            properties = page.get("properties")
            exceeded = bool(
                page.get("exceededTransferLimit")
                or (isinstance(properties, dict) and properties.get("exceededTransferLimit"))
            )
            features.extend(batch)
            bar.update(len(batch))
            crs = crs or page.get("crs")
            if not batch:
                if exceeded:
                    msg = (
                        f"{service} reported more rows (exceededTransferLimit) but sent an empty "
                        f"page at offset {len(features)}; nothing was saved. Try again later."
                    )
                    raise DownloadError(msg)
                break
            # Continue while the server says so, or while it omits the flag but rows remain.
            if not (exceeded or len(features) < total):
                break
            if pages > total // max(page_size, 1) + total // 50 + 5:
                msg = f"{service} kept sending pages past its {total} rows; nothing was saved."
                raise DownloadError(msg)
    logger.info("%s: %d rows in %d pages", ds.id, len(features), pages)
    _check_features(ds, service, features, total, oid)

    if not table and remote.out_sr != 4326 and crs is None:
        xy = next((p for p in (_first_xy(f.get("geometry")) for f in features) if p), None)
        if xy is not None and abs(xy[0]) <= 180 and abs(xy[1]) <= 90:
            logger.warning(
                "%s ignored outSR=%d and sent degrees; saved as EPSG:4326", service, remote.out_sr
            )
        else:
            crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{remote.out_sr}"}}
    source = {
        "dataset": ds.id,
        "service": service,
        "url": layer_url,
        "rows": len(features),
        "retrieved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "attribution": ds.attribution,
    }
    dest = _downloads_dir() / remote.filename
    if table:
        _write_atomically(dest, lambda handle: _write_csv(handle, features))
    else:
        collection: dict[str, Any] = {"type": "FeatureCollection", "name": ds.id}
        if crs is not None:
            collection["crs"] = crs
        collection["coterminus"] = source
        collection["features"] = features

        def write(handle: IO[bytes]) -> None:  # json.dumps is C-accelerated, json.dump is not
            text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
            handle.write(text.encode("utf-8"))

        _write_atomically(dest, write)
    logger.info("%s saved to %s (from %s)", ds.id, dest, service)
    return dest


def _check_features(
    ds: Dataset, service: str, features: list[dict[str, Any]], total: int, oid: str
) -> None:
    """Refuse a download whose rows are incomplete, duplicated, or not the registered dataset."""
    problems = []
    if len(features) != total:
        problems.append(
            f"received {len(features)} rows but the server counts {total} (returnCountOnly); "
            "the service may have changed during the download"
        )
    props = [f.get("properties") or {} for f in features]
    ids = [f.get("id", p.get(oid)) for f, p in zip(features, props, strict=True)]
    if all(i is not None for i in ids) and len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} rows arrived twice (duplicate {oid})")
    if ds.expected_columns and props:
        matched, missing = _match_columns(ds.expected_columns, props[0])
        if missing:
            problems.append(
                f"columns {', '.join(missing)} are missing (it has {', '.join(map(str, props[0]))})"
            )
        elif ds.expected_rows is not None:
            code = matched[0]
            england = sum(str(p.get(code) or "").startswith("E") for p in props)
            if england != ds.expected_rows:
                problems.append(
                    f"it has {england} England ({code} E*) rows but the registry expects "
                    f"{ds.expected_rows}"
                )
    if problems:
        msg = (
            f"The download of {ds.id} from {service} was refused: {'; '.join(problems)}. Nothing "
            "was saved. If ONS replaced the service, check the name in registry.json, or "
            f"{_OFFLINE_FIX}."
        )
        raise DownloadError(msg)


def _write_csv(handle: IO[bytes], features: Sequence[dict[str, Any]]) -> None:
    columns: dict[str, None] = {}
    for feature in features:
        columns.update(dict.fromkeys(feature.get("properties") or {}))
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for feature in features:
        writer.writerow(feature.get("properties") or {})
    text.flush()
    text.detach()


# --- fetch --------------------------------------------------------------------------------------
def _vintage_plan(
    vintage: int | str, root: Path | None
) -> tuple[list[Dataset], dict[str, Path], list[Dataset]]:
    """For each (kind, level) a vintage needs: what is present, what to fetch, what cannot be."""
    groups: dict[tuple[str, str], list[Dataset]] = {}
    for ds in _select(vintage):
        groups.setdefault((ds.kind, ds.level), []).append(ds)
    to_fetch: list[Dataset] = []
    present: dict[str, Path] = {}
    unavailable: list[Dataset] = []
    for candidates in groups.values():
        located = [(ds, _find(ds, root)[1]) for ds in candidates]
        found = next(((ds, path) for ds, path in located if path is not None), None)
        if found is not None:
            present[found[0].id] = found[1]
            continue
        downloadable = next((ds for ds in candidates if ds.remote is not None), None)
        if downloadable is None:
            unavailable.append(candidates[0])
        else:
            to_fetch.append(downloadable)
    return to_fetch, present, unavailable


@overload
def fetch(
    dataset_id: str | Dataset,
    *,
    vintage: None = None,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    force: bool = False,
) -> Path: ...


@overload
def fetch(
    dataset_id: None = None,
    *,
    vintage: int,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    force: bool = False,
) -> dict[str, Path]: ...


def fetch(
    dataset_id: str | Dataset | None = None,
    *,
    vintage: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    force: bool = False,
) -> Path | dict[str, Path]:
    """Download a dataset (or everything a vintage needs) from ONS into the cache.

    FeatureServer sources: the candidate service names are resolved against
    ``{base_url}/rest/services?f=json`` (then the registry's regex), the layer metadata gives
    ``maxRecordCount`` and the object-id field, and the query is paged with ``resultOffset`` /
    ``resultRecordCount`` / ``orderByFields`` until ``exceededTransferLimit`` is false. The rows are
    checked against ``returnCountOnly``, for duplicates, and against the registry's columns and
    England row count, then written as GeoJSON (boundaries, EPSG:27700) or CSV (lookups).
    Plain-file sources are streamed and checked with SHA-256 (see :func:`fetch_url`). Either way
    the file is moved into ``<cache>/downloads/`` atomically; a failure leaves no partial file and
    keeps any earlier copy.

    Parameters
    ----------
    dataset_id : str or Dataset, optional
        One registry id. Already-cached files are returned without downloading unless ``force``.
    vintage : int, optional
        Instead of an id: for each (kind, level) the vintage needs, fetch the preferred dataset
        unless some dataset of that kind and level is already in the data directory or cache.
    data_dir : path-like, optional
        Offline data directory consulted by ``vintage=`` (default ``COTERMINUS_DATA_DIR``).
    base_url : str, optional
        ArcGIS base, default ``COTERMINUS_ONS_BASE_URL`` or :data:`DEFAULT_BASE_URL`.
    progress : bool, default True
        tqdm progress bars (only when stderr is a terminal).
    timeout : float, default 60
        Seconds to wait for each connection or read.
    retries : int, default 3
        Extra attempts after connection errors, timeouts, truncated bodies and HTTP 5xx.
    force : bool, default False
        Download again even if the cache has the file.

    Returns
    -------
    pathlib.Path or dict of str to pathlib.Path
        The file of ``dataset_id``; with ``vintage=``, every file the vintage needs by dataset id
        (present ones and fetched ones).

    Raises
    ------
    DownloadError
        Network failure after retries, HTTP 4xx, JSON error body, unknown service, or rows that do
        not match the registry. With ``vintage=``, raised after the other datasets were fetched.
    ChecksumError
        A plain file's SHA-256 differs from the registry; the download was deleted.
    CacheError
        The cache directory is not writable.
    ParameterError
        Neither or both of ``dataset_id`` and ``vintage``, or a bad ``timeout``/``retries``.

    Examples
    --------
    >>> from coterminus.datasets import fetch
    >>> fetch("ccg-2019-buc")  # doctest: +SKIP
    PosixPath('/home/me/.cache/coterminus/downloads/ccg-2019-buc.geojson')
    >>> sorted(fetch(vintage=2019))  # doctest: +SKIP
    ['ccg-2019', 'ccg-stp-2019', 'lsoa-boundaries-2011', ...]
    """
    _check_args(timeout, retries)
    if (dataset_id is None) == (vintage is None):
        msg = "Pass a dataset id, e.g. fetch('ccg-2019'), or vintage=, e.g. fetch(vintage=2019)."
        raise ParameterError(msg)
    if vintage is not None:
        return _fetch_vintage(
            vintage,
            data_dir=data_dir,
            base_url=base_url,
            progress=progress,
            timeout=timeout,
            retries=retries,
            force=force,
        )
    assert dataset_id is not None  # narrowed above
    ds = get(dataset_id)
    if ds.remote is None:
        msg = (
            f"{ds.id} has no download source; it only exists in a data directory: "
            f"set {ENV_DATA_DIR}=../shared/data or pass data_dir=."
        )
        raise DataDirError(msg)
    downloads = _downloads_dir()  # checks the cache is writable before any network traffic
    cached = downloads / ds.remote.filename
    if cached.is_file() and not force:
        logger.info("%s is already in the cache: %s", ds.id, cached)
        return cached
    if ds.remote.type == "file":
        assert ds.remote.url is not None  # file sources always have a url
        return fetch_url(
            ds.remote.url,
            filename=ds.remote.filename,
            sha256=ds.remote.sha256,
            progress=progress,
            timeout=timeout,
            retries=retries,
        )
    return _fetch_featureserver(
        ds, _base_url(base_url), progress=progress, timeout=timeout, retries=retries
    )


def _fetch_vintage(
    vintage: int,
    *,
    data_dir: str | os.PathLike[str] | None,
    base_url: str | None,
    progress: bool,
    timeout: float,
    retries: int,
    force: bool,
) -> dict[str, Path]:
    root = resolve_data_dir(data_dir)
    to_fetch, present, _ = _vintage_plan(vintage, root)
    if force:  # download again what came from the cache; data-directory files stay as they are
        to_fetch += [get(i) for i in present if _find(get(i), root)[0] == "cache"]
    result = dict(present)
    failures = []
    for ds in to_fetch:
        try:
            result[ds.id] = fetch(
                ds.id,
                base_url=base_url,
                progress=progress,
                timeout=timeout,
                retries=retries,
                force=force,
            )
        except (DownloadError, ChecksumError, ArchiveError) as exc:
            failures.append(f"{ds.id}: {exc}")
    if failures:
        msg = (
            f"Fetched {len(to_fetch) - len(failures)} of {len(to_fetch)} datasets for vintage "
            f"{vintage}; {len(failures)} failed. " + " | ".join(failures)
        )
        raise DownloadError(msg)
    return result


# --- status and verify --------------------------------------------------------------------------
def status(
    vintage: int | None = None, data_dir: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Say where each dataset is: the data directory, the download cache, or missing.

    Parameters
    ----------
    vintage : int, optional
        Only datasets serving this analysis vintage.
    data_dir : path-like, optional
        Offline data directory (default ``COTERMINUS_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        Indexed by dataset id; columns ``title``, ``kind``, ``level``, ``vintage``, ``resolution``,
        ``where`` (``"data_dir"``, ``"cache"`` or ``"missing"``), ``path``, ``layer`` and ``size``
        (bytes).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.datasets import status
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "lookups").mkdir()
    >>> _ = (root / "lookups" / "ccg19_stp19_en.csv").write_text("CCG19CD\\n")
    >>> table = status(2019, data_dir=root)
    >>> table.loc["ccg-stp-2019", ["where", "size"]].to_dict()
    {'where': 'data_dir', 'size': 8}
    """
    root = resolve_data_dir(data_dir)
    rows = []
    for ds in _select(vintage):
        where, path = _find(ds, root)
        rows.append(
            {
                "id": ds.id,
                "title": ds.title,
                "kind": ds.kind,
                "level": ds.level,
                "vintage": ds.vintage,
                "resolution": ds.resolution,
                "where": where,
                "path": None if path is None else str(path),
                "layer": ds.layer if where == "data_dir" else None,
                "size": None if path is None else path.stat().st_size,
            }
        )
    frame = pd.DataFrame(rows).set_index("id")
    frame["size"] = frame["size"].astype("Int64")
    return frame


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".csv.gz" if name.endswith(".csv.gz") else path.suffix.lower()


def _inspect(ds: Dataset, path: Path, layer: str | None) -> tuple[int | None, list[str]]:
    """Count England rows and check columns -> (rows, problems); (None, []) for other formats."""
    suffix = _suffix(path)
    problems: list[str] = []
    try:
        if suffix in _VECTOR_SUFFIXES:
            columns = list(pyogrio.read_info(path, layer=layer)["fields"])
        elif suffix in _TABLE_SUFFIXES:
            columns = list(pd.read_csv(path, nrows=0).columns)
        else:
            return None, []
    except Exception as exc:  # any reader failure is reported, not raised
        return None, [f"cannot be read ({type(exc).__name__}: {exc})"]
    matched, missing = _match_columns(ds.expected_columns, columns)
    if missing:
        problems.append(f"missing columns {', '.join(missing)} (has {', '.join(columns)})")
        return None, problems
    if not matched:
        return None, problems
    code = matched[0]
    if suffix in _VECTOR_SUFFIXES:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=[code], read_geometry=False)
    else:
        frame = pd.read_csv(path, usecols=[code], dtype=str)
    rows = int(frame[code].astype("string").str.startswith("E").fillna(False).sum())
    if ds.expected_rows is not None and rows != ds.expected_rows:
        problems.append(f"{rows} England rows ({code} E*), expected {ds.expected_rows}")
    return rows, problems


def _deep_check(ds: Dataset, path: Path, layer: str | None) -> list[str]:
    from . import io as cio  # imported here: io is optional for the registry itself

    readers: dict[str, Callable[[], object]] = {
        "boundary": lambda: cio.read_boundaries(path, layer=layer),
        "lookup": lambda: cio.read_lookup(path),
        "population": lambda: cio.read_population(path),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            readers[ds.kind]()
    except Exception as exc:  # report, do not raise
        return [f"coterminus.io cannot load it ({type(exc).__name__}: {exc})"]
    return []


def verify(
    vintage: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
) -> pd.DataFrame:
    """Check every dataset that is present: SHA-256 where registered, columns and row counts.

    Parameters
    ----------
    vintage : int, optional
        Only datasets serving this analysis vintage.
    data_dir : path-like, optional
        Offline data directory (default ``COTERMINUS_DATA_DIR``).
    deep : bool, default False
        Also load each file with ``coterminus.io`` (slower).

    Returns
    -------
    pandas.DataFrame
        Indexed by dataset id; columns ``where``, ``path``, ``sha256`` (``"ok"``, ``"mismatch"``,
        ``"not registered"`` or ``""`` when missing), ``rows`` (England rows found),
        ``expected_rows``, ``result`` (``"ok"``, ``"problem"`` or ``"missing"``) and ``problem``
        (what is wrong and what to do; empty when ok).

    Notes
    -----
    The SHA-256 of a data-directory file is compared with the registry's ``sha256``; a downloaded
    plain file with its pinned ``remote.sha256``. FeatureServer downloads are assembled from pages,
    so they have no stable hash and only their columns and rows are checked. ``expected_columns``
    are matched case-insensitively (``"A|B"`` accepts either), and rows are counted where the code
    column (the first expected column) starts with ``E``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.datasets import verify
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "lookups").mkdir()
    >>> _ = (root / "lookups" / "ccg19_stp19_en.csv").write_text("CCG19CD\\nE38000001\\n")
    >>> report = verify(2019, data_dir=root)
    >>> report.loc["ccg-stp-2019", ["sha256", "result"]].tolist()
    ['mismatch', 'problem']
    >>> print(report.loc["ccg-stp-2019", "problem"])
    sha256 mismatch: ... missing columns CCG19NM, STP19CD, STP19NM (has CCG19CD)
    """
    root = resolve_data_dir(data_dir)
    hashes: dict[Path, str] = {}
    rows_out = []
    for ds in _select(vintage):
        where, path = _find(ds, root)
        record: dict[str, Any] = {
            "id": ds.id,
            "where": where,
            "path": None if path is None else str(path),
            "sha256": "",
            "rows": None,
            "expected_rows": ds.expected_rows,
            "result": "missing",
            "problem": "",
        }
        if path is None:
            rows_out.append(record)
            continue
        problems: list[str] = []
        expected = ds.sha256 if where == "data_dir" else None
        if where == "cache" and ds.remote is not None and ds.remote.type == "file":
            expected = ds.remote.sha256
        if expected:
            if path not in hashes:
                hashes[path] = _sha256_file(path)
            got = hashes[path]
            record["sha256"] = "ok" if got == expected else "mismatch"
            if got != expected:
                problems.append(
                    f"sha256 mismatch: the file has {got[:12]}…, the registry {expected[:12]}… "
                    "(it was changed or replaced; restore the original file or download it again)"
                )
        else:
            record["sha256"] = "not registered"
        layer = ds.layer if where == "data_dir" else None
        rows, found = _inspect(ds, path, layer)
        record["rows"] = rows
        problems += found
        if deep and not found:
            problems += _deep_check(ds, path, layer)
        record["result"] = "problem" if problems else "ok"
        record["problem"] = "; ".join(problems)
        rows_out.append(record)
    frame = pd.DataFrame(rows_out).set_index("id")
    frame["rows"] = frame["rows"].astype("Int64")
    frame["expected_rows"] = frame["expected_rows"].astype("Int64")
    return frame
