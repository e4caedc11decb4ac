"""Integrity on load: pinned SHA-256 checks, ``trust_modified`` and its stamp; intact zip archives.

Every data file whose SHA-256 is pinned (registry, manifest, embedded data) is hashed the first
time it is read in a process and compared with the pin. Hashes are memoised by the file's
``stat`` (path, inode, size, mtime_ns, ctime_ns), so a second load of the same file costs one
``stat``; a file that is replaced or edited is hashed again.

A mismatch is a :class:`~coterminus.errors.ModifiedFileError` (a
:class:`~coterminus.errors.ChecksumError`) naming the file, both hashes and the fix. A user who
edited a file on purpose passes ``trust_modified=True`` to ``coterminus.load`` (CLI
``--trust-modified``). There is no process-wide switch: the setting and the files used despite
their pin live in an :class:`Integrity` record that the loaded ``Geography`` carries (and its
results after it); files are checked inside :func:`checking` with that record, and
:func:`trust_stamp` turns it into the sentence every output must carry, so that no figure built
on edited data passes for ONS's. The environment variable :data:`ENV_TRUST_MODIFIED` gives the
default of ``trust_modified`` when it is not passed.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
>>> _ = p.write_text("LSOA11CD,ALL_AGES\\nE01000001,1636\\n")
>>> pin = file_sha256(p)
>>> verify_file(p, pin) == pin
True
>>> block_digest(["E01000002", "E01000001"]) == block_digest(["E01000001", "E01000002"])
True
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import ArchiveError, ModifiedFileError

__all__ = [
    "ENV_TRUST_MODIFIED",
    "Integrity",
    "block_digest",
    "checking",
    "file_sha256",
    "reset",
    "trust_modified",
    "trust_stamp",
    "verify_file",
    "verify_unrecorded",
    "zip_members",
]

log = logging.getLogger(__name__)

#: Environment variable that switches ``trust_modified`` on for a whole process (``1``/``true``).
ENV_TRUST_MODIFIED = "COTERMINUS_TRUST_MODIFIED"

_lock = threading.Lock()
# (resolved path, device, inode, size, mtime_ns, ctime_ns) -> sha256 hex: a cache of facts about
# files, not a setting (the same file always hashes the same)
_hashes: dict[tuple[str, int, int, int, int, int], str] = {}


@dataclass
class Integrity:
    """Whether modified pinned files are used, and which were: one per loaded geography.

    Attributes
    ----------
    trust_modified : bool
        Use pinned files whose SHA-256 differs from the pin (and say so), instead of refusing.
    modified : dict of str to (str, str)
        The files used although they differ: ``{resolved path: (pinned, found)}``.

    Examples
    --------
    >>> record = Integrity(trust_modified=True)
    >>> record.modified["/data/pop.csv"] = ("a" * 64, "b" * 64)
    >>> trust_stamp(record)[:60]
    'MODIFIED DATA: 1 input file differs from the published ONS f'
    """

    trust_modified: bool = False
    modified: dict[str, tuple[str, str]] = field(default_factory=dict)


_current: ContextVar[Integrity | None] = ContextVar("coterminus_integrity", default=None)


def _stat_key(path: Path) -> tuple[str, int, int, int, int, int]:
    resolved = path.resolve()
    st = resolved.stat()
    return str(resolved), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, memoised by ``(resolved path, size, mtime_ns)``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
        64 lower-case hex digits.

    Notes
    -----
    The file is read in 1 MiB chunks. The memo is keyed on the ``stat`` of the file (device,
    inode, size, modification and change times in ns), so replacing the file or editing it is
    seen; the one blind spot is an in-place edit that keeps the size within one tick of the file
    system's clock (a few ms) of the previous hash, or one that resets both times on purpose.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    p = Path(path)
    key = _stat_key(p)
    with _lock:
        known = _hashes.get(key)
    if known is not None:
        return known
    hasher = hashlib.sha256()
    with open(key[0], "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    digest = hasher.hexdigest()
    with _lock:
        _hashes[key] = digest
    return digest


def trust_modified() -> bool:
    """The default of ``trust_modified`` when it is not passed: :data:`ENV_TRUST_MODIFIED`.

    Examples
    --------
    >>> trust_modified()
    False
    """
    return os.environ.get(ENV_TRUST_MODIFIED, "").strip().lower() in ("1", "true", "yes", "on")


@contextmanager
def checking(record: Integrity) -> Iterator[Integrity]:
    """Check the files read in this ``with`` block under ``record`` (and record mismatches in it).

    Used by ``coterminus.load`` and by a geography's lazy reads (polygons), each with the
    geography's own record, so two geographies loaded with different settings never mix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = p.write_text("x")
    >>> with checking(Integrity(trust_modified=True)) as record:
    ...     _ = verify_file(p, "0" * 64)
    >>> list(record.modified.values())[0][0] == "0" * 64
    True
    """
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def _fix(dataset: str | None) -> str:
    fetch = f"coterminus data fetch {dataset}" if dataset else "coterminus data fetch"
    return (
        f"Restore the published file (`{fetch}`, or copy it again from the ONS download), or, "
        "if you edited it on purpose, pass trust_modified=True (CLI: --trust-modified); every "
        "output will then say that modified data was used."
    )


def verify_file(
    path: str | os.PathLike[str],
    expected: str | None,
    *,
    dataset: str | None = None,
    trust: bool | None = None,
    what: str = "the published file's",
    fix: str | None = None,
) -> str | None:
    """Check a file against its pinned SHA-256 (cheap after the first call in a process).

    Parameters
    ----------
    path : str or path-like
        The file as it will be read.
    expected : str or None
        The pinned SHA-256 (hex, any case). ``None`` means "not pinned": nothing is checked and
        nothing is hashed.
    dataset : str, optional
        Registry id of the file (e.g. ``"lsoa-population-mid2019"``), named in the fix.
    trust : bool, optional
        Overrides the setting for this call (by default the :class:`Integrity` record of the
        enclosing :func:`checking` block, else :func:`trust_modified`).
    what : str, default "the published file's"
        Whose SHA-256 ``expected`` is, in the message (``"the one recorded at download"``).
    fix : str, optional
        The fix the message ends with (default: restore the published file, or trust it).

    Returns
    -------
    str or None
        The SHA-256 found (``None`` when ``expected`` is ``None``).

    Raises
    ------
    ModifiedFileError
        The file's SHA-256 differs from ``expected`` and modified files are not trusted. The
        message names the file, both hashes, and the fix.

    Notes
    -----
    A trusted mismatch is recorded in the :class:`Integrity` record of the enclosing
    :func:`checking` block (which :func:`trust_stamp` turns into the outputs' stamp) and logged
    at WARNING level; it is not a Python warning, because the stamp on the output is the durable
    record.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = p.write_text("x")
    >>> verify_file(p, "0" * 64, dataset="lsoa-population-mid2019")
    Traceback (most recent call last):
    ...
    coterminus.errors.ModifiedFileError: pop.csv has been modified: its SHA-256 is 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 but the published file's is 0000000000000000000000000000000000000000000000000000000000000000 (...pop.csv). Restore the published file (`coterminus data fetch lsoa-population-mid2019`, ...
    >>> verify_file(p, "0" * 64, trust=True)[:12]
    '2d711642b726'
    >>> reset()
    """
    if expected is None:
        return None
    p = Path(path)
    found = file_sha256(p)
    want = expected.strip().lower()
    if found == want:
        return found
    refusal = (
        f"{p.name} has been modified: its SHA-256 is {found} but {what} is "
        f"{want} ({p.resolve()}). {fix or _fix(dataset)}"
    )
    return _use_if_trusted(p, want, found, refusal, trust)


def verify_unrecorded(path: str | os.PathLike[str], *, fix: str) -> str:
    """Refuse a file that should carry a recorded SHA-256 but carries none, unless trusted.

    A download without the SHA-256 recorded beside it (an older download, or a file copied
    into the download cache by hand) cannot be checked. With ``trust_modified`` it is used and
    recorded like a modified file (the stamp names it, "recorded: none").

    Raises
    ------
    ModifiedFileError
        Modified files are not trusted; the message names the file and ``fix``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lu.csv"
    >>> _ = p.write_text("x")
    >>> verify_unrecorded(p, fix="Download it again.")
    Traceback (most recent call last):
    ...
    coterminus.errors.ModifiedFileError: lu.csv has no SHA-256 recorded when it was downloaded (...lu.csv), so its bytes cannot be checked. Download it again.
    >>> with checking(Integrity(trust_modified=True)) as record:
    ...     verify_unrecorded(p, fix="")[:12]
    '2d711642b726'
    >>> list(record.modified.values())[0][0]
    'none'
    """
    p = Path(path)
    found = file_sha256(p)
    refusal = (
        f"{p.name} has no SHA-256 recorded when it was downloaded ({p.resolve()}), so its "
        f"bytes cannot be checked. {fix}"
    )
    return _use_if_trusted(p, "none", found, refusal, None)


def _use_if_trusted(p: Path, pinned: str, found: str, refusal: str, trust: bool | None) -> str:
    """Refuse a file that does not match ``pinned`` (with ``refusal``) unless modified files are
    trusted (``trust``, else the enclosing :func:`checking` record, else the environment); a
    trusted one is recorded in that record and logged."""
    record = _current.get()
    if trust is not None:
        allowed = trust
    else:
        allowed = record.trust_modified if record is not None else trust_modified()
    if not allowed:
        raise ModifiedFileError(refusal)
    if record is not None:
        record.modified[str(p.resolve())] = (pinned, found)
    log.warning("using modified %s (sha256 %s, pinned %s): trust_modified is on", p, found, pinned)
    return found


def trust_stamp(record: Integrity | None) -> str | None:
    """The sentence every output carries when ``trust_modified`` was used, else ``None``.

    Parameters
    ----------
    record : Integrity or None
        A geography's record (``geo.integrity``).

    Returns
    -------
    str or None
        ``None`` when no modified file was used and ``trust_modified`` is off. With modified
        files: names them and both hashes (first 12 hex digits). With the switch on but every
        file matching its pin: says so, since the run did not enforce the pins.

    Examples
    --------
    >>> trust_stamp(Integrity()) is None
    True
    >>> print(trust_stamp(Integrity(trust_modified=True)))
    Data integrity: run with --trust-modified (trust_modified=True); every pinned file read matched its published SHA-256.
    """
    if record is None:
        return None
    modified = dict(record.modified)
    if not modified:
        if not record.trust_modified:
            return None
        return (
            "Data integrity: run with --trust-modified (trust_modified=True); every pinned "
            "file read matched its published SHA-256."
        )
    listing = "; ".join(
        f"{Path(p).name} (published {e[:12]}…, used {f[:12]}…)"
        for p, (e, f) in sorted(modified.items())
    )
    n = len(modified)
    return (
        f"MODIFIED DATA: {n} input file{'s' if n > 1 else ''} differ{'s' if n == 1 else ''} from "
        f"the published ONS file{'s' if n > 1 else ''} and {'were' if n > 1 else 'was'} used "
        f"because of --trust-modified: {listing}. Figures may not match ONS data."
    )


def reset() -> None:
    """Forget memoised hashes (for tests).

    Examples
    --------
    >>> reset()
    """
    with _lock:
        _hashes.clear()


def block_digest(codes: Iterable[str]) -> str:
    """SHA-256 of the sorted, newline-joined building-block codes: a vintage's fingerprint.

    Parameters
    ----------
    codes : iterable of str
        LSOA codes (order and duplicates matter only through sorting: duplicates are kept, so a
        repeated code changes the digest).

    Returns
    -------
    str
        ``sha256("\\n".join(sorted(codes)).encode("utf-8")).hexdigest()``; no trailing newline.

    Notes
    -----
    Completeness of a built-in vintage is checked by comparing the count and this digest of
    the LSOAs in the lookup and in the population file with the known universe; a mismatch is
    then explained by naming the missing and extra codes.

    Examples
    --------
    >>> block_digest(["E01000002", "E01000001"])
    'd8a5d08c654b4785710833610a9c874dd11b4a5324365ddde0af3dabe8fafb8e'
    >>> import hashlib
    >>> hashlib.sha256(b"E01000001\\nE01000002").hexdigest() == block_digest(["E01000001", "E01000002"])
    True
    """
    text = "\n".join(sorted(str(c) for c in codes))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def zip_members(path: str | os.PathLike[str]) -> list[str]:
    """The members of a zip archive, after checking it is intact and safe to read.

    Intact: every member passes its CRC check. Safe: no member path is absolute or climbs out
    of the target folder (``..``, zip-slip).

    Raises
    ------
    ArchiveError
        Not a readable zip (corrupt or truncated), a member failing its CRC, or an unsafe
        member path; the message says to download the file again.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.zip"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("ccg.shp", b"x")
    >>> zip_members(p)
    ['ccg.shp']
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("../evil.shp", b"x")
    >>> zip_members(p)
    Traceback (most recent call last):
    ...
    coterminus.errors.ArchiveError: ...zip-slip...
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        msg = (
            f"{path} is not a readable zip archive ({exc}); it is corrupt or truncated. "
            "Download it again (coterminus data fetch) or check the file size."
        )
        raise ArchiveError(msg) from exc
    if bad is not None:
        msg = (
            f"{path}: member {bad!r} fails its CRC check; the archive is corrupt. "
            "Download it again."
        )
        raise ArchiveError(msg)
    unsafe = [
        n
        for n in names
        if PurePosixPath(n).is_absolute() or ".." in PurePosixPath(n.replace("\\", "/")).parts
    ]
    if unsafe:
        msg = (
            f"{path}: member path(s) {unsafe[:5]} would escape the target folder (zip-slip); "
            "refusing to read this archive. Obtain the file from ONS again."
        )
        raise ArchiveError(msg)
    return names
