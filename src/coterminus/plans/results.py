"""Results in words: :class:`MergerResult`, :class:`NationalResult` and their reasons.

Kept plans become frames with readable blocks, verdicts and reasons; :func:`best_series` is the
optimum by the subset dynamic programme, checked against enumeration by :func:`merger_result`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import partitions as _p
from ..errors import InconsistentResultError, ParameterError
from .scoring import columns_frame, direct_aggregates, finalise
from .selection import Pareto, TopK
from .tables import CRITERIA, LETTERS, PLAN_COLUMNS, TIERS, System, footprint_frame
from .writer import histogram_path


def _short(name: str) -> str:
    """A unit's name without "NHS" and organisational suffixes (CCG, ICB, Integrated Care Board)."""
    out = re.sub(r"\s+-\s+[A-Za-z0-9]{3,6}$", "", name)
    if out.startswith("NHS "):
        out = out[4:]
    for suffix in (" Integrated Care Board", " ICB", " CCG"):
        if out.endswith(suffix):
            out = out[: -len(suffix)]
    return out


def _slot_words(sys: System, tier: str) -> str:
    """Words for a slot's level ("upper-tier councils", "combined authorities")."""
    return sys.labels[tier]


def _block_names(sys: System, row: np.ndarray) -> str:
    parts = []
    for b in row:
        b = int(b)
        if b:
            parts.append(" + ".join(_short(sys.names[i]) for i in range(sys.n) if (b >> i) & 1))
    return " | ".join(parts)


def _block_codes(sys: System, row: np.ndarray) -> str:
    return " | ".join(
        "+".join(sys.codes[i] for i in range(sys.n) if (int(b) >> i) & 1) for b in row if int(b)
    )


def _verdicts(sys: System, blocks: np.ndarray, tier: str) -> list[str]:
    ok = sys.tiers[tier].coterminous
    return ["".join("Y" if ok[int(b)] else "N" for b in row if int(b)) for row in blocks]


def _labels_str(sys: System, blocks: np.ndarray) -> list[str]:
    lab = _p.blocks_to_labels(blocks, sys.n)
    return ["".join(LETTERS[x] for x in row) for row in lab]


