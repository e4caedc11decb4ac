"""Every way of merging the CCGs of a system, scored and ranked without touching geometry.

Planners in a system of ``n`` CCGs compare every merger plan: every set partition of the CCGs
(``B(n)`` plans, 4,213,597 for the 12 CCGs of Cheshire and Merseyside in 2019) built from the
``2**n - 1`` candidate footprints.  Dissolving and overlaying polygons per plan costs ~0.15 s, so
coterminus never does: it builds **one table over all footprints** from the overlap table (a
bitmask recurrence, :func:`footprint_table`), then scores each plan by look-ups while
enumerating (:mod:`coterminus.partitions`), finds the best plan under a weighted objective by a
subset dynamic programme (:func:`best_plan`), and explains each plan in words.

Workflows
---------
* one system, every plan, top 20 and the Pareto front: ``mergers(geo, "Cheshire and Merseyside")``
* only contiguous blocks, at most 6 CCGs, written to Parquet:
  ``mergers(geo, system, contiguous=True, n_ccgs=(1, 6), out="plans.parquet")``
* the best plan only (no enumeration): ``best_plan(geo, system)``
* every system of a vintage, on Dask: ``national(geo, executor=client, out="national.parquet")``
* your own plans: ``score_plans(geo, system, [[["05A", "05R"], ["05H"]]])``
* 14–16 units (e.g. councils from overlap tables): ``mergers(tables, units=codes)`` keeps the
  top-k and the Pareto front inside one compiled pass (:mod:`coterminus._selection`); all
  190,899,322 plans of 14 units take about a second on one core. With ``out=`` above
  ``store_limit`` plans the file holds the top-k, the front and histograms, unless ``all_plans``.

Notes
-----
For a footprint :math:`F` (a set of CCGs; CCGs do not overlap) and a tier of local
authorities :math:`l` with totals :math:`T_l`, with the overlap matrix :math:`M` (CCG × LA,
people by default):

* :math:`m_F = m_{F \\setminus \\{u\\}} + M_u` where :math:`u` is the lowest CCG of :math:`F`
  (computed for all :math:`2^n` masks at once by doubling), :math:`t_F = \\sum_{u \\in F} t_u`;
* :math:`s_l = m_F[l] / T_l`; contained if :math:`s_l \\ge 1-\\varepsilon`, split if
  :math:`\\varepsilon < s_l < 1-\\varepsilon`; best-fit set :math:`U = \\{l : s_l \\ge 0.5\\}`;
* coterminosity index
  :math:`J_F = \\sum_{U} m_F[l] \\,/\\, (t_F + \\sum_{U} (T_l - m_F[l]))`;
  test II passes iff :math:`J_F \\ge 1-\\varepsilon` (exactly as
  :func:`coterminus.metrics.footprint_metrics`);
* mismatch :math:`= (t_F - \\sum_U m_F[l]) + \\sum_U (T_l - m_F[l])`, the people behind
  :math:`J_F < 1` (denominator minus numerator).

Per plan :math:`p` (a set of blocks): number of CCGs :math:`|p|`; mean and minimum of
:math:`J_F` at both tiers; blocks passing test II; LAs split *between blocks* (touched,
:math:`s_l > \\varepsilon`, by at least two blocks) and the people of those LAs living in the
system; summed mismatch; (block, LA) split pairs; blocks inside/outside the population band and
the people by which they miss it; population balance (coefficient of variation of block
populations, :math:`\\sqrt{|p| \\sum t_F^2 / (\\sum t_F)^2 - 1}`); the test II verdict of every
block.  The objective is :math:`\\sum_{F \\in p} \\sum_c w_c\\, x_c(F)`: every criterion
:math:`c` in :data:`CRITERIA` is a sum over blocks, which is what lets :func:`best_plan` find the
optimum by dynamic programming, and block costs sit on a binary grid so sums are exact and ties
are broken the same way (lowest plan id) by every method.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from . import _selection as _sel
from . import partitions as _p
from ._atomic import atomic_path
from .adjacency import (
    DEFAULT_MIN_SHARED_M,
    DEFAULT_SNAP_M,
    adjacency,
    apply_overrides,
    neighbour_masks,
    validate_overrides,
)
from .errors import (
    EnumerationTooLargeError,
    FootprintError,
    OutputError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)
from .metrics import check_tolerance, coterminosity_kernel
from .overlap import overlap

if TYPE_CHECKING:
    from .geography import Geography
    from .overlap import OverlapTable

__all__ = [
    "CRITERIA",
    "DEFAULT_BAND",
    "DEFAULT_WEIGHTS",
    "PLAN_COLUMNS",
    "MergerResult",
    "NationalResult",
    "best_plan",
    "decode_labels",
    "footprint_table",
    "iter_scored_plans",
    "mergers",
    "national",
    "read_plans",
    "score_plans",
]

log = logging.getLogger(__name__)

Tier = Literal["utla", "ltla"]
TIERS: tuple[str, str] = ("utla", "ltla")

#: Population band for blocks (people), the 'place' scale of NHS England's merger guidance.
DEFAULT_BAND: tuple[int, int] = (250_000, 500_000)

#: Criteria of the objective: each is a sum over the blocks of a plan, and lower is better.
CRITERIA: dict[str, str] = {
    "n_ccgs": "CCGs after merger",
    "not_coterminous_utla": "blocks failing test II against upper-tier councils",
    "not_coterminous_ltla": "blocks failing test II against lower-tier councils",
    "mismatch_utla": "people (or m²) behind J < 1 at upper tier, summed over blocks",
    "mismatch_ltla": "people (or m²) behind J < 1 at lower tier, summed over blocks",
    "split_pairs_utla": "(block, upper-tier council) pairs where the block holds a split share",
    "split_pairs_ltla": "(block, lower-tier council) pairs where the block holds a split share",
    "outside_band": "blocks whose population is outside the band",
    "band_gap": "people by which blocks fall short of or exceed the band",
    "non_contiguous": "blocks whose CCGs do not form one connected area",
}

#: Default weights (per unit of each criterion; the people criteria are per person, so 1e-5
#: is one point per 100,000 people). Shown in every output.
DEFAULT_WEIGHTS: dict[str, float] = {
    "not_coterminous_utla": 1.0,
    "mismatch_utla": 1e-5,
    "mismatch_ltla": 5e-6,
    "outside_band": 0.25,
    "non_contiguous": 1.0,
}
_AREA_WEIGHTS: dict[str, float] = {  # area measure: mismatch in m², 1 point per 10 km²
    **DEFAULT_WEIGHTS,
    "mismatch_utla": 1e-7,
    "mismatch_ltla": 5e-8,
}

#: Columns of every scored plan, in output order (plus ``system``, ``labels`` and the
#: ``test_ii_*`` verdict strings in files).
PLAN_COLUMNS: tuple[str, ...] = (
    "plan_id",
    "n_ccgs",
    "objective",
    "non_contiguous",
    "mean_j_utla",
    "min_j_utla",
    "mean_j_ltla",
    "min_j_ltla",
    "coterminous_utla",
    "coterminous_ltla",
    "not_coterminous_utla",
    "not_coterminous_ltla",
    "mismatch_utla",
    "mismatch_ltla",
    "split_las_utla",
    "split_people_utla",
    "split_las_ltla",
    "split_people_ltla",
    "split_pairs_utla",
    "split_pairs_ltla",
    "in_band",
    "outside_band",
    "band_gap",
    "min_population",
    "max_population",
    "population_cv",
)

# per-block aggregates handed to the enumeration kernels
_SUMS = (
    "j_utla",
    "j_ltla",
    "not_coterminous_utla",
    "not_coterminous_ltla",
    "mismatch_utla",
    "mismatch_ltla",
    "split_pairs_utla",
    "split_pairs_ltla",
    "outside_band",
    "band_gap",
    "pop_sq",
    "cost",
    "non_contiguous",
)
_MINS = ("j_utla", "j_ltla", "population", "neg_population")
_PARETO_EXTRA = ("split_las_utla", "split_las_ltla", "split_people_utla", "split_people_ltla")
#: Plans above which ``out`` holds only the top-k and the Pareto front (``all_plans`` forces all).
DEFAULT_STORE_LIMIT = 50_000_000

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DEFAULT_CHUNK = 1 << 16


# =============================================================================================
# the per-system footprint table (all 2**n masks)
# =============================================================================================
@dataclass
class _TierTable:
    """One tier's per-footprint metrics over all masks (plain arrays)."""

    la_codes: list[str]
    la_names: list[str]
    totals: np.ndarray  # T_l
    in_system: np.ndarray  # people of l living in the units (m_full)
    m: np.ndarray  # (2**n, L) m_F[l]
    t: np.ndarray  # (2**n,) t_F in the measure
    j: np.ndarray
    coterminous: np.ndarray
    n_split: np.ndarray
    n_contained: np.ndarray
    mismatch: np.ndarray
    outside_best_fit: np.ndarray
    best_fit_outside: np.ndarray
    best_fit: np.ndarray  # (2**n, L) bool
    touched_bits: np.ndarray  # (2**n, words) uint64: s_l > eps


@dataclass
class _System:
    """Everything the kernels need about one group of units; picklable for workers."""

    code: str | None
    name: str
    vintage: int | str | None
    measure: str
    tolerance: float
    band: tuple[float, float]
    codes: list[str]
    names: list[str]
    nhs: list[str]
    unit_systems: list[str]
    population: np.ndarray  # (2**n,) people
    tiers: dict[str, _TierTable]
    allowed: np.ndarray
    connected: np.ndarray | None
    n_systems: np.ndarray
    weights: dict[str, float]
    cost: np.ndarray  # (2**n,) quantised block cost
    n_blocks: tuple[int, int] | None
    constraints: dict[str, Any]
    edges: pd.DataFrame | None = None
    unit_level: str = "ccg"
    against: tuple[str, str] = TIERS
    unit_label: str = "CCG"
    unit_plural: str = "CCGs"
    labels: dict[str, str] = field(
        default_factory=lambda: {"utla": "upper-tier councils", "ltla": "lower-tier councils"}
    )

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def total_population(self) -> float:
        return float(self.population[-1]) if self.n else 0.0

    def criteria(self) -> dict[str, np.ndarray]:
        """Per-block values of every criterion (arrays over masks)."""
        lo, hi = self.band
        pop = self.population
        masks = np.arange(1 << self.n, dtype=np.int64)
        k = (_p.popcount(masks) > 0).astype(float)
        out = {
            "n_ccgs": k,
            "outside_band": (((pop < lo) | (pop > hi)) & (k > 0)).astype(float),
            "band_gap": np.where(k > 0, np.maximum(np.maximum(lo - pop, pop - hi), 0.0), 0.0),
            "non_contiguous": (
                np.zeros(masks.size) if self.connected is None else (~self.connected & (k > 0))
            ).astype(float),
        }
        for tier in TIERS:
            tt = self.tiers[tier]
            out[f"not_coterminous_{tier}"] = ((~tt.coterminous) & (k > 0)).astype(float)
            out[f"mismatch_{tier}"] = tt.mismatch
            out[f"split_pairs_{tier}"] = tt.n_split.astype(float)
        return out


def _tier_table(
    matrix: np.ndarray,
    unit_totals: np.ndarray,
    la_totals: np.ndarray,
    eps: float,
    la_codes: list[str],
    la_names: list[str],
) -> _TierTable:
    n, n_la = matrix.shape
    size = 1 << n
    m = _p.subset_sums(np.asarray(matrix, dtype=float))
    t = _p.subset_sums(np.asarray(unit_totals, dtype=float))
    tot = la_totals.astype(float)
    k = coterminosity_kernel(m, tot, t, eps)
    s, contained, split, best, j = k.share_of_la, k.contained, k.split, k.best_fit, k.jaccard
    touched = s > eps
    words = max(1, math.ceil(n_la / 64))
    bits = np.zeros((size, words), dtype=np.uint64)
    for col in range(n_la):
        w, b = divmod(col, 64)
        bits[:, w] |= touched[:, col].astype(np.uint64) << np.uint64(b)
    return _TierTable(
        la_codes=la_codes,
        la_names=la_names,
        totals=tot,
        in_system=m[-1].copy() if size > 1 else np.zeros(n_la),
        m=m,
        t=t,
        j=j,
        coterminous=j >= 1.0 - eps,
        n_split=split.sum(axis=1),
        n_contained=contained.sum(axis=1),
        mismatch=k.outside_best_fit + k.best_fit_outside,
        outside_best_fit=k.outside_best_fit,
        best_fit_outside=k.best_fit_outside,
        best_fit=best,
        touched_bits=bits,
    )


def _quantise(cost: np.ndarray, n: int) -> np.ndarray:
    """Put block costs on a binary grid so any sum of ``n`` of them is exact in float64."""
    top = float(np.max(np.abs(cost[np.isfinite(cost)]), initial=0.0)) * max(n, 1) + 1.0
    bits = min(40, 51 - math.ceil(math.log2(top)))
    scale = 2.0**bits
    return np.round(cost * scale) / scale


def _check_weights(weights: Mapping[str, float] | None, measure: str) -> dict[str, float]:
    base = _AREA_WEIGHTS if measure == "area" else DEFAULT_WEIGHTS
    if weights is None:
        return {c: float(base.get(c, 0.0)) for c in CRITERIA}
    if not isinstance(weights, Mapping):
        msg = f"weights must be a mapping {{criterion: weight}}, got {type(weights).__name__}"
        raise ParameterError(msg)
    problems = []
    unknown = [k for k in weights if k not in CRITERIA]
    if unknown:
        problems.append(f"unknown criteria {unknown} (use {list(CRITERIA)})")
    out = dict.fromkeys(CRITERIA, 0.0)
    for k, v in weights.items():
        try:
            fv = float(v)
        except (TypeError, ValueError):
            problems.append(f"{k}={v!r} is not a number")
            continue
        if not math.isfinite(fv) or fv < 0:
            problems.append(f"{k}={v!r} is negative or not finite")
        elif k in out:
            out[k] = fv
    if not problems and not any(out.values()):
        problems.append("all weights are zero, so every plan would tie")
    if problems:
        msg = (
            "bad weights: " + "; ".join(problems) + ". Weights are ≥ 0 per unit of each criterion "
            f"and at least one must be positive; the default is {base}."
        )
        raise ParameterError(msg)
    return out


