"""Tests of the dataset registry, the downloader and the cache (``coterminus.datasets``).

Downloads go to a fake ONS server on 127.0.0.1 (``tests/ons_server.py``) that serves the real April
2019 CCGs from ../shared/data with ``maxRecordCount`` 50, so a download takes 4 pages. No test
touches the internet: name-resolution failures are made by patching ``socket.getaddrinfo``. Every
failure test also checks that the cache holds no partial or temporary file afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coterminus.data import (
    Dataset,
    Remote,
    UnknownDatasetError,
    UnreachableError,
    arcgis,
    cache_dir,
    catalog,
    fetch,
    fetch_url,
    find_dataset,
    get,
    locate,
    locate_layer,
    net,
    registry,
    resolve_data_dir,
    source_of,
    status,
    verify,
)
from coterminus.data import cache as cache_mod
from coterminus.errors import (
    ArchiveError,
    CacheError,
    ChecksumError,
    DataDirError,
    DownloadError,
    ParameterError,
)
from ons_server import CCG19_SERVICE, CCG19_STP19_SERVICE, FakeONS

REPO = Path(__file__).resolve().parents[1]


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_ccg19_codes(data_dir: Path) -> set[str]:
    frame = pyogrio.read_dataframe(
        data_dir / "boundaries" / "ons_2019.gpkg",
        layer="ccg",
        columns=["CCG19CD"],
        read_geometry=False,
    )
    return set(frame["CCG19CD"])


def cache_files(cache: Path) -> list[str]:
    """Every file in the downloads folder (finished or not), provenance sidecars left out."""
    folder = cache / "downloads"
    names = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return [n for n in names if not n.endswith(".source.json")]


def all_files(root: Path) -> list[str]:
    """Every file anywhere below ``root`` (sidecars and hidden staging files included), but the
    cache folder's marker, which says the folder is coterminus's (``cache.MARKER``)."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.name != cache_mod.MARKER
    )


def fetch_ccg(ons: FakeONS, **kwargs) -> Path:
    kwargs = {"base_url": ons.base_url, "progress": False, "timeout": 5.0, **kwargs}
    return fetch("ccg-2019", **kwargs)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- registry -----------------------------------------------------------------------------------
def test_registry_has_one_row_per_unique_id_with_the_documented_columns():
    reg = registry()
    assert reg.index.is_unique
    assert reg.index.name == "id"
    for column in ("kind", "level", "vintage", "resolution", "title", "local", "layer"):
        assert column in reg.columns
    assert set(reg["kind"]) == {"boundary", "lookup", "population"}
    assert set(reg["level"]) <= {
        "lsoa",
        "ccg",
        "stp",
        "icb",
        "sicbl",
        "nhser",
        "ltla",
        "utla",
        "cauth",
    }
    for required in (
        "ccg-2019",
        "ccg-2019-buc",
        "utla-2019-buc",
        "lsoa-lookup-2019",
        "ltla-utla-2019",
        "lsoa-population-mid2019",
        "lsoa-boundaries-2011",
        "icb-2022-buc",
        "sicbl-2022-buc",
    ):
        assert required in reg.index


@pytest.mark.parametrize("vintage", [2019, 2020, 2021])
@pytest.mark.parametrize("level", ["ccg", "stp", "ltla", "utla", "lsoa"])
def test_every_level_has_boundaries_for_every_vintage(level, vintage):
    ds = find_dataset("boundary", level, vintage)
    assert (ds.kind, ds.level) == ("boundary", level)
    assert vintage in ds.vintages
    assert ds.local is not None, "the preferred dataset should work offline"


@pytest.mark.parametrize("vintage", [2019, 2020, 2021])
def test_every_vintage_has_its_lookups_and_lsoa_population(vintage):
    assert find_dataset("lookup", "lsoa", vintage).id == f"lsoa-lookup-{vintage}"
    assert find_dataset("lookup", "ltla", vintage).id == f"ltla-utla-{vintage}"
    assert find_dataset("lookup", "ccg", vintage).id == f"ccg-stp-{vintage}"
    assert find_dataset("population", "lsoa", vintage).id == "lsoa-population-mid2019"


def test_icb_and_sub_icb_2022_are_download_only():
    for level in ("icb", "sicbl"):
        ds = find_dataset("boundary", level, 2022)
        assert ds.local is None
        assert ds.remote is not None
        assert ds.remote.type == "featureserver"


def test_find_dataset_picks_a_resolution_case_insensitively():
    assert find_dataset("boundary", "ccg", 2020, resolution="buc").id == "ccg-2020-buc"
    assert find_dataset("boundary", "ccg", 2020, resolution="BGC-derived").id == "ccg-2020"


def test_find_dataset_with_a_bad_kind_and_level_reports_both():
    with pytest.raises(ParameterError, match=r"kind='boundaries'.*level='lad'"):
        find_dataset("boundaries", "lad", 2019)  # type: ignore[arg-type]


def test_find_dataset_without_a_match_lists_what_is_registered():
    with pytest.raises(
        UnknownDatasetError, match=r"No boundary dataset for level 'icb'.*icb-2022-buc"
    ):
        find_dataset("boundary", "icb", 2019)


def test_get_an_unknown_id_suggests_the_closest():
    with pytest.raises(UnknownDatasetError, match="did you mean 'ccg-2019'") as info:
        get("ccg2019")
    assert isinstance(info.value, KeyError)


@pytest.mark.realdata
def test_registry_sha256_values_match_the_real_files(data_dir: Path):
    checked = set()
    for ds in catalog.entries().values():
        if ds.local is None:
            continue
        assert ds.sha256 is not None, ds.id
        if ds.local not in checked:
            assert sha256_of(data_dir / ds.local) == ds.sha256, ds.id
            checked.add(ds.local)
    assert len(checked) == 34  # 8 GeoPackages, 20 lookups, 6 population files
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", ds.sha256 or "0" * 64) for ds in catalog.entries().values()
    )


