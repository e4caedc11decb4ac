"""Fetch datasets into the cache: FeatureServer layers (:mod:`.arcgis`) and plain files (pooch).

Every download lands in ``<cache>/downloads/`` in one atomic step, or not at all: a failure of any
kind (network, checksum, archive, rows that do not match the registry, an interrupt) leaves no
partial file and keeps an earlier copy. Beside each file, ``<file>.source.json`` records where it
came from (service name and how it was found, or URL), when, and its SHA-256
(:func:`source_of`).

Plain files go through :func:`pooch.retrieve` (temporary file in the cache, SHA-256 check, move
into place) with a downloader of our own that applies the network rules of :mod:`.net`: the
overall deadline, and retries for transient failures only.

Examples
--------
>>> from coterminus.datasets import download
>>> download.fetch("ccg-2019-buc")  # doctest: +SKIP
PosixPath('/home/me/.cache/coterminus/downloads/ccg-2019-buc.geojson')
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, overload

from .._atomic import atomic_path
from ..errors import (
    ArchiveError,
    ChecksumError,
    CoterminusError,
    DataDirError,
    DownloadError,
    OutputError,
    ParameterError,
)
from . import arcgis, cache, catalog, locations, net
from .catalog import Dataset

__all__ = ["Plan", "fetch", "fetch_url", "plan", "source_of"]

logger = logging.getLogger("coterminus.datasets")

ENV_BASE_URL = "COTERMINUS_ONS_BASE_URL"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_DEADLINE = 900.0
SOURCE_SUFFIX = ".source.json"
STAGING_PREFIX = ".incoming-"


# --- provenance ---------------------------------------------------------------------------------
def source_of(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Where a downloaded file came from (its ``.source.json``), or ``None`` if not recorded.

    Examples
    --------
    >>> source_of("/no/such/file.csv") is None
    True
    """
    side = Path(os.fspath(path) + SOURCE_SUFFIX)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_source(dest: Path, info: dict[str, Any]) -> None:
    info = {**info, "retrieved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _write_atomically(
        Path(os.fspath(dest) + SOURCE_SUFFIX),
        lambda h: h.write(json.dumps(info, indent=1).encode("utf-8")),
    )


def _write_atomically(
    dest: Path, write: Callable[[IO[bytes]], object], check: Callable[[Path], None] | None = None
) -> Path:
    """Write to a temporary file beside ``dest``, check it, then ``os.replace`` it into place."""
    try:
        with atomic_path(dest) as tmp:
            with tmp.open("w+b") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            if check is not None:
                check(tmp)
    except OutputError as exc:  # the cache folder went away or turned read-only
        cause = exc.__cause__
        reason = (
            cause.strerror
            if isinstance(cause, OSError) and cause.strerror
            else f"folder {dest.parent} is missing or read-only"
        )
        raise cache.cache_error(cache.cache_root(), reason) from exc
    return dest


def _progress_bar(progress: bool, total: int | None, desc: str, unit: str) -> Any:
    from tqdm import tqdm

    disable = not (progress and sys.stderr is not None and sys.stderr.isatty())
    return tqdm(
        total=total, unit=unit, unit_scale=unit == "B", desc=desc, disable=disable, leave=False
    )


# --- plain files --------------------------------------------------------------------------------
def _check_zip(path: Path, url: str) -> None:
    from ..io import _zip_members

    try:
        _zip_members(path)
    except ArchiveError as exc:
        msg = (
            f"The file downloaded from {url} failed its archive check: {exc} It was deleted. "
            "Fix: try again, or download it by hand and put it in the data directory."
        )
        raise ArchiveError(msg) from exc


