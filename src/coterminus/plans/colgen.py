"""Column generation: exact plans when the candidate blocks are too many for one MILP.

The set-partitioning LP (:mod:`coterminus.plans.milp`) is solved over a growing pool of blocks;
new blocks come from *pricing*: a block with negative reduced cost
:math:`\\alpha c(B) + \\beta t(B) - \\sum_{u \\in B} \\pi_u` for the LP's unit duals
:math:`\\pi`. Pricing is an exact scan when every allowed block was enumerated
(:class:`PoolOracle`) and the one-block MILP otherwise
(:class:`~coterminus.plans.pricing.PricingModel`), with a cheap local search (add, drop or swap
one unit of the pool's best blocks) tried first.

Notes
-----
*Bounds.* At any iteration the Lagrangian bound :math:`z_{RMP} + K \\min(0, \\bar r)` is a valid
lower bound (:math:`\\bar r` the least reduced cost, :math:`K` the most blocks a plan can have,
:math:`\\lfloor P / \\text{min} \\rfloor`); once no block prices out, :math:`z_{LP}` is.

*Exactness of the final MILP.* At LP-optimal duals :math:`z(x) = z_{LP} + \\sum_j r_j x_j` for
every plan :math:`x`, with every :math:`r_j \\ge 0`. So a block with :math:`r_j > U - z_{LP}`
is in no plan of value :math:`\\le U`: enumerating every block with :math:`r_j \\le U - z_{LP}`
(the pricing MILP with no-good cuts and an objective cutoff, or a filter over the enumerated
blocks) makes the MILP over the pool exact for every plan up to :math:`U`. A plan of rank
:math:`r` is *proven* when every plan lexicographically no worse than it is representable in
the pool this way.

*Stages.* Phase 1 (artificial columns of cost 1, real ones 0) finds a fractional cover or
proves none exists; stage 1 minimises the cost; stage 2 adds the row
:math:`\\sum_j c_j x_j \\le z_1^*` (dual :math:`\\lambda \\le 0`) and minimises ``change``
(reduced cost :math:`t_j - \\lambda c_j - \\sum \\pi_u`). When an LP value is 0, :math:`\\pi = 0`
is an optimal dual (every cost is :math:`\\ge 0`). Seeds: today's footprints, greedy
region-growing plans (:func:`greedy_plans`) and optional blocks (e.g. the allowed blocks of a
coarser level).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
from numpy.typing import NDArray

from .candidates import Candidates, masks_to_matrix, neighbour_masks, score_masks
from .milp import INF, LexSolution, SetPartitioning, SolverOptions, kbest, new_highs
from .pricing import PricingModel
from .problem import Problem

__all__ = ["CGLog", "ColumnGeneration", "PoolOracle", "greedy_plans"]

FloatArray = NDArray[np.float64]
Stage = Literal["phase1", "main", "change"]
TOL = 1e-6


class PoolOracle:
    """Exact pricing by scanning every allowed block (vectorised over the enumerated pool)."""

    def __init__(self, cands: Candidates) -> None:
        self.masks = cands.masks
        self.steps = cands.steps
        self.change = cands.change
        _, cols = np.nonzero(cands.matrix)  # row-major: grouped by block
        self.units = cols.astype(np.int64)
        sizes = cands.matrix.sum(axis=1)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.masks)

    def reduced_costs(self, alpha: float, beta: float, pi: FloatArray) -> FloatArray:
        cover = np.add.reduceat(np.asarray(pi, dtype=float)[self.units], self.starts)
        return alpha * self.steps.astype(float) + beta * self.change.astype(float) - cover

    def price(
        self, alpha: float, beta: float, pi: FloatArray, top: int = 64
    ) -> tuple[float, list[int]]:
        """(least reduced cost, indices of up to ``top`` most negative blocks)."""
        rc = self.reduced_costs(alpha, beta, pi)
        k = min(top, rc.size)
        idx = np.argpartition(rc, k - 1)[:k]
        idx = idx[np.argsort(rc[idx])]
        return float(rc[idx[0]]), [int(i) for i in idx if rc[i] < -TOL]

    def below(self, alpha: float, beta: float, pi: FloatArray, threshold: float) -> list[int]:
        return np.flatnonzero(self.reduced_costs(alpha, beta, pi) <= threshold + TOL).tolist()


class _Master:
    """Restricted master LP over the pool (+ the stage-2 cost row), with artificial columns."""

    def __init__(self, n: int, big: float, opts: SolverOptions, artificials: bool) -> None:
        self.n = n
        h = new_highs(opts, False)
        h.setOptionValue("solver", "simplex")
        for _ in range(n):
            h.addRow(1.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        self.h = h
        self.n_cols = 0
        self.cost_row = -1
        for u in range(n):  # artificial columns keep the LP feasible from the start
            self._add_col([u], [1.0], big, INF if artificials else 0.0)
        self.n_art = n

    def _add_col(self, idx: list[int], val: list[float], cost: float, ub: float) -> None:
        self.h.addCol(cost, 0.0, ub, len(idx), np.asarray(idx, dtype=np.int32), np.asarray(val))
        self.n_cols += 1

    def add(self, mask: int, cost: float, steps: int) -> None:
        idx = [u for u in range(self.n) if mask >> u & 1]
        val = [1.0] * len(idx)
        if self.cost_row >= 0 and steps:
            idx.append(self.cost_row)
            val.append(float(steps))
        self._add_col(idx, val, cost, INF)

    def add_cost_row(self, steps: Sequence[int], bound: int) -> None:
        """Row ``Σ steps_j x_j ≤ bound`` over the real columns."""
        cols = np.arange(self.n_art, self.n_cols, dtype=np.int32)
        vals = np.asarray(steps, dtype=float)
        nz = vals != 0
        self.h.addRow(-INF, float(bound), int(nz.sum()), cols[nz], vals[nz])
        self.cost_row = self.n

    def set_costs(self, costs: FloatArray, big: float) -> None:
        c = np.concatenate([np.full(self.n_art, big), np.asarray(costs, dtype=float)])
        self.h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), c)

    def solve(self, time_limit: float) -> tuple[float, FloatArray, float, FloatArray]:
        """LP value, unit duals, cost-row dual (0 without it), column values."""
        self.h.setOptionValue("time_limit", max(time_limit, 0.01))
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            msg = f"master LP: {self.h.modelStatusToString(self.h.getModelStatus())}"
            raise RuntimeError(msg)
        sol = self.h.getSolution()
        rd = np.asarray(sol.row_dual, dtype=float)
        lam = float(rd[self.cost_row]) if self.cost_row >= 0 else 0.0
        value = float(self.h.getInfo().objective_function_value)
        return value, rd[: self.n], lam, np.asarray(sol.col_value, dtype=float)


@dataclass
class _Pool:
    """Generated blocks with their exact scores."""

    n: int
    masks: list[int] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)
    change: list[int] = field(default_factory=list)

    def add(self, mask: int, steps: int, change: int) -> bool:
        if mask in self.index:
            return False
        self.index[mask] = len(self.masks)
        self.masks.append(mask)
        self.steps.append(steps)
        self.change.append(change)
        return True


@dataclass
class CGLog:
    """What one stage of column generation did."""

    stage: str
    iterations: int = 0
    columns_added: int = 0
    lp_value: float = math.nan
    lower_bound: float = -math.inf
    converged: bool = False
    enumerated: int = 0
    enumeration_complete: bool = False
    enumeration_threshold: float = math.nan
    exhausted: bool = False  # every allowed block is in the pool
    local_rounds: int = 0
    pricing_seconds: float = 0.0
    master_seconds: float = 0.0
    seconds: float = 0.0


class ColumnGeneration:
    """Column generation and reduced-cost enumeration for one problem (see the module notes)."""

    def __init__(
        self,
        problem: Problem,
        opts: SolverOptions,
        deadline: float,
        oracle: PoolOracle | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.problem = problem
        self.opts = opts
        self.deadline = deadline
        self.oracle = oracle
        self.report = report or (lambda _s: None)
        self.pool = _Pool(problem.n)
        self.nb = neighbour_masks(problem)
        pop = problem.objective.population
        lo = problem.rules.hard_band[0]
        ptot = int(pop.sum())
        self.kmax = problem.n if lo <= 0 else min(problem.n, int(ptot // lo))
        self.big = float(ptot * 4 + 1)  # artificial cost before phase 1 proves a cover
        self.slack = 0.0
        self.logs: list[CGLog] = []
        self.phase1_ok = False

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    # -- columns -----------------------------------------------------------------------------
    def _add_oracle(self, idx: Sequence[int], master: _Master | None) -> int:
        assert self.oracle is not None
        added = 0
        for i in idx:
            m = self.oracle.masks[i]
            a, c = int(self.oracle.steps[i]), int(self.oracle.change[i])
            if self.pool.add(m, a, c):
                if master is not None:
                    master.add(m, float(a), a)
                added += 1
        return added

    def add_columns(self, masks: Sequence[int], master: _Master | None) -> int:
        """Score and add blocks (those the rules forbid are dropped)."""
        new = [m for m in dict.fromkeys(masks) if m not in self.pool.index]
        if not new:
            return 0
        steps, change, ok = score_masks(self.problem, new)
        added = 0
        for m, a, c, good in zip(new, steps.tolist(), change.tolist(), ok.tolist(), strict=True):
            if good and self.pool.add(m, a, c):
                if master is not None:
                    master.add(m, float(a), a)
                added += 1
        return added

    def seed_today(self) -> None:
        """Today's footprints (each unit with the footprint holding most of its people)."""
        today = self.problem.objective.today
        assert today is not None
        lab = today.argmax(axis=1)
        self.add_columns(
            [sum(1 << int(u) for u in np.flatnonzero(lab == v)) for v in np.unique(lab)], None
        )

    def _reduced(
        self, masks: Sequence[int], pi: FloatArray, lam: float, stage: Stage
    ) -> FloatArray:
        steps, change, _ = score_masks(self.problem, masks)
        cover = masks_to_matrix(masks, self.problem.n).astype(float) @ pi
        if stage == "phase1":
            return -cover
        if stage == "main":
            return steps.astype(float) - cover
        return change.astype(float) - lam * steps.astype(float) - cover

    # -- one stage -----------------------------------------------------------------------------
    def run_stage(
        self, stage: Stage, cost_bound: int | None
    ) -> tuple[CGLog, PricingModel | None, FloatArray, float]:
        """Column generation to LP optimality (or the deadline) for one stage."""
        t0 = time.perf_counter()
        log = CGLog(stage)
        pricing = None
        if self.oracle is None:
            pricing = PricingModel(self.problem, self.opts, with_change=stage == "change")
            self.slack = pricing.slack
        big = 1.0 if stage == "phase1" else self.big
        master = _Master(
            self.problem.n, big, self.opts, artificials=stage == "phase1" or not self.phase1_ok
        )
        for m, a in zip(self.pool.masks, self.pool.steps, strict=True):
            master.add(m, float(a), a)

        def costs() -> FloatArray:
            if stage == "phase1":
                return np.zeros(len(self.pool.masks))
            return np.asarray(self.pool.steps if stage == "main" else self.pool.change, float)

        if stage == "change":
            assert cost_bound is not None
            master.add_cost_row(self.pool.steps, cost_bound)
        master.set_costs(costs(), big)
        pi = np.zeros(self.problem.n)
        lam = 0.0
        while self.left() > 0:
            tm = time.perf_counter()
            z, pi, lam, _x = master.solve(self.left())
            log.master_seconds += time.perf_counter() - tm
            log.iterations += 1
            log.lp_value = z
            if z <= 1e-9:  # every cost ≥ 0: π = 0, λ = 0 are optimal duals
                pi, lam = np.zeros(self.problem.n), 0.0
                log.lp_value = log.lower_bound = 0.0
                log.converged = True
                break
            alpha, beta = {"phase1": (0.0, 0.0), "main": (1.0, 0.0)}.get(stage, (-lam, 1.0))
            before = len(self.pool.masks)
            tp = time.perf_counter()
            if self.oracle is not None:
                best, idx = self.oracle.price(alpha, beta, pi)
                log.pricing_seconds += time.perf_counter() - tp
                log.lower_bound = max(log.lower_bound, z + self.kmax * min(0.0, best))
                if not idx:
                    log.converged = True
                    log.lower_bound = max(log.lower_bound, z)
                    break
                self._add_oracle(idx, master)
            else:
                assert pricing is not None
                local = self.local_pricing(pi, lam, stage)
                if local:
                    self.add_columns(local, master)
                    log.local_rounds += 1
                else:
                    pricing.set_objective(alpha, beta, pi)
                    s, found = pricing.solve(self.left(), cutoff=-TOL, max_solutions=5)
                    self.report(f"{stage}: LP {z:,.0f}, pricing {s.status} in {s.seconds:.1f}s")
                    if s.status == "infeasible":  # no block prices out: LP optimal
                        log.converged = True
                        log.lower_bound = max(log.lower_bound, z - self.kmax * (TOL + self.slack))
                        log.pricing_seconds += time.perf_counter() - tp
                        break
                    rc_lb = s.bound if s.status == "optimal" else min(s.bound, s.objective)
                    if math.isfinite(rc_lb):
                        lb = z + self.kmax * min(0.0, rc_lb - self.slack)
                        log.lower_bound = max(log.lower_bound, lb)
                    rc = self._reduced(found, pi, lam, stage) if found else np.zeros(0)
                    good = [m for m, r in zip(found, rc.tolist(), strict=True) if r < -TOL]
                    if s.status == "optimal" and not good:
                        log.converged = True
                        log.lower_bound = max(log.lower_bound, z - self.kmax * self.slack)
                        log.pricing_seconds += time.perf_counter() - tp
                        break
                    self.add_columns(good, master)
                log.pricing_seconds += time.perf_counter() - tp
            log.columns_added += len(self.pool.masks) - before
            master.set_costs(costs(), big)
            if len(self.pool.masks) == before:  # nothing new although not converged
                break
        log.seconds = time.perf_counter() - t0
        self.logs.append(log)
        return log, pricing, pi, lam

    def local_pricing(
        self, pi: FloatArray, lam: float, stage: Stage, top: int = 60, keep: int = 30
    ) -> list[int]:
        """One-unit additions, removals and swaps of the pool's best blocks with negative
        reduced cost (a heuristic; the pricing MILP still certifies convergence)."""
        if not self.pool.masks:
            return []
        rc = self._reduced(self.pool.masks, pi, lam, stage)
        n = self.problem.n
        cand: set[int] = set()
        for j in np.argsort(rc)[:top].tolist():
            base = self.pool.masks[j]
            members = [u for u in range(n) if base >> u & 1]
            border = 0
            for u in members:
                border |= self.nb[u]
            border &= ~base
            adds = [u for u in range(n) if border >> u & 1]
            cand.update(base | 1 << u for u in adds)
            for u in members:
                smaller = base & ~(1 << u)
                if smaller:
                    cand.add(smaller)
                    cand.update(smaller | 1 << v for v in adds)
        masks = list(cand - set(self.pool.index))
        if not masks:
            return []
        _, _, ok = score_masks(self.problem, masks)
        r = self._reduced(masks, pi, lam, stage)
        good = [i for i in np.argsort(r).tolist() if ok[i] and r[i] < -TOL][:keep]
        return [masks[i] for i in good]

    def enumerate_columns(
        self,
        pricing: PricingModel | None,
        pi: FloatArray,
        lam: float,
        stage: Stage,
        threshold: float,
        log: CGLog,
    ) -> None:
        """Add every allowed block with reduced cost ≤ ``threshold`` (see the module notes)."""
        log.enumeration_threshold = threshold
        alpha, beta = (1.0, 0.0) if stage == "main" else (-lam, 1.0)
        if self.oracle is not None:
            idx = self.oracle.below(alpha, beta, pi, threshold)
            log.enumerated += self._add_oracle(idx, None)
            log.enumeration_complete = True
            log.exhausted = len(idx) == len(self.oracle)
            return
        assert pricing is not None
        pricing.set_objective(alpha, beta, pi)
        rc = self._reduced(self.pool.masks, pi, lam, stage)
        for m, r in zip(self.pool.masks, rc.tolist(), strict=True):
            if r <= threshold + TOL:
                pricing.exclude(m)
        log.exhausted = False
        obj = self.problem.objective
        cap = float(min(self.problem.rules.hard_band[1], obj.population.sum()))
        top = sum((obj.weights or {}).values()) * cap
        rc_max = alpha * top + beta * cap - float(np.minimum(pi, 0).sum())
        while self.left() > 0:
            s, found = pricing.solve(self.left(), cutoff=threshold + self.slack + TOL)
            if s.status == "infeasible":
                log.enumeration_complete = True
                log.exhausted = threshold >= rc_max
                return
            if s.status == "optimal" and s.objective > threshold + self.slack + TOL:
                log.enumeration_complete = True
                return
            if s.x is None:
                return
            rcs = self._reduced(found, pi, lam, stage)
            keep = [
                m for m, r in zip(found, rcs.tolist(), strict=True) if r <= threshold + TOL
            ] or found[:1]
            self.report(f"enumerating {stage} blocks: {log.enumerated + len(keep):,}")
            self.add_columns(keep, None)
            for m in found:
                pricing.exclude(m)
            log.enumerated += len(keep)

    # -- the pool's MILP -----------------------------------------------------------------------
    def pool_milp(self) -> SetPartitioning:
        return SetPartitioning(
            masks_to_matrix(self.pool.masks, self.problem.n),
            np.asarray(self.pool.steps, np.int64),
            np.asarray(self.pool.change, np.int64),
            self.opts,
        )

    def tentative(self, k: int) -> list[LexSolution]:
        if not self.pool.masks:
            return []
        sols, _ = kbest(self.pool_milp(), k, self.deadline)
        return sols


