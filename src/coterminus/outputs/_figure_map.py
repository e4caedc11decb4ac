"""What a print figure draws on its map axes: the layers, hatching, furniture and labels.

:func:`draw_map` draws a :class:`~coterminus.outputs.layers.MapLayers` in EPSG:27700 (the headline
level shaded by share in four classes, split areas hatched, member boundaries dashed, the
outline in heavy black), :func:`add_scale_bar` and :func:`add_north_arrow` add the furniture,
and :func:`place_labels` names areas so that no two labels overlap. :mod:`coterminus.outputs.figures`
puts these maps on pages.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ._page import plain_text, renderer_of
from .layers import ALL_TIERS, SHARE_COLOURS, SPLIT_COLOUR, MapLayers, check_tier, share_classes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

__all__ = [
    "add_north_arrow",
    "add_scale_bar",
    "draw_geometry",
    "draw_map",
    "frame",
    "frame_aspect",
    "hatch_split",
    "label_map",
    "place_labels",
    "shaded_level",
    "split_handle",
]

log = logging.getLogger(__name__)

_HATCH = "///"


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
    renderer = renderer_of(fig)
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
def draw_geometry(
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
    shade = shaded_level(layers, tier)
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
    if tier in ALL_TIERS:
        for other, style in zip(
            [lv for lv in layers.against if lv != shade], _OTHER_STYLES, strict=False
        ):
            if len(layers.councils[other]):
                layers.councils[other].boundary.plot(ax=ax, zorder=6.5, **style)
            handles.append(Line2D([], [], label=f"{layers.label(other)} boundary", **style))
    split = councils[councils["status"] == "split"]
    hatch_split(ax, split)
    handles.append(split_handle(f"split {layers.label(shade)} (hatched)"))
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
    frame(ax, layers.bounds)
    if furniture:
        add_scale_bar(ax)
        add_north_arrow(ax)
    return handles


#: Line styles of the boundaries of the levels drawn over the shaded one (``tier="both"``).
_OTHER_STYLES: tuple[dict[str, Any], ...] = (
    {"color": "#444444", "linewidth": 0.8, "linestyle": ":"},
    {"color": "#6a3d9a", "linewidth": 1.2, "linestyle": "-."},
    {"color": "#1b7837", "linewidth": 1.0, "linestyle": (0, (1, 2))},
    {"color": "#8c510a", "linewidth": 1.0, "linestyle": (0, (6, 2, 1, 2))},
)


def shaded_level(layers: MapLayers, tier: str | None) -> str:
    """The level shaded for ``tier``: the headline level for None/"both", else that level."""
    levels = check_tier(tier, layers.against)
    return layers.against[0] if tier is None or tier in ALL_TIERS else levels[0]


def hatch_split(ax: Axes, split: Any) -> None:
    """Hatch the areas of ``split`` (a GeoDataFrame) and outline them dashed, in red."""
    if len(split):
        with mpl.rc_context({"hatch.linewidth": 0.7}):
            split.plot(
                ax=ax,
                facecolor="none",
                edgecolor=SPLIT_COLOUR,
                hatch=_HATCH,
                linewidth=0.0,
                zorder=5,
            )
        split.boundary.plot(ax=ax, color=SPLIT_COLOUR, linewidth=1.6, linestyle="--", zorder=6)


def split_handle(label: str = "split council (hatched)") -> Any:
    """The legend entry of :func:`hatch_split`."""
    return Patch(
        facecolor="white", edgecolor=SPLIT_COLOUR, hatch=_HATCH, linewidth=1.2, label=label
    )


def _frame_limits(bounds: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axes limits around ``bounds``: 4% padding, more below for the scale bar."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    return (minx - pad, maxx + pad), (miny - pad * 2.5, maxy + pad)


def frame_aspect(bounds: Any) -> float:
    """Height over width of the map that :func:`frame` sets up around ``bounds``.

    Examples
    --------
    >>> round(frame_aspect([0, 0, 100, 100]), 4)  # 4% padding, 10% below for the scale bar
    1.0556
    """
    (x0, x1), (y0, y1) = _frame_limits(bounds)
    return (y1 - y0) / (x1 - x0)


def frame(ax: Axes, bounds: Any) -> None:
    """Fit ``ax`` to ``bounds`` (EPSG:27700 metres, equal aspect, no axis lines)."""
    ax.set_aspect("equal")
    ax.set_axis_off()
    xlim, ylim = _frame_limits(bounds)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def label_map(layers: MapLayers, ax: Axes, *, tier: str | None, councils: bool) -> list[str]:
    """Number the new units of a plan and name the areas shaded, without overlaps."""
    c = layers.councils[shaded_level(layers, tier)]
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
    """Draw :class:`~coterminus.outputs.maps.MapLayers` on an axes (EPSG:27700); return legend handles.

    Parameters
    ----------
    layers : MapLayers
        From :func:`coterminus.outputs.maps.map_layers`.
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
        handles = draw_geometry(layers, ax, tier=tier, furniture=furniture)
        if labels is None:
            labels = len(layers.councils[shaded_level(layers, tier)]) <= 30
        label_map(layers, ax, tier=tier, councils=labels)
    return handles
