"""``coterminus systems``: one row per system (STP/ICS or ICB), is it coterminous with the councils?

Over :func:`coterminus.analysis.systems.systems`.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["systems", "--vintage", "2024", "--tier", "cauth"])
>>> args.vintage, args.tier, args.against, args.measure, args.func is run
(2024, 'cauth', None, 'population', True)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .options import TIER_HELP, HelpFormatter, add_common, add_levels, add_tolerance, example_epilog

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``systems`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
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
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus systems``: print (and with ``--out`` write) the systems table."""
    from coterminus.analysis.systems import systems
    from coterminus.data.atomic import atomic_write, atomic_write_csv
    from coterminus.geography.provenance import heading

    from .load import load
    from .output import emit

    geo = load(args)
    against = args.against
    if args.tier:
        against = [args.tier, *[a for a in (against or []) if a != args.tier]]
    table = systems(
        geo, level=args.level, against=against, measure=args.measure, tolerance=args.tolerance
    )
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() == ".json":
            atomic_write(out, lambda q: table.to_json(q, orient="records", indent=2))
        else:
            atomic_write_csv(out, table, suffixes=None)  # names cannot run as formulas
    if args.json:
        emit(args, table)
        return 0
    sys.stdout.write(heading(geo, table.attrs["level"], *table.attrs["against"]) + "\n\n")
    cols = ["system", "name", "population"]
    for lv in table.attrs["against"]:  # name the areas touched for levels covering part only
        cols += [f"coterminosity_index_{lv}", f"n_split_{lv}"] + (
            [f"touched_{lv}"] if lv in table.attrs["partial"] else []
        )
    shown = table[cols].rename(
        columns=lambda c: c.replace("coterminosity_index_", "J_").replace("touched_", "in_")
    )
    emit(args, shown)
    return 0
