"""The overlap table: how much of each unit lies in each target, computed once.

Everything else in coterminus (footprint metrics, merger scores, maps) is arithmetic on this
table. Two measures:

* **population** (default, exact): CCGs are built from whole LSOAs and LSOAs nest in local
  authorities, so the people of CCG *u* living in LA *l* are the sum of the mid-year
  populations of the LSOAs assigned to both — no polygons involved.
* **area**: polygon intersections in EPSG:27700 (m²), found with an STRtree and computed with
  vectorised shapely 2 (no Python loop over pairs). Separately generalised boundary files make
  slivers, so pairs below a documented tolerance are removed and reported.

Examples
--------
>>> import pandas as pd
>>> lsoa = pd.DataFrame({"ccg": ["A", "A", "B"], "utla": ["X", "Y", "Y"],
...                      "population": [100, 50, 50]})
>>> t = population_overlap(lsoa, "ccg", "utla")
>>> t.pairs[["unit", "target", "value", "share_of_unit", "share_of_target"]]
  unit target  value  share_of_unit  share_of_target
0    A      X    100       0.666667              1.0
1    A      Y     50       0.333333              0.5
2    B      Y     50       1.000000              0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.embedded import check_measurable
from ..data.validate import check_same_vintage, overlapping_pairs, require_metric_crs
from ..errors import CRSError, OverlappingUnitsError, ParameterError
from ..vocabulary.words import examples

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = [
    "DEFAULT_SLIVER_M2",
    "DEFAULT_SLIVER_SHARE",
    "OverlapTable",
    "area_overlap",
    "cross_check",
    "crosstab",
    "overlap",
    "pair_sums",
    "population_overlap",
]

Measure = Literal["population", "area"]

#: Area pairs smaller than this (m²) are slivers: 1,000 m² is a 20 m × 50 m strip, i.e. inside
#: the 20 m generalisation of BGC boundaries.
DEFAULT_SLIVER_M2 = 1_000.0
#: Area pairs that are below this share of *both* the unit and the target are slivers too.
DEFAULT_SLIVER_SHARE = 0.001


@dataclass(frozen=True)
class OverlapTable:
    """How much of each unit (e.g. CCG) lies in each target (e.g. upper-tier LA).

    Attributes
    ----------
    pairs : pandas.DataFrame
        Tidy table, one row per overlapping (unit, target): ``unit``, ``target``, ``value``
        (people, or m²), ``share_of_unit`` = value / unit total, ``share_of_target`` =
        value / target total; population tables also carry ``n_blocks``, the building blocks
        (LSOAs) of the pair.
    unit_totals, target_totals : pandas.Series
        Total measure of every unit / target (people, or polygon area in m²), indexed by code.
    target_blocks : pandas.Series
        Building blocks (LSOAs) of every target, also those outside every unit (population
        tables; empty for area), so the blocks of a target outside some units are
        ``target_blocks[t] - Σ n_blocks`` over those units' pairs.
    measure : {"population", "area"}
    unit_level, target_level : str
    vintage : int or None
    removed : pandas.DataFrame
        Area pairs dropped as slivers (same columns as ``pairs``); empty for population.
    tolerance : dict
        The sliver tolerance used (area) — recorded so outputs can state it.
    """

    pairs: pd.DataFrame
    unit_totals: pd.Series
    target_totals: pd.Series
    measure: str
    unit_level: str = "unit"
    target_level: str = "target"
    vintage: int | str | None = None
    removed: pd.DataFrame = field(default_factory=pd.DataFrame)
    tolerance: dict[str, float] = field(default_factory=dict)
    target_blocks: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))

    def __repr__(self) -> str:
        return (
            f"<OverlapTable {self.unit_level} × {self.target_level} by {self.measure}"
            f"{f' ({self.vintage})' if self.vintage else ''}: {len(self.pairs)} pairs, "
            f"{len(self.unit_totals)} units, {len(self.target_totals)} targets>"
        )

    def matrix(self, *, share: Literal[None, "unit", "target"] = None) -> pd.DataFrame:
        """Units × targets matrix of values (or shares), zeros where they do not overlap.

        Examples
        --------
        >>> import pandas as pd
        >>> lsoa = pd.DataFrame({"u": ["A", "B"], "t": ["X", "X"], "population": [3, 1]})
        >>> population_overlap(lsoa, "u", "t").matrix()
        target  X
        unit
        A       3
        B       1
        """
        col = {None: "value", "unit": "share_of_unit", "target": "share_of_target"}[share]
        m = self.pairs.pivot(index="unit", columns="target", values=col)
        m = m.reindex(index=self.unit_totals.index, columns=self.target_totals.index)
        m = m.fillna(0)
        if self.measure == "population" and share is None:
            m = m.astype("int64")
        m.index.name, m.columns.name = "unit", "target"
        return m

    def for_units(self, units: list[str]) -> pd.DataFrame:
        """Rows of :attr:`pairs` whose unit is in ``units``."""
        return self.pairs[self.pairs["unit"].isin(units)]


def pair_sums(
    unit_idx: np.ndarray, target_idx: np.ndarray, weights: np.ndarray, n_targets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sparse crosstab on integer codes: each pair that occurs, its blocks and summed weight.

    The one kernel under :func:`crosstab` (the population overlap) and the vintage diff
    (:func:`coterminus.analysis.diff.vintages.diff_membership`, which also needs the count of blocks).

    Parameters
    ----------
    unit_idx, target_idx : numpy.ndarray of int
        One entry per block: the index of its unit and of its target (``0 <= target_idx <
        n_targets``).
    weights : numpy.ndarray
        One entry per block (people).
    n_targets : int
        Number of targets (the stride of the combined pair key).

    Returns
    -------
    unit, target : numpy.ndarray of int64
        The pairs that occur, sorted by unit then target.
    count : numpy.ndarray of int64
        Blocks in each pair.
    total : numpy.ndarray of float64
        Σ weights of the pair's blocks.

    Notes
    -----
    With key(b) = unit(b)·n_targets + target(b), one ``np.unique`` over the keys gives the pairs
    and counts and one ``np.bincount`` the sums: total(u, t) = Σ_{b : unit(b)=u, target(b)=t} w_b
    (O(blocks log blocks)).

    Examples
    --------
    >>> u, t, n, w = pair_sums(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([1, 2, 3]), 2)
    >>> u.tolist(), t.tolist(), n.tolist(), w.tolist()
    ([0, 1], [1, 0], [2, 1], [3.0, 3.0])
    """
    key = unit_idx.astype(np.int64) * n_targets + target_idx.astype(np.int64)
    present, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sums = np.bincount(
        inverse, weights=np.asarray(weights, dtype=np.float64), minlength=len(present)
    )
    return present // n_targets, present % n_targets, counts.astype(np.int64), sums


