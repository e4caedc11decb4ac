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
from coterminus.plans import mergers as M
from coterminus.plans import parallel, results, scoring, writer
from coterminus.plans.constraints import Constraints, RunOptions, pareto_columns
from coterminus.plans.plan_files import decode_labels, plans_to_blocks, read_plans
from coterminus.plans.tables import System
from overlay_oracle import overlay_scores

BACKENDS = ["numpy", *(["numba"] if P.HAVE_NUMBA else [])]
KM = 10_000.0
ANY = Constraints(contiguous=False)  # every block shape: the full Bell(n) plans


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
    res = M.mergers(tiny, "Tiny System", top=15, constraints=ANY)
    assert res.n_plans == 15
    assert res.against == ("utla", "ltla")
    best = res.top.iloc[0]
    assert best["plan"] == f"{P_} | {Q_}+{R_} | {S_}"
    assert best["objective"] == 0
    assert best["change"] == 150_000  # Q and R merge: the smaller one's people move
    assert best["n_blocks"] == 3
    assert best["coterminous_utla"] == "YYY"
    assert best["labels"] == "ABBC"
    assert best["rank"] == 1
    assert not best["tied"]
    assert res.best["plan_id"] == best["plan_id"]


def test_no_merger_plan_scores_exactly_as_worked_by_hand(tiny):
    res = M.mergers(tiny, "Tiny System", top=15, constraints=ANY)
    status_quo = res.top.set_index("plan_id").loc[0]
    assert status_quo["n_blocks"] == 4
    # Q and R each hold 150,000 of Mid's 300,000: split in each, the smaller side 150,000
    assert status_quo["split_utla"] == 300_000
    assert status_quo["mismatch_utla"] == 300_000
    assert status_quo["not_coterminous_utla"] == 300_000  # Q's and R's people
    assert status_quo["not_coterminous_ltla"] == 0  # Q and R are districts b and e exactly
    assert status_quo["outside_band"] == 300_000  # Q and R are below 250,000 (soft band)
    assert status_quo["objective"] == 900_000
    assert status_quo["change"] == 0
    assert status_quo["coterminous_utla"] == "YNNY"
    assert "splits upper-tier council Mid (150,000 of 300,000 people here)" in status_quo["reasons"]
    assert "vs the best plan: +900,000" in status_quo["reasons"]


def test_contiguity_is_the_default_and_removes_the_plans_that_join_p_and_s(tiny):
    res = M.mergers(tiny, "Tiny System", top=20)
    assert res.n_plans == 13
    assert res.constraints["contiguous"] is True
    assert all(f"{P_}+{S_}" not in p for p in res.top["plan"])
    edges = res.adjacency
    assert not edges[(edges["a"] == P_) & (edges["b"] == S_)]["adjacent"].any()
    joined = M.mergers(tiny, "Tiny System", constraints=Constraints(overrides={(S_, P_): True}))
    assert joined.n_plans == 15


def test_footprint_table_equals_plain_pandas_on_every_block(tiny):
    ft = M.footprint_table(tiny, "Tiny System", constraints=ANY)
    assert len(ft) == 15
    assert ft.attrs["members"] == [P_, Q_, R_, S_]
    lsoa = tiny.lsoa
    for mask, row in ft.iterrows():
        members = row["members"].split("+")
        block = lsoa[lsoa["ccg"].isin(members)]
        assert row["population"] == block["population"].sum()
        for lv in ("utla", "ltla"):
            inside = lsoa.groupby(lv)["population"].sum()  # the system is all of tiny
            m = block.groupby(lv)["population"].sum()
            split = [t for t in m.index if 0 < m[t] < inside[t]]  # ε × 100,000s < 1 person
            assert row[f"split_{lv}"] == sum(m[t] for t in split)
            assert row[f"mismatch_{lv}"] == sum(min(m[t], inside[t] - m[t]) for t in split)
            assert row[f"not_coterminous_{lv}"] == (row["population"] if split else 0)
            assert row[f"coterminous_{lv}"] == (not split)
        assert mask == sum(1 << ft.attrs["members"].index(c) for c in members)


def test_footprint_table_from_overlap_tables_alone(tiny):
    tables = {t: overlap(tiny, "ccg", t) for t in ("utla", "ltla")}
    ft = M.footprint_table(tables, [Q_, R_], constraints=ANY)
    assert ft["mismatch_utla"].tolist() == [150_000, 150_000, 0]
    assert ft.loc[3, "coterminous_utla"]
    assert ft.loc[1, "split_areas_utla"] == "E10900002"
    with pytest.raises(ParameterError, match="contiguity needs polygons"):
        M.footprint_table(tables, [Q_, R_])


@pytest.mark.slow
def test_scores_by_look_up_equal_dissolve_and_overlay_on_every_tiny_plan(tiny):
    res = M.mergers(tiny, "Tiny System", top=15,
                    constraints=ANY.replace(measure="area"))  # fmt: skip
    sys = res._system
    blocks = np.vstack([_blocks_of(lab, sys.n) for lab in res.top["labels"]])
    naive = overlay_scores(tiny, "ccg", sys.codes, blocks, against=res.against,
                           tolerance=sys.problem.tolerance)  # fmt: skip
    for col in naive.columns:
        np.testing.assert_allclose(res.top[col].to_numpy(float), naive[col].to_numpy(float),
                                   atol=1.0, err_msg=col)  # fmt: skip


