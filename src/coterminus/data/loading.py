"""Read what a vintage manifest names: the block table, names and NHS codes, and polygons.

This is the data layer under :class:`coterminus.geography.bundle.Geography`: it turns a
:class:`~coterminus.data.manifest.Manifest` into plain tables and leaves the bundle to
:mod:`coterminus.geography`.

* :func:`read_blocks` — one row per building block (LSOA): its name, people, and the code of
  every level (from columns of the block lookup, or through another level's lookup, e.g. LTLA →
  combined authority); plus each level's names and NHS codes. Every block must have people; the
  block universe is checked against the manifest's expected count and digest.
* :func:`read_level_polygons` — a level's polygons from its boundary source (parsed once and
  cached as GeoParquet), or :func:`dissolve` of the block polygons when it has none.

Examples
--------
>>> from coterminus.data.manifest import read_manifest
>>> blocks, names = read_blocks(read_manifest(2024))
>>> len(blocks), int(blocks["population"].sum()), int(blocks["cauth"].notna().sum())
(33755, 56490108, 9447)
"""

from __future__ import annotations

import difflib
import hashlib
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import shapely

from ..errors import ColumnError, DataDirError, LookupMismatchError, ManifestError
from . import catalog, locations
from ._parsed_cache import CACHE_FORMAT, cached_boundaries, cached_layer
from .cache import cache_root
from .integrity import block_digest, verify_file
from .manifest import AttributeSpec, LevelSpec, Manifest, Source
from .readers import text_bytes, text_encoding
from .validate import check_population_values, check_unique_codes

__all__ = [
    "block_digest",
    "check_layer_codes",
    "dissolve",
    "locate_source",
    "read_blocks",
    "read_level_codes",
    "read_level_polygons",
    "read_polygons",
]

log = logging.getLogger(__name__)


def locate_source(
    source: Source, manifest: Manifest, data_dir: Path | None
) -> tuple[Path, str | None]:
    """Path (and layer) of a manifest source.

    A ``dataset`` is located through the registry (data directory, then download cache); a
    ``file`` is looked for next to the manifest first, then in the data directory.

    Raises
    ------
    DataDirError
        The file is in neither place (the message says where it looked and what to do).
    """
    if source.dataset:
        ds = catalog.get(source.dataset)
        layer: str | None
        if source.layer:
            path, layer = Path(locations.locate(source.dataset, data_dir=data_dir)), source.layer
        else:
            found, layer = locations.locate_layer(source.dataset, data_dir=data_dir)
            path = Path(found)
        pinned = source.sha256 or ds.sha256
        if pinned and not str(path).startswith(str(cache_root())):
            verify_file(path, pinned, dataset=source.dataset)
        return path, layer
    assert source.file is not None
    rel = Path(source.file).expanduser()
    tried: list[Path] = []
    if rel.is_absolute():
        tried.append(rel)
    else:
        if manifest.folder is not None:
            tried.append(manifest.folder / rel)
        if data_dir is not None:
            tried.append(Path(data_dir) / rel)
        tried.append(Path.cwd() / rel)
    for p in tried:
        if p.is_file():
            if source.sha256:
                verify_file(p, source.sha256)
            return p, source.layer
    where = ", ".join(str(p) for p in tried)
    msg = (
        f"the manifest {manifest.path or manifest.vintage} names {source.describe()}, which is not "
        f"at {where}. Put the file there, or fix the path in the manifest (relative paths are "
        "looked for next to the manifest, then in the data directory)."
    )
    raise DataDirError(msg)


def _require_columns(header: list[str], columns: list[str], where: str, path: Path) -> None:
    """Refuse a table lacking manifest columns, naming the nearest column for each."""
    missing = [c for c in columns if c not in header]
    if missing:
        parts = []
        for c in missing:
            close = difflib.get_close_matches(c, header, n=1, cutoff=0.5)
            parts.append(f"{c!r}" + (f" (nearest: {close[0]!r})" if close else ""))
        msg = (
            f"{where}: {path.name} has no column {', '.join(parts)}; its columns are {header}. "
            "Fix the column names in the manifest."
        )
        raise ColumnError(msg)


def _read_csv(path: Path, where: str, columns: list[str]) -> pd.DataFrame:
    """Read the named columns of a CSV as text; a missing column names the nearest one."""
    raw = text_bytes(path)
    encoding = text_encoding(raw, path.name)
    if encoding == "cp1252":
        log.warning("%s is not UTF-8; read as Windows-1252 (cp1252)", path)
    header = pd.read_csv(io.BytesIO(raw), nrows=0, encoding=encoding).columns.tolist()
    _require_columns(header, columns, where, path)
    return pd.read_csv(
        io.BytesIO(raw),
        usecols=columns,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        encoding=encoding,
    )


