"""Build the embedded default dataset shipped in ``src/coterminus/data/_embedded/``.

For every built-in vintage this loads the real ONS files (``--data-dir``, e.g. ``../shared/data``)
and writes a compact, derived copy that the population measure and the display need:

* ``<vintage>/blocks.parquet`` — one row per building block (LSOA), sorted by code: the block
  code and name, every level's code, name and NHS code (dictionary-encoded strings, under the
  column names of the vintage's own manifest) and ``population`` (int64);
* ``<vintage>/<level>.parquet`` — display-grade polygons of every level (GeoParquet), the union
  of the simplified block polygons of its blocks;
* ``blocks-<lsoa11|lsoa21>.parquet`` — the simplified block polygons, shared by the vintages
  built on them;
* ``<vintage>/manifest.toml`` — the vintage's manifest with ``file =`` sources pointing at those;
* ``SHA256SUMS`` and ``files.json`` — every file with its sha256 and size, and the OGL
  attribution.

Simplification (the tolerance is ``--tolerance``, default 50 m): block coordinates are rounded
to the metre, then the block *coverage* is simplified with :func:`shapely.coverage_simplify`,
which simplifies each shared edge once, so neighbours still share exactly the same edge (no gaps,
no overlaps); every level is then the union of its simplified blocks, so NHS and council edges
coincide exactly, as in the full derived layers, and adjacency and contiguity are preserved.

Reproducible byte for byte with the same library versions: rows sorted by code, geometries
normalised, Parquet written by pyarrow with fixed options and no timestamps.

Usage::

    python scripts/build_embedded.py --data-dir ../shared/data [--out src/coterminus/data/_embedded]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

import coterminus
from coterminus.data.manifest import builtin_vintages, read_manifest

log = logging.getLogger("build_embedded")

DEFAULT_TOLERANCE_M = 50.0
GRID_M = 1.0
OGL = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right. Derived (simplified) by coterminus "
    "from the ONS files named in each vintage's built-in manifest."
)


def resolution_label(tolerance: float) -> str:
    """The resolution label that ``Geography.resolution`` reports for embedded polygons."""
    return f"display (simplified {tolerance:g} m)"


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=True,
        write_statistics=False,
        store_schema=True,
    )


def _geo_table(
    codes: list[str],
    names: list[str],
    geoms: np.ndarray,
    code_col: str,
    name_col: str,
    resolution: str,
) -> pa.Table:
    """A GeoParquet table (WKB, EPSG:27700) with fixed metadata."""
    wkb = shapely.to_wkb(geoms, output_dimension=2, byte_order=1, flavor="iso")
    bbox = [float(x) for x in shapely.total_bounds(geoms)]
    crs = gpd.GeoSeries([], crs=27700).crs
    assert crs is not None
    geo_meta = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": sorted({g.geom_type for g in geoms}),
                "crs": crs.to_json_dict(),
                "bbox": bbox,
            }
        },
    }
    table = pa.table(
        {
            code_col: pa.array(codes, pa.string()),
            name_col: pa.array(names, pa.string()),
            "geometry": pa.array(list(wkb), pa.binary()),
        }
    )
    return table.replace_schema_metadata(
        {
            b"geo": json.dumps(geo_meta, sort_keys=True).encode(),
            b"coterminus:resolution": resolution.encode(),
        }
    )


def _multi(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type == "MultiPolygon":
        return g
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def simplify_blocks(polygons: gpd.GeoDataFrame, tolerance: float) -> np.ndarray:
    """Round to the metre, then simplify the block coverage (shared edges once)."""
    geoms = polygons.geometry.to_numpy()
    coords = shapely.get_coordinates(geoms)
    rounded = shapely.set_coordinates(geoms.copy(), np.round(coords / GRID_M) * GRID_M)
    bad = ~shapely.is_valid(rounded)
    if bad.any():
        rounded[bad] = shapely.make_valid(rounded[bad])
        rounded[bad] = [_multi(g) for g in rounded[bad]]
    simple = shapely.coverage_simplify(rounded, tolerance)
    simple = shapely.normalize(np.array([_multi(g) for g in simple], dtype=object))
    invalid = int((~shapely.is_valid(simple)).sum())
    empty = int(shapely.is_empty(simple).sum())
    if invalid or empty:
        msg = f"simplification left {invalid} invalid and {empty} empty block polygon(s)"
        raise RuntimeError(msg)
    return simple


def dissolve(codes: pd.Series, simple: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Union the simplified blocks of each unit (sorted by code)."""
    frame = pd.DataFrame({"unit": codes.to_numpy(), "i": np.arange(len(codes))}).dropna()
    out_codes, out = [], []
    for unit, idx in frame.groupby("unit", sort=True)["i"]:
        parts = simple[idx.to_numpy()]
        total = float(shapely.area(parts).sum())
        try:  # fast path: a correctly noded coverage (edges shared vertex for vertex)
            g = shapely.coverage_union_all(parts)
            exact = (
                bool(shapely.is_valid(g)) and abs(float(shapely.area(g)) - total) <= 1e-9 * total
            )
        except shapely.errors.GEOSException:  # neighbours sharing edges without shared vertices
            exact = False
        if not exact:
            g = shapely.union_all(parts, grid_size=GRID_M)
        out_codes.append(str(unit))
        out.append(_multi(shapely.normalize(g)))
    geoms = np.array(out, dtype=object)
    if not shapely.is_valid(geoms).all():
        msg = f"dissolved polygons invalid: {np.array(out_codes)[~shapely.is_valid(geoms)][:5]}"
        raise RuntimeError(msg)
    return out_codes, geoms


