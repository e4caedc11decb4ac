"""Scores of plans from block aggregates: the per-plan kernel and its reference arithmetic.

:func:`score_chunks` scores every plan of a system chunk by chunk (numpy, or one compiled pass
writing the plan columns); :func:`split_columns` recomputes the columns of given plans with the
same additions in the same order (bit for bit); :func:`direct_aggregates` and :func:`finalise`
score any given plans by look-ups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import partitions as _p
from .tables import PLAN_COLUMNS, SUMS, TIERS, System, block_values, byte_tables


def finalise(
    sys: System,
    count: np.ndarray,
    sums: np.ndarray,
    mins: np.ndarray,
    twice: np.ndarray,
    tables: list[Any] | None = None,
) -> dict[str, np.ndarray]:
    """Turn kernel aggregates into the plan columns (numpy)."""
    tables = tables if tables is not None else byte_tables(sys)
    k = count.astype(np.int16)
    kf = count.astype(np.float64)
    si = {c: i for i, c in enumerate(SUMS)}
    out: dict[str, np.ndarray] = {
        "n_ccgs": k,
        "objective": sums[:, si["cost"]],
        "non_contiguous": sums[:, si["non_contiguous"]].astype(np.int16),
    }
    for j, tier in enumerate(TIERS):
        out[f"mean_j_{tier}"] = sums[:, si[f"j_{tier}"]] / kf
        out[f"min_j_{tier}"] = mins[:, j]
        notc = sums[:, si[f"not_coterminous_{tier}"]].astype(np.int16)
        out[f"coterminous_{tier}"] = (k - notc).astype(np.int16)
        out[f"not_coterminous_{tier}"] = notc
        out[f"mismatch_{tier}"] = sums[:, si[f"mismatch_{tier}"]]
        out[f"split_pairs_{tier}"] = sums[:, si[f"split_pairs_{tier}"]].astype(np.int16)
    col = 0
    for tier, tabs in zip(TIERS, tables, strict=True):
        words = sys.tiers[tier].touched_bits.shape[1]
        n_split = np.zeros(count.size, dtype=np.int16)
        for w in range(words):
            n_split += _p.popcount(twice[:, col + w]).astype(np.int16)
        people = np.zeros(count.size)
        for c, shift, vals in tabs:
            people += vals[((twice[:, c] >> np.uint64(shift)) & np.uint64(255)).astype(np.intp)]
        out[f"split_las_{tier}"] = n_split
        out[f"split_people_{tier}"] = people
        col += words
    outside = sums[:, si["outside_band"]].astype(np.int16)
    out["in_band"] = (k - outside).astype(np.int16)
    out["outside_band"] = outside
    out["band_gap"] = sums[:, si["band_gap"]]
    out["min_population"] = mins[:, 2]
    out["max_population"] = -mins[:, 3]
    total = sys.total_population
    if total > 0:
        out["population_cv"] = np.sqrt(np.maximum(kf * sums[:, si["pop_sq"]] / total**2 - 1.0, 0.0))
    else:
        out["population_cv"] = np.zeros(count.size)
    return out


_FINAL = tuple(c for c in PLAN_COLUMNS if c != "plan_id")
_INT_FINAL = {
    "n_ccgs", "coterminous_utla", "coterminous_ltla", "not_coterminous_utla",
    "not_coterminous_ltla", "split_las_utla", "split_las_ltla", "split_pairs_utla",
    "split_pairs_ltla", "in_band", "outside_band", "non_contiguous",
}  # fmt: skip
_INT_COLS = tuple(c for c in _FINAL if c in _INT_FINAL)  # int16 columns
_FLOAT_COLS = tuple(c for c in _FINAL if c not in _INT_FINAL)  # float64 columns


# column positions, as compile-time constants of the compiled kernel
_S_J_UTLA = SUMS.index("j_utla")
_S_J_LTLA = SUMS.index("j_ltla")
_S_NOT_COTERMINOUS_UTLA = SUMS.index("not_coterminous_utla")
_S_NOT_COTERMINOUS_LTLA = SUMS.index("not_coterminous_ltla")
_S_MISMATCH_UTLA = SUMS.index("mismatch_utla")
_S_MISMATCH_LTLA = SUMS.index("mismatch_ltla")
_S_SPLIT_PAIRS_UTLA = SUMS.index("split_pairs_utla")
_S_SPLIT_PAIRS_LTLA = SUMS.index("split_pairs_ltla")
_S_OUTSIDE_BAND = SUMS.index("outside_band")
_S_BAND_GAP = SUMS.index("band_gap")
_S_POP_SQ = SUMS.index("pop_sq")
_S_COST = SUMS.index("cost")
_S_NON_CONTIGUOUS = SUMS.index("non_contiguous")
_I_N_CCGS = _INT_COLS.index("n_ccgs")
_X_OBJECTIVE = _FLOAT_COLS.index("objective")
_I_NON_CONTIGUOUS = _INT_COLS.index("non_contiguous")
_X_MEAN_J_UTLA = _FLOAT_COLS.index("mean_j_utla")
_X_MIN_J_UTLA = _FLOAT_COLS.index("min_j_utla")
_X_MEAN_J_LTLA = _FLOAT_COLS.index("mean_j_ltla")
_X_MIN_J_LTLA = _FLOAT_COLS.index("min_j_ltla")
_I_COTERMINOUS_UTLA = _INT_COLS.index("coterminous_utla")
_I_COTERMINOUS_LTLA = _INT_COLS.index("coterminous_ltla")
_I_NOT_COTERMINOUS_UTLA = _INT_COLS.index("not_coterminous_utla")
_I_NOT_COTERMINOUS_LTLA = _INT_COLS.index("not_coterminous_ltla")
_X_MISMATCH_UTLA = _FLOAT_COLS.index("mismatch_utla")
_X_MISMATCH_LTLA = _FLOAT_COLS.index("mismatch_ltla")
_I_SPLIT_LAS_UTLA = _INT_COLS.index("split_las_utla")
_X_SPLIT_PEOPLE_UTLA = _FLOAT_COLS.index("split_people_utla")
_I_SPLIT_LAS_LTLA = _INT_COLS.index("split_las_ltla")
_X_SPLIT_PEOPLE_LTLA = _FLOAT_COLS.index("split_people_ltla")
_I_SPLIT_PAIRS_UTLA = _INT_COLS.index("split_pairs_utla")
_I_SPLIT_PAIRS_LTLA = _INT_COLS.index("split_pairs_ltla")
_I_IN_BAND = _INT_COLS.index("in_band")
_I_OUTSIDE_BAND = _INT_COLS.index("outside_band")
_X_BAND_GAP = _FLOAT_COLS.index("band_gap")
_X_MIN_POPULATION = _FLOAT_COLS.index("min_population")
_X_MAX_POPULATION = _FLOAT_COLS.index("max_population")
_X_POPULATION_CV = _FLOAT_COLS.index("population_cv")


@dataclass
class Scored:
    """One chunk of scored plans: columns, and where to find each plan's blocks."""

    cols: dict[str, np.ndarray]
    plan: Any  # partitions._Plan
    frontier: np.ndarray
    suffix: np.ndarray

    def blocks(self, sel: np.ndarray | None = None) -> np.ndarray:
        if sel is None:
            return self.plan.blocks(self.frontier, self.suffix)
        return self.plan.blocks(self.frontier[sel], self.suffix[sel])


