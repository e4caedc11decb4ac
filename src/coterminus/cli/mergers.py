"""``coterminus mergers``: every way of merging the units of a system, ranked and explained.

Over :func:`coterminus.plans.mergers.mergers` (one system) and :func:`coterminus.plans.mergers.national`
(``--all-systems``), in this process, on local worker processes (``--jobs``) or on Dask
(``--workers``, ``--scheduler``).

Examples
--------
::

    coterminus mergers --vintage 2024 --units icb --within nhser --system Midlands
    coterminus mergers --vintage 2024 --units ltla --codes <14 councils> --across --min-pop 500000
    coterminus mergers --vintage 2019 --system "Cheshire and Merseyside" --out plans.parquet
    coterminus mergers --vintage 2019 --all-systems --out national.parquet
    coterminus mergers --system "Hampshire and the Isle of Wight" \\
        --join "Isle of Wight:Portsmouth" --weights not_coterminous_utla=1,outside_band=2
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from typing import Any

from coterminus.errors import ParameterError, UnknownAreaError

from .options import (
    UsageError,
    add_ccgs,
    add_common,
    add_system,
    add_tolerance,
    cap_at_cores,
    connect_scheduler,
    exclusive,
    number,
    scheduler_arg,
)

__all__ = ["add_parser", "add_question", "constraint_options", "question_options", "run"]

#: Smallest run (plans) that --jobs spreads over worker processes.
PARALLEL_MIN = 2e7

EPILOG = """\
examples:
  coterminus mergers --vintage 2024 --units icb --within nhser --system Midlands --top 5
  coterminus mergers --vintage 2024 --units icb --within nhser --system Midlands \\
      --against utla cauth --no-split utla --coterminous-with cauth --wherever-feasible
  coterminus mergers --vintage 2019 --system "Cheshire and Merseyside" --out plans.parquet
  coterminus mergers --vintage 2019 --all-systems --out national.parquet

criteria for --weights (people, lower is better, summed over blocks), for each level L of
--against: split_L, mismatch_L, not_coterminous_L; and outside_band with --band soft.
Default weights: 1 per person for mismatch_L, not_coterminous_L and outside_band, 0 for
split_L. Ties on the objective go to the plan moving fewest people (change).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``mergers`` subcommand on the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "mergers",
        help="rank every way of merging the units of a system (CCGs, sub-ICBs, ICBs, councils)",
        description=(
            "Enumerate every merger plan (set partition) of the units of a system — CCGs of an "
            "STP, sub-ICB locations of an ICB, ICBs of an NHS region (--units icb --within "
            "nhser), districts of a county (--units ltla --within utla) or any list (--units "
            "ltla --codes ...) — score each in people against the levels of --against, and "
            "rank them under a weighted objective shown in the output."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(
        p,
        out="write every scored plan to this .parquet or .csv file (above --store-limit: "
        "the top-k and the Pareto front)",
    )
    add_question(p)
    p.add_argument(
        "--top",
        type=number(integer=True, low=1),
        default=None,
        help="plans to show (default 20; 5 per system)",
    )
    p.add_argument(
        "--max-plans",
        type=number(low=1),
        default=2e10,
        help="refuse beyond this many plans (default 2e10; Bell(15) = 1.4e9 takes seconds)",
    )
    p.add_argument(
        "--store-limit",
        type=number(low=0),
        default=5e7,
        metavar="N",
        help="above N plans, --out holds the top-k and the Pareto front instead of every plan "
        "(default 5e7)",
    )
    p.add_argument(
        "--all-plans",
        action="store_true",
        help="with --out, write every plan whatever their number (the size estimate is shown "
        "first; refused if the disk cannot hold it) (default: off)",
    )
    p.add_argument(
        "--backend",
        choices=["auto", "numpy", "numba"],
        default="auto",
        help="scoring kernel: numba (compiled), numpy, or auto (numba when installed) "
        "(default auto)",
    )
    p.add_argument(
        "--workers",
        type=number(integer=True, low=0),
        default=0,
        help="run on a local Dask cluster of N workers (default 0: in this process)",
    )
    p.add_argument(
        "--jobs",
        type=number(integer=True, low=1),
        default=None,
        metavar="N",
        help=f"local worker processes for runs of {PARALLEL_MIN:.0e} plans or more "
        "(default: every core; more than the cores available are capped, with a note; "
        "1 = serial)",
    )
    p.add_argument(
        "--scheduler",
        type=scheduler_arg,
        metavar="ADDRESS",
        default=None,
        help="run the pieces on this Dask scheduler, e.g. tcp://10.0.0.5:8786; it is reached "
        "(5 s at most) before any work (default: none)",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)"
    )
    exclusive(p, "scheduler", "workers", "jobs")
    p.set_defaults(func=run)
    return p


