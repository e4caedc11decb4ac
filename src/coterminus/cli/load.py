"""The geography a command runs on: ``--vintage``, ``--data-dir``, ``--scenario``, ``--trust-modified``.

Imported by command handlers when they run (it imports the geography, hence geopandas), never by
the parser.

Everything that can be checked without the geography is checked first, once per command
(:func:`check`): the manifest of every vintage the command names (``--vintage``, ``--from``,
``--to``; its syntax and schema), the ``--scenario`` file (format, empty cells, the shape of its
codes, one level per file) and the side of its areas. Only then is a geography loaded, and the
errors that need it (unknown codes) come after, in one message.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coterminus.data.manifest import Manifest, read_manifest
from coterminus.data.scenarios import named_scenario
from coterminus.geography.bundle import Geography
from coterminus.geography.bundle import load as load_geography
from coterminus.geography.named import asks_for_named
from coterminus.geography.scenario import block_members, read_scenario_table, scenario

from .options import UsageError

__all__ = ["Checked", "check", "load", "scenario_side"]

#: Commands whose use of a scenario does not depend on the side of its areas.
_SIDELESS = ("diff", "doctor")


@dataclass(frozen=True)
class Checked:
    """What :func:`check` read: each named vintage's manifest, the scenario table and its side
    (or the name of a shipped scenario, which :func:`load` adds by name)."""

    manifests: dict[str, Manifest]
    table: pd.DataFrame | None
    side: str | None
    named: str | None = None


def _named(args: argparse.Namespace) -> dict[str, Any]:
    """The vintages a command names, by option: ``--vintage``, ``--from``, ``--to``."""
    options = {"--vintage": "vintage", "--from": "from_", "--to": "to"}
    return {
        flag: getattr(args, dest)
        for flag, dest in options.items()
        if getattr(args, dest, None) is not None
    }


def scenario_side(args: argparse.Namespace, table: pd.DataFrame) -> str | None:
    """The side of the ``--scenario`` areas: ``--scenario-side``, else inferred, else asked for.

    Areas made of whole units take their members' side (``None`` here: the library decides).
    Areas made of LSOAs belong to neither side, so the side is read from how the command uses
    them: as the footprint or its members (``--units``, ``--level``, ``--within``) they are NHS
    areas assessed against the councils; as a level assessed against (``--against``, ``--tier``)
    they are councils. A command that uses them both ways, or neither, asks once.

    Raises
    ------
    UsageError
        LSOA areas whose side the command does not tell: the message says how to choose.
    """
    given: str | None = getattr(args, "scenario_side", None)
    if given or not block_members(table):
        return given
    command = getattr(args, "command", None)
    if command in _SIDELESS:
        return "council"  # the side changes nothing these commands compute
    name = args.scenario_name or "scenario"
    as_footprint = name in {getattr(args, k, None) for k in ("units", "level", "within")}
    as_target = name in [*(getattr(args, "against", None) or []), getattr(args, "tier", None)]
    if as_footprint != as_target:
        return "nhs" if as_footprint else "council"
    how = (
        f"uses {name!r} both as the footprint's level and as a level to assess against"
        if as_footprint
        else f"does not say whether {name!r} is the footprint's level (--units {name}) or a "
        f"level to assess against (--against {name})"
    )
    msg = (
        f"the --scenario areas are made of LSOAs, which are on neither side, and this command "
        f"{how}: pass --scenario-side nhs (proposed NHS areas, assessed against the councils) "
        "or --scenario-side council (proposed councils, which NHS footprints are assessed "
        "against)"
    )
    raise UsageError(msg)


def check(args: argparse.Namespace) -> Checked:
    """Check, before any geography is loaded, what the command names (once per command).

    Reads the manifest of every vintage named and the ``--scenario`` table (every check of
    :func:`~coterminus.geography.scenario.read_scenario_table`), and settles the scenario side.

    Raises
    ------
    ManifestError, ScenarioError, UsageError
        The first kind of problem found, with every instance of it.
    """
    done = getattr(args, "checked", None)
    if isinstance(done, Checked):
        return done
    manifests = {flag: read_manifest(value) for flag, value in _named(args).items()}
    path = getattr(args, "scenario", None)
    if path is None:
        for flag in ("scenario_side", "partial"):
            if getattr(args, flag, None):
                msg = f"--{flag.replace('_', '-')} goes with --scenario CSV; give the scenario"
                raise UsageError(msg)
        if getattr(args, "scenario_name", None) is not None:
            msg = "--scenario-name goes with --scenario NAME|CSV; give the scenario"
            raise UsageError(msg)
    if path is not None and asks_for_named(path):
        named = named_scenario(str(path)).name  # a misspelt name: the nearest name, now
        done = Checked(manifests, None, getattr(args, "scenario_side", None), named)
        args.checked = done
        return done
    table = read_scenario_table(path) if path is not None else None
    side = scenario_side(args, table) if table is not None else None
    done = Checked(manifests, table, side)
    args.checked = done
    return done


def load(args: argparse.Namespace, vintage: int | str | None = None) -> Geography:
    """The :class:`~coterminus.geography.bundle.Geography` of ``--vintage`` (or ``vintage``), with the
    ``--scenario`` level added when one is given (to ``--vintage`` only).

    Everything :func:`check` checks comes first. ``--trust-modified`` lets data files whose
    SHA-256 differs from the published one be used; the geography then carries the stamp, and
    :func:`coterminus.cli.call` prints it after the output.
    """
    checked = check(args)
    wanted = vintage or args.vintage
    manifest = next(
        (m for flag, m in checked.manifests.items() if _named(args)[flag] == wanted), wanted
    )
    geo = load_geography(
        manifest,
        data_dir=args.data_dir,
        trust_modified=bool(getattr(args, "trust_modified", False)) or None,
    )
    loaded = getattr(args, "geographies", None)
    args.geographies = [*(loaded or []), geo]  # for the stamp after the output
    if (checked.table is not None or checked.named is not None) and vintage is None:
        geo = scenario(
            geo,
            args.scenario_name,
            checked.named if checked.named is not None else checked.table,
            side=checked.side,
            complete=not args.partial,
        )
    return geo
