"""Static maps for print (matplotlib): PNG at 300 dpi, PDF and SVG, no web tiles.

A figure shows the same content as the interactive map (:mod:`coterminus.maps` — both draw a
:class:`~coterminus.maps.MapLayers`), at any level of any vintage (CCGs in 2019, sub-ICB
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
>>> from coterminus import figures
>>> geo = coterminus.load(2019)
>>> fig = figures.footprint_figure(geo, system="Coventry and Warwickshire")
>>> figures.save_figure(fig, "cw.pdf")
PosixPath('cw.pdf')
"""

from __future__ import annotations

import contextlib
import logging
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._atomic import atomic_write, check_output_path
from .errors import ParameterError
from .maps import (
    PLAN_COLOURS,
    SHARE_COLOURS,
    SPLIT_COLOUR,
    MapLayers,
    _cap,
    _check_tier,
    _check_tier_word,
    _require,
    _resolve_simplify,
    _tier_name,
    attribution,
    map_layers,
    share_classes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from .assess import Assessment
    from .geography import Geography

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
#: Paper sizes, portrait, in inches.
PAPER: dict[str, tuple[float, float]] = {"a4": (210 / 25.4, 297 / 25.4), "letter": (8.5, 11.0)}
#: Page margins in millimetres (top, right, bottom, left); the report's CSS uses the same.
MARGINS_MM: tuple[float, float, float, float] = (20.0, 18.0, 20.0, 18.0)
_HATCH = "///"
_GAP_PT = 6.0  # vertical space between the blocks of a page layout


def _mpl() -> Any:
    return _require(
        "matplotlib",
        needed_for="static maps",
        pip="matplotlib>=3.7",
        instead="use the interactive coterminus.maps.footprint_map",
    )


def _check_paper(paper: str) -> str:
    key = str(paper).lower()
    if key not in PAPER:
        msg = f"paper={paper!r}; give one of {', '.join(repr(p) for p in PAPER)}."
        raise ParameterError(msg)
    return key


def page_size(paper: str = "a4") -> tuple[float, float]:
    """Width and height of a portrait page in inches.

    Examples
    --------
    >>> [round(x * 25.4) for x in page_size("a4")], page_size("letter")
    ([210, 297], (8.5, 11.0))
    """
    return PAPER[_check_paper(paper)]


def text_block(paper: str = "a4") -> tuple[float, float]:
    """Width and height (inches) of the text block: the page less the margins :data:`MARGINS_MM`.

    Examples
    --------
    >>> [round(x * 25.4) for x in text_block("a4")]
    [174, 257]
    """
    w, h = page_size(paper)
    top, right, bottom, left = (m / 25.4 for m in MARGINS_MM)
    return w - left - right, h - top - bottom


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    """Matplotlib text created inside this block is drawn as given: no mathtext, no LaTeX.

    A council called ``"$x$"`` would otherwise be typeset as maths, and ``"$\\frac"`` would
    stop the drawing with a parse error. Every figure of this module draws its text inside it.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> with plain_text():
    ...     t = Figure().text(0, 0, "Fund $x$ \\\\frac{")
    >>> t.get_parse_math(), t.get_usetex()
    (False, False)
    """
    rc = {"text.parse_math": False, "text.usetex": False, "text.hinting": "no_hinting"}
    with _mpl().rc_context(rc):  # unhinted: text measures as wide as in a PDF
        yield


def _new_figure(figsize: tuple[float, float]) -> Figure:
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=None)
    FigureCanvasAgg(fig)
    return fig


def _renderer(fig: Any) -> Any:
    """A renderer to measure text with (attaches an Agg canvas to a bare Figure)."""
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


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
                gid="coterminus-furniture",
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
# labels that never overlap
# ------------------------------------------------------------------------------------------
def _candidates(geom: Any, n: int = 23) -> np.ndarray:
    """Points inside a polygon to anchor its label, best first (data coordinates).

    The point on the surface first, then points of an ``n`` × ``n`` grid over the polygon's
    bounds that fall inside it, deepest inside first.
    """
    import shapely

    first = shapely.point_on_surface(geom)
    minx, miny, maxx, maxy = geom.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, n), np.linspace(miny, maxy, n))
    pts = shapely.points(gx.ravel(), gy.ravel())
    shapely.prepare(geom)
    pts = pts[shapely.contains(geom, pts)]
    depth = shapely.distance(shapely.boundary(geom), pts)
    pts = pts[np.argsort(-depth, kind="stable")]
    xy = shapely.get_coordinates(np.r_[[first], pts])
    return xy