def greedy_plans(
    problem: Problem, attempts: int = 200, seed: int = 0, time_limit: float = 5.0
) -> list[int]:
    """Blocks (bitmasks) of plans found by randomised region growing (seeds, never a proof).

    Each attempt grows a block from a random free unit with the fewest free neighbours, adding
    random free neighbours while it is below the minimum and within the maximum; a block that
    cannot reach the minimum joins a neighbouring block if the union fits, else the attempt
    fails. The blocks are checked against every rule when they are added to the pool.
    """
    rng = np.random.default_rng(seed)
    lo, hi = problem.rules.hard_band
    pop = problem.objective.population.tolist()
    nb = neighbour_masks(problem)
    if not problem.rules.contiguous:
        return []
    n = problem.n
    out: list[int] = []
    t_end = time.perf_counter() + time_limit
    full = (1 << n) - 1
    for _ in range(attempts):
        if time.perf_counter() > t_end:
            break
        free = full
        blocks: list[int] = []
        bpop: list[int] = []
        ok = True
        while free:
            cand = [u for u in range(n) if free >> u & 1]
            deg = [bin(nb[u] & free).count("1") for u in cand]
            dmin = min(deg)
            start = int(rng.choice([u for u, d in zip(cand, deg, strict=True) if d == dmin]))
            blk, p = 1 << start, pop[start]
            free &= ~blk
            while p < lo:
                border = 0
                for v in range(n):
                    if blk >> v & 1:
                        border |= nb[v]
                front = [u for u in range(n) if (free & border) >> u & 1 and p + pop[u] <= hi]
                if not front:
                    break
                u = int(rng.choice(front))
                blk |= 1 << u
                p += pop[u]
                free &= ~(1 << u)
            if p < lo:
                border = 0
                for v in range(n):
                    if blk >> v & 1:
                        border |= nb[v]
                near = [i for i, b in enumerate(blocks) if border & b and bpop[i] + p <= hi]
                if not near:
                    ok = False
                    break
                i = int(rng.choice(near))
                blocks[i] |= blk
                bpop[i] += p
                continue
            blocks.append(blk)
            bpop.append(p)
        if ok:
            out += blocks
    return out
