"""Merger plans: the footprint table, plan scores, ranking, DP, streaming, Dask and bad input."""

from __future__ import annotations

import json
import os

import distributed
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import coterminus
from coterminus import partitions as P
from coterminus.analysis.metrics import footprint_metrics
from coterminus.analysis.overlap import overlap
from coterminus.errors import (
    EnumerationTooLargeError,
    FootprintError,
    InconsistentResultError,
    OutputError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)
from coterminus.geography.bundle import Geography
from coterminus.plans import _topk_kernel as S
from coterminus.plans import constraints, parallel, results, scoring, writer
from coterminus.plans import mergers as M
from coterminus.plans.constraints import Constraints
from coterminus.plans.plan_files import decode_labels, plans_to_blocks, read_plans
from coterminus.plans.tables import DEFAULT_BAND, PLAN_COLUMNS, System
from overlay_oracle import overlay_scores

BACKENDS = ["numpy", *(["numba"] if P.HAVE_NUMBA else [])]
KM = 10_000.0


# =============================================================================================
# a tiny geography with exact answers
# =============================================================================================
@pytest.fixture(scope="module")
def tiny() -> Geography:
    """Six 10 km squares, one LSOA and one lower-tier council each; three upper-tier councils::

        a b c        upper tier: West = a+d, Mid = b+e, East = c+f
        d e f        CCGs: P = a+d, Q = b, R = e, S = c+f   (one system, "Tiny System")

    People: a 100k, d 200k, b 150k, e 150k, c 120k, f 130k. So Q and R are each half of Mid
    (J = 0.5), the merger Q+R is Mid exactly, and P | Q+R | S is coterminous at both tiers with
    blocks of 300k, 300k and 250k (all in the 250k–500k band). P and S do not touch.
    """
    cells = {"a": (0, 1), "b": (1, 1), "c": (2, 1), "d": (0, 0), "e": (1, 0), "f": (2, 0)}
    pop = {"a": 100_000, "b": 150_000, "c": 120_000, "d": 200_000, "e": 150_000, "f": 130_000}
    utla_of = {"a": "W", "d": "W", "b": "M", "e": "M", "c": "E", "f": "E"}
    ccg_of = {"a": "P", "d": "P", "b": "Q", "e": "R", "c": "S", "f": "S"}
    ltla_code = {k: f"E0790000{i + 1}" for i, k in enumerate("abcdef")}
    utla_code = {"W": "E10900001", "M": "E10900002", "E": "E10900003"}
    ccg_code = {"P": "E38900001", "Q": "E38900002", "R": "E38900003", "S": "E38900004"}
    geom = {
        k: shapely.box(x * KM, y * KM, (x + 1) * KM, (y + 1) * KM) for k, (x, y) in cells.items()
    }
    lsoa = pd.DataFrame(
        {
            "name": [f"Tiny {k}" for k in "abcdef"],
            "ccg": [ccg_code[ccg_of[k]] for k in "abcdef"],
            "stp": "E54900001",
            "ltla": [ltla_code[k] for k in "abcdef"],
            "utla": [utla_code[utla_of[k]] for k in "abcdef"],
            "population": [pop[k] for k in "abcdef"],
        },
        index=pd.Index([f"E0190000{i}" for i in range(6)], name="code"),
    )

    def layer(groups: dict[str, list[str]], names: dict[str, str], **extra) -> gpd.GeoDataFrame:
        codes = list(groups)
        frame = gpd.GeoDataFrame(
            {
                "name": [names[c] for c in codes],
                "population": [sum(pop[k] for k in groups[c]) for c in codes],
                "n_lsoa": [len(groups[c]) for c in codes],
                **{k: [v[c] for c in codes] for k, v in extra.items()},
            },
            geometry=[shapely.union_all([geom[k] for k in groups[c]]) for c in codes],
            index=pd.Index(codes, name="code"),
            crs=27700,
        )
        return frame

    ccg_groups = {ccg_code[c]: [k for k in "abcdef" if ccg_of[k] == c] for c in "PQRS"}
    ccg = layer(
        ccg_groups,
        {ccg_code[c]: f"NHS Tiny {c} CCG" for c in "PQRS"},
        nhs_code={ccg_code[c]: f"9{c}" for c in "PQRS"},
        stp={ccg_code[c]: "E54900001" for c in "PQRS"},
    )
    ccg = ccg[["name", "nhs_code", "population", "n_lsoa", "stp", "geometry"]]
    stp = layer({"E54900001": list("abcdef")}, {"E54900001": "Tiny System"})
    ltla = layer(
        {ltla_code[k]: [k] for k in "abcdef"},
        {ltla_code[k]: f"District {k.upper()}" for k in "abcdef"},
        utla={ltla_code[k]: utla_code[utla_of[k]] for k in "abcdef"},
    )
    utla = layer(
        {utla_code[u]: [k for k in "abcdef" if utla_of[k] == u] for u in "WME"},
        {"E10900001": "West", "E10900002": "Mid", "E10900003": "East"},
    )
    return Geography(vintage=2019, ccg=ccg, stp=stp, ltla=ltla, utla=utla, lsoa=lsoa)


P_, Q_, R_, S_ = "E38900001", "E38900002", "E38900003", "E38900004"


def test_tiny_system_has_fifteen_plans_and_the_obvious_best_one(tiny):
    res = M.mergers(tiny, "Tiny System", top=15)
    assert res.n_plans == 15
    best = res.top.iloc[0]
    assert best["plan"] == f"{P_} | {Q_}+{R_} | {S_}"
    assert best["objective"] == 0.0
    assert best["n_ccgs"] == 3
    assert best["min_j_utla"] == 1.0
    assert best["min_j_ltla"] == 1.0
    assert best["test_ii_utla"] == "YYY"
    assert best["in_band"] == 3
    assert best["labels"] == "ABBC"
    assert res.best["plan_id"] == best["plan_id"]


