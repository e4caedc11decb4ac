"""The entry points: every plan, the best plan, every system, and given plans.

:func:`mergers` (enumerate, score, rank), :func:`best_plan` (subset DP, no enumeration),
:func:`national` (every system of a vintage), :func:`iter_scored_plans` (every plan, chunk by
chunk), :func:`footprint_table` and :func:`score_plans`. Each takes the system (or a list of
``members``), a few keyword shortcuts for the most used constraints, a
:class:`~coterminus.plans.constraints.Constraints` for the rest, and (where a run is long) a
:class:`~coterminus.plans.constraints.RunOptions`. See :mod:`coterminus.plans`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import partitions as _p
from ..analysis.adjacency import adjacency, validate_overrides
from ..errors import EnumerationTooLargeError, ParameterError
from .constraints import Constraints, RunOptions, check_run, pareto_columns, with_shortcuts
from .parallel import national_parallel, run_system
from .plan_files import PlansLike, plans_to_blocks
from .problem import prepare_problem
from .results import (
    MergerResult,
    NationalResult,
    add_readable,
    best_series,
    merger_result,
    national_summary,
)
from .scoring import columns_frame, plan_columns, score_chunks
from .selection import hist_frame, hist_spec
from .tables import System, build_system, diagnose, footprint_frame
from .writer import arrow_chunk, check_room, plan_file, write_selected

if TYPE_CHECKING:
    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography

__all__ = [
    "best_plan",
    "footprint_table",
    "iter_scored_plans",
    "mergers",
    "national",
    "prepare",
    "score_plans",
    "systems_of",
]

log = logging.getLogger(__name__)


def _constraints(
    constraints: Constraints | None,
    *,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    min_pop: float | None = None,
    max_pop: float | None = None,
) -> Constraints:
    """``constraints`` (default :class:`Constraints()`) with the keyword shortcuts given."""
    return with_shortcuts(
        constraints, units=units, within=within, against=against, min_pop=min_pop,
        max_pop=max_pop,
    )  # fmt: skip


def prepare(
    source: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    members: Sequence[str] | None = None,
    constraints: Constraints | None = None,
) -> System:
    """The footprint table of a system under some constraints (every block scored).

    The first step of every entry point; an optimiser uses
    :func:`coterminus.plans.problem.prepare_problem` instead (no ``2**n`` table).
    """
    return build_system(prepare_problem(source, system, members, _constraints(constraints)))


def _count_or_refuse(sys: System, max_plans: float) -> int:
    count = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
    _p.check_enumerable(
        count,
        max_plans=max_plans,
        what=f"the {sys.problem.words(sys.n)} of {sys.name}",
        contiguous=sys.problem.rules.contiguous,
    )
    if count == 0:
        raise ParameterError(diagnose(sys))
    return count


def footprint_table(
    source: Geography | Mapping[str, OverlapTable],
    members: str | Sequence[str],
    *,
    units: str | None = None,
    constraints: Constraints | None = None,
) -> pd.DataFrame:
    """Every candidate block (all ``2**n - 1`` non-empty subsets) of some units, scored.

    Parameters
    ----------
    source : Geography or mapping of level to OverlapTable
        A loaded vintage, or population overlap tables by level (``{"utla": ..., ...}``).
    members : str or sequence of str
        A system (name or code; needs a Geography) or unit codes.
    units : str, optional
        Level of the units.
    constraints : Constraints, optional
        Scoring and rules (``allowed`` says which blocks the rules keep).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``mask`` (bit ``i`` = ``attrs["members"][i]``): ``members``, ``n_members``,
        ``population``, ``allowed`` (``connected``), per level ``coterminous_<L>`` and
        ``split_areas_<L>``, every criterion, ``change`` and ``cost``.

    Notes
    -----
    Built by the recurrence :math:`m_F = m_{F \\setminus \\{u\\}} + M_u` over masks (by
    doubling), then :func:`coterminus.plans.objective.score_sums` on every row at once.

    Examples
    --------
    Two units that are two councils exactly, and a third that is half of a third council:

    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "C", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 0]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> ft = footprint_table({"la": t}, ["A", "B"], constraints=Constraints(contiguous=False))
    >>> ft[["members", "population", "coterminous_la", "mismatch_la", "change"]]
         members  population  coterminous_la  mismatch_la  change
    mask
    1          A      300000            True            0       0
    2          B      200000            True            0       0
    3        A+B      500000            True            0  200000
    """
    c = _constraints(constraints, units=units)
    if isinstance(members, str) and not isinstance(source, Mapping):
        return footprint_frame(prepare(source, members, None, c.replace(across=True)))
    codes = [members] if isinstance(members, str) else list(members)
    return footprint_frame(prepare(source, None, codes, c.replace(across=True)))


def score_plans(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None,
    plans: PlansLike,
    *,
    members: Sequence[str] | None = None,
    units: str | None = None,
    constraints: Constraints | None = None,
) -> pd.DataFrame:
    """Score given merger plans by look-ups in the footprint table (rules are not applied).

    Parameters
    ----------
    geo : Geography or mapping of level to OverlapTable
    system : str or None
        System name or code (``None`` with ``members=``).
    plans : sequence of plans, or numpy.ndarray of block masks
        Each plan is a list of blocks, each block a list of unit codes/names/NHS codes (a bare
        string is a one-unit block).
    members, units, constraints
        As in :func:`mergers`.

    Returns
    -------
    pandas.DataFrame
        One row per plan: the plan columns (``plan_id`` is the row number), ``allowed`` (every
        block keeps the rules), ``blocks`` (names), ``plan`` (codes), ``labels`` and
        ``coterminous_<L>``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> score_plans(geo, "Coventry and Warwickshire", [[["05A", "05R", "05H"]]])[
    ...     ["n_blocks", "mismatch_utla", "outside_band"]]
       n_blocks  mismatch_utla  outside_band
    0         1              0        949454
    """
    c = _constraints(constraints, units=units)
    sys = prepare(geo, system, members, c)
    blocks = plans_to_blocks(sys, None if isinstance(geo, Mapping) else geo, plans)
    cols = plan_columns(sys, blocks)
    cols["plan_id"] = np.arange(blocks.shape[0], dtype=np.int64)
    frame = columns_frame(sys, cols)
    frame["allowed"] = [bool(sys.allowed[row[row != 0]].all()) for row in blocks]
    return add_readable(sys, frame, blocks)


def best_plan(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    members: Sequence[str] | None = None,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    min_pop: float | None = None,
    max_pop: float | None = None,
    constraints: Constraints | None = None,
) -> pd.Series:
    """The best merger plan, by subset DP — nothing is enumerated.

    Parameters are those of :func:`mergers`. Works up to
    :data:`coterminus.partitions.MAX_UNITS` units, beyond exhaustive enumeration.

    Returns
    -------
    pandas.Series
        The plan's columns (``plan_id`` is its rank in enumeration order), ``blocks``,
        ``plan``, ``labels``, ``coterminous_<L>`` and ``reasons``.

    Notes
    -----
    :math:`d(\\varnothing)=0`, :math:`d(R) = \\min_{S} c(S) + d(R \\setminus S)` over allowed blocks
    :math:`S` holding the lowest unit of :math:`R`, with :math:`c(S) = \\sum_k w_k x_k(S)`,
    lexicographically with the people moved (``change``) as a second cost; :math:`O(3^n)`.

    Examples
    --------
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> best_plan({"la": t}, members=["A", "B", "C"],
    ...           constraints=Constraints(contiguous=False))[["plan", "n_blocks", "objective"]]
    plan         A | B+C
    n_blocks           2
    objective          0
    Name: 0, dtype: object
    """
    c = _constraints(
        constraints, units=units, within=within, against=against, min_pop=min_pop, max_pop=max_pop
    )
    sys = prepare(geo, system, members, c)
    if _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks) == 0:
        raise ParameterError(diagnose(sys))
    return best_series(sys)


def mergers(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    members: Sequence[str] | None = None,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    min_pop: float | None = None,
    max_pop: float | None = None,
    constraints: Constraints | None = None,
    top: int = 20,
    out: str | os.PathLike[str] | None = None,
    run: RunOptions | None = None,
) -> MergerResult:
    """Enumerate, score and rank every merger plan of a system's units.

    Parameters
    ----------
    geo : Geography or mapping of level to OverlapTable
        From :func:`coterminus.load`; or population overlap tables by level
        (``{"utla": overlap(geo, "ltla", "utla"), ...}``: then ``members=`` as codes, and
        ``Constraints(adjacency=...)`` or ``contiguous=False``).
    system : str, optional
        A group of units: STP/ICS, ICB, NHS region, county (name or code of ``geo``'s vintage).
    members : sequence of str, optional
        Codes/names/NHS codes of the units: a subset of ``system``, or (without ``system``) any
        units, e.g. the 14 councils of Greater Essex.
    units : str, optional
        Level of the units (``"ccg"``, ``"sicbl"``, ``"icb"``, ``"utla"``, ``"ltla"``): default
        the finest level the system groups, or the level of ``members``.
    within : str, optional
        Level of ``system`` and of the groups blocks stay within (``"nhser"``, ``"utla"``).
    against : str or sequence of str, optional
        Levels every block is scored against, any number (``["utla", "cauth"]``); criteria and
        columns are named after them. Default: council levels for NHS units, NHS levels for
        council units.
    min_pop, max_pop : float, optional
        Population band of every block; defaults fit the units' level (ICB-sized blocks
        1,000,000 to the largest ICB of the vintage; unitary councils 500,000 to the largest
        upper-tier council; merged CCGs and places 250,000–500,000, scored).
    constraints : Constraints, optional
        Every other option: ``across``, ``contiguous`` (default True), ``no_split``,
        ``coterminous_with`` (``wherever_feasible``), ``soft_band``, ``n_blocks``, ``today``,
        ``weights``, ``tolerance``, ``measure``, adjacency. The shortcuts above override its
        fields when given.
    top : int, default 20
        Plans kept, best first.
    out : path, optional
        Write every scored plan to ``.parquet`` or ``.csv``, chunk by chunk (nothing partial is
        left on error); above ``run.store_limit`` plans only the top-k and the Pareto front
        (a ``selected`` column says which) unless ``run.all_plans``.
    run : RunOptions, optional
        Executor, progress, limits, backend.

    Returns
    -------
    MergerResult

    Raises
    ------
    EnumerationTooLargeError, ParameterError (including a plan-less question, naming the rule
    that makes it infeasible), FootprintError, UnknownAreaError, VintageMismatchError,
    OutputError

    Notes
    -----
    Every criterion is a sum over blocks in people (:mod:`coterminus.plans.objective`); plans
    are ranked by the weighted objective, then by ``change`` (people moved relative to today,
    least first); plans equal on both share a rank. Plans are enumerated block-first (the block
    holding the lowest unassigned unit first), so plan ids are stable; the subset DP
    (:func:`best_plan`) checks the first plan.

    Examples
    --------
    Three councils X (300k people), Y (200k) and Z (200k); CCG A is X, CCG B is Y plus half of
    Z, CCG C is the other half of Z. Merging B and C gives Y + Z exactly:

    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> res = mergers({"la": t}, members=["A", "B", "C"], constraints=Constraints(contiguous=False))
    >>> res.n_plans, res.top.loc[0, "plan"], int(res.top.loc[0, "objective"])
    (5, 'A | B+C', 0)
    >>> res.top.loc[0, "coterminous_la"], res.top.set_index("plan_id").loc[0, "coterminous_la"]
    ('YY', 'YNN')

    With real data:

    >>> geo = coterminus.load(2019)
    >>> r = mergers(geo, "Coventry and Warwickshire")
    >>> r.n_plans, r.top.loc[0, "blocks"]
    (4, 'Coventry and Rugby + South Warwickshire + Warwickshire North')
    """
    t0 = time.perf_counter()
    check_run(top)
    ro = RunOptions() if run is None else run
    c = _constraints(
        constraints, units=units, within=within, against=against, min_pop=min_pop, max_pop=max_pop
    )
    kind = ro.kind
    sys = prepare(geo, system, members, c)
    pareto_cols = pareto_columns(sys.weights, sys.criteria, ro.pareto_on)
    count = _count_or_refuse(sys, ro.max_plans)
    stored = out is not None and (ro.all_plans or count <= ro.store_limit)
    if stored and ro.all_plans:
        check_room(out, count)  # type: ignore[arg-type]
    note = ""
    if out is not None and not stored:
        note = (
            f"{_p.about(count)} plans exceed store_limit={_p.about(int(ro.store_limit))}; "
            "all_plans=True (--all-plans) streams every plan"
        )
        log.warning("%s: writing the top-k and the Pareto front only (%s)", sys.name, note)
    spec = hist_spec(sys) if out is not None and not stored and kind == "numba" else None
    hist_counts: list[np.ndarray] = []
    executor = ro.executor if count >= ro.min_parallel_plans else None
    stamp = getattr(geo, "modified_data", None)  # "MODIFIED DATA" travels into every output
    with plan_file(out if stored else None, [sys], stamp) as writer:
        log.info("%s: %s, %s plans", sys.name, sys.problem.words(sys.n), f"{count:,}")
        top_k, front, n_done = run_system(
            sys, count=count, top=top + 1, pareto_cols=pareto_cols, backend=kind,
            chunk_size=ro.chunk_size, executor=executor, hist=spec, hist_out=hist_counts,
            writer=writer, progress=ro.progress, with_system=False,
        )  # fmt: skip
    path = writer.path if writer is not None else None
    res = merger_result(
        sys, top_k, front, n_done, pareto_cols, path, time.perf_counter() - t0, kind, keep=top
    )
    res.modified_data = stamp
    if spec is not None and hist_counts:
        res.histograms = hist_frame(spec, hist_counts[0])
    if out is not None and not stored:
        res.out = write_selected(out, res)
        res.out_note = note
    return res


def iter_scored_plans(
    geo: Geography,
    system: str | None = None,
    *,
    members: Sequence[str] | None = None,
    units: str | None = None,
    constraints: Constraints | None = None,
    run: RunOptions | None = None,
) -> Iterator[pd.DataFrame]:
    """Every scored plan of a system, one DataFrame per chunk (never all in memory).

    Each chunk has ``plan_id``, ``labels``, the plan columns and ``coterminous_<L>``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> sum(len(c) for c in iter_scored_plans(geo, "Cheshire and Merseyside",
    ...                                       constraints=Constraints(contiguous=False)))
    4213597
    """
    ro = RunOptions() if run is None else run
    sys = prepare(geo, system, members, _constraints(constraints, units=units))
    _count_or_refuse(sys, ro.max_plans)
    for scored in score_chunks(sys, backend=ro.kind, chunk_size=ro.chunk_size):
        yield arrow_chunk(sys, scored.cols, scored.blocks(), with_system=False).to_pandas()


def systems_of(
    geo: Geography, group_level: str, systems: Sequence[str] | None, units: str | None
) -> tuple[list[str], str]:
    """The codes of the systems (``systems`` by name or code, default every unit of
    ``group_level``) and the level of their units (``units``, default the level of the first
    system's first member)."""
    codes = (
        [str(x) for x in geo.units(group_level).index]
        if systems is None
        else [geo.code(s, group_level) for s in systems]
    )
    unit_level = (
        geo.resolve_level(units)
        if units
        else geo.level_of(geo.members(codes[0], within=group_level)[0])
    )
    return codes, unit_level


def national(
    geo: Geography,
    *,
    systems: Sequence[str] | None = None,
    units: str | None = None,
    within: str | None = None,
    against: str | Sequence[str] | None = None,
    min_pop: float | None = None,
    max_pop: float | None = None,
    constraints: Constraints | None = None,
    top: int = 5,
    out: str | os.PathLike[str] | None = None,
    run: RunOptions | None = None,
) -> NationalResult:
    """Run :func:`mergers` for every system of a vintage in one call.

    Parameters are those of :func:`mergers`; ``systems`` restricts the run (names or codes of
    the ``within`` level, default the vintage's systems: STPs to 2021, ICBs since 2022).
    Adjacency is computed once for all units. Every system is counted first and the run is
    refused, naming the systems, if any exceeds ``max_plans``; a system without a plan is
    skipped with a warning saying why. With ``out`` every plan of every system goes to one
    file with a ``system`` column; with an executor, systems (and slices of large ones) run in
    parallel.

    Returns
    -------
    NationalResult

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> res = national(geo)
    >>> res.n_plans
    77073
    """
    t0 = time.perf_counter()
    check_run(top)
    ro = RunOptions() if run is None else run
    kind = ro.kind
    c = _constraints(
        constraints, units=units, within=within, against=against, min_pop=min_pop, max_pop=max_pop
    )
    group_level = geo.resolve_level(c.within) if c.within else None
    if group_level is None and c.units is not None:
        group_level = geo.parent(geo.resolve_level(c.units))
    if group_level is None and geo.manifest is not None:
        group_level = geo.manifest.defaults.get("systems")
    if group_level is None:  # the level grouping the finest NHS level (STP for CCGs)
        group_level = next((geo.parent(n) for n in geo.side("nhs") if geo.parent(n)), None)
    if group_level is None:
        msg = "national() needs the level of the systems: pass within= (e.g. 'stp' or 'icb')."
        raise ParameterError(msg)
    codes, unit_level = systems_of(geo, group_level, systems, c.units)
    c = c.replace(units=unit_level, within=group_level)
    if c.contiguous and c.adjacency is None:  # once for every unit, not once per system
        over = validate_overrides(c.overrides, geo.units(unit_level).index.astype(str))
        edges = adjacency(
            geo.layer(unit_level), min_shared_m=c.min_shared_m, snap_m=c.snap_m, overrides=over
        )
        c = dataclasses.replace(c, adjacency=edges, overrides=None)
    prepared: list[System] = []
    counts: list[int] = []
    too_big: list[str] = []
    for code in codes:
        sys = prepare(geo, code, None, c)
        k = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
        if k > ro.max_plans:
            too_big.append(f"{sys.name} ({code}): {k:,}")
        if k == 0:
            log.warning("%s", diagnose(sys))
        prepared.append(sys)
        counts.append(k)
    if too_big:
        msg = (
            f"{len(too_big)} system(s) exceed max_plans={int(ro.max_plans):,}: "
            f"{'; '.join(too_big)}; nothing was enumerated. Add rules (contiguity, n_blocks, a "
            "band), raise max_plans, or run best_plan() per system (dynamic programme)."
        )
        raise EnumerationTooLargeError(msg)
    first = prepared[0] if prepared else None
    pareto_cols = pareto_columns(first.weights, first.criteria, ro.pareto_on) if first else []
    results: dict[str, MergerResult] = {}
    total = int(sum(counts))
    stamp = geo.modified_data
    with plan_file(out if prepared else None, prepared, stamp) as writer:
        bar = None
        if ro.progress:
            bar = tqdm(total=total, unit="plan", unit_scale=True, desc=f"{len(prepared)} systems")
        try:
            if ro.executor is None:
                for sys, k in zip(prepared, counts, strict=True):
                    if k == 0:
                        continue
                    ts = time.perf_counter()
                    top_k, front, n_done = run_system(
                        sys, count=k, top=top + 1, pareto_cols=pareto_cols, backend=kind,
                        chunk_size=ro.chunk_size, executor=None, writer=writer, progress=False,
                        with_system=True, bar=bar,
                    )  # fmt: skip
                    results[str(sys.code)] = merger_result(
                        sys, top_k, front, n_done, pareto_cols, None, time.perf_counter() - ts,
                        kind, keep=top,
                    )  # fmt: skip
            else:
                results = national_parallel(
                    prepared, counts, top=top + 1, pareto_cols=pareto_cols, backend=kind,
                    chunk_size=ro.chunk_size, executor=ro.executor, writer=writer, bar=bar,
                )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
    path = writer.path if writer is not None else None
    return NationalResult(
        vintage=geo.vintage,
        summary=national_summary(prepared, counts, results),
        results=results,
        weights=first.weights if first else {},
        constraints=dict(first.problem.constraints) if first else {},
        n_plans=total,
        out=path,
        seconds=time.perf_counter() - t0,
        labels=dict(first.problem.labels) if first else {},
        modified_data=stamp,
    )
