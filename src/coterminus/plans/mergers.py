"""The entry points: every plan, the best plan, every system, and given plans.

:func:`mergers` (enumerate, score, rank), :func:`best_plan` (subset DP, no enumeration),
:func:`national` (every system of a vintage), :func:`iter_scored_plans` (every plan, chunk by
chunk), :func:`footprint_table` and :func:`score_plans`.  See :mod:`coterminus.plans`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import partitions as _p
from ..analysis.adjacency import DEFAULT_MIN_SHARED_M, DEFAULT_SNAP_M, adjacency, validate_overrides
from ..errors import EnumerationTooLargeError, FootprintError, ParameterError
from .constraints import (
    Constraints,
    against_slots,
    build_system,
    check_band,
    check_run,
    check_weights,
    clip_n_ccgs,
    count_or_refuse,
    pareto_columns,
    prepare_system,
    resolve_units,
    unit_codes,
)
from .parallel import national_parallel, run_system
from .plan_files import plans_to_blocks
from .results import (
    MergerResult,
    NationalResult,
    add_readable,
    best_series,
    merger_result,
    national_summary,
)
from .scoring import columns_frame, direct_aggregates, finalise, score_chunks
from .selection import hist_frame, hist_spec, kernel_supports
from .tables import DEFAULT_BAND, DEFAULT_CHUNK, DEFAULT_STORE_LIMIT, System, footprint_frame
from .writer import arrow_chunk, check_room, plan_file, write_selected

if TYPE_CHECKING:
    from ..analysis.overlap import OverlapTable
    from ..geography.bundle import Geography

log = logging.getLogger(__name__)


def footprint_table(
    source: Geography | Mapping[str, OverlapTable],
    members: str | Sequence[str],
    *,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    band: tuple[float, float] = DEFAULT_BAND,
    contiguous: bool = False,
    overrides: Mapping[tuple[str, str], bool] | None = None,
) -> pd.DataFrame:
    """Metrics of every candidate footprint (all ``2**n - 1`` non-empty subsets) of some CCGs.

    Parameters
    ----------
    source : Geography or mapping of tier to OverlapTable
        A loaded vintage, or overlap tables ``{"utla": ..., "ltla": ...}`` (units × LAs).
    members : str or sequence of str
        A system (name or E54 code; needs a Geography) or CCG codes.
    tolerance : float, optional
        ε (default 0.005 for population, 0.03 for area).
    measure : {"population", "area"}
        Used with a Geography.
    band : (float, float)
        Population band for ``in_band``.
    contiguous : bool
        Add a ``connected`` column (needs polygons).
    overrides : mapping, optional
        Adjacency overrides for ``connected``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``mask`` (bit ``i`` = ``attrs["members"][i]``): ``members``, ``n_members``,
        ``population``, ``in_band``, ``band_gap``, ``n_systems`` and per tier ``j_<tier>``,
        ``coterminous_<tier>``, ``best_fit_<tier>``, ``n_contained_<tier>``,
        ``n_split_<tier>``, ``mismatch_<tier>``, ``outside_best_fit_<tier>``,
        ``best_fit_outside_<tier>``.

    Notes
    -----
    Built by the recurrence :math:`m_F = m_{F \\setminus \\{u\\}} + M_u` over masks (vectorised by
    doubling: the masks with top bit :math:`i` are the masks below plus unit :math:`i`), then the
    formulas of :mod:`coterminus.analysis.metrics` on every row at once.

    Examples
    --------
    Two CCGs that are exactly two councils, and a third that is half of a third council:

    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "C", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 0]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> ft = footprint_table({"utla": t, "ltla": t}, ["A", "B"])
    >>> ft[["members", "population", "j_utla", "coterminous_utla", "best_fit_utla"]]
         members  population  j_utla  coterminous_utla best_fit_utla
    mask
    1          A      300000     1.0              True             X
    2          B      200000     1.0              True             Y
    3        A+B      500000     1.0              True           X+Y
    """
    level = None
    if isinstance(members, str):
        if isinstance(source, Mapping):
            members = [members]
        else:
            _, _, members, level = resolve_units(source, members, None)
    codes = list(members)
    if not isinstance(source, Mapping):
        codes = unit_codes(source, codes, level)
        level = level or source.level_of(codes[0]) if codes else level
    if not codes:
        msg = "members is empty; give at least one unit"
        raise FootprintError(msg)
    extra: dict[str, Any] = {}
    if level is not None and not isinstance(source, Mapping):
        extra = {
            "unit_level": level,
            "against": against_slots(source, level, None),
            "within": source.parent(level),
        }
    sys = build_system(
        source,
        codes,
        **extra,
        code=None,
        name="footprints",
        measure=measure,
        tolerance=tolerance,
        band=check_band(band, "band"),
        weights=None,
        contiguous=contiguous,
        overrides=overrides,
        within_system=False,
    )
    return footprint_frame(sys)


def score_plans(
    geo: Geography,
    system: str | None,
    plans: Sequence[Sequence[Sequence[str] | str]] | np.ndarray,
    *,
    units: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    band: tuple[float, float] = DEFAULT_BAND,
) -> pd.DataFrame:
    """Score given merger plans by look-ups in the footprint table.

    Parameters
    ----------
    geo : Geography
    system : str or None
        System name or code (``None`` with ``units=``).
    plans : sequence of plans, or numpy.ndarray of block masks
        Each plan is a list of blocks, each block a list of CCG codes/names/NHS codes (a bare
        string is a one-CCG block).
    units, weights, tolerance, measure, band
        As in :func:`mergers`.

    Returns
    -------
    pandas.DataFrame
        One row per plan with :data:`PLAN_COLUMNS` (``plan_id`` is the row number),
        ``blocks`` (names), ``plan`` (codes) and ``test_ii_utla``/``test_ii_ltla``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> score_plans(geo, "Coventry and Warwickshire",
    ...             [[["05A", "05R", "05H"]]])[["n_ccgs", "min_j_utla"]]
       n_ccgs  min_j_utla
    0       1         1.0
    """
    code, name, codes, level = resolve_units(geo, system, units)
    sys = build_system(
        geo,
        codes,
        unit_level=level,
        against=against_slots(geo, level, None),
        within=geo.parent(level),
        code=code,
        name=name,
        measure=measure,
        tolerance=tolerance,
        band=check_band(band, "band"),
        weights=weights,
        within_system=False,
    )
    blocks = plans_to_blocks(sys, geo, plans)
    count, sums, mins, twice = direct_aggregates(sys, blocks)
    cols = finalise(sys, count, sums, mins, twice)
    cols["plan_id"] = np.arange(blocks.shape[0], dtype=np.int64)
    frame = columns_frame(sys, cols)
    return add_readable(sys, frame, blocks)


def best_plan(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    units: Sequence[str] | None = None,
    contiguous: bool = False,
    adjacency: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | str = False,
    within_system: bool = True,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> pd.Series:
    """The best merger plan under the weighted objective, by subset DP — nothing is enumerated.

    Parameters are those of :func:`mergers`. Works for systems far beyond exhaustive reach
    (up to :data:`coterminus.partitions.MAX_UNITS` CCGs).

    Returns
    -------
    pandas.Series
        The plan's :data:`PLAN_COLUMNS` (``plan_id`` is its rank in enumeration order),
        ``blocks``, ``plan``, ``labels``, ``test_ii_*`` and ``reasons``.

    Notes
    -----
    :math:`d(\\varnothing)=0`, :math:`d(R) = \\min_{S} c(S) + d(R \\setminus S)` over allowed blocks
    :math:`S` holding the lowest CCG of :math:`R`, with :math:`c(S) = \\sum_k w_k x_k(S)`;
    :math:`O(3^n)` (0.27 M pairs for 12 CCGs). Ties go to the lowest plan id, as in
    :func:`mergers`.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> best_plan({"utla": t, "ltla": t}, units=["A", "B", "C"])[["plan_id", "plan", "n_ccgs"]]
    plan_id        1
    plan     A | B+C
    n_ccgs         2
    Name: 0, dtype: object
    """
    constraints = Constraints(
        units=units,
        level=level,
        within=within,
        against=against,
        min_pop=min_pop,
        no_split=no_split,
        coterminous_with=coterminous_with,
        contiguous=contiguous,
        adjacency=adjacency,
        overrides=overrides,
        n_ccgs=n_ccgs,
        population_band=population_band,
        coterminous_only=coterminous_only,
        within_system=within_system,
        band=band,
        weights=weights,
        tolerance=tolerance,
        measure=measure,
        min_shared_m=min_shared_m,
        snap_m=snap_m,
    )
    sys = prepare_system(geo, system, constraints)
    return best_series(sys)


def mergers(
    geo: Geography | Mapping[str, OverlapTable],
    system: str | None = None,
    *,
    units: Sequence[str] | None = None,
    contiguous: bool = False,
    adjacency: pd.DataFrame | None = None,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | Literal["utla", "ltla", "both"] = False,
    within_system: bool = True,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    pareto_on: Sequence[str] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    top: int = 20,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    progress: bool = False,
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    backend: _p.Backend = "auto",
    chunk_size: int = DEFAULT_CHUNK,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    min_parallel_plans: float = 0,
    store_limit: float = DEFAULT_STORE_LIMIT,
    all_plans: bool = False,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> MergerResult:
    """Enumerate, score and rank every merger plan of a system's CCGs.

    Parameters
    ----------
    geo : Geography or mapping of tier to OverlapTable
        From :func:`coterminus.load`; or overlap tables ``{"utla": ..., "ltla": ...}`` of
        units × councils by population (then give ``units=`` as codes; no contiguity without
        ``adjacency=``).
    system : str, optional
        STP/ICS name or E54 code of ``geo``'s vintage.
    units : str or sequence of str, optional
        Codes/names/NHS codes of the units: a subset of ``system``, or (without ``system``) any
        units; or a level name (``units="icb"``), the same as ``level=``.
    level : str, optional
        Level of the units (``"ccg"``, ``"sicbl"``, ``"icb"``, ``"ltla"``, a scenario): default
        the finest level the system groups (CCGs of an STP, sub-ICB locations of an ICB).
    within : str, optional
        Level of ``system`` (``"stp"``, ``"icb"``, ``"nhser"``, ``"utla"``...): default the level
        grouping the units. Blocks stay within one unit of it (``within_system``).
    against : sequence of str, optional
        The two levels every plan is scored against (default the vintage's first two, e.g.
        upper and lower tier). Output columns are named after them (``j_utla``, ``j_cauth``...);
        files keep the slot suffixes ``_utla``/``_ltla`` for the first/second level and record
        the levels in their metadata.
    min_pop : float, optional
        Constraint: every block has at least this many people (the 2025 footprint rule of about
        1,000,000 people per ICB: ``min_pop=1_000_000``).
    no_split : str or sequence of str, optional
        Constraint: no area of these levels lying wholly inside the system is split between
        blocks ("one ICB per local authority": ``no_split="utla"``).
    coterminous_with : str or sequence of str, optional
        Constraint: every block passes test II against these levels ("coterminous with one or
        more strategic authorities": ``coterminous_with="cauth"``).
    contiguous : bool, default False
        Only blocks whose CCGs form a connected group (shared boundary ≥ ``min_shared_m``).
    adjacency : pandas.DataFrame, optional
        Precomputed edges (:func:`coterminus.analysis.adjacency.adjacency`) instead of polygons.
    overrides : mapping of (str, str) to bool, optional
        Join (``True``) or separate (``False``) CCG pairs: islands and estuaries.
    n_ccgs : int or (int, int), optional
        Number of CCGs after merger (or an inclusive range).
    population_band : (float, float), optional
        Hard constraint: every block's population within this band.
    coterminous_only : bool or {"utla", "ltla", "both"}
        Only blocks passing test II (``True`` means upper tier).
    within_system : bool, default True
        Blocks may not mix CCGs of different systems (matters with ``units=`` across systems).
    band : (float, float), default (250000, 500000)
        The band scored by ``in_band``/``outside_band``/``band_gap`` (soft).
    weights : mapping of str to float, optional
        Weight per unit of each criterion in :data:`CRITERIA` (default :data:`DEFAULT_WEIGHTS`).
        Non-negative, not all zero.
    pareto_on : sequence of str, optional
        Criteria of the Pareto front (default: those with non-zero weight).
    tolerance : float, optional
        ε (default 0.005 population, 0.03 area).
    measure : {"population", "area"}
        Overlap measure behind J and mismatch (band and populations are always people).
    top : int, default 20
        Plans kept in memory, best first.
    out : path, optional
        Write every scored plan to ``.parquet`` or ``.csv``, chunk by chunk (temp file, then
        ``os.replace``; nothing partial is left on error). Above ``store_limit`` plans only the
        top-k and the Pareto front are written (a ``selected`` column says which), unless
        ``all_plans``.
    store_limit : float, default 5e7
        Largest number of plans ``out`` holds in full.
    all_plans : bool, default False
        Write every plan whatever their number; refused (:class:`~coterminus.errors.OutputError`)
        when the disk cannot hold the size estimate.
    executor : dask.distributed.Client or concurrent.futures.Executor, optional
        Run slices of the enumeration (by first block) in parallel, e.g. a
        ``concurrent.futures.ProcessPoolExecutor`` using every core; same results.
    min_parallel_plans : float, default 0
        Runs with fewer plans stay serial even with an ``executor`` (starting workers costs
        about a second).
    progress : bool, default False
        Show a progress bar (tqdm).
    max_plans : float, default 2e10
        Refuse (:class:`~coterminus.errors.EnumerationTooLargeError`) beyond this many plans
        (Bell(15) = 1,382,958,545 takes seconds; Bell(16) about a minute on one core).
    backend : {"auto", "numpy", "numba"}
        Enumeration/scoring kernels; identical results.
    chunk_size : int
        Plans per chunk.
    min_shared_m, snap_m : float
        Adjacency tolerances (metres).

    Returns
    -------
    MergerResult

    Raises
    ------
    EnumerationTooLargeError, ParameterError, FootprintError, UnknownAreaError,
    VintageMismatchError, OutputError, MissingDependencyError

    Notes
    -----
    See the module notes for every formula. Plans are enumerated block-first (the block holding
    the lowest unassigned CCG is chosen first), so plan 0 is "no merger" and ids are stable.
    The options that describe the units and their blocks (``units`` to ``snap_m``, all but the
    run options) form one :class:`~coterminus.plans.constraints.Constraints`, checked once and
    read alike by :func:`best_plan`, :func:`national` and :func:`iter_scored_plans`.

    Examples
    --------
    Three councils X (300k people), Y (200k) and Z (200k); CCG A is X, CCG B is Y plus half of
    Z, CCG C is the other half of Z. Merging B and C gives Y + Z exactly:

    >>> import pandas as pd
    >>> from coterminus.analysis.overlap import population_overlap
    >>> lsoa = pd.DataFrame({"ccg": ["A", "B", "B", "C"], "la": ["X", "Y", "Z", "Z"],
    ...                      "population": [300_000, 200_000, 100_000, 100_000]})
    >>> t = population_overlap(lsoa, "ccg", "la")
    >>> res = mergers({"utla": t, "ltla": t}, units=["A", "B", "C"])
    >>> res.n_plans, res.top.loc[0, "plan"], float(res.top.loc[0, "objective"])
    (5, 'A | B+C', 0.0)
    >>> res.top.loc[0, "test_ii_utla"], res.top.set_index("plan_id").loc[0, "test_ii_utla"]
    ('YY', 'YNN')

    With real data:

    >>> geo = coterminus.load(2019)
    >>> r = mergers(geo, "Coventry and Warwickshire")
    >>> r.n_plans, r.top.loc[0, "blocks"]
    (5, 'Coventry and Rugby + South Warwickshire + Warwickshire North')
    """
    t0 = time.perf_counter()
    constraints = Constraints(
        units=units,
        level=level,
        within=within,
        against=against,
        min_pop=min_pop,
        no_split=no_split,
        coterminous_with=coterminous_with,
        contiguous=contiguous,
        adjacency=adjacency,
        overrides=overrides,
        n_ccgs=n_ccgs,
        population_band=population_band,
        coterminous_only=coterminous_only,
        within_system=within_system,
        band=band,
        weights=weights,
        tolerance=tolerance,
        measure=measure,
        min_shared_m=min_shared_m,
        snap_m=snap_m,
    )
    kind = check_run(top=top, max_plans=max_plans, chunk_size=chunk_size, backend=backend)
    sys = prepare_system(geo, system, constraints)
    pareto_cols = pareto_columns(sys.weights, pareto_on)
    count = count_or_refuse(sys, max_plans)
    stored = out is not None and (all_plans or count <= store_limit)
    if stored and all_plans:
        check_room(out, count)  # type: ignore[arg-type]
    note = ""
    if out is not None and not stored:
        note = (
            f"{_p.about(count)} plans exceed store_limit={_p.about(int(store_limit))}; "
            "all_plans=True (--all-plans) streams every plan"
        )
        log.warning("%s: writing the top-k and the Pareto front only (%s)", sys.name, note)
    summary_run = out is not None and not stored and kind == "numba"
    spec = hist_spec(sys) if summary_run and kernel_supports(pareto_cols) else None
    hist_counts: list[np.ndarray] = []
    stamp = getattr(geo, "modified_data", None)  # "MODIFIED DATA" travels into every output
    with plan_file(out if stored else None, [sys], stamp) as writer:
        log.info("%s: %d %s, %s plans", sys.name, sys.n, sys.unit_plural, f"{count:,}")
        top_k, front, n_done = run_system(
            sys,
            count=count,
            top=top,
            pareto_cols=pareto_cols,
            backend=kind,
            chunk_size=chunk_size,
            executor=executor if count >= min_parallel_plans else None,
            hist=spec,
            hist_out=hist_counts,
            writer=writer,
            progress=progress,
            with_system=False,
        )
    path = writer.path if writer is not None else None
    res = merger_result(
        sys, top_k, front, n_done, pareto_cols, path, time.perf_counter() - t0, kind
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
    chunk_size: int = DEFAULT_CHUNK,
    backend: _p.Backend = "auto",
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Every scored plan of a system, one DataFrame per chunk (never all in memory).

    ``options`` are those of :func:`mergers` (``units``, ``contiguous``, ``weights``, ...); one
    given as ``None`` keeps its default. Each chunk has :data:`PLAN_COLUMNS` plus ``labels``
    and ``test_ii_*``.

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> sum(len(c) for c in iter_scored_plans(geo, "Cheshire and Merseyside"))
    4213597
    """
    constraints = Constraints.from_options({k: v for k, v in options.items() if v is not None})
    kind = check_run(max_plans=max_plans, chunk_size=chunk_size, backend=backend)
    sys = prepare_system(geo, system, constraints)
    count_or_refuse(sys, max_plans)
    for scored in score_chunks(sys, backend=kind, chunk_size=chunk_size):
        yield arrow_chunk(sys, scored.cols, scored.blocks(), with_system=False).to_pandas()


def national(
    geo: Geography,
    *,
    systems: Sequence[str] | None = None,
    contiguous: bool = False,
    overrides: Mapping[tuple[str, str], bool] | None = None,
    n_ccgs: int | tuple[int, int] | None = None,
    population_band: tuple[float, float] | None = None,
    coterminous_only: bool | Literal["utla", "ltla", "both"] = False,
    band: tuple[float, float] = DEFAULT_BAND,
    weights: Mapping[str, float] | None = None,
    pareto_on: Sequence[str] | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] = "population",
    top: int = 5,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    progress: bool = True,
    max_plans: float = _p.DEFAULT_MAX_PLANS,
    backend: _p.Backend = "auto",
    chunk_size: int = DEFAULT_CHUNK,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
    snap_m: float = DEFAULT_SNAP_M,
    within_system: bool = True,
    level: str | None = None,
    within: str | None = None,
    against: Sequence[str] | None = None,
    min_pop: float | None = None,
    no_split: str | Sequence[str] | None = None,
    coterminous_with: str | Sequence[str] | None = None,
) -> NationalResult:
    """Run :func:`mergers` for every system (STP/ICS) of a vintage in one call.

    Parameters are those of :func:`mergers`; ``systems`` restricts the run (names or codes of
    the ``within`` level, default the vintage's systems: STPs to 2021, ICBs since 2022).
    Adjacency is computed once for all units. Every system is counted first and the run is
    refused, naming the systems, if any exceeds ``max_plans``. With ``out`` every plan of every
    system goes to one file with a ``system`` column. With ``executor`` systems (and slices of
    large systems) run in parallel.

    Returns
    -------
    NationalResult

    Examples
    --------
    >>> geo = coterminus.load(2019)
    >>> res = national(geo, contiguous=True, progress=False)
    >>> res.n_plans
    77073
    """
    t0 = time.perf_counter()
    constraints = Constraints(
        level=level,
        within=within,
        against=against,
        min_pop=min_pop,
        no_split=no_split,
        coterminous_with=coterminous_with,
        contiguous=contiguous,
        overrides=overrides,
        n_ccgs=n_ccgs,
        population_band=population_band,
        coterminous_only=coterminous_only,
        within_system=within_system,
        band=band,
        weights=weights,
        tolerance=tolerance,
        measure=measure,
        min_shared_m=min_shared_m,
        snap_m=snap_m,
    )
    kind = check_run(top=top, max_plans=max_plans, chunk_size=chunk_size, backend=backend)
    group_level = geo.resolve_level(within) if within else None
    if group_level is None and level is not None:
        group_level = geo.parent(geo.resolve_level(level))
    if group_level is None and geo.manifest is not None:
        group_level = geo.manifest.defaults.get("systems")
    if group_level is None:  # the level grouping the finest NHS level (STP for CCGs)
        group_level = next((geo.parent(n) for n in geo.side("nhs") if geo.parent(n)), None)
    if group_level is None:
        msg = "national() needs the level of the systems: pass within= (e.g. 'stp' or 'icb')."
        raise ParameterError(msg)
    codes = (
        list(geo.units(group_level).index)
        if systems is None
        else [geo.code(s, group_level) for s in systems]
    )
    unit_level = (
        geo.resolve_level(level)
        if level
        else geo.level_of(geo.members(codes[0], within=group_level)[0])
    )
    constraints = constraints.replace(level=unit_level, within=group_level)
    over = validate_overrides(overrides, geo.units(unit_level).index.astype(str))
    edges = None
    w_check = check_weights(weights, measure)
    if contiguous or w_check["non_contiguous"]:  # once for every unit, not once per system
        edges = adjacency(
            geo.layer(unit_level), min_shared_m=min_shared_m, snap_m=snap_m, overrides=over
        )
    prepared: list[System] = []
    counts: list[int] = []
    too_big: list[str] = []
    for code in codes:
        n_here = len(geo.members(code, unit_level, within=group_level))
        sys = prepare_system(
            geo,
            code,
            constraints.replace(
                adjacency=edges,
                overrides=None,  # already in edges
                n_ccgs=None if n_ccgs is None else clip_n_ccgs(n_ccgs, n_here),
            ),
        )
        c = _p.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks)
        if c > max_plans:
            too_big.append(f"{sys.name} ({code}): {c:,}")
        prepared.append(sys)
        counts.append(c)
    if too_big:
        msg = (
            f"{len(too_big)} system(s) exceed max_plans={int(max_plans):,}: {'; '.join(too_big)}; "
            "nothing was enumerated. Use contiguous=True or n_ccgs=..., raise max_plans, or run "
            "best_plan() per system (dynamic programme, no enumeration)."
        )
        raise EnumerationTooLargeError(msg)
    pareto_cols = pareto_columns(prepared[0].weights, pareto_on) if prepared else []
    results: dict[str, MergerResult] = {}
    total = int(sum(counts))
    stamp = geo.modified_data
    with plan_file(out if prepared else None, prepared, stamp) as writer:
        bar = None
        if progress:
            bar = tqdm(total=total, unit="plan", unit_scale=True, desc=f"{len(prepared)} systems")
        try:
            if executor is None:
                for sys, c in zip(prepared, counts, strict=True):
                    if c == 0:
                        log.warning("%s: no plan satisfies the constraints", sys.name)
                        continue
                    ts = time.perf_counter()
                    top_k, front, n_done = run_system(
                        sys, count=c, top=top, pareto_cols=pareto_cols, backend=kind,
                        chunk_size=chunk_size, executor=None, writer=writer, progress=False,
                        with_system=True, bar=bar,
                    )  # fmt: skip
                    results[str(sys.code)] = merger_result(
                        sys, top_k, front, n_done, pareto_cols, None, time.perf_counter() - ts,
                        kind,
                    )  # fmt: skip
            else:
                results = national_parallel(
                    prepared, counts, top=top, pareto_cols=pareto_cols, backend=kind,
                    chunk_size=chunk_size, executor=executor, writer=writer, bar=bar,
                )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
    path = writer.path if writer is not None else None
    summary = national_summary(prepared, counts, results)
    return NationalResult(
        vintage=geo.vintage,
        summary=summary,
        results=results,
        weights=dict(prepared[0].weights) if prepared else check_weights(weights, measure),
        constraints=dict(prepared[0].constraints) if prepared else {},
        n_plans=total,
        out=path,
        seconds=time.perf_counter() - t0,
        modified_data=stamp,
    )
