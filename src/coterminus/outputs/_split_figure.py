"""One level against another on a print page: e.g. ICBs × combined authorities, split ones hatched.

:func:`split_figure` colours and numbers the units drawn (neighbours in different colours),
outlines the areas of the other level they touch, hatches and names the areas split between
units, and shows every other unit of the level as a light outline around them (England, or
the region), so a map of a few units never floats in white space. The frame is fitted to the
units drawn. :mod:`coterminus.outputs.figures` re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.metrics import check_tolerance
from ..analysis.overlap import overlap
from ..errors import UnknownAreaError
from ..vocabulary.words import cap
from ._build import frame_of
from ._figure_map import (
    LEGEND_GID,
    cased,
    fit_frame,
    frame,
    hatch_split,
    place_furniture,
    split_handle,
)
from ._labels import Label, place
from ._model import (
    CONTEXT_EDGE,
    CONTEXT_FILL,
    PLAN_COLOURS,
    polygon_note,
    share_source,
    vintage_attribution,
)
from ._page import compose, new_figure, page_margins, plain_text
from ._request import resolve_simplify
from ._simplify import simplified_layer
from .options import DrawOptions, merge_legacy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..geography.bundle import Geography

__all__ = ["split_figure"]


def _colour_units(geoms: np.ndarray) -> list[str]:
    """A colour per area from :data:`~coterminus.outputs.layers.PLAN_COLOURS`, neighbours differing.

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


def short_names(names: Sequence[str]) -> list[str]:
    """Names less the words every one of them starts and ends with ("NHS … Integrated Care Board").

    Examples
    --------
    >>> short_names(["NHS Devon Integrated Care Board", "NHS Kent and Medway Integrated Care Board"])
    ['Devon', 'Kent and Medway']
    >>> short_names(["Devon"])
    ['Devon']
    """
    words = [str(n).split() for n in names]
    if len(words) < 2:
        return [str(n) for n in names]
    shortest = min(len(w) for w in words)
    head = 0
    while head < shortest - 1 and len({w[head] for w in words}) == 1:
        head += 1
    tail = 0
    while tail < shortest - head - 1 and len({w[-1 - tail] for w in words}) == 1:
        tail += 1
    return [" ".join(w[head : len(w) - tail]) for w in words]


def _handle(key: str, handle: Patch | Line2D) -> Patch | Line2D:
    handle.set_gid(LEGEND_GID + key)
    return handle


