"""Tests of the dataset registry, the downloader and the cache (``coterminus.datasets``).

Downloads go to a fake ONS server (``tests/ons_server.py``) that serves the real April 2019 CCGs
from ../shared/data with ``maxRecordCount`` 50, so a download takes 4 pages. Every failure test
also checks that the cache holds no partial or temporary file afterwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
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

from coterminus import datasets
from coterminus.datasets import (
    Dataset,
    Remote,
    UnknownDatasetError,
    cache_dir,
    fetch,
    fetch_url,
    find_dataset,
    get,
    locate,
    locate_layer,
    registry,
    resolve_data_dir,
    status,
    verify,
)
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
    """Every file in the downloads folder (finished or not)."""
    folder = cache / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


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
    assert set(reg["level"]) <= {"lsoa", "ccg", "stp", "icb", "sicbl", "ltla", "utla"}
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


def test_registry_sha256_values_match_the_real_files(data_dir: Path):
    checked = set()
    for ds in datasets._entries().values():
        if ds.local is None:
            continue
        assert ds.sha256 is not None, ds.id
        if ds.local not in checked:
            assert sha256_of(data_dir / ds.local) == ds.sha256, ds.id
            checked.add(ds.local)
    assert len(checked) == 18  # 4 GeoPackages, 9 lookups, 5 population files
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", ds.sha256 or "0" * 64) for ds in datasets._entries().values()
    )


def test_local_geopackage_layers_exist_in_the_real_data(data_dir: Path):
    for ds in datasets._entries().values():
        if ds.local and ds.local.endswith(".gpkg"):
            layers = pyogrio.list_layers(data_dir / ds.local)[:, 0]
            assert ds.layer in layers, ds.id


def test_each_service_pattern_matches_its_own_candidates_and_no_other_datasets():
    fs = [
        ds for ds in datasets._entries().values() if ds.remote and ds.remote.type == "featureserver"
    ]
    for ds in fs:
        assert ds.remote is not None
        assert ds.remote.pattern
        rx = re.compile(ds.remote.pattern, re.IGNORECASE)
        assert ds.remote.services, ds.id
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
    assert str(link.readlink()) == "../../src/coterminus/registry.json"
    assert json.loads(link.read_text()) == json.loads(datasets._REGISTRY_FILE.read_text())


# --- data directory and cache -------------------------------------------------------------------
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
    with pytest.raises(CacheError, match=r"afile/cache.*Set COTERMINUS_CACHE_DIR"):
        cache_dir()


def test_fetch_checks_the_cache_before_touching_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(CacheError, match="COTERMINUS_CACHE_DIR"):
        fetch("ccg-2019", base_url="http://127.0.0.1:9", progress=False)


def test_locate_finds_every_offline_file_in_the_data_dir(data_dir: Path, cache: Path):
    for ds in datasets._entries().values():
        if ds.local is None:
            continue
        path, layer = locate_layer(ds.id, data_dir=data_dir)
        assert path == data_dir / ds.local
        assert layer == ds.layer


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
def test_fetch_pages_the_real_2019_ccgs_through_the_server(
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
    assert {(q["resultRecordCount"], q["orderByFields"], q["outSR"]) for q in pages} == {
        ("50", "FID", "27700")
    }
    assert ons.count("count") == 1
    provenance = json.loads(path.read_text())["coterminus"]
    assert provenance["service"] == CCG19_SERVICE
    assert provenance["rows"] == 191


def test_fetch_resolves_the_renamed_2022_service_and_not_the_legacy_name(ons: FakeONS, cache: Path):
    fetch_ccg(ons)
    asked = {path for endpoint, path, _ in ons.requests if endpoint in ("metadata", "query")}
    assert all(CCG19_SERVICE in p for p in asked)
    assert ons.count("services") == 1


def test_fetch_falls_back_to_the_legacy_parenthesised_candidate(ons: FakeONS, cache: Path):
    legacy = "Clinical_Commissioning_Groups_(April_2019)_Boundaries_EN_BGC"
    ons.rename(CCG19_SERVICE, legacy)
    path = fetch_ccg(ons)
    assert len(pyogrio.read_dataframe(path, read_geometry=False)) == 191
    assert any("%28April_2019%29" in p or "(April_2019)" in p for _, p, _ in ons.requests)


def test_fetch_matches_candidate_names_case_insensitively(ons: FakeONS, cache: Path):
    ons.rename(CCG19_SERVICE, CCG19_SERVICE.lower())
    assert fetch_ccg(ons).is_file()


def test_fetch_uses_the_regex_when_ons_renames_a_service_again(
    ons: FakeONS, cache: Path, caplog: pytest.LogCaptureFixture
):
    ons.rename(CCG19_SERVICE, "CCG_APR_2019_EN_BGC_V2")
    with caplog.at_level(logging.WARNING, logger="coterminus.datasets"):
        path = fetch_ccg(ons)
    assert "CCG_APR_2019_EN_BGC_V2" in caplog.text
    assert json.loads(path.read_text())["coterminus"]["service"] == "CCG_APR_2019_EN_BGC_V2"


def test_fetch_probes_the_candidates_when_the_services_list_is_empty(ons: FakeONS, cache: Path):
    ons.listed = []
    assert len(pyogrio.read_dataframe(fetch_ccg(ons), read_geometry=False)) == 191


def test_fetch_with_no_matching_service_lists_the_candidates_and_saves_nothing(
    ons: FakeONS, cache: Path
):
    ons.rename(CCG19_SERVICE, "Something_Else_Entirely")
    with pytest.raises(DownloadError, match=r"No service for ccg-2019 .*_BGC_2022.*registry\.json"):
        fetch_ccg(ons)
    assert cache_files(cache) == []


def test_fetch_honours_exceeded_transfer_limit_at_the_top_level(
    ons: FakeONS, cache: Path, real_ccg19_codes: set[str]
):
    ons.layers[CCG19_SERVICE].exceeded_at_top_level = True
    frame = pyogrio.read_dataframe(fetch_ccg(ons), read_geometry=False)
    assert set(frame["ccg19cd"]) == real_ccg19_codes


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


def test_fetch_returns_a_cached_file_without_asking_the_server(ons: FakeONS, cache: Path):
    first = fetch_ccg(ons)
    ons.requests.clear()
    assert fetch_ccg(ons) == first
    assert ons.requests == []


def test_fetch_retries_after_http_500_then_succeeds(ons: FakeONS, cache: Path):
    ons.fail("query", "http500", times=2)
    path = fetch_ccg(ons, retries=3)
    assert len(pyogrio.read_dataframe(path, read_geometry=False)) == 191
    assert ons.count("query") == 4 + 2


def test_fetch_retries_a_transient_arcgis_error_body(ons: FakeONS, cache: Path):
    ons.fail("query", "json_error_500", times=1)
    assert fetch_ccg(ons, retries=1).is_file()


def test_fetch_gives_up_after_repeated_http_500_and_saves_nothing(ons: FakeONS, cache: Path):
    ons.fail("query", "http500")
    with pytest.raises(DownloadError, match=r"HTTP 500.*3 attempt\(s\).*Nothing was saved"):
        fetch_ccg(ons, retries=2)
    assert ons.count("query") == 3
    assert cache_files(cache) == []


def test_fetch_does_not_retry_http_404(ons: FakeONS, cache: Path):
    ons.fail("metadata", "http404")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_ccg(ons, retries=3)
    assert ons.count("metadata") == 1
    assert cache_files(cache) == []


def test_fetch_times_out_when_the_server_never_answers(ons: FakeONS, cache: Path):
    ons.fail("query", "hang")
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"timed out"):
        fetch_ccg(ons, timeout=0.3, retries=1)
    assert time.monotonic() - started < 5
    assert cache_files(cache) == []


def test_fetch_detects_a_truncated_page(ons: FakeONS, cache: Path):
    ons.fail("query", "truncate")
    with pytest.raises(DownloadError, match=r"truncated body: received \d+ of \d+ bytes"):
        fetch_ccg(ons, retries=1)
    assert cache_files(cache) == []


def test_fetch_treats_a_json_error_body_with_http_200_as_an_error(ons: FakeONS, cache: Path):
    ons.fail("query", "json_error")
    with pytest.raises(
        DownloadError, match=r"HTTP 200 with an error body, error 400: Invalid query"
    ):
        fetch_ccg(ons)
    assert ons.count("query") == 1  # a 400 is not retried
    assert cache_files(cache) == []


def test_fetch_refuses_rows_that_disagree_with_return_count_only(ons: FakeONS, cache: Path):
    ons.layers[CCG19_SERVICE].count_offset = 9
    with pytest.raises(DownloadError, match=r"received 191 rows but the server counts 200"):
        fetch_ccg(ons)
    assert cache_files(cache) == []


def test_fetch_refuses_a_service_with_the_wrong_number_of_england_rows(ons: FakeONS, cache: Path):
    layer = ons.layers[CCG19_SERVICE]
    layer.features = layer.features[:-1]
    with pytest.raises(DownloadError, match=r"190 England \(ccg19cd E\*\) rows .* expects 191"):
        fetch_ccg(ons)
    assert cache_files(cache) == []


def test_fetch_refuses_a_service_without_the_expected_columns(ons: FakeONS, cache: Path):
    layer = ons.layers[CCG19_SERVICE]
    layer.features = [
        {**f, "properties": {"FID": f["properties"]["FID"], "code": "x"}} for f in layer.features
    ]
    with pytest.raises(DownloadError, match=r"columns CCG19CD, CCG19NM are missing"):
        fetch_ccg(ons)
    assert cache_files(cache) == []


def test_a_failed_forced_download_keeps_the_earlier_copy(ons: FakeONS, cache: Path):
    good = fetch_ccg(ons)
    before = good.read_bytes()
    ons.fail("query", "truncate")
    with pytest.raises(DownloadError, match="truncated"):
        fetch_ccg(ons, force=True, retries=0)
    assert good.read_bytes() == before
    assert cache_files(cache) == ["ccg-2019.geojson"]


def test_fetch_reads_the_base_url_from_the_environment(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COTERMINUS_ONS_BASE_URL", ons.base_url + "/")
    assert fetch("ccg-2019", progress=False, timeout=5.0).is_file()
    assert ons.count("query") == 4


def test_fetch_argument_errors_are_reported_together():
    with pytest.raises(ParameterError, match="dataset id"):
        fetch()  # type: ignore[call-overload]
    with pytest.raises(ParameterError, match=r"timeout=0 .*retries=-1"):
        fetch("ccg-2019", timeout=0, retries=-1)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.integers(min_value=7, max_value=250), top=st.booleans())
def test_paging_yields_every_ccg_exactly_once_whatever_the_page_size(
    ons_module: FakeONS, real_ccg19_codes: set[str], page: int, top: bool
):
    ons_module.reset()
    layer = ons_module.layers[CCG19_SERVICE]
    layer.max_record_count, layer.exceeded_at_top_level = page, top
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.dict(os.environ, {"COTERMINUS_CACHE_DIR": tmp, "NO_PROXY": "127.0.0.1"}),
    ):
        frame = pyogrio.read_dataframe(fetch_ccg(ons_module), read_geometry=False)
        assert sorted(frame["ccg19cd"]) == sorted(real_ccg19_codes)
        assert ons_module.count("query") == -(-191 // page)
    ons_module.reset()


# --- plain files --------------------------------------------------------------------------------
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
    assert cache_files(cache) == ["ctyua.zip"]


def test_fetch_url_with_a_wrong_checksum_deletes_the_download(ons: FakeONS, cache: Path):
    with pytest.raises(
        ChecksumError, match=r"has SHA-256 [0-9a-f]{64}, but 0{64} was expected"
    ) as info:
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", sha256="0" * 64, progress=False)
    assert "deleted" in str(info.value)
    assert cache_files(cache) == []


def test_fetch_url_detects_a_truncated_file(ons: FakeONS, cache: Path):
    ons.fail("file", "truncate")
    with pytest.raises(DownloadError, match="truncated body"):
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", retries=1, progress=False)
    assert ons.count("file") == 2
    assert cache_files(cache) == []


def test_fetch_url_refuses_a_corrupt_zip(ons: FakeONS, cache: Path):
    with pytest.raises(ArchiveError, match="not a readable zip archive"):
        fetch_url(ons.file_url("corrupt.zip"), filename="corrupt.zip", progress=False)
    assert cache_files(cache) == []


def test_fetch_url_reports_a_refused_connection(cache: Path):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="connection refused"):
        fetch_url(f"http://127.0.0.1:{port}/x", filename="x", retries=1, progress=False)
    assert cache_files(cache) == []


def test_a_cache_folder_that_vanishes_before_the_write_is_a_cache_error(
    ons: FakeONS, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    gone = cache / "gone"
    monkeypatch.setattr(datasets, "_downloads_dir", lambda: gone)
    with pytest.raises(CacheError, match=rf"folder {re.escape(str(gone))} is missing or read-only"):
        fetch_url(ons.file_url("hello.txt"), filename="hello.txt", progress=False)
    assert ons.count("file") == 0  # refused before downloading anything
    assert not gone.exists()
    assert cache_files(cache) == []


def test_downloads_get_the_mode_of_a_plain_open(ons: FakeONS, cache: Path):
    path = fetch_url(ons.file_url("hello.txt"), filename="hello.txt", progress=False)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert cache_files(cache) == ["hello.txt"]


def test_fetch_url_rejects_a_path_as_filename(cache: Path):
    with pytest.raises(ParameterError, match="bare file name"):
        fetch_url("http://127.0.0.1:9/x", filename="../escape.txt")


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
    entries = {**datasets._entries(), "test-file": pinned}
    monkeypatch.setattr(datasets, "_entries", lambda: entries)
    path = fetch("test-file", progress=False)
    assert path.read_bytes() == content
    report = verify(2019)
    assert report.loc["test-file", ["where", "sha256", "result"]].tolist() == ["cache", "ok", "ok"]
    path.write_bytes(b"tampered")
    assert verify(2019).loc["test-file", "sha256"] == "mismatch"


# --- fetch by vintage ---------------------------------------------------------------------------
def test_fetch_vintage_with_the_full_data_dir_downloads_nothing(
    ons: FakeONS, cache: Path, data_dir: Path
):
    found = fetch(vintage=2019, data_dir=data_dir, base_url=ons.base_url, progress=False)
    assert ons.requests == []
    assert found["ccg-2019"] == data_dir / "boundaries" / "ons_2019.gpkg"
    assert {"lsoa-boundaries-2011", "lsoa-lookup-2019", "ltla-utla-2019"} <= set(found)


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
def test_status_on_the_real_data_finds_every_offline_file(data_dir: Path, cache: Path):
    table = status(data_dir=data_dir)
    offline = registry()["local"].notna()
    assert (table.loc[offline, "where"] == "data_dir").all()
    assert (table.loc[~offline, "where"] == "missing").all()
    assert (
        table.loc["ccg-2019", "size"] == (data_dir / "boundaries" / "ons_2019.gpkg").stat().st_size
    )
    assert table.loc["ccg-2019", "layer"] == "ccg"


def test_status_of_a_vintage_includes_the_shared_lsoa_files(data_dir: Path, cache: Path):
    ids = set(status(2020, data_dir=data_dir).index)
    assert {"ccg-2020", "lsoa-boundaries-2011", "lsoa-population-mid2019"} <= ids
    assert "ccg-2019" not in ids


def test_status_of_an_unknown_vintage_lists_the_known_ones(cache: Path):
    with pytest.raises(ParameterError, match=r"2018.*2019, 2020, 2021, 2022"):
        status(2018)


def test_verify_on_the_real_data_reports_all_good(data_dir: Path, cache: Path):
    report = verify(data_dir=data_dir)
    present = report[report["where"] != "missing"]
    assert len(present) == registry()["local"].notna().sum()
    assert (present["result"] == "ok").all(), present.loc[present["result"] != "ok", "problem"]
    assert (present["sha256"] == "ok").all()
    assert (present["rows"] == present["expected_rows"]).all()


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


def test_verify_deep_loads_the_offline_2019_files_with_coterminus_io(data_dir: Path, cache: Path):
    pytest.importorskip("coterminus.io")
    report = verify(2019, data_dir=data_dir, deep=True)
    present = report[report["where"] != "missing"]
    assert (present["result"] == "ok").all(), present.loc[present["result"] != "ok", "problem"]


def test_dataset_is_frozen():
    ds = get("ccg-2019")
    assert isinstance(ds, Dataset)
    with pytest.raises(AttributeError):
        ds.id = "other"  # type: ignore[misc]
