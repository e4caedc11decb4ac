"""Integrity on load (``_integrity``) and the self-healing parsed-layer cache (``_parsed_cache``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from coterminus import data as datasets
from coterminus.data import _parsed_cache
from coterminus.data import integrity as _integrity
from coterminus.data.integrity import (
    Integrity,
    block_digest,
    checking,
    file_sha256,
    trust_stamp,
    verify_file,
)
from coterminus.data.readers import read_boundaries, read_lookup, read_population
from coterminus.errors import CacheWarning, ChecksumError, ModifiedFileError

POP_ID = "lsoa-population-mid2019"
RUGBY = "E07000220"


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(_integrity.ENV_TRUST_MODIFIED, raising=False)
    _integrity.reset()
    _parsed_cache._warned_roots.clear()
    yield
    _integrity.reset()
    _parsed_cache._warned_roots.clear()


# --- file hashes -------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_the_hash_is_the_sha256_of_the_bytes_and_the_real_files_match_their_pins(
    data_dir: Path,
) -> None:
    ds = datasets.get(POP_ID)
    path = data_dir / ds.local
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify_file(path, ds.sha256, dataset=POP_ID) == ds.sha256
    lookup = datasets.get("lsoa-lookup-2019")
    assert verify_file(data_dir / lookup.local, lookup.sha256.upper()) == lookup.sha256


def test_a_second_read_costs_a_stat_and_an_edit_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "pop.csv"
    p.write_bytes(b"LSOA11CD,ALL_AGES\nE01000001,1636\n")
    calls: list[int] = []
    real = hashlib.sha256

    def counting() -> object:
        calls.append(1)
        return real()

    monkeypatch.setattr(_integrity.hashlib, "sha256", counting)
    first = file_sha256(p)
    assert file_sha256(p) == first
    assert file_sha256(str(p)) == first
    assert len(calls) == 1
    with p.open("ab") as handle:  # new size: hashed again
        handle.write(b"E01000002,1\n")
    second = file_sha256(p)
    assert len(calls) == 2
    assert second != first
    assert second == real(p.read_bytes()).hexdigest()


def test_an_unpinned_file_is_not_even_hashed(tmp_path: Path) -> None:
    assert verify_file(tmp_path / "does-not-matter.csv", None) is None


def _rugby_edited(data_dir: Path, tmp_path: Path) -> Path:
    """The real population file with every LSOA of Rugby set to 1 person (the issue's case)."""
    lookup = read_lookup(data_dir / datasets.get("lsoa-lookup-2019").local)
    rugby = set(lookup.index[lookup["ltla"] == RUGBY])
    assert len(rugby) == 61
    src = data_dir / datasets.get(POP_ID).local
    table = pd.read_csv(src, dtype=str)
    code_col = next(c for c in table.columns if c.lower() == "lsoa11cd")
    pop_col = next(c for c in table.columns if c.lower() == "pop_all_ages_mid2019")
    table.loc[table[code_col].isin(rugby), pop_col] = "1"
    out = tmp_path / src.name
    table.to_csv(out, index=False)
    return out


@pytest.mark.realdata
def test_an_edited_population_file_is_refused_on_load_with_both_hashes_and_the_fix(
    data_dir: Path, tmp_path: Path
) -> None:
    edited = _rugby_edited(data_dir, tmp_path)
    pin = datasets.get(POP_ID).sha256
    found = hashlib.sha256(edited.read_bytes()).hexdigest()
    with pytest.raises(ModifiedFileError) as info:
        verify_file(edited, pin, dataset=POP_ID)
    msg = str(info.value)
    assert isinstance(info.value, ChecksumError)
    assert msg.startswith(f"{edited.name} has been modified: its SHA-256 is {found} ")
    assert f"the published file's is {pin}" in msg
    assert f"`coterminus data fetch {POP_ID}`" in msg
    assert "trust_modified=True (CLI: --trust-modified)" in msg


@pytest.mark.realdata
def test_trust_modified_accepts_the_edit_and_stamps_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = _rugby_edited(data_dir, tmp_path)
    pin = datasets.get(POP_ID).sha256
    found = file_sha256(edited)
    record = Integrity(trust_modified=True)
    assert trust_stamp(Integrity()) is None
    with checking(record):
        assert verify_file(edited, pin, dataset=POP_ID) == found
    assert record.modified == {str(edited.resolve()): (pin, found)}
    stamp = trust_stamp(record)
    assert stamp == (
        f"MODIFIED DATA: 1 input file differs from the published ONS file and was used because "
        f"of --trust-modified: {edited.name} (published {pin[:12]}…, used {found[:12]}…). "
        "Figures may not match ONS data."
    )
    with pytest.raises(ModifiedFileError):  # outside the block nothing is trusted
        verify_file(edited, pin)
    assert trust_stamp(record) == stamp


def test_the_environment_variable_and_the_record_switch_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "x.csv"
    p.write_text("x")
    with pytest.raises(ModifiedFileError):
        verify_file(p, "0" * 64)
    monkeypatch.setenv(_integrity.ENV_TRUST_MODIFIED, "1")
    assert verify_file(p, "0" * 64) == file_sha256(p)
    monkeypatch.setenv(_integrity.ENV_TRUST_MODIFIED, "0")
    with pytest.raises(ModifiedFileError):
        verify_file(p, "0" * 64)
    with checking(Integrity(trust_modified=True)) as record:
        assert verify_file(p, "f" * 64) == file_sha256(p)
    with pytest.raises(ModifiedFileError):
        verify_file(p, "f" * 64)
    assert record.modified == {str(p.resolve()): ("f" * 64, file_sha256(p))}
    monkeypatch.setenv(_integrity.ENV_TRUST_MODIFIED, "1")
    with checking(Integrity(trust_modified=False)), pytest.raises(ModifiedFileError):
        verify_file(p, "f" * 64)  # the record's setting wins over the environment


def test_stamp_lists_several_files(tmp_path: Path) -> None:
    with checking(Integrity()) as record:
        for name in ("b.csv", "a.csv"):
            (tmp_path / name).write_text(name)
            verify_file(tmp_path / name, "0" * 64, trust=True)
    stamp = trust_stamp(record) or ""
    assert stamp.startswith("MODIFIED DATA: 2 input files differ from the published ONS files")
    assert stamp.index("a.csv") < stamp.index("b.csv")


# --- building-block digest ---------------------------------------------------------------------------
def test_block_digest_is_the_sha256_of_sorted_newline_joined_codes() -> None:
    codes = ["E01000003", "E01000001", "E01000002"]
    expected = hashlib.sha256(b"E01000001\nE01000002\nE01000003").hexdigest()
    assert block_digest(codes) == expected
    assert block_digest(reversed(codes)) == expected
    assert block_digest(codes[:2]) != expected
    assert block_digest([*codes, "E01000001"]) != expected  # a repeat is not the same universe
    assert block_digest([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.realdata
def test_block_digest_of_the_2019_lookup_equals_that_of_englands_population(
    data_dir: Path,
) -> None:
    lookup = read_lookup(data_dir / datasets.get("lsoa-lookup-2019").local)
    pop = read_population(data_dir / datasets.get(POP_ID).local, england_only=False)
    english = [c for c in pop.index if c.startswith("E01")]
    assert len(lookup) == len(english) == 32_844
    assert block_digest(lookup.index) == block_digest(english)
    assert block_digest(lookup.index[25:]) != block_digest(english)


# --- parsed-layer cache ------------------------------------------------------------------------------
@pytest.fixture
def source(tmp_path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"LAD19CD": ["E06000001", "E06000002"], "LAD19NM": ["Hartlepool", "Middlesbrough"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs=27700,
    )
    p = tmp_path / "src" / "lad.gpkg"
    p.parent.mkdir()
    gdf.to_file(p, layer="lad")
    return p


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(root))
    return root / "parsed"


def _entry(root: Path, suffix: str) -> Path:
    (found,) = [p for p in root.iterdir() if p.suffix == suffix]
    return found


def test_the_cache_returns_exactly_what_the_reader_returns(
    source: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = read_boundaries(source, layer="lad", level="ltla")
    first = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    key = f"{sha}-lad-ltla-r0-v{_parsed_cache.CACHE_FORMAT}"
    assert sorted(p.name for p in cache_root.iterdir()) == [f"{key}.json", f"{key}.parquet"]
    sidecar = json.loads((cache_root / f"{key}.json").read_text())
    assert sidecar["source_sha256"] == sha
    assert (sidecar["layer"], sidecar["level"], sidecar["repair"], sidecar["rows"]) == (
        "lad",
        "ltla",
        False,
        2,
    )

    def no_source(*args: object, **kwargs: object) -> None:
        raise AssertionError("the source must not be read again")

    monkeypatch.setattr(_parsed_cache, "read_boundaries", no_source)
    again = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    for got in (first, again):
        assert_geodataframe_equal(got, direct)
        assert got.attrs == direct.attrs


def test_no_cache_touches_no_folder(source: Path, cache_root: Path) -> None:
    got = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=False)
    assert len(got) == 2
    assert not cache_root.parent.exists()


def test_the_key_separates_repair_level_and_format(
    source: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True, repair=True)
    assert len(list(cache_root.iterdir())) == 4
    monkeypatch.setattr(_parsed_cache, "CACHE_FORMAT", _parsed_cache.CACHE_FORMAT + 1)
    _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    assert len(list(cache_root.iterdir())) == 6  # an old format is never read


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("truncate-parquet", "its parquet file differs from the SHA-256 recorded when it was"),
        ("garbage-parquet", "its parquet file differs from the SHA-256 recorded when it was"),
        ("one-byte-same-size-same-mtime", "its parquet file differs from the SHA-256 recorded"),
        ("corrupt-json", "its JSON sidecar is unreadable (JSONDecodeError"),
        ("other-source", "its sidecar describes another source (source_sha256 differ)"),
        ("edited-attrs", "its sidecar does not match the SHA-256 recorded in it"),
        ("missing-json", "it is incomplete (parquet or sidecar missing)"),
    ],
)
def test_an_unreadable_entry_is_discarded_and_rebuilt_with_one_warning(
    source: Path, cache_root: Path, damage: str, reason: str
) -> None:
    direct = read_boundaries(source, layer="lad", level="ltla")
    _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    parquet, sidecar = _entry(cache_root, ".parquet"), _entry(cache_root, ".json")
    good_parquet = parquet.read_bytes()
    if damage == "truncate-parquet":
        parquet.write_bytes(good_parquet[: len(good_parquet) // 2])
    elif damage == "garbage-parquet":
        parquet.write_bytes(b"not parquet at all")
    elif damage == "one-byte-same-size-same-mtime":  # a poisoned entry that keeps its stat
        before = parquet.stat()
        edited = bytearray(good_parquet)
        edited[len(edited) // 2] ^= 0x01
        parquet.write_bytes(bytes(edited))
        os.utime(parquet, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert parquet.stat().st_size == before.st_size
    elif damage == "edited-attrs":
        meta = json.loads(sidecar.read_text())
        meta["attrs"]["vintage"] = 2024
        sidecar.write_text(json.dumps(meta))
    elif damage == "corrupt-json":
        sidecar.write_text('{"format": 3, "attrs": {')
    elif damage == "other-source":
        meta = json.loads(sidecar.read_text())
        meta["source_sha256"] = "0" * 64
        sidecar.write_text(json.dumps(meta))
    else:
        sidecar.unlink()
    with pytest.warns(CacheWarning) as record:
        got = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    assert len(record) == 1
    text = str(record[0].message)
    assert text == (
        f"parsed-layer cache entry {parquet.name} for lad.gpkg was discarded because "
        f"{reason}{text.split(reason, 1)[1]}"
    )
    assert text.endswith("rebuilt it from the source.")
    assert "\n" not in text
    assert_geodataframe_equal(got, direct)
    assert got.attrs == direct.attrs
    # healed: the next read is silent and from the cache
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        healed = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    assert_geodataframe_equal(healed, direct)
    assert sorted(p.name for p in cache_root.iterdir()) == sorted([parquet.name, sidecar.name])


def test_a_read_only_warm_cache_is_read_and_a_cold_entry_loads_without_it(
    source: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    before = sorted(p.name for p in cache_root.iterdir())
    cache_root.chmod(0o555)
    cache_root.parent.chmod(0o555)
    real_access = os.access
    monkeypatch.setattr(  # root can write anywhere: answer as for a user
        _parsed_cache.os,
        "access",
        lambda p, mode: (
            False if Path(p) in (cache_root, cache_root.parent) else real_access(p, mode)
        ),
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warm: no warning at all
            warm = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
        assert len(warm) == 2
        with pytest.warns(
            CacheWarning,
            match=re.escape(
                f"the parsed-layer cache {cache_root} cannot be written (permission denied (read-only)); loading without it (slower). Set COTERMINUS_CACHE_DIR to a writable folder"
            ),
        ):
            cold = _parsed_cache.cached_boundaries(
                source, "lad", "ltla", use_cache=True, repair=True
            )
        assert len(cold) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per folder and process
            _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True, repair=True)
        assert sorted(p.name for p in cache_root.iterdir()) == before
    finally:
        cache_root.parent.chmod(0o755)
        cache_root.chmod(0o755)


def test_a_cache_folder_that_cannot_exist_degrades_to_no_cache(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("nothing can be created below a regular file")
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(CacheWarning, match="cannot be written .*Set COTERMINUS_CACHE_DIR"):
        got = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    assert list(got.index) == ["E06000001", "E06000002"]


def test_a_full_disk_while_caching_leaves_no_entry(
    source: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Path, other: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full)
    with pytest.warns(CacheWarning, match="no space left on the device"):
        got = _parsed_cache.cached_boundaries(source, "lad", "ltla", use_cache=True)
    assert len(got) == 2
    assert list(cache_root.iterdir()) == []


@pytest.mark.realdata
def test_the_real_lsoa_layer_round_trips_through_the_cache(
    data_dir: Path, cache_root: Path
) -> None:
    path, layer = datasets.locate_layer("ccg-2019", data_dir=data_dir)
    first = _parsed_cache.cached_boundaries(Path(path), layer, "ccg", use_cache=True)
    again = _parsed_cache.cached_boundaries(Path(path), layer, "ccg", use_cache=True)
    assert len(first) == 191
    assert_geodataframe_equal(first, again)
    assert again.attrs == first.attrs
    assert first.attrs["vintage"] == 2019


# --- completeness of the building blocks --------------------------------------------------------------
@pytest.mark.realdata
def test_25_lsoas_removed_from_lookup_and_population_are_named_with_the_people_lost(
    data_dir: Path,
) -> None:
    """The issue's case: 25 LSOAs of NHS Coventry and Rugby CCG dropped from both files passed
    silently (439,618 people instead of 480,456). Against the universe they are named."""
    from coterminus.data.validate import check_blocks
    from coterminus.errors import LookupMismatchError

    lookup = read_lookup(data_dir / datasets.get("lsoa-lookup-2019").local)
    pop_path = data_dir / datasets.get(POP_ID).local
    pop = read_population(pop_path, england_only=False)
    universe = sorted(lookup.index)
    count, digest = len(universe), block_digest(universe)
    check_blocks(lookup.index, count=count, digest=digest, what="lookup")  # the real file passes
    ccg = lookup.index[lookup["ccg"] == "E38000038"]
    assert int(pop.reindex(ccg).sum()) == 480_456
    dropped = sorted(ccg)[:25]
    raw = pd.read_csv(pop_path, dtype=str)  # independent sum of the dropped LSOAs' people
    lost = int(raw.loc[raw["LSOA11CD"].isin(dropped), "POP_ALL_AGES_MID2019"].astype(int).sum())
    kept = [c for c in universe if c not in set(dropped)]
    with pytest.raises(LookupMismatchError) as info:
        check_blocks(
            kept, count=count, digest=digest, what="pop.csv", universe=universe, population=pop
        )
    msg = str(info.value)
    assert msg.startswith(
        "pop.csv does not hold the 32,844 LSOAs of its vintage (it has 32,819): 25 missing ("
        + ", ".join(dropped[:10])
        + " and 15 more), 0 extra, "
    )
    assert msg.endswith(
        f"leaving out {lost:,} people; use the complete ONS file (coterminus data fetch)."
    )
    with pytest.raises(LookupMismatchError, match=r"it has 32,844\) or its codes differ"):
        check_blocks(  # same count, one code swapped: only the checksum can tell
            [*kept, *dropped[:24], "E01999999"], count=count, digest=digest, what="pop.csv"
        )
    with pytest.raises(
        LookupMismatchError, match=r"\(it has 32,845\): 0 missing, 0 extra, 1 repeated;"
    ):
        check_blocks(
            [*universe, universe[2]], count=count, digest=digest, what="x", universe=universe
        )


# --- the prepared block table: an edited entry is rebuilt, never used ---------------------------------
def test_one_byte_edited_in_a_prepared_block_table_is_rebuilt_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 2019 block table of the embedded copy, prepared in the cache; one byte of it edited
    keeping size and mtime (a poisoned entry): the next load warns, rebuilds, and gives the
    published figures; the load after that reads the rebuilt entry silently."""
    from coterminus.geography.bundle import load

    monkeypatch.setenv("COTERMINUS_DATA_DIR", "")
    monkeypatch.setenv("COTERMINUS_CACHE_DIR", str(tmp_path / "cache"))
    first = load(2019).lsoa
    (table,) = (tmp_path / "cache" / "parsed").glob("blocks-*.blocks.arrow")
    before = table.stat()
    data = bytearray(table.read_bytes())
    at = data.rfind(b"E38000038")  # a CCG code in the table: change it to another CCG's
    assert at > 0
    data[at + 8] = ord("9")
    table.write_bytes(bytes(data))
    os.utime(table, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (table.stat().st_size, table.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with pytest.warns(CacheWarning, match="differs from the SHA-256 recorded when it was written"):
        again = load(2019).lsoa
    pd.testing.assert_frame_equal(again, first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(load(2019).lsoa, first)
