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
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import CoterminusError
from . import catalog
from .locations import find
from .manifest import read_manifest

__all__ = [
    "DisplayPolygonsError",
    "available_vintages",
    "check_measurable",
    "is_display_grade",
    "is_embedded",
    "manifest_path",
    "resolution_note",
    "status",
    "verify",
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
    (log.debug if quiet else log.info)(
        "no data directory and no downloaded files for vintage %s: using the embedded dataset "
        "(%s; polygons %s)",
        manifest.vintage,
        path.parent,
        _record().get("resolution", "display grade"),
    )
    return read_manifest(path)
