"""Board-paper report of a footprint or a merger plan: one self-contained HTML file, or a PDF.

The report works at any level of any vintage (CCGs in 2019, sub-ICB locations or ICBs in 2024,
a scenario's areas), against any levels, with every word from the geography's level labels.
It holds the summary verdicts for test I (when a level groups the units) and test II (one
card per level assessed against) with their tolerance, a plain-language explanation, the
member units and the areas the footprint touches (per level) with the people (or area)
inside and outside, indicative place sizes against 250,000–500,000, the static
map, a method note, and the non-geographic merger criteria listed for the authors to complete —
not scored.

One template (``templates/report.html``) makes both media. The HTML embeds the map as a base64
PNG, so it needs no other file and no network. The PDF is the same page typeset by WeasyPrint
(an HTML/CSS paged-media engine): A4 or US Letter pages with the margins of
:data:`coterminus.outputs.figures.MARGINS_MM`, a running header and numbered footer, headings that wrap,
tables that split across pages with their header repeated, and the map as a vector (SVG) figure
the width of the text block. Names are text everywhere: the template escapes them and the
figures never read them as mathtext.

Examples
--------
>>> import coterminus
>>> from coterminus.outputs.report import report
>>> geo = coterminus.load(2019)
>>> report(geo, system="Coventry and Warwickshire", out="cw-report.html")
PosixPath('cw-report.html')
>>> report(geo, plan=[["E38000038", "E38000195"], ["E38000164"]], out="plan.pdf")
PosixPath('plan.pdf')
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import jinja2
import matplotlib as mpl
import pandas as pd

from .._version import __version__
from ..analysis.assess import assess
from ..analysis.places import places as place_groupings
from ..data.atomic import atomic_write, atomic_write_text, check_output_path
from ..errors import (
    CoterminusError,
    EnumerationTooLargeError,
    MissingDependencyError,
    ParameterError,
)
from ..geography.provenance import era_criteria
from ..vocabulary.words import PLACE_BAND, band_text, cap, number, pct
from ._page import MARGINS_MM, check_paper, text_block
from .figures import figure_of_layers
from .layers import (
    check_request,
    footprint_layers,
    plan_assessments,
    plan_layers,
    vintage_attribution,
)
from .options import DrawOptions, PlanLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography
    from .layers import MapLayers

__all__ = [
    "MERGER_CRITERIA",
    "PLACE_BAND",
    "REPORT_SUFFIXES",
    "DrawOptions",
    "place_band",
    "render_html",
    "render_pdf",
    "report",
    "report_context",
]

log = logging.getLogger(__name__)

#: Suffixes :func:`report` writes.
REPORT_SUFFIXES = (".html", ".htm", ".pdf")
#: The non-geographic criteria of NHS England's 2019 merger procedure, with what to evidence
#: (``{unit}`` is the label of the footprint's level: "CCG", "ICB"...).
MERGER_CRITERIA: tuple[tuple[str, str], ...] = (
    ("Clinical leadership", "How clinicians lead the merged {unit} and its places."),
    (
        "Financial management",
        "Financial position and plan of the merged {unit}; how deficits and allocations are "
        "handled.",
    ),
    (
        "Joint working",
        "Arrangements with the councils and NHS providers at system and place level.",
    ),
    ("Engagement with communities", "How patients and the public were engaged and will be."),
    ("20% running-cost savings", "How the merged {unit} meets the 20% reduction in running costs."),
    ("Governing-body approval", "Approval of the merger by each {unit}'s governing body."),
    (
        "Consultation with GP members and Healthwatch",
        "Outcome of the consultation with member practices and local Healthwatch.",
    ),
)

_WHO = {
    "population": {
        "footprint_outside_la_set": "people of the footprint in a council it does not mostly cover",
        "la_set_outside_footprint": "people of a best-fit council who are outside the footprint",
    },
    "area": {
        "footprint_outside_la_set": "area of the footprint in a council it does not mostly cover",
        "la_set_outside_footprint": "area of a best-fit council that lies outside the footprint",
    },
}
#: Words that change with the measure: (population, area).
_WORDS = {
    "amount": ("Population", "Area"),
    "inside": ("People inside footprint", "Area inside footprint"),
    "council_total": ("Council population", "Council area"),
    "outside": ("People", "Area"),
    "nobody": (
        "Nobody: the footprint and its best-fit councils hold exactly the same people at both "
        "tiers.",
        "Nothing: the footprint and its best-fit councils cover exactly the same area at both "
        "tiers.",
    ),
    "map_caption": (
        "Councils shaded by the share of their people inside the footprint",
        "Councils shaded by the share of their area inside the footprint",
    ),
}


#: Height of the text block kept for the heading and caption of the map page (millimetres).
_MAP_HEAD_ROOM_MM = 45.0


def _word(key: str, measure: str) -> str:
    return _WORDS[key][0 if measure == "population" else 1]


#: Where a population sits against the place band, in words: :func:`coterminus.vocabulary.words.band_text`
#: (kept under this name, which the reports have always offered).
place_band = band_text


# ------------------------------------------------------------------------------------------
# content
# ------------------------------------------------------------------------------------------
def _section(geo: Geography, a: Assessment, label: str | None) -> dict[str, Any]:
    people = a.measure == "population"
    verdicts = []
    if a.system is not None and a.within is not None:
        wnames = geo.units(a.within)["name"]
        wlabel = geo.label(a.within)
        dom = str(wnames.get(a.system.dominant, a.system.dominant))
        verdicts.append(
            {
                "test": "Test I",
                "level": cap(geo.label(a.within, plural=True)),
                "ok": bool(a.system.within_one_system),
                "verdict": f"Within one {wlabel}"
                if a.system.within_one_system
                else f"Crosses {geo.label(a.within, plural=True)}",
                "figure": pct(a.system.dominant_share),
                "detail": f"{a.system.dominant_share:.1%} of the "
                + ("people live" if people else "area lies")
                + f" in {dom} (within one {wlabel} if ≥ {1 - a.system.tolerance:.1%}).",
            }
        )
    for t in [a.tier, *[lv for lv in a.against if lv != a.tier]]:
        m = a.tiers[t]
        names = geo.units(t)["name"]
        best = ", ".join(str(names[c]) for c in m.best_fit) or "none"
        split = ", ".join(str(names[c]) for c in m.split)
        touched = int((m.by_la["in_footprint"] > 0).sum())
        verdicts.append(
            {
                "test": "Test II" + (" (headline)" if t == a.tier and len(a.against) > 1 else ""),
                "level": cap(geo.label(t, plural=True)),
                "ok": bool(m.coterminous),
                "verdict": "Coterminous" if m.coterminous else "Not coterminous",
                "figure": f"J = {m.index:.4f}",
                "detail": f"best fit: {best}" + (f"; split: {split}." if split else ".")
                if touched
                else f"touches no {geo.label(t)}.",
            }
        )
    unit_names, unit_pops = _names_and_people(geo, a.units)
    units = geo.units(a.units)
    nhs = units["nhs_code"] if "nhs_code" in units.columns else None
    members = [
        {
            "name": unit_names[c],
            "code": c,
            "nhs_code": "" if nhs is None or pd.isna(nhs[c]) else str(nhs[c]),
            "population": number(unit_pops[c], "population"),
        }
        for c in a.members
    ]
    tiers = []
    for t in a.against:
        m = a.tiers[t]
        names = geo.units(t)["name"]
        rows = [
            {
                "name": str(names.get(code, code)),
                "code": code,
                "inside": number(r["in_footprint"], m.measure),
                "total": number(r["la_total"], m.measure),
                "share_la": pct(r["share_of_la"]),
                "share_fp": pct(r["share_of_footprint"]),
                "status": str(r["status"]),
                "best_fit": "yes" if r["best_fit"] else "no",
            }
            for code, r in m.by_la.iterrows()
            if r["in_footprint"] > 0 or r["best_fit"]
        ]
        tiers.append(
            {
                "tier": t,
                "label": cap(geo.label(t, plural=True)),
                "rows": rows,
                "none": f"The footprint touches no {geo.label(t)}: J = {m.index:.4f} "
                f"({'coterminous' if m.coterminous else 'not coterminous'} at ε = "
                f"{m.tolerance:g}).",
                "index": f"{m.index:.4f}",
                "verdict": "coterminous" if m.coterminous else "not coterminous",
                "eps": f"{m.tolerance:g}",
            }
        )
    outside = [
        {
            "tier": geo.label(str(r["tier"]), plural=True),
            "council": str(r["la_name"]),
            "code": str(r["la"]),
            "who": _who(a.measure, str(r["direction"]), geo.label(str(r["tier"]))),
            "people": number(r["amount"] if "amount" in r.index else r["people"], a.measure),
            "n_lsoa": f"{int(r['n_lsoa']):,}",
            "units": str(r["units"]),
        }
        for _, r in a.mismatch.iterrows()
    ]
    name = a.name if label is None else f"{label}: {a.name}"
    return {
        "name": name,
        "label": label,
        "verdicts": verdicts,
        "explanation": a.explain(),
        "members": members,
        "nhs_codes": any(m["nhs_code"] for m in members),
        "total": number(sum(unit_pops[c] for c in a.members), "population"),
        "tiers": tiers,
        "outside": outside,
    }


def _map_caption(layers: MapLayers) -> str:
    """What the report's map shows, in one sentence (the attribution is at the foot)."""
    if layers.kind == "plan":
        return (
            f"One colour per new {layers.label(layers.units)}, numbered as in the table; "
            f"{layers.label(layers.against[0])} boundaries in black"
            + ("; split areas hatched." if len(layers.callouts) else ".")
        )
    shading = layers.share_label.replace("Share of each", "Areas shaded by the share of each")
    split = "; split areas hatched" if len(layers.callouts) else ""
    return (
        f"{shading}{split}; footprint outline in black, {layers.label(layers.units)} "
        "boundaries dashed; the areas behind every mismatch are named."
    )


