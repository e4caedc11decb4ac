"""A merger question made concrete, for any engine: units, scoring and rules on plain arrays.

:func:`prepare_problem` turns a geography (or overlap tables), a system or a list of units and
:class:`~coterminus.plans.constraints.Constraints` into a :class:`Problem`: the units and their
groups, the adjacency graph, the :class:`~coterminus.plans.objective.Objective` (levels as
units × areas people matrices, today's footprints, band, weights) and the
:class:`~coterminus.plans.rules.Rules`. The exhaustive engine builds its table of all ``2**n``
blocks from it (:mod:`coterminus.plans.tables`); an optimiser enumerates candidate blocks and
scores them with :func:`coterminus.plans.objective.score_blocks`. Nothing here depends on ``n``
being small.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.adjacency import adjacency, apply_overrides, neighbour_masks, validate_overrides
from ..analysis.assess import default_against
from ..analysis.metrics import check_tolerance
from ..analysis.overlap import overlap
from ..errors import FootprintError, ParameterError, UnknownAreaError, VintageMismatchError
from ..vocabulary.levels import block_size
from .constraints import Constraints
from .objective import Objective, TargetLevel
from .rules import Rules

if TYPE_CHECKING:
    import geopandas as gpd

    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography

__all__ = ["Band", "Problem", "prepare_problem", "unit_codes"]


@dataclass(frozen=True)
class Band:
    """The population band of the blocks and where it came from (for every output)."""

    low: float
    high: float
    soft: bool
    #: Words: "1,000,000–2,964,110 people (ICB-sized: from 1,000,000 to the largest ICB of 2024,
    #: NHS North East and North Cumbria ICB), a rule".
    text: str

    @property
    def pair(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True, eq=False)
class Problem:
    """One merger question on plain arrays (see the module notes).

    Attributes
    ----------
    code, name : str or None, str
        The system (``None`` and "custom set of units" for a list of units).
    vintage : int, str or None
    units, unit_label, unit_plural : str
        Level of the units and its words (``"icb"``, ``"ICB"``, ``"ICBs"``).
    block_label, block_plural : str
        What a block becomes (``"unitary council"`` for lower-tier councils; the units' words
        when the level has no :data:`~coterminus.vocabulary.levels.BLOCK_SIZES` entry).
    codes, names, nhs_codes : tuple of str
        The units, in bit order (unit ``i`` is bit ``i`` of a block mask).
    groups : numpy.ndarray of int64, shape (n,)
        Index of each unit's group (``group_codes``); blocks stay within one unless ``across``.
    group_codes : tuple of str
    edges : pandas.DataFrame or None
        Adjacency edges (``a``, ``b``, ``adjacent``, ...) used for contiguity.
    neighbours : tuple of int
        Neighbour bitmask of each unit (after overrides; empty without contiguity).
    objective : Objective
    rules : Rules
    band : Band
    labels : dict of str to str
        Plural words of every level named (scored or constrained), by level name.
    constraints : dict
        The constraints in force, as plain values (for outputs and files).
    """

    code: str | None
    name: str
    vintage: int | str | None
    units: str
    unit_label: str
    unit_plural: str
    block_label: str
    block_plural: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    nhs_codes: tuple[str, ...]
    groups: np.ndarray
    group_codes: tuple[str, ...]
    edges: pd.DataFrame | None
    neighbours: tuple[int, ...]
    objective: Objective
    rules: Rules
    band: Band
    labels: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def measure(self) -> str:
        return self.objective.measure

    @property
    def tolerance(self) -> float:
        return self.objective.tolerance

    @property
    def against(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.objective.levels)

    def words(self, count: int) -> str:
        """``"1 ICB"``, ``"3 ICBs"``: a count of units with singular or plural."""
        return f"{count} {self.unit_label if count == 1 else self.unit_plural}"

    def block_words(self, count: int) -> str:
        """``"1 unitary council"``, ``"2 unitary councils"``: a count of blocks."""
        return f"{count} {self.block_label if count == 1 else self.block_plural}"


# ---------------------------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------------------------
def unit_codes(geo: Geography, queries: Sequence[str], level: str | None = None) -> list[str]:
    """Codes of units given by code, NHS code or name (every unknown one named at once)."""
    out: list[str] = []
    problems: list[str] = []
    other: list[str] = []
    for q in queries:
        try:
            out.append(geo.code(str(q), level=level))
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(q))
            (other if hint else problems).append(hint or str(exc.args[0] if exc.args else exc))
    if other:
        msg = f"unit(s) of another vintage given for {geo.vintage}: " + "; ".join(other)
        raise VintageMismatchError(msg)
    if problems:
        raise UnknownAreaError("; ".join(problems))
    return out


def _resolve_units(
    geo: Geography,
    system: str | None,
    members: Sequence[str] | None,
    unit_level: str | None,
    within: str | None,
) -> tuple[str | None, str, list[str], str]:
    """System code/name, the unit codes and their level, with vintage and membership checks."""
    code = None
    name = "custom set of units"
    found: list[str] | None = None
    if system is not None:
        glevel = within
        if glevel is None and unit_level is None:
            glevel = geo.manifest.defaults.get("systems") if geo.manifest is not None else None
        try:
            code = geo.code(system, glevel) if glevel else geo.code(system)
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(system))
            if hint:
                msg = f"{system!r} is not a {geo.vintage} group: {hint}"
                raise VintageMismatchError(msg) from exc
            raise
        glevel = geo.level_of_group(code, glevel)
        name = geo.name(code)
        found = list(geo.members(code, unit_level, within=glevel))
        if unit_level is None and found:
            unit_level = geo.level_of(found[0])
    if members is not None:
        items = [members] if isinstance(members, str) else list(members)
        codes = unit_codes(geo, items, unit_level)
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            msg = f"members list {dupes} more than once; give each unit once."
            raise FootprintError(msg)
        if unit_level is None and codes:
            unit_level = geo.level_of(codes[0])
        if found is not None:
            outside = [c for c in codes if c not in found]
            if outside:
                where = ", ".join(f"{c} ({geo.name(c)})" for c in outside)
                msg = (
                    f"{len(outside)} unit(s) are not in {name} ({code}) in {geo.vintage}: {where}. "
                    f"Its units are {found}; drop the system to mix groups (blocks then stay "
                    "within one group unless across=True)."
                )
                raise FootprintError(msg)
        found = codes
    if found is None:
        msg = "give system= (a name or code) or members= (codes or names of units)"
        raise ParameterError(msg)
    if not found or unit_level is None:
        msg = f"{name} has no units of {unit_level or 'a finer level'} in {geo.vintage}"
        raise FootprintError(msg)
    return code, name, found, unit_level


def _matrix(table: OverlapTable, codes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Units × areas of an overlap table (rows ``codes``, whole people or m²), area codes."""
    pairs = table.pairs[table.pairs["unit"].isin(codes)]
    areas = sorted(pairs["target"].astype(str).unique().tolist())
    mat = np.zeros((len(codes), len(areas)), dtype=np.int64)
    np.add.at(
        mat,
        (
            pd.Categorical(pairs["unit"], categories=list(codes)).codes,
            pd.Categorical(pairs["target"].astype(str), categories=areas).codes,
        ),
        np.rint(pairs["value"].to_numpy(dtype=float)).astype(np.int64),
    )
    return mat, areas


