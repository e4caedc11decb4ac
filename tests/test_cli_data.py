"""Tests of ``coterminus data status | fetch | verify | cache | clean`` (``coterminus.cli.data``).

The commands run through :func:`coterminus.cli.main`, which adds the ``data`` command with
:func:`coterminus.cli.data.add_parser` and turns errors into one line on stderr and an exit code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coterminus import data as datasets
from coterminus.cli import data as cli_data
from coterminus.cli import main as cli_main
from coterminus.data import arcgis, files
from helpers import skip_or_fail
from ons_server import CCG19_SERVICE, CCG19_STP19_SERVICE


def main(*argv: str) -> int:
    """Run ``coterminus <argv>`` and return its exit code."""
    return cli_main(list(argv))


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- status -------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_status_lists_where_each_2019_dataset_is(data_dir, cache, capsys):
    assert main("data", "status", "--vintage", "2019", "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert "ccg-2019 " in out
    assert "boundaries/ons_2019.gpkg (layer ccg)" in out
    assert "ccg-2020" not in out
    assert "in the data directory" in out
    assert "2 missing (download with `coterminus data fetch ID`)" in out  # the 2019 BUC CCG/STP


@pytest.mark.realdata
def test_status_json_has_one_record_per_dataset(data_dir, cache, capsys):
    assert main("data", "status", "--json", "--data-dir", str(data_dir)) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(datasets.registry())
    by_id = {r["id"]: r for r in records}
    assert by_id["lsoa-boundaries-2011"]["where"] == "data_dir"
    assert by_id["icb-2022-buc"]["where"] == "missing"
    assert by_id["icb-2022-buc"]["size"] is None


def test_status_with_a_missing_data_dir_is_a_one_line_error(cache, tmp_path, capsys):
    code = main("data", "status", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("coterminus data status: error: The data directory")
    assert "COTERMINUS_DATA_DIR=../shared/data" in line


@pytest.mark.realdata
def test_status_uses_the_environment_data_dir(data_dir, cache, capsys, monkeypatch):
    monkeypatch.setenv("COTERMINUS_DATA_DIR", str(data_dir))
    assert main("data", "status", "--vintage", "2021", "--json") == 0
    by_id = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert by_id["utla-2021-buc"]["layer"] == "utla_ons_buc"


# --- fetch --------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_fetch_an_id_through_the_fake_server(ons, cache, capsys):
    code = main("data", "fetch", "ccg-2019", "--base-url", ons.base_url, "--no-progress")
    assert code == 0
    out = capsys.readouterr().out
    path = cache / "downloads" / "ccg-2019.geojson"
    assert out == f"fetched    ccg-2019  {path}  (service {CCG19_SERVICE}, name seen in use)\n"
    assert path.is_file()
    assert ons.count("query") == 4


@pytest.mark.realdata
def test_fetch_json_output(ons, cache, capsys):
    code = main("data", "fetch", "ccg-stp-2019", "--base-url", ons.base_url, "--json")
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fetched"] == {"ccg-stp-2019": str(cache / "downloads" / "ccg-stp-2019.csv")}
    assert payload["available"] == {}
    assert payload["sources"]["ccg-stp-2019"]["service"] == CCG19_STP19_SERVICE
    assert payload["sources"]["ccg-stp-2019"]["found_by"].startswith("services list, pattern")


@pytest.mark.realdata
def test_fetch_failure_is_one_line_on_stderr_and_exit_1(ons, cache, capsys):
    ons.fail("query", "http500")
    code = main(
        "data", "fetch", "ccg-2019", "--base-url", ons.base_url, "--retries", "1", "--timeout", "2"
    )
    assert code == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith("coterminus data fetch: error: Could not download page 1")
    assert "HTTP 500" in line
    assert captured.out == ""
    assert not cache.exists()  # a failed fetch leaves nothing, not even empty folders


@pytest.mark.realdata
def test_fetch_an_unknown_service_name_is_explained(ons, cache, capsys):
    ons.rename(CCG19_SERVICE, "Renamed_Beyond_Recognition")
    assert main("data", "fetch", "ccg-2019", "--base-url", ons.base_url) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "No service for ccg-2019" in line
    assert "geoportal.statistics.gov.uk" in line


@pytest.mark.realdata
def test_fetch_reports_every_failing_id_and_keeps_the_good_ones(ons, cache, capsys):
    code = main("data", "fetch", "ccg-2091", "ccg-stp-2019", "--base-url", ons.base_url)
    assert code == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "No dataset 'ccg-2091'" in line
    assert "'ccg-2019'" in line.split("did you mean")[1]
    assert "fetched    ccg-stp-2019" in captured.out


def test_fetch_without_ids_or_vintage_is_a_usage_error(cache, capsys):
    assert main("data", "fetch") == 2
    assert "give dataset ids" in one_error_line(capsys.readouterr().err)


@pytest.mark.realdata
def test_fetch_vintage_with_the_full_data_dir_has_nothing_to_do(ons, data_dir, cache, capsys):
    code = main(
        "data",
        "fetch",
        "--vintage",
        "2019",
        "--data-dir",
        str(data_dir),
        "--base-url",
        ons.base_url,
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Nothing to fetch: every file vintage 2019 needs is already available." in out
    assert "available  ccg-2019" in out
    assert ons.requests == []


@pytest.mark.realdata
def test_fetch_vintage_downloads_what_is_missing(ons, data_dir, cache, tmp_path, capsys):
    partial = tmp_path / "data"
    shutil.copytree(data_dir / "boundaries", partial / "boundaries", copy_function=_link)
    shutil.copytree(data_dir / "population", partial / "population", copy_function=_link)
    (partial / "lookups").mkdir()
    for name in ("lsoa11_ccg19_stp19_lad19_utla19_en.csv", "ltla19_utla19_ew.csv"):
        _link(data_dir / "lookups" / name, partial / "lookups" / name)
    argv = ["data", "fetch", "--vintage", "2019", "--data-dir", str(partial), "--json"]
    assert main(*argv, "--base-url", ons.base_url) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["fetched"]) == {"ccg-stp-2019"}
    assert "ccg-2019" in payload["available"]


def _link(src, dst):
    Path(dst).symlink_to(src)


# --- verify -------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_verify_the_real_data_exits_0(data_dir, cache, capsys):
    assert main("data", "verify", "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert "0 with problems" in out
    assert re.search(r"^ok\s+ccg-2019\s+191\s+sha256 ok$", out, re.MULTILINE)


@pytest.mark.realdata
def test_verify_a_tampered_file_exits_1_and_says_why(data_dir, cache, tmp_path, capsys):
    (tmp_path / "lookups").mkdir()
    text = (data_dir / "lookups" / "ccg20_stp20_en.csv").read_text()
    (tmp_path / "lookups" / "ccg20_stp20_en.csv").write_text(text.replace("CCG20NM", "NAME"))
    code = main("data", "verify", "--vintage", "2020", "--data-dir", str(tmp_path), "--json")
    assert code == 1
    by_id = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert by_id["ccg-stp-2020"]["result"] == "problem"
    assert "missing columns CCG20NM" in by_id["ccg-stp-2020"]["problem"]
    assert by_id["ccg-2020"]["result"] == "missing"


def test_data_without_a_subcommand_prints_help(capsys):
    assert main("data") == 2
    assert "{status,fetch,verify,cache,clean,manifest}" in capsys.readouterr().err


@pytest.mark.realdata
def test_status_names_the_service_a_download_came_from(ons, cache, capsys):
    assert main("data", "fetch", "ccg-2019", "--base-url", ons.base_url) == 0
    capsys.readouterr()
    assert main("data", "status", "--vintage", "2019") == 0
    out = capsys.readouterr().out
    assert re.search(rf"^ccg-2019\s+cache\s.*\(from {CCG19_SERVICE}\)$", out, re.MULTILINE)


# --- offline ------------------------------------------------------------------------------------
def test_fetch_ids_offline_stops_at_the_first_with_one_line(cache, capsys, monkeypatch):
    import socket

    asked = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    argv = ["data", "fetch", "ccg-2019", "stp-2019", "--base-url", "https://ons.example.invalid"]
    assert main(*argv) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "Cannot reach ons.example.invalid: its name does not resolve" in line
    assert asked == ["ons.example.invalid"]


def _unshare_works() -> bool:
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.slow
def test_fetch_a_vintage_with_no_network_fails_fast_with_one_short_message(tmp_path):
    if not _unshare_works():
        skip_or_fail(
            "`unshare -n` (a network namespace without network) is not permitted here: it "
            "needs root or unprivileged user namespaces"
        )
    cache_root = tmp_path / "cache"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("COTERMINUS_") and "proxy" not in key.lower()
    }
    env.update(
        HOME=str(home),
        COTERMINUS_CACHE_DIR=str(cache_root),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    code = "import sys; from coterminus.cli import main; sys.exit(main())"
    argv = ["unshare", "-n", sys.executable, "-c", code, "data", "fetch", "--vintage", "2019"]
    # Two runs: the first also pays for one-off work outside the command (bytecode, matplotlib's
    # font cache in this run's fresh MPLCONFIGDIR); the second is what a user sees every time.
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path
        )
        elapsed = time.monotonic() - started
        output = (done.stdout + done.stderr).strip().splitlines()
        assert done.returncode != 0
        assert 1 <= len(output) <= 5, output
        assert "Traceback" not in done.stderr
        assert "Cannot reach services1.arcgis.com" in output[0]
        assert "Nothing was downloaded or saved" in output[0]
        assert not cache_root.exists()  # nothing at all, not even an empty downloads/
    assert elapsed < 5, f"took {elapsed:.1f} s"


# --- cache and clean ----------------------------------------------------------------------------
def _fill(cache: Path) -> None:
    """Two files as coterminus writes them (recorded in the marker), and one of the user's."""
    from coterminus.data import cache as cache_mod

    (cache / "downloads").mkdir(parents=True, exist_ok=True)
    (cache / "downloads" / "a.csv").write_bytes(b"x" * 1500)
    (cache / "parsed").mkdir(exist_ok=True)
    (cache / "parsed" / "b.parquet").write_bytes(b"y" * 20)
    (cache / "parsed" / "mine.txt").write_bytes(b"the user's" * 10)
    cache_mod.record_written(cache / "downloads" / "a.csv", cache / "parsed" / "b.parquet")


