"""Interactive maps (folium/Leaflet) of a footprint, a merger plan or every system.

One call from a notebook returns a :class:`folium.Map`; :func:`save_map` writes it as one HTML
file. The map works at any level of any vintage — CCGs in 2019, sub-ICB locations and ICBs in
2024, a scenario's proposed areas — against any levels (``against=``: upper and lower tier,
combined authorities...), and takes every word from the geography's level labels. It shows

* the footprint outline (or each new unit of a merger plan, one colour each),
* its member units,
* each level assessed against as a layer you can switch on and off, each area shaded by the
  share of it inside the footprint, with the split areas outlined in red (dashed); a level
  covering part of England (combined authorities) has nothing over the blocks outside it,
* tooltips with names and figures, a legend, a layer control, the vintage's attribution,

and is fitted to the footprint. Boundaries are simplified for display as a coverage in metres
before reprojection (see :mod:`coterminus._simplify`), so neighbours still touch and one system
is well under 1 MB. With ``offline=True`` the page embeds the Leaflet JavaScript and CSS it
needs (vendored from the ``leaflet`` npm package, BSD-2-Clause, in ``coterminus/static``) and
loads nothing from the network; no web map tiles are drawn unless you ask for them.

Every name shown in the page is HTML-escaped.

Examples
--------
>>> import coterminus
>>> from coterminus import maps
>>> geo = coterminus.load(2019)
>>> m = maps.footprint_map(geo, system="Coventry and Warwickshire", offline=True)
>>> maps.save_map(m, "cw.html")
PosixPath('cw.html')
>>> maps.plan_map(geo, [["E38000038", "E38000195"], ["E38000164"]])
<folium.folium.Map object at ...>
"""

from __future__ import annotations

import base64
import html
import importlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._atomic import atomic_write_text, check_output_path
from ._simplify import (
    auto_tolerance,
    estimate_geojson_bytes,
    simplified_layer,
    to_display,
    union_groups,
    warn_if_large,
)
from .errors import (
    FootprintError,
    MissingDependencyError,
    OutputError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)

if TYPE_CHECKING:
    import folium

    from .assess import Assessment
    from .geography import Geography
    from .metrics import FootprintMetrics

__all__ = [
    "ATTRIBUTION",
    "MAP_SUFFIXES",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
    "MapLayers",
    "attribution",
    "draw_layers",
    "footprint_map",
    "map_layers",
    "normalise_plan",
    "offline_html",
    "outside_sentence",
    "plan_map",
    "plan_units",
    "save_map",
    "share_classes",
    "share_source",
    "vintage_attribution",
]

log = logging.getLogger(__name__)

Tier = str | None
Simplify = float | Literal["auto"] | None

#: The attribution every map, figure and report carries (``{year}`` = the vintage).
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right {year}."
)
#: Suffixes :func:`save_map` writes.
MAP_SUFFIXES = (".html", ".htm")
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
_LEAFLET_JS = "leaflet.js"
_LEAFLET_CSS = "leaflet.css"
_CSS_IMAGES = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)
#: Budgets (bytes of boundary data) above which a warning says how big the page will be.
_MAX_BYTES = 5_000_000


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


def _share_class(share: np.ndarray, eps: float) -> np.ndarray:
    s = np.asarray(share, dtype=float)
    return np.select(
        [s >= 1 - eps, s >= 0.5, s > eps], ["contained", "majority", "minority"], default="marginal"
    )


def _require(module: str, *, needed_for: str, pip: str, instead: str | None = None) -> Any:
    """Import an optional-looking dependency, or say how to install it (MissingDependencyError).

    Shared by the maps (folium), the print figures (matplotlib) and the reports (jinja2).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - each of them is a dependency of coterminus
        msg = (
            f"{needed_for} need {module}, which is not installed; install it with "
            f"pip install '{pip}' (it is a dependency of coterminus: pip install coterminus "
            "reinstalls it)" + (f", or {instead}." if instead else ".")
        )
        raise MissingDependencyError(msg) from exc


def _folium() -> Any:
    return _require(
        "folium",
        needed_for="interactive maps",
        pip="folium>=0.15",
        instead="draw a static map with coterminus.figures.footprint_figure",
    )


# ------------------------------------------------------------------------------------------
# what a map draws
# ------------------------------------------------------------------------------------------
@dataclass
class MapLayers:
    """Everything a map of a footprint, a plan or all systems draws (EPSG:27700, simplified).

    Interactive maps (:func:`footprint_map`, :func:`plan_map`) and print figures
    (:mod:`coterminus.figures`) draw the same :class:`MapLayers`, so they show the same content.
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
        return _cap(text) if cap else text

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


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt_amount(x: float, measure: str) -> str:
    if measure == "population":
        return f"{round(float(x)):,}"
    return f"{float(x) / 1e6:,.1f} km²"


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
    a = _fmt_amount(outside_best_fit, measure)
    b = _fmt_amount(best_fit_outside, measure)
    if measure == "population":
        return (
            f"{a} of its people live in {areas} it does not mostly cover; {b} people of its "
            f"best-fit {areas} live outside it"
        )
    return (
        f"{a} of it lies in {areas} it does not mostly cover; {b} of its best-fit {areas} "
        "lies outside it"
    )