def add_readable(sys: System, frame: pd.DataFrame, blocks: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    out["blocks"] = [_block_names(sys, r) for r in blocks]
    out["plan"] = [_block_codes(sys, r) for r in blocks]
    out["labels"] = _labels_str(sys, blocks)
    out["test_ii_utla"] = _verdicts(sys, blocks, "utla")
    out["test_ii_ltla"] = _verdicts(sys, blocks, "ltla")
    return out


def _slot_renamer(against: Sequence[str]) -> Callable[[str], str]:
    """``"j_utla"`` → ``"j_cauth"`` when the slots hold other levels (see :data:`TIERS`)."""
    mapping = dict(zip(TIERS, against, strict=True))
    if all(k == v for k, v in mapping.items()):
        return lambda s: s
    pattern = re.compile(r"_(" + "|".join(TIERS) + r")\b")
    return lambda s: pattern.sub(lambda m: "_" + mapping[m.group(1)], s)


def _criterion_text(
    c: str, labels: Mapping[str, str] | None = None, unit_plural: str | None = None
) -> str:
    """What a criterion measures, in the words of the levels its slot holds."""
    text = CRITERIA[c]
    if labels:
        for slot, word in (("utla", "upper"), ("ltla", "lower")):
            text = re.sub(rf"{word}-tier councils?\b", labels[slot], text)
            text = text.replace(f"at {word} tier", f"against {labels[slot]}")
    if unit_plural:
        text = text.replace("CCGs", unit_plural)
    return text


def weights_text(
    weights: Mapping[str, float],
    measure: str,
    labels: Mapping[str, str] | None = None,
    rename: Callable[[str], str] = str,
    unit_plural: str | None = None,
) -> list[str]:
    """One line per weighted criterion: its name, weight and unit, and what it measures.

    Parameters
    ----------
    weights : mapping of str to float
        Weight of each criterion (:data:`~coterminus.plans.tables.CRITERIA`); zero weights are left out.
    measure : {"population", "area"}
        The overlap measure, for the unit of the mismatch criteria.
    labels : mapping of str to str, optional
        Words for the levels of the two slots (``{"utla": "combined authorities", ...}``).
    rename : callable, optional
        Column names as shown (e.g. ``j_utla`` → ``j_cauth``).
    unit_plural : str, optional
        The units' plural ("sub-ICB locations") instead of "CCGs".

    Examples
    --------
    >>> for line in weights_text({"outside_band": 0.25, "mismatch_utla": 1e-5}, "population"):
    ...     print(line)
    outside_band × 0.25: blocks whose population is outside the band
    mismatch_utla × 1e-05 per person (1 per 100,000 people): people (or m²) behind J < 1 at
    upper tier, summed over blocks
    """
    lines = []
    for c, w in weights.items():
        if not w:
            continue
        unit = ""
        if c.startswith(("mismatch", "band_gap")):
            per = "person" if measure == "population" or c == "band_gap" else "m²"
            if per == "person" and w < 1:
                unit = f" per person ({w * 100_000:g} per 100,000 people)"
            else:
                unit = f" per {per}"
        lines.append(f"{rename(c)} × {w:g}{unit}: {_criterion_text(c, labels, unit_plural)}")
    return lines


@dataclass
class MergerResult:
    """Every merger plan of one system, ranked and explained.

    Attributes
    ----------
    system, system_name : str
        E54 code (``None`` for a custom list of units) and name.
    vintage : int
    members : pandas.DataFrame
        The CCGs, indexed by code, with ``name``, ``nhs_code``, ``population``, ``bit`` (the
        unit's position in masks and in ``labels``) and ``letter``.
    n_plans : int
        Plans enumerated (all plans satisfying the constraints).
    weights : dict
        Weight of every criterion (:data:`CRITERIA`), as used.
    top : pandas.DataFrame
        The best ``top`` plans by objective (ties: lowest ``plan_id``): :data:`PLAN_COLUMNS`,
        ``rank``, ``pareto`` (on the front?), ``blocks`` (CCG names per block, ``|`` between
        blocks), ``plan`` (codes), ``labels``, ``test_ii_utla``/``test_ii_ltla`` (Y/N per
        block), ``score_<criterion>`` (weight × value, summing to ``objective``) and
        ``reasons`` (in words).
    best : pandas.Series
        The optimum found by dynamic programming (equals ``top.iloc[0]``).
    pareto : pandas.DataFrame
        Non-dominated plans over ``pareto_on``: one row per distinct criteria vector, with the
        lowest plan id holding it and ``n_plans`` sharing it.
    adjacency : pandas.DataFrame or None
        Edges used for contiguity.
    out : pathlib.Path or None
        The full plan table, if written.
    """

    system: str | None
    system_name: str
    vintage: int | str | None
    measure: str
    tolerance: float
    band: tuple[float, float]
    members: pd.DataFrame
    n_plans: int
    constraints: dict[str, Any]
    weights: dict[str, float]
    pareto_on: list[str]
    top: pd.DataFrame
    best: pd.Series
    pareto: pd.DataFrame
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
        return (
            f"<MergerResult {self.system_name} ({self.system}, {self.vintage}): "
            f"{len(self.members)} {self._system.unit_plural}, {self.n_plans:,} plans; best: "
            f"{self.best['blocks'] if len(self.best) else '-'}>"
        )

    def plans(self, rows: int | None = None) -> list[list[list[str]]]:
        """The top plans as lists of blocks of CCG codes — the form maps and figures take.

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
        """A plain-text report: constraints, weights, the top plans with their reasons."""
        lines = [
            f"{self.system_name} ({self.system or 'custom'}), vintage {self.vintage}: "
            f"{len(self.members)} {self._system.unit_plural}, {self.n_plans:,} plans scored"
            + (
                f" ({', '.join(f'{k}={v}' for k, v in self.constraints.items())})"
                if self.constraints
                else ""
            ),
            f"measure {self.measure}, tolerance ε={self.tolerance:g}, band "
            f"{self.band[0]:,.0f}–{self.band[1]:,.0f} people",
            "objective = Σ over blocks of Σ weight × criterion (lower is better):",
            *[
                f"  {t}"
                for t in weights_text(
                    self.weights,
                    self.measure,
                    self._system.labels,
                    _slot_renamer(self._system.against),
                    self._system.unit_plural,
                )
            ],
            "",
        ]
        for _, r in self.top.head(rows).iterrows():
            lines.append(
                f"#{r['rank']} plan {r['plan_id']} — objective {r['objective']:.4g}, "
                f"{r['n_ccgs']} {self._system.unit_plural}{' (Pareto-optimal)' if r['pareto'] else ''}"
            )
            lines.append(f"  {r['blocks']}")
            lines.append(f"  {r['reasons']}")
        lines.append("")
        lines.append(
            f"Pareto front over {', '.join(self.pareto_on)}: {len(self.pareto)} distinct trade-offs"
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

    def to_dict(self, rows: int | None = None) -> dict[str, Any]:
        """Plain-Python form for JSON."""
        top = self.top if rows is None else self.top.head(rows)
        return {
            "system": self.system,
            "system_name": self.system_name,
            "vintage": self.vintage,
            "measure": self.measure,
            "tolerance": self.tolerance,
            "band": list(self.band),
            "members": json.loads(self.members.reset_index().to_json(orient="records")),
            "n_plans": int(self.n_plans),
            "constraints": self.constraints,
            "weights": self.weights,
            "pareto_on": self.pareto_on,
            "top": json.loads(top.to_json(orient="records")),
            "pareto": json.loads(self.pareto.to_json(orient="records")),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "backend": self.backend,
            **({"modified_data": self.modified_data} if self.modified_data else {}),
        }


def _members_frame(sys: System) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "name": sys.names,
            "nhs_code": sys.nhs,
            "population": sys.population[[1 << i for i in range(sys.n)]].astype(np.int64),
            "bit": np.arange(sys.n),
            "letter": [LETTERS[i] for i in range(sys.n)],
            "system": sys.unit_systems,
        },
        index=pd.Index(sys.codes, name="code"),
    )
    return frame


def _describe_block(sys: System, b: int, tier: str) -> str:
    tt = sys.tiers[tier]
    j = tt.j[b]
    best = [i for i in range(len(tt.la_codes)) if tt.best_fit[b, i]]
    best_names = " + ".join(tt.la_names[i] for i in best) or "no council"
    unit = "people" if sys.measure == "population" else "m²"
    if tt.coterminous[b]:
        return f"coterminous with {best_names} (J={j:.3f})"
    out_bf = tt.outside_best_fit[b]
    bf_out = tt.best_fit_outside[b]
    return (
        f"not coterminous (J={j:.3f}; best fit {best_names}; {out_bf:,.0f} {unit} outside it, "
        f"{bf_out:,.0f} {unit} of it outside the block)"
    )


def _reasons(
    sys: System, blocks: np.ndarray, row: Mapping[str, Any], best_row: Mapping[str, Any] | None
) -> str:
    parts: list[str] = []
    live = [int(b) for b in blocks if int(b)]
    merged = [b for b in live if _p.popcount(np.array([b]))[0] > 1]
    k = len(live)
    parts.append(
        f"{k} {sys.unit_label if k == 1 else sys.unit_plural} after merger (from {sys.n})"
        + (f", {len(merged)} merger{'s' if len(merged) != 1 else ''}" if merged else ", no merger")
    )
    for b in live:
        label = " + ".join(_short(sys.names[i]) for i in range(sys.n) if (b >> i) & 1)
        pop = sys.population[b]
        text = (
            f"[{label}] {pop:,.0f} people: {_slot_words(sys, 'utla')} "
            f"{_describe_block(sys, b, 'utla')}"
        )
        if not sys.tiers["ltla"].coterminous[b]:
            text += f"; {_slot_words(sys, 'ltla')} J={sys.tiers['ltla'].j[b]:.3f}"
        lo, hi = sys.band
        if pop < lo or pop > hi:
            text += f"; outside {lo:,.0f}–{hi:,.0f}"
        parts.append(text)
    for tier in TIERS:
        tt = sys.tiers[tier]
        twice = np.zeros(tt.touched_bits.shape[1], dtype=np.uint64)
        once = np.zeros_like(twice)
        for b in live:
            v = tt.touched_bits[b]
            twice |= once & v
            once |= v
        split = [i for i in range(len(tt.la_codes)) if (int(twice[i // 64]) >> (i % 64)) & 1]
        if split:
            names = ", ".join(f"{tt.la_names[i]} ({tt.in_system[i]:,.0f})" for i in split)
            parts.append(
                f"splits {len(split)} of the {_slot_words(sys, tier)} between blocks: {names}"
            )
    contrib = [f"{w:g}×{row[c]:,.4g} {c}" for c, w in sys.weights.items() if w and c in row]
    contrib_src = " + ".join(contrib)
    parts.append(f"objective {row['objective']:.4g} = {contrib_src}")
    if best_row is not None and row["plan_id"] != best_row["plan_id"]:
        diffs = []
        for c, w in sys.weights.items():
            if w and c in row and row[c] != best_row[c]:
                delta = row[c] - best_row[c]
                diffs.append(f"{c} {delta:+,.4g}")
        gap = row["objective"] - best_row["objective"]
        if diffs:
            parts.append(f"vs the best plan: {gap:+.4g} ({', '.join(diffs)})")
        else:
            parts.append("ties the best plan; ranked after it by plan id")
    return "; ".join(parts)


def _finish_top(sys: System, top: TopK, front_ids: set[int], pareto_on: list[str]) -> pd.DataFrame:
    if top.cols is None or top.cols["plan_id"].size == 0:
        return pd.DataFrame(columns=["rank", *PLAN_COLUMNS, "blocks", "reasons"])
    assert top.blocks is not None
    frame = columns_frame(sys, top.cols)
    frame = add_readable(sys, frame, top.blocks)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["pareto"] = frame["plan_id"].isin(front_ids)
    for c, w in sys.weights.items():
        if w:
            frame[f"score_{c}"] = w * frame[c].astype(float)
    rows: list[dict[str, Any]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    best = rows[0]
    frame["reasons"] = [_reasons(sys, b, r, best) for b, r in zip(top.blocks, rows, strict=True)]
    del pareto_on
    return frame.reset_index(drop=True)


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


def _best_row(sys: System) -> tuple[float, np.ndarray]:
    total, blocks = _p.best_partition(sys.cost, allowed=sys.allowed, n_blocks=sys.n_blocks)
    arr = np.zeros((1, sys.n), dtype=np.int64)
    arr[0, : len(blocks)] = blocks
    return total, arr


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
    try:
        _, blocks = _best_row(sys)
    except ParameterError:
        msg = (
            f"no plan of the {sys.n} CCGs of {sys.name} satisfies the constraints "
            f"{sys.constraints}; relax them."
        )
        raise ParameterError(msg) from None
    count, sums, mins, twice = direct_aggregates(sys, blocks)
    cols = finalise(sys, count, sums, mins, twice)
    cols["objective"] = np.array([_p.ordered_sum(sys.cost, [int(b) for b in blocks[0] if b])])
    cols["plan_id"] = np.array([_plan_id_of(sys, [int(b) for b in blocks[0] if b])])
    frame = add_readable(sys, columns_frame(sys, cols), blocks)
    row: dict[str, Any] = frame.iloc[0].to_dict()  # type: ignore[assignment]
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
) -> MergerResult:
    front_ids = set() if front.ids is None else {int(i) for i in front.ids}
    top_frame = _finish_top(sys, top_k, front_ids, pareto_cols)
    best = best_series(sys)
    if len(top_frame) and int(top_frame["plan_id"].iloc[0]) != int(best["plan_id"]):
        dp_objective = float(np.asarray(best["objective"], dtype=float))
        top_plan = int(top_frame["plan_id"].iloc[0])
        top_objective = float(top_frame["objective"].to_numpy(dtype=float)[0])
        msg = (
            f"the dynamic programme and enumeration disagree on the best plan of {sys.name}: "
            f"plan {best['plan_id']} (objective {dp_objective:.6g}) vs plan "
            f"{top_plan} (objective {top_objective:.6g}). "
            "This is a bug in coterminus, not in your input: please report it with the call "
            "that produced it (best_plan() gives the dynamic programme's answer meanwhile)."
        )
        raise InconsistentResultError(msg)
    best["pareto"] = int(best["plan_id"]) in front_ids
    rename = _slot_renamer(sys.against)
    pareto = _finish_pareto(sys, front)
    for frame in (top_frame, pareto):
        frame.columns = [rename(str(c)) for c in frame.columns]
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: rename(v) if isinstance(v, str) else v)
    best.index = [rename(str(i)) for i in best.index]
    pareto_cols = [rename(c) for c in pareto_cols]
    return MergerResult(
        system=sys.code,
        system_name=sys.name,
        vintage=sys.vintage,
        measure=sys.measure,
        tolerance=sys.tolerance,
        band=sys.band,
        members=_members_frame(sys),
        n_plans=n_done,
        constraints=dict(sys.constraints),
        weights=dict(sys.weights),
        pareto_on=pareto_cols,
        top=top_frame,
        best=best,
        pareto=pareto,
        adjacency=sys.edges,
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
        One row per system (index E54 code): ``name``, ``n_ccgs_now``, ``n_plans``, and the best
        plan's ``n_ccgs``, ``objective``, ``min_j_utla``, ``coterminous_utla``, ``outside_band``,
        ``blocks``, ``reasons``.
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
    constraints: dict[str, Any]
    n_plans: int
    out: Path | None
    seconds: float
    #: The geography's "MODIFIED DATA" stamp (loaded with trust_modified=True), else None.
    modified_data: str | None = None

    def __repr__(self) -> str:
        return (
            f"<NationalResult {self.vintage}: {len(self.results)} systems, "
            f"{self.n_plans:,} plans in {self.seconds:.1f} s>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form for JSON."""
        return {
            "vintage": self.vintage,
            "weights": self.weights,
            "constraints": self.constraints,
            "n_plans": int(self.n_plans),
            "out": str(self.out) if self.out else None,
            "seconds": self.seconds,
            "summary": json.loads(self.summary.reset_index().to_json(orient="records")),
            **({"modified_data": self.modified_data} if self.modified_data else {}),
        }


def national_summary(
    prepared: list[System], counts: list[int], results: Mapping[str, MergerResult]
) -> pd.DataFrame:
    rows = []
    for sys, c in zip(prepared, counts, strict=True):
        r = results.get(str(sys.code))
        best = r.best if r is not None else None
        rows.append(
            {
                "system": sys.code,
                "name": sys.name,
                "n_ccgs_now": sys.n,
                "n_plans": c,
                "n_ccgs": None if best is None else int(best["n_ccgs"]),
                "objective": None if best is None else float(best["objective"]),
                "min_j_utla": None if best is None else float(best["min_j_utla"]),
                "coterminous_utla": None if best is None else int(best["coterminous_utla"]),
                "outside_band": None if best is None else int(best["outside_band"]),
                "blocks": None if best is None else best["blocks"],
                "reasons": None if best is None else best["reasons"],
            }
        )
    return pd.DataFrame(rows).set_index("system")