def target_level(
    table: OverlapTable,
    codes: Sequence[str],
    name: str,
    *,
    label: str,
    plural: str,
    area_names: Mapping[str, str] | None = None,
) -> TargetLevel:
    """A :class:`TargetLevel` from an overlap table: the areas the units touch, judged on their
    people in the units (``totals``), with their whole population kept for words (``whole``)."""
    mat, areas = _matrix(table, codes)
    whole = np.rint(table.target_totals.reindex(areas).to_numpy(dtype=float)).astype(np.int64)
    inside = mat.sum(axis=0)
    names = tuple(str((area_names or {}).get(a, a)) for a in areas)
    return TargetLevel(
        name, label, plural, tuple(areas), names, mat, inside, whole=np.maximum(whole, inside)
    )


# ---------------------------------------------------------------------------------------------
# the band
# ---------------------------------------------------------------------------------------------
def _band(geo: Geography | None, units: str, c: Constraints) -> Band:
    """The band of the constraints, with the units' level defaults for what is not given."""
    rule = block_size(units)
    lo_default: float = 0.0
    hi_default: float = math.inf
    why: list[str] = []
    if rule is not None:
        lo_default = float(rule.min_pop)
        if rule.max_pop is not None:
            hi_default = float(rule.max_pop)
        elif rule.max_of is not None and geo is not None and rule.max_of in geo.levels:
            table = geo.units(rule.max_of)
            top = str(table["population"].idxmax())
            hi_default = float(table["population"].max())
            largest = f"the largest {geo.label(rule.max_of)} of {geo.vintage}, {geo.name(top)}"
            why.append(f"to {largest}")
    lo = lo_default if c.min_pop is None else float(c.min_pop)
    hi = hi_default if c.max_pop is None else float(c.max_pop)
    soft = (rule.soft if rule is not None else False) if c.soft_band is None else bool(c.soft_band)
    if lo > hi:
        source = "--max-pop" if c.max_pop is not None else (why[0][3:] if why else "the default")
        msg = (
            f"the population band would be empty: minimum {lo:,.0f} is above the maximum "
            f"{hi:,.0f} ({source}); give --max-pop (max_pop=) of at least {lo:,.0f}, or a "
            "lower --min-pop"
        )
        raise ParameterError(msg)
    if lo <= 0 and not math.isfinite(hi):
        text = "any size"
    elif not math.isfinite(hi):
        text = f"{lo:,.0f} people or more"
    elif lo <= 0:
        text = f"at most {hi:,.0f} people"
    else:
        text = f"{lo:,.0f}–{hi:,.0f} people"
    if rule is not None and c.min_pop is None and c.max_pop is None:
        text += f" ({rule.becomes_plural}{', up ' + why[0] if why else ''})"
    elif rule is not None and c.max_pop is None and why:
        text += f" (up {why[0]})"
    text += ", scored (people in blocks outside it)" if soft else ", a rule"
    return Band(lo, hi, soft, text)


