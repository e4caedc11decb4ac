"""Leaflet for the interactive maps: from its CDN, or embedded so a page needs no network.

The vendored Leaflet 1.9.4 (the ``leaflet`` npm package, BSD-2-Clause, in ``static/``) is
embedded with its CSS images as data URIs (:func:`leaflet_inline`); :func:`configure_assets`
makes a folium map load only Leaflet (no jQuery, Bootstrap or Font Awesome, which these maps do
not use); :func:`offline_html` makes any rendered folium page self-contained, or says what it
would still fetch. :mod:`coterminus.outputs.maps` uses these.
"""

from __future__ import annotations

import base64
import re
from importlib import resources
from typing import Any

import folium

from ..errors import OutputError

__all__ = ["configure_assets", "leaflet_inline", "offline_html"]

_LEAFLET_JS = "leaflet.js"
_LEAFLET_CSS = "leaflet.css"
_CSS_IMAGES = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)


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


def leaflet_inline() -> str:
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


def configure_assets(m: folium.Map, offline: bool) -> None:
    """Load only Leaflet (no jQuery, Bootstrap, Font Awesome: these maps do not use them)."""
    if offline:
        m.default_js = []
        m.default_css = []
        root: Any = m.get_root()
        if "coterminus_leaflet" not in root.header._children:
            root.header.add_child(folium.Element(leaflet_inline()), name="coterminus_leaflet")
    else:
        m.default_js = [_LEAFLET_CDN_JS]
        m.default_css = [_LEAFLET_CDN_CSS]
    m._coterminus_offline = offline  # type: ignore[attr-defined]


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
                return leaflet_inline()
            return ""
        if any(k in low for k in _UNUSED_ASSETS):
            return ""
        remaining.append(url)
        return tag

    out = _TAG_RE.sub(replace, page)
    if needs_leaflet and not placed:
        out = out.replace("<head>", "<head>\n" + leaflet_inline(), 1)
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
