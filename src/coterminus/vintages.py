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
CCG 2019 → 2020: 3 → 2 units; 1 unchanged (1 with a new code),
1 formed by merging 2 old units, 0 boundary changes, 0 splits
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import (
    DuplicateCodeError,
    EmptyDataError,
    LayerError,
    LookupMismatchError,
    ParameterError,
    PopulationError,
    VintageMismatchError,
)

__all__ = [
    "NEW_KINDS",
    "OLD_KINDS",
    "RELATIONS",
    "VintageDiff",
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

#: Level words :func:`diff` accepts (aliases map to ccg, stp, ltla, utla).
Level = Literal["ccg", "stp", "ltla", "utla", "lad", "ics", "icb", "ctyua", "sicbl"]

_LEVEL_WORDS: dict[str, str] = {
    "ccg": "ccg",
    "sicbl": "ccg",
    "stp": "stp",
    "ics": "stp",
    "icb": "stp",
    "ltla": "ltla",
    "lad": "ltla",
    "utla": "utla",
    "ctyua": "utla",
}
_LEVEL_LABEL: dict[str, str] = {"ccg": "CCG", "stp": "STP", "ltla": "LTLA", "utla": "UTLA"}

# integer codes used by the kernel
_REL_UNCHANGED, _REL_MERGED, _REL_RETAINED, _REL_SPLIT, _REL_TRANSFER = range(5)
_OLD_UNCHANGED, _OLD_MERGED, _OLD_GAINED, _OLD_TRANSFERRED, _OLD_SPLIT = range(5)
_NEW_UNCHANGED, _NEW_MERGER, _NEW_BOUNDARY, _NEW_SPLIT = range(4)


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
        ``code_changed`` (an unchanged unit under a new code).
    old_units : pandas.DataFrame
        One row per old unit (index ``code``): ``name``, ``kind`` (one of :data:`OLD_KINDS`),
        ``destinations`` (list of new codes, largest share first), ``n_destinations``,
        ``n_lsoa``, ``population``, ``n_lsoa_out`` and ``population_out`` (moved out by
        transfers), ``successor`` (the new unit it became, merged into or continues as; missing
        for a split unit).
    summary : str
        One line, e.g. ``"CCG 2019 → 2020: 191 → 135 units; ..."``.
    level : str or None
    old_vintage, new_vintage : int or None

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
    old_vintage: int | None = None
    new_vintage: int | None = None

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
        received LSOAs from split old units.
        """
        nu, ou, tab = self.new_units, self.old_units, self.table
        new_kind = nu["kind"].value_counts()
        old_kind = ou["kind"].value_counts()
        moved = tab.loc[tab["relation"] == "transfer"]
        has_pop = bool(tab["population"].notna().all())
        boundary = nu.index[nu["kind"] == "boundary change"]
        split_old = ou.index[ou["kind"] == "split"]
        return {
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
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: metadata, summary, counts and the three tables as records.

        Examples
        --------
        >>> import json, pandas as pd
        >>> d = diff_membership(pd.Series({"L1": "A"}), pd.Series({"L1": "A"})).to_dict()
        >>> d["summary"], d["new_units"][0]["kind"]
        ('1 → 1 units; 1 unchanged, 0 formed by merging, 0 boundary changes, 0 splits', 'unchanged')
        >>> _ = json.dumps(d)
        """

        def records(df: pd.DataFrame, index: str | None) -> list[dict[str, Any]]:
            frame = df.reset_index() if index else df
            return json.loads(frame.to_json(orient="records", force_ascii=False))

        return {
            "level": self.level,
            "old_vintage": self.old_vintage,
            "new_vintage": self.new_vintage,
            "summary": self.summary,
            "counts": self.counts,
            "table": records(self.table, None),
            "new_units": records(self.new_units, "code"),
            "old_units": records(self.old_units, "code"),
        }


# --------------------------------------------------------------------------------------------
# pure kernel on integer arrays
# --------------------------------------------------------------------------------------------
def _crosstab(
    old_idx: np.ndarray, new_idx: np.ndarray, weight: np.ndarray, n_old: int, n_new: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sparse crosstab of LSOAs: (old, new, n_lsoa, weight) per non-empty pair, sorted by pair."""
    key = old_idx.astype(np.int64) * n_new + new_idx.astype(np.int64)
    pairs, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    wsum = np.bincount(inverse, weights=weight, minlength=len(pairs)).astype(np.int64)
    return pairs // n_new, pairs % n_new, counts.astype(np.int64), wsum


def _classify(
    p_old: np.ndarray,
    p_new: np.ndarray,
    p_lsoa: np.ndarray,
    p_pop: np.ndarray,
    n_old: int,
    n_new: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Classify pairs, old units and new units (integer codes; see :func:`diff_membership`).

    Returns ``(relation per pair, old kind, new kind, main source per new unit)``.
    """
    n_dest = np.bincount(p_old, minlength=n_old)
    n_src = np.bincount(p_new, minlength=n_new)
    whole = n_dest == 1  # old unit moves wholly into one new unit
    p_whole = whole[p_old]
    n_whole_src = np.bincount(p_new, weights=p_whole, minlength=n_new).astype(np.int64)

    # main source of each new unit: most LSOAs, then most people, then lowest old code
    order = np.lexsort((p_old, -p_pop, -p_lsoa, p_new))
    first = order[np.r_[True, p_new[order][1:] != p_new[order][:-1]]]
    main = np.full(n_new, -1, dtype=np.int64)
    main[p_new[first]] = p_old[first]
    leads = np.bincount(main, minlength=n_old)  # new units each old unit is the main source of
    p_is_main = main[p_new] == p_old

    rel = np.full(len(p_old), _REL_TRANSFER, dtype=np.int64)
    # whole old units
    rel[p_whole & (n_src[p_new] == 1)] = _REL_UNCHANGED
    w_multi = p_whole & (n_src[p_new] > 1)
    rel[w_multi & ((n_whole_src[p_new] >= 2) | ~p_is_main)] = _REL_MERGED
    rel[w_multi & (n_whole_src[p_new] == 1) & p_is_main] = _REL_RETAINED
    # old units in several new units
    part = ~p_whole
    rel[part & p_is_main & (leads[p_old] >= 2)] = _REL_SPLIT
    rel[part & p_is_main & (leads[p_old] == 1)] = _REL_RETAINED

    old_kind = np.full(n_old, _OLD_SPLIT, dtype=np.int64)
    whole_rel = np.full(n_old, -1, dtype=np.int64)
    whole_rel[p_old[p_whole]] = rel[p_whole]
    old_kind[whole_rel == _REL_UNCHANGED] = _OLD_UNCHANGED
    old_kind[whole_rel == _REL_MERGED] = _OLD_MERGED
    old_kind[whole_rel == _REL_RETAINED] = _OLD_GAINED
    old_kind[~whole & (leads == 1)] = _OLD_TRANSFERRED

    new_kind = np.full(n_new, _NEW_BOUNDARY, dtype=np.int64)
    single_whole = (n_src == 1) & (n_whole_src == 1)
    new_kind[single_whole] = _NEW_UNCHANGED
    new_kind[(n_src >= 2) & (n_whole_src == n_src)] = _NEW_MERGER
    single_part = (n_src == 1) & (n_whole_src == 0)
    new_kind[single_part & (old_kind[np.maximum(main, 0)] == _OLD_SPLIT)] = _NEW_SPLIT
    return rel, old_kind, new_kind, main


# --------------------------------------------------------------------------------------------
# validation at the boundary
# --------------------------------------------------------------------------------------------
def _examples(values: Any, k: int = 5) -> str:
    vals = list(values)
    shown = ", ".join(map(str, vals[:k]))
    return shown + (f" and {len(vals) - k} more" if len(vals) > k else "")


def _check_inputs(old: Any, new: Any, population: Any) -> pd.Series | None:
    """Check both memberships and the population; raise one error listing every problem.

    Returns the population aligned to ``old.index`` as int64 (or ``None``).
    """
    for label, s in (("old", old), ("new", new)):
        if not isinstance(s, pd.Series):
            msg = (
                f"{label} must be a pandas Series mapping LSOA code → unit code, got "
                f"{type(s).__name__}; pass one column, e.g. lookup['ccg']."
            )
            raise ParameterError(msg)
    if population is not None and not isinstance(population, pd.Series):
        msg = (
            "population must be a pandas Series of people per LSOA code (e.g. from "
            f"coterminus.io.read_population), got {type(population).__name__}."
        )
        raise ParameterError(msg)

    problems: list[tuple[type[Exception], str]] = []
    for label, s in (("old", old), ("new", new)):
        if len(s) == 0:
            problems.append((EmptyDataError, f"{label} has no LSOAs; pass a non-empty lookup."))
            continue
        dup = s.index[s.index.duplicated()].unique()
        if len(dup):
            problems.append(
                (
                    DuplicateCodeError,
                    f"{label} lists {len(dup)} LSOA(s) more than once ({_examples(dup)}); "
                    "an LSOA belongs to exactly one unit, so de-duplicate the lookup.",
                )
            )
        missing = s.index[s.isna().to_numpy()]
        if len(missing):
            problems.append(
                (
                    LookupMismatchError,
                    f"{label} has no unit for {len(missing)} LSOA(s) ({_examples(missing)}); "
                    "the lookup is incomplete.",
                )
            )
    if not problems:
        only_old = old.index.difference(new.index)
        only_new = new.index.difference(old.index)
        if len(only_old) or len(only_new):
            shared = len(old.index.intersection(new.index))
            hint = (
                " They share no LSOA at all: are they on different LSOA bases (2011 vs 2021)?"
                if shared == 0
                else ""
            )
            problems.append(
                (
                    LookupMismatchError,
                    f"old and new do not cover the same LSOAs: {len(only_old)} only in old "
                    f"({_examples(only_old)}), {len(only_new)} only in new "
                    f"({_examples(only_new)}); {shared} shared.{hint} Compare lookups of the same "
                    "LSOA base, or restrict both to the shared LSOAs with "
                    "old.loc[old.index.intersection(new.index)].",
                )
            )
    pop: pd.Series | None = None
    if population is not None and not problems:
        dup = population.index[population.index.duplicated()].unique()
        if len(dup):
            problems.append(
                (
                    DuplicateCodeError,
                    f"population lists {len(dup)} code(s) more than once ({_examples(dup)}).",
                )
            )
        else:
            absent = old.index.difference(population.index)
            if len(absent):
                problems.append(
                    (
                        PopulationError,
                        f"population has no value for {len(absent)} LSOA(s) of the lookups "
                        f"({_examples(absent)}); use an LSOA population file of the same LSOA "
                        "base (e.g. lsoa11_pop_mid2019_ew.csv).",
                    )
                )
            else:
                values = pd.to_numeric(population.reindex(old.index), errors="coerce")
                arr = values.to_numpy(dtype="float64", na_value=np.nan)
                bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
                if bad.any():
                    problems.append(
                        (
                            PopulationError,
                            f"population has {int(bad.sum())} missing, negative, non-numeric or "
                            f"fractional value(s) ({_examples(old.index[bad])}); people are "
                            "whole, non-negative numbers.",
                        )
                    )
                else:
                    pop = pd.Series(arr.astype(np.int64), index=old.index, name="population")
    if problems:
        cls = problems[0][0]
        msg = "; ".join(m for _, m in problems) if len(problems) > 1 else problems[0][1]
        raise cls(msg)
    return pop


def _as_names(names: Any, label: str) -> pd.Series | None:
    if names is None:
        return None
    if isinstance(names, pd.DataFrame):
        if "name" not in names.columns:
            msg = f"{label} is a DataFrame without a 'name' column; pass layer['name']."
            raise ParameterError(msg)
        names = names["name"]
    if isinstance(names, Mapping) and not isinstance(names, pd.Series):
        names = pd.Series(dict(names), dtype="object")
    if not isinstance(names, pd.Series):
        msg = (
            f"{label} must be a Series or mapping of unit code → name, got {type(names).__name__}."
        )
        raise ParameterError(msg)
    return names[~names.index.duplicated()]


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


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _summary(d: VintageDiff) -> str:
    c = d.counts
    head = _LEVEL_LABEL.get(d.level or "", (d.level or "").upper())
    if d.old_vintage is not None or d.new_vintage is not None:
        head = f"{head} {d.old_vintage} → {d.new_vintage}".strip()
    parts = [f"{c['new']['unchanged']:,} unchanged"]
    if c["code_changes"]:
        codes = "a new code" if c["code_changes"] == 1 else "new codes"
        parts[0] += f" ({c['code_changes']:,} with {codes})"
    parts.append(f"{c['new']['merger']:,} formed by merging")
    if c["merger_sources"]:
        parts[-1] += f" {_plural(c['merger_sources'], 'old unit')}"
    parts.append(_plural(c["new"]["boundary change"], "boundary change"))
    if c["boundary_sources"]:
        parts[-1] += f" involving {_plural(c['boundary_sources'], 'old unit')}"
    if c["moved_lsoa"]:
        parts[-1] += f"{',' if c['boundary_sources'] else ''} moving "
        parts[-1] += _plural(c["moved_lsoa"], "LSOA")
        if c["moved_population"] is not None:
            parts[-1] += f" ({_plural(c['moved_population'], 'person', 'people')})"
    parts.append(_plural(c["old"]["split"], "split"))
    if c["old"]["split"]:
        parts[-1] += f" into {_plural(c['split_into'], 'new unit')}"
    prefix = f"{head}: " if head else ""
    return f"{prefix}{c['old_units']:,} → {c['new_units']:,} units; " + ", ".join(parts)


def diff_membership(
    old: pd.Series,
    new: pd.Series,
    population: pd.Series | None = None,
    *,
    old_names: pd.Series | Mapping[str, str] | None = None,
    new_names: pd.Series | Mapping[str, str] | None = None,
    level: str | None = None,
    old_vintage: int | None = None,
    new_vintage: int | None = None,
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
        Level label for the summary (``"ccg"`` → ``"CCG"``). Default: the Series ``name`` when it
        is a known level.
    old_vintage, new_vintage : int, optional
        Years for the summary. Default: ``attrs["vintage"]`` of ``old`` / ``new`` when present.

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
    A and B merge into M; C is renamed Z; two of D's three LSOAs go to E:

    >>> import pandas as pd
    >>> lsoas = [f"L{i}" for i in range(1, 10)]
    >>> old = pd.Series(list("ABCDDDEEE"), index=lsoas)
    >>> new = pd.Series(list("MMZDEEEEE"), index=lsoas)
    >>> pop = pd.Series(100, index=lsoas)
    >>> d = diff_membership(old, new, pop)
    >>> print(d.summary)  # doctest: +NORMALIZE_WHITESPACE
    5 → 4 units; 1 unchanged (1 with a new code), 1 formed by merging 2 old units,
    2 boundary changes involving 2 old units, moving 2 LSOAs (200 people), 0 splits
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
    pop = _check_inputs(old, new, population)
    onames = _as_names(old_names, "old_names")
    nnames = _as_names(new_names, "new_names")
    if level is None and isinstance(old.name, str):
        level = _LEVEL_WORDS.get(old.name.lower())
    if old_vintage is None:
        old_vintage = old.attrs.get("vintage")
    if new_vintage is None:
        new_vintage = new.attrs.get("vintage")
    if old_vintage is not None and new_vintage is not None and int(old_vintage) > int(new_vintage):
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
    p_old, p_new, p_lsoa, p_pop = _crosstab(old_idx, new_idx, weight, n_old, n_new)
    rel, old_kind, new_kind, _main = _classify(p_old, p_new, p_lsoa, p_pop, n_old, n_new)

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

    is_transfer = rel == _REL_TRANSFER

    def per_unit(idx: np.ndarray, other: np.ndarray, codes: np.ndarray, n: int) -> list[list[str]]:
        # other-side codes for each unit, largest contribution first (then code order)
        order = np.lexsort((other, -p_pop, -p_lsoa, idx))
        out: list[list[str]] = [[] for _ in range(n)]
        for i in order:
            out[idx[i]].append(str(codes[other[i]]))
        return out

    sources = per_unit(p_new, p_old, old_codes_arr, n_new)
    destinations = per_unit(p_old, p_new, new_codes_arr, n_old)

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
                bool(k == _NEW_UNCHANGED and s[0] != c)
                for k, s, c in zip(new_kind, sources, new_codes_arr, strict=True)
            ],
        },
        index=pd.Index(new_codes_arr.astype(str), name="code"),
    )
    _set_object_columns(new_units, ("name",))
    successor = np.full(n_old, None, dtype=object)
    whole = np.bincount(p_old, minlength=n_old) == 1
    successor[p_old[whole[p_old]]] = new_codes_arr[p_new[whole[p_old]]]
    cont = ~whole[p_old] & (rel == _REL_RETAINED)
    successor[p_old[cont]] = new_codes_arr[p_new[cont]]
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
        old_vintage=None if old_vintage is None else int(old_vintage),
        new_vintage=None if new_vintage is None else int(new_vintage),
    )
    summary = _summary(result)
    log.info("vintage diff: %s", summary)
    object.__setattr__(result, "summary", summary)
    return result


