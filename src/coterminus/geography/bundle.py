"""A vintage bundle: every level of one vintage, loaded in one call from its manifest.

>>> import coterminus
>>> geo = coterminus.load(2019)  # data_dir= or $COTERMINUS_DATA_DIR
>>> geo.level_names
['ccg', 'stp', 'ltla', 'utla']
>>> geo.units("ccg").at["E38000038", "name"], int(geo.units("ccg").at["E38000038", "population"])
('NHS Coventry and Rugby CCG', 480456)
>>> geo24 = coterminus.load(2024)
>>> geo24.code("Coventry and Warwickshire", level="icb"), geo24.code("B2M3M")
('E54000018', 'E38000251')

A :class:`Geography` holds any set of levels (NHS and council; a user's scenario is one more
level), the building blocks (LSOA 2011 or 2021: each block's people and its code at every
level), each level's names and NHS codes, and — loaded on first use — each level's polygons.
``geo.ccg``, ``geo.utla`` ... are the polygon layers of the levels the vintage has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from ..data import locations
from ..data.embedded import fallback_manifest
from ..data.integrity import Integrity, checking, trust_stamp
from ..data.integrity import trust_modified as trust_modified_default
from ..data.loading import (
    check_layer_codes,
    dissolve,
    locate_source,
    read_blocks,
    read_level_polygons,
    read_polygons,
)
from ..data.manifest import Manifest, read_manifest
from ..data.tables import factorize
from ..errors import FootprintError, ParameterError, UnknownAreaError
from ..vocabulary.levels import Level, default_level, normalise_level
from .resolve import Resolver, level_hint, other_vintage_hint

__all__ = ["Geography", "load", "normalise_level"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column (``-1`` missing) and its sorted distinct values."""
    try:
        ids, uniques = factorize(column, sort=True)  # Arrow: ~1 ms for 35,000 blocks
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        ids, values = pd.factorize(column, sort=True)  # codes of mixed or odd types
        return ids.astype(np.int64), np.asarray(values, dtype=object)
    return ids, np.asarray(uniques.to_pylist(), dtype=object)


class _LazyTables(Mapping[str, pd.DataFrame]):
    """Units tables built on first use, once: ``load`` costs the block table, and each level's
    table (name, population, blocks, parent) is made when a result first asks for it."""

    def __init__(self, build: dict[str, Callable[[], pd.DataFrame]]) -> None:
        self._build = build
        self._made: dict[str, pd.DataFrame] = {}

    def __getitem__(self, level: str) -> pd.DataFrame:
        if level not in self._made:
            self._made[level] = self._build[level]()
        return self._made[level]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build)

    def __len__(self) -> int:
        return len(self._build)


