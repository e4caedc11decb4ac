"""Board-paper report of a footprint or a merger plan: one self-contained HTML file, or a PDF.

The report holds the summary verdicts for tests I and II with their tolerance, a plain-language
explanation, the member CCGs and the councils the footprint touches (both tiers) with the
people inside and outside, indicative place sizes against 250,000–500,000, the static map
(embedded as a base64 PNG, so the HTML needs no other file and no network), a method note,
and the non-geographic merger criteria listed for the authors to complete — not scored.

The PDF is drawn with matplotlib (``PdfPages``): the map on page 1, then the same tables and
text; no browser or LaTeX is needed.

Examples
--------
>>> import coterminus
>>> from coterminus.report import report
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
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._atomic import atomic_write, atomic_write_text, check_output_path
from .errors import EnumerationTooLargeError, ParameterError
from .maps import _check_request, _require, attribution
from .places import PLACE_BAND
from .places import places as place_groupings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .assess import Assessment
    from .geography import Geography

__all__ = [
    "MERGER_CRITERIA",
    "PLACE_BAND",
    "REPORT_SUFFIXES",
    "place_band",
    "report",
    "report_context",
]

log = logging.getLogger(__name__)

#: Suffixes :func:`report` writes.
REPORT_SUFFIXES = (".html", ".htm", ".pdf")
#: The non-geographic criteria of NHS England's 2019 merger procedure, with what to evidence.
MERGER_CRITERIA: tuple[tuple[str, str], ...] = (
    ("Clinical leadership", "How clinicians lead the merged CCG and its places."),
    (
        "Financial management",
        "Financial position and plan of the merged CCG; how deficits and allocations are handled.",
    ),
    (
        "Joint working",
        "Arrangements with the councils and NHS providers at system and place level.",
    ),
    ("Engagement with communities", "How patients and the public were engaged and will be."),
    ("20% running-cost savings", "How the merged CCG meets the 20% reduction in running costs."),
    ("Governing-body approval", "Approval of the merger by each CCG's governing body."),
    (
        "Consultation with GP members and Healthwatch",
        "Outcome of the consultation with member practices and local Healthwatch.",
    ),
)

_WHO = {
    "footprint_outside_la_set": "people of the footprint in a council it does not mostly cover",
    "la_set_outside_footprint": "people of a best-fit council who are outside the footprint",
}
_TIER_LABEL = {"utla": "Upper-tier", "ltla": "Lower-tier"}


def place_band(population: float, band: tuple[int, int] = PLACE_BAND) -> str:
    """Where a population sits against the place band.

    Examples
    --------
    >>> place_band(371_521), place_band(108_935), place_band(577_933)
    ('within 250,000–500,000', 'below 250,000', 'above 500,000')
    """
    lo, hi = band
    if population < lo:
        return f"below {lo:,}"
    if population > hi:
        return f"above {hi:,}"
    return f"within {lo:,}–{hi:,}"


def _fmt(x: float, measure: str) -> str:
    return f"{round(float(x)):,}" if measure == "population" else f"{float(x) / 1e6:,.1f} km²"


def _pct(x: float) -> str:
    return f"{float(x):.1%}"


# ------------------------------------------------------------------------------------------
# content
# ------------------------------------------------------------------------------------------
def _section(geo: Geography, a: Assessment, label: str | None) -> dict[str, Any]:
    eps = a.metrics.tolerance
    stp_name = str(geo.stp["name"].get(a.system.dominant, a.system.dominant))
    cards = [
        {
            "test": "Test I — within one STP/ICS",
            "ok": bool(a.system.within_one_system),
            "verdict": "Within one system" if a.system.within_one_system else "Crosses systems",
            "detail": f"{a.system.dominant_share:.1%} of the people are in {stp_name} "
            f"(within one system if ≥ {1 - a.system.tolerance:.1%}).",
        }
    ]
    for t in ("utla", "ltla"):
        m = a.tiers[t]
        names = geo.layer(t)["name"]
        best = ", ".join(str(names[c]) for c in m.best_fit) or "none"
        split = ", ".join(str(names[c]) for c in m.split) or "none"
        cards.append(
            {
                "test": f"Test II — {_TIER_LABEL[t].lower()} councils"
                + (" (the NHS test)" if t == "utla" else ""),
                "ok": bool(m.coterminous),
                "verdict": "Coterminous" if m.coterminous else "Not coterminous",
                "detail": f"J = {m.index:.4f} (coterminous if ≥ {1 - eps:g}); best fit: {best}; "
                f"split: {split}.",
            }
        )
    nhs = geo.ccg["nhs_code"] if "nhs_code" in geo.ccg.columns else None
    members = [
        {
            "name": str(geo.ccg.at[c, "name"]),
            "code": c,
            "nhs_code": "" if nhs is None else str(nhs[c]),
            "population": _fmt(geo.ccg.at[c, "population"], "population"),
        }
        for c in a.members
    ]
    tiers = []
    for t in ("utla", "ltla"):
        m = a.tiers[t]
        names = geo.layer(t)["name"]
        rows = [
            {
                "name": str(names.get(code, code)),
                "code": code,
                "inside": _fmt(r["in_footprint"], m.measure),
                "total": _fmt(r["la_total"], m.measure),
                "share_la": _pct(r["share_of_la"]),
                "share_fp": _pct(r["share_of_footprint"]),
                "status": str(r["status"]),
                "best_fit": "yes" if r["best_fit"] else "no",
            }
            for code, r in m.by_la.iterrows()
            if r["in_footprint"] > 0 or r["best_fit"]
        ]
        tiers.append(
            {
                "tier": t,
                "label": _TIER_LABEL[t],
                "rows": rows,
                "index": f"{m.index:.4f}",
                "verdict": "coterminous" if m.coterminous else "not coterminous",
                "eps": f"{m.tolerance:g}",
            }
        )
    outside = [
        {
            "tier": _TIER_LABEL[str(r["tier"])].lower(),
            "council": f"{r['la_name']} ({r['la']})",
            "who": _WHO.get(str(r["direction"]), str(r["direction"])),
            "people": f"{int(r['people']):,}",
            "n_lsoa": f"{int(r['n_lsoa']):,}",
            "ccgs": str(r["ccgs"]),
        }
        for _, r in a.mismatch.iterrows()
    ]
    name = a.name if label is None else f"{label}: {a.name}"
    return {
        "name": name,
        "label": label,
        "cards": cards,
        "explanation": a.explain(),
        "members": members,
        "total": _fmt(a.metrics.total, a.measure),
        "tiers": tiers,
        "outside": outside,
    }


def _method(geo: Geography, eps: float, measure: str, simplify_m: float | None) -> list[str]:
    simp = f"{simplify_m:g} m" if simplify_m else "none"
    return [
        f"Geography: ONS {geo.vintage} CCG, STP/ICS and local authority areas "
        f"({geo.boundaries} boundaries). People: ONS mid-2019 estimates for the 2011 Lower layer "
        "Super Output Areas (LSOAs). Every CCG is made of whole LSOAs and LSOAs nest in local "
        "authorities, so the people of a footprint in each council are counted exactly from "
        "the ONS LSOA lookup — no polygon overlay, no slivers."
        if measure == "population"
        else f"Geography: ONS {geo.vintage} boundaries; shares are of area (m², EPSG:27700).",
        "Share of a council inside the footprint s = (people of the council in the footprint) / "
        f"(people of the council). A council is contained if s ≥ 1 − ε, split if ε < s < 1 − ε, "
        f"and marginal if 0 < s ≤ ε, with tolerance ε = {eps:g}.",
        "Best-fit councils U are those with s ≥ 0.5. Coterminosity index J = (people in both the "
        "footprint and U) / (people in the footprint or U) — the Jaccard index of the two areas, "
        "1 when they hold the same people. Test II (coterminosity with local authorities) is "
        f"met when J ≥ 1 − ε = {1 - eps:g}. NHS England sets no numeric threshold for "
        "'coterminous'; this report states its tolerance and lists every person behind a "
        "mismatch (the people outside).",
        "Test I (alignment with the local STP/ICS) is met when at least 1 − ε of the footprint's "
        "people live in one system.",
        "Place sizes: the populations of the lower-tier councils wholly inside the footprint, the "
        "best grouping of contiguous whole councils into places (exhaustive search, see "
        "METHODS.md) and each CCG, against the usual place band of 250,000–500,000 people.",
        f"The maps simplify boundaries for display only (coverage simplification, {simp}, "
        "keeping neighbours touching); every figure comes from the unsimplified data.",
        attribution(geo.vintage),
    ]


def report_context(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: Any = None,
    assessment: Assessment | None = None,
    tier: Literal["utla", "ltla"] = "utla",
    tolerance: float | None = None,
    title: str | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
) -> dict[str, Any]:
    """Everything the report shows, as plain Python (names unescaped; the template escapes).

    The ``"figure"`` entry is the matplotlib map; ``"sections"`` has one entry per footprint
    (one, or one per new CCG of a plan).
    """
    from . import __version__
    from .assess import assess
    from .figures import footprint_figure
    from .maps import map_layers, normalise_plan

    _check_request(geo, footprint, system, plan, assessment, what="report")
    if plan is not None:
        groups = normalise_plan(geo, plan)
        assessments = {
            g: assess(geo, codes, tier=tier, tolerance=tolerance) for g, codes in groups.items()
        }
        layers = map_layers(geo, plan=groups, tolerance=tolerance, simplify_m=simplify_m)
        heading = title or f"Merger plan: {len(groups)} new CCG{'s' if len(groups) != 1 else ''}"
    else:
        if assessment is None:
            if footprint is None and system is None:
                msg = "give the footprint (CCG codes or names), system=, assessment= or plan=."
                raise ParameterError(msg)
            assessment = assess(geo, footprint, system=system, tier=tier, tolerance=tolerance)
        assessments = {"": assessment}
        layers = map_layers(geo, assessment=assessment, simplify_m=simplify_m)
        heading = title or f"{assessment.name}: coterminosity with local authorities"
    first = next(iter(assessments.values()))
    eps = first.metrics.tolerance
    measure = first.measure
    sections = [_section(geo, a, g or None) for g, a in assessments.items()]

    plan_rows = []
    if plan is not None:
        for g, a in assessments.items():
            names = geo.utla["name"]
            plan_rows.append(
                {
                    "name": g,
                    "members": ", ".join(str(geo.ccg.at[c, "name"]) for c in a.members),
                    "population": _fmt(a.metrics.total, measure),
                    "test_i": "yes"
                    if a.system.within_one_system
                    else f"no ({a.system.dominant_share:.1%} in one)",
                    "test_ii_utla": f"{'yes' if a.tiers['utla'].coterminous else 'no'} "
                    f"({a.tiers['utla'].index:.4f})",
                    "test_ii_ltla": f"{'yes' if a.tiers['ltla'].coterminous else 'no'} "
                    f"({a.tiers['ltla'].index:.4f})",
                    "split": ", ".join(str(names[c]) for c in a.tiers["utla"].split) or "none",
                }
            )

    places: list[dict[str, str]] = []
    seen: set[str] = set()
    for a in assessments.values():
        for code in a.tiers["ltla"].contained:
            if code in seen:
                continue
            seen.add(code)
            pop = float(geo.ltla.at[code, "population"])
            places.append(
                {
                    "name": f"{geo.ltla.at[code, 'name']} ({code})",
                    "kind": "lower-tier council, wholly inside",
                    "population": _fmt(pop, "population"),
                    "band": place_band(pop),
                }
            )
    all_members = sorted({c for a in assessments.values() for c in a.members})
    try:
        grouped = place_groupings(geo, all_members, tolerance=tolerance)
    except EnumerationTooLargeError as exc:
        log.info("no place grouping in the report: %s", exc)
    else:
        best = grouped.groupings[grouped.groupings["rank"] == 1]
        for _, row in best.iterrows():
            places.append(
                {
                    "name": str(row["names"]),
                    "kind": "best grouping of contiguous whole councils"
                    + (" (crosses upper tier)" if row["crosses_utla"] else ""),
                    "population": _fmt(float(row["population"]), "population"),
                    "band": place_band(float(row["population"])),
                }
            )
    if plan is not None:
        for g, a in assessments.items():
            places.append(
                {
                    "name": f"{g}: {a.name}",
                    "kind": "new (merged) CCG",
                    "population": _fmt(a.metrics.total, "population"),
                    "band": place_band(a.metrics.total),
                }
            )
    else:
        for c in first.members:
            pop = float(geo.ccg.at[c, "population"])
            places.append(
                {
                    "name": f"{geo.ccg.at[c, 'name']} ({c})",
                    "kind": "member CCG",
                    "population": _fmt(pop, "population"),
                    "band": place_band(pop),
                }
            )

    fig = footprint_figure(geo, layers=layers, tier="both" if plan is None else "utla")
    return {
        "title": heading,
        "vintage": geo.vintage,
        "version": __version__,
        "generated": _dt.date.today().isoformat(),
        "eps": f"{eps:g}",
        "measure_label": "population (exact, from LSOAs)" if measure == "population" else "area",
        "sections": sections,
        "plan_rows": plan_rows,
        "places": places,
        "criteria": [{"name": n, "what": w} for n, w in MERGER_CRITERIA],
        "method": _method(geo, eps, measure, layers.simplify_m),
        "attribution": attribution(geo.vintage),
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
    jinja2 = _require("jinja2", needed_for="HTML reports", pip="jinja2>=3.1")
    return jinja2.Environment(
        loader=jinja2.PackageLoader("coterminus", "templates"),
        autoescape=jinja2.select_autoescape(["html", "htm"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _png_base64(fig: Figure, dpi: int) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(ctx: dict[str, Any], *, dpi: int = 150) -> str:
    """The report as one self-contained HTML page (map embedded as a base64 PNG)."""
    env = _jinja_env()
    template = env.get_template("report.html")
    values = {k: v for k, v in ctx.items() if k not in ("figure", "layers", "assessments")}
    return str(template.render(map_png=_png_base64(ctx["figure"], dpi), **values))


# ------------------------------------------------------------------------------------------
# PDF (matplotlib only)
# ------------------------------------------------------------------------------------------
_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MARGIN = 0.06
_LINE = 0.0135  # figure fraction per 8-pt line on A4


@dataclass
class _Column:
    key: str
    title: str
    width: float  # fraction of the text width
    num: bool = False


class _PdfFlow:
    """Text and tables flowed onto A4 pages of a PdfPages, with a footer on every page."""

    def __init__(self, pdf: Any, footer: str, title: str) -> None:
        self.pdf = pdf
        self.footer = footer
        self.title = title
        self.page_no = 1  # the map is page 1
        self.fig: Any = None
        self.y = 0.0

    def _new_page(self) -> None:
        from matplotlib.figure import Figure

        self.close_page()
        self.fig = Figure(figsize=_PAGE)
        self.page_no += 1
        self.y = 1 - _MARGIN
        self.fig.text(
            _MARGIN,
            0.025,
            textwrap.fill(self.footer, 140),
            fontsize=6,
            va="bottom",
            color="#333333",
        )
        self.fig.text(
            1 - _MARGIN,
            0.985,
            f"{self.title} — page {self.page_no}",
            fontsize=7,
            ha="right",
            va="top",
            color="#555555",
        )

    def close_page(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _room(self, needed: float) -> None:
        if self.fig is None or self.y - needed < 0.07:
            self._new_page()

    def heading(self, text: str, size: float = 13) -> None:
        self._room(_LINE * 4)
        self.y -= _LINE * 0.6
        self.fig.text(
            _MARGIN, self.y, text, fontsize=size, fontweight="bold", va="top", color="#003087"
        )
        self.y -= _LINE * (size / 8) * 1.5

    def paragraph(self, text: str, size: float = 8.5, width: int = 118) -> None:
        lines = textwrap.wrap(text, width) or [""]
        for line in lines:
            self._room(_LINE * 1.2)
            self.fig.text(_MARGIN, self.y, line, fontsize=size, va="top")
            self.y -= _LINE * (size / 8) * 1.05
        self.y -= _LINE * 0.5

    def table(self, columns: list[_Column], rows: list[dict[str, str]], size: float = 7.5) -> None:
        text_w = 1 - 2 * _MARGIN
        chars_per_unit = 118 * (7.5 / size)  # characters across the text width at this size

        header = {c.key: c.title for c in columns}

        def draw_row(row: dict[str, str], bold: bool) -> None:
            wrapped = [
                textwrap.wrap(str(row.get(c.key, "")), max(4, int(c.width * chars_per_unit)))
                or [""]
                for c in columns
            ]
            n = max(len(w) for w in wrapped)
            h = _LINE * (size / 8) * (n + 0.35)
            if self.fig is None or self.y - h - _LINE < 0.07:
                self._new_page()
                if not bold:  # repeat the header on a new page
                    draw_row(header, bold=True)
            x = _MARGIN
            for c, w in zip(columns, wrapped, strict=True):
                for i, line in enumerate(w):
                    xx, ha = (
                        (x + c.width * text_w - 0.004, "right") if c.num else (x + 0.002, "left")
                    )
                    self.fig.text(
                        xx,
                        self.y - i * _LINE * (size / 8),
                        line,
                        fontsize=size,
                        va="top",
                        ha=ha,
                        fontweight="bold" if bold else "normal",
                    )
                x += c.width * text_w
            self.y -= h
            self.fig.add_artist(
                _hline(self.y + _LINE * 0.2, _MARGIN, 1 - _MARGIN, 0.8 if bold else 0.3)
            )

        self._room(_LINE * 4)
        draw_row(header, bold=True)
        for r in rows:
            draw_row(r, bold=False)
        self.y -= _LINE * 0.8


def _hline(y: float, x0: float, x1: float, lw: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], linewidth=lw, color="#888888")


def render_pdf(ctx: dict[str, Any], path: Path) -> None:
    """Write the report as a multi-page PDF with matplotlib's PdfPages."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    meta = {
        "Title": ctx["title"],
        "Author": "coterminus",
        "Subject": ctx["attribution"],
        "Creator": f"coterminus {ctx['version']}",
    }
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=meta) as pdf:
        pdf.savefig(ctx["figure"])
        flow = _PdfFlow(pdf, ctx["attribution"], ctx["title"])
        flow.heading(ctx["title"], size=15)
        flow.paragraph(
            f"Geography {ctx['vintage']} · {ctx['measure_label']} · tolerance ε = {ctx['eps']} · "
            f"generated {ctx['generated']} by coterminus {ctx['version']}",
            size=7.5,
        )
        flow.heading("Summary")
        for s in ctx["sections"]:
            if len(ctx["sections"]) > 1:
                flow.heading(s["name"], size=10.5)
            for c in s["cards"]:
                mark = "PASS" if c["ok"] else "FAIL"
                flow.paragraph(f"[{mark}] {c['test']}: {c['verdict']}. {c['detail']}", size=8.5)
            flow.paragraph(s["explanation"], size=8.5)
        if ctx["plan_rows"]:
            flow.heading("The plan at a glance", size=11)
            flow.table(
                [
                    _Column("name", "New CCG", 0.1),
                    _Column("members", "Member CCGs", 0.3),
                    _Column("population", "Population", 0.1, True),
                    _Column("test_i", "Test I", 0.12),
                    _Column("test_ii_utla", "Test II upper (J)", 0.12),
                    _Column("test_ii_ltla", "Test II lower (J)", 0.12),
                    _Column("split", "Split councils", 0.14),
                ],
                ctx["plan_rows"],
            )
        for s in ctx["sections"]:
            flow.heading(f"{s['name']}: population and councils")
            flow.table(
                [
                    _Column("name", "Member CCG", 0.5),
                    _Column("code", "ONS code", 0.18),
                    _Column("nhs_code", "NHS code", 0.12),
                    _Column("population", "Population", 0.2, True),
                ],
                [*s["members"], {"name": "Footprint total", "population": s["total"]}],
            )
            for t in s["tiers"]:
                flow.heading(f"{t['label']} councils the footprint touches", size=10)
                flow.table(
                    [
                        _Column("name", "Council", 0.22),
                        _Column("code", "Code", 0.12),
                        _Column("inside", "Inside", 0.12, True),
                        _Column("total", "Council", 0.12, True),
                        _Column("share_la", "Share of council", 0.12, True),
                        _Column("share_fp", "Share of footprint", 0.12, True),
                        _Column("status", "Status", 0.1),
                        _Column("best_fit", "Best fit", 0.08),
                    ],
                    t["rows"],
                )
                flow.paragraph(
                    f"Coterminosity index J = {t['index']} ({t['verdict']} at ε = {t['eps']}).",
                    size=8,
                )
            flow.heading("The people outside", size=10)
            if s["outside"]:
                flow.table(
                    [
                        _Column("tier", "Tier", 0.1),
                        _Column("council", "Council", 0.24),
                        _Column("who", "Who", 0.34),
                        _Column("people", "People", 0.1, True),
                        _Column("n_lsoa", "LSOAs", 0.07, True),
                        _Column("ccgs", "CCGs", 0.15),
                    ],
                    s["outside"],
                )
            else:
                flow.paragraph(
                    "Nobody: the footprint and its best-fit councils hold the same people."
                )
        flow.heading("Place sizes (indicative)")
        flow.paragraph(
            "Indicative only: populations of the lower-tier councils wholly inside the footprint "
            "and of each CCG against the usual place band of 250,000–500,000. Places are a local "
            "decision."
        )
        flow.table(
            [
                _Column("name", "Candidate place", 0.45),
                _Column("kind", "Kind", 0.25),
                _Column("population", "Population", 0.12, True),
                _Column("band", "Band", 0.18),
            ],
            ctx["places"],
        )
        flow.heading("Other merger criteria — for the authors to complete")
        flow.paragraph(
            "Evidenced by people, not maps: coterminus does not score these. Complete each before "
            "the paper goes to the board."
        )
        flow.table(
            [
                _Column("name", "Criterion", 0.28),
                _Column("what", "What to evidence", 0.42),
                _Column("evidence", "Evidence (to be completed by the authors)", 0.3),
            ],
            [{**c, "evidence": "To be completed — not scored."} for c in ctx["criteria"]],
        )
        flow.heading("Method note")
        for p in ctx["method"]:
            flow.paragraph(p)
        flow.close_page()


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------
def report(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: Any = None,
    assessment: Assessment | None = None,
    out: str | Path | None = None,
    tier: Literal["utla", "ltla"] = "utla",
    tolerance: float | None = None,
    title: str | None = None,
    dpi: int = 150,
) -> Path | str:
    """A board-paper report of a footprint or a merger plan.

    Parameters
    ----------
    geo : Geography
    footprint, system, plan, assessment
        What to report, as in :func:`coterminus.maps.map_layers`: a footprint (CCG codes, NHS
        codes or names; every CCG of an STP/ICS; or an existing
        :func:`coterminus.assess.assess` result), or a merger plan.
    out : str or Path, optional
        ``.html`` (one self-contained file) or ``.pdf``. Checked before any work is done.
        Without it the HTML is returned as a string.
    tier : {"utla", "ltla"}, default "utla"
        Tier of the headline verdict (both tiers are reported).
    tolerance : float, optional
        ε (default 0.005).
    title : str, optional
    dpi : int, default 150
        Resolution of the map embedded in the HTML.

    Returns
    -------
    Path or str
        The file written, or the HTML text when ``out`` is None.

    Raises
    ------
    OutputError
        ``out`` is in a missing or read-only folder, or is not .html/.pdf.
    UnknownAreaError, VintageMismatchError, FootprintError
        A footprint or plan this geography does not have (the message names the fix).

    Examples
    --------
    >>> report(geo, ["E38000038", "E38000164", "E38000195"], out="cw.pdf")
    PosixPath('cw.pdf')
    """
    p = check_output_path(out, suffixes=REPORT_SUFFIXES) if out is not None else None
    ctx = report_context(
        geo,
        footprint,
        system=system,
        plan=plan,
        assessment=assessment,
        tier=tier,
        tolerance=tolerance,
        title=title,
    )
    if p is None:
        return render_html(ctx, dpi=dpi)
    if p.suffix.lower() == ".pdf":
        written = atomic_write(p, lambda tmp: render_pdf(ctx, tmp), suffixes=REPORT_SUFFIXES)
    else:
        written = atomic_write_text(p, render_html(ctx, dpi=dpi), suffixes=REPORT_SUFFIXES)
    log.info("wrote %s", written)
    return written
