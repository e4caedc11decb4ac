"""Read what a vintage manifest names: the block table, names and NHS codes, and polygons.

This is the data layer under :class:`coterminus.geography.bundle.Geography`: it turns a
:class:`~coterminus.data.manifest.Manifest` into plain tables and leaves the bundle to
:mod:`coterminus.geography`.

* :func:`read_blocks` — one row per building block (LSOA): its name, people, and the code of
  every level (from columns of the block lookup, or through another level's lookup, e.g. LTLA →
  combined authority); plus each level's names and NHS codes. Every file is checked against its
  recorded SHA-256 first (:func:`locate_source`); the files are read with pyarrow
  (:mod:`~coterminus.data.tables`, codes stay Arrow strings and integer codes, no Python object
  per cell) and checked against the manifest (:mod:`~coterminus.data.table_checks`: block codes
  of the declared vintage, one name per code, via keys, parents that nest, people for every
  block, the expected block universe). The result is kept in the cache as a *prepared* block
  table (Arrow IPC, :data:`PREPARED_FORMAT`) keyed by the SHA-256 of every file read and the
  manifest's columns, so the next load reads one small file instead of parsing and checking
  again.
* :func:`read_level_polygons` — a level's polygons from its boundary source (parsed once and
  cached as GeoParquet), or :func:`dissolve` of the block polygons when it has none.

Examples
--------
>>> from coterminus.data.embedded import manifest_path
>>> from coterminus.data.manifest import read_manifest
>>> blocks, names = read_blocks(read_manifest(manifest_path(2024)))  # the embedded copy
>>> len(blocks), int(blocks["population"].sum()), int(blocks["cauth"].notna().sum())
(33755, 56490108, 9447)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from .._version import __version__
from ..errors import DataDirError, LookupMismatchError, ManifestError, PopulationError
from . import catalog, embedded, locations
from ._parsed_cache import CACHE_FORMAT, Codec, cached_boundaries, cached_entry, cached_layer
from .cache import DOWNLOADS, cache_root
from .integrity import block_digest, file_sha256, verify_file, verify_unrecorded
from .manifest import LevelSpec, Manifest, Source
from .store import source_of
from .table_checks import (
    MAX_LEVELS,
    check_block_codes,
    check_parents,
    check_via_keys,
    one_per_code,
    population_values,
)
from .tables import factorize, read_columns
from .validate import check_unique_codes

__all__ = [
    "MAX_LEVELS",
    "PREPARED_FORMAT",
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

#: Bump when the prepared block table changes (columns, checks); old entries are never read.
PREPARED_FORMAT = 1

_STR = pd.Series([""], dtype=str).dtype  # what pandas makes of text: "str" (pandas 3) or object


def _check_integrity(path: Path, pinned: str | None, dataset: str | None) -> None:
    """Check a file against its recorded SHA-256 before it is read.

    The record is, by where the file is: ``files.json`` for the embedded dataset; the
    ``.source.json`` written beside a download (its SHA-256 when it was downloaded) for the
    download cache; the registry's or the manifest's pin for a data directory or any other file
    (a file nobody pinned is not checked).
    """
    if embedded.contains(path):
        embedded.verify_embedded(path)
        return
    downloads = cache_root() / DOWNLOADS
    try:
        in_downloads = path.resolve().is_relative_to(downloads.resolve())
    except OSError:  # pragma: no cover - resolve() fails only on a vanished folder
        in_downloads = False
    if in_downloads:
        fetch = f"coterminus data fetch {dataset} --force" if dataset else "coterminus data fetch"
        fix = (
            f"Download it again (`{fetch}`), or, if you edited it on purpose, pass "
            "trust_modified=True (CLI: --trust-modified); every output will then say that "
            "modified data was used."
        )
        recorded = (source_of(path) or {}).get("sha256")
        if isinstance(recorded, str) and recorded:
            verify_file(
                path,
                recorded,
                dataset=dataset,
                what="the one recorded when it was downloaded",
                fix=fix,
            )
        else:
            verify_unrecorded(path, fix=fix)
        return
    if pinned:
        verify_file(path, pinned, dataset=dataset)


def locate_source(
    source: Source, manifest: Manifest, data_dir: Path | None
) -> tuple[Path, str | None]:
    """Path (and layer) of a manifest source, checked against its recorded SHA-256.

    A ``dataset`` is located through the registry (data directory, then download cache); a
    ``file`` is looked for next to the manifest first, then in the data directory. Before the
    path is returned its bytes are checked: against ``files.json`` inside the embedded dataset,
    against the SHA-256 recorded at download in the download cache, else against the
    manifest's or the registry's pin.

    Raises
    ------
    DataDirError
        The file is in neither place (the message says where it looked and what to do).
    ModifiedFileError
        The file differs from its record (and modified files are not trusted).
    """
    if source.dataset:
        ds = catalog.get(source.dataset)
        layer: str | None
        if source.layer:
            path, layer = Path(locations.locate(source.dataset, data_dir=data_dir)), source.layer
        else:
            found, layer = locations.locate_layer(source.dataset, data_dir=data_dir)
            path = Path(found)
        _check_integrity(path, source.sha256 or ds.sha256, source.dataset)
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
            _check_integrity(p, source.sha256, None)
            return p, source.layer
    where = ", ".join(str(p) for p in tried)
    msg = (
        f"the manifest {manifest.path or manifest.vintage} names {source.describe()}, which is not "
        f"at {where}. Put the file there, or fix the path in the manifest (relative paths are "
        "looked for next to the manifest, then in the data directory)."
    )
    raise DataDirError(msg)


# --------------------------------------------------------------------------------------------
# the block table: read and checked once, then prepared (Arrow) in the cache
# --------------------------------------------------------------------------------------------
def _text(values: pa.Array | pa.ChunkedArray) -> Any:
    """An Arrow text column as the array pandas gives text (``str``; ``object`` on pandas 2)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if isinstance(_STR, pd.StringDtype):
        return pd.array(values, dtype=_STR)
    out = values.to_numpy(zero_copy_only=False)
    out[pd.isna(out)] = np.nan
    return out


