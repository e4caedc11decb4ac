"""Benchmark: start-up, loading and the first answer, each in fresh processes, in one run.

Part 1 (issue 11): ``coterminus --help`` and ``import coterminus``. Each command runs in a fresh
interpreter, interleaved, ``--repeat`` times; the median wall time and CPU time (user + system,
steadier than wall time on a busy machine) are printed next to two baselines measured in the
same run: ``python -c pass`` (the interpreter alone) and ``python -c "import geopandas"`` (the
library coterminus is built on). Targets: ``coterminus --help`` ≤ 0.2 s; ``import coterminus`` ≤
``import geopandas`` + 0.1 s. Also shown: ``--version``, ``assess --help`` and which heavy
modules each command imported.

Part 2 (issue 19): ``coterminus.load(v)`` for every built-in vintage, from the data directory
and from the embedded copy, with the cache warm (the prepared block table written by an
earlier run) and cold (an empty cache folder per process). Each time is the ``load`` call
alone, measured inside a fresh process after its imports; the baseline, measured in the same
run and the same way, is ``pyarrow.csv.read_csv`` (``pyarrow.parquet.read_table`` for the
embedded copy) of the vintage's block lookup. Targets, warm: ≤ 0.3 s and ≤ 3× the baseline.

Part 3 (issue 19): the whole command ``coterminus assess --vintage 2024 --system "Coventry and
Warwickshire" --units icb``, wall time of the fresh process: data directory warm (target
≤ 1.0 s), embedded copy warm (≤ 1.5 s), and both cold (≤ 3 s).

    python benchmarks/bench_startup.py [--repeat 5] [--data-dir ../shared/data] [--skip-help]

Commands run what the console script runs (``coterminus.cli:main``) with this interpreter and
the source tree on ``PYTHONPATH``, so they measure this tree rather than an older install.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CW = "Coventry and Warwickshire"
HEAVY = ("pandas", "numpy", "geopandas", "shapely", "pyogrio", "numba", "matplotlib", "folium")
REPORT = f"import sys, json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
CLI = """\
import sys
from coterminus.cli import main
try:
    main(sys.argv[1:])
except SystemExit:  # --help exits from argparse
    pass"""


def _cli(*argv: str) -> list[str]:
    return ["-c", f"{CLI}\n{REPORT}", *argv]


CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    'python -c "import geopandas"': ["-c", "import geopandas"],
    "coterminus --help": _cli("--help"),
    "coterminus --version": _cli("--version"),
    "coterminus assess --help": _cli("assess", "--help"),
    "import coterminus": ["-c", f"import coterminus\n{REPORT}"],
    "import coterminus; coterminus.load": ["-c", f"import coterminus\ncoterminus.load\n{REPORT}"],
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, list[str] | None]:
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    c0, t0 = _cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    if done.returncode not in (0,):
        msg = f"{args} failed ({done.returncode}): {done.stderr[-500:]}"
        raise RuntimeError(msg)
    lines = done.stdout.strip().splitlines()
    heavy = json.loads(lines[-1]) if lines and lines[-1].startswith("[") else None
    return seconds, cpu, heavy


# --- part 2: load(v) against pyarrow reading the lookup --------------------------------------------
TIMED_LOAD = """
import json, sys, time
from coterminus.geography.bundle import load
t0 = time.perf_counter()
geo = load(int(sys.argv[1]))
print(json.dumps(time.perf_counter() - t0))
"""
TIMED_READ = """
import json, sys, time
import pyarrow.csv, pyarrow.dataset, pyarrow.parquet  # read_table imports pyarrow.dataset
path = sys.argv[1]
t0 = time.perf_counter()
if path.endswith(".parquet"):
    pyarrow.parquet.read_table(path)
else:
    pyarrow.csv.read_csv(path)
print(json.dumps(time.perf_counter() - t0))
"""
LOOKUP = """
import sys
from coterminus.data.embedded import fallback_manifest
from coterminus.data.loading import locate_source
from coterminus.data.locations import resolve_data_dir
from coterminus.data.manifest import builtin_vintages, read_manifest
for v in builtin_vintages():
    m = read_manifest(v)
    dd = resolve_data_dir()
    m = fallback_manifest(m, dd, quiet=True) or m
    print(v, locate_source(m.block.source, m, dd)[0])