def crosstab(
    unit_codes: np.ndarray | pd.Series,
    target_codes: np.ndarray | pd.Series,
    weights: np.ndarray | pd.Series,
    *,
    counts: bool = False,
) -> pd.DataFrame:
    """Sum ``weights`` over every (unit, target) pair that occurs: the pure population kernel.

    Parameters
    ----------
    unit_codes, target_codes : array-like of str
        One entry per building block (LSOA).
    weights : array-like of int or float
        The block's measure (people).
    counts : bool, default False
        Add ``n_blocks``, the number of blocks in each pair.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``target``, ``value`` (and ``n_blocks``); only pairs that occur, sorted by
        unit then target.

    Notes
    -----
    value(u, t) = Σ_{b : unit(b)=u, target(b)=t} w_b, computed by :func:`pair_sums` on the
    codes' sorted factor indices.

    Examples
    --------
    >>> crosstab(["A", "A", "B"], ["X", "X", "X"], [1, 2, 3])
      unit target  value
    0    A      X      3
    1    B      X      3
    >>> crosstab(["A", "A", "B"], ["X", "X", "X"], [1, 2, 3], counts=True)["n_blocks"].tolist()
    [2, 1]
    """
    # a Series is factorised as it is (no copy to an object array: several times faster)
    u_idx, u_lab = pd.factorize(_array_like(unit_codes), sort=True)
    t_idx, t_lab = pd.factorize(_array_like(target_codes), sort=True)
    w = np.asarray(weights)
    unit, target, n_blocks, sums = pair_sums(u_idx, t_idx, w, len(t_lab))
    out = pd.DataFrame(
        {
            "unit": np.asarray(u_lab)[unit],
            "target": np.asarray(t_lab)[target],
            "value": sums.astype(w.dtype) if np.issubdtype(w.dtype, np.integer) else sums,
        }
    )
    if counts:
        out["n_blocks"] = n_blocks
    return out


def _array_like(codes: Any) -> Any:
    return codes if isinstance(codes, pd.Series | pd.Index | np.ndarray) else np.asarray(codes)


