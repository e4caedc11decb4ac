"""Plain-file downloads (ONS workbooks, zips) through :func:`pooch.retrieve`.

pooch does the temporary file in the cache, the SHA-256 check and the move into place; the
downloader handed to it is ours, so the network rules of :mod:`.net` apply (overall deadline,
retries of transient failures only, the length checked against ``Content-Length``).

Examples
--------
>>> from coterminus.data.files import fetch_url
>>> fetch_url("https://www.ons.gov.uk/file?uri=/x/file.zip", filename="file.zip")  # doctest: +SKIP
PosixPath('/home/me/.cache/coterminus/downloads/file.zip')
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pooch

from ..errors import ArchiveError, ChecksumError, CoterminusError, ParameterError
from . import cache, net
from .integrity import zip_members
from .store import progress_bar, write_source

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "fetch_url"]

logger = logging.getLogger("coterminus.data")

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_DEADLINE = 900.0
STAGING_PREFIX = ".incoming-"


def _check_zip(path: Path, url: str) -> None:
    try:
        zip_members(path)
    except ArchiveError as exc:
        msg = (
            f"The file downloaded from {url} failed its archive check: {exc} It was deleted. "
            "Fix: try again, or download it by hand and put it in the data directory."
        )
        raise ArchiveError(msg) from exc


def fetch_url(
    url: str,
    *,
    filename: str,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float = DEFAULT_DEADLINE,
) -> Path:
    """Download a plain file into the cache with :func:`pooch.retrieve`, and check it.

    pooch streams the body to a temporary file in the cache and checks its SHA-256; the
    downloader is ours (:mod:`.net`: deadline, retries of transient failures only, length checked
    against ``Content-Length``). Zip archives are then tested, and only then is the file renamed
    to ``<cache>/downloads/<filename>``.

    Parameters
    ----------
    url : str
    filename : str
        Bare file name inside the cache's ``downloads/`` folder.
    sha256 : str, optional
        Expected SHA-256 (hex). Without it the computed hash is recorded in the ``.source.json``
        so it can be pinned.
    progress : bool, default True
        Show a tqdm progress bar when stderr is a terminal.
    timeout : float, default 60
        Seconds to wait for the connection or for more bytes.
    retries : int, default 3
        Extra attempts after HTTP 429/5xx, resets and truncated bodies (1, 2, 4 s apart).
    deadline : float, default 900
        Seconds allowed for the whole file, retries included.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    UnreachableError
        The host name does not resolve, or the connection is refused; not retried.
    DownloadError
        HTTP error, no answer, deadline passed, or a truncated body after every retry.
    ChecksumError
        The SHA-256 differs; the download was deleted.
    ArchiveError
        A ``.zip`` download is not a readable archive; it was deleted.
    CacheError
        The cache directory is not writable.

    Examples
    --------
    >>> fetch_url("https://www.ons.gov.uk/file?uri=/x/file.zip", filename="file.zip")  # doctest: +SKIP
    PosixPath('/home/me/.cache/coterminus/downloads/file.zip')
    """
    net.check_args(timeout, retries, deadline)
    if Path(filename).name != filename or filename in ("", ".", ".."):
        msg = f"filename={filename!r} must be a bare file name such as 'data.zip'."
        raise ParameterError(msg)
    folder = cache.downloads_dir()
    if not folder.is_dir():
        raise cache.cache_error(cache.cache_root(), f"folder {folder} is missing or read-only")
    dest = folder / filename
    limit = net.Deadline(deadline)
    digest: dict[str, str] = {}

    def downloader(url: str, output_file: str, _pooch: object, check_only: bool = False) -> None:
        def attempt() -> None:
            hasher = hashlib.sha256()
            with (
                open(output_file, "wb") as handle,
                progress_bar(progress, None, filename, "B") as bar,
            ):

                def sink(chunk: bytes) -> None:
                    handle.write(chunk)
                    hasher.update(chunk)

                def tick(n: int, total: int | None) -> None:
                    bar.total = total
                    bar.update(n)

                net.stream(url, sink, timeout=timeout, deadline=limit, progress=tick)
            digest["sha256"] = hasher.hexdigest()

        net.retrying(attempt, retries=retries, what=f"download {filename}", url=url, deadline=limit)

    _sweep_stale_staging(folder)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    pooch_log = pooch.get_logger()
    level = pooch_log.level
    pooch_log.setLevel(logging.WARNING)
    try:
        try:
            got = pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256.lower()}" if sha256 else None,
                fname=filename,
                path=staging,
                downloader=downloader,
                progressbar=False,
            )
        except ValueError as exc:  # pooch: the hash does not match
            msg = (
                f"The file downloaded from {url} has SHA-256 {digest.get('sha256', '?')}, but "
                f"{(sha256 or '').lower()} was expected. The download was deleted and nothing was "
                f"written to {dest}. Fix: retry; if it persists, check the file on the ONS site "
                "before updating the sha256 in registry.json."
            )
            raise ChecksumError(msg) from exc
        if filename.lower().endswith(".zip"):
            _check_zip(Path(got), url)
        staged = Path(got)
        staged.chmod(0o666 & ~_umask())
        staged.replace(dest)
    except OSError as exc:
        if isinstance(exc, CoterminusError):
            raise
        raise cache.cache_error(cache.cache_root(), str(exc.strerror or exc)) from exc
    finally:
        pooch_log.setLevel(level)
        shutil.rmtree(staging, ignore_errors=True)
    write_source(dest, {"url": url, "sha256": digest.get("sha256"), "pinned": bool(sha256)})
    logger.info("downloaded %s to %s", url, dest)
    return dest


def _sweep_stale_staging(folder: Path, age: float = 3600.0) -> None:
    """Delete staging folders left by a download killed over an hour ago (e.g. SIGKILL)."""
    now = time.time()
    for stale in folder.glob(f"{STAGING_PREFIX}*"):
        try:
            if now - stale.stat().st_mtime > age:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            continue


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
