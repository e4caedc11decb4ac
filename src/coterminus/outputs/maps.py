"""Interactive maps (folium/Leaflet) of a footprint, a merger plan or every system.

One call from a notebook returns a :class:`folium.Map`; :func:`save_map` writes it as one HTML
file. The map works at any level of any vintage — CCGs in 2019, sub-ICB locations and ICBs in
2024, a scenario's proposed areas — against any levels (``against=``: upper and lower tier,
combined authorities...), and takes every word from the geography's level labels. It shows

* the footprint outline (or each new unit of a merger plan, one colour each),
* its member units, and the units around it as a light context,
* each level assessed against as a layer you can switch on and off, each area shaded by the
  share of it inside the footprint, with the split areas outlined in red (dashed); a level
  covering part of England (combined authorities) has nothing over the blocks outside it,
* the names of the areas behind every mismatch on the map, placed so that none overlaps
  another or the legend, and listed in the legend with the people behind each,
* tooltips with names and figures, a legend listing exactly what is drawn, a layer control,
  a scale, and the vintage's attribution (once),

and is framed on the footprint, clear of the legend and the layer control. Every boundary is
a dark line with a white halo, visible over dark fills and light ones. Boundaries are
simplified for display as a coverage in metres before reprojection (see
:mod:`coterminus.outputs._simplify`), so neighbours still touch and one system is well under
1 MB. With ``DrawOptions(offline=True)`` the page embeds the Leaflet JavaScript and CSS it needs
(:mod:`coterminus.outputs._leaflet`) and loads nothing from the network; no web map tiles are
drawn unless you ask for them.

Every name shown in the page is HTML-escaped (or set as text). What is drawn
(:class:`MapLayers`) is built in :mod:`coterminus.outputs.layers` from a result, shared with
the print figures and the report; this module draws it with folium and writes the page.

Examples
--------
>>> import coterminus
>>> from coterminus.outputs import maps
>>> geo = coterminus.load(2019)
>>> m = maps.footprint_map(geo, system="Coventry and Warwickshire",
...                        draw=maps.DrawOptions(offline=True))
>>> maps.save_map(m, "cw.html")
PosixPath('cw.html')
>>> maps.plan_map(geo, [["E38000038", "E38000195"], ["E38000164"]])
<folium.folium.Map object at ...>
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from ..data.atomic import atomic_write_text, check_output_path
from ..vocabulary.words import cap, number
from ._build import plan_assessments
from ._leaflet import configure_assets, offline_html
from ._model import CONTEXT_EDGE, CONTEXT_FILL
from ._simplify import to_display, warn_if_large
from .layers import (
    ATTRIBUTION,
    PLAN_COLOURS,
    SHARE_COLOURS,
    SPLIT_COLOUR,
    MapLayers,
    attribution,
    map_layers,
    normalise_plan,
    outside_sentence,
    plan_layers,
    plan_units,
    share_classes,
    share_source,
    tier_name,
    vintage_attribution,
)
from .options import DrawOptions, PlanLike, merge_legacy

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography

# The layer data (MapLayers, map_layers, plan_units...) lives in coterminus.outputs.layers; it
# is re-exported here, where the maps have always offered it.
__all__ = [
    "ATTRIBUTION",
    "MAP_SUFFIXES",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
    "DrawOptions",
    "MapLayers",
    "attribution",
    "draw_layers",
    "footprint_map",
    "map_layers",
    "normalise_plan",
    "offline_html",
    "outside_sentence",
    "plan_map",
    "plan_units",
    "save_map",
    "share_classes",
    "share_source",
    "vintage_attribution",
]

log = logging.getLogger(__name__)

#: Suffixes :func:`save_map` writes.
MAP_SUFFIXES = (".html", ".htm")
#: Budgets (bytes of boundary data) above which a warning says how big the page will be.
_MAX_BYTES = 5_000_000
#: The drawing keywords the map functions took before :class:`DrawOptions` (deprecated).
_LEGACY = ("tier", "offline", "simplify_m", "tiles", "precision")
#: Map panes (z-index): the context under everything, the areas, then every line and label.
_PANES = {"ct-context": 350, "ct-areas": 410, "ct-lines": 450}

_CSS = (
    "<style>.leaflet-container{background:#fbfbfa;}"
    ".leaflet-ct-lines-pane path,.leaflet-ct-areas-pane path{"
    "filter:drop-shadow(0 0 1px #fff) drop-shadow(0 0 .5px #fff);}"
    ".coterminus-legend{background:rgba(255,255,255,.95);padding:7px 9px;"
    "font:12px/1.35 Arial,Helvetica,sans-serif;max-width:270px;max-height:55vh;"
    "overflow:auto;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);}"
    ".coterminus-legend h4{margin:0 0 4px;font-size:13px;}"
    ".coterminus-legend .sw{display:inline-block;width:16px;height:12px;"
    "margin-right:6px;vertical-align:middle;border:1px solid #555;}"
    ".coterminus-legend .who{margin:4px 0 0;padding-left:16px;}"
    ".coterminus-legend details{margin-top:4px;}"
    ".coterminus-legend .src{margin-top:6px;font-size:10px;color:#333;}"
    ".ct-label{background:none;border:none;}"
    ".ct-label span{position:absolute;left:0;top:0;white-space:nowrap;"
    "font:bold 12px/1.2 Arial,Helvetica,sans-serif;color:#111;background:rgba(255,255,255,.85);"
    "padding:1px 4px;border-radius:3px;pointer-events:none;"
    "transform:translate(-50%,-50%);}"
    ".leaflet-control-attribution{max-width:46vw;white-space:normal;font-size:10px;}"
    "</style>"
)


# ------------------------------------------------------------------------------------------
# drawing
# ------------------------------------------------------------------------------------------
def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _new_map(bounds4326: np.ndarray, *, tiles: str | None, offline: bool) -> folium.Map:
    minx, miny, maxx, maxy = bounds4326
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=tiles,
        zoom_snap=0.1,
        zoom_delta=0.5,
    )
    configure_assets(m, offline)
    root: Any = m.get_root()
    root.header.add_child(folium.Element(_CSS), name="coterminus_css")
    return m


def _panes(m: folium.Map) -> None:
    for name, z in _PANES.items():
        if name not in m._children:
            m.add_child(folium.map.CustomPane(name, z_index=z), name=name)


def _macro(template: str, **attrs: object) -> MacroElement:
    el = MacroElement()  # type: ignore[no-untyped-call]  # branca is untyped
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


#: The legend, the scale, the attribution (once), the frame (clear of the legend and the
#: layer control) and the names of the areas behind each mismatch (never overlapping).
_LEGEND_TEMPLATE = """
{% macro script(this, kwargs) %}
(function() {
    var map = {{ this._parent.get_name() }};
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "coterminus-legend");
        div.innerHTML = {{ this.legend_html|tojson }};
        L.DomEvent.disableScrollPropagation(div);
        L.DomEvent.disableClickPropagation(div);
        return div;
    };
    legend.addTo(map);
    L.control.scale({imperial: false, position: "bottomright"}).addTo(map);
    if (map.attributionControl) {
        map.attributionControl.setPrefix(false);
        map.attributionControl.addAttribution({{ this.attribution|tojson }});
    }
    var focus = L.latLngBounds({{ this.focus|tojson }});
    var items = {{ this.labels|tojson }};
    var markers = items.map(function (it) {
        var icon = L.divIcon({className: "ct-label", html: "<span></span>", iconSize: null});
        var mk = L.marker([it.lat, it.lng], {icon: icon, interactive: false, keyboard: false,
                                             pane: "markerPane"});
        mk.addTo(map);
        var span = mk.getElement().firstChild;
        span.textContent = it.name;
        span.setAttribute("data-ct-label", it.name);
        span.title = it.detail;
        return mk;
    });
    function rect(el) { return el ? el.getBoundingClientRect() : null; }
    function hit(a, b) {
        return a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
    }
    function obstacles() {
        var c = map.getContainer();
        return Array.prototype.map.call(
            c.querySelectorAll(".leaflet-control"), function (el) { return rect(el); });
    }
    function placeLabels() {
        var box = rect(map.getContainer());
        var kept = obstacles();
        var offsets = [[0, 0], [0, -18], [0, 18], [-60, 0], [60, 0], [0, -34], [0, 34],
                       [-60, -18], [60, -18], [-60, 18], [60, 18]];
        markers.forEach(function (mk) {
            var el = mk.getElement();
            var span = el.firstChild;
            el.style.display = "";
            var ok = false;
            for (var i = 0; i < offsets.length && !ok; i++) {
                span.style.transform = "translate(calc(-50% + " + offsets[i][0] + "px), " +
                                       "calc(-50% + " + offsets[i][1] + "px))";
                var r = rect(span);
                var inside = r.left >= box.left && r.right <= box.right &&
                             r.top >= box.top && r.bottom <= box.bottom;
                ok = inside && !kept.some(function (k) { return hit(r, k); });
                if (ok) { kept.push(r); }
            }
            el.style.display = ok ? "" : "none";
        });
    }
    function fit() {
        var c = map.getContainer();
        var size = map.getSize();
        var leg = rect(legend.getContainer());
        var ctl = c.querySelector(".leaflet-control-layers");
        var att = c.querySelector(".leaflet-control-attribution");
        var padL = leg ? leg.width + 16 : 12;
        var padR = ctl ? rect(ctl).width + 16 : 12;
        if (size.x - padL - padR < 0.45 * size.x) { padL = 12; padR = 12; }
        var padB = Math.max(att ? rect(att).height : 0, 34) + 26;  // attribution and scale
        map.fitBounds(focus, {paddingTopLeft: [padL, 16], paddingBottomRight: [padR, padB],
                              animate: false});
        placeLabels();
    }
    map.on("zoomend moveend", placeLabels);
    setTimeout(fit, 0);
})();
{% endmacro %}
"""


def _swatch(style: str) -> str:
    return f"<span class='sw' style='{style}'></span>"


def _legend_html(layers: MapLayers, tiers: Sequence[str]) -> str:
    """The legend: only what the map draws, the areas behind each mismatch, the verdicts."""
    out = [f"<h4>{_esc(layers.title)} ({_esc(layers.vintage)})</h4>"]
    word = layers.area_word
    head = tiers[0]
    shaded = layers.councils[head]
    if layers.kind == "plan":
        for _g, r in layers.outlines.iterrows():
            out.append(
                f"<div>{_swatch(f'background:{r.colour};opacity:.8')}{_esc(r['name'])}</div>"
            )
        if len(shaded):
            out.append(
                f"<div>{_swatch('background:none;border:2px solid #222')}"
                f"{_esc(layers.label(head))} boundary</div>"
            )
    else:
        present = set(shaded["share_class"]) if len(shaded) else set()
        if present:
            out.append(f"<div><b>{_esc(layers.share_label)}</b></div>")
        for cls, label, colour in share_classes(layers.tolerance):
            if cls in present:
                out.append(f"<div>{_swatch(f'background:{colour}')}{_esc(label)}</div>")
        out.append(
            f"<div>{_swatch('background:none;border:3px solid #000')}"
            + _esc(f"{layers.group_word} outline")
            + "</div>"
        )
    if len(shaded) and bool((shaded["status"] == "split").any()):
        out.append(
            f"<div>{_swatch(f'background:none;border:2px dashed {SPLIT_COLOUR}')}"
            f"split {word} ({'people' if layers.measure == 'population' else 'area'} on both "
            "sides of the line)</div>"
        )
    out.append(
        f"<div>{_swatch('background:none;border:1px dashed #444')}"
        f"{_esc(layers.label(layers.units))} boundary</div>"
    )
    if len(layers.context):
        out.append(
            f"<div>{_swatch(f'background:{CONTEXT_FILL};border:1px solid {CONTEXT_EDGE}')}"
            f"other {_esc(layers.label(layers.units, plural=True))}</div>"
        )
    c = layers.callouts
    if len(c):
        c = c[c["level"].isin(list(tiers))]
    if len(c):
        items = "".join(
            f"<li><b>{_esc(r['name'])}</b> ({_esc(layers.label(str(r['level'])))}): "
            f"{_esc(r['short'])}</li>"
            for _, r in c.head(12).iterrows()
        )
        more = f"<li>and {len(c) - 12} more</li>" if len(c) > 12 else ""
        what = "Behind the mismatch" if layers.kind == "footprint" else "Split"
        out.append(f"<div><b>{what}</b> (named on the map)<ul class='who'>{items}{more}</ul></div>")
    if layers.kind != "systems":
        verdicts = []
        for _, r in layers.outlines.iterrows():
            test_i = f"; test I: {_esc(r['test_i'])}" if r["test_i"] else ""
            verdicts.append(
                f"<div><b>{_esc(r['name'])}</b>: {_esc(r['test_ii'])}{test_i}. "
                f"Outside: {_esc(r['outside'])}.</div>"
            )
        out.append("<details><summary>Verdicts</summary>" + "".join(verdicts) + "</details>")
    if len(layers.slivers):
        out.append(f"<div class='src'>{_esc(layers.sliver_note())}</div>")
    simp = f"{layers.simplify_m:g} m" if layers.simplify_m else "not simplified"
    out.append(
        "<div class='src'>"
        + _esc(layers.source)
        + f"; ε = {layers.tolerance:g}; drawn for display {simp}.</div>"
    )
    return "".join(out)


def _feature_collection(gdf: gpd.GeoDataFrame, props: dict[str, list[str]]) -> dict[str, Any]:
    """GeoJSON of a display layer with string (already escaped) properties; ids = codes."""
    geoms = json.loads(gpd.GeoSeries(gdf.geometry.to_numpy(), crs=gdf.crs).to_json(drop_id=True))
    feats = []
    for i, (code, feat) in enumerate(zip(gdf.index, geoms["features"], strict=True)):
        feats.append(
            {
                "type": "Feature",
                "id": str(code),
                "properties": {k: v[i] for k, v in props.items()},
                "geometry": feat["geometry"],
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _council_layer(
    layers: MapLayers, tier: str, precision: int, *, show: bool, filled: bool
) -> folium.GeoJson:
    c = layers.councils[tier]
    d = to_display(c, precision=precision)
    measure = layers.measure
    where = {
        "footprint": "Inside the footprint",
        "plan": f"In one {layers.group_word}",
        "systems": f"In one {layers.group_word}",
    }[layers.kind]
    plural_group = (
        f"new {layers.label(layers.units, plural=True)}"
        if layers.kind == "plan"
        else (layers.label(layers.within, plural=True) if layers.within else "groups")
    )
    props: dict[str, list[str]] = {
        "council": [_esc(f"{n} ({k})") for k, n in zip(c.index, c["name"], strict=True)],
        "total": [_esc(number(x, measure)) for x in c["la_total"]],
        "inside": [
            _esc(f"{number(a, measure)} ({s:.1%})")
            for a, s in zip(c["in_group"], c["share"], strict=True)
        ],
        "status": [
            _esc(f"{st}" + (f", across {n} {plural_group}" if n > 1 else ""))
            for st, n in zip(c["status"], c["n_groups"], strict=True)
        ],
    }
    fields = ["council", "total", "inside", "status"]
    aliases = [
        _esc(layers.label(tier, cap=True)),
        "Population" if measure == "population" else "Area",
        _esc(where),
        "Status",
    ]
    if layers.kind != "footprint":
        props["group"] = [_esc(x) for x in c["group_name"]]
        fields.insert(2, "group")
        aliases.insert(2, "Largest share in")
    styles: dict[str, dict[str, object]] = {}
    heavy = tier == layers.against[0]
    for code, cls, status in zip(c.index, c["share_class"], c["status"], strict=True):
        split = status == "split" and heavy
        styles[str(code)] = {
            "fillColor": SHARE_COLOURS[cls],
            "fillOpacity": 0.7 if filled else 0.0,
            "fill": filled,
            "color": SPLIT_COLOUR if split else "#333333",
            "weight": 3.0 if split else (1.4 if heavy else 1.0),
            "dashArray": "7 4" if split else (None if heavy else "2 3"),
            "opacity": 1.0,
        }
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(layers.label(tier, plural=True, cap=True)),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
        pane="ct-areas" if filled else "ct-lines",
    )


def _member_layer(layers: MapLayers, precision: int, *, show: bool) -> folium.GeoJson:
    c = layers.members
    d = to_display(c, precision=precision)
    props = {
        "unit": [_esc(f"{n} ({k})") for k, n in zip(c.index, c["name"], strict=True)],
        "nhs": [_esc(x) for x in c["nhs_code"]],
        "population": [_esc(number(x, "population")) for x in c["population"]],
        "group": [_esc(x) for x in c["group_name"]],
    }
    fields = ["unit", "nhs", "population", "group"]
    filled = layers.kind == "plan"
    styles = {
        str(k): {
            "color": "#222222",
            "weight": 1.2,
            "dashArray": "4 3",
            "fill": filled,
            "fillColor": col,
            "fillOpacity": 0.55,
        }
        for k, col in zip(c.index, c["colour"], strict=True)
    }
    aliases = [
        _esc(layers.label(layers.units, cap=True)),
        "NHS code",
        "Population",
        _esc(cap(layers.group_word)),
    ]
    if not any(c["nhs_code"]):
        del props["nhs"]
        fields.remove("nhs")
        aliases.remove("NHS code")
    plural = layers.label(layers.units, plural=True)
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(f"Member {plural}" if not filled else f"New {plural}"),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
        pane="ct-areas" if filled else "ct-lines",
    )


def _outline_layer(layers: MapLayers, precision: int) -> folium.GeoJson:
    o = layers.outlines
    d = to_display(o, precision=precision)
    plural = layers.label(layers.units, plural=True)
    props = {
        "name": [_esc(x) for x in o["name"]],
        "population": [_esc(number(x, layers.measure)) for x in o["population"]],
        "members": [_esc(x) for x in o["members"]]
        if layers.kind != "systems"
        else [_esc(f"{n} {plural}") for n in o["n_members"]],
        "test_ii": [_esc(x) for x in o["test_ii"]],
        "outside": [_esc(x) for x in o["outside"]],
    }
    fields = ["name", "population", "members", "test_ii", "outside"]
    aliases = [
        "Name",
        "Population" if layers.measure == "population" else "Area",
        _esc(cap(plural)),
        "Test II",
        "Outside",
    ]
    if layers.kind != "systems" and any(o["test_i"]):
        props["test_i"] = [_esc(x) for x in o["test_i"]]
        fields.append("test_i")
        aliases.append("Test I")
    styles = {
        str(k): {
            "color": "#000000",
            "weight": 4 if layers.kind != "systems" else 2.5,
            "fill": False,
            "opacity": 1.0,
        }
        for k in o.index
    }
    name = {"footprint": "Footprint", "plan": f"New {plural} (outlines)"}
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(name.get(layers.kind, f"{cap(layers.group_word)} outlines")),
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 6},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
        pane="ct-lines",
    )


def _context_layer(layers: MapLayers, precision: int) -> folium.GeoJson:
    ctx = gpd.GeoDataFrame(geometry=layers.context.to_numpy(), crs=layers.context.crs)
    ctx.index = [str(i) for i in layers.context.index]
    d = to_display(ctx, precision=precision)
    return folium.GeoJson(
        _feature_collection(d, {}),
        name="context",
        style_function=lambda f: {
            "fillColor": CONTEXT_FILL,
            "fillOpacity": 1.0,
            "color": CONTEXT_EDGE,
            "weight": 0.8,
        },
        interactive=False,
        control=False,
        pane="ct-context",
    )


def _label_points(layers: MapLayers, tiers: Sequence[str]) -> list[dict[str, object]]:
    """Where to name each area behind a mismatch: a point of its part inside the frame."""
    c = layers.callouts
    if not len(c):
        return []
    c = c[c["drawn"] & c["level"].isin(list(tiers))]
    view = shapely.box(*layers.frame)
    out = []
    for _, r in c.iterrows():
        if r.geometry is None:
            continue
        part = r.geometry.intersection(view)
        if part.is_empty:
            continue
        pt = gpd.GeoSeries([shapely.point_on_surface(part)], crs=c.crs).to_crs(4326).iloc[0]
        out.append(
            {
                "name": str(r["name"]),
                "lat": round(float(pt.y), 6),
                "lng": round(float(pt.x), 6),
                "detail": str(r["detail"]),
            }
        )
    return out


def draw_layers(
    layers: MapLayers,
    draw: DrawOptions | None = None,
    *,
    m: folium.Map | None = None,
    **legacy: object,
) -> folium.Map:
    """Draw :class:`MapLayers` on a new (or the given) :class:`folium.Map`.

    Layers, bottom to top: the context, the levels assessed against (the headline level on
    top, the others starting switched off), the member units, the outline; then the names of
    the areas behind each mismatch, a legend, a layer control, the frame and the attribution.
    ``draw.tier`` is one level of ``layers.against`` or ``"both"`` (every one of them; the
    default for a footprint; a plan or all systems draw the headline level).

    Examples
    --------
    >>> from coterminus.outputs.layers import map_layers
    >>> draw_layers(map_layers(geo, "05A"), DrawOptions(tier="utla"))
    <folium.folium.Map object at ...>
    """
    draw = merge_legacy(draw, legacy, where="draw_layers", accepted=_LEGACY).check()
    tiers = layers.drawn_levels(draw.tier)
    nbytes = layers.estimated_bytes(tiers)
    warn_if_large(nbytes, limit=_MAX_BYTES, simplify_m=layers.simplify_m, what="this map")
    focus = gpd.GeoSeries([shapely.box(*layers.focus)], crs=layers.outlines.crs)
    b = to_display(focus.to_frame("geometry")).total_bounds
    if m is None:
        m = _new_map(b, tiles=draw.tiles, offline=draw.offline)
    else:
        if draw.offline:
            configure_assets(m, True)
        root: Any = m.get_root()
        if "coterminus_css" not in root.header._children:
            root.header.add_child(folium.Element(_CSS), name="coterminus_css")
        for key, child in list(m._children.items()):  # one layer control, after every layer
            if isinstance(child, folium.LayerControl):
                del m._children[key]
    _panes(m)
    if len(layers.context):
        _context_layer(layers, draw.precision).add_to(m)
    plan = layers.kind == "plan"
    if plan:
        _member_layer(layers, draw.precision, show=True).add_to(m)
    # the headline level shaded; the others as boundaries over it (each can be switched off)
    for t in reversed(tiers):
        if not len(layers.councils[t]):
            continue
        filled = t == tiers[0] and not plan
        _council_layer(layers, t, draw.precision, show=True, filled=filled).add_to(m)
    if not plan:
        _member_layer(layers, draw.precision, show=True).add_to(m)
    _outline_layer(layers, draw.precision).add_to(m)
    m.add_child(
        _macro(
            _LEGEND_TEMPLATE,
            legend_html=_legend_html(layers, tiers),
            attribution=_esc(layers.attribution),
            focus=[[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]],
            labels=_label_points(layers, tiers),
        ),
        name="coterminus_legend",
    )
    folium.LayerControl(collapsed=False).add_to(m)  # the frame is fitted in the page (fit())
    log.info("map of %s: about %.2f MB of boundaries", layers.title, nbytes / 1e6)
    return m


def footprint_map(
    geo: Geography,
    footprint: Sequence[str] | str | None = None,
    *,
    system: str | None = None,
    assessment: Assessment | None = None,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
    m: folium.Map | None = None,
    **legacy: object,
) -> folium.Map:
    """Interactive map of a footprint against the councils (or any levels), for a notebook.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario level).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names (CCGs, sub-ICB locations, ICBs, a scenario's areas...),
        assessed once. With neither ``footprint``, ``system`` nor ``assessment``, every group
        of ``within`` is drawn (areas shaded by the largest share of each in one group).
    system : str, optional
        Every unit of this group (STP/ICS, ICB, region; name or code).
    assessment : Assessment, optional
        Draw this :func:`coterminus.assess` result (its levels, measure, ε); nothing is
        computed again.
    units, against, within, tolerance, measure : optional
        What to assess when no assessment is given, as in :func:`coterminus.assess`; with no
        footprint, the levels of the groups drawn (see
        :func:`~coterminus.outputs.layers.map_layers`).
    draw : DrawOptions, optional
        How to draw: ``tier`` (one level of ``against``, or ``"both"``: every one, the
        headline shown and the others starting switched off — the default), ``offline``
        (embed Leaflet so the page opens with no network), ``simplify_m`` (display
        simplification in metres; ``"auto"`` is 50 m for a system, up to 250 m for England),
        ``tiles`` (a folium tile layer name; none by default, never offline), ``precision``
        (decimal places of longitude/latitude).
    m : folium.Map, optional
        Draw on this map instead of a new one.
    **legacy
        The drawing keywords of the old call form (``offline=True``, ``tier=``...;
        deprecated: pass ``draw=DrawOptions(...)``).

    Returns
    -------
    folium.Map

    Raises
    ------
    UnknownAreaError, VintageMismatchError, FootprintError
        A footprint this geography does not have (the message names the fix).
    ParameterError
        Bad ``tier``, level, ``simplify_m``, or tiles with ``offline=True``.

    Warns
    -----
    CoterminusWarning
        When the boundaries would make a page over 5 MB (e.g. ``simplify_m=None`` for England).

    Examples
    --------
    >>> import coterminus
    >>> geo = coterminus.load(2019)
    >>> cw = ["E38000038", "E38000164", "E38000195"]
    >>> maps.footprint_map(geo, cw, draw=maps.DrawOptions(offline=True))
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> a = coterminus.assess(geo24, system="Coventry and Warwickshire", units="icb",
    ...                       against=["utla", "cauth"])
    >>> maps.footprint_map(geo24, assessment=a)
    <folium.folium.Map object at ...>
    """
    draw = merge_legacy(draw, legacy, where="footprint_map", accepted=_LEGACY).check(geo)
    layers = map_layers(
        geo,
        footprint,
        system=system,
        assessment=assessment,
        units=units,
        against=against,
        within=within,
        tolerance=tolerance,
        measure=measure,
        simplify_m=draw.simplify_m,
    )
    return draw_layers(layers, draw.replace(tier=tier_name(geo, draw.tier)), m=m)


def plan_map(
    geo: Geography,
    plan: PlanLike,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    draw: DrawOptions | None = None,
    m: folium.Map | None = None,
    **legacy: object,
) -> folium.Map:
    """Interactive map of a merger plan: one colour per new unit, over the councils.

    Parameters
    ----------
    geo : Geography
    plan : blocks of unit codes
        ``[["E38000038", "E38000195"], ["E38000164"]]``, a mapping ``{label: block}``, the
        string ``"A,B;C"``, or an object with ``.blocks`` (see :func:`normalise_plan`); the
        units may be of any level (CCGs, ICBs, sub-ICB locations...), one level per plan. Each
        new unit is assessed once.
    units, against, within, tolerance, measure
        As in :func:`footprint_map`.
    draw : DrawOptions, optional
        As in :func:`footprint_map`; ``tier`` defaults to the headline level (the first of
        ``against``).
    m : folium.Map, optional
    **legacy
        The drawing keywords of the old call form (deprecated).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> maps.plan_map(geo, "E38000038,E38000195;E38000164", draw=maps.DrawOptions(offline=True))
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> maps.plan_map(geo24, [["QWU", "QHL"], ["QGH"]])  # ICBs merged (NHS codes)
    <folium.folium.Map object at ...>
    """
    draw = merge_legacy(draw, legacy, where="plan_map", accepted=_LEGACY).check(geo)
    assessments = plan_assessments(
        geo, plan, units=units, against=against, within=within, tolerance=tolerance,
        measure=measure,
    )  # fmt: skip
    layers = plan_layers(geo, assessments, simplify_m=draw.simplify_m)
    return draw_layers(layers, draw.replace(tier=tier_name(geo, draw.tier)), m=m)


# ------------------------------------------------------------------------------------------
# saving
# ------------------------------------------------------------------------------------------
def save_map(m: folium.Map, path: str | Path, *, offline: bool | None = None) -> Path:
    """Write a map as one HTML file (atomically).

    Parameters
    ----------
    m : folium.Map
    path : str or Path
        ``.html`` (or ``.htm``); the folder must exist and be writable.
    offline : bool, optional
        Embed Leaflet so the page opens with no network; default: as the map was built
        (``DrawOptions(offline=True)``).

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        Missing or read-only folder, a suffix other than ``.html``, or (offline) a page that
        needs the network for something that cannot be embedded.

    Examples
    --------
    >>> m = footprint_map(geo, "05A")
    >>> save_map(m, "cw.html", offline=True)
    PosixPath('cw.html')
    """
    p = check_output_path(path, suffixes=MAP_SUFFIXES)
    if offline is None:
        offline = bool(getattr(m, "_coterminus_offline", False))
    page = m.get_root().render()
    if offline:
        page = offline_html(page)
    out = atomic_write_text(p, page, suffixes=MAP_SUFFIXES)
    log.info("wrote %s (%.2f MB)", out, len(page.encode("utf-8")) / 1e6)
    return out
