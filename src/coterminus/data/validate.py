"""Validation rules shared by readers and analyses: one place for each rule and its message.

* CRS: :func:`crs_problem` classifies a layer's CRS, :func:`require_metric_crs` refuses a layer
  whose areas or lengths would be meaningless, and :func:`guess_crs` / :func:`check_coordinates`
  tell from the coordinates whether they are British National Grid metres or degrees.
* Populations: :func:`check_population_values` (finite, whole, non-negative, below
  :data:`MAX_POPULATION`) and :func:`check_positive_totals` (no denominator of 0 people).
* Building blocks: :func:`check_blocks` (the LSOAs of a file are exactly a vintage's universe).
* Geometry: :func:`overlapping_pairs`, the pairwise overlap test (STRtree self-query).

Examples
--------
>>> guess_crs((400_000, 200_000, 450_000, 260_000))
'bng'
>>> guess_crs((-1.6, 52.2, -1.2, 52.6))
'degrees'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..errors import (
    CoterminusError,
    CRSError,
    DuplicateCodeError,
    LookupMismatchError,
    PopulationError,
    VintageMismatchError,
)
from ..vocabulary.words import examples
from .integrity import block_digest

__all__ = [
    "BNG",
    "BNG_BOUNDS",
    "DEGREE_BOUNDS",
    "MAX_POPULATION",
    "check_blocks",
    "check_coordinates",
    "check_population_values",
    "check_positive_totals",
    "check_same_vintage",
    "check_unique_codes",
    "crs_name",
    "crs_problem",
    "empty_geometry",
    "guess_crs",
    "overlapping_pairs",
    "require_metric_crs",
]

#: British National Grid, the CRS every layer is returned in (areas in m²).
BNG = 27700
#: Extent of British National Grid coordinates (m): the grid's 700 km × 1,300 km false origin box.
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)
#: Longitude/latitude box of Great Britain and Ireland with a margin (degrees).
DEGREE_BOUNDS = (-11.0, 49.0, 3.0, 61.5)
#: No area coterminus handles has this many people (England: about 56.5 million in 2019).
MAX_POPULATION = 100_000_000

CRSGuess = Literal["bng", "degrees"]


# ----------------------------------------------------------------------------------------------
# CRS
# ----------------------------------------------------------------------------------------------
def crs_problem(crs: Any) -> Literal["missing_crs", "geographic_crs"] | None:
    """Classify a CRS for area work: ``"missing_crs"``, ``"geographic_crs"`` or ``None`` (fine).

    Examples
    --------
    >>> from pyproj import CRS
    >>> crs_problem(None), crs_problem(CRS(4326)), crs_problem(CRS(27700))
    ('missing_crs', 'geographic_crs', None)
    """
    if crs is None:
        return "missing_crs"
    if not crs.is_projected:
        return "geographic_crs"
    return None


def require_metric_crs(gdf: gpd.GeoDataFrame, what: str, *, purpose: str = "areas") -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in a projected CRS (metres).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
    what : str
        How to name the layer in the message (``"units"``, ``"areas"``...).
    purpose : str, default "areas"
        What would be wrong (``"areas"``, ``"shared lengths"``, ``"simplification tolerances"``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(-1.6, 52.2, -1.2, 52.6)], crs=4326)
    >>> require_metric_crs(g, "units")
    Traceback (most recent call last):
    ...
    coterminus.errors.CRSError: units are in EPSG:4326 (degrees), so areas would be wrong; reproject with `units.to_crs(27700)`.
    """
    problem = crs_problem(gdf.crs)
    if problem == "missing_crs":
        guess = _guess_text(gdf)
        msg = (
            f"{what} have no CRS, so {purpose} would be meaningless{guess}; set it, e.g. "
            f"`{what}.set_crs(27700)` for British National Grid metres, then reproject anything "
            "else with `.to_crs(27700)`."
        )
        raise CRSError(msg)
    if problem == "geographic_crs":
        msg = (
            f"{what} are in {crs_name(gdf.crs)} (degrees), so {purpose} would be wrong; "
            f"reproject with `{what}.to_crs(27700)`."
        )
        raise CRSError(msg)


