"""Tests for coterminus.doctor: problem tables, repair, and the errors/warnings loaders raise.

Hand-built layers use unit squares (1 m² in EPSG:27700) so every area is exact; the real-data
tests check the figures of CHECKS.md §1 (5 invalid LSOAs) and §9 (holes and micro-gaps).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Polygon, box

from coterminus.data.doctor import CHECKS, COLUMNS, SEVERITIES, doctor, raise_or_warn, repair
from coterminus.errors import (
    ColumnError,
    CRSError,
    DuplicateCodeError,
    EmptyDataError,
    FootprintError,
    OverlappingUnitsError,
    ParameterError,
    RepairWarning,
    VintageMismatchError,
)


def make_layer(
    geoms: list, codes: list[str], *, crs: int | None = 27700, **attrs: object
) -> gpd.GeoDataFrame:
    """A layer shaped like the readers' output: indexed by code, a ``name`` column."""
    layer = gpd.GeoDataFrame(
        {"name": [f"Area {c}" for c in codes]},
        geometry=list(geoms),
        index=pd.Index(codes, name="code"),
        crs=crs,
    )
    layer.attrs.update(attrs)
    return layer


def donut(outer: float = 4.0, lo: float = 1.0, hi: float = 3.0) -> Polygon:
    """Square ``0..outer`` with a square hole ``lo..hi``."""
    return Polygon(box(0, 0, outer, outer).exterior.coords, [box(lo, lo, hi, hi).exterior.coords])


def rows(problems: pd.DataFrame, check: str) -> pd.DataFrame:
    return problems[problems["check"] == check]


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def four_squares() -> gpd.GeoDataFrame:
    """Four unit squares tiling 0..2 × 0..2; nothing to report::

    c d        E06000003 E06000004
    a b        E06000001 E06000002
    """
    return make_layer(
        [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)],
        ["E06000001", "E06000002", "E06000003", "E06000004"],
        level="utla",
    )


@pytest.fixture
def county_with_city() -> gpd.GeoDataFrame:
    """A county (E10000001) whose 4 m² hole (1..3 × 1..3) is exactly the city (E06000001)::

    +-----------+
    | E10000001 |
    |   +---+   |
    |   |E06|   |
    |   +---+   |
    +-----------+
    0   1   3   4
    """
    return make_layer([donut(), box(1, 1, 3, 3)], ["E10000001", "E06000001"], level="utla")


@pytest.fixture
def county_with_hole() -> gpd.GeoDataFrame:
    """The same county with nothing in its 4 m² hole (a genuine gap centred on (2, 2))."""
    return make_layer([donut()], ["E10000001"], level="utla")


@pytest.fixture
def bow_tie() -> gpd.GeoDataFrame:
    """A valid unit square next to a bow-tie whose two triangles cancel (signed area 0)::

    +---+ +   +
    | a | | X |      a = E06000001 (valid), X = E06000002 (self-intersection at 1.5 0.5)
    +---+ +   +
    """
    tie = Polygon([(1, 0), (2, 1), (2, 0), (1, 1)])
    return make_layer([box(0, 0, 1, 1), tie], ["E06000001", "E06000002"], level="utla")


@pytest.fixture
def overlapping_squares() -> gpd.GeoDataFrame:
    """Unit squares offset by (0.5, 0.5): they share a 0.5 × 0.5 = 0.25 m² square::

        +-------+
        |   b   |
    +---+---+   |
    |   |///|---+     /// = 0.25 m² centred on (0.75, 0.75)
    | a +---+
    +-------+
    """
    return make_layer([box(0, 0, 1, 1), box(0.5, 0.5, 1.5, 1.5)], ["E06000001", "E06000002"])


# --- the table --------------------------------------------------------------------------------
def test_a_perfect_tiling_has_no_problems_and_an_empty_table_with_every_column(
    four_squares: gpd.GeoDataFrame,
) -> None:
    problems = doctor(four_squares)
    assert problems.empty
    assert tuple(problems.columns) == COLUMNS
    assert problems[["area_m2", "x", "y"]].dtypes.eq("float64").all()


def test_doctor_never_mutates_the_layer(bow_tie: gpd.GeoDataFrame) -> None:
    before = bow_tie.copy()
    wkb = shapely.to_wkb(bow_tie.geometry.array)
    doctor(bow_tie)
    repair(bow_tie)
    pd.testing.assert_frame_equal(bow_tie.drop(columns="geometry"), before.drop(columns="geometry"))
    assert list(shapely.to_wkb(bow_tie.geometry.array)) == list(wkb)
    assert bow_tie.attrs == {"level": "utla"}


