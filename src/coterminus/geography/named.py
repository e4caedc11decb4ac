"""A named scenario (:mod:`coterminus.data.scenarios`) as the rows and options of a scenario level.

:func:`coterminus.scenario` calls :func:`named_parts` first: when the name (or the table
argument) is a shipped scenario, it returns the level name, the ``member, area, area_name`` rows
— with the units the file does not list keeping their area of the catalogue's ``base`` level, so
a reported merger of some ICBs becomes a complete set of ICBs — and the options the scenario
level is made with (member level, words, and the status-and-source note every output prints).

Examples
--------
>>> import coterminus
>>> geo = coterminus.load(2026)
>>> level, rows, options = named_parts(geo, "icb-clusters-2027", None)
>>> level, len(rows), rows["area"].nunique(), options["units"]
('icb_2027', 36, 26, 'icb')
>>> named_parts(geo, "my_level", "plan.csv") is None
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..data.scenarios import NamedScenario, catalogue, named_scenario

if TYPE_CHECKING:
    from .bundle import Geography

__all__ = ["named_parts", "with_base"]


def with_base(geo: Geography, entry: NamedScenario) -> pd.DataFrame:
    """The scenario's rows, plus one row for each unit of the member level it does not list.

    A unit not listed keeps its area of ``entry.base``: itself when the base is the member level
    (an ICB not in any cluster stays as it is), else the base unit it lies wholly in (a district
    not in a proposed authority keeps its authority; a district in none stays out).
    """
    rows = entry.table()
    if entry.base is None:
        return rows
    members = geo.resolve_level(entry.members)
    base = geo.resolve_level(entry.base)
    listed = set(rows["member"].str.strip().str.upper())
    units = geo.units(members)
    others = [c for c in units.index if c.upper() not in listed]
    if base == members:
        area = pd.Series(others, index=others, dtype=object)
    else:
        sub = geo.lsoa[[members, base]].dropna(subset=[members])
        sub = sub[sub[members].isin(others)]
        whole = sub.groupby(members)[base].agg(["first", "nunique", "count", "size"])
        single = (whole["nunique"] == 1) & (whole["count"] == whole["size"])  # wholly in one
        area = whole.loc[single, "first"]
    names = geo.units(base)["name"]
    extra = pd.DataFrame(
        {
            "member": [str(c) for c in area.index],
            "area": [str(a) for a in area.to_numpy()],
            "area_name": [str(names.get(a, a)) for a in area.to_numpy()],
        }
    )
    return pd.concat([rows, extra], ignore_index=True)


def asks_for_named(text: object) -> bool:
    """Whether a ``--scenario`` value asks for a shipped scenario: a catalogue name, or what
    looks like one (no folder, no file suffix) and is not an existing file.

    Examples
    --------
    >>> asks_for_named("icb-clusters-2027"), asks_for_named("plans/proposal.csv")
    (True, False)
    """
    if not isinstance(text, str) or Path(text).exists():
        return False
    t = text.strip()
    return t in catalogue() or ("/" not in t and "\\" not in t and not Path(t).suffix)


def named_parts(
    geo: Geography, name: str | None, table: Any
) -> tuple[str, pd.DataFrame, dict[str, Any]] | None:
    """``(level name, rows, options)`` when a named scenario is asked for, else ``None``.

    A named scenario is asked for by ``scenario(geo, NAME)`` (no table; the level takes the
    catalogue's name for it) or by a table argument that is a catalogue name and not an existing
    file (``--scenario icb-clusters-2027``; the level is ``name`` when given).

    Raises
    ------
    ScenarioError
        ``scenario(geo, NAME)`` with no table and a name that is not in the catalogue (the message
        gives the nearest name).
    """
    if table is None:
        entry = named_scenario(str(name))
        level = entry.level
    elif asks_for_named(table):
        entry = named_scenario(str(table))  # a misspelt name gets the nearest name, not "no file"
        level = name or entry.level
    else:
        return None
    options = {
        "units": entry.members,
        "label": entry.label,
        "plural": entry.plural,
        "notes": (entry.note,),
    }
    return level, with_base(geo, entry), options
