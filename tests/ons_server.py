"""A fake ONS ArcGIS server for download tests: real ONS features, switchable failures.

:class:`FakeONS` runs an ``http.server.ThreadingHTTPServer`` on ``127.0.0.1`` (a free port) in a
daemon thread and answers the same URLs as ``services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis``:

- ``/rest/services?f=json``: the services list (only the names in :attr:`FakeONS.listed`);
- ``/rest/services/<name>/FeatureServer/0?f=json``: layer metadata with a small
  ``maxRecordCount`` (50 by default, so the 191 CCGs of April 2019 take 4 pages);
- ``/rest/services/<name>/FeatureServer/0/query``: ``returnCountOnly``, and pages honouring
  ``resultOffset``, ``resultRecordCount`` (capped at ``maxRecordCount``), ``orderByFields``,
  ``outSR`` and ``returnGeometry``, as Esri JSON (``f=json``: rings, ``spatialReference``,
  top-level ``exceededTransferLimit``) in EPSG:27700 (as stored) or 4326, or as GeoJSON
  (``f=geojson``, with ``exceededTransferLimit`` under ``properties`` or at the top level) in
  EPSG:4326 only: a projected GeoJSON request is refused, since whether ONS reprojects GeoJSON is
  unconfirmed;
- ``/files/<name>``: plain files.

:meth:`FakeONS.fail` switches on a failure for one kind of endpoint (``"services"``,
``"metadata"``, ``"count"``, ``"query"`` or ``"file"``), for a number of requests or for good:
``"http500"``, ``"http429"``, ``"http404"``, ``"hang"`` (never answers), ``"drip"`` (sends the
body one byte every :attr:`FakeONS.drip_interval` seconds), ``"reset"`` (closes the connection
without an answer), ``"truncate"`` (Content-Length larger than the body), ``"json_error"`` (``{"error": {"code": 400, ...}}`` with HTTP 200) and
``"json_error_500"`` (a transient ArcGIS error body).

:meth:`FakeONS.from_data_dir` serves the real April 2019 CCGs (``ons_2019.gpkg`` layer ``ccg``,
simplified to 250 m to keep the tests fast, lower-case ``ccg19cd``/``ccg19nm`` as ONS publishes
them) under the ``..._BGC_2022`` name (the name seen in use), the real CCG19→STP19 lookup table
under a hex-suffixed name that only the registry's pattern finds, and a few files.

Examples
--------
>>> import json, urllib.request
>>> with FakeONS(layers={"Demo": FakeLayer.from_rows([{"CODE": "E1"}])}) as server:
...     with urllib.request.urlopen(server.base_url + "/rest/services?f=json") as response:
...         [s["name"] for s in json.load(response)["services"]]
['Demo']
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import socket
import struct
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CCG19_SERVICE = "Clinical_Commissioning_Groups_April_2019_Boundaries_EN_BGC_2022"
CCG19_STP19_SERVICE = "CCG19_STP19_EN_LU_0123456789abcdef0123456789abcdef"
ENDPOINTS = ("services", "metadata", "count", "query", "file")
MODES = (
    "http500",
    "http429",
    "http404",
    "hang",
    "drip",
    "reset",
    "truncate",
    "json_error",
    "json_error_500",
)


@dataclass
class FakeLayer:
    """One FeatureServer layer: GeoJSON features in EPSG:27700 (and optionally 4326)."""

    features: list[dict[str, Any]]
    features_4326: list[dict[str, Any]] | None = None
    max_record_count: int = 50
    oid: str = "FID"
    table: bool = False
    exceeded_at_top_level: bool = False
    count_offset: int = 0  # a server that miscounts (returnCountOnly = true count + offset)

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], **kwargs: Any) -> FakeLayer:
        """A table (no geometry) from plain rows; ``FID`` 1..n is added."""
        features = [
            {"type": "Feature", "id": i, "geometry": None, "properties": {"FID": i, **row}}
            for i, row in enumerate(rows, start=1)
        ]
        return cls(features=features, table=True, **kwargs)


@dataclass
class _Failure:
    endpoint: str
    mode: str
    remaining: int | None  # None: for good


@dataclass
class FakeONS:
    """The fake server; use as a context manager (see the module docstring)."""

    layers: dict[str, FakeLayer]
    files: dict[str, bytes] = field(default_factory=dict)
    listed: list[str] | None = None
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    drip_interval: float = 0.05
    retry_after: int | None = None  # sent as Retry-After with "http429"

    def __post_init__(self) -> None:
        if self.listed is None:
            self.listed = list(self.layers)
        self._failures: list[_Failure] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._original = (dict(self.layers), list(self.listed))
        self.reset()
        self._httpd: ThreadingHTTPServer | None = None

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeONS:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake up hanging handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeONS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}"

    # --- configuration ----------------------------------------------------------------------
    def fail(self, endpoint: str, mode: str, times: int | None = None) -> None:
        """Make the next ``times`` requests (all if None) to ``endpoint`` fail with ``mode``."""
        assert endpoint in ENDPOINTS, endpoint
        assert mode in MODES, mode
        with self._lock:
            self._failures.append(_Failure(endpoint, mode, times))

    def rename(self, old: str, new: str) -> None:
        """Serve and list a layer under another name only (as when ONS republishes)."""
        self.layers = {(new if k == old else k): v for k, v in self.layers.items()}
        assert self.listed is not None
        self.listed = [new if n == old else n for n in self.listed]

    def reset(self) -> None:
        """Forget failures, renames, layer edits, Retry-After and the request log; wake handlers."""
        with self._lock:
            self._failures.clear()
        self.layers = {k: dataclasses.replace(v) for k, v in self._original[0].items()}
        self.listed = list(self._original[1])
        self.retry_after = None
        self.requests.clear()
        self._release.set()
        self._release = threading.Event()

    def count(self, endpoint: str) -> int:
        """How many requests reached ``endpoint``."""
        return sum(1 for e, _, _ in self.requests if e == endpoint)

    def _take_failure(self, endpoint: str) -> str | None:
        with self._lock:
            for failure in self._failures:
                if failure.endpoint == endpoint and failure.remaining != 0:
                    if failure.remaining is not None:
                        failure.remaining -= 1
                    return failure.mode
        return None

    # --- construction from the real data ----------------------------------------------------
    @classmethod
    def from_data_dir(cls, data_dir: Path, *, max_record_count: int = 50) -> FakeONS:
        """Serve real 2019 CCG polygons and the CCG19→STP19 lookup built from ``data_dir``."""
        import geopandas as gpd
        import pandas as pd

        ccg = gpd.read_file(data_dir / "boundaries" / "ons_2019.gpkg", layer="ccg")
        ccg = ccg[["CCG19CD", "CCG19NM", "geometry"]].rename(columns=str.lower)
        ccg["geometry"] = ccg.geometry.simplify(250)
        order = list(range(1, len(ccg) + 1))
        random.Random(2019).shuffle(order)  # storage order differs from FID order
        ccg.insert(0, "FID", order)
        features = _features(ccg)
        features_4326 = _features(ccg.to_crs(4326))

        lookup = pd.read_csv(data_dir / "lookups" / "ccg19_stp19_en.csv", dtype=str)
        raw = data_dir / "raw" / "ctyua_dec2019_uk_buc_shp.zip"
        zipped = raw.read_bytes()
        return cls(
            layers={
                CCG19_SERVICE: FakeLayer(features, features_4326, max_record_count),
                CCG19_STP19_SERVICE: FakeLayer.from_rows(
                    lookup.to_dict("records"), max_record_count=max_record_count
                ),
            },
            files={
                "ctyua_dec2019_uk_buc_shp.zip": zipped,
                "corrupt.zip": zipped[: len(zipped) // 2],
                "hello.txt": b"hello, ONS\n",
                "big.bin": bytes(range(256)) * 400,
            },
            listed=[
                CCG19_SERVICE,
                CCG19_STP19_SERVICE,
                "Clinical_Commissioning_Groups_April_2019_Names_and_Codes_in_England_2022",
                "Local_Authority_Districts_December_2019_UGCB_UK_2022",
            ],
        )


def _features(frame: Any) -> list[dict[str, Any]]:
    collection = json.loads(frame.to_json(drop_id=True))
    for feature in collection["features"]:
        feature["id"] = feature["properties"]["FID"]
    return collection["features"]


@contextmanager
def serve(data_dir: Path, **kwargs: Any) -> Iterator[FakeONS]:
    """``with serve(data_dir) as server:`` -- :meth:`FakeONS.from_data_dir`, started and stopped."""
    with FakeONS.from_data_dir(data_dir, **kwargs) as server:
        yield server


class _Handler(BaseHTTPRequestHandler):
    fake: FakeONS
    protocol_version = "HTTP/1.0"  # one request per connection; a short body then ends in EOF

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output clean

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        fake = self.fake
        if parts == ["rest", "services"]:
            self._record("services", url.path, query)
            services = [
                {"name": n, "type": "FeatureServer", "url": f"{fake.base_url}/rest/services/{n}"}
                for n in fake.listed or []
            ]
            self._reply("services", {"currentVersion": 11.3, "services": services})
        elif (
            len(parts) in (5, 6)
            and parts[:2] == ["rest", "services"]
            and parts[3] == "FeatureServer"
        ):
            layer = fake.layers.get(parts[2]) if parts[4] == "0" else None
            if len(parts) == 5:
                self._record("metadata", url.path, query)
                self._reply("metadata", _metadata(parts[2], layer))
            elif parts[5] == "query" and query.get("returnCountOnly") == "true":
                self._record("count", url.path, query)
                body = (
                    _invalid()
                    if layer is None
                    else {"count": len(layer.features) + layer.count_offset}
                )
                self._reply("count", body)
            elif parts[5] == "query":
                self._record("query", url.path, query)
                self._reply("query", _invalid() if layer is None else _page(layer, query))
            else:
                self._record("other", url.path, query)
                self._reply("other", _invalid())
        elif len(parts) == 2 and parts[0] == "files":
            self._record("file", url.path, query)
            content = fake.files.get(parts[1])
            if content is None:
                self.send_error(404)
            else:
                self._reply("file", content, content_type="application/octet-stream")
        else:
            self._record("other", url.path, query)
            self.send_error(404)

    def _record(self, endpoint: str, path: str, query: dict[str, str]) -> None:
        self.fake.requests.append((endpoint, path, query))

    def _reply(self, endpoint: str, body: Any, content_type: str = "application/json") -> None:
        mode = self.fake._take_failure(endpoint)
        if mode == "hang":
            self.fake._release.wait(10)
            return
        if mode == "reset":
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )  # close with RST instead of FIN
            self.close_connection = True
            return
        if mode == "http429" and self.fake.retry_after is not None:
            self.send_response(429)
            self.send_header("Retry-After", str(self.fake.retry_after))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode in ("http500", "http429", "http404"):
            self.send_error(int(mode[4:]))
            return
        if mode == "json_error":
            body = {
                "error": {
                    "code": 400,
                    "message": "Invalid query parameters",
                    "details": ["'resultOffset' parameter is invalid"],
                }
            }
        elif mode == "json_error_500":
            body = {"error": {"code": 500, "message": "Error performing query operation"}}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "drip":
            release = self.fake._release
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    if release.wait(self.fake.drip_interval):
                        return
            except OSError:  # the client gave up (its deadline): that is the point
                return
            return
        self.wfile.write(data[: len(data) // 2] if mode == "truncate" else data)


def _invalid() -> dict[str, Any]:
    return {"error": {"code": 400, "message": "Invalid URL", "details": ["Invalid URL"]}}


def _metadata(name: str, layer: FakeLayer | None) -> dict[str, Any]:
    if layer is None:
        return _invalid()
    first = layer.features[0]["properties"] if layer.features else {}
    fields = [
        {"name": k, "type": "esriFieldTypeOID" if k == layer.oid else "esriFieldTypeString"}
        for k in first
    ]
    return {
        "currentVersion": 11.3,
        "id": 0,
        "name": name,
        "type": "Table" if layer.table else "Feature Layer",
        "objectIdField": layer.oid,
        "maxRecordCount": layer.max_record_count,
        "standardMaxRecordCount": 32000,
        "fields": fields,
    }


def _signed_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring))


def _esri_geometry(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """GeoJSON (Multi)Polygon -> Esri rings: outer rings clockwise, holes anticlockwise."""
    if geometry is None:
        return None
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    rings = []
    for polygon in polygons:
        for k, ring in enumerate(polygon):
            clockwise = _signed_area(ring) < 0
            rings.append(ring if clockwise == (k == 0) else ring[::-1])
    return {"rings": rings}


def _page(layer: FakeLayer, query: dict[str, str]) -> dict[str, Any]:
    fmt = query.get("f")
    if query.get("where") != "1=1" or fmt not in ("json", "geojson"):
        return {"error": {"code": 400, "message": "Unable to complete operation.", "details": []}}
    out_sr = query.get("outSR", "4326")
    if not layer.table and (
        out_sr not in ("27700", "4326") or (out_sr == "4326" and layer.features_4326 is None)
    ):
        return {"error": {"code": 400, "message": f"Invalid outSR {out_sr}", "details": []}}
    if fmt == "geojson" and out_sr != "4326" and not layer.table:
        return {"error": {"code": 400, "message": "GeoJSON output is WGS84 only", "details": []}}
    features = layer.features_4326 if out_sr == "4326" and not layer.table else layer.features
    assert features is not None
    if query.get("orderByFields"):
        key = query["orderByFields"].split()[0]
        features = sorted(features, key=lambda f: f["properties"][key])
    offset = int(query.get("resultOffset", 0))
    size = min(int(query.get("resultRecordCount", layer.max_record_count)), layer.max_record_count)
    chunk = features[offset : offset + size]
    if query.get("returnGeometry") == "false":
        chunk = [{**f, "geometry": None} for f in chunk]
    more = offset + len(chunk) < len(features)
    if fmt == "json":
        page: dict[str, Any] = {
            "objectIdFieldName": layer.oid,
            "features": [
                {"attributes": f["properties"], "geometry": _esri_geometry(f["geometry"])}
                for f in chunk
            ],
        }
        if not layer.table:
            page["geometryType"] = "esriGeometryPolygon"
            page["spatialReference"] = {"wkid": int(out_sr), "latestWkid": int(out_sr)}
        if more:
            page["exceededTransferLimit"] = True
        return page
    page = {"type": "FeatureCollection", "features": chunk}
    if more:
        if layer.exceeded_at_top_level:
            page["exceededTransferLimit"] = True
        else:
            page["properties"] = {"exceededTransferLimit": True}
    return page
