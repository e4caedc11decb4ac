"""``coterminus map`` and ``coterminus report``: a footprint or merger plan drawn, or written up.

Over :func:`coterminus.outputs.maps.map_layers` and :func:`~coterminus.outputs.maps.draw_layers` (HTML maps),
:mod:`coterminus.outputs.figures` (print maps) and :func:`coterminus.outputs.report.report`.

::

    coterminus map --vintage 2019 --system "Coventry and Warwickshire" --offline --out cw.html
    coterminus map --vintage 2019 --ccgs 05A 05R 05H --out cw.pdf
    coterminus map --vintage 2019 --plan "E38000038,E38000195;E38000164" --out plan.png
    coterminus map --vintage 2024 --system "Coventry and Warwickshire" --units icb \
        --against utla cauth --out cw24.html
    coterminus map --vintage 2024 --units icb --against cauth --out icb-cauth.png
    coterminus report --vintage 2019 --system "Coventry and Warwickshire" --out cw-report.html
    coterminus report --vintage 2024 --system QWU --units icb --paper letter --out cw24.pdf

The output path is checked (folder exists and is writable, known suffix) before any data is
loaded. ``.html`` makes an interactive map; ``.png`` (300 dpi), ``.pdf`` and ``.svg`` a print map.
Every level comes from the vintage (``--units``, ``--against``, ``--within``): nothing here
knows CCGs or councils by name. With no footprint, ``map`` draws every unit of ``--units``
against the first ``--against`` level: a print map hatches the areas split between units
(e.g. combined authorities split between ICBs), an HTML map shades each area by the largest
share of it in one unit.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coterminus.data.atomic import check_output_path
from coterminus.errors import ParameterError
from coterminus.vocabulary.plan_text import parse_plan

from .options import (
    HelpFormatter,
    UsageError,
    add_common,
    add_footprint,
    add_levels,
    example_epilog,
)

if TYPE_CHECKING:
    from coterminus.geography.bundle import Geography

__all__ = ["add_parser", "run_map", "run_report"]

log = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Add the ``map`` and ``report`` commands to the main parser's subparsers.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="coterminus")
    >>> add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["map", "--system", "E54000018", "--offline", "--out", "m.html"])
    >>> args.command, args.system, args.offline, args.tier, args.func.__name__
    ('map', 'E54000018', True, 'both', 'run_map')
    >>> args = parser.parse_args(["report", "--vintage", "2024", "--units", "icb", "--against",
    ...                           "utla", "cauth", "--paper", "letter", "--out", "r.pdf"])
    >>> args.vintage, args.units, args.against, args.within, args.paper, args.measure
    (2024, 'icb', ['utla', 'cauth'], None, 'letter', 'population')
    """
    p = _command(
        subparsers,
        "map",
        out=".html, .png, .pdf or .svg",
        example="--offline --out cw.html",
        help="map a footprint or merger plan against the councils (.html, .png, .pdf, .svg)",
        description="Map a footprint (or merger plan) against the councils, or any levels "
        "(--against): an interactive HTML map, or a print map (PNG at 300 dpi, PDF, SVG). With "
        "no footprint, every unit of --units is drawn against the first --against level (a "
        "print map hatches the areas split between units).",
        extra_example="coterminus map --vintage 2024 --units icb --against cauth --out icb-cauth.png",
    )
    p.add_argument(
        "--tier",
        default="both",
        metavar="LEVEL",
        help="the --against level to draw, or 'both' for every one of them (HTML: the first "
        "shown, the others switched off; print: the first shaded, the others' boundaries drawn) "
        "(default both)",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="embed the map's JavaScript and CSS so the HTML opens with no network "
        "(default: off, Leaflet from its CDN)",
    )
    p.add_argument(
        "--simplify",
        default="auto",
        metavar="METRES",
        help="display simplification of the boundaries in metres, 'auto' (by map extent) or "
        "'none' (default auto)",
    )
    p.set_defaults(func=run_map)

    p = _command(
        subparsers,
        "report",
        out=".html or .pdf",
        example="--out cw-report.html",
        help="board-paper report of a footprint or merger plan (.html or .pdf)",
        description="A board-paper report: verdicts for tests I and II, population and council "
        "tables, the people outside, place sizes, the map, a method note and the other merger "
        "criteria for the authors to complete.",
        extra_example="coterminus report --vintage 2024 --system QWU --units icb --paper letter "
        "--out cw24.pdf",
    )
    p.add_argument(
        "--tier",
        default=None,
        metavar="LEVEL",
        help="level of the headline verdict, one of --against (default: the first of them)",
    )
    p.add_argument(
        "--title",
        help='report title (default: "NAME: coterminosity with local authorities", or '
        '"Merger plan: N new CCGs", in the words of the units\' level)',
    )
    p.set_defaults(func=run_report)


