"""Every system of a vintage optimised, compared with today and a scenario, and explained.

:func:`optimise_systems` runs :func:`coterminus.plans.optimise.optimum_of` for every group of a
level (every NHS region, by default the groups of ``within``) and returns a
:class:`RegionalOptimum`: one row per unit (its proposed block, today's footprint, a
scenario's), one row per system (proof, gap, time, objective of the optimum and of today's
footprints and the scenario's by the same objective) and, per system, sentences explaining
each area of a scored level that the optimum still splits — why no plan can keep it whole, and
whether finer units would.

Notes
-----
Today's footprints (and a scenario's areas) are scored as plans of whole units: each unit goes
to the footprint holding most of its people. ``split_people`` says how many people that moves
(0 when the footprints are made of whole units).

Reasons an area :math:`t` of a level :math:`L` is split in a proven optimum, the first that
holds: its people in the system exceed the maximum of a block; its units do not form one
connected group; a unit is only partly in it (then a finer level whose units each lie within
or outside :math:`t`, up to the tolerance, would let blocks follow its boundary); otherwise
keeping it whole costs more elsewhere — the band and contiguity leave the neighbouring units
no better plan (the optimum is proven, so no plan keeps it whole at a lower objective).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..analysis.overlap import overlap
from ..errors import CoterminusError, ParameterError
from ..geography.resolve import display_names
from ..geography.scenario import scenario
from ..vocabulary.levels import block_size
from ..vocabulary.words import join_names
from .candidates import is_connected, masks_to_matrix, neighbour_masks
from .constraints import Constraints, RunOptions, with_shortcuts
from .mergers import systems_of
from .objective import cost_step, cost_steps, score_blocks, thresholds
from .optimise import Optimum, join_islands, optimum_of
from .problem import Problem, prepare_problem, target_level

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = [
    "RegionalOptimum",
    "add_compared",
    "compare_splits",
    "explain_splits",
    "optimise_systems",
    "regional_of",
    "score_footprints",
]


@dataclass(repr=False)
class RegionalOptimum:
    """The optimum of every system of a vintage (see the module notes).

    Attributes
    ----------
    vintage : int or str
    units, within : str
        Level of the units merged and of the systems.
    against : tuple of str
    compared : dict of str to str
        Levels compared with the optimum (``"today"``, ``"scenario"``) → level name.
    results : dict of str to Optimum
        By system code.
    failed : dict of str to str
        Systems without a plan, with the reason (the rules that make them infeasible).
    units_table : pandas.DataFrame
        One row per unit: ``system``, ``system_name``, ``code``, ``name``, ``population``,
        ``block`` (number within the system), ``block_name``, and per compared level its
        footprint code and name.
    summary : pandas.DataFrame
        One row per system: ``status``, ``gap``, ``seconds``, ``plans_counted``, ``n_units``,
        and for the optimum and each compared level ``<what>_blocks``, ``<what>_objective``
        and every weighted criterion.
    explanations : dict of str to list of str
        By system code: a sentence per split area of a scored level.
    seconds : float
    """

    vintage: int | str | None
    units: str
    within: str
    against: tuple[str, ...]
    compared: dict[str, str]
    results: dict[str, Optimum]
    failed: dict[str, str]
    units_table: pd.DataFrame
    summary: pd.DataFrame
    explanations: dict[str, list[str]]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        proven = sum(r.proven for r in self.results.values())
        return (
            f"<RegionalOptimum {self.vintage} {self.units} within {self.within}: "
            f"{len(self.results)} systems, {proven} proven optimal, {len(self.failed)} without a "
            "plan>"
        )

    def to_dict(self) -> dict[str, object]:
        """Plain-Python form for JSON."""
        return {
            "vintage": self.vintage,
            "units": self.units,
            "within": self.within,
            "against": list(self.against),
            "compared": dict(self.compared),
            "summary": json.loads(self.summary.to_json(orient="records")),
            "systems": {k: r.to_dict() for k, r in self.results.items()},
            "failed": dict(self.failed),
            "explanations": dict(self.explanations),
            "units_table": json.loads(self.units_table.to_json(orient="records")),
            "notes": list(self.notes),
            "seconds": self.seconds,
        }

    def text(self) -> str:
        """Plain text: one paragraph per system (proof, plan, comparison, explanations)."""
        lines = [
            f"{len(self.results) + len(self.failed)} systems ({self.within}) of "
            f"{self.vintage}, {self.units} merged, scored against {', '.join(self.against)}; "
            f"{self.seconds:.1f} s",
        ]
        lines += [f"note: {n}" for n in self.notes]
        for code, opt in self.results.items():
            row: dict[Any, Any] = self.summary.set_index("system").loc[code].to_dict()
            lines += ["", f"{opt.system_name} ({code}): {opt.proof_text()}"]
            if opt.count is not None:
                lines.append(f"  plans that keep every rule: {opt.count.text}")
            lines.append(
                f"  optimum: {int(row['optimum_blocks'])} blocks, objective "
                f"{row['optimum_objective']:,.0f}, change {int(opt.best['change']):,}"
            )
            lines.append(f"    {opt.best['blocks']}")
            for what, level in self.compared.items():
                if pd.notna(row.get(f"{what}_blocks", math.nan)):
                    lines.append(
                        f"  {what} ({level}): {int(row[f'{what}_blocks'])} footprints, objective "
                        f"{row[f'{what}_objective']:,.0f}"
                    )
            lines += [f"  - {s}" for s in self.explanations.get(code, [])]
            lines += [f"  note: {n}" for n in opt.notes]
        for code, why in self.failed.items():
            lines += ["", f"{code}: no plan — {why}"]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# scoring footprints of whole units
# ---------------------------------------------------------------------------------------------
def score_footprints(problem: Problem, people: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Criteria of the plan that puts each unit in the footprint holding most of its people.

    ``people`` is units × footprints (people). Returns the plan's ``blocks``, ``objective``,
    every criterion, ``change`` and ``split_people`` (people of units that footprints split,
    outside their main footprint), and each unit's footprint column.
    """
    label = np.asarray(people).argmax(axis=1)
    cols = np.unique(label)
    mat = np.stack([label == c for c in cols])
    s = score_blocks(problem.objective, mat)
    out: dict[str, float] = {
        "blocks": len(cols),
        "objective": float(cost_steps(problem.objective, s.cost).sum())
        * cost_step(problem.objective),
    }
    out.update({c: float(v.sum()) for c, v in s.criteria.items()})
    out["change"] = float(s.change.sum())
    rows = np.arange(label.size)
    out["split_people"] = float((people.sum(axis=1) - people[rows, label]).sum())
    return out, label


