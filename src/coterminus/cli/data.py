"""The ``coterminus data`` command: where the ONS files are, download them, check them, cache.

``coterminus data status | fetch | verify | cache | clean | manifest`` wraps
:func:`coterminus.data.status`, :func:`~coterminus.data.fetch`,
:func:`~coterminus.data.verify`, :func:`~coterminus.data.cache_usage`,
:func:`~coterminus.data.clean_cache` and :func:`coterminus.data.manifest.manifest_text`. pandas and
the dataset modules are imported only when a subcommand runs (``run_status``, ``run_fetch``...),
so building the parser stays cheap. :mod:`coterminus.cli` wires it in with :func:`add_parser`
and calls :func:`run` (the ``func`` default of the ``data`` parser), which runs the subcommand.
Exit codes: 0 success, 1 an error or a problem found by ``verify``, 2 a usage error. Errors
propagate to :func:`coterminus.cli.call`, which prints the one-line
``coterminus data COMMAND: error: ...``.

Examples
--------
>>> import argparse
>>> from coterminus.cli import data
>>> parser = argparse.ArgumentParser(prog="coterminus")
>>> _ = data.add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["data", "fetch", "ccg-2019", "--base-url", "http://localhost:8000"])
>>> args.data_command, args.ids, args.base_url, args.deadline, args.func is data.run
('fetch', ['ccg-2019'], 'http://localhost:8000', 900.0, True)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from coterminus.errors import CoterminusError

from .options import (
    UsageError,
    add_common,
    builtin_years,
    example_epilog,
    number,
    print_error,
)

# Defaults, kept here (equal to coterminus.data.files') so the parser needs no import.
DEFAULT_BASE_URL = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_DEADLINE = 900.0

__all__ = [
    "add_parser",
    "run",
    "run_cache",
    "run_clean",
    "run_fetch",
    "run_manifest",
    "run_status",
    "run_verify",
]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``data`` command with its ``status``, ``fetch``, ``verify``, ``cache``, ``clean``.

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
    >>> from coterminus.cli.data import add_parser
    >>> parser = argparse.ArgumentParser(prog="coterminus")
    >>> data = add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["data", "status", "--vintage", "2019", "--json"])
    >>> args.data_command, args.vintage, args.json
    ('status', 2019, True)
    >>> parser.parse_args(["data", "clean", "--only", "parsed", "--yes"]).only
    'parsed'
    """
    common = argparse.ArgumentParser(add_help=False)
    add_common(common, vintage="datasets")

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "data",
        help="where the ONS files are; download and check them; the cache; vintage manifests",
        description=(
            "Find, download and check the ONS geography files coterminus uses, and see or empty "
            "the cache. Files are looked for in the data directory first, then in the download "
            "cache ($COTERMINUS_CACHE_DIR, default ~/.cache/coterminus)."
        ),
        epilog=example_epilog("coterminus data status --vintage 2019"),
    )
    parser.set_defaults(func=run, data_command=None, _data_parser=parser)
    sub = parser.add_subparsers(
        dest="data_command", metavar="{status,fetch,verify,cache,clean,manifest}"
    )
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
            "that is neither in the data directory nor in the cache. Without a network it stops "
            "at the first request with one message; nothing is saved unless it is complete."
        ),
        epilog=example_epilog("coterminus data fetch --vintage 2019"),
    )
    fetch.add_argument(
        "ids", nargs="*", metavar="ID", help="dataset ids, e.g. ccg-2019-buc (default: none)"
    )
    fetch.add_argument(
        "--base-url",
        metavar="URL",
        help=f"ArcGIS base URL (default: $COTERMINUS_ONS_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="download again files already in the cache (default: keep them)",
    )
    fetch.add_argument(
        "--timeout",
        type=number(low=0, low_open=True),
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for a connection or for more bytes (default {DEFAULT_TIMEOUT:g})",
    )
    fetch.add_argument(
        "--deadline",
        type=number(low=0, low_open=True),
        default=DEFAULT_DEADLINE,
        metavar="S",
        help=f"seconds allowed for each whole file, retries included (default {DEFAULT_DEADLINE:g})",
    )
    fetch.add_argument(
        "--retries",
        type=number(integer=True, low=0, high=100),
        default=DEFAULT_RETRIES,
        metavar="N",
        help="extra attempts after HTTP 429/5xx or a dropped connection; never after a failed "
        f"name lookup or a refused connection (default {DEFAULT_RETRIES})",
    )
    fetch.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bars (default: shown when stderr is a terminal)",
    )
    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="check SHA-256, columns and row counts of the files present",
        description="Check every dataset that is present; exit 1 if any has a problem.",
        epilog=example_epilog("coterminus data verify --vintage 2019"),
    )
    verify.add_argument(
        "--deep", action="store_true", help="also load each file (slower; default: off)"
    )
    cache = sub.add_parser(
        "cache",
        help="show where the cache is and how big each part is",
        description=(
            "The cache folder ($COTERMINUS_CACHE_DIR, default ~/.cache/coterminus) and the size "
            "of each sub-folder: downloads/ (ONS files from `data fetch`) and parsed/ (parsed "
            "boundary layers, rebuilt on demand)."
        ),
        epilog=example_epilog("coterminus data cache"),
    )
    cache.add_argument("--json", action="store_true", help="print JSON instead of text")
    clean = sub.add_parser(
        "clean",
        help="empty the cache (downloads and parsed layers)",
        description=(
            "Delete the files coterminus wrote to the cache (downloads/ and parsed/), as recorded "
            "in its .coterminus-cache marker; anything else in the cache folder is left alone, "
            "and a folder without the marker is refused. Asks first on a terminal; elsewhere "
            "needs --yes."
        ),
        epilog=example_epilog("coterminus data clean --only parsed --yes"),
    )
    clean.add_argument(
        "--only",
        choices=["downloads", "parsed"],
        default=None,
        help="empty just this sub-folder (default: both)",
    )
    clean.add_argument(
        "--yes", "-y", action="store_true", help="delete without asking (default: ask)"
    )
    manifest = sub.add_parser(
        "manifest",
        help="print a built-in vintage manifest, to start your own vintage from",
        description=(
            "Print the TOML manifest of a built-in vintage: its building blocks, population, "
            "levels (columns, parents, polygons) and defaults. Save it, edit the sources and "
            "columns, and pass the file as --vintage FILE to any command."
        ),
        epilog=example_epilog("coterminus data manifest 2024"),
    )
    manifest.add_argument(
        "manifest_vintage",
        metavar="YEAR",
        help=f"a built-in vintage: {builtin_years()} (required)",
    )
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
        ids given, 2 when no subcommand is given. Other errors propagate (:func:`coterminus.cli.call`
        prints them).

    Examples
    --------
    >>> import argparse
    >>> from coterminus.cli.data import add_parser, run
    >>> parser = argparse.ArgumentParser(prog="coterminus")
    >>> _ = add_parser(parser.add_subparsers(dest="command"))
    >>> run(parser.parse_args(["data", "status", "--data-dir", "/no/such/dir"]))
    Traceback (most recent call last):
    ...
    coterminus.errors.DataDirError: The data directory ...
    """
    command = args.data_command
    if command is None:  # `coterminus data` alone: its help, and the usage-error code
        args._data_parser.print_help(sys.stderr)
        return 2
    commands = {
        "status": run_status,
        "fetch": run_fetch,
        "verify": run_verify,
        "cache": run_cache,
        "clean": run_clean,
        "manifest": run_manifest,
    }
    return commands[command](args)


def run_manifest(args: argparse.Namespace) -> int:
    """``coterminus data manifest YEAR``: print a built-in vintage manifest."""
    from coterminus.data.manifest import manifest_text

    sys.stdout.write(manifest_text(args.manifest_vintage))
    return 0


def _source_line(root: Any, downloads: Any, years: list[int]) -> str:
    """One line saying where data comes from, in order (``root``: the data directory or None)."""
    if root is not None:
        return f"Data comes from the data directory {root}, then the download cache {downloads}."
    return (
        "No data directory (--data-dir or COTERMINUS_DATA_DIR): a vintage is read from the "
        f"download cache {downloads} when its files are there, else from the copy embedded in "
        f"coterminus (vintages {', '.join(map(str, years)) or 'none'}; exact populations, "
        "display-grade polygons)."
    )


def run_status(args: argparse.Namespace) -> int:
    """``coterminus data status``: where data comes from, where each dataset is, the embedded copy.

    Without a data directory only the datasets found (in the download cache) are listed, with
    the count of the others, since the embedded copy stands in for them.
    """
    from coterminus import data as datasets
    from coterminus.data import cache, embedded
    from coterminus.data.locations import resolve_data_dir

    from .output import emit_json, file_size, isna, records, text_table

    root = resolve_data_dir(args.data_dir)
    downloads = cache.cache_root() / cache.DOWNLOADS
    source = _source_line(root, downloads, embedded.available_vintages())
    table = datasets.status(args.vintage, data_dir=args.data_dir)
    if args.json:
        emit_json(records(table))
        return 0
    sys.stdout.write(source + "\n\n")
    shown = table if root is not None else table[table["where"] != "missing"]
    rows = [["id", "where", "size", "path"]]
    for dataset_id, row in shown.iterrows():
        path = "" if isna(row["path"]) else str(row["path"])
        if path and not isna(row["layer"]):
            path += f" (layer {row['layer']})"
        if path and not isna(row["source"]):
            path += f" (from {row['source']})"
        rows.append([str(dataset_id), str(row["where"]), file_size(row["size"]), path])
    counts = table["where"].value_counts()
    if len(rows) > 1:
        sys.stdout.write(text_table(rows))
    missing = counts.get("missing", 0)
    fix = (
        " (download with `coterminus data fetch ID`)"
        if root is not None
        else " (not needed for the embedded copy; `coterminus data fetch --vintage YEAR` gets a "
        "vintage's ONS files, with full polygons)"
    )
    sys.stdout.write(
        f"{len(table)} datasets: {counts.get('data_dir', 0)} in the data directory, "
        f"{counts.get('cache', 0)} in the cache, {missing} missing"
        + (fix if missing else "")
        + "\n"
    )
    info = embedded.status()  # the embedded dataset: where, resolution, size, each file's sha256
    if not info["files"]:
        sys.stdout.write("embedded dataset: not installed\n")
        return 0
    years = ", ".join(map(str, info["vintages"]))
    sys.stdout.write(
        f"\nembedded dataset (used when there is no data directory; vintages {years}): "
        f"{file_size(info['total_bytes'])} in {len(info['files'])} files at {info['root']}; "
        f"polygons {info['resolution']}\n{info['attribution']}\n"
    )
    rows = [["sha256", "size", "file"]]
    rows += [[f["sha256"], file_size(f["bytes"]), f["path"]] for f in info["files"]]
    sys.stdout.write(text_table(rows))
    return 0


def _service(origin: dict[str, Any] | None) -> str:
    """Where a fetched file came from (``datasets.source_of(path)``), as a note after its path."""
    if not origin:
        return ""
    if origin.get("service"):
        return f"  (service {origin['service']}, {origin.get('found_by', 'name')})"
    return f"  (from {origin.get('url')})"


def run_fetch(args: argparse.Namespace) -> int:
    """``coterminus data fetch``: download the ids given, or what ``--vintage`` lacks."""
    if not args.ids and args.vintage is None:
        msg = "give dataset ids (see `coterminus data status`) or --vintage YEAR"
        raise UsageError(msg)
    if args.ids and args.vintage is not None:
        msg = (
            "give dataset ids or --vintage YEAR, not both (--vintage fetches every file that "
            "vintage lacks)"
        )
        raise UsageError(msg)
    from coterminus import data as datasets

    from .output import emit_json

    options = {
        "base_url": args.base_url,
        "progress": not args.no_progress,
        "timeout": args.timeout,
        "retries": args.retries,
        "deadline": args.deadline,
        "force": args.force,
    }
    fetched: dict[str, str] = {}
    available: dict[str, str] = {}
    failed = 0
    if args.ids:
        for dataset_id in args.ids:
            try:
                fetched[dataset_id] = str(datasets.fetch(dataset_id, **options))
            except datasets.UnreachableError:
                raise  # every other id would fail the same way: one message, now
            except CoterminusError as exc:  # report it, and fetch the other ids
                print_error(args, exc)
                failed += 1
    else:
        wanted = {
            ds.id for ds in datasets.plan(args.vintage, args.data_dir, force=args.force).to_fetch
        }
        result = datasets.fetch(vintage=args.vintage, data_dir=args.data_dir, **options)
        for dataset_id, path in result.items():
            target = fetched if dataset_id in wanted else available
            target[dataset_id] = str(path)
    if args.json:
        sources = {i: datasets.source_of(p) for i, p in fetched.items()}
        emit_json({"fetched": fetched, "available": available, "sources": sources})
    else:
        for dataset_id, path in fetched.items():
            note = _service(datasets.source_of(path))
            sys.stdout.write(f"fetched    {dataset_id}  {path}{note}\n")
        for dataset_id, path in available.items():
            sys.stdout.write(f"available  {dataset_id}  {path}\n")
        if args.vintage is not None and not args.ids and not fetched:
            sys.stdout.write(
                f"Nothing to fetch: every file vintage {args.vintage} needs is already available.\n"
            )
    return 1 if failed else 0


def _embedded_rows(info: dict[str, Any], bad: set[str]) -> list[dict[str, Any]]:
    """One verify record per file of the embedded copy (``info``: ``embedded.status()``), a
    problem for those whose SHA-256 differs from ``files.json`` (``bad``: ``embedded.verify()``)."""
    root = info["root"]
    out = []
    for f in info["files"]:
        problem = (
            f"sha256 differs from files.json (recorded {str(f['sha256'])[:12]}…) or the file is "
            "missing: the installed package was changed; reinstall coterminus "
            "(pip install --force-reinstall coterminus)"
            if f["path"] in bad
            else ""
        )
        out.append(
            {
                "id": f"embedded/{f['path']}",
                "where": "embedded",
                "path": f"{root}/{f['path']}",
                "sha256": "mismatch" if problem else "ok",
                "rows": None,
                "expected_rows": None,
                "result": "problem" if problem else "ok",
                "problem": problem,
            }
        )
    return out


def run_verify(args: argparse.Namespace) -> int:
    """``coterminus data verify``: check the files present and the embedded copy; 1 on a problem.

    Without a data directory only the datasets found are listed (with the count of the others);
    the embedded copy's files are always checked against the SHA-256 recorded in ``files.json``.
    """
    from coterminus import data as datasets
    from coterminus.data import cache, embedded
    from coterminus.data.locations import resolve_data_dir

    from .output import emit_json, isna, records, text_table

    root = resolve_data_dir(args.data_dir)
    downloads = cache.cache_root() / cache.DOWNLOADS
    source = _source_line(root, downloads, embedded.available_vintages())
    report = datasets.verify(args.vintage, data_dir=args.data_dir, deep=args.deep)
    embedded_rows = _embedded_rows(embedded.status(), set(embedded.verify()))
    problems = int((report["result"] == "problem").sum())
    broken = [r for r in embedded_rows if r["result"] == "problem"]
    if args.json:
        emit_json(records(report) + embedded_rows)
        return 1 if problems or broken else 0
    sys.stdout.write(source + "\n\n")
    shown = report if root is not None else report[report["result"] != "missing"]
    rows = [["result", "id", "rows", "detail"]]
    for dataset_id, row in shown.iterrows():
        rows_found = "" if isna(row["rows"]) else str(row["rows"])
        detail = row["problem"] or ("" if row["result"] == "missing" else f"sha256 {row['sha256']}")
        rows.append([str(row["result"]), str(dataset_id), rows_found, str(detail)])
    rows += [["problem", r["id"], "", r["problem"]] for r in broken]
    if len(rows) > 1:
        sys.stdout.write(text_table(rows))
    counts = report["result"].value_counts()
    missing = counts.get("missing", 0)
    why = (
        "not a failure; see `coterminus data status`"
        if root is not None
        else "not downloaded, which the embedded copy does not need"
    )
    sys.stdout.write(
        f"{counts.get('ok', 0)} ok, {problems} with problems, {missing} missing ({why})\n"
    )
    if embedded_rows:
        verdict = (
            f"{len(broken)} differ from files.json (see above)"
            if broken
            else "every SHA-256 matches files.json"
        )
        sys.stdout.write(f"embedded copy: {len(embedded_rows)} files, {verdict}\n")
    return 1 if problems or broken else 0


def run_cache(args: argparse.Namespace) -> int:
    """``coterminus data cache``: the cache folder and the size of each part."""
    from coterminus.data import cache

    from .output import emit_json, file_size, records, text_table

    table = cache.usage()
    root = cache.cache_root()
    marked = (root / cache.MARKER).is_file()
    if args.json:
        emit_json({"path": str(root), "marked": marked, "folders": records(table)})
        return 0
    rows = [["folder", "files", "size", "holds"]]
    for name, row in table.iterrows():
        if name in cache.FOLDERS:
            rows.append([f"{name}/", str(row["files"]), file_size(row["bytes"]), str(row["holds"])])
        if row["other_files"]:
            rows.append(
                [
                    f"{name}/" if name not in cache.FOLDERS else f"{name}/ (other)",
                    str(row["other_files"]),
                    file_size(row["other_bytes"]),
                    "not written by coterminus (clean leaves it)",
                ]
            )
    state = "" if marked or not root.exists() else f" (no {cache.MARKER}: not coterminus's cache)"
    sys.stdout.write(f"cache: {root}{state}\n" + text_table(rows))
    sys.stdout.write(
        f"total {file_size(int(table['bytes'].sum()))} in {int(table['files'].sum())} files that "
        "`coterminus data clean` would delete\n"
    )
    return 0


def run_clean(args: argparse.Namespace) -> int:
    """``coterminus data clean``: delete what coterminus wrote to the cache (asks on a terminal)."""
    from coterminus.data import cache

    from .output import file_size

    root = cache.check_marked()  # a folder coterminus did not make: refused, nothing deleted
    table = cache.usage()
    names = [args.only] if args.only else list(cache.FOLDERS)
    files, size = int(table.loc[names, "files"].sum()), int(table.loc[names, "bytes"].sum())
    others = int(table["other_files"].sum())
    left = f"; {others} other files there are not coterminus's and stay" if others else ""
    what = " and ".join(f"{n}/" for n in names)
    if files == 0:
        sys.stdout.write(
            f"Nothing to delete: coterminus wrote nothing to {what} in {root}{left}.\n"
        )
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            msg = (
                f"would delete {files} files ({file_size(size)}) in {what} of {root}; add --yes "
                "to delete without asking"
            )
            raise UsageError(msg)
        sys.stderr.write(f"Delete {files} files ({file_size(size)}) in {what} of {root}? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            sys.stdout.write("Nothing deleted.\n")
            return 0
    removed, freed = cache.clean(only=args.only)
    sys.stdout.write(f"Deleted {removed} files ({file_size(freed)}) from {what} of {root}{left}.\n")
    return 0