def fetch_url(
    url: str,
    *,
    filename: str,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float = DEFAULT_DEADLINE,
) -> Path:
    """Download a plain file into the cache with :func:`pooch.retrieve`, and check it.

    pooch streams the body to a temporary file in the cache and checks its SHA-256; the
    downloader is ours (:mod:`.net`: deadline, retries of transient failures only, length checked
    against ``Content-Length``). Zip archives are then tested, and only then is the file renamed
    to ``<cache>/downloads/<filename>``.

    Parameters
    ----------
    url : str
    filename : str
        Bare file name inside the cache's ``downloads/`` folder.
    sha256 : str, optional
        Expected SHA-256 (hex). Without it the computed hash is recorded in the ``.source.json``
        so it can be pinned.
    progress : bool, default True
        Show a tqdm progress bar when stderr is a terminal.
    timeout : float, default 60
        Seconds to wait for the connection or for more bytes.
    retries : int, default 3
        Extra attempts after HTTP 429/5xx, resets and truncated bodies (1, 2, 4 s apart).
    deadline : float, default 900
        Seconds allowed for the whole file, retries included.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    UnreachableError
        The host name does not resolve, or the connection is refused; not retried.
    DownloadError
        HTTP error, no answer, deadline passed, or a truncated body after every retry.
    ChecksumError
        The SHA-256 differs; the download was deleted.
    ArchiveError
        A ``.zip`` download is not a readable archive; it was deleted.
    CacheError
        The cache directory is not writable.

    Examples
    --------
    >>> fetch_url("https://www.ons.gov.uk/file?uri=/x/file.zip", filename="file.zip")  # doctest: +SKIP
    PosixPath('/home/me/.cache/coterminus/downloads/file.zip')
    """
    import pooch

    net.check_args(timeout, retries, deadline)
    if Path(filename).name != filename or filename in ("", ".", ".."):
        msg = f"filename={filename!r} must be a bare file name such as 'data.zip'."
        raise ParameterError(msg)
    folder = cache.downloads_dir()
    if not folder.is_dir():
        raise cache.cache_error(cache.cache_root(), f"folder {folder} is missing or read-only")
    dest = folder / filename
    limit = net.Deadline(deadline)
    digest: dict[str, str] = {}

    def downloader(url: str, output_file: str, _pooch: object, check_only: bool = False) -> None:
        def attempt() -> None:
            hasher = hashlib.sha256()
            with (
                open(output_file, "wb") as handle,
                _progress_bar(progress, None, filename, "B") as bar,
            ):

                def sink(chunk: bytes) -> None:
                    handle.write(chunk)
                    hasher.update(chunk)

                def tick(n: int, total: int | None) -> None:
                    bar.total = total
                    bar.update(n)

                net.stream(url, sink, timeout=timeout, deadline=limit, progress=tick)
            digest["sha256"] = hasher.hexdigest()

        net.retrying(attempt, retries=retries, what=f"download {filename}", url=url, deadline=limit)

    _sweep_stale_staging(folder)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    pooch_log = pooch.get_logger()
    level = pooch_log.level
    pooch_log.setLevel(logging.WARNING)
    try:
        try:
            got = pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256.lower()}" if sha256 else None,
                fname=filename,
                path=staging,
                downloader=downloader,
                progressbar=False,
            )
        except ValueError as exc:  # pooch: the hash does not match
            msg = (
                f"The file downloaded from {url} has SHA-256 {digest.get('sha256', '?')}, but "
                f"{(sha256 or '').lower()} was expected. The download was deleted and nothing was "
                f"written to {dest}. Fix: retry; if it persists, check the file on the ONS site "
                "before updating the sha256 in registry.json."
            )
            raise ChecksumError(msg) from exc
        if filename.lower().endswith(".zip"):
            _check_zip(Path(got), url)
        staged = Path(got)
        staged.chmod(0o666 & ~_umask())
        staged.replace(dest)
    except OSError as exc:
        if isinstance(exc, CoterminusError):
            raise
        raise cache.cache_error(cache.cache_root(), str(exc.strerror or exc)) from exc
    finally:
        pooch_log.setLevel(level)
        shutil.rmtree(staging, ignore_errors=True)
    _write_source(dest, {"url": url, "sha256": digest.get("sha256"), "pinned": bool(sha256)})
    logger.info("downloaded %s to %s", url, dest)
    return dest


def _sweep_stale_staging(folder: Path, age: float = 3600.0) -> None:
    """Delete staging folders left by a download killed over an hour ago (e.g. SIGKILL)."""
    now = time.time()
    for stale in folder.glob(f"{STAGING_PREFIX}*"):
        try:
            if now - stale.stat().st_mtime > age:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            continue


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- FeatureServer layers -----------------------------------------------------------------------
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


