"""The footprint table: every block of a small system scored at once (all ``2**n`` masks).

:func:`build_system` turns a :class:`~coterminus.plans.problem.Problem` into a :class:`System`:
the subset sums of every array of the problem (people, people per area of each level, per
footprint of today) by doubling, scored by :func:`coterminus.plans.objective.score_sums` — the
same per-block function an optimiser calls for its candidate blocks — plus the allowed blocks
(rules, contiguity, one group) and the block cost on a binary grid. Plans are then scored by
look-ups in these arrays (:mod:`coterminus.plans.scoring`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..vocabulary.words import cap, join_names
from .objective import BlockScores, cost_step, score_sums
from .problem import Problem
from .rules import RULE_WORDS, allowed_blocks, rule_checks

__all__ = ["LETTERS", "System", "build_system", "diagnose", "footprint_frame", "quantise"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Masks scored per slice (bounds the temporaries of wide levels).
_SLICE = 1 << 12


@dataclass
class System:
    """A problem of at most :data:`coterminus.partitions.MAX_UNITS` units with the scores of
    every block (arrays over the ``2**n`` masks; mask 0, the empty block, is never allowed)."""

    problem: Problem
    scores: BlockScores
    allowed: np.ndarray
    connected: np.ndarray | None
    checks: dict[str, np.ndarray]
    cost: np.ndarray
    tie: np.ndarray

    # -- the problem's words, for the modules that describe results ---------------------------
    @property
    def n(self) -> int:
        return self.problem.n

    @property
    def code(self) -> str | None:
        return self.problem.code

    @property
    def name(self) -> str:
        return self.problem.name

    @property
    def codes(self) -> tuple[str, ...]:
        return self.problem.codes

    @property
    def criteria(self) -> tuple[str, ...]:
        return self.problem.objective.names

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.problem.objective.weights or {})

    @property
    def n_blocks(self) -> tuple[int, int] | None:
        return self.problem.rules.n_blocks

    @property
    def population(self) -> np.ndarray:
        return self.scores.population

    def values(self, name: str) -> np.ndarray:
        """Per-block values of a plan column that sums over blocks (criteria, cost, change)."""
        if name == "objective":
            return self.cost
        if name == "change":
            return self.tie
        if name == "n_blocks":
            return (_p.popcount(np.arange(1 << self.n, dtype=np.int64)) > 0).astype(np.float64)
        return self.scores.criteria[name].astype(np.float64)


def quantise(cost: np.ndarray, n: int, step: float | None = None) -> np.ndarray:
    """Block costs on a binary grid, so any sum of ``n`` of them is exact in float64.

    Whole numbers (people with whole weights) are kept as they are. ``step`` (a power of two,
    :func:`coterminus.plans.objective.cost_step`) fixes the grid from the objective, so the
    optimiser rounds its candidate blocks exactly alike; without it the grid is the finest the
    table's largest cost allows.

    Examples
    --------
    >>> quantise(np.array([0.0, 1.0, 2.5]), 2).tolist()
    [0.0, 1.0, 2.5]
    >>> quantise(np.array([0.3, 1.0]), 2, step=0.25).tolist()
    [0.25, 1.0]
    """
    if step is not None:
        return np.rint(cost / step) * step
    finite = cost[np.isfinite(cost)]
    if (
        np.all(finite == np.round(finite))
        and float(np.abs(finite).max(initial=0)) * max(n, 1) < 2**52
    ):
        return cost.astype(np.float64)
    top = float(np.max(np.abs(finite), initial=0.0)) * max(n, 1) + 1.0
    bits = min(40, 51 - math.ceil(math.log2(top)))
    scale = 2.0**bits
    return np.round(cost * scale) / scale


def _sums(values: np.ndarray) -> np.ndarray:
    return _p.subset_sums(np.asarray(values, dtype=np.int64))


def build_system(problem: Problem) -> System:
    """Every block of ``problem`` scored and checked (see the module notes)."""
    n = problem.n
    _p.check_n(n)
    obj = problem.objective
    assert obj.size is not None
    assert obj.today is not None
    size = 1 << n
    pop = _sums(obj.population)
    block_size = _sums(obj.size)
    level_sums = [_sums(lv.people) for lv in obj.levels]
    today = _sums(obj.today)
    rules = problem.rules
    no_split = [_sums(lv.people) for lv in rules.no_split]
    cot = [_sums(lv.people) for lv in rules.coterminous_with]
    parts: list[BlockScores] = []
    checks_parts: list[dict[str, np.ndarray]] = []
    for lo in range(0, size, _SLICE):
        sl = slice(lo, min(lo + _SLICE, size))
        parts.append(
            score_sums(obj, pop[sl], block_size[sl], [m[sl] for m in level_sums], today[sl])
        )
        checks_parts.append(
            rule_checks(rules, pop[sl], [m[sl] for m in no_split], [m[sl] for m in cot])
        )
    scores = _concat(parts)
    checks = {k: np.concatenate([c[k] for c in checks_parts]) for k in checks_parts[0]}
    masks = np.arange(size, dtype=np.int64)
    connected = None
    if rules.contiguous:
        connected = _p.connected_subsets(np.array(problem.neighbours, dtype=np.int64))
        checks["contiguous"] = ~connected
    if rules.within:
        groups = _p.subset_ors(np.left_shift(1, problem.groups).astype(np.int64))
        checks["within"] = _p.popcount(groups) > 1
    allowed = allowed_blocks(checks, size)
    allowed[0] = False
    cost = quantise(scores.cost, n, step=cost_step(obj))
    cost[0] = 0.0
    tie = scores.change.astype(np.float64)
    tie[0] = 0.0
    del masks
    return System(problem, scores, allowed, connected, checks, cost, tie)


def _concat(parts: list[BlockScores]) -> BlockScores:
    first = parts[0]
    return BlockScores(
        population=np.concatenate([p.population for p in parts]),
        size=np.concatenate([p.size for p in parts]),
        criteria={k: np.concatenate([p.criteria[k] for p in parts]) for k in first.criteria},
        change=np.concatenate([p.change for p in parts]),
        cost=np.concatenate([p.cost for p in parts]),
        coterminous={
            k: np.concatenate([p.coterminous[k] for p in parts]) for k in first.coterminous
        },
        split_areas={
            k: np.concatenate([p.split_areas[k] for p in parts]) for k in first.split_areas
        },
    )


def mask_members(codes: tuple[str, ...], mask: int, sep: str = "+") -> str:
    """The codes of a block mask joined (``"A+C"``)."""
    return sep.join(codes[i] for i in range(len(codes)) if (int(mask) >> i) & 1)


def footprint_frame(sys: System) -> pd.DataFrame:
    """One row per non-empty block: members, people, allowed, every criterion and verdict.

    Indexed by ``mask`` (bit ``i`` = ``attrs["members"][i]``).
    """
    n = sys.n
    masks = np.arange(1, 1 << n, dtype=np.int64)
    s = sys.scores
    data: dict[str, object] = {
        "members": [mask_members(sys.codes, int(m)) for m in masks],
        "n_members": _p.popcount(masks),
        "population": s.population[masks],
        "allowed": sys.allowed[masks],
    }
    if sys.connected is not None:
        data["connected"] = sys.connected[masks]
    for lv in sys.problem.objective.levels:
        data[f"coterminous_{lv.name}"] = s.coterminous[lv.name][masks]
        split = s.split_areas[lv.name][masks]
        data[f"split_areas_{lv.name}"] = [
            "+".join(c for c, b in zip(lv.codes, row, strict=True) if b) for row in split
        ]
    for c in sys.criteria:
        data[c] = s.criteria[c][masks]
    data["change"] = s.change[masks]
    data["cost"] = sys.cost[masks]
    frame = pd.DataFrame(data, index=pd.Index(masks, name="mask"))
    frame.attrs.update(
        {
            "members": list(sys.codes),
            "tolerance": sys.problem.tolerance,
            "measure": sys.problem.measure,
            "band": list(sys.problem.band.pair),
        }
    )
    return frame


def _rule_words(key: str, sys: System) -> str:
    kind, _, level = key.partition(":")
    words = RULE_WORDS.get(kind, kind)
    if kind == "min_pop":
        words += f" of {sys.problem.band.low:,.0f}"
    elif kind == "max_pop":
        words += f" of {sys.problem.band.high:,.0f}"
    if level:
        words += f" against {sys.problem.labels.get(level, level)}"
    return words


def diagnose(sys: System) -> str:
    """Why no plan keeps every rule: the units no allowed block holds, and the rules whose
    removal alone would allow plans (each counted).

    Examples
    --------
    See ``tests/test_plans_rules.py``: an island below the minimum, a band above the system.
    """
    p = sys.problem
    n = sys.n
    lines = [f"no plan of the {p.words(n)} of {sys.name} keeps every rule ({p.band.text})"]
    masks = np.arange(1 << n, dtype=np.int64)
    stranded = []
    for i in range(n):
        holds = ((masks >> i) & 1).astype(bool)
        if sys.allowed[holds].any():
            continue
        alone = 1 << i
        broken = [_rule_words(k, sys) for k, v in sys.checks.items() if v[alone]]
        why = f"alone it breaks {join_names(broken)}" if broken else "alone it is allowed"
        if p.rules.contiguous and not p.neighbours[i]:
            why += (
                "; it touches no other unit, so it cannot join one (join it across water with "
                "overrides, or drop contiguity)"
            )
        stranded.append(f"{p.names[i]} ({int(sys.population[alone]):,} people: {why})")
    if stranded:
        lines.append("no allowed block holds " + "; ".join(stranded))
    relax = []
    for key in sys.checks:
        others = {k: v for k, v in sys.checks.items() if k != key}
        allowed = allowed_blocks(others, 1 << n)
        allowed[0] = False
        k = _p.count_partitions(n, allowed=allowed, n_blocks=sys.n_blocks)
        if k:
            relax.append(f"without {_rule_words(key, sys)}: {k:,} plan{'s' if k != 1 else ''}")
    if sys.n_blocks is not None:
        k = _p.count_partitions(n, allowed=sys.allowed)
        if k:
            relax.append(f"without {RULE_WORDS['n_blocks']}: {k:,} plan{'s' if k != 1 else ''}")
    if relax:
        lines.append("dropping one rule would allow plans: " + "; ".join(relax))
    elif len(sys.checks) > 1:
        lines.append("no single rule does it alone: relax two or more")
    return ". ".join(cap(line) for line in lines) + "."
