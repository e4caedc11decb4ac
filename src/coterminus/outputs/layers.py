"""What a map, a figure or a report draws: :class:`MapLayers`, built from results.

:func:`map_layers` turns a result — an :class:`~coterminus.analysis.assess.Assessment`, the
assessments of a merger plan's new units — or, with none, every system, into a
:class:`MapLayers`: GeoDataFrames (EPSG:27700, simplified for display) of the outlines, the
member units and the areas of each level assessed against, with their shares, split/contained
status, the areas behind every mismatch and the verdicts in words. The interactive maps
(:mod:`coterminus.outputs.maps`), the print figures (:mod:`coterminus.outputs.figures`) and the
board report (:mod:`coterminus.outputs.report`) all draw from it, so they show the same content.

Given a result, nothing is computed again; given codes or a name (the convenient form),
:func:`~coterminus.analysis.assess.assess` runs once. This module draws nothing; it also
offers the checks every output makes of its request (:func:`check_request`,
:func:`check_tier`, :func:`resolve_simplify`) and the words shared by the notes under them
(:func:`vintage_attribution`, :func:`share_source`, :func:`polygon_note`).

Examples
--------
>>> from coterminus.analysis.assess import assess
>>> layers = map_layers(geo, assessment=assess(geo, system="Coventry and Warwickshire"))
>>> layers.kind, layers.units, layers.against
('footprint', 'ccg', ['utla', 'ltla'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..analysis.assess import assess
from ..errors import ParameterError
from ._build import footprint_layers, levels_of, plan_assessments, plan_layers, systems_layers
from ._model import (
    ATTRIBUTION,
    PLAN_COLOURS,
    SHARE_COLOURS,
    SPLIT_COLOUR,
    MapLayers,
    attribution,
    outside_sentence,
    polygon_note,
    share_class,
    share_classes,
    share_source,
    vintage_attribution,
)
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

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography
    from .options import PlanLike

__all__ = [
    "ALL_TIERS",
    "ATTRIBUTION",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
    "MapLayers",
    "Simplify",
    "Tier",
    "attribution",
    "check_request",
    "check_tier",
    "check_tier_word",
    "footprint_layers",
    "map_layers",
    "normalise_plan",
    "outside_sentence",
    "plan_assessments",
    "plan_layers",
    "plan_units",
    "polygon_note",
    "resolve_simplify",
    "share_class",
    "share_classes",
    "share_source",
    "systems_layers",
    "tier_name",
    "vintage_attribution",
]


def map_layers(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    plan: PlanLike | None = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    simplify_m: Simplify = "auto",
) -> MapLayers:
    """The layers a map draws: a footprint, a merger plan, or (with none) every system.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario level added).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names, all of one level (assessed once).
    system : str, optional
        Every unit of this group (an STP/ICS, ICB, region...).
    plan : optional
        A merger plan: blocks of unit codes (see :func:`normalise_plan`); each new unit is
        assessed once.
    assessment : Assessment, optional
        Draw this :func:`coterminus.analysis.assess.assess` result (its members, levels,
        measure and ε); nothing is computed again.
    units : str, optional
        Level of the members (default: the level of the codes; with no footprint, the finest
        NHS level).
    against : str or sequence of str, optional
        Levels shaded and outlined, headline first (default: the assessment's, else
        :func:`coterminus.analysis.assess.default_against`). With an assessment, a subset of
        its levels.
    within : str, optional
        Level of test I (default: the level grouping ``units``). With no footprint the groups
        drawn are the units of ``within``; ``within=units`` draws every unit as its own group
        (e.g. ICBs against combined authorities).
    tolerance : float, optional
        ε; default 0.005 (population).
    measure : {"population", "area"}, optional
        What the shares are of (default: the assessment's, else population).
    simplify_m : float, "auto" or None
        Display simplification in metres; ``"auto"`` is 50 m for a system and grows with the
        extent (see :func:`coterminus.outputs._simplify.auto_tolerance`).

    Returns
    -------
    MapLayers

    Notes
    -----
    For group g and area l of a level assessed against, s = m_g[l] / T[l] (the share of l in
    g); the map shades l by the largest s over the groups it touches and outlines it as split
    when ε < s < 1 − ε; an area with s ≤ ε in every group is a sliver, listed and not drawn. A
    level covering part of England (combined authorities) has no area over the blocks outside
    it: nothing is shaded there.

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
    against_ = levels_of(geo, against)
    if plan is not None:
        assessments = plan_assessments(
            geo,
            plan,
            units=units,
            against=against_,
            within=within,
            tolerance=tolerance,
            measure=measure,
        )
        return plan_layers(geo, assessments, simplify_m=simplify_m)
    if footprint is None and system is None and assessment is None:
        return systems_layers(
            geo,
            units=units,
            against=against_,
            within=within,
            tolerance=tolerance,
            measure=measure,
            simplify_m=simplify_m,
        )
    if assessment is None:
        assessment = assess(
            geo,
            footprint,
            system=system,
            units=units,
            against=against_,
            within=within,
            tolerance=tolerance,
            measure=measure or "population",
        )
        against_ = None  # the assessment is of exactly these levels
    return footprint_layers(assessment, against=against_, simplify_m=simplify_m)
