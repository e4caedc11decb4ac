"""The alignment scorecard (issue 18): ``coterminus.alignment`` and ``coterminus alignment``.

Exact answers on a tiny hand-built geography, the smallest-change kernel against brute force,
and the 2026 scorecard against figures computed here with plain pandas on the shared lookups.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coterminus
from coterminus.analysis.alignment import UNIT_COLUMNS, alignment, smallest_change
from coterminus.cli import main
from coterminus.geography.bundle import Geography
from coterminus.vocabulary.levels import default_level

SA_LOOKUP = "lookups/lad24_sa26_en.csv"
ICB_LOOKUP = "lookups/lsoa21_icb26_nhser24_lad24_utla24_en_DERIVED.csv.gz"
POPULATION = "population/lsoa21_pop_census2021_ew.csv"


# ---------------------------------------------------------------------------------------------
# tiny geography
# ---------------------------------------------------------------------------------------------
def tiny() -> Geography:
    """Six blocks of 100 people, two units, one authority, three councils::

        blocks   b1  b2  b3 | b4  b5  b6
        unit     X   X   X  | Y   Y   Y
        council  l1  l1  l2 | l2  l3  l3
        auth     A   A   A  | A   -   -      (b5, b6 in no authority)

    X holds 300 of A's 400 people (s = 0.75): best fit {A}, J = 300 / (300 + 100) = 0.75, and
    the smallest change is to take in b4 (100 people, 1 LSOA of l2) from Y. Y holds 100 of A
    (s = 0.25): no best fit; the cheapest single authority is A, cost 300 + 400 − 2·100 = 500:
    b5 and b6 (all of l3, in no authority, which no other unit holds) out, b1–b3 in from X.
    """
    lsoa = pd.DataFrame(
        {
            "name": [f"block {i}" for i in range(1, 7)],
            "unit": ["X", "X", "X", "Y", "Y", "Y"],
            "council": ["l1", "l1", "l2", "l2", "l3", "l3"],
            "auth": ["A", "A", "A", "A", None, None],
            "population": [100] * 6,
        },
        index=pd.Index([f"b{i}" for i in range(1, 7)], name="lsoa"),
    )
    levels = [
        default_level("unit", block="lsoa21", side="nhs", label="unit", plural="units"),
        default_level("council", block="lsoa21", side="council"),
        default_level("auth", block="lsoa21", side="council", label="authority"),
    ]
    names = {
        "unit": pd.DataFrame({"name": ["Unit X", "Unit Y"]}, index=pd.Index(["X", "Y"])),
        "council": pd.DataFrame({"name": ["L1", "L2", "L3"]}, index=pd.Index(["l1", "l2", "l3"])),
        "auth": pd.DataFrame({"name": ["Authority A"]}, index=pd.Index(["A"])),
    }
    return Geography("tiny", lsoa, levels=levels, names=names, block="lsoa21")


def test_unit_holding_most_of_an_authority_takes_in_the_rest_exactly() -> None:
    a = alignment(tiny(), units="unit", authorities="auth", councils="council")
    x = a.units.set_index("code").loc["X"]
    assert x["status"] == "inside one"  # all its people are in A, which it does not equal
    assert x["J"] == pytest.approx(0.75)
    assert x["target"] == "Authority A"
    assert int(x["change_people"]) == 100
    assert x["councils_split"] == "L2"
    moves = a.moves_of("X")
    assert moves[
        ["direction", "council", "n_lsoa", "people", "other_unit", "whole_council"]
    ].to_dict("records") == [
        {
            "direction": "in",
            "council": "l2",
            "n_lsoa": 1,
            "people": 100,
            "other_unit": "Y",
            "whole_council": False,
        }
    ]
    assert x["smallest_change"] == "in 100 people (1 LSOA of L2) from Unit Y"


def test_unit_without_a_best_fit_moves_its_people_out_and_the_authority_in() -> None:
    a = alignment(tiny(), units="unit", authorities="auth", councils="council")
    y = a.units.set_index("code").loc["Y"]
    assert y["J"] == 0.0
    assert int(y["change_people"]) == 500  # P + T − 2m = 300 + 400 − 200
    moves = a.moves_of("Y").set_index(["direction", "council"])
    assert int(moves.loc[("out", "l3"), "people"]) == 200
    assert bool(moves.loc[("out", "l3"), "whole_council"])
    assert pd.isna(moves.loc[("out", "l3"), "other_unit"])  # no other unit holds any of l3
    assert int(moves.xs("in")["people"].sum()) == 300
    assert "out 200 people (L3) to another unit" in y["smallest_change"]


def test_authority_table_and_totals_of_the_tiny_geography() -> None:
    a = alignment(tiny(), units="unit", authorities="auth", councils="council")
    row = a.authorities.set_index("code").loc["A"]
    assert (row["n_units"], row["main_unit"], row["people_outside_main"]) == (2, "X", 100)
    assert row["share_in_main"] == pytest.approx(0.75)
    assert not row["within_one_unit"]
    assert a.totals == {
        "units": 2,
        "coterminous": 0,
        "people_coterminous": 0,
        "inside_one": 1,
        "no_authority": 0,
        "authorities": 1,
        "authorities_within_one": 0,
        "people_split": 400,
        "people_outside_main": 100,
        "people_no_authority": 200,
        "people": 600,
    }


def _brute(m: np.ndarray, t: np.ndarray, p: float) -> float | None:
    best = None
    for k in range(1, len(m) + 1):
        for s in itertools.combinations(range(len(m)), k):
            if not any(m[i] > 0 for i in s):
                continue
            cost = p - sum(m[i] for i in s) + sum(t[i] - m[i] for i in s)
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=6),
    st.integers(0, 60),
)
def test_smallest_change_equals_the_cheapest_set_of_authorities_by_brute_force(
    parts: list[tuple[int, int]], outside: int
) -> None:
    m = np.array([a for a, _ in parts], dtype=float)
    t = m + np.array([b for _, b in parts], dtype=float)  # T ≥ m
    p = float(m.sum() + outside)
    got = smallest_change(m, t, p)
    want = _brute(m, t, p)
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert got[1] == pytest.approx(want)


# ---------------------------------------------------------------------------------------------
# real data, 2026: independent figures from the lookups with plain pandas
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blocks(data_dir: Path) -> pd.DataFrame:
    lsoa = pd.read_csv(data_dir / ICB_LOOKUP, dtype=str)
    sa = pd.read_csv(data_dir / SA_LOOKUP, dtype=str)[["LAD24CD", "SA26CD"]]
    pop = pd.read_csv(data_dir / POPULATION, dtype={"LSOA21CD": str})
    out = lsoa.merge(sa, on="LAD24CD", how="left").merge(
        pop[["LSOA21CD", "POP_CENSUS2021"]], on="LSOA21CD"
    )
    assert len(out) == 33_755
    return out


@pytest.fixture(scope="module")
def geo26(data_dir: Path) -> Geography:
    return coterminus.load(2026, data_dir=data_dir)


@pytest.fixture(scope="module")
def card(geo26: Geography):  # type: ignore[no-untyped-def]
    return alignment(geo26)


def _plain_scorecard(blocks: pd.DataFrame) -> pd.DataFrame:
    """Per ICB, with pandas only: J, status and the people the smallest change moves."""
    p = blocks.groupby("ICB26CD")["POP_CENSUS2021"].sum()
    t = blocks.dropna(subset=["SA26CD"]).groupby("SA26CD")["POP_CENSUS2021"].sum()
    m = blocks.dropna(subset=["SA26CD"]).groupby(["ICB26CD", "SA26CD"])["POP_CENSUS2021"].sum()
    rows = {}
    for icb, people in p.items():
        mine = m.get(icb, pd.Series(dtype=float)) if icb in m.index.get_level_values(0) else None
        if mine is None or mine.empty:
            rows[icb] = {"J": 0.0, "change": None}
            continue
        mine = mine.droplevel(0) if isinstance(mine.index, pd.MultiIndex) else mine
        share = mine / t.reindex(mine.index)
        best = share[share >= 0.5].index
        if len(best):
            chosen = list(best)
        else:  # the one authority that costs least
            chosen = [(t.reindex(mine.index) - 2 * mine).idxmin()]
        inside = mine.reindex(best).sum()
        j = inside / (people + (t.reindex(best) - mine.reindex(best)).sum()) if len(best) else 0.0
        change = (
            people - mine.reindex(chosen).sum() + (t.reindex(chosen) - mine.reindex(chosen)).sum()
        )
        rows[icb] = {"J": float(j), "change": int(change)}
    return pd.DataFrame(rows).T


@pytest.mark.realdata
def test_2026_scorecard_j_and_smallest_change_equal_plain_pandas(card, blocks) -> None:  # type: ignore[no-untyped-def]
    plain = _plain_scorecard(blocks)
    got = card.units.set_index("code")
    assert sorted(got.index) == sorted(plain.index)
    np.testing.assert_allclose(got["J"].astype(float), plain.loc[got.index, "J"].astype(float))
    want = plain.loc[got.index, "change"]
    have = got["change_people"]
    assert list(have.isna()) == list(want.isna())
    assert [int(x) for x in have.dropna()] == [int(x) for x in want.dropna()]


@pytest.mark.realdata
def test_2026_scorecard_totals(card) -> None:  # type: ignore[no-untyped-def]
    t = card.totals
    assert (t["units"], t["coterminous"], t["authorities"]) == (36, 4, 20)
    cot = set(card.units.loc[card.units["status"] == "coterminous", "name"])
    assert cot == {
        "NHS Cheshire and Merseyside Integrated Care Board",
        "NHS Greater Manchester Integrated Care Board",
        "NHS Hampshire and Isle of Wight Integrated Care Board",
        "NHS South Yorkshire Integrated Care Board",
    }
    assert t["people_coterminous"] == 2_518_617 + 2_867_871 + 1_998_232 + 1_375_004
    assert t["people_no_authority"] == 19_746_985  # CHECKS §17
    assert t["people"] == 56_490_108


@pytest.mark.realdata
def test_2026_moves_add_up_to_the_smallest_change_and_respect_the_target(card, geo26) -> None:  # type: ignore[no-untyped-def]
    units = card.units.set_index("code")
    for code, g in card.moves.groupby("unit"):
        assert int(g["people"].sum()) == int(units.at[code, "change_people"])
        target = set(units.at[code, "target"].split("; "))
        names = g["authority_name"]
        assert set(names[g["direction"] == "in"]) <= target
        assert not (set(names[g["direction"] == "out"].dropna()) & target)
    lsoa = geo26.lsoa
    lancs = card.moves_of("E54000048")  # Lancashire and South Cumbria: its Cumbria part goes
    assert set(lancs["other_unit_name"]) >= {
        "NHS North East and North Cumbria Integrated Care Board"
    }
    cumbria = lsoa[(lsoa["icb"] == "E54000048") & (lsoa["sa"] == "UKSI-2026-158")]
    assert int(lancs.loc[lancs["authority"] == "UKSI-2026-158", "people"].sum()) == int(
        cumbria["population"].sum()
    )


@pytest.mark.realdata
def test_2026_authorities_split_and_people_outside_their_main_icb(card, blocks) -> None:  # type: ignore[no-untyped-def]
    sub = blocks.dropna(subset=["SA26CD"])
    held = sub.groupby(["SA26CD", "ICB26CD"])["POP_CENSUS2021"].sum()
    total = sub.groupby("SA26CD")["POP_CENSUS2021"].sum()
    outside = (total - held.groupby(level=0).max()).astype(int)
    n_icbs = held.groupby(level=0).size()
    got = card.authorities.set_index("code")
    assert got["people_outside_main"].to_dict() == outside.to_dict()
    assert got["n_units"].to_dict() == n_icbs.to_dict()
    assert got.at["UKSI-2026-158", "ons_code"] == "no ONS code yet"
    assert got.at["E61000001", "kind"] == "Greater London Authority"
    assert got.at["UKSI-2026-595", "instrument"] == "SI 2026/595"


@pytest.mark.realdata
def test_reported_2027_clusters_compared_with_today(geo26: Geography) -> None:
    geo = coterminus.scenario(geo26, "icb-clusters-2027")
    c = alignment(geo).compare(alignment(geo, units="icb_2027"))
    assert c.totals.loc["units"].tolist()[:2] == [36, 26]
    em = c.authorities.set_index("code").loc["E47000013"]  # East Midlands: one ICB in 2027
    assert (int(em["n_units_icb"]), int(em["n_units_icb_2027"])) == (2, 1)
    assert any("Scenario icb-clusters-2027 (reported)" in n for n in c.right.notes)


@pytest.mark.realdata
def test_proposed_authorities_are_scored_as_the_authorities(geo26: Geography) -> None:
    geo = coterminus.scenario(geo26, "sa-proposed-2026")
    a = alignment(geo, authorities="sa_proposed")
    assert a.totals["authorities"] == 22
    essex = a.units.set_index("code").loc["E54000066"]  # Essex ICB = Greater Essex proposed
    assert essex["status"] == "coterminous"
    assert essex["target"] == "Greater Essex (proposed)"


@pytest.mark.realdata
def test_alignment_of_2024_uses_its_combined_authorities(data_dir: Path) -> None:
    a = alignment(coterminus.load(2024, data_dir=data_dir))
    assert (a.level, a.authority_level, a.totals["units"], a.totals["authorities"]) == (
        "icb",
        "cauth",
        42,
        10,
    )


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(list(argv))
    assert rc == 0, out.getvalue()
    return out.getvalue()


@pytest.mark.realdata
def test_cli_scorecard_names_its_vintage_notes_and_writes_csv_with_printed_names(
    data_dir: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "icbs.csv"
    text = _cli("alignment", "--data-dir", str(data_dir), "--out", str(csv))
    head = text.splitlines()[0]
    assert head.startswith("Vintage 2026; people: Census 2021 usual residents")
    assert "DERIVED lookup" in head
    assert "no ONS code yet" in head
    assert "4 of the 36 ICBs are coterminous with one or more whole strategic authorities" in text
    written = pd.read_csv(csv)
    assert list(written.columns) == list(UNIT_COLUMNS)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("name "))
    for col in ("name", "population", "status", "J", "authorities_split", "change_people"):
        assert col in header.split()
    assert "Lancashire and South Cumbria" in text
    assert "no ONS code yet" in text
    assert f"wrote {csv}" in text


@pytest.mark.realdata
def test_cli_compare_with_the_reported_clusters_prints_status_and_source(
    data_dir: Path, tmp_path: Path
) -> None:
    text = _cli(
        "alignment",
        "--scenario",
        "icb-clusters-2027",
        "--compare",
        "--data-dir",
        str(data_dir),
        "--map",
        str(tmp_path / "m.png"),
        "--report",
        str(tmp_path / "r.html"),
    )
    assert "Scenario icb-clusters-2027 (reported): NHS Confederation (2025)" in text.splitlines()[0]
    assert "ICBs of 2027 (reported)" in text
    assert "East Midlands" in text  # its split changes
    page = (tmp_path / "r.html").read_text()
    assert page.count('<section class="scorecard">') == 2
    assert (tmp_path / "m.png").stat().st_size > 10_000


@pytest.mark.realdata
def test_cli_json_carries_heading_totals_and_tables(data_dir: Path) -> None:
    out = json.loads(_cli("alignment", "--vintage", "2026", "--json", "--data-dir", str(data_dir)))
    assert out["vintage"] == 2026
    assert out["totals"]["coterminous"] == 4
    assert out["heading"].startswith("Vintage 2026")
    assert len(out["units"]) == 36
    assert len(out["authorities"]) == 20