def _check_band(band: Any, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        msg = f"{name} must be a (low, high) pair of people, got {band!r}"
        raise ParameterError(msg) from None
    if not (0 <= lo <= hi) or math.isnan(lo) or math.isnan(hi):
        msg = f"{name}=({lo:g}, {hi:g}) must satisfy 0 ≤ low ≤ high"
        raise ParameterError(msg)
    return lo, hi


def _tables_for(
    source: Geography | Mapping[str, OverlapTable],
    measure: str,
    unit_level: str = "ccg",
    against: tuple[str, str] = TIERS,
) -> dict[str, OverlapTable]:
    """Overlap tables of the units against the two council-level slots (see :data:`TIERS`)."""
    if isinstance(source, Mapping):
        missing = [t for t in TIERS if t not in source]
        if missing:
            msg = (
                f"overlap tables for tiers {missing} are missing; pass {{'utla': ..., 'ltla': ...}}"
            )
            raise ParameterError(msg)
        return {t: source[t] for t in TIERS}
    return {
        slot: overlap(source, unit_level, lv, measure=measure)  # type: ignore[arg-type]
        for slot, lv in zip(TIERS, against, strict=True)
    }


def _build_system(
    source: Geography | Mapping[str, OverlapTable],
    codes: list[str],
    *,
    code: str | None,
    name: str,
    measure: str,
    tolerance: float | None,
    band: tuple[float, float],
    weights: Mapping[str, float] | None,
    contiguous: bool = False,
    edges: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | str = False,
    within_system: bool = True,
    n_ccgs: int | tuple[int, int] | None = None,
    unit_level: str = "ccg",
    against: tuple[str, str] = TIERS,
    within: str | None = "stp",
    min_pop: float | None = None,
    no_split: Sequence[str] = (),
    coterminous_with: Sequence[str] = (),
) -> _System:

    tables = _tables_for(source, measure, unit_level, against)
    measure = tables["utla"].measure
    eps = check_tolerance(tolerance, measure)
    w = _check_weights(weights, measure)
    n = len(codes)
    _p.check_n(n)
    geo = None if isinstance(source, Mapping) else source
    if w["non_contiguous"] and geo is None and edges is None:
        if weights is not None and weights.get("non_contiguous"):
            msg = (
                "the non_contiguous criterion needs polygons (a Geography) or adjacency=; "
                "set its weight to 0 or pass them"
            )
            raise ParameterError(msg)
        w["non_contiguous"] = 0.0
    tiers: dict[str, _TierTable] = {}
    for tier in TIERS:
        table = tables[tier]
        mat, la = _unit_matrix(table, codes)
        unit_tot = table.unit_totals.reindex(codes).to_numpy(dtype=float)
        la_tot = table.target_totals.reindex(la).to_numpy(dtype=float)
        if geo is not None:
            lnames = geo.units(against[TIERS.index(tier)])["name"]
            la_names = [str(lnames.get(c, c)) for c in la]
        else:
            la_names = list(la)
        tiers[tier] = _tier_table(mat, unit_tot, la_tot, eps, la, la_names)
    # people (always people, whatever the measure) and systems of the units
    if geo is not None:
        units_t = geo.units(unit_level)
        unit_pop = units_t["population"].reindex(codes).to_numpy(dtype=float)
        names = [str(units_t.at[c, "name"]) for c in codes]
        nhs = [
            str(units_t.at[c, "nhs_code"]) if "nhs_code" in units_t.columns else "" for c in codes
        ]
        if within is not None:  # the group each unit is in (its largest part, for scenarios)
            sub_lsoa = geo.lsoa[geo.lsoa[unit_level].isin(codes)]
            main = sub_lsoa.groupby(unit_level)[within].agg(
                lambda s: s.value_counts().index[0] if s.notna().any() else ""
            )
            unit_sys = [str(main.get(c, "")) for c in codes]
        else:
            unit_sys = [""] * n
    else:
        ut = tables["utla"]
        if ut.measure != "population":
            msg = "with overlap tables by area, pass a Geography so block populations are known"
            raise ParameterError(msg)
        unit_pop = ut.unit_totals.reindex(codes).to_numpy(dtype=float)
        names, nhs, unit_sys = list(codes), [""] * n, [""] * n
    size = 1 << n
    pop = _p.subset_sums(np.asarray(unit_pop, dtype=float))
    sys_ids = {s: i for i, s in enumerate(sorted(set(unit_sys)))}
    n_systems = _p.popcount(
        _p.subset_ors(np.array([1 << sys_ids[u] for u in unit_sys], dtype=np.int64))
    )
    # allowed blocks
    allowed = np.ones(size, dtype=bool)
    allowed[0] = False
    constraints: dict[str, Any] = {}
    connected = None
    if contiguous or w["non_contiguous"]:
        if edges is None:
            if geo is None:
                msg = "contiguous=True needs a Geography (polygons) or a precomputed adjacency="
                raise ParameterError(msg)
            edges = adjacency(
                geo.layer(unit_level).loc[codes],
                min_shared_m=min_shared_m,
                snap_m=snap_m,
                overrides=overrides,
            )
        elif overrides:
            edges = apply_overrides(edges, overrides)
        connected = _p.connected_subsets(neighbour_masks(edges, codes))
    if contiguous:
        assert connected is not None
        allowed &= connected
        constraints["contiguous"] = True
    if population_band is not None:
        p_lo, p_hi = population_band
        allowed &= (pop >= p_lo) & (pop <= p_hi)
        constraints["population_band"] = (p_lo, p_hi)
    if coterminous_only:
        which = [against[0]] if coterminous_only is True else [str(coterminous_only)]
        if which == ["both"]:
            which = list(against)
        for lv in which:
            if lv not in against:
                msg = (
                    f"coterminous_only={coterminous_only!r}; use True (the first level, "
                    f"{against[0]}), {against[1]!r} or 'both'"
                )
                raise ParameterError(msg)
            allowed &= tiers[TIERS[against.index(lv)]].coterminous
        constraints["coterminous_only"] = which
    if min_pop is not None:
        allowed &= pop >= float(min_pop)
        constraints["min_pop"] = float(min_pop)
    for lv, tt in _extra_tiers(
        geo, tables, tiers, codes, eps, unit_level, against, measure, [*no_split, *coterminous_with]
    ).items():
        if lv in no_split:  # no council lying wholly in the system is split between blocks
            whole = tt.in_system >= (1.0 - eps) * tt.totals
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(tt.totals > 0, tt.m / np.where(tt.totals > 0, tt.totals, 1.0), 0.0)
            splits = ((s > eps) & (s < 1.0 - eps) & whole).any(axis=1)
            allowed &= ~splits
            constraints.setdefault("no_split", []).append(lv)
        if lv in coterminous_with:  # each block coterminous with one or more areas of lv
            allowed &= tt.coterminous
            constraints.setdefault("coterminous_with", []).append(lv)
    if within_system and len(sys_ids) > 1:
        allowed &= n_systems == 1
        constraints["within_system"] = True
    if n_ccgs is not None:
        constraints["n_ccgs"] = _p.n_blocks_range(n, n_ccgs)
    sys = _System(
        code=code,
        name=name,
        vintage=tables["utla"].vintage,
        measure=measure,
        tolerance=eps,
        band=band,
        codes=list(codes),
        names=names,
        nhs=nhs,
        unit_systems=unit_sys,
        population=pop,
        tiers=tiers,
        allowed=allowed,
        connected=connected,
        n_systems=n_systems,
        weights=w,
        cost=np.zeros(size),
        n_blocks=constraints.get("n_ccgs"),
        constraints=constraints,
        edges=edges,
        unit_level=unit_level,
        against=tuple(against),  # type: ignore[arg-type]
        unit_label=geo.label(unit_level) if geo is not None else "unit",
        unit_plural=geo.label(unit_level, plural=True) if geo is not None else "units",
        labels={
            slot: (geo.label(lv, plural=True) if geo is not None else lv)
            for slot, lv in zip(TIERS, against, strict=True)
        },
    )
    crit = sys.criteria()
    cost = np.zeros(size)
    for c, wc in w.items():
        if wc:
            cost += wc * crit[c]
    cost = _quantise(cost, n)
    cost[0] = 0.0
    sys.cost = cost
    return sys


def _unit_matrix(table: OverlapTable, codes: list[str]) -> tuple[np.ndarray, list[str]]:
    """The units × targets matrix of an overlap table (rows ``codes``) and its target codes."""
    pairs = table.pairs[table.pairs["unit"].isin(codes)]
    la = sorted(pairs["target"].unique().tolist())
    mat = np.zeros((len(codes), len(la)))
    np.add.at(
        mat,
        (
            pd.Categorical(pairs["unit"], categories=codes).codes,
            pd.Categorical(pairs["target"], categories=la).codes,
        ),
        pairs["value"].to_numpy(dtype=float),
    )
    return mat, la


def _extra_tiers(
    geo: Geography | None,
    tables: Mapping[str, OverlapTable],
    tiers: Mapping[str, _TierTable],
    codes: list[str],
    eps: float,
    unit_level: str,
    against: tuple[str, str],
    measure: str,
    levels: Sequence[str],
) -> dict[str, _TierTable]:
    """Footprint tables of the levels that constraints name (the slots' own when they match)."""
    out: dict[str, _TierTable] = {}
    for lv in dict.fromkeys(levels):
        if lv in against:
            out[lv] = tiers[TIERS[against.index(lv)]]
            continue
        if geo is None:
            msg = f"a constraint on {lv!r} needs a Geography (or make it one of against=)"
            raise ParameterError(msg)
        table = overlap(geo, unit_level, lv, measure=measure)  # type: ignore[arg-type]
        mat, la = _unit_matrix(table, codes)
        out[lv] = _tier_table(
            mat,
            table.unit_totals.reindex(codes).to_numpy(dtype=float),
            table.target_totals.reindex(la).to_numpy(dtype=float),
            eps,
            la,
            [str(geo.units(lv)["name"].get(c, c)) for c in la],
        )
    return out


def _block_values(sys: _System) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block sums, mins and multi bitsets for the enumeration kernels."""
    crit = sys.criteria()
    cols = {
        "j_utla": sys.tiers["utla"].j,
        "j_ltla": sys.tiers["ltla"].j,
        "pop_sq": sys.population**2,
        "cost": sys.cost,
        **crit,
    }
    sums = np.column_stack([cols[c] for c in _SUMS])
    mins = np.column_stack(
        [sys.tiers["utla"].j, sys.tiers["ltla"].j, sys.population, -sys.population]
    )
    multi = np.hstack([sys.tiers[t].touched_bits for t in TIERS])
    return sums, mins, multi


def _byte_tables(sys: _System) -> list[list[tuple[int, int, np.ndarray]]]:
    """(multi column, shift, 256-entry table of people) for split_people, per tier."""
    out = []
    col0 = 0
    for tier in TIERS:
        tt = sys.tiers[tier]
        n_la = len(tt.la_codes)
        words = tt.touched_bits.shape[1]
        tabs = []
        for w in range(words):
            for b in range(8):
                base = w * 64 + b * 8
                if base >= n_la:
                    break
                vals = np.zeros(256)
                for v in range(256):
                    vals[v] = sum(
                        tt.in_system[base + i] for i in range(8) if (v >> i) & 1 and base + i < n_la
                    )
                tabs.append((col0 + w, b * 8, vals))
        out.append(tabs)
        col0 += words
    return out


# =============================================================================================
# per-plan scores from aggregates
# =============================================================================================
def _finalise(
    sys: _System,
    count: np.ndarray,
    sums: np.ndarray,
    mins: np.ndarray,
    twice: np.ndarray,
    tables: list[Any] | None = None,
) -> dict[str, np.ndarray]:
    """Turn kernel aggregates into the plan columns (numpy)."""
    tables = tables if tables is not None else _byte_tables(sys)
    k = count.astype(np.int16)
    kf = count.astype(np.float64)
    si = {c: i for i, c in enumerate(_SUMS)}
    out: dict[str, np.ndarray] = {
        "n_ccgs": k,
        "objective": sums[:, si["cost"]],
        "non_contiguous": sums[:, si["non_contiguous"]].astype(np.int16),
    }
    for j, tier in enumerate(TIERS):
        out[f"mean_j_{tier}"] = sums[:, si[f"j_{tier}"]] / kf
        out[f"min_j_{tier}"] = mins[:, j]
        notc = sums[:, si[f"not_coterminous_{tier}"]].astype(np.int16)
        out[f"coterminous_{tier}"] = (k - notc).astype(np.int16)
        out[f"not_coterminous_{tier}"] = notc
        out[f"mismatch_{tier}"] = sums[:, si[f"mismatch_{tier}"]]
        out[f"split_pairs_{tier}"] = sums[:, si[f"split_pairs_{tier}"]].astype(np.int16)
    col = 0
    for tier, tabs in zip(TIERS, tables, strict=True):
        words = sys.tiers[tier].touched_bits.shape[1]
        n_split = np.zeros(count.size, dtype=np.int16)
        for w in range(words):
            n_split += _p.popcount(twice[:, col + w]).astype(np.int16)
        people = np.zeros(count.size)
        for c, shift, vals in tabs:
            people += vals[((twice[:, c] >> np.uint64(shift)) & np.uint64(255)).astype(np.intp)]
        out[f"split_las_{tier}"] = n_split
        out[f"split_people_{tier}"] = people
        col += words
    outside = sums[:, si["outside_band"]].astype(np.int16)
    out["in_band"] = (k - outside).astype(np.int16)
    out["outside_band"] = outside
    out["band_gap"] = sums[:, si["band_gap"]]
    out["min_population"] = mins[:, 2]
    out["max_population"] = -mins[:, 3]
    total = sys.total_population
    if total > 0:
        out["population_cv"] = np.sqrt(np.maximum(kf * sums[:, si["pop_sq"]] / total**2 - 1.0, 0.0))
    else:
        out["population_cv"] = np.zeros(count.size)
    return out


_FINAL = tuple(c for c in PLAN_COLUMNS if c != "plan_id")
_INT_FINAL = {
    "n_ccgs", "coterminous_utla", "coterminous_ltla", "not_coterminous_utla",
    "not_coterminous_ltla", "split_las_utla", "split_las_ltla", "split_pairs_utla",
    "split_pairs_ltla", "in_band", "outside_band", "non_contiguous",
}  # fmt: skip
_INT_COLS = tuple(c for c in _FINAL if c in _INT_FINAL)  # int16 columns
_FLOAT_COLS = tuple(c for c in _FINAL if c not in _INT_FINAL)  # float64 columns

# column positions, as compile-time constants of the compiled kernel
_S_J_UTLA = _SUMS.index("j_utla")
_S_J_LTLA = _SUMS.index("j_ltla")
_S_NOT_COTERMINOUS_UTLA = _SUMS.index("not_coterminous_utla")
_S_NOT_COTERMINOUS_LTLA = _SUMS.index("not_coterminous_ltla")
_S_MISMATCH_UTLA = _SUMS.index("mismatch_utla")
_S_MISMATCH_LTLA = _SUMS.index("mismatch_ltla")
_S_SPLIT_PAIRS_UTLA = _SUMS.index("split_pairs_utla")
_S_SPLIT_PAIRS_LTLA = _SUMS.index("split_pairs_ltla")
_S_OUTSIDE_BAND = _SUMS.index("outside_band")
_S_BAND_GAP = _SUMS.index("band_gap")
_S_POP_SQ = _SUMS.index("pop_sq")
_S_COST = _SUMS.index("cost")
_S_NON_CONTIGUOUS = _SUMS.index("non_contiguous")
_I_N_CCGS = _INT_COLS.index("n_ccgs")
_X_OBJECTIVE = _FLOAT_COLS.index("objective")
_I_NON_CONTIGUOUS = _INT_COLS.index("non_contiguous")
_X_MEAN_J_UTLA = _FLOAT_COLS.index("mean_j_utla")
_X_MIN_J_UTLA = _FLOAT_COLS.index("min_j_utla")
_X_MEAN_J_LTLA = _FLOAT_COLS.index("mean_j_ltla")
_X_MIN_J_LTLA = _FLOAT_COLS.index("min_j_ltla")
_I_COTERMINOUS_UTLA = _INT_COLS.index("coterminous_utla")
_I_COTERMINOUS_LTLA = _INT_COLS.index("coterminous_ltla")
_I_NOT_COTERMINOUS_UTLA = _INT_COLS.index("not_coterminous_utla")
_I_NOT_COTERMINOUS_LTLA = _INT_COLS.index("not_coterminous_ltla")
_X_MISMATCH_UTLA = _FLOAT_COLS.index("mismatch_utla")
_X_MISMATCH_LTLA = _FLOAT_COLS.index("mismatch_ltla")
_I_SPLIT_LAS_UTLA = _INT_COLS.index("split_las_utla")
_X_SPLIT_PEOPLE_UTLA = _FLOAT_COLS.index("split_people_utla")
_I_SPLIT_LAS_LTLA = _INT_COLS.index("split_las_ltla")
_X_SPLIT_PEOPLE_LTLA = _FLOAT_COLS.index("split_people_ltla")
_I_SPLIT_PAIRS_UTLA = _INT_COLS.index("split_pairs_utla")
_I_SPLIT_PAIRS_LTLA = _INT_COLS.index("split_pairs_ltla")
_I_IN_BAND = _INT_COLS.index("in_band")
_I_OUTSIDE_BAND = _INT_COLS.index("outside_band")
_X_BAND_GAP = _FLOAT_COLS.index("band_gap")
_X_MIN_POPULATION = _FLOAT_COLS.index("min_population")
_X_MAX_POPULATION = _FLOAT_COLS.index("max_population")
_X_POPULATION_CV = _FLOAT_COLS.index("population_cv")


@dataclass
class _Scored:
    """One chunk of scored plans: columns, and where to find each plan's blocks."""

    cols: dict[str, np.ndarray]
    plan: Any  # partitions._Plan
    frontier: np.ndarray
    suffix: np.ndarray

    def blocks(self, sel: np.ndarray | None = None) -> np.ndarray:
        if sel is None:
            return self.plan.blocks(self.frontier, self.suffix)
        return self.plan.blocks(self.frontier[sel], self.suffix[sel])


def _score_chunks(
    sys: _System,
    *,
    first: tuple[int, int] | None = None,
    backend: str = "numpy",
    chunk_size: int = 1 << 16,
    table_rows: int = 1 << 20,
) -> Iterator[_Scored]:
    """Every plan of a system, scored chunk by chunk (ids start at 0 for a ``first`` slice).

    numpy: the generic kernels of :mod:`coterminus.partitions` then :func:`_finalise`. numba: one
    compiled pass from the prefix/suffix tables straight to the plan columns (no intermediate
    aggregates), with the same arithmetic in the same order, so the columns are identical.
    """
    sums, mins, multi = _block_values(sys)
    tables = _byte_tables(sys)
    if backend != "numba":
        for chunk in _p.enumerate_partitions(
            sys.n,
            allowed=sys.allowed,
            sums=sums,
            mins=mins,
            multi=multi,
            n_blocks=sys.n_blocks,
            first=first,
            chunk_size=chunk_size,
            table_rows=table_rows,
            backend="numpy",
        ):
            cols = _finalise(sys, chunk.n_blocks, chunk.sums, chunk.mins, chunk.multi, tables)
            cols["plan_id"] = chunk.ids
            yield _Scored(cols, chunk.plan, chunk.frontier, chunk.suffix)
        return
    plan, _ = _p.prepare_enumeration(sys.n, sys.allowed, sums, mins, None, multi, first, table_rows, False)
    flat = [(ti, c, shift, vals) for ti, tabs in enumerate(tables) for c, shift, vals in tabs]
    tab_tier = np.array([f[0] for f in flat], dtype=np.int64)
    tab_col = np.array([f[1] for f in flat], dtype=np.int64)
    tab_shift = np.array([f[2] for f in flat], dtype=np.int64)
    tab_vals = np.array([f[3] for f in flat], dtype=np.float64).reshape(len(flat), 256)
    words_u = sys.tiers["utla"].touched_bits.shape[1]
    total = sys.total_population
    t2 = total**2 if total > 0 else 0.0
    lo_k, hi_k = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    next_id = 0
    for f_lo, f_hi in _p.frontier_ranges(plan, chunk_size):
        starts, bases = _p.plan_runs(plan, f_lo, f_hi)
        out_f, out_r = _p.run_pairs(f_lo, starts, bases, kind="numba")
        m = out_f.size
        out_x = np.empty((len(_FLOAT_COLS), m))
        out_i = np.empty((len(_INT_COLS), m), dtype=np.int16)
        _score_kernel(
            f_lo, starts, bases, plan.f_depth, plan.f_sums, plan.f_mins, plan.f_once, plan.f_twice,
            plan.t_count, plan.t_sums, plan.t_mins, plan.t_once, plan.t_twice,
            tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
        )  # fmt: skip
        cols = {c: out_x[i] for i, c in enumerate(_FLOAT_COLS)}
        cols.update({c: out_i[i] for i, c in enumerate(_INT_COLS)})
        if lo_k > 1 or hi_k < sys.n:
            keep = (cols["n_ccgs"] >= lo_k) & (cols["n_ccgs"] <= hi_k)
            if not keep.all():
                cols = {c: v[keep] for c, v in cols.items()}
                out_f, out_r = out_f[keep], out_r[keep]
        if out_f.size == 0:
            continue
        cols["plan_id"] = np.arange(next_id, next_id + out_f.size, dtype=np.int64)
        next_id += out_f.size
        yield _Scored(cols, plan, out_f, out_r)


if _p.HAVE_NUMBA:
    import numba as _numba

    @_numba.njit(cache=True, nogil=True)
    def _score_kernel(
        f_lo, starts, bases, f_depth, f_sums, f_mins, f_once, f_twice, t_count, t_sums, t_mins,
        t_once, t_twice, tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
    ):  # fmt: skip  # pragma: no cover - compiled
        n_sums = f_sums.shape[1]
        n_words = f_once.shape[1]
        s = np.empty(n_sums)
        mn = np.empty(4)
        tw = np.empty(n_words, dtype=np.uint64)
        for i in range(bases.size):  # the runs of partitions._runs
            f = f_lo + i
            r0 = bases[i] - starts[i]
            for p in range(starts[i], starts[i + 1]):
                r = r0 + p
                for j in range(n_sums):
                    s[j] = f_sums[f, j] + t_sums[r, j]
                for j in range(4):
                    x = f_mins[f, j]
                    y = t_mins[r, j]
                    mn[j] = x if x < y else y
                for w in range(n_words):
                    tw[w] = f_twice[f, w] | t_twice[r, w] | (f_once[f, w] & t_once[r, w])
                k = f_depth[f] + t_count[r]
                kf = float(k)
                out_i[_I_N_CCGS, p] = k
                out_x[_X_OBJECTIVE, p] = s[_S_COST]
                out_i[_I_NON_CONTIGUOUS, p] = np.int16(s[_S_NON_CONTIGUOUS])
                out_x[_X_MEAN_J_UTLA, p] = s[_S_J_UTLA] / kf
                out_x[_X_MEAN_J_LTLA, p] = s[_S_J_LTLA] / kf
                out_x[_X_MIN_J_UTLA, p] = mn[0]
                out_x[_X_MIN_J_LTLA, p] = mn[1]
                nu = np.int16(s[_S_NOT_COTERMINOUS_UTLA])
                nl = np.int16(s[_S_NOT_COTERMINOUS_LTLA])
                out_i[_I_COTERMINOUS_UTLA, p] = k - nu
                out_i[_I_COTERMINOUS_LTLA, p] = k - nl
                out_i[_I_NOT_COTERMINOUS_UTLA, p] = nu
                out_i[_I_NOT_COTERMINOUS_LTLA, p] = nl
                out_x[_X_MISMATCH_UTLA, p] = s[_S_MISMATCH_UTLA]
                out_x[_X_MISMATCH_LTLA, p] = s[_S_MISMATCH_LTLA]
                out_i[_I_SPLIT_PAIRS_UTLA, p] = np.int16(s[_S_SPLIT_PAIRS_UTLA])
                out_i[_I_SPLIT_PAIRS_LTLA, p] = np.int16(s[_S_SPLIT_PAIRS_LTLA])
                n_u = 0
                n_l = 0
                for w in range(n_words):
                    x = tw[w]
                    c = 0
                    while x:
                        x &= x - np.uint64(1)
                        c += 1
                    if w < words_u:
                        n_u += c
                    else:
                        n_l += c
                out_i[_I_SPLIT_LAS_UTLA, p] = n_u
                out_i[_I_SPLIT_LAS_LTLA, p] = n_l
                pe_u = 0.0
                pe_l = 0.0
                for q in range(tab_col.size):
                    v = (tw[tab_col[q]] >> np.uint64(tab_shift[q])) & np.uint64(255)
                    if tab_tier[q] == 0:
                        pe_u += tab_vals[q, v]
                    else:
                        pe_l += tab_vals[q, v]
                out_x[_X_SPLIT_PEOPLE_UTLA, p] = pe_u
                out_x[_X_SPLIT_PEOPLE_LTLA, p] = pe_l
                ob = np.int16(s[_S_OUTSIDE_BAND])
                out_i[_I_IN_BAND, p] = k - ob
                out_i[_I_OUTSIDE_BAND, p] = ob
                out_x[_X_BAND_GAP, p] = s[_S_BAND_GAP]
                out_x[_X_MIN_POPULATION, p] = mn[2]
                out_x[_X_MAX_POPULATION, p] = -mn[3]
                if t2 > 0:
                    v2 = kf * s[_S_POP_SQ] / t2 - 1.0
                    out_x[_X_POPULATION_CV, p] = np.sqrt(v2) if v2 > 0.0 else 0.0
                else:
                    out_x[_X_POPULATION_CV, p] = 0.0

else:  # pragma: no cover

    def _score_kernel(*args: Any) -> None:  # type: ignore[misc]
        raise AssertionError


_SPLIT_CHUNK = 1 << 18


def _split_columns(sys: _System, blocks: np.ndarray, split: np.ndarray) -> dict[str, np.ndarray]:
    """Plan columns of given plans by the reference kernel, bit for bit.

    ``blocks[i, :split[i]]`` is plan ``i``'s prefix (added left to right, as the frontier of
    :mod:`coterminus.partitions` does) and the rest its memo-table suffix (added right to left),
    so every sum is formed in the same order as in a full :func:`_score_chunks` pass.
    """
    sums, mins, multi = _block_values(sys)
    sums, mins, multi = sums.copy(), mins.copy(), multi.copy()
    sums[0], mins[0], multi[0] = 0.0, np.inf, 0
    b = np.asarray(blocks, dtype=np.int64)
    split = np.asarray(split, dtype=np.int64)
    m = b.shape[0]
    if m > _SPLIT_CHUNK:  # bounded memory: a few hundred bytes per plan and chunk
        parts = [
            _split_columns(sys, b[i : i + _SPLIT_CHUNK], split[i : i + _SPLIT_CHUNK])
            for i in range(0, m, _SPLIT_CHUNK)
        ]
        return {c: np.concatenate([q[c] for q in parts]) for c in parts[0]}
    f_depth = np.zeros(m, dtype=np.int16)
    f_sums = np.zeros((m, sums.shape[1]))
    f_mins = np.full((m, mins.shape[1]), np.inf)
    f_once = np.zeros((m, multi.shape[1]), dtype=np.uint64)
    f_twice = np.zeros_like(f_once)
    t_count = np.zeros(m, dtype=np.int16)
    t_sums = np.zeros_like(f_sums)
    t_mins = np.full_like(f_mins, np.inf)
    t_once = np.zeros_like(f_once)
    t_twice = np.zeros_like(f_once)
    width = b.shape[1]
    for j in range(width):  # prefix blocks, left to right
        live = (j < split) & (b[:, j] != 0)
        if not live.any():
            continue
        blk = b[live, j]
        f_depth[live] += 1
        f_sums[live] = f_sums[live] + sums[blk]
        f_mins[live] = np.minimum(f_mins[live], mins[blk])
        f_twice[live] = f_twice[live] | (f_once[live] & multi[blk])
        f_once[live] = f_once[live] | multi[blk]
    for j in range(width - 1, -1, -1):  # suffix blocks, right to left
        live = (j >= split) & (b[:, j] != 0)
        if not live.any():
            continue
        blk = b[live, j]
        t_count[live] += 1
        t_sums[live] = sums[blk] + t_sums[live]
        t_mins[live] = np.minimum(mins[blk], t_mins[live])
        t_twice[live] = t_twice[live] | (multi[blk] & t_once[live])
        t_once[live] = multi[blk] | t_once[live]
    tables = _byte_tables(sys)
    flat = [(ti, c, shift, vals) for ti, tabs in enumerate(tables) for c, shift, vals in tabs]
    tab_tier = np.array([f[0] for f in flat], dtype=np.int64)
    tab_col = np.array([f[1] for f in flat], dtype=np.int64)
    tab_shift = np.array([f[2] for f in flat], dtype=np.int64)
    tab_vals = np.array([f[3] for f in flat], dtype=np.float64).reshape(len(flat), 256)
    words_u = sys.tiers["utla"].touched_bits.shape[1]
    total = sys.total_population
    t2 = total**2 if total > 0 else 0.0
    starts = np.arange(m + 1, dtype=np.int64)
    bases = np.arange(m, dtype=np.int64)
    out_x = np.empty((len(_FLOAT_COLS), m))
    out_i = np.empty((len(_INT_COLS), m), dtype=np.int16)
    if m:
        _score_kernel(
            0, starts, bases, f_depth, f_sums, f_mins, f_once, f_twice, t_count, t_sums, t_mins,
            t_once, t_twice, tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
        )  # fmt: skip
    cols = {c: out_x[i] for i, c in enumerate(_FLOAT_COLS)}
    cols.update({c: out_i[i] for i, c in enumerate(_INT_COLS)})
    return cols


def _reference_split(
    sys: _System, blocks: np.ndarray, first: tuple[int, int] | None, table_rows: int = 1 << 20
) -> np.ndarray:
    """How many leading blocks of each plan the per-plan kernel takes as its prefix.

    That kernel (:func:`_score_chunks`, memo tables of ``table_rows``) adds a plan's first
    blocks while more than ``s`` units remain, then a memoised suffix; floating-point sums
    depend on that split, so kept plans are recomputed with it.
    """
    rec = _p.build_recursion(sys.n, sys.allowed)
    s = _p.suffix_size(sys.n, rec.counts, table_rows)
    b = np.asarray(blocks, dtype=np.int64)
    split = np.zeros(b.shape[0], dtype=np.int64)
    if b.shape[0] == 0 or (s >= sys.n and first is None):
        return split
    rem = np.full(b.shape[0], (1 << sys.n) - 1, dtype=np.int64)
    rem ^= b[:, 0]
    split[:] = 1
    for j in range(1, b.shape[1]):
        more = _p.popcount(rem) > s
        if not more.any():
            break
        rem[more] ^= b[more, j]
        split[more] += 1
    return split


def _select_piece(
    sys: _System,
    *,
    first: tuple[int, int] | None,
    id_offset: int,
    top: int,
    pareto_cols: Sequence[str],
    progress: Callable[[int], None] | None = None,
    hist: tuple[list[str], np.ndarray] | None = None,
) -> tuple[int, _TopK, _Pareto, np.ndarray | None]:
    """Top-k and Pareto front (and histograms) of one piece by the selection kernel."""
    crit = sys.criteria()
    pv = np.column_stack(
        [crit[c] for c in pareto_cols] if pareto_cols else [np.zeros((1 << sys.n, 0))]
    )
    lo_k, hi_k = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    hist_values = None
    if hist is not None:
        hist_values = np.column_stack([_hist_values(sys, name) for name in hist[0]])
    sel = _sel.select(
        sys.n, allowed=sys.allowed, cost=sys.cost, pv=pv, top=top, n_blocks=(lo_k, hi_k),
        first=first, progress=progress, hist_values=hist_values,
        hist_bins=None if hist is None else hist[1],
    )  # fmt: skip
    top_k = _TopK(top)
    if sel.top_id.size:
        order = np.lexsort((sel.top_id, sel.top_obj))
        blocks = sel.top_blocks[order]
        cols = _split_columns(sys, blocks, _reference_split(sys, blocks, first))
        cols["plan_id"] = sel.top_id[order] + id_offset
        top_k.cols = cols
        top_k.blocks = blocks.astype(np.int32)
    front = _Pareto(list(pareto_cols))
    if pareto_cols and sel.front_id.size:
        split = _reference_split(sys, sel.front_blocks, first)
        cols = _split_columns(sys, sel.front_blocks, split)
        x = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in pareto_cols])
        front._set(x, sel.front_id + id_offset, sel.front_count, sel.front_blocks.astype(np.int32))
    return sel.n_plans, top_k, front, sel.hist


