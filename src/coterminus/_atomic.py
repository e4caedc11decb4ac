"""Atomic file output: write to a temporary file beside the target, then ``os.replace``.

Nothing is ever left half-written: on any error the temporary file is removed and the target
is untouched. Every writer in coterminus (reports, maps, plan tables, downloads) goes through
:func:`atomic_path`, directly or by :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

__all__ = [
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_path",
]


def check_output_path(
    path: str | os.PathLike[str], *, suffixes: Iterable[str] | None = None
) -> Path:
    """Validate an output path before any work is done.

    Raises :class:`OutputError` when the folder is missing or not writable, or when the suffix
    is not one of ``suffixes``.

    Examples
    --------
    >>> check_output_path("/no/such/folder/map.html")
    Traceback (most recent call last):
    ...
    coterminus.errors.OutputError: cannot write /no/such/folder/map.html: folder /no/such/folder does not exist; create it first (mkdir -p /no/such/folder) or choose another --out.
    """
    p = Path(path)
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if not p.name.lower().endswith(allowed):
            msg = f"cannot write {p}: unknown format {p.suffix or '(no suffix)'!r}; use one of {', '.join(allowed)}."
            raise OutputError(msg)
    folder = p.parent if str(p.parent) else Path()
    if not folder.is_dir():
        msg = (
            f"cannot write {p}: folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or choose another --out."
        )
        raise OutputError(msg)
    if not os.access(folder, os.W_OK):
        msg = f"cannot write {p}: folder {folder} is read-only; choose another --out."
        raise OutputError(msg)
    return p


@contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, suffixes: Iterable[str] | None = None
) -> Iterator[Path]:
    """Yield a temporary file beside ``path``; move it to ``path`` when the block succeeds.

    The path is checked first (:func:`check_output_path`). The temporary file exists and is
    empty; once the ``with`` block ends without an exception it gets the mode a plain ``open()``
    would give (``0o666`` less the umask) and replaces ``path`` atomically. On any exception it
    is deleted and ``path`` is left as it was.

    Raises
    ------
    OutputError
        The folder is missing or read-only, the suffix is not one of ``suffixes``, or the
        temporary file cannot be created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    p = check_output_path(path, suffixes=suffixes)
    folder = p.parent if str(p.parent) else Path()
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".part")
    except OSError as exc:
        msg = f"cannot write {p}: {exc.strerror}; choose another --out."
        raise OutputError(msg) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(
    path: str | os.PathLike[str],
    writer: Callable[[Path], object],
    *,
    suffixes: Iterable[str] | None = None,
) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically (:func:`atomic_path`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = atomic_write(target, lambda p: p.write_text("hello"))
    >>> target.read_text()
    'hello'
    """
    with atomic_path(path, suffixes=suffixes) as tmp:
        writer(tmp)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, **kwargs: object) -> Path:
    """Write text atomically (UTF-8)."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), **kwargs)  # type: ignore[arg-type]


def atomic_write_bytes(path: str | Path, data: bytes, **kwargs: object) -> Path:
    """Write bytes atomically."""
    return atomic_write(path, lambda p: p.write_bytes(data), **kwargs)  # type: ignore[arg-type]
