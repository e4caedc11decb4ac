"""The merger objective (issue 17): exact answers on tiny arrays, the merge property on random
instances, and the exhaustive engine against a plain-Python brute force written from the
definitions (no shared scoring code)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coterminus import partitions as P
from coterminus.errors import ParameterError
from coterminus.plans import _topk_kernel as K
from coterminus.plans.objective import (
    Objective,
    TargetLevel,
    check_weights,
    criteria_names,
    level_terms,
    score_blocks,
    thresholds,
)
from coterminus.plans.problem import Band, Problem
from coterminus.plans.rules import Rules
from coterminus.plans.scoring import plan_columns
from coterminus.plans.tables import build_system


def _level(name: str, people: np.ndarray, totals: np.ndarray | None = None) -> TargetLevel:
    people = np.asarray(people, dtype=np.int64)
    codes = tuple(f"{name}{t}" for t in range(people.shape[1]))
    return TargetLevel(name, name, name + "s", codes, codes, people, totals)


# =============================================================================================
# exact answers
# =============================================================================================
def test_tolerance_is_relative_to_each_area_never_to_the_block():
    # area 0 has 10,000 people; a block holding 1% of it (100 people) is split whatever the
    # block's size, ε = 0.5% of the area is 50 people
    t = level_terms(np.array([[100, 0], [100, 990_000], [50, 0], [9_950, 0]]), [10_000, 990_000],
                    0.005)  # fmt: skip
    assert t.split.tolist() == [100, 100, 0, 0]  # 50 is within ε (absent), 9,950 is whole
    assert t.mismatch.tolist() == [100, 100, 0, 0]
    assert t.coterminous.tolist() == [False, False, True, True]


def test_thresholds_are_exact_and_symmetric():
    # a = floor(ε T); whole iff T - m <= a, so an area of 1,000 people at ε = 0.005 is whole
    # from 995 people on and absent up to 5 (no floating-point ceiling of 0.995 * 1000)
    assert thresholds(np.array([1000]), 0.005).tolist() == [5]
    t = level_terms(np.array([[994], [995], [5], [6]]), np.array([1000]), 0.005)
    assert t.coterminous.tolist() == [False, True, True, False]


def test_mismatch_counts_the_smaller_side_of_each_split_area():
    # block holds 700 of area A (1,000) and 200 of area B (1,000): 300 of A live outside it,
    # 200 of its people are in B, which it does not mostly cover
    t = level_terms(np.array([[700, 200]]), np.array([1000, 1000]), 0.0)
    assert t.split.tolist() == [900]
    assert t.mismatch.tolist() == [500]


def test_people_in_no_area_are_neutral():
    # units 0 and 1 are in area 0 of a partial level (a strategic authority); unit 2 in none
    lv = _level("sa", [[100], [100], [0]])
    obj = Objective(population=np.array([100, 100, 300]), levels=(lv,))
    s = score_blocks(obj, np.array([[1, 1, 1], [0, 0, 1], [1, 0, 0]], dtype=bool))
    assert s.coterminous["sa"].tolist() == [True, True, False]
    assert s.criteria["not_coterminous_sa"].tolist() == [0, 0, 100]
    assert s.criteria["mismatch_sa"].tolist() == [0, 0, 100]


def test_criteria_are_named_after_any_number_of_levels():
    names = criteria_names(["utla", "sa", "sicbl"], soft_band=True)
    assert names == [
        "split_utla", "mismatch_utla", "not_coterminous_utla",
        "split_sa", "mismatch_sa", "not_coterminous_sa",
        "split_sicbl", "mismatch_sicbl", "not_coterminous_sicbl",
        "outside_band",
    ]  # fmt: skip
    assert check_weights(None, names)["split_sa"] == 0.0
    assert check_weights(None, names)["not_coterminous_sicbl"] == 1.0
    with pytest.raises(ParameterError, match=r"unknown criteria \['mismatch_ltla'\]"):
        check_weights({"mismatch_ltla": 1}, names)


def test_change_is_the_people_outside_the_largest_footprint_of_today():
    today = np.array([[100, 0], [0, 50], [30, 30]])  # unit 2 is split between two footprints
    obj = Objective(population=np.array([100, 50, 60]), today=today)
    s = score_blocks(obj, np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=bool))
    assert s.change.tolist() == [50, 80, 30]
    default = Objective(population=np.array([100, 50, 60]))  # today: each unit its own
    assert score_blocks(default, np.array([[1, 1, 1]], dtype=bool)).change.tolist() == [110]


def test_soft_band_scores_the_people_of_blocks_outside_it():
    obj = Objective(population=np.array([100, 200, 400]), band=(250, 500), soft_band=True)
    s = score_blocks(obj, np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=bool))
    assert s.criteria["outside_band"].tolist() == [100, 0, 600, 700]  # 300 is in the band


# =============================================================================================
# random instances
# =============================================================================================
def random_objective(rng: np.random.Generator, n: int, *, soft: bool = False) -> Objective:
    """n units; level ``a`` (units spread over 1-2 of 3 areas, some areas reaching beyond the
    units), level ``b`` with partial coverage, today's footprints, random whole weights."""
    pop = rng.integers(1, 60, n)
    a = np.zeros((n, 3), dtype=np.int64)
    for u in range(n):
        t = int(rng.integers(0, 3))
        x = int(rng.integers(0, pop[u] + 1)) if rng.random() < 0.3 else int(pop[u])
        a[u, t] += x
        a[u, (t + 1) % 3] += pop[u] - x
    outside = rng.integers(0, 20, 3) * (rng.random(3) < 0.3)
    b = np.zeros((n, 2), dtype=np.int64)
    for u in range(n):
        if rng.random() < 0.6:
            b[u, int(rng.integers(0, 2))] = pop[u]
    today = np.zeros((n, 3), dtype=np.int64)
    for u in range(n):
        today[u, int(rng.integers(0, 3))] = pop[u]
    levels = (_level("a", a, a.sum(axis=0) + outside), _level("b", b))
    names = criteria_names(["a", "b"], soft_band=soft)
    weights = {c: float(rng.integers(0, 4)) for c in names} if rng.random() < 0.5 else None
    tot = int(pop.sum())
    return Objective(
        population=pop, levels=levels, today=today, tolerance=float(rng.choice([0, 0.005, 0.1])),
        band=(float(rng.integers(0, tot)), float(tot)), soft_band=soft, weights=weights,
    )  # fmt: skip


