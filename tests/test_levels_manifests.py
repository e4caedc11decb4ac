"""Levels and vintages as data: the vocabulary, the built-in manifests, the 2022 and 2024
geographies (regression figures computed independently with plain pandas on the lookups),
scenarios, and a vintage the package has never heard of."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coterminus as ct
from coterminus.analysis.assess import assess
from coterminus.analysis.systems import systems
from coterminus.data.manifest import builtin_vintages, manifest_text, read_manifest
from coterminus.errors import (
    ColumnError,
    DataDirError,
    ManifestError,
    ParameterError,
    ScenarioError,
    UnknownAreaError,
    VintageMismatchError,
)
from coterminus.geography.scenario import scenario
from coterminus.vocabulary.levels import describe_code, normalise_level

LOOKUP24 = "lookups/lsoa21_sicbl24_icb24_nhser24_lad24_utla24_cauth23_en.csv.gz"
POP21 = "population/lsoa21_pop_census2021_ew.csv"
LOOKUP22 = "lookups/lsoa11_sicbl22_icb22_lad22_utla22_en.csv.gz"
POP11 = "population/lsoa11_pop_mid2019_ew.csv"


# --- vocabulary --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "available", "expected"),
    [
        ("LAD", None, "ltla"),
        ("Lower tier", None, "ltla"),
        ("CTYUA", None, "utla"),
        ("combined authority", None, "cauth"),
        ("Sub-ICB", None, "sicbl"),
        ("ics", ["ccg", "stp", "ltla", "utla"], "stp"),
        ("ics", ["sicbl", "icb", "nhser", "ltla", "utla", "cauth"], "icb"),
        ("region", ["sicbl", "icb", "nhser"], "nhser"),
        ("proposed_icb", ["icb", "proposed_icb"], "proposed_icb"),
    ],
)
def test_level_words_resolve_to_the_levels_a_geography_has(word, available, expected) -> None:
    assert normalise_level(word, available) == expected


def test_a_level_the_geography_lacks_lists_the_levels_it_has() -> None:
    with pytest.raises(ParameterError, match=r"no level 'cauth' here; levels are ccg, stp"):
        normalise_level("cauth", ["ccg", "stp", "ltla", "utla"])


def test_codes_outside_england_are_named() -> None:
    assert describe_code("W06000015") == "a Welsh unitary authority (W06)"
    assert describe_code("S08000031") == "a Scottish health board (S08)"
    assert describe_code("QWU") is None


# --- manifests ---------------------------------------------------------------------------------
def test_every_builtin_vintage_has_a_manifest_that_parses() -> None:
    assert builtin_vintages() == [2019, 2020, 2021, 2022, 2024, 2026]
    levels = {v: list(read_manifest(v).levels) for v in builtin_vintages()}
    assert levels[2019] == ["ccg", "stp", "ltla", "utla"]
    assert levels[2022] == ["sicbl", "icb", "ltla", "utla"]
    assert levels[2024] == ["sicbl", "icb", "nhser", "ltla", "utla", "cauth"]


def test_unknown_vintage_lists_the_builtin_ones_and_how_to_add_one() -> None:
    with pytest.raises(ManifestError, match=r"2019, 2020, 2021, 2022, 2024.*data manifest 2024"):
        ct.load(2023)


def test_manifest_problems_are_reported_together(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'vintage = "x"\n[blocks]\nlevel = "lsoa11"\n[population]\n'
        '[levels.icb]\nside = "nhs"\nparnet = "nhser"\n'
    )
    with pytest.raises(ManifestError) as info:
        read_manifest(bad)
    text = str(info.value)
    for part in (
        "blocks.source",
        "blocks.code_column",
        "population.column",
        "did you mean 'parent'",
        "levels.icb.code_column",
    ):
        assert part in text


@pytest.mark.realdata
def test_manifest_naming_a_missing_column_names_the_nearest(tmp_path: Path, data_dir: Path) -> None:
    text = manifest_text(2024).replace('code_column = "ICB24CD"', 'code_column = "ICB23CD"')
    path = tmp_path / "v.toml"
    path.write_text(text)
    with pytest.raises(ColumnError, match=r"no column 'ICB23CD' \(nearest: 'ICB24CD'\)"):
        ct.load(path, data_dir=data_dir)


@pytest.mark.realdata
def test_manifest_naming_a_missing_file_says_where_it_looked(
    tmp_path: Path, data_dir: Path
) -> None:
    text = manifest_text(2024).replace(
        'source = { dataset = "lsoa-population-census2021" }', 'source = { file = "nowhere.csv" }'
    )
    path = tmp_path / "v.toml"
    path.write_text(text)
    with pytest.raises(DataDirError, match=r"file 'nowhere.csv'.*next to the manifest"):
        ct.load(path, data_dir=data_dir)


# --- 2022 and 2024, against plain pandas on the lookups -----------------------------------------
@pytest.fixture(scope="module")
def geo24(geo2024: ct.Geography) -> ct.Geography:
    """The session's 2024 geography (tests/conftest.py): shared, not changed here."""
    return geo2024


