"""What is present and whether it is intact: :func:`status` and :func:`verify`.

Examples
--------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "a.txt").write_bytes(b"abc")
>>> sha256_file(root / "a.txt")[:16]
'ba7816bf8f01cfea'
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from . import catalog, locations
from . import readers as cio
from .arcgis import match_columns
from .catalog import Dataset
from .store import source_of

__all__ = ["sha256_file", "status", "verify"]

_VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
_TABLE_SUFFIXES = (".csv", ".csv.gz")


def status(
    vintage: int | None = None, data_dir: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Say where each dataset is: the data directory, the download cache, or missing.

    Parameters
    ----------
    vintage : int, optional
        Only datasets serving this analysis vintage.
    data_dir : path-like, optional
        Offline data directory (default ``COTERMINUS_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        Indexed by dataset id; columns ``title``, ``kind``, ``level``, ``vintage``, ``resolution``,
        ``where`` (``"data_dir"``, ``"cache"`` or ``"missing"``), ``path``, ``layer``, ``size``
        (bytes) and ``source`` (for downloads: the ONS service name or URL it came from).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.data import status
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "lookups").mkdir()
    >>> _ = (root / "lookups" / "ccg19_stp19_en.csv").write_text("CCG19CD\\n")
    >>> table = status(2019, data_dir=root)
    >>> table.loc["ccg-stp-2019", ["where", "size"]].to_dict()
    {'where': 'data_dir', 'size': 8}
    """
    root = locations.resolve_data_dir(data_dir)
    rows = []
    for ds in catalog.select(vintage):
        where, path = locations.find(ds, root)
        origin = source_of(path) if where == "cache" and path is not None else None
        rows.append(
            {
                "id": ds.id,
                "title": ds.title,
                "kind": ds.kind,
                "level": ds.level,
                "vintage": ds.vintage,
                "resolution": ds.resolution,
                "where": where,
                "path": None if path is None else str(path),
                "layer": ds.layer if where == "data_dir" else None,
                "size": None if path is None else path.stat().st_size,
                "source": None if origin is None else origin.get("service") or origin.get("url"),
            }
        )
    frame = pd.DataFrame(rows).set_index("id")
    frame["size"] = frame["size"].astype("Int64")
    return frame


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".csv.gz" if name.endswith(".csv.gz") else path.suffix.lower()


def _inspect(ds: Dataset, path: Path, layer: str | None) -> tuple[int | None, list[str]]:
    """Count England rows and check columns -> (rows, problems); (None, []) for other formats."""
    suffix = _suffix(path)
    problems: list[str] = []
    try:
        if suffix in _VECTOR_SUFFIXES:
            columns = list(pyogrio.read_info(path, layer=layer)["fields"])
        elif suffix in _TABLE_SUFFIXES:
            columns = list(pd.read_csv(path, nrows=0).columns)
        else:
            return None, []
    except Exception as exc:  # any reader failure is reported, not raised
        return None, [f"cannot be read ({type(exc).__name__}: {exc})"]
    matched, missing = match_columns(ds.expected_columns, columns)
    if missing:
        problems.append(f"missing columns {', '.join(missing)} (has {', '.join(columns)})")
        return None, problems
    if not matched:
        return None, problems
    code = matched[0]
    if suffix in _VECTOR_SUFFIXES:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=[code], read_geometry=False)
    else:
        frame = pd.read_csv(path, usecols=[code], dtype=str)
    rows = int(frame[code].astype("string").str.startswith("E").fillna(False).sum())
    if ds.expected_rows is not None and rows != ds.expected_rows:
        problems.append(f"{rows} England rows ({code} E*), expected {ds.expected_rows}")
    return rows, problems


def _deep_check(ds: Dataset, path: Path, layer: str | None) -> list[str]:
    readers: dict[str, Callable[[], object]] = {
        "boundary": lambda: cio.read_boundaries(path, layer=layer),
        "lookup": lambda: cio.read_lookup(path),
        "population": lambda: cio.read_population(path),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            readers[ds.kind]()
    except Exception as exc:  # report, do not raise
        return [f"coterminus.io cannot load it ({type(exc).__name__}: {exc})"]
    return []


def verify(
    vintage: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
) -> pd.DataFrame:
    """Check every dataset that is present: SHA-256 where registered, columns and row counts.

    Parameters
    ----------
    vintage : int, optional
        Only datasets serving this analysis vintage.
    data_dir : path-like, optional
        Offline data directory (default ``COTERMINUS_DATA_DIR``).
    deep : bool, default False
        Also load each file with ``coterminus.io`` (slower).

    Returns
    -------
    pandas.DataFrame
        Indexed by dataset id; columns ``where``, ``path``, ``sha256`` (``"ok"``, ``"mismatch"``,
        ``"not registered"`` or ``""`` when missing), ``rows`` (England rows found),
        ``expected_rows``, ``result`` (``"ok"``, ``"problem"`` or ``"missing"``) and ``problem``
        (what is wrong and what to do; empty when ok).

    Notes
    -----
    The SHA-256 of a data-directory file is compared with the registry's ``sha256``; a downloaded
    plain file with its pinned ``remote.sha256``. FeatureServer downloads are assembled from pages,
    so they have no stable hash and only their columns and rows are checked. ``expected_columns``
    are matched case-insensitively (``"A|B"`` accepts either), and rows are counted where the code
    column (the first expected column) starts with ``E``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from coterminus.data import verify
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "lookups").mkdir()
    >>> _ = (root / "lookups" / "ccg19_stp19_en.csv").write_text("CCG19CD\\nE38000001\\n")
    >>> report = verify(2019, data_dir=root)
    >>> report.loc["ccg-stp-2019", ["sha256", "result"]].tolist()
    ['mismatch', 'problem']
    >>> print(report.loc["ccg-stp-2019", "problem"])
    sha256 mismatch: ... missing columns CCG19NM, STP19CD, STP19NM (has CCG19CD)
    """
    root = locations.resolve_data_dir(data_dir)
    hashes: dict[Path, str] = {}
    rows_out = []
    for ds in catalog.select(vintage):
        where, path = locations.find(ds, root)
        record: dict[str, Any] = {
            "id": ds.id,
            "where": where,
            "path": None if path is None else str(path),
            "sha256": "",
            "rows": None,
            "expected_rows": ds.expected_rows,
            "result": "missing",
            "problem": "",
        }
        if path is None:
            rows_out.append(record)
            continue
        problems: list[str] = []
        expected = ds.sha256 if where == "data_dir" else None
        if where == "cache" and ds.remote is not None and ds.remote.type == "file":
            expected = ds.remote.sha256
        if expected:
            if path not in hashes:
                hashes[path] = sha256_file(path)
            got = hashes[path]
            record["sha256"] = "ok" if got == expected else "mismatch"
            if got != expected:
                problems.append(
                    f"sha256 mismatch: the file has {got[:12]}…, the registry {expected[:12]}… "
                    "(it was changed or replaced; restore the original file or download it again)"
                )
        else:
            record["sha256"] = "not registered"
        layer = ds.layer if where == "data_dir" else None
        rows, found = _inspect(ds, path, layer)
        record["rows"] = rows
        problems += found
        if deep and not found:
            problems += _deep_check(ds, path, layer)
        record["result"] = "problem" if problems else "ok"
        record["problem"] = "; ".join(problems)
        rows_out.append(record)
    frame = pd.DataFrame(rows_out).set_index("id")
    frame["rows"] = frame["rows"].astype("Int64")
    frame["expected_rows"] = frame["expected_rows"].astype("Int64")
    return frame
