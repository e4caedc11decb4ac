"""Bad inputs, as a hostile user would try them: each gives one typed error naming the fix, and
leaves nothing half-written.

Every case builds its inputs in ``tmp_path/"in"`` and, when it writes, targets ``tmp_path/"out"``
(which may hold an older file that must survive). For each case the test asserts the error type,
that the message names the fix (a pattern per case), and that no temporary ``.part`` file and no
new output are left anywhere under ``tmp_path``. Cache cases heal rather than fail: they assert a
:class:`~coterminus.errors.CacheWarning` naming what was done, and the correct result.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from coterminus.analysis.overlap import area_overlap
from coterminus.data import _parsed_cache
from coterminus.data import atomic as _atomic
from coterminus.data import integrity as _integrity
from coterminus.data.atomic import atomic_path, atomic_write
from coterminus.data.doctor import doctor, raise_or_warn
from coterminus.data.integrity import block_digest, verify_file
from coterminus.data.readers import read_boundaries, read_lookup, read_population
from coterminus.data.validate import check_blocks, check_positive_totals
from coterminus.errors import (
    ArchiveError,
    CacheWarning,
    ColumnError,
    CRSError,
    DuplicateCodeError,
    EmptyDataError,
    EncodingError,
    LayerError,
    LookupMismatchError,
    ManifestError,
    ModifiedFileError,
    OutputError,
    OverlappingUnitsError,
    ParameterError,
    PopulationError,
    VintageMismatchError,
)

X0, Y0 = 430_000.0, 270_000.0  # near Coventry, in British National Grid metres
LOOKUP_HEAD = "LSOA11CD,LSOA11NM,CCG19CD,CCG19NM,LAD19CD,LAD19NM\n"


@dataclass(frozen=True)
class Ctx:
    """Folders of one case: inputs and outputs."""

    inp: Path
    out: Path


def _layer(
    codes: list[str],
    *,
    crs: int | None = 27700,
    col: str = "LAD19CD",
    x0: float = X0,
    y0: float = Y0,
    size: float = 1000.0,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {col: codes, col.replace("CD", "NM"): [f"area {c}" for c in codes]},
        geometry=[
            shapely.box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size)
            for i in range(len(codes))
        ],
        crs=crs,
    )


def _write_text(ctx: Ctx, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = ctx.inp / name
    p.write_bytes(text.encode(encoding))
    return p


def _pop_file(ctx: Ctx, value: str) -> Path:
    return _write_text(
        ctx,
        "pop.csv",
        "LSOA11CD,LSOA11NM,POP_ALL_AGES_MID2019\n"
        "E01000001,City of London 001A,1636\n"
        f"E01000002,City of London 001B,{value}\n",
    )


def _geojson_without_crs(ctx: Ctx, x0: float, y0: float, size: float) -> Path:
    """A GeoJSON with no ``crs`` member (GDAL then assumes WGS 84)."""
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"LAD19CD": "E06000001", "LAD19NM": "Hartlepool"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    p = ctx.inp / "lad.geojson"
    p.write_text(json.dumps(doc))
    return p


def _shapefile_without_prj(ctx: Ctx, gdf: gpd.GeoDataFrame) -> Path:
    p = ctx.inp / "lad.shp"
    with warnings.catch_warnings():  # geopandas warns that the file will have no CRS: the point
        warnings.simplefilter("ignore", UserWarning)
        gdf.to_file(p)
    p.with_suffix(".prj").unlink(missing_ok=True)
    return p


# --- CRS -------------------------------------------------------------------------------------------
def crs_bng_geojson_without_crs_member(ctx: Ctx) -> None:
    read_boundaries(_geojson_without_crs(ctx, X0, Y0, 1000.0))


def crs_shapefile_without_prj_in_metres(ctx: Ctx) -> None:
    read_boundaries(_shapefile_without_prj(ctx, _layer(["E06000001"], crs=None)))


def crs_shapefile_without_prj_in_degrees(ctx: Ctx) -> None:
    read_boundaries(
        _shapefile_without_prj(ctx, _layer(["E06000001"], crs=None, x0=-1.5, y0=52.4, size=0.01))
    )


def crs_no_crs_and_coordinates_of_nowhere(ctx: Ctx) -> None:
    read_boundaries(_shapefile_without_prj(ctx, _layer(["E06000001"], crs=None, x0=5e6, y0=5e6)))


def crs_bng_declared_for_degrees(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    _layer(["E06000001"], x0=-1.5, y0=52.4, size=0.01).to_file(p)
    read_boundaries(p)


def crs_argument_contradicts_the_file(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    _layer(["E06000001"]).to_file(p)
    read_boundaries(p, crs=4326)


def crs_area_overlap_in_degrees(ctx: Ctx) -> None:
    g = _layer(["E06000001", "E06000002"]).to_crs(4326)
    area_overlap(g, g)


def crs_area_overlap_without_crs(ctx: Ctx) -> None:
    g = _layer(["E06000001", "E06000002"], crs=None)
    area_overlap(g, _layer(["E10000001"]))


def crs_area_overlap_layers_in_two_crs(ctx: Ctx) -> None:
    area_overlap(_layer(["E06000001"]), _layer(["E10000001"]).to_crs(3857))


def crs_doctor_table_of_a_layer_without_crs(ctx: Ctx) -> None:
    raise_or_warn(doctor(_layer(["E06000001", "E06000002"], crs=None)), "lad.gpkg")


# --- geometry ----------------------------------------------------------------------------------------
def geometry_overlap_hidden_by_an_equal_gap(ctx: Ctx) -> None:
    """The issue's case: A and B overlap by 100,000 m², a gap of the same size elsewhere in the
    target, so A + B = 2,000,000 m² against a union of 1,900,000 m² and per-target totals pass."""
    a = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)  # 1,000,000 m²
    b = shapely.box(X0 + 900, Y0, X0 + 1900, Y0 + 1000)  # 1,000,000 m², 100,000 m² over A
    units = gpd.GeoDataFrame(geometry=[a, b], index=["E38000001", "E38000002"], crs=27700)
    assert shapely.union(a, b).area == 1_900_000
    target = gpd.GeoDataFrame(
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)], index=["E10000001"], crs=27700
    )
    assert a.area + b.area == target.geometry.iloc[0].area  # the old per-target test passes
    area_overlap(units, target)


def geometry_units_overlap_in_doctor(ctx: Ctx) -> None:
    g = gpd.GeoDataFrame(
        geometry=[
            shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
            shapely.box(X0 + 500, Y0, X0 + 1500, Y0 + 1000),
        ],
        index=["E06000001", "E06000002"],
        crs=27700,
    )
    raise_or_warn(doctor(g), "lad.gpkg")


def geometry_empty_polygon(ctx: Ctx) -> None:
    g = _layer(["E06000001", "E06000002"])
    g.loc[1, "geometry"] = shapely.Polygon()
    p = ctx.inp / "lad.gpkg"
    g.to_file(p)
    read_boundaries(p)


def geometry_duplicate_codes(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    _layer(["E06000001", "E06000001"]).to_file(p)
    read_boundaries(p)


def geometry_no_code_column(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    _layer(["E06000001"]).rename(columns={"LAD19CD": "id", "LAD19NM": "label"}).to_file(p)
    read_boundaries(p)


def geometry_several_layers_none_chosen(ctx: Ctx) -> None:
    p = ctx.inp / "two.gpkg"
    _layer(["E06000001"]).to_file(p, layer="a")
    _layer(["E06000002"]).to_file(p, layer="b")
    read_boundaries(p)


def geometry_overlap_tolerance_out_of_range(ctx: Ctx) -> None:
    g = _layer(["E06000001"])
    area_overlap(g, g, overlap_tolerance=2)


# --- populations -------------------------------------------------------------------------------------
def _population_case(value: str) -> Callable[[Ctx], None]:
    def case(ctx: Ctx) -> None:
        read_population(_pop_file(ctx, value))

    return case


def population_of_zero_for_a_whole_footprint(ctx: Ctx) -> None:
    lsoa = pd.DataFrame({"stp": ["E54000018", "E54000018"], "population": [0, 0]})
    check_positive_totals(lsoa.groupby("stp")["population"].sum(), "footprint")


def population_duplicate_lsoa(ctx: Ctx) -> None:
    read_population(_write_text(ctx, "pop.csv", "LSOA11CD,ALL_AGES\nE01000001,1\nE01000001,2\n"))


def population_without_a_population_column(ctx: Ctx) -> None:
    read_population(_write_text(ctx, "pop.csv", "LSOA11CD,PEOPLE\nE01000001,1\n"))


def population_edited_after_publication(ctx: Ctx) -> None:
    p = _pop_file(ctx, "1")
    verify_file(
        p,
        "a138c7efcb2ebc5637454c850adeab6ff6c7b3fd845465adad73b21892ba3300",
        dataset="lsoa-population-mid2019",
    )


# --- lookups -----------------------------------------------------------------------------------------
def lookup_with_an_empty_code(ctx: Ctx) -> None:
    read_lookup(_write_text(ctx, "lu.csv", LOOKUP_HEAD + "E01000001,a,,x,E09000001,City\n"))


def lookup_mixing_vintages(ctx: Ctx) -> None:
    read_lookup(
        _write_text(ctx, "lu.csv", "LSOA11CD,CCG19CD,LAD20CD\nE01000001,E38000001,E09000001\n")
    )


def lookup_two_columns_for_one_level(ctx: Ctx) -> None:
    read_lookup(
        _write_text(ctx, "lu.csv", "LSOA11CD,LAD19CD,LTLA19CD\nE01000001,E09000001,E09000001\n")
    )


def lookup_that_is_not_a_lookup(ctx: Ctx) -> None:
    read_lookup(_write_text(ctx, "lu.csv", "name,value\nx,1\n"))


def lookup_listing_an_lsoa_twice(ctx: Ctx) -> None:
    read_lookup(
        _write_text(
            ctx,
            "lu.csv",
            LOOKUP_HEAD
            + "E01000001,a,E38000001,x,E09000001,C\nE01000001,a,E38000001,x,E09000001,C\n",
        )
    )


UNIVERSE = [f"E01{i:06d}" for i in range(1, 11)]


def lookup_missing_lsoas(ctx: Ctx) -> None:
    rows = "".join(f"{c},n,E38000001,x,E09000001,C\n" for c in UNIVERSE[:-2])
    lu = read_lookup(_write_text(ctx, "lu.csv", LOOKUP_HEAD + rows))
    check_blocks(
        lu.index, count=10, digest=block_digest(UNIVERSE), what="lu.csv", universe=UNIVERSE
    )


def population_with_an_lsoa_of_another_vintage(ctx: Ctx) -> None:
    rows = "".join(f"{c},{i}\n" for i, c in enumerate([*UNIVERSE[:-1], "E01099999"]))
    pop = read_population(_write_text(ctx, "pop.csv", "LSOA11CD,ALL_AGES\n" + rows))
    check_blocks(pop.index, count=10, digest=block_digest(UNIVERSE), what="pop.csv")


# --- text and encodings ------------------------------------------------------------------------------
def text_utf16_lookup(ctx: Ctx) -> None:
    read_lookup(
        _write_text(ctx, "lu.csv", LOOKUP_HEAD + "E01000001,a,E38000001,x,E09000001,C\n", "utf-16")
    )


def text_neither_utf8_nor_cp1252(ctx: Ctx) -> None:
    p = ctx.inp / "lu.csv"
    p.write_bytes(LOOKUP_HEAD.encode() + b"E01000001,\x81\x8d,E38000001,x,E09000001,C\n")
    read_lookup(p)


def text_binary_file_named_csv(ctx: Ctx) -> None:
    p = ctx.inp / "pop.csv"
    p.write_bytes(b"PK\x03\x04\x00\x00\x00binary")
    read_population(p)


def text_malformed_csv(ctx: Ctx) -> None:
    read_lookup(_write_text(ctx, "lu.csv", 'LSOA11CD,CCG19CD\n"E01000001,E38000001\n'))


def text_empty_file(ctx: Ctx) -> None:
    read_lookup(_write_text(ctx, "lu.csv", ""))


def text_header_only(ctx: Ctx) -> None:
    read_lookup(_write_text(ctx, "lu.csv", LOOKUP_HEAD))


# --- files and archives ------------------------------------------------------------------------------
def _zip(ctx: Ctx, members: dict[str, bytes]) -> Path:
    p = ctx.inp / "lad.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return p


def _shapefile_members(ctx: Ctx) -> dict[str, bytes]:
    work = ctx.inp / "shp"
    work.mkdir()
    _layer(["E06000001"]).to_file(work / "lad.shp")
    return {p.name: p.read_bytes() for p in work.iterdir()}


def archive_truncated_zip(ctx: Ctx) -> None:
    p = _zip(ctx, _shapefile_members(ctx))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    read_boundaries(p)


def archive_zip_slip(ctx: Ctx) -> None:
    read_boundaries(_zip(ctx, {"../../evil.shp": b"x"}))


def archive_zip_without_boundaries(ctx: Ctx) -> None:
    read_boundaries(_zip(ctx, {"readme.txt": b"hello"}))


def archive_zip_with_two_boundary_files(ctx: Ctx) -> None:
    members = _shapefile_members(ctx)
    members["other.geojson"] = b"{}"
    read_boundaries(_zip(ctx, members))


def archive_truncated_gzip_lookup(ctx: Ctx) -> None:
    p = ctx.inp / "lu.csv.gz"
    data = gzip.compress((LOOKUP_HEAD + "E01000001,a,E38000001,x,E09000001,C\n" * 200).encode())
    p.write_bytes(data[: len(data) // 2])
    read_lookup(p)


def file_missing(ctx: Ctx) -> None:
    read_population(ctx.inp / "nope.csv")


def file_of_zero_bytes(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    p.write_bytes(b"")
    read_boundaries(p)


def file_that_is_not_a_geopackage(ctx: Ctx) -> None:
    p = ctx.inp / "lad.gpkg"
    p.write_text("this is not SQLite")
    read_boundaries(p)


# --- output paths ------------------------------------------------------------------------------------
def output_existing_folder(ctx: Ctx) -> None:
    (ctx.out / "map.html").mkdir()
    atomic_write(ctx.out / "map.html", lambda p: p.write_text("x"), suffixes=(".html",))


def output_missing_folder(ctx: Ctx) -> None:
    atomic_write(ctx.out / "no" / "such" / "map.html", lambda p: p.write_text("x"))


def output_under_a_regular_file(ctx: Ctx) -> None:
    atomic_write(ctx.out / "old.txt" / "map.html", lambda p: p.write_text("x"))


def output_unknown_suffix(ctx: Ctx) -> None:
    atomic_write(ctx.out / "map.docx", lambda p: p.write_text("x"), suffixes=(".html", ".png"))


def output_symlink(ctx: Ctx) -> None:
    (ctx.out / "link.html").symlink_to(ctx.out / "old.txt")
    atomic_write(ctx.out / "link.html", lambda p: p.write_text("x"))


def output_dangling_symlink(ctx: Ctx) -> None:
    (ctx.out / "link.html").symlink_to(ctx.out / "elsewhere.html")
    atomic_write(ctx.out / "link.html", lambda p: p.write_text("x"))


def output_disk_full_while_writing(ctx: Ctx) -> None:
    def write(p: Path) -> None:
        p.write_bytes(b"x" * 1000)
        raise OSError(28, "No space left on device")

    atomic_write(ctx.out / "old.txt", write)


def output_disk_full_writing_parquet(ctx: Ctx) -> None:
    frame = pd.DataFrame({"a": range(1000)})

    def write(p: Path) -> None:
        frame.to_parquet(p)
        raise OSError(122, "Disk quota exceeded")

    atomic_write(ctx.out / "plan.parquet", write)


def output_temporary_file_refused(ctx: Ctx) -> None:
    ro = ctx.out
    old = _atomic.tempfile.mkstemp
    try:
        _atomic.tempfile.mkstemp = _refuse  # type: ignore[assignment]
        atomic_write(ro / "map.html", lambda p: p.write_text("x"))
    finally:
        _atomic.tempfile.mkstemp = old  # type: ignore[assignment]


def _refuse(**kwargs: object) -> tuple[int, str]:
    raise PermissionError(13, "Permission denied")


def output_read_only_folder(ctx: Ctx) -> None:
    old = _atomic.os.access
    try:
        _atomic.os.access = lambda p, mode: Path(p) != ctx.out  # type: ignore[assignment]
        atomic_write(ctx.out / "map.html", lambda p: p.write_text("x"))
    finally:
        _atomic.os.access = old  # type: ignore[assignment]


def output_writer_interrupted(ctx: Ctx) -> None:
    with atomic_path(ctx.out / "old.txt") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt


Case = tuple[Callable[[Ctx], None], type[BaseException], str]

CASES: dict[str, Case] = {
    # CRS
    "crs-bng-geojson-without-crs-member": (
        crs_bng_geojson_without_crs_member,
        CRSError,
        r"look like British National Grid metres \(EPSG:27700\); pass crs=27700 to override",
    ),
    "crs-shp-without-prj-metres": (
        crs_shapefile_without_prj_in_metres,
        CRSError,
        r"look like British National Grid metres \(EPSG:27700\); pass crs=27700 if so",
    ),
    "crs-shp-without-prj-degrees": (
        crs_shapefile_without_prj_in_degrees,
        CRSError,
        r"look like longitude/latitude degrees \(EPSG:4326\); pass crs=4326 if so",
    ),
    "crs-none-and-unrecognisable": (
        crs_no_crs_and_coordinates_of_nowhere,
        CRSError,
        r"neither like British National Grid metres nor like degrees; pass crs=",
    ),
    "crs-bng-declared-for-degrees": (
        crs_bng_declared_for_degrees,
        CRSError,
        r"EPSG:27700, but its coordinates .* look like longitude/latitude degrees \(EPSG:4326\); pass crs=4326",
    ),
    "crs-argument-contradicts-file": (
        crs_argument_contradicts_the_file,
        CRSError,
        r"declares CRS EPSG:27700 but crs=4326 was passed; drop crs=",
    ),
    "crs-area-overlap-degrees": (
        crs_area_overlap_in_degrees,
        CRSError,
        r"EPSG:4326 \(degrees\), so areas would be wrong; reproject with `units.to_crs\(27700\)`",
    ),
    "crs-area-overlap-missing": (
        crs_area_overlap_without_crs,
        CRSError,
        r"units have no CRS, so areas would be meaningless \(the coordinates look like British National Grid metres \(EPSG:27700\)\); set it, e.g. `units.set_crs\(27700\)`",
    ),
    "crs-area-overlap-two-crs": (
        crs_area_overlap_layers_in_two_crs,
        CRSError,
        r"reproject both with `.to_crs\(27700\)`",
    ),
    "crs-doctor-missing": (
        crs_doctor_table_of_a_layer_without_crs,
        CRSError,
        r"missing_crs: .* Fix: set the CRS .*set_crs\(27700\)",
    ),
    # geometry
    "geometry-overlap-hidden-by-gap": (
        geometry_overlap_hidden_by_an_equal_gap,
        OverlappingUnitsError,
        r"1 pair\(s\) share more than 0.0001 of the smaller unit: E38000001 and E38000002 \(100,000 m²\)\. .*use a layer of a single level and vintage",
    ),
    "geometry-overlap-doctor": (
        geometry_units_overlap_in_doctor,
        OverlappingUnitsError,
        r"E06000001/E06000002 \(0.5 km²\)\. Fix: units of one level must not overlap",
    ),
    "geometry-empty": (
        geometry_empty_polygon,
        EmptyDataError,
        r"with no geometry, e\.g\. \['E06000002'\]; the file is incomplete\. Download it again or drop those rows",
    ),
    "geometry-duplicate-codes": (
        geometry_duplicate_codes,
        DuplicateCodeError,
        r"E06000001\. .*dissolve them first",
    ),
    "geometry-no-code-column": (geometry_no_code_column, ColumnError, r"Pass code_col='<column>'"),
    "geometry-several-layers": (
        geometry_several_layers_none_chosen,
        LayerError,
        r"has 2 layers \['a', 'b'\]; pass layer= to choose one",
    ),
    "geometry-bad-overlap-tolerance": (
        geometry_overlap_tolerance_out_of_range,
        ParameterError,
        r"overlap_tolerance=2 must be in \[0, 1\)",
    ),
    # populations
    "population-inf": (
        _population_case("inf"),
        PopulationError,
        r"E01000002='inf' \(infinite\)\. Every value must be a whole number of people from 0 to 99,999,999\. Fix or drop those rows",
    ),
    "population-minus-inf": (
        _population_case("-inf"),
        PopulationError,
        r"E01000002='-inf' \(infinite\)\..*Fix or drop those rows",
    ),
    "population-1e30": (
        _population_case("1e30"),
        PopulationError,
        r"E01000002='1e30' \(not below 100,000,000\)\..*Fix or drop those rows",
    ),
    "population-at-the-bound": (
        _population_case("100000000"),
        PopulationError,
        r"E01000002='100000000' \(not below 100,000,000\)",
    ),
    "population-negative": (
        _population_case("-1"),
        PopulationError,
        r"E01000002='-1' \(negative\)\..*coterminus data fetch",
    ),
    "population-fraction": (
        _population_case("1.5"),
        PopulationError,
        r"E01000002='1.5' \(not a whole number\)\..*Fix or drop those rows",
    ),
    "population-nan": (
        _population_case("NaN"),
        PopulationError,
        r"E01000002='NaN' \(not a number\)\..*Fix or drop those rows",
    ),
    "population-text": (
        _population_case("lots"),
        PopulationError,
        r"E01000002='lots' \(not a number\)\..*Fix or drop those rows",
    ),
    "population-missing": (
        _population_case(""),
        PopulationError,
        r"E01000002=.* \(missing\)\..*Fix or drop those rows",
    ),
    "population-zero-footprint": (
        population_of_zero_for_a_whole_footprint,
        PopulationError,
        r"1 footprint\(s\) have a population of 0: E54000018, so every share .*check it \(coterminus data verify\)",
    ),
    "population-duplicate": (
        population_duplicate_lsoa,
        DuplicateCodeError,
        r"E01000001\. Each area must appear once in a population file; drop the repeated rows",
    ),
    "population-no-column": (population_without_a_population_column, ColumnError, r"pass column="),
    "population-edited-after-publication": (
        population_edited_after_publication,
        ModifiedFileError,
        r"pop.csv has been modified: .*`coterminus data fetch lsoa-population-mid2019`.*--trust-modified",
    ),
    # lookups
    "lookup-empty-code": (
        lookup_with_an_empty_code,
        ColumnError,
        r"empty code, e\.g\. \['E01000001'\]; the lookup is incomplete\. Use the complete ONS lookup \(coterminus data fetch\)",
    ),
    "lookup-mixed-vintages": (
        lookup_mixing_vintages,
        VintageMismatchError,
        r"mixes vintages \[2019, 2020\].*use a lookup of a single vintage",
    ),
    "lookup-two-columns-one-level": (
        lookup_two_columns_for_one_level,
        ColumnError,
        r"several code columns for level\(s\) \['ltla'\].*keep one code column per level",
    ),
    "lookup-not-a-lookup": (
        lookup_that_is_not_a_lookup,
        ColumnError,
        r"is this a lookup file\? Pass an ONS lookup CSV",
    ),
    "lookup-missing-lsoas": (
        lookup_missing_lsoas,
        LookupMismatchError,
        r"lu.csv does not hold the 10 LSOAs of its vintage \(it has 8\): 2 missing \(E01000009, E01000010\), 0 extra; use the complete ONS file \(coterminus data fetch\)",
    ),
    "population-foreign-lsoa": (
        population_with_an_lsoa_of_another_vintage,
        LookupMismatchError,
        r"or its codes differ .*; use the complete ONS file \(coterminus data fetch\)",
    ),
    "lookup-duplicate-lsoa": (
        lookup_listing_an_lsoa_twice,
        DuplicateCodeError,
        r"E01000001\. A lookup must list each area once; drop the repeated rows",
    ),
    # text
    "text-utf16": (
        text_utf16_lookup,
        EncodingError,
        r"looks like UTF-16 .* convert it from UTF-16 to UTF-8 \(`iconv -f UTF-16 -t UTF-8",
    ),
    "text-neither-utf8-nor-cp1252": (
        text_neither_utf8_nor_cp1252,
        EncodingError,
        r"neither UTF-8 nor Windows-1252/Latin-1 text \(byte 0x81 .* line 2\)\. .*convert it to UTF-8",
    ),
    "text-binary-named-csv": (
        text_binary_file_named_csv,
        EncodingError,
        r"check that it is a lookup or population CSV at all",
    ),
    "text-malformed-csv": (
        text_malformed_csv,
        ColumnError,
        r"not a well-formed CSV .*Download it again \(coterminus data fetch\)",
    ),
    "text-empty-file": (text_empty_file, EmptyDataError, r"lu.csv is empty; download it again"),
    "text-header-only": (
        text_header_only,
        EmptyDataError,
        r"has a header but no rows; download it again",
    ),
    # files and archives
    "archive-truncated-zip": (
        archive_truncated_zip,
        ArchiveError,
        r"corrupt or truncated\. Download it again \(coterminus data fetch\)",
    ),
    "archive-zip-slip": (
        archive_zip_slip,
        ArchiveError,
        r"zip-slip.*Obtain the file from ONS again",
    ),
    "archive-no-boundary-file": (
        archive_zip_without_boundaries,
        ArchiveError,
        r"not a boundary download\. Download it again \(coterminus data fetch\) or pass the boundary file itself",
    ),
    "archive-two-boundary-files": (
        archive_zip_with_two_boundary_files,
        ArchiveError,
        r"pass member= to choose one",
    ),
    "archive-truncated-gzip": (
        archive_truncated_gzip_lookup,
        ArchiveError,
        r"not a readable gzip file .*Download it again \(coterminus data fetch\)",
    ),
    "file-missing": (
        file_missing,
        FileNotFoundError,
        r"check the path or the data directory \(COTERMINUS_DATA_DIR\)",
    ),
    "file-zero-bytes": (
        file_of_zero_bytes,
        EmptyDataError,
        r"empty file \(0 bytes\); download it again",
    ),
    "file-not-a-geopackage": (
        file_that_is_not_a_geopackage,
        LayerError,
        r"GDAL cannot read this file .*Download it again \(coterminus data fetch\)",
    ),
    # output paths and signals
    "output-existing-folder": (
        output_existing_folder,
        OutputError,
        r"it is a folder; give a file name inside it, e\.g\. --out .*map\.html/output\.html",
    ),
    "output-missing-folder": (
        output_missing_folder,
        OutputError,
        r"does not exist; create it first \(mkdir -p .*no/such\)",
    ),
    "output-under-a-file": (
        output_under_a_regular_file,
        OutputError,
        r"old\.txt is a file, not a folder; choose another --out",
    ),
    "output-unknown-suffix": (
        output_unknown_suffix,
        OutputError,
        r"unknown format '\.docx'; use one of \.html, \.png",
    ),
    "output-symlink": (
        output_symlink,
        OutputError,
        r"it is a symbolic link \(to .*old\.txt\); .*Pass the real path \(--out .*old\.txt\) or remove the link first",
    ),
    "output-dangling-symlink": (
        output_dangling_symlink,
        OutputError,
        r"symbolic link \(to .*elsewhere\.html\).*remove the link first",
    ),
    "output-disk-full": (
        output_disk_full_while_writing,
        OutputError,
        r"no space left on the device; nothing was written\. Free space in .* or choose another --out",
    ),
    "output-quota-parquet": (
        output_disk_full_writing_parquet,
        OutputError,
        r"disk quota exceeded; nothing was written\. Free space",
    ),
    "output-temporary-file-refused": (
        output_temporary_file_refused,
        OutputError,
        r"Permission denied; choose another --out",
    ),
    "output-read-only-folder": (
        output_read_only_folder,
        OutputError,
        r"is read-only; choose another --out",
    ),
    "output-interrupted": (output_writer_interrupted, KeyboardInterrupt, r"^$"),
}


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir() or p.is_symlink()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_path: Path) -> None:
    func, error, fix = CASES[name]
    ctx = Ctx(tmp_path / "in", tmp_path / "out")
    ctx.inp.mkdir()
    ctx.out.mkdir()
    (ctx.out / "old.txt").write_text("an older output that must survive")
    before = {s: signal.getsignal(s) for s in _atomic._SIGNALS}
    with pytest.raises(error, match=fix) as info:
        func(ctx)
    assert {s: signal.getsignal(s) for s in _atomic._SIGNALS} == before  # handlers restored
    if error is not KeyboardInterrupt:
        assert len(fix) > 10  # every message names its fix
        assert "Traceback" not in str(info.value)
    # nothing half-written: no temporary file anywhere, the old output intact, no new output
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    assert (ctx.out / "old.txt").read_text() == "an older output that must survive"
    new = {p for p in _snapshot(ctx.out) if p != "old.txt"}
    made_by_case = {"link.html"} if "symlink" in name else set()
    assert new == made_by_case


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


# --- cases that heal instead of failing --------------------------------------------------------------
@pytest.fixture
def lad_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path / "cache"))
    _parsed_cache._warned_roots.clear()
    p = tmp_path / "lad.gpkg"
    _layer(["E06000001", "E06000002"]).to_file(p)
    return p


@pytest.mark.parametrize(
    "damage", ["truncated-parquet", "corrupt-json", "empty-json", "parquet-is-text"]
)
def test_bad_cache_entry_heals_with_one_warning(
    lad_source: Path, tmp_path: Path, damage: str
) -> None:
    _parsed_cache.cached_boundaries(lad_source, None, "ltla", use_cache=True)
    root = tmp_path / "cache" / "parsed"
    (parquet,) = root.glob("*.parquet")
    (sidecar,) = root.glob("*.json")
    if damage == "truncated-parquet":
        parquet.write_bytes(parquet.read_bytes()[:100])
    elif damage == "corrupt-json":
        sidecar.write_text("{")
    elif damage == "empty-json":
        sidecar.write_text("")
    else:
        parquet.write_text("hello")
    with pytest.warns(
        CacheWarning, match=r"was discarded because .*; rebuilt it from the source\.$"
    ):
        got = _parsed_cache.cached_boundaries(lad_source, None, "ltla", use_cache=True)
    assert list(got.index) == ["E06000001", "E06000002"]
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]


def test_stale_cache_from_another_source_is_never_used(lad_source: Path, tmp_path: Path) -> None:
    """A parsed entry keyed by another file's content cannot be picked up for this file: the
    key is this file's full SHA-256, so after an edit the old entry is simply not found."""
    first = _parsed_cache.cached_boundaries(lad_source, None, "ltla", use_cache=True)
    _layer(["E06000003", "E06000004", "E06000005"]).to_file(lad_source)  # same path, new content
    second = _parsed_cache.cached_boundaries(lad_source, None, "ltla", use_cache=True)
    assert list(first.index) == ["E06000001", "E06000002"]
    assert list(second.index) == ["E06000003", "E06000004", "E06000005"]


