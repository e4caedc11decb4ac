"""The non-geographic merger criteria of each era, as data (``criteria.toml``).

A merger application is judged on more than geography: clinical leadership, finance,
engagement, approvals. Those are evidenced by people, not maps, so coterminus lists them for the
authors of a board paper to complete and never scores them. Which list applies depends on the
era of the footprint's level — CCG mergers under NHS England's 2019 procedure, ICB mergers
under its procedure for ICB boundary changes and mergers — and a vintage manifest says which
with ``criteria = "<key>"`` on the level (``[levels.ccg]`` of 2019, ``[levels.icb]`` of 2026).
Nothing here branches on a year or a level name.

Examples
--------
>>> sorted(criteria_sets())
['ccg-merger-2019', 'icb-merger-2025']
>>> c = merger_criteria("icb-merger-2025", unit="ICB")
>>> c.items[0][0], "running-cost" in " ".join(n for n, _ in merger_criteria("ccg-merger-2019").items)
('Case for change', True)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import ManifestError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CriteriaSet", "criteria_sets", "merger_criteria"]

_FILE = "criteria.toml"


@dataclass(frozen=True)
class CriteriaSet:
    """One era's criteria: a title for the report section, its source, and (name, what) items."""

    key: str
    title: str
    source: str
    items: tuple[tuple[str, str], ...]


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = (resources.files(__package__ or "coterminus.data") / _FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def criteria_sets() -> dict[str, CriteriaSet]:
    """Every criteria set shipped, by key (items with ``{unit}`` left in place)."""
    return {
        key: CriteriaSet(
            key=key,
            title=str(raw["title"]),
            source=str(raw["source"]),
            items=tuple((str(i["name"]), str(i["what"])) for i in raw["items"]),
        )
        for key, raw in _raw().items()
    }


def merger_criteria(key: str, *, unit: str = "unit") -> CriteriaSet:
    """The criteria set ``key`` with ``{unit}`` filled in (e.g. ``unit="ICB"``).

    Raises
    ------
    ManifestError
        ``key`` is not a shipped set (a manifest naming an unknown ``criteria``); the message
        lists the keys.
    """
    sets = criteria_sets()
    if key not in sets:
        msg = (
            f"criteria = {key!r} is not a known set of merger criteria; use one of "
            f"{', '.join(sorted(sets))} in the manifest's level table."
        )
        raise ManifestError(msg)
    c = sets[key]
    items = tuple((n, w.format(unit=unit)) for n, w in c.items)
    return CriteriaSet(key=c.key, title=c.title, source=c.source, items=items)