def add_question(p: argparse.ArgumentParser) -> None:
    """The options of a merger question, shared by ``mergers`` and ``optimise``: which units
    (``--system``, ``--all-systems``, ``--codes``), levels, band, rules, today, weights,
    adjacency overrides, tolerance and measure."""
    which = p.add_mutually_exclusive_group()
    add_system(which)
    which.add_argument(
        "--all-systems",
        action="store_true",
        help="every system of the vintage (every unit of --within) (default: off)",
    )
    add_ccgs(
        p,
        help_text="these units (codes, NHS codes or names): with --system a subset of it, "
        "without it any units, e.g. the 14 councils of Greater Essex (default: all of --system)",
    )
    p.add_argument(
        "--units",
        default=None,
        metavar="LEVEL",
        help="level of the units to merge, e.g. ccg, sicbl, icb, ltla (default: the finest level "
        "the system groups)",
    )
    p.add_argument(
        "--within",
        default=None,
        metavar="LEVEL",
        help="level of --system, e.g. stp, icb, nhser, utla (default: the level grouping --units)",
    )
    p.add_argument(
        "--against",
        nargs="+",
        default=None,
        metavar="LEVEL",
        help="levels every block is scored against, any number, e.g. utla sa sicbl (default: "
        "council levels for NHS units, NHS levels for councils)",
    )
    p.add_argument(
        "--min-pop",
        type=number(low=0),
        default=None,
        metavar="N",
        help="fewest people in a block (default: fits --units: 1000000 for ICB-sized blocks of "
        "icb/utla, 500000 for unitary councils of ltla, 250000 for ccg/sicbl; none otherwise)",
    )
    p.add_argument(
        "--max-pop",
        type=number(low=0),
        default=None,
        metavar="N",
        help="most people in a block (default: the largest ICB of the vintage for icb/utla, the "
        "largest upper-tier council for ltla, 500000 for ccg/sicbl; none otherwise)",
    )
    p.add_argument(
        "--band",
        choices=["hard", "soft"],
        default=None,
        help="hard: the band is a rule; soft: people in blocks outside it are a criterion "
        "(outside_band) (default: soft for ccg/sicbl, hard otherwise)",
    )
    p.add_argument(
        "--no-split",
        nargs="+",
        default=None,
        metavar="LEVEL",
        help="rule: no area of LEVEL is split between blocks, e.g. utla (default: none)",
    )
    p.add_argument(
        "--coterminous-with",
        nargs="+",
        default=None,
        metavar="LEVEL",
        help="rule: every block is coterminous with one or more areas of LEVEL, e.g. cauth "
        "(default: none); with --wherever-feasible a criterion instead",
    )
    p.add_argument(
        "--wherever-feasible",
        action="store_true",
        help="make --coterminous-with a criterion (people in blocks not coterminous), not a "
        "rule (default: off)",
    )
    shape = p.add_mutually_exclusive_group()
    shape.add_argument(
        "--contiguous",
        action="store_true",
        help="only blocks of touching units (the default; kept for old command lines)",
    )
    shape.add_argument(
        "--non-contiguous",
        action="store_true",
        help="allow blocks of units that do not touch (default: off)",
    )
    p.add_argument(
        "--across",
        action="store_true",
        help="allow blocks that mix units of different --within groups, e.g. Essex districts "
        "with Southend-on-Sea (default: blocks stay within one group)",
    )
    p.add_argument(
        "--n-blocks", metavar="N|MIN-MAX", help="number of blocks of a plan (default: any)"
    )
    p.add_argument(
        "--today",
        metavar="LEVEL",
        default=None,
        help="level of today's footprints for change, the tie-break (default: the units)",
    )
    p.add_argument("--weights", help="criterion=weight,... (see below); default shown in output")
    p.add_argument(
        "--join",
        nargs="+",
        metavar="A:B",
        default=[],
        help="treat two units as adjacent (default: none)",
    )
    p.add_argument("--separate", nargs="+", metavar="A:B", default=[], help="treat as not adjacent")
    add_tolerance(p, measure=True)
    exclusive(p, "ccgs", "all_systems")


