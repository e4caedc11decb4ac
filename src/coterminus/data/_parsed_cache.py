"""The parsed-layer cache: parsed polygon layers (GeoParquet) and prepared block tables (Arrow).

The cache is only a speed-up, so it must never be the reason a load fails or gives a wrong
answer:

* **keys** hold everything the entry depends on: the SHA-256 of each source file, the layer, the
  level, the repair flag and :data:`CACHE_FORMAT` (for block tables: the manifest's columns and
  the SHA-256 of every file read). A JSON sidecar repeats them and is compared on every read, so
  an entry can never be taken for another source or vintage.
* **integrity**: the sidecar records, when the entry is written, the SHA-256 of each of its
  files and of its own fields. A read hashes the very bytes it then parses; an entry whose bytes
  differ from what was recorded (one byte edited, same size, same mtime) is never used.
* **heal**: an entry that cannot be read or differs from its record (truncated, edited, corrupt
  or mismatched JSON) is deleted and rebuilt from the source, with one
  :class:`~coterminus.errors.CacheWarning` line.
* **degrade**: a cache folder that cannot be created or written (read-only disk, permissions)
  is bypassed with one warning per folder and process; loading goes on from the source files.

Entries live in ``<cache>/parsed/`` (``<cache>`` is ``COTERMINUS_CACHE_DIR`` or the user cache).
What the recorded digests do not catch: someone who can write the cache folder and rewrites an
entry *and* its sidecar consistently (METHODS.md §8); ``cache=False`` reads only the sources.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd, shapely
>>> from unittest import mock
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> gpd.GeoDataFrame({"LAD19CD": ["E06000001"], "LAD19NM": ["Hartlepool"]},
...                  geometry=[shapely.box(0, 0, 1000, 1000)], crs=27700).to_file(d / "lad.gpkg")
>>> with mock.patch.dict("os.environ", {"COTERMINUS_CACHE_DIR": str(d / "cache")}):
...     first = cached_boundaries(d / "lad.gpkg", None, "ltla", use_cache=True)
...     again = cached_boundaries(d / "lad.gpkg", None, "ltla", use_cache=True)
>>> again.attrs["level"], again.loc["E06000001", "name"], len(list((d / "cache" / "parsed").iterdir()))
('ltla', 'Hartlepool', 2)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from ..errors import CacheWarning, CoterminusError
from . import cache
from .atomic import atomic_write_bytes
from .integrity import file_sha256
from .readers import read_boundaries

__all__ = [
    "CACHE_FORMAT",
    "GEOPARQUET",
    "Codec",
    "cache_root",
    "cached_boundaries",
    "cached_entry",
    "cached_layer",
    "entry_key",
]

log = logging.getLogger(__name__)

#: Bump when the layout of a parsed layer changes; old entries are then never read.
#: 4: the sidecar records the SHA-256 of each file of the entry and of its own fields.
CACHE_FORMAT = 4

_warned_roots: set[str] = set()
_lock = threading.Lock()


def cache_root() -> Path:
    """The folder of parsed layers (``<cache>/parsed``); not created here.

    Examples
    --------
    >>> cache_root().name
    'parsed'
    """
    return cache.cache_root() / "parsed"


def entry_key(sha256: str, layer: str | None, level: str, repair: bool) -> str:
    """File stem of a cache entry: every input of the parsed layer, and the format version.

    Examples
    --------
    >>> entry_key("ab" * 32, "ccg", "ccg", False)
    'abababababababababababababababababababababababababababababababab-ccg-ccg-r0-v4'
    """
    safe_layer = "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in (layer or "default"))
    return f"{sha256}-{safe_layer}-{level}-r{int(repair)}-v{CACHE_FORMAT}"


def _warn_once(root: Path, message: str) -> None:
    with _lock:
        if str(root) in _warned_roots:
            return
        _warned_roots.add(str(root))
    warnings.warn(message, CacheWarning, stacklevel=4)


def _writable(root: Path) -> str | None:
    """``None`` when ``root`` can be created and written, else the reason it cannot."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return str(exc.strerror or exc)
    if not os.access(root, os.W_OK | os.X_OK):
        return "permission denied (read-only)"
    return None


