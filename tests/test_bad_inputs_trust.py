"""Bad inputs of issue 22 ("trust at every boundary"), as a hostile user would try them.

The section of the shared corpus (``tests/test_bad_inputs.py``) for manifests, scenarios, the
cache marker, writers and command-line options, in a file of its own because it needs its own
fixtures (a tiny geography built in code, a loader that must not be called). Every case
asserts the exception type and the message (what went wrong and the fix), no traceback, and
that nothing was left behind: the case's folder is exactly as before. Command-line cases also
assert one error line on stderr, its exit code, and, where the check comes before loading,
that no geography was loaded (the loader is replaced by one that fails the test).

Run alone: ``pytest tests/test_bad_inputs_trust.py``.
"""

from __future__ import annotations

import math
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import coterminus.cli.load as cli_load
from coterminus import cli
from coterminus.cli.options import available_cores, cap_at_cores, connect_scheduler
from coterminus.data import cache as cache_mod
from coterminus.data.atomic import atomic_write_csv, atomic_write_text, spreadsheet_safe
from coterminus.data.manifest import manifest_text, read_manifest
from coterminus.errors import (
    CacheError,
    ManifestError,
    OutputError,
    ScenarioError,
    SchedulerError,
)
from coterminus.geography.bundle import Geography
from coterminus.geography.scenario import read_scenario_table, scenario
from coterminus.vocabulary.levels import default_level

MAX_MESSAGE = 1000  # issue 21: no error message longer than this


@dataclass(frozen=True)
class Ctx:
    """Folders of one case: inputs (``inp``) and outputs (``out``, holding an older file)."""

    inp: Path
    out: Path


def _tiny_geography() -> Geography:
    """Eight LSOAs, two ICBs, three lower-tier and two upper-tier councils::

    LSOA  1 2 3 4 | 5 6 7 8
    icb   E54000001 (QAA) | E54000002 (QBB)
    ltla  E07000001 (1-2), E07000002 (3-4) | E06000001 (5-8, unitary)
    utla  E10000001 (1-4)                  | E06000001 (5-8)
    """
    codes = [f"E0100000{i}" for i in range(1, 9)]
    lsoa = pd.DataFrame(
        {
            "name": [f"block {i}" for i in range(1, 9)],
            "icb": ["E54000001"] * 4 + ["E54000002"] * 4,
            "ltla": ["E07000001"] * 2 + ["E07000002"] * 2 + ["E06000001"] * 4,
            "utla": ["E10000001"] * 4 + ["E06000001"] * 4,
            "population": [100] * 8,
        },
        index=pd.Index(codes, name="lsoa"),
    )
    names = {
        "icb": pd.DataFrame(
            {"name": ["North ICB", "South ICB"], "nhs_code": ["QAA", "QBB"]},
            index=pd.Index(["E54000001", "E54000002"], name="code"),
        ),
        "ltla": pd.DataFrame(
            {"name": ["Alpha", "Beta", "Unitaryshire"]},
            index=pd.Index(["E07000001", "E07000002", "E06000001"], name="code"),
        ),
        "utla": pd.DataFrame(
            {"name": ["Countyshire", "Unitaryshire"]},
            index=pd.Index(["E10000001", "E06000001"], name="code"),
        ),
    }
    levels = [
        default_level("icb", block="lsoa21"),
        default_level("ltla", block="lsoa21", parent="utla"),
        default_level("utla", block="lsoa21"),
    ]
    return Geography(2024, lsoa, levels=levels, names=names, block="lsoa21")


GEO = _tiny_geography()


def _manifest(ctx: Ctx, old: str, new: str, *, vintage: int = 2019) -> Path:
    """A built-in manifest with ``old`` replaced by ``new`` (which must be found)."""
    text = manifest_text(vintage)
    assert old in text, old
    path = ctx.inp / "m.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _read(ctx: Ctx, old: str, new: str) -> None:
    read_manifest(_manifest(ctx, old, new))


# --- manifests: the schema, checked before any data file is read ---------------------------------
def manifest_blocks_as_text(ctx: Ctx) -> None:
    _read(ctx, "[blocks]\n", 'blocks = "lookup.csv"\n[blocks_old]\n')


def manifest_against_as_text(ctx: Ctx) -> None:
    _read(ctx, 'against = ["utla", "ltla"]', 'against = "utla"')


def manifest_parent_as_list(ctx: Ctx) -> None:
    _read(ctx, 'parent = "stp"', 'parent = ["stp"]')


def manifest_code_column_as_number(ctx: Ctx) -> None:
    _read(ctx, 'code_column = "CCG19CD"', "code_column = 7")


def manifest_expected_count_as_text(ctx: Ctx) -> None:
    _read(ctx, "count = 32844", 'count = "many"')


def manifest_unknown_top_level_key(ctx: Ctx) -> None:
    _read(ctx, "[levels.ccg]", "[levls.ccg]")


def manifest_unknown_population_key(ctx: Ctx) -> None:
    _read(ctx, 'column = "POP_ALL_AGES_MID2019"', 'colum = "POP_ALL_AGES_MID2019"')


