"""The best single block for given unit prices: an exact MILP of one block (column pricing).

Column generation (:mod:`coterminus.plans.colgen`) needs, for unit prices :math:`\\pi_u`, the
allowed block of least reduced cost :math:`\\alpha\\,c(B) + \\beta\\,t(B) - \\sum_{u \\in B}
\\pi_u` (:math:`c` the cost in grid steps, :math:`t` the ``change``). This module models one
block as a MILP whose value, for a fixed set of units, is exactly that block's objective as
:mod:`coterminus.plans.objective` defines it.

Notes
-----
Binaries :math:`y_u` (unit in the block). With :math:`m_t = \\sum_u M[u, t] y_u`:

* **contiguity** — a single-commodity flow from a root :math:`r` that is the lowest selected
  unit (:math:`\\sum_u r_u = 1`, :math:`r_u \\le y_u`, :math:`y_v \\le \\sum_{u \\le v} r_u`);
  the root supplies :math:`g_r \\le K r_r`, every selected unit consumes 1, arcs carry at most
  :math:`(K - 1)` and only between selected units (:math:`K` the most units a block within the
  maximum can hold). Without contiguity but within groups: one group binary per group;
* **band** — :math:`\\text{lo} \\le \\sum_u p_u y_u \\le \\text{hi}` (hard), or the indicator of
  ``outside_band`` (soft);
* **each area** :math:`t` of a level — binaries :math:`s_t` (split) and :math:`w_t` (whole):
  :math:`m_t \\le a_t + T_t (s_t + w_t)` (absent unless split or whole),
  :math:`m_t \\ge (T_t - a_t)(w_t - s_t)` (whole means :math:`T_t - m_t \\le a_t`),
  :math:`s_t + w_t \\le 1`; ``split`` :math:`\\sigma_t \\ge m_t - T_t (1 - s_t)`; ``mismatch``
  :math:`\\mu_t \\ge \\min(m_t, T_t - m_t)` when split, through a side binary :math:`h_t`;
  ``not_coterminous`` :math:`\\kappa \\ge s_t`, :math:`\\nu \\ge |B| - \\bar S (1 - \\kappa)`;
* **rules** — ``no_split`` L: :math:`s_t` absent (absent or whole judged on the people in the
  units); ``coterminous_with`` L: :math:`\\kappa = 0`;
* **change** — :math:`\\chi \\ge |B| - D_c(y) - \\bar P (1 - g_c)` with :math:`\\sum_c g_c = 1`.

Every auxiliary variable carries a non-negative cost, so the minimisation sets it to its true
value for the chosen :math:`y`. With whole weights the model's cost is the block's cost
exactly; with fractional weights the cost in steps is rounded (:func:`cost_steps`), so a block
can differ from the model by at most half a step (:attr:`PricingModel.slack`), which the caller
adds to every threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import highspy
import numpy as np

from .candidates import neighbour_masks
from .milp import INF, Solve, SolverOptions, new_highs, run
from .objective import TargetLevel, cost_step, thresholds
from .problem import Problem

__all__ = ["PricingModel"]


class _Builder:
    """A (MI)LP built by columns and sparse rows, passed to HiGHS in one go."""

    def __init__(self) -> None:
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []

    def var(self, lo: float = 0.0, hi: float = INF, integer: bool = False) -> int:
        self.lo.append(lo)
        self.hi.append(hi)
        self.integer.append(integer)
        return len(self.lo) - 1

    def binary(self) -> int:
        return self.var(0.0, 1.0, True)

    def row(
        self, idx: Sequence[int], val: Sequence[float], lo: float = -INF, hi: float = INF
    ) -> None:
        self.rows.append((list(idx), [float(v) for v in val], lo, hi))

    def highs(self, opts: SolverOptions) -> highspy.Highs:
        h = new_highs(opts, False)
        lp = highspy.HighsLp()
        nc, nr = len(self.lo), len(self.rows)
        lp.num_col_, lp.num_row_ = nc, nr
        lp.col_cost_ = np.zeros(nc)
        lp.col_lower_ = np.array(self.lo, dtype=float)
        lp.col_upper_ = np.array(self.hi, dtype=float)
        lp.row_lower_ = np.array([r[2] for r in self.rows], dtype=float)
        lp.row_upper_ = np.array([r[3] for r in self.rows], dtype=float)
        starts = np.zeros(nr + 1, dtype=np.int32)
        starts[1:] = np.cumsum([len(r[0]) for r in self.rows])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = np.array([i for r in self.rows for i in r[0]], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for r in self.rows for v in r[1]], dtype=float)
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
            for b in self.integer
        ]
        h.passModel(lp)
        return h


class PricingModel:
    """One block as a MILP (see the module notes); :meth:`solve` prices columns."""

    def __init__(self, problem: Problem, opts: SolverOptions, with_change: bool) -> None:
        obj = problem.objective
        rules = problem.rules
        n = problem.n
        pop = obj.population.astype(float)
        assert obj.size is not None
        assert obj.today is not None
        size = obj.size.astype(float)
        step = cost_step(obj)
        weights = {c: float(w) / step for c, w in (obj.weights or {}).items()}
        self.slack = 0.0 if all(w == round(w) for w in weights.values()) else 0.5
        lo, hi = rules.min_pop, rules.max_pop
        hard_lo, hard_hi = rules.hard_band
        ptot = float(pop.sum())
        cap = float(min(hard_hi, ptot))
        cap_size = float(size.sum())
        self.n = n
        bld = _Builder()
        y = [bld.binary() for _ in range(n)]
        self.y = y
        bld.row(y, [1.0] * n, 1.0, INF)
        nb = neighbour_masks(problem)
        if rules.contiguous:
            srt = np.sort(pop)
            kmax = max(1, min(n, int(np.searchsorted(np.cumsum(srt), cap, side="right"))))
            r = [bld.binary() for _ in range(n)]
            g = [bld.var(0.0, float(kmax)) for _ in range(n)]
            bld.row(r, [1.0] * n, 1.0, 1.0)
            for u in range(n):
                bld.row([r[u], y[u]], [1.0, -1.0], -INF, 0.0)
                bld.row([y[u], *r[: u + 1]], [1.0] + [-1.0] * (u + 1), -INF, 0.0)
                bld.row([g[u], r[u]], [1.0, -float(kmax)], -INF, 0.0)
            inflow: list[list[int]] = [[] for _ in range(n)]
            outflow: list[list[int]] = [[] for _ in range(n)]
            for a in range(n):
                for b in range(a + 1, n):
                    if not nb[a] >> b & 1:
                        continue
                    for i, j in ((a, b), (b, a)):
                        f = bld.var(0.0, float(kmax - 1))
                        outflow[i].append(f)
                        inflow[j].append(f)
                        bld.row([f, y[i]], [1.0, -float(kmax - 1)], -INF, 0.0)
                        bld.row([f, y[j]], [1.0, -float(kmax - 1)], -INF, 0.0)
            for j in range(n):  # net inflow = consumption − supply
                bld.row(
                    [*inflow[j], *outflow[j], y[j], g[j]],
                    [1.0] * len(inflow[j]) + [-1.0] * len(outflow[j]) + [-1.0, 1.0],
                    0.0,
                    0.0,
                )
        elif rules.within:
            labels = np.unique(problem.groups)
            z = {int(gl): bld.binary() for gl in labels}
            bld.row(list(z.values()), [1.0] * len(z), -INF, 1.0)
            for u in range(n):
                bld.row([y[u], z[int(problem.groups[u])]], [1.0, -1.0], -INF, 0.0)
        bld.row(y, pop.tolist(), float(hard_lo), cap)
        self.costed: list[tuple[int, float]] = []  # (variable, cost per unit of it, in steps)
        if rules.soft_band and weights.get("outside_band", 0.0):
            ib = bld.binary()  # 1: inside the band
            om = bld.var()
            bld.row([*y, ib], [*pop, -float(lo)], 0.0, INF)
            if math.isfinite(hi):
                bld.row([*y, ib], [*pop, ptot], -INF, float(hi) + ptot)
            bld.row([om, *y, ib], [1.0, *(-pop), ptot], 0.0, INF)
            self.costed.append((om, weights["outside_band"]))
        eps = rules.tolerance
        hard = {lv.name for lv in rules.coterminous_with}
        for lv in obj.levels:
            w = {
                k: weights.get(f"{k}_{lv.name}", 0.0)
                for k in ("split", "mismatch", "not_coterminous")
            }
            self._level(bld, lv, obj.tolerance, w, size, cap_size, lv.name in hard)
        for lv in rules.coterminous_with:
            if lv.name not in {x.name for x in obj.levels}:
                self._level(bld, lv, eps, {}, size, cap_size, True)
        for lv in rules.no_split:
            self._no_split(bld, lv, eps)
        self.chi = -1
        if with_change:
            d = obj.today
            chi = bld.var()
            gs = []
            for c in range(d.shape[1]):
                units = np.flatnonzero(d[:, c]).tolist()
                if not units:
                    continue
                gc = bld.binary()
                gs.append(gc)
                coef = pop.copy()
                coef[units] -= d[units, c]
                nz = np.flatnonzero(coef).tolist()
                bld.row([chi, *[y[u] for u in nz], gc], [1.0, *(-coef[nz]), -ptot], -ptot, INF)
            bld.row(gs, [1.0] * len(gs), 1.0, 1.0)
            self.chi = chi
        self.h = bld.highs(opts)
        self.n_cols = len(bld.lo)
        self.cut_masks: set[int] = set()

    def _level(
        self,
        bld: _Builder,
        lv: TargetLevel,
        eps: float,
        w: dict[str, float],
        size: np.ndarray,
        cap_size: float,
        hard: bool,
    ) -> None:
        if not (any(w.values()) or hard):
            return
        tot = lv.area_totals
        a = thresholds(tot, eps)
        kappa = bld.var(0.0, 0.0 if hard else 1.0, True)
        for t in range(lv.people.shape[1]):
            col = lv.people[:, t]
            units = np.flatnonzero(col).tolist()
            if not units:
                continue
            big = float(tot[t])
            if len(units) == 1 and (col[units[0]] <= a[t] or big - col[units[0]] <= a[t]):
                continue  # never split
            vals = col[units].astype(float).tolist()
            idx = [self.y[u] for u in units]
            s = bld.binary()
            wh = bld.binary()
            bld.row([*idx, s, wh], [*vals, -big, -big], -INF, float(a[t]))
            whole_at = big - float(a[t])
            bld.row([*idx, wh, s], [*vals, -whole_at, whole_at], 0.0, INF)
            bld.row([s, wh], [1.0, 1.0], -INF, 1.0)
            bld.row([s, kappa], [1.0, -1.0], -INF, 0.0)
            if w.get("split"):
                sig = bld.var()
                bld.row([sig, *idx, s], [1.0, *[-v for v in vals], -big], -big, INF)
                self.costed.append((sig, w["split"]))
            if w.get("mismatch"):
                h_t = bld.binary()
                mu = bld.var()
                bld.row([mu, *idx, s, h_t], [1.0, *[-v for v in vals], -big, big], -big, INF)
                bld.row([mu, *idx, s, h_t], [1.0, *vals, -big, -big], -big, INF)
                self.costed.append((mu, w["mismatch"]))
        if w.get("not_coterminous"):
            nu = bld.var()
            bld.row([nu, *self.y, kappa], [1.0, *(-size), -cap_size], -cap_size, INF)
            self.costed.append((nu, w["not_coterminous"]))

    def _no_split(self, bld: _Builder, lv: TargetLevel, eps: float) -> None:
        inside = lv.in_units
        a = thresholds(inside, eps)
        for t in range(lv.people.shape[1]):
            col = lv.people[:, t]
            units = np.flatnonzero(col).tolist()
            if len(units) < 2 and all(col[u] <= a[t] or inside[t] - col[u] <= a[t] for u in units):
                continue
            vals = col[units].astype(float).tolist()
            idx = [self.y[u] for u in units]
            wh = bld.binary()  # 0: absent, 1: whole
            bld.row([*idx, wh], [*vals, -float(inside[t])], -INF, float(a[t]))
            bld.row([*idx, wh], [*vals, -float(inside[t] - a[t])], 0.0, INF)

    def set_objective(self, alpha: float, beta: float, prices: np.ndarray) -> None:
        """Minimise ``alpha·cost + beta·change − Σ prices[u]·y[u]``."""
        cost = np.zeros(self.n_cols)
        cost[self.y] = -np.asarray(prices, dtype=float)
        for v, wv in self.costed:
            cost[v] += alpha * wv
        if self.chi >= 0:
            cost[self.chi] += beta
        self.h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), cost)

    def exclude(self, mask: int) -> None:
        """No-good cut on ``y``: the block ``mask`` is never returned again."""
        if mask in self.cut_masks:
            return
        self.cut_masks.add(mask)
        inside = [u for u in range(self.n) if mask >> u & 1]
        val = np.array([1.0 if mask >> u & 1 else -1.0 for u in range(self.n)])
        idx = np.asarray(self.y, dtype=np.int32)
        self.h.addRow(-INF, float(len(inside) - 1), idx.size, idx, val)

    def solve(
        self, time_limit: float, cutoff: float = INF, max_solutions: int = 1_000_000
    ) -> tuple[Solve, list[int]]:
        """Solve; the best block and the other improving blocks found (bitmasks, best first).

        ``cutoff``: only blocks of value ≤ cutoff are searched for (HiGHS ``objective_bound``),
        so "infeasible" proves none exists; ``max_solutions`` stops a quick round early.
        """
        self.h.setOptionValue("mip_improving_solution_save", True)
        self.h.setOptionValue("objective_bound", float(cutoff))
        self.h.setOptionValue("mip_max_improving_sols", int(max_solutions))
        s = run(self.h, time_limit)
        found: list[int] = []
        if s.x is not None:
            found.append(self._mask(s.x))
        for sol in reversed(self.h.getSavedMipSolutions()):
            m = self._mask(np.asarray(sol.col_value))
            if m not in found:
                found.append(m)
        return s, found

    def _mask(self, x: np.ndarray) -> int:
        return sum(1 << u for u, v in enumerate(self.y) if x[v] > 0.5)