def test_cache_shows_where_and_how_big(cache, capsys):
    _fill(cache)
    assert main("data", "cache") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"cache: {cache}"
    assert re.search(r"^downloads/\s+1\s+1\.5 kB\s+files downloaded", out, re.MULTILINE)
    assert re.search(r"^parsed/\s+1\s+20 B\s+parsed boundary layers", out, re.MULTILINE)
    assert re.search(r"^parsed/ \(other\)\s+1\s+100 B\s+not written by", out, re.MULTILINE)
    assert "total 1.5 kB in 2 files" in out


def test_cache_json(cache, capsys):
    _fill(cache)
    assert main("data", "cache", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["path"] == str(cache)
    assert {r["folder"]: r["bytes"] for r in payload["folders"]} == {
        "downloads": 1500,
        "parsed": 20,
    }


def test_clean_without_yes_off_a_terminal_deletes_nothing_and_says_how(cache, capsys):
    _fill(cache)
    assert main("data", "clean") == 2
    line = one_error_line(capsys.readouterr().err)
    assert "would delete 2 files (1.5 kB)" in line
    assert "add --yes" in line
    assert (cache / "parsed" / "b.parquet").exists()


def test_clean_yes_empties_the_cache(cache, capsys):
    _fill(cache)
    assert main("data", "clean", "--only", "parsed", "--yes") == 0
    assert "Deleted 1 files (20 B) from parsed/" in capsys.readouterr().out
    assert (cache / "downloads" / "a.csv").exists()
    assert main("data", "clean", "-y") == 0
    assert not (cache / "downloads").exists()
    assert (cache / "parsed" / "mine.txt").exists()  # not coterminus's: left alone
    assert main("data", "clean", "-y") == 0
    assert "Nothing to delete" in capsys.readouterr().out


def test_clean_refuses_a_folder_coterminus_did_not_make(cache, capsys):
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "thesis.docx").write_bytes(b"the user's own")
    assert main("data", "clean", "-y") == 1
    line = one_error_line(capsys.readouterr().err)
    assert "has no .coterminus-cache file" in line
    assert "nothing was deleted" in line
    assert (cache / "downloads" / "thesis.docx").exists()


