"""What a map, a figure or a report draws (:class:`MapLayers`) and the words every output shares.

:class:`MapLayers` holds GeoDataFrames (EPSG:27700, simplified for display) of the outlines,
the member units and the areas of each level assessed against, with their shares and status,
the areas behind each mismatch (:attr:`MapLayers.callouts`), the slivers listed rather than
drawn, a light context outline and the frame. It is built from results by
:mod:`coterminus.outputs._build`; the interactive maps, the print figures and the report draw
it. The words shared by the notes under them (:func:`vintage_attribution`,
:func:`share_source`, :func:`polygon_note`) and the colours live here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from ..geography.provenance import sentences
from ..vocabulary.words import cap as capitalised
from ..vocabulary.words import join_names, number
from ._request import ALL_TIERS, check_tier
from ._simplify import estimate_geojson_bytes

if TYPE_CHECKING:
    from ..analysis.metrics import FootprintMetrics
    from ..geography.bundle import Geography

__all__ = [
    "ATTRIBUTION",
    "CONTEXT_EDGE",
    "CONTEXT_FILL",
    "FRAME_MARGIN",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
    "MapLayers",
    "attribution",
    "outside_sentence",
    "polygon_note",
    "share_class",
    "share_classes",
    "share_source",
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
#: The light context under partial maps (England, or the region): fill and edge.
CONTEXT_FILL = "#f2f2f0"
CONTEXT_EDGE = "#b8b8b8"
#: Space around the footprint in a frame, as a share of its larger side.
FRAME_MARGIN = 0.05
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

    Interactive maps (:func:`~coterminus.outputs.maps.footprint_map`), print figures
    (:mod:`coterminus.outputs.figures`) and the report draw the same :class:`MapLayers`, so
    they show the same content. Nothing in it depends on which levels they are: the words come
    from the geography's level labels (``geo.label``).

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
        Per level assessed against (in the order of ``against``), the areas drawn: ``name``,
        ``la_total``, ``in_group``, ``share`` (of the area inside the footprint — or, for a
        plan or systems, inside the one group holding most of it), ``group``, ``group_name``,
        ``n_groups``, ``status`` (contained/split), ``share_class``. Slivers are not drawn.
    metrics : dict
        ``{level: {group: FootprintMetrics}}`` (footprints and plans; empty for systems).
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
        The vintage's licence sentence (:func:`vintage_attribution`), said once per output.
    source : str
        Where the shares come from and what the polygons are.
    callouts : geopandas.GeoDataFrame
        The areas behind every mismatch, each named on every map: ``level``, ``name``,
        ``amount`` (people or m² of the mismatch in that area), ``detail`` (in words),
        ``drawn`` (False: a sliver, listed instead). From the results' ``mismatch`` (and, for a
        coarser level, the areas of the finest level that hold its people); for plans and
        systems, the areas split between groups.
    slivers : pandas.DataFrame
        Areas touched so little (at most ε of them inside any group) that they are listed, not
        drawn: ``level``, ``name``, ``amount``, ``n_blocks``, ``group_name``.
    context : geopandas.GeoSeries
        A light outline drawn under everything (England, or the units of the level around a
        partial map); may be empty.
    frame : numpy.ndarray
        ``[minx, miny, maxx, maxy]`` a map shows: the outlines plus :data:`FRAME_MARGIN`.
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
    callouts: gpd.GeoDataFrame = field(repr=False, default_factory=gpd.GeoDataFrame)
    slivers: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    context: gpd.GeoSeries = field(repr=False, default_factory=gpd.GeoSeries)
    frame: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(4))

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
        """``[minx, miny, maxx, maxy]`` a map of these layers shows (:attr:`frame`)."""
        return np.asarray(self.frame, dtype=float)

    @property
    def focus(self) -> np.ndarray:
        """``[minx, miny, maxx, maxy]`` of the outlines: what the frame is fitted to."""
        return np.asarray(self.outlines.total_bounds, dtype=float)

    def estimated_bytes(self, tiers: Iterable[str] | None = None) -> int:
        """Rough size of the boundary data in a web page (``[lon, lat]`` pairs × 24 bytes)."""
        tiers = list(self.councils) if tiers is None else list(tiers)
        frames = [self.outlines.geometry, self.members.geometry]
        frames += [self.councils[t].geometry for t in tiers if t in self.councils]
        if len(self.context):
            frames.append(self.context)
        return sum(estimate_geojson_bytes(f) for f in frames)

    @property
    def share_label(self) -> str:
        """What the shading means, for legends."""
        word = self.area_word
        if self.kind == "footprint":
            return f"Share of each {word} inside the footprint"
        return f"Largest share of each {word} in one {self.group_word}"

    def shaded_level(self, tier: str | None) -> str:
        """The level shaded for ``tier``: the headline level for None/"both", else that level.

        Examples
        --------
        >>> from coterminus.outputs.layers import map_layers
        >>> layers = map_layers(geo, "05A")
        >>> layers.shaded_level(None), layers.shaded_level("ltla")
        ('utla', 'ltla')
        """
        levels = check_tier(tier, self.against)
        return self.against[0] if tier is None or tier in ALL_TIERS else levels[0]

    def drawn_levels(self, tier: str | None) -> list[str]:
        """The levels whose areas a map draws for ``tier``: the shaded one first.

        ``None`` draws every level for a footprint (the areas behind each mismatch are on the
        map) and the headline level only for a plan or all systems.

        Examples
        --------
        >>> from coterminus.outputs.layers import map_layers
        >>> map_layers(geo, "05A").drawn_levels(None)
        ['utla', 'ltla']
        """
        shade = self.shaded_level(tier)
        every = tier in ALL_TIERS or (tier is None and self.kind == "footprint")
        return [shade, *([lv for lv in self.against if lv != shade] if every else [])]

    def named(self) -> list[str]:
        """The names of the areas behind every mismatch, as every map names them.

        Examples
        --------
        >>> from coterminus.outputs.layers import map_layers
        >>> map_layers(geo, "05A").named()
        ['Warwickshire', 'Rugby']
        """
        if not len(self.callouts):
            return []
        return list(dict.fromkeys(str(n) for n in self.callouts["name"]))

    def sliver_note(self) -> str:
        """The slivers in one sentence ("" when there are none), for notes under maps.

        Examples
        --------
        >>> from coterminus.outputs.layers import map_layers
        >>> map_layers(geo, system="Coventry and Warwickshire").sliver_note()
        ''
        """
        if not len(self.slivers):
            return ""
        s = self.slivers.sort_values("amount", ascending=False)
        items = [
            f"{r['name']} ({number(r['amount'], self.measure)}"
            + (" people" if self.measure == "population" else "")
            + f", {int(r['n_blocks']):,} block{'s' if int(r['n_blocks']) != 1 else ''})"
            for _, r in s.head(10).iterrows()
        ]
        more = f" and {len(s) - 10} more" if len(s) > 10 else ""
        return (
            "Touched by so little that they are listed, not drawn: "
            + join_names(items)
            + more
            + "."
        )


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


#: A remark on display polygons that an embedded copy appends to its manifest's attribution;
#: outputs describe the polygons once themselves (:func:`polygon_note`).
_POLYGON_REMARK = re.compile(
    r"\s*Polygons simplified for display \((?:[^()]|\([^()]*\))*\) by coterminus\."
)


def vintage_attribution(geo: Geography) -> str:
    """The licence sentence of a geography: its manifest's, else :func:`attribution`.

    Generated here once for every output, which says it once: a remark on display polygons
    that an embedded copy adds to its manifest is left to :func:`polygon_note`.

    The notes of the geography (a derived lookup, a named scenario) come first, and the
    "MODIFIED DATA" stamp leads when it was loaded with ``trust_modified=True``, so every map,
    figure and report built on edited data says so where its sources are named.

    Examples
    --------
    >>> vintage_attribution(geo) == attribution(2019)
    True
    """
    text = _POLYGON_REMARK.sub("", str(getattr(geo, "attribution", "") or "")).strip()
    text = text or attribution(geo.vintage)
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
    """What the polygons drawn are, levels of one resolution together.

    Examples
    --------
    >>> polygon_note(geo, ["ccg", "utla"])  # doctest: +ELLIPSIS
    'polygons: CCGs and upper-tier councils ...'
    """
    by_res: dict[str, list[str]] = {}
    for lv in dict.fromkeys(levels):
        try:
            res = str(geo.resolution(lv))
        except (KeyError, ValueError):  # a level given as plain tables has no polygon source
            continue
        by_res.setdefault(res, []).append(geo.label(lv, plural=True))
    if not by_res:
        return "polygons: as given"
    return "polygons: " + "; ".join(f"{join_names(names)} {res}" for res, names in by_res.items())
