"""Footprint metrics: how well a set of CCGs lines up with local authorities.

A *footprint* is a set of CCGs — a candidate merger, a whole system, or one CCG. CCGs do not
overlap, so a footprint's overlap with each local authority is the sum of its members' rows of
the :class:`~coterminus.analysis.overlap.OverlapTable`: no union, no overlay.

Notation (for one footprint F and one tier of local authorities l):

* m_F[l] — the footprint's measure (people, or m²) inside LA l = Σ_{u∈F} M[u, l]
* T[l] — LA l's total; t_F — the footprint's total = Σ_{u∈F} (unit total of u)
* ε — the tolerance (default 0.005 for population, 0.03 for area)

Metrics:

* s_l = m_F[l] / T[l], the share of LA l inside the footprint
* f_l = m_F[l] / t_F, the share of the footprint in LA l
* LA l is **contained** if s_l ≥ 1 − ε, **split** if ε < s_l < 1 − ε, **marginal** if
  0 < s_l ≤ ε
* best-fit LA set U = {l : s_l ≥ 0.5}
* coterminosity index J = Σ_{l∈U} m_F[l] / (t_F + Σ_{l∈U} (T[l] − m_F[l])) — the Jaccard index
  of the footprint and the union of its best-fit LAs (1 = identical, 0 = no best-fit LA)
* outside_best_fit = t_F − Σ_{l∈U} m_F[l] (footprint people not in U);
  best_fit_outside = Σ_{l∈U} (T[l] − m_F[l]) (people of U not in the footprint)
* test II: **coterminous** iff J ≥ 1 − ε
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import FootprintError, ParameterError, PopulationError, UnknownAreaError
from ..vocabulary.words import DEFAULT_TOLERANCE
from .overlap import OverlapTable

__all__ = [
    "DEFAULT_TOLERANCE",
    "FootprintMetrics",
    "KernelResult",
    "SystemAlignment",
    "check_tolerance",
    "coterminosity_kernel",
    "footprint_metrics",
    "system_alignment",
    "validate_members",
]


def check_tolerance(tolerance: float | None, measure: str) -> float:
    """Return ε for ``measure`` (the default when ``None``), refusing values outside [0, 0.5).

    Examples
    --------
    >>> check_tolerance(None, "population")
    0.005
    >>> check_tolerance(0.6, "population")
    Traceback (most recent call last):
    ...
    coterminus.errors.ParameterError: tolerance=0.6 is outside [0, 0.5); ...
    """
    if tolerance is None:  # a measure without its own default takes the population one
        eps = DEFAULT_TOLERANCE.get(measure, DEFAULT_TOLERANCE["population"])
    else:
        eps = float(tolerance)
    if not 0.0 <= eps < 0.5:
        msg = (
            f"tolerance={tolerance} is outside [0, 0.5); it is the share of an area that may "
            "differ before it counts as split (e.g. 0.005 = 0.5%)."
        )
        raise ParameterError(msg)
    return eps


class KernelResult(NamedTuple):
    """Output of :func:`coterminosity_kernel` (arrays are per LA; scalars per footprint)."""

    share_of_la: np.ndarray
    share_of_footprint: np.ndarray
    contained: np.ndarray
    split: np.ndarray
    best_fit: np.ndarray
    jaccard: Any
    outside_best_fit: Any
    best_fit_outside: Any


def coterminosity_kernel(
    m_f: np.ndarray, totals: np.ndarray, t_f: float | np.ndarray, eps: float
) -> KernelResult:
    """The coterminosity metrics of one footprint on plain arrays.

    Parameters
    ----------
    m_f : ndarray, shape (L,) or (F, L)
        Footprint measure inside each LA — one footprint, or one row per footprint (the
        merger engine passes all 2ⁿ footprints of a system at once).
    totals : ndarray, shape (L,)
        Each LA's total.
    t_f : float or ndarray, shape (F,)
        Footprint total(s).
    eps : float
        Tolerance in [0, 0.5).

    Returns
    -------
    KernelResult
        Per-LA arrays of the input's shape; ``jaccard``, ``outside_best_fit`` and
        ``best_fit_outside`` are floats for one footprint, arrays of shape (F,) for a batch.

    Notes
    -----
    See the module docstring for the formulas (s_l, f_l, U, J).

    Examples
    --------
    Two equal LAs; the footprint is exactly the first one:

    >>> r = coterminosity_kernel(np.array([10.0, 0.0]), np.array([10.0, 10.0]), 10.0, 0.005)
    >>> float(r.jaccard), r.contained.tolist(), r.best_fit.tolist()
    (1.0, [True, False], [True, False])

    The footprint is the left half of both LAs (2×2 grid, footprint = left column):

    >>> r = coterminosity_kernel(np.array([5.0, 5.0]), np.array([10.0, 10.0]), 10.0, 0.005)
    >>> float(r.jaccard), r.split.tolist()
    (0.5, [True, True])

    Both at once, as a batch:

    >>> coterminosity_kernel(np.array([[10.0, 0.0], [5.0, 5.0]]), np.array([10.0, 10.0]),
    ...                      np.array([10.0, 10.0]), 0.005).jaccard.tolist()
    [1.0, 0.5]
    """
    m = np.asarray(m_f, dtype=float)
    tot = np.asarray(totals, dtype=float)
    t = np.asarray(t_f, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(tot > 0, m / np.where(tot > 0, tot, 1.0), 0.0)
        f = np.where(t[..., None] > 0, m / np.where(t > 0, t, 1.0)[..., None], 0.0)
    contained = s >= 1.0 - eps
    split = (s > eps) & (s < 1.0 - eps)
    best = s >= 0.5
    inside = np.where(best, m, 0.0).sum(axis=-1)
    outside_u = np.where(best, tot - m, 0.0).sum(axis=-1)
    denom = t + outside_u
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(denom > 0, inside / np.where(denom > 0, denom, 1.0), 0.0)
    outside_f = t - inside
    if m.ndim == 1:  # one footprint: plain floats
        return KernelResult(
            s, f, contained, split, best, float(j), float(outside_f), float(outside_u)
        )
    return KernelResult(s, f, contained, split, best, j, outside_f, outside_u)


def validate_members(table: OverlapTable, members: Sequence[str]) -> list[str]:
    """Check a footprint's members against a table; return them as a list of codes.

    Raises :class:`FootprintError` for an empty footprint or duplicates and
    :class:`UnknownAreaError` for codes the table does not have — all problems in one message.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> t = population_overlap(pd.DataFrame({"u": ["A"], "t": ["X"], "population": [1]}), "u", "t")
    >>> validate_members(t, ["A", "A"])
    Traceback (most recent call last):
    ...
    coterminus.errors.FootprintError: footprint lists 'A' more than once; ...
    """
    if isinstance(members, str):
        members = [members]
    codes = [str(m) for m in members]
    if not codes:
        msg = "the footprint is empty; give at least one CCG code or name."
        raise FootprintError(msg)
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        shown = ", ".join(repr(d) for d in dupes)
        msg = f"footprint lists {shown} more than once; give each member once."
        raise FootprintError(msg)
    unknown = [c for c in codes if c not in table.unit_totals.index]
    if unknown:
        msg = (
            f"{len(unknown)} member(s) not among the {table.unit_level} units of this table"
            f"{f' ({table.vintage})' if table.vintage else ''}: {unknown}. Use codes of the same "
            "vintage (geo.code(name) finds them)."
        )
        raise UnknownAreaError(msg)
    return codes


def _refuse_empty(t_f: float, codes: list[str], table: OverlapTable) -> None:
    """A footprint of nobody (or of no area) has no shares: an error, not a NaN."""
    if t_f > 0:
        return
    what = "people" if table.measure == "population" else "area"
    msg = (
        f"the footprint {codes} has no {what} ({table.unit_level}, {table.vintage}): every share "
        "would be 0/0. Check the population file for these units' LSOAs (coterminus data "
        "verify), or choose units that hold people."
    )
    raise PopulationError(msg)


@dataclass(frozen=True)
class FootprintMetrics:
    """Coterminosity of one footprint against one tier of local authorities.

    Attributes
    ----------
    members : list of str
    measure : str
        ``"population"`` or ``"area"``.
    tolerance : float
        ε used for contained/split and the test II verdict.
    total : float
        t_F, the footprint's people (or m²).
    index : float
        J, the coterminosity index.
    coterminous : bool
        Test II verdict: J ≥ 1 − ε.
    by_la : pandas.DataFrame
        One row per LA the footprint touches or whose best-fit status matters: ``in_footprint``
        (m_F[l]), ``la_total`` (T[l]), ``share_of_la`` (s_l), ``share_of_footprint`` (f_l),
        ``status`` (contained/split/marginal), ``best_fit`` (l ∈ U), ``outside_footprint``
        (T[l] − m_F[l]).
    best_fit, contained, split : list of str
        LA codes.
    outside_best_fit, best_fit_outside : float
        Footprint measure outside U; measure of U outside the footprint.
    """

    members: list[str]
    measure: str
    tier: str
    tolerance: float
    total: float
    index: float
    coterminous: bool
    by_la: pd.DataFrame
    best_fit: list[str]
    contained: list[str]
    split: list[str]
    outside_best_fit: float
    best_fit_outside: float

    def to_dict(self) -> dict[str, object]:
        """Plain-Python form (for JSON)."""
        as_num = int if self.measure == "population" else float
        return {
            "members": list(self.members),
            "measure": self.measure,
            "tier": self.tier,
            "tolerance": self.tolerance,
            "total": as_num(self.total),
            "coterminosity_index": float(self.index),
            "coterminous": bool(self.coterminous),
            "best_fit": list(self.best_fit),
            "contained": list(self.contained),
            "split": list(self.split),
            "outside_best_fit": as_num(self.outside_best_fit),
            "best_fit_outside": as_num(self.best_fit_outside),
        }


def footprint_metrics(
    table: OverlapTable,
    members: Sequence[str],
    *,
    tolerance: float | None = None,
) -> FootprintMetrics:
    """Coterminosity of a footprint (set of units) with the targets of an overlap table.

    Parameters
    ----------
    table : OverlapTable
        Units × LAs (e.g. ``coterminus.overlap(geo, "ccg", "utla")``).
    members : sequence of str
        Unit codes of the footprint.
    tolerance : float, optional
        ε in [0, 0.5); defaults to :data:`DEFAULT_TOLERANCE` for the table's measure.

    Returns
    -------
    FootprintMetrics

    Raises
    ------
    FootprintError, UnknownAreaError, ParameterError

    Notes
    -----
    m_F[l] = Σ_{u∈F} M[u, l] (additivity: units do not overlap); t_F = Σ_{u∈F} total(u);
    s_l = m_F[l]/T[l]; f_l = m_F[l]/t_F; U = {l : s_l ≥ 0.5};
    J = Σ_{l∈U} m_F[l] / (t_F + Σ_{l∈U}(T[l] − m_F[l])); coterminous iff J ≥ 1 − ε.
    Contained: s_l ≥ 1 − ε; split: ε < s_l < 1 − ε; marginal: 0 < s_l ≤ ε.

    Examples
    --------
    A 2×2 grid of LAs (a, b on top; c, d below — ``a b / c d``) each of 100 people, and two
    CCGs: "L" = the left column (a, c), "R" = the right column (b, d):

    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["L", "R", "L", "R"], "la": ["a", "b", "c", "d"],
    ...                      "population": [100, 100, 100, 100]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> fm = footprint_metrics(t, ["L"])
    >>> fm.index, fm.coterminous, fm.contained
    (1.0, True, ['a', 'c'])
    >>> footprint_metrics(t, ["R", "L"]).contained
    ['a', 'b', 'c', 'd']
    """
    eps = check_tolerance(tolerance, table.measure)
    codes = validate_members(table, members)
    rows = table.pairs[table.pairs["unit"].isin(codes)]
    m_f = rows.groupby("target")["value"].sum()
    totals = table.target_totals.reindex(m_f.index)
    t_f = float(table.unit_totals.reindex(codes).sum())
    _refuse_empty(t_f, codes, table)
    k = coterminosity_kernel(m_f.to_numpy(), totals.to_numpy(), t_f, eps)
    status = np.where(k.contained, "contained", np.where(k.split, "split", "marginal"))
    by_la = pd.DataFrame(
        {
            "in_footprint": m_f.to_numpy(),
            "la_total": totals.to_numpy(),
            "share_of_la": k.share_of_la,
            "share_of_footprint": k.share_of_footprint,
            "status": status,
            "best_fit": k.best_fit,
            "outside_footprint": totals.to_numpy() - m_f.to_numpy(),
        },
        index=pd.Index(m_f.index, name="la"),
    ).sort_values(["share_of_footprint"], ascending=False)
    return FootprintMetrics(
        members=codes,
        measure=table.measure,
        tier=table.target_level,
        tolerance=eps,
        total=t_f,
        index=float(k.jaccard),
        coterminous=bool(k.jaccard >= 1.0 - eps),
        by_la=by_la,
        best_fit=sorted(m_f.index[k.best_fit]),
        contained=sorted(m_f.index[k.contained]),
        split=sorted(m_f.index[k.split]),
        outside_best_fit=k.outside_best_fit,
        best_fit_outside=k.best_fit_outside,
    )


@dataclass(frozen=True)
class SystemAlignment:
    """Test I: does a footprint sit inside one STP/ICS?

    Attributes
    ----------
    shares : pandas.Series
        Share of the footprint in each system (descending).
    dominant : str
        The system holding the largest share.
    dominant_share : float
    within_one_system : bool
        ``dominant_share ≥ 1 − ε``.
    tolerance : float
    """

    shares: pd.Series
    dominant: str
    dominant_share: float
    within_one_system: bool
    tolerance: float


def system_alignment(
    table: OverlapTable, members: Sequence[str], *, tolerance: float | None = None
) -> SystemAlignment:
    """Test I: share of a footprint in its dominant STP/ICS (``table`` is units × systems).

    Notes
    -----
    g_k = m_F[k] / t_F for each system k; dominant = argmax_k g_k; the footprint sits within
    one system iff max_k g_k ≥ 1 − ε. Footprints crossing systems are flagged.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B"], "stp": ["S1", "S2"], "population": [90, 10]})
    >>> a = system_alignment(population_overlap(lsoa, "ccg", "stp"), ["A", "B"])
    >>> a.dominant, a.dominant_share, a.within_one_system
    ('S1', 0.9, False)
    """
    eps = check_tolerance(tolerance, table.measure)
    codes = validate_members(table, members)
    rows = table.pairs[table.pairs["unit"].isin(codes)]
    t_f = float(table.unit_totals.reindex(codes).sum())
    _refuse_empty(t_f, codes, table)
    shares = (rows.groupby("target")["value"].sum() / t_f).sort_values(ascending=False)
    dominant = str(shares.index[0])
    top = float(shares.iloc[0])
    return SystemAlignment(shares, dominant, top, top >= 1.0 - eps, eps)