def test_no_merger_plan_scores_exactly_as_worked_by_hand(tiny):
    res = M.mergers(tiny, "Tiny System", top=15)
    status_quo = res.top.set_index("plan_id").loc[0]
    assert status_quo["n_ccgs"] == 4
    assert status_quo["mean_j_utla"] == pytest.approx(0.75)  # (1 + 0.5 + 0.5 + 1) / 4
    assert status_quo["min_j_utla"] == 0.5
    assert status_quo["not_coterminous_utla"] == 2
    assert status_quo["not_coterminous_ltla"] == 0  # Q and R are districts b and e exactly
    assert status_quo["mismatch_utla"] == 300_000  # 150k of Mid outside Q, 150k outside R
    assert status_quo["split_las_utla"] == 1  # Mid is shared by Q and R
    assert status_quo["split_people_utla"] == 300_000
    assert status_quo["split_las_ltla"] == 0
    assert status_quo["outside_band"] == 2
    assert status_quo["band_gap"] == 200_000  # 100k short twice
    # 1 × 2 failing blocks + 1e-5 × 300,000 people + 0.25 × 2 blocks outside the band
    assert status_quo["objective"] == pytest.approx(5.5)
    assert status_quo["test_ii_utla"] == "YNNY"
    assert "Mid (300,000)" in status_quo["reasons"]


def test_contiguity_removes_the_plans_that_join_p_and_s(tiny):
    res = M.mergers(tiny, "Tiny System", contiguous=True, top=20)
    assert res.n_plans == 13
    assert all(f"{P_}+{S_}" not in p for p in res.top["plan"])
    edges = res.adjacency
    assert not edges[(edges["a"] == P_) & (edges["b"] == S_)]["adjacent"].any()
    joined = M.mergers(tiny, "Tiny System", contiguous=True, overrides={(S_, P_): True})
    assert joined.n_plans == 15


def test_footprint_table_covers_every_subset_and_matches_footprint_metrics(tiny):
    ft = M.footprint_table(tiny, "Tiny System")
    assert len(ft) == 15
    assert ft.attrs["members"] == [P_, Q_, R_, S_]
    for tier in ("utla", "ltla"):
        table = overlap(tiny, "ccg", tier)
        for mask, row in ft.iterrows():
            members = row["members"].split("+")
            fm = footprint_metrics(table, members)
            assert row[f"j_{tier}"] == fm.index
            assert row[f"coterminous_{tier}"] == fm.coterminous
            assert row[f"n_split_{tier}"] == len(fm.split)
            assert row[f"n_contained_{tier}"] == len(fm.contained)
            assert row[f"best_fit_{tier}"].split("+") == (fm.best_fit or [""])
            assert row[f"mismatch_{tier}"] == fm.outside_best_fit + fm.best_fit_outside
            assert mask == sum(1 << ft.attrs["members"].index(c) for c in members)


def test_footprint_table_from_overlap_tables_alone(tiny):
    tables = {t: overlap(tiny, "ccg", t) for t in ("utla", "ltla")}
    ft = M.footprint_table(tables, [Q_, R_])
    assert ft["j_utla"].tolist() == [0.5, 0.5, 1.0]
    assert ft.loc[3, "best_fit_utla"] == "E10900002"


@pytest.mark.slow
def test_scores_by_look_up_equal_dissolve_and_overlay_on_every_tiny_plan(tiny):
    res = M.mergers(tiny, "Tiny System", measure="area", top=15)
    sys = res._system
    blocks = np.vstack([_blocks_of(lab, sys.n) for lab in res.top["labels"]])
    naive = overlay_scores(tiny, sys.codes, blocks, tolerance=sys.tolerance)
    for col in naive.columns:
        np.testing.assert_allclose(
            res.top[col].to_numpy(float), naive[col].to_numpy(float), atol=1e-6
        )


def _blocks_of(labels: str, n: int) -> np.ndarray:
    groups: dict[str, int] = {}
    for i, ch in enumerate(labels):
        groups[ch] = groups.get(ch, 0) | (1 << i)
    row = np.zeros(n, dtype=np.int64)
    vals = sorted(groups.values(), key=lambda b: b & -b)
    row[: len(vals)] = vals
    return row


def test_pareto_front_equals_a_brute_force_dominance_check(tiny):
    on = ["n_ccgs", "outside_band", "not_coterminous_utla"]
    res = M.mergers(tiny, "Tiny System", top=15, pareto_on=on)
    vectors = res.top[on].to_numpy()
    front = set()
    for v in vectors:
        if not np.any(np.all(vectors <= v, axis=1) & np.any(vectors < v, axis=1)):
            front.add(tuple(int(x) for x in v))
    assert set(map(tuple, res.pareto[on].to_numpy().tolist())) == front
    assert front == {(1, 1, 0), (2, 0, 2), (3, 0, 0)}
    assert res.pareto["n_plans"].sum() == sum(
        int((vectors == np.array(f)).all(axis=1).sum()) for f in front
    )
    assert set(res.top.loc[res.top["pareto"], "plan_id"]) >= set(res.pareto["plan_id"])


@settings(max_examples=6, deadline=None)
@given(st.permutations([P_, Q_, R_, S_]))
def test_scores_do_not_depend_on_the_order_of_members(tiny, order):
    base = M.mergers(tiny, units=[P_, Q_, R_, S_], top=15)
    perm = M.mergers(tiny, units=list(order), top=15)
    cols = ["objective", "mean_j_utla", "min_j_ltla", "mismatch_utla", "split_las_utla", "band_gap"]
    a = base.top[cols].sort_values(cols).to_numpy()
    b = perm.top[cols].sort_values(cols).to_numpy()
    np.testing.assert_allclose(a, b)

    def as_sets(plans):
        return {frozenset(frozenset(b.split("+")) for b in p.split(" | ")) for p in plans}

    assert as_sets(perm.top["plan"]) == as_sets(base.top["plan"])
    assert perm.top.iloc[0]["objective"] == base.top.iloc[0]["objective"]


def test_weights_change_the_ranking_and_are_shown(tiny):
    res = M.mergers(tiny, "Tiny System", weights={"n_ccgs": 1.0})
    assert res.top.iloc[0]["n_ccgs"] == 1
    assert res.weights["n_ccgs"] == 1.0
    assert res.weights["outside_band"] == 0.0
    text = res.summary()
    assert "n_ccgs × 1" in text
    assert "objective" in text
    assert "score_n_ccgs" in res.top.columns


def test_constraints_number_of_ccgs_band_and_coterminous_blocks(tiny):
    two = M.mergers(tiny, "Tiny System", n_ccgs=2, top=50)
    assert two.n_plans == P.stirling2(4, 2)
    assert set(two.top["n_ccgs"]) == {2}
    assert two.best["plan_id"] == two.top.iloc[0]["plan_id"]
    banded = M.mergers(tiny, "Tiny System", population_band=(250_000, 500_000), top=50)
    assert (banded.top["min_population"] >= 250_000).all()
    assert (banded.top["max_population"] <= 500_000).all()
    cot = M.mergers(tiny, "Tiny System", coterminous_only="utla", top=50)
    assert (cot.top["not_coterminous_utla"] == 0).all()
    assert cot.n_plans == P.count_partitions(4, allowed=cot._system.allowed)


