"""Every bash and Python block of README.md runs as written, so no example can drift.

A block preceded by ``<!-- readme-test: skip REASON -->`` is not run (the install command, the
test command itself, downloads); every other block is. Bash blocks run line by line in a
temporary folder of its own with ``../shared/data`` pointing at the real data (one test per block,
so the blocks run side by side on the workers); Python blocks run in order in one namespace (later
blocks use names earlier ones define).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from coterminus.errors import CoterminusWarning

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<skip>skip[^>]*)-->\s*\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S
)


def _blocks() -> list[tuple[int, str, str, str | None]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for m in _BLOCK.finditer(text):
        if m.group("lang") in ("bash", "python"):
            line = text[: m.start("body")].count("\n") + 1
            out.append((line, m.group("lang"), m.group("body"), m.group("skip")))
    return out


BLOCKS = _blocks()


def test_the_readme_has_runnable_blocks_and_every_skip_says_why() -> None:
    assert sum(1 for *_, skip in BLOCKS if skip is None) >= 10
    for line, _, _, skip in BLOCKS:
        if skip is not None:
            assert len(skip.split()) > 1, f"README line {line}: a skip needs a reason"


def _bin() -> str:
    return str(Path(sys.executable).parent)


def _work(data_dir: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working folder with the README's ``../shared/data`` beside it, and the environment."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(data_dir)
    env = {**os.environ, "PATH": f"{_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
           "COTERMINUS_DATA_DIR": str(data_dir), "MPLBACKEND": "Agg"}  # fmt: skip
    return work, env


BASH = [(line, body) for line, lang, body, skip in BLOCKS if lang == "bash" and skip is None]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(("line", "body"), BASH, ids=[f"line{line}" for line, _ in BASH])
def test_every_readme_bash_block_runs_as_written(
    line: int, body: str, data_dir: Path, tmp_path: Path
) -> None:
    """Each bash block in a folder of its own (its lines in order: a later line may read what an
    earlier one wrote), so the blocks run side by side on the test workers."""
    work, env = _work(data_dir, tmp_path)
    for cmd in body.splitlines():
        cmd = cmd.strip()
        if not cmd or cmd.startswith("#"):
            continue
        run = subprocess.run(
            ["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert run.returncode == 0, f"README line {line}: {cmd}\n{run.stderr[-2000:]}"


@pytest.mark.realdata
@pytest.mark.slow
def test_every_readme_python_block_runs_as_written(data_dir: Path, tmp_path: Path) -> None:
    """The Python blocks in order, in one namespace (later blocks use names earlier ones define)."""
    work, _ = _work(data_dir, tmp_path)
    namespace: dict[str, object] = {}
    cwd = Path.cwd()
    os.chdir(work)
    try:
        for line, lang, body, skip in BLOCKS:
            if lang != "python" or skip is not None:
                continue
            code = compile(body, f"README.md:{line}", "exec")
            with warnings.catch_warnings():  # a user sees coterminus' warnings, not errors
                warnings.simplefilter("default", CoterminusWarning)
                exec(code, namespace)
    finally:
        os.chdir(cwd)


def test_every_readme_image_is_drawn_by_the_docs_script() -> None:
    """The README shows the images of docs/img/, each drawn by scripts/make_docs_images.py
    (which tests/test_board_ready.py renders and checks); none is left over or missing."""
    import importlib.util

    text = README.read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(docs/img/([^)]+)\)", text))
    spec = importlib.util.spec_from_file_location(
        "make_docs_images_names", README.parent / "scripts" / "make_docs_images.py"
    )
    assert spec is not None
    source = spec.origin and Path(spec.origin).read_text(encoding="utf-8")
    drawn = set(re.findall(r'doc="([^"]+)"', source or ""))
    on_disk = {p.name for p in (README.parent / "docs" / "img").glob("*.png")}
    assert shown == drawn == on_disk, (shown ^ drawn, drawn ^ on_disk)