# ---------------------------------------------------------------------------------------------
# the problem
# ---------------------------------------------------------------------------------------------
def prepare_problem(
    source: Geography | Mapping[str, OverlapTable],
    system: str | None,
    members: Sequence[str] | None,
    constraints: Constraints,
) -> Problem:
    """The :class:`Problem` that a system (or a list of units) and constraints describe.

    ``source`` is a loaded :class:`~coterminus.geography.bundle.Geography`, or overlap tables
    by level (``{"utla": overlap(geo, "ltla", "utla"), ...}``; population tables; then give
    ``members=`` as codes, and ``adjacency`` or ``contiguous=False``).
    """
    c = constraints
    if isinstance(source, Mapping):
        return _from_tables(source, system, members, c)
    geo = source
    unit_level = geo.resolve_level(c.units) if c.units else None
    within = geo.resolve_level(c.within) if c.within else None
    if within is None and unit_level is not None:
        within = geo.parent(unit_level)
    code, name, codes, unit_level = _resolve_units(geo, system, members, unit_level, within)
    if within is None:
        within = geo.parent(unit_level)
    n = len(codes)
    units_t = geo.units(unit_level)
    population = units_t["population"].reindex(codes).to_numpy(dtype=float)
    names = tuple(str(units_t.at[cd, "name"]) for cd in codes)
    nhs = tuple(
        str(units_t.at[cd, "nhs_code"]) if "nhs_code" in units_t.columns else "" for cd in codes
    )
    if within is not None:  # each unit's group: the one holding most of its people
        sub = geo.lsoa[geo.lsoa[unit_level].isin(codes)]
        people = sub.groupby([unit_level, within], dropna=False)["population"].sum()
        main = people.sort_values(kind="stable").groupby(level=0).tail(1).reset_index()
        of = dict(zip(main[unit_level], main[within].fillna("").astype(str), strict=True))
        unit_groups = [of.get(cd, "") for cd in codes]
    else:
        unit_groups = [""] * n
    group_codes = tuple(sorted(set(unit_groups)))
    groups = np.array([group_codes.index(g) for g in unit_groups], dtype=np.int64)
    # levels scored and constrained
    given = [geo.resolve_level(lv) for lv in (c.against or ())]
    cot = [geo.resolve_level(lv) for lv in c.coterminous_with]
    no_split = [geo.resolve_level(lv) for lv in c.no_split]
    default = [lv for lv in default_against(geo, unit_level) if lv != unit_level]
    against = list(dict.fromkeys(given or default))
    if c.wherever_feasible:
        against += [lv for lv in cot if lv not in against]
    if not against:
        msg = f"no level to score {geo.label(unit_level, plural=True)} against; give against="
        raise ParameterError(msg)
    if unit_level in against:
        msg = f"against={against} holds the units' own level {unit_level!r}; drop it"
        raise ParameterError(msg)
    eps = check_tolerance(c.tolerance, c.measure)

    def level(lv: str, measure: str) -> TargetLevel:
        table = overlap(geo, unit_level, lv, measure=measure)  # type: ignore[arg-type]
        lnames = geo.units(lv)["name"]
        return target_level(
            table, codes, lv, label=geo.label(lv), plural=geo.label(lv, plural=True),
            area_names={str(k): str(v) for k, v in lnames.items()},
        )  # fmt: skip

    levels = tuple(level(lv, c.measure) for lv in against)
    by_name = {lv.name: lv for lv in levels}
    rule_levels = {lv: by_name.get(lv) or level(lv, c.measure) for lv in [*no_split, *cot]}
    size = None
    if c.measure == "area":
        areas = overlap(geo, unit_level, against[0], measure="area").unit_totals
        size = np.rint(areas.reindex(codes).to_numpy(dtype=float)).astype(np.int64)
    today = None
    if c.today is not None:
        today_level = geo.resolve_level(c.today)
        if today_level != unit_level:
            today, _ = _matrix(overlap(geo, unit_level, today_level), codes)
    band = _band(geo, unit_level, c)
    objective = Objective(
        population=np.rint(population).astype(np.int64),
        levels=levels,
        size=size,
        today=today,
        tolerance=eps,
        band=band.pair,
        soft_band=band.soft,
        weights=c.weights,
        measure=c.measure,
    )
    edges, neighbours = _graph(
        c, codes, units_t.index.astype(str), lambda: geo.layer(unit_level).loc[codes]
    )
    rules = Rules(
        min_pop=band.low,
        max_pop=band.high,
        soft_band=band.soft,
        contiguous=c.contiguous,
        within=not c.across and len(group_codes) > 1,
        no_split=tuple(rule_levels[lv] for lv in no_split),
        coterminous_with=() if c.wherever_feasible else tuple(rule_levels[lv] for lv in cot),
        n_blocks=_n_blocks(c.n_blocks, n),
        tolerance=eps,
    )
    labels = {lv: geo.label(lv, plural=True) for lv in [*against, *no_split, *cot]}
    return Problem(
        code=code,
        name=name,
        vintage=geo.vintage,
        units=unit_level,
        unit_label=geo.label(unit_level),
        unit_plural=geo.label(unit_level, plural=True),
        block_label=rule.becomes if (rule := block_size(unit_level)) else geo.label(unit_level),
        block_plural=rule.becomes_plural if rule else geo.label(unit_level, plural=True),
        codes=tuple(codes),
        names=names,
        nhs_codes=nhs,
        groups=groups,
        group_codes=group_codes,
        edges=edges,
        neighbours=neighbours,
        objective=objective,
        rules=rules,
        band=band,
        labels=labels,
        constraints=_described(c, rules, band, within),
    )


