"""Static maps for print (matplotlib): PNG at 300 dpi, PDF and SVG, no web tiles.

A figure shows the same content as the interactive map (:mod:`coterminus.outputs.maps` — both
draw a :class:`~coterminus.outputs.layers.MapLayers`), at any level of any vintage (CCGs in
2019, sub-ICB locations or ICBs in 2024, a scenario's areas) against any levels (upper and
lower tier, combined authorities...), in the words of the geography's level labels: the map
is framed on the footprint (the units around it in light grey), the areas of the headline
level shaded by the share inside the footprint (four classes, light to dark, distinct in
greyscale), split areas lightly hatched, every boundary a dark line with a white casing,
member boundaries dashed, the footprint outline in heavy black; the areas behind every
mismatch are named on the map; a title with the verdicts, a legend listing exactly what is
drawn, a scale bar and a north arrow (grid north, British National Grid) where the map is
emptiest, and the vintage's attribution. Figures are drawn in EPSG:27700, so the scale bar is
exact in metres. :func:`split_figure` draws one level against another (e.g. ICBs × combined
authorities, split authorities hatched).

How a figure is drawn is one :class:`~coterminus.outputs.options.DrawOptions` (``draw=``):
the level shaded, labels, title, simplification, paper, size.

A figure of its own is a whole page (A4 by default, or US Letter) whose text and map all lie
inside the page margins :data:`MARGINS_MM`; a figure for a report is the size of the text
block (:func:`text_block`). Plan figures list every new unit in a key below the map, and the
labels on a map never overlap one another (:func:`place_labels`). Names are drawn as given:
``$`` and other mathtext characters are never interpreted (:func:`plain_text`). A figure
returned here shows itself in Jupyter (it has ``_repr_png_``), with no ``%matplotlib`` magic.

Examples
--------
>>> import coterminus
>>> from coterminus.outputs import figures
>>> geo = coterminus.load(2019)
>>> fig = figures.footprint_figure(geo, system="Coventry and Warwickshire")
>>> figures.save_figure(fig, "cw.pdf")
PosixPath('cw.pdf')
"""

from __future__ import annotations

import logging
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..data.atomic import atomic_write, check_output_path
from ..errors import ParameterError
from ._build import plan_assessments
from ._figure_map import (
    add_north_arrow,
    add_scale_bar,
    draw_geometry,
    draw_map,
    drawn_levels,
    fit_frame,
    frame,
    frame_aspect,
    label_map,
    layers_ink,
    place_furniture,
    place_labels,
    shaded_level,
    split_handle,
)
from ._page import (
    MARGINS_MM,
    PAPER,
    Key,
    compose,
    layout_page,
    new_figure,
    page_margins,
    page_size,
    plain_text,
    text_block,
)
from ._split_figure import split_figure
from .layers import (
    MapLayers,
    check_tier,
    map_layers,
    plan_layers,
    tier_name,
)
from .options import DrawOptions, PlanLike, merge_legacy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography

__all__ = [
    "FIGURE_SUFFIXES",
    "MARGINS_MM",
    "PAPER",
    "DrawOptions",
    "add_north_arrow",
    "add_scale_bar",
    "draw_map",
    "figure_of_layers",
    "footprint_figure",
    "page_size",
    "place_labels",
    "plain_text",
    "plan_figure",
    "plans_figure",
    "save_figure",
    "split_figure",
    "text_block",
]

log = logging.getLogger(__name__)

#: Suffixes :func:`save_figure` writes.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
#: The drawing keywords the figure functions took before :class:`DrawOptions` (deprecated).
_LEGACY = ("tier", "title", "labels", "simplify_m", "paper", "figsize")


