"""A vintage bundle: every layer an analyst needs for one year, loaded in one call.

>>> import coterminus
>>> geo = coterminus.load(2019)  # data_dir= or $COTERMINUS_DATA_DIR
>>> geo.ccg.at["E38000038", "name"], int(geo.ccg.at["E38000038", "population"])
('NHS Coventry and Rugby CCG', 480456)

The bundle holds CCGs, systems (STP/ICS), lower- and upper-tier local authorities (GeoDataFrames
indexed by ONS code, EPSG:27700) and the LSOA building blocks (lookup + mid-2019 populations),
checks that they belong to one vintage and agree with each other, and answers name/code
searches ("Coventry and Rugby", "NHS Coventry and Rugby CCG", "05A", "E38000038").
Parsed layers are cached as GeoParquet keyed by the SHA-256 of their source file, so repeated
loads are fast.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from . import datasets
from ._atomic import atomic_write
from .errors import (
    CacheError,
    DataDirError,
    LookupMismatchError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)
from .io import read_boundaries, read_lookup, read_population

__all__ = ["LEVELS", "Geography", "load", "normalise_level"]

log = logging.getLogger(__name__)

#: The four levels a bundle holds, in the order they are listed.
LEVELS: tuple[str, ...] = ("ccg", "stp", "ltla", "utla")

_LEVEL_WORDS: dict[str, str] = {
    "ccg": "ccg",
    "ccgs": "ccg",
    "sicbl": "ccg",
    "stp": "stp",
    "ics": "stp",
    "icb": "stp",
    "system": "stp",
    "systems": "stp",
    "ltla": "ltla",
    "lad": "ltla",
    "lower": "ltla",
    "district": "ltla",
    "utla": "utla",
    "ctyua": "utla",
    "upper": "utla",
    "county": "utla",
    "lsoa": "lsoa",
}

_LEVEL_LABEL = {"ccg": "CCG", "stp": "STP/ICS", "ltla": "lower-tier LA", "utla": "upper-tier LA"}
_CACHE_FORMAT = 2  # bump when the parsed-layer layout changes


def normalise_level(level: str) -> str:
    """Map a level word (``"lad"``, ``"ics"``, ``"CTYUA"``, ...) to ``ccg|stp|ltla|utla|lsoa``.

    Examples
    --------
    >>> normalise_level("LAD"), normalise_level("ics"), normalise_level("ctyua")
    ('ltla', 'stp', 'utla')
    """
    key = str(level).strip().lower()
    if key not in _LEVEL_WORDS:
        msg = f"unknown level {level!r}; use one of {', '.join(LEVELS)} (or lsoa)."
        raise ParameterError(msg)
    return _LEVEL_WORDS[key]


def _normalise_name(text: str) -> str:
    s = str(text).lower().replace("&", " and ")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    s = re.sub(r"^nhs ", "", s.strip())
    s = re.sub(r" (ccg|clinical commissioning group|stp|ics|icb)$", "", s)
    return re.sub(r"\s+", " ", s).strip()


# --------------------------------------------------------------------------------------------
# parsed-layer cache
# --------------------------------------------------------------------------------------------
def _cache_root() -> Path:
    return datasets.cache_dir() / "parsed"


def _cached_boundaries(
    path: Path, layer: str | None, level: str, *, use_cache: bool, repair: bool = False
) -> gpd.GeoDataFrame:
    """Read a boundary layer through the GeoParquet cache (key: file SHA-256 + layer + format)."""
    if not use_cache:
        return read_boundaries(path, layer=layer, level=level, repair=repair)
    key = f"{datasets._sha256_file(path)[:20]}-{layer or 'default'}-{level}-{int(repair)}-v{_CACHE_FORMAT}"
    root = _cache_root()
    target = root / f"{key}.parquet"
    meta = root / f"{key}.json"
    if target.exists() and meta.exists():
        gdf = gpd.read_parquet(target)
        gdf.attrs = json.loads(meta.read_text())
        return gdf
    gdf = read_boundaries(path, layer=layer, level=level, repair=repair)
    try:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write(target, gdf.to_parquet)
        atomic_write(meta, lambda p: p.write_text(json.dumps(gdf.attrs)))
    except (OSError, CacheError) as exc:  # a cache that cannot be written only costs speed
        log.warning("could not cache parsed layer %s: %s", path, exc)
    return gdf


# --------------------------------------------------------------------------------------------
# the bundle
# --------------------------------------------------------------------------------------------
@dataclass
class Geography:
    """Every layer of one vintage, checked for consistency.

    Build it with :func:`load`. Attributes are GeoDataFrames indexed by ONS code (index name
    ``code``) in EPSG:27700 with ``name``, ``population`` (mid-2019, summed from LSOAs) and
    ``n_lsoa`` columns; ``ccg`` also has ``nhs_code`` and ``stp``; ``ltla`` has ``utla``.

    Attributes
    ----------
    vintage : int
    ccg, stp, ltla, utla : geopandas.GeoDataFrame
    lsoa : pandas.DataFrame
        LSOA building blocks: index LSOA code, columns ``name``, ``ccg``, ``stp``, ``ltla``,
        ``utla``, ``population``.
    boundaries : {"derived", "ons"}
        Which polygons were loaded (see :func:`load`).
    sources : dict
        The file behind each part.
    """

    vintage: int
    ccg: gpd.GeoDataFrame
    stp: gpd.GeoDataFrame
    ltla: gpd.GeoDataFrame
    utla: gpd.GeoDataFrame
    lsoa: pd.DataFrame
    boundaries: str = "derived"
    data_dir: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)
    _lsoa_polygons: gpd.GeoDataFrame | None = field(default=None, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)  # overlap tables, computed once

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(self.layer(lv))} {lv}" for lv in LEVELS)
        return (
            f"<Geography {self.vintage} ({self.boundaries} boundaries): {counts}; "
            f"{len(self.lsoa)} LSOAs, population {int(self.lsoa['population'].sum()):,}>"
        )

    # -- access ----------------------------------------------------------------------------
    def layer(self, level: str) -> gpd.GeoDataFrame:
        """The layer of a level (``"ccg"``, ``"stp"``, ``"ltla"``/``"lad"``, ``"utla"``)."""
        lv = normalise_level(level)
        if lv == "lsoa":
            return self.lsoa_polygons()
        return getattr(self, lv)

    def name(self, code: str) -> str:
        """Name of an area of any level, given its ONS code."""
        for lv in LEVELS:
            layer = self.layer(lv)
            if code in layer.index:
                return str(layer.at[code, "name"])
        if code in self.lsoa.index:
            return str(self.lsoa.at[code, "name"])
        msg = f"no area with code {code!r} in the {self.vintage} geography."
        raise UnknownAreaError(msg)

    def level_of(self, code: str) -> str:
        """Level of an ONS code in this bundle (``utla`` only for county codes, E10)."""
        for lv in ("ccg", "stp", "ltla", "utla"):
            if code in self.layer(lv).index:
                return lv
        if code in self.lsoa.index:
            return "lsoa"
        return self._unknown(code, None)

    def members(self, system: str) -> list[str]:
        """CCG codes of a system (STP/ICS), given its code or name.

        Examples
        --------
        >>> geo = load(2019)
        >>> geo.members("Coventry and Warwickshire")
        ['E38000038', 'E38000164', 'E38000195']
        """
        stp = self.code(system, level="stp")
        return sorted(self.ccg.index[self.ccg["stp"] == stp])

    def lsoa_polygons(self) -> gpd.GeoDataFrame:
        """LSOA (2011) polygons, loaded on first use (43 MB), with this vintage's codes joined."""
        if self._lsoa_polygons is None:
            path, layer = datasets.locate_layer("lsoa-boundaries-2011", data_dir=self.data_dir)
            # ONS publishes 5 invalid LSOAs (nested shells); repair them, recorded in attrs
            gdf = _cached_boundaries(Path(path), layer, "lsoa", use_cache=True, repair=True)
            missing = self.lsoa.index.difference(gdf.index)
            extra = gdf.index.difference(self.lsoa.index)
            if len(extra):
                msg = (
                    f"the LSOA lookup lacks {len(extra)} LSOA(s) that the boundary layer has, "
                    f"e.g. {list(extra[:5])}; use a lookup and boundary file of the same LSOA "
                    "(2011) geography."
                )
                raise LookupMismatchError(msg)
            if len(missing):
                log.warning("%d LSOAs of the lookup have no polygon", len(missing))
            cols = ["ccg", "stp", "ltla", "utla", "population"]
            self._lsoa_polygons = gdf[["name", "geometry"]].join(self.lsoa[cols])
        return self._lsoa_polygons

    # -- search ----------------------------------------------------------------------------
    def _candidates(self, level: str | None) -> list[tuple[str, str, str]]:
        levels = [normalise_level(level)] if level else list(LEVELS)
        out: list[tuple[str, str, str]] = []
        for lv in levels:
            layer = self.layer(lv)
            out.extend((lv, c, str(n)) for c, n in zip(layer.index, layer["name"], strict=True))
        return out

    def _unknown(self, query: str, level: str | None) -> Any:
        cands = self._candidates(level)
        names = {_normalise_name(n): (lv, c, n) for lv, c, n in cands}
        close = difflib.get_close_matches(_normalise_name(query), list(names), n=3, cutoff=0.5)
        what = _LEVEL_LABEL.get(normalise_level(level), "area") if level else "area"
        msg = f"No {what} named {query!r} in {self.vintage}"
        if close:
            sugg = " or ".join(f"{names[k][2]!r} ({names[k][1]})" for k in close)
            msg += f"; did you mean {sugg}?"
        else:
            msg += f"; list them with geo.{normalise_level(level) if level else 'ccg'}['name']."
        raise UnknownAreaError(msg)

    def code(self, query: str, level: str | None = None) -> str:
        """ONS code of an area given its code, NHS code (``"05A"``) or name (any common form).

        Parameters
        ----------
        query : str
            ``"E38000038"``, ``"05A"``, ``"NHS Coventry and Rugby CCG"``, ``"Coventry & Rugby"``.
        level : str, optional
            Restrict the search to one level.

        Raises
        ------
        UnknownAreaError
            With the closest names as suggestions.

        Examples
        --------
        >>> geo = load(2019)
        >>> geo.code("Coventry & Rugby"), geo.code("05A")
        ('E38000038', 'E38000038')
        """
        q = str(query).strip()
        levels = [normalise_level(level)] if level else list(LEVELS)
        for lv in levels:
            layer = self.layer(lv)
            if q.upper() in layer.index:
                return q.upper()
            if "nhs_code" in layer.columns:
                hit = layer.index[layer["nhs_code"].astype(str).str.upper() == q.upper()]
                if len(hit) == 1:
                    return str(hit[0])
        norm = _normalise_name(q)
        hits = [(lv, c) for lv, c, n in self._candidates(level) if _normalise_name(n) == norm]
        if len(hits) == 1:
            return hits[0][1]
        if len(hits) > 1:
            # a unitary council is the same area at both tiers: prefer the lower tier
            codes = {c for _, c in hits}
            if len(codes) == 1:
                return hits[0][1]
            listing = ", ".join(f"{c} ({lv})" for lv, c in hits)
            msg = f"{query!r} matches several areas in {self.vintage}: {listing}; pass level=."
            raise UnknownAreaError(msg)
        return self._unknown(q, level)

    def codes(self, queries: Iterable[str], level: str | None = None) -> list[str]:
        """:meth:`code` for each query, reporting every unknown one in a single error."""
        out: list[str] = []
        problems: list[str] = []
        for q in queries:
            try:
                out.append(self.code(q, level))
            except UnknownAreaError as exc:
                problems.append(str(exc))
        if problems:
            raise UnknownAreaError("; ".join(problems))
        return out

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
        norm = _normalise_name(text)
        rows = [
            {"level": lv, "code": c, "name": n}
            for lv, c, n in self._candidates(level)
            if norm in _normalise_name(n)
        ]
        return pd.DataFrame(rows, columns=["level", "code", "name"])


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------
def _read_lsoa_table(vintage: int, data_dir: Path | None, sources: dict[str, str]) -> pd.DataFrame:
    lu_path = datasets.locate(f"lsoa-lookup-{vintage}", data_dir=data_dir)
    lookup = read_lookup(lu_path)
    sources["lsoa_lookup"] = str(lu_path)
    if lookup.attrs["vintage"] != vintage:
        msg = (
            f"{Path(lu_path).name} is a {lookup.attrs['vintage']} lookup but vintage {vintage} was "
            "asked for; use the lookup of the same vintage."
        )
        raise VintageMismatchError(msg)
    if "utla" not in lookup.columns:  # ONS's own LSOA lookups stop at LAD: add the upper tier
        lt_path = datasets.locate(f"ltla-utla-{vintage}", data_dir=data_dir)
        lt = read_lookup(lt_path, england_only=False)
        sources["ltla_utla_lookup"] = str(lt_path)
        lookup = lookup.join(lt[["utla", "utla_name"]], on="ltla")
    pop_path = datasets.locate("lsoa-population-mid2019", data_dir=data_dir)
    pop = read_population(pop_path, england_only=False)
    sources["lsoa_population"] = str(pop_path)
    england = pop.index[pop.index.str.startswith("E01")]
    absent = england.difference(lookup.index)
    if len(absent):
        msg = (
            f"the {vintage} LSOA lookup ({Path(lu_path).name}) lacks {len(absent)} English LSOA(s) "
            f"that {Path(pop_path).name} has (e.g. {list(absent[:5])}), so "
            f"{int(pop[absent].sum()):,} people would be left out. Use the complete ONS lookup."
        )
        raise LookupMismatchError(msg)
    dropped = pop.index.difference(lookup.index)
    if len(dropped):
        log.info("population file: %d LSOAs outside this lookup (Wales) not used", len(dropped))
    missing = lookup.index.difference(pop.index)
    if len(missing):
        by_ccg = lookup.loc[missing, "ccg"].value_counts().head(5).to_dict()
        msg = (
            f"{len(missing)} LSOA(s) of the {vintage} lookup have no population in "
            f"{Path(pop_path).name} (e.g. {list(missing[:5])}; CCGs most affected: {by_ccg}). "
            "coterminus will not guess populations: use a population file covering every LSOA."
        )
        raise LookupMismatchError(msg)
    cols = ["lsoa_name", "ccg", "stp", "ltla", "utla"]
    table = lookup[[c for c in cols if c in lookup.columns]].rename(columns={"lsoa_name": "name"})
    table["population"] = pop.reindex(table.index).to_numpy()
    table.index.name = "lsoa"
    names = {
        lv: lookup[[lv, f"{lv}_name"]].drop_duplicates(lv).set_index(lv)[f"{lv}_name"]
        for lv in LEVELS
        if f"{lv}_name" in lookup.columns
    }
    table.attrs = {"vintage": vintage, "names": {k: v.to_dict() for k, v in names.items()}}
    return table


