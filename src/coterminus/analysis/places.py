"""Places: population of the councils inside a footprint against the 250,000–500,000 band.

"Place" is where NHS bodies and councils integrate services, typically for 250,000–500,000
people and often one upper-tier or unitary council. For a footprint this module lists the
population of each whole lower-tier LA inside it, flags those outside the band, and searches
exhaustively for the best groupings of contiguous whole LAs into places inside the band.

The search reuses the merger engine (:mod:`coterminus.partitions`): LAs are units, places are
blocks, only connected blocks are allowed, and the best grouping comes from subset dynamic
programming.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import EnumerationTooLargeError, ParameterError
from ..partitions import (
    MAX_UNITS,
    best_partition,
    connected_subsets,
    count_partitions,
    iter_partitions,
    popcount,
    subset_ors,
    subset_sums,
)
from ..vocabulary.words import PLACE_BAND, band_label, join_names
from .adjacency import adjacency, neighbour_masks
from .metrics import footprint_metrics
from .overlap import overlap

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = ["PLACE_BAND", "Places", "band_label", "places"]  # band names re-exported from vocabulary

#: Above this many groupings only the best one is found (by dynamic programming).
_MAX_LISTED = 250_000


@dataclass
class Places:
    """Place sizes of a footprint.

    Attributes
    ----------
    las : pandas.DataFrame
        Whole lower-tier LAs in the footprint: ``name``, ``utla``, ``population``, ``band``
        (``"below"``, ``"in band"``, ``"above"``).
    excluded : pandas.DataFrame
        LAs the footprint touches but does not hold whole (not used for places).
    groupings : pandas.DataFrame
        Best groupings, one row per place: ``rank``, ``place`` (1..k), ``las`` (codes),
        ``names``, ``population``, ``in_band``, ``crosses_utla``, and per grouping
        ``people_outside_band`` and ``n_cross_utla``.
    band : (int, int)
    n_groupings : int
        How many contiguous groupings exist.
    note : str
        How the search was done (exhaustive list, or best only).
    """

    las: pd.DataFrame
    excluded: pd.DataFrame
    groupings: pd.DataFrame
    band: tuple[int, int]
    n_groupings: int
    note: str
    adjacency: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def best(self) -> list[list[str]]:
        """The best grouping as lists of LA codes."""
        first = self.groupings[self.groupings["rank"] == 1]
        return [list(x) for x in first["las"]]

    def left_out(self) -> str:
        """What the places leave out, in one sentence ("" when nothing is left out).

        Councils the footprint holds only in part are not grouped into places; the sentence
        names them (up to ten, with a count) and the people of the footprint in them.

        Examples
        --------
        >>> import coterminus
        >>> geo = coterminus.load(2019)
        >>> places(geo, ["E38000038"]).left_out()
        ''
        """
        ex = self.excluded[self.excluded["in_footprint"] > 0]
        if ex.empty:
            return ""
        ex = ex.sort_values("in_footprint", ascending=False)
        people = round(float(ex["in_footprint"].sum()))
        amounts = [round(float(v)) for v in ex["in_footprint"]]
        shown = [
            f"{n} ({v:,}{' of its people' if i == 0 else ''})"
            for i, (n, v) in enumerate(zip(ex["name"].head(10), amounts[:10], strict=True))
        ]
        listed = (
            join_names(shown) if len(ex) <= 10 else ", ".join(shown) + f" and {len(ex) - 10:,} more"
        )
        n = len(ex)
        return (
            f"Left out of places: {n} lower-tier council{'s' if n != 1 else ''} the footprint "
            f"holds only in part — {listed} — so {people:,} of its people are in no place."
        )

    def explain(self) -> str:
        """One paragraph for a report."""
        lo, hi = self.band
        inb = self.las[self.las["band"] == "in band"]
        n, k = len(self.las), len(inb)
        parts = [
            f"{n} whole lower-tier council{'s lie' if n != 1 else ' lies'} in the footprint; "
            f"{k} {'is' if k == 1 else 'are'} already place-sized ({lo:,}–{hi:,} people)."
        ]
        if not self.groupings.empty:
            g = self.groupings[self.groupings["rank"] == 1]
            out = int(g["people_outside_band"].iloc[0])
            desc = "; ".join(
                f"{n} ({p:,})" for n, p in zip(g["names"], g["population"], strict=True)
            )
            parts.append(
                f"Best grouping into {len(g)} place{'s' if len(g) != 1 else ''}: {desc}"
                + (
                    f" — {out:,} people are in places outside the band."
                    if out
                    else ", all inside the band."
                )
            )
        left = self.left_out()
        if left:
            parts.append(left)
        return " ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "band": list(self.band),
            "las": json.loads(self.las.reset_index().to_json(orient="records")),
            "groupings": json.loads(self.groupings.to_json(orient="records")),
            "n_groupings": self.n_groupings,
            "note": self.note,
        }


def places(
    geo: Geography,
    members: Sequence[str],
    *,
    band: tuple[int, int] = PLACE_BAND,
    tolerance: float | None = None,
    top: int = 5,
    max_las: int = MAX_UNITS,
    overrides: dict[tuple[str, str], bool] | None = None,
    units: str | None = None,
    level: str | None = None,
) -> Places:
    """Place sizes and the best groupings of contiguous whole LAs into places.

    Parameters
    ----------
    geo : Geography
    members : sequence of str
        Unit codes of the footprint (see :func:`coterminus.analysis.assess.resolve_footprint`).
    band : (int, int), default (250000, 500000)
        Inclusive population band of a place.
    tolerance : float, optional
        ε for "whole" LAs (share inside the footprint ≥ 1 − ε); default 0.005.
    top : int, default 5
        How many groupings to list (when they can be listed).
    max_las : int, default 16
        Refuse footprints holding more whole LAs than this.
    overrides : dict, optional
        Adjacency overrides across water, e.g. ``{("E06000046", "E07000091"): True}``.
    units : str, optional
        Level of ``members`` (default: the level their codes belong to).
    level : str, optional
        Council level grouped into places (default the finest council level, the lower tier);
        its parent level (the upper tier) is the one places should not cross.

    Returns
    -------
    Places

    Raises
    ------
    EnumerationTooLargeError
        More than ``max_las`` whole LAs.
    ParameterError
        A band that is empty or negative.

    Notes
    -----
    Only LAs with share inside the footprint s_l ≥ 1 − ε are grouped. Groupings are the set
    partitions of those LAs whose blocks are connected in the adjacency graph. For a place
    (block) S with population p(S): out(S) = p(S) if p(S) ∉ [lo, hi] else 0, and c(S) = 1 if S
    spans more than one upper-tier council. A grouping is ranked by Σ out(S) (people in places
    outside the band, fewer is better), then Σ c(S) (places crossing upper-tier boundaries),
    then by its number of places (more, smaller places first). The best is found by subset
    dynamic programming over cost(S) = out(S)·10⁴ + c(S)·10 − 1.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> p = places(geo, geo.members("Coventry and Warwickshire"))
    >>> p.las["band"].value_counts().to_dict()
    {'below': 5, 'in band': 1}
    >>> p.best()
    [['E08000026'], ['E07000219', 'E07000220', 'E07000218'], ['E07000222', 'E07000221']]
    """
    lo, hi = band
    if not 0 <= lo <= hi:
        msg = f"band={band!r} must be (low, high) with 0 ≤ low ≤ high, e.g. (250000, 500000)."
        raise ParameterError(msg)
    unit_level = geo.resolve_level(units) if units else geo.level_of(str(members[0]))
    councils = geo.side("council")
    if level is None and not councils:
        msg = f"the {geo.vintage} geography has no council level to form places from; pass level=."
        raise ParameterError(msg)
    place_level = (
        geo.resolve_level(level) if level else max(councils, key=lambda n: len(geo.units(n)))
    )
    upper = geo.parent(place_level)
    fm = footprint_metrics(overlap(geo, unit_level, place_level), members, tolerance=tolerance)
    layer = geo.layer(place_level)
    whole = fm.contained
    upper_col = upper if upper is not None and upper in layer.columns else None
    las = layer.loc[whole, ["name", *([upper_col] if upper_col else []), "population"]].copy()
    if upper_col is None:  # no upper level: every council is its own group
        upper_col = "upper"
        las[upper_col] = las.index
    las["band"] = band_label(las["population"].to_numpy(), band)
    las = las.sort_values("population", ascending=False)
    touched = [c for c in fm.by_la.index if c not in set(whole)]
    excluded = fm.by_la.loc[touched, ["in_footprint", "la_total", "share_of_la", "status"]].copy()
    excluded.insert(0, "name", layer["name"].reindex(excluded.index).to_numpy())
    n = len(las)
    if n > max_las:
        msg = (
            f"the footprint holds {n} whole lower-tier councils; grouping them exhaustively means "
            f"searching up to Bell({n}) groupings, and coterminus stops at {max_las}. Pass fewer "
            "CCGs (one place-sized area at a time), or judge places at upper tier."
        )
        raise EnumerationTooLargeError(msg)
    empty = pd.DataFrame(
        columns=[
            "rank",
            "place",
            "las",
            "names",
            "population",
            "in_band",
            f"crosses_{upper_col}",
            "people_outside_band",
            f"n_cross_{upper_col}",
        ]
    )
    if n == 0:
        return Places(las, excluded, empty, band, 0, "no whole lower-tier council in the footprint")
    codes = list(las.index)
    edges = adjacency(layer.loc[codes], overrides=overrides)
    allowed = connected_subsets(neighbour_masks(edges, codes))
    pop = subset_sums(las["population"].to_numpy(dtype=np.int64))
    utlas = pd.factorize(las[upper_col])[0]
    span = popcount(subset_ors(1 << utlas.astype(np.int64)))
    out_people = np.where((pop >= lo) & (pop <= hi), 0, pop).astype(np.float64)
    cross = (span > 1).astype(np.float64)
    cost = out_people * 1e4 + cross * 10.0 - 1.0
    cost[0] = 0.0
    n_groupings = count_partitions(n, allowed=allowed)
    if n_groupings <= _MAX_LISTED:
        plans = list(iter_partitions(n, allowed=allowed))
        scores = np.array([sum(cost[s] for s in p) for p in plans])
        order = np.argsort(scores, kind="stable")[:top]
        chosen = [plans[i] for i in order]
        note = f"all {n_groupings:,} contiguous groupings of {n} whole councils searched"
    else:
        chosen = [best_partition(cost, allowed=allowed)[1]]
        note = (
            f"{n_groupings:,} contiguous groupings of {n} whole councils: the best was found by "
            "dynamic programming; too many to list"
        )
    rows = []
    names = las["name"].to_numpy()
    for rank, plan in enumerate(chosen, start=1):
        total_out = int(sum(out_people[s] for s in plan))
        n_cross = int(sum(cross[s] for s in plan))
        for k, s in enumerate(sorted(plan, key=lambda m: -pop[m]), start=1):
            idx = [i for i in range(n) if s >> i & 1]
            rows.append(
                {
                    "rank": rank,
                    "place": k,
                    "las": [codes[i] for i in idx],
                    "names": " + ".join(names[i] for i in idx),
                    "population": int(pop[s]),
                    "in_band": bool(lo <= pop[s] <= hi),
                    f"crosses_{upper_col}": bool(cross[s]),
                    "people_outside_band": total_out,
                    f"n_cross_{upper_col}": n_cross,
                }
            )
    return Places(las, excluded, pd.DataFrame(rows), band, n_groupings, note, edges)