def _hist_values(sys: _System, name: str) -> np.ndarray:
    return sys.cost if name == "objective" else sys.criteria()[name]


def _hist_spec(sys: _System) -> tuple[list[str], np.ndarray]:
    """Histograms of a summary run: the objective, n_ccgs and every weighted criterion.

    Bins cover ``[0, U]`` with :math:`U = \\sum_u \\max_{S \\ni u} v(S)`, an upper bound of any
    plan's sum (each block is charged to its lowest unit); whole-number criteria with
    :math:`U \\le 512` get one bin per value, others 64 equal bins.
    """
    names = ["objective", "n_ccgs", *[c for c, w in sys.weights.items() if w and c != "n_ccgs"]]
    masks = np.arange(1 << sys.n, dtype=np.int64)
    rows = []
    for name in names:
        v = _hist_values(sys, name)
        upper = sum(float(v[(masks >> u) & 1 == 1].max()) for u in range(sys.n))
        if np.all(v == np.round(v)) and upper <= 512:
            rows.append((-0.5, 1.0, int(upper) + 1))
        else:
            rows.append((0.0, upper / 64 if upper > 0 else 1.0, 64))
    return names, np.array(rows, dtype=float)


def _hist_frame(spec: tuple[list[str], np.ndarray], counts: np.ndarray) -> pd.DataFrame:
    """One row per (criterion, bin): ``low``, ``high`` (a whole-number bin has low = high)."""
    out = []
    for j, name in enumerate(spec[0]):
        lo, w, nb = spec[1][j]
        whole = lo == -0.5 and w == 1.0
        for b in range(int(nb)):
            low = b if whole else lo + b * w
            out.append((name, b, low, b if whole else low + w, int(counts[j, b])))
    return pd.DataFrame(out, columns=["criterion", "bin", "low", "high", "plans"])


def _direct_aggregates(sys: _System, blocks: np.ndarray) -> tuple[np.ndarray, ...]:
    """Aggregates of given plans (block masks, 0-padded) by plain look-ups."""
    sums_v, mins_v, multi_v = _block_values(sys)
    b = np.asarray(blocks, dtype=np.int64)
    m = b.shape[0]
    sums = np.zeros((m, sums_v.shape[1]))
    mins = np.full((m, mins_v.shape[1]), np.inf)
    once = np.zeros((m, multi_v.shape[1]), dtype=np.uint64)
    twice = np.zeros_like(once)
    count = (b != 0).sum(axis=1).astype(np.int16)
    for j in range(b.shape[1]):
        col = b[:, j]
        live = col != 0
        sums[live] += sums_v[col[live]]
        mins[live] = np.minimum(mins[live], mins_v[col[live]])
        v = np.where(live[:, None], multi_v[col], np.uint64(0))
        twice |= once & v
        once |= v
    return count, sums, mins, twice


