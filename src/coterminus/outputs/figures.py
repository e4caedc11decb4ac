"""Static maps for print (matplotlib): PNG at 300 dpi, PDF and SVG, no web tiles.

A figure shows the same content as the interactive map (:mod:`coterminus.outputs.maps` — both draw a
:class:`~coterminus.outputs.layers.MapLayers`), at any level of any vintage (CCGs in 2019, sub-ICB
locations or ICBs in 2024, a scenario's areas) against any levels (upper and lower tier,
combined authorities...), in the words of the geography's level labels: the areas of the
headline level shaded by the share inside the footprint (four classes, light to dark,
distinct in greyscale), split areas hatched, member boundaries dashed, the footprint outline
in heavy black, plus a title with the verdicts, a legend, a scale bar, a north arrow (grid
north, British National Grid) and the vintage's attribution. Figures are drawn in EPSG:27700,
so the scale bar is exact in metres. :func:`split_figure` draws one level against another
(e.g. ICBs × combined authorities, split authorities hatched).

A figure of its own is a whole page (A4 by default, or US Letter) whose text and map all lie
inside the page margins :data:`MARGINS_MM`; a figure for a report is the size of the text
block (:func:`text_block`). Plan figures list every new unit in a key below the map, and the
labels on a map never overlap one another (:func:`place_labels`). Names are drawn as given:
``$`` and other mathtext characters are never interpreted (:func:`plain_text`).

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.metrics import check_tolerance
from ..analysis.overlap import overlap
from ..data.atomic import atomic_write, check_output_path
from ..errors import ParameterError, UnknownAreaError
from ..vocabulary.words import cap
from ._figure_map import (
    add_north_arrow,
    add_scale_bar,
    draw_geometry,
    draw_map,
    frame,
    frame_aspect,
    hatch_split,
    label_map,
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
from ._simplify import simplified_layer
from .layers import (
    PLAN_COLOURS,
    LayerOptions,
    MapLayers,
    attribution,
    check_tier,
    check_tier_word,
    polygon_note,
    resolve_simplify,
    share_source,
    tier_name,
    vintage_attribution,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography

__all__ = [
    "FIGURE_SUFFIXES",
    "MARGINS_MM",
    "PAPER",
    "add_north_arrow",
    "add_scale_bar",
    "draw_map",
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


def _plan_key(layers: MapLayers) -> list[Any]:
    """One entry per new unit, numbered as on the map, with its members and verdicts."""
    out = []
    for i, (_, r) in enumerate(layers.outlines.iterrows()):
        members = "" if int(r["n_members"]) == 1 else f" — {r['members']}"
        test_i = f" Test I: {r['test_i']}." if r["test_i"] else ""
        label = f"{i + 1}. {r['name']}{members}. Test II: {r['test_ii']}.{test_i}"
        out.append(Patch(facecolor=r["colour"], edgecolor="black", linewidth=0.6, label=label))
    return out


def _note(
    vintage: int | str,
    measure: str,
    simplify_m: float | None,
    *,
    source: str | None = None,
    attribution_text: str | None = None,
) -> str:
    simp = f"{simplify_m:g} m" if simplify_m else "none"
    attr = (attribution_text or attribution(vintage)).replace(". Contains", ".\nContains")
    source = source or (
        "Population shares from building blocks"
        if measure == "population"
        else "Area shares from boundary polygons (m², EPSG:27700)"
    )
    return (
        f"{source}; boundaries {vintage}, simplified for display ({simp}). Grid north "
        f"(EPSG:27700).\n{attr}"
    )


def _layers_note(layers: MapLayers) -> str:
    return _note(
        layers.vintage,
        layers.measure,
        layers.simplify_m,
        source=layers.source or None,
        attribution_text=layers.attribution or None,
    )


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------
def footprint_figure(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    assessment: Assessment | None = None,
    layers: MapLayers | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tier: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    labels: bool | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    paper: Literal["a4", "letter"] = "a4",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Print map of a footprint against the councils (or, with no footprint, every system).

    Parameters
    ----------
    geo : Geography
        Any vintage (or with a scenario level).
    footprint, system, assessment, tolerance, simplify_m, measure
        As in :func:`coterminus.outputs.maps.footprint_map`.
    layers : MapLayers, optional
        Draw these instead of computing them.
    units, against, within : optional
        Levels of the members, of the areas shaded (headline first) and of test I, as in
        :func:`coterminus.outputs.maps.map_layers` (defaults: the assessment's, else from the codes and
        :func:`coterminus.analysis.assess.default_against`).
    tier : str, optional
        The level shaded, one of ``against`` (default the headline level); ``"both"``: the
        headline level shaded and the boundaries of the others drawn over it.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (legend and attribution go inside it); otherwise a new figure with
        title, verdicts, legend, scale bar, north arrow and attribution.
    title : str, optional
    labels : bool, optional
        Area names (default: when ≤ 30 areas). Labels never overlap; those that find no
        room are named in the note under the map.
    paper : {"a4", "letter"}, default "a4"
        A new figure is this page, everything inside the margins :data:`MARGINS_MM`.
    figsize : (float, float), optional
        Inches, instead of a whole page (e.g. :func:`text_block` for a report); 4 mm margins.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = footprint_figure(geo, ["E38000038"])
    >>> save_figure(fig, "coventry-and-rugby.png")
    PosixPath('coventry-and-rugby.png')
    """
    check_tier_word(tier, geo)
    size, margins_in = page_margins(figsize, paper)
    if layers is None:
        options = LayerOptions(units, against, within, tolerance, simplify_m, measure)
        layers = options.layers(geo, footprint, system=system, assessment=assessment)
    lay = layers
    tier = tier_name(geo, tier)
    check_tier(tier, lay.against)
    with plain_text():
        if ax is not None:
            handles = draw_map(lay, ax, tier=tier, labels=labels)
            ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
            ax.text(
                0.0,
                -0.02,
                textwrap.fill(lay.attribution or attribution(lay.vintage), 110),
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=6,
            )
            return ax.figure  # type: ignore[return-value]
        fig = new_figure(size)
        ax = fig.add_axes((0, 0, 1, 1))
        plan = lay.kind == "plan"
        handles = draw_geometry(lay, ax, tier=tier, furniture=True, key=plan)
        if labels is None:
            labels = len(lay.councils[shaded_level(lay, tier)]) <= 30
        keys: list[Key] = [
            (handles, 2, lay.share_label if not plan else "Boundaries"),
        ]
        if plan:
            new = f"New {lay.label(lay.units, plural=True)}"
            keys.append((_plan_key(lay), 1, f"{new} (numbered as on the map)"))
        target = ax
        compose(
            fig,
            ax,
            margins_in=margins_in,
            title=title or f"{lay.title} ({lay.vintage})",
            subtitle=_subtitle(lay),
            keys=keys,
            note=_layers_note(lay),
            label=lambda: label_map(lay, target, tier=tier, councils=bool(labels)),
        )
    return fig