def _blocks_of(labels: str, n: int) -> np.ndarray:
    groups: dict[str, int] = {}
    for i, ch in enumerate(labels):
        groups[ch] = groups.get(ch, 0) | (1 << i)
    row = np.zeros(n, dtype=np.int64)
    vals = sorted(groups.values(), key=lambda b: b & -b)
    row[: len(vals)] = vals
    return row


def test_pareto_front_equals_a_brute_force_dominance_check(tiny):
    on = ["n_blocks", "outside_band", "not_coterminous_utla"]
    res = M.mergers(tiny, "Tiny System", top=15, constraints=ANY, run=RunOptions(pareto_on=on))
    vectors = res.top[on].to_numpy()
    front = set()
    for v in vectors:
        if not np.any(np.all(vectors <= v, axis=1) & np.any(vectors < v, axis=1)):
            front.add(tuple(int(x) for x in v))
    assert set(map(tuple, res.pareto[on].to_numpy().tolist())) == front
    assert front == {(1, 850_000, 0), (2, 550_000, 0), (2, 0, 850_000), (3, 0, 0)}
    assert res.pareto["n_plans"].sum() == sum(
        int((vectors == np.array(f)).all(axis=1).sum()) for f in front
    )
    assert set(res.top.loc[res.top["pareto"], "plan_id"]) >= set(res.pareto["plan_id"])


@settings(max_examples=6, deadline=None)
@given(st.permutations([P_, Q_, R_, S_]))
def test_scores_do_not_depend_on_the_order_of_members(tiny, order):
    base = M.mergers(tiny, members=[P_, Q_, R_, S_], top=15, constraints=ANY)
    perm = M.mergers(tiny, members=list(order), top=15, constraints=ANY)
    cols = ["objective", "change", "mismatch_utla", "not_coterminous_ltla", "outside_band"]
    a = base.top[cols].sort_values(cols).to_numpy()
    b = perm.top[cols].sort_values(cols).to_numpy()
    np.testing.assert_array_equal(a, b)

    def as_sets(plans):
        return {frozenset(frozenset(b.split("+")) for b in p.split(" | ")) for p in plans}

    assert as_sets(perm.top["plan"]) == as_sets(base.top["plan"])
    assert perm.top.iloc[0]["plan"].count("|") == base.top.iloc[0]["plan"].count("|")


def test_weights_change_the_ranking_and_ties_go_to_least_change(tiny):
    # every CCG is a union of whole districts: on this criterion alone every plan ties at 0,
    # and the plan moving nobody (no merger) ranks first
    res = M.mergers(tiny, "Tiny System", constraints=ANY.replace(weights={"mismatch_ltla": 1}))
    assert res.top.iloc[0]["plan_id"] == 0
    assert res.top.iloc[0]["change"] == 0
    assert res.weights["mismatch_ltla"] == 1.0
    assert res.weights["outside_band"] == 0.0
    text = res.summary()
    assert "mismatch_ltla × 1 per person" in text
    assert "ties on the objective go to the plan that moves fewest people" in text
    assert "score_mismatch_ltla" in res.top.columns
    assert res.top.iloc[1]["objective"] == 0
    assert res.top.iloc[1]["change"] > 0


def test_rules_number_of_blocks_hard_band_and_coterminous_blocks(tiny):
    two = M.mergers(tiny, "Tiny System", top=50, constraints=ANY.replace(n_blocks=2))
    assert two.n_plans == P.stirling2(4, 2)
    assert set(two.top["n_blocks"]) == {2}
    assert two.best["plan_id"] == two.top.iloc[0]["plan_id"]
    hard = M.mergers(tiny, "Tiny System", top=50, constraints=ANY.replace(soft_band=False))
    assert "outside_band" not in hard.criteria
    assert (hard.top["min_population"] >= 250_000).all()
    assert (hard.top["max_population"] <= 500_000).all()
    cot = M.mergers(tiny, "Tiny System", top=50, constraints=ANY.replace(coterminous_with="utla"))
    assert (cot.top["not_coterminous_utla"] == 0).all()
    assert cot.n_plans == P.count_partitions(4, allowed=cot._system.allowed)
    assert cot.constraints["coterminous_with"] == ["utla"]
    soft = M.mergers(tiny, "Tiny System", top=50,
                     constraints=ANY.replace(coterminous_with="utla", wherever_feasible=True,
                                             against=["ltla"]))  # fmt: skip
    assert soft.n_plans == 15
    assert soft.against == ("ltla", "utla")
    assert "not_coterminous_utla" in soft.criteria


def test_an_empty_band_is_refused_and_an_infeasible_one_names_the_rule(tiny):
    with pytest.raises(ParameterError, match=r"min_pop=600,000 is above max_pop=500,000"):
        M.mergers(tiny, "Tiny System", min_pop=600_000, max_pop=500_000)
    with pytest.raises(ParameterError, match=r"minimum 600,000 is above the maximum 500,000"):
        M.mergers(tiny, "Tiny System", min_pop=600_000)  # the merged-CCG default maximum
    with pytest.raises(ParameterError) as err:
        M.mergers(tiny, "Tiny System", min_pop=700_000, max_pop=800_000,
                  constraints=Constraints(soft_band=False))  # fmt: skip
    text = str(err.value)
    assert text.startswith("No plan of the 4 CCGs of Tiny System keeps every rule")
    assert "without the maximum population (--max-pop) of 800,000: 1 plan." in text  # P+Q+R+S
    assert ". Dropping one rule would allow plans: " in text
    assert "without the minimum population (--min-pop) of 700,000:" in text
    assert "without contiguity" not in text  # contiguity alone does not do it


