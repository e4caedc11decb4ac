"""Pure core of the vintage diff: the classification and input checks (the sparse crosstab is
:func:`coterminus.analysis.overlap.pair_sums`).

:mod:`coterminus.analysis.diff.vintages` wraps these in :func:`~coterminus.analysis.diff.vintages.diff_membership`; they
work on integer codes (old unit, new unit per LSOA) and plain arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...errors import (
    CoterminusError,
    DuplicateCodeError,
    EmptyDataError,
    LookupMismatchError,
    ParameterError,
    PopulationError,
)
from ...vocabulary.words import examples as _examples

log = logging.getLogger(__name__)

__all__ = ["as_names", "check_inputs", "classify", "examples", "names_from", "nouns_of"]

# integer codes used by the kernel (indices into RELATIONS, OLD_KINDS, NEW_KINDS of vintages)
REL_UNCHANGED, REL_MERGED, REL_RETAINED, REL_SPLIT, REL_TRANSFER = range(5)
OLD_UNCHANGED, OLD_MERGED, OLD_GAINED, OLD_TRANSFERRED, OLD_SPLIT = range(5)
NEW_UNCHANGED, NEW_MERGER, NEW_BOUNDARY, NEW_SPLIT = range(4)


# --------------------------------------------------------------------------------------------
# pure kernel on integer arrays
# --------------------------------------------------------------------------------------------
def classify(
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

    rel = np.full(len(p_old), REL_TRANSFER, dtype=np.int64)
    # whole old units
    rel[p_whole & (n_src[p_new] == 1)] = REL_UNCHANGED
    w_multi = p_whole & (n_src[p_new] > 1)
    rel[w_multi & ((n_whole_src[p_new] >= 2) | ~p_is_main)] = REL_MERGED
    rel[w_multi & (n_whole_src[p_new] == 1) & p_is_main] = REL_RETAINED
    # old units in several new units
    part = ~p_whole
    rel[part & p_is_main & (leads[p_old] >= 2)] = REL_SPLIT
    rel[part & p_is_main & (leads[p_old] == 1)] = REL_RETAINED

    old_kind = np.full(n_old, OLD_SPLIT, dtype=np.int64)
    whole_rel = np.full(n_old, -1, dtype=np.int64)
    whole_rel[p_old[p_whole]] = rel[p_whole]
    old_kind[whole_rel == REL_UNCHANGED] = OLD_UNCHANGED
    old_kind[whole_rel == REL_MERGED] = OLD_MERGED
    old_kind[whole_rel == REL_RETAINED] = OLD_GAINED
    old_kind[~whole & (leads == 1)] = OLD_TRANSFERRED

    new_kind = np.full(n_new, NEW_BOUNDARY, dtype=np.int64)
    single_whole = (n_src == 1) & (n_whole_src == 1)
    new_kind[single_whole] = NEW_UNCHANGED
    new_kind[(n_src >= 2) & (n_whole_src == n_src)] = NEW_MERGER
    single_part = (n_src == 1) & (n_whole_src == 0)
    new_kind[single_part & (old_kind[np.maximum(main, 0)] == OLD_SPLIT)] = NEW_SPLIT
    return rel, old_kind, new_kind, main


# --------------------------------------------------------------------------------------------
# validation at the boundary
# --------------------------------------------------------------------------------------------
def examples(values: Any) -> str:
    """The first five values, and how many more (:func:`coterminus.vocabulary.words.examples`)."""
    return _examples(values, k=5)


def check_inputs(old: Any, new: Any, population: Any) -> pd.Series | None:
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
            f"coterminus.data.readers.read_population), got {type(population).__name__}."
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
                    f"{label} lists {len(dup)} LSOA(s) more than once ({examples(dup)}); "
                    "an LSOA belongs to exactly one unit, so de-duplicate the lookup.",
                )
            )
        missing = s.index[s.isna().to_numpy()]
        if len(missing):
            problems.append(
                (
                    LookupMismatchError,
                    f"{label} has no unit for {len(missing)} LSOA(s) ({examples(missing)}); "
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
                " Then carry old onto the new blocks first with cross_membership(old, change), "
                "or call diff() on two geographies, which does it when their .block differs."
                if shared == 0
                else ""
            )
            problems.append(
                (
                    LookupMismatchError,
                    f"old and new do not cover the same LSOAs: {len(only_old)} only in old "
                    f"({examples(only_old)}), {len(only_new)} only in new "
                    f"({examples(only_new)}); {shared} shared.{hint} Compare lookups of the same "
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
                    f"population lists {len(dup)} code(s) more than once ({examples(dup)}).",
                )
            )
        else:
            absent = old.index.difference(population.index)
            if len(absent):
                problems.append(
                    (
                        PopulationError,
                        f"population has no value for {len(absent)} LSOA(s) of the lookups "
                        f"({examples(absent)}); use an LSOA population file of the same LSOA "
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
                            f"fractional value(s) ({examples(old.index[bad])}); people are "
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


def as_names(names: Any, label: str) -> pd.Series | None:
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


def names_from(geo: Any, level: str) -> pd.Series | None:
    """Unit names of a level from a Geography-like object, or None when it has none."""
    lsoa = geo.lsoa
    if f"{level}_name" in lsoa.columns:
        pairs = lsoa[[level, f"{level}_name"]].drop_duplicates(level)
        return pd.Series(pairs[f"{level}_name"].to_numpy(), index=pairs[level].to_numpy())
    if callable(getattr(geo, "units", None)):  # a Geography: names without loading polygons
        try:
            names: pd.Series = geo.units(level)["name"]
            return names
        except (KeyError, CoterminusError) as exc:
            log.debug("no %s units for names on %r: %s", level, geo, exc)
    try:
        layer = geo.layer(level) if callable(getattr(geo, "layer", None)) else getattr(geo, level)
    except (AttributeError, KeyError, CoterminusError) as exc:
        log.debug("no %s layer for names on %r: %s", level, geo, exc)
        return None
    if layer is None or not hasattr(layer, "columns") or "name" not in layer.columns:
        return None
    named: pd.Series = layer["name"]
    return named


def nouns_of(geo: Any, level: str) -> dict[str, tuple[str, str]]:
    """The geography's words for a level (a scenario's label), when it has them."""
    if not callable(getattr(geo, "label", None)):
        return {}
    try:
        return {level: (str(geo.label(level)), str(geo.label(level, plural=True)))}
    except (KeyError, CoterminusError):
        return {}
