"""Exact enumeration of footprints (subsets) and merger plans (set partitions) over bitmasks.

Pure kernels on plain integers and numpy arrays, with no geography in them: a *unit* is a bit
position ``0 … n-1``, a *block* (candidate footprint) is an ``int`` bitmask of units, and a *plan*
is a set partition of the ``n`` units into blocks.  :mod:`coterminus.mergers` scores CCG merger
plans with them and the place-grouping code reuses them for places.

Counting
    :func:`bell`, :func:`stirling2`, :func:`count_subsets`, :func:`count_partitions` (exact, with
    block restrictions such as contiguity), :func:`estimate_count` and :func:`check_enumerable`
    (refuse before enumerating).
Enumerating
    :func:`iter_partitions` (plain recursive reference generator), :func:`partition_chunks`
    (numpy arrays of block masks, chunk by chunk) and :func:`enumerate_partitions` (chunks carrying
    per-plan aggregates of per-block values: sums, minima and bitwise ors).
Optimising
    :func:`best_partition`, a subset dynamic programme that never enumerates.
Graphs
    :func:`connected_subsets` (which blocks are contiguous given neighbour bitmasks).

Every enumerator yields plans in the same order, *block-first depth-first order*: the block
that holds the lowest unassigned unit is chosen first, candidates in increasing bitmask order.
Plan ``0`` is therefore always the all-singletons plan (no merger) when singletons are allowed,
and plan ids are stable across backends, chunk sizes and executors.

Notes
-----
Block-first recursion.  Write :math:`P(R)` for the plans of a remaining set :math:`R` and
:math:`\\ell(R)` for its lowest unit.  Then

.. math:: P(\\varnothing) = \\{()\\}, \\qquad
          P(R) = \\bigcup_{S \\subseteq R,\\ \\ell(R) \\in S,\\ S\\ \\mathrm{allowed}}
          \\{(S,) + p : p \\in P(R \\setminus S)\\}

so :math:`|P(\\{0..n-1\\})| = B(n)`, the Bell number, when every block is allowed
(:math:`B(n) = \\sum_k \\binom{n-1}{k} B(k)`).  The same recursion counts (:func:`count_partitions`)
and optimises (:func:`best_partition`: replace :math:`\\cup` by :math:`\\min` and the prefix by
the block cost) over the :math:`(3^n - 1)/2` pairs :math:`(R, S)`.

Enumeration cost.  :func:`enumerate_partitions` memoises :math:`P(R)` for every small remaining
set (:math:`|R| \\le s`, chosen so the table stays below ``table_rows`` rows) together with the
aggregates of its blocks, expands the few large remaining sets block by block, and emits each
plan as *prefix ⊕ memoised suffix*: one gather and one ``+``/``min``/``|`` per aggregate, so
the cost is :math:`O(1)` amortised per plan and nothing rescans a partition.  Remaining sets
that cannot be completed (because of block restrictions) are pruned before they are expanded.

The optional accelerator (numba, the ``fast`` extra) compiles the emit step; it runs the same
algorithm over the same tables, so its output is identical.

Examples
--------
>>> bell(12)
4213597
>>> [p for p in iter_partitions(3)]
[(1, 2, 4), (1, 6), (3, 4), (5, 2), (7,)]
>>> path = [0b010, 0b101, 0b010]                      # units 0 - 1 - 2 in a line
>>> count_partitions(3, allowed=connected_subsets(path))   # {0,2} is not contiguous
4
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import EnumerationTooLargeError, MissingDependencyError, ParameterError

__all__ = [
    "DEFAULT_MAX_PLANS",
    "HAVE_NUMBA",
    "MAX_UNITS",
    "PartitionChunk",
    "about",
    "bell",
    "best_partition",
    "blocks_to_labels",
    "check_enumerable",
    "connected_subsets",
    "count_partitions",
    "count_subsets",
    "enumerate_partitions",
    "estimate_count",
    "first_block_counts",
    "iter_partitions",
    "partition_chunks",
    "popcount",
    "stirling2",
    "subset_ors",
    "subset_sums",
]

log = logging.getLogger(__name__)

#: Largest number of units the exhaustive kernels accept (tables have ``2**n`` rows and the
#: recursion visits ``(3**n - 1) / 2`` pairs).
MAX_UNITS = 16

#: Default refusal threshold for exhaustive enumeration, in plans.
DEFAULT_MAX_PLANS = 20_000_000_000

#: Whether the optional accelerator (numba, the ``fast`` extra) is installed. It is imported
#: only when a kernel first runs, so importing this module stays quick.
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

Backend = Literal["auto", "numpy", "numba"]


# ---------------------------------------------------------------------------------------------
# counting in closed form
# ---------------------------------------------------------------------------------------------
def about(count: int) -> str:
    """A count for messages: digits with separators up to 10^15, else "about 10^k".

    Examples
    --------
    >>> about(190_899_322), about(bell(200))
    ('190,899,322', 'about 10^275')
    """
    count = int(count)
    if count < 10**15:
        return f"{count:,}"
    return f"about 10^{len(str(count)) - 1}"


def bell(n: int) -> int:
    """Number of set partitions of ``n`` labelled units (Bell number :math:`B(n)`).

    Parameters
    ----------
    n : int
        Number of units, ``n >= 0``.

    Returns
    -------
    int
        Exact (Python integer).

    Notes
    -----
    Bell triangle: each row starts with the last entry of the previous row and each entry is its
    left neighbour plus the entry above that neighbour; :math:`B(n)` is the first entry of row
    :math:`n`.

    Examples
    --------
    >>> [bell(n) for n in range(8)]
    [1, 1, 2, 5, 15, 52, 203, 877]
    >>> bell(12)
    4213597
    """
    _check_n(n, upper=None)
    row = [1]
    for _ in range(n):
        new = [row[-1]]
        for v in row:
            new.append(new[-1] + v)
        row = new
    return row[0]


def stirling2(n: int, k: int) -> int:
    """Stirling number of the second kind: partitions of ``n`` units into exactly ``k`` blocks.

    Parameters
    ----------
    n, k : int
        Non-negative integers.

    Returns
    -------
    int

    Notes
    -----
    :math:`S(n, k) = k\\,S(n-1, k) + S(n-1, k-1)`, :math:`S(0, 0) = 1`;
    :math:`\\sum_k S(n, k) = B(n)`.

    Examples
    --------
    >>> [stirling2(4, k) for k in range(5)]
    [0, 1, 7, 6, 1]
    """
    _check_n(n, upper=None)
    if k < 0 or k > n:
        return 0
    row = [1] + [0] * k
    for i in range(1, n + 1):
        for j in range(min(i, k), 0, -1):
            row[j] = j * row[j] + row[j - 1]
        row[0] = 0
    return row[k]


def count_subsets(n: int) -> int:
    """Number of candidate footprints of ``n`` units: non-empty subsets, :math:`2^n - 1`.

    Examples
    --------
    >>> count_subsets(12)
    4095
    """
    _check_n(n, upper=None)
    return (1 << n) - 1


def popcount(masks: np.ndarray) -> np.ndarray:
    """Number of set bits of each non-negative integer mask (vectorised).

    Examples
    --------
    >>> popcount(np.array([0, 1, 7, 1 << 40])).tolist()
    [0, 1, 3, 1]
    """
    a = np.asarray(masks)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(a).astype(np.int64)
    a = a.astype(np.uint64)  # pragma: no cover - numpy < 2
    out = np.zeros(a.shape, dtype=np.int64)  # pragma: no cover
    for shift in range(0, 64, 8):  # pragma: no cover
        out += _BYTE_POPCOUNT[((a >> np.uint64(shift)) & np.uint64(255)).astype(np.intp)]
    return out  # pragma: no cover


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def subset_sums(values: np.ndarray) -> np.ndarray:
    """Sum of per-unit ``values`` over every subset mask of the units (the footprint table).

    ``values`` has one row per unit (shape ``(n,)`` or ``(n, k)``); the result has one row per
    mask, ``out[S] = Σ_{i∈S} values[i]`` (shape ``(2**n,)`` or ``(2**n, k)``).

    Notes
    -----
    Doubling: the masks whose highest unit is *i* are the masks below ``1 << i`` plus unit *i*,
    so ``out[2^i : 2^(i+1)] = out[:2^i] + values[i]`` — O(2ⁿ) vectorised additions, no loop over
    masks. This is the recurrence m[S] = m[S \\ {u}] + M[u] of the footprint table.

    Examples
    --------
    >>> subset_sums(np.array([1, 10, 100])).tolist()
    [0, 1, 10, 11, 100, 101, 110, 111]
    >>> subset_sums(np.array([[1, 0], [0, 2]])).tolist()
    [[0, 0], [1, 0], [0, 2], [1, 2]]
    """
    v = np.asarray(values)
    out = np.zeros(
        (1 << len(v), *v.shape[1:]), dtype=v.dtype if v.dtype.kind in "iuf" else np.float64
    )
    for i in range(len(v)):
        half = 1 << i
        out[half : 2 * half] = out[:half] + v[i]
    return out


def subset_ors(bits: np.ndarray) -> np.ndarray:
    """Bitwise or of per-unit ``bits`` over every subset mask (same doubling as :func:`subset_sums`).

    Used to count distinct groups in a block: ``popcount(subset_ors(1 << group))``.

    Examples
    --------
    >>> popcount(subset_ors(np.array([1, 1, 2]))).tolist()   # units 0, 1 in group 0; 2 in group 1
    [0, 1, 1, 1, 1, 2, 2, 2]
    """
    b = np.asarray(bits, dtype=np.int64)
    out = np.zeros(1 << len(b), dtype=np.int64)
    for i in range(len(b)):
        half = 1 << i
        out[half : 2 * half] = out[:half] | b[i]
    return out


def _check_n(n: int, *, upper: int | None = MAX_UNITS) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        msg = f"n must be a non-negative integer number of units, got {n!r}"
        raise ParameterError(msg)
    if upper is not None and n > upper:
        msg = (
            f"{n} units have {bell(n):,} plans (Bell number B({n})): beyond exhaustive reach, "
            f"and beyond the exact kernels too (at most {upper} units: tables have 2**n rows and "
            f"the recursion visits (3**n - 1)/2 = {(3**n - 1) // 2:,} pairs). Split the units "
            "into smaller groups (e.g. one system at a time, or blocks within one system)."
        )
        raise EnumerationTooLargeError(msg)


def _check_allowed(n: int, allowed: np.ndarray | None) -> np.ndarray:
    """A boolean array over all ``2**n`` masks (index 0, the empty block, is never allowed)."""
    if allowed is None:
        out = np.ones(1 << n, dtype=bool)
    else:
        out = np.asarray(allowed, dtype=bool)
        if out.shape != (1 << n,):
            msg = (
                f"allowed must be a boolean array of length 2**n = {1 << n}, got shape {out.shape}"
            )
            raise ParameterError(msg)
        out = out.copy()
    out[0] = False
    return out


# ---------------------------------------------------------------------------------------------
# graphs
# ---------------------------------------------------------------------------------------------
def connected_subsets(adj_masks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Which subsets of units are connected (contiguous) in an adjacency graph.

    Parameters
    ----------
    adj_masks : sequence of int, length n
        ``adj_masks[i]`` is the bitmask of the neighbours of unit ``i`` (symmetric; the ``i`` bit
        itself is ignored).

    Returns
    -------
    numpy.ndarray of bool, shape (2**n,)
        ``out[S]`` is True when block ``S`` induces a connected subgraph; ``out[0]`` is False and
        every singleton is True.

    Notes
    -----
    Vectorised flood fill over all masks at once: start from the lowest unit of each mask and
    repeatedly add :math:`\\bigcup_{i \\in \\mathrm{reach}} N(i) \\cap S` until nothing changes
    (at most :math:`n-1` rounds); :math:`S` is connected iff the reach is :math:`S`.

    Examples
    --------
    >>> connected_subsets([0b010, 0b101, 0b010]).nonzero()[0].tolist()   # path 0-1-2
    [1, 2, 3, 4, 6, 7]
    """
    adj = np.asarray(adj_masks, dtype=np.int64).ravel()
    n = adj.size
    _check_n(n)
    if n and np.any((adj < 0) | (adj >= (1 << n))):
        msg = f"adj_masks must be bitmasks of {n} units (0 <= mask < 2**{n}), got {adj.tolist()}"
        raise ParameterError(msg)
    sym = np.array([((adj[j] >> i) & 1) == ((adj[i] >> j) & 1) for i in range(n) for j in range(n)])
    if n and not sym.all():
        msg = "adj_masks is not symmetric: unit i lists j as a neighbour but j does not list i"
        raise ParameterError(msg)
    masks = np.arange(1 << n, dtype=np.int64)
    reach = masks & -masks
    for _ in range(max(n - 1, 0)):
        grow = reach.copy()
        for i in range(n):
            has = ((reach >> i) & 1).astype(bool)
            grow[has] |= adj[i]
        grow &= masks
        if np.array_equal(grow, reach):
            break
        reach = grow
    out = reach == masks
    out[0] = False
    return out