def random_plan(rng: np.random.Generator, n: int) -> list[list[int]]:
    labels = rng.integers(0, max(1, n // 2 + 1), n)
    return [list(np.flatnonzero(labels == k)) for k in np.unique(labels)]


def plan_value(obj: Objective, plan: list[list[int]]) -> tuple[float, int]:
    members = np.zeros((len(plan), obj.n), dtype=bool)
    for i, block in enumerate(plan):
        members[i, block] = True
    s = score_blocks(obj, members)
    return float(s.cost.sum()), int(s.change.sum())


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9))
def test_merging_two_blocks_never_lowers_the_objective_unless_it_removes_a_mismatch(seed, n):
    rng = np.random.default_rng(seed)
    obj = random_objective(rng, n)
    plan = random_plan(rng, n)
    if len(plan) < 2:
        return
    i, j = rng.choice(len(plan), size=2, replace=False)
    merged = [b for k, b in enumerate(plan) if k not in (i, j)] + [plan[i] + plan[j]]
    before, change_before = plan_value(obj, plan)
    after, change_after = plan_value(obj, merged)
    shared = any(
        ((lv.people[plan[i]].sum(axis=0) > 0) & (lv.people[plan[j]].sum(axis=0) > 0)).any()
        for lv in obj.levels
    )
    assert change_after >= change_before  # people moved never fall on a merger
    if not shared:  # no area has people in both blocks: no mismatch to remove
        assert after >= before


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 7))
def test_scores_do_not_depend_on_the_order_of_units(seed, n):
    rng = np.random.default_rng(seed)
    obj = random_objective(rng, n, soft=bool(rng.random() < 0.5))
    perm = rng.permutation(n)
    levels = tuple(
        TargetLevel(lv.name, lv.label, lv.plural, lv.codes, lv.names, lv.people[perm], lv.totals)
        for lv in obj.levels
    )
    moved = Objective(
        population=obj.population[perm],
        levels=levels,
        today=obj.today[perm],
        tolerance=obj.tolerance,
        band=obj.band,
        soft_band=obj.soft_band,
        weights=obj.weights,
    )
    plan = random_plan(rng, n)
    where = {int(u): k for k, u in enumerate(perm)}
    assert plan_value(obj, plan) == plan_value(moved, [[where[u] for u in b] for b in plan])