def _fetch_featureserver(
    ds: Dataset, session: arcgis.Session, *, progress: bool, deadline: float
) -> Path:
    remote = ds.remote
    assert remote is not None
    limit = net.Deadline(deadline)
    service, meta, how = arcgis.resolve_service(ds, session, limit)
    with _progress_bar(progress, None, ds.id, "rows") as bar:
        features, _ = arcgis.page_features(ds, session, service, meta, limit, bar.update)
    source = {
        "dataset": ds.id,
        "service": service,
        "found_by": how,
        "url": session.layer_url(service, remote.layer),
        "rows": len(features),
        "attribution": ds.attribution,
    }
    dest = cache.downloads_dir() / remote.filename
    if remote.filename.lower().endswith(".csv"):
        _write_atomically(dest, lambda handle: _write_csv(handle, features))
    else:
        crs = f"urn:ogc:def:crs:EPSG::{remote.out_sr}"
        collection = {
            "type": "FeatureCollection",
            "name": ds.id,
            "crs": {"type": "name", "properties": {"name": crs}},
            "coterminus": source,
            "features": features,
        }
        text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
        _write_atomically(dest, lambda handle: handle.write(text.encode("utf-8")))
    _write_source(dest, source)
    logger.info("%s saved to %s (service %s, %s)", ds.id, dest, service, how)
    return dest