def _boxes_overlap(boxes: np.ndarray, placed: list[np.ndarray]) -> np.ndarray:
    """For each of ``boxes`` (k × 4: x0, y0, x1, y1), whether it overlaps any placed box."""
    if not placed:
        return np.zeros(len(boxes), dtype=bool)
    p = np.asarray(placed)
    hit = (
        (boxes[:, None, 0] < p[None, :, 2])
        & (boxes[:, None, 2] > p[None, :, 0])
        & (boxes[:, None, 1] < p[None, :, 3])
        & (boxes[:, None, 3] > p[None, :, 1])
    )
    return np.asarray(hit.any(axis=1))


def _place_one(
    ax: Axes,
    renderer: Any,
    variants: Sequence[tuple[str, float]],
    anchors: np.ndarray,
    placed: list[np.ndarray],
    **kw: Any,
) -> Text | None:
    """Put the first variant (text, font size) that fits at the first free anchor."""
    area = ax.get_window_extent(renderer)
    disp = ax.transData.transform(anchors)
    px_per_pt = ax.figure.dpi / 72
    x, y = (float(v) for v in anchors[0])
    for text, size in variants:
        t = ax.text(x, y, text, fontsize=size, ha="center", va="center", **kw)
        ext = t.get_window_extent(renderer)
        pad = 0.15 * size * px_per_pt + 1.0  # the white box around the text, and a pixel
        x0, y0 = disp[0]
        rel = np.array([ext.x0 - x0 - pad, ext.y0 - y0 - pad, ext.x1 - x0 + pad, ext.y1 - y0 + pad])
        boxes = np.c_[disp, disp] + rel
        ok = (
            (boxes[:, 0] >= area.x0)
            & (boxes[:, 1] >= area.y0)
            & (boxes[:, 2] <= area.x1)
            & (boxes[:, 3] <= area.y1)
        )
        ok &= ~_boxes_overlap(boxes, placed)
        hits = np.flatnonzero(ok)
        if hits.size:
            t.set_position(tuple(anchors[hits[0]]))
            placed.append(boxes[hits[0]])
            return t
        t.remove()
    return None


