"""Chunked enumeration of every plan with per-plan aggregates (prefix ⊕ memoised suffix).

An :class:`EnumerationPlan` holds the memo table of every small remaining set and the
frontier of prefixes; :func:`enumerate_partitions` emits plans from them chunk by chunk
(numpy, or the numba kernels of :mod:`coterminus.partitions._kernels`).  The building blocks
(:func:`prepare_enumeration`, :func:`frontier_ranges`, :func:`plan_runs`, :func:`run_pairs`,
:func:`build_suffix_tables`, :func:`suffix_size`) are public for the scoring kernels of
:mod:`coterminus.plans`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from .counting import (
    HAVE_NUMBA,
    Backend,
    Recursion,
    blocks_to_labels,
    build_recursion,
    check_allowed,
    check_n,
    n_blocks_range,
    popcount,
    resolve_backend,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# chunked enumeration with per-plan aggregates
# ---------------------------------------------------------------------------------------------
@dataclass
class PartitionChunk:
    """A run of consecutive plans and the aggregates of their blocks.

    Attributes
    ----------
    ids : numpy.ndarray of int64, shape (m,)
        Plan ids (rank in enumeration order among the plans that satisfy ``n_blocks``).
    n_blocks : numpy.ndarray of int16, shape (m,)
        Number of blocks of each plan.
    sums, mins : numpy.ndarray of float64, shape (m, a) / (m, b)
        :math:`\\sum_{S \\in p} v_S` and :math:`\\min_{S \\in p} v_S` of the ``sums``/``mins``
        block values passed to :func:`enumerate_partitions` (``inf`` minimum for no block).
    ors : numpy.ndarray of uint64, shape (m, c)
        Bitwise or over blocks of the ``ors`` block values.
    multi : numpy.ndarray of uint64, shape (m, d)
        Bits set in the ``multi`` values of at least two blocks (e.g. LAs shared by blocks).
    """

    ids: np.ndarray
    n_blocks: np.ndarray
    sums: np.ndarray
    mins: np.ndarray
    ors: np.ndarray
    multi: np.ndarray
    #: The enumeration the plans come from, and each plan's frontier prefix and suffix-table
    #: row (what :meth:`blocks` decodes; :mod:`coterminus.plans` keeps them to decode later).
    plan: EnumerationPlan = field(repr=False)
    frontier: np.ndarray = field(repr=False)
    suffix: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    def blocks(self) -> np.ndarray:
        """Block masks of each plan, ``(m, n)`` int32, blocks by lowest unit, 0-padded."""
        return self.plan.blocks(self.frontier, self.suffix)

    def labels(self) -> np.ndarray:
        """Block position of every unit, ``(m, n)`` int8 (see :func:`blocks_to_labels`)."""
        return self.plan.labels(self.frontier, self.suffix)


def _as_values(size: int, values: np.ndarray | None, dtype: Any, name: str) -> np.ndarray:
    if values is None:
        return np.zeros((size, 0), dtype=dtype)
    v = np.asarray(values)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[0] != size:
        msg = f"{name} must have 2**n = {size} rows (one per block mask), got shape {v.shape}"
        raise ParameterError(msg)
    return np.ascontiguousarray(v, dtype=dtype)


@dataclass
class EnumerationPlan:
    """Everything one enumeration needs: suffix tables and the frontier prefixes.

    ``t_*``: one row per plan of every remaining set of at most ``s`` units (row 0 is the empty
    plan); the plans of set ``R`` are rows ``t_ptr[R] : t_ptr[R] + t_len[R]``, each row its first
    block ``t_first``, the row of the rest ``t_next`` and the aggregates of its blocks (summed
    right to left).  ``f_*``: the prefixes (blocks chosen while more than ``s`` units remain) in
    enumeration order, with their remaining set ``f_rem`` and aggregates (summed left to right).
    Built by :func:`prepare_enumeration`.
    """

    n: int
    s: int
    # suffix table over remaining sets with |R| <= s
    t_ptr: np.ndarray
    t_len: np.ndarray
    t_first: np.ndarray
    t_next: np.ndarray
    t_count: np.ndarray
    t_sums: np.ndarray
    t_mins: np.ndarray
    t_ors: np.ndarray
    t_once: np.ndarray
    t_twice: np.ndarray
    # frontier prefixes, in enumeration order
    f_rem: np.ndarray
    f_depth: np.ndarray
    f_blocks: np.ndarray
    f_sums: np.ndarray
    f_mins: np.ndarray
    f_ors: np.ndarray
    f_once: np.ndarray
    f_twice: np.ndarray

    def blocks(self, frontier: np.ndarray, suffix: np.ndarray) -> np.ndarray:
        m = frontier.size
        if HAVE_NUMBA and m > 1000:
            out = np.zeros((m, max(self.n, 1)), dtype=np.int32)
            _kernel("blocks_kernel")(
                frontier.astype(np.int64), suffix.astype(np.int64), self.f_blocks,
                self.f_depth, self.t_first, self.t_next, out,
            )  # fmt: skip
            return out[:, : self.n]
        out = np.zeros((m, max(self.n, 1)), dtype=np.int32)
        width = self.f_blocks.shape[1]
        if width:
            out[:, :width] = self.f_blocks[frontier]
        col = self.f_depth[frontier].astype(np.int64)
        r = suffix.astype(np.int64)
        rows = np.arange(m)
        for _ in range(self.s):
            first = self.t_first[r]
            live = first != 0
            if not live.any():
                break
            out[rows[live], col[live]] = first[live]
            col = col + live
            r = self.t_next[r]
        return out[:, : self.n]

    def labels(self, frontier: np.ndarray, suffix: np.ndarray) -> np.ndarray:
        return blocks_to_labels(self.blocks(frontier, suffix), self.n)


def suffix_size(n: int, counts: np.ndarray, table_rows: int) -> int:
    """Largest suffix size whose memo table (remaining sets without unit 0) fits ``table_rows``.

    ``counts`` are the plan counts of every remaining set (:attr:`Recursion.counts`).

    Examples
    --------
    >>> rec = build_recursion(4, check_allowed(4, None))
    >>> suffix_size(4, rec.counts, 1 << 20), suffix_size(4, rec.counts, 10)
    (4, 2)
    """
    masks = np.arange(1 << n, dtype=np.int64)
    pc = popcount(masks)
    no0 = (masks & 1) == 0
    per_level = np.array([counts[no0 & (pc == k)].sum() for k in range(n + 1)])
    cum = np.cumsum(per_level)
    full = (1 << n) - 1
    if cum[-1] + counts[full] <= table_rows:
        return n
    fits = np.nonzero(cum <= table_rows)[0]
    return int(fits[-1]) if fits.size else 0


def build_suffix_tables(
    rec: Recursion,
    s: int,
    sums: np.ndarray,
    mins: np.ndarray,
    ors: np.ndarray,
    multi: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Memo of every plan of every small remaining set, with its aggregates (preallocated).

    Returns the ``t_*`` arrays of :class:`EnumerationPlan` (``t_ptr, t_len, t_first, t_next,
    t_count, t_sums, t_mins, t_ors, t_once, t_twice``) for the remaining sets of at most ``s``
    units; ``sums``/``mins``/``ors``/``multi`` are per-block values (``2**n`` rows each).
    """
    n = rec.n
    size = 1 << n
    full = size - 1
    masks = np.arange(size, dtype=np.int64)
    pc = popcount(masks)
    # only remaining sets that can occur below the root (without unit 0), or the root itself
    in_table = (pc <= s) & (rec.counts > 0) & (((masks & 1) == 0) | (masks == full))
    total_rows = 1 + round(float(rec.counts[in_table & (masks != 0)].sum()))
    t_ptr = np.zeros(size, dtype=np.int64)
    t_len = np.zeros(size, dtype=np.int64)
    t_first = np.zeros(total_rows, dtype=np.int32)
    t_next = np.zeros(total_rows, dtype=np.int64)
    t_count = np.zeros(total_rows, dtype=np.int16)
    t_sums = np.zeros((total_rows, sums.shape[1]))
    t_mins = np.full((total_rows, mins.shape[1]), np.inf)
    t_ors = np.zeros((total_rows, ors.shape[1]), dtype=np.uint64)
    t_once = np.zeros((total_rows, multi.shape[1]), dtype=np.uint64)
    t_twice = np.zeros((total_rows, multi.shape[1]), dtype=np.uint64)
    t_len[0] = 1  # row 0: the empty plan of the empty remaining set
    total = 1
    for k in range(1, min(s, n) + 1):
        level = masks[(pc == k) & in_table]
        if level.size == 0:
            continue
        lens = rec.length[level]
        starts = rec.start[level]
        pair_idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        pair_s = rec.cand[pair_idx]
        q = np.repeat(level, lens) ^ pair_s
        sub_len = t_len[q]
        bounds = np.concatenate(([0], np.cumsum(lens)[:-1]))
        rows_per_r = np.add.reduceat(sub_len, bounds)
        t_ptr[level] = total + np.cumsum(rows_per_r) - rows_per_r
        t_len[level] = rows_per_r
        n_rows = int(sub_len.sum())
        pair_of_row = np.repeat(np.arange(pair_s.size), sub_len)
        within = np.arange(n_rows) - np.repeat(np.cumsum(sub_len) - sub_len, sub_len)
        nxt = t_ptr[q][pair_of_row] + within
        blk = pair_s[pair_of_row]
        sl = slice(total, total + n_rows)
        t_first[sl] = blk
        t_next[sl] = nxt
        t_count[sl] = t_count[nxt] + 1
        t_sums[sl] = sums[blk] + t_sums[nxt]
        t_mins[sl] = np.minimum(mins[blk], t_mins[nxt])
        t_ors[sl] = ors[blk] | t_ors[nxt]
        once_next = t_once[nxt]
        t_twice[sl] = t_twice[nxt] | (multi[blk] & once_next)
        t_once[sl] = multi[blk] | once_next
        total += n_rows
    assert total == total_rows
    return t_ptr, t_len, t_first, t_next, t_count, t_sums, t_mins, t_ors, t_once, t_twice


