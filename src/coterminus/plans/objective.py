"""The objective of a merger plan: one per-block cost function on arrays, in people.

Every criterion is a **sum over the blocks of a plan**, measured in people (or whole m² with
``measure="area"``), built from a list of levels the plan is scored against
(``against=["utla", "sa", "sicbl"]``, any number) and named after them. This module scores
*blocks* (a block is a set of units that becomes one new unit): both engines call it — the
exhaustive one for all ``2**n`` masks at once (the footprint table,
:mod:`coterminus.plans.tables`) and an optimiser for candidate blocks
(:func:`score_blocks` on a boolean membership matrix). Nothing here knows about plans,
enumeration or geography: arrays in, arrays out.

Notes
-----
For a block :math:`B` (a set of units), a level :math:`L` with areas :math:`t`, the
units × areas matrix :math:`M_L` (people of unit :math:`u` living in area :math:`t`) and the
tolerance :math:`\\varepsilon`:

* :math:`m_B[t] = \\sum_{u \\in B} M_L[u, t]`, the people of :math:`t` in :math:`B`;
  :math:`T[t] = \\sum_u M_L[u, t]` the people of :math:`t` in the units of the question (an
  area reaching beyond them is judged on its part within them: what no plan can change neither
  counts nor distorts the ranking; :attr:`TargetLevel.totals` can say otherwise);
* :math:`a_t = \\lfloor \\varepsilon T[t] \\rfloor`; :math:`t` is *absent* from :math:`B` if
  :math:`m_B[t] \\le a_t`, *whole* in :math:`B` if :math:`T[t] - m_B[t] \\le a_t`, and *split*
  otherwise. The tolerance is relative to each area, never to the block, so a mismatch cannot
  pass by being diluted in a bigger block;
* ``split_L(B)`` :math:`= \\sum_t m_B[t] \\, [t \\text{ split}]` (people of split areas in the block);
* ``mismatch_L(B)`` :math:`= \\sum_t \\min(m_B[t], T[t] - m_B[t]) \\, [t \\text{ split}]`: the
  block's people in areas it does not mostly cover, plus the people of areas it mostly covers
  who live outside it;
* ``not_coterminous_L(B)`` :math:`= |B| \\, [\\exists t \\text{ split}]`: the people of a block
  that is not a union of whole areas of :math:`L`. People in no area of :math:`L` (a level with
  partial coverage, such as strategic authorities) are neutral: a block with no :math:`L`
  population is coterminous;
* ``outside_band(B)`` :math:`= |B| \\, [|B| < \\text{min} \\lor |B| > \\text{max}]` (only when the
  population band is soft; a hard band is a rule, :mod:`coterminus.plans.rules`);
* ``change(B)`` :math:`= |B| - \\max_c D_B[c]` with :math:`D_B[c]` the block's people in today's
  footprint :math:`c`: the people of the block outside its largest footprint of today.

:math:`|B|` is the block's people (its area in m² for the ``split``/``mismatch``/
``not_coterminous`` criteria with ``measure="area"``). A plan's value of each criterion is the
sum over its blocks; its objective is :math:`\\sum_c w_c \\cdot x_c`. Plans are ranked by
objective, then by ``change`` (least change first); plans equal on both are ties, reported as
such.

**Merging never helps by dilution.** If no area of :math:`L` has people in both of two blocks
:math:`B_1, B_2`, every :math:`m_{B_1 \\cup B_2}[t]` is one of :math:`m_{B_1}[t], m_{B_2}[t]`
with the other 0, so each area keeps its status: ``split_L`` and ``mismatch_L`` add, and
``not_coterminous_L`` of the union is at least the sum. ``change`` is superadditive
(:math:`\\max(D_1 + D_2) \\le \\max D_1 + \\max D_2`). So a merger lowers the objective only by
reuniting an area with people in both blocks (or, with a soft band, by leaving
``outside_band``).

Examples
--------
Two units, each half of one council of 200 people; merged, the council is whole:

>>> lv = TargetLevel("utla", "upper-tier council", "upper-tier councils", ("X",), ("X",),
...                  people=np.array([[100], [100]]), totals=np.array([200]))
>>> obj = Objective(population=np.array([100, 100]), levels=(lv,))
>>> s = score_blocks(obj, np.array([[True, False], [False, True], [True, True]]))
>>> s.criteria["mismatch_utla"].tolist(), s.criteria["not_coterminous_utla"].tolist()
([100, 100, 0], [100, 100, 0])
>>> s.coterminous["utla"].tolist(), s.change.tolist()
([False, False, True], [0, 0, 100])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..errors import ParameterError

__all__ = [
    "BlockScores",
    "LevelTerms",
    "Objective",
    "TargetLevel",
    "check_weights",
    "cost_step",
    "cost_steps",
    "criteria_names",
    "criterion_text",
    "default_weights",
    "level_terms",
    "score_blocks",
    "score_sums",
    "thresholds",
]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Criteria built once per level, in output order (``<kind>_<level>``).
LEVEL_CRITERIA: tuple[str, ...] = ("split", "mismatch", "not_coterminous")

#: Default weight of each kind of criterion: 1 per person, except ``split`` (reported, not
#: weighted: its people are counted again by ``mismatch``).
KIND_WEIGHTS: dict[str, float] = {
    "split": 0.0,
    "mismatch": 1.0,
    "not_coterminous": 1.0,
    "outside_band": 1.0,
}


@dataclass(frozen=True, eq=False)
class TargetLevel:
    """One level blocks are scored against (or constrained by): each unit's people in each area.

    Attributes
    ----------
    name : str
        Level name, the suffix of its criteria (``"utla"`` → ``mismatch_utla``).
    label, plural : str
        Words for outputs (``"upper-tier council"``, ``"upper-tier councils"``).
    codes, names : tuple of str
        The areas of the level that the units touch.
    people : numpy.ndarray of int64, shape (n, T)
        ``people[u, t]``: people (or whole m²) of unit ``u`` in area ``t``. A unit may have
        people in no area (partial levels); its row then sums to less than its size.
    totals : numpy.ndarray of int64, shape (T,), optional
        What each area is judged on: by default its people in the units (the column sums), so
        that a council reaching beyond the system is whole in a block holding all of it that
        lies in the system — what no plan of these units can change neither counts nor
        distorts. Give the whole population to judge on it instead (at least the column sums).
    whole : numpy.ndarray of int64, shape (T,), optional
        The whole population of each area, for words only (default ``totals``).
    """

    name: str
    label: str
    plural: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    people: IntArray
    totals: IntArray | None = None
    whole: IntArray | None = None

    def __post_init__(self) -> None:
        p = np.asarray(self.people, dtype=np.int64)
        t = p.sum(axis=0) if self.totals is None else np.asarray(self.totals, dtype=np.int64)
        if p.ndim != 2 or t.shape != (p.shape[1],):
            msg = f"level {self.name!r}: people must be (units × areas) and totals one per area"
            raise ParameterError(msg)
        if (p < 0).any() or (t < p.sum(axis=0)).any():
            msg = f"level {self.name!r}: people must be ≥ 0 and totals ≥ the people in the units"
            raise ParameterError(msg)
        object.__setattr__(self, "people", p)
        object.__setattr__(self, "totals", t)
        object.__setattr__(
            self, "whole", t if self.whole is None else np.asarray(self.whole, dtype=np.int64)
        )

    @property
    def in_units(self) -> IntArray:
        """People of each area living in the units (the column sums)."""
        total: IntArray = self.people.sum(axis=0)
        return total

    @property
    def area_totals(self) -> IntArray:
        """What each area is judged on: ``totals`` (default: its people in the units)."""
        assert self.totals is not None
        return self.totals

    @property
    def whole_people(self) -> IntArray:
        """The whole population of each area (for words)."""
        assert self.whole is not None
        return self.whole


@dataclass(frozen=True, eq=False)
class Objective:
    """How blocks are scored: units, levels, today's footprints, tolerance, band and weights.

    Attributes
    ----------
    population : numpy.ndarray of int64, shape (n,)
        People of each unit (always people: the band and ``change`` are in people).
    levels : tuple of TargetLevel
        The levels scored (``against``), each giving three criteria.
    size : numpy.ndarray of int64, shape (n,), optional
        The measure of each unit for ``not_coterminous``: people (default) or whole m².
    today : numpy.ndarray of int64, shape (n, C), optional
        People of each unit in each of today's footprints; default: each unit is its own
        footprint (``change`` = the people of a block outside its largest unit).
    tolerance : float
        ε of every level.
    band : (float, float)
        Population band; scored (``outside_band``) only when ``soft_band``.
    soft_band : bool
        Whether the band is a criterion (True) or a rule checked elsewhere (False).
    weights : mapping of str to float, optional
        Weight of each criterion (:func:`criteria_names`); default :func:`default_weights`.
    measure : {"population", "area"}
    """

    population: IntArray
    levels: tuple[TargetLevel, ...] = ()
    size: IntArray | None = None
    today: IntArray | None = None
    tolerance: float = 0.005
    band: tuple[float, float] = (0.0, math.inf)
    soft_band: bool = False
    weights: Mapping[str, float] | None = None
    measure: str = "population"
    names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        pop = np.asarray(self.population, dtype=np.int64)
        object.__setattr__(self, "population", pop)
        size = pop if self.size is None else np.asarray(self.size, dtype=np.int64)
        object.__setattr__(self, "size", size)
        today = np.diag(pop) if self.today is None else np.asarray(self.today, dtype=np.int64)
        object.__setattr__(self, "today", today)
        object.__setattr__(self, "levels", tuple(self.levels))
        for lv in self.levels:
            if lv.people.shape[0] != pop.size:
                msg = f"level {lv.name!r} has {lv.people.shape[0]} rows for {pop.size} units"
                raise ParameterError(msg)
        names = criteria_names([lv.name for lv in self.levels], soft_band=self.soft_band)
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "weights", check_weights(self.weights, names))

    @property
    def n(self) -> int:
        return int(self.population.size)

    def level(self, name: str) -> TargetLevel:
        """The scored level called ``name``."""
        for lv in self.levels:
            if lv.name == name:
                return lv
        msg = f"no level {name!r} is scored; levels are {[lv.name for lv in self.levels]}"
        raise ParameterError(msg)


def criteria_names(levels: Sequence[str], *, soft_band: bool = False) -> list[str]:
    """Names of the criteria for these levels, in output order.

    Examples
    --------
    >>> criteria_names(["utla", "sa"], soft_band=True)
    ['split_utla', 'mismatch_utla', 'not_coterminous_utla', 'split_sa', 'mismatch_sa', 'not_coterminous_sa', 'outside_band']
    """
    out = [f"{kind}_{lv}" for lv in levels for kind in LEVEL_CRITERIA]
    if soft_band:
        out.append("outside_band")
    return out


def _kind(name: str) -> str:
    for kind in LEVEL_CRITERIA:
        if name.startswith(kind + "_"):
            return kind
    return name


def default_weights(names: Sequence[str]) -> dict[str, float]:
    """1 per person for ``mismatch_L``, ``not_coterminous_L`` and ``outside_band``; 0 for
    ``split_L`` (reported, not weighted).

    Examples
    --------
    >>> default_weights(["split_icb", "mismatch_icb", "not_coterminous_icb"])
    {'split_icb': 0.0, 'mismatch_icb': 1.0, 'not_coterminous_icb': 1.0}
    """
    return {c: KIND_WEIGHTS[_kind(c)] for c in names}


def check_weights(weights: Mapping[str, float] | None, names: Sequence[str]) -> dict[str, float]:
    """Weights of every criterion in ``names``: the defaults, or the given ones (others 0).

    Raises :class:`~coterminus.errors.ParameterError` naming every problem (unknown criteria,
    negative or non-numbers).

    Examples
    --------
    >>> check_weights({"mismatch_icb": 2}, ["mismatch_icb", "not_coterminous_icb"])
    {'mismatch_icb': 2.0, 'not_coterminous_icb': 0.0}
    >>> check_weights({"beauty": 1}, ["mismatch_icb"])
    Traceback (most recent call last):
    ...
    coterminus.errors.ParameterError: bad weights: unknown criteria ['beauty'] (use ['mismatch_icb'])...
    """
    if weights is None:
        return default_weights(names)
    if not isinstance(weights, Mapping):
        msg = f"weights must be a mapping {{criterion: weight}}, got {type(weights).__name__}"
        raise ParameterError(msg)
    problems = []
    unknown = [k for k in weights if k not in names]
    if unknown:
        problems.append(f"unknown criteria {unknown} (use {list(names)})")
    out = dict.fromkeys(names, 0.0)
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
    if problems:
        msg = (
            "bad weights: " + "; ".join(problems) + ". Weights are ≥ 0 per person (or m²) of "
            f"each criterion; the default is {default_weights(names)}."
        )
        raise ParameterError(msg)
    return out


def thresholds(totals: np.ndarray, tolerance: float) -> IntArray:
    """:math:`a_t = \\lfloor \\varepsilon T[t] \\rfloor`: an area is absent from a block holding
    at most ``a`` of it and whole in a block missing at most ``a`` of it.

    ``whole`` is tested as :math:`T - m \\le a` (not :math:`m \\ge \\lceil (1-\\varepsilon) T
    \\rceil`, which floating point can round one person up), so the rule is symmetric and exact.

    Examples
    --------
    >>> thresholds(np.array([1000, 199, 0]), 0.005).tolist()
    [5, 0, 0]
    """
    t = np.asarray(totals, dtype=np.int64)
    return np.floor(tolerance * t.astype(np.float64)).astype(np.int64)


@dataclass(frozen=True)
class LevelTerms:
    """Per-block values of one level (arrays over K blocks)."""

    split: IntArray  # Σ_t m·[t split]
    mismatch: IntArray  # Σ_t min(m, T − m)·[t split]
    coterminous: BoolArray  # no area split in the block
    split_areas: BoolArray  # (K, T) which areas are split in each block


def level_terms(m: np.ndarray, totals: np.ndarray, tolerance: float) -> LevelTerms:
    """Split, mismatch and coterminosity of K blocks against one level (see the module notes).

    Parameters
    ----------
    m : numpy.ndarray, shape (K, T)
        People (or m²) of each area in each block.
    totals : numpy.ndarray, shape (T,)
        Whole of each area.
    tolerance : float
        ε.

    Examples
    --------
    >>> t = level_terms(np.array([[100, 0], [199, 3], [150, 0]]), np.array([200, 1000]), 0.005)
    >>> t.split.tolist(), t.mismatch.tolist(), t.coterminous.tolist()
    ([100, 0, 150], [100, 0, 50], [False, True, False])
    """
    mm = np.asarray(m, dtype=np.int64)
    tot = np.asarray(totals, dtype=np.int64)
    a = thresholds(tot, tolerance)
    out = tot - mm
    split = (mm > a) & (out > a)
    return LevelTerms(
        split=np.where(split, mm, 0).sum(axis=1),
        mismatch=np.where(split, np.minimum(mm, out), 0).sum(axis=1),
        coterminous=np.asarray(~split.any(axis=1), dtype=bool),
        split_areas=split,
    )


@dataclass(frozen=True)
class BlockScores:
    """Scores of K blocks: every criterion, ``change`` and the weighted cost (arrays over K).

    ``criteria`` holds int64 arrays named as :func:`criteria_names`; ``cost`` is
    :math:`\\sum_c w_c x_c` (float64); ``coterminous[L]`` says whether no area of level ``L`` is
    split in the block; ``split_areas[L]`` which areas are.
    """

    population: IntArray
    size: IntArray
    criteria: dict[str, IntArray]
    change: IntArray
    cost: NDArray[np.float64]
    coterminous: dict[str, BoolArray]
    split_areas: dict[str, BoolArray]


def score_sums(
    objective: Objective,
    population: np.ndarray,
    size: np.ndarray,
    level_sums: Sequence[np.ndarray],
    today_sums: np.ndarray,
) -> BlockScores:
    """Score K blocks from their sums: people, size, people per area of each level, per
    footprint of today (the exhaustive engine passes all ``2**n`` masks' subset sums).

    ``level_sums[i]`` is (K, T) for ``objective.levels[i]``; ``today_sums`` is (K, C).
    """
    pop = np.asarray(population, dtype=np.int64)
    sz = np.asarray(size, dtype=np.int64)
    criteria: dict[str, IntArray] = {}
    coterminous: dict[str, BoolArray] = {}
    split_areas: dict[str, BoolArray] = {}
    for lv, m in zip(objective.levels, level_sums, strict=True):
        t = level_terms(m, lv.area_totals, objective.tolerance)
        criteria[f"split_{lv.name}"] = t.split
        criteria[f"mismatch_{lv.name}"] = t.mismatch
        criteria[f"not_coterminous_{lv.name}"] = np.where(t.coterminous, 0, sz)
        coterminous[lv.name] = t.coterminous
        split_areas[lv.name] = t.split_areas
    if objective.soft_band:
        lo, hi = objective.band
        criteria["outside_band"] = np.where((pop < lo) | (pop > hi), pop, 0)
    d = np.asarray(today_sums, dtype=np.int64)
    change = pop - d.max(axis=1) if d.shape[1] else pop.copy()
    weights = objective.weights or {}
    cost = np.zeros(pop.shape, dtype=np.float64)
    for c in objective.names:
        w = float(weights.get(c, 0.0))
        if w:
            cost += w * criteria[c].astype(np.float64)
    return BlockScores(pop, sz, criteria, change, cost, coterminous, split_areas)


def member_sums(members: np.ndarray, values: np.ndarray) -> IntArray:
    """``members @ values`` exactly: (K, n) booleans times (n, ...) integers.

    Examples
    --------
    >>> member_sums(np.array([[True, True], [False, True]]), np.array([3, 4])).tolist()
    [7, 4]
    """
    b = np.asarray(members, dtype=bool)
    v = np.asarray(values, dtype=np.int64)
    if v.size and int(np.abs(v).sum()) >= 2**53:  # float64 BLAS is exact below 2**53
        return b.astype(np.int64) @ v
    return np.rint(b.astype(np.float64) @ v.astype(np.float64)).astype(np.int64)


def score_blocks(objective: Objective, members: np.ndarray) -> BlockScores:
    """Score blocks given as a boolean membership matrix (K blocks × n units).

    The entry point for an optimiser scoring candidate blocks; the same arithmetic as the
    exhaustive engine (:func:`score_sums`), so both rank plans alike.
    """
    b = np.asarray(members, dtype=bool).reshape(-1, objective.n)
    assert objective.size is not None
    assert objective.today is not None
    return score_sums(
        objective,
        member_sums(b, objective.population),
        member_sums(b, objective.size),
        [member_sums(b, lv.people) for lv in objective.levels],
        member_sums(b, objective.today),
    )


#: Largest plan objective, in grid steps, of a fractional-weight objective: both engines then
#: sum whole numbers far below 2**53, and a MILP solver resolves one step (HiGHS proves a whole
#: objective optimal once its bound is within one step).
MAX_STEPS = 2.0**32

#: Finest grid of a fractional-weight objective (2**-30 of a person).
MAX_BITS = 30


def cost_step(objective: Objective) -> float:
    """The grid every block cost is rounded to, the same for every engine: a power of two.

    Whole weights give whole costs (people or m²): the step is 1 and nothing is rounded. With a
    fractional weight the step is :math:`2^{-b}`, with :math:`b` the fewest bits making every
    weight a whole number of steps (0.5 → ½, exact), at most :data:`MAX_BITS`, and fewer when
    the largest objective a plan can have, :math:`U = \\sum_c w_c \\cdot \\text{total}_c`
    (every criterion of a block is at most its people, or m², so a plan's at most all of
    them), would pass :data:`MAX_STEPS` steps. The grid depends on the objective only — not on
    which blocks an engine looks at — so the exhaustive engine (all ``2**n`` blocks) and the
    optimiser (candidate blocks) round every block alike and rank plans alike.

    Examples
    --------
    >>> obj = Objective(population=np.array([100, 200]), weights=None)
    >>> cost_step(obj)
    1.0
    >>> lv = TargetLevel("x", "x", "xs", ("X",), ("X",), people=np.array([[100], [200]]))
    >>> cost_step(Objective(np.array([100, 200]), (lv,), weights={"mismatch_x": 0.75}))
    0.25
    >>> cost_step(Objective(np.array([100, 200]), (lv,), weights={"mismatch_x": 0.1}))
    7.450580596923828e-09
    """
    weights = dict(objective.weights or {})
    values = [float(w) for w in weights.values() if w]
    if all(v == round(v) for v in values):
        return 1.0
    assert objective.size is not None
    size_total = float(objective.size.sum())
    pop_total = float(objective.population.sum())
    top = sum(
        float(w) * (pop_total if c == "outside_band" else size_total) for c, w in weights.items()
    )
    cap = MAX_BITS if top <= 0 else math.floor(math.log2(MAX_STEPS / max(top, 1.0)))
    bits = 0
    while bits < min(cap, MAX_BITS) and not all(
        math.ldexp(v, bits) == round(math.ldexp(v, bits)) for v in values
    ):
        bits += 1
    return math.ldexp(1.0, -max(bits, 0))


def cost_steps(objective: Objective, cost: np.ndarray) -> IntArray:
    """Block costs as whole numbers of :func:`cost_step` (rounded half to even).

    Examples
    --------
    >>> cost_steps(Objective(population=np.array([1])), np.array([0.0, 3.0]))
    array([0, 3])
    """
    step = cost_step(objective)
    return np.rint(np.asarray(cost, dtype=np.float64) / step).astype(np.int64)


def criterion_text(name: str, labels: Mapping[str, str], measure: str = "population") -> str:
    """What a criterion measures, in the words of its level (plural labels by level name).

    Examples
    --------
    >>> criterion_text("mismatch_icb", {"icb": "ICBs"})
    'people behind mismatches with ICBs (in ICBs a block does not mostly cover, or of ICBs it mostly covers living outside it)'
    >>> criterion_text("outside_band", {})
    'people in blocks outside the population band'
    """
    unit = "people" if measure == "population" else "m²"
    if name == "outside_band":
        return "people in blocks outside the population band"
    kind = _kind(name)
    level = name[len(kind) + 1 :]
    words = labels.get(level, level)
    if kind == "split":
        return f"{unit} of {words} split between blocks, counted in each block holding a piece"
    if kind == "mismatch":
        return (
            f"{unit} behind mismatches with {words} (in {words} a block does not mostly cover, "
            f"or of {words} it mostly covers living outside it)"
        )
    return f"{unit} in blocks that are not unions of whole {words}"
