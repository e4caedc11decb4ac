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
import sys
from pathlib import Path
from typing import Any, Literal

from coterminus.data.manifest import builtin_vintages, newest_vintage
from coterminus.errors import CoterminusError

__all__ = [
    "TIER_HELP",
    "HelpFormatter",
    "UsageError",
    "add_ccgs",
    "add_common",
    "add_footprint",
    "add_levels",
    "add_system",
    "add_tolerance",
    "builtin_years",
    "command_name",
    "example_epilog",
    "print_error",
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
        type=float,
        default=None,
        metavar="EPS",
        help="tolerance ε: coterminous when the coterminosity index J ≥ 1 − ε, a council split "
        "when more than ε and less than 1 − ε of it is inside "
        + ("(default 0.005 population, 0.03 area)" if measure else "(default 0.005)"),
    )


def add_footprint(p: argparse.ArgumentParser, *, plan: bool = False, measure: bool = False) -> None:
    """Add the footprint options: ``--ccgs`` or ``--system`` (or ``--plan``), and ``--tolerance``.

    Which one was given is checked by the command (a :class:`UsageError` when none or several).
    """
    who = p.add_argument_group("footprint (one of)")
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
