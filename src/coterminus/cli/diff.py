"""``coterminus diff``: which units of a level changed between two vintages, or with a scenario.

Over :func:`coterminus.analysis.diff.vintages.diff` and its :class:`~coterminus.analysis.diff.vintages.VintageDiff`.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["diff", "--level", "ccg", "--to-level", "sicbl",
...                           "--from", "2021", "--to", "2022"])
>>> args.level, args.to_level, args.from_, args.to, args.change, args.func is run
('ccg', 'sicbl', 2021, 2022, None, True)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .options import (
    HelpFormatter,
    UsageError,
    add_common,
    example_epilog,
    exclusive,
    vintage_arg,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diff`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
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
    exclusive(p, "scenario", "from_")  # a scenario is compared with --vintage, not --from/--to
    exclusive(p, "scenario", "to")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus diff``: the one-line summary and every unit that changed."""
    from coterminus.analysis.diff.vintages import diff
    from coterminus.geography.provenance import sentences

    from .load import load
    from .output import emit

    if args.scenario:  # a scenario against its own vintage
        new = load(args)
        old = load(args, args.vintage)
        level = (args.level, args.to_level or new.level_names[-1])  # the scenario's level
    else:
        if args.from_ is None or args.to is None:
            msg = "give --from YEAR|FILE and --to YEAR|FILE (or --vintage and --scenario CSV)"
            raise UsageError(msg)
        old = load(args, args.from_)
        new = load(args, args.to)
        level = (args.level, args.to_level) if args.to_level else args.level
    d = diff(old, new, level=level, change=args.change)
    levels = (d.old_level or args.level, d.new_level or args.level)
    notes = list(dict.fromkeys([*old.notes(levels[0]), *new.notes(levels[1])]))
    if args.json:
        payload = {**d.to_dict(), "notes": notes}
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return 0
    sys.stdout.write(d.summary + "\n" + (sentences(notes) + "\n" if notes else "") + "\n")
    changed = d.new_units[d.new_units["change"] != "unchanged"]
    emit(args, changed)
    return 0
