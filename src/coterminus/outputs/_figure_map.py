"""What a print figure draws on its map axes: the layers, furniture and labels.

:func:`draw_geometry` draws a :class:`~coterminus.outputs._model.MapLayers` in EPSG:27700,
framed on the footprint: a light context of the units around it, the headline level shaded
by share in four classes, split areas lightly hatched, every boundary in a dark line with a
white casing so it stays visible over dark fills and hatching, member boundaries dashed, the
outline in heavy black. Every drawn element carries a ``gid`` naming its legend entry and the
legend lists exactly what is drawn. :func:`place_furniture` puts the scale bar and north
arrow where the map is emptiest (never over the footprint); :func:`label_map` names areas
(the areas behind every mismatch first, beside their area when they do not fit inside).
:mod:`coterminus.outputs.figures` puts these maps on pages.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ._labels import FURNITURE_GID, Label, place, place_labels
from ._model import (
    CONTEXT_EDGE,
    CONTEXT_FILL,
    SHARE_COLOURS,
    SPLIT_COLOUR,
    MapLayers,
    share_classes,
)
from ._page import plain_text, renderer_of

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "LEGEND_GID",
    "add_north_arrow",
    "add_scale_bar",
    "cased",
    "draw_geometry",
    "draw_map",
    "drawn_levels",
    "fit_frame",
    "frame",
    "frame_aspect",
    "hatch_split",
    "label_map",
    "layers_ink",
    "place_furniture",
    "place_labels",
    "remove_furniture",
    "shaded_level",
    "split_handle",
]

log = logging.getLogger(__name__)

#: Prefix of the ``gid`` of every drawn element and of its legend handle (``"ct:split"``).
LEGEND_GID = "ct:"
_HATCH = "//"
#: Line styles of the boundaries of the levels drawn over the shaded one (tier "both").
_OTHER_STYLES: tuple[dict[str, Any], ...] = (
    {"color": "#3a3a3a", "linewidth": 0.8, "linestyle": (0, (1.5, 1.2))},
    {"color": "#6a3d9a", "linewidth": 1.2, "linestyle": "-."},
    {"color": "#1b7837", "linewidth": 1.0, "linestyle": (0, (1, 2))},
    {"color": "#8c510a", "linewidth": 1.0, "linestyle": (0, (6, 2, 1, 2))},
)
_SHADED_EDGE: dict[str, Any] = {"color": "#4d4d4d", "linewidth": 0.6}
_MEMBER: dict[str, Any] = {"color": "#1a1a1a", "linewidth": 0.8, "linestyle": (0, (4, 3))}


def cased(width: float, colour: str = "white") -> list[patheffects.AbstractPathEffect]:
    """A line drawn over a wider line of ``colour``: visible on dark fills and on light ones.

    Examples
    --------
    >>> len(cased(1.0))
    2
    """
    return [patheffects.Stroke(linewidth=width + 1.8, foreground=colour), patheffects.Normal()]


def _tag(artist: Artist | None, key: str) -> None:
    if artist is not None:
        artist.set_gid(LEGEND_GID + key)


def _last(ax: Axes) -> Artist | None:
    children = list(ax.collections)
    return children[-1] if children else None


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

    ``loc`` is the lower-left corner of the bar in axes fraction.

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
                gid=FURNITURE_GID,
            )
        )
    km = length / 1000
    labels = [(0, "0"), (length / 2, f"{km / 2:g}"), (length, f"{km:g} km")]
    texts = [
        ax.text(
            bx + dx,
            by + h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            zorder=20,
            gid=FURNITURE_GID,
            bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none"},
        )
        for dx, text in labels
    ]
    # on a small map the labels would touch: keep the ends, then the length alone
    renderer = renderer_of(ax.figure)
    for drop in (1, 0):
        boxes = [t.get_window_extent(renderer) for t in texts]
        if all(a.x1 + 2 < b.x0 for a, b in itertools.pairwise(boxes)):
            break
        texts.pop(drop).remove()
    return length


def add_north_arrow(
    ax: Axes, *, loc: tuple[float, float] = (0.95, 0.9), size: float = 0.07
) -> None:
    """Draw a north arrow (grid north of British National Grid); ``loc`` is its tip (axes fraction)."""
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
            "edgecolor": "white",
            "linewidth": 0.8,
            "width": 4,
            "headwidth": 11,
            "headlength": 10,
        },
        zorder=20,
        gid=FURNITURE_GID,
    )


#: Where the north arrow may go (axes fraction of its box: x0, y0, x1, y1), best first.
_ARROW_SPOTS = ((0.92, 0.80, 0.985, 0.985), (0.015, 0.80, 0.08, 0.985),
                (0.92, 0.10, 0.985, 0.285), (0.015, 0.10, 0.08, 0.285))  # fmt: skip


def _bar_spots(frac: float) -> list[tuple[float, float, float, float]]:
    """Where a scale bar ``frac`` of the width long may go: bottom-left, bottom-right,
    top-left, top-right (with room for its labels)."""
    w = frac + 0.05
    return [(0.015, 0.015, 0.015 + w, 0.075), (0.985 - w, 0.015, 0.985, 0.075),
            (0.015, 0.925, 0.015 + w, 0.985), (0.985 - w, 0.925, 0.985, 0.985)]  # fmt: skip


def _ink(ax: Axes, boxes: Sequence[Sequence[float]], geoms: np.ndarray) -> np.ndarray:
    """The share of each axes-fraction box that ``geoms`` (data coordinates) cover."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    out = []
    for bx0, by0, bx1, by1 in boxes:
        box = shapely.box(
            x0 + bx0 * (x1 - x0), y0 + by0 * (y1 - y0), x0 + bx1 * (x1 - x0), y0 + by1 * (y1 - y0)
        )
        covered = float(shapely.area(shapely.intersection(geoms, box)).sum()) if len(geoms) else 0
        out.append(covered / box.area)
    return np.asarray(out)


