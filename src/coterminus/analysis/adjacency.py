"""Who touches whom: adjacency of areas from the length of boundary they share.

Merger plans can be restricted to *contiguous* blocks (every block a connected group of CCGs).
Two areas are adjacent when they share at least ``min_shared_m`` metres of boundary, measured
with a snapping tolerance of ``snap_m`` metres because separately generalised boundaries touch
imperfectly (gaps and overlaps of a few metres at 20 m generalisation, far more at 500 m).
Corner contacts (a shared point) are not adjacency.

Water is not adjacency either, which matters for estuaries and islands (Mersey, Humber, Solent
and the Isle of Wight, Isles of Scilly): say what you mean with ``overrides``, e.g.
``{("E38000208", "E38000101"): True}`` joins Wirral and Liverpool across the Mersey, and
``False`` separates two areas that touch.

Examples
--------
Three unit squares in a row and one square that touches the last one only at a corner::

    a b c
          d

>>> import geopandas as gpd, shapely
>>> sq = [shapely.box(x, y, x + 1000, y + 1000) for x, y in [(0, 0), (1000, 0), (2000, 0),
...                                                          (3000, -1000)]]
>>> areas = gpd.GeoDataFrame(geometry=sq, index=["a", "b", "c", "d"], crs=27700)
>>> edges = adjacency(areas)
>>> edges.loc[edges["adjacent"], ["a", "b", "shared_m"]].round(0)
   a  b  shared_m
0  a  b    1000.0
1  b  c    1000.0
>>> neighbour_masks(edges, ["a", "b", "c", "d"]).tolist()       # bit i = unit i
[2, 5, 2, 0]
>>> neighbour_masks(adjacency(areas, overrides={("c", "d"): True}), list("abcd")).tolist()
[2, 5, 10, 4]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.validate import check_unique_codes, require_metric_crs
from ..errors import ParameterError, UnknownAreaError

__all__ = [
    "DEFAULT_MIN_SHARED_M",
    "DEFAULT_SNAP_M",
    "adjacency",
    "adjacency_matrix",
    "apply_overrides",
    "neighbour_masks",
    "validate_overrides",
]

log = logging.getLogger(__name__)

#: Shortest shared boundary (metres) that makes two areas adjacent. Corner contacts measure
#: about ``2 * snap_m``; 50 m is well above that and well below any real shared edge of CCGs.
DEFAULT_MIN_SHARED_M = 50.0
#: Distance (metres) within which two boundaries count as the same line. 5 m absorbs the
#: micro-gaps of layers dissolved from 20 m LSOA boundaries; use ~100 m for 500 m (BUC) layers.
DEFAULT_SNAP_M = 5.0

Overrides = Mapping[tuple[str, str], bool]

_COLUMNS = ["a", "b", "shared_m", "adjacent", "basis"]


def _check_layer(areas: gpd.GeoDataFrame) -> None:
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame indexed by ONS code, got {type(areas).__name__}"
        raise ParameterError(msg)
    require_metric_crs(areas, "areas", purpose="shared lengths")
    check_unique_codes(areas.index, "areas index", "Give each area one row (dissolve).")


def validate_overrides(
    overrides: Overrides | None, codes: Iterable[str]
) -> dict[tuple[str, str], bool]:
    """Check adjacency overrides against known codes; return them with each pair sorted.

    Every problem is reported in one message: unknown codes raise
    :class:`~coterminus.errors.UnknownAreaError`, anything else
    :class:`~coterminus.errors.ParameterError`.

    Parameters
    ----------
    overrides : mapping of (str, str) to bool, optional
        ``True`` joins two areas (an estuary crossing, a ferry), ``False`` separates them.
    codes : iterable of str
        The codes the overrides may name.

    Returns
    -------
    dict of (str, str) to bool

    Examples
    --------
    >>> validate_overrides({("b", "a"): True}, ["a", "b"])
    {('a', 'b'): True}
    >>> validate_overrides({("a", "zz"): True}, ["a", "b"])
    Traceback (most recent call last):
    ...
    coterminus.errors.UnknownAreaError: adjacency overrides name 1 unknown code(s): 'zz'; ...
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        msg = (
            "overrides must be a mapping {(code_a, code_b): True/False}, "
            f"got {type(overrides).__name__}"
        )
        raise ParameterError(msg)
    known = {str(c) for c in codes}
    unknown: list[str] = []
    problems: list[str] = []
    out: dict[tuple[str, str], bool] = {}
    for key, value in overrides.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            problems.append(f"key {key!r} is not a pair of codes")
            continue
        a, b = (str(k) for k in key)
        if a == b:
            problems.append(f"pair ({a!r}, {b!r}) joins an area to itself")
        if not isinstance(value, (bool, np.bool_)):
            problems.append(f"value for ({a!r}, {b!r}) is {value!r}, not True/False")
        for c in (a, b):
            if c not in known and c not in unknown:
                unknown.append(c)
        pair = (a, b) if a <= b else (b, a)
        if pair in out and out[pair] != bool(value):
            problems.append(f"pair {pair} is given both True and False")
        out[pair] = bool(value)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown)
        msg = (
            f"adjacency overrides name {len(unknown)} unknown code(s): {shown}; "
            f"use codes of the areas being joined ({len(known)} known, e.g. "
            f"{sorted(known)[:3]})"
        )
        if problems:
            msg += "; also: " + "; ".join(problems)
        raise UnknownAreaError(msg)
    if problems:
        msg = "bad adjacency overrides: " + "; ".join(problems) + "."
        raise ParameterError(msg)
    return out


