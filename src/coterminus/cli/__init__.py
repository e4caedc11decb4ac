"""The ``coterminus`` command line: one module per command, over the library's functions.

========================  =========================================================================
module                    what it holds
========================  =========================================================================
``cli/__init__.py``       :func:`main`: the parser (:func:`build_parser`), dispatch, exit codes
``cli/options.py``        options every command shares (``--vintage``, ``--data-dir``, ``--json``,
                          ``--out``, ``--ccgs``/``--system``, ``--tolerance``...), the help layout,
                          :class:`~coterminus.cli.options.UsageError` and the one-line error
``cli/load.py``           the geography a command runs on (``--vintage``, ``--scenario``...)
``cli/output.py``         tables and JSON on stdout
``cli/systems.py``        ``coterminus systems``
``cli/assess.py``         ``coterminus assess``
``cli/diff.py``           ``coterminus diff``
``cli/doctor.py``         ``coterminus doctor``
``cli/data.py``           ``coterminus data status | fetch | verify | cache | clean | manifest``
``cli/mergers.py``        ``coterminus mergers``
``cli/maps.py``           ``coterminus map`` and ``coterminus report``
``cli/alignment.py``      ``coterminus alignment``
``cli/scenarios.py``      ``coterminus scenarios``
========================  =========================================================================

A command module declares its options in ``add_parser(subparsers)`` and runs in handlers named
``run`` or ``run_*`` (set as the parser's ``func``). Errors propagate to :func:`call`: bad input
ends with a one-line ``coterminus COMMAND: error: ...`` on stderr and exit code 1 (2 for a usage
error).

Start-up is quick: a command module imports only ``argparse`` and :mod:`coterminus.cli.options`
at the top and the library inside its handlers; :func:`main` imports only the module of the
command given (:data:`COMMANDS`), so ``coterminus --help``, ``--version``, ``coterminus COMMAND
--help`` and argument errors load none of pandas, geopandas or numba
(``benchmarks/bench_startup.py`` measures it).

Examples
--------
::

    coterminus systems --vintage 2019
    coterminus assess --vintage 2019 --ccgs E38000038 E38000164 E38000195 --tier utla --json
    coterminus assess --vintage 2019 --system "Coventry and Warwickshire"
    coterminus diff --level ccg --from 2019 --to 2020
    coterminus mergers --vintage 2019 --system "Cheshire and Merseyside" --top 20
    coterminus data status
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from coterminus.data.integrity import trust_stamp
from coterminus.errors import CoterminusError, OutputError

from .options import HelpFormatter, Parser, UsageError, print_error

__all__ = ["COMMANDS", "build_parser", "call", "main"]

EXAMPLES = """\
examples:
  coterminus alignment --vintage 2026
  coterminus systems --vintage 2019
  coterminus assess --vintage 2019 --ccgs E38000038 E38000164 E38000195 --tier utla --json
  coterminus assess --vintage 2019 --system "Coventry and Warwickshire"
  coterminus diff --level ccg --from 2019 --to 2020
  coterminus mergers --vintage 2019 --system "Cheshire and Merseyside" --contiguous --top 20
  coterminus map --vintage 2019 --system "Coventry and Warwickshire" --out cw.html
  coterminus report --vintage 2019 --system "Coventry and Warwickshire" --out cw-report.html
  coterminus data status --data-dir ../shared/data

