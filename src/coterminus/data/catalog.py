"""The dataset registry: ``registry.json`` parsed into frozen :class:`Dataset` entries.

Every dataset coterminus knows is one entry of ``src/coterminus/registry.json`` (documented field by
field in ``data/boundaries/README.md``). This module only reads the file; where a dataset's file is
(:mod:`.locations`), how it is downloaded (:mod:`.download`) and how it is checked (:mod:`.checks`)
live next door.

Examples
--------
>>> from coterminus.data import catalog
>>> catalog.get("ccg-2019").title
'Clinical Commissioning Groups (April 2019) Boundaries EN BGC'
>>> catalog.find_dataset("boundary", "utla", 2021, resolution="BUC").id
'utla-2021-buc'
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from ..errors import CoterminusError, ParameterError

__all__ = [
    "KINDS",
    "LEVELS",
    "Dataset",
    "Remote",
    "UnknownDatasetError",
    "entries",
    "find_dataset",
    "get",
    "registry",
    "select",
]

Kind = Literal["boundary", "lookup", "population"]
Level = Literal["lsoa", "ccg", "stp", "icb", "sicbl", "nhser", "ltla", "utla", "cauth"]
KINDS: tuple[str, ...] = get_args(Kind)
LEVELS: tuple[str, ...] = get_args(Level)

REGISTRY_FILE = Path(__file__).resolve().parent / "registry.json"


class UnknownDatasetError(CoterminusError, KeyError):
    """No registered dataset has this id, or matches this kind, level and vintage.

    Examples
    --------
    >>> issubclass(UnknownDatasetError, KeyError)
    True
    """

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Remote:
    """Where ONS publishes a dataset.

    ``type="featureserver"``: an ArcGIS FeatureServer. ``services`` are the service names seen in
    use in public code (``../shared/ONS_SOURCES.md`` §8), tried first; when none answers, the
    services list is read and ``pattern`` (a regex, matched in full, case-insensitively) picks one.
    ``type="file"``: a plain download from ``url``, checked against ``sha256`` when it is pinned.

    Examples
    --------
    >>> from coterminus.data import get
    >>> get("ccg-2019").remote.services[0]
    'Clinical_Commissioning_Groups_April_2019_Boundaries_EN_BGC_2022'
    """

    type: Literal["featureserver", "file"]
    filename: str
    services: tuple[str, ...] = ()
    pattern: str | None = None
    layer: int = 0
    out_sr: int = 27700
    url: str | None = None
    sha256: str | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One registry entry (see ``data/boundaries/README.md`` for every field).

    Examples
    --------
    >>> from coterminus.data import get
    >>> ds = get("utla-2019-buc")
    >>> ds.local, ds.layer, ds.expected_rows
    ('boundaries/ons_2019.gpkg', 'utla_ons_buc', 151)
    """

    id: str
    kind: Kind
    level: Level
    vintage: int
    vintages: tuple[int, ...]
    resolution: str | None
    title: str
    licence: str
    attribution: str
    local: str | None
    layer: str | None
    sha256: str | None
    expected_columns: tuple[str, ...]
    expected_rows: int | None
    remote: Remote | None
    notes: str = ""


def _parse_remote(remote: dict[str, Any] | None) -> Remote | None:
    if remote is None:
        return None
    return Remote(
        type=remote["type"],
        filename=remote["filename"],
        services=tuple(remote.get("services", ())),
        pattern=remote.get("pattern"),
        layer=int(remote.get("layer", 0)),
        out_sr=int(remote.get("out_sr", 27700)),
        url=remote.get("url"),
        sha256=remote.get("sha256"),
        resolution=remote.get("resolution"),
    )