def test_cp1252_lookup_is_read_with_a_note(tmp_path: Path) -> None:
    p = tmp_path / "lu.csv"
    p.write_bytes(
        (
            LOOKUP_HEAD + "E01000001,Ynys Môn 001A,E38000001,x,E09000001,Bro Morgannwg – Vale\n"
        ).encode("cp1252")
    )
    lu = read_lookup(p)
    assert lu.loc["E01000001", "lsoa_name"] == "Ynys Môn 001A"
    assert lu.loc["E01000001", "ltla_name"] == "Bro Morgannwg – Vale"
    assert lu.attrs["encoding"] == "cp1252"
    assert "read as Windows-1252" in lu.attrs["encoding_note"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom_is_read_without_a_note(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "pop.csv"
    p.write_bytes("LSOA11CD,LSOA11NM,ALL_AGES\nE01000001,Ynys Môn 001A,1636\n".encode(encoding))
    pop = read_population(p)
    assert int(pop["E01000001"]) == 1636
    assert pop.attrs["encoding"] == encoding
    assert "encoding_note" not in pop.attrs


def test_crs_given_for_a_bng_geojson_without_crs_member_reads_in_metres(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path, tmp_path)
    gdf = read_boundaries(_geojson_without_crs(ctx, X0, Y0, 1000.0), crs=27700)
    assert gdf.crs.to_epsg() == 27700
    assert float(gdf.area.iloc[0]) == 1_000_000.0


# --- signals: a process killed mid-write leaves nothing ---------------------------------------------
_CHILD = """
import sys, time
import pandas as pd
from pathlib import Path
from coterminus.data.atomic import atomic_path
with atomic_path(Path(sys.argv[1]), suffixes=(".parquet",)) as tmp:
    pd.DataFrame({"a": range(100_000)}).to_parquet(tmp)
    print("writing", flush=True)
    for _ in range(600):  # short sleeps: a signal caught by another thread is handled at once
        time.sleep(0.1)
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_during_a_parquet_write_leaves_nothing(tmp_path: Path, signame: str) -> None:
    target = tmp_path / "plan.parquet"
    target.write_text("old plan")
    env = {**os.environ, "PYTHONPATH": str(Path(_atomic.__file__).parents[2])}
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "writing"
            assert len(list(tmp_path.glob(".plan.parquet.*.part"))) == 1
            child.send_signal(getattr(signal, signame))
            assert child.wait(timeout=30) == -getattr(signal, signame)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.parquet"]
    assert target.read_text() == "old plan"


# --- issue 18: names, named scenarios, the scorecard, and the messages of issue 21 in its files -----
def _one_line_error(argv: list[str], data_dir: Path) -> str:
    import contextlib
    import io

    from coterminus.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--data-dir", str(data_dir)])
    text = err.getvalue()
    assert code != 0, text
    assert text.count("\n") == 1
    assert "Traceback" not in text
    return text


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (  # a code typo: the nearest codes, one full stop
            ["assess", "--vintage", "2026", "--codes", "E5400063"],
            "coterminus assess: error: No area with code 'E5400063' in 2026; did you mean "
            "E54000069 (NHS Surrey and Sussex Integrated Care Board) or E54000068 (NHS Norfolk "
            "and Suffolk Integrated Care Board) or E54000067 (NHS Hampshire and Isle of Wight "
            "Integrated Care Board)?\n",
        ),
        (  # a level this vintage lacks: the vintages that have it
            ["assess", "--vintage", "2019", "--system", "Frimley", "--units", "icb"],
            "coterminus assess: error: no level 'icb' in 2019; levels are ccg, stp, ltla, utla; "
            "did you mean 'stp'? The built-in vintages with icb are 2022, 2024, 2026 (--vintage "
            "2026, coterminus.load(2026)).\n",
        ),
        (  # an old name: what its area is now
            ["assess", "--vintage", "2026", "--system", "Frimley", "--units", "icb"],
            "coterminus assess: error: No area 'Frimley' in 2026: 'Frimley' is the name of a "
            "2022/2024 ICB (NHS Frimley Integrated Care Board, E54000034), not of a 2026 one; in "
            "2026 its area is split between ICBs: 57% in NHS Thames Valley Integrated Care Board "
            "(E54000070), 23% in NHS Hampshire and Isle of Wight Integrated Care Board "
            "(E54000067), 20% in NHS Surrey and Sussex Integrated Care Board (E54000069). Use "
            "vintage 2024 for it (coterminus.load(2024), --vintage 2024).\n",
        ),
        (  # a name shared by an ICB and a combined authority: both choices
            ["assess", "--vintage", "2024", "--system", "Greater Manchester"],
            "coterminus assess: error: 'Greater Manchester' names 2 areas in 2024: the combined "
            "authority Greater Manchester (E47000001); the ICB NHS Greater Manchester Integrated "
            "Care Board (E54000057). Say which: give its code, or the level of the footprint's "
            "members with --units (--units cauth or --units icb; units= in Python).\n",
        ),
        (  # a misspelt named scenario
            ["alignment", "--scenario", "icb-cluster-2027"],
            "coterminus alignment: error: no named scenario 'icb-cluster-2027'; did you mean "
            "'icb-clusters-2027'? The named scenarios are icb-clusters-2027, lgr-surrey-2027, "
            "sa-proposed-2026 (coterminus scenarios lists them); or give the path of a CSV file "
            "of member,area[,area_name] rows.\n",
        ),
        (
            ["alignment", "--compare"],
            "coterminus alignment: error: --compare needs --scenario NAME|CSV (coterminus "
            "scenarios lists the named ones)\n",
        ),
        (
            ["alignment", "--units", "sa", "--authorities", "sa"],
            "coterminus alignment: error: units, authorities and councils must be three levels; "
            "got 'sa', 'sa', 'utla'.\n",
        ),
    ],
)
def test_issue_18_messages(argv: list[str], expected: str, data_dir: Path) -> None:
    assert _one_line_error(argv, data_dir) == expected


def test_diff_sentences_count_nothing_of_nothing_and_end_each_sentence() -> None:
    from coterminus.analysis.diff.vintages import diff_membership

    old = pd.Series({"L1": "A", "L2": "B", "L3": "C"})
    new = pd.Series({"L1": "M", "L2": "M", "L3": "C"})
    d = diff_membership(old, new, level="icb", old_vintage=2024, new_vintage=2026)
    assert d.summary == (
        "1 new ICB formed from 2 of the 3 ICBs of 2024 (2 ICBs in 2026). Geographically: 1 pure "
        "merger of 2; 1 unchanged; no LSOA moved between units."
    )
    one = diff_membership(pd.Series({"L1": "A"}), pd.Series({"L1": "A"}), level="icb")
    assert one.summary.startswith("No new ICBs: the 1 ICB has a code of the 1 old ICB.")


def test_integrity_keeps_no_process_wide_setting() -> None:
    """The trust setting and the modified files travel on each geography (issue 20): there is no
    switch a test (or the CLI) could leave on, and no check block is left open."""
    assert not hasattr(_integrity, "set_trust_modified")
    assert _integrity._current.get() is None


# =====================================================================================================
# Issues 19 and 22 (loading): the manifest checks that need the files, done while the block table is
# prepared, before any answer; and the integrity of every byte read (embedded copy, downloads, cache).
# Each case builds a tiny vintage (6 LSOAs 2021, 3 lower-tier and 2 upper-tier councils, 2 ICBs, one
# combined authority through an LTLA lookup) in tmp_path/"in", breaks one thing, and loads it with
# its own cache folder: the error names the fix and nothing is written to the cache.
# =====================================================================================================
BLOCKS6 = ["E01000001", "E01000002", "E01000003", "E01000005", "E01000006", "E01000007"]
TINY_MANIFEST = """
vintage = "tiny"
title = "six LSOAs"
[blocks]
level = "lsoa21"
source = { file = "lookup.csv" }
code_column = "LSOA21CD"
name_column = "LSOA21NM"
[population]
source = { file = "pop.csv" }
code_column = "LSOA21CD"
column = "POP"
[levels.icb]
side = "nhs"
code_column = "ICB24CD"
name_column = "ICB24NM"
nhs_code_column = "ICB24CDH"
[levels.ltla]
side = "council"
code_column = "LAD24CD"
name_column = "LAD24NM"
parent = "utla"
[levels.utla]
side = "council"
code_column = "UTLA24CD"
name_column = "UTLA24NM"
[levels.cauth]
side = "council"
via = "ltla"
source = { file = "cauth.csv" }
key_column = "LAD23CD"
code_column = "CAUTH23CD"
name_column = "CAUTH23NM"
"""


def _tiny_rows() -> list[dict[str, str]]:
    ltla = ["L1", "L1", "L2", "L2", "L3", "L3"]
    utla = {"L1": "U1", "L2": "U2", "L3": "U2"}
    return [
        {
            "LSOA21CD": code,
            "LSOA21NM": f"block {i + 1}",
            "ICB24CD": "I1" if i < 3 else "I2",
            "ICB24CDH": "QA1" if i < 3 else "QA2",
            "ICB24NM": "ICB one" if i < 3 else "ICB two",
            "LAD24CD": ltla[i],
            "LAD24NM": f"council {ltla[i]}",
            "UTLA24CD": utla[ltla[i]],
            "UTLA24NM": f"county {utla[ltla[i]]}",
        }
        for i, code in enumerate(BLOCKS6)
    ]


def _tiny(
    ctx: Ctx,
    *,
    rows: list[dict[str, str]] | None = None,
    pop: str | None = None,
    cauth: str = "LAD23CD,LAD23NM,CAUTH23CD,CAUTH23NM\nL1,council L1,C1,Authority one\n",
    manifest: str = TINY_MANIFEST,
) -> Path:
    """Write the tiny vintage (with the changes a case makes) and return its manifest."""
    table = pd.DataFrame(rows if rows is not None else _tiny_rows())
    table.to_csv(ctx.inp / "lookup.csv", index=False)
    people = "LSOA21CD,POP\n" + "".join(f"{c},{1000 + i}\n" for i, c in enumerate(BLOCKS6))
    (ctx.inp / "pop.csv").write_text(pop if pop is not None else people)
    (ctx.inp / "cauth.csv").write_text(cauth)
    path = ctx.inp / "tiny.toml"
    path.write_text(manifest)
    return path


def _load_tiny(ctx: Ctx, **changes: object) -> None:
    from coterminus.geography.bundle import load

    load(_tiny(ctx, **changes))  # type: ignore[arg-type]


def _rows_with(**changes: dict[int, str]) -> list[dict[str, str]]:
    rows = _tiny_rows()
    for column, values in changes.items():
        for i, value in values.items():
            rows[i][column] = value
    return rows


def loading_parent_straddled(ctx: Ctx) -> None:
    """L2 gets a third block, which lies in the other upper tier."""
    moved = {"LAD24CD": {4: "L2"}, "LAD24NM": {4: "council L2"}}
    _load_tiny(ctx, rows=_rows_with(**moved, UTLA24CD={4: "U1"}, UTLA24NM={4: "county U1"}))


def loading_two_names_for_one_code(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(ICB24NM={2: "ICB uno"}))


def loading_two_nhs_codes_for_one_code(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(ICB24CDH={1: "QA9"}))


def loading_via_key_listed_twice(ctx: Ctx) -> None:
    head = "LAD23CD,LAD23NM,CAUTH23CD,CAUTH23NM\n"
    _load_tiny(ctx, cauth=head + "L1,council L1,C1,One\nL1,council L1,C2,Two\n")


def loading_via_lookup_of_another_vintage(ctx: Ctx) -> None:
    head = "LAD23CD,LAD23NM,CAUTH23CD,CAUTH23NM\n"
    _load_tiny(ctx, cauth=head + "L1,council L1,C1,One\nE07000150,Corby,C1,One\n")


def loading_via_key_column_missing(ctx: Ctx) -> None:
    _load_tiny(ctx, cauth="LAD24CD,CAUTH23CD,CAUTH23NM\nL1,C1,One\n")


def loading_lsoa11_codes_declared_as_2021(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(LSOA21CD={5: "E01000010"}))


def loading_block_code_of_no_vintage(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(LSOA21CD={5: "E01999999"}))


def loading_welsh_block_code(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(LSOA21CD={5: "W01000001"}))


def loading_block_without_code(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(LSOA21CD={5: ""}))


def loading_block_listed_twice(ctx: Ctx) -> None:
    _load_tiny(ctx, rows=_rows_with(LSOA21CD={5: BLOCKS6[0]}))


def loading_column_twice_in_the_header(ctx: Ctx) -> None:
    path = _tiny(ctx)
    lines = (ctx.inp / "lookup.csv").read_text().splitlines()
    lines = [lines[0] + ",LAD24CD", *(line + ",L9" for line in lines[1:])]
    (ctx.inp / "lookup.csv").write_text("\n".join(lines) + "\n")
    from coterminus.geography.bundle import load

    load(path)


def loading_population_code_column_other_case(ctx: Ctx) -> None:
    people = "lsoa21cd,POP\n" + "".join(f"{c},1000\n" for c in BLOCKS6)
    _load_tiny(ctx, pop=people)


def loading_population_listed_twice(ctx: Ctx) -> None:
    people = "LSOA21CD,POP\n" + "".join(f"{c},1000\n" for c in [*BLOCKS6, BLOCKS6[2]])
    _load_tiny(ctx, pop=people)


def loading_population_row_without_code(ctx: Ctx) -> None:
    people = "LSOA21CD,POP\n" + "".join(f"{c},1000\n" for c in BLOCKS6) + ",12\n"
    _load_tiny(ctx, pop=people)


def loading_population_missing_a_block(ctx: Ctx) -> None:
    people = "LSOA21CD,POP\n" + "".join(f"{c},1000\n" for c in BLOCKS6[:-1])
    _load_tiny(ctx, pop=people)


def loading_population_of_text(ctx: Ctx) -> None:
    people = "LSOA21CD,POP\n" + "".join(f"{c},many\n" for c in BLOCKS6)
    _load_tiny(ctx, pop=people)


def loading_too_many_levels(ctx: Ctx) -> None:
    extra = "".join(
        f'[levels.x{i}]\nside = "council"\ncode_column = "LAD24CD"\n' for i in range(98)
    )
    _load_tiny(ctx, manifest=TINY_MANIFEST + extra)


def loading_edited_embedded_file(ctx: Ctx) -> None:
    """One byte of a copy of the embedded dataset edited; loaded with no data directory."""
    import shutil
    from unittest import mock

    from coterminus.data import embedded
    from coterminus.geography.bundle import load

    copy = ctx.inp / "_embedded"
    shutil.copytree(embedded.root(), copy)
    blocks = copy / "2019" / "blocks.parquet"
    data = bytearray(blocks.read_bytes())
    data[len(data) // 2] ^= 0x01
    blocks.write_bytes(bytes(data))
    with (
        mock.patch.object(embedded, "root", return_value=copy),
        mock.patch.dict(os.environ, {"COTERMINUS_DATA_DIR": ""}),
    ):
        load(2019)


def _downloaded(ctx: Ctx, recorded: str | None) -> None:
    """The 2024 block lookup in the download cache (no data directory), then loaded."""
    from unittest import mock

    from coterminus.data import catalog
    from coterminus.geography.bundle import load

    folder = Path(os.environ["COTERMINUS_CACHE_DIR"]) / "downloads"
    folder.mkdir(parents=True)
    remote = catalog.get("lsoa-lookup-2024").remote
    assert remote is not None
    (folder / remote.filename).write_text("LSOA21CD\nE01000001\n")
    if recorded is not None:
        (folder / f"{remote.filename}.source.json").write_text(json.dumps({"sha256": recorded}))
    with mock.patch.dict(os.environ, {"COTERMINUS_DATA_DIR": ""}):
        load(2024)


def loading_edited_download(ctx: Ctx) -> None:
    _downloaded(ctx, "0" * 64)


def loading_download_without_record(ctx: Ctx) -> None:
    _downloaded(ctx, None)


LOADING_CASES: dict[str, tuple[Callable[[Ctx], None], type[BaseException], str]] = {
    "parent-straddled": (
        loading_parent_straddled,
        ManifestError,
        r"levels\.ltla\.parent = 'utla', but 1 ltla unit\(s\) lie in more than one utla unit: L2 \(U2: 2 blocks; U1: 1 block, E01000006\)\. A parent groups whole units: fix the lookup, or remove parent from \[levels\.ltla\]",
    ),
    "name-column-two-names": (
        loading_two_names_for_one_code,
        ManifestError,
        r"levels\.icb\.name_column 'ICB24NM' gives 1 code\(s\) more than one name: I1 \('ICB one', 'ICB uno'\)\. Each code has one name: point the manifest at the column of names",
    ),
    "nhs-code-column-two-codes": (
        loading_two_nhs_codes_for_one_code,
        ManifestError,
        r"levels\.icb\.nhs_code_column 'ICB24CDH' gives 1 code\(s\) more than one NHS code: I1",
    ),
    "via-key-twice": (
        loading_via_key_listed_twice,
        LookupMismatchError,
        r"levels\.cauth\.source \(cauth\.csv\): 1 key\(s\) listed more than once: L1\. A lookup lists each ltla code once; delete the repeated rows",
    ),
    "via-lookup-of-another-vintage": (
        loading_via_lookup_of_another_vintage,
        VintageMismatchError,
        r"levels\.cauth\.source \(cauth\.csv\): 1 of its 2 keys are not ltla codes of vintage tiny: E07000150\. The lookup is probably of another vintage.*use a lookup keyed by this vintage's ltla codes",
    ),
    "via-key-column-missing": (
        loading_via_key_column_missing,
        ColumnError,
        r"levels\.cauth\.source: cauth\.csv has no column 'LAD23CD' \(nearest: 'LAD24CD'\).*Fix the column names in the manifest",
    ),
    "blocks-lsoa11-declared-2021": (
        loading_lsoa11_codes_declared_as_2021,
        VintageMismatchError,
        r"lookup\.csv: 1 of its 6 block codes are LSOA \(2011\) codes, not LSOA \(2021\) codes \(E01000010\): the lookup is of another vintage than \[blocks\] level = 'lsoa21' says\. Use a lookup of LSOA \(2021\) codes, or declare level = 'lsoa11'",
    ),
    "blocks-code-of-no-vintage": (
        loading_block_code_of_no_vintage,
        VintageMismatchError,
        r"1 of its 6 block codes are not LSOA \(2021\) codes \(E01999999\); use the ONS lookup of LSOA \(2021\)s",
    ),
    "blocks-welsh-code": (
        loading_welsh_block_code,
        VintageMismatchError,
        r"1 of its 6 block codes do not start with E01, the prefix of LSOA \(2021\) codes in England: W01000001 \(a Welsh LSOA \(W01\)\)\. coterminus covers England's LSOA \(2021\)s only; drop those rows",
    ),
    "blocks-without-code": (
        loading_block_without_code,
        LookupMismatchError,
        r"lookup\.csv: 1 row\(s\) with no block code; the lookup is incomplete",
    ),
    "blocks-listed-twice": (
        loading_block_listed_twice,
        LookupMismatchError,
        r"lookup\.csv: 1 duplicate code\(s\): E01000001\. A block lookup lists each block once",
    ),
    "lookup-column-twice-in-header": (
        loading_column_twice_in_the_header,
        ColumnError,
        r"lookup\.csv has the column\(s\) \['LAD24CD'\] twice in its header.*rename or delete the repeated column",
    ),
    "population-code-column-exact": (
        loading_population_code_column_other_case,
        ColumnError,
        r"population\.source: pop\.csv has no column 'LSOA21CD' \(nearest: 'lsoa21cd'\)",
    ),
    "population-listed-twice": (
        loading_population_listed_twice,
        DuplicateCodeError,
        r"pop\.csv: 1 duplicate code\(s\): E01000003\. Each area must appear once in a population file",
    ),
    "population-row-without-code": (
        loading_population_row_without_code,
        PopulationError,
        r"pop\.csv: 1 row\(s\) with no code in 'LSOA21CD' \(population\.code_column\); every row needs the code of its block",
    ),
    "population-missing-a-block": (
        loading_population_missing_a_block,
        LookupMismatchError,
        r"1 block\(s\) of the tiny lookup \(lookup\.csv\) have no population in pop\.csv \(e\.g\. \['E01000007'\].*coterminus will not guess populations",
    ),
    "population-of-text": (
        loading_population_of_text,
        PopulationError,
        r"pop\.csv: 6 population value\(s\) are not plausible counts of people in column 'POP': E01000001='many' \(not a number\)",
    ),
    "levels-too-many": (
        loading_too_many_levels,
        ManifestError,
        r"declares 102 levels; coterminus reads at most 100 \(a vintage has 4 to 7\)\. Split it into several manifests",
    ),
    "embedded-file-edited": (
        loading_edited_embedded_file,
        ModifiedFileError,
        r"blocks\.parquet has been modified: its SHA-256 is [0-9a-f]{64} but the one recorded in files\.json when coterminus was built is [0-9a-f]{64} .*reinstall coterminus \(`pip install --force-reinstall coterminus`\).*--trust-modified",
    ),
    "download-edited": (
        loading_edited_download,
        ModifiedFileError,
        r"has been modified: its SHA-256 is [0-9a-f]{64} but the one recorded when it was downloaded is 0{64} .*Download it again \(`coterminus data fetch lsoa-lookup-2024 --force`\).*--trust-modified",
    ),
    "download-without-record": (
        loading_download_without_record,
        ModifiedFileError,
        r"has no SHA-256 recorded when it was downloaded .*so its bytes cannot be checked\. Download it again \(`coterminus data fetch lsoa-lookup-2024 --force`\)",
    ),
}


@pytest.mark.parametrize("name", list(LOADING_CASES))
def test_bad_input_while_loading(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    func, error, fix = LOADING_CASES[name]
    ctx = Ctx(tmp_path / "in", tmp_path / "out")
    ctx.inp.mkdir()
    ctx.out.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(cache))
    _integrity.reset()
    with pytest.raises(error, match=fix) as info:
        func(ctx)
    assert "Traceback" not in str(info.value)
    assert "\n" not in str(info.value)
    parsed = cache / "parsed"
    assert not parsed.exists() or list(parsed.iterdir()) == []  # nothing prepared from bad files
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    _integrity.reset()


def test_the_tiny_vintage_loads_with_every_level_and_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cases above break a vintage that loads: units, people, names, the via level."""
    from coterminus.geography.bundle import load

    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path / "cache"))
    ctx = Ctx(tmp_path, tmp_path)
    geo = load(_tiny(ctx))
    assert geo.units("ltla")["population"].to_dict() == {"L1": 2001, "L2": 2005, "L3": 2009}
    assert geo.units("ltla")["utla"].to_dict() == {"L1": "U1", "L2": "U2", "L3": "U2"}
    assert geo.units("icb").loc["I2", ["name", "nhs_code"]].tolist() == ["ICB two", "QA2"]
    assert geo.units("cauth")["population"].to_dict() == {"C1": 2001}
    assert int(geo.lsoa["cauth"].notna().sum()) == 2


