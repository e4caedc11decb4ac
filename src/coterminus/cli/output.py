"""What commands print: tables as text or JSON, file sizes, plain column tables.

Imported by command handlers when they run (it imports pandas), never by the parser.

Examples
--------
>>> import pandas as pd
>>> print(text_table([["id", "size"], ["ccg-2019", file_size(2_345_678)]]), end="")
id        size
ccg-2019  2.3 MB
>>> records(pd.DataFrame({"n": [1, None]}, index=pd.Index(["a", "b"], name="id")))
[{'id': 'a', 'n': 1.0}, {'id': 'b', 'n': None}]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Hashable
from pathlib import Path

import pandas as pd

__all__ = [
    "emit",
    "emit_json",
    "file_size",
    "frame_text",
    "isna",
    "records",
    "text_table",
    "wrote",
]


def frame_text(
    frame: pd.DataFrame, *, rows: int = 500, width: int = 160, colwidth: int = 60
) -> str:
    """``frame`` as pandas prints it, up to ``rows`` rows, ``width`` characters wide."""
    with pd.option_context(
        "display.max_rows", rows, "display.width", width, "display.max_colwidth", colwidth
    ):
        return frame.to_string()


def emit(args: argparse.Namespace, frame: pd.DataFrame) -> None:
    """Print ``frame``: as a JSON list of records with ``--json``, else as a text table."""
    if args.json:
        emit_json(json.loads(frame.to_json(orient="records")))
    else:
        sys.stdout.write(frame_text(frame) + "\n")


def emit_json(payload: object) -> None:
    """Print ``payload`` as indented JSON (values JSON does not know as their text)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def isna(value: object) -> bool:
    """Whether a table cell is missing (None, NaN, NA)."""
    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


def records(frame: pd.DataFrame) -> list[dict[Hashable, object]]:
    """The rows of ``frame`` (index first) as dicts, with None for missing cells."""
    out = frame.reset_index().astype(object)
    return out.where(out.notna(), None).to_dict("records")


def file_size(value: object) -> str:
    """A number of bytes in words: ``"512 B"``, ``"2.3 MB"``; ``""`` when missing."""
    if isna(value):
        return ""
    size = float(str(value))
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB"):
        size /= 1000
        if size < 1000:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} GB"


def text_table(rows: list[list[str]]) -> str:
    """Rows of cells as left-aligned columns two spaces apart (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def wrote(args: argparse.Namespace, path: Path, what: str = "") -> int:
    """Say what a command wrote, in one line: ``wrote PATH (SIZE; WHAT)``; return 0.

    Every command with ``--out`` ends with it. The line goes to standard output, or to
    standard error when standard output carries JSON (``--json``), so the JSON stays valid.

    Examples
    --------
    >>> import argparse, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n")
    >>> wrote(argparse.Namespace(json=False), p, "1 row, 2 columns")  # doctest: +ELLIPSIS
    wrote .../t.csv (8 B; 1 row, 2 columns)
    0
    """
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    size = file_size(path.stat().st_size) if path.exists() else "?"
    stream.write(f"wrote {path} ({size}{'; ' + what if what else ''})\n")
    return 0