def _names_and_people(geo: Geography, level: str) -> tuple[dict[str, str], dict[str, float]]:
    """Names and people of every unit of a level, by code."""
    table = geo.units(level)
    names = {str(k): str(v) for k, v in table["name"].items()}
    people = {str(k): float(v) for k, v in table["population"].items()}
    return names, people


def _who(measure: str, direction: str, area: str) -> str:
    """Which people (or area) a mismatch row counts, in words for the level's areas.

    Examples
    --------
    >>> _who("population", "footprint_outside_la_set", "upper-tier council")
    'people of the footprint in an upper-tier council it does not mostly cover'
    """
    text = _WHO[measure].get(direction, direction)
    article = "an" if area[:1].lower() in "aeiou" else "a"
    return (
        text.replace("a council", f"{article} {{area}}")
        .replace("council", area)
        .replace("{area}", area)
    )


def _method(
    geo: Geography,
    eps: float,
    measure: str,
    simplify_m: float | None,
    *,
    units: str,
    against: Sequence[str],
    within: str | None,
) -> list[str]:
    simp = f"{simplify_m:g} m" if simplify_m else "none"
    pop = measure == "population"
    of = "people" if pop else "area"  # "(people of the area …)" / "(area of the area …)"
    shown = list(dict.fromkeys([units, *against, *([within] if within else [])]))
    levels = ", ".join(geo.label(lv, plural=True) for lv in shown)
    polygons = "; ".join(f"{geo.label(lv, plural=True)}: {geo.resolution(lv)}" for lv in shown)
    block = str(geo.block).upper()
    partial = [lv for lv in against if geo.lsoa[lv].isna().any()]
    partial_note = (
        " "
        + cap(
            " and ".join(geo.label(lv, plural=True) for lv in partial)
            + " cover only part of England: the blocks outside every one of them count as "
            "outside the best fit, so a footprint outside all of them has J = 0."
        )
        if partial
        else ""
    )
    rows = [
        f"Geography: ONS {geo.vintage} {levels} ({geo.boundaries} boundaries). People: "
        f"{geo.population_label}, for the {block} building blocks. Every {geo.label(units)} is "
        f"made of whole {block}s and the {block}s nest in the areas it is assessed against, so "
        "the people of a footprint in each area are counted exactly from the ONS lookup — no "
        "polygon overlay, no slivers."
        if pop
        else f"Geography: ONS {geo.vintage} {levels} ({geo.boundaries} boundaries); shares are "
        "of area (m², British National Grid EPSG:27700), from polygon intersections with "
        "slivers below the documented tolerance removed.",
        f"Boundary polygons drawn (and used for area shares): {polygons}.",
        f"Share of an area inside the footprint s = ({of} of the area in the footprint) / "
        f"({of} of the area). An area is contained if s ≥ 1 − ε, split if ε < s < 1 − ε, "
        f"and marginal if 0 < s ≤ ε, with tolerance ε = {eps:g}.",
        f"Best-fit areas U are those with s ≥ 0.5. Coterminosity index J = ({of} in both the "
        f"footprint and U) / ({of} in the footprint or U) — the Jaccard index of the two areas, "
        + ("1 when they hold the same people. " if pop else "1 when they cover the same area. ")
        + f"Test II (coterminosity with {', '.join(geo.label(lv, plural=True) for lv in against)}) "
        f"is met when J ≥ 1 − ε = {1 - eps:g}. "
        "NHS England sets no numeric threshold for 'coterminous'; this report states its "
        "tolerance and lists "
        + (
            "every person behind a mismatch (the people outside)."
            if pop
            else "all the area behind a mismatch (the area outside)."
        )
        + partial_note,
    ]
    if within is not None:
        rows.append(
            f"Test I (alignment with the local {geo.label(within)}) is met when at least 1 − ε "
            "of the footprint's "
            + (
                f"people live in one {geo.label(within)}."
                if pop
                else f"area lies in one {geo.label(within)}."
            )
        )
    else:
        rows.append(
            f"Test I is not assessed: no level of this geography groups the "
            f"{geo.label(units, plural=True)}."
        )
    rows += [
        "Place sizes (always of people): the populations of the finest council areas wholly "
        "inside the footprint, the best grouping of contiguous whole councils into places "
        f"(exhaustive search, see METHODS.md) and each {geo.label(units)}, against the usual "
        "place band of 250,000–500,000 people.",
        f"The maps simplify boundaries for display only (coverage simplification, {simp}, "
        "keeping neighbours touching); every figure comes from the unsimplified data.",
    ]
    return rows