def test_population_code_column_is_the_one_read_even_beside_another_code_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A population CSV with an LSOA 2011 column first: the manifest's column is used, exactly."""
    from coterminus.geography.bundle import load

    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path / "cache"))
    ctx = Ctx(tmp_path, tmp_path)
    people = "LSOA11CD,LSOA21CD,POP\n" + "".join(
        f"E0100009{i},{c},{10 * (i + 1)}\n" for i, c in enumerate(BLOCKS6)
    )
    geo = load(_tiny(ctx, pop=people))
    assert geo.lsoa["population"].tolist() == [10, 20, 30, 40, 50, 60]


def test_a_manifest_at_the_cap_of_levels_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coterminus.data.table_checks import MAX_LEVELS
    from coterminus.geography.bundle import load

    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path / "cache"))
    extra = "".join(
        f'[levels.x{i}]\nside = "council"\ncode_column = "LAD24CD"\n' for i in range(MAX_LEVELS - 4)
    )
    geo = load(_tiny(Ctx(tmp_path, tmp_path), manifest=TINY_MANIFEST + extra))
    assert len(geo.level_names) == MAX_LEVELS
    assert geo.units(f"x{MAX_LEVELS - 5}")["population"].sum() == 6015


# === issue 21: messages of assessments, places, systems and every --out (owner: i21-board) =========
# Each message a user reads, with its expected text; and the budget: no error message in the suite
# is longer than 1,000 characters (tests/message_budget.py, loaded by tests/conftest.py).
@pytest.fixture(scope="module")
def geo24_embedded() -> object:
    """The 2024 geography as a new user has it: the embedded copy (the same people as the files)."""
    import coterminus

    old = os.environ.pop("COTERMINUS_DATA_DIR", None)
    try:
        return coterminus.load(2024)
    finally:
        if old is not None:
            os.environ["COTERMINUS_DATA_DIR"] = old


