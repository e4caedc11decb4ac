"""The options of a merger question, as two frozen objects checked once on construction.

:class:`Constraints` says which units, how blocks are scored and which blocks are allowed (the
rules); :class:`RunOptions` says how a run goes (parallelism, progress, limits, files). Every
entry point of :mod:`coterminus.plans.mergers` takes them (plus a few keyword shortcuts for the
most used constraints).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor as PoolExecutor
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..analysis.adjacency import DEFAULT_MIN_SHARED_M, DEFAULT_SNAP_M
from ..errors import ParameterError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "Constraints",
    "Executor",
    "RunOptions",
    "check_run",
    "pareto_columns",
    "with_shortcuts",
]

#: Plans above which ``out`` holds only the top-k and the Pareto front (``all_plans`` forces all).
DEFAULT_STORE_LIMIT = 50_000_000

#: Plans per chunk of the per-plan kernel.
DEFAULT_CHUNK = 1 << 16

#: Options of earlier releases and what replaced them (named in the error for an old name).
RENAMED: dict[str, str] = {
    "n_ccgs": "n_blocks=",
    "population_band": "min_pop= and max_pop=",
    "coterminous_only": "coterminous_with=",
    "within_system": "across= (within_system=False is across=True)",
    "band": "min_pop=, max_pop= and soft_band=",
    "level": "units= (the level of the units)",
}


#: Where pieces of a run go: a ``concurrent.futures`` executor or a Dask ``Client``.
Executor: TypeAlias = "PoolExecutor | Client"


def _levels(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None or value is False:  # type: ignore[comparison-overlap]  # False from argparse
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


@dataclass(frozen=True, eq=False)
class Constraints:
    """Which units are merged, how blocks are scored and which blocks are allowed.

    Parameters
    ----------
    units : str, optional
        Level of the units merged (``"ccg"``, ``"sicbl"``, ``"icb"``, ``"utla"``, ``"ltla"``, a
        scenario): default the finest level the system groups, or the level of ``members``.
    within : str, optional
        Level of the groups (``system``'s level: ``"stp"``, ``"icb"``, ``"nhser"``, ``"utla"``);
        default the level grouping the units. Blocks stay within one group unless ``across``.
    across : bool, default False
        Blocks may mix units of different groups (e.g. Essex districts with Southend-on-Sea).
    against : str or sequence of str, optional
        Levels every block is scored against, any number (default: council levels for NHS
        units, NHS levels for council units). Criteria and columns are named after them.
    min_pop, max_pop : float, optional
        Population band of every block; the defaults fit the units' level
        (:data:`coterminus.vocabulary.levels.BLOCK_SIZES`: ICB-sized blocks of 1,000,000 to the
        largest ICB of the vintage, unitary councils of 500,000 to the largest upper-tier
        council, merged CCGs and places 250,000–500,000). Use 0 / ``math.inf`` for no bound.
    soft_band : bool, optional
        Score the band (people in blocks outside it, ``outside_band``) instead of requiring it;
        default: soft for merged CCGs and places, a rule otherwise.
    contiguous : bool, default True
        Every block is one connected group of units (shared boundary of at least
        ``min_shared_m``); needs polygons or ``adjacency``.
    no_split : str or sequence of str
        No area of these levels is split between blocks ("each council works with one ICB").
    coterminous_with : str or sequence of str
        Every block is coterminous with one or more areas of these levels; with
        ``wherever_feasible`` it is a criterion (``not_coterminous_L`` scored) instead.
    wherever_feasible : bool, default False
        Make ``coterminous_with`` soft (see above).
    n_blocks : int or (int, int), optional
        Number of blocks of a plan (inclusive range).
    today : str, optional
        Level of today's footprints for ``change`` (default: the units themselves).
    weights : mapping of str to float, optional
        Weight per person of each criterion (default 1 for ``mismatch_L``,
        ``not_coterminous_L`` and ``outside_band``, 0 for ``split_L``).
    tolerance : float, optional
        ε, relative to each area (default 0.005 by population, 0.03 by area).
    measure : {"population", "area"}
        Criteria in people or in whole m² (the band and ``change`` are always people).
    adjacency : pandas.DataFrame, optional
        Precomputed edges (:func:`coterminus.analysis.adjacency.adjacency`) instead of polygons.
    overrides : mapping of (str, str) to bool, optional
        Join (True) or separate (False) pairs of units: islands and estuaries.
    min_shared_m, snap_m : float
        Adjacency tolerances (metres).

    Raises
    ------
    ParameterError
        On construction: a bad ``measure``, band, ``n_blocks`` or ``weights`` type, naming the
        allowed values; an option of an earlier release names its replacement.

    Examples
    --------
    >>> c = Constraints(units="icb", min_pop=1_000_000, no_split="utla")
    >>> c.units, c.min_pop, c.no_split, c.contiguous
    ('icb', 1000000, ('utla',), True)
    >>> Constraints.from_options({"n_ccgs": 3})
    Traceback (most recent call last):
    coterminus.errors.ParameterError: unknown options ['n_ccgs'] (n_ccgs is now n_blocks=); ...
    """

    units: str | None = None
    within: str | None = None
    across: bool = False
    against: str | Sequence[str] | None = None
    min_pop: float | None = None
    max_pop: float | None = None
    soft_band: bool | None = None
    contiguous: bool = True
    no_split: str | Sequence[str] = ()
    coterminous_with: str | Sequence[str] = ()
    wherever_feasible: bool = False
    n_blocks: int | tuple[int, int] | None = None
    today: str | None = None
    weights: Mapping[str, float] | None = None
    tolerance: float | None = None
    measure: Literal["population", "area"] = "population"
    adjacency: pd.DataFrame | None = None
    overrides: Mapping[tuple[str, str], bool] | None = None
    min_shared_m: float = DEFAULT_MIN_SHARED_M
    snap_m: float = DEFAULT_SNAP_M

    def __post_init__(self) -> None:
        problems = []
        if self.measure not in ("population", "area"):
            problems.append(f"measure={self.measure!r}; use 'population' or 'area'")
        for name in ("min_pop", "max_pop"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not _number(v) or float(v) < 0):
                problems.append(f"{name}={v!r} must be a number of people ≥ 0")
        lo, hi = self.min_pop, self.max_pop
        if not problems and lo is not None and hi is not None and float(lo) > float(hi):
            problems.append(
                f"min_pop={float(lo):,.0f} is above max_pop={float(hi):,.0f}: the band would be "
                "empty; give a minimum at or below the maximum"
            )
        if self.n_blocks is not None:
            k = self.n_blocks
            pair = (k, k) if isinstance(k, (int, np.integer)) else k
            try:
                a, b = (int(v) for v in pair)
                if a < 1 or a > b:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"n_blocks={k!r} must be a number ≥ 1 or a (low, high) pair")
        if self.weights is not None and not isinstance(self.weights, Mapping):
            problems.append(
                f"weights must be a mapping {{criterion: weight}}, got {self.weights!r}"
            )
        if problems:
            raise ParameterError("; ".join(problems))
        object.__setattr__(self, "no_split", _levels(self.no_split))
        object.__setattr__(self, "coterminous_with", _levels(self.coterminous_with))
        if self.against is not None:
            object.__setattr__(self, "against", _levels(self.against))

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> Constraints:
        """Constraints from a mapping of option names (an unknown name is refused, an old one
        named with its replacement)."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(options) - known)
        if bad:
            hints = [f"{b} is now {RENAMED[b]}" for b in bad if b in RENAMED]
            msg = (
                f"unknown options {bad}"
                + (f" ({'; '.join(hints)})" if hints else "")
                + f"; use some of {sorted(known)}"
            )
            raise ParameterError(msg)
        return cls(**options)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Constraints:
        """A copy with some options changed (checked again); ``None`` values are ignored."""
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        return dataclasses.replace(self, **given)  # type: ignore[arg-type]


def _number(v: object) -> bool:
    try:
        return not math.isnan(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True, eq=False)
class RunOptions:
    """How a run goes: parallelism, progress, limits and what a plan file holds.

    Parameters
    ----------
    pareto_on : sequence of str, optional
        Criteria of the Pareto front (default: those with a non-zero weight).
    executor : Executor, optional
        A ``concurrent.futures`` executor or Dask ``Client``: slices of the enumeration (by
        first block) run in parallel; same results.
    progress : bool, default False
        A progress bar (tqdm).
    max_plans : float, default 2e10
        Refuse (:class:`~coterminus.errors.EnumerationTooLargeError`) beyond this many plans.
    backend : {"auto", "numpy", "numba"}
        Kernels (identical results; numba is a dependency, numpy the reference).
    chunk_size : int
        Plans per chunk.
    min_parallel_plans : float, default 0
        Runs with fewer plans stay serial even with an executor.
    store_limit : float, default 5e7
        Largest number of plans a plan file holds in full; above it, the top-k, the Pareto
        front and histograms.
    all_plans : bool, default False
        Write every plan whatever their number (refused when the disk cannot hold them).

    Examples
    --------
    >>> RunOptions(top=3)
    Traceback (most recent call last):
    TypeError: RunOptions.__init__() got an unexpected keyword argument 'top'
    >>> RunOptions(chunk_size=0)
    Traceback (most recent call last):
    coterminus.errors.ParameterError: chunk_size=0 must be a positive whole number
    """

    pareto_on: Sequence[str] | None = None
    executor: Executor | None = None
    progress: bool = False
    max_plans: float = _p.DEFAULT_MAX_PLANS
    backend: _p.Backend = "auto"
    chunk_size: int = DEFAULT_CHUNK
    min_parallel_plans: float = 0
    store_limit: float = DEFAULT_STORE_LIMIT
    all_plans: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.max_plans, (int, float)) and self.max_plans > 0):
            problems.append(f"max_plans={self.max_plans!r} must be a positive number")
        if (
            not isinstance(self.chunk_size, (int, np.integer))
            or isinstance(self.chunk_size, bool)
            or self.chunk_size < 1
        ):
            problems.append(f"chunk_size={self.chunk_size!r} must be a positive whole number")
        if self.executor is not None and not hasattr(self.executor, "submit"):
            problems.append(
                "executor must have .submit (a dask.distributed Client or a concurrent.futures "
                f"Executor), got {type(self.executor).__name__}"
            )
        if problems:
            raise ParameterError("; ".join(problems))
        _p.resolve_backend(self.backend)

    @property
    def kind(self) -> str:
        """The resolved backend: ``"numba"`` or ``"numpy"``."""
        return _p.resolve_backend(self.backend)

    def replace(self, **changes: object) -> RunOptions:
        """A copy with some options changed (checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def with_shortcuts(constraints: Constraints | None, **shortcuts: object) -> Constraints:
    """``constraints`` (default :class:`Constraints()`) with the keyword shortcuts of an entry
    point (``units=``, ``within=``, ``against=``...) applied; ``None`` ones are ignored.

    Examples
    --------
    >>> with_shortcuts(None, units="icb", within=None).units
    'icb'
    >>> with_shortcuts("utla")
    Traceback (most recent call last):
    coterminus.errors.ParameterError: constraints must be a Constraints, got str
    """
    base = Constraints() if constraints is None else constraints
    if not isinstance(base, Constraints):
        msg = f"constraints must be a Constraints, got {type(base).__name__}"
        raise ParameterError(msg)
    return base.replace(**shortcuts)


def check_run(top: int) -> None:
    """Refuse a ``top`` that is not a whole number ≥ 0."""
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0:
        msg = f"top={top!r} must be a whole number ≥ 0"
        raise ParameterError(msg)


def pareto_columns(
    weights: Mapping[str, float], names: Sequence[str], pareto_on: Sequence[str] | None
) -> list[str]:
    """The columns of the Pareto front: ``pareto_on`` (checked) or the weighted criteria.

    Examples
    --------
    >>> pareto_columns({"mismatch_icb": 1.0, "split_icb": 0.0}, ["split_icb", "mismatch_icb"],
    ...                None)
    ['mismatch_icb']
    """
    if pareto_on is None:
        return [c for c in names if weights.get(c)]
    allowed = [*names, "n_blocks", "change"]
    bad = [c for c in pareto_on if c not in allowed]
    if bad:
        msg = f"pareto_on has unknown columns {bad}; use some of {allowed} (all minimised)"
        raise ParameterError(msg)
    return list(pareto_on)
