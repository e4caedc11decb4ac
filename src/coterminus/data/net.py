"""HTTP for the downloaders: fail fast when the network is unreachable, retry only what is transient.

The rules, shared by the ArcGIS pager (:mod:`.arcgis`) and plain-file downloads (:mod:`.download`):

- **Unreachable** (the host name does not resolve, the connection is refused, the network is
  down): :class:`UnreachableError` at once, never retried. A whole ``fetch(vintage=...)`` stops at
  the first one, since every other dataset would fail the same way.
- **Transient** (HTTP 429 and 5xx, an ArcGIS error body with a code >= 500, a connection reset or
  dropped mid-body, a body shorter than its ``Content-Length``): retried ``retries`` times, waiting
  ``BACKOFF_SECONDS`` × 1, 2, 4, ..., or as long as a 429/503 asks (``Retry-After``).
- **Anything else** (HTTP 4xx, an ArcGIS error body with a 4xx code, no answer within ``timeout``,
  a TLS failure): :class:`DownloadError` (:class:`ServiceError` when the server answered but
  refused the request), not retried.
- Every read waits at most ``timeout`` seconds, and each file has an overall :class:`Deadline`
  too, so a server that drip-feeds bytes cannot hold a download open for ever.

Examples
--------
>>> deadline = Deadline(30.0)
>>> 0 < deadline.remaining() <= 30
True
>>> host_of("https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services?f=json")
'services1.arcgis.com'
"""

from __future__ import annotations

import errno
import http.client
import io
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

from ..errors import DownloadError, ParameterError

__all__ = [
    "BACKOFF_SECONDS",
    "Deadline",
    "ServiceError",
    "UnreachableError",
    "get_json",
    "retrying",
    "stream",
]

logger = logging.getLogger("coterminus.data")

BACKOFF_SECONDS = 1.0
"""First wait before a retry, in seconds; it doubles with each further retry."""
MAX_RETRY_AFTER = 300.0
"""Longest ``Retry-After`` (seconds) honoured; the file's deadline still applies."""
CHUNK = 1 << 16
NETWORK_FIX = (
    "Fix: connect to the internet (behind a proxy, set HTTPS_PROXY) and run the command again."
)
REFUSED_FIX = (
    "Fix: check the address (--base-url or COTERMINUS_ONS_BASE_URL) and any firewall or proxy "
    "(HTTPS_PROXY), then run the command again."
)
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}

T = TypeVar("T")


class UnreachableError(DownloadError):
    """The server cannot be reached at all: no name resolution, connection refused, no route.

    Never retried; ``fetch(vintage=...)`` stops at the first one.

    Examples
    --------
    >>> from coterminus.errors import DownloadError
    >>> issubclass(UnreachableError, DownloadError)
    True
    """

    def __init__(self, message: str, *, host: str, reason: str, fix: str = NETWORK_FIX) -> None:
        super().__init__(message)
        self.host = host
        self.reason = reason
        self.fix = fix