def test_explanation_names_a_best_fit_council_it_does_not_cover_wholly(geo24_embedded) -> None:
    import coterminus

    a = coterminus.assess(geo24_embedded, system="Surrey Heartlands", units="icb")
    text = a.explain()
    assert "covering wholly: none" not in text
    assert text.startswith(
        "100.0% of NHS Surrey Heartlands Integrated Care Board (E54000063)'s 1,049,641 people "
        "live in Surrey, which it does not cover wholly (87.2% of its people live inside the "
        "footprint). 153,488 people of Surrey are outside it."
    )


def test_explanation_says_which_best_fit_councils_are_whole_and_which_in_part(
    geo24_embedded,
) -> None:
    import coterminus

    a = coterminus.assess(geo24_embedded, system="Frimley", units="icb", against="ltla")
    assert a.explain().startswith(
        "89.9% of NHS Frimley Integrated Care Board (E54000034)'s 764,343 people live in "
        "Bracknell Forest, Slough, Windsor and Maidenhead, Hart, Rushmoor and Surrey Heath; it "
        "covers Bracknell Forest, Slough, Windsor and Maidenhead and Rushmoor wholly and Hart and "
        "Surrey Heath in part. 14,453 people of Surrey Heath are outside it."
    )


def test_area_explanation_says_lies_and_counts_differences_below_a_tenth_of_a_km2() -> None:
    """The tiny grid, with the line between C1 and C2 moved 4 m into d: 40,000 m² of d in C1."""
    import coterminus
    from helpers import KM, X0, Y0, tiny_geography

    geo = tiny_geography()
    ccg = geo.layer("ccg").copy()
    strip = shapely.box(X0 + 10 * KM, Y0, X0 + 10 * KM + 4, Y0 + 10 * KM)
    ccg.loc["E38900001", "geometry"] = ccg.at["E38900001", "geometry"].union(strip)
    ccg.loc["E38900002", "geometry"] = ccg.at["E38900002", "geometry"].difference(strip)
    layers = {lv: geo.layer(lv) for lv in ("stp", "ltla", "utla")}
    geo2 = type(geo)(vintage=2019, ccg=ccg, lsoa=geo.lsoa, **layers)
    a = coterminus.assess(geo2, "E38900002", measure="area", against="ltla")
    text = a.explain()
    assert not re.search(r"(?<![\d.])0\.0 km²", text)
    assert " are outside it" not in text
    assert "50.0 km² of Bee lies outside it." in text
    assert "1 more lower-tier council differs from it by less than 0.1 km²." in text  # Dee


