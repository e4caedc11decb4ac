"""Display geometry: topology-preserving simplification, reprojection and size estimates.

Boundaries are simplified **once per layer**, as a coverage, in metres (EPSG:27700), with
``shapely.coverage_simplify`` (shapely ≥ 2.1, GEOS ≥ 3.12): edges shared by two neighbours are
simplified once, so neighbours still touch after simplification — no gaps, no overlaps, no
slivers drawn between councils. Only then are the polygons reprojected to WGS 84 (EPSG:4326)
for the web map and their coordinates rounded (6 decimal places ≈ 0.1 m).

Outlines that are unions of a layer's polygons (a footprint = its member CCGs, a merged CCG =
its block) are built with ``shapely.coverage_union_all`` *from the simplified members*, so the
outline lies exactly on the member edges.

This simplification is for display only; every figure (population, shares, verdicts) comes
from the unsimplified data.

Examples
--------
Two unit squares side by side (a 2 × 1 coverage, metres):

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> g = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[box(0, 0, 1000, 1000),
...                      box(1000, 0, 2000, 1000)], crs=27700, index=["A", "B"])
>>> s = simplify_coverage(g, 50)
>>> bool(s.geometry.iloc[0].touches(s.geometry.iloc[1]))
True
>>> d = to_display(s)
>>> d.crs.to_epsg(), round(float(d.geometry.iloc[0].bounds[0]), 2)
(4326, -7.56)
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from ..data.validate import require_metric_crs
from ..errors import CoterminusWarning, MissingDependencyError, ParameterError

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = [
    "BYTES_PER_COORDINATE",
    "auto_tolerance",
    "estimate_geojson_bytes",
    "simplified_layer",
    "simplify_coverage",
    "to_display",
    "union_groups",
    "warn_if_large",
]

log = logging.getLogger(__name__)

#: Bytes one ``[lon, lat]`` pair takes in a page at 6 decimal places (``[-1.234567, 52.123456], ``).
BYTES_PER_COORDINATE = 24

#: Smallest and largest automatic tolerances (metres).
_AUTO_MIN_M = 50.0
_AUTO_MAX_M = 250.0


def _require_coverage_simplify() -> Any:
    func = getattr(shapely, "coverage_simplify", None)
    if func is None:  # pragma: no cover - shapely < 2.1
        msg = (
            f"shapely {shapely.__version__} has no coverage_simplify (needs shapely ≥ 2.1 with "
            "GEOS ≥ 3.12), which maps use to simplify boundaries without gaps; upgrade with "
            "pip install 'shapely>=2.1', or pass simplify_m=None to draw unsimplified boundaries."
        )
        raise MissingDependencyError(msg)
    return func


def _check_metric(gdf: gpd.GeoDataFrame) -> None:
    require_metric_crs(gdf, "layer", purpose="simplification tolerances (metres)")


def simplify_coverage(gdf: gpd.GeoDataFrame, tolerance_m: float | None) -> gpd.GeoDataFrame:
    """Simplify a polygon coverage (a layer whose polygons do not overlap) in metres.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons in a projected CRS in metres (EPSG:27700).
    tolerance_m : float or None
        Simplification tolerance in metres (the area of the triangle a removed vertex makes is
        compared with ``tolerance_m²``, Visvalingam–Whyatt on each shared edge). ``None`` or
        ``0`` returns a copy unchanged.

    Returns
    -------
    geopandas.GeoDataFrame
        Same index, columns and CRS; shared edges are simplified once, so neighbours touch.

    Raises
    ------
    CRSError
        The layer is not in a projected CRS.
    ParameterError
        ``tolerance_m`` is negative.

    Notes
    -----
    If GEOS rejects the layer as a coverage (e.g. invalid polygons), each polygon is simplified
    on its own with ``preserve_topology=True`` instead, and a message is logged.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Polygon
    >>> wiggly = Polygon([(0, 0), (500, 10), (1000, 0), (1000, 1000), (0, 1000)])
    >>> g = gpd.GeoDataFrame(geometry=[wiggly], crs=27700)
    >>> len(simplify_coverage(g, 100).geometry.iloc[0].exterior.coords)
    5
    >>> len(simplify_coverage(g, None).geometry.iloc[0].exterior.coords)
    6
    """
    _check_metric(gdf)
    if tolerance_m is None or tolerance_m == 0:
        return gdf.copy()
    if tolerance_m < 0 or not math.isfinite(tolerance_m):
        msg = f"simplify_m={tolerance_m!r}; give a tolerance in metres ≥ 0 (e.g. 50), or None."
        raise ParameterError(msg)
    func = _require_coverage_simplify()
    geoms = gdf.geometry.to_numpy()
    try:
        simple = func(geoms, float(tolerance_m))
    except shapely.errors.GEOSException as exc:  # not a valid coverage
        log.info("coverage_simplify failed (%s); simplifying polygons one by one", exc)
        simple = shapely.simplify(geoms, float(tolerance_m), preserve_topology=True)
    out = gdf.copy()
    out.geometry = gpd.GeoSeries(simple, index=gdf.index, crs=gdf.crs)
    return out


def simplified_layer(geo: Geography, level: str, tolerance_m: float | None) -> gpd.GeoDataFrame:
    """A whole layer of a loaded vintage, simplified for display once and remembered.

    The result is kept in the bundle's memo, keyed by level and tolerance, so maps of several
    footprints of one vintage simplify each layer only once.
    """
    key = ("coterminus.display", level, tolerance_m)
    result: gpd.GeoDataFrame = geo.memo(
        key, lambda: simplify_coverage(geo.layer(level), tolerance_m)
    )
    return result


def union_groups(simplified: gpd.GeoDataFrame, groups: dict[str, list[str]]) -> gpd.GeoSeries:
    """Outline of each group of a simplified coverage (e.g. CCG blocks), one geometry per group.

    ``shapely.coverage_union_all`` dissolves the shared edges exactly, so the outline lies on
    the member edges.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], index=["a", "b"],
    ...                      crs=27700)
    >>> union_groups(g, {"F": ["a", "b"]}).area.tolist()
    [2.0]
    """
    geoms = []
    for codes in groups.values():
        parts = simplified.geometry.loc[list(codes)].to_numpy()
        try:
            merged = shapely.coverage_union_all(parts)
        except shapely.errors.GEOSException:  # pragma: no cover - not a coverage
            merged = shapely.union_all(parts)
        geoms.append(merged)
    return gpd.GeoSeries(geoms, index=list(groups), crs=simplified.crs)


def _round_coords(geoms: np.ndarray, precision: int) -> np.ndarray:
    rounded: np.ndarray = shapely.transform(geoms, lambda xy: np.round(xy, precision))
    return rounded


def to_display(gdf: gpd.GeoDataFrame, *, precision: int = 6) -> gpd.GeoDataFrame:
    """Reproject to WGS 84 (EPSG:4326) and round coordinates to ``precision`` decimal places.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(432000, 279000)], crs=27700)
    >>> lon, lat = to_display(g).geometry.iloc[0].coords[0]
    >>> round(lon, 2), round(lat, 2), lon == round(lon, 6)
    (-1.53, 52.41, True)
    """
    out = gdf.to_crs(4326)
    out.geometry = gpd.GeoSeries(
        _round_coords(out.geometry.to_numpy(), precision), index=out.index, crs=out.crs
    )
    return out


def auto_tolerance(bounds: tuple[float, float, float, float] | np.ndarray) -> float:
    """Tolerance (metres) for a map of this extent (EPSG:27700 bounds).

    50 m for a system (up to ~200 km across), growing with the extent to 250 m, so that a map
    of all England stays under 5 MB: tolerance = clip(diagonal / 4000, 50, 250), rounded to 10 m.

    Examples
    --------
    >>> auto_tolerance((400000, 230000, 480000, 320000))   # a system, ~120 km across
    50.0
    >>> auto_tolerance((82000, 5000, 656000, 658000))      # England
    220.0
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    diag = math.hypot(maxx - minx, maxy - miny)
    tol = min(max(diag / 4000.0, _AUTO_MIN_M), _AUTO_MAX_M)
    return float(round(tol, -1))


def estimate_geojson_bytes(geoms: gpd.GeoSeries | np.ndarray) -> int:
    """Rough size in the page of these geometries as GeoJSON (``BYTES_PER_COORDINATE`` each).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> estimate_geojson_bytes(np.array([box(0, 0, 1, 1)]))
    120
    """
    arr = np.asarray(geoms.to_numpy() if hasattr(geoms, "to_numpy") else geoms)
    return int(shapely.get_num_coordinates(arr).sum()) * BYTES_PER_COORDINATE


def warn_if_large(nbytes: int, *, limit: int, simplify_m: float | None, what: str) -> None:
    """Warn (``CoterminusWarning``) when a map's geometry is expected to exceed ``limit`` bytes."""
    if nbytes <= limit:
        return
    fix = (
        "pass simplify_m=50 (metres) or 'auto' to simplify boundaries for display"
        if not simplify_m
        else f"pass a larger simplify_m than {simplify_m:g} m, or draw fewer layers (tier='utla')"
    )
    msg = (
        f"{what} will be about {nbytes / 1e6:.1f} MB of boundary data (more than "
        f"{limit / 1e6:.0f} MB), which is slow to open and e-mail; {fix}."
    )
    warnings.warn(msg, CoterminusWarning, stacklevel=3)
