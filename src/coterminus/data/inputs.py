"""Files a user names as inputs (a manifest, a scenario): checked before they are read.

A path given as input may be a folder, a named pipe or a device (reading ``/dev/zero`` or a pipe
would never end), or a file far larger than such an input can be. :func:`input_problem` says
which, so that each reader raises its own error with its own fix.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> input_problem(folder, max_bytes=10)
('folder', 'is a folder')
>>> input_problem(folder / "none.csv", max_bytes=10)
('missing', 'does not exist')
>>> input_problem(pathlib.Path("/dev/null"), max_bytes=10)
('special', 'is not a regular file (a pipe, socket or device)')
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["input_problem"]

Problem = Literal["folder", "missing", "special", "large"]


def input_problem(path: Path, *, max_bytes: int) -> tuple[Problem, str] | None:
    """What is wrong with ``path`` as an input file (kind and words), or ``None`` when nothing.

    Parameters
    ----------
    path : Path
    max_bytes : int
        Larger files are refused (``"large"``): the caller knows how big its input can be.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.toml"
    >>> _ = p.write_text("x" * 20)
    >>> input_problem(p, max_bytes=10), input_problem(p, max_bytes=100)
    (('large', 'is 20 bytes'), None)
    """
    if path.is_dir():
        return "folder", "is a folder"
    if not path.exists():
        return "missing", "does not exist"
    if not path.is_file():
        return "special", "is not a regular file (a pipe, socket or device)"
    size = path.stat().st_size
    if size > max_bytes:
        return "large", f"is {size:,} bytes"
    return None