def split_figure(
    geo: Geography,
    *,
    units: str,
    against: str,
    within: Sequence[str] | None = None,
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
    unit_word: str | None = None,
    against_word: str | None = None,
    draw: DrawOptions | None = None,
    **legacy: object,
) -> Figure:
    """Print map of the areas of one level split between the units of another, hatched.

    For example ICBs (``units="icb"``) against combined authorities (``against="cauth"``): each
    unit drawn is coloured and numbered (neighbours in different colours), the areas of
    ``against`` it touches are outlined and named, and an area whose measure lies in more than
    one unit is hatched, named on the map and listed with its shares. Every other unit of the
    level is drawn as a light outline around them, and the map is framed on the units drawn.

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
    unit_word, against_word : str, optional
        What to call a unit and an area in the text (default: the levels' labels,
        ``geo.label``; the plural adds "s" to a word given here).
    draw : DrawOptions, optional
        ``title``, ``labels`` (names of the ``against`` areas; default: at most 30 of them —
        split ones are always named), ``simplify_m``, ``paper``, ``figsize``.
    **legacy
        The drawing keywords of the old call form (deprecated).

    Returns
    -------
    MapFigure

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
    accepted = ("title", "labels", "simplify_m", "paper", "figsize")
    draw = merge_legacy(draw, legacy, where="split_figure", accepted=accepted).check(geo)
    size, margins_in = page_margins(draw.figsize, draw.paper)
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
                f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}; list them with "
                f"geo.units({units!r}).index."
            )
            raise UnknownAreaError(msg)
    touched = sorted(set(pairs.loc[pairs["unit"].isin(chosen), "target"]))
    against_layer = geo.layer(against)
    focus = unit_layer.geometry.loc[chosen].total_bounds
    bounds = frame_of(focus)
    tol_m = resolve_simplify(draw.simplify_m, bounds)
    every = simplified_layer(geo, units, tol_m)
    u = every.loc[chosen]
    others = every.drop(index=chosen)
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
    simp = f"{tol_m:g} m" if tol_m else "not simplified"
    note = (
        f"{share_source(geo, measure)}; {polygon_note(geo, [units, against])}; drawn for "
        f"display {simp}. Grid north (EPSG:27700).\n"
        + vintage_attribution(geo).replace(". Contains", ".\nContains")
    )

    with plain_text():
        fig = new_figure(size)
        ax = fig.add_axes((0, 0, 1, 1))
        frame(ax, bounds)
        symbols: list[Patch | Line2D] = []
        if len(others):
            others.plot(
                ax=ax, facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, linewidth=0.5, zorder=0
            )
            ax.collections[-1].set_gid(LEGEND_GID + "context")
            symbols.append(
                _handle(
                    "context",
                    Patch(
                        facecolor=CONTEXT_FILL,
                        edgecolor=CONTEXT_EDGE,
                        linewidth=0.5,
                        label=f"other {unit_plural}",
                    ),
                )
            )
        gpd.GeoSeries(u.geometry.to_numpy(), crs=u.crs).plot(
            ax=ax, color=colours, edgecolor="none", alpha=0.85, zorder=1
        )
        ax.collections[-1].set_gid(LEGEND_GID + "units")
        if len(a):
            a.boundary.plot(
                ax=ax, color="#222222", linewidth=1.0, zorder=4, path_effects=cased(1.0)
            )
            ax.collections[-1].set_gid(LEGEND_GID + "against")
            symbols.append(
                _handle(
                    "against",
                    Line2D(
                        [], [], color="#222222", linewidth=1.0, label=f"{against_word} boundary"
                    ),
                )
            )
        if split_here:
            hatch_split(ax, a.loc[split_here])
            symbols.append(split_handle(f"{against_word} split between {unit_plural} (hatched)"))
        u.boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=8, path_effects=cased(2.0))
        ax.collections[-1].set_gid(LEGEND_GID + "outline")
        symbols.append(
            _handle(
                "outline",
                Line2D([], [], color="black", linewidth=2.0, label=f"{unit_word} outline"),
            )
        )
        short = short_names([unit_names[x] for x in chosen])
        key = [
            _handle(
                "units",
                Patch(facecolor=c, edgecolor="black", linewidth=0.6, label=f"{i + 1}. {name}"),
            )
            for i, (name, c) in enumerate(zip(short, colours, strict=True))
        ]
        key_cols = 1 if len(key) <= 6 else 2 if len(key) <= 16 else 3
        labels = draw.labels if draw.labels is not None else len(touched) <= 30
        numbers = [
            Label(
                str(i + 1), g, sizes=(11, 9, 7, 6), bold=True, zorder=11, box_alpha=0.85, wrap=False
            )
            for i, g in enumerate(u.geometry)
        ]
        named = [
            Label(str(a.at[c, "name"]), a.at[c, "geometry"], leader=True, bold=True, zorder=12,
                  sizes=(7.5, 6.5, 6.0), box_alpha=0.85)
            for c in split_here
        ]  # fmt: skip
        rest = [
            Label(str(n), g)
            for c, n, g in zip(a.index, a["name"].astype(str), a.geometry, strict=True)
            if labels and c not in set(split_here)
        ]
        focus_geoms = np.asarray(u.geometry.to_numpy())
        ink = np.asarray(a.geometry.to_numpy())

        def fit(aspect: float) -> None:
            frame(ax, fit_frame(bounds, focus, aspect))

        def label() -> list[str]:
            place_furniture(ax, focus_geoms, ink)
            return place(ax, [*numbers, *named, *rest])

        compose(
            fig,
            ax,
            margins_in=margins_in,
            title=draw.title or f"{cap(unit_plural)} and {against_plural} ({geo.vintage})",
            subtitle=subtitle,
            keys=[(symbols, 2, None), (key, key_cols, cap(unit_plural))],
            note=note,
            label=label,
            caption=caption,
            fit=fit,
        )
    return fig
