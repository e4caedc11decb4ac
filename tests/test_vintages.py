"""Tests for coterminus.vintages: how units changed between two vintages, by LSOA membership."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coterminus.analysis.diff import vintages
from coterminus.analysis.diff.vintages import (
    NEW_KINDS,
    OLD_KINDS,
    RELATIONS,
    VintageDiff,
    cross_membership,
    diff,
    diff_membership,
    diff_vintages,
)
from coterminus.data.readers import read_lookup, read_population
from coterminus.errors import (
    ColumnError,
    DataDirError,
    DuplicateCodeError,
    EmptyDataError,
    LookupMismatchError,
    NonEnglandWarning,
    ParameterError,
    PopulationError,
    VintageMismatchError,
)
from coterminus.geography.bundle import load


def memberships(old: str, new: str, pop: list[int] | None = None):
    """Old/new memberships from two strings of unit letters, one letter per LSOA L1, L2, ..."""
    assert len(old) == len(new)
    idx = [f"L{i}" for i in range(1, len(old) + 1)]
    population = None if pop is None else pd.Series(pop, index=idx, dtype="int64")
    return pd.Series(list(old), index=idx), pd.Series(list(new), index=idx), population


# --------------------------------------------------------------------------------------------
# tiny exact cases
# --------------------------------------------------------------------------------------------
def test_two_whole_units_merging_form_one_merger():
    """A (L1, L2) and B (L3) → M (L1, L2, L3)."""
    old, new, pop = memberships("AAB", "MMM", [10, 20, 5])
    d = diff_membership(old, new, pop)
    assert d.table.to_dict("list") == {
        "old_code": ["A", "B"],
        "old_name": [None, None],
        "new_code": ["M", "M"],
        "new_name": [None, None],
        "n_lsoa": [2, 1],
        "population": [30, 5],
        "relation": ["merged", "merged"],
    }
    assert d.new_units.loc["M", "kind"] == "merger"
    assert d.new_units.loc["M", "sources"] == ["A", "B"]
    assert d.old_units["kind"].tolist() == ["merged", "merged"]
    assert d.old_units["successor"].tolist() == ["M", "M"]
    assert d.transfers.empty
    assert d.new_units.loc["M", ["change", "predecessors", "n_predecessors"]].tolist() == [
        "merger",
        ["A", "B"],
        2,
    ]
    assert d.summary == (
        "1 new unit formed from 2 of the 2 old units (1 unit in all). Geographically: 1 pure "
        "merger of 2; 0 unchanged; no LSOA moved between units."
    )


def test_unit_divided_in_two_gives_two_split_products():
    """A (L1..L4) → A1 (L1, L2) and A2 (L3, L4)."""
    old, new, pop = memberships("AAAA", ["A1", "A1", "A2", "A2"], [1, 2, 3, 4])
    d = diff_membership(old, new, pop)
    assert d.old_units.loc["A", "kind"] == "split"
    assert d.old_units.loc["A", "successor"] is None
    assert d.new_units["kind"].tolist() == ["split", "split"]
    assert d.table["relation"].tolist() == ["split", "split"]
    assert d.table["population"].tolist() == [3, 7]
    assert d.transfers.empty
    assert d.new_units["change"].tolist() == ["split", "split"]
    assert d.summary == (
        "2 new units formed from 1 of the 1 old unit (2 units in all). Geographically: no "
        "merger; 2 formed by splitting (1 old unit split among 2 new ones); 0 unchanged; no LSOA "
        "moved between units."
    )


def test_transfer_of_two_lsoas_is_a_boundary_change_moving_two_lsoas_and_their_people():
    """D (L1..L5) keeps L1..L3 and gives L4, L5 to E (L6..L10)."""
    old, new, pop = memberships("DDDDDEEEEE", "DDDEEEEEEE", [100] * 3 + [70, 80] + [100] * 5)
    d = diff_membership(old, new, pop)
    assert d.transfers.to_dict("records") == [
        {
            "old_code": "D",
            "old_name": None,
            "new_code": "E",
            "new_name": None,
            "n_lsoa": 2,
            "population": 150,
            "relation": "transfer",
        }
    ]
    assert d.old_units["kind"].to_dict() == {"D": "transferred", "E": "gained"}
    assert d.old_units.loc["D", ["n_lsoa_out", "population_out", "successor"]].tolist() == [
        2,
        150,
        "D",
    ]
    assert d.new_units["kind"].to_dict() == {"D": "boundary change", "E": "boundary change"}
    assert d.new_units.loc["E", ["n_lsoa_in", "population_in"]].tolist() == [2, 150]
    assert d.new_units.loc["E", "sources"] == ["E", "D"]
    assert d.new_units["change"].to_dict() == {"D": "transfer", "E": "transfer"}
    assert d.summary == (
        "No new units: the 2 units all have codes of the 2 old units. Geographically: no "
        "merger; 2 with boundary transfers only; 0 unchanged; 2 LSOAs (150 people) moved "
        "between units, from D to E."
    )


def test_unchanged_unit_under_a_new_code_is_unchanged_and_the_code_change_reported():
    old, new, pop = memberships("CCK", "ZZK", [1, 1, 1])
    d = diff_membership(old, new, pop, level="ccg", old_vintage=2019, new_vintage=2020)
    assert d.new_units["kind"].tolist() == ["unchanged", "unchanged"]
    assert d.new_units["code_changed"].to_dict() == {"K": False, "Z": True}
    assert d.old_units["successor"].to_dict() == {"C": "Z", "K": "K"}
    # Z is a new code (what official statements count) for an unchanged area
    assert d.summary == (
        "1 new CCG formed from 1 of the 2 CCGs of 2019 (2 CCGs in 2020). Geographically: no "
        "merger; 2 unchanged (1 with a new code); no LSOA moved between units."
    )


def test_swap_of_lsoas_between_two_units_is_two_transfers_not_a_split():
    """A and B swap one LSOA each: both continue, 2 LSOAs moved."""
    old, new, pop = memberships("AAAABBBB", "AAABABBB", [1] * 8)
    d = diff_membership(old, new, pop)
    assert d.old_units["kind"].tolist() == ["transferred", "transferred"]
    assert d.new_units["kind"].tolist() == ["boundary change", "boundary change"]
    assert sorted(d.transfers[["old_code", "new_code"]].itertuples(index=False)) == [
        ("A", "B"),
        ("B", "A"),
    ]
    assert d.counts["moved_lsoa"] == 2


def test_unit_shared_out_among_two_neighbours_is_split_and_every_lsoa_of_it_moved():
    """X (L1..L4) is shared between B (L5..L9) and C (L10..L14)."""
    old, new, pop = memberships("XXXXBBBBBCCCCC", "BBCCBBBBBCCCCC", list(range(1, 15)))
    d = diff_membership(old, new, pop)
    assert d.old_units["kind"].to_dict() == {"B": "gained", "C": "gained", "X": "split"}
    assert set(d.table.loc[d.table["old_code"] == "X", "relation"]) == {"transfer"}
    assert d.new_units["kind"].tolist() == ["boundary change", "boundary change"]
    assert d.counts["moved_lsoa"] == 4
    assert d.counts["moved_population"] == 1 + 2 + 3 + 4
    # shared out: no new unit is a split product, but the old unit was split
    assert d.new_units["change"].tolist() == ["transfer", "transfer"]
    assert "0 formed by splitting (1 old unit split among 2 new ones)" in d.summary
    assert d.summary.endswith(
        "4 LSOAs (10 people) moved between units, the most from X to C (2 LSOAs, 7 people)."
    )


def test_whole_unit_absorbed_by_a_unit_that_also_lost_lsoas_counts_as_merged():
    """West Sussex 2020 in miniature: W (L1..L5) loses L5 to S; H (L6) joins W's remainder."""
    old, new, pop = memberships("WWWWWHSS", "NNNNSNSS", [1] * 8)
    d = diff_membership(old, new, pop)
    assert d.old_units["kind"].to_dict() == {"H": "merged", "S": "gained", "W": "transferred"}
    assert d.new_units["kind"].to_dict() == {"N": "boundary change", "S": "boundary change"}
    assert d.new_units.loc["N", "sources"] == ["W", "H"]
    assert d.old_units.loc["W", "successor"] == "N"
    assert d.counts["boundary_sources"] == 3
    # W continues as N and H joins it whole: a merger with transfers of 2 old units
    assert d.new_units["change"].to_dict() == {"N": "merger with transfers", "S": "transfer"}
    assert d.new_units.loc["N", "predecessors"] == ["W", "H"]
    assert d.summary.startswith(
        "1 new unit formed from 2 of the 3 old units (2 units in all). Geographically: 1 merger "
        "with boundary transfers of 2; 1 with boundary transfers only;"
    )
    assert "of 0" not in d.summary


