"""The systems table: every system of a vintage, as one footprint, against council levels.

"One CCG per ICS" (2019–2021) asks, for each STP/ICS, whether its CCGs merged into one would be
coterminous with upper-tier councils; from 2022 the same question is asked of each ICB, and of
combined (strategic) authorities. A system is a union of whole units, so its overlap with a
council level is one row of the systems × councils overlap table: one batch of arithmetic for
the whole country.

>>> import coterminus
>>> t = systems(coterminus.load(2019))
>>> int(t["coterminous"].sum()), len(t)
(19, 42)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .assess import default_against
from .metrics import check_tolerance, coterminosity_kernel
from .overlap import overlap

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = ["systems", "systems_level"]


def systems_level(geo: Geography) -> str:
    """The level whose units are "systems": the manifest's ``defaults.systems``, else the level
    grouping the finest NHS level (STP for CCGs, ICB for sub-ICB locations)."""
    if geo.manifest is not None and geo.manifest.defaults.get("systems") in geo.levels:
        return str(geo.manifest.defaults["systems"])
    nhs = geo.side("nhs")
    for n in nhs:
        parent = geo.parent(n)
        if parent is not None:
            return parent
    if not nhs:
        msg = f"the {geo.vintage} geography has no NHS level; pass level=."
        raise ParameterError(msg)
    return nhs[0]


def systems(
    geo: Geography,
    *,
    level: str | None = None,
    against: Sequence[str] | str | None = None,
    tier: str | None = None,
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
) -> pd.DataFrame:
    """One row per system (STP/ICS, ICB, or any level), each assessed as one footprint.

    Parameters
    ----------
    geo : Geography
    level : str, optional
        The systems level (default :func:`systems_level`).
    against : str or sequence of str, optional
        Levels to assess against (default as :func:`coterminus.assess`); the first is the
        headline (``coterminosity_index``, ``coterminous``, ``n_split``).
    tier : str, optional
        Headline level; alone, the only level assessed against (``tier="ltla"``).
    measure : {"population", "area"}, default "population"
    tolerance : float, optional
        ε (default 0.005 for population, 0.03 for area).

    Returns
    -------
    pandas.DataFrame
        ``system``, ``name``, ``n_members`` (units of the level below, e.g. CCGs),
        ``population``; the headline ``coterminosity_index``, ``coterminous``, ``n_split``; and
        for every level L assessed against: ``coterminosity_index_L``, ``coterminous_L``,
        ``n_split_L``, ``touched_L`` (the areas of L the system touches, with the share of its
        people in each) and ``split_L`` (whether any area of L it touches is split, i.e. has
        ε < s_l < 1 − ε). ``attrs``: ``level``, ``against``, ``partial`` (the levels of
        ``against`` that cover part of the blocks only), ``measure``, ``tolerance``,
        ``vintage``.

    Notes
    -----
    For system S and each area l of a level: s_l = m_S[l] / T[l], best fit U = {l : s_l ≥ 0.5},
    J = Σ_U m_S[l] / (t_S + Σ_U (T[l] − m_S[l])); coterminous iff J ≥ 1 − ε (as
    :func:`coterminus.analysis.metrics.footprint_metrics`, computed for all systems at once).

    Examples
    --------
    >>> import coterminus
    >>> t = systems(coterminus.load(2024), against=["utla", "cauth"])
    >>> len(t), t.set_index("system").at["E54000018", "touched_cauth"]
    (42, 'West Midlands (36.7%)')
    """
    name = geo.resolve_level(level) if level else systems_level(geo)
    if against is None and tier is not None:
        against = [tier]
    if against is None:
        levels = [lv for lv in default_against(geo, name) if lv != name]
    else:
        levels = [
            geo.resolve_level(a) for a in ([against] if isinstance(against, str) else against)
        ]
    if tier is not None:
        head = geo.resolve_level(tier)
        levels = [head, *[lv for lv in levels if lv != head]]
    if not levels:
        msg = "nothing to assess the systems against; pass against=."
        raise ParameterError(msg)
    eps = check_tolerance(tolerance, measure)
    units = geo.units(name)
    children = [c for c in geo.children(name) if geo.levels[c].side == geo.levels[name].side]
    out = pd.DataFrame({"system": units.index.to_numpy(), "name": units["name"].to_numpy()})
    if children:
        child = max(children, key=lambda c: len(geo.units(c)))
        counts = geo.lsoa.dropna(subset=[child]).groupby(name)[child].nunique()
        out["n_members"] = counts.reindex(units.index).fillna(0).astype(int).to_numpy()
    out["population"] = units["population"].to_numpy()
    for i, lv in enumerate(levels):
        table = overlap(geo, name, lv, measure=measure)
        mat = table.matrix().reindex(index=units.index, columns=table.target_totals.index).fillna(0)
        m = mat.to_numpy(dtype=float)
        totals = table.target_totals.reindex(mat.columns).to_numpy(dtype=float)
        t_f = table.unit_totals.reindex(units.index).fillna(0).to_numpy(dtype=float)
        k = coterminosity_kernel(m, totals, t_f, eps)
        lnames = geo.units(lv)["name"].reindex(mat.columns).to_numpy()
        touched = []
        for r in range(m.shape[0]):
            cols = np.flatnonzero(m[r] > 0)
            cols = cols[np.argsort(-k.share_of_footprint[r, cols], kind="stable")]
            touched.append(
                "; ".join(f"{lnames[c]} ({k.share_of_footprint[r, c]:.1%})" for c in cols)
            )
        out[f"coterminosity_index_{lv}"] = k.jaccard
        out[f"coterminous_{lv}"] = np.asarray(k.jaccard >= 1.0 - eps)
        out[f"n_split_{lv}"] = k.split.sum(axis=1).astype(int)
        out[f"split_{lv}"] = np.asarray(k.split.any(axis=1))
        out[f"touched_{lv}"] = touched
        if i == 0:
            out["coterminosity_index"] = k.jaccard
            out["coterminous"] = np.asarray(k.jaccard >= 1.0 - eps)
            out["n_split"] = k.split.sum(axis=1).astype(int)
    first: list[str] = ["system", "name", *(["n_members"] if children else []), "population"]
    headline: list[str] = ["coterminosity_index", "coterminous", "n_split"]
    rest = [str(c) for c in out.columns if c not in first and c not in headline]
    out = out[first + headline + rest].sort_values("name", kind="stable").reset_index(drop=True)
    stamp = geo.modified_data
    if stamp:  # a table built on edited data says so in every row (and every file written of it)
        out["modified_data"] = stamp
    out.attrs = {
        "level": name,
        "against": levels,
        "partial": [lv for lv in levels if geo.partial(lv)],
        "measure": measure,
        "tolerance": eps,
        "vintage": geo.vintage,
        "modified_data": stamp,
    }
    return out
