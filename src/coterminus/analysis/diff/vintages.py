"""Compare two vintages of a level by LSOA membership: mergers, splits and boundary transfers.

CCGs, STPs and local authorities are built from whole 2011 LSOAs, so the change between two
vintages of a level is exactly described by where each LSOA went. :func:`diff_membership` is the
pure core (two Series mapping LSOA code → unit code, plus LSOA populations); :func:`diff` takes two
loaded geographies (:func:`coterminus.load`) and a level; :func:`diff_vintages` loads them first
(this is what ``coterminus diff --level ccg --from 2019 --to 2020`` runs).

>>> import pandas as pd
>>> old = pd.Series({"L1": "A", "L2": "A", "L3": "B", "L4": "C"})
>>> new = pd.Series({"L1": "M", "L2": "M", "L3": "M", "L4": "Z"})
>>> d = diff_membership(old, new, level="ccg", old_vintage=2019, new_vintage=2020)
>>> print(d.summary)  # doctest: +NORMALIZE_WHITESPACE
2 new CCGs formed from 3 of the 3 CCGs of 2019 (2 CCGs in 2020). Geographically: 1 pure
merger of 2; 1 unchanged (1 with a new code); no LSOA moved between units.

Vintages on different building blocks (LSOA 2011 up to 2022, LSOA 2021 from 2023) are compared
on the new blocks after carrying the old units across the ONS change lookup
(:func:`cross_membership`); levels with different names are compared as a pair, e.g.
``diff(geo21, geo22, level=("ccg", "sicbl"))``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ...data import catalog, locations
from ...errors import DataDirError, ParameterError, VintageMismatchError
from ...geography.bundle import load
from ...vocabulary.levels import normalise_level
from ..overlap import pair_sums
from ._core import (
    NEW_MERGER,
    NEW_SPLIT,
    NEW_UNCHANGED,
    REL_RETAINED,
    REL_TRANSFER,
    as_names,
    check_inputs,
    classify,
    examples,
    names_from,
    nouns_of,
)
from ._crossing import BlockCrossing, cross_membership
from ._text import noun, summary_line

__all__ = [
    "CHANGES",
    "NEW_KINDS",
    "OLD_KINDS",
    "RELATIONS",
    "BlockCrossing",
    "VintageDiff",
    "cross_membership",
    "diff",
    "diff_membership",
    "diff_vintages",
]

log = logging.getLogger(__name__)

#: Kinds of new unit, in the order the summary lists them.
NEW_KINDS: tuple[str, ...] = ("unchanged", "merger", "boundary change", "split")
#: Kinds of old unit.
OLD_KINDS: tuple[str, ...] = ("unchanged", "merged", "gained", "transferred", "split")
#: Relation of an (old, new) pair of units in :attr:`VintageDiff.table`.
RELATIONS: tuple[str, ...] = ("unchanged", "merged", "retained", "split", "transfer")
#: How each new unit came about (``new_units.change``), in the order the summary lists them.
CHANGES: tuple[str, ...] = ("merger", "merger with transfers", "split", "transfer", "unchanged")

#: Other words for a level, used when a geography has no column of the word itself.
#: Columns of ``geo.lsoa`` that are not levels.
_NOT_LEVELS: frozenset[str] = frozenset({"population", "name"})


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VintageDiff:
    """How the units of one level changed between two vintages.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy, one row per (old unit, new unit) pair that share at least one LSOA: ``old_code``,
        ``old_name``, ``new_code``, ``new_name``, ``n_lsoa``, ``population``, ``relation``
        (one of :data:`RELATIONS`). Sorted by ``old_code`` then ``new_code``.
    new_units : pandas.DataFrame
        One row per new unit (index ``code``): ``name``, ``kind`` (one of :data:`NEW_KINDS`),
        ``sources`` (list of old codes, largest contribution first), ``n_sources``, ``n_lsoa``,
        ``population``, ``n_lsoa_in`` and ``population_in`` (moved in by transfers),
        ``code_changed`` (an unchanged unit under a new code), ``predecessors`` (old units
        that continue as this unit: whole old units in it, and the old unit it continues, largest
        first), ``n_predecessors``, and ``change`` (one of :data:`CHANGES`).
    old_units : pandas.DataFrame
        One row per old unit (index ``code``): ``name``, ``kind`` (one of :data:`OLD_KINDS`),
        ``destinations`` (list of new codes, largest share first), ``n_destinations``,
        ``n_lsoa``, ``population``, ``n_lsoa_out`` and ``population_out`` (moved out by
        transfers), ``successor`` (the new unit it became, merged into or continues as; missing
        for a split unit).
    summary : str
        One line that leads with the count to compare with published statements, e.g.
        ``"135 CCGs in 2020: 18 formed from 74 of the 191 of 2019 (16 pure mergers of 67, ..."``.
    level : str or None
        The level, or ``"old → new"`` when two levels are compared.
    old_vintage, new_vintage : int, str or None
    old_level, new_level : str or None
    crossing : BlockCrossing or None
        How the old units were carried onto the new building blocks, when the two vintages are
        built from different blocks (see :func:`diff`); ``None`` otherwise.

    Notes
    -----
    ``population`` columns are ``int64`` when populations were given, else nullable ``Int64``
    holding ``<NA>``.
    """

    table: pd.DataFrame = field(repr=False)
    new_units: pd.DataFrame = field(repr=False)
    old_units: pd.DataFrame = field(repr=False)
    summary: str
    level: str | None = None
    old_vintage: int | str | None = None
    new_vintage: int | str | None = None
    old_level: str | None = None
    new_level: str | None = None
    crossing: BlockCrossing | None = field(default=None, repr=False)
    nouns: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"<VintageDiff {self.summary}>"

    @property
    def transfers(self) -> pd.DataFrame:
        """Rows of :attr:`table` where LSOAs moved outside whole-unit mergers and splits."""
        return self.table.loc[self.table["relation"] == "transfer"].reset_index(drop=True)

    @property
    def counts(self) -> dict[str, Any]:
        """Counts behind :attr:`summary` (plain ``int``; ``moved_population`` may be ``None``).

        ``merger_sources``: old units that make up the mergers. ``boundary_sources``: distinct
        old units giving LSOAs to boundary-change units. ``split_into``: distinct new units that
        received LSOAs from split old units. ``change``: new units per :data:`CHANGES`;
        ``formed_by_merging`` / ``merged_from``: new units formed from two or more old units
        (with or without transfers) and the old units they continue; ``pure_merger_sources`` /
        ``transfer_merger_sources``: the same split by kind. ``new_codes``: new units whose code
        no old unit had (what official statements count as new); ``new_code_sources``: the old
        units with LSOAs in them. ``crossing``: counts of :attr:`crossing` (or ``None``).
        """
        nu, ou, tab = self.new_units, self.old_units, self.table
        new_kind = nu["kind"].value_counts()
        old_kind = ou["kind"].value_counts()
        moved = tab.loc[tab["relation"] == "transfer"]
        has_pop = bool(tab["population"].notna().all())
        boundary = nu.index[nu["kind"] == "boundary change"]
        split_old = ou.index[ou["kind"] == "split"]
        change = nu["change"].value_counts()
        pred = nu.groupby("change")["n_predecessors"].sum()
        pure, with_transfers = (int(pred.get(k, 0)) for k in CHANGES[:2])
        fresh = nu.index[nu["new_code"]]
        return {
            "new_codes": len(fresh),
            "new_code_sources": int(tab.loc[tab["new_code"].isin(fresh), "old_code"].nunique()),
            "old_units": len(ou),
            "new_units": len(nu),
            "new": {k: int(new_kind.get(k, 0)) for k in NEW_KINDS},
            "old": {k: int(old_kind.get(k, 0)) for k in OLD_KINDS},
            "code_changes": int((nu["code_changed"] & (nu["kind"] == "unchanged")).sum()),
            "merger_sources": int(nu.loc[nu["kind"] == "merger", "n_sources"].sum()),
            "boundary_sources": int(tab.loc[tab["new_code"].isin(boundary), "old_code"].nunique()),
            "split_into": int(tab.loc[tab["old_code"].isin(split_old), "new_code"].nunique()),
            "moved_lsoa": int(moved["n_lsoa"].sum()),
            "moved_population": int(moved["population"].sum()) if has_pop else None,
            "change": {k: int(change.get(k, 0)) for k in CHANGES},
            "formed_by_merging": int(change.get(CHANGES[0], 0) + change.get(CHANGES[1], 0)),
            "merged_from": pure + with_transfers,
            "pure_merger_sources": pure,
            "transfer_merger_sources": with_transfers,
            "crossing": None if self.crossing is None else dict(self.crossing.counts),
        }

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict: metadata, summary, counts and the three tables as records.

        Examples
        --------
        >>> import json, pandas as pd
        >>> d = diff_membership(pd.Series({"L1": "A"}), pd.Series({"L1": "A"})).to_dict()
        >>> d["counts"]["change"]["unchanged"], d["new_units"][0]["kind"]
        (1, 'unchanged')
        >>> _ = json.dumps(d)
        """

        def records(df: pd.DataFrame, index: str | None) -> list[dict[str, Any]]:
            frame = df.reset_index() if index else df
            rows: list[dict[str, Any]] = json.loads(
                frame.to_json(orient="records", force_ascii=False)
            )
            return rows

        crossing = None
        if self.crossing is not None:
            c = self.crossing
            crossing = {
                "old_block": c.old_block,
                "new_block": c.new_block,
                "source": c.source,
                "counts": c.counts,
                "population": c.population,
                "ambiguous": records(c.ambiguous, None),
            }
        return {
            "level": self.level,
            "old_level": self.old_level,
            "new_level": self.new_level,
            "old_vintage": self.old_vintage,
            "new_vintage": self.new_vintage,
            "summary": self.summary,
            "counts": self.counts,
            "table": records(self.table, None),
            "new_units": records(self.new_units, "code"),
            "old_units": records(self.old_units, "code"),
            "crossing": crossing,
        }


