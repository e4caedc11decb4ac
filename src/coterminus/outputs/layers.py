"""What a map, a figure or a report draws: the layer data, computed once for every output.

:func:`map_layers` turns a footprint, a merger plan or every system into a :class:`MapLayers`:
GeoDataFrames (EPSG:27700, simplified for display) of the outlines, the member units and the
areas of each level assessed against, with their shares, split/contained status and the
verdicts in words. The interactive maps (:mod:`coterminus.outputs.maps`), the print figures
(:mod:`coterminus.outputs.figures`) and the board report (:mod:`coterminus.outputs.report`) all draw from it,
so they show the same content. This module draws nothing; it also holds the checks every
output makes of its request (:func:`check_request`, :func:`check_tier`, :func:`resolve_simplify`)
and the words shared by the notes under them (:func:`vintage_attribution`, :func:`share_source`,
:func:`polygon_note`).

Examples
--------
>>> from coterminus.outputs.layers import map_layers
>>> layers = map_layers(geo, system="Coventry and Warwickshire")
>>> layers.kind, layers.units, layers.against
('footprint', 'ccg', ['utla', 'ltla'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ..analysis.assess import assess, default_against
from ..analysis.metrics import check_tolerance, footprint_metrics, system_alignment
from ..analysis.overlap import overlap
from ..errors import ParameterError
from ..geography.provenance import sentences
from ..vocabulary.words import cap as capitalised
from ..vocabulary.words import number
from ._request import (
    ALL_TIERS,
    Simplify,
    Tier,
    check_request,
    check_tier,
    check_tier_word,
    normalise_plan,
    plan_units,
    resolve_simplify,
    tier_name,
)
from ._simplify import estimate_geojson_bytes, simplified_layer, union_groups

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..analysis.metrics import FootprintMetrics
    from ..geography.bundle import Geography

# The checks of what is asked (plans, tiers, simplification) are in _layer_request; every
# output reaches them through this module.
__all__ = [
    "ALL_TIERS",
    "ATTRIBUTION",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
    "LayerOptions",
    "MapLayers",
    "Simplify",
    "Tier",
    "attribution",
    "check_request",
    "check_tier",
    "check_tier_word",
    "map_layers",
    "normalise_plan",
    "outside_sentence",
    "plan_units",
    "polygon_note",
    "resolve_simplify",
    "share_class",
    "share_classes",
    "share_source",
    "tier_name",
    "vintage_attribution",
]

#: The attribution every map, figure and report carries (``{year}`` = the vintage).
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right {year}."
)
#: Fill colours of the four share classes, light to dark (ColorBrewer Blues: distinct in grey).
SHARE_COLOURS = {
    "marginal": "#deebf7",
    "minority": "#9ecae1",
    "majority": "#4292c6",
    "contained": "#08306b",
}
#: Outline colour of split councils.
SPLIT_COLOUR = "#b2182b"
#: One colour per new CCG of a plan (Okabe–Ito first, then ColorBrewer Set3/Paired).
PLAN_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#8DD3C7",
    "#BEBADA",
    "#FB8072",
    "#B3DE69",
    "#FCCDE5",
)


def attribution(year: int | str) -> str:
    """The ONS/OS attribution for a vintage.

    Examples
    --------
    >>> attribution(2019)  # doctest: +NORMALIZE_WHITESPACE
    'Source: Office for National Statistics licensed under the Open Government Licence v.3.0.
    Contains OS data © Crown copyright and database right 2019.'
    """
    return ATTRIBUTION.format(year=year)


def share_classes(tolerance: float) -> list[tuple[str, str, str]]:
    """The four share classes ``(key, label, colour)`` for tolerance ε, darkest first.

    Examples
    --------
    >>> [k for k, _, _ in share_classes(0.005)]
    ['contained', 'majority', 'minority', 'marginal']
    >>> share_classes(0.005)[0][1]
    'wholly inside (≥ 99.5%)'
    """
    hi = f"{(1 - tolerance) * 100:g}"
    lo = f"{tolerance * 100:g}"
    return [
        ("contained", f"wholly inside (≥ {hi}%)", SHARE_COLOURS["contained"]),
        ("majority", f"mostly inside (50–{hi}%): split", SHARE_COLOURS["majority"]),
        ("minority", f"partly inside ({lo}–50%): split", SHARE_COLOURS["minority"]),
        ("marginal", f"marginal (≤ {lo}%)", SHARE_COLOURS["marginal"]),
    ]


def share_class(share: np.ndarray, eps: float) -> np.ndarray:
    """The share class of each share (the keys of :func:`share_classes`), elementwise.

    Notes
    -----
    contained: s ≥ 1 − ε; majority: 0.5 ≤ s < 1 − ε; minority: ε < s < 0.5; marginal: s ≤ ε.

    Examples
    --------
    >>> share_class(np.array([1.0, 0.7, 0.3, 0.001]), 0.005).tolist()
    ['contained', 'majority', 'minority', 'marginal']
    """
    s = np.asarray(share, dtype=float)
    return np.select(
        [s >= 1 - eps, s >= 0.5, s > eps], ["contained", "majority", "minority"], default="marginal"
    )


# ------------------------------------------------------------------------------------------
# what a map draws
# ------------------------------------------------------------------------------------------
@dataclass
class MapLayers:
    """Everything a map of a footprint, a plan or all systems draws (EPSG:27700, simplified).

    Interactive maps (:func:`footprint_map`, :func:`plan_map`) and print figures
    (:mod:`coterminus.outputs.figures`) draw the same :class:`MapLayers`, so they show the same content.
    Nothing in it depends on which levels they are: the words come from the geography's level
    labels (``geo.label``).

    Attributes
    ----------
    kind : {"footprint", "plan", "systems"}
    title : str
    vintage : int or str
    tolerance : float
        ε used for the share classes and the split/contained status.
    measure : str
    simplify_m : float or None
        Display simplification tolerance in metres (``None`` = unsimplified).
    outlines : geopandas.GeoDataFrame
        One row per footprint / new unit / system: ``name``, ``population``, ``n_members``,
        ``members``, ``colour``, ``test_i``, ``test_ii``, ``outside`` (plain text, unescaped).
    members : geopandas.GeoDataFrame
        Member units: ``name``, ``nhs_code``, ``population``, ``group``, ``group_name``,
        ``colour``.
    councils : dict of str to geopandas.GeoDataFrame
        Per level assessed against (in the order of ``against``), the areas the footprint
        touches: ``name``, ``la_total``, ``in_group``, ``share`` (of the area inside the
        footprint — or, for a plan or systems, inside the one group holding most of it),
        ``group``, ``group_name``, ``n_groups``, ``status`` (contained/split/marginal),
        ``share_class``.
    metrics : dict
        ``{level: {group: FootprintMetrics}}``.
    units : str
        Level of the members (e.g. ``"ccg"``, ``"icb"``).
    against : list of str
        Levels assessed against, headline first.
    within : str or None
        Level of test I (``None``: no test I).
    labels : dict
        ``{level: (label, plural)}`` for ``units``, ``against`` and ``within``.
    sides : dict
        ``{level: "nhs" | "council"}`` for the same levels.
    attribution : str
        The vintage's attribution (its manifest's, else :func:`attribution`).
    source : str
        Where the shares come from (population and building blocks, or polygons).
    """

    kind: str
    title: str
    vintage: int | str
    tolerance: float
    measure: str
    simplify_m: float | None
    outlines: gpd.GeoDataFrame
    members: gpd.GeoDataFrame
    councils: dict[str, gpd.GeoDataFrame]
    metrics: dict[str, dict[str, FootprintMetrics]] = field(repr=False, default_factory=dict)
    units: str = ""
    against: list[str] = field(default_factory=list)
    within: str | None = None
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    sides: dict[str, str] = field(default_factory=dict)
    attribution: str = ""
    source: str = ""

    @property
    def ccgs(self) -> gpd.GeoDataFrame:
        """The member units (the name of the CCG-era API; see :attr:`members`)."""
        return self.members

    def label(self, level: str, *, plural: bool = False, cap: bool = False) -> str:
        """Words for a level of the layers ("ICB", "upper-tier councils")."""
        one, many = self.labels.get(level, (level, level))
        text = many if plural else one
        return capitalised(text) if cap else text

    @property
    def area_word(self) -> str:
        """ "council" when every level assessed against is a council level, else "area"."""
        sides = {self.sides.get(lv, "council") for lv in self.against}
        return "council" if sides <= {"council"} else "area"

    @property
    def group_word(self) -> str:
        """What one outline is: "footprint", "new ICB", or the systems' label."""
        if self.kind == "plan":
            return f"new {self.label(self.units)}"
        if self.kind == "systems":
            return self.label(self.within, cap=False) if self.within else self.label(self.units)
        return "footprint"

    @property
    def bounds(self) -> np.ndarray:
        """``[minx, miny, maxx, maxy]`` of everything drawn (EPSG:27700)."""
        frames = [self.outlines, *self.councils.values()]
        b = np.array([f.total_bounds for f in frames if len(f)])
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])

    def estimated_bytes(self, tiers: Iterable[str] | None = None) -> int:
        """Rough size of the boundary data in a web page (``[lon, lat]`` pairs × 24 bytes)."""
        tiers = list(self.councils) if tiers is None else list(tiers)
        frames = [self.outlines.geometry, self.members.geometry]
        frames += [self.councils[t].geometry for t in tiers if t in self.councils]
        return sum(estimate_geojson_bytes(f) for f in frames)

    @property
    def share_label(self) -> str:
        """What the shading means, for legends."""
        word = self.area_word
        if self.kind == "footprint":
            return f"Share of each {word} inside the footprint"
        return f"Largest share of each {word} in one {self.group_word}"


