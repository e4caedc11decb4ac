"""The ArcGIS FeatureServer pager: find the service, page through it, convert Esri JSON.

A download goes like this (``../shared/ONS_SOURCES.md`` §6 and §8):

1. **Service name.** The names seen in use (the entry's ``services``) are tried first, each by
   reading its layer metadata. If none answers, the services list ``{base}/rest/services?f=json``
   is read (once per :class:`Session`) and the entry's ``pattern`` picks a listed name. The name
   used, and how it was found, is recorded with the download.
2. **Paging.** The layer metadata gives ``maxRecordCount`` (some layers say 50) and the object-id
   field; ``returnCountOnly`` gives the total. Pages of ``maxRecordCount`` rows are requested with
   ``resultOffset`` and ``orderByFields=<object id>`` until ``exceededTransferLimit`` is false and
   every row has come.
3. **Projection.** Boundaries are requested as Esri JSON in British National Grid
   (``f=json&outSR=27700``), the one form every public example uses: whether the server reprojects
   GeoJSON output is unconfirmed. The rings are converted to GeoJSON here (:func:`esri_to_geojson`).
4. **Checks.** Rows must equal ``returnCountOnly``, have no duplicate object ids, carry the
   entry's ``expected_columns`` and ``expected_rows`` England rows; otherwise nothing is saved.

Examples
--------
>>> esri_to_geojson({"rings": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]})["type"]
'Polygon'
"""

from __future__ import annotations

import itertools
import logging
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import DownloadError
from . import net
from .catalog import Dataset, Remote
from .net import Deadline, ServiceError

__all__ = ["Session", "esri_to_geojson", "match_columns", "page_features", "resolve_service"]

logger = logging.getLogger("coterminus.data")

DEFAULT_BASE_URL = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis"
"""ArcGIS Online organisation that hosts the ONS Open Geography Portal services."""


@dataclass
class Session:
    """Settings shared by the downloads of one ``fetch`` call, and the services list read once.

    Examples
    --------
    >>> Session("http://127.0.0.1:9/").base
    'http://127.0.0.1:9'
    """

    base: str
    timeout: float = 60.0
    retries: int = 3
    _services: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base = self.base.rstrip("/")

    def layer_url(self, service: str, layer: int) -> str:
        """``{base}/rest/services/{service}/FeatureServer/{layer}``."""
        return f"{self.base}/rest/services/{urllib.parse.quote(service, safe='')}/FeatureServer/{layer}"

    def get(self, url: str, deadline: Deadline, what: str) -> dict[str, Any]:
        """:func:`net.get_json` with this session's timeout and retries."""
        return net.get_json(
            url, timeout=self.timeout, retries=self.retries, deadline=deadline, what=what
        )

    def services(self, deadline: Deadline) -> list[str]:
        """FeatureServer names in ``{base}/rest/services?f=json`` (read once per session)."""
        if self._services is None:
            listing = self.get(f"{self.base}/rest/services?f=json", deadline, "list the services")
            found = listing.get("services")
            self._services = [
                str(s["name"])
                for s in (found if isinstance(found, list) else [])
                if isinstance(s, dict)
                and "name" in s
                and s.get("type", "FeatureServer") == "FeatureServer"
            ]
        return self._services


def _is_layer(meta: dict[str, Any]) -> bool:
    return "fields" in meta or "maxRecordCount" in meta


def resolve_service(
    ds: Dataset, session: Session, deadline: Deadline
) -> tuple[str, dict[str, Any], str]:
    """Find the service of ``ds``: ``(name, layer metadata, how it was found)``.

    Raises
    ------
    DownloadError
        No seen name answers and no listed name matches the pattern.
    UnreachableError
        The server cannot be reached (raised at the first request).
    """
    remote = ds.remote
    assert remote is not None
    assert remote.type == "featureserver"
    for name in remote.services:
        try:
            meta = session.get(
                f"{session.layer_url(name, remote.layer)}?f=json", deadline, "read the metadata"
            )
        except ServiceError:  # not (or no longer) a service of this server: try the next name
            continue
        if _is_layer(meta):
            return name, meta, "name seen in use"
    names = session.services(deadline)
    lowered = {n.lower(): n for n in names}
    tried = set(remote.services)
    listed = [lowered[c.lower()] for c in remote.services if lowered.get(c.lower(), c) not in tried]
    rx = re.compile(remote.pattern, re.IGNORECASE) if remote.pattern else None
    matched = sorted(
        n for n in names if rx is not None and rx.fullmatch(n) and n not in tried | set(listed)
    )
    for name, how in [(n, "services list") for n in listed] + [
        (n, f"services list, pattern {remote.pattern}") for n in reversed(matched)
    ]:
        try:
            meta = session.get(
                f"{session.layer_url(name, remote.layer)}?f=json", deadline, "read the metadata"
            )
        except ServiceError:
            continue
        if _is_layer(meta):
            logger.info("%s: using service %s (found in the %s)", ds.id, name, how)
            return name, meta, how
    msg = (
        f"No service for {ds.id} at {session.base}: tried "
        f"{', '.join(remote.services) or 'no seen names'}, then the pattern "
        f"{remote.pattern!r} against {len(names)} listed services. Nothing was saved. Fix: find "
        f"the current name on https://geoportal.statistics.gov.uk and add it to `services` of "
        f"{ds.id} in registry.json."
    )
    raise DownloadError(msg)


