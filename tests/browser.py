"""Headless Chromium for map tests (playwright-python driving Debian's /usr/bin/chromium).

``open_page(path, offline=True)`` loads a local HTML file and returns a :class:`PageReport`:
JavaScript errors, console errors, every request the page tried, requests that were blocked,
and the page itself for further evaluation while the context is open.

Nothing is downloaded: playwright's own browser builds are never used. Set
``COTERMINUS_CHROMIUM`` to use another Chromium binary. Tests skip (locally) or fail (CI) when
no Chromium can be started (playwright, a test dependency, is imported as any other).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from helpers import skip_or_fail

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

#: Where tests save screenshots (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

#: Counts features per GeoJSON layer (folium names them geo_json_<hash>) and SVG paths drawn.
COUNT_JS = """
() => {
  const layers = {};
  for (const k of Object.keys(window)) {
    if (k.startsWith('geo_json_') && window[k] && typeof window[k].getLayers === 'function') {
      layers[k] = window[k].getLayers().length;
    }
  }
  const paths = document.querySelectorAll('.leaflet-overlay-pane svg path').length;
  const maps = Object.keys(window)
    .filter(k => k.startsWith('map_') && window[k] && window[k]._loaded);
  return {layers: layers, paths: paths, maps: maps.length,
          leaflet: typeof window.L !== 'undefined' ? window.L.version : null};
}
"""


def chromium_path() -> str | None:
    """The Chromium binary to drive, or None."""
    env = os.environ.get("COTERMINUS_CHROMIUM")
    if env:
        return env
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).exists():
            return name
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageReport:
    """What happened while a page loaded."""

    page: Any
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """Features per GeoJSON layer, SVG paths drawn, maps loaded, Leaflet version."""
        result: dict[str, Any] = self.page.evaluate(COUNT_JS)
        return result

    def screenshot(self, name: str) -> Path:
        """Save a PNG into test-artifacts/ and return its path."""
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / name
        self.page.screenshot(path=str(out), full_page=False)
        return out


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A launched headless Chromium (skips/fails the test if it cannot start)."""
    exe = chromium_path()
    if exe is None:
        skip_or_fail("no chromium found: apt-get install chromium (or set COTERMINUS_CHROMIUM)")
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:
            skip_or_fail(f"cannot start {exe}: {exc}")
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def open_page(
    path: str | Path,
    *,
    offline: bool = True,
    serve: dict[str, tuple[str, bytes]] | None = None,
    viewport: tuple[int, int] = (1200, 900),
    settle_ms: int = 400,
) -> Iterator[PageReport]:
    """Load a local HTML file in headless Chromium and report what happened.

    Parameters
    ----------
    path : path of the HTML file
    offline : bool
        Put the context offline and abort every request that is not ``file:``/``data:``/
        ``about:`` (each is recorded in ``blocked``).
    serve : dict, optional
        ``{url_substring: (content_type, body)}``: answer matching requests from these bytes
        instead (e.g. a CDN URL served from the vendored file), so an online page can be
        tested on a machine with no internet.
    """
    url = Path(path).resolve().as_uri()
    with browser() as b:
        context = b.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        if offline:
            context.set_offline(True)
        report = PageReport(page=None)

        def route(r: Any) -> None:
            req_url = r.request.url
            report.requests.append(req_url)
            if req_url.startswith(("file:", "data:", "about:", "blob:")):
                r.continue_()
                return
            for key, (ctype, body) in (serve or {}).items():
                if key in req_url:
                    r.fulfill(status=200, content_type=ctype, body=body)
                    return
            report.blocked.append(req_url)
            r.abort()

        context.route("**/*", route)
        page = context.new_page()
        report.page = page
        page.on("pageerror", lambda e: report.js_errors.append(str(e)))
        page.on(
            "console",
            lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None,
        )

        def on_dialog(d: Any) -> None:
            report.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(settle_ms)
        try:
            yield report
        finally:
            context.close()
