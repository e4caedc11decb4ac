"""The ``coterminus data`` command: where the ONS files are, download them, check them.

``coterminus data status | fetch | verify`` wraps :func:`coterminus.datasets.status`,
:func:`~coterminus.datasets.fetch` and :func:`~coterminus.datasets.verify`. ``cli.py`` wires it in
with :func:`add_parser` and calls :func:`run` (also set as the ``func`` default of the ``data``
parser). Exit codes: 0 success, 1 an error or a problem found by ``verify``, 2 a usage error.
Errors propagate to ``cli.main``, which prints the one-line ``coterminus data COMMAND: error: ...``
(see :mod:`coterminus._cli_common`).

Examples
--------
>>> import argparse
>>> from coterminus import _cli_data
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = _cli_data.add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["data", "fetch", "ccg-2019", "--base-url", "http://localhost:8000"])
>>> args.data_command, args.ids, args.base_url, args.func is _cli_data.run
('fetch', ['ccg-2019'], 'http://localhost:8000', True)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ._cli_common import LazyModule, UsageError, add_common, example_epilog, print_error
from .errors import CoterminusError

if TYPE_CHECKING:
    import pandas as pd

    from . import datasets
else:  # imported when a command runs, not for --help (see coterminus.cli)
    pd = LazyModule("pandas")
    datasets = LazyModule("coterminus.datasets")

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``data`` command with its ``status``, ``fetch`` and ``verify`` subcommands.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()`` of the main parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``data`` parser; its ``func`` default is :func:`run`.

    Examples
    --------
    >>> import argparse
    >>> from coterminus._cli_data import add_parser
    >>> parser = argparse.ArgumentParser(prog="coterminus")
    >>> data = add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["data", "status", "--vintage", "2019", "--json"])
    >>> args.data_command, args.vintage, args.json
    ('status', 2019, True)
    """
    common = argparse.ArgumentParser(add_help=False)
    add_common(common, vintage="datasets")

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "data",
        help="where the ONS files are; download and check them",
        description=(
            "Find, download and check the ONS geography files coterminus uses. Files are looked "
            "for in the data directory first, then in the download cache ($COTERMINUS_CACHE_DIR)."
        ),
        epilog=example_epilog("coterminus data status --vintage 2019"),
    )
    parser.set_defaults(func=run, data_command=None, _data_parser=parser)
    sub = parser.add_subparsers(dest="data_command", metavar="{status,fetch,verify}")
    sub.add_parser(
        "status",
        parents=[common],
        help="say where each dataset is (data dir, cache, missing)",
        description="One line per dataset: where it was found, its size and path.",
        epilog=example_epilog("coterminus data status --vintage 2019"),
    )
    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="download datasets from the ONS Open Geography Portal into the cache",
        description=(
            "Download the given dataset ids, or with --vintage every file that vintage needs and "
            "that is neither in the data directory nor in the cache."
        ),
        epilog=example_epilog("coterminus data fetch --vintage 2019"),
    )
    fetch.add_argument("ids", nargs="*", metavar="ID", help="dataset ids, e.g. ccg-2019-buc")
    fetch.add_argument(
        "--base-url",
        metavar="URL",
        help="ArcGIS base URL (default: $COTERMINUS_ONS_BASE_URL, else the ONS Open Geography "
        "Portal's, coterminus.datasets.DEFAULT_BASE_URL)",
    )
    fetch.add_argument("--force", action="store_true", help="download again files in the cache")
    fetch.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="seconds per request (default 60)"
    )
    fetch.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="extra attempts on network errors (default 3)",
    )
    fetch.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="check SHA-256, columns and row counts of the files present",
        description="Check every dataset that is present; exit 1 if any has a problem.",
        epilog=example_epilog("coterminus data verify --vintage 2019"),
    )
    verify.add_argument("--deep", action="store_true", help="also load each file (slower)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``coterminus data ...`` from parsed arguments and return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        From a parser built with :func:`add_parser`.

    Returns
    -------
    int
        0 on success, 1 when ``verify`` finds a problem or ``fetch`` could not download one of the
    ids given, 2 when no subcommand is given. Other errors propagate (``cli.main`` prints them).

    Examples
    --------
    >>> import argparse
    >>> from coterminus._cli_data import add_parser, run
    >>> parser = argparse.ArgumentParser(prog="coterminus")
    >>> _ = add_parser(parser.add_subparsers(dest="command"))
    >>> run(parser.parse_args(["data", "status", "--data-dir", "/no/such/dir"]))
    Traceback (most recent call last):
    ...
    coterminus.errors.DataDirError: The data directory ...
    """
    command = getattr(args, "data_command", None)
    if command is None:
        data_parser = getattr(args, "_data_parser", None)
        if data_parser is not None:
            data_parser.print_help(sys.stderr)
        return 2
    if command == "status":
        return _status(args)
    if command == "fetch":
        return _fetch(args)
    return _verify(args)


def _records(frame: pd.DataFrame) -> list[dict[Any, Any]]:
    out = frame.reset_index().astype(object)
    return out.where(out.notna(), None).to_dict("records")


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def _size(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""  # pragma: no cover


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _status(args: argparse.Namespace) -> int:
    table = datasets.status(args.vintage, data_dir=args.data_dir)
    if args.json:
        _emit_json(_records(table))
        return 0
    rows = [["id", "where", "size", "path"]]
    for dataset_id, row in table.iterrows():
        path = "" if pd.isna(row["path"]) else str(row["path"])
        if path and not pd.isna(row["layer"]):
            path += f" (layer {row['layer']})"
        rows.append([str(dataset_id), str(row["where"]), _size(row["size"]), path])
    counts = table["where"].value_counts()
    sys.stdout.write(_table(rows))
    sys.stdout.write(
        f"{len(table)} datasets: {counts.get('data_dir', 0)} in the data directory, "
        f"{counts.get('cache', 0)} in the cache, {counts.get('missing', 0)} missing"
        + (" (download with `coterminus data fetch ID`)" if counts.get("missing", 0) else "")
        + "\n"
    )
    return 0


def _fetch(args: argparse.Namespace) -> int:
    if not args.ids and args.vintage is None:
        msg = "give dataset ids (see `coterminus data status`) or --vintage YEAR"
        raise UsageError(msg)
    options = {
        "base_url": args.base_url,
        "progress": not args.no_progress,
        "timeout": args.timeout,
        "retries": args.retries,
        "force": args.force,
    }
    fetched: dict[str, str] = {}
    available: dict[str, str] = {}
    failed = 0
    if args.ids:
        for dataset_id in args.ids:
            try:
                fetched[dataset_id] = str(datasets.fetch(dataset_id, **options))
            except CoterminusError as exc:  # report it, and fetch the other ids
                print_error(args, exc)
                failed += 1
    else:
        root = datasets.resolve_data_dir(args.data_dir)
        to_fetch, present, _ = datasets._vintage_plan(args.vintage, root)
        wanted = {ds.id for ds in to_fetch}
        if args.force:  # cached files are downloaded again; data-directory files never
            wanted |= {i for i, path in present.items() if root is None or root not in path.parents}
        result = datasets.fetch(vintage=args.vintage, data_dir=args.data_dir, **options)
        for dataset_id, path in result.items():
            target = fetched if dataset_id in wanted else available
            target[dataset_id] = str(path)
    if args.json:
        _emit_json({"fetched": fetched, "available": available})
    else:
        for dataset_id, path in fetched.items():
            sys.stdout.write(f"fetched    {dataset_id}  {path}\n")
        for dataset_id, path in available.items():
            sys.stdout.write(f"available  {dataset_id}  {path}\n")
        if args.vintage is not None and not args.ids and not fetched:
            sys.stdout.write(
                f"Nothing to fetch: every file vintage {args.vintage} needs is already available.\n"
            )
    return 1 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    report = datasets.verify(args.vintage, data_dir=args.data_dir, deep=args.deep)
    problems = int((report["result"] == "problem").sum())
    if args.json:
        _emit_json(_records(report))
    else:
        rows = [["result", "id", "rows", "detail"]]
        for dataset_id, row in report.iterrows():
            rows_found = "" if pd.isna(row["rows"]) else str(row["rows"])
            detail = row["problem"] or (
                "" if row["result"] == "missing" else f"sha256 {row['sha256']}"
            )
            rows.append([str(row["result"]), str(dataset_id), rows_found, str(detail)])
        sys.stdout.write(_table(rows))
        counts = report["result"].value_counts()
        sys.stdout.write(
            f"{counts.get('ok', 0)} ok, {problems} with problems, {counts.get('missing', 0)} "
            "missing (not a failure; see `coterminus data status`)\n"
        )
    return 1 if problems else 0