@pytest.fixture(scope="module")
def plain24(data_dir: Path) -> pd.DataFrame:
    lu = pd.read_csv(data_dir / LOOKUP24, dtype=str)
    pop = pd.read_csv(data_dir / POP21, dtype={"LSOA21CD": str})
    return lu.merge(pop[["LSOA21CD", "POP_CENSUS2021"]], on="LSOA21CD")


@pytest.mark.realdata
def test_2024_counts_and_totals_match_plain_pandas(geo24, plain24) -> None:
    for level, col in [
        ("sicbl", "SICBL24CD"),
        ("icb", "ICB24CD"),
        ("nhser", "NHSER24CD"),
        ("ltla", "LAD24CD"),
        ("utla", "UTLA24CD"),
        ("cauth", "CAUTH23CD"),
    ]:
        expected = plain24.groupby(col)["POP_CENSUS2021"].sum()
        got = geo24.units(level)["population"]
        pd.testing.assert_series_equal(
            got.sort_index(), expected.sort_index(), check_names=False, check_index_type=False
        )
    assert int(geo24.lsoa["population"].sum()) == 56_490_108
    assert int(geo24.units("cauth")["population"].sum()) == 15_563_593  # CHECKS §12


@pytest.mark.realdata
def test_combined_authorities_from_the_ltla_lookup_equal_the_lsoa_lookup(geo24, plain24) -> None:
    via = geo24.lsoa["cauth"]
    direct = plain24.set_index("LSOA21CD")["CAUTH23CD"].reindex(via.index)
    assert via.fillna("").equals(direct.fillna(""))


def _plain_j(plain: pd.DataFrame, unit_col: str, unit: str, target_col: str, pop: str) -> float:
    """J of one unit against a level, from the formula on a plain pandas crosstab."""
    inside = plain[plain[unit_col] == unit]
    t_f = inside[pop].sum()
    m = inside.groupby(target_col)[pop].sum()
    totals = plain.groupby(target_col)[pop].sum().reindex(m.index)
    best = m[m / totals >= 0.5]
    return float(best.sum() / (t_f + (totals[best.index] - best).sum()))


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("icb", "target", "col"),
    [
        ("E54000008", "cauth", "CAUTH23CD"),  # Cheshire and Merseyside ⊇ Liverpool City Region
        ("E54000057", "cauth", "CAUTH23CD"),  # Greater Manchester
        ("E54000018", "utla", "UTLA24CD"),  # Coventry and Warwickshire
        ("E54000044", "utla", "UTLA24CD"),  # Buckinghamshire, Oxfordshire and Berkshire West
    ],
)
def test_2024_icb_j_equals_the_formula_on_plain_pandas(geo24, plain24, icb, target, col) -> None:
    a = assess(geo24, icb, units="icb", against=[target])
    expected = _plain_j(plain24, "ICB24CD", icb, col, "POP_CENSUS2021")
    assert a.metrics.index == pytest.approx(expected, abs=1e-12)


@pytest.mark.realdata
def test_liverpool_city_region_is_wholly_inside_cheshire_and_merseyside(geo24, plain24) -> None:
    a = assess(geo24, "E54000008", units="icb", against=["cauth"])
    row = a.tiers["cauth"].by_la.loc["E47000004"]
    assert row["status"] == "contained"
    icb_pop = plain24.loc[plain24["ICB24CD"] == "E54000008", "POP_CENSUS2021"].sum()
    assert a.metrics.index == pytest.approx(1_551_750 / icb_pop)
    assert "Liverpool City Region" in a.explain()