@pytest.mark.realdata
def test_local_geopackage_layers_exist_in_the_real_data(data_dir: Path):
    for ds in catalog.entries().values():
        if ds.local and ds.local.endswith(".gpkg"):
            layers = pyogrio.list_layers(data_dir / ds.local)[:, 0]
            assert ds.layer in layers, ds.id


# ../shared/ONS_SOURCES.md §8: FeatureServer names seen in public code, and names that were not.
SEEN_IN_USE = {
    "Clinical_Commissioning_Groups_April_2019_Boundaries_EN_BGC_2022",
    "Clinical_Commissioning_Groups_April_2019_Boundaries_EN_BUC_2022",
    "STP_Apr_2019_GCB_in_England_2022",
    "Local_Authority_Districts_December_2019_GCB_UK_2022",
    "Counties_and_Unitary_Authorities_December_2019_GCB_UK_2022",
    "CTYUA_Dec_2019_UGCB_in_the_UK_2022",
    "LSOA11_CCG19_LAD19_EN_LU_b15d0240099643b6a303f24ccc04da06",
    "LTLA19_UTLA19_EW_LU",
    "Clinical_Commissioning_Groups_April_2020_Ultra_Generalised_Boundaries_EN_2022",
    "LAD_DEC_2020_UK_BGC",
    "Local_Authority_Districts_December_2020_UK_BGC",
    "Local_Authority_Districts_December_2020_UK_BUC_2022",
    "Local_Authority_Districts_December_2020_UK_BUC_V2",
    "Counties_and_Unitary_Authorities_December_2020_UK_BGC_2022",
    "Sustainability_and_Transformation_Partnerships_April_2020_Boundaries_EN_BUC",
    "LSOA11_CCG20_LAD20_EN_LU_70eab767c27c42bfb95aab5f67d05cdc",
    "CCG20_STP20_EN_LU",
    "LTLA20_UTLA20_EW_LU",
    "Local_Authority_Districts_December_2021_UK_BGC_2022",
    "Local_Authority_Districts_December_2021_UK_BUC_2022",
    "Counties_and_Unitary_Authorities_May_2021_UK_BGC_2022",
    "Counties_and_Unitary_Authorities_May_2021_UK_BUC_2022",
    "Sustainability_and_Transformation_Partnerships_April_2021_EN_BUC_v2",
    "Clinical_Commissioning_Groups_April_2021_EN_BGC",  # "CCG 2021 names have no _2022 suffix"
    "Clinical_Commissioning_Groups_April_2021_EN_BUC",
    "LSOA11_CCG21_STP21_LAD21_EN_LU",
    "LSOA11_CCG21_STP21_LAD21_EN_LU_ae1a442ee397483cab1a31f2e7b24029",
    "CCG21_STP21_EN_LU_1ce1f924d3dd44eca0797b516db80280",
    "LTLA21_UTLA21_EW_LU",
    "ICB_JUL_2022_EN_BUC_V3",
    "ICB_JUL_2022_EN_BGC_V3",
    "SICBL_JUL_2022_EN_BUC",
    "LSOA11_SICBL22_ICB22_LAD22_EN_LU",
    "LSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3",
    "LSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3_2022",
    # 2023–2024
    *(f"Integrated_Care_Boards_April_2023_EN_{r}" for r in ("BFC", "BGC", "BSC", "BFE")),
    *(f"Sub_Integrated_Care_Board_Locations_April_2023_EN_{r}" for r in ("BFC", "BGC")),
    *(f"Local_Authority_Districts_May_2024_Boundaries_UK_{r}" for r in ("BUC", "BFC")),
    *(
        f"Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_{r}"
        for r in ("BSC_V4", "BGC_V5", "BFC_V10")
    ),
    "Combined_Authorities_May_2023_Boundaries_EN_BFC",
    "LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU",
    "LSOA21_WD24_LAD24_EW_LU",
    "LSOA11_LSOA21_LAD22_EW_LU",
    "LTLA23_UTLA23_EW_LU",
    "LAD23_CAUTH23_EN_LU",
}
CONSTRUCTED = {
    "CCG19_STP19_EN_LU",
    "STP_Apr_2019_Ultra_Generalised_Boundaries_in_England_2022",
    "Clinical_Commissioning_Groups_April_2020_GCB_EN_2022",
    "Local_Authority_Districts_December_2019_UGCB_UK_2022",
    "Sustainability_and_Transformation_Partnerships_April_2021_EN_BGC_2022",
    "SICBL_JUL_2022_EN_BGC",
    "Local_Authority_Districts_(December_2020)_UK_BGC_V2",
}


def test_registry_service_names_are_only_names_seen_in_use():
    names = {
        name
        for ds in catalog.entries().values()
        if ds.remote and ds.remote.type == "featureserver"
        for name in ds.remote.services
    }
    assert names <= SEEN_IN_USE, sorted(names - SEEN_IN_USE)
    assert not names & CONSTRUCTED
    assert not any("(" in n or n.startswith(("STP_Apr_2020_", "CCG19_STP19")) for n in names)
    hashed_2019_2020 = {n for n in names if re.search(r"(19|20)_.*_[0-9a-f]{32}$", n)}
    assert hashed_2019_2020 <= SEEN_IN_USE


def test_datasets_without_a_seen_name_are_found_by_pattern_only():
    by_pattern = {
        ds.id
        for ds in catalog.entries().values()
        if ds.remote and ds.remote.type == "featureserver" and not ds.remote.services
    }
    assert {"stp-2019-buc", "ccg-2020", "stp-2021", "sicbl-2022-bgc", "ccg-stp-2019"} <= by_pattern
    assert all(get(i).remote.pattern for i in by_pattern)  # type: ignore[union-attr]


def test_each_service_pattern_matches_its_own_candidates_and_no_other_datasets():
    fs = [
        ds for ds in catalog.entries().values() if ds.remote and ds.remote.type == "featureserver"
    ]
    for ds in fs:
        assert ds.remote is not None
        assert ds.remote.pattern
        rx = re.compile(ds.remote.pattern, re.IGNORECASE)
        for name in ds.remote.services:
            assert rx.fullmatch(name), (ds.id, name)
        for other in fs:
            if other is not ds:
                assert other.remote is not None
                clash = [n for n in other.remote.services if rx.fullmatch(n)]
                assert not clash, (ds.id, other.id, clash)