def _units_table(
    blocks: pd.DataFrame, level: str, names: pd.DataFrame | None, parent: str | None
) -> pd.DataFrame:
    """name, nhs_code, population, n_lsoa and the parent code of every unit of a level.

    One pass over the blocks with integer codes (:func:`pandas.factorize`, sorted), so a
    geography of many levels is built in time linear in their number.
    """
    ids, uniques = _sorted_codes(blocks[level])
    inside = ids >= 0
    n = len(uniques)
    index = pd.Index(uniques, name="code").astype(str)
    columns: dict[str, Any] = {}
    if names is not None and len(names.columns):
        named = names.reindex(index)
        columns = {col: named[col].to_numpy() for col in named.columns}
    if "name" not in columns:
        columns = {"name": index.to_numpy(), **columns}
    people = blocks["population"].to_numpy(dtype=np.int64)
    # sums of whole people below 2**53 are exact in float64
    total = np.bincount(ids[inside], weights=people[inside], minlength=n)
    columns["population"] = np.rint(total).astype("int64")
    columns["n_lsoa"] = np.bincount(ids[inside], minlength=n).astype("int64")
    if parent is not None and parent in blocks.columns:
        pids, puniques = _sorted_codes(blocks[parent])
        rows = np.flatnonzero(inside & (pids >= 0))
        seen, at = np.unique(ids[rows], return_index=True)  # each unit's first block's parent
        first = np.full(n, np.nan, dtype=object)
        first[seen] = puniques[pids[rows[at]]]
        columns[parent] = first
        width = len(puniques) + 1
        pairs = np.unique(ids[rows] * width + pids[rows])
        distinct = np.bincount(pairs // width, minlength=n)
        if not (distinct <= 1).all():  # record units that straddle their parent level
            columns[f"n_{parent}"] = distinct.astype("int64")
    out = pd.DataFrame(columns, index=index)
    return out


class Geography:
    """Every level of one vintage, with its building blocks; see :func:`load`.

    Parameters
    ----------
    vintage : int or str
    lsoa : pandas.DataFrame
        One row per building block: ``name`` (optional), a column per level (unit codes,
        missing where a level does not cover the block) and ``population``.
    levels : sequence of Level, optional
        The levels, in order. Without it, the keyword layers (``ccg=...``) define them.
    names : dict, optional
        Per level, a DataFrame indexed by code with ``name`` (and ``nhs_code``).
    block : str, default "lsoa11"
    **layers : GeoDataFrame
        Polygon layers by level name (``ccg=...``), for geographies built in code.

    integrity : Integrity, optional
        Whether data files that differ from their pinned SHA-256 may be used, and which were
        (:func:`load` fills it; results and outputs carry its stamp, :attr:`modified_data`).

    Attributes
    ----------
    vintage, block, lsoa, levels, manifest, data_dir, sources, boundaries, population_label,
    integrity
    """

    def __init__(
        self,
        vintage: int | str,
        lsoa: pd.DataFrame,
        *,
        levels: Iterable[Level] | None = None,
        names: Mapping[str, pd.DataFrame] | None = None,
        block: str = "lsoa11",
        manifest: Manifest | None = None,
        data_dir: Path | None = None,
        sources: Mapping[str, str] | None = None,
        boundaries: str = "derived",
        population_label: str = "population",
        attribution: str = "",
        cache: bool = True,
        integrity: Integrity | None = None,
        **layers: gpd.GeoDataFrame,
    ) -> None:
        self.vintage = vintage
        self.integrity = integrity if integrity is not None else Integrity()
        self.lsoa = lsoa
        self.block = block
        self.manifest = manifest
        self.data_dir = data_dir
        self.sources: dict[str, str] = dict(sources or {})
        self.boundaries = boundaries
        self.population_label = population_label
        self.attribution = attribution
        self._cache = cache
        self._layers: dict[str, gpd.GeoDataFrame] = {}
        self._resolution: dict[str, str] = {}
        self._memo: dict[Hashable, Any] = {}
        self._block_polygons: gpd.GeoDataFrame | None = None
        # scenario levels without polygons: (member level, member → unit) or (None, block → unit)
        self._scenario_parts: dict[str, tuple[str | None, pd.Series]] = {}
        if levels is None:
            levels = [
                default_level(n, block=block, parent=self._parent_from_columns(n, g, layers))
                for n, g in layers.items()
            ]
        self.levels: dict[str, Level] = {lv.name: lv for lv in levels}
        names = dict(names or {})
        for n, g in layers.items():
            self._layers[n] = g
            self._resolution[n] = str(g.attrs.get("resolution", "as given"))
            if n not in names and "name" in g.columns:
                cols = ["name"] + (["nhs_code"] if "nhs_code" in g.columns else [])
                names[n] = g[cols]
        self._units = _LazyTables(
            {
                n: partial(_units_table, lsoa, n, names.get(n), lv.parent)
                for n, lv in self.levels.items()
                if n in lsoa.columns
            }
        )
        for n, g in layers.items():  # layers built in code may carry extra columns
            extra = [c for c in g.columns if c not in self._units[n].columns and c != "geometry"]
            for c in extra:
                self._units[n][c] = g[c].reindex(self._units[n].index).to_numpy()
        self._resolver = Resolver(
            self._units,
            labels={n: lv.label for n, lv in self.levels.items()},
            vintage=vintage,
            same_area=self._same_area,
            coarser=self.groups,
            other_vintage=self.other_vintage,
        )

    @staticmethod
    def _parent_from_columns(
        name: str, g: gpd.GeoDataFrame, layers: Mapping[str, Any]
    ) -> str | None:
        others = [c for c in g.columns if c in layers and c != name]
        return others[0] if others else None

    # -- description -----------------------------------------------------------------------
    def __repr__(self) -> str:
        counts = ", ".join(f"{len(t)} {n}" for n, t in self._units.items())
        return (
            f"<Geography {self.vintage} ({self.block} blocks, {self.boundaries} boundaries): "
            f"{counts}; {len(self.lsoa):,} blocks, {self.population_label} "
            f"{int(self.lsoa['population'].sum()):,}>"
        )

    def __getattr__(self, name: str) -> Any:
        # geo.ccg, geo.utla, ...: the polygon layer of a level (kept for the CCG-era API)
        levels = self.__dict__.get("levels")
        if levels is not None and name in levels:
            return self.layer(name)
        msg = f"{type(self).__name__!r} object has no attribute {name!r}"
        raise AttributeError(msg)

    @property
    def trust_modified(self) -> bool:
        """Whether data files that differ from their pinned SHA-256 may be used (and stamped)."""
        return self.integrity.trust_modified

    @property
    def modified_data(self) -> str | None:
        """The "MODIFIED DATA" sentence every output of this geography carries, else ``None``.

        Set when the geography was loaded with ``trust_modified=True``: it names the files
        used although they differ from the published ones (or says that none did).

        Examples
        --------
        >>> geo.modified_data is None
        True
        """
        return trust_stamp(self.integrity)

    @property
    def level_names(self) -> list[str]:
        """Names of the levels, in manifest order."""
        return list(self.levels)

    def side(self, side: Literal["nhs", "council"]) -> list[str]:
        """Names of the NHS (or council) levels, in order."""
        return [n for n, lv in self.levels.items() if lv.side == side]

    def level(self, word: str) -> Level:
        """The :class:`~coterminus.vocabulary.levels.Level` named (or described) by ``word``."""
        return self.levels[self.resolve_level(word)]

    def resolve_level(self, word: str) -> str:
        """Level name for a word (``"lad"``, ``"ics"``), checked against this geography; a level
        it lacks names the built-in vintages that have it."""
        try:
            return normalise_level(word, available=self.level_names)
        except ParameterError as exc:
            hint = level_hint(normalise_level(word), self.vintage)
            if not hint:
                raise
            text = str(exc.args[0]).replace(" here;", f" in {self.vintage};", 1)
            msg = (text if text.endswith(("?", ".")) else text + ".") + hint
            raise ParameterError(msg) from exc

    def label(self, level: str, *, plural: bool = False) -> str:
        """Words for a level ("ICB", "combined authorities")."""
        lv = self.level(level)
        return lv.plural if plural else lv.label

    def groups(self, coarse: str, fine: str) -> bool:
        """Whether every unit of ``fine`` lies inside one unit of ``coarse`` (and they differ).

        Computed from the blocks, so it holds for any vintage or scenario: CCGs nest in STPs,
        LTLAs in UTLAs; ICBs do not nest in combined authorities.
        """
        if coarse == fine:
            return False
        key = ("nests", coarse, fine)
        if key not in self._memo:
            sub = self.lsoa[[fine, coarse]].dropna(subset=[fine])
            nests = bool(sub[coarse].notna().all()) and bool(
                (sub.groupby(fine)[coarse].nunique() == 1).all()
            )
            # of two identical partitions, neither groups the other
            whole = self.lsoa[self.lsoa[coarse].isin(sub[coarse].unique())]
            identical = bool(whole[fine].notna().all()) and bool(
                (whole.groupby(coarse)[fine].nunique() == 1).all()
            )
            self._memo[key] = nests and not identical
        return bool(self._memo[key])

    def parent(self, level: str) -> str | None:
        """The level that groups ``level``: the manifest's parent, else the finest level of
        the same side that it nests in (from the data), else ``None``."""
        lv = self.level(level)
        if lv.parent and lv.parent in self.levels:
            return lv.parent
        cands = [n for n in self.side(lv.side) if self.groups(n, lv.name)]  # type: ignore[arg-type]
        if not cands:
            return None
        return max(cands, key=lambda n: len(self.units(n)))  # the finest level that groups it

    def children(self, level: str) -> list[str]:
        """Levels whose :meth:`parent` is ``level``."""
        name = self.resolve_level(level)
        return [n for n in self.levels if n != name and self.parent(n) == name]

    def partial(self, level: str) -> bool:
        """Whether ``level`` covers only part of the building blocks (combined authorities,
        a scenario of one region): some blocks belong to no unit of it.

        Examples
        --------
        >>> geo.partial("ccg")
        False
        """
        return bool(self.lsoa[self.resolve_level(level)].isna().any())

    def notes(self, *levels: str) -> list[str]:
        """The sentences an output using ``levels`` must print, each once, in level order.

        A level's notes come from its manifest ``status`` (e.g. a derived lookup) or a named
        scenario's status and source; a scenario level also carries the notes of the level its
        members belong to. Without ``levels``: the notes of every level.

        Examples
        --------
        >>> geo.notes()
        []
        >>> coterminus.load(2026).notes("icb")[0].startswith("ICBs of April 2026 from a DERIVED")
        True
        """
        names = [self.resolve_level(lv) for lv in levels] if levels else list(self.levels)
        out: list[str] = []
        for name in names:
            member_level = self._scenario_parts.get(name, (None, None))[0]
            for lv in (member_level, name):
                if lv is not None:
                    out += [n for n in self.levels[lv].notes if n not in out]
        return out

    def resolution(self, level: str) -> str:
        """What the polygons of a level are (e.g. ``"BGC-derived"``, ``"BSC"``); loads them."""
        self.layer(level)
        return self._resolution[self.resolve_level(level)]

    # -- tables ------------------------------------------------------------------------------
    def units(self, level: str) -> pd.DataFrame:
        """Every unit of a level: ``name``, ``nhs_code`` (NHS levels), ``population``, ``n_lsoa``
        and the code of its parent level; indexed by ONS code. No polygons are loaded."""
        return self._units[self.resolve_level(level)]

    def layer(self, level: str) -> gpd.GeoDataFrame:
        """The polygons of a level with its :meth:`units` columns (EPSG:27700, index ``code``).

        Loaded on first use from the manifest's boundary source (or dissolved from the block
        polygons when it has none) and checked against the block lookup.
        """
        name = self.resolve_level(level)
        if name not in self._layers and name in self._scenario_parts:
            member_level, mapping = self._scenario_parts[name]
            base = self.layer(member_level) if member_level else self.lsoa_polygons()
            gdf = dissolve(base, mapping)
            self._layers[name] = gdf
            self._resolution[name] = (
                f"dissolved from {member_level} polygons ({self._resolution.get(member_level, 'as given')})"
                if member_level
                else f"dissolved from {self.block} polygons"
            )
            self.sources[name] = self._resolution[name]
        if name not in self._layers:
            if self.manifest is None or name not in self.manifest.levels:
                msg = f"no polygons were given for level {name!r} of this geography."
                raise ParameterError(msg)
            with checking(self.integrity):  # files read now are checked as at load
                gdf, source, resolution = read_level_polygons(
                    self.manifest,
                    name,
                    self.boundaries,
                    self.data_dir,
                    block_polygons=self._blocks_or_none(),
                    assignment=self.lsoa[name],
                    use_cache=self._cache,
                )
            check_layer_codes(gdf, self._units[name].index, name, source)
            self.sources[name] = source
            self._resolution[name] = resolution
            self._layers[name] = gdf
        raw = self._layers[name]
        units = self._units[name]
        out = gpd.GeoDataFrame(
            units.copy(), geometry=raw.geometry.reindex(units.index).to_numpy(), crs=raw.crs
        )
        out.attrs = {**raw.attrs, "level": name, "vintage": self.vintage}
        return out

    def _blocks_or_none(self) -> Callable[[], gpd.GeoDataFrame] | None:
        if self.manifest is None or self.manifest.block.boundaries is None:
            return None
        return self.lsoa_polygons

    def lsoa_polygons(self) -> gpd.GeoDataFrame:
        """Building-block polygons with every level's code and the population joined."""
        if self._block_polygons is None:
            if self.manifest is None or self.manifest.block.boundaries is None:
                msg = "this geography has no building-block polygons."
                raise ParameterError(msg)
            with checking(self.integrity):
                path, layer = locate_source(
                    self.manifest.block.boundaries, self.manifest, self.data_dir
                )
                # ONS publishes a few invalid LSOAs (nested shells): repair them (see attrs)
                gdf = read_polygons(path, layer, None, repair=True, use_cache=self._cache)
            check_layer_codes(gdf, self.lsoa.index, self.block, str(path))
            self.sources[self.block] = str(path)
            cols = [c for c in self.lsoa.columns if c != "name"]
            self._block_polygons = gdf[["name", "geometry"]].join(self.lsoa[cols])
        return self._block_polygons

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed once per geography (overlap tables, simplified layers, adjacency)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    # -- names and codes ---------------------------------------------------------------------
    def _same_area(self, hits: list[tuple[str, str]]) -> bool:
        sets = [frozenset(self.lsoa.index[self.lsoa[lv] == c]) for lv, c in hits]
        return all(s == sets[0] for s in sets)

    def code(self, query: str, level: str | None = None) -> str:
        """ONS code of an area given its code, NHS code or name (any common form).

        Parameters
        ----------
        query : str
            ``"E38000038"``, ``"05A"``, ``"NHS Coventry and Rugby CCG"``, ``"Coventry & Rugby"``,
            ``"NHS Coventry and Warwickshire ICB - B2M3M"``.
        level : str, optional
            Restrict the search to one level (a word like ``"ics"`` works too).

        Raises
        ------
        UnknownAreaError
            With the closest names, or saying that the code is outside England.

        Examples
        --------
        >>> geo = load(2019)
        >>> geo.code("Coventry & Rugby"), geo.code("05A")
        ('E38000038', 'E38000038')
        """
        return self._resolver.code(query, self.resolve_level(level) if level else None)

    def codes(self, queries: Iterable[str], level: str | None = None) -> list[str]:
        """:meth:`code` for each query, reporting every unknown one in a single error."""
        return self._resolver.codes(queries, self.resolve_level(level) if level else None)

    def search(self, text: str, level: str | None = None) -> pd.DataFrame:
        """Areas whose name contains ``text`` (case-insensitive), across levels.

        Examples
        --------
        >>> load(2019).search("warwick")[["level", "name"]]
          level                        name
        0   ccg  NHS South Warwickshire CCG
        1   ccg  NHS Warwickshire North CCG
        2   stp   Coventry and Warwickshire
        3  ltla          North Warwickshire
        4  ltla                     Warwick
        5  utla                Warwickshire
        """
        return self._resolver.search(text, self.resolve_level(level) if level else None)

    def other_vintage(self, query: str) -> str | None:
        """What a code or name unknown here is in another built-in vintage, and what its area is
        now (:func:`coterminus.geography.resolve.other_vintage_hint`).

        Used in messages: ``"05A"`` asked of 2021 says it was NHS Coventry and Rugby CCG in
        2019/2020 and that its area is part of NHS Coventry and Warwickshire CCG (E38000251) in
        2021. ``None`` when no other vintage knows it (or their files are not available).
        """
        return other_vintage_hint(self, query)

    def matches(
        self, query: str, level: str | None = None, *, loose: bool = False
    ) -> list[tuple[str, str]]:
        """Every ``(level, code)`` a name or code names, without choosing (see :meth:`code`)."""
        lv = self.resolve_level(level) if level else None
        return self._resolver.matches(query, lv, loose=loose)

    def name(self, code: str) -> str:
        """Name of an area of any level (or a block), given its ONS code."""
        for t in self._units.values():
            if code in t.index:
                return str(t.at[code, "name"])
        if code in self.lsoa.index:
            return str(self.lsoa.at[code, "name"]) if "name" in self.lsoa.columns else code
        msg = f"no area with code {code!r} in the {self.vintage} geography."
        raise UnknownAreaError(msg)

    def level_of(self, code: str) -> str:
        """The finest level whose units include ``code`` (a unitary council is both tiers)."""
        for n, t in self._units.items():
            if code in t.index:
                return n
        if code in self.lsoa.index:
            return self.block
        raise UnknownAreaError(self._resolver.unknown_message(code, None))

    def members(
        self, group: str, units: str | None = None, *, within: str | None = None
    ) -> list[str]:
        """Codes of the ``units`` that lie inside a group (a system, region, county...).

        Parameters
        ----------
        group : str
            Name or code of the group (e.g. ``"Coventry and Warwickshire"``, ``"Midlands"``).
        units : str, optional
            Level of the members; default the finest level of the group's side that it groups.
        within : str, optional
            Level of the group, when the name alone is ambiguous.

        Examples
        --------
        >>> geo = load(2019)
        >>> geo.members("Coventry and Warwickshire")
        ['E38000038', 'E38000164', 'E38000195']
        """
        if within is None and units is not None:
            unit_name = self.resolve_level(units)
            within = self.parent(unit_name)
        systems = self.manifest.defaults.get("systems") if self.manifest is not None else None
        if within is None and systems in self.levels:
            try:  # a bare name is a system first ("Northamptonshire" the STP, not the county)
                code = self.code(group, systems)
                within = systems
            except UnknownAreaError:
                code = self.code(group)
        else:
            code = self.code(group, within) if within else self.code(group)
        glevel = self.level_of_group(code, within)
        if units is None:
            kids = [n for n in self.level_names if self.groups(glevel, n)]
            same = [n for n in kids if self.levels[n].side == self.levels[glevel].side]
            pool = same or kids
            if not pool:
                msg = f"{self.name(code)} ({glevel}) groups no other level of {self.vintage}; pass units=."
                raise FootprintError(msg)
            units = max(pool, key=lambda n: len(self._units[n]) if self.parent(n) == glevel else -1)
        u = self.resolve_level(units)
        inside = self.lsoa[self.lsoa[glevel] == code]
        cands = sorted(inside[u].dropna().unique())
        whole = (
            self.lsoa[self.lsoa[u].isin(cands)]
            .groupby(u)[glevel]
            .agg(lambda s: bool((s == code).all()))
        )
        return [str(c) for c in cands if whole[c]]

    def level_of_group(self, code: str, within: str | None = None) -> str:
        """Level of a group code (``within`` if given)."""
        if within:
            return self.resolve_level(within)
        hits = [n for n, t in self._units.items() if code in t.index]
        if not hits:
            raise UnknownAreaError(self._resolver.unknown_message(code, None))
        return hits[-1]

    # -- scenarios ---------------------------------------------------------------------------
    def with_level(
        self,
        level: Level,
        assignment: pd.Series,
        names: pd.DataFrame,
        *,
        members: tuple[str, pd.Series] | None = None,
        polygons: gpd.GeoDataFrame | None = None,
    ) -> Geography:
        """A new geography with one more level (a scenario); this one is not changed.

        Parameters
        ----------
        level : Level
        assignment : pandas.Series
            Block code → unit code of the new level (missing where it does not cover a block).
        names : pandas.DataFrame
            Indexed by unit code, with ``name``.
        members : (str, pandas.Series), optional
            When the new units are unions of whole units of an existing level: that level and
            its unit → new unit mapping (polygons are then dissolved from that level's).
        polygons : GeoDataFrame, optional
            The new level's polygons; by default dissolved on first use.
        """
        if level.name in self.levels:
            msg = f"level {level.name!r} already exists in this geography; choose another name."
            raise ParameterError(msg)
        lsoa = self.lsoa.copy()
        lsoa[level.name] = assignment.reindex(lsoa.index).to_numpy()
        lsoa.attrs = dict(self.lsoa.attrs)
        new = Geography(
            self.vintage,
            lsoa,
            levels=[*self.levels.values(), level],
            names={**self._units, level.name: names},
            block=self.block,
            manifest=self.manifest,
            data_dir=self.data_dir,
            sources=self.sources,
            boundaries=self.boundaries,
            population_label=self.population_label,
            attribution=self.attribution,
            cache=self._cache,
            integrity=self.integrity,
        )
        for n in self.levels:  # keep extra unit columns (parents of layers built in code)
            for c in self._units[n].columns:
                if c not in new._units[n].columns:
                    new._units[n][c] = self._units[n][c]
        new._layers.update(self._layers)
        new._resolution.update(self._resolution)
        new._scenario_parts.update(self._scenario_parts)
        new._block_polygons = self._block_polygons
        if polygons is not None:
            new._layers[level.name] = polygons
            new._resolution[level.name] = str(polygons.attrs.get("resolution", "as given"))
        elif members is not None:
            new._scenario_parts[level.name] = members
        else:
            new._scenario_parts[level.name] = (None, assignment)
        return new


def load(
    vintage: int | str | Path | Manifest,
    *,
    data_dir: str | Path | None = None,
    boundaries: str = "derived",
    cache: bool = True,
    trust_modified: bool | None = None,
) -> Geography:
    """Load every level of a vintage from its manifest: blocks, people, names, polygons.

    Parameters
    ----------
    vintage : int, str, Path or Manifest
        A built-in vintage (2019, 2020, 2021, 2022, 2024, 2026) or the path of a manifest file
        (``"my-vintage.toml"``; start from ``coterminus data manifest 2024``).
    data_dir : str or Path, optional
        A folder laid out like ``../shared/data``. Defaults to ``$COTERMINUS_DATA_DIR``, then
        the download cache (``coterminus data fetch``). With neither, a built-in vintage is
        read from the dataset embedded in the package (exact populations, display-grade
        polygons; see :mod:`coterminus.data.embedded`).
    boundaries : str, default "derived"
        Which polygons of each level to use, by the manifest's name: ``"derived"`` (dissolved
        from ONS LSOA polygons, so NHS and council edges coincide exactly) or ``"ons"``
        (ONS-published generalised layers where the manifest names them; else the first).
    cache : bool, default True
        Keep the prepared block table (Arrow) and parsed polygon layers (GeoParquet) in the
        cache, keyed by the SHA-256 of the files they come from and checked against the
        SHA-256 recorded when they were written; ``False`` reads only the source files.
    trust_modified : bool, optional
        Use data files whose SHA-256 differs from the published one (deliberate edits) instead
        of refusing them; the geography then carries a "MODIFIED DATA" stamp
        (:attr:`Geography.modified_data`) into every result and output. Default: the
        ``COTERMINUS_TRUST_MODIFIED`` environment variable, else ``False``.

    Returns
    -------
    Geography

    Raises
    ------
    ManifestError
        Unknown vintage (the message lists the built-in ones and how to add one), or a bad
        manifest.
    DataDirError, ColumnError, LookupMismatchError, PopulationError
        Missing files or columns, or files that disagree.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> [len(geo.units(n)) for n in geo.level_names]
    [191, 42, 317, 151]
    >>> [len(g.units(n)) for g in [coterminus.load(2024)] for n in g.level_names]
    [106, 42, 7, 296, 153, 10]
    """
    manifest = read_manifest(vintage)
    dd = locations.resolve_data_dir(data_dir)
    # embedded dataset: no data directory and nothing downloaded -> the packaged display copy
    manifest = fallback_manifest(manifest, dd) or manifest
    if not isinstance(boundaries, str) or not boundaries:
        msg = f"boundaries={boundaries!r}; use 'derived' or 'ons' (a kind the manifest names)."
        raise ParameterError(msg)
    kinds = {k for s in manifest.levels.values() for k in s.boundaries}
    if kinds and boundaries not in kinds:
        msg = f"boundaries={boundaries!r}; this manifest names {sorted(kinds)}."
        raise ParameterError(msg)
    sources: dict[str, str] = {}
    trust = trust_modified_default() if trust_modified is None else bool(trust_modified)
    with checking(Integrity(trust_modified=trust)) as integrity:
        blocks, names = read_blocks(manifest, dd, sources=sources, cache=cache)
    levels = [
        default_level(
            s.name,
            block=manifest.block.level,
            parent=s.parent,
            side=s.side,  # type: ignore[arg-type]
            label=s.label,
            plural=s.plural,
            code_column=s.code_column,
            name_column=s.name_column,
            nhs_code_column=s.nhs_code_column,
            notes=(s.status,) if s.status else (),
            criteria=s.criteria,
        )
        for s in manifest.levels.values()
    ]
    return Geography(
        manifest.vintage,
        blocks,
        levels=levels,
        names=names,
        block=manifest.block.level,
        manifest=manifest,
        data_dir=dd,
        sources=sources,
        boundaries=boundaries,
        population_label=manifest.population.label,
        attribution=manifest.attribution,
        cache=cache,
        integrity=integrity,
    )
