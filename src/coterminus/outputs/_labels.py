"""Names on print maps that never overlap: inside their area, or beside it with a leader line.

:func:`place` puts each :class:`Label` at the first free spot, trying points inside the part of
its area within the map frame (the point on the surface first, then points deeper inside), at
each font size in turn (and wrapped); a label that may have a leader (the areas behind a
mismatch, which every map must name) then tries points around its area and is joined to it by
a thin line. A spot is free when the label's box stays inside the axes and overlaps no label
or piece of furniture (scale bar, north arrow) already placed. :func:`place_labels` is the
simple form for a list of ``(text, geometry)``.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._page import renderer_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.text import Text

__all__ = [
    "FURNITURE_GID",
    "LABEL_GID",
    "LEADER_GID",
    "Label",
    "furniture_boxes",
    "place",
    "place_labels",
]

log = logging.getLogger(__name__)

#: ``gid`` of every label placed on a map (tests and re-layouts find them by it).
LABEL_GID = "coterminus-label"
#: ``gid`` of the line joining a label placed beside its area to the area.
LEADER_GID = "coterminus-leader"
#: ``gid`` of the scale bar and north arrow.
FURNITURE_GID = "coterminus-furniture"


@dataclass
class Label:
    """One name to put on a map.

    ``geom`` is the area named (data coordinates); ``sizes`` the font sizes to try, largest
    first; ``leader``: the label may sit beside its area, joined by a line; ``bold`` and
    ``colour`` style it; ``suffix`` is a second line kept with the name.
    """

    text: str
    geom: BaseGeometry
    sizes: Sequence[float] = (7.0, 6.0, 5.5)
    leader: bool = False
    bold: bool = False
    colour: str = "#111111"
    suffix: str = ""
    zorder: float = 10.0
    box_alpha: float = 0.75
    wrap: bool = True
    placed: Text | None = field(default=None, repr=False)


def _box_style(alpha: float) -> dict[str, object]:
    # a box rather than a path-effect halo: labels stay text in PDF/SVG (searchable)
    return {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": alpha}


def _inside(geom: BaseGeometry, n: int = 23) -> np.ndarray:
    """Points inside a polygon to anchor its label, best first (data coordinates)."""
    if geom.is_empty:
        return np.empty((0, 2))
    first = shapely.point_on_surface(geom)
    minx, miny, maxx, maxy = geom.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, n), np.linspace(miny, maxy, n))
    pts = shapely.points(gx.ravel(), gy.ravel())
    shapely.prepare(geom)
    pts = pts[shapely.contains(geom, pts)]
    depth = shapely.distance(shapely.boundary(geom), pts)
    pts = pts[np.argsort(-depth, kind="stable")]
    return np.asarray(shapely.get_coordinates(np.r_[[first], pts]))


def _around(ax: Axes, anchor: np.ndarray) -> np.ndarray:
    """Points around ``anchor`` at growing distances (display pixels), as data coordinates."""
    px = ax.transData.transform(anchor[None, :])[0]
    scale = ax.figure.dpi / 72
    out = []
    for r in (28, 44, 64, 90, 125):
        for k in range(16):
            t = 2 * np.pi * k / 16
            out.append(px + scale * r * np.array([np.cos(t), np.sin(t) * 0.7]))
    return np.asarray(ax.transData.inverted().transform(np.asarray(out)))


def _overlaps(boxes: np.ndarray, placed: Sequence[np.ndarray]) -> np.ndarray:
    """For each of ``boxes`` (k × 4: x0, y0, x1, y1), whether it overlaps any placed box."""
    if not len(placed):
        return np.zeros(len(boxes), dtype=bool)
    p = np.asarray(placed)
    hit = (
        (boxes[:, None, 0] < p[None, :, 2])
        & (boxes[:, None, 2] > p[None, :, 0])
        & (boxes[:, None, 1] < p[None, :, 3])
        & (boxes[:, None, 3] > p[None, :, 1])
    )
    return np.asarray(hit.any(axis=1))


def _try(
    ax: Axes,
    renderer: RendererBase,
    label: Label,
    anchors: np.ndarray,
    placed: list[np.ndarray],
) -> tuple[Text, int] | None:
    """Put the first variant (text, size) of ``label`` that fits at the first free anchor."""
    if not len(anchors):
        return None
    area = ax.get_window_extent(renderer)
    disp = ax.transData.transform(anchors)
    px_per_pt = ax.figure.dpi / 72
    tail = f"\n{label.suffix}" if label.suffix else ""
    variants = []
    for s in label.sizes:
        variants.append((label.text + tail, s))
        if label.wrap and len(label.text) > 16:
            wrapped = "\n".join(textwrap.wrap(label.text, 16)) or label.text
            variants.append((wrapped + tail, s))
    x, y = (float(v) for v in anchors[0])
    for text, size in variants:
        t = ax.text(
            x,
            y,
            text,
            fontsize=size,
            ha="center",
            va="center",
            color=label.colour,
            fontweight="bold" if label.bold else "normal",
            zorder=label.zorder,
            bbox=_box_style(label.box_alpha),
            gid=LABEL_GID,
        )
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
        ok &= ~_overlaps(boxes, placed)
        hits = np.flatnonzero(ok)
        if hits.size:
            t.set_position(tuple(anchors[hits[0]]))
            placed.append(boxes[hits[0]])
            return t, int(hits[0])
        t.remove()
    return None


def furniture_boxes(ax: Axes, renderer: RendererBase | None = None) -> list[np.ndarray]:
    """Display boxes of what is already on the map that labels must not cover."""
    renderer = renderer or renderer_of(ax.figure)
    out = []
    for t in ax.texts:  # labels, scale bar and the arrow's "N"
        e = t.get_window_extent(renderer)
        out.append(np.array([e.x0, e.y0, e.x1, e.y1]))
        arrow = getattr(t, "arrow_patch", None)
        if arrow is not None:
            e = arrow.get_window_extent(renderer)
            out.append(np.array([e.x0, e.y0, e.x1, e.y1]))
    for p in ax.patches:
        if p.get_gid() == FURNITURE_GID:
            e = p.get_window_extent(renderer)
            out.append(np.array([e.x0, e.y0, e.x1, e.y1]))
    return out


def place(ax: Axes, labels: Sequence[Label]) -> list[str]:
    """Place ``labels`` in order without overlaps; return the texts that found no room.

    Call it after the axes has its final position and limits. Each area is first clipped to
    the axes limits, so a label names the part of an area the map shows.
    """
    renderer = renderer_of(ax.figure)
    ax.apply_aspect()
    placed = furniture_boxes(ax, renderer)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    view = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    missing: list[str] = []
    for label in labels:
        geom = label.geom.intersection(view) if label.geom is not None else view
        inside = _inside(geom) if not geom.is_empty else np.empty((0, 2))
        got = _try(ax, renderer, label, inside, placed)
        if got is None and label.leader and len(inside):
            anchor = inside[0]
            around = _around(ax, anchor)
            keep = [view.contains(shapely.Point(p)) for p in around]
            got = _try(ax, renderer, label, around[np.asarray(keep, dtype=bool)], placed)
            if got is not None:
                t, _ = got
                tx, ty = t.get_position()
                ax.plot(
                    [anchor[0], tx],
                    [anchor[1], ty],
                    color=label.colour,
                    linewidth=0.6,
                    zorder=label.zorder - 0.5,
                    gid=LEADER_GID,
                )
                ax.plot(
                    [anchor[0]], [anchor[1]], "o", color=label.colour, markersize=1.6,
                    zorder=label.zorder - 0.5, gid=LEADER_GID,
                )  # fmt: skip
        if got is None:
            missing.append(label.text)
        else:
            label.placed = got[0]
    if missing:
        log.info("no room on the map to label: %s", ", ".join(missing))
    return missing


def place_labels(
    ax: Axes,
    labels: Sequence[tuple[str, BaseGeometry]],
    *,
    sizes: Sequence[float] = (7, 6, 5.5),
    first: Sequence[tuple[str, BaseGeometry]] = (),
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
        Names and the (data-coordinate) polygons they label, e.g. councils; small areas first.
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
    tails = list(suffixes) if suffixes is not None else [""] * len(labels)
    items = [
        Label(text, geom, sizes=first_sizes, bold=True, zorder=11, box_alpha=0.85, wrap=False)
        for text, geom in first
    ]
    order = np.argsort([g.area for _, g in labels], kind="stable")  # small areas first
    items += [Label(labels[i][0], labels[i][1], sizes=sizes, suffix=tails[i]) for i in order]
    return place(ax, items)
