"""Make invalid boundary geometries valid, keeping their polygonal parts.

The one geometry repair of the package: the readers (:func:`coterminus.data.readers.read_boundaries` with
``repair=True``) and :func:`coterminus.data.doctor.repair` (the public name, re-exported) both call
:func:`repair`; :func:`coterminus.data.doctor.doctor` uses :func:`make_valid_polygonal` to check
overlaps and holes on valid geometry.

Examples
--------
>>> from shapely import Polygon
>>> bow_tie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
>>> fixed = make_valid_polygonal(np.array([bow_tie], dtype=object), np.array([bow_tie]))
>>> fixed[0].geom_type, float(fixed[0].area)
('MultiPolygon', 0.5)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ColumnError
from .validate import BNG

__all__ = [
    "REPAIR_COLUMNS",
    "VALID",
    "codes_and_geometries",
    "listing",
    "make_valid_polygonal",
    "repair",
]

logger = logging.getLogger(__name__)

#: Columns of the table of changes returned by :func:`repair`.
REPAIR_COLUMNS: tuple[str, ...] = ("code", "before_reason", "area_before_m2", "area_after_m2")
#: What ``shapely.is_valid_reason`` says of a valid geometry.
VALID = "Valid Geometry"

_POLYGON = 3
_MULTI_TYPES = (4, 5, 6, 7)  # MultiPoint, MultiLineString, MultiPolygon, GeometryCollection


def codes_and_geometries(
    layer: gpd.GeoDataFrame, code_col: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes (as str) and geometries (object array) of a boundary layer.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Indexed by ONS code, or with the codes in ``code_col``.
    code_col : str, optional
        Column holding the ONS codes; by default the index.

    Raises
    ------
    TypeError
        ``layer`` is not a GeoDataFrame.
    ColumnError
        ``code_col`` is not a column of ``layer``.

    Examples
    --------
    >>> from shapely import box
    >>> layer = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], index=pd.Index(["E06000001"]))
    >>> codes, geoms = codes_and_geometries(layer)
    >>> codes.tolist(), geoms[0].area
    (['E06000001'], 1.0)
    >>> codes_and_geometries(layer, "code")
    Traceback (most recent call last):
    ...
    coterminus.errors.ColumnError: code_col='code' is not a column of the layer (columns: geometry); pass the column holding the ONS codes, or None to use the index
    """
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = (
            f"layer must be a geopandas.GeoDataFrame, got {type(layer).__name__}; "
            "read it with `geopandas.read_file(path, layer=...)` or a coterminus reader"
        )
        raise TypeError(msg)
    if code_col is None:
        raw = layer.index.to_series()
    elif code_col in layer.columns:
        raw = layer[code_col]
    else:
        msg = (
            f"code_col={code_col!r} is not a column of the layer (columns: "
            f"{listing(map(str, layer.columns))}); pass the column holding the ONS codes, "
            "or None to use the index"
        )
        raise ColumnError(msg)
    codes = np.array([str(c) for c in raw], dtype=object)
    geoms = np.asarray(layer.geometry.array, dtype=object)
    return codes, geoms


