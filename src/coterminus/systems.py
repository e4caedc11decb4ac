"""The systems table: every STP/ICS of a vintage and how well its CCGs, merged into one, fit the councils.

One row per system: if all its CCGs became one, would that footprint be coterminous with the
local authorities of ``tier``? This is the table behind ``coterminus systems``.

Examples
--------
>>> import coterminus
>>> geo = coterminus.load(2019)
>>> table = coterminus.systems(geo)
>>> len(table), int(table["coterminous"].sum())
(42, 19)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd

from .metrics import footprint_metrics
from .overlap import overlap

if TYPE_CHECKING:
    from .geography import Geography

__all__ = ["systems"]

#: Columns of :func:`systems`, in order.
COLUMNS = [
    "system",
    "name",
    "n_ccgs",
    "population",
    "coterminosity_index",
    "coterminous",
    "n_split",
]


def systems(
    geo: Geography,
    *,
    tier: Literal["utla", "ltla"] = "utla",
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
) -> pd.DataFrame:
    """Coterminosity of each STP/ICS taken as one footprint (all its CCGs merged).

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load`.
    tier : {"utla", "ltla"}, default "utla"
        Councils to compare with: upper tier (counties, unitaries) or lower tier (districts).
    measure : {"population", "area"}, default "population"
        Overlap measure: people, exactly from LSOA building blocks, or area from polygons.
    tolerance : float, optional
        ε in [0, 0.5); default :data:`coterminus.metrics.DEFAULT_TOLERANCE` of the measure
        (0.005 population, 0.03 area).

    Returns
    -------
    pandas.DataFrame
        One row per system, sorted by name, with columns ``system`` (E54 code), ``name``,
        ``n_ccgs``, ``population`` (of the system, people), ``coterminosity_index`` (J, rounded
        to 6 decimals), ``coterminous`` (J ≥ 1 − ε) and ``n_split`` (councils split by the
        footprint).

    Raises
    ------
    ParameterError
        A tier, measure or tolerance out of range (from :func:`coterminus.overlap` and
        :func:`coterminus.footprint_metrics`).

    Notes
    -----
    For a system S with CCGs F and the overlap table M (CCG × council, by ``measure``), this is
    :func:`coterminus.footprint_metrics` of F:
    m_F[l] = Σ_{u∈F} M[u, l]; t_F = Σ_{u∈F} total(u); s_l = m_F[l]/T[l];
    U = {l : s_l ≥ 0.5}; J = Σ_{l∈U} m_F[l] / (t_F + Σ_{l∈U}(T[l] − m_F[l]));
    coterminous iff J ≥ 1 − ε; split councils are those with ε < s_l < 1 − ε.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> table = coterminus.systems(geo)
    >>> list(table.columns)
    ['system', 'name', 'n_ccgs', 'population', 'coterminosity_index', 'coterminous', 'n_split']
    >>> cw = table.set_index("name").loc["Coventry and Warwickshire"]
    >>> cw["system"], int(cw["n_ccgs"]), int(cw["population"]), float(cw["coterminosity_index"])
    ('E54000018', 3, 949454, 1.0)
    >>> row = table.set_index("system").loc["E54000040"]  # Bath, Swindon and Wiltshire
    >>> float(row["coterminosity_index"]), bool(row["coterminous"]), int(row["n_split"])
    (0.993038, False, 1)
    """
    table = overlap(geo, "ccg", tier, measure=measure)
    rows = []
    for stp, name in geo.stp["name"].items():
        members = geo.members(stp)
        fm = footprint_metrics(table, members, tolerance=tolerance)
        rows.append(
            {
                "system": stp,
                "name": name,
                "n_ccgs": len(members),
                "population": int(geo.stp.at[stp, "population"]),
                "coterminosity_index": round(fm.index, 6),
                "coterminous": fm.coterminous,
                "n_split": len(fm.split),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("name").reset_index(drop=True)
