"""``coterminus alignment``: is each ICB coterminous with one or more strategic authorities?

Over :func:`coterminus.analysis.alignment.alignment` (the scorecard) and
:mod:`coterminus.outputs.scorecard` (its map and report).

::

    coterminus alignment --vintage 2026
    coterminus alignment --vintage 2026 --scenario icb-clusters-2027 --compare
    coterminus alignment --vintage 2026 --out icbs.csv --map england.png --report scorecard.html

A ``--scenario`` takes the place of the level it redraws: a scenario of NHS units (merged ICBs)
is scored as the units, one of authorities (``sa-proposed-2026``) as the authorities, any other
council scenario as the councils whose splits are listed. ``--compare`` prints today's scorecard
and the scenario's side by side.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["alignment", "--scenario", "icb-clusters-2027", "--compare"])
>>> args.scenario, args.compare, args.units, args.func is run
('icb-clusters-2027', True, None, True)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .options import HelpFormatter, UsageError, add_common, add_tolerance, example_epilog

__all__ = ["add_parser", "run"]

#: Columns of the units table printed (names as in the CSV and JSON).
PRINTED_UNITS = [
    "code",
    "name",
    "population",
    "status",
    "J",
    "authorities_split",
    "councils_split",
    "change_people",
]
#: Columns of the authorities table printed, where the geography has them.
PRINTED_AUTHORITIES = [
    "code",
    "name",
    "kind",
    "established",
    "instrument",
    "ons_code",
    "population",
    "n_units",
    "main_unit_name",
    "people_outside_main",
]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``alignment`` command to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "alignment",
        help="scorecard: is each ICB coterminous with one or more strategic authorities?",
        description="The alignment scorecard (coterminus.alignment): per ICB (or any --units), "
        "whether it is coterminous with one or more whole strategic authorities (or any "
        "--authorities), J, the authorities it touches and splits, the councils it splits, and "
        "the smallest change that would make it coterminous (which councils or LSOAs, how many "
        "people, to or from which ICB); per authority, the ICBs it is split across and the "
        "people outside its main one; totals for England.",
        epilog=example_epilog(
            "coterminus alignment --vintage 2026",
            "coterminus alignment --vintage 2026 --scenario icb-clusters-2027 --compare",
        ),
        formatter_class=HelpFormatter,
    )
    add_common(p, out="also write the units table (.csv) or everything (.json) to this file")
    p.add_argument(
        "--units",
        default=None,
        metavar="LEVEL",
        help="level scored, e.g. icb or a scenario level (default: the vintage's systems "
        "level, or the --scenario's NHS areas)",
    )
    p.add_argument(
        "--authorities",
        default=None,
        metavar="LEVEL",
        help="level of the authorities, e.g. sa or cauth (default: the vintage's, strategic "
        "authorities in 2026)",
    )
    p.add_argument(
        "--councils",
        default=None,
        metavar="LEVEL",
        help="council level whose splits are listed (default: upper-tier councils)",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="with --scenario: today's scorecard and the scenario's side by side",
    )
    p.add_argument(
        "--map", metavar="FILE", help="national map: .html (interactive), .png, .pdf, .svg"
    )
    p.add_argument("--offline", action="store_true", help="embed Leaflet in an .html --map")
    p.add_argument("--report", metavar="FILE", help="report section(s) as .html or .pdf")
    add_tolerance(p)
    p.set_defaults(func=run)
    return p


def _roles(
    args: argparse.Namespace, geo: Any, authority_level: Any, catalogue: Any
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The levels of today's scorecard and of the scenario's (the scenario takes one role)."""
    today = {"units": args.units, "authorities": args.authorities, "councils": args.councils}
    if not args.scenario:
        return today, today
    level = geo.level_names[-1]  # the scenario level cli.load added
    named = catalogue().get(str(args.scenario).strip())
    authorities = geo.resolve_level(args.authorities) if args.authorities else authority_level(geo)
    if geo.levels[level].is_nhs:
        role = "units"
    elif (named is not None and named.base == authorities) or (
        named is None and geo.partial(level)
    ):
        role = "authorities"
    else:
        role = "councils"
    if today[role] is not None:
        msg = f"--scenario is scored as the {role}; leave out --{role}, or leave out --scenario."
        raise UsageError(msg)
    return today, {**today, role: level}


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus alignment``: the heading, the summary, the tables; files on request."""
    from coterminus.analysis.alignment import alignment, authority_level
    from coterminus.data.atomic import atomic_write, atomic_write_text, check_output_path
    from coterminus.data.scenarios import catalogue
    from coterminus.geography.provenance import heading
    from coterminus.geography.resolve import display_names
    from coterminus.outputs.scorecard import SCORECARD_SUFFIXES, save_scorecard
    from coterminus.vocabulary.words import join_names

    from .load import load
    from .output import emit, frame_text

    if args.compare and not args.scenario:
        msg = "--compare needs --scenario NAME|CSV (coterminus scenarios lists the named ones)"
        raise UsageError(msg)
    out = check_output_path(args.out, suffixes=(".csv", ".json")) if args.out else None
    for given in (args.map, args.report):
        if given:
            check_output_path(given, suffixes=SCORECARD_SUFFIXES)
    geo = load(args)
    today_roles, scenario_roles = _roles(args, geo, authority_level, catalogue)
    right = alignment(geo, **scenario_roles, tolerance=args.tolerance)
    left = alignment(geo, **today_roles, tolerance=args.tolerance) if args.compare else None
    shown = [x for x in (left, right) if x is not None]
    levels = [lv for a in shown for lv in (a.level, a.authority_level, a.council_level)]
    if out is not None:
        if out.suffix.lower() == ".json":
            payload = left.compare(right).to_dict() if left is not None else right.to_dict()
            atomic_write_text(out, _json(payload))
        else:
            table = left.compare(right).totals if left is not None else right.units
            atomic_write(out, lambda q: table.to_csv(q, index=left is not None))
    if args.map:
        save_scorecard(right, geo, args.map, kind="map", offline=args.offline)
    if args.report:
        save_scorecard(shown, geo, args.report)
    if args.json:
        payload = left.compare(right).to_dict() if left is not None else right.to_dict()
        payload["heading"] = heading(geo, *levels)
        sys.stdout.write(_json(payload) + "\n")
        return 0
    sys.stdout.write(heading(geo, *levels) + "\n\n")
    if left is not None:
        comparison = left.compare(right)
        sys.stdout.write(comparison.summary + "\n\n")
        sys.stdout.write(frame_text(comparison.totals) + "\n\n")
        changed = comparison.authorities
        cols = [c for c in changed.columns if c.startswith("n_units")]
        changed = changed[changed[cols[0]] != changed[cols[1]]].copy()
        for col in [c for c in changed.columns if c.startswith("main_unit_name")]:
            changed[col] = display_names(list(changed[col].fillna("")))
        if len(changed):
            sys.stdout.write(f"{left.labels['authorities']} whose split changes:\n")
            emit(args, changed.set_index("code"))
            sys.stdout.write("\n")
    else:
        sys.stdout.write(right.summary + "\n\n")
    for a in shown[-1:]:
        units = a.units[PRINTED_UNITS].set_index("code")
        units["name"] = display_names(list(units["name"]))  # short, still distinct
        emit(args, units)
        changes = a.units[a.units["change_people"].fillna(0) > 0]
        if len(changes):
            sys.stdout.write(f"\nsmallest change to be coterminous ({a.labels['units']}):\n")
            for r in changes.itertuples():
                target = join_names(str(r.target).split("; "))
                sys.stdout.write(f"  {r.name}: {r.smallest_change} (to be exactly {target})\n")
        sys.stdout.write("\n")
        cols = [c for c in PRINTED_AUTHORITIES if c in a.authorities.columns]
        auth = a.authorities[cols].set_index("code")
        auth["main_unit_name"] = display_names(list(auth["main_unit_name"].fillna("")))
        emit(args, auth)
    for path in (out, args.map, args.report):
        if path:
            sys.stdout.write(f"wrote {Path(path)}\n")
    return 0


def _json(payload: Any) -> str:
    return json.dumps(payload, indent=2, default=str)