def _plan_blocks(plan: Any) -> tuple[list[Any], list[str] | None]:
    if hasattr(plan, "blocks"):  # a plan object from coterminus.mergers
        plan = plan.blocks
    if isinstance(plan, str):
        plan = [b.split(",") for b in plan.split(";") if b.strip()]
    if isinstance(plan, Mapping):
        return list(plan.values()), [str(k) for k in plan]
    return list(plan), None


def plan_units(
    geo: Geography, plan: Any, *, units: str | None = None
) -> tuple[dict[str, list[str]], str]:
    """:func:`normalise_plan` and the level of the plan's units (one level for every block).

    Examples
    --------
    >>> plan_units(geo, "E38000038,E38000195;E38000164")[1]
    'ccg'
    """
    from .assess import resolve_footprint

    unit_level = geo.resolve_level(units) if units else None
    blocks, labels = _plan_blocks(plan)
    if not blocks:
        msg = "the plan has no blocks; give a list of blocks, each a list of unit codes."
        raise FootprintError(msg)
    resolved: list[tuple[int, list[str], str]] = []
    problems: list[tuple[int, Exception]] = []
    vintage_problem = False
    for i, block in enumerate(blocks):
        items = [block] if isinstance(block, str) else [str(b).strip() for b in block]
        try:
            codes, _, level = resolve_footprint(geo, items, units=unit_level)
        except VintageMismatchError as exc:
            vintage_problem = True
            problems.append((i, exc))
            continue
        except (UnknownAreaError, FootprintError) as exc:
            problems.append((i, exc))
            continue
        resolved.append((i, codes, level))
    levels = sorted({lv for _, _, lv in resolved})
    level = unit_level or (levels[0] if levels else "")
    word = geo.label(level) if level else "unit"

    def label_of(i: int) -> str:
        return labels[i] if labels else f"New {word} {i + 1}"

    if problems:
        text = "; ".join(f"{label_of(i)}: {exc}" for i, exc in problems)
        if vintage_problem:
            raise VintageMismatchError(text)
        raise UnknownAreaError(text)
    if len(levels) > 1:
        msg = (
            f"the blocks of the plan are of different levels ({', '.join(levels)}); give units "
            "of one level, or pass units= to say which."
        )
        raise FootprintError(msg)
    out: dict[str, list[str]] = {}
    for i, codes, _ in resolved:
        out[label_of(i)] = codes
    seen: dict[str, str] = {}
    dupes = []
    for label, codes in out.items():
        for c in codes:
            if c in seen:
                dupes.append(f"{c} is in {seen[c]} and {label}")
            seen[c] = label
    if dupes:
        msg = f"a {word} can join only one new {word}, but {'; '.join(dupes)}; fix the plan."
        raise FootprintError(msg)
    return out, level


def normalise_plan(geo: Geography, plan: Any, *, units: str | None = None) -> dict[str, list[str]]:
    """Turn a merger plan into ``{label: [unit codes]}``, checking it against ``geo``.

    Parameters
    ----------
    geo : Geography
    plan : sequence of blocks, mapping of label to block, str, or object with ``.blocks``
        Each block is a list of unit codes, NHS codes or names (a lone string is a one-unit
        block), all of one level (CCGs, ICBs, sub-ICB locations, a scenario's areas...); a
        string plan is ``"A,B;C"`` (blocks separated by ``;``).
    units : str, optional
        The level of the units (default: the level their codes belong to).

    Returns
    -------
    dict
        Labels ``"New CCG 1"``, ``"New ICB 1"``... (the level's label; or the mapping's keys)
        to sorted unit codes.

    Raises
    ------
    FootprintError
        An empty plan or block, a unit in more than one block, or blocks of different levels.
    VintageMismatchError, UnknownAreaError
        Codes that are not units of this vintage — every problem in one message.

    Examples
    --------
    >>> normalise_plan(geo, "E38000038,E38000195;E38000164")
    {'New CCG 1': ['E38000038', 'E38000195'], 'New CCG 2': ['E38000164']}
    """
    return plan_units(geo, plan, units=units)[0]