# ---------------------------------------------------------------------------------------------
# the (R, S) recursion: candidate lists, counts, feasibility
# ---------------------------------------------------------------------------------------------
@dataclass
class _Recursion:
    """Candidate first blocks of every remaining set, pruned to completable ones.

    ``cand[start[R] : start[R] + length[R]]`` are the allowed blocks ``S`` with
    ``lowest(R) in S ⊆ R`` and ``R \\ S`` completable, in increasing order; ``counts[R]`` is the
    number of plans of ``R`` (float64 is exact below 2**53; ``counts_by_k`` when asked).
    """

    n: int
    start: np.ndarray
    length: np.ndarray
    cand: np.ndarray
    counts: np.ndarray
    counts_by_k: np.ndarray | None = None
    level_slices: list[tuple[int, int]] = field(default_factory=list)

    def candidates(self, r: int) -> np.ndarray:
        s = int(self.start[r])
        return self.cand[s : s + int(self.length[r])]


def _submask_pairs(rs: np.ndarray, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(R, S)`` with ``lowest(R) ∈ S ⊆ R`` for masks ``rs`` of popcount ``k``, by R."""
    low = rs & -rs
    rest = rs ^ low
    if k == 1:
        return rs.copy(), low.copy()
    bits = ((rest[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(bool)
    pos = np.nonzero(bits)[1].reshape(rs.size, k - 1).astype(np.int64)
    c = np.arange(1 << (k - 1), dtype=np.int64)
    x = np.zeros((rs.size, c.size), dtype=np.int64)
    for j in range(k - 1):
        x |= ((c[None, :] >> j) & 1) << pos[:, j : j + 1]
    s = (low[:, None] | x).ravel()
    r = np.repeat(rs, c.size)
    return r, s


_RECURSIONS: dict[tuple[int, bool, bytes], _Recursion] = {}  # the last few, by allowed blocks


def _build_recursion(n: int, allowed: np.ndarray, *, by_k: bool = False) -> _Recursion:
    """The recursion of ``allowed`` blocks (kept for the next call on the same blocks).

    One run counts, splits, enumerates and checks by DP over the same blocks; the arrays are
    read-only after construction, so the last few are reused instead of rebuilt.
    """
    key = (n, by_k, hashlib.blake2b(np.packbits(allowed).tobytes(), digest_size=16).digest())
    rec = _RECURSIONS.get(key)
    if rec is None:
        rec = _new_recursion(n, allowed, by_k=by_k)
        while len(_RECURSIONS) >= 4:
            _RECURSIONS.pop(next(iter(_RECURSIONS)))
        _RECURSIONS[key] = rec
    return rec


def _new_recursion(n: int, allowed: np.ndarray, *, by_k: bool = False) -> _Recursion:
    size = 1 << n
    masks = np.arange(size, dtype=np.int64)
    pc = popcount(masks)
    start = np.zeros(size, dtype=np.int64)
    length = np.zeros(size, dtype=np.int64)
    counts = np.zeros(size, dtype=np.float64)
    counts[0] = 1.0
    counts_by_k = None
    if by_k:
        counts_by_k = np.zeros((size, n + 1), dtype=np.float64)
        counts_by_k[0, 0] = 1.0
    pieces: list[np.ndarray] = []
    level_slices: list[tuple[int, int]] = [(0, 0)]
    offset = 0
    for k in range(1, n + 1):
        rs = masks[pc == k]
        r, s = _submask_pairs(rs, k, n)
        keep = allowed[s] & (counts[r ^ s] > 0)
        r, s = r[keep], s[keep]
        # group boundaries (pairs are grouped by R in increasing order)
        uniq, first, cnt = np.unique(r, return_index=True, return_counts=True)
        start[uniq] = offset + first
        length[uniq] = cnt
        if r.size:
            sub = counts[r ^ s]
            csum = np.concatenate(([0.0], np.cumsum(sub)))
            counts[uniq] = csum[first + cnt] - csum[first]
            if counts_by_k is not None:
                sub_k = counts_by_k[r ^ s]  # (pairs, n+1): partitions of R\S into j blocks
                csum_k = np.vstack([np.zeros((1, n + 1)), np.cumsum(sub_k, axis=0)])
                seg = csum_k[first + cnt] - csum_k[first]
                counts_by_k[uniq, 1:] = seg[:, :-1]
        pieces.append(s.astype(np.int64))
        level_slices.append((offset, offset + s.size))
        offset += s.size
    cand = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return _Recursion(n, start, length, cand, counts, counts_by_k, level_slices)


def _recursion(n: int, allowed: np.ndarray | None, *, by_k: bool = False) -> _Recursion:
    _check_n(n)
    return _build_recursion(n, _check_allowed(n, allowed), by_k=by_k)


def _n_blocks_range(n: int, n_blocks: int | tuple[int, int] | None) -> tuple[int, int]:
    if n_blocks is None:
        return (1 if n else 0), n
    if isinstance(n_blocks, (int, np.integer)) and not isinstance(n_blocks, bool):
        lo = hi = int(n_blocks)
    else:
        try:
            lo, hi = (int(v) for v in n_blocks)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            msg = f"n_blocks must be an int or a (min, max) pair, got {n_blocks!r}"
            raise ParameterError(msg) from None
    if lo > hi or lo < (1 if n else 0) or hi > n:
        msg = f"n_blocks={n_blocks!r} is impossible for {n} units: use values between 1 and {n}"
        raise ParameterError(msg)
    return lo, hi


def count_partitions(
    n: int,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
) -> int:
    """Exact number of plans (set partitions) of ``n`` units using only allowed blocks.

    Parameters
    ----------
    n : int
        Number of units (at most :data:`MAX_UNITS`).
    allowed : numpy.ndarray of bool, shape (2**n,), optional
        ``allowed[S]`` says whether block ``S`` may appear in a plan (e.g. the output of
        :func:`connected_subsets`); default all blocks.
    n_blocks : int or (int, int), optional
        Only count plans with this many blocks (or a range, inclusive).

    Returns
    -------
    int

    Notes
    -----
    :math:`c(\\varnothing) = 1`, :math:`c(R) = \\sum_{S} c(R \\setminus S)` over allowed blocks
    :math:`S` holding the lowest unit of :math:`R` — computed level by level over
    :math:`|R|`, vectorised over the :math:`(3^n-1)/2` pairs.

    Examples
    --------
    >>> count_partitions(12)
    4213597
    >>> count_partitions(5, n_blocks=2) == stirling2(5, 2)
    True
    """
    lo, hi = _n_blocks_range(n, n_blocks)
    full = (1 << n) - 1
    if allowed is None and n_blocks is None:
        return bell(n)
    rec = _recursion(n, allowed, by_k=n_blocks is not None)
    if rec.counts_by_k is None:
        return round(float(rec.counts[full]))
    return round(float(rec.counts_by_k[full, lo : hi + 1].sum()))


def estimate_count(
    n: int,
    *,
    allowed: np.ndarray | None = None,
    adjacency: Sequence[int] | np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
) -> int:
    """Number of plans an exhaustive enumeration would produce, before enumerating anything.

    Exact (:func:`count_partitions`) up to :data:`MAX_UNITS` units; beyond, the Bell number
    :math:`B(n)` (an upper bound when blocks are restricted).

    Parameters
    ----------
    n : int
    allowed : numpy.ndarray of bool, optional
        Allowed blocks (see :func:`count_partitions`).
    adjacency : sequence of int, optional
        Neighbour bitmasks; only contiguous blocks are counted (combined with ``allowed``).
    n_blocks : int or (int, int), optional

    Returns
    -------
    int

    Examples
    --------
    >>> estimate_count(20)
    51724158235372
    >>> estimate_count(4, adjacency=[0b0010, 0b0101, 0b1010, 0b0100])   # path: 2**(n-1)
    8
    """
    _check_n(n, upper=None)
    if n > MAX_UNITS:
        if n_blocks is not None and isinstance(n_blocks, (int, np.integer)):
            return stirling2(n, int(n_blocks))
        return bell(n)
    allow = _check_allowed(n, allowed) if allowed is not None else None
    if adjacency is not None:
        conn = connected_subsets(adjacency)
        allow = conn if allow is None else (allow & conn)
    return count_partitions(n, allowed=allow, n_blocks=n_blocks)


def check_enumerable(
    count: int,
    *,
    max_plans: int | float = DEFAULT_MAX_PLANS,
    what: str = "the units",
    n: int | None = None,
    contiguous: bool = False,
) -> None:
    """Refuse, with the number and the alternatives, when ``count`` plans exceed ``max_plans``.

    Parameters
    ----------
    count : int
        From :func:`estimate_count`.
    max_plans : int or float
        Threshold (default :data:`DEFAULT_MAX_PLANS`).
    what : str
        Words for the message (e.g. ``"the 14 CCGs of X"``).
    n : int, optional
        Number of units, quoted in the message.
    contiguous : bool
        Whether the count is of contiguous plans (quoted in the message).

    Raises
    ------
    EnumerationTooLargeError

    Examples
    --------
    >>> check_enumerable(bell(12), max_plans=5e7)        # fine: returns None
    >>> check_enumerable(bell(14), max_plans=5e7)         # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coterminus.errors.EnumerationTooLargeError: 190,899,322 plans ...
    """
    if count <= max_plans:
        return
    kind = "contiguous plans" if contiguous else "plans"
    size = f" of {n} units" if n is not None else ""
    too_big = n is not None and n > MAX_UNITS
    alt = (
        f"split the units into smaller groups (exhaustive kernels stop at {MAX_UNITS} units)"
        if too_big
        else (
            "find the best plan without enumerating with best_plan() (subset dynamic programme), "
            "restrict the search (contiguous=True, n_ccgs=..., population_band=...), or stream "
            f"only the top-k by raising max_plans above {about(count)} with out=None"
        )
    )
    msg = (
        f"{about(count)} {kind} for {what}{size} exceed max_plans={about(int(max_plans))}; "
        f"nothing was enumerated. To go on: {alt}."
    )
    raise EnumerationTooLargeError(msg)


def first_block_counts(
    n: int,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The possible first blocks (those holding unit 0) and how many plans follow each.

    Use it to split one enumeration into independent, ordered pieces
    (``enumerate_partitions(..., first=(i, j))``): plan ids of piece ``(i, j)`` start at
    ``counts[:i].sum()``.

    Returns
    -------
    blocks : numpy.ndarray of int64
        In enumeration order.
    counts : numpy.ndarray of int64

    Examples
    --------
    >>> blocks, counts = first_block_counts(3)
    >>> blocks.tolist(), counts.tolist()
    ([1, 3, 5, 7], [2, 1, 1, 1])
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo, hi = _n_blocks_range(n, n_blocks)
    rec = _recursion(n, allowed, by_k=n_blocks is not None)
    full = (1 << n) - 1
    blocks = rec.candidates(full).copy()
    if rec.counts_by_k is None:
        counts = rec.counts[full ^ blocks]
    else:
        counts = rec.counts_by_k[full ^ blocks][:, max(lo - 1, 0) : hi].sum(axis=1)
    return blocks, np.rint(counts).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# reference recursion (plain Python)
# ---------------------------------------------------------------------------------------------
def iter_partitions(n: int, *, allowed: np.ndarray | None = None) -> Iterator[tuple[int, ...]]:
    """Yield every plan of ``n`` units as a tuple of block masks (plain-Python reference).

    Blocks appear in increasing order of their lowest unit; plans in block-first depth-first
    order, the order of every enumerator here.  Meant for small ``n`` and for tests; use
    :func:`partition_chunks` or :func:`enumerate_partitions` for millions of plans.

    Parameters
    ----------
    n : int
    allowed : numpy.ndarray of bool, shape (2**n,), optional
        Only use blocks with ``allowed[S]``.

    Yields
    ------
    tuple of int

    Examples
    --------
    >>> list(iter_partitions(2))
    [(1, 2), (3,)]
    >>> sum(1 for _ in iter_partitions(6)) == bell(6)
    True
    """
    _check_n(n, upper=None)
    allow = None if allowed is None else _check_allowed(n, allowed)
    prefix: list[int] = []

    def rec(rem: int) -> Iterator[tuple[int, ...]]:
        if rem == 0:
            yield tuple(prefix)
            return
        low = rem & -rem
        rest = rem ^ low
        x = 0
        while True:  # submasks of ``rest`` in increasing order
            s = low | x
            if allow is None or allow[s]:
                prefix.append(s)
                yield from rec(rem ^ s)
                prefix.pop()
            if x == rest:
                break
            x = ((x | ~rest) + 1) & rest

    yield from rec((1 << n) - 1)


def blocks_to_labels(blocks: np.ndarray, n: int) -> np.ndarray:
    """Turn plans as block masks ``(m, width)`` (0-padded) into labels ``(m, n)``.

    ``labels[p, i]`` is the position of the block of plan ``p`` that holds unit ``i``
    (blocks numbered from 0 in their stored order, which is by lowest unit).

    Examples
    --------
    >>> blocks_to_labels(np.array([[1, 6, 0], [5, 2, 0]]), 3).tolist()
    [[0, 1, 1], [0, 1, 0]]
    """
    b = np.asarray(blocks, dtype=np.int64)
    if b.ndim == 1:
        b = b[None, :]
    labels = np.full((b.shape[0], n), -1, dtype=np.int8)
    for j in range(b.shape[1]):
        col = b[:, j]
        for i in range(n):
            labels[((col >> i) & 1).astype(bool), i] = j
    return labels


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
    _plan: _Plan = field(repr=False)
    _frontier: np.ndarray = field(repr=False)
    _suffix: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    def blocks(self) -> np.ndarray:
        """Block masks of each plan, ``(m, n)`` int32, blocks by lowest unit, 0-padded."""
        return self._plan.blocks(self._frontier, self._suffix)

    def labels(self) -> np.ndarray:
        """Block position of every unit, ``(m, n)`` int8 (see :func:`blocks_to_labels`)."""
        return self._plan.labels(self._frontier, self._suffix)


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
class _Plan:
    """Everything one enumeration needs: recursion, suffix tables and the frontier prefixes."""

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
            _kernel("_blocks_kernel")(
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


def _choose_s(n: int, counts: np.ndarray, table_rows: int) -> int:
    """Largest suffix size whose memo table (remaining sets without unit 0) fits ``table_rows``."""
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


def _build_suffix_tables(
    rec: _Recursion,
    s: int,
    sums: np.ndarray,
    mins: np.ndarray,
    ors: np.ndarray,
    multi: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Memo of every plan of every small remaining set, with its aggregates (preallocated)."""
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
    rec: _Recursion,
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


def _prepare(
    n: int,
    allowed: np.ndarray | None,
    sums: np.ndarray | None,
    mins: np.ndarray | None,
    ors: np.ndarray | None,
    multi: np.ndarray | None,
    first: tuple[int, int] | None,
    table_rows: int,
    by_k: bool,
) -> tuple[_Plan, _Recursion]:
    _check_n(n)
    size = 1 << n
    allow = _check_allowed(n, allowed)
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
    rec = _build_recursion(n, allow, by_k=by_k)
    full = size - 1
    if first is not None:
        n_first = int(rec.length[full]) if n else 0
        lo, hi = first
        if not (0 <= lo <= hi <= n_first):
            msg = f"first=({lo}, {hi}) must slice the {n_first} possible first blocks"
            raise ParameterError(msg)
    s = _choose_s(n, rec.counts, table_rows)
    tables = _build_suffix_tables(rec, s, v_sums, v_mins, v_ors, v_multi)
    frontier = _expand_frontier(rec, s, first, v_sums, v_mins, v_ors, v_multi)
    plan = _Plan(n, s, *tables, *frontier)
    log.debug(
        "enumeration of %d units: suffix tables up to %d units (%d rows), %d prefixes",
        n,
        s,
        plan.t_first.size,
        plan.f_rem.size,
    )
    return plan, rec


def _resolve_backend(backend: Backend) -> str:
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend == "numba" and not HAVE_NUMBA:
        msg = "backend='numba' needs numba: pip install 'coterminus[fast]' (or use backend='numpy')"
        raise MissingDependencyError(msg)
    if backend not in ("numpy", "numba"):
        msg = f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}"
        raise ParameterError(msg)
    return backend