# ---------------------------------------------------------------------------------------------
# explanations
# ---------------------------------------------------------------------------------------------
def _finer_text(geo: Geography, problem: Problem, level: str, area: str, name: str) -> str:
    """Whether a finer level than the units' would let blocks follow ``area``'s boundary."""
    for f in geo.children(problem.units):
        table = overlap(geo, f, level)
        pairs = table.pairs[table.pairs["target"].astype(str) == area]
        if pairs.empty:
            continue
        tot = table.unit_totals.reindex(pairs["unit"]).to_numpy(dtype=float)
        share = pairs["value"].to_numpy(dtype=float) / np.maximum(tot, 1.0)
        eps = problem.tolerance
        inside = share >= 1 - eps
        plural = geo.label(f, plural=True)
        if inside[share > eps].all():
            k = int(inside.sum())
            return f"{name} is {k} whole {plural}: --units {f} would let blocks follow its boundary"
        return f"even {plural} split {name}"
    return "no finer level of this vintage would follow its boundary"


def explain_splits(geo: Geography | None, opt: Optimum) -> list[str]:
    """A sentence per area of a scored level that the best plan of ``opt`` splits (see the
    module notes for the reasons, in order)."""
    problem = opt.problem
    if problem is None or not opt.masks:
        return []
    obj = problem.objective
    masks = opt.masks[0]
    mat = masks_to_matrix(masks, problem.n)
    s = score_blocks(obj, mat)
    names = display_names(problem.names)
    nb = neighbour_masks(problem)
    hi = problem.rules.hard_band[1]
    out = []
    for lv in obj.levels:
        split = s.split_areas[lv.name].any(axis=0)
        a = thresholds(lv.area_totals, problem.tolerance)
        for t in np.flatnonzero(split):
            col = lv.people[:, t]
            units = np.flatnonzero(col > a[t])
            total = int(lv.area_totals[t])
            name = lv.names[t]
            holders = [b for b, m in enumerate(masks, 1) if any(m >> int(u) & 1 for u in units)]
            head = (
                f"{name} ({lv.label}, {total:,} people here) is split between blocks "
                f"{join_names([str(b) for b in holders])}: "
            )
            unit_mask = sum(1 << int(u) for u in units)
            pop = obj.population
            partial = [int(u) for u in units if pop[u] - col[u] > a[t]]
            finer = ""
            if total > hi:
                why = (
                    f"it has more people than the largest block allowed ({hi:,.0f}), so no "
                    "units, however fine, keep it whole"
                )
            elif problem.rules.contiguous and not is_connected(unit_mask, nb):
                why = f"its {problem.unit_plural} do not form one connected group"
            elif partial:
                parts = [f"{names[u]} ({col[u] / pop[u]:.0%} in it)" for u in partial]
                why = f"{join_names(parts)} {'is' if len(parts) == 1 else 'are'} only partly in it"
                if geo is not None:
                    finer = "; " + _finer_text(geo, problem, lv.name, str(lv.codes[t]), name)
            else:
                why = (
                    "keeping it whole leaves the neighbouring "
                    f"{problem.unit_plural} no plan as good within the rules ({problem.band.text})"
                    + ("; the optimum is proven, so no plan keeps it whole at a lower objective"
                       if opt.proven else "")
                )  # fmt: skip
            out.append(head + why + finer)
    if not out and obj.levels:
        levels = join_names([lv.plural for lv in obj.levels])
        out.append(f"every block of the best plan is coterminous with the {levels}")
    return out


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def add_compared(
    geo: Geography, items: Sequence[str], default: str | None = None
) -> tuple[Geography, list[str]]:
    """The geography with every item to compare as a level, and the level names.

    An item is a level of ``geo`` (``"icb"``), the path of a scenario CSV
    (``member,area[,area_name]``, added as level ``compared_1``...), or the name of a scenario
    shipped with coterminus (``"icb-clusters-2027"``). Without items: ``default`` when it is a
    level, or, for a level of units (``"utla"``), the level whose largest area bounds its
    blocks (:data:`coterminus.vocabulary.levels.BLOCK_SIZES`: ICBs for upper-tier councils).

    Examples
    --------
    >>> geo = coterminus.load(2024)
    >>> add_compared(geo, [], "utla")[1], add_compared(geo, ["icb"])[1]
    (['icb'], ['icb'])
    """
    levels: list[str] = []
    for i, item in enumerate(items):
        if str(item).lower() in geo.levels:
            levels.append(geo.resolve_level(item))
            continue
        if Path(item).suffix.lower() == ".csv" or Path(item).exists():
            name = f"compared_{i + 1}"
            geo = scenario(geo, name, item, complete=False)
        else:  # a scenario shipped with coterminus, by name
            before = set(geo.levels)
            geo = scenario(geo, item, complete=False)
            name = next(iter(set(geo.levels) - before))
        levels.append(name)
    if not items and default:
        rule = block_size(default)
        level = rule.max_of if rule is not None and rule.max_of else default
        if level in geo.levels and (rule is None or level != default):
            levels.append(level)
        elif default in geo.levels and rule is None:
            levels.append(default)
    return geo, list(dict.fromkeys(levels))


