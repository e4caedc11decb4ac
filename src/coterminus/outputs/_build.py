"""Building :class:`~coterminus.outputs._model.MapLayers` from results, never re-running them.

Three builders, one per kind of map:

* :func:`footprint_layers` — from an :class:`~coterminus.analysis.assess.Assessment`;
* :func:`plan_layers` — from the assessments of a plan's new units (:func:`plan_assessments`
  makes them, once, when a caller gives codes);
* :func:`systems_layers` — every group of a level, from the overlap tables.

Each reads the metrics and the people behind every mismatch from what it is given (the
assessment's ``tiers`` and ``mismatch``), simplifies the polygons for display, frames the
map on the outlines (plus :data:`~coterminus.outputs._model.FRAME_MARGIN`), lists the areas
touched by too little to draw (slivers) and names the areas behind every mismatch
(:attr:`MapLayers.callouts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..analysis.assess import assess, default_against
from ..analysis.metrics import check_tolerance, footprint_metrics
from ..analysis.overlap import overlap
from ..errors import ParameterError
from ..vocabulary.words import amount, number
from ._model import (
    FRAME_MARGIN,
    PLAN_COLOURS,
    MapLayers,
    outside_sentence,
    polygon_note,
    share_class,
    share_source,
    vintage_attribution,
)
from ._request import Simplify, plan_units, resolve_simplify
from ._simplify import simplified_layer, union_groups

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..analysis.metrics import FootprintMetrics
    from ..geography.bundle import Geography
    from .options import PlanLike

__all__ = [
    "footprint_layers",
    "frame_of",
    "levels_of",
    "plan_assessments",
    "plan_layers",
    "systems_layers",
]

_CALLOUT_COLUMNS = ["level", "code", "name", "amount", "detail", "short", "drawn"]
_SLIVER_COLUMNS = ["level", "code", "name", "amount", "n_blocks", "group_name"]


def frame_of(bounds: np.ndarray | Sequence[float], margin: float = FRAME_MARGIN) -> np.ndarray:
    """``bounds`` with ``margin`` × the larger side added on every side.

    Examples
    --------
    >>> frame_of([0, 0, 100, 50]).tolist()
    [-5.0, -5.0, 105.0, 55.0]
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    pad = margin * max(maxx - minx, maxy - miny, 1.0)
    return np.array([minx - pad, miny - pad, maxx + pad, maxy + pad])


def plan_assessments(
    geo: Geography,
    plan: PlanLike,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tier: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
) -> dict[str, Assessment]:
    """One :func:`~coterminus.analysis.assess.assess` per new unit of a plan, labelled.

    Examples
    --------
    >>> a = plan_assessments(geo, "E38000038,E38000195;E38000164")
    >>> {k: v.members for k, v in a.items()}
    {'New CCG 1': ['E38000038', 'E38000195'], 'New CCG 2': ['E38000164']}
    """
    groups, level = plan_units(geo, plan, units=units)
    return {
        label: assess(
            geo,
            codes,
            units=level,
            against=against,
            within=within,
            tier=tier,
            tolerance=tolerance,
            measure=measure or "population",
        )
        for label, codes in groups.items()
    }