def _with_shares(
    pairs: pd.DataFrame, unit_totals: pd.Series, target_totals: pd.Series
) -> pd.DataFrame:
    ut = unit_totals.reindex(pairs["unit"]).to_numpy(dtype=float)
    tt = target_totals.reindex(pairs["target"]).to_numpy(dtype=float)
    value = pairs["value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pairs = pairs.assign(
            share_of_unit=np.where(ut > 0, value / ut, 0.0),
            share_of_target=np.where(tt > 0, value / tt, 0.0),
        )
    return pairs.reset_index(drop=True)


def population_overlap(
    lsoa: pd.DataFrame,
    units: str,
    targets: str,
    *,
    weight: str = "population",
    vintage: int | str | None = None,
) -> OverlapTable:
    """Exact overlap by population from LSOA building blocks.

    Parameters
    ----------
    lsoa : pandas.DataFrame
        One row per LSOA with a column for each level's code and a ``population`` column
        (as in :attr:`Geography.lsoa`).
    units, targets : str
        Column names of the two levels (e.g. ``"ccg"``, ``"utla"``).
    weight : str, default "population"
        Column with each LSOA's people.
    vintage : int, optional
        Recorded on the result.

    Returns
    -------
    OverlapTable

    Notes
    -----
    P(u, t) = Σ_{LSOA i : unit(i)=u, target(i)=t} pop_i. Unit totals P(u) = Σ_{i : unit(i)=u}
    pop_i and target totals P(t) = Σ_{i : target(i)=t} pop_i (Σ_u P(u, t) when the units cover
    every block), so the shares of a unit sum to exactly 1 when the
    targets cover it (every council tier), and to the covered part otherwise (blocks outside
    every combined authority count in P(u) but in no pair). Exact because CCGs
    are unions of whole LSOAs and LSOAs nest within local authorities (best-fit by ONS).

    Examples
    --------
    >>> import pandas as pd
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B"], "ltla": ["X", "X"], "population": [1500, 500]})
    >>> population_overlap(lsoa, "ccg", "ltla").target_totals["X"]
    np.int64(2000)
    """
    for col in (units, targets, weight):
        if col not in lsoa.columns:
            msg = f"LSOA table has no column {col!r}; columns are {list(lsoa.columns)}."
            raise ParameterError(msg)
    rows = lsoa[lsoa[units].notna()]
    # blocks outside every target (e.g. outside any combined authority) count in the unit's
    # total but make no pair, so a unit's shares sum to the part of it the targets cover; and a
    # target's total is all of its blocks, also those outside every unit (a regional scenario)
    unit_totals = rows.groupby(units)[weight].sum()
    covered = rows[rows[targets].notna()]
    pairs = crosstab(covered[units], covered[targets], covered[weight].to_numpy(), counts=True)
    target_totals = lsoa.groupby(targets)[weight].sum()
    target_blocks = lsoa.groupby(targets).size().astype("int64")
    target_blocks.index = target_blocks.index.astype(str)
    target_blocks.index.name = "target"
    target_totals.index = target_totals.index.astype(str)
    unit_totals.index = unit_totals.index.astype(str)
    unit_totals.index.name, target_totals.index.name = "unit", "target"
    blocks = pairs.pop("n_blocks").to_numpy()
    return OverlapTable(
        pairs=_with_shares(pairs, unit_totals, target_totals).assign(n_blocks=blocks),
        unit_totals=unit_totals,
        target_totals=target_totals,
        measure="population",
        unit_level=units,
        target_level=targets,
        vintage=vintage if vintage is not None else lsoa.attrs.get("vintage"),
        target_blocks=target_blocks,
    )


def _refuse_overlapping_units(geoms: np.ndarray, codes: np.ndarray, tolerance: float) -> None:
    """Raise :class:`OverlappingUnitsError` naming every pair of units that overlap."""
    left, right, area = overlapping_pairs(geoms, min_share=tolerance)
    if len(left) == 0:
        return
    order = np.argsort(-area, kind="stable")
    listing = examples(f"{codes[left[k]]} and {codes[right[k]]} ({area[k]:,.0f} m²)" for k in order)
    msg = (
        f"units overlap each other: {len(left)} pair(s) share more than {tolerance:g} of the "
        f"smaller unit: {listing}. Footprint metrics add units' rows, which would double "
        "count; use a layer of a single level and vintage (or one built from whole LSOAs), or "
        "run coterminus.doctor(units) for the details."
    )
    raise OverlappingUnitsError(msg)