def parse_entry(raw: dict[str, Any]) -> Dataset:
    """Build a :class:`Dataset` from one JSON object of ``registry.json``, checking it.

    Raises
    ------
    ValueError
        The entry is malformed; the message names the entry and every problem.

    Examples
    --------
    >>> parse_entry({"id": "x", "kind": "boundary", "level": "ward", "vintage": 2019,
    ...              "title": "t", "licence": "OGL-3.0", "local": None, "remote": None})
    Traceback (most recent call last):
    ...
    ValueError: registry.json entry 'x' is invalid: level 'ward' not in ...
    """
    rem = _parse_remote(raw.get("remote"))
    ds = Dataset(
        id=raw["id"],
        kind=raw["kind"],
        level=raw["level"],
        vintage=int(raw["vintage"]),
        vintages=tuple(int(v) for v in raw.get("vintages", [raw["vintage"]])),
        resolution=raw.get("resolution"),
        title=raw["title"],
        licence=raw["licence"],
        attribution=raw.get("attribution", ""),
        local=raw.get("local"),
        layer=raw.get("layer"),
        sha256=raw.get("sha256"),
        expected_columns=tuple(raw.get("expected_columns", ())),
        expected_rows=raw.get("expected_rows"),
        remote=rem,
        notes=raw.get("notes", ""),
    )
    problems = []
    if ds.kind not in KINDS:
        problems.append(f"kind {ds.kind!r} not in {KINDS}")
    if ds.level not in LEVELS:
        problems.append(f"level {ds.level!r} not in {LEVELS}")
    if rem is not None and rem.type not in ("featureserver", "file"):
        problems.append(f"remote type {rem.type!r} is neither 'featureserver' nor 'file'")
    if rem is not None and rem.type == "featureserver" and not (rem.services or rem.pattern):
        problems.append("a featureserver remote needs `services` or a `pattern`")
    if rem is not None and Path(rem.filename).name != rem.filename:
        problems.append(f"remote filename {rem.filename!r} must be a bare file name")
    if ds.local is None and rem is None:
        problems.append("has neither a local path nor a remote source")
    if problems:
        msg = f"registry.json entry {ds.id!r} is invalid: " + "; ".join(problems) + "."
        raise ValueError(msg)
    return ds


@lru_cache(maxsize=1)
def _load_entries() -> dict[str, Dataset]:
    doc = json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))
    out: dict[str, Dataset] = {}
    for raw in doc["datasets"]:
        ds = parse_entry(raw)
        if ds.id in out:
            msg = f"registry.json lists the id {ds.id!r} twice; ids must be unique."
            raise ValueError(msg)
        out[ds.id] = ds
    return out


def entries() -> dict[str, Dataset]:
    """Every registry entry by id, in registry order (read once per process).

    Examples
    --------
    >>> "ccg-2019" in entries()
    True
    """
    return _load_entries()


def registry() -> pd.DataFrame:
    """Return the dataset registry as a table, one row per dataset, indexed by dataset id.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind``, ``level``, ``vintage``, ``resolution``, ``title``, ``local``, ``layer``,
        ``expected_rows``, ``sha256``, ``remote_type``, ``remote_source`` (first service name seen
        in use, else the pattern, or the file URL), ``licence`` and ``vintages`` (the analysis
        vintages it serves).

    Examples
    --------
    >>> from coterminus.data import registry
    >>> reg = registry()
    >>> reg.loc["ccg-2019", ["kind", "level", "vintage", "resolution"]].to_dict()
    {'kind': 'boundary', 'level': 'ccg', 'vintage': 2019, 'resolution': 'BGC-derived'}
    >>> reg.loc["lsoa-boundaries-2011", "vintages"]
    (2019, 2020, 2021)
    """
    rows = []
    for ds in entries().values():
        remote = ds.remote
        source = None
        if remote is not None and remote.type == "featureserver":
            source = remote.services[0] if remote.services else f"pattern {remote.pattern}"
        elif remote is not None:
            source = remote.url
        rows.append(
            {
                "id": ds.id,
                "kind": ds.kind,
                "level": ds.level,
                "vintage": ds.vintage,
                "resolution": ds.resolution,
                "title": ds.title,
                "local": ds.local,
                "layer": ds.layer,
                "expected_rows": ds.expected_rows,
                "sha256": ds.sha256,
                "remote_type": None if remote is None else remote.type,
                "remote_source": source,
                "licence": ds.licence,
                "vintages": ds.vintages,
            }
        )
    frame = pd.DataFrame(rows).set_index("id")
    frame["expected_rows"] = frame["expected_rows"].astype("Int64")
    return frame


