"""Running the enumeration in pieces: serially, on a process pool or on Dask.

A :class:`Piece` is a whole system or a slice of its first blocks; :func:`run_piece` scores it
(per-plan kernel, or the selection kernel when no rows are kept); :func:`run_pieces` runs pieces
on an executor and hands results back in order, so a writer gets chunks in plan order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from .. import partitions as _p
from ..errors import ParameterError
from .results import MergerResult, merger_result
from .scoring import Scored, score_chunks
from .selection import Pareto, TopK, kernel_supports, select_piece
from .tables import System
from .writer import PlanWriter, arrow_chunk


@dataclass
class Piece:
    """A unit of work: a whole system (``first=None``) or the plans of some of its first blocks.

    ``id_offset`` is the id of the piece's first plan in the system; ``top``/``pareto`` what it
    keeps; ``keep_rows`` whether it returns every scored plan (for a writer in another process).
    """

    system: System | None
    first: tuple[int, int] | None
    id_offset: int
    top: int
    pareto: list[str]
    backend: str
    chunk_size: int
    keep_rows: bool
    with_system: bool
    #: "auto": the selection kernel when nothing but the top-k and front is kept (numba, a
    #: front over sums); "reference": the per-plan kernel writing every plan column.
    method: str = "auto"
    #: Histograms over every plan: names of the summed values and their (low, width, bins).
    hist: tuple[list[str], np.ndarray] | None = None


#: Kernel of the pieces of every run ("auto" or "reference"); the benchmark switches it to time
#: the per-plan kernel against the selection kernel in one run.
PIECE_METHOD = "auto"


def _use_selection(piece: Piece, want_rows: bool) -> bool:
    return piece.hist is not None or (
        not want_rows
        and piece.method != "reference"
        and piece.backend == "numba"
        and kernel_supports(piece.pareto)
    )


@dataclass
class PieceResult:
    """What a piece returns: its plans counted, its top-k, front, rows (Arrow) and histograms."""

    n_plans: int
    top: TopK
    pareto: Pareto
    table: Any = None
    seconds: float = 0.0
    hist: np.ndarray | None = None


def run_piece(
    piece: Piece,
    *,
    sink: Callable[[Any], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PieceResult:
    t0 = time.perf_counter()
    sys = piece.system
    assert sys is not None
    top = TopK(piece.top)
    front = Pareto(list(piece.pareto))
    kept: list[Any] = []
    total = 0
    want_rows = sink is not None or piece.keep_rows
    if _use_selection(piece, want_rows):
        total, top, front, hist = select_piece(
            sys, first=piece.first, id_offset=piece.id_offset, top=piece.top,
            pareto_cols=piece.pareto, progress=progress, hist=piece.hist,
        )  # fmt: skip
        return PieceResult(total, top, front, None, time.perf_counter() - t0, hist)
    for scored in score_chunks(
        sys, first=piece.first, backend=piece.backend, chunk_size=piece.chunk_size
    ):
        cols = scored.cols
        cols["plan_id"] = cols["plan_id"] + piece.id_offset
        every = scored.blocks() if want_rows else None

        def blocks_of(
            sel: np.ndarray, _s: Scored = scored, _all: np.ndarray | None = every
        ) -> np.ndarray:
            return _all[sel] if _all is not None else _s.blocks(sel)

        top.update(cols, blocks_of)
        front.update(cols, blocks_of, objective=cols["objective"])
        if every is not None:
            table = arrow_chunk(sys, cols, every, with_system=piece.with_system)
            if sink is not None:
                sink(table)
            else:
                kept.append(table)
        n_rows = int(cols["plan_id"].size)
        total += n_rows
        if progress is not None:
            progress(n_rows)
    table = None
    if kept:
        table = pa.concat_tables(kept)
    return PieceResult(total, top, front, table, time.perf_counter() - t0)


def split_pieces(sys: System, target: int) -> list[tuple[tuple[int, int] | None, int, int]]:
    """Slices of the first blocks with about ``target`` plans each: (first, id offset, count)."""
    blocks, counts = _p.first_block_counts(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
    total = int(counts.sum())
    if total <= target or blocks.size <= 1:
        return [(None, 0, total)]
    out: list[tuple[tuple[int, int] | None, int, int]] = []
    start = 0
    acc = 0
    offset = 0
    for i, c in enumerate(counts):
        acc += int(c)
        if acc >= target or i == counts.size - 1:
            out.append(((start, i + 1), offset, acc))
            offset += acc
            start = i + 1
            acc = 0
    return out


def _is_dask_client(executor: Any) -> bool:
    return (
        hasattr(executor, "scatter") and hasattr(executor, "gather") and hasattr(executor, "submit")
    )


def _executor_width(executor: Any) -> int:
    """Workers of an executor: a process/thread pool's size, a Dask cluster's threads (else 8)."""
    width = getattr(executor, "_max_workers", None)
    if width is None and _is_dask_client(executor) and hasattr(executor, "nthreads"):
        try:
            width = sum(executor.nthreads().values())
        except Exception:  # a cluster that cannot say: use the default
            width = None
    return max(int(width or 8), 1)


def run_pieces(
    jobs: list[tuple[str, Piece]],
    *,
    executor: Any,
    sink: Callable[[Any], None] | None,
    on_done: Callable[[str, PieceResult], None],
    progress: Callable[[int], None] | None,
    window: int = 8,
) -> None:
    """Run pieces serially or on an executor; results are consumed in order (for the writer)."""
    if executor is None:
        for key, piece in jobs:
            on_done(key, run_piece(piece, sink=sink, progress=progress))
        return
    if not hasattr(executor, "submit"):
        msg = (
            "executor must have .submit (a dask.distributed Client or a concurrent.futures "
            f"Executor), got {type(executor).__name__}"
        )
        raise ParameterError(msg)
    dask = _is_dask_client(executor)
    scattered: dict[int, Any] = {}

    def submit(piece: Piece) -> Any:
        if dask:
            sid = id(piece.system)
            if sid not in scattered:
                scattered[sid] = executor.scatter(piece.system, broadcast=False, hash=False)
            light = Piece(**{**piece.__dict__, "system": None})
            return executor.submit(_run_remote, scattered[sid], light, pure=False)
        return executor.submit(run_piece, piece)

    pending: list[tuple[str, Piece, Any]] = []
    it = iter(jobs)
    done_all = False
    while True:
        while not done_all and len(pending) < window:
            try:
                key, piece = next(it)
            except StopIteration:
                done_all = True
                break
            pending.append((key, piece, submit(piece)))
        if not pending:
            break
        key, piece, fut = pending.pop(0)
        res: PieceResult = fut.result()
        if res.table is not None and sink is not None:
            sink(res.table)
            res.table = None
        if progress is not None:
            progress(res.n_plans)
        on_done(key, res)


def _run_remote(system: System, piece: Piece) -> PieceResult:
    """Worker entry point: the system arrives separately (scattered once)."""
    piece = Piece(**{**piece.__dict__, "system": system})
    return run_piece(piece)


def run_system(
    sys: System,
    *,
    count: int,
    top: int,
    pareto_cols: list[str],
    backend: str,
    chunk_size: int,
    executor: Any,
    writer: PlanWriter | None,
    progress: bool,
    with_system: bool,
    bar: Any = None,
    hist: tuple[list[str], np.ndarray] | None = None,
    hist_out: list[np.ndarray] | None = None,
) -> tuple[TopK, Pareto, int]:
    """Every plan of one system, in pieces: its top-k, Pareto front and number of plans.

    Serial without ``executor``; else slices of the first blocks (about two per worker when no
    rows are kept). Rows go to ``writer`` in plan order; histograms are summed into
    ``hist_out``.
    """
    if executor is not None and writer is None:  # selection pieces: about two per worker
        target = max(chunk_size, count // (2 * _executor_width(executor)) + 1)
    else:
        target = max(chunk_size, count // 16) if executor is not None else count + 1
    pieces = split_pieces(sys, target) if executor is not None else [(None, 0, count)]
    jobs = [
        (
            str(i),
            Piece(sys, first, offset, top, pareto_cols, backend, chunk_size,
                  keep_rows=writer is not None and executor is not None, with_system=with_system,
                  method=PIECE_METHOD, hist=hist),
        )
        for i, (first, offset, _) in enumerate(pieces)
    ]  # fmt: skip
    top_k = TopK(top)
    front = Pareto(list(pareto_cols))
    done = [0]

    def on_done(_key: str, res: PieceResult) -> None:
        top_k.merge(res.top)
        front.merge(res.pareto)
        done[0] += res.n_plans
        if hist_out is not None and res.hist is not None:
            if hist_out:
                hist_out[0] = hist_out[0] + res.hist
            else:
                hist_out.append(res.hist)

    own_bar = None
    if progress and bar is None:
        own_bar = tqdm(total=count, unit="plan", unit_scale=True, desc=sys.name[:30], leave=False)
    use_bar = bar if bar is not None else own_bar
    try:
        run_pieces(
            jobs,
            executor=executor,
            sink=writer.write if writer is not None else None,
            on_done=on_done,
            progress=use_bar.update if use_bar is not None else None,
        )
    finally:
        if own_bar is not None:
            own_bar.close()
    return top_k, front, done[0]


def national_parallel(
    prepared: list[System],
    counts: list[int],
    *,
    top: int,
    pareto_cols: list[str],
    backend: str,
    chunk_size: int,
    executor: Any,
    writer: PlanWriter | None,
    bar: Any,
) -> dict[str, MergerResult]:
    """Every system of a national run on one executor (systems and slices of large ones).

    ``top`` plans are kept per system: one more than the results show, to know whether the
    last one shown ties with the next.
    """
    total = max(sum(counts), 1)
    target = max(chunk_size, total // 32)
    jobs: list[tuple[str, Piece]] = []
    for sys, c in zip(prepared, counts, strict=True):
        if c == 0:
            continue
        for first, offset, _ in split_pieces(sys, target):
            piece = Piece(
                sys, first, offset, top, pareto_cols, backend, chunk_size,
                keep_rows=writer is not None, with_system=True,
            )  # fmt: skip
            jobs.append((str(sys.code), piece))
    tops: dict[str, TopK] = {}
    fronts: dict[str, Pareto] = {}
    n_done: dict[str, int] = {}
    secs: dict[str, float] = {}

    def on_done(key: str, res: PieceResult) -> None:
        tops.setdefault(key, TopK(top)).merge(res.top)
        fronts.setdefault(key, Pareto(list(pareto_cols))).merge(res.pareto)
        n_done[key] = n_done.get(key, 0) + res.n_plans
        secs[key] = secs.get(key, 0.0) + res.seconds

    run_pieces(
        jobs,
        executor=executor,
        sink=writer.write if writer is not None else None,
        on_done=on_done,
        progress=bar.update if bar is not None else None,
    )
    by_code = {str(s.code): s for s in prepared}
    return {
        key: merger_result(by_code[key], tops[key], fronts[key], n_done[key], pareto_cols,
                           None, secs[key], backend, keep=top - 1)
        for key in tops
    }  # fmt: skip
