"""Vintage 2026 built in (issue 18): the 36 ICBs of April 2026, combined authorities of May 2025,
strategic authorities of December 2026, named scenarios, names across vintages, era criteria.

Regression figures are computed here with plain pandas on the shared lookups (CHECKS §17 has
the same figures, computed separately).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coterminus
from coterminus.analysis.diff.vintages import diff
from coterminus.analysis.systems import systems
from coterminus.cli import main
from coterminus.data.criteria import merger_criteria
from coterminus.data.manifest import newest_vintage, read_manifest
from coterminus.data.scenarios import catalogue, named_scenario
from coterminus.errors import ManifestError, ParameterError, ScenarioError, UnknownAreaError
from coterminus.geography.bundle import Geography
from coterminus.geography.provenance import era_criteria, heading
from coterminus.geography.resolve import display_names, resolve_group

ICB_LOOKUP = "lookups/lsoa21_icb26_nhser24_lad24_utla24_en_DERIVED.csv.gz"
SA_LOOKUP = "lookups/lad24_sa26_en.csv"
POPULATION = "population/lsoa21_pop_census2021_ew.csv"


@pytest.fixture(scope="module")
def plain(data_dir: Path) -> pd.DataFrame:
    """One row per LSOA: ICB26, LAD24, UTLA24, SA26 and Census 2021 people (pandas only)."""
    lsoa = pd.read_csv(data_dir / ICB_LOOKUP, dtype=str)
    sa = pd.read_csv(data_dir / SA_LOOKUP, dtype=str)
    pop = pd.read_csv(data_dir / POPULATION, dtype={"LSOA21CD": str})
    out = lsoa.merge(sa[["LAD24CD", "SA26CD"]], on="LAD24CD", how="left")
    return out.merge(pop[["LSOA21CD", "POP_CENSUS2021"]], on="LSOA21CD")


@pytest.fixture(scope="module")
def geo26(data_dir: Path) -> Geography:
    return coterminus.load(2026, data_dir=data_dir)


def _j(plain: pd.DataFrame, column: str) -> pd.Series:
    """J of every ICB against the areas of ``column``: Σ_U m / (P + Σ_U (T − m)), U = {s ≥ ½}."""
    p = plain.groupby("ICB26CD")["POP_CENSUS2021"].sum()
    sub = plain.dropna(subset=[column])
    t = sub.groupby(column)["POP_CENSUS2021"].sum()
    m = sub.groupby(["ICB26CD", column])["POP_CENSUS2021"].sum().reset_index()
    m["T"] = m[column].map(t)
    best = m[m["POP_CENSUS2021"] >= 0.5 * m["T"]]
    inside = best.groupby("ICB26CD")["POP_CENSUS2021"].sum().reindex(p.index, fill_value=0)
    extra = (best["T"] - best["POP_CENSUS2021"]).groupby(best["ICB26CD"]).sum()
    return inside / (p + extra.reindex(p.index, fill_value=0))


def _split(plain: pd.DataFrame, column: str, eps: float = 0.005) -> dict[str, set[str]]:
    sub = plain.dropna(subset=[column])
    t = sub.groupby(column)["POP_CENSUS2021"].sum()
    m = sub.groupby(["ICB26CD", column])["POP_CENSUS2021"].sum().reset_index()
    s = m["POP_CENSUS2021"] / m[column].map(t)
    hit = m[(s > eps) & (s < 1 - eps)]
    return {k: set(g[column]) for k, g in hit.groupby("ICB26CD")}


# ---------------------------------------------------------------------------------------------
# the vintage
# ---------------------------------------------------------------------------------------------
def test_newest_built_in_vintage_is_the_default_everywhere() -> None:
    assert newest_vintage() == 2026
    parser = coterminus.cli.build_parser("systems", lazy=True)
    assert parser.parse_args(["systems"]).vintage == 2026


def test_2026_manifest_carries_attributes_status_and_criteria() -> None:
    m = read_manifest(2026)
    assert list(m.levels) == ["icb", "nhser", "ltla", "utla", "cauth", "sa"]
    sa = m.levels["sa"]
    assert set(sa.attributes) == {"kind", "established", "instrument", "ons_code"}
    assert sa.attributes["ons_code"].missing == "no ONS code yet"
    assert "DERIVED" in (m.levels["icb"].status or "")
    assert m.levels["icb"].criteria == "icb-merger-2025"
    assert m.defaults["authorities"] == "sa"


def test_a_manifest_attribute_of_the_wrong_form_is_refused(tmp_path: Path) -> None:
    text = read_manifest(2026).path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    text = text.replace('kind = "KIND"', "kind = 7").replace(
        'criteria = "icb-merger-2025"', "criteria = 3"
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=r"levels\.sa\.attributes\.kind must be a column name"):
        read_manifest(path)
    with pytest.raises(
        ManifestError,
        match=r"levels\.icb\.criteria must be text in quotes \(criteria = \"...\"\), not the number 3",
    ):
        read_manifest(path)


@pytest.mark.realdata
def test_2026_counts_people_and_attributes_equal_the_lookups(geo26: Geography, plain) -> None:  # type: ignore[no-untyped-def]
    assert [len(geo26.units(n)) for n in geo26.level_names] == [36, 7, 296, 153, 15, 20]
    assert int(geo26.lsoa["population"].sum()) == 56_490_108
    icb = plain.groupby("ICB26CD")["POP_CENSUS2021"].sum()
    assert geo26.units("icb")["population"].to_dict() == icb.to_dict()
    assert int(geo26.units("icb").at["E54000065", "population"]) == 3_092_053  # Central East
    sa = pd.read_csv(Path(geo26.data_dir) / SA_LOOKUP, dtype=str).drop_duplicates("SA26CD")
    units = geo26.units("sa")
    for r in sa.itertuples():
        assert units.at[r.SA26CD, "kind"] == r.KIND
        assert units.at[r.SA26CD, "established"] == r.ESTABLISHED
        assert units.at[r.SA26CD, "ons_code"] == (
            r.ONS_CODE if isinstance(r.ONS_CODE, str) else "no ONS code yet"
        )
    assert int(geo26.lsoa["sa"].isna().sum()) == 11_766  # LSOAs in no strategic authority


@pytest.mark.realdata
def test_2026_systems_coterminous_counts_j_and_splits_equal_plain_pandas(
    geo26: Geography, plain
) -> None:  # type: ignore[no-untyped-def]
    t = systems(geo26, against=["utla", "ltla", "sa"]).set_index("system")
    for level, column in (("utla", "UTLA24CD"), ("ltla", "LAD24CD"), ("sa", "SA26CD")):
        j = _j(plain, column)
        np.testing.assert_allclose(t[f"coterminosity_index_{level}"], j.reindex(t.index))
        assert int(t[f"coterminous_{level}"].sum()) == int((j >= 0.995).sum())
    assert [int(t[f"coterminous_{lv}"].sum()) for lv in ("utla", "ltla", "sa")] == [30, 30, 4]
    assert t.at["E54000008", "coterminosity_index_sa"] == pytest.approx(1.0)  # C&M = LCR + C&W
    assert t.at["E54000048", "coterminosity_index_sa"] == pytest.approx(
        float(_j(plain, "SA26CD")["E54000048"])
    )
    split = _split(plain, "SA26CD")
    assert split["E54000048"] == {"UKSI-2026-158", "E47000012"}  # Cumbria; York and N Yorks
    assert {k: len(v) for k, v in split.items()} == t.loc[
        t["n_split_sa"] > 0, "n_split_sa"
    ].to_dict()


@pytest.mark.realdata
def test_systems_without_a_vintage_prints_the_36_icbs_of_2026(data_dir: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["systems", "--against", "utla", "ltla", "sa", "--data-dir", str(data_dir)]) == 0
        )
    text = out.getvalue()
    assert text.startswith("Vintage 2026; people: Census 2021 usual residents")
    assert "ICBs of April 2026 from a DERIVED lookup" in text.splitlines()[0]
    rows = [line for line in text.splitlines() if " E54" in line or line.startswith("E54")]
    assert len(rows) == 36
    assert "coterminosity_index_sa" in text
    assert "touched_sa" in text


# ---------------------------------------------------------------------------------------------
# diff headlines
# ---------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_diff_2024_to_2026_leads_with_new_icbs_and_the_old_ones_they_came_from(
    data_dir: Path, plain
) -> None:  # type: ignore[no-untyped-def]
    d = diff(
        coterminus.load(2024, data_dir=data_dir),
        coterminus.load(2026, data_dir=data_dir),
        level="icb",
    )
    old = set(plain["ICB24CD"])
    new_codes = sorted(set(plain["ICB26CD"]) - old)
    sources = plain.loc[plain["ICB26CD"].isin(new_codes), "ICB24CD"].nunique()
    assert (len(new_codes), sources) == (7, 13)
    assert d.summary.startswith(
        "7 new ICBs formed from 13 of the 42 ICBs of 2024 (36 ICBs in 2026). Geographically:"
    )
    moved = int((plain["ICB24CD"] != plain["ICB26CD"]).sum())
    assert moved == 10_207  # the figure published for the ONS April 2026 lookup
    assert " 0 mergers" not in d.summary
    assert "of 0" not in d.summary


@pytest.mark.realdata
def test_cli_diff_2024_2026_prints_the_headline(data_dir: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(
                [
                    "diff",
                    "--level",
                    "icb",
                    "--from",
                    "2024",
                    "--to",
                    "2026",
                    "--data-dir",
                    str(data_dir),
                ]
            )
            == 0
        )
    assert out.getvalue().startswith("7 new ICBs formed from 13 of the 42 ICBs of 2024")


# ---------------------------------------------------------------------------------------------
# named scenarios
# ---------------------------------------------------------------------------------------------
def test_named_scenarios_ship_with_status_and_source() -> None:
    cat = catalogue()
    assert {k: v.status for k, v in cat.items()} == {
        "icb-clusters-2027": "reported",
        "lgr-surrey-2027": "decided",
        "sa-proposed-2026": "proposed",
    }
    assert len(cat["lgr-surrey-2027"].table()) == 11
    assert len(cat["sa-proposed-2026"].table()) == 14 + 12  # Greater Essex; Norfolk and Suffolk
    with pytest.raises(ScenarioError, match="did you mean 'lgr-surrey-2027'"):
        named_scenario("lgr-surey-2027")


@pytest.mark.realdata
def test_a_named_scenario_is_a_level_with_its_note(geo26: Geography) -> None:
    g = coterminus.scenario(geo26, "icb-clusters-2027")
    assert g.level_names[-1] == "icb_2027"
    units = g.units("icb_2027")
    assert len(units) == 26  # 8 clusters + 18 ICBs unchanged
    assert int(units.at["CLUSTER-04", "population"]) == sum(
        int(geo26.units("icb").at[c, "population"]) for c in ("E54000058", "E54000060", "E54000013")
    )
    notes = g.notes("icb_2027")
    assert notes[0].startswith("ICBs of April 2026 from a DERIVED lookup")  # its members' note
    assert notes[1].startswith("Scenario icb-clusters-2027 (reported): NHS Confederation (2025)")
    surrey = coterminus.scenario(geo26, "lgr-surrey-2027")
    lt = surrey.units("ltla_2027")
    assert len(lt) == 296 - 11 + 2
    assert int(lt.at["EAST-SURREY", "population"]) + int(lt.at["WEST-SURREY", "population"]) == int(
        geo26.units("utla").at["E10000030", "population"]
    )


@pytest.mark.realdata
def test_a_users_csv_still_works_and_names_its_level(geo26: Geography, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("member,area\nE54000058,M1\nE54000060,M1\n", encoding="utf-8")
    g = coterminus.scenario(geo26, "proposed", path, complete=False)
    assert g.notes("proposed")[0].startswith("ICBs of April 2026 from a DERIVED lookup")
    assert len(g.notes("proposed")) == 1


@pytest.mark.realdata
def test_every_command_output_using_a_scenario_prints_its_status(data_dir: Path) -> None:
    for argv in (
        [
            "assess",
            "--scenario",
            "icb-clusters-2027",
            "--units",
            "icb_2027",
            "--codes",
            "CLUSTER-04",
        ],
        ["systems", "--scenario", "icb-clusters-2027", "--level", "icb_2027", "--against", "sa"],
        ["diff", "--scenario", "icb-clusters-2027", "--level", "icb"],
    ):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*argv, "--data-dir", str(data_dir)]) == 0, argv
        assert (
            "Scenario icb-clusters-2027 (reported): NHS Confederation (2025)" in out.getvalue()
        ), argv
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scenarios"]) == 0
    assert "icb-clusters-2027  reported" in out.getvalue()


# ---------------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_frimley_in_2026_names_the_icbs_its_area_went_to(geo26: Geography) -> None:
    with pytest.raises(UnknownAreaError, match=r"'Frimley' is the name of a 2022/2024 ICB") as exc:
        coterminus.assess(geo26, system="Frimley", units="icb")
    msg = str(exc.value)
    assert "57% in NHS Thames Valley Integrated Care Board (E54000070)" in msg
    assert "--vintage 2024" in msg


@pytest.mark.realdata
def test_icb_asked_of_2019_names_the_vintages_that_have_it(data_dir: Path) -> None:
    geo = coterminus.load(2019, data_dir=data_dir)
    with pytest.raises(ParameterError, match=r"no level 'icb' in 2019; .* 2022, 2024, 2026"):
        coterminus.assess(geo, system="Frimley", units="icb")


@pytest.mark.realdata
def test_cheshire_and_merseyside_resolves_at_the_systems_level(data_dir: Path) -> None:
    geo = coterminus.load(2024, data_dir=data_dir)
    assert resolve_group(geo, "Cheshire and Merseyside", units="icb") == ("E54000008", "icb")
    a = coterminus.assess(geo, system="Cheshire and Merseyside", units="icb")
    assert a.members == ["E54000008"]


@pytest.mark.realdata
def test_greater_manchester_is_refused_with_both_choices_unless_units_say_which(
    data_dir: Path,
) -> None:
    geo = coterminus.load(2024, data_dir=data_dir)
    with pytest.raises(UnknownAreaError) as exc:
        coterminus.assess(geo, system="Greater Manchester")
    msg = str(exc.value)
    assert "the combined authority Greater Manchester (E47000001)" in msg
    assert "the ICB NHS Greater Manchester Integrated Care Board (E54000057)" in msg
    assert "--units cauth or --units icb" in msg
    assert coterminus.assess(geo, system="Greater Manchester", units="icb").members == ["E54000057"]


@pytest.mark.realdata
def test_sub_icb_locations_of_one_icb_are_shown_by_distinct_names(data_dir: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        argv = ["mergers", "--vintage", "2024", "--system", "Cheshire and Merseyside", "--top", "1"]
        assert main([*argv, "--data-dir", str(data_dir)]) == 0
    plan = next(line for line in out.getvalue().splitlines() if " | " in line)
    names = [n.strip() for part in plan.split("|") for n in part.split("+")]
    assert len(names) == len(set(names)) == 9
    assert "Cheshire and Merseyside ICB - 01F" in names


def test_display_names_keep_distinct_names_short() -> None:
    assert display_names(["NHS A ICB - 01F", "NHS A ICB - 01J", "NHS B CCG"]) == [
        "A ICB - 01F",
        "A ICB - 01J",
        "B",
    ]


@pytest.mark.realdata
def test_an_old_code_names_its_successor_across_building_blocks(geo26: Geography) -> None:
    msg = geo26.other_vintage("05A")
    assert msg is not None
    assert (
        "in 2026 its area is part of the ICB NHS Coventry and Warwickshire Integrated Care Board (E54000018)"
        in msg
    )
    assert "LSOAs whose codes did not change" in msg


@pytest.mark.realdata
def test_a_code_typo_gets_the_nearest_codes(geo26: Geography) -> None:
    with pytest.raises(UnknownAreaError) as exc:
        geo26.code("E5400063")
    msg = str(exc.value)
    assert msg.startswith("No area with code 'E5400063' in 2026; did you mean E5400006")
    assert ".." not in msg


# ---------------------------------------------------------------------------------------------
# era criteria, heading
# ---------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_report_criteria_follow_the_era_of_the_footprint(data_dir: Path, geo26: Geography) -> None:
    geo19 = coterminus.load(2019, data_dir=data_dir)
    ccg = era_criteria(geo19, "ccg")
    assert ccg is not None
    assert "Governing-body approval" in [n for n, _ in ccg.items]
    icb = era_criteria(geo26, "icb")
    assert icb is not None
    names = [n for n, _ in icb.items]
    assert "Governing-body approval" not in names
    assert "Running costs" in names
    assert all("{unit}" not in w for _, w in icb.items)
    g = coterminus.scenario(geo26, "icb-clusters-2027")
    assert era_criteria(g, "icb_2027").key == "icb-merger-2025"  # type: ignore[union-attr]
    assert era_criteria(geo26, "utla") is None
    with pytest.raises(ManifestError, match="not a known set"):
        merger_criteria("ccg-2030")


@pytest.mark.realdata
def test_heading_names_vintage_population_and_notes(geo26: Geography) -> None:
    text = heading(geo26, "ltla")
    assert text == (
        "Vintage 2026; people: Census 2021 usual residents (census day 21 March 2021; not a "
        "mid-year estimate)."
    )
    assert "DERIVED" in heading(geo26, "icb")
