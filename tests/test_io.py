"""Readers: every real ONS file under ../shared/data, and every bad input, with exact answers."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import coterminus as ct
from coterminus.data.readers import detect_code_columns, list_layers
from coterminus.errors import (
    ArchiveError,
    ColumnError,
    CRSError,
    DuplicateCodeError,
    EmptyDataError,
    LayerError,
    NonEnglandWarning,
    PopulationError,
    RepairWarning,
    VintageMismatchError,
)

GPKG_LAYERS = {
    2019: {"ccg": 191, "stp": 42, "lad": 317, "utla": 151, "lad_ons_buc": 317, "utla_ons_buc": 151},
    2020: {
        "ccg": 135,
        "stp": 42,
        "lad": 314,
        "utla": 151,
        "ccg_ons_buc": 135,
        "stp_ons_buc": 42,
        "lad_ons_buc": 314,
    },
    2021: {
        "ccg": 106,
        "stp": 42,
        "lad": 309,
        "utla": 152,
        "ccg_ons_buc": 106,
        "stp_ons_buc": 42,
        "lad_ons_buc": 309,
        "utla_ons_buc": 152,
    },
}
LEVEL_OF_LAYER = {"ccg": "ccg", "stp": "stp", "lad": "ltla", "utla": "utla"}


def _squares(codes: list[str], col: str = "LAD19CD", crs: int | None = 27700) -> gpd.GeoDataFrame:
    """Unit squares side by side, 1 km each: ``0 1 2 ...``."""
    return gpd.GeoDataFrame(
        {col: codes, col.replace("CD", "NM"): [f"area {c}" for c in codes]},
        geometry=[shapely.box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(len(codes))],
        crs=crs,
    )


# --- real data -------------------------------------------------------------------------------
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("vintage", "layer"), [(v, name) for v, layers in GPKG_LAYERS.items() for name in layers]
)
def test_every_geopackage_layer_reads_with_its_ons_count(
    data_dir: Path, vintage: int, layer: str
) -> None:
    gdf = ct.read_boundaries(data_dir / f"boundaries/ons_{vintage}.gpkg", layer=layer)
    assert len(gdf) == GPKG_LAYERS[vintage][layer]
    assert gdf.index.is_unique
    assert gdf.index.name == "code"
    assert gdf.attrs["vintage"] == vintage
    assert gdf.attrs["level"] == LEVEL_OF_LAYER[layer.split("_")[0]]
    assert gdf.crs.to_epsg() == 27700
    assert gdf["name"].notna().all()
    assert gdf.index.str.startswith("E").all()


@pytest.mark.slow
@pytest.mark.realdata
def test_lsoa_layer_warns_about_its_five_invalid_polygons_and_repairs_when_asked(
    data_dir: Path,
) -> None:
    path = data_dir / "boundaries/lsoa11_bgc_england.gpkg"
    with pytest.warns(
        RepairWarning, match=r"5 invalid geometries kept as published \(E01018992: Nested shells"
    ):
        raw = ct.read_boundaries(path, layer="lsoa")
    assert (~raw.is_valid).sum() == 5
    lsoa = ct.read_boundaries(path, layer="lsoa", repair=True)
    assert lsoa.is_valid.all()
    assert [r["code"] for r in lsoa.attrs["repairs"]] == [
        "E01018992",
        "E01019228",
        "E01019900",
        "E01024572",
        "E01027444",
    ]
    assert len(lsoa) == 32_844
    assert lsoa.attrs["level"] == "lsoa"
    # ONS's own BNG areas agree with the re-projected polygons to within 0.1% (median)
    ratio = (lsoa.area / lsoa["Shape__Area"]).median()
    assert ratio == pytest.approx(1.0, abs=1e-3)


@pytest.mark.realdata
def test_ons_zipped_shapefile_drops_non_england_with_a_note(data_dir: Path) -> None:
    with pytest.warns(
        NonEnglandWarning, match=r"dropped 65 non-England rows \(N: 11, S: 32, W: 22\)"
    ):
        utla = ct.read_boundaries(data_dir / "raw/ctyua_dec2019_uk_buc_shp.zip")
    assert len(utla) == 151
    assert utla.attrs["code_column"] == "ctyua19cd"  # ONS 2019 products use lower case
    assert utla.attrs["level"] == "utla"
    assert utla.loc["E10000031", "name"] == "Warwickshire"
    keep = ct.read_boundaries(data_dir / "raw/ctyua_dec2019_uk_buc_shp.zip", england_only=False)
    assert len(keep) == 216


@pytest.mark.realdata
def test_derived_ccg_shapefile_zip_matches_the_geopackage(data_dir: Path) -> None:
    shp = ct.read_boundaries(data_dir / "raw/ccg_apr2019_en_derived_lsoa_bgc_shp.zip")
    gpkg = ct.read_boundaries(data_dir / "boundaries/ons_2019.gpkg", layer="ccg")
    assert sorted(shp.index) == sorted(gpkg.index)
    assert shp.loc["E38000038", "nhs_code"] == "05A"
    assert shp["POP_MID201"].astype(int).sum() == 56_286_961


@pytest.mark.realdata
def test_nested_ons_zip_is_read_from_its_subfolder(data_dir: Path, tmp_path: Path) -> None:
    """ONS zips often nest the shapefile in a folder and ship INSPIRE .xml metadata beside it."""
    nested = tmp_path / "Counties_and_Unitary_Authorities_December_2019.zip"
    with (
        zipfile.ZipFile(data_dir / "raw/ctyua_dec2019_uk_buc_shp.zip") as src,
        zipfile.ZipFile(nested, "w") as dst,
    ):
        for name in src.namelist():
            dst.writestr(f"Counties_Dec2019/{name}", src.read(name))
    with pytest.warns(NonEnglandWarning):
        gdf = ct.read_boundaries(nested)
    assert len(gdf) == 151


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "rows", "levels", "vintage"),
    [
        (
            "lsoa11_ccg19_stp19_lad19_utla19_en.csv",
            32_844,
            ["lsoa", "ccg", "stp", "ltla", "utla"],
            2019,
        ),
        (
            "lsoa11_ccg20_stp20_lad20_utla20_en.csv.gz",
            32_844,
            ["lsoa", "ccg", "stp", "ltla", "utla"],
            2020,
        ),
        (
            "lsoa11_ccg21_stp21_lad21_utla21_en.csv.gz",
            32_844,
            ["lsoa", "ccg", "stp", "ltla", "utla"],
            2021,
        ),
        ("ccg19_stp19_en.csv", 191, ["ccg", "stp"], 2019),
        ("ccg20_stp20_en.csv", 135, ["ccg", "stp"], 2020),
        ("ccg21_stp21_en.csv", 106, ["ccg", "stp"], 2021),
        (
            "ons_original/LSOA11_CCG19_LAD19_EN_LU_apr2019.csv",
            32_844,
            ["lsoa", "ccg", "ltla"],
            2019,
        ),
        (
            "ons_original/LSOA11_CCG20_LAD20_EN_LU_apr2020.csv",
            32_844,
            ["lsoa", "ccg", "ltla"],
            2020,
        ),
        ("ons_original/CCG19_STP19_EN_LU_apr2019.csv", 191, ["ccg", "stp"], 2019),
        ("ons_original/CCG20_STP20_EN_LU_apr2020.csv", 135, ["ccg", "stp"], 2020),
        ("ons_original/LAD19_CTY19_EN_LU_apr2019.csv", 261, ["ltla", "cty"], 2019),
        ("ons_original/LAD20_CTY20_EN_LU_apr2020.csv", 257, ["ltla", "cty"], 2020),
        ("ons_original/CCG19_names_codes_EN_apr2019.csv", 191, ["ccg"], 2019),
        ("ons_original/CCG20_names_codes_EN_apr2020.csv", 135, ["ccg"], 2020),
        ("ons_original/STP20_names_codes_EN_apr2020.csv", 42, ["stp"], 2020),
    ],
)
def test_every_england_lookup_reads(
    data_dir: Path, name: str, rows: int, levels: list[str], vintage: int
) -> None:
    lu = ct.read_lookup(data_dir / "lookups" / name)
    assert len(lu) == rows
    assert lu.attrs["levels"] == levels
    assert lu.attrs["vintage"] == vintage


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "england"),
    [
        ("ltla19_utla19_ew.csv", 317),
        ("ltla20_utla20_ew.csv", 314),
        ("ltla21_utla21_ew.csv", 309),
        ("ons_original/LTLA19_UTLA19_EW_LU_apr2019.csv", 317),
        ("ons_original/LSOA11_UTLA19_EW_LU_dec2019.csv", 32_844),
        ("ons_original/LAD19_names_codes_UK_dec2019.csv", 317),
        ("ons_original/LAD20_names_codes_UK_apr2020.csv", 314),
    ],
)
def test_england_and_wales_lookups_keep_england_with_a_note(
    data_dir: Path, name: str, england: int
) -> None:
    with pytest.warns(NonEnglandWarning):
        lu = ct.read_lookup(data_dir / "lookups" / name)
    assert len(lu) == england


@pytest.mark.realdata
def test_every_ccg_is_in_exactly_one_stp_in_every_vintage(data_dir: Path) -> None:
    for v, n in ((2019, 191), (2020, 135), (2021, 106)):
        lu = ct.read_lookup(next((data_dir / "lookups").glob(f"lsoa11_ccg{v % 100}_*")))
        per_ccg = lu.groupby("ccg")["stp"].nunique()
        assert len(per_ccg) == n
        assert (per_ccg == 1).all()
        assert lu["stp"].nunique() == 42


@pytest.mark.realdata
def test_lsoa_population_sums_equal_ons_published_totals(data_dir: Path) -> None:
    """Independent check: LSOA sums vs ONS-published CCG20, LAD20 and county/UA 2019 totals."""
    with pytest.warns(NonEnglandWarning):
        lsoa = ct.read_population(data_dir / "population/lsoa11_pop_mid2019_ew.csv")
    assert lsoa.sum() == 56_286_961
    assert len(lsoa) == 32_844
    lu19 = ct.read_lookup(data_dir / "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv")
    lu20 = ct.read_lookup(data_dir / "lookups/lsoa11_ccg20_stp20_lad20_utla20_en.csv.gz")
    ccg20 = ct.read_population(data_dir / "population/ccg20_pop_mid2019_ons_sape22dt6a.csv")
    with pytest.warns(NonEnglandWarning):
        lad20 = ct.read_population(data_dir / "population/lad20_pop_mid2019_ons_mye2.csv")
    with pytest.warns(NonEnglandWarning):
        cty19 = ct.read_population(data_dir / "population/ctyua19_pop_mid2019_ons_mye2.csv")
    for lookup, level, published in (
        (lu20, "ccg", ccg20),
        (lu20, "ltla", lad20),
        (lu19, "utla", cty19),
    ):
        sums = lsoa.groupby(lookup[level].reindex(lsoa.index)).sum()
        assert sums.sort_index().equals(published.sort_index().rename_axis(sums.index.name))
    assert len(lad20) == 314
    assert len(cty19) == 151
    assert len(ccg20) == 135


@pytest.mark.realdata
def test_single_year_of_age_and_long_format_populations(data_dir: Path) -> None:
    with pytest.warns(NonEnglandWarning):
        syoa = ct.read_population(data_dir / "population/lsoa11_pop_mid2019_syoa_ew.csv.gz")
    assert syoa.sum() == 56_286_961
    derived = data_dir / "population/derived_area_pop_mid2019_from_lsoa.csv"
    ccg19 = ct.read_population(derived, geography="CCG19")
    assert len(ccg19) == 191
    assert ccg19["E38000038"] == 480_456
    with pytest.raises(ColumnError, match="geography="):
        ct.read_population(derived)


# --- tiny inputs, exact answers ---------------------------------------------------------------
def test_code_columns_are_detected_case_insensitively_with_level_and_vintage() -> None:
    found = detect_code_columns(
        ["FID", "ccg20cd", "CCG20CDH", "ccg20nm", "STP20CD", "ICB22CD", "LOC22CD"]
    )
    assert [(c.column, c.level, c.vintage) for c in found] == [
        ("ccg20cd", "ccg", 2020),
        ("STP20CD", "stp", 2020),
        ("ICB22CD", "icb", 2022),
        ("LOC22CD", "sicbl", 2022),
    ]
    assert found[0].name_column == "ccg20nm"
    assert found[0].nhs_code_column == "CCG20CDH"


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet", ".shp"])
def test_every_format_reads_to_the_same_table(tmp_path: Path, suffix: str) -> None:
    gdf = _squares(["E06000001", "E06000002"])
    path = tmp_path / f"lad{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    out = ct.read_boundaries(path)
    assert list(out.index) == ["E06000001", "E06000002"]
    assert out.loc["E06000002", "name"] == "area E06000002"
    assert out.area.tolist() == pytest.approx([1e6, 1e6])


def test_geojson_in_degrees_is_reprojected_to_british_national_grid(tmp_path: Path) -> None:
    gdf = _squares(["E06000001"]).to_crs(4326)
    gdf.to_file(tmp_path / "x.geojson")
    out = ct.read_boundaries(tmp_path / "x.geojson")
    assert out.crs.to_epsg() == 27700
    assert out.area.iloc[0] == pytest.approx(1e6, rel=1e-3)  # metres again, not degrees²


def test_arcgis_esri_json_reads(tmp_path: Path) -> None:
    esri = (
        '{"objectIdFieldName":"FID","geometryType":"esriGeometryPolygon",'
        '"spatialReference":{"wkid":27700},"fields":[{"name":"FID","type":"esriFieldTypeOID"},'
        '{"name":"LAD19CD","type":"esriFieldTypeString"},{"name":"LAD19NM","type":"esriFieldTypeString"}],'
        '"features":[{"attributes":{"FID":1,"LAD19CD":"E06000001","LAD19NM":"Hartlepool"},'
        '"geometry":{"rings":[[[0,0],[0,1000],[1000,1000],[1000,0],[0,0]]]}}]}'
    )
    (tmp_path / "q.json").write_text(esri)
    out = ct.read_boundaries(tmp_path / "q.json")
    assert out.loc["E06000001", "name"] == "Hartlepool"
    assert out.area.iloc[0] == pytest.approx(1e6)


def test_file_without_crs_is_refused_unless_caller_says(tmp_path: Path) -> None:
    _squares(["E06000001"]).to_file(tmp_path / "a.shp")
    (tmp_path / "a.prj").unlink()
    with pytest.raises(CRSError, match="crs=27700"):
        ct.read_boundaries(tmp_path / "a.shp")
    assert ct.read_boundaries(tmp_path / "a.shp", crs=27700).crs.to_epsg() == 27700


def test_no_code_column_lists_the_columns_seen(tmp_path: Path) -> None:
    gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=27700).to_file(
        tmp_path / "x.gpkg"
    )
    with pytest.raises(ColumnError, match=r"columns seen: \['id', 'geometry'\].*code_col="):
        ct.read_boundaries(tmp_path / "x.gpkg")


def test_two_unique_code_columns_are_ambiguous(tmp_path: Path) -> None:
    gdf = _squares(["E06000001", "E06000002"])
    gdf["LAD20CD"] = ["E06000011", "E06000012"]
    gdf.to_file(tmp_path / "x.gpkg")
    with pytest.raises(ColumnError, match=r"2 candidate code columns \['LAD19CD', 'LAD20CD'\]"):
        ct.read_boundaries(tmp_path / "x.gpkg")
    assert ct.read_boundaries(tmp_path / "x.gpkg", code_col="LAD20CD").attrs["vintage"] == 2020


def test_parent_code_column_is_not_ambiguous(tmp_path: Path) -> None:
    gdf = _squares(["E38000001", "E38000002"], col="CCG19CD")
    gdf["STP19CD"] = ["E54000001", "E54000001"]
    gdf.to_file(tmp_path / "x.gpkg")
    assert ct.read_boundaries(tmp_path / "x.gpkg").attrs["level"] == "ccg"


def test_duplicate_codes_are_refused_with_the_fix(tmp_path: Path) -> None:
    _squares(["E06000001", "E06000001"]).to_file(tmp_path / "x.gpkg")
    with pytest.raises(DuplicateCodeError, match=r"1 duplicate code\(s\): E06000001.*dissolve"):
        ct.read_boundaries(tmp_path / "x.gpkg")


def test_empty_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.geojson").write_bytes(b"")
    with pytest.raises(EmptyDataError, match="0 bytes"):
        ct.read_boundaries(tmp_path / "empty.geojson")
    _squares([]).to_file(tmp_path / "none.gpkg")
    with pytest.raises(EmptyDataError, match="no features"):
        ct.read_boundaries(tmp_path / "none.gpkg")
    (tmp_path / "lu.csv").write_text("LSOA11CD,CCG19CD\n")
    with pytest.raises(EmptyDataError, match="no rows"):
        ct.read_lookup(tmp_path / "lu.csv")


def test_geopackage_layers_unknown_or_ambiguous(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    _squares(["E06000001"]).to_file(path, layer="lad")
    _squares(["E10000001"], col="CTYUA19CD").to_file(path, layer="utla")
    assert sorted(list_layers(path)) == ["lad", "utla"]
    with pytest.raises(LayerError, match=r"has 2 layers .*layer="):
        ct.read_boundaries(path)
    with pytest.raises(LayerError, match=r"no layer 'ccg'; layers are \['lad', 'utla'\]"):
        ct.read_boundaries(path, layer="ccg")


def test_corrupt_and_truncated_zips_are_refused(tmp_path: Path) -> None:
    _squares(["E06000001"]).to_file(tmp_path / "a.shp")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        for f in tmp_path.glob("a.*"):
            zf.write(f, f.name)
    truncated = tmp_path / "trunc.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        ct.read_boundaries(truncated)
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        ct.read_boundaries(tmp_path / "junk.zip")
    assert len(ct.read_boundaries(good)) == 1


def test_zip_slip_member_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/lad.shp", b"x")
        zf.writestr("lad.shp", b"x")
    with pytest.raises(ArchiveError, match="zip-slip"):
        ct.read_boundaries(evil)


def test_population_with_missing_or_negative_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("LSOA11CD,POP_ALL_AGES_MID2019\nE01000001,1636\nE01000002,\nE01000003,-5\n")
    with pytest.raises(
        PopulationError, match=r"2 population value\(s\).*E01000002.*E01000003=' ?-5'"
    ):
        ct.read_population(path)


def test_gzipped_lookup_reads_like_plain(tmp_path: Path) -> None:
    text = "LSOA11CD,CCG19CD,LAD19CD\nE01000001,E38000001,E09000001\n"
    (tmp_path / "lu.csv").write_text(text)
    with gzip.open(tmp_path / "lu.csv.gz", "wt") as fh:
        fh.write(text)
    a = ct.read_lookup(tmp_path / "lu.csv")
    b = ct.read_lookup(tmp_path / "lu.csv.gz")
    assert a.equals(b)
    assert list(a.columns) == ["ccg", "ltla"]


def test_lookup_mixing_vintages_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lu.csv").write_text("LTLA20CD,UTLA19CD\nE06000001,E06000001\n")
    with pytest.raises(VintageMismatchError, match=r"mixes vintages \[2019, 2020\]"):
        ct.read_lookup(tmp_path / "lu.csv")


def test_empty_geometry_is_fatal(tmp_path: Path) -> None:
    gdf = _squares(["E06000001", "E06000002"])
    gdf.loc[1, "geometry"] = shapely.Polygon()
    gdf.to_file(tmp_path / "x.gpkg")
    with pytest.raises(EmptyDataError, match=r"1 area\(s\) with no geometry, e.g. \['E06000002'\]"):
        ct.read_boundaries(tmp_path / "x.gpkg")


def test_missing_file_names_the_data_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="COTERMINUS_DATA_DIR"):
        ct.read_boundaries(tmp_path / "nope.gpkg")


@pytest.mark.realdata
def test_welsh_rows_in_a_real_uk_file_are_kept_only_when_asked(
    data_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(data_dir / "lookups/ltla19_utla19_ew.csv", tmp_path / "lu.csv")
    assert len(ct.read_lookup(tmp_path / "lu.csv", england_only=False)) == 339


@pytest.mark.realdata
def test_real_bng_geojson_without_crs_member_is_refused_then_read_with_crs(
    data_dir: Path, tmp_path: Path
) -> None:
    """ONS CCGs in British National Grid metres, written as GeoJSON without a ``crs`` member:
    GDAL assumes WGS 84, which used to project them to infinity. Now the CRS is named."""
    import json

    ccg = ct.read_boundaries(data_dir / "boundaries/ons_2019.gpkg", layer="ccg").iloc[:5]
    ccg.reset_index().rename(columns={"code": "CCG19CD", "name": "CCG19NM"}).to_file(
        tmp_path / "with_crs.geojson"
    )
    doc = json.loads((tmp_path / "with_crs.geojson").read_text())
    assert "crs" in doc
    del doc["crs"]
    (tmp_path / "ccg.geojson").write_text(json.dumps(doc))
    with pytest.raises(CRSError) as info:
        ct.read_boundaries(tmp_path / "ccg.geojson", level="ccg")
    msg = str(info.value)
    assert msg.startswith(
        "ccg.geojson declares (or, for GeoJSON without a crs member, is assumed to be in) "
        "EPSG:4326, but its coordinates (bounds ("
    )
    assert "look like British National Grid metres (EPSG:27700); pass crs=27700" in msg
    back = ct.read_boundaries(tmp_path / "ccg.geojson", crs=27700, level="ccg")
    assert back.crs.to_epsg() == 27700
    assert back.area.tolist() == pytest.approx(ccg.area.tolist(), rel=1e-9)
