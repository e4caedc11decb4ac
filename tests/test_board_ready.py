"""Every README image, notebook figure, map and report page, rendered and checked for a board.

The cases are those of ``scripts/make_docs_images.py`` (which writes ``docs/img/`` from the
same code), drawn on the embedded data. Each rendered output is checked as a reader sees it:

* no two labels overlap (matplotlib text extents from the renderer; DOM rects in Chromium);
* every council behind a mismatch is named — the names come from the data (the assessment's
  ``mismatch`` and the blocks behind it, or the overlap table for split areas), never from
  the drawing;
* the frame is within 1.5 × the footprint's bounds (and holds all of it, clear of the legend
  and the layer control on an interactive map);
* the north arrow and scale bar sit off the footprint, every boundary line is drawn over the
  fills with a white casing, and the legend lists exactly what is drawn;
* no report section is empty, no code or short header breaks across lines, and the licence
  sentence is said once.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from matplotlib.collections import LineCollection, PolyCollection

from coterminus.outputs._page import renderer_of

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_docs_images", REPO / "scripts" / "make_docs_images.py"
)
assert _spec is not None
assert _spec.loader is not None
docs = importlib.util.module_from_spec(_spec)
sys.modules["make_docs_images"] = docs
_spec.loader.exec_module(docs)

CASES = {c.name: c for c in docs.CASES}
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def g() -> dict[int, Any]:
    return docs.geographies()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("board")


# ------------------------------------------------------------------------------------------
# what the data says must be named
# ------------------------------------------------------------------------------------------
def behind_mismatch(a: Any) -> set[str]:
    """Names of the areas behind an assessment's mismatches, from its table and the blocks.

    Every area of a mismatch row, and the areas of the finest council level assessed against
    that hold the blocks of a coarser level's mismatch (plain pandas on the block table).
    """
    geo = a.geo
    names = set(a.mismatch["la_name"])
    councils = [lv for lv in a.against if geo.level(lv).side == "council"]
    finest = max(councils, key=lambda lv: len(geo.units(lv)))
    lsoa = geo.lsoa
    inside = lsoa[a.units].isin(a.members)
    for _, r in a.mismatch.iterrows():
        if r["tier"] == finest or r["tier"] not in councils:
            continue
        rows = lsoa[
            (lsoa[r["tier"]] == r["la"])
            & (inside if r["direction"] == "footprint_outside_la_set" else ~inside)
        ]
        names |= set(geo.units(finest)["name"].reindex(rows[finest].dropna().unique()))
    return names


def split_areas(geo: Any, units: str, against: str, eps: float = 0.005) -> set[str]:
    """Names of the areas of ``against`` with more than ε of their people in two or more units."""
    lsoa = geo.lsoa.dropna(subset=[units, against])
    people = lsoa.groupby([against, units])["population"].sum()
    share = (
        people
        / geo.units(against)["population"].reindex(people.index.get_level_values(0)).to_numpy()
    )
    n = (share > eps).groupby(level=0).sum()
    return set(geo.units(against)["name"].reindex(n.index[n >= 2]))


def sliver_names(a: Any, eps: float = 0.005) -> set[str]:
    """Areas with at most ε of them inside the footprint: listed under a map, not drawn."""
    out = set()
    for lv, m in a.tiers.items():
        thin = m.by_la[(m.by_la["in_footprint"] > 0) & (m.by_la["share_of_la"] <= eps)]
        out |= set(a.geo.units(lv)["name"].reindex(thin.index))
    return out


# ------------------------------------------------------------------------------------------
# print figures
# ------------------------------------------------------------------------------------------
def _texts(fig: Any) -> list[Any]:
    texts = list(fig.texts)
    for leg in fig.legends:
        texts += [*leg.get_texts(), leg.get_title()]
    for ax in fig.axes:
        texts += list(ax.texts)
        texts += [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def assert_no_label_overlaps(fig: Any) -> None:
    r = renderer_of(fig)
    items = [(t, t.get_window_extent(r)) for t in _texts(fig)]
    bad = [
        (a.get_text(), b.get_text())
        for (a, ea), (b, eb) in itertools.combinations(items, 2)
        if min(ea.x1, eb.x1) - max(ea.x0, eb.x0) > 0.5
        and min(ea.y1, eb.y1) - max(ea.y0, eb.y0) > 0.5
    ]
    assert not bad, f"overlapping labels: {bad[:5]}"


def _label_names(ax: Any) -> set[str]:
    out = set()
    for t in ax.texts:
        if t.get_gid() != "coterminus-label":
            continue
        lines = t.get_text().split("\n")
        if len(lines) > 1 and re.fullmatch(r"\d+%", lines[-1]):
            lines = lines[:-1]
        out.add(" ".join(" ".join(lines).split()))
    return out


def _map_axes(fig: Any) -> list[Any]:
    return [
        ax
        for ax in fig.axes
        if any(c.get_gid() and str(c.get_gid()).startswith("ct:") for c in ax.collections)
    ]


def assert_named(fig: Any, names: set[str], *, listed: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    on_map = set().union(*(_label_names(ax) for ax in _map_axes(fig)))
    page = " ".join(t.get_text() for t in _texts(fig)).replace("\n", " ")
    missing = [n for n in names if n not in on_map and not (n in listed and n in page)]
    assert not missing, f"not named on the map: {missing}"


def assert_frame(ax: Any, focus: np.ndarray, cap: float = 1.5) -> None:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    fx0, fy0, fx1, fy1 = focus
    tol = 0.02 * max(fx1 - fx0, fy1 - fy0)
    holds = x0 <= fx0 + tol and x1 >= fx1 - tol and y0 <= fy0 + tol and y1 >= fy1 - tol
    assert holds, "the frame cuts the footprint"
    assert (x1 - x0) <= cap * (fx1 - fx0) + tol, (x1 - x0) / (fx1 - fx0)
    assert (y1 - y0) <= cap * (fy1 - fy0) + tol, (y1 - y0) / (fy1 - fy0)


def assert_furniture_off(ax: Any, footprint: Any) -> None:
    r = renderer_of(ax.figure)
    inv = ax.transData.inverted()
    pieces = [t for t in ax.texts if t.get_gid() == "coterminus-furniture"]
    pieces += [p for p in ax.patches if p.get_gid() == "coterminus-furniture"]
    arrows = [getattr(t, "arrow_patch", None) for t in pieces]
    assert pieces, "no scale bar or north arrow"
    for p in [*pieces, *[a for a in arrows if a is not None]]:
        e = p.get_window_extent(r)
        (bx0, by0), (bx1, by1) = inv.transform([[e.x0, e.y0], [e.x1, e.y1]])
        box = shapely.box(bx0, by0, bx1, by1)
        assert footprint.intersection(box).area <= 0.05 * box.area, "furniture on the footprint"


def assert_legend_is_drawn(fig: Any) -> None:
    listed = {  # each entry's text carries the gid of the element it stands for
        str(t.get_gid())
        for leg in fig.legends
        for t in leg.get_texts()
        if str(t.get_gid()).startswith("ct:")
    }
    drawn = {
        str(c.get_gid())
        for ax in _map_axes(fig)
        for c in ax.collections
        if str(c.get_gid()).startswith("ct:") and len(c.get_paths())
    }
    assert listed, "no legend entries"
    assert listed == drawn, (sorted(listed - drawn), sorted(drawn - listed))


def assert_boundaries_visible(fig: Any) -> None:
    for ax in _map_axes(fig):
        fills = [
            c.get_zorder()
            for c in ax.collections
            if not isinstance(c, LineCollection) and str(c.get_gid()).startswith("ct:")
        ]
        for c in ax.collections:
            if not isinstance(c, LineCollection) or not str(c.get_gid()).startswith("ct:"):
                continue
            if c.get_gid() == "ct:context":
                continue
            assert c.get_zorder() > max(fills), c.get_gid()
            lw = float(np.max(c.get_linewidths()))
            strokes = [pe for pe in (c.get_path_effects() or []) if hasattr(pe, "_gc")]
            assert any(
                pe._gc.get("foreground") == "white" and pe._gc.get("linewidth", 0) > lw
                for pe in strokes
            ), f"{c.get_gid()} has no white casing"


def check_figure(
    fig: Any,
    *,
    names: set[str],
    focus: np.ndarray | None,
    footprint: Any,
    listed: set[str] = frozenset(),
) -> None:  # type: ignore[assignment]
    assert_no_label_overlaps(fig)
    assert_named(fig, names, listed=listed)
    assert_legend_is_drawn(fig)
    assert_boundaries_visible(fig)
    for ax in _map_axes(fig):
        if focus is not None:
            assert_frame(ax, focus)
        if footprint is not None and any(t.get_gid() == "coterminus-furniture" for t in ax.texts):
            assert_furniture_off(ax, footprint)


def _footprint(geo: Any, level: str, codes: list[str]) -> tuple[np.ndarray, Any]:
    polys = geo.layer(level).geometry.loc[codes]
    return np.asarray(polys.total_bounds), shapely.union_all(polys.to_numpy())


def test_coventry_and_rugby_print_map_names_rugby(g: dict[int, Any], out: Path) -> None:
    case = CASES["coventry-rugby-map"]
    a = case.result(g)
    names = behind_mismatch(a)
    assert names == {"Warwickshire", "Rugby"}  # the data: Rugby's people are Warwickshire's part
    done = docs.render(case, g, out)
    focus, fp = _footprint(a.geo, a.units, a.members)
    check_figure(done["object"], names=names, focus=focus, footprint=fp)


def test_frimley_print_map_frames_the_icb_and_names_every_council_behind_it(
    g: dict[int, Any], out: Path
) -> None:
    case = CASES["frimley-map"]
    a = case.result(g)
    names = behind_mismatch(a)
    assert {"Hampshire", "Surrey", "Hart", "Rushmoor", "Surrey Heath"} <= names
    done = docs.render(case, g, out)
    fig = done["object"]
    focus, fp = _footprint(a.geo, a.units, a.members)
    check_figure(fig, names=names, focus=focus, footprint=fp)
    labels = " ".join(str(h.get_label()) for leg in fig.legends for h in leg.legend_handles)
    assert "combined authority" not in labels  # none is touched, so none is drawn or listed


def test_midlands_plan_lists_the_one_lsoa_of_oxfordshire_and_keeps_the_arrow_off_the_map(
    g: dict[int, Any], out: Path
) -> None:
    case = CASES["midlands-plan"]
    plan = case.result(g)
    geo = g[2024]
    members = sorted({c for a in plan.values() for c in a.members})
    slivers = set().union(*(sliver_names(a) for a in plan.values()))
    assert "Oxfordshire" in slivers
    done = docs.render(case, g, out)
    fig = done["object"]
    focus, fp = _footprint(geo, "icb", members)
    check_figure(fig, names=set(), focus=focus, footprint=fp)
    ax = _map_axes(fig)[0]
    assert "Oxfordshire" not in _label_names(ax)
    page = " ".join(t.get_text() for t in _texts(fig))
    assert "Oxfordshire" in page
    assert "listed, not drawn" in page


def test_england_map_names_every_council_split_between_systems(
    g: dict[int, Any], out: Path
) -> None:
    geo = g[2019]
    names = split_areas(geo, "stp", "utla")
    assert len(names) >= 10
    done = docs.render(CASES["england-one-ccg-per-ics"], g, out)
    focus, _fp = _footprint(geo, "stp", list(geo.units("stp").index))
    check_figure(done["object"], names=names, focus=focus, footprint=None)


def test_icbs_against_combined_authorities_show_england_around_the_split_ones(
    g: dict[int, Any], out: Path
) -> None:
    geo = g[2024]
    names = split_areas(geo, "icb", "cauth")
    done = docs.render(CASES["icbs-and-combined-authorities"], g, out)
    fig = done["object"]
    lsoa = geo.lsoa.dropna(subset=["cauth"])
    split_codes = set(geo.units("cauth").index[geo.units("cauth")["name"].isin(names)])
    chosen = sorted(set(lsoa.loc[lsoa["cauth"].isin(split_codes), "icb"]))
    focus, fp = _footprint(geo, "icb", chosen)
    check_figure(fig, names=names, focus=focus, footprint=fp)
    ax = _map_axes(fig)[0]
    context = [c for c in ax.collections if c.get_gid() == "ct:context"]
    assert context
    assert len(context[0].get_paths()) >= 42 - len(chosen) - 1


def held_by(geo: Any, units: str, against: str, name: str) -> dict[str, float]:
    """The units holding people of the area ``name`` of ``against``, and the share of it in each."""
    code = geo.units(against).index[geo.units(against)["name"] == name][0]
    lsoa = geo.lsoa[geo.lsoa[against] == code]
    people = lsoa.groupby(units)["population"].sum()
    people = people[people > 0] / people.sum()
    return dict(zip(geo.units(units)["name"].reindex(people.index), people, strict=True))


def check_scorecard(fig: Any, a: Any, geo: Any) -> set[str]:
    """A scorecard map: framed on England, every authority split between units named on the
    map and listed under it with each unit holding its people; returns the split names."""
    names = split_areas(geo, a.level, a.authority_level)
    units = geo.layer(a.level)
    check_figure(
        fig,
        names=names,
        focus=np.asarray(units.total_bounds),
        footprint=shapely.union_all(units.geometry.to_numpy()),
    )
    page = [" ".join(t.get_text().split()) for t in _texts(fig)]
    assert " ".join(page).count("Source: Office for National Statistics") == 1
    (key,) = [t for t in page if "split between" in t and t.count(":") >= len(names)]
    for name in names:  # "<authority>: <unit> (share); <unit> (share)", in the data's words
        line = key.split(f"{name}: ", 1)[1]
        for unit, share in held_by(geo, a.level, a.authority_level, name).items():
            short = unit.removeprefix("NHS ").removesuffix(" Integrated Care Board")
            assert f"{short} ({share:.1%})" in line, (name, short, line[:200])
    return names


def test_the_2026_scorecard_names_every_strategic_authority_split_between_icbs(
    g: dict[int, Any], out: Path
) -> None:
    a = CASES["alignment-2026"].result(g)
    geo = g[2026]
    # the data: the ICBs by status, every one of the 36 drawn; 7 of the 20 authorities split
    assert len(a.units) == len(geo.units("icb")) == 36
    names = split_areas(geo, "icb", "sa")
    assert len(names) == 7
    assert {"Greater London Authority", "West Midlands", "Cumbria"} <= names
    done = docs.render(CASES["alignment-2026"], g, out)
    fig = done["object"]
    assert check_scorecard(fig, a, geo) == names
    (ax,) = fig.axes
    assert names == _label_names(ax)  # the split ones, and only they, are named on the map
    note = " ".join(t.get_text() for t in fig.texts)
    said = [s.strip() for s in " ".join(note.split()).split(". ") if s.strip()]
    assert len(said) == len(set(said)), "a note said twice"
    # the key lists each status present, and the authorities' outline: what is drawn
    key = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert len(key) == a.units["status"].nunique() + 1, key


def test_plans_compared_name_their_split_councils(g: dict[int, Any], out: Path) -> None:
    done = docs.render(CASES["cheshire-merseyside-plans"], g, out)
    fig = done["object"]
    assert_no_label_overlaps(fig)
    assert_boundaries_visible(fig)
    assert len(_map_axes(fig)) == 6


# ------------------------------------------------------------------------------------------
# interactive maps (headless Chromium)
# ------------------------------------------------------------------------------------------
MAP_JS = """
(focus) => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] && window[k]._loaded);
  const m = window[key];
  const box = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
  const labels = [...document.querySelectorAll('[data-ct-label]')]
    .filter(el => el.parentElement.style.display !== 'none')
    .map(el => ({name: el.textContent, r: box(el.getBoundingClientRect())}));
  const controls = [...document.querySelectorAll('.leaflet-control')]
    .map(el => ({cls: el.className, r: box(el.getBoundingClientRect())}));
  const sw = m.latLngToContainerPoint([focus[0][0], focus[0][1]]);
  const ne = m.latLngToContainerPoint([focus[1][0], focus[1][1]]);
  const c = m.getContainer().getBoundingClientRect();
  const path = document.querySelector('.leaflet-ct-lines-pane path');
  return {labels, controls, focus: {left: sw.x + c.left, right: ne.x + c.left, top: ne.y + c.top,
          bottom: sw.y + c.top}, size: [c.width, c.height],
          legend: document.querySelector('.coterminus-legend').innerText,
          filter: path ? getComputedStyle(path).filter : ''};
}
"""


def _hit(a: dict[str, float], b: dict[str, float], px: float = 0.5) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > px
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > px
    )


def check_map(page: Path, *, names: set[str], focus_lonlat: np.ndarray) -> dict[str, Any]:
    from browser import open_page

    w, s, e, n = (float(x) for x in focus_lonlat)
    with open_page(page, viewport=docs.MAP_VIEWPORT, settle_ms=600) as shot:
        assert not shot.js_errors, shot.js_errors
        got = shot.page.evaluate(MAP_JS, [[s, w], [n, e]])
    labels, controls, f = got["labels"], got["controls"], got["focus"]
    for a, b in itertools.combinations(labels, 2):
        assert not _hit(a["r"], b["r"]), (a["name"], b["name"])
    for lab in labels:
        for c in controls:
            assert not _hit(lab["r"], c["r"]), (lab["name"], c["cls"])
    shown = {lab["name"] for lab in labels}
    assert names <= shown, f"not named on the map: {sorted(names - shown)}"
    W, H = got["size"]
    inside = f["left"] >= -1 and f["top"] >= -1 and f["right"] <= W + 1 and f["bottom"] <= H + 1
    assert inside, f
    for c in controls:  # the footprint is clear of the legend and the layer control
        if "coterminus-legend" in c["cls"] or "leaflet-control-layers" in c["cls"]:
            assert not _hit(f, c["r"], px=2), c["cls"]
    legend = next(c["r"] for c in controls if "coterminus-legend" in c["cls"])
    layers = next(c["r"] for c in controls if "leaflet-control-layers" in c["cls"])
    free_w = W - (legend["right"] - legend["left"]) - (layers["right"] - layers["left"]) - 32
    fw, fh = f["right"] - f["left"], f["bottom"] - f["top"]
    assert max(fw / free_w, fh / H) >= 1 / 1.5, (fw, fh, free_w, H)  # frame ≤ 1.5 × footprint
    assert "drop-shadow" in got["filter"]  # every boundary has a white halo over the fills
    return got


def _lonlat(geo: Any, level: str, codes: list[str]) -> np.ndarray:
    return np.asarray(geo.layer(level).geometry.loc[codes].to_crs(4326).total_bounds)


@pytest.mark.browser
def test_frimley_interactive_map_is_framed_clear_of_the_legend_and_names_everyone(
    g: dict[int, Any], out: Path
) -> None:
    case = CASES["interactive-map"]
    a = case.result(g)
    done = docs.render(case, g, out)
    got = check_map(
        done["html"], names=behind_mismatch(a), focus_lonlat=_lonlat(a.geo, a.units, a.members)
    )
    assert "Behind the mismatch" in got["legend"]
    assert "combined authority" not in got["legend"].split("Behind")[0]


@pytest.mark.browser
def test_coventry_and_rugby_interactive_map_names_rugby(g: dict[int, Any], out: Path) -> None:
    case = CASES["coventry-rugby-interactive"]
    a = case.result(g)
    done = docs.render(case, g, out)
    check_map(
        done["html"],
        names={"Warwickshire", "Rugby"},
        focus_lonlat=_lonlat(a.geo, a.units, a.members),
    )


@pytest.mark.browser
def test_icbs_against_combined_authorities_interactive_names_the_split_ones(
    g: dict[int, Any], out: Path
) -> None:
    geo = g[2024]
    done = docs.render(CASES["icbs-and-combined-authorities-interactive"], g, out)
    check_map(
        done["html"],
        names=split_areas(geo, "icb", "cauth"),
        focus_lonlat=_lonlat(geo, "icb", list(geo.units("icb").index)),
    )


# ------------------------------------------------------------------------------------------
# reports
# ------------------------------------------------------------------------------------------
REPORT_JS = """
() => {
  const heads = [...document.querySelectorAll('h2, h3')];
  const level = el => /^H[1-6]$/.test(el.tagName) ? Number(el.tagName[1]) : 99;
  const empty = heads.filter(h => {
    // what lies between this heading and the next of the same or a higher level
    let el = h.nextElementSibling, content = '';
    while (el && level(el) > level(h)) {
      content += el.innerText || (el.querySelector && el.querySelector('img') ? 'figure' : '');
      el = el.nextElementSibling;
    }
    if (!el && h.parentElement.tagName === 'SECTION') {
      content += h.parentElement.querySelector('img') ? 'figure' : '';
    }
    return !content.trim();
  }).map(h => h.innerText);
  const emptyTables = [...document.querySelectorAll('table')].filter(t => !t.querySelector('tbody tr')).length;
  const lines = el => { const r = document.createRange(); r.selectNodeContents(el);
    const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top))); return tops.size; };
  const broken = [...document.querySelectorAll('td.code, th')]
    .filter(el => !el.innerText.trim().includes(' ') && el.innerText.trim() && lines(el) > 1)
    .map(el => el.innerText);
  return {empty, emptyTables, broken, text: document.body.innerText};
}
"""


@pytest.mark.browser
@pytest.mark.parametrize("name", ["report", "frimley-report"])
def test_report_pages_have_no_empty_section_no_broken_code_and_one_attribution(
    name: str, g: dict[int, Any], out: Path
) -> None:
    from browser import open_page

    case = CASES[name]
    a = case.result(g)
    done = docs.render(case, g, out)
    with open_page(done["html"], viewport=docs.REPORT_VIEWPORT, settle_ms=300) as shot:
        got = shot.page.evaluate(REPORT_JS)
    assert not got["empty"], got["empty"]
    assert got["emptyTables"] == 0
    assert not got["broken"], got["broken"]
    text = got["text"]
    licence = re.findall(
        r"Source: Office for National Statistics licensed under the Open Government Licence v\.3\.0\.",
        text,
    )
    assert len(licence) == 1
    assert "display (display" not in text
    assert "Polygons simplified for display (" not in text
    assert text.count(a.explain()) == 1  # one explanation, and a verdict per level
    for lv in a.against:
        assert a.geo.label(lv, plural=True).capitalize() in text


def test_frimley_report_pdf_keeps_codes_and_headers_whole(
    g: dict[int, Any], tmp_path: Path
) -> None:
    import pdfplumber

    from coterminus.outputs.report import report

    a = CASES["frimley-report"].result(g)
    pdf = report(g[2024], assessment=a, out=tmp_path / "frimley.pdf")
    with pdfplumber.open(pdf) as doc:
        words = {w["text"] for page in doc.pages for w in page.extract_words()}
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    for code in [*a.mismatch["la"], *a.members]:
        assert code in words, code
    assert "LSOA21s" in words
    assert len(re.findall(r"Source: Office for National Statistics", text)) == 1


# ------------------------------------------------------------------------------------------
# the checks themselves fail on what they look for
# ------------------------------------------------------------------------------------------
def test_the_figure_checks_catch_overlapping_labels_and_a_legend_entry_not_drawn() -> None:
    from matplotlib.patches import Patch

    from coterminus.outputs._page import new_figure

    fig = new_figure((4, 3))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.text(0.5, 0.5, "Hampshire")
    ax.text(0.52, 0.5, "Surrey")
    with pytest.raises(AssertionError, match="overlapping labels"):
        assert_no_label_overlaps(fig)
    ax.add_collection(PolyCollection([[(0, 0), (1, 0), (1, 1)]], gid="ct:shares", zorder=1))
    ax.add_collection(LineCollection([[(0, 0), (1, 1)]], gid="ct:outline"))
    handle = Patch(label="split council (hatched)")
    handle.set_gid("ct:split")
    leg = fig.legend(handles=[handle])
    leg.get_texts()[0].set_gid("ct:split")
    with pytest.raises(AssertionError):
        assert_legend_is_drawn(fig)
    with pytest.raises(AssertionError, match="white casing"):
        assert_boundaries_visible(fig)


@pytest.mark.browser
def test_the_report_checks_catch_an_empty_section_and_a_broken_code(tmp_path: Path) -> None:
    from browser import open_page

    page = tmp_path / "bad.html"
    page.write_text(
        "<html><body><h2>Empty</h2><h2>Full</h2><p>text</p><table><thead><tr><th>A</th></tr>"
        "</thead><tbody></tbody></table><table style='width:40px'><tbody><tr>"
        "<td class='code' style='white-space:normal;overflow-wrap:anywhere'>E10000014</td>"
        "</tr></tbody></table></body></html>",
        encoding="utf-8",
    )
    with open_page(page, viewport=(400, 400), settle_ms=50) as shot:
        got = shot.page.evaluate(REPORT_JS)
    assert got["empty"] == ["Empty"]
    assert got["emptyTables"] == 1
    assert got["broken"] == ["E10000014"]