def guess_crs(bounds: Sequence[float]) -> CRSGuess | None:
    """Say what coordinates with these bounds look like: BNG metres, degrees, or neither.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy)

    Returns
    -------
    {"bng", "degrees"} or None

    Notes
    -----
    ``"degrees"`` when the box lies inside :data:`DEGREE_BOUNDS` (longitude −11…3, latitude
    49…61.5: Great Britain and Ireland); ``"bng"`` when it lies inside :data:`BNG_BOUNDS` and
    spans more than 1 km or lies more than 1 km from the origin (so that a degree box near
    (0, 0) is never taken for metres). Anything else (web-mercator, NaN, another country) is
    ``None``: coterminus says it cannot tell.

    Examples
    --------
    >>> guess_crs((0, 0, 0.5, 0.5)) is None   # a tiny box at the origin: cannot tell
    True
    >>> guess_crs((-200_000, 6_500_000, -100_000, 6_600_000)) is None  # web mercator
    True
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return None
    lo_x, lo_y, hi_x, hi_y = DEGREE_BOUNDS
    if lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y:
        return "degrees"
    lo_x, lo_y, hi_x, hi_y = BNG_BOUNDS
    inside = lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y
    if inside and max(maxx - minx, maxy - miny, maxx, maxy) > 1_000:
        return "bng"
    return None


_HOW = {
    "bng": "British National Grid metres (EPSG:27700); pass crs=27700",
    "degrees": "longitude/latitude degrees (EPSG:4326); pass crs=4326",
}


def _guess_text(gdf: gpd.GeoDataFrame) -> str:
    if len(gdf) == 0:
        return ""
    guess = guess_crs(gdf.total_bounds)
    if guess is None:
        return ""
    return " (the coordinates look like " + _HOW[guess].split(";")[0] + ")"


def check_coordinates(
    gdf: gpd.GeoDataFrame, source: str, *, assumed: Any = None
) -> gpd.GeoDataFrame:
    """Give a layer its CRS, refusing coordinates that do not fit the CRS declared or assumed.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        As read from a file (its CRS is whatever the file declared, or GDAL assumed).
    source : str
        File name for messages.
    assumed : optional
        The ``crs=`` the caller passed: used when the file declares none, and when the file's
        declared CRS cannot be right for its coordinates (e.g. a GeoJSON without a ``crs``
        member, which GDAL reads as WGS 84, holding British National Grid metres).

    Returns
    -------
    geopandas.GeoDataFrame
        With a CRS (not yet reprojected).

    Raises
    ------
    CRSError
        No CRS and none assumed (the message says which CRS the coordinates look like and how
        to set it); a declared geographic CRS whose coordinates are outside ±180°/±90°, or
        BNG declared for coordinates that are clearly degrees (unless ``assumed`` fixes it);
        ``assumed`` contradicting a declared CRS that fits the coordinates.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(430_000, 270_000, 440_000, 280_000)])
    >>> check_coordinates(g, "ccg.geojson")
    Traceback (most recent call last):
    ...
    coterminus.errors.CRSError: ccg.geojson has no CRS (no .prj, or no crs member), so areas and overlaps cannot be trusted. Its coordinates look like British National Grid metres (EPSG:27700); pass crs=27700 if so.
    >>> check_coordinates(g, "ccg.geojson", assumed=27700).crs.to_epsg()
    27700
    """
    bounds = gdf.total_bounds if len(gdf) else None
    guess = guess_crs(bounds) if bounds is not None else None
    if gdf.crs is None:
        if assumed is not None:
            return gdf.set_crs(assumed)
        msg = (
            f"{source} has no CRS (no .prj, or no crs member), so areas and overlaps cannot "
            "be trusted. "
        )
        if guess is not None:
            msg += f"Its coordinates look like {_HOW[guess]} if so."
        else:
            msg += (
                "Its coordinates look neither like British National Grid metres nor like "
                "degrees; pass crs= with the CRS they are in (crs=27700 for British National "
                "Grid metres, crs=4326 for longitude/latitude)."
            )
        raise CRSError(msg)
    declared = gdf.crs
    wrong = bounds is not None and _declared_is_impossible(bounds, declared)
    if assumed is not None:
        wanted = CRS.from_user_input(assumed)
        if wanted == declared:
            return gdf
        if wrong:
            return gdf.set_crs(wanted, allow_override=True)
        msg = f"{source} declares CRS {declared.to_string()} but crs={assumed!r} was passed; drop crs=."
        raise CRSError(msg)
    if wrong:
        looks = f"look like {_HOW[guess]}" if guess else "do not fit it; pass crs= with the CRS"
        msg = (
            f"{source} declares (or, for GeoJSON without a crs member, is assumed to be in) "
            f"{crs_name(declared)}, but its coordinates (bounds "
            f"{_fmt_bounds(bounds if bounds is not None else ())}) {looks} to override it."
        )
        raise CRSError(msg)
    return gdf


def _declared_is_impossible(bounds: Sequence[float], declared: Any) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return False
    if declared.is_geographic:
        return minx < -180.0 or maxx > 360.0 or miny < -90.0 or maxy > 90.0
    if declared.to_epsg() == BNG:
        return guess_crs((minx, miny, maxx, maxy)) == "degrees"
    return False


def _fmt_bounds(bounds: Sequence[float]) -> str:
    return "(" + ", ".join(f"{float(b):,.6g}" for b in bounds) + ")"


def crs_name(crs: Any) -> str:
    """``"EPSG:27700"``, or the CRS's name when it has no EPSG code.

    Examples
    --------
    >>> crs_name(CRS(4326))
    'EPSG:4326'
    """
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else str(crs.name)


# ----------------------------------------------------------------------------------------------
# populations
# ----------------------------------------------------------------------------------------------
def check_population_values(
    raw: pd.Series, codes: pd.Series | pd.Index, source: str, column: str
) -> np.ndarray:
    """Parse population values, refusing anything that is not a plausible count of people.

    Parameters
    ----------
    raw : pandas.Series of str
        The values as written (thousands separators ``,`` are allowed).
    codes : array-like of str
        The area code of each row, for the message.
    source, column : str
        File and column names, for the message.

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    PopulationError
        A value that is missing, not a number, infinite, negative, fractional, or at least
        :data:`MAX_POPULATION`; the message lists up to 10 offending rows (code = value, and the
        reason) and the fix.

    Notes
    -----
    A value v is accepted when it is finite, v ≥ 0, v = ⌊v⌋ and v < 10⁸. The bound is checked
    on the parsed float before any conversion to int64, so ``inf`` or ``1e30`` can never wrap
    round to −9,223,372,036,854,775,808.

    Examples
    --------
    >>> import pandas as pd
    >>> check_population_values(pd.Series(["1,636", "0"]), ["E01000001", "E01000002"], "p.csv", "ALL_AGES")
    array([1636,    0])
    >>> check_population_values(pd.Series(["inf", "1.5"]), ["E01000001", "E01000002"], "p.csv", "ALL_AGES")
    Traceback (most recent call last):
    ...
    coterminus.errors.PopulationError: p.csv: 2 population value(s) are not plausible counts of people in column 'ALL_AGES': E01000001='inf' (infinite), E01000002='1.5' (not a whole number). Every value must be a whole number of people from 0 to 99,999,999. Fix or drop those rows (or restore the published file: coterminus data fetch); coterminus will not guess populations.
    """
    text = raw.astype("string").str.strip()
    values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").astype(
        "float64"
    )
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    reason = np.full(len(arr), "", dtype=object)
    with np.errstate(invalid="ignore"):
        nan = np.isnan(arr)
        inf = np.isinf(arr)
        neg = ~nan & (arr < 0)
        big = ~nan & ~inf & (arr >= MAX_POPULATION)
        frac = ~nan & ~inf & ~neg & ~big & (arr != np.floor(arr))
    empty = text.isna().to_numpy() | (text.fillna("") == "").to_numpy()
    reason[nan & empty] = "missing"
    reason[nan & ~empty] = "not a number"
    reason[inf] = "infinite"
    reason[neg & ~inf] = "negative"
    reason[big] = f"not below {MAX_POPULATION:,}"
    reason[frac] = "not a whole number"
    bad = reason != ""
    if bad.any():
        code_arr = np.asarray(codes, dtype=object)
        raw_arr = raw.to_numpy(dtype=object)
        idx = np.flatnonzero(bad)
        shown = examples(f"{code_arr[i]}={raw_arr[i]!r} ({reason[i]})" for i in idx)
        msg = (
            f"{source}: {len(idx)} population value(s) are not plausible counts of people in "
            f"column {column!r}: {shown}. Every value must be a whole number of people "
            f"from 0 to {MAX_POPULATION - 1:,}. Fix or drop those rows (or restore the "
            "published file: coterminus data fetch); coterminus will not guess populations."
        )
        raise PopulationError(msg)
    return arr.astype(np.int64)


def check_positive_totals(
    totals: pd.Series, what: str, *, names: dict[str, str] | None = None
) -> None:
    """Refuse areas whose population is 0: a share of nobody is not a number.

    Parameters
    ----------
    totals : pandas.Series
        People per area (a unit, a target, a footprint), indexed by code.
    what : str
        What the areas are, for the message (``"footprint"``, ``"CCG"``, ``"local authority"``).
    names : dict, optional
        Code → name, to name the areas in the message.

    Raises
    ------
    PopulationError
        Some total is 0 (or not positive); the message names the areas and the fix.

    Notes
    -----
    Every share P(u, t) / P(u) needs P(u) > 0; without this check a footprint whose LSOAs all
    have 0 people gives "nan% is in ..." instead of an error.

    Examples
    --------
    >>> import pandas as pd
    >>> check_positive_totals(pd.Series({"E54000018": 1_000}), "footprint")
    >>> check_positive_totals(pd.Series({"E54000018": 0}), "footprint",
    ...                       names={"E54000018": "Coventry and Warwickshire"})
    Traceback (most recent call last):
    ...
    coterminus.errors.PopulationError: 1 footprint(s) have a population of 0: E54000018 (Coventry and Warwickshire), so every share of their people would be 0/0. The population file gives no one to their LSOAs; check it (coterminus data verify) or restore the published file (coterminus data fetch).
    """
    values = pd.to_numeric(totals, errors="coerce")
    bad = values[~(values > 0)]
    if len(bad) == 0:
        return
    names = names or {}
    items = [f"{c} ({names[c]})" if c in names else str(c) for c in bad.index]
    shown = examples(items)
    msg = (
        f"{len(bad)} {what}(s) have a population of 0: {shown}, so every share of their people "
        "would be 0/0. The population file gives no one to their LSOAs; check it (coterminus "
        "data verify) or restore the published file (coterminus data fetch)."
    )
    raise PopulationError(msg)


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------
def check_blocks(
    found: Iterable[str],
    *,
    count: int,
    digest: str,
    what: str,
    universe: Iterable[str] | None = None,
    population: pd.Series | None = None,
    fix: str = "use the complete ONS file (coterminus data fetch)",
) -> None:
    """Refuse a set of building blocks that is not exactly the known universe of a vintage.

    Parameters
    ----------
    found : iterable of str
        LSOA codes of a lookup or population file (England only).
    count, digest : int, str
        Size and :func:`coterminus.data.integrity.block_digest` of the universe.
    what : str
        The file, for the message (``"lsoa11_pop_mid2019_ew.csv"``).
    universe : iterable of str, optional
        The codes of the universe, to name the missing and extra ones.
    population : pandas.Series, optional
        People per LSOA (the other file's, or the published one), to say how many people the
        missing LSOAs hold.
    fix : str
        What to do, appended to the message.

    Raises
    ------
    LookupMismatchError
        The count or the digest differs; the message names up to 10 missing and 10 extra codes
        (when ``universe`` is given), the people left out, and the fix.

    Notes
    -----
    Equal count and equal SHA-256 of the sorted, newline-joined codes means the same set (up to
    a SHA-256 collision); a repeated code changes the digest too.

    Examples
    --------
    >>> from coterminus.data.integrity import block_digest
    >>> ref = ["E01000001", "E01000002", "E01000003"]
    >>> check_blocks(reversed(ref), count=3, digest=block_digest(ref), what="pop.csv")
    >>> check_blocks(ref[:2], count=3, digest=block_digest(ref), what="pop.csv", universe=ref)
    Traceback (most recent call last):
    ...
    coterminus.errors.LookupMismatchError: pop.csv does not hold the 3 LSOAs of its vintage (it has 2): 1 missing (E01000003), 0 extra; use the complete ONS file (coterminus data fetch).
    """
    codes = [str(c) for c in found]
    if len(codes) == count and block_digest(codes) == digest:
        return
    detail = f"{what} does not hold the {count:,} LSOAs of its vintage (it has {len(codes):,})"
    if universe is not None:
        ref = {str(c) for c in universe}
        have = set(codes)
        missing, extra = sorted(ref - have), sorted(have - ref)
        repeated = len(codes) - len(have)

        def listing(items: list[str]) -> str:
            return f" ({examples(items)})" if items else ""

        detail += (
            f": {len(missing):,} missing{listing(missing)}, {len(extra):,} extra{listing(extra)}"
        )
        if repeated:
            detail += f", {repeated:,} repeated"
        if population is not None and missing:
            lost = int(population.reindex(missing).fillna(0).sum())
            detail += f", leaving out {lost:,} people"
    else:
        detail += " or its codes differ (checksum of the sorted codes does not match)"
    msg = f"{detail}; {fix}."
    raise LookupMismatchError(msg)


# ----------------------------------------------------------------------------------------------
# geometry
# ----------------------------------------------------------------------------------------------
def overlapping_pairs(
    geoms: np.ndarray, *, min_area: float = 0.0, min_share: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of polygons whose interiors overlap by more than a tolerance.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        In a projected CRS (areas in m²).
    min_area : float, default 0
        A pair counts when its overlap area is greater than this (m²) ...
    min_share : float, default 0
        ... and greater than this share of the smaller polygon of the pair.

    Returns
    -------
    left, right : numpy.ndarray of int
        Positions i < j of each overlapping pair.
    area : numpy.ndarray of float
        A(g_i ∩ g_j) in m².

    Notes
    -----
    Candidates come from an ``STRtree`` self-query (``predicate="intersects"``), keeping i < j;
    pairs that only touch are dropped with DE-9IM ``2********`` (interiors meet in an area)
    before any intersection is computed, so neighbours sharing an edge cost one ``relate``.
    A pair is reported when A(g_i ∩ g_j) > ``min_area`` and
    A(g_i ∩ g_j) > ``min_share`` · min(A(g_i), A(g_j)).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> g = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(5, 0, 15, 10)])
    >>> left, right, area = overlapping_pairs(g)
    >>> left.tolist(), right.tolist(), area.tolist()
    ([0, 1], [2, 2], [50.0, 50.0])
    """
    geoms = np.asarray(geoms, dtype=object)
    empty = np.array([], dtype=np.intp)
    if len(geoms) < 2:
        return empty, empty, np.array([], dtype=float)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areal = shapely.relate_pattern(geoms[left], geoms[right], "2********")
    left, right = left[areal], right[areal]
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    big = (area > min_area) & (area > min_share * smaller)
    order = np.lexsort((right[big], left[big]))
    return left[big][order], right[big][order], area[big][order]


# ----------------------------------------------------------------------------------------------
# vintages
# ----------------------------------------------------------------------------------------------
def check_same_vintage(items: Sequence[tuple[str, int | None]]) -> int:
    """Raise :class:`VintageMismatchError` unless all given (what, vintage) pairs agree.

    Unknown vintages (``None`` or 0) agree with any. Returns the common vintage, 0 if none is
    known.

    Examples
    --------
    >>> check_same_vintage([("units", 2019), ("targets", None)])
    2019
    >>> check_same_vintage([("units", 2019), ("targets", 2024)])
    Traceback (most recent call last):
    ...
    coterminus.errors.VintageMismatchError: layers of different vintages combined (units: 2019, targets: 2024); load every layer of one vintage (e.g. coterminus.load(2019)).
    """
    known = [(w, v) for w, v in items if v]
    years = {v for _, v in known}
    if len(years) > 1:
        listing = ", ".join(f"{w}: {v}" for w, v in known)
        msg = (
            f"layers of different vintages combined ({listing}); load every layer of one "
            "vintage (e.g. coterminus.load(2019))."
        )
        raise VintageMismatchError(msg)
    return years.pop() if years else 0


def check_unique_codes(
    codes: Iterable[Any],
    source: str,
    fix: str,
    *,
    error: type[CoterminusError] = DuplicateCodeError,
) -> None:
    """Refuse codes listed more than once, naming the first ten of them and the fix.

    The one duplicate check of files, lookups and layers (``error`` is the type the caller's
    users catch: :class:`~coterminus.errors.DuplicateCodeError`, or
    :class:`~coterminus.errors.LookupMismatchError` for a lookup).

    Examples
    --------
    >>> check_unique_codes(["E1", "E2"], "lookup.csv", "list each once.")
    >>> check_unique_codes(["E1", "E2", "E1"], "lookup.csv", "list each once.")
    Traceback (most recent call last):
    ...
    coterminus.errors.DuplicateCodeError: lookup.csv: 1 duplicate code(s): E1. list each once.
    """
    index = pd.Index(list(codes) if not isinstance(codes, (pd.Index, pd.Series)) else codes)
    dup = index[index.duplicated()].unique()
    if len(dup):
        msg = f"{source}: {len(dup)} duplicate code(s): {examples(dup)}. {fix}"
        raise error(msg)


def empty_geometry(geoms: Any) -> np.ndarray:
    """Which geometries are missing (None) or empty: the one test of an area with no shape.

    Examples
    --------
    >>> empty_geometry([shapely.box(0, 0, 1, 1), None, shapely.Polygon()]).tolist()
    [False, True, True]
    """
    g = np.asarray(geoms, dtype=object)
    return np.asarray(shapely.is_missing(g) | shapely.is_empty(g), dtype=bool)