def _attach(
    layer: gpd.GeoDataFrame, lsoa: pd.DataFrame, level: str, source: str
) -> gpd.GeoDataFrame:
    """Check a layer against the LSOA lookup and add population / n_lsoa / parents."""
    grouped = lsoa.groupby(level)["population"].agg(["sum", "size"])
    in_lookup = set(grouped.index)
    in_layer = set(layer.index)
    if in_lookup != in_layer:
        only_lookup = sorted(in_lookup - in_layer)
        only_layer = sorted(in_layer - in_lookup)
        msg = (
            f"{level} layer ({source}) and the LSOA lookup disagree: {len(only_lookup)} code(s) only "
            f"in the lookup {only_lookup[:5]}, {len(only_layer)} only in the layer {only_layer[:5]}. "
            "They are probably of different vintages; load matching files."
        )
        raise LookupMismatchError(msg)
    out = layer.drop(
        columns=[c for c in layer.columns if c.upper() in ("POP_MID2019", "N_LSOA")],
        errors="ignore",
    ).copy()
    out["population"] = grouped["sum"].reindex(out.index).astype("int64")
    out["n_lsoa"] = grouped["size"].reindex(out.index).astype("int64")
    parents = {"ccg": ["stp"], "ltla": ["utla"]}.get(level, [])
    for parent in parents:
        first = lsoa.groupby(level)[parent].agg(["first", "nunique"])
        out[parent] = first["first"].reindex(out.index)
        # one parent per unit in ONS geography; record when that does not hold
        out[f"n_{parent}"] = first["nunique"].reindex(out.index).astype("int64")
        if (out[f"n_{parent}"] == 1).all():
            out = out.drop(columns=f"n_{parent}")
    drop_cols = [
        c
        for c in out.columns
        if re.fullmatch(r"(?i)(stp|utla|ccg|lad|ltla|ctyua|icb|sicbl)\d\d(cd|cdh|nm|nmw)", c)
    ]
    out = out.drop(columns=drop_cols)
    keep = ["name", "nhs_code", "population", "n_lsoa", "stp", "utla"]
    cols = [c for c in keep if c in out.columns] + [
        c for c in out.columns if c not in keep and c != "geometry"
    ]
    out = out[[*cols, "geometry"]]
    out.index.name = "code"
    return out