# ------------------------------------------------------------------------------------------
# pieces shared by the builders
# ------------------------------------------------------------------------------------------
def _area_frames(
    geo: Geography,
    metrics: Mapping[str, Mapping[str, FootprintMetrics]],
    group_names: Mapping[str, str],
    eps: float,
    tol_m: float | None,
    group_level: str,
) -> tuple[dict[str, gpd.GeoDataFrame], pd.DataFrame]:
    """Per level, the areas drawn (best group of each), and the slivers (listed, not drawn)."""
    councils: dict[str, gpd.GeoDataFrame] = {}
    slivers = []
    for lv, per_group in metrics.items():
        parts = []
        for g, m in per_group.items():
            part = m.by_la[["in_footprint", "la_total", "share_of_la", "status"]].copy()
            part = part[part["in_footprint"] > 0]
            part["group"] = g
            parts.append(part)
        allrows = pd.concat(parts).rename_axis("la").reset_index()
        n_groups = allrows.groupby("la").size()
        best = allrows.sort_values(["share_of_la", "la"], ascending=[False, True])
        best = best.drop_duplicates("la").set_index("la").sort_index()
        thin = best.index[best["share_of_la"].to_numpy(dtype=float) <= eps]
        if len(thin):
            pairs = overlap(geo, group_level, lv).pairs
            members = {c for m in per_group.values() for c in m.members}
            mine = pairs[pairs["unit"].isin(members) & pairs["target"].isin(thin)]
            blocks = mine.groupby("target")["n_blocks"].sum()
            names = geo.units(lv)["name"]
            for code in thin:
                slivers.append(
                    {
                        "level": lv,
                        "code": code,
                        "name": str(names.get(code, code)),
                        "amount": float(best["in_footprint"].loc[code]),
                        "n_blocks": int(blocks.get(code, 0)),
                        "group_name": group_names[str(best["group"].loc[code])],
                    }
                )
            best = best.drop(index=thin)
        layer_s = simplified_layer(geo, lv, tol_m)
        c = layer_s.loc[best.index, ["name", "geometry"]].copy()
        c["la_total"] = best["la_total"].to_numpy()
        c["in_group"] = best["in_footprint"].to_numpy()
        c["share"] = best["share_of_la"].to_numpy().astype(float)
        c["group"] = best["group"].to_numpy()
        c["group_name"] = [group_names[g] for g in best["group"]]
        c["n_groups"] = n_groups.reindex(best.index).to_numpy()
        c["status"] = best["status"].to_numpy()
        c["share_class"] = share_class(c["share"].to_numpy(), eps)
        c.index.name = "code"
        councils[lv] = c
    return councils, pd.DataFrame(slivers, columns=_SLIVER_COLUMNS)


def _context(
    geo: Geography, level: str, tol_m: float | None, frame: np.ndarray, drawn: Sequence[str]
) -> gpd.GeoSeries:
    """The units of ``level`` around the map (inside the frame, not drawn): light context."""
    layer = simplified_layer(geo, level, tol_m)
    box = shapely.box(*frame)
    geoms = layer.geometry
    near = geoms[geoms.intersects(box) & ~geoms.index.isin(list(drawn))]
    return gpd.GeoSeries(near.to_numpy(), index=near.index, crs=layer.crs)


def _describe(direction: str, name: str, amt: str, measure: str) -> str:
    people = measure == "population"
    if direction == "footprint_outside_la_set":
        return (
            f"{amt} of the footprint {'live' if people else 'lies'} in {name}, which it does "
            "not mostly cover"
        )
    return f"{amt} of {name} {'are' if people else 'lies'} outside the footprint"


def _short(direction: str, amt: str) -> str:
    return f"{amt} {'in' if direction == 'footprint_outside_la_set' else 'outside'} the footprint"


