"""Top-k and Pareto front of every plan, selected inside one compiled pass (no plan columns).

The per-plan kernel of :mod:`coterminus.plans.scoring` (``score_chunks``) writes all 25 plan
columns of every plan and leaves ranking to numpy; that is needed to stream every plan to a
file, but a run that only keeps the best plans spends most of its time writing columns it
throws away.  This module scores the same plans in the same order for the two things such a run keeps:

* the **objective** of plan :math:`p = (f, r)` (a frontier prefix :math:`f` joined with a row
  :math:`r` of the memo table of its remaining set, see :mod:`coterminus.partitions`) is
  :math:`c_f + c_r` — one addition — and its **tie-break** :math:`e_f + e_r` likewise (the
  people moved relative to today, which decides between plans of equal objective);
* the **Pareto vector** is :math:`x_f + x_r` over the chosen criteria (all sums over blocks, or
  the number of blocks).

Consecutive plans of one run share the prefix :math:`f`, so each plan costs one look-up of its
suffix row and :math:`1 + c` additions: :math:`O(1)` per plan, updated from the previous plan by
replacing only the suffix's contribution.  A bounded max-heap keyed by
``(objective, tie-break, plan id)`` keeps the top-k (the same order as
:class:`coterminus.plans.selection.TopK`; the plan id only orders plans that are equal on both),
and an archive of the non-dominated vectors with their smallest plan id and their number of plans
keeps the Pareto front (as :class:`~coterminus.plans.selection.Pareto`), both inside the kernel.
Whether a front fits the kernel: :func:`coterminus.plans.selection.kernel_supports`.

Suffix rows that are strictly dominated by another row of the same remaining set can never be on
the front, whatever the prefix, when the additions are exact (every value is a whole number below
:math:`2^{51}`, which holds for counts and for people); those rows are marked once per table and
skipped by the Pareto check.  Columns of the kept plans are then computed by the reference kernel
from their ``(f, r)`` pairs, so every value is bit-identical to a full run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import partitions as _p

#: Plans per kernel call (one progress-bar step).
STEP = 1 << 23

_EXACT = float(2**51)


@dataclass
class Selection:
    """What the kernel keeps of one piece (plan ids start at 0 for the piece).

    ``*_blocks`` are the blocks of each kept plan in enumeration order (0-padded) and
    ``*_split`` how many of them form its prefix (the rest come from the memo table), which is
    what the reference arithmetic needs to recompute the plan's columns exactly.
    """

    n_plans: int
    top_obj: np.ndarray
    top_tie: np.ndarray
    top_id: np.ndarray
    top_blocks: np.ndarray
    top_split: np.ndarray
    front_id: np.ndarray
    front_count: np.ndarray
    front_blocks: np.ndarray
    front_split: np.ndarray
    hist: np.ndarray | None = None


def _exact(a: np.ndarray, n: int) -> bool:
    """Every value a whole number and any sum of ``n`` of them below 2**51 (exact sums)."""
    if a.size == 0:
        return True
    return bool(np.all(a == np.round(a)) and float(np.abs(a).max()) * max(n, 1) < _EXACT)


def local_front(t_ptr: np.ndarray, t_len: np.ndarray, t_pv: np.ndarray) -> np.ndarray:
    """Suffix rows not strictly dominated by another row of the same remaining set."""
    keep = np.ones(t_pv.shape[0], dtype=np.bool_)
    if t_pv.shape[1] == 0:
        return keep
    groups = np.nonzero(t_len > 0)[0]
    starts = t_ptr[groups].astype(np.int64)
    lens = t_len[groups].astype(np.int64)
    scratch = np.empty((int(lens.max()) if lens.size else 1, t_pv.shape[1]))
    _local_front_kernel(starts, lens, t_pv, scratch, keep)
    return keep


def select(
    n: int,
    *,
    allowed: np.ndarray,
    cost: np.ndarray,
    pv: np.ndarray,
    top: int,
    n_blocks: tuple[int, int],
    first: tuple[int, int] | None = None,
    progress: Callable[[int], None] | None = None,
    table_rows: int | None = None,
    step: int = STEP,
    bounds: bool = True,
    hist_values: np.ndarray | None = None,
    hist_bins: np.ndarray | None = None,
    tie: np.ndarray | None = None,
) -> Selection:
    """Top-k and Pareto front of every plan of ``n`` units, in enumeration order.

    Parameters
    ----------
    n : int
        Number of units.
    allowed : numpy.ndarray of bool, shape (2**n,)
        Blocks that may appear.
    cost : numpy.ndarray, shape (2**n,)
        Block cost; the objective of a plan is the sum over its blocks.
    pv : numpy.ndarray, shape (2**n, c)
        Per-block values whose sums over blocks form the Pareto vector.
    top : int
        Plans kept by objective (ties: lowest plan id).
    n_blocks : (int, int)
        Keep only plans with this many blocks (ids count kept plans only).
    first : (int, int), optional
        Only plans whose first block is among these candidates (see
        :func:`coterminus.partitions.first_block_counts`).
    progress : callable, optional
        Called with the number of plans done, about every ``step`` plans.
    table_rows : int, optional
        Memory budget (rows) of the memo table of small remaining sets; default about 1/64 of
        the plans, between 2**14 and 2**20 (measured best on 12 and 14 units: a bigger table
        costs more to build than its longer runs save on small spaces).
    step : int
        Plans per kernel call.
    bounds : bool, default True
        Skip a run of plans (one prefix with every memo row of its remaining set) when a bound
        proves that none of them enters the top-k or the front; ``False`` offers every plan
        (same result, for tests and benchmarks).

    hist_values : numpy.ndarray, shape (2**n, h), optional
        Per-block values whose sums over blocks are counted in histograms, every plan.
    hist_bins : numpy.ndarray, shape (h, 3), optional
        ``(low, width, bins)`` of each histogram; values outside go to the end bins.
    tie : numpy.ndarray, shape (2**n,), optional
        Second key of the top-k: among plans of equal objective, the least sum of ``tie``
        first (then the lowest plan id). Whole numbers, so sums are exact.

    Returns
    -------
    Selection

    Notes
    -----
    A depth-first walk over the first blocks keeps the prefix sums on a stack: choosing a block
    adds its values once, and every plan below is the prefix joined with one row of the memo
    table of the remaining set (the same decomposition, and so the same plan ids and the same
    floating-point additions, as :func:`coterminus.partitions.enumerate_partitions`).

    Run bounds, for a prefix with sums :math:`c_f, e_f, x_f` and a remaining set :math:`R`: if
    the heap is full and :math:`(c_f + \\min_{r \\in R} c_r, e_f + \\min_{r \\in R} e_r)` is not
    lexicographically below the k-th key, no plan of the run enters (costs sit on a binary
    grid and tie-breaks are whole, so these sums are exact); if a held vector
    :math:`a \\le x_f + \\min_{r} x_r` componentwise and :math:`a \\ne` that bound, :math:`a`
    strictly dominates every plan of the run (rounding is monotone).
    """
    size = 1 << n
    full = size - 1
    allow = _p.check_allowed(n, allowed)
    rec = _p.build_recursion(n, allow)
    if table_rows is None:
        table_rows = int(min(max(float(rec.counts[full]) / 64, 1 << 14), 1 << 20))
    s = _p.suffix_size(n, rec.counts, table_rows)
    c = pv.shape[1] if pv.ndim == 2 else 0
    hv = np.zeros((size, 0)) if hist_values is None else np.asarray(hist_values, dtype=float)
    nh = hv.shape[1]
    vals = np.zeros((size, 2 + c + nh))
    vals[:, 0] = cost
    if tie is not None:
        vals[:, -1] = tie
    if c:
        vals[:, 1 : 1 + c] = pv
    if nh:
        vals[:, 1 + c : 1 + c + nh] = hv
    vals[0] = 0.0
    z = np.zeros((size, 0))
    zu = np.zeros((size, 0), dtype=np.uint64)
    t_ptr, t_len, t_first, t_next, t_count, t_vals, *_ = _p.build_suffix_tables(
        rec, s, vals, z, zu, zu
    )
    t_cost = np.ascontiguousarray(t_vals[:, 0])
    t_tie = np.ascontiguousarray(t_vals[:, -1])
    t_pv = np.ascontiguousarray(t_vals[:, 1 : 1 + c])
    t_hv = np.ascontiguousarray(t_vals[:, 1 + c : 1 + c + nh])
    b_cost = np.ascontiguousarray(vals[:, 0])
    b_tie = np.ascontiguousarray(vals[:, -1])
    b_pv = np.ascontiguousarray(vals[:, 1 : 1 + c])
    b_hv = np.ascontiguousarray(vals[:, 1 + c : 1 + c + nh])
    spec = np.zeros((nh, 3)) if hist_bins is None else np.asarray(hist_bins, dtype=float)
    h_lo = np.ascontiguousarray(spec[:, 0])
    h_w = np.ascontiguousarray(spec[:, 1])
    n_bins = spec[:, 2].astype(np.int64)
    hist = np.zeros((nh, int(n_bins.max()) if nh else 0), dtype=np.int64)
    lo_k, hi_k = n_blocks
    filtered = lo_k > 1 or hi_k < n
    if c and not filtered and _exact(b_pv, n):
        lf = local_front(t_ptr, t_len, t_pv)
    else:
        lf = np.ones(t_pv.shape[0], dtype=np.bool_)
    lf_ptr, lf_len, lf_rows, r_min_cost, r_min_pv = _run_bounds(t_ptr, t_len, t_cost, t_pv, lf)
    r_min_tie = _run_bounds(t_ptr, t_len, t_tie, t_pv[:, :0], lf)[3]
    pc = _p.popcount(np.arange(size, dtype=np.int64)).astype(np.int64)
    k = max(int(top), 0)
    width = max(n, 1)
    h_obj = np.empty(k)
    h_tie = np.empty(k)
    h_id = np.empty(k, dtype=np.int64)
    h_r = np.empty(k, dtype=np.int64)
    h_pre = np.zeros((k, width), dtype=np.int64)
    h_depth = np.zeros(k, dtype=np.int64)
    h_slot = np.zeros(k, dtype=np.int64)
    cap = 64
    arch = (
        np.empty((cap, c)), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64), np.zeros((cap, width), dtype=np.int64),
        np.zeros(cap, dtype=np.int64),
    )  # fmt: skip
    state = np.zeros(3, dtype=np.int64)  # heap size, archive size, next plan id
    root_in_table = s >= n and first is None
    t_count64 = t_count.astype(np.int64)
    common = (
        s, pc, rec.cand, rec.start, rec.length, b_cost, b_pv, t_ptr, t_len, t_count64, t_pv,
        t_cost, lf, lf_ptr, lf_len, lf_rows, r_min_cost, r_min_pv, lo_k, hi_k, bool(bounds),
        b_tie, t_tie, r_min_tie, b_hv, t_hv, h_lo, h_w, n_bins, hist,
        h_obj, h_tie, h_id, h_r, h_pre, h_depth, h_slot,
    )  # fmt: skip
    if n == 0:
        pass
    elif root_in_table:
        arch = _call(full, -1, -1, common, arch, state)
    else:
        n_first = int(rec.length[full])
        lo, hi = first if first is not None else (0, n_first)
        cands = rec.candidates(full)
        per = rec.counts[full ^ cands]
        i = lo
        while i < hi:  # groups of first blocks of about `step` plans (one progress step each)
            j, acc = i, 0.0
            while j < hi and (j == i or acc + per[j] <= step):
                acc += per[j]
                j += 1
            before = int(state[2])
            arch = _call(full, i, j, common, arch, state)
            if progress is not None:
                progress(int(state[2]) - before)
            i = j
    if progress is not None and (root_in_table or n == 0):
        progress(int(state[2]))
    hn, an = int(state[0]), int(state[1])
    _, a_id, a_cnt, a_r, a_pre, a_depth = arch

    def blocks_of(pre: np.ndarray, depth: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((rows.size, width), dtype=np.int64)
        for q in range(rows.size):
            d = int(depth[q])
            out[q, :d] = pre[q, :d]
            r = int(rows[q])
            while t_first[r] != 0:
                out[q, d] = t_first[r]
                d += 1
                r = int(t_next[r])
        return out[:, :n]

    return Selection(
        n_plans=int(state[2]),
        top_obj=h_obj[:hn].copy(),
        top_tie=h_tie[:hn].copy(),
        top_id=h_id[:hn].copy(),
        top_blocks=blocks_of(h_pre[h_slot[:hn]], h_depth, h_r[:hn]),
        top_split=h_depth[:hn].copy(),
        front_id=a_id[:an].copy(),
        front_count=a_cnt[:an].copy(),
        front_blocks=blocks_of(a_pre, a_depth, a_r[:an]),
        front_split=a_depth[:an].copy(),
        hist=hist if nh else None,
    )


def _run_bounds(
    t_ptr: np.ndarray, t_len: np.ndarray, t_cost: np.ndarray, t_pv: np.ndarray, lf: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Per remaining set: its local-front rows (a slice of ``lf_rows``) and minimum cost/vector."""
    size = t_ptr.size
    groups = np.nonzero(t_len > 0)[0]
    groups = groups[np.argsort(t_ptr[groups], kind="stable")]
    row_group = np.repeat(groups, t_len[groups])
    assert row_group.size == t_cost.size
    r_min_cost = np.full(size, np.inf)
    np.minimum.at(r_min_cost, row_group, t_cost)
    lf_rows = np.nonzero(lf)[0].astype(np.int64)
    lf_ptr = np.searchsorted(lf_rows, t_ptr).astype(np.int64)
    lf_len = (np.searchsorted(lf_rows, t_ptr + t_len) - lf_ptr).astype(np.int64)
    r_min_pv = np.full((size, t_pv.shape[1]), np.inf)
    if t_pv.shape[1]:
        np.minimum.at(r_min_pv, row_group[lf_rows], t_pv[lf_rows])
    return lf_ptr, lf_len, lf_rows, r_min_cost, r_min_pv


