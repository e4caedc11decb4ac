"""Shared test helpers: the tiny hand-built geography, the fixtures on it and on the real data,
and checks of text in pages and PDFs.

The tiny geography (:func:`tiny_geography`) is a 2 × 2 grid of lower-tier councils, 10 km
squares, each made of a west and an east LSOA (people in brackets)::

    +-----------+-----------+
    | a (500|500)| b (300|700)|      a, c: districts of county U (upper tier)
    +-----------+-----------+      b, d: unitary councils (both tiers)
    | c (500|500)| d (500|500)|
    +-----------+-----------+

CCG C1 = a + c + west half of b; CCG C2 = east half of b + d; one system S. So the footprint
{C1} holds all of county U (contained) and 300 of b's 1,000 people: b is split (30% inside).
Names carry HTML/JS so that escaping is tested everywhere.

The fixtures are named ``tiny`` and ``geo``; a test module that uses them imports them as
``from helpers import tiny_fixture as tiny_fixture`` (the redundant alias marks a deliberate
import that pytest, not the module's code, uses).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import geopandas as gpd
import pandas as pd
import pypdf
import pytest
import shapely
from shapely.geometry import box

from coterminus.geography.bundle import Geography

XSS = "<script>alert('a')</script><img src=x onerror=alert(2)>Alpha"
#: Coventry and Warwickshire (2019) and its three CCGs.
CW = "E54000018"
CW_CCGS = ["E38000038", "E38000164", "E38000195"]
X0, Y0, KM = 420_000.0, 260_000.0, 1_000.0
#: The attribution every 2019 map, figure and report carries (the two sentences, and whole).
ATTR_START = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
)
ATTR_OS = "Contains OS data © Crown copyright and database right 2019."
ATTR = f"{ATTR_START} {ATTR_OS}"


def skip_or_fail(msg: str) -> NoReturn:
    """Skip a test whose environment is missing here; under CI (``CI`` set) fail instead, so a
    missing browser, data folder or network namespace cannot hide a regression there."""
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def tiny_geography(vintage: int = 2019) -> Geography:
    """The 2 × 2 grid of the module docstring as a :class:`Geography`."""
    # LSOA: (code, la, half, people, ccg)
    cells = {"a": (0, 1), "b": (1, 1), "c": (0, 0), "d": (1, 0)}
    people = {
        ("a", "w"): 500,
        ("a", "e"): 500,
        ("b", "w"): 300,
        ("b", "e"): 700,
        ("c", "w"): 500,
        ("c", "e"): 500,
        ("d", "w"): 500,
        ("d", "e"): 500,
    }
    ltla_code = {"a": "E07900001", "b": "E06900001", "c": "E07900002", "d": "E06900002"}
    utla_code = {"a": "E10900001", "b": "E06900001", "c": "E10900001", "d": "E06900002"}
    rows, geoms = [], []
    for (la, half), pop in people.items():
        cx, cy = cells[la]
        x = X0 + cx * 10 * KM + (0 if half == "w" else 5 * KM)
        y = Y0 + cy * 10 * KM
        geoms.append(box(x, y, x + 5 * KM, y + 10 * KM))
        ccg = "E38900002" if (la == "d" or (la, half) == ("b", "e")) else "E38900001"
        rows.append(
            {
                "lsoa": f"E01{la}{half}",
                "name": f"{la} {half}",
                "ccg": ccg,
                "stp": "E54900001",
                "ltla": ltla_code[la],
                "utla": utla_code[la],
                "population": pop,
            }
        )
    lsoa = pd.DataFrame(rows).set_index("lsoa")
    lsoa_g = gpd.GeoDataFrame(lsoa, geometry=geoms, crs=27700)

    def layer(level: str, names: dict[str, str], extra: dict[str, dict[str, str]] | None = None):
        g = lsoa_g.dissolve(by=level, aggfunc={"population": "sum"})
        g["n_lsoa"] = lsoa_g.groupby(level).size()
        g.insert(0, "name", [names[c] for c in g.index])
        for col, values in (extra or {}).items():
            g[col] = [values[c] for c in g.index]
        g.index.name = "code"
        g["geometry"] = g.geometry.apply(
            lambda geom: shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom
        )
        return g[[c for c in g.columns if c != "geometry"] + ["geometry"]]

    ccg = layer(
        "ccg",
        {"E38900001": "NHS <b>Bold</b> & Co CCG", "E38900002": "NHS East CCG"},
        {
            "nhs_code": {"E38900001": "99A", "E38900002": "99B"},
            "stp": {"E38900001": "E54900001", "E38900002": "E54900001"},
        },
    )
    ccg = ccg[["name", "nhs_code", "population", "n_lsoa", "stp", "geometry"]]
    stp = layer("stp", {"E54900001": "Grid System"})
    ltla = layer(
        "ltla",
        {"E07900001": XSS, "E06900001": "Bee", "E07900002": "Sea", "E06900002": "Dee"},
        {"utla": {v: utla_code[k] for k, v in ltla_code.items()}},
    )
    utla = layer("utla", {"E10900001": "Countyshire", "E06900001": "Bee", "E06900002": "Dee"})
    lsoa.attrs = {"vintage": vintage}
    return Geography(vintage=vintage, ccg=ccg, stp=stp, ltla=ltla, utla=utla, lsoa=lsoa)


@pytest.fixture(name="tiny")
def tiny_fixture() -> Geography:
    """The tiny geography (2019)."""
    return tiny_geography()


@pytest.fixture(name="geo", scope="module")
def geo_fixture(geo2019: Geography) -> Geography:
    """The real 2019 geography: the session's ``geo2019`` (tests/conftest.py), shared by every
    module (do not change it)."""
    return geo2019


def assert_contains(text: str, *parts: str) -> None:
    """Assert that every one of ``parts`` is in ``text`` (the message lists those missing)."""
    missing = [p for p in parts if p not in text]
    assert not missing, f"missing from the text: {missing!r}"


def pdf_text(path: Path) -> tuple[int, str]:
    """The number of pages of a PDF and its text, white space folded to single spaces."""
    reader = pypdf.PdfReader(str(path))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), " ".join(text.split())