# --------------------------------------------------------------------------------------------
# public core
# --------------------------------------------------------------------------------------------
def _set_object_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Make optional-text columns ``object`` with ``None`` for missing (stable across pandas).

    pandas 3 would infer its ``str`` dtype, turning a missing name into ``NaN``.
    """
    for col in columns:
        values = np.array(frame[col].to_numpy(dtype=object), dtype=object)  # writable copy
        values[pd.isna(values)] = None
        frame[col] = pd.Series(values, index=frame.index, dtype=object)


def diff_membership(
    old: pd.Series,
    new: pd.Series,
    population: pd.Series | None = None,
    *,
    old_names: pd.Series | Mapping[str, str] | None = None,
    new_names: pd.Series | Mapping[str, str] | None = None,
    level: str | None = None,
    old_level: str | None = None,
    new_level: str | None = None,
    old_vintage: int | str | None = None,
    new_vintage: int | str | None = None,
    nouns: Mapping[str, tuple[str, str]] | None = None,
) -> VintageDiff:
    """Compare two memberships of the same LSOAs (old and new vintage of one level).

    Parameters
    ----------
    old, new : pandas.Series
        LSOA code → unit code (e.g. ``lookup19["ccg"]`` and ``lookup20["ccg"]``). Both must
        cover exactly the same LSOAs.
    population : pandas.Series, optional
        People per LSOA code (extra codes, e.g. Welsh LSOAs, are ignored). Without it the
        ``population`` columns hold ``<NA>`` and the summary counts LSOAs only.
    old_names, new_names : Series, mapping or DataFrame with a ``name`` column, optional
        Unit code → name. Default: none (names ``<NA>``).
    level : str, optional
        Level of both, for the summary (``"ccg"`` → ``"CCGs"``). Default: the Series ``name``.
    old_level, new_level : str, optional
        Levels of ``old`` and ``new`` when they differ (e.g. ``"ccg"`` and ``"sicbl"``);
        default ``level``.
    old_vintage, new_vintage : int or str, optional
        Vintages for the summary. Default: ``attrs["vintage"]`` of ``old`` / ``new`` when
        present.
    nouns : mapping of level to (singular, plural), optional
        What the summary calls the units of a level (default: the vocabulary's words, e.g.
        ``("CCG", "CCGs")``; ``"<level> unit(s)"`` for other levels).

    Returns
    -------
    VintageDiff

    Raises
    ------
    ParameterError
        ``old``/``new``/``population`` of the wrong type.
    LookupMismatchError
        The two memberships do not cover the same LSOAs, or an LSOA has no unit.
    DuplicateCodeError, EmptyDataError, PopulationError
        Duplicate LSOAs, empty input, population missing for an LSOA or not a whole number ≥ 0.
    VintageMismatchError
        ``old_vintage`` is later than ``new_vintage``.

    Notes
    -----
    Let :math:`X[o, n]` be the LSOAs (and people) of old unit :math:`o` that lie in new unit
    :math:`n` — the crosstab, kept sparse as one :attr:`VintageDiff.table` row per non-empty
    pair. Old unit :math:`o` is *whole* in :math:`n` when all its LSOAs are in :math:`n`. The
    *main source* of :math:`n` is the old unit giving it most LSOAs (ties: most people, then the
    lower code); :math:`o` *leads* every new unit it is the main source of.

    New units (``new_units.kind``):

    * **unchanged** — exactly one old unit, whole in :math:`n`, and nothing else: identical LSOA
      sets, even under a new code (``code_changed``).
    * **merger** — the union of two or more whole old units and nothing else.
    * **split** — formed from part of one old unit that was split (below).
    * **boundary change** — anything else: LSOAs moved in from a unit that did not move wholly,
      or the remainder of an old unit that lost LSOAs (a new unit formed from part of one old
      unit that it continues is *not* a split product).

    Old units (``old_units.kind``):

    * **unchanged** — its new unit is identical.
    * **merged** — whole into a new unit holding another whole old unit, or whole into a unit led
      by another old unit (absorbed).
    * **gained** — whole into a new unit it leads, which also took LSOAs from units that did not
      move wholly.
    * **transferred** — in two or more new units and leads exactly one (it continues, having lost
      LSOAs).
    * **split** — in two or more new units and leads two or more of them, or none (shared out
      among units led by others).

    Pairs (``table.relation``): ``unchanged``; ``merged`` (a whole-unit move, as above);
    ``retained`` (the LSOAs a continuing unit keeps); ``split`` (the part of a split unit that
    leads a new unit); ``transfer`` (every other pair: LSOAs moved not as part of a whole-unit
    merger). The summary counts new units by kind, the old units that are sources of mergers, the
    LSOAs and people in ``transfer`` pairs, and old units that were split. Every LSOA is in
    exactly one pair, so ``table.n_lsoa`` and ``table.population`` sum to the totals; the old
    kinds partition the old units and the new kinds the new units.

    Examples
    --------
    A and B merge into M; C is renamed Z; two of D's three LSOAs go to E. M and Z are new codes,
    formed from A, B and C:

    >>> import pandas as pd
    >>> lsoas = [f"L{i}" for i in range(1, 10)]
    >>> old = pd.Series(list("ABCDDDEEE"), index=lsoas)
    >>> new = pd.Series(list("MMZDEEEEE"), index=lsoas)
    >>> pop = pd.Series(100, index=lsoas)
    >>> d = diff_membership(old, new, pop)
    >>> print(d.summary)  # doctest: +NORMALIZE_WHITESPACE
    2 new units formed from 3 of the 5 old units (4 units in all). Geographically: 1 pure merger
    of 2; 2 with boundary transfers only; 1 unchanged (1 with a new code); 2 LSOAs (200 people)
    moved between units, from D to E.
    >>> d.table[["old_code", "new_code", "n_lsoa", "population", "relation"]]
      old_code new_code  n_lsoa  population   relation
    0        A        M       1         100     merged
    1        B        M       1         100     merged
    2        C        Z       1         100  unchanged
    3        D        D       1         100   retained
    4        D        E       2         200   transfer
    5        E        E       3         300   retained
    >>> d.old_units["kind"].to_dict()
    {'A': 'merged', 'B': 'merged', 'C': 'unchanged', 'D': 'transferred', 'E': 'gained'}
    >>> d.new_units.loc["E", "kind"], d.new_units.loc["E", "sources"]
    ('boundary change', ['E', 'D'])
    """
    pop = check_inputs(old, new, population)
    onames = as_names(old_names, "old_names")
    nnames = as_names(new_names, "new_names")
    if old_level is None:
        old_level = level if level is not None or not isinstance(old.name, str) else old.name
    if new_level is None:
        new_level = level if level is not None or not isinstance(new.name, str) else new.name
    if level is None and old_level is not None:
        level = old_level if new_level in (None, old_level) else f"{old_level} → {new_level}"
    if old_vintage is None:
        old_vintage = old.attrs.get("vintage")
    if new_vintage is None:
        new_vintage = new.attrs.get("vintage")
    old_vintage, new_vintage = _as_vintage(old_vintage), _as_vintage(new_vintage)
    if _later(old_vintage, new_vintage):
        msg = (
            f"old is vintage {old_vintage} but new is vintage {new_vintage}; the diff runs "
            "forwards in time. Swap the arguments (old first)."
        )
        raise VintageMismatchError(msg)

    new_aligned = new.reindex(old.index)
    old_idx, old_codes = pd.factorize(old.astype(str), sort=True)
    new_idx, new_codes = pd.factorize(new_aligned.astype(str), sort=True)
    n_old, n_new = len(old_codes), len(new_codes)
    weight = np.zeros(len(old), dtype=np.int64) if pop is None else pop.to_numpy()
    p_old, p_new, p_lsoa, p_sum = pair_sums(old_idx, new_idx, weight, n_new)
    p_pop = p_sum.astype(np.int64)
    rel, old_kind, new_kind, _main = classify(p_old, p_new, p_lsoa, p_pop, n_old, n_new)

    old_codes_arr = np.asarray(old_codes, dtype=object)
    new_codes_arr = np.asarray(new_codes, dtype=object)

    def name_of(codes: np.ndarray, names: pd.Series | None) -> np.ndarray:
        if names is None:
            return np.full(len(codes), None, dtype=object)
        return names.reindex(pd.Index(codes, dtype=object)).to_numpy(dtype=object)

    def pop_col(values: np.ndarray) -> Any:
        if pop is None:
            return pd.array([pd.NA] * len(values), dtype="Int64")
        return np.asarray(values).astype(np.int64)

    table = pd.DataFrame(
        {
            "old_code": old_codes_arr[p_old],
            "old_name": name_of(old_codes_arr[p_old], onames),
            "new_code": new_codes_arr[p_new],
            "new_name": name_of(new_codes_arr[p_new], nnames),
            "n_lsoa": p_lsoa,
            "population": pop_col(p_pop),
            "relation": np.asarray(RELATIONS, dtype=object)[rel],
        }
    )
    for col in ("old_code", "new_code", "relation"):
        table[col] = table[col].astype(str)
    _set_object_columns(table, ("old_name", "new_name"))

    is_transfer = rel == REL_TRANSFER

    def per_unit(idx: np.ndarray, other: np.ndarray, codes: np.ndarray, n: int) -> list[list[str]]:
        # other-side codes for each unit, largest contribution first (then code order)
        order = np.lexsort((other, -p_pop, -p_lsoa, idx))
        out: list[list[str]] = [[] for _ in range(n)]
        for i in order:
            out[idx[i]].append(str(codes[other[i]]))
        return out

    sources = per_unit(p_new, p_old, old_codes_arr, n_new)
    destinations = per_unit(p_old, p_new, new_codes_arr, n_old)

    successor = np.full(n_old, None, dtype=object)
    whole = np.bincount(p_old, minlength=n_old) == 1
    successor[p_old[whole[p_old]]] = new_codes_arr[p_new[whole[p_old]]]
    cont = ~whole[p_old] & (rel == REL_RETAINED)
    successor[p_old[cont]] = new_codes_arr[p_new[cont]]
    successor_of = dict(zip(old_codes_arr.astype(str), successor, strict=True))
    predecessors = [
        [o for o in srcs if successor_of[o] == code]
        for srcs, code in zip(sources, new_codes_arr, strict=True)
    ]
    n_pred = np.array([len(p) for p in predecessors], dtype=np.int64)
    change = np.asarray(CHANGES, dtype=object)[
        np.select(
            [
                new_kind == NEW_UNCHANGED,
                new_kind == NEW_MERGER,
                new_kind == NEW_SPLIT,
                n_pred >= 2,
                n_pred == 1,
            ],
            [4, 0, 2, 1, 3],
            default=2,  # a boundary change formed from parts of split units only
        )
    ]

    n_src = np.bincount(p_new, minlength=n_new)
    new_units = pd.DataFrame(
        {
            "name": name_of(new_codes_arr, nnames),
            "kind": np.asarray(NEW_KINDS, dtype=object)[new_kind],
            "sources": sources,
            "n_sources": n_src,
            "n_lsoa": np.bincount(p_new, weights=p_lsoa, minlength=n_new).astype(np.int64),
            "population": pop_col(np.bincount(p_new, weights=p_pop, minlength=n_new)),
            "n_lsoa_in": np.bincount(p_new, weights=p_lsoa * is_transfer, minlength=n_new).astype(
                np.int64
            ),
            "population_in": pop_col(
                np.bincount(p_new, weights=p_pop * is_transfer, minlength=n_new)
            ),
            "code_changed": [
                bool(k == NEW_UNCHANGED and s[0] != c)
                for k, s, c in zip(new_kind, sources, new_codes_arr, strict=True)
            ],
            "predecessors": predecessors,
            "n_predecessors": n_pred,
            "change": change,
            "new_code": ~np.isin(new_codes_arr.astype(str), old_codes_arr.astype(str)),
        },
        index=pd.Index(new_codes_arr.astype(str), name="code"),
    )
    _set_object_columns(new_units, ("name",))
    old_units = pd.DataFrame(
        {
            "name": name_of(old_codes_arr, onames),
            "kind": np.asarray(OLD_KINDS, dtype=object)[old_kind],
            "destinations": destinations,
            "n_destinations": np.bincount(p_old, minlength=n_old),
            "n_lsoa": np.bincount(p_old, weights=p_lsoa, minlength=n_old).astype(np.int64),
            "population": pop_col(np.bincount(p_old, weights=p_pop, minlength=n_old)),
            "n_lsoa_out": np.bincount(p_old, weights=p_lsoa * is_transfer, minlength=n_old).astype(
                np.int64
            ),
            "population_out": pop_col(
                np.bincount(p_old, weights=p_pop * is_transfer, minlength=n_old)
            ),
            "successor": successor,
        },
        index=pd.Index(old_codes_arr.astype(str), name="code"),
    )
    _set_object_columns(old_units, ("name", "successor"))
    result = VintageDiff(
        table=table,
        new_units=new_units,
        old_units=old_units,
        summary="",
        level=level,
        old_vintage=old_vintage,
        new_vintage=new_vintage,
        old_level=old_level,
        new_level=new_level,
        nouns=dict(nouns or {}),
    )
    summary = summary_line(result)
    log.info("vintage diff: %s", summary)
    object.__setattr__(result, "summary", summary)
    return result


# --------------------------------------------------------------------------------------------
# wrappers on loaded geographies
# --------------------------------------------------------------------------------------------
def _as_vintage(value: Any) -> int | str | None:
    """A vintage as ``int`` when it is a whole number (2019, "2019"), else as given (a label)."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, np.integer):
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def _later(old: int | str | None, new: int | str | None) -> bool:
    """Whether ``old`` is a later vintage than ``new`` (only years can be ordered)."""
    return isinstance(old, int) and isinstance(new, int) and old > new


