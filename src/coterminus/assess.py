"""Assess a footprint in one call: the evidence for merger tests I and II.

>>> import coterminus
>>> geo = coterminus.load(2019)
>>> a = coterminus.assess(geo, ["05A", "South Warwickshire", "E38000195"])
>>> print(a.explain())  # doctest: +NORMALIZE_WHITESPACE
100.0% of the merged CCG's 949,454 people live in Coventry and Warwickshire, which it covers
wholly. Test II (upper tier): it is coterminous with one or more whole councils (coterminosity
index J = 1.0000; tolerance ε = 0.005, so J ≥ 0.995 counts as coterminous). Test I: it lies
within one system, Coventry and Warwickshire.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import FootprintError, UnknownAreaError, VintageMismatchError
from .metrics import FootprintMetrics, SystemAlignment, footprint_metrics, system_alignment
from .overlap import overlap
from .places import Places, places

if TYPE_CHECKING:
    from .geography import Geography

__all__ = ["Assessment", "assess", "resolve_footprint"]

Tier = Literal["utla", "ltla"]
TIER_LABEL = {"utla": "upper", "ltla": "lower"}


def _fmt(x: float, measure: str) -> str:
    if measure == "population":
        return f"{round(x):,}"
    return f"{x / 1e6:,.1f} km²"


def _people(x: float, measure: str) -> str:
    return f"{_fmt(x, measure)} people" if measure == "population" else _fmt(x, measure)


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _other_vintage_hint(geo: Geography, code: str) -> str | None:
    """Say which other vintage a CCG code belongs to, when the data directory can tell."""
    from . import datasets
    from .io import read_lookup

    for v in (2019, 2020, 2021):
        if v == geo.vintage:
            continue
        try:
            path = datasets.locate(f"ccg-stp-{v}", data_dir=geo.data_dir)
            if code in read_lookup(path).index:
                return (
                    f"{code} is a {v} CCG code, not a {geo.vintage} one; use coterminus.load({v})"
                )
        except (KeyError, OSError, ValueError):
            continue
    return None


def resolve_footprint(
    geo: Geography, footprint: Sequence[str] | str | None = None, *, system: str | None = None
) -> tuple[list[str], str]:
    """Turn CCG codes/names (or a system) into sorted CCG codes and a display name.

    Raises :class:`FootprintError` (empty, duplicates), :class:`UnknownAreaError` (with
    suggestions) and :class:`VintageMismatchError` (a code of another vintage).
    """
    if system is not None:
        stp = geo.code(system, level="stp")
        return geo.members(stp), f"{geo.stp.at[stp, 'name']} ({stp})"
    if footprint is None:
        msg = "give the footprint as CCG codes/names, or system='<STP/ICS name or code>'."
        raise FootprintError(msg)
    items = [footprint] if isinstance(footprint, str) else list(footprint)
    if not items:
        msg = "the footprint is empty; give at least one CCG code or name."
        raise FootprintError(msg)
    codes: list[str] = []
    problems: list[str] = []
    other: list[str] = []
    for q in items:
        try:
            codes.append(geo.code(q, level="ccg"))
        except UnknownAreaError as exc:
            hint = _other_vintage_hint(geo, str(q).strip().upper())
            (other if hint else problems).append(hint or str(exc))
    if other:
        raise VintageMismatchError("; ".join(other) + ". A footprint must use one vintage.")
    if problems:
        raise UnknownAreaError("; ".join(problems))
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        msg = f"the footprint names {dupes} more than once (maybe by code and by name); list each CCG once."
        raise FootprintError(msg)
    codes = sorted(codes)
    if len(codes) == 1:
        return codes, str(geo.ccg.at[codes[0], "name"])
    return codes, f"merger of {len(codes)} CCGs"


@dataclass
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row: the verdicts and headline figures.
    by_la : pandas.DataFrame
        One row per local authority (both tiers) the footprint touches, with its share inside
        the footprint, status and best-fit flag.
    mismatch : pandas.DataFrame
        Who is outside: one row per LA and direction (``footprint_outside_la_set`` — people
        of the footprint in councils outside its best-fit set; ``la_set_outside_footprint`` —
        people of best-fit councils outside the footprint), with people and LSOAs.
    tiers : dict
        :class:`FootprintMetrics` per tier (``"utla"``, ``"ltla"``).
    system : SystemAlignment
        Test I.
    """

    geo: Geography = field(repr=False)
    name: str
    members: list[str]
    tier: str
    measure: str
    tiers: dict[str, FootprintMetrics]
    system: SystemAlignment
    summary: pd.DataFrame = field(repr=False)
    by_la: pd.DataFrame = field(repr=False)
    mismatch: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        m = self.tiers[self.tier]
        verdict = "coterminous" if m.coterminous else "not coterminous"
        return (
            f"<Assessment {self.name} ({self.geo.vintage}): {verdict} at the "
            f"{TIER_LABEL[self.tier]} tier, J = {m.index:.4f}, ε = {m.tolerance}>"
        )

    @property
    def metrics(self) -> FootprintMetrics:
        """Metrics at the assessed tier."""
        return self.tiers[self.tier]

    def mismatch_lsoas(self, tier: Tier | None = None) -> pd.DataFrame:
        """The LSOAs (with people) behind every mismatch at a tier.

        Returns one row per LSOA that is in the footprint but in a council outside the best-fit
        set, or in a best-fit council but outside the footprint (population view only).
        """
        level: str = tier or self.tier
        m = self.tiers[level]
        lsoa = self.geo.lsoa
        in_f = lsoa["ccg"].isin(self.members)
        in_u = lsoa[level].isin(m.best_fit)
        rows = lsoa[in_f ^ in_u].copy()
        rows["direction"] = (
            rows["ccg"]
            .isin(self.members)
            .map({True: "footprint_outside_la_set", False: "la_set_outside_footprint"})
        )
        cols = ["name", "direction", "ccg", level, "population"]
        return rows[cols].sort_values(
            ["direction", level, "population"], ascending=[True, True, False]
        )

    def places(self, **kwargs: Any) -> Places:
        """Place sizes of this footprint (see :func:`coterminus.places.places`)."""
        return places(self.geo, self.members, **kwargs)

    def explain(self) -> str:
        """A plain-language paragraph a board paper can quote."""
        m = self.metrics
        names = self.geo.layer(self.tier)["name"]
        fp = "the merged CCG" if len(self.members) > 1 else self.name
        inside = m.total - m.outside_best_fit
        share = inside / m.total if m.total else 0.0
        contained_names = [names[c] for c in m.contained]
        lines = []
        if m.best_fit:
            bf_names = [names[c] for c in m.best_fit]
            lines.append(
                f"{share:.1%} of {fp}'s "
                f"{_people(m.total, m.measure)} live in {_join(bf_names)}"
                + (
                    ", which it covers wholly."
                    if set(m.best_fit) == set(m.contained)
                    else f" (covering wholly: {_join(contained_names) or 'none'})."
                )
            )
        else:
            lines.append(
                f"{fp[0].upper()}{fp[1:]} does not hold the majority of any "
                f"{TIER_LABEL[self.tier]}-tier council."
            )
        out_f = self.mismatch[(self.mismatch["tier"] == self.tier)]
        for _, r in out_f.iterrows():
            if r["direction"] == "footprint_outside_la_set":
                lines.append(
                    f"{_people(r['amount'], m.measure)} of the footprint live in {r['la_name']}, "
                    "which it does not mostly cover."
                )
            else:
                lines.append(f"{_people(r['amount'], m.measure)} in {r['la_name']} are outside it.")
        verdict = "is" if m.coterminous else "is not"
        lines.append(
            f"Test II ({TIER_LABEL[self.tier]} tier): it {verdict} coterminous with "
            f"{'one or more whole councils' if m.best_fit else 'any council'} "
            f"(coterminosity index J = {m.index:.4f}; tolerance ε = {m.tolerance:g}, so "
            f"J ≥ {1 - m.tolerance:g} counts as coterminous)."
        )
        stp_name = self.geo.stp["name"].get(self.system.dominant, self.system.dominant)
        if self.system.within_one_system:
            lines.append(f"Test I: it lies within one system, {stp_name}.")
        else:
            lines.append(
                f"Test I: it crosses systems — {self.system.dominant_share:.1%} is in {stp_name}, "
                f"the rest in {len(self.system.shares) - 1} other system(s)."
            )
        return " ".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form of the whole assessment (JSON-ready)."""
        return {
            "name": self.name,
            "vintage": self.geo.vintage,
            "members": [{"code": c, "name": str(self.geo.ccg.at[c, "name"])} for c in self.members],
            "tier": self.tier,
            "measure": self.measure,
            "tiers": {t: m.to_dict() for t, m in self.tiers.items()},
            "test_i": {
                "dominant_system": self.system.dominant,
                "dominant_system_name": str(self.geo.stp["name"].get(self.system.dominant, "")),
                "dominant_share": float(self.system.dominant_share),
                "within_one_system": bool(self.system.within_one_system),
                "tolerance": self.system.tolerance,
            },
            "summary": json.loads(self.summary.to_json(orient="records"))[0],
            "by_la": json.loads(self.by_la.reset_index().to_json(orient="records")),
            "mismatch": json.loads(self.mismatch.to_json(orient="records")),
            "explanation": self.explain(),
        }

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), **{"indent": 2, **kwargs})


def assess(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    tier: Tier = "utla",
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
) -> Assessment:
    """Assess a footprint against merger tests I and II.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load`.
    footprint : str or sequence of str, optional
        CCG codes, NHS codes or names (e.g. ``["05A", "South Warwickshire", "E38000195"]``).
    system : str, optional
        Instead of ``footprint``: every CCG of this STP/ICS ("one CCG per system").
    tier : {"utla", "ltla"}, default "utla"
        Tier for the headline verdict; both tiers are always computed (upper tier is the NHS
        test, where social care sits).
    measure : {"population", "area"}, default "population"
    tolerance : float, optional
        ε; default 0.005 (population) or 0.03 (area).

    Returns
    -------
    Assessment

    Notes
    -----
    Formulas are in :mod:`coterminus.metrics` and METHODS.md. Test I uses the CCG × STP overlap
    table: the footprint lies within one system iff its largest share in a system ≥ 1 − ε.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> a = coterminus.assess(geo, ["E38000038", "E38000164", "E38000195"])
    >>> a.summary[["coterminous", "coterminosity_index", "best_fit"]]
       coterminous  coterminosity_index                 best_fit
    0         True                  1.0  E08000026, E10000031
    """
    if tier not in ("utla", "ltla"):
        msg = f"tier={tier!r}; use 'utla' (upper tier, the NHS test) or 'ltla' (lower tier)."
        raise ValueError(msg)
    members, name = resolve_footprint(geo, footprint, system=system)
    tiers = {
        t: footprint_metrics(overlap(geo, "ccg", t, measure=measure), members, tolerance=tolerance)
        for t in ("utla", "ltla")
    }
    sys_table = overlap(geo, "ccg", "stp", measure=measure)
    align = system_alignment(sys_table, members, tolerance=tolerance)

    by_la_parts = []
    mismatch_rows = []
    lsoa = geo.lsoa
    in_f = lsoa["ccg"].isin(members)
    for t, m in tiers.items():
        names = geo.layer(t)["name"]
        part = m.by_la.copy()
        part.insert(0, "name", names.reindex(part.index).to_numpy())
        part.insert(0, "tier", t)
        by_la_parts.append(part)
        for code, r in m.by_la.iterrows():
            la_lsoa = lsoa[t] == code
            if r["best_fit"] and r["outside_footprint"] > 0:
                sel = la_lsoa & ~in_f
                direction = "la_set_outside_footprint"
                amount = r["outside_footprint"]
            elif not r["best_fit"] and r["in_footprint"] > 0:
                sel = la_lsoa & in_f
                direction = "footprint_outside_la_set"
                amount = r["in_footprint"]
            else:
                continue
            mismatch_rows.append(
                {
                    "tier": t,
                    "la": code,
                    "la_name": str(names.get(code, code)),
                    "direction": direction,
                    "amount": amount,
                    "people": int(lsoa.loc[sel, "population"].sum()),
                    "n_lsoa": int(sel.sum()),
                    "ccgs": ", ".join(sorted(lsoa.loc[sel, "ccg"].unique())),
                }
            )
    by_la = pd.concat(by_la_parts)
    mismatch = pd.DataFrame(
        mismatch_rows,
        columns=["tier", "la", "la_name", "direction", "amount", "people", "n_lsoa", "ccgs"],
    )
    mm = tiers[tier]
    lnames = geo.layer(tier)["name"]
    summary = pd.DataFrame(
        [
            {
                "footprint": name,
                "vintage": geo.vintage,
                "n_ccgs": len(members),
                "members": ", ".join(members),
                "measure": measure,
                "tier": tier,
                "total": mm.total,
                "coterminosity_index": mm.index,
                "coterminous": mm.coterminous,
                "tolerance": mm.tolerance,
                "best_fit": ", ".join(mm.best_fit),
                "best_fit_names": ", ".join(str(lnames[c]) for c in mm.best_fit),
                "n_contained": len(mm.contained),
                "n_split": len(mm.split),
                "outside_best_fit": mm.outside_best_fit,
                "best_fit_outside": mm.best_fit_outside,
                "coterminous_ltla": tiers["ltla"].coterminous,
                "coterminosity_index_ltla": tiers["ltla"].index,
                "dominant_system": align.dominant,
                "dominant_system_share": align.dominant_share,
                "within_one_system": align.within_one_system,
            }
        ]
    )
    return Assessment(
        geo=geo,
        name=name,
        members=members,
        tier=tier,
        measure=measure,
        tiers=tiers,
        system=align,
        summary=summary,
        by_la=by_la,
        mismatch=mismatch,
    )