def match_columns(expected: Iterable[str], available: Iterable[str]) -> tuple[list[str], list[str]]:
    """Match ``expected`` specs (``"A|B"``: either) case-insensitively -> (matched, missing).

    Examples
    --------
    >>> match_columns(["CCG19CD", "UTLA19CD|CTYUA19CD", "X"], ["ccg19cd", "CTYUA19CD"])
    (['ccg19cd', 'CTYUA19CD'], ['X'])
    """
    lowered = {str(col).lower(): str(col) for col in available}
    matched, missing = [], []
    for spec in expected:
        hit = next(
            (lowered[alt.lower()] for alt in spec.split("|") if alt.lower() in lowered), None
        )
        if hit is None:
            missing.append(spec)
        else:
            matched.append(hit)
    return matched, missing


def _signed_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring))


def _inside(point: list[float], ring: list[list[float]]) -> bool:
    x, y = point[0], point[1]
    hit = False
    for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def esri_to_geojson(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """Convert an Esri JSON polygon (``rings``) or point to a GeoJSON geometry.

    Notes
    -----
    Esri rings are outer boundaries when clockwise (signed area A < 0, with
    :math:`A = \\tfrac12 \\sum_i (x_i y_{i+1} - x_{i+1} y_i)`) and holes when anticlockwise. Each
    hole goes to the smallest outer ring containing its first vertex (even-odd ray test). One
    outer ring gives a ``Polygon``, several a ``MultiPolygon``; rings are written in the GeoJSON
    order (outer anticlockwise, holes clockwise).

    Examples
    --------
    >>> square = [[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]]          # clockwise: outer
    >>> hole = [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]            # anticlockwise: hole
    >>> far = [[9, 9], [9, 10], [10, 10], [10, 9], [9, 9]]
    >>> g = esri_to_geojson({"rings": [square, hole, far]})
    >>> g["type"], [len(p) for p in g["coordinates"]]
    ('MultiPolygon', [2, 1])
    >>> esri_to_geojson({"x": 1.5, "y": 2.0})
    {'type': 'Point', 'coordinates': [1.5, 2.0]}
    """
    if not geometry:
        return None
    if "x" in geometry and "y" in geometry:
        return {"type": "Point", "coordinates": [geometry["x"], geometry["y"]]}
    rings = [r for r in geometry.get("rings") or [] if len(r) >= 4]
    if not rings:
        return None
    outers: list[tuple[float, list[list[float]], list[list[list[float]]]]] = []
    holes = []
    for ring in rings:
        area = _signed_area(ring)
        if area < 0:
            outers.append((-area, ring[::-1], []))
        else:
            holes.append(ring)
    if not outers:  # all anticlockwise: not Esri order after all, take them as outers
        outers = [(abs(_signed_area(r)), r, []) for r in holes]
        holes = []
    for hole in holes:
        owners = [o for o in outers if _inside(hole[0], o[1])]
        owner = min(owners, key=lambda o: o[0]) if owners else max(outers, key=lambda o: o[0])
        owner[2].append(hole[::-1])
    polygons = [[outer, *inner] for _, outer, inner in outers]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def page_features(
    ds: Dataset,
    session: Session,
    service: str,
    meta: dict[str, Any],
    deadline: Deadline,
    progress: Any = None,
) -> tuple[list[dict[str, Any]], str]:
    """Every row of the layer as GeoJSON features, paged by the layer's ``maxRecordCount``.

    Returns
    -------
    tuple of (list of dict, str)
        The features and the object-id field name.
    """
    remote: Remote | None = ds.remote
    assert remote is not None
    layer_url = session.layer_url(service, remote.layer)
    page_size = meta.get("maxRecordCount")
    if not isinstance(page_size, int) or page_size <= 0:
        logger.warning("%s has no usable maxRecordCount (%r); using 1000", service, page_size)
        page_size = 1000
    oid = meta.get("objectIdField") or next(
        (f.get("name") for f in meta.get("fields") or [] if f.get("type") == "esriFieldTypeOID"),
        "OBJECTID",
    )
    table = remote.filename.lower().endswith(".csv")
    query = f"{layer_url}/query?"
    counted = session.get(
        query + urllib.parse.urlencode({"where": "1=1", "returnCountOnly": "true", "f": "json"}),
        deadline,
        f"count the rows of {service}",
    )
    total = counted.get("count")
    if not isinstance(total, int):
        msg = f"Could not count the rows of {service}: the server answered {str(counted)[:200]}."
        raise DownloadError(msg)
    features: list[dict[str, Any]] = []
    pages = 0
    while True:
        params: dict[str, Any] = {
            "where": "1=1",
            "outFields": "*",
            "f": "json",
            "resultOffset": len(features),
            "resultRecordCount": page_size,
            "orderByFields": oid,
        }
        if table:
            params["returnGeometry"] = "false"
        else:
            params["outSR"] = remote.out_sr
        page = session.get(
            query + urllib.parse.urlencode(params),
            deadline,
            f"download page {pages + 1} of {service} (offset {len(features)})",
        )
        pages += 1
        batch = page.get("features")
        if not isinstance(batch, list):
            msg = f"Page {pages} of {service} is not Esri JSON: {str(page)[:200]}"
            raise DownloadError(msg)
        if batch and not table:
            sr = page.get("spatialReference") or {}
            if remote.out_sr not in (sr.get("wkid"), sr.get("latestWkid")):
                msg = (
                    f"{service} answered in spatial reference {sr or 'unknown'} although "
                    f"outSR={remote.out_sr} was asked for. Nothing was saved. Fix: report it; "
                    "the server no longer honours outSR for this layer."
                )
                raise DownloadError(msg)
        properties = page.get("properties")
        exceeded = bool(
            page.get("exceededTransferLimit")
            or (isinstance(properties, dict) and properties.get("exceededTransferLimit"))
        )
        for item in batch:
            attributes = item.get("attributes") or {}
            features.append(
                {
                    "type": "Feature",
                    "id": attributes.get(oid),
                    "geometry": None if table else esri_to_geojson(item.get("geometry")),
                    "properties": attributes,
                }
            )
        if progress is not None:
            progress(len(batch))
        if not batch:
            if exceeded:
                msg = (
                    f"{service} reported more rows (exceededTransferLimit) but sent an empty "
                    f"page at offset {len(features)}. Nothing was saved. Fix: try again later."
                )
                raise DownloadError(msg)
            break
        if not (exceeded or len(features) < total):
            break
        if pages > total // page_size + total // 50 + 5:
            msg = f"{service} kept sending pages past its {total} rows; nothing was saved."
            raise DownloadError(msg)
    logger.info(
        "%s: %d rows of %s in %d pages of %d", ds.id, len(features), service, pages, page_size
    )
    check_features(ds, service, features, total, oid)
    return features, oid


def check_features(
    ds: Dataset, service: str, features: list[dict[str, Any]], total: int, oid: str
) -> None:
    """Refuse rows that are incomplete, duplicated, or not the registered dataset."""
    problems = []
    if len(features) != total:
        problems.append(
            f"received {len(features)} rows but the server counts {total} (returnCountOnly); "
            "the service may have changed during the download"
        )
    props = [f.get("properties") or {} for f in features]
    ids = [p.get(oid) for p in props]
    if all(i is not None for i in ids) and len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} rows arrived twice (duplicate {oid})")
    if ds.expected_columns and props:
        matched, missing = match_columns(ds.expected_columns, props[0])
        if missing:
            problems.append(
                f"columns {', '.join(missing)} are missing (it has {', '.join(map(str, props[0]))})"
            )
        elif ds.expected_rows is not None:
            code = matched[0]
            england = sum(str(p.get(code) or "").startswith("E") for p in props)
            if england != ds.expected_rows:
                problems.append(
                    f"it has {england} England ({code} E*) rows but the registry expects "
                    f"{ds.expected_rows}"
                )
    if problems:
        msg = (
            f"The download of {ds.id} from {service} was refused: {'; '.join(problems)}. Nothing "
            "was saved. Fix: if ONS replaced the service, correct its name in registry.json."
        )
        raise DownloadError(msg)
