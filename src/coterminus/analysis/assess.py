"""Assess a footprint in one call: the evidence for merger tests I and II, at any level.

A *footprint* is a set of units of one level — CCGs, sub-ICB locations, ICBs, a scenario's
proposed areas, or councils — assessed against levels of the other side (by default the
manifest's: upper and lower tier, plus combined authorities where the vintage has them) and,
for test I, against the level that groups its units (STP for CCGs, ICB for sub-ICB locations,
NHS region for ICBs).

>>> import coterminus
>>> geo = coterminus.load(2019)
>>> a = coterminus.assess(geo, ["05A", "South Warwickshire", "E38000195"])
>>> print(a.explain())  # doctest: +NORMALIZE_WHITESPACE
100.0% of the merged CCG's 949,454 people live in Coventry and Warwickshire, which it covers
wholly. Test II (upper-tier councils): it is coterminous with one or more whole upper-tier
councils (coterminosity index J = 1.0000; tolerance ε = 0.005, so J ≥ 0.995 counts as
coterminous). Test I: it lies within one STP/ICS, Coventry and Warwickshire.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..errors import FootprintError, ParameterError, UnknownAreaError, VintageMismatchError
from ..geography.resolve import resolve_group
from ..partitions import MAX_UNITS
from ..vocabulary.words import PLACE_BAND, amount, join_names
from .metrics import FootprintMetrics, SystemAlignment, footprint_metrics, system_alignment
from .overlap import OverlapTable, overlap
from .places import Places, places

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = ["Assessment", "assess", "default_against", "resolve_footprint"]


def default_against(geo: Geography, units: str) -> list[str]:
    """Levels a footprint of ``units`` is assessed against by default.

    NHS units: the manifest's ``defaults.against`` (council levels). Council units: the
    systems level and the finest NHS level (e.g. ICB and sub-ICB location).
    """
    if geo.levels[units].side != "council":
        defaults = geo.manifest.defaults.get("against") if geo.manifest is not None else None
        if not defaults:  # no manifest: council levels covering every block, coarsest first
            whole = [lv for lv in geo.side("council") if bool(geo.lsoa[lv].notna().all())]
            defaults = sorted(whole, key=lambda lv: len(geo.units(lv)))[:2]
        return [lv for lv in defaults if lv in geo.levels]
    nhs = geo.side("nhs")
    systems = geo.manifest.defaults.get("systems") if geo.manifest is not None else None
    out = [lv for lv in (systems, nhs[0] if nhs else None) if lv]
    return list(dict.fromkeys(out))


#: Area mismatches smaller than this (m²) show as 0.0 km²; explanations count them instead.
_SHOWN_AREA = 50_000.0


def _cover(m: FootprintMetrics, names: pd.Series, measure: str) -> str:
    """How a footprint covers its best-fit areas, after "… live in": names and wholeness.

    Examples
    --------
    >>> import pandas as pd
    >>> from coterminus.analysis.metrics import footprint_metrics
    >>> from coterminus.analysis.overlap import OverlapTable
    >>> pairs = pd.DataFrame({"unit": ["F", "G"], "target": ["S", "S"], "value": [80.0, 20.0],
    ...                       "n_blocks": [8, 2]})
    >>> pairs["share_of_unit"] = 1.0
    >>> pairs["share_of_target"] = pairs["value"] / 100
    >>> t = OverlapTable(pairs, pd.Series({"F": 80.0, "G": 20.0}), pd.Series({"S": 100.0}),
    ...                  "population")
    >>> _cover(footprint_metrics(t, ["F"]), pd.Series({"S": "Surrey"}), "population")
    'Surrey, which it does not cover wholly (80.0% of its people live inside the footprint).'
    """
    best = [str(names[c]) for c in m.best_fit]
    whole = [str(names[c]) for c in m.contained if c in set(m.best_fit)]
    part = [n for n in best if n not in set(whole)]
    if not part:
        return f"{join_names(best)}, which it covers wholly."
    if not whole and len(part) == 1:
        s = float(m.by_la["share_of_la"].loc[m.best_fit[0]])
        of = "of its people live" if measure == "population" else "of its area lies"
        return f"{part[0]}, which it does not cover wholly ({s:.1%} {of} inside the footprint)."
    if not whole:
        return f"{join_names(part)}, none of which it covers wholly."
    return (
        f"{join_names(best)}; it covers {join_names(whole)} wholly and {join_names(part)} in part."
    )


def resolve_footprint(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    units: str | None = None,
) -> tuple[list[str], str, str]:
    """Turn unit codes/names (or a system) into sorted codes, a display name and their level.

    Raises :class:`FootprintError` (empty, duplicates, mixed levels), :class:`UnknownAreaError`
    (with suggestions) and :class:`VintageMismatchError` (a code of another vintage).
    """
    unit_level = geo.resolve_level(units) if units else None
    if system is not None:
        code, glevel = resolve_group(geo, system, units=unit_level)  # systems level first
        if unit_level is None and not any(geo.groups(glevel, n) for n in geo.level_names):
            unit_level = glevel  # a group of nothing finer (an ICB of 2026) is the footprint
        members = geo.members(code, unit_level, within=glevel)
        if not members:
            msg = f"no {unit_level or 'unit'} lies wholly inside {geo.name(code)} ({code}); pass units=."
            raise FootprintError(msg)
        level = unit_level or geo.level_of(members[0])
        return members, f"{geo.name(code)} ({code})", level
    if footprint is None:
        msg = "give the footprint as unit codes/names, or system='<name or code>'."
        raise FootprintError(msg)
    items = [footprint] if isinstance(footprint, str) else list(footprint)
    if not items:
        msg = "the footprint is empty; give at least one code or name."
        raise FootprintError(msg)
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    other: list[str] = []
    for q in items:
        try:
            code = geo.code(q, unit_level)
        except UnknownAreaError as exc:
            hint = geo.other_vintage(str(q).strip())
            (other if hint else problems).append(hint or str(exc.args[0] if exc.args else exc))
            continue
        found.append((code, unit_level or geo.level_of(code)))
    if other:
        raise VintageMismatchError("; ".join(other) + " A footprint must use one vintage.")
    if problems:
        raise UnknownAreaError("; ".join(problems))
    codes = [c for c, _ in found]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        msg = f"the footprint names {dupes} more than once (maybe by code and by name); list each once."
        raise FootprintError(msg)
    levels = sorted({lv for _, lv in found})
    if len(levels) > 1:
        listing = ", ".join(f"{c} ({lv})" for c, lv in found)
        msg = (
            f"the footprint mixes levels {levels}: {listing}; give units of one level "
            "(or name it with units=, --units on the command line)."
        )
        raise FootprintError(msg)
    level = levels[0]
    codes = sorted(codes)
    if len(codes) == 1:
        return codes, geo.name(codes[0]), level
    return codes, f"merger of {len(codes)} {geo.label(level, plural=True)}", level


@dataclass
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row: the verdicts and headline figures, with ``coterminous_<level>`` and
        ``coterminosity_index_<level>`` for every level assessed against.
    by_la : pandas.DataFrame
        One row per council (or area of each level assessed against) the footprint touches, with
        its share inside the footprint, status and best-fit flag; column ``tier`` is its level.
    mismatch : pandas.DataFrame
        Who is outside: one row per area and direction (``footprint_outside_la_set`` — people
        of the footprint in areas outside its best-fit set; ``la_set_outside_footprint`` —
        people of best-fit areas outside the footprint), with people, LSOAs and the units.
    tiers : dict
        :class:`FootprintMetrics` per level assessed against.
    system : SystemAlignment or None
        Test I (``None`` when the units have no grouping level).
    units, against, within : str, list of str, str or None
        The footprint's level, the levels assessed against, and test I's level.
    """

    geo: Geography = field(repr=False)
    name: str
    members: list[str]
    tier: str
    measure: str
    tiers: dict[str, FootprintMetrics]
    system: SystemAlignment | None
    summary: pd.DataFrame = field(repr=False)
    by_la: pd.DataFrame = field(repr=False)
    mismatch: pd.DataFrame = field(repr=False)
    units: str = "ccg"
    against: list[str] = field(default_factory=list)
    within: str | None = None

    def __repr__(self) -> str:
        m = self.tiers[self.tier]
        verdict = "coterminous" if m.coterminous else "not coterminous"
        return (
            f"<Assessment {self.name} ({self.geo.vintage}): {verdict} with "
            f"{self.geo.label(self.tier, plural=True)}, J = {m.index:.4f}, ε = {m.tolerance}>"
        )

    @property
    def metrics(self) -> FootprintMetrics:
        """Metrics against the headline level (:attr:`tier`)."""
        return self.tiers[self.tier]

    def mismatch_lsoas(self, tier: str | None = None) -> pd.DataFrame:
        """The building blocks (LSOAs, with people) behind every mismatch against a level.

        One row per LSOA that is in the footprint but in an area outside the best-fit set, or in
        a best-fit area but outside the footprint.
        """
        level = self.geo.resolve_level(tier) if tier else self.tier
        m = self.tiers[level]
        lsoa = self.geo.lsoa
        in_f = lsoa[self.units].isin(self.members)
        in_u = lsoa[level].isin(m.best_fit)
        rows = lsoa[in_f ^ in_u].copy()
        rows["direction"] = in_f[in_f ^ in_u].map(
            {True: "footprint_outside_la_set", False: "la_set_outside_footprint"}
        )
        cols = ["name", "direction", self.units, level, "population"]
        return rows[cols].sort_values(
            ["direction", level, "population"], ascending=[True, True, False], na_position="last"
        )

    def places(
        self,
        *,
        band: tuple[int, int] = PLACE_BAND,
        tolerance: float | None = None,
        top: int = 5,
        max_las: int = MAX_UNITS,
        overrides: dict[tuple[str, str], bool] | None = None,
        level: str | None = None,
    ) -> Places:
        """Place sizes of this footprint (see :func:`coterminus.analysis.places.places` for
        the parameters)."""
        return places(
            self.geo,
            self.members,
            band=band,
            tolerance=tolerance,
            top=top,
            max_las=max_las,
            overrides=overrides,
            units=self.units,
            level=level,
        )

    def _sentence_for(self, level: str) -> list[str]:
        m = self.tiers[level]
        geo, measure = self.geo, self.measure
        names = geo.units(level)["name"]
        people = measure == "population"
        fp = f"the merged {geo.label(self.units)}" if len(self.members) > 1 else self.name
        verb = "live in" if people else "lies in"
        lines = []
        inside = m.total - m.outside_best_fit
        share = inside / m.total if m.total else 0.0
        if m.best_fit:
            lines.append(
                f"{share:.1%} of {fp}'s {amount(m.total, measure)} {verb} "
                + _cover(m, names, measure)
            )
        else:
            touched = m.by_la[m.by_la["in_footprint"] > 0]
            if touched.empty:
                lines.append(f"{fp[0].upper()}{fp[1:]} lies in no {geo.label(level)}.")
            else:
                lines.append(
                    f"{fp[0].upper()}{fp[1:]} does not hold the majority of any {geo.label(level)}"
                    + "; it touches "
                    + join_names(
                        [
                            f"{names[str(c)]} ({r['share_of_footprint']:.1%} of the footprint; "
                            f"{amount(r['in_footprint'], measure)} inside, "
                            f"{amount(r['outside_footprint'], measure)} outside)"
                            for c, r in touched.iterrows()
                        ]
                    )
                    + "."
                )
        out_f = self.mismatch[self.mismatch["tier"] == level]
        shown = out_f[out_f["amount"] >= _SHOWN_AREA] if not people else out_f
        for _, r in shown.iterrows():
            if r["direction"] == "footprint_outside_la_set":
                what = f"{amount(r['amount'], measure)} of the footprint"
                lines.append(f"{what} {verb} {r['la_name']}, which it does not mostly cover.")
            else:
                lines.append(
                    f"{amount(r['amount'], measure)} of {r['la_name']} "
                    f"{'are' if people else 'lies'} outside it."
                )
        tiny = len(out_f) - len(shown)
        if tiny:
            lines.append(
                f"{tiny} more {geo.label(level, plural=tiny != 1)} "
                f"{'differs' if tiny == 1 else 'differ'} from it by less than "
                f"{amount(_SHOWN_AREA, measure)}{'' if tiny == 1 else ' each'}."
            )
        verdict = "is" if m.coterminous else "is not"
        lines.append(
            f"Test II ({geo.label(level, plural=True)}): it {verdict} coterminous with "
            f"{'one or more whole ' + geo.label(level, plural=True) if m.best_fit else 'any ' + geo.label(level)} "
            f"(coterminosity index J = {m.index:.4f}; tolerance ε = {m.tolerance:g}, so "
            f"J ≥ {1 - m.tolerance:g} counts as coterminous)."
        )
        return lines

    def explain(self, levels: Sequence[str] | None = None) -> str:
        """A plain-language paragraph a board paper can quote (wording follows the measure).

        Parameters
        ----------
        levels : sequence of str, optional
            Levels to explain; default the headline level only.
        """
        lines: list[str] = []
        stamp = self.geo.modified_data
        for level in levels or [self.tier]:
            lines += self._sentence_for(self.geo.resolve_level(level))
        if self.system is not None and self.within is not None:
            names = self.geo.units(self.within)["name"]
            label = self.geo.label(self.within)
            dom = str(names.get(self.system.dominant, self.system.dominant))
            if self.system.within_one_system:
                lines.append(f"Test I: it lies within one {label}, {dom}.")
            else:
                lines.append(
                    f"Test I: it crosses {self.geo.label(self.within, plural=True)} — "
                    f"{self.system.dominant_share:.1%} is in {dom}, the rest in "
                    f"{len(self.system.shares) - 1} other {label}(s)."
                )
        if stamp:
            lines.append(stamp)
        return " ".join(lines)

    def to_dict(self) -> dict[str, object]:
        """Plain-Python form of the whole assessment (JSON-ready)."""
        units = self.geo.units(self.units)["name"]
        out: dict[str, Any] = {
            "name": self.name,
            "vintage": self.geo.vintage,
            "units": self.units,
            "members": [{"code": c, "name": str(units[c])} for c in self.members],
            "tier": self.tier,
            "against": list(self.against),
            "measure": self.measure,
            "tiers": {t: m.to_dict() for t, m in self.tiers.items()},
            "summary": json.loads(self.summary.to_json(orient="records"))[0],
            "by_la": json.loads(self.by_la.reset_index().to_json(orient="records")),
            "mismatch": json.loads(self.mismatch.to_json(orient="records")),
            "explanation": self.explain(),
        }
        stamp = self.geo.modified_data
        if stamp:
            out["modified_data"] = stamp
        if self.system is not None:
            names = (
                self.geo.units(self.within or "")["name"] if self.within else pd.Series(dtype=str)
            )
            out["test_i"] = {
                "level": self.within,
                "dominant_system": self.system.dominant,
                "dominant_system_name": str(names.get(self.system.dominant, "")),
                "dominant_share": float(self.system.dominant_share),
                "within_one_system": bool(self.system.within_one_system),
                "tolerance": self.system.tolerance,
            }
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=indent)


