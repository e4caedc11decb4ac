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
area, ``name`` for its name; or simply those three columns in that order). One level per table:
all members are units of one level, or all are building blocks. An area code is a short code of
its own (letters, digits and ``_ . - /``, e.g. ``P1``), never the code of another existing area
(an unchanged unit assigned to itself keeps its own); its name can be any text. :func:`read_scenario_table` checks all this before any geography is
loaded; :func:`scenario` then checks the members against the geography. Proposed areas made of
building blocks need their side (``side="nhs"`` or ``"council"``): blocks belong to neither.

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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..data.inputs import input_problem
from ..data.readers import text_bytes, text_encoding
from ..errors import EncodingError, ScenarioError, UnknownAreaError
from ..vocabulary.levels import KNOWN_LEVELS, code_levels, default_level
from ..vocabulary.words import examples
from .named import named_parts

if TYPE_CHECKING:
    from .bundle import Geography

__all__ = ["SIDES", "block_members", "read_scenario_table", "scenario"]

_MEMBER = ("member", "code", "unit", "lsoa", "from")
_AREA = ("area", "new", "proposed", "to", "area_code")
_NAME = ("area_name", "name", "new_name", "proposed_name")

#: The sides a proposed area can be on, with what each means for the assessment.
SIDES = {
    "nhs": "proposed NHS areas, assessed against the councils",
    "council": "proposed councils, which NHS footprints are assessed against",
}
#: Largest scenario file read: every LSOA of England with long names is a few MB.
MAX_SCENARIO_BYTES = 100_000_000
#: An area code: letters, digits and ``_ . - /`` after a letter or digit (so never a spreadsheet
#: formula, which starts with ``=``, ``+``, ``-`` or ``@``), at most 40 characters.
AREA_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}")
#: What looks like an ONS code (a letter and digits) but is not one (a letter and 8 digits).
_ONS_LIKE = re.compile(r"[ENSWK]\d{4,12}", re.IGNORECASE)
_ONS = re.compile(r"[A-Z]\d{8}")