def place_furniture(ax: Axes, focus: np.ndarray, ink: np.ndarray) -> tuple[int, int]:
    """Add the scale bar and north arrow where they cover least, never the footprint first.

    Each candidate spot (the four corners) is scored by the share of it ``focus`` covers (the
    footprint's outlines, weighted 100 ×) plus the share ``ink`` covers (everything filled);
    the arrow takes the best spot, the bar the best spot not in the arrow's corner. Returns the
    indices of the spots chosen.
    """
    fills = np.concatenate([focus, ink]) if len(ink) else focus
    x0, x1 = ax.get_xlim()
    bar_spots = _bar_spots(_nice_length(x1 - x0) / (x1 - x0))
    arrow_cost = 100 * _ink(ax, _ARROW_SPOTS, focus) + _ink(ax, _ARROW_SPOTS, fills)
    bar_cost = 100 * _ink(ax, bar_spots, focus) + _ink(ax, bar_spots, fills)
    a = int(np.argmin(arrow_cost))
    same_corner = {0: 3, 1: 2, 2: 1, 3: 0}  # arrow spot → the bar spot in its corner
    b = next(int(i) for i in np.argsort(bar_cost, kind="stable") if int(i) != same_corner[a])
    ax0, _, ax1, ay1 = _ARROW_SPOTS[a]
    add_north_arrow(ax, loc=((ax0 + ax1) / 2, ay1 - 0.01), size=0.07)
    bx0, by0, _, _ = bar_spots[b]
    add_scale_bar(ax, loc=(bx0 + 0.02, by0 + 0.005))
    return a, b


def layers_ink(layers: MapLayers) -> tuple[np.ndarray, np.ndarray]:
    """The geometry furniture should avoid: the outlines, and every area drawn."""
    focus = np.asarray(layers.outlines.geometry.to_numpy())
    drawn = [np.asarray(c.geometry.to_numpy()) for c in layers.councils.values() if len(c)]
    return focus, (np.concatenate(drawn) if drawn else np.empty(0, dtype=object))


