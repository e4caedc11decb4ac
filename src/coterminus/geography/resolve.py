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
import re
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from ..errors import UnknownAreaError
from ..vocabulary.levels import outside_england

__all__ = ["Resolver", "normalise_name"]

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
        self.tables = dict(tables)
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