def compare_splits(
    problem: Problem, what: str, label: np.ndarray, names: Sequence[str], best: Sequence[int]
) -> list[str]:
    """A sentence per area of a scored level that footprints ``what`` (unit ``u`` in footprint
    ``label[u]``, named ``names``) split: between which footprints, the people behind the
    split, and whether the best plan (block masks ``best``) keeps it whole."""
    obj = problem.objective
    cols = np.unique(label)
    s = score_blocks(obj, np.stack([label == c for c in cols]))
    kept = score_blocks(obj, masks_to_matrix(best, problem.n))
    out = []
    for lv in obj.levels:
        split = s.split_areas[lv.name]
        a = thresholds(lv.area_totals, problem.tolerance)
        for t in np.flatnonzero(split.any(axis=0)):
            m = np.array([lv.people[label == c, t].sum() for c in cols])
            holders = [names[int(c)] for c, x in zip(cols, m, strict=True) if x > a[t]]
            behind = int(np.minimum(m, lv.area_totals[t] - m)[split[:, t]].sum())
            fixed = not kept.split_areas[lv.name][:, t].any()
            out.append(
                f"{what} split {lv.names[t]} ({lv.label}) between {join_names(holders)} "
                f"({behind:,} people behind the split); the best plan "
                + ("keeps it whole" if fixed else "splits it too")
            )
    return out