def _resolve_simplify(simplify_m: Simplify, bounds: np.ndarray) -> float | None:
    if simplify_m == "auto":
        return auto_tolerance(bounds)
    if simplify_m is None or simplify_m is False:
        return None
    try:
        value = float(simplify_m)
    except (TypeError, ValueError):
        value = -1.0
    if value < 0 or not np.isfinite(value):
        msg = f"simplify_m={simplify_m!r}; give metres ≥ 0 (e.g. 50), 'auto' or None."
        raise ParameterError(msg)
    return value or None


def _check_request(
    geo: Geography,
    footprint: Any,
    system: str | None,
    plan: Any,
    assessment: Assessment | None,
    *,
    what: str = "map",
) -> None:
    """Refuse an assessment of another vintage, and a plan together with a footprint.

    Shared by :func:`map_layers` and :func:`coterminus.report.report_context` (``what`` names
    the map or the report in the message).
    """
    if (
        assessment is not None
        and assessment.geo is not geo
        and assessment.geo.vintage != geo.vintage
    ):
        msg = (
            f"the assessment is of the {assessment.geo.vintage} geography but the {what} is of "
            f"{geo.vintage}; pass geo=assessment.geo or assess the footprint again with "
            f"coterminus.assess.assess(geo, ...)."
        )
        raise VintageMismatchError(msg)
    if plan is not None and (footprint is not None or system is not None or assessment is not None):
        msg = "give either plan= or a footprint (footprint/system/assessment), not both."
        raise ParameterError(msg)


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
        Reuse an :func:`coterminus.assess.assess` result (its members, levels, measure and ε).
    units : str, optional
        Level of the members (default: the assessment's, else the level of the codes; with no
        footprint, the finest NHS level).
    against : str or sequence of str, optional
        Levels shaded and outlined, headline first (default: the assessment's, else
        :func:`coterminus.assess.default_against`).
    within : str, optional
        Level of test I (default: the assessment's, else the level grouping ``units``). With no
        footprint the groups drawn are the units of ``within``; ``within=units`` draws every
        unit as its own group (e.g. ICBs against combined authorities).
    tolerance : float, optional
        ε; default 0.005 (population).
    simplify_m : float, "auto" or None
        Display simplification in metres; ``"auto"`` is 50 m for a system and grows with the
        extent (see :func:`coterminus._simplify.auto_tolerance`).
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
    from .assess import assess, default_against
    from .metrics import check_tolerance, footprint_metrics, system_alignment
    from .overlap import overlap

    _check_request(geo, footprint, system, plan, assessment)
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
    tol_m = _resolve_simplify(simplify_m, raw_bounds)
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
        c["share_class"] = _share_class(c["share"].to_numpy(), eps)
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


def vintage_attribution(geo: Geography) -> str:
    """The attribution of a geography: its manifest's, else :func:`attribution` of its year.

    Examples
    --------
    >>> vintage_attribution(geo) == attribution(2019)
    True
    """
    text = str(getattr(geo, "attribution", "") or "")
    return text or attribution(geo.vintage)


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


# ------------------------------------------------------------------------------------------
# drawing
# ------------------------------------------------------------------------------------------
def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _static_text(name: str) -> str:
    return resources.files("coterminus").joinpath("static", name).read_text(encoding="utf-8")


def _static_bytes(name: str) -> bytes:
    return resources.files("coterminus").joinpath("static", name).read_bytes()


def _leaflet_inline() -> str:
    """``<style>`` + ``<script>`` of the vendored Leaflet, its CSS images as data URIs."""
    css = _static_text(_LEAFLET_CSS)
    for img in _CSS_IMAGES:
        uri = "data:image/png;base64," + base64.b64encode(_static_bytes(img)).decode("ascii")
        css = css.replace(f"url(images/{img})", f"url({uri})")
    js = _static_text(_LEAFLET_JS).replace("</script", "<\\/script")
    return (
        "<!-- Leaflet 1.9.4 (BSD-2-Clause, (c) Vladimir Agafonkin, CloudMade), embedded so the "
        "map opens with no network -->\n"
        f"<style>{css}</style>\n<script>{js}</script>\n"
    )


_LEAFLET_CDN_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")
_LEAFLET_CDN_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")


def _configure_assets(m: folium.Map, offline: bool) -> None:
    """Load only Leaflet (no jQuery, Bootstrap, Font Awesome: these maps do not use them)."""
    folium = _folium()
    if offline:
        m.default_js = []
        m.default_css = []
        root: Any = m.get_root()
        if "coterminus_leaflet" not in root.header._children:
            root.header.add_child(folium.Element(_leaflet_inline()), name="coterminus_leaflet")
    else:
        m.default_js = [_LEAFLET_CDN_JS]
        m.default_css = [_LEAFLET_CDN_CSS]
    m._coterminus_offline = offline  # type: ignore[attr-defined]


def _new_map(bounds4326: np.ndarray, *, tiles: str | None, offline: bool) -> folium.Map:
    folium = _folium()
    minx, miny, maxx, maxy = bounds4326
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=tiles,
    )
    _configure_assets(m, offline)
    root: Any = m.get_root()
    root.header.add_child(
        folium.Element(
            "<style>.leaflet-container{background:#f4f4f2;}"
            ".coterminus-legend{background:rgba(255,255,255,.94);padding:8px 10px;"
            "font:12px/1.35 Arial,Helvetica,sans-serif;max-width:330px;max-height:60vh;"
            "overflow:auto;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);}"
            ".coterminus-legend h4{margin:0 0 4px;font-size:13px;}"
            ".coterminus-legend .sw{display:inline-block;width:16px;height:12px;"
            "margin-right:6px;vertical-align:middle;border:1px solid #555;}"
            ".coterminus-legend .src{margin-top:6px;font-size:10px;color:#333;}"
            ".leaflet-control-attribution{max-width:55vw;white-space:normal;}"
            "</style>"
        ),
        name="coterminus_css",
    )
    return m


