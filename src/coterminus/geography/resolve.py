"""One resolver from names, ONS codes and NHS codes to ONS codes, used everywhere.

People name areas many ways: ``"E38000038"``, ``"05A"``, ``"NHS Coventry and Rugby CCG"``,
``"Coventry & Rugby"``, ``"NHS Coventry and Warwickshire Integrated Care Board"``, ``"… ICB -
B2M3M"``, ``"Coventry and Warwickshire"``. :class:`Resolver` answers all of them for any set of
levels, suggests the nearest names for unknown ones, and says when a code belongs to Wales,
Scotland or Northern Ireland (coterminus covers England).

Examples
--------
>>> import pandas as pd
>>> icb = pd.DataFrame({"name": ["NHS Coventry and Warwickshire Integrated Care Board"],
...                     "nhs_code": ["QWU"]}, index=pd.Index(["E54000018"], name="code"))
>>> r = Resolver({"icb": icb}, labels={"icb": "ICB"}, vintage=2024)
>>> r.code("Coventry & Warwickshire"), r.code("qwu"), r.code("e54000018")
('E54000018', 'E54000018', 'E54000018')
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..data.embedded import fallback_manifest
from ..data.loading import read_blocks, read_level_codes
from ..data.manifest import builtin_vintages, read_manifest
from ..errors import UnknownAreaError
from ..vocabulary.levels import outside_england

if TYPE_CHECKING:
    from .bundle import Geography

log = logging.getLogger(__name__)

__all__ = [
    "Resolver",
    "display_names",
    "level_hint",
    "normalise_name",
    "other_vintage_hint",
    "resolve_group",
]

_SUFFIXES = (
    "clinical commissioning group",
    "integrated care board",
    "sub icb location",
    "mayoral combined authority",
    "combined authority",
    "ccg",
    "icb",
    "stp",
    "ics",
)


def normalise_name(text: str) -> str:
    """Reduce an area name to the words that identify it.

    Drops "NHS", organisational suffixes (CCG, ICB, Integrated Care Board, combined authority...)
    and an NHS-code suffix (``"… ICB - B2M3M"``); ``&`` is ``and``; case and punctuation are
    ignored.

    Examples
    --------
    >>> normalise_name("NHS Coventry and Warwickshire ICB - B2M3M")
    'coventry and warwickshire'
    >>> normalise_name("NHS Coventry & Rugby CCG")
    'coventry and rugby'
    >>> normalise_name("Greater Manchester Combined Authority")
    'greater manchester'
    """
    s = re.sub(r"\s+-\s+[A-Za-z0-9]{3,6}\s*$", "", str(text))
    s = s.lower().replace("&", " and ")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    s = re.sub(r"^nhs ", "", s)
    changed = True
    while changed:
        changed = False
        for suf in _SUFFIXES:
            if s.endswith(" " + suf):
                s = s[: -len(suf) - 1].strip()
                changed = True
    return re.sub(r"\s+", " ", s).strip()


class Resolver:
    """Names, ONS codes and NHS codes → ONS codes, over the levels of one geography.

    Parameters
    ----------
    tables : mapping of level name to DataFrame
        Each indexed by ONS code with a ``name`` column and optionally ``nhs_code``; in level
        order (finest first within a side, as in the manifest).
    labels : mapping of level name to str
        Words for messages ("CCG", "ICB").
    vintage : int or str
    same_area : callable, optional
        ``same_area([(level, code), ...]) -> bool``: whether several hits are the same area
        (e.g. an ICB with one sub-ICB location); then the coarsest level wins.
    coarser : callable, optional
        ``coarser(a, b) -> bool``: level ``a`` groups level ``b``.
    other_vintage : callable, optional
        ``other_vintage(query) -> str | None``: a sentence saying what an unknown code was or
        became in another vintage.
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        labels: Mapping[str, str],
        vintage: int | str,
        same_area: Callable[[list[tuple[str, str]]], bool] | None = None,
        coarser: Callable[[str, str], bool] | None = None,
        other_vintage: Callable[[str], str | None] | None = None,
    ) -> None:
        self.tables = tables  # a mapping that may build each table on first use
        self.labels = dict(labels)
        self.vintage = vintage
        self._same_area = same_area
        self._coarser = coarser
        self._other = other_vintage
        self._norm: dict[str, pd.Series] = {}

    def _levels(self, level: str | None) -> list[str]:
        return [level] if level else list(self.tables)

    def _normalised(self, level: str) -> pd.Series:
        if level not in self._norm:
            names = self.tables[level]["name"].astype(str)
            self._norm[level] = names.map(normalise_name)
        return self._norm[level]

    def _exact(self, q: str, levels: list[str]) -> list[tuple[str, str]]:
        up = q.upper()
        hits = [(lv, up) for lv in levels if up in self.tables[lv].index]
        if hits:
            return hits
        for lv in levels:
            t = self.tables[lv]
            if "nhs_code" in t.columns:
                idx = t.index[t["nhs_code"].astype(str).str.upper() == up]
                hits.extend((lv, str(c)) for c in idx)
        return hits

    def _by_name(self, q: str, levels: list[str]) -> list[tuple[str, str]]:
        full = " ".join(q.casefold().split())
        hits: list[tuple[str, str]] = []
        for lv in levels:  # the full name as published wins ("… ICB - B2M3M" is the sub-ICB)
            names = (
                self.tables[lv]["name"].astype(str).map(lambda s: " ".join(s.casefold().split()))
            )
            hits.extend((lv, str(c)) for c in names.index[names == full])
        if hits:
            return hits
        norm = normalise_name(q)
        for lv in levels:
            n = self._normalised(lv)
            hits.extend((lv, str(c)) for c in n.index[n == norm])
        return hits

    def _pick(self, query: str, hits: list[tuple[str, str]]) -> str:
        codes = {c for _, c in hits}
        if len(codes) == 1:
            return hits[0][1]
        if self._same_area is not None and self._same_area(hits):
            best = hits[-1]
            if self._coarser is not None:
                for h in hits:
                    if all(h == o or self._coarser(h[0], o[0]) for o in hits):
                        best = h
            return best[1]
        listing = ", ".join(f"{c} ({self.labels.get(lv, lv)})" for lv, c in hits)
        msg = (
            f"{query!r} matches several areas in {self.vintage}: {listing}; "
            "name the level (e.g. level='icb', or the command's --units/--level option) "
            "or use the code."
        )
        raise UnknownAreaError(msg)

    def matches(
        self, query: str, level: str | None = None, *, loose: bool = False
    ) -> list[tuple[str, str]]:
        """Every ``(level, code)`` a name or code names, without choosing or raising.

        An ONS or NHS code first; else the full name as published; else the name's
        identifying words (:func:`normalise_name`), at every level (or ``level``). With
        ``loose``, a name matches both ways at once ("Greater Manchester" is the combined
        authority's full name and the ICB's identifying words).
        """
        q = str(query).strip()
        levels = self._levels(level)
        exact = self._exact(q, levels)
        if exact or not loose:
            return exact or self._by_name(q, levels)
        norm = normalise_name(q)
        hits = self._by_name(q, levels)
        for lv in levels:
            n = self._normalised(lv)
            hits += [(lv, str(c)) for c in n.index[n == norm] if (lv, str(c)) not in hits]
        return hits

    def code(self, query: str, level: str | None = None) -> str:
        """ONS code of one area.

        Raises
        ------
        UnknownAreaError
            With the nearest names, or saying the code is outside England or belongs to
            another vintage.
        """
        q = str(query).strip()
        levels = self._levels(level)
        hits = self._exact(q, levels) or self._by_name(q, levels)
        if hits:
            return self._pick(q, hits)
        raise UnknownAreaError(self.unknown_message(q, level))

    def codes(self, queries: Iterable[str], level: str | None = None) -> list[str]:
        """:meth:`code` for each query; every unknown one is reported in one error."""
        out: list[str] = []
        problems: list[str] = []
        for q in queries:
            try:
                out.append(self.code(q, level))
            except UnknownAreaError as exc:
                problems.append(str(exc.args[0]) if exc.args else str(exc))
        if problems:
            raise UnknownAreaError("; ".join(problems))
        return out

    def unknown_message(self, query: str, level: str | None) -> str:
        """The message for an unknown name or code: suggestions, other nations, other vintages."""
        what = self.labels.get(level, level) if level else "area"
        outside = outside_england(query)
        if outside:
            return f"No {what} {query!r} in {self.vintage}: {outside}"
        other = self._other(query) if self._other is not None else None
        if other:
            return f"No {what} {query!r} in {self.vintage}: {other}"
        levels = self._levels(level)
        if _looks_like_code(
            query
        ):  # a code typo: the nearest codes, as names get the nearest names
            codes = {
                str(c): (lv, str(n))
                for lv in levels
                for c, n in zip(self.tables[lv].index, self.tables[lv]["name"], strict=True)
            }
            near = difflib.get_close_matches(
                str(query).strip().upper(), list(codes), n=3, cutoff=0.75
            )
            if near:
                sugg = " or ".join(f"{c} ({codes[c][1]})" for c in near)
                return f"No {what} with code {query!r} in {self.vintage}; did you mean {sugg}?"
        pool: dict[str, tuple[str, str, str]] = {}
        for lv in levels:
            t = self.tables[lv]
            for code, n, nn in zip(t.index, t["name"], self._normalised(lv), strict=True):
                pool.setdefault(nn, (lv, str(code), str(n)))
        close = difflib.get_close_matches(normalise_name(query), list(pool), n=3, cutoff=0.5)
        msg = f"No {what} named {query!r} in {self.vintage}"
        if close:
            sugg = " or ".join(f"{pool[k][2]!r} ({pool[k][1]})" for k in close)
            return msg + f"; did you mean {sugg}?"
        lv = levels[0]
        t = self.tables[lv]
        example = f"{t['name'].iloc[0]!r} or {t.index[0]}" if len(t) else "none"
        return (
            msg + f"; give a name, ONS code or NHS code of one of the {len(t)} "
            f"{self.labels.get(lv, lv)} areas of {self.vintage} (e.g. {example})."
        )

    def search(self, text: str, level: str | None = None) -> pd.DataFrame:
        """Areas whose name contains ``text`` (case and punctuation ignored), across levels."""
        norm = normalise_name(text)
        rows = []
        for lv in self._levels(level):
            n = self._normalised(lv)
            t = self.tables[lv]
            for code in n.index[n.str.contains(norm, regex=False)]:
                rows.append({"level": lv, "code": str(code), "name": str(t.at[code, "name"])})
        return pd.DataFrame(rows, columns=["level", "code", "name"])


