"""``coterminus optimise``: the proven best merger plans of a system of any size, or of every one.

Over :func:`coterminus.plans.optimise.optimise` (one system) and
:func:`coterminus.plans.regions.optimise_systems` (``--all-systems``). The question's options
are those of ``coterminus mergers`` (:func:`coterminus.cli.mergers.add_question`).

Examples
--------
::

    coterminus optimise --vintage 2024 --units ltla --codes <14 councils> --across --min-pop 500000
    coterminus optimise --vintage 2024 --units ltla --within nhser --system Midlands \\
        --against utla cauth --time-limit 600
    coterminus optimise --vintage 2026 --units utla --within nhser --all-systems --against sa \\
        --today icb --compare icb-clusters-2027 --out england/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .mergers import add_question, constraint_options, question_options
from .options import UsageError, add_common, number

__all__ = ["add_parser", "run"]

EPILOG = """\
examples:
  coterminus optimise --vintage 2024 --units ltla --across --min-pop 500000 --codes \\
      Basildon Braintree Brentwood "Castle Point" Chelmsford Colchester "Epping Forest" Harlow \\
      Maldon Rochford Tendring Uttlesford Southend-on-Sea Thurrock
  coterminus optimise --vintage 2024 --units ltla --within nhser --system Midlands \\
      --against utla cauth --today icb --min-pop 1000000 --max-pop 2966476 --time-limit 600
  coterminus optimise --vintage 2026 --units utla --within nhser --all-systems --against sa \\
      --today icb --compare icb icb-clusters-2027 --out england/
  coterminus optimise --vintage 2024 --units utla --within nhser --system "South West" \\
      --against cauth --today icb -k 2

The objective is that of coterminus mergers (criteria in people, summed over blocks; ties go
to the plan moving fewest people from today). "proven optimal" means no plan keeping the rules
scores lower; otherwise the gap to the best lower bound is printed. --out DIR writes
optimum.csv (one row per unit), summary.csv (one row per system), optimum.json, optimum.md
(the report section) and optimum.png (the map).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``optimise`` subcommand on the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "optimise",
        help="the proven best merger plan of a system of any size (MILP), or of every system",
        description=(
            "Find the best merger plan of the units of a system — the 24–33 upper-tier councils "
            "of an NHS region, the 65 lower-tier councils of the Midlands — by the objective of "
            "coterminus mergers, with a proof of optimality (or the gap at the time limit), the "
            "k best distinct alternatives and the exact number of plans that keep the rules."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="write optimum.csv, summary.csv, optimum.json, optimum.md and optimum.png to this "
        "folder (created if missing) (default: none)",
    )
    add_question(p)
    p.add_argument(
        "-k",
        "--k",
        dest="k",
        type=number(integer=True, low=1),
        default=None,
        help="distinct plans to find, best first (default 3; 1 per system with --all-systems)",
    )
    p.add_argument(
        "--time-limit",
        type=number(low=0, low_open=True),
        default=600.0,
        metavar="SECONDS",
        help="stop each system after this long with the best plan and its gap (default 600)",
    )
    p.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="LEVEL|CSV",
        help="score these footprints beside the optimum: a level (icb), a named scenario "
        "(icb-clusters-2027) or a CSV of member,area[,area_name] rows (default: today's "
        "footprints, --today)",
    )
    p.add_argument(
        "--islands",
        choices=["nearest", "keep"],
        default="nearest",
        help="a unit touching no other (Isle of Wight, Isles of Scilly) is joined to its nearest "
        "unit, or kept alone (default nearest)",
    )
    p.add_argument(
        "--no-count", action="store_true", help="do not count the plans (default: counted)"
    )
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus optimise``; returns the exit code (errors propagate to ``cli.call``)."""
    if not (args.system or args.all_systems or args.ccgs):
        msg = "give --system NAME, --all-systems, or --codes CODE [CODE ...]"
        raise UsageError(msg)
    if args.all_systems and not args.within:
        msg = "--all-systems needs --within LEVEL (the level of the systems, e.g. nhser)"
        raise UsageError(msg)
    parsed = question_options(args)  # bad --weights and --n-blocks fail before loading
    from coterminus.geography.provenance import sentences
    from coterminus.outputs.optimum import write_optimum
    from coterminus.plans.constraints import Constraints, RunOptions
    from coterminus.plans.optimise import optimise
    from coterminus.plans.regions import add_compared, optimise_systems, regional_of

    from .load import load

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; give a folder (created if missing)"
        raise UsageError(msg)
    geo = load(args)
    constraints = Constraints(**constraint_options(args, geo, parsed))
    progress = not args.no_progress and not args.json and sys.stderr.isatty()
    run_options = RunOptions(progress=progress)
    if args.all_systems:
        geo, compared = add_compared(geo, args.compare, args.today or args.units)
        res = optimise_systems(
            geo, constraints=constraints, compare=compared, k=args.k or 1,
            time_limit=args.time_limit, islands=args.islands, run=run_options,
        )  # fmt: skip
        if out is not None:
            paths = write_optimum(geo, res, out)
        text = res.text()
        payload = res.to_dict()
    else:
        geo, compared = add_compared(geo, args.compare)  # a bad name fails before solving
        opt = optimise(
            geo, args.system, members=args.ccgs, constraints=constraints, k=args.k or 3,
            time_limit=args.time_limit, count=not args.no_count, islands=args.islands,
            run=run_options,
        )  # fmt: skip
        text = opt.summary(rows=len(opt.plans))
        if out is not None or args.compare:
            if not args.compare:  # today's footprints by default, once the units are known
                geo, compared = add_compared(geo, [], args.today or opt.units)
            one = regional_of(
                geo, {str(opt.system or "custom"): opt}, {}, compared, opt.seconds, args.within
            )
            if out is not None:
                paths = write_optimum(geo, one, out)
            text += "\n\n" + one.text()
        payload = opt.to_dict()
    if args.json:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")
        if out is not None:
            sys.stdout.write("written: " + ", ".join(str(p) for p in paths) + "\n")
        if geo.notes():
            sys.stdout.write(sentences(geo.notes()) + "\n")
    return 0