def test_score_plans_accepts_names_and_nhs_codes(tiny):
    plans = [
        [["9P"], ["9Q", "NHS Tiny R CCG"], "9S"],
        [["9P", "9Q", "9R", "9S"]],
        ["9P", "9Q", "9R", "9S"],
    ]
    frame = M.score_plans(tiny, "Tiny System", plans)
    assert frame.loc[0, "objective"] == 0.0
    assert frame.loc[0, "blocks"] == "Tiny P | Tiny Q + Tiny R | Tiny S"
    assert frame["n_ccgs"].tolist() == [3, 1, 4]
    assert frame.loc[2, "objective"] == pytest.approx(5.5)  # the no-merger plan, as by hand
    with pytest.raises(FootprintError, match="leaves out"):
        M.score_plans(tiny, "Tiny System", [[["9P"], ["9Q"]]])
    with pytest.raises(FootprintError, match="overlap"):
        M.score_plans(tiny, "Tiny System", [[["9P", "9Q"], ["9Q", "9R", "9S"]]])


def test_backends_give_identical_tables(tiny):
    frames = [
        pd.concat(M.iter_scored_plans(tiny, "Tiny System", backend=b, chunk_size=4))
        for b in BACKENDS
    ]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f.reset_index(drop=True), frames[0].reset_index(drop=True))


def test_plan_file_is_written_atomically_with_metadata(tiny, tmp_path):
    out = tmp_path / "plans.parquet"
    res = M.mergers(tiny, "Tiny System", out=out, chunk_size=4)
    assert res.out == out
    assert out.exists()
    assert not list(tmp_path.glob(".*.part"))
    plans, meta = read_plans(out)
    assert plans["plan_id"].tolist() == list(range(15))
    members = meta["systems"]["E54900001"]["members"]
    assert decode_labels(plans.loc[0, "labels"], members) == [[P_], [Q_], [R_], [S_]]
    assert meta["weights"]["not_coterminous_utla"] == 1.0
    csv = tmp_path / "plans.csv"
    M.mergers(tiny, "Tiny System", out=csv)
    assert len(pd.read_csv(csv)) == 15


def test_a_failure_while_scoring_leaves_no_file(tiny, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scorer on fire")

    monkeypatch.setattr(parallel, "arrow_chunk", broken)
    with pytest.raises(RuntimeError, match="scorer on fire"):
        M.mergers(tiny, "Tiny System", out=tmp_path / "plans.parquet")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.realdata
def test_a_disk_error_half_way_leaves_no_partial_file(geo, tmp_path, monkeypatch):
    out = tmp_path / "plans.parquet"
    calls = {"n": 0}
    real = writer.PlanWriter._write_now

    def flaky(self, table):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, table)

    monkeypatch.setattr(writer.PlanWriter, "_write_now", flaky)
    with pytest.raises(OutputError, match="No space left"):
        M.mergers(geo, "Cheshire and Merseyside", out=out, chunk_size=100_000)
    assert calls["n"] >= 3
    assert list(tmp_path.iterdir()) == []