def manifest_unknown_source_key(ctx: Ctx) -> None:
    _read(
        ctx,
        'source = { dataset = "lsoa-lookup-2019" }',
        'source = { dataset = "lsoa-lookup-2019", sha265 = "x" }',
    )


def manifest_level_named_population(ctx: Ctx) -> None:
    _read(ctx, "[levels.utla]", "[levels.population]")


def manifest_level_named_lsoa(ctx: Ctx) -> None:
    _read(ctx, "[levels.utla]", "[levels.lsoa]")


def manifest_level_named_like_the_blocks(ctx: Ctx) -> None:
    _read(ctx, "[levels.utla]", "[levels.lsoa11]")


def manifest_self_parent(ctx: Ctx) -> None:
    _read(ctx, 'parent = "stp"', 'parent = "ccg"')


def manifest_parent_cycle(ctx: Ctx) -> None:
    _read(ctx, 'code_column = "STP19CD"', 'code_column = "STP19CD"\nparent = "ccg"')


def manifest_parent_typo(ctx: Ctx) -> None:
    _read(ctx, 'parent = "stp"', 'parent = "stpp"')


def manifest_etc_passwd_as_population(ctx: Ctx) -> None:
    _read(
        ctx,
        'source = { dataset = "lsoa-population-mid2019" }',
        'source = { file = "/etc/passwd" }',
    )


def manifest_polygons_from_a_csv(ctx: Ctx) -> None:
    _read(
        ctx,
        'boundaries = { dataset = "lsoa-boundaries-2011" }',
        'boundaries = { file = "lsoa.csv" }',
    )


def manifest_sha256_not_hex(ctx: Ctx) -> None:
    _read(
        ctx,
        'source = { dataset = "lsoa-lookup-2019" }',
        'source = { file = "lookup.csv", sha256 = "abc" }',
    )


def manifest_side_both(ctx: Ctx) -> None:
    _read(ctx, 'side = "nhs"', 'side = "both"')


def manifest_via_itself(ctx: Ctx) -> None:
    text = manifest_text(2024).replace('via = "ltla"', 'via = "cauth"')
    path = ctx.inp / "m.toml"
    path.write_text(text)
    read_manifest(path)


def manifest_source_without_via(ctx: Ctx) -> None:
    text = manifest_text(2024).replace('via = "ltla"\n', "")
    path = ctx.inp / "m.toml"
    path.write_text(text)
    read_manifest(path)


def manifest_vintage_true(ctx: Ctx) -> None:
    _read(ctx, "vintage = 2019", "vintage = true")


def manifest_vintage_is_a_folder(ctx: Ctx) -> None:
    (ctx.inp / "vintages").mkdir()
    (ctx.inp / "vintages" / "mine.toml").write_text(manifest_text(2019))
    read_manifest(ctx.inp / "vintages")


def manifest_is_a_named_pipe(ctx: Ctx) -> None:
    os.mkfifo(ctx.inp / "m.toml")
    try:
        read_manifest(ctx.inp / "m.toml")  # reading a pipe would wait for ever
    finally:
        (ctx.inp / "m.toml").unlink()


def manifest_is_huge(ctx: Ctx) -> None:
    path = ctx.inp / "m.toml"
    path.write_text(manifest_text(2019) + "# padding\n" * 200_000)
    read_manifest(path)


# --- scenarios: read and checked without the geography, then against it ------------------------
def _csv(ctx: Ctx, text: str) -> Path:
    path = ctx.inp / "scenario.csv"
    path.write_text(text, encoding="utf-8")
    return path


def scenario_empty_file(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, ""))


def scenario_blank_file(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, "\n  \n"))


def scenario_header_only(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, "member,area,area_name\n"))


def scenario_file_is_a_folder(ctx: Ctx) -> None:
    (ctx.inp / "plans.csv").mkdir()
    read_scenario_table(ctx.inp / "plans.csv")


def scenario_empty_area_in_a_csv(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, "member,area\nQAA,P1\nQBB,\n"))


def scenario_nan_areas(ctx: Ctx) -> None:
    read_scenario_table(pd.DataFrame({"member": ["QAA", "QBB"], "area": [math.nan, "P1"]}))


def scenario_none_members(ctx: Ctx) -> None:
    read_scenario_table(pd.DataFrame({"member": [None, "QBB"], "area": ["P1", "P1"]}))


def scenario_formula_area_code(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, 'member,area\nQAA,=HYPERLINK("x")\nQBB,P1\n'))


def scenario_ons_code_typo(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, "member,area\nE5400063,P1\nE54000002,P1\n"))


def scenario_lsoas_mixed_with_icbs(ctx: Ctx) -> None:
    rows = [f"E01{i:06d},P1" for i in range(1, 96)] + ["E54000001,P2", "E54000002,P2"]
    read_scenario_table(_csv(ctx, "member,area\n" + "\n".join(rows) + "\n"))


def scenario_districts_mixed_with_counties(ctx: Ctx) -> None:
    read_scenario_table(_csv(ctx, "member,area\nE07000001,P1\nE10000001,P2\n"))


def scenario_not_a_table(ctx: Ctx) -> None:
    read_scenario_table([("QAA", "P1")])  # type: ignore[arg-type]