def adjacency(
    areas: gpd.GeoDataFrame,
    *,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    overrides: Overrides | None = None,
) -> pd.DataFrame:
    """Pairs of areas that touch, with the length of boundary they share.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons indexed by code, in a projected CRS in metres (EPSG:27700).
    min_shared_m : float, default :data:`DEFAULT_MIN_SHARED_M`
        Shortest shared boundary that makes two areas adjacent.
    snap_m : float, default :data:`DEFAULT_SNAP_M`
        Boundaries closer than this count as shared.
    overrides : mapping of (str, str) to bool, optional
        Force pairs adjacent (``True``) or not (``False``); see :func:`validate_overrides`.

    Returns
    -------
    pandas.DataFrame
        One row per candidate pair (boundaries within ``snap_m``) and per override, ``a < b``:
        ``shared_m`` (metres, 0 for override-only pairs), ``adjacent`` (final verdict) and
        ``basis`` (``"shared boundary"``, ``"too short"``, ``"override: joined"``,
        ``"override: separated"``). ``attrs`` records ``min_shared_m`` and ``snap_m``.

    Raises
    ------
    CRSError, DuplicateCodeError, ParameterError, UnknownAreaError

    Notes
    -----
    Candidates come from an STRtree query (``dwithin`` ``snap_m``). For each pair the shared
    length is :math:`\\max(0, \\tfrac12(L_{ab} + L_{ba}) - 2r)` with
    :math:`L_{ab} = |\\partial a \\cap (b \\oplus r)|` and :math:`r` = ``snap_m``
    (:math:`\\oplus` is buffering), computed by vectorised shapely; each polygon is buffered
    once. The :math:`2r` removes the bits of the crossing edges at both ends of a shared stretch,
    so a corner contact measures about 0 and a single shared stretch is exact (several stretches
    are underestimated by :math:`2r` each).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> two = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
    ...                        index=["L", "R"], crs=27700)
    >>> adjacency(two, min_shared_m=5)[["a", "b", "adjacent", "basis"]]
       a  b  adjacent            basis
    0  L  R      True  shared boundary
    """
    _check_layer(areas)
    if not (np.isfinite(min_shared_m) and min_shared_m >= 0):
        msg = f"min_shared_m={min_shared_m!r} must be a length in metres ≥ 0"
        raise ParameterError(msg)
    if not (np.isfinite(snap_m) and snap_m >= 0):
        msg = f"snap_m={snap_m!r} must be a distance in metres ≥ 0"
        raise ParameterError(msg)
    codes = areas.index.astype(str).to_numpy()
    over = validate_overrides(overrides, codes)
    geoms = areas.geometry.to_numpy()
    edges = _shared_boundaries(codes, geoms, snap_m)
    edges["adjacent"] = edges["shared_m"] >= min_shared_m
    edges["basis"] = np.where(edges["adjacent"], "shared boundary", "too short")
    edges = apply_overrides(edges, over)
    edges.attrs.update({"min_shared_m": float(min_shared_m), "snap_m": float(snap_m)})
    log.debug("adjacency of %d areas: %d adjacent pairs", len(codes), int(edges["adjacent"].sum()))
    return edges


