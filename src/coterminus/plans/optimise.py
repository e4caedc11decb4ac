"""The exact best merger plan of a system of any size: ``ct.optimise``.

:func:`optimise` answers the question of :func:`coterminus.plans.mergers.mergers` — the same
:class:`~coterminus.plans.constraints.Constraints`, the same objective in people, the same
tie-break (least ``change``) — without enumerating plans, so it runs on the 24–33 upper-tier
councils of an NHS region or the 65 lower-tier councils of the Midlands. It returns an
:class:`Optimum`: the ``k`` best distinct plans with their breakdown by criterion, whether the
first is *proven* optimal, the gap and lower bound when it is not (time limit), and, where it
can, the exact number of plans that keep the rules (so "best of N" is a real N).

The engine (:mod:`~coterminus.plans.solve`): a set-partitioning MILP over the allowed blocks,
solved by HiGHS, directly or by column generation (METHODS.md §6.6). The exhaustive engine is
its oracle: both give the same optimum on every instance the tests generate.

Examples
--------
>>> geo = coterminus.load(2019)
>>> opt = optimise(geo, "Coventry and Warwickshire")
>>> opt.proven, opt.gap, opt.best["blocks"]
(True, 0.0, 'Coventry and Rugby + South Warwickshire + Warwickshire North')
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..errors import InconsistentResultError, ParameterError
from ..geography.resolve import display_names
from ..vocabulary.words import join_names
from .candidates import TooManyCandidates, candidate_blocks, masks_to_matrix
from .constraints import Constraints, RunOptions, with_shortcuts
from .counting import PlanCount, count_feasible
from .objective import cost_step, cost_steps, score_blocks
from .problem import Problem, prepare_problem
from .results import weights_text
from .rules import RULE_WORDS
from .solve import Solution, has_plan, rules_in_force, solve, stranded_units, without_rule
from .tables import build_system, diagnose

if TYPE_CHECKING:
    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography

__all__ = ["Optimum", "diagnose_problem", "join_islands", "optimise", "optimum_of"]

#: Most units for which the infeasibility diagnosis uses the exhaustive footprint table.
TABLE_UNITS = 16

#: Most seconds spent counting plans (the dynamic programme stops and says so).
COUNT_SECONDS = 30.0

JsonValue = object


@dataclass(repr=False)
class Optimum:
    """The exact best plans of one merger question (see the module notes).

    Attributes
    ----------
    system, system_name : str or None, str
    vintage : int, str or None
    units : str
        Level of the units merged.
    status : {"optimal", "feasible", "unknown"}
        "optimal": the first plan is proven best; "feasible": a plan without proof (time
        limit; see ``gap``); "unknown": no plan found in time.
    proven : bool
    gap : float
        Objective of the first plan minus the lower bound, in people (0 when proven).
    lower_bound : float
        No plan has a lower objective (people).
    unique : bool or None
        Whether no other plan ties the first on (objective, change); ``None``: not decided.
    plans : pandas.DataFrame
        The ``k`` best distinct plans, best first: ``rank`` (equal for ties), ``tied``,
        ``proven``, ``n_blocks``, ``objective``, every criterion (people), ``change``,
        ``blocks`` (names), ``plan`` (codes), ``coterminous_<L>`` (Y/N per block).
    count : PlanCount or None
        How many plans keep every rule (``count.value``; ``None`` when not counted).
    weights : dict
        Weight of every criterion, as used.
    method : str
        The formulation that ran ("direct MILP", "column generation ...").
    n_candidates : int
        Blocks the MILP chose among.
    seconds : float
    notes : list of str
        What was done to the question (islands joined) and how it was solved.
    """

    system: str | None
    system_name: str
    vintage: int | str | None
    units: str
    status: str
    proven: bool
    gap: float
    lower_bound: float
    unique: bool | None
    plans: pd.DataFrame
    count: PlanCount | None
    weights: dict[str, float]
    method: str
    n_candidates: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    problem: Problem | None = field(default=None)
    masks: list[list[int]] = field(default_factory=list)

    def __repr__(self) -> str:
        best = self.plans.iloc[0]["blocks"] if len(self.plans) else "-"
        return (
            f"<Optimum {self.system_name} ({self.system}, {self.vintage}): {self.status}, "
            f"gap {self.gap:,.0f}; best: {best}>"
        )

    @property
    def best(self) -> pd.Series:
        """The first plan (an empty Series when none was found)."""
        return self.plans.iloc[0] if len(self.plans) else pd.Series(dtype=object)

    def assignment(self, rank: int = 1) -> pd.DataFrame:
        """One row per unit of the plan of ``rank``: ``code``, ``name``, ``population``,
        ``block`` (1, 2, ... by lowest unit) and ``block_name``.

        Examples
        --------
        >>> geo = coterminus.load(2019)
        >>> optimise(geo, "Coventry and Warwickshire").assignment()["block"].tolist()
        [1, 1, 1]
        """
        p = self.problem
        if p is None or not 1 <= rank <= len(self.masks):
            msg = f"rank={rank}: this result holds plans 1 to {len(self.masks)}"
            raise ParameterError(msg)
        masks = self.masks[rank - 1]
        names = display_names(p.names)
        label = np.zeros(p.n, dtype=np.int64)
        block_name = [""] * p.n
        for b, m in enumerate(masks, start=1):
            members = [u for u in range(p.n) if m >> u & 1]
            label[members] = b
            for u in members:
                block_name[u] = " + ".join(names[v] for v in members)
        return pd.DataFrame(
            {
                "code": list(p.codes),
                "name": list(p.names),
                "population": p.objective.population,
                "block": label,
                "block_name": block_name,
            }
        )

    def summary(self, rows: int = 5) -> str:
        """A plain-text report: the question, the proof, the objective and the best plans."""
        p = self.problem
        lines = [f"{self.system_name} ({self.system or 'custom'}), vintage {self.vintage}"]
        if p is not None:
            rules = ", ".join(f"{k}={v}" for k, v in p.constraints.items() if k != "band")
            lines[0] += f": {p.words(p.n)}" + (f" ({rules})" if rules else "")
            lines.append(f"blocks: {p.band.text}")
            lines.append("objective = Σ over blocks of Σ weight × criterion (lower is better):")
            lines += [f"  {t}" for t in weights_text(self.weights, p.labels, p.measure)]
            lines.append(
                "ties on the objective go to the plan that moves fewest people from today's "
                f"{p.constraints.get('today', p.unit_plural)} (change)"
            )
        lines.append(self.proof_text())
        if self.count is not None:
            lines.append(f"plans that keep every rule: {self.count.text}")
        lines += [f"note: {n}" for n in self.notes]
        lines.append("")
        crit = [c for c, w in self.weights.items() if w]
        for _, r in self.plans.head(rows).iterrows():
            rank = f"={r['rank']}" if r["tied"] else f"{r['rank']}"
            parts = ", ".join(f"{c} {int(r[c]):,}" for c in crit)
            words = p.block_words(int(r["n_blocks"])) if p is not None else r["n_blocks"]
            lines.append(
                f"#{rank} objective {_num(r['objective'])} ({parts}), change {int(r['change']):,}, "
                f"{words}" + ("" if r["proven"] else " (rank not proven)")
            )
            lines.append(f"  {r['blocks']}")
        return "\n".join(lines)

    def proof_text(self) -> str:
        """One sentence: proven optimal, or the gap and bound, with the method and time."""
        if self.status == "optimal":
            tie = {True: ", no other plan ties it", False: ", tied with other plans", None: ""}
            head = f"proven optimal (gap 0{tie[self.unique]})"
        elif self.status == "feasible":
            head = (
                f"best plan found, not proven: gap {self.gap:,.0f} people "
                f"(lower bound {self.lower_bound:,.0f})"
            )
        else:
            head = "no plan found in the time allowed"
        return (
            f"{head}; {self.method}, {self.n_candidates:,} candidate blocks, {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, JsonValue]:
        """Plain-Python form for JSON."""
        p = self.problem
        return {
            "system": self.system,
            "system_name": self.system_name,
            "vintage": self.vintage,
            "units": self.units,
            "status": self.status,
            "proven": self.proven,
            "gap": _finite(self.gap),
            "lower_bound": _finite(self.lower_bound),
            "unique": self.unique,
            "band": p.band.text if p is not None else None,
            "against": list(p.against) if p is not None else [],
            "constraints": json.loads(json.dumps(p.constraints if p else {}, default=str)),
            "weights": dict(self.weights),
            "count": None if self.count is None else self.count.value,
            "count_how": None if self.count is None else self.count.how,
            "method": self.method,
            "n_candidates": self.n_candidates,
            "seconds": self.seconds,
            "notes": list(self.notes),
            "plans": json.loads(self.plans.to_json(orient="records")),
        }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _num(x: object) -> str:
    v = float(x)  # type: ignore[arg-type]
    return f"{v:,.0f}" if v == round(v) else f"{v:,.2f}"


# ---------------------------------------------------------------------------------------------
# islands
# ---------------------------------------------------------------------------------------------
def join_islands(problem: Problem, geo: Geography | None) -> tuple[Problem, list[str]]:
    """Join each unit that touches no other unit to its nearest unit (a water crossing).

    With contiguity, a unit whose polygon touches no other (the Isle of Wight, the Isles of
    Scilly) could only be a block alone, below any floor, so every plan would be infeasible.
    Each such unit is made adjacent to the nearest unit of its group by boundary distance
    (from the polygons of ``geo``); a note names each link. Nothing changes without
    contiguity, without polygons, or for a unit that is alone in its group.
    """
    n = problem.n
    if not problem.rules.contiguous or geo is None or n < 2:
        return problem, []
    lonely = [u for u in range(n) if not problem.neighbours[u]]
    if not lonely:
        return problem, []
    layer = geo.layer(problem.units).loc[list(problem.codes)].geometry.to_numpy()
    nb = list(problem.neighbours)
    notes = []
    for u in lonely:
        others = [v for v in range(n) if v != u]
        if problem.rules.within:
            others = [v for v in others if problem.groups[v] == problem.groups[u]]
        if not others:
            continue
        dist = [float(layer[u].distance(layer[v])) for v in others]
        v = others[int(np.argmin(dist))]
        nb[u] |= 1 << v
        nb[v] |= 1 << u
        notes.append(
            f"{problem.names[u]} touches no other {problem.unit_label}: joined to the nearest, "
            f"{problem.names[v]} ({min(dist) / 1000:,.1f} km across water); "
            "islands='keep' leaves it alone"
        )
    return dataclasses.replace(problem, neighbours=tuple(nb)), notes


# ---------------------------------------------------------------------------------------------
# diagnosis
# ---------------------------------------------------------------------------------------------
def diagnose_problem(problem: Problem, *, time_limit: float = 60.0) -> str:
    """Why no plan keeps every rule: the units no allowed block holds and the rules whose
    removal alone gives a plan (the exhaustive table's words up to :data:`TABLE_UNITS`)."""
    if problem.n <= TABLE_UNITS:
        return diagnose(build_system(problem))
    lines = [
        f"No plan of the {problem.words(problem.n)} of {problem.name} keeps every rule "
        f"({problem.band.text})."
    ]
    try:
        cands = candidate_blocks(problem, max_candidates=500_000)
    except TooManyCandidates:
        cands = None
    stranded = stranded_units(problem, cands)
    if stranded:
        names = join_names([problem.names[u] for u in stranded])
        lines.append(f"No allowed block holds {names}.")
    relax: list[str] = []
    open_: list[str] = []
    for rule in rules_in_force(problem):
        found = has_plan(without_rule(problem, rule), time_limit=time_limit)
        if found is not False:
            (relax if found else open_).append(f"without {RULE_WORDS[rule.partition(':')[0]]}")
    if relax:
        lines.append("Dropping one rule would allow plans: " + "; ".join(relax) + ".")
    if open_:
        lines.append("Not decided (too many blocks to check): " + "; ".join(open_) + ".")
    return " ".join(lines)


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------
def _plan_rows(problem: Problem, sol: Solution) -> tuple[pd.DataFrame, list[list[int]]]:
    """The plans of ``sol`` re-scored by the library's objective (checked against the MILP)."""
    obj = problem.objective
    step = cost_step(obj)
    names = display_names(problem.names)
    rows = []
    masks = []
    for plan in sol.plans:
        mat = masks_to_matrix(plan.masks, problem.n)
        s = score_blocks(obj, mat)
        steps = int(cost_steps(obj, s.cost).sum())
        change = int(s.change.sum())
        if (steps, change) != (plan.steps, plan.change):
            msg = (
                f"{problem.name}: plan {plan.rank} scores ({steps}, {change}) by the objective "
                f"but ({plan.steps}, {plan.change}) in the MILP; please report this"
            )
            raise InconsistentResultError(msg)
        row: dict[str, object] = {
            "rank": 0,
            "tied": plan.tied_with_previous,
            "proven": plan.proven,
            "n_blocks": len(plan.masks),
            "objective": steps * step,
        }
        row.update({c: int(v.sum()) for c, v in s.criteria.items()})
        row["change"] = change
        members = [[u for u in range(problem.n) if m >> u & 1] for m in plan.masks]
        row["blocks"] = " | ".join(" + ".join(names[u] for u in b) for b in members)
        row["plan"] = " | ".join("+".join(problem.codes[u] for u in b) for b in members)
        for lv in obj.levels:
            row[f"coterminous_{lv.name}"] = "".join(
                "Y" if x else "N" for x in s.coterminous[lv.name]
            )
        rows.append(row)
        masks.append(list(plan.masks))
    frame = pd.DataFrame(rows)
    if len(frame):
        rank, last = 0, None
        ranks = []
        for i, tied in enumerate(frame["tied"].tolist()):
            rank = rank if tied and last is not None else i + 1
            ranks.append(rank)
            last = rank
        frame["rank"] = ranks
    return frame, masks


def optimum_of(
    problem: Problem,
    *,
    k: int = 3,
    time_limit: float = 600.0,
    count: bool = True,
    progress: bool = False,
    notes: Sequence[str] = (),
) -> Optimum:
    """Solve a prepared :class:`~coterminus.plans.problem.Problem` (see :func:`optimise`).

    Raises :class:`~coterminus.errors.ParameterError` naming the rule that makes it infeasible.
    """
    t0 = time.perf_counter()
    bar = tqdm(total=None, desc=f"optimise {problem.name}", disable=not progress, leave=False)
    try:
        sol = solve(problem, k=k, time_limit=time_limit, report=bar.set_postfix_str)
    finally:
        bar.close()
    if sol.status == "infeasible":
        raise ParameterError(diagnose_problem(problem))
    plans, masks = _plan_rows(problem, sol)
    step = cost_step(problem.objective)
    gap_steps, _ = sol.gap
    lower = sol.steps_bound * step if math.isfinite(sol.steps_bound) else -math.inf
    counted = None
    if count:
        left = max(10.0, time_limit - (time.perf_counter() - t0))
        counted = count_feasible(problem, sol.candidates, time_limit=min(COUNT_SECONDS, left))
    weights = {c: float(w) for c, w in (problem.objective.weights or {}).items()}
    return Optimum(
        system=problem.code,
        system_name=problem.name,
        vintage=problem.vintage,
        units=problem.units,
        status="unknown" if sol.status == "unknown" else sol.status,
        proven=sol.status == "optimal",
        gap=gap_steps * step if math.isfinite(gap_steps) else math.inf,
        lower_bound=lower,
        unique=sol.unique,
        plans=plans,
        count=counted,
        weights=weights,
        method=sol.method,
        n_candidates=sol.n_blocks_considered,
        seconds=time.perf_counter() - t0,
        notes=[*notes, *sol.notes],
        problem=problem,
        masks=masks,
    )


def optimise(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    members: Sequence[str] | None = None,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    constraints: Constraints | None = None,
    k: int = 3,
    time_limit: float = 600.0,
    count: bool = True,
    islands: Literal["nearest", "keep"] = "nearest",
    run: RunOptions | None = None,
) -> Optimum:
    """The proven best merger plans of a system, of any size, by the objective of ``mergers``.

    Parameters
    ----------
    geo : Geography or mapping of level to OverlapTable
        As in :func:`coterminus.mergers`.
    system : str, optional
        A group of units (name or code): an ICB, an NHS region, a county.
    members : sequence of str, optional
        Codes/names of the units: a subset of ``system``, or (without it) any units.
    units, within, against : optional
        Level of the units, of ``system`` and of the groups blocks stay within, and the levels
        every block is scored against (any number), as in :func:`coterminus.mergers`.
    constraints : Constraints, optional
        Band, contiguity, ``no_split``, ``coterminous_with``, ``today``, weights... The
        shortcuts above override its fields when given.
    k : int, default 3
        Distinct plans wanted, best first (ties are marked).
    time_limit : float, default 600
        Seconds; past it the best plan found is returned with its gap and lower bound.
    count : bool, default True
        Count the plans that keep every rule (exact; skipped when too many states).
    islands : {"nearest", "keep"}, default "nearest"
        A unit touching no other (an island) is joined to its nearest unit ("nearest", said in
        ``notes``) or left alone ("keep": then it can only be a block by itself).
    run : RunOptions, optional
        ``progress`` shows a progress bar; other fields do not apply.

    Returns
    -------
    Optimum

    Raises
    ------
    ParameterError
        A bad ``k``/``time_limit``, or no plan keeps the rules (the message names the rules
        whose removal gives plans, and units no allowed block holds).
    FootprintError, UnknownAreaError, VintageMismatchError
        As :func:`coterminus.mergers`.

    Notes
    -----
    A set-partitioning MILP (METHODS.md §6.6): one binary per allowed block, one equality row
    per unit; first the weighted objective is minimised, then ``change`` subject to the
    objective staying optimal (both whole numbers, so exact); the k best distinct plans come
    from no-good cuts. All blocks are enumerated when there are at most
    :data:`~coterminus.plans.candidates.MAX_CANDIDATES` connected sets under the maximum
    population; otherwise blocks are generated by a one-block pricing MILP (column
    generation), and the final MILP is made exact by enumerating every block whose reduced cost
    could improve a plan.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> opt = optimise(geo, "Coventry and Warwickshire", k=2)
    >>> opt.status, opt.count.value, len(opt.plans)
    ('optimal', 4, 2)
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        msg = f"k={k!r} must be a whole number ≥ 1 (the plans wanted)"
        raise ParameterError(msg)
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        msg = f"time_limit={time_limit!r} must be a positive number of seconds"
        raise ParameterError(msg)
    if islands not in ("nearest", "keep"):
        msg = f"islands={islands!r}; use 'nearest' or 'keep'"
        raise ParameterError(msg)
    c = with_shortcuts(constraints, units=units, within=within, against=against)
    problem = prepare_problem(geo, system, members, c)
    notes: list[str] = []
    if islands == "nearest" and not isinstance(geo, Mapping):
        problem, notes = join_islands(problem, geo)
    progress = bool(run.progress) if run is not None else False
    return optimum_of(
        problem, k=int(k), time_limit=float(time_limit), count=count, progress=progress,
        notes=notes,
    )  # fmt: skip