def _mismatch_rows(
    people: OverlapTable, members: list[str], names: pd.Series, m: FootprintMetrics
) -> list[dict[str, Any]]:
    """One row per council of ``m`` that is not whole on its side: who and what lies across.

    ``people`` is the population overlap table of the units against the council's level, so
    the people and LSOAs of each mismatch are sums of its pairs: a best-fit council's part
    outside the footprint is its total less the members' pairs (blocks outside every unit
    included), a council's part inside the footprint is the members' pairs.
    """
    pairs = people.pairs
    target = pairs["target"].to_numpy()
    mine = pairs["unit"].isin(members).to_numpy()
    rows = []
    for code, r in m.by_la.iterrows():
        if r["best_fit"] and r["outside_footprint"] > 0:
            direction, amount = "la_set_outside_footprint", r["outside_footprint"]
        elif not r["best_fit"] and r["in_footprint"] > 0:
            direction, amount = "footprint_outside_la_set", r["in_footprint"]
        else:
            continue
        at = target == code
        inside = pairs[at & mine]
        n_people, n_lsoa = int(inside["value"].sum()), int(inside["n_blocks"].sum())
        across = inside
        if direction == "la_set_outside_footprint":  # the council's blocks not in the footprint
            across = pairs[at & ~mine]
            n_people = int(people.target_totals.get(code, 0)) - n_people
            n_lsoa = int(people.target_blocks.get(code, 0)) - n_lsoa
        rows.append(
            {
                "tier": people.target_level,
                "la": code,
                "la_name": str(names.get(code, code)),
                "direction": direction,
                "amount": amount,
                "people": n_people,
                "n_lsoa": n_lsoa,
                "units": ", ".join(sorted(across["unit"].unique())),
            }
        )
    return rows