def _callouts(
    a: Assessment, tol_m: float | None, drawn: Mapping[str, gpd.GeoDataFrame]
) -> gpd.GeoDataFrame:
    """The areas behind every mismatch of an assessment, from its ``mismatch`` table.

    Every area of a mismatch row, and, for a row of a coarser council level, the areas of the
    finest council level assessed against that hold its people (from the blocks behind it).
    """
    geo = a.geo
    rows: list[dict[str, object]] = []
    held_rows: list[dict[str, object]] = []
    councils = [lv for lv in a.against if geo.level(lv).side == "council"]
    finest = max(councils, key=lambda lv: len(geo.units(lv))) if councils else None
    for _, r in a.mismatch.iterrows():
        lv, name = str(r["tier"]), str(r["la_name"])
        amt = float(r["amount"])
        rows.append(
            {
                "level": lv,
                "code": str(r["la"]),
                "name": name,
                "amount": amt,
                "detail": _describe(str(r["direction"]), name, amount(amt, a.measure), a.measure),
                "short": _short(str(r["direction"]), amount(amt, a.measure)),
            }
        )
        if finest is None or lv == finest or lv not in councils:
            continue
        blocks = a.mismatch_lsoas(lv)
        blocks = blocks[(blocks[lv] == r["la"]) & (blocks["direction"] == r["direction"])]
        held = (
            geo.lsoa.loc[blocks.index, [finest, "population"]]
            .groupby(finest)["population"]
            .sum()
            .sort_values(ascending=False)
        )
        fnames = geo.units(finest)["name"]
        for code, people in held.items():
            if str(code) == str(r["la"]):
                continue
            held_rows.append(
                {
                    "level": finest,
                    "code": str(code),
                    "name": str(fnames.get(code, code)),
                    "amount": float(people),
                    "detail": _describe(
                        str(r["direction"]), name, amount(float(people), "population"), "population"
                    )
                    + f"; {number(float(people), 'population')} of them here",
                    "short": f"{amount(float(people), 'population')} of the "
                    + ("footprint in " if r["direction"] == "footprint_outside_la_set" else "")
                    + name
                    + ("" if r["direction"] == "footprint_outside_la_set" else " outside it"),
                }
            )
    return _callout_frame(geo, rows + held_rows, tol_m, drawn)


def _callout_frame(
    geo: Geography,
    rows: list[dict[str, object]],
    tol_m: float | None,
    drawn: Mapping[str, gpd.GeoDataFrame],
) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=_CALLOUT_COLUMNS[:-1]).drop_duplicates("code")
    frame["drawn"] = [
        lv not in drawn or code in drawn[lv].index
        for lv, code in zip(frame["level"], frame["code"], strict=True)
    ]
    geoms = [
        simplified_layer(geo, str(lv), tol_m).geometry.get(code)
        for lv, code in zip(frame["level"], frame["code"], strict=True)
    ]
    crs = next(iter(drawn.values())).crs if drawn else 27700
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geoms, crs=crs)


def _split_callouts(
    geo: Geography, councils: Mapping[str, gpd.GeoDataFrame], tol_m: float | None
) -> gpd.GeoDataFrame:
    """For plans and systems: the areas split between groups (or by one), every level."""
    rows: list[dict[str, object]] = []
    for lv, c in councils.items():
        split = c[c["status"] == "split"]
        for code, r in split.sort_values("in_group", ascending=False).iterrows():
            rows.append(
                {
                    "level": lv,
                    "code": str(code),
                    "name": str(r["name"]),
                    "amount": float(r["la_total"] - r["in_group"]),
                    "detail": f"split: {r['share']:.0%} in {r['group_name']}",
                    "short": f"split, {r['share']:.0%} in one",
                }
            )
    return _callout_frame(geo, rows, tol_m, councils)


def levels_of(geo: Geography, levels: Sequence[str] | str | None) -> list[str] | None:
    """Level names or words as the geography's level names, once each (None stays None).

    Examples
    --------
    >>> levels_of(geo, ["UTLA", "lad", "utla"])
    ['utla', 'ltla']
    """
    if levels is None:
        return None
    items = [levels] if isinstance(levels, str) else list(levels)
    return list(dict.fromkeys(geo.resolve_level(a) for a in items))