@pytest.mark.realdata
def test_coventry_and_warwickshire_2024_touches_west_midlands_split(geo24) -> None:
    a = assess(geo24, system="Coventry and Warwickshire", units="icb")
    assert a.against == ["utla", "ltla", "cauth"]
    assert a.tiers["utla"].coterminous
    ca = a.tiers["cauth"].by_la.loc["E47000007"]  # West Midlands
    assert (ca["in_footprint"], ca["outside_footprint"]) == (345_318, 2_919_639 - 345_318)
    assert not a.tiers["cauth"].coterminous
    text = a.explain(a.against)
    assert (
        "West Midlands (36.7% of the footprint; 345,318 people inside, 2,574,321 people outside)"
        in text
    )
    assert a.within == "nhser"
    assert a.system is not None
    assert a.system.within_one_system


@pytest.mark.realdata
def test_2022_geography_loads_and_coventry_and_warwickshire_is_coterminous(data_dir: Path) -> None:
    geo = ct.load(2022, data_dir=data_dir)
    assert [len(geo.units(n)) for n in geo.level_names] == [106, 42, 309, 152]
    assert int(geo.lsoa["population"].sum()) == 56_286_961
    plain = pd.read_csv(data_dir / LOOKUP22, dtype=str).merge(
        pd.read_csv(data_dir / POP11, dtype={"LSOA11CD": str}), on="LSOA11CD"
    )
    a = assess(geo, system="Coventry and Warwickshire")
    assert a.units == "sicbl"
    assert a.members == ["E38000251"]
    expected = _plain_j(plain, "ICB22CD", "E54000018", "UTLA22CD", "POP_ALL_AGES_MID2019")
    assert a.metrics.index == pytest.approx(expected) == 1.0
    assert geo.code("NHS Coventry and Warwickshire Integrated Care Board") == "E54000018"
    assert geo.code("NHS Coventry and Warwickshire ICB - B2M3M") == "E38000251"
    assert geo.code("B2M3M") == "E38000251"


@pytest.mark.realdata
def test_a_code_of_another_vintage_says_what_it_became(data_dir: Path) -> None:
    geo21 = ct.load(2021, data_dir=data_dir)
    with pytest.raises(
        VintageMismatchError,
        match=r"05A is a 2019/2020 CCG code.*part of NHS Coventry and Warwickshire CCG \(E38000251\)",
    ):
        assess(geo21, ["05A"])
    with pytest.raises(UnknownAreaError, match="covers England only"):
        geo21.code("W06000015")


@pytest.mark.realdata
def test_systems_of_2024_one_row_per_icb_with_combined_authorities(geo24) -> None:
    t = systems(geo24, against=["utla", "cauth"])
    assert len(t) == 42
    cw = t.set_index("system").loc["E54000018"]
    assert cw["coterminous"]
    assert cw["touched_cauth"] == "West Midlands (36.7%)"
    assert cw["split_cauth"]
    assert int(t["n_members"].sum()) == 106


@pytest.mark.realdata
def test_systems_of_2019_are_the_one_ccg_per_ics_table(data_dir: Path) -> None:
    t = systems(ct.load(2019, data_dir=data_dir))
    assert int(t["coterminous"].sum()) == 19
    assert int(t["n_members"].sum()) == 191


# --- scenarios ---------------------------------------------------------------------------------
@pytest.mark.realdata
def test_scenario_of_merged_icbs_is_assessed_like_any_level(geo24) -> None:
    table = pd.DataFrame({"member": ["QWU", "E54000058"], "area": ["M1", "M1"]})
    geo2 = scenario(geo24, "proposed_icb", table, complete=False)
    assert "proposed_icb" not in geo24.levels  # the input is not changed
    a = assess(geo2, "M1", units="proposed_icb")
    expected = geo24.units("icb").loc[["E54000018", "E54000058"], "population"].sum()
    assert a.metrics.total == expected
    assert a.tiers["utla"].coterminous
    assert a.within == "nhser"
    assert geo2.layer("proposed_icb").area.iloc[0] == pytest.approx(
        geo24.layer("icb").loc[["E54000018", "E54000058"]].area.sum(), rel=1e-6
    )


@pytest.mark.realdata
def test_scenario_problems_are_all_reported_at_once(geo24) -> None:
    table = pd.DataFrame(
        {"member": ["QWU", "QJ2", "QWU", "Nowhereshire ICB"], "area": ["A", "A", "B", "C"]}
    )
    with pytest.raises(ScenarioError) as info:
        scenario(geo24, "bad", table)
    text = str(info.value)
    assert "unknown member" in text
    assert "Nowhereshire" in text
    assert "assigned more than once: E54000018 → A, B" in text


