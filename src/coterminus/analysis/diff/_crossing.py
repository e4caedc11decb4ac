"""Carry a membership from one building-block base to another through a change lookup.

Vintages up to 2022 are built from LSOA 2011, later ones from LSOA 2021. To compare a unit of
the one with a unit of the other, the old membership (old block → old unit) is carried onto the
new blocks through the ONS change lookup (one row per linked old/new block pair, with the change
indicator ``CHGIND``: U unchanged, S split, M merged, X redrawn). :func:`cross_membership` is the
pure step; :func:`read_change` reads and checks the lookup. :mod:`coterminus.analysis.diff.vintages` uses both.

>>> import pandas as pd
>>> change = pd.DataFrame({"LSOA11CD": ["a", "b", "c"], "LSOA21CD": ["A", "B", "B"]})
>>> old = pd.Series({"a": "U1", "b": "U1", "c": "U2"})
>>> crossed, report = cross_membership(old, change, old_population=pd.Series({"a": 5, "b": 9, "c": 4}))
>>> crossed.to_dict()
{'A': 'U1', 'B': 'U1'}
>>> report.ambiguous[["block", "unit", "units", "share"]].to_dict("records")
[{'block': 'B', 'unit': 'U1', 'units': ['U1', 'U2'], 'share': 0.6923076923076923}]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ColumnError, DataDirError, LookupMismatchError, ParameterError
from ._core import examples

__all__ = ["CHANGE_WORDS", "BlockCrossing", "block_column", "cross_membership", "read_change"]

#: Words for the ONS change indicator (``CHGIND``) of the LSOA 2011 → 2021 lookup.
CHANGE_WORDS: dict[str, str] = {"U": "unchanged", "S": "split", "M": "merged", "X": "redrawn"}


def block_column(block: str) -> str:
    """Code column of a building block in an ONS change lookup: ``"lsoa11"`` → ``"LSOA11CD"``.

    >>> block_column("lsoa21")
    'LSOA21CD'
    """
    return f"{block.upper()}CD"


@dataclass(frozen=True)
class BlockCrossing:
    """How a membership was carried from old building blocks to new ones.

    Attributes
    ----------
    old_block, new_block : str
        e.g. ``"lsoa11"`` and ``"lsoa21"``.
    source : str
        Where the change lookup came from (a path, or ``"DataFrame"``).
    ambiguous : pandas.DataFrame
        One row per new block whose parent blocks sit in different old units: ``block``,
        ``parents`` (old blocks), ``units`` (their old units, largest weight first), ``unit``
        (the one assigned), ``share`` (its share of the parents' weight), ``population`` (people
        of the new block, nullable ``Int64``). Later filled by :func:`coterminus.analysis.diff.vintages.diff`
        with ``new_unit`` (the block's unit in the new vintage).
    counts : dict
        ``old_blocks``, ``new_blocks``, ``links`` (rows used), ``one_to_one`` (new blocks with
        one parent that has one child), ``new_with_several_parents``,
        ``old_with_several_children``, ``ambiguous``, ``ambiguous_population`` (``None`` without
        populations), ``indicator`` (rows per change indicator word, when the lookup has
        ``CHGIND``) and ``lost_units`` (old units left with no new block because every one of
        their blocks went to another unit by the majority rule).
    population : dict
        ``old_total`` and ``new_total`` (people on the old and the new blocks, or ``None``);
        :func:`coterminus.analysis.diff.vintages.diff` adds ``old_label`` and ``new_label`` (what the people
        are, from the geographies' ``population_label``, or ``None``).
    """

    old_block: str
    new_block: str
    source: str
    ambiguous: pd.DataFrame = field(repr=False)
    counts: dict[str, Any] = field(repr=False)
    population: dict[str, Any] = field(repr=False)


def read_change(
    change: pd.DataFrame | str | Path, *, old_block: str, new_block: str
) -> tuple[pd.DataFrame, str]:
    """Read a change lookup (DataFrame or CSV path) and keep its two code columns (+ CHGIND).

    Parameters
    ----------
    change : DataFrame or path
        e.g. the ONS *LSOA (2011) to LSOA (2021) to LAD (2022)* lookup, columns ``LSOA11CD``,
        ``LSOA21CD`` and optionally ``CHGIND`` (matched case-insensitively).
    old_block, new_block : str
        Building blocks; their code columns are :func:`block_column` of each.

    Returns
    -------
    (DataFrame, str)
        Columns ``old``, ``new`` and ``chgind`` (``<NA>`` when absent), de-duplicated; and a
        description of the source.

    Raises
    ------
    DataDirError
        The path does not exist.
    ColumnError
        A code column is missing; the message lists the columns found and the nearest match.
    ParameterError
        ``change`` is neither a DataFrame nor a path.
    """
    if isinstance(change, pd.DataFrame):
        frame, source = change, "DataFrame"
    elif isinstance(change, (str, Path)):
        path = Path(change)
        if not path.is_file():
            msg = (
                f"change lookup {path} does not exist; pass the ONS LSOA 2011 → 2021 lookup "
                "(e.g. lookups/lsoa11_lsoa21_lad22_ew.csv.gz of the data directory) as change=."
            )
            raise DataDirError(msg)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        source = str(path)
    else:
        msg = f"change must be a DataFrame or a CSV path, got {type(change).__name__}."
        raise ParameterError(msg)
    by_upper = {str(c).upper(): c for c in frame.columns}
    wanted = [block_column(old_block), block_column(new_block)]
    missing = [c for c in wanted if c not in by_upper]
    if missing:
        found = [str(c) for c in frame.columns]
        hints = []
        for col in missing:
            near = difflib.get_close_matches(col, found, n=1, cutoff=0.5)
            hints.append(f"{col}" + (f" (nearest: {near[0]})" if near else ""))
        msg = (
            f"change lookup {source} has no column {', '.join(hints)}; columns found: "
            f"{', '.join(found)}. It must link {old_block} codes to {new_block} codes "
            "(one row per linked pair), like the ONS LSOA11_LSOA21_LAD22_EW_LU lookup."
        )
        raise ColumnError(msg)

    def codes(col: str) -> np.ndarray:
        return frame[by_upper[col]].astype(str).str.strip().to_numpy(dtype=object)

    # object (not Arrow string) columns: isin and groupby on them are several times faster
    out = pd.DataFrame(
        {
            "old": pd.Series(codes(wanted[0]), dtype=object),
            "new": pd.Series(codes(wanted[1]), dtype=object),
            "chgind": (pd.Series(codes("CHGIND"), dtype=object) if "CHGIND" in by_upper else pd.NA),
        }
    )
    return out.drop_duplicates(["old", "new"]).reset_index(drop=True), source


def cross_membership(
    old: pd.Series,
    change: pd.DataFrame | str | Path,
    *,
    old_block: str = "lsoa11",
    new_block: str = "lsoa21",
    blocks: pd.Index | None = None,
    old_population: pd.Series | None = None,
    new_population: pd.Series | None = None,
) -> tuple[pd.Series, BlockCrossing]:
    """Carry ``old`` (old block → unit) onto the new blocks through a change lookup.

    Parameters
    ----------
    old : pandas.Series
        Old block code → old unit code.
    change : DataFrame or path
        The change lookup (see :func:`read_change`).
    old_block, new_block : str, default "lsoa11", "lsoa21"
        Names of the two building blocks (they name the lookup's code columns).
    blocks : pandas.Index, optional
        The new blocks to cover (e.g. the new geography's LSOAs); default every new block the
        lookup links to a block of ``old``.
    old_population : pandas.Series, optional
        People per old block: the weights of the majority rule. Without it every parent counts
        the same.
    new_population : pandas.Series, optional
        People per new block, for reporting the people in ambiguous blocks.

    Returns
    -------
    (pandas.Series, BlockCrossing)
        New block → old unit (indexed by ``blocks``, named as ``old``), and the report.

    Raises
    ------
    LookupMismatchError
        A new block has no parent in the lookup, a parent is not a block of ``old``, or a block
        of ``old`` has no child among ``blocks`` (its people would be lost); all listed at once.

    Notes
    -----
    Each new block :math:`b` takes the old unit of its parent blocks :math:`P(b)` (the old blocks
    the lookup links to it). When the parents sit in different old units (the lookup is not
    one-to-one: M merged or X redrawn rows), :math:`b` goes to the unit with most weight

    .. math:: w(u, b) = \\sum_{p \\in P(b),\\ \\mathrm{unit}(p) = u} \\frac{\\mathrm{pop}(p)}{|C(p)|}

    where :math:`C(p)` are the new blocks of parent :math:`p` (its people are shared equally
    among its children); ties (to 10⁻⁶ people) go to the lower unit code. Such blocks are listed in
    :attr:`BlockCrossing.ambiguous`. A split old block (S) gives each child its own unit, so
    it is never ambiguous.
    """
    if not isinstance(old, pd.Series):
        msg = f"old must be a Series of block code → unit code, got {type(old).__name__}."
        raise ParameterError(msg)
    links, source = read_change(change, old_block=old_block, new_block=new_block)
    old_codes = pd.Index(old.index.astype(str), dtype=object)
    if blocks is None:
        blocks = pd.Index(links.loc[links["old"].isin(old_codes), "new"].unique(), dtype=object)
    blocks = pd.Index(blocks.astype(str), dtype=object)
    new_pos = blocks.get_indexer(pd.Index(links["new"]))
    links = links.loc[new_pos >= 0].reset_index(drop=True)
    new_pos = new_pos[new_pos >= 0]
    old_pos = old_codes.get_indexer(pd.Index(links["old"]))
    n_old, n_new = len(old_codes), len(blocks)

    problems = []
    orphans = blocks[np.bincount(new_pos, minlength=n_new) == 0]
    if len(orphans):
        problems.append(
            f"{len(orphans):,} {new_block} block(s) have no {old_block} parent in the change "
            f"lookup ({examples(orphans)})"
        )
    strangers = links.loc[old_pos < 0, "old"].unique()
    if len(strangers):
        problems.append(
            f"{len(strangers):,} {old_block} parent(s) of those blocks are not in the old "
            f"geography ({examples(strangers)})"
        )
    n_children_of = np.bincount(old_pos[old_pos >= 0], minlength=n_old)
    lost = old_codes[n_children_of == 0]
    if len(lost):
        problems.append(
            f"{len(lost):,} {old_block} block(s) of the old geography have no {new_block} "
            f"child among the new geography's blocks ({examples(lost)})"
        )
    if problems:
        msg = (
            f"cannot carry the old units onto the {new_block} blocks through {source}: "
            + "; ".join(problems)
            + ". Both geographies must cover the same area (e.g. all of England) and the change "
            "lookup must link every block of the one to the other."
        )
        raise LookupMismatchError(msg)

    # integer kernel: unit per link, weight per link, then the heaviest unit per new block
    unit_of_old, unit_codes = pd.factorize(old.astype(str).to_numpy(dtype=object), sort=True)
    unit_codes = np.asarray(unit_codes, dtype=object)
    n_units = len(unit_codes)
    unit_idx = unit_of_old[old_pos]
    if old_population is None:
        parent_pop = np.ones(n_old)
    else:
        pop = pd.to_numeric(old_population, errors="coerce")
        pop.index = pd.Index(pop.index.astype(str), dtype=object)
        parent_pop = pop.reindex(old_codes).to_numpy(dtype="float64", na_value=0.0)
    weight = parent_pop[old_pos] / n_children_of[old_pos]
    pairs, inverse = np.unique(new_pos.astype(np.int64) * n_units + unit_idx, return_inverse=True)
    pair_weight = np.bincount(inverse, weights=weight, minlength=len(pairs))
    pair_new, pair_unit = pairs // n_units, pairs % n_units
    # heaviest first, ties to the lower unit code (factorize sorted the codes); weights are
    # rounded for the comparison so that equal shares summed in another order still tie
    order = np.lexsort((pair_unit, -np.round(pair_weight, 6), pair_new))
    first = order[np.r_[True, pair_new[order][1:] != pair_new[order][:-1]]]
    chosen = np.empty(n_new, dtype=np.int64)
    chosen[pair_new[first]] = pair_unit[first]
    crossed = pd.Series(unit_codes[chosen], index=blocks, name=old.name, dtype=object)

    units_per_block = np.bincount(pair_new, minlength=n_new)
    amb_pos = np.flatnonzero(units_per_block > 1)
    amb_blocks = blocks[amb_pos]
    in_amb = np.isin(pair_new[order], amb_pos)
    amb_pairs = order[in_amb]  # sorted by block, then heaviest first
    units = pd.Series(unit_codes[pair_unit[amb_pairs]]).groupby(pair_new[amb_pairs]).agg(list)
    total = np.bincount(pair_new, weights=pair_weight, minlength=n_new)
    best = np.zeros(n_new)
    best[pair_new[first]] = pair_weight[first]
    amb_links = links.loc[np.isin(new_pos, amb_pos)]
    parents = amb_links.groupby("new")["old"].agg(sorted)
    people: Any = pd.array([pd.NA] * len(amb_pos), dtype="Int64")
    if new_population is not None:
        npop = pd.to_numeric(new_population, errors="coerce")
        npop.index = pd.Index(npop.index.astype(str), dtype=object)
        people = pd.array(npop.reindex(amb_blocks).to_numpy(), dtype="Int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[amb_pos] > 0, best[amb_pos] / total[amb_pos], 0.0)
    ambiguous = pd.DataFrame(
        {
            "block": amb_blocks.to_numpy(dtype=object),
            "parents": [parents[b] for b in amb_blocks],
            "units": [units[i] for i in amb_pos],
            "unit": unit_codes[chosen[amb_pos]],
            "share": share.astype("float64"),
            "population": people,
        }
    )

    parents_per_new = np.bincount(new_pos, minlength=n_new)
    single = parents_per_new[new_pos] == 1
    one_to_one = int((single & (n_children_of[old_pos] == 1)).sum())
    indicator: dict[str, int] | None = None
    if links["chgind"].notna().all():
        vc = links["chgind"].value_counts()
        indicator = {CHANGE_WORDS.get(str(k), str(k)): int(v) for k, v in vc.items()}
    counts: dict[str, Any] = {
        "old_blocks": n_old,
        "new_blocks": n_new,
        "links": len(links),
        "one_to_one": one_to_one,
        "new_with_several_parents": int((parents_per_new > 1).sum()),
        "old_with_several_children": int((n_children_of > 1).sum()),
        "ambiguous": len(ambiguous),
        "ambiguous_population": None
        if new_population is None
        else int(ambiguous["population"].fillna(0).sum()),
        "indicator": indicator,
        "lost_units": [str(u) for u in np.delete(unit_codes, np.unique(chosen))],
    }

    def total_of(p: pd.Series | None, index: pd.Index) -> int | None:
        if p is None:
            return None
        q = pd.to_numeric(p, errors="coerce")
        q.index = pd.Index(q.index.astype(str), dtype=object)
        return int(q.reindex(index).fillna(0).sum())

    report = BlockCrossing(
        old_block=old_block,
        new_block=new_block,
        source=source,
        ambiguous=ambiguous,
        counts=counts,
        population={
            "old_total": total_of(old_population, old_codes),
            "new_total": total_of(new_population, blocks),
        },
    )
    return crossed, report