def area_overlap(
    units: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    sliver_share: float = DEFAULT_SLIVER_SHARE,
    overlap_tolerance: float = 1e-4,
    unit_level: str | None = None,
    target_level: str | None = None,
) -> OverlapTable:
    """Overlap by area from polygons (m² in a projected CRS, normally EPSG:27700).

    Parameters
    ----------
    units, targets : geopandas.GeoDataFrame
        Indexed by code, same projected CRS.
    sliver_m2 : float, default 1000
        Pairs with a smaller intersection are slivers.
    sliver_share : float, default 0.001
        Pairs whose intersection is below this share of both the unit and the target are
        slivers too.
    overlap_tolerance : float, default 1e-4
        Two units may overlap each other by at most this share of the smaller of the two
        before the table is refused (adding their rows would double count).

    Returns
    -------
    OverlapTable
        ``removed`` lists the slivers dropped; totals are full polygon areas, so a unit's
        shares need not sum to 1 where it lies outside every target (coastline differences).

    Raises
    ------
    CRSError
        Missing or geographic CRS, or the two layers in different CRSs.
    OverlappingUnitsError
        Two units overlap each other by more than ``overlap_tolerance`` of the smaller one; the
        message names the pairs and their overlap in m².

    Notes
    -----
    A(u, t) = area(u ∩ t). Candidate pairs come from an STRtree query
    (``predicate="intersects"``); intersections and areas are computed in one vectorised
    shapely call. A pair is a sliver, and removed, when A(u, t) < ``sliver_m2`` or when
    A(u, t) / A(u) < ``sliver_share`` and A(u, t) / A(t) < ``sliver_share``. Units must not
    overlap each other: Σ_u A(u, t) ≤ A(t)·(1 + ``overlap_tolerance``) for every target t is
    checked, since footprint metrics add units' rows.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> squares = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000),
    ...                                      shapely.box(1000, 0, 2000, 1000)],
    ...                            index=["L", "R"], crs=27700)
    >>> whole = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2000, 1000)], index=["W"], crs=27700)
    >>> area_overlap(squares, whole).pairs[["unit", "target", "share_of_target"]]
      unit target  share_of_target
    0    L      W              0.5
    1    R      W              0.5
    """
    require_metric_crs(units, "units")
    require_metric_crs(targets, "targets")
    if units.crs != targets.crs:
        msg = (
            f"units are in {units.crs.to_string()} but targets in {targets.crs.to_string()}; "
            "reproject both with `.to_crs(27700)`."
        )
        raise CRSError(msg)
    check_same_vintage(
        [("units", units.attrs.get("vintage")), ("targets", targets.attrs.get("vintage"))]
    )
    if sliver_m2 < 0 or not 0 <= sliver_share < 0.5:
        msg = f"sliver_m2={sliver_m2} must be ≥ 0 and sliver_share={sliver_share} in [0, 0.5)."
        raise ParameterError(msg)
    if not 0 <= overlap_tolerance < 1:
        msg = f"overlap_tolerance={overlap_tolerance} must be in [0, 1)."
        raise ParameterError(msg)
    ug = units.geometry.to_numpy()
    _refuse_overlapping_units(ug, units.index.astype(str).to_numpy(), overlap_tolerance)
    tg = targets.geometry.to_numpy()
    tree = shapely.STRtree(tg)
    ui, ti = tree.query(ug, predicate="intersects")
    inter = shapely.intersection(ug[ui], tg[ti], grid_size=None)
    area = shapely.area(inter)
    unit_totals = pd.Series(shapely.area(ug), index=units.index.astype(str), name="area_m2")
    target_totals = pd.Series(shapely.area(tg), index=targets.index.astype(str), name="area_m2")
    unit_totals.index.name, target_totals.index.name = "unit", "target"
    pairs = pd.DataFrame(
        {
            "unit": unit_totals.index.to_numpy()[ui],
            "target": target_totals.index.to_numpy()[ti],
            "value": area,
        }
    )
    pairs = _with_shares(pairs, unit_totals, target_totals)
    sliver = (pairs["value"] < sliver_m2) | (
        (pairs["share_of_unit"] < sliver_share) & (pairs["share_of_target"] < sliver_share)
    )
    removed = pairs[sliver].reset_index(drop=True)
    kept = pairs[~sliver].sort_values(["unit", "target"]).reset_index(drop=True)
    return OverlapTable(
        pairs=kept,
        unit_totals=unit_totals,
        target_totals=target_totals,
        measure="area",
        unit_level=unit_level or str(units.attrs.get("level", "unit")),
        target_level=target_level or str(targets.attrs.get("level", "target")),
        vintage=units.attrs.get("vintage"),
        removed=removed,
        tolerance={"sliver_m2": float(sliver_m2), "sliver_share": float(sliver_share)},
    )


