"""The best plan by a subset dynamic programme (no enumeration)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import ParameterError
from .counting import Recursion, build_recursion, check_allowed, check_n, n_blocks_range, popcount


# ---------------------------------------------------------------------------------------------
# subset dynamic programme
# ---------------------------------------------------------------------------------------------
def best_partition(
    cost: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
    tie: np.ndarray | None = None,
) -> tuple[float, tuple[int, ...]]:
    """The plan minimising the sum of its blocks' costs, by subset dynamic programming.

    Parameters
    ----------
    cost : numpy.ndarray of float, shape (2**n,)
        Cost of each block mask (``cost[0]`` is ignored).
    allowed : numpy.ndarray of bool, shape (2**n,), optional
        Blocks that may appear; non-finite costs are also excluded.
    n_blocks : int or (int, int), optional
        Only plans with this many blocks.
    tie : numpy.ndarray of float, shape (2**n,), optional
        A second cost per block: among plans of least total cost, those of least total ``tie``
        (lexicographic order; e.g. the people moved by each block).

    Returns
    -------
    (float, tuple of int)
        Minimum total cost and the plan's blocks (by lowest unit).  Among plans with the same
        total (and the same total ``tie``), the first in enumeration order is returned.

    Raises
    ------
    ParameterError
        When no plan satisfies the restrictions.

    Notes
    -----
    :math:`d(\\varnothing) = 0`,
    :math:`d(R) = \\min_{S} \\, c(S) + d(R \\setminus S)` over allowed :math:`S` holding the
    lowest unit of :math:`R`; with ``n_blocks`` a block-count index is added,
    :math:`d(R, j) = \\min_S c(S) + d(R \\setminus S, j-1)`.  :math:`O(3^n)` work, no
    enumeration.  Ties go to the smallest first block, then recursively, which is exactly the
    first optimal plan in enumeration order when sums are exact (put costs on a binary grid).

    Examples
    --------
    >>> cost = np.array([0, 1, 1, 1.5, 1, 3, 1.5, 2.5])   # merging 0+1 or 1+2 is cheap
    >>> best_partition(cost)
    (2.5, (1, 6))
    >>> best_partition(cost, n_blocks=3)
    (3.0, (1, 2, 4))
    >>> tie = np.array([0, 0, 0, 0, 0, 0, 3, 2])   # three plans cost 2.5; 0+1 | 2 ties least
    >>> best_partition(cost, tie=tie)
    (2.5, (3, 4))
    """
    c = np.asarray(cost, dtype=np.float64).ravel()
    n = round(math.log2(c.size)) if c.size else -1
    if c.size == 0 or (1 << n) != c.size:
        msg = f"cost must have 2**n entries (one per block mask), got {c.size}"
        raise ParameterError(msg)
    check_n(n)
    allow = check_allowed(n, allowed) & np.isfinite(c)
    allow[0] = False
    lo_k, hi_k = n_blocks_range(n, n_blocks)
    use_k = n_blocks is not None
    rec = build_recursion(n, allow, by_k=use_k)
    full = (1 << n) - 1
    size = 1 << n
    t = np.zeros(size) if tie is None else np.asarray(tie, dtype=np.float64).ravel()
    if t.size != size:
        msg = f"tie must have 2**n = {size} entries like cost, got {t.size}"
        raise ParameterError(msg)
    if not use_k:
        d = np.full(size, np.inf)
        e = np.full(size, np.inf)
        d[0] = e[0] = 0.0
        for rs, s, rest, bounds in _layers(rec, n):
            v = c[s] + d[rest]
            d[rs] = np.minimum.reduceat(v, bounds)
            on = v == np.repeat(d[rs], np.diff(np.append(bounds, v.size)))
            e[rs] = np.minimum.reduceat(np.where(on, t[s] + e[rest], np.inf), bounds)
        if not np.isfinite(d[full]):
            msg = "no plan satisfies the restrictions (allowed blocks / finite costs)"
            raise ParameterError(msg)
        blocks: list[int] = []
        r = full
        while r:
            cands = rec.candidates(r)
            hit = (c[cands] + d[r ^ cands] == d[r]) & (t[cands] + e[r ^ cands] == e[r])
            pick = int(cands[int(np.argmax(hit))])
            blocks.append(pick)
            r ^= pick
        total = ordered_sum(c, blocks)
        return total, tuple(blocks)
    # with a block-count index
    dk = np.full((size, n + 1), np.inf)
    ek = np.full((size, n + 1), np.inf)
    dk[0, 0] = ek[0, 0] = 0.0
    for rs, s, rest, bounds in _layers(rec, n):
        val = c[s][:, None] + dk[rest][:, :-1]  # j-1 blocks after S
        dk[rs, 1:] = np.minimum.reduceat(val, bounds, axis=0)
        on = val == np.repeat(dk[rs, 1:], np.diff(np.append(bounds, val.shape[0])), axis=0)
        tv = np.where(on, t[s][:, None] + ek[rest][:, :-1], np.inf)
        ek[rs, 1:] = np.minimum.reduceat(tv, bounds, axis=0)
    span = range(lo_k, hi_k + 1)
    best = min((dk[full, j], ek[full, j]) for j in span)
    if not np.isfinite(best[0]):
        msg = f"no plan with n_blocks={n_blocks!r} satisfies the restrictions"
        raise ParameterError(msg)
    ks = {j for j in span if (dk[full, j], ek[full, j]) == best}
    blocks = []
    r = full
    while r:
        cands = rec.candidates(r)
        rest = dk[r ^ cands]  # (m, n+1)
        rest_e = ek[r ^ cands]
        target = min((dk[r, j], ek[r, j]) for j in ks)
        picked = None
        for i, sblk in enumerate(cands):
            ok = {
                j
                for j in ks
                if j >= 1 and (c[sblk] + rest[i, j - 1], t[sblk] + rest_e[i, j - 1]) == target
            }
            if ok:
                picked = int(sblk)
                ks = {j - 1 for j in ok}
                break
        assert picked is not None
        blocks.append(picked)
        r ^= picked
    return ordered_sum(c, blocks), tuple(blocks)


def partition_extremes(
    values: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Least and greatest sum over the blocks of any plan, of each column of ``values``.

    Parameters
    ----------
    values : numpy.ndarray, shape (2**n, c)
        Per-block values (one column per quantity).
    allowed, n_blocks
        As in :func:`best_partition`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Minimum and maximum of each column over every plan (``inf``/``-inf`` when no plan).

    Notes
    -----
    The subset DP of :func:`best_partition` with ``min`` and with ``max``, for all columns at
    once; a quantity with equal minimum and maximum is the same in every plan.

    Examples
    --------
    >>> v = np.column_stack([np.arange(8.0), np.ones(8)])   # block mask, and 1 per block
    >>> lo, hi = partition_extremes(v)
    >>> lo.tolist(), hi.tolist()
    ([7.0, 1.0], [7.0, 3.0])
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    n = round(math.log2(v.shape[0])) if v.shape[0] else -1
    if v.shape[0] == 0 or (1 << n) != v.shape[0]:
        msg = f"values must have 2**n rows (one per block mask), got {v.shape[0]}"
        raise ParameterError(msg)
    check_n(n)
    allow = check_allowed(n, allowed)
    lo_k, hi_k = n_blocks_range(n, n_blocks)
    use_k = n_blocks is not None
    rec = build_recursion(n, allow, by_k=use_k)
    size, c = v.shape
    full = size - 1
    out = []
    for sign in (1.0, -1.0):
        w = sign * v
        if not use_k:
            d = np.full((size, c), np.inf)
            d[0] = 0.0
            for rs, s, rest, bounds in _layers(rec, n):
                d[rs] = np.minimum.reduceat(w[s] + d[rest], bounds, axis=0)
            best = d[full]
        else:
            dk = np.full((size, n + 1, c), np.inf)
            dk[0, 0] = 0.0
            for rs, s, rest, bounds in _layers(rec, n):
                val = w[s][:, None, :] + dk[rest][:, :-1, :]
                dk[rs, 1:] = np.minimum.reduceat(val, bounds, axis=0)
            best = dk[full, lo_k : hi_k + 1].min(axis=0)
        out.append(sign * best)
    return out[0], out[1]


def ordered_sum(c: np.ndarray, blocks: Sequence[int]) -> float:
    """The cost of a plan, ``c[b]`` added over its blocks in order (the enumerators' order).

    Examples
    --------
    >>> ordered_sum(np.array([0.0, 1.0, 2.0, 4.0]), [1, 2])
    3.0
    """
    total = 0.0
    for b in blocks:
        total += float(c[b])
    return total


def _layers(
    rec: Recursion, n: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The DP's work, one popcount layer k = 1…n at a time: the sets R with k units that have
    candidate first blocks, every candidate S of each R (grouped by R), R ^ S, and where each
    R's group starts (for ``np.minimum.reduceat``)."""
    masks = np.arange(1 << n, dtype=np.int64)
    pc = popcount(masks)
    for k in range(1, n + 1):
        rs = masks[(pc == k) & (rec.length > 0)]
        if rs.size == 0:
            continue
        lens = rec.length[rs]
        idx = np.repeat(rec.start[rs] - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        s = rec.cand[idx]
        bounds = np.concatenate(([0], np.cumsum(lens)[:-1]))
        yield rs, s, np.repeat(rs, lens) ^ s, bounds