def _combined(values: pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks()


def _name_rows(
    level: str, codes: pa.Array, table: pa.Table, spec: LevelSpec, where: str
) -> pa.Table:
    """Each distinct code of a level with its one name and NHS code (checked: one each), and
    the manifest's attributes of the level (the first row of each code; blank or missing
    values become the attribute's ``missing`` text)."""
    name, nhs = spec.name_column, spec.nhs_code_column
    units = codes
    if name:
        units, names = one_per_code(
            codes, _combined(table[name]), what="name", where=f"{where}.name_column {name!r}"
        )
    else:
        units = pc.unique(codes.drop_null())
        names = units
    if nhs:
        nhs_units, nhs_codes = one_per_code(
            codes, _combined(table[nhs]), what="NHS code", where=f"{where}.nhs_code_column {nhs!r}"
        )
        nhs_codes = nhs_codes.take(pc.index_in(units, value_set=nhs_units))
    else:
        nhs_codes = pa.nulls(len(units), pa.string())
    columns = {
        "level": pa.array([level] * len(units), pa.string()),
        "code": units,
        "name": names.cast(pa.string()),
        "nhs_code": nhs_codes.cast(pa.string()),
    }
    first = pc.index_in(units, value_set=codes)  # the first row of each unit
    for attr, a in spec.attributes.items():
        values = _combined(table[a.column]).cast(pa.string()).take(first)
        if a.missing is not None:
            blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(values), ""), True)
            values = pc.if_else(blank, a.missing, values)
        columns[f"attr:{attr}"] = values
    return pa.table(columns)


def _population(manifest: Manifest, path: Path) -> tuple[pa.Array, np.ndarray]:
    """Codes and people of the population file: exactly its ``code_column`` and ``column``."""
    spec = manifest.population
    table = read_columns(path, "population.source", [spec.code_column, spec.column], text=False)
    codes = _combined(table[spec.code_column])
    if not pa.types.is_string(codes.type):
        codes = codes.cast(pa.string())
    if codes.null_count:
        msg = (
            f"{path.name}: {codes.null_count} row(s) with no code in {spec.code_column!r} "
            "(population.code_column); every row needs the code of its block."
        )
        raise PopulationError(msg)
    check_unique_codes(
        codes.to_pandas(),
        path.name,
        "Each area must appear once in a population file; drop the repeated rows.",
    )
    values = population_values(_combined(table[spec.column]), codes, path.name, spec.column)
    return codes, values


