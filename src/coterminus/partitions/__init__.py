"""Exact enumeration of footprints (subsets) and merger plans (set partitions) over bitmasks.

Pure kernels on plain integers and numpy arrays, with no geography in them: a *unit* is a bit
position ``0 … n-1``, a *block* (candidate footprint) is an ``int`` bitmask of units, and a *plan*
is a set partition of the ``n`` units into blocks.  :mod:`coterminus.plans` scores CCG merger
plans with them and the place-grouping code reuses them for places.

Counting
    :func:`bell`, :func:`stirling2`, :func:`count_subsets`, :func:`count_partitions` (exact, with
    block restrictions such as contiguity), :func:`estimate_count` and :func:`check_enumerable`
    (refuse before enumerating).
Enumerating
    :func:`iter_partitions` (plain recursive reference generator), :func:`partition_chunks`
    (numpy arrays of block masks, chunk by chunk) and :func:`enumerate_partitions` (chunks carrying
    per-plan aggregates of per-block values: sums, minima and bitwise ors).
Optimising
    :func:`best_partition`, a subset dynamic programme that never enumerates (with a second,
    tie-breaking cost); :func:`partition_extremes`, the least and greatest sum of any plan.
Graphs
    :func:`connected_subsets` (which blocks are contiguous given neighbour bitmasks).
Building blocks (for the scoring kernels of :mod:`coterminus.plans`)
    :func:`check_n`, :func:`check_allowed`, :func:`n_blocks_range` and :func:`resolve_backend`
    (checked inputs); :func:`build_recursion` (the :class:`Recursion` of some allowed blocks);
    :func:`suffix_size`, :func:`build_suffix_tables`, :func:`prepare_enumeration` (an
    :class:`EnumerationPlan`), :func:`frontier_ranges`, :func:`plan_runs`, :func:`run_pairs`
    (how plans are laid out as prefix ⊕ suffix); :func:`ordered_sum` (a plan's cost, summed in
    block order).

Modules: :mod:`~coterminus.partitions.counting` (closed forms, subset tables, the recursion and
its counts), :mod:`~coterminus.partitions.enumeration` (memo tables, frontier, chunked
enumeration) and :mod:`~coterminus.partitions.optimum` (the subset dynamic programme).

Every enumerator yields plans in the same order, *block-first depth-first order*: the block
that holds the lowest unassigned unit is chosen first, candidates in increasing bitmask order.
Plan ``0`` is therefore always the all-singletons plan (no merger) when singletons are allowed,
and plan ids are stable across backends, chunk sizes and executors.

Notes
-----
Block-first recursion.  Write :math:`P(R)` for the plans of a remaining set :math:`R` and
:math:`\\ell(R)` for its lowest unit.  Then

.. math:: P(\\varnothing) = \\{()\\}, \\qquad
          P(R) = \\bigcup_{S \\subseteq R,\\ \\ell(R) \\in S,\\ S\\ \\mathrm{allowed}}
          \\{(S,) + p : p \\in P(R \\setminus S)\\}

so :math:`|P(\\{0..n-1\\})| = B(n)`, the Bell number, when every block is allowed
(:math:`B(n) = \\sum_k \\binom{n-1}{k} B(k)`).  The same recursion counts (:func:`count_partitions`)
and optimises (:func:`best_partition`: replace :math:`\\cup` by :math:`\\min` and the prefix by
the block cost) over the :math:`(3^n - 1)/2` pairs :math:`(R, S)`.

Enumeration cost.  :func:`enumerate_partitions` memoises :math:`P(R)` for every small remaining
set (:math:`|R| \\le s`, chosen so the table stays below ``table_rows`` rows) together with the
aggregates of its blocks, expands the few large remaining sets block by block, and emits each
plan as *prefix ⊕ memoised suffix*: one gather and one ``+``/``min``/``|`` per aggregate, so
the cost is :math:`O(1)` amortised per plan and nothing rescans a partition.  Remaining sets
that cannot be completed (because of block restrictions) are pruned before they are expanded.

numba (a dependency; the numpy path is the reference) compiles the emit step; it runs the same
algorithm over the same tables, so its output is identical.

Examples
--------
>>> bell(12)
4213597
>>> [p for p in iter_partitions(3)]
[(1, 2, 4), (1, 6), (3, 4), (5, 2), (7,)]
>>> path = [0b010, 0b101, 0b010]                      # units 0 - 1 - 2 in a line
>>> count_partitions(3, allowed=connected_subsets(path))   # {0,2} is not contiguous
4
"""

from __future__ import annotations

from .counting import (
    DEFAULT_MAX_PLANS,
    HAVE_NUMBA,
    MAX_UNITS,
    Backend,
    Recursion,
    about,
    bell,
    blocks_to_labels,
    build_recursion,
    check_allowed,
    check_enumerable,
    check_n,
    clear_recursions,
    connected_subsets,
    count_partitions,
    count_subsets,
    estimate_count,
    first_block_counts,
    iter_partitions,
    n_blocks_range,
    popcount,
    resolve_backend,
    stirling2,
    subset_ors,
    subset_sums,
)
from .enumeration import (
    EnumerationPlan,
    PartitionChunk,
    build_suffix_tables,
    enumerate_partitions,
    frontier_ranges,
    partition_chunks,
    plan_runs,
    prepare_enumeration,
    run_pairs,
    suffix_size,
)
from .optimum import best_partition, ordered_sum, partition_extremes

__all__ = [
    "DEFAULT_MAX_PLANS",
    "HAVE_NUMBA",
    "MAX_UNITS",
    "Backend",
    "EnumerationPlan",
    "PartitionChunk",
    "Recursion",
    "about",
    "bell",
    "best_partition",
    "blocks_to_labels",
    "build_recursion",
    "build_suffix_tables",
    "check_allowed",
    "check_enumerable",
    "check_n",
    "clear_recursions",
    "connected_subsets",
    "count_partitions",
    "count_subsets",
    "enumerate_partitions",
    "estimate_count",
    "first_block_counts",
    "frontier_ranges",
    "iter_partitions",
    "n_blocks_range",
    "ordered_sum",
    "partition_chunks",
    "partition_extremes",
    "plan_runs",
    "popcount",
    "prepare_enumeration",
    "resolve_backend",
    "run_pairs",
    "stirling2",
    "subset_ors",
    "subset_sums",
    "suffix_size",
]
