"""``ct.optimise`` and ``coterminus optimise`` (issue 17 items 4–5): the same optimum as the
exhaustive engine on real data, a tiny exact case, Greater Essex and the South East, every
region's run with its files, explanations and one-line errors.

Figures checked independently: populations with plain pandas on the LSOA lookup; optima against
the exhaustive engine (``ct.best_plan``, subset DP over the footprint table, and ``ct.mergers``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import coterminus as ct
from coterminus.analysis.overlap import population_overlap
from coterminus.errors import ParameterError
from coterminus.plans.constraints import Constraints
from coterminus.plans.optimise import optimise
from coterminus.plans.regions import optimise_systems

ESSEX_PEOPLE = 1_860_198  # Greater Essex: the 12 districts of Essex, Southend-on-Sea, Thurrock


# --- a tiny exact case ---------------------------------------------------------------------------
def test_tiny_exact_case_from_overlap_tables():
    # councils X (300k), Y (200k), Z (200k); CCG A is X, B is Y and half of Z, C the other half:
    # merging B and C makes Y + Z whole, objective 0; every other plan splits Z
    lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
                         "population": [300_000, 200_000, 100_000, 100_000]})  # fmt: skip
    t = population_overlap(lsoa, "ccg", "la")
    opt = optimise({"la": t}, members=["A", "B", "C"], constraints=Constraints(contiguous=False))
    assert opt.status == "optimal"
    assert opt.proven
    assert opt.gap == 0.0
    assert opt.count is not None
    assert opt.count.value == 5  # Bell(3): every plan keeps the rules
    best = opt.best
    assert best["plan"] == "A | B+C"
    assert best["objective"] == 0
    assert best["change"] == 100_000  # C's people leave their unit: min(B, C) moves
    # the second plan: A+B+C is also whole (X, Y, Z) but moves more; then plans splitting Z
    second = opt.plans.iloc[1]
    assert second["plan"] == "A+B+C"
    assert (second["objective"], second["change"]) == (0, 400_000)  # 700k less B's 300k
    third = opt.plans.iloc[2]
    # Z split 100k/100k: mismatch_la = min(100k, 100k) in each of two blocks
    assert third["mismatch_la"] == 200_000
    assert opt.unique is True


def test_bad_arguments_are_refused_naming_the_fix():
    lsoa = pd.DataFrame({"u": ["A", "B"], "la": ["X", "X"], "population": [1, 1]})
    t = {"la": population_overlap(lsoa, "u", "la")}
    with pytest.raises(ParameterError, match="k=0 must be a whole number"):
        optimise(t, members=["A", "B"], k=0, constraints=Constraints(contiguous=False))
    with pytest.raises(ParameterError, match="time_limit=-1 must be a positive number"):
        optimise(t, members=["A", "B"], time_limit=-1, constraints=Constraints(contiguous=False))
    with pytest.raises(ParameterError, match=r"No plan of the 2 units.*without the minimum"):
        optimise(t, members=["A", "B"], constraints=Constraints(contiguous=False, min_pop=5))


# --- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def geo24(data_dir: Path) -> ct.Geography:
    return ct.load(2024, data_dir=data_dir)


@pytest.fixture(scope="module")
def essex_codes(geo24) -> list[str]:
    return [*geo24.members("Essex", "ltla"), "E06000033", "E06000034"]


REAL_CASES = [  # (vintage, system, options): every real instance with n ≤ 14
    (2024, "South East", {"units": "icb", "within": "nhser"}),
    (2024, "Midlands", {"units": "icb", "within": "nhser"}),
    (2024, "North East and Yorkshire", {"units": "icb", "within": "nhser"}),
    (2024, "East of England", {"units": "utla", "within": "nhser", "against": ["cauth"]}),
    (2024, "South West", {"units": "icb", "within": "nhser", "against": ["utla", "cauth"]}),
    (2019, "Cheshire and Merseyside", {"constraints": Constraints(contiguous=False)}),
    (2019, "Greater Manchester Health and Social Care Partnership", {}),
    (2019, "Cumbria and North East", {}),
]


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize(("vintage", "system", "options"), REAL_CASES)
def test_same_optimum_as_the_exhaustive_engine_on_real_data(data_dir, vintage, system, options):
    geo = ct.load(vintage, data_dir=data_dir)
    ref = ct.best_plan(geo, system, **options)
    opt = ct.optimise(geo, system, k=1, **options)
    assert opt.proven
    best = opt.best
    assert (best["objective"], best["change"]) == (ref["objective"], ref["change"])
    for c in opt.weights:
        if opt.weights[c]:
            assert best[c] == ref[c]


@pytest.mark.slow
@pytest.mark.realdata
def test_greater_essex_two_or_three_contiguous_unitaries_by_the_optimiser(geo24, essex_codes):
    sub = geo24.lsoa[geo24.lsoa["ltla"].isin(essex_codes)]
    assert int(sub["population"].sum()) == ESSEX_PEOPLE  # plain pandas on the lookup
    people = sub.groupby("ltla")["population"].sum()
    opt = ct.optimise(geo24, members=essex_codes, units="ltla", k=5,
                      constraints=Constraints(across=True, min_pop=500_000))  # fmt: skip
    assert opt.proven
    blocks = [b.split("+") for b in opt.best["plan"].split(" | ")]
    assert len(blocks) in (2, 3)
    assert all(int(people[b].sum()) >= 500_000 for b in blocks)
    assert sum(int(people[b].sum()) for b in blocks) == ESSEX_PEOPLE
    # the one-unitary plan is above the largest upper-tier council: among no k best
    assert all(" | " in p for p in opt.plans["plan"])
    # the exhaustive engine's ranking, plan for plan
    ref = ct.mergers(geo24, members=essex_codes, units="ltla", top=5,
                     constraints=Constraints(across=True, min_pop=500_000))  # fmt: skip
    assert opt.best["plan"] == ref.top.iloc[0]["plan"] or ref.top.iloc[1]["tied"]
    got = list(zip(opt.plans["objective"], opt.plans["change"], strict=True))
    want = list(zip(ref.top["objective"], ref.top["change"], strict=True))
    assert got == want
    assert opt.count is not None
    assert opt.count.value == ref.n_plans


@pytest.mark.realdata
def test_south_east_icbs_no_block_above_the_maximum_and_ties_to_least_change(geo24):
    largest = int(geo24.lsoa.groupby("icb")["population"].sum().max())
    assert largest == 2_966_476
    opt = ct.optimise(geo24, "South East", units="icb", within="nhser", k=3)
    assert opt.proven
    people = geo24.lsoa.groupby("icb")["population"].sum()
    for plan in opt.plans["plan"]:
        for block in plan.split(" | "):
            assert int(people[block.split("+")].sum()) <= largest
    ref = ct.mergers(geo24, "South East", units="icb", within="nhser", top=3)
    assert list(opt.plans["objective"]) == list(ref.top["objective"])
    assert list(opt.plans["change"]) == list(ref.top["change"])
    # ties on the objective are ordered by change, never by an id
    tied = opt.plans[opt.plans["objective"] == opt.plans["objective"].iloc[0]]
    assert tied["change"].is_monotonic_increasing


@pytest.mark.realdata
def test_regional_run_compares_today_and_writes_its_files(geo24, tmp_path):
    from coterminus.outputs.optimum import write_optimum

    res = optimise_systems(geo24, ["South West", "East of England"], units="utla",
                           within="nhser", against="cauth", compare=["icb"])  # fmt: skip
    assert set(res.summary["name"]) == {"South West", "East of England"}
    assert (res.summary["status"] == "optimal").all()
    assert (res.summary["gap"] == 0).all()
    # every unit once, its block's people within the band
    table = res.units_table
    assert table["code"].is_unique
    utla_people = geo24.lsoa.groupby("utla")["population"].sum()
    assert (table["population"].to_numpy() == utla_people[table["code"]].to_numpy()).all()
    sizes = table.groupby(["system", "block"])["population"].sum()
    assert sizes.min() >= 1_000_000
    assert sizes.max() <= 2_966_476
    # today's ICBs scored by the same objective: never better than the proven optimum
    assert (res.summary["icb_objective"] >= res.summary["optimum_objective"]).all()
    # today's ICBs split the West of England combined authority (plain pandas: its people sit
    # in two ICBs); the optimum keeps it whole, and the explanation says both
    woe = geo24.lsoa[geo24.lsoa["cauth"] == geo24.code("West of England", level="cauth")]
    icbs = woe.groupby("icb")["population"].sum()
    assert (icbs > 0.005 * icbs.sum()).sum() == 2
    said = [x for x in res.explanations["E40000006"] if x.startswith("ICBs split West of England")]
    assert len(said) == 1
    assert said[0].endswith("the best plan keeps it whole")
    # mismatch counts the smaller piece on both sides: in the block that does not mostly cover
    # it, and as people of the area the other block mostly covers living outside it
    assert f"({2 * int(icbs.min()):,} people behind the split)" in said[0]
    # the Isles of Scilly touch nothing: joined to the nearest council, and said so
    sw = res.results["E40000006"]
    assert any("Isles of Scilly touches no other" in n for n in sw.notes)
    paths = write_optimum(geo24, res, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == ["optimum.csv", "optimum.json", "optimum.md", "optimum.png", "summary.csv"]
    data = json.loads((tmp_path / "out" / "optimum.json").read_text())
    assert data["summary"][0]["status"] == "optimal"
    md = (tmp_path / "out" / "optimum.md").read_text()
    assert "### South West (E40000006)" in md
    assert "proven optimal" in md


@pytest.mark.realdata
def test_an_area_too_big_for_one_block_is_explained(geo24):
    # West Midlands CA has ~2.9 M people: with blocks of at most 2,000,000 it must be split,
    # and the explanation says why
    wm = geo24.lsoa[geo24.lsoa["cauth"] == geo24.code("West Midlands", level="cauth")]
    wm_people = int(wm["population"].sum())
    assert wm_people > 2_000_000
    res = optimise_systems(geo24, ["Midlands"], units="utla", within="nhser", against="cauth",
                           constraints=Constraints(max_pop=2_000_000))  # fmt: skip
    text = " ".join(res.explanations["E40000011"])
    assert "West Midlands" in text
    assert "more people than the largest block allowed (2,000,000)" in text
    assert "however fine" in text
    assert res.results["E40000011"].best["not_coterminous_cauth"] > 0


@pytest.mark.realdata
def test_an_area_a_unit_straddles_is_explained_with_the_finer_level(geo24):
    # South East ICBs against upper-tier councils: Frimley ICB is partly in Surrey, so Surrey is
    # split; sub-ICB locations (the finer NHS level) would follow Surrey's boundary only if each
    # lay within or outside it — plain pandas says one straddles it
    res = optimise_systems(geo24, ["South East"], units="icb", within="nhser", against="utla")
    said = [x for x in res.explanations["E40000005"] if x.startswith("Surrey ")]
    assert len(said) == 1
    surrey = geo24.code("Surrey", level="utla")
    lsoa = geo24.lsoa.assign(in_surrey=geo24.lsoa["utla"] == surrey)
    lsoa["surrey_people"] = lsoa["population"].where(lsoa["in_surrey"], 0)
    frimley = lsoa[lsoa["icb"] == geo24.code("NHS Frimley Integrated Care Board", level="icb")]
    share = frimley["surrey_people"].sum() / frimley["population"].sum()
    assert f"Frimley ({share:.0%} in it) is only partly in it" in said[0]
    sicbls = lsoa[lsoa["sicbl"].isin(lsoa.loc[lsoa["in_surrey"], "sicbl"])]
    by = sicbls.groupby("sicbl")[["surrey_people", "population"]].sum()
    part = by["surrey_people"] / by["population"]
    assert ((part > 0.005) & (part < 0.995)).any()  # a sub-ICB location straddles Surrey
    assert said[0].endswith("even sub-ICB locations split Surrey")


# --- the command line ----------------------------------------------------------------------------
@pytest.mark.realdata
def test_cli_optimise_one_system_and_one_line_errors(data_dir, essex_codes, capsys):
    from coterminus import cli

    argv = ["optimise", "--vintage", "2024", "--units", "ltla", "--codes", *essex_codes,
            "--across", "--min-pop", "500000", "-k", "2", "--data-dir", str(data_dir)]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "proven optimal" in out
    assert "500,000–1,575,969 people" in out
    assert "#1 objective" in out
    assert cli.main(["optimise", "--vintage", "2024", "--system", "Midlands", "-k", "0"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "-k/--k: 0 is out of range: give a whole number ≥ 1" in err[0]
    argv = ["optimise", "--vintage", "2024", "--units", "icb", "--within", "nhser",
            "--system", "Midlands", "--min-pop", "9000000", "--data-dir", str(data_dir)]  # fmt: skip
    assert cli.main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--min-pop" in err[0]


@pytest.mark.slow
@pytest.mark.realdata
def test_cli_optimise_writes_files_and_compares_with_a_scenario_csv(data_dir, tmp_path, capsys):
    from coterminus import cli

    csv = Path(ct.__file__).parent / "data" / "scenario_files" / "icb_clusters_2027_reported.csv"
    out = tmp_path / "sw"
    argv = ["optimise", "--vintage", "2026", "--units", "utla", "--within", "nhser",
            "--system", "South West", "--against", "sa", "--today", "icb", "-k", "1",
            "--compare", "icb", str(csv), "--out", str(out), "--json",
            "--data-dir", str(data_dir)]  # fmt: skip
    assert cli.main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "optimal"
    assert payload["system_name"] == "South West"
    summary = pd.read_csv(out / "summary.csv")
    assert {"icb_blocks", "compared_2_blocks", "optimum_objective"} <= set(summary.columns)
    table = pd.read_csv(out / "optimum.csv")
    assert {"code", "block", "icb", "compared_2"} <= set(table.columns)
    assert (out / "optimum.png").stat().st_size > 10_000
    # the scenario's clusters, scored by the same objective, are never better than the optimum
    assert summary.loc[0, "compared_2_objective"] >= summary.loc[0, "optimum_objective"]
