"""Property tests (hypothesis): valid inputs give sane numbers; corrupted inputs never do.

* For random valid building-block tables (units, targets, whole non-negative populations, every
  unit with people), population shares of every unit and of every target sum to 1, the
  coterminosity index J of any footprint is in [0, 1], and no output holds a NaN.
* For random corruptions of a valid population file, loading it (read, plausibility rules,
  completeness against the known LSOA universe, and the pinned SHA-256 when there is one) gives
  either a typed error or exactly the original populations — never a different answer.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coterminus.analysis.metrics import footprint_metrics
from coterminus.analysis.overlap import population_overlap
from coterminus.data import integrity as _integrity
from coterminus.data.integrity import block_digest, verify_file
from coterminus.data.readers import read_population
from coterminus.data.validate import MAX_POPULATION, check_positive_totals
from coterminus.errors import CoterminusError, LookupMismatchError, PopulationError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- valid inputs -----------------------------------------------------------------------------------
@st.composite
def building_blocks(draw: st.DrawFn) -> pd.DataFrame:
    n_units = draw(st.integers(1, 6))
    n_targets = draw(st.integers(1, 6))
    n = draw(st.integers(n_units, 40))
    # every unit gets at least one block with people, so no unit total is 0
    units = list(range(n_units)) + draw(
        st.lists(st.integers(0, n_units - 1), min_size=n - n_units, max_size=n - n_units)
    )
    targets = draw(st.lists(st.integers(0, n_targets - 1), min_size=n, max_size=n))
    people = [draw(st.integers(1, 20_000)) for _ in range(n_units)] + draw(
        st.lists(st.integers(0, 20_000), min_size=n - n_units, max_size=n - n_units)
    )
    return pd.DataFrame(
        {
            "unit": [f"E3890000{u}" for u in units],
            "target": [f"E0690000{t}" for t in targets],
            "population": np.array(people, dtype=np.int64),
        }
    )


@SETTINGS
@given(blocks=building_blocks(), data=st.data())
def test_shares_sum_to_one_and_j_is_in_the_unit_interval(
    blocks: pd.DataFrame, data: st.DataObject
) -> None:
    t = population_overlap(blocks, "unit", "target")
    check_positive_totals(t.unit_totals, "unit")  # valid input: passes the validator
    assert not t.pairs.isna().any().any()
    by_unit = t.pairs.groupby("unit")["share_of_unit"].sum()
    np.testing.assert_allclose(by_unit.to_numpy(), 1.0, rtol=0, atol=1e-12)
    positive = t.target_totals[t.target_totals > 0].index
    by_target = t.pairs[t.pairs["target"].isin(positive)].groupby("target")["share_of_target"].sum()
    np.testing.assert_allclose(by_target.to_numpy(), 1.0, rtol=0, atol=1e-12)
    assert int(t.unit_totals.sum()) == int(blocks["population"].sum())
    units = sorted(t.unit_totals.index)
    members = data.draw(st.lists(st.sampled_from(units), min_size=1, unique=True))
    fm = footprint_metrics(t, members)
    assert 0.0 <= fm.index <= 1.0
    assert not np.isnan(fm.index)
    numeric = fm.by_la.select_dtypes("number")
    assert not numeric.isna().any().any()
    assert fm.coterminous == (fm.index >= 1 - fm.tolerance)
    np.testing.assert_allclose(fm.by_la["share_of_footprint"].sum(), 1.0, atol=1e-12)


@SETTINGS
@given(blocks=building_blocks())
def test_a_unit_with_no_people_is_an_error_not_a_nan(blocks: pd.DataFrame) -> None:
    first = blocks["unit"].iloc[0]
    emptied = blocks.assign(population=np.where(blocks["unit"] == first, 0, blocks["population"]))
    t = population_overlap(emptied, "unit", "target")
    with pytest.raises(PopulationError, match=rf"have a population of 0: {first}\b"):
        check_positive_totals(t.unit_totals, "unit")


# --- corruptions of a valid population file ---------------------------------------------------------
HEAD = "LSOA11CD,LSOA11NM,POP_ALL_AGES_MID2019\n"


@st.composite
def population_files(draw: st.DrawFn) -> tuple[list[str], list[int]]:
    n = draw(st.integers(2, 25))
    codes = [
        f"E01{i:06d}"
        for i in sorted(draw(st.sets(st.integers(1, 999_999), min_size=n, max_size=n)))
    ]
    people = draw(st.lists(st.integers(0, 60_000), min_size=n, max_size=n))
    return codes, people


def _render(codes: list[str], people: list[int]) -> list[str]:
    return [
        f"{c},Somewhere {i:03d}A,{p}\n" for i, (c, p) in enumerate(zip(codes, people, strict=True))
    ]


def _load(path: Path, universe: list[str], pin: str | None) -> pd.Series:
    """What a loader does: pinned hash (if any), read + plausibility, completeness."""
    verify_file(path, pin)
    pop = read_population(path)
    if len(pop) != len(universe) or block_digest(pop.index) != block_digest(universe):
        missing = sorted(set(universe) - set(pop.index))
        extra = sorted(set(pop.index) - set(universe))
        msg = f"LSOAs missing {missing[:5]}, extra {extra[:5]}; use the complete file."
        raise LookupMismatchError(msg)
    return pop


BAD_VALUES = [
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "1e30",
    "1e400",
    "-1",
    "-0.5",
    "1.5",
    "0.1",
    "lots",
    "",
    "100000000",
    "99999999.5",
    "0x10",
    "--5",
    "1e8",
]


@SETTINGS
@given(
    file=population_files(),
    kind=st.sampled_from(
        [
            "bad-value",
            "pad-value",
            "drop-row",
            "duplicate-row",
            "foreign-code",
            "bytes-in-name",
            "bytes-in-value",
        ]
    ),
    data=st.data(),
)
def test_corrupting_an_unpinned_file_gives_an_error_or_the_same_answer(
    file: tuple[list[str], list[int]], kind: str, data: st.DataObject
) -> None:
    codes, people = file
    lines = _render(codes, people)
    i = data.draw(st.integers(0, len(lines) - 1))
    code, name, value = lines[i].rstrip("\n").split(",")
    raw: bytes
    if kind == "bad-value":
        lines[i] = f"{code},{name},{data.draw(st.sampled_from(BAD_VALUES))}\n"
    elif kind == "pad-value":
        lines[i] = f"{code},{name},  {value} \n"
    elif kind == "drop-row":
        del lines[i]
    elif kind == "duplicate-row":
        lines.insert(i, lines[i])
    elif kind == "foreign-code":
        lines[i] = f"E02{i:06d},{name},{value}\n"  # a code outside the LSOA universe
    body = (HEAD + "".join(lines)).encode("utf-8")
    if kind in ("bytes-in-name", "bytes-in-value"):
        junk = data.draw(st.sampled_from([b"\x81", b"\xe9", b"\x96", b"\xff\xfe", b"\x00"]))
        line_start = len((HEAD + "".join(lines[:i])).encode())
        offset = line_start + len(code) + 1 + (len(name) + 1 if kind == "bytes-in-value" else 2)
        body = body[:offset] + junk + body[offset:]
    raw = body
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pop.csv"
        path.write_bytes(raw)
        failure: CoterminusError | None = None  # typed, never a bare ValueError or a traceback
        try:
            got = _load(path, codes, pin=None)
        except CoterminusError as exc:
            failure = exc
    if failure is not None:
        assert kind != "pad-value", f"spaces around a number must not be an error: {failure}"
        return
    assert kind in ("pad-value", "bytes-in-name"), kind
    expected = pd.Series(people, index=pd.Index(codes, name="code"), dtype="int64")
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert (got >= 0).all()
    assert (got < MAX_POPULATION).all()


@SETTINGS
@given(
    file=population_files(),
    kind=st.sampled_from(["flip", "truncate", "append", "delete"]),
    data=st.data(),
)
def test_corrupting_a_pinned_file_is_always_an_error(
    file: tuple[list[str], list[int]], kind: str, data: st.DataObject
) -> None:
    codes, people = file
    good = (HEAD + "".join(_render(codes, people))).encode()
    pin = hashlib.sha256(good).hexdigest()
    k = data.draw(st.integers(0, len(good) - 1))
    if kind == "flip":
        bad = good[:k] + bytes([good[k] ^ data.draw(st.integers(1, 255))]) + good[k + 1 :]
    elif kind == "truncate":
        bad = good[:k]
    elif kind == "append":
        bad = good + data.draw(st.binary(min_size=1, max_size=20))
    else:
        bad = good[:k] + good[k + 1 :]
    assume(bad != good)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pop.csv"
        path.write_bytes(good)
        expected = _load(path, codes, pin)
        assert expected.tolist() == people
        # the corrupted copy as another data directory would hold it (an edit in place within
        # one clock tick that keeps the size would share the memo key: see file_sha256)
        edited = Path(folder) / "edited" / "pop.csv"
        edited.parent.mkdir()
        edited.write_bytes(bad)
        with pytest.raises(CoterminusError, match="has been modified"):
            _load(edited, codes, pin)
    _integrity.reset()
