"""Static maps for print (matplotlib): PNG at 300 dpi, PDF and SVG, no web tiles.

A figure shows the same content as the interactive map (:mod:`coterminus.maps` — both draw a
:class:`~coterminus.maps.MapLayers`): councils shaded by the share inside the footprint (four
classes, light to dark, distinct in greyscale), split councils hatched, member CCG boundaries
dashed, the footprint outline in heavy black, plus a title with the verdicts, a legend, a
scale bar, a north arrow (grid north, British National Grid) and the ONS/OS attribution.
Figures are drawn in EPSG:27700, so the scale bar is exact in metres.

Examples
--------
>>> import coterminus
>>> from coterminus import figures
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

from ._atomic import atomic_write, check_output_path
from .errors import ParameterError
from .maps import (
    SHARE_COLOURS,
    SPLIT_COLOUR,
    MapLayers,
    _check_tier,
    _require,
    attribution,
    map_layers,
    share_classes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .assess import Assessment
    from .geography import Geography

__all__ = [
    "FIGURE_SUFFIXES",
    "add_north_arrow",
    "add_scale_bar",
    "draw_map",
    "footprint_figure",
    "plan_figure",
    "plans_figure",
    "save_figure",
]

log = logging.getLogger(__name__)

#: Suffixes :func:`save_figure` writes.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
_HATCH = "///"
_A4_PORTRAIT = (8.27, 11.0)


def _mpl() -> Any:
    return _require(
        "matplotlib",
        needed_for="static maps",
        pip="matplotlib>=3.7",
        instead="use the interactive coterminus.maps.footprint_map",
    )


def _new_figure(figsize: tuple[float, float]) -> Figure:
    _mpl()
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=None)


# ------------------------------------------------------------------------------------------
# furniture
# ------------------------------------------------------------------------------------------
def _nice_length(width_m: float) -> float:
    target = width_m / 5
    for km in (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if km * 1000 >= target:
            return km * 1000.0
    return 500_000.0


def add_scale_bar(
    ax: Axes, *, loc: tuple[float, float] = (0.04, 0.04), fontsize: float = 8
) -> float:
    """Draw a two-segment black/white scale bar (axes in metres); return its length in metres.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> _ = ax.set_xlim(0, 50_000), ax.set_ylim(0, 50_000)
    >>> add_scale_bar(ax)
    10000.0
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    bx = x0 + (x1 - x0) * loc[0]
    by = y0 + (y1 - y0) * loc[1]
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                h,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.8,
                zorder=20,
            )
        )
    km = length / 1000
    labels = [(0, "0"), (length / 2, f"{km / 2:g}"), (length, f"{km:g} km")]
    for dx, text in labels:
        ax.text(bx + dx, by + h * 1.6, text, ha="center", va="bottom", fontsize=fontsize, zorder=20)
    return length


def add_north_arrow(
    ax: Axes, *, loc: tuple[float, float] = (0.95, 0.9), size: float = 0.07
) -> None:
    """Draw a north arrow (grid north of British National Grid) in axes coordinates."""
    x, y = loc
    ax.annotate(
        "N",
        xy=(x, y),
        xytext=(x, y - size),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        arrowprops={
            "facecolor": "black",
            "edgecolor": "black",
            "width": 4,
            "headwidth": 11,
            "headlength": 10,
        },
        zorder=20,
    )


