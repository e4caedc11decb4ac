"""The vintage bundle, name search, assess() and the CLI, on the real 2019–2021 data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import coterminus as ct
from coterminus.analysis.assess import assess
from coterminus.cli import main
from coterminus.errors import (
    DataDirError,
    FootprintError,
    LookupMismatchError,
    ModifiedFileError,
    UnknownAreaError,
    VintageMismatchError,
)

CW = [
    "E38000038",
    "E38000164",
    "E38000195",
]  # Coventry and Rugby, South Warwickshire, Warwickshire North

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def geo(geo2019: ct.Geography) -> ct.Geography:
    """The session's 2019 geography (tests/conftest.py): shared, not changed here."""
    return geo2019


def _copy_layout(data_dir: Path, target: Path) -> Path:
    """A data directory of symlinks to the real files, so tests can swap one file."""
    for sub in ("boundaries", "lookups", "population"):
        (target / sub).mkdir(parents=True)
        for f in (data_dir / sub).iterdir():
            if f.is_file():
                (target / sub / f.name).symlink_to(f)
    return target


# --- the bundle -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vintage", "counts"),
    [(2019, (191, 42, 317, 151)), (2020, (135, 42, 314, 151)), (2021, (106, 42, 309, 152))],
)
def test_each_vintage_loads_with_its_ons_counts(
    data_dir: Path, vintage: int, counts: tuple
) -> None:
    g = ct.load(vintage, data_dir=data_dir)
    assert (len(g.ccg), len(g.stp), len(g.ltla), len(g.utla)) == counts
    for level in ("ccg", "stp", "ltla", "utla"):
        layer = g.layer(level)
        assert layer["population"].sum() == 56_286_961
        assert layer.crs.to_epsg() == 27700
    assert g.ccg.groupby("stp").size().sum() == counts[0]  # every CCG in exactly one STP
    assert set(g.ccg["stp"]) == set(g.stp.index)


def test_layer_populations_equal_ons_published_county_totals(
    geo: ct.Geography, data_dir: Path
) -> None:
    published = pd.read_csv(data_dir / "population/ctyua19_pop_mid2019_ons_mye2.csv", index_col=0)[
        "ALL_AGES"
    ]
    ours = geo.utla["population"]
    assert (published.reindex(ours.index) == ours).all()
    assert geo.ltla.loc["E08000026", ["name", "population", "utla"]].tolist() == [
        "Coventry",
        371_521,
        "E08000026",
    ]
    assert geo.utla.loc["E10000031", "population"] == 577_933


@pytest.mark.parametrize(
    "query",
    [
        "E38000038",
        "05A",
        "NHS Coventry and Rugby CCG",
        "Coventry and Rugby",
        "coventry & rugby ccg",
    ],
)
def test_name_search_accepts_every_common_form(geo: ct.Geography, query: str) -> None:
    assert geo.code(query) == "E38000038"


def test_unknown_name_suggests_the_closest(geo: ct.Geography) -> None:
    with pytest.raises(
        UnknownAreaError, match=r"did you mean 'NHS Coventry and Rugby CCG' \(E38000038\)"
    ):
        geo.code("Coventry & Rugbby", level="ccg")
    assert geo.members("Coventry and Warwickshire") == CW
    assert geo.search("warwick")["code"].tolist()[:1] == ["E38000164"]


def test_unitary_name_resolves_to_one_code(geo: ct.Geography) -> None:
    assert geo.code("Coventry") == "E08000026"  # LTLA and UTLA share the code
    assert geo.code("Warwickshire", level="utla") == "E10000031"


def test_parsed_layers_are_cached_as_geoparquet(data_dir: Path) -> None:
    first = ct.load(2020, data_dir=data_dir)
    for level in first.level_names:  # polygons are parsed on first use
        first.layer(level)
    cache = Path(os.environ["COTERMINUS_CACHE_DIR"]) / "parsed"
    assert len(list(cache.glob("*.parquet"))) >= 4
    second = ct.load(2020, data_dir=data_dir)
    pd.testing.assert_frame_equal(
        first.ccg.drop(columns="geometry"), second.ccg.drop(columns="geometry")
    )
    assert first.ccg.geometry.geom_equals(second.ccg.geometry).all()