def _macro(template: str, **attrs: Any) -> Any:
    from branca.element import MacroElement, Template

    el = MacroElement()
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


_LEGEND_TEMPLATE = """
{% macro script(this, kwargs) %}
(function() {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "coterminus-legend");
        div.innerHTML = {{ this.legend_html|tojson }};
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
    var map = {{ this._parent.get_name() }};
    L.control.scale({imperial: false, position: "bottomright"}).addTo(map);
    if (map.attributionControl) {
        map.attributionControl.addAttribution({{ this.attribution|tojson }});
    }
})();
{% endmacro %}
"""


def _legend_html(layers: MapLayers) -> str:
    out = [f"<h4>{_esc(layers.title)} ({_esc(layers.vintage)})</h4>"]
    word = layers.area_word
    if layers.kind == "plan":
        for _g, r in layers.outlines.iterrows():
            out.append(
                f"<div><span class='sw' style='background:{r['colour']};opacity:.8'></span>"
                f"{_esc(r['name'])}</div>"
            )
        out.append(
            "<div><span class='sw' style='background:none;border:2px solid #222'></span>"
            f"{_esc(layers.label(layers.against[0]))} boundary</div>"
        )
    else:
        out.append(f"<div><b>{_esc(layers.share_label)}</b></div>")
        for _, label, colour in share_classes(layers.tolerance):
            out.append(
                f"<div><span class='sw' style='background:{colour}'></span>{_esc(label)}</div>"
            )
        out.append(
            "<div><span class='sw' style='background:none;border:3px solid #000'></span>"
            + _esc(f"{layers.group_word} outline")
            + "</div>"
        )
    out.append(
        f"<div><span class='sw' style='background:none;border:2px dashed {SPLIT_COLOUR}'></span>"
        f"split {word} ({'people' if layers.measure == 'population' else 'area'} on both "
        "sides of the line)</div>"
    )
    out.append(
        "<div><span class='sw' style='background:none;border:1px dashed #444'></span>"
        f"{_esc(layers.label(layers.units))} boundary</div>"
    )
    for _, r in layers.outlines.iterrows():
        if layers.kind == "systems":
            break
        test_i = f"; test I: {_esc(r['test_i'])}" if r["test_i"] else ""
        out.append(
            f"<div><b>{_esc(r['name'])}</b>: {_esc(r['test_ii'])}{test_i}. "
            f"Outside: {_esc(r['outside'])}.</div>"
        )
    simp = f"{layers.simplify_m:g} m" if layers.simplify_m else "none"
    out.append(
        "<div class='src'>"
        + _esc(layers.source)
        + f"; ε = {layers.tolerance:g}; boundaries simplified for display ({simp}).<br>"
        f"{_esc(layers.attribution)}</div>"
    )
    return "".join(out)


