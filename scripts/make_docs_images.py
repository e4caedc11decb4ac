"""Render the README's images into docs/img/, and every board-readiness case the tests check.

    python scripts/make_docs_images.py            # write docs/img/*.png
    python scripts/make_docs_images.py --out DIR  # every case (README images and the rest) into DIR

Each :class:`Case` draws one output the way a user would (print figures, interactive maps
screenshotted in headless Chromium, report pages) on the data embedded in coterminus, so
anyone can regenerate the images with no data folder. ``tests/test_board_ready.py`` renders
every case with the same code and checks what a board paper needs: no two labels overlap,
every council behind a mismatch is named, the frame is within 1.5 × the footprint, furniture
sits in empty space, the legend lists what is drawn, no report section is empty and no code
breaks across lines.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "img"
sys.path.insert(0, str(REPO / "tests"))  # the headless-Chromium helper of the test suite

os.environ.pop("COTERMINUS_DATA_DIR", None)  # the embedded data: anyone can run this
os.environ.setdefault("MPLBACKEND", "Agg")

import coterminus as ct  # noqa: E402 - after the environment is set
from coterminus.outputs import figures, maps, report  # noqa: E402
from coterminus.outputs.layers import footprint_layers, plan_assessments, plan_layers  # noqa: E402
from coterminus.outputs.scorecard import scorecard_figure  # noqa: E402

#: Viewport of map screenshots and width of report screenshots (CSS pixels).
MAP_VIEWPORT = (1200, 820)
REPORT_VIEWPORT = (1000, 1500)
#: Resolution of the PNGs of print figures in docs/img.
DOCS_DPI = 110


@dataclass
class Case:
    """One output to draw: ``kind`` is "figure", "map" or "report"; ``doc`` its docs/img name."""

    name: str
    kind: str
    build: Callable[[dict[int, Any]], Any]
    doc: str | None = None
    #: The result behind it (an Assessment, or the assessments of a plan's new units), for checks.
    result: Callable[[dict[int, Any]], Any] | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def geographies() -> dict[int, Any]:
    """The vintages the cases use, loaded once."""
    return {2019: ct.load(2019), 2024: ct.load(2024), 2026: ct.load(2026)}


def _coventry_rugby(g: dict[int, Any]) -> Any:
    return ct.assess(g[2019], "05A")


def _frimley(g: dict[int, Any]) -> Any:
    return ct.assess(g[2024], system="Frimley", units="icb")


def _cw(g: dict[int, Any]) -> Any:
    return ct.assess(g[2019], system="Coventry and Warwickshire")


def _midlands_plan(g: dict[int, Any]) -> Any:
    r = ct.mergers(
        g[2024], "Midlands", units="icb", within="nhser", against=["utla", "cauth"],
        constraints=ct.Constraints(no_split="utla"), top=1,
    )  # fmt: skip
    return plan_assessments(g[2024], r.plans(1)[0])


def _alignment_2026(g: dict[int, Any]) -> Any:
    return ct.alignment(g[2026])


def _cheshire_top6(g: dict[int, Any]) -> Any:
    return ct.mergers(g[2019], "Cheshire and Merseyside", top=6).plans(6)


CASES: list[Case] = [
    Case(
        "alignment-2026",
        "figure",
        lambda g: scorecard_figure(_alignment_2026(g), g[2026]),
        doc="alignment-2026.png",
        result=_alignment_2026,
        notes="the 36 ICBs of April 2026 by status, strategic authorities outlined",
    ),
    Case(
        "coventry-rugby-map",
        "figure",
        lambda g: figures.figure_of_layers(footprint_layers(_coventry_rugby(g))),
        doc="coventry-rugby-map.png",
        result=_coventry_rugby,
        notes="the district behind the mismatch (Rugby) is named",
    ),
    Case(
        "frimley-map",
        "figure",
        lambda g: figures.figure_of_layers(footprint_layers(_frimley(g))),
        doc="frimley-map.png",
        result=_frimley,
    ),
    Case(
        "interactive-map",
        "map",
        lambda g: maps.draw_layers(footprint_layers(_frimley(g)), maps.DrawOptions(offline=True)),
        doc="interactive-map.png",
        result=_frimley,
    ),
    Case(
        "coventry-rugby-interactive",
        "map",
        lambda g: maps.draw_layers(
            footprint_layers(_coventry_rugby(g)), maps.DrawOptions(offline=True)
        ),
        result=_coventry_rugby,
    ),
    Case(
        "england-one-ccg-per-ics",
        "figure",
        lambda g: figures.footprint_figure(
            g[2019],
            draw=figures.DrawOptions(
                title="One CCG per ICS, 2019: councils by share in one system"
            ),
        ),
        doc="england-one-ccg-per-ics.png",
    ),
    Case(
        "cheshire-merseyside-plans",
        "figure",
        lambda g: figures.plans_figure(
            g[2019],
            _cheshire_top6(g),
            draw=figures.DrawOptions(
                ncols=2, title="Cheshire and Merseyside: top six merger plans"
            ),
        ),
        notes="checked, not in the README (its merger section shows the run's table instead)",
    ),
    Case(
        "icbs-and-combined-authorities",
        "figure",
        lambda g: figures.split_figure(g[2024], units="icb", against="cauth"),
        doc="icbs-and-combined-authorities.png",
    ),
    Case(
        "icbs-and-combined-authorities-interactive",
        "map",
        lambda g: maps.footprint_map(
            g[2024], units="icb", against="cauth", within="icb", draw=maps.DrawOptions(offline=True)
        ),
    ),
    Case(
        "midlands-plan",
        "figure",
        lambda g: figures.figure_of_layers(plan_layers(g[2024], _midlands_plan(g))),
        result=_midlands_plan,
    ),
    Case(
        "report",
        "report",
        lambda g: report.report(g[2019], system="Coventry and Warwickshire"),
        doc="report.png",
        result=_cw,
    ),
    Case(
        "frimley-report",
        "report",
        lambda g: report.report(g[2024], assessment=_frimley(g)),
        result=_frimley,
    ),
]


def render(case: Case, g: dict[int, Any], out: Path) -> dict[str, Any]:
    """Draw a case into ``out`` (a PNG; an HTML page too for maps and reports).

    Returns what was drawn: ``{"png": path, "object": figure or map or HTML text, "html":
    path}``; a map or report page is opened in headless Chromium (``tests/browser.py``) for
    its screenshot, and stays described by the returned paths.
    """
    out.mkdir(parents=True, exist_ok=True)
    obj = case.build(g)
    png = out / f"{case.name}.png"
    done: dict[str, Any] = {"png": png, "object": obj}
    if case.kind == "figure":
        figures.save_figure(obj, png, dpi=DOCS_DPI)
        return done
    from browser import open_page  # needs playwright and chromium

    page = out / f"{case.name}.html"
    if case.kind == "map":
        maps.save_map(obj, page, offline=True)
        viewport = MAP_VIEWPORT
    else:
        page.write_text(obj, encoding="utf-8")
        viewport = REPORT_VIEWPORT
    done["html"] = page
    with open_page(page, viewport=viewport, settle_ms=600) as shot:
        shot.page.screenshot(path=str(png), full_page=False)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="render every case into DIR")
    parser.add_argument("names", nargs="*", help="only these cases")
    args = parser.parse_args(argv)
    g = geographies()
    for case in CASES:
        if args.names and case.name not in args.names:
            continue
        if args.out is None and case.doc is None:
            continue
        target = args.out or DOCS
        done = render(case, g, target)
        if args.out is None and case.doc and done["png"].name != case.doc:
            done["png"].rename(target / case.doc)
        for extra in ("html",):
            if args.out is None and extra in done:
                Path(done[extra]).unlink()
        print(f"{case.name}: {done['png']}")  # noqa: T201 - a script
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
