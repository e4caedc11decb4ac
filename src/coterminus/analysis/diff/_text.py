"""The one-line summary of a vintage diff (headline count first, then the breakdown)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...vocabulary.levels import KNOWN_LEVELS
from ._core import examples
from ._crossing import CHANGE_WORDS

__all__ = ["LEVEL_NOUNS", "noun", "plural", "summary_line"]

#: Nouns (one, several) for the summary, from the one vocabulary of levels; the council tiers
#: read shorter in a diff ("LTLA" rather than "lower-tier council"). Any other level (a scenario)
#: is called "<name> unit(s)" ("proposed icb units").
LEVEL_NOUNS: dict[str, tuple[str, str]] = {
    **{n: (d["label"], d["plural"]) for n, d in KNOWN_LEVELS.items() if d["side"] != "block"},
    "stp": ("STP", "STPs"),
    "ltla": ("LTLA", "LTLAs"),
    "utla": ("UTLA", "UTLAs"),
}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 LSOA"``, ``"2 LSOAs"``, ``"1,234 people"`` (``many`` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def noun(level: str | None, n: int, nouns: dict[str, tuple[str, str]] | None = None) -> str:
    """What units of ``level`` are called (``"ccg"``, 2 → ``"CCGs"``; others: ``nouns``, else
    ``"<level> units"``)."""
    if level is None:
        pair = ("unit", "units")
    else:
        word = level.replace("_", " ")
        pair = (
            LEVEL_NOUNS.get(level) or (nouns or {}).get(level) or (f"{word} unit", f"{word} units")
        )
    return pair[0] if n == 1 else pair[1]


def _headline(d: Any) -> str:
    """``"7 new ICBs formed from 13 of the 42 ICBs of 2024 (36 ICBs in 2026)"``: codes that did
    not exist before and the old units with LSOAs in them, as official statements count."""
    c, nouns = d.counts, d.nouns
    n_new, n_old = c["new_units"], c["old_units"]
    old_words = f"{n_old:,} {noun(d.old_level, n_old, nouns)}"
    if d.old_vintage is not None:
        old_words += f" of {d.old_vintage}"
    elif d.old_vintage is None and noun(d.old_level, 2, nouns) == noun(d.new_level, 2, nouns):
        old_words = f"{n_old:,} old {noun(d.old_level, n_old, nouns)}"
    total = f"{n_new:,} {noun(d.new_level, n_new, nouns)}"
    later = d.new_vintage is not None and d.new_vintage != d.old_vintage
    k, m = c["new_codes"], c["new_code_sources"]
    if k == 0:
        where = f" of {d.new_vintage}" if later else ""
        have = "has a code" if n_new == 1 else "all have codes"
        return f"No new {noun(d.new_level, 2, nouns)}: the {total}{where} {have} of the {old_words}"
    total += f" in {d.new_vintage}" if later else " in all"
    return f"{k:,} new {noun(d.new_level, k, nouns)} formed from {m:,} of the {old_words} ({total})"


def summary_line(d: Any) -> str:
    """The summary: the headline count first (:func:`_headline`), then the geographic
    breakdown — pure mergers, mergers with transfers, splits, transfers, unchanged — and the
    LSOAs and people moved, as sentences (no clause counts nothing of nothing)."""
    c = d.counts
    ch = c["change"]
    parts = []
    if ch["merger"]:
        parts.append(f"{plural(ch['merger'], 'pure merger')} of {c['pure_merger_sources']:,}")
    if ch["merger with transfers"]:
        parts.append(
            f"{plural(ch['merger with transfers'], 'merger')} with boundary transfers of "
            f"{c['transfer_merger_sources']:,}"
        )
    if not parts:
        parts.append("no merger")
    split = f"{ch['split']:,} formed by splitting"
    if c["old"]["split"]:
        n_split = c["old"]["split"]
        split += (
            f" ({n_split:,} old {noun(d.old_level, n_split, d.nouns)} split among "
            f"{c['split_into']:,} new {'one' if c['split_into'] == 1 else 'ones'})"
        )
    if ch["split"] or c["old"]["split"]:
        parts.append(split)
    if ch["transfer"]:
        parts.append(f"{ch['transfer']:,} with boundary transfers only")
    unchanged = f"{ch['unchanged']:,} unchanged"
    if c["code_changes"]:
        codes = "a new code" if c["code_changes"] == 1 else "new codes"
        unchanged += f" ({c['code_changes']:,} with {codes})"
    parts.append(unchanged)
    if c["moved_lsoa"]:
        moved = plural(c["moved_lsoa"], "LSOA")
        if c["moved_population"] is not None:
            moved += f" ({plural(c['moved_population'], 'person', 'people')})"
        top = d.transfers.sort_values(
            ["population", "n_lsoa", "old_code", "new_code"],
            ascending=[False, False, True, True],
            kind="stable",
        ).iloc[0]
        what = plural(int(top["n_lsoa"]), "LSOA")
        if pd.notna(top["population"]):
            what += f", {plural(int(top['population']), 'person', 'people')}"
        where = f"{top['old_name'] or top['old_code']} to {top['new_name'] or top['new_code']}"
        if len(d.transfers) == 1:
            moved += f" moved between units, from {where}"
        else:
            moved += f" moved between units, the most from {where} ({what})"
        parts.append(moved)
    else:
        parts.append("no LSOA moved between units")
    text = f"{_headline(d)}. Geographically: " + "; ".join(parts) + "."
    if d.crossing is not None:
        text += " " + _crossing_sentence(d) + "."
    return text


def _crossing_sentence(d: Any) -> str:
    cr = d.crossing
    assert cr is not None
    k = cr.counts
    ob, nb = cr.old_block.upper(), cr.new_block.upper()
    text = f"Crossed {ob} → {nb} through the change lookup ({k['old_blocks']:,} → "
    text += f"{k['new_blocks']:,} blocks; "
    if k["indicator"]:
        order = {w: i for i, w in enumerate(CHANGE_WORDS.values())}
        links = sorted(k["indicator"].items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        text += "links: " + ", ".join(f"{v:,} {w}" for w, v in links)
    else:
        text += (
            f"{k['one_to_one']:,} one-to-one, {k['new_with_several_parents']:,} {nb} with "
            f"several parents, {k['old_with_several_children']:,} {ob} with several children"
        )
    old_units = f"{d.old_vintage} {noun(d.old_level, 2)}" if d.old_vintage is not None else ""
    old_units = old_units or f"old {noun(d.old_level, 2)}"
    if k["ambiguous"]:
        amb = cr.ambiguous
        people = ""
        if k["ambiguous_population"] is not None:
            people = f" ({plural(k['ambiguous_population'], 'person', 'people')})"
        shown = "; ".join(
            f"{r.block} → {r.unit}, {r.share:.0%}" for r in amb.head(3).itertuples(index=False)
        )
        more = f"; and {len(amb) - 3:,} more" if len(amb) > 3 else ""
        verb = "has" if k["ambiguous"] == 1 else "have"
        text += (
            f"): {plural(k['ambiguous'], nb + ' block')}{people} {verb} parent blocks in "
            f"different {old_units} and went to the one with most of the parents' people "
            f"({shown}{more})"
        )
    else:
        text += f"): no {nb} block has parent blocks in different {old_units}"
    if k["lost_units"]:
        text += (
            f"; {plural(len(k['lost_units']), 'old unit')} kept no {nb} block and "
            f"{'is' if len(k['lost_units']) == 1 else 'are'} left out ({examples(k['lost_units'])})"
        )
    pop = cr.population
    old_what = f" {pop['old_label']}" if pop.get("old_label") else ""
    new_what = f" {pop['new_label']}" if pop.get("new_label") else ""
    if pop["old_total"] is not None and pop["new_total"] is not None:
        text += (
            f". Populations differ between the vintages ({d.old_vintage}: "
            f"{pop['old_total']:,}{old_what} on {ob}; {d.new_vintage}: {pop['new_total']:,}"
            f"{new_what} on {nb}); people here are the {d.new_vintage} ones on {nb}"
        )
    elif pop["new_total"] is not None:
        text += f". People here are the {d.new_vintage} ones on {nb}"
    return text