# ------------------------------------------------------------------------------------------
# words
# ------------------------------------------------------------------------------------------
def _subtitle(layers: MapLayers) -> str:
    head = layers.against[0]
    if layers.kind == "systems":
        c = layers.councils[head]
        n_split = int((c["status"] == "split").sum())
        return (
            f"{n_split} of the {len(c)} {layers.label(head, plural=True)} shown are split between "
            f"{layers.label(layers.within or layers.units, plural=True)} (ε = {layers.tolerance:g})."
        )
    if layers.kind == "plan":
        n = len(layers.outlines)
        n_cot = sum(m.coterminous for m in layers.metrics[head].values())
        return (
            f"{n} new {layers.label(layers.units, plural=n != 1)}, {n_cot} coterminous with the "
            f"{layers.label(head, plural=True)} (ε = {layers.tolerance:g}); each is numbered on "
            "the map and listed below."
        )
    r = layers.outlines.iloc[0]
    test_i = f"Test I: {r['test_i']}.\n" if r["test_i"] else ""
    return f"Test II: {r['test_ii']}.\n{test_i}Outside: {r['outside']}."


def _plan_key(layers: MapLayers) -> list[Patch | Line2D]:
    """One entry per new unit, numbered as on the map, with its members and verdicts."""
    out: list[Patch | Line2D] = []
    for i, (g, r) in enumerate(layers.outlines.iterrows()):
        members = "" if int(r["n_members"]) == 1 else f" — {r['members']}"
        test_i = f" Test I: {r['test_i']}." if r["test_i"] else ""
        label = f"{i + 1}. {r['name']}{members}. Test II: {r['test_ii']}.{test_i}"
        patch = Patch(facecolor=r["colour"], edgecolor="black", linewidth=0.6, label=label)
        patch.set_gid(f"ct:group:{g}")
        out.append(patch)
    return out


def _caption(layers: MapLayers, levels: Sequence[str]) -> str:
    """For a footprint: the areas behind every mismatch at the levels drawn, with amounts."""
    c = layers.callouts
    if layers.kind != "footprint" or not len(c):
        return ""
    parts = []
    for lv in levels:
        rows = c[c["level"] == lv]
        if len(rows):
            items = "; ".join(f"{r['name']}: {r['short']}" for _, r in rows.head(10).iterrows())
            more = f"; and {len(rows) - 10} more" if len(rows) > 10 else ""
            parts.append(f"{layers.label(lv, plural=True, cap=True)}: {items}{more}.")
    return ("Behind the mismatch (named on the map): " + " ".join(parts)) if parts else ""


def _note(layers: MapLayers, *, attribution: bool = True) -> str:
    simp = f"{layers.simplify_m:g} m" if layers.simplify_m else "not simplified"
    text = f"{layers.source}; drawn for display {simp}. Grid north (EPSG:27700)." + (
        f" {layers.sliver_note()}" if len(layers.slivers) else ""
    )
    if attribution and layers.attribution:
        text += "\n" + layers.attribution.replace(". Contains", ".\nContains")
    return text


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------
def figure_of_layers(
    layers: MapLayers,
    draw: DrawOptions | None = None,
    *,
    ax: Axes | None = None,
    attribution: bool = True,
) -> Figure:
    """A print map of :class:`MapLayers` (a footprint, a plan or every system) on a page.

    Parameters
    ----------
    layers : MapLayers
        From :func:`~coterminus.outputs.layers.map_layers` or its builders.
    draw : DrawOptions, optional
        ``tier``, ``labels``, ``title``, ``paper``, ``figsize`` (``simplify_m`` was applied
        when the layers were built).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (legend and attribution go inside it) and return its figure.
    attribution : bool, default True
        End the note under the map with the licence sentence (a report that carries it once
        for the whole document passes False).

    Returns
    -------
    MapFigure
        A :class:`matplotlib.figure.Figure` that shows itself in Jupyter.

    Examples
    --------
    >>> from coterminus.outputs.layers import map_layers
    >>> fig = figure_of_layers(map_layers(geo, "05A"), DrawOptions(paper="letter"))
    >>> [round(float(x), 1) for x in fig.get_size_inches()]
    [8.5, 11.0]
    """
    draw = (draw or DrawOptions()).check()
    lay = layers
    tier = draw.tier
    check_tier(tier, lay.against)
    levels = drawn_levels(lay, tier)
    with plain_text():
        if ax is not None:
            handles = draw_map(lay, ax, tier=tier, labels=draw.labels)
            ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
            ax.text(
                0.0,
                -0.02,
                textwrap.fill(lay.attribution, 110),
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=6,
            )
            return ax.figure  # type: ignore[return-value]
        size, margins_in = page_margins(draw.figsize, draw.paper)
        fig = new_figure(size)
        map_ax = fig.add_axes((0, 0, 1, 1))
        plan = lay.kind == "plan"
        handles = draw_geometry(lay, map_ax, tier=tier, furniture=False, key=plan)
        labels = draw.labels
        if labels is None:
            labels = len(lay.councils[shaded_level(lay, tier)]) <= 30
        keys: list[Key] = [(list(handles), 2, lay.share_label if not plan else "Boundaries")]
        if plan:
            new = f"New {lay.label(lay.units, plural=True)}"
            keys.append((_plan_key(lay), 1, f"{new} (numbered as on the map)"))

        def fit(aspect: float) -> None:
            frame(map_ax, fit_frame(lay.frame, lay.focus, aspect))

        def label() -> list[str]:
            place_furniture(map_ax, *layers_ink(lay))
            return label_map(lay, map_ax, tier=tier, councils=bool(labels))

        compose(
            fig,
            map_ax,
            margins_in=margins_in,
            title=draw.title or f"{lay.title} ({lay.vintage})",
            subtitle=_subtitle(lay),
            keys=keys,
            note=_note(lay, attribution=attribution),
            label=label,
            caption=_caption(lay, levels),
            fit=fit,
        )
    return fig


