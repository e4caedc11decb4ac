"""Plans: every way of merging the units of a system, scored and ranked without touching geometry.

Planners in a system of ``n`` CCGs compare every merger plan: every set partition of the CCGs
(``B(n)`` plans, 4,213,597 for the 12 CCGs of Cheshire and Merseyside in 2019) built from the
``2**n - 1`` candidate footprints.  Dissolving and overlaying polygons per plan costs ~0.15 s, so
coterminus never does: it builds **one table over all footprints** from the overlap table (a
bitmask recurrence, :func:`footprint_table`), then scores each plan by look-ups while
enumerating (:mod:`coterminus.partitions`), finds the best plan under a weighted objective by a
subset dynamic programme (:func:`best_plan`), and explains each plan in words.

The entry points are :mod:`coterminus.plans.mergers` (``ct.mergers``, ``ct.best_plan``,
``ct.national``); this ``__init__`` imports nothing, so no name here shadows a module.

Workflows
---------
* one system, every plan, top 20 and the Pareto front: ``mergers(geo, "Cheshire and Merseyside")``
* only contiguous blocks, at most 6 CCGs, written to Parquet:
  ``mergers(geo, system, contiguous=True, n_ccgs=(1, 6), out="plans.parquet")``
* the best plan only (no enumeration): ``best_plan(geo, system)``
* every system of a vintage, on Dask: ``national(geo, executor=client, out="national.parquet")``
* your own plans: ``score_plans(geo, system, [[["05A", "05R"], ["05H"]]])``
* 14–16 units (e.g. councils from overlap tables): ``mergers(tables, units=codes)`` keeps the
  top-k and the Pareto front inside one compiled pass (:mod:`coterminus.plans._topk_kernel`); all
  190,899,322 plans of 14 units take about a second on one core. With ``out=`` above
  ``store_limit`` plans the file holds the top-k, the front and histograms, unless ``all_plans``.

Modules
-------
One concept each: :mod:`~coterminus.plans.tables` (the footprint table, criteria, plan
columns), :mod:`~coterminus.plans.constraints` (the options shared by every entry point, and
the system they describe), :mod:`~coterminus.plans.scoring` (plan scores from block
aggregates), :mod:`~coterminus.plans.selection` (top-k, Pareto front, histograms),
:mod:`~coterminus.plans.writer` (streaming plan files), :mod:`~coterminus.plans.parallel`
(pieces on executors and Dask), :mod:`~coterminus.plans.results` (results and reasons in
words), :mod:`~coterminus.plans.plan_files` (given plans, plan files read back) and
:mod:`~coterminus.plans.mergers` (the entry points).

Notes
-----
For a footprint :math:`F` (a set of CCGs; CCGs do not overlap) and a tier of local
authorities :math:`l` with totals :math:`T_l`, with the overlap matrix :math:`M` (CCG × LA,
people by default):

* :math:`m_F = m_{F \\setminus \\{u\\}} + M_u` where :math:`u` is the lowest CCG of :math:`F`
  (computed for all :math:`2^n` masks at once by doubling), :math:`t_F = \\sum_{u \\in F} t_u`;
* :math:`s_l = m_F[l] / T_l`; contained if :math:`s_l \\ge 1-\\varepsilon`, split if
  :math:`\\varepsilon < s_l < 1-\\varepsilon`; best-fit set :math:`U = \\{l : s_l \\ge 0.5\\}`;
* coterminosity index
  :math:`J_F = \\sum_{U} m_F[l] \\,/\\, (t_F + \\sum_{U} (T_l - m_F[l]))`;
  test II passes iff :math:`J_F \\ge 1-\\varepsilon` (exactly as
  :func:`coterminus.analysis.metrics.footprint_metrics`);
* mismatch :math:`= (t_F - \\sum_U m_F[l]) + \\sum_U (T_l - m_F[l])`, the people behind
  :math:`J_F < 1` (denominator minus numerator).

Per plan :math:`p` (a set of blocks): number of CCGs :math:`|p|`; mean and minimum of
:math:`J_F` at both tiers; blocks passing test II; LAs split *between blocks* (touched,
:math:`s_l > \\varepsilon`, by at least two blocks) and the people of those LAs living in the
system; summed mismatch; (block, LA) split pairs; blocks inside/outside the population band and
the people by which they miss it; population balance (coefficient of variation of block
populations, :math:`\\sqrt{|p| \\sum t_F^2 / (\\sum t_F)^2 - 1}`); the test II verdict of every
block.  The objective is :math:`\\sum_{F \\in p} \\sum_c w_c\\, x_c(F)`: every criterion
:math:`c` in :data:`CRITERIA` is a sum over blocks, which is what lets :func:`best_plan` find the
optimum by dynamic programming, and block costs sit on a binary grid so sums are exact and ties
are broken the same way (lowest plan id) by every method.
"""