def _compare_matrix(geo: Geography, problem: Problem, level: str) -> tuple[np.ndarray, list[str]]:
    lv = target_level(overlap(geo, problem.units, level), problem.codes, level, label="", plural="")
    return lv.people, list(lv.codes)


def optimise_systems(
    geo: Geography,
    systems: Sequence[str] | None = None,
    *,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    constraints: Constraints | None = None,
    compare: Sequence[str] = (),
    k: int = 1,
    time_limit: float = 600.0,
    islands: Literal["nearest", "keep"] = "nearest",
    run: RunOptions | None = None,
) -> RegionalOptimum:
    """:func:`coterminus.optimise` for every system of a level, compared and explained.

    Parameters
    ----------
    geo : Geography
    systems : sequence of str, optional
        Names or codes of the groups (default every unit of ``within``).
    units, within, against, constraints, k, islands
        As in :func:`coterminus.optimise` (``within`` is required: the level of the systems).
    compare : sequence of str
        Levels of ``geo`` to score as plans of whole units beside the optimum (today's ICBs,
        a scenario added with :func:`coterminus.scenario`).
    time_limit : float
        Seconds for each system.
    run : RunOptions, optional
        ``progress`` shows a bar over the systems.

    Returns
    -------
    RegionalOptimum

    Examples
    --------
    >>> geo = coterminus.load(2024)
    >>> r = optimise_systems(geo, ["South West"], units="utla", within="nhser",
    ...                      against="cauth", compare=["icb"])
    >>> r.summary[["name", "status", "optimum_blocks", "icb_blocks"]]
             name   status  optimum_blocks  icb_blocks
    0  South West  optimal               4           7
    """
    t0 = time.perf_counter()
    c = with_shortcuts(constraints, units=units, within=within, against=against)
    if c.within is None:
        msg = "optimise_systems needs within= (the level of the systems, e.g. 'nhser')"
        raise ParameterError(msg)
    group_level = geo.resolve_level(c.within)
    codes, unit_level = systems_of(geo, group_level, systems, c.units)
    c = c.replace(units=unit_level)
    members, straddle = _members_by_majority(geo, unit_level, group_level)
    progress = bool(run.progress) if run is not None else False
    results: dict[str, Optimum] = {}
    failed: dict[str, str] = {}
    for code in tqdm(codes, desc="systems", unit="system", disable=not progress):
        try:
            if not members.get(code):
                msg = f"no {geo.label(unit_level, plural=True)} have most of their people here"
                raise ParameterError(msg)
            problem = prepare_problem(geo, None, members[code], c)
            problem = dataclasses.replace(problem, code=code, name=geo.name(code))
            notes = [straddle[u] for u in problem.codes if u in straddle]
            if islands == "nearest":
                problem, more = join_islands(problem, geo)
                notes += more
            results[code] = optimum_of(problem, k=k, time_limit=time_limit, notes=notes)
        except CoterminusError as exc:
            failed[code] = str(exc)
    return regional_of(geo, results, failed, compare, time.perf_counter() - t0, group_level)


