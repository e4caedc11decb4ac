"""Constraints on the blocks of a plan, checked once and shared by every entry point.

:class:`Constraints` holds the options of :func:`~coterminus.plans.mergers.mergers`,
:func:`~coterminus.plans.mergers.best_plan`, :func:`~coterminus.plans.mergers.national` and
:func:`~coterminus.plans.mergers.iter_scored_plans` that describe a system and its allowed blocks;
:func:`prepare_system` turns them into a :class:`~coterminus.plans.tables.System` (resolving
names to units, the two levels plans are scored against, and the allowed-block mask).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..analysis.adjacency import (
    DEFAULT_MIN_SHARED_M,
    DEFAULT_SNAP_M,
    adjacency,
    apply_overrides,
    neighbour_masks,
    validate_overrides,
)
from ..analysis.assess import default_against
from ..analysis.metrics import check_tolerance
from ..errors import FootprintError, ParameterError, UnknownAreaError, VintageMismatchError
from ..geography.resolve import resolve_group
from .tables import (
    AREA_WEIGHTS,
    CRITERIA,
    DEFAULT_BAND,
    DEFAULT_WEIGHTS,
    PARETO_EXTRA,
    TIERS,
    System,
    TierTable,
    extra_tiers,
    quantise,
    tables_for,
    tier_table,
    unit_matrix,
)

if TYPE_CHECKING:
    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography


def check_weights(weights: Mapping[str, float] | None, measure: str) -> dict[str, float]:
    base = AREA_WEIGHTS if measure == "area" else DEFAULT_WEIGHTS
    if weights is None:
        return {c: float(base.get(c, 0.0)) for c in CRITERIA}
    if not isinstance(weights, Mapping):
        msg = f"weights must be a mapping {{criterion: weight}}, got {type(weights).__name__}"
        raise ParameterError(msg)
    problems = []
    unknown = [k for k in weights if k not in CRITERIA]
    if unknown:
        problems.append(f"unknown criteria {unknown} (use {list(CRITERIA)})")
    out = dict.fromkeys(CRITERIA, 0.0)
    for k, v in weights.items():
        try:
            fv = float(v)
        except (TypeError, ValueError):
            problems.append(f"{k}={v!r} is not a number")
            continue
        if not math.isfinite(fv) or fv < 0:
            problems.append(f"{k}={v!r} is negative or not finite")
        elif k in out:
            out[k] = fv
    if not problems and not any(out.values()):
        problems.append("all weights are zero, so every plan would tie")
    if problems:
        msg = (
            "bad weights: " + "; ".join(problems) + ". Weights are ≥ 0 per unit of each criterion "
            f"and at least one must be positive; the default is {base}."
        )
        raise ParameterError(msg)
    return out


def check_band(band: Any, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        msg = f"{name} must be a (low, high) pair of people, got {band!r}"
        raise ParameterError(msg) from None
    if not (0 <= lo <= hi) or math.isnan(lo) or math.isnan(hi):
        msg = f"{name}=({lo:g}, {hi:g}) must satisfy 0 ≤ low ≤ high"
        raise ParameterError(msg)
    return lo, hi


def build_system(
    source: Geography | Mapping[str, OverlapTable],
    codes: list[str],
    *,
    code: str | None,
    name: str,
    measure: str,
    tolerance: float | None,
    band: tuple[float, float],
    weights: Mapping[str, float] | None,
    contiguous: bool = False,
    edges: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | str = False,
    within_system: bool = True,
    n_ccgs: int | tuple[int, int] | None = None,
    unit_level: str = "ccg",
    against: tuple[str, str] = TIERS,
    within: str | None = "stp",
    min_pop: float | None = None,
    no_split: Sequence[str] = (),
    coterminous_with: Sequence[str] = (),
) -> System:

    tables = tables_for(source, measure, unit_level, against)
    measure = tables["utla"].measure
    eps = check_tolerance(tolerance, measure)
    w = check_weights(weights, measure)
    n = len(codes)
    _p.check_n(n)
    geo = None if isinstance(source, Mapping) else source
    if w["non_contiguous"] and geo is None and edges is None:
        if weights is not None and weights.get("non_contiguous"):
            msg = (
                "the non_contiguous criterion needs polygons (a Geography) or adjacency=; "
                "set its weight to 0 or pass them"
            )
            raise ParameterError(msg)
        w["non_contiguous"] = 0.0
    tiers: dict[str, TierTable] = {}
    for tier in TIERS:
        table = tables[tier]
        mat, la = unit_matrix(table, codes)
        unit_tot = table.unit_totals.reindex(codes).to_numpy(dtype=float)
        la_tot = table.target_totals.reindex(la).to_numpy(dtype=float)
        if geo is not None:
            lnames = geo.units(against[TIERS.index(tier)])["name"]
            la_names = [str(lnames.get(c, c)) for c in la]
        else:
            la_names = list(la)
        tiers[tier] = tier_table(mat, unit_tot, la_tot, eps, la, la_names)
    # people (always people, whatever the measure) and systems of the units
    if geo is not None:
        units_t = geo.units(unit_level)
        unit_pop = units_t["population"].reindex(codes).to_numpy(dtype=float)
        names = [str(units_t.at[c, "name"]) for c in codes]
        nhs = [
            str(units_t.at[c, "nhs_code"]) if "nhs_code" in units_t.columns else "" for c in codes
        ]
        if within is not None:  # the group each unit is in (its largest part, for scenarios)
            sub_lsoa = geo.lsoa[geo.lsoa[unit_level].isin(codes)]
            main = sub_lsoa.groupby(unit_level)[within].agg(
                lambda s: s.value_counts().index[0] if s.notna().any() else ""
            )
            unit_sys = [str(main.get(c, "")) for c in codes]
        else:
            unit_sys = [""] * n
    else:
        ut = tables["utla"]
        if ut.measure != "population":
            msg = "with overlap tables by area, pass a Geography so block populations are known"
            raise ParameterError(msg)
        unit_pop = ut.unit_totals.reindex(codes).to_numpy(dtype=float)
        names, nhs, unit_sys = list(codes), [""] * n, [""] * n
    size = 1 << n
    pop = _p.subset_sums(np.asarray(unit_pop, dtype=float))
    sys_ids = {s: i for i, s in enumerate(sorted(set(unit_sys)))}
    n_systems = _p.popcount(
        _p.subset_ors(np.array([1 << sys_ids[u] for u in unit_sys], dtype=np.int64))
    )
    # allowed blocks
    allowed = np.ones(size, dtype=bool)
    allowed[0] = False
    constraints: dict[str, Any] = {}
    connected = None
    if contiguous or w["non_contiguous"]:
        if edges is None:
            if geo is None:
                msg = "contiguous=True needs a Geography (polygons) or a precomputed adjacency="
                raise ParameterError(msg)
            edges = adjacency(
                geo.layer(unit_level).loc[codes],
                min_shared_m=min_shared_m,
                snap_m=snap_m,
                overrides=overrides,
            )
        elif overrides:
            edges = apply_overrides(edges, overrides)
        connected = _p.connected_subsets(neighbour_masks(edges, codes))
    if contiguous:
        assert connected is not None
        allowed &= connected
        constraints["contiguous"] = True
    if population_band is not None:
        p_lo, p_hi = population_band
        allowed &= (pop >= p_lo) & (pop <= p_hi)
        constraints["population_band"] = (p_lo, p_hi)
    if coterminous_only:
        which = [against[0]] if coterminous_only is True else [str(coterminous_only)]
        if which == ["both"]:
            which = list(against)
        for lv in which:
            if lv not in against:
                msg = (
                    f"coterminous_only={coterminous_only!r}; use True (the first level, "
                    f"{against[0]}), {against[1]!r} or 'both'"
                )
                raise ParameterError(msg)
            allowed &= tiers[TIERS[against.index(lv)]].coterminous
        constraints["coterminous_only"] = which
    if min_pop is not None:
        allowed &= pop >= float(min_pop)
        constraints["min_pop"] = float(min_pop)
    for lv, tt in extra_tiers(
        geo, tables, tiers, codes, eps, unit_level, against, measure, [*no_split, *coterminous_with]
    ).items():
        if lv in no_split:  # no council lying wholly in the system is split between blocks
            whole = tt.in_system >= (1.0 - eps) * tt.totals
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(tt.totals > 0, tt.m / np.where(tt.totals > 0, tt.totals, 1.0), 0.0)
            splits = ((s > eps) & (s < 1.0 - eps) & whole).any(axis=1)
            allowed &= ~splits
            constraints.setdefault("no_split", []).append(lv)
        if lv in coterminous_with:  # each block coterminous with one or more areas of lv
            allowed &= tt.coterminous
            constraints.setdefault("coterminous_with", []).append(lv)
    if within_system and len(sys_ids) > 1:
        allowed &= n_systems == 1
        constraints["within_system"] = True
    if n_ccgs is not None:
        constraints["n_ccgs"] = _p.n_blocks_range(n, n_ccgs)
    sys = System(
        code=code,
        name=name,
        vintage=tables["utla"].vintage,
        measure=measure,
        tolerance=eps,
        band=band,
        codes=list(codes),
        names=names,
        nhs=nhs,
        unit_systems=unit_sys,
        population=pop,
        tiers=tiers,
        allowed=allowed,
        connected=connected,
        n_systems=n_systems,
        weights=w,
        cost=np.zeros(size),
        n_blocks=constraints.get("n_ccgs"),
        constraints=constraints,
        edges=edges,
        unit_level=unit_level,
        against=tuple(against),  # type: ignore[arg-type]
        unit_label=geo.label(unit_level) if geo is not None else "unit",
        unit_plural=geo.label(unit_level, plural=True) if geo is not None else "units",
        labels={
            slot: (geo.label(lv, plural=True) if geo is not None else lv)
            for slot, lv in zip(TIERS, against, strict=True)
        },
    )
    crit = sys.criteria()
    cost = np.zeros(size)
    for c, wc in w.items():
        if wc:
            cost += wc * crit[c]
    cost = quantise(cost, n)
    cost[0] = 0.0
    sys.cost = cost
    return sys


def resolve_units(
    geo: Geography,
    system: str | None,
    units: Sequence[str] | None,
    unit_level: str | None = None,
    within: str | None = None,
) -> tuple[str | None, str, list[str], str]:
    """System code/name, the unit codes and their level, with vintage and membership checks."""
    code = None
    name = "custom set of units"
    members: list[str] | None = None
    if system is not None:
        try:  # the systems level first; a name shared across levels is refused with the choices
            code, glevel = resolve_group(geo, system, units=unit_level, within=within)
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(system))
            if hint:
                msg = f"{system!r} is not a {geo.vintage} group: {hint}"
                raise VintageMismatchError(msg) from exc
            raise
        name = geo.name(code)
        members = list(geo.members(code, unit_level, within=glevel))
        if unit_level is None and members:
            unit_level = geo.level_of(members[0])
    if units is not None:
        if isinstance(units, str):
            units = [units]
        codes = unit_codes(geo, units, unit_level)
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            msg = f"units list {dupes} more than once; give each unit once."
            raise FootprintError(msg)
        if unit_level is None:
            unit_level = geo.level_of(codes[0])
        if members is not None:
            outside = [c for c in codes if c not in members]
            if outside:
                where = ", ".join(f"{c} ({geo.name(c)})" for c in outside)
                msg = (
                    f"{len(outside)} unit(s) are not in {name} ({code}) in {geo.vintage}: {where}. "
                    f"Its units are {members}; drop the system to mix groups (blocks then stay "
                    "within one group unless within_system=False)."
                )
                raise FootprintError(msg)
        members = codes
    if members is None:
        msg = "give system= (a name or code) or units= (codes or names of units)"
        raise ParameterError(msg)
    if not members or unit_level is None:
        msg = f"{name} has no units of {unit_level or 'a finer level'} in {geo.vintage}"
        raise FootprintError(msg)
    return code, name, members, unit_level


def unit_codes(geo: Geography, queries: Sequence[str], level: str | None = None) -> list[str]:
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


@dataclass(frozen=True, eq=False)
class Constraints:
    """The options every entry point shares: which units, which blocks, how blocks are scored.

    One object, checked once on construction, behind :func:`~coterminus.plans.mergers.mergers`,
    :func:`~coterminus.plans.mergers.best_plan`, :func:`~coterminus.plans.mergers.national` and
    :func:`~coterminus.plans.mergers.iter_scored_plans` (their keywords of the same names build it;
    see :func:`~coterminus.plans.mergers.mergers` for what each means). Defaults are those of
    :func:`~coterminus.plans.mergers.mergers`.

    Raises
    ------
    ParameterError
        On construction, for a bad ``measure``, ``coterminous_only``, ``band``,
        ``population_band`` or ``weights``, naming the allowed values.

    Examples
    --------
    >>> c = Constraints(contiguous=True, n_ccgs=(1, 6))
    >>> c.contiguous, c.n_ccgs, c.measure
    (True, (1, 6), 'population')
    >>> Constraints.from_options({"min_pop": 1_000_000}).min_pop
    1000000
    >>> Constraints(measure="volume")
    Traceback (most recent call last):
    coterminus.errors.ParameterError: measure='volume'; use 'population' or 'area'
    """

    units: str | Sequence[str] | None = None
    level: str | None = None
    within: str | None = None
    against: str | Sequence[str] | None = None
    min_pop: float | None = None
    no_split: str | Sequence[str] | None = None
    coterminous_with: str | Sequence[str] | None = None
    contiguous: bool = False
    adjacency: pd.DataFrame | None = None
    overrides: Mapping[tuple[str, str], bool] | None = None
    n_ccgs: int | tuple[int, int] | None = None
    population_band: tuple[float, float] | None = None
    coterminous_only: bool | str | None = False
    within_system: bool = True
    band: tuple[float, float] = DEFAULT_BAND
    weights: Mapping[str, float] | None = None
    tolerance: float | None = None
    measure: str = "population"
    min_shared_m: float = DEFAULT_MIN_SHARED_M
    snap_m: float = DEFAULT_SNAP_M

    def __post_init__(self) -> None:
        problems = []
        if self.measure not in ("population", "area"):
            problems.append(f"measure={self.measure!r}; use 'population' or 'area'")
        if self.coterminous_only not in (False, True, "utla", "ltla", "both", None):
            problems.append(
                f"coterminous_only={self.coterminous_only!r}; use False, 'utla', 'ltla' or 'both'"
            )
        if problems:
            raise ParameterError("; ".join(problems))
        check_band(self.band, "band")
        if self.population_band is not None:
            check_band(self.population_band, "population_band")
        check_weights(self.weights, self.measure)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Constraints:
        """Constraints from a mapping of option names (an unknown name is refused)."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(options) - known)
        if bad:
            msg = f"unknown options {bad}; use some of {sorted(known)}"
            raise ParameterError(msg)
        return cls(**options)

    def replace(self, **changes: Any) -> Constraints:
        """A copy with some options changed (checked again)."""
        return dataclasses.replace(self, **changes)