def test_merger_plus_a_transferred_lsoa_is_a_boundary_change_not_a_merger():
    old, new, pop = memberships("AABBCCC", "MMMMMCC", [1] * 7)
    d = diff_membership(old, new, pop)
    assert d.new_units.loc["M", "kind"] == "boundary change"
    assert d.table.set_index(["old_code", "new_code"])["relation"].to_dict() == {
        ("A", "M"): "merged",
        ("B", "M"): "merged",
        ("C", "C"): "retained",
        ("C", "M"): "transfer",
    }
    assert d.new_units["change"].to_dict() == {"C": "transfer", "M": "merger with transfers"}
    c = d.counts
    assert (c["formed_by_merging"], c["merged_from"], c["transfer_merger_sources"]) == (1, 2, 2)


def test_names_come_from_series_mappings_or_layers_with_a_name_column():
    old, new, _ = memberships("AB", "MM")
    layer = pd.DataFrame({"name": ["Merged CCG"]}, index=pd.Index(["M"], name="code"))
    d = diff_membership(old, new, old_names={"A": "Alpha"}, new_names=layer)
    assert d.table["old_name"].tolist() == ["Alpha", None]
    assert d.table["new_name"].tolist() == ["Merged CCG", "Merged CCG"]
    assert d.new_units.loc["M", "name"] == "Merged CCG"


def test_without_population_people_are_missing_and_the_summary_counts_lsoas_only():
    old, new, _ = memberships("DDDEE", "DDEEE")
    d = diff_membership(old, new)
    assert str(d.table["population"].dtype) == "Int64"
    assert d.table["population"].isna().all()
    assert d.counts["moved_population"] is None
    assert d.summary.endswith("1 LSOA moved between units, from D to E.")
    assert "people" not in d.summary


def test_level_and_vintages_are_read_from_lookup_columns():
    lu19 = pd.DataFrame({"ccg": ["A", "B"]}, index=["L1", "L2"])
    lu19.attrs = {"vintage": 2019}
    lu20 = pd.DataFrame({"ccg": ["M", "M"]}, index=["L1", "L2"])
    lu20.attrs = {"vintage": 2020}
    d = diff_membership(lu19["ccg"], lu20["ccg"])
    assert (d.level, d.old_vintage, d.new_vintage) == ("ccg", 2019, 2020)
    assert d.summary.startswith("1 new CCG formed from 2 of the 2 CCGs of 2019 (1 CCG in 2020).")
    assert repr(d) == f"<VintageDiff {d.summary}>"


def test_to_dict_is_json_serialisable_with_plain_values():
    old, new, pop = memberships("AABCC", "MMMCD", [1, 2, 3, 4, 5])
    d = diff_membership(old, new, pop, level="ccg", old_vintage=2019, new_vintage=2020)
    out = d.to_dict()
    again = json.loads(json.dumps(out))
    assert again == out
    assert out["summary"] == d.summary
    assert out["counts"]["old"]["split"] == 1
    assert out["new_units"][0] == {
        "code": "C",
        "name": None,
        "kind": "split",
        "sources": ["C"],
        "n_sources": 1,
        "n_lsoa": 1,
        "population": 4,
        "n_lsoa_in": 0,
        "population_in": 0,
        "code_changed": False,
        "predecessors": [],
        "n_predecessors": 0,
        "change": "split",
        "new_code": False,
    }
    assert out["crossing"] is None
    # A and B merge into M; C is divided between C and D
    assert out["counts"]["change"] == {
        "merger": 1,
        "merger with transfers": 0,
        "split": 2,
        "transfer": 0,
        "unchanged": 0,
    }
    assert len(out["table"]) == len(d.table)


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
def test_lookups_on_different_lsoas_are_refused_with_the_codes_and_the_fix():
    old = pd.Series(["A", "A"], index=["L1", "L2"])
    new = pd.Series(["A", "A"], index=["L1", "L3"])
    with pytest.raises(LookupMismatchError, match=r"1 only in old \(L2\), 1 only in new \(L3\)"):
        diff_membership(old, new)
    with pytest.raises(LookupMismatchError, match="intersection"):
        diff_membership(old, new)


def test_lookups_sharing_no_lsoa_at_all_suggest_a_different_lsoa_base():
    old = pd.Series(["A"], index=["E01000001"])
    new = pd.Series(["A"], index=["E01035000"])
    with pytest.raises(LookupMismatchError, match="different LSOA bases"):
        diff_membership(old, new)


def test_every_problem_with_the_inputs_is_reported_in_one_message():
    old = pd.Series(["A", "A", None], index=["L1", "L1", "L2"])
    new = pd.Series(["A", "A", "A"], index=["L1", "L2", "L2"])
    with pytest.raises(DuplicateCodeError) as info:
        diff_membership(old, new)
    text = str(info.value)
    assert "old lists 1 LSOA(s) more than once (L1)" in text
    assert "old has no unit for 1 LSOA(s) (L2)" in text
    assert "new lists 1 LSOA(s) more than once (L2)" in text


@pytest.mark.parametrize(
    ("population", "error", "match"),
    [
        (pd.Series([1], index=["L1"]), PopulationError, r"no value for 1 LSOA\(s\).*\(L2\)"),
        (pd.Series([1, -5], index=["L1", "L2"]), PopulationError, "negative"),
        (pd.Series([1, np.nan], index=["L1", "L2"]), PopulationError, "missing"),
        (pd.Series([1, 2.5], index=["L1", "L2"]), PopulationError, "fractional"),
        (pd.Series([1, 2, 3], index=["L1", "L2", "L1"]), DuplicateCodeError, "more than once"),
        ([1, 2], ParameterError, "read_population"),
    ],
)
def test_bad_population_is_refused(population, error, match):
    old, new, _ = memberships("AB", "MM")
    with pytest.raises(error, match=match):
        diff_membership(old, new, population)


def test_population_for_extra_lsoas_such_as_welsh_ones_is_ignored():
    old, new, _ = memberships("AB", "MM")
    pop = pd.Series([1, 2, 1000], index=["L1", "L2", "W01000001"])
    assert int(diff_membership(old, new, pop).table["population"].sum()) == 3


def test_non_series_and_empty_inputs_are_refused():
    old, new, _ = memberships("AB", "MM")
    with pytest.raises(ParameterError, match=r"lookup\['ccg'\]"):
        diff_membership(old.to_frame("ccg"), new)
    empty = pd.Series([], dtype=object)
    with pytest.raises(EmptyDataError, match="old has no LSOAs"):
        diff_membership(empty, empty)


def test_old_vintage_later_than_new_is_refused():
    old, new, _ = memberships("AB", "MM")
    with pytest.raises(VintageMismatchError, match="Swap the arguments"):
        diff_membership(old, new, old_vintage=2021, new_vintage=2020)