def _expand_frontier(
    rec: Recursion,
    s: int,
    first: tuple[int, int] | None,
    sums: np.ndarray,
    mins: np.ndarray,
    ors: np.ndarray,
    multi: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Expand the top of the recursion until every remaining set is in the suffix table."""
    n = rec.n
    full = (1 << n) - 1
    rem = np.array([full], dtype=np.int64)
    depth = np.zeros(1, dtype=np.int16)
    cols: list[np.ndarray] = []  # block chosen at each level, per row
    a_sums = np.zeros((1, sums.shape[1]))
    a_mins = np.full((1, mins.shape[1]), np.inf)
    a_ors = np.zeros((1, ors.shape[1]), dtype=np.uint64)
    a_once = np.zeros((1, multi.shape[1]), dtype=np.uint64)
    a_twice = np.zeros((1, multi.shape[1]), dtype=np.uint64)
    root_in_table = s >= n and first is None
    if n == 0 or root_in_table:
        empty = np.zeros((1, 0), dtype=np.int32)
        return rem, depth, empty, a_sums, a_mins, a_ors, a_once, a_twice
    level = 0
    while True:
        if level == 0:
            frozen = np.zeros(rem.size, dtype=bool)
        else:
            frozen = popcount(rem) <= s
        if level > 0 and frozen.all():
            break
        counts = np.where(frozen, 1, rec.length[rem])
        if level == 0 and first is not None:
            lo, hi = first
            counts = np.array([hi - lo], dtype=np.int64)
        idx = np.repeat(np.arange(rem.size), counts)
        within = np.arange(idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
        if level == 0 and first is not None:
            within = within + first[0]
        blk = np.zeros(idx.size, dtype=np.int64)
        live = ~frozen[idx]
        blk[live] = rec.cand[rec.start[rem[idx[live]]] + within[live]]
        rem = rem[idx] ^ blk
        depth = depth[idx] + live
        cols = [c[idx] for c in cols]
        cols.append(blk.astype(np.int32))
        a_sums = a_sums[idx] + sums[blk]
        a_mins = np.minimum(a_mins[idx], mins[blk])
        a_ors = a_ors[idx] | ors[blk]
        a_twice = a_twice[idx] | (a_once[idx] & multi[blk])
        a_once = a_once[idx] | multi[blk]
        level += 1
    # a row stays frozen once frozen, so its zeros trail: columns are already left-aligned
    raw = np.stack(cols, axis=1) if cols else np.zeros((rem.size, 0), dtype=np.int32)
    width = int(depth.max()) if depth.size else 0
    f_blocks = np.ascontiguousarray(raw[:, :width])
    return rem, depth, f_blocks, a_sums, a_mins, a_ors, a_once, a_twice


def prepare_enumeration(
    n: int,
    allowed: np.ndarray | None,
    sums: np.ndarray | None,
    mins: np.ndarray | None,
    ors: np.ndarray | None,
    multi: np.ndarray | None,
    first: tuple[int, int] | None,
    table_rows: int,
    by_k: bool,
) -> tuple[EnumerationPlan, Recursion]:
    """Check the inputs and build the memo tables and the frontier of one enumeration.

    Arguments are those of :func:`enumerate_partitions`; returns the plan and the recursion.
    """
    check_n(n)
    size = 1 << n
    allow = check_allowed(n, allowed)
    v_sums = _as_values(size, sums, np.float64, "sums")
    v_mins = _as_values(size, mins, np.float64, "mins")
    v_ors = _as_values(size, ors, np.uint64, "ors")
    v_multi = _as_values(size, multi, np.uint64, "multi")
    # identities on the empty block, so a 0 block contributes nothing
    v_sums, v_mins, v_ors, v_multi = v_sums.copy(), v_mins.copy(), v_ors.copy(), v_multi.copy()
    v_sums[0] = 0.0
    v_mins[0] = np.inf
    v_ors[0] = 0
    v_multi[0] = 0
    rec = build_recursion(n, allow, by_k=by_k)
    full = size - 1
    if first is not None:
        n_first = int(rec.length[full]) if n else 0
        lo, hi = first
        if not (0 <= lo <= hi <= n_first):
            msg = f"first=({lo}, {hi}) must slice the {n_first} possible first blocks"
            raise ParameterError(msg)
    s = suffix_size(n, rec.counts, table_rows)
    tables = build_suffix_tables(rec, s, v_sums, v_mins, v_ors, v_multi)
    frontier = _expand_frontier(rec, s, first, v_sums, v_mins, v_ors, v_multi)
    plan = EnumerationPlan(n, s, *tables, *frontier)
    log.debug(
        "enumeration of %d units: suffix tables up to %d units (%d rows), %d prefixes",
        n,
        s,
        plan.t_first.size,
        plan.f_rem.size,
    )
    return plan, rec


def plan_runs(plan: EnumerationPlan, f_lo: int, f_hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The plans of frontier prefixes ``f_lo:f_hi`` as runs, in enumeration order.

    Returns ``(starts, bases)``: plans ``starts[i]:starts[i + 1]`` join prefix ``f_lo + i`` with the suffix-table rows
    ``bases[i]``, ``bases[i] + 1``, ... in turn (plan ``p`` with row ``bases[i] + p - starts[i]``).
    """
    rem = plan.f_rem[f_lo:f_hi]
    starts = np.zeros(rem.size + 1, dtype=np.int64)
    np.cumsum(plan.t_len[rem], out=starts[1:])
    return starts, plan.t_ptr[rem].astype(np.int64)


def run_pairs(
    f_lo: int, starts: np.ndarray, bases: np.ndarray, *, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Frontier prefix and suffix-table row of every plan of the :func:`plan_runs`.

    ``kind`` is ``"numba"`` (compiled) or ``"numpy"``; both give the same arrays.
    """
    if kind == "numba":
        fr = np.empty(int(starts[-1]), dtype=np.int64)
        r = np.empty(fr.size, dtype=np.int64)
        _kernel("pairs_kernel")(f_lo, starts, bases, fr, r)
        return fr, r
    lens = np.diff(starts)
    fr = np.repeat(np.arange(f_lo, f_lo + lens.size, dtype=np.int64), lens)
    r = np.repeat(bases - starts[:-1], lens) + np.arange(fr.size)
    return fr, r


def _emit_numpy(plan: EnumerationPlan, f_lo: int, f_hi: int) -> tuple[np.ndarray, ...]:
    fr, r = run_pairs(f_lo, *plan_runs(plan, f_lo, f_hi), kind="numpy")
    count = plan.f_depth[fr] + plan.t_count[r]
    sums = plan.f_sums[fr] + plan.t_sums[r]
    mins = np.minimum(plan.f_mins[fr], plan.t_mins[r])
    ors = plan.f_ors[fr] | plan.t_ors[r]
    twice = plan.f_twice[fr] | plan.t_twice[r] | (plan.f_once[fr] & plan.t_once[r])
    return fr, r, count, sums, mins, ors, twice


def _kernel(name: str) -> Any:
    """A compiled kernel of :mod:`coterminus.partitions._kernels` (imports numba on first use)."""
    from . import _kernels as _partition_kernels

    return getattr(_partition_kernels, name)


def _emit_numba(plan: EnumerationPlan, f_lo: int, f_hi: int) -> tuple[np.ndarray, ...]:
    starts, bases = plan_runs(plan, f_lo, f_hi)
    out_f, out_r = run_pairs(f_lo, starts, bases, kind="numba")
    m = out_f.size
    out_count = np.empty(m, dtype=np.int16)
    out_sums = np.empty((m, plan.t_sums.shape[1]))
    out_mins = np.empty((m, plan.t_mins.shape[1]))
    out_ors = np.empty((m, plan.t_ors.shape[1]), dtype=np.uint64)
    out_twice = np.empty((m, plan.t_twice.shape[1]), dtype=np.uint64)
    _kernel("emit_kernel")(
        f_lo, starts, bases, plan.f_depth, plan.f_sums, plan.f_mins, plan.f_ors, plan.f_once,
        plan.f_twice, plan.t_count, plan.t_sums, plan.t_mins, plan.t_ors, plan.t_once,
        plan.t_twice, out_count, out_sums, out_mins, out_ors, out_twice,
    )  # fmt: skip
    return out_f, out_r, out_count, out_sums, out_mins, out_ors, out_twice


def enumerate_partitions(
    n: int,
    *,
    allowed: np.ndarray | None = None,
    sums: np.ndarray | None = None,
    mins: np.ndarray | None = None,
    ors: np.ndarray | None = None,
    multi: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
    first: tuple[int, int] | None = None,
    chunk_size: int = 1 << 16,
    table_rows: int = 1 << 20,
    backend: Backend = "auto",
) -> Iterator[PartitionChunk]:
    """Enumerate every plan of ``n`` units in chunks, with aggregates of per-block values.

    Parameters
    ----------
    n : int
        Number of units (at most :data:`MAX_UNITS`).
    allowed : numpy.ndarray of bool, shape (2**n,), optional
        Blocks that may appear (e.g. :func:`connected_subsets`); default all.
    sums, mins : numpy.ndarray, shape (2**n,) or (2**n, a), optional
        Per-block values; each plan gets their sum / minimum over its blocks.
    ors : numpy.ndarray of uint64, shape (2**n,) or (2**n, c), optional
        Per-block bitsets; each plan gets their bitwise or.
    multi : numpy.ndarray of uint64, shape (2**n,) or (2**n, d), optional
        Per-block bitsets; each plan gets the bits set in at least two of its blocks
        (:math:`\\bigvee_{S \\ne S'} v_S \\wedge v_{S'}`, e.g. LAs split between blocks).
    n_blocks : int or (int, int), optional
        Keep only plans with this many blocks (ids count kept plans only).
    first : (int, int), optional
        Only plans whose first block (the one holding unit 0) is among the candidates
        ``first[0]:first[1]`` of :func:`first_block_counts`; ids then start at 0 for the slice
        (add ``counts[:first[0]].sum()`` for global ids).
    chunk_size : int
        Target number of plans per chunk (a chunk may be larger when one prefix has more).
    table_rows : int
        Memory budget (rows) of the memo table of small remaining sets.
    backend : {"auto", "numpy", "numba"}
        ``"auto"`` uses numba when installed; results are identical.

    Yields
    ------
    PartitionChunk

    Notes
    -----
    See the module notes: plans are emitted as a prefix (blocks chosen while the remaining set is
    larger than ``s`` units) joined with a memoised plan of the remaining set, so each plan costs
    one gather and one combine per aggregate.  Sums are accumulated in a fixed order
    (prefix, then suffix blocks right to left); to compare sums with another method exactly,
    use values on a binary grid (e.g. ``np.round(v * 2**30) / 2**30``).

    Examples
    --------
    >>> pop = np.array([0, 10, 20, 30, 40, 50, 60, 70], dtype=float)   # value of each block
    >>> chunk = next(enumerate_partitions(3, sums=pop, mins=pop, backend="numpy"))
    >>> chunk.blocks().tolist()
    [[1, 2, 4], [1, 6, 0], [3, 4, 0], [5, 2, 0], [7, 0, 0]]
    >>> chunk.n_blocks.tolist(), chunk.mins[:, 0].tolist()
    ([3, 2, 2, 2, 1], [10.0, 10.0, 30.0, 20.0, 70.0])
    """
    kind = resolve_backend(backend)
    if chunk_size < 1:
        msg = f"chunk_size must be a positive number of plans, got {chunk_size}"
        raise ParameterError(msg)
    lo_k, hi_k = n_blocks_range(n, n_blocks)
    plan, _ = prepare_enumeration(n, allowed, sums, mins, ors, multi, first, table_rows, by_k=False)
    emit = _emit_numba if kind == "numba" else _emit_numpy
    filter_k = n_blocks is not None and (lo_k > 1 or hi_k < n)
    next_id = 0
    for f_lo, f_hi in frontier_ranges(plan, chunk_size):
        fr, r, count, c_sums, c_mins, c_ors, c_twice = emit(plan, f_lo, f_hi)
        if filter_k:
            keep = (count >= lo_k) & (count <= hi_k)
            if not keep.all():
                fr, r, count = fr[keep], r[keep], count[keep]
                c_sums, c_mins, c_ors, c_twice = (
                    c_sums[keep],
                    c_mins[keep],
                    c_ors[keep],
                    c_twice[keep],
                )
        if fr.size == 0:
            continue
        ids = np.arange(next_id, next_id + fr.size, dtype=np.int64)
        next_id += fr.size
        yield PartitionChunk(ids, count, c_sums, c_mins, c_ors, c_twice, plan, fr, r)


def frontier_ranges(plan: EnumerationPlan, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs of frontier prefixes holding about ``chunk_size`` plans each."""
    cum = np.cumsum(plan.t_len[plan.f_rem])
    n_front = plan.f_rem.size
    f_lo = 0
    while f_lo < n_front:
        base = cum[f_lo - 1] if f_lo else 0
        f_hi = int(np.searchsorted(cum, base + chunk_size, side="right"))
        f_hi = min(max(f_hi, f_lo + 1), n_front)
        yield f_lo, f_hi
        f_lo = f_hi


def partition_chunks(
    n: int,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
    chunk_size: int = 1 << 16,
    backend: Backend = "auto",
) -> Iterator[np.ndarray]:
    """Yield every plan of ``n`` units as rows of block masks, a chunk at a time.

    Parameters
    ----------
    n : int
    allowed : numpy.ndarray of bool, shape (2**n,), optional
        Blocks that may appear.
    n_blocks : int or (int, int), optional
        Only plans with this many blocks.
    chunk_size : int
        Target rows per chunk.
    backend : {"auto", "numpy", "numba"}

    Yields
    ------
    numpy.ndarray of int32, shape (m, n)
        Blocks of each plan by lowest unit, padded with 0.

    Examples
    --------
    >>> np.vstack(list(partition_chunks(3, chunk_size=2))).tolist()
    [[1, 2, 4], [1, 6, 0], [3, 4, 0], [5, 2, 0], [7, 0, 0]]
    """
    for chunk in enumerate_partitions(
        n, allowed=allowed, n_blocks=n_blocks, chunk_size=chunk_size, backend=backend
    ):
        yield chunk.blocks()