@pytest.mark.realdata
def test_scenario_gaps_name_the_units_left_out(geo24) -> None:
    essex = geo24.members("Essex", "ltla")
    table = pd.DataFrame({"member": essex[:-1], "area": ["N"] * (len(essex) - 1)})
    with pytest.raises(ScenarioError, match=rf"1 gap\(s\): {essex[-1]}"):
        scenario(geo24, "essex", table)


@pytest.mark.realdata
def test_scenario_of_blocks_splits_a_district_and_is_a_council_level(geo24, tmp_path) -> None:
    rugby = geo24.lsoa.index[geo24.lsoa["ltla"] == "E07000220"]
    rest = geo24.lsoa.index[geo24.lsoa["utla"] == "E10000031"].difference(rugby)
    half = len(rugby) // 2
    rows = (
        [(c, "N") for c in rugby[:half]]
        + [(c, "S") for c in rugby[half:]]
        + [(c, "S") for c in rest]
    )
    path = tmp_path / "warks.csv"
    pd.DataFrame(rows, columns=["member", "area"]).to_csv(path, index=False)
    geo2 = scenario(geo24, "new_unitary", path, side="council")
    assert geo2.levels["new_unitary"].side == "council"
    a = assess(geo2, "E54000018", units="icb", against=["new_unitary"])
    assert a.tiers["new_unitary"].by_la["status"].eq("contained").all()
    assert int(geo2.units("new_unitary")["population"].sum()) == int(
        geo24.units("utla").at["E10000031", "population"]
    )


# --- a vintage the package has never heard of ------------------------------------------------
def _relabelled_vintage(data_dir: Path, root: Path) -> Path:
    """The 2021 files relabelled: new level names, new column names, new codes."""
    lu = pd.read_csv(data_dir / "lookups/lsoa11_ccg21_stp21_lad21_utla21_en.csv.gz", dtype=str)
    out = pd.DataFrame(
        {
            "BLOCK": lu["LSOA11CD"],
            "BLOCKNAME": lu["LSOA11NM"],
            "PCN_CODE": "P" + lu["CCG21CD"].str[3:],
            "PCN_NAME": lu["CCG21NM"].str.replace("CCG", "Care Network"),
            "HUB_CODE": "H" + lu["STP21CD"].str[3:],
            "HUB_NAME": lu["STP21NM"] + " Hub",
            "WARD_CODE": lu["LAD21CD"],
            "WARD_NAME": lu["LAD21NM"],
        }
    )
    shires = lu[["LAD21CD", "UTLA21CD", "UTLA21NM"]].drop_duplicates()
    root.mkdir(parents=True, exist_ok=True)
    out.to_csv(root / "blocks.csv", index=False)
    shires.rename(columns={"LAD21CD": "W", "UTLA21CD": "SHIRE", "UTLA21NM": "SHIRE_NAME"}).to_csv(
        root / "shires.csv", index=False
    )
    pop = pd.read_csv(data_dir / POP11, dtype=str)
    pop.rename(columns={"LSOA11CD": "LSOA11CD", "POP_ALL_AGES_MID2019": "PEOPLE"}).to_csv(
        root / "people.csv", index=False
    )
    (root / "future.toml").write_text(
        f"""
vintage = "future-2031"
title = "A vintage nobody has seen"

[blocks]
level = "lsoa11"
source = {{ file = "blocks.csv" }}
code_column = "BLOCK"
name_column = "BLOCKNAME"
boundaries = {{ file = "{data_dir / "boundaries/lsoa11_bgc_england.gpkg"}", layer = "lsoa" }}

[population]
source = {{ file = "people.csv" }}
code_column = "LSOA11CD"
column = "PEOPLE"
label = "people (mid-2019)"

[defaults]
against = ["shire", "ward"]
systems = "hub"

[levels.pcn]
side = "nhs"
label = "care network"
code_column = "PCN_CODE"
name_column = "PCN_NAME"
parent = "hub"

[levels.hub]
side = "nhs"
label = "hub"
code_column = "HUB_CODE"
name_column = "HUB_NAME"

[levels.ward]
side = "council"
label = "ward council"
code_column = "WARD_CODE"
name_column = "WARD_NAME"
parent = "shire"

[levels.shire]
side = "council"
label = "shire"
via = "ward"
source = {{ file = "shires.csv" }}
key_column = "W"
code_column = "SHIRE"
name_column = "SHIRE_NAME"
"""
    )
    return root / "future.toml"


