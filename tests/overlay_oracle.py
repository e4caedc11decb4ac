"""The slow reference path for merger scores: dissolve and overlay polygons per plan.

Independent of the footprint table of :mod:`coterminus.plans` (tests cross-check the table
against it, and ``benchmarks/bench_mergers.py`` times it as the cost the table avoids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coterminus.analysis.metrics import coterminosity_kernel
from coterminus.plans.tables import TIERS

if TYPE_CHECKING:
    from coterminus.geography.bundle import Geography


def overlay_scores(
    geo: Geography,
    codes: Sequence[str],
    blocks: np.ndarray,
    *,
    tolerance: float,
) -> pd.DataFrame:
    """Score plans the naive way: dissolve each block's CCG polygons, overlay the councils.

    Independent of the footprint table: areas come from ``geopandas`` dissolve + overlay and the
    metrics from :func:`coterminus.analysis.metrics.coterminosity_kernel`. About 0.1-1 s per plan, which is
    the cost the table avoids; used to cross-check the table (area measure) and in benchmarks.
    """
    ccg = geo.ccg.loc[list(codes), ["geometry"]]
    n = len(codes)
    rows = []
    for row in np.asarray(blocks, dtype=np.int64):
        live = [int(b) for b in row if int(b)]
        label = np.zeros(n, dtype=np.int64)
        for j, b in enumerate(live):
            for i in range(n):
                if (b >> i) & 1:
                    label[i] = j
        dissolved = ccg.assign(block=label).dissolve(by="block")
        rec: dict[str, Any] = {"n_ccgs": len(live)}
        for tier in TIERS:
            las = geo.layer(tier)[["geometry"]]
            near = las.iloc[las.sindex.query(dissolved.union_all(), predicate="intersects")]
            pieces = gpd.overlay(
                dissolved.reset_index(), near.reset_index(), how="intersection", keep_geom_type=True
            )
            pieces["area"] = pieces.geometry.area
            la_area = near.geometry.area
            js, fails, mism = [], 0, 0.0
            for j in range(len(live)):
                part = pieces[pieces["block"] == j].groupby("code")["area"].sum()
                k = coterminosity_kernel(
                    part.to_numpy(),
                    la_area.reindex(part.index).to_numpy(),
                    float(dissolved.geometry.area.iloc[j]),
                    tolerance,
                )
                js.append(float(k.jaccard))
                fails += int(k.jaccard < 1.0 - tolerance)
                mism += k.outside_best_fit + k.best_fit_outside
            rec[f"mean_j_{tier}"] = float(np.mean(js))
            rec[f"min_j_{tier}"] = float(np.min(js))
            rec[f"not_coterminous_{tier}"] = fails
            rec[f"mismatch_{tier}"] = mism
        rows.append(rec)
    return pd.DataFrame(rows)
