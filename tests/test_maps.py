"""Interactive maps: content, simplification, escaping, offline pages, real headless Chromium.

The tiny geography is the 2 × 2 grid drawn in ``helpers``'s docstring: footprint C1 holds
county U wholly and 30% of unitary b (split). Names carry HTML/JS so that escaping is tested
everywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from browser import ARTIFACTS, open_page
from coterminus.analysis.assess import assess
from coterminus.errors import (
    CoterminusWarning,
    CRSError,
    FootprintError,
    OutputError,
    ParameterError,
    UnknownAreaError,
    VintageMismatchError,
)
from coterminus.geography.bundle import Geography
from coterminus.outputs import maps
from coterminus.outputs._simplify import (
    auto_tolerance,
    estimate_geojson_bytes,
    simplify_coverage,
    to_display,
    union_groups,
)
from coterminus.outputs.options import DrawOptions
from helpers import CW, CW_CCGS, X0, Y0, tiny_geography
from helpers import geo_fixture as geo_fixture  # the fixture `geo`
from helpers import tiny_fixture as tiny_fixture  # the fixture `tiny`


def _page(m) -> str:
    return m.get_root().render()


def _paths(r) -> int:
    """SVG paths drawn in every pane of the map (context, areas, lines)."""
    return int(
        r.page.evaluate("() => document.querySelectorAll('.leaflet-map-pane svg path').length")
    )


# ------------------------------------------------------------------------------------------
# simplification
# ------------------------------------------------------------------------------------------
def _wiggly_coverage() -> gpd.GeoDataFrame:
    """Two 10 km squares sharing a wiggly edge (2 m wiggles every 20 m), metres."""
    ys = np.arange(0, 10_001, 20.0)
    xs = 10_000 + 2.0 * np.sin(ys / 37.0)
    edge = list(zip(xs, ys, strict=True))
    left = shapely.Polygon([(0, 0), *edge, (0, 10_000)])
    right = shapely.Polygon([(20_000, 0), (20_000, 10_000), *edge[::-1]])
    return (
        gpd.GeoDataFrame({"name": ["L", "R"]}, geometry=[left, right], crs=27700, index=["L", "R"])
        .translate(X0, Y0)
        .to_frame("geometry")
    )


def test_coverage_simplification_keeps_neighbours_touching_with_no_gap_or_overlap() -> None:
    g = _wiggly_coverage()
    s = simplify_coverage(g, 50)
    n_before = shapely.get_num_coordinates(g.geometry.to_numpy()).sum()
    n_after = shapely.get_num_coordinates(s.geometry.to_numpy()).sum()
    assert n_after < n_before / 10
    left, right = s.geometry
    assert left.intersection(right).area == pytest.approx(0.0, abs=1e-6)  # no overlap
    assert left.union(right).area == pytest.approx(left.area + right.area)  # no gap inside
    assert left.intersection(right).length > 9_999  # still share the whole edge
    assert bool(shapely.coverage_is_valid(s.geometry.to_numpy()))


def test_simplification_refuses_degrees_and_negative_tolerance() -> None:
    g = _wiggly_coverage()
    with pytest.raises(CRSError, match="to_crs"):
        simplify_coverage(g.to_crs(4326), 50)
    with pytest.raises(ParameterError, match="metres"):
        simplify_coverage(g, -1)


def test_outline_of_a_group_lies_on_member_edges() -> None:
    g = _wiggly_coverage()
    s = simplify_coverage(g, 50)
    outline = union_groups(s, {"F": ["L", "R"]}).iloc[0]
    assert outline.geom_type == "Polygon"
    assert outline.area == pytest.approx(s.area.sum())


def test_display_coordinates_are_wgs84_rounded_to_six_places() -> None:
    d = to_display(_wiggly_coverage())
    assert d.crs.to_epsg() == 4326
    xy = shapely.get_coordinates(d.geometry.to_numpy())
    assert np.allclose(xy, np.round(xy, 6), atol=0, rtol=0)
    assert -3 < xy[:, 0].min() < 0
    assert 51 < xy[:, 1].min() < 54


def test_auto_tolerance_is_50_m_for_a_system_and_larger_for_england() -> None:
    assert auto_tolerance((400_000, 230_000, 480_000, 320_000)) == 50.0
    assert 150 <= auto_tolerance((82_000, 5_000, 656_000, 658_000)) <= 250


# ------------------------------------------------------------------------------------------
# map content (tiny geography)
# ------------------------------------------------------------------------------------------
def test_map_layers_of_tiny_footprint_have_exact_shares(tiny: Geography) -> None:
    layers = maps.map_layers(tiny, ["E38900001"], simplify_m=None)
    u = layers.councils["utla"]
    assert sorted(u.index) == ["E06900001", "E10900001"]
    assert u.at["E10900001", "share"] == 1.0
    assert u.at["E10900001", "status"] == "contained"
    assert u.at["E06900001", "share"] == pytest.approx(0.3)
    assert u.at["E06900001", "status"] == "split"
    assert u.at["E06900001", "share_class"] == "minority"
    assert len(layers.ccgs) == 1
    assert len(layers.outlines) == 1
    assert layers.outlines.iloc[0]["population"] == 2300


def test_footprint_map_has_every_layer_legend_control_bounds_and_attribution(
    tiny: Geography,
) -> None:
    m = maps.footprint_map(tiny, ["E38900001"])
    page = _page(m)
    assert "Contains OS data \\u00a9 Crown copyright and database right 2019" in page or (
        "Contains OS data © Crown copyright and database right 2019" in page
    )
    assert (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
        in page
    )
    assert "L.control.layers(" in page
    assert "fitBounds(" in page
    assert "coterminus-legend" in page
    for name in ("Upper-tier councils", "Lower-tier councils", "Member CCGs", "Footprint"):
        assert name in page
    assert "tileLayer" not in page  # no web tiles by default
    # only Leaflet from the CDN: no jQuery, Bootstrap, Font Awesome
    assert "jquery" not in page.lower()
    assert "bootstrap" not in page.lower()


def test_every_name_is_html_escaped_in_the_page(tiny: Geography) -> None:
    m = maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(offline=True))
    page = _page(m)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<b>Bold</b>" not in page
    plan_page = _page(
        maps.plan_map(tiny, [["E38900001"], ["E38900002"]], draw=DrawOptions(tier="both"))
    )
    assert "<script>alert" not in plan_page
    assert "<b>Bold</b>" not in plan_page


def test_map_words_fit_the_measure(tiny: Geography) -> None:
    tiers = ["utla", "ltla"]
    pop = maps.map_layers(tiny, ["E38900001"], against=tiers)
    area = maps.map_layers(tiny, ["E38900001"], measure="area", against=tiers)
    assert pop.outlines.iloc[0]["outside"] == (
        "300 of its people live in upper-tier councils it does not mostly cover; 0 people of its "
        "best-fit upper-tier councils live outside it"  # Bee: 30% of its people inside
    )
    # Bee is half inside by area (best fit): its east half, 50 km², lies outside the footprint
    assert area.outlines.iloc[0]["outside"] == (
        "0.0 km² of it lies in upper-tier councils it does not mostly cover; 50.0 km² of its "
        "best-fit upper-tier councils lies outside it"
    )
    page = maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(tiles=None)).get_root().render()
    assert "people on both sides of the line" in page
    assert "Population shares from LSOA11 building blocks (population)" in page
    m = maps.footprint_map(
        tiny, assessment=assess(tiny, ["E38900001"], measure="area"), draw=DrawOptions(tiles=None)
    )
    page = m.get_root().render()
    assert "area on both sides of the line" in page
    assert "Area shares from boundary polygons" in page
    legend = page[page.index("Area shares") - 3000 : page.index("Area shares")]
    assert not re.search(r"\b(people|live)\b", legend), legend
    with pytest.raises(ParameterError, match="measure"):
        maps.map_layers(tiny, ["E38900001"], measure="volume")  # type: ignore[arg-type]


def test_drawing_on_a_given_map_returns_it_with_one_layer_control(tiny: Geography) -> None:
    import folium

    base = folium.Map(tiles=None)
    folium.LayerControl().add_to(base)
    m = maps.footprint_map(tiny, ["E38900001"], m=base)
    assert m is base
    assert sum(isinstance(c, folium.LayerControl) for c in m._children.values()) == 1
    kinds = [type(c) for c in m._children.values()]
    last_layer = max(i for i, k in enumerate(kinds) if k is folium.GeoJson)
    assert kinds.index(folium.LayerControl) > last_layer  # its script runs after every layer's


def test_plan_layers_give_one_colour_per_new_ccg(tiny: Geography) -> None:
    layers = maps.map_layers(tiny, plan=[["E38900001"], ["99B"]])
    assert list(layers.outlines.index) == ["New CCG 1", "New CCG 2"]
    assert layers.outlines["colour"].nunique() == 2
    b = layers.councils["utla"].loc["E06900001"]
    assert b["n_groups"] == 2
    assert b["group"] == "New CCG 2"
    assert b["share"] == pytest.approx(0.7)
    assert b["status"] == "split"
    assert maps.normalise_plan(tiny, "E38900001;E38900002") == {
        "New CCG 1": ["E38900001"],
        "New CCG 2": ["E38900002"],
    }


def test_bad_plans_and_footprints_say_what_to_fix(tiny: Geography) -> None:
    with pytest.raises(FootprintError, match="only one new CCG"):
        maps.plan_map(tiny, [["E38900001"], ["E38900001", "E38900002"]])
    with pytest.raises(FootprintError, match="no blocks"):
        maps.plan_map(tiny, [])
    with pytest.raises(UnknownAreaError, match="E38999999"):
        maps.footprint_map(tiny, ["E38999999"])
    with pytest.raises(ParameterError, match="tier"):
        maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(tier="parish"))
    with pytest.raises(ParameterError, match="offline"):
        maps.footprint_map(
            tiny, ["E38900001"], draw=DrawOptions(offline=True, tiles="OpenStreetMap")
        )
    with pytest.raises(ParameterError, match="simplify_m"):
        maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(simplify_m=-5))


def test_assessment_of_another_vintage_is_refused(tiny: Geography) -> None:
    from coterminus.analysis.assess import assess

    other = tiny_geography(vintage=2021)
    a = assess(other, ["E38900001"])
    with pytest.raises(VintageMismatchError, match="2021"):
        maps.footprint_map(tiny, assessment=a)


def test_a_large_unsimplified_layer_warns_with_the_expected_size(
    tiny: Geography, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maps, "_MAX_BYTES", 100)
    with pytest.warns(CoterminusWarning, match=r"about 0\.0 MB.*simplify_m=50"):
        maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(simplify_m=None))


def test_save_map_checks_the_path_before_writing(
    tiny: Geography, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = maps.footprint_map(tiny, ["E38900001"])
    with pytest.raises(OutputError, match="does not exist"):
        maps.save_map(m, tmp_path / "missing" / "m.html")
    with pytest.raises(OutputError, match="unknown format"):
        maps.save_map(m, tmp_path / "m.png")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root ignores permissions: make the access check answer as for a user
        import coterminus.data.atomic as atomic

        monkeypatch.setattr(atomic.os, "access", lambda p, mode: Path(p) != ro)
    with pytest.raises(OutputError, match="read-only"):
        maps.save_map(m, ro / "m.html")
    assert not list(tmp_path.glob("**/*.html"))


def test_offline_page_embeds_leaflet_and_loads_nothing_remote(
    tiny: Geography, tmp_path: Path
) -> None:
    m = maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(offline=True))
    out = maps.save_map(m, tmp_path / "m.html")
    page = out.read_text()
    assert "Leaflet 1.9.4" in page
    tags = re.findall(r"<(?:script|link|img)\b[^>]*>", page)
    assert not [t for t in tags if re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", t)]
    assert "url(images/" not in page  # CSS images are data: URIs


def test_an_online_map_can_be_saved_offline_and_plugins_needing_network_are_refused(
    tiny: Geography, tmp_path: Path
) -> None:
    import folium

    m = maps.footprint_map(tiny, ["E38900001"])
    out = maps.save_map(m, tmp_path / "m.html", offline=True)
    assert "cdn.jsdelivr" not in out.read_text()
    # a user's own folium map with default CDN assets and an extra remote script
    plain = folium.Map(tiles=None)
    plain.get_root().header.add_child(folium.JavascriptLink("https://example.org/plugin.js"))
    with pytest.raises(OutputError, match=r"example\.org/plugin\.js"):
        maps.save_map(plain, tmp_path / "p.html", offline=True)
    assert maps.offline_html(folium.Map(tiles=None).get_root().render()).count("<script>") >= 1


def test_vendored_leaflet_has_its_licence() -> None:
    from importlib import resources

    static = resources.files("coterminus.outputs").joinpath("static")
    assert "BSD 2-Clause" in static.joinpath("LICENSE-leaflet.txt").read_text()
    assert "Leaflet 1.9.4" in static.joinpath("leaflet.js").read_text()[:200]


def test_size_estimate_counts_coordinates() -> None:
    assert estimate_geojson_bytes(np.array([box(0, 0, 1, 1)])) == 5 * 24


# ------------------------------------------------------------------------------------------
# real data: Coventry & Warwickshire 2019, England
# ------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_coventry_and_warwickshire_layers_match_the_ons_figures(geo: Geography) -> None:
    layers = maps.map_layers(geo, system=CW)
    assert sorted(layers.ccgs.index) == CW_CCGS
    assert sorted(layers.councils["utla"].index) == ["E08000026", "E10000031"]
    assert len(layers.councils["ltla"]) == 6
    assert (layers.councils["utla"]["status"] == "contained").all()
    assert layers.outlines.iloc[0]["population"] == 949_454
    assert layers.simplify_m == 50.0


@pytest.mark.realdata
def test_coventry_and_rugby_splits_warwickshire(geo: Geography) -> None:
    layers = maps.map_layers(geo, ["05A"])
    w = layers.councils["utla"].loc["E10000031"]
    assert w["status"] == "split"
    assert w["in_group"] == 108_935
    assert w["share"] == pytest.approx(108_935 / 577_933)


@pytest.mark.realdata
def test_a_footprint_of_another_vintage_names_the_right_vintage(geo: Geography) -> None:
    with pytest.raises(VintageMismatchError, match=r"E38000251 is a 2021 CCG code.*load\(2021\)"):
        maps.footprint_map(geo, ["E38000251"])


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_offline_system_map_renders_in_chromium_with_the_network_disabled(
    geo: Geography, tmp_path: Path
) -> None:
    layers = maps.map_layers(geo, system=CW)
    m = maps.draw_layers(layers, draw=DrawOptions(offline=True))
    out = maps.save_map(m, tmp_path / "cw.html")
    size = out.stat().st_size
    assert size <= 1_000_000, f"one system should be ≤ 1 MB, got {size:,} bytes"
    with open_page(out, offline=True) as r:
        counts = r.counts()
        assert r.js_errors == []
        assert r.console_errors == []
        assert r.blocked == []  # nothing but the file itself was requested
        assert all(u.startswith(("file:", "data:")) for u in r.requests)
        assert counts["leaflet"] == "1.9.4"
        assert counts["maps"] == 1
        # outline, utla, ccgs, ltla, and the CCGs around the system (context)
        n_context = len(layers.context)
        assert n_context >= 5
        assert sorted(counts["layers"].values()) == sorted([1, 2, 3, 6, n_context])
        assert _paths(r) == 1 + 2 + 3 + 6 + n_context  # every level is drawn
        # switch the lower tier off: six paths fewer
        r.page.evaluate(
            "() => { const m = Object.keys(window).find(k => k.startsWith('map_'));"
            " for (const k of Object.keys(window)) { if (k.startsWith('geo_json_') &&"
            " typeof window[k].getLayers === 'function' && window[k].getLayers().length === 6)"
            " { window[m].removeLayer(window[k]); } } }"
        )
        assert _paths(r) == 1 + 2 + 3 + n_context
        shot = r.screenshot("map-coventry-warwickshire-offline.png")
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_online_footprint_map_loads_only_leaflet_and_shows_the_split_council(
    geo: Geography, tmp_path: Path
) -> None:
    from importlib import resources

    static = resources.files("coterminus.outputs").joinpath("static")
    serve = {
        "leaflet@1.9.4/dist/leaflet.js": (
            "application/javascript",
            static.joinpath("leaflet.js").read_bytes(),
        ),
        "leaflet@1.9.4/dist/leaflet.css": ("text/css", static.joinpath("leaflet.css").read_bytes()),
    }
    m = maps.footprint_map(geo, ["E38000038"], draw=DrawOptions(tier="utla"))
    out = maps.save_map(m, tmp_path / "cr.html")
    with open_page(out, offline=False, serve=serve) as r:
        assert r.js_errors == []
        remote = [u for u in r.requests if not u.startswith(("file:", "data:"))]
        assert len(remote) == 2
        assert all("leaflet@1.9.4" in u for u in remote)
        counts = r.counts()
        n_context = sorted(counts["layers"].values())[-1]
        assert sorted(counts["layers"].values()) == [1, 1, 2, n_context]
        assert _paths(r) == 4 + n_context
        dashed = r.page.evaluate(
            "() => Array.from(document.querySelectorAll('.leaflet-map-pane path'))"
            ".filter(p => p.getAttribute('stroke') === '#b2182b').length"
        )
        assert dashed == 1  # Warwickshire is split
        r.screenshot("map-coventry-and-rugby-online.png")


@pytest.mark.slow
@pytest.mark.browser
def test_names_show_as_text_and_never_run_in_the_browser(tiny: Geography, tmp_path: Path) -> None:
    out = maps.save_map(
        maps.footprint_map(tiny, ["E38900001"], draw=DrawOptions(tier="ltla", offline=True)),
        tmp_path / "xss.html",
    )
    with open_page(out, offline=True) as r:
        assert r.js_errors == []
        assert r.dialogs == []
        xy = r.page.evaluate(
            "() => { const m = window[Object.keys(window).find(k => k.startsWith('map_'))];"
            " for (const k of Object.keys(window)) {"
            "  if (k.startsWith('geo_json_') && typeof window[k].getLayers === 'function') {"
            "   for (const l of window[k].getLayers()) {"
            "    if (l.feature.id === 'E07900001') {"
            "     const p = m.latLngToContainerPoint(l.getBounds().getCenter());"
            "     const box = m.getContainer().getBoundingClientRect();"
            "     return [box.left + p.x, box.top + p.y]; } } } } }"
        )
        r.page.mouse.move(xy[0], xy[1])
        r.page.wait_for_selector(".leaflet-tooltip", timeout=5000)
        text = r.page.evaluate("() => document.querySelector('.leaflet-tooltip').textContent")
        assert "<script>alert('a')</script>" in text
        assert (
            r.page.evaluate(
                "() => document.querySelectorAll('.leaflet-tooltip script, "
                ".leaflet-tooltip img').length"
            )
            == 0
        )
        r.page.wait_for_timeout(200)
        assert r.dialogs == []
        assert r.blocked == []
        r.screenshot("map-escaped-names.png")


@pytest.mark.realdata
@pytest.mark.browser
@pytest.mark.slow
def test_all_england_map_is_under_5_mb_and_draws_every_area(geo: Geography, tmp_path: Path) -> None:
    m = maps.footprint_map(geo, draw=DrawOptions(offline=True))
    out = maps.save_map(m, tmp_path / "england.html")
    size = out.stat().st_size
    assert size <= 5_000_000, f"all England should be ≤ 5 MB, got {size:,} bytes"
    with open_page(out, offline=True, settle_ms=800) as r:
        assert r.js_errors == []
        assert r.blocked == []
        counts = r.counts()
        # every system, its CCGs and the upper tier shaded (a national map draws the headline
        # level; DrawOptions(tier="both") adds the 317 lower-tier councils)
        assert sorted(counts["layers"].values()) == [42, 151, 191]
        assert _paths(r) == 42 + 151 + 191
        r.screenshot("map-england-offline.png")


@pytest.mark.realdata
@pytest.mark.browser
def test_plan_map_draws_one_block_per_new_ccg(geo: Geography, tmp_path: Path) -> None:
    m = maps.plan_map(
        geo, [["E38000038", "E38000195"], ["E38000164"]], draw=DrawOptions(offline=True)
    )
    out = maps.save_map(m, tmp_path / "plan.html")
    with open_page(out, offline=True) as r:
        assert r.js_errors == []
        assert r.blocked == []
        counts = r.counts()
        n_context = sorted(counts["layers"].values())[-1]  # the CCGs around the plan
        assert sorted(counts["layers"].values()) == [2, 2, 3, n_context]  # utla, outlines, ccgs
        fills = r.page.evaluate(
            "() => new Set(Array.from(document.querySelectorAll('.leaflet-ct-areas-pane path'))"
            ".map(p => p.getAttribute('fill')).filter(f => f && f !== 'none')).size"
        )
        assert fills == 2
        r.screenshot("map-plan-coventry-warwickshire.png")
    assert ARTIFACTS.is_dir()


# ------------------------------------------------------------------------------------------
# any level, any vintage: 2024 ICBs against upper tier and combined authorities, plans of
# ICBs, a scenario level, and a vintage the package has never seen
# ------------------------------------------------------------------------------------------
CW_ICB = "E54000018"  # NHS Coventry and Warwickshire ICB (QWU)
BSOL_ICB = "E54000055"  # NHS Birmingham and Solihull ICB (QHL)
WEST_MIDLANDS_CA = "E47000007"


@pytest.fixture(name="geo24", scope="module")
def geo24_fixture(data_dir: Path) -> Geography:
    import coterminus

    return coterminus.load(2024, data_dir=data_dir)


def _people(geo: Geography, **where: str | list[str]) -> int:
    """People of the blocks with the given codes (plain pandas on geo.lsoa)."""
    sel = np.ones(len(geo.lsoa), dtype=bool)
    for level, codes in where.items():
        sel &= geo.lsoa[level].isin([codes] if isinstance(codes, str) else codes).to_numpy()
    return int(geo.lsoa.loc[sel, "population"].sum())


@pytest.mark.realdata
def test_icb_map_2024_against_upper_tier_and_combined_authorities(
    geo24: Geography, tmp_path: Path
) -> None:
    layers = maps.map_layers(
        geo24, system="Coventry and Warwickshire", units="icb", against=["utla", "cauth"]
    )
    assert (layers.units, layers.against, layers.within) == ("icb", ["utla", "cauth"], "nhser")
    assert list(layers.members.index) == [CW_ICB]
    assert sorted(layers.councils["utla"].index) == ["E08000026", "E10000031"]
    wm = layers.councils["cauth"].loc[WEST_MIDLANDS_CA]
    inside = _people(geo24, icb=CW_ICB, cauth=WEST_MIDLANDS_CA)
    total = _people(geo24, cauth=WEST_MIDLANDS_CA)
    assert inside == 345_318  # Coventry: the only part of the ICB in a combined authority
    assert wm["in_group"] == inside
    assert wm["la_total"] == total
    assert wm["share"] == pytest.approx(inside / total)
    assert wm["status"] == "split"
    assert list(layers.councils["cauth"].index) == [WEST_MIDLANDS_CA]  # the rest is in none
    r = layers.outlines.iloc[0]
    assert r["population"] == _people(geo24, icb=CW_ICB) == 942_080
    assert "coterminous with upper-tier councils (J = 1.0000)" in r["test_ii"]
    assert "not coterminous with combined authorities (J = 0.0000)" in r["test_ii"]
    assert r["test_i"] == "within one NHS region (Midlands)"

    m = maps.footprint_map(
        geo24,
        system="Coventry and Warwickshire",
        units="icb",
        against=["utla", "cauth"],
        draw=DrawOptions(offline=True),
    )
    out = maps.save_map(m, tmp_path / "cw24.html")
    page = out.read_text()
    assert_in = [
        "Upper-tier councils",
        "Combined authorities",
        "Member ICBs",
        "West Midlands (E47000007)",
        "345,318 (11.8%)",
        "ICB boundary",
        "Census 2021 usual residents",
        "2021 (LSOA 2021 boundaries), 2023 and 2024",  # the 2024 manifest's attribution
    ]
    missing = [s for s in assert_in if s not in page]
    assert not missing, missing
    assert "CCG" not in page

    from coterminus.outputs import figures

    fig = figures.footprint_figure(
        geo24,
        system="Coventry and Warwickshire",
        units="icb",
        against=["utla", "cauth"],
        draw=DrawOptions(tier="cauth"),
    )
    png = figures.save_figure(fig, tmp_path / "cw24.png", dpi=100)
    assert png.stat().st_size > 20_000
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "split combined authority (hatched)" in labels
    assert "ICB boundary" in labels
    assert "Share of each council inside the footprint" in [
        leg.get_title().get_text() for leg in fig.legends
    ]
    assert any(p.get_hatch() for p in fig.axes[0].collections if hasattr(p, "get_hatch"))


@pytest.mark.realdata
def test_plan_map_of_merged_icbs(geo24: Geography, tmp_path: Path) -> None:
    plan = [["QWU", "QHL"], ["QGH"]]
    layers = maps.map_layers(geo24, plan=plan)
    assert layers.units == "icb"
    assert list(layers.outlines.index) == ["New ICB 1", "New ICB 2"]
    assert layers.outlines.at["New ICB 1", "population"] == _people(geo24, icb=[CW_ICB, BSOL_ICB])
    assert layers.outlines.at["New ICB 1", "name"] == "New ICB 1 (merger of 2 ICBs)"
    assert layers.outlines.at["New ICB 2", "name"].endswith("(unchanged)")
    # Coventry is in the West Midlands, so is Birmingham and Solihull: together 1,943,xxx
    wm = layers.councils["cauth"].loc[WEST_MIDLANDS_CA]
    assert wm["in_group"] == _people(geo24, icb=[CW_ICB, BSOL_ICB], cauth=WEST_MIDLANDS_CA)
    assert wm["group"] == "New ICB 1"
    assert wm["status"] == "split"
    m = maps.plan_map(geo24, plan, draw=DrawOptions(tier="both", offline=True))
    page = maps.save_map(m, tmp_path / "plan24.html").read_text()
    for s in ("New ICBs", "New ICB 1 (merger of 2 ICBs)", "In one new ICB"):
        assert s in page, s
    with pytest.raises(FootprintError, match="only one new ICB"):
        maps.normalise_plan(geo24, [["QWU"], ["QWU", "QHL"]])


@pytest.mark.realdata
def test_scenario_level_map(geo24: Geography, tmp_path: Path) -> None:
    import pandas as pd

    from coterminus.geography.scenario import scenario

    table = pd.DataFrame(
        {"member": ["QWU", "QHL"], "area": ["P1", "P1"], "area_name": ["Arden ICB"] * 2}
    )
    gs = scenario(geo24, "proposed_icb", table, complete=False)
    layers = maps.map_layers(gs, ["P1"], against=["utla", "cauth"])
    assert layers.units == "proposed_icb"
    assert layers.title.startswith("Arden ICB")
    wm = layers.councils["cauth"].loc[WEST_MIDLANDS_CA]
    inside = _people(geo24, icb=[CW_ICB, BSOL_ICB], cauth=WEST_MIDLANDS_CA)
    assert wm["in_group"] == inside
    by_la = assess(gs, ["P1"], against=["utla", "cauth"]).tiers["cauth"].by_la
    assert wm["share"] == by_la.at[WEST_MIDLANDS_CA, "share_of_la"]  # the map draws assess()'s
    assert sorted(layers.councils["utla"].index) == sorted(
        geo24.lsoa.loc[geo24.lsoa["icb"].isin([CW_ICB, BSOL_ICB]), "utla"].unique()
    )
    m = maps.footprint_map(gs, ["P1"], against=["utla", "cauth"], draw=DrawOptions(offline=True))
    page = maps.save_map(m, tmp_path / "scenario.html").read_text()
    label = gs.label("proposed_icb", plural=True)
    assert f"Member {label}" in page
    assert "Arden ICB" in page


@pytest.mark.realdata
def test_scenario_share_is_of_the_whole_combined_authority(geo24: Geography) -> None:
    import pandas as pd

    from coterminus.geography.scenario import scenario

    table = pd.DataFrame({"member": ["QWU", "QHL"], "area": ["P1", "P1"]})
    gs = scenario(geo24, "proposed_icb", table, complete=False)
    wm = maps.map_layers(gs, ["P1"], against="cauth").councils["cauth"].loc[WEST_MIDLANDS_CA]
    inside = _people(geo24, icb=[CW_ICB, BSOL_ICB], cauth=WEST_MIDLANDS_CA)
    assert wm["share"] == pytest.approx(inside / _people(geo24, cauth=WEST_MIDLANDS_CA))
    assert wm["status"] == "split"


@pytest.mark.realdata
@pytest.mark.slow
def test_a_vintage_never_seen_maps_with_its_own_words(data_dir: Path, tmp_path: Path) -> None:
    import coterminus
    from coterminus.outputs import figures
    from test_levels_manifests import _relabelled_vintage

    future = coterminus.load(_relabelled_vintage(data_dir, tmp_path / "future"), data_dir=data_dir)
    hub = future.code("Coventry and Warwickshire Hub")
    layers = maps.map_layers(future, system=hub)
    assert layers.units == "pcn"
    assert layers.against == ["shire", "ward"]
    a21 = assess(coterminus.load(2021, data_dir=data_dir), system="Coventry and Warwickshire")
    assert layers.metrics["shire"]["footprint"].index == a21.metrics.index
    fig = figures.figure_of_layers(layers)
    text = " ".join(t.get_text() for t in fig.texts)
    assert "people (mid-2019)" in text  # the manifest's population label
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert f"{future.label('pcn')} boundary" in labels
    page = maps.draw_layers(layers, draw=DrawOptions(offline=True)).get_root().render()
    assert f"Member {future.label('pcn', plural=True)}" in page
    assert "Care Network" in page
    assert "CCG" not in page


@pytest.mark.realdata
@pytest.mark.browser
def test_offline_icb_map_2024_renders_in_chromium(geo24: Geography, tmp_path: Path) -> None:
    m = maps.footprint_map(
        geo24,
        system="Coventry and Warwickshire",
        units="icb",
        against=["utla", "ltla", "cauth"],
        draw=DrawOptions(offline=True),
    )
    out = maps.save_map(m, tmp_path / "cw24.html")
    assert out.stat().st_size <= 1_000_000
    with open_page(out, offline=True) as r:
        counts = r.counts()
        assert r.js_errors == []
        assert r.console_errors == []
        assert r.blocked == []
        # outline 1, member ICB 1, upper tier 2, lower tier 6, combined authority 1, and the
        # ICBs around it (context)
        n_context = sorted(counts["layers"].values())[-1]
        assert n_context >= 6
        assert sorted(counts["layers"].values()) == [1, 1, 1, 2, 6, n_context]
        assert _paths(r) == 1 + 1 + 2 + 6 + 1 + n_context
        shot = r.screenshot("map-coventry-warwickshire-icb-2024-offline.png")
    assert shot.stat().st_size > 10_000


def test_the_drawing_keywords_of_the_old_call_form_still_work_with_a_deprecation_warning(
    tiny: Geography,
) -> None:
    from coterminus.outputs import figures

    with pytest.warns(DeprecationWarning, match=r"draw=DrawOptions\(offline=True\)"):
        m = maps.footprint_map(tiny, ["E38900001"], offline=True)
    assert m._coterminus_offline is True  # the option took effect
    with pytest.warns(DeprecationWarning, match="figure_of_layers"):
        fig = figures.footprint_figure(tiny, layers=maps.map_layers(tiny, ["E38900001"]))
    assert fig.texts
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        maps.footprint_map(tiny, ["E38900001"], colour="red")


def test_no_output_function_takes_more_than_twelve_parameters_or_any() -> None:
    import inspect

    from coterminus.outputs import figures, layers, report

    for module in (maps, figures, layers, report):
        for name in module.__all__:
            func = getattr(module, name)
            if not inspect.isfunction(func):
                continue
            sig = inspect.signature(func)
            assert len(sig.parameters) <= 12, (module.__name__, name, len(sig.parameters))
            assert "Any" not in str(sig), (module.__name__, name, str(sig))
