"""Results in words: :class:`MergerResult`, :class:`NationalResult` and their reasons.

Kept plans become frames with readable blocks, per-level verdicts and reasons; ranks say which
plans tie; :func:`best_series` is the optimum by the subset dynamic programme, checked against
enumeration by :func:`merger_result`; :func:`criterion_ranges` says which criteria are the same
in every plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..errors import InconsistentResultError
from ..geography.resolve import display_names
from .objective import criterion_text
from .scoring import columns_frame, plan_columns
from .selection import Pareto, TopK
from .tables import LETTERS, System, footprint_frame
from .writer import histogram_path

__all__ = [
    "MergerResult",
    "NationalResult",
    "add_readable",
    "best_series",
    "criterion_ranges",
    "merger_result",
    "national_summary",
    "weights_text",
]

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def short_name(name: str) -> str:
    """A unit's name without "NHS" and organisational suffixes (CCG, ICB, Integrated Care Board).

    Examples
    --------
    >>> short_name("NHS Black Country Integrated Care Board"), short_name("NHS Tiny P CCG")
    ('Black Country', 'Tiny P')
    """
    return display_names([name])[0]  # one rule for short names (geography.resolve)


def _members(sys: System, b: int) -> list[int]:
    return [i for i in range(sys.n) if (int(b) >> i) & 1]


def _block_names(sys: System, row: np.ndarray) -> str:
    names = display_names(sys.problem.names)  # distinct: sub-ICB locations keep their endings
    return " | ".join(" + ".join(names[i] for i in _members(sys, b)) for b in row if int(b))


def _block_codes(sys: System, row: np.ndarray) -> str:
    return " | ".join("+".join(sys.codes[i] for i in _members(sys, b)) for b in row if int(b))


def add_readable(sys: System, frame: pd.DataFrame, blocks: np.ndarray) -> pd.DataFrame:
    """``blocks`` (names), ``plan`` (codes), ``labels`` and ``coterminous_<L>`` (Y/N per block)."""
    out = frame.copy()
    out["blocks"] = [_block_names(sys, r) for r in blocks]
    out["plan"] = [_block_codes(sys, r) for r in blocks]
    lab = _p.blocks_to_labels(np.asarray(blocks, dtype=np.int64), sys.n)
    out["labels"] = ["".join(LETTERS[x] for x in row) for row in lab]
    for lv in sys.problem.objective.levels:
        ok = sys.scores.coterminous[lv.name]
        out[f"coterminous_{lv.name}"] = [
            "".join("Y" if ok[int(b)] else "N" for b in row if int(b)) for row in blocks
        ]
    return out


def weights_text(
    weights: Mapping[str, float], labels: Mapping[str, str], measure: str = "population"
) -> list[str]:
    """One line per weighted criterion: its name, weight and what it measures.

    Examples
    --------
    >>> for line in weights_text({"mismatch_icb": 1.0, "split_icb": 0.0}, {"icb": "ICBs"}):
    ...     print(line)
    mismatch_icb × 1 per person: people behind mismatches with ICBs (in ICBs a block does not
    mostly cover, or of ICBs it mostly covers living outside it)
    """
    lines = []
    for c, w in weights.items():
        if not w:
            continue
        per = "person" if measure == "population" or c == "outside_band" else "m²"
        lines.append(f"{c} × {w:g} per {per}: {criterion_text(c, labels, measure)}")
    return lines


def criterion_ranges(sys: System) -> pd.DataFrame:
    """Least and greatest value of every criterion (and ``change``) over every plan.

    One subset DP per bound (:func:`coterminus.partitions.partition_extremes`), no
    enumeration; ``constant`` marks a criterion that is the same in every plan (it decides
    nothing, e.g. a council split by the edge of the system whatever the plan).
    """
    names = [*sys.criteria, "change"]
    values = np.column_stack([sys.values(c) for c in names])
    lo, hi = _p.partition_extremes(values, allowed=sys.allowed, n_blocks=sys.n_blocks)
    frame = pd.DataFrame({"criterion": names, "min": lo, "max": hi})
    for c in ("min", "max"):
        frame[c] = np.rint(frame[c]).astype(np.int64)
    frame["constant"] = frame["min"] == frame["max"]
    frame["weight"] = [sys.weights.get(c, 0.0) for c in names]
    return frame.set_index("criterion")


@dataclass
class MergerResult:
    """Every merger plan of one system, ranked and explained.

    Attributes
    ----------
    system, system_name : str or None, str
        The group's code (``None`` for a custom list of units) and name.
    vintage : int or str
    units : str
        Level of the units merged.
    members : pandas.DataFrame
        The units, indexed by code, with ``name``, ``nhs_code``, ``population``, ``bit`` (the
        unit's position in masks and in ``labels``), ``letter`` and ``group``.
    n_plans : int
        Plans enumerated (all plans satisfying the rules).
    against : tuple of str
        The levels plans are scored against.
    criteria : tuple of str
        Every criterion, named after its level (``mismatch_utla``, ``not_coterminous_sa``...).
    weights : dict
        Weight of every criterion, as used.
    band : str
        The population band and where it came from.
    top : pandas.DataFrame
        The best ``top`` plans, by objective then least ``change`` (then plan id, only to list
        plans that tie on both): ``rank`` (equal for ties), ``tied``, the plan columns
        (:func:`coterminus.plans.scoring.plan_column_names`), ``pareto``, ``blocks``, ``plan``,
        ``labels``, ``coterminous_<L>`` (Y/N per block), ``score_<criterion>`` (weight × value)
        and ``reasons``.
    best : pandas.Series
        The optimum found by dynamic programming (equals ``top.iloc[0]``).
    pareto : pandas.DataFrame
        Non-dominated plans over ``pareto_on``: one row per distinct vector, with the lowest
        plan id holding it and ``n_plans`` sharing it.
    ranges : pandas.DataFrame
        Least and greatest value of each criterion over every plan, and whether it is constant.
    adjacency : pandas.DataFrame or None
        Edges used for contiguity.
    out : pathlib.Path or None
        The plan file, if written.
    """

    system: str | None
    system_name: str
    vintage: int | str | None
    units: str
    measure: str
    tolerance: float
    band: str
    members: pd.DataFrame
    n_plans: int
    constraints: dict[str, object]
    against: tuple[str, ...]
    criteria: tuple[str, ...]
    weights: dict[str, float]
    pareto_on: list[str]
    top: pd.DataFrame
    best: pd.Series
    pareto: pd.DataFrame
    ranges: pd.DataFrame
    adjacency: pd.DataFrame | None
    out: Path | None
    seconds: float
    backend: str
    _system: System = field(repr=False)
    #: Why ``out`` holds only the top-k and the Pareto front ("" when it holds every plan).
    out_note: str = ""
    #: Plans per bin of each criterion over every plan (summary runs with numba; else None).
    histograms: pd.DataFrame | None = None
    #: The geography's "MODIFIED DATA" stamp (loaded with trust_modified=True), else None.
    modified_data: str | None = None

    def __repr__(self) -> str:
        p = self._system.problem
        return (
            f"<MergerResult {self.system_name} ({self.system}, {self.vintage}): "
            f"{p.words(len(self.members))}, {self.n_plans:,} plans; best: "
            f"{self.best['blocks'] if len(self.best) else '-'}>"
        )

    def plans(self, rows: int | None = None) -> list[list[list[str]]]:
        """The top plans as lists of blocks of unit codes — the form maps and figures take.

        Examples
        --------
        >>> r = coterminus.mergers(geo, "Coventry and Warwickshire")
        >>> r.plans(1)
        [[['E38000038', 'E38000164', 'E38000195']]]
        """
        top = self.top if rows is None else self.top.head(rows)
        return [[block.split("+") for block in str(p).split(" | ")] for p in top["plan"]]

    def footprints(self) -> pd.DataFrame:
        """The footprint table behind the scores (see :func:`footprint_table`)."""
        return footprint_frame(self._system)

    def summary(self, rows: int = 10) -> str:
        """A plain-text report: rules, objective, constant criteria, the top plans and reasons."""
        p = self._system.problem
        labels = p.labels
        rules = ", ".join(f"{k}={v}" for k, v in self.constraints.items() if k != "band")
        lines = [
            f"{self.system_name} ({self.system or 'custom'}), vintage {self.vintage}: "
            f"{p.words(len(self.members))}, {self.n_plans:,} plans scored"
            + (f" ({rules})" if rules else ""),
            f"measure {self.measure}, tolerance ε={self.tolerance:g} of each area; blocks: "
            f"{self.band}",
            "objective = Σ over blocks of Σ weight × criterion (lower is better):",
            *[f"  {t}" for t in weights_text(self.weights, labels, self.measure)],
            "ties on the objective go to the plan that moves fewest people from today's "
            f"{self.constraints.get('today', p.unit_plural)}"
            " (change); plans equal on both are ranked equal",
        ]
        constant = [
            f"{c} ({int(r['min']):,})"
            for c, r in self.ranges.iterrows()
            if r["constant"] and r["weight"] and r["min"] > 0
        ]
        if constant:
            lines.append(
                "the same in every plan (counted, but decides nothing): " + ", ".join(constant)
            )
        lines.append("")
        for _, r in self.top.head(rows).iterrows():
            k = int(r["n_blocks"])
            rank = f"={r['rank']}" if r["tied"] else f"{r['rank']}"
            lines.append(
                f"#{rank} plan {r['plan_id']} — objective {_num(r['objective'])}, change "
                f"{int(r['change']):,}, {p.block_words(k)}"
                + (" (Pareto-optimal)" if r["pareto"] else "")
            )
            lines.append(f"  {r['blocks']}")
            lines.append(f"  {r['reasons']}")
        lines.append("")
        lines.append(
            f"Pareto front over {', '.join(self.pareto_on) or '-'}: {len(self.pareto)} distinct "
            "trade-offs"
        )
        if self.out is not None and self.out_note:
            lines.append(f"top-k and Pareto front only: {self.out} ({self.out_note})")
            if self.histograms is not None:
                lines.append(f"histograms of every plan: {histogram_path(self.out)}")
        elif self.out is not None:
            lines.append(f"full plan table: {self.out}")
        if self.modified_data:
            lines.append(self.modified_data)
        return "\n".join(lines)

    def to_dict(self, rows: int | None = None) -> dict[str, JsonValue]:
        """Plain-Python form for JSON."""
        top = self.top if rows is None else self.top.head(rows)
        return {
            "system": self.system,
            "system_name": self.system_name,
            "vintage": self.vintage,
            "units": self.units,
            "measure": self.measure,
            "tolerance": self.tolerance,
            "band": self.band,
            "against": list(self.against),
            "members": json.loads(self.members.reset_index().to_json(orient="records")),
            "n_plans": int(self.n_plans),
            "constraints": json.loads(json.dumps(self.constraints, default=str)),
            "criteria": list(self.criteria),
            "weights": dict(self.weights),
            "ranges": json.loads(self.ranges.reset_index().to_json(orient="records")),
            "pareto_on": list(self.pareto_on),
            "top": json.loads(top.to_json(orient="records")),
            "pareto": json.loads(self.pareto.to_json(orient="records")),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "backend": self.backend,
            **({"modified_data": self.modified_data} if self.modified_data else {}),
        }


def _num(x: object) -> str:
    v = float(x)  # type: ignore[arg-type]
    return f"{v:,.0f}" if v == round(v) else f"{v:,.4g}"


def _members_frame(sys: System) -> pd.DataFrame:
    p = sys.problem
    return pd.DataFrame(
        {
            "name": list(p.names),
            "nhs_code": list(p.nhs_codes),
            "population": p.objective.population,
            "bit": np.arange(sys.n),
            "letter": [LETTERS[i] for i in range(sys.n)],
            "group": [p.group_codes[g] for g in p.groups],
        },
        index=pd.Index(list(sys.codes), name="code"),
    )


def _describe_block(sys: System, b: int) -> str:
    """One block in words: its people, its verdict at each level and the areas it splits."""
    p = sys.problem
    s = sys.scores
    label = " + ".join(display_names(p.names)[i] for i in _members(sys, b))
    unit = "people" if p.measure == "population" else "m²"
    parts = [f"[{label}] {int(s.population[b]):,} people"]
    for lv in p.objective.levels:
        if s.coterminous[lv.name][b]:
            if lv.people[_members(sys, b)].sum() == 0:
                parts.append(f"no {lv.plural} (neutral)")
            else:
                parts.append(f"coterminous with {lv.plural}")
            continue
        split = np.flatnonzero(s.split_areas[lv.name][b])
        m = lv.people[_members(sys, b)].sum(axis=0)
        pieces = ", ".join(
            f"{lv.names[t]} ({int(m[t]):,} of {int(lv.whole_people[t]):,} {unit} here)"
            for t in split
        )
        parts.append(f"splits {lv.plural if len(split) != 1 else lv.label} {pieces}")
    lo, hi = p.band.pair
    if p.band.soft and (s.population[b] < lo or s.population[b] > hi):
        parts.append("outside the band")
    return "; ".join(parts)


def _reasons(
    sys: System,
    blocks: np.ndarray,
    row: Mapping[str, object],
    best_row: Mapping[str, object] | None,
) -> str:
    p = sys.problem
    live = [int(b) for b in blocks if int(b)]
    merged = [b for b in live if len(_members(sys, b)) > 1]
    k = len(live)
    parts = [
        f"{p.block_words(k)} from {p.words(sys.n)}"
        + (f", {len(merged)} merger{'s' if len(merged) != 1 else ''}" if merged else ", no merger")
    ]
    parts += [_describe_block(sys, b) for b in live]
    terms = [
        f"{_num(row[c])} {c}" if w == 1 else f"{w:g}×{_num(row[c])} {c}"
        for c, w in sys.weights.items()
        if w and float(row[c]) != 0  # type: ignore[arg-type]
    ]
    parts.append(
        f"objective {_num(row['objective'])}" + (f" = {' + '.join(terms)}" if terms else "")
    )
    if best_row is not None and row["plan_id"] != best_row["plan_id"]:
        diffs = []
        for c in [*sys.criteria, "change"]:
            if (c == "change" or sys.weights.get(c)) and row[c] != best_row[c]:
                diffs.append(f"{c} {float(row[c]) - float(best_row[c]):+,.0f}")  # type: ignore[arg-type]
        gap = float(row["objective"]) - float(best_row["objective"])  # type: ignore[arg-type]
        if gap == 0 and row["change"] == best_row["change"]:
            parts.append("ties the best plan on the objective and on change")
        elif gap == 0:
            parts.append(
                f"ties the best plan on the objective; moves more people ({', '.join(diffs)})"
            )
        else:
            parts.append(f"vs the best plan: {gap:+,.0f} ({', '.join(diffs)})")
    return "; ".join(parts)


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    key = list(zip(frame["objective"], frame["change"], strict=True))
    rank: list[int] = []
    for i, kv in enumerate(key):
        rank.append(rank[key.index(kv)] if kv in key[:i] else i + 1)
    frame.insert(0, "rank", rank)
    frame.insert(1, "tied", [key.count(kv) > 1 for kv in key])
    return frame


def _finish_top(sys: System, top: TopK, front_ids: set[int], keep: int | None) -> pd.DataFrame:
    """The kept plans in words; ``keep`` rows (the run kept one more, so that the last row's
    tie with the next plan is known)."""
    if top.cols is None or top.cols["plan_id"].size == 0:
        return pd.DataFrame(columns=["rank", "tied", "plan_id", "blocks", "reasons"])
    assert top.blocks is not None
    frame = add_readable(sys, columns_frame(sys, top.cols), top.blocks)
    frame = _ranked(frame)
    frame["pareto"] = frame["plan_id"].isin(front_ids)
    for c, w in sys.weights.items():
        if w:
            frame[f"score_{c}"] = w * frame[c].astype(float)
    rows: list[dict[str, object]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    best = rows[0]
    frame["reasons"] = [_reasons(sys, b, r, best) for b, r in zip(top.blocks, rows, strict=True)]
    return (frame if keep is None else frame.head(keep)).reset_index(drop=True)


def _finish_pareto(sys: System, front: Pareto) -> pd.DataFrame:
    cols = ["plan_id", *front.columns, "n_plans", "blocks", "plan"]
    if front.x is None:
        return pd.DataFrame(columns=cols)
    assert front.ids is not None
    assert front.counts is not None
    assert front.blocks is not None
    frame = pd.DataFrame(front.x, columns=front.columns)
    for c in front.columns:
        if np.all(frame[c] == np.round(frame[c])):
            frame[c] = frame[c].astype(np.int64)
    frame.insert(0, "plan_id", front.ids)
    frame["n_plans"] = front.counts
    frame["blocks"] = [_block_names(sys, r) for r in front.blocks]
    frame["plan"] = [_block_codes(sys, r) for r in front.blocks]
    order = np.lexsort([frame[c].to_numpy() for c in reversed(front.columns)])
    return frame.iloc[order].reset_index(drop=True)


def _best_row(sys: System) -> np.ndarray:
    _, blocks = _p.best_partition(sys.cost, allowed=sys.allowed, n_blocks=sys.n_blocks, tie=sys.tie)
    arr = np.zeros((1, sys.n), dtype=np.int64)
    arr[0, : len(blocks)] = blocks
    return arr


def _plan_id_of(sys: System, blocks: Sequence[int]) -> int:
    """Rank of a plan in enumeration order, from the plan counts of the recursion."""
    rec = _p.build_recursion(sys.n, sys.allowed, by_k=sys.n_blocks is not None)
    lo, hi = sys.n_blocks if sys.n_blocks is not None else (1, sys.n)
    r = (1 << sys.n) - 1
    pid = 0
    for used, b in enumerate(blocks):
        for c in rec.candidates(r):
            if int(c) == int(b):
                break
            if rec.counts_by_k is None:
                pid += round(float(rec.counts[r ^ int(c)]))
            else:  # plans after choosing c that end with a total in [lo, hi]
                a, z = max(lo - used - 1, 0), hi - used - 1
                pid += round(float(rec.counts_by_k[r ^ int(c), a : z + 1].sum())) if z >= 0 else 0
        r ^= int(b)
    return pid


def best_series(sys: System) -> pd.Series:
    """The best plan by the subset DP (least objective, then least change), as a row."""
    blocks = _best_row(sys)
    cols = plan_columns(sys, blocks)
    cols["plan_id"] = np.array([_plan_id_of(sys, [int(b) for b in blocks[0] if b])])
    frame = add_readable(sys, columns_frame(sys, cols), blocks)
    row: dict[str, object] = frame.iloc[0].to_dict()  # type: ignore[assignment]
    frame["reasons"] = [_reasons(sys, blocks[0], row, None)]
    return frame.iloc[0]


def merger_result(
    sys: System,
    top_k: TopK,
    front: Pareto,
    n_done: int,
    pareto_cols: list[str],
    path: Path | None,
    seconds: float,
    backend: str,
    keep: int | None = None,
) -> MergerResult:
    """A :class:`MergerResult` from what a run kept, checked against the subset DP.

    ``keep``: the top plans shown (the run keeps one more, to know whether the last ties).
    """
    front_ids = set() if front.ids is None else {int(i) for i in front.ids}
    top_frame = _finish_top(sys, top_k, front_ids, keep)
    best = best_series(sys)
    if len(top_frame) and int(top_frame["plan_id"].iloc[0]) != int(best["plan_id"]):
        top_plan = int(top_frame["plan_id"].iloc[0])
        msg = (
            f"the dynamic programme and enumeration disagree on the best plan of {sys.name}: "
            f"plan {best['plan_id']} (objective {float(best['objective']):,.6g}, change "
            f"{int(best['change']):,}) vs plan {top_plan} (objective "
            f"{float(top_frame['objective'].iloc[0]):,.6g}, change "
            f"{int(top_frame['change'].iloc[0]):,}). This is a bug in coterminus, not in your "
            "input: please report it with the call that produced it (best_plan() gives the "
            "dynamic programme's answer meanwhile)."
        )
        raise InconsistentResultError(msg)
    best["pareto"] = int(best["plan_id"]) in front_ids
    p = sys.problem
    return MergerResult(
        system=sys.code,
        system_name=sys.name,
        vintage=p.vintage,
        units=p.units,
        measure=p.measure,
        tolerance=p.tolerance,
        band=p.band.text,
        members=_members_frame(sys),
        n_plans=n_done,
        constraints=dict(p.constraints),
        against=p.against,
        criteria=sys.criteria,
        weights=sys.weights,
        pareto_on=list(pareto_cols),
        top=top_frame,
        best=best,
        pareto=_finish_pareto(sys, front),
        ranges=criterion_ranges(sys),
        adjacency=p.edges,
        out=path,
        seconds=seconds,
        backend=backend,
        _system=sys,
    )


@dataclass
class NationalResult:
    """Merger plans of every system of a vintage.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per system (index: its code): ``name``, ``units_now``, ``n_plans`` and the
        best plan's ``n_blocks``, ``objective``, ``change``, ``blocks``, ``reasons``.
    results : dict of str to MergerResult
    weights : dict
    n_plans : int
        Plans over all systems.
    out : pathlib.Path or None
    seconds : float
    """

    vintage: int | str | None
    summary: pd.DataFrame
    results: dict[str, MergerResult]
    weights: dict[str, float]
    constraints: dict[str, object]
    n_plans: int
    out: Path | None
    seconds: float
    labels: dict[str, str] = field(default_factory=dict)
    #: The geography's "MODIFIED DATA" stamp (loaded with trust_modified=True), else None.
    modified_data: str | None = None

    def __repr__(self) -> str:
        return (
            f"<NationalResult {self.vintage}: {len(self.results)} systems, "
            f"{self.n_plans:,} plans in {self.seconds:.1f} s>"
        )

    def to_dict(self) -> dict[str, JsonValue]:
        """Plain-Python form for JSON."""
        return {
            "vintage": self.vintage,
            "weights": dict(self.weights),
            "constraints": json.loads(json.dumps(self.constraints, default=str)),
            "n_plans": int(self.n_plans),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "summary": json.loads(self.summary.reset_index().to_json(orient="records")),
            **({"modified_data": self.modified_data} if self.modified_data else {}),
        }


def national_summary(
    prepared: list[System], counts: list[int], results: Mapping[str, MergerResult]
) -> pd.DataFrame:
    """One row per system: its units, plans and best plan."""
    rows = []
    for sys, c in zip(prepared, counts, strict=True):
        r = results.get(str(sys.code))
        best = r.best if r is not None else None
        rows.append(
            {
                "system": sys.code,
                "name": sys.name,
                "units_now": sys.n,
                "n_plans": c,
                "n_blocks": None if best is None else int(best["n_blocks"]),
                "objective": None if best is None else float(best["objective"]),
                "change": None if best is None else int(best["change"]),
                "blocks": None if best is None else best["blocks"],
                "reasons": None if best is None else best["reasons"],
            }
        )
    return pd.DataFrame(rows).set_index("system")