def load(
    vintage: int,
    *,
    data_dir: str | Path | None = None,
    boundaries: Literal["derived", "ons"] = "derived",
    cache: bool = True,
) -> Geography:
    """Load every layer of a vintage: CCGs, STPs, lower- and upper-tier LAs and LSOAs.

    Parameters
    ----------
    vintage : {2019, 2020, 2021}
        April of the CCG/STP geography (LAs as used by ONS's lookups of that year).
    data_dir : str or Path, optional
        A folder laid out like ``../shared/data`` (``boundaries/``, ``lookups/``,
        ``population/``). Defaults to ``$COTERMINUS_DATA_DIR``, then the download cache
        (``coterminus data fetch``).
    boundaries : {"derived", "ons"}, default "derived"
        ``"derived"``: polygons dissolved from ONS LSOA (BGC, 20 m) boundaries, so CCG and LA
        edges coincide exactly; ``"ons"``: ONS-published ultra-generalised (BUC, 500 m) layers
        where they exist, falling back to derived ones (recorded in ``sources``).
    cache : bool, default True
        Cache parsed layers as GeoParquet (keyed by the source file's SHA-256).

    Returns
    -------
    Geography

    Raises
    ------
    DataDirError
        No data directory or download holds the files (the message names the fix).
    VintageMismatchError, LookupMismatchError
        Layers and lookup disagree.

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> len(geo.ccg), len(geo.stp), len(geo.ltla), len(geo.utla)
    (191, 42, 317, 151)
    """
    if boundaries not in ("derived", "ons"):
        msg = f"boundaries={boundaries!r}; use 'derived' or 'ons'."
        raise ParameterError(msg)
    dd = datasets.resolve_data_dir(data_dir)
    sources: dict[str, str] = {}
    lsoa = _read_lsoa_table(int(vintage), dd, sources)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for level in LEVELS:
        ids = [f"{level}-{vintage}"]
        if boundaries == "ons":
            ids.insert(0, f"{level}-{vintage}-buc")
        layer = None
        for ds_id in ids:
            try:
                path, lyr = datasets.locate_layer(ds_id, data_dir=dd)
            except KeyError:  # not in the registry
                continue
            except DataDirError:
                if ds_id != ids[-1]:  # an ONS layer not downloaded: fall back to derived
                    log.info("%s not available; using %s", ds_id, ids[-1])
                    continue
                raise
            layer = _cached_boundaries(Path(path), lyr, level, use_cache=cache)
            sources[level] = f"{path}" + (f"#{lyr}" if lyr else "")
            break
        if layer is None:
            msg = f"the registry has no {level} boundaries for {vintage}."
            raise ParameterError(msg)
        if layer.attrs.get("vintage") != int(vintage):
            msg = (
                f"{sources[level]} holds {level} codes of {layer.attrs.get('vintage')} "
                f"({layer.attrs.get('code_column')}) but vintage {vintage} was asked for."
            )
            raise VintageMismatchError(msg)
        layers[level] = _attach(layer, lsoa, level, sources[level])
    return Geography(
        vintage=int(vintage),
        ccg=layers["ccg"],
        stp=layers["stp"],
        ltla=layers["ltla"],
        utla=layers["utla"],
        lsoa=lsoa,
        boundaries=boundaries,
        data_dir=dd,
        sources=sources,
    )