# =============================================================================================
# public: footprint table, scoring given plans
# =============================================================================================
def _resolve_units(
    geo: Geography,
    system: str | None,
    units: Sequence[str] | None,
    unit_level: str | None = None,
    within: str | None = None,
) -> tuple[str | None, str, list[str], str]:
    """System code/name, the unit codes and their level, with vintage and membership checks."""
    code = None
    name = "custom set of units"
    members: list[str] | None = None
    if system is not None:
        glevel = within
        if glevel is None and unit_level is None:
            glevel = geo.manifest.defaults.get("systems") if geo.manifest is not None else None
        try:
            code = geo.code(system, glevel) if glevel else geo.code(system)
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(system))
            if hint:
                msg = f"{system!r} is not a {geo.vintage} group: {hint}"
                raise VintageMismatchError(msg) from exc
            raise
        glevel = geo.level_of_group(code, glevel)
        name = geo.name(code)
        members = list(geo.members(code, unit_level, within=glevel))
        if unit_level is None and members:
            unit_level = geo.level_of(members[0])
    if units is not None:
        if isinstance(units, str):
            units = [units]
        codes = _unit_codes(geo, units, unit_level)
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            msg = f"units list {dupes} more than once; give each unit once."
            raise FootprintError(msg)
        if unit_level is None:
            unit_level = geo.level_of(codes[0])
        if members is not None:
            outside = [c for c in codes if c not in members]
            if outside:
                where = ", ".join(f"{c} ({geo.name(c)})" for c in outside)
                msg = (
                    f"{len(outside)} unit(s) are not in {name} ({code}) in {geo.vintage}: {where}. "
                    f"Its units are {members}; drop the system to mix groups (blocks then stay "
                    "within one group unless within_system=False)."
                )
                raise FootprintError(msg)
        members = codes
    if members is None:
        msg = "give system= (a name or code) or units= (codes or names of units)"
        raise ParameterError(msg)
    if not members or unit_level is None:
        msg = f"{name} has no units of {unit_level or 'a finer level'} in {geo.vintage}"
        raise FootprintError(msg)
    return code, name, members, unit_level


def _unit_codes(geo: Geography, queries: Sequence[str], level: str | None = None) -> list[str]:
    out: list[str] = []
    problems: list[str] = []
    other: list[str] = []
    for q in queries:
        try:
            out.append(geo.code(str(q), level=level))
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(q))
            (other if hint else problems).append(hint or str(exc.args[0] if exc.args else exc))
    if other:
        msg = f"unit(s) of another vintage given for {geo.vintage}: " + "; ".join(other)
        raise VintageMismatchError(msg)
    if problems:
        raise UnknownAreaError("; ".join(problems))
    return out


def footprint_table(
    source: Geography | Mapping[str, OverlapTable],
    members: str | Sequence[str],
    *,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    band: tuple[float, float] = DEFAULT_BAND,
    contiguous: bool = False,
    overrides: Mapping[tuple[str, str], bool] | None = None,
) -> pd.DataFrame:
    """Metrics of every candidate footprint (all ``2**n - 1`` non-empty subsets) of some CCGs.

    Parameters
    ----------
    source : Geography or mapping of tier to OverlapTable
        A loaded vintage, or overlap tables ``{"utla": ..., "ltla": ...}`` (units × LAs).
    members : str or sequence of str
        A system (name or E54 code; needs a Geography) or CCG codes.
    tolerance : float, optional
        ε (default 0.005 for population, 0.03 for area).
    measure : {"population", "area"}
        Used with a Geography.
    band : (float, float)
        Population band for ``in_band``.
    contiguous : bool
        Add a ``connected`` column (needs polygons).
    overrides : mapping, optional
        Adjacency overrides for ``connected``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``mask`` (bit ``i`` = ``attrs["members"][i]``): ``members``, ``n_members``,
        ``population``, ``in_band``, ``band_gap``, ``n_systems`` and per tier ``j_<tier>``,
        ``coterminous_<tier>``, ``best_fit_<tier>``, ``n_contained_<tier>``,
        ``n_split_<tier>``, ``mismatch_<tier>``, ``outside_best_fit_<tier>``,
        ``best_fit_outside_<tier>``.

    Notes
    -----
    Built by the recurrence :math:`m_F = m_{F \\setminus \\{u\\}} + M_u` over masks (vectorised by
    doubling: the masks with top bit :math:`i` are the masks below plus unit :math:`i`), then the
    formulas of :mod:`coterminus.metrics` on every row at once.

    Examples
    --------
    Two CCGs that are exactly two councils, and a third that is half of a third council:

    >>> import pandas as pd
    >>> from coterminus.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "C", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 0]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> ft = footprint_table({"utla": t, "ltla": t}, ["A", "B"])
    >>> ft[["members", "population", "j_utla", "coterminous_utla", "best_fit_utla"]]
         members  population  j_utla  coterminous_utla best_fit_utla
    mask
    1          A      300000     1.0              True             X
    2          B      200000     1.0              True             Y
    3        A+B      500000     1.0              True           X+Y
    """
    level = None
    if isinstance(members, str):
        if isinstance(source, Mapping):
            members = [members]
        else:
            _, _, members, level = _resolve_units(source, members, None)
    codes = list(members)
    if not isinstance(source, Mapping):
        codes = _unit_codes(source, codes, level)
        level = level or source.level_of(codes[0]) if codes else level
    if not codes:
        msg = "members is empty; give at least one unit"
        raise FootprintError(msg)
    extra: dict[str, Any] = {}
    if level is not None and not isinstance(source, Mapping):
        extra = {
            "unit_level": level,
            "against": _against_slots(source, level, None),
            "within": source.parent(level),
        }
    sys = _build_system(
        source,
        codes,
        **extra,
        code=None,
        name="footprints",
        measure=measure,
        tolerance=tolerance,
        band=_check_band(band, "band"),
        weights=None,
        contiguous=contiguous,
        overrides=overrides,
        within_system=False,
    )
    return _footprint_frame(sys)


def _mask_labels(codes: Sequence[str], masks: np.ndarray, sep: str = "+") -> list[str]:
    return [sep.join(codes[i] for i in range(len(codes)) if (int(m) >> i) & 1) for m in masks]


def _footprint_frame(sys: _System) -> pd.DataFrame:
    n = sys.n
    masks = np.arange(1, 1 << n, dtype=np.int64)
    lo, hi = sys.band
    pop = sys.population[masks]
    as_people = np.int64 if sys.measure == "population" else np.float64
    data: dict[str, Any] = {
        "members": _mask_labels(sys.codes, masks),
        "n_members": _p.popcount(masks),
        "population": pop.astype(np.int64),
        "in_band": (pop >= lo) & (pop <= hi),
        "band_gap": np.maximum(np.maximum(lo - pop, pop - hi), 0).astype(np.int64),
        "n_systems": sys.n_systems[masks],
    }
    for tier in TIERS:
        tt = sys.tiers[tier]
        data[f"j_{tier}"] = tt.j[masks]
        data[f"coterminous_{tier}"] = tt.coterminous[masks]
        data[f"best_fit_{tier}"] = [
            "+".join(c for c, b in zip(tt.la_codes, row, strict=True) if b)
            for row in tt.best_fit[masks]
        ]
        data[f"n_contained_{tier}"] = tt.n_contained[masks]
        data[f"n_split_{tier}"] = tt.n_split[masks]
        for c in ("mismatch", "outside_best_fit", "best_fit_outside"):
            data[f"{c}_{tier}"] = getattr(tt, c)[masks].astype(as_people)
    if sys.connected is not None:
        data["connected"] = sys.connected[masks]
    frame = pd.DataFrame(data, index=pd.Index(masks, name="mask"))
    frame.attrs.update(
        {
            "members": list(sys.codes),
            "tolerance": sys.tolerance,
            "measure": sys.measure,
            "band": sys.band,
        }
    )
    return frame


def _plans_to_blocks(sys: _System, geo: Geography | None, plans: Any) -> np.ndarray:
    """Plans as lists of blocks of CCG codes/names (or block-mask arrays) → (m, n) masks."""
    n = sys.n
    if isinstance(plans, np.ndarray) and plans.dtype.kind in "iu":
        arr = np.asarray(plans, dtype=np.int64)
        if arr.ndim == 1:
            arr = arr[None, :]
        rows: list[tuple[int, ...]] = [tuple(int(x) for x in r if x) for r in arr]
    else:
        pos = {c: i for i, c in enumerate(sys.codes)}
        rows = []
        for plan in plans:
            blocks: list[int] = []
            for block in plan:
                items = [block] if isinstance(block, str) else list(block)
                codes = _unit_codes(geo, items) if geo is not None else [str(x) for x in items]
                bad = [c for c in codes if c not in pos]
                if bad:
                    msg = f"plan names CCG(s) {bad} that are not among the units {sys.codes}"
                    raise FootprintError(msg)
                mask = 0
                for c in codes:
                    mask |= 1 << pos[c]
                blocks.append(mask)
            rows.append(tuple(blocks))
    out = np.zeros((len(rows), max(n, 1)), dtype=np.int64)
    full = (1 << n) - 1
    for r, plan_blocks in enumerate(rows):
        seen = 0
        for b in plan_blocks:
            if b & seen or b <= 0 or b > full:
                msg = (
                    f"plan {r} is not a partition: blocks {list(plan_blocks)} overlap or are empty"
                )
                raise FootprintError(msg)
            seen |= b
        if seen != full:
            missing = [sys.codes[i] for i in range(n) if not (seen >> i) & 1]
            msg = f"plan {r} leaves out CCG(s) {missing}; every CCG must be in one block"
            raise FootprintError(msg)
        ordered = sorted(plan_blocks, key=lambda b: b & -b)
        out[r, : len(ordered)] = ordered
    return out[:, :n]


def score_plans(
    geo: Geography,
    system: str | None,
    plans: Sequence[Sequence[Sequence[str] | str]] | np.ndarray,
    *,
    units: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    band: tuple[float, float] = DEFAULT_BAND,
) -> pd.DataFrame:
    """Score given merger plans by look-ups in the footprint table.

    Parameters
    ----------
    geo : Geography
    system : str or None
        System name or code (``None`` with ``units=``).
    plans : sequence of plans, or numpy.ndarray of block masks
        Each plan is a list of blocks, each block a list of CCG codes/names/NHS codes (a bare
        string is a one-CCG block).
    units, weights, tolerance, measure, band
        As in :func:`mergers`.

    Returns
    -------
    pandas.DataFrame
        One row per plan with :data:`PLAN_COLUMNS` (``plan_id`` is the row number),
        ``blocks`` (names), ``plan`` (codes) and ``test_ii_utla``/``test_ii_ltla``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> score_plans(geo, "Coventry and Warwickshire",
    ...             [[["05A", "05R", "05H"]]])[["n_ccgs", "min_j_utla"]]
       n_ccgs  min_j_utla
    0       1         1.0
    """
    code, name, codes, level = _resolve_units(geo, system, units)
    sys = _build_system(
        geo,
        codes,
        unit_level=level,
        against=_against_slots(geo, level, None),
        within=geo.parent(level),
        code=code,
        name=name,
        measure=measure,
        tolerance=tolerance,
        band=_check_band(band, "band"),
        weights=weights,
        within_system=False,
    )
    blocks = _plans_to_blocks(sys, geo, plans)
    count, sums, mins, twice = _direct_aggregates(sys, blocks)
    cols = _finalise(sys, count, sums, mins, twice)
    cols["plan_id"] = np.arange(blocks.shape[0], dtype=np.int64)
    frame = _columns_frame(sys, cols)
    return _add_readable(sys, frame, blocks)


def _columns_frame(sys: _System, cols: Mapping[str, np.ndarray]) -> pd.DataFrame:
    as_int = set(_ALWAYS_INT) | (set(_PEOPLE_COLUMNS) if sys.measure == "population" else set())
    data = {}
    for c in PLAN_COLUMNS:
        v = np.asarray(cols[c])
        data[c] = np.rint(v).astype(np.int64) if c in as_int else v
    return pd.DataFrame(data)


def _short(name: str) -> str:
    """A unit's name without "NHS" and organisational suffixes (CCG, ICB, Integrated Care Board)."""
    out = re.sub(r"\s+-\s+[A-Za-z0-9]{3,6}$", "", name)
    if out.startswith("NHS "):
        out = out[4:]
    for suffix in (" Integrated Care Board", " ICB", " CCG"):
        if out.endswith(suffix):
            out = out[: -len(suffix)]
    return out


def _slot_words(sys: _System, tier: str) -> str:
    """Words for a slot's level ("upper-tier councils", "combined authorities")."""
    return sys.labels[tier]


def _block_names(sys: _System, row: np.ndarray) -> str:
    parts = []
    for b in row:
        b = int(b)
        if b:
            parts.append(" + ".join(_short(sys.names[i]) for i in range(sys.n) if (b >> i) & 1))
    return " | ".join(parts)


def _block_codes(sys: _System, row: np.ndarray) -> str:
    return " | ".join(
        "+".join(sys.codes[i] for i in range(sys.n) if (int(b) >> i) & 1) for b in row if int(b)
    )


def _verdicts(sys: _System, blocks: np.ndarray, tier: str) -> list[str]:
    ok = sys.tiers[tier].coterminous
    return ["".join("Y" if ok[int(b)] else "N" for b in row if int(b)) for row in blocks]


def _labels_str(sys: _System, blocks: np.ndarray) -> list[str]:
    lab = _p.blocks_to_labels(blocks, sys.n)
    return ["".join(_LETTERS[x] for x in row) for row in lab]


def _add_readable(sys: _System, frame: pd.DataFrame, blocks: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    out["blocks"] = [_block_names(sys, r) for r in blocks]
    out["plan"] = [_block_codes(sys, r) for r in blocks]
    out["labels"] = _labels_str(sys, blocks)
    out["test_ii_utla"] = _verdicts(sys, blocks, "utla")
    out["test_ii_ltla"] = _verdicts(sys, blocks, "ltla")
    return out


# =============================================================================================
# streaming: top-k, Pareto archive, writer
# =============================================================================================
@dataclass
class _TopK:
    k: int
    cols: dict[str, np.ndarray] | None = None
    blocks: np.ndarray | None = None

    def update(
        self, cols: Mapping[str, np.ndarray], blocks_fn: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        if self.k <= 0:
            return
        obj = cols["objective"]
        if obj.size > self.k:
            kth = np.partition(obj, self.k - 1)[self.k - 1]
            if self.cols is not None and self.cols["objective"].size >= self.k:
                kth = min(kth, float(self.cols["objective"].max()))
            sel = np.nonzero(obj <= kth)[0]
        else:
            sel = np.arange(obj.size)
        if sel.size == 0:
            return
        cand = {c: np.asarray(v)[sel] for c, v in cols.items()}
        cand_blocks = blocks_fn(sel)
        if self.cols is not None:
            assert self.blocks is not None
            cand = {c: np.concatenate([self.cols[c], cand[c]]) for c in cand}
            cand_blocks = np.vstack([self.blocks, cand_blocks])
        order = np.lexsort((cand["plan_id"], cand["objective"]))[: self.k]
        self.cols = {c: v[order] for c, v in cand.items()}
        self.blocks = cand_blocks[order]

    def merge(self, other: _TopK) -> None:
        if other.cols is None:
            return
        blocks = other.blocks
        assert blocks is not None
        self.update(other.cols, lambda sel: blocks[sel])


@dataclass
class _Pareto:
    """Streaming archive of the non-dominated criteria vectors (all minimised)."""

    columns: list[str]
    x: np.ndarray | None = None  # (f, c)
    ids: np.ndarray | None = None  # smallest plan id with that vector
    counts: np.ndarray | None = None  # plans with that vector
    blocks: np.ndarray | None = None  # blocks of the representative plan

    def update(
        self,
        cols: Mapping[str, np.ndarray],
        blocks_fn: Callable[[np.ndarray], np.ndarray],
        *,
        objective: np.ndarray,
    ) -> None:
        if not self.columns:
            return
        x = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in self.columns])
        idx = np.arange(x.shape[0])
        # 1. filter by archive points and by a few strong seeds from this chunk
        seeds = [int(np.argmin(objective))]
        for j in range(x.shape[1]):  # lowest value of each criterion, best objective among ties
            at_min = np.nonzero(x[:, j] == x[:, j].min())[0]
            seeds.append(int(at_min[np.argmin(objective[at_min])]))
        filt = [x[s] for s in seeds]
        if self.x is not None:
            filt = [*list(self.x), *filt]
        idx = _not_dominated_by(x, idx, np.array(filt))
        rounds = 0
        rng = np.random.default_rng(0)
        while idx.size > 4096 and rounds < 16:  # more seeds: random positive weightings
            w = rng.random(x.shape[1]) + 0.05
            scale = np.maximum(np.abs(x[idx]).max(axis=0), 1e-12)
            pick = idx[int(np.argmin((x[idx] / scale) @ w))]
            idx = _not_dominated_by(x, idx, x[pick][None, :])
            rounds += 1
        if idx.size == 0:
            return
        ids = np.asarray(cols["plan_id"])[idx]
        cand_x = x[idx]
        cand_counts = np.ones(idx.size, dtype=np.int64)
        cand_blocks = blocks_fn(idx)
        if self.x is not None:
            assert self.ids is not None
            assert self.counts is not None
            assert self.blocks is not None
            cand_x = np.vstack([self.x, cand_x])
            ids = np.concatenate([self.ids, ids])
            cand_counts = np.concatenate([self.counts, cand_counts])
            cand_blocks = np.vstack([self.blocks, cand_blocks])
        self._set(cand_x, ids, cand_counts, cand_blocks)

    def _set(self, x: np.ndarray, ids: np.ndarray, counts: np.ndarray, blocks: np.ndarray) -> None:
        ux, inv = np.unique(x, axis=0, return_inverse=True)
        inv = inv.ravel()
        n_u = np.bincount(inv, weights=counts, minlength=ux.shape[0]).astype(np.int64)
        rep = np.full(ux.shape[0], np.iinfo(np.int64).max)
        np.minimum.at(rep, inv, ids)
        # the row holding the representative id, for its blocks
        pos = {int(i): r for r, i in enumerate(ids)}
        rep_rows = np.array([pos[int(i)] for i in rep])
        keep = _skyline(ux)
        self.x = ux[keep]
        self.ids = rep[keep]
        self.counts = n_u[keep]
        self.blocks = blocks[rep_rows[keep]]

    def merge(self, other: _Pareto) -> None:
        if other.x is None:
            return
        assert other.ids is not None
        assert other.counts is not None
        assert other.blocks is not None
        if self.x is None:
            self.x, self.ids, self.counts, self.blocks = (
                other.x,
                other.ids,
                other.counts,
                other.blocks,
            )
            return
        assert self.ids is not None
        assert self.counts is not None
        assert self.blocks is not None
        self._set(
            np.vstack([self.x, other.x]),
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.counts, other.counts]),
            np.vstack([self.blocks, other.blocks]),
        )


