"""Atomic file output: write to a temporary file beside the target, then ``os.replace``.

Nothing is ever left half-written: on any error the temporary file is removed and the target
is untouched. Every writer in coterminus (reports, maps, figures, plan tables, downloads, the
parsed-layer cache) goes through :func:`atomic_path`, directly or by :func:`atomic_write`.

Rules for an output path (:func:`check_output_path`), each broken one an
:class:`~coterminus.errors.OutputError` raised before any work:

* the suffix must be one the writer knows (when it says which);
* the path must not be a folder (``--out maps/`` names a folder, not a file);
* the path must not be a symbolic link: coterminus does not write through links, so that a
  link planted in a shared folder cannot redirect output onto another file. Pass the real path
  (the message gives it) or remove the link. The *folder* may be reached through links;
* an existing path must be a regular file: a named pipe, a device (``/dev/null``, even as root)
  or a socket is never replaced by a file. It is checked again just before the move into place;
* the folder must exist (it is not created) and be writable; when a part of the folder's path is
  a file (``--out notes.txt/map.html``), the message names that file.

While writing, a full disk (``ENOSPC``), an exceeded quota (``EDQUOT``), a file too large
(``EFBIG``) or a read-only file system (``EROFS``) becomes an :class:`OutputError`, and the
temporary file is deleted. SIGINT, SIGTERM and SIGHUP during a write delete the temporary file
before the process stops: SIGINT goes on as ``KeyboardInterrupt`` (or whatever handler was set
before), SIGTERM and SIGHUP, when their handler was the default one, terminate the process by
the same signal once the temporary files are gone. Handlers are installed only by the main
thread, only while a write is in progress, and never over a signal that is being ignored
(``nohup``).
Python runs signal handlers in the main thread between bytecodes, so a signal that arrives
during one long C call (a large parquet write) is handled, and the file removed, when it returns.

CSV files are written spreadsheet-safe (:func:`atomic_write_csv`): a text cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) gets a leading apostrophe, so a name
such as ``=HYPERLINK(...)`` in a scenario is shown as text, not run as a formula, when the file
is opened in Excel, LibreOffice or Google Sheets. Numbers are written as numbers.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from ..errors import OutputError

__all__ = [
    "FORMULA_STARTS",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "check_output_path",
    "spreadsheet_safe",
]


def check_output_path(
    path: str | os.PathLike[str], *, suffixes: Iterable[str] | None = None
) -> Path:
    """Validate an output path before any work is done.

    Raises :class:`OutputError` when the path is a folder, a symbolic link, or anything else that
    is not a regular file (a named pipe, a device, a socket), when its folder is missing (or a
    part of its path is a file) or not writable, or when the suffix is not one of ``suffixes``
    (see the module docstring for the rules).

    Examples
    --------
    >>> check_output_path("/no/such/folder/map.html")
    Traceback (most recent call last):
    ...
    coterminus.errors.OutputError: cannot write /no/such/folder/map.html: folder /no/such/folder does not exist; create it first (mkdir -p /no/such/folder) or choose another --out.
    """
    p = Path(path)
    if p.is_symlink():
        real = p.resolve()
        msg = (
            f"cannot write {p}: it is a symbolic link (to {real}); coterminus does not write "
            f"through links. Pass the real path (--out {real}) or remove the link first."
        )
        raise OutputError(msg)
    if p.is_dir():
        first = next(iter(suffixes), "") if suffixes is not None else ""
        example = p / f"output{first}"
        msg = f"cannot write {p}: it is a folder; give a file name inside it, e.g. --out {example}."
        raise OutputError(msg)
    _refuse_special(p)
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if not p.name.lower().endswith(allowed):
            msg = f"cannot write {p}: unknown format {p.suffix or '(no suffix)'!r}; use one of {', '.join(allowed)}."
            raise OutputError(msg)
    folder = p.parent if str(p.parent) else Path()
    if not folder.is_dir():
        blocker = next((a for a in [folder, *folder.parents] if a.exists()), None)
        if blocker is not None and not blocker.is_dir():
            msg = (
                f"cannot write {p}: {blocker} is a file, not a folder; choose another --out (a "
                f"file name in an existing folder)."
            )
            raise OutputError(msg)
        msg = (
            f"cannot write {p}: folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or choose another --out."
        )
        raise OutputError(msg)
    if not os.access(folder, os.W_OK):
        msg = f"cannot write {p}: folder {folder} is read-only; choose another --out."
        raise OutputError(msg)
    return p


#: What a path that exists but is not a regular file or a folder is, by its ``stat`` type.
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_special(p: Path) -> None:
    """Refuse a path that exists and is neither a regular file nor a folder (or a link)."""
    try:
        mode = p.lstat().st_mode
    except OSError:  # absent (or unreadable: the folder checks report it)
        return
    kind = next((what for test, what in _SPECIAL if test(mode)), None)
    if kind is None:
        return
    msg = (
        f"cannot write {p}: it is {kind}, not a regular file; coterminus replaces only regular "
        "files (it would put a file in its place). Choose a file name for --out."
    )
    raise OutputError(msg)


# --- signals --------------------------------------------------------------------------------------
_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_active: set[Path] = set()  # temporary files being written, by any thread
_saved: dict[int, Any] = {}  # signal -> handler before ours
_depth = 0  # nested or concurrent atomic writes
_installed = False  # our handlers are in place (main thread only)
_state_lock = threading.RLock()  # re-entrant: a signal handler may run while it is held


def _remove_active() -> None:
    for tmp in list(_active):
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Delete the temporary files, then behave as the handler we replaced would have."""
    global _installed
    previous = _saved.get(signum, signal.SIG_DFL)
    if callable(previous):
        # e.g. SIGINT's default_int_handler raises KeyboardInterrupt; atomic_path then cleans up
        previous(signum, frame)
        return
    _remove_active()
    with _state_lock:
        for sig, handler in _saved.items():
            signal.signal(sig, handler)
        _saved.clear()
        _installed = False
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    global _depth, _installed
    with _state_lock:
        _depth += 1
        if _installed or threading.current_thread() is not threading.main_thread():
            return
        for sig in _SIGNALS:
            current = signal.getsignal(sig)
            if current in (signal.SIG_IGN, None) or current is _on_signal:
                continue
            _saved[sig] = current
            signal.signal(sig, _on_signal)
        _installed = True


