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


#: Suffixes ``--out`` writes.
OUT_SUFFIXES = (".csv", ".json")


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus systems``: print (and with ``--out`` write) the systems table."""
    from coterminus.analysis.systems import systems
    from coterminus.data.atomic import atomic_write, atomic_write_csv, check_output_path
    from coterminus.geography.provenance import heading

    from .load import load
    from .output import emit, wrote

    out = check_output_path(args.out, suffixes=OUT_SUFFIXES) if args.out else None
    geo = load(args)  # after every check of the options
    against = args.against
    if args.tier:
        against = [args.tier, *[a for a in (against or []) if a != args.tier]]
    table = systems(
        geo, level=args.level, against=against, measure=args.measure, tolerance=args.tolerance
    )
    if not args.json:
        sys.stdout.write(heading(geo, table.attrs["level"], *table.attrs["against"]) + "\n\n")
    # the printed table is some of the columns of --json and of the --out file, named as there
    cols = ["system", "name", "population"]
    for lv in table.attrs["against"]:  # name the areas touched for levels covering part only
        cols += [f"coterminosity_index_{lv}", f"n_split_{lv}"]
        cols += [f"touched_{lv}"] if lv in table.attrs["partial"] else []
    emit(args, table if args.json else table[cols])
    if out is not None:
        if out.suffix.lower() == ".json":
            atomic_write(
                out, lambda q: table.to_json(q, orient="records", indent=2), suffixes=OUT_SUFFIXES
            )
        else:
            atomic_write_csv(out, table, suffixes=OUT_SUFFIXES)  # names cannot run as formulas
        wrote(args, out, f"{len(table)} rows × {len(table.columns)} columns, named as printed")
    return 0
