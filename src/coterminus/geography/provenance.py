"""What every output says about its data: the vintage, the people counted, and the notes.

:func:`heading` is the first line of a command's text output (and a field of its JSON): the
vintage, the population the figures count (``Geography.population_label``) and the notes of the
levels the output uses (:meth:`Geography.notes`: a derived lookup, a named scenario's status and
source), so a table is never read without them.

Examples
--------
>>> heading(geo, "ccg", "utla")
'Vintage 2019; people: ONS mid-2019 population estimates (SAPE22DT2, persons, all ages).'
>>> print(heading(coterminus.load(2026), "icb"))  # doctest: +ELLIPSIS
Vintage 2026; people: Census 2021 usual residents (...). ICBs of April 2026 from a DERIVED lookup (...), not an ONS product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..data.criteria import CriteriaSet, merger_criteria
from ..vocabulary.words import cap

if TYPE_CHECKING:
    from .bundle import Geography

__all__ = ["era_criteria", "heading", "sentences"]


def sentences(texts: list[str]) -> str:
    """Texts as sentences: capitalised, each ending with a full stop, joined by spaces."""
    out = []
    for t in texts:
        t = cap(t.strip())
        if t:
            out.append(t if t.endswith((".", "!", "?")) else t + ".")
    return " ".join(out)


def heading(geo: Geography, *levels: str) -> str:
    """``"Vintage V; people: LABEL."`` followed by the notes of ``levels`` (all levels if none)."""
    return sentences(
        [f"Vintage {geo.vintage}; people: {geo.population_label}", *geo.notes(*levels)]
    )


def era_criteria(geo: Geography, level: str) -> CriteriaSet | None:
    """The non-geographic merger criteria of a level's era (``None`` when it has none).

    A level's own ``criteria`` (manifest, or the level vocabulary's default: CCGs the 2019 CCG
    merger procedure, ICBs the ICB one); a level without one — a scenario of merged ICBs, a
    grouping level — takes that of the finest level of its side that has one. Council levels
    have none.

    Examples
    --------
    >>> era_criteria(geo, "stp").key, era_criteria(coterminus.load(2026), "icb").key
    ('ccg-merger-2019', 'icb-merger-2025')
    """
    lv = geo.level(level)
    key = lv.criteria
    if key is None:
        same = [n for n, o in geo.levels.items() if o.side == lv.side and o.criteria]
        if same:
            key = geo.levels[max(same, key=lambda n: len(geo.units(n)))].criteria
    if key is None:
        return None
    return merger_criteria(key, unit=geo.label(level))
