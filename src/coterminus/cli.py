"""The ``coterminus`` command line.

Every subcommand declares the options they share (``--vintage``, ``--data-dir`` (default
``$COTERMINUS_DATA_DIR``), ``--json``, ``--out``, the footprint options ``--ccgs``/``--system``)
through :mod:`coterminus._cli_common`, and runs through its error handling: bad input ends with a
one-line ``coterminus COMMAND: error: ...`` on stderr and exit code 1 (2 for a usage error).

Start-up is quick: this module imports no part of the library at the top, each command imports
what it needs when it runs, and the commands declared in other modules (:data:`PLUGINS`) are
imported only when they are the command given, so ``coterminus --help``, ``--version``,
``coterminus COMMAND --help`` and argument errors load none of pandas, geopandas or numba
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
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._cli_common import (
    HelpFormatter,
    UsageError,
    add_common,
    add_footprint,
    add_levels,
    add_tolerance,
    call,
    example_epilog,
    load,
    vintage_arg,
)

__all__ = ["build_parser", "main"]

EXAMPLES = """\
examples:
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

TIER_HELP = (
    "headline level of the verdict, e.g. utla (upper tier: counties and unitary authorities), "
    "ltla (lower tier) or cauth (combined authorities) (default: the first --against level)"
)

#: Commands declared in other modules: name -> (module, help shown in ``coterminus --help``).
#: The module is imported only when its command runs (or for :func:`build_parser`), so that
#: ``coterminus --help`` and the other commands import none of them.
PLUGINS: dict[str, tuple[str, str]] = {
    "data": (
        "coterminus._cli_data",
        "where the ONS files are; download and check them; the cache; vintage manifests",
    ),
    "mergers": (
        "coterminus._cli_mergers",
        "rank every way of merging the units of a system (CCGs, sub-ICBs, ICBs, councils)",
    ),
    "map": (
        "coterminus._cli_maps",
        "map a footprint or merger plan against the councils (.html, .png, .pdf, .svg)",
    ),
    "report": (
        "coterminus._cli_maps",
        "board-paper report of a footprint or merger plan (.html or .pdf)",
    ),
}


def _emit(args: argparse.Namespace, frame: Any, payload: Any = None) -> None:
    import pandas as pd

    if args.json:
        data = payload if payload is not None else json.loads(frame.to_json(orient="records"))
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        with pd.option_context(
            "display.max_rows", 500, "display.width", 160, "display.max_colwidth", 60
        ):
            sys.stdout.write(frame.to_string() + "\n")


