"""Merger plans on the 2024 vintage (issue 17's done-when tests): ICBs of a region, councils
into unitaries, rules as constraints with defaults that fit the units, any number of levels.

Figures checked here are computed independently with plain pandas on the LSOA lookup.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coterminus as ct
from coterminus.errors import ParameterError
from coterminus.plans import mergers as M
from coterminus.plans.constraints import Constraints
from coterminus.plans.problem import prepare_problem

pytestmark = pytest.mark.realdata

ESSEX_PEOPLE = 1_860_198  # Greater Essex: the 12 districts of Essex, Southend-on-Sea, Thurrock


@pytest.fixture(scope="module")
def geo24(data_dir: Path) -> ct.Geography:
    return ct.load(2024, data_dir=data_dir)


@pytest.fixture(scope="module")
def essex_codes(geo24) -> list[str]:
    return [*geo24.members("Essex", "ltla"), "E06000033", "E06000034"]


def _largest(geo24, level: str) -> tuple[str, int]:
    people = geo24.lsoa.groupby(level)["population"].sum()  # plain pandas on the lookup
    return str(people.idxmax()), int(people.max())


def _connected(block: list[str], edges: pd.DataFrame) -> bool:
    on = edges[edges["adjacent"]]
    nb = {c: set() for c in block}
    for a, b in zip(on["a"], on["b"], strict=True):
        if a in nb and b in nb:
            nb[a].add(b)
            nb[b].add(a)
    seen, stack = {block[0]}, [block[0]]
    while stack:
        for v in nb[stack.pop()] - seen:
            seen.add(v)
            stack.append(v)
    return seen == set(block)


# --- rules with defaults that fit the units --------------------------------------------------
def test_the_default_band_fits_the_level_of_the_units(geo24, essex_codes):
    icb, icb_people = _largest(geo24, "icb")
    utla, utla_people = _largest(geo24, "utla")
    assert (geo24.name(icb), icb_people) == (
        "NHS North East and North Cumbria Integrated Care Board",
        2_966_476,
    )
    assert (geo24.name(utla), utla_people) == ("Kent", 1_575_969)
    icbs = prepare_problem(geo24, "Midlands", None, Constraints(units="icb", within="nhser"))
    assert icbs.band.pair == (1_000_000, icb_people)
    assert not icbs.band.soft
    assert icbs.band.text.startswith("1,000,000–2,966,476 people (ICBs, up to the largest ICB")
    councils = prepare_problem(geo24, None, essex_codes, Constraints(units="ltla", across=True))
    assert councils.band.pair == (500_000, utla_people)
    assert councils.block_plural == "unitary councils"
    places = prepare_problem(geo24, "Coventry and Warwickshire", None, Constraints(units="sicbl"))
    assert places.band.pair == (250_000, 500_000)
    assert places.band.soft
    # a minimum alone keeps the level's maximum: never the "500,000–500,000" of a system's
    # largest unit
    given = prepare_problem(geo24, None, essex_codes,
                            Constraints(units="ltla", across=True, min_pop=500_000))  # fmt: skip
    assert given.band.text == "500,000–1,575,969 people (up to the largest upper-tier council of " \
        "2024, Kent), a rule"  # fmt: skip


def test_a_band_above_every_block_is_refused_naming_the_rule(geo24):
    with pytest.raises(ParameterError, match=r"minimum 3,000,000 is above the maximum 2,966,476"):
        M.mergers(geo24, "Midlands", units="icb", within="nhser", min_pop=3_000_000)
    with pytest.raises(ParameterError) as err:
        M.mergers(geo24, "Midlands", units="icb", within="nhser",
                  constraints=Constraints(coterminous_with="cauth"))  # fmt: skip
    text = str(err.value)
    assert "No allowed block holds NHS Coventry and Warwickshire Integrated Care Board" in text
    assert "every block coterminous (--coterminous-with) against combined authorities" in text


# --- Greater Essex: councils into unitaries ---------------------------------------------------
def test_greater_essex_best_plan_is_two_or_three_contiguous_unitaries_of_500000(geo24, essex_codes):
    sub = geo24.lsoa[geo24.lsoa["ltla"].isin(essex_codes)]
    assert int(sub["population"].sum()) == ESSEX_PEOPLE
    r = M.mergers(geo24, members=essex_codes, units="ltla", min_pop=500_000,
                  constraints=Constraints(across=True), top=10)  # fmt: skip
    assert len(r.members) == 14
    assert r.against == ("icb", "sicbl")
    best = r.top.iloc[0]
    blocks = [b.split("+") for b in best["plan"].split(" | ")]
    assert len(blocks) in (2, 3)
    people = sub.groupby("ltla")["population"].sum()
    assert all(int(people[b].sum()) >= 500_000 for b in blocks)
    assert sum(int(people[b].sum()) for b in blocks) == ESSEX_PEOPLE
    assert all(_connected(b, r.adjacency) for b in blocks)
    assert best["rank"] == 1
    assert r.best["plan_id"] == best["plan_id"]
    assert "2 unitary councils from 14 lower-tier councils" in best["reasons"]
    assert "council" not in best["reasons"].split("; ")[1]  # the ICB is called an ICB
    # the single unitary of 1,860,198 people is above the largest council of the vintage: it
    # is not a candidate, so it ranks below every plan that is
    assert not any(" | " not in p for p in r.top["plan"])
    single = M.score_plans(geo24, None, [[essex_codes]], members=essex_codes, units="ltla",
                           constraints=Constraints(across=True, min_pop=500_000))  # fmt: skip
    assert single.loc[0, "max_population"] == ESSEX_PEOPLE
    assert not single.loc[0, "allowed"]
    # every plan has at most three unitaries
    assert r.top["n_blocks"].max() <= 3


def test_greater_essex_on_the_command_line_states_the_band(data_dir, essex_codes, capsys):
    from coterminus import cli

    argv = ["mergers", "--vintage", "2024", "--units", "ltla", "--codes", *essex_codes, "--across",
            "--min-pop", "500000", "--top", "3", "--data-dir", str(data_dir)]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "500,000–1,575,969 people" in out
    assert "500,000–500,000" not in out
    assert "#1 plan" in out
    assert "2 unitary councils" in out
    assert "the same in every plan (counted, but decides nothing): not_coterminous_icb" in out


# --- the South East's ICBs ----------------------------------------------------------------
def test_south_east_no_plan_above_the_maximum_ranks_first_and_ties_go_to_least_change(geo24):
    _, largest = _largest(geo24, "icb")
    r = M.mergers(geo24, "South East", units="icb", within="nhser", top=100)
    assert len(r.members) == 6
    assert int(r.members["population"].sum()) == 8_977_506
    assert (r.top["max_population"] <= largest).all()
    assert (r.top["min_population"] >= 1_000_000).all()
    first = r.top.iloc[0]
    assert first["max_population"] <= largest
    # Frimley (fewer than 1,000,000 people) is merged in every plan
    frimley = geo24.code("NHS Frimley Integrated Care Board", level="icb")
    assert all(any(frimley in b and "+" in b for b in p.split(" | ")) for p in r.top["plan"])
    # ranked by objective, then change; the first plan has the least change of the best
    key = list(zip(r.top["objective"], r.top["change"], strict=True))
    assert key == sorted(key)
    best_obj = r.top["objective"].min()
    assert first["change"] == r.top.loc[r.top["objective"] == best_obj, "change"].min()
    # the whole region as one ICB (8,977,506 people) is not a candidate
    assert r.top["n_blocks"].min() > 1


def test_ties_are_broken_by_change_and_exact_ties_share_a_rank(geo24):
    r = M.mergers(geo24, "Midlands", units="icb", within="nhser", top=20)
    top = r.top
    tied = top[top["tied"]]
    assert len(tied) >= 2  # Lincolnshire joins Leicestershire or Nottinghamshire alike
    assert tied["rank"].nunique() < len(tied)
    for _, group in top.groupby(["objective", "change"]):
        assert group["rank"].nunique() == 1
    same_objective = top[top["objective"] == top["objective"].iloc[0]]
    assert same_objective["change"].is_monotonic_increasing


# --- the Midlands: any number of levels, named after them ---------------------------------
def test_midlands_combined_authority_term_decides_and_constant_terms_are_named(geo24):
    r = M.mergers(geo24, "Midlands", units="icb", within="nhser", against=["utla", "cauth"],
                  top=5)  # fmt: skip
    ranges = r.ranges
    assert not ranges.loc["mismatch_cauth", "constant"]  # no longer the same ~7.9 M everywhere
    assert ranges.loc["mismatch_cauth", "min"] < ranges.loc["mismatch_cauth", "max"]
    assert ranges.loc["split_cauth", "constant"]  # the West Midlands is split in every plan
    # plain pandas: West Midlands combined authority's people in the region
    wm = geo24.lsoa[geo24.lsoa["cauth"] == geo24.code("West Midlands", level="cauth")]
    assert ranges.loc["split_cauth", "min"] == int(wm["population"].sum()) == 2_919_639
    assert r.top.iloc[0]["mismatch_cauth"] == ranges.loc["mismatch_cauth", "min"]


def test_three_levels_name_every_criterion_column_and_verdict(geo24, tmp_path):
    out = tmp_path / "plans.parquet"
    r = M.mergers(geo24, "Midlands", units="icb", within="nhser",
                  against=["utla", "cauth", "sicbl"], top=3, out=out)  # fmt: skip
    for lv in ("utla", "cauth", "sicbl"):
        for kind in ("split", "mismatch", "not_coterminous"):
            assert f"{kind}_{lv}" in r.top.columns
        assert f"coterminous_{lv}" in r.top.columns
    assert not any(c.endswith("_ltla") for c in r.top.columns)
    plans = pd.read_parquet(out)
    assert {"mismatch_sicbl", "coterminous_cauth"} <= set(plans.columns)
    assert (plans["split_sicbl"] == 0).all()  # sub-ICB locations nest in ICBs
    text = r.summary(1)
    assert "sub-ICB locations" in text
    assert "council" not in text.split("\n")[1]


def test_no_split_and_soft_coterminosity_wherever_feasible(geo24):
    r = M.mergers(geo24, "Midlands", units="icb", within="nhser", against=["utla"], top=3,
                  constraints=Constraints(no_split="utla", coterminous_with="cauth",
                                          wherever_feasible=True))  # fmt: skip
    assert r.constraints["no_split"] == ["utla"]
    assert r.against == ("utla", "cauth")
    assert "not_coterminous_cauth" in r.criteria
    assert (r.top["split_utla"] == 0).all()
    # the hard rule has no plan; wherever feasible ranks the plans by the people it leaves out
    assert r.n_plans > 0
    assert np.all(np.diff(r.top["objective"].to_numpy()) >= 0)