def _read_file(path: Path) -> pd.DataFrame:
    """The cells of a scenario CSV, as text (empty cells are empty strings)."""
    problem = input_problem(path, max_bytes=MAX_SCENARIO_BYTES)
    if problem is not None:
        kind, words = problem
        fix = {
            "folder": "give the CSV file inside it",
            "large": "a scenario lists members and areas (every LSOA of England is a few MB); "
            "check that it is the scenario CSV",
        }.get(kind, "check the path")
        msg = f"scenario file {str(path)!r} {words}; {fix}."
        raise ScenarioError(msg)
    data = text_bytes(path)
    if not data.strip():
        msg = (
            f"scenario file {path} is empty; it needs a header line (member,area,area_name) and "
            "one line per member: the unit (or LSOA) and the code of the area it joins."
        )
        raise ScenarioError(msg)
    try:
        encoding = text_encoding(data, path.name)
    except EncodingError as exc:
        msg = f"scenario file {path}: {exc}"
        raise ScenarioError(msg) from exc
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding=encoding)
    except (pd.errors.ParserError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        msg = (
            f"scenario file {path} is not a CSV table coterminus can read ({detail}); save it as "
            "CSV with the columns member,area[,area_name]."
        )
        raise ScenarioError(msg) from exc


def _text(column: pd.Series) -> pd.Series:
    """Cells as stripped text, with missing values (None, NaN, NA) as empty strings."""
    return column.astype(object).where(column.notna(), "").astype(str).str.strip()


def _rows(mask: pd.Series) -> str:
    """Row numbers as a person counts them in the file (header = row 1), for messages."""
    return examples([int(i) + 2 for i in mask.index[mask.to_numpy()]])


def _level_words(levels: tuple[str, ...]) -> str:
    """``("stp", "icb")`` → ``"STPs/ICSs or ICBs"``; ``("lsoa11", "lsoa21")`` → ``"LSOAs"``."""
    words = [re.sub(r" \(\d{4}\)", "", KNOWN_LEVELS.get(lv, {}).get("plural", lv)) for lv in levels]
    return " or ".join(dict.fromkeys(words))


def _one_level(members: Iterable[str]) -> str | None:
    """A grouped message when the members' ONS codes belong to no single level, else ``None``.

    Each code's possible levels come from its prefix (:data:`~coterminus.vocabulary.levels.
    CODE_LEVELS`: E06 is a lower and an upper tier council, E07 only a lower tier one); the
    members fit one level when the sets share one. NHS codes and names are left to the geography.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for code in members:
        levels = code_levels(code) if _ONS.fullmatch(code) else ()
        if levels:
            groups.setdefault(levels, []).append(code)
    if len(groups) < 2 or set.intersection(*(set(g) for g in groups)):
        return None
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    if len(ranked) == 2:
        (first, many), (second, few) = ranked
        head = (
            f"{len(many):,} codes are {_level_words(first)}; the rest ({len(few):,}) are "
            f"{_level_words(second)}"
        )
    else:
        head = "; ".join(f"{len(codes):,} are {_level_words(lv)}" for lv, codes in ranked)
    shown = "; ".join(
        f"{_level_words(lv)}: {examples(dict.fromkeys(codes))}" for lv, codes in ranked
    )
    return f"{head}: use one level per file ({shown})"


def read_scenario_table(table: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read a scenario table and check it, before (and without) any geography.

    The one reading of a scenario (a CSV file or a DataFrame): columns are found by name (or
    position), cells become text, and everything that can be known without the geography is
    checked — every problem in one message.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``area`` and ``area_name`` (text, stripped; a missing name is the
        area's code), one row per row of the table.

    Raises
    ------
    ScenarioError
        An empty, unreadable or oversized file; missing columns; no rows; rows with no member or
        no area (empty, None, NaN); an area code that is not a code (``AREA_CODE``: letters,
        digits and ``_ . - /``, so never a spreadsheet formula); an ONS-like member code of the
        wrong length (``E5400063``); members of more than one level (``95 codes are LSOAs; the
        rest (3) are STPs/ICSs or ICBs: use one level per file``). At most 10 examples of each,
        with the count.

    Examples
    --------
    >>> read_scenario_table(pd.DataFrame({"member": ["QWU", None], "area": ["P1", "P1"]}))
    Traceback (most recent call last):
    ...
    coterminus.errors.ScenarioError: the scenario table has 1 problem(s): 1 row(s) with no member (row 3): ...
    """
    if isinstance(table, (str, Path)):
        raw = _read_file(Path(table))
    elif isinstance(table, pd.DataFrame):
        raw = table
    else:
        msg = (
            f"a scenario table is a DataFrame or the path of a CSV file, not a "
            f"{type(table).__name__}."
        )
        raise ScenarioError(msg)
    lower = {re.sub(r"[\s_\-]+", "_", str(c).strip().lower()): c for c in raw.columns}

    def pick(words: tuple[str, ...]) -> Any:
        return next((lower[w] for w in words if w in lower), None)

    member, area, name = pick(_MEMBER), pick(_AREA), pick(_NAME)
    if member is None or area is None:
        if len(raw.columns) in (2, 3):
            member, area = raw.columns[0], raw.columns[1]
            name = raw.columns[2] if len(raw.columns) == 3 else None
        else:
            msg = (
                f"the scenario table needs a member column and an area column (e.g. member, area, "
                f"area_name); its columns are {list(raw.columns)[:10]}."
            )
            raise ScenarioError(msg)
    if raw.empty:
        msg = "the scenario table has no rows; list each member and the area it joins."
        raise ScenarioError(msg)
    out = pd.DataFrame({"member": _text(raw[member]), "area": _text(raw[area])})
    out.index = pd.RangeIndex(len(out))
    out["area_name"] = _text(raw[name]).to_numpy() if name is not None else out["area"]
    out.loc[out["area_name"] == "", "area_name"] = out["area"]
    problems = _table_problems(out)
    if problems:
        msg = f"the scenario table has {len(problems)} problem(s): " + " | ".join(problems) + "."
        raise ScenarioError(msg)
    return out


def _table_problems(t: pd.DataFrame) -> list[str]:
    problems = []
    for col, what in (("member", "member"), ("area", "area")):
        empty = t[col] == ""
        if empty.any():
            problems.append(
                f"{int(empty.sum()):,} row(s) with no {what} ({'row' if empty.sum() == 1 else 'rows'} "
                f"{_rows(empty)}): give every row a member and the code of the area it joins"
            )
    areas = t.loc[t["area"] != "", "area"]
    bad = sorted(set(areas[~areas.map(lambda a: bool(AREA_CODE.fullmatch(a)))]))
    if bad:
        problems.append(
            f"{len(bad):,} area code(s) are not codes ({examples(repr(b)[:45] for b in bad)}): an "
            "area code is a letter or digit then letters, digits, _ . - or / (at most 40), e.g. "
            "P1; put the area's name in area_name"
        )
    members = t.loc[t["member"] != "", "member"]
    typos = sorted({m for m in members if _ONS_LIKE.fullmatch(m) and not _ONS.fullmatch(m.upper())})
    if typos:
        problems.append(
            f"{len(typos):,} member(s) look like ONS codes but are not ({examples(typos)}): an "
            "ONS code is a letter and 8 digits, e.g. E54000018"
        )
    mixed = _one_level(members.str.upper())
    if mixed:
        problems.append(mixed)
    return problems


def block_members(table: pd.DataFrame) -> bool:
    """Whether a table read by :func:`read_scenario_table` lists building blocks (LSOA codes).

    Decided from the codes' prefix alone (no geography needed).

    Examples
    --------
    >>> block_members(pd.DataFrame({"member": ["E01000001", "e01000002"]}))
    True
    """
    levels = {code_levels(m) for m in table["member"].str.upper() if _ONS.fullmatch(m)}
    return bool(levels) and all(
        lv and all(KNOWN_LEVELS.get(x, {}).get("side") == "block" for x in lv) for lv in levels
    )


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
        ``"nhs"`` for proposed NHS areas (assessed against the councils), ``"council"`` for
        proposed councils (NHS footprints assessed against them). Default: the side of the
        members' level; required when the members are building blocks (LSOAs), which belong to
        neither side.
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
        Everything :func:`read_scenario_table` refuses; then, in one message: unknown members
        (with the nearest names), members assigned more than once, areas with several names,
        area codes that are already codes of existing areas, and gaps; a block scenario without
        ``side``.

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
    if side is not None and side not in SIDES:
        msg = f"side={side!r}; use 'nhs' ({SIDES['nhs']}) or 'council' ({SIDES['council']})."
        raise ScenarioError(msg)
    t = read_scenario_table(table)
    problems: list[str] = []
    member_level = geo.resolve_level(units) if units else None
    blocks = geo.lsoa.index
    is_block = member_level is None and bool(t["member"].str.upper().isin(blocks).all())
    if is_block and side is None:
        msg = (
            f"the members of scenario {name!r} are building blocks ({geo.block}), which are on "
            f"neither side, so say which side its areas are on: side='nhs' for {SIDES['nhs']}, "
            f"or side='council' for {SIDES['council']} (CLI: --scenario-side nhs|council)."
        )
        raise ScenarioError(msg)
    codes: list[str | None] = []
    if is_block:
        codes = list(t["member"].str.upper())
    else:
        unknown: list[tuple[str, str]] = []
        for q in t["member"]:
            try:
                codes.append(geo.code(q, member_level))
            except UnknownAreaError as exc:
                codes.append(None)
                unknown.append((q, str(exc.args[0]) if exc.args else str(exc)))
        if unknown:
            problems.append(_unknown_members(unknown))
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
        listing = examples(
            f"{c} → {', '.join(sorted(set(g['area'])))}" for c, g in dup.groupby("code")
        )
        problems.append(f"{dup['code'].nunique()} member(s) assigned more than once: {listing}")
    names_per_area = known.groupby("area")["area_name"].nunique()
    clash = names_per_area[names_per_area > 1]
    if len(clash):
        problems.append(f"area(s) with several names: {examples(clash.index)}")
    taken = _existing_codes(geo, known, member_level, is_block)
    if taken:
        problems.append(
            f"{len(taken)} area code(s) are already codes of existing areas "
            f"({examples(taken, k=5)}); give proposed areas codes of their own, e.g. P1, P2 (an "
            "area with an existing code would be taken for that area)"
        )
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


def _unknown_members(unknown: list[tuple[str, str]]) -> str:
    """Unknown members in one short message: three explained (with their nearest names), the
    others listed, with the count."""
    explained = "; ".join(" ".join(text.split()) for _, text in unknown[:3])
    rest = [q for q, _ in unknown[3:]]
    more = f"; also unknown: {examples(rest, k=7)}" if rest else ""
    return f"{len(unknown)} unknown member(s): {explained}{more}"


def _existing_codes(
    geo: Geography, known: pd.DataFrame, member_level: str | None, is_block: bool
) -> list[str]:
    """Area codes (any case) that are the code or NHS code of an existing unit, or a block's,
    each with what it is; an area that *is* that unit (the same blocks: an unchanged unit
    assigned to itself) may keep its code."""
    wanted = {a.upper(): a for a in known["area"].unique()}
    hits: list[tuple[str, str | None, str]] = []  # (area, level or None for a block, code)
    for name in geo.level_names:
        units = geo.units(name)
        lookup = {str(c).upper(): str(c) for c in units.index}
        if "nhs_code" in units.columns:
            nhs = units["nhs_code"].dropna()
            lookup.update({str(n).upper(): str(c) for c, n in nhs.items()})
        for hit in sorted(set(lookup) & set(wanted)):
            hits.append((wanted.pop(hit), name, lookup[hit]))
    blocks_upper = set(geo.lsoa.index.str.upper())
    hits += [(wanted[b], None, wanted[b].upper()) for b in sorted(set(wanted) & blocks_upper)]
    out = []
    for area, level, code in hits:
        members = known.loc[known["area"] == area, "code"]
        if is_block or member_level is None:
            inside = set(members)
        else:
            inside = set(geo.lsoa.index[geo.lsoa[member_level].isin(members)])
        same = set(geo.lsoa.index[geo.lsoa[level] == code]) if level else {code}
        if inside == same:
            continue  # the existing unit itself, unchanged
        what = f"{geo.label(level)} {geo.name(code)} ({code})" if level else "a building block"
        out.append(f"{area} is {what}")
    return out


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