def _uninstall() -> None:
    global _depth, _installed
    with _state_lock:
        _depth = max(_depth - 1, 0)
        if _depth or not _installed or threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in _saved.items():
            if signal.getsignal(sig) is _on_signal:
                signal.signal(sig, handler)
        _saved.clear()
        _installed = False


#: errno values that mean "the output cannot be written here" rather than a bug in the writer.
_WRITE_ERRNOS = {
    code: text
    for code, text in (
        (errno.ENOSPC, "no space left on the device"),
        (getattr(errno, "EDQUOT", None), "disk quota exceeded"),
        (errno.EFBIG, "file too large for the file system"),
        (errno.EROFS, "read-only file system"),
    )
    if code is not None
}


def _output_error(p: Path, exc: BaseException) -> OutputError | None:
    """An :class:`OutputError` for a write failure the user can act on, else ``None``."""
    if isinstance(exc, OutputError):
        return None
    code = getattr(exc, "errno", None)
    if code in _WRITE_ERRNOS:
        reason = _WRITE_ERRNOS[code]
    elif "no space left on device" in str(exc).lower():
        reason = _WRITE_ERRNOS[errno.ENOSPC]
    else:
        return None
    folder = p.parent if str(p.parent) else Path()
    msg = (
        f"cannot write {p}: {reason}; nothing was written. Free space in {folder} or choose "
        "another --out."
    )
    return OutputError(msg)


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
        The path is a folder or a symbolic link, its folder is missing or read-only, the suffix
        is not one of ``suffixes``, the temporary file cannot be created, or the disk filled up
        (or a quota or read-only file system stopped the write) while writing.

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
    _install()
    try:
        try:
            fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".part")
        except OSError as exc:
            msg = f"cannot write {p}: {exc.strerror}; choose another --out."
            raise OutputError(msg) from exc
        os.close(fd)
        tmp = Path(tmp_name)
        _active.add(tmp)
        try:
            yield tmp
            # mkstemp makes the file private (0600); give it the mode a plain open() would
            umask = os.umask(0)
            os.umask(umask)
            tmp.chmod(0o666 & ~umask)
            _refuse_special(p)  # again: a pipe or device may have appeared while writing
            tmp.replace(p)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            better = _output_error(p, exc)
            if better is not None:
                raise better from exc
            raise
        finally:
            _active.discard(tmp)
    finally:
        _uninstall()


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


#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defused(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells (and text index) cannot start a formula.

    A text cell starting with one of :data:`FORMULA_STARTS` gets a leading ``'``, which
    spreadsheets show as text; numeric columns are left as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["=1+2", "Kent", "-x", "@SUM(A1)"], "people": [1, -2, 3, 4]})
    >>> spreadsheet_safe(t).to_dict("list")
    {'name': ["'=1+2", 'Kent', "'-x", "'@SUM(A1)"], 'people': [1, -2, 3, 4]}
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("string", "str")):
            out[col] = out[col].map(_defused)
    if out.index.dtype == object or str(out.index.dtype).startswith(("string", "str")):
        out.index = out.index.map(_defused)
    return out


def atomic_write_csv(
    path: str | os.PathLike[str],
    frame: Any,
    *,
    index: bool = False,
    suffixes: Iterable[str] | None = (".csv",),
) -> Path:
    """Write a DataFrame as a spreadsheet-safe CSV (:func:`spreadsheet_safe`), atomically.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = atomic_write_csv(target, pd.DataFrame({"name": ["=cmd|' /C calc'!A0"]}))
    >>> print(target.read_text().splitlines()[1])
    '=cmd|' /C calc'!A0
    """
    safe = spreadsheet_safe(frame)
    return atomic_write(path, lambda p: safe.to_csv(p, index=index), suffixes=suffixes)
