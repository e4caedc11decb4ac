"""Overlap table and footprint metrics: exact answers on tiny grids, invariants, real data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import coterminus as ct
from coterminus.analysis.metrics import coterminosity_kernel, footprint_metrics, system_alignment
from coterminus.analysis.overlap import area_overlap, crosstab, population_overlap
from coterminus.errors import (
    CRSError,
    FootprintError,
    OverlappingUnitsError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)


def _grid(codes: list[list[str]], size: float = 1000.0) -> gpd.GeoDataFrame:
    """Square cells laid out as written, top row first, e.g. ``[["b", "d"], ["a", "c"]]``."""
    rows = []
    for r, line in enumerate(codes):
        y = (len(codes) - 1 - r) * size
        for c, code in enumerate(line):
            rows.append((code, shapely.box(c * size, y, (c + 1) * size, y + size)))
    frame = pd.DataFrame(rows, columns=["code", "geometry"])
    gdf = gpd.GeoDataFrame(
        frame.groupby("code").agg(lambda g: shapely.union_all(list(g))), crs=27700
    )
    gdf["name"] = [f"area {c}" for c in gdf.index]
    return gdf


@pytest.fixture
def four_las() -> gpd.GeoDataFrame:
    """Four lower-tier LAs on a 2×2 grid of 1 km squares::

    b d
    a c
    """
    return _grid([["b", "d"], ["a", "c"]])


@pytest.fixture
def two_ccgs() -> gpd.GeoDataFrame:
    """Two CCGs: L = left column (a, b), R = right column (c, d)::

    L R
    L R
    """
    return _grid([["L", "R"], ["L", "R"]])


@pytest.fixture
def grid_lsoas() -> pd.DataFrame:
    """One LSOA per LA cell (a, b, c, d) with 100, 200, 300, 400 people; CCGs as in two_ccgs."""
    return pd.DataFrame(
        {
            "ccg": ["L", "L", "R", "R"],
            "la": ["a", "b", "c", "d"],
            "county": ["X", "X", "Y", "Y"],
            "population": [100, 200, 300, 400],
        },
        index=["lsoa_a", "lsoa_b", "lsoa_c", "lsoa_d"],
    )


# --- overlap table --------------------------------------------------------------------------
def test_crosstab_sums_blocks_per_pair() -> None:
    out = crosstab(
        np.array(["A", "A", "B", "A"]), np.array(["X", "Y", "Y", "X"]), np.array([1, 2, 3, 4])
    )
    assert out.values.tolist() == [["A", "X", 5], ["A", "Y", 2], ["B", "Y", 3]]


def test_crosstab_counts_blocks_per_pair_when_asked() -> None:
    out = crosstab(
        pd.Series(["A", "A", "B", "A"]), np.array(["X", "Y", "Y", "X"]), [1, 2, 3, 4], counts=True
    )
    assert out.values.tolist() == [["A", "X", 5, 2], ["A", "Y", 2, 1], ["B", "Y", 3, 1]]


def test_population_table_counts_the_blocks_of_each_pair_and_of_each_target() -> None:
    """Four blocks; the last is in no unit (e.g. outside every combined authority)::

    block   1  2  3  4
    unit    A  A  B  -
    target  X  Y  Y  Y
    people  3  0  2  5
    """
    lsoa = pd.DataFrame(
        {"u": ["A", "A", "B", None], "t": ["X", "Y", "Y", "Y"], "population": [3, 0, 2, 5]}
    )
    t = population_overlap(lsoa, "u", "t")
    assert t.pairs[["unit", "target", "value", "n_blocks"]].values.tolist() == [
        ["A", "X", 3, 1],
        ["A", "Y", 0, 1],
        ["B", "Y", 2, 1],
    ]
    assert t.target_blocks.to_dict() == {"X": 1, "Y": 3}
    assert t.target_totals.to_dict() == {"X": 3, "Y": 7}


def test_area_table_of_a_ccg_covering_the_left_column(four_las, two_ccgs) -> None:
    t = area_overlap(two_ccgs, four_las)
    m = t.matrix()
    assert m.loc["L"].to_dict() == pytest.approx({"a": 1e6, "b": 1e6, "c": 0.0, "d": 0.0})
    assert t.matrix(share="unit").loc["R"].to_dict() == pytest.approx(
        {"a": 0, "b": 0, "c": 0.5, "d": 0.5}
    )
    assert (t.pairs["share_of_target"] == 1.0).all()
    # touching squares share an edge but no area: those pairs are not in the table
    assert len(t.pairs) == 4


def test_area_table_reports_slivers_it_removed(four_las) -> None:
    """A CCG covering a and b that overshoots into c and d by a 0.5 m strip: 500 m² each, below
    the 1,000 m² tolerance, so both pairs are slivers and are reported, not kept."""
    ccg = gpd.GeoDataFrame(
        {"name": ["F"]}, geometry=[shapely.box(0, 0, 1000.5, 2000)], index=["F"], crs=27700
    )
    t = area_overlap(ccg, four_las)
    assert set(t.pairs["target"]) == {"a", "b"}
    assert t.removed[["unit", "target"]].values.tolist() == [["F", "c"], ["F", "d"]]
    assert t.removed["value"].tolist() == pytest.approx([500.0, 500.0])
    assert t.tolerance == {"sliver_m2": 1000.0, "sliver_share": 0.001}
    keep_all = area_overlap(ccg, four_las, sliver_m2=0, sliver_share=0)
    assert len(keep_all.pairs) == 4
    assert keep_all.removed.empty


def test_area_needs_metres(four_las, two_ccgs) -> None:
    with pytest.raises(CRSError, match=r"degrees.*to_crs\(27700\)"):
        area_overlap(two_ccgs.to_crs(4326), four_las.to_crs(4326))
    with pytest.raises(CRSError, match="no CRS"):
        area_overlap(two_ccgs.set_crs(None, allow_override=True), four_las)


def test_overlapping_units_are_refused(four_las) -> None:
    units = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1000, 2000), shapely.box(500, 0, 2000, 2000)],
        index=["P", "Q"],
        crs=27700,
    )
    with pytest.raises(OverlappingUnitsError, match="double count"):
        area_overlap(units, four_las)


def test_layers_of_different_vintages_are_refused(four_las, two_ccgs) -> None:
    two_ccgs.attrs["vintage"], four_las.attrs["vintage"] = 2019, 2020
    with pytest.raises(VintageMismatchError, match="units: 2019, targets: 2020"):
        area_overlap(two_ccgs, four_las)


def test_bad_sliver_tolerance(four_las, two_ccgs) -> None:
    with pytest.raises(ParameterError, match="sliver_share"):
        area_overlap(two_ccgs, four_las, sliver_share=0.7)


def test_population_and_area_agree_where_people_are_spread_evenly(four_las, two_ccgs) -> None:
    lsoa = pd.DataFrame(
        {"ccg": ["L", "L", "R", "R"], "la": ["a", "b", "c", "d"], "population": [5] * 4}
    )
    pop = population_overlap(lsoa, "ccg", "la")
    area = area_overlap(two_ccgs, four_las)
    check = ct.cross_check(pop, area)
    assert not check["disagree"].any()
    assert check["difference"].abs().max() == pytest.approx(0.0)


# --- metrics: exact answers -----------------------------------------------------------------
def test_left_column_ccg_is_coterminous_with_two_whole_las(grid_lsoas) -> None:
    t = population_overlap(grid_lsoas, "ccg", "la")
    fm = footprint_metrics(t, ["L"])
    assert fm.index == 1.0
    assert fm.coterminous
    assert fm.contained == ["a", "b"]
    assert fm.split == []
    assert fm.best_fit == ["a", "b"]
    assert fm.total == 300
    assert fm.outside_best_fit == 0
    assert fm.best_fit_outside == 0


def test_left_column_ccg_against_top_and_bottom_rows_scores_one_half() -> None:
    """LAs are rows (top T = b+d, bottom B = a+c), CCG is the left column: each LA half inside.

    J = Σ_U m / (t_F + Σ_U (T − m)) with U = {T, B} (s = 0.5 each): 2 / (2 + 2) = 0.5.
    """
    lsoa = pd.DataFrame(
        {"ccg": ["L", "L", "R", "R"], "la": ["B", "T", "B", "T"], "population": [1] * 4}
    )
    fm = footprint_metrics(population_overlap(lsoa, "ccg", "la"), ["L"])
    assert fm.index == 0.5
    assert fm.split == ["B", "T"]
    assert fm.contained == []
    assert not fm.coterminous
    assert fm.best_fit_outside == 2


def test_footprint_with_no_best_fit_la_scores_zero() -> None:
    """One LA of 10 people, the footprint holds 3 of them (s = 0.3 < 0.5): U is empty, J = 0."""
    lsoa = pd.DataFrame({"ccg": ["F", "G"], "la": ["x", "x"], "population": [3, 7]})
    fm = footprint_metrics(population_overlap(lsoa, "ccg", "la"), ["F"])
    assert fm.index == 0.0
    assert fm.best_fit == []
    assert fm.split == ["x"]
    assert fm.outside_best_fit == 3


def test_split_and_contained_with_tolerance() -> None:
    """LA x has 1000 people, 996 in F (s = 0.996 ≥ 1 − 0.005: contained); y has 4 of 1000 in F
    (s = 0.004 ≤ ε: marginal)."""
    lsoa = pd.DataFrame(
        {"ccg": ["F", "G", "F", "G"], "la": ["x", "x", "y", "y"], "population": [996, 4, 4, 996]}
    )
    t = population_overlap(lsoa, "ccg", "la")
    fm = footprint_metrics(t, ["F"])
    assert fm.contained == ["x"]
    assert fm.split == []
    assert fm.by_la.loc["y", "status"] == "marginal"
    # J = 996 / (1000 + 4) = 0.99203... ≥ 0.995? no → not coterminous at ε = 0.005
    assert fm.index == pytest.approx(996 / 1004)
    assert not fm.coterminous
    assert footprint_metrics(t, ["F"], tolerance=0.01).coterminous
    with pytest.raises(ParameterError, match=r"outside \[0, 0.5\)"):
        footprint_metrics(t, ["F"], tolerance=0.5)
    with pytest.raises(ParameterError):
        footprint_metrics(t, ["F"], tolerance=-0.1)


def test_union_of_both_ccgs_is_coterminous_with_two_counties(grid_lsoas) -> None:
    t = population_overlap(grid_lsoas, "ccg", "county")
    fm = footprint_metrics(t, ["R", "L"])
    assert fm.index == 1.0
    assert fm.contained == ["X", "Y"]
    assert footprint_metrics(t, ["L"]).contained == ["X"]


def test_bad_footprints(grid_lsoas) -> None:
    t = population_overlap(grid_lsoas, "ccg", "la")
    with pytest.raises(FootprintError, match="empty"):
        footprint_metrics(t, [])
    with pytest.raises(FootprintError, match="more than once"):
        footprint_metrics(t, ["L", "L"])
    with pytest.raises(UnknownAreaError, match=r"\['Q'\]"):
        footprint_metrics(t, ["L", "Q"])


def test_area_and_population_metrics_agree_on_the_grid(four_las, two_ccgs, grid_lsoas) -> None:
    pop = footprint_metrics(population_overlap(grid_lsoas, "ccg", "la"), ["L"])
    area = footprint_metrics(area_overlap(two_ccgs, four_las), ["L"])
    assert area.index == pytest.approx(pop.index) == 1.0
    assert area.tolerance == 0.03
    assert pop.tolerance == 0.005


def test_system_alignment_flags_a_footprint_crossing_systems() -> None:
    lsoa = pd.DataFrame(
        {"ccg": ["A", "B", "C"], "stp": ["S1", "S1", "S2"], "population": [50, 45, 5]}
    )
    t = population_overlap(lsoa, "ccg", "stp")
    a = system_alignment(t, ["A", "B", "C"])
    assert a.dominant == "S1"
    assert a.dominant_share == pytest.approx(0.95)
    assert not a.within_one_system
    assert system_alignment(t, ["A", "B"]).within_one_system


# --- invariants -------------------------------------------------------------------------------
blocks = st.lists(
    st.tuples(st.sampled_from("ABCDE"), st.sampled_from("vwxyz"), st.integers(0, 5000)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(blocks=blocks, data=st.data())
def test_shares_bounded_sum_to_one_and_order_free(blocks, data) -> None:
    lsoa = pd.DataFrame(blocks, columns=["ccg", "la", "population"])
    lsoa.loc[0, "population"] += 1  # at least one person
    t = population_overlap(lsoa, "ccg", "la")
    assert t.pairs["share_of_unit"].between(0, 1).all()
    assert t.pairs["share_of_target"].between(0, 1).all()
    per_unit = t.pairs.groupby("unit")["share_of_unit"].sum()
    assert np.allclose(per_unit[t.unit_totals > 0], 1.0)
    assert t.unit_totals.sum() == t.target_totals.sum() == lsoa["population"].sum()
    units = list(t.unit_totals.index[t.unit_totals > 0])  # a footprint without people is refused
    members = data.draw(
        st.lists(st.sampled_from(units), min_size=1, max_size=len(units), unique=True)
    )
    shuffled = data.draw(st.permutations(members))
    a, b = footprint_metrics(t, members), footprint_metrics(t, shuffled)
    assert a.index == b.index
    assert a.contained == b.contained
    assert a.split == b.split
    assert 0.0 <= a.index <= 1.0
    k = coterminosity_kernel(
        a.by_la["in_footprint"].to_numpy(), a.by_la["la_total"].to_numpy(), a.total, 0.005
    )
    assert k.jaccard == a.index


# --- real data (geo2019: the session's geography, tests/conftest.py) --------------------------


@pytest.mark.realdata
def test_coventry_and_warwickshire_population_cross_tab_matches_ons(geo2019) -> None:
    """Figures from CHECKS.md §5 (LSOA sums of ONS mid-2019 estimates)."""
    m = ct.overlap(geo2019, "ccg", "ltla").matrix()
    assert m.loc["E38000038", ["E08000026", "E07000220"]].tolist() == [371_521, 108_935]
    assert m.loc["E38000164", ["E07000221", "E07000222"]].tolist() == [130_098, 143_753]
    assert m.loc["E38000195", ["E07000218", "E07000219"]].tolist() == [65_264, 129_883]
    assert m.loc[["E38000038", "E38000164", "E38000195"]].to_numpy().sum() == 949_454


@pytest.mark.realdata
def test_three_ccg_merger_is_coterminous_with_coventry_and_warwickshire(geo2019) -> None:
    fm = footprint_metrics(
        ct.overlap(geo2019, "ccg", "utla"), ["E38000038", "E38000164", "E38000195"]
    )
    assert fm.index == 1.0
    assert fm.coterminous
    assert fm.contained == fm.best_fit == ["E08000026", "E10000031"]
    assert fm.total == 949_454
    single = footprint_metrics(ct.overlap(geo2019, "ccg", "utla"), ["E38000038"])
    # Coventry and Rugby: Coventry whole (371,521), Rugby is 108,935 of Warwickshire's 577,933
    assert single.best_fit == ["E08000026"]
    assert single.index == pytest.approx(371_521 / 480_456)
    assert single.split == ["E10000031"]


@pytest.mark.slow
@pytest.mark.realdata
def test_additivity_equals_explicit_union_and_overlay_for_random_footprints(geo2019) -> None:
    """Summing member rows = dissolving the members and overlaying them on the LAs."""
    table = ct.overlap(geo2019, "ccg", "utla", measure="area")
    rng = np.random.default_rng(20191)
    stps = geo2019.stp.index.to_numpy()
    for stp in rng.choice(stps, size=4, replace=False):
        ccgs = geo2019.members(stp)
        k = int(rng.integers(1, len(ccgs) + 1))
        members = sorted(rng.choice(ccgs, size=k, replace=False).tolist())
        fm = footprint_metrics(table, members, tolerance=0.005)
        union = shapely.union_all(geo2019.ccg.loc[members].geometry.to_numpy())
        tg = geo2019.utla.geometry
        inter = shapely.area(shapely.intersection(union, tg.to_numpy()))
        direct = pd.Series(inter, index=tg.index)
        direct = direct[direct >= 1000.0]
        got = fm.by_la["in_footprint"]
        assert got.sum() == pytest.approx(direct.sum(), rel=1e-6)
        assert set(got.index[got > 1e4]) == set(direct.index[direct > 1e4])
        assert fm.total == pytest.approx(union.area, rel=1e-6)


@pytest.mark.slow
@pytest.mark.realdata
def test_area_table_matches_geopandas_overlay_for_all_ccg_ltla_pairs(geo2019) -> None:
    table = ct.overlap(geo2019, "ccg", "ltla", measure="area", sliver_m2=0.0, sliver_share=0.0)
    ccg = geo2019.ccg[["geometry"]].rename_axis("ccg").reset_index()
    lad = geo2019.ltla[["geometry"]].rename_axis("ltla").reset_index()
    ov = gpd.overlay(ccg, lad, how="intersection", keep_geom_type=True)
    ours = table.pairs.set_index(["unit", "target"])["value"]
    theirs = ov.assign(a=ov.area).groupby(["ccg", "ltla"])["a"].sum()
    theirs = theirs[theirs > 1.0]
    ours = ours[ours > 1.0]
    assert set(ours.index) == set(theirs.index)
    diff = (ours - theirs.reindex(ours.index)).abs()
    assert diff.max() < 1.0  # m²


@pytest.mark.slow
@pytest.mark.realdata
def test_area_and_population_tables_agree_where_boundaries_coincide(geo2019) -> None:
    """Derived layers share LSOA edges, so a CCG lies in an LA by area iff it does by people."""
    pop = ct.overlap(geo2019, "ccg", "ltla")
    area = ct.overlap(geo2019, "ccg", "ltla", measure="area")
    check = ct.cross_check(pop, area, tolerance=0.05)
    pairs_pop = set(map(tuple, pop.pairs[["unit", "target"]].to_numpy()))
    pairs_area = set(map(tuple, area.pairs[["unit", "target"]].to_numpy()))
    assert pairs_pop == pairs_area
    assert len(pairs_pop) == 416 or len(pairs_pop) > 317  # every LAD has ≥ 1 CCG
    whole = check[(check["share_pop"] == 1.0)]
    assert np.allclose(whole["share_area"], 1.0, atol=1e-6)
    assert area.removed["value"].max() < 1.0  # only micro slivers from noding


@pytest.mark.realdata
def test_each_la_is_covered_once_by_ccgs_in_2019(geo2019) -> None:
    t = ct.overlap(geo2019, "ccg", "ltla")
    per_la = t.pairs.groupby("target")["share_of_target"].sum()
    assert np.allclose(per_la, 1.0)
    assert (t.pairs.groupby("target").size() > 1).sum() == 59  # CHECKS §3: LADs split across CCGs
    spanning = (ct.overlap(geo2019, "ccg", "utla").pairs.groupby("unit").size() > 1).sum()
    assert spanning == 28  # CHECKS §3: CCG19s spanning more than one UTLA


@pytest.mark.realdata
def test_area_view_against_ons_buc_is_within_area_tolerance(data_dir) -> None:
    """Coventry & Warwickshire vs ONS CTYUA Dec 2019 BUC: IoU 0.98233 (CHECKS §5)."""
    geo = ct.load(2019, data_dir=data_dir, boundaries="ons")
    assert geo.resolution("utla") == "BUC"
    assert geo.sources["utla"].endswith("#utla_ons_buc")
    fm = footprint_metrics(
        ct.overlap(geo, "ccg", "utla", measure="area"), ["E38000038", "E38000164", "E38000195"]
    )
    assert fm.index == pytest.approx(0.98233, abs=5e-4)
    assert fm.coterminous  # within the documented 0.03 area tolerance
    assert fm.best_fit == ["E08000026", "E10000031"]