def test_clean_asks_on_a_terminal(cache, capsys, monkeypatch):
    import io

    _fill(cache)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    assert main("data", "clean") == 0
    assert "Nothing deleted." in capsys.readouterr().out
    assert (cache / "parsed" / "b.parquet").exists()
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert main("data", "clean") == 0
    assert not (cache / "parsed" / "b.parquet").exists()
    assert (cache / "parsed" / "mine.txt").exists()


def test_every_new_option_states_its_default(capsys):
    for sub in ("fetch", "clean", "cache"):
        with pytest.raises(SystemExit):
            main("data", sub, "--help")
        out = " ".join(capsys.readouterr().out.split())
        if sub == "fetch":
            for option, default in (
                ("--timeout", "default 60"),
                ("--deadline", "default 900"),
                ("--retries", "default 3"),
                ("--base-url", "default: $COTERMINUS_ONS_BASE_URL"),
            ):
                assert option in out
                assert default in out
        if sub == "clean":
            assert "default: both" in out
            assert "default: ask" in out


def test_the_cli_defaults_are_the_library_defaults():
    assert cli_data.DEFAULT_BASE_URL == arcgis.DEFAULT_BASE_URL
    assert (cli_data.DEFAULT_TIMEOUT, cli_data.DEFAULT_RETRIES, cli_data.DEFAULT_DEADLINE) == (
        files.DEFAULT_TIMEOUT,
        files.DEFAULT_RETRIES,
        files.DEFAULT_DEADLINE,
    )


