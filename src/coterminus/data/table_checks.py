"""What the files of a manifest must say before a geography is built from them.

The manifest (:mod:`coterminus.data.manifest`) is checked for its form before any file is read.
These are the checks that need the files' contents. They run once, while the block table of a
vintage is prepared (:mod:`coterminus.data.loading`); the prepared table is cached under a key
holding the SHA-256 of every file read, so a warm load has nothing left to check. Each refusal
names the offending codes and the fix.

* **block codes**: present, listed once, with the ONS prefix of the declared block level
  (:data:`coterminus.vocabulary.levels.CODE_LEVELS`), and — where the declared level's codes are
  known (the embedded copy of every built-in vintage: LSOA 2011 and LSOA 2021) — codes of that
  level, not of another vintage's (an LSOA 2011 lookup declared as ``lsoa21`` is refused, naming
  the 2011-only codes);
* **names**: one name, and one NHS code, per unit code;
* **via lookups**: each key listed once, and every key a unit of the ``via`` level in this
  vintage (a lookup of another vintage would silently leave units out: its unknown keys are
  named);
* **parents**: every unit of a level lies in one unit of its ``parent`` (or in none, for every
  block alike), so the parents form a forest that the blocks confirm; the units that straddle are
  named with their blocks;
* **populations**: a whole number of people for every row (:func:`population_values`).

Examples
--------
>>> import pyarrow as pa
>>> ltla = pa.array(["L1", "L1", "L2", "L2", "L2"])
>>> check_parents({"ltla": ltla, "utla": pa.array(["U1", "U1", "U2", "U2", "U2"])},
...               {"ltla": "utla"})
>>> check_parents({"ltla": ltla, "utla": pa.array(["U1", "U1", "U2", "U2", "U1"])},
...               {"ltla": "utla"}, blocks=pa.array(["b1", "b2", "b3", "b4", "b5"]))
Traceback (most recent call last):
...
coterminus.errors.ManifestError: levels.ltla.parent = 'utla', but 1 ltla unit(s) lie in more than one utla unit: L2 (U2: 2 blocks; U1: 1 block, b5). ...
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import (
    LookupMismatchError,
    ManifestError,
    PopulationError,
    VintageMismatchError,
)
from ..vocabulary.levels import CODE_LEVELS, KNOWN_LEVELS, describe_code
from ..vocabulary.words import examples
from .tables import factorize
from .validate import MAX_POPULATION, check_population_values

__all__ = [
    "MAX_LEVELS",
    "check_block_codes",
    "check_parents",
    "check_via_keys",
    "one_per_code",
    "population_values",
]

#: The most levels a manifest may declare (the built-in vintages have 4 to 7).
MAX_LEVELS = 100


def _label(level: str) -> str:
    return KNOWN_LEVELS.get(level, {}).get("label", level)


def _prefixes(level: str) -> tuple[str, ...]:
    return tuple(sorted(p for p, levels in CODE_LEVELS.items() if level in levels))


def check_block_codes(
    codes: pa.Array,
    level: str,
    source: str,
    known: Mapping[str, pa.Array],
) -> None:
    """Refuse block codes that are missing, repeated, or not codes of the declared block level.

    Parameters
    ----------
    codes : pyarrow.Array of str
        The block column of the lookup.
    level : str
        The manifest's ``[blocks] level`` (``"lsoa11"``, ``"lsoa21"``, or a user's level).
    source : str
        The file, for messages.
    known : mapping of str to pyarrow.Array
        The codes of each block level known to coterminus (``{"lsoa11": ..., "lsoa21": ...}``).

    Raises
    ------
    LookupMismatchError
        Empty or repeated codes.
    VintageMismatchError
        Codes without the level's ONS prefix, or (for a known level) codes that are not codes
        of it, naming the other level they belong to.

    Examples
    --------
    >>> known = {"lsoa11": pa.array(["E01000001", "E01000002", "E01000003"]),
    ...          "lsoa21": pa.array(["E01000001", "E01000002", "E01033999"])}
    >>> check_block_codes(pa.array(["E01000001", "E01033999"]), "lsoa21", "lu.csv", known)
    >>> check_block_codes(pa.array(["E01000001", "E01000003"]), "lsoa21", "lu.csv", known)
    Traceback (most recent call last):
    ...
    coterminus.errors.VintageMismatchError: lu.csv: 1 of its 2 block codes are LSOA (2011) codes, not LSOA (2021) codes (E01000003): ...
    """
    n = len(codes)
    if codes.null_count:
        msg = f"{source}: {codes.null_count} row(s) with no block code; the lookup is incomplete."
        raise LookupMismatchError(msg)
    ids, uniques = factorize(codes)
    if len(uniques) < n:
        counts = np.bincount(ids, minlength=len(uniques))
        repeated = uniques.take(pa.array(np.flatnonzero(counts > 1))).to_pylist()
        msg = (
            f"{source}: {len(repeated)} duplicate code(s): {examples(repeated)}. "
            "A block lookup lists each block once."
        )
        raise LookupMismatchError(msg)
    prefixes = _prefixes(level)
    if prefixes:
        head = pc.utf8_slice_codeunits(codes, 0, 3)
        wrong = pc.invert(pc.is_in(head, value_set=pa.array(prefixes)))
        if pc.any(wrong).as_py():
            bad = codes.filter(wrong).to_pylist()
            shown = examples(f"{c} ({describe_code(c) or 'not an ONS code'})" for c in bad[:5])
            msg = (
                f"{source}: {len(bad)} of its {n:,} block codes do not start with "
                f"{' or '.join(prefixes)}, the prefix of {_label(level)} codes in England: "
                f"{shown}. coterminus covers England's {_label(level)}s only; drop those rows, "
                "or declare the block level the codes belong to ([blocks] level)."
            )
            raise VintageMismatchError(msg)
    universe = known.get(level)
    if universe is None:
        return
    outside = pc.invert(pc.is_in(codes, value_set=universe))
    if not pc.any(outside).as_py():
        return
    bad_codes = codes.filter(outside)
    for other, codes_other in known.items():
        if other == level:
            continue
        theirs = bad_codes.filter(pc.is_in(bad_codes, value_set=codes_other))
        if len(theirs):
            msg = (
                f"{source}: {len(theirs):,} of its {n:,} block codes are {_label(other)} codes, "
                f"not {_label(level)} codes ({examples(theirs.to_pylist())}): the lookup is of "
                f"another vintage than [blocks] level = {level!r} says. Use a lookup of "
                f"{_label(level)} codes, or declare level = {other!r} if the whole lookup is "
                f"{_label(other)}."
            )
            raise VintageMismatchError(msg)
    msg = (
        f"{source}: {len(bad_codes):,} of its {n:,} block codes are not {_label(level)} codes "
        f"({examples(bad_codes.to_pylist())}); use the ONS lookup of {_label(level)}s "
        "(coterminus data fetch), or correct those codes."
    )
    raise VintageMismatchError(msg)


def one_per_code(
    codes: pa.Array, values: pa.Array, *, what: str, where: str
) -> tuple[pa.Array, pa.Array]:
    """The distinct codes and the one value (name, NHS code) each has; refuse several.

    Empty values are ignored; a code with no value gets null.

    Returns
    -------
    (codes, values) : pyarrow.Array, pyarrow.Array
        Distinct non-null codes in order of first appearance, and each one's value.

    Raises
    ------
    ManifestError
        A code with two or more different values (names the codes and their values).

    Examples
    --------
    >>> one_per_code(pa.array(["A", "A", "B"]), pa.array(["x", "x", None]), what="name",
    ...              where="levels.icb.name_column")[1].to_pylist()
    ['x', None]
    >>> one_per_code(pa.array(["A", "A"]), pa.array(["x", "y"]), what="name",
    ...              where="levels.icb.name_column 'ICB24NM'")
    Traceback (most recent call last):
    ...
    coterminus.errors.ManifestError: levels.icb.name_column 'ICB24NM' gives 1 code(s) more than one name: A ('x', 'y'). ...
    """
    c, cu = factorize(codes)
    v, vu = factorize(values)
    ok = (c >= 0) & (v >= 0)
    width = max(len(vu), 1)
    pairs = np.unique(c[ok] * width + v[ok])
    per_code = np.bincount(pairs // width, minlength=len(cu))
    several = np.flatnonzero(per_code > 1)
    if len(several):
        shown = []
        for i in several[:10]:
            mine = pairs[pairs // width == i] % width
            names = ", ".join(repr(vu[int(j)].as_py()) for j in mine[:4])
            shown.append(f"{cu[int(i)].as_py()} ({names})")
        msg = (
            f"{where} gives {len(several)} code(s) more than one {what}: {examples(shown)}. "
            f"Each code has one {what}: point the manifest at the column of {what}s of this "
            "level's codes, or correct the file."
        )
        raise ManifestError(msg)
    first_row = np.full(len(cu), -1, dtype=np.int64)
    rows = np.flatnonzero(ok)
    unique_codes, first = np.unique(c[rows], return_index=True)
    first_row[unique_codes] = v[rows[first]]
    chosen = pa.array(first_row, mask=first_row < 0)
    return cu, vu.take(chosen) if len(vu) else pa.nulls(len(cu), pa.string())


def check_via_keys(
    keys: pa.Array, units: pa.Array, *, level: str, via: str, source: str, vintage: object
) -> None:
    """Refuse a ``via`` lookup whose keys repeat, or are not units of ``via`` in this vintage.

    Rows with an empty key are ignored (they assign nothing).

    Raises
    ------
    LookupMismatchError
        A key listed twice (named): the level would depend on which row is read first.
    VintageMismatchError
        Keys that are not ``via`` codes of this vintage (named): a lookup of another vintage
        leaves units out.

    Examples
    --------
    >>> check_via_keys(pa.array(["L1", "L2"]), pa.array(["L1", "L2", "L3"]), level="cauth",
    ...                via="ltla", source="lu.csv", vintage=2024)
    >>> check_via_keys(pa.array(["L1", "L9"]), pa.array(["L1", "L2"]), level="cauth",
    ...                via="ltla", source="lu.csv", vintage=2024)
    Traceback (most recent call last):
    ...
    coterminus.errors.VintageMismatchError: levels.cauth.source (lu.csv): 1 of its 2 keys are not ltla codes of vintage 2024: L9. ...
    """
    present = keys.drop_null()
    counts = pc.value_counts(present)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values").to_pylist()
    if repeated:
        msg = (
            f"levels.{level}.source ({source}): {len(repeated)} key(s) listed more than once: "
            f"{examples(repeated)}. A lookup lists each {via} code once; delete the repeated rows."
        )
        raise LookupMismatchError(msg)
    unknown = present.filter(pc.invert(pc.is_in(present, value_set=units)))
    if len(unknown):
        msg = (
            f"levels.{level}.source ({source}): {len(unknown)} of its {len(present)} keys are "
            f"not {via} codes of vintage {vintage}: {examples(unknown.to_pylist())}. The lookup "
            f"is probably of another vintage, and the {via} units it misses would belong to no "
            f"{level}: use a lookup keyed by this vintage's {via} codes."
        )
        raise VintageMismatchError(msg)


def check_parents(
    columns: Mapping[str, pa.Array],
    parents: Mapping[str, str | None],
    *,
    blocks: pa.Array | None = None,
) -> None:
    """Refuse a declared parent that does not group whole units of its child level.

    Parameters
    ----------
    columns : mapping of str to pyarrow.Array
        Each level's unit code per block (null where the level does not cover a block).
    parents : mapping of str to str or None
        Each level's declared ``parent``.
    blocks : pyarrow.Array, optional
        The block codes, to name the blocks that break the nesting.

    Raises
    ------
    ManifestError
        Units of a level lie in more than one unit of its parent (a block outside every parent
        unit counts as one more); each is named with the parent units and their block counts.

    Notes
    -----
    ONS best-fit lookups can put a block in units of two levels that otherwise nest apart
    (CHECKS.md §11: LSOA E01027305 is in Cherwell but in NHS Northamptonshire's sub-ICB
    location). Such levels are not declared as parent and child: the parent is a promise that
    the blocks keep, and code that walks the hierarchy relies on it.
    """
    for child, parent in parents.items():
        if parent is None or parent not in columns or child not in columns:
            continue
        c, cu = factorize(columns[child])
        p, pu = factorize(columns[parent])
        inside = c >= 0
        width = len(pu) + 1
        pairs = np.unique(c[inside] * width + (p[inside] + 1))
        per_unit = np.bincount(pairs // width, minlength=len(cu))
        several = np.flatnonzero(per_unit > 1)
        if not len(several):
            continue
        shown = []
        for i in several[:5]:
            rows = np.flatnonzero(c == i)
            values, counts = np.unique(p[rows], return_counts=True)
            order = np.argsort(-counts, kind="stable")  # largest part first
            described = []
            for rank, (j, k) in enumerate(zip(values[order], counts[order], strict=True)):
                where = pu[int(j)].as_py() if j >= 0 else f"no {parent}"
                text = f"{where}: {k} block{'s' if k > 1 else ''}"
                if blocks is not None and rank > 0 and k <= 3:  # the blocks that stray
                    named = blocks.take(pa.array(rows[p[rows] == j])).to_pylist()
                    text += ", " + ", ".join(named)
                described.append(text)
            shown.append(f"{cu[int(i)].as_py()} ({'; '.join(described)})")
        msg = (
            f"levels.{child}.parent = {parent!r}, but {len(several)} {child} unit(s) lie in more "
            f"than one {parent} unit: {examples(shown, k=5)}. A parent groups whole units: fix "
            f"the lookup, or remove parent from [levels.{child}] if the levels do not nest "
            "(ONS best-fit lookups can split a unit by one block; see METHODS.md §8)."
        )
        raise ManifestError(msg)


def population_values(values: pa.Array, codes: pa.Array, source: str, column: str) -> np.ndarray:
    """A population column as whole numbers of people (int64), or a :class:`PopulationError`.

    Integers (or integer text) from 0 to 99,999,999 pass straight through Arrow; anything else
    goes to :func:`coterminus.data.validate.check_population_values`, which names each bad row.

    Examples
    --------
    >>> population_values(pa.array(["1636", "0"]), pa.array(["E1", "E2"]), "p.csv", "ALL_AGES")
    array([1636,    0])
    >>> population_values(pa.array(["1,636"]), pa.array(["E1"]), "p.csv", "ALL_AGES")
    array([1636])
    """
    try:
        whole = pc.cast(values, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        whole = None
    if whole is not None and whole.null_count == 0:
        arr = np.asarray(whole, dtype=np.int64)
        if len(arr) == 0 or (arr.min() >= 0 and arr.max() < MAX_POPULATION):
            return arr
    raw = pd.Series(values.to_pylist(), dtype=object)
    checked = check_population_values(raw, codes.to_pylist(), source, column)
    if len(checked) != len(values):  # pragma: no cover - check_population_values raises first
        msg = f"{source}: population column {column!r} could not be read."
        raise PopulationError(msg)
    return checked