def _call(
    full: int, lo: int, hi: int, common: tuple[Any, ...], arch: tuple[Any, ...], state: np.ndarray
) -> tuple[Any, ...]:
    """Run the kernel over first blocks ``lo:hi``; when the archive fills up, grow and rerun."""
    heap = [np.array(a, copy=True) for a in common[-8:]]  # the histograms, then the heap
    saved_arch = [np.array(a, copy=True) for a in arch]
    saved_state = state.copy()
    while _dfs_kernel(full, lo, hi, *common, *arch, state):  # type: ignore[call-arg]
        cap = 2 * arch[1].size
        an = int(saved_state[1])
        arch = tuple(_grow(a[:an], cap) for a in saved_arch)
        saved_arch = [np.array(a, copy=True) for a in arch]
        for dst, src in zip(common[-8:], heap, strict=True):
            dst[...] = src
        state[...] = saved_state
    return arch


def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


if _p.HAVE_NUMBA:
    import numba as _numba

    @_numba.njit(cache=True, nogil=True)
    def _local_front_kernel(starts, lens, t_pv, scratch, keep):  # pragma: no cover - compiled
        c = t_pv.shape[1]
        for g in range(starts.size):
            s0 = starts[g]
            m = 0  # non-dominated distinct vectors of this group so far
            for i in range(lens[g]):
                r = s0 + i
                covered = False
                for q in range(m):
                    le = True
                    for j in range(c):
                        if scratch[q, j] > t_pv[r, j]:
                            le = False
                            break
                    if le:
                        covered = True  # equal or dominating vector already held
                        break
                if covered:
                    continue
                w = 0
                for q in range(m):  # drop the vectors this row dominates
                    ge = True
                    for j in range(c):
                        if t_pv[r, j] > scratch[q, j]:
                            ge = False
                            break
                    if not ge:
                        for j in range(c):
                            scratch[w, j] = scratch[q, j]
                        w += 1
                for j in range(c):
                    scratch[w, j] = t_pv[r, j]
                m = w + 1
            for i in range(lens[g]):  # a row is kept iff no held vector strictly dominates it
                r = s0 + i
                dominated = False
                for q in range(m):
                    le = True
                    lt = False
                    for j in range(c):
                        a = scratch[q, j]
                        b = t_pv[r, j]
                        if a > b:
                            le = False
                            break
                        if a < b:
                            lt = True
                    if le and lt:
                        dominated = True
                        break
                keep[r] = not dominated

    @_numba.njit(cache=True, nogil=True, inline="always")
    def _held(x, a_x, a_cnt, an):  # pragma: no cover - compiled
        """Whether a held vector equals (then counted) or strictly dominates ``x``."""
        c = x.size
        for q in range(an):
            le = True
            same = True
            for j in range(c):
                v = a_x[q, j]
                if v > x[j]:
                    le = False
                    break
                if v < x[j]:
                    same = False
            if le:
                if same:
                    a_cnt[q] += 1
                return True
        return False

    @_numba.njit(cache=True, nogil=True, inline="always")
    def _offer_front(
        x, pid, r, depth, pre, a_x, a_id, a_cnt, a_r, a_pre, a_depth, an
    ):  # pragma: no cover - compiled
        """Offer one plan's vector to the archive; the new size, or -1 when out of room."""
        c = x.size
        for q in range(an):
            le = True
            same = True
            for j in range(c):
                v = a_x[q, j]
                if v > x[j]:
                    le = False
                    break
                if v < x[j]:
                    same = False
            if le:  # held already (count it) or strictly dominated
                if same:
                    a_cnt[q] += 1
                return an
        if an == a_id.size:
            return -1
        w = 0
        for q in range(an):  # drop the vectors the new one dominates
            ge = True
            for j in range(c):
                if x[j] > a_x[q, j]:
                    ge = False
                    break
            if not ge:
                if w != q:
                    for j in range(c):
                        a_x[w, j] = a_x[q, j]
                    a_id[w] = a_id[q]
                    a_cnt[w] = a_cnt[q]
                    a_r[w] = a_r[q]
                    a_depth[w] = a_depth[q]
                    for j in range(a_pre.shape[1]):
                        a_pre[w, j] = a_pre[q, j]
                w += 1
        for j in range(c):
            a_x[w, j] = x[j]
        a_id[w] = pid
        a_cnt[w] = 1
        a_r[w] = r
        a_depth[w] = depth
        for j in range(depth):
            a_pre[w, j] = pre[j]
        return w + 1

    @_numba.njit(cache=True, nogil=True, inline="always")
    def _above(a_obj, a_tie, a_id, b_obj, b_tie, b_id):  # pragma: no cover - compiled
        """Whether key ``a`` comes after key ``b`` in (objective, tie-break, id) order."""
        if a_obj != b_obj:
            return a_obj > b_obj
        if a_tie != b_tie:
            return a_tie > b_tie
        return a_id > b_id

    @_numba.njit(cache=True, nogil=True, inline="always")
    def _offer_top(
        obj, tie, pid, r, depth, pre, h_obj, h_tie, h_id, h_r, h_pre, h_depth, h_slot, hn
    ):  # pragma: no cover - compiled
        """Offer one plan to the max-heap on (objective, tie-break, id); returns its size.

        Entries move as (objective, tie-break, id, row, depth, slot); a plan's prefix is
        written once into its slot of ``h_pre`` (the slot of the entry it evicts).
        """
        k_top = h_obj.size
        if hn < k_top:
            slot = hn
            q = hn
            hn += 1
            while q > 0:  # sift up
                par = (q - 1) >> 1
                if _above(h_obj[par], h_tie[par], h_id[par], obj, tie, pid):
                    break
                h_obj[q] = h_obj[par]
                h_tie[q] = h_tie[par]
                h_id[q] = h_id[par]
                h_r[q] = h_r[par]
                h_depth[q] = h_depth[par]
                h_slot[q] = h_slot[par]
                q = par
        elif _above(h_obj[0], h_tie[0], h_id[0], obj, tie, pid):
            slot = h_slot[0]
            q = 0
            while True:  # sift down from the root
                ch = 2 * q + 1
                if ch >= hn:
                    break
                if ch + 1 < hn and _above(
                    h_obj[ch + 1], h_tie[ch + 1], h_id[ch + 1], h_obj[ch], h_tie[ch], h_id[ch]
                ):
                    ch += 1
                if not _above(h_obj[ch], h_tie[ch], h_id[ch], obj, tie, pid):
                    break
                h_obj[q] = h_obj[ch]
                h_tie[q] = h_tie[ch]
                h_id[q] = h_id[ch]
                h_r[q] = h_r[ch]
                h_depth[q] = h_depth[ch]
                h_slot[q] = h_slot[ch]
                q = ch
        else:
            return hn
        h_obj[q] = obj
        h_tie[q] = tie
        h_id[q] = pid
        h_r[q] = r
        h_depth[q] = depth
        h_slot[q] = slot
        for j in range(depth):
            h_pre[slot, j] = pre[j]
        return hn

    @_numba.njit(cache=True, nogil=True, inline="always")
    def _count_bin(v, j, h_lo, h_w, n_bins, hist):  # pragma: no cover - compiled
        b = int((v - h_lo[j]) / h_w[j]) if h_w[j] > 0 else 0
        if b < 0:
            b = 0
        elif b >= n_bins[j]:
            b = n_bins[j] - 1
        hist[j, b] += 1

    @_numba.njit(cache=True, nogil=True)
    def _dfs_kernel(
        full, first_lo, first_hi, s, pc, cand, start, length, b_cost, b_pv, t_ptr, t_len,
        t_count, t_pv, t_cost, lf, lf_ptr, lf_len, lf_rows, r_min_cost, r_min_pv, lo_k, hi_k,
        bounds, b_tie, t_tie, r_min_tie, b_hv, t_hv, h_lo, h_w, n_bins, hist, h_obj, h_tie, h_id,
        h_r, h_pre, h_depth, h_slot, a_x, a_id, a_cnt, a_r, a_pre, a_depth, state,
    ):  # fmt: skip  # pragma: no cover - compiled
        n_stack = h_pre.shape[1] + 1
        c = t_pv.shape[1]
        k_top = h_obj.size
        filtered = lo_k > 1 or hi_k < n_stack - 1
        x = np.empty(c)
        hn = state[0]
        an = state[1]
        pid = state[2]
        rem = np.zeros(n_stack + 1, dtype=np.int64)
        ci = np.zeros(n_stack + 1, dtype=np.int64)
        ce = np.zeros(n_stack + 1, dtype=np.int64)
        acc_cost = np.zeros(n_stack + 1)
        acc_tie = np.zeros(n_stack + 1)
        acc_pv = np.zeros((n_stack + 1, c))
        nh = t_hv.shape[1]
        acc_hv = np.zeros((n_stack + 1, nh))
        pre = np.zeros(n_stack, dtype=np.int64)
        d = 0
        only_leaf = first_lo < 0  # the whole set is in the memo table: one run, no prefix
        leaf = full
        depth = 0
        if not only_leaf:
            rem[0] = full
            ci[0] = start[full] + first_lo
            ce[0] = start[full] + first_hi
        while True:
            if not only_leaf:  # depth-first over first blocks, prefix sums on a stack
                if d < 0:
                    break
                if ci[d] == ce[d]:
                    d -= 1
                    continue
                blk = cand[ci[d]]
                ci[d] += 1
                pre[d] = blk
                acc_cost[d + 1] = acc_cost[d] + b_cost[blk]
                acc_tie[d + 1] = acc_tie[d] + b_tie[blk]
                for j in range(c):
                    acc_pv[d + 1, j] = acc_pv[d, j] + b_pv[blk, j]
                for j in range(nh):
                    acc_hv[d + 1, j] = acc_hv[d, j] + b_hv[blk, j]
                r2 = rem[d] ^ blk
                if pc[r2] > s:
                    d += 1
                    rem[d] = r2
                    ci[d] = start[r2]
                    ce[d] = start[r2] + length[r2]
                    continue
                leaf = r2
                depth = d + 1
            # ---- one run: the prefix joined with each memo row of `leaf`, in plan-id order
            fc = acc_cost[depth]
            ft = acc_tie[depth]
            base = t_ptr[leaf]
            n_rows = t_len[leaf]
            if filtered:  # ids count kept plans only: plan by plan
                for r in range(base, base + n_rows):
                    kb = depth + t_count[r]
                    if kb < lo_k or kb > hi_k:
                        continue
                    if c > 0:
                        for j in range(c):
                            x[j] = acc_pv[depth, j] + t_pv[r, j]
                        if not _held(x, a_x, a_cnt, an):
                            an = _offer_front(
                                x, pid, r, depth, pre, a_x, a_id, a_cnt, a_r, a_pre, a_depth, an
                            )
                            if an < 0:
                                return 1
                    obj = fc + t_cost[r]
                    if k_top > 0 and (hn < k_top or obj <= h_obj[0]):  # cheap test inline
                        hn = _offer_top(
                            obj, ft + t_tie[r], pid, r, depth, pre, h_obj, h_tie, h_id, h_r,
                            h_pre, h_depth, h_slot, hn,
                        )  # fmt: skip
                    for j in range(nh):
                        _count_bin(acc_hv[depth, j] + t_hv[r, j], j, h_lo, h_w, n_bins, hist)
                    pid += 1
                if only_leaf:
                    break
                continue
            if c > 0:
                skip = False
                if bounds:  # a held vector strictly below the run's lower bound: none enters
                    for j in range(c):
                        x[j] = acc_pv[depth, j] + r_min_pv[leaf, j]
                    for q in range(an):
                        le = True
                        same = True
                        for j in range(c):
                            v = a_x[q, j]
                            if v > x[j]:
                                le = False
                                break
                            if v < x[j]:
                                same = False
                        if le and not same:
                            skip = True
                            break
                if not skip:
                    for i in range(lf_ptr[leaf], lf_ptr[leaf] + lf_len[leaf]):
                        r = lf_rows[i]
                        for j in range(c):
                            x[j] = acc_pv[depth, j] + t_pv[r, j]
                        # held already (counted) or strictly dominated: the common case, inline
                        held = False
                        for q in range(an):
                            le = True
                            same = True
                            for j in range(c):
                                v = a_x[q, j]
                                if v > x[j]:
                                    le = False
                                    break
                                if v < x[j]:
                                    same = False
                            if le:
                                if same:
                                    a_cnt[q] += 1
                                held = True
                                break
                        if held:
                            continue
                        an = _offer_front(
                            x, pid + (r - base), r, depth, pre, a_x, a_id, a_cnt, a_r, a_pre,
                            a_depth, an,
                        )  # fmt: skip
                        if an < 0:
                            return 1
            low = fc + r_min_cost[leaf]
            if k_top > 0 and (
                not bounds
                or hn < k_top
                or low < h_obj[0]
                or (low == h_obj[0] and ft + r_min_tie[leaf] < h_tie[0])
            ):  # otherwise no plan of the run can enter (costs and tie-breaks add exactly)
                for r in range(base, base + n_rows):
                    obj = fc + t_cost[r]
                    if hn < k_top or obj <= h_obj[0]:  # the cheap test inline; rare calls
                        hn = _offer_top(
                            obj, ft + t_tie[r], pid + (r - base), r, depth, pre, h_obj, h_tie,
                            h_id, h_r, h_pre, h_depth, h_slot, hn,
                        )  # fmt: skip
            if nh > 0:  # histograms see every plan
                for r in range(base, base + n_rows):
                    for j in range(nh):
                        _count_bin(acc_hv[depth, j] + t_hv[r, j], j, h_lo, h_w, n_bins, hist)
            pid += n_rows
            if only_leaf:
                break
        state[0] = hn
        state[1] = an
        state[2] = pid
        return 0

else:  # pragma: no cover

    def _local_front_kernel(*args: Any) -> None:  # type: ignore[misc]
        raise AssertionError

    def _dfs_kernel(*args: Any) -> Any:  # type: ignore[misc]
        raise AssertionError