def test_unwritable_outputs_are_refused_before_any_work(tiny, tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        M.mergers(tiny, "Tiny System", out=tmp_path / "missing" / "plans.parquet")
    with pytest.raises(OutputError, match="unknown format"):
        M.mergers(tiny, "Tiny System", out=tmp_path / "plans.xlsx")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root can write anywhere
            with pytest.raises(OutputError, match="read-only"):
                M.mergers(tiny, "Tiny System", out=locked / "plans.parquet")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_bad_weights_are_refused_with_every_problem(tiny):
    with pytest.raises(ParameterError, match="negative"):
        M.mergers(tiny, "Tiny System", weights={"n_ccgs": -1})
    with pytest.raises(ParameterError, match="all weights are zero"):
        M.mergers(tiny, "Tiny System", weights={"n_ccgs": 0, "outside_band": 0})
    with pytest.raises(ParameterError, match=r"unknown criteria \['beauty'\].*not a number"):
        M.mergers(tiny, "Tiny System", weights={"beauty": 1, "n_ccgs": "lots"})


def test_other_bad_parameters(tiny):
    with pytest.raises(ParameterError, match="top"):
        M.mergers(tiny, "Tiny System", top=-1)
    with pytest.raises(ParameterError, match="impossible"):
        M.mergers(tiny, "Tiny System", n_ccgs=5)
    with pytest.raises(ParameterError, match="no plan"):
        M.mergers(tiny, "Tiny System", population_band=(10, 20))
    with pytest.raises(ParameterError, match="band"):
        M.mergers(tiny, "Tiny System", band=(5, 1))
    with pytest.raises(ParameterError, match="executor"):
        M.mergers(tiny, "Tiny System", executor=object())
    with pytest.raises(ParameterError, match=r"system= .* or units="):
        M.mergers(tiny)


def test_every_entry_point_checks_the_shared_parameters(tiny):
    calls = {
        "mergers": lambda **kw: M.mergers(tiny, "Tiny System", **kw),
        "best_plan": lambda **kw: M.best_plan(tiny, "Tiny System", **kw),
        "iter_scored_plans": lambda **kw: next(M.iter_scored_plans(tiny, "Tiny System", **kw)),
        "national": lambda **kw: M.national(tiny, progress=False, **kw),
    }
    expected = r"^measure='volume'; use 'population' or 'area'; coterminous_only='lsoa'; use"
    for call in calls.values():
        with pytest.raises(ParameterError, match=expected):
            call(measure="volume", coterminous_only="lsoa")
    with pytest.raises(ParameterError, match=r"unknown options \['colour'\]; use some of"):
        calls["iter_scored_plans"](colour="red")


def test_a_disagreement_of_the_dynamic_programme_and_enumeration_raises(tiny, monkeypatch):
    """The self-check: were the DP ever to answer another plan than enumeration, the run stops."""
    assert M.mergers(tiny, "Tiny System").best["plan"] == f"{P_} | {Q_}+{R_} | {S_}"  # not plan 0
    real = results._best_row

    def wrong(sys):  # a DP answering the all-singletons plan (plan 0) instead of the optimum
        total, _ = real(sys)
        return total, np.array([[1 << i for i in range(sys.n)]], dtype=np.int64)

    monkeypatch.setattr(results, "_best_row", wrong)
    with pytest.raises(
        InconsistentResultError,
        match=r"disagree on the best plan of Tiny System: plan 0 \(objective .*\) vs plan [1-9]",
    ) as err:
        M.mergers(tiny, "Tiny System")
    assert isinstance(err.value, RuntimeError)
    assert "bug in coterminus" in str(err.value)


def test_every_entry_point_reads_the_options_alike(tiny):
    opts = {"contiguous": True, "n_ccgs": (2, 3), "band": (100_000, 300_000)}
    res = M.mergers(tiny, "Tiny System", top=50, **opts)
    assert 0 < res.n_plans < 15
    assert M.best_plan(tiny, "Tiny System", **opts)["plan_id"] == res.best["plan_id"]
    # an option given as None keeps its default
    chunks = list(M.iter_scored_plans(tiny, "Tiny System", within_system=None, **opts))
    assert sorted(pd.concat(chunks)["plan_id"]) == list(range(res.n_plans))
    nat = M.national(tiny, progress=False, top=50, **opts)
    assert nat.results["E54900001"].constraints == res.constraints
    pd.testing.assert_frame_equal(nat.results["E54900001"].top, res.top)


def test_a_failed_national_run_leaves_no_file(tiny, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scorer on fire")

    monkeypatch.setattr(parallel, "arrow_chunk", broken)
    with pytest.raises(RuntimeError, match="scorer on fire"):
        M.national(tiny, progress=False, out=tmp_path / "n.csv")
    assert list(tmp_path.iterdir()) == []


def test_unknown_codes_in_overrides_and_units_are_named(tiny):
    with pytest.raises(UnknownAreaError, match="E38999999"):
        M.mergers(tiny, "Tiny System", contiguous=True, overrides={(P_, "E38999999"): True})
    with pytest.raises(UnknownAreaError, match="Nowhere"):
        M.mergers(tiny, units=["Nowhere CCG", P_])


def test_enumeration_beyond_reach_is_refused_with_the_count(tiny):
    with pytest.raises(EnumerationTooLargeError, match=r"15 plans .*max_plans=10.*best_plan"):
        M.mergers(tiny, "Tiny System", max_plans=10)
    # the DP still answers
    assert M.best_plan(tiny, "Tiny System")["objective"] == 0.0


def test_executors_give_the_same_answer_as_a_serial_run(tiny, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    serial = M.mergers(tiny, "Tiny System", top=15, out=tmp_path / "a.parquet")
    with ThreadPoolExecutor(2) as pool:
        par = M.mergers(tiny, "Tiny System", top=15, executor=pool, chunk_size=2,
                        out=tmp_path / "b.parquet")  # fmt: skip
    pd.testing.assert_frame_equal(serial.top, par.top)
    pd.testing.assert_frame_equal(serial.pareto, par.pareto)
    a, _ = read_plans(tmp_path / "a.parquet")
    b, _ = read_plans(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_national_on_the_tiny_vintage(tiny, tmp_path, capsys):
    res = M.national(tiny, progress=True, out=tmp_path / "n.parquet")
    assert "plan" in capsys.readouterr().err  # the progress bar went to stderr
    assert res.n_plans == 15
    assert res.summary.loc["E54900001", "n_ccgs"] == 3
    plans, _ = read_plans(tmp_path / "n.parquet")
    assert set(plans["system"]) == {"E54900001"}
    assert json.dumps(res.to_dict())


# =============================================================================================
# real 2019 data
# =============================================================================================
@pytest.fixture(scope="module")
def geo(data_dir):
    return coterminus.load(2019, data_dir=data_dir)


@pytest.mark.realdata
def test_coventry_and_warwickshire_has_five_plans_and_the_full_merger_is_coterminous(geo):
    res = M.mergers(geo, "Coventry and Warwickshire")
    assert res.n_plans == 5
    full = res.top[res.top["n_ccgs"] == 1].iloc[0]
    assert full["mean_j_utla"] == 1.0
    assert full["test_ii_utla"] == "Y"
    ft = res.footprints()
    assert ft.loc[7, "j_utla"] == 1.0
    assert ft.loc[7, "best_fit_utla"] == "E08000026+E10000031"  # Coventry + Warwickshire
    assert ft.loc[7, "population"] == 949_454
    assert res.members["population"].sum() == 949_454
    assert res.best["plan_id"] == res.top.iloc[0]["plan_id"]


@pytest.mark.realdata
def test_table_scores_equal_footprint_metrics_for_blocks_of_cheshire_and_merseyside(geo):
    ft = M.footprint_table(geo, "Cheshire and Merseyside")
    assert len(ft) == 4095
    rng = np.random.default_rng(7)
    sample = rng.choice(ft.index.to_numpy(), size=60, replace=False)
    for tier in ("utla", "ltla"):
        table = overlap(geo, "ccg", tier)
        for mask in sample:
            members = ft.loc[mask, "members"].split("+")
            fm = footprint_metrics(table, members)
            assert ft.loc[mask, f"j_{tier}"] == fm.index
            assert ft.loc[mask, f"coterminous_{tier}"] == fm.coterminous
            assert ft.loc[mask, f"n_split_{tier}"] == len(fm.split)
            assert ft.loc[mask, "population"] == int(fm.total)


@pytest.mark.realdata
@pytest.mark.slow
def test_cheshire_and_merseyside_streams_all_4213597_plans_to_parquet(geo, tmp_path):
    out = tmp_path / "cm.parquet"
    res = M.mergers(geo, "Cheshire and Merseyside", out=out, top=5)
    assert res.n_plans == 4_213_597
    import pyarrow.parquet as pq

    assert pq.read_metadata(out).num_rows == 4_213_597
    table = pq.read_table(out, columns=["plan_id", "labels", "objective", "n_ccgs"])
    assert table.column("plan_id").to_numpy()[-1] == 4_213_596
    labels = table.column("labels").to_numpy(zero_copy_only=False)
    assert labels[0] == "ABCDEFGHIJKL"
    assert labels[-1] == "AAAAAAAAAAAA"
    assert len(set(labels[::97])) == len(labels[::97])
    obj = table.column("objective").to_numpy()
    assert obj.min() == res.top.iloc[0]["objective"] == res.best["objective"]
    assert np.flatnonzero(obj == obj.min())[0] == res.top.iloc[0]["plan_id"]
    # sampled rows equal scoring the same plans directly by look-up
    rng = np.random.default_rng(3)
    ids = np.sort(rng.choice(4_213_597, size=25, replace=False))
    full = pq.read_table(out).take(ids).to_pandas()
    blocks = np.vstack([_blocks_of(lab, 12) for lab in full["labels"]])
    direct = M.score_plans(geo, "Cheshire and Merseyside", blocks)
    for col in PLAN_COLUMNS[1:]:
        np.testing.assert_allclose(direct[col].to_numpy(float), full[col].to_numpy(float),
                                   rtol=1e-12, atol=1e-9, err_msg=col)  # fmt: skip
    assert direct["test_ii_utla"].tolist() == full["test_ii_utla"].tolist()


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not P.HAVE_NUMBA, reason="numba (the fast extra) is not installed")
def test_numba_and_numpy_score_all_of_cheshire_and_merseyside_identically(geo):
    res = M.mergers(geo, "Cheshire and Merseyside", top=1)
    sys = res._system
    fast = scoring.score_chunks(sys, backend="numba", chunk_size=1 << 18)
    slow = scoring.score_chunks(sys, backend="numpy", chunk_size=1 << 18)
    n = 0
    for a, b in zip(fast, slow, strict=True):
        assert set(a.cols) == set(b.cols)
        for col in a.cols:
            assert a.cols[col].dtype == b.cols[col].dtype, col
            np.testing.assert_array_equal(a.cols[col], b.cols[col], err_msg=col)
        np.testing.assert_array_equal(a.blocks(), b.blocks())
        n += a.cols["plan_id"].size
    assert n == 4_213_597


@pytest.mark.slow
@pytest.mark.realdata
def test_table_scores_equal_dissolve_and_overlay_for_random_real_plans(geo):
    """Area measure: look-ups in the footprint table vs geopandas dissolve + overlay per plan."""
    codes = geo.members("Cheshire and Merseyside")
    rng = np.random.default_rng(11)
    plans = []
    for _ in range(4):  # random set partitions by random restricted growth strings
        labels = [0]
        for _ in range(11):
            labels.append(int(rng.integers(0, max(labels) + 2)))
        plans.append([[c for c, lab in zip(codes, labels, strict=True) if lab == k]
                      for k in range(max(labels) + 1)])  # fmt: skip
    table = M.score_plans(geo, "Cheshire and Merseyside", plans, measure="area")
    sys = constraints.build_system(geo, codes, code=None, name="x", measure="area", tolerance=None,
                          band=DEFAULT_BAND, weights=None, within_system=False)  # fmt: skip
    blocks = plans_to_blocks(sys, geo, plans)
    naive = overlay_scores(geo, codes, blocks, tolerance=sys.tolerance)
    for col in naive.columns:
        got = table[col].to_numpy(float)
        want = naive[col].to_numpy(float)
        if col.startswith("mismatch"):  # m²: slivers under 1,000 m² are dropped by the table
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=5e4, err_msg=col)
        else:
            np.testing.assert_allclose(got, want, atol=1e-4, err_msg=col)


@pytest.mark.realdata
@pytest.mark.slow
def test_dynamic_programme_equals_full_enumeration_on_every_2019_system(geo):
    res = M.national(geo, top=1, progress=False)
    assert len(res.results) == 42
    assert res.n_plans == sum(P.bell(len(geo.members(s))) for s in geo.stp.index)
    for code, r in res.results.items():
        top = r.top.iloc[0]
        assert r.best["plan_id"] == top["plan_id"], code
        assert r.best["objective"] == top["objective"], code
        assert r.best["plan"] == top["plan"], code
    contiguous = M.national(geo, top=1, contiguous=True, progress=False)
    assert contiguous.n_plans == sum(r.n_plans for r in contiguous.results.values())
    for code, r in contiguous.results.items():
        assert r.best["plan_id"] == r.top.iloc[0]["plan_id"], code
        assert r.top.iloc[0]["non_contiguous"] == 0
    # the independent entry point agrees too
    for name in [
        "Cheshire and Merseyside",
        "Greater Manchester Health and Social Care Partnership",
    ]:
        code = geo.code(name, level="stp")
        assert M.best_plan(geo, name)["plan"] == res.results[code].top.iloc[0]["plan"]


@pytest.mark.realdata
def test_dask_local_cluster_gives_the_serial_answers(geo, tmp_path):
    serial = M.mergers(geo, "Cheshire and Merseyside", contiguous=True, top=10,
                       out=tmp_path / "s.parquet")  # fmt: skip
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        par = M.mergers(geo, "Cheshire and Merseyside", contiguous=True, top=10, executor=client,
                        chunk_size=2000, out=tmp_path / "p.parquet")  # fmt: skip
        nat = M.national(geo, contiguous=True, top=2, executor=client, progress=False,
                         systems=["Coventry and Warwickshire", "Kent and Medway"])  # fmt: skip
    pd.testing.assert_frame_equal(serial.top, par.top)
    pd.testing.assert_frame_equal(serial.pareto, par.pareto)
    a, _ = read_plans(tmp_path / "s.parquet")
    b, _ = read_plans(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(a, b)
    ser_nat = M.national(geo, contiguous=True, top=2, progress=False,
                         systems=["Coventry and Warwickshire", "Kent and Medway"])  # fmt: skip
    pd.testing.assert_frame_equal(nat.summary, ser_nat.summary)


@pytest.mark.realdata
def test_isle_of_wight_needs_an_override_to_merge_in_contiguous_plans(geo):
    iow = geo.code("NHS Isle of Wight CCG", level="ccg")
    res = M.mergers(geo, "Hampshire and the Isle of Wight", contiguous=True, top=1000)
    assert len(res.top) == res.n_plans
    assert all(iow in p.split(" | ") for p in res.top["plan"])  # always a block of its own
    ports = geo.code("NHS Portsmouth CCG", level="ccg")
    joined = M.mergers(geo, "Hampshire and the Isle of Wight", contiguous=True, top=1000,
                       overrides={(iow, ports): True})  # fmt: skip
    assert joined.n_plans > res.n_plans
    blocks = [block for p in joined.top["plan"] for block in p.split(" | ")]
    assert any(iow in block and ports in block for block in blocks)


@pytest.mark.realdata
def test_real_bad_input_messages(geo):
    with pytest.raises(VintageMismatchError, match="2021"):
        M.mergers(geo, "E54000050")  # North East and North Cumbria, a 2021 code
    with pytest.raises(FootprintError, match=r"not in Coventry and Warwickshire .*E38000101"):
        M.mergers(geo, "Coventry and Warwickshire", units=["05A", "NHS Liverpool CCG"])
    with pytest.raises(UnknownAreaError, match="E38000000"):
        M.mergers(geo, "Cheshire and Merseyside", contiguous=True,
                  overrides={("E38000000", "E38000101"): True})  # fmt: skip
    many = geo.members("Cheshire and Merseyside") + geo.members("Cumbria and North East")
    with pytest.raises(EnumerationTooLargeError, match=r"24 units have 445,958,869,294,805,289"):
        M.mergers(geo, units=many)
    with pytest.raises(EnumerationTooLargeError, match=r"4,213,597 plans .*best_plan\(\)"):
        M.mergers(geo, "Cheshire and Merseyside", max_plans=1e6)


@pytest.mark.realdata
def test_units_across_systems_stay_within_one_system_unless_told(geo):
    units = geo.members("Coventry and Warwickshire") + geo.members("Northamptonshire")
    inside = M.mergers(geo, units=units, top=100)
    assert inside.n_plans == P.bell(3) * P.bell(2)
    free = M.mergers(geo, units=units, within_system=False, top=1)
    assert free.n_plans == P.bell(5)


# =============================================================================================
# the command line
# =============================================================================================
def _cli(args, capsys):
    from coterminus.cli import main

    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.realdata
def test_cli_ranks_a_system_and_prints_json(data_dir, capsys):
    args = ["mergers", "--vintage", "2019", "--data-dir", str(data_dir)]
    args += ["--system", "Coventry and Warwickshire", "--top", "3", "--json"]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["n_plans"] == 5
    assert len(data["top"]) == 3
    assert data["weights"]["not_coterminous_utla"] == 1.0


@pytest.mark.realdata
def test_cli_runs_on_a_local_dask_cluster(data_dir, capsys):
    args = ["mergers", "--data-dir", str(data_dir), "--system", "Coventry and Warwickshire"]
    code, text, err = _cli([*args, "--workers", "2", "--top", "2"], capsys)
    assert code == 0, err
    assert text.startswith("Coventry and Warwickshire (E54000018), vintage 2019: 3 CCGs, 5 plans")
    assert "#2 plan" in text


@pytest.mark.slow
@pytest.mark.realdata
def test_cli_writes_the_national_contiguous_table(data_dir, tmp_path, capsys):
    out = tmp_path / "national.parquet"
    args = ["mergers", "--vintage", "2019", "--data-dir", str(data_dir)]
    args += ["--all-systems", "--contiguous", "--out", str(out)]
    code, text, err = _cli(args, capsys)
    assert code == 0, err
    assert "42 systems" in text
    import pyarrow.parquet as pq

    assert pq.read_metadata(out).num_rows == 77_073


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--system", "Coventry and Warwickshire", "--weights", "beauty=1"], "unknown criteria"),
        (["--system", "Coventry and Warwickshire", "--weights", "n_ccgs=-2"], "negative"),
        (["--system", "Nowhere At All"], "No STP/ICS named"),
        (
            ["--system", "Coventry and Warwickshire", "--out", "/no/such/dir/p.parquet"],
            "does not exist",
        ),
        (["--system", "Coventry and Warwickshire", "--join", "05A:ZZZ"], "ZZZ"),
        (["--system", "Cheshire and Merseyside", "--max-plans", "1000"], "4,213,597"),
        (["--system", "Coventry and Warwickshire", "--n-ccgs", "x"], "--n-ccgs"),
        (["--system", "Coventry and Warwickshire", "--jobs", "0"], "--jobs 0 must be at least 1"),
    ],
)
def test_cli_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(data_dir, capsys, args, pattern):
    code, _, err = _cli(["mergers", "--data-dir", str(data_dir), *args], capsys)
    assert code != 0
    assert err.startswith(("coterminus: error:", "coterminus mergers: error:"))
    assert err.count("\n") == 1
    assert pattern in err


def test_cli_needs_a_system_all_systems_or_codes(capsys):
    code, _, err = _cli(["mergers"], capsys)
    assert code == 2
    assert "give --system NAME, --all-systems, or --codes" in err


# =============================================================================================
# the selection kernel (top-k and Pareto inside one compiled pass) against the reference
# =============================================================================================
needs_numba = pytest.mark.skipif(not P.HAVE_NUMBA, reason="numba (the fast extra) is not installed")


def _popcount_values(n: int) -> np.ndarray:
    return P.popcount(np.arange(1 << n, dtype=np.int64)).astype(float)


@needs_numba
@pytest.mark.parametrize("bounds", [True, False])
def test_selection_of_three_units_worked_by_hand(bounds):
    # plans of {0,1,2} in enumeration order: 0|1|2, 0|12, 01|2, 02|1, 012;
    # block cost |S|^2 gives objectives 3, 5, 5, 5, 9; Pareto on (cost, blocks):
    # (3,3) plan 0, (5,2) plans 1-3, (9,1) plan 4 -- nothing dominated
    k = _popcount_values(3)
    pv = np.column_stack([k**2, (k > 0).astype(float)])
    sel = S.select(3, allowed=np.ones(8, bool), cost=k**2, pv=pv, top=3, n_blocks=(1, 3),
                   bounds=bounds)  # fmt: skip
    assert sel.n_plans == 5
    order = np.lexsort((sel.top_id, sel.top_obj))
    assert sel.top_id[order].tolist() == [0, 1, 2]  # ties go to the lowest plan id
    assert sel.top_obj[order].tolist() == [3.0, 5.0, 5.0]
    assert sel.top_blocks[order].tolist() == [[1, 2, 4], [1, 6, 0], [3, 4, 0]]
    front = sorted(zip(sel.front_id.tolist(), sel.front_count.tolist(), strict=True))
    assert front == [(0, 1), (1, 3), (4, 1)]
    # only one block allowed: plans with 1 or 2 blocks, ids count kept plans only
    sel2 = S.select(3, allowed=np.ones(8, bool), cost=k**2, pv=pv, top=5, n_blocks=(1, 2))
    assert sel2.n_plans == 4
    assert sorted(sel2.top_id.tolist()) == [0, 1, 2, 3]


@needs_numba
def test_selection_of_four_units_keeps_every_plan_in_order_when_k_is_the_count():
    n = 4
    rng = np.random.default_rng(4)
    cost = np.round(rng.random(1 << n) * 64) / 8  # a binary grid: sums are exact
    pv = np.column_stack([_popcount_values(n), np.round(rng.random(1 << n) * 10)])
    sel = S.select(n, allowed=np.ones(1 << n, bool), cost=cost, pv=pv, top=15, n_blocks=(1, n))
    order = np.argsort(sel.top_id)
    blocks = sel.top_blocks[order]
    expected = np.vstack(list(P.partition_chunks(n, backend="numpy")))
    assert sel.top_id[order].tolist() == list(range(15))
    assert blocks.tolist() == expected.tolist()
    by_hand = [sum(cost[b] for b in row if b) for row in expected]
    assert sel.top_obj[order].tolist() == by_hand
    vec = [tuple(sum(pv[b] for b in row if b)) for row in expected]
    front = [
        i
        for i, v in enumerate(vec)
        if not any(all(w <= x for w, x in zip(u, v, strict=True)) and u != v for u in vec)
    ]
    first_of = {}
    for i in front:
        first_of.setdefault(vec[i], i)
    assert sorted(sel.front_id.tolist()) == sorted(first_of.values())
    counts = dict(zip(sel.front_id.tolist(), sel.front_count.tolist(), strict=True))
    assert all(counts[i] == sum(vec[j] == vec[i] for j in range(15)) for i in first_of.values())


def _every_plan_by_selection(sys: System, first=None):
    """Every plan of a system (or slice) through the selection kernel, by plan id."""
    count = int(P.count_partitions(sys.n, allowed=sys.allowed)) if first is None else None
    if first is not None:
        _, counts = P.first_block_counts(sys.n, allowed=sys.allowed)
        count = int(counts[first[0] : first[1]].sum())
    sel = S.select(sys.n, allowed=sys.allowed, cost=sys.cost, pv=np.zeros((1 << sys.n, 0)),
                   top=count, n_blocks=(1, sys.n), first=first)  # fmt: skip
    order = np.argsort(sel.top_id)
    assert sel.top_id[order].tolist() == list(range(count))
    blocks = sel.top_blocks[order]
    return sel.top_obj[order], blocks, scoring.reference_split(sys, blocks, first)


def _assert_selection_equals_reference(sys: System, first=None) -> int:
    obj, blocks, split = _every_plan_by_selection(sys, first)
    ref = list(scoring.score_chunks(sys, first=first, backend="numba"))
    ref_cols = {c: np.concatenate([r.cols[c] for r in ref]) for c in ref[0].cols}
    ref_blocks = np.vstack([r.blocks() for r in ref])
    np.testing.assert_array_equal(blocks, ref_blocks)
    np.testing.assert_array_equal(obj, ref_cols["objective"])
    cols = scoring.split_columns(sys, blocks, split)  # every column, in the per-plan kernel's order
    for c, v in cols.items():
        np.testing.assert_array_equal(v, ref_cols[c], err_msg=c)
    # and from scratch: plain look-ups per plan, blocks in order
    count, sums, mins, twice = scoring.direct_aggregates(sys, blocks)
    scratch = scoring.finalise(sys, count, sums, mins, twice)
    for c, v in scratch.items():
        np.testing.assert_allclose(cols[c], v, rtol=1e-12, atol=1e-9, err_msg=c)
    return int(obj.size)


@needs_numba
@pytest.mark.realdata
@pytest.mark.slow
def test_selection_equals_the_per_plan_kernel_on_every_plan_of_every_2019_system(geo):
    total = 0
    for code in geo.stp.index:
        sys = constraints.prepare_system(geo, code, Constraints())
        total += _assert_selection_equals_reference(sys)
    assert total == sum(P.bell(len(geo.members(s))) for s in geo.stp.index)


@pytest.fixture(scope="module")
def essex(geo) -> System:
    """The 14 councils of Greater Essex (2019 LTLAs) as units, scored from overlap tables."""
    ltla = geo.ltla
    codes = sorted(ltla.index[ltla["utla"] == geo.code("Essex", level="utla")])
    codes += [geo.code("Southend-on-Sea", level="ltla"), geo.code("Thurrock", level="ltla")]
    tables = {"utla": overlap(geo, "ltla", "utla"), "ltla": overlap(geo, "ltla", "ltla")}
    return constraints.prepare_system(tables, None, Constraints(units=codes))


@needs_numba
@pytest.mark.realdata
@pytest.mark.slow
def test_selection_equals_the_per_plan_kernel_on_a_million_plans_of_greater_essex(essex):
    assert essex.n == 14
    blocks, counts = P.first_block_counts(14, allowed=essex.allowed)
    assert int(counts.sum()) == P.bell(14)
    rng = np.random.default_rng(2019)
    done = 0
    for i in rng.permutation(blocks.size):  # random first blocks until 10**6 plans
        if done >= 1_000_000:
            break
        if counts[i] > 600_000:
            continue
        done += _assert_selection_equals_reference(essex, first=(int(i), int(i) + 1))
    assert done >= 1_000_000


@needs_numba
@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [{}, {"contiguous": True}, {"n_ccgs": (2, 4)},
     {"pareto_on": ["n_ccgs", "band_gap", "split_pairs_ltla", "mismatch_utla"]}],
)  # fmt: skip
def test_top_k_and_pareto_of_the_selection_kernel_equal_the_reference_on_2019(geo, options):
    pareto_on = options.get("pareto_on")
    system_options = {k: v for k, v in options.items() if k != "pareto_on"}
    for code in geo.stp.index:
        if "n_ccgs" in options and len(geo.members(code)) < 4:
            continue
        sys = constraints.prepare_system(geo, code, Constraints(**system_options))
        if P.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks) == 0:
            continue
        cols = constraints.pareto_columns(sys.weights, pareto_on)
        got = {}
        for method in ["reference", "auto"]:
            piece = parallel.Piece(sys, None, 0, 7, cols, "numba", 1 << 16, keep_rows=False,
                             with_system=False, method=method)  # fmt: skip
            got[method] = parallel.run_piece(piece)
        a, b = got["reference"], got["auto"]
        assert a.n_plans == b.n_plans, code
        for c in a.top.cols:
            np.testing.assert_array_equal(a.top.cols[c], b.top.cols[c], err_msg=f"{code} {c}")
        np.testing.assert_array_equal(a.top.blocks, b.top.blocks)
        for f in ["x", "ids", "counts", "blocks"]:
            np.testing.assert_array_equal(getattr(a.pareto, f), getattr(b.pareto, f), err_msg=f)


