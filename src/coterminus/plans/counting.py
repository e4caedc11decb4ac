"""How many plans keep the rules: "best of N" with a real N, for any number of units.

Two exact counts of the plans an optimiser chooses among:

* :func:`count_plans` — a memoised dynamic programme over exact covers of the units by the
  allowed blocks (:func:`coterminus.plans.candidates.candidate_blocks`), so *every* rule is
  respected: :math:`N(\\varnothing) = 1`,
  :math:`N(R) = \\sum_{B \\ni \\text{low}(R),\\, B \\subseteq R} N(R \\setminus B)` (each plan counted
  once, its blocks taken in order of their lowest unit). Its cost is the number of reachable
  sets :math:`R`.
* :func:`count_graphillion` — graphillion's frontier-based ZDD of connected partitions whose
  blocks' populations lie in the band (``GraphSet.balanced_partitions``), for the band and
  contiguity only (a connected partition is the set of edges inside its blocks: a bijection
  for connected blocks). Often much faster; used when those are the only rules and the graph
  is connected (the ``count`` extra installs it).

:func:`count_feasible` picks one and says how the count was obtained or why it was not.

Examples
--------
Three units on a path, every block allowed: the 4 contiguous plans (the 5th, {0,2}+{1}, has a
block that is not connected, so it is not among the blocks given).

>>> count_plans([0b001, 0b010, 0b100, 0b011, 0b110, 0b111], 3)
(4, 4)
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from .candidates import Candidates, is_connected, neighbour_masks
from .problem import Problem

__all__ = ["PlanCount", "TooManyStates", "count_feasible", "count_graphillion", "count_plans"]


class TooManyStates(RuntimeError):
    """The DP would need more than its memo or time allows."""


def count_plans(
    masks: Sequence[int], n: int, *, max_states: int = 20_000_000, time_limit: float = math.inf
) -> tuple[int, int]:
    """(number of plans, number of DP states) of exact covers of ``n`` units by ``masks``.

    Raises :class:`TooManyStates` past ``max_states`` memo entries or ``time_limit`` seconds.
    """
    deadline = time.perf_counter() + time_limit
    by_low: list[list[int]] = [[] for _ in range(n)]
    for m in masks:
        by_low[(int(m) & -int(m)).bit_length() - 1].append(int(m))
    memo: dict[int, int] = {0: 1}
    wide = n > 63
    arrs = [] if wide else [np.array(b, dtype=np.uint64) for b in by_low]
    full = (1 << n) - 1

    def fits(r: int, low: int) -> list[int]:
        if wide:
            return [b for b in by_low[low] if b & ~r == 0]
        arr = arrs[low]
        got: list[int] = arr[(arr & np.uint64(~r & full)) == 0].tolist()
        return got

    # iterative DFS (deep recursion would hit Python's limit on 60+ units)
    stack: list[tuple[int, list[int], int]] = []
    root = full
    if n == 0:
        return 1, 1
    stack.append((root, fits(root, (root & -root).bit_length() - 1), 0))
    totals: list[int] = [0]
    while stack:
        r, blocks, i = stack[-1]
        if i == len(blocks):
            stack.pop()
            value = totals.pop()
            memo[r] = value
            if len(memo) >= max_states:
                msg = f"more than {max_states:,} states"
                raise TooManyStates(msg)
            if not len(memo) % 4096 and time.perf_counter() > deadline:
                msg = f"not finished in {time_limit:g} s ({len(memo):,} states so far)"
                raise TooManyStates(msg)
            if totals:
                totals[-1] += value
            continue
        stack[-1] = (r, blocks, i + 1)
        rest = r ^ blocks[i]
        got = memo.get(rest)
        if got is not None:
            totals[-1] += got
            continue
        stack.append((rest, fits(rest, (rest & -rest).bit_length() - 1), 0))
        totals.append(0)
    return memo[root], len(memo)


def count_graphillion(
    n: int, edges: Sequence[tuple[int, int]], population: Sequence[int], lo: float, hi: float
) -> int:
    """Connected partitions with every block's population in ``[lo, hi]`` (graphillion ZDD).

    Needs a connected graph (graphillion's universe is its edges).
    """
    from graphillion import GraphSet

    GraphSet.set_universe([(int(a) + 1, int(b) + 1) for a, b in edges], traversal="bfs")
    weights = {u + 1: int(population[u]) for u in range(n)}
    upper = int(min(hi, 2**31 - 1)) if math.isfinite(hi) else 2**31 - 1
    gs = GraphSet.balanced_partitions(weight_list=weights, lower=math.ceil(lo), upper=upper)
    return int(gs.len())


@dataclass(frozen=True)
class PlanCount:
    """A count of the plans that keep the rules, and how it was obtained.

    ``value`` is ``None`` when it was not reached; ``how`` says how it was obtained ("graphillion
    ZDD over 54 adjacencies", "dynamic programme over 4,518 allowed blocks, 77,802 states") or
    why not.
    """

    value: int | None
    how: str
    seconds: float

    @property
    def text(self) -> str:
        if self.value is None:
            return f"not counted ({self.how})"
        return f"{self.value:,} plans ({self.how})"


#: Most enumerated blocks for which the ZDD is built in this process; beyond (or when the blocks
#: were not enumerated) it is built in a child process stopped at the time limit, since it
#: cannot be interrupted (2026, upper-tier councils: North East and Yorkshire, 444,423 blocks,
#: 2.5 s; North West 1.1 s; London's 5,303,578 blocks: not in 30 s).
ZDD_BLOCKS = 200_000


def _graphillion_fits(problem: Problem) -> bool:
    r = problem.rules
    if not r.contiguous or r.no_split or r.coterminous_with or r.n_blocks is not None:
        return False
    if importlib.util.find_spec("graphillion") is None:
        return False
    return is_connected((1 << problem.n) - 1, neighbour_masks(problem)) and problem.n > 1


def _zdd_child(
    out: Connection, n: int, edges: list[tuple[int, int]], pop: list[int], lo: float, hi: float
) -> None:
    out.send(count_graphillion(n, edges, pop, lo, hi))


def _zdd_with_limit(
    n: int, edges: list[tuple[int, int]], pop: list[int], lo: float, hi: float, limit: float
) -> int | None:
    """:func:`count_graphillion` in a child process, ``None`` when not done in ``limit`` s."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_zdd_child, args=(send, n, edges, pop, lo, hi), daemon=True)
    child.start()
    try:
        if receive.poll(limit):
            got: int = receive.recv()
            return got
        return None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def count_feasible(
    problem: Problem, cands: Candidates | None, *, time_limit: float = 120.0
) -> PlanCount:
    """The number of plans of ``problem`` that keep every rule (see the module notes).

    graphillion when installed and the rules are the band and contiguity only (within one
    group is contiguity with links between groups removed): in this process up to
    :data:`ZDD_BLOCKS` enumerated blocks, else in a child process stopped after ``time_limit``
    seconds. Otherwise the DP over the allowed blocks (``cands``), within ``time_limit``.
    """
    t0 = time.perf_counter()
    if _graphillion_fits(problem):
        nb = neighbour_masks(problem)
        edges = [
            (a, b) for a in range(problem.n) for b in range(a + 1, problem.n) if nb[a] >> b & 1
        ]
        lo, hi = problem.rules.hard_band
        pop = problem.objective.population.tolist()
        how = f"graphillion ZDD over {len(edges):,} adjacencies"
        if cands is not None and cands.enumerated <= ZDD_BLOCKS:
            value: int | None = count_graphillion(problem.n, edges, pop, lo, hi)
        else:
            value = _zdd_with_limit(problem.n, edges, pop, lo, hi, time_limit)
            if value is None:
                how += f" not finished in {time_limit:g} s"
        return PlanCount(value, how, time.perf_counter() - t0)
    if cands is None:
        return PlanCount(None, "too many blocks to enumerate", time.perf_counter() - t0)
    if problem.rules.n_blocks is not None:
        return PlanCount(None, "counting with a number of blocks is not implemented", 0.0)
    try:
        plans, states = count_plans(cands.masks, problem.n, time_limit=time_limit)
    except TooManyStates as exc:
        return PlanCount(None, f"dynamic programme {exc}", time.perf_counter() - t0)
    how = f"dynamic programme over {len(cands):,} allowed blocks, {states:,} states"
    return PlanCount(plans, how, time.perf_counter() - t0)