# --- where data comes from; the embedded copy is verified too ------------------------------------
def test_status_and_verify_without_a_data_dir_lead_with_where_data_comes_from(cache, capsys):
    assert main("data", "status") == 0
    out = capsys.readouterr().out
    assert out.startswith("No data directory (--data-dir or COTERMINUS_DATA_DIR): a vintage is ")
    assert not re.search(r"^\S+\s+missing\s", out, re.M)  # no row per missing file
    assert re.search(
        r"^\d+ datasets: 0 in the data directory, 0 in the cache, \d+ missing \(not "
        r"needed for the embedded copy",
        out,
        re.M,
    )
    assert main("data", "verify") == 0
    out = capsys.readouterr().out
    assert out.startswith("No data directory")
    assert re.search(r"^embedded copy: \d+ files, every SHA-256 matches files\.json$", out, re.M)


def test_verify_refuses_an_edited_embedded_file(cache, capsys, monkeypatch, tmp_path):
    from coterminus.data import embedded

    copy = tmp_path / "_embedded"
    shutil.copytree(embedded.root(), copy)
    target = copy / "2019" / "blocks.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte
    target.write_bytes(bytes(data))
    monkeypatch.setattr(embedded, "root", lambda: copy)
    assert main("data", "verify") == 1
    out = capsys.readouterr().out
    assert re.search(
        r"^problem\s+embedded/2019/blocks\.parquet\s+sha256 differs from files\.json .*reinstall",
        out,
        re.M,
    )
    assert "embedded copy: " in out
    assert "1 differ from files.json" in out
    assert main("data", "verify", "--json") == 1
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["embedded/2019/blocks.parquet"]["result"] == "problem"
    assert rows["embedded/2024/blocks.parquet"]["result"] == "ok"