class ServiceError(DownloadError):
    """The server answered but refused the request (HTTP 4xx, or an ArcGIS 4xx error body).

    Examples
    --------
    >>> ServiceError("Invalid URL", code=400).code
    400
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class _Transient(Exception):
    """A failure worth retrying: 429/5xx, a reset or dropped connection, a truncated body.

    ``retry_after`` is the wait the server asked for (HTTP ``Retry-After`` in seconds), if any.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Deadline:
    """An overall time limit for one file (all its requests, retries and reads).

    Parameters
    ----------
    seconds : float
        Time allowed from now.

    Examples
    --------
    >>> Deadline(0.0).check("download x")
    Traceback (most recent call last):
    ...
    coterminus.errors.DownloadError: Could not download x: it did not finish within 0 s, the ...
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._end - time.monotonic()

    def check(self, what: str) -> None:
        """Raise :class:`DownloadError` once the deadline has passed."""
        if self.remaining() <= 0:
            msg = (
                f"Could not {what}: it did not finish within {self.seconds:g} s, the deadline "
                "for one file (the server is sending too slowly). Nothing was saved. Fix: try "
                "again later, or allow more time with --deadline (deadline= in Python)."
            )
            raise DownloadError(msg)


def check_args(timeout: float, retries: int, deadline: float) -> None:
    """One :class:`ParameterError` listing every bad ``timeout``, ``retries``, ``deadline``."""
    problems = []
    if not (isinstance(timeout, int | float) and timeout > 0):
        problems.append(f"timeout={timeout!r} must be a positive number of seconds")
    if not (isinstance(retries, int) and retries >= 0):
        problems.append(f"retries={retries!r} must be a whole number >= 0")
    if not (isinstance(deadline, int | float) and deadline > 0):
        problems.append(f"deadline={deadline!r} must be a positive number of seconds")
    if problems:
        msg = "; ".join(problems) + "."
        raise ParameterError(msg)


def host_of(url: str) -> str:
    """The host name of ``url``."""
    return urllib.parse.urlsplit(url).hostname or url


def user_agent() -> str:
    """``coterminus/<version> (...)``, sent with every request."""
    try:
        version = metadata.version("coterminus")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"coterminus/{version} (Python urllib; NHS/council coterminosity checks)"


def _unreachable(url: str, reason: str, fix: str = NETWORK_FIX) -> UnreachableError:
    host = host_of(url)
    msg = f"Cannot reach {host}: {reason}. Nothing was downloaded or saved. {fix}"
    return UnreachableError(msg, host=host, reason=reason, fix=fix)


def _classify(exc: BaseException, url: str, timeout: float) -> Exception:
    """Map a network exception to UnreachableError, _Transient or DownloadError."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return _unreachable(url, "its name does not resolve (no network, or no DNS)")
    if isinstance(reason, ConnectionRefusedError):
        return _unreachable(url, "the connection was refused", REFUSED_FIX)
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS:
        return _unreachable(url, f"no route to it ({reason.strerror or reason})")
    if isinstance(reason, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return _Transient(f"the connection was reset ({reason})")
    if isinstance(reason, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return _Transient(f"the server closed the connection early ({type(reason).__name__})")
    if isinstance(reason, TimeoutError | socket.timeout):
        msg = (
            f"Could not download from {host_of(url)}: no answer within {timeout:g} s (timed out). "
            "Nothing was saved. Fix: try again later, or allow longer reads with --timeout."
        )
        return DownloadError(msg)
    if isinstance(reason, ssl.SSLError):
        msg = (
            f"Could not download from {host_of(url)}: the secure connection failed ({reason}). "
            "Nothing was saved. Fix: if a proxy inspects HTTPS, point SSL_CERT_FILE at its "
            "certificate bundle."
        )
        return DownloadError(msg)
    msg = f"Could not download {url}: {type(reason).__name__}: {reason}. Nothing was saved."
    return DownloadError(msg)


def open_url(url: str, timeout: float, deadline: Deadline) -> http.client.HTTPResponse:
    """GET ``url``; the socket waits at most ``min(timeout, time left before the deadline)``."""
    deadline.check(f"download {url}")
    wait = max(min(timeout, deadline.remaining()), 0.001)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent(), "Accept": "*/*"})
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=wait)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code == 429:
            msg = f"HTTP {exc.code} {exc.reason}"
            after = exc.headers.get("Retry-After", "") if exc.headers else ""
            asked = min(float(after), MAX_RETRY_AFTER) if after.strip().isdigit() else None
            raise _Transient(msg, retry_after=asked) from exc
        msg = (
            f"HTTP {exc.code} {exc.reason} for {url}. The address is wrong or ONS moved the "
            "dataset. Nothing was saved. Fix: check --base-url and the dataset's entry in "
            "registry.json."
        )
        raise ServiceError(msg, code=exc.code) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _classify(exc, url, wait) from exc
    return response