def check_run(
    *, top: Any = 0, max_plans: Any = 1, chunk_size: Any = 1, backend: Any = "auto"
) -> str:
    """Check the run options of an entry point (not constraints); return the resolved backend."""
    problems = []
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0:
        problems.append(f"top={top!r} must be a whole number ≥ 0")
    if not (isinstance(max_plans, (int, float)) and max_plans > 0):
        problems.append(f"max_plans={max_plans!r} must be a positive number")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        problems.append(f"chunk_size={chunk_size!r} must be a positive whole number")
    if problems:
        raise ParameterError("; ".join(problems))
    return _p.resolve_backend(backend)


def pareto_columns(weights: Mapping[str, float], pareto_on: Sequence[str] | None) -> list[str]:
    if pareto_on is None:
        return [c for c, w in weights.items() if w]
    allowed = set(CRITERIA) | set(PARETO_EXTRA) | {"population_cv"}
    bad = [c for c in pareto_on if c not in allowed]
    if bad:
        msg = f"pareto_on has unknown columns {bad}; use some of {sorted(allowed)} (all minimised)"
        raise ParameterError(msg)
    return list(pareto_on)


def prepare_system(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None,
    constraints: Constraints,
) -> System:
    """The system that constraints describe: its units, scored levels and allowed blocks."""
    o = constraints
    units = o.units
    band = o.band
    if isinstance(geo, Mapping):  # overlap tables only: units are plain codes, no polygons
        if system is not None or not units:
            msg = "with overlap tables instead of a Geography, give units= (codes), not system="
            raise ParameterError(msg)
        code, name, codes = None, "custom units", [str(u) for u in units]
        if len(set(codes)) != len(codes):
            msg = f"units list {codes} has duplicates; give each unit once."
            raise FootprintError(msg)
        over = validate_overrides(o.overrides, codes)
        unit_level, within, against = None, None, TIERS
        if o.level is not None or o.against is not None:
            msg = "with overlap tables, the tables are the levels: drop level= and against="
            raise ParameterError(msg)
    else:
        level = o.level
        if isinstance(units, str) and _is_level(geo, units):  # units="icb": the level
            level, units = units, None
        unit_level = geo.resolve_level(level) if level else None
        within = geo.resolve_level(o.within) if o.within else None
        if within is None and unit_level is not None:
            within = geo.parent(unit_level)
        code, name, codes, unit_level = resolve_units(geo, system, units, unit_level, within)
        if within is None:
            within = geo.parent(unit_level)
        if o.min_pop is not None and band == DEFAULT_BAND:
            # with a minimum size, a block is "in band" from that size up to the largest unit of
            # the system today: it counters merging everything into one block
            largest = float(geo.units(unit_level)["population"].reindex(codes).max())
            band = (float(o.min_pop), max(float(o.min_pop), largest))
        against = against_slots(geo, unit_level, o.against)
        over = validate_overrides(o.overrides, geo.units(unit_level).index.astype(str))
    population_band = o.population_band
    return build_system(
        geo,
        codes,
        code=code,
        name=name,
        measure=o.measure,
        tolerance=o.tolerance,
        band=check_band(band, "band"),
        weights=o.weights,
        contiguous=o.contiguous,
        edges=o.adjacency,
        overrides=over,
        min_shared_m=o.min_shared_m,
        snap_m=o.snap_m,
        population_band=None
        if population_band is None
        else check_band(population_band, "population_band"),
        coterminous_only=o.coterminous_only or False,
        within_system=o.within_system,
        n_ccgs=o.n_ccgs,
        unit_level=unit_level or "unit",
        against=against,
        within=within,
        min_pop=o.min_pop,
        no_split=_levels_of(geo, o.no_split),
        coterminous_with=_levels_of(geo, o.coterminous_with),
    )