def test_places_say_what_they_leave_out(geo24_embedded) -> None:
    import coterminus

    a = coterminus.assess(geo24_embedded, system="Surrey Heartlands", units="icb")
    left = a.places().left_out()
    assert left == (
        "Left out of places: 4 lower-tier councils the footprint holds only in part — Guildford "
        "(123,201 of its people), Waverley (83,045), Runnymede (76,256) and Surrey Heath (14,453) "
        "— so 296,955 of its people are in no place."
    )
    assert left in a.places().explain()


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from coterminus import cli

    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_systems_out_says_what_it_wrote_and_its_columns_are_the_printed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COTERMINUS_DATA_DIR", raising=False)
    csv, js = tmp_path / "icbs.csv", tmp_path / "icbs.json"
    code, out, _ = _cli(
        ["systems", "--vintage", "2024", "--against", "utla", "cauth", "--out", str(csv)], capsys
    )
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"wrote {csv} (")
    assert "42 rows ×" in last
    assert "named as printed" in last
    assert out.startswith("Vintage 2024; people: Census 2021 usual residents")  # the heading
    header = next(line.split() for line in out.splitlines() if line.split()[:1] == ["system"])
    written = pd.read_csv(csv)
    assert set(header) <= set(written.columns), sorted(set(header) - set(written.columns))
    assert "coterminosity_index_utla" in header
    assert "touched_cauth" in header
    code, out, err = _cli(
        ["systems", "--vintage", "2024", "--json", "--against", "utla", "--out", str(js)], capsys
    )
    assert code == 0
    assert err.startswith(f"wrote {js} (")
    assert list(pd.read_json(js).columns) == list(json.loads(out)[0])