def footprint_figure(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
    ax: Axes | None = None,
    **legacy: object,
) -> Figure:
    """Print map of a footprint against the councils (or, with no footprint, every system).

    Parameters
    ----------
    geo : Geography
        Any vintage (or with a scenario level).
    footprint, system : optional
        Unit codes, NHS codes or names, or every unit of a group; assessed once.
    assessment : Assessment, optional
        Draw this :func:`coterminus.assess` result; nothing is computed again.
    units, against, within, tolerance, measure : optional
        What to assess when no assessment is given, as in :func:`coterminus.assess` (with
        an assessment, ``against`` picks and orders its levels).
    draw : DrawOptions, optional
        How to draw: ``tier`` (the level shaded; by default every level of a footprint is
        drawn, the headline shaded), ``labels`` (area names; default when ≤ 30 areas — the
        areas behind a mismatch are always named), ``title``, ``simplify_m``, ``paper``,
        ``figsize`` (inches instead of a whole page, e.g. :func:`text_block` for a report).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (legend and attribution go inside it); otherwise a new page with
        title, verdicts, legend, scale bar, north arrow and attribution.
    **legacy
        The drawing keywords of the old call form (``tier=``, ``paper=``...; deprecated:
        pass ``draw=DrawOptions(...)``) and ``layers=`` (use :func:`figure_of_layers`).

    Returns
    -------
    MapFigure
        A :class:`matplotlib.figure.Figure` that shows itself in Jupyter.

    Examples
    --------
    >>> fig = footprint_figure(geo, ["E38000038"])
    >>> save_figure(fig, "coventry-and-rugby.png")
    PosixPath('coventry-and-rugby.png')
    """
    layers = legacy.pop("layers", None)
    if layers is not None:
        warnings.warn(
            "footprint_figure(geo, layers=...) is deprecated and will be removed in the next "
            "release; draw layers with figure_of_layers(layers, draw).",
            DeprecationWarning,
            stacklevel=2,
        )
    draw = merge_legacy(draw, legacy, where="footprint_figure", accepted=_LEGACY).check(geo)
    if layers is None:
        layers = map_layers(
            geo,
            footprint,
            system=system,
            assessment=assessment,
            units=units,
            against=against,
            within=within,
            tolerance=tolerance,
            measure=measure,
            simplify_m=draw.simplify_m,
        )
    elif not isinstance(layers, MapLayers):
        msg = f"layers= must be MapLayers (from map_layers), not {type(layers).__name__}."
        raise ParameterError(msg)
    return figure_of_layers(layers, draw.replace(tier=tier_name(geo, draw.tier)), ax=ax)


