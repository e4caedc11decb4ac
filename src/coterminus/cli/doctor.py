"""``coterminus doctor``: the problems of one boundary layer (invalid geometry, gaps, overlaps).

Over :func:`coterminus.data.doctor.doctor`. Exit code 1 when a problem is fatal.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["doctor", "--vintage", "2019", "--level", "utla", "--json"])
>>> args.vintage, args.level, args.json, args.func is run
(2019, 'utla', True, True)
"""

from __future__ import annotations

import argparse
from typing import Any

from .options import HelpFormatter, add_common, example_epilog

__all__ = ["add_parser", "run"]

#: Words ``--level`` takes for the building blocks (LSOAs), besides the vintage's own name.
BLOCK_WORDS = ("lsoa", "lsoas", "block")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``doctor`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
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
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus doctor``: print the problems; 1 when one is fatal."""
    from coterminus.data.doctor import doctor

    from .load import load
    from .output import emit

    geo = load(args)
    if args.level and args.level.strip().lower() in (*BLOCK_WORDS, geo.block):
        layer = geo.lsoa_polygons()
    else:
        layer = geo.layer(args.level or geo.level_names[0])
    problems = doctor(layer)
    emit(args, problems)
    return 1 if (problems["severity"] == "fatal").any() else 0