def test_systems_out_with_another_suffix_is_refused_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["systems", "--out", str(tmp_path / "t.xlsx")], capsys)
    assert code != 0
    assert len(err.strip().splitlines()) == 1
    assert ".csv" in err
    assert ".json" in err


def test_every_out_of_assess_map_and_report_says_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COTERMINUS_DATA_DIR", raising=False)
    runs = {
        "a.json": ["assess", "--vintage", "2019", "--ccgs", "05A"],
        "m.html": ["map", "--vintage", "2019", "--ccgs", "05A", "--offline"],
        "m.png": ["map", "--vintage", "2019", "--ccgs", "05A"],
        "r.html": ["report", "--vintage", "2019", "--ccgs", "05A"],
    }
    for name, argv in runs.items():
        path = tmp_path / name
        code, out, _ = _cli([*argv, "--out", str(path)], capsys)
        assert code == 0
        assert out.strip().splitlines()[-1].startswith(f"wrote {path} ("), (name, out[-300:])
        assert path.stat().st_size > 1000


def test_the_message_budget_fails_a_test_whose_error_is_too_long(tmp_path: Path) -> None:
    (tmp_path / "test_long.py").write_text(
        "import pytest\n"
        "from coterminus.errors import ParameterError\n\n"
        "def test_short():\n"
        "    with pytest.raises(ParameterError):\n"
        "        raise ParameterError('x' * 1000)\n\n"
        "def test_long():\n"
        "    with pytest.raises(ParameterError):\n"
        "        raise ParameterError(\"code 'E01999999' is not an LSOA of 2024; \" * 40)\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "message_budget", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, "test_long.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed, 1 passed" in run.stdout
    assert "longer than 1,000 characters: ParameterError of 1,640 characters" in run.stdout


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("line", "typo", "expected"),
    [
        (
            'column = "POP_CENSUS2021"',
            'column = "POP_CENSUS21"',
            "coterminus assess: error: population.source: lsoa21_pop_census2021_ew.csv has no "
            "column 'POP_CENSUS21' (nearest: 'POP_CENSUS2021'); its columns are ['LSOA21CD', "
            "'LSOA21NM', 'POP_CENSUS2021']. Fix the column names in the manifest.",
        ),
        (
            'code_column = "LSOA21CD"\ncolumn = "POP_CENSUS2021"',
            'code_column = "LSOA21CX"\ncolumn = "POP_CENSUS2021"',
            "coterminus assess: error: population.source: lsoa21_pop_census2021_ew.csv has no "
            "column 'LSOA21CX' (nearest: 'LSOA21CD'); its columns are ['LSOA21CD', 'LSOA21NM', "
            "'POP_CENSUS2021']. Fix the column names in the manifest.",
        ),
    ],
    ids=["population-column", "population-code-column"],
)
def test_a_manifest_population_column_typo_names_the_nearest_column(
    line: str,
    typo: str,
    expected: str,
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from coterminus.data.manifest import manifest_text

    text = manifest_text(2024)
    assert text.count(line) == 1
    path = tmp_path / "v.toml"
    path.write_text(text.replace(line, typo), encoding="utf-8")
    argv = ["assess", "--vintage", str(path), "--codes", "E54000018", "--data-dir", str(data_dir)]
    code, _, err = _cli(argv, capsys)
    assert code != 0
    assert err.strip() == expected  # one line, no bare "error: POP_CENSUS21", no silent accept


# --- issue 17: coterminus optimise (owner: i17-optimise) -----------------------------------------
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["optimise", "--vintage", "2024", "--all-systems", "--units", "utla"],
            "coterminus optimise: error: --all-systems needs --within LEVEL (the level of the "
            "systems, e.g. nhser)\n",
        ),
        (
            ["optimise", "--vintage", "2024", "--system", "Midlands", "--time-limit", "0"],
            "coterminus optimise: error: argument --time-limit: 0 is out of range: give a number "
            "> 0 (see coterminus optimise --help)\n",
        ),
        (  # a misspelt scenario to compare with: refused before anything is solved
            [
                "optimise",
                "--vintage",
                "2024",
                "--units",
                "icb",
                "--within",
                "nhser",
                "--system",
                "Midlands",
                "--compare",
                "icb-cluster-2027",
            ],
            "coterminus optimise: error: no named scenario 'icb-cluster-2027'; did you mean "
            "'icb-clusters-2027'? The named scenarios are icb-clusters-2027, lgr-surrey-2027, "
            "sa-proposed-2026 (coterminus scenarios lists them); or give the path of a CSV file "
            "of member,area[,area_name] rows.\n",
        ),
        pytest.param(  # no plan: the units no allowed block holds, the rule to drop (24 units)
            [
                "optimise",
                "--vintage",
                "2024",
                "--units",
                "utla",
                "--within",
                "nhser",
                "--system",
                "Midlands",
                "--against",
                "cauth",
                "--coterminous-with",
                "cauth",
                "--max-pop",
                "2000000",
            ],
            "coterminus optimise: error: No plan of the 24 upper-tier councils of Midlands keeps "
            "every rule (1,000,000–2,000,000 people, a rule). No allowed block holds Birmingham, "
            "Coventry, Dudley, Sandwell, Solihull, Walsall and Wolverhampton. Dropping one rule "
            "would allow plans: without every block coterminous (--coterminous-with). Not decided "
            "(too many blocks to check): without the maximum population (--max-pop).\n",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_issue_17_optimise_messages(argv: list[str], expected: str, data_dir: Path) -> None:
    assert _one_line_error(argv, data_dir) == expected


@pytest.mark.realdata
def test_issue_17_optimise_out_must_be_a_folder(data_dir: Path, tmp_path: Path) -> None:
    afile = tmp_path / "plans.csv"
    afile.write_text("x\n")
    argv = ["optimise", "--vintage", "2024", "--system", "Midlands", "--out", str(afile)]
    text = _one_line_error(argv, data_dir)
    expected = f"coterminus optimise: error: --out {afile} is a file; give a folder (created if "
    assert text == expected + "missing)\n"
