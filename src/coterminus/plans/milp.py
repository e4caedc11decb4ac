"""Set partitioning over candidate blocks with HiGHS: the exact, lexicographic plan solves.

A plan is a choice of blocks covering every unit exactly once: one binary :math:`x_j` per
candidate block :math:`j`, one equality row per unit,

.. math:: \\min \\sum_j c_j x_j \\quad \\text{s.t.} \\quad \\sum_{j \\ni u} x_j = 1 \\;\\forall u,
          \\quad x_j \\in \\{0, 1\\}

(plus :math:`k_{lo} \\le \\sum_j x_j \\le k_{hi}` with a number of blocks). Plans are ranked by
the objective, then by ``change``: stage 1 minimises :math:`\\sum_j c_j x_j` (:math:`c_j` the
block's cost in whole grid steps); stage 2 adds the row :math:`\\sum_j c_j x_j \\le z_1^*` and
minimises :math:`\\sum_j t_j x_j` (:math:`t_j` the block's ``change``, whole people). Both are
whole numbers, so the row is exact and no big-M weighting of the two is needed (at 10⁷ people
× 10⁸ steps a weighted sum would pass what LP tolerances resolve). HiGHS runs with
``mip_rel_gap = 0`` and ``mip_abs_gap = 0.99``: a whole objective is proven once the bound is
within one step. The k best distinct plans come from no-good cuts
:math:`\\sum_{j \\in P} x_j \\le |P| - 1` (a plan is its set of blocks, so each cut removes
exactly one plan).

Examples
--------
Three units; blocks {0}, {1}, {2}, {0,1}, {1,2} with costs 5, 5, 5, 1, 2:

>>> import numpy as np
>>> m = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=bool)
>>> sp = SetPartitioning(m, np.array([5, 5, 5, 1, 2]), np.array([0, 0, 0, 3, 1]))
>>> best = sp.lex(10.0)
>>> best.columns, best.steps, best.change, best.proven
([2, 3], 6, 3, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import highspy
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "INF",
    "LexSolution",
    "SetPartitioning",
    "Solve",
    "SolverOptions",
    "kbest",
    "new_highs",
    "run",
]

INF = highspy.kHighsInf

#: Columns above which HiGHS's presolve is switched off (it spent ~100 s on the 99,802 blocks
#: of North East and Yorkshire; the MILP itself needs a few seconds).
PRESOLVE_LIMIT = 20_000

#: ``highspy.Highs()`` enables callbacks at once, which prints HiGHS's banner before any option
#: can be set; its compiled base class takes ``output_flag`` first and prints nothing.
_HIGHS = next((c for c in highspy.Highs.__mro__[1:] if hasattr(c, "passModel")), highspy.Highs)


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS options of every solve: one thread by default (reproducible; cores are shared)."""

    threads: int = 1
    seed: int = 0
    log: bool = False


def new_highs(opts: SolverOptions, whole_objective: bool) -> highspy.Highs:
    """A silent HiGHS instance with the options of every solve here."""
    h = cast("highspy.Highs", _HIGHS())
    h.setOptionValue("output_flag", bool(opts.log))
    h.setOptionValue("threads", int(opts.threads))
    h.setOptionValue("random_seed", int(opts.seed))
    h.setOptionValue("mip_rel_gap", 0.0)
    # a whole objective is proven once the bound is within 1; pricing objectives are fractional
    h.setOptionValue("mip_abs_gap", 0.99 if whole_objective else 1e-7)
    return h


@dataclass
class Solve:
    """One HiGHS run: status, solution (if any), objective, bound and time."""

    status: str  # "optimal", "infeasible", "time_limit", "solution_limit", "other:<status>"
    x: NDArray[np.float64] | None
    objective: float
    bound: float
    seconds: float


def run(h: highspy.Highs, time_limit: float) -> Solve:
    """Run ``h`` for at most ``time_limit`` seconds."""
    h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    t0 = time.perf_counter()
    h.run()
    dt = time.perf_counter() - t0
    st = h.getModelStatus()
    info = h.getInfo()
    x = (
        np.asarray(h.getSolution().col_value, dtype=float)
        if info.primal_solution_status == 2  # feasible
        else None
    )
    bound = (
        float(info.mip_dual_bound)
        if info.mip_node_count >= 0
        else float(info.objective_function_value)
    )
    status = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
    }.get(st, f"other:{h.modelStatusToString(st)}")
    obj = float(info.objective_function_value) if x is not None else math.inf
    return Solve(status, x, obj, bound, dt)


@dataclass
class LexSolution:
    """One plan of a lexicographic solve: its columns, (steps, change), proof and bounds."""

    columns: list[int]
    steps: int
    change: int
    steps_bound: float
    change_bound: float
    proven: bool
    status: str
    seconds: float