# --- subcommands (each imports the library only when it runs) -----------------------------------
def _cmd_systems(args: argparse.Namespace) -> int:
    from .systems import systems

    geo = load(args)
    against = args.against
    if args.tier:
        against = [args.tier, *[a for a in (against or []) if a != args.tier]]
    table = systems(
        geo, level=args.level, against=against, measure=args.measure, tolerance=args.tolerance
    )
    if args.out:
        from ._atomic import atomic_write

        out = Path(args.out)
        if out.suffix.lower() == ".json":
            atomic_write(out, lambda q: table.to_json(q, orient="records", indent=2))
        else:
            atomic_write(out, lambda q: table.to_csv(q, index=False))
    if args.json:
        _emit(args, table)
        return 0
    levels = table.attrs["against"]
    cols = ["system", "name", "population"]
    for lv in levels:  # name the areas touched for levels covering part of England only
        partial = bool(geo.lsoa[lv].isna().any())
        cols += [f"coterminosity_index_{lv}", f"n_split_{lv}"] + (
            [f"touched_{lv}"] if partial else []
        )
    shown = table[cols].rename(
        columns=lambda c: c.replace("coterminosity_index_", "J_").replace("touched_", "in_")
    )
    _emit(args, shown)
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from .assess import assess

    if not args.ccgs and not args.system:
        msg = "give --codes CODE [CODE ...] (or --ccgs) or --system NAME"
        raise UsageError(msg)
    geo = load(args)
    result = assess(
        geo,
        args.ccgs or None,
        system=args.system,
        units=args.units,
        against=args.against,
        within=args.within,
        tier=args.tier,
        measure=args.measure,
        tolerance=args.tolerance,
    )
    if args.out:
        from ._atomic import atomic_write_text

        atomic_write_text(Path(args.out), result.to_json())
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
        return 0
    sys.stdout.write(result.explain(result.against if args.all_levels else None) + "\n")
    if not args.all_levels:  # the other levels' verdicts in a line each (--all-levels: in full)
        for lv in result.against:
            if lv == result.tier:
                continue
            m = result.tiers[lv]
            verdict = "coterminous" if m.coterminous else "not coterminous"
            label = result.geo.label(lv, plural=True)
            sys.stdout.write(f"Test II ({label}): {verdict} (J = {m.index:.4f}).\n")
    sys.stdout.write("\n")
    cols = [
        "tier",
        "name",
        "in_footprint",
        "la_total",
        "share_of_la",
        "share_of_footprint",
        "status",
        "best_fit",
    ]
    _emit(args, result.by_la[cols])
    if len(result.mismatch):
        sys.stdout.write("\nwho is outside:\n")
        _emit(args, result.mismatch)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from .vintages import diff

    if args.scenario:  # a scenario against its own vintage
        new = load(args)
        old = load(args, args.vintage)
        level = (args.level, args.to_level or args.scenario_name)
    else:
        if args.from_ is None or args.to is None:
            msg = "give --from YEAR|FILE and --to YEAR|FILE (or --vintage and --scenario CSV)"
            raise UsageError(msg)
        old = load(args, args.from_)
        new = load(args, args.to)
        level = (args.level, args.to_level) if args.to_level else args.level
    d = diff(old, new, level=level, change=args.change)
    if args.json:
        sys.stdout.write(json.dumps(d.to_dict(), indent=2, default=str) + "\n")
        return 0
    sys.stdout.write(d.summary + "\n\n")
    changed = d.new_units[d.new_units["change"] != "unchanged"]
    _emit(args, changed)
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    geo = load(args)
    if args.level and args.level.strip().lower() in ("lsoa", "lsoas", "block", geo.block):
        layer = geo.lsoa_polygons()
    else:
        layer = geo.layer(args.level or geo.level_names[0])
    problems = doctor(layer)
    _emit(args, problems)
    return 1 if (problems["severity"] == "fatal").any() else 0