def _shared_boundaries(codes: np.ndarray, geoms: np.ndarray, snap_m: float) -> pd.DataFrame:
    if len(geoms) < 2:
        return pd.DataFrame({"a": [], "b": [], "shared_m": []}).astype(
            {"a": object, "b": object, "shared_m": float}
        )
    tree = shapely.STRtree(geoms)
    if snap_m > 0:
        i, j = tree.query(geoms, predicate="dwithin", distance=snap_m)
    else:
        i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    used = np.unique(np.concatenate([i, j]))
    boundary = np.empty(len(geoms), dtype=object)
    boundary[used] = shapely.boundary(geoms[used])
    if snap_m > 0:
        grown = np.empty(len(geoms), dtype=object)
        grown[used] = shapely.buffer(geoms[used], snap_m, quad_segs=2)
        ab = shapely.length(shapely.intersection(boundary[i], grown[j]))
        ba = shapely.length(shapely.intersection(boundary[j], grown[i]))
        # each stretch of shared boundary picks up ~snap_m of the crossing edges at both ends
        shared = np.maximum(0.5 * (ab + ba) - 2.0 * snap_m, 0.0)
    else:
        shared = shapely.length(shapely.intersection(boundary[i], boundary[j]))
    a, b = codes[i], codes[j]
    swap = a > b
    a2 = np.where(swap, b, a)
    b2 = np.where(swap, a, b)
    out = pd.DataFrame({"a": a2, "b": b2, "shared_m": shared})
    return out.sort_values(["a", "b"]).reset_index(drop=True)


def apply_overrides(edges: pd.DataFrame, overrides: Overrides | None) -> pd.DataFrame:
    """Apply (already validated) overrides to an edge table; returns a new table.

    Examples
    --------
    >>> e = pd.DataFrame({"a": ["x"], "b": ["y"], "shared_m": [900.0], "adjacent": [True],
    ...                   "basis": ["shared boundary"]})
    >>> apply_overrides(e, {("y", "x"): False})[["a", "b", "adjacent", "basis"]]
       a  b  adjacent                basis
    0  x  y     False  override: separated
    """
    out = edges.copy()
    if not overrides:
        return out.reset_index(drop=True)
    for (a0, b0), value in overrides.items():
        a, b = (a0, b0) if a0 <= b0 else (b0, a0)
        hit = (out["a"] == a) & (out["b"] == b)
        basis = "override: joined" if value else "override: separated"
        if hit.any():
            out.loc[hit, "adjacent"] = bool(value)
            out.loc[hit, "basis"] = basis
        else:
            row = pd.DataFrame(
                {"a": [a], "b": [b], "shared_m": [0.0], "adjacent": [bool(value)], "basis": [basis]}
            )
            out = pd.concat([out, row], ignore_index=True) if len(out) else row
    out["adjacent"] = out["adjacent"].astype(bool)
    return out.sort_values(["a", "b"]).reset_index(drop=True)


def adjacency_matrix(edges: pd.DataFrame, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Square boolean matrix (codes × codes) of the ``adjacent`` pairs of an edge table.

    Examples
    --------
    >>> e = pd.DataFrame({"a": ["x"], "b": ["y"], "adjacent": [True]})
    >>> adjacency_matrix(e, ["x", "y", "z"]).astype(int)
       x  y  z
    x  0  1  0
    y  1  0  0
    z  0  0  0
    """
    if codes is None:
        codes = sorted(set(edges["a"]) | set(edges["b"]))
    idx = pd.Index([str(c) for c in codes])
    mat = pd.DataFrame(False, index=idx, columns=idx)
    on = edges[edges["adjacent"].astype(bool)]
    on = on[on["a"].isin(idx) & on["b"].isin(idx)]
    for a, b in zip(on["a"], on["b"], strict=True):
        mat.loc[a, b] = True
        mat.loc[b, a] = True
    return mat


def neighbour_masks(edges: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """Neighbour bitmasks for :func:`coterminus.partitions.connected_subsets`.

    ``out[i]`` has bit ``j`` set when ``codes[i]`` and ``codes[j]`` are adjacent; pairs naming
    codes outside ``codes`` are ignored. ``int64`` for up to 62 codes, Python integers (object
    dtype) beyond.

    Examples
    --------
    >>> e = pd.DataFrame({"a": ["x", "y"], "b": ["y", "z"], "adjacent": [True, False]})
    >>> neighbour_masks(e, ["x", "y", "z"]).tolist()
    [2, 1, 0]
    """
    pos = {str(c): k for k, c in enumerate(codes)}
    if len(pos) != len(codes):
        msg = "codes has duplicates; give each unit once"
        raise ParameterError(msg)
    out = np.zeros(len(codes), dtype=np.int64 if len(codes) <= 62 else object)
    if out.dtype == object:
        out[:] = 0
    on = edges[edges["adjacent"].astype(bool)]
    for a, b in zip(on["a"], on["b"], strict=True):
        ia, ib = pos.get(str(a)), pos.get(str(b))
        if ia is None or ib is None or ia == ib:
            continue
        out[ia] |= 1 << ib
        out[ib] |= 1 << ia
    return out