def _feature_collection(gdf: gpd.GeoDataFrame, props: dict[str, list[str]]) -> dict[str, Any]:
    """GeoJSON of a display layer with string (already escaped) properties; ids = codes."""
    geoms = json.loads(gpd.GeoSeries(gdf.geometry.to_numpy(), crs=gdf.crs).to_json(drop_id=True))
    feats = []
    for i, (code, feat) in enumerate(zip(gdf.index, geoms["features"], strict=True)):
        feats.append(
            {
                "type": "Feature",
                "id": str(code),
                "properties": {k: v[i] for k, v in props.items()},
                "geometry": feat["geometry"],
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _council_layer(
    layers: MapLayers, tier: str, precision: int, *, show: bool, filled: bool
) -> Any:
    folium = _folium()
    c = layers.councils[tier]
    d = to_display(c, precision=precision)
    measure = layers.measure
    where = {
        "footprint": "Inside the footprint",
        "plan": f"In one {layers.group_word}",
        "systems": f"In one {layers.group_word}",
    }[layers.kind]
    plural_group = (
        f"new {layers.label(layers.units, plural=True)}"
        if layers.kind == "plan"
        else (layers.label(layers.within, plural=True) if layers.within else "groups")
    )
    props: dict[str, list[str]] = {
        "council": [_esc(f"{n} ({k})") for k, n in zip(c.index, c["name"], strict=True)],
        "total": [_esc(_fmt_amount(x, measure)) for x in c["la_total"]],
        "inside": [
            _esc(f"{_fmt_amount(a, measure)} ({s:.1%})")
            for a, s in zip(c["in_group"], c["share"], strict=True)
        ],
        "status": [
            _esc(f"{st}" + (f", across {n} {plural_group}" if n > 1 else ""))
            for st, n in zip(c["status"], c["n_groups"], strict=True)
        ],
    }
    fields = ["council", "total", "inside", "status"]
    aliases = [
        _esc(layers.label(tier, cap=True)),
        "Population" if measure == "population" else "Area",
        _esc(where),
        "Status",
    ]
    if layers.kind != "footprint":
        props["group"] = [_esc(x) for x in c["group_name"]]
        fields.insert(2, "group")
        aliases.insert(2, "Largest share in")
    styles: dict[str, dict[str, Any]] = {}
    heavy = tier == layers.against[0]
    for code, cls, status in zip(c.index, c["share_class"], c["status"], strict=True):
        split = status == "split"
        styles[str(code)] = {
            "fillColor": SHARE_COLOURS[cls],
            "fillOpacity": 0.7 if filled else 0.0,
            "fill": filled,
            "color": SPLIT_COLOUR if split else ("#ffffff" if filled else "#222222"),
            "weight": (3.5 if heavy else 2.5) if split else (1.8 if heavy else 1.0),
            "dashArray": "7 4" if split else None,
            "opacity": 1.0,
        }
    data = _feature_collection(d, props)
    return folium.GeoJson(
        data,
        name=_esc(
            layers.label(tier, plural=True, cap=True)
            + (" (shaded by share inside)" if filled else "")
        ),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


def _member_layer(layers: MapLayers, precision: int, *, show: bool) -> Any:
    folium = _folium()
    c = layers.members
    d = to_display(c, precision=precision)
    props = {
        "unit": [_esc(f"{n} ({k})") for k, n in zip(c.index, c["name"], strict=True)],
        "nhs": [_esc(x) for x in c["nhs_code"]],
        "population": [_esc(_fmt_amount(x, "population")) for x in c["population"]],
        "group": [_esc(x) for x in c["group_name"]],
    }
    fields = ["unit", "nhs", "population", "group"]
    filled = layers.kind == "plan"
    styles = {
        str(k): {
            "color": "#333333",
            "weight": 1.2,
            "dashArray": "4 3",
            "fill": filled,
            "fillColor": col,
            "fillOpacity": 0.55,
        }
        for k, col in zip(c.index, c["colour"], strict=True)
    }
    aliases = [
        _esc(layers.label(layers.units, cap=True)),
        "NHS code",
        "Population",
        _esc(_cap(layers.group_word)),
    ]
    if not any(c["nhs_code"]):
        del props["nhs"]
        fields.remove("nhs")
        aliases.remove("NHS code")
    plural = layers.label(layers.units, plural=True)
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(
            f"Member {plural}" if layers.kind != "plan" else f"New {plural} (coloured by block)"
        ),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


def _outline_layer(layers: MapLayers, precision: int) -> Any:
    folium = _folium()
    o = layers.outlines
    d = to_display(o, precision=precision)
    plural = layers.label(layers.units, plural=True)
    props = {
        "name": [_esc(x) for x in o["name"]],
        "population": [_esc(_fmt_amount(x, layers.measure)) for x in o["population"]],
        "members": [_esc(x) for x in o["members"]]
        if layers.kind != "systems"
        else [_esc(f"{n} {plural}") for n in o["n_members"]],
        "test_ii": [_esc(x) for x in o["test_ii"]],
        "outside": [_esc(x) for x in o["outside"]],
    }
    fields = ["name", "population", "members", "test_ii", "outside"]
    aliases = [
        "Name",
        "Population" if layers.measure == "population" else "Area",
        _esc(_cap(plural)),
        "Test II",
        "Outside",
    ]
    if layers.kind != "systems" and any(o["test_i"]):
        props["test_i"] = [_esc(x) for x in o["test_i"]]
        fields.append("test_i")
        aliases.append("Test I")
    styles = {
        str(k): {
            "color": "#000000" if layers.kind != "plan" else "#111111",
            "weight": 4 if layers.kind != "systems" else 2.5,
            "fill": False,
            "opacity": 1.0,
        }
        for k in o.index
    }
    name = {
        "footprint": "Footprint outline",
        "plan": f"New {plural} outlines",
        "systems": f"{_cap(layers.group_word)} outlines",
    }
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(name[layers.kind]),
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 6},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


_ALL_TIERS = ("both", "all")


def _check_tier_word(tier: str | None, geo: Geography | None = None) -> None:
    """Refuse a ``tier`` that is not "both"/"all"/None nor a level of ``geo`` (before any work)."""
    if tier is None or tier in _ALL_TIERS:
        return
    if not isinstance(tier, str):
        msg = f"tier={tier!r}; give a level name (e.g. 'utla') or 'both' for every level drawn."
        raise ParameterError(msg)
    if geo is not None:
        try:
            geo.resolve_level(tier)
        except (ParameterError, UnknownAreaError, KeyError) as exc:
            msg = (
                f"tier={tier!r} is not a level of this geography; give one of "
                f"{', '.join(geo.level_names)}, or 'both' for every level drawn."
            )
            raise ParameterError(msg) from exc


def _check_tier(
    tier: str | None, against: Sequence[str], geo: Geography | None = None
) -> list[str]:
    """The levels drawn for ``tier``: every level of ``against`` ("both"/"all"/None) or one."""
    _check_tier_word(tier, geo)
    if tier is None or tier in _ALL_TIERS:
        return list(against)
    level = geo.resolve_level(tier) if geo is not None else tier
    if level not in against:
        msg = (
            f"tier={tier!r}: the map is drawn against {', '.join(against)}; give one of them, "
            "'both' for all of them, or pass against= to draw another level."
        )
        raise ParameterError(msg)
    return [level]


def _check_draw(
    tier: str | None, tiles: str | None, offline: bool, geo: Geography | None = None
) -> Any:
    """folium, after checking the drawing options (before any work)."""
    folium = _folium()
    _check_tier_word(tier, geo)
    if tiles and offline:
        msg = (
            f"tiles={tiles!r} with offline=True: web map tiles are fetched from the internet when "
            "the map is viewed, so an offline map cannot have them; pass tiles=None."
        )
        raise ParameterError(msg)
    return folium


def draw_layers(
    layers: MapLayers,
    *,
    m: folium.Map | None = None,
    tier: Tier = "both",
    offline: bool = False,
    tiles: str | None = None,
    precision: int = 6,
) -> folium.Map:
    """Draw :class:`MapLayers` on a new (or the given) :class:`folium.Map`.

    Layers, bottom to top: the levels assessed against (the headline level on top, the others
    starting switched off), the member units, the outline. A layer control, a legend, fitted
    bounds and the attribution are added. ``tier`` is one level of ``layers.against`` or
    ``"both"`` (every one of them).
    """
    folium = _check_draw(tier, tiles, offline)
    tiers = _check_tier(tier, layers.against)
    nbytes = layers.estimated_bytes(tiers)
    warn_if_large(nbytes, limit=_MAX_BYTES, simplify_m=layers.simplify_m, what="this map")
    b = to_display(layers.outlines[["geometry"]]).total_bounds
    for t in tiers:
        if not len(layers.councils[t]):
            continue
        cb = to_display(layers.councils[t][["geometry"]]).total_bounds
        b = np.r_[np.minimum(b[:2], cb[:2]), np.maximum(b[2:], cb[2:])]
    if m is None:
        m = _new_map(b, tiles=tiles, offline=offline)
    else:
        if offline:
            _configure_assets(m, True)
        for key, child in list(m._children.items()):  # one layer control, after every layer
            if isinstance(child, folium.LayerControl):
                del m._children[key]
    plan = layers.kind == "plan"
    if plan:
        _member_layer(layers, precision, show=True).add_to(m)
    # the headline level on top and shown; the others under it, starting hidden
    for t in reversed(tiers):
        if not len(layers.councils[t]):
            continue
        show = t == tiers[0]
        _council_layer(layers, t, precision, show=show, filled=not plan).add_to(m)
    if not plan:
        _member_layer(layers, precision, show=True).add_to(m)
    _outline_layer(layers, precision).add_to(m)
    m.add_child(
        _macro(
            _LEGEND_TEMPLATE,
            legend_html=_legend_html(layers),
            attribution=_esc(layers.attribution),
        ),
        name="coterminus_legend",
    )
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]])
    log.info("map of %s: about %.2f MB of boundaries", layers.title, nbytes / 1e6)
    return m