def test_rows_are_sorted_by_severity_then_check() -> None:
    """Duplicate (fatal) + bow-tie (repairable) + unfilled hole (repairable) + micro-gap (info)."""
    tiny_hole = Polygon(
        box(10, 10, 20, 20).exterior.coords, [box(15, 15, 15.5, 15.5).exterior.coords]
    )
    layer = make_layer(
        [
            donut(),
            Polygon([(30, 0), (31, 1), (31, 0), (30, 1)]),
            tiny_hole,
            box(40, 0, 41, 1),
            box(42, 0, 43, 1),
        ],
        ["E06000001", "E06000002", "E06000003", "E06000004", "E06000004"],
    )
    problems = doctor(layer)
    assert list(problems["check"]) == [
        "duplicate_code",
        "invalid_geometry",
        "gap",
        "micro_gap",
    ]
    assert list(problems["severity"]) == ["fatal", "repairable", "repairable", "info"]
    assert set(problems["check"]) <= set(CHECKS)
    assert set(problems["severity"]) <= set(SEVERITIES)


# --- holes ------------------------------------------------------------------------------------
def test_a_city_filling_the_hole_of_its_county_is_info_naming_the_city(
    county_with_city: gpd.GeoDataFrame,
) -> None:
    problems = doctor(county_with_city)
    assert len(problems) == 1
    row = problems.iloc[0]
    assert (row["check"], row["severity"]) == ("hole_filled_by_neighbour", "info")
    assert (row["code"], row["other_code"]) == ("E10000001", "E06000001")
    assert row["area_m2"] == pytest.approx(4.0)
    assert 1 < row["x"] < 3
    assert 1 < row["y"] < 3


def test_a_hole_filled_by_nobody_is_a_repairable_gap(county_with_hole: gpd.GeoDataFrame) -> None:
    problems = doctor(county_with_hole)
    assert list(problems["check"]) == ["gap"]
    row = problems.iloc[0]
    assert row["severity"] == "repairable"
    assert row["code"] == "E10000001"
    assert pd.isna(row["other_code"])
    assert row["area_m2"] == pytest.approx(4.0)
    assert "0.0% covered" in row["detail"]


def test_a_half_filled_hole_is_a_gap_of_the_uncovered_half() -> None:
    """The 4 m² hole (1..3 × 1..3) holds only a 2 m² unit on its left half."""
    layer = make_layer([donut(), box(1, 1, 2, 3)], ["E10000001", "E06000001"])
    gap = rows(doctor(layer), "gap").iloc[0]
    assert gap["area_m2"] == pytest.approx(2.0)
    assert gap["other_code"] == "E06000001"
    assert "50.0% covered" in gap["detail"]


def test_holes_smaller_than_the_gap_tolerance_are_micro_gaps(
    county_with_hole: gpd.GeoDataFrame,
) -> None:
    problems = doctor(county_with_hole, gap_tolerance_m2=5.0)
    assert list(problems["check"]) == ["micro_gap"]
    assert problems["severity"].iloc[0] == "info"
    assert problems["area_m2"].iloc[0] == pytest.approx(4.0)
    # the tolerance is inclusive: a 4 m² hole at tolerance 4 is analysed
    assert list(doctor(county_with_hole, gap_tolerance_m2=4.0)["check"]) == ["gap"]


def test_each_of_several_holes_in_one_polygon_is_reported_with_its_own_area() -> None:
    """A 10 × 3 strip with holes of 1 m² (1..2) and 4 m² (4..8 × 1..2), the second one filled."""
    strip = Polygon(
        box(0, 0, 10, 3).exterior.coords,
        [box(1, 1, 2, 2).exterior.coords, box(4, 1, 8, 2).exterior.coords],
    )
    layer = make_layer([strip, box(4, 1, 8, 2)], ["E10000001", "E06000001"])
    problems = doctor(layer, gap_tolerance_m2=0.5)
    assert sorted(zip(problems["check"], problems["area_m2"], strict=True)) == [
        ("gap", pytest.approx(1.0)),
        ("hole_filled_by_neighbour", pytest.approx(4.0)),
    ]


