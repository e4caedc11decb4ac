"""Compiled kernels of :mod:`coterminus.partitions` (numba, a dependency of coterminus).

Kept apart so that importing :mod:`coterminus.partitions` (and so ``assess`` and ``places``) does
not import numba: these load on the first scoring run that uses the numba backend.
"""

from __future__ import annotations

import numba

__all__ = ["blocks_kernel", "emit_kernel", "pairs_kernel"]


@numba.njit(cache=True, nogil=True)
def pairs_kernel(f_lo, starts, bases, out_f, out_r):  # pragma: no cover - compiled
    for i in range(bases.size):
        for p in range(starts[i], starts[i + 1]):
            out_f[p] = f_lo + i
            out_r[p] = bases[i] + (p - starts[i])


@numba.njit(cache=True, nogil=True)
def emit_kernel(
    f_lo, starts, bases, f_depth, f_sums, f_mins, f_ors, f_once, f_twice,
    t_count, t_sums, t_mins, t_ors, t_once, t_twice,
    out_count, out_sums, out_mins, out_ors, out_twice,
):  # fmt: skip  # pragma: no cover - compiled
    a = out_sums.shape[1]
    b = out_mins.shape[1]
    c = out_ors.shape[1]
    d = out_twice.shape[1]
    for i in range(bases.size):  # the runs of _runs, rows counted up (not gathered)
        f = f_lo + i
        r0 = bases[i] - starts[i]
        for p in range(starts[i], starts[i + 1]):
            r = r0 + p
            out_count[p] = f_depth[f] + t_count[r]
            for j in range(a):
                out_sums[p, j] = f_sums[f, j] + t_sums[r, j]
            for j in range(b):
                x = f_mins[f, j]
                y = t_mins[r, j]
                out_mins[p, j] = x if x < y else y
            for j in range(c):
                out_ors[p, j] = f_ors[f, j] | t_ors[r, j]
            for j in range(d):
                out_twice[p, j] = f_twice[f, j] | t_twice[r, j] | (f_once[f, j] & t_once[r, j])


@numba.njit(cache=True, nogil=True)
def blocks_kernel(frontier, suffix, f_blocks, f_depth, t_first, t_next, out):  # pragma: no cover
    width = f_blocks.shape[1]
    for p in range(frontier.size):
        f = frontier[p]
        for j in range(width):
            out[p, j] = f_blocks[f, j]
        col = f_depth[f]
        r = suffix[p]
        while t_first[r] != 0:
            out[p, col] = t_first[r]
            col += 1
            r = t_next[r]
