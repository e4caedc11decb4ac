"""The alignment scorecard: is each ICB coterminous with one or more strategic authorities?

The policy of September 2025 asks ICBs to be "coterminous with one or more strategic
authorities wherever feasible". :func:`alignment` answers it for every unit of a level at once
(ICBs by default; a scenario of merged ICBs works the same), from the building blocks alone:

* per unit — coterminous or not (J against the authorities), the authorities it touches and
  splits, the councils it splits, and **the smallest change that would make it coterminous**:
  which councils or LSOAs, how many people, moving to or from which other unit;
* per authority — the units it is split across and the people outside its main one, with the
  authority's own attributes (kind, date established, instrument, ONS code);
* for England — units and people in coterminous units, authorities within one unit, people in
  no authority.

Examples
--------
>>> import coterminus
>>> a = alignment(coterminus.load(2026))
>>> a.totals["units"], a.totals["coterminous"], a.totals["authorities"]
(36, 4, 20)
>>> print(a.explain("E54000057"))  # doctest: +ELLIPSIS
NHS Greater Manchester Integrated Care Board is coterminous with Greater Manchester (J = 1.0000)...
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..vocabulary.words import cap, join_names, pct
from .metrics import check_tolerance, coterminosity_kernel
from .systems import systems_level

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = [
    "UNIT_COLUMNS",
    "Alignment",
    "AlignmentComparison",
    "alignment",
    "authority_level",
    "smallest_change",
]

#: Columns of :attr:`Alignment.units`, as printed and written (CSV and JSON use the same names).
UNIT_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "population",
    "status",
    "J",
    "target",
    "authorities",
    "authorities_split",
    "councils_split",
    "change_people",
    "smallest_change",
)
#: Unit statuses, in the order the summary counts them.
STATUSES: tuple[str, ...] = ("coterminous", "inside one", "not coterminous", "no authority")


def authority_level(geo: Geography) -> str:
    """The level whose units are "authorities" for the scorecard.

    The manifest's ``defaults.authorities``; else the council level that covers only part of
    England with the fewest units (combined authorities); else the coarsest council level.
    """
    named = geo.manifest.defaults.get("authorities") if geo.manifest is not None else None
    if named in geo.levels:
        return str(named)
    council = geo.side("council")
    if not council:
        msg = f"the {geo.vintage} geography has no council level; pass authorities=."
        raise ParameterError(msg)
    partial = [lv for lv in council if geo.partial(lv)]
    return min(partial or council, key=lambda lv: len(geo.units(lv)))


def smallest_change(
    m: np.ndarray, totals: np.ndarray, t_u: float
) -> tuple[np.ndarray, float] | None:
    """The set of authorities S and the people to move so that a unit is exactly their union.

    Parameters
    ----------
    m : ndarray, shape (A,)
        The unit's people in each authority (m[a]).
    totals : ndarray, shape (A,)
        Each authority's people (T[a]).
    t_u : float
        The unit's people (P), including those in no authority.

    Returns
    -------
    (chosen, people) or None
        ``chosen`` is a boolean mask of S; ``people`` = cost(S). ``None`` when the unit touches
        no authority (no change of its own boundary makes it coterminous with one).

    Notes
    -----
    Making the unit exactly the union of a non-empty set S of whole authorities moves its
    people outside S out and the people of S outside it in:
    cost(S) = (P − Σ_{a∈S} m[a]) + Σ_{a∈S} (T[a] − m[a]) = P + Σ_{a∈S} (T[a] − 2 m[a]).
    Each authority adds T[a] − 2 m[a], so the minimum takes every a with m[a] > T[a]/2 (and any
    with m[a] = T[a]/2: taken, as in the best-fit set U = {a : s_a ≥ 0.5} of J). So S = U and
    cost(U) = (t_F − Σ_U m) + Σ_U (T − m), the people behind J < 1. When U is empty, S must still
    hold one authority: the a with the least T[a] − 2 m[a] among those the unit touches (ties:
    the first).

    Examples
    --------
    A unit of 300 people, 300 of them in authority A (400 people) and none elsewhere: take in
    A's other 100 people.

    >>> chosen, people = smallest_change(np.array([300.0, 0.0]), np.array([400.0, 50.0]), 300.0)
    >>> chosen.tolist(), people
    ([True, False], 100.0)
    """
    m = np.asarray(m, dtype=float)
    tot = np.asarray(totals, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(tot > 0, m / np.where(tot > 0, tot, 1.0), 0.0)
    chosen = share >= 0.5
    if not chosen.any():
        touched = np.flatnonzero(m > 0)
        if not len(touched):
            return None
        best = touched[int(np.argmin(tot[touched] - 2 * m[touched]))]
        chosen = np.zeros(len(m), dtype=bool)
        chosen[best] = True
    people = float(t_u + np.sum(np.where(chosen, tot - 2 * m, 0.0)))
    return chosen, people


@dataclass(frozen=True)
class Alignment:
    """The alignment scorecard of one level of units against one level of authorities.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per unit, columns :data:`UNIT_COLUMNS`: ``status`` (``coterminous``: J ≥ 1 − ε
        against the authorities; ``inside one``: not coterminous, but at least 1 − ε of its
        people in one authority; ``no authority``: none of its people in any; else ``not
        coterminous``), ``J``, the authorities it touches (share of its people in each) and
        splits, the councils it splits, ``change_people`` (the people the smallest change moves;
        missing with ``no authority``) and ``smallest_change`` (that change in words).
    authorities : pandas.DataFrame
        One row per authority: ``code``, ``name``, its attributes (e.g. ``kind``,
        ``established``, ``instrument``, ``ons_code``), ``population``, ``n_units`` (units holding
        any of its people), ``main_unit``, ``main_unit_name``, ``share_in_main``,
        ``people_outside_main``, ``within_one_unit`` (share in main ≥ 1 − ε), ``units`` (each
        with its share of the authority) and ``main_coterminous`` (the main unit is coterminous).
    moves : pandas.DataFrame
        The smallest changes block by block, one row per (unit, direction, authority, council,
        other unit): ``unit``, ``direction`` (``out``/``in``), ``authority`` (missing: in no
        authority), ``council`` (finest council level), ``whole_council``, ``n_lsoa``,
        ``people``, ``other_unit`` (where they go or come from; missing when no other unit holds
        any of that council) and the names.
    totals : dict
        England: ``units``, ``coterminous``, ``people_coterminous``, ``inside_one``,
        ``no_authority``, ``authorities``, ``authorities_within_one``, ``people_split``
        (people of authorities split between units), ``people_outside_main``,
        ``people_no_authority``, ``people``.
    """

    units: pd.DataFrame = field(repr=False)
    authorities: pd.DataFrame = field(repr=False)
    moves: pd.DataFrame = field(repr=False)
    totals: dict[str, Any]
    vintage: int | str
    level: str
    authority_level: str
    council_level: str
    tolerance: float
    labels: dict[str, str]
    population_label: str
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<Alignment {self.summary}>"

    @property
    def summary(self) -> str:
        """England in two sentences: coterminous units and people; split authorities."""
        t, lb = self.totals, self.labels
        share = t["people_coterminous"] / t["people"] if t["people"] else 0.0
        text = (
            f"{self.vintage}: {t['coterminous']:,} of the {_count(t['units'], lb['unit'], lb['units'])} "
            f"{'is' if t['coterminous'] == 1 else 'are'} coterminous with one or more whole "
            f"{lb['authorities']} ({t['people_coterminous']:,} people, {pct(share)})"
        )
        if t["inside_one"]:
            text += f"; {t['inside_one']:,} more lie inside one {lb['authority']}"
        if t["no_authority"]:
            text += f"; {t['no_authority']:,} have none of their people in any {lb['authority']}"
        split = t["authorities"] - t["authorities_within_one"]
        text += (
            f". {t['authorities_within_one']:,} of the "
            f"{_count(t['authorities'], lb['authority'], lb['authorities'])} lie within one "
            f"{lb['unit']}; {split:,} {'is' if split == 1 else 'are'} split between "
            f"{lb['units']}, with {t['people_outside_main']:,} people outside their main "
            f"{lb['unit']}."
        )
        if t["people_no_authority"]:
            text += (
                f" {t['people_no_authority']:,} people "
                f"({pct(t['people_no_authority'] / t['people'])}) live in no {lb['authority']}."
            )
        return text

    def explain(self, unit: str) -> str:
        """One unit in words: verdict, authorities touched and split, the smallest change."""
        codes = self.units["code"].astype(str)
        if unit not in set(codes):
            msg = (
                f"{unit!r} is not one of the {self.labels['units']} of this scorecard; use a "
                "code of its units table."
            )
            raise ParameterError(msg)
        row = self.units[codes == unit].iloc[0]
        lb = self.labels
        name = str(row["name"])
        if row["status"] == "no authority":
            text = (
                f"{name} has none of its people in any {lb['authority']}, so no change of its "
                "own boundary makes it coterminous with one."
            )
            if row["councils_split"]:
                text += f" {cap(lb['councils'])} split: {row['councils_split']}."
            return text
        if row["status"] == "coterminous":
            target = join_names(str(row["target"]).split("; "))
            text = f"{name} is coterminous with {target} (J = {row['J']:.4f})"
        else:
            text = f"{name} is not coterminous with any {lb['authority']} (J = {row['J']:.4f})"
            if row["status"] == "inside one":
                text += f"; it lies inside {row['authorities'].split(' (')[0]}"
            text += f"; its people are in {row['authorities']}"
        text += "."
        if row["authorities_split"]:
            text += f" It splits {row['authorities_split']}."
        if row["councils_split"]:
            text += f" {cap(lb['councils'])} split: {row['councils_split']}."
        if int(row["change_people"]) > 0:
            target = join_names(str(row["target"]).split("; "))
            text += f" Smallest change to be exactly {target}: {row['smallest_change']}."
        return text

    def moves_of(self, unit: str) -> pd.DataFrame:
        """The rows of :attr:`moves` of one unit."""
        return self.moves[self.moves["unit"] == unit].reset_index(drop=True)

    def compare(self, other: Alignment) -> AlignmentComparison:
        """Side by side with another scorecard of the same authorities (e.g. a scenario)."""
        return compare_alignments(self, other)

    def to_dict(self) -> dict[str, object]:
        """Everything, JSON-ready: metadata, summary, notes, totals and the three tables."""
        return {
            "vintage": self.vintage,
            "level": self.level,
            "authority_level": self.authority_level,
            "council_level": self.council_level,
            "tolerance": self.tolerance,
            "population": self.population_label,
            "notes": list(self.notes),
            "summary": self.summary,
            "totals": self.totals,
            "units": _records(self.units),
            "authorities": _records(self.authorities),
            "moves": _records(self.moves),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), default=str, **{"indent": 2, **kwargs})


@dataclass(frozen=True)
class AlignmentComparison:
    """Two scorecards side by side (:meth:`Alignment.compare`).

    Attributes
    ----------
    totals : pandas.DataFrame
        One row per England figure, one column per scorecard.
    authorities : pandas.DataFrame
        Per authority: units it is split across and people outside its main unit, in each.
    """

    left: Alignment
    right: Alignment
    totals: pd.DataFrame = field(repr=False)
    authorities: pd.DataFrame = field(repr=False)

    @property
    def summary(self) -> str:
        """The two summaries, one per line."""
        return "\n".join(a.summary for a in (self.left, self.right))

    def to_dict(self) -> dict[str, object]:
        """Both scorecards and the comparison, JSON-ready."""
        return {
            "left": self.left.to_dict(),
            "right": self.right.to_dict(),
            "totals": _records(self.totals.reset_index()),
            "authorities": _records(self.authorities),
        }


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object)
    return [
        {str(k): v for k, v in r.items()} for r in out.where(out.notna(), None).to_dict("records")
    ]


def _names(geo: Geography, level: str) -> pd.Series:
    return geo.units(level)["name"].astype(str)


def _attribute_columns(geo: Geography, level: str) -> list[str]:
    """Columns of ``units(level)`` that are the manifest's attributes of its units."""
    units = geo.units(level)
    skip = {"name", "nhs_code", "population", "n_lsoa", *geo.levels}
    return [c for c in units.columns if c not in skip and not str(c).startswith("n_")]


