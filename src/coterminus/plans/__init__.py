"""Plans: every way of merging the units of a system, scored in people and ranked.

A *plan* merges the units of a system (CCGs of an STP, ICBs of an NHS region, councils of a
county...) into *blocks*; each block becomes one new unit. Every criterion of a plan is a sum
over its blocks, in people, named after the levels it is scored against
(:mod:`~coterminus.plans.objective`); rules (the population band, contiguity, no area split,
coterminous with a level) remove blocks (:mod:`~coterminus.plans.rules`). Plans are ranked by
the weighted objective, then by the people moved relative to today; plans equal on both share
a rank.

The entry points are :mod:`coterminus.plans.mergers` (``ct.mergers``, ``ct.best_plan``,
``ct.national``) with their options :class:`~coterminus.plans.constraints.Constraints` and
:class:`~coterminus.plans.constraints.RunOptions`; this ``__init__`` imports nothing, so no name
here shadows a module.

Workflows
---------
* one region's ICBs, the 2025 footprint rules by default (1,000,000 people to the largest ICB,
  contiguous): ``mergers(geo, "Midlands", units="icb", within="nhser")``
* councils into unitaries of 500,000 or more:
  ``mergers(geo, members=codes, units="ltla", constraints=Constraints(across=True))``
* more levels, a rule, a soft rule: ``mergers(geo, "Midlands", units="icb",
  against=["utla", "cauth"], constraints=Constraints(no_split="utla",
  coterminous_with="cauth", wherever_feasible=True))``
* the best plan only (subset DP, no enumeration): ``best_plan(geo, system)``
* every system of a vintage, on Dask: ``national(geo, run=RunOptions(executor=client))``
* your own plans: ``score_plans(geo, system, [[["05A", "05R"], ["05H"]]])``
* an optimiser: :func:`~coterminus.plans.problem.prepare_problem` gives the question on plain
  arrays for any number of units, :func:`~coterminus.plans.objective.score_blocks` scores
  candidate blocks with the same arithmetic as the exhaustive engine.

Modules
-------
One concept each: :mod:`~coterminus.plans.objective` (the per-block criteria on arrays),
:mod:`~coterminus.plans.rules` (hard rules on arrays), :mod:`~coterminus.plans.constraints`
(the options), :mod:`~coterminus.plans.problem` (a question on plain arrays, any engine),
:mod:`~coterminus.plans.tables` (every block of a small system: the footprint table),
:mod:`~coterminus.plans.scoring` (plan columns from block values),
:mod:`~coterminus.plans.selection` (top-k, Pareto front, histograms) and its compiled kernel
:mod:`~coterminus.plans._topk_kernel`, :mod:`~coterminus.plans.writer` (streaming plan files),
:mod:`~coterminus.plans.parallel` (pieces on executors and Dask),
:mod:`~coterminus.plans.results` (results and reasons in words),
:mod:`~coterminus.plans.plan_files` (given plans, plan files read back) and
:mod:`~coterminus.plans.mergers` (the entry points).

Notes
-----
The footprint table holds every block of ``n ≤ 16`` units: :math:`m_F = m_{F \\setminus \\{u\\}}
+ M_u` for all :math:`2^n` masks at once (doubling), then the per-block criteria. Plans are
enumerated block-first with prefix + memoised-suffix sums (:mod:`coterminus.partitions`), so
a plan costs :math:`O(1)`; every block value is a whole number (or a cost on a binary grid), so
every sum is exact and every method (enumeration, selection kernel, subset DP, look-ups) ranks
alike. Formulas: :mod:`~coterminus.plans.objective` and METHODS.md §6.
"""
