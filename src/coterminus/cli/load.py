"""The geography a command runs on: ``--vintage``, ``--data-dir``, ``--scenario``, ``--trust-modified``.

Imported by command handlers when they run (it imports the geography, hence geopandas), never by
the parser.
"""

from __future__ import annotations

import argparse

from coterminus.data.integrity import set_trust_modified
from coterminus.geography.bundle import Geography
from coterminus.geography.bundle import load as load_geography
from coterminus.geography.scenario import scenario

__all__ = ["load"]


def load(args: argparse.Namespace, vintage: int | str | None = None) -> Geography:
    """The :class:`~coterminus.geography.bundle.Geography` of ``--vintage`` (or ``vintage``), with the
    ``--scenario`` level added when one is given (to ``--vintage`` only).

    ``--trust-modified`` lets the data files whose SHA-256 differs from the published one be used.
    """
    if getattr(args, "trust_modified", False):
        set_trust_modified(True)
    geo = load_geography(vintage or args.vintage, data_dir=args.data_dir)
    path = getattr(args, "scenario", None)
    if path and vintage is None:
        geo = scenario(
            geo,
            args.scenario_name,
            path,
            side=args.scenario_side,
            complete=not args.partial,
        )
    return geo