# --------------------------------------------------------------------------------------------
# public wrapper on Geography-like objects
# --------------------------------------------------------------------------------------------
def fake_geo(vintage: int, ccg: str, *, names: dict[str, str] | None = None, layer_method=False):
    """A duck-typed Geography: ``.vintage``, ``.lsoa`` and names through a layer."""
    idx = [f"L{i}" for i in range(1, len(ccg) + 1)]
    lsoa = pd.DataFrame(
        {"ccg": list(ccg), "ltla": list(ccg.lower()), "population": range(1, len(ccg) + 1)},
        index=idx,
    )
    layer = None
    if names is not None:
        layer = pd.DataFrame({"name": list(names.values())}, index=list(names))
    if layer_method:
        return SimpleNamespace(vintage=vintage, lsoa=lsoa, layer=lambda level: layer)
    return SimpleNamespace(vintage=vintage, lsoa=lsoa, ccg=layer)


def test_diff_of_two_geographies_uses_their_lsoas_population_and_layer_names():
    g19 = fake_geo(2019, "AABC", names={"A": "Alpha", "B": "Beta", "C": "Gamma"})
    g20 = fake_geo(2020, "MMMC", names={"M": "Merged", "C": "Gamma"}, layer_method=True)
    d = diff(g19, g20, level="ccg")
    assert isinstance(d, VintageDiff)
    assert d.summary == (
        "1 new CCG formed from 2 of the 3 CCGs of 2019 (2 CCGs in 2020). Geographically: 1 pure "
        "merger of 2; 1 unchanged; no LSOA moved between units."
    )
    assert d.new_units["name"].to_dict() == {"C": "Gamma", "M": "Merged"}
    assert d.new_units.loc["M", "population"] == 1 + 2 + 3


def test_diff_accepts_level_aliases_and_works_without_names():
    g19, g20 = fake_geo(2019, "AABC"), fake_geo(2020, "MMMC")
    d = diff(g19, g20, level="LAD")
    assert d.level == "ltla"
    assert d.summary.startswith("1 new LTLA formed from 2 of the 3 LTLAs of 2019 (2 LTLAs in 2020)")
    assert d.table["old_name"].isna().all()


def test_diff_of_a_geography_with_itself_is_all_unchanged():
    g = fake_geo(2020, "AABCC")
    d = diff(g, g, level="ccg")
    assert set(d.new_units["kind"]) == {"unchanged"}
    assert d.summary.startswith("No new CCGs: the 3 CCGs all have codes of the 3 CCGs of 2020.")
    assert "; 3 unchanged; no LSOA moved" in d.summary


def test_diff_refuses_a_level_missing_from_either_geography():
    g19, g20 = fake_geo(2019, "AB"), fake_geo(2020, "MM")
    with pytest.raises(ParameterError, match=r"the 2019 geography has no level 'utla'.*ccg, ltla"):
        diff(g19, g20, level="utla")
    with pytest.raises(ParameterError, match=r"no level 'parishes'"):
        diff(g19, g20, level="parishes")
    assert diff(g19, g20, level="CCGs").new_level == "ccg"  # the level vocabulary's word


def test_diff_refuses_vintages_in_the_wrong_order():
    g19, g20 = fake_geo(2019, "AB"), fake_geo(2020, "MM")
    with pytest.raises(VintageMismatchError, match=r"Swap them: diff\(geo19, geo20"):
        diff(g20, g19, level="ccg")


def test_diff_vintages_loads_both_vintages(monkeypatch: pytest.MonkeyPatch):
    geos = {2019: fake_geo(2019, "AB"), 2020: fake_geo(2020, "MM")}
    calls = []

    def fake_load(vintage, data_dir=None):
        calls.append((vintage, data_dir))
        return geos[vintage]

    monkeypatch.setattr(vintages, "load", fake_load)
    d = diff_vintages(2019, 2020, level="ccg", data_dir="somewhere")
    assert calls == [(2019, "somewhere"), (2020, "somewhere")]
    assert d.counts["new"]["merger"] == 1
    assert diff_vintages(2019, 2020, from_level="ccg", to_level="ltla").level == "ccg → ltla"


# --------------------------------------------------------------------------------------------
# levels with different names, and the same geography at two levels (a scenario)
# --------------------------------------------------------------------------------------------
def geo_with(vintage, block="lsoa11", **levels):
    """A duck-typed geography with one column per level (strings of unit letters)."""
    n = len(next(iter(levels.values())))
    idx = [f"L{i}" for i in range(1, n + 1)]
    lsoa = pd.DataFrame({lv: list(units) for lv, units in levels.items()}, index=idx)
    lsoa["population"] = range(1, n + 1)
    return SimpleNamespace(vintage=vintage, block=block, lsoa=lsoa)


def test_a_level_renamed_between_vintages_is_compared_as_a_pair():
    """CCG 2021 → sub-ICB location 2022 in miniature: same areas, one of them under a new code."""
    g21 = geo_with(2021, ccg="AABC", stp="SSSS")
    g22 = geo_with(2022, sicbl="AABZ", icb="IIII")
    for d in (
        diff(g21, g22, level=("ccg", "sicbl")),
        diff(g21, g22, from_level="ccg", to_level="sicbl"),
    ):
        assert (d.level, d.old_level, d.new_level) == ("ccg → sicbl", "ccg", "sicbl")
        assert d.summary == (
            "1 new sub-ICB location formed from 1 of the 3 CCGs of 2021 (3 sub-ICB locations in "
            "2022). Geographically: no merger; 3 unchanged (1 with a new code); no LSOA moved "
            "between units."
        )
    assert diff(g21, g22, level=("stp", "icb")).summary.startswith("1 new ICB formed from 1")


def test_a_scenario_level_is_diffed_against_a_level_of_the_same_geography():
    """Proposed merged ICBs: P = A + B, Q = C; D keeps its area."""
    g = geo_with(2024, icb="AABCD", proposed="PPPQD")
    d = diff(g, g, level=("icb", "proposed"))
    assert d.new_units["change"].to_dict() == {"D": "unchanged", "P": "merger", "Q": "unchanged"}
    assert d.summary.startswith(
        "2 new proposed units formed from 3 of the 4 ICBs of 2024 (3 proposed units in all). "
        "Geographically: 1 pure merger of 2;"
    )


def test_no_level_lists_the_levels_of_both_geographies():
    g21, g22 = geo_with(2021, ccg="AB", ltla="ab"), geo_with(2022, sicbl="AB", ltla="ab")
    with pytest.raises(
        ParameterError, match=r"both vintages have \(ltla\).*level=\('ccg', 'sicbl'\)"
    ):
        diff(g21, g22)


def test_a_level_missing_from_one_vintage_suggests_the_pair_form():
    g21, g22 = geo_with(2021, ccg="AB"), geo_with(2022, sicbl="AB")
    with pytest.raises(
        ParameterError, match=r"2022 geography has no level 'ccg'.*level=\('ccg', 'sicbl'\)"
    ):
        diff(g21, g22, level="ccg")
    with pytest.raises(ParameterError, match="not both"):
        diff(g21, g22, level="ccg", to_level="sicbl")
    with pytest.raises(ParameterError, match=r"\(old level, new level\)"):
        diff(g21, g22, level=("ccg", "sicbl", "icb"))