def report_context(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: PlanLike | None = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
) -> dict[str, object]:
    """Everything the report shows, as plain Python (names unescaped; the template escapes).

    The ``"figure"`` entry is the matplotlib map, the width of the ``paper``'s text block;
    ``"sections"`` has one entry per footprint (one, or one per new unit of a plan), each
    with one explanation and a verdict per level. Every sentence follows ``measure`` (people
    live in an area; area lies in it) and the levels' labels. An ``assessment`` brings its own
    measure and levels, and is not computed again; a footprint or plan is assessed once.
    ``units``, ``against``, ``within`` are as in :func:`coterminus.analysis.assess.assess`;
    ``draw.tier`` is the level of the headline verdict.
    """
    draw = (draw or DrawOptions()).check(geo)
    paper = draw.paper
    title = draw.title
    tier = draw.tier if draw.tier not in (None, "both", "all") else None
    check_request(geo, footprint, system, plan, assessment, what="report")
    against_ = (
        None if against is None else ([against] if isinstance(against, str) else list(against))
    )
    if plan is not None:
        assessments = plan_assessments(
            geo, plan, units=units, against=against_, within=within, tier=tier,
            tolerance=tolerance, measure=measure,
        )  # fmt: skip
        first = next(iter(assessments.values()))
        layers = plan_layers(geo, assessments, simplify_m=draw.simplify_m)
        unit_level = first.units
        n = len(assessments)
        heading = title or f"Merger plan: {n} new {geo.label(unit_level, plural=n != 1)}"
    else:
        if assessment is None:
            if footprint is None and system is None:
                msg = "give the footprint (unit codes or names), system=, assessment= or plan=."
                raise ParameterError(msg)
            assessment = assess(
                geo,
                footprint,
                system=system,
                units=units,
                against=against_,
                within=within,
                tier=tier,
                tolerance=tolerance,
                measure=measure or "population",
            )
        assessments = {"": assessment}
        layers = footprint_layers(assessment, simplify_m=draw.simplify_m)
        first = assessment
        head = assessment.tier
        with_what = (
            "local authorities"
            if all(geo.level(lv).side == "council" for lv in assessment.against)
            else geo.label(head, plural=True)
        )
        heading = title or f"{assessment.name}: coterminosity with {with_what}"
    eps = first.metrics.tolerance
    measure_: str = first.measure  # an assessment brings its own
    unit_level = first.units
    levels = list(first.against)
    sections = [_section(geo, a, g or None) for g, a in assessments.items()]
    unit_names = geo.units(unit_level)["name"]

    plan_rows = []
    if plan is not None:
        head = first.tier
        names = geo.units(head)["name"]
        for g, a in assessments.items():
            plan_rows.append(
                {
                    "name": g,
                    "members": ", ".join(str(unit_names[c]) for c in a.members),
                    "population": number(a.metrics.total, measure_),
                    "test_i": "not assessed"
                    if a.system is None
                    else "yes"
                    if a.system.within_one_system
                    else f"no ({a.system.dominant_share:.1%} in one)",
                    "test_ii": [
                        f"{'yes' if a.tiers[lv].coterminous else 'no'} ({a.tiers[lv].index:.4f})"
                        for lv in levels
                    ],
                    "split": ", ".join(str(names[c]) for c in a.tiers[head].split) or "none",
                }
            )

    places: list[dict[str, str]] = []
    council_levels = [lv for lv in levels if geo.level(lv).side == "council"]
    finest = max(council_levels, key=lambda lv: len(geo.units(lv))) if council_levels else None
    seen: set[str] = set()
    if finest is not None:
        fnames, fpops = _names_and_people(geo, finest)
        for a in assessments.values():
            for code in a.tiers[finest].contained:
                if code in seen:
                    continue
                seen.add(code)
                pop = fpops[code]
                places.append(
                    {
                        "name": f"{fnames[code]} ({code})",
                        "kind": f"{geo.label(finest)}, wholly inside",
                        "population": number(pop, "population"),
                        "band": band_text(pop),
                    }
                )
    all_members = sorted({c for a in assessments.values() for c in a.members})
    places_note = ""
    try:
        grouped = place_groupings(geo, all_members, tolerance=tolerance, units=unit_level)
    except EnumerationTooLargeError as exc:
        log.info("no place grouping in the report: %s", exc)
    except CoterminusError as exc:  # e.g. a footprint of council units: places do not apply
        log.info("no place grouping in the report: %s", exc)
    else:
        places_note = grouped.left_out()
        best = grouped.groupings[grouped.groupings["rank"] == 1]
        # places name the upper level they should not cross after it (crosses_utla, ...)
        crosses = next((c for c in best.columns if str(c).startswith("crosses_")), None)
        for _, row in best.iterrows():
            places.append(
                {
                    "name": str(row["names"]),
                    "kind": "best grouping of contiguous whole councils"
                    + (" (crosses upper tier)" if crosses and row[crosses] else ""),
                    "population": number(float(row["population"]), "population"),
                    "band": band_text(float(row["population"])),
                }
            )
    names_of, people_of = _names_and_people(geo, unit_level)
    if plan is not None:
        for g, a in assessments.items():
            places.append(
                {
                    "name": f"{g}: {a.name}",
                    "kind": f"new (merged) {geo.label(unit_level)}",
                    "population": number(a.metrics.total, "population"),
                    "band": band_text(a.metrics.total),
                }
            )
    else:
        for c in first.members:
            pop = people_of[c]
            places.append(
                {
                    "name": f"{names_of[c]} ({c})",
                    "kind": f"member {geo.label(unit_level)}",
                    "population": number(pop, "population"),
                    "band": band_text(pop),
                }
            )

    width, height = text_block(paper)
    fig = figure_of_layers(
        layers,
        DrawOptions(
            tier=tier, labels=draw.labels, figsize=(width, height - _MAP_HEAD_ROOM_MM / 25.4)
        ),
        attribution=False,  # said once, at the foot of the report
    )
    attribution_text = vintage_attribution(geo)
    return {
        "title": heading,
        "vintage": geo.vintage,
        "version": __version__,
        "generated": _dt.date.today().isoformat(),
        "eps": f"{eps:g}",
        "measure_label": "population (exact, from building blocks)"
        if measure_ == "population"
        else "area",
        "measure": measure_,
        "words": {k: _word(k, measure_) for k in _WORDS},
        "paper": paper,
        "sections": sections,
        "plan_rows": plan_rows,
        "plan_levels": [cap(geo.label(lv, plural=True)) for lv in levels],
        "unit_label": cap(geo.label(unit_level)),
        "unit_plural": geo.label(unit_level, plural=True),
        "new_unit": f"New {geo.label(unit_level)}",
        "against_labels": ", ".join(geo.label(lv, plural=True) for lv in levels),
        "split_head": f"Split {geo.label(first.tier, plural=True)}",
        "population_label": geo.population_label,
        "population_short": str(geo.population_label).split("(")[0].strip() or "population",
        "block_label": f"{str(geo.block).upper()}s",
        "unit_label_lower": geo.label(unit_level),
        "units_involved": f"{cap(geo.label(unit_level, plural=True))} involved",
        "test_i_word": geo.label(first.within) if first.within else "group",
        "map_caption": _map_caption(layers),
        "areas_word": "councils" if layers.area_word == "council" else "areas",
        "places": places,
        "places_note": places_note,
        "dpi": draw.dpi,
        "criteria": [  # the era's criteria, from the footprint's level (issue 18)
            {"name": n, "what": w} for n, w in getattr(era_criteria(geo, unit_level), "items", ())
        ],
        "method": _method(
            geo,
            eps,
            measure_,
            layers.simplify_m,
            units=unit_level,
            against=levels,
            within=first.within,
        ),
        "attribution": attribution_text,
        "boundaries": f"{geo.boundaries} ({geo.vintage}), simplified for display "
        f"({layers.simplify_m:g} m)"
        if layers.simplify_m
        else f"{geo.boundaries} ({geo.vintage})",
        "figure": fig,
        "layers": layers,
        "assessments": assessments,
    }