# --- fetch --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What a vintage needs: files present, datasets to download, and what cannot be downloaded.

    Examples
    --------
    >>> Plan(to_fetch=(), present={}, unavailable=()).to_fetch
    ()
    """

    to_fetch: tuple[Dataset, ...]
    present: dict[str, Path]
    unavailable: tuple[Dataset, ...]


def plan(
    vintage: int | str, data_dir: str | os.PathLike[str] | None = None, *, force: bool = False
) -> Plan:
    """For each (kind, level) a vintage needs: the file present, or the dataset to download.

    Parameters
    ----------
    vintage : int
    data_dir : path-like, optional
        Offline data directory (default ``COTERMINUS_DATA_DIR``).
    force : bool, default False
        Also download again what is present only in the cache (never data-directory files).

    Returns
    -------
    Plan

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": tempfile.mkdtemp()}):
    ...     p = plan(2019, data_dir=tempfile.mkdtemp())
    >>> len(p.to_fetch), len(p.present)
    (10, 0)
    """
    root = locations.resolve_data_dir(data_dir)
    groups: dict[tuple[str, str], list[Dataset]] = {}
    for ds in catalog.select(vintage):
        groups.setdefault((ds.kind, ds.level), []).append(ds)
    to_fetch: list[Dataset] = []
    present: dict[str, Path] = {}
    unavailable: list[Dataset] = []
    for candidates in groups.values():
        located = [(ds, *locations.find(ds, root)) for ds in candidates]
        found = next(((ds, w, p) for ds, w, p in located if p is not None), None)
        if found is not None:
            present[found[0].id] = found[2]
            if force and found[1] == "cache":
                to_fetch.append(found[0])
            continue
        downloadable = next((ds for ds in candidates if ds.remote is not None), None)
        if downloadable is None:
            unavailable.append(candidates[0])
        else:
            to_fetch.append(downloadable)
    return Plan(tuple(to_fetch), present, tuple(unavailable))


def _session(base_url: str | None, timeout: float, retries: int) -> arcgis.Session:
    base = base_url or os.environ.get(ENV_BASE_URL, "").strip() or arcgis.DEFAULT_BASE_URL
    return arcgis.Session(base, timeout=timeout, retries=retries)


def _fetch_one(
    ds: Dataset, session: arcgis.Session, *, progress: bool, deadline: float, force: bool
) -> Path:
    if ds.remote is None:
        msg = (
            f"{ds.id} has no download source; it only exists in a data directory. "
            f"Fix: set {locations.ENV_DATA_DIR}=../shared/data or pass --data-dir."
        )
        raise DataDirError(msg)
    cached = cache.downloads_dir() / ds.remote.filename  # checks the cache before the network
    if cached.is_file() and not force:
        logger.info("%s is already in the cache: %s", ds.id, cached)
        return cached
    if ds.remote.type == "file":
        assert ds.remote.url is not None
        return fetch_url(
            ds.remote.url,
            filename=ds.remote.filename,
            sha256=ds.remote.sha256,
            progress=progress,
            timeout=session.timeout,
            retries=session.retries,
            deadline=deadline,
        )
    return _fetch_featureserver(ds, session, progress=progress, deadline=deadline)


@overload
def fetch(
    dataset_id: str | Dataset,
    *,
    vintage: None = None,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float = DEFAULT_DEADLINE,
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
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float = DEFAULT_DEADLINE,
    force: bool = False,
) -> dict[str, Path]: ...


def fetch(
    dataset_id: str | Dataset | None = None,
    *,
    vintage: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float = DEFAULT_DEADLINE,
    force: bool = False,
) -> Path | dict[str, Path]:
    """Download a dataset (or everything a vintage needs) from ONS into the cache.

    FeatureServer sources are found and paged as described in :mod:`coterminus.datasets.arcgis`
    and written as GeoJSON (boundaries, EPSG:27700) or CSV (lookups); plain files go through
    :func:`fetch_url`. Either way the file is moved into ``<cache>/downloads/`` atomically, with a
    ``.source.json`` naming the service or URL it came from (:func:`source_of`).

    Parameters
    ----------
    dataset_id : str or Dataset, optional
        One registry id. Already-cached files are returned without downloading unless ``force``.
    vintage : int, optional
        Instead of an id: for each (kind, level) the vintage needs, fetch the preferred dataset
        unless some dataset of that kind and level is already present (see :func:`plan`).
    data_dir : path-like, optional
        Offline data directory consulted by ``vintage=`` (default ``COTERMINUS_DATA_DIR``).
    base_url : str, optional
        ArcGIS base, default ``COTERMINUS_ONS_BASE_URL`` or
        ``https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis``.
    progress : bool, default True
        tqdm progress bars (only when stderr is a terminal).
    timeout : float, default 60
        Seconds to wait for a connection or for more bytes.
    retries : int, default 3
        Extra attempts after HTTP 429/5xx, resets and truncated bodies.
    deadline : float, default 900
        Seconds allowed for each file (all its pages and retries).
    force : bool, default False
        Download again what the cache already has.

    Returns
    -------
    pathlib.Path or dict of str to pathlib.Path
        The file of ``dataset_id``; with ``vintage=``, every file the vintage needs by dataset id.

    Raises
    ------
    UnreachableError
        The network or the server cannot be reached; with ``vintage=`` raised at once, not once
        per dataset.
    DownloadError
        Any other download failure; with ``vintage=``, raised after the other datasets were tried.
    ChecksumError
        A plain file's SHA-256 differs from the registry; the download was deleted.
    CacheError
        The cache directory is not writable.
    ParameterError
        Neither or both of ``dataset_id`` and ``vintage``, or a bad timeout/retries/deadline.

    Examples
    --------
    >>> from coterminus.datasets import fetch
    >>> sorted(fetch(vintage=2019))  # doctest: +SKIP
    ['ccg-2019', 'ccg-stp-2019', 'lsoa-boundaries-2011', ...]
    """
    net.check_args(timeout, retries, deadline)
    if (dataset_id is None) == (vintage is None):
        msg = "Pass a dataset id, e.g. fetch('ccg-2019'), or vintage=, e.g. fetch(vintage=2019)."
        raise ParameterError(msg)
    session = _session(base_url, timeout, retries)
    try:
        if dataset_id is not None:
            return _fetch_one(
                catalog.get(dataset_id), session, progress=progress, deadline=deadline, force=force
            )
        assert vintage is not None
        return _fetch_vintage(
            vintage, data_dir, session, progress=progress, deadline=deadline, force=force
        )
    except BaseException:
        cache.remove_if_empty()  # a fetch that saved nothing leaves nothing, not even folders
        raise


def _fetch_vintage(
    vintage: int,
    data_dir: str | os.PathLike[str] | None,
    session: arcgis.Session,
    *,
    progress: bool,
    deadline: float,
    force: bool,
) -> dict[str, Path]:
    todo = plan(vintage, data_dir, force=force)
    cache.downloads_dir()  # a CacheError now, before any network traffic
    result = dict(todo.present)
    failures: list[tuple[str, str]] = []
    for done, ds in enumerate(todo.to_fetch):
        try:
            result[ds.id] = _fetch_one(
                ds, session, progress=progress, deadline=deadline, force=force
            )
        except net.UnreachableError as exc:
            fetched = done - len(failures)
            if fetched:
                saved = f"{fetched} of {len(todo.to_fetch)} datasets were fetched before that"
            else:
                saved = f"Nothing was downloaded or saved (0 of {len(todo.to_fetch)} datasets)"
            msg = f"Cannot reach {exc.host}: {exc.reason}. {saved}. {exc.fix}"
            raise net.UnreachableError(msg, host=exc.host, reason=exc.reason, fix=exc.fix) from None
        except (DownloadError, ChecksumError, ArchiveError) as exc:
            failures.append((ds.id, str(exc).split(". ")[0]))
    if failures:
        listed = "; ".join(f"{i}: {why}" for i, why in failures)
        msg = (
            f"Fetched {len(todo.to_fetch) - len(failures)} of {len(todo.to_fetch)} datasets for "
            f"vintage {vintage}; {len(failures)} failed ({listed}). Fix: run `coterminus data "
            f"fetch {failures[0][0]}` to see the full reason and its fix."
        )
        raise DownloadError(msg)
    return result
