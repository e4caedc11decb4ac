"""Adjacency from shared boundary length: tiny exact squares, overrides, and the real CCGs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coterminus import partitions as P
from coterminus.analysis.adjacency import (
    adjacency,
    adjacency_matrix,
    neighbour_masks,
    validate_overrides,
)
from coterminus.errors import CRSError, DuplicateCodeError, ParameterError, UnknownAreaError


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    """A 2×2 grid of 1 km squares plus an island and a near-miss, in EPSG:27700::

    a b        i (island, 5 km east)
    c d  e     e touches d only at a corner; f is 2 m east of b (a generalisation gap)
           f? (f sits at x = 2002..3002, y = 1000..2000)
    """
    boxes = {
        "a": shapely.box(0, 1000, 1000, 2000),
        "b": shapely.box(1000, 1000, 2000, 2000),
        "c": shapely.box(0, 0, 1000, 1000),
        "d": shapely.box(1000, 0, 2000, 1000),
        "e": shapely.box(2000, -1000, 3000, 0),
        "f": shapely.box(2002, 1000, 3002, 2000),
        "i": shapely.box(7000, 0, 8000, 1000),
    }
    return gpd.GeoDataFrame(geometry=list(boxes.values()), index=list(boxes), crs=27700)


def _pairs(edges):
    return {
        (a, b) for a, b, on in zip(edges["a"], edges["b"], edges["adjacent"], strict=True) if on
    }


def test_squares_sharing_an_edge_are_adjacent_and_the_shared_length_is_exact(grid):
    edges = adjacency(grid)
    assert _pairs(edges) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("b", "f")}
    ab = edges[(edges["a"] == "a") & (edges["b"] == "b")]["shared_m"].item()
    assert ab == pytest.approx(1000.0, abs=1e-6)


def test_a_corner_contact_is_not_adjacency(grid):
    edges = adjacency(grid)
    de = edges[(edges["a"] == "d") & (edges["b"] == "e")]
    assert len(de) == 1  # seen as a candidate ...
    assert not de["adjacent"].item()  # ... but too short
    assert de["basis"].item() == "too short"
    assert de["shared_m"].item() < 1.0


def test_a_small_gap_is_bridged_by_snapping_but_not_without_it(grid):
    assert ("b", "f") in _pairs(adjacency(grid, snap_m=5.0))
    assert ("b", "f") not in _pairs(adjacency(grid, snap_m=0.0))
    assert ("b", "f") not in _pairs(adjacency(grid, snap_m=1.0))


def test_the_island_touches_nobody_until_an_override_joins_it(grid):
    edges = adjacency(grid)
    assert not any("i" in p for p in _pairs(edges))
    joined = adjacency(grid, overrides={("i", "d"): True, ("a", "b"): False})
    assert ("d", "i") in _pairs(joined)
    assert ("a", "b") not in _pairs(joined)
    basis = dict(zip(zip(joined["a"], joined["b"], strict=True), joined["basis"], strict=True))
    assert basis[("d", "i")] == "override: joined"
    assert basis[("a", "b")] == "override: separated"


def test_neighbour_masks_and_matrix_agree_with_the_edges(grid):
    edges = adjacency(grid)
    codes = ["a", "b", "c", "d"]
    masks = neighbour_masks(edges, codes)
    assert masks.tolist() == [0b0110, 0b1001, 0b1001, 0b0110]
    mat = adjacency_matrix(edges, codes)
    assert mat.to_numpy().sum() == 8
    assert (mat.to_numpy() == mat.to_numpy().T).all()
    # the 2×2 grid is a 4-cycle: contiguous plans exclude the two diagonals {a,d}, {b,c}
    conn = P.connected_subsets(masks)
    assert P.count_partitions(4, allowed=conn) == 15 - 3 - 0  # {ad}{b}{c}, {bc}{a}{d}, {ad}{bc}


def test_overrides_naming_unknown_codes_are_refused_all_at_once(grid):
    with pytest.raises(UnknownAreaError, match=r"2 unknown code\(s\): 'x', 'y'"):
        adjacency(grid, overrides={("a", "x"): True, ("y", "b"): True})


def test_bad_overrides_are_explained():
    with pytest.raises(ParameterError, match="itself"):
        validate_overrides({("a", "a"): True}, ["a"])
    with pytest.raises(ParameterError, match="not True/False"):
        validate_overrides({("a", "b"): "yes"}, ["a", "b"])
    with pytest.raises(ParameterError, match="both True and False"):
        validate_overrides({("a", "b"): True, ("b", "a"): False}, ["a", "b"])
    with pytest.raises(ParameterError, match="mapping"):
        validate_overrides([("a", "b")], ["a", "b"])  # type: ignore[arg-type]


def test_degrees_and_missing_crs_are_refused(grid):
    with pytest.raises(CRSError, match="to_crs"):
        adjacency(grid.to_crs(4326))
    with pytest.raises(CRSError, match="set_crs"):
        adjacency(grid.set_crs(None, allow_override=True))
    doubled = gpd.GeoDataFrame(geometry=list(grid.geometry[:2]), index=["a", "a"], crs=27700)
    with pytest.raises(DuplicateCodeError):
        adjacency(doubled)
    with pytest.raises(ParameterError, match="min_shared_m"):
        adjacency(grid, min_shared_m=-1)


# --- real 2019 CCGs (geo2019: the session's geography, tests/conftest.py) --------------------


@pytest.fixture(scope="module")
def ccg_edges(geo2019):
    return adjacency(geo2019.ccg)


@pytest.mark.realdata
def test_the_isle_of_wight_ccg_has_no_land_neighbour(geo2019, ccg_edges):
    iow = geo2019.code("NHS Isle of Wight CCG", level="ccg")
    assert neighbour_masks(ccg_edges, [iow, *geo2019.ccg.index.drop(iow)])[0] == 0
    members = geo2019.members("Hampshire and the Isle of Wight")
    conn = P.connected_subsets(neighbour_masks(ccg_edges, members))
    assert not conn[(1 << len(members)) - 1]  # the whole system is not one connected area


@pytest.mark.realdata
def test_liverpool_and_wirral_do_not_touch_across_the_mersey(geo2019, ccg_edges):
    liv = geo2019.code("NHS Liverpool CCG", level="ccg")
    wir = geo2019.code("NHS Wirral CCG", level="ccg")
    masks = neighbour_masks(ccg_edges, [liv, wir])
    assert masks.tolist() == [0, 0]
    joined = adjacency(geo2019.ccg.loc[[liv, wir]], overrides={(wir, liv): True})
    assert neighbour_masks(joined, [liv, wir]).tolist() == [2, 1]


@pytest.mark.realdata
def test_every_pair_of_touching_ccgs_shares_a_real_length_of_boundary(ccg_edges):
    on = ccg_edges[ccg_edges["adjacent"]]
    assert len(on) > 400
    assert (on["shared_m"] >= 50).all()
    # corner contacts and near misses are listed but not adjacent
    assert (ccg_edges.loc[~ccg_edges["adjacent"], "shared_m"] < 50).all()


@pytest.mark.realdata
def test_contiguous_counts_of_real_systems_match_brute_force(geo2019, ccg_edges):
    from collections import deque

    for name in ["Kent and Medway", "Coventry and Warwickshire", "Humber, Coast and Vale"]:
        members = geo2019.members(name)
        n = len(members)
        masks = neighbour_masks(ccg_edges, members)
        nbrs = {i: [j for j in range(n) if (masks[i] >> j) & 1] for i in range(n)}

        def connected(block, nbrs=nbrs):
            start = next(iter(block))
            seen, todo = {start}, deque([start])
            while todo:
                for v in nbrs[todo.popleft()]:
                    if v in block and v not in seen:
                        seen.add(v)
                        todo.append(v)
            return seen == block

        def rgs(i, labels, k, n=n):  # restricted growth strings: every partition once
            if i == n:
                yield list(labels)
                return
            for lab in range(k + 1):
                labels.append(lab)
                yield from rgs(i + 1, labels, max(k, lab + 1))
                labels.pop()

        brute = 0
        for labels in rgs(0, [], 0):
            blocks: dict[int, set[int]] = {}
            for i, lab in enumerate(labels):
                blocks.setdefault(lab, set()).add(i)
            brute += all(connected(b) for b in blocks.values())
        assert P.count_partitions(n, allowed=P.connected_subsets(masks)) == brute, name


def test_shared_length_is_symmetric_and_does_not_depend_on_row_order(grid):
    e1 = adjacency(grid)
    e2 = adjacency(grid.iloc[::-1])
    np.testing.assert_allclose(e1["shared_m"].to_numpy(), e2["shared_m"].to_numpy())
    assert e1[["a", "b"]].equals(e2[["a", "b"]])