def test_score_plans_accepts_names_and_nhs_codes(tiny):
    plans = [
        [["9P"], ["9Q", "NHS Tiny R CCG"], "9S"],
        [["9P", "9Q", "9R", "9S"]],
        ["9P", "9Q", "9R", "9S"],
        [["9P", "9S"], ["9Q", "9R"]],
    ]
    frame = M.score_plans(tiny, "Tiny System", plans)
    assert frame.loc[0, "objective"] == 0
    assert frame.loc[0, "blocks"] == "Tiny P | Tiny Q + Tiny R | Tiny S"
    assert frame["n_blocks"].tolist() == [3, 1, 4, 2]
    assert frame.loc[2, "objective"] == 900_000  # the no-merger plan, as by hand
    assert frame["allowed"].tolist() == [True, True, True, False]  # P+S is not contiguous
    with pytest.raises(FootprintError, match="leaves out"):
        M.score_plans(tiny, "Tiny System", [[["9P"], ["9Q"]]])
    with pytest.raises(FootprintError, match="overlap"):
        M.score_plans(tiny, "Tiny System", [[["9P", "9Q"], ["9Q", "9R", "9S"]]])


def test_backends_give_identical_tables(tiny):
    frames = []
    for b in BACKENDS:
        run = RunOptions(backend=b, chunk_size=4)
        frames.append(pd.concat(M.iter_scored_plans(tiny, "Tiny System", constraints=ANY, run=run)))
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f.reset_index(drop=True), frames[0].reset_index(drop=True))
    assert list(frames[0].columns) == [
        "plan_id", "labels", "n_blocks", "objective", "change",
        "split_utla", "mismatch_utla", "not_coterminous_utla",
        "split_ltla", "mismatch_ltla", "not_coterminous_ltla", "outside_band",
        "min_population", "max_population", "coterminous_utla", "coterminous_ltla",
    ]  # fmt: skip


def test_plan_file_is_written_atomically_with_metadata(tiny, tmp_path):
    out = tmp_path / "plans.parquet"
    res = M.mergers(tiny, "Tiny System", out=out, constraints=ANY,
                    run=RunOptions(chunk_size=4))  # fmt: skip
    assert res.out == out
    assert out.exists()
    assert not list(tmp_path.glob(".*.part"))
    plans, meta = read_plans(out)
    assert plans["plan_id"].tolist() == list(range(15))
    members = meta["systems"]["E54900001"]["members"]
    assert decode_labels(plans.loc[0, "labels"], members) == [[P_], [Q_], [R_], [S_]]
    assert meta["weights"]["not_coterminous_utla"] == 1.0
    assert meta["against"] == ["utla", "ltla"]
    assert "upper-tier councils" in meta["criteria"]["mismatch_utla"]
    csv = tmp_path / "plans.csv"
    M.mergers(tiny, "Tiny System", out=csv, constraints=ANY)
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
        M.mergers(geo, "Cheshire and Merseyside", out=out, constraints=ANY,
                  run=RunOptions(chunk_size=100_000))  # fmt: skip
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
    def run(weights):
        return M.mergers(tiny, "Tiny System", constraints=Constraints(weights=weights))

    with pytest.raises(ParameterError, match="negative"):
        run({"mismatch_utla": -1})
    with pytest.raises(ParameterError, match=r"unknown criteria \['beauty'\].*not a number"):
        run({"beauty": 1, "mismatch_utla": "lots"})
    with pytest.raises(ParameterError, match=r"unknown criteria \['n_ccgs'\]"):
        run({"n_ccgs": 1})  # the criteria of earlier releases are gone


def test_other_bad_parameters(tiny):
    with pytest.raises(ParameterError, match="top"):
        M.mergers(tiny, "Tiny System", top=-1)
    with pytest.raises(ParameterError, match="impossible"):
        M.mergers(tiny, "Tiny System", constraints=Constraints(n_blocks=5))
    with pytest.raises(ParameterError, match="executor"):
        RunOptions(executor=object())  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="constraints must be a Constraints"):
        M.mergers(tiny, "Tiny System", constraints={"contiguous": False})  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"system= .* or members="):
        M.mergers(tiny)
    with pytest.raises(ParameterError, match=r"n_ccgs is now n_blocks="):
        Constraints.from_options({"n_ccgs": 2})
    with pytest.raises(ParameterError, match=r"within_system is now across="):
        Constraints.from_options({"within_system": False})


def test_every_entry_point_refuses_an_empty_band_alike(tiny):
    calls = {
        "mergers": lambda **kw: M.mergers(tiny, "Tiny System", **kw),
        "best_plan": lambda **kw: M.best_plan(tiny, "Tiny System", **kw),
        "national": lambda **kw: M.national(tiny, **kw),
    }
    for call in calls.values():
        with pytest.raises(ParameterError, match=r"^min_pop=9 is above max_pop=1"):
            call(min_pop=9, max_pop=1)


def test_a_disagreement_of_the_dynamic_programme_and_enumeration_raises(tiny, monkeypatch):
    """The self-check: were the DP ever to answer another plan than enumeration, the run stops."""
    assert M.mergers(tiny, "Tiny System").best["plan"] == f"{P_} | {Q_}+{R_} | {S_}"  # not plan 0
    real = results._best_row

    def wrong(sys):  # a DP answering the all-singletons plan (plan 0) instead of the optimum
        real(sys)
        return np.array([[1 << i for i in range(sys.n)]], dtype=np.int64)

    monkeypatch.setattr(results, "_best_row", wrong)
    with pytest.raises(
        InconsistentResultError,
        match=r"disagree on the best plan of Tiny System: plan 0 \(objective .*\) vs plan [1-9]",
    ) as err:
        M.mergers(tiny, "Tiny System")
    assert isinstance(err.value, RuntimeError)
    assert "bug in coterminus" in str(err.value)