def footprint_map(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    m: folium.Map | None = None,
    tier: Tier = "both",
    offline: bool = False,
    simplify_m: Simplify = "auto",
    tiles: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    precision: int = 6,
) -> folium.Map:
    """Interactive map of a footprint against the councils (or any levels), for a notebook.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario level).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names (CCGs, sub-ICB locations, ICBs, a scenario's areas...).
        With neither ``footprint``, ``system`` nor ``assessment``, every group of ``within``
        is drawn (areas shaded by the largest share of each in one group).
    system : str, optional
        Every unit of this group (STP/ICS, ICB, region; name or code).
    assessment : Assessment, optional
        Draw an existing :func:`coterminus.assess.assess` result (its levels, measure, ε).
    units, against, within : optional
        Levels of the members, of the areas drawn (headline first) and of test I, as in
        :func:`map_layers` (defaults: the assessment's, else from the codes and
        :func:`coterminus.assess.default_against`).
    m : folium.Map, optional
        Draw on this map instead of a new one.
    tier : str, default "both"
        One level of ``against`` to draw, or ``"both"``: every one (the headline level shown,
        the others starting switched off).
    offline : bool, default False
        Embed Leaflet's JavaScript and CSS in the page so it opens with no network.
    simplify_m : float, "auto" or None, default "auto"
        Display simplification in metres (coverage simplification in EPSG:27700 before
        reprojection); ``"auto"`` is 50 m for a system, up to 250 m for England.
    tiles : str, optional
        A folium tile layer name (e.g. ``"OpenStreetMap"``); none by default, never offline.
    tolerance : float, optional
        ε for split/contained (default 0.005 population, 0.03 area).
    measure : {"population", "area"}, optional
        What shares are of (default population, or the assessment's).
    precision : int, default 6
        Decimal places of longitude/latitude.

    Returns
    -------
    folium.Map

    Raises
    ------
    UnknownAreaError, VintageMismatchError, FootprintError
        A footprint this geography does not have (the message names the fix).
    ParameterError
        Bad ``tier``, level, ``simplify_m``, or tiles with ``offline=True``.

    Warns
    -----
    CoterminusWarning
        When the boundaries would make a page over 5 MB (e.g. ``simplify_m=None`` for England).

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> cw = ["E38000038", "E38000164", "E38000195"]
    >>> maps.footprint_map(geo, cw, offline=True)
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> maps.footprint_map(geo24, system="Coventry and Warwickshire", units="icb",
    ...                    against=["utla", "cauth"])
    <folium.folium.Map object at ...>
    """
    _check_draw(tier, tiles, offline, geo)  # fail fast, before any work
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
    return draw_layers(
        layers, m=m, tier=_tier_name(geo, tier), offline=offline, tiles=tiles, precision=precision
    )