def _kernel_tables(sys: System, tables: list[Any]) -> tuple[Any, ...]:
    """The byte tables of :func:`byte_tables` as flat arrays, and the constants of the kernel.

    Returns ``(tier, column, shift, values, words of the first tier, total population²)``.
    """
    flat = [(ti, c, shift, vals) for ti, tabs in enumerate(tables) for c, shift, vals in tabs]
    tab_tier = np.array([f[0] for f in flat], dtype=np.int64)
    tab_col = np.array([f[1] for f in flat], dtype=np.int64)
    tab_shift = np.array([f[2] for f in flat], dtype=np.int64)
    tab_vals = np.array([f[3] for f in flat], dtype=np.float64).reshape(len(flat), 256)
    words_u = sys.tiers["utla"].touched_bits.shape[1]
    total = sys.total_population
    t2 = total**2 if total > 0 else 0.0
    return tab_tier, tab_col, tab_shift, tab_vals, words_u, t2


def score_chunks(
    sys: System,
    *,
    first: tuple[int, int] | None = None,
    backend: str = "numpy",
    chunk_size: int = 1 << 16,
    table_rows: int = 1 << 20,
) -> Iterator[Scored]:
    """Every plan of a system, scored chunk by chunk (ids start at 0 for a ``first`` slice).

    numpy: the generic kernels of :mod:`coterminus.partitions` then :func:`finalise`. numba: one
    compiled pass from the prefix/suffix tables straight to the plan columns (no intermediate
    aggregates), with the same arithmetic in the same order, so the columns are identical.
    """
    sums, mins, multi = block_values(sys)
    tables = byte_tables(sys)
    if backend != "numba":
        for chunk in _p.enumerate_partitions(
            sys.n,
            allowed=sys.allowed,
            sums=sums,
            mins=mins,
            multi=multi,
            n_blocks=sys.n_blocks,
            first=first,
            chunk_size=chunk_size,
            table_rows=table_rows,
            backend="numpy",
        ):
            cols = finalise(sys, chunk.n_blocks, chunk.sums, chunk.mins, chunk.multi, tables)
            cols["plan_id"] = chunk.ids
            yield Scored(cols, chunk.plan, chunk.frontier, chunk.suffix)
        return
    plan, _ = _p.prepare_enumeration(
        sys.n, sys.allowed, sums, mins, None, multi, first, table_rows, False
    )
    tab_tier, tab_col, tab_shift, tab_vals, words_u, t2 = _kernel_tables(sys, tables)
    lo_k, hi_k = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    next_id = 0
    for f_lo, f_hi in _p.frontier_ranges(plan, chunk_size):
        starts, bases = _p.plan_runs(plan, f_lo, f_hi)
        out_f, out_r = _p.run_pairs(f_lo, starts, bases, kind="numba")
        m = out_f.size
        out_x = np.empty((len(_FLOAT_COLS), m))
        out_i = np.empty((len(_INT_COLS), m), dtype=np.int16)
        _score_kernel(
            f_lo, starts, bases, plan.f_depth, plan.f_sums, plan.f_mins, plan.f_once, plan.f_twice,
            plan.t_count, plan.t_sums, plan.t_mins, plan.t_once, plan.t_twice,
            tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
        )  # fmt: skip
        cols = {c: out_x[i] for i, c in enumerate(_FLOAT_COLS)}
        cols.update({c: out_i[i] for i, c in enumerate(_INT_COLS)})
        if lo_k > 1 or hi_k < sys.n:
            keep = (cols["n_ccgs"] >= lo_k) & (cols["n_ccgs"] <= hi_k)
            if not keep.all():
                cols = {c: v[keep] for c, v in cols.items()}
                out_f, out_r = out_f[keep], out_r[keep]
        if out_f.size == 0:
            continue
        cols["plan_id"] = np.arange(next_id, next_id + out_f.size, dtype=np.int64)
        next_id += out_f.size
        yield Scored(cols, plan, out_f, out_r)


