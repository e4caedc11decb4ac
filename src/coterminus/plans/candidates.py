"""Candidate blocks of a merger question of any size: enumerated, checked and scored.

An exact optimiser chooses blocks, so it needs each block's cost and whether the rules allow
it. This module enumerates the blocks that can be in a plan — every connected set of units
within one group and within the maximum population (every set within one group without
contiguity) — and scores them with the library's objective
(:func:`coterminus.plans.objective.score_blocks`) and rules
(:func:`coterminus.plans.rules.rule_checks`), the very functions the exhaustive engine uses on
all ``2**n`` blocks. Block costs are whole numbers of one grid step
(:func:`coterminus.plans.objective.cost_steps`), so every plan sum is exact and both engines
rank alike.

Notes
-----
Connected sets are enumerated once each, rooted at their lowest unit: a search that includes or
excludes each neighbour of the set grown so far (``ext`` the neighbours that may still join,
``excl`` the units decided out: lower units and siblings already tried). Populations are
positive, so a unit that would pass the maximum is excluded with its whole branch. The cost is
proportional to the number of connected sets within the maximum (London's 33 upper-tier
councils under 2,966,476 people: 1,095,390 sets).

Examples
--------
Four units on a path, each of 1 person; blocks of at most 2 people: the 4 singletons and the 3
adjacent pairs.

>>> sorted(connected_sets([1, 1, 1, 1], [0b10, 0b101, 0b1010, 0b100], 2, 100))
[1, 2, 3, 4, 6, 8, 12]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .objective import cost_steps, member_sums, score_blocks
from .problem import Problem
from .rules import allowed_blocks, rule_checks

__all__ = [
    "MAX_CANDIDATES",
    "Candidates",
    "TooManyCandidates",
    "candidate_blocks",
    "connected_sets",
    "is_connected",
    "masks_to_matrix",
    "matrix_to_masks",
    "neighbour_masks",
    "score_masks",
]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


#: Most connected sets enumerated before blocks are generated instead (London's 33 upper-tier
#: councils under 3,503,332 people, 2026: 5,303,578 sets in 25 s, about 2.3 GB at the peak).
MAX_CANDIDATES = 6_000_000


class TooManyCandidates(RuntimeError):
    """The enumeration passed its limit (the optimiser then generates blocks instead)."""


def masks_to_matrix(masks: Sequence[int], n: int) -> BoolArray:
    """Boolean (K, n) membership matrix of Python-int bitmasks (any ``n``).

    Examples
    --------
    >>> masks_to_matrix([0b101, 0b010], 3).astype(int).tolist()
    [[1, 0, 1], [0, 1, 0]]
    """
    k = len(masks)
    out = np.zeros((k, n), dtype=bool)
    for w0 in range(0, n, 62):
        width = min(62, n - w0)
        chunk = np.fromiter(
            ((int(m) >> w0) & ((1 << width) - 1) for m in masks), dtype=np.int64, count=k
        )
        out[:, w0 : w0 + width] = ((chunk[:, None] >> np.arange(width)) & 1).astype(bool)
    return out


def matrix_to_masks(matrix: np.ndarray) -> list[int]:
    """Python-int bitmasks of the rows of a boolean membership matrix.

    Examples
    --------
    >>> matrix_to_masks(np.array([[True, False, True], [False, True, False]]))
    [5, 2]
    """
    return [sum(1 << int(u) for u in np.flatnonzero(row)) for row in np.asarray(matrix, bool)]


def is_connected(mask: int, nb: Sequence[int]) -> bool:
    """Whether the units of ``mask`` are one connected group under neighbour masks ``nb``.

    Examples
    --------
    >>> is_connected(0b101, [0b10, 0b101, 0b10]), is_connected(0b111, [0b10, 0b101, 0b10])
    (False, True)
    """
    if mask == 0:
        return False
    seen = mask & -mask
    frontier = seen
    while frontier:
        low = frontier & -frontier
        frontier ^= low
        new = nb[low.bit_length() - 1] & mask & ~seen
        seen |= new
        frontier |= new
    return seen == mask


def neighbour_masks(problem: Problem) -> list[int]:
    """Neighbour bitmask of each unit, without links between groups when blocks stay within
    one group (so a connected block is also within one group)."""
    n = problem.n
    if not problem.rules.contiguous:
        return [0] * n
    nb = list(problem.neighbours)
    if problem.rules.within:
        g = problem.groups
        same = [sum(1 << v for v in range(n) if g[v] == g[u]) for u in range(n)]
        nb = [m & s for m, s in zip(nb, same, strict=True)]
    return nb


def connected_sets(pop: Sequence[int], nb: Sequence[int], cap: float, limit: int) -> list[int]:
    """Every connected set of units with population ≤ ``cap`` (bitmasks), each once.

    Raises :class:`TooManyCandidates` past ``limit`` sets (see the module notes).
    """
    out: list[int] = []
    stack: list[tuple[int, int, int, int]] = []
    for v in range(len(pop)):
        if pop[v] > cap:
            continue
        below = (1 << (v + 1)) - 1  # v and every lower unit stay out of the extension
        stack.append((1 << v, int(pop[v]), nb[v] & ~below, below))
        while stack:
            s, ps, ext, excl = stack.pop()
            out.append(s)
            if len(out) > limit:
                msg = f"more than {limit:,} connected blocks within the maximum population"
                raise TooManyCandidates(msg)
            children = []
            while ext:
                w = ext & -ext
                ext ^= w
                i = w.bit_length() - 1
                if ps + pop[i] <= cap:
                    children.append(
                        (s | w, ps + int(pop[i]), ext | (nb[i] & ~excl & ~s & ~w), excl)
                    )
                excl |= w
            stack.extend(reversed(children))
    return out


def _all_sets(
    pop: Sequence[int], groups: Sequence[int] | None, cap: float, limit: int
) -> list[int]:
    """Every non-empty set of units (within one group) with population ≤ ``cap``."""
    n = len(pop)
    if n > 24:
        msg = "without contiguity, blocks are enumerated for at most 24 units"
        raise TooManyCandidates(msg)
    masks = np.arange(1, 1 << n, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    ok = bits.astype(np.float64) @ np.asarray(pop, dtype=np.float64) <= cap
    if groups is not None:
        g = np.asarray(groups)
        for label in np.unique(g):
            ok &= ~(bits[:, g == label].any(axis=1) & bits[:, g != label].any(axis=1))
    out: list[int] = masks[ok].tolist()
    if len(out) > limit:
        msg = f"more than {limit:,} blocks within the maximum population"
        raise TooManyCandidates(msg)
    return out


def score_masks(problem: Problem, masks: Sequence[int]) -> tuple[IntArray, IntArray, BoolArray]:
    """Cost (whole grid steps), ``change`` and whether every rule allows each block.

    Rules checked: the hard band, ``no_split``, ``coterminous_with``
    (:func:`coterminus.plans.rules.rule_checks`), contiguity and one group.
    """
    mat = masks_to_matrix(masks, problem.n)
    scores = score_blocks(problem.objective, mat)
    ok = _rules_ok(problem, mat, scores.population)
    if problem.rules.contiguous:
        nb = neighbour_masks(problem)
        ok &= np.array([is_connected(int(m), nb) for m in masks], dtype=bool)
    elif problem.rules.within:
        g = problem.groups
        ok &= np.array([np.unique(g[row]).size == 1 for row in mat], dtype=bool)
    return cost_steps(problem.objective, scores.cost), scores.change, ok


def _rules_ok(problem: Problem, mat: BoolArray, population: np.ndarray) -> BoolArray:
    rules = problem.rules
    checks = rule_checks(
        rules,
        population,
        [member_sums(mat, lv.people) for lv in rules.no_split],
        [member_sums(mat, lv.people) for lv in rules.coterminous_with],
    )
    return allowed_blocks(checks, mat.shape[0])


@dataclass
class Candidates:
    """Every block the rules allow: bitmasks, membership, cost in grid steps and ``change``.

    ``enumerated`` counts the sets enumerated (within one group and the maximum population)
    before the other rules were checked.
    """

    masks: list[int]
    matrix: BoolArray
    steps: IntArray
    change: IntArray
    enumerated: int
    seconds: float

    def __len__(self) -> int:
        return len(self.masks)


def candidate_blocks(problem: Problem, *, max_candidates: int = MAX_CANDIDATES) -> Candidates:
    """All blocks of ``problem`` that keep every rule, scored (see the module notes).

    Raises :class:`TooManyCandidates` past ``max_candidates`` enumerated sets.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> from coterminus.plans.constraints import Constraints
    >>> from coterminus.plans.problem import prepare_problem
    >>> lsoa = pd.DataFrame({"u": ["A", "B", "C"], "la": ["X", "X", "Y"],
    ...                      "population": [100, 100, 300]})
    >>> p = prepare_problem({"la": population_overlap(lsoa, "u", "la")}, None, ["A", "B", "C"],
    ...                     Constraints(contiguous=False, min_pop=150))
    >>> c = candidate_blocks(p)
    >>> [(m, int(s)) for m, s in zip(c.masks, c.steps)]
    [(3, 0), (4, 0), (5, 500), (6, 500), (7, 0)]
    """
    t0 = time.perf_counter()
    rules = problem.rules
    lo, hi = rules.hard_band
    pop = problem.objective.population.tolist()
    if rules.contiguous:
        masks = connected_sets(pop, neighbour_masks(problem), hi, max_candidates)
    else:
        groups = problem.groups.tolist() if rules.within else None
        masks = _all_sets(pop, groups, hi, max_candidates)
    enumerated = len(masks)
    masks.sort()
    mat = masks_to_matrix(masks, problem.n)
    people = member_sums(mat, problem.objective.population)
    keep = np.flatnonzero(people >= lo)  # the floor first (cheap), then the scores
    mat = mat[keep]
    masks = [masks[i] for i in keep.tolist()]
    scores = score_blocks(problem.objective, mat)
    ok = np.flatnonzero(_rules_ok(problem, mat, scores.population))
    return Candidates(
        masks=[masks[i] for i in ok.tolist()],
        matrix=mat[ok],
        steps=cost_steps(problem.objective, scores.cost)[ok],
        change=scores.change[ok],
        enumerated=enumerated,
        seconds=time.perf_counter() - t0,
    )
