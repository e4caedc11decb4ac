"""The ``coterminus`` command line.

Every subcommand declares the options they share (``--vintage``, ``--data-dir`` (default
``$COTERMINUS_DATA_DIR``), ``--json``, ``--out``, the footprint options ``--ccgs``/``--system``)
through :mod:`coterminus._cli_common`, and runs through its error handling: bad input ends with a
one-line ``coterminus COMMAND: error: ...`` on stderr and exit code 1 (2 for a usage error).

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
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._cli_common import UsageError, add_common, add_footprint, call, load

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
"""


def _emit(args: argparse.Namespace, frame: pd.DataFrame, payload: Any = None) -> None:
    if args.json:
        data = payload if payload is not None else json.loads(frame.to_json(orient="records"))
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        with pd.option_context(
            "display.max_rows", 500, "display.width", 160, "display.max_colwidth", 60
        ):
            sys.stdout.write(frame.to_string() + "\n")


# --- subcommands -------------------------------------------------------------------------------
def _cmd_systems(args: argparse.Namespace) -> int:
    from .metrics import footprint_metrics
    from .overlap import overlap

    geo = load(args)
    table = overlap(geo, "ccg", args.tier)
    rows = []
    for stp, name in geo.stp["name"].items():
        members = geo.members(stp)
        fm = footprint_metrics(table, members)
        rows.append(
            {
                "system": stp,
                "name": name,
                "n_ccgs": len(members),
                "population": int(geo.stp.at[stp, "population"]),
                "coterminosity_index": round(fm.index, 6),
                "coterminous": fm.coterminous,
                "n_split": len(fm.split),
            }
        )
    _emit(args, pd.DataFrame(rows).sort_values("name").reset_index(drop=True))
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from .assess import assess

    if not args.ccgs and not args.system:
        msg = "give --ccgs CODE [CODE ...] or --system NAME"
        raise UsageError(msg)
    geo = load(args)
    result = assess(
        geo,
        args.ccgs or None,
        system=args.system,
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
    sys.stdout.write(result.explain() + "\n\n")
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

    old = load(args, args.from_)
    new = load(args, args.to)
    d = diff(old, new, level=args.level)
    if args.json:
        sys.stdout.write(json.dumps(d.to_dict(), indent=2, default=str) + "\n")
        return 0
    sys.stdout.write(d.summary + "\n\n")
    changed = d.new_units[d.new_units["kind"] != "unchanged"]
    _emit(args, changed)
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    geo = load(args)
    problems = doctor(geo.layer(args.level))
    _emit(args, problems)
    return 1 if (problems["severity"] == "fatal").any() else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="coterminus",
        description="Does this NHS footprint line up with the councils it works with?",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("systems", help="list the STP/ICS systems and their one-CCG coterminosity")
    add_common(p)
    p.add_argument("--tier", choices=["utla", "ltla"], default="utla")
    p.set_defaults(func=_cmd_systems)

    p = sub.add_parser(
        "assess",
        help="tests I and II for a footprint (a CCG merger or a system)",
        epilog="example: coterminus assess --vintage 2019 --ccgs E38000038 E38000164 E38000195 --json",
    )
    add_common(p, out="also write the JSON result to this file")
    add_footprint(p, measure=True)
    p.add_argument("--tier", choices=["utla", "ltla"], default="utla")
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser("diff", help="compare two vintages of a level by LSOA membership")
    add_common(p, vintage=None)
    p.add_argument("--level", default="ccg", choices=["ccg", "stp", "ltla", "utla"])
    p.add_argument("--from", dest="from_", type=int, required=True, metavar="YEAR")
    p.add_argument("--to", type=int, required=True, metavar="YEAR")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("doctor", help="list problems in a layer (invalid geometry, gaps, overlaps)")
    add_common(p)
    p.add_argument("--level", default="ccg", choices=["ccg", "stp", "ltla", "utla", "lsoa"])
    p.set_defaults(func=_cmd_doctor)

    for module in _plugin_modules():
        module.add_parser(sub)
    return parser


def _plugin_modules() -> list[Any]:
    from . import _cli_data, _cli_mergers

    mods: list[Any] = [_cli_data, _cli_mergers]
    try:
        from . import _cli_maps

        mods.append(_cli_maps)
    except ImportError:  # pragma: no cover - maps need folium/matplotlib, which are dependencies
        pass
    return mods


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coterminus`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        sys.stdout.write(f"coterminus {__version__}\n")
        return 0
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
