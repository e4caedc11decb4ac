"""Scenarios: proposed areas (merged ICBs, new unitary councils) as one more level.

A planner describes proposed areas as a table of *members* and the *area* each joins:

* whole units of an existing level — ICB codes → proposed merged ICB, LTLA codes → proposed
  unitary council (names and NHS codes work too); or
* building blocks — LSOA codes → new area, for options that split today's districts.

:func:`scenario` checks the table (every member known and assigned exactly once, no gaps among
the units that share a parent with an assigned one — all problems reported at once, with the
offending codes) and returns a new :class:`~coterminus.geography.bundle.Geography` with the proposed
areas as a level usable everywhere: as footprints to assess, as a level to assess against, on
maps, in reports and in :func:`coterminus.diff` against the vintage.

The table is a DataFrame or a CSV file with columns ``member``, ``area`` and optionally
``area_name`` (other spellings: ``code``/``unit`` for the member, ``new``/``proposed`` for the
area, ``name`` for its name; or simply those three columns in that order).

Examples
--------
>>> import coterminus, pandas as pd
>>> geo = coterminus.load(2024)
>>> plan = pd.DataFrame({"member": ["QWU", "QJ2"], "area": ["P1", "P1"],
...                      "area_name": ["Coventry, Warwickshire and Derbyshire"] * 2})
>>> geo2 = scenario(geo, "proposed_icb", plan, complete=False)
>>> geo2.units("proposed_icb")[["name", "population"]]
                                       name  population
code
P1    Coventry, Warwickshire and Derbyshire     1998067
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..data.readers import text_bytes, text_encoding
from ..errors import EncodingError, ScenarioError, UnknownAreaError
from ..vocabulary.levels import default_level
from ..vocabulary.words import examples
from .named import named_parts

if TYPE_CHECKING:
    from .bundle import Geography

__all__ = ["read_scenario_table", "scenario"]

_MEMBER = ("member", "code", "unit", "lsoa", "from")
_AREA = ("area", "new", "proposed", "to", "area_code")
_NAME = ("area_name", "name", "new_name", "proposed_name")


def read_scenario_table(table: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read a scenario table into columns ``member``, ``area``, ``area_name`` (text).

    Raises
    ------
    ScenarioError
        Missing columns or an unreadable file (the message names what was found).
    """
    if isinstance(table, (str, Path)):
        path = Path(table)
        if not path.is_file():
            msg = f"scenario file {str(path)!r} does not exist; check the path."
            raise ScenarioError(msg)
        data = text_bytes(path)
        try:
            encoding = text_encoding(data, path.name)
        except EncodingError as exc:
            msg = f"scenario file {path}: {exc}"
            raise ScenarioError(msg) from exc
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding=encoding)
    else:
        raw = table.astype(str)
    lower = {re.sub(r"[\s_\-]+", "_", str(c).strip().lower()): c for c in raw.columns}

    def pick(words: tuple[str, ...]) -> str | None:
        return next((lower[w] for w in words if w in lower), None)

    member, area, name = pick(_MEMBER), pick(_AREA), pick(_NAME)
    if member is None or area is None:
        if len(raw.columns) in (2, 3):
            member, area = raw.columns[0], raw.columns[1]
            name = raw.columns[2] if len(raw.columns) == 3 else None
        else:
            msg = (
                f"the scenario table needs a member column and an area column (e.g. member, area, "
                f"area_name); its columns are {list(raw.columns)}."
            )
            raise ScenarioError(msg)
    out = pd.DataFrame(
        {
            "member": raw[member].astype(str).str.strip(),
            "area": raw[area].astype(str).str.strip(),
        }
    )
    out["area_name"] = raw[name].astype(str).str.strip() if name is not None else out["area"]
    out.loc[out["area_name"] == "", "area_name"] = out["area"]
    return out