# --- overlaps ---------------------------------------------------------------------------------
def test_two_squares_sharing_a_quarter_overlap_by_exactly_025_m2(
    overlapping_squares: gpd.GeoDataFrame,
) -> None:
    problems = doctor(overlapping_squares, overlap_tolerance_m2=0.1)
    assert len(problems) == 1
    row = problems.iloc[0]
    assert (row["check"], row["severity"]) == ("overlap", "fatal")
    assert (row["code"], row["other_code"]) == ("E06000001", "E06000002")
    assert row["area_m2"] == 0.25
    assert 0.5 <= row["x"] <= 1.0
    assert 0.5 <= row["y"] <= 1.0
    assert "25.0% of E06000001" in row["detail"]


def test_overlaps_at_or_below_the_tolerance_are_ignored(
    overlapping_squares: gpd.GeoDataFrame,
) -> None:
    assert doctor(overlapping_squares).empty  # default tolerance is 1 m²
    assert doctor(overlapping_squares, overlap_tolerance_m2=0.25).empty


def test_touching_squares_do_not_overlap(four_squares: gpd.GeoDataFrame) -> None:
    assert doctor(four_squares, overlap_tolerance_m2=0.0).empty


# --- fatal non-spatial problems ---------------------------------------------------------------
def test_a_code_on_two_rows_is_one_fatal_duplicate_code_row(
    four_squares: gpd.GeoDataFrame,
) -> None:
    layer = four_squares.rename(index={"E06000002": "E06000001"})
    dup = rows(doctor(layer), "duplicate_code")
    assert list(dup["code"]) == ["E06000001"]
    assert dup["severity"].iloc[0] == "fatal"
    assert "2 rows" in dup["detail"].iloc[0]


def test_missing_and_empty_geometries_are_fatal(four_squares: gpd.GeoDataFrame) -> None:
    layer = four_squares.copy()
    layer.loc["E06000002", "geometry"] = None
    layer.loc["E06000003", "geometry"] = Polygon()
    empty = rows(doctor(layer), "empty_geometry")
    assert list(empty["code"]) == ["E06000002", "E06000003"]
    assert set(empty["severity"]) == {"fatal"}
    assert len(doctor(layer)) == 2  # and nothing else is tripped by them


def test_a_layer_with_no_rows_is_one_fatal_empty_geometry_row() -> None:
    problems = doctor(make_layer([], []))
    assert list(problems["check"]) == ["empty_geometry"]
    assert pd.isna(problems["code"].iloc[0])
    with pytest.raises(EmptyDataError, match="no rows"):
        raise_or_warn(problems)


def test_a_layer_without_crs_is_fatal_and_skips_the_area_checks(
    overlapping_squares: gpd.GeoDataFrame,
) -> None:
    layer = overlapping_squares.set_crs(None, allow_override=True)
    problems = doctor(layer, overlap_tolerance_m2=0.1)
    assert list(problems["check"]) == ["missing_crs"]
    assert problems["severity"].iloc[0] == "fatal"
    assert "skipped" in problems["detail"].iloc[0]


def test_a_layer_in_degrees_is_fatal_but_areas_are_still_in_square_metres() -> None:
    """Two 0.01° boxes near Coventry overlapping by half their width."""
    layer = make_layer(
        [box(-1.52, 52.40, -1.50, 52.41), box(-1.51, 52.40, -1.49, 52.41)],
        ["E08000026", "E07000220"],
        crs=4326,
    )
    problems = doctor(layer)
    assert list(problems["check"]) == ["geographic_crs", "overlap"]
    crs_row, overlap = problems.iloc[0], problems.iloc[1]
    assert "EPSG:4326" in crs_row["detail"]
    expected = layer.to_crs(27700).geometry.iloc[0].area / 2  # half of box a, in m²
    assert overlap["area_m2"] == pytest.approx(expected, rel=1e-3)
    assert overlap["area_m2"] > 600_000  # square metres, not square degrees
    assert -1.51 <= overlap["x"] <= -1.50  # location given in the layer's own CRS
    assert 52.40 <= overlap["y"] <= 52.41