def _check_universe(
    manifest: Manifest, codes: pa.Array, path: Path, pop: tuple[pa.Array, np.ndarray, Path]
) -> None:
    """Refuse a block lookup that is not the vintage's complete block universe."""
    b = manifest.block
    if b.expected_count is None and b.expected_sha256 is None:
        return
    count_ok = b.expected_count is None or len(codes) == b.expected_count
    digest_ok = b.expected_sha256 is None or block_digest(codes.to_pylist()) == b.expected_sha256
    if count_ok and digest_ok:
        return
    pop_codes, people, pop_path = pop
    prefix = str(codes[0].as_py())[:3] if len(codes) else ""
    absent = np.zeros(len(pop_codes), dtype=bool)
    if prefix:
        absent = np.asarray(
            pc.and_(
                pc.starts_with(pop_codes, prefix),
                pc.invert(pc.is_in(pop_codes, value_set=codes)),
            )
        )
    parts = [
        f"{len(codes):,} blocks instead of {b.expected_count:,}"
        if not count_ok
        else "the set of block codes differs"
    ]
    if absent.any():
        shown = pop_codes.filter(pa.array(absent)).to_pylist()[:5]
        parts.append(
            f"it lacks {int(absent.sum())} block(s) that {pop_path.name} has (e.g. {shown}), so "
            f"{int(people[absent].sum()):,} people would be left out"
        )
    msg = (
        f"{path.name} is not the complete {b.level} universe of vintage {manifest.vintage}: "
        + "; ".join(parts)
        + ". Use the complete ONS lookup (coterminus data verify checks the files)."
    )
    raise LookupMismatchError(msg)


def _prepare(manifest: Manifest, located: dict[str, Path]) -> tuple[pa.Table, pa.Table]:
    """Read and check the files of a vintage into the prepared block and names tables."""
    b = manifest.block
    path = located["blocks"]
    levels = list(manifest.levels.values())
    cols = [b.code_column] + ([b.name_column] if b.name_column else [])
    for s in levels:
        if s.via is None:
            cols += [c for c in _level_columns(s) if c not in cols]
    table = read_columns(path, "blocks.source", cols)
    codes = _combined(table[b.code_column])
    check_block_codes(codes, b.level, path.name, embedded.known_block_codes())
    columns: dict[str, pa.Array] = {}
    names: list[pa.Table] = []
    for s in levels:
        assert s.code_column is not None
        if s.via is None:
            unit = _combined(table[s.code_column])
            columns[s.name] = unit
            names.append(_name_rows(s.name, unit, table, s, f"levels.{s.name}"))
            continue
        assert s.key_column is not None
        lpath = located[f"{s.name}_lookup"]
        wanted = [s.key_column, *_level_columns(s)]
        lookup = read_columns(lpath, f"levels.{s.name}.source", wanted)
        keys = _combined(lookup[s.key_column])
        via_units = pc.unique(columns[s.via].drop_null())
        check_via_keys(
            keys, via_units, level=s.name, via=s.via, source=lpath.name, vintage=manifest.vintage
        )
        rows = pc.index_in(columns[s.via], options=pc.SetLookupOptions(keys, skip_nulls=True))
        lookup_codes = _combined(lookup[s.code_column])
        unit = lookup_codes.take(rows)
        columns[s.name] = unit
        rows_named = _name_rows(s.name, lookup_codes, lookup, s, f"levels.{s.name}")
        names.append(rows_named.filter(pc.is_in(rows_named["code"], value_set=unit.drop_null())))
    check_parents(columns, {s.name: s.parent for s in levels}, blocks=codes)
    pop_codes, people = _population(manifest, located["population"])
    _check_universe(manifest, codes, path, (pop_codes, people, located["population"]))
    where = pc.index_in(codes, value_set=pop_codes)
    if where.null_count:
        missing = codes.filter(where.is_null()).to_pylist()
        first = levels[0].name if levels else None
        affected = {}
        if first:
            lost = columns[first].filter(where.is_null()).to_pandas()
            affected = lost.value_counts().head(3).to_dict()
        msg = (
            f"{len(missing)} block(s) of the {manifest.vintage} lookup ({path.name}) have no "
            f"population in {located['population'].name} (e.g. {missing[:5]}; "
            f"{first or 'units'} most affected: {affected}). coterminus will not guess "
            "populations: use a population file covering every block."
        )
        raise LookupMismatchError(msg)
    population = people[np.asarray(where, dtype=np.int64)]
    block_names = _combined(table[b.name_column]) if b.name_column else codes
    blocks = pa.table(
        {
            "code": codes,
            "name": block_names,
            **columns,
            "population": pa.array(population, pa.int64()),
        }
    )
    return blocks, pa.concat_tables(names, promote_options="default")  # levels differ in attributes


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_file(pa.BufferReader(data)).read_all()


