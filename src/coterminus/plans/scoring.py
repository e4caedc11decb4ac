"""Scores of plans from block values: every plan column is a sum (or a minimum) over blocks.

A plan's columns are ``n_blocks``, ``objective`` (the sum of block costs), ``change`` and every
criterion (sums over its blocks of the footprint table, :mod:`coterminus.plans.tables`), and
``min_population``/``max_population``. Every block value is a whole number (people, whole m²)
or a cost on a binary grid, so every sum is exact whatever the order of its blocks: the
enumeration (:func:`score_chunks`, numpy or the compiled kernels of
:mod:`coterminus.partitions`), the selection kernel and plain look-ups for given plans
(:func:`plan_columns`) give identical columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import partitions as _p
from .tables import System

__all__ = ["Scored", "columns_frame", "plan_column_names", "plan_columns", "score_chunks"]


def plan_column_names(sys: System) -> tuple[str, ...]:
    """The columns of every scored plan of ``sys``, in output order.

    ``plan_id``, ``n_blocks``, ``objective``, ``change``, the criteria (named after the levels),
    ``min_population``, ``max_population``.
    """
    return ("plan_id", "n_blocks", "objective", "change", *sys.criteria,
            "min_population", "max_population")  # fmt: skip


def _sum_names(sys: System) -> tuple[str, ...]:
    return ("objective", "change", *sys.criteria)


def block_values(sys: System) -> tuple[np.ndarray, np.ndarray]:
    """Per-block sums (objective, change, criteria) and mins (people, −people), row 0 empty."""
    sums = np.column_stack([sys.values(c) for c in _sum_names(sys)])
    pop = sys.population.astype(np.float64)
    mins = np.column_stack([pop, -pop])
    sums[0] = 0.0
    mins[0] = np.inf
    return sums, mins


def _columns(
    sys: System, count: np.ndarray, sums: np.ndarray, mins: np.ndarray
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"n_blocks": count.astype(np.int16)}
    for j, c in enumerate(_sum_names(sys)):
        v = sums[:, j]
        out[c] = v if c == "objective" else np.rint(v).astype(np.int64)
    out["min_population"] = np.rint(mins[:, 0]).astype(np.int64)
    out["max_population"] = np.rint(-mins[:, 1]).astype(np.int64)
    return out


@dataclass
class Scored:
    """One chunk of scored plans: columns, and where to find each plan's blocks."""

    cols: dict[str, np.ndarray]
    chunk: _p.PartitionChunk

    def blocks(self, sel: np.ndarray | None = None) -> np.ndarray:
        if sel is None:
            return self.chunk.blocks()
        return self.chunk.plan.blocks(self.chunk.frontier[sel], self.chunk.suffix[sel])


def score_chunks(
    sys: System,
    *,
    first: tuple[int, int] | None = None,
    backend: str = "numpy",
    chunk_size: int = 1 << 16,
    table_rows: int = 1 << 20,
) -> Iterator[Scored]:
    """Every plan of a system, scored chunk by chunk (ids start at 0 for a ``first`` slice).

    The generic enumeration of :func:`coterminus.partitions.enumerate_partitions` (numpy, or
    its compiled emit kernel) carries the sums and minima of the block values.
    """
    sums, mins = block_values(sys)
    for chunk in _p.enumerate_partitions(
        sys.n,
        allowed=sys.allowed,
        sums=sums,
        mins=mins,
        n_blocks=sys.n_blocks,
        first=first,
        chunk_size=chunk_size,
        table_rows=table_rows,
        backend=backend,  # type: ignore[arg-type]
    ):
        cols = _columns(sys, chunk.n_blocks, chunk.sums, chunk.mins)
        cols["plan_id"] = chunk.ids
        yield Scored(cols, chunk)


def plan_columns(sys: System, blocks: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of given plans (block masks, 0-padded rows) by look-ups (no ``plan_id``).

    Examples
    --------
    See :func:`coterminus.plans.mergers.score_plans`.
    """
    b = np.asarray(blocks, dtype=np.int64)
    if b.ndim == 1:
        b = b[None, :]
    sums, mins = block_values(sys)
    count = (b != 0).sum(axis=1)
    return _columns(sys, count, sums[b].sum(axis=1), mins[b].min(axis=1))


def columns_frame(sys: System, cols: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """A frame of plan columns in output order; the objective as whole numbers when it is."""
    data = {c: np.asarray(cols[c]) for c in plan_column_names(sys) if c in cols}
    obj = data.get("objective")
    if obj is not None and np.all(obj == np.round(obj)) and np.abs(obj).max(initial=0) < 2**62:
        data["objective"] = np.rint(obj).astype(np.int64)
    return pd.DataFrame(data)