def plan_figure(
    geo: Geography,
    plan: PlanLike,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
    ax: Axes | None = None,
    **legacy: object,
) -> Figure:
    """Print map of a merger plan: one colour and number per new unit, over the councils.

    The plan's blocks are units of any one level (CCGs, ICBs, sub-ICB locations, a scenario's
    areas); the words follow the level ("New ICB 1"). Every new unit is assessed once and
    listed under the map (number, colour, members and verdicts), never over it; the numbers
    and the area names on the map never overlap. Other parameters as in
    :func:`footprint_figure`.

    Examples
    --------
    >>> fig = plan_figure(geo, [["E38000038", "E38000195"], ["E38000164"]])
    >>> fig24 = plan_figure(coterminus.load(2024), [["QWU", "QHL"], ["QGH"]], against="cauth")
    """
    draw = merge_legacy(draw, legacy, where="plan_figure", accepted=_LEGACY).check(geo)
    assessments = plan_assessments(
        geo, plan, units=units, against=against, within=within, tolerance=tolerance,
        measure=measure,
    )  # fmt: skip
    layers = plan_layers(geo, assessments, simplify_m=draw.simplify_m)
    return figure_of_layers(layers, draw.replace(tier=tier_name(geo, draw.tier)), ax=ax)


def _plans_list(plans: Sequence[PlanLike] | Mapping[str, PlanLike]) -> list[tuple[str, PlanLike]]:
    if isinstance(plans, Mapping):
        return [(str(k), v) for k, v in plans.items()]
    out = []
    for i, p in enumerate(list(plans)):
        label = getattr(p, "label", None) or getattr(p, "name", None) or f"Plan {i + 1}"
        out.append((str(label), p))
    return out


