"""``coterminus assess``: NHS England's merger tests I and II for one footprint.

Over :func:`coterminus.analysis.assess.assess` and its :class:`~coterminus.analysis.assess.Assessment`.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["assess", "--codes", "05A", "05R", "--tier", "ltla", "--json"])
>>> args.ccgs, args.tier, args.all_levels, args.json, args.func is run
(['05A', '05R'], 'ltla', False, True, True)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .options import (
    TIER_HELP,
    HelpFormatter,
    UsageError,
    add_common,
    add_footprint,
    add_levels,
    example_epilog,
)

if TYPE_CHECKING:
    from coterminus.analysis.assess import Assessment

__all__ = ["add_parser", "run"]

#: Columns of the councils table printed under the verdict.
COUNCIL_COLUMNS = [
    "tier",
    "name",
    "in_footprint",
    "la_total",
    "share_of_la",
    "share_of_footprint",
    "status",
    "best_fit",
]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``assess`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
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
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus assess``: the verdicts explained, the councils and who is outside."""
    from coterminus.analysis.assess import assess
    from coterminus.data.atomic import atomic_write_text, check_output_path
    from coterminus.geography.provenance import heading

    from .load import load
    from .output import emit, wrote

    if not args.ccgs and not args.system:
        msg = "give --codes CODE [CODE ...] (or --ccgs) or --system NAME"
        raise UsageError(msg)
    out = check_output_path(args.out, suffixes=(".json",)) if args.out else None
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
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        sys.stdout.write(heading(geo, result.units, *result.against) + "\n\n")
        _print(args, result, emit)
    if out is not None:
        atomic_write_text(out, result.to_json(), suffixes=(".json",))
        wrote(args, out, "the whole assessment as JSON, as --json prints it")
    return 0


def _print(
    args: argparse.Namespace, result: Assessment, emit: Callable[[argparse.Namespace, Any], None]
) -> None:
    """The verdicts explained, the councils and who is outside, as text (``emit`` prints tables)."""
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
    emit(args, result.by_la[COUNCIL_COLUMNS])
    if len(result.mismatch):
        sys.stdout.write("\nwho is outside:\n")
        emit(args, result.mismatch)