def _layers(
    geo: Geography,
    *,
    kind: str,
    title: str,
    groups: Mapping[str, list[str]],
    metrics: dict[str, dict[str, FootprintMetrics]],
    rows: list[dict[str, object]],
    unit_level: str,
    against: list[str],
    within: str | None,
    eps: float,
    measure: str,
    simplify_m: Simplify,
    outline_level: str | None = None,
) -> tuple[MapLayers, float | None]:
    """The layers of any kind, once the groups, their metrics and outline rows are known."""
    all_members = [c for codes in groups.values() for c in codes]
    if outline_level is None:
        focus = geo.layer(unit_level).geometry.loc[all_members].total_bounds
    else:
        focus = geo.layer(outline_level).geometry.loc[list(groups)].total_bounds
    frame = frame_of(focus)
    tol_m = resolve_simplify(simplify_m, frame)
    unit_s = simplified_layer(geo, unit_level, tol_m)
    if outline_level is None:
        outline_geom = union_groups(unit_s, {g: list(c) for g, c in groups.items()})
    else:
        outline_geom = simplified_layer(geo, outline_level, tol_m).geometry.loc[list(groups)]
    outlines = gpd.GeoDataFrame(
        pd.DataFrame(rows).set_index("code"), geometry=outline_geom.to_numpy(), crs=unit_s.crs
    )
    group_names = {str(g): str(n) for g, n in outlines["name"].items()}
    colours = dict(zip(outlines.index, outlines["colour"], strict=True))
    unit_table = geo.units(unit_level)
    names = unit_table["name"]
    group_of_unit = {c: g for g, codes in groups.items() for c in codes}
    members = unit_s.loc[all_members, ["geometry"]].copy()
    members.insert(0, "name", names.reindex(members.index).astype(str).to_numpy())
    members.insert(
        1,
        "nhs_code",
        unit_table["nhs_code"].reindex(members.index).fillna("").astype(str).to_numpy()
        if "nhs_code" in unit_table.columns
        else "",
    )
    members.insert(2, "population", unit_table["population"].reindex(members.index).to_numpy())
    members["group"] = [group_of_unit[c] for c in members.index]
    members["group_name"] = [group_names[group_of_unit[c]] for c in members.index]
    members["colour"] = [colours[group_of_unit[c]] for c in members.index]
    councils, slivers = _area_frames(
        geo, metrics, group_names, eps, tol_m, outline_level or unit_level
    )
    shown = [unit_level, *against, *([within] if within else [])]
    layers = MapLayers(
        kind=kind,
        title=title,
        vintage=geo.vintage,
        tolerance=float(eps),
        measure=measure,
        simplify_m=tol_m,
        outlines=outlines,
        members=members,
        councils=councils,
        metrics=metrics,
        units=unit_level,
        against=against,
        within=within,
        labels={lv: (geo.label(lv), geo.label(lv, plural=True)) for lv in shown},
        sides={lv: geo.level(lv).side for lv in shown},
        attribution=vintage_attribution(geo),
        source=share_source(geo, measure) + "; " + polygon_note(geo, shown),
        slivers=slivers,
        context=_context(geo, unit_level, tol_m, frame, all_members),
        frame=frame,
    )
    return layers, tol_m


def _verdicts(
    geo: Geography, metrics: Mapping[str, Mapping[str, FootprintMetrics]], g: str, eps: float
) -> str:
    text = "; ".join(
        f"{'coterminous' if m[g].coterminous else 'not coterminous'} with "
        f"{geo.label(lv, plural=True)} (J = {m[g].index:.4f})"
        for lv, m in metrics.items()
    )
    return f"{text}; ε = {eps:g}"


def _test_i(a: Assessment) -> str:
    if a.system is None or a.within is None:
        return ""
    geo = a.geo
    wname = str(geo.units(a.within)["name"].get(a.system.dominant, a.system.dominant))
    if a.system.within_one_system:
        return f"within one {geo.label(a.within)} ({wname})"
    return f"crosses {geo.label(a.within, plural=True)}: {a.system.dominant_share:.1%} in {wname}"