def _read_parquet_columns(path: Path, where: str, columns: list[str]) -> pd.DataFrame:
    """Read the named columns of a Parquet table as text (the embedded dataset's block table)."""
    header = pq.read_schema(path).names
    _require_columns(header, columns, where, path)
    table = pq.read_table(path, columns=list(dict.fromkeys(columns)))
    return pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=str) for c in dict.fromkeys(columns)}
    )


def _read_columns(path: Path, where: str, columns: list[str]) -> pd.DataFrame:
    """The named columns of a block or lookup table (CSV, or Parquet by its suffix) as text."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet_columns(path, where, columns)
    return _read_csv(path, where, columns)


def _read_block_population(path: Path, code_column: str, column: str) -> pd.Series:
    """Block populations from the manifest's columns of a CSV or Parquet table, exactly.

    A column missing from the file (a typo in ``population.column`` or ``code_column``) is
    refused naming the nearest column; no other column is guessed."""
    t = _read_columns(path, "population.source", [code_column, column])
    codes = t[code_column].astype(str)
    values = check_population_values(t[column].astype(str), codes, path.name, column)
    out = pd.Series(values, index=pd.Index(codes.to_numpy(), name="code"), name="population")
    out.attrs = {"source": str(path)}
    return out


def parquet_resolution(path: Path) -> str | None:
    """The ``coterminus:resolution`` label a GeoParquet file records (embedded dataset), if any."""
    if path.suffix.lower() not in (".parquet", ".geoparquet"):
        return None
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"coterminus:resolution")
    return raw.decode() if raw else None


def _name_table(
    frame: pd.DataFrame,
    code: str,
    name: str | None,
    nhs: str | None,
    attributes: Mapping[str, AttributeSpec] | None = None,
) -> pd.DataFrame:
    cols = [code] + [c for c in (name, nhs) if c]
    t = frame[cols].dropna(subset=[code]).drop_duplicates(code).set_index(code)
    t = t.rename(columns={name: "name", nhs: "nhs_code"} if name else {nhs: "nhs_code"})
    if "name" not in t.columns:
        t.insert(0, "name", t.index.to_numpy())
    for attr, spec in (attributes or {}).items():  # the manifest's attributes of each unit
        values = frame.dropna(subset=[code]).drop_duplicates(code).set_index(code)[spec.column]
        values = values.reindex(t.index).astype(object)
        if spec.missing is not None:
            values = values.where(
                values.notna() & (values.astype(str).str.strip() != ""), spec.missing
            )
        t[attr] = values.to_numpy()
    t.index = t.index.astype(str)
    t.index.name = "code"
    return t


def _level_columns(spec: LevelSpec) -> list[str]:
    """Columns of a level's source table: code, name, NHS code and attribute columns."""
    cols = [spec.code_column, spec.name_column, spec.nhs_code_column]
    cols += [a.column for a in spec.attributes.values()]
    return [c for c in dict.fromkeys(cols) if c]


