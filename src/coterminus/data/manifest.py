"""A vintage is a manifest, not code: which files, layers and columns make up a geography.

Each built-in vintage (2019, 2020, 2021, 2022, 2024, 2026) is a small TOML file shipped in
``coterminus/manifests/``; a user's vintage is a TOML file of the same form anywhere on disk
(start from ``coterminus data manifest 2024``). A manifest names:

* ``[blocks]`` — the building blocks (LSOA 2011 or 2021): the lookup that assigns each block to
  every level, its code/name columns, optional block polygons, and optionally the expected block
  universe (``count`` and ``sha256`` of the sorted codes);
* ``[population]`` — the file and column of each block's people, and what they are;
* ``[levels.NAME]`` — one table per level, in order: side (``nhs``/``council``), labels, code /
  name / NHS-code columns, the level that groups it (``parent``), and either the columns of the
  block lookup (default) or ``via = "ltla"`` plus a ``source`` lookup from another level's codes
  (an upper tier or combined authority from an LTLA lookup alone); ``boundaries`` names polygons
  by kind (``derived``, ``ons``); a level without polygons is dissolved from the block polygons;
  optionally ``attributes`` (more columns of the same table carried with each unit, e.g. a
  strategic authority's kind, date established, instrument and ONS code, with the text to show
  where a value is missing), ``status`` (a sentence every output using the level prints, e.g.
  that its lookup is derived rather than an ONS product) and ``criteria`` (the key of the
  non-geographic merger criteria of the level's era, :mod:`coterminus.data.criteria`);
* ``[defaults]`` — the council levels assessed against by default, the systems level and the
  level of the authorities an alignment scorecard counts (``authorities``).

A *source* is ``{ dataset = "registry-id" }`` (located in the data directory or the download
cache, checked against its pinned sha256) or ``{ file = "path", layer = "..." }`` (relative to
the manifest's folder, then to the data directory), optionally with ``sha256``.

Examples
--------
>>> m = read_manifest(2024)
>>> m.vintage, m.block.level, list(m.levels)
(2024, 'lsoa21', ['sicbl', 'icb', 'nhser', 'ltla', 'utla', 'cauth'])
>>> m.levels["cauth"].via, m.defaults["against"]
('ltla', ['utla', 'ltla', 'cauth'])
>>> builtin_vintages()
[2019, 2020, 2021, 2022, 2024, 2026]
>>> sa = read_manifest(2026).levels["sa"]
>>> sa.attributes["ons_code"]
AttributeSpec(column='ONS_CODE', missing='no ONS code yet')
>>> newest_vintage()
2026
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..vocabulary.levels import KNOWN_LEVELS
from .inputs import input_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "AttributeSpec",
    "BlockSpec",
    "LevelSpec",
    "Manifest",
    "PopulationSpec",
    "Source",
    "builtin_vintages",
    "manifest_text",
    "newest_vintage",
    "read_manifest",
]

_PACKAGE_DIR = "manifests"


@dataclass(frozen=True)
class Source:
    """Where a table or layer comes from: a registry dataset or a file.

    Examples
    --------
    >>> Source(dataset="ccg-2019").describe()
    "dataset 'ccg-2019'"
    >>> Source(file="my/icbs.gpkg", layer="icb").describe()
    "file 'my/icbs.gpkg' (layer 'icb')"
    """

    dataset: str | None = None
    file: str | None = None
    layer: str | None = None
    sha256: str | None = None
    code_column: str | None = None

    def describe(self) -> str:
        """Human-readable reference for messages."""
        what = f"dataset {self.dataset!r}" if self.dataset else f"file {self.file!r}"
        return what + (f" (layer {self.layer!r})" if self.layer else "")


@dataclass(frozen=True)
class BlockSpec:
    """The building blocks of a vintage (``[blocks]``)."""

    level: str
    source: Source
    code_column: str
    name_column: str | None = None
    boundaries: Source | None = None
    expected_count: int | None = None
    expected_sha256: str | None = None


@dataclass(frozen=True)
class PopulationSpec:
    """Each block's people (``[population]``)."""

    source: Source
    code_column: str
    column: str
    label: str = "population"
    short: str = "population"


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute of a level's units (``attributes = { kind = "KIND", ... }``).

    ``column`` is read from the table the level's codes come from (the block lookup, or the
    ``source`` of a ``via`` level); ``missing`` is shown where the value is empty (e.g. "no ONS
    code yet").
    """

    column: str
    missing: str | None = None


@dataclass(frozen=True)
class LevelSpec:
    """One ``[levels.NAME]`` table."""

    name: str
    side: str
    label: str | None = None
    plural: str | None = None
    code_column: str | None = None
    name_column: str | None = None
    nhs_code_column: str | None = None
    parent: str | None = None
    via: str | None = None
    source: Source | None = None
    key_column: str | None = None
    boundaries: dict[str, Source] = field(default_factory=dict)
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    status: str | None = None
    criteria: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A parsed, checked vintage manifest.

    Attributes
    ----------
    vintage : int or str
        The year for built-in vintages; a user's manifest may use any label.
    title, attribution : str
    block : BlockSpec
    population : PopulationSpec
    levels : dict of str to LevelSpec
        In manifest order.
    defaults : dict
        ``against`` (council levels assessed by default) and ``systems`` (the level whose units
        are "systems").
    path : Path or None
        The file it was read from (``None`` for text passed directly).
    builtin : bool
    """

    vintage: int | str
    title: str
    attribution: str
    block: BlockSpec
    population: PopulationSpec
    levels: dict[str, LevelSpec]
    defaults: dict[str, Any]
    path: Path | None = None
    builtin: bool = False

    @property
    def folder(self) -> Path | None:
        """Folder that relative ``file`` sources are looked for in first."""
        return self.path.parent if self.path is not None and not self.builtin else None


def _manifest_files() -> dict[int, Any]:
    root = resources.files(__package__ or "coterminus.data") / _PACKAGE_DIR
    out: dict[int, Any] = {}
    for item in root.iterdir():
        m = re.fullmatch(r"(\d{4})\.toml", item.name)
        if m:
            out[int(m.group(1))] = item
    return dict(sorted(out.items()))


def newest_vintage() -> int:
    """The newest built-in vintage: the default wherever a vintage is not given.

    Read from the manifests shipped, so adding a manifest moves the default.
    """
    return builtin_vintages()[-1]


def builtin_vintages() -> list[int]:
    """Vintages shipped with coterminus (one manifest each).

    Examples
    --------
    >>> 2019 in builtin_vintages() and 2024 in builtin_vintages()
    True
    """
    return list(_manifest_files())


def _unknown_vintage(vintage: object) -> ManifestError:
    known = ", ".join(map(str, builtin_vintages()))
    msg = (
        f"no built-in vintage {vintage!r}; built-in vintages are {known}. To add one, write a "
        "manifest (start from `coterminus data manifest 2024 > my-vintage.toml`, then edit the "
        "files, layers and columns) and pass its path: `--vintage my-vintage.toml` on the command "
        "line, or coterminus.load('my-vintage.toml')."
    )
    return ManifestError(msg)


def manifest_text(vintage: int | str) -> str:
    """The TOML text of a built-in manifest, as a starting point for your own.

    Examples
    --------
    >>> manifest_text(2019).splitlines()[0].startswith("#")
    True
    """
    files = _manifest_files()
    try:
        year = int(vintage)
    except (TypeError, ValueError):
        raise _unknown_vintage(vintage) from None
    if year not in files:
        raise _unknown_vintage(vintage)
    text: str = files[year].read_text(encoding="utf-8")
    return text


# --- the schema: what each table may hold, checked before any data file is read -------------------
_TEXT, _COUNT, _TABLE, _NAMES, _SOURCE, _BOUNDARIES, _VINTAGE = (
    "text",
    "count",
    "table",
    "names",
    "source",
    "boundaries",
    "vintage",
)
_TOP_KEYS = {
    "vintage": _VINTAGE,
    "title": _TEXT,
    "attribution": _TEXT,
    "blocks": _TABLE,
    "population": _TABLE,
    "levels": _TABLE,
    "defaults": _TABLE,
}
_BLOCK_KEYS = {
    "level": _TEXT,
    "source": _SOURCE,
    "code_column": _TEXT,
    "name_column": _TEXT,
    "boundaries": _SOURCE,
    "expected": _TABLE,
}
_EXPECTED_KEYS = {"count": _COUNT, "sha256": _TEXT}
_POPULATION_KEYS = {
    "source": _SOURCE,
    "code_column": _TEXT,
    "column": _TEXT,
    "label": _TEXT,
    "short": _TEXT,
}
_LEVEL_KEYS = {
    "side": _TEXT,
    "label": _TEXT,
    "plural": _TEXT,
    "code_column": _TEXT,
    "name_column": _TEXT,
    "nhs_code_column": _TEXT,
    "parent": _TEXT,
    "via": _TEXT,
    "source": _SOURCE,
    "key_column": _TEXT,
    "boundaries": _BOUNDARIES,
    "attributes": _TABLE,
    "status": _TEXT,
    "criteria": _TEXT,
}
_SOURCE_KEYS = {
    "dataset": _TEXT,
    "file": _TEXT,
    "layer": _TEXT,
    "sha256": _TEXT,
    "code_column": _TEXT,
}
_DEFAULT_KEYS = {"against": _NAMES, "systems": _TEXT, "authorities": _TEXT}

#: Level names coterminus uses for columns of its own tables (the block table's ``lsoa`` index,
#: ``name`` and ``population`` columns; a unit table's ``code``, ``nhs_code``, ``n_lsoa``; a
#: layer's ``geometry``) or as words for the building blocks: a level cannot be called so.
RESERVED_LEVEL_NAMES = frozenset(
    {"lsoa", "lsoas", "block", "name", "population", "code", "nhs_code", "n_lsoa", "geometry"}
)
#: File names a ``file`` source may have, by what it holds (a table or polygons).
TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".parquet")
POLYGON_SUFFIXES = (".gpkg", ".shp", ".zip", ".geojson", ".json", ".parquet", ".geoparquet")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_LEVEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _shown(value: Any) -> str:
    """A TOML value in words, for 'must be X, not Y'."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:60]!r}"
    if isinstance(value, list):
        return f"a list {value!r:.60}"
    if isinstance(value, Mapping):
        return f"a table with keys {sorted(map(str, value))[:6]}"
    return type(value).__name__


def _wanted(kind: str, key: str) -> str:
    """What a key of this kind must be, with an example line."""
    return {
        _TEXT: f'text in quotes ({key} = "...")',
        _COUNT: f"a whole number above 0 ({key} = 33755)",
        _TABLE: f"a table ([{key}] with its keys on the lines below, or {key} = {{ ... }})",
        _NAMES: f'a list of level names ({key} = ["utla", "ltla"])',
        _SOURCE: f'a table like {key} = {{ dataset = "..." }} or {{ file = "..." }}',
        _BOUNDARIES: f'a source ({key} = {{ file = "..." }}) or a table of sources by kind',
        _VINTAGE: f'a year or a label ({key} = 2024 or {key} = "my-2026")',
    }[kind]


def _fits(value: Any, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(value, str) and bool(value.strip())
    if kind == _COUNT:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if kind in (_TABLE, _BOUNDARIES) and isinstance(value, Mapping):
        return True
    if kind == _NAMES:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if kind in (_SOURCE, _BOUNDARIES):
        return isinstance(value, (str, Mapping)) and bool(value)
    if kind == _VINTAGE:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(value.strip())
        )
    return False


def _keys(raw: Any, schema: Mapping[str, str], where: str, problems: list[str]) -> dict[str, Any]:
    """The entries of a table whose key is known and whose value has the right type.

    Every unknown key (with the nearest known one) and every value of the wrong type is added
    to ``problems``; those entries are left out of the result.
    """
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be {_wanted(_TABLE, where)}, not {_shown(raw)}")
        return {}
    out: dict[str, Any] = {}
    unknown = []
    for key, value in raw.items():
        kind = schema.get(str(key))
        if kind is None:
            close = difflib.get_close_matches(str(key), list(schema), n=1, cutoff=0.6)
            unknown.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        elif not _fits(value, kind):
            name = f"{where}.{key}" if where else str(key)
            problems.append(f"{name} must be {_wanted(kind, str(key))}, not {_shown(value)}")
        else:
            out[str(key)] = value
    if unknown:
        known = ", ".join(schema)
        problems.append(
            f"{where or 'the manifest'} has unknown key(s) {', '.join(unknown)}; "
            f"{'its' if where else 'the top-level'} keys are {known}"
        )
    return out


def _source(raw: Any, where: str, problems: list[str], *, holds: str = "table") -> Source | None:
    """A ``{ dataset = ... }`` / ``{ file = ... }`` source; ``holds`` is ``table`` or ``polygons``."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"file": raw}
    entries = _keys(raw, _SOURCE_KEYS, where, problems)
    if not isinstance(raw, Mapping):
        return None
    if ("dataset" in raw) == ("file" in raw):
        problems.append(f"{where} needs exactly one of 'dataset' or 'file'")
        return None
    if "dataset" not in entries and "file" not in entries:
        return None  # its type was reported
    file = entries.get("file")
    if file is not None:
        suffixes = TABLE_SUFFIXES if holds == "table" else POLYGON_SUFFIXES
        if not str(file).lower().endswith(suffixes):
            what = "a table" if holds == "table" else "boundary polygons"
            problems.append(
                f"{where}.file = {file!r} is not {what} coterminus reads: the file name must "
                f"end in {', '.join(suffixes)}"
            )
            return None
    sha = entries.get("sha256")
    if sha is not None and not _SHA256.fullmatch(str(sha)):
        problems.append(f"{where}.sha256 must be 64 hexadecimal digits, not {_shown(sha)}")
        return None
    return Source(
        dataset=entries.get("dataset"),
        file=file,
        layer=entries.get("layer"),
        sha256=sha,
        code_column=entries.get("code_column"),
    )


