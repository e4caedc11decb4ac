"""The embedded default dataset: every built-in vintage, compact, inside the package.

``coterminus/_embedded/`` holds, for each built-in vintage, a derived copy of what the population
measure and the display need: the block table (each block's code, name, people and the code,
name and NHS code of every level), display-grade polygons of every level and of the blocks, and
a manifest pointing at them (``_embedded/<vintage>/manifest.toml``). It is built from the ONS
files by ``scripts/build_embedded.py`` (reproducible byte for byte), and every file is listed
with its sha256 in ``_embedded/files.json`` and ``_embedded/SHA256SUMS``.

:func:`coterminus.load` uses it when there is no data directory (no ``data_dir``, no
``COTERMINUS_DATA_DIR``) and the vintage's files are not in the download cache, so the package
answers offline straight after ``pip install``. Populations, lookups and names are the full
ONS figures; only the polygons are simplified (their :meth:`~coterminus.Geography.resolution`
says ``"display (simplified N m)"``), and the area measure refuses them
(:class:`DisplayPolygonsError`).

Examples
--------
>>> info = status()
>>> info["resolution"].startswith("display (simplified")
True
>>> info["total_bytes"] <= 20_000_000
True
>>> manifest_path(2019).name
'manifest.toml'
>>> is_display_grade("display (simplified 50 m)"), is_display_grade("BGC-derived")
(True, False)
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import CoterminusError, ModifiedFileError
from . import catalog
from .integrity import verify_file
from .locations import find
from .manifest import read_manifest

__all__ = [
    "DisplayPolygonsError",
    "available_vintages",
    "check_measurable",
    "contains",
    "is_display_grade",
    "is_embedded",
    "known_block_codes",
    "manifest_path",
    "pinned_sha256",
    "resolution_note",
    "status",
    "verify",
    "verify_embedded",
]

log = logging.getLogger(__name__)

_FOLDER = "_embedded"
_DISPLAY_PREFIX = "display"


class DisplayPolygonsError(CoterminusError, ValueError):
    """A computation that needs full-resolution polygons was given display-grade ones."""


def root() -> Path:
    """The folder of the embedded dataset inside the installed package."""
    return Path(str(resources.files(__package__ or "coterminus.data") / _FOLDER))


def _record() -> dict[str, Any]:
    path = root() / "files.json"
    if not path.is_file():
        return {"files": [], "total_bytes": 0, "resolution": "", "attribution": ""}
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def pinned_sha256(path: str | Path) -> str | None:
    """The SHA-256 ``files.json`` records for a file of the embedded dataset, else ``None``.

    Examples
    --------
    >>> pinned_sha256(manifest_path(2019)) == status()["files"][3]["sha256"]
    True
    >>> pinned_sha256("/etc/hostname") is None
    True
    """
    try:
        rel = Path(path).resolve().relative_to(root().resolve()).as_posix()
    except ValueError:
        return None
    for f in _record().get("files", []):
        if f.get("path") == rel:
            return str(f["sha256"])
    return None


def contains(path: str | Path) -> bool:
    """Whether ``path`` lies inside the embedded dataset's folder."""
    try:
        Path(path).resolve().relative_to(root().resolve())
    except ValueError:
        return False
    return True


def verify_embedded(path: str | Path) -> str:
    """Check a file of the embedded dataset against ``files.json`` before it is read.

    Returns the SHA-256 found. The hash is memoised by the file's ``stat``
    (:func:`coterminus.data.integrity.file_sha256`), so a second read in a process costs a
    ``stat``.

    Raises
    ------
    ModifiedFileError
        The file differs from the SHA-256 recorded when coterminus was built and modified files
        are not trusted (``--trust-modified`` accepts it, and every output then carries the
        MODIFIED DATA stamp); or it is not listed in ``files.json`` at all (always refused).

    Examples
    --------
    >>> len(verify_embedded(manifest_path(2024)))
    64
    """
    p = Path(path)
    fix = (
        "The copy of the data inside the installed coterminus package was changed: reinstall "
        "coterminus (`pip install --force-reinstall coterminus`), or use the ONS files instead "
        "(--data-dir, COTERMINUS_DATA_DIR or `coterminus data fetch`). If you edited it on "
        "purpose, pass trust_modified=True (CLI: --trust-modified); every output will then say "
        "that modified data was used."
    )
    pin = pinned_sha256(p)
    if pin is None:  # nothing vouches for a file the build did not write
        msg = (
            f"{p.name} is inside coterminus's embedded dataset ({p}) but files.json, which "
            "lists every file the build wrote, does not list it. " + fix.split(" If you")[0]
        )
        raise ModifiedFileError(msg)
    found = verify_file(
        p, pin, what="the one recorded in files.json when coterminus was built", fix=fix
    )
    assert found is not None
    return found


def available_vintages() -> list[int]:
    """Built-in vintages the embedded dataset covers.

    Examples
    --------
    >>> available_vintages()
    [2019, 2020, 2021, 2022, 2024, 2026]
    """
    base = root()
    if not base.is_dir():
        return []
    return sorted(
        int(p.name) for p in base.iterdir() if p.name.isdigit() and (p / "manifest.toml").is_file()
    )


def manifest_path(vintage: int | str) -> Path | None:
    """The embedded manifest of a built-in vintage, or ``None`` when it is not embedded."""
    try:
        year = int(vintage)
    except (TypeError, ValueError):
        return None
    path = root() / str(year) / "manifest.toml"
    return path if path.is_file() else None


