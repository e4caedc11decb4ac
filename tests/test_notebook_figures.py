"""Every figure a notebook draws, drawn again by the notebook's own code and checked for a board.

A figure of a notebook is a code cell whose committed outputs hold a picture. Its code is run
here as the notebook runs it — the cell itself, after the earlier cells it needs (found by the
names it reads: a cell that only prints or shows a table is skipped) — on the data embedded in
coterminus, with each ``coterminus.load`` call made once per session. The figure it returns goes
through the checks of ``tests/test_board_ready.py``: no two labels overlap, every council (or
authority) behind a mismatch or split is named, the frame is within 1.5 × the footprint, the
furniture sits off the map, the legend lists what is drawn and every boundary has a white
casing. What must be named comes from the data in the notebook's namespace (its assessment,
its plans, the block table), never from the drawing.

``test_notebook_outputs_are_those_of_the_code`` (tests/test_notebooks.py) checks that the
committed pictures are those of this code; together they check the pictures a reader sees.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

import coterminus
from test_board_ready import (
    _footprint,
    _label_names,
    _map_axes,
    assert_boundaries_visible,
    assert_frame,
    assert_no_label_overlaps,
    behind_mismatch,
    check_figure,
    check_scorecard,
    sliver_names,
    split_areas,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


# ------------------------------------------------------------------------------------------
# the figure cells, and the earlier cells each needs
# ------------------------------------------------------------------------------------------
def _code(cell: Any) -> str:
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))


def figure_cells() -> list[tuple[Path, int]]:
    """(notebook, index of the cell) of every code cell whose committed outputs hold a PNG."""
    out = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
            if any("image/png" in o.get("data", {}) for o in outputs):
                out.append((path, i))
    return out


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Names a cell binds (assigned, imported, changed in place) and names it reads."""
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                bound.add(base.id)  # ``t["x"] = ...`` changes t: the cell is needed for t
    return bound, read - set(dir(builtins))


