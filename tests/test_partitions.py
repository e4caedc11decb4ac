"""Enumeration kernels: exact counts, order, aggregates, contiguity and the subset DP.

Independent references used here: the Bell/Stirling closed forms, a restricted-growth-string
generator of set partitions (a different algorithm from the block-first recursion) and a
breadth-first search for connectivity on adjacency lists (not bitmasks).
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coterminus import partitions as P
from coterminus.errors import EnumerationTooLargeError, MissingDependencyError, ParameterError

BACKENDS = ["numpy", *(["numba"] if P.HAVE_NUMBA else [])]


# --- independent references -------------------------------------------------------------------
def rgs_partitions(n: int):
    """All set partitions of range(n) as frozensets of frozensets (restricted growth strings)."""

    def rec(i: int, labels: list[int], k: int):
        if i == n:
            blocks: dict[int, set[int]] = {}
            for unit, lab in enumerate(labels):
                blocks.setdefault(lab, set()).add(unit)
            yield frozenset(frozenset(b) for b in blocks.values())
            return
        for lab in range(k + 1):
            labels.append(lab)
            yield from rec(i + 1, labels, max(k, lab + 1))
            labels.pop()

    yield from rec(0, [], 0)


def bfs_connected(block: frozenset[int], edges: set[tuple[int, int]]) -> bool:
    nbrs: dict[int, list[int]] = {u: [] for u in block}
    for a, b in edges:
        if a in block and b in block:
            nbrs[a].append(b)
            nbrs[b].append(a)
    start = next(iter(block))
    seen = {start}
    todo = deque([start])
    while todo:
        u = todo.popleft()
        for v in nbrs[u]:
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen == set(block)


def masks_of(plan) -> frozenset[frozenset[int]]:
    return frozenset(frozenset(i for i in range(32) if (b >> i) & 1) for b in plan if b)


def adj_masks_from(n: int, edges: set[tuple[int, int]]) -> list[int]:
    out = [0] * n
    for a, b in edges:
        out[a] |= 1 << b
        out[b] |= 1 << a
    return out


def all_plans(n, backend, **kw):
    return [
        tuple(int(x) for x in row if x)
        for c in P.partition_chunks(n, backend=backend, **kw)
        for row in c
    ]


# --- counting ---------------------------------------------------------------------------------
def test_bell_numbers_match_the_known_sequence_including_twelve_ccgs():
    assert [P.bell(n) for n in range(11)] == [1, 1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975]
    assert P.bell(12) == 4_213_597


def test_stirling_numbers_sum_to_bell_numbers():
    for n in range(10):
        assert sum(P.stirling2(n, k) for k in range(n + 1)) == P.bell(n)


def test_twelve_units_have_4095_candidate_footprints():
    assert P.count_subsets(12) == 4095
    assert P.count_subsets(0) == 0


@pytest.mark.parametrize("n", range(1, 9))
def test_block_recursion_count_equals_bell_and_rgs_enumeration(n):
    assert P.count_partitions(n, allowed=np.ones(1 << n, bool)) == P.bell(n)
    assert sum(1 for _ in rgs_partitions(n)) == P.bell(n)


def test_counts_by_number_of_blocks_are_stirling_numbers():
    for n in range(1, 9):
        for k in range(1, n + 1):
            assert P.count_partitions(n, n_blocks=k) == P.stirling2(n, k)
        if n >= 3:
            assert P.count_partitions(n, n_blocks=(2, 3)) == P.stirling2(n, 2) + P.stirling2(n, 3)


# --- enumeration ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(1, 8))
def test_reference_generator_yields_every_partition_exactly_once(n):
    plans = list(P.iter_partitions(n))
    as_sets = [masks_of(p) for p in plans]
    assert len(set(as_sets)) == len(plans) == P.bell(n)
    assert set(as_sets) == set(rgs_partitions(n))


def test_plan_zero_is_no_merger_and_blocks_are_ordered_by_lowest_unit():
    plans = list(P.iter_partitions(4))
    assert plans[0] == (1, 2, 4, 8)
    assert plans[-1] == (15,)
    for p in plans:
        lows = [b & -b for b in p]
        assert lows == sorted(lows)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", range(1, 8))
def test_chunked_enumeration_reproduces_the_reference_order(backend, n):
    ref = list(P.iter_partitions(n))
    for chunk_size, table_rows in [(1, 1), (7, 10), (1 << 19, 1 << 20)]:
        got = [
            tuple(int(x) for x in row if x)
            for c in P.enumerate_partitions(
                n, chunk_size=chunk_size, table_rows=table_rows, backend=backend
            )
            for row in c.blocks()
        ]
        assert got == ref


@pytest.mark.parametrize("backend", BACKENDS)
def test_twelve_units_enumerate_to_exactly_4213597_distinct_plans(backend):
    total = 0
    seen_first = None
    for chunk in P.partition_chunks(12, backend=backend):
        if seen_first is None:
            seen_first = chunk[0].tolist()
        assert np.all(np.bitwise_or.reduce(chunk, axis=1) == 4095)
        total += chunk.shape[0]
    assert total == 4_213_597
    assert seen_first == [1 << i for i in range(12)]


def test_plans_are_partitions_and_all_distinct_for_ten_units():
    rows = np.vstack(list(P.partition_chunks(10)))
    assert rows.shape[0] == P.bell(10)
    # blocks are disjoint: the sum of block masks equals their or
    assert np.all(rows.sum(axis=1) == 1023)
    labels = P.blocks_to_labels(rows, 10)
    assert np.unique(labels, axis=0).shape[0] == rows.shape[0]


def _random_case(seed: int, n: int):
    rng = np.random.default_rng(seed)
    allowed = rng.random(1 << n) < 0.6
    allowed[[1 << i for i in range(n)]] = rng.random(n) < 0.8
    sums = rng.integers(0, 100, size=(1 << n, 3)).astype(float)
    mins = rng.random((1 << n, 2))
    ors = rng.integers(0, 2**62, size=(1 << n, 2)).astype(np.uint64)
    multi = rng.integers(0, 2**12, size=(1 << n, 1)).astype(np.uint64)
    return allowed, sums, mins, ors, multi


@pytest.mark.parametrize("seed", range(12))
def test_aggregates_equal_direct_reductions_over_each_plans_blocks(seed):
    n = 1 + seed % 7
    allowed, sums, mins, ors, multi = _random_case(seed, n)
    ref = list(P.iter_partitions(n, allowed=allowed))
    outs = []
    for backend in BACKENDS:
        chunks = list(
            P.enumerate_partitions(
                n, allowed=allowed, sums=sums, mins=mins, ors=ors, multi=multi,
                chunk_size=5, table_rows=8, backend=backend,
            )
        )  # fmt: skip
        plans = [tuple(int(x) for x in r if x) for c in chunks for r in c.blocks()]
        assert plans == ref
        if not ref:
            continue
        s = np.vstack([c.sums for c in chunks])
        mn = np.vstack([c.mins for c in chunks])
        o = np.vstack([c.ors for c in chunks])
        mu = np.vstack([c.multi for c in chunks])
        k = np.concatenate([c.n_blocks for c in chunks])
        for i, p in enumerate(ref):
            idx = list(p)
            np.testing.assert_allclose(s[i], sums[idx].sum(axis=0))
            np.testing.assert_array_equal(mn[i], mins[idx].min(axis=0))
            assert (o[i] == np.bitwise_or.reduce(ors[idx], axis=0)).all()
            twice = np.uint64(0)
            for a, b in itertools.combinations(idx, 2):
                twice |= multi[a, 0] & multi[b, 0]
            assert mu[i, 0] == twice
            assert k[i] == len(p)
        outs.append(np.hstack([s, mn, o.astype(float), mu.astype(float), k[:, None]]))
    for other in outs[1:]:
        np.testing.assert_array_equal(other, outs[0])  # numba output identical to numpy


def test_slicing_by_first_block_splits_the_enumeration_without_gaps():
    allowed, *_ = _random_case(3, 7)
    ref = list(P.iter_partitions(7, allowed=allowed))
    blocks, counts = P.first_block_counts(7, allowed=allowed)
    assert counts.sum() == len(ref)
    got = []
    cuts = [0, 3, 9, blocks.size]
    for a, b in itertools.pairwise(cuts):
        part = [tuple(int(x) for x in r if x) for c in P.enumerate_partitions(
            7, allowed=allowed, first=(a, b), chunk_size=4) for r in c.blocks()]  # fmt: skip
        assert len(part) == counts[a:b].sum()
        got += part
    assert got == ref


def test_number_of_blocks_filter_keeps_order_and_renumbers_ids():
    ref = [p for p in P.iter_partitions(6) if len(p) in (2, 3)]
    chunks = list(P.enumerate_partitions(6, n_blocks=(2, 3), chunk_size=10))
    got = [tuple(int(x) for x in r if x) for c in chunks for r in c.blocks()]
    assert got == ref
    assert np.concatenate([c.ids for c in chunks]).tolist() == list(range(len(ref)))


# --- contiguity -------------------------------------------------------------------------------
def test_path_of_three_units_has_four_contiguous_plans():
    conn = P.connected_subsets([0b010, 0b101, 0b010])
    assert conn.nonzero()[0].tolist() == [1, 2, 3, 4, 6, 7]
    assert P.count_partitions(3, allowed=conn) == 4


def test_path_graph_has_two_to_the_n_minus_one_contiguous_plans():
    for n in range(1, 11):
        adj = [
            ((1 << (i - 1)) if i else 0) | ((1 << (i + 1)) if i < n - 1 else 0) for i in range(n)
        ]
        assert P.count_partitions(n, allowed=P.connected_subsets(adj)) == 2 ** (n - 1)


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 7))
    pairs = list(itertools.combinations(range(n), 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    return n, set(chosen)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_contiguous_counts_match_an_independent_brute_force(graph):
    n, edges = graph
    conn = P.connected_subsets(adj_masks_from(n, edges))
    brute = sum(1 for part in rgs_partitions(n) if all(bfs_connected(b, edges) for b in part))
    assert P.count_partitions(n, allowed=conn) == brute
    got = {masks_of(p) for p in all_plans(n, "numpy", allowed=conn)}
    want = {part for part in rgs_partitions(n) if all(bfs_connected(b, edges) for b in part)}
    assert got == want


@settings(max_examples=40, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_contiguous_count_does_not_depend_on_the_order_of_units(graph, rnd):
    n, edges = graph
    perm = list(range(n))
    rnd.shuffle(perm)
    relabelled = {(perm[a], perm[b]) for a, b in edges}
    c1 = P.count_partitions(n, allowed=P.connected_subsets(adj_masks_from(n, edges)))
    c2 = P.count_partitions(n, allowed=P.connected_subsets(adj_masks_from(n, relabelled)))
    assert c1 == c2


def test_connected_subsets_rejects_asymmetric_or_out_of_range_masks():
    with pytest.raises(ParameterError, match="symmetric"):
        P.connected_subsets([0b10, 0b00])
    with pytest.raises(ParameterError, match="bitmasks"):
        P.connected_subsets([0b100, 0b0])


# --- the subset dynamic programme -------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(0, 50), min_size=1 << n, max_size=1 << n),
            st.lists(st.booleans(), min_size=1 << n, max_size=1 << n),
        )
    )
)
def test_dynamic_programme_finds_the_first_optimal_plan_of_the_enumeration(case):
    n, cost, allow = case
    cost = np.array(cost, dtype=float) / 4  # a binary grid: sums are exact
    allowed = np.array(allow)
    allowed[[1 << i for i in range(n)]] = True  # singletons keep a plan feasible
    plans = list(P.iter_partitions(n, allowed=allowed))
    totals = [sum(cost[list(p)]) for p in plans]
    i = int(np.argmin(totals))
    assert P.best_partition(cost, allowed=allowed) == (totals[i], plans[i])
    for k in range(1, n + 1):
        sub = [(t, p) for t, p in zip(totals, plans, strict=True) if len(p) == k]
        if sub:
            best = min(sub, key=lambda tp: tp[0])
            assert P.best_partition(cost, allowed=allowed, n_blocks=k) == best


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.randoms(use_true_random=False))
def test_best_cost_does_not_depend_on_the_order_of_units(n, rnd):
    cost_of = {frozenset(s): rnd.randint(0, 40) / 2 for r in range(1, n + 1) for s in
               itertools.combinations(range(n), r)}  # fmt: skip
    perm = list(range(n))
    rnd.shuffle(perm)

    def table(order):
        c = np.zeros(1 << n)
        for m in range(1, 1 << n):
            c[m] = cost_of[frozenset(order[i] for i in range(n) if (m >> i) & 1)]
        return c

    assert P.best_partition(table(list(range(n))))[0] == P.best_partition(table(perm))[0]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(0, 6), min_size=1 << n, max_size=1 << n),
            st.lists(st.integers(0, 9), min_size=1 << n, max_size=1 << n),
            st.lists(st.booleans(), min_size=1 << n, max_size=1 << n),
        )
    )
)
def test_ties_on_cost_go_to_the_least_tie_break_then_to_the_first_plan(case):
    n, cost, tie, allow = case
    cost = np.array(cost, dtype=float)  # few values: many plans tie on cost
    tie = np.array(tie, dtype=float)
    allowed = np.array(allow)
    allowed[[1 << i for i in range(n)]] = True
    plans = list(P.iter_partitions(n, allowed=allowed))
    keys = [(sum(cost[list(p)]), sum(tie[list(p)])) for p in plans]
    i = min(range(len(plans)), key=lambda j: keys[j])  # the first plan with the least key
    assert P.best_partition(cost, allowed=allowed, tie=tie) == (keys[i][0], plans[i])
    for k in range(1, n + 1):
        sub = [j for j, p in enumerate(plans) if len(p) == k]
        if sub:
            j = min(sub, key=lambda j: keys[j])
            assert P.best_partition(cost, allowed=allowed, n_blocks=k, tie=tie) == (
                keys[j][0],
                plans[j],
            )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.randoms(use_true_random=False))
def test_least_and_greatest_sums_over_every_plan_equal_a_brute_force(n, rnd):
    values = np.array([[rnd.randint(0, 20), rnd.randint(-5, 5)] for _ in range(1 << n)], float)
    allowed = np.array([rnd.random() < 0.7 for _ in range(1 << n)])
    allowed[[1 << i for i in range(n)]] = True
    plans = list(P.iter_partitions(n, allowed=allowed))
    sums = np.array([values[list(p)].sum(axis=0) for p in plans])
    lo, hi = P.partition_extremes(values, allowed=allowed)
    assert lo.tolist() == sums.min(axis=0).tolist()
    assert hi.tolist() == sums.max(axis=0).tolist()
    k = rnd.randint(1, n)
    with_k = np.array([values[list(p)].sum(axis=0) for p in plans if len(p) == k]).reshape(-1, 2)
    lo, hi = P.partition_extremes(values, allowed=allowed, n_blocks=k)
    assert lo.tolist() == with_k.min(axis=0, initial=np.inf).tolist()  # no plan: inf
    assert hi.tolist() == with_k.max(axis=0, initial=-np.inf).tolist()


def test_best_partition_reports_infeasible_restrictions():
    cost = np.ones(8)
    allowed = np.zeros(8, bool)
    allowed[7] = True
    with pytest.raises(ParameterError, match="no plan"):
        P.best_partition(cost, allowed=allowed, n_blocks=2)


# --- refusing and bad input -------------------------------------------------------------------
def test_estimates_refuse_huge_enumerations_with_the_number_and_alternatives():
    assert P.estimate_count(13) == 27_644_437
    with pytest.raises(EnumerationTooLargeError, match=r"190,899,322 plans .* best_plan\(\)"):
        P.check_enumerable(P.estimate_count(14), max_plans=5e7, n=14)
    with pytest.raises(EnumerationTooLargeError, match="split the units"):
        P.check_enumerable(P.estimate_count(20), n=20)
    assert P.estimate_count(20) == P.bell(20)


def test_too_many_units_are_refused_before_building_tables():
    with pytest.raises(EnumerationTooLargeError, match=r"17 units have 82,864,869,804 plans"):
        next(P.enumerate_partitions(17))


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ParameterError, match="length 2\\*\\*n"):
        P.count_partitions(3, allowed=np.ones(4, bool))
    with pytest.raises(ParameterError, match="non-negative"):
        P.bell(-1)
    with pytest.raises(ParameterError, match="backend"):
        next(P.enumerate_partitions(3, backend="gpu"))  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="impossible"):
        P.count_partitions(3, n_blocks=4)
    with pytest.raises(ParameterError, match="2\\*\\*n"):
        P.best_partition(np.ones(6))


def test_asking_for_numba_without_it_says_it_is_a_dependency(monkeypatch):
    monkeypatch.setattr(P.counting, "HAVE_NUMBA", False)
    with pytest.raises(MissingDependencyError, match=r"a dependency of coterminus.*pip install"):
        next(P.enumerate_partitions(3, backend="numba"))
    # auto falls back to numpy and still works
    assert sum(len(c) for c in P.enumerate_partitions(5, backend="auto")) == 52


def test_popcount_and_labels_helpers():
    assert P.popcount(np.array([0, 3, 255, 2**40 + 1])).tolist() == [0, 2, 8, 2]
    assert P.blocks_to_labels(np.array([[5, 2, 0]]), 3).tolist() == [[0, 1, 0]]
    assert math.comb(12, 2) == P.count_partitions(12, n_blocks=11)