def assess(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tier: str | None = None,
    measure: Literal["population", "area"] = "population",
    tolerance: float | None = None,
) -> Assessment:
    """Assess a footprint against merger tests I and II.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario added).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names (e.g. ``["05A", "South Warwickshire", "E38000195"]``,
        or ICBs ``["QWU", "QJ2"]``), all of one level.
    system : str, optional
        Instead of ``footprint``: every unit of this group (an STP/ICS, ICB, NHS region,
        county...).
    units : str, optional
        Level of the footprint's members (default: the level the codes belong to; for
        ``system``, the finest level it groups).
    against : str or sequence of str, optional
        Levels to assess against (default :func:`default_against`: upper and lower tier, plus
        combined authorities where the vintage has them, for NHS footprints).
    within : str, optional
        Level for test I (default: the level grouping ``units``, e.g. STP for CCGs).
    tier : str, optional
        Headline level of the verdict (default the first of ``against``).
    measure : {"population", "area"}, default "population"
    tolerance : float, optional
        ε; default 0.005 (population) or 0.03 (area).

    Returns
    -------
    Assessment

    Notes
    -----
    Formulas are in :mod:`coterminus.analysis.metrics` and METHODS.md: for each level l assessed
    against, s_l = m_F[l]/T[l], best fit U = {l : s_l ≥ 0.5} and
    J = Σ_U m_F[l] / (t_F + Σ_U (T[l] − m_F[l])); test II passes iff J ≥ 1 − ε. Test I uses the
    units × ``within`` table: the footprint lies within one group iff its largest share ≥ 1 − ε.
    Levels that cover only part of England (combined authorities) count blocks outside every
    area in t_F, so a footprint outside all of them has J = 0.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> a = coterminus.assess(geo, ["E38000038", "E38000164", "E38000195"])
    >>> a.summary[["coterminous", "coterminosity_index", "best_fit"]]
       coterminous  coterminosity_index                 best_fit
    0         True                  1.0  E08000026, E10000031
    >>> geo24 = coterminus.load(2024)
    >>> a24 = coterminus.assess(geo24, system="Coventry and Warwickshire", units="icb")
    >>> a24.against, a24.tiers["cauth"].index < 0.995
    (['utla', 'ltla', 'cauth'], True)
    """
    if measure not in ("population", "area"):
        msg = f"measure={measure!r}; use 'population' or 'area'."
        raise ParameterError(msg)
    members, name, unit_level = resolve_footprint(geo, footprint, system=system, units=units)
    if against is None:
        levels = default_against(geo, unit_level)
    else:
        levels = [
            geo.resolve_level(a) for a in ([against] if isinstance(against, str) else against)
        ]
    if tier is not None:
        head = geo.resolve_level(tier)
        if head not in levels:
            levels = [head, *levels]
    else:
        head = levels[0] if levels else ""
    if not levels:
        msg = f"nothing to assess {geo.label(unit_level, plural=True)} against; pass against=."
        raise ParameterError(msg)
    if unit_level in levels:
        msg = f"cannot assess {geo.label(unit_level, plural=True)} against their own level; pass against=."
        raise ParameterError(msg)
    tiers = {
        lv: footprint_metrics(
            overlap(geo, unit_level, lv, measure=measure), members, tolerance=tolerance
        )
        for lv in levels
    }
    within_level = geo.resolve_level(within) if within else geo.parent(unit_level)
    align = None
    if within_level is not None:
        align = system_alignment(
            overlap(geo, unit_level, within_level, measure=measure), members, tolerance=tolerance
        )
    by_la_parts = []
    mismatch_rows: list[dict[str, Any]] = []
    for lv, m in tiers.items():
        part = m.by_la.copy()
        part.insert(0, "name", geo.units(lv)["name"].reindex(part.index).to_numpy())
        part.insert(0, "tier", lv)
        by_la_parts.append(part)
        people = overlap(geo, unit_level, lv)  # the population table, whatever the measure
        mismatch_rows += _mismatch_rows(people, members, geo.units(lv)["name"], m)
    by_la = pd.concat(by_la_parts)
    mismatch = pd.DataFrame(
        mismatch_rows,
        columns=["tier", "la", "la_name", "direction", "amount", "people", "n_lsoa", "units"],
    )
    mm = tiers[head]
    lnames = geo.units(head)["name"]
    row: dict[str, Any] = {
        "footprint": name,
        "vintage": geo.vintage,
        "units": unit_level,
        "n_members": len(members),
        "members": ", ".join(members),
        "measure": measure,
        "tier": head,
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
    }
    for lv, m in tiers.items():
        row[f"coterminous_{lv}"] = m.coterminous
        row[f"coterminosity_index_{lv}"] = m.index
    if align is not None:
        row.update(
            within=within_level,
            dominant_system=align.dominant,
            dominant_system_share=align.dominant_share,
            within_one_system=align.within_one_system,
        )
    return Assessment(
        geo=geo,
        name=name,
        members=members,
        tier=head,
        measure=measure,
        tiers=tiers,
        system=align,
        summary=pd.DataFrame([row]),
        by_la=by_la,
        mismatch=mismatch,
        units=unit_level,
        against=levels,
        within=within_level,
    )