def remove_furniture(ax: Axes) -> None:
    """Remove the scale bar and north arrow (to place them again after a re-layout)."""
    for artist in [*ax.texts, *ax.patches]:
        if artist.get_gid() == FURNITURE_GID:
            artist.remove()


# ------------------------------------------------------------------------------------------
# frame
# ------------------------------------------------------------------------------------------
def frame_aspect(bounds: Sequence[float] | np.ndarray) -> float:
    """Height over width of the map :func:`frame` sets up around ``bounds``.

    Examples
    --------
    >>> frame_aspect([0, 0, 100, 50])
    0.5
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return (maxy - miny) / max(maxx - minx, 1e-9)


def fit_frame(
    frame_bounds: Sequence[float] | np.ndarray,
    focus: Sequence[float] | np.ndarray,
    box_aspect: float,
    *,
    cap: float = 1.5,
) -> np.ndarray:
    """``frame_bounds`` grown to the aspect of the box it fills, never past ``cap`` × ``focus``.

    A wide footprint on a tall page gets more of what is above and below it (and a tall one
    more of its sides), so the page is used, while the frame stays within ``cap`` times the
    footprint's extent in each direction.

    Examples
    --------
    >>> fit_frame([0, 0, 100, 50], [5, 5, 95, 45], 1.0).tolist()
    [0.0, -5.0, 100.0, 55.0]
    """
    minx, miny, maxx, maxy = (float(b) for b in frame_bounds)
    fx0, fy0, fx1, fy1 = (float(b) for b in focus)
    w, h = maxx - minx, maxy - miny
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if box_aspect > h / max(w, 1e-9):
        h = min(w * box_aspect, cap * max(fy1 - fy0, 1.0))
        h = max(h, maxy - miny)
    else:
        w = min(h / max(box_aspect, 1e-9), cap * max(fx1 - fx0, 1.0))
        w = max(w, maxx - minx)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def frame(ax: Axes, bounds: Sequence[float] | np.ndarray) -> None:
    """Fit ``ax`` to ``bounds`` exactly (EPSG:27700 metres, equal aspect, no axis lines)."""
    ax.set_aspect("equal")
    ax.set_axis_off()
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)


# ------------------------------------------------------------------------------------------
# the map itself
# ------------------------------------------------------------------------------------------
def shaded_level(layers: MapLayers, tier: str | None) -> str:
    """The level shaded for ``tier`` (:meth:`MapLayers.shaded_level`)."""
    return layers.shaded_level(tier)


def drawn_levels(layers: MapLayers, tier: str | None) -> list[str]:
    """The levels whose areas a map draws for ``tier`` (:meth:`MapLayers.drawn_levels`)."""
    return layers.drawn_levels(tier)


def hatch_split(ax: Axes, split: gpd.GeoDataFrame, *, key: str = "split") -> None:
    """Hatch the areas of ``split`` lightly and outline them dashed, in red (legend ``key``)."""
    if not len(split):
        return
    with mpl.rc_context({"hatch.linewidth": 0.5, "hatch.color": SPLIT_COLOUR}):
        split.plot(
            ax=ax,
            facecolor="none",
            edgecolor=SPLIT_COLOUR,
            hatch=_HATCH,
            linewidth=0.0,
            alpha=0.75,
            zorder=3,
        )
    _tag(_last(ax), key)
    split.boundary.plot(
        ax=ax,
        color=SPLIT_COLOUR,
        linewidth=1.4,
        linestyle="--",
        zorder=6.2,
        path_effects=cased(1.4),
    )
    _tag(_last(ax), key)


def split_handle(label: str = "split council (hatched)") -> Patch:
    """The legend entry of :func:`hatch_split`."""
    handle = Patch(
        facecolor="white", edgecolor=SPLIT_COLOUR, hatch=_HATCH, linewidth=1.2, label=label
    )
    handle.set_gid(LEGEND_GID + "split")
    return handle


def _line_handle(key: str, label: str, **style: object) -> Line2D:
    handle = Line2D([], [], label=label, **style)  # type: ignore[arg-type]
    handle.set_gid(LEGEND_GID + key)
    return handle


def _patch_handle(key: str, label: str, **style: object) -> Patch:
    handle = Patch(label=label, **style)  # type: ignore[arg-type]
    handle.set_gid(LEGEND_GID + key)
    return handle


def draw_geometry(
    layers: MapLayers,
    ax: Axes,
    *,
    tier: str | None,
    furniture: bool,
    key: bool = False,
) -> list[Patch | Line2D]:
    """Draw the geometry of the layers; return the legend handles, one per element drawn.

    With ``key``, a plan's new units are left out of the handles (a figure of its own lists
    them in a key of their own). ``tier``: the level shaded (default the headline level); with
    ``"both"`` (and by default for a footprint) the other levels' boundaries are drawn over it.
    With ``furniture`` the scale bar and north arrow are placed at once (a page that is laid
    out later places them itself, with :func:`place_furniture`).
    """
    levels = drawn_levels(layers, tier)
    shade = levels[0]
    councils = layers.councils[shade]
    plan = layers.kind == "plan"
    handles: list[Patch | Line2D] = []
    frame(ax, layers.frame)
    if len(layers.context):
        gpd.GeoSeries(layers.context).plot(
            ax=ax, facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, linewidth=0.5, zorder=0
        )
        _tag(_last(ax), "context")
        handles.append(
            _patch_handle(
                "context",
                f"other {layers.label(layers.units, plural=True)}",
                facecolor=CONTEXT_FILL,
                edgecolor=CONTEXT_EDGE,
                linewidth=0.5,
            )
        )
    if plan:
        for i, (g, r) in enumerate(layers.outlines.iterrows()):
            sub = layers.members[layers.members["group"] == g]
            sub.plot(ax=ax, color=r["colour"], edgecolor="none", alpha=0.85, zorder=1)
            _tag(_last(ax), f"group:{g}")
            if not key:
                handles.append(
                    _patch_handle(
                        f"group:{g}", f"{i + 1}. {r['name']}", facecolor=r["colour"],
                        edgecolor="black",
                    )
                )  # fmt: skip
    elif len(councils):
        present = set(councils["share_class"])
        colours = [SHARE_COLOURS[c] for c in councils["share_class"]]
        councils.plot(ax=ax, color=colours, edgecolor="none", zorder=1)
        _tag(_last(ax), "shares")
        for cls, label, colour in share_classes(layers.tolerance):
            if cls in present:
                h = _patch_handle(
                    "shares", label, facecolor=colour, edgecolor="#777777", linewidth=0.5
                )
                handles.append(h)
    if len(councils):
        style: dict[str, Any] = {"color": "#222222", "linewidth": 1.2} if plan else _SHADED_EDGE
        councils.boundary.plot(
            ax=ax, zorder=4, path_effects=cased(float(style["linewidth"])), **style
        )
        _tag(_last(ax), f"level:{shade}")
        handles.append(_line_handle(f"level:{shade}", f"{layers.label(shade)} boundary", **style))
    for other, style in zip(levels[1:], _OTHER_STYLES, strict=False):
        if not len(layers.councils[other]):
            continue
        layers.councils[other].boundary.plot(
            ax=ax, zorder=6.5, path_effects=cased(float(style["linewidth"])), **style
        )
        _tag(_last(ax), f"level:{other}")
        handles.append(_line_handle(f"level:{other}", f"{layers.label(other)} boundary", **style))
    split = councils[councils["status"] == "split"]
    if len(split):
        hatch_split(ax, split)
        handles.append(split_handle(f"split {layers.label(shade)} (hatched)"))
    layers.members.boundary.plot(ax=ax, zorder=7, path_effects=cased(0.8), **_MEMBER)
    _tag(_last(ax), "members")
    handles.append(_line_handle("members", f"{layers.label(layers.units)} boundary", **_MEMBER))
    outline_w = 1.6 if layers.kind == "systems" else 2.4
    layers.outlines.boundary.plot(
        ax=ax, color="black", linewidth=outline_w, zorder=8, path_effects=cased(outline_w)
    )
    _tag(_last(ax), "outline")
    handles.append(
        _line_handle("outline", f"{layers.group_word} outline", color="black", linewidth=outline_w)
    )
    if furniture:
        place_furniture(ax, *layers_ink(layers))
    return handles


def _callout_labels(layers: MapLayers, levels: Sequence[str]) -> list[Label]:
    """The areas behind every mismatch at the levels drawn, bold, placed first."""
    c = layers.callouts
    if not len(c):
        return []
    c = c[c["drawn"] & c["level"].isin(list(levels))]
    shares: dict[str, str] = {}
    for lv in levels[:1]:
        d = layers.councils[lv]
        shares.update({str(k): f"{s:.0%}" for k, s in zip(d.index, d["share"], strict=True)})
    return [
        Label(
            str(r["name"]),
            r.geometry,
            sizes=(7.5, 6.5, 6.0),
            leader=True,
            bold=True,
            suffix=shares.get(str(r["code"]), ""),
            zorder=12,
            box_alpha=0.85,
        )
        for _, r in c.iterrows()
        if r.geometry is not None
    ]


def label_map(layers: MapLayers, ax: Axes, *, tier: str | None, councils: bool) -> list[str]:
    """Name the areas behind every mismatch, number a plan's new units, name the areas shaded.

    Returns the texts that found no room (the caller lists them under the map).
    """
    levels = drawn_levels(layers, tier)
    c = layers.councils[levels[0]]
    labels: list[Label] = []
    if layers.kind == "plan":
        labels += [
            Label(
                str(i + 1), g, sizes=(13, 11, 9), bold=True, zorder=11, box_alpha=0.85, wrap=False
            )
            for i, g in enumerate(layers.outlines.geometry)
        ]
    named = _callout_labels(layers, levels)
    labels += named
    if councils:
        done = {lab.text for lab in named}
        order = np.argsort(np.asarray(c.geometry.area), kind="stable")  # small areas first
        for i in order:
            name = str(c["name"].iloc[i])
            if name in done:
                continue
            labels.append(
                Label(
                    name,
                    c.geometry.iloc[i],
                    suffix="" if layers.kind == "plan" else f"{c['share'].iloc[i]:.0%}",
                )
            )
    return place(ax, labels)


def draw_map(
    layers: MapLayers,
    ax: Axes,
    *,
    tier: str | None = None,
    labels: bool | None = None,
    furniture: bool = True,
) -> list[Patch | Line2D]:
    """Draw :class:`~coterminus.outputs._model.MapLayers` on an axes (EPSG:27700); return legend handles.

    Parameters
    ----------
    layers : MapLayers
        From :func:`coterminus.outputs.layers.map_layers`.
    ax : matplotlib.axes.Axes
        Give it its final position first: the labels are placed for it.
    tier : str, optional
        The level shaded, one of ``layers.against`` (default the first, the headline level);
        with ``"both"`` the headline level is shaded and the others' boundaries drawn over it.
    labels : bool, optional
        Area names on the map; default when there are at most 30 of them. The areas behind a
        mismatch are always named and the new units of a plan numbered. Labels never overlap
        (:func:`place_labels`); those that find no room are left off and logged.
    furniture : bool
        Scale bar and north arrow.
    """
    with plain_text():
        handles = draw_geometry(layers, ax, tier=tier, furniture=furniture)
        if labels is None:
            labels = len(layers.councils[shaded_level(layers, tier)]) <= 30
        label_map(layers, ax, tier=tier, councils=labels)
    return handles