def test_data_boundaries_registry_is_a_relative_symlink_to_the_package_copy():
    link = REPO / "data" / "boundaries" / "registry.json"
    assert link.is_symlink()
    assert str(link.readlink()) == "../../src/coterminus/data/registry.json"
    assert json.loads(link.read_text()) == json.loads(catalog.REGISTRY_FILE.read_text())


# --- data directory and cache -------------------------------------------------------------------
@pytest.mark.realdata
def test_resolve_data_dir_prefers_the_argument_then_the_environment(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COTERMINUS_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(data_dir) == data_dir.resolve()
    assert resolve_data_dir() == tmp_path.resolve()
    monkeypatch.setenv("COTERMINUS_DATA_DIR", "")
    assert resolve_data_dir() is None


def test_a_missing_data_dir_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COTERMINUS_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataDirError, match=r"nope \(from the environment variable COTERMINUS_DATA"):
        resolve_data_dir()


def test_an_unwritable_cache_dir_raises_cache_error_naming_it_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    blocker = tmp_path / "afile"
    blocker.write_text("a regular file, so nothing can be created below it")
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(CacheError, match=r"afile/cache .*Set COTERMINUS_CACHE_DIR"):
        cache_dir()


def test_fetch_checks_the_cache_before_touching_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(CacheError, match="COTERMINUS_CACHE_DIR"):
        fetch("ccg-2019", base_url="http://127.0.0.1:9", progress=False)


@pytest.mark.realdata
def test_locate_finds_every_offline_file_in_the_data_dir(data_dir: Path, cache: Path):
    for ds in catalog.entries().values():
        if ds.local is None:
            continue
        path, layer = locate_layer(ds.id, data_dir=data_dir)
        assert path == data_dir / ds.local
        assert layer == ds.layer


@pytest.mark.realdata
def test_locate_reads_the_data_dir_from_the_environment(
    data_dir: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COTERMINUS_DATA_DIR", str(data_dir))
    assert locate("ltla-utla-2020") == data_dir / "lookups" / "ltla20_utla20_ew.csv"


def test_locate_without_any_copy_names_both_places_and_the_fixes(cache: Path):
    with pytest.raises(DataDirError) as info:
        locate("ccg-2019")
    message = str(info.value)
    assert "COTERMINUS_DATA_DIR is not set" in message
    assert str(cache / "downloads" / "ccg-2019.geojson") in message
    assert "COTERMINUS_DATA_DIR=../shared/data" in message
    assert "coterminus data fetch --vintage 2019" in message


@pytest.mark.realdata
def test_locate_falls_back_to_the_cache_and_the_data_dir_wins(data_dir: Path, cache: Path):
    downloaded = cache / "downloads" / "ccg-2019.geojson"
    downloaded.parent.mkdir(parents=True)
    downloaded.write_text("{}")
    assert locate_layer("ccg-2019") == (downloaded, None)
    assert locate_layer("ccg-2019", data_dir=data_dir) == (
        data_dir / "boundaries/ons_2019.gpkg",
        "ccg",
    )


# --- FeatureServer downloads --------------------------------------------------------------------
@pytest.mark.realdata
def test_fetch_pages_the_real_2019_ccgs_as_esri_json_in_british_national_grid(
    ons: FakeONS, cache: Path, real_ccg19_codes: set[str]
):
    path = fetch_ccg(ons)

    assert path == cache / "downloads" / "ccg-2019.geojson"
    assert cache_files(cache) == ["ccg-2019.geojson"]
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == 191
    assert frame.crs.to_epsg() == 27700
    assert set(frame["ccg19cd"]) == real_ccg19_codes
    assert frame["FID"].is_unique
    pages = [q for endpoint, _, q in ons.requests if endpoint == "query"]
    assert len(pages) == 4  # 50 + 50 + 50 + 41
    assert [int(q["resultOffset"]) for q in pages] == [0, 50, 100, 150]
    assert {(q["resultRecordCount"], q["orderByFields"], q["outSR"], q["f"]) for q in pages} == {
        ("50", "FID", "27700", "json")
    }
    assert ons.count("count") == 1
    provenance = json.loads(path.read_text())["coterminus"]
    assert provenance["service"] == CCG19_SERVICE
    assert provenance["rows"] == 191


@pytest.mark.realdata
def test_esri_rings_convert_back_to_the_served_polygons_exactly(ons: FakeONS, cache: Path):
    import shapely.geometry

    served = {
        f["properties"]["FID"]: shapely.geometry.shape(f["geometry"])
        for f in ons.layers[CCG19_SERVICE].features
    }
    got = pyogrio.read_dataframe(fetch_ccg(ons)).set_index("FID")
    assert sum(g.geom_type == "MultiPolygon" for g in served.values()) > 0  # islands are covered
    for fid, geometry in got.geometry.items():
        assert geometry.is_valid, fid
        assert geometry.area == pytest.approx(served[fid].area, rel=1e-12), fid
        assert geometry.symmetric_difference(served[fid]).area < 1e-6, fid


def test_esri_to_geojson_puts_each_hole_in_the_outer_ring_that_contains_it():
    big = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]  # clockwise: outer
    small = [[20, 0], [20, 2], [22, 2], [22, 0], [20, 0]]  # clockwise: outer
    hole = [[21, 0.5], [21.5, 0.5], [21.5, 1.5], [21, 1.5], [21, 0.5]]  # anticlockwise, in small
    geometry = arcgis.esri_to_geojson({"rings": [big, small, hole]})
    assert geometry is not None
    assert geometry["type"] == "MultiPolygon"
    assert [len(polygon) for polygon in geometry["coordinates"]] == [1, 2]
    assert geometry["coordinates"][1][1] == hole[::-1]