def plan_figure(
    geo: Geography,
    plan: Any,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    ax: Axes | None = None,
    tier: str | None = None,
    title: str | None = None,
    labels: bool | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    paper: Literal["a4", "letter"] = "a4",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Print map of a merger plan: one colour and number per new unit, over the councils.

    The plan's blocks are units of any one level (CCGs, ICBs, sub-ICB locations, a scenario's
    areas); the words follow the level ("New ICB 1"). Every new unit is listed under the map
    (number, colour, members and verdicts), never over it; the numbers and the area names on
    the map never overlap. Other parameters as in :func:`footprint_figure`.

    Examples
    --------
    >>> fig = plan_figure(geo, [["E38000038", "E38000195"], ["E38000164"]])
    >>> fig24 = plan_figure(coterminus.load(2024), [["QWU", "QHL"], ["QGH"]], against="cauth")
    """
    check_tier_word(tier, geo)
    options = LayerOptions(units, against, within, tolerance, simplify_m, measure)
    layers = options.layers(geo, plan=plan)
    return footprint_figure(
        geo,
        layers=layers,
        ax=ax,
        tier=tier,
        title=title,
        labels=labels,
        paper=paper,
        figsize=figsize,
    )


def _plans_list(plans: Any) -> list[tuple[str, Any]]:
    if isinstance(plans, Mapping):
        return [(str(k), v) for k, v in plans.items()]
    out = []
    for i, p in enumerate(list(plans)):
        label = getattr(p, "label", None) or getattr(p, "name", None) or f"Plan {i + 1}"
        out.append((str(label), p))
    return out


def plans_figure(
    geo: Geography,
    plans: Any,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    ncols: int = 3,
    titles: Sequence[str] | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    title: str | None = None,
    paper: Literal["a4", "letter"] = "a4",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Small multiples of merger plans (e.g. the top plans), one panel each, on one page.

    Parameters
    ----------
    geo : Geography
    plans : sequence of plans or mapping of label to plan
        Each plan is a list of blocks of unit codes of one level (or an object with
        ``.blocks``).
    units, against, within : optional
        As in :func:`plan_figure`; each panel shades the headline level (first of ``against``).
    ncols : int, default 3
    titles : sequence of str, optional
        One per plan (default: the mapping's keys, or "Plan 1", ...).
    paper : {"a4", "letter"}, default "a4"
        The page; panels, titles, legend and attribution lie inside its margins.
    figsize : (float, float), optional
        Inches, instead of a whole page.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> top = [[["E38000038", "E38000195"], ["E38000164"]],
    ...        [["E38000038", "E38000164", "E38000195"]]]
    >>> fig = plans_figure(geo, top, ncols=2)
    """
    items = _plans_list(plans)
    if not items:
        msg = "plans is empty; give at least one plan (a list of blocks of unit codes)."
        raise ParameterError(msg)
    if ncols < 1:
        msg = f"ncols={ncols}; give a positive number of columns."
        raise ParameterError(msg)
    if titles is not None:
        if len(titles) != len(items):
            msg = f"{len(titles)} titles for {len(items)} plans; give one title per plan."
            raise ParameterError(msg)
        items = [(t, p) for t, (_, p) in zip(titles, items, strict=True)]
    size, margins_in = page_margins(figsize, paper)
    options = LayerOptions(units, against, within, tolerance, simplify_m)
    layer_sets = [options.layers(geo, plan=p) for _, p in items]
    lay0 = layer_sets[0]
    head = lay0.against[0]
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    with plain_text():
        fig = new_figure(size)
        handles = [
            Patch(
                facecolor="#cccccc",
                edgecolor="black",
                label=f"one colour and number per new {lay0.label(lay0.units)}",
            ),
            Line2D([], [], color="#222222", linewidth=1.4, label=f"{lay0.label(head)} boundary"),
            split_handle(f"split {lay0.label(head)}"),
            Line2D(
                [],
                [],
                color="#333333",
                linewidth=0.7,
                linestyle=(0, (4, 3)),
                label=f"{lay0.label(lay0.units)} boundary",
            ),
        ]
        panel_title_pt = 2 * 9 * 1.25 + 4
        title_in = panel_title_pt / 72
        aspect = max(frame_aspect(lay.bounds) for lay in layer_sets)
        w_in = size[0] - margins_in[1] - margins_in[3]
        panel_w = w_in / (ncols + (ncols - 1) * 0.05)
        x, y, w, h = layout_page(
            fig,
            None,
            margins_in=margins_in,
            title=title or f"Merger plans compared ({layer_sets[0].vintage})",
            subtitle="",
            keys=[(handles, 2, None)],
            note=lay0.attribution or attribution(lay0.vintage),
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
            draw_geometry(layers, ax, tier=lh, furniture=(i == 0))
            n_split = len(set().union(*(set(m.split) for m in layers.metrics[lh].values())))
            n_cot = sum(m.coterminous for m in layers.metrics[lh].values())
            n = len(layers.outlines)
            ax.set_title(
                f"{label}: {n} new {layers.label(layers.units, plural=n != 1)}\n"
                f"{n_cot} coterminous, {n_split} split "
                f"{layers.label(lh, plural=n_split != 1)}",
                fontsize=9,
            )
            label_map(layers, ax, tier=lh, councils=False)
    return fig


# ------------------------------------------------------------------------------------------
# one level against another: e.g. ICBs × combined authorities
# ------------------------------------------------------------------------------------------
def _colour_units(geoms: Any) -> list[str]:
    """A colour per area from :data:`~coterminus.outputs.maps.PLAN_COLOURS`, neighbours differing.

    Greedy colouring, largest areas first; areas within 100 m of each other are neighbours.
    """
    arr = np.asarray(geoms)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="dwithin", distance=100.0)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(arr))}
    for a, b in zip(left, right, strict=True):
        if a != b:
            neighbours[int(a)].add(int(b))
    colour: dict[int, int] = {}
    for i in np.argsort(-shapely.area(arr), kind="stable"):
        used = {colour[j] for j in neighbours[int(i)] if j in colour}
        free = [k for k in range(len(PLAN_COLOURS)) if k not in used]
        colour[int(i)] = free[0] if free else int(i) % len(PLAN_COLOURS)
    return [PLAN_COLOURS[colour[i]] for i in range(len(arr))]


