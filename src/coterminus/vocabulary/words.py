"""Words and numbers every layer shares: the place band, tolerances and how amounts are written.

One home for each so a label or a threshold cannot drift between the table, the text, the map
and the board report.

Examples
--------
>>> amount(108_935.2, "population"), amount(452_213_000.0, "area")
('108,935 people', '452.2 km²')
>>> band_text(371_521)
'within 250,000–500,000'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_TOLERANCE",
    "PLACE_BAND",
    "amount",
    "band_label",
    "band_text",
    "cap",
    "examples",
    "join_names",
    "number",
    "pct",
]

#: The place population band of NHS England's 2019 guidance (inclusive).
PLACE_BAND: tuple[int, int] = (250_000, 500_000)

#: Default ε by measure. Population is exact, so 0.5% only absorbs rounding; area from 500 m
#: generalised (BUC) ONS boundaries disagrees by ~2% on a whole county (see METHODS.md).
DEFAULT_TOLERANCE: dict[str, float] = {"population": 0.005, "area": 0.03}


def band_label(population: Any, band: tuple[int, int] = PLACE_BAND) -> Any:
    """``"below"``, ``"in band"`` or ``"above"`` the (inclusive) place band, elementwise.

    The one classification of the 250,000–500,000 band, used by places, mergers and reports.

    Examples
    --------
    >>> band_label(np.array([100_000, 250_000, 600_000])).tolist()
    ['below', 'in band', 'above']
    >>> str(band_label(500_000))
    'in band'
    """
    lo, hi = band
    p = np.asarray(population)
    return np.where(p < lo, "below", np.where(p > hi, "above", "in band"))


def band_text(population: float, band: tuple[int, int] = PLACE_BAND) -> str:
    """Where a population sits against the place band, in words with the band's figures.

    The same classification as :func:`band_label`.

    Examples
    --------
    >>> band_text(371_521), band_text(108_935), band_text(577_933)
    ('within 250,000–500,000', 'below 250,000', 'above 500,000')
    """
    lo, hi = band
    label = str(band_label(population, band))
    if label == "below":
        return f"below {lo:,}"
    if label == "above":
        return f"above {hi:,}"
    return f"within {lo:,}–{hi:,}"


def number(x: float, measure: str) -> str:
    """An amount of ``measure`` as written in tables: people whole, area in km² to 0.1.

    Examples
    --------
    >>> number(1_234.6, "population"), number(2_500_000, "area")
    ('1,235', '2.5 km²')
    """
    if measure == "population":
        return f"{round(float(x)):,}"
    return f"{float(x) / 1e6:,.1f} km²"


def amount(x: float, measure: str) -> str:
    """``"108,935 people"`` or ``"452.2 km²"``: :func:`number` with its unit.

    Examples
    --------
    >>> amount(3, "population")
    '3 people'
    """
    return f"{number(x, measure)} people" if measure == "population" else number(x, measure)


def pct(x: float) -> str:
    """A share as a percentage to 0.1.

    Examples
    --------
    >>> pct(0.98765)
    '98.8%'
    """
    return f"{float(x):.1%}"


def cap(text: str) -> str:
    """``text`` with its first letter in capitals (the rest untouched, unlike ``str.capitalize``).

    Examples
    --------
    >>> cap("the NHS footprint")
    'The NHS footprint'
    """
    return text[:1].upper() + text[1:]


def join_names(names: Sequence[str]) -> str:
    """Names joined as in prose: ``"A, B and C"``.

    Examples
    --------
    >>> join_names(["Coventry", "Warwickshire"]), join_names(["A", "B", "C"]), join_names([])
    ('Coventry and Warwickshire', 'A, B and C', '')
    """
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def examples(values: Any, k: int = 10) -> str:
    """The first ``k`` values and how many more, for messages: ``"A, B and 1,234 more"``.

    Examples
    --------
    >>> examples(["E1", "E2", "E3"], k=2), examples(range(1_240), k=3)
    ('E1, E2 and 1 more', '0, 1, 2 and 1,237 more')
    """
    vals = list(values)
    shown = ", ".join(map(str, vals[:k]))
    return shown + (f" and {len(vals) - k:,} more" if len(vals) > k else "")