def _row(
    a: Assessment,
    code: str,
    name: str,
    colour: str,
    metrics: Mapping[str, Mapping[str, FootprintMetrics]],
) -> dict[str, object]:
    geo, head = a.geo, next(iter(metrics))
    mh = a.tiers[head]
    names = geo.units(a.units)["name"]
    return {
        "code": code,
        "name": name,
        "population": mh.total,
        "n_members": len(a.members),
        "members": ", ".join(str(names[c]) for c in a.members),
        "colour": colour,
        "test_i": _test_i(a),
        "test_ii": _verdicts(geo, metrics, code, mh.tolerance),
        "n_split": len(mh.split),
        "outside": outside_sentence(
            mh.outside_best_fit, mh.best_fit_outside, a.measure, geo.label(head, plural=True)
        ),
    }


def _ordered(a: Assessment, against: Sequence[str] | None) -> list[str]:
    """The assessment's levels, or ``against`` (a subset of them, headline first)."""
    if against is None:
        return [a.tier, *[lv for lv in a.against if lv != a.tier]]
    levels = [a.geo.resolve_level(x) for x in against]
    missing = [lv for lv in levels if lv not in a.tiers]
    if missing:
        msg = (
            f"the assessment was not made against {', '.join(missing)}; assess again with "
            f"against={[*a.against, *missing]!r} to draw them."
        )
        raise ParameterError(msg)
    return levels


# ------------------------------------------------------------------------------------------
# the three builders
# ------------------------------------------------------------------------------------------
def footprint_layers(
    a: Assessment, *, against: Sequence[str] | None = None, simplify_m: Simplify = "auto"
) -> MapLayers:
    """The layers of one assessed footprint (its levels, measure and ε).

    Examples
    --------
    >>> from coterminus.analysis.assess import assess
    >>> layers = footprint_layers(assess(geo, "05A"))
    >>> layers.kind, layers.against, layers.named()
    ('footprint', ['utla', 'ltla'], ['Warwickshire', 'Rugby'])
    """
    geo = a.geo
    levels = _ordered(a, against)
    metrics = {lv: {"footprint": a.tiers[lv]} for lv in levels}
    row = _row(a, "footprint", a.name, "#000000", metrics)
    layers, tol_m = _layers(
        geo,
        kind="footprint",
        title=a.name,
        groups={"footprint": list(a.members)},
        metrics=metrics,
        rows=[row],
        unit_level=a.units,
        against=levels,
        within=a.within,
        eps=a.metrics.tolerance,
        measure=a.measure,
        simplify_m=simplify_m,
    )
    layers.callouts = _callouts(a, tol_m, layers.councils)
    return layers


def plan_layers(
    geo: Geography,
    assessments: Mapping[str, Assessment],
    *,
    against: Sequence[str] | None = None,
    simplify_m: Simplify = "auto",
) -> MapLayers:
    """The layers of a merger plan, from one assessment per new unit (:func:`plan_assessments`).

    Examples
    --------
    >>> plan = plan_assessments(geo, "E38000038,E38000195;E38000164")
    >>> layers = plan_layers(geo, plan)
    >>> layers.kind, list(layers.outlines.index)
    ('plan', ['New CCG 1', 'New CCG 2'])
    """
    if not assessments:
        msg = "the plan has no blocks; give a list of blocks, each a list of unit codes."
        raise ParameterError(msg)
    first = next(iter(assessments.values()))
    levels = _ordered(first, against)
    unit_level = first.units
    metrics = {lv: {g: a.tiers[lv] for g, a in assessments.items()} for lv in levels}
    names = geo.units(unit_level)["name"]
    rows = []
    for i, (g, a) in enumerate(assessments.items()):
        if len(a.members) == 1:
            name = f"{g}: {names[a.members[0]]} (unchanged)"
        else:
            name = f"{g} (merger of {len(a.members)} {geo.label(unit_level, plural=True)})"
        rows.append(_row(a, g, name, PLAN_COLOURS[i % len(PLAN_COLOURS)], metrics))
    n = len(assessments)
    layers, tol_m = _layers(
        geo,
        kind="plan",
        title=f"Merger plan: {n} new {geo.label(unit_level, plural=n != 1)}",
        groups={g: list(a.members) for g, a in assessments.items()},
        metrics=metrics,
        rows=rows,
        unit_level=unit_level,
        against=levels,
        within=first.within,
        eps=first.metrics.tolerance,
        measure=first.measure,
        simplify_m=simplify_m,
    )
    layers.callouts = _split_callouts(geo, layers.councils, tol_m)
    return layers