def _command(
    subparsers: Any, name: str, *, out: str, example: str, extra_example: str, **kwargs: str
) -> argparse.ArgumentParser:
    """The ``map`` or ``report`` parser: the common options, an output file, a footprint or
    plan, the levels, the measure and the paper."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        name,
        epilog=example_epilog(
            f'coterminus {name} --vintage 2019 --system "Coventry and Warwickshire" {example}',
            extra_example,
        ),
        formatter_class=HelpFormatter,
        **kwargs,
    )
    add_common(p, json=False, out=f"output file: {out}", out_required=True)
    add_footprint(p, plan=True, measure=True)
    add_levels(p)
    p.add_argument(
        "--paper",
        choices=["a4", "letter"],
        default="a4",
        help="page size of a PDF report or print map: a4 or letter (US Letter) (default a4)",
    )
    return p


def _who(args: argparse.Namespace, *, optional: bool = False) -> dict[str, Any]:
    given = [n for n in ("ccgs", "system", "plan") if getattr(args, n, None)]
    if optional and not given:
        return {}
    if len(given) != 1:
        msg = 'give exactly one of --ccgs CODE [CODE ...], --system NAME or --plan "A,B;C"' + (
            f" (got {', '.join('--' + g for g in given)})" if given else ""
        )
        raise UsageError(msg)
    if args.plan:
        return {"plan": parse_plan(args.plan, what="--plan")}
    if args.system:
        return {"system": args.system}
    return {"footprint": list(args.ccgs)}


def _simplify_arg(text: str) -> Any:
    if str(text).lower() in ("none", "0", "off"):
        return None
    if str(text).lower() == "auto":
        return "auto"
    try:
        metres = float(text)
    except ValueError:
        metres = -1.0
    if not 0 <= metres < 1e6:  # also refuses nan and inf
        msg = f"--simplify {text!r}; give metres (e.g. 50), 'auto' or 'none'."
        raise ParameterError(msg) from None
    return metres


def _tier(geo: Geography, tier: str | None) -> str | None:
    if tier is None or tier in ("both", "all"):
        return tier
    return str(geo.resolve_level(tier))


def run_map(args: argparse.Namespace) -> int:
    """``coterminus map``: write an interactive (.html) or print (.png/.pdf/.svg) map."""
    from coterminus.analysis.assess import default_against
    from coterminus.analysis.systems import systems_level
    from coterminus.outputs import figures, maps
    from coterminus.outputs.options import DrawOptions

    from .load import load
    from .output import wrote

    out = check_output_path(args.out, suffixes=maps.MAP_SUFFIXES + figures.FIGURE_SUFFIXES)
    who = _who(args, optional=True)
    html = out.suffix.lower() in maps.MAP_SUFFIXES
    if not html and args.offline:
        log.info("--offline only matters for .html maps; %s needs no network anyway", out.suffix)
    draw = DrawOptions(
        simplify_m=_simplify_arg(args.simplify),
        paper=args.paper,
        offline=bool(args.offline and html),
    ).check()
    geo = load(args)  # after every check of the options
    draw = draw.replace(tier=_tier(geo, args.tier)).check(geo)
    levels = {"units": args.units, "against": args.against, "within": args.within}
    if not who:  # every unit of --units against the first --against level
        units = geo.resolve_level(args.units) if args.units else systems_level(geo)
        against = args.against or default_against(geo, units)
        if not html:
            fig = figures.split_figure(
                geo,
                units=units,
                against=against[0],
                measure=args.measure,
                tolerance=args.tolerance,
                draw=draw,
            )
            return wrote(args, figures.save_figure(fig, out), "a print map, 300 dpi")
        levels = {"units": units, "against": against, "within": args.within or units}
    layers = maps.map_layers(
        geo,
        **who,
        **levels,
        tolerance=args.tolerance,
        simplify_m=draw.simplify_m,
        measure=args.measure,
    )
    if html:
        m = maps.draw_layers(layers, draw)
        kind = "an interactive map" + (" that opens with no network" if draw.offline else "")
        return wrote(args, maps.save_map(m, out, offline=draw.offline), kind)
    fig = figures.figure_of_layers(layers, draw)
    return wrote(
        args,
        figures.save_figure(fig, out),
        "a print map" + (", 300 dpi" if out.suffix.lower() == ".png" else ""),
    )


def run_report(args: argparse.Namespace) -> int:
    """``coterminus report``: write a board-paper report (.html or .pdf)."""
    from coterminus.outputs.options import DrawOptions
    from coterminus.outputs.report import REPORT_SUFFIXES, report

    from .load import load
    from .output import wrote

    out = check_output_path(args.out, suffixes=REPORT_SUFFIXES)  # before any heavy work
    who = _who(args)
    draw = DrawOptions(title=args.title, paper=args.paper).check()
    geo = load(args)
    written = report(
        geo,
        **who,
        out=out,
        units=args.units,
        against=args.against,
        within=args.within,
        tolerance=args.tolerance,
        measure=args.measure,
        draw=draw.replace(tier=_tier(geo, args.tier)),
    )
    assert isinstance(written, Path)
    return wrote(args, written, "a board-paper report")