# =============================================================================================
# the exhaustive engine against a brute force written from the definitions
# =============================================================================================
def _problem(obj: Objective, rules: Rules, neighbours: tuple[int, ...]) -> Problem:
    n = obj.n
    return Problem(
        code=None, name="random", vintage=None, units="u", unit_label="unit",
        unit_plural="units", block_label="block", block_plural="blocks",
        codes=tuple(f"u{i}" for i in range(n)), names=tuple(f"u{i}" for i in range(n)),
        nhs_codes=("",) * n, groups=np.zeros(n, dtype=np.int64), group_codes=("",), edges=None,
        neighbours=neighbours, objective=obj, rules=rules,
        band=Band(obj.band[0], obj.band[1], obj.soft_band, "random"),
    )  # fmt: skip


def _brute_block(obj: Objective, rules: Rules, block: list[int], nb: tuple[int, ...]):
    """(allowed, weighted cost, change) of one block, in plain Python from the definitions."""
    pop = sum(int(obj.population[u]) for u in block)
    eps = obj.tolerance
    ok = True
    if not obj.soft_band:
        ok &= obj.band[0] <= pop <= obj.band[1]
    if rules.contiguous:
        seen, stack = {block[0]}, [block[0]]
        while stack:
            u = stack.pop()
            for v in block:
                if v not in seen and (nb[u] >> v) & 1:
                    seen.add(v)
                    stack.append(v)
        ok &= seen == set(block)
    terms = {}
    for lv in obj.levels:
        split = mism = 0
        any_split = False
        for t in range(lv.people.shape[1]):
            m = sum(int(lv.people[u, t]) for u in block)
            T = int(lv.totals[t])
            a = math.floor(eps * T)
            if m > a and T - m > a:
                any_split = True
                split += m
                mism += min(m, T - m)
        terms[f"split_{lv.name}"] = split
        terms[f"mismatch_{lv.name}"] = mism
        terms[f"not_coterminous_{lv.name}"] = pop if any_split else 0
    if obj.soft_band:
        terms["outside_band"] = pop if not (obj.band[0] <= pop <= obj.band[1]) else 0
    cost = sum(obj.weights[c] * v for c, v in terms.items())
    d = [sum(int(obj.today[u, c]) for u in block) for c in range(obj.today.shape[1])]
    return ok, cost, pop - max(d)


def _set_partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first, *part[k]], *part[k + 1 :]]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 7))
def test_dp_and_selection_kernel_equal_a_brute_force_over_every_plan(seed, n):
    rng = np.random.default_rng(seed)
    obj = random_objective(rng, n, soft=bool(rng.random() < 0.3))
    nb = [0] * n
    for u, v in itertools.combinations(range(n), 2):
        if abs(u - v) == 1 or rng.random() < 0.2:
            nb[u] |= 1 << v
            nb[v] |= 1 << u
    rules = Rules(min_pop=obj.band[0], max_pop=obj.band[1], soft_band=obj.soft_band,
                  contiguous=bool(rng.random() < 0.7), within=False, tolerance=obj.tolerance)  # fmt: skip
    sys = build_system(_problem(obj, rules, tuple(nb)))
    ref = []
    for plan in _set_partitions(list(range(n))):
        blocks = [_brute_block(obj, rules, b, tuple(nb)) for b in plan]
        if all(ok for ok, _, _ in blocks):
            ref.append((sum(c for _, c, _ in blocks), sum(e for _, _, e in blocks), plan))
    count = P.count_partitions(n, allowed=sys.allowed)
    assert count == len(ref)
    if not ref:
        return
    ref.sort(key=lambda r: (r[0], r[1]))
    best = (ref[0][0], ref[0][1])
    _, blocks = P.best_partition(sys.cost, allowed=sys.allowed, tie=sys.tie)
    cols = plan_columns(sys, np.array([list(blocks) + [0] * (n - len(blocks))]))
    assert (float(cols["objective"][0]), int(cols["change"][0])) == best
    if P.HAVE_NUMBA:
        sel = K.select(n, allowed=sys.allowed, cost=sys.cost, pv=np.zeros((1 << n, 0)),
                       top=min(3, count), n_blocks=(1, n), tie=sys.tie)  # fmt: skip
        got = sorted(zip(sel.top_obj.tolist(), sel.top_tie.tolist(), strict=True))
        want = [(c, e) for c, e, _ in ref[: len(got)]]
        assert got == want  # whole numbers: exact