if _p.HAVE_NUMBA:
    import numba as _numba

    @_numba.njit(cache=True, nogil=True)
    def _score_kernel(
        f_lo, starts, bases, f_depth, f_sums, f_mins, f_once, f_twice, t_count, t_sums, t_mins,
        t_once, t_twice, tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
    ):  # fmt: skip  # pragma: no cover - compiled
        n_sums = f_sums.shape[1]
        n_words = f_once.shape[1]
        s = np.empty(n_sums)
        mn = np.empty(4)
        tw = np.empty(n_words, dtype=np.uint64)
        for i in range(bases.size):  # the runs of partitions._runs
            f = f_lo + i
            r0 = bases[i] - starts[i]
            for p in range(starts[i], starts[i + 1]):
                r = r0 + p
                for j in range(n_sums):
                    s[j] = f_sums[f, j] + t_sums[r, j]
                for j in range(4):
                    x = f_mins[f, j]
                    y = t_mins[r, j]
                    mn[j] = x if x < y else y
                for w in range(n_words):
                    tw[w] = f_twice[f, w] | t_twice[r, w] | (f_once[f, w] & t_once[r, w])
                k = f_depth[f] + t_count[r]
                kf = float(k)
                out_i[_I_N_CCGS, p] = k
                out_x[_X_OBJECTIVE, p] = s[_S_COST]
                out_i[_I_NON_CONTIGUOUS, p] = np.int16(s[_S_NON_CONTIGUOUS])
                out_x[_X_MEAN_J_UTLA, p] = s[_S_J_UTLA] / kf
                out_x[_X_MEAN_J_LTLA, p] = s[_S_J_LTLA] / kf
                out_x[_X_MIN_J_UTLA, p] = mn[0]
                out_x[_X_MIN_J_LTLA, p] = mn[1]
                nu = np.int16(s[_S_NOT_COTERMINOUS_UTLA])
                nl = np.int16(s[_S_NOT_COTERMINOUS_LTLA])
                out_i[_I_COTERMINOUS_UTLA, p] = k - nu
                out_i[_I_COTERMINOUS_LTLA, p] = k - nl
                out_i[_I_NOT_COTERMINOUS_UTLA, p] = nu
                out_i[_I_NOT_COTERMINOUS_LTLA, p] = nl
                out_x[_X_MISMATCH_UTLA, p] = s[_S_MISMATCH_UTLA]
                out_x[_X_MISMATCH_LTLA, p] = s[_S_MISMATCH_LTLA]
                out_i[_I_SPLIT_PAIRS_UTLA, p] = np.int16(s[_S_SPLIT_PAIRS_UTLA])
                out_i[_I_SPLIT_PAIRS_LTLA, p] = np.int16(s[_S_SPLIT_PAIRS_LTLA])
                n_u = 0
                n_l = 0
                for w in range(n_words):
                    x = tw[w]
                    c = 0
                    while x:
                        x &= x - np.uint64(1)
                        c += 1
                    if w < words_u:
                        n_u += c
                    else:
                        n_l += c
                out_i[_I_SPLIT_LAS_UTLA, p] = n_u
                out_i[_I_SPLIT_LAS_LTLA, p] = n_l
                pe_u = 0.0
                pe_l = 0.0
                for q in range(tab_col.size):
                    v = (tw[tab_col[q]] >> np.uint64(tab_shift[q])) & np.uint64(255)
                    if tab_tier[q] == 0:
                        pe_u += tab_vals[q, v]
                    else:
                        pe_l += tab_vals[q, v]
                out_x[_X_SPLIT_PEOPLE_UTLA, p] = pe_u
                out_x[_X_SPLIT_PEOPLE_LTLA, p] = pe_l
                ob = np.int16(s[_S_OUTSIDE_BAND])
                out_i[_I_IN_BAND, p] = k - ob
                out_i[_I_OUTSIDE_BAND, p] = ob
                out_x[_X_BAND_GAP, p] = s[_S_BAND_GAP]
                out_x[_X_MIN_POPULATION, p] = mn[2]
                out_x[_X_MAX_POPULATION, p] = -mn[3]
                if t2 > 0:
                    v2 = kf * s[_S_POP_SQ] / t2 - 1.0
                    out_x[_X_POPULATION_CV, p] = np.sqrt(v2) if v2 > 0.0 else 0.0
                else:
                    out_x[_X_POPULATION_CV, p] = 0.0