def _label_box(alpha: float = 0.75) -> dict[str, Any]:
    # a box rather than a path-effect halo: labels stay text in PDF/SVG (searchable)
    return {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": alpha}


# ------------------------------------------------------------------------------------------
# the map itself
# ------------------------------------------------------------------------------------------
def draw_map(
    layers: MapLayers,
    ax: Axes,
    *,
    tier: Literal["utla", "ltla", "both"] = "utla",
    labels: bool | None = None,
    furniture: bool = True,
) -> list[Any]:
    """Draw :class:`~coterminus.maps.MapLayers` on an axes (EPSG:27700); return legend handles.

    Parameters
    ----------
    layers : MapLayers
        From :func:`coterminus.maps.map_layers`.
    ax : matplotlib.axes.Axes
    tier : {"utla", "ltla", "both"}
        The tier shaded; with ``"both"`` the upper tier is shaded and lower-tier boundaries are
        drawn over it.
    labels : bool, optional
        Council (and new CCG) names on the map; default when there are at most 30 councils.
    furniture : bool
        Scale bar and north arrow.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _check_tier(tier)
    shade = "ltla" if tier == "ltla" else "utla"
    councils = layers.councils[shade]
    plan = layers.kind == "plan"
    handles: list[Any] = []
    if plan:
        for g, r in layers.outlines.iterrows():
            sub = layers.ccgs[layers.ccgs["group"] == g]
            sub.plot(ax=ax, color=r["colour"], edgecolor="none", alpha=0.85, zorder=1)
            handles.append(Patch(facecolor=r["colour"], edgecolor="black", label=str(r["name"])))
        councils.boundary.plot(ax=ax, color="#222222", linewidth=1.4, zorder=4)
        handles.append(Line2D([], [], color="#222222", linewidth=1.4, label="council boundary"))
    else:
        colours = [SHARE_COLOURS[c] for c in councils["share_class"]]
        councils.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.9, zorder=1)
        for _key, label, colour in share_classes(layers.tolerance):
            handles.append(Patch(facecolor=colour, edgecolor="#777777", linewidth=0.5, label=label))
    if tier == "both":
        layers.councils["ltla"].boundary.plot(
            ax=ax, color="#444444", linewidth=0.8, linestyle=":", zorder=6.5
        )
        handles.append(
            Line2D(
                [],
                [],
                color="#444444",
                linewidth=0.8,
                linestyle=":",
                label="lower-tier council boundary",
            )
        )
    split = councils[councils["status"] == "split"]
    if len(split):
        with _mpl().rc_context({"hatch.linewidth": 0.7}):
            split.plot(
                ax=ax,
                facecolor="none",
                edgecolor=SPLIT_COLOUR,
                hatch=_HATCH,
                linewidth=0.0,
                zorder=5,
            )
        split.boundary.plot(ax=ax, color=SPLIT_COLOUR, linewidth=1.6, linestyle="--", zorder=6)
    handles.append(
        Patch(
            facecolor="white",
            edgecolor=SPLIT_COLOUR,
            hatch=_HATCH,
            linewidth=1.2,
            label="split council (hatched)",
        )
    )
    layers.ccgs.boundary.plot(
        ax=ax, color="#333333", linewidth=0.7, linestyle=(0, (4, 3)), zorder=7
    )
    handles.append(
        Line2D([], [], color="#333333", linewidth=0.7, linestyle=(0, (4, 3)), label="CCG boundary")
    )
    outline_w = 1.6 if layers.kind == "systems" else 2.4
    layers.outlines.boundary.plot(ax=ax, color="black", linewidth=outline_w, zorder=8)
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            linewidth=outline_w,
            label={
                "footprint": "footprint outline",
                "plan": "new CCG outline",
                "systems": "system outline",
            }[layers.kind],
        )
    )
    ax.set_aspect("equal")
    ax.set_axis_off()
    minx, miny, maxx, maxy = layers.bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad * 2.5, maxy + pad)
    if labels is None:
        labels = len(councils) <= 30
    if labels:
        pts = councils.geometry.representative_point()
        for (_, r), p in zip(councils.iterrows(), pts, strict=True):
            text = str(r["name"]) if plan else f"{r['name']}\n{r['share']:.0%}"
            ax.text(
                p.x, p.y, text, ha="center", va="center", fontsize=7, zorder=10, bbox=_label_box()
            )
    if plan:
        pts = layers.outlines.geometry.representative_point()
        for i, p in enumerate(pts):
            ax.text(
                p.x,
                p.y,
                str(i + 1),
                ha="center",
                va="center",
                fontsize=13,
                fontweight="bold",
                zorder=11,
                bbox=_label_box(0.85),
            )
    if furniture:
        add_scale_bar(ax)
        add_north_arrow(ax)
    return handles


def _subtitle(layers: MapLayers) -> str:
    if layers.kind == "systems":
        n_split = int((layers.councils["utla"]["status"] == "split").sum())
        return (
            f"{n_split} of {len(layers.councils['utla'])} upper-tier councils are split between "
            f"systems (ε = {layers.tolerance:g})."
        )
    lines = []
    for _, r in layers.outlines.iterrows():
        prefix = "" if layers.kind == "footprint" else f"{r['name']}: "
        lines.append(f"{prefix}Test II: {r['test_ii']}. Test I: {r['test_i']}.")
        if layers.kind == "footprint":
            lines.append(f"People outside: {r['outside']}.")
    return "\n".join(textwrap.fill(s, 110) for s in lines[:6])


def _finish(
    fig: Figure, ax: Axes, layers: MapLayers, handles: list[Any], title: str | None, *, own: bool
) -> None:
    attr = attribution(layers.vintage)
    simp = f"{layers.simplify_m:g} m" if layers.simplify_m else "none"
    note = (
        f"{layers.measure.capitalize()} shares from ONS LSOA building blocks (mid-2019); "
        f"boundaries {layers.vintage}, simplified for display ({simp}). Grid north (EPSG:27700)."
    )
    if own:
        fig.suptitle(
            title or f"{layers.title} ({layers.vintage})",
            x=0.03,
            y=0.985,
            ha="left",
            fontsize=14,
            fontweight="bold",
        )
        fig.text(0.03, 0.945, _subtitle(layers), ha="left", va="top", fontsize=8.5)
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.0, -0.01),
            ncols=2,
            fontsize=8,
            frameon=False,
            title=layers.share_label if layers.kind != "plan" else "New CCGs",
            title_fontsize=8.5,
            alignment="left",
        )
        fig.text(
            0.03,
            0.012,
            textwrap.fill(note, 150) + "\n" + textwrap.fill(attr, 150),
            ha="left",
            va="bottom",
            fontsize=6.5,
            color="#222222",
        )
    else:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
        ax.text(
            0.0,
            -0.02,
            textwrap.fill(attr, 110),
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=6,
        )


def footprint_figure(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    assessment: Assessment | None = None,
    layers: MapLayers | None = None,
    tier: Literal["utla", "ltla", "both"] = "utla",
    ax: Axes | None = None,
    title: str | None = None,
    labels: bool | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    figsize: tuple[float, float] = _A4_PORTRAIT,
) -> Figure:
    """Print map of a footprint against the councils (or, with no footprint, every system).

    Parameters
    ----------
    geo : Geography
    footprint, system, assessment, tolerance, simplify_m
        As in :func:`coterminus.maps.footprint_map`.
    layers : MapLayers, optional
        Draw these instead of computing them.
    tier : {"utla", "ltla", "both"}, default "utla"
        The tier shaded (``"both"``: upper tier shaded, lower-tier boundaries drawn).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (legend and attribution go inside it); otherwise a new A4-portrait
        figure with title, verdicts, legend, scale bar, north arrow and attribution.
    title : str, optional
    labels : bool, optional
        Council names (default: when ≤ 30 councils).
    figsize : (float, float)
        Inches, for a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = footprint_figure(geo, ["E38000038"])
    >>> save_figure(fig, "coventry-and-rugby.png")
    PosixPath('coventry-and-rugby.png')
    """
    _check_tier(tier)
    if layers is None:
        layers = map_layers(
            geo,
            footprint,
            system=system,
            assessment=assessment,
            tolerance=tolerance,
            simplify_m=simplify_m,
        )
    own = ax is None
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_axes((0.03, 0.2, 0.94, 0.68))
    else:
        fig = ax.figure  # type: ignore[assignment]
    handles = draw_map(layers, ax, tier=tier, labels=labels)
    _finish(fig, ax, layers, handles, title, own=own)
    return fig


def plan_figure(
    geo: Geography,
    plan: Any,
    *,
    ax: Axes | None = None,
    tier: Literal["utla", "ltla", "both"] = "utla",
    title: str | None = None,
    labels: bool | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    figsize: tuple[float, float] = _A4_PORTRAIT,
) -> Figure:
    """Print map of a merger plan: one colour (and number) per new CCG, over the councils.

    Examples
    --------
    >>> fig = plan_figure(geo, [["E38000038", "E38000195"], ["E38000164"]])
    """
    layers = map_layers(geo, plan=plan, tolerance=tolerance, simplify_m=simplify_m)
    return footprint_figure(
        geo, layers=layers, ax=ax, tier=tier, title=title, labels=labels, figsize=figsize
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
    ncols: int = 3,
    titles: Sequence[str] | None = None,
    simplify_m: float | Literal["auto"] | None = "auto",
    tolerance: float | None = None,
    panel_size: float = 3.6,
    title: str | None = None,
) -> Figure:
    """Small multiples of merger plans (e.g. the top plans), one panel each.

    Parameters
    ----------
    geo : Geography
    plans : sequence of plans or mapping of label to plan
        Each plan is a list of blocks of CCG codes (or an object with ``.blocks``).
    ncols : int, default 3
    titles : sequence of str, optional
        One per plan (default: the mapping's keys, or "Plan 1", ...).
    panel_size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> top = [[["E38000038", "E38000195"], ["E38000164"]],
    ...        [["E38000038", "E38000164", "E38000195"]]]
    >>> fig = plans_figure(geo, top, ncols=2)
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    items = _plans_list(plans)
    if not items:
        msg = "plans is empty; give at least one plan (a list of blocks of CCG codes)."
        raise ParameterError(msg)
    if ncols < 1:
        msg = f"ncols={ncols}; give a positive number of columns."
        raise ParameterError(msg)
    if titles is not None:
        if len(titles) != len(items):
            msg = f"{len(titles)} titles for {len(items)} plans; give one title per plan."
            raise ParameterError(msg)
        items = [(t, p) for t, (_, p) in zip(titles, items, strict=True)]
    layer_sets = [
        map_layers(geo, plan=p, tolerance=tolerance, simplify_m=simplify_m) for _, p in items
    ]
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    fig = _new_figure((panel_size * ncols, panel_size * nrows + 1.3))
    top = 1 - 0.95 / (panel_size * nrows + 1.3)
    bottom = 0.75 / (panel_size * nrows + 1.3)
    gs = fig.add_gridspec(
        nrows, ncols, left=0.02, right=0.98, top=top, bottom=bottom, wspace=0.05, hspace=0.18
    )
    for i, ((label, _), layers) in enumerate(zip(items, layer_sets, strict=True)):
        ax = fig.add_subplot(gs[i // ncols, i % ncols])
        draw_map(layers, ax, labels=False, furniture=(i == 0))
        n_split = len(set().union(*(set(m.split) for m in layers.metrics["utla"].values())))
        n_cot = sum(m.coterminous for m in layers.metrics["utla"].values())
        ax.set_title(
            f"{label}: {len(layers.outlines)} new CCG{'s' if len(layers.outlines) != 1 else ''}\n"
            f"{n_cot} coterminous, {n_split} split council{'s' if n_split != 1 else ''}",
            fontsize=9,
        )
    fig.suptitle(
        title or f"Merger plans compared ({layer_sets[0].vintage})",
        fontsize=13,
        fontweight="bold",
        x=0.02,
        ha="left",
    )
    handles = [
        Patch(facecolor="#cccccc", edgecolor="black", label="one colour and number per new CCG"),
        Line2D([], [], color="#222222", linewidth=1.4, label="upper-tier council boundary"),
        Patch(facecolor="white", edgecolor=SPLIT_COLOUR, hatch=_HATCH, label="split council"),
        Line2D([], [], color="#333333", linewidth=0.7, linestyle=(0, (4, 3)), label="CCG boundary"),
    ]
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.02, 0.3 / (panel_size * nrows + 1.3)),
        ncols=4,
        fontsize=7.5,
        frameon=False,
    )
    fig.text(0.02, 0.004, attribution(layer_sets[0].vintage), fontsize=6, ha="left", va="bottom")
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
    mpl = _mpl()
    p = check_output_path(path, suffixes=FIGURE_SUFFIXES)
    fmt = p.suffix.lower().lstrip(".")
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    metadata: dict[str, Any] = {
        "png": {"Title": title, "Software": "coterminus"},
        "pdf": {"Title": title, "Creator": "coterminus"},
        "svg": {"Title": title},
    }[fmt]

    def write(tmp: Path) -> None:
        with mpl.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")

    out = atomic_write(p, write, suffixes=FIGURE_SUFFIXES)
    log.info("wrote %s", out)
    return out