@needs_numba
@pytest.mark.realdata
def test_run_bounds_change_nothing_on_greater_essex_slices(essex):
    pv = np.column_stack(
        [essex.criteria()[c] for c in constraints.pareto_columns(essex.weights, None)]
    )
    for first in [(0, 3), (100, 140), (4000, 4100)]:
        a, b = (S.select(14, allowed=essex.allowed, cost=essex.cost, pv=pv, top=20,
                         n_blocks=(1, 14), first=first, bounds=bounds) for bounds in (True, False))  # fmt: skip
        assert a.n_plans == b.n_plans
        for kind in ("top", "front"):
            ia, ib = np.argsort(getattr(a, f"{kind}_id")), np.argsort(getattr(b, f"{kind}_id"))
            fields = ["id", "blocks", "split", *(["obj"] if kind == "top" else ["count"])]
            for f in fields:
                np.testing.assert_array_equal(getattr(a, f"{kind}_{f}")[ia],
                                              getattr(b, f"{kind}_{f}")[ib], err_msg=f)  # fmt: skip


# =============================================================================================
# large spaces: what --out holds, the size check, the ceiling, parallel pools
# =============================================================================================
def test_out_above_the_store_limit_holds_the_top_k_and_front_and_says_so(tiny, tmp_path):
    out = tmp_path / "sel.parquet"
    res = M.mergers(tiny, "Tiny System", top=4, out=out, store_limit=10)
    assert res.out == out
    assert "store_limit=10" in res.out_note
    assert "top-k and Pareto front only" in res.summary()
    table = pd.read_parquet(out)
    assert (table["selected"] == "top").sum() == 4
    assert (table["selected"] == "pareto").sum() == len(res.pareto)
    assert table.loc[table["selected"] == "top", "plan_id"].tolist() == res.top["plan_id"].tolist()
    if P.HAVE_NUMBA:  # histograms over every plan: n_ccgs counts are Stirling numbers
        hist = pd.read_csv(tmp_path / "sel.histograms.csv")
        pd.testing.assert_frame_equal(hist, res.histograms, check_dtype=False)
        k = hist[hist["criterion"] == "n_ccgs"]
        assert k["plans"].tolist() == [0, 1, 7, 6, 1]
        assert k["low"].tolist() == [0, 1, 2, 3, 4]
        assert (hist.groupby("criterion")["plans"].sum() == 15).all()
        assert set(hist["criterion"]) == {
            "objective",
            "n_ccgs",
            *constraints.pareto_columns(res.weights, None),
        }
        assert "histograms of every plan" in res.summary()
    full = M.mergers(tiny, "Tiny System", out=tmp_path / "all.parquet", store_limit=10,
                     all_plans=True)  # fmt: skip
    assert full.out_note == ""
    assert len(read_plans(tmp_path / "all.parquet")[0]) == 15


