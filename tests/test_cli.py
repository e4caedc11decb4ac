"""The command line and the top-level API: quick to start, every option explained, one namespace.

- ``coterminus --help``, ``--version``, every ``COMMAND --help`` and argument errors import none
  of the heavy libraries (checked in a fresh interpreter's ``sys.modules``);
- every option of every command (walking the whole parser) has help text, with its default;
  every command's help ends with a worked example, and those examples run on the real data;
- ``import coterminus`` is lazy; ``ct.mergers(...)`` etc. are callable whatever the import order;
  every name of ``__all__`` resolves and is documented.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import coterminus
from coterminus import cli

HEAVY = (
    "geopandas",
    "pandas",
    "numpy",
    "numba",
    "matplotlib",
    "shapely",
    "folium",
    "pyogrio",
)
CW = "Coventry and Warwickshire"


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that sees the same ``coterminus`` as this test."""
    src = str(Path(coterminus.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _loaded_after_cli(*argv: str) -> tuple[int, list[str], str]:
    """Exit code of ``coterminus ARGV``, the heavy modules it imported, and its output."""
    done = _run_python(
        f"""
        import json, sys
        from coterminus.cli import main
        try:
            code = main(sys.argv[1:])
        except SystemExit as exc:
            code = exc.code
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        sys.stderr.write("\\n" + json.dumps([code, heavy]))
        """,
        *argv,
    )
    *_, last = done.stderr.rstrip().splitlines()
    code, heavy = json.loads(last)
    return code, heavy, done.stdout


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command parser below ``parser``, with its command words."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found.extend(_commands(sub, (*path, name)))
    return found


FULL = cli.build_parser()
COMMANDS = _commands(FULL)
COMMAND_IDS = [" ".join(p) for p, _ in COMMANDS]


def _example(parser: argparse.ArgumentParser) -> str:
    """The last worked example of a command's help (continuation lines joined)."""
    lines = (parser.epilog or "").replace("\\\n", " ").splitlines()
    examples = [line.strip() for line in lines if line.strip().startswith("coterminus ")]
    assert examples, f"{parser.prog}: the help has no example"
    return examples[-1]


# --- start-up ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        [],
        ["no-such-command"],
        ["assess", "--measure", "volume"],  # an argument error
        ["diff", "--from", "2019"],  # a missing required option
        ["mergers"],  # neither --system nor --all-systems
        ["map", "--measure", "volume", "--out", "m.html"],
        ["data", "fetch", "--timeout", "soon"],
        *[[*p, "--help"] for p, _ in COMMANDS],
    ],
    ids=lambda argv: " ".join(argv) or "(nothing)",
)
def test_help_version_and_argument_errors_import_no_heavy_library(argv: list[str]) -> None:
    code, heavy, _ = _loaded_after_cli(*argv)
    assert heavy == []
    assert code in (0, 2)


def test_version_prints_the_installed_version() -> None:
    code, _, out = _loaded_after_cli("--version")
    assert code == 0
    assert out == f"coterminus {coterminus.__version__}\n"


def test_import_coterminus_imports_no_heavy_library_and_load_no_numba() -> None:
    done = _run_python(
        f"""
        import sys
        import coterminus
        before = [m for m in {HEAVY!r} if m in sys.modules]
        coterminus.load
        after = [m for m in ("numba", "matplotlib", "folium") if m in sys.modules]
        print(before, after, "geopandas" in sys.modules)
        """
    )
    assert done.stdout.split("\n")[0] == "[] [] True", done.stderr