@pytest.fixture(scope="module")
def future(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ct.Geography:
    path = _relabelled_vintage(data_dir, tmp_path_factory.mktemp("future"))
    return ct.load(path, data_dir=data_dir)


@pytest.mark.realdata
def test_a_new_vintage_loads_from_its_manifest_alone(future, data_dir) -> None:
    g21 = ct.load(2021, data_dir=data_dir)
    assert future.level_names == ["pcn", "hub", "ward", "shire"]
    assert [len(future.units(n)) for n in future.level_names] == [106, 42, 309, 152]
    assert future.parent("pcn") == "hub"
    assert future.parent("ward") == "shire"
    cw = future.code("Coventry and Warwickshire Hub")
    a = assess(future, system=cw)
    a21 = assess(g21, system="Coventry and Warwickshire")
    assert a.against == ["shire", "ward"]
    assert a.metrics.index == a21.metrics.index
    assert a.metrics.total == a21.metrics.total
    t = systems(future)
    t21 = systems(g21)
    assert np.allclose(t["coterminosity_index"].to_numpy(), t21["coterminosity_index"].to_numpy())
    p = future.members(cw)
    assert len(p) == 1


@pytest.mark.slow
@pytest.mark.realdata
def test_a_new_vintage_dissolves_polygons_it_was_not_given(future) -> None:
    layer = future.layer("hub")
    assert len(layer) == 42
    assert future.resolution("hub") == "dissolved from blocks"
    assert layer.area.sum() == pytest.approx(future.lsoa_polygons().area.sum(), rel=1e-6)


# --- mergers at any level: tests/test_plans_2024.py (issue 17) -------------------------------


# --- the command line on scenarios and on a vintage it has never seen -----------------------------
@pytest.mark.realdata
def test_cli_assesses_maps_and_diffs_a_scenario(data_dir: Path, tmp_path: Path, capsys) -> None:
    from coterminus import cli

    plan = tmp_path / "plan.csv"
    plan.write_text("member,area,area_name\nQWU,M1,Proposed\nE54000058,M1,Proposed\n")
    common = ["--vintage", "2024", "--scenario", str(plan), "--scenario-name", "proposed_icb",
              "--partial", "--data-dir", str(data_dir)]  # fmt: skip
    assert cli.main(["assess", *common, "--units", "proposed_icb", "--codes", "M1"]) == 0
    assert "Proposed's 1,998,067 people" in capsys.readouterr().out
    out = tmp_path / "m.html"
    argv = ["map", *common, "--units", "proposed_icb", "--codes", "M1", "--out", str(out)]
    assert cli.main(argv) == 0
    assert out.stat().st_size > 10_000
    capsys.readouterr()
    assert cli.main(["diff", *common, "--level", "icb"]) == 0
    assert "1 new proposed icb formed from 2 of the 2 ICBs of 2024" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.realdata
def test_every_command_runs_on_a_vintage_it_has_never_seen(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory, capsys
) -> None:
    from coterminus import cli

    manifest = str(_relabelled_vintage(data_dir, tmp_path_factory.mktemp("unseen")))
    out = tmp_path_factory.mktemp("out")
    dd = ["--vintage", manifest, "--data-dir", str(data_dir)]
    cw = "Coventry and Warwickshire Hub"
    runs = [
        ["assess", *dd, "--system", cw],
        ["systems", *dd],
        ["mergers", *dd, "--system", cw, "--top", "2"],
        ["map", *dd, "--system", cw, "--out", str(out / "cw.html")],
        ["report", *dd, "--system", cw, "--out", str(out / "cw.html.html")],
        [
            "diff",
            "--level",
            "pcn",
            "--from",
            manifest,
            "--to",
            manifest,
            "--data-dir",
            str(data_dir),
        ],
        ["doctor", *dd, "--level", "hub"],
    ]
    for argv in runs:
        code = cli.main(argv)
        captured = capsys.readouterr()
        assert code == 0, (argv[0], captured.err)
        assert captured.out.strip() or argv[0] in ("map", "report"), argv[0]