def _listing(names: Sequence[str], shares: Any) -> str:
    return "; ".join(f"{n} ({pct(s)})" for n, s in zip(names, shares, strict=True))


def _matrix(blocks: pd.DataFrame, rows: str, cols: str) -> pd.DataFrame:
    """People of each (row unit, column unit) pair, from the blocks covered by both."""
    sub = blocks.dropna(subset=[rows, cols])
    return sub.groupby([rows, cols])["population"].sum().unstack(fill_value=0)


def _moves(
    blocks: pd.DataFrame,
    unit: str,
    chosen: set[str],
    cols: dict[str, str],
    main_of: dict[str, str | None],
) -> pd.DataFrame:
    """The blocks the smallest change moves, grouped by direction, authority, council and unit.

    Out: the unit's blocks in no chosen authority go to the unit holding most of their
    authority besides this one (blocks in no authority: most of their council). In: the blocks
    of the chosen authorities held by other units come from those units.
    """
    u, a, f = cols["unit"], cols["authority"], cols["fine"]
    mine = blocks[u] == unit
    out_blocks = blocks[mine & ~blocks[a].isin(chosen)].copy()
    in_blocks = blocks[~mine & blocks[a].isin(chosen)].copy()
    out_blocks["direction"], in_blocks["direction"] = "out", "in"
    out_blocks["other_unit"] = [
        main_of.get(str(x)) if pd.notna(x) else main_of.get(f"{f}:{c}")
        for x, c in zip(out_blocks[a], out_blocks[f], strict=True)
    ]
    in_blocks["other_unit"] = in_blocks[u]
    both = pd.concat([out_blocks, in_blocks])
    if both.empty:
        return pd.DataFrame()
    both["authority"] = both[a]
    both["council"] = both[f]
    keys = ["direction", "authority", "council", "other_unit"]
    grouped = (
        both.groupby(keys, dropna=False)
        .agg(n_lsoa=("population", "size"), people=("population", "sum"))
        .reset_index()
    )
    grouped.insert(0, "unit", unit)
    return grouped