else:  # pragma: no cover

    def _score_kernel(*args: Any) -> None:  # type: ignore[misc]
        raise AssertionError


_SPLIT_CHUNK = 1 << 18


def split_columns(sys: System, blocks: np.ndarray, split: np.ndarray) -> dict[str, np.ndarray]:
    """Plan columns of given plans by the reference kernel, bit for bit.

    ``blocks[i, :split[i]]`` is plan ``i``'s prefix (added left to right, as the frontier of
    :mod:`coterminus.partitions` does) and the rest its memo-table suffix (added right to left),
    so every sum is formed in the same order as in a full :func:`score_chunks` pass.
    """
    sums, mins, multi = block_values(sys)
    sums, mins, multi = sums.copy(), mins.copy(), multi.copy()
    sums[0], mins[0], multi[0] = 0.0, np.inf, 0
    b = np.asarray(blocks, dtype=np.int64)
    split = np.asarray(split, dtype=np.int64)
    m = b.shape[0]
    if m > _SPLIT_CHUNK:  # bounded memory: a few hundred bytes per plan and chunk
        parts = [
            split_columns(sys, b[i : i + _SPLIT_CHUNK], split[i : i + _SPLIT_CHUNK])
            for i in range(0, m, _SPLIT_CHUNK)
        ]
        return {c: np.concatenate([q[c] for q in parts]) for c in parts[0]}
    width = b.shape[1]
    prefix = np.arange(width)[None, :] < split[:, None]
    f_depth, f_sums, f_mins, f_once, f_twice = fold_blocks(
        b, range(width), prefix, sums, mins, multi
    )
    t_count, t_sums, t_mins, t_once, t_twice = fold_blocks(
        b, range(width - 1, -1, -1), ~prefix, sums, mins, multi
    )
    tab_tier, tab_col, tab_shift, tab_vals, words_u, t2 = _kernel_tables(sys, byte_tables(sys))
    starts = np.arange(m + 1, dtype=np.int64)
    bases = np.arange(m, dtype=np.int64)
    out_x = np.empty((len(_FLOAT_COLS), m))
    out_i = np.empty((len(_INT_COLS), m), dtype=np.int16)
    if m:
        _score_kernel(
            0, starts, bases, f_depth, f_sums, f_mins, f_once, f_twice, t_count, t_sums, t_mins,
            t_once, t_twice, tab_tier, tab_col, tab_shift, tab_vals, words_u, t2, out_x, out_i,
        )  # fmt: skip
    cols = {c: out_x[i] for i, c in enumerate(_FLOAT_COLS)}
    cols.update({c: out_i[i] for i, c in enumerate(_INT_COLS)})
    return cols


