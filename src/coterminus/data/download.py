"""Fetch datasets into the cache: FeatureServer layers (:mod:`.arcgis`) and plain files (pooch).

Every download lands in ``<cache>/downloads/`` in one atomic step, or not at all: a failure of any
kind (network, checksum, archive, rows that do not match the registry, an interrupt) leaves no
partial file and keeps an earlier copy. Beside each file, ``<file>.source.json`` records where it
came from (service name and how it was found, or URL), when, and its SHA-256
(:func:`source_of`).

Plain files go through :func:`pooch.retrieve` (:mod:`.files`); how files are stored and their
provenance recorded is :mod:`.store`.

Examples
--------
>>> from coterminus.data import download
>>> download.fetch("ccg-2019-buc")  # doctest: +SKIP
PosixPath('/home/me/.cache/coterminus/downloads/ccg-2019-buc.geojson')
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, overload

from ..errors import ArchiveError, ChecksumError, DataDirError, DownloadError, ParameterError
from . import arcgis, cache, catalog, locations, net
from .catalog import Dataset
from .files import DEFAULT_DEADLINE, DEFAULT_RETRIES, DEFAULT_TIMEOUT, fetch_url
from .integrity import file_sha256
from .store import progress_bar, write_atomically, write_source

__all__ = ["Plan", "fetch", "plan"]

logger = logging.getLogger("coterminus.data")

ENV_BASE_URL = "COTERMINUS_ONS_BASE_URL"


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
    with progress_bar(progress, None, ds.id, "rows") as bar:
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
        write_atomically(dest, lambda handle: _write_csv(handle, features))
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
        write_atomically(dest, lambda handle: handle.write(text.encode("utf-8")))
    # recorded when written: a load checks the file against it (coterminus.data.loading)
    write_source(dest, {**source, "sha256": file_sha256(dest)})
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

    FeatureServer sources are found and paged as described in :mod:`coterminus.data.arcgis`
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
    >>> from coterminus.data import fetch
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