# --------------------------------------------------------------------------------------------
# across the building-block change (LSOA 2011 → 2021)
# --------------------------------------------------------------------------------------------
def crossing_case():
    """Seven 2022 blocks a..g (LSOA 2011) → eight 2024 blocks (LSOA 2021), every kind of link.

    ::

        2011 block  unit  people   link  2021 block(s)   2024 unit  people
        a           A     100      U     A21             P          110
        b           A     200      S     B1, B2          P, Q       90, 120
        c, d        A, B  300, 100 M     CD              P          420
        e           A     100      X     X1, X2          P, Q       60, 250
        f           B     400      X     X2, X3          Q          250, 230
        g           B     50       U     G21             Q          55

    CD's parents are in A (300) and B (100): A, share 3/4. X2's parents are e (A, 100 shared by
    two children: 50) and f (B, 400 / 2 = 200): B, share 4/5. So A21, B1, B2, CD, X1 carry A
    and X2, X3, G21 carry B; in 2024 B2 is in Q, so one LSOA (120 people) moved from A to Q.
    """
    g22 = SimpleNamespace(
        vintage=2022,
        block="lsoa11",
        lsoa=pd.DataFrame(
            {"icb": list("AAABABB"), "population": [100, 200, 300, 100, 100, 400, 50]},
            index=list("abcdefg"),
        ),
    )
    new_blocks = ["A21", "B1", "B2", "CD", "X1", "X2", "X3", "G21"]
    g24 = SimpleNamespace(
        vintage=2024,
        block="lsoa21",
        lsoa=pd.DataFrame(
            {"icb": list("PPQPPQQQ"), "population": [110, 90, 120, 420, 60, 250, 230, 55]},
            index=new_blocks,
        ),
    )
    links = [
        ("a", "U", "A21"),
        ("b", "S", "B1"),
        ("b", "S", "B2"),
        ("c", "M", "CD"),
        ("d", "M", "CD"),
        ("e", "X", "X1"),
        ("e", "X", "X2"),
        ("f", "X", "X2"),
        ("f", "X", "X3"),
        ("g", "U", "G21"),
    ]
    change = pd.DataFrame(links, columns=["LSOA11CD", "CHGIND", "LSOA21CD"])
    return g22, g24, change


def test_units_are_carried_across_u_s_m_and_x_links_by_the_majority_of_parents_people():
    g22, g24, change = crossing_case()
    d = diff(g22, g24, level="icb", change=change)
    assert d.table[["old_code", "new_code", "n_lsoa", "population", "relation"]].to_dict(
        "records"
    ) == [
        {"old_code": "A", "new_code": "P", "n_lsoa": 4, "population": 680, "relation": "retained"},
        {"old_code": "A", "new_code": "Q", "n_lsoa": 1, "population": 120, "relation": "transfer"},
        {"old_code": "B", "new_code": "Q", "n_lsoa": 3, "population": 535, "relation": "retained"},
    ]
    amb = d.crossing.ambiguous
    assert amb.drop(columns="share").to_dict("records") == [
        {
            "block": "CD",
            "parents": ["c", "d"],
            "units": ["A", "B"],
            "unit": "A",
            "population": 420,
            "new_unit": "P",
        },
        {
            "block": "X2",
            "parents": ["e", "f"],
            "units": ["B", "A"],
            "unit": "B",
            "population": 250,
            "new_unit": "Q",
        },
    ]
    assert amb["share"].tolist() == pytest.approx([0.75, 0.8])
    counts = d.crossing.counts
    assert {k: counts[k] for k in counts if k != "indicator"} == {
        "old_blocks": 7,
        "new_blocks": 8,
        "links": 10,
        "one_to_one": 2,
        "new_with_several_parents": 2,
        "old_with_several_children": 3,
        "ambiguous": 2,
        "ambiguous_population": 670,
        "lost_units": [],
    }
    assert counts["indicator"] == {"unchanged": 2, "split": 2, "merged": 2, "redrawn": 4}
    assert d.crossing.population == {
        "old_total": 1250,
        "new_total": 1335,
        "old_label": None,
        "new_label": None,
    }
    assert d.counts["crossing"] == counts
    assert d.summary == (
        "2 new ICBs formed from 2 of the 2 ICBs of 2022 (2 ICBs in 2024). Geographically: no "
        "merger; 2 with boundary transfers only; 0 unchanged; 1 LSOA (120 people) moved between "
        "units, from A to Q. Crossed LSOA11 → LSOA21 through the change lookup (7 → 8 blocks; links: "
        "2 unchanged, 2 split, 2 merged, 4 redrawn): 2 LSOA21 blocks (670 people) have parent "
        "blocks in different 2022 ICBs and went to the one with most of the parents' people "
        "(CD → A, 75%; X2 → B, 80%). Populations differ between the vintages (2022: 1,250 on "
        "LSOA11; 2024: 1,335 on LSOA21); people here are the 2024 ones on LSOA21."
    )
    out = json.loads(json.dumps(d.to_dict()))
    assert out["crossing"]["ambiguous"][0]["block"] == "CD"
    g22.population_label, g24.population_label = "mid-2019 estimates", "Census 2021 residents"
    labelled = diff(g22, g24, level="icb", change=change)
    assert labelled.summary.endswith(
        "(2022: 1,250 mid-2019 estimates on LSOA11; 2024: 1,335 Census 2021 residents on "
        "LSOA21); people here are the 2024 ones on LSOA21."
    )
    assert out["crossing"]["counts"]["ambiguous"] == 2


def test_without_old_populations_every_parent_counts_the_same():
    g22, g24, change = crossing_case()
    crossed, report = cross_membership(g22.lsoa["icb"], change, blocks=g24.lsoa.index)
    # CD: one parent in A, one in B → tie → the lower code; X2: e (A) and f (B) each half → A
    assert crossed.to_dict() == {
        "A21": "A",
        "B1": "A",
        "B2": "A",
        "CD": "A",
        "X1": "A",
        "X2": "A",
        "X3": "B",
        "G21": "B",
    }
    assert report.ambiguous["share"].tolist() == [0.5, 0.5]
    assert report.population == {"old_total": None, "new_total": None}


def test_an_old_unit_whose_blocks_all_go_elsewhere_is_reported_as_left_out():
    g22, g24, change = crossing_case()
    g22.lsoa.loc["d", "icb"] = "C"  # C's only block d merges into CD, which goes to A
    d = diff(g22, g24, level="icb", change=change)
    assert d.crossing.counts["lost_units"] == ["C"]
    assert "C" not in d.old_units.index
    assert "; 1 old unit kept no LSOA21 block and is left out (C)" in d.summary


def test_a_change_lookup_that_does_not_link_the_two_geographies_is_refused_with_every_gap():
    g22, g24, change = crossing_case()
    partial = change.loc[change["LSOA21CD"] != "G21"]  # G21 has no parent, g no child
    extra = pd.concat([change, pd.DataFrame([{"LSOA11CD": "z", "CHGIND": "M", "LSOA21CD": "CD"}])])
    with pytest.raises(LookupMismatchError) as info:
        diff(g22, g24, level="icb", change=partial)
    text = str(info.value)
    assert "1 lsoa21 block(s) have no lsoa11 parent in the change lookup (G21)" in text
    assert "1 lsoa11 block(s) of the old geography have no lsoa21 child" in text
    with pytest.raises(
        LookupMismatchError, match=r"parent\(s\) of those blocks are not in the old"
    ):
        diff(g22, g24, level="icb", change=extra)


def test_a_change_lookup_without_the_code_columns_names_what_it_found(tmp_path: Path):
    g22, g24, change = crossing_case()
    wrong = change.rename(columns={"LSOA21CD": "LSOA21C"})
    with pytest.raises(ColumnError, match=r"no column LSOA21CD \(nearest: LSOA21C\).*CHGIND"):
        diff(g22, g24, level="icb", change=wrong)
    with pytest.raises(DataDirError, match="does not exist"):
        diff(g22, g24, level="icb", change=tmp_path / "missing.csv")
    path = tmp_path / "change.csv.gz"
    change.rename(columns=str.lower).to_csv(path, index=False)  # column case does not matter
    d = diff(g22, g24, level="icb", change=path)
    assert d.crossing.source == str(path)
    assert d.crossing.counts["ambiguous"] == 2