def scenario_area_code_is_an_existing_code(ctx: Ctx) -> None:
    table = pd.DataFrame({"member": ["E07000001"], "area": ["E10000001"]})  # half the county
    scenario(GEO, "unitary", table, complete=False)


def scenario_area_code_is_an_nhs_code(ctx: Ctx) -> None:
    table = pd.DataFrame({"member": ["E54000001", "E54000002"], "area": ["qbb", "qbb"]})
    scenario(GEO, "merged", table, complete=False)


def scenario_lsoas_without_a_side(ctx: Ctx) -> None:
    table = pd.DataFrame({"member": [f"E0100000{i}" for i in range(1, 5)], "area": "P1"})
    scenario(GEO, "proposed", table, complete=False)


def scenario_side_both(ctx: Ctx) -> None:
    scenario(GEO, "p", pd.DataFrame({"member": ["QAA"], "area": ["P1"]}), side="both")


def scenario_many_unknown_members(ctx: Ctx) -> None:
    members = ["North ICB", *(f"Nowhere {i} ICB" for i in range(200))]
    scenario(GEO, "p", pd.DataFrame({"member": members, "area": "P1"}), complete=False)


# --- the cache: a marked folder, and only what coterminus recorded --------------------------------
def cache_clean_of_an_unmarked_folder(ctx: Ctx) -> None:
    (ctx.inp / "downloads").mkdir()
    (ctx.inp / "downloads" / "thesis.docx").write_text("the user's own document")
    with pytest.MonkeyPatch.context() as patch:  # the suite's own cache folder comes back after
        patch.setenv(cache_mod.ENV_CACHE_DIR, str(ctx.inp))
        try:
            cache_mod.clean()
        finally:
            assert (ctx.inp / "downloads" / "thesis.docx").read_text() == "the user's own document"


# --- writers: never replace what is not a regular file ------------------------------------------
def output_named_pipe(ctx: Ctx) -> None:
    os.mkfifo(ctx.out / "plan.csv")
    try:
        atomic_write_text(ctx.out / "plan.csv", "x")
    finally:  # still the pipe, not a file put in its place
        assert stat.S_ISFIFO((ctx.out / "plan.csv").lstat().st_mode)
        (ctx.out / "plan.csv").unlink()


def output_dev_null(ctx: Ctx) -> None:
    atomic_write_text("/dev/null", "x")  # as root, os.replace would swap the system's /dev/null


def output_socket(ctx: Ctx) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(ctx.out / "s.csv"))
        try:
            atomic_write_text(ctx.out / "s.csv", "x")
        finally:
            (ctx.out / "s.csv").unlink()


def output_inside_a_file(ctx: Ctx) -> None:
    atomic_write_csv(ctx.out / "old.txt" / "deeper" / "x.csv", pd.DataFrame({"a": [1]}))


# --- options and connections, through the library they call ---------------------------------------
def scheduler_that_never_answers(ctx: Ctx) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts the TCP connection, never speaks Dask
        connect_scheduler(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=1.0)