def test_missing_data_directory_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COTERMINUS_DATA_DIR", raising=False)
    with pytest.raises(DataDirError, match="coterminus data fetch"):
        ct.load(2019, data_dir=tmp_path)


def test_layers_of_another_vintage_are_refused(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_layout(data_dir, tmp_path / "d")
    (root / "boundaries/ons_2019.gpkg").unlink()
    (root / "boundaries/ons_2019.gpkg").symlink_to(data_dir / "boundaries/ons_2020.gpkg")
    geo = ct.load(2019, data_dir=root)  # polygons are read on first use
    with pytest.raises(ModifiedFileError, match=r"ons_2019.gpkg has been modified"):
        geo.layer("ccg")  # the pinned SHA-256 catches the swap first
    geo = ct.load(2019, data_dir=root, trust_modified=True)  # told to trust it,
    with pytest.raises(LookupMismatchError, match=r"ccg polygons.*different vintages"):
        geo.layer("ccg")  # the codes still give it away


def test_lookup_missing_lsoas_is_refused_with_the_people_left_out(
    data_dir: Path, tmp_path: Path
) -> None:
    root = _copy_layout(data_dir, tmp_path / "d")
    name = "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv"
    (root / name).unlink()
    lines = (data_dir / name).read_text().splitlines(keepends=True)
    (root / name).write_text("".join(lines[:-10]))
    with pytest.raises(ModifiedFileError, match="--trust-modified"):
        ct.load(2019, data_dir=root)
    with pytest.raises(
        LookupMismatchError,
        match=r"32,834 blocks instead of 32,844.*lacks 10 block\(s\).*people would be left out",
    ):
        ct.load(2019, data_dir=root, trust_modified=True)


def test_population_missing_lsoas_is_refused_not_guessed(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_layout(data_dir, tmp_path / "d")
    name = "population/lsoa11_pop_mid2019_ew.csv"
    (root / name).unlink()
    lines = (data_dir / name).read_text().splitlines(keepends=True)
    (root / name).write_text(lines[0] + "".join(lines[6:]))
    with pytest.raises(
        LookupMismatchError,
        match=r"5 block\(s\) of the 2019 lookup .* have no population.*not guess",
    ):
        ct.load(2019, data_dir=root, trust_modified=True)


def test_lsoa_polygons_join_the_lookup(geo: ct.Geography) -> None:
    poly = geo.lsoa_polygons()
    assert len(poly) == 32_844
    assert poly["population"].sum() == 56_286_961
    assert poly.loc[poly["ccg"].isin(CW)].shape[0] == 534  # CHECKS §5


# --- assess -----------------------------------------------------------------------------------
def test_coventry_and_warwickshire_merger_passes_tests_one_and_two(geo: ct.Geography) -> None:
    a = assess(geo, ["05A", "South Warwickshire", "E38000195"])
    s = a.summary.iloc[0]
    assert s["coterminous"]
    assert s["coterminosity_index"] == 1.0
    assert s["best_fit"] == "E08000026, E10000031"
    assert s["total"] == 949_454
    assert s["within_one_system"]
    assert s["dominant_system"] == "E54000018"
    assert a.mismatch.empty
    assert a.explain().startswith(
        "100.0% of the merged CCG's 949,454 people live in Coventry and Warwickshire, which it covers wholly."
    )
    assert "J = 1.0000; tolerance ε = 0.005" in a.explain()
    ltla = a.tiers["ltla"]
    assert ltla.coterminous
    assert len(ltla.contained) == 6


def test_one_ccg_shows_the_people_behind_the_mismatch(geo: ct.Geography) -> None:
    a = assess(geo, "E38000038")
    row = a.mismatch.set_index("la").loc["E10000031"]
    assert row["direction"] == "footprint_outside_la_set"
    assert (row["people"], row["n_lsoa"]) == (108_935, 61)  # Rugby, CHECKS §4
    lsoas = a.mismatch_lsoas()
    assert len(lsoas) == 61
    assert lsoas["population"].sum() == 108_935
    assert "108,935 people of the footprint live in Warwickshire" in a.explain()
    assert a.summary.at[0, "coterminosity_index"] == pytest.approx(371_521 / 480_456)
    # at lower tier Coventry and Rugby is two whole districts
    assert assess(geo, "E38000038", tier="ltla").metrics.coterminous


def _mismatch_from_lsoas(a: Any, tier: str) -> pd.DataFrame:
    """The mismatch rows of one tier recomputed from the LSOAs behind them (a scan of geo.lsoa)."""
    lsoas = a.mismatch_lsoas(tier)
    return (
        lsoas.groupby(["direction", tier])
        .agg(
            people=("population", "sum"),
            n_lsoa=("population", "size"),
            units=(a.units, lambda s: ", ".join(sorted(s.dropna().unique()))),
        )
        .rename_axis(["direction", "la"])
        .sort_index()
    )


def _check_mismatch_rows(a: Any) -> int:
    rows = 0
    for tier in a.against:
        got = a.mismatch[a.mismatch["tier"] == tier].set_index(["direction", "la"])
        got = got[["people", "n_lsoa", "units"]].sort_index()
        want = _mismatch_from_lsoas(a, tier)
        assert len(got) == len(want)
        if len(want):
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
        rows += len(got)
    return rows


@pytest.mark.slow
def test_mismatch_people_and_lsoas_equal_a_scan_of_the_lsoas(geo: ct.Geography) -> None:
    """Every STP's CCGs (2019): the people, LSOAs and units of each mismatch row (sums of the
    overlap table's pairs) equal the LSOAs behind it."""
    footprints = [sorted(c) for c in geo.lsoa.groupby("stp")["ccg"].unique()]
    rows = sum(_check_mismatch_rows(assess(geo, members, units="ccg")) for members in footprints)
    assert rows > len(footprints)  # the comparison is not vacuous


def test_blocks_outside_every_unit_count_outside_the_footprint(geo: ct.Geography) -> None:
    """A proposed area of all of Coventry and 80% of Rugby's LSOAs; the rest of Rugby is in no
    area. Rugby is best fit, and its people outside the footprint are those 20% of LSOAs."""
    rugby = geo.lsoa.index[geo.lsoa["ltla"] == "E07000220"]
    keep = rugby[: int(len(rugby) * 0.8)]
    members = [*geo.lsoa.index[geo.lsoa["ltla"] == "E08000026"], *keep]
    g2 = ct.scenario(
        geo, "proposed", pd.DataFrame({"member": members, "area": "P1"}), side="nhs", complete=False
    )
    a = assess(g2, ["P1"], units="proposed", against=["ltla"])
    row = a.mismatch.set_index("la").loc["E07000220"]
    rest = geo.lsoa.loc[rugby.difference(keep)]
    assert row["direction"] == "la_set_outside_footprint"
    assert (row["people"], row["n_lsoa"], row["units"]) == (rest["population"].sum(), len(rest), "")
    assert _check_mismatch_rows(a) == 1


def test_whole_system_and_json_round_trip(geo: ct.Geography) -> None:
    a = assess(geo, system="Coventry and Warwickshire")
    assert a.members == CW
    d = json.loads(a.to_json())
    assert d["tiers"]["utla"]["coterminous"] is True
    assert d["test_i"]["within_one_system"] is True
    assert d["members"][0] == {"code": "E38000038", "name": "NHS Coventry and Rugby CCG"}
    assert d["explanation"] == a.explain()


def test_bad_footprints_are_refused_with_the_fix(geo: ct.Geography) -> None:
    with pytest.raises(FootprintError, match="empty"):
        assess(geo, [])
    with pytest.raises(FootprintError, match="more than once"):
        assess(geo, ["E38000038", "NHS Coventry and Rugby CCG"])
    with pytest.raises(UnknownAreaError, match="did you mean"):
        assess(geo, ["Coventry & Rugbby"])
    with pytest.raises(
        VintageMismatchError, match=r"E38000233 is a 2020/2021 CCG code.*load\(2020\)"
    ):
        assess(geo, ["E38000038", "E38000233"])
    with pytest.raises(ValueError, match="no level 'parish' here; levels are ccg, stp, ltla, utla"):
        assess(geo, CW, tier="parish")


@pytest.mark.slow
def test_area_assessment_uses_the_area_tolerance(geo: ct.Geography) -> None:
    a = assess(geo, CW, measure="area")
    assert a.metrics.tolerance == 0.03
    assert a.metrics.index == pytest.approx(1.0, abs=1e-6)
    assert "km²" in a.explain()


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_assess_json_as_promised(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "assess",
            "--vintage",
            "2019",
            "--ccgs",
            *CW,
            "--tier",
            "utla",
            "--json",
            "--data-dir",
            str(data_dir),
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tiers"]["utla"]["coterminosity_index"] == 1.0
    assert out["summary"]["best_fit_names"] == "Coventry, Warwickshire"


def test_cli_assess_system_prints_the_explanation(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["assess", "--vintage", "2019", "--system", "Coventry and Warwickshire"]
    assert main([*argv, "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Vintage 2019; people: ONS mid-2019 population estimates")
    assert "\n\n100.0% of the merged CCG's 949,454 people" in out
    assert "Nuneaton and Bedworth" in out


def test_cli_bad_input_is_one_line_and_non_zero(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["assess", "--vintage", "2019", "--ccgs", "Coventry & Rugbby"]
    assert main([*argv, "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "coterminus assess: error: No area named 'Coventry & Rugbby' in 2019; did you mean"
    )
    assert err.count("\n") == 1
    assert main(["assess", "--data-dir", str(data_dir)]) == 2
    assert (
        main(
            [
                "assess",
                "--vintage",
                "2019",
                "--ccgs",
                "E38000038",
                "--out",
                "/no/such/dir/x.json",
                "--data-dir",
                str(data_dir),
            ]
        )
        == 1
    )
    assert "does not exist" in capsys.readouterr().err


def test_cli_systems_lists_all_42(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["systems", "--vintage", "2019", "--json", "--data-dir", str(data_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 42
    cw = next(r for r in rows if r["system"] == "E54000018")
    assert cw["coterminous"]
    assert cw["n_members"] == 3
    assert cw["population"] == 949_454


def test_output_piped_into_head_is_not_an_error(data_dir: Path) -> None:
    exe = Path(sys.executable).with_name("coterminus")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "coterminus.cli"]
    shell = " ".join([*cmd, "systems", "--data-dir", str(data_dir), "| head -1"])
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1


def test_installed_console_script_runs(data_dir: Path) -> None:
    exe = Path(sys.executable).with_name("coterminus")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "coterminus.cli"]
    out = subprocess.run([*cmd, "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("assess", "mergers", "diff", "data", "systems", "map", "report"):
        assert word in out


def test_cli_diff_prints_the_one_line_summary(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "diff",
                "--level",
                "ccg",
                "--from",
                "2019",
                "--to",
                "2020",
                "--data-dir",
                str(data_dir),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "18 new CCGs formed from 74 of the 191 CCGs of 2019 (135 CCGs in 2020). Geographically: "
        "16 pure mergers of 67; "
    )
    assert "E38000237" in out  # NHS Kent and Medway CCG, formed from 8


def test_cli_doctor_lists_the_holes_filled_by_neighbours(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--level", "utla", "--json", "--data-dir", str(data_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    filled = {
        (r["code"], r["other_code"]) for r in rows if r["check"] == "hole_filled_by_neighbour"
    }
    assert ("E10000007", "E06000015") in filled  # Derbyshire's hole is Derby (CHECKS §9)
    assert not [r for r in rows if r["severity"] == "fatal"]


@pytest.mark.parametrize("measure", ["population", "area"])
def test_explain_words_follow_the_measure(geo: ct.Geography, measure: str) -> None:
    text = assess(geo, "05A", measure=measure).explain()  # type: ignore[arg-type]
    words = set(text.replace(",", " ").replace(".", " ").split())
    if measure == "area":
        assert "km²" in text
        assert not words & {"live", "people", "lives"}
    else:
        assert "people" in words
        assert "live" in words
        assert "km²" not in text