# --------------------------------------------------------------------------------------------
# wrappers on loaded geographies
# --------------------------------------------------------------------------------------------
def _normalise_level(level: str) -> str:
    key = str(level).strip().lower()
    if key not in _LEVEL_WORDS:
        msg = f"unknown level {level!r}; use one of ccg, stp, ltla, utla (or lad, ics, ctyua)."
        raise ParameterError(msg)
    return _LEVEL_WORDS[key]


def _names_from(geo: Any, level: str) -> pd.Series | None:
    """Unit names of a level from a Geography-like object, or None when it has none."""
    lsoa = geo.lsoa
    if f"{level}_name" in lsoa.columns:
        pairs = lsoa[[level, f"{level}_name"]].drop_duplicates(level)
        return pd.Series(pairs[f"{level}_name"].to_numpy(), index=pairs[level].to_numpy())
    try:
        layer = geo.layer(level) if callable(getattr(geo, "layer", None)) else getattr(geo, level)
    except (AttributeError, KeyError, LayerError) as exc:
        log.debug("no %s layer for names on %r: %s", level, geo, exc)
        return None
    if layer is None or not hasattr(layer, "columns") or "name" not in layer.columns:
        return None
    return layer["name"]


def diff(old_geo: Any, new_geo: Any, *, level: Level = "ccg") -> VintageDiff:
    """Compare one level of two loaded vintages (e.g. CCG 2019 → 2020) by LSOA membership.

    Parameters
    ----------
    old_geo, new_geo : Geography
        From :func:`coterminus.load`, or anything with ``.vintage``, ``.lsoa`` (DataFrame
        indexed by LSOA code with a column per level and ``population``) and names through
        ``.layer(level)`` or an attribute per level (a table with a ``name`` column).
    level : {"ccg", "stp", "ltla", "utla"}, default "ccg"
        Also accepted: ``"lad"``, ``"ics"``/``"icb"`` (→ stp), ``"ctyua"``.

    Returns
    -------
    VintageDiff
        See :func:`diff_membership` for the definitions. People are the ``population`` column
        of ``old_geo.lsoa`` (the LSOA estimates do not depend on the boundary vintage).

    Raises
    ------
    ParameterError
        Unknown level, or a level that is not in both geographies.
    VintageMismatchError
        ``old_geo`` is a later vintage than ``new_geo``.
    LookupMismatchError
        The geographies do not share the same LSOAs.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace as G
    >>> g19 = G(vintage=2019, lsoa=pd.DataFrame({"ccg": ["A", "B"], "population": [10, 20]},
    ...                                         index=["L1", "L2"]))
    >>> g20 = G(vintage=2020, lsoa=pd.DataFrame({"ccg": ["M", "M"], "population": [10, 20]},
    ...                                         index=["L1", "L2"]))
    >>> print(diff(g19, g20).summary)  # doctest: +NORMALIZE_WHITESPACE
    CCG 2019 → 2020: 2 → 1 units; 0 unchanged, 1 formed by merging 2 old units,
    0 boundary changes, 0 splits
    """
    lv = _normalise_level(level)
    old_v, new_v = int(old_geo.vintage), int(new_geo.vintage)
    problems = [
        f"the {v} geography has no {lv!r} column in .lsoa (columns: {list(g.lsoa.columns)})"
        for v, g in ((old_v, old_geo), (new_v, new_geo))
        if lv not in g.lsoa.columns
    ]
    if problems:
        msg = "; ".join(problems) + f"; level {lv!r} must be in both vintages to compare them."
        raise ParameterError(msg)
    if old_v > new_v:
        msg = (
            f"old_geo is {old_v} but new_geo is {new_v}; the diff runs forwards in time. "
            f"Swap them: diff(geo{str(new_v)[2:]}, geo{str(old_v)[2:]}, level={lv!r})."
        )
        raise VintageMismatchError(msg)
    population = old_geo.lsoa["population"] if "population" in old_geo.lsoa.columns else None
    if population is not None and "population" in new_geo.lsoa.columns:
        other = new_geo.lsoa["population"].reindex(population.index)
        if not other.equals(population):
            log.warning(
                "LSOA populations differ between the %s and %s geographies; using %s's",
                old_v,
                new_v,
                old_v,
            )
    return diff_membership(
        old_geo.lsoa[lv],
        new_geo.lsoa[lv],
        population,
        old_names=_names_from(old_geo, lv),
        new_names=_names_from(new_geo, lv),
        level=lv,
        old_vintage=old_v,
        new_vintage=new_v,
    )


def diff_vintages(
    old_vintage: int,
    new_vintage: int,
    *,
    level: Level = "ccg",
    data_dir: str | Path | None = None,
) -> VintageDiff:
    """Load two vintages with :func:`coterminus.load` and :func:`diff` them (the CLI's entry).

    ``coterminus diff --level ccg --from 2019 --to 2020`` is
    ``diff_vintages(2019, 2020, level="ccg")``; print ``.summary`` and ``.table``.

    Parameters
    ----------
    old_vintage, new_vintage : int
    level : str, default "ccg"
    data_dir : path, optional
        Passed to :func:`coterminus.load`.

    Returns
    -------
    VintageDiff
    """
    import coterminus  # the package root, imported late to avoid a cycle

    _normalise_level(level)
    old_geo = coterminus.load(old_vintage, data_dir=data_dir)
    new_geo = coterminus.load(new_vintage, data_dir=data_dir)
    return diff(old_geo, new_geo, level=level)