def _change_text(moves: pd.DataFrame, labels: dict[str, str]) -> str:
    """``out 67,137 people (Barrow-in-Furness) to X; in 12,000 people (3 LSOAs of Y) from Z``."""
    parts = []
    for direction, word in (("out", "to"), ("in", "from")):
        sub = moves[moves["direction"] == direction]
        if sub.empty:
            continue
        for other, g in sub.groupby("other_unit_name", dropna=False, sort=False):
            where = [
                str(r.council_name)
                if r.whole_council
                else f"{r.n_lsoa:,} LSOA{'' if r.n_lsoa == 1 else 's'} of {r.council_name}"
                for r in g.sort_values("people", ascending=False).itertuples()
            ]
            shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
            dest = str(other) if pd.notna(other) else f"another {labels['unit']}"
            parts.append(f"{direction} {int(g['people'].sum()):,} people ({shown}) {word} {dest}")
    return "; ".join(parts)


def alignment(
    geo: Geography,
    *,
    units: str | None = None,
    authorities: str | None = None,
    councils: str | None = None,
    tolerance: float | None = None,
) -> Alignment:
    """The alignment scorecard: every unit (ICB) against the authorities (strategic authorities).

    Parameters
    ----------
    geo : Geography
    units : str, optional
        The level scored (default: the vintage's systems level, e.g. ICBs; a scenario level of
        merged ICBs works the same).
    authorities : str, optional
        The level of authorities (default :func:`authority_level`: the manifest's
        ``defaults.authorities``, e.g. strategic authorities in 2026).
    councils : str, optional
        The council level whose splits are listed (default: the first level of the manifest's
        ``defaults.against`` that covers all England and is not ``authorities``, e.g. upper-tier
        councils). Moves are described by the finest council level (lower-tier councils).
    tolerance : float, optional
        ε (default 0.005): coterminous when J ≥ 1 − ε; an authority or council is split by a unit
        holding more than ε and less than 1 − ε of it.

    Returns
    -------
    Alignment

    Notes
    -----
    Population measure, exact from building blocks. For unit u with P people, m[a] of them in
    authority a of T[a] people, s_a = m[a]/T[a], U = {a : s_a ≥ 0.5}:
    J = Σ_U m / (P + Σ_U (T − m)) (:func:`coterminus.analysis.metrics.coterminosity_kernel`);
    coterminous iff J ≥ 1 − ε. Smallest change (:func:`smallest_change`): the set S of whole
    authorities minimising the people moved, cost(S) = P + Σ_{a∈S} (T[a] − 2 m[a]), is S = U
    (one authority when U is empty), and the cost is the people behind J < 1. Its blocks move
    *out* (the unit's blocks in no authority of S, to the unit holding most of their authority
    besides u, or most of their council when they are in no authority) and *in* (the blocks of
    S held by other units, from those units). Per authority a: main unit = argmax_v m[v, a];
    people outside main = T[a] − max_v m[v, a]; within one unit iff max_v m[v, a] ≥ (1 − ε)T[a].

    Examples
    --------
    >>> import coterminus
    >>> a = alignment(coterminus.load(2026))
    >>> a.units.set_index("code").loc["E54000008", ["status", "target"]].tolist()
    ['coterminous', 'Liverpool City Region; Cheshire and Warrington']
    """
    eps = check_tolerance(tolerance, "population")
    u = geo.resolve_level(units) if units else systems_level(geo)
    a = geo.resolve_level(authorities) if authorities else authority_level(geo)
    if councils:
        c = geo.resolve_level(councils)
    else:
        against = geo.manifest.defaults.get("against", []) if geo.manifest is not None else []
        whole = [lv for lv in [*against, *geo.side("council")] if lv in geo.levels]
        whole = [lv for lv in whole if lv != a and not geo.partial(lv)]
        if not whole:
            msg = f"the {geo.vintage} geography has no council level covering England; pass councils=."
            raise ParameterError(msg)
        c = whole[0]
    council_levels = [lv for lv in geo.side("council") if not geo.partial(lv)]
    fine = max(council_levels or [c], key=lambda lv: len(geo.units(lv)))
    if len({u, a, c}) < 3:
        msg = f"units, authorities and councils must be three levels; got {u!r}, {a!r}, {c!r}."
        raise ParameterError(msg)
    labels = {
        "unit": geo.label(u),
        "units": geo.label(u, plural=True),
        "authority": geo.label(a),
        "authorities": geo.label(a, plural=True),
        "council": geo.label(c),
        "councils": geo.label(c, plural=True),
    }
    blocks = geo.lsoa[list(dict.fromkeys([u, a, c, fine, "population"]))].dropna(subset=[u])
    unit_tab = geo.units(u)
    codes = unit_tab.index.astype(str)
    p_u = unit_tab["population"].to_numpy(dtype=float)
    m_ua = _matrix(blocks, u, a).reindex(index=codes, columns=geo.units(a).index, fill_value=0)
    t_a = geo.units(a)["population"].reindex(m_ua.columns).to_numpy(dtype=float)
    k = coterminosity_kernel(m_ua.to_numpy(dtype=float), t_a, p_u, eps)
    m_uc = _matrix(blocks, u, c).reindex(index=codes, columns=geo.units(c).index, fill_value=0)
    t_c = geo.units(c)["population"].reindex(m_uc.columns).to_numpy(dtype=float)
    kc = coterminosity_kernel(m_uc.to_numpy(dtype=float), t_c, p_u, eps)
    a_names, c_names, u_names = _names(geo, a), _names(geo, c), _names(geo, u)
    a_codes = m_ua.columns.astype(str)
    # where moved blocks go: the unit holding most of their authority (or council) besides u
    holders = {"a": m_ua, "f": _matrix(blocks, u, fine)}
    main_by: dict[str, dict[str, list[str]]] = {}
    for key, mat in holders.items():
        order = {}
        for col in mat.columns:
            col_values = mat[col]
            ranked = col_values[col_values > 0].sort_values(ascending=False, kind="stable")
            order[str(col)] = [str(x) for x in ranked.index]
        main_by[key] = order
    rows, move_frames = [], []
    for i, code in enumerate(codes):
        m_row = m_ua.iloc[i].to_numpy(dtype=float)
        touched = np.flatnonzero(m_row > 0)
        touched = touched[np.argsort(-m_row[touched], kind="stable")]
        shares = m_row[touched] / p_u[i] if p_u[i] else m_row[touched] * 0
        inside = float(m_row.sum())
        j = float(k.jaccard[i])
        if inside == 0:
            status = "no authority"
        elif j >= 1.0 - eps:
            status = "coterminous"
        elif float(m_row.max()) >= (1.0 - eps) * p_u[i]:
            status = "inside one"
        else:
            status = "not coterminous"
        split_a = [str(a_names[a_codes[int(x)]]) for x in np.flatnonzero(k.split[i])]
        split_c = [str(c_names[str(x)]) for x in m_uc.columns[kc.split[i]]]
        change = smallest_change(m_row, t_a, p_u[i])
        target, people = "", np.nan
        if change is not None:
            chosen_mask, people = change
            chosen = [str(x) for x in a_codes[chosen_mask]]
            target = "; ".join(str(a_names[x]) for x in chosen)
            main_of: dict[str, str | None] = {}
            for x in a_codes:
                others = [v for v in main_by["a"].get(str(x), []) if v != code]
                main_of[str(x)] = others[0] if others else None
            for f_code, holders_f in main_by["f"].items():
                others = [v for v in holders_f if v != code]
                main_of[f"{fine}:{f_code}"] = others[0] if others else None
            mv = _moves(
                blocks, code, set(chosen), {"unit": u, "authority": a, "fine": fine}, main_of
            )
            if not mv.empty:
                move_frames.append(mv)
        rows.append(
            {
                "code": code,
                "name": str(u_names[code]),
                "population": int(p_u[i]),
                "status": status,
                "J": j,
                "target": target,
                "authorities": _listing([str(a_names[a_codes[int(x)]]) for x in touched], shares),
                "authorities_split": "; ".join(split_a),
                "councils_split": "; ".join(split_c),
                "change_people": people,
            }
        )
    units_frame = pd.DataFrame(rows)
    moves = pd.concat(move_frames, ignore_index=True) if move_frames else pd.DataFrame()
    moves = _name_moves(geo, moves, u, a, fine)
    texts = (
        {code: _change_text(g, labels) for code, g in moves.groupby("unit", sort=False)}
        if not moves.empty
        else {}
    )
    units_frame["change_people"] = units_frame["change_people"].astype("Int64")
    units_frame["smallest_change"] = [texts.get(cd, "") for cd in units_frame["code"]]
    units_frame = units_frame[list(UNIT_COLUMNS)].sort_values("name", kind="stable")
    auth = _authority_table(geo, m_ua, t_a, units_frame, a, eps)
    totals = _totals(units_frame, auth, blocks, a)
    return Alignment(
        units=units_frame.reset_index(drop=True),
        authorities=auth,
        moves=moves,
        totals=totals,
        vintage=geo.vintage,
        level=u,
        authority_level=a,
        council_level=c,
        tolerance=eps,
        labels=labels,
        population_label=str(geo.population_label),
        notes=tuple(geo.notes(u, a, c)),
    )