def scheduler_on_a_closed_port(ctx: Ctx) -> None:
    connect_scheduler(f"tcp://127.0.0.1:{_closed_port()}", timeout=2.0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Case = tuple[Callable[[Ctx], None], type[BaseException], str]
CASES: dict[str, Case] = {
    "manifest-blocks-as-text": (
        manifest_blocks_as_text,
        ManifestError,
        r"blocks must be a table \(\[blocks\] with its keys on the lines below.*not the text "
        r"'lookup\.csv'.*'blocks_old' \(did you mean 'blocks'\?\)",
    ),
    "manifest-against-as-text": (
        manifest_against_as_text,
        ManifestError,
        r"defaults\.against must be a list of level names \(against = \[\"utla\", \"ltla\"\]\), "
        r"not the text 'utla'",
    ),
    "manifest-parent-as-list": (
        manifest_parent_as_list,
        ManifestError,
        r"levels\.ccg\.parent must be text in quotes \(parent = \"\.\.\.\"\), not a list \['stp'\]",
    ),
    "manifest-code-column-as-number": (
        manifest_code_column_as_number,
        ManifestError,
        r"levels\.ccg\.code_column must be text in quotes .*, not the number 7",
    ),
    "manifest-expected-count-as-text": (
        manifest_expected_count_as_text,
        ManifestError,
        r"blocks\.expected\.count must be a whole number above 0 \(count = 33755\), not the text",
    ),
    "manifest-unknown-top-level-key": (
        manifest_unknown_top_level_key,
        ManifestError,
        r"unknown key\(s\) 'levls' \(did you mean 'levels'\?\); the top-level keys are vintage",
    ),
    "manifest-unknown-population-key": (
        manifest_unknown_population_key,
        ManifestError,
        r"population has unknown key\(s\) 'colum' \(did you mean 'column'\?\).*"
        r"population\.column is missing",
    ),
    "manifest-unknown-source-key": (
        manifest_unknown_source_key,
        ManifestError,
        r"blocks\.source has unknown key\(s\) 'sha265' \(did you mean 'sha256'\?\)",
    ),
    "manifest-level-named-population": (
        manifest_level_named_population,
        ManifestError,
        r"levels\.population: 'population' is a name coterminus uses for its own columns .*"
        r"call the level something else, e\.g\. population_area",
    ),
    "manifest-level-named-lsoa": (
        manifest_level_named_lsoa,
        ManifestError,
        r"levels\.lsoa: 'lsoa' is a name coterminus uses for its own columns",
    ),
    "manifest-level-named-like-the-blocks": (
        manifest_level_named_like_the_blocks,
        ManifestError,
        r"levels\.lsoa11: 'lsoa11' is a name coterminus uses",
    ),
    "manifest-self-parent": (
        manifest_self_parent,
        ManifestError,
        r"levels\.ccg\.parent = 'ccg': a level cannot be its own parent; name the level that "
        r"groups it, or leave parent out",
    ),
    "manifest-parent-cycle": (
        manifest_parent_cycle,
        ManifestError,
        r"the parents form a cycle \(ccg → stp → ccg\): each level must lie in a coarser one",
    ),
    "manifest-parent-typo": (
        manifest_parent_typo,
        ManifestError,
        r"levels\.ccg\.parent = 'stpp' is not a level of this manifest \(did you mean 'stp'\?\)",
    ),
    "manifest-etc-passwd-as-population": (
        manifest_etc_passwd_as_population,
        ManifestError,
        r"population\.source\.file = '/etc/passwd' is not a table coterminus reads: the file "
        r"name must end in \.csv, .*\.parquet\.$",
    ),
    "manifest-polygons-from-a-csv": (
        manifest_polygons_from_a_csv,
        ManifestError,
        r"blocks\.boundaries\.file = 'lsoa\.csv' is not boundary polygons coterminus reads: the "
        r"file name must end in \.gpkg",
    ),
    "manifest-sha256-not-hex": (
        manifest_sha256_not_hex,
        ManifestError,
        r"blocks\.source\.sha256 must be 64 hexadecimal digits, not the text 'abc'",
    ),
    "manifest-side-both": (
        manifest_side_both,
        ManifestError,
        r"levels\.ccg\.side must be 'nhs' or 'council', not 'both'",
    ),
    "manifest-via-itself": (
        manifest_via_itself,
        ManifestError,
        r"levels\.cauth\.via = 'cauth': a level cannot be looked up through itself",
    ),
    "manifest-source-without-via": (
        manifest_source_without_via,
        ManifestError,
        r"levels\.cauth has a source or key_column but no via: add via = \"LEVEL\"",
    ),
    "manifest-vintage-true": (
        manifest_vintage_true,
        ManifestError,
        r"vintage must be a year or a label \(vintage = 2024 or vintage = \"my-2026\"\), not "
        r"true \(true/false\)",
    ),
    "manifest-vintage-is-a-folder": (
        manifest_vintage_is_a_folder,
        ManifestError,
        r"--vintage .*vintages is a folder, not a manifest file; it holds mine\.toml: pass one "
        r"of them, e\.g\. --vintage .*vintages/mine\.toml",
    ),
    "manifest-is-a-named-pipe": (
        manifest_is_a_named_pipe,
        ManifestError,
        r"m\.toml is not a regular file \(a pipe, socket or device\); save the manifest as a "
        r"\.toml file",
    ),
    "manifest-is-huge": (
        manifest_is_huge,
        ManifestError,
        r"m\.toml is [\d,]+ bytes; a manifest is a few kB of TOML .*Check that --vintage names "
        r"the manifest",
    ),
    "scenario-empty-file": (
        scenario_empty_file,
        ScenarioError,
        r"scenario file .*scenario\.csv is empty; it needs a header line "
        r"\(member,area,area_name\) and one line per member",
    ),
    "scenario-blank-file": (scenario_blank_file, ScenarioError, r"scenario\.csv is empty"),
    "scenario-header-only": (
        scenario_header_only,
        ScenarioError,
        r"the scenario table has no rows; list each member and the area it joins",
    ),
    "scenario-file-is-a-folder": (
        scenario_file_is_a_folder,
        ScenarioError,
        r"scenario file '.*plans\.csv' is a folder; give the CSV file inside it",
    ),
    "scenario-empty-area-in-a-csv": (
        scenario_empty_area_in_a_csv,
        ScenarioError,
        r"1 row\(s\) with no area \(row 3\): give every row a member and the code of the area",
    ),
    "scenario-nan-areas": (
        scenario_nan_areas,
        ScenarioError,
        r"1 row\(s\) with no area \(row 2\)",
    ),
    "scenario-none-members": (
        scenario_none_members,
        ScenarioError,
        r"1 row\(s\) with no member \(row 2\)",
    ),
    "scenario-formula-area-code": (
        scenario_formula_area_code,
        ScenarioError,
        r"1 area code\(s\) are not codes \('=HYPERLINK\(\"x\"\)'\): an area code is a letter or "
        r"digit .*put the area's name in area_name",
    ),
    "scenario-ons-code-typo": (
        scenario_ons_code_typo,
        ScenarioError,
        r"1 member\(s\) look like ONS codes but are not \(E5400063\): an ONS code is a letter "
        r"and 8 digits",
    ),
    "scenario-lsoas-mixed-with-icbs": (
        scenario_lsoas_mixed_with_icbs,
        ScenarioError,
        r"95 codes are LSOAs; the rest \(2\) are STPs/ICSs or ICBs: use one level per file "
        r"\(LSOAs: E01000001, .*, E01000010 and 85 more; STPs/ICSs or ICBs: E54000001, E54000002\)",
    ),
    "scenario-districts-mixed-with-counties": (
        scenario_districts_mixed_with_counties,
        ScenarioError,
        r"are lower-tier councils.*are upper-tier councils.*use one level per file",
    ),
    "scenario-not-a-table": (
        scenario_not_a_table,
        ScenarioError,
        r"a scenario table is a DataFrame or the path of a CSV file, not a list",
    ),
    "scenario-area-code-is-an-existing-code": (
        scenario_area_code_is_an_existing_code,
        ScenarioError,
        r"1 area code\(s\) are already codes of existing areas \(E10000001 is upper-tier council "
        r"Countyshire \(E10000001\)\); give proposed areas codes of their own, e\.g\. P1",
    ),
    "scenario-area-code-is-an-nhs-code": (
        scenario_area_code_is_an_nhs_code,
        ScenarioError,
        r"qbb is ICB South ICB \(E54000002\)",
    ),
    "scenario-lsoas-without-a-side": (
        scenario_lsoas_without_a_side,
        ScenarioError,
        r"building blocks \(lsoa21\), which are on neither side, so say which side its areas are "
        r"on: side='nhs' for proposed NHS areas.*--scenario-side nhs\|council",
    ),
    "scenario-side-both": (
        scenario_side_both,
        ScenarioError,
        r"side='both'; use 'nhs' \(proposed NHS areas, assessed against the councils\) or "
        r"'council'",
    ),
    "scenario-many-unknown-members": (
        scenario_many_unknown_members,
        ScenarioError,
        r"200 unknown member\(s\): .*Nowhere 0 ICB.*; also unknown: Nowhere 3 ICB, .* and 190 more",
    ),
    "cache-clean-of-an-unmarked-folder": (
        cache_clean_of_an_unmarked_folder,
        CacheError,
        r"in has no \.coterminus-cache file, so it is not a folder coterminus made as its cache "
        r".*nothing was deleted\. Check COTERMINUS_CACHE_DIR",
    ),
    "output-named-pipe": (
        output_named_pipe,
        OutputError,
        r"plan\.csv: it is a named pipe \(FIFO\), not a regular file; coterminus replaces only "
        r"regular files .*Choose a file name for --out",
    ),
    "output-dev-null": (
        output_dev_null,
        OutputError,
        r"cannot write /dev/null: it is a character device, not a regular file",
    ),
    "output-socket": (output_socket, OutputError, r"s\.csv: it is a socket, not a regular file"),
    "output-inside-a-file": (
        output_inside_a_file,
        OutputError,
        r"cannot write .*old\.txt/deeper/x\.csv: .*old\.txt is a file, not a folder; choose "
        r"another --out",
    ),
    "scheduler-that-never-answers": (
        scheduler_that_never_answers,
        SchedulerError,
        r"tcp://127\.0\.0\.1:\d+ does not answer as a Dask scheduler within 1 s \(it said "
        r"nothing\)\. Start the scheduler",
    ),
    "scheduler-on-a-closed-port": (
        scheduler_on_a_closed_port,
        SchedulerError,
        r"cannot reach the Dask scheduler tcp://127\.0\.0\.1:\d+ \(Connection refused within "
        r"2 s\)\. Start the scheduler \(`dask scheduler`\)",
    ),
}


def _snapshot(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.lstat().st_size
        for p in sorted(root.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    }


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    c = Ctx(tmp_path / "in", tmp_path / "out")
    c.inp.mkdir()
    c.out.mkdir()
    (c.out / "old.txt").write_text("an older output that must survive")
    return c


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, ctx: Ctx, tmp_path: Path) -> None:
    func, error, fix = CASES[name]
    environ = dict(os.environ)
    with pytest.raises(error, match=fix) as info:
        func(ctx)
    assert dict(os.environ) == environ  # no case leaves a setting behind (the suite's cache dir)
    text = str(info.value)
    assert "Traceback" not in text
    assert len(text) <= MAX_MESSAGE, len(text)
    # nothing left behind: no temporary file anywhere, the older output intact, nothing new
    after = _snapshot(tmp_path)
    assert not [p for p in after if p.endswith(".part")]
    assert (ctx.out / "old.txt").read_text() == "an older output that must survive"
    assert [p for p in after if p.startswith("out")] == ["out/old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


# --- the command line: one line, the right exit code, and checks before any loading ----------------
@pytest.fixture
def no_loading(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace the geography loader by one that records the call and fails."""
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> Geography:
        calls.append(args)
        msg = "the geography was loaded before the options were checked"
        raise AssertionError(msg)

    monkeypatch.setattr(cli_load, "load_geography", refuse)
    return calls


def _lsoa_scenario(folder: Path) -> Path:
    path = folder / "lsoas.csv"
    path.write_text("member,area\nE01000001,P1\nE01000002,P1\n")
    return path


def _typo_scenario(folder: Path) -> Path:
    path = folder / "typo.csv"
    path.write_text("member,area\nE5400063,P1\nE54000018,P1\n")
    return path


def _mixed_scenario(folder: Path) -> Path:
    path = folder / "mixed.csv"
    rows = [f"E01{i:06d},P1" for i in range(1, 96)] + ["E54000018,P2", "E54000019,P2"]
    path.write_text("member,area\n" + "\n".join(rows) + "\n")
    return path


CLI_CASES: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    "tolerance-nan": (
        lambda d: ["assess", "--ccgs", "05A", "--tolerance", "nan"],
        2,
        r"argument --tolerance: 'nan' is not a finite number",
    ),
    "tolerance-out-of-range": (
        lambda d: ["assess", "--ccgs", "05A", "--tolerance", "0.7"],
        2,
        r"argument --tolerance: 0\.7 is out of range: give a number ≥ 0 and < 0\.5",
    ),
    "store-limit-negative": (
        lambda d: ["mergers", "--system", "X", "--store-limit", "-5"],
        2,
        r"argument --store-limit: -5 is out of range: give a number ≥ 0",
    ),
    "store-limit-nan": (
        lambda d: ["mergers", "--system", "X", "--store-limit", "nan"],
        2,
        r"argument --store-limit: 'nan' is not a finite number",
    ),
    "min-pop-infinite": (
        lambda d: ["mergers", "--system", "X", "--min-pop", "inf"],
        2,
        r"argument --min-pop: 'inf' is not a finite number",
    ),
    "jobs-zero": (
        lambda d: ["mergers", "--system", "X", "--jobs", "0"],
        2,
        r"argument --jobs: 0 is out of range: give a whole number ≥ 1",
    ),
    "top-fraction": (
        lambda d: ["mergers", "--system", "X", "--top", "2.5"],
        2,
        r"argument --top: '2\.5' is not a whole number",
    ),
    "max-pop-nan": (
        lambda d: ["mergers", "--system", "X", "--max-pop", "nan"],
        2,
        r"argument --max-pop: 'nan' is not a finite number",
    ),
    "n-blocks-reversed": (
        lambda d: ["mergers", "--system", "X", "--n-blocks", "4-2"],
        1,
        r"--n-blocks '4-2' is not N or LOW-HIGH with 0 <= LOW <= HIGH",
    ),
    "fetch-retries-huge": (
        lambda d: ["data", "fetch", "ccg-2019", "--retries", "1e9"],
        2,
        r"argument --retries: 1e9 is out of range: give a whole number ≥ 0 and ≤ 100",
    ),
    "scheduler-not-an-address": (
        lambda d: ["mergers", "--system", "X", "--scheduler", "not an address"],
        2,
        r"argument --scheduler: 'not an address' is not a scheduler address; give "
        r"tcp://HOST:PORT",
    ),
    "scheduler-closed-port": (
        lambda d: ["mergers", "--system", "X", "--scheduler", f"127.0.0.1:{_closed_port()}"],
        1,
        r"cannot reach the Dask scheduler tcp://127\.0\.0\.1:\d+ \(Connection refused",
    ),
    "ccgs-with-system": (
        lambda d: ["assess", "--ccgs", "05A", "--system", "Coventry and Warwickshire"],
        2,
        r"argument --system: not allowed with argument --ccgs/--codes",
    ),
    "plan-with-system": (
        lambda d: ["map", "--plan", "A;B", "--system", "X", "--out", str(d / "m.html")],
        2,
        r"argument --system: not allowed with argument --plan",
    ),
    "ccgs-with-all-systems": (
        lambda d: ["mergers", "--all-systems", "--ccgs", "05A"],
        2,
        r"argument --ccgs/--codes: not allowed with argument --all-systems",
    ),
    "scheduler-with-workers": (
        lambda d: ["mergers", "--system", "X", "--workers", "2", "--scheduler", "h:8786"],
        2,
        r"argument --scheduler: not allowed with argument --workers",
    ),
    "diff-scenario-with-from-and-to": (
        lambda d: [
            "diff",
            "--level",
            "icb",
            "--scenario",
            "s.csv",
            "--from",
            "2022",
            "--to",
            "2024",
        ],
        2,
        r"argument --from: not allowed with argument --scenario",
    ),
    "fetch-ids-with-vintage": (
        lambda d: ["data", "fetch", "ccg-2019", "--vintage", "2019"],
        2,
        r"give dataset ids or --vintage YEAR, not both",
    ),
    "scenario-side-without-scenario": (
        lambda d: ["assess", "--ccgs", "05A", "--scenario-side", "nhs"],
        2,
        r"--scenario-side goes with --scenario CSV",
    ),
    "scenario-typo-before-loading": (
        lambda d: [
            "assess",
            "--vintage",
            "2024",
            "--scenario",
            str(_typo_scenario(d)),
            "--units",
            "scenario",
            "--codes",
            "P1",
        ],
        1,
        r"1 member\(s\) look like ONS codes but are not \(E5400063\)",
    ),
    "scenario-mixed-levels-before-loading": (
        lambda d: [
            "map",
            "--vintage",
            "2024",
            "--scenario",
            str(_mixed_scenario(d)),
            "--units",
            "scenario",
            "--out",
            str(d / "m.html"),
        ],
        1,
        r"95 codes are LSOAs; the rest \(2\) are STPs/ICSs or ICBs: use one level per file",
    ),
    "lsoa-scenario-side-unknown": (
        lambda d: [
            "assess",
            "--vintage",
            "2024",
            "--scenario",
            str(_lsoa_scenario(d)),
            "--codes",
            "P1",
        ],
        2,
        r"the --scenario areas are made of LSOAs, which are on neither side.*pass "
        r"--scenario-side nhs \(proposed NHS areas, assessed against the councils\) or "
        r"--scenario-side council",
    ),
    "vintage-folder-before-loading": (
        lambda d: ["systems", "--vintage", str(d)],
        1,
        r"--vintage .* is a folder, not a manifest file",
    ),
    "simplify-nan": (
        lambda d: ["map", "--system", "X", "--simplify", "nan", "--out", str(d / "m.html")],
        1,
        r"--simplify 'nan'; give metres \(e\.g\. 50\), 'auto' or 'none'",
    ),
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_bad_command_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_loading: list[object]
) -> None:
    argv, code, fix = CLI_CASES[name]
    args = argv(tmp_path)
    before = _snapshot(tmp_path)
    try:
        got = cli.main(args)
    except SystemExit as stop:  # argparse's usage errors
        got = int(stop.code or 0)
    err = capsys.readouterr().err
    assert got == code, err
    assert "Traceback" not in err
    (line,) = err.splitlines()  # one line, argparse's usage errors too
    assert line.startswith(
        f"coterminus {' '.join(args[:2]) if args[0] == 'data' else args[0]}: error: "
    )
    assert len(line) <= MAX_MESSAGE
    assert re.search(fix, line), err
    assert no_loading == []  # refused before any geography was loaded
    assert _snapshot(tmp_path) == before


def test_there_are_at_least_forty_five_cases_here() -> None:
    assert len(CASES) + len(CLI_CASES) >= 45


# --- what heals or is written safely, rather than refused --------------------------------------------
def test_jobs_beyond_the_cores_are_capped_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    cores = available_cores()
    assert cap_at_cores(10_000_000_000, "--jobs") == cores
    assert capsys.readouterr().err == (
        f"note: --jobs 10000000000 is more than the {cores} cores available here; using {cores}.\n"
    )
    assert cap_at_cores(1, "--jobs") == 1
    assert cap_at_cores(None, "--workers") == cores
    assert capsys.readouterr().err == ""


def test_an_unchanged_unit_may_keep_its_own_code() -> None:
    """Areas with an existing code are refused unless they are that very area (the same blocks),
    as when unchanged units are assigned to themselves and two districts make their county."""
    table = pd.DataFrame(
        {
            "member": ["E07000001", "E07000002", "E06000001"],
            "area": ["E10000001"] * 2 + ["E06000001"],
        }
    )
    geo = scenario(GEO, "unitary", table)
    assert list(geo.units("unitary").index) == ["E06000001", "E10000001"]
    assert list(geo.units("unitary")["population"]) == [400, 400]


def test_csv_cells_that_would_run_as_formulas_are_written_as_text(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "Kent"],
            "people": [1, -2, 3, 4, 5, 6],
        }
    )
    path = atomic_write_csv(tmp_path / "t.csv", table)
    back = pd.read_csv(path, dtype={"name": str}, keep_default_na=False)
    assert back["name"].str.startswith("'").sum() == 5
    assert back.loc[5, "name"] == "Kent"
    assert back["people"].tolist() == [1, -2, 3, 4, 5, 6]  # numbers stay numbers
    assert spreadsheet_safe(table)["name"].tolist()[0] == '\'=HYPERLINK("http://x")'


def test_a_scenario_s_names_are_kept_but_its_systems_csv_is_spreadsheet_safe(
    tmp_path: Path,
) -> None:
    from coterminus.analysis.systems import systems

    table = pd.DataFrame(
        {"member": ["E54000001", "E54000002"], "area": ["P1", "P2"], "name": ["=1+1", "@x"]}
    )
    geo = scenario(GEO, "merged", table, complete=False)
    assert list(geo.units("merged")["name"]) == ["=1+1", "@x"]  # the data is not changed
    out = systems(geo, level="merged", against=["utla"])
    written = atomic_write_csv(tmp_path / "s.csv", out).read_text()
    assert "'=1+1" in written
    assert "\n=1+1" not in written
    assert ",=1+1" not in written


def test_an_lsoa_scenario_takes_its_side_from_how_the_command_uses_it(tmp_path: Path) -> None:
    path = _lsoa_scenario(tmp_path)
    from coterminus.cli import build_parser

    parser = build_parser()
    common = ["--scenario", str(path), "--scenario-name", "proposed"]
    as_units = parser.parse_args(["assess", *common, "--units", "proposed", "--codes", "P1"])
    as_target = parser.parse_args(["assess", *common, "--system", "X", "--against", "proposed"])
    in_diff = parser.parse_args(["diff", *common, "--level", "icb"])
    given = parser.parse_args(["assess", *common, "--codes", "P1", "--scenario-side", "council"])
    assert cli_load.check(as_units).side == "nhs"
    assert cli_load.check(as_target).side == "council"
    assert cli_load.check(in_diff).side == "council"  # diff does not depend on the side
    assert cli_load.check(given).side == "council"


@pytest.mark.parametrize("unbuffered", [False, True])
def test_a_full_stdout_is_one_error_line_and_exit_1(unbuffered: bool, tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "coterminus", "data", "manifest", "2024"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "coterminus data manifest: error: cannot write to standard output: no space left on the "
        "device (or the disk quota is exceeded); the output is incomplete. Redirect it to a file "
        "on a disk with room, or write the result with --out FILE."
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_is_one_error_line_and_exit_1() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])}
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m coterminus data manifest 2024 >&-'],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("coterminus data manifest: error: cannot write to standard output: it")
    assert "closed" in line


def test_the_cache_marker_is_made_with_the_folder_and_clean_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    monkeypatch.setenv(cache_mod.ENV_CACHE_DIR, str(root))
    downloads = cache_mod.downloads_dir()
    assert (root / cache_mod.MARKER).read_text().startswith("# coterminus cache folder")
    (downloads / "ours.csv").write_text("x")
    cache_mod.record_written(downloads / "ours.csv", tmp_path / "elsewhere.csv")  # 2nd ignored
    (downloads / "theirs.csv").write_text("y")
    assert cache_mod.clean() == (1, 1)
    assert sorted(p.name for p in downloads.iterdir()) == ["theirs.csv"]
    assert cache_mod.recorded() == []


# --- MODIFIED DATA: the stamp travels on the geography into every output ------------------------
@pytest.fixture(scope="module")
def trusted_geo(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Geography:
    """The 2019 data with Rugby's LSOAs set to 1 person, loaded with trust_modified=True."""
    import coterminus as ct

    root = tmp_path_factory.mktemp("edited")
    pop = "population/lsoa11_pop_mid2019_ew.csv"
    for sub in ("boundaries", "lookups", "population"):
        (root / sub).mkdir()
        for f in (data_dir / sub).iterdir():
            if f.is_file() and f"{sub}/{f.name}" != pop:
                (root / sub / f.name).symlink_to(f)
    table = pd.read_csv(data_dir / pop, dtype=str)
    lookup = pd.read_csv(data_dir / "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv", dtype=str)
    rugby = set(lookup.loc[lookup["LAD19CD"] == "E07000220", "LSOA11CD"])
    table.loc[table["LSOA11CD"].isin(rugby), "POP_ALL_AGES_MID2019"] = "1"
    table.to_csv(root / pop, index=False)
    return ct.load(2019, data_dir=root, trust_modified=True)


@pytest.mark.realdata
def test_every_output_of_modified_data_carries_the_stamp(
    trusted_geo: Geography, data_dir: Path, tmp_path: Path
) -> None:
    import json

    import matplotlib.pyplot as plt

    import coterminus as ct
    from coterminus.analysis.systems import systems
    from coterminus.outputs import figures, maps
    from coterminus.outputs.report import report

    geo = trusted_geo
    stamp = geo.modified_data or ""
    assert stamp.startswith("MODIFIED DATA: 1 input file differs from the published ONS file")
    assert "lsoa11_pop_mid2019_ew.csv" in stamp
    assert ct.load(2019, data_dir=data_dir).modified_data is None  # no state leaks between loads
    cw = "Coventry and Warwickshire"
    a = ct.assess(geo, system=cw)
    assert stamp in a.explain()
    assert json.loads(a.to_json())["modified_data"] == stamp
    table = systems(geo)
    assert set(table["modified_data"]) == {stamp}
    atomic_write_csv(tmp_path / "systems.csv", table)
    assert stamp in (tmp_path / "systems.csv").read_text()
    for suffix in (".csv", ".parquet"):
        res = ct.mergers(geo, cw, out=tmp_path / f"plans{suffix}")
        assert stamp in res.summary()
        assert res.to_dict()["modified_data"] == stamp
        plans = (
            pd.read_csv(tmp_path / "plans.csv")
            if suffix == ".csv"
            else pd.read_parquet(tmp_path / "plans.parquet")
        )
        assert set(plans["modified_data"]) == {stamp}
    layers = maps.map_layers(geo, system=cw)
    html = maps.draw_layers(layers).get_root().render()
    assert "MODIFIED DATA" in html
    fig = figures.figure_of_layers(layers)
    assert any("MODIFIED DATA" in t.get_text() for t in fig.findobj(plt.Text))
    plt.close(fig)
    out = report(geo, system=cw, out=tmp_path / "r.html")
    assert "MODIFIED DATA" in Path(out).read_text()
    geo2 = ct.scenario(geo, "merged", pd.DataFrame({"member": ["05A"], "area": ["P1"]}),
                       complete=False)  # fmt: skip
    assert geo2.modified_data == stamp  # a scenario keeps its geography's stamp


def test_a_real_scheduler_is_connected_after_the_probe() -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, processes=False, dashboard_address=None, scheduler_port=0, protocol="tcp"
    ) as cluster:
        client = connect_scheduler(cluster.scheduler_address, timeout=10.0)
        try:
            assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
        finally:
            client.close()