def _members_by_majority(
    geo: Geography, units: str, groups: str
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each unit in the group holding most of its people (so a unit straddling two groups is
    merged in one, not dropped); and a note for each unit that straddles."""
    people = geo.lsoa.groupby([units, groups])["population"].sum()
    people = people[people > 0]
    total = people.groupby(level=0).sum()
    main = people.sort_values(kind="stable").groupby(level=0).tail(1)
    members: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    index = main.index.to_frame(index=False)
    for unit, group, value in zip(
        index.iloc[:, 0].astype(str), index.iloc[:, 1].astype(str), main.to_numpy(), strict=True
    ):
        members.setdefault(group, []).append(unit)
        share = float(value) / float(total[unit])
        if share < 1.0:
            notes[unit] = (
                f"{geo.name(unit)} straddles {geo.label(groups, plural=True)}: merged here, "
                f"where {share:.1%} of its people live"
            )
    order = {str(u): i for i, u in enumerate(geo.units(units).index)}
    return {g: sorted(m, key=lambda u: order.get(u, 0)) for g, m in members.items()}, notes


def regional_of(
    geo: Geography,
    results: dict[str, Optimum],
    failed: dict[str, str],
    compare: Sequence[str],
    seconds: float,
    within: str | None = None,
) -> RegionalOptimum:
    """The tables, comparisons and explanations of solved systems (see :func:`optimise_systems`)."""
    compare = [geo.resolve_level(lv) for lv in compare]
    rows: list[dict[str, object]] = []
    unit_rows: list[pd.DataFrame] = []
    explanations: dict[str, list[str]] = {}
    failed = dict(failed)
    for code, opt in list(results.items()):
        problem = opt.problem
        assert problem is not None
        if not opt.masks:  # no plan found in the time allowed
            failed[code] = f"{opt.system_name}: {opt.proof_text()}"
            del results[code]
            continue
        table = opt.assignment().assign(system=code, system_name=opt.system_name)
        row: dict[str, object] = {
            "system": code, "name": opt.system_name, "status": opt.status,
            "gap": opt.gap, "lower_bound": opt.lower_bound, "seconds": opt.seconds,
            "plans_counted": None if opt.count is None else opt.count.value,
            "n_units": problem.n, "optimum_blocks": int(opt.best["n_blocks"]),
            "optimum_objective": float(opt.best["objective"]),
        }  # fmt: skip
        for crit in [*problem.objective.names, "change"]:
            row[f"optimum_{crit}"] = float(opt.best[crit])
        found: list[str] = []
        for lv in compare:
            people, areas = _compare_matrix(geo, problem, lv)
            scores, label = score_footprints(problem, people)
            row.update({f"{lv}_{key}": v for key, v in scores.items()})
            fp = geo.units(lv)["name"]
            fp_names = display_names([str(fp.get(a, a)) for a in areas])
            table[lv] = [areas[i] for i in label]
            table[f"{lv}_name"] = [str(fp.get(areas[i], areas[i])) for i in label]
            what = geo.label(lv, plural=True)
            found.extend(compare_splits(problem, what, label, fp_names, opt.masks[0]))
        rows.append(row)
        unit_rows.append(table)
        explanations[code] = explain_splits(geo, opt) + found
    units_table = pd.concat(unit_rows, ignore_index=True) if unit_rows else pd.DataFrame()
    if len(units_table):
        first = ["system", "system_name", "code", "name", "population", "block", "block_name"]
        units_table = units_table[first + [x for x in units_table.columns if x not in first]]
    first_problem = next(iter(results.values())).problem if results else None
    units = first_problem.units if first_problem else ""
    return RegionalOptimum(
        vintage=geo.vintage,
        units=units,
        within=within or (geo.parent(units) if units else "") or "",
        against=first_problem.against if first_problem else (),
        compared={lv: geo.label(lv, plural=True) for lv in compare},
        results=results,
        failed=failed,
        units_table=units_table,
        summary=pd.DataFrame(rows),
        explanations=explanations,
        seconds=seconds,
        notes=[
            "today's footprints and scenarios are scored as plans of whole units (each unit to "
            "the footprint holding most of its people); <level>_split_people says how many "
            "people that moves"
        ]
        if compare
        else [],
    )