def needed_cells(nb: Any, target: int) -> list[int]:
    """The code cells before ``target`` whose names ``target`` reads, directly or not, in order."""
    trees = {i: ast.parse(_code(c)) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    want = _names(trees[target])[1]
    keep = []
    for i in sorted((i for i in trees if i < target), reverse=True):
        bound, read = _names(trees[i])
        if bound & want:
            keep.append(i)
            want = (want - bound) | read
    return sorted(keep)


def run_cell(source: str, ns: dict[str, Any]) -> Any:
    """Run a cell in ``ns`` as Jupyter does; return the value of its last expression."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(tree, "<cell>", "exec"), ns)
        if last is None:
            return None
        return eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)


# ------------------------------------------------------------------------------------------
# what each figure must show, from the data in the notebook's namespace
# ------------------------------------------------------------------------------------------
def _one_footprint(fig: Any, ns: dict[str, Any]) -> None:
    a = ns["single"]
    names = behind_mismatch(a)
    assert names, "the notebook's CCG has a mismatch to name"
    focus, fp = _footprint(a.geo, a.units, a.members)
    check_figure(fig, names=names, focus=focus, footprint=fp)


def _england_by_system(fig: Any, ns: dict[str, Any]) -> None:
    geo = ns["geo"]
    names = split_areas(geo, "stp", "utla")
    assert len(names) >= 10
    focus, _ = _footprint(geo, "stp", list(geo.units("stp").index))
    check_figure(fig, names=names, focus=focus, footprint=None)


def _six_plans(fig: Any, ns: dict[str, Any]) -> None:
    from coterminus.outputs.layers import plan_assessments

    geo, plans = ns["geo"], ns["result"].plans(6)
    axes = _map_axes(fig)
    assert len(axes) == len(plans) == 6
    assert_no_label_overlaps(fig)
    assert_boundaries_visible(fig)
    system = sorted({c for plan in plans for block in plan for c in block})
    focus, _ = _footprint(geo, "ccg", system)
    for ax, plan in zip(axes, plans, strict=True):
        assert_frame(ax, focus)
        assessed = plan_assessments(geo, plan).values()
        names = set().union(*(behind_mismatch(a) for a in assessed))
        names -= set().union(*(sliver_names(a) for a in assessed))
        assert names <= _label_names(ax), sorted(names - _label_names(ax))


def _icbs_and_combined_authorities(fig: Any, ns: dict[str, Any]) -> None:
    geo = ns["geo"]
    names = split_areas(geo, "icb", "cauth")
    assert names
    focus, fp = _footprint(geo, "icb", list(geo.units("icb").index))
    check_figure(fig, names=names, focus=focus, footprint=fp)


def _scorecard(a: str, geo: str) -> Callable[[Any, dict[str, Any]], None]:
    def check(fig: Any, ns: dict[str, Any]) -> None:
        names = check_scorecard(fig, ns[a], ns[geo])
        assert names, "the notebook's scorecard has split authorities to name"

    return check


#: The check of each figure cell, by notebook and the cell's code (a new figure needs one).
CHECKS: dict[tuple[str, str], Callable[[Any, dict[str, Any]], None]] = {
    ("01", "ct.footprint_figure(geo, assessment=single)"): _one_footprint,
    ("02", "ct.footprint_figure(\n    geo, draw=ct.DrawOptions("): _england_by_system,
    ("03", "ct.plans_figure(\n    geo,\n    result.plans(6),"): _six_plans,
    ("04", 'split_figure(geo, units="icb", against="cauth", within='): (
        _icbs_and_combined_authorities
    ),
    ("05", "scorecard_figure(a, geo)"): _scorecard("a", "geo"),
    ("05", "scorecard_figure(a27, geo27)"): _scorecard("a27", "geo27"),
}


def _check_of(path: Path, source: str) -> Callable[[Any, dict[str, Any]], None] | None:
    found = [f for (nb, code), f in CHECKS.items() if path.name.startswith(nb) and code in source]
    return found[0] if len(found) == 1 else None


# ------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def loaded() -> dict[Any, Any]:
    """Geographies the notebooks load, once per session (the embedded data)."""
    return {}


@pytest.fixture
def cached_load(loaded: dict[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    load = coterminus.load

    def once(*args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        if key not in loaded:
            loaded[key] = load(*args, **kwargs)
        return loaded[key]

    monkeypatch.setattr(coterminus, "load", once)


CELLS = figure_cells()


def test_every_notebook_figure_has_a_check() -> None:
    assert len(CELLS) >= len(NOTEBOOKS)
    missing = []
    for path, i in CELLS:
        source = nbformat.read(path, as_version=4).cells[i].source
        if _check_of(path, source) is None:
            missing.append(f"{path.name} cell {i}: {source[:60]!r}")
    assert not missing, f"notebook figures with no board check (add one to CHECKS): {missing}"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("path", "cell"), CELLS, ids=[f"{p.name[:2]}-cell{i}" for p, i in CELLS])
@pytest.mark.usefixtures("cached_load")
def test_notebook_figure_is_board_ready(path: Path, cell: int) -> None:
    nb = nbformat.read(path, as_version=4)
    source = _code(nb.cells[cell])
    check = _check_of(path, nb.cells[cell].source)
    assert check is not None
    ns: dict[str, Any] = {"__name__": "__notebook__"}
    for i in needed_cells(nb, cell):
        run_cell(_code(nb.cells[i]), ns)
    fig = run_cell(source, ns)
    assert hasattr(fig, "_repr_png_"), "the cell returns no figure that shows itself"
    assert fig._repr_png_()[1:4] == b"PNG"  # drawn as the notebook shows it (lays out the keys)
    check(fig, ns)


def test_needed_cells_follow_the_names_a_cell_reads() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import coterminus as ct\ngeo = ct.load(2019)"),
        nbformat.v4.new_code_cell("t = make(geo)\nprint(t)"),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("single = ct.assess(geo, '05A')"),
        nbformat.v4.new_code_cell("other = 1\nsingle.x = 2"),
        nbformat.v4.new_code_cell("ct.footprint_figure(geo, assessment=single)"),
    ]
    assert needed_cells(nb, 5) == [0, 3, 4]
    assert run_cell("x = 2\nx * 3", {}) == 6
    assert run_cell("x = 2", {}) is None
    assert run_cell("import math\nmath.floor(math.pi)", {}) == 3
