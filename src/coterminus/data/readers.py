"""Read ONS boundary, lookup and population files into tidy, code-indexed tables.

One reader per kind of file:

* :func:`read_boundaries` — zipped shapefile as ONS ships it, ``.shp``, GeoJSON (including ArcGIS
  FeatureServer output), GeoPackage, GeoParquet → GeoDataFrame indexed by ONS code, EPSG:27700.
* :func:`read_lookup` — LSOA→CCG→STP→LAD→UTLA, CCG→STP, LTLA→UTLA lookups (CSV or CSV.gz, any
  vintage's column names) → DataFrame with canonical column names (``ccg``, ``ccg_name``, ...).
* :func:`read_population` — LSOA mid-year estimates or published CCG/LAD/county totals →
  integer Series indexed by code.

Column detection is by pattern, case-insensitively: ``CCG19CD``, ``ccg20cd``, ``CTYUA19CD``,
``LTLA21CD``, ``ICB22CD``, ``SICBL22CD``/``LOC22CD``, ``LSOA11CD`` ... The two-digit year gives the
vintage (``CCG19CD`` → 2019) and the prefix gives the level (:data:`LEVEL_ALIASES`).
"""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import lzma
import re
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..errors import (
    ArchiveError,
    ColumnError,
    EmptyDataError,
    EncodingError,
    LayerError,
    NonEnglandWarning,
    RepairWarning,
    VintageMismatchError,
)
from ._repair import repair as repair_geometries
from .integrity import zip_members
from .validate import (
    BNG,
    check_coordinates,
    check_population_values,
    check_unique_codes,
    empty_geometry,
)

__all__ = [
    "BNG",
    "LEVEL_ALIASES",
    "CodeColumn",
    "detect_code_columns",
    "list_layers",
    "read_boundaries",
    "read_lookup",
    "read_population",
    "text_bytes",
    "text_encoding",
]

log = logging.getLogger(__name__)

#: ONS column prefixes → coterminus level names.
LEVEL_ALIASES: dict[str, str] = {
    "lsoa": "lsoa",
    "msoa": "msoa",
    "ccg": "ccg",
    "sicbl": "sicbl",
    "loc": "sicbl",
    "stp": "stp",
    "icb": "icb",
    "lad": "ltla",
    "ltla": "ltla",
    "utla": "utla",
    "ctyua": "utla",
    "cty": "cty",
    "nhser": "nhser",
    "cal": "cal",
    "rgn": "rgn",
}

# Code prefixes that each level's ONS codes start with (England).
_LEVEL_CODE_PREFIXES: dict[str, tuple[str, ...]] = {
    "lsoa": ("E01",),
    "ccg": ("E38",),
    "sicbl": ("E38",),
    "stp": ("E54",),
    "icb": ("E54",),
    "ltla": ("E06", "E07", "E08", "E09"),
    "utla": ("E06", "E08", "E09", "E10", "E11"),
    "cty": ("E10",),
}