def reference_split(
    sys: System, blocks: np.ndarray, first: tuple[int, int] | None, table_rows: int = 1 << 20
) -> np.ndarray:
    """How many leading blocks of each plan the per-plan kernel takes as its prefix.

    That kernel (:func:`score_chunks`, memo tables of ``table_rows``) adds a plan's first
    blocks while more than ``s`` units remain, then a memoised suffix; floating-point sums
    depend on that split, so kept plans are recomputed with it.
    """
    rec = _p.build_recursion(sys.n, sys.allowed)
    s = _p.suffix_size(sys.n, rec.counts, table_rows)
    b = np.asarray(blocks, dtype=np.int64)
    split = np.zeros(b.shape[0], dtype=np.int64)
    if b.shape[0] == 0 or (s >= sys.n and first is None):
        return split
    rem = np.full(b.shape[0], (1 << sys.n) - 1, dtype=np.int64)
    rem ^= b[:, 0]
    split[:] = 1
    for j in range(1, b.shape[1]):
        more = _p.popcount(rem) > s
        if not more.any():
            break
        rem[more] ^= b[more, j]
        split[more] += 1
    return split


def fold_blocks(
    b: np.ndarray,
    order: range,
    part: np.ndarray,
    sums: np.ndarray,
    mins: np.ndarray,
    multi: np.ndarray,
) -> tuple[np.ndarray, ...]:
    r"""Aggregates of some blocks of each plan, added in a given order of block positions.

    Block ``b[i, j]`` of plan ``i`` is added, for ``j`` in ``order``, when ``part[i, j]`` and it
    is not 0: returns ``(count, sums, mins, once, twice)`` (blocks, :math:`\sum v`,
    :math:`\min v`, bits set once and bits set in two blocks or more). A prefix is the blocks
    left to right, a memo-table suffix right to left (addition commutes, so ``acc + v`` is
    ``v + acc`` bit for bit: only the order of the blocks matters).
    """
    m = b.shape[0]
    count = np.zeros(m, dtype=np.int16)
    acc_sums = np.zeros((m, sums.shape[1]))
    acc_mins = np.full((m, mins.shape[1]), np.inf)
    once = np.zeros((m, multi.shape[1]), dtype=np.uint64)
    twice = np.zeros_like(once)
    for j in order:
        live = part[:, j] & (b[:, j] != 0)
        if not live.any():
            continue
        blk = b[live, j]
        count[live] += 1
        acc_sums[live] = acc_sums[live] + sums[blk]
        acc_mins[live] = np.minimum(acc_mins[live], mins[blk])
        twice[live] = twice[live] | (once[live] & multi[blk])
        once[live] = once[live] | multi[blk]
    return count, acc_sums, acc_mins, once, twice


def direct_aggregates(sys: System, blocks: np.ndarray) -> tuple[np.ndarray, ...]:
    """Aggregates of given plans (block masks, 0-padded) by plain look-ups, left to right."""
    sums_v, mins_v, multi_v = block_values(sys)
    b = np.asarray(blocks, dtype=np.int64)
    every = np.ones(b.shape, dtype=bool)
    count, sums, mins, _, twice = fold_blocks(b, range(b.shape[1]), every, sums_v, mins_v, multi_v)
    return count, sums, mins, twice


def columns_frame(sys: System, cols: Mapping[str, np.ndarray]) -> pd.DataFrame:
    as_int = set(ALWAYS_INT) | (set(PEOPLE_COLUMNS) if sys.measure == "population" else set())
    data = {}
    for c in PLAN_COLUMNS:
        v = np.asarray(cols[c])
        data[c] = np.rint(v).astype(np.int64) if c in as_int else v
    return pd.DataFrame(data)


PEOPLE_COLUMNS = (
    "mismatch_utla",
    "mismatch_ltla",
    "split_people_utla",
    "split_people_ltla",
)

ALWAYS_INT = ("band_gap", "min_population", "max_population")