def outside_sentence(
    outside_best_fit: float,
    best_fit_outside: float,
    measure: str,
    areas: str = "councils",
) -> str:
    """What lies on the wrong side of a footprint's line, in words that fit the measure.

    ``areas`` names the areas of the headline level, in the plural.

    Examples
    --------
    >>> outside_sentence(108_935, 0, "population", "upper-tier councils")
    ... # doctest: +NORMALIZE_WHITESPACE
    '108,935 of its people live in upper-tier councils it does not mostly cover; 0 people of
    its best-fit upper-tier councils live outside it'
    >>> outside_sentence(452.2e6, 0, "area", "combined authorities")
    ... # doctest: +NORMALIZE_WHITESPACE
    '452.2 km² of it lies in combined authorities it does not mostly cover; 0.0 km² of its
    best-fit combined authorities lies outside it'
    """
    a = number(outside_best_fit, measure)
    b = number(best_fit_outside, measure)
    if measure == "population":
        return (
            f"{a} of its people live in {areas} it does not mostly cover; {b} people of its "
            f"best-fit {areas} live outside it"
        )
    return (
        f"{a} of it lies in {areas} it does not mostly cover; {b} of its best-fit {areas} "
        "lies outside it"
    )


def _levels(geo: Geography, against: Sequence[str] | str | None) -> list[str] | None:
    if against is None:
        return None
    items = [against] if isinstance(against, str) else list(against)
    return list(dict.fromkeys(geo.resolve_level(a) for a in items))


