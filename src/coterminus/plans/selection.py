"""Streaming selection: the top-k plans (by objective, then least change) and the Pareto front.

:class:`TopK` and :class:`Pareto` merge chunks (and pieces from workers); :func:`select_piece`
runs the compiled selection kernel of :mod:`coterminus.plans._topk_kernel` instead when only these are
kept; :func:`hist_spec`/:func:`hist_frame` describe histograms over every plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import partitions as _p
from . import _topk_kernel as _sel
from .scoring import plan_columns
from .tables import System


def kernel_supports(pareto_cols: Sequence[str]) -> bool:
    """Whether the selection kernel can keep a Pareto front over these columns.

    Every Pareto column is a sum over blocks (criteria, ``n_blocks``, ``change``), so the
    compiled kernel (numba) takes any of them.

    Examples
    --------
    >>> kernel_supports(["mismatch_utla", "n_blocks"]) == _p.HAVE_NUMBA
    True
    """
    del pareto_cols
    return _p.HAVE_NUMBA


def select_piece(
    sys: System,
    *,
    first: tuple[int, int] | None,
    id_offset: int,
    top: int,
    pareto_cols: Sequence[str],
    progress: Callable[[int], None] | None = None,
    hist: tuple[list[str], np.ndarray] | None = None,
) -> tuple[int, TopK, Pareto, np.ndarray | None]:
    """Top-k and Pareto front (and histograms) of one piece by the selection kernel."""
    pv = np.column_stack(
        [sys.values(c) for c in pareto_cols] if pareto_cols else [np.zeros((1 << sys.n, 0))]
    )
    lo_k, hi_k = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    hist_values = None
    if hist is not None:
        hist_values = np.column_stack([sys.values(name) for name in hist[0]])
    sel = _sel.select(
        sys.n, allowed=sys.allowed, cost=sys.cost, pv=pv, top=top, n_blocks=(lo_k, hi_k),
        first=first, progress=progress, hist_values=hist_values,
        hist_bins=None if hist is None else hist[1], tie=sys.tie,
    )  # fmt: skip
    top_k = TopK(top)
    if sel.top_id.size:
        order = np.lexsort((sel.top_id, sel.top_tie, sel.top_obj))
        blocks = sel.top_blocks[order]
        cols = plan_columns(sys, blocks)
        cols["plan_id"] = sel.top_id[order] + id_offset
        top_k.cols = cols
        top_k.blocks = blocks.astype(np.int32)
    front = Pareto(list(pareto_cols))
    if pareto_cols and sel.front_id.size:
        cols = plan_columns(sys, sel.front_blocks)
        x = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in pareto_cols])
        front._set(x, sel.front_id + id_offset, sel.front_count, sel.front_blocks.astype(np.int32))
    return sel.n_plans, top_k, front, sel.hist


def hist_spec(sys: System) -> tuple[list[str], np.ndarray]:
    """Histograms of a summary run: the objective, n_blocks and every weighted criterion.

    Bins cover ``[0, U]`` with :math:`U = \\sum_u \\max_{S \\ni u} v(S)`, an upper bound of any
    plan's sum (each block is charged to its lowest unit); whole-number criteria with
    :math:`U \\le 512` get one bin per value, others 64 equal bins.
    """
    names = ["objective", "n_blocks", *[c for c in sys.criteria if sys.weights.get(c)]]
    masks = np.arange(1 << sys.n, dtype=np.int64)
    rows = []
    for name in names:
        v = sys.values(name)
        upper = sum(float(v[(masks >> u) & 1 == 1].max()) for u in range(sys.n))
        if np.all(v == np.round(v)) and upper <= 512:
            rows.append((-0.5, 1.0, int(upper) + 1))
        else:
            rows.append((0.0, upper / 64 if upper > 0 else 1.0, 64))
    return names, np.array(rows, dtype=float)


def hist_frame(spec: tuple[list[str], np.ndarray], counts: np.ndarray) -> pd.DataFrame:
    """One row per (criterion, bin): ``low``, ``high`` (a whole-number bin has low = high)."""
    out = []
    for j, name in enumerate(spec[0]):
        lo, w, nb = spec[1][j]
        whole = lo == -0.5 and w == 1.0
        for b in range(int(nb)):
            low = b if whole else lo + b * w
            out.append((name, b, low, b if whole else low + w, int(counts[j, b])))
    return pd.DataFrame(out, columns=["criterion", "bin", "low", "high", "plans"])


@dataclass
class TopK:
    k: int
    cols: dict[str, np.ndarray] | None = None
    blocks: np.ndarray | None = None

    def update(
        self, cols: Mapping[str, np.ndarray], blocks_fn: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        if self.k <= 0:
            return
        obj = np.asarray(cols["objective"], dtype=np.float64)
        if obj.size > self.k:
            kth = np.partition(obj, self.k - 1)[self.k - 1]
            if self.cols is not None and self.cols["objective"].size >= self.k:
                kth = min(kth, float(np.max(self.cols["objective"])))
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
        order = np.lexsort((cand["plan_id"], cand["change"], cand["objective"]))[: self.k]
        self.cols = {c: v[order] for c, v in cand.items()}
        self.blocks = cand_blocks[order]

    def merge(self, other: TopK) -> None:
        if other.cols is None:
            return
        blocks = other.blocks
        assert blocks is not None
        self.update(other.cols, lambda sel: blocks[sel])


@dataclass
class Pareto:
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

    def merge(self, other: Pareto) -> None:
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
        kept: np.ndarray = idx[keep]
        return kept
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
    import numba as _numba

    @_numba.njit(cache=True, nogil=True)
    def _filter_kernel(  # pragma: no cover - compiled
        x: np.ndarray, idx: np.ndarray, points: np.ndarray, keep: np.ndarray
    ) -> None:
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