# --- levels and vintages ----------------------------------------------------------------------
def test_an_stp_code_in_a_ccg_layer_is_a_fatal_mixed_level() -> None:
    layer = make_layer(
        [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        ["E38000001", "E38000002", "E54000001"],
    )
    mixed = rows(doctor(layer), "mixed_levels")
    assert list(mixed["code"]) == ["E54000001"]
    assert mixed["severity"].iloc[0] == "fatal"
    assert "most codes" in mixed["detail"].iloc[0]


def test_codes_disagreeing_with_attrs_level_are_mixed_levels(
    four_squares: gpd.GeoDataFrame,
) -> None:
    four_squares.attrs["level"] = "ccg"
    mixed = rows(doctor(four_squares), "mixed_levels")
    assert len(mixed) == 4
    assert "attrs['level']" in mixed["detail"].iloc[0]


@pytest.mark.parametrize(
    ("level", "codes"),
    [
        ("utla", ["E06000001", "E08000001", "E09000001", "E10000001"]),
        ("lad", ["E06000001", "E07000001", "E08000001", "E09000001"]),
        ("ltla", ["E06000001", "E07000001", "E08000001", "E09000001"]),
        ("lad_ons_buc", ["E06000001", "E07000001", "E08000001", "E09000001"]),
        ("ccg19", ["E38000001", "E38000002", "E38000003", "E38000004"]),
        (None, ["E06000001", "E08000001", "E09000001", "E10000001"]),
        ("something else", ["X1", "X2", "X3", "X4"]),
    ],
)
def test_layers_of_one_level_are_not_mixed(level: str | None, codes: list[str]) -> None:
    squares = [box(i, 0, i + 1, 1) for i in range(4)]
    assert doctor(make_layer(squares, codes, level=level)).empty


def test_a_county_with_its_own_districts_is_mixed_without_any_level_attr() -> None:
    layer = make_layer([box(0, 0, 1, 1), box(1, 0, 2, 1)], ["E10000001", "E07000001"])
    mixed = rows(doctor(layer), "mixed_levels")
    assert list(mixed["code"]) == ["E10000001"]  # ltla and utla tie; ltla listed first


def test_several_values_in_a_vintage_column_are_mixed_vintages(
    four_squares: gpd.GeoDataFrame,
) -> None:
    four_squares["vintage"] = [2019, 2019, 2019, 2020]
    mixed = rows(doctor(four_squares), "mixed_vintages")
    assert list(mixed["code"]) == ["E06000004"]
    assert mixed["severity"].iloc[0] == "fatal"
    four_squares.attrs["vintage"] = 2020
    assert len(rows(doctor(four_squares), "mixed_vintages")) == 3


# --- invalid geometry and repair --------------------------------------------------------------
def test_a_bow_tie_is_repairable_with_the_geos_reason_and_its_location(
    bow_tie: gpd.GeoDataFrame,
) -> None:
    problems = doctor(bow_tie)
    assert list(problems["check"]) == ["invalid_geometry"]
    row = problems.iloc[0]
    assert row["severity"] == "repairable"
    assert row["code"] == "E06000002"
    assert row["detail"] == "Self-intersection[1.5 0.5]"
    assert (row["x"], row["y"]) == (1.5, 0.5)


def test_repair_splits_the_bow_tie_into_two_triangles_and_leaves_valid_rows_alone(
    bow_tie: gpd.GeoDataFrame,
) -> None:
    repaired, changes = repair(bow_tie)
    assert list(changes.columns) == ["code", "before_reason", "area_before_m2", "area_after_m2"]
    assert changes.to_dict("records") == [
        {
            "code": "E06000002",
            "before_reason": "Self-intersection[1.5 0.5]",
            "area_before_m2": 0.0,
            "area_after_m2": 0.5,
        }
    ]
    tie = repaired.geometry.loc["E06000002"]
    assert tie.geom_type == "MultiPolygon"
    assert len(tie.geoms) == 2
    assert repaired.geometry.iloc[0] is bow_tie.geometry.iloc[0]  # valid row untouched
    assert repaired.crs == bow_tie.crs
    assert repaired.attrs == bow_tie.attrs
    assert doctor(repaired).empty


def test_repair_keeps_only_polygonal_parts_and_a_polygon_stays_a_polygon() -> None:
    """A square with a spike to (1, 3): make_valid gives Polygon + LineString; the line goes."""
    spiked = Polygon([(0, 0), (2, 0), (2, 2), (1, 2), (1, 3), (1, 2), (0, 2)])
    repaired, changes = repair(make_layer([spiked], ["E06000001"]))
    geom = repaired.geometry.iloc[0]
    assert geom.geom_type == "Polygon"
    assert geom.area == 4.0
    assert changes["area_after_m2"].tolist() == [4.0]


def test_a_polygon_that_collapses_to_a_line_repairs_to_an_empty_fatal_geometry() -> None:
    flat = Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])
    repaired, changes = repair(make_layer([flat, box(5, 5, 6, 6)], ["E06000001", "E06000002"]))
    assert changes["area_after_m2"].tolist() == [0.0]
    assert repaired.geometry.iloc[0].is_empty
    assert list(doctor(repaired)["check"]) == ["empty_geometry"]


