"""Execute the notebooks in place, so each is committed with its outputs (figures inline).

    python scripts/run_notebooks.py                # every notebook in notebooks/
    python scripts/run_notebooks.py 02 04          # those whose names start so

A notebook built by a script (``scripts/make_notebook_NN.py``) is rebuilt by it first. Each
runs top to bottom in a fresh kernel, in ``notebooks/``, on the data embedded in coterminus:
``COTERMINUS_DATA_DIR`` is removed from its environment, unless the notebook says it needs the
full ONS files (``"coterminus": {"data_dir": "required"}`` in its metadata, and in words in its
first cell), when it is set from the environment or ``--data-dir`` (default
``../shared/data`` beside the repository). ``MPLBACKEND=Agg`` as in CI: the figures show
because the objects the library returns display themselves, with no ``%matplotlib`` magic.

The outputs are stored as executed, less the timing metadata nbclient adds. ``tests/
test_notebooks.py`` executes each notebook the same way and checks that the committed outputs
are those of the code committed (:func:`normalised` outputs equal cell by cell, the same number
of images), so a notebook whose code changed without being run again fails the suite.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DEFAULT_DATA = REPO.parent / "shared" / "data"

_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_ADDRESS = re.compile(r"0x[0-9a-f]{6,}")


def needs_data_dir(nb: Any) -> bool:
    """Whether a notebook needs the full ONS files (its metadata says so)."""
    return nb.metadata.get("coterminus", {}).get("data_dir") == "required"


def kernel_env(nb: Any, data_dir: Path | None) -> dict[str, str]:
    """The environment a notebook runs in: embedded data unless it needs the full files."""
    env = {k: v for k, v in os.environ.items() if k != "COTERMINUS_DATA_DIR"}
    env["MPLBACKEND"] = "Agg"
    env.setdefault("PYTHONHASHSEED", "0")
    if needs_data_dir(nb):
        if data_dir is None or not (data_dir / "boundaries").is_dir():
            msg = (
                f"this notebook needs the full ONS files; set COTERMINUS_DATA_DIR or pass "
                f"--data-dir (looked in {data_dir})"
            )
            raise SystemExit(msg)
        env["COTERMINUS_DATA_DIR"] = str(data_dir)
    return env


def execute(path: Path, data_dir: Path | None = None, *, timeout: int = 1200) -> Any:
    """Run a notebook top to bottom in a fresh kernel; return the notebook with its outputs."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=kernel_env(nb, data_dir))
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def normalised(nb: Any) -> list[list[str]]:
    """Per code cell, its outputs as comparable text: ids, addresses and pictures normalised.

    Streams and ``text/plain`` are kept (ids and memory addresses replaced), a PNG becomes
    ``<png>``, an HTML page in an iframe (a folium map) ``<map>``; other rich forms of a result
    that also has ``text/plain`` (a DataFrame's HTML) are left out.
    """
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        items = []
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream":
                items.append(f"{o['name']}: " + _clean(o["text"]))
            elif kind in ("execute_result", "display_data"):
                data = o.get("data", {})
                if "image/png" in data:
                    items.append("<png>")
                elif "<iframe" in str(data.get("text/html", "")):
                    items.append("<map>")
                elif "text/plain" in data:
                    items.append(_clean(str(data["text/plain"])))
            elif kind == "error":
                items.append(f"error: {o.get('ename')}: {o.get('evalue')}")
        out.append(items)
    return out


def _clean(text: str) -> str:
    return _ADDRESS.sub("0x…", _HEX_ID.sub("<id>", text)).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks whose file names start so")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(os.environ.get("COTERMINUS_DATA_DIR", DEFAULT_DATA))
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in args.names)]
    for path in paths:
        maker = REPO / "scripts" / f"make_notebook_{path.name[:2]}.py"
        if maker.exists():
            subprocess.run([sys.executable, str(maker)], check=True, cwd=REPO)
        nb = execute(path, data_dir)
        nbformat.write(nb, path)
        n_png = sum(
            1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
        )
        print(f"ran {path.relative_to(REPO)}: {n_png} figure(s)")  # noqa: T201 - a script
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
