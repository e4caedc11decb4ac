"""Data: the ONS files coterminus reads — registry, download, cache, integrity, readers, manifests.

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

Reading what was found: :mod:`.manifest` (a vintage's files, levels and population, as TOML in
``manifests/``), :mod:`.readers` (ONS boundary, lookup and population files),
:mod:`.validate` (CRS, codes, populations), :mod:`.integrity` (pinned SHA-256 checks),
:mod:`.loading` (a manifest into a block table and names), :mod:`.embedded` (the compact copy
shipped in ``_embedded/``), :mod:`.atomic` (atomic, signal-safe writes for every writer) and
:mod:`.doctor` (diagnosis and repair of a boundary layer).

Examples
--------
>>> from coterminus.data import find_dataset, get
>>> get("ccg-2019").title
'Clinical Commissioning Groups (April 2019) Boundaries EN BGC'
>>> find_dataset("boundary", "utla", 2021, resolution="BUC").id
'utla-2021-buc'
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
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

#: Public name -> (module of this package, name there); imported on first access, so importing
#: one module of the package (``coterminus.data.atomic``) stays light.
_LAZY: dict[str, tuple[str, str]] = {
    "DEFAULT_BASE_URL": ("arcgis", "DEFAULT_BASE_URL"),
    "Dataset": ("catalog", "Dataset"),
    "KINDS": ("catalog", "KINDS"),
    "LEVELS": ("catalog", "LEVELS"),
    "Plan": ("download", "Plan"),
    "Remote": ("catalog", "Remote"),
    "ServiceError": ("net", "ServiceError"),
    "UnknownDatasetError": ("catalog", "UnknownDatasetError"),
    "UnreachableError": ("net", "UnreachableError"),
    "cache_dir": ("cache", "cache_dir"),
    "cache_usage": ("cache", "usage"),
    "clean_cache": ("cache", "clean"),
    "fetch": ("download", "fetch"),
    "fetch_url": ("files", "fetch_url"),
    "find_dataset": ("catalog", "find_dataset"),
    "get": ("catalog", "get"),
    "locate": ("locations", "locate"),
    "locate_layer": ("locations", "locate_layer"),
    "plan": ("download", "plan"),
    "registry": ("catalog", "registry"),
    "resolve_data_dir": ("locations", "resolve_data_dir"),
    "sha256_file": ("checks", "sha256_file"),
    "source_of": ("store", "source_of"),
    "status": ("checks", "status"),
    "verify": ("checks", "verify"),
}

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


def __getattr__(name: str) -> _typing.Any:
    """Import a public name on first access (PEP 562)."""
    if name not in _LAZY:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    module, attribute = _LAZY[name]
    value = getattr(_importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
