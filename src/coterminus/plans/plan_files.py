"""Plans given by users and plans read back from files.

:func:`plans_to_blocks` checks plans given as lists of blocks; :func:`read_plans` and
:func:`decode_labels` read plan files written by :func:`~coterminus.plans.mergers.mergers`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import FootprintError, OutputError, ParameterError
from .problem import unit_codes
from .tables import System

if TYPE_CHECKING:
    from ..geography.bundle import Geography


PlansLike = Sequence[Sequence[Sequence[str] | str]] | np.ndarray


def plans_to_blocks(sys: System, geo: Geography | None, plans: PlansLike) -> np.ndarray:
    """Plans as lists of blocks of unit codes/names (or block-mask arrays) → (m, n) masks."""
    n = sys.n
    if isinstance(plans, np.ndarray) and plans.dtype.kind in "iu":
        arr = np.asarray(plans, dtype=np.int64)
        if arr.ndim == 1:
            arr = arr[None, :]
        rows: list[tuple[int, ...]] = [tuple(int(x) for x in r if x) for r in arr]
    else:
        pos = {c: i for i, c in enumerate(sys.codes)}
        rows = []
        for plan in plans:
            blocks: list[int] = []
            for block in plan:
                items = [block] if isinstance(block, str) else list(block)
                codes = unit_codes(geo, items) if geo is not None else [str(x) for x in items]
                bad = [c for c in codes if c not in pos]
                if bad:
                    msg = f"plan names unit(s) {bad} that are not among the units {list(sys.codes)}"
                    raise FootprintError(msg)
                mask = 0
                for c in codes:
                    mask |= 1 << pos[c]
                blocks.append(mask)
            rows.append(tuple(blocks))
    out = np.zeros((len(rows), max(n, 1)), dtype=np.int64)
    full = (1 << n) - 1
    for r, plan_blocks in enumerate(rows):
        seen = 0
        for b in plan_blocks:
            if b & seen or b <= 0 or b > full:
                msg = (
                    f"plan {r} is not a partition: blocks {list(plan_blocks)} overlap or are empty"
                )
                raise FootprintError(msg)
            seen |= b
        if seen != full:
            missing = [sys.codes[i] for i in range(n) if not (seen >> i) & 1]
            msg = f"plan {r} leaves out unit(s) {missing}; every unit must be in one block"
            raise FootprintError(msg)
        ordered = sorted(plan_blocks, key=lambda b: b & -b)
        out[r, : len(ordered)] = ordered
    return out[:, :n]


def read_plans(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, object]]:
    """Read a plan table written by :func:`mergers`/:func:`national` and its metadata.

    Returns
    -------
    (pandas.DataFrame, dict)
        The plans and the ``coterminus`` metadata (members of each system in label order,
        weights, tolerance, ...). Parquet only (CSV files carry no metadata).

    Examples
    --------
    >>> _ = coterminus.mergers(geo, "Coventry and Warwickshire", out="plans.parquet")
    >>> plans, meta = read_plans("plans.parquet")
    >>> names = meta["systems"]["E54000018"]["names"]
    >>> decode_labels(plans.loc[0, "labels"], names)
    [['NHS Coventry and Rugby CCG'], ['NHS South Warwickshire CCG'], ...]
    """
    p = Path(path)
    if not p.is_file():
        msg = f"no plan file at {p}"
        raise OutputError(msg)
    if p.name.lower().endswith(".csv"):
        return pd.read_csv(p), {}
    table = pq.read_table(p)
    meta_raw = (table.schema.metadata or {}).get(b"coterminus", b"{}")
    return table.to_pandas(), json.loads(meta_raw)


def decode_labels(labels: str, members: Sequence[str]) -> list[list[str]]:
    """Blocks of a plan from its ``labels`` string and the system's members (in label order).

    Examples
    --------
    >>> decode_labels("ABA", ["x", "y", "z"])
    [['x', 'z'], ['y']]
    """
    if len(labels) != len(members):
        msg = f"labels {labels!r} has {len(labels)} letters but there are {len(members)} members"
        raise ParameterError(msg)
    blocks: dict[str, list[str]] = {}
    for letter, m in zip(labels, members, strict=True):
        blocks.setdefault(letter, []).append(str(m))
    return [blocks[k] for k in sorted(blocks)]