def test_repair_of_a_valid_layer_returns_an_identical_copy_and_no_changes(
    four_squares: gpd.GeoDataFrame,
) -> None:
    repaired, changes = repair(four_squares)
    assert changes.empty
    assert list(changes.columns) == ["code", "before_reason", "area_before_m2", "area_after_m2"]
    assert repaired is not four_squares
    assert repaired.geom_equals_exact(four_squares, tolerance=0).all()


# --- inputs -----------------------------------------------------------------------------------
def test_codes_can_come_from_a_column(four_squares: gpd.GeoDataFrame) -> None:
    plain = four_squares.reset_index().rename(columns={"code": "LAD19CD"})
    plain.loc[1, "LAD19CD"] = "E06000001"
    assert list(rows(doctor(plain, code_col="LAD19CD"), "duplicate_code")["code"]) == ["E06000001"]
    _, changes = repair(plain, code_col="LAD19CD")
    assert changes.empty


def test_an_unknown_code_column_names_the_columns(four_squares: gpd.GeoDataFrame) -> None:
    with pytest.raises(ColumnError, match=r"code_col='CCG19CD'.*name"):
        doctor(four_squares, code_col="CCG19CD")


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1"])
def test_a_bad_tolerance_is_a_parameter_error(four_squares: gpd.GeoDataFrame, bad) -> None:
    with pytest.raises(ParameterError, match="gap_tolerance_m2"):
        doctor(four_squares, gap_tolerance_m2=bad)
    with pytest.raises(ParameterError, match="overlap_tolerance_m2"):
        doctor(four_squares, overlap_tolerance_m2=bad)


def test_a_plain_dataframe_is_refused_with_a_type_error(four_squares: gpd.GeoDataFrame) -> None:
    with pytest.raises(TypeError, match="GeoDataFrame"):
        doctor(pd.DataFrame(four_squares.drop(columns="geometry")))


# --- raise_or_warn ----------------------------------------------------------------------------
def test_duplicates_raise_a_duplicate_code_error_naming_the_code_and_the_fix(
    four_squares: gpd.GeoDataFrame,
) -> None:
    layer = four_squares.rename(index={"E06000002": "E06000001"})
    with pytest.raises(DuplicateCodeError, match=r"(?s)ccg layer.*E06000001.*duplicated"):
        raise_or_warn(doctor(layer), "ccg layer")


def test_more_than_ten_offending_codes_are_cut_to_ten_and_n_more() -> None:
    squares = [box(i, 0, i + 1, 1) for i in range(24)]
    codes = [f"E06{k:06d}" for k in range(12) for _ in range(2)]
    with pytest.raises(DuplicateCodeError, match=r"12 codes.*and 2 more") as info:
        raise_or_warn(doctor(make_layer(squares, codes)))
    assert "E06000010" not in str(info.value)


def test_empty_geometry_raises_empty_data_error(four_squares: gpd.GeoDataFrame) -> None:
    four_squares.loc["E06000004", "geometry"] = Polygon()
    with pytest.raises(EmptyDataError, match=r"E06000004.*drop those rows"):
        raise_or_warn(doctor(four_squares))


def test_overlaps_raise_overlapping_units_error_with_the_pair_and_area(
    overlapping_squares: gpd.GeoDataFrame,
) -> None:
    problems = doctor(overlapping_squares, overlap_tolerance_m2=0.1)
    with pytest.raises(OverlappingUnitsError, match=r"E06000001/E06000002 \(0\.25 m²\)"):
        raise_or_warn(problems)


@pytest.mark.parametrize(("crs", "fix"), [(None, "set_crs"), (4326, r"to_crs\(27700\)")])
def test_crs_problems_raise_crs_error_with_the_fix(
    four_squares: gpd.GeoDataFrame, crs: int | None, fix: str
) -> None:
    layer = four_squares.set_crs(crs, allow_override=True)
    with pytest.raises(CRSError, match=fix):
        raise_or_warn(doctor(layer))