def test_all_plans_is_refused_when_the_disk_cannot_hold_them(tiny, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(1000, 1000, 100))
    with pytest.raises(OutputError, match=r"15 plans.*720 B.*100 B free.*drop --all-plans"):
        M.mergers(tiny, "Tiny System", out=tmp_path / "x.parquet", all_plans=True)
    assert not list(tmp_path.iterdir())


def test_huge_counts_are_written_as_powers_of_ten():
    assert P.about(P.bell(15)) == "1,382,958,545"
    assert P.about(P.bell(300)) == f"about 10^{len(str(P.bell(300))) - 1}"
    with pytest.raises(EnumerationTooLargeError, match=r"about 10\^\d+ plans") as err:
        P.check_enumerable(P.bell(300), n=300)
    assert str(P.bell(300)) not in str(err.value)
    assert P.bell(15) < P.DEFAULT_MAX_PLANS
    P.check_enumerable(P.bell(15))  # scorable now (nothing is stored)


@pytest.mark.realdata
@pytest.mark.slow
def test_process_pool_and_dask_give_the_serial_answers_with_the_selection_kernel(geo):
    from concurrent.futures import ProcessPoolExecutor

    kw = {"top": 10, "pareto_on": ["mismatch_utla", "n_ccgs", "outside_band"]}
    serial = M.mergers(geo, "Cheshire and Merseyside", **kw)
    with ProcessPoolExecutor(2) as pool:
        par = M.mergers(geo, "Cheshire and Merseyside", executor=pool, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        dask = M.mergers(geo, "Cheshire and Merseyside", executor=client, **kw)
    for other in (par, dask):
        pd.testing.assert_frame_equal(serial.top, other.top)
        pd.testing.assert_frame_equal(serial.pareto, other.pareto)
        assert other.n_plans == serial.n_plans == P.bell(12)


@pytest.mark.realdata
def test_cli_store_limit_all_plans_and_jobs(data_dir, tmp_path, capsys):
    base = ["mergers", "--data-dir", str(data_dir), "--system", "Coventry and Warwickshire"]
    out = tmp_path / "p.parquet"
    code, text, err = _cli([*base, "--jobs", "2", "--store-limit", "3", "--out", str(out)], capsys)
    assert code == 0, err
    assert "top-k and Pareto front only" in text
    assert set(pd.read_parquet(out)["selected"]) == {"top", "pareto"}
    code, text, err = _cli([*base, "--jobs", "1", "--store-limit", "3", "--all-plans",
                            "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, err
    assert f"full plan table: {out}" in text
    assert len(read_plans(out)[0]) == 5


def test_cli_help_shows_every_new_default(capsys):
    from coterminus import cli

    with pytest.raises(SystemExit):
        cli.main(["mergers", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in [("--jobs", "every core"), ("--scheduler", "none"),
                          ("--store-limit", "5e7"), ("--all-plans", "off"),
                          ("--max-plans", "2e10")]:  # fmt: skip
        assert flag in text
        assert f"default {default}" in text or f"default: {default}" in text, flag


@pytest.mark.realdata
def test_cli_runs_on_a_dask_scheduler_by_address(data_dir, capsys):
    args = ["mergers", "--data-dir", str(data_dir), "--system", "Coventry and Warwickshire"]
    serial_code, serial, _ = _cli([*args, "--jobs", "1", "--top", "2", "--json"], capsys)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:  # fmt: skip
        code, text, err = _cli([*args, "--scheduler", cluster.scheduler_address, "--top", "2",
                                "--json"], capsys)  # fmt: skip
    assert serial_code == code == 0, err
    a, b = json.loads(serial), json.loads(text)
    assert a["top"] == b["top"]
    assert a["n_plans"] == b["n_plans"] == 5
