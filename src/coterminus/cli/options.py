"""Options every ``coterminus`` command shares, the help layout and the one-line error.

The command modules (``systems``, ``assess``, ``diff``, ``doctor``, ``data``, ``mergers``,
``maps``) declare their options through :func:`add_common`, :func:`add_footprint`,
:func:`add_levels` and :func:`add_tolerance`, so names, defaults and help texts are the same
everywhere. A handler raises :class:`UsageError` for options that parse but do not go together;
:func:`coterminus.cli.call` prints every error with :func:`print_error`, as one line
``coterminus COMMAND: error: MESSAGE`` on stderr. This module is light (argparse and the list of
built-in vintages), so every command module imports it at the top.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="coterminus assess")
>>> add_common(p)
>>> add_footprint(p, measure=True)
>>> args = p.parse_args(["--system", "E54000018", "--json"])
>>> args.vintage, args.data_dir, args.json, args.system, args.ccgs, args.tolerance, args.measure
(2026, None, True, 'E54000018', None, None, 'population')
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NoReturn

from coterminus.data.manifest import builtin_vintages, newest_vintage
from coterminus.errors import CoterminusError, SchedulerError

__all__ = [
    "TIER_HELP",
    "HelpFormatter",
    "Parser",
    "UsageError",
    "add_ccgs",
    "add_common",
    "add_footprint",
    "add_levels",
    "add_system",
    "add_tolerance",
    "available_cores",
    "builtin_years",
    "cap_at_cores",
    "command_name",
    "connect_scheduler",
    "example_epilog",
    "exclusive",
    "number",
    "print_error",
    "scheduler_arg",
    "vintage_arg",
]

CCGS_HELP = (
    "the footprint's members: codes, NHS codes or names of units of one level (CCGs, sub-ICB "
    "locations, ICBs, councils or scenario areas; --codes is the same option)"
)
SYSTEM_HELP = (
    "every unit of this group: an STP/ICS, ICB, NHS region, county... (name or code); the "
    "members are the finest level it groups, or --units"
)
TIER_HELP = (
    "headline level of the verdict, e.g. utla (upper tier: counties and unitary authorities), "
    "ltla (lower tier) or cauth (combined authorities) (default: the first --against level)"
)


def builtin_years() -> str:
    """The built-in vintages, as listed by their manifests (``"2019, 2020, ..."``)."""
    return ", ".join(map(str, builtin_vintages()))


def vintage_arg(text: str) -> int | str:
    """``--vintage``: a year (a built-in vintage) or the path of a manifest file.

    Examples
    --------
    >>> vintage_arg("2024"), vintage_arg("my-vintage.toml")
    (2024, 'my-vintage.toml')
    """
    s = str(text).strip()
    return int(s) if s.isdigit() else s


class UsageError(CoterminusError, ValueError):
    """Options that parse but do not make sense together (exit code 2, like argparse's own)."""


class Parser(argparse.ArgumentParser):
    """The parser of ``coterminus`` and its commands: a usage error is one line on stderr.

    ``coterminus COMMAND: error: MESSAGE (see coterminus COMMAND --help)`` and exit code 2, like
    every other error of the command line, instead of argparse's usage block and error line.

    Examples
    --------
    >>> import contextlib, io
    >>> p = Parser(prog="coterminus assess")
    >>> _ = p.add_argument("--tolerance", type=float)
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
    ...     p.parse_args(["--tolerance", "x"])
    >>> err.getvalue()
    "coterminus assess: error: argument --tolerance: invalid float value: 'x' (see coterminus assess --help)\\n"
    """

    def error(self, message: str) -> NoReturn:
        """Print the one-line error and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Wrap paragraphs of a description or epilog, but keep indented lines (examples) as written.

    Examples
    --------
    >>> p = argparse.ArgumentParser(
    ...     prog="coterminus x", formatter_class=HelpFormatter,
    ...     epilog="example:\\n  coterminus x --vintage 2019 --json",
    ... )
    >>> p.format_help().splitlines()[-2:]
    ['example:', '  coterminus x --vintage 2019 --json']
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.strip("\n").split("\n\n"):
            lines = block.splitlines()
            if any(line.startswith(" ") for line in lines):
                blocks.append("\n".join(indent + line for line in lines))
            else:
                blocks.append(super()._fill_text(block, width, indent))
        return "\n\n".join(blocks)


def example_epilog(*commands: str) -> str:
    """The epilog every command's help ends with: its worked example(s), one per line.

    Examples
    --------
    >>> print(example_epilog("coterminus systems --vintage 2019"))
    example:
      coterminus systems --vintage 2019
    """
    head = "example:" if len(commands) == 1 else "examples:"
    return "\n".join([head, *(f"  {c}" for c in commands)])


def add_common(
    p: argparse.ArgumentParser,
    *,
    vintage: Literal["geography", "datasets"] | None = "geography",
    json: bool = True,
    out: str | None = None,
    out_required: bool = False,
) -> None:
    """Add ``--vintage``, ``--data-dir``, ``--json`` and ``--out`` as a subcommand uses them.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser.
    vintage : {"geography", "datasets"} or None
        ``"geography"``: the vintage to load (default the newest built-in one); ``"datasets"``: only the datasets of
        that vintage (default all); None: no ``--vintage``.
    json : bool
        Add ``--json``.
    out : str, optional
        Help text of ``--out`` (what is written there); without it no ``--out``.
    out_required : bool
        ``--out`` must be given.
    """
    years = builtin_years()
    if vintage == "geography":
        p.add_argument(
            "--vintage",
            type=vintage_arg,
            default=newest_vintage(),
            metavar="YEAR|FILE",
            help=f"geography vintage: a built-in year ({years}) or the path of a manifest file "
            "(coterminus data manifest YEAR prints one to start from) (default "
            f"{newest_vintage()}, the newest built-in one)",
        )
        p.add_argument(
            "--scenario",
            metavar="CSV",
            default=None,
            help="add proposed areas as a level: a named scenario (coterminus scenarios lists "
            "them, e.g. icb-clusters-2027) or a CSV of member,area[,area_name] rows (whole units "
            "such as ICB or LTLA codes, or LSOA codes) (default: none)",
        )
        p.add_argument(
            "--scenario-name",
            default=None,
            metavar="NAME",
            help="level name of the --scenario areas (default: the named scenario's, e.g. "
            "icb_2027; for a CSV, scenario)",
        )
        p.add_argument(
            "--scenario-side",
            choices=["nhs", "council"],
            default=None,
            help="side of the --scenario areas (default: the side of their members; council "
            "for LSOAs)",
        )
        p.add_argument(
            "--partial",
            action="store_true",
            help="the --scenario may cover part of a group (default: every unit sharing a "
            "parent with a member must be assigned)",
        )
    elif vintage == "datasets":
        p.add_argument(
            "--vintage",
            type=int,
            default=None,
            metavar="YEAR",
            help=f"only the datasets of analysis vintage YEAR ({years}; default all)",
        )
    if vintage == "geography":
        p.add_argument(
            "--trust-modified",
            action="store_true",
            help="use data files whose SHA-256 differs from the published one (deliberate "
            "edits); every output then says so (default: refuse them)",
        )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder laid out like ../shared/data "
        "(default: $COTERMINUS_DATA_DIR, then the download cache)",
    )
    if json:
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
    if out is not None:
        p.add_argument("--out", required=out_required, metavar="FILE", help=out)


def add_ccgs(container: Any, *, help_text: str = CCGS_HELP) -> None:
    """Add ``--ccgs/--codes CODE [CODE ...]`` to a parser or argument group."""
    container.add_argument(
        "--ccgs", "--codes", dest="ccgs", nargs="+", metavar="CODE", help=help_text
    )


def add_levels(
    p: argparse.ArgumentParser, *, units: bool = True, against: bool = True, within: bool = True
) -> None:
    """Add ``--units``, ``--against`` and ``--within`` (level names or words for them)."""
    if units:
        p.add_argument(
            "--units",
            default=None,
            metavar="LEVEL",
            help="level of the footprint's members, e.g. ccg, sicbl, icb, ltla or a scenario "
            "name (default: the level their codes belong to)",
        )
    if against:
        p.add_argument(
            "--against",
            nargs="+",
            default=None,
            metavar="LEVEL",
            help="levels to assess against, e.g. utla ltla cauth (default: the vintage's, "
            "upper and lower tier plus combined authorities where it has them)",
        )
    if within:
        p.add_argument(
            "--within",
            default=None,
            metavar="LEVEL",
            help="level of test I, e.g. stp, icb or nhser (default: the level that groups the "
            "members)",
        )


def add_system(container: Any) -> None:
    """Add ``--system NAME`` to a parser or (mutually exclusive) argument group."""
    container.add_argument("--system", metavar="NAME", help=SYSTEM_HELP)


def add_tolerance(p: argparse.ArgumentParser, *, measure: bool = False) -> None:
    """Add ``--tolerance`` (ε), and with ``measure`` also ``--measure population|area``."""
    if measure:
        p.add_argument(
            "--measure",
            choices=["population", "area"],
            default="population",
            help="overlap measure: population (exact, from LSOA building blocks) or area "
            "(from boundary polygons; slower) (default population)",
        )
    p.add_argument(
        "--tolerance",
        type=number(low=0.0, high=0.5, high_open=True),
        default=None,
        metavar="EPS",
        help="tolerance ε: coterminous when the coterminosity index J ≥ 1 − ε, a council split "
        "when more than ε and less than 1 − ε of it is inside "
        + ("(default 0.005 population, 0.03 area)" if measure else "(default 0.005)"),
    )


def add_footprint(p: argparse.ArgumentParser, *, plan: bool = False, measure: bool = False) -> None:
    """Add the footprint options: ``--ccgs`` or ``--system`` (or ``--plan``), and ``--tolerance``.

    They are a mutually exclusive group: argparse refuses two of them (``--ccgs 05A --system
    X``); the command checks that one was given (a :class:`UsageError` when none).
    """
    who = p.add_argument_group("footprint (one of)").add_mutually_exclusive_group()
    add_ccgs(who)
    add_system(who)
    if plan:
        who.add_argument(
            "--plan", metavar="PLAN", help='a merger plan: "A,B;C" (new CCGs separated by ";")'
        )
    add_tolerance(p, measure=measure)


def command_name(args: argparse.Namespace) -> str:
    """``COMMAND`` of the error line: ``assess``, or ``data fetch`` for a nested subcommand.

    A command with subcommands of its own stores them as ``<command>_command``.

    Examples
    --------
    >>> command_name(argparse.Namespace(command="data", data_command="fetch"))
    'data fetch'
    >>> command_name(argparse.Namespace(command="assess"))
    'assess'
    """
    command = getattr(args, "command", None)
    words = [command, getattr(args, f"{command}_command", None)]
    return " ".join(str(w) for w in words if w)


def print_error(args: argparse.Namespace, exc: BaseException | str) -> None:
    """Write ``coterminus COMMAND: error: MESSAGE`` (one line) to stderr.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     print_error(argparse.Namespace(command="assess"), KeyError("No CCG named\\n'X'"))
    >>> err.getvalue()
    "coterminus assess: error: No CCG named 'X'\\n"
    """
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    prefix = " ".join(["coterminus", command_name(args)]).strip()
    sys.stderr.write(f"{prefix}: error: {' '.join(text.split())}\n")


# --- option values, checked as the command line is parsed (before anything is loaded) ----------
def number(
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[str], Any]:
    """An argparse ``type=`` for a finite number in a range, so a bad value is refused at once.

    Parameters
    ----------
    low, high : float, optional
        Bounds (inclusive unless ``low_open`` / ``high_open``).
    integer : bool
        A whole number (``"1e3"`` is accepted as 1000; ``"2.5"`` is not).

    Examples
    --------
    >>> number(low=0)("5"), number(integer=True, low=1)("1e3")
    (5.0, 1000)
    >>> number(low=0)("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'nan' is not a finite number
    >>> number(low=0, high=0.5, high_open=True)("0.5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0.5 is out of range: give a number ≥ 0 and < 0.5
    """

    def parse(text: str) -> float | int:
        try:
            value = float(str(text).replace("_", "").replace(",", ""))
        except ValueError:
            msg = f"{text!r} is not a number"
            raise argparse.ArgumentTypeError(msg) from None
        if not math.isfinite(value):
            msg = f"{text!r} is not a finite number"
            raise argparse.ArgumentTypeError(msg)
        if integer and value != int(value):
            msg = f"{text!r} is not a whole number"
            raise argparse.ArgumentTypeError(msg)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            lo = None if low is None else f"{'>' if low_open else '≥'} {low:g}"
            hi = None if high is None else f"{'<' if high_open else '≤'} {high:g}"
            span = " and ".join(x for x in (lo, hi) if x)
            msg = f"{text} is out of range: give a {'whole ' if integer else ''}number {span}"
            raise argparse.ArgumentTypeError(msg)
        return int(value) if integer else value

    parse.__name__ = "whole number" if integer else "number"
    return parse


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cap_at_cores(value: int | None, option: str) -> int:
    """``value`` (default: every core) capped at :func:`available_cores`, with a note on stderr.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     n = cap_at_cores(10**10, "--jobs")
    >>> n == available_cores(), err.getvalue().startswith("note: --jobs 10000000000 is more")
    (True, True)
    """
    cores = available_cores()
    if value is None:
        return cores
    if value > cores:
        sys.stderr.write(
            f"note: {option} {value} is more than the {cores} cores available here; using {cores}.\n"
        )
        return cores
    return value


#: Seconds allowed to reach a ``--scheduler`` and for it to answer, before any work is done.
SCHEDULER_TIMEOUT = 5.0


def scheduler_arg(text: str) -> str:
    """``--scheduler``: a Dask scheduler address ``tcp://HOST:PORT`` (``HOST:PORT`` works too;
    ``tls://`` and, for a scheduler in the same process, ``inproc://`` are taken as given).

    Examples
    --------
    >>> scheduler_arg("10.0.0.5:8786"), scheduler_arg("tls://sched.example:8786")
    ('tcp://10.0.0.5:8786', 'tls://sched.example:8786')
    >>> scheduler_arg("not an address")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'not an address' is not a scheduler address; give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786
    """
    raw = str(text).strip()
    fix = "give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    if raw.startswith("inproc://") and len(raw) > len("inproc://"):
        return raw  # a scheduler in this very process (a notebook's LocalCluster)
    parts = urllib.parse.urlsplit(raw if "://" in raw else f"tcp://{raw}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    ok = (
        parts.scheme in ("tcp", "tls")
        and bool(parts.hostname)
        and not (set(parts.hostname or "") & set(" /\\"))
        and not parts.path.strip("/")
        and port is not None
        and 0 < port < 65536
    )
    if not ok:
        msg = f"{text!r} is not a scheduler address; {fix}"
        raise argparse.ArgumentTypeError(msg)
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}:{port}"


def connect_scheduler(address: str, *, timeout: float = SCHEDULER_TIMEOUT) -> Any:
    """A ``distributed.Client`` on ``address``, or one :class:`SchedulerError` within ``timeout``.

    The address is first reached with a plain TCP connection (a closed port or an unknown host
    fails at once) and, for ``tcp://``, must greet as a Dask scheduler does (it speaks first: a
    framed handshake naming its ``compression``) within ``timeout`` seconds, so a listener that
    never answers, or another kind of server, is refused instead of waited for. Only then is the
    client made (also bounded by ``timeout``).

    Raises
    ------
    SchedulerError
        The host is unknown, the port closed or filtered, or what listens there is not a Dask
        scheduler; the message says which and the fix.
    """
    parts = urllib.parse.urlsplit(address)
    fix = (
        "Start the scheduler (`dask scheduler`) and pass its address, or run without "
        "--scheduler (--workers N for a local cluster)."
    )
    if parts.scheme != "inproc":
        _probe(address, timeout, fix)
    from distributed import Client

    try:
        client: Any = Client(address, timeout=f"{timeout}s")  # type: ignore[no-untyped-call]
        return client
    except Exception as exc:  # distributed raises OSError, TimeoutError, CommClosedError...
        msg = (
            f"{address} does not answer as a Dask scheduler within {timeout:g} s "
            f"({type(exc).__name__}). {fix}"
        )
        raise SchedulerError(msg) from exc


def _probe(address: str, timeout: float, fix: str) -> None:
    """Reach ``address`` over TCP and, for ``tcp://``, hear a Dask scheduler's greeting."""
    parts = urllib.parse.urlsplit(address)
    host, port = parts.hostname or "", parts.port or 8786
    try:
        probe = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        msg = f"cannot reach the Dask scheduler {address} ({reason} within {timeout:g} s). {fix}"
        raise SchedulerError(msg) from exc
    with probe:
        if parts.scheme != "tcp":  # TLS: the client speaks first; the handshake is Dask's
            return
        probe.settimeout(timeout)
        try:
            greeting = probe.recv(512)
        except OSError:  # a listener that never speaks
            greeting = b""
    if b"compression" not in greeting:
        heard = "said nothing" if not greeting else "answered, but not as a Dask scheduler"
        msg = f"{address} does not answer as a Dask scheduler within {timeout:g} s (it {heard}). {fix}"
        raise SchedulerError(msg)


def exclusive(p: argparse.ArgumentParser, *dests: str) -> None:
    """Declare options already added to ``p`` (by their ``dest``) as mutually exclusive.

    For options declared apart (``--scenario`` by :func:`add_common`, ``--from`` by ``diff``),
    or in two groups at once: argparse then refuses any two of them with its usual one-line
    usage error ("argument --from: not allowed with argument --scenario").

    Examples
    --------
    >>> p = argparse.ArgumentParser(prog="coterminus diff")
    >>> _ = p.add_argument("--scenario"); _ = p.add_argument("--from", dest="from_")
    >>> exclusive(p, "scenario", "from_")
    >>> p.parse_args(["--scenario", "s.csv"]).scenario
    's.csv'
    """
    by_dest = {a.dest: a for a in p._actions}  # argparse keeps its actions here
    missing = [d for d in dests if d not in by_dest]
    if missing:
        msg = f"no option with dest {missing} to declare exclusive"
        raise ValueError(msg)
    group = p.add_mutually_exclusive_group()
    group._group_actions.extend(by_dest[d] for d in dests)  # as add_argument does