def _boundaries(raw: Any, where: str, problems: list[str]) -> dict[str, Source]:
    if raw is None:
        return {}
    if isinstance(raw, str) or (isinstance(raw, Mapping) and ("dataset" in raw or "file" in raw)):
        src = _source(raw, where, problems, holds="polygons")
        return {"derived": src} if src else {}
    out = {}
    for kind, sub in raw.items():
        src = _source(sub, f"{where}.{kind}", problems, holds="polygons")
        if src:
            out[str(kind)] = src
    return out


def _attributes(raw: Any, where: str, problems: list[str]) -> dict[str, AttributeSpec]:
    """``attributes = { name = "COLUMN" | { column = "COLUMN", missing = "text" } }``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f'{where} must be a table like {{ kind = "KIND" }}')
        return {}
    out: dict[str, AttributeSpec] = {}
    for name, spec in raw.items():
        w = f"{where}.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", str(name)):
            problems.append(f"{w}: attribute names are lower-case words (letters, digits, _)")
            continue
        if isinstance(spec, str) and spec:
            out[str(name)] = AttributeSpec(column=spec)
        elif isinstance(spec, Mapping) and isinstance(spec.get("column"), str) and spec["column"]:
            unknown = set(spec) - {"column", "missing"}
            if unknown:
                problems.append(f"{w} has unknown key(s) {sorted(unknown)} (use column, missing)")
            missing = spec.get("missing")
            if missing is not None and not isinstance(missing, str):
                problems.append(f"{w}.missing must be text")
                missing = None
            out[str(name)] = AttributeSpec(column=spec["column"], missing=missing)
        else:
            problems.append(f'{w} must be a column name or {{ column = "...", missing = "..." }}')
    return out


def _text(raw: Any, where: str, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where} must be non-empty text")
        return None
    return raw.strip()


def _required(table: Mapping[str, Any], raw: Any, keys: tuple[str, ...], where: str) -> list[str]:
    """'where.key is missing' for keys absent from the raw table (not those of a wrong type)."""
    if not isinstance(raw, Mapping):
        return []
    return [f"{where}.{k} is missing" for k in keys if k not in raw and k not in table]


def _level_name_problem(name: str, where: str, block: str | None) -> str | None:
    if not _LEVEL_NAME.fullmatch(name):
        return f"{where}: level names are lower-case words (letters, digits, _), not {name!r}"
    if name in RESERVED_LEVEL_NAMES or name == block:
        return (
            f"{where}: {name!r} is a name coterminus uses for its own columns "
            f"({', '.join(sorted(RESERVED_LEVEL_NAMES | ({block} if block else set())))}); "
            f"call the level something else, e.g. {name}_area"
        )
    return None


def _parents(levels: dict[str, LevelSpec], problems: list[str]) -> None:
    """Every parent is another level of the manifest, and following parents never loops."""
    for spec in levels.values():
        if spec.parent is None:
            continue
        if spec.parent == spec.name:
            problems.append(
                f"levels.{spec.name}.parent = {spec.parent!r}: a level cannot be its own parent; "
                "name the level that groups it, or leave parent out"
            )
        elif spec.parent not in levels:
            close = difflib.get_close_matches(spec.parent, list(levels), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"levels.{spec.name}.parent = {spec.parent!r} is not a level of this manifest{hint}"
            )
    reported: set[str] = set()
    for start in levels:
        path = [start]
        while True:
            parent = levels[path[-1]].parent
            if parent is None or parent not in levels or parent == path[-1]:
                break
            if parent in path:
                loop = [*path[path.index(parent) :], parent]
                if not reported & set(loop):
                    problems.append(
                        f"the parents form a cycle ({' → '.join(loop)}): each level must lie in "
                        "a coarser one, so remove the parent of the coarsest"
                    )
                    reported.update(loop)
                break
            path.append(parent)


def _parse(doc: dict[str, Any], where: str, path: Path | None, builtin: bool) -> Manifest:
    problems: list[str] = []
    top = _keys(doc, _TOP_KEYS, "", problems)
    vintage = top.get("vintage")
    if "vintage" not in doc:
        problems.append("missing 'vintage' (a year such as 2024, or a label)")
    for key in ("blocks", "population"):
        if key not in doc:
            problems.append(f"missing [{key}] table")
    blocks = _keys(doc["blocks"], _BLOCK_KEYS, "blocks", problems) if "blocks" in top else {}
    pop = (
        _keys(doc["population"], _POPULATION_KEYS, "population", problems)
        if "population" in top
        else {}
    )
    problems += _required(blocks, doc.get("blocks"), ("source", "level", "code_column"), "blocks")
    problems += _required(
        pop, doc.get("population"), ("source", "code_column", "column"), "population"
    )
    block_level = blocks.get("level")
    if block_level is not None and not _LEVEL_NAME.fullmatch(block_level):
        problems.append(
            f"blocks.level must be a lower-case word such as lsoa21, not {block_level!r}"
        )
    expected = (
        _keys(blocks["expected"], _EXPECTED_KEYS, "blocks.expected", problems)
        if ("expected" in blocks)
        else {}
    )
    if "sha256" in expected and not _SHA256.fullmatch(expected["sha256"]):
        problems.append("blocks.expected.sha256 must be 64 hexadecimal digits")
    bsrc = _source(blocks.get("source"), "blocks.source", problems)
    bpoly = _source(blocks.get("boundaries"), "blocks.boundaries", problems, holds="polygons")
    psrc = _source(pop.get("source"), "population.source", problems)
    raw_levels = top.get("levels") or {}
    if "levels" not in doc or (isinstance(doc.get("levels"), Mapping) and not doc["levels"]):
        problems.append("no [levels.NAME] tables: a vintage needs at least one level")
    levels: dict[str, LevelSpec] = {}
    for name, raw in raw_levels.items():
        w = f"levels.{name}"
        bad_name = _level_name_problem(str(name), w, block_level)
        if bad_name:
            problems.append(bad_name)
            continue
        spec = _keys(raw, _LEVEL_KEYS, w, problems)
        if not isinstance(raw, Mapping):
            continue
        side = spec.get("side") or KNOWN_LEVELS.get(name, {}).get("side")
        if ("side" not in raw or "side" in spec) and side not in ("nhs", "council"):
            problems.append(
                f"{w}.side must be 'nhs' or 'council'"
                + (f", not {side!r}" if "side" in raw else " (say which side this level is on)")
            )
        problems += _required(spec, raw, ("code_column",), w)
        via = spec.get("via")
        src = _source(spec.get("source"), f"{w}.source", problems)
        if via is not None:
            if via == name:
                problems.append(f"{w}.via = {via!r}: a level cannot be looked up through itself")
            elif via not in levels:
                problems.append(f"{w}.via = {via!r} must name a level defined above it")
            if src is None and "source" not in raw:
                problems.append(f"{w} has via = {via!r} but no source lookup")
            if "key_column" not in raw:
                problems.append(
                    f"{w} has via = {via!r} but no key_column (the {via} code column of the source)"
                )
        elif "source" in raw or "key_column" in raw:
            problems.append(
                f'{w} has a source or key_column but no via: add via = "LEVEL" (the level '
                "whose codes the lookup is keyed by), or drop them to read the block lookup"
            )
        levels[name] = LevelSpec(
            name=name,
            side=str(side),
            label=spec.get("label"),
            plural=spec.get("plural"),
            code_column=spec.get("code_column"),
            name_column=spec.get("name_column"),
            nhs_code_column=spec.get("nhs_code_column"),
            parent=spec.get("parent"),
            via=via,
            source=src,
            key_column=spec.get("key_column"),
            boundaries=_boundaries(spec.get("boundaries"), f"{w}.boundaries", problems),
            attributes=_attributes(spec.get("attributes"), f"{w}.attributes", problems),
            status=_text(spec.get("status"), f"{w}.status", problems),
            criteria=_text(spec.get("criteria"), f"{w}.criteria", problems),
        )
    _parents(levels, problems)
    defaults = _keys(top.get("defaults", {}), _DEFAULT_KEYS, "defaults", problems)
    council = [n for n, s in levels.items() if s.side == "council"]
    defaults.setdefault("against", council[:2])
    for lv in defaults["against"]:
        if lv not in levels:
            problems.append(f"defaults.against lists {lv!r}, which is not a level")
    for key in ("systems", "authorities"):
        if key in defaults and defaults[key] not in levels:
            problems.append(f"defaults.{key} = {defaults[key]!r} is not a level")
    if problems:
        msg = f"manifest {where} has {len(problems)} problem(s): " + "; ".join(problems) + "."
        raise ManifestError(msg)
    assert bsrc is not None
    assert psrc is not None
    block = BlockSpec(
        level=str(blocks["level"]),
        source=bsrc,
        code_column=str(blocks["code_column"]),
        name_column=blocks.get("name_column"),
        boundaries=bpoly,
        expected_count=expected.get("count"),
        expected_sha256=expected.get("sha256"),
    )
    population = PopulationSpec(
        source=psrc,
        code_column=str(pop["code_column"]),
        column=str(pop["column"]),
        label=str(pop.get("label", "population")),
        short=str(pop.get("short", pop.get("label", "population"))),
    )
    return Manifest(
        vintage=vintage if isinstance(vintage, int) else str(vintage),
        title=str(top.get("title", f"vintage {vintage}")),
        attribution=str(top.get("attribution", "")),
        block=block,
        population=population,
        levels=levels,
        defaults=defaults,
        path=path,
        builtin=builtin,
    )


#: A manifest is a few kB of TOML; anything much larger is not one.
MAX_MANIFEST_BYTES = 1_000_000


def _manifest_file_text(path: Path, vintage: object) -> str:
    """The text of a manifest file, after checking that the path is one (not a folder, a pipe
    or a device, not huge, UTF-8)."""
    builtin = ", ".join(map(str, builtin_vintages()))
    problem = input_problem(path, max_bytes=MAX_MANIFEST_BYTES)
    kind, words = problem if problem is not None else (None, "")
    if kind == "folder":
        inside = sorted(p.name for p in path.glob("*.toml"))[:5]
        hint = (
            f"; it holds {', '.join(inside)}: pass one of them, e.g. --vintage {path / inside[0]}"
            if inside
            else "; pass the path of the .toml file itself"
        )
        msg = f"--vintage {path} is a folder, not a manifest file{hint}."
        raise ManifestError(msg)
    if kind == "missing":
        if path.suffix.lower() != ".toml":
            raise _unknown_vintage(vintage)
        msg = (
            f"manifest file {str(path)!r} does not exist; check the path, or use a built-in "
            f"vintage ({builtin})."
        )
        raise ManifestError(msg)
    if kind == "special":
        msg = f"manifest {path} {words}; save the manifest as a .toml file and pass its path."
        raise ManifestError(msg)
    if kind == "large":
        msg = (
            f"manifest {path} {words}; a manifest is a few kB of TOML (start from "
            "`coterminus data manifest 2024`). Check that --vintage names the manifest, not a "
            "data file."
        )
        raise ManifestError(msg)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"manifest {path} is not UTF-8 text ({exc}); save it as UTF-8."
        raise ManifestError(msg) from exc


def read_manifest(vintage: int | str | Path | Manifest) -> Manifest:
    """Read a built-in manifest (by year) or a manifest file (by path), checking every field.

    Parameters
    ----------
    vintage : int, str, Path or Manifest
        ``2024`` / ``"2024"`` for a built-in vintage, or the path of a ``.toml`` manifest.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        Unknown vintage (listing the built-in ones and how to add one), unreadable TOML, or
        missing/unknown keys — every problem in one message.

    Examples
    --------
    >>> read_manifest("2019").levels["ccg"].parent
    'stp'
    >>> read_manifest(2023)
    Traceback (most recent call last):
    ...
    coterminus.errors.ManifestError: no built-in vintage 2023; built-in vintages are ...
    """
    if isinstance(vintage, Manifest):
        return vintage
    text: str
    path: Path | None
    builtin = False
    if isinstance(vintage, int) or (isinstance(vintage, str) and vintage.strip().isdigit()):
        text = manifest_text(vintage)
        path = Path(str(_manifest_files()[int(vintage)]))
        builtin = True
        where = f"{int(vintage)} (built in)"
    else:
        if not isinstance(vintage, (str, Path)):
            msg = (
                f"vintage={vintage!r} is a {type(vintage).__name__}; give a built-in year "
                f"({', '.join(map(str, builtin_vintages()))}) or the path of a manifest file."
            )
            raise ManifestError(msg)
        path = Path(vintage)
        text = _manifest_file_text(path, vintage)
        where = str(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"manifest {where} is not valid TOML: {exc}. Fix the line it names."
        raise ManifestError(msg) from exc
    return _parse(doc, where, path, builtin)
