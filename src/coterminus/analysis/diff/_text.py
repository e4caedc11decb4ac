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


def noun(level: str | None, n: int) -> str:
    """What units of ``level`` are called (``"ccg"``, 2 → ``"CCGs"``; others: ``"<level> units"``)."""
    if level is None:
        pair = ("unit", "units")
    else:
        word = level.replace("_", " ")
        pair = LEVEL_NOUNS.get(level, (f"{word} unit", f"{word} units"))
    return pair[0] if n == 1 else pair[1]


def summary_line(d: Any) -> str:
    """The one-line summary: the headline count first, then the breakdown (see :func:`diff`)."""
    c = d.counts
    ch = c["change"]
    same = noun(d.old_level, 2) == noun(d.new_level, 2)
    head = f"{c['new_units']:,} {noun(d.new_level, c['new_units'])}"
    if d.new_vintage is not None:
        head += f" in {d.new_vintage}"
    of = f"of the {c['old_units']:,}"
    if not same:
        of += f" {noun(d.old_level, c['old_units'])}"
    if d.old_vintage is not None:
        of += f" of {d.old_vintage}"
    elif same:
        of += f" old {noun(d.old_level, c['old_units'])}"
    if c["formed_by_merging"]:
        lead = (
            f"{head}: {c['formed_by_merging']:,} formed from {c['merged_from']:,} {of} "
            f"({plural(ch['merger'], 'pure merger')} of {c['pure_merger_sources']:,}, "
            f"{plural(ch['merger with transfers'], 'merger')} with boundary transfers of "
            f"{c['transfer_merger_sources']:,})"
        )
    else:
        lead = f"{head}: 0 formed by merging any {of}"
    parts = [lead]
    split = f"{ch['split']:,} formed by splitting"
    if c["old"]["split"]:
        split += (
            f" ({plural(c['old']['split'], 'old unit')} split among "
            f"{plural(c['split_into'], 'new unit')})"
        )
    parts.append(split)
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
    text = "; ".join(parts)
    if d.crossing is not None:
        text += ". " + _crossing_sentence(d)
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