def question_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--weights`` and ``--n-blocks`` parsed (before loading, so bad ones fail first)."""
    n_range = _range(args.n_blocks, "--n-blocks")
    return {
        "weights": _weights(args.weights),
        "n_blocks": None if n_range is None else (int(n_range[0]), int(n_range[1])),
    }


def constraint_options(
    args: argparse.Namespace, geo: Any, parsed: dict[str, Any]
) -> dict[str, Any]:
    """The :class:`~coterminus.plans.constraints.Constraints` fields of the options of
    :func:`add_question` (``parsed`` from :func:`question_options`; ``--join``/``--separate``
    resolved on ``geo``)."""
    overrides = {**_pairs(geo, args.join, "--join", True, args.units)}
    overrides.update(_pairs(geo, args.separate, "--separate", False, args.units))
    return {
        "units": args.units,
        "within": args.within,
        "across": args.across,
        "against": args.against,
        "min_pop": args.min_pop,
        "max_pop": args.max_pop,
        "soft_band": None if args.band is None else args.band == "soft",
        "contiguous": not args.non_contiguous,
        "no_split": args.no_split or (),
        "coterminous_with": args.coterminous_with or (),
        "wherever_feasible": args.wherever_feasible,
        "n_blocks": parsed["n_blocks"],
        "today": args.today,
        "weights": parsed["weights"],
        "tolerance": args.tolerance,
        "measure": args.measure,
        "overrides": overrides or None,
    }


def _range(text: str | None, what: str) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.replace("–", "-").replace(",", "").split("-")
    try:
        vals = [float(x) for x in parts if x.strip() != ""]
    except ValueError:
        vals = []
    if len(vals) == 1 and len(parts) == 1:
        vals = [vals[0], vals[0]]
    if len(vals) != 2 or not all(math.isfinite(v) and v >= 0 for v in vals) or vals[0] > vals[1]:
        msg = f"{what} {text!r} is not N or LOW-HIGH with 0 <= LOW <= HIGH (e.g. 2-4)"
        raise ParameterError(msg)
    return vals[0], vals[1]


def _weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            msg = f"--weights item {item!r} is not criterion=weight"
            raise ParameterError(msg)
        try:
            out[key.strip()] = float(value)
        except ValueError:
            msg = f"--weights {key.strip()}={value!r}: the weight is not a number"
            raise ParameterError(msg) from None
    return out


def _pairs(
    geo: Any, items: list[str], flag: str, value: bool, level: str | None = None
) -> dict[tuple[str, str], bool]:
    out: dict[tuple[str, str], bool] = {}
    problems = []
    for item in items:
        a, sep, b = item.partition(":")
        if not sep:
            msg = f"{flag} {item!r} is not A:B (two unit names or codes)"
            raise ParameterError(msg)
        try:
            ca, cb = geo.code(a, level=level), geo.code(b, level=level)
        except UnknownAreaError as exc:
            problems.append(f"{flag} {item!r}: {exc}")
            continue
        out[(ca, cb)] = value
    if problems:
        raise UnknownAreaError("; ".join(problems))
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus mergers``; returns the exit code (errors propagate to ``cli.call``).

    Every option is checked and the ``--scheduler`` reached before the geography is loaded."""
    if not (args.system or args.all_systems or args.ccgs):
        msg = "give --system NAME, --all-systems, or --codes CODE [CODE ...]"
        raise UsageError(msg)
    from coterminus.data.atomic import check_output_path

    parsed = question_options(args)
    if args.out is not None:  # fail before any work when the output cannot be written
        check_output_path(args.out, suffixes=(".parquet", ".csv"))
    client = connect_scheduler(args.scheduler) if args.scheduler else None
    try:
        return run_connected(args, client, parsed)
    finally:
        if client is not None:
            client.close()


