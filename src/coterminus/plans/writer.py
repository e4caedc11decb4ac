"""Plan files: streaming every scored plan to Parquet/CSV on a background thread.

:func:`plan_file` gives a :class:`PlanWriter` onto a temporary file that appears complete or not
at all; :func:`arrow_chunk` turns scored plans into Arrow tables without Python strings;
:func:`write_selected` writes the top-k and the front when every plan would be too many.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .. import partitions as _p
from ..data.atomic import atomic_path, spreadsheet_safe
from ..errors import OutputError
from .objective import criterion_text
from .scoring import plan_column_names
from .tables import System

if TYPE_CHECKING:
    from .results import MergerResult

log = logging.getLogger(__name__)

_PLAN_SUFFIXES = (".parquet", ".csv")


class PlanWriter:
    """Streams plan chunks to a Parquet or CSV file (a temporary file of :func:`plan_file`).

    Chunks are written by a background thread (pyarrow releases the GIL) while the next chunk is
    being scored; :meth:`finish` waits for it and closes the file, :meth:`abort` stops it.
    """

    def __init__(
        self, tmp: Path, path: Path, metadata: Mapping[str, Any], stamp: str | None = None
    ) -> None:
        self.tmp = tmp
        self.path = path
        self.kind = "csv" if path.name.lower().endswith(".csv") else "parquet"
        self.stamp = stamp  # "MODIFIED DATA": in the metadata and as a column of every row
        if stamp:
            metadata = {**metadata, "modified_data": stamp}
        self.metadata = {b"coterminus": json.dumps(metadata, default=str).encode()}
        self._writer: Any = None
        self.rows = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="coterminus-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is not None:
                continue
            try:
                self._write_now(table)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def _write_now(self, table: Any) -> None:
        if self.stamp:
            rows = pa.array(np.zeros(table.num_rows, dtype=np.int32))
            table = table.append_column(
                "modified_data", pa.DictionaryArray.from_arrays(rows, pa.array([self.stamp]))
            )
        if self._writer is None:
            schema = table.schema.with_metadata(self.metadata)
            if self.kind == "parquet":
                self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
            else:
                self._writer = pcsv.CSVWriter(self.tmp, schema)
        self._writer.write_table(table.replace_schema_metadata(self.metadata))
        self.rows += table.num_rows

    def _raise(self) -> None:
        if self._error is not None:
            err = self._error
            if isinstance(err, OSError) and not isinstance(err, OutputError):
                msg = f"cannot write {self.path}: {err}; nothing was kept. Choose another --out."
                raise OutputError(msg) from err
            raise err

    def write(self, table: Any) -> None:
        self._raise()
        self._queue.put(table)

    def _finish_thread(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def finish(self) -> None:
        self._finish_thread()
        self._raise()
        if self._writer is not None:
            self._writer.close()

    def abort(self) -> None:
        try:
            self._finish_thread()
            if self._writer is not None:
                self._writer.close()
        except Exception:  # cleaning up after another error
            log.debug("closing the partial plan file failed", exc_info=True)


@contextmanager
def plan_file(
    out: str | os.PathLike[str] | None, systems: Sequence[System], stamp: str | None = None
) -> Iterator[PlanWriter | None]:
    """A :class:`PlanWriter` onto ``out`` (``None`` without ``out``) for the ``with`` block.

    The file appears, complete, when the block succeeds; on any error nothing is left
    (:func:`coterminus.data.atomic.atomic_path`).
    """
    if out is None:
        yield None
        return
    with atomic_path(out, suffixes=_PLAN_SUFFIXES) as tmp:
        writer = PlanWriter(tmp, Path(out), _file_metadata(systems), stamp)
        try:
            yield writer
            writer.finish()
        except BaseException:
            writer.abort()
            raise


def arrow_chunk(
    sys: System, cols: Mapping[str, np.ndarray], blocks: np.ndarray, *, with_system: bool
) -> Any:
    """An Arrow table of scored plans; labels/verdicts built from buffers, no Python strings.

    Columns: (``system``), ``plan_id``, ``labels``, the plan columns
    (:func:`coterminus.plans.scoring.plan_column_names`) and ``coterminous_<L>`` (Y/N per block,
    one string per plan) for every level scored.
    """
    m, n = blocks.shape
    arrays: dict[str, Any] = {}
    if with_system:
        arrays["system"] = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(m, dtype=np.int32)), pa.array([sys.code or ""])
        )
    arrays["plan_id"] = pa.array(np.asarray(cols["plan_id"], dtype=np.int64))
    lab = _labels_numpy(blocks, n)
    data = (lab.astype(np.uint8) + ord("A")).ravel()
    offsets = np.arange(0, m * n + 1, n, dtype=np.int32)
    arrays["labels"] = pa.StringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(data))
    for c in plan_column_names(sys)[1:]:
        arrays[c] = pa.array(np.asarray(cols[c]))
    live = blocks != 0
    k = live.sum(axis=1)
    offs = np.concatenate(([0], np.cumsum(k))).astype(np.int32)
    for lv in sys.problem.objective.levels:
        ok = sys.scores.coterminous[lv.name][blocks]
        chars = np.where(ok, ord("Y"), ord("N")).astype(np.uint8)[live]
        arrays[f"coterminous_{lv.name}"] = pa.StringArray.from_buffers(
            m, pa.py_buffer(offs), pa.py_buffer(np.ascontiguousarray(chars))
        )
    return pa.table(arrays)


def _labels_numpy(blocks: np.ndarray, n: int) -> np.ndarray:
    if _p.HAVE_NUMBA:
        out = np.empty(blocks.shape, dtype=np.int8)
        _labels_kernel(np.ascontiguousarray(blocks, dtype=np.int32), out)
        return out[:, :n]
    return _p.blocks_to_labels(blocks, n)


if _p.HAVE_NUMBA:
    import numba as _numba

    @_numba.njit(cache=True, nogil=True)
    def _labels_kernel(blocks: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
        m, n = blocks.shape
        for r in range(m):
            for j in range(n):
                b = blocks[r, j]
                i = 0
                while b:
                    if b & 1:
                        out[r, i] = j
                    b >>= 1
                    i += 1


#: Bytes per plan of a full plan file, by format (Cheshire and Merseyside 2019: 36 B parquet,
#: 195 B csv; rounded up).
_BYTES_PER_PLAN = {".parquet": 48, ".csv": 260}


def check_room(out: str | os.PathLike[str], count: int) -> None:
    """Refuse a full stream the disk cannot hold; log the size estimate otherwise."""
    path = Path(out)
    per = _BYTES_PER_PLAN[".csv" if path.name.lower().endswith(".csv") else ".parquet"]
    need = count * per
    free = shutil.disk_usage(path.resolve().parent).free
    log.warning(
        "writing every one of %s plans to %s: about %s", _p.about(count), path, _bytes(need)
    )
    if need > 0.95 * free:
        msg = (
            f"every plan ({_p.about(count)} plans) would need about {_bytes(need)} in {path}, "
            f"but {path.resolve().parent} has {_bytes(free)} free; nothing was written. Choose "
            "an --out on a larger disk, or drop --all-plans (all_plans=False) to write the "
            "top-k and the Pareto front."
        )
        raise OutputError(msg)


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def write_selected(out: str | os.PathLike[str], res: MergerResult) -> Path:
    """The top-k and the Pareto front, one file, a ``selected`` column saying which."""
    top = res.top.assign(selected="top")
    front = res.pareto.assign(selected="pareto")
    table = pd.concat([top, front], ignore_index=True, sort=False)
    if res.modified_data:
        table["modified_data"] = res.modified_data
    for c in table.columns:  # object columns mixing types (None, str) become strings
        if table[c].dtype == object:
            table[c] = table[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    with atomic_path(out, suffixes=_PLAN_SUFFIXES) as tmp:
        if str(out).lower().endswith(".csv"):
            spreadsheet_safe(table).to_csv(tmp, index=False)  # unit names are not formulas
        else:
            table.to_parquet(tmp, index=False)
    if res.histograms is not None:
        side = histogram_path(out)
        with atomic_path(side, suffixes=(".csv",)) as tmp:
            res.histograms.to_csv(tmp, index=False)
    return Path(out)


def histogram_path(out: str | os.PathLike[str]) -> Path:
    """``plans.parquet`` → ``plans.histograms.csv`` (per-criterion histograms of a summary)."""
    p = Path(out)
    return p.with_name(p.name.rsplit(".", 1)[0] + ".histograms.csv")


def _file_metadata(systems: Sequence[System]) -> dict[str, Any]:
    first = systems[0].problem
    return {
        "vintage": first.vintage,
        "units": first.units,
        "against": list(first.against),
        "measure": first.measure,
        "tolerance": first.tolerance,
        "weights": systems[0].weights,
        "criteria": {
            c: criterion_text(c, first.labels, first.measure) for c in systems[0].criteria
        },
        "order": "objective, then change (people moved from today); plan_id only lists ties",
        "labels": "letter i of labels is the block (A = first, blocks ordered by their first "
        "unit) of the i-th unit of the system's members",
        "systems": {
            (s.code or "custom"): {
                "name": s.name,
                "members": list(s.codes),
                "names": list(s.problem.names),
                "band": s.problem.band.text,
                "constraints": s.problem.constraints,
            }
            for s in systems
        },
    }