"""
ASSESS = ["-m", "coterminus", "assess", "--vintage", "2024", "--system", CW, "--units", "icb"]


def _seconds(args: list[str], env: dict[str, str]) -> float:
    """The number a timed snippet prints (the timed call alone)."""
    full = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=full, check=False
    )
    if done.returncode != 0:
        msg = f"{args[:3]} failed ({done.returncode}): {done.stderr[-800:]}"
        raise RuntimeError(msg)
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def _lookups(env: dict[str, str]) -> dict[int, str]:
    full = {**os.environ, **env, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", LOOKUP], capture_output=True, text=True, env=full, check=True
    )
    return {int(v): p for v, p in (line.split(" ", 1) for line in done.stdout.splitlines())}


def _fresh_cache(root: Path) -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="cold-", dir=root))
    return {"COTERMINUS_CACHE_DIR": str(folder)}


def loading(repeat: int, data_dir: Path) -> None:
    """Part 2 and part 3: load(v) warm and cold, data dir and embedded; then the assess command."""
    root = Path(tempfile.mkdtemp(prefix="coterminus-bench-"))
    try:
        sources = {
            "data dir": {"COTERMINUS_DATA_DIR": str(data_dir)},
            "embedded": {"COTERMINUS_DATA_DIR": ""},
        }
        warm = {"COTERMINUS_CACHE_DIR": str(root / "warm")}
        vintages = sorted(_lookups(sources["data dir"]))
        lookups = {name: _lookups(env) for name, env in sources.items()}
        for env in sources.values():  # warm the cache (and the file cache), untimed
            for v in vintages:
                _seconds(["-c", TIMED_LOAD, str(v)], {**env, **warm})
        times: dict[tuple[str, int, str], list[float]] = {}
        for _ in range(repeat):  # interleaved, so a busy moment hits every case alike
            for name, env in sources.items():
                for v in vintages:
                    cases = {
                        "warm": (["-c", TIMED_LOAD, str(v)], {**env, **warm}),
                        "cold": (["-c", TIMED_LOAD, str(v)], {**env, **_fresh_cache(root)}),
                        "pyarrow": (["-c", TIMED_READ, lookups[name][v]], env),
                    }
                    for case, (args, case_env) in cases.items():
                        times.setdefault((name, v, case), []).append(_seconds(args, case_env))
        med = {k: statistics.median(ts) for k, ts in times.items()}
        print(f"\nload(v), median of {repeat} fresh processes (the call alone, after imports)")
        print(
            f"  {'':10s} {'vintage':>7s} {'warm':>8s} {'cold':>8s} {'pyarrow':>8s} "
            f"{'warm/pyarrow':>12s}   target warm ≤ 0.3 s and ≤ 3×"
        )
        for name in sources:
            for v in vintages:
                w, c, b = (med[(name, v, k)] for k in ("warm", "cold", "pyarrow"))
                ok = "met" if w <= 0.3 and w <= 3 * b else "NOT met"
                print(f"  {name:10s} {v:7d} {w:6.3f} s {c:6.3f} s {b:6.3f} s {w / b:11.2f}×   {ok}")
        walls: dict[str, list[float]] = {}
        for _ in range(repeat):
            for name, env in sources.items():
                for state in ("warm", "cold"):
                    cache_env = warm if state == "warm" else _fresh_cache(root)
                    seconds, _, _ = _run(ASSESS, {**env, **cache_env})
                    walls.setdefault(f"{name}, {state} cache", []).append(seconds)
        targets = {
            "data dir, warm cache": 1.0,
            "embedded, warm cache": 1.5,
            "data dir, cold cache": 3.0,
            "embedded, cold cache": 3.0,
        }
        print(f"\ncoterminus assess --vintage 2024 --system {CW!r} --units icb (whole process)")
        for label, target in targets.items():
            m = statistics.median(walls[label])
            print(
                f"  {label:22s} {m:6.3f} s wall   target ≤ {target:.1f} s "
                f"{'met' if m <= target else 'NOT met'}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    ap.add_argument(
        "--data-dir",
        default=os.environ.get("COTERMINUS_DATA_DIR") or str(SRC.parents[1] / "shared" / "data"),
        help="the ONS files (default $COTERMINUS_DATA_DIR or ../shared/data)",
    )
    ap.add_argument("--skip-help", action="store_true", help="only parts 2 and 3")
    args = ap.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if not args.skip_help:
        startup(args.repeat)
    loading(args.repeat, Path(args.data_dir).resolve())


def startup(repeat: int) -> None:
    """Part 1: --help, --version and import coterminus against the interpreter and geopandas."""

    for case in CASES.values():  # warm the file cache (and .pyc files) once, untimed
        _run(case)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    heavy: dict[str, list[str] | None] = {}
    for _ in range(repeat):  # interleaved, so a busy moment hits every command alike
        for name, case in CASES.items():
            seconds, cpu, heavy[name] = _run(case)
            times[name].append(seconds)
            cpus[name].append(cpu)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_median = {name: statistics.median(ts) for name, ts in cpus.items()}

    print(f"median of {repeat} fresh interpreters ({sys.executable}); load average ", end="")
    print(" ".join(f"{x:.1f}" for x in os.getloadavg()), f"on {os.cpu_count()} CPUs")
    print(f"  {'':38s} {'wall':>8s} {'CPU':>8s}")
    for name, seconds in median.items():
        found = heavy[name]
        loaded = "(not checked)" if found is None else ", ".join(found) or "none"
        print(f"  {name:38s} {seconds:6.3f} s {cpu_median[name]:6.3f} s   heavy modules: {loaded}")
    print()
    for what, m in (("wall", median), ("CPU", cpu_median)):
        base, gpd = m["python -c pass"], m['python -c "import geopandas"']
        help_s, imp = m["coterminus --help"], m["import coterminus"]
        print(
            f"{what:4s}  coterminus --help {help_s:.3f} s (interpreter + {help_s - base:.3f} s; "
            f"target ≤ 0.2 s {'met' if help_s <= 0.2 else 'NOT met'});  import coterminus "
            f"{imp:.3f} s vs import geopandas {gpd:.3f} s (target ≤ +0.1 s "
            f"{'met' if imp <= gpd + 0.1 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