Each command explains its options and ends with a worked example: coterminus COMMAND --help
"""

#: Every command: name -> (module that declares it, help shown in ``coterminus --help``), in the
#: order of ``coterminus --help``. A module is imported only when its command is given (or for
#: :func:`build_parser`), so ``coterminus --help`` imports none of them.
COMMANDS: dict[str, tuple[str, str]] = {
    "systems": (
        "coterminus.cli.systems",
        "one row per system (STP/ICS or ICB): is it coterminous with the councils?",
    ),
    "assess": (
        "coterminus.cli.assess",
        "tests I and II for a footprint (a merger of CCGs, sub-ICBs or ICBs, or a system)",
    ),
    "diff": (
        "coterminus.cli.diff",
        "compare a level of two vintages (or a scenario) by the LSOAs they hold",
    ),
    "doctor": (
        "coterminus.cli.doctor",
        "list problems in a layer (invalid geometry, gaps, overlaps)",
    ),
    "data": (
        "coterminus.cli.data",
        "where the ONS files are; download and check them; the cache; vintage manifests",
    ),
    "mergers": (
        "coterminus.cli.mergers",
        "rank every way of merging the units of a system (CCGs, sub-ICBs, ICBs, councils)",
    ),
    "optimise": (
        "coterminus.cli.optimise",
        "the proven best merger plan of a system of any size (MILP), or of every system",
    ),
    "map": (
        "coterminus.cli.maps",
        "map a footprint or merger plan against the councils (.html, .png, .pdf, .svg)",
    ),
    "report": (
        "coterminus.cli.maps",
        "board-paper report of a footprint or merger plan (.html or .pdf)",
    ),
    "alignment": (
        "coterminus.cli.alignment",
        "scorecard: is each ICB coterminous with one or more strategic authorities?",
    ),
    "scenarios": (
        "coterminus.cli.scenarios",
        "the named scenarios (reported ICB mergers, LGR, proposed authorities)",
    ),
}


def build_parser(command: str | None = None, *, lazy: bool = False) -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation).

    Parameters
    ----------
    command : str, optional
        With ``lazy``, the one command whose module is imported to declare its options.
    lazy : bool, default False
        Declare only ``command`` in full; every other command appears (name and one-line help)
        in ``coterminus --help`` but its module is not imported. ``main`` uses this to answer
        quickly; the default declares every command.

    Examples
    --------
    >>> parser = build_parser("systems", lazy=True)
    >>> args = parser.parse_args(["systems", "--vintage", "2024", "--against", "utla", "cauth"])
    >>> args.command, args.against, args.vintage, args.measure
    ('systems', ['utla', 'cauth'], 2024, 'population')
    """
    parser = Parser(
        prog="coterminus",
        description="Does this NHS footprint line up with the councils it works with?",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = COMMANDS[command][0] if command in COMMANDS else None
    declared: set[str] = set()
    for name, (module_name, help_text) in COMMANDS.items():
        if name in declared:
            continue
        if lazy and module_name != wanted:
            sub.add_parser(name, help=help_text, add_help=False)  # listed, not declared
            continue
        importlib.import_module(module_name).add_parser(sub)
        declared.update(n for n, (m, _) in COMMANDS.items() if m == module_name)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv``: the first word that is not an option (or None)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def call(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run a command handler and return its exit code.

    An error is one line ``coterminus COMMAND: error: MESSAGE`` on stderr and exit code 1 (2
    for a :class:`~coterminus.cli.options.UsageError`); with ``--trust-modified`` the stamp of
    each geography the command loaded (``args.geographies``, set by :func:`coterminus.cli.load.load`)
    follows the output.

    Examples
    --------
    >>> import contextlib, io
    >>> def handler(args):
    ...     raise UsageError("give --system NAME")
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     call(handler, argparse.Namespace(command="assess"))
    2
    >>> err.getvalue()
    'coterminus assess: error: give --system NAME\\n'
    """
    try:
        code = int(func(args) or 0)
        stamps = [trust_stamp(g.integrity) for g in getattr(args, "geographies", None) or []]
        for stamp in dict.fromkeys(s for s in stamps if s):
            # on stderr when stdout is JSON, so the JSON stays valid (it holds the stamp too)
            (sys.stderr if getattr(args, "json", False) else sys.stdout).write(stamp + "\n")
        return code
    except UsageError as exc:
        print_error(args, exc)
        return 2
    except (CoterminusError, FileNotFoundError, KeyError) as exc:
        print_error(args, exc)
        return 1
    except KeyboardInterrupt:  # pragma: no cover
        sys.stderr.write("coterminus: interrupted\n")
        return 130


def run_version() -> int:
    """``coterminus --version``: print the installed version.

    The version is read from the installed package's metadata only here, so that the other
    commands do not pay for ``importlib.metadata``.
    """
    from coterminus._version import __version__

    sys.stdout.write(f"coterminus {__version__}\n")
    return 0


class GuardedStdout:
    """``sys.stdout`` while a command runs: a write that fails becomes one :class:`OutputError`.

    A full disk (``> /dev/full``), an exceeded quota or an I/O error while writing the output,
    and a standard output that was closed before the command started (``>&-``), end the command
    with the one-line error and exit code 1 instead of a traceback (or, unbuffered, exit code 0
    with truncated JSON). A reader that stops reading (``| head``) is not an error: the
    ``BrokenPipeError`` goes on to :func:`main`, which ends quietly.

    Examples
    --------
    >>> GuardedStdout(None).write("x")
    Traceback (most recent call last):
    ...
    coterminus.errors.OutputError: cannot write to standard output: it is closed ...
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.failed = False

    def _fail(self, exc: OSError | None) -> OutputError:
        self.failed = True
        if exc is None:
            reason = "it is closed (the command was started with >&- or without a stdout)"
        elif exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", None)):
            reason = "no space left on the device (or the disk quota is exceeded)"
        else:
            reason = exc.strerror or str(exc)
        msg = (
            f"cannot write to standard output: {reason}; the output is incomplete. Redirect it "
            "to a file on a disk with room, or write the result with --out FILE."
        )
        return OutputError(msg)

    def write(self, text: str) -> int:
        """Write ``text``; an ``OSError`` (but a closed pipe) becomes an :class:`OutputError`."""
        if self.stream is None:
            raise self._fail(None)
        try:
            return int(self.stream.write(text))
        except BrokenPipeError:
            self.failed = True
            raise
        except OSError as exc:
            raise self._fail(exc) from exc

    def flush(self) -> None:
        """Flush the stream, with the errors of :meth:`write`."""
        if self.stream is None:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            self.failed = True
            raise
        except OSError as exc:
            raise self._fail(exc) from exc

    def isatty(self) -> bool:
        """Whether the stream is a terminal (``False`` when closed)."""
        return bool(self.stream is not None and self.stream.isatty())

    def __getattr__(self, name: str) -> Any:
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)


def _silence_stdout() -> None:
    """Point file descriptor 1 at the null device, so that output still buffered when Python
    exits is dropped quietly instead of failing again ("Exception ignored ...")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:  # pragma: no cover - no descriptor 1 to replace
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coterminus`` command: returns the exit code (``--help`` exits).

    Every error, a usage error found by the parser included, is one line on stderr and a
    non-zero code: 1 for bad input, 2 for options that do not go together or do not parse.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv), lazy=True)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # a usage error (its one line is written): its code, like others
        if stop.code in (0, None):  # --help
            raise
        return int(stop.code) if isinstance(stop.code, int) else 2
    if args.version:
        return run_version()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    guard = GuardedStdout(sys.stdout)
    sys.stdout = guard
    try:
        code = call(func, args)
        if not guard.failed:
            try:
                guard.flush()  # a full disk shows here when the output was buffered
            except OutputError as exc:
                print_error(args, exc)
                code = 1
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        code = 0
    finally:
        sys.stdout = guard.stream
        if guard.failed and guard.stream is not None:
            _silence_stdout()
    return code