_CODE_RE = re.compile(r"^(?P<prefix>[a-z]+?)(?P<yy>\d{2})(?P<suffix>cd|cdh|nm|nmw)$", re.IGNORECASE)
_BOUNDARY_SUFFIXES = (".shp", ".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".zip")
_POPULATION_COLUMNS = ("all_ages", "pop_all_ages_mid2019", "all ages", "population", "obs_value")


@dataclass(frozen=True)
class CodeColumn:
    """An ONS code column found in a table.

    Attributes
    ----------
    column : str
        Column name as written in the file (e.g. ``"ccg19cd"``).
    level : str
        Canonical level (``"ccg"``, ``"stp"``, ``"ltla"``, ``"utla"``, ``"lsoa"``, ...).
    vintage : int
        Four-digit year from the column name (``19`` → 2019).
    name_column, nhs_code_column : str or None
        The matching ``..NM`` and ``..CDH`` columns, when present.
    """

    column: str
    level: str
    vintage: int
    name_column: str | None = None
    nhs_code_column: str | None = None


def detect_code_columns(columns: Iterable[str]) -> list[CodeColumn]:
    """Find every ONS code column (``XXyyCD``) among ``columns``, in column order.

    Parameters
    ----------
    columns : iterable of str
        Column names, any case.

    Returns
    -------
    list of CodeColumn

    Examples
    --------
    >>> [c.column for c in detect_code_columns(["FID", "ccg19cd", "ccg19nm", "STP19CD"])]
    ['ccg19cd', 'STP19CD']
    >>> detect_code_columns(["CTYUA19CD", "CTYUA19NM"])[0].level
    'utla'
    """
    cols = list(columns)
    lower = {c.lower(): c for c in cols}
    found: list[CodeColumn] = []
    for c in cols:
        m = _CODE_RE.match(c)
        if not m or m.group("suffix").lower() != "cd":
            continue
        prefix = m.group("prefix").lower()
        if prefix not in LEVEL_ALIASES:
            continue
        yy = int(m.group("yy"))
        stem = f"{prefix}{m.group('yy')}"
        found.append(
            CodeColumn(
                column=c,
                level=LEVEL_ALIASES[prefix],
                vintage=2000 + yy,
                name_column=lower.get(f"{stem}nm"),
                nhs_code_column=lower.get(f"{stem}cdh"),
            )
        )
    return found


def _choose_code_column(
    df: pd.DataFrame, level: str | None, code_col: str | None, source: str
) -> CodeColumn:
    """Pick the primary code column: the one asked for, else the only unique one."""
    candidates = detect_code_columns(df.columns)
    if code_col is not None:
        for c in candidates:
            if c.column.lower() == code_col.lower():
                return c
        if code_col in df.columns:  # a non-ONS-style name the caller vouches for
            return CodeColumn(code_col, level or "unknown", 0)
        msg = f"{source}: no column {code_col!r}; columns seen: {list(df.columns)}"
        raise ColumnError(msg)
    if level is not None:
        wanted = LEVEL_ALIASES.get(level.lower(), level.lower())
        candidates = [c for c in candidates if c.level == wanted]
    if not candidates:
        what = f" for level {level!r}" if level else ""
        msg = (
            f"{source}: no recognisable ONS code column{what} (expected a name like CCG19CD, "
            f"lad20cd, CTYUA19CD); columns seen: {list(df.columns)}. "
            "Pass code_col='<column>' to say which column holds the codes."
        )
        raise ColumnError(msg)
    if len(candidates) == 1:
        return candidates[0]
    unique = [c for c in candidates if df[c.column].is_unique]
    if len(unique) == 1:
        return unique[0]
    pool = unique or candidates
    msg = (
        f"{source}: {len(pool)} candidate code columns {[c.column for c in pool]}; "
        f"pass code_col= (e.g. code_col={pool[0].column!r}) or level= to choose one."
    )
    raise ColumnError(msg)


# --------------------------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------------------------
def _resolve_zip(path: Path, member: str | None) -> str:
    names = zip_members(path)
    data = [n for n in names if n.lower().endswith((".shp", ".geojson", ".gpkg", ".json"))]
    data = [n for n in data if not n.lower().endswith(".shp.xml")]
    if member is not None:
        if member not in names:
            msg = f"{path}: no member {member!r}; members with boundaries: {data}"
            raise ArchiveError(msg)
        data = [member]
    if not data:
        msg = (
            f"{path}: the archive holds no .shp, .geojson or .gpkg file (members: {names[:10]}); "
            "it is not a boundary download. Download it again (coterminus data fetch) or pass "
            "the boundary file itself."
        )
        raise ArchiveError(msg)
    if len(data) > 1:
        msg = f"{path}: several boundary files in the archive {data}; pass member= to choose one."
        raise ArchiveError(msg)
    return f"/vsizip/{path.resolve()}/{data[0]}"


def list_layers(path: str | Path) -> list[str]:
    """Layer names in a GeoPackage (or any multi-layer OGR source).

    Examples
    --------
    >>> import os, pathlib
    >>> d = pathlib.Path(os.environ.get("COTERMINUS_DATA_DIR", "../shared/data"))
    >>> ("ccg" in list_layers(d / "boundaries/ons_2019.gpkg")) if d.exists() else True
    True
    """
    return [str(n) for n, _ in pyogrio.list_layers(str(path))]


def _read_frame(path: Path, layer: str | None, member: str | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        msg = f"{path} does not exist; check the path or the data directory (COTERMINUS_DATA_DIR)."
        raise FileNotFoundError(msg)
    if path.stat().st_size == 0:
        msg = f"{path} is an empty file (0 bytes); download it again."
        raise EmptyDataError(msg)
    if suffix in (".parquet", ".geoparquet"):
        return gpd.read_parquet(path)
    source = _resolve_zip(path, member) if suffix == ".zip" else str(path)
    try:
        layers = list_layers(source)
    except pyogrio.errors.DataSourceError as exc:
        msg = (
            f"{path}: GDAL cannot read this file ({exc}); it may be corrupt or not a boundary "
            "file. Download it again (coterminus data fetch) or check the path."
        )
        raise LayerError(msg) from exc
    if layer is None:
        if len(layers) > 1:
            msg = f"{path} has {len(layers)} layers {layers}; pass layer= to choose one."
            raise LayerError(msg)
    elif layer not in layers:
        msg = f"{path} has no layer {layer!r}; layers are {layers}."
        raise LayerError(msg)
    return gpd.read_file(source, layer=layer, engine="pyogrio")


def _to_bng(gdf: gpd.GeoDataFrame, crs: Any, source: str) -> gpd.GeoDataFrame:
    gdf = check_coordinates(gdf, source, assumed=crs)
    if gdf.crs.to_epsg() != BNG:
        log.info("reprojecting %s from %s to EPSG:27700", source, gdf.crs.to_string())
        gdf = gdf.to_crs(BNG)
    return gdf


def _filter_england(frame: pd.DataFrame, codes: pd.Series, source: str, england_only: bool) -> Any:
    if not england_only:
        return frame
    first = codes.astype(str).str[:1]
    # only codes of another nation (a GSS code not starting with E); a unit without an ONS code
    # (a strategic authority known by its statutory instrument, say) is kept
    other = (first != "E") & codes.astype(str).str.fullmatch(r"[A-Z]\d{8}")
    if other.any():
        counts = first[other].value_counts().sort_index()
        parts = ", ".join(f"{k}: {v}" for k, v in counts.items())
        msg = (
            f"{source}: dropped {int(other.sum())} non-England rows ({parts}); coterminus covers "
            "England. Pass england_only=False to keep them."
        )
        warnings.warn(msg, NonEnglandWarning, stacklevel=3)
        frame = frame.loc[~other.to_numpy()]
    return frame


def read_boundaries(
    path: str | Path,
    *,
    layer: str | None = None,
    member: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    level: str | None = None,
    code_col: str | None = None,
    england_only: bool = True,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read an ONS boundary file into a GeoDataFrame indexed by ONS code, in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        Zipped shapefile (as downloaded from ONS, nested folders allowed), ``.shp``,
        GeoJSON (including ArcGIS FeatureServer ``f=geojson``/``f=json`` output),
        GeoPackage or GeoParquet.
    layer : str, optional
        GeoPackage layer; required when the file has several (the error lists them).
    member : str, optional
        Which file inside a zip to read, when it holds several.
    crs : optional
        CRS to assume when the file has none (e.g. ``27700``). A file with no CRS is refused
        unless this is given.
    level : str, optional
        Which level's code column to use when several are present (``"ccg"``, ``"utla"``...).
    code_col : str, optional
        The code column, when detection by pattern is not enough.
    england_only : bool, default True
        Drop Welsh, Scottish and Northern Irish rows (with a :class:`NonEnglandWarning`).
    repair : bool, default False
        Make invalid geometries valid (:func:`coterminus.repair`) and record what changed
        in ``attrs["repairs"]``. Without it, invalid geometries are kept as published and a
        :class:`RepairWarning` names them.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``code``; columns ``name`` (and ``nhs_code`` where the file has one), the other
        attribute columns as in the file, and ``geometry``. ``attrs`` records ``level``,
        ``vintage``, ``source`` and ``code_column`` (and ``repairs``, a list of records, when
        ``repair=True``).

    Raises
    ------
    CRSError, ColumnError, DuplicateCodeError, EmptyDataError, LayerError, ArchiveError
        Fatal problems; empty geometries are fatal too (:class:`EmptyDataError`).

    Warns
    -----
    RepairWarning
        Invalid geometries kept as published (pass ``repair=True``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"LAD19CD": ["E06000001"], "LAD19NM": ["Hartlepool"]},
    ...                        geometry=[shapely.box(0, 0, 1000, 1000)], crs=27700)
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lad.gpkg"
    >>> gdf.to_file(p)
    >>> lad = read_boundaries(p)
    >>> lad.attrs["level"], lad.attrs["vintage"], lad.loc["E06000001", "name"]
    ('ltla', 2019, 'Hartlepool')
    >>> float(lad.area.iloc[0])
    1000000.0
    """
    path = Path(path)
    source = path.name + (f" (layer {layer!r})" if layer else "")
    frame = _read_frame(path, layer, member)
    if len(frame) == 0:
        msg = f"{source} has no features; the file is empty or the download was incomplete."
        raise EmptyDataError(msg)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        msg = f"{source} has no geometry; use read_lookup() for tables without polygons."
        raise LayerError(msg)
    cc = _choose_code_column(frame, level, code_col, source)
    frame = _filter_england(frame, frame[cc.column], source, england_only)
    if len(frame) == 0:
        msg = f"{source} has no England rows; pass england_only=False to read it."
        raise EmptyDataError(msg)
    check_unique_codes(
        frame[cc.column],
        source,
        "Each area must appear once; if the file splits areas into parts, dissolve them first "
        f"(gdf.dissolve({cc.column!r})).",
    )
    frame = _to_bng(frame, crs, source)
    rename = {cc.column: "code"}
    if cc.name_column:
        rename[cc.name_column] = "name"
    if cc.nhs_code_column:
        rename[cc.nhs_code_column] = "nhs_code"
    drop = [c for c in frame.columns if c.lower() in ("fid", "objectid", "fid_")]
    out = frame.drop(columns=drop).rename(columns=rename)
    if "name" not in out.columns:
        out["name"] = out["code"]
    out["code"] = out["code"].astype(str)
    out = out.set_index("code")
    front = ["name"] + (["nhs_code"] if "nhs_code" in out.columns else [])
    out = out[front + [c for c in out.columns if c not in front]]
    out.attrs = {
        "level": cc.level,
        "vintage": cc.vintage,
        "source": str(path),
        "layer": layer,
        "code_column": cc.column,
    }
    return _check_geometry(out, source, repair=repair)


def _check_geometry(gdf: gpd.GeoDataFrame, source: str, *, repair: bool) -> gpd.GeoDataFrame:
    """Refuse empty geometries; warn about (or repair, when asked) invalid ones."""
    geom = gdf.geometry.to_numpy()
    empty = empty_geometry(geom)
    if empty.any():
        codes = list(gdf.index[empty][:10])
        msg = (
            f"{source}: {int(empty.sum())} area(s) with no geometry, e.g. {codes}; the file is "
            "incomplete. Download it again or drop those rows before use."
        )
        raise EmptyDataError(msg)
    invalid = ~shapely.is_valid(geom)
    if not invalid.any():
        return gdf
    if repair:
        attrs = dict(gdf.attrs)
        fixed, changes = repair_geometries(gdf)
        fixed.attrs = {**attrs, "repairs": changes.to_dict(orient="records")}
        log.info(
            "%s: repaired %d invalid geometries: %s", source, len(changes), list(changes["code"])
        )
        return fixed
    reasons = shapely.is_valid_reason(geom[invalid])
    shown = "; ".join(f"{c}: {r}" for c, r in zip(gdf.index[invalid][:5], reasons[:5], strict=True))
    msg = (
        f"{source}: {int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'} kept "
        f"as published ({shown}). Areas and overlaps near them may be wrong; pass repair=True "
        "or run coterminus.repair(layer), and coterminus.doctor(layer) for details."
    )
    warnings.warn(msg, RepairWarning, stacklevel=3)
    return gdf


# --------------------------------------------------------------------------------------------
# lookups
# --------------------------------------------------------------------------------------------
def text_encoding(data: bytes, name: str) -> str:
    """The encoding of a text file: UTF-8 (with or without BOM), else Windows-1252; refuse the rest.

    UTF-8 is tried strictly first (a BOM gives ``"utf-8-sig"``); bytes that are not UTF-8 are read
    as Windows-1252 (cp1252, which agrees with Latin-1 on every printable character) when they
    decode; UTF-16/NUL bytes and bytes undefined in cp1252 raise :class:`EncodingError`. The one
    encoding check of every CSV coterminus reads (lookups, populations, manifest tables,
    scenarios).

    Examples
    --------
    >>> text_encoding("Ynys Môn".encode(), "a.csv"), text_encoding("Ynys Môn".encode("cp1252"), "a.csv")
    ('utf-8', 'cp1252')
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        msg = (
            f"{name} looks like UTF-16 (or binary) text, not a CSV in UTF-8: convert it from "
            "UTF-16 to UTF-8 (`iconv -f UTF-16 -t UTF-8 in.csv > out.csv`, or in Excel save "
            "as 'CSV UTF-8'), or check that it is a lookup or population CSV at all."
        )
        raise EncodingError(msg)
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:
        return encoding
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, utf8_error.start) + 1
        msg = (
            f"{name} is neither UTF-8 nor Windows-1252/Latin-1 text (byte "
            f"0x{data[exc.start]:02x} at offset {exc.start}; first non-UTF-8 byte on line "
            f"{line}). Find the encoding it was saved in (e.g. `file {name}`) and convert it "
            f"to UTF-8 (`iconv -f <encoding> -t UTF-8 {name}`, or in Excel save as 'CSV UTF-8')."
        )
        raise EncodingError(msg) from exc
    line = data.count(b"\n", 0, utf8_error.start) + 1
    log.info(
        "%s is not UTF-8 (byte 0x%02x on line %d); read it as Windows-1252",
        name,
        data[utf8_error.start],
        line,
    )
    return "cp1252"


#: Compressed text files read by suffix, as pandas would infer them.
_DECOMPRESS = {
    ".gz": ("gzip", gzip.decompress),
    ".bz2": ("bzip2", bz2.decompress),
    ".xz": ("xz", lzma.decompress),
}


def text_bytes(path: Path) -> bytes:
    """The bytes of a text file, decompressed when its name ends in ``.gz``, ``.bz2`` or ``.xz``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     p = Path(folder) / "t.csv.gz"
    ...     _ = p.write_bytes(gzip.compress(b"code\\nE1\\n"))
    ...     text_bytes(p)
    b'code\\nE1\\n'
    """
    raw = path.read_bytes()
    if path.suffix.lower() not in _DECOMPRESS:
        return raw
    kind, decompress = _DECOMPRESS[path.suffix.lower()]
    try:
        return decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        msg = (
            f"{path.name} is not a readable {kind} file ({exc}); it is corrupt or "
            "truncated. Download it again (coterminus data fetch)."
        )
        raise ArchiveError(msg) from exc


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        msg = f"{path} does not exist; check the path or the data directory (COTERMINUS_DATA_DIR)."
        raise FileNotFoundError(msg)
    raw = text_bytes(path)
    encoding = text_encoding(raw, path.name)
    try:
        df = pd.read_csv(
            io.BytesIO(raw), dtype=str, keep_default_na=False, na_values=[""], encoding=encoding
        )
    except pd.errors.EmptyDataError as exc:
        msg = f"{path.name} is empty; download it again."
        raise EmptyDataError(msg) from exc
    except pd.errors.ParserError as exc:
        msg = (
            f"{path.name} is not a well-formed CSV ({exc}); it may be truncated or not a CSV. "
            "Download it again (coterminus data fetch)."
        )
        raise ColumnError(msg) from exc
    if len(df) == 0:
        msg = f"{path.name} has a header but no rows; download it again."
        raise EmptyDataError(msg)
    df.attrs["encoding"] = encoding
    if encoding == "cp1252":
        df.attrs["encoding_note"] = (
            f"{path.name} is not UTF-8; it was read as Windows-1252 (cp1252/Latin-1). Names "
            "with accents are right if the file came from Excel on Windows; convert it to "
            "UTF-8 to silence this note."
        )
    return df


def _text_attrs(df: pd.DataFrame) -> dict[str, str]:
    """The encoding (and, for a fallback, the note) recorded by :func:`_read_table`."""
    return {k: df.attrs[k] for k in ("encoding", "encoding_note") if k in df.attrs}


def read_lookup(
    path: str | Path,
    *,
    england_only: bool = True,
) -> pd.DataFrame:
    """Read an ONS lookup (CSV or CSV.gz) with canonical column names.

    Every ``XXyyCD`` column becomes ``<level>`` (e.g. ``CCG19CD`` → ``ccg``, ``LAD19CD`` and
    ``LTLA19CD`` → ``ltla``, ``CTYUA19CD``/``UTLA19CD`` → ``utla``), its ``..NM`` column
    ``<level>_name`` and its ``..CDH`` column ``<level>_nhs``. The index is the finest level
    (the first code column, e.g. ``lsoa`` or ``ccg``).

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.csv.gz``.
    england_only : bool, default True
        Drop rows whose finest code is not English (with a :class:`NonEnglandWarning`).

    Returns
    -------
    pandas.DataFrame
        ``attrs`` holds ``levels`` (in column order), ``vintage`` (of the non-LSOA columns) and
        ``source``.

    Raises
    ------
    ColumnError, DuplicateCodeError, EmptyDataError, VintageMismatchError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lu.csv"
    >>> _ = p.write_text("FID,CCG19CD,CCG19CDH,CCG19NM,STP19CD,STP19NM\\n"
    ...                  "1,E38000038,05A,NHS Coventry and Rugby CCG,E54000018,Coventry and Warwickshire\\n")
    >>> lu = read_lookup(p)
    >>> list(lu.columns), lu.attrs["vintage"]
    (['ccg_name', 'ccg_nhs', 'stp', 'stp_name'], 2019)
    >>> lu.loc["E38000038", "stp"]
    'E54000018'
    """
    path = Path(path)
    df = _read_table(path)
    cols = detect_code_columns(df.columns)
    if not cols:
        msg = (
            f"{path.name}: no ONS code columns (like LSOA11CD, CCG19CD, LTLA19CD) in "
            f"{list(df.columns)}; is this a lookup file? Pass an ONS lookup CSV, e.g. "
            "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv (coterminus data fetch)."
        )
        raise ColumnError(msg)
    levels = [c.level for c in cols]
    if len(set(levels)) != len(levels):
        dupes = sorted({lv for lv in levels if levels.count(lv) > 1})
        msg = (
            f"{path.name}: several code columns for level(s) {dupes} ({[c.column for c in cols]}); "
            "keep one code column per level (delete or rename the others)."
        )
        raise ColumnError(msg)
    vintages = {c.vintage for c in cols if c.level != "lsoa"}
    if len(vintages) > 1:
        msg = (
            f"{path.name} mixes vintages {sorted(vintages)} in "
            f"{[c.column for c in cols]}; use a lookup of a single vintage."
        )
        raise VintageMismatchError(msg)
    rename: dict[str, str] = {}
    for c in cols:
        rename[c.column] = c.level
        if c.name_column:
            rename[c.name_column] = f"{c.level}_name"
        if c.nhs_code_column:
            rename[c.nhs_code_column] = f"{c.level}_nhs"
    keep = list(rename)
    out = df[keep].rename(columns=rename)
    key = cols[0].level
    out = _filter_england(out, out[key], path.name, england_only)
    check_unique_codes(
        out[key], path.name, "A lookup must list each area once; drop the repeated rows."
    )
    missing = out[[c.level for c in cols]].isna().any(axis=1)
    if missing.any():
        msg = (
            f"{path.name}: {int(missing.sum())} row(s) with an empty code, e.g. "
            f"{out.loc[missing, key].head(5).tolist()}; the lookup is incomplete. Use the "
            "complete ONS lookup (coterminus data fetch) or fill in those codes."
        )
        raise ColumnError(msg)
    out = out.set_index(key)
    out.attrs = {
        "levels": levels,
        "vintage": vintages.pop() if vintages else cols[0].vintage,
        "source": str(path),
        **_text_attrs(df),
    }
    table: pd.DataFrame = out
    return table


# --------------------------------------------------------------------------------------------
# populations
# --------------------------------------------------------------------------------------------
def read_population(
    path: str | Path,
    *,
    geography: str | None = None,
    column: str | None = None,
    england_only: bool = True,
) -> pd.Series:
    """Read ONS population estimates into an integer Series indexed by code.

    Parameters
    ----------
    path : str or Path
        CSV/CSV.gz: LSOA mid-year estimates (``LSOA11CD``, ``POP_ALL_AGES_MID2019`` or
        ``ALL_AGES``), or published CCG/LAD/county totals (``CCG20CD``/``LAD20CD``/``CTYUA19CD``
        with ``ALL_AGES``), or the long format with a ``GEOGRAPHY`` column.
    geography : str, optional
        For long-format files, which ``GEOGRAPHY`` value to read (e.g. ``"CCG19"``).
    column : str, optional
        The population column, when it is not one of the usual names.
    england_only : bool, default True
        Drop non-England codes (with a :class:`NonEnglandWarning`).

    Returns
    -------
    pandas.Series
        Name ``population``, dtype int64, index ``code``; ``attrs`` holds ``level``,
        ``vintage`` and ``source``.

    Raises
    ------
    PopulationError
        Missing, non-numeric or negative values (the message lists the codes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = p.write_text("LSOA11CD,LSOA11NM,POP_ALL_AGES_MID2019\\nE01000001,City of London 001A,1636\\n")
    >>> pop = read_population(p)
    >>> int(pop["E01000001"]), pop.attrs["level"]
    (1636, 'lsoa')
    """
    path = Path(path)
    df = _read_table(path)
    lower = {c.lower(): c for c in df.columns}
    if "geography" in lower and "areacd" in lower:
        geo_col = lower["geography"]
        present = sorted(df[geo_col].unique())
        if geography is None:
            msg = f"{path.name} holds several geographies {present}; pass geography= to choose one."
            raise ColumnError(msg)
        if geography not in present:
            msg = f"{path.name}: no geography {geography!r}; present: {present}."
            raise ColumnError(msg)
        df = df[df[geo_col] == geography].rename(columns={lower["areacd"]: f"{geography}CD"})
        lower = {c.lower(): c for c in df.columns}
    cc = _choose_code_column(df, None, None, path.name)
    if column is None:
        found = [lower[c] for c in _POPULATION_COLUMNS if c in lower]
        if not found:
            msg = (
                f"{path.name}: no population column (looked for {list(_POPULATION_COLUMNS)}) in "
                f"{list(df.columns)[:12]}; pass column=."
            )
            raise ColumnError(msg)
        column = found[0]
    df = _filter_england(df, df[cc.column], path.name, england_only)
    codes = df[cc.column].astype(str)
    check_unique_codes(
        codes,
        path.name,
        "Each area must appear once in a population file; drop the repeated rows.",
    )
    raw = df[column]
    values = check_population_values(raw, codes, path.name, column)
    out = pd.Series(values, index=pd.Index(codes.to_numpy(), name="code"))
    out.name = "population"
    attrs: dict[str, object] = {"level": cc.level, "vintage": cc.vintage, "source": str(path)}
    attrs.update(_text_attrs(df))
    out.attrs = attrs  # type: ignore[assignment]
    return out