def _is_level(geo: Geography, word: str) -> bool:
    try:
        geo.resolve_level(word)
    except ParameterError:
        return False
    return True


def _levels_of(geo: Any, value: Any) -> list[str]:
    """Level names of a constraint option (a level, several, or None)."""
    if value is None or value is False:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if isinstance(geo, Mapping):
        return [str(i) for i in items]
    return [geo.resolve_level(i) for i in items]


def against_slots(geo: Geography, unit_level: str, against: Any) -> tuple[str, str]:
    """The two levels scored for every plan (the ``*_utla``/``*_ltla`` slots of the tables).

    Default: the first two of :func:`coterminus.analysis.assess.default_against`. One level given: it
    and the default's first other level.
    """
    default = [lv for lv in default_against(geo, unit_level) if lv != unit_level]
    given = [] if against is None else _levels_of(geo, against)
    levels = list(dict.fromkeys(given or default[:2]))
    for lv in default:
        if len(levels) >= 2:
            break
        if lv not in levels:
            levels.append(lv)
    if len(levels) > 2:
        msg = (
            f"against={levels}: merger plans are scored against two levels at a time; give two "
            "(and use coterminous_with= / no_split= for a third, as a constraint)"
        )
        raise ParameterError(msg)
    if len(levels) < 2:
        msg = f"against={levels}: give two levels to score plans against"
        raise ParameterError(msg)
    return levels[0], levels[1]


def count_or_refuse(sys: System, max_plans: float) -> int:
    count = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
    contiguous = bool(sys.constraints.get("contiguous"))
    _p.check_enumerable(
        count,
        max_plans=max_plans,
        what=f"the {sys.n} {sys.unit_plural} of {sys.name}",
        contiguous=contiguous,
    )
    if count == 0:
        msg = (
            f"no plan of the {sys.n} CCGs of {sys.name} satisfies the constraints "
            f"{sys.constraints}; relax them (e.g. widen population_band, drop coterminous_only, "
            "or add adjacency overrides for islands and estuaries)."
        )
        raise ParameterError(msg)
    return count


def clip_n_ccgs(n_ccgs: int | tuple[int, int], n: int) -> tuple[int, int]:
    if isinstance(n_ccgs, (int, np.integer)):
        lo = hi = int(n_ccgs)
    else:
        lo, hi = (int(v) for v in n_ccgs)
    return min(max(lo, 1), n), min(max(hi, 1), n)
