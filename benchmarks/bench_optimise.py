"""Benchmark the exact merger optimiser (``ct.optimise``) on real data, in one run, one core.

Prints (no assertions):

1. every NHS region of the 2024 vintage at upper-tier level: the upper-tier councils wholly
   within the region (``ct.optimise(geo, region, units="utla")``) merged into ICB-sized blocks (1,000,000 people to the largest ICB, contiguous),
   scored against combined authorities, ties to least change from today's ICBs — status, gap,
   seconds, candidate blocks and the number of plans that keep the rules;
2. the lower-tier councils of the Midlands into ICB-sized blocks (≥ 1,000,000 people,
   contiguous) scored against upper-tier councils and combined authorities — proven optimal,
   or its gap, after at most ``--time-limit`` seconds (default 600);
3. the exhaustive engine (``ct.mergers``: every plan enumerated and scored) against the
   optimiser on n = 10…14 (the first n of the 14 councils of Greater Essex, 2024 LTLAs, blocks
   of 250,000 people or more, with and without contiguity): both optima and both times.

Run::

    NUMBA_NUM_THREADS=1 nice python benchmarks/bench_optimise.py [--data-dir ../shared/data]
        [--time-limit 600] [--skip-ltla]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core, like HiGHS (threads=1)

import coterminus as ct
from coterminus.plans.constraints import Constraints


def regions(geo: ct.Geography, time_limit: float) -> None:
    print("1. every NHS region of 2024, upper-tier councils into ICB-sized blocks, against cauth")
    head = f"{'region':<28}{'n':>4}{'status':>10}{'gap':>6}{'seconds':>9}{'blocks':>10}  plans"
    print(head)
    total = 0.0
    for code in geo.units("nhser").index:
        opt = ct.optimise(geo, str(code), units="utla", within="nhser", against="cauth", k=1,
                          constraints=Constraints(today="icb"), time_limit=time_limit)  # fmt: skip
        total += opt.seconds
        n = opt.problem.n if opt.problem is not None else 0
        count = opt.count.text if opt.count is not None else "-"
        print(
            f"{opt.system_name:<28}{n:>4}{opt.status:>10}{opt.gap:>6,.0f}{opt.seconds:>9.1f}"
            f"{opt.n_candidates:>10,}  {count}"
        )
    print(f"all regions: {total:.1f} s")


def midlands_ltla(geo: ct.Geography, time_limit: float) -> None:
    print()
    print(f"2. Midlands lower-tier councils into ICB-sized blocks, {time_limit:g} s limit")
    largest_icb = int(geo.lsoa.groupby("icb")["population"].sum().max())
    c = Constraints(today="icb", min_pop=1_000_000, max_pop=largest_icb)
    opt = ct.optimise(geo, "Midlands", units="ltla", within="nhser", against=["utla", "cauth"],
                      k=1, constraints=c, time_limit=time_limit)  # fmt: skip
    assert opt.problem is not None
    print(f"{opt.problem.n} lower-tier councils; band {opt.problem.band.text}")
    print(opt.proof_text())
    if opt.count is not None:
        print(f"plans that keep every rule: {opt.count.text} ({opt.count.seconds:.1f} s)")
    if len(opt.plans):
        best = opt.best
        print(f"objective {best['objective']:,.0f}, change {int(best['change']):,}, "
              f"{int(best['n_blocks'])} blocks")  # fmt: skip
        print(f"  {best['blocks']}")
    for note in opt.notes:
        print(f"  note: {note}")


def exhaustive_vs_optimiser(geo: ct.Geography) -> None:
    print()
    print("3. exhaustive engine vs optimiser, first n of the 14 councils of Greater Essex (2024)")
    codes = [*geo.members("Essex", "ltla"), "E06000033", "E06000034"]
    print(f"{'n':>3} {'contiguous':>10} {'plans':>13} {'exhaustive s':>13} {'optimiser s':>12}"
          f" {'same optimum':>13}  (objective, change)")  # fmt: skip
    ct.mergers(
        geo,
        members=codes[:6],
        units="ltla",
        top=1,
        constraints=Constraints(across=True, contiguous=False),
    )  # compile the kernels first
    for contiguous in (True, False):
        for n in range(10, 15):
            c = Constraints(across=True, min_pop=250_000, contiguous=contiguous)
            t0 = time.perf_counter()
            ref = ct.mergers(geo, members=codes[:n], units="ltla", constraints=c, top=1)
            t_ex = time.perf_counter() - t0
            t0 = time.perf_counter()
            opt = ct.optimise(geo, members=codes[:n], units="ltla", constraints=c, k=1,
                              count=False)  # fmt: skip
            t_opt = time.perf_counter() - t0
            a = (float(ref.best["objective"]), int(ref.best["change"]))
            b = (float(opt.best["objective"]), int(opt.best["change"]))
            print(f"{n:>3} {contiguous!s:>10} {ref.n_plans:>13,} {t_ex:>13.2f} {t_opt:>12.2f}"
                  f" {a == b and opt.proven!s:>13}  {b}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--skip-ltla", action="store_true", help="skip part 2 (up to --time-limit)")
    args = ap.parse_args()
    geo = ct.load(2024, data_dir=args.data_dir)
    t0 = time.perf_counter()
    regions(geo, args.time_limit)
    if not args.skip_ltla:
        midlands_ltla(geo, args.time_limit)
    exhaustive_vs_optimiser(geo)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
