"""Interactive maps (folium/Leaflet) of a footprint, a merger plan or every system.

One call from a notebook returns a :class:`folium.Map`; :func:`save_map` writes it as one HTML
file. The map works at any level of any vintage — CCGs in 2019, sub-ICB locations and ICBs in
2024, a scenario's proposed areas — against any levels (``against=``: upper and lower tier,
combined authorities...), and takes every word from the geography's level labels. It shows

* the footprint outline (or each new unit of a merger plan, one colour each),
* its member units,
* each level assessed against as a layer you can switch on and off, each area shaded by the
  share of it inside the footprint, with the split areas outlined in red (dashed); a level
  covering part of England (combined authorities) has nothing over the blocks outside it,
* tooltips with names and figures, a legend, a layer control, the vintage's attribution,

and is fitted to the footprint. Boundaries are simplified for display as a coverage in metres
before reprojection (see :mod:`coterminus.outputs._simplify`), so neighbours still touch and one system
is well under 1 MB. With ``offline=True`` the page embeds the Leaflet JavaScript and CSS it
needs (vendored from the ``leaflet`` npm package, BSD-2-Clause, in ``coterminus/static``) and
loads nothing from the network; no web map tiles are drawn unless you ask for them.

Every name shown in the page is HTML-escaped. What is drawn (:class:`MapLayers`, from
:func:`map_layers`) is computed in :mod:`coterminus.outputs.layers`, shared with the print figures and
the report; this module draws it with folium and writes the page.

Examples
--------
>>> import coterminus
>>> from coterminus.outputs import maps
>>> geo = coterminus.load(2019)
>>> m = maps.footprint_map(geo, system="Coventry and Warwickshire", offline=True)
>>> maps.save_map(m, "cw.html")
PosixPath('cw.html')
>>> maps.plan_map(geo, [["E38000038", "E38000195"], ["E38000164"]])
<folium.folium.Map object at ...>
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement, Template

from ..data.atomic import atomic_write_text, check_output_path
from ..errors import OutputError, ParameterError
from ..vocabulary.words import cap, number
from ._simplify import to_display, warn_if_large
from .layers import (
    ATTRIBUTION,
    PLAN_COLOURS,
    SHARE_COLOURS,
    SPLIT_COLOUR,
    LayerOptions,
    MapLayers,
    Simplify,
    Tier,
    attribution,
    check_tier,
    check_tier_word,
    map_layers,
    normalise_plan,
    outside_sentence,
    plan_units,
    share_classes,
    share_source,
    tier_name,
    vintage_attribution,
)

if TYPE_CHECKING:
    from ..analysis.assess import Assessment
    from ..geography.bundle import Geography

# The layer data (MapLayers, map_layers, plan_units...) lives in coterminus.layers; it is
# re-exported here, where the maps have always offered it.
__all__ = [
    "ATTRIBUTION",
    "MAP_SUFFIXES",
    "PLAN_COLOURS",
    "SHARE_COLOURS",
    "SPLIT_COLOUR",
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
_LEAFLET_JS = "leaflet.js"
_LEAFLET_CSS = "leaflet.css"
_CSS_IMAGES = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)
#: Budgets (bytes of boundary data) above which a warning says how big the page will be.
_MAX_BYTES = 5_000_000


# ------------------------------------------------------------------------------------------
# drawing
# ------------------------------------------------------------------------------------------
def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _static_text(name: str) -> str:
    return (
        resources.files(__package__ or "coterminus.outputs")
        .joinpath("static", name)
        .read_text(encoding="utf-8")
    )


def _static_bytes(name: str) -> bytes:
    return (
        resources.files(__package__ or "coterminus.outputs").joinpath("static", name).read_bytes()
    )


def _leaflet_inline() -> str:
    """``<style>`` + ``<script>`` of the vendored Leaflet, its CSS images as data URIs."""
    css = _static_text(_LEAFLET_CSS)
    for img in _CSS_IMAGES:
        uri = "data:image/png;base64," + base64.b64encode(_static_bytes(img)).decode("ascii")
        css = css.replace(f"url(images/{img})", f"url({uri})")
    js = _static_text(_LEAFLET_JS).replace("</script", "<\\/script")
    return (
        "<!-- Leaflet 1.9.4 (BSD-2-Clause, (c) Vladimir Agafonkin, CloudMade), embedded so the "
        "map opens with no network -->\n"
        f"<style>{css}</style>\n<script>{js}</script>\n"
    )


_LEAFLET_CDN_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")
_LEAFLET_CDN_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")


def _configure_assets(m: folium.Map, offline: bool) -> None:
    """Load only Leaflet (no jQuery, Bootstrap, Font Awesome: these maps do not use them)."""
    if offline:
        m.default_js = []
        m.default_css = []
        root: Any = m.get_root()
        if "coterminus_leaflet" not in root.header._children:
            root.header.add_child(folium.Element(_leaflet_inline()), name="coterminus_leaflet")
    else:
        m.default_js = [_LEAFLET_CDN_JS]
        m.default_css = [_LEAFLET_CDN_CSS]
    m._coterminus_offline = offline  # type: ignore[attr-defined]


def _new_map(bounds4326: np.ndarray, *, tiles: str | None, offline: bool) -> folium.Map:
    minx, miny, maxx, maxy = bounds4326
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=tiles,
    )
    _configure_assets(m, offline)
    root: Any = m.get_root()
    root.header.add_child(
        folium.Element(
            "<style>.leaflet-container{background:#f4f4f2;}"
            ".coterminus-legend{background:rgba(255,255,255,.94);padding:8px 10px;"
            "font:12px/1.35 Arial,Helvetica,sans-serif;max-width:330px;max-height:60vh;"
            "overflow:auto;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);}"
            ".coterminus-legend h4{margin:0 0 4px;font-size:13px;}"
            ".coterminus-legend .sw{display:inline-block;width:16px;height:12px;"
            "margin-right:6px;vertical-align:middle;border:1px solid #555;}"
            ".coterminus-legend .src{margin-top:6px;font-size:10px;color:#333;}"
            ".leaflet-control-attribution{max-width:55vw;white-space:normal;}"
            "</style>"
        ),
        name="coterminus_css",
    )
    return m


def _macro(template: str, **attrs: Any) -> Any:
    el = MacroElement()
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


_LEGEND_TEMPLATE = """
{% macro script(this, kwargs) %}
(function() {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "coterminus-legend");
        div.innerHTML = {{ this.legend_html|tojson }};
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
    var map = {{ this._parent.get_name() }};
    L.control.scale({imperial: false, position: "bottomright"}).addTo(map);
    if (map.attributionControl) {
        map.attributionControl.addAttribution({{ this.attribution|tojson }});
    }
})();
{% endmacro %}
"""


def _legend_html(layers: MapLayers) -> str:
    out = [f"<h4>{_esc(layers.title)} ({_esc(layers.vintage)})</h4>"]
    word = layers.area_word
    if layers.kind == "plan":
        for _g, r in layers.outlines.iterrows():
            out.append(
                f"<div><span class='sw' style='background:{r['colour']};opacity:.8'></span>"
                f"{_esc(r['name'])}</div>"
            )
        out.append(
            "<div><span class='sw' style='background:none;border:2px solid #222'></span>"
            f"{_esc(layers.label(layers.against[0]))} boundary</div>"
        )
    else:
        out.append(f"<div><b>{_esc(layers.share_label)}</b></div>")
        for _, label, colour in share_classes(layers.tolerance):
            out.append(
                f"<div><span class='sw' style='background:{colour}'></span>{_esc(label)}</div>"
            )
        out.append(
            "<div><span class='sw' style='background:none;border:3px solid #000'></span>"
            + _esc(f"{layers.group_word} outline")
            + "</div>"
        )
    out.append(
        f"<div><span class='sw' style='background:none;border:2px dashed {SPLIT_COLOUR}'></span>"
        f"split {word} ({'people' if layers.measure == 'population' else 'area'} on both "
        "sides of the line)</div>"
    )
    out.append(
        "<div><span class='sw' style='background:none;border:1px dashed #444'></span>"
        f"{_esc(layers.label(layers.units))} boundary</div>"
    )
    for _, r in layers.outlines.iterrows():
        if layers.kind == "systems":
            break
        test_i = f"; test I: {_esc(r['test_i'])}" if r["test_i"] else ""
        out.append(
            f"<div><b>{_esc(r['name'])}</b>: {_esc(r['test_ii'])}{test_i}. "
            f"Outside: {_esc(r['outside'])}.</div>"
        )
    simp = f"{layers.simplify_m:g} m" if layers.simplify_m else "none"
    out.append(
        "<div class='src'>"
        + _esc(layers.source)
        + f"; ε = {layers.tolerance:g}; boundaries simplified for display ({simp}).<br>"
        f"{_esc(layers.attribution)}</div>"
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
) -> Any:
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
    styles: dict[str, dict[str, Any]] = {}
    heavy = tier == layers.against[0]
    for code, cls, status in zip(c.index, c["share_class"], c["status"], strict=True):
        split = status == "split"
        styles[str(code)] = {
            "fillColor": SHARE_COLOURS[cls],
            "fillOpacity": 0.7 if filled else 0.0,
            "fill": filled,
            "color": SPLIT_COLOUR if split else ("#ffffff" if filled else "#222222"),
            "weight": (3.5 if heavy else 2.5) if split else (1.8 if heavy else 1.0),
            "dashArray": "7 4" if split else None,
            "opacity": 1.0,
        }
    data = _feature_collection(d, props)
    return folium.GeoJson(
        data,
        name=_esc(
            layers.label(tier, plural=True, cap=True)
            + (" (shaded by share inside)" if filled else "")
        ),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


def _member_layer(layers: MapLayers, precision: int, *, show: bool) -> Any:
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
            "color": "#333333",
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
        name=_esc(
            f"Member {plural}" if layers.kind != "plan" else f"New {plural} (coloured by block)"
        ),
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


def _outline_layer(layers: MapLayers, precision: int) -> Any:
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
            "color": "#000000" if layers.kind != "plan" else "#111111",
            "weight": 4 if layers.kind != "systems" else 2.5,
            "fill": False,
            "opacity": 1.0,
        }
        for k in o.index
    }
    name = {
        "footprint": "Footprint outline",
        "plan": f"New {plural} outlines",
        "systems": f"{cap(layers.group_word)} outlines",
    }
    return folium.GeoJson(
        _feature_collection(d, props),
        name=_esc(name[layers.kind]),
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 6},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=0.5,
    )


def _check_draw(
    tier: str | None, tiles: str | None, offline: bool, geo: Geography | None = None
) -> None:
    """Check the drawing options (before any work)."""
    check_tier_word(tier, geo)
    if tiles and offline:
        msg = (
            f"tiles={tiles!r} with offline=True: web map tiles are fetched from the internet when "
            "the map is viewed, so an offline map cannot have them; pass tiles=None."
        )
        raise ParameterError(msg)


def draw_layers(
    layers: MapLayers,
    *,
    m: folium.Map | None = None,
    tier: Tier = "both",
    offline: bool = False,
    tiles: str | None = None,
    precision: int = 6,
) -> folium.Map:
    """Draw :class:`MapLayers` on a new (or the given) :class:`folium.Map`.

    Layers, bottom to top: the levels assessed against (the headline level on top, the others
    starting switched off), the member units, the outline. A layer control, a legend, fitted
    bounds and the attribution are added. ``tier`` is one level of ``layers.against`` or
    ``"both"`` (every one of them).
    """
    _check_draw(tier, tiles, offline)
    tiers = check_tier(tier, layers.against)
    nbytes = layers.estimated_bytes(tiers)
    warn_if_large(nbytes, limit=_MAX_BYTES, simplify_m=layers.simplify_m, what="this map")
    b = to_display(layers.outlines[["geometry"]]).total_bounds
    for t in tiers:
        if not len(layers.councils[t]):
            continue
        cb = to_display(layers.councils[t][["geometry"]]).total_bounds
        b = np.r_[np.minimum(b[:2], cb[:2]), np.maximum(b[2:], cb[2:])]
    if m is None:
        m = _new_map(b, tiles=tiles, offline=offline)
    else:
        if offline:
            _configure_assets(m, True)
        for key, child in list(m._children.items()):  # one layer control, after every layer
            if isinstance(child, folium.LayerControl):
                del m._children[key]
    plan = layers.kind == "plan"
    if plan:
        _member_layer(layers, precision, show=True).add_to(m)
    # the headline level on top and shown; the others under it, starting hidden
    for t in reversed(tiers):
        if not len(layers.councils[t]):
            continue
        show = t == tiers[0]
        _council_layer(layers, t, precision, show=show, filled=not plan).add_to(m)
    if not plan:
        _member_layer(layers, precision, show=True).add_to(m)
    _outline_layer(layers, precision).add_to(m)
    m.add_child(
        _macro(
            _LEGEND_TEMPLATE,
            legend_html=_legend_html(layers),
            attribution=_esc(layers.attribution),
        ),
        name="coterminus_legend",
    )
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]])
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
    m: folium.Map | None = None,
    tier: Tier = "both",
    offline: bool = False,
    simplify_m: Simplify = "auto",
    tiles: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    precision: int = 6,
) -> folium.Map:
    """Interactive map of a footprint against the councils (or any levels), for a notebook.

    Parameters
    ----------
    geo : Geography
        From :func:`coterminus.load` (any vintage, or with a scenario level).
    footprint : str or sequence of str, optional
        Unit codes, NHS codes or names (CCGs, sub-ICB locations, ICBs, a scenario's areas...).
        With neither ``footprint``, ``system`` nor ``assessment``, every group of ``within``
        is drawn (areas shaded by the largest share of each in one group).
    system : str, optional
        Every unit of this group (STP/ICS, ICB, region; name or code).
    assessment : Assessment, optional
        Draw an existing :func:`coterminus.analysis.assess.assess` result (its levels, measure, ε).
    units, against, within : optional
        Levels of the members, of the areas drawn (headline first) and of test I, as in
        :func:`map_layers` (defaults: the assessment's, else from the codes and
        :func:`coterminus.analysis.assess.default_against`).
    m : folium.Map, optional
        Draw on this map instead of a new one.
    tier : str, default "both"
        One level of ``against`` to draw, or ``"both"``: every one (the headline level shown,
        the others starting switched off).
    offline : bool, default False
        Embed Leaflet's JavaScript and CSS in the page so it opens with no network.
    simplify_m : float, "auto" or None, default "auto"
        Display simplification in metres (coverage simplification in EPSG:27700 before
        reprojection); ``"auto"`` is 50 m for a system, up to 250 m for England.
    tiles : str, optional
        A folium tile layer name (e.g. ``"OpenStreetMap"``); none by default, never offline.
    tolerance : float, optional
        ε for split/contained (default 0.005 population, 0.03 area).
    measure : {"population", "area"}, optional
        What shares are of (default population, or the assessment's).
    precision : int, default 6
        Decimal places of longitude/latitude.

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
    >>> maps.footprint_map(geo, cw, offline=True)
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> maps.footprint_map(geo24, system="Coventry and Warwickshire", units="icb",
    ...                    against=["utla", "cauth"])
    <folium.folium.Map object at ...>
    """
    _check_draw(tier, tiles, offline, geo)  # fail fast, before any work
    options = LayerOptions(units, against, within, tolerance, simplify_m, measure)
    layers = options.layers(geo, footprint, system=system, assessment=assessment)
    return draw_layers(
        layers, m=m, tier=tier_name(geo, tier), offline=offline, tiles=tiles, precision=precision
    )


def plan_map(
    geo: Geography,
    plan: Any,
    *,
    units: str | None = None,
    against: Sequence[str] | str | None = None,
    within: str | None = None,
    m: folium.Map | None = None,
    tier: Tier = None,
    offline: bool = False,
    simplify_m: Simplify = "auto",
    tiles: str | None = None,
    tolerance: float | None = None,
    measure: Literal["population", "area"] | None = None,
    precision: int = 6,
) -> folium.Map:
    """Interactive map of a merger plan: one colour per new unit, over the councils.

    Parameters
    ----------
    geo : Geography
    plan : blocks of unit codes
        ``[["E38000038", "E38000195"], ["E38000164"]]``, a mapping ``{label: block}``, the
        string ``"A,B;C"``, or an object with ``.blocks`` (see :func:`normalise_plan`); the
        units may be of any level (CCGs, ICBs, sub-ICB locations...), one level per plan.
    units, against, within
        As in :func:`footprint_map`.
    m, offline, simplify_m, tiles, tolerance, measure, precision
        As in :func:`footprint_map`.
    tier : str, optional
        One level of ``against`` to draw, or ``"both"``; default the headline level (the first
        of ``against``).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> maps.plan_map(geo, "E38000038,E38000195;E38000164", offline=True)
    <folium.folium.Map object at ...>
    >>> geo24 = coterminus.load(2024)
    >>> maps.plan_map(geo24, [["QWU", "QHL"], ["QGH"]])  # ICBs merged (NHS codes)
    <folium.folium.Map object at ...>
    """
    _check_draw(tier, tiles, offline, geo)  # fail fast, before any work
    layers = LayerOptions(units, against, within, tolerance, simplify_m, measure).layers(
        geo, plan=plan
    )
    tier_ = tier_name(geo, tier) if tier is not None else layers.against[0]
    return draw_layers(layers, m=m, tier=tier_, offline=offline, tiles=tiles, precision=precision)


# ------------------------------------------------------------------------------------------
# saving
# ------------------------------------------------------------------------------------------
_TAG_RE = re.compile(r"<(script|link)\b[^>]*>(?:\s*</script>)?", re.IGNORECASE)
_URL_ATTR_RE = re.compile(r"""\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)
_REMOTE_RE = re.compile(
    r"""<(?:img|iframe|source|video|audio|embed|object)\b[^>]*\b(?:src|data)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:url\()?\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)
#: CDN files folium's default template loads that these maps do not use.
_UNUSED_ASSETS = (
    "jquery",
    "bootstrap",
    "awesome-markers",
    "awesome_markers",
    "fontawesome",
    "glyphicons",
    "awesome.rotate",
)


def offline_html(page: str) -> str:
    """Make a rendered folium page self-contained: embed Leaflet, drop unused CDN files.

    Raises
    ------
    OutputError
        The page needs something else from the network (e.g. a plugin's script or web tiles),
        which cannot be embedded; the message lists it.

    Examples
    --------
    >>> page = ('<html><head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/'
    ...         'leaflet.js"></script></head><body></body></html>')
    >>> out = offline_html(page)
    >>> "cdn.jsdelivr" in out, "Leaflet 1.9.4" in out
    (False, True)
    """
    needs_leaflet = "coterminus_leaflet" not in page and "Leaflet 1.9.4 (BSD-2-Clause" not in page
    remaining: list[str] = []
    placed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal placed
        tag = match.group(0)
        url_m = _URL_ATTR_RE.search(tag)
        if url_m is None:
            return tag
        url = url_m.group(1)
        low = url.lower()
        if re.search(r"leaflet(@[\d.]+)?/dist/leaflet\.(js|css)$", low) or low.endswith(
            ("/leaflet.js", "/leaflet.css")
        ):
            if needs_leaflet and not placed:
                placed = True
                return _leaflet_inline()
            return ""
        if any(k in low for k in _UNUSED_ASSETS):
            return ""
        remaining.append(url)
        return tag

    out = _TAG_RE.sub(replace, page)
    if needs_leaflet and not placed:
        out = out.replace("<head>", "<head>\n" + _leaflet_inline(), 1)
    body_refs = [m.group(0)[:80] for m in _REMOTE_RE.finditer(_strip_inline_leaflet(out))]
    if remaining or body_refs or "L.tileLayer(" in out:
        found = (
            remaining
            + body_refs
            + (["web map tiles (L.tileLayer)"] if "L.tileLayer(" in out else [])
        )
        msg = (
            f"the map loads {len(found)} thing(s) from the network when viewed "
            f"({', '.join(found[:5])}), "
            "which an offline map cannot embed; remove them (tiles=None, no plugins) or save with "
            "offline=False."
        )
        raise OutputError(msg)
    return out


def _strip_inline_leaflet(page: str) -> str:
    start = page.find("<!-- Leaflet 1.9.4 (BSD-2-Clause")
    if start < 0:
        return page
    end = page.find("</script>", start)
    return page[:start] + page[end:]


def save_map(m: folium.Map, path: str | Path, *, offline: bool | None = None) -> Path:
    """Write a map as one HTML file (atomically).

    Parameters
    ----------
    m : folium.Map
    path : str or Path
        ``.html`` (or ``.htm``); the folder must exist and be writable.
    offline : bool, optional
        Embed Leaflet so the page opens with no network; default: as the map was built
        (``footprint_map(..., offline=True)``).

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