def _looks_like_code(text: str) -> bool:
    """An ONS-like code (``E5400063``, ``E54000018``): a capital letter then digits, no spaces."""
    return bool(re.fullmatch(r"[A-Za-z]\d{5,10}", str(text).strip()))


def display_names(names: Sequence[str]) -> list[str]:
    """Short names for tables and plans that stay distinct.

    Drops "NHS" and organisational suffixes (:func:`normalise_name` keeps only the identifying
    words); where that makes two names equal — the sub-ICB locations of one ICB are all called
    "NHS <ICB> ICB - <code>" — those keep their own ending ("Cheshire and Merseyside ICB - 01F"),
    and as a last resort their position.

    Examples
    --------
    >>> display_names(["NHS Coventry and Rugby CCG", "NHS Warwickshire North CCG"])
    ['Coventry and Rugby', 'Warwickshire North']
    >>> display_names(["NHS Cheshire and Merseyside ICB - 01F", "NHS Cheshire and Merseyside ICB - 01J"])
    ['Cheshire and Merseyside ICB - 01F', 'Cheshire and Merseyside ICB - 01J']
    """
    short = [_short(n) for n in names]
    counts = {s: short.count(s) for s in short}
    out = [
        s if counts[s] == 1 else re.sub(r"^NHS\s+", "", str(n)).strip()
        for s, n in zip(short, names, strict=True)
    ]
    seen: dict[str, int] = {}
    for i, s in enumerate(out):
        if out.count(s) > 1:
            seen[s] = seen.get(s, 0) + 1
            out[i] = f"{s} ({seen[s]})"
    return out


