"""How downloads are stored: written atomically, with a provenance file beside each.

Examples
--------
>>> source_of("/no/such/file.csv") is None
True
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ..errors import OutputError
from . import cache
from .atomic import atomic_path

__all__ = ["SOURCE_SUFFIX", "progress_bar", "source_of", "write_atomically", "write_source"]

SOURCE_SUFFIX = ".source.json"


def source_of(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Where a downloaded file came from (its ``.source.json``), or ``None`` if not recorded.

    Examples
    --------
    >>> source_of("/no/such/file.csv") is None
    True
    """
    side = Path(os.fspath(path) + SOURCE_SUFFIX)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_source(dest: Path, info: dict[str, Any]) -> None:
    """Write ``dest``'s provenance beside it; both are recorded as written to the cache."""
    info = {**info, "retrieved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_atomically(
        Path(os.fspath(dest) + SOURCE_SUFFIX),
        lambda h: h.write(json.dumps(info, indent=1).encode("utf-8")),
    )
    cache.record_written(dest)


def write_atomically(
    dest: Path, write: Callable[[IO[bytes]], object], check: Callable[[Path], None] | None = None
) -> Path:
    """Write to a temporary file beside ``dest``, check it, then ``os.replace`` it into place.

    ``dest`` is recorded as written to the cache (:func:`coterminus.data.cache.record_written`).
    """
    try:
        with atomic_path(dest) as tmp:
            with tmp.open("w+b") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            if check is not None:
                check(tmp)
    except OutputError as exc:  # the cache folder went away or turned read-only
        cause = exc.__cause__
        reason = (
            cause.strerror
            if isinstance(cause, OSError) and cause.strerror
            else f"folder {dest.parent} is missing or read-only"
        )
        raise cache.cache_error(cache.cache_root(), reason) from exc
    cache.record_written(dest)
    return dest


def progress_bar(progress: bool, total: int | None, desc: str, unit: str) -> Any:
    disable = not (progress and sys.stderr is not None and sys.stderr.isatty())
    return tqdm(
        total=total, unit=unit, unit_scale=unit == "B", desc=desc, disable=disable, leave=False
    )