def test_every_fatal_problem_is_in_one_message_and_crs_wins(
    four_squares: gpd.GeoDataFrame,
) -> None:
    layer = four_squares.rename(index={"E06000002": "E06000001"}).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"(?s)2 fatal problems.*missing_crs.*duplicate_code"):
        raise_or_warn(doctor(layer))


def test_mixed_vintages_and_levels_raise_their_errors(four_squares: gpd.GeoDataFrame) -> None:
    four_squares["vintage"] = [2019, 2019, 2019, 2020]
    with pytest.raises(VintageMismatchError, match="E06000004"):
        raise_or_warn(doctor(four_squares))
    four_squares["vintage"] = 2019
    four_squares.attrs["level"] = "stp"
    with pytest.raises(FootprintError, match="mixed_levels"):
        raise_or_warn(doctor(four_squares))


def test_repairable_problems_give_one_repair_warning_with_the_fix(
    bow_tie: gpd.GeoDataFrame,
) -> None:
    problems = pd.concat([doctor(bow_tie), doctor(make_layer([donut()], ["E10000001"]))])
    with pytest.warns(RepairWarning, match=r"(?s)2 repairable.*E06000002.*coterminus\.repair"):
        raise_or_warn(problems)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raise_or_warn(problems)
    assert len(caught) == 1


def test_info_rows_neither_raise_nor_warn(county_with_city: gpd.GeoDataFrame) -> None:
    problems = doctor(county_with_city)
    assert len(problems) == 1
    raise_or_warn(problems)  # filterwarnings=error: any warning would fail this test


# --- invariants -------------------------------------------------------------------------------
_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(cols=st.integers(1, 6), n_rows=st.integers(1, 6), size=st.sampled_from([1.0, 7.5, 1000.0]))
def test_any_grid_of_squares_is_clean(cols: int, n_rows: int, size: float) -> None:
    squares = [
        box(i * size, j * size, (i + 1) * size, (j + 1) * size)
        for i in range(cols)
        for j in range(n_rows)
    ]
    codes = [f"E06{k:06d}" for k in range(len(squares))]
    assert doctor(make_layer(squares, codes), overlap_tolerance_m2=0.0).empty


@_settings
@given(shift=st.integers(1, 99))
def test_a_square_slid_onto_its_neighbour_overlaps_by_exactly_the_slid_area(shift: int) -> None:
    dx = shift / 100
    layer = make_layer([box(0, 0, 1, 1), box(1 - dx, 0, 2 - dx, 1)], ["E06000001", "E06000002"])
    overlap = doctor(layer, overlap_tolerance_m2=0.0)
    assert list(overlap["check"]) == ["overlap"]
    assert overlap["area_m2"].iloc[0] == pytest.approx(dx, abs=1e-12)


@_settings
@given(order=st.permutations(range(6)))
def test_the_table_does_not_depend_on_the_order_of_rows(order: list[int]) -> None:
    """County with city, a gap, a bow-tie, and two overlapping squares, in any order."""
    layer = make_layer(
        [
            donut(),
            box(1, 1, 3, 3),
            shapely.affinity.translate(donut(), 50, 0),
            Polygon([(20, 0), (21, 1), (21, 0), (20, 1)]),
            box(30, 0, 32, 2),
            box(31, 1, 33, 3),
        ],
        ["E10000001", "E06000001", "E10000002", "E06000002", "E06000003", "E06000004"],
    )
    expected = doctor(layer)
    shuffled = doctor(layer.iloc[list(order)])
    pd.testing.assert_frame_equal(shuffled, expected)


# --- real ONS data (CHECKS.md §1 and §9) ------------------------------------------------------
def _read(path: Path, layer: str, code: str, name: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path, layer=layer)
    gdf = gdf.rename(columns={code: "code", name: "name"}).set_index("code")
    gdf.attrs["level"] = layer
    return gdf


@pytest.fixture(scope="module")
def lsoa(data_dir: Path) -> gpd.GeoDataFrame:
    return _read(
        data_dir / "boundaries" / "lsoa11_bgc_england.gpkg", "lsoa", "LSOA11CD", "LSOA11NM"
    )


@pytest.fixture(scope="module")
def lsoa_doctor(lsoa: gpd.GeoDataFrame) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    problems = doctor(lsoa)
    return problems, time.perf_counter() - start


INVALID_LSOAS = ["E01018992", "E01019228", "E01019900", "E01024572", "E01027444"]