def stream(
    url: str,
    sink: Callable[[bytes], object],
    *,
    timeout: float,
    deadline: Deadline,
    progress: Callable[[int, int | None], object] | None = None,
) -> int:
    """Copy the body of ``url`` to ``sink``; return the number of bytes.

    Reads what has arrived (``read1``) and checks the deadline between reads, so a server that
    drip-feeds bytes hits the deadline. ``progress(n, total)`` is told about every chunk.
    """
    response = open_url(url, timeout, deadline)
    header = response.headers.get("Content-Length")
    expected = int(header) if header and header.isdigit() else None
    received = 0
    try:
        while True:
            deadline.check(f"download {url}")
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            sink(chunk)
            received += len(chunk)
            if progress is not None:
                progress(len(chunk), expected)
    except (OSError, http.client.HTTPException) as exc:
        problem = _classify(exc, url, timeout)
        if isinstance(problem, _Transient):
            msg = f"the connection broke mid-body ({problem})"
            raise _Transient(msg) from exc
        raise problem from exc
    finally:
        response.close()
    if expected is not None and received != expected:
        msg = f"truncated body: received {received} of {expected} bytes (Content-Length)"
        raise _Transient(msg)
    return received


def retrying(
    action: Callable[[], T], *, retries: int, what: str, url: str, deadline: Deadline
) -> T:
    """Run ``action``, retrying :class:`_Transient` failures only, within the deadline."""
    last: _Transient | None = None
    for attempt in range(retries + 1):
        try:
            return action()
        except _Transient as exc:
            last = exc
            delay = max(BACKOFF_SECONDS * 2**attempt, exc.retry_after or 0.0)
            if attempt == retries or delay >= deadline.remaining():
                break
            logger.warning("%s: %s; retry %d of %d in %g s", what, exc, attempt + 1, retries, delay)
            time.sleep(delay)
    msg = (
        f"Could not {what}: {last} ({attempt + 1} attempt(s), URL {url}). Nothing was saved. "
        "Fix: try again later (the ONS server had a temporary fault)."
    )
    raise DownloadError(msg) from last


def get_json(
    url: str, *, timeout: float, retries: int, deadline: Deadline, what: str
) -> dict[str, Any]:
    """GET ``url`` and parse a JSON object; an ArcGIS ``{"error": ...}`` body fails even with 200.

    Raises
    ------
    UnreachableError, ServiceError, DownloadError
        See the module docstring.
    """

    def attempt() -> dict[str, Any]:
        buffer = io.BytesIO()
        stream(url, buffer.write, timeout=timeout, deadline=deadline)
        body = buffer.getvalue()
        try:
            data = json.loads(body)
        except ValueError:
            msg = (
                f"Could not {what}: {url} did not return JSON (it starts {body[:80]!r}). "
                "Nothing was saved. Fix: a proxy or login page may be in the way; check "
                "--base-url and HTTPS_PROXY."
            )
            raise DownloadError(msg) from None
        if not isinstance(data, dict):
            msg = f"Could not {what}: {url} returned JSON that is not an object."
            raise DownloadError(msg)
        if "error" in data:
            err = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
            code = err.get("code")
            text = f"error {code}: {err.get('message', '')}"
            details = err.get("details")
            if details:
                text += f" ({'; '.join(map(str, details))})"
            if isinstance(code, int) and code >= 500:
                transient = f"the server answered with an error body, {text}"
                raise _Transient(transient)
            msg = (
                f"Could not {what}: the server answered HTTP 200 with an error body, {text} "
                f"(URL {url}). Nothing was saved. Fix: the service name or query is no longer "
                "valid; check the dataset's entry in registry.json."
            )
            raise ServiceError(msg, code=code if isinstance(code, int) else None)
        return data

    return retrying(attempt, retries=retries, what=what, url=url, deadline=deadline)