def _graph(
    c: Constraints,
    codes: Sequence[str],
    known: Iterable[str],
    layer: Callable[[], gpd.GeoDataFrame] | None,
) -> tuple[pd.DataFrame | None, tuple[int, ...]]:
    """Adjacency edges and neighbour bitmasks of the units (none without contiguity).

    Edges come from ``c.adjacency``, else from the polygons ``layer()`` gives; ``overrides``
    (checked against the ``known`` unit codes) join or separate pairs.
    """
    if not c.contiguous:
        return None, ()
    over = validate_overrides(c.overrides, known)
    if c.adjacency is not None:
        edges = apply_overrides(c.adjacency, over) if over else c.adjacency
    elif layer is None:
        msg = (
            "contiguity needs polygons: pass a Geography, adjacency= (edges between the units), "
            "or contiguous=False"
        )
        raise ParameterError(msg)
    else:
        edges = adjacency(layer(), min_shared_m=c.min_shared_m, snap_m=c.snap_m, overrides=over)
    return edges, tuple(int(m) for m in neighbour_masks(edges, codes))


def _n_blocks(k: int | tuple[int, int] | None, n: int) -> tuple[int, int] | None:
    if k is None:
        return None
    lo, hi = (int(k), int(k)) if isinstance(k, (int, np.integer)) else (int(k[0]), int(k[1]))
    if lo > n:
        msg = f"n_blocks={k!r} is impossible with {n} units (at most {n} blocks)"
        raise ParameterError(msg)
    return lo, min(hi, n)