# --- every option explained ----------------------------------------------------------------------
def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=COMMAND_IDS)
def test_every_option_has_help_text_with_its_default(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    missing, no_default = [], []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        if not action.help or action.help == argparse.SUPPRESS:
            missing.append(name)
        elif (
            _takes_value(action)
            and action.option_strings
            and action.default not in (None, [], argparse.SUPPRESS)
            and "default" not in action.help
        ):
            no_default.append(name)
    assert missing == [], f"coterminus {' '.join(path)}: options without help text"
    assert no_default == [], f"coterminus {' '.join(path)}: help does not give the default"


def test_the_walk_covers_every_command() -> None:
    assert set(COMMAND_IDS) >= {
        "systems",
        "assess",
        "diff",
        "doctor",
        "data",
        "data status",
        "data fetch",
        "data verify",
        "mergers",
        "map",
        "report",
    }


def test_help_check_catches_an_option_without_help() -> None:
    """The walk above can fail: an option with no help text is reported."""
    p = argparse.ArgumentParser(prog="coterminus x")
    p.add_argument("--tier", default="utla")
    with pytest.raises(AssertionError, match="without help text"):
        test_every_option_has_help_text_with_its_default(("x",), p)
    q = argparse.ArgumentParser(prog="coterminus y")
    q.add_argument("--tier", default="utla", help="the tier")
    with pytest.raises(AssertionError, match="does not give the default"):
        test_every_option_has_help_text_with_its_default(("y",), q)


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=COMMAND_IDS)
def test_every_command_help_shows_a_worked_example_of_itself(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    example = shlex.split(_example(parser))
    assert example[: len(path) + 1] == ["coterminus", *path]
    assert "coterminus " in parser.format_help().split("options:")[-1]


def test_commands_listed_without_their_module_read_as_when_declared() -> None:
    lazy = cli.build_parser(lazy=True)
    (listed,) = [a for a in lazy._actions if isinstance(a, argparse._SubParsersAction)]
    (full,) = [a for a in FULL._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(listed.choices) == list(full.choices)
    helps = {a.dest: a.help for a in full._choices_actions}
    assert {a.dest: a.help for a in listed._choices_actions} == helps
    for name in cli.COMMANDS:
        assert cli.COMMANDS[name][1] == helps[name]


def test_each_command_runs_in_a_handler_of_the_module_named_for_it() -> None:
    """A newcomer finds ``coterminus X`` in the module :data:`cli.COMMANDS` names for it, in a
    handler named ``run*`` (the only functions that may import the library)."""
    for path, parser in COMMANDS:
        if len(path) > 1:  # `data status`...: run by the handler of `data`
            continue
        func = parser.get_default("func")
        assert func.__module__ == cli.COMMANDS[path[0]][0], path
        assert func.__name__.startswith("run"), path
    assert {m.rpartition(".")[2] for m, _ in cli.COMMANDS.values()} == {
        "systems",
        "assess",
        "diff",
        "doctor",
        "data",
        "mergers",
        "optimise",
        "maps",
        "alignment",
        "scenarios",
    }


def test_a_command_runs_through_the_lazy_parser() -> None:
    parser = cli.build_parser("report", lazy=True)
    args = parser.parse_args(["report", "--system", CW, "--out", "r.html"])
    assert (args.command, args.system, args.tier, args.out) == ("report", CW, None, "r.html")
    assert args.func.__module__ == "coterminus.cli.maps"


# the examples run on the real data; `data fetch` would download from the ONS
RUNNABLE = [(p, s) for p, s in COMMANDS if p != ("data", "fetch")]


@pytest.fixture
def preloaded(data_dir: Path, real_geography, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Command handlers get the session's geography of a built-in vintage instead of loading
    it again: these tests are about the handlers (options, output), and ``load`` is tested on
    its own. A manifest file or another data directory is loaded as usual. Yields the vintages
    the handlers asked for."""
    from coterminus.cli import load as cli_load

    real_load = cli_load.load_geography
    asked: list[object] = []

    def load_geography(vintage, data_dir=None, **options):  # type: ignore[no-untyped-def]
        asked.append(vintage)
        same_dir = data_dir is not None and Path(data_dir).resolve() == data_dir_resolved
        if options or not same_dir or not str(vintage).isdigit():
            return real_load(vintage, data_dir=data_dir, **options)
        return real_geography(int(vintage))

    data_dir_resolved = Path(data_dir).resolve()
    monkeypatch.setattr(cli_load, "load_geography", load_geography)
    return asked


#: commands whose example draws polygons or typesets a page (seconds, not tenths)
DRAWING = {("map",), ("report",), ("mergers",)}


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("path", "parser"),
    [pytest.param(p, s, marks=[pytest.mark.slow] if p in DRAWING else []) for p, s in RUNNABLE],
    ids=[" ".join(p) for p, _ in RUNNABLE],
)
def test_the_worked_example_of_each_command_runs(
    path: tuple[str, ...],
    parser: argparse.ArgumentParser,
    data_dir: Path,
    preloaded: list[object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = shlex.split(_example(parser))[1:]
    if path == ("data",):  # the group's example is one of its subcommands
        assert argv[:2] == ["data", "status"]
    monkeypatch.chdir(tmp_path)  # map and report write their --out file here
    extra = ["--data-dir", str(data_dir)] if "--data-dir" in parser.format_help() else []
    code = cli.main([*argv, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip()
    if "--out" in argv:
        assert (tmp_path / argv[argv.index("--out") + 1]).stat().st_size > 1000


@pytest.mark.realdata
def test_systems_command_prints_the_library_table(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A true run: the command loads the geography itself (no preloaded one)."""
    argv = ["systems", "--vintage", "2019", "--json", "--tier", "ltla"]
    assert cli.main([*argv, "--data-dir", str(data_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    table = coterminus.systems(coterminus.load(2019, data_dir=data_dir), tier="ltla")
    assert rows == json.loads(table.to_json(orient="records"))
    assert len(rows) == 42


@pytest.mark.realdata
def test_systems_table_matches_an_independent_count_of_the_coventry_system(
    geo2019: coterminus.Geography,
) -> None:
    """Coventry and Warwickshire: 3 CCGs whose union is exactly Coventry + Warwickshire (UTLA)."""
    geo = geo2019
    table = coterminus.systems(geo).set_index("system")
    row = table.loc["E54000018"]
    lsoa = geo.lsoa[geo.lsoa["ccg"].isin(geo.members("E54000018"))]
    assert int(row["population"]) == int(lsoa["population"].sum()) == 949_454
    assert sorted(lsoa["utla"].unique()) == ["E08000026", "E10000031"]
    councils = geo.lsoa[geo.lsoa["utla"].isin(["E08000026", "E10000031"])]
    assert int(councils["population"].sum()) == 949_454  # same people: J = 1
    assert (row["coterminosity_index"], row["coterminous"], row["n_split"]) == (1.0, True, 0)
    assert list(table["name"]) == sorted(table["name"])


# --- the Python API ------------------------------------------------------------------------------
CALLABLE = ["assess", "diff", "doctor", "mergers", "overlap", "places", "report", "systems"]


def test_all_lists_about_thirty_functions_and_classes() -> None:
    import inspect

    # ct.DrawOptions beside ct.Constraints (issue 20), ct.alignment and ct.scenario (issue 18)
    assert 25 <= len(coterminus.__all__) <= 40
    assert set(coterminus.__all__) == set(coterminus._LAZY)
    for name in coterminus.__all__:
        value = getattr(coterminus, name)
        assert callable(value), name
        assert inspect.getdoc(value), f"coterminus.{name} has no docstring"
    assert len(set(coterminus.__all__)) == len(coterminus.__all__)


def test_the_namespace_exposes_no_imported_helpers() -> None:
    for name in ("PackageNotFoundError", "version", "importlib", "annotations", "Any"):
        assert not hasattr(coterminus, name), name
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        coterminus.nonsense  # noqa: B018
    assert coterminus.__version__ == __import__("importlib.metadata").metadata.version("coterminus")


@pytest.mark.slow
@pytest.mark.parametrize(
    "first",
    [
        "import coterminus as ct",
        "import coterminus.plans.mergers, coterminus.analysis.assess\nimport coterminus as ct",
    ],
    ids=["package-first", "submodule-first"],
)
def test_top_level_names_are_functions_in_either_import_order(first: str) -> None:
    """No top-level name is also a module (issue 20): importing a submodule never hides one."""
    done = _run_python(
        first
        + f"""
import inspect, types
import coterminus.analysis.places, coterminus.analysis.systems, coterminus.analysis.overlap
names = {CALLABLE!r}
print(all(inspect.isfunction(getattr(ct, n)) for n in names))
print(any(isinstance(getattr(ct, n), types.ModuleType) for n in ct.__all__))
print(list(inspect.signature(ct.mergers).parameters)[:2])
"""
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True", "False", "['geo', 'system']"]


@pytest.mark.realdata
def test_top_level_functions_are_the_functions_of_their_modules(
    geo2019: coterminus.Geography,
) -> None:
    from coterminus.analysis import places as places_module

    geo = geo2019
    assert coterminus.places is places_module.places
    assert coterminus.assess(geo, system=CW).metrics.coterminous
    result = coterminus.mergers(geo, CW, top=1)
    assert result.top.iloc[0]["plan"] == coterminus.best_plan(geo, CW)["plan"]
    assert result.top.iloc[0]["plan"] == "E38000038+E38000164+E38000195"  # one CCG: J = 1


def test_python_dash_m_coterminus_is_the_command() -> None:
    done = _run_python("import runpy; runpy.run_module('coterminus', run_name='__main__')")
    assert done.returncode == 2  # no command: the help, and the usage-error code
    assert done.stdout.startswith("usage: coterminus [-h]")


@pytest.mark.realdata
def test_numba_loads_only_when_plans_are_scored(data_dir: Path) -> None:
    """assess and places use the partition code but not its compiled kernels."""
    code = (
        "import sys, coterminus as ct; g = ct.load(2019); "
        "ct.assess(g, system='Coventry and Warwickshire').places(); "
        "print('numba' in sys.modules)"
    )
    env = {**os.environ, "COTERMINUS_DATA_DIR": str(data_dir)}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert run.stdout.strip() == "False"