def _sidecar_digest(sidecar: dict[str, Any]) -> str:
    """SHA-256 of a sidecar's fields (its own ``digest`` left out), canonical JSON."""
    fields = {k: v for k, v in sidecar.items() if k != "digest"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_entry(files: dict[str, Path], meta: Path, expected: dict[str, Any], codec: Codec) -> Any:
    """Read an entry, raising ``ValueError`` with a reason when it is unusable.

    Order: the sidecar parses and repeats ``expected``; its recorded digest matches its fields;
    each file's bytes match the SHA-256 recorded when it was written; then the bytes (the very
    bytes hashed, so nothing can change in between) are parsed.
    """
    try:
        sidecar = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"its JSON sidecar is unreadable ({type(exc).__name__}: {exc})"
        raise ValueError(msg) from exc
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("attrs"), dict):
        msg = "its JSON sidecar has no attrs"
        raise ValueError(msg)
    differs = [k for k, v in expected.items() if sidecar.get(k) != v]
    if differs:
        msg = f"its sidecar describes another source ({', '.join(differs)} differ)"
        raise ValueError(msg)
    if sidecar.get("digest") != _sidecar_digest(sidecar):
        msg = "its sidecar does not match the SHA-256 recorded in it when it was written (edited)"
        raise ValueError(msg)
    recorded = sidecar.get("sha256")
    blobs: dict[str, bytes] = {}
    for suffix, path in files.items():
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"its {suffix} file is unreadable ({exc})"
            raise ValueError(msg) from exc
        if not isinstance(recorded, dict) or hashlib.sha256(data).hexdigest() != recorded.get(
            suffix
        ):
            msg = (
                f"its {suffix} file differs from the SHA-256 recorded when it was written "
                "(edited or damaged)"
            )
            raise ValueError(msg)
        blobs[suffix] = data
    try:
        value = codec.load(blobs, sidecar)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ValueError...
        msg = f"its {codec.suffixes[0]} file is unreadable ({type(exc).__name__}: {exc})"
        raise ValueError(msg) from exc
    return value


@dataclass(frozen=True)
class Codec:
    """How a value is stored in a cache entry: its files (by suffix) and how to read them back.

    ``dump(value)`` returns the bytes of each file and the fields the sidecar records beside
    them (``attrs`` at least); ``load(blobs, sidecar)`` rebuilds the value from those bytes.
    """

    suffixes: tuple[str, ...]
    dump: Callable[[Any], tuple[dict[str, bytes], dict[str, Any]]]
    load: Callable[[dict[str, bytes], dict[str, Any]], Any]


def _geoparquet_dump(gdf: gpd.GeoDataFrame) -> tuple[dict[str, bytes], dict[str, Any]]:
    buffer = io.BytesIO()
    gdf.to_parquet(buffer)
    return {"parquet": buffer.getvalue()}, {"rows": len(gdf), "attrs": gdf.attrs}


def _geoparquet_load(blobs: dict[str, bytes], sidecar: dict[str, Any]) -> gpd.GeoDataFrame:
    gdf = gpd.read_parquet(io.BytesIO(blobs["parquet"]))
    if len(gdf) != sidecar.get("rows"):
        msg = f"it holds {len(gdf)} rows but its sidecar says {sidecar.get('rows')}"
        raise ValueError(msg)
    gdf.attrs = sidecar["attrs"]
    return gdf


GEOPARQUET = Codec(("parquet",), _geoparquet_dump, _geoparquet_load)


