"""The exact optimiser (issue 17 item 4) against the exhaustive engine, the oracle.

Random problems of up to 14 units (random graphs, two levels — one with partial coverage —,
today's footprints, groups, every rule and fractional weights) are solved by the three
formulations of :mod:`coterminus.plans.solve` and by the exhaustive engine's subset DP on the
footprint table (:func:`coterminus.partitions.best_partition` over
:func:`coterminus.plans.tables.build_system`): both must give the same (objective, change).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coterminus import partitions as _p
from coterminus.plans.candidates import candidate_blocks, connected_sets
from coterminus.plans.counting import count_graphillion, count_plans
from coterminus.plans.objective import Objective, TargetLevel, cost_step
from coterminus.plans.problem import Band, Problem
from coterminus.plans.rules import Rules
from coterminus.plans.solve import solve
from coterminus.plans.tables import build_system


def random_problem(
    rng: np.random.Generator,
    n: int,
    *,
    rules: bool = True,
    fractional: bool = False,
    groups: int = 1,
) -> Problem:
    """n units at random points, each joined to its 2–3 nearest; level ``a`` (every unit in 1–2
    of 3 areas), level ``b`` (partial coverage), today's 3 footprints, random rules."""
    pts = rng.random((n, 2))
    d = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nb = [0] * n
    for i in range(n):
        for j in np.argsort(d[i])[: min(int(rng.integers(2, 4)), n - 1)]:
            nb[i] |= 1 << int(j)
            nb[int(j)] |= 1 << i
    pop = rng.integers(1, 60, n).astype(np.int64)
    a = np.zeros((n, 3), dtype=np.int64)
    lab = rng.integers(0, 3, n)
    for u in range(n):
        x = int(rng.integers(0, pop[u] + 1)) if rng.random() < 0.3 else int(pop[u])
        a[u, lab[u]] += x
        a[u, (lab[u] + 1) % 3] += pop[u] - x
    b = np.zeros((n, 2), dtype=np.int64)
    for u in range(n):
        if rng.random() < 0.6:
            b[u, int(rng.integers(0, 2))] = pop[u]
    today = np.zeros((n, 3), dtype=np.int64)
    for u in range(n):
        c = int(rng.integers(0, 3))
        x = int(rng.integers(0, pop[u] + 1)) if rng.random() < 0.2 else int(pop[u])
        today[u, c] += x
        today[u, (c + 1) % 3] += pop[u] - x
    lv_a = TargetLevel("a", "a", "as", ("A0", "A1", "A2"), ("A0", "A1", "A2"), a)
    lv_b = TargetLevel("b", "b", "bs", ("B0", "B1"), ("B0", "B1"), b)
    tot = int(pop.sum())
    lo = float(rng.integers(0, max(2, tot // 3))) if rules else 0.0
    hi = float(rng.integers(int(lo) + 1, tot + 2)) if rules else math.inf
    soft = bool(rules and rng.random() < 0.25)
    eps = float(rng.choice([0.0, 0.005, 0.05, 0.2]))
    names = [
        "split_a",
        "mismatch_a",
        "not_coterminous_a",
        "split_b",
        "mismatch_b",
        "not_coterminous_b",
    ]
    if soft:
        names.append("outside_band")
    weights = None
    if rng.random() < 0.5:
        choices = [0.0, 0.5, 1.0, 2.0, 0.3] if fractional else [0, 1, 2, 3]
        weights = {c: float(rng.choice(choices)) for c in names}
    obj = Objective(
        pop,
        (lv_a, lv_b),
        today=today,
        tolerance=eps,
        band=(lo, hi),
        soft_band=soft,
        weights=weights,
    )
    g = rng.integers(0, groups, n) if groups > 1 else np.zeros(n, dtype=np.int64)
    contiguous = bool(not rules or rng.random() < 0.75)
    r = Rules(
        min_pop=lo,
        max_pop=hi,
        soft_band=soft,
        contiguous=contiguous,
        within=len(np.unique(g)) > 1,
        no_split=(lv_a,) if rules and rng.random() < 0.15 else (),
        coterminous_with=(lv_b,) if rules and rng.random() < 0.15 else (),
        n_blocks=None,
        tolerance=eps,
    )
    codes = tuple(f"u{i}" for i in range(n))
    return Problem(
        code=None, name="random", vintage=None, units="u", unit_label="unit", unit_plural="units",
        block_label="block", block_plural="blocks", codes=codes, names=codes, nhs_codes=("",) * n,
        groups=g, group_codes=tuple(str(x) for x in range(int(g.max()) + 1)), edges=None,
        neighbours=tuple(nb) if contiguous else (), objective=obj, rules=r,
        band=Band(lo, hi, soft, "test"),
    )  # fmt: skip


def oracle(problem: Problem) -> tuple[int, int] | None:
    """(objective in grid steps, change) of the exhaustive engine's best plan, None if none."""
    sys = build_system(problem)
    if _p.count_partitions(problem.n, allowed=sys.allowed, n_blocks=sys.n_blocks) == 0:
        return None
    value, blocks = _p.best_partition(
        sys.cost, allowed=sys.allowed, n_blocks=sys.n_blocks, tie=sys.tie
    )
    step = cost_step(problem.objective)
    return round(value / step), int(sum(sys.tie[b] for b in blocks))


def check(problem: Problem, **kw: object) -> None:
    ref = oracle(problem)
    res = solve(problem, time_limit=120, **kw)  # type: ignore[arg-type]
    if ref is None:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal", res.notes
    best = res.plans[0]
    assert (best.steps, best.change) == ref
    assert res.gap == (0.0, 0.0)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 9),
    method=st.sampled_from(["direct", "pool", "colgen"]),
)
def test_every_formulation_equals_the_exhaustive_engine(seed: int, n: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    p = random_problem(rng, n, fractional=rng.random() < 0.3, groups=int(rng.integers(1, 3)))
    if method == "direct":
        check(p)
    elif method == "pool":
        check(p, direct_limit=0)
    else:
        check(p, method="colgen")


@pytest.mark.slow
@pytest.mark.parametrize("n", [10, 11, 12, 13, 14])
def test_same_optimum_as_the_exhaustive_engine_n10_to_14(n: int) -> None:
    for seed in range(3):
        rng = np.random.default_rng(100 * n + seed)
        p = random_problem(rng, n, rules=False)
        tot = int(p.objective.population.sum())
        p = _with_band(p, tot / 6, tot / 2)
        check(p)


def _with_band(p: Problem, lo: float, hi: float) -> Problem:
    r = dataclasses.replace(p.rules, min_pop=lo, max_pop=hi, soft_band=False, contiguous=True)
    return dataclasses.replace(p, rules=r)


def test_k_best_are_the_exhaustive_ranking_with_ties() -> None:
    rng = np.random.default_rng(7)
    p = random_problem(rng, 8, rules=False)
    sys = build_system(p)
    plans = list(_p.iter_partitions(p.n, allowed=sys.allowed))
    keys = sorted(
        (int(sum(sys.cost[b] for b in blk)), int(sum(sys.tie[b] for b in blk))) for blk in plans
    )
    res = solve(p, k=5)
    got = [(q.steps, q.change) for q in res.plans]
    assert got == keys[:5]
    assert all(q.proven for q in res.plans)
    for prev, q in zip(res.plans, res.plans[1:], strict=False):
        assert q.tied_with_previous == ((prev.steps, prev.change) == (q.steps, q.change))
    assert res.unique == (keys[0] != keys[1])


def test_change_breaks_ties_never_an_id() -> None:
    # a path of 4 units of 10 people; nothing scored differs; today is {0,1} and {2,3}
    pop = np.array([10, 10, 10, 10])
    today = np.array([[10, 0], [10, 0], [0, 10], [0, 10]])
    obj = Objective(pop, (), today=today)
    r = Rules(min_pop=20, max_pop=40)
    p = Problem(
        code=None, name="path", vintage=None, units="u", unit_label="unit", unit_plural="units",
        block_label="block", block_plural="blocks", codes=("a", "b", "c", "d"),
        names=("a", "b", "c", "d"), nhs_codes=("",) * 4, groups=np.zeros(4, dtype=np.int64),
        group_codes=("",), edges=None, neighbours=(0b10, 0b101, 0b1010, 0b100), objective=obj,
        rules=r, band=Band(20, 40, False, "test"),
    )  # fmt: skip
    res = solve(p, k=3)
    assert [q.change for q in res.plans] == [0, 20]  # the only two plans: {ab, cd} and {abcd}
    assert res.plans[0].masks == [0b11, 0b1100]
    assert res.unique is True
    p2 = dataclasses.replace(
        p, rules=dataclasses.replace(r, min_pop=10)
    )  # {a, b, cd} ties {ab, c, d}
    res2 = solve(p2, k=4)
    assert [q.change for q in res2.plans] == [0, 0, 0, 0]
    assert res2.unique is False
    assert res2.plans[1].tied_with_previous


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9))
def test_count_equals_the_exhaustive_count(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    p = random_problem(rng, n, groups=int(rng.integers(1, 3)))
    sys = build_system(p)
    c = candidate_blocks(p)
    got, _ = count_plans(c.masks, n)
    assert got == _p.count_partitions(n, allowed=sys.allowed)


@pytest.mark.parametrize("seed", range(6))
def test_graphillion_count_equals_the_dp(seed: int) -> None:
    pytest.importorskip("graphillion")
    rng = np.random.default_rng(seed)
    p = random_problem(rng, 9, rules=False)
    nb = list(p.neighbours)
    if 2**9 - 1 not in connected_sets([1] * 9, nb, 9, 10_000):
        pytest.skip("graphillion needs a connected graph")
    tot = int(p.objective.population.sum())
    p = _with_band(p, tot // 8, tot // 2)
    c = candidate_blocks(p)
    dp, _ = count_plans(c.masks, 9)
    edges = [(a, b) for a in range(9) for b in range(a + 1, 9) if nb[a] >> b & 1]
    zdd = count_graphillion(9, edges, p.objective.population.tolist(), tot // 8, tot // 2)
    sys = build_system(p)
    assert dp == zdd == _p.count_partitions(9, allowed=sys.allowed)


def test_the_zdd_in_a_child_process_gives_the_same_count_or_none_in_time() -> None:
    pytest.importorskip("graphillion")
    from coterminus.plans.counting import _zdd_with_limit

    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]  # a 4-cycle of 1-person units
    here = count_graphillion(4, edges, [1, 1, 1, 1], 1, 2)
    assert here == 7  # all singletons; 4 with one adjacent pair; 2 with two pairs
    assert _zdd_with_limit(4, edges, [1, 1, 1, 1], 1, 2, 60.0) == here
    assert _zdd_with_limit(4, edges, [1, 1, 1, 1], 1, 2, 1e-6) is None  # not started in time