def _group_of(geo: Geography, units: str, within: str) -> pd.Series:
    """The unit of ``within`` holding most of each unit's people (its group), from the blocks."""
    sub = geo.lsoa[[units, within, "population"]].dropna(subset=[units, within])
    people = sub.groupby([units, within])["population"].sum().reset_index()
    people = people.sort_values([units, "population", within], ascending=[True, False, True])
    best = people.drop_duplicates(units).set_index(units)[within]
    best.index = best.index.astype(str)
    return best.astype(str)


def _touched_bounds(geo: Geography, level: str, codes: Sequence[str], b: np.ndarray) -> np.ndarray:
    if not len(codes):
        return b
    tb = geo.layer(level).geometry.loc[list(codes)].total_bounds
    return np.r_[np.minimum(b[:2], tb[:2]), np.maximum(b[2:], tb[2:])]


def map_layers(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: Any = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    simplify_m: Simplify = "auto",
    measure: Literal["population", "area"] | None = None,
) -> MapLayers:
    """The layers a map draws: a footprint, a merger plan, or (with none) every system.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario level added).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names, all of one level.
    system : str, optional
        Every unit of this group (an STP/ICS, ICB, region...).
    plan : optional
        A merger plan: blocks of unit codes (see :func:`normalise_plan`).
    assessment : Assessment, optional
        Reuse an :func:`coterminus.analysis.assess.assess` result (its members, levels, measure and ε).
    units : str, optional
        Level of the members (default: the assessment's, else the level of the codes; with no
        footprint, the finest NHS level).
    against : str or sequence of str, optional
        Levels shaded and outlined, headline first (default: the assessment's, else
        :func:`coterminus.analysis.assess.default_against`).
    within : str, optional
        Level of test I (default: the assessment's, else the level grouping ``units``). With no
        footprint the groups drawn are the units of ``within``; ``within=units`` draws every
        unit as its own group (e.g. ICBs against combined authorities).
    tolerance : float, optional
        ε; default 0.005 (population).
    simplify_m : float, "auto" or None
        Display simplification in metres; ``"auto"`` is 50 m for a system and grows with the
        extent (see :func:`coterminus.outputs._simplify.auto_tolerance`).
    measure : {"population", "area"}, optional
        What the shares are of (default: the assessment's, else population).

    Returns
    -------
    MapLayers

    Notes
    -----
    For group g and area l of a level assessed against, s = m_g[l] / T[l] (the share of l in
    g); the map shades l by the largest s over the groups it touches and outlines it as split
    when ε < s < 1 − ε. A level covering part of England (combined authorities) has no area
    over the blocks outside it: nothing is shaded there.

    Examples
    --------
    >>> layers = map_layers(geo, system="E54000018")
    >>> len(layers.members), sorted(layers.councils["utla"].index)
    (3, ['E08000026', 'E10000031'])
    >>> geo24 = coterminus.load(2024)
    >>> l24 = map_layers(geo24, system="Coventry and Warwickshire", units="icb", against="cauth")
    >>> l24.units, list(l24.councils), l24.councils["cauth"]["status"].tolist()
    ('icb', ['cauth'], ['split'])
    """
    check_request(geo, footprint, system, plan, assessment)
    if measure is not None and measure not in ("population", "area"):
        msg = f"measure={measure!r}; give 'population' or 'area'."
        raise ParameterError(msg)
    measure_: Any = assessment.measure if assessment is not None else (measure or "population")
    against_ = _levels(geo, against)
    within_ = geo.resolve_level(within) if within else None
    if plan is not None:
        kind = "plan"
        groups, unit_level = plan_units(geo, plan, units=units)
        eps = check_tolerance(tolerance, measure_)
        within_ = within_ or geo.parent(unit_level)
        n = len(groups)
        title = f"Merger plan: {n} new {geo.label(unit_level, plural=n != 1)}"
    elif footprint is None and system is None and assessment is None:
        kind = "systems"
        eps = check_tolerance(tolerance, measure_)
        unit_level = geo.resolve_level(units) if units else geo.side("nhs")[0]
        within_ = within_ or geo.parent(unit_level) or unit_level
        if within_ == unit_level:
            groups = {c: [c] for c in geo.units(unit_level).index}
        else:
            group_of = _group_of(geo, unit_level, within_)
            groups = {
                str(g): sorted(codes.index) for g, codes in group_of.groupby(group_of, sort=True)
            }
        n = len(groups)
        title = (
            f"All {n} {geo.label(within_, plural=n != 1)}"
            if within_ == unit_level
            else f"All {n} {geo.label(within_, plural=n != 1)} "
            f"({geo.label(unit_level, plural=True)})"
        )
    else:
        kind = "footprint"
        if assessment is None:
            assessment = assess(
                geo,
                footprint,
                system=system,
                units=units,
                against=against_,
                within=within_,
                tolerance=tolerance,
                measure=measure_,
            )
        unit_level = assessment.units
        within_ = within_ or assessment.within
        eps = assessment.metrics.tolerance
        groups = {"footprint": list(assessment.members)}
        title = assessment.name
        if against_ is None:
            against_ = list(assessment.against)
    if against_ is None:
        against_ = default_against(geo, unit_level)
    against_ = [lv for lv in against_ if lv != unit_level]
    if not against_:
        msg = (
            f"nothing to draw {geo.label(unit_level, plural=True)} against; pass against= "
            f"(one or more of {', '.join(n for n in geo.level_names if n != unit_level)})."
        )
        raise ParameterError(msg)

    # metrics per level and group (from the unsimplified data)
    metrics: dict[str, dict[str, FootprintMetrics]] = {}
    for lv in against_:
        if assessment is not None and lv in assessment.tiers:
            metrics[lv] = {"footprint": assessment.tiers[lv]}
        else:
            table = overlap(geo, unit_level, lv, measure=measure_)
            metrics[lv] = {
                g: footprint_metrics(table, codes, tolerance=eps) for g, codes in groups.items()
            }

    # display geometry
    all_members = [c for codes in groups.values() for c in codes]
    raw_bounds = geo.layer(unit_level).geometry.loc[all_members].total_bounds
    touched_by: dict[str, list[str]] = {}
    for lv in against_:
        touched = sorted(
            set().union(*(m.by_la.index[m.by_la["in_footprint"] > 0] for m in metrics[lv].values()))
        )
        touched_by[lv] = touched
        raw_bounds = _touched_bounds(geo, lv, touched, raw_bounds)
    tol_m = resolve_simplify(simplify_m, raw_bounds)
    unit_s = simplified_layer(geo, unit_level, tol_m)
    unit_table = geo.units(unit_level)

    # outlines
    names = unit_table["name"]
    colours = {
        g: ("#000000" if kind != "plan" else PLAN_COLOURS[i % len(PLAN_COLOURS)])
        for i, g in enumerate(groups)
    }
    within_names = geo.units(within_)["name"] if within_ else None
    sys_table = (
        overlap(geo, unit_level, within_, measure=measure_)
        if within_ and within_ != unit_level and kind == "plan"
        else None
    )
    head = against_[0]
    head_plural = geo.label(head, plural=True)
    rows = []
    for g, codes in groups.items():
        mh = metrics[head][g]
        test_i = ""
        if kind == "systems":
            wname = within_names.get(g, g) if within_names is not None else g
            gname = f"{wname} ({g})" if within_ != unit_level else f"{names.get(g, g)} ({g})"
        else:
            if kind == "footprint":
                align = assessment.system if assessment is not None else None
            else:
                align = (
                    system_alignment(sys_table, codes, tolerance=eps)
                    if sys_table is not None
                    else None
                )
            if align is not None and within_names is not None:
                wname = str(within_names.get(align.dominant, align.dominant))
                wlabel = geo.label(within_)  # type: ignore[arg-type]
                test_i = (
                    f"within one {wlabel} ({wname})"
                    if align.within_one_system
                    else f"crosses {geo.label(within_, plural=True)}: "  # type: ignore[arg-type]
                    f"{align.dominant_share:.1%} in {wname}"
                )
            if kind == "footprint":
                gname = title
            elif len(codes) == 1:
                gname = f"{g}: {names[codes[0]]} (unchanged)"
            else:
                gname = f"{g} (merger of {len(codes)} {geo.label(unit_level, plural=True)})"
        verdicts = "; ".join(
            f"{'coterminous' if metrics[lv][g].coterminous else 'not coterminous'} with "
            f"{geo.label(lv, plural=True)} (J = {metrics[lv][g].index:.4f})"
            for lv in against_
        )
        rows.append(
            {
                "code": g,
                "name": gname,
                "population": mh.total,
                "n_members": len(codes),
                "members": ", ".join(str(names[c]) for c in codes),
                "colour": colours[g],
                "test_i": test_i,
                "test_ii": f"{verdicts}; ε = {eps:g}",
                "n_split": len(mh.split),
                "outside": outside_sentence(
                    mh.outside_best_fit, mh.best_fit_outside, measure_, head_plural
                ),
            }
        )
    outline_geom = union_groups(unit_s, groups)
    outlines = gpd.GeoDataFrame(
        pd.DataFrame(rows).set_index("code"), geometry=outline_geom.to_numpy(), crs=unit_s.crs
    )

    # member units
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
    members["group_name"] = [outlines.at[group_of_unit[c], "name"] for c in members.index]
    members["colour"] = [colours[group_of_unit[c]] for c in members.index]

    # areas of each level assessed against
    councils: dict[str, gpd.GeoDataFrame] = {}
    for lv in against_:
        parts = []
        for g, m in metrics[lv].items():
            part = m.by_la[["in_footprint", "la_total", "share_of_la", "status"]].copy()
            part = part[part["in_footprint"] > 0]
            part["group"] = g
            parts.append(part)
        allrows = pd.concat(parts).rename_axis("la").reset_index()
        n_groups = allrows.groupby("la").size()
        best = allrows.sort_values(["share_of_la", "la"], ascending=[False, True]).drop_duplicates(
            "la"
        )
        best = best.set_index("la").sort_index()
        layer_s = simplified_layer(geo, lv, tol_m)
        c = layer_s.loc[best.index, ["name", "geometry"]].copy()
        c["la_total"] = best["la_total"].to_numpy()
        c["in_group"] = best["in_footprint"].to_numpy()
        c["share"] = best["share_of_la"].to_numpy().astype(float)
        c["group"] = best["group"].to_numpy()
        c["group_name"] = [outlines.at[g, "name"] for g in best["group"]]
        c["n_groups"] = n_groups.reindex(best.index).to_numpy()
        c["status"] = best["status"].to_numpy()
        c["share_class"] = share_class(c["share"].to_numpy(), eps)
        c.index.name = "code"
        councils[lv] = c

    shown = [unit_level, *against_, *([within_] if within_ else [])]
    return MapLayers(
        kind=kind,
        title=title,
        vintage=geo.vintage,
        tolerance=float(eps),
        measure=measure_,
        simplify_m=tol_m,
        outlines=outlines,
        members=members,
        councils=councils,
        metrics=metrics,
        units=unit_level,
        against=against_,
        within=within_,
        labels={lv: (geo.label(lv), geo.label(lv, plural=True)) for lv in shown},
        sides={lv: geo.level(lv).side for lv in shown},
        attribution=vintage_attribution(geo),
        source=share_source(geo, measure_) + "; " + polygon_note(geo, [unit_level, *shown]),
    )


