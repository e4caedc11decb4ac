"""The footprint table: metrics of every block (all ``2**n`` masks of a system's units).

The criteria and plan columns (:data:`CRITERIA`, :data:`PLAN_COLUMNS`), the per-tier table of
every footprint built by doubling (:func:`tier_table`), the :class:`System` the kernels work on,
and the per-block values handed to them (:func:`block_values`, :func:`byte_tables`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..analysis.metrics import coterminosity_kernel
from ..analysis.overlap import overlap
from ..errors import ParameterError
from ..vocabulary.words import PLACE_BAND

if TYPE_CHECKING:
    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography

Tier = Literal["utla", "ltla"]

TIERS: tuple[str, str] = ("utla", "ltla")

#: Population band for blocks (people), the 'place' scale of NHS England's merger guidance.
DEFAULT_BAND: tuple[int, int] = PLACE_BAND

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

AREA_WEIGHTS: dict[str, float] = {  # area measure: mismatch in m², 1 point per 10 km²
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

SUMS = (
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

PARETO_EXTRA = ("split_las_utla", "split_las_ltla", "split_people_utla", "split_people_ltla")

#: Plans above which ``out`` holds only the top-k and the Pareto front (``all_plans`` forces all).
DEFAULT_STORE_LIMIT = 50_000_000

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

DEFAULT_CHUNK = 1 << 16


@dataclass
class TierTable:
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
class System:
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
    tiers: dict[str, TierTable]
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


def tier_table(
    matrix: np.ndarray,
    unit_totals: np.ndarray,
    la_totals: np.ndarray,
    eps: float,
    la_codes: list[str],
    la_names: list[str],
) -> TierTable:
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
    return TierTable(
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


def quantise(cost: np.ndarray, n: int) -> np.ndarray:
    """Put block costs on a binary grid so any sum of ``n`` of them is exact in float64."""
    top = float(np.max(np.abs(cost[np.isfinite(cost)]), initial=0.0)) * max(n, 1) + 1.0
    bits = min(40, 51 - math.ceil(math.log2(top)))
    scale = 2.0**bits
    return np.round(cost * scale) / scale


def tables_for(
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


def unit_matrix(table: OverlapTable, codes: list[str]) -> tuple[np.ndarray, list[str]]:
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


def extra_tiers(
    geo: Geography | None,
    tables: Mapping[str, OverlapTable],
    tiers: Mapping[str, TierTable],
    codes: list[str],
    eps: float,
    unit_level: str,
    against: tuple[str, str],
    measure: str,
    levels: Sequence[str],
) -> dict[str, TierTable]:
    """Footprint tables of the levels that constraints name (the slots' own when they match)."""
    out: dict[str, TierTable] = {}
    for lv in dict.fromkeys(levels):
        if lv in against:
            out[lv] = tiers[TIERS[against.index(lv)]]
            continue
        if geo is None:
            msg = f"a constraint on {lv!r} needs a Geography (or make it one of against=)"
            raise ParameterError(msg)
        table = overlap(geo, unit_level, lv, measure=measure)  # type: ignore[arg-type]
        mat, la = unit_matrix(table, codes)
        out[lv] = tier_table(
            mat,
            table.unit_totals.reindex(codes).to_numpy(dtype=float),
            table.target_totals.reindex(la).to_numpy(dtype=float),
            eps,
            la,
            [str(geo.units(lv)["name"].get(c, c)) for c in la],
        )
    return out


def block_values(sys: System) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block sums, mins and multi bitsets for the enumeration kernels."""
    crit = sys.criteria()
    cols = {
        "j_utla": sys.tiers["utla"].j,
        "j_ltla": sys.tiers["ltla"].j,
        "pop_sq": sys.population**2,
        "cost": sys.cost,
        **crit,
    }
    sums = np.column_stack([cols[c] for c in SUMS])
    mins = np.column_stack(
        [sys.tiers["utla"].j, sys.tiers["ltla"].j, sys.population, -sys.population]
    )
    multi = np.hstack([sys.tiers[t].touched_bits for t in TIERS])
    return sums, mins, multi


def byte_tables(sys: System) -> list[list[tuple[int, int, np.ndarray]]]:
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


def _mask_labels(codes: Sequence[str], masks: np.ndarray, sep: str = "+") -> list[str]:
    return [sep.join(codes[i] for i in range(len(codes)) if (int(m) >> i) & 1) for m in masks]


def footprint_frame(sys: System) -> pd.DataFrame:
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