def _name_moves(geo: Geography, moves: pd.DataFrame, u: str, a: str, fine: str) -> pd.DataFrame:
    """Names, and whether each moving part is a whole council."""
    columns = [
        "unit", "unit_name", "direction", "authority", "authority_name", "council",
        "council_name", "whole_council", "n_lsoa", "people", "other_unit", "other_unit_name",
    ]  # fmt: skip
    if moves.empty:
        return pd.DataFrame(columns=columns)
    size = geo.units(fine)["n_lsoa"]
    moves = moves.copy()
    moves["whole_council"] = moves["n_lsoa"].to_numpy() == size.reindex(moves["council"]).to_numpy()
    for col, level in (("unit", u), ("authority", a), ("council", fine), ("other_unit", u)):
        names = _names(geo, level)
        moves[f"{col}_name"] = [names.get(x) if pd.notna(x) else None for x in moves[col]]
    moves["people"] = moves["people"].astype("int64")
    moves["n_lsoa"] = moves["n_lsoa"].astype("int64")
    return (
        moves[columns]
        .sort_values(
            ["unit_name", "direction", "people"], ascending=[True, False, False], kind="stable"
        )
        .reset_index(drop=True)
    )


def _authority_table(
    geo: Geography,
    m_ua: pd.DataFrame,
    t_a: np.ndarray,
    units_frame: pd.DataFrame,
    a: str,
    eps: float,
) -> pd.DataFrame:
    """Per authority: the units it is split across and the people outside its main unit."""
    a_units = geo.units(a)
    u_names = units_frame.set_index("code")["name"]
    coterminous = set(units_frame.loc[units_frame["status"] == "coterminous", "code"])
    rows = []
    for j, code in enumerate(m_ua.columns.astype(str)):
        col = m_ua.iloc[:, j]
        held = col[col > 0].sort_values(ascending=False, kind="stable")
        total = float(t_a[j])
        main = str(held.index[0]) if len(held) else None
        top = float(held.iloc[0]) if len(held) else 0.0
        row: dict[str, Any] = {"code": code, "name": str(a_units.at[code, "name"])}
        for attr in _attribute_columns(geo, a):
            row[attr] = a_units.at[code, attr]
        row.update(
            {
                "population": int(total),
                "n_units": len(held),
                "main_unit": main,
                "main_unit_name": None if main is None else str(u_names.get(main, main)),
                "share_in_main": top / total if total else 0.0,
                "people_outside_main": int(total - top),
                "within_one_unit": bool(total and top >= (1.0 - eps) * total),
                "units": _listing([str(u_names.get(x, x)) for x in held.index], held / total)
                if total
                else "",
                "main_coterminous": main in coterminous,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows).sort_values("name", kind="stable").reset_index(drop=True)


def _totals(
    units: pd.DataFrame, auth: pd.DataFrame, blocks: pd.DataFrame, a: str
) -> dict[str, Any]:
    status = units["status"]
    cot = units[status == "coterminous"]
    split = auth[~auth["within_one_unit"]]
    return {
        "units": len(units),
        "coterminous": len(cot),
        "people_coterminous": int(cot["population"].sum()),
        "inside_one": int((status == "inside one").sum()),
        "no_authority": int((status == "no authority").sum()),
        "authorities": len(auth),
        "authorities_within_one": int(auth["within_one_unit"].sum()),
        "people_split": int(split["population"].sum()),
        "people_outside_main": int(auth["people_outside_main"].sum()),
        "people_no_authority": int(blocks.loc[blocks[a].isna(), "population"].sum()),
        "people": int(units["population"].sum()),
    }


#: Rows of :attr:`AlignmentComparison.totals`: (key of :attr:`Alignment.totals`, words).
_TOTAL_ROWS: tuple[tuple[str, str], ...] = (
    ("units", "units"),
    ("coterminous", "coterminous with one or more authorities"),
    ("people_coterminous", "people in coterminous units"),
    ("inside_one", "inside one authority"),
    ("no_authority", "in no authority"),
    ("authorities_within_one", "authorities within one unit"),
    ("people_split", "people of authorities split between units"),
    ("people_outside_main", "people outside their authority's main unit"),
)


def compare_alignments(left: Alignment, right: Alignment) -> AlignmentComparison:
    """Two scorecards side by side; they must score the same authorities.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.scenario(coterminus.load(2026), "icb-clusters-2027")
    >>> c = alignment(geo).compare(alignment(geo, units="icb_2027"))
    >>> [int(x) for x in c.totals.loc["units"]], [int(x) for x in c.totals.loc["coterminous"]]
    ([36, 26], [4, 4])
    """
    if left.authority_level != right.authority_level or set(left.authorities["code"]) != set(
        right.authorities["code"]
    ):
        msg = (
            f"the two scorecards score different authorities ({left.authority_level}, "
            f"{right.authority_level}); compare scorecards of the same authorities."
        )
        raise ParameterError(msg)
    names = [left.labels["units"], right.labels["units"]]
    if names[0] == names[1]:
        names = [f"{names[0]} ({left.level})", f"{names[1]} ({right.level})"]
    totals = pd.DataFrame(
        {
            names[0]: [left.totals[k] for k, _ in _TOTAL_ROWS],
            names[1]: [right.totals[k] for k, _ in _TOTAL_ROWS],
        },
        index=pd.Index([k for k, _ in _TOTAL_ROWS], name="figure"),
    )
    keep = ["code", "name", "n_units", "main_unit_name", "people_outside_main"]
    joined = left.authorities[keep].merge(
        right.authorities[keep], on=["code", "name"], suffixes=(f"_{left.level}", f"_{right.level}")
    )
    return AlignmentComparison(left=left, right=right, totals=totals, authorities=joined)
