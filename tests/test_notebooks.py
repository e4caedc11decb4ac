"""The notebooks are committed with their outputs, and those outputs are the code's.

Each notebook in notebooks/ is executed top to bottom as ``scripts/run_notebooks.py`` runs it
(a fresh kernel, ``MPLBACKEND=Agg``, the embedded data unless the notebook says in its metadata
and first cell that it needs the full ONS files through ``COTERMINUS_DATA_DIR``), and its
outputs are compared with the committed ones, cell by cell, after normalisation (ids, memory
addresses; a picture counts as ``<png>``, a folium map as ``<map>``): a notebook whose code
changed without being run again fails here. Re-run them all with
``python scripts/run_notebooks.py``.

Why compare executions and not hashes of the sources: the numbers a notebook prints come from
the library as much as from its cells, so a change in the library that changes a committed
output is caught too; pictures are only counted, since their bytes vary with matplotlib and
font versions while their presence is what a reader needs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location(
    "run_notebooks", REPO / "scripts" / "run_notebooks.py"
)
assert _spec is not None
assert _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
sys.modules["run_notebooks"] = runner
_spec.loader.exec_module(runner)


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_its_figures_and_no_path_into_shared(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    outputs = _outputs(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "a code cell was never run"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "not run top to bottom in one kernel"
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure inline"
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "shared/data" not in text
    assert "TqdmWarning" not in text
    assert "IProgress" not in text
    assert "<Figure size" not in text  # a returned figure shows as a picture
    assert "%matplotlib" not in text
    if runner.needs_data_dir(nb):  # it says so where a reader starts
        assert "COTERMINUS_DATA_DIR" in nb.cells[0].source


def test_notebook_02_has_no_doubled_dash() -> None:
    text = (REPO / "notebooks" / "02_england_one_ccg_per_ics.ipynb").read_text(encoding="utf-8")
    assert "— —" not in text


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_are_those_of_the_code(
    path: Path, request: pytest.FixtureRequest
) -> None:
    committed = nbformat.read(path, as_version=4)
    data_dir = None
    if runner.needs_data_dir(committed):
        data_dir = request.getfixturevalue("data_dir")
    executed = runner.execute(path, data_dir)
    fresh, stored = runner.normalised(executed), runner.normalised(committed)
    stale = [
        (i, json.dumps(s)[:300], json.dumps(f)[:300])
        for i, (s, f) in enumerate(zip(stored, fresh, strict=True))
        if s != f
    ]
    assert not stale, (
        f"{path.name}: outputs of code cells {[i for i, *_ in stale]} differ from a fresh run "
        f"(first: committed {stale[0][1]} vs run {stale[0][2]}); run "
        f"python scripts/run_notebooks.py {path.name[:2]}"
    )


def test_there_are_at_least_four_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4, [p.name for p in NOTEBOOKS]
