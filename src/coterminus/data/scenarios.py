"""Named scenarios shipped with coterminus: the reform pipeline as data.

``scenario_files/catalogue.toml`` lists proposed areas that planners ask about — the ICB mergers
reported for April 2027, Surrey's two unitary councils of April 2027, the strategic authorities
proposed for Greater Essex and for Norfolk and Suffolk — each a ``member,area,area_name`` CSV
beside it, with a **status** (decided, reported or proposed) and a **source** line that every
output using the scenario prints. :func:`coterminus.scenario` and ``--scenario NAME`` resolve a
name through :func:`named_scenario`; a user's CSV works as before.

Examples
--------
>>> sorted(catalogue())
['icb-clusters-2027', 'lgr-surrey-2027', 'sa-proposed-2026']
>>> s = named_scenario("icb-clusters-2027")
>>> s.status, s.members, s.level, s.base, len(s.table())
('reported', 'icb', 'icb_2027', 'icb', 18)
>>> s.note.startswith("Scenario icb-clusters-2027 (reported):")
True
>>> named_scenario("icb-cluster-2027")
Traceback (most recent call last):
...
coterminus.errors.ScenarioError: no named scenario 'icb-cluster-2027'; did you mean 'icb-clusters-2027'? ...
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ScenarioError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["STATUSES", "NamedScenario", "catalogue", "is_named", "named_scenario"]

_FOLDER = "scenario_files"
_CATALOGUE = "catalogue.toml"
#: The statuses a named scenario can have, from firmest to least firm.
STATUSES: tuple[str, ...] = ("decided", "reported", "proposed")
_KEYS = {
    "title",
    "file",
    "status",
    "source",
    "vintage",
    "members",
    "level",
    "label",
    "plural",
    "base",
}


@dataclass(frozen=True)
class NamedScenario:
    """One entry of the catalogue.

    Attributes
    ----------
    name : str
        What users type (``"icb-clusters-2027"``).
    title, status, source : str
        ``status`` is one of :data:`STATUSES`; ``source`` is the one line printed with every
        output that uses the scenario.
    vintage : int
        The built-in vintage whose codes the members are.
    members : str
        Level of the member codes (``"icb"``, ``"ltla"``).
    level, label, plural : str
        Default name of the scenario level and its words for outputs.
    base : str or None
        A level whose areas the units not listed keep (so the scenario covers all England).
    path : Path
        The CSV file.
    """

    name: str
    title: str
    status: str
    source: str
    vintage: int
    members: str
    level: str
    label: str
    plural: str
    base: str | None
    path: Path

    @property
    def note(self) -> str:
        """The sentence outputs print: name, status and source."""
        return f"Scenario {self.name} ({self.status}): {self.source}."

    def table(self) -> pd.DataFrame:
        """The ``member, area, area_name`` rows of the CSV file (text)."""
        return pd.read_csv(self.path, dtype=str, keep_default_na=False, encoding="utf-8")


def _root() -> Path:
    return Path(str(resources.files(__package__ or "coterminus.data") / _FOLDER))


@lru_cache(maxsize=1)
def catalogue() -> dict[str, NamedScenario]:
    """Every named scenario shipped, by name (checked: known keys, status, an existing file).

    Raises
    ------
    ScenarioError
        The catalogue itself is malformed (a packaging error), every problem in one message.
    """
    root = _root()
    raw: dict[str, Any] = tomllib.loads((root / _CATALOGUE).read_text(encoding="utf-8"))
    out: dict[str, NamedScenario] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        unknown = set(entry) - _KEYS
        missing = {"title", "file", "status", "source", "vintage", "members", "level"} - set(entry)
        if unknown or missing:
            problems.append(f"{name}: unknown {sorted(unknown)}, missing {sorted(missing)}")
            continue
        if entry["status"] not in STATUSES:
            problems.append(f"{name}: status {entry['status']!r} is not one of {STATUSES}")
        path = root / str(entry["file"])
        if not path.is_file():
            problems.append(f"{name}: no file {entry['file']!r}")
        out[name] = NamedScenario(
            name=name,
            title=str(entry["title"]),
            status=str(entry["status"]),
            source=str(entry["source"]),
            vintage=int(entry["vintage"]),
            members=str(entry["members"]),
            level=str(entry["level"]),
            label=str(entry.get("label", entry["level"].replace("_", " "))),
            plural=str(entry.get("plural", entry.get("label", entry["level"]) + "s")),
            base=entry.get("base"),
            path=path,
        )
    if problems:
        msg = f"the named-scenario catalogue {root / _CATALOGUE} is malformed: " + "; ".join(
            problems
        )
        raise ScenarioError(msg)
    return out


def is_named(text: object) -> bool:
    """Whether ``text`` is the name of a shipped scenario (not a file path)."""
    return isinstance(text, str) and text.strip() in catalogue()


def named_scenario(name: str) -> NamedScenario:
    """The catalogue entry called ``name``.

    Raises
    ------
    ScenarioError
        No such name: the message gives the nearest name and lists them all, and says that a
        CSV file path works too.
    """
    entries = catalogue()
    key = str(name).strip()
    if key in entries:
        return entries[key]
    close = difflib.get_close_matches(key, list(entries), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    msg = (
        f"no named scenario {key!r}{hint} The named scenarios are {', '.join(entries)} "
        "(coterminus scenarios lists them); or give the path of a CSV file of "
        "member,area[,area_name] rows."
    )
    raise ScenarioError(msg)