def _tier_name(geo: Geography, tier: Tier) -> Tier:
    return tier if tier is None or tier in _ALL_TIERS else geo.resolve_level(tier)


def plan_map(
    geo: Geography,
    plan: Any,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    m: folium.Map | None = None,
    tier: Tier = None,
    offline: bool = False,
    simplify_m: Simplify = "auto",
    tiles: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    precision: int = 6,
) -> folium.Map:
    """Interactive map of a merger plan: one colour per new unit, over the councils.

    Parameters
    ----------
    geo : Geography
    plan : blocks of unit codes
        ``[["E38000038", "E38000195"], ["E38000164"]]``, a mapping ``{label: block}``, the
        string ``"A,B;C"``, or an object with ``.blocks`` (see :func:`normalise_plan`); the
        units may be of any level (CCGs, ICBs, sub-ICB locations...), one level per plan.
    units, against, within
        As in :func:`footprint_map`.
    m, offline, simplify_m, tiles, tolerance, measure, precision
        As in :func:`footprint_map`.
    tier : str, optional
        One level of ``against`` to draw, or ``"both"``; default the headline level (the first
        of ``against``).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> maps.plan_map(geo, "E38000038,E38000195;E38000164", offline=True)
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> maps.plan_map(geo24, [["QWU", "QHL"], ["QGH"]])  # ICBs merged (NHS codes)
    <folium.folium.Map object at ...>
    """
    _check_draw(tier, tiles, offline, geo)  # fail fast, before any work
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
    tier_ = _tier_name(geo, tier) if tier is not None else layers.against[0]
    return draw_layers(layers, m=m, tier=tier_, offline=offline, tiles=tiles, precision=precision)


