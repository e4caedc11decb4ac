"""The built wheel works on a machine with no network and no data: the README's main job.

Builds the wheel from a copy of the source tree, installs it (without dependencies) into a fresh
virtual environment in a temporary folder, and runs the ``coterminus`` command of that
environment inside a network namespace with no network (``unshare -n``), an empty ``HOME``, no
``COTERMINUS_DATA_DIR`` and no ``PYTHONPATH``. The dependencies (geopandas, ...) are not
downloaded again: the fresh environment sees the test interpreter's site-packages through a
``.pth`` file, after its own, so ``coterminus`` itself can only come from the wheel (checked).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from helpers import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
CW = "Coventry and Warwickshire"

pytestmark = pytest.mark.slow


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if not _unshare_works():
        skip_or_fail(
            "`unshare -n` is not permitted here (needs root or unprivileged user namespaces)"
        )
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src-copy"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            "notebooks",
            "benchmarks",
            "tests",
            "docs",
        ),
    )
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = list(dist.glob("coterminus-*.whl"))
    assert len(wheels) == 1
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "-q",
            str(wheels[0]),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    home = root / "home"
    home.mkdir()
    work = root / "work"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
    }
    where = subprocess.run(
        [str(py), "-c", "import coterminus; print(coterminus.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    return {"wheel": wheels[0], "venv": venv, "home": home, "work": work, "env": env}


def _offline(
    ctx: dict[str, object], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    exe = str(Path(str(ctx["venv"])) / "bin" / "coterminus")
    return subprocess.run(
        ["unshare", "-n", exe, *args],
        capture_output=True,
        text=True,
        env=ctx["env"],
        cwd=ctx["work"],
        timeout=timeout,  # type: ignore[arg-type]
    )


def test_wheel_carries_the_embedded_dataset(offline_env: dict[str, object]) -> None:
    size = Path(str(offline_env["wheel"])).stat().st_size
    assert size <= 25_000_000, f"wheel is {size / 1e6:.1f} MB"


def test_assess_offline_prints_the_verdict(offline_env: dict[str, object]) -> None:
    done = _offline(offline_env, "assess", "--vintage", "2019", "--system", CW)
    assert done.returncode == 0, done.stderr
    assert "949,454 people live in Coventry and Warwickshire" in done.stdout
    assert "it is coterminous with one or more whole upper-tier councils" in done.stdout


def test_map_offline_writes_a_map(offline_env: dict[str, object]) -> None:
    out = Path(str(offline_env["work"])) / "cw.html"
    done = _offline(offline_env, "map", "--vintage", "2019", "--system", CW, "--out", "cw.html")
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "leaflet" in text.lower()
    assert "Coventry" in text


def test_data_fetch_offline_fails_fast_and_saves_nothing(offline_env: dict[str, object]) -> None:
    home = Path(str(offline_env["home"]))
    before = {p for p in home.rglob("*") if p.is_file()}
    t0 = time.perf_counter()
    done = _offline(offline_env, "data", "fetch", "--vintage", "2019", timeout=60)
    elapsed = time.perf_counter() - t0
    assert done.returncode != 0
    assert elapsed < 5, f"took {elapsed:.1f} s"
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 5, lines
    after = {p for p in home.rglob("*") if p.is_file()}
    cache = [p for p in after - before if "coterminus" in p.parts]
    assert cache == [], cache


# --- issue 18: the README's 2026 commands, offline from the wheel --------------------------------
def test_alignment_scorecard_offline(offline_env: dict[str, object]) -> None:
    done = _offline(offline_env, "alignment", "--vintage", "2026")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Vintage 2026; people: Census 2021 usual residents")
    assert "4 of the 36 ICBs are coterminous with one or more whole strategic authorities" in (
        done.stdout
    )


def test_alignment_with_the_reported_clusters_offline(offline_env: dict[str, object]) -> None:
    done = _offline(
        offline_env,
        "alignment",
        "--vintage",
        "2026",
        "--scenario",
        "icb-clusters-2027",
        "--compare",
    )
    assert done.returncode == 0, done.stderr
    assert "Scenario icb-clusters-2027 (reported)" in done.stdout
    assert "ICBs of 2027 (reported)" in done.stdout


def test_one_byte_edited_in_the_installed_embedded_copy_is_refused(
    offline_env: dict[str, object],
) -> None:
    """Issue 22: the embedded data inside the installed package is checked against files.json on
    every load, even with its prepared table already in the cache; one edited byte is refused
    (one line naming the fix, no traceback), and the restored file loads again."""
    py = Path(str(offline_env["venv"])) / "bin" / "python"
    root = subprocess.run(
        [str(py), "-c", "from coterminus.data.embedded import root; print(root())"],
        check=True,
        capture_output=True,
        text=True,
        env=offline_env["env"],  # type: ignore[arg-type]
        cwd=offline_env["work"],  # type: ignore[arg-type]
    ).stdout.strip()
    assert root.startswith(str(offline_env["venv"])), root
    target = Path(root) / "2024" / "blocks.parquet"
    argv = ("assess", "--vintage", "2024", "--system", CW, "--units", "icb")
    assert _offline(offline_env, *argv).returncode == 0  # the prepared table is now cached
    original = target.read_bytes()
    edited = bytearray(original)
    edited[len(edited) // 2] ^= 0x01
    try:
        target.write_bytes(bytes(edited))
        done = _offline(offline_env, *argv)
        assert done.returncode == 1, done.stdout
        assert "blocks.parquet has been modified" in done.stderr
        assert "recorded in files.json" in done.stderr
        assert "pip install --force-reinstall coterminus" in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
    finally:
        target.write_bytes(original)
    again = _offline(offline_env, *argv)
    assert again.returncode == 0, again.stderr
