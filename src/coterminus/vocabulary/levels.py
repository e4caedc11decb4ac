"""Levels of geography as data: what a level is, and the one vocabulary of level words.

A *level* is a set of areas that tile (part of) England and are unions of whole building blocks
(LSOAs): CCGs, sub-ICB locations, STPs, ICBs, NHS regions on the NHS side; lower- and upper-tier
councils and combined (strategic) authorities on the council side; or a user's proposed areas
(a *scenario*). A vintage manifest (:mod:`coterminus.data.manifest`) declares which levels a vintage
has; nothing in coterminus assumes a fixed set.

This module holds the vocabulary every other module uses:

* :class:`Level` — name, side (``"nhs"`` or ``"council"``), labels, building block, the level that
  groups it (its *parent*) and the columns it came from;
* :func:`normalise_level` — ``"lad"`` → ``"ltla"``, ``"ctyua"`` → ``"utla"``, ``"ics"`` → ``"icb"``
  or ``"stp"`` (whichever the geography has), with suggestions for unknown words;
* :func:`describe_code` — what an ONS code prefix means (``E10`` county, ``W06`` Welsh unitary...),
  so messages can say that a Welsh or Scottish code is outside England;
* :data:`CODE_LEVELS` and :func:`code_levels` — the levels an English code can belong to, from its
  prefix (``E06`` → lower or upper tier), the one such table (the doctor's level check reads it).

Examples
--------
>>> normalise_level("LAD"), normalise_level("ctyua"), normalise_level("combined authority")
('ltla', 'utla', 'cauth')
>>> normalise_level("ics", available=["ccg", "stp", "ltla", "utla"])
'stp'
>>> normalise_level("ics", available=["sicbl", "icb", "nhser", "ltla", "utla", "cauth"])
'icb'
>>> describe_code("W06000015")
'a Welsh unitary authority (W06)'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from ..errors import ParameterError

__all__ = [
    "BLOCK_SIDE",
    "BLOCK_SIZES",
    "CODE_LEVELS",
    "KNOWN_LEVELS",
    "BlockSize",
    "Level",
    "Side",
    "block_size",
    "code_levels",
    "default_level",
    "describe_code",
    "level_of",
    "normalise_level",
]

Side = Literal["nhs", "council", "block"]

#: Side of building-block levels (LSOA 2011, LSOA 2021).
BLOCK_SIDE: Side = "block"


@dataclass(frozen=True)
class Level:
    """One level of geography in a vintage.

    Attributes
    ----------
    name : str
        Short name used everywhere (``"ccg"``, ``"icb"``, ``"cauth"``, or a user's scenario name).
    side : {"nhs", "council", "block"}
        Which side of the coterminosity question the level is on.
    label, plural : str
        Words for outputs: ``"ICB"`` / ``"ICBs"``.
    block : str
        Building block the level is made of (``"lsoa11"`` or ``"lsoa21"``).
    parent : str or None
        The level that groups this one (CCG → STP, sub-ICB → ICB, ICB → NHS region, LTLA → UTLA).
    code_column, name_column, nhs_code_column : str or None
        Where the codes, names and NHS codes came from (for provenance and messages).
    scenario : bool
        A user's proposed areas rather than an ONS level.

    Examples
    --------
    >>> lv = default_level("icb", block="lsoa21", parent="nhser")
    >>> lv.label, lv.plural, lv.side, lv.parent
    ('ICB', 'ICBs', 'nhs', 'nhser')
    """

    name: str
    side: Side
    label: str
    plural: str
    block: str
    parent: str | None = None
    code_column: str | None = None
    name_column: str | None = None
    nhs_code_column: str | None = None
    scenario: bool = False

    @property
    def is_nhs(self) -> bool:
        """True for NHS levels (CCG, sub-ICB location, STP, ICB, NHS region)."""
        return self.side == "nhs"

    @property
    def is_council(self) -> bool:
        """True for council levels (lower/upper tier, combined authority)."""
        return self.side == "council"

    def with_(self, **changes: object) -> Level:
        """A copy with some fields changed (levels are immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]


# Defaults for the levels ONS publishes; a manifest may override any of them.
KNOWN_LEVELS: dict[str, dict[str, str]] = {
    "ccg": {"side": "nhs", "label": "CCG", "plural": "CCGs"},
    "sicbl": {"side": "nhs", "label": "sub-ICB location", "plural": "sub-ICB locations"},
    "stp": {"side": "nhs", "label": "STP/ICS", "plural": "STPs/ICSs"},
    "icb": {"side": "nhs", "label": "ICB", "plural": "ICBs"},
    "nhser": {"side": "nhs", "label": "NHS region", "plural": "NHS regions"},
    "ltla": {"side": "council", "label": "lower-tier council", "plural": "lower-tier councils"},
    "utla": {"side": "council", "label": "upper-tier council", "plural": "upper-tier councils"},
    "cauth": {"side": "council", "label": "combined authority", "plural": "combined authorities"},
    "lsoa11": {"side": "block", "label": "LSOA (2011)", "plural": "LSOAs (2011)"},
    "lsoa21": {"side": "block", "label": "LSOA (2021)", "plural": "LSOAs (2021)"},
}

# Words people use for levels → the level name, or candidates in order of preference (the first
# the geography has wins: "ics" is the ICB from 2022 and the STP before).
_WORDS: dict[str, tuple[str, ...]] = {
    "ccgs": ("ccg",),
    "clinical commissioning group": ("ccg",),
    "loc": ("sicbl",),
    "sub icb": ("sicbl",),
    "subicb": ("sicbl",),
    "sub icb location": ("sicbl",),
    "sicbls": ("sicbl",),
    "stps": ("stp",),
    "icbs": ("icb",),
    "integrated care board": ("icb",),
    "ics": ("icb", "stp"),
    "system": ("icb", "stp"),
    "systems": ("icb", "stp"),
    "region": ("nhser",),
    "nhs region": ("nhser",),
    "lad": ("ltla",),
    "lads": ("ltla",),
    "ltlas": ("ltla",),
    "district": ("ltla",),
    "lower": ("ltla",),
    "lower tier": ("ltla",),
    "ctyua": ("utla",),
    "cty ua": ("utla",),
    "utlas": ("utla",),
    "county": ("utla",),
    "upper": ("utla",),
    "upper tier": ("utla",),
    "ca": ("cauth",),
    "cauths": ("cauth",),
    "combined": ("cauth",),
    "combined authority": ("cauth",),
    "strategic": ("cauth",),
    "strategic authority": ("cauth",),
    "lsoa": ("lsoa21", "lsoa11"),
    "lsoas": ("lsoa21", "lsoa11"),
    "block": ("lsoa21", "lsoa11"),
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _key(word: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(word).strip().lower())


def normalise_level(level: str, available: Iterable[str] | None = None) -> str:
    """Map a level word to a level name, checked against the levels a geography has.

    Parameters
    ----------
    level : str
        A level name (``"icb"``) or a word for it (``"lad"``, ``"CTYUA"``, ``"ics"``,
        ``"combined authority"``).
    available : iterable of str, optional
        Level names of the geography. Words with several meanings resolve to the first
        candidate available (``"ics"`` → ``"icb"`` or ``"stp"``); without it, to the first.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        Unknown word, or a level the geography does not have (listing the ones it has and the
        nearest match).

    Examples
    --------
    >>> normalise_level("lower tier")
    'ltla'
    >>> normalise_level("icb", available=["ccg", "stp", "ltla", "utla"])
    Traceback (most recent call last):
    ...
    coterminus.errors.ParameterError: no level 'icb' here; levels are ccg, stp, ltla, utla...
    """
    key = _key(level)
    names = list(available) if available is not None else None
    if names is not None and key.replace(" ", "_") in names:
        return key.replace(" ", "_")
    candidates = _WORDS.get(key, (key,) if key in KNOWN_LEVELS else ())
    if names is None:
        if candidates:
            return candidates[0]
        if _NAME_RE.match(key.replace(" ", "_")):
            return key.replace(" ", "_")  # a user's level name
        msg = f"unknown level {level!r}; use a level name such as {', '.join(KNOWN_LEVELS)}."
        raise ParameterError(msg)
    for c in candidates:
        if c in names:
            return c
    words = [*names, *(w for w, cs in _WORDS.items() if any(c in names for c in cs))]
    close = difflib.get_close_matches(key, words, n=1, cutoff=0.6)
    hint = ""
    if close:
        target = close[0] if close[0] in names else next(c for c in _WORDS[close[0]] if c in names)
        hint = f"; did you mean {target!r}?"
    msg = f"no level {level!r} here; levels are {', '.join(names)}{hint}"
    raise ParameterError(msg)


def level_of(word: str) -> str | None:
    """The level a word of the vocabulary names, or ``None`` for any other word (no guessing).

    Unlike :func:`normalise_level`, an unknown word is not taken for a user's level name and
    raises nothing; a word with several meanings gives the first (``"ics"`` → ``"icb"``).

    Examples
    --------
    >>> level_of("LAD"), level_of("sub_icb"), level_of("ics"), level_of("lsoa11")
    ('ltla', 'sicbl', 'icb', 'lsoa11')
    >>> level_of("parish") is None
    True
    """
    key = _key(word)
    candidates = _WORDS.get(key, (key,) if key in KNOWN_LEVELS else ())
    return candidates[0] if candidates else None


def default_level(
    name: str,
    *,
    block: str,
    parent: str | None = None,
    side: Side | None = None,
    label: str | None = None,
    plural: str | None = None,
    **columns: str | None,
) -> Level:
    """A :class:`Level` with the vocabulary's defaults for ``name`` filled in.

    A name the vocabulary does not know (a user's level) needs ``side``: a
    :class:`ParameterError` asks for it, since the side decides what is assessed against what.

    Examples
    --------
    >>> default_level("utla", block="lsoa11").label
    'upper-tier council'
    >>> default_level("proposed_icb", block="lsoa21", side="nhs").label
    'proposed icb'
    """
    known = KNOWN_LEVELS.get(name, {})
    side = side or known.get("side")  # type: ignore[assignment]
    if side not in ("nhs", "council", "block"):
        msg = (
            f"level {name!r} needs a side: 'nhs' or 'council' (e.g. side = \"nhs\" in the "
            "manifest, or side='nhs' for a scenario)."
        )
        raise ParameterError(msg)
    lab = label or known.get("label") or name.replace("_", " ")
    return Level(
        name=name,
        side=side,
        label=lab,
        plural=plural or known.get("plural") or (lab if lab.endswith("s") else f"{lab}s"),
        block=block,
        parent=parent,
        code_column=columns.get("code_column"),
        name_column=columns.get("name_column"),
        nhs_code_column=columns.get("nhs_code_column"),
        scenario=bool(columns.get("scenario")),
    )


# ONS code prefixes (GSS entity codes) that appear in these geographies.
_PREFIXES: dict[str, str] = {
    "E01": "an English LSOA",
    "E06": "an English unitary authority",
    "E07": "an English shire district",
    "E08": "an English metropolitan district",
    "E09": "a London borough",
    "E10": "an English county",
    "E11": "an English metropolitan county",
    "E12": "an English region",
    "E38": "an English CCG or sub-ICB location",
    "E40": "an NHS England region",
    "E47": "an English combined authority",
    "E54": "an English STP or ICB",
    "W01": "a Welsh LSOA",
    "W06": "a Welsh unitary authority",
    "W11": "a Welsh local health board",
    "S01": "a Scottish data zone",
    "S08": "a Scottish health board",
    "S12": "a Scottish council area",
    "N09": "a Northern Irish local government district",
}
_COUNTRY = {"W": "Wales", "S": "Scotland", "N": "Northern Ireland"}

#: ONS code prefix → the levels whose codes carry it (E06, E08 and E09 councils are both tiers;
#: CCGs and sub-ICB locations share E38, STPs and ICBs E54; 2011 and 2021 LSOAs share E01).
CODE_LEVELS: dict[str, tuple[str, ...]] = {
    "E01": ("lsoa11", "lsoa21"),
    "E06": ("ltla", "utla"),
    "E07": ("ltla",),
    "E08": ("ltla", "utla"),
    "E09": ("ltla", "utla"),
    "E10": ("utla",),
    "E38": ("ccg", "sicbl"),
    "E40": ("nhser",),
    "E47": ("cauth",),
    "E54": ("stp", "icb"),
}


def describe_code(code: str) -> str | None:
    """What an ONS code is, from its prefix (``None`` if it does not look like one).

    Examples
    --------
    >>> describe_code("E10000031")
    'an English county (E10)'
    >>> describe_code("S12000036")
    'a Scottish council area (S12)'
    >>> describe_code("05A") is None
    True
    """
    c = str(code).strip().upper()
    if not re.fullmatch(r"[ENSWK]\d{8}", c):
        return None
    what = _PREFIXES.get(c[:3])
    if what is None:
        country = _COUNTRY.get(c[0], "England")
        what = f"an area code of {country}"
    return f"{what} ({c[:3]})"


def outside_england(code: str) -> str | None:
    """A sentence for codes of Wales, Scotland or Northern Ireland, else ``None``.

    Examples
    --------
    >>> outside_england("W06000015")
    'W06000015 is a Welsh unitary authority (W06): coterminus covers England only.'
    """
    c = str(code).strip().upper()
    if c[:1] in _COUNTRY and describe_code(c):
        return f"{c} is {describe_code(c)}: coterminus covers England only."
    return None


def code_levels(code: str) -> tuple[str, ...]:
    """The levels an ONS code can belong to, from its prefix (``()`` for a prefix not in
    :data:`CODE_LEVELS`).

    Examples
    --------
    >>> code_levels("E06000001"), code_levels("e54000018"), code_levels("W06000015")
    (('ltla', 'utla'), ('stp', 'icb'), ())
    """
    return CODE_LEVELS.get(str(code).strip()[:3].upper(), ())


# --- what a merger of units of a level makes, and its population rule ------------------------
@dataclass(frozen=True)
class BlockSize:
    """What a block of merged units of a level becomes, and the population rule it has by default.

    Attributes
    ----------
    becomes, becomes_plural : str
        Words for a block (``"ICB"``, ``"unitary council"``, ``"place"``) and for several.
    min_pop : int
        Fewest people in a block.
    max_pop : int or None
        Most people in a block, as a number (``None``: see ``max_of``, or no maximum).
    max_of : str or None
        A level whose largest area of the vintage is the maximum (``"icb"``: no block larger
        than the largest ICB of today).
    soft : bool
        The band is a criterion (people in blocks outside it) rather than a rule.
    """

    becomes: str
    becomes_plural: str
    min_pop: int
    max_pop: int | None = None
    max_of: str | None = None
    soft: bool = False


#: The default band of a merger plan's blocks, by the level of the units merged (the data behind
#: ``--min-pop``/``--max-pop`` defaults): ICB-sized blocks from about 1,000,000 people (the 2025
#: footprint rules) to the largest ICB of the vintage; new unitary councils from 500,000 people
#: (local government reorganisation guidance) to the largest upper-tier council of the vintage;
#: merged CCGs and places scored against the place band of 250,000–500,000 (a criterion, as in
#: the 2019 merger guidance). A level not listed has no default band.
BLOCK_SIZES: dict[str, BlockSize] = {
    "ccg": BlockSize("merged CCG", "merged CCGs", 250_000, 500_000, soft=True),
    "sicbl": BlockSize("place", "places", 250_000, 500_000, soft=True),
    "icb": BlockSize("ICB", "ICBs", 1_000_000, max_of="icb"),
    "utla": BlockSize("ICB", "ICBs", 1_000_000, max_of="icb"),
    "ltla": BlockSize("unitary council", "unitary councils", 500_000, max_of="utla"),
}


def block_size(level: str) -> BlockSize | None:
    """The default block size of merging units of ``level`` (``None`` for a level not listed).

    Examples
    --------
    >>> block_size("icb")
    BlockSize(becomes='ICB', becomes_plural='ICBs', min_pop=1000000, max_pop=None, max_of='icb', soft=False)
    >>> block_size("proposed_icb") is None
    True
    """
    return BLOCK_SIZES.get(level)