def get(dataset_id: str | Dataset) -> Dataset:
    """Return the registry entry of ``dataset_id``.

    Parameters
    ----------
    dataset_id : str or Dataset
        A registry id such as ``"ccg-2019"``; a :class:`Dataset` is returned unchanged.

    Returns
    -------
    Dataset

    Raises
    ------
    UnknownDatasetError
        The id is not registered; the message suggests the closest ids.

    Examples
    --------
    >>> from coterminus.data import get
    >>> get("ltla-utla-2019").expected_columns
    ('LTLA19CD', 'LTLA19NM', 'UTLA19CD', 'UTLA19NM')
    >>> get("ccg-2091")
    Traceback (most recent call last):
    ...
    coterminus.data.catalog.UnknownDatasetError: No dataset 'ccg-2091' in the registry; ...
    """
    if isinstance(dataset_id, Dataset):
        return dataset_id
    known = entries()
    try:
        return known[dataset_id]
    except KeyError:
        close = difflib.get_close_matches(str(dataset_id), known, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        msg = (
            f"No dataset {dataset_id!r} in the registry; {hint}"
            "list the ids with `coterminus data status`."
        )
        raise UnknownDatasetError(msg) from None


def as_vintage(vintage: int | str) -> int:
    """``vintage`` as a year, or a :class:`ParameterError`.

    Examples
    --------
    >>> as_vintage("2019")
    2019
    """
    try:
        return int(vintage)
    except (TypeError, ValueError):
        msg = f"vintage={vintage!r} is not a year; pass e.g. vintage=2019."
        raise ParameterError(msg) from None


def select(vintage: int | str | None) -> list[Dataset]:
    """Every entry serving analysis ``vintage`` (all entries for ``None``).

    Raises
    ------
    ParameterError
        No entry serves that vintage; the message lists the registered vintages.

    Examples
    --------
    >>> "lsoa-boundaries-2011" in [ds.id for ds in select(2020)]
    True
    """
    everything = list(entries().values())
    if vintage is None:
        return everything
    year = as_vintage(vintage)
    chosen = [ds for ds in everything if year in ds.vintages]
    if not chosen:
        known = sorted({v for ds in everything for v in ds.vintages})
        msg = (
            f"No datasets are registered for vintage {year}; "
            f"registered vintages: {', '.join(map(str, known))}."
        )
        raise ParameterError(msg)
    return chosen


def find_dataset(kind: Kind, level: Level, vintage: int, resolution: str | None = None) -> Dataset:
    """Return the preferred dataset of a kind and level for an analysis vintage.

    Parameters
    ----------
    kind : {"boundary", "lookup", "population"}
    level : str
        One of :data:`LEVELS`.
    vintage : int
        Analysis vintage. Datasets that serve several vintages match each of them, e.g. the
        LSOA (2011) boundaries and the mid-2019 LSOA populations.
    resolution : str, optional
        ``"BGC-derived"``, ``"BGC"`` or ``"BUC"`` (case-insensitive). By default the first matching
        entry in registry order, which is the offline, LSOA-derived layer where one exists.

    Returns
    -------
    Dataset

    Raises
    ------
    ParameterError
        ``kind`` or ``level`` is not one of the allowed values.
    UnknownDatasetError
        Nothing matches; the message lists what is registered for that kind and level.

    Examples
    --------
    >>> from coterminus.data import find_dataset
    >>> find_dataset("boundary", "ccg", 2019).id
    'ccg-2019'
    >>> find_dataset("boundary", "ccg", 2019, resolution="buc").id
    'ccg-2019-buc'
    >>> find_dataset("population", "lsoa", 2020).id
    'lsoa-population-mid2019'
    """
    problems = []
    if kind not in KINDS:
        problems.append(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    if level not in LEVELS:
        problems.append(f"level={level!r} is not one of {', '.join(LEVELS)}")
    if problems:
        msg = "; ".join(problems) + "."
        raise ParameterError(msg)
    year = as_vintage(vintage)
    same = [ds for ds in entries().values() if ds.kind == kind and ds.level == level]
    matches = [ds for ds in same if year in ds.vintages]
    if resolution is not None:
        matches = [ds for ds in matches if (ds.resolution or "").lower() == resolution.lower()]
    if matches:
        return matches[0]
    wanted = f"{kind} dataset for level {level!r}, vintage {year}" + (
        f", resolution {resolution!r}" if resolution else ""
    )
    listed = ", ".join(
        f"{ds.id} (vintages {'/'.join(map(str, ds.vintages))}, {ds.resolution or 'n/a'})"
        for ds in same
    )
    msg = f"No {wanted} is registered; registered {kind}/{level} datasets: {listed or 'none'}."
    raise UnknownDatasetError(msg)
