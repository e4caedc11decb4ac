"""The slow reference path for merger scores: dissolve and overlay polygons per plan.

Independent of the footprint table of :mod:`coterminus.plans` (tests cross-check the table
against it, and ``benchmarks/bench_mergers.py`` times it as the cost the table avoids): each
block's units are dissolved, overlaid on each level's areas with geopandas, and the criteria
are computed here from their definitions (METHODS §6) on the m² of each piece.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from coterminus.geography.bundle import Geography


def overlay_scores(
    geo: Geography,
    units: str,
    codes: Sequence[str],
    blocks: np.ndarray,
    *,
    against: Sequence[str],
    tolerance: float,
) -> pd.DataFrame:
    """Score plans the naive way: dissolve each block's polygons, overlay each level's areas.

    Returns one row per plan with ``n_blocks`` and, per level ``L``, ``split_L``,
    ``mismatch_L`` and ``not_coterminous_L`` in m² (each area judged on its m² within the
    units, as the library does). About 0.1-1 s per plan: the cost the table avoids.
    """
    layer = geo.layer(units).loc[list(codes), ["geometry"]]
    n = len(codes)
    everything = layer.union_all()
    inside: dict[str, pd.Series] = {}
    for lv in against:
        areas = geo.layer(lv)[["geometry"]]
        near = areas.iloc[areas.sindex.query(everything, predicate="intersects")]
        whole = gpd.overlay(
            gpd.GeoDataFrame(geometry=[everything], crs=layer.crs),
            near.reset_index(),
            how="intersection",
            keep_geom_type=True,
        )
        inside[lv] = whole.assign(area=whole.geometry.area).groupby("code")["area"].sum()
    rows = []
    for row in np.asarray(blocks, dtype=np.int64):
        live = [int(b) for b in row if int(b)]
        label = np.zeros(n, dtype=np.int64)
        for j, b in enumerate(live):
            for i in range(n):
                if (b >> i) & 1:
                    label[i] = j
        dissolved = layer.assign(block=label).dissolve(by="block")
        rec: dict[str, float] = {"n_blocks": len(live)}
        for lv in against:
            areas = geo.layer(lv)[["geometry"]]
            near = areas.iloc[areas.sindex.query(dissolved.union_all(), predicate="intersects")]
            pieces = gpd.overlay(
                dissolved.reset_index(), near.reset_index(), how="intersection", keep_geom_type=True
            )
            pieces["area"] = pieces.geometry.area
            split = mism = not_cot = 0.0
            for j in range(len(live)):
                part = pieces[pieces["block"] == j].groupby("code")["area"].sum()
                any_split = False
                for code, m in part.items():
                    total = float(inside[lv].get(code, m))
                    a = math.floor(tolerance * total)
                    if m > a and total - m > a:
                        any_split = True
                        split += m
                        mism += min(m, total - m)
                if any_split:
                    not_cot += float(dissolved.geometry.area.iloc[j])
            rec[f"split_{lv}"] = split
            rec[f"mismatch_{lv}"] = mism
            rec[f"not_coterminous_{lv}"] = not_cot
        rows.append(rec)
    return pd.DataFrame(rows)
