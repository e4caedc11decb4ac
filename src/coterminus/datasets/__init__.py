"""Dataset registry, downloader and cache for the ONS geography files coterminus uses.

Every dataset the library knows (CCG, STP, ICB, Sub-ICB, local authority and LSOA boundaries,
the ONS lookups between them, and mid-2019 population estimates) is one entry of
``registry.json``, documented in ``data/boundaries/README.md``. An entry says where the file sits
in an offline data directory laid out like ``../shared/data`` and how to download it from ONS.

Files are found in this order (:func:`locate`):

1. the data directory (``data_dir=`` or ``COTERMINUS_DATA_DIR``): offline copies are first-class;
2. the download cache (``COTERMINUS_CACHE_DIR``, else the user cache folder), filled by
   :func:`fetch`.

The package is split like pooch and osmnx, one concern per module:

=================  ==========================================================================
:mod:`.catalog`    the registry: :class:`Dataset`, :func:`get`, :func:`find_dataset`
:mod:`.locations`  data directory and :func:`locate` / :func:`locate_layer`
:mod:`.cache`      the cache folder: :func:`cache_dir`, :func:`cache_usage`, :func:`clean_cache`
:mod:`.net`        HTTP: fail fast when unreachable, retry only transient errors, deadlines
:mod:`.arcgis`     the ArcGIS FeatureServer pager (service names, paging, Esri JSON)
:mod:`.files`      plain-file downloads through pooch: :func:`fetch_url`
:mod:`.store`      atomic writes and provenance: :func:`source_of`
:mod:`.download`   :func:`fetch` (one dataset or a vintage), :func:`plan`
:mod:`.checks`     :func:`status`, :func:`verify`, :func:`sha256_file`
=================  ==========================================================================

Examples
--------
>>> from coterminus.datasets import find_dataset, get
>>> get("ccg-2019").title
'Clinical Commissioning Groups (April 2019) Boundaries EN BGC'
>>> find_dataset("boundary", "utla", 2021, resolution="BUC").id
'utla-2021-buc'
"""

from __future__ import annotations

from .arcgis import DEFAULT_BASE_URL
from .cache import cache_dir
from .cache import clean as clean_cache
from .cache import usage as cache_usage
from .catalog import (
    KINDS,
    LEVELS,
    Dataset,
    Remote,
    UnknownDatasetError,
    find_dataset,
    get,
    registry,
)
from .checks import sha256_file, status, verify
from .download import Plan, fetch, plan
from .files import fetch_url
from .locations import locate, locate_layer, resolve_data_dir
from .net import ServiceError, UnreachableError
from .store import source_of

__all__ = [
    "DEFAULT_BASE_URL",
    "KINDS",
    "LEVELS",
    "Dataset",
    "Plan",
    "Remote",
    "ServiceError",
    "UnknownDatasetError",
    "UnreachableError",
    "cache_dir",
    "cache_usage",
    "clean_cache",
    "fetch",
    "fetch_url",
    "find_dataset",
    "get",
    "locate",
    "locate_layer",
    "plan",
    "registry",
    "resolve_data_dir",
    "sha256_file",
    "source_of",
    "status",
    "verify",
]

_sha256_file = sha256_file  # kept for geography.py, which hashes source files for its cache keys
