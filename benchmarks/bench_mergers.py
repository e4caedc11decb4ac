"""Benchmark the merger engine on 2019 data, against the naive path, in one run.

Prints (no assertions; ratios against the issue's targets and against baselines measured in
the same run, all on one core). Plans are scored in people against any number of levels
(issue 17): the footprint table carries one column per criterion, and the kernels loop over
arrays of criteria rather than fixed slots.

1. all 4,213,597 plans of Cheshire and Merseyside (Bell(12)): the per-plan kernel writing every
   plan column (numba and numpy, the previous path), and the selection kernel keeping the top-20
   and the Pareto front inside the compiled pass — plan by plan, and with run bounds — target
   ≥ 50 M plans/s, with the speed-up over the per-plan kernel;
2. the whole ``mergers()`` call for that system — target ≤ 0.25 s;
3. a 14-unit system, the 14 councils of Greater Essex (2019 LTLAs: 12 Essex districts,
   Southend-on-Sea, Thurrock) scored from overlap tables against two levels, all 190,899,322
   plans with top-20 and Pareto — target ≤ 2 s and ≥ 100 M plans/s — and against four levels
   (more criteria per block);
4. a scaling table n = 8…15 (first n of those councils, then one neighbour): plans, seconds,
   plans/s and peak traced memory;
5. every contiguous plan of all 42 STPs through ``national()`` (contiguity is the default) —
   target < 10 s;
6. the naive path, geopandas dissolve + overlay per plan, timed on random plans of Cheshire
   and Merseyside, and the speed-up of the table path over it — target ≥ 10^6×.

Run::

    python benchmarks/bench_mergers.py [--data-dir ../shared/data] [--naive 20] [--max-n 15]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

import coterminus
from coterminus import partitions as P
from coterminus.analysis.overlap import overlap
from coterminus.plans import _topk_kernel as S
from coterminus.plans import mergers as M
from coterminus.plans import parallel, scoring
from coterminus.plans.constraints import Constraints, pareto_columns
from coterminus.plans.mergers import prepare
from coterminus.plans.tables import System

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from overlay_oracle import overlay_scores

SYSTEM = "Cheshire and Merseyside"
ANY = Constraints(contiguous=False)  # every plan: Bell(n)


def score_all(system: System, backend: str) -> tuple[int, float]:
    """Enumerate and fully score every plan of a system (all plan columns); nothing is kept."""
    t0 = time.perf_counter()
    total = 0
    for scored in scoring.score_chunks(system, backend=backend):
        total += int(scored.cols["plan_id"].size)
    return total, time.perf_counter() - t0


def select_all(system: System, *, top: int = 20, bounds: bool = True) -> tuple[int, float]:
    """Top-k and Pareto front (default criteria) of every plan by the selection kernel.

    Timed from scratch: the recursion over allowed blocks (otherwise reused within a run) is
    rebuilt, as a fresh call would.
    """
    P.clear_recursions()
    t0 = time.perf_counter()
    cols = pareto_columns(system.weights, system.criteria, None)
    pv = np.column_stack([system.values(c) for c in cols])
    sel = S.select(system.n, allowed=system.allowed, cost=system.cost, pv=pv, top=top,
                   n_blocks=(1, system.n), bounds=bounds, tie=system.tie)  # fmt: skip
    return sel.n_plans, time.perf_counter() - t0


def council_units(geo: coterminus.Geography) -> list[str]:
    """Greater Essex: the 12 districts of Essex, Southend-on-Sea and Thurrock, then Babergh."""
    ltla = geo.ltla
    codes = sorted(ltla.index[ltla["utla"] == geo.code("Essex", level="utla")])
    return [
        *codes,
        *(geo.code(x, level="ltla") for x in ("Southend-on-Sea", "Thurrock", "Babergh")),
    ]


def council_system(
    geo: coterminus.Geography, codes: list[str], levels: tuple[str, ...] = ("utla", "ltla")
) -> System:
    """Councils as units, scored from LTLA × level overlap tables (any number of levels)."""
    tables = {lv: overlap(geo, "ltla", lv) for lv in levels}
    return prepare(tables, None, codes, ANY)


def best_of(fn, repeat: int = 3) -> tuple[int, float]:
    best = np.inf
    total = 0
    for _ in range(repeat):
        total, dt = fn()
        best = min(best, dt)
    return total, best


def random_plans(n: int, k: int, seed: int) -> np.ndarray:
    """``k`` random set partitions of ``n`` units as block masks (random growth strings)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((k, n), dtype=np.int64)
    for r in range(k):
        labels = [0]
        for _ in range(n - 1):
            labels.append(int(rng.integers(0, max(labels) + 2)))
        blocks: dict[int, int] = {}
        for i, lab in enumerate(labels):
            blocks[lab] = blocks.get(lab, 0) | (1 << i)
        vals = sorted(blocks.values(), key=lambda b: b & -b)
        out[r, : len(vals)] = vals
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("COTERMINUS_DATA_DIR") or str(
        Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    ap.add_argument("--data-dir", default=default)
    ap.add_argument("--naive", type=int, default=20, help="plans for the dissolve+overlay path")
    ap.add_argument("--max-n", type=int, default=15, help="largest n of the scaling table")
    args = ap.parse_args()

    t0 = time.perf_counter()
    geo = coterminus.load(2019, data_dir=args.data_dir)
    print(f"load 2019 geography: {time.perf_counter() - t0:.2f} s  ({geo!r})")
    print(f"numba available: {P.HAVE_NUMBA}; CPUs: {os.cpu_count()}")
    print()

    # ---- 1. all plans of Cheshire and Merseyside, fully scored --------------------------------
    t0 = time.perf_counter()
    cm = prepare(geo, SYSTEM, None, ANY)
    t_table = time.perf_counter() - t0
    print(f"{SYSTEM}: {cm.n} CCGs, footprint table of {2**cm.n - 1:,} footprints built in "
          f"{t_table * 1e3:.0f} ms (incl. overlap look-up and adjacency)")  # fmt: skip
    rates = {}
    for backend in ["numba", "numpy"] if P.HAVE_NUMBA else ["numpy"]:
        if backend == "numba":  # load/compile the kernels once, outside the timing
            t0 = time.perf_counter()
            score_all(prepare(geo, "Coventry and Warwickshire", None, ANY), "numba")
            score_all(cm, "numba")
            select_all(cm)
            select_all(cm, bounds=False)
            print(f"  numba warm-up (compile or load cached kernels + first run): "
                  f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
        total, best = best_of(lambda b=backend: score_all(cm, b))
        rates[backend] = total / best
        print(f"  per-plan kernel, every plan column, {backend:5s}: {best:.3f} s = "
              f"{rates[backend] / 1e6:6.1f} M plans/s")  # fmt: skip
    base = rates.get("numba", rates["numpy"])
    if P.HAVE_NUMBA:
        for label, bounds in [("plan by plan", False), ("with run bounds", True)]:
            total, best = best_of(lambda b=bounds: select_all(cm, bounds=b))
            rate = total / best
            rates[label] = rate
            print(f"  selection kernel (top-20 + Pareto in the pass), {label:15s}: {best:.3f} s "
                  f"= {rate / 1e6:6.1f} M plans/s  (target ≥ 50 M/s: {rate / 50e6:.2f}× target; "
                  f"{rate / base:.1f}× the per-plan kernel)")  # fmt: skip
    fastest = max(rates.values())
    if "numba" in rates and "numpy" in rates:
        print(f"  per-plan kernel numba / numpy: {rates['numba'] / rates['numpy']:.2f}×")

    # ---- 2. the whole call -------------------------------------------------------------------
    calls = {}
    for method in ["reference", "auto"]:
        best = np.inf
        for _ in range(3):
            parallel.PIECE_METHOD = method
            t0 = time.perf_counter()
            res = M.mergers(geo, SYSTEM, top=20, constraints=ANY)
            best = min(best, time.perf_counter() - t0)
        calls[method] = best
    parallel.PIECE_METHOD = "auto"
    t_call = calls["auto"]
    print(f"  mergers() end to end (scores + top-20 + Pareto + DP check + reasons): {t_call:.3f} s "
          f"for {res.n_plans:,} plans = {res.n_plans / t_call / 1e6:.1f} M plans/s (target "
          f"≤ 0.25 s: {'met' if t_call <= 0.25 else 'not met'}; with the per-plan kernel "
          f"{calls['reference']:.3f} s, {calls['reference'] / t_call:.1f}× slower)")  # fmt: skip
    t0 = time.perf_counter()
    best_row = M.best_plan(geo, SYSTEM, constraints=ANY)
    t_dp = time.perf_counter() - t0
    print(
        f"  best_plan() by subset DP, no enumeration: {t_dp * 1e3:.0f} ms "
        f"(same plan as the enumeration: {best_row['plan_id'] == res.top.iloc[0]['plan_id']})"
    )
    print()

    # ---- 3. fourteen councils, and the scaling table -------------------------------------------
    if P.HAVE_NUMBA:
        units = council_units(geo)
        essex = council_system(geo, units[:14])
        names = geo.ltla.loc[units[:14], "name"].tolist()
        print(f"Greater Essex, 14 councils ({', '.join(names)}):")
        select_all(essex, bounds=True)
        total, best = best_of(lambda: select_all(essex), repeat=2)
        rate = total / best
        print(f"  all {total:,} plans, top-20 + Pareto, with run bounds: {best:.2f} s = "
              f"{rate / 1e6:.1f} M plans/s  (targets ≤ 2 s and ≥ 100 M/s: "
              f"{'met' if best <= 2 and rate >= 100e6 else 'not met'})")  # fmt: skip
        total, t_plain = select_all(essex, bounds=False)
        print(f"  the same plan by plan (no run bounds): {t_plain:.2f} s = "
              f"{total / t_plain / 1e6:.1f} M plans/s")  # fmt: skip
        wide = council_system(geo, units[:14], ("utla", "ltla", "ccg", "stp"))
        select_all(wide)
        total, best4 = best_of(lambda: select_all(wide), repeat=2)
        print(f"  against four levels ({len(wide.criteria)} criteria, "
              f"{sum(1 for w in wide.weights.values() if w)} weighted): {best4:.2f} s = "
              f"{total / best4 / 1e6:.1f} M plans/s")  # fmt: skip
        t_ref = 0.0
        sample = 0
        for scored in scoring.score_chunks(essex, backend="numba", first=(0, 40)):
            sample += int(scored.cols["plan_id"].size)
        t0 = time.perf_counter()
        for _scored in scoring.score_chunks(essex, backend="numba", first=(0, 40)):
            pass
        t_ref = time.perf_counter() - t0
        ref_rate = sample / t_ref
        print(f"  per-plan kernel on the first {sample:,} plans: {ref_rate / 1e6:.1f} M plans/s "
              f"→ all plans ≈ {total / ref_rate:.0f} s without top-k/Pareto; the selection kernel "
              f"is {rate / ref_rate:.0f}× faster")  # fmt: skip
        print()
        print("scaling (first n councils above; 15 adds Babergh), top-20 + Pareto with run bounds, "
              "one core, from scratch (recursion and tables built in the time):")  # fmt: skip
        print(f"  {'n':>3} {'plans':>15} {'seconds':>9} {'M plans/s':>10} {'peak MiB':>9}")
        for n in range(8, min(args.max_n, len(units)) + 1):
            system = council_system(geo, units[:n])
            tracemalloc.start()  # memory on one run, time as the best of two others
            select_all(system)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            total, dt = best_of(lambda s=system: select_all(s), repeat=2)
            print(
                f"  {n:>3} {total:>15,} {dt:>9.3f} {total / dt / 1e6:>10.1f} {peak / 2**20:>9.0f}"
            )
        print()

    # ---- 5. every contiguous plan of every STP -----------------------------------------------
    t0 = time.perf_counter()
    nat = M.national(geo, top=5)
    t_nat = time.perf_counter() - t0
    t0 = time.perf_counter()
    coterminus.analysis.adjacency.adjacency(geo.ccg)
    t_adj = time.perf_counter() - t0
    print(
        f"all 42 STPs, every contiguous plan: {nat.n_plans:,} plans in {t_nat:.2f} s "
        f"(target < 10 s: {10 / t_nat:.1f}× headroom; adjacency of all CCGs alone {t_adj:.2f} s)"
    )
    print()

    # ---- 6. the naive path: dissolve + overlay per plan ------------------------------------------
    plans = random_plans(cm.n, args.naive, seed=2019)
    t0 = time.perf_counter()
    overlay_scores(geo, "ccg", cm.codes, plans, against=("utla", "ltla"),
                   tolerance=cm.problem.tolerance)  # fmt: skip
    t_naive = (time.perf_counter() - t0) / len(plans)
    t_table_plan = 1.0 / fastest
    print(
        f"naive dissolve + overlay (geopandas) on {len(plans)} random plans of {SYSTEM}: "
        f"{t_naive:.3f} s per plan"
    )
    speedup = t_naive / t_table_plan
    print(f"table path: {t_table_plan * 1e9:.0f} ns per plan → speed-up {speedup:,.0f}× "
          f"(target ≥ 10^6×: {speedup / 1e6:.1f}× target)")  # fmt: skip
    naive_all = t_naive * res.n_plans
    print(
        f"  naive path for all {res.n_plans:,} plans would take {naive_all / 3600:,.0f} h; "
        f"the table path takes {res.n_plans * t_table_plan:.2f} s"
    )


if __name__ == "__main__":
    main()