def _described(c: Constraints, rules: Rules, band: Band, within: str | None) -> dict[str, object]:
    out: dict[str, object] = {"band": band.text}
    if rules.contiguous:
        out["contiguous"] = True
    if rules.within and within:
        out["within"] = within
    if c.across:
        out["across"] = True
    if rules.no_split:
        out["no_split"] = [lv.name for lv in rules.no_split]
    if rules.coterminous_with:
        out["coterminous_with"] = [lv.name for lv in rules.coterminous_with]
    if c.wherever_feasible and c.coterminous_with:
        out["coterminous_with (wherever feasible)"] = list(c.coterminous_with)
    if rules.n_blocks is not None:
        out["n_blocks"] = list(rules.n_blocks)
    if c.today is not None:
        out["today"] = c.today
    return out


def _from_tables(
    tables: Mapping[str, OverlapTable],
    system: str | None,
    members: Sequence[str] | None,
    c: Constraints,
) -> Problem:
    """A problem from overlap tables alone (population; units are plain codes)."""
    if system is not None or not members:
        msg = "with overlap tables instead of a Geography, give members= (codes), not system="
        raise ParameterError(msg)
    if c.units is not None or c.within is not None or c.today is not None:
        msg = "with overlap tables, the tables are the levels: drop units=, within= and today="
        raise ParameterError(msg)
    codes = [str(u) for u in ([members] if isinstance(members, str) else members)]
    if len(set(codes)) != len(codes):
        msg = f"members list {codes} has duplicates; give each unit once."
        raise FootprintError(msg)
    names = list(c.against or tables)
    if c.wherever_feasible:
        names += [lv for lv in c.coterminous_with if lv not in names]
    missing = [lv for lv in [*names, *c.no_split, *c.coterminous_with] if lv not in tables]
    if missing:
        msg = f"no overlap table for {missing}; pass one per level, e.g. {{'utla': ...}}"
        raise ParameterError(msg)
    first = tables[names[0]]
    if first.measure != "population":
        msg = "with overlap tables by area, pass a Geography so block populations are known"
        raise ParameterError(msg)
    unknown = [u for u in codes if u not in first.unit_totals.index]
    if unknown:
        msg_0 = f"units {unknown} are not in the overlap tables"
        raise UnknownAreaError(msg_0)
    eps = check_tolerance(c.tolerance, c.measure)
    lv_of = {
        lv: target_level(tables[lv], codes, lv, label=lv, plural=lv)
        for lv in dict.fromkeys([*names, *c.no_split, *c.coterminous_with])
    }
    band = _band(None, "", c)
    population = np.rint(first.unit_totals.reindex(codes).to_numpy(dtype=float)).astype(np.int64)
    objective = Objective(
        population=population,
        levels=tuple(lv_of[lv] for lv in names),
        tolerance=eps,
        band=band.pair,
        soft_band=band.soft,
        weights=c.weights,
    )
    edges, neighbours = _graph(c, codes, codes, None)
    rules = Rules(
        min_pop=band.low,
        max_pop=band.high,
        soft_band=band.soft,
        contiguous=c.contiguous,
        within=False,
        no_split=tuple(lv_of[lv] for lv in c.no_split),
        coterminous_with=()
        if c.wherever_feasible
        else tuple(lv_of[lv] for lv in c.coterminous_with),
        n_blocks=_n_blocks(c.n_blocks, len(codes)),
        tolerance=eps,
    )
    return Problem(
        code=None,
        name="custom units",
        vintage=first.vintage,
        units=first.unit_level,
        unit_label="unit",
        unit_plural="units",
        block_label="block",
        block_plural="blocks",
        codes=tuple(codes),
        names=tuple(codes),
        nhs_codes=("",) * len(codes),
        groups=np.zeros(len(codes), dtype=np.int64),
        group_codes=("",),
        edges=edges,
        neighbours=neighbours,
        objective=objective,
        rules=rules,
        band=band,
        labels={lv: lv for lv in lv_of},
        constraints=_described(c, rules, band, None),
    )