def _add_core(sub: Any) -> None:
    """The commands declared here: ``systems``, ``assess``, ``diff``, ``doctor``."""
    p = sub.add_parser(
        "systems",
        help="one row per system (STP/ICS or ICB): is it coterminous with the councils?",
        description="One row per system of the vintage (STPs/ICSs to 2021, ICBs from 2022), each "
        "taken as one footprint: its coterminosity index against each --against level, the "
        "areas of each level it touches and whether any is split (coterminus.systems).",
        epilog=example_epilog("coterminus systems --vintage 2024 --against utla cauth"),
        formatter_class=HelpFormatter,
    )
    add_common(p, out="also write the table to this file (.csv, or .json)")
    p.add_argument(
        "--level",
        default=None,
        metavar="LEVEL",
        help="the systems level, e.g. stp or icb (default: the vintage's systems level)",
    )
    add_levels(p, units=False, within=False)
    p.add_argument("--tier", default=None, metavar="LEVEL", help=TIER_HELP)
    add_tolerance(p, measure=True)
    p.set_defaults(func=_cmd_systems)

    p = sub.add_parser(
        "assess",
        help="tests I and II for a footprint (a merger of CCGs, sub-ICBs or ICBs, or a system)",
        description="NHS England's merger tests for a footprint: I, all its units within one "
        "grouping level (STP/ICS for CCGs, ICB for sub-ICB locations, NHS region for ICBs); II, "
        "the footprint coterminous with the councils (and combined authorities) of --against; "
        "with the councils, the people outside and the places (coterminus.assess).",
        epilog=example_epilog(
            "coterminus assess --vintage 2019 --ccgs E38000038 E38000164 E38000195 --tier ltla"
        ),
        formatter_class=HelpFormatter,
    )
    add_common(p, out="also write the JSON result to this file")
    add_footprint(p, measure=True)
    add_levels(p)
    p.add_argument("--tier", default=None, metavar="LEVEL", help=TIER_HELP)
    p.add_argument(
        "--all-levels",
        action="store_true",
        help="explain the verdict against every --against level, not only the headline one "
        "(default: the headline level only)",
    )
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser(
        "diff",
        help="compare a level of two vintages (or a scenario) by the LSOAs they hold",
        description="Which units of a level were formed, merged, split or changed between two "
        "vintages (across the LSOA 2011 → 2021 change when needed), or between a vintage and a "
        "--scenario, by the LSOAs and people they hold (coterminus.diff).",
        epilog=example_epilog("coterminus diff --level icb --from 2022 --to 2024"),
        formatter_class=HelpFormatter,
    )
    add_common(p)
    p.add_argument(
        "--level",
        required=True,
        metavar="LEVEL",
        help="level to compare, e.g. ccg, sicbl, icb, ltla (required)",
    )
    p.add_argument(
        "--to-level",
        default=None,
        metavar="LEVEL",
        help="the level in the later vintage when it has another name, e.g. --level ccg "
        "--to-level sicbl (default: the same as --level; with --scenario, the scenario)",
    )
    p.add_argument(
        "--from",
        dest="from_",
        type=vintage_arg,
        default=None,
        metavar="YEAR|FILE",
        help="the earlier vintage, e.g. 2019 or a manifest file (required without --scenario)",
    )
    p.add_argument(
        "--to",
        type=vintage_arg,
        default=None,
        metavar="YEAR|FILE",
        help="the later vintage, e.g. 2024 or a manifest file (required without --scenario)",
    )
    p.add_argument(
        "--change",
        default=None,
        metavar="CSV",
        help="an ONS LSOA 2011 → 2021 change lookup to cross the building-block change with "
        "(default: the registered one, lsoa11-lsoa21)",
    )
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser(
        "doctor",
        help="list problems in a layer (invalid geometry, gaps, overlaps)",
        description="Check one boundary layer of a vintage: invalid or empty geometry, "
        "duplicate codes, gaps and overlaps. Exit code 1 when a problem is fatal "
        "(coterminus.doctor).",
        epilog=example_epilog("coterminus doctor --vintage 2019 --level utla"),
        formatter_class=HelpFormatter,
    )
    add_common(p)
    p.add_argument(
        "--level",
        default=None,
        metavar="LEVEL",
        help="level whose layer to check, e.g. ccg, icb, utla, or lsoa for the building "
        "blocks (default: the vintage's first level)",
    )
    p.set_defaults(func=_cmd_doctor)


def build_parser(command: str | None = None, *, lazy: bool = False) -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation).

    Parameters
    ----------
    command : str, optional
        With ``lazy``, the one command whose module is imported to declare its options.
    lazy : bool, default False
        Declare only the commands of this module and ``command`` in full; every other command
        appears (name and one-line help) in ``coterminus --help`` but its module is not
        imported. ``main`` uses this to answer quickly; the default declares every command.

    Examples
    --------
    >>> parser = build_parser(lazy=True)
    >>> args = parser.parse_args(["systems", "--vintage", "2024", "--against", "utla", "cauth"])
    >>> args.command, args.against, args.vintage, args.measure
    ('systems', ['utla', 'cauth'], 2024, 'population')
    """
    parser = argparse.ArgumentParser(
        prog="coterminus",
        description="Does this NHS footprint line up with the councils it works with?",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_core(sub)
    wanted = PLUGINS[command][0] if command in PLUGINS else None
    declared: set[str] = set()
    for name, (module_name, help_text) in PLUGINS.items():
        if name in declared:
            continue
        if lazy and module_name != wanted:
            sub.add_parser(name, help=help_text, add_help=False)  # listed, not declared
            continue
        importlib.import_module(module_name).add_parser(sub)
        declared.update(n for n, (m, _) in PLUGINS.items() if m == module_name)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv``: the first word that is not an option (or None)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coterminus`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv), lazy=True)
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        sys.stdout.write(f"coterminus {__version__}\n")
        return 0
    import logging

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return call(func, args)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
