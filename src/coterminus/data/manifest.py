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
_LEVEL_KEYS = {
    "side",
    "label",
    "plural",
    "code_column",
    "name_column",
    "nhs_code_column",
    "parent",
    "via",
    "source",
    "key_column",
    "boundaries",
    "attributes",
    "status",
    "criteria",
}


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


def _source(raw: Any, where: str, problems: list[str]) -> Source | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"file": raw}
    if not isinstance(raw, Mapping):
        problems.append(f'{where} must be a table like {{ file = "..." }} or {{ dataset = "..." }}')
        return None
    unknown = set(raw) - {"dataset", "file", "layer", "sha256", "code_column"}
    if unknown:
        problems.append(f"{where} has unknown key(s) {sorted(unknown)}")
    if bool(raw.get("dataset")) == bool(raw.get("file")):
        problems.append(f"{where} needs exactly one of 'dataset' or 'file'")
        return None
    return Source(
        dataset=raw.get("dataset"),
        file=raw.get("file"),
        layer=raw.get("layer"),
        sha256=raw.get("sha256"),
        code_column=raw.get("code_column"),
    )


def _boundaries(raw: Any, where: str, problems: list[str]) -> dict[str, Source]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping) and ("dataset" in raw or "file" in raw):
        src = _source(raw, where, problems)
        return {"derived": src} if src else {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a source or a table of sources by kind")
        return {}
    out = {}
    for kind, sub in raw.items():
        src = _source(sub, f"{where}.{kind}", problems)
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


def _parse(doc: dict[str, Any], where: str, path: Path | None, builtin: bool) -> Manifest:
    problems: list[str] = []
    unknown_top = set(doc) - {
        "vintage",
        "title",
        "attribution",
        "blocks",
        "population",
        "levels",
        "defaults",
    }
    if unknown_top:
        problems.append(f"unknown top-level key(s) {sorted(unknown_top)}")
    vintage = doc.get("vintage")
    if vintage is None:
        problems.append("missing 'vintage' (a year such as 2024, or a label)")
    blocks = doc.get("blocks")
    pop = doc.get("population")
    for key, table in (("blocks", blocks), ("population", pop)):
        if table is None:
            problems.append(f"missing [{key}] table")
    blocks, pop = blocks or {}, pop or {}
    for key in ("source", "level", "code_column"):
        if "blocks" in doc and not blocks.get(key):
            problems.append(f"blocks.{key} is missing")
    for key in ("source", "code_column", "column"):
        if "population" in doc and not pop.get(key):
            problems.append(f"population.{key} is missing")
    bsrc = _source(blocks.get("source"), "blocks.source", problems)
    psrc = _source(pop.get("source"), "population.source", problems)
    raw_levels = doc.get("levels") or {}
    if not raw_levels:
        problems.append("no [levels.NAME] tables: a vintage needs at least one level")
    levels: dict[str, LevelSpec] = {}
    for name, raw in raw_levels.items():
        w = f"levels.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            problems.append(f"{w}: level names are lower-case words (letters, digits, _)")
            continue
        if not isinstance(raw, Mapping):
            problems.append(f"{w} must be a table")
            continue
        unknown = set(raw) - _LEVEL_KEYS
        if unknown:
            close = {k: difflib.get_close_matches(k, sorted(_LEVEL_KEYS), n=1) for k in unknown}
            shown = ", ".join(
                f"{k!r}" + (f" (did you mean {c[0]!r}?)" if c else "") for k, c in close.items()
            )
            problems.append(f"{w} has unknown key(s) {shown}")
        side = raw.get("side") or KNOWN_LEVELS.get(name, {}).get("side")
        if side not in ("nhs", "council"):
            problems.append(f"{w}.side must be 'nhs' or 'council'")
        if not raw.get("code_column"):
            problems.append(f"{w}.code_column is missing")
        via = raw.get("via")
        src = _source(raw.get("source"), f"{w}.source", problems)
        if via is not None:
            if via not in levels:
                problems.append(f"{w}.via = {via!r} must name a level defined above it")
            if src is None:
                problems.append(f"{w} has via = {via!r} but no source lookup")
            if not raw.get("key_column"):
                problems.append(
                    f"{w} has via = {via!r} but no key_column (the {via} code column of the source)"
                )
        levels[name] = LevelSpec(
            name=name,
            side=str(side),
            label=raw.get("label"),
            plural=raw.get("plural"),
            code_column=raw.get("code_column"),
            name_column=raw.get("name_column"),
            nhs_code_column=raw.get("nhs_code_column"),
            parent=raw.get("parent"),
            via=via,
            source=src,
            key_column=raw.get("key_column"),
            boundaries=_boundaries(raw.get("boundaries"), f"{w}.boundaries", problems),
            attributes=_attributes(raw.get("attributes"), f"{w}.attributes", problems),
            status=_text(raw.get("status"), f"{w}.status", problems),
            criteria=_text(raw.get("criteria"), f"{w}.criteria", problems),
        )
    for spec in levels.values():
        if spec.parent is not None and spec.parent not in levels:
            problems.append(
                f"levels.{spec.name}.parent = {spec.parent!r} is not a level of this manifest"
            )
    defaults = dict(doc.get("defaults") or {})
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
        boundaries=_source(blocks.get("boundaries"), "blocks.boundaries", problems),
        expected_count=blocks.get("expected", {}).get("count"),
        expected_sha256=blocks.get("expected", {}).get("sha256"),
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
        title=str(doc.get("title", f"vintage {vintage}")),
        attribution=str(doc.get("attribution", "")),
        block=block,
        population=population,
        levels=levels,
        defaults=defaults,
        path=path,
        builtin=builtin,
    )


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
        path = Path(vintage)
        if path.suffix.lower() != ".toml" and not path.exists():
            raise _unknown_vintage(vintage)
        if not path.is_file():
            msg = f"manifest file {str(path)!r} does not exist; check the path, or use a built-in vintage ({', '.join(map(str, builtin_vintages()))})."
            raise ManifestError(msg)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"manifest {path} is not UTF-8 text ({exc}); save it as UTF-8."
            raise ManifestError(msg) from exc
        where = str(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"manifest {where} is not valid TOML: {exc}. Fix the line it names."
        raise ManifestError(msg) from exc
    return _parse(doc, where, path, builtin)