def is_display_grade(resolution: str | None) -> bool:
    """Whether a resolution label (:meth:`Geography.resolution`) is display grade."""
    return bool(resolution) and f"{_DISPLAY_PREFIX} (" in str(resolution)


def is_embedded(geo: Any) -> bool:
    """Whether a geography was loaded from the embedded dataset (its manifest is one of ours)."""
    manifest = getattr(geo, "manifest", None)
    path = getattr(manifest, "path", None)
    if path is None:
        return False
    try:
        Path(path).resolve().relative_to(root().resolve())
    except ValueError:
        return False
    return True


def resolution_note(geo: Any) -> str | None:
    """One sentence for outputs when a geography's polygons are display grade, else ``None``.

    Population figures are unaffected (they come from the block lookups, not the polygons).
    """
    if not is_embedded(geo):
        return None
    label = _record().get("resolution") or "display grade"
    return (
        f"Boundaries: {label}, from the dataset embedded in coterminus; population figures "
        "are exact. For full-resolution boundaries use a data directory (--data-dir) or "
        f"`coterminus data fetch --vintage {geo.vintage}`."
    )


def check_measurable(geo: Any, *levels: str) -> None:
    """Refuse display-grade polygons for a measurement (the area measure).

    A level counts as display grade when its resolution says so, or when the geography comes
    from the embedded dataset (so a scenario dissolved from the embedded block polygons is
    refused too).

    Raises
    ------
    DisplayPolygonsError
        One of ``levels`` has display-grade polygons; the message says how to get full ones.
    """
    coarse = {lv: geo.resolution(lv) for lv in levels}
    embedded = is_embedded(geo)
    bad = {lv: r for lv, r in coarse.items() if embedded or is_display_grade(r)}
    if not bad:
        return
    shown = ", ".join(f"{lv}: {r}" for lv, r in bad.items())
    msg = (
        f"the area measure needs full-resolution polygons, but this geography uses the embedded "
        f"display-grade ones ({shown}), which are simplified for maps. Point coterminus at the "
        "ONS files: pass --data-dir (or set COTERMINUS_DATA_DIR) to a folder laid out like "
        f"../shared/data, or download them with `coterminus data fetch --vintage {geo.vintage}`. "
        "The population measure (the default) is exact with the embedded data."
    )
    raise DisplayPolygonsError(msg)


def status() -> dict[str, Any]:
    """What is embedded: resolution, attribution, total size and each file's size and sha256.

    Returns
    -------
    dict
        ``root`` (folder), ``vintages``, ``resolution``, ``tolerance_m``, ``attribution``,
        ``total_bytes`` and ``files`` (``path``, ``bytes``, ``sha256``), as recorded at build time.
    """
    record = _record()
    return {
        "root": str(root()),
        "vintages": available_vintages(),
        "resolution": record.get("resolution", ""),
        "tolerance_m": record.get("tolerance_m"),
        "attribution": record.get("attribution", ""),
        "total_bytes": int(record.get("total_bytes", 0)),
        "files": list(record.get("files", [])),
    }


def verify() -> list[str]:
    """Files whose sha256 differs from ``files.json`` (or that are missing); empty when intact.

    Examples
    --------
    >>> verify()
    []
    """
    base = root()
    bad = []
    for f in _record().get("files", []):
        p = base / f["path"]
        if not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != f["sha256"]:
            bad.append(str(f["path"]))
    return bad


@lru_cache(maxsize=1)
def known_block_codes() -> dict[str, pa.Array]:
    """The codes of each block level the built-in vintages use, from the embedded dataset.

    The registry of known block codes behind the vintage check of a block lookup
    (:func:`coterminus.data.table_checks.check_block_codes`): an LSOA 2011 lookup declared as
    LSOA 2021 is named as such. Each file is checked against ``files.json`` first.

    Returns
    -------
    dict of str to pyarrow.Array
        Block level (``"lsoa11"``, ``"lsoa21"``) → its distinct codes; empty without the
        embedded dataset.

    Examples
    --------
    >>> {level: len(codes) for level, codes in known_block_codes().items()}
    {'lsoa11': 32844, 'lsoa21': 33755}
    """
    found: dict[str, list[pa.ChunkedArray]] = {}
    for year in available_vintages():
        path = manifest_path(year)
        assert path is not None
        verify_embedded(path)
        manifest = read_manifest(path)
        source = manifest.block.source.file
        if source is None:
            continue
        table_path = path.parent / source
        verify_embedded(table_path)
        table = pq.read_table(table_path, columns=[manifest.block.code_column])
        found.setdefault(manifest.block.level, []).append(table.column(0))
    return {
        level: pc.unique(pa.chunked_array([c for col in cols for c in col.chunks]))
        for level, cols in found.items()
    }


def fallback_manifest(manifest: Any, data_dir: Path | None, *, quiet: bool = False) -> Any | None:
    """The embedded manifest to use instead of a built-in one, or ``None``.

    Used when ``manifest`` is built in, there is no data directory, and its block lookup is not
    in the download cache (so the ONS files cannot be read). Logged at INFO (DEBUG if ``quiet``).
    """
    if data_dir is not None or not getattr(manifest, "builtin", False):
        return None
    path = manifest_path(manifest.vintage)
    if path is None:
        return None
    src = manifest.block.source
    if src.dataset:
        where, _ = find(catalog.get(src.dataset), None)
        if where != "missing":
            return None
    verify_embedded(path)
    (log.debug if quiet else log.info)(
        "no data directory and no downloaded files for vintage %s: using the embedded dataset "
        "(%s; polygons %s)",
        manifest.vintage,
        path.parent,
        _record().get("resolution", "display grade"),
    )
    return read_manifest(path)
