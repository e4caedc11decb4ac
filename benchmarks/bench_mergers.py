"""Benchmark the merger engine on 2019 data, against the naive path, in one run.

Prints (no assertions; ratios against the issue's targets and against a baseline measured in
the same run):

1. plans/s for all 4,213,597 plans of Cheshire and Merseyside fully scored (enumeration + every
   plan column), with numba and with pure numpy — targets ≥ 10 M/s and ≥ 2 M/s;
2. the whole ``mergers()`` call for that system (top-k, Pareto front, DP check, reasons);
3. every contiguous plan of all 42 STPs through ``national(contiguous=True)`` — target < 10 s;
4. the naive path, geopandas dissolve + overlay per plan, timed on 20 random plans of Cheshire
   and Merseyside, and the speed-up of the table path over it — target ≥ 10^6×.

Run::

    python benchmarks/bench_mergers.py [--data-dir ../shared/data] [--naive 20]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import coterminus
from coterminus import mergers as M
from coterminus import partitions as P

SYSTEM = "Cheshire and Merseyside"


def score_all(system: M._System, backend: str) -> tuple[int, float]:
    """Enumerate and fully score every plan of a system (all plan columns); nothing is kept."""
    t0 = time.perf_counter()
    total = 0
    for scored in M._score_chunks(system, backend=backend):
        total += int(scored.cols["plan_id"].size)
    return total, time.perf_counter() - t0


def prepare(geo: coterminus.Geography, system: str, **options: object) -> M._System:
    """A system with the options of :func:`coterminus.mergers.mergers` (defaults otherwise)."""
    return M._prepare_system(geo, system, options)


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
    args = ap.parse_args()

    t0 = time.perf_counter()
    geo = coterminus.load(2019, data_dir=args.data_dir)
    print(f"load 2019 geography: {time.perf_counter() - t0:.2f} s  ({geo!r})")
    print(f"numba available: {P.HAVE_NUMBA}; CPUs: {os.cpu_count()}")
    print()

    # ---- 1. all plans of Cheshire and Merseyside, fully scored --------------------------------
    t0 = time.perf_counter()
    cm = prepare(geo, SYSTEM)
    t_table = time.perf_counter() - t0
    print(f"{SYSTEM}: {cm.n} CCGs, footprint table of {2**cm.n - 1:,} footprints built in "
          f"{t_table * 1e3:.0f} ms (incl. overlap look-up and adjacency)")  # fmt: skip
    rates = {}
    for backend in ["numba", "numpy"] if P.HAVE_NUMBA else ["numpy"]:
        if backend == "numba":  # load/compile the kernels once, outside the timing
            t0 = time.perf_counter()
            score_all(prepare(geo, "Coventry and Warwickshire"), "numba")
            score_all(cm, "numba")
            print(f"  numba warm-up (compile or load cached kernels + first run): "
                  f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
        best = np.inf
        total = 0
        for _ in range(3):
            total, dt = score_all(cm, backend)
            best = min(best, dt)
        rates[backend] = total / best
        target = 10e6 if backend == "numba" else 2e6
        print(f"  all {total:,} plans fully scored, {backend:5s}: {best:.3f} s = "
              f"{rates[backend] / 1e6:5.1f} M plans/s  (target ≥ {target / 1e6:.0f} M/s: "
              f"{rates[backend] / target:.2f}× target)")  # fmt: skip
    fastest = max(rates.values())
    if "numba" in rates and "numpy" in rates:
        print(f"  numba / numpy: {rates['numba'] / rates['numpy']:.2f}×")

    # ---- 2. the whole call -------------------------------------------------------------------
    t0 = time.perf_counter()
    res = M.mergers(geo, SYSTEM, top=20)
    t_call = time.perf_counter() - t0
    print(f"  mergers() end to end (scores + top-20 + Pareto + DP check + reasons): {t_call:.2f} s "
          f"for {res.n_plans:,} plans = {res.n_plans / t_call / 1e6:.1f} M plans/s")  # fmt: skip
    t0 = time.perf_counter()
    best_row = M.best_plan(geo, SYSTEM)
    t_dp = time.perf_counter() - t0
    print(
        f"  best_plan() by subset DP, no enumeration: {t_dp * 1e3:.0f} ms "
        f"(same plan as the enumeration: {best_row['plan_id'] == res.top.iloc[0]['plan_id']})"
    )
    print()

    # ---- 3. every contiguous plan of every STP -----------------------------------------------
    t0 = time.perf_counter()
    nat = M.national(geo, contiguous=True, progress=False, top=5)
    t_nat = time.perf_counter() - t0
    t0 = time.perf_counter()
    coterminus.adjacency.adjacency(geo.ccg)
    t_adj = time.perf_counter() - t0
    print(
        f"all 42 STPs, every contiguous plan: {nat.n_plans:,} plans in {t_nat:.2f} s "
        f"(target < 10 s: {10 / t_nat:.1f}× headroom; adjacency of all CCGs alone {t_adj:.2f} s)"
    )
    print()

    # ---- 4. the naive path: dissolve + overlay per plan ------------------------------------------
    plans = random_plans(cm.n, args.naive, seed=2019)
    t0 = time.perf_counter()
    M._overlay_scores(geo, cm.codes, plans, tolerance=cm.tolerance)
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