def _short(name: str) -> str:
    out = re.sub(r"\s+-\s+[A-Za-z0-9]{3,6}$", "", str(name)).strip()
    out = re.sub(r"^NHS\s+", "", out)
    for suffix in (" Integrated Care Board", " ICB", " CCG"):
        if out.endswith(suffix):
            out = out[: -len(suffix)]
    return out


def level_hint(word: str, vintage: object) -> str:
    """The built-in vintages that have a level, for a vintage that lacks it (``""`` if none).

    Examples
    --------
    >>> level_hint("icb", 2019)
    ' The built-in vintages with icb are 2022, 2024, 2026 (--vintage 2026, coterminus.load(2026)).'
    """
    have = []
    for v in builtin_vintages():
        if v == vintage:
            continue
        try:
            levels = read_manifest(v).levels
        except (OSError, ValueError) as exc:  # a broken manifest is reported where it is loaded
            log.debug("manifest %s unreadable for hints: %s", v, exc)
            continue
        if word in levels:
            have.append(v)
    if not have:
        return ""
    years = ", ".join(map(str, have))
    return f" The built-in vintages with {word} are {years} (--vintage {have[-1]}, coterminus.load({have[-1]}))."


def resolve_group(
    geo: Geography, query: str, *, units: str | None = None, within: str | None = None
) -> tuple[str, str]:
    """The group a ``--system`` names: ``(code, level)``.

    Rules, in order: ``within`` (the group's level) decides when given. Otherwise the name is
    looked up at every level, and the vintage's systems level comes first: levels it groups
    (sub-ICB locations, named after their ICB) drop out when it has a match. When the units
    level itself has a match, that unit is the group (the footprint is that unit). One match is
    the answer. A name matched on both sides — an ICB and a combined authority, say — is never
    resolved silently: with ``units`` given and the same members inside each, the systems-level
    one is taken; otherwise :class:`UnknownAreaError` lists every choice and how to pick one.

    Raises
    ------
    UnknownAreaError
        No match (with suggestions, or what the name was in another vintage), or a choice to
        make.

    Examples
    --------
    >>> import coterminus
    >>> geo24 = coterminus.load(2024)
    >>> resolve_group(geo24, "Cheshire and Merseyside")
    ('E54000008', 'icb')
    >>> resolve_group(geo24, "Greater Manchester", units="icb")
    ('E54000057', 'icb')
    >>> resolve_group(geo24, "Greater Manchester")
    Traceback (most recent call last):
    ...
    coterminus.errors.UnknownAreaError: 'Greater Manchester' names 2 areas in 2024: ...
    """
    if within:
        level = geo.resolve_level(within)
        return geo.code(query, level), level
    unit_level = geo.resolve_level(units) if units else None
    systems = geo.manifest.defaults.get("systems") if geo.manifest is not None else None
    hits = geo.matches(query, loose=True)
    if not hits:  # raises with suggestions (of systems first) or the other vintage's answer
        geo.code(query, systems if systems in geo.levels and unit_level is None else None)
    if systems in geo.levels and any(lv == systems for lv, _ in hits):
        hits = [(lv, c) for lv, c in hits if lv == systems or not geo.groups(systems, lv)]
    if unit_level is not None:
        own = [(lv, c) for lv, c in hits if lv == unit_level]
        if len({c for _, c in own}) == 1:
            return own[0][1], unit_level
    distinct = list(dict.fromkeys(hits))
    if len({c for _, c in distinct}) == 1:
        return distinct[0][1], distinct[0][0]
    if unit_level is not None:
        inside = {tuple(geo.members(c, unit_level, within=lv)) for lv, c in distinct}
        if len(inside) == 1 and systems in {lv for lv, _ in distinct}:
            return next(c for lv, c in distinct if lv == systems), str(systems)
    listing = "; ".join(f"the {geo.label(lv)} {geo.name(c)} ({c})" for lv, c in distinct)
    choices = sorted({lv for lv, _ in distinct})
    msg = (
        f"{query!r} names {len(distinct)} areas in {geo.vintage}: {listing}. Say which: give "
        f"its code, or the level of the footprint's members with --units "
        f"({' or '.join(f'--units {c}' for c in choices)}; units= in Python)."
    )
    raise UnknownAreaError(msg)


