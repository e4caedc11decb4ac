"""``coterminus scenarios``: the named scenarios shipped with coterminus.

Over :mod:`coterminus.data.scenarios`. Each has a status (decided, reported or proposed) and a
source line; ``--scenario NAME`` on any command adds it to the geography as a level.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["scenarios", "--show", "lgr-surrey-2027"])
>>> args.show, args.json, args.func is run
('lgr-surrey-2027', False, True)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .options import HelpFormatter, example_epilog

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``scenarios`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scenarios",
        help="the named scenarios (reported ICB mergers, LGR, proposed authorities)",
        description="List the scenarios shipped with coterminus: name, status (decided, "
        "reported, proposed), the vintage and level of their members, the level they add and "
        "their source. Use one with --scenario NAME on any command, or "
        "coterminus.scenario(geo, NAME).",
        epilog=example_epilog(
            "coterminus scenarios",
            "coterminus scenarios --show icb-clusters-2027",
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--show", metavar="NAME", help="print the member,area,area_name rows of one")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus scenarios``: one row per named scenario, or one scenario's rows."""
    from coterminus.data.scenarios import catalogue, named_scenario

    from .output import frame_text, records, text_table

    if args.show:
        s = named_scenario(args.show)
        table = s.table()
        if args.json:
            payload = {"name": s.name, "status": s.status, "source": s.source}
            sys.stdout.write(json.dumps({**payload, "rows": records(table)}, indent=2) + "\n")
            return 0
        sys.stdout.write(f"{s.note}\n\n{frame_text(table)}\n")
        return 0
    rows = [
        {
            "name": s.name,
            "status": s.status,
            "vintage": s.vintage,
            "members": s.members,
            "areas": int(s.table()["area"].nunique()),
            "level": s.level,
            "base": s.base or "",
            "title": s.title,
            "source": s.source,
        }
        for s in catalogue().values()
    ]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    cols = ["name", "status", "vintage", "members", "areas", "level", "title"]
    sys.stdout.write(text_table([cols, *[[str(r[c]) for c in cols] for r in rows]]))
    sys.stdout.write("\n")
    for r in rows:
        sys.stdout.write(f"{r['name']}: {r['source']}.\n")
    return 0