def _wrap_name(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


def place_labels(
    ax: Axes,
    labels: Sequence[tuple[str, Any]],
    *,
    sizes: Sequence[float] = (7, 6, 5.5),
    first: Sequence[tuple[str, Any]] = (),
    first_sizes: Sequence[float] = (13, 11, 9),
    suffixes: Sequence[str] | None = None,
) -> list[str]:
    """Label areas on a map so that no two labels (nor the scale bar or north arrow) overlap.

    Each label is tried at points inside its area — the point on the surface first, then
    points deeper inside — at each font size in turn (and wrapped), and goes to the first place
    where its box overlaps nothing already drawn and stays inside the axes. Call it after the
    axes has its final position and limits.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    labels : sequence of (text, geometry)
        Names and the (data-coordinate) polygons they label, e.g. councils.
    sizes : sequence of float
        Font sizes (points) to try, largest first.
    first : sequence of (text, geometry)
        Labels placed before all others, in bold, e.g. the numbers of a plan's new CCGs.
    first_sizes : sequence of float
    suffixes : sequence of str, optional
        A second line per label of ``labels`` (e.g. a share), kept with the name.

    Returns
    -------
    list of str
        The labels that found no free place (left off the map; say so in a caption).

    Examples
    --------
    Two squares with long names: both labels fit, side by side and apart.

    >>> import shapely
    >>> from matplotlib.figure import Figure
    >>> ax = Figure(figsize=(4, 2)).add_axes((0, 0, 1, 1))
    >>> _ = ax.set_xlim(0, 2), ax.set_ylim(0, 1)
    >>> place_labels(ax, [("West", shapely.box(0, 0, 1, 1)), ("East", shapely.box(1, 0, 2, 1))])
    []
    >>> sorted(round(t.get_position()[0]) for t in ax.texts)
    [0, 2]
    """
    fig = ax.figure
    renderer = _renderer(fig)
    ax.apply_aspect()
    placed: list[np.ndarray] = []
    for t in ax.texts:  # furniture already drawn (scale bar, north arrow)
        e = t.get_window_extent(renderer)
        placed.append(np.array([e.x0, e.y0, e.x1, e.y1]))
    for p in ax.patches:
        if p.get_gid() == "coterminus-furniture":
            e = p.get_window_extent(renderer)
            placed.append(np.array([e.x0, e.y0, e.x1, e.y1]))
    missing: list[str] = []
    for text, geom in first:
        ok = _place_one(
            ax,
            renderer,
            [(text, s) for s in first_sizes],
            _candidates(geom),
            placed,
            fontweight="bold",
            zorder=11,
            bbox=_label_box(0.85),
            gid="coterminus-label",
        )
        if ok is None:
            missing.append(text)
    suffixes = list(suffixes) if suffixes is not None else [""] * len(labels)
    order = np.argsort([g.area for _, g in labels], kind="stable")  # small areas first
    for i in order:
        name, geom = labels[i]
        tail = f"\n{suffixes[i]}" if suffixes[i] else ""
        variants = []
        for s in sizes:
            variants.append((name + tail, s))
            if len(name) > 16:
                variants.append((_wrap_name(name) + tail, s))
        ok = _place_one(
            ax,
            renderer,
            variants,
            _candidates(geom),
            placed,
            zorder=10,
            bbox=_label_box(),
            gid="coterminus-label",
        )
        if ok is None:
            missing.append(name)
    if missing:
        log.info("no room on the map to label: %s", ", ".join(missing))
    return missing


# ------------------------------------------------------------------------------------------
# the map itself
# ------------------------------------------------------------------------------------------
def _draw(
    layers: MapLayers,
    ax: Axes,
    *,
    tier: str | None,
    furniture: bool,
    key: bool = False,
) -> list[Any]:
    """Draw the geometry (and furniture) of the layers; return the legend handles.

    With ``key``, a plan's new units are left out of the handles (a figure of its own lists
    them in a key of their own). ``tier``: the level shaded (default the headline level); with
    ``"both"`` the headline level is shaded and the other levels' boundaries drawn over it.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shade = _shade(layers, tier)
    councils = layers.councils[shade]
    plan = layers.kind == "plan"
    handles: list[Any] = []
    if plan:
        for i, (g, r) in enumerate(layers.outlines.iterrows()):
            sub = layers.members[layers.members["group"] == g]
            sub.plot(ax=ax, color=r["colour"], edgecolor="none", alpha=0.85, zorder=1)
            if not key:
                handles.append(
                    Patch(facecolor=r["colour"], edgecolor="black", label=f"{i + 1}. {r['name']}")
                )
        if len(councils):
            councils.boundary.plot(ax=ax, color="#222222", linewidth=1.4, zorder=4)
        handles.append(
            Line2D([], [], color="#222222", linewidth=1.4, label=f"{layers.label(shade)} boundary")
        )
    else:
        colours = [SHARE_COLOURS[c] for c in councils["share_class"]]
        if len(councils):
            councils.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.9, zorder=1)
        for _key, label, colour in share_classes(layers.tolerance):
            handles.append(Patch(facecolor=colour, edgecolor="#777777", linewidth=0.5, label=label))
    if tier in _ALL_TIERS:
        for other, style in zip(
            [lv for lv in layers.against if lv != shade], _OTHER_STYLES, strict=False
        ):
            if len(layers.councils[other]):
                layers.councils[other].boundary.plot(ax=ax, zorder=6.5, **style)
            handles.append(Line2D([], [], label=f"{layers.label(other)} boundary", **style))
    split = councils[councils["status"] == "split"]
    _hatch(ax, split)
    handles.append(_split_handle(f"split {layers.label(shade)} (hatched)"))
    layers.members.boundary.plot(
        ax=ax, color="#333333", linewidth=0.7, linestyle=(0, (4, 3)), zorder=7
    )
    handles.append(
        Line2D(
            [],
            [],
            color="#333333",
            linewidth=0.7,
            linestyle=(0, (4, 3)),
            label=f"{layers.label(layers.units)} boundary",
        )
    )
    outline_w = 1.6 if layers.kind == "systems" else 2.4
    layers.outlines.boundary.plot(ax=ax, color="black", linewidth=outline_w, zorder=8)
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            linewidth=outline_w,
            label=f"{layers.group_word} outline",
        )
    )
    _frame(ax, layers.bounds)
    if furniture:
        add_scale_bar(ax)
        add_north_arrow(ax)
    return handles


_ALL_TIERS = ("both", "all")
#: Line styles of the boundaries of the levels drawn over the shaded one (``tier="both"``).
_OTHER_STYLES: tuple[dict[str, Any], ...] = (
    {"color": "#444444", "linewidth": 0.8, "linestyle": ":"},
    {"color": "#6a3d9a", "linewidth": 1.2, "linestyle": "-."},
    {"color": "#1b7837", "linewidth": 1.0, "linestyle": (0, (1, 2))},
    {"color": "#8c510a", "linewidth": 1.0, "linestyle": (0, (6, 2, 1, 2))},
)


def _shade(layers: MapLayers, tier: str | None) -> str:
    """The level shaded for ``tier``: the headline level for None/"both", else that level."""
    levels = _check_tier(tier, layers.against)
    return layers.against[0] if tier is None or tier in _ALL_TIERS else levels[0]


def _hatch(ax: Axes, split: Any) -> None:
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


def _split_handle(label: str = "split council (hatched)") -> Any:
    from matplotlib.patches import Patch

    return Patch(
        facecolor="white", edgecolor=SPLIT_COLOUR, hatch=_HATCH, linewidth=1.2, label=label
    )


def _frame_limits(bounds: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axes limits around ``bounds``: 4% padding, more below for the scale bar."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    return (minx - pad, maxx + pad), (miny - pad * 2.5, maxy + pad)


def _frame_aspect(bounds: Any) -> float:
    (x0, x1), (y0, y1) = _frame_limits(bounds)
    return (y1 - y0) / (x1 - x0)


def _frame(ax: Axes, bounds: Any) -> None:
    ax.set_aspect("equal")
    ax.set_axis_off()
    xlim, ylim = _frame_limits(bounds)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def _label_map(layers: MapLayers, ax: Axes, *, tier: str | None, councils: bool) -> list[str]:
    """Number the new units of a plan and name the areas shaded, without overlaps."""
    c = layers.councils[_shade(layers, tier)]
    plan = layers.kind == "plan"
    first = [(str(i + 1), g) for i, g in enumerate(layers.outlines.geometry)] if plan else []
    labels = list(zip(c["name"].astype(str), c.geometry, strict=True)) if councils else []
    suffixes = None if plan or not councils else [f"{s:.0%}" for s in c["share"]]
    return place_labels(ax, labels, first=first, suffixes=suffixes)


def draw_map(
    layers: MapLayers,
    ax: Axes,
    *,
    tier: str | None = None,
    labels: bool | None = None,
    furniture: bool = True,
) -> list[Any]:
    """Draw :class:`~coterminus.maps.MapLayers` on an axes (EPSG:27700); return legend handles.

    Parameters
    ----------
    layers : MapLayers
        From :func:`coterminus.maps.map_layers`.
    ax : matplotlib.axes.Axes
        Give it its final position first: the labels are placed for it.
    tier : str, optional
        The level shaded, one of ``layers.against`` (default the first, the headline level);
        with ``"both"`` the headline level is shaded and the others' boundaries drawn over it.
    labels : bool, optional
        Area names on the map; default when there are at most 30 of them. The new units
        of a plan are always numbered. Labels never overlap (:func:`place_labels`); those that
        find no room are left off and logged.
    furniture : bool
        Scale bar and north arrow.
    """
    with plain_text():
        handles = _draw(layers, ax, tier=tier, furniture=furniture)
        if labels is None:
            labels = len(layers.councils[_shade(layers, tier)]) <= 30
        _label_map(layers, ax, tier=tier, councils=labels)
    return handles


# ------------------------------------------------------------------------------------------
# page layout: title, subtitle, map, keys and note stacked inside the margins
# ------------------------------------------------------------------------------------------
def _px_to_fig_y(fig: Any, px: float) -> float:
    return float(px / (fig.get_size_inches()[1] * fig.dpi))


def _fit_text(
    fig: Figure,
    renderer: Any,
    xy: tuple[float, float],
    text: str,
    *,
    width_px: float,
    fontsize: float,
    va: str,
    **kw: Any,
) -> Text:
    """Figure text at ``xy`` wrapped so that it is no wider than ``width_px``."""
    chars = max(12, int(width_px / (fontsize * fig.dpi / 72 * 0.5)))
    while True:
        wrapped = "\n".join(textwrap.fill(p, chars) or p for p in text.split("\n"))
        t = fig.text(*xy, wrapped, fontsize=fontsize, va=va, ha="left", **kw)
        if t.get_window_extent(renderer).width <= width_px or chars <= 12:
            return t
        t.remove()
        chars = int(chars * 0.93)


def _fit_legend(
    fig: Figure,
    renderer: Any,
    handles: list[Any],
    *,
    xy: tuple[float, float],
    width_px: float,
    ncols: int,
    title: str | None,
    fontsize: float = 7.5,
) -> Any:
    """A figure legend with its lower-left corner at ``xy``, no wider than ``width_px``."""
    labels = [str(h.get_label()) for h in handles]
    chars = max(20, int(width_px / ncols / (fontsize * fig.dpi / 72 * 0.5)) - 6)
    while True:
        wrapped = ["\n".join(textwrap.wrap(s, chars)) or s for s in labels]
        leg = fig.legend(
            handles,
            wrapped,
            loc="lower left",
            bbox_to_anchor=xy,
            ncols=ncols,
            fontsize=fontsize,
            frameon=False,
            title=title,
            title_fontsize=fontsize + 0.5,
            alignment="left",
            borderaxespad=0.0,
            borderpad=0.0,
            handletextpad=0.5,
            columnspacing=1.2,
        )
        if leg.get_window_extent(renderer).width <= width_px or chars <= 20:
            return leg
        leg.remove()
        if ncols > 1:
            ncols -= 1
            chars = max(20, int(width_px / ncols / (fontsize * fig.dpi / 72 * 0.5)) - 6)
        else:
            chars = int(chars * 0.93)


_Key = tuple[list[Any], int, "str | None"]  # handles, columns, title


def _layout_page(
    fig: Figure,
    axes: Any,
    *,
    margins_in: tuple[float, float, float, float],
    title: str,
    subtitle: str,
    keys: Sequence[_Key],
    note: str,
    caption: str = "",
    head_room_pt: float = 0.0,
    content_height_in: float | None = None,
) -> tuple[float, float, float, float]:
    """Stack title, subtitle, (map), keys, caption and note inside the margins; return the map's box.

    ``axes`` is one axes (given the box) or None (the caller fills the box, e.g. with a grid of
    panels). ``head_room_pt`` leaves room above the box (e.g. for panel titles). When the map
    needs only ``content_height_in`` (its width times its aspect), the box shrinks to it and
    the keys and note follow right under it, leaving the spare room at the foot of the page.
    """
    renderer = _renderer(fig)
    w_in, h_in = fig.get_size_inches()
    top, right, bottom, left = margins_in
    x0, x1 = left / w_in, 1 - right / w_in
    width_px = (w_in - left - right) * fig.dpi * 0.99
    gap = _GAP_PT / 72 / h_in
    y = 1 - top / h_in
    t = _fit_text(
        fig,
        renderer,
        (x0, y),
        title,
        width_px=width_px,
        fontsize=13,
        va="top",
        fontweight="bold",
        gid="coterminus-title",
    )
    y = _px_to_fig_y(fig, t.get_window_extent(renderer).y0) - gap
    if subtitle:
        t = _fit_text(fig, renderer, (x0, y), subtitle, width_px=width_px, fontsize=8.5, va="top")
        y = _px_to_fig_y(fig, t.get_window_extent(renderer).y0) - gap
    y -= head_room_pt / 72 / h_in
    yb = bottom / h_in
    below: list[tuple[Any, float]] = []  # what sits under the map, and its anchor height
    t = _fit_text(
        fig, renderer, (x0, yb), note, width_px=width_px, fontsize=6.5, va="bottom", color="#222222"
    )
    below.append((t, yb))
    yb = _px_to_fig_y(fig, t.get_window_extent(renderer).y1) + gap
    if caption:
        t = _fit_text(
            fig, renderer, (x0, yb), caption, width_px=width_px, fontsize=7.5, va="bottom"
        )
        below.append((t, yb))
        yb = _px_to_fig_y(fig, t.get_window_extent(renderer).y1) + gap
    for handles, ncols, key_title in reversed(keys):
        if not handles:
            continue
        leg = _fit_legend(
            fig, renderer, handles, xy=(x0, yb), width_px=width_px, ncols=ncols, title=key_title
        )
        below.append((leg, yb))
        yb = _px_to_fig_y(fig, leg.get_window_extent(renderer).y1) + gap
    spare = (y - yb) - (content_height_in / h_in if content_height_in else y - yb)
    if spare > 0:  # lift everything under the map to just below it
        for item, anchor in below:
            if hasattr(item, "set_bbox_to_anchor"):
                item.set_bbox_to_anchor((x0, anchor + spare), transform=fig.transFigure)
            else:
                item.set_y(anchor + spare)
        yb += spare
    box = (x0, yb, x1 - x0, max(y - yb, 0.05))
    if axes is not None:
        axes.set_position(box)
    return box


def _clear_page(fig: Figure, ax: Axes | None) -> None:
    for t in list(fig.texts):
        t.remove()
    for leg in list(fig.legends):
        leg.remove()
    if ax is not None:
        for t in list(ax.texts):
            if t.get_gid() == "coterminus-label":
                t.remove()


def _margins(figsize: tuple[float, float] | None, paper: str) -> tuple[tuple[float, float], Any]:
    """Figure size and margins (inches): a whole page with :data:`MARGINS_MM`, or 4 mm."""
    if figsize is None:
        return page_size(paper), tuple(m / 25.4 for m in MARGINS_MM)
    _check_paper(paper)
    return (float(figsize[0]), float(figsize[1])), (4 / 25.4,) * 4


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
    from matplotlib.patches import Patch

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


def _compose(
    fig: Figure,
    ax: Axes,
    *,
    margins_in: Any,
    title: str,
    subtitle: str,
    keys: Sequence[_Key],
    note: str,
    label: Any,
    caption: str = "",
) -> list[str]:
    """Lay out a page, then label the map; list what found no room (and re-lay out once).

    The map box is no taller than the map needs at the width of the text block (from the
    axes limits), so the keys sit right under the map.
    """
    w_in = fig.get_size_inches()[0] - margins_in[1] - margins_in[3]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    content_height_in = w_in * abs(y1 - y0) / abs(x1 - x0)
    listed: list[str] = []
    missing: list[str] = []
    for _ in range(3):
        _clear_page(fig, ax)
        extra = (
            f"\nNot labelled on the map for lack of room: {', '.join(listed)}." if listed else ""
        )
        _layout_page(
            fig,
            ax,
            margins_in=margins_in,
            title=title,
            subtitle=subtitle,
            keys=keys,
            note=note + extra,
            caption=caption,
            content_height_in=content_height_in,
        )
        missing = label()
        if sorted(missing) == sorted(listed):
            break
        listed = missing
    return missing


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
        As in :func:`coterminus.maps.footprint_map`.
    layers : MapLayers, optional
        Draw these instead of computing them.
    units, against, within : optional
        Levels of the members, of the areas shaded (headline first) and of test I, as in
        :func:`coterminus.maps.map_layers` (defaults: the assessment's, else from the codes and
        :func:`coterminus.assess.default_against`).
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
    _check_tier_word(tier, geo)
    size, margins_in = _margins(figsize, paper)
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
            simplify_m=simplify_m,
            measure=measure,
        )
    lay = layers
    tier = _tier_name(geo, tier)
    _check_tier(tier, lay.against)
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
        fig = _new_figure(size)
        ax = fig.add_axes((0, 0, 1, 1))
        plan = lay.kind == "plan"
        handles = _draw(lay, ax, tier=tier, furniture=True, key=plan)
        if labels is None:
            labels = len(lay.councils[_shade(lay, tier)]) <= 30
        keys: list[_Key] = [
            (handles, 2, lay.share_label if not plan else "Boundaries"),
        ]
        if plan:
            new = f"New {lay.label(lay.units, plural=True)}"
            keys.append((_plan_key(lay), 1, f"{new} (numbered as on the map)"))
        target = ax
        _compose(
            fig,
            ax,
            margins_in=margins_in,
            title=title or f"{lay.title} ({lay.vintage})",
            subtitle=_subtitle(lay),
            keys=keys,
            note=_layers_note(lay),
            label=lambda: _label_map(lay, target, tier=tier, councils=bool(labels)),
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
    _check_tier_word(tier, geo)
    layers = map_layers(
        geo,
        plan=plan,
        units=units,
        against=against,
        within=within,
        tolerance=tolerance,
        simplify_m=simplify_m,
        measure=measure,
    )
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
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

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
    size, margins_in = _margins(figsize, paper)
    layer_sets = [
        map_layers(
            geo,
            plan=p,
            units=units,
            against=against,
            within=within,
            tolerance=tolerance,
            simplify_m=simplify_m,
        )
        for _, p in items
    ]
    lay0 = layer_sets[0]
    head = lay0.against[0]
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    with plain_text():
        fig = _new_figure(size)
        handles = [
            Patch(
                facecolor="#cccccc",
                edgecolor="black",
                label=f"one colour and number per new {lay0.label(lay0.units)}",
            ),
            Line2D([], [], color="#222222", linewidth=1.4, label=f"{lay0.label(head)} boundary"),
            _split_handle(f"split {lay0.label(head)}"),
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
        aspect = max(_frame_aspect(lay.bounds) for lay in layer_sets)
        w_in = size[0] - margins_in[1] - margins_in[3]
        panel_w = w_in / (ncols + (ncols - 1) * 0.05)
        x, y, w, h = _layout_page(
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
            _draw(layers, ax, tier=lh, furniture=(i == 0))
            n_split = len(set().union(*(set(m.split) for m in layers.metrics[lh].values())))
            n_cot = sum(m.coterminous for m in layers.metrics[lh].values())
            n = len(layers.outlines)
            ax.set_title(
                f"{label}: {n} new {layers.label(layers.units, plural=n != 1)}\n"
                f"{n_cot} coterminous, {n_split} split "
                f"{layers.label(lh, plural=n_split != 1)}",
                fontsize=9,
            )
            _label_map(layers, ax, tier=lh, councils=False)
    return fig


# ------------------------------------------------------------------------------------------
# one level against another: e.g. ICBs × combined authorities
# ------------------------------------------------------------------------------------------
def _colour_units(geoms: Any) -> list[str]:
    """A colour per area from :data:`~coterminus.maps.PLAN_COLOURS`, neighbours differing.

    Greedy colouring, largest areas first; areas within 100 m of each other are neighbours.
    """
    import shapely

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
    From the overlap table of ``units`` × ``against`` (:func:`coterminus.overlap.overlap`), the
    share of area :math:`a` in unit :math:`u` is :math:`s_{ua} = m_{ua} / T_a`; :math:`a` is
    split when :math:`|\\{u : s_{ua} > \\varepsilon\\}| \\ge 2`.

    Examples
    --------
    >>> fig = split_figure(geo, units="stp", against="utla",
    ...                    within=["E54000018", "E54000010", "E54000011"])
    >>> fig24 = split_figure(coterminus.load(2024), units="icb", against="cauth")
    """
    import geopandas as gpd
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ._simplify import simplified_layer
    from .errors import UnknownAreaError
    from .maps import polygon_note, share_source, vintage_attribution
    from .metrics import check_tolerance
    from .overlap import overlap

    size, margins_in = _margins(figsize, paper)
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
    tol_m = _resolve_simplify(simplify_m, bounds)
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
        fig = _new_figure(size)
        ax = fig.add_axes((0, 0, 1, 1))
        gpd.GeoSeries(u.geometry.to_numpy(), crs=u.crs).plot(
            ax=ax, color=colours, edgecolor="none", alpha=0.85, zorder=1
        )
        a.boundary.plot(ax=ax, color="#222222", linewidth=1.0, zorder=4)
        _hatch(ax, a.loc[split_here])
        u.boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=8)
        _frame(ax, bounds)
        add_scale_bar(ax)
        add_north_arrow(ax)
        symbols = [
            Line2D([], [], color="#222222", linewidth=1.0, label=f"{against_word} boundary"),
            _split_handle(f"{against_word} split between {unit_plural} (hatched)"),
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
        _compose(
            fig,
            ax,
            margins_in=margins_in,
            title=title or f"{_cap(unit_plural)} and {against_plural} ({geo.vintage})",
            subtitle=subtitle,
            keys=[(symbols, 2, None), (key, 2 if len(key) > 6 else 1, _cap(unit_plural))],
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
    mpl = _mpl()
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
        rc = {"svg.fonttype": "none", "pdf.fonttype": 42, "text.hinting": "no_hinting"}
        with mpl.rc_context(rc):  # unhinted, as the layout was measured
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")

    out = atomic_write(p, write, suffixes=FIGURE_SUFFIXES)
    log.info("wrote %s", out)
    return out
