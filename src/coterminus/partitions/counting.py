"""Counting set partitions and the (R, S) recursion behind every partition kernel.

Closed forms (:func:`bell`, :func:`stirling2`), subset tables over all ``2**n`` masks
(:func:`popcount`, :func:`subset_sums`, :func:`subset_ors`), contiguity
(:func:`connected_subsets`), the block-first recursion (:class:`Recursion`) with exact
counts (:func:`count_partitions`, :func:`first_block_counts`), refusal before enumerating
(:func:`check_enumerable`) and the plain reference generator (:func:`iter_partitions`).
See :mod:`coterminus.partitions` for the recursion."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..errors import EnumerationTooLargeError, MissingDependencyError, ParameterError

log = logging.getLogger(__name__)

#: Largest number of units the exhaustive kernels accept (tables have ``2**n`` rows and the
#: recursion visits ``(3**n - 1) / 2`` pairs).
MAX_UNITS = 16

#: Default refusal threshold for exhaustive enumeration, in plans.
DEFAULT_MAX_PLANS = 20_000_000_000

#: Whether numba (a dependency; the numpy kernels are the reference) is importable. It is
#: imported only when a kernel first runs, so importing this module stays quick.
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

Backend = Literal["auto", "numpy", "numba"]


def resolve_backend(backend: Backend) -> str:
    """``"numpy"`` or ``"numba"`` for a requested backend (``"auto"``: numba when installed).

    Raises :class:`~coterminus.errors.MissingDependencyError` for ``"numba"`` without numba.

    Examples
    --------
    >>> resolve_backend("numpy")
    'numpy'
    """
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend == "numba" and not HAVE_NUMBA:
        msg = (
            "backend='numba' needs numba, a dependency of coterminus that is missing here: "
            "pip install numba (or use backend='numpy', the slower reference kernels)"
        )
        raise MissingDependencyError(msg)
    if backend not in ("numpy", "numba"):
        msg = f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}"
        raise ParameterError(msg)
    return backend


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
    check_n(n, upper=None)
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
    check_n(n, upper=None)
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
    check_n(n, upper=None)
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
        counts: np.ndarray = np.bitwise_count(a).astype(np.int64)
        return counts
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


def check_n(n: int, *, upper: int | None = MAX_UNITS) -> None:
    """Refuse a number of units that is not a whole number ≥ 0 or is above ``upper``.

    Raises :class:`~coterminus.errors.ParameterError` (not a count) or
    :class:`~coterminus.errors.EnumerationTooLargeError` (above ``upper``, default
    :data:`MAX_UNITS`), naming the remedy.

    Examples
    --------
    >>> check_n(12)
    >>> check_n(17)
    Traceback (most recent call last):
    coterminus.errors.EnumerationTooLargeError: 17 units have 82,864,869,804 plans ...
    """
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


def check_allowed(n: int, allowed: np.ndarray | None) -> np.ndarray:
    """A boolean array over all ``2**n`` masks (index 0, the empty block, is never allowed).

    ``None`` allows every block; otherwise a copy of ``allowed`` (which must have ``2**n``
    entries, else :class:`~coterminus.errors.ParameterError`).

    Examples
    --------
    >>> check_allowed(2, None).tolist()
    [False, True, True, True]
    """
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
    check_n(n)
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
    out: np.ndarray = reach == masks
    out[0] = False
    return out


# ---------------------------------------------------------------------------------------------
# the (R, S) recursion: candidate lists, counts, feasibility
# ---------------------------------------------------------------------------------------------
@dataclass
class Recursion:
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


_RECURSIONS: dict[tuple[int, bool, bytes], Recursion] = {}  # the last few, by allowed blocks


def build_recursion(n: int, allowed: np.ndarray, *, by_k: bool = False) -> Recursion:
    """The recursion of ``allowed`` blocks (kept for the next call on the same blocks).

    One run counts, splits, enumerates and checks by DP over the same blocks; the arrays are
    read-only after construction, so the last few are reused instead of rebuilt
    (:func:`clear_recursions` forgets them).

    Parameters
    ----------
    n : int
        Number of units (checked by the caller, see :func:`check_n`).
    allowed : numpy.ndarray of bool, shape (2**n,)
        Allowed blocks, as returned by :func:`check_allowed`.
    by_k : bool
        Also count plans by number of blocks (``counts_by_k``).

    Examples
    --------
    >>> rec = build_recursion(3, check_allowed(3, None))
    >>> int(rec.counts[7]), rec.candidates(7).tolist()      # B(3) plans; first blocks hold unit 0
    (5, [1, 3, 5, 7])
    """
    key = (n, by_k, hashlib.blake2b(np.packbits(allowed).tobytes(), digest_size=16).digest())
    rec = _RECURSIONS.get(key)
    if rec is None:
        rec = _new_recursion(n, allowed, by_k=by_k)
        while len(_RECURSIONS) >= 4:
            _RECURSIONS.pop(next(iter(_RECURSIONS)))
        _RECURSIONS[key] = rec
    return rec


def clear_recursions() -> None:
    """Forget the recursions kept by :func:`build_recursion` (benchmarks time a cold start)."""
    _RECURSIONS.clear()


def _new_recursion(n: int, allowed: np.ndarray, *, by_k: bool = False) -> Recursion:
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
    return Recursion(n, start, length, cand, counts, counts_by_k, level_slices)


def _recursion(n: int, allowed: np.ndarray | None, *, by_k: bool = False) -> Recursion:
    check_n(n)
    return build_recursion(n, check_allowed(n, allowed), by_k=by_k)


def n_blocks_range(n: int, n_blocks: int | tuple[int, int] | None) -> tuple[int, int]:
    """The inclusive range of blocks per plan that ``n_blocks`` asks for (default all).

    Examples
    --------
    >>> n_blocks_range(5, None), n_blocks_range(5, 2), n_blocks_range(5, (2, 3))
    ((1, 5), (2, 2), (2, 3))
    """
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
    lo, hi = n_blocks_range(n, n_blocks)
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
    check_n(n, upper=None)
    if n > MAX_UNITS:
        if n_blocks is not None and isinstance(n_blocks, (int, np.integer)):
            return stirling2(n, int(n_blocks))
        return bell(n)
    allow = check_allowed(n, allowed) if allowed is not None else None
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
            "add rules (contiguity, n_blocks=..., min_pop=/max_pop=), or stream "
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
    lo, hi = n_blocks_range(n, n_blocks)
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
    check_n(n, upper=None)
    allow = None if allowed is None else check_allowed(n, allowed)
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