def _group_of(geo: Geography, units: str, within: str) -> pd.Series:
    """The unit of ``within`` holding most of each unit's people (its group), from the blocks."""
    sub = geo.lsoa[[units, within, "population"]].dropna(subset=[units, within])
    people = sub.groupby([units, within])["population"].sum().reset_index()
    people = people.sort_values([units, "population", within], ascending=[True, False, True])
    best = people.drop_duplicates(units).set_index(units)[within]
    best.index = best.index.astype(str)
    return best.astype(str)


def systems_layers(
    geo: Geography,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    simplify_m: Simplify = "auto",
) -> MapLayers:
    """Every group of ``within`` (default: the level grouping ``units``), against ``against``.

    ``within=units`` makes every unit its own group (e.g. ICBs against combined authorities).
    A group's share of an area comes from the ``within`` × area overlap table.

    Examples
    --------
    >>> layers = systems_layers(geo)
    >>> layers.kind, len(layers.outlines), layers.units, layers.within
    ('systems', 42, 'ccg', 'stp')
    """
    measure_ = measure or "population"
    eps = check_tolerance(tolerance, measure_)
    unit_level = geo.resolve_level(units) if units else geo.side("nhs")[0]
    within_ = geo.resolve_level(within) if within else (geo.parent(unit_level) or unit_level)
    levels = levels_of(geo, against) or default_against(geo, unit_level)
    levels = [lv for lv in levels if lv not in (unit_level, within_)]
    if not levels:
        msg = (
            f"nothing to draw {geo.label(unit_level, plural=True)} against; pass against= "
            f"(one or more of {', '.join(n for n in geo.level_names if n != unit_level)})."
        )
        raise ParameterError(msg)
    if within_ == unit_level:
        groups = {str(c): [str(c)] for c in geo.units(unit_level).index}
    else:
        group_of = _group_of(geo, unit_level, within_)
        groups = {str(g): sorted(c.index) for g, c in group_of.groupby(group_of, sort=True)}
    metrics = {
        lv: {
            g: footprint_metrics(overlap(geo, within_, lv, measure=measure_), [g], tolerance=eps)
            for g in groups
        }
        for lv in levels
    }
    wnames = geo.units(within_)["name"]
    n = len(groups)
    one = within_ == unit_level
    title = f"All {n} {geo.label(within_, plural=n != 1)}" + (
        "" if one else f" ({geo.label(unit_level, plural=True)})"
    )
    head = levels[0]
    rows = []
    for g, codes in groups.items():
        mh = metrics[head][g]
        rows.append(
            {
                "code": g,
                "name": f"{wnames.get(g, g)} ({g})",
                "population": mh.total,
                "n_members": len(codes),
                "members": "",
                "colour": "#000000",
                "test_i": "",
                "test_ii": _verdicts(geo, metrics, g, eps),
                "n_split": len(mh.split),
                "outside": outside_sentence(
                    mh.outside_best_fit, mh.best_fit_outside, measure_, geo.label(head, plural=True)
                ),
            }
        )
    layers, tol_m = _layers(
        geo,
        kind="systems",
        title=title,
        groups=groups,
        metrics=metrics,
        rows=rows,
        unit_level=unit_level,
        against=levels,
        within=within_,
        eps=eps,
        measure=measure_,
        simplify_m=simplify_m,
        outline_level=within_,
    )
    layers.callouts = _split_callouts(geo, layers.councils, tol_m)
    return layers