def plans_figure(
    geo: Geography,
    plans: Sequence[PlanLike] | Mapping[str, PlanLike],
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    titles: Sequence[str] | None = None,
    draw: DrawOptions | None = None,
    **legacy: object,
) -> Figure:
    """Small multiples of merger plans (e.g. the top plans), one panel each, on one page.

    Parameters
    ----------
    geo : Geography
    plans : sequence of plans or mapping of label to plan
        Each plan is a list of blocks of unit codes of one level (or an object with
        ``.blocks``), e.g. ``MergerResult.plans(6)``.
    units, against, within, tolerance, measure : optional
        As in :func:`plan_figure`; each panel shades the headline level (first of ``against``).
    titles : sequence of str, optional
        One per plan (default: the mapping's keys, or "Plan 1", ...).
    draw : DrawOptions, optional
        ``ncols`` (default 3), ``title``, ``simplify_m``, ``paper``, ``figsize``.
    **legacy
        The drawing keywords of the old call form (deprecated).

    Returns
    -------
    MapFigure

    Examples
    --------
    >>> top = [[["E38000038", "E38000195"], ["E38000164"]],
    ...        [["E38000038", "E38000164", "E38000195"]]]
    >>> fig = plans_figure(geo, top, draw=DrawOptions(ncols=2))
    """
    accepted = ("ncols", "title", "simplify_m", "paper", "figsize")
    draw = merge_legacy(draw, legacy, where="plans_figure", accepted=accepted).check(geo)
    items = _plans_list(plans)
    if not items:
        msg = "plans is empty; give at least one plan (a list of blocks of unit codes)."
        raise ParameterError(msg)
    if titles is not None:
        if len(titles) != len(items):
            msg = f"{len(titles)} titles for {len(items)} plans; give one title per plan."
            raise ParameterError(msg)
        items = [(t, p) for t, (_, p) in zip(titles, items, strict=True)]
    size, margins_in = page_margins(draw.figsize, draw.paper)
    layer_sets = [
        plan_layers(
            geo,
            plan_assessments(
                geo,
                p,
                units=units,
                against=against,
                within=within,
                tolerance=tolerance,
                measure=measure,
            ),
            simplify_m=draw.simplify_m,
        )
        for _, p in items
    ]
    lay0 = layer_sets[0]
    head = lay0.against[0]
    ncols = min(draw.ncols, len(items))
    nrows = -(-len(items) // ncols)
    # one frame for every panel: the union of their frames
    bounds = [lay.frame for lay in layer_sets]
    common = np.array(
        [
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        ]
    )
    any_split = any(
        bool((lay.councils[lay.against[0]]["status"] == "split").any()) for lay in layer_sets
    )
    with plain_text():
        fig = new_figure(size)
        handles: list[Patch | Line2D] = [
            Patch(
                facecolor="#cccccc",
                edgecolor="black",
                label=f"one colour and number per new {lay0.label(lay0.units)}",
            ),
            Line2D([], [], color="#222222", linewidth=1.2, label=f"{lay0.label(head)} boundary"),
            Line2D(
                [],
                [],
                color="#1a1a1a",
                linewidth=0.8,
                linestyle=(0, (4, 3)),
                label=f"{lay0.label(lay0.units)} boundary",
            ),
        ]
        if any_split:
            handles.insert(2, split_handle(f"split {lay0.label(head)}"))
        panel_title_pt = 3 * 8.5 * 1.25 + 4
        title_in = panel_title_pt / 72
        aspect = frame_aspect(common)
        w_in = size[0] - margins_in[1] - margins_in[3]
        panel_w = w_in / (ncols + (ncols - 1) * 0.05)
        x, y, w, h = layout_page(
            fig,
            None,
            margins_in=margins_in,
            title=draw.title or f"Merger plans compared ({layer_sets[0].vintage})",
            subtitle="",
            keys=[(handles, 2, None)],
            note=lay0.attribution,
            head_room_pt=panel_title_pt,
            content_height_in=nrows * panel_w * aspect + (nrows - 1) * title_in,
        )
        h_in = fig.get_size_inches()[1]
        row_in = max((h * h_in - (nrows - 1) * title_in) / nrows, 1e-3)
        gs = fig.add_gridspec(
            nrows,
            ncols,
            left=x,
            right=x + w,
            bottom=y,
            top=y + h,
            wspace=0.05,
            hspace=title_in / row_in,
        )
        for i, ((label, _), layers) in enumerate(zip(items, layer_sets, strict=True)):
            ax = fig.add_subplot(gs[i // ncols, i % ncols])
            lh = layers.against[0]
            layers.frame = common
            draw_geometry(layers, ax, tier=lh, furniture=False)
            if i == 0:
                place_furniture(ax, *layers_ink(layers))
            n_split = len(set().union(*(set(m.split) for m in layers.metrics[lh].values())))
            n_cot = sum(m.coterminous for m in layers.metrics[lh].values())
            n = len(layers.outlines)
            width_chars = max(16, int(panel_w * 72 / (8.5 * 0.55)))
            lines = [
                f"{label}: {n} new {layers.label(layers.units, plural=n != 1)}",
                f"{n_cot} coterminous, {n_split} split {layers.label(lh, plural=n_split != 1)}",
            ]
            wrapped = [part for line in lines for part in textwrap.wrap(line, width_chars)]
            ax.set_title("\n".join(wrapped[:3]), fontsize=8.5)
            label_map(layers, ax, tier=lh, councils=False)
    return fig


# ------------------------------------------------------------------------------------------
# saving
# ------------------------------------------------------------------------------------------
def save_figure(fig: Figure, path: str | Path, *, dpi: int = 300) -> Path:
    """Save a figure as PNG (``dpi``, default 300), PDF or SVG, atomically.

    Text stays text in PDF (TrueType) and SVG (``<text>``), so the attribution can be searched
    and extracted.

    Raises
    ------
    OutputError
        Missing or read-only folder, or a suffix other than .png, .pdf, .svg.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 2)); _ = fig.text(0.1, 0.5, "hello")
    >>> out = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "x.svg")
    >>> "hello" in out.read_text()
    True
    """
    p = check_output_path(path, suffixes=FIGURE_SUFFIXES)
    fmt = p.suffix.lower().lstrip(".")
    titles = [t.get_text() for t in fig.texts if t.get_gid() == "coterminus-title"]
    title = " ".join(titles[0].split()) if titles else fig.get_suptitle()
    metadata: dict[str, Any] = {
        "png": {"Title": title, "Software": "coterminus"},
        "pdf": {"Title": title, "Creator": "coterminus"},
        "svg": {"Title": title},
    }[fmt]

    def write(tmp: Path) -> None:
        # unhinted, as the layout was measured
        with mpl.rc_context(
            {"svg.fonttype": "none", "pdf.fonttype": 42, "text.hinting": "no_hinting"}
        ):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")

    out = atomic_write(p, write, suffixes=FIGURE_SUFFIXES)
    log.info("wrote %s", out)
    return out