def test_the_change_lookup_is_found_in_the_registry_else_the_error_names_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import coterminus.analysis.diff.vintages as vintages

    g22, g24, change = crossing_case()
    g24.data_dir = tmp_path
    path = tmp_path / "lsoa11_lsoa21.csv"
    change.to_csv(path, index=False)
    asked = []

    def found(dataset_id, data_dir=None):
        asked.append((dataset_id, data_dir))
        return path

    monkeypatch.setattr(vintages.locations, "locate", found)
    assert diff(g22, g24, level="icb").crossing.source == str(path)
    assert asked == [("lsoa11-lsoa21", tmp_path)]

    def unknown(dataset_id, data_dir=None):
        raise vintages.catalog.UnknownDatasetError(f"No dataset {dataset_id!r}")

    monkeypatch.setattr(vintages.locations, "locate", unknown)
    with pytest.raises(DataDirError, match=r"no dataset 'lsoa11-lsoa21'.*lsoa11_lsoa21_lad22_ew"):
        diff(g22, g24, level="icb")

    def absent(dataset_id, data_dir=None):
        raise DataDirError("No file found for lsoa11-lsoa21 in /nowhere.")

    monkeypatch.setattr(vintages.locations, "locate", absent)
    with pytest.raises(DataDirError, match=r"not on this machine: No file found.*change="):
        diff(g22, g24, level="icb")


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
@st.composite
def two_vintages(draw):
    """Random old/new memberships of the same LSOAs, with populations."""
    n = draw(st.integers(1, 40))
    old_units = draw(st.integers(1, 8))
    new_units = draw(st.integers(1, 8))
    old = draw(st.lists(st.integers(0, old_units - 1), min_size=n, max_size=n))
    new = draw(st.lists(st.integers(0, new_units - 1), min_size=n, max_size=n))
    pop = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    idx = [f"E01{i:06d}" for i in range(n)]
    return (
        pd.Series([f"O{u}" for u in old], index=idx),
        pd.Series([f"N{u}" for u in new], index=idx),
        pd.Series(pop, index=idx, dtype="int64"),
    )


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(two_vintages())
def test_people_and_lsoas_are_conserved_and_every_lsoa_counted_once(data):
    old, new, pop = data
    d = diff_membership(old, new, pop)
    total = int(pop.sum())
    assert int(d.table["population"].sum()) == total
    assert int(d.new_units["population"].sum()) == total
    assert int(d.old_units["population"].sum()) == total
    assert int(d.table["n_lsoa"].sum()) == len(old)
    assert not d.table.duplicated(["old_code", "new_code"]).any()
    assert d.old_units["n_lsoa"].to_dict() == old.value_counts().sort_index().to_dict()
    assert d.new_units["n_lsoa"].to_dict() == new.value_counts().sort_index().to_dict()
    # moved in == moved out == transfer rows
    moved = d.transfers
    assert int(d.new_units["n_lsoa_in"].sum()) == int(moved["n_lsoa"].sum())
    assert int(d.old_units["n_lsoa_out"].sum()) == int(moved["n_lsoa"].sum())
    assert int(d.old_units["population_out"].sum()) == int(moved["population"].sum())


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(two_vintages())
def test_kinds_partition_the_units_and_agree_with_each_other(data):
    old, new, pop = data
    d = diff_membership(old, new, pop)
    assert set(d.table["relation"]) <= set(RELATIONS)
    assert set(d.old_units["kind"]) <= set(OLD_KINDS)
    assert set(d.new_units["kind"]) <= set(NEW_KINDS)
    assert len(d.old_units) == old.nunique()
    assert len(d.new_units) == new.nunique()
    c = d.counts
    assert sum(c["old"].values()) == len(d.old_units)
    assert sum(c["new"].values()) == len(d.new_units)
    assert c["old"]["unchanged"] == c["new"]["unchanged"]
    # every source of a merger is a whole old unit that merged
    mergers = d.new_units.loc[d.new_units["kind"] == "merger", "sources"]
    merger_sources = [code for sources in mergers for code in sources]
    assert set(d.old_units.loc[merger_sources, "kind"]) <= {"merged"}
    # whole old units have one destination, the others several
    whole = d.old_units["n_destinations"] == 1
    assert set(d.old_units.loc[whole, "kind"]) <= {"unchanged", "merged", "gained"}
    assert set(d.old_units.loc[~whole, "kind"]) <= {"transferred", "split"}
    # a split product comes from a split old unit
    for sources in d.new_units.loc[d.new_units["kind"] == "split", "sources"]:
        assert len(sources) == 1
        assert d.old_units.loc[sources[0], "kind"] == "split"
    # LSOAs moved by transfer always land in a boundary-change unit
    receivers = d.transfers["new_code"].unique()
    assert set(d.new_units.loc[receivers, "kind"]) <= {"boundary change"}


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(two_vintages())
def test_diff_of_a_membership_with_itself_is_all_unchanged(data):
    old, _, pop = data
    d = diff_membership(old, old, pop)
    assert set(d.table["relation"]) == {"unchanged"}
    assert set(d.old_units["kind"]) == {"unchanged"}
    assert set(d.new_units["kind"]) == {"unchanged"}
    assert not d.new_units["code_changed"].any()
    assert d.transfers.empty
    n = old.nunique()
    units = "unit" if n == 1 else "units"
    have = "has a code" if n == 1 else "all have codes"
    assert d.summary == (
        f"No new units: the {n} {units} {have} of the {n} old {units}. Geographically: no "
        f"merger; {n} unchanged; no LSOA moved between units."
    )


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(two_vintages(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_the_order_of_the_lsoas(data, rnd: random.Random):
    old, new, pop = data
    order = list(old.index)
    rnd.shuffle(order)
    a = diff_membership(old, new, pop)
    b = diff_membership(old.loc[order], new.loc[order[::-1]], pop.loc[order])
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.new_units, b.new_units)
    pd.testing.assert_frame_equal(a.old_units, b.old_units)
    assert a.summary == b.summary


# --------------------------------------------------------------------------------------------
# real ONS data
# --------------------------------------------------------------------------------------------
LOOKUPS = {
    2019: "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv",
    2020: "lookups/lsoa11_ccg20_stp20_lad20_utla20_en.csv.gz",
    2021: "lookups/lsoa11_ccg21_stp21_lad21_utla21_en.csv.gz",
}
COVENTRY_AND_WARWICKSHIRE = ["E38000038", "E38000164", "E38000195"]


@pytest.fixture(scope="module")
def lookups(data_dir: Path) -> dict[int, pd.DataFrame]:
    return {year: read_lookup(data_dir / path) for year, path in LOOKUPS.items()}


@pytest.fixture(scope="module")
def lsoa_population(data_dir: Path) -> pd.Series:
    with pytest.warns(NonEnglandWarning, match="1909 non-England"):
        return read_population(data_dir / "population/lsoa11_pop_mid2019_ew.csv")


@pytest.fixture(scope="module")
def real_diff(lookups, lsoa_population):
    """diff(level, old, new) on the real lookups, with names from the lookups."""
    memo: dict[tuple[str, int, int], VintageDiff] = {}

    def names(lu: pd.DataFrame, level: str) -> pd.Series:
        first = lu.drop_duplicates(level)
        return pd.Series(first[f"{level}_name"].to_numpy(), index=first[level].to_numpy())

    def run(level: str, old: int, new: int) -> VintageDiff:
        if (level, old, new) not in memo:
            memo[level, old, new] = diff_membership(
                lookups[old][level],
                lookups[new][level],
                lsoa_population,
                old_names=names(lookups[old], level),
                new_names=names(lookups[new], level),
            )
        return memo[level, old, new]

    return run


@pytest.mark.realdata
def test_real_lookups_cover_the_same_lsoas_and_56_286_961_people(lookups, lsoa_population):
    for lu in lookups.values():
        assert lu.index.sort_values().equals(lookups[2019].index.sort_values())
    assert len(lookups[2019]) == 32_844
    assert int(lsoa_population.loc[lookups[2019].index].sum()) == 56_286_961


@pytest.mark.realdata
def test_ccg_2019_to_2020_is_191_to_135_mostly_mergers_and_one_small_transfer(real_diff, lookups):
    d = real_diff("ccg", 2019, 2020)
    # the headline, independently: new CCGs holding the larger part of two or more old ones
    lu19, lu20 = lookups[2019], lookups[2020]
    cross = pd.crosstab(lu19["ccg"], lu20["ccg"].reindex(lu19.index))
    mostly_in = (cross.div(cross.sum(axis=1), axis=0) > 0.5).sum(axis=0)
    assert ((mostly_in >= 2).sum(), mostly_in[mostly_in >= 2].sum()) == (18, 74)
    assert (d.counts["formed_by_merging"], d.counts["merged_from"]) == (18, 74)
    # and as official statements count: codes that did not exist in 2019, and the 2019 CCGs
    # with LSOAs in them
    new = sorted(set(lu20["ccg"]) - set(lu19["ccg"]))
    sources = lu19.loc[lu20["ccg"].reindex(lu19.index).isin(new), "ccg"].nunique()
    assert (len(new), sources) == (18, 74)
    assert (d.counts["new_codes"], d.counts["new_code_sources"]) == (18, 74)
    assert d.summary == (
        "18 new CCGs formed from 74 of the 191 CCGs of 2019 (135 CCGs in 2020). Geographically: "
        "16 pure mergers of 67; 2 mergers with boundary transfers of 7; 117 unchanged; 4 LSOAs "
        "(6,814 people) moved between units, from NHS Coastal West Sussex CCG to NHS Surrey "
        "Heartlands CCG."
    )
    assert int(d.table["population"].sum()) == 56_286_961
    c = d.counts
    assert c["old"] == {"unchanged": 117, "merged": 73, "gained": 0, "transferred": 1, "split": 0}
    # every old unit is accounted for: unchanged + merger sources + boundary-change sources
    assert c["old"]["unchanged"] + c["merger_sources"] + c["boundary_sources"] == 191
    # the only transfer: four Chichester LSOAs from Coastal West Sussex to Surrey Heartlands
    assert d.transfers[["old_name", "new_name", "n_lsoa", "population"]].to_dict("records") == [
        {
            "old_name": "NHS Coastal West Sussex CCG",
            "new_name": "NHS Surrey Heartlands CCG",
            "n_lsoa": 4,
            "population": 6_814,
        }
    ]
    assert d.new_units.loc["E38000248", "sources"] == ["E38000213", "E38000083", "E38000039"]
    assert d.new_units.loc["E38000248", "name"] == "NHS West Sussex CCG"


@pytest.mark.realdata
def test_coventry_and_warwickshire_ccgs_unchanged_in_2020_and_merged_in_2021(real_diff):
    d20 = real_diff("ccg", 2019, 2020)
    got = d20.old_units.loc[COVENTRY_AND_WARWICKSHIRE, ["name", "kind", "successor", "n_lsoa"]]
    assert got.to_dict("index") == {
        "E38000038": {
            "name": "NHS Coventry and Rugby CCG",
            "kind": "unchanged",
            "successor": "E38000038",
            "n_lsoa": 256,
        },
        "E38000164": {
            "name": "NHS South Warwickshire CCG",
            "kind": "unchanged",
            "successor": "E38000164",
            "n_lsoa": 159,
        },
        "E38000195": {
            "name": "NHS Warwickshire North CCG",
            "kind": "unchanged",
            "successor": "E38000195",
            "n_lsoa": 119,
        },
    }
    d21 = real_diff("ccg", 2020, 2021)
    cw = d21.new_units.loc["E38000251"]
    assert cw["name"] == "NHS Coventry and Warwickshire CCG"
    assert cw["kind"] == "merger"
    assert sorted(cw["sources"]) == COVENTRY_AND_WARWICKSHIRE
    assert cw["population"] == 480_456 + 273_851 + 195_147


@pytest.mark.realdata
def test_ccg_2020_to_2021_is_135_to_106_by_nine_pure_mergers(real_diff):
    d = real_diff("ccg", 2020, 2021)
    assert d.summary == (
        "9 new CCGs formed from 38 of the 135 CCGs of 2020 (106 CCGs in 2021). Geographically: "
        "9 pure mergers of 38; 97 unchanged; no LSOA moved between units."
    )
    assert d.transfers.empty
    c = d.counts
    assert c["old"]["unchanged"] + c["merger_sources"] == 135


@pytest.mark.realdata
def test_new_ccg_populations_match_the_ons_published_ccg_2020_estimates(real_diff, data_dir):
    published = read_population(data_dir / "population/ccg20_pop_mid2019_ons_sape22dt6a.csv")
    ours = real_diff("ccg", 2019, 2020).new_units["population"]
    pd.testing.assert_series_equal(
        ours.sort_index(), published.sort_index(), check_names=False, check_index_type=False
    )


@pytest.mark.realdata
def test_stp_2019_to_2020_moves_harrogate_hambleton_and_east_surrey_between_systems(real_diff):
    d = real_diff("stp", 2019, 2020)
    # ONS gave the five STPs whose boundaries moved new codes
    assert d.summary == (
        "5 new STPs formed from 5 of the 42 STPs of 2019 (42 STPs in 2020). Geographically: no "
        "merger; 5 with boundary transfers only; 37 unchanged; 308 LSOAs (509,283 people) moved "
        "between units, the most from Sussex and East Surrey to Surrey Heartlands Health and "
        "Care Partnership (109 LSOAs, 194,609 people)."
    )
    moved = d.transfers.set_index("old_name")[["new_name", "n_lsoa", "population"]]
    assert moved.to_dict("index") == {
        # NHS Harrogate and Rural District CCG
        "West Yorkshire and Harrogate (Health and Care Partnership)": {
            "new_name": "Humber, Coast and Vale",
            "n_lsoa": 104,
            "population": 160_831,
        },
        # NHS East Surrey CCG (105 LSOAs) + 4 Chichester LSOAs of Coastal West Sussex CCG
        "Sussex and East Surrey": {
            "new_name": "Surrey Heartlands Health and Care Partnership",
            "n_lsoa": 109,
            "population": 194_609,
        },
        # NHS Hambleton, Richmondshire and Whitby CCG
        "Cumbria and North East": {
            "new_name": "Humber, Coast and Vale",
            "n_lsoa": 95,
            "population": 153_843,
        },
    }


@pytest.mark.realdata
def test_ltla_2019_to_2020_merges_the_four_buckinghamshire_districts(real_diff, data_dir):
    d = real_diff("ltla", 2019, 2020)
    assert d.summary == (
        "1 new LTLA formed from 4 of the 317 LTLAs of 2019 (314 LTLAs in 2020). Geographically: "
        "1 pure merger of 4; 313 unchanged; no LSOA moved between units."
    )
    bucks = d.new_units.loc["E06000060"]
    assert bucks["name"] == "Buckinghamshire"
    assert sorted(bucks["sources"]) == ["E07000004", "E07000005", "E07000006", "E07000007"]
    assert sorted(d.old_units.loc[bucks["sources"], "name"]) == [
        "Aylesbury Vale",
        "Chiltern",
        "South Bucks",
        "Wycombe",
    ]
    published = read_population(
        data_dir / "population/lad20_pop_mid2019_ons_mye2.csv", england_only=False
    )
    assert bucks["population"] == published["E06000060"] == 543_973


@pytest.mark.realdata
def test_buckinghamshire_county_is_the_same_area_under_a_unitary_code_in_2020(real_diff):
    d = real_diff("utla", 2019, 2020)
    assert d.summary == (
        "1 new UTLA formed from 1 of the 151 UTLAs of 2019 (151 UTLAs in 2020). Geographically: "
        "no merger; 151 unchanged (1 with a new code); no LSOA moved between units."
    )
    assert d.new_units.index[d.new_units["code_changed"]].tolist() == ["E06000060"]
    assert d.old_units.loc["E10000002", "successor"] == "E06000060"


@pytest.mark.realdata
def test_northamptonshire_is_split_into_two_unitaries_in_2021(real_diff, data_dir):
    d = real_diff("utla", 2020, 2021)
    assert "; 2 formed by splitting (1 old UTLA split among 2 new ones);" in d.summary
    assert d.old_units.loc["E10000021", "kind"] == "split"
    assert d.new_units.loc[["E06000061", "E06000062"], "name"].tolist() == [
        "North Northamptonshire",
        "West Northamptonshire",
    ]
    published = read_population(
        data_dir / "population/ctyua19_pop_mid2019_ons_mye2.csv", england_only=False
    )
    assert d.old_units.loc["E10000021", "population"] == published["E10000021"] == 753_278


@pytest.mark.realdata
def test_diff_on_geographies_built_from_the_real_lookups(lookups, lsoa_population, real_diff):
    def geo(year: int) -> SimpleNamespace:
        lu = lookups[year]
        lsoa = lu[["ccg", "stp", "ltla", "utla"]].assign(
            population=lsoa_population.reindex(lu.index).to_numpy()
        )
        ccg = lu.drop_duplicates("ccg").set_index("ccg")[["ccg_name"]]
        return SimpleNamespace(
            vintage=year, lsoa=lsoa, ccg=ccg.rename(columns={"ccg_name": "name"})
        )

    d = diff(geo(2019), geo(2020), level="ccg")
    expected = real_diff("ccg", 2019, 2020)
    assert d.summary == expected.summary
    pd.testing.assert_frame_equal(d.table, expected.table)


@pytest.mark.realdata
def test_diff_of_loaded_geographies_matches_the_lookup_diff(data_dir, real_diff):
    d = diff(load(2019, data_dir=data_dir), load(2020, data_dir=data_dir), level="ccg")
    expected = real_diff("ccg", 2019, 2020)
    assert d.summary == expected.summary
    pd.testing.assert_frame_equal(
        d.table[["old_code", "new_code", "n_lsoa", "population", "relation"]],
        expected.table[["old_code", "new_code", "n_lsoa", "population", "relation"]],
        check_dtype=False,
    )


# --------------------------------------------------------------------------------------------
# real ONS data, 2021 → 2022 → 2024 (the LSOA 2011 → 2021 change), checked with plain pandas
# --------------------------------------------------------------------------------------------
LEVELS_22_24 = {
    2022: (
        "lookups/lsoa11_sicbl22_icb22_lad22_utla22_en.csv.gz",
        "lsoa11",
        "population/lsoa11_pop_mid2019_ew.csv",
        {"sicbl": "SICBL22", "icb": "ICB22", "ltla": "LAD22", "utla": "UTLA22"},
    ),
    2024: (
        "lookups/lsoa21_sicbl24_icb24_nhser24_lad24_utla24_cauth23_en.csv.gz",
        "lsoa21",
        "population/lsoa21_pop_census2021_ew.csv",
        {"sicbl": "SICBL24", "icb": "ICB24", "nhser": "NHSER24", "ltla": "LAD24", "utla": "UTLA24"},
    ),
}
CHANGE_LOOKUP = "lookups/lsoa11_lsoa21_lad22_ew.csv.gz"


def plain_geo(data_dir: Path, vintage: int) -> SimpleNamespace:
    """A geography as the lead's Geography will hold it, built with plain pandas."""
    path, block, pop_path, levels = LEVELS_22_24[vintage]
    lu = pd.read_csv(data_dir / path, dtype=str).set_index(f"{block.upper()}CD")
    pop = pd.read_csv(data_dir / pop_path, dtype={f"{block.upper()}CD": str})
    pop = pop.set_index(f"{block.upper()}CD").iloc[:, -1]
    lsoa = pd.DataFrame({lv: lu[f"{col}CD"] for lv, col in levels.items()})
    lsoa["population"] = pop.reindex(lu.index).to_numpy()
    names = {
        lv: lu.drop_duplicates(f"{col}CD")
        .set_index(f"{col}CD")[[f"{col}NM"]]
        .set_axis(["name"], axis=1)
        for lv, col in levels.items()
    }
    return SimpleNamespace(
        vintage=vintage, block=block, lsoa=lsoa, layer=names.__getitem__, data_dir=data_dir
    )


@pytest.fixture(scope="module")
def geos(data_dir: Path, lookups, lsoa_population) -> dict[int, SimpleNamespace]:
    lu = lookups[2021]
    lsoa = lu[["ccg", "stp", "ltla", "utla"]].assign(
        population=lsoa_population.reindex(lu.index).to_numpy()
    )
    names = {
        lv: lu.drop_duplicates(lv).set_index(lv)[[f"{lv}_name"]].set_axis(["name"], axis=1)
        for lv in ("ccg", "stp")
    }
    g21 = SimpleNamespace(vintage=2021, block="lsoa11", lsoa=lsoa, layer=names.__getitem__)
    return {2021: g21, 2022: plain_geo(data_dir, 2022), 2024: plain_geo(data_dir, 2024)}


@pytest.fixture(scope="module")
def crossed_by_pandas(data_dir: Path, geos):
    """The 2022 units carried onto LSOA 2021 by the majority rule, written out in pandas."""
    change = pd.read_csv(data_dir / CHANGE_LOOKUP, dtype=str)
    change = change.loc[change["LSOA21CD"].isin(geos[2024].lsoa.index)]
    old = geos[2022].lsoa

    def run(level: str) -> tuple[pd.Series, pd.Index]:
        c = change.assign(unit=change["LSOA11CD"].map(old[level]))
        children = c.groupby("LSOA11CD")["LSOA21CD"].transform("size")
        c["weight"] = c["LSOA11CD"].map(old["population"]) / children
        w = c.groupby(["LSOA21CD", "unit"])["weight"].sum().reset_index()
        w = w.sort_values(["LSOA21CD", "weight", "unit"], ascending=[True, False, True])
        several = w.groupby("LSOA21CD")["unit"].transform("size") > 1
        return (
            w.drop_duplicates("LSOA21CD").set_index("LSOA21CD")["unit"],
            pd.Index(w.loc[several, "LSOA21CD"].unique()),
        )

    return run


def pandas_pairs(old: pd.Series, new: pd.Series, population: pd.Series) -> list[dict]:
    frame = pd.DataFrame(
        {"old_code": old, "new_code": new.reindex(old.index), "p": population.reindex(old.index)}
    )
    pairs = frame.groupby(["old_code", "new_code"]).agg(
        n_lsoa=("p", "size"), population=("p", "sum")
    )
    return pairs.reset_index().to_dict("records")


def table_pairs(d: VintageDiff) -> list[dict]:
    return d.table[["old_code", "new_code", "n_lsoa", "population"]].to_dict("records")


@pytest.mark.realdata
def test_icb_2022_to_2024_across_the_lsoa_change_moves_four_lsoas_from_surrey_to_sussex(
    data_dir, geos, crossed_by_pandas
):
    d = diff(geos[2022], geos[2024], level="icb", change=data_dir / CHANGE_LOOKUP)
    crossed, ambiguous = crossed_by_pandas("icb")
    g24 = geos[2024].lsoa
    assert table_pairs(d) == pandas_pairs(crossed, g24["icb"], g24["population"])
    assert len(ambiguous) == 0
    assert d.summary.startswith(
        "2 new ICBs formed from 2 of the 42 ICBs of 2022 (42 ICBs in 2024). Geographically: no "
        "merger; 2 with boundary transfers only; 40 unchanged; 4 LSOAs (6,714 people) moved "
        "between units, from NHS Surrey Heartlands Integrated Care Board to NHS Sussex "
        "Integrated Care Board. Crossed LSOA11 → LSOA21 through the change lookup (32,844 → 33,755 blocks; "
        "links: 31,810 unchanged, 1,842 split, 194 merged, 9 redrawn): no LSOA21 block has "
        "parent blocks in different 2022 ICBs. Populations differ between the vintages (2022: "
        "56,286,961 on LSOA11; 2024: 56,490,108 on LSOA21)"
    )
    assert d.transfers[["old_code", "new_code", "n_lsoa", "population"]].to_dict("records") == [
        {"old_code": "E54000052", "new_code": "E54000064", "n_lsoa": 4, "population": 6_714}
    ]
    # Surrey Heartlands and Sussex continue under new codes
    assert d.old_units.loc[["E54000052", "E54000053"], "successor"].tolist() == [
        "E54000063",
        "E54000064",
    ]
    assert int(d.new_units["population"].sum()) == int(g24["population"].sum()) == 56_490_108


@pytest.mark.realdata
def test_sicbl_2022_to_2024_has_two_lsoa21s_whose_parents_sat_in_different_sub_icbs(
    data_dir, geos, crossed_by_pandas
):
    d = diff(geos[2022], geos[2024], level="sicbl", change=data_dir / CHANGE_LOOKUP)
    crossed, ambiguous = crossed_by_pandas("sicbl")
    g24 = geos[2024].lsoa
    assert table_pairs(d) == pandas_pairs(crossed, g24["sicbl"], g24["population"])
    c = d.counts
    assert (c["old_units"], c["new_units"]) == (106, 106)
    assert c["change"] == {
        "merger": 0,
        "merger with transfers": 0,
        "split": 0,
        "transfer": 2,
        "unchanged": 104,
    }
    amb = d.crossing.ambiguous
    assert amb["block"].tolist() == sorted(ambiguous) == ["E01035581", "E01035637"]
    assert amb["unit"].tolist() == crossed.loc[amb["block"]].tolist() == ["E38000079", "E38000130"]
    assert int(amb["population"].sum()) == int(g24.loc[ambiguous, "population"].sum()) == 2_665
    # E01035581: St Albans 015C (1,561 people, one child) and half of Welwyn Hatfield 014C (1,618)
    assert amb["share"].iloc[0] == pytest.approx(1_561 / (1_561 + 1_618 / 2))
    assert (
        "2 LSOA21 blocks (2,665 people) have parent blocks in different 2022 sub-ICB" in d.summary
    )
    assert d.transfers[["old_code", "new_code", "n_lsoa", "population"]].to_dict("records") == [
        {"old_code": "E38000246", "new_code": "E38000265", "n_lsoa": 4, "population": 6_714}
    ]


@pytest.mark.realdata
def test_ccg_2021_to_sub_icb_2022_is_not_all_unchanged_three_areas_moved_in_july_2022(geos):
    """Checked, not assumed: Glossop, West Birmingham and 9 North Northamptonshire LSOAs moved."""
    d = diff(geos[2021], geos[2022], level=("ccg", "sicbl"))
    old, new = geos[2021].lsoa, geos[2022].lsoa
    assert table_pairs(d) == pandas_pairs(old["ccg"], new["sicbl"], old["population"])
    frame = pd.DataFrame({"o": old["ccg"], "n": new["sicbl"].reindex(old.index)})
    pairs = frame.drop_duplicates()
    one_to_one = pairs.loc[
        pairs["o"].map(pairs["o"].value_counts()).eq(1)
        & pairs["n"].map(pairs["n"].value_counts()).eq(1)
    ]
    assert len(one_to_one) == d.counts["change"]["unchanged"] == 100
    assert d.counts["code_changes"] == int((one_to_one["o"] != one_to_one["n"]).sum())
    assert d.counts["change"]["transfer"] == 6
    moved = d.transfers.set_index("old_name")[["new_name", "n_lsoa", "population"]]
    assert moved.to_dict("index") == {
        "NHS Black Country and West Birmingham CCG": {
            "new_name": "NHS Birmingham and Solihull ICB - 15E",
            "n_lsoa": 92,
            "population": 177_623,
        },
        "NHS Tameside and Glossop CCG": {
            "new_name": "NHS Derby and Derbyshire ICB - 15M",
            "n_lsoa": 21,
            "population": 33_570,
        },
        "NHS Cambridgeshire and Peterborough CCG": {
            "new_name": "NHS Northamptonshire ICB - 78H",
            "n_lsoa": 9,
            "population": 17_059,
        },
    }
    assert d.summary.startswith(
        "6 new sub-ICB locations formed from 6 of the 106 CCGs of 2021 (106 sub-ICB locations "
        "in 2022). Geographically: no merger; 6 with boundary transfers only; 100 unchanged; "
        "122 LSOAs (228,252 people) moved between units, the most from NHS Black Country and "
        "West Birmingham CCG to NHS Birmingham and Solihull ICB - 15E (92 LSOAs, 177,623 "
        "people)."
    )
    assert d.counts["code_changes"] == 0  # the six that changed code also changed area
    assert d.crossing is None
    stp = diff(geos[2021], geos[2022], from_level="stp", to_level="icb")
    assert table_pairs(stp) == pandas_pairs(old["stp"], new["icb"], old["population"])
    assert stp.summary.startswith(
        "8 new ICBs formed from 8 of the 42 STPs of 2021 (42 ICBs in 2022). Geographically: no "
        "merger; 8 with boundary transfers only;"
    )


@st.composite
def block_changes(draw):
    """Random old blocks with units and people, and a change lookup linking them to new blocks."""
    n_old = draw(st.integers(1, 12))
    n_new = draw(st.integers(1, 12))
    units = draw(st.lists(st.sampled_from("ABC"), min_size=n_old, max_size=n_old))
    people = draw(st.lists(st.integers(0, 500), min_size=n_old, max_size=n_old))
    # every old block has a child and every new block a parent, plus random extra links
    links = {(i, draw(st.integers(0, n_new - 1))) for i in range(n_old)}
    links |= {(draw(st.integers(0, n_old - 1)), j) for j in range(n_new)}
    links |= set(
        draw(st.lists(st.tuples(st.integers(0, n_old - 1), st.integers(0, n_new - 1)), max_size=8))
    )
    old_idx = [f"o{i}" for i in range(n_old)]
    change = pd.DataFrame(
        [(f"o{i}", f"n{j}") for i, j in sorted(links)], columns=["LSOA11CD", "LSOA21CD"]
    )
    return (
        pd.Series(units, index=old_idx),
        pd.Series(people, index=old_idx, dtype="int64"),
        change,
    )


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(block_changes())
def test_each_new_block_takes_the_heaviest_unit_among_its_parents(data):
    old, people, change = data
    crossed, report = cross_membership(old, change, old_population=people)
    children = change.groupby("LSOA11CD").size()
    assert set(crossed.index) == set(change["LSOA21CD"])
    for block, unit in crossed.items():
        parents = change.loc[change["LSOA21CD"] == block, "LSOA11CD"]
        weight = (people[parents] / children[parents]).groupby(old[parents].to_numpy()).sum()
        assert unit in set(old[parents])
        best = weight.max()
        assert weight[unit] == pytest.approx(best, abs=1e-6)
        assert unit == min(u for u, w in weight.items() if w > best - 1e-6)  # ties: lower code
        assert (block in set(report.ambiguous["block"])) == (old[parents].nunique() > 1)
    assert report.counts["lost_units"] == sorted(set(old) - set(crossed))
    assert report.population["old_total"] == int(people.sum())


@pytest.mark.realdata
def test_a_scenario_of_merged_2024_icbs_is_diffed_against_the_vintage(geos):
    """Surrey Heartlands + Sussex as one proposed ICB, every other ICB as it is."""
    g24 = geos[2024]
    lsoa = g24.lsoa.copy()
    merged = {"E54000063": "PROPOSED", "E54000064": "PROPOSED"}
    lsoa["proposed"] = lsoa["icb"].replace(merged)
    scenario = SimpleNamespace(vintage=2024, block="lsoa21", lsoa=lsoa, layer=g24.layer)
    d = diff(g24, scenario, level=("icb", "proposed"))
    assert d.crossing is None
    assert d.summary.startswith(
        "1 new proposed unit formed from 2 of the 42 ICBs of 2024 (41 proposed units in all). "
        "Geographically: 1 pure merger of 2; 40 unchanged; no LSOA moved between units."
    )
    people = g24.lsoa.groupby("icb")["population"].sum()
    assert d.new_units.loc["PROPOSED", "population"] == people[list(merged)].sum()
    # largest (most LSOAs) first: Sussex, then Surrey Heartlands
    lsoas = g24.lsoa["icb"].value_counts()[list(merged)].sort_values(ascending=False)
    assert (
        d.new_units.loc["PROPOSED", "predecessors"]
        == lsoas.index.tolist()
        == [
            "E54000064",
            "E54000063",
        ]
    )
