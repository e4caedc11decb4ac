"""What a map, a figure or a report is asked to draw, checked before any work is done.

A merger plan in any of its spellings becomes ``{label: [unit codes]}`` (:func:`plan_units`,
:func:`normalise_plan`); a footprint and a plan together, or an assessment of another vintage,
are refused (:func:`check_request`); ``tier`` names one level drawn or all of them
(:func:`check_tier`); ``simplify_m`` becomes metres (:func:`resolve_simplify`). The maps, the
figures and the report use these through :mod:`coterminus.outputs.layers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, Union

import numpy as np

from ..analysis.assess import resolve_footprint
from ..errors import FootprintError, ParameterError, UnknownAreaError, VintageMismatchError
from ..vocabulary.plan_text import split_plan
from ._simplify import auto_tolerance

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography

__all__ = [
    "ALL_TIERS",
    "HasBlocks",
    "PlanLike",
    "Simplify",
    "Tier",
    "check_request",
    "check_tier",
    "check_tier_word",
    "normalise_plan",
    "plan_units",
    "resolve_simplify",
    "tier_name",
]

#: A level of ``against`` to draw, ``"both"``/``"all"`` (every one) or None.
Tier = str | None
#: Display simplification: metres, ``"auto"`` or None.
Simplify = float | Literal["auto"] | None
#: The ``tier`` words for every level drawn.
ALL_TIERS = ("both", "all")


class HasBlocks(Protocol):
    """A plan object: anything with ``.blocks`` (lists of unit codes, or label → codes)."""

    @property
    def blocks(self) -> Sequence[Sequence[str]] | Mapping[str, Sequence[str]]:
        """The blocks of the plan."""
        ...


#: A merger plan as outputs take it: ``[["A", "B"], ["C"]]``, ``{"North": ["A", "B"]}``,
#: ``"A,B;C"``, or an object with ``.blocks``; a block is a list of codes (or one code).
PlanLike = Union[  # noqa: UP007 - a runtime alias, also on Python 3.10
    str, Mapping[str, Sequence[str]], Sequence[Sequence[str]], HasBlocks
]


def _plan_blocks(plan: PlanLike) -> tuple[list[Sequence[str] | str], list[str] | None]:
    blocks: object = plan.blocks if hasattr(plan, "blocks") else plan  # a plan object
    if isinstance(blocks, str):
        blocks = split_plan(blocks)
    if isinstance(blocks, Mapping):
        return list(blocks.values()), [str(k) for k in blocks]
    if not isinstance(blocks, Sequence):
        msg = (
            f"a plan is a list of blocks of unit codes (or a mapping, or 'A,B;C'), not "
            f"{type(blocks).__name__}."
        )
        raise FootprintError(msg)
    return list(blocks), None


def plan_units(
    geo: Geography, plan: PlanLike, *, units: str | None = None
) -> tuple[dict[str, list[str]], str]:
    """:func:`normalise_plan` and the level of the plan's units (one level for every block).

    Examples
    --------
    >>> plan_units(geo, "E38000038,E38000195;E38000164")[1]
    'ccg'
    """
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


def normalise_plan(
    geo: Geography, plan: PlanLike, *, units: str | None = None
) -> dict[str, list[str]]:
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


def resolve_simplify(simplify_m: Simplify, bounds: np.ndarray) -> float | None:
    """The display simplification in metres for ``simplify_m`` over ``bounds`` (None: none).

    ``"auto"`` grows with the extent (:func:`coterminus.outputs._simplify.auto_tolerance`); a number
    must be metres ≥ 0 (0 means none), else :class:`~coterminus.errors.ParameterError`.

    Examples
    --------
    >>> resolve_simplify(50, np.zeros(4)), resolve_simplify(0, np.zeros(4))
    (50.0, None)
    """
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


def check_request(
    geo: Geography,
    footprint: Sequence[str] | str | None,
    system: str | None,
    plan: PlanLike | None,
    assessment: Assessment | None,
    *,
    what: str = "map",
) -> None:
    """Refuse an assessment of another vintage, and a plan together with a footprint.

    Shared by :func:`map_layers` and :func:`coterminus.outputs.report.report_context` (``what`` names
    the map or the report in the message).

    Examples
    --------
    >>> check_request(geo, None, None, [["E38000038"]], None, what="report")
    >>> check_request(geo, ["E38000038"], None, [["E38000038"]], None)
    Traceback (most recent call last):
    ...
    coterminus.errors.ParameterError: give either plan= or a footprint (footprint/system/assessment), not both.
    """
    if (
        assessment is not None
        and assessment.geo is not geo
        and assessment.geo.vintage != geo.vintage
    ):
        msg = (
            f"the assessment is of the {assessment.geo.vintage} geography but the {what} is of "
            f"{geo.vintage}; pass geo=assessment.geo or assess the footprint again with "
            f"coterminus.analysis.assess.assess(geo, ...)."
        )
        raise VintageMismatchError(msg)
    if plan is not None and (footprint is not None or system is not None or assessment is not None):
        msg = "give either plan= or a footprint (footprint/system/assessment), not both."
        raise ParameterError(msg)


def check_tier_word(tier: str | None, geo: Geography | None = None) -> None:
    """Refuse a ``tier`` that is not "both"/"all"/None nor a level of ``geo`` (before any work).

    Examples
    --------
    >>> check_tier_word("both"), check_tier_word("utla", geo)
    (None, None)
    """
    if tier is None or tier in ALL_TIERS:
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


def check_tier(tier: str | None, against: Sequence[str], geo: Geography | None = None) -> list[str]:
    """The levels drawn for ``tier``: every level of ``against`` ("both"/"all"/None) or one.

    Examples
    --------
    >>> check_tier("both", ["utla", "ltla"]), check_tier("ltla", ["utla", "ltla"])
    (['utla', 'ltla'], ['ltla'])
    """
    check_tier_word(tier, geo)
    if tier is None or tier in ALL_TIERS:
        return list(against)
    level = geo.resolve_level(tier) if geo is not None else tier
    if level not in against:
        msg = (
            f"tier={tier!r}: the map is drawn against {', '.join(against)}; give one of them, "
            "'both' for all of them, or pass against= to draw another level."
        )
        raise ParameterError(msg)
    return [level]


def tier_name(geo: Geography, tier: Tier) -> Tier:
    """``tier`` as the geography's level name ("both", "all" and None unchanged).

    Examples
    --------
    >>> tier_name(geo, "both"), tier_name(geo, "utla")
    ('both', 'utla')
    """
    return tier if tier is None or tier in ALL_TIERS else geo.resolve_level(tier)