def cached_entry(
    key: str,
    expected: dict[str, Any],
    build: Callable[[], Any],
    *,
    what: str,
    codec: Codec,
) -> Any:
    """A value from the cache entry ``key``, or ``build()`` it and store it.

    The entry is one file per ``codec`` suffix plus a JSON sidecar written last, which repeats
    ``expected`` and records the SHA-256 of every file and of its own fields. An entry that is
    unreadable, describes something else or differs from what was recorded is deleted and
    rebuilt with a :class:`CacheWarning`; a cache that cannot be written only costs speed (one
    warning per folder).
    """
    root = cache_root()
    files = {suffix: root / f"{key}.{suffix}" for suffix in codec.suffixes}
    meta = root / f"{key}.json"
    first = files[codec.suffixes[0]]
    rebuilt_because: str | None = None
    present = [p.exists() for p in (*files.values(), meta)]
    if any(present):
        if all(present):
            try:
                return _read_entry(files, meta, expected, codec)
            except ValueError as exc:
                rebuilt_because = str(exc)
        else:
            rebuilt_because = f"it is incomplete ({first.suffix[1:]} or sidecar missing)"
    value = build()
    reason = _writable(root)
    if reason is not None:
        _warn_once(
            root,
            f"the parsed-layer cache {root} cannot be written ({reason}); loading without it "
            "(slower). Set COTERMINUS_CACHE_DIR to a writable folder to cache parsed layers.",
        )
        return value
    if rebuilt_because is not None:
        for stale in (*files.values(), meta):
            try:
                stale.unlink(missing_ok=True)
            except OSError as exc:
                log.info("could not delete cache file %s: %s", stale, exc)
        warnings.warn(
            f"parsed-layer cache entry {first.name} for {what} was discarded because "
            f"{rebuilt_because}; rebuilt it from the source.",
            CacheWarning,
            stacklevel=3,
        )
    blobs, fields = codec.dump(value)
    sidecar: dict[str, Any] = {**expected, "source": what, **fields}
    sidecar["sha256"] = {s: hashlib.sha256(b).hexdigest() for s, b in blobs.items()}
    sidecar = json.loads(json.dumps(sidecar, default=str))  # what a reader will see
    sidecar["digest"] = _sidecar_digest(sidecar)
    try:
        for suffix, data in blobs.items():
            atomic_write_bytes(files[suffix], data)
        atomic_write_bytes(meta, json.dumps(sidecar).encode("utf-8"))  # last: the entry is whole
        cache.record_written(
            *files.values(), meta
        )  # so that `coterminus data clean` may delete them
    except (OSError, CoterminusError) as exc:  # a cache that cannot be written only costs speed
        for partial in (*files.values(), meta):
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        _warn_once(
            root,
            f"could not write the parsed-layer cache {root} ({exc}); loading without it "
            "(slower). Set COTERMINUS_CACHE_DIR to a writable folder with free space.",
        )
    return value


def cached_layer(
    key: str,
    expected: dict[str, Any],
    build: Callable[[], gpd.GeoDataFrame],
    *,
    what: str,
) -> gpd.GeoDataFrame:
    """A parsed polygon layer from the cache entry ``key`` (GeoParquet), or ``build()`` it.

    See :func:`cached_entry`; the sidecar also records the row count and ``attrs``.
    """
    gdf: gpd.GeoDataFrame = cached_entry(key, expected, build, what=what, codec=GEOPARQUET)
    return gdf


def cached_boundaries(
    path: Path,
    layer: str | None,
    level: str | None,
    *,
    use_cache: bool,
    repair: bool = False,
    code_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a boundary layer through the parsed-layer cache (GeoParquet + JSON sidecar).

    Parameters
    ----------
    path : Path
        The source file (GeoPackage, shapefile zip, GeoJSON...).
    layer : str or None
        Layer of a multi-layer source.
    level : str or None
        Level whose code column to use (:func:`coterminus.data.readers.read_boundaries`).
    code_col : str, optional
        The code column itself, when the manifest names it (part of the key).
    use_cache : bool
        ``False`` reads the source every time and touches no cache.
    repair : bool, default False
        Passed to :func:`coterminus.data.readers.read_boundaries`; part of the key.

    Returns
    -------
    geopandas.GeoDataFrame
        Exactly what :func:`coterminus.data.readers.read_boundaries` returns (``attrs`` included).

    Warns
    -----
    CacheWarning
        An entry was unreadable or described another source (deleted and rebuilt), or the
        cache folder cannot be written (loading goes on without it; once per folder).

    Notes
    -----
    Key = SHA-256(source) · layer · level · repair · :data:`CACHE_FORMAT`
    (:func:`entry_key`). The SHA-256 is memoised by (path, size, mtime_ns)
    (:func:`coterminus.data.integrity.file_sha256`), so it is computed once per process. An entry
    is used only when its sidecar repeats the same key fields and row count.
    """
    path = Path(path)
    if not use_cache:
        return read_boundaries(path, layer=layer, level=level, code_col=code_col, repair=repair)
    sha = file_sha256(path)
    expected = {
        "format": CACHE_FORMAT,
        "source_sha256": sha,
        "layer": layer,
        "level": code_col or level,
        "repair": bool(repair),
    }
    key = entry_key(sha, layer, str(code_col or level or "auto"), repair)
    return cached_layer(
        key,
        expected,
        lambda: read_boundaries(path, layer=layer, level=level, code_col=code_col, repair=repair),
        what=path.name,
    )


#: Same name and signature as the function it replaces in :mod:`coterminus.geography`.
_cached_boundaries = cached_boundaries