def run_connected(args: argparse.Namespace, client: Any, parsed: dict[str, Any]) -> int:
    """:func:`run` once the options are checked and the scheduler (if any) is connected."""
    from coterminus.geography.provenance import sentences
    from coterminus.plans.constraints import Constraints, Executor, RunOptions
    from coterminus.plans.mergers import mergers, national
    from coterminus.plans.results import weights_text

    from .load import load
    from .output import frame_text

    geo = load(args)
    constraints = Constraints(**constraint_options(args, geo, parsed))
    cluster = None
    pool = None
    try:
        if client is None and args.workers and args.workers > 0:
            from distributed import Client, LocalCluster

            for name in ["distributed", *logging.root.manager.loggerDict]:
                if name.startswith("distributed"):  # the cluster's chatter is not our output
                    logging.getLogger(name).setLevel(logging.WARNING)

            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=cap_at_cores(args.workers, "--workers"), threads_per_worker=1,
                processes=False,
                dashboard_address=None, silence_logs=logging.ERROR,
            )  # fmt: skip
            client = Client(cluster)  # type: ignore[no-untyped-call]
        jobs = cap_at_cores(args.jobs, "--jobs")
        if client is None and jobs > 1:  # workers start only when a large run submits a piece
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=jobs)
        executor: Executor | None = client if client is not None else pool
        run_options = RunOptions(
            executor=executor,
            progress=not args.no_progress and not args.json and sys.stderr.isatty(),
            max_plans=args.max_plans,
            backend=args.backend,
            min_parallel_plans=0 if client is not None else PARALLEL_MIN,
            store_limit=args.store_limit,
            all_plans=args.all_plans,
        )
        if args.all_systems:
            if args.ccgs:
                msg = "--codes works with --system, not --all-systems"
                raise UsageError(msg)
            res = national(
                geo, constraints=constraints, top=5 if args.top is None else args.top,
                out=args.out, run=run_options.replace(executor=client),
            )  # fmt: skip
            if args.json:
                sys.stdout.write(json.dumps(res.to_dict(), indent=2, default=str) + "\n")
            else:
                cols = ["name", "units_now", "n_plans", "n_blocks", "objective", "blocks"]
                table = frame_text(res.summary[cols], rows=100, width=200, colwidth=90)
                lines = weights_text(res.weights, res.labels)
                sys.stdout.write(_national_text(res, lines, table) + "\n")
            return 0
        result = mergers(
            geo, args.system, members=args.ccgs, constraints=constraints,
            top=20 if args.top is None else args.top, out=args.out, run=run_options,
        )  # fmt: skip
        if args.json:
            sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        else:
            sys.stdout.write(result.summary(rows=len(result.top)) + "\n")
            if geo.notes():  # a derived lookup, a named scenario: said under every result
                sys.stdout.write(sentences(geo.notes()) + "\n")
        return 0
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _national_text(res: Any, weights: list[str], table: str) -> str:
    """The text of ``--all-systems``: the run, the objective (``weights``, one line per
    criterion) and the table of each system's best plan."""
    lines = [
        f"{len(res.results)} systems, {res.n_plans:,} plans scored in {res.seconds:.1f} s"
        + (
            f" ({', '.join(f'{k}={v}' for k, v in res.constraints.items())})"
            if res.constraints
            else ""
        ),
        "objective = Σ over blocks of Σ weight × criterion (lower is better):",
        *[f"  {t}" for t in weights],
        "",
        table,
    ]
    if res.out is not None:
        lines.append(f"full plan table: {res.out}")
    return "\n".join(lines)