def _not_dominated_by(x: np.ndarray, idx: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Rows of ``x[idx]`` not strictly dominated by any of ``points``."""
    if _p.HAVE_NUMBA and idx.size > 10_000:
        keep = _filter_numba(x, idx, np.ascontiguousarray(points, dtype=np.float64))
        return idx[keep]
    for a in points:
        if idx.size == 0:
            break
        xs = x[idx]
        dom = np.all(xs >= a, axis=1) & np.any(xs > a, axis=1)
        if dom.any():
            idx = idx[~dom]
    return idx


def _skyline(ux: np.ndarray) -> np.ndarray:
    """Non-dominated rows of lexicographically sorted unique rows (boolean mask)."""
    keep = np.zeros(ux.shape[0], dtype=bool)
    front: list[int] = []
    for i in range(ux.shape[0]):
        if front:
            f = ux[front]
            if np.any(np.all(f <= ux[i], axis=1)):
                continue
        front.append(i)
        keep[i] = True
    return keep


if _p.HAVE_NUMBA:

    @_numba.njit(cache=True, nogil=True)
    def _filter_kernel(x, idx, points, keep):  # pragma: no cover - compiled
        c = x.shape[1]
        order = np.arange(points.shape[0])
        for r in range(idx.size):
            i = idx[r]
            dominated = False
            for q in range(order.size):
                p = order[q]
                ge = True
                gt = False
                for j in range(c):
                    if x[i, j] < points[p, j]:
                        ge = False
                        break
                    if x[i, j] > points[p, j]:
                        gt = True
                if ge and gt:
                    dominated = True
                    if q > 0:  # move the dominating point to the front
                        tmp = order[q]
                        order[q] = order[0]
                        order[0] = tmp
                    break
            keep[r] = not dominated

    def _filter_numba(x: np.ndarray, idx: np.ndarray, points: np.ndarray) -> np.ndarray:
        keep = np.empty(idx.size, dtype=np.bool_)
        _filter_kernel(np.ascontiguousarray(x), idx.astype(np.int64), points, keep)
        return keep

else:  # pragma: no cover

    def _filter_numba(x: np.ndarray, idx: np.ndarray, points: np.ndarray) -> np.ndarray:
        raise AssertionError


_PLAN_SUFFIXES = (".parquet", ".csv")


class _PlanWriter:
    """Streams plan chunks to a Parquet or CSV file (a temporary file of :func:`_plan_file`).

    Chunks are written by a background thread (pyarrow releases the GIL) while the next chunk is
    being scored; :meth:`finish` waits for it and closes the file, :meth:`abort` stops it.
    """

    def __init__(self, tmp: Path, path: Path, metadata: Mapping[str, Any]) -> None:
        self.tmp = tmp
        self.path = path
        self.kind = "csv" if path.name.lower().endswith(".csv") else "parquet"
        self.metadata = {b"coterminus": json.dumps(metadata, default=str).encode()}
        self._writer: Any = None
        self.rows = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="coterminus-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is not None:
                continue
            try:
                self._write_now(table)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def _write_now(self, table: Any) -> None:
        if self._writer is None:
            schema = table.schema.with_metadata(self.metadata)
            if self.kind == "parquet":
                import pyarrow.parquet as pq

                self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
            else:
                import pyarrow.csv as pcsv

                self._writer = pcsv.CSVWriter(self.tmp, schema)
        self._writer.write_table(table.replace_schema_metadata(self.metadata))
        self.rows += table.num_rows

    def _raise(self) -> None:
        if self._error is not None:
            err = self._error
            if isinstance(err, OSError) and not isinstance(err, OutputError):
                msg = f"cannot write {self.path}: {err}; nothing was kept. Choose another --out."
                raise OutputError(msg) from err
            raise err

    def write(self, table: Any) -> None:
        self._raise()
        self._queue.put(table)

    def _finish_thread(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def finish(self) -> None:
        self._finish_thread()
        self._raise()
        if self._writer is not None:
            self._writer.close()

    def abort(self) -> None:
        try:
            self._finish_thread()
            if self._writer is not None:
                self._writer.close()
        except Exception:  # cleaning up after another error
            log.debug("closing the partial plan file failed", exc_info=True)


@contextmanager
def _plan_file(
    out: str | os.PathLike[str] | None, systems: Sequence[_System]
) -> Iterator[_PlanWriter | None]:
    """A :class:`_PlanWriter` onto ``out`` (``None`` without ``out``) for the ``with`` block.

    The file appears, complete, when the block succeeds; on any error nothing is left
    (:func:`coterminus._atomic.atomic_path`).
    """
    if out is None:
        yield None
        return
    with atomic_path(out, suffixes=_PLAN_SUFFIXES) as tmp:
        writer = _PlanWriter(tmp, Path(out), _file_metadata(systems))
        try:
            yield writer
            writer.finish()
        except BaseException:
            writer.abort()
            raise


_PEOPLE_COLUMNS = (
    "mismatch_utla",
    "mismatch_ltla",
    "split_people_utla",
    "split_people_ltla",
)
_ALWAYS_INT = ("band_gap", "min_population", "max_population")


def _arrow_chunk(
    sys: _System, cols: Mapping[str, np.ndarray], blocks: np.ndarray, *, with_system: bool
) -> Any:
    """An Arrow table of scored plans; labels/verdicts built from buffers, no Python strings."""
    import pyarrow as pa

    m, n = blocks.shape
    arrays: dict[str, Any] = {}
    if with_system:
        arrays["system"] = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(m, dtype=np.int32)), pa.array([sys.code or ""])
        )
    arrays["plan_id"] = pa.array(np.asarray(cols["plan_id"], dtype=np.int64))
    lab = _labels_numpy(blocks, n)
    data = (lab.astype(np.uint8) + ord("A")).ravel()
    offsets = np.arange(0, m * n + 1, n, dtype=np.int32)
    arrays["labels"] = pa.StringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(data))
    as_int = set(_ALWAYS_INT) | (set(_PEOPLE_COLUMNS) if sys.measure == "population" else set())
    for c in PLAN_COLUMNS[1:]:
        v = np.asarray(cols[c])
        if c in as_int:
            v = np.rint(v).astype(np.int64)
        arrays[c] = pa.array(v)
    live = blocks != 0
    k = live.sum(axis=1)
    offs = np.concatenate(([0], np.cumsum(k))).astype(np.int32)
    for tier in TIERS:
        ok = sys.tiers[tier].coterminous[blocks]
        chars = np.where(ok, ord("Y"), ord("N")).astype(np.uint8)[live]
        arrays[f"test_ii_{tier}"] = pa.StringArray.from_buffers(
            m, pa.py_buffer(offs), pa.py_buffer(np.ascontiguousarray(chars))
        )
    return pa.table(arrays)


def _labels_numpy(blocks: np.ndarray, n: int) -> np.ndarray:
    if _p.HAVE_NUMBA:
        out = np.empty(blocks.shape, dtype=np.int8)
        _labels_kernel(np.ascontiguousarray(blocks, dtype=np.int32), out)
        return out[:, :n]
    return _p.blocks_to_labels(blocks, n)


if _p.HAVE_NUMBA:

    @_numba.njit(cache=True, nogil=True)
    def _labels_kernel(blocks, out):  # pragma: no cover - compiled
        m, n = blocks.shape
        for r in range(m):
            for j in range(n):
                b = blocks[r, j]
                i = 0
                while b:
                    if b & 1:
                        out[r, i] = j
                    b >>= 1
                    i += 1


# =============================================================================================
# one enumeration piece (a whole system, or a slice of its first blocks): runs on workers too
# =============================================================================================
@dataclass
class _Piece:
    system: _System | None
    first: tuple[int, int] | None
    id_offset: int
    top: int
    pareto: list[str]
    backend: str
    chunk_size: int
    keep_rows: bool
    with_system: bool
    #: "auto": the selection kernel when nothing but the top-k and front is kept (numba, a
    #: front over sums); "reference": the per-plan kernel writing every plan column.
    method: str = "auto"
    #: Histograms over every plan: names of the summed values and their (low, width, bins).
    hist: tuple[list[str], np.ndarray] | None = None


#: Kernel of the pieces of every run ("auto" or "reference"); the benchmark switches it to time
#: the per-plan kernel against the selection kernel in one run.
_PIECE_METHOD = "auto"


def _use_selection(piece: _Piece, want_rows: bool) -> bool:
    return piece.hist is not None or (
        not want_rows
        and piece.method != "reference"
        and piece.backend == "numba"
        and _sel.supported(piece.pareto)
    )


@dataclass
class _PieceResult:
    n_plans: int
    top: _TopK
    pareto: _Pareto
    table: Any = None
    seconds: float = 0.0
    hist: np.ndarray | None = None


def _run_piece(
    piece: _Piece,
    *,
    sink: Callable[[Any], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> _PieceResult:
    t0 = time.perf_counter()
    sys = piece.system
    assert sys is not None
    top = _TopK(piece.top)
    front = _Pareto(list(piece.pareto))
    kept: list[Any] = []
    total = 0
    want_rows = sink is not None or piece.keep_rows
    if _use_selection(piece, want_rows):
        total, top, front, hist = _select_piece(
            sys, first=piece.first, id_offset=piece.id_offset, top=piece.top,
            pareto_cols=piece.pareto, progress=progress, hist=piece.hist,
        )  # fmt: skip
        return _PieceResult(total, top, front, None, time.perf_counter() - t0, hist)
    for scored in _score_chunks(
        sys, first=piece.first, backend=piece.backend, chunk_size=piece.chunk_size
    ):
        cols = scored.cols
        cols["plan_id"] = cols["plan_id"] + piece.id_offset
        every = scored.blocks() if want_rows else None

        def blocks_of(
            sel: np.ndarray, _s: _Scored = scored, _all: np.ndarray | None = every
        ) -> np.ndarray:
            return _all[sel] if _all is not None else _s.blocks(sel)

        top.update(cols, blocks_of)
        front.update(cols, blocks_of, objective=cols["objective"])
        if every is not None:
            table = _arrow_chunk(sys, cols, every, with_system=piece.with_system)
            if sink is not None:
                sink(table)
            else:
                kept.append(table)
        n_rows = int(cols["plan_id"].size)
        total += n_rows
        if progress is not None:
            progress(n_rows)
    table = None
    if kept:
        import pyarrow as pa

        table = pa.concat_tables(kept)
    return _PieceResult(total, top, front, table, time.perf_counter() - t0)


def _split_pieces(sys: _System, target: int) -> list[tuple[tuple[int, int] | None, int, int]]:
    """Slices of the first blocks with about ``target`` plans each: (first, id offset, count)."""
    blocks, counts = _p.first_block_counts(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
    total = int(counts.sum())
    if total <= target or blocks.size <= 1:
        return [(None, 0, total)]
    out: list[tuple[tuple[int, int] | None, int, int]] = []
    start = 0
    acc = 0
    offset = 0
    for i, c in enumerate(counts):
        acc += int(c)
        if acc >= target or i == counts.size - 1:
            out.append(((start, i + 1), offset, acc))
            offset += acc
            start = i + 1
            acc = 0
    return out


def _is_dask_client(executor: Any) -> bool:
    return (
        hasattr(executor, "scatter") and hasattr(executor, "gather") and hasattr(executor, "submit")
    )


def _executor_width(executor: Any) -> int:
    """Workers of an executor: a process/thread pool's size, a Dask cluster's threads (else 8)."""
    width = getattr(executor, "_max_workers", None)
    if width is None and _is_dask_client(executor) and hasattr(executor, "nthreads"):
        try:
            width = sum(executor.nthreads().values())
        except Exception:  # a cluster that cannot say: use the default
            width = None
    return max(int(width or 8), 1)


def _run_pieces(
    jobs: list[tuple[str, _Piece]],
    *,
    executor: Any,
    sink: Callable[[Any], None] | None,
    on_done: Callable[[str, _PieceResult], None],
    progress: Callable[[int], None] | None,
    window: int = 8,
) -> None:
    """Run pieces serially or on an executor; results are consumed in order (for the writer)."""
    if executor is None:
        for key, piece in jobs:
            on_done(key, _run_piece(piece, sink=sink, progress=progress))
        return
    if not hasattr(executor, "submit"):
        msg = (
            "executor must have .submit (a dask.distributed Client or a concurrent.futures "
            f"Executor), got {type(executor).__name__}"
        )
        raise ParameterError(msg)
    dask = _is_dask_client(executor)
    scattered: dict[int, Any] = {}

    def submit(piece: _Piece) -> Any:
        if dask:
            sid = id(piece.system)
            if sid not in scattered:
                scattered[sid] = executor.scatter(piece.system, broadcast=False, hash=False)
            light = _Piece(**{**piece.__dict__, "system": None})
            return executor.submit(_run_remote, scattered[sid], light, pure=False)
        return executor.submit(_run_piece, piece)

    pending: list[tuple[str, _Piece, Any]] = []
    it = iter(jobs)
    done_all = False
    while True:
        while not done_all and len(pending) < window:
            try:
                key, piece = next(it)
            except StopIteration:
                done_all = True
                break
            pending.append((key, piece, submit(piece)))
        if not pending:
            break
        key, piece, fut = pending.pop(0)
        res: _PieceResult = fut.result()
        if res.table is not None and sink is not None:
            sink(res.table)
            res.table = None
        if progress is not None:
            progress(res.n_plans)
        on_done(key, res)


def _run_remote(system: _System, piece: _Piece) -> _PieceResult:
    """Worker entry point: the system arrives separately (scattered once)."""
    piece = _Piece(**{**piece.__dict__, "system": system})
    return _run_piece(piece)


# =============================================================================================
# results
# =============================================================================================
def _slot_renamer(against: Sequence[str]) -> Callable[[str], str]:
    """``"j_utla"`` → ``"j_cauth"`` when the slots hold other levels (see :data:`TIERS`)."""
    mapping = dict(zip(TIERS, against, strict=True))
    if all(k == v for k, v in mapping.items()):
        return lambda s: s
    pattern = re.compile(r"_(" + "|".join(TIERS) + r")\b")
    return lambda s: pattern.sub(lambda m: "_" + mapping[m.group(1)], s)


def _criterion_text(
    c: str, labels: Mapping[str, str] | None = None, unit_plural: str | None = None
) -> str:
    """What a criterion measures, in the words of the levels its slot holds."""
    text = CRITERIA[c]
    if labels:
        for slot, word in (("utla", "upper"), ("ltla", "lower")):
            text = re.sub(rf"{word}-tier councils?\b", labels[slot], text)
            text = text.replace(f"at {word} tier", f"against {labels[slot]}")
    if unit_plural:
        text = text.replace("CCGs", unit_plural)
    return text


def _weights_text(
    weights: Mapping[str, float],
    measure: str,
    labels: Mapping[str, str] | None = None,
    rename: Callable[[str], str] = str,
    unit_plural: str | None = None,
) -> list[str]:
    lines = []
    for c, w in weights.items():
        if not w:
            continue
        unit = ""
        if c.startswith(("mismatch", "band_gap")):
            per = "person" if measure == "population" or c == "band_gap" else "m²"
            if per == "person" and w < 1:
                unit = f" per person ({w * 100_000:g} per 100,000 people)"
            else:
                unit = f" per {per}"
        lines.append(f"{rename(c)} × {w:g}{unit}: {_criterion_text(c, labels, unit_plural)}")
    return lines


@dataclass
class MergerResult:
    """Every merger plan of one system, ranked and explained.

    Attributes
    ----------
    system, system_name : str
        E54 code (``None`` for a custom list of units) and name.
    vintage : int
    members : pandas.DataFrame
        The CCGs, indexed by code, with ``name``, ``nhs_code``, ``population``, ``bit`` (the
        unit's position in masks and in ``labels``) and ``letter``.
    n_plans : int
        Plans enumerated (all plans satisfying the constraints).
    weights : dict
        Weight of every criterion (:data:`CRITERIA`), as used.
    top : pandas.DataFrame
        The best ``top`` plans by objective (ties: lowest ``plan_id``): :data:`PLAN_COLUMNS`,
        ``rank``, ``pareto`` (on the front?), ``blocks`` (CCG names per block, ``|`` between
        blocks), ``plan`` (codes), ``labels``, ``test_ii_utla``/``test_ii_ltla`` (Y/N per
        block), ``score_<criterion>`` (weight × value, summing to ``objective``) and
        ``reasons`` (in words).
    best : pandas.Series
        The optimum found by dynamic programming (equals ``top.iloc[0]``).
    pareto : pandas.DataFrame
        Non-dominated plans over ``pareto_on``: one row per distinct criteria vector, with the
        lowest plan id holding it and ``n_plans`` sharing it.
    adjacency : pandas.DataFrame or None
        Edges used for contiguity.
    out : pathlib.Path or None
        The full plan table, if written.
    """

    system: str | None
    system_name: str
    vintage: int | str | None
    measure: str
    tolerance: float
    band: tuple[float, float]
    members: pd.DataFrame
    n_plans: int
    constraints: dict[str, Any]
    weights: dict[str, float]
    pareto_on: list[str]
    top: pd.DataFrame
    best: pd.Series
    pareto: pd.DataFrame
    adjacency: pd.DataFrame | None
    out: Path | None
    seconds: float
    backend: str
    _system: _System = field(repr=False)
    #: Why ``out`` holds only the top-k and the Pareto front ("" when it holds every plan).
    out_note: str = ""
    #: Plans per bin of each criterion over every plan (summary runs with numba; else None).
    histograms: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (
            f"<MergerResult {self.system_name} ({self.system}, {self.vintage}): "
            f"{len(self.members)} {self._system.unit_plural}, {self.n_plans:,} plans; best: "
            f"{self.best['blocks'] if len(self.best) else '-'}>"
        )

    def plans(self, rows: int | None = None) -> list[list[list[str]]]:
        """The top plans as lists of blocks of CCG codes — the form maps and figures take.

        Examples
        --------
        >>> r = mergers(geo, "Coventry and Warwickshire")
        >>> r.plans(1)
        [[['E38000038', 'E38000164', 'E38000195']]]
        """
        top = self.top if rows is None else self.top.head(rows)
        return [[block.split("+") for block in str(p).split(" | ")] for p in top["plan"]]

    def footprints(self) -> pd.DataFrame:
        """The footprint table behind the scores (see :func:`footprint_table`)."""
        return _footprint_frame(self._system)

    def summary(self, rows: int = 10) -> str:
        """A plain-text report: constraints, weights, the top plans with their reasons."""
        lines = [
            f"{self.system_name} ({self.system or 'custom'}), vintage {self.vintage}: "
            f"{len(self.members)} {self._system.unit_plural}, {self.n_plans:,} plans scored"
            + (
                f" ({', '.join(f'{k}={v}' for k, v in self.constraints.items())})"
                if self.constraints
                else ""
            ),
            f"measure {self.measure}, tolerance ε={self.tolerance:g}, band "
            f"{self.band[0]:,.0f}–{self.band[1]:,.0f} people",
            "objective = Σ over blocks of Σ weight × criterion (lower is better):",
            *[
                f"  {t}"
                for t in _weights_text(
                    self.weights,
                    self.measure,
                    self._system.labels,
                    _slot_renamer(self._system.against),
                    self._system.unit_plural,
                )
            ],
            "",
        ]
        for _, r in self.top.head(rows).iterrows():
            lines.append(
                f"#{r['rank']} plan {r['plan_id']} — objective {r['objective']:.4g}, "
                f"{r['n_ccgs']} {self._system.unit_plural}{' (Pareto-optimal)' if r['pareto'] else ''}"
            )
            lines.append(f"  {r['blocks']}")
            lines.append(f"  {r['reasons']}")
        lines.append("")
        lines.append(
            f"Pareto front over {', '.join(self.pareto_on)}: {len(self.pareto)} distinct trade-offs"
        )
        if self.out is not None and self.out_note:
            lines.append(f"top-k and Pareto front only: {self.out} ({self.out_note})")
            if self.histograms is not None:
                lines.append(f"histograms of every plan: {_histogram_path(self.out)}")
        elif self.out is not None:
            lines.append(f"full plan table: {self.out}")
        return "\n".join(lines)

    def to_dict(self, rows: int | None = None) -> dict[str, Any]:
        """Plain-Python form for JSON."""
        top = self.top if rows is None else self.top.head(rows)
        return {
            "system": self.system,
            "system_name": self.system_name,
            "vintage": self.vintage,
            "measure": self.measure,
            "tolerance": self.tolerance,
            "band": list(self.band),
            "members": json.loads(self.members.reset_index().to_json(orient="records")),
            "n_plans": int(self.n_plans),
            "constraints": self.constraints,
            "weights": self.weights,
            "pareto_on": self.pareto_on,
            "top": json.loads(top.to_json(orient="records")),
            "pareto": json.loads(self.pareto.to_json(orient="records")),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "backend": self.backend,
        }


def _members_frame(sys: _System) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "name": sys.names,
            "nhs_code": sys.nhs,
            "population": sys.population[[1 << i for i in range(sys.n)]].astype(np.int64),
            "bit": np.arange(sys.n),
            "letter": [_LETTERS[i] for i in range(sys.n)],
            "system": sys.unit_systems,
        },
        index=pd.Index(sys.codes, name="code"),
    )
    return frame


def _describe_block(sys: _System, b: int, tier: str) -> str:
    tt = sys.tiers[tier]
    j = tt.j[b]
    best = [i for i in range(len(tt.la_codes)) if tt.best_fit[b, i]]
    best_names = " + ".join(tt.la_names[i] for i in best) or "no council"
    unit = "people" if sys.measure == "population" else "m²"
    if tt.coterminous[b]:
        return f"coterminous with {best_names} (J={j:.3f})"
    out_bf = tt.outside_best_fit[b]
    bf_out = tt.best_fit_outside[b]
    return (
        f"not coterminous (J={j:.3f}; best fit {best_names}; {out_bf:,.0f} {unit} outside it, "
        f"{bf_out:,.0f} {unit} of it outside the block)"
    )


def _reasons(
    sys: _System, blocks: np.ndarray, row: Mapping[str, Any], best_row: Mapping[str, Any] | None
) -> str:
    parts: list[str] = []
    live = [int(b) for b in blocks if int(b)]
    merged = [b for b in live if _p.popcount(np.array([b]))[0] > 1]
    k = len(live)
    parts.append(
        f"{k} {sys.unit_label if k == 1 else sys.unit_plural} after merger (from {sys.n})"
        + (f", {len(merged)} merger{'s' if len(merged) != 1 else ''}" if merged else ", no merger")
    )
    for b in live:
        label = " + ".join(_short(sys.names[i]) for i in range(sys.n) if (b >> i) & 1)
        pop = sys.population[b]
        text = (
            f"[{label}] {pop:,.0f} people: {_slot_words(sys, 'utla')} "
            f"{_describe_block(sys, b, 'utla')}"
        )
        if not sys.tiers["ltla"].coterminous[b]:
            text += f"; {_slot_words(sys, 'ltla')} J={sys.tiers['ltla'].j[b]:.3f}"
        lo, hi = sys.band
        if pop < lo or pop > hi:
            text += f"; outside {lo:,.0f}–{hi:,.0f}"
        parts.append(text)
    for tier in TIERS:
        tt = sys.tiers[tier]
        twice = np.zeros(tt.touched_bits.shape[1], dtype=np.uint64)
        once = np.zeros_like(twice)
        for b in live:
            v = tt.touched_bits[b]
            twice |= once & v
            once |= v
        split = [i for i in range(len(tt.la_codes)) if (int(twice[i // 64]) >> (i % 64)) & 1]
        if split:
            names = ", ".join(f"{tt.la_names[i]} ({tt.in_system[i]:,.0f})" for i in split)
            parts.append(
                f"splits {len(split)} of the {_slot_words(sys, tier)} between blocks: {names}"
            )
    contrib = [f"{w:g}×{row[c]:,.4g} {c}" for c, w in sys.weights.items() if w and c in row]
    contrib_src = " + ".join(contrib)
    parts.append(f"objective {row['objective']:.4g} = {contrib_src}")
    if best_row is not None and row["plan_id"] != best_row["plan_id"]:
        diffs = []
        for c, w in sys.weights.items():
            if w and c in row and row[c] != best_row[c]:
                delta = row[c] - best_row[c]
                diffs.append(f"{c} {delta:+,.4g}")
        gap = row["objective"] - best_row["objective"]
        if diffs:
            parts.append(f"vs the best plan: {gap:+.4g} ({', '.join(diffs)})")
        else:
            parts.append("ties the best plan; ranked after it by plan id")
    return "; ".join(parts)


def _finish_top(
    sys: _System, top: _TopK, front_ids: set[int], pareto_on: list[str]
) -> pd.DataFrame:
    if top.cols is None or top.cols["plan_id"].size == 0:
        return pd.DataFrame(columns=["rank", *PLAN_COLUMNS, "blocks", "reasons"])
    assert top.blocks is not None
    frame = _columns_frame(sys, top.cols)
    frame = _add_readable(sys, frame, top.blocks)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["pareto"] = frame["plan_id"].isin(front_ids)
    for c, w in sys.weights.items():
        if w:
            frame[f"score_{c}"] = w * frame[c].astype(float)
    rows: list[dict[str, Any]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    best = rows[0]
    frame["reasons"] = [_reasons(sys, b, r, best) for b, r in zip(top.blocks, rows, strict=True)]
    del pareto_on
    return frame.reset_index(drop=True)


def _finish_pareto(sys: _System, front: _Pareto) -> pd.DataFrame:
    cols = ["plan_id", *front.columns, "n_plans", "blocks", "plan"]
    if front.x is None:
        return pd.DataFrame(columns=cols)
    assert front.ids is not None
    assert front.counts is not None
    assert front.blocks is not None
    frame = pd.DataFrame(front.x, columns=front.columns)
    for c in front.columns:
        if np.all(frame[c] == np.round(frame[c])):
            frame[c] = frame[c].astype(np.int64)
    frame.insert(0, "plan_id", front.ids)
    frame["n_plans"] = front.counts
    frame["blocks"] = [_block_names(sys, r) for r in front.blocks]
    frame["plan"] = [_block_codes(sys, r) for r in front.blocks]
    order = np.lexsort([frame[c].to_numpy() for c in reversed(front.columns)])
    return frame.iloc[order].reset_index(drop=True)


def _best_row(sys: _System) -> tuple[float, np.ndarray]:
    total, blocks = _p.best_partition(sys.cost, allowed=sys.allowed, n_blocks=sys.n_blocks)
    arr = np.zeros((1, sys.n), dtype=np.int64)
    arr[0, : len(blocks)] = blocks
    return total, arr


def _plan_id_of(sys: _System, blocks: Sequence[int]) -> int:
    """Rank of a plan in enumeration order, from the plan counts of the recursion."""
    rec = _p.build_recursion(sys.n, sys.allowed, by_k=sys.n_blocks is not None)
    lo, hi = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    r = (1 << sys.n) - 1
    pid = 0
    for used, b in enumerate(blocks):
        for c in rec.candidates(r):
            if int(c) == int(b):
                break
            if rec.counts_by_k is None:
                pid += round(float(rec.counts[r ^ int(c)]))
            else:  # plans after choosing c that end with a total in [lo, hi]
                a, z = max(lo - used - 1, 0), hi - used - 1
                pid += round(float(rec.counts_by_k[r ^ int(c), a : z + 1].sum())) if z >= 0 else 0
        r ^= int(b)
    return pid


# =============================================================================================
# public entry points
# =============================================================================================
#: Options of the entry points that describe the system and its allowed blocks, with the
#: defaults of :func:`mergers` (those an entry point does not take keep these values).
_SYSTEM_OPTIONS: dict[str, Any] = {
    "units": None,
    "level": None,
    "within": None,
    "against": None,
    "min_pop": None,
    "no_split": None,
    "coterminous_with": None,
    "contiguous": False,
    "adjacency": None,
    "overrides": None,
    "n_ccgs": None,
    "population_band": None,
    "coterminous_only": False,
    "within_system": True,
    "band": DEFAULT_BAND,
    "weights": None,
    "tolerance": None,
    "measure": "population",
    "min_shared_m": DEFAULT_MIN_SHARED_M,
    "snap_m": DEFAULT_SNAP_M,
}


def _check_params(params: Mapping[str, Any]) -> str:
    """Check the parameters every entry point shares; return the resolved ``backend``.

    ``params`` are the entry point's parameters (its ``locals()`` on entry); one it does not
    take is not checked (:func:`best_plan` has no ``top``, ``max_plans``, ``chunk_size``).
    """
    top = params.get("top", 0)
    max_plans = params.get("max_plans", 1)
    chunk_size = params.get("chunk_size", 1)
    measure = params.get("measure", _SYSTEM_OPTIONS["measure"])
    coterminous_only = params.get("coterminous_only", _SYSTEM_OPTIONS["coterminous_only"])
    problems = []
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0:
        problems.append(f"top={top!r} must be a whole number ≥ 0")
    if not (isinstance(max_plans, (int, float)) and max_plans > 0):
        problems.append(f"max_plans={max_plans!r} must be a positive number")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        problems.append(f"chunk_size={chunk_size!r} must be a positive whole number")
    if measure not in ("population", "area"):
        problems.append(f"measure={measure!r}; use 'population' or 'area'")
    if coterminous_only not in (False, True, "utla", "ltla", "both", None):
        problems.append(
            f"coterminous_only={coterminous_only!r}; use False, 'utla', 'ltla' or 'both'"
        )
    if problems:
        raise ParameterError("; ".join(problems))
    return _p.resolve_backend(params.get("backend", "auto"))


def _setup(
    geo: Geography | Mapping[str, OverlapTable], system: str | None, params: Mapping[str, Any]
) -> tuple[_System, str]:
    """Check an entry point's parameters and prepare its system: ``(system, backend)``."""
    backend = _check_params(params)
    return _prepare_system(geo, system, params), backend


def _pareto_columns(weights: Mapping[str, float], pareto_on: Sequence[str] | None) -> list[str]:
    if pareto_on is None:
        return [c for c, w in weights.items() if w]
    allowed = set(CRITERIA) | set(_PARETO_EXTRA) | {"population_cv"}
    bad = [c for c in pareto_on if c not in allowed]
    if bad:
        msg = f"pareto_on has unknown columns {bad}; use some of {sorted(allowed)} (all minimised)"
        raise ParameterError(msg)
    return list(pareto_on)


def _prepare_system(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None,
    params: Mapping[str, Any],
    **fixed: Any,
) -> _System:
    """The system that an entry point's options describe (see :data:`_SYSTEM_OPTIONS`).

    ``params`` are the entry point's parameters (its ``locals()`` on entry); ``fixed`` options
    override them, and options in neither keep their defaults.
    """
    o = {**_SYSTEM_OPTIONS, **{k: v for k, v in params.items() if k in _SYSTEM_OPTIONS}, **fixed}
    units = o["units"]
    if isinstance(geo, Mapping):  # overlap tables only: units are plain codes, no polygons
        if system is not None or not units:
            msg = "with overlap tables instead of a Geography, give units= (codes), not system="
            raise ParameterError(msg)
        code, name, codes = None, "custom units", [str(u) for u in units]
        if len(set(codes)) != len(codes):
            msg = f"units list {codes} has duplicates; give each unit once."
            raise FootprintError(msg)
        over = validate_overrides(o["overrides"], codes)
        unit_level, within, against = None, None, TIERS
        if o["level"] is not None or o["against"] is not None:
            msg = "with overlap tables, the tables are the levels: drop level= and against="
            raise ParameterError(msg)
    else:
        level = o["level"]
        if isinstance(units, str) and _is_level(geo, units):  # units="icb": the level
            level, units = units, None
        unit_level = geo.resolve_level(level) if level else None
        within = geo.resolve_level(o["within"]) if o["within"] else None
        if within is None and unit_level is not None:
            within = geo.parent(unit_level)
        code, name, codes, unit_level = _resolve_units(geo, system, units, unit_level, within)
        if within is None:
            within = geo.parent(unit_level)
        if o["min_pop"] is not None and o["band"] == DEFAULT_BAND:
            # with a minimum size, a block is "in band" from that size up to the largest unit of
            # the system today: it counters merging everything into one block
            largest = float(geo.units(unit_level)["population"].reindex(codes).max())
            o["band"] = (float(o["min_pop"]), max(float(o["min_pop"]), largest))
        against = _against_slots(geo, unit_level, o["against"])
        over = validate_overrides(o["overrides"], geo.units(unit_level).index.astype(str))
    population_band = o["population_band"]
    return _build_system(
        geo,
        codes,
        code=code,
        name=name,
        measure=o["measure"],
        tolerance=o["tolerance"],
        band=_check_band(o["band"], "band"),
        weights=o["weights"],
        contiguous=o["contiguous"],
        edges=o["adjacency"],
        overrides=over,
        min_shared_m=o["min_shared_m"],
        snap_m=o["snap_m"],
        population_band=None
        if population_band is None
        else _check_band(population_band, "population_band"),
        coterminous_only=o["coterminous_only"] or False,
        within_system=o["within_system"],
        n_ccgs=o["n_ccgs"],
        unit_level=unit_level or "unit",
        against=against,
        within=within,
        min_pop=o["min_pop"],
        no_split=_levels_of(geo, o["no_split"]),
        coterminous_with=_levels_of(geo, o["coterminous_with"]),
    )


def _is_level(geo: Geography, word: str) -> bool:
    try:
        geo.resolve_level(word)
    except ParameterError:
        return False
    return True


def _levels_of(geo: Any, value: Any) -> list[str]:
    """Level names of a constraint option (a level, several, or None)."""
    if value is None or value is False:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if isinstance(geo, Mapping):
        return [str(i) for i in items]
    return [geo.resolve_level(i) for i in items]


def _against_slots(geo: Geography, unit_level: str, against: Any) -> tuple[str, str]:
    """The two levels scored for every plan (the ``*_utla``/``*_ltla`` slots of the tables).

    Default: the first two of :func:`coterminus.assess.default_against`. One level given: it
    and the default's first other level.
    """
    from .assess import default_against  # assess sits beside mergers; only its defaults

    default = [lv for lv in default_against(geo, unit_level) if lv != unit_level]
    given = [] if against is None else _levels_of(geo, against)
    levels = list(dict.fromkeys(given or default[:2]))
    for lv in default:
        if len(levels) >= 2:
            break
        if lv not in levels:
            levels.append(lv)
    if len(levels) > 2:
        msg = (
            f"against={levels}: merger plans are scored against two levels at a time; give two "
            "(and use coterminous_with= / no_split= for a third, as a constraint)"
        )
        raise ParameterError(msg)
    if len(levels) < 2:
        msg = f"against={levels}: give two levels to score plans against"
        raise ParameterError(msg)
    return levels[0], levels[1]


def _count_or_refuse(sys: _System, max_plans: float) -> int:
    count = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
    contiguous = bool(sys.constraints.get("contiguous"))
    _p.check_enumerable(
        count,
        max_plans=max_plans,
        what=f"the {sys.n} {sys.unit_plural} of {sys.name}",
        contiguous=contiguous,
    )
    if count == 0:
        msg = (
            f"no plan of the {sys.n} CCGs of {sys.name} satisfies the constraints "
            f"{sys.constraints}; relax them (e.g. widen population_band, drop coterminous_only, "
            "or add adjacency overrides for islands and estuaries)."
        )
        raise ParameterError(msg)
    return count


def best_plan(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    units: Sequence[str] | None = None,
    contiguous: bool = False,
    adjacency: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | str = False,
    within_system: bool = True,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> pd.Series:
    """The best merger plan under the weighted objective, by subset DP — nothing is enumerated.

    Parameters are those of :func:`mergers`. Works for systems far beyond exhaustive reach
    (up to :data:`coterminus.partitions.MAX_UNITS` CCGs).

    Returns
    -------
    pandas.Series
        The plan's :data:`PLAN_COLUMNS` (``plan_id`` is its rank in enumeration order),
        ``blocks``, ``plan``, ``labels``, ``test_ii_*`` and ``reasons``.

    Notes
    -----
    :math:`d(\\varnothing)=0`, :math:`d(R) = \\min_{S} c(S) + d(R \\setminus S)` over allowed blocks
    :math:`S` holding the lowest CCG of :math:`R`, with :math:`c(S) = \\sum_k w_k x_k(S)`;
    :math:`O(3^n)` (0.27 M pairs for 12 CCGs). Ties go to the lowest plan id, as in
    :func:`mergers`.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> best_plan({"utla": t, "ltla": t}, units=["A", "B", "C"])[["plan_id", "plan", "n_ccgs"]]
    plan_id        1
    plan     A | B+C
    n_ccgs         2
    Name: 0, dtype: object
    """
    sys, _ = _setup(geo, system, locals())
    return _best_series(sys)


def _best_series(sys: _System) -> pd.Series:
    try:
        _, blocks = _best_row(sys)
    except ParameterError:
        msg = (
            f"no plan of the {sys.n} CCGs of {sys.name} satisfies the constraints "
            f"{sys.constraints}; relax them."
        )
        raise ParameterError(msg) from None
    count, sums, mins, twice = _direct_aggregates(sys, blocks)
    cols = _finalise(sys, count, sums, mins, twice)
    cols["objective"] = np.array([_p.ordered_sum(sys.cost, [int(b) for b in blocks[0] if b])])
    cols["plan_id"] = np.array([_plan_id_of(sys, [int(b) for b in blocks[0] if b])])
    frame = _add_readable(sys, _columns_frame(sys, cols), blocks)
    row: dict[str, Any] = frame.iloc[0].to_dict()  # type: ignore[assignment]
    frame["reasons"] = [_reasons(sys, blocks[0], row, None)]
    return frame.iloc[0]


def mergers(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    units: Sequence[str] | None = None,
    contiguous: bool = False,
    adjacency: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | Literal["utla", "ltla", "both"] = False,
    within_system: bool = True,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    pareto_on: Sequence[str] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    top: int = 20,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    progress: bool = False,
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    backend: _p.Backend = "auto",
    chunk_size: int = _DEFAULT_CHUNK,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    min_parallel_plans: float = 0,
    store_limit: float = DEFAULT_STORE_LIMIT,
    all_plans: bool = False,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> MergerResult:
    """Enumerate, score and rank every merger plan of a system's CCGs.

    Parameters
    ----------
    geo : Geography or mapping of tier to OverlapTable
        From :func:`coterminus.load`; or overlap tables ``{"utla": ..., "ltla": ...}`` of
        units × councils by population (then give ``units=`` as codes; no contiguity without
        ``adjacency=``).
    system : str, optional
        STP/ICS name or E54 code of ``geo``'s vintage.
    units : str or sequence of str, optional
        Codes/names/NHS codes of the units: a subset of ``system``, or (without ``system``) any
        units; or a level name (``units="icb"``), the same as ``level=``.
    level : str, optional
        Level of the units (``"ccg"``, ``"sicbl"``, ``"icb"``, ``"ltla"``, a scenario): default
        the finest level the system groups (CCGs of an STP, sub-ICB locations of an ICB).
    within : str, optional
        Level of ``system`` (``"stp"``, ``"icb"``, ``"nhser"``, ``"utla"``...): default the level
        grouping the units. Blocks stay within one unit of it (``within_system``).
    against : sequence of str, optional
        The two levels every plan is scored against (default the vintage's first two, e.g.
        upper and lower tier). Output columns are named after them (``j_utla``, ``j_cauth``...);
        files keep the slot suffixes ``_utla``/``_ltla`` for the first/second level and record
        the levels in their metadata.
    min_pop : float, optional
        Constraint: every block has at least this many people (the 2025 footprint rule of about
        1,000,000 people per ICB: ``min_pop=1_000_000``).
    no_split : str or sequence of str, optional
        Constraint: no area of these levels lying wholly inside the system is split between
        blocks ("one ICB per local authority": ``no_split="utla"``).
    coterminous_with : str or sequence of str, optional
        Constraint: every block passes test II against these levels ("coterminous with one or
        more strategic authorities": ``coterminous_with="cauth"``).
    contiguous : bool, default False
        Only blocks whose CCGs form a connected group (shared boundary ≥ ``min_shared_m``).
    adjacency : pandas.DataFrame, optional
        Precomputed edges (:func:`coterminus.adjacency.adjacency`) instead of polygons.
    overrides : mapping of (str, str) to bool, optional
        Join (``True``) or separate (``False``) CCG pairs: islands and estuaries.
    n_ccgs : int or (int, int), optional
        Number of CCGs after merger (or an inclusive range).
    population_band : (float, float), optional
        Hard constraint: every block's population within this band.
    coterminous_only : bool or {"utla", "ltla", "both"}
        Only blocks passing test II (``True`` means upper tier).
    within_system : bool, default True
        Blocks may not mix CCGs of different systems (matters with ``units=`` across systems).
    band : (float, float), default (250000, 500000)
        The band scored by ``in_band``/``outside_band``/``band_gap`` (soft).
    weights : mapping of str to float, optional
        Weight per unit of each criterion in :data:`CRITERIA` (default :data:`DEFAULT_WEIGHTS`).
        Non-negative, not all zero.
    pareto_on : sequence of str, optional
        Criteria of the Pareto front (default: those with non-zero weight).
    tolerance : float, optional
        ε (default 0.005 population, 0.03 area).
    measure : {"population", "area"}
        Overlap measure behind J and mismatch (band and populations are always people).
    top : int, default 20
        Plans kept in memory, best first.
    out : path, optional
        Write every scored plan to ``.parquet`` or ``.csv``, chunk by chunk (temp file, then
        ``os.replace``; nothing partial is left on error). Above ``store_limit`` plans only the
        top-k and the Pareto front are written (a ``selected`` column says which), unless
        ``all_plans``.
    store_limit : float, default 5e7
        Largest number of plans ``out`` holds in full.
    all_plans : bool, default False
        Write every plan whatever their number; refused (:class:`~coterminus.errors.OutputError`)
        when the disk cannot hold the size estimate.
    executor : dask.distributed.Client or concurrent.futures.Executor, optional
        Run slices of the enumeration (by first block) in parallel, e.g. a
        ``concurrent.futures.ProcessPoolExecutor`` using every core; same results.
    min_parallel_plans : float, default 0
        Runs with fewer plans stay serial even with an ``executor`` (starting workers costs
        about a second).
    progress : bool, default False
        Show a progress bar (tqdm).
    max_plans : float, default 2e10
        Refuse (:class:`~coterminus.errors.EnumerationTooLargeError`) beyond this many plans
        (Bell(15) = 1,382,958,545 takes seconds; Bell(16) about a minute on one core).
    backend : {"auto", "numpy", "numba"}
        Enumeration/scoring kernels; identical results.
    chunk_size : int
        Plans per chunk.
    min_shared_m, snap_m : float
        Adjacency tolerances (metres).

    Returns
    -------
    MergerResult

    Raises
    ------
    EnumerationTooLargeError, ParameterError, FootprintError, UnknownAreaError,
    VintageMismatchError, OutputError, MissingDependencyError

    Notes
    -----
    See the module notes for every formula. Plans are enumerated block-first (the block holding
    the lowest unassigned CCG is chosen first), so plan 0 is "no merger" and ids are stable.

    Examples
    --------
    Three councils X (300k people), Y (200k) and Z (200k); CCG A is X, CCG B is Y plus half of
    Z, CCG C is the other half of Z. Merging B and C gives Y + Z exactly:

    >>> import pandas as pd
    >>> from coterminus.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> res = mergers({"utla": t, "ltla": t}, units=["A", "B", "C"])
    >>> res.n_plans, res.top.loc[0, "plan"], float(res.top.loc[0, "objective"])
    (5, 'A | B+C', 0.0)
    >>> res.top.loc[0, "test_ii_utla"], res.top.set_index("plan_id").loc[0, "test_ii_utla"]
    ('YY', 'YNN')

    With real data:

    >>> geo = coterminus.load(2019)
    >>> r = mergers(geo, "Coventry and Warwickshire")
    >>> r.n_plans, r.top.loc[0, "blocks"]
    (5, 'Coventry and Rugby + South Warwickshire + Warwickshire North')
    """
    t0 = time.perf_counter()
    sys, kind = _setup(geo, system, locals())
    pareto_cols = _pareto_columns(sys.weights, pareto_on)
    count = _count_or_refuse(sys, max_plans)
    stored = out is not None and (all_plans or count <= store_limit)
    if stored and all_plans:
        _check_room(out, count)  # type: ignore[arg-type]
    note = ""
    if out is not None and not stored:
        note = (
            f"{_p.about(count)} plans exceed store_limit={_p.about(int(store_limit))}; "
            "all_plans=True (--all-plans) streams every plan"
        )
        log.warning("%s: writing the top-k and the Pareto front only (%s)", sys.name, note)
    summary_run = out is not None and not stored and kind == "numba"
    spec = _hist_spec(sys) if summary_run and _sel.supported(pareto_cols) else None
    hist_counts: list[np.ndarray] = []
    with _plan_file(out if stored else None, [sys]) as writer:
        log.info("%s: %d %s, %s plans", sys.name, sys.n, sys.unit_plural, f"{count:,}")
        top_k, front, n_done = _run_system(
            sys,
            count=count,
            top=top,
            pareto_cols=pareto_cols,
            backend=kind,
            chunk_size=chunk_size,
            executor=executor if count >= min_parallel_plans else None,
            hist=spec,
            hist_out=hist_counts,
            writer=writer,
            progress=progress,
            with_system=False,
        )
    path = writer.path if writer is not None else None
    res = _result(sys, top_k, front, n_done, pareto_cols, path, time.perf_counter() - t0, kind)
    if spec is not None and hist_counts:
        res.histograms = _hist_frame(spec, hist_counts[0])
    if out is not None and not stored:
        res.out = _write_selected(out, res)
        res.out_note = note
    return res


#: Bytes per plan of a full plan file, by format (Cheshire and Merseyside 2019: 36 B parquet,
#: 195 B csv; rounded up).
_BYTES_PER_PLAN = {".parquet": 48, ".csv": 260}


def _check_room(out: str | os.PathLike[str], count: int) -> None:
    """Refuse a full stream the disk cannot hold; log the size estimate otherwise."""
    import shutil

    path = Path(out)
    per = _BYTES_PER_PLAN[".csv" if path.name.lower().endswith(".csv") else ".parquet"]
    need = count * per
    free = shutil.disk_usage(path.resolve().parent).free
    log.warning(
        "writing every one of %s plans to %s: about %s", _p.about(count), path, _bytes(need)
    )
    if need > 0.95 * free:
        msg = (
            f"every plan ({_p.about(count)} plans) would need about {_bytes(need)} in {path}, "
            f"but {path.resolve().parent} has {_bytes(free)} free; nothing was written. Choose "
            "an --out on a larger disk, or drop --all-plans (all_plans=False) to write the "
            "top-k and the Pareto front."
        )
        raise OutputError(msg)


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _write_selected(out: str | os.PathLike[str], res: MergerResult) -> Path:
    """The top-k and the Pareto front, one file, a ``selected`` column saying which."""
    top = res.top.assign(selected="top")
    front = res.pareto.assign(selected="pareto")
    table = pd.concat([top, front], ignore_index=True, sort=False)
    for c in table.columns:  # object columns mixing types (None, str) become strings
        if table[c].dtype == object:
            table[c] = table[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    with atomic_path(out, suffixes=_PLAN_SUFFIXES) as tmp:
        if str(out).lower().endswith(".csv"):
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    if res.histograms is not None:
        side = _histogram_path(out)
        with atomic_path(side, suffixes=(".csv",)) as tmp:
            res.histograms.to_csv(tmp, index=False)
    return Path(out)


def _histogram_path(out: str | os.PathLike[str]) -> Path:
    """``plans.parquet`` → ``plans.histograms.csv`` (per-criterion histograms of a summary)."""
    p = Path(out)
    return p.with_name(p.name.rsplit(".", 1)[0] + ".histograms.csv")


def _run_system(
    sys: _System,
    *,
    count: int,
    top: int,
    pareto_cols: list[str],
    backend: str,
    chunk_size: int,
    executor: Any,
    writer: _PlanWriter | None,
    progress: bool,
    with_system: bool,
    bar: Any = None,
    hist: tuple[list[str], np.ndarray] | None = None,
    hist_out: list[np.ndarray] | None = None,
) -> tuple[_TopK, _Pareto, int]:
    if executor is not None and writer is None:  # selection pieces: about two per worker
        target = max(chunk_size, count // (2 * _executor_width(executor)) + 1)
    else:
        target = max(chunk_size, count // 16) if executor is not None else count + 1
    pieces = _split_pieces(sys, target) if executor is not None else [(None, 0, count)]
    jobs = [
        (
            str(i),
            _Piece(sys, first, offset, top, pareto_cols, backend, chunk_size,
                   keep_rows=writer is not None and executor is not None, with_system=with_system,
                   method=_PIECE_METHOD, hist=hist),
        )
        for i, (first, offset, _) in enumerate(pieces)
    ]  # fmt: skip
    top_k = _TopK(top)
    front = _Pareto(list(pareto_cols))
    done = [0]

    def on_done(_key: str, res: _PieceResult) -> None:
        top_k.merge(res.top)
        front.merge(res.pareto)
        done[0] += res.n_plans
        if hist_out is not None and res.hist is not None:
            if hist_out:
                hist_out[0] = hist_out[0] + res.hist
            else:
                hist_out.append(res.hist)

    own_bar = None
    if progress and bar is None:
        from tqdm import tqdm

        own_bar = tqdm(total=count, unit="plan", unit_scale=True, desc=sys.name[:30], leave=False)
    use_bar = bar if bar is not None else own_bar
    try:
        _run_pieces(
            jobs,
            executor=executor,
            sink=writer.write if writer is not None else None,
            on_done=on_done,
            progress=use_bar.update if use_bar is not None else None,
        )
    finally:
        if own_bar is not None:
            own_bar.close()
    return top_k, front, done[0]


def _result(
    sys: _System,
    top_k: _TopK,
    front: _Pareto,
    n_done: int,
    pareto_cols: list[str],
    path: Path | None,
    seconds: float,
    backend: str,
) -> MergerResult:
    front_ids = set() if front.ids is None else {int(i) for i in front.ids}
    top_frame = _finish_top(sys, top_k, front_ids, pareto_cols)
    best = _best_series(sys)
    if len(top_frame) and int(top_frame["plan_id"].iloc[0]) != int(best["plan_id"]):
        log.warning(  # pragma: no cover - would be a bug; tests compare the two everywhere
            "dynamic programme and enumeration disagree for %s: plan %s vs %s",
            sys.name,
            best["plan_id"],
            top_frame.loc[0, "plan_id"],
        )
    best["pareto"] = int(best["plan_id"]) in front_ids
    rename = _slot_renamer(sys.against)
    pareto = _finish_pareto(sys, front)
    for frame in (top_frame, pareto):
        frame.columns = [rename(str(c)) for c in frame.columns]
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: rename(v) if isinstance(v, str) else v)
    best.index = [rename(str(i)) for i in best.index]
    pareto_cols = [rename(c) for c in pareto_cols]
    return MergerResult(
        system=sys.code,
        system_name=sys.name,
        vintage=sys.vintage,
        measure=sys.measure,
        tolerance=sys.tolerance,
        band=sys.band,
        members=_members_frame(sys),
        n_plans=n_done,
        constraints=dict(sys.constraints),
        weights=dict(sys.weights),
        pareto_on=pareto_cols,
        top=top_frame,
        best=best,
        pareto=pareto,
        adjacency=sys.edges,
        out=path,
        seconds=seconds,
        backend=backend,
        _system=sys,
    )


def _file_metadata(systems: Sequence[_System]) -> dict[str, Any]:
    first = systems[0]
    return {
        "vintage": first.vintage,
        "measure": first.measure,
        "tolerance": first.tolerance,
        "band": list(first.band),
        "weights": first.weights,
        "criteria": CRITERIA,
        "labels": "letter i of labels is the block (A = first, blocks ordered by their first CCG)"
        " of the i-th CCG of the system's members",
        "systems": {
            (s.code or "custom"): {
                "name": s.name,
                "members": s.codes,
                "names": s.names,
                "constraints": s.constraints,
            }
            for s in systems
        },
    }


def iter_scored_plans(
    geo: Geography,
    system: str | None = None,
    *,
    chunk_size: int = _DEFAULT_CHUNK,
    backend: _p.Backend = "auto",
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Every scored plan of a system, one DataFrame per chunk (never all in memory).

    ``options`` are those of :func:`mergers` (``units``, ``contiguous``, ``weights``, ...); one
    given as ``None`` keeps its default. Each chunk has :data:`PLAN_COLUMNS` plus ``labels``
    and ``test_ii_*``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> sum(len(c) for c in iter_scored_plans(geo, "Cheshire and Merseyside"))
    4213597
    """
    bad = sorted(set(options) - set(_SYSTEM_OPTIONS))
    if bad:
        msg = f"unknown options {bad}; use some of {sorted(_SYSTEM_OPTIONS)}"
        raise ParameterError(msg)
    given = {k: v for k, v in options.items() if v is not None}
    params = {**given, "chunk_size": chunk_size, "backend": backend, "max_plans": max_plans}
    sys, kind = _setup(geo, system, params)
    _count_or_refuse(sys, max_plans)
    for scored in _score_chunks(sys, backend=kind, chunk_size=chunk_size):
        yield _arrow_chunk(sys, scored.cols, scored.blocks(), with_system=False).to_pandas()


@dataclass
class NationalResult:
    """Merger plans of every system of a vintage.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per system (index E54 code): ``name``, ``n_ccgs_now``, ``n_plans``, and the best
        plan's ``n_ccgs``, ``objective``, ``min_j_utla``, ``coterminous_utla``, ``outside_band``,
        ``blocks``, ``reasons``.
    results : dict of str to MergerResult
    weights : dict
    n_plans : int
        Plans over all systems.
    out : pathlib.Path or None
    seconds : float
    """

    vintage: int | str | None
    summary: pd.DataFrame
    results: dict[str, MergerResult]
    weights: dict[str, float]
    constraints: dict[str, Any]
    n_plans: int
    out: Path | None
    seconds: float

    def __repr__(self) -> str:
        return (
            f"<NationalResult {self.vintage}: {len(self.results)} systems, "
            f"{self.n_plans:,} plans in {self.seconds:.1f} s>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form for JSON."""
        return {
            "vintage": self.vintage,
            "weights": self.weights,
            "constraints": self.constraints,
            "n_plans": int(self.n_plans),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "summary": json.loads(self.summary.reset_index().to_json(orient="records")),
        }


def national(
    geo: Geography,
    *,
    systems: Sequence[str] | None = None,
    contiguous: bool = False,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | Literal["utla", "ltla", "both"] = False,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    pareto_on: Sequence[str] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    top: int = 5,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    progress: bool = True,
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    backend: _p.Backend = "auto",
    chunk_size: int = _DEFAULT_CHUNK,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    within_system: bool = True,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> NationalResult:
    """Run :func:`mergers` for every system (STP/ICS) of a vintage in one call.

    Parameters are those of :func:`mergers`; ``systems`` restricts the run (names or codes of
    the ``within`` level, default the vintage's systems: STPs to 2021, ICBs since 2022).
    Adjacency is computed once for all units. Every system is counted first and the run is
    refused, naming the systems, if any exceeds ``max_plans``. With ``out`` every plan of every
    system goes to one file with a ``system`` column. With ``executor`` systems (and slices of
    large systems) run in parallel.

    Returns
    -------
    NationalResult

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> res = national(geo, contiguous=True, progress=False)
    >>> res.n_plans
    77073
    """
    params = dict(locals())
    t0 = time.perf_counter()
    kind = _check_params(params)
    group_level = geo.resolve_level(within) if within else None
    if group_level is None and level is not None:
        group_level = geo.parent(geo.resolve_level(level))
    if group_level is None and geo.manifest is not None:
        group_level = geo.manifest.defaults.get("systems")
    if group_level is None:  # the level grouping the finest NHS level (STP for CCGs)
        group_level = next((geo.parent(n) for n in geo.side("nhs") if geo.parent(n)), None)
    if group_level is None:
        msg = "national() needs the level of the systems: pass within= (e.g. 'stp' or 'icb')."
        raise ParameterError(msg)
    codes = (
        list(geo.units(group_level).index)
        if systems is None
        else [geo.code(s, group_level) for s in systems]
    )
    unit_level = (
        geo.resolve_level(level)
        if level
        else geo.level_of(geo.members(codes[0], within=group_level)[0])
    )
    params["level"], params["within"] = unit_level, group_level
    over = validate_overrides(overrides, geo.units(unit_level).index.astype(str))
    edges = None
    w_check = _check_weights(weights, measure)
    if contiguous or w_check["non_contiguous"]:  # once for every unit, not once per system
        edges = adjacency(
            geo.layer(unit_level), min_shared_m=min_shared_m, snap_m=snap_m, overrides=over
        )
    prepared: list[_System] = []
    counts: list[int] = []
    too_big: list[str] = []
    for code in codes:
        sys = _prepare_system(
            geo,
            code,
            params,
            adjacency=edges,
            overrides=None,  # already in edges
            n_ccgs=None
            if n_ccgs is None
            else _clip_n_ccgs(n_ccgs, len(geo.members(code, unit_level, within=group_level))),
        )
        c = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
        if c > max_plans:
            too_big.append(f"{sys.name} ({code}): {c:,}")
        prepared.append(sys)
        counts.append(c)
    if too_big:
        msg = (
            f"{len(too_big)} system(s) exceed max_plans={int(max_plans):,}: {'; '.join(too_big)}; "
            "nothing was enumerated. Use contiguous=True or n_ccgs=..., raise max_plans, or run "
            "best_plan() per system (dynamic programme, no enumeration)."
        )
        raise EnumerationTooLargeError(msg)
    pareto_cols = _pareto_columns(prepared[0].weights, pareto_on) if prepared else []
    results: dict[str, MergerResult] = {}
    total = int(sum(counts))
    with _plan_file(out if prepared else None, prepared) as writer:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="plan", unit_scale=True, desc=f"{len(prepared)} systems")
        try:
            if executor is None:
                for sys, c in zip(prepared, counts, strict=True):
                    if c == 0:
                        log.warning("%s: no plan satisfies the constraints", sys.name)
                        continue
                    ts = time.perf_counter()
                    top_k, front, n_done = _run_system(
                        sys, count=c, top=top, pareto_cols=pareto_cols, backend=kind,
                        chunk_size=chunk_size, executor=None, writer=writer, progress=False,
                        with_system=True, bar=bar,
                    )  # fmt: skip
                    results[str(sys.code)] = _result(
                        sys, top_k, front, n_done, pareto_cols, None, time.perf_counter() - ts,
                        kind,
                    )  # fmt: skip
            else:
                results = _national_parallel(
                    prepared, counts, top=top, pareto_cols=pareto_cols, backend=kind,
                    chunk_size=chunk_size, executor=executor, writer=writer, bar=bar,
                )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
    path = writer.path if writer is not None else None
    summary = _national_summary(prepared, counts, results)
    return NationalResult(
        vintage=geo.vintage,
        summary=summary,
        results=results,
        weights=dict(prepared[0].weights) if prepared else _check_weights(weights, measure),
        constraints=dict(prepared[0].constraints) if prepared else {},
        n_plans=total,
        out=path,
        seconds=time.perf_counter() - t0,
    )


def _clip_n_ccgs(n_ccgs: int | tuple[int, int], n: int) -> tuple[int, int]:
    if isinstance(n_ccgs, (int, np.integer)):
        lo = hi = int(n_ccgs)
    else:
        lo, hi = (int(v) for v in n_ccgs)
    return min(max(lo, 1), n), min(max(hi, 1), n)


def _national_parallel(
    prepared: list[_System],
    counts: list[int],
    *,
    top: int,
    pareto_cols: list[str],
    backend: str,
    chunk_size: int,
    executor: Any,
    writer: _PlanWriter | None,
    bar: Any,
) -> dict[str, MergerResult]:
    total = max(sum(counts), 1)
    target = max(chunk_size, total // 32)
    jobs: list[tuple[str, _Piece]] = []
    for sys, c in zip(prepared, counts, strict=True):
        if c == 0:
            continue
        for first, offset, _ in _split_pieces(sys, target):
            piece = _Piece(
                sys, first, offset, top, pareto_cols, backend, chunk_size,
                keep_rows=writer is not None, with_system=True,
            )  # fmt: skip
            jobs.append((str(sys.code), piece))
    tops: dict[str, _TopK] = {}
    fronts: dict[str, _Pareto] = {}
    n_done: dict[str, int] = {}
    secs: dict[str, float] = {}

    def on_done(key: str, res: _PieceResult) -> None:
        tops.setdefault(key, _TopK(top)).merge(res.top)
        fronts.setdefault(key, _Pareto(list(pareto_cols))).merge(res.pareto)
        n_done[key] = n_done.get(key, 0) + res.n_plans
        secs[key] = secs.get(key, 0.0) + res.seconds

    _run_pieces(
        jobs,
        executor=executor,
        sink=writer.write if writer is not None else None,
        on_done=on_done,
        progress=bar.update if bar is not None else None,
    )
    by_code = {str(s.code): s for s in prepared}
    return {
        key: _result(by_code[key], tops[key], fronts[key], n_done[key], pareto_cols, None,
                     secs[key], backend)
        for key in tops
    }  # fmt: skip


def _national_summary(
    prepared: list[_System], counts: list[int], results: Mapping[str, MergerResult]
) -> pd.DataFrame:
    rows = []
    for sys, c in zip(prepared, counts, strict=True):
        r = results.get(str(sys.code))
        best = r.best if r is not None else None
        rows.append(
            {
                "system": sys.code,
                "name": sys.name,
                "n_ccgs_now": sys.n,
                "n_plans": c,
                "n_ccgs": None if best is None else int(best["n_ccgs"]),
                "objective": None if best is None else float(best["objective"]),
                "min_j_utla": None if best is None else float(best["min_j_utla"]),
                "coterminous_utla": None if best is None else int(best["coterminous_utla"]),
                "outside_band": None if best is None else int(best["outside_band"]),
                "blocks": None if best is None else best["blocks"],
                "reasons": None if best is None else best["reasons"],
            }
        )
    return pd.DataFrame(rows).set_index("system")


# =============================================================================================
# the slow reference path: dissolve + overlay polygons per plan (tests and benchmarks only)
# =============================================================================================
def _overlay_scores(
    geo: Geography,
    codes: Sequence[str],
    blocks: np.ndarray,
    *,
    tolerance: float,
) -> pd.DataFrame:
    """Score plans the naive way: dissolve each block's CCG polygons, overlay the councils.

    Independent of the footprint table: areas come from ``geopandas`` dissolve + overlay and the
    metrics from :func:`coterminus.metrics.coterminosity_kernel`. About 0.1-1 s per plan, which is
    the cost the table avoids; used to cross-check the table (area measure) and in benchmarks.
    """
    import geopandas as gpd

    ccg = geo.ccg.loc[list(codes), ["geometry"]]
    n = len(codes)
    rows = []
    for row in np.asarray(blocks, dtype=np.int64):
        live = [int(b) for b in row if int(b)]
        label = np.zeros(n, dtype=np.int64)
        for j, b in enumerate(live):
            for i in range(n):
                if (b >> i) & 1:
                    label[i] = j
        dissolved = ccg.assign(block=label).dissolve(by="block")
        rec: dict[str, Any] = {"n_ccgs": len(live)}
        for tier in TIERS:
            las = geo.layer(tier)[["geometry"]]
            near = las.iloc[las.sindex.query(dissolved.union_all(), predicate="intersects")]
            pieces = gpd.overlay(
                dissolved.reset_index(), near.reset_index(), how="intersection", keep_geom_type=True
            )
            pieces["area"] = pieces.geometry.area
            la_area = near.geometry.area
            js, fails, mism = [], 0, 0.0
            for j in range(len(live)):
                part = pieces[pieces["block"] == j].groupby("code")["area"].sum()
                k = coterminosity_kernel(
                    part.to_numpy(),
                    la_area.reindex(part.index).to_numpy(),
                    float(dissolved.geometry.area.iloc[j]),
                    tolerance,
                )
                js.append(float(k.jaccard))
                fails += int(k.jaccard < 1.0 - tolerance)
                mism += k.outside_best_fit + k.best_fit_outside
            rec[f"mean_j_{tier}"] = float(np.mean(js))
            rec[f"min_j_{tier}"] = float(np.min(js))
            rec[f"not_coterminous_{tier}"] = fails
            rec[f"mismatch_{tier}"] = mism
        rows.append(rec)
    return pd.DataFrame(rows)


# =============================================================================================
# reading plan files back
# =============================================================================================
def read_plans(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a plan table written by :func:`mergers`/:func:`national` and its metadata.

    Returns
    -------
    (pandas.DataFrame, dict)
        The plans and the ``coterminus`` metadata (members of each system in label order,
        weights, tolerance, ...). Parquet only (CSV files carry no metadata).

    Examples
    --------
    >>> _ = mergers(geo, "Coventry and Warwickshire", out="plans.parquet")
    >>> plans, meta = read_plans("plans.parquet")
    >>> names = meta["systems"]["E54000018"]["names"]
    >>> decode_labels(plans.loc[0, "labels"], names)
    [['NHS Coventry and Rugby CCG'], ['NHS South Warwickshire CCG'], ...]
    """
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.is_file():
        msg = f"no plan file at {p}"
        raise OutputError(msg)
    if p.name.lower().endswith(".csv"):
        return pd.read_csv(p), {}
    table = pq.read_table(p)
    meta_raw = (table.schema.metadata or {}).get(b"coterminus", b"{}")
    return table.to_pandas(), json.loads(meta_raw)


def decode_labels(labels: str, members: Sequence[str]) -> list[list[str]]:
    """Blocks of a plan from its ``labels`` string and the system's members (in label order).

    Examples
    --------
    >>> decode_labels("ABA", ["x", "y", "z"])
    [['x', 'z'], ['y']]
    """
    if len(labels) != len(members):
        msg = f"labels {labels!r} has {len(labels)} letters but there are {len(members)} members"
        raise ParameterError(msg)
    blocks: dict[str, list[str]] = {}
    for letter, m in zip(labels, members, strict=True):
        blocks.setdefault(letter, []).append(str(m))
    return [blocks[k] for k in sorted(blocks)]