@pytest.mark.realdata
def test_fetch_uses_the_name_seen_in_use_without_listing_the_services(ons: FakeONS, cache: Path):
    path = fetch_ccg(ons)
    asked = {path for endpoint, path, _ in ons.requests if endpoint in ("metadata", "query")}
    assert all(CCG19_SERVICE in p for p in asked)
    assert ons.count("services") == 0
    assert source_of(path) is not None
    assert source_of(path)["found_by"] == "name seen in use"  # type: ignore[index]


@pytest.mark.realdata
def test_fetch_falls_back_to_the_services_list_and_the_pattern(ons: FakeONS, cache: Path):
    ons.rename(CCG19_SERVICE, "CCG_APR_2019_EN_BGC_V2")
    path = fetch_ccg(ons)
    origin = source_of(path)
    assert origin is not None
    assert origin["service"] == "CCG_APR_2019_EN_BGC_V2"
    assert origin["found_by"].startswith("services list, pattern ^(Clinical_Commissioning")
    assert json.loads(path.read_text())["coterminus"]["service"] == "CCG_APR_2019_EN_BGC_V2"
    assert ons.count("services") == 1


@pytest.mark.realdata
def test_a_dataset_without_seen_names_is_found_by_its_pattern(ons: FakeONS, cache: Path):
    assert get("ccg-stp-2019").remote.services == ()  # type: ignore[union-attr]
    path = fetch("ccg-stp-2019", base_url=ons.base_url, progress=False, timeout=5.0)
    origin = source_of(path)
    assert origin is not None
    assert origin["service"] == CCG19_STP19_SERVICE
    assert "pattern" in origin["found_by"]
    assert ons.count("services") == 1


@pytest.mark.realdata
def test_fetch_matches_seen_names_case_insensitively_in_the_services_list(
    ons: FakeONS, cache: Path
):
    ons.rename(CCG19_SERVICE, CCG19_SERVICE.lower())
    path = fetch_ccg(ons)
    assert source_of(path)["service"] == CCG19_SERVICE.lower()  # type: ignore[index]
    assert source_of(path)["found_by"] == "services list"  # type: ignore[index]


@pytest.mark.realdata
def test_the_services_list_is_read_once_per_session(ons: FakeONS):
    session = arcgis.Session(ons.base_url, timeout=5.0, retries=0)
    deadline = net.Deadline(30.0)
    assert session.services(deadline) == session.services(deadline)
    assert ons.count("services") == 1


@pytest.mark.realdata
def test_fetch_with_no_matching_service_lists_what_it_tried_and_saves_nothing(
    ons: FakeONS, cache: Path
):
    ons.rename(CCG19_SERVICE, "Something_Else_Entirely")
    with pytest.raises(
        DownloadError,
        match=r"No service for ccg-2019 .*_BGC_2022, then the pattern .*registry\.json",
    ):
        fetch_ccg(ons)
    assert all_files(cache) == []


@pytest.mark.realdata
def test_an_empty_services_list_is_reported_when_no_seen_name_answers(ons: FakeONS, cache: Path):
    ons.rename(CCG19_SERVICE, "Gone")
    ons.listed = []
    with pytest.raises(DownloadError, match="against 0 listed services"):
        fetch_ccg(ons)