def _levels_of(geo: Any) -> list[str]:
    """Level columns of ``geo.lsoa`` (everything but population, name and ``*_name``)."""
    return [
        str(c)
        for c in geo.lsoa.columns
        if str(c) not in _NOT_LEVELS and not str(c).endswith("_name")
    ]


def _find_level(geo: Any, word: str) -> str | None:
    """The column of ``geo.lsoa`` a level word names, or ``None``."""
    levels = _levels_of(geo)
    key = str(word).strip()
    if key in levels:
        return key
    try:  # the one vocabulary of level words (lad → ltla, ics → icb or stp, ...)
        return normalise_level(key, available=levels)
    except ParameterError:
        return None


def _resolve_levels(
    old_geo: Any,
    new_geo: Any,
    level: str | tuple[str, str] | None,
    from_level: str | None,
    to_level: str | None,
) -> tuple[str, str]:
    if level is not None and (from_level is not None or to_level is not None):
        msg = "pass level= or from_level=/to_level=, not both."
        raise ParameterError(msg)
    if isinstance(level, (tuple, list)):
        if len(level) != 2:
            msg = f"level as a pair is (old level, new level), got {level!r}."
            raise ParameterError(msg)
        from_level, to_level = level
    elif level is not None:
        from_level = to_level = level
    old_v, new_v = _as_vintage(old_geo.vintage), _as_vintage(new_geo.vintage)
    old_levels, new_levels = _levels_of(old_geo), _levels_of(new_geo)
    if from_level is None or to_level is None:
        shared = [lv for lv in old_levels if lv in new_levels]
        msg = (
            "say which level to compare: level='...' for a level both vintages have "
            f"({', '.join(shared) or 'none'}), or level=(old, new) for two levels, e.g. "
            f"level=({(old_levels or ['?'])[0]!r}, {(new_levels or ['?'])[0]!r}). "
            f"The {old_v} geography has {', '.join(old_levels)}; the {new_v} one has "
            f"{', '.join(new_levels)}."
        )
        raise ParameterError(msg)
    found = (_find_level(old_geo, from_level), _find_level(new_geo, to_level))
    problems = []
    for word, got, v, levels in (
        (from_level, found[0], old_v, old_levels),
        (to_level, found[1], new_v, new_levels),
    ):
        if got is None:
            near = difflib.get_close_matches(str(word).lower(), levels, n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(
                f"the {v} geography has no level {word!r}{hint}; its levels: {', '.join(levels)}"
            )
    if problems:
        pair = ""
        if found[0] is not None or found[1] is not None:
            old_pick = found[0] or (old_levels or ["?"])[0]
            new_pick = found[1] or (new_levels or ["?"])[0]
            pair = (
                f" To compare two different levels pass a pair: level=({old_pick!r}, {new_pick!r})."
            )
        msg = "; ".join(problems) + "." + pair
        raise ParameterError(msg)
    old_lv, new_lv = found
    assert old_lv is not None
    assert new_lv is not None
    return old_lv, new_lv


def _population(geo: Any) -> pd.Series | None:
    return geo.lsoa["population"] if "population" in geo.lsoa.columns else None


def _change_source(change: Any, old_block: str, new_block: str, geo: Any) -> Any:
    """``change`` as given, else the registered change lookup of the two blocks."""
    if change is not None:
        return change
    data_dir = getattr(geo, "data_dir", None)
    ids = (f"{old_block}-{new_block}", f"{new_block}-{old_block}")
    for dataset_id in ids:
        try:
            return locations.locate(dataset_id, data_dir=data_dir)
        except catalog.UnknownDatasetError:
            continue
        except DataDirError as exc:
            msg = (
                f"the {old_block} → {new_block} change lookup (dataset {dataset_id!r}) is not "
                f"on this machine: {exc} Or pass it as change= (a path or DataFrame)."
            )
            raise DataDirError(msg) from exc
    msg = (
        f"comparing units built from {old_block} with units built from {new_block} needs the "
        f"change lookup between them, and the registry has no dataset {ids[0]!r}. Pass it as "
        "change= (a path or DataFrame): for LSOA 2011 → 2021 that is the ONS lookup "
        "LSOA11_LSOA21_LAD22_EW_LU, file lookups/lsoa11_lsoa21_lad22_ew.csv.gz of the data "
        "directory (columns LSOA11CD, CHGIND, LSOA21CD)."
    )
    raise DataDirError(msg)


class BlockGeography(Protocol):
    """What :func:`diff` needs of a geography: a :class:`~coterminus.Geography`, or any object
    with a ``vintage`` and a block table ``lsoa`` (a column per level and ``population``)."""

    @property
    def vintage(self) -> int | str: ...

    @property
    def lsoa(self) -> pd.DataFrame: ...


def diff(
    old_geo: BlockGeography,
    new_geo: BlockGeography,
    *,
    level: str | tuple[str, str] | None = None,
    from_level: str | None = None,
    to_level: str | None = None,
    change: pd.DataFrame | str | Path | None = None,
) -> VintageDiff:
    """Compare a level of two loaded vintages (e.g. CCG 2019 → 2020) by building-block membership.

    Parameters
    ----------
    old_geo, new_geo : Geography
        From :func:`coterminus.load`, or anything with ``.vintage``, ``.lsoa`` (DataFrame
        indexed by building-block code with a column per level and ``population``), optionally
        ``.block`` (default ``"lsoa11"``), ``.data_dir``, and names through ``.layer(level)``
        or an attribute per level (a table with a ``name`` column). The same geography twice
        compares two of its levels, e.g. ICBs with a scenario of merged ICBs.
    level : str or (str, str)
        A level both have (``"ccg"``; also ``"lad"``, ``"ctyua"``, ``"ics"`` for ``ltla``,
        ``utla``, ``stp``), or a pair ``(old level, new level)`` such as ``("ccg", "sicbl")``.
    from_level, to_level : str, optional
        The pair as two keywords, instead of ``level``.
    change : DataFrame or path, optional
        Change lookup between the building blocks, used only when ``old_geo.block`` and
        ``new_geo.block`` differ (e.g. the ONS LSOA 2011 → 2021 lookup, columns ``LSOA11CD``,
        ``LSOA21CD``, ``CHGIND``). Default: the registry's dataset ``"<old block>-<new block>"``
        (``"lsoa11-lsoa21"``) found with :func:`coterminus.data.locate` in
        ``new_geo.data_dir``.

    Returns
    -------
    VintageDiff
        See :func:`diff_membership` for the definitions. On one building block, people are the
        ``population`` of ``old_geo.lsoa``. Across blocks the comparison is made on the **new**
        blocks and their people (``new_geo.lsoa["population"]``); :attr:`VintageDiff.crossing`
        says how the old units were carried over.

    Raises
    ------
    ParameterError
        No level given, or a level that a geography does not have (the message lists its levels
        and shows the pair form).
    VintageMismatchError
        ``old_geo`` is a later vintage than ``new_geo``.
    LookupMismatchError
        The geographies do not cover the same building blocks (or, across blocks, the change
        lookup does not link them all).
    DataDirError
        Across blocks, no ``change`` given and none registered or found.

    Notes
    -----
    **Across the building-block change** (``old_geo.block != new_geo.block``, e.g. 2022 on
    LSOA 2011 → 2024 on LSOA 2021): each new block takes the old unit of its parent blocks in the
    change lookup (:func:`cross_membership`). ONS marks each link U (unchanged), S (one 2011 LSOA
    split into several 2021 ones), M (several merged into one) or X (redrawn, many-to-many).
    Where the parents of a new block sit in different old units (M or X), the block goes to the
    unit with most of its parents' people (of the old vintage), and it is listed in
    ``crossing.ambiguous`` and in the summary. Populations differ between vintages — the
    LSOA 2011 vintages carry ONS mid-2019 estimates, the LSOA 2021 vintage Census 2021 usual
    residents — so across blocks every count of people (units, transfers) is the new vintage's;
    ``crossing.population`` gives both totals, and the summary names what they are when a
    geography has a ``population_label`` (e.g. ``"mid-2019 estimates"``).

    **Summary.** It leads with the count to compare with published statements: how many new units
    were formed from how many old units (:math:`\\ge 2` old units continuing as one, whether or
    not boundaries were also adjusted), then the breakdown by ``new_units.change``: pure mergers,
    mergers with transfers, units formed by splitting, units with boundary transfers only, and
    unchanged units; then the LSOAs and people moved between units and the largest such move.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace as G
    >>> g19 = G(vintage=2019, lsoa=pd.DataFrame({"ccg": ["A", "B"], "population": [10, 20]},
    ...                                         index=["L1", "L2"]))
    >>> g20 = G(vintage=2020, lsoa=pd.DataFrame({"ccg": ["M", "M"], "population": [10, 20]},
    ...                                         index=["L1", "L2"]))
    >>> print(diff(g19, g20, level="ccg").summary)  # doctest: +NORMALIZE_WHITESPACE
    1 new CCG formed from 2 of the 2 CCGs of 2019 (1 CCG in 2020). Geographically: 1 pure merger
    of 2; 0 unchanged; no LSOA moved between units.

    Across the LSOA change: LSOAs a and b (unit A) and c (unit B) of 2022 become A1, A2 (a split)
    and BC (b and c merged) in 2024, where everything is one unit X. BC goes to B, which has more
    of its parents' people (50 against 30):

    >>> g22 = G(vintage=2022, block="lsoa11", lsoa=pd.DataFrame(
    ...     {"icb": ["A", "A", "B"], "population": [10, 30, 50]}, index=["a", "b", "c"]))
    >>> g24 = G(vintage=2024, block="lsoa21", lsoa=pd.DataFrame(
    ...     {"icb": ["X", "X", "X"], "population": [6, 6, 50]}, index=["A1", "A2", "BC"]))
    >>> change = pd.DataFrame({"LSOA11CD": ["a", "a", "b", "c"], "CHGIND": ["S", "S", "M", "M"],
    ...                        "LSOA21CD": ["A1", "A2", "BC", "BC"]})
    >>> d = diff(g22, g24, level="icb", change=change)
    >>> d.crossing.ambiguous[["block", "unit", "units", "share", "new_unit"]].to_dict("records")
    [{'block': 'BC', 'unit': 'B', 'units': ['B', 'A'], 'share': 0.625, 'new_unit': 'X'}]
    >>> d.new_units.loc["X", "change"], int(d.new_units.loc["X", "population"])
    ('merger', 62)
    """
    old_lv, new_lv = _resolve_levels(old_geo, new_geo, level, from_level, to_level)
    old_v, new_v = _as_vintage(old_geo.vintage), _as_vintage(new_geo.vintage)
    if _later(old_v, new_v):
        msg = (
            f"old_geo is {old_v} but new_geo is {new_v}; the diff runs forwards in time. "
            f"Swap them: diff(geo{str(new_v)[2:]}, geo{str(old_v)[2:]}, ...)."
        )
        raise VintageMismatchError(msg)
    old_block = str(getattr(old_geo, "block", "lsoa11"))
    new_block = str(getattr(new_geo, "block", "lsoa11"))
    common: dict[str, Any] = {
        "old_names": names_from(old_geo, old_lv),
        "new_names": names_from(new_geo, new_lv),
        "level": old_lv if old_lv == new_lv else f"{old_lv} → {new_lv}",
        "old_level": old_lv,
        "new_level": new_lv,
        "old_vintage": old_v,
        "new_vintage": new_v,
        "nouns": {**nouns_of(old_geo, old_lv), **nouns_of(new_geo, new_lv)},
    }
    old_pop, new_pop = _population(old_geo), _population(new_geo)
    if old_block == new_block:
        differ = (
            old_pop is not None
            and new_pop is not None
            and old_geo is not new_geo
            and not new_pop.reindex(old_pop.index).equals(old_pop)
        )
        if differ:
            log.warning(
                "LSOA populations differ between the %s and %s geographies; using %s's",
                old_v,
                new_v,
                old_v,
            )
        old_m, new_m = old_geo.lsoa[old_lv], new_geo.lsoa[new_lv].reindex(old_geo.lsoa.index)
        covered = old_m.notna() & new_m.notna()
        if covered.all():
            return diff_membership(old_m, new_m, old_pop, **common)
        # a level covering part of England (a regional scenario, combined authorities): compare
        # the blocks both levels cover, and say how many each left out
        only_old = int((old_m.notna() & new_m.isna()).sum())
        only_new = int((old_m.isna() & new_m.notna()).sum())
        pop = None if old_pop is None else old_pop[covered]
        d = diff_membership(old_m[covered], new_m[covered], pop, **common)
        note = (
            f" Compared over the {int(covered.sum()):,} blocks both levels cover; "
            f"{only_old:,} are only in {old_v} {old_lv} and {only_new:,} only in {new_v} {new_lv}."
        )
        outside = sorted(set(new_m[old_m.isna()].dropna()) - set(new_m[covered]))
        if outside:  # units of the new level lying wholly where the old one has none
            names = common["new_names"]
            shown = [str(names.get(u, u)) if names is not None else str(u) for u in outside]
            n_out = len(outside)
            note += (
                f" {n_out:,} {noun(new_lv, n_out, common['nouns'])} lie only there: "
                f"{examples(shown)}."
            )
        object.__setattr__(d, "summary", d.summary + note)
        return d

    source = _change_source(change, old_block, new_block, new_geo)
    crossed, crossing = cross_membership(
        old_geo.lsoa[old_lv],
        source,
        old_block=old_block,
        new_block=new_block,
        blocks=new_geo.lsoa.index,
        old_population=old_pop,
        new_population=new_pop,
    )
    new_membership = new_geo.lsoa[new_lv]
    for side, geo in (("old", old_geo), ("new", new_geo)):
        label = getattr(geo, "population_label", None)
        crossing.population[f"{side}_label"] = None if label is None else str(label)
    crossing.ambiguous["new_unit"] = (
        new_membership.reindex(crossing.ambiguous["block"]).astype(object).to_numpy()
    )
    log.info(
        "crossed %s → %s: %d ambiguous blocks", old_block, new_block, crossing.counts["ambiguous"]
    )
    d = diff_membership(crossed, new_membership, new_pop, **common)
    d = dataclasses.replace(d, crossing=crossing)
    object.__setattr__(d, "summary", summary_line(d))
    return d


def diff_vintages(
    old_vintage: int | str,
    new_vintage: int | str,
    *,
    level: str | tuple[str, str] | None = None,
    from_level: str | None = None,
    to_level: str | None = None,
    data_dir: str | Path | None = None,
    change: pd.DataFrame | str | Path | None = None,
) -> VintageDiff:
    """Load two vintages with :func:`coterminus.load` and :func:`diff` them (the CLI's entry).

    ``coterminus diff --level icb --from 2022 --to 2024`` is
    ``diff_vintages(2022, 2024, level="icb")``; print ``.summary`` and ``.table``.

    Parameters
    ----------
    old_vintage, new_vintage : int or str
        Built-in vintages or manifest paths, as :func:`coterminus.load` takes them.
    level, from_level, to_level, change
        As for :func:`diff`.
    data_dir : path, optional
        Passed to :func:`coterminus.load`.

    Returns
    -------
    VintageDiff
    """
    old_geo = load(old_vintage, data_dir=data_dir)
    new_geo = load(new_vintage, data_dir=data_dir)
    return diff(
        old_geo, new_geo, level=level, from_level=from_level, to_level=to_level, change=change
    )