def test_every_entry_point_reads_the_options_alike(tiny):
    opts = Constraints(n_blocks=(2, 3), min_pop=100_000, max_pop=300_000, soft_band=False)
    res = M.mergers(tiny, "Tiny System", top=50, constraints=opts)
    assert 0 < res.n_plans < 13
    assert M.best_plan(tiny, "Tiny System", constraints=opts)["plan_id"] == res.best["plan_id"]
    chunks = list(M.iter_scored_plans(tiny, "Tiny System", constraints=opts))
    assert sorted(pd.concat(chunks)["plan_id"]) == list(range(res.n_plans))
    nat = M.national(tiny, top=50, constraints=opts)
    assert nat.results["E54900001"].constraints == res.constraints
    pd.testing.assert_frame_equal(nat.results["E54900001"].top, res.top)
    # a keyword shortcut wins over the same field of the constraints
    assert M.mergers(tiny, "Tiny System", constraints=opts, max_pop=500_000).n_plans > res.n_plans


def test_a_failed_national_run_leaves_no_file(tiny, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scorer on fire")

    monkeypatch.setattr(parallel, "arrow_chunk", broken)
    with pytest.raises(RuntimeError, match="scorer on fire"):
        M.national(tiny, out=tmp_path / "n.csv")
    assert list(tmp_path.iterdir()) == []


def test_unknown_codes_in_overrides_and_members_are_named(tiny):
    with pytest.raises(UnknownAreaError, match="E38999999"):
        M.mergers(tiny, "Tiny System", constraints=Constraints(overrides={(P_, "E38999999"): True}))
    with pytest.raises(UnknownAreaError, match="Nowhere"):
        M.mergers(tiny, members=["Nowhere CCG", P_])


def test_enumeration_beyond_reach_is_refused_with_the_count(tiny):
    with pytest.raises(EnumerationTooLargeError, match=r"15 plans .*max_plans=10.*best_plan"):
        M.mergers(tiny, "Tiny System", constraints=ANY, run=RunOptions(max_plans=10))
    # the DP still answers
    assert M.best_plan(tiny, "Tiny System", constraints=ANY)["objective"] == 0


def test_executors_give_the_same_answer_as_a_serial_run(tiny, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    serial = M.mergers(tiny, "Tiny System", top=15, out=tmp_path / "a.parquet", constraints=ANY)
    with ThreadPoolExecutor(2) as pool:
        par = M.mergers(tiny, "Tiny System", top=15, out=tmp_path / "b.parquet", constraints=ANY,
                        run=RunOptions(executor=pool, chunk_size=2))  # fmt: skip
    pd.testing.assert_frame_equal(serial.top, par.top)
    pd.testing.assert_frame_equal(serial.pareto, par.pareto)
    a, _ = read_plans(tmp_path / "a.parquet")
    b, _ = read_plans(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_national_on_the_tiny_vintage(tiny, tmp_path, capsys):
    res = M.national(tiny, out=tmp_path / "n.parquet", run=RunOptions(progress=True))
    assert "plan" in capsys.readouterr().err  # the progress bar went to stderr
    assert res.n_plans == 13
    assert res.summary.loc["E54900001", "n_blocks"] == 3
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
    res = M.mergers(geo, "Coventry and Warwickshire", constraints=ANY)
    assert res.n_plans == 5
    full = res.top[res.top["n_blocks"] == 1].iloc[0]
    assert full["coterminous_utla"] == "Y"
    assert full["not_coterminous_utla"] == 0
    ft = res.footprints()
    assert ft.loc[7, "coterminous_utla"]
    assert ft.loc[7, "population"] == 949_454
    assert res.members["population"].sum() == 949_454
    assert res.best["plan_id"] == res.top.iloc[0]["plan_id"]
    # South Warwickshire and Warwickshire North do not touch: 4 contiguous plans
    assert M.mergers(geo, "Coventry and Warwickshire").n_plans == 4


@pytest.mark.realdata
def test_table_scores_equal_plain_pandas_for_blocks_of_cheshire_and_merseyside(geo):
    ft = M.footprint_table(geo, "Cheshire and Merseyside", constraints=ANY)
    assert len(ft) == 4095
    rng = np.random.default_rng(7)
    sample = rng.choice(ft.index.to_numpy(), size=60, replace=False)
    lsoa = geo.lsoa[geo.lsoa["ccg"].isin(ft.attrs["members"])]
    for lv in ("utla", "ltla"):
        inside = lsoa.groupby(lv)["population"].sum()
        for mask in sample:
            block = lsoa[lsoa["ccg"].isin(ft.loc[mask, "members"].split("+"))]
            m = block.groupby(lv)["population"].sum()
            a = np.floor(0.005 * inside[m.index])
            split = m[(m > a) & (inside[m.index] - m > a)]
            assert ft.loc[mask, f"split_{lv}"] == split.sum()
            mism = np.minimum(split, inside[split.index] - split).sum()
            assert ft.loc[mask, f"mismatch_{lv}"] == mism
            assert ft.loc[mask, f"coterminous_{lv}"] == split.empty
            assert ft.loc[mask, "population"] == block["population"].sum()


@pytest.mark.realdata
@pytest.mark.slow
def test_cheshire_and_merseyside_streams_all_4213597_plans_to_parquet(geo, tmp_path):
    out = tmp_path / "cm.parquet"
    res = M.mergers(geo, "Cheshire and Merseyside", out=out, top=5, constraints=ANY)
    assert res.n_plans == 4_213_597
    import pyarrow.parquet as pq

    assert pq.read_metadata(out).num_rows == 4_213_597
    table = pq.read_table(out, columns=["plan_id", "labels", "objective", "change"])
    assert table.column("plan_id").to_numpy()[-1] == 4_213_596
    labels = table.column("labels").to_numpy(zero_copy_only=False)
    assert labels[0] == "ABCDEFGHIJKL"
    assert labels[-1] == "AAAAAAAAAAAA"
    assert len(set(labels[::97])) == len(labels[::97])
    obj = table.column("objective").to_numpy()
    change = table.column("change").to_numpy()
    assert obj.min() == res.top.iloc[0]["objective"] == res.best["objective"]
    best = np.lexsort((np.arange(obj.size), change, obj))[0]
    assert best == res.top.iloc[0]["plan_id"]
    # sampled rows equal scoring the same plans directly by look-up
    rng = np.random.default_rng(3)
    ids = np.sort(rng.choice(4_213_597, size=25, replace=False))
    full = pq.read_table(out).take(ids).to_pandas()
    blocks = np.vstack([_blocks_of(lab, 12) for lab in full["labels"]])
    direct = M.score_plans(geo, "Cheshire and Merseyside", blocks)
    for col in scoring.plan_column_names(res._system)[1:]:
        np.testing.assert_array_equal(direct[col].to_numpy(), full[col].to_numpy(), err_msg=col)
    assert direct["coterminous_utla"].tolist() == full["coterminous_utla"].tolist()


@pytest.mark.realdata
@pytest.mark.slow
def test_numba_and_numpy_score_all_of_cheshire_and_merseyside_identically(geo):
    sys = M.prepare(geo, "Cheshire and Merseyside", None, ANY)
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
    area = ANY.replace(measure="area")
    table = M.score_plans(geo, "Cheshire and Merseyside", plans, constraints=area)
    sys = M.prepare(geo, "Cheshire and Merseyside", None, area)
    blocks = plans_to_blocks(sys, geo, plans)
    naive = overlay_scores(geo, "ccg", codes, blocks, against=("utla", "ltla"),
                           tolerance=sys.problem.tolerance)  # fmt: skip
    for col in naive.columns:
        got = table[col].to_numpy(float)
        want = naive[col].to_numpy(float)
        # m²: slivers under 1,000 m² are dropped by the overlap table, blocks are dissolved
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=5e4, err_msg=col)


@pytest.mark.realdata
@pytest.mark.slow
def test_dynamic_programme_equals_full_enumeration_on_every_2019_system(geo):
    res = M.national(geo, top=1, constraints=ANY)
    assert len(res.results) == 42
    assert res.n_plans == sum(P.bell(len(geo.members(s))) for s in geo.stp.index)
    for code, r in res.results.items():
        top = r.top.iloc[0]
        assert r.best["plan_id"] == top["plan_id"], code
        assert r.best["objective"] == top["objective"], code
        assert r.best["change"] == top["change"], code
        assert r.best["plan"] == top["plan"], code
    contiguous = M.national(geo, top=1)
    assert contiguous.n_plans == sum(r.n_plans for r in contiguous.results.values())
    for code, r in contiguous.results.items():
        assert r.best["plan_id"] == r.top.iloc[0]["plan_id"], code
    # the independent entry point agrees too
    for name in [
        "Cheshire and Merseyside",
        "Greater Manchester Health and Social Care Partnership",
    ]:
        code = geo.code(name, level="stp")
        assert (
            M.best_plan(geo, name, constraints=ANY)["plan"] == res.results[code].top.iloc[0]["plan"]
        )


@pytest.mark.realdata
def test_dask_local_cluster_gives_the_serial_answers(geo, tmp_path):
    serial = M.mergers(geo, "Cheshire and Merseyside", top=10, out=tmp_path / "s.parquet")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        par = M.mergers(geo, "Cheshire and Merseyside", top=10, out=tmp_path / "p.parquet",
                        run=RunOptions(executor=client, chunk_size=2000))  # fmt: skip
        nat = M.national(geo, top=2, run=RunOptions(executor=client),
                         systems=["Coventry and Warwickshire", "Kent and Medway"])  # fmt: skip
    pd.testing.assert_frame_equal(serial.top, par.top)
    pd.testing.assert_frame_equal(serial.pareto, par.pareto)
    a, _ = read_plans(tmp_path / "s.parquet")
    b, _ = read_plans(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(a, b)
    ser_nat = M.national(geo, top=2, systems=["Coventry and Warwickshire", "Kent and Medway"])
    pd.testing.assert_frame_equal(nat.summary, ser_nat.summary)


@pytest.mark.realdata
def test_isle_of_wight_needs_an_override_to_merge_in_contiguous_plans(geo):
    iow = geo.code("NHS Isle of Wight CCG", level="ccg")
    res = M.mergers(geo, "Hampshire and the Isle of Wight", top=1000)
    assert len(res.top) == res.n_plans
    assert all(iow in p.split(" | ") for p in res.top["plan"])  # always a block of its own
    ports = geo.code("NHS Portsmouth CCG", level="ccg")
    joined = M.mergers(geo, "Hampshire and the Isle of Wight", top=1000,
                       constraints=Constraints(overrides={(iow, ports): True}))  # fmt: skip
    assert joined.n_plans > res.n_plans
    blocks = [block for p in joined.top["plan"] for block in p.split(" | ")]
    assert any(iow in block and ports in block for block in blocks)


@pytest.mark.realdata
def test_an_island_below_a_hard_minimum_is_named_as_the_reason(geo):
    with pytest.raises(ParameterError) as err:
        M.mergers(geo, "Hampshire and the Isle of Wight", min_pop=250_000, max_pop=2_000_000,
                  constraints=Constraints(soft_band=False))  # fmt: skip
    text = str(err.value)
    assert (
        "No allowed block holds NHS Isle of Wight CCG (141,771 people: alone it breaks the "
        "minimum population (--min-pop) of 250,000; it touches no other unit" in text
    )
    assert "without the minimum population (--min-pop) of 250,000: 68 plans" in text
    assert "without contiguity (--non-contiguous drops it): 255 plans" in text


@pytest.mark.realdata
def test_real_bad_input_messages(geo):
    with pytest.raises(VintageMismatchError, match="2021"):
        M.mergers(geo, "E54000050")  # North East and North Cumbria, a 2021 code
    with pytest.raises(FootprintError, match=r"not in Coventry and Warwickshire .*E38000101"):
        M.mergers(geo, "Coventry and Warwickshire", members=["05A", "NHS Liverpool CCG"])
    with pytest.raises(UnknownAreaError, match="E38000000"):
        M.mergers(geo, "Cheshire and Merseyside",
                  constraints=Constraints(overrides={("E38000000", "E38000101"): True}))  # fmt: skip
    many = geo.members("Cheshire and Merseyside") + geo.members("Cumbria and North East")
    with pytest.raises(EnumerationTooLargeError, match=r"24 units have 445,958,869,294,805,289"):
        M.mergers(geo, members=many)
    with pytest.raises(EnumerationTooLargeError, match=r"4,213,597 plans .*best_plan\(\)"):
        M.mergers(geo, "Cheshire and Merseyside", constraints=ANY, run=RunOptions(max_plans=1e6))


@pytest.mark.realdata
def test_units_across_systems_stay_within_one_system_unless_told(geo):
    units = geo.members("Coventry and Warwickshire") + geo.members("Northamptonshire")
    inside = M.mergers(geo, members=units, top=100, constraints=ANY)
    assert inside.n_plans == P.bell(3) * P.bell(2)
    free = M.mergers(geo, members=units, top=1, constraints=ANY.replace(across=True))
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
    args += ["--system", "Coventry and Warwickshire", "--top", "3", "--json", "--non-contiguous"]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["n_plans"] == 5
    assert len(data["top"]) == 3
    assert data["weights"]["not_coterminous_utla"] == 1.0
    assert data["against"] == ["utla", "ltla"]
    assert data["ranges"][0]["criterion"] == "split_utla"


@pytest.mark.realdata
def test_cli_runs_on_a_local_dask_cluster(data_dir, capsys):
    args = ["mergers", "--vintage", "2019", "--data-dir", str(data_dir)]
    args += ["--system", "Coventry and Warwickshire"]
    code, text, err = _cli([*args, "--workers", "2", "--top", "2"], capsys)
    assert code == 0, err
    assert text.startswith("Coventry and Warwickshire (E54000018), vintage 2019: 3 CCGs, 4 plans")
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
        (["--system", "Coventry and Warwickshire", "--weights", "mismatch_utla=-2"], "negative"),
        (["--system", "Nowhere At All"], "No STP/ICS named"),
        (
            ["--system", "Coventry and Warwickshire", "--out", "/no/such/dir/p.parquet"],
            "does not exist",
        ),
        (["--system", "Coventry and Warwickshire", "--join", "05A:ZZZ"], "ZZZ"),
        (["--system", "Cheshire and Merseyside", "--max-plans", "1000"], "22,348"),
        (["--system", "Coventry and Warwickshire", "--n-blocks", "x"], "--n-blocks"),
        (["--system", "Coventry and Warwickshire", "--n-blocks", "4-2"], "LOW <= HIGH"),
        (["--system", "Coventry and Warwickshire", "--jobs", "0"], "--jobs: 0 is out of range"),
        (["--system", "Coventry and Warwickshire", "--min-pop", "600000"], "band would be empty"),
        (["--system", "Coventry and Warwickshire", "--band", "soft", "--min-pop", "2000000",
          "--max-pop", "3000000", "--band", "hard"], "keeps every rule"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(data_dir, capsys, args, pattern):
    code, _, err = _cli(
        ["mergers", "--vintage", "2019", "--data-dir", str(data_dir), *args], capsys
    )
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
needs_numba = pytest.mark.skipif(not P.HAVE_NUMBA, reason="numba is not installed")


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
    assert sel.top_id[order].tolist() == [0, 1, 2]  # without a tie-break: the lowest plan id
    assert sel.top_obj[order].tolist() == [3.0, 5.0, 5.0]
    assert sel.top_blocks[order].tolist() == [[1, 2, 4], [1, 6, 0], [3, 4, 0]]
    front = sorted(zip(sel.front_id.tolist(), sel.front_count.tolist(), strict=True))
    assert front == [(0, 1), (1, 3), (4, 1)]
    # a tie-break: block {0,2} (mask 5) moves nobody, the other pairs 10 people each
    tie = np.array([0, 0, 0, 10, 0, 0, 10, 30], dtype=float)
    sel = S.select(3, allowed=np.ones(8, bool), cost=k**2, pv=pv, top=2, n_blocks=(1, 3),
                   bounds=bounds, tie=tie)  # fmt: skip
    order = np.lexsort((sel.top_id, sel.top_tie, sel.top_obj))
    assert sel.top_id[order].tolist() == [0, 3]  # plan 3 (02|1) wins the tie at 5
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


def _assert_selection_equals_reference(sys: System, first=None) -> int:
    """Every plan of a system (or slice) through the selection kernel equals the enumeration."""
    if first is None:
        count = int(P.count_partitions(sys.n, allowed=sys.allowed))
    else:
        _, counts = P.first_block_counts(sys.n, allowed=sys.allowed)
        count = int(counts[first[0] : first[1]].sum())
    sel = S.select(sys.n, allowed=sys.allowed, cost=sys.cost, pv=np.zeros((1 << sys.n, 0)),
                   top=count, n_blocks=(1, sys.n), first=first, tie=sys.tie)  # fmt: skip
    order = np.argsort(sel.top_id)
    assert sel.top_id[order].tolist() == list(range(count))
    blocks = sel.top_blocks[order]
    ref = list(scoring.score_chunks(sys, first=first, backend="numba"))
    ref_cols = {c: np.concatenate([r.cols[c] for r in ref]) for c in ref[0].cols}
    np.testing.assert_array_equal(blocks, np.vstack([r.blocks() for r in ref]))
    np.testing.assert_array_equal(sel.top_obj[order], ref_cols["objective"])
    np.testing.assert_array_equal(sel.top_tie[order], ref_cols["change"])
    cols = scoring.plan_columns(sys, blocks)  # plain look-ups, blocks in any order
    for c, v in cols.items():
        np.testing.assert_array_equal(v, ref_cols[c], err_msg=c)
    return count


@needs_numba
@pytest.mark.realdata
@pytest.mark.slow
def test_selection_equals_the_per_plan_kernel_on_every_plan_of_every_2019_system(geo):
    total = 0
    for code in geo.stp.index:
        total += _assert_selection_equals_reference(M.prepare(geo, code, None, ANY))
    assert total == sum(P.bell(len(geo.members(s))) for s in geo.stp.index)


@pytest.fixture(scope="module")
def essex(geo) -> System:
    """The 14 councils of Greater Essex (2019 LTLAs) as units, scored from overlap tables."""
    ltla = geo.ltla
    codes = sorted(ltla.index[ltla["utla"] == geo.code("Essex", level="utla")])
    codes += [geo.code("Southend-on-Sea", level="ltla"), geo.code("Thurrock", level="ltla")]
    tables = {"utla": overlap(geo, "ltla", "utla"), "ccg": overlap(geo, "ltla", "ccg")}
    return M.prepare(tables, None, codes, ANY)


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
    [{}, {"contiguous": True}, {"n_blocks": (2, 4)},
     {"pareto_on": ["n_blocks", "change", "split_ltla", "mismatch_utla"]}],
)  # fmt: skip
def test_top_k_and_pareto_of_the_selection_kernel_equal_the_reference_on_2019(geo, options):
    pareto_on = options.get("pareto_on")
    system_options = {"contiguous": False, **{k: v for k, v in options.items() if k != "pareto_on"}}
    for code in geo.stp.index:
        if "n_blocks" in options and len(geo.members(code)) < 4:
            continue
        sys = M.prepare(geo, code, None, Constraints(**system_options))
        if P.count_partitions(sys.n, allowed=sys.allowed, n_blocks=sys.n_blocks) == 0:
            continue
        cols = pareto_columns(sys.weights, sys.criteria, pareto_on)
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
        [essex.values(c) for c in pareto_columns(essex.weights, essex.criteria, None)]
    )
    for first in [(0, 3), (100, 140), (4000, 4100)]:
        a, b = (S.select(14, allowed=essex.allowed, cost=essex.cost, pv=pv, top=20,
                         n_blocks=(1, 14), first=first, bounds=bounds, tie=essex.tie)
                for bounds in (True, False))  # fmt: skip
        assert a.n_plans == b.n_plans
        for kind in ("top", "front"):
            ia, ib = np.argsort(getattr(a, f"{kind}_id")), np.argsort(getattr(b, f"{kind}_id"))
            fields = ["id", "blocks", "split", *(["obj", "tie"] if kind == "top" else ["count"])]
            for f in fields:
                np.testing.assert_array_equal(getattr(a, f"{kind}_{f}")[ia],
                                              getattr(b, f"{kind}_{f}")[ib], err_msg=f)  # fmt: skip


# =============================================================================================
# large spaces: what --out holds, the size check, the ceiling, parallel pools
# =============================================================================================
def test_out_above_the_store_limit_holds_the_top_k_and_front_and_says_so(tiny, tmp_path):
    out = tmp_path / "sel.parquet"
    res = M.mergers(tiny, "Tiny System", top=4, out=out, constraints=ANY,
                    run=RunOptions(store_limit=10))  # fmt: skip
    assert res.out == out
    assert "store_limit=10" in res.out_note
    assert "top-k and Pareto front only" in res.summary()
    table = pd.read_parquet(out)
    assert (table["selected"] == "top").sum() == 4
    assert (table["selected"] == "pareto").sum() == len(res.pareto)
    assert table.loc[table["selected"] == "top", "plan_id"].tolist() == res.top["plan_id"].tolist()
    if P.HAVE_NUMBA:  # histograms over every plan: block counts are Stirling numbers
        hist = pd.read_csv(tmp_path / "sel.histograms.csv")
        pd.testing.assert_frame_equal(hist, res.histograms, check_dtype=False)
        k = hist[hist["criterion"] == "n_blocks"]
        assert k["plans"].tolist() == [0, 1, 7, 6, 1]
        assert k["low"].tolist() == [0, 1, 2, 3, 4]
        assert (hist.groupby("criterion")["plans"].sum() == 15).all()
        assert set(hist["criterion"]) == {
            "objective",
            "n_blocks",
            *pareto_columns(res.weights, res.criteria, None),
        }
        assert "histograms of every plan" in res.summary()
    full = M.mergers(tiny, "Tiny System", out=tmp_path / "all.parquet", constraints=ANY,
                     run=RunOptions(store_limit=10, all_plans=True))  # fmt: skip
    assert full.out_note == ""
    assert len(read_plans(tmp_path / "all.parquet")[0]) == 15


def test_all_plans_is_refused_when_the_disk_cannot_hold_them(tiny, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(1000, 1000, 100))
    with pytest.raises(OutputError, match=r"15 plans.*720 B.*100 B free.*drop --all-plans"):
        M.mergers(tiny, "Tiny System", out=tmp_path / "x.parquet", constraints=ANY,
                  run=RunOptions(all_plans=True))  # fmt: skip
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

    on = ["mismatch_utla", "n_blocks", "outside_band"]
    kw = {"top": 10, "constraints": ANY}
    serial = M.mergers(geo, "Cheshire and Merseyside", **kw, run=RunOptions(pareto_on=on))
    with ProcessPoolExecutor(2) as pool:
        par = M.mergers(geo, "Cheshire and Merseyside", **kw,
                        run=RunOptions(pareto_on=on, executor=pool))  # fmt: skip
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        dask = M.mergers(geo, "Cheshire and Merseyside", **kw,
                         run=RunOptions(pareto_on=on, executor=client))  # fmt: skip
    for other in (par, dask):
        pd.testing.assert_frame_equal(serial.top, other.top)
        pd.testing.assert_frame_equal(serial.pareto, other.pareto)
        assert other.n_plans == serial.n_plans == P.bell(12)


@pytest.mark.realdata
def test_cli_store_limit_all_plans_and_jobs(data_dir, tmp_path, capsys):
    base = ["mergers", "--vintage", "2019", "--data-dir", str(data_dir)]
    base += ["--system", "Coventry and Warwickshire"]
    out = tmp_path / "p.parquet"
    code, text, err = _cli([*base, "--jobs", "2", "--store-limit", "3", "--out", str(out)], capsys)
    assert code == 0, err
    assert "top-k and Pareto front only" in text
    assert set(pd.read_parquet(out)["selected"]) == {"top", "pareto"}
    code, text, err = _cli([*base, "--jobs", "1", "--store-limit", "3", "--all-plans",
                            "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, err
    assert f"full plan table: {out}" in text
    assert len(read_plans(out)[0]) == 4


def test_cli_help_shows_every_new_default(capsys):
    from coterminus import cli

    with pytest.raises(SystemExit):
        cli.main(["mergers", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in [("--jobs", "every core"), ("--scheduler", "none"),
                          ("--store-limit", "5e7"), ("--all-plans", "off"),
                          ("--max-plans", "2e10"), ("--non-contiguous", "off"),
                          ("--wherever-feasible", "off")]:  # fmt: skip
        assert flag in text
        assert f"default {default}" in text or f"default: {default}" in text, flag
    assert "split_L, mismatch_L, not_coterminous_L" in text


@pytest.mark.realdata
def test_cli_runs_on_a_dask_scheduler_by_address(data_dir, capsys):
    args = ["mergers", "--vintage", "2019", "--data-dir", str(data_dir)]
    args += ["--system", "Coventry and Warwickshire"]
    serial_code, serial, _ = _cli([*args, "--jobs", "1", "--top", "2", "--json"], capsys)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:  # fmt: skip
        code, text, err = _cli([*args, "--scheduler", cluster.scheduler_address, "--top", "2",
                                "--json"], capsys)  # fmt: skip
    assert serial_code == code == 0, err
    a, b = json.loads(serial), json.loads(text)
    assert a["top"] == b["top"]
    assert a["n_plans"] == b["n_plans"] == 4


# =============================================================================================
# issue 20: a narrow API for the merger entry points
# =============================================================================================
def test_entry_points_take_at_most_twelve_parameters_and_no_any():
    import dataclasses
    import inspect

    from coterminus.plans import constraints, objective, problem

    funcs = [getattr(M, name) for name in M.__all__]
    funcs += [getattr(objective, name) for name in objective.__all__]
    funcs += [problem.prepare_problem, constraints.pareto_columns]
    for f in funcs:
        if not callable(f) or inspect.isclass(f):
            continue
        sig = inspect.signature(f)
        assert len(sig.parameters) <= 12, f.__name__
        for p in [*sig.parameters.values()]:
            assert "Any" not in str(p.annotation), (f.__name__, p.name)
        assert "Any" not in str(sig.return_annotation), f.__name__
    # one meaning per name: ``units`` is a level, as in ct.places and ct.assess
    for f in (M.mergers, M.best_plan, M.national, coterminus.places, coterminus.assess):
        assert inspect.signature(f).parameters["units"].annotation in ("str | None",)
    for old in ("n_ccgs", "population_band", "coterminous_only", "within_system", "level"):
        assert old not in inspect.signature(M.mergers).parameters
        assert old not in {f.name for f in dataclasses.fields(Constraints)}