def _strings(values: pd.Series) -> pa.Array:
    """Dictionary-encoded strings, missing values as nulls."""
    return pa.array(
        [None if pd.isna(x) else str(x) for x in values], pa.string()
    ).dictionary_encode()


def _block_table(geo: coterminus.Geography, manifest) -> tuple[pa.Table, dict[str, dict]]:
    """The block table under the manifest's own column names, plus the embedded level specs."""
    b = manifest.block
    lsoa = geo.lsoa.sort_index()
    cols: dict[str, pa.Array] = {
        b.code_column: pa.array(lsoa.index.astype(str).tolist(), pa.string()),
        (b.name_column or "block_name"): _strings(lsoa["name"]),
    }
    specs: dict[str, dict] = {}
    for name, spec in manifest.levels.items():
        units = geo.units(name)
        code_col = spec.code_column
        name_col = spec.name_column or f"{code_col}_name"
        codes = lsoa[name]
        cols[code_col] = _strings(codes)
        cols[name_col] = _strings(codes.map(units["name"]))
        entry: dict[str, Any] = {"code_column": code_col, "name_column": name_col}
        if spec.nhs_code_column and "nhs_code" in units.columns:
            cols[spec.nhs_code_column] = _strings(codes.map(units["nhs_code"]))
            entry["nhs_code_column"] = spec.nhs_code_column
        for attr, aspec in spec.attributes.items():  # stored as read: missing values as nulls
            values = units[attr].astype(object)
            if aspec.missing is not None:
                values = values.where(values != aspec.missing)
            cols[aspec.column] = _strings(codes.map(values))
        specs[name] = entry
    cols["population"] = pa.array(lsoa["population"].astype("int64").to_numpy())
    return pa.table(cols), specs


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _manifest_toml(manifest, specs: dict[str, dict], block_file: str, tolerance: float) -> str:
    b, p = manifest.block, manifest.population
    lines = [
        f"# coterminus embedded dataset, vintage {manifest.vintage}: built by scripts/build_embedded.py",
        "# from the files of the built-in manifest. Lookups, names and populations are the full",
        f"# ONS figures; the polygons are display grade: {resolution_label(tolerance)}.",
        "# Do not edit: rebuild with `python scripts/build_embedded.py --data-dir ../shared/data`.",
        f"vintage = {manifest.vintage}",
        f"title = {_toml_str(manifest.title + '; embedded copy, polygons ' + resolution_label(tolerance))}",
        f"attribution = {_toml_str(manifest.attribution + f' Polygons simplified for display ({tolerance:g} m) by coterminus.')}",
        "",
        "[blocks]",
        f"level = {_toml_str(b.level)}",
        'source = { file = "blocks.parquet" }',
        f"code_column = {_toml_str(b.code_column)}",
        f"name_column = {_toml_str(b.name_column or 'block_name')}",
        f"boundaries = {{ file = {_toml_str(block_file)}, code_column = {_toml_str(b.code_column)} }}",
    ]
    if b.expected_count is not None or b.expected_sha256 is not None:
        parts = []
        if b.expected_count is not None:
            parts.append(f"count = {b.expected_count}")
        if b.expected_sha256 is not None:
            parts.append(f"sha256 = {_toml_str(b.expected_sha256)}")
        lines.append("expected = { " + ", ".join(parts) + " }")
    lines += [
        "",
        "[population]",
        'source = { file = "blocks.parquet" }',
        f"code_column = {_toml_str(b.code_column)}",
        'column = "population"',
        f"label = {_toml_str(p.label)}",
        f"short = {_toml_str(p.short)}",
        "",
        "[defaults]",
        "against = [" + ", ".join(_toml_str(x) for x in manifest.defaults["against"]) + "]",
    ]
    for key in ("systems", "authorities"):
        if key in manifest.defaults:
            lines.append(f"{key} = {_toml_str(manifest.defaults[key])}")
    for name, spec in manifest.levels.items():
        e = specs[name]
        lines += ["", f"[levels.{name}]", f"side = {_toml_str(spec.side)}"]
        for key in ("label", "plural"):
            if getattr(spec, key):
                lines.append(f"{key} = {_toml_str(getattr(spec, key))}")
        lines.append(f"code_column = {_toml_str(e['code_column'])}")
        lines.append(f"name_column = {_toml_str(e['name_column'])}")
        if "nhs_code_column" in e:
            lines.append(f"nhs_code_column = {_toml_str(e['nhs_code_column'])}")
        if spec.parent:
            lines.append(f"parent = {_toml_str(spec.parent)}")
        for key in ("criteria", "status"):
            if getattr(spec, key):
                lines.append(f"{key} = {_toml_str(getattr(spec, key))}")
        if spec.attributes:
            parts = []
            for attr, a in spec.attributes.items():
                value = _toml_str(a.column)
                if a.missing is not None:
                    value = f"{{ column = {value}, missing = {_toml_str(a.missing)} }}"
                parts.append(f"{attr} = {value}")
            lines.append("attributes = { " + ", ".join(parts) + " }")
        lines.append(
            f'boundaries = {{ derived = {{ file = "{name}.parquet", '
            f"code_column = {_toml_str(e['code_column'])} }} }}"
        )
    return "\n".join(lines) + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(
    data_dir: Path,
    out: Path,
    tolerance: float = DEFAULT_TOLERANCE_M,
    vintages: list[int] | None = None,
) -> dict:
    """Write the embedded dataset into ``out`` (emptied first); return the ``files.json`` record."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    label = resolution_label(tolerance)
    simplified: dict[str, tuple[pd.Index, np.ndarray]] = {}
    for vintage in vintages or builtin_vintages():
        t0 = time.perf_counter()
        manifest = read_manifest(vintage)
        geo = coterminus.load(vintage, data_dir=data_dir, cache=False)
        folder = out / str(vintage)
        folder.mkdir()
        table, specs = _block_table(geo, manifest)
        _write_parquet(table, folder / "blocks.parquet")
        base = manifest.block.level
        if base not in simplified:
            polys = geo.lsoa_polygons().sort_index()
            simple = simplify_blocks(polys, tolerance)
            simplified[base] = (polys.index, simple)
            names = geo.lsoa["name"].reindex(polys.index).astype(str).tolist()
            bcode = manifest.block.code_column
            _write_parquet(
                _geo_table(
                    polys.index.astype(str).tolist(),
                    names,
                    simple,
                    bcode,
                    manifest.block.name_column or "block_name",
                    label,
                ),
                out / f"blocks-{base}.parquet",
            )
        index, simple = simplified[base]
        if not index.equals(geo.lsoa.index.sort_values()):
            msg = f"{vintage}: block polygons and block lookup differ"
            raise RuntimeError(msg)
        lsoa = geo.lsoa.reindex(index)
        for name in manifest.levels:
            codes, geoms = dissolve(lsoa[name], simple)
            unit_names = geo.units(name)["name"].reindex(codes).astype(str).tolist()
            _write_parquet(
                _geo_table(
                    codes,
                    unit_names,
                    geoms,
                    specs[name]["code_column"],
                    specs[name]["name_column"],
                    label,
                ),
                folder / f"{name}.parquet",
            )
        (folder / "manifest.toml").write_text(
            _manifest_toml(manifest, specs, f"../blocks-{base}.parquet", tolerance),
            encoding="utf-8",
        )
        log.info("vintage %s built in %.1f s", vintage, time.perf_counter() - t0)
    listing: list[dict[str, Any]] = [
        {"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(p for p in out.rglob("*") if p.is_file())
    ]
    record: dict[str, Any] = {
        "resolution": label,
        "tolerance_m": tolerance,
        "grid_m": GRID_M,
        "attribution": OGL,
        "versions": {
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
            "pyarrow": pa.__version__,
        },
        "files": listing,
        "total_bytes": sum(f["bytes"] for f in listing),
    }
    (out / "files.json").write_text(
        json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "SHA256SUMS").write_text(
        "".join(f"{f['sha256']}  {f['path']}\n" for f in listing), encoding="utf-8"
    )
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder like ../shared/data")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "src/coterminus/data/_embedded",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE_M,
        help="coverage simplification tolerance in metres (default %(default)s)",
    )
    parser.add_argument("--vintage", type=int, action="append", help="only these vintages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=True)
    build(args.data_dir, args.out, args.tolerance, args.vintage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