# ------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------
def _jinja_env() -> Any:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "coterminus.outputs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "htm"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _png_base64(fig: Figure, dpi: int) -> str:
    buf = io.BytesIO()
    with mpl.rc_context({"text.hinting": "no_hinting"}):  # as the layout was measured
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _svg_base64(fig: Figure) -> str:
    """The figure as SVG with its text kept as text (searchable in the PDF)."""
    buf = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "coterminus"}):
        fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _page_css(paper: str) -> dict[str, str]:
    top, right, bottom, left = MARGINS_MM
    return {
        "size": {"a4": "A4", "letter": "letter"}[check_paper(paper)],
        "margin": f"{top:g}mm {right:g}mm {bottom:g}mm {left:g}mm",
    }


def render_html(ctx: Mapping[str, object], *, dpi: int | None = None, media: str = "screen") -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    ctx : dict
        From :func:`report_context`.
    dpi : int, optional
        Resolution of the map (``media="screen"``: embedded as a base64 PNG); default the
        context's (``DrawOptions.dpi``, 150).
    media : {"screen", "print"}
        ``"print"`` embeds the map as SVG (vector, for :func:`render_pdf`).
    """
    env = _jinja_env()
    template = env.get_template("report.html")
    values = {k: v for k, v in ctx.items() if k not in ("figure", "layers", "assessments")}
    fig = cast("Figure", ctx["figure"])
    if media == "print":
        src = "data:image/svg+xml;base64," + _svg_base64(fig)
    else:
        resolution = dpi if dpi is not None else cast("int", ctx.get("dpi", 150))
        src = "data:image/png;base64," + _png_base64(fig, resolution)
    page = _page_css(str(ctx["paper"]))
    return str(template.render(map_src=src, media=media, page=page, **values))


def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as exc:  # the Python package is there, the system libraries are not
        msg = (
            f"PDF reports need the Pango text libraries, which did not load ({exc}); install "
            "them with your package manager (Debian/Ubuntu: apt-get install libpango-1.0-0 "
            "libpangoft2-1.0-0 libharfbuzz-subset0), or write the report as .html."
        )
        raise MissingDependencyError(msg) from exc
    except ImportError as exc:
        msg = (
            "PDF reports need the pdf extra (WeasyPrint), which is not installed: "
            "pip install 'coterminus[pdf]'; or write the report as .html."
        )
        raise MissingDependencyError(msg) from exc
    return weasyprint


def render_pdf(ctx: Mapping[str, object], path: str | Path) -> None:
    """Typeset the report's HTML (print media: SVG map) as a PDF with WeasyPrint.

    The pages are ``ctx["paper"]`` (A4 or US Letter) with the margins of
    :data:`coterminus.outputs.figures.MARGINS_MM`; the page CSS is in the template.
    """
    weasyprint = _weasyprint()
    html = render_html(ctx, media="print")
    fetcher_class = getattr(weasyprint, "URLFetcher", None)
    kw = {} if fetcher_class is None else {"url_fetcher": fetcher_class(allowed_protocols={"data"})}
    doc = weasyprint.HTML(string=html, base_url=None, **kw)  # fetches nothing but data: URLs
    doc.write_pdf(str(path))


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------
def report(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: PlanLike | None = None,
    assessment: Assessment | None = None,
    out: str | Path | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
) -> Path | str:
    """A board-paper report of a footprint or a merger plan.

    Parameters
    ----------
    geo : Geography
    footprint, system, plan, assessment
        What to report, as in :func:`coterminus.outputs.layers.map_layers`: a footprint (unit
        codes, NHS codes or names of any level — CCGs, sub-ICB locations, ICBs, a scenario's
        areas; every unit of a group; or an existing :func:`coterminus.assess` result, which
        is not computed again), or a merger plan (blocks of units of one level).
    out : str or Path, optional
        ``.html`` (one self-contained file) or ``.pdf``. Checked before any work is done.
        Without it the HTML is returned as a string.
    units : str, optional
        Level of the members (default: the level of the codes; an assessment's own).
    against : str or sequence of str, optional
        Levels of Test II, one verdict and table each (default
        :func:`coterminus.analysis.assess.default_against`: e.g. upper and lower tier, plus
        combined authorities where the vintage has them).
    within : str, optional
        Level of Test I (default the level grouping ``units``; no Test I when none does).
    tolerance : float, optional
        ε (default 0.005).
    measure : {"population", "area"}, optional
        What shares are of (default population); every sentence follows it. An
        ``assessment`` brings its own.
    draw : DrawOptions, optional
        ``tier`` (level of the headline verdict, default the first of ``against``),
        ``title``, ``dpi`` (of the map in the HTML, default 150), ``paper`` ("a4" or
        "letter": the PDF pages and the map, the width of their text block), ``labels``,
        ``simplify_m``.

    Returns
    -------
    Path or str
        The file written, or the HTML text when ``out`` is None.

    Raises
    ------
    OutputError
        ``out`` is in a missing or read-only folder, or is not .html/.pdf.
    ParameterError
        ``paper`` is not "a4" or "letter".
    MissingDependencyError
        A PDF without WeasyPrint or its system libraries (the message says what to install).
    UnknownAreaError, VintageMismatchError, FootprintError
        A footprint or plan this geography does not have (the message names the fix).

    Examples
    --------
    >>> report(geo, ["E38000038", "E38000164", "E38000195"], out="cw.pdf")
    PosixPath('cw.pdf')
    >>> geo24 = coterminus.load(2024)
    >>> report(geo24, system="Coventry and Warwickshire", units="icb", out="cw24.pdf",
    ...        draw=DrawOptions(paper="letter"))
    PosixPath('cw24.pdf')
    """
    p = check_output_path(out, suffixes=REPORT_SUFFIXES) if out is not None else None
    draw = (draw or DrawOptions()).check(geo)
    if p is not None and p.suffix.lower() == ".pdf":
        _weasyprint()  # before any work
    ctx = report_context(
        geo,
        footprint,
        system=system,
        plan=plan,
        assessment=assessment,
        units=units,
        against=against,
        within=within,
        tolerance=tolerance,
        measure=measure,
        draw=draw,
    )
    if p is None:
        return render_html(ctx)
    if p.suffix.lower() == ".pdf":
        written = atomic_write(p, lambda tmp: render_pdf(ctx, tmp), suffixes=REPORT_SUFFIXES)
    else:
        written = atomic_write_text(p, render_html(ctx), suffixes=REPORT_SUFFIXES)
    log.info("wrote %s", written)
    return written