def read_blocks(
    manifest: Manifest, data_dir: Path | None = None, *, sources: dict[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The block table of a vintage and each level's names.

    Parameters
    ----------
    manifest : Manifest
    data_dir : Path, optional
        Data directory (default: ``$COTERMINUS_DATA_DIR``, then the download cache).
    sources : dict, optional
        Filled with the file behind each part (for provenance).

    Returns
    -------
    blocks : pandas.DataFrame
        Index: block code (named after the block level, e.g. ``lsoa``); columns ``name``, one
        per level (the unit's code; missing where a level does not cover the block, e.g. outside
        every combined authority) and ``population`` (int64).
    names : dict of str to DataFrame
        Per level, indexed by code: ``name`` and (where the manifest names one) ``nhs_code``.

    Raises
    ------
    ColumnError, DataDirError, LookupMismatchError, PopulationError, ManifestError
    """
    sources = {} if sources is None else sources
    dd = locations.resolve_data_dir(data_dir)
    b = manifest.block
    path, _ = locate_source(b.source, manifest, dd)
    sources["blocks"] = str(path)
    direct = [s for s in manifest.levels.values() if s.via is None]
    cols = [b.code_column] + ([b.name_column] if b.name_column else [])
    for s in direct:
        cols += [c for c in _level_columns(s) if c not in cols]
    table = _read_columns(path, "blocks.source", cols)
    codes = table[b.code_column]
    if codes.isna().any():
        msg = f"{path.name}: {int(codes.isna().sum())} row(s) with no {b.code_column}; the lookup is incomplete."
        raise LookupMismatchError(msg)
    check_unique_codes(
        codes, path.name, "A block lookup lists each block once.", error=LookupMismatchError
    )
    blocks = pd.DataFrame(index=pd.Index(codes.to_numpy(), name="lsoa"))
    blocks["name"] = table[b.name_column].to_numpy() if b.name_column else blocks.index.to_numpy()
    names: dict[str, pd.DataFrame] = {}
    for s in manifest.levels.values():
        if s.via is None:
            assert s.code_column is not None
            blocks[s.name] = table[s.code_column].to_numpy()
            names[s.name] = _name_table(
                table, s.code_column, s.name_column, s.nhs_code_column, s.attributes
            )
            continue
        assert s.source is not None
        assert s.key_column is not None
        assert s.code_column is not None
        lpath, _ = locate_source(s.source, manifest, dd)
        sources[f"{s.name}_lookup"] = str(lpath)
        lcols = [s.key_column, *_level_columns(s)]
        lu = _read_columns(lpath, f"levels.{s.name}.source", list(dict.fromkeys(lcols)))
        keyed = (
            lu.dropna(subset=[s.key_column]).drop_duplicates(s.key_column).set_index(s.key_column)
        )
        blocks[s.name] = blocks[s.via].map(keyed[s.code_column]).to_numpy()
        names[s.name] = _name_table(
            lu, s.code_column, s.name_column, s.nhs_code_column, s.attributes
        )
    for s in manifest.levels.values():  # only codes that occur
        names[s.name] = names[s.name].loc[names[s.name].index.isin(blocks[s.name].dropna())]
    ppath, _ = locate_source(manifest.population.source, manifest, dd)
    sources["population"] = str(ppath)
    pop = _read_block_population(ppath, manifest.population.code_column, manifest.population.column)
    _check_universe(manifest, blocks.index, path, pop)
    missing = blocks.index.difference(pop.index)
    if len(missing):
        first = next(iter(names), None)
        affected = blocks.loc[missing, first].value_counts().head(3).to_dict() if first else {}
        msg = (
            f"{len(missing)} block(s) of the {manifest.vintage} lookup ({path.name}) have no "
            f"population in {ppath.name} (e.g. {list(missing[:5])}; {first or 'units'} most "
            f"affected: {affected}). coterminus will not guess populations: use a population "
            "file covering every block."
        )
        raise LookupMismatchError(msg)
    blocks["population"] = pop.reindex(blocks.index).to_numpy()
    blocks.attrs = {"vintage": manifest.vintage, "block": b.level}
    return blocks, names


def read_level_codes(
    manifest: Manifest, data_dir: Path | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Only the codes of a vintage: block → unit code per directly listed level, and names.

    A light read (no population, no checks) for messages that look a code up in another
    vintage.
    """
    dd = locations.resolve_data_dir(data_dir)
    b = manifest.block
    path, _ = locate_source(b.source, manifest, dd)
    direct = [s for s in manifest.levels.values() if s.via is None]
    cols = [b.code_column]
    for s in direct:
        cols += [
            c for c in (s.code_column, s.name_column, s.nhs_code_column) if c and c not in cols
        ]
    table = _read_columns(path, "blocks.source", cols)
    codes = pd.DataFrame(index=pd.Index(table[b.code_column].to_numpy(), name="lsoa"))
    names = {}
    for s in direct:
        assert s.code_column is not None
        codes[s.name] = table[s.code_column].to_numpy()
        names[s.name] = _name_table(table, s.code_column, s.name_column, s.nhs_code_column)
    return codes, names


def _check_universe(manifest: Manifest, codes: pd.Index, path: Path, pop: pd.Series) -> None:
    """Refuse a block lookup that is not the vintage's complete block universe."""
    b = manifest.block
    if b.expected_count is None and b.expected_sha256 is None:
        return
    count_ok = b.expected_count is None or len(codes) == b.expected_count
    digest_ok = b.expected_sha256 is None or block_digest(codes) == b.expected_sha256
    if count_ok and digest_ok:
        return
    prefix = str(codes[0])[:3] if len(codes) else ""
    absent = (
        pop.index[pop.index.str.startswith(prefix)].difference(codes) if prefix else pd.Index([])
    )
    parts = [
        f"{len(codes):,} blocks instead of {b.expected_count:,}"
        if not count_ok
        else "the set of block codes differs"
    ]
    if len(absent):
        parts.append(
            f"it lacks {len(absent)} block(s) that {Path(str(pop.attrs.get('source', 'the population file'))).name} "
            f"has (e.g. {list(absent[:5])}), so {int(pop.reindex(absent).sum()):,} people would be left out"
        )
    msg = (
        f"{path.name} is not the complete {b.level} universe of vintage {manifest.vintage}: "
        + "; ".join(parts)
        + ". Use the complete ONS lookup (coterminus data verify checks the files)."
    )
    raise LookupMismatchError(msg)


# --------------------------------------------------------------------------------------------
# polygons
# --------------------------------------------------------------------------------------------
def read_polygons(
    path: Path, layer: str | None, code_column: str | None, *, repair: bool, use_cache: bool
) -> gpd.GeoDataFrame:
    """A boundary layer indexed by code (EPSG:27700), through the parsed-layer cache.

    GeoParquet files are read directly (they are what the cache would store)."""
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        use_cache = False
    return cached_boundaries(
        path, layer, None, code_col=code_column, repair=repair, use_cache=use_cache
    )


def dissolve(block_polygons: gpd.GeoDataFrame, assignment: pd.Series) -> gpd.GeoDataFrame:
    """Union the block polygons of each unit (``assignment``: block code → unit code).

    Blocks without a unit (NaN) are left out. Returns a GeoDataFrame indexed by unit code with
    one MultiPolygon each.

    Examples
    --------
    >>> import shapely
    >>> blocks = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
    ...                           index=["b1", "b2"], crs=27700)
    >>> out = dissolve(blocks, pd.Series({"b1": "U", "b2": "U"}))
    >>> float(out.area["U"])
    2.0
    """
    a = assignment.reindex(block_polygons.index).dropna()
    geoms = block_polygons.geometry.reindex(a.index).to_numpy()
    codes = sorted(a.unique())
    parts = []
    for c in codes:
        g = shapely.union_all(geoms[(a == c).to_numpy()])
        parts.append(
            g
            if g.geom_type == "MultiPolygon"
            else shapely.MultiPolygon(
                [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
            )
        )
    out = gpd.GeoDataFrame(
        geometry=parts, index=pd.Index([str(c) for c in codes], name="code"), crs=block_polygons.crs
    )
    return out


def read_level_polygons(
    manifest: Manifest,
    level: str,
    kind: str,
    data_dir: Path | None,
    *,
    block_polygons: Any,
    assignment: pd.Series,
    use_cache: bool = True,
) -> tuple[gpd.GeoDataFrame, str, str]:
    """Polygons of a level: from its ``kind`` boundary source (falling back to the first one),
    else dissolved from block polygons.

    Returns
    -------
    (layer, source, resolution)
        ``source`` says which file (``path#layer``) or "dissolved from ..."; ``resolution`` is
        the registry's resolution label where known.
    """
    spec = manifest.levels[level]
    order = (
        [kind] + [k for k in spec.boundaries if k != kind]
        if kind in spec.boundaries
        else list(spec.boundaries)
    )
    failure: DataDirError | None = None
    for k in order:
        chosen = spec.boundaries[k]
        try:
            path, layer = locate_source(chosen, manifest, data_dir)
        except DataDirError as exc:  # e.g. an ONS layer not downloaded: fall back to the next kind
            log.info("%s polygons of %s not available (%s); trying the next kind", k, level, exc)
            failure = failure or exc
            continue
        gdf = read_polygons(path, layer, chosen.code_column, repair=False, use_cache=use_cache)
        resolution = parquet_resolution(path) or "unknown"
        if chosen.dataset:
            resolution = catalog.get(chosen.dataset).resolution or "unknown"
        return gdf, f"{path}" + (f"#{layer}" if layer else ""), resolution
    if failure is not None and block_polygons is None:
        raise failure
    if block_polygons is None:
        msg = (
            f"level {level!r} has no boundaries in the manifest and the vintage has no block "
            "polygons to dissolve; add boundaries to the manifest ([levels."
            f'{level}] boundaries = {{ file = "..." }}) or [blocks] boundaries.'
        )
        raise ManifestError(msg)
    bp: gpd.GeoDataFrame = block_polygons()
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(assignment.fillna(""), index=True).to_numpy().tobytes()
    ).hexdigest()[:20]
    if not use_cache:
        return (
            dissolve(bp, assignment),
            f"dissolved from {manifest.block.level} polygons",
            "dissolved from blocks",
        )
    key = f"dissolved-{level}-{digest}-v{CACHE_FORMAT}"
    gdf = cached_layer(
        key,
        {"format": CACHE_FORMAT, "dissolved": digest, "level": level},
        lambda: dissolve(bp, assignment),
        what=f"{level} dissolved from {manifest.block.level}",
    )
    return gdf, f"dissolved from {manifest.block.level} polygons", "dissolved from blocks"


def check_layer_codes(layer: gpd.GeoDataFrame, codes: pd.Index, level: str, source: str) -> None:
    """Refuse a polygon layer whose codes are not exactly the level's codes in the lookup."""
    in_lookup, in_layer = set(codes), set(layer.index)
    if in_lookup != in_layer:
        only_lookup = sorted(in_lookup - in_layer)
        only_layer = sorted(in_layer - in_lookup)
        msg = (
            f"{level} polygons ({source}) and the block lookup disagree: {len(only_lookup)} code(s) "
            f"only in the lookup {only_lookup[:5]}, {len(only_layer)} only in the polygons "
            f"{only_layer[:5]}. They are probably of different vintages; use matching files."
        )
        raise LookupMismatchError(msg)