class SetPartitioning:
    """The set-partitioning MILP over a pool of blocks (see the module notes).

    Parameters
    ----------
    matrix : numpy.ndarray of bool, shape (K, n)
        Membership of each block.
    steps, change : numpy.ndarray of int64, shape (K,)
        Cost (whole grid steps) and ``change`` (people) of each block.
    opts : SolverOptions, optional
    n_blocks : (int, int), optional
        Number of blocks of a plan (inclusive).
    """

    def __init__(
        self,
        matrix: np.ndarray,
        steps: np.ndarray,
        change: np.ndarray,
        opts: SolverOptions | None = None,
        n_blocks: tuple[int, int] | None = None,
    ) -> None:
        mat = np.asarray(matrix, dtype=bool)
        k, n = mat.shape
        self.k, self.n = k, n
        self.steps = np.asarray(steps, dtype=np.int64)
        self.change = np.asarray(change, dtype=np.int64)
        h = new_highs(opts or SolverOptions(), True)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, n
        lp.col_cost_ = self.steps.astype(float)
        lp.col_lower_ = np.zeros(k)
        lp.col_upper_ = np.ones(k)
        lp.row_lower_ = np.ones(n)
        lp.row_upper_ = np.ones(n)
        _, rows = np.nonzero(mat)  # row-major: grouped by block
        starts = np.zeros(k + 1, dtype=np.int32)
        np.cumsum(mat.sum(axis=1), out=starts[1:])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = rows.astype(np.int32)
        lp.a_matrix_.value_ = np.ones(rows.size)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * k
        if k > PRESOLVE_LIMIT:
            h.setOptionValue("presolve", "off")
        h.passModel(lp)
        self.h = h
        self.n_rows: int = int(n)
        self.cuts = 0
        if n_blocks is not None:
            self._add_row(range(k), np.ones(k), float(n_blocks[0]), float(n_blocks[1]))

    def _add_row(self, idx: Sequence[int], val: np.ndarray, lo: float, hi: float) -> int:
        idx_a = np.asarray(list(idx), dtype=np.int32)
        self.h.addRow(lo, hi, idx_a.size, idx_a, np.asarray(val, dtype=float))
        self.n_rows += 1
        return self.n_rows - 1

    def _drop_rows(self, rows: Sequence[int]) -> None:
        self.h.deleteRows(len(rows), np.asarray(rows, dtype=np.int32))
        self.n_rows -= len(rows)

    def exclude(self, columns: Sequence[int]) -> None:
        """No-good cut: the plan made of exactly these blocks is never chosen again."""
        self._add_row(columns, np.ones(len(columns)), -INF, len(columns) - 1)
        self.cuts += 1

    def _set_cost(self, c: np.ndarray) -> None:
        self.h.changeColsCost(self.k, np.arange(self.k, dtype=np.int32), c.astype(float))

    @staticmethod
    def _columns(x: NDArray[np.float64]) -> list[int]:
        return [int(j) for j in np.flatnonzero(x > 0.5)]

    def lex(self, time_limit: float) -> LexSolution | None:
        """The best plan by (cost, change); ``None`` when no plan is left (infeasible)."""
        t0 = time.perf_counter()
        self._set_cost(self.steps)
        s1 = run(self.h, time_limit)
        if s1.x is None:
            if s1.status == "infeasible":
                return None
            return LexSolution([], 0, 0, s1.bound, -math.inf, False, s1.status, s1.seconds)
        cols = self._columns(s1.x)
        z1 = int(self.steps[cols].sum())
        proven1 = s1.status == "optimal" and z1 - s1.bound < 1.0 - 1e-6
        row = self._add_row(range(self.k), self.steps.astype(float), -INF, float(z1))
        # no warm start from the stage-1 plan: with one (setSolution), HiGHS 1.16 reported the
        # stage-2 optimum's value but returned the start's columns (2024 Midlands ICBs)
        self._set_cost(self.change)
        s2 = run(self.h, max(time_limit - (time.perf_counter() - t0), 0.01))
        self._drop_rows([row])
        self._set_cost(self.steps)
        if s2.x is not None:
            cols2 = self._columns(s2.x)
            if int(self.steps[cols2].sum()) <= z1:
                cols = cols2
        z2 = int(self.change[cols].sum())
        proven2 = s2.status == "optimal" and z2 - s2.bound < 1.0 - 1e-6
        return LexSolution(
            columns=cols,
            steps=int(self.steps[cols].sum()),
            change=z2,
            steps_bound=s1.bound,
            change_bound=s2.bound if s2.x is not None else -math.inf,
            proven=proven1 and proven2,
            status="optimal" if proven1 and proven2 else (s2.status if proven1 else s1.status),
            seconds=time.perf_counter() - t0,
        )

    def another_as_good(self, steps: int, change: int, time_limit: float) -> bool | None:
        """Is another plan (cuts so far kept) at most (steps, change)? ``None``: not decided."""
        r1 = self._add_row(range(self.k), self.steps.astype(float), -INF, float(steps))
        r2 = self._add_row(range(self.k), self.change.astype(float), -INF, float(change))
        self._set_cost(np.zeros(self.k))
        s = run(self.h, time_limit)
        self._drop_rows([r1, r2])
        self._set_cost(self.steps)
        if s.x is not None:
            return True
        return False if s.status == "infeasible" else None

    def feasible(self, time_limit: float) -> bool | None:
        """Is there any plan? ``None``: not decided in time."""
        self._set_cost(np.zeros(self.k))
        s = run(self.h, time_limit)
        self._set_cost(self.steps)
        if s.x is not None:
            return True
        return False if s.status == "infeasible" else None


def kbest(sp: SetPartitioning, k: int, deadline: float) -> tuple[list[LexSolution], bool | None]:
    """The ``k`` best distinct plans by (cost, change) and whether the first is the only one
    with its (cost, change) (``None``: not decided)."""
    out: list[LexSolution] = []
    while len(out) < k:
        sol = sp.lex(deadline - time.perf_counter())
        if sol is None or not sol.columns:
            break
        out.append(sol)
        sp.exclude(sol.columns)
        if not sol.proven:
            break
    unique: bool | None = None
    if out and out[0].proven:
        if len(out) > 1 and out[1].proven:
            unique = (out[1].steps, out[1].change) != (out[0].steps, out[0].change)
        elif len(out) == 1:
            other = sp.another_as_good(out[0].steps, out[0].change, deadline - time.perf_counter())
            unique = None if other is None else not other
    return out, unique