def _dump_tables(tables: tuple[pa.Table, pa.Table]) -> tuple[dict[str, bytes], dict[str, Any]]:
    blocks, names = tables
    return {"blocks.arrow": _ipc(blocks), "names.arrow": _ipc(names)}, {
        "rows": blocks.num_rows,
        "attrs": {},
    }


def _load_tables(blobs: dict[str, bytes], sidecar: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    blocks, names = _from_ipc(blobs["blocks.arrow"]), _from_ipc(blobs["names.arrow"])
    if blocks.num_rows != sidecar.get("rows"):
        msg = f"it holds {blocks.num_rows} rows but its sidecar says {sidecar.get('rows')}"
        raise ValueError(msg)
    return blocks, names


#: A prepared block table in the cache: the block table and the names table, Arrow IPC files.
PREPARED = Codec(("blocks.arrow", "names.arrow"), _dump_tables, _load_tables)


def _spec(manifest: Manifest) -> dict[str, Any]:
    """What of a manifest the block table depends on (JSON-native, so a sidecar repeats it)."""
    b, p = manifest.block, manifest.population
    spec = {
        "vintage": manifest.vintage,
        "block": [b.level, b.code_column, b.name_column, b.expected_count, b.expected_sha256],
        "population": [p.code_column, p.column],
        "levels": [
            [s.name, s.code_column, s.name_column, s.nhs_code_column, s.parent, s.via, s.key_column]
            + [[k, a.column, a.missing] for k, a in s.attributes.items()]
            for s in manifest.levels.values()
        ],
    }
    out: dict[str, Any] = json.loads(json.dumps(spec, default=str))
    return out


def _frames(
    manifest: Manifest, blocks: pa.Table, names: pa.Table
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The prepared tables as the block DataFrame and each level's names (one pass each)."""
    data: dict[str, Any] = {"name": _text(blocks["name"])}
    for level in manifest.levels:
        data[level] = _text(blocks[level])
    data["population"] = np.asarray(blocks["population"], dtype=np.int64)
    frame = pd.DataFrame(data, index=pd.Index(_text(blocks["code"]), name="lsoa"))
    frame.attrs = {"vintage": manifest.vintage, "block": manifest.block.level}
    out: dict[str, pd.DataFrame] = {}
    level_ids, level_names = factorize(names["level"])  # the rows of a level are contiguous
    starts = np.flatnonzero(np.r_[True, level_ids[1:] != level_ids[:-1]] if len(level_ids) else [])
    ends = [*starts[1:], len(level_ids)]
    spans = {
        str(level_names[int(level_ids[a])]): (int(a), int(z))
        for a, z in zip(starts, ends, strict=True)
    }
    for s in manifest.levels.values():
        a, z = spans.get(s.name, (0, 0))
        part = names.slice(a, z - a)
        cols: dict[str, Any] = {"name": _text(part["name"])}
        if s.nhs_code_column:
            cols["nhs_code"] = _text(part["nhs_code"])
        for attr in s.attributes:  # the manifest's attributes of each unit
            cols[attr] = _text(part[f"attr:{attr}"])
        out[s.name] = pd.DataFrame(cols, index=pd.Index(_text(part["code"]), name="code"))
    return frame, out


def _located_tables(manifest: Manifest, data_dir: Path | None) -> dict[str, Path]:
    """Every file the block table is read from, located and checked: blocks, lookups, people."""
    path, _ = locate_source(manifest.block.source, manifest, data_dir)
    found = {"blocks": path}
    for s in manifest.levels.values():
        if s.via is not None:
            assert s.source is not None
            found[f"{s.name}_lookup"], _ = locate_source(s.source, manifest, data_dir)
    found["population"], _ = locate_source(manifest.population.source, manifest, data_dir)
    return found


def _level_columns(spec: LevelSpec) -> list[str]:
    """Columns of a level's source table: code, name, NHS code and attribute columns."""
    cols = [spec.code_column, spec.name_column, spec.nhs_code_column]
    cols += [a.column for a in spec.attributes.values()]
    return [c for c in dict.fromkeys(cols) if c]


def read_blocks(
    manifest: Manifest,
    data_dir: Path | None = None,
    *,
    sources: dict[str, str] | None = None,
    cache: bool = True,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The block table of a vintage and each level's names.

    Parameters
    ----------
    manifest : Manifest
    data_dir : Path, optional
        Data directory (default: ``$COTERMINUS_DATA_DIR``, then the download cache).
    sources : dict, optional
        Filled with the file behind each part (for provenance).
    cache : bool, default True
        Read (and write) the prepared block table in the cache; ``False`` reads and checks
        the files every time and writes nothing.

    Returns
    -------
    blocks : pandas.DataFrame
        Index: block code (named ``lsoa``); columns ``name``, one per level (the unit's code;
        missing where a level does not cover the block, e.g. outside every combined authority)
        and ``population`` (int64).
    names : dict of str to DataFrame
        Per level, indexed by code: ``name`` and (where the manifest names one) ``nhs_code``.

    Raises
    ------
    ColumnError, DataDirError, LookupMismatchError, PopulationError, ManifestError,
    VintageMismatchError, ModifiedFileError

    Notes
    -----
    The prepared table's key is the SHA-256 of the manifest's columns, :data:`PREPARED_FORMAT`,
    the coterminus version and the SHA-256 of every file read (each file is hashed once per
    process, :func:`~coterminus.data.integrity.file_sha256`). The entry itself is checked
    against the SHA-256 recorded when it was written before it is used.
    """
    sources = {} if sources is None else sources
    if len(manifest.levels) > MAX_LEVELS:
        msg = (
            f"manifest {manifest.path or manifest.vintage} declares {len(manifest.levels):,} "
            f"levels; coterminus reads at most {MAX_LEVELS} (a vintage has 4 to 7). Split it "
            "into several manifests."
        )
        raise ManifestError(msg)
    located = _located_tables(manifest, locations.resolve_data_dir(data_dir))
    for part, path in located.items():
        sources[part] = str(path)

    def build() -> tuple[pa.Table, pa.Table]:
        return _prepare(manifest, located)

    if not cache:
        return _frames(manifest, *build())
    expected = {
        "format": CACHE_FORMAT,
        "prepared": PREPARED_FORMAT,
        "coterminus": __version__,
        "manifest": _spec(manifest),
        "sources_sha256": {part: file_sha256(path) for part, path in located.items()},
    }
    text = json.dumps(expected, sort_keys=True, separators=(",", ":"))
    key = f"blocks-{hashlib.sha256(text.encode()).hexdigest()[:40]}-v{CACHE_FORMAT}"
    tables = cached_entry(
        key, expected, build, what=f"the block table of {manifest.vintage}", codec=PREPARED
    )
    return _frames(manifest, *tables)


def parquet_resolution(path: Path) -> str | None:
    """The ``coterminus:resolution`` label a GeoParquet file records (embedded dataset), if any."""
    if path.suffix.lower() not in (".parquet", ".geoparquet"):
        return None
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"coterminus:resolution")
    return raw.decode() if raw else None


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
        cols += [c for c in (s.code_column, s.name_column, s.nhs_code_column) if c]
    table = read_columns(path, "blocks.source", cols)
    data = {s.name: _text(table[s.code_column]) for s in direct if s.code_column}
    codes = pd.DataFrame(data, index=pd.Index(_text(table[b.code_column]), name="lsoa"))
    names: dict[str, pd.DataFrame] = {}
    for s in direct:
        assert s.code_column is not None
        frame = table.select([c for c in (s.code_column, s.name_column, s.nhs_code_column) if c])
        t = frame.to_pandas().dropna(subset=[s.code_column]).drop_duplicates(s.code_column)
        t = t.set_index(s.code_column).rename(
            columns={s.name_column: "name", s.nhs_code_column: "nhs_code"}
        )
        if "name" not in t.columns:
            t.insert(0, "name", t.index.to_numpy())
        t.index.name = "code"
        names[s.name] = t
    return codes, names


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