@pytest.mark.realdata
@pytest.mark.slow
def test_the_lsoa_layer_has_exactly_the_five_nested_shell_lsoas_of_checks_1(
    lsoa_doctor: tuple[pd.DataFrame, float],
) -> None:
    problems, _seconds = lsoa_doctor
    invalid = rows(problems, "invalid_geometry")
    assert list(invalid["code"]) == INVALID_LSOAS
    assert invalid["detail"].str.startswith("Nested shells").all()
    assert invalid.loc[invalid["code"] == "E01018992", ["x", "y"]].iloc[0].tolist() == (
        pytest.approx([136216.489043227, 31248.9964403009])
    )
    # nothing fatal: LSOA slivers are < 0.01 m², and every hole is another LSOA
    assert set(problems["severity"]) == {"repairable", "info"}
    assert set(problems["check"]) == {"invalid_geometry", "hole_filled_by_neighbour"}


@pytest.mark.realdata
@pytest.mark.slow
def test_repair_makes_the_five_lsoas_valid_and_reports_only_them(
    lsoa: gpd.GeoDataFrame,
) -> None:
    repaired, changes = repair(lsoa)
    assert list(changes["code"]) == INVALID_LSOAS
    assert changes["before_reason"].str.startswith("Nested shells").all()
    assert repaired.is_valid.all()
    assert (~lsoa.is_valid).sum() == 5  # the input is unchanged
    # the nested shell becomes a hole, matching the ONS Shape__Area attribute
    ons_area = lsoa.loc[INVALID_LSOAS, "Shape__Area"].to_numpy()
    np.testing.assert_allclose(changes["area_after_m2"], ons_area, rtol=1e-4)
    untouched = ~lsoa.index.isin(INVALID_LSOAS)
    assert repaired.geometry[untouched].geom_equals_exact(lsoa.geometry[untouched], 0).all()


@pytest.mark.realdata
@pytest.mark.slow
def test_the_lsoa_layer_gives_one_repair_warning_listing_the_five(
    lsoa_doctor: tuple[pd.DataFrame, float],
) -> None:
    with pytest.warns(RepairWarning, match="5 invalid geometries: E01018992.*E01027444"):
        raise_or_warn(lsoa_doctor[0], "lsoa11_bgc_england.gpkg")


HOLES_2019 = [
    # layer, code col, name col, holed unit, filling unit, km² (CHECKS.md §9)
    ("utla", "UTLA19CD", "UTLA19NM", "Derbyshire", "Derby", 78.0),
    ("utla", "UTLA19CD", "UTLA19NM", "Leicestershire", "Leicester", 73.3),
    ("utla", "UTLA19CD", "UTLA19NM", "Nottinghamshire", "Nottingham", 74.6),
    ("utla", "UTLA19CD", "UTLA19NM", "Staffordshire", "Stoke-on-Trent", 93.4),
    ("lad", "LAD19CD", "LAD19NM", "South Cambridgeshire", "Cambridge", 40.7),
    ("ccg", "CCG19CD", "CCG19NM", "NHS Bradford Districts CCG", "NHS Bradford City CCG", 16.5),
]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("layer", "code", "name"),
    [
        ("utla", "UTLA19CD", "UTLA19NM"),
        ("lad", "LAD19CD", "LAD19NM"),
        ("ccg", "CCG19CD", "CCG19NM"),
    ],
)
def test_derived_2019_layers_have_only_their_filled_holes_and_17_micro_gaps(
    data_dir: Path, layer: str, code: str, name: str
) -> None:
    gdf = _read(data_dir / "boundaries" / "ons_2019.gpkg", layer, code, name)
    problems = doctor(gdf)
    assert set(problems["severity"]) == {"info"}

    micro = rows(problems, "micro_gap")
    assert len(micro) == 17
    assert (micro["area_m2"] < 0.005).all()

    names = gdf["name"]
    filled = rows(problems, "hole_filled_by_neighbour")
    found = {
        (names[c], names[o]): a / 1e6
        for c, o, a in zip(filled["code"], filled["other_code"], filled["area_m2"], strict=True)
    }
    expected = {(h, f): km2 for lay, _, _, h, f, km2 in HOLES_2019 if lay == layer}
    assert found.keys() == expected.keys()
    for pair, km2 in expected.items():
        assert found[pair] == pytest.approx(km2, abs=0.1)
    raise_or_warn(problems, f"ons_2019.gpkg layer {layer!r}")  # info only: silent