def scenario(
    geo: Geography,
    name: str | None,
    table: pd.DataFrame | str | Path | None = None,
    *,
    side: str | None = None,
    label: str | None = None,
    plural: str | None = None,
    units: str | None = None,
    complete: bool = True,
) -> Geography:
    """Add proposed areas to a geography as a new level (the geography itself is unchanged).

    Parameters
    ----------
    geo : Geography
    name : str
        Name of the new level (lower-case word, e.g. ``"proposed_icb"``); or, with no
        ``table``, the name of a scenario shipped with coterminus (``"icb-clusters-2027"``,
        ``"lgr-surrey-2027"``, ``"sa-proposed-2026"``; ``coterminus scenarios`` lists them),
        whose status and source every output then prints.
    table : DataFrame, str or Path, optional
        Members and the area each joins (see the module docstring), or the name of a shipped
        scenario.
    side : {"nhs", "council"}, optional
        Default: the side of the members' level (``"council"`` for building blocks).
    label, plural : str, optional
        Words for outputs (default from ``name``).
    units : str, optional
        Level of the members, when their codes could belong to several.
    complete : bool, default True
        Require every unit that shares a parent with an assigned unit to be assigned too (no
        gaps). With ``False`` the proposed areas may cover part of an existing group.

    Returns
    -------
    Geography
        With one more level, ``name``, whose polygons are dissolved from the members' on first
        use.

    Raises
    ------
    ScenarioError
        Every unknown code (with the nearest names), double assignment and gap, in one message.

    Notes
    -----
    Each proposed area is the union of its members' building blocks, so every measure of it is
    exact by population, like any ONS level. Gaps: for units of level L, every unit of L whose
    parent (the level grouping L) also holds an assigned unit; for blocks, every block of a
    lower-tier council (the finest council level) that holds an assigned block.
    """
    notes: tuple[str, ...] = ()
    named = named_parts(geo, name, table)  # a shipped scenario, by name
    if named is not None:
        name, table, options = named
        units, notes = units or options["units"], options["notes"]
        label, plural = label or options["label"], plural or options["plural"]
    name = name or "scenario"
    assert table is not None
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        msg = f"scenario name {name!r} must be a lower-case word (letters, digits, _), e.g. 'proposed_icb'."
        raise ScenarioError(msg)
    if name in geo.levels:
        msg = f"{geo.vintage} already has a level {name!r}; give the scenario another name."
        raise ScenarioError(msg)
    t = read_scenario_table(table)
    if t.empty:
        msg = "the scenario table has no rows; list each member and the area it joins."
        raise ScenarioError(msg)
    problems: list[str] = []
    member_level = geo.resolve_level(units) if units else None
    blocks = geo.lsoa.index
    is_block = member_level is None and t["member"].str.upper().isin(blocks).all()
    codes: list[str | None] = []
    if is_block:
        codes = list(t["member"].str.upper())
    else:
        unknown = []
        for q in t["member"]:
            try:
                codes.append(geo.code(q, member_level))
            except UnknownAreaError as exc:
                codes.append(None)
                unknown.append(str(exc.args[0]) if exc.args else str(exc))
        if unknown:
            problems.append(f"{len(unknown)} unknown member(s): " + "; ".join(unknown))
        if member_level is None:
            found = [c for c in codes if c is not None]
            member_level = _common_level(geo, found) if found else None
            if found and member_level is None:
                by = {c: [n for n in geo.level_names if c in geo.units(n).index] for c in found[:5]}
                problems.append(
                    f"the members are not all of one level ({by}); pass units= (--units) or use "
                    "codes of one level"
                )
    t["code"] = codes
    known = t.dropna(subset=["code"])
    dup = known[known["code"].duplicated(keep=False)]
    if len(dup):
        listing = "; ".join(
            f"{c} → {', '.join(sorted(set(g['area'])))}" for c, g in dup.groupby("code")
        )
        problems.append(f"{dup['code'].nunique()} member(s) assigned more than once: {listing}")
    names_per_area = known.groupby("area")["area_name"].nunique()
    clash = names_per_area[names_per_area > 1]
    if len(clash):
        problems.append(f"area(s) with several names: {list(clash.index[:5])}")
    if complete and not problems:
        gaps = _gaps(geo, member_level if not is_block else None, set(known["code"]))
        if gaps:
            shown = examples([f"{c} ({geo.name(c)})" for c in gaps[:10]] + list(gaps[10:]))
            problems.append(
                f"{len(gaps)} gap(s): {shown} share a parent with assigned members but are "
                "not assigned; assign each (to itself if unchanged), or pass complete=False "
                "(--partial) for a scenario covering part of a group"
            )
    if problems:
        msg = f"scenario {name!r} has {len(problems)} problem(s): " + " | ".join(problems) + "."
        raise ScenarioError(msg)
    mapping = known.drop_duplicates("code").set_index("code")["area"]
    area_names = (
        known.drop_duplicates("area")
        .set_index("area")[["area_name"]]
        .rename(columns={"area_name": "name"})
    )
    area_names.index.name = "code"
    if is_block:
        assignment = mapping.reindex(geo.lsoa.index)
        members = None
        base_side = "council"
    else:
        assert member_level is not None
        assignment = geo.lsoa[member_level].map(mapping)
        members = (member_level, mapping)
        base_side = geo.levels[member_level].side
    level = default_level(
        name,
        block=geo.block,
        side=(side or base_side),  # type: ignore[arg-type]
        label=label,
        plural=plural,
        notes=notes,
        scenario=True,  # type: ignore[arg-type]
    )
    return geo.with_level(level, assignment, area_names, members=members)


def _common_level(geo: Geography, codes: list[str]) -> str | None:
    """The finest level holding every code (unitary councils are both tiers)."""
    holding = [n for n in geo.level_names if all(c in geo.units(n).index for c in codes)]
    if not holding:
        return None
    return max(holding, key=lambda n: len(geo.units(n)))


def _gaps(geo: Geography, level: str | None, assigned: set[str]) -> list[str]:
    if level is not None:
        parent = geo.parent(level)
        if parent is None:
            return sorted(set(geo.units(level).index) - assigned)
        units = geo.units(level)
        par = units[parent] if parent in units.columns else None
        if par is None:
            return []
        groups = set(par.reindex(list(assigned)).dropna())
        return sorted(set(units.index[par.isin(groups)]) - assigned)
    councils = geo.side("council")
    if not councils:
        return []
    finest = max(councils, key=lambda n: len(geo.units(n)))
    touched = set(geo.lsoa.loc[list(assigned), finest].dropna())
    inside = geo.lsoa.index[geo.lsoa[finest].isin(touched)]
    missing = sorted(set(inside) - assigned)
    return missing