# ------------------------------------------------------------------------------------------
# saving
# ------------------------------------------------------------------------------------------
_TAG_RE = re.compile(r"<(script|link)\b[^>]*>(?:\s*</script>)?", re.IGNORECASE)
_URL_ATTR_RE = re.compile(r"""\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)
_REMOTE_RE = re.compile(
    r"""<(?:img|iframe|source|video|audio|embed|object)\b[^>]*\b(?:src|data)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:url\()?\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)
#: CDN files folium's default template loads that these maps do not use.
_UNUSED_ASSETS = (
    "jquery",
    "bootstrap",
    "awesome-markers",
    "awesome_markers",
    "fontawesome",
    "glyphicons",
    "awesome.rotate",
)


def offline_html(page: str) -> str:
    """Make a rendered folium page self-contained: embed Leaflet, drop unused CDN files.

    Raises
    ------
    OutputError
        The page needs something else from the network (e.g. a plugin's script or web tiles),
        which cannot be embedded; the message lists it.

    Examples
    --------
    >>> page = ('<html><head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/'
    ...         'leaflet.js"></script></head><body></body></html>')
    >>> out = offline_html(page)
    >>> "cdn.jsdelivr" in out, "Leaflet 1.9.4" in out
    (False, True)
    """
    needs_leaflet = "coterminus_leaflet" not in page and "Leaflet 1.9.4 (BSD-2-Clause" not in page
    remaining: list[str] = []
    placed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal placed
        tag = match.group(0)
        url_m = _URL_ATTR_RE.search(tag)
        if url_m is None:
            return tag
        url = url_m.group(1)
        low = url.lower()
        if re.search(r"leaflet(@[\d.]+)?/dist/leaflet\.(js|css)$", low) or low.endswith(
            ("/leaflet.js", "/leaflet.css")
        ):
            if needs_leaflet and not placed:
                placed = True
                return _leaflet_inline()
            return ""
        if any(k in low for k in _UNUSED_ASSETS):
            return ""
        remaining.append(url)
        return tag

    out = _TAG_RE.sub(replace, page)
    if needs_leaflet and not placed:
        out = out.replace("<head>", "<head>\n" + _leaflet_inline(), 1)
    body_refs = [m.group(0)[:80] for m in _REMOTE_RE.finditer(_strip_inline_leaflet(out))]
    if remaining or body_refs or "L.tileLayer(" in out:
        found = (
            remaining
            + body_refs
            + (["web map tiles (L.tileLayer)"] if "L.tileLayer(" in out else [])
        )
        msg = (
            f"the map loads {len(found)} thing(s) from the network when viewed "
            f"({', '.join(found[:5])}), "
            "which an offline map cannot embed; remove them (tiles=None, no plugins) or save with "
            "offline=False."
        )
        raise OutputError(msg)
    return out


def _strip_inline_leaflet(page: str) -> str:
    start = page.find("<!-- Leaflet 1.9.4 (BSD-2-Clause")
    if start < 0:
        return page
    end = page.find("</script>", start)
    return page[:start] + page[end:]


def save_map(m: folium.Map, path: str | Path, *, offline: bool | None = None) -> Path:
    """Write a map as one HTML file (atomically).

    Parameters
    ----------
    m : folium.Map
    path : str or Path
        ``.html`` (or ``.htm``); the folder must exist and be writable.
    offline : bool, optional
        Embed Leaflet so the page opens with no network; default: as the map was built
        (``footprint_map(..., offline=True)``).

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        Missing or read-only folder, a suffix other than ``.html``, or (offline) a page that
        needs the network for something that cannot be embedded.

    Examples
    --------
    >>> m = footprint_map(geo, "05A")
    >>> save_map(m, "cw.html", offline=True)
    PosixPath('cw.html')
    """
    p = check_output_path(path, suffixes=MAP_SUFFIXES)
    if offline is None:
        offline = bool(getattr(m, "_coterminus_offline", False))
    page = m.get_root().render()
    if offline:
        page = offline_html(page)
    out = atomic_write_text(p, page, suffixes=MAP_SUFFIXES)
    log.info("wrote %s (%.2f MB)", out, len(page.encode("utf-8")) / 1e6)
    return out