@lru_cache(maxsize=8)
def _codes_of(vintage: int, data_dir: Path | None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Block → unit codes and names of another built-in vintage, for messages.

    Its prepared block table when the files are here (a few ms once cached), else the codes of
    its lookup alone (e.g. no population file).
    """
    manifest = read_manifest(vintage)  # no data directory: the embedded copy's codes
    manifest = fallback_manifest(manifest, data_dir, quiet=True) or manifest
    try:
        blocks, names = read_blocks(manifest, data_dir)
    except (OSError, ValueError) as exc:
        log.debug("no prepared block table of %s (%s); reading its lookup", vintage, exc)
        return read_level_codes(manifest, data_dir)
    return blocks.drop(columns=["name", "population"]), names


def _found_in(query: str, names: dict[str, pd.DataFrame]) -> list[tuple[str, str, str, bool]]:
    """``(level, code, name, by_code)`` of an ONS code, NHS code or name among another
    vintage's names."""
    q = str(query).strip()
    up = q.upper()
    out = []
    for lv, t in names.items():
        hit, by_code = (up, True) if up in t.index else (None, False)
        if hit is None and "nhs_code" in t.columns:
            idx = t.index[t["nhs_code"].astype(str).str.upper() == up]
            hit, by_code = (str(idx[0]), True) if len(idx) else (None, False)
        if hit is None and not _looks_like_code(q):
            norm = t["name"].astype(str).map(normalise_name)
            idx = t.index[norm == normalise_name(q)]
            hit = str(idx[0]) if len(idx) == 1 else None
        if hit is not None:
            out.append((lv, hit, str(t.at[hit, "name"]), by_code))
    return out


def other_vintage_hint(geo: Geography, query: str) -> str | None:
    """What a code or name unknown in ``geo`` is in another built-in vintage, and its successor.

    ``"05A"`` asked of 2021 says it was NHS Coventry and Rugby CCG in 2019/2020 and that its
    area is part of NHS Coventry and Warwickshire CCG (E38000251) in 2021; ``"Frimley"`` asked of
    2026 says it was an ICB of 2022/2024 whose area is now split, its largest part in Thames
    Valley. Across building blocks (a 2019 CCG asked of 2026) the area is followed through the
    LSOAs whose codes did not change in 2021. ``None`` when no other vintage knows it.

    Examples
    --------
    >>> import coterminus
    >>> print(other_vintage_hint(coterminus.load(2026), "05A"))  # doctest: +ELLIPSIS
    05A is a 2019/2020 CCG code (NHS Coventry and Rugby CCG, E38000038), not a 2026 one; in 2026 its area is ... NHS Coventry and Warwickshire Integrated Care Board (E54000018)...
    """
    found: list[tuple[int, str, str, str, bool]] = []
    for v in builtin_vintages():
        if v == geo.vintage:
            continue
        try:
            _, names = _codes_of(v, geo.data_dir)
        except (OSError, ValueError) as exc:  # files of that vintage are not here
            log.debug("vintage %s not readable for hints: %s", v, exc)
            continue
        found += [(v, *hit) for hit in _found_in(query, names)]
    if not found:
        return None
    same = [f for f in found if f[1] in geo.levels] or found  # a level this vintage has, first
    here = geo.vintage if isinstance(geo.vintage, int) else 0
    v, lv, code, name, by_code = min(same, key=lambda f: (abs(f[0] - here), -f[0]))
    years = "/".join(str(f[0]) for f in found if f[1] == lv and f[2] == code)
    label = geo.levels[lv].label if lv in geo.levels else lv.upper()
    if not by_code:
        msg = f"{query!r} is the name of a {years} {label} ({name}, {code}), not of a {geo.vintage} one"
    else:
        msg = f"{query} is a {years} {label} code ({name}, {code}), not a {geo.vintage} one"
    msg += _successor(geo, v, lv, code)
    return msg + f". Use vintage {v} for it (coterminus.load({v}), --vintage {v})."


def _successor(geo: Geography, v: int, lv: str, code: str) -> str:
    """Where the area of ``code`` (level ``lv`` of vintage ``v``) is in ``geo``, in words: at
    the same level, else at the finest level of the same side (a 2019 CCG in 2026's ICBs)."""
    other = read_manifest(v)
    side = other.levels[lv].side if lv in other.levels else None
    if lv in geo.levels:
        target = lv
    else:
        same_side = [n for n, lev in geo.levels.items() if lev.side == side and not lev.scenario]
        if not same_side:
            return ""
        target = max(same_side, key=lambda n: len(geo.units(n)))
    codes, _ = _codes_of(v, geo.data_dir)
    blocks = codes.index[codes[lv] == code]
    common = blocks.intersection(geo.lsoa.index)
    if not len(common):
        return ""
    people = geo.lsoa.loc[common].groupby(target)["population"].sum().sort_values(ascending=False)
    shares = people / people.sum()
    label = geo.label(target)
    if float(shares.iloc[0]) >= 0.995:
        kind = "" if target == lv else f"the {label} "  # say the level when it differs
        where = f"part of {kind}{geo.name(str(shares.index[0]))} ({shares.index[0]})"
    else:
        parts = [f"{s:.0%} in {geo.name(str(c))} ({c})" for c, s in shares.head(3).items()]
        more = f" and {len(shares) - 3} more" if len(shares) > 3 else ""
        where = f"split between {label}s: " + ", ".join(parts) + more
    text = f"; in {geo.vintage} its area is {where}"
    if other.block.level != geo.block:
        text += (
            f" (followed through the {len(common):,} of its {len(blocks):,} LSOAs whose codes "
            "did not change)"
        )
    return text
