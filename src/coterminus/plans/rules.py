"""Hard rules on the blocks of a plan, checked on arrays (both engines call these).

A *rule* removes blocks (a criterion of :mod:`coterminus.plans.objective` only scores them):
the population band when it is hard, no area of a level split between blocks (``no_split``),
every block coterminous with a level (``coterminous_with``), contiguity and staying within one
group (checked by whoever builds the blocks: :func:`coterminus.partitions.connected_subsets`,
or an optimiser's connected candidates), and a number of blocks.

Notes
-----
With :math:`a_t = \\lfloor \\varepsilon T[t] \\rfloor` as in :mod:`coterminus.plans.objective`:

* band: :math:`\\text{min} \\le |B| \\le \\text{max}` (people);
* ``no_split=L``: no area is split by the block *within the units*: with
  :math:`S[t] = \\sum_u M_L[u, t]` (the area's people in the units) and
  :math:`a'_t = \\lfloor \\varepsilon S[t] \\rfloor`, not (:math:`m_B[t] > a'_t` and
  :math:`S[t] - m_B[t] > a'_t`). An area reaching beyond the units must still keep its people
  in the units in one block ("each council works with one ICB");
* ``coterminous_with=L``: no area of :math:`L` is split in the block, judged on the whole area
  (the ``not_coterminous_L`` criterion is 0).

Examples
--------
>>> import numpy as np
>>> from coterminus.plans.objective import TargetLevel
>>> lv = TargetLevel("utla", "upper-tier council", "upper-tier councils", ("X",), ("X",),
...                  people=np.array([[100], [100]]), totals=np.array([300]))
>>> rules = Rules(min_pop=150, no_split=(lv,), coterminous_with=(lv,))  # True = broken
>>> members = np.array([[True, False], [True, True]])
>>> {k: v.tolist() for k, v in rule_checks(rules, members @ [100, 100], [members @ lv.people],
...                                          [members @ lv.people]).items()}
{'min_pop': [True, False], 'no_split:utla': [True, False], 'coterminous_with:utla': [True, True]}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .objective import TargetLevel, level_terms, thresholds

__all__ = ["RULE_WORDS", "Rules", "allowed_blocks", "rule_checks"]

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Rules:
    """The hard rules of a merger question (see the module notes).

    Attributes
    ----------
    min_pop, max_pop : float
        Population band of every block (0 and infinity: none); not a rule when ``soft_band``.
    soft_band : bool
        The band is scored (``outside_band``) instead.
    contiguous : bool
        Every block is one connected group of units.
    within : bool
        Every block lies in one group (e.g. one NHS region, one county).
    no_split, coterminous_with : tuple of TargetLevel
        Levels no area of which may be split between blocks / with which every block must be
        coterminous.
    n_blocks : (int, int) or None
        Number of blocks of a plan (inclusive).
    tolerance : float
        ε.
    """

    min_pop: float = 0.0
    max_pop: float = math.inf
    soft_band: bool = False
    contiguous: bool = True
    within: bool = True
    no_split: tuple[TargetLevel, ...] = ()
    coterminous_with: tuple[TargetLevel, ...] = ()
    n_blocks: tuple[int, int] | None = None
    tolerance: float = 0.005

    @property
    def hard_band(self) -> tuple[float, float]:
        """The band as a rule: ``(0, inf)`` when the band is soft."""
        return (0.0, math.inf) if self.soft_band else (self.min_pop, self.max_pop)


#: How each rule is named in messages (a level is appended for the level rules).
RULE_WORDS: dict[str, str] = {
    "min_pop": "the minimum population (--min-pop)",
    "max_pop": "the maximum population (--max-pop)",
    "contiguous": "contiguity (--non-contiguous drops it)",
    "within": "staying within one group (--across drops it)",
    "no_split": "no area split between blocks (--no-split)",
    "coterminous_with": "every block coterminous (--coterminous-with)",
    "n_blocks": "the number of blocks (--n-blocks)",
}


def rule_checks(
    rules: Rules,
    population: np.ndarray,
    no_split_sums: Sequence[np.ndarray],
    coterminous_sums: Sequence[np.ndarray],
) -> dict[str, BoolArray]:
    """Which blocks break each rule that is checked block by block (True = broken).

    Keys: ``min_pop``, ``max_pop`` (hard band only), ``no_split:L``, ``coterminous_with:L``;
    ``no_split_sums[i]``/``coterminous_sums[i]`` are the (K, T) people of each area of
    ``rules.no_split[i]``/``rules.coterminous_with[i]`` in each block.
    """
    pop = np.asarray(population)
    out: dict[str, BoolArray] = {}
    lo, hi = rules.hard_band
    if lo > 0:
        out["min_pop"] = pop < lo
    if math.isfinite(hi):
        out["max_pop"] = pop > hi
    for lv, m in zip(rules.no_split, no_split_sums, strict=True):
        inside = lv.in_units
        a = thresholds(inside, rules.tolerance)
        mm = np.asarray(m, dtype=np.int64)
        out[f"no_split:{lv.name}"] = np.asarray(((mm > a) & (inside - mm > a)).any(axis=1))
    for lv, m in zip(rules.coterminous_with, coterminous_sums, strict=True):
        terms = level_terms(m, lv.area_totals, rules.tolerance)
        out[f"coterminous_with:{lv.name}"] = ~terms.coterminous
    return out


def allowed_blocks(checks: dict[str, BoolArray], size: int) -> BoolArray:
    """Blocks breaking none of ``checks`` (all True without any check)."""
    ok = np.ones(size, dtype=bool)
    for broken in checks.values():
        ok &= ~broken
    return ok
