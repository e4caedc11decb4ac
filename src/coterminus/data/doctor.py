"""Diagnose and repair the geometry of an ONS boundary layer before any overlap is computed.

:func:`doctor` lists every problem of a layer in one tidy table (one row per problem),
:func:`repair` fixes the only thing that can be fixed without a human decision (invalid
geometry), and :func:`raise_or_warn` turns a problem table into one typed error or one
:class:`~coterminus.errors.RepairWarning`, so loaders validate once at the boundary.

All spatial work is vectorised with shapely 2: validity with ``shapely.is_valid_reason``,
overlaps with an ``STRtree`` self-query followed by array-wise ``relate_pattern`` and
``intersection`` on the candidate pairs only, holes with ``get_interior_ring``. The 32,844
LSOA layer is checked in a few seconds.

Examples
--------
>>> import geopandas as gpd
>>> import pandas as pd
>>> from shapely import box
>>> layer = gpd.GeoDataFrame(
...     {"name": ["West", "East"]},
...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
...     index=pd.Index(["E06000001", "E06000002"], name="code"),
...     crs=27700,
... )
>>> doctor(layer).empty
True
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from coterminus.data._repair import (
    VALID,
    codes_and_geometries,
    listing,
    make_valid_polygonal,
    repair,
)
from coterminus.data.validate import BNG, crs_name, crs_problem, empty_geometry, overlapping_pairs
from coterminus.errors import (
    CRSError,
    DuplicateCodeError,
    EmptyDataError,
    FootprintError,
    OverlappingUnitsError,
    ParameterError,
    RepairWarning,
    VintageMismatchError,
)
from coterminus.vocabulary.levels import CODE_LEVELS, code_levels, describe_code, level_of

__all__ = ["CHECKS", "COLUMNS", "SEVERITIES", "doctor", "raise_or_warn", "repair"]

logger = logging.getLogger(__name__)

Check = Literal[
    "missing_crs",
    "geographic_crs",
    "empty_geometry",
    "duplicate_code",
    "overlap",
    "mixed_levels",
    "mixed_vintages",
    "invalid_geometry",
    "gap",
    "hole_filled_by_neighbour",
    "micro_gap",
]
Severity = Literal["fatal", "repairable", "info"]

#: Every check :func:`doctor` runs, in the order rows are sorted within a severity.
CHECKS: tuple[str, ...] = (
    "missing_crs",
    "geographic_crs",
    "empty_geometry",
    "duplicate_code",
    "overlap",
    "mixed_levels",
    "mixed_vintages",
    "invalid_geometry",
    "gap",
    "hole_filled_by_neighbour",
    "micro_gap",
)
#: Severities, most serious first (the sort order of :func:`doctor`'s table).
SEVERITIES: tuple[str, ...] = ("fatal", "repairable", "info")
#: Columns of the table returned by :func:`doctor`.
COLUMNS: tuple[str, ...] = (
    "check",
    "severity",
    "code",
    "other_code",
    "detail",
    "area_m2",
    "x",
    "y",
)

#: Share of a hole that neighbouring units must cover for it to count as filled.
_FILL_SHARE = 0.99
_POLYGON = 3
_LOCATION = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)")

# The order in which levels are tried when the layer does not say its level (first of the most
# common wins): as they first appear in the one table of code prefixes.
_LEVEL_ORDER = tuple(dict.fromkeys(lv for lvs in CODE_LEVELS.values() for lv in lvs))

_FIXES: dict[str, str] = {
    "missing_crs": (
        "set the CRS the coordinates are in, e.g. `layer.set_crs(27700)` for British National "
        "Grid metres, then reproject to EPSG:27700 if it is anything else"
    ),
    "geographic_crs": (
        "areas would be in square degrees; reproject with `layer.to_crs(27700)` "
        "(British National Grid, metres)"
    ),
    "empty_geometry": (
        "drop those rows (`layer[~(layer.geometry.is_empty | layer.geometry.isna())]`) "
        "or reload their boundaries from the source file"
    ),
    "duplicate_code": (
        "each ONS code must appear on one row; drop the repeats "
        "(`layer[~layer.index.duplicated()]`) or merge them (`layer.dissolve(level=0)`)"
    ),
    "overlap": (
        "units of one level must not overlap, or areas and populations are double counted; "
        "check the layer holds a single level and vintage, or use a layer built from whole "
        "LSOAs"
    ),
    "mixed_levels": (
        "keep the codes of one level only, e.g. `layer[layer.index.str.startswith('E38')]`, "
        "or set `layer.attrs['level']` to the level the codes belong to"
    ),
    "mixed_vintages": (
        "keep one vintage, e.g. `layer[layer['vintage'] == 2019]`, or load each vintage separately"
    ),
    "invalid_geometry": (
        "`layer, changes = coterminus.repair(layer)` (shapely.make_valid, polygonal parts kept), "
        "or load with `repair=True`"
    ),
    "gap": (
        "the hole belongs to no unit and counts as outside all of them; if the source should "
        "tile, add the missing unit or fill the ring (`coterminus.repair` does not fill gaps)"
    ),
}
# fatal check -> exception class, in the order of precedence when several are present.
_ERRORS: dict[str, type[ValueError]] = {
    "missing_crs": CRSError,
    "geographic_crs": CRSError,
    "empty_geometry": EmptyDataError,
    "duplicate_code": DuplicateCodeError,
    "overlap": OverlappingUnitsError,
    "mixed_vintages": VintageMismatchError,
    "mixed_levels": FootprintError,
}


# --- public API -------------------------------------------------------------------------------
def doctor(
    layer: gpd.GeoDataFrame,
    *,
    code_col: str | None = None,
    gap_tolerance_m2: float = 1.0,
    overlap_tolerance_m2: float = 1.0,
) -> pd.DataFrame:
    """List every geometry and metadata problem of a boundary layer, one row per problem.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Boundary layer as produced by the coterminus readers: indexed by ONS code, geometry in
        EPSG:27700; ``attrs`` may hold ``level`` (a level name or word of
        :mod:`coterminus.vocabulary.levels`: ``"ccg"``, ``"icb"``, ``"lad"``/``"ltla"``, ``"utla"``,
        ``"lsoa"``...) and ``vintage``. Not modified.
    code_col : str, optional
        Column holding the ONS codes; by default the index is used.
    gap_tolerance_m2 : float, default 1.0
        Interior rings smaller than this are reported as ``micro_gap`` (info) and not analysed.
    overlap_tolerance_m2 : float, default 1.0
        Two units whose intersection is larger than this are reported as ``overlap`` (fatal).

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``severity``, ``code``, ``other_code``, ``detail``, ``area_m2``,
        ``x``, ``y``; sorted by severity (fatal, repairable, info), then by check (in the order
        of :data:`CHECKS`), then by code. Empty, with these columns, when the layer is clean.
        ``x``/``y`` locate the problem in the CRS of ``layer`` (NaN when it has no location).

    Raises
    ------
    TypeError
        If ``layer`` is not a GeoDataFrame.
    ParameterError
        If a tolerance is negative or not finite.
    ColumnError
        If ``code_col`` is not a column of ``layer``.

    Notes
    -----
    Checks and severities (``A`` is area in m², in EPSG:27700; a geographic layer is projected
    to EPSG:27700 for the area checks, and a layer without a CRS skips them):

    * ``missing_crs`` (fatal): ``layer.crs is None``.
    * ``geographic_crs`` (fatal): the CRS is in degrees, so areas would be too.
    * ``empty_geometry`` (fatal): geometry missing or empty (one row with no code when the
      layer has no rows at all).
    * ``duplicate_code`` (fatal): a code on more than one row (one problem row per code).
    * ``overlap`` (fatal): for each pair :math:`i < j` returned by an ``STRtree`` query of the
      layer against itself (``predicate="intersects"``) whose interiors meet in an area
      (DE-9IM ``2********``), :math:`A(g_i \\cap g_j) >` ``overlap_tolerance_m2``. Slivers at or
      below the tolerance are ignored (the LSOA source has a few of ~0.007 m²).
    * ``mixed_levels`` (fatal): each code prefix maps to the levels it can belong to
      (:data:`coterminus.vocabulary.levels.CODE_LEVELS`: E01 lsoa11 or lsoa21; E06, E08, E09 ltla or
      utla; E07 ltla; E10 utla; E38 ccg or sicbl; E40 nhser; E47 cauth; E54 stp or icb). A
      code is flagged when its levels exclude ``attrs['level']``, or, without a known level, exclude
      the level shared by most codes. Fatal because rows of two levels nest inside each
      other (a county and its districts, a CCG and its STP), so any sum over the layer double
      counts. Unknown prefixes and unknown ``attrs['level']`` values are not judged.
    * ``mixed_vintages`` (fatal): a ``vintage`` column with more than one value (or values
      other than ``attrs['vintage']``); rows not of the expected vintage are flagged. Fatal
      because boundaries of two vintages overlap and codes change meaning between them.
    * ``invalid_geometry`` (repairable): ``shapely.is_valid_reason(g) != "Valid Geometry"``;
      ``detail`` is the GEOS reason and ``x``/``y`` the location GEOS reports.
    * For every interior ring :math:`h` of every polygon (of the made-valid geometry), with
      the filled share :math:`s(h) = \\sum_k A(h \\cap g_k) / A(h)` over the units
      :math:`g_k` (including islands of the unit itself) that intersect it:

      - ``micro_gap`` (info): :math:`A(h) <` ``gap_tolerance_m2`` (dissolve noise);
      - ``hole_filled_by_neighbour`` (info): :math:`s(h) \\ge 0.99`; ``other_code`` is the
        unit covering most of it (e.g. Cambridge in the hole of South Cambridgeshire);
      - ``gap`` (repairable): :math:`s(h) < 0.99`; ``area_m2`` is the uncovered part
        :math:`A(h)(1 - s(h))`.

    Gaps enclosed by several units (rather than by one unit's ring) are not detected.

    Examples
    --------
    Two 10 m squares overlapping by a 5 × 10 m strip::

        +-----+--+-----+
        | E1  |50| E2  |
        +-----+--+-----+

    >>> import geopandas as gpd
    >>> import pandas as pd
    >>> from shapely import box
    >>> layer = gpd.GeoDataFrame(
    ...     {"name": ["A", "B"]},
    ...     geometry=[box(0, 0, 10, 10), box(5, 0, 15, 10)],
    ...     index=pd.Index(["E06000001", "E06000002"], name="code"),
    ...     crs=27700,
    ... )
    >>> problems = doctor(layer)
    >>> problems[["check", "severity", "code", "other_code", "area_m2", "x", "y"]]
         check severity       code other_code  area_m2    x    y
    0  overlap    fatal  E06000001  E06000002     50.0  7.5  5.0
    """
    codes, geoms = codes_and_geometries(layer, code_col)
    _check_tolerance("gap_tolerance_m2", gap_tolerance_m2)
    _check_tolerance("overlap_tolerance_m2", overlap_tolerance_m2)
    rows: list[dict[str, Any]] = []

    crs = layer.crs
    metric = geoms
    problem = crs_problem(crs)
    if problem == "missing_crs":
        rows.append(
            _row(
                "missing_crs",
                "fatal",
                detail=(
                    "layer has no CRS, so areas cannot be trusted; the overlap and gap checks "
                    "were skipped"
                ),
            )
        )
    elif problem == "geographic_crs":
        rows.append(
            _row(
                "geographic_crs",
                "fatal",
                detail=(
                    f"layer is in {crs_name(crs)} (degrees); overlap and gap checks ran on a "
                    "copy projected to EPSG:27700"
                ),
            )
        )
        metric = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(BNG).array, dtype=object)

    if len(layer) == 0:
        rows.append(_row("empty_geometry", "fatal", detail="layer has no rows"))
    missing = empty_geometry(geoms)
    rows += [
        _row("empty_geometry", "fatal", code=c, detail="geometry is missing or empty")
        for c in codes[missing]
    ]
    rows += _duplicate_rows(codes)
    rows += _level_rows(codes, layer.attrs.get("level"))
    rows += _vintage_rows(layer, codes)

    reasons = shapely.is_valid_reason(geoms)
    invalid = ~missing & (reasons != VALID)
    for c, reason in zip(codes[invalid], reasons[invalid], strict=True):
        x, y = _reason_location(reason)
        rows.append(_row("invalid_geometry", "repairable", code=c, detail=reason, x=x, y=y))

    if crs is not None:
        work = metric.copy()
        # reprojection can (rarely) break validity, so re-check the projected copy
        broken = invalid if metric is geoms else ~missing & ~shapely.is_valid(metric)
        work[broken] = make_valid_polygonal(metric[broken], geoms[broken])
        keep = np.flatnonzero(~missing)
        spatial = _overlap_rows(work[keep], codes[keep], overlap_tolerance_m2)
        spatial += _hole_rows(work[keep], codes[keep], gap_tolerance_m2)
        if problem == "geographic_crs":
            _to_layer_crs(spatial, crs)
        rows += spatial

    return _table(rows)


def raise_or_warn(problems: pd.DataFrame, what: str = "layer", *, stacklevel: int = 2) -> None:
    """Raise one typed error for fatal problems, else warn once about repairable ones.

    Parameters
    ----------
    problems : pandas.DataFrame
        Table returned by :func:`doctor`.
    what : str, default "layer"
        How to name the layer in messages, e.g. ``"ons_2019.gpkg layer 'ccg'"``.
    stacklevel : int, default 2
        Passed to :func:`warnings.warn`; loaders calling this should pass 3.

    Raises
    ------
    CRSError
        Missing or geographic CRS (takes precedence when several kinds of problem are fatal).
    EmptyDataError
        Empty or missing geometries.
    DuplicateCodeError
        A code on several rows.
    OverlappingUnitsError
        Units overlap by more than the tolerance.
    VintageMismatchError
        Several vintages in one layer.
    FootprintError
        Codes of several levels in one layer.

    Warns
    -----
    RepairWarning
        When there is no fatal problem but some repairable ones (invalid geometry, gaps).

    Notes
    -----
    Every fatal problem is listed in the one message, whatever the exception class, which
    is chosen by precedence: CRS > empty > duplicate > overlap > vintage > level. Each kind
    names at most 10 codes ("... and N more") and its fix. ``info`` rows are only logged.

    Examples
    --------
    >>> import pandas as pd
    >>> problems = pd.DataFrame(
    ...     {"check": ["duplicate_code"], "severity": ["fatal"], "code": ["E06000001"],
    ...      "other_code": [None], "detail": ["appears on 2 rows"], "area_m2": [float("nan")],
    ...      "x": [float("nan")], "y": [float("nan")]}
    ... )
    >>> raise_or_warn(problems, "ccg layer")
    Traceback (most recent call last):
    ...
    coterminus.errors.DuplicateCodeError: ccg layer has 1 fatal problem:
      - duplicate_code: 1 code on more than one row: E06000001 (appears on 2 rows). Fix: ...
    >>> raise_or_warn(problems.iloc[0:0])  # nothing to report: returns None
    """
    fatal = problems[problems["severity"] == "fatal"]
    repairable = problems[problems["severity"] == "repairable"]
    info = problems[problems["severity"] == "info"]
    if len(info):
        counts = info["check"].value_counts()
        logger.info("%s: %s", what, ", ".join(f"{n} {c}" for c, n in counts.items()) + " (info)")
    if len(fatal):
        kinds = list(dict.fromkeys(fatal["check"]))
        cls = next((_ERRORS[k] for k in _ERRORS if k in kinds), ValueError)
        lines = [f"{what} has {_plural(len(fatal), 'fatal problem')}:"]
        lines += [_summary_line(k, fatal[fatal["check"] == k]) for k in _ordered(kinds)]
        if len(repairable):
            lines.append(
                f"  (also {_plural(len(repairable), 'repairable problem')}: "
                + ", ".join(f"{n} {c}" for c, n in repairable["check"].value_counts().items())
                + ")"
            )
        msg = "\n".join(lines)
        raise cls(msg)
    if len(repairable):
        kinds = _ordered(list(dict.fromkeys(repairable["check"])))
        lines = [
            f"{what} has {_plural(len(repairable), 'repairable problem')} (nothing was changed):"
        ]
        lines += [_summary_line(k, repairable[repairable["check"] == k]) for k in kinds]
        msg = "\n".join(lines)
        warnings.warn(msg, RepairWarning, stacklevel=stacklevel)


# --- input handling ---------------------------------------------------------------------------
def _check_tolerance(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        msg = f"{name} must be a finite number of square metres >= 0, got {value!r}"
        raise ParameterError(msg)


# --- non-spatial checks -----------------------------------------------------------------------
def _duplicate_rows(codes: np.ndarray) -> list[dict[str, Any]]:
    uniq, inverse, counts = np.unique(codes.astype(str), return_inverse=True, return_counts=True)
    rows = []
    for k in np.flatnonzero(counts > 1):
        positions = np.flatnonzero(inverse == k)
        shown = ", ".join(map(str, positions[:10])) + (" ..." if len(positions) > 10 else "")
        rows.append(
            _row(
                "duplicate_code",
                "fatal",
                code=str(uniq[k]),
                detail=f"appears on {counts[k]} rows (positions {shown})",
            )
        )
    return rows


def _attrs_level(level: Any) -> str | None:
    """The level ``attrs['level']`` names (``"lad_ons_buc"``: ltla, ``"ccg19"``: ccg) or None."""
    if level is None:
        return None
    text = str(level).strip().lower()
    stem = text.split("_")[0]
    for candidate in (text, stem, text.rstrip("0123456789"), stem.rstrip("0123456789")):
        if candidate and (found := level_of(candidate)) is not None:
            return found
    return None


def _level_rows(codes: np.ndarray, attrs_level: Any) -> list[dict[str, Any]]:
    levels_of = [code_levels(c) for c in codes]
    known = [i for i, lvs in enumerate(levels_of) if lvs]
    if not known:
        return []
    target = _attrs_level(attrs_level)
    if target is not None:
        reason = f"but attrs['level'] is {attrs_level!r}"
    else:
        fits = {lv: sum(lv in levels_of[i] for i in known) for lv in _LEVEL_ORDER}
        target = max(_LEVEL_ORDER, key=lambda lv: fits[lv])  # first of the most common
        if fits[target] == len(known):
            return []
        reason = f"but most codes of the layer ({fits[target]} of {len(known)}) are {target}"
    rows = []
    for i in known:
        if target not in levels_of[i]:
            kind = f"{describe_code(codes[i])}, a code of {' or '.join(levels_of[i])}"
            detail = f"{codes[i]} is {kind}, {reason}"
            rows.append(_row("mixed_levels", "fatal", code=codes[i], detail=detail))
    return rows


def _vintage_rows(layer: gpd.GeoDataFrame, codes: np.ndarray) -> list[dict[str, Any]]:
    if "vintage" not in layer.columns:
        return []
    values = layer["vintage"].astype("object").where(layer["vintage"].notna(), None)
    text = np.array([None if v is None else str(v) for v in values], dtype=object)
    present = [t for t in text if t is not None]
    distinct = sorted(set(present))
    expected = layer.attrs.get("vintage")
    if expected is not None:
        target, why = str(expected), f"attrs['vintage'] is {expected!r}"
        if set(distinct) <= {target}:
            return []
    else:
        if len(distinct) <= 1:
            return []
        target = max(distinct, key=present.count)
        why = f"most rows ({present.count(target)} of {len(present)}) are {target}"
    return [
        _row(
            "mixed_vintages",
            "fatal",
            code=c,
            detail=f"vintage {t} among {_plural(len(distinct), 'vintage')} "
            f"({', '.join(distinct)}); {why}",
        )
        for c, t in zip(codes, text, strict=True)
        if t is not None and t != target
    ]


def _reason_location(reason: str) -> tuple[float, float]:
    match = _LOCATION.search(reason)
    if match is None:
        return math.nan, math.nan
    try:
        return float(match.group(1)), float(match.group(2))
    except ValueError:
        return math.nan, math.nan


# --- geometry ---------------------------------------------------------------------------------
def _overlap_rows(geoms: np.ndarray, codes: np.ndarray, tolerance: float) -> list[dict[str, Any]]:
    left, right, area = overlapping_pairs(geoms, min_area=tolerance)
    inter = shapely.intersection(geoms[left], geoms[right])
    # report each pair as (smaller code, larger code) so the table does not depend on row order
    swap = codes[left].astype(str) > codes[right].astype(str)
    left, right = np.where(swap, right, left), np.where(swap, left, right)
    points = shapely.point_on_surface(inter)
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    share_l = area / shapely.area(geoms[left])
    share_r = area / shapely.area(geoms[right])
    return [
        _row(
            "overlap",
            "fatal",
            code=codes[i],
            other_code=codes[j],
            detail=f"{_share(sl)} of {codes[i]} and {_share(sr)} of {codes[j]} overlap",
            area_m2=a,
            x=x,
            y=y,
        )
        for i, j, a, sl, sr, x, y in zip(left, right, area, share_l, share_r, xs, ys, strict=True)
    ]


def _hole_rows(geoms: np.ndarray, codes: np.ndarray, tolerance: float) -> list[dict[str, Any]]:
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polys = shapely.get_type_id(parts) == _POLYGON
    parts, owner = parts[polys], owner[polys]
    n_rings = shapely.get_num_interior_rings(parts)
    if n_rings.sum() == 0:
        return []
    part_of_hole = np.repeat(np.arange(len(parts)), n_rings)
    ring_no = np.arange(len(part_of_hole)) - np.repeat(np.cumsum(n_rings) - n_rings, n_rings)
    holes = shapely.polygons(shapely.get_interior_ring(parts[part_of_hole], ring_no))
    owner = owner[part_of_hole]
    area = shapely.area(holes)
    points = shapely.point_on_surface(holes)
    xs, ys = shapely.get_x(points), shapely.get_y(points)

    rows = [
        _row(
            "micro_gap",
            "info",
            code=codes[owner[k]],
            detail=f"interior ring of {_area(area[k])} (< gap_tolerance_m2={tolerance:g})",
            area_m2=area[k],
            x=xs[k],
            y=ys[k],
        )
        for k in np.flatnonzero(area < tolerance)
    ]
    big = np.flatnonzero(area >= tolerance)
    if len(big) == 0:
        return rows
    hole_k, unit = shapely.STRtree(geoms).query(holes[big], predicate="intersects")
    covered = shapely.area(shapely.intersection(holes[big][hole_k], geoms[unit]))
    fill = pd.DataFrame({"hole": hole_k, "unit": unit, "covered": covered})
    fill = fill[fill["covered"] > 0].sort_values(["hole", "covered"], ascending=[True, False])
    by_hole = dict(list(fill.groupby("hole", sort=False)))
    for pos, k in enumerate(big):
        g = by_hole.get(pos)
        share = 0.0 if g is None else min(float(g["covered"].sum()) / area[k], 1.0)
        fillers = (
            []
            if g is None
            else [
                f"{codes[u]} ({c / area[k]:.1%})"
                for u, c in zip(g["unit"], g["covered"], strict=True)
            ]
        )
        top = None if g is None else codes[int(g["unit"].iloc[0])]
        if share >= _FILL_SHARE:
            rows.append(
                _row(
                    "hole_filled_by_neighbour",
                    "info",
                    code=codes[owner[k]],
                    other_code=top,
                    detail=f"hole of {_area(area[k])} filled by " + ", ".join(fillers[:5]),
                    area_m2=area[k],
                    x=xs[k],
                    y=ys[k],
                )
            )
        else:
            by = f": covered by {', '.join(fillers[:5])}" if fillers else ""
            rows.append(
                _row(
                    "gap",
                    "repairable",
                    code=codes[owner[k]],
                    other_code=top,
                    detail=f"hole of {_area(area[k])}, {share:.1%} covered by other units{by}",
                    area_m2=area[k] * (1.0 - share),
                    x=xs[k],
                    y=ys[k],
                )
            )
    return rows


def _to_layer_crs(rows: list[dict[str, Any]], crs: Any) -> None:
    """Reproject the x/y of rows computed in EPSG:27700 back to ``crs`` (in place)."""
    if not rows:
        return
    transformer = Transformer.from_crs(BNG, crs, always_xy=True)
    xs, ys = transformer.transform([r["x"] for r in rows], [r["y"] for r in rows])
    for r, x, y in zip(rows, np.atleast_1d(xs), np.atleast_1d(ys), strict=True):
        r["x"], r["y"] = float(x), float(y)


# --- table and messages -----------------------------------------------------------------------
def _row(
    check: str,
    severity: str,
    *,
    code: str | None = None,
    other_code: str | None = None,
    detail: str = "",
    area_m2: float = math.nan,
    x: float = math.nan,
    y: float = math.nan,
) -> dict[str, Any]:
    return {
        "check": check,
        "severity": severity,
        "code": None if code is None else str(code),
        "other_code": None if other_code is None else str(other_code),
        "detail": detail,
        "area_m2": float(area_m2),
        "x": float(x),
        "y": float(y),
    }


def _table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for col in ("check", "severity", "code", "other_code", "detail"):
        table[col] = table[col].astype("str")  # missing codes stay NaN
    table = table.astype({"area_m2": "float64", "x": "float64", "y": "float64"})
    if table.empty:
        return table.reset_index(drop=True)
    rank_s = table["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    rank_c = table["check"].map({c: i for i, c in enumerate(CHECKS)})
    order = np.lexsort(
        (
            table["other_code"].fillna("").to_numpy(dtype=str),
            table["code"].fillna("").to_numpy(dtype=str),
            rank_c.to_numpy(),
            rank_s.to_numpy(),
        )
    )
    return table.iloc[order].reset_index(drop=True)


def _ordered(kinds: list[str]) -> list[str]:
    return sorted(kinds, key=lambda k: CHECKS.index(k) if k in CHECKS else len(CHECKS))


def _summary_line(check: str, rows: pd.DataFrame) -> str:
    n = len(rows)
    if check in ("missing_crs", "geographic_crs"):
        head = f"{check}: {rows['detail'].iloc[0]}"
    elif check == "overlap":
        ordered = rows.sort_values("area_m2", ascending=False)
        items = [
            f"{c}/{o} ({_area(a)})"
            for c, o, a in zip(
                ordered["code"], ordered["other_code"], ordered["area_m2"], strict=True
            )
        ]
        head = f"overlap: {_plural(n, 'pair')} of units overlap: {listing(items)}"
    elif check == "duplicate_code":
        items = [
            f"{c} ({d.split(' (')[0]})" for c, d in zip(rows["code"], rows["detail"], strict=True)
        ]
        head = f"duplicate_code: {_plural(n, 'code')} on more than one row: {listing(items)}"
    elif check == "invalid_geometry":
        items = [f"{c} ({d})" for c, d in zip(rows["code"], rows["detail"], strict=True)]
        head = f"invalid_geometry: {_plural(n, 'invalid geometry', 'invalid geometries')}: "
        head += listing(items)
    elif check == "gap":
        items = [f"{c} ({_area(a)})" for c, a in zip(rows["code"], rows["area_m2"], strict=True)]
        head = f"gap: {_plural(n, 'hole')} not filled by any unit: {listing(items)}"
    elif check == "empty_geometry":
        units = rows["code"].dropna()
        head = f"empty_geometry: {_plural(len(units), 'unit')} without geometry: {listing(units)}"
        if len(units) < n:
            head = "empty_geometry: the layer has no rows"
    else:
        items = [f"{c} ({d})" for c, d in zip(rows["code"], rows["detail"], strict=True)]
        head = f"{check}: {_plural(n, 'code')}: {listing(items)}"
    fix = _FIXES.get(check)
    return f"  - {head}." + (f" Fix: {fix}." if fix else "")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _area(a: float) -> str:
    return f"{a / 1e6:,.1f} km²" if a >= 1e5 else f"{a:,.4g} m²"


def _share(s: float) -> str:
    return f"{s:.1%}" if s >= 0.001 else f"{s * 100:.2g}%"
