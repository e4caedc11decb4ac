"""Benchmark: England CCG × LTLA overlap tables against geopandas.overlay, in one run.

Prints the time of the population table (LSOA building blocks), the area table (STRtree +
vectorised shapely) and geopandas.overlay on the same polygons, and the ratios between them.
Timings are the best of ``--repeat`` runs; the machine is shared, so read the ratios.

    python benchmarks/bench_overlap.py --data-dir ../shared/data --vintage 2019
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

import coterminus as ct
from coterminus.analysis.overlap import area_overlap, population_overlap


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data-dir", type=Path, default=os.environ.get("COTERMINUS_DATA_DIR", "../shared/data")
    )
    ap.add_argument("--vintage", type=int, default=2019)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    geo = ct.load(args.vintage, data_dir=args.data_dir)
    ccg, lad = geo.ccg, geo.ltla
    print(f"England {args.vintage}: {len(ccg)} CCGs × {len(lad)} LTLAs, {len(geo.lsoa):,} LSOAs")

    t_pop, pop = best_of(lambda: population_overlap(geo.lsoa, "ccg", "ltla"), args.repeat)
    t_area, area = best_of(
        lambda: area_overlap(ccg, lad, unit_level="ccg", target_level="ltla"), args.repeat
    )
    a = ccg[["geometry"]].rename_axis("ccg").reset_index()
    b = lad[["geometry"]].rename_axis("ltla").reset_index()
    t_ovl, ovl = best_of(
        lambda: gpd.overlay(a, b, how="intersection", keep_geom_type=True), max(1, args.repeat - 2)
    )

    print(f"population table (exact, LSOA blocks): {t_pop * 1e3:9.1f} ms  ({len(pop.pairs)} pairs)")
    print(
        f"area table (STRtree + shapely 2):      {t_area * 1e3:9.1f} ms  ({len(area.pairs)} pairs)"
    )
    print(f"geopandas.overlay (baseline):          {t_ovl * 1e3:9.1f} ms  ({len(ovl)} pieces)")
    print(f"ratio overlay / area table:       {t_ovl / t_area:8.1f}×")
    print(f"ratio overlay / population table: {t_ovl / t_pop:8.1f}×")
    print(f"ratio area / population table:    {t_area / t_pop:8.1f}×")


if __name__ == "__main__":
    main()