def make_valid_polygonal(geoms: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``make_valid`` keeping polygonal parts; a Polygon stays a Polygon when one part remains.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Geometries to make valid.
    like : numpy.ndarray of shapely geometries
        Same length: the geometries whose type (Polygon or not) the result follows.

    Returns
    -------
    numpy.ndarray
        Object array of (Multi)Polygons; an empty MultiPolygon where nothing polygonal is left.

    Notes
    -----
    :math:`g' = \\bigcup \\{p \\in \\mathrm{parts}(\\mathrm{make\\_valid}(g)) : p \\text{ is a
    Polygon}\\}`, with collections flattened until no multi-part geometry remains.

    Examples
    --------
    >>> from shapely import LineString, Polygon, GeometryCollection, box
    >>> mixed = GeometryCollection([box(0, 0, 1, 1), LineString([(2, 2), (3, 3)])])
    >>> out = make_valid_polygonal(np.array([mixed], dtype=object), np.array([box(0, 0, 1, 1)]))
    >>> out[0].geom_type, float(out[0].area)
    ('Polygon', 1.0)
    """
    out = np.empty(len(geoms), dtype=object)
    if len(geoms) == 0:
        return out
    parts, idx = shapely.get_parts(shapely.make_valid(geoms), return_index=True)
    while len(parts) and np.isin(shapely.get_type_id(parts), _MULTI_TYPES).any():
        parts, sub = shapely.get_parts(parts, return_index=True)
        idx = idx[sub]
    keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    parts, idx = parts[keep], idx[keep]
    out[:] = [shapely.MultiPolygon() for _ in range(len(geoms))]
    if len(parts):
        rows, dense = np.unique(idx, return_inverse=True)
        out[rows] = shapely.multipolygons(parts, indices=dense)
    single = (shapely.get_type_id(like) == _POLYGON) & (shapely.get_num_geometries(out) == 1)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def repair(
    layer: gpd.GeoDataFrame, *, code_col: str | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Make invalid geometries valid, keeping their polygonal parts; valid rows are untouched.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Boundary layer (indexed by ONS code, or with codes in ``code_col``). Not modified.
    code_col : str, optional
        Column holding the ONS codes; by default the index is used.

    Returns
    -------
    repaired : geopandas.GeoDataFrame
        A copy of ``layer`` (same index, columns, CRS and ``attrs``) whose invalid geometries
        are replaced by their valid (Multi)Polygon equivalent.
    changes : pandas.DataFrame
        One row per repaired geometry: ``code``, ``before_reason`` (GEOS reason),
        ``area_before_m2``, ``area_after_m2``. Empty when nothing was invalid.

    Notes
    -----
    For each invalid geometry :math:`g`, the repair is
    :math:`g' = \\bigcup \\{p \\in \\mathrm{parts}(\\mathrm{make\\_valid}(g)) : p
    \\text{ is a Polygon}\\}`, where ``make_valid`` uses GEOS's default "linework" method
    (overlapping rings are combined by parity, so a shell nested in another shell becomes a
    hole — this matches ONS's ``Shape__Area`` for the five invalid LSOAs) and lines or points
    left over from collapsed rings are dropped. ``g'`` is a MultiPolygon unless ``g`` was a
    Polygon and one part remains. Areas are in m² (EPSG:27700 when the layer is geographic;
    the layer's own units when it has no CRS). Overlaps, gaps, duplicates and CRS problems
    are not repaired: they need a decision.

    Examples
    --------
    A bow-tie whose two triangles cancel out (signed area 0), repaired into two triangles::

        (0,1) +   + (1,1)
              | X |
        (0,0) +   + (1,0)

    >>> import geopandas as gpd
    >>> import pandas as pd
    >>> from shapely import Polygon
    >>> layer = gpd.GeoDataFrame(
    ...     {"name": ["Bow tie"]},
    ...     geometry=[Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])],
    ...     index=pd.Index(["E06000001"], name="code"),
    ...     crs=27700,
    ... )
    >>> repaired, changes = repair(layer)
    >>> changes
            code       before_reason  area_before_m2  area_after_m2
    0  E06000001  Self-intersection[0.5 0.5]             0.0            0.5
    >>> repaired.geometry.iloc[0].geom_type, bool(repaired.is_valid.all())
    ('MultiPolygon', True)
    >>> bool(layer.is_valid.iloc[0])  # the input is unchanged
    False
    """
    codes, geoms = codes_and_geometries(layer, code_col)
    reasons = shapely.is_valid_reason(geoms)
    bad = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (reasons != VALID)

    fixed = geoms.copy()
    fixed[bad] = make_valid_polygonal(geoms[bad], geoms[bad])
    repaired = layer.copy()
    repaired[layer.geometry.name] = gpd.array.from_shapely(fixed, crs=layer.crs)

    before, after = geoms[bad], fixed[bad]
    if layer.crs is not None and layer.crs.is_geographic:
        before = np.asarray(gpd.GeoSeries(before, crs=layer.crs).to_crs(BNG).array)
        after = np.asarray(gpd.GeoSeries(after, crs=layer.crs).to_crs(BNG).array)
    changes = pd.DataFrame(
        {
            "code": pd.Series(codes[bad], dtype="str"),
            "before_reason": pd.Series(reasons[bad], dtype="str"),
            "area_before_m2": shapely.area(before).astype(float),
            "area_after_m2": shapely.area(after).astype(float),
        },
        columns=list(REPAIR_COLUMNS),
    )
    if len(changes):
        logger.info("repaired %d invalid geometries: %s", len(changes), listing(changes["code"]))
    return repaired, changes


def listing(items: Iterable[object], limit: int = 10) -> str:
    """The first ``limit`` items, comma-separated, and how many more there are.

    Examples
    --------
    >>> listing(["E01", "E02", "E03"], limit=2)
    'E01, E02 and 1 more'
    """
    shown = [str(i) for i in items]
    return ", ".join(shown[:limit]) + (
        f" and {len(shown) - limit} more" if len(shown) > limit else ""
    )
