"""The alignment scorecard drawn: a national map (print or interactive) and a report section.

Draws an :class:`~coterminus.analysis.alignment.Alignment` (``coterminus.alignment(geo)``):
every unit (ICB) coloured by its status — coterminous with one or more whole authorities, inside
one authority, not coterminous, or in no authority — with the authorities (strategic
authorities) outlined on top, the summary as the title, and the vintage's attribution and notes
(e.g. that the ICB lookup is derived) under the map. The print map uses the public furniture of
:mod:`coterminus.outputs.figures` (scale bar, north arrow, paper sizes, atomic saving); the
interactive map is a plain folium map saved with :func:`coterminus.outputs.maps.save_map`.

Examples
--------
>>> import coterminus
>>> geo = coterminus.load(2026)
>>> a = coterminus.alignment(geo)
>>> fig = scorecard_figure(a, geo)
>>> [t.get_text() for t in fig.texts if t.get_gid() == "coterminus-title"]
['ICBs and strategic authorities, 2026']
>>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "coterminus-label")[:2]
['Cumbria', 'East Midlands']
>>> html = scorecard_html(a, geo, figure=False)
>>> "Greater Manchester" in html and "no ONS code yet" in html
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import jinja2
import markupsafe
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._version import __version__
from ..analysis.alignment import UNIT_COLUMNS, Alignment
from ..data.atomic import atomic_write, atomic_write_text, check_output_path
from ..errors import OutputError
from ._figure_map import LEGEND_GID, cased, fit_frame, frame, place_furniture
from ._labels import Label, place
from ._page import compose, new_figure, page_margins, plain_text
from ._split_figure import short_names
from .figures import save_figure
from .layers import vintage_attribution
from .maps import save_map

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = [
    "SCORECARD_SUFFIXES",
    "STATUS_STYLE",
    "save_scorecard",
    "scorecard_figure",
    "scorecard_html",
    "scorecard_map",
    "split_authorities",
]

#: How each unit status is drawn: fill colour, hatch (so the classes differ in greyscale), words.
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "coterminous": ("#1b7837", "", "coterminous with one or more whole {authorities}"),
    "inside one": ("#a6dba0", "..", "inside one {authority} (part of it)"),
    "not coterminous": ("#f4a582", "//", "not coterminous ({authorities} split or crossed)"),
    "no authority": ("#e0e0e0", "", "with none of their people in any {authority}"),
}
#: Suffixes :func:`save_scorecard` writes: a report (.html, .pdf) or a map (.png, .svg); an
#: interactive map is ``.html`` with ``kind="map"``.
SCORECARD_SUFFIXES = (".html", ".htm", ".pdf", ".png", ".svg")


def _notes_text(a: Alignment, geo: Geography) -> str:
    licence = vintage_attribution(geo)  # it leads with the geography's notes: each said once
    notes = [n for n in a.notes if n.rstrip(".") not in licence]
    parts = [f"People: {a.population_label}", *notes, licence]
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


def split_authorities(a: Alignment) -> pd.DataFrame:
    """The authorities split between units: people in two or more, less than 1 − ε in one.

    Rows of :attr:`Alignment.authorities` (those counted as split in the summary), largest
    population first.

    Examples
    --------
    >>> import coterminus
    >>> sorted(split_authorities(coterminus.alignment(coterminus.load(2026)))["name"])[:3]
    ['Cumbria', 'East Midlands', 'Greater Lincolnshire']
    """
    auth = a.authorities
    split = auth[(auth["population"] > 0) & ~auth["within_one_unit"].astype(bool)]
    return split.sort_values("population", ascending=False, kind="stable")


def _split_key(a: Alignment, geo: Geography, split: pd.DataFrame) -> str:
    """Each split authority and the units holding its people (short names, shares)."""
    words = a.labels
    if not len(split):
        return f"Every {words['authority']} lies within one {words['unit']}."
    short = _short_names([str(n) for n in geo.layer(a.level)["name"]])
    names = re.compile("|".join(re.escape(n) for n in sorted(short, key=len, reverse=True)))
    lines = [
        f"{str(words['authorities']).capitalize()} split between {words['units']} (named on "
        f"the map), with the share of their people in each:"
    ]
    for _, r in split.iterrows():
        held = names.sub(lambda m: short[m.group(0)], str(r["units"]))
        lines.append(f"{r['name']}: {held}")
    return "\n".join(lines)


def _short_names(full: list[str]) -> dict[str, str]:
    """Each name less the words most names start and end with ("NHS … Integrated Care Board");
    a name without them (e.g. a scenario's merged unit) is kept whole.

    Examples
    --------
    >>> _short_names(["NHS Devon ICB", "NHS Kent ICB", "Devon + Kent"])["NHS Kent ICB"]
    'Kent'
    """
    words = [n.split() or [""] for n in full]
    first = Counter(w[0] for w in words).most_common(1)[0][0]
    last = Counter(w[-1] for w in words).most_common(1)[0][0]
    group = [n for n, w in zip(full, words, strict=True) if w[0] == first and w[-1] == last]
    out = dict(zip(full, full, strict=True))
    if len(group) >= 2:
        out.update(zip(group, short_names(group), strict=True))
    return out


def _split_labels(geo: Geography, a: Alignment, split: pd.DataFrame) -> list[Label]:
    auth = geo.layer(a.authority_level).geometry
    return [
        Label(
            str(r["name"]),
            auth.loc[r["code"]],
            sizes=(7.5, 6.5, 6.0),
            leader=True,
            bold=True,
            zorder=12,
            box_alpha=0.85,
        )
        for _, r in split.iterrows()
        if r["code"] in auth.index
    ]


def scorecard_figure(
    a: Alignment,
    geo: Geography,
    *,
    paper: Literal["a4", "letter"] = "a4",
    title: str | None = None,
) -> Figure:
    """National print map of the scorecard: units by status, authorities outlined, the
    authorities split between units named on the map and listed with their units under it.

    Parameters
    ----------
    a : Alignment
    geo : Geography
        The geography ``a`` was computed on (it has ``a.level`` and ``a.authority_level``).
    paper : {"a4", "letter"}
    title : str, optional
        Default: "<units> and <authorities>, <vintage>"; the scorecard's summary is the
        subtitle.

    Returns
    -------
    matplotlib.figure.Figure
        A whole page: title, summary, the map (every split authority named, beside its area
        with a leader line when it does not fit inside), the key, the split authorities with
        the share of their people in each unit, and the notes and licence.
    """
    units = geo.layer(a.level)
    auth = geo.layer(a.authority_level)
    status = a.units.set_index("code")["status"].reindex(units.index)
    split = split_authorities(a)
    size, margins_in = page_margins(None, paper)
    words = {"authority": a.labels["authority"], "authorities": a.labels["authorities"]}
    with plain_text():
        fig = new_figure(size)  # shows itself in Jupyter, no magic
        ax = fig.add_axes((0, 0, 1, 1))
        handles: list[Patch] = []
        for key, (colour, hatch, w) in STATUS_STYLE.items():
            part = units[(status == key).to_numpy()]
            if not len(part):
                continue
            part.plot(
                ax=ax, facecolor=colour, edgecolor="#444444", linewidth=0.4, hatch=hatch, zorder=1
            )
            ax.collections[-1].set_gid(LEGEND_GID + key)
            handle = Patch(
                facecolor=colour,
                edgecolor="#444444",
                hatch=hatch,
                label=f"{a.labels['units']} {w.format(**words)}",
            )
            handle.set_gid(LEGEND_GID + key)
            handles.append(handle)
        auth.boundary.plot(ax=ax, color="black", linewidth=1.2, zorder=3, path_effects=cased(1.2))
        ax.collections[-1].set_gid(LEGEND_GID + "authorities")
        outline = Patch(
            facecolor="none", edgecolor="black", linewidth=1.2, label=words["authorities"]
        )
        outline.set_gid(LEGEND_GID + "authorities")
        handles.append(outline)
        bounds = np.asarray(units.total_bounds)
        geoms = np.asarray(units.geometry.to_numpy())
        labels = _split_labels(geo, a, split)

        def fit(aspect: float) -> None:
            frame(ax, fit_frame(bounds, bounds, aspect))

        def label() -> list[str]:
            place_furniture(ax, geoms, np.empty(0, dtype=object))
            return place(ax, labels)

        compose(
            fig,
            ax,
            margins_in=margins_in,
            title=title or f"{a.labels['units']} and {words['authorities']}, {a.vintage}",
            subtitle=a.summary,
            keys=[(handles, 1, None)],
            note=_notes_text(a, geo),
            label=label,
            caption=_split_key(a, geo, split),
            fit=fit,
        )
    return fig


def _geojson(gdf: Any, columns: list[str]) -> dict[str, Any]:
    shown = gdf[[*columns, "geometry"]].to_crs(4326)
    return dict(shown.__geo_interface__)


def scorecard_map(a: Alignment, geo: Geography) -> folium.Map:
    """Interactive national map: units by status (tooltips with J and the smallest change),
    authorities outlined, attribution and notes in the corner.

    Save it with :func:`save_scorecard` (``kind="map"``, ``offline=True`` embeds Leaflet).
    """
    units = geo.layer(a.level)[["name", "geometry"]].copy()
    table = a.units.set_index("code").reindex(units.index)
    units["status"] = table["status"].to_numpy()
    units["J"] = [f"{x:.4f}" for x in table["J"]]
    units["smallest change"] = table["smallest_change"].fillna("").to_numpy()
    auth = geo.layer(a.authority_level)
    auth_table = a.authorities.set_index("code").reindex(auth.index)
    auth = auth[["name", "geometry"]].copy()
    for col in ("kind", "established", "ons_code"):
        if col in auth_table.columns:
            auth[col] = auth_table[col].astype(str).to_numpy()
    auth["ICBs"] = auth_table["units"].to_numpy()
    b = units.to_crs(4326).total_bounds
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    colours = {k: v[0] for k, v in STATUS_STYLE.items()}
    folium.GeoJson(
        _geojson(units, ["name", "status", "J", "smallest change"]),
        name=a.labels["units"],
        style_function=lambda f: {
            "fillColor": colours.get(f["properties"]["status"], "#ffffff"),
            "color": "#444444",
            "weight": 0.6,
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "status", "J", "smallest change"]),
    ).add_to(m)
    auth_fields = [
        c for c in ("name", "kind", "established", "ons_code", "ICBs") if c in auth.columns
    ]
    folium.GeoJson(
        _geojson(auth, auth_fields),
        name=a.labels["authorities"],
        style_function=lambda f: {"fillOpacity": 0.0, "color": "#000000", "weight": 2.0},
        tooltip=folium.GeoJsonTooltip(fields=auth_fields),
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    words = {"authority": a.labels["authority"], "authorities": a.labels["authorities"]}
    legend = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};'
        f'border:1px solid #444;margin-right:4px"></span>{w.format(**words)}</div>'
        for c, _, w in STATUS_STYLE.values()
    )
    note = markupsafe.escape(_notes_text(a, geo))
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        folium.Element(
            '<div style="position:fixed;bottom:8px;left:8px;z-index:9999;max-width:520px;'
            'background:white;padding:6px 8px;font:11px sans-serif;border:1px solid #999">'
            f"<b>{markupsafe.escape(a.summary)}</b>{legend}<div>{note}</div></div>"
        )
    )
    return m


_TEMPLATE = """\
<section class="scorecard">
<h2>Alignment of {{ a.labels.units }} with {{ a.labels.authorities }} ({{ a.vintage }})</h2>
<p class="explain">{{ a.summary }}</p>
<p class="note">People: {{ a.population_label }}. Tolerance ε = {{ a.tolerance }}: coterminous when
J ≥ {{ 1 - a.tolerance }}.{% for n in a.notes %} {{ n }}{% endfor %}</p>
{% if figure %}<figure><img alt="national map of the scorecard" src="data:image/png;base64,{{ figure }}"></figure>{% endif %}
<h3>{{ a.labels.units|capitalize }}</h3>
<table><thead><tr>{% for c in unit_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in units %}<tr>{% for c in unit_columns %}<td>{{ r[c] if r[c] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<h3>{{ a.labels.authorities|capitalize }}</h3>
<table><thead><tr>{% for c in auth_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in authorities %}<tr>{% for c in auth_columns %}<td>{{ r[c] if r[c] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
</section>
"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="coterminus {{ version }}">
<title>{{ title }}</title>
<style>
body { font: 13px/1.4 "DejaVu Sans", Arial, sans-serif; max-width: 1100px; margin: 0 auto; padding: 20px; }
h2 { border-bottom: 2px solid #005eb8; }
table { border-collapse: collapse; width: 100%; font-size: 11px; margin-bottom: 14px; }
th, td { border: 1px solid #ccc; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #eef3f9; }
.explain { background: #f5f7fa; border: 1px solid #dde3ea; padding: 8px 12px; }
figure img { width: 100%; border: 1px solid #ddd; }
footer { font-size: 10px; color: #444; border-top: 1px solid #ccc; margin-top: 20px; padding-top: 6px; }
@media print { @page { size: A4 portrait; margin: 15mm; } body { max-width: none; padding: 0; } }
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">coterminus {{ version }} · geography {{ vintage }} · generated {{ generated }}</p>
{{ sections }}
<footer>{{ attribution }}</footer>
</body></html>
"""


def _png(fig: Figure, dpi: int = 130) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def scorecard_html(a: Alignment, geo: Geography, *, figure: bool = True) -> str:
    """The scorecard as an HTML ``<section>``: summary, notes, map, unit and authority tables.

    Column names are those of :attr:`Alignment.units` and :attr:`Alignment.authorities`, as
    printed by ``coterminus alignment`` and written to CSV.
    """
    units = a.units.copy()
    units["J"] = units["J"].map(lambda x: f"{x:.4f}")
    auth = a.authorities.copy()
    auth["share_in_main"] = auth["share_in_main"].map(lambda x: f"{x:.1%}")
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        a=a,
        figure=_png(scorecard_figure(a, geo)) if figure else None,
        unit_columns=list(UNIT_COLUMNS),
        units=units.astype(object).where(units.notna(), None).to_dict("records"),
        auth_columns=list(auth.columns),
        authorities=auth.astype(object).where(auth.notna(), None).to_dict("records"),
    )


def _page(sections: list[str], geo: Geography, title: str) -> str:
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_PAGE).render(
        title=title,
        version=__version__,
        vintage=geo.vintage,
        generated=_dt.date.today().isoformat(),
        sections=markupsafe.Markup("\n".join(sections)),
        attribution=vintage_attribution(geo),
    )


def save_scorecard(
    alignments: Alignment | list[Alignment],
    geo: Geography,
    path: str | Path,
    *,
    kind: Literal["report", "map"] = "report",
    offline: bool = False,
    paper: Literal["a4", "letter"] = "a4",
) -> Path:
    """Write the scorecard: a report (``.html``/``.pdf``: one section per scorecard), an
    interactive map (``.html`` with ``kind="map"``) or a print map (``.png``/``.pdf``/``.svg``
    with ``kind="map"``).

    Raises
    ------
    OutputError
        Unknown suffix, missing or read-only folder (checked before anything is drawn).
    """
    items = alignments if isinstance(alignments, list) else [alignments]
    p = check_output_path(path, suffixes=SCORECARD_SUFFIXES)
    suffix = p.suffix.lower()
    if kind == "map":
        if suffix in (".html", ".htm"):
            return save_map(scorecard_map(items[-1], geo), p, offline=offline)
        return save_figure(scorecard_figure(items[-1], geo, paper=paper), p)
    if suffix in (".png", ".svg"):
        msg = f"a scorecard report is .html or .pdf, not {suffix}; for a map use --map {p.name}."
        raise OutputError(msg)
    title = f"Alignment scorecard, {geo.vintage}"
    page = _page([scorecard_html(x, geo) for x in items], geo, title)
    if suffix == ".pdf":
        weasyprint = _weasyprint()
        return atomic_write(p, lambda q: weasyprint.HTML(string=page).write_pdf(q))
    return atomic_write_text(p, page)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        msg = (
            "writing PDF needs WeasyPrint and the Pango libraries: pip install 'coterminus[pdf]' "
            f"(and Debian's libpango-1.0-0), or write .html ({exc})."
        )
        raise OutputError(msg) from exc
    return weasyprint