def split_figure(
    geo: Geography,
    *,
    units: str,
    against: str,
    within: Sequence[str] | None = None,
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
    title: str | None = None,
    labels: bool | None = None,
    unit_word: str | None = None,
    against_word: str | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    paper: Literal["a4", "letter"] = "a4",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Print map of the areas of one level split between the units of another, hatched.

    For example ICBs (``units="icb"``) against combined authorities (``against="cauth"``): each
    unit is coloured and numbered (neighbours in different colours), the areas of ``against``
    are outlined and named, and an area whose measure lies in more than one unit is hatched and
    listed with its shares.

    Parameters
    ----------
    geo : Geography
    units, against : str
        Levels of ``geo`` (``geo.layer(level)``), e.g. ``"stp"`` and ``"utla"``.
    within : sequence of str, optional
        Codes of ``units`` to draw (default: every unit that shares with a split area, or all
        units when none is split) — together with every area of ``against`` they touch.
    measure : {"population", "area"}, default "population"
    tolerance : float, optional
        ε: an area is split when more than ε of it lies in each of two or more units (default
        0.005 for population, 0.03 for area).
    labels : bool, optional
        Names of the ``against`` areas on the map (default: at most 30 of them).
    unit_word, against_word : str, optional
        What to call a unit and an area in the text (default: the levels' labels,
        ``geo.label``; the plural adds "s" to a word given here).
    paper, figsize
        As in :func:`footprint_figure`.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    From the overlap table of ``units`` × ``against`` (:func:`coterminus.analysis.overlap.overlap`), the
    share of area :math:`a` in unit :math:`u` is :math:`s_{ua} = m_{ua} / T_a`; :math:`a` is
    split when :math:`|\\{u : s_{ua} > \\varepsilon\\}| \\ge 2`.

    Examples
    --------
    >>> fig = split_figure(geo, units="stp", against="utla",
    ...                    within=["E54000018", "E54000010", "E54000011"])
    >>> fig24 = split_figure(coterminus.load(2024), units="icb", against="cauth")
    """
    size, margins_in = page_margins(figsize, paper)
    eps = check_tolerance(tolerance, measure)
    units = geo.resolve_level(units)
    against = geo.resolve_level(against)
    unit_plural = f"{unit_word}s" if unit_word else geo.label(units, plural=True)
    against_plural = f"{against_word}s" if against_word else geo.label(against, plural=True)
    unit_word = unit_word or geo.label(units)
    against_word = against_word or geo.label(against)
    table = overlap(geo, units, against, measure=measure)
    pairs = table.pairs
    pairs = pairs[pairs["share_of_target"] > eps]
    n_units = pairs.groupby("target")["unit"].nunique()
    split_codes = sorted(n_units.index[n_units >= 2])
    unit_layer = geo.layer(units)
    if within is None:
        chosen = sorted(set(pairs.loc[pairs["target"].isin(split_codes), "unit"])) or sorted(
            unit_layer.index
        )
    else:
        chosen = [str(c) for c in within]
        unknown = [c for c in chosen if c not in unit_layer.index]
        if unknown:
            msg = (
                f"within= has codes that are not {unit_plural} of {geo.vintage}: "
                f"{', '.join(unknown)}; list them with geo.units({units!r}).index."
            )
            raise UnknownAreaError(msg)
    touched = sorted(set(pairs.loc[pairs["unit"].isin(chosen), "target"]))
    against_layer = geo.layer(against)
    bounds = np.r_[  # fmin/fmax: no area of a partial level touched gives NaN bounds
        np.fmin(
            unit_layer.geometry.loc[chosen].total_bounds[:2],
            against_layer.geometry.loc[touched].total_bounds[:2],
        ),
        np.fmax(
            unit_layer.geometry.loc[chosen].total_bounds[2:],
            against_layer.geometry.loc[touched].total_bounds[2:],
        ),
    ]
    tol_m = resolve_simplify(simplify_m, bounds)
    u = simplified_layer(geo, units, tol_m).loc[chosen]
    a = simplified_layer(geo, against, tol_m).loc[touched]
    split_here = [c for c in touched if c in set(split_codes)]
    colours = _colour_units(u.geometry.to_numpy())
    unit_names = unit_layer["name"].astype(str)
    against_names = against_layer["name"].astype(str)

    lines = []
    for code in split_here:
        sub = pairs[pairs["target"] == code].sort_values("share_of_target", ascending=False)
        shares = ", ".join(
            f"{s:.0%} in {unit_names.get(x, x)}"
            for x, s in zip(sub["unit"], sub["share_of_target"], strict=True)
        )
        lines.append(f"{against_names.get(code, code)}: {shares}")
    what = "people" if measure == "population" else "area"
    subtitle = (
        f"{len(split_here)} of the {len(touched)} {against_plural} shown are split between "
        f"{unit_plural}: more than ε = {eps:g} of their {what} in each of two or more."
    )
    caption = ("Split: " + "; ".join(lines) + ".") if lines else ""

    with plain_text():
        fig = new_figure(size)
        ax = fig.add_axes((0, 0, 1, 1))
        gpd.GeoSeries(u.geometry.to_numpy(), crs=u.crs).plot(
            ax=ax, color=colours, edgecolor="none", alpha=0.85, zorder=1
        )
        a.boundary.plot(ax=ax, color="#222222", linewidth=1.0, zorder=4)
        hatch_split(ax, a.loc[split_here])
        u.boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=8)
        frame(ax, bounds)
        add_scale_bar(ax)
        add_north_arrow(ax)
        symbols = [
            Line2D([], [], color="#222222", linewidth=1.0, label=f"{against_word} boundary"),
            split_handle(f"{against_word} split between {unit_plural} (hatched)"),
            Line2D([], [], color="black", linewidth=2.0, label=f"{unit_word} outline"),
        ]
        key = [
            Patch(facecolor=c, edgecolor="black", linewidth=0.6, label=f"{i + 1}. {unit_names[x]}")
            for i, (x, c) in enumerate(zip(chosen, colours, strict=True))
        ]
        if labels is None:
            labels = len(touched) <= 30
        first = [(str(i + 1), g) for i, g in enumerate(u.geometry)]
        names = list(zip(a["name"].astype(str), a.geometry, strict=True)) if labels else []
        compose(
            fig,
            ax,
            margins_in=margins_in,
            title=title or f"{cap(unit_plural)} and {against_plural} ({geo.vintage})",
            subtitle=subtitle,
            keys=[(symbols, 2, None), (key, 2 if len(key) > 6 else 1, cap(unit_plural))],
            note=_note(
                geo.vintage,
                measure,
                tol_m,
                source=share_source(geo, measure) + "; " + polygon_note(geo, [units, against]),
                attribution_text=vintage_attribution(geo),
            ),
            label=lambda: place_labels(ax, names, first=first, first_sizes=(11, 9, 7, 6)),
            caption=caption,
        )
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