@pytest.mark.realdata
@pytest.mark.parametrize("limit", [7, 37, 191, 500])
def test_fetch_pages_by_the_record_limit_in_the_layer_metadata(
    ons: FakeONS, cache: Path, limit: int
):
    ons.layers[CCG19_SERVICE].max_record_count = limit
    frame = pyogrio.read_dataframe(fetch_ccg(ons), read_geometry=False)
    assert len(frame) == 191
    pages = [q for endpoint, _, q in ons.requests if endpoint == "query"]
    assert {q["resultRecordCount"] for q in pages} == {str(limit)}
    assert len(pages) == -(-191 // limit)


@pytest.mark.realdata
def test_a_server_returning_fewer_rows_than_its_limit_is_paged_to_the_end(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    import ons_server

    real = ons_server._metadata
    monkeypatch.setattr(
        ons_server, "_metadata", lambda name, layer: {**real(name, layer), "maxRecordCount": 2000}
    )
    ons.layers[CCG19_SERVICE].max_record_count = 60  # the real cap is lower than advertised
    assert len(pyogrio.read_dataframe(fetch_ccg(ons), read_geometry=False)) == 191
    assert ons.count("query") == 4


@pytest.mark.realdata
def test_boundaries_are_never_requested_as_projected_geojson(ons: FakeONS, cache: Path):
    fetch_ccg(ons)
    for endpoint, _, query in ons.requests:
        if endpoint == "query" and "outSR" in query:
            assert (query["f"], query["outSR"]) != ("geojson", "27700")


@pytest.mark.realdata
def test_fetch_writes_lookup_tables_as_csv(ons: FakeONS, cache: Path, data_dir: Path):
    path = fetch("ccg-stp-2019", base_url=ons.base_url, progress=False, timeout=5.0)
    assert path.name == "ccg-stp-2019.csv"
    got = pd.read_csv(path, dtype=str)
    real = pd.read_csv(data_dir / "lookups" / "ccg19_stp19_en.csv", dtype=str)
    assert len(got) == 191
    assert (
        got.set_index("CCG19CD")["STP19CD"]
        .sort_index()
        .equals(real.set_index("CCG19CD")["STP19CD"].sort_index())
    )
    assert all(q.get("returnGeometry") == "false" for e, _, q in ons.requests if e == "query")


@pytest.mark.realdata
def test_fetch_returns_a_cached_file_without_asking_the_server(ons: FakeONS, cache: Path):
    first = fetch_ccg(ons)
    ons.requests.clear()
    assert fetch_ccg(ons) == first
    assert ons.requests == []


@pytest.mark.realdata
@pytest.mark.parametrize("mode", ["http500", "http429", "reset", "json_error_500"])
def test_fetch_retries_transient_failures_then_succeeds(ons: FakeONS, cache: Path, mode: str):
    ons.fail("query", mode, times=2)
    path = fetch_ccg(ons, retries=3)
    assert len(pyogrio.read_dataframe(path, read_geometry=False)) == 191
    assert ons.count("query") == 4 + 2


@pytest.mark.realdata
def test_fetch_gives_up_after_repeated_http_500_and_saves_nothing(ons: FakeONS, cache: Path):
    ons.fail("query", "http500")
    with pytest.raises(DownloadError, match=r"HTTP 500.*3 attempt\(s\).*Nothing was saved"):
        fetch_ccg(ons, retries=2)
    assert ons.count("query") == 3
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_does_not_retry_http_404(ons: FakeONS, cache: Path):
    ons.fail("query", "http404")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_ccg(ons, retries=3)
    assert ons.count("query") == 1
    assert all_files(cache) == []


@pytest.mark.realdata
def test_a_seen_name_answering_404_is_not_retried(ons: FakeONS, cache: Path):
    ons.fail("metadata", "http404")
    with pytest.raises(DownloadError, match="No service for ccg-2019"):
        fetch_ccg(ons, retries=3)
    assert ons.count("metadata") == 1
    assert ons.count("services") == 1
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_gives_up_when_the_server_never_answers_without_retrying(ons: FakeONS, cache: Path):
    ons.fail("query", "hang")
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"no answer within 0.3 s \(timed out\)"):
        fetch_ccg(ons, timeout=0.3, retries=3)
    assert time.monotonic() - started < 5
    assert ons.count("query") == 1
    assert all_files(cache) == []


@pytest.mark.realdata
def test_a_drip_feeding_server_hits_the_overall_deadline(ons: FakeONS, cache: Path):
    ons.fail("query", "drip")
    started = time.monotonic()
    with pytest.raises(
        DownloadError, match=r"did not finish within 1 s, the deadline for one file"
    ):
        fetch_ccg(ons, timeout=2.0, deadline=1.0, retries=3)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 4.0  # each byte came well within the 2 s read timeout
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_detects_a_truncated_page(ons: FakeONS, cache: Path):
    ons.fail("query", "truncate")
    with pytest.raises(DownloadError, match=r"truncated body: received \d+ of \d+ bytes"):
        fetch_ccg(ons, retries=1)
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_treats_a_json_error_body_with_http_200_as_an_error(ons: FakeONS, cache: Path):
    ons.fail("query", "json_error")
    with pytest.raises(
        DownloadError, match=r"HTTP 200 with an error body, error 400: Invalid query"
    ):
        fetch_ccg(ons)
    assert ons.count("query") == 1  # a 400 is not retried
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_refuses_rows_that_disagree_with_return_count_only(ons: FakeONS, cache: Path):
    ons.layers[CCG19_SERVICE].count_offset = 9
    with pytest.raises(DownloadError, match=r"received 191 rows but the server counts 200"):
        fetch_ccg(ons)
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_refuses_a_service_with_the_wrong_number_of_england_rows(ons: FakeONS, cache: Path):
    layer = ons.layers[CCG19_SERVICE]
    layer.features = layer.features[:-1]
    with pytest.raises(DownloadError, match=r"190 England \(ccg19cd E\*\) rows .* expects 191"):
        fetch_ccg(ons)
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_refuses_a_service_without_the_expected_columns(ons: FakeONS, cache: Path):
    layer = ons.layers[CCG19_SERVICE]
    layer.features = [
        {**f, "properties": {"FID": f["properties"]["FID"], "code": "x"}} for f in layer.features
    ]
    with pytest.raises(DownloadError, match=r"columns CCG19CD, CCG19NM are missing"):
        fetch_ccg(ons)
    assert all_files(cache) == []


@pytest.mark.realdata
def test_a_failed_forced_download_keeps_the_earlier_copy(ons: FakeONS, cache: Path):
    good = fetch_ccg(ons)
    before = good.read_bytes()
    ons.fail("query", "truncate")
    with pytest.raises(DownloadError, match="truncated"):
        fetch_ccg(ons, force=True, retries=0)
    assert good.read_bytes() == before
    assert cache_files(cache) == ["ccg-2019.geojson"]


@pytest.mark.realdata
def test_fetch_reads_the_base_url_from_the_environment(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COTERMINUS_ONS_BASE_URL", ons.base_url + "/")
    assert fetch("ccg-2019", progress=False, timeout=5.0).is_file()
    assert ons.count("query") == 4


def test_fetch_argument_errors_are_reported_together():
    with pytest.raises(ParameterError, match="dataset id"):
        fetch()  # type: ignore[call-overload]
    with pytest.raises(ParameterError, match=r"timeout=0 .*retries=-1.*deadline=-5"):
        fetch("ccg-2019", timeout=0, retries=-1, deadline=-5)


@pytest.mark.realdata
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.integers(min_value=7, max_value=250))
def test_paging_yields_every_ccg_exactly_once_whatever_the_page_size(
    ons_module: FakeONS, real_ccg19_codes: set[str], page: int
):
    ons_module.reset()
    ons_module.layers[CCG19_SERVICE].max_record_count = page
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.dict(os.environ, {"COTERMINUS_CACHE_DIR": tmp, "NO_PROXY": "127.0.0.1"}),
    ):
        frame = pyogrio.read_dataframe(fetch_ccg(ons_module), read_geometry=False)
        assert sorted(frame["ccg19cd"]) == sorted(real_ccg19_codes)
        assert ons_module.count("query") == -(-191 // page)
    ons_module.reset()


# --- unreachable network: fail fast, once -------------------------------------------------------
@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``socket.getaddrinfo`` fails as it does offline; returns the list of hosts asked for."""
    asked: list[str] = []

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def refused_url() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_failed_name_lookup_stops_at_once_without_retrying(cache: Path, no_dns: list[str]):
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="its name does not resolve") as info:
        fetch("ccg-2019", base_url="https://ons.example.invalid/arcgis", retries=3, progress=False)
    assert time.monotonic() - started < 5
    assert no_dns == ["ons.example.invalid"]
    assert "Nothing was downloaded or saved" in str(info.value)
    assert not cache.exists()


def test_a_refused_connection_stops_at_once_without_retrying(cache: Path):
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="connection was refused") as info:
        fetch("ccg-2019", base_url=refused_url(), retries=3, progress=False)
    assert "Fix: check the address (--base-url" in str(info.value)
    assert time.monotonic() - started < 5
    assert all_files(cache) == []


def test_fetching_a_vintage_offline_gives_one_short_message_after_one_lookup(
    cache: Path, no_dns: list[str], tmp_path: Path
):
    empty = tmp_path / "empty-data-dir"
    empty.mkdir()
    started = time.monotonic()
    with pytest.raises(UnreachableError) as info:
        fetch(vintage=2019, data_dir=empty, base_url="https://ons.example.invalid/arcgis")
    assert time.monotonic() - started < 5
    assert len(no_dns) == 1  # not once per dataset
    message = str(info.value)
    assert message.count("Fix:") == 1
    assert len(message) < 300
    assert "0 of 10 datasets" in message
    assert not cache.exists()  # not even the folders made to check the cache is writable


# --- plain files --------------------------------------------------------------------------------
@pytest.mark.realdata
def test_fetch_url_downloads_a_zip_and_checks_its_sha256(ons: FakeONS, cache: Path, data_dir: Path):
    original = data_dir / "raw" / "ctyua_dec2019_uk_buc_shp.zip"
    path = fetch_url(
        ons.file_url(original.name),
        filename="ctyua.zip",
        sha256=sha256_of(original),
        progress=False,
    )
    assert path.read_bytes() == original.read_bytes()
    assert zipfile.is_zipfile(path)
    assert all_files(cache) == ["downloads/ctyua.zip", "downloads/ctyua.zip.source.json"]
    assert source_of(path) is not None
    assert source_of(path)["sha256"] == sha256_of(original)  # type: ignore[index]


@pytest.mark.realdata
def test_fetch_url_with_a_wrong_checksum_deletes_the_download(ons: FakeONS, cache: Path):
    with pytest.raises(
        ChecksumError, match=r"has SHA-256 [0-9a-f]{64}, but 0{64} was expected"
    ) as info:
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", sha256="0" * 64, progress=False)
    assert "deleted" in str(info.value)
    assert cache_files(cache) == []


@pytest.mark.realdata
def test_fetch_url_detects_a_truncated_file(ons: FakeONS, cache: Path):
    ons.fail("file", "truncate")
    with pytest.raises(DownloadError, match="truncated body"):
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", retries=1, progress=False)
    assert ons.count("file") == 2
    assert cache_files(cache) == []


@pytest.mark.realdata
def test_fetch_url_refuses_a_corrupt_zip(ons: FakeONS, cache: Path):
    with pytest.raises(ArchiveError, match="not a readable zip archive"):
        fetch_url(ons.file_url("corrupt.zip"), filename="corrupt.zip", progress=False)
    assert cache_files(cache) == []


@pytest.mark.realdata
def test_a_stale_staging_folder_of_a_killed_download_is_swept(ons: FakeONS, cache: Path):
    stale = cache / "downloads" / ".incoming-killed"
    stale.mkdir(parents=True)
    (stale / "tmpabc").write_bytes(b"half a file")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fetch_url(ons.file_url("hello.txt"), filename="hello.txt", progress=False)
    assert all_files(cache) == ["downloads/hello.txt", "downloads/hello.txt.source.json"]


def test_fetch_url_reports_a_refused_connection_without_retrying(cache: Path):
    with pytest.raises(UnreachableError, match="connection was refused"):
        fetch_url(f"{refused_url()}/x", filename="x", retries=3, progress=False)
    assert all_files(cache) == []


def test_fetch_url_reports_a_failed_name_lookup_once(cache: Path, no_dns: list[str]):
    with pytest.raises(UnreachableError, match=r"Cannot reach www\.ons\.gov\.uk"):
        fetch_url("https://www.ons.gov.uk/file?uri=/x.zip", filename="x.zip", progress=False)
    assert no_dns == ["www.ons.gov.uk"]
    assert all_files(cache) == []


@pytest.mark.realdata
def test_fetch_url_retries_http_429_and_resets(ons: FakeONS, cache: Path):
    ons.fail("file", "http429", times=1)
    ons.fail("file", "reset", times=1)
    path = fetch_url(ons.file_url("hello.txt"), filename="hello.txt", retries=2, progress=False)
    assert path.read_bytes() == b"hello, ONS\n"
    assert ons.count("file") == 3


@pytest.mark.realdata
def test_a_retry_after_from_the_server_is_honoured_within_the_deadline(ons: FakeONS, cache: Path):
    ons.retry_after = 1
    ons.fail("file", "http429", times=1)
    started = time.monotonic()
    fetch_url(ons.file_url("hello.txt"), filename="hello.txt", retries=1, progress=False)
    assert time.monotonic() - started >= 1.0  # BACKOFF_SECONDS is 0 in these tests
    ons.fail("file", "http429", times=1)
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"HTTP 429 .*1 attempt\(s\)"):
        fetch_url(
            ons.file_url("hello.txt"), filename="h2.txt", retries=3, deadline=0.5, progress=False
        )
    assert time.monotonic() - started < 0.5  # it would not finish in time, so it did not wait


@pytest.mark.realdata
def test_fetch_url_from_a_drip_feeding_server_hits_the_deadline(ons: FakeONS, cache: Path):
    ons.fail("file", "drip")
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"did not finish within 0.5 s"):
        fetch_url(
            ons.file_url("big.bin"), filename="big.bin", timeout=2.0, deadline=0.5, progress=False
        )
    assert time.monotonic() - started < 3.0
    assert ons.count("file") == 1  # the deadline covers retries too: none was started
    assert all_files(cache) == []


@pytest.mark.realdata
def test_a_cache_folder_that_vanishes_before_the_write_is_a_cache_error(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    gone = cache / "gone"
    monkeypatch.setattr(cache_mod, "downloads_dir", lambda: gone)
    with pytest.raises(CacheError, match=rf"folder {re.escape(str(gone))} is missing or read-only"):
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", progress=False)
    assert ons.count("file") == 0  # refused before downloading anything
    assert not gone.exists()
    assert cache_files(cache) == []


@pytest.mark.realdata
def test_downloads_get_the_mode_of_a_plain_open(ons: FakeONS, cache: Path):
    path = fetch_url(ons.file_url("hello.txt"), filename="hello.txt", progress=False)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert cache_files(cache) == ["hello.txt"]


def test_fetch_url_rejects_a_path_as_filename(cache: Path):
    with pytest.raises(ParameterError, match="bare file name"):
        fetch_url("http://127.0.0.1:9/x", filename="../escape.txt")


@pytest.mark.realdata
def test_fetch_dispatches_file_sources_and_verify_checks_their_pin(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    content = b"hello, ONS\n"
    base = get("lsoa-population-mid2019")
    pinned = replace(
        base,
        id="test-file",
        local=None,
        remote=Remote(
            type="file",
            filename="hello.txt",
            url=ons.file_url("hello.txt"),
            sha256=hashlib.sha256(content).hexdigest(),
        ),
    )
    entries = {**catalog.entries(), "test-file": pinned}
    monkeypatch.setattr(catalog, "entries", lambda: entries)
    path = fetch("test-file", progress=False)
    assert path.read_bytes() == content
    report = verify(2019)
    assert report.loc["test-file", ["where", "sha256", "result"]].tolist() == ["cache", "ok", "ok"]
    path.write_bytes(b"tampered")
    assert verify(2019).loc["test-file", "sha256"] == "mismatch"


# --- fetch by vintage ---------------------------------------------------------------------------
@pytest.mark.realdata
def test_fetch_vintage_with_the_full_data_dir_downloads_nothing(
    ons: FakeONS, cache: Path, data_dir: Path
):
    found = fetch(vintage=2019, data_dir=data_dir, base_url=ons.base_url, progress=False)
    assert ons.requests == []
    assert found["ccg-2019"] == data_dir / "boundaries" / "ons_2019.gpkg"
    assert {"lsoa-boundaries-2011", "lsoa-lookup-2019", "ltla-utla-2019"} <= set(found)


@pytest.mark.realdata
def test_fetch_vintage_downloads_only_what_the_data_dir_lacks(
    ons: FakeONS, cache: Path, data_dir: Path, tmp_path: Path
):
    partial = tmp_path / "data"
    shutil.copytree(data_dir, partial, symlinks=True, copy_function=os.symlink)
    (partial / "lookups" / "ccg19_stp19_en.csv").unlink()
    found = fetch(vintage=2019, data_dir=partial, base_url=ons.base_url, progress=False)
    assert found["ccg-stp-2019"] == cache / "downloads" / "ccg-stp-2019.csv"
    assert {path for _, path, _ in ons.requests if "query" in path} == {
        f"/rest/services/{CCG19_STP19_SERVICE}/FeatureServer/0/query"
    }


# --- status and verify --------------------------------------------------------------------------
@pytest.mark.realdata
def test_status_on_the_real_data_finds_every_offline_file(data_dir: Path, cache: Path):
    table = status(data_dir=data_dir)
    offline = registry()["local"].notna()
    assert (table.loc[offline, "where"] == "data_dir").all()
    assert (table.loc[~offline, "where"] == "missing").all()
    assert (
        table.loc["ccg-2019", "size"] == (data_dir / "boundaries" / "ons_2019.gpkg").stat().st_size
    )
    assert table.loc["ccg-2019", "layer"] == "ccg"


@pytest.mark.realdata
def test_status_of_a_vintage_includes_the_shared_lsoa_files(data_dir: Path, cache: Path):
    ids = set(status(2020, data_dir=data_dir).index)
    assert {"ccg-2020", "lsoa-boundaries-2011", "lsoa-population-mid2019"} <= ids
    assert "ccg-2019" not in ids


def test_status_of_an_unknown_vintage_lists_the_known_ones(cache: Path):
    with pytest.raises(ParameterError, match=r"2018.*2019, 2020, 2021, 2022"):
        status(2018)


@pytest.mark.realdata
def test_verify_on_the_real_data_reports_all_good(data_dir: Path, cache: Path):
    report = verify(data_dir=data_dir)
    present = report[report["where"] != "missing"]
    assert len(present) == registry()["local"].notna().sum()
    assert (present["result"] == "ok").all(), present.loc[present["result"] != "ok", "problem"]
    assert (present["sha256"] == "ok").all()
    assert (present["rows"] == present["expected_rows"]).all()


@pytest.mark.realdata
def test_verify_reports_a_tampered_file_with_every_problem(
    data_dir: Path, tmp_path: Path, cache: Path
):
    (tmp_path / "lookups").mkdir()
    lines = (data_dir / "lookups" / "ccg19_stp19_en.csv").read_text().splitlines(keepends=True)
    (tmp_path / "lookups" / "ccg19_stp19_en.csv").write_text("".join(lines[:-1]))
    row = verify(2019, data_dir=tmp_path).loc["ccg-stp-2019"]
    assert row["result"] == "problem"
    assert row["sha256"] == "mismatch"
    assert "sha256 mismatch" in row["problem"]
    assert "190 England rows (CCG19CD E*), expected 191" in row["problem"]


@pytest.mark.realdata
def test_verify_checks_a_downloaded_featureserver_file_by_rows_and_columns(
    ons: FakeONS, cache: Path
):
    fetch_ccg(ons)
    row = verify(2019).loc["ccg-2019"]
    assert (row["where"], row["sha256"], row["rows"], row["result"]) == (
        "cache",
        "not registered",
        191,
        "ok",
    )


@pytest.mark.slow
@pytest.mark.realdata
def test_verify_deep_loads_the_offline_2019_files_with_coterminus_io(data_dir: Path, cache: Path):
    report = verify(2019, data_dir=data_dir, deep=True)
    present = report[report["where"] != "missing"]
    assert (present["result"] == "ok").all(), present.loc[present["result"] != "ok", "problem"]


def test_dataset_is_frozen():
    ds = get("ccg-2019")
    assert isinstance(ds, Dataset)
    with pytest.raises(AttributeError):
        ds.id = "other"  # type: ignore[misc]


# --- the cache: where, how big, emptying it -----------------------------------------------------
def test_cache_usage_counts_files_and_bytes_per_sub_folder(cache: Path):
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "a.csv").write_bytes(b"x" * 10)
    (cache / "parsed" / "deep").mkdir(parents=True)
    (cache / "parsed" / "deep" / "b.parquet").write_bytes(b"y" * 25)
    (cache / "parsed" / "c.json").write_bytes(b"{}")
    (cache / "parsed" / "users.txt").write_bytes(b"u" * 7)  # not written by coterminus
    (cache / "mine").mkdir()
    (cache / "mine" / "keep.txt").write_bytes(b"z" * 3)
    cache_mod.record_written(
        cache / "downloads" / "a.csv",
        cache / "parsed" / "deep" / "b.parquet",
        cache / "parsed" / "c.json",
    )
    table = cache_mod.usage()
    assert table[["files", "bytes", "other_files", "other_bytes"]].to_dict("index") == {
        "downloads": {"files": 1, "bytes": 10, "other_files": 0, "other_bytes": 0},
        "parsed": {"files": 2, "bytes": 27, "other_files": 1, "other_bytes": 7},
        "mine": {"files": 0, "bytes": 0, "other_files": 1, "other_bytes": 3},
    }
    assert table.loc["mine", "holds"].startswith("not written by coterminus")
    assert table.loc["parsed", "path"] == str(cache / "parsed")


def test_clean_deletes_only_the_files_coterminus_recorded(cache: Path):
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "a.csv").write_bytes(b"x" * 10)
    (cache / "downloads" / "thesis.docx").write_bytes(b"the user's own document")
    (cache / "parsed").mkdir()
    (cache / "parsed" / "b.parquet").write_bytes(b"y" * 25)
    (cache / "notes.txt").write_text("the user's own file")
    cache_mod.record_written(cache / "downloads" / "a.csv", cache / "parsed" / "b.parquet")
    assert cache_mod.clean(only="parsed") == (1, 25)
    assert all_files(cache) == ["downloads/a.csv", "downloads/thesis.docx", "notes.txt"]
    assert cache_mod.clean() == (1, 10)
    assert all_files(cache) == ["downloads/thesis.docx", "notes.txt"]
    assert cache_mod.clean() == (0, 0)
    assert cache_mod.recorded() == []


def test_clean_refuses_a_folder_without_the_marker(cache: Path):
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "report.pdf").write_bytes(b"the user's own document")
    with pytest.raises(CacheError, match=r"has no \.coterminus-cache file.*nothing was deleted"):
        cache_mod.clean()
    assert all_files(cache) == ["downloads/report.pdf"]


def test_clean_never_follows_a_recorded_link_or_leaves_the_folder(cache: Path, tmp_path: Path):
    outside = tmp_path / "precious.txt"
    outside.write_text("outside the cache")
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "link.csv").symlink_to(outside)
    cache_mod.record_written(cache / "downloads" / "a.csv")  # makes the marker
    with open(cache / cache_mod.MARKER, "a", encoding="utf-8") as marker:  # a tampered record
        marker.write("downloads/link.csv\n../precious.txt\n/etc/passwd\n")
    assert cache_mod.clean() == (0, 0)
    assert outside.read_text() == "outside the cache"
    assert (cache / "downloads" / "link.csv").is_symlink()


def test_clean_that_cannot_delete_says_what_and_how_to_fix_it(
    cache: Path, monkeypatch: pytest.MonkeyPatch
):
    (cache / "parsed").mkdir(parents=True)
    (cache / "parsed" / "b.parquet").write_bytes(b"y")
    cache_mod.record_written(cache / "parsed" / "b.parquet")

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(CacheError, match=r"Could not delete .*parsed.*Permission denied.*clean"):
        cache_mod.clean()


@pytest.mark.realdata
def test_the_cache_records_what_downloads_and_parsed_layers_write(
    ons: FakeONS, cache: Path, data_dir: Path
):
    path = fetch_ccg(ons)
    import coterminus

    geo = coterminus.load(2019, data_dir=data_dir)
    geo.layer("utla")  # parsed and cached
    kinds = {p.parent.name for p in cache_mod.recorded()}
    assert path in cache_mod.recorded("downloads")
    assert kinds == {"downloads", "parsed"}
    written = all_files(cache)
    assert cache_mod.clean()[0] == len(written) >= 4  # data + provenance, parquet + sidecar
    assert all_files(cache) == []


@pytest.mark.realdata
def test_the_cache_dir_comes_from_the_environment_everywhere(
    cache: Path, data_dir: Path, tmp_path: Path
):
    import coterminus

    geo = coterminus.load(2019, data_dir=data_dir)
    assert len(geo.layer("utla")) == 151  # polygons are parsed (and cached) on first use
    parsed = cache / "parsed"
    assert parsed.is_dir()
    assert any(parsed.iterdir())  # the parsed-layer cache honours COTERMINUS_CACHE_DIR
    assert cache_dir() == cache


def test_the_suite_runs_with_its_own_cache_folder(tmp_path_factory: pytest.TempPathFactory):
    """coterminus's cache is the session's; the libraries' caches are the suite's own folder,
    kept between runs (root conftest.py), never the user's."""
    root = Path(os.environ["COTERMINUS_CACHE_DIR"])
    assert tmp_path_factory.getbasetemp() in root.parents  # set by the root conftest.py
    home_cache = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    kept = os.environ.get("COTERMINUS_TEST_CACHE") or str(Path(home_cache) / "coterminus-tests")
    for library_cache in ("MPLCONFIGDIR", "NUMBA_CACHE_DIR"):
        folder = os.environ[library_cache]
        assert folder.startswith((kept, tempfile.gettempdir())), folder
        assert not folder.startswith(str(Path("~/.config").expanduser())), folder