def overlap(
    geo: Geography,
    units: str = "ccg",
    targets: str = "utla",
    *,
    measure: Measure = "population",
    sliver_m2: float = DEFAULT_SLIVER_M2,
    sliver_share: float = DEFAULT_SLIVER_SHARE,
) -> OverlapTable:
    """Overlap table between two levels of a loaded vintage (computed once, then reused).

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load`.
    units, targets : str
        Level names of the geography (``"ccg"``, ``"icb"``, ``"utla"``, ``"cauth"``, a
        scenario) or words for them (``"lad"``, ``"ics"``).
    measure : {"population", "area"}, default "population"
        Population is exact (LSOA building blocks) and the default; area uses polygons.
    sliver_m2, sliver_share : float
        Sliver tolerances of the area measure (see :func:`area_overlap`); ignored by population.

    Returns
    -------
    OverlapTable

    Raises
    ------
    DisplayPolygonsError
        ``measure="area"`` on the embedded dataset's display-grade polygons (the message says
        how to get full-resolution ones: ``--data-dir`` or ``coterminus data fetch``).

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> t = coterminus.overlap(geo, "ccg", "ltla")
    >>> t.matrix().loc["E38000038", ["E08000026", "E07000220"]].tolist()
    [371521, 108935]
    """
    u, t = geo.resolve_level(units), geo.resolve_level(targets)
    if measure not in ("population", "area"):
        msg = f"measure={measure!r}; use 'population' or 'area'."
        raise ParameterError(msg)
    if measure == "area":  # display-grade (embedded) polygons cannot measure area
        check_measurable(geo, u, t)
    slivers = {"sliver_m2": sliver_m2, "sliver_share": sliver_share}
    key = ("overlap", u, t, measure, tuple(sorted(slivers.items())))

    def compute() -> OverlapTable:
        if measure == "population":
            return population_overlap(geo.lsoa, u, t, vintage=geo.vintage)
        return area_overlap(geo.layer(u), geo.layer(t), unit_level=u, target_level=t, **slivers)

    result: OverlapTable = geo.memo(key, compute)
    return result


def cross_check(
    population: OverlapTable, area: OverlapTable, *, tolerance: float = 0.05
) -> pd.DataFrame:
    """Compare the population and area views of the same pair of levels.

    Parameters
    ----------
    population, area : OverlapTable
        Same units and targets, measured both ways.
    tolerance : float, default 0.05
        Pairs whose share of the unit differs by more than this are flagged.

    Returns
    -------
    pandas.DataFrame
        One row per pair present in either table: ``unit``, ``target``,
        ``share_pop``, ``share_area``, ``difference`` (= share_area − share_pop) and
        ``disagree`` (|difference| > tolerance), sorted by |difference| descending.

    Notes
    -----
    Shares are of the unit: P(u, t)/P(u) and A(u, t)/A(u). They need not be equal (people are
    not spread evenly), but a pair present in one view and absent in the other points at a
    boundary mismatch or a sliver.

    Examples
    --------
    >>> import pandas as pd
    >>> pop = population_overlap(pd.DataFrame({"u": ["A"], "t": ["X"], "population": [5]}), "u", "t")
    >>> cross_check(pop, pop)["disagree"].tolist()
    [False]
    """
    a = population.pairs[["unit", "target", "share_of_unit"]].rename(
        columns={"share_of_unit": "share_pop"}
    )
    b = area.pairs[["unit", "target", "share_of_unit"]].rename(
        columns={"share_of_unit": "share_area"}
    )
    out = a.merge(b, on=["unit", "target"], how="outer").fillna(
        {"share_pop": 0.0, "share_area": 0.0}
    )
    out["difference"] = out["share_area"] - out["share_pop"]
    out["disagree"] = out["difference"].abs() > tolerance
    order = out["difference"].abs().sort_values(ascending=False).index
    return out.loc[order].reset_index(drop=True)
