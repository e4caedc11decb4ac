"""Benchmark: start-up time of ``coterminus --help`` and ``import coterminus``, in one run.

Each command runs in a fresh interpreter, interleaved, ``--repeat`` times; the median wall time
and CPU time (user + system, steadier than wall time on a busy machine) are printed next to two
baselines measured in the same run: ``python -c pass`` (the interpreter alone) and
``python -c "import geopandas"`` (the library coterminus is built on). Targets
(issue 11): ``coterminus --help`` ≤ 0.2 s; ``import coterminus`` ≤ ``import geopandas`` + 0.1 s.
Also shown: ``--version``, ``assess --help`` and a first use of the library (``coterminus.load``,
which imports geopandas), and which heavy modules each command imported.

    python benchmarks/bench_startup.py --repeat 7

``coterminus --help`` runs what the console script runs (``coterminus.cli:main``) with this
interpreter, so it measures the source tree on ``PYTHONPATH`` rather than an older install.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
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


def _run(args: list[str]) -> tuple[float, float, list[str] | None]:
    env = {
        **os.environ,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs of each command (default 7)")
    args = ap.parse_args()

    for case in CASES.values():  # warm the file cache (and .pyc files) once, untimed
        _run(case)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    heavy: dict[str, list[str] | None] = {}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits every command alike
        for name, case in CASES.items():
            seconds, cpu, heavy[name] = _run(case)
            times[name].append(seconds)
            cpus[name].append(cpu)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_median = {name: statistics.median(ts) for name, ts in cpus.items()}

    print(f"median of {args.repeat} fresh interpreters ({sys.executable}); load average ", end="")
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
