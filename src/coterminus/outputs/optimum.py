"""Files of an optimiser run: table, summary, JSON, report section and map of every system.

:func:`write_optimum` writes, into one folder, what ``coterminus optimise --out DIR`` promises:
``optimum.csv`` (one row per unit: its proposed block, today's footprint, a scenario's),
``summary.csv`` (one row per system: proof, gap, time, objective of the optimum and of each
compared footprint set), ``optimum.json``, ``optimum.md`` (the report section: per system the
proof, the plan, the comparison and why an area cannot be coterminous) and ``optimum.png`` (the
map: proposed blocks filled, systems outlined, the first scored level dashed). Every file goes
through :mod:`coterminus.data.atomic`, so nothing is left half-written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..data.atomic import atomic_write, atomic_write_text
from ..errors import OutputError
from ._figure_map import add_north_arrow, add_scale_bar, frame
from .figures import save_figure
from .layers import PLAN_COLOURS

if TYPE_CHECKING:
    from ..geography.bundle import Geography
    from ..plans.regions import RegionalOptimum

__all__ = ["optimum_figure", "optimum_markdown", "write_optimum"]


def optimum_figure(geo: Geography, res: RegionalOptimum) -> Figure:
    """The map of the best plan of every system: blocks filled (neighbours in different
    colours), systems outlined in black, areas of the first scored level dashed."""
    table = res.units_table
    layer = geo.layer(res.units).to_crs(27700)
    g = layer.loc[table["code"].tolist()].reset_index(drop=True)
    g["key"] = (table["system"].astype(str) + ":" + table["block"].astype(str)).to_numpy()
    g["number"] = table["block"].to_numpy()
    blocks = g.dissolve(by="key", aggfunc="first").reset_index()
    # blocks of a system get different colours (numbered 1, 2, ...); systems are outlined
    blocks["colour"] = [PLAN_COLOURS[(int(b) - 1) % len(PLAN_COLOURS)] for b in blocks["number"]]
    fig = Figure(figsize=(8.27, 10.5))
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
    blocks.plot(ax=ax, color=blocks["colour"], edgecolor="white", linewidth=0.4)
    handles = []
    if res.against:
        lv = res.against[0]
        areas = geo.layer(lv).to_crs(27700)
        areas.boundary.plot(ax=ax, color="#333333", linewidth=0.6, linestyle=(0, (3, 2)))
        handles.append(
            Line2D([], [], color="#333333", lw=0.8, ls="--", label=geo.label(lv, plural=True))
        )
    if res.within and res.within in geo.levels:
        systems = geo.layer(res.within).to_crs(27700)
        systems = systems.loc[[c for c in res.results if c in systems.index]]
        systems.boundary.plot(ax=ax, color="black", linewidth=1.4)
        label = geo.label(res.within, plural=True)
        handles.append(Line2D([], [], color="black", lw=1.4, label=label))
    frame(ax, blocks.total_bounds)
    add_scale_bar(ax)
    add_north_arrow(ax)
    proven = sum(r.proven for r in res.results.values())
    fig.text(
        0.03, 0.965,
        f"Best plans of {geo.label(res.units, plural=True)}"
        + (f" within {geo.label(res.within, plural=True)}" if res.within else "")
        + f", {res.vintage}",
        fontsize=13, weight="bold", gid="coterminus-title",
    )  # fmt: skip
    fig.text(
        0.03, 0.94,
        f"{len(blocks)} blocks; {proven} of {len(res.results)} systems proven optimal; scored "
        f"against {', '.join(geo.label(x, plural=True) for x in res.against)}",
        fontsize=9,
    )  # fmt: skip
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    fig.text(0.03, 0.02, geo.attribution or "", fontsize=6, wrap=True)
    return fig


def optimum_markdown(res: RegionalOptimum) -> str:
    """The report section: per system the proof, the best plan, the comparison with the
    compared footprints by the same objective, and why an area cannot be coterminous."""
    lines = [
        f"## Best merger plans: {res.units} within {res.within}, {res.vintage}",
        "",
        f"Each system's {res.units} units were merged into blocks by the objective of "
        "`coterminus mergers` (people, summed over blocks; ties go to the least change) "
        f"against {', '.join(res.against)}, and the result proven optimal by a set-partitioning "
        "MILP (HiGHS) unless a gap is shown.",
        "",
    ]
    lines += [f"*{n}*" for n in res.notes]
    cols = [
        "name",
        "status",
        "gap",
        "seconds",
        "plans_counted",
        "optimum_blocks",
        "optimum_objective",
    ]
    cols += [
        c for lv in res.compared for c in (f"{lv}_blocks", f"{lv}_objective") if c in res.summary
    ]
    if len(res.summary):
        lines += ["", _md_table(res.summary[cols]), ""]
    for code, opt in res.results.items():
        lines += [f"### {opt.system_name} ({code})", "", f"{opt.proof_text()}.", ""]
        if opt.count is not None:
            lines += [f"Plans that keep every rule: {opt.count.text}.", ""]
        lines += [f"Best plan: {opt.best['blocks']}.", ""]
        lines += [f"- {s}" for s in res.explanations.get(code, [])]
        lines += [f"- *{n}*" for n in opt.notes]
        lines.append("")
    for code, why in res.failed.items():
        lines += [f"### {code}: no plan", "", why, ""]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float) and v != v:  # NaN: not measured
            return ""
        if isinstance(v, float):
            return f"{v:,.1f}" if v != round(v) else f"{v:,.0f}"
        return "" if v is None else str(v)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def write_optimum(geo: Geography, res: RegionalOptimum, folder: str | Path) -> list[Path]:
    """Write the files of the module notes into ``folder`` (created if missing); their paths.

    Raises
    ------
    OutputError
        ``folder`` is a file or cannot be created.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the folder {out}: {exc.strerror or exc}; give a writable --out"
        raise OutputError(msg) from exc
    if not out.is_dir():
        msg = f"{out} is not a folder; give a folder for the optimiser's files"
        raise OutputError(msg)
    paths = [
        atomic_write(out / "optimum.csv", lambda p: res.units_table.to_csv(p, index=False)),
        atomic_write(out / "summary.csv", lambda p: res.summary.to_csv(p, index=False)),
        atomic_write_text(
            out / "optimum.json", json.dumps(res.to_dict(), indent=2, default=str) + "\n"
        ),
        atomic_write_text(out / "optimum.md", optimum_markdown(res) + "\n"),
    ]
    if len(res.units_table):
        with mpl.rc_context({"svg.fonttype": "none"}):
            paths.append(save_figure(optimum_figure(geo, res), out / "optimum.png", dpi=150))
    return paths