def _runs(plan: _Plan, f_lo: int, f_hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The plans of frontier prefixes ``f_lo:f_hi`` as runs, in enumeration order.

    Plans ``starts[i]:starts[i + 1]`` join prefix ``f_lo + i`` with the suffix-table rows
    ``bases[i]``, ``bases[i] + 1``, ... in turn (plan ``p`` with row ``bases[i] + p - starts[i]``).
    """
    rem = plan.f_rem[f_lo:f_hi]
    starts = np.zeros(rem.size + 1, dtype=np.int64)
    np.cumsum(plan.t_len[rem], out=starts[1:])
    return starts, plan.t_ptr[rem].astype(np.int64)


def _pairs(
    f_lo: int, starts: np.ndarray, bases: np.ndarray, *, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Frontier prefix and suffix-table row of every plan of the :func:`_runs`."""
    if kind == "numba":
        fr = np.empty(int(starts[-1]), dtype=np.int64)
        r = np.empty(fr.size, dtype=np.int64)
        _kernel("_pairs_kernel")(f_lo, starts, bases, fr, r)
        return fr, r
    lens = np.diff(starts)
    fr = np.repeat(np.arange(f_lo, f_lo + lens.size, dtype=np.int64), lens)
    r = np.repeat(bases - starts[:-1], lens) + np.arange(fr.size)
    return fr, r


def _emit_numpy(plan: _Plan, f_lo: int, f_hi: int) -> tuple[np.ndarray, ...]:
    fr, r = _pairs(f_lo, *_runs(plan, f_lo, f_hi), kind="numpy")
    count = plan.f_depth[fr] + plan.t_count[r]
    sums = plan.f_sums[fr] + plan.t_sums[r]
    mins = np.minimum(plan.f_mins[fr], plan.t_mins[r])
    ors = plan.f_ors[fr] | plan.t_ors[r]
    twice = plan.f_twice[fr] | plan.t_twice[r] | (plan.f_once[fr] & plan.t_once[r])
    return fr, r, count, sums, mins, ors, twice


def _kernel(name: str) -> Any:
    """A compiled kernel of :mod:`coterminus._partition_kernels` (imports numba on first use)."""
    from . import _partition_kernels

    return getattr(_partition_kernels, name)


def _emit_numba(plan: _Plan, f_lo: int, f_hi: int) -> tuple[np.ndarray, ...]:
    starts, bases = _runs(plan, f_lo, f_hi)
    out_f, out_r = _pairs(f_lo, starts, bases, kind="numba")
    m = out_f.size
    out_count = np.empty(m, dtype=np.int16)
    out_sums = np.empty((m, plan.t_sums.shape[1]))
    out_mins = np.empty((m, plan.t_mins.shape[1]))
    out_ors = np.empty((m, plan.t_ors.shape[1]), dtype=np.uint64)
    out_twice = np.empty((m, plan.t_twice.shape[1]), dtype=np.uint64)
    _kernel("_emit_kernel")(
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
    kind = _resolve_backend(backend)
    if chunk_size < 1:
        msg = f"chunk_size must be a positive number of plans, got {chunk_size}"
        raise ParameterError(msg)
    lo_k, hi_k = _n_blocks_range(n, n_blocks)
    plan, _ = _prepare(n, allowed, sums, mins, ors, multi, first, table_rows, by_k=False)
    emit = _emit_numba if kind == "numba" else _emit_numpy
    filter_k = n_blocks is not None and (lo_k > 1 or hi_k < n)
    next_id = 0
    for f_lo, f_hi in _frontier_ranges(plan, chunk_size):
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


def _frontier_ranges(plan: _Plan, chunk_size: int) -> Iterator[tuple[int, int]]:
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


# ---------------------------------------------------------------------------------------------
# subset dynamic programme
# ---------------------------------------------------------------------------------------------
def best_partition(
    cost: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    n_blocks: int | tuple[int, int] | None = None,
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

    Returns
    -------
    (float, tuple of int)
        Minimum total cost and the plan's blocks (by lowest unit).  Among plans with the same
        total, the first in enumeration order is returned.

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
    """
    c = np.asarray(cost, dtype=np.float64).ravel()
    n = round(math.log2(c.size)) if c.size else -1
    if c.size == 0 or (1 << n) != c.size:
        msg = f"cost must have 2**n entries (one per block mask), got {c.size}"
        raise ParameterError(msg)
    _check_n(n)
    allow = _check_allowed(n, allowed) & np.isfinite(c)
    allow[0] = False
    lo_k, hi_k = _n_blocks_range(n, n_blocks)
    use_k = n_blocks is not None
    rec = _build_recursion(n, allow, by_k=use_k)
    full = (1 << n) - 1
    size = 1 << n
    if not use_k:
        d = np.full(size, np.inf)
        d[0] = 0.0
        masks = np.arange(size, dtype=np.int64)
        pc = popcount(masks)
        for k in range(1, n + 1):
            rs = masks[(pc == k) & (rec.length > 0)]
            if rs.size == 0:
                continue
            lens = rec.length[rs]
            idx = np.repeat(rec.start[rs] - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
            s = rec.cand[idx]
            val = c[s] + d[np.repeat(rs, lens) ^ s]
            bounds = np.concatenate(([0], np.cumsum(lens)[:-1]))
            d[rs] = np.minimum.reduceat(val, bounds)
        if not np.isfinite(d[full]):
            msg = "no plan satisfies the restrictions (allowed blocks / finite costs)"
            raise ParameterError(msg)
        blocks: list[int] = []
        r = full
        while r:
            cands = rec.candidates(r)
            vals = c[cands] + d[r ^ cands]
            pick = int(cands[int(np.argmax(vals == vals.min()))])
            blocks.append(pick)
            r ^= pick
        total = _ordered_sum(c, blocks)
        return total, tuple(blocks)
    # with a block-count index
    dk = np.full((size, n + 1), np.inf)
    dk[0, 0] = 0.0
    masks = np.arange(size, dtype=np.int64)
    pc = popcount(masks)
    for k in range(1, n + 1):
        rs = masks[(pc == k) & (rec.length > 0)]
        if rs.size == 0:
            continue
        lens = rec.length[rs]
        idx = np.repeat(rec.start[rs] - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        s = rec.cand[idx]
        val = c[s][:, None] + dk[np.repeat(rs, lens) ^ s][:, :-1]  # j-1 blocks after S
        bounds = np.concatenate(([0], np.cumsum(lens)[:-1]))
        dk[rs, 1:] = np.minimum.reduceat(val, bounds, axis=0)
    best = dk[full, lo_k : hi_k + 1].min()
    if not np.isfinite(best):
        msg = f"no plan with n_blocks={n_blocks!r} satisfies the restrictions"
        raise ParameterError(msg)
    ks = {j for j in range(lo_k, hi_k + 1) if dk[full, j] == best}
    blocks = []
    r = full
    while r:
        cands = rec.candidates(r)
        rest = dk[r ^ cands]  # (m, n+1)
        target = min(dk[r, j] for j in ks)
        picked = None
        for i, sblk in enumerate(cands):
            ok = {j for j in ks if j >= 1 and c[sblk] + rest[i, j - 1] == target}
            if ok:
                picked = int(sblk)
                ks = {j - 1 for j in ok}
                break
        assert picked is not None
        blocks.append(picked)
        r ^= picked
    return _ordered_sum(c, blocks), tuple(blocks)


def _ordered_sum(c: np.ndarray, blocks: Sequence[int]) -> float:
    total = 0.0
    for b in blocks:
        total += float(c[b])
    return total