@dataclass(frozen=True)
class LayerOptions:
    """The options of :func:`map_layers` that every map, figure and report passes on to it.

    Written once here, so an entry point that takes them (``footprint_map``, ``plan_figure``...)
    hands them over in one object; see :func:`map_layers` for what each one means.

    Examples
    --------
    >>> opts = LayerOptions(against="utla", simplify_m=None)
    >>> layers = opts.layers(geo, system="E54000018")
    >>> layers.against, layers.simplify_m
    (['utla'], None)
    """

    units: str | None = None
    against: Sequence[str] | str | None = None
    within: str | None = None
    tolerance: float | None = None
    simplify_m: Simplify = "auto"
    measure: Literal["population", "area"] | None = None

    def layers(
        self,
        geo: Geography,
        footprint: Sequence[str] | str | None = None,
        *,
        system: str | None = None,
        plan: Any = None,
        assessment: Assessment | None = None,
    ) -> MapLayers:
        """:func:`map_layers` of a footprint, a plan or every system, with these options."""
        options = {f.name: getattr(self, f.name) for f in fields(self)}
        return map_layers(
            geo, footprint, system=system, plan=plan, assessment=assessment, **options
        )


def vintage_attribution(geo: Geography) -> str:
    """The attribution of a geography: its manifest's, else :func:`attribution` of its year;
    followed by the "MODIFIED DATA" stamp when it was loaded with ``trust_modified=True``, so
    every map, figure and report built on edited data says so where its sources are named.

    Examples
    --------
    >>> vintage_attribution(geo) == geo.manifest.attribution
    True
    """
    text = str(getattr(geo, "attribution", "") or "") or attribution(geo.vintage)
    notes = geo.notes() if callable(getattr(geo, "notes", None)) else []
    if notes:  # a derived lookup, a scenario (issue 18)
        text = sentences([*notes, text])
    stamp = getattr(geo, "modified_data", None)
    return f"{stamp} {text}" if stamp else text


def share_source(geo: Geography, measure: str) -> str:
    """Where the shares come from, for notes under maps and in reports.

    Examples
    --------
    >>> share_source(geo, "area")
    'Area shares from boundary polygons (m², EPSG:27700)'
    """
    if measure != "population":
        return "Area shares from boundary polygons (m², EPSG:27700)"
    label = str(getattr(geo, "population_label", "") or "population")
    block = str(getattr(geo, "block", "") or "building block").upper()
    return f"Population shares from {block} building blocks ({label})"


def polygon_note(geo: Geography, levels: list[str]) -> str:
    """The resolution of the polygons drawn, e.g. "polygons: ICBs BSC-derived; ..."."""
    parts = []
    for lv in dict.fromkeys(levels):
        try:
            parts.append(f"{geo.label(lv, plural=True)} {geo.resolution(lv)}")
        except (KeyError, ValueError):  # a level given as plain tables has no polygon source
            continue
    return "polygons: " + ", ".join(parts) if parts else "polygons: as given"
