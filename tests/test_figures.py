"""Static print maps: checked as images (size, dpi, pixels), PDF text and SVG text.

The tiny geography is the 2 × 2 grid drawn in ``helpers``'s docstring: footprint C1 holds
county U wholly and 30% of unitary b (split).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import ARTIFACTS
from coterminus.errors import OutputError, ParameterError, VintageMismatchError
from coterminus.geography.bundle import Geography
from coterminus.outputs import figures, maps
from coterminus.outputs._page import renderer_of
from coterminus.outputs.options import DrawOptions
from helpers import ATTR_OS, ATTR_START, CW, assert_contains, pdf_text, tiny_geography
from helpers import geo_fixture as geo_fixture  # the fixture `geo`
from helpers import tiny_fixture as tiny_fixture  # the fixture `tiny`
from pdf_pages import assert_pages_are, chars_outside, page_chars


def _pixels(path: Path) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    with Image.open(path) as im:
        dpi = im.info.get("dpi", (0, 0))
        return np.asarray(im.convert("L"), dtype=float), dpi, im.size


def test_share_classes_stay_distinct_in_greyscale() -> None:
    def grey(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    levels = sorted(grey(c) for c in maps.SHARE_COLOURS.values())
    assert min(np.diff(levels)) > 30


@pytest.mark.slow
def test_png_is_300_dpi_not_blank_and_the_right_size(tiny: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(tiny, ["E38900001"])
    out = figures.save_figure(fig, tmp_path / "tiny.png")
    grey, dpi, size = _pixels(out)
    assert dpi[0] == pytest.approx(300, abs=0.5)
    assert size == (int(210 / 25.4 * 300), int(297 / 25.4 * 300))  # A4 (matplotlib truncates)
    assert grey.std() > 20  # not blank
    assert (grey < 60).mean() > 0.01  # dark fills and outlines are drawn
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-tiny.png", dpi=100)


def test_pdf_and_svg_keep_the_attribution_as_text(tiny: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(
        tiny, ["E38900001"], draw=DrawOptions(title="Tiny <script>alert(1)</script>")
    )
    pdf = figures.save_figure(fig, tmp_path / "tiny.pdf")
    _, text = pdf_text(pdf)
    assert_contains(text, ATTR_START, ATTR_OS, "Test II", "Test I")
    svg = figures.save_figure(fig, tmp_path / "tiny.svg").read_text()
    assert "Contains OS data © Crown copyright and database right 2019." in svg
    assert "<script>alert(1)" not in svg  # the title is SVG text, escaped
    assert "&lt;script&gt;" in svg


def test_figure_has_legend_scale_bar_and_north_arrow(tiny: Geography) -> None:
    fig = figures.footprint_figure(tiny, ["E38900001"])
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert "N" in texts  # north arrow
    assert any(t.endswith(" km") for t in texts)  # scale bar
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "split upper-tier council (hatched)" in labels  # tiny's headline level
    assert "CCG boundary" in labels
    assert "footprint outline" in labels
    assert any(p.get_hatch() for p in ax.collections if hasattr(p, "get_hatch"))


def test_scale_bar_picks_a_round_length() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    ax.set_xlim(0, 120_000)
    ax.set_ylim(0, 100_000)
    assert figures.add_scale_bar(ax) == 25_000.0


def test_drawing_into_a_given_axes_returns_its_figure(tiny: Geography) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4))
    ax = fig.add_subplot()
    assert figures.footprint_figure(tiny, ["E38900001"], ax=ax) is fig
    assert ax.get_legend() is not None


def test_bad_output_paths_and_options_are_refused(tiny: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(tiny, ["E38900001"])
    with pytest.raises(OutputError, match="unknown format"):
        figures.save_figure(fig, tmp_path / "map.jpg")
    with pytest.raises(OutputError, match="does not exist"):
        figures.save_figure(fig, tmp_path / "nope" / "map.png")
    with pytest.raises(ParameterError, match="tier"):
        figures.footprint_figure(tiny, ["E38900001"], draw=DrawOptions(tier="parish"))
    with pytest.raises(ParameterError, match="ncols"):
        figures.plans_figure(tiny, [[["E38900001"]]], draw=DrawOptions(ncols=0))
    from coterminus.analysis.assess import assess

    other = assess(tiny_geography(2021), ["E38900001"])
    with pytest.raises(VintageMismatchError):
        figures.footprint_figure(tiny, assessment=other)


def test_small_multiples_draw_one_panel_per_plan(tiny: Geography, tmp_path: Path) -> None:
    plans = {"Two CCGs": [["E38900001"], ["E38900002"]], "One CCG": [["E38900001", "E38900002"]]}
    fig = figures.plans_figure(tiny, plans, draw=DrawOptions(ncols=2))
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title().startswith("Two CCGs: 2 new CCGs")
    assert "1 split upper-tier council" in fig.axes[0].get_title()
    assert "0 split upper-tier councils" in fig.axes[1].get_title()
    out = figures.save_figure(fig, tmp_path / "plans.png", dpi=100)
    grey, dpi, _ = _pixels(out)
    assert dpi[0] == pytest.approx(100, abs=0.5)
    assert grey.std() > 20


@pytest.mark.slow
@pytest.mark.realdata
def test_coventry_and_rugby_print_map_in_three_formats(geo: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(geo, ["E38000038"], draw=DrawOptions(tier="both"))
    png = figures.save_figure(fig, tmp_path / "cr.png")
    grey, dpi, size = _pixels(png)
    assert dpi[0] == pytest.approx(300, abs=0.5)
    assert size[0] >= 2400
    assert grey.std() > 20
    _, text = pdf_text(figures.save_figure(fig, tmp_path / "cr.pdf"))
    assert_contains(text, ATTR_START, ATTR_OS, "Warwickshire", "19%")
    svg = figures.save_figure(fig, tmp_path / "cr.svg").read_text()
    assert ATTR_OS in svg
    assert "<svg" in svg[:500]
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-coventry-and-rugby.png", dpi=100)


@pytest.mark.slow
@pytest.mark.realdata
def test_system_and_plans_print_maps(geo: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(geo, system=CW)
    out = figures.save_figure(fig, tmp_path / "cw.png", dpi=100)
    assert _pixels(out)[0].std() > 20
    top = [
        [["E38000038", "E38000195"], ["E38000164"]],
        [["E38000038", "E38000164", "E38000195"]],
        "E38000038;E38000164;E38000195",
    ]
    fig = figures.plans_figure(geo, top, draw=DrawOptions(ncols=3))
    assert len(fig.axes) == 3
    assert "1 coterminous" in fig.axes[1].get_title()
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-plans-coventry-warwickshire.png", dpi=100)


# ------------------------------------------------------------------------------------------
# print layout: A4 (or Letter) pages, text inside the margins, labels apart
# ------------------------------------------------------------------------------------------
MARGINS = dict(zip(("top", "right", "bottom", "left"), figures.MARGINS_MM, strict=True))


def _assert_pdf_page(fig: object, path: Path, paper: str = "a4") -> None:
    out = figures.save_figure(fig, path)  # type: ignore[arg-type]
    assert assert_pages_are(out, paper) == 1
    assert page_chars(out) > 200  # title, key, note: there is text to check
    assert chars_outside(out, **MARGINS) == []


def _extents(texts: list) -> list:
    fig = texts[0].figure
    renderer = renderer_of(fig)
    return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]


def _overlapping(boxes: list) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]


@pytest.mark.slow
def test_figure_pdfs_are_a4_pages_with_all_text_inside_the_margins(
    tiny: Geography, tmp_path: Path
) -> None:
    _assert_pdf_page(figures.footprint_figure(tiny, ["E38900001"]), tmp_path / "f.pdf")
    plan = [["E38900001"], ["E38900002"]]
    _assert_pdf_page(figures.plan_figure(tiny, plan), tmp_path / "p.pdf")
    plans = {"Two": plan, "One": [["E38900001", "E38900002"]]}
    _assert_pdf_page(
        figures.plans_figure(tiny, plans, draw=DrawOptions(ncols=2)), tmp_path / "ps.pdf"
    )
    _assert_pdf_page(figures.split_figure(tiny, units="ccg", against="utla"), tmp_path / "s.pdf")
    letter = figures.plan_figure(tiny, plan, draw=DrawOptions(paper="letter"))
    _assert_pdf_page(letter, tmp_path / "letter.pdf", paper="letter")
    with pytest.raises(ParameterError, match="paper"):
        figures.plan_figure(tiny, plan, draw=DrawOptions(paper="a3"))  # type: ignore[arg-type]


def test_figure_for_a_report_is_the_size_of_the_text_block(tiny: Geography) -> None:
    w, h = figures.text_block("a4")
    assert (round(w * 25.4), round(h * 25.4)) == (174, 257)
    fig = figures.footprint_figure(tiny, ["E38900001"], draw=DrawOptions(figsize=(w, h * 0.75)))
    assert tuple(fig.get_size_inches()) == pytest.approx((w, h * 0.75))


def test_plan_figure_lists_every_block_under_the_map(tiny: Geography) -> None:
    fig = figures.plan_figure(tiny, {"West": ["E38900001"], "East": ["E38900002"]})
    ax = fig.axes[0]
    key = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    joined = " ".join(" ".join(k.split()) for k in key)
    assert_contains(joined, "1. West: NHS <b>Bold</b> & Co CCG (unchanged)", "2. East: NHS East")
    numbers = sorted(t.get_text() for t in ax.texts if t.get_gid() == "coterminus-label")
    assert numbers[:2] == ["1", "2"]
    renderer = renderer_of(fig)
    map_box = ax.get_window_extent(renderer)
    for item in [*fig.legends, *fig.texts]:  # key, title, note: none over the map
        assert not item.get_window_extent(renderer).overlaps(map_box)


@pytest.mark.slow
def test_names_are_never_read_as_mathtext(tmp_path: Path) -> None:
    geo = tiny_geography()
    geo.units("utla").loc["E06900001", "name"] = "Fund $x$ & $\\frac{"  # maths, broken formula
    geo.units("ltla").loc["E06900001", "name"] = "Fund $x$ & $\\frac{"
    fig = figures.footprint_figure(geo, ["E38900001"], draw=DrawOptions(title="Cost $5 to $10 ^_^"))
    figures.save_figure(fig, tmp_path / "m.png", dpi=50)
    _, text = pdf_text(figures.save_figure(fig, tmp_path / "m.pdf"))
    assert_contains(text, "Fund $x$ & $\\frac{", "Cost $5 to $10 ^_^")
    fig = figures.split_figure(geo, units="ccg", against="utla")
    _, text = pdf_text(figures.save_figure(fig, tmp_path / "s.pdf"))
    assert_contains(text, "Fund $x$ & $\\frac{: 70% in NHS East CCG")
    assert "Fund $x$" in (figures.save_figure(fig, tmp_path / "s.svg")).read_text()


def test_split_figure_hatches_the_council_split_between_ccgs(tiny: Geography) -> None:
    fig = figures.split_figure(tiny, units="ccg", against="utla")
    texts = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
    # Bee: 700 of its 1,000 people in the east CCG, 300 in the west one
    assert_contains(
        texts,
        "1 of the 3 upper-tier councils shown are split between CCGs",
        "Split: Bee: 70% in NHS East CCG, 30% in NHS <b>Bold</b> & Co CCG.",
    )
    ax = fig.axes[0]
    assert any(p.get_hatch() for p in ax.collections if hasattr(p, "get_hatch"))
    (legend,) = [leg for leg in fig.legends if leg.get_title().get_text() == "CCGs"]
    key = [" ".join(t.get_text().split()) for t in legend.get_texts()]
    # numbered by code; the key drops the words every name shares ("NHS … CCG"): the legend's
    # title names the level, and the caption above keeps the full names
    assert key == ["1. <b>Bold</b> & Co", "2. East"]
    with pytest.raises(ParameterError, match=r"toleran"):
        figures.split_figure(tiny, units="ccg", against="utla", tolerance=0.7)


@pytest.mark.slow
def test_figure_words_fit_the_area_measure(tiny: Geography) -> None:
    from coterminus.analysis.assess import assess

    for measure, words, never in [
        ("population", ["people live in", "Population shares"], ["km²"]),
        ("area", ["km² of it lies in", "Area shares"], ["people", " live ", "Population"]),
    ]:
        a = assess(tiny, ["E38900001"], measure=measure)
        fig = figures.footprint_figure(tiny, assessment=a)
        text = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
        assert_contains(text, *words)
        assert not [w for w in never if w in text], (measure, text)
        fig = figures.split_figure(tiny, units="ccg", against="utla", measure=measure)
        text = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
        assert ("of their people" in text) == (measure == "population")
        assert ("of their area" in text) == (measure == "area")


@pytest.mark.slow
@pytest.mark.realdata
def test_seven_block_plan_lists_all_seven_and_no_labels_overlap(
    geo: Geography, tmp_path: Path
) -> None:
    # Cheshire and Merseyside, the #1 plan of `coterminus mergers --system "Cheshire and
    # Merseyside"` (2019): 12 CCGs into 7
    blocks = [
        ["Eastern Cheshire", "South Cheshire"],
        ["Halton", "Knowsley"],
        ["Liverpool"],
        ["South Sefton", "Southport and Formby"],
        ["St Helens", "Warrington"],
        ["Vale Royal", "West Cheshire"],
        ["Wirral"],
    ]
    code = {str(n): c for c, n in geo.ccg["name"].items()}
    plan = [[code[f"NHS {n} CCG"] for n in b] for b in blocks]
    fig = figures.plan_figure(geo, plan)
    ax = fig.axes[0]
    key = " ".join(" ".join(t.get_text().split()) for leg in fig.legends for t in leg.get_texts())
    for i in range(1, 8):
        assert f"{i}. New CCG {i}" in key
    assert "NHS Wirral CCG (unchanged)" in key
    on_map = [t for t in ax.texts if t.get_text()]
    labels = {t.get_text() for t in on_map if t.get_gid() == "coterminus-label"}
    assert {str(i) for i in range(1, 8)} <= labels
    assert {"Liverpool", "Sefton", "Wirral", "Halton"} <= labels  # council names too
    assert _overlapping(_extents(on_map)) == []
    renderer = renderer_of(fig)
    for t in on_map:  # labels inside the map, the key and title outside it
        assert ax.get_window_extent(renderer).contains(*t.get_window_extent(renderer).p0)
    page = [i.get_window_extent(renderer) for i in [*fig.legends, *fig.texts]]
    assert _overlapping([*page, ax.get_window_extent(renderer)]) == []  # key, title, note, map
    _assert_pdf_page(fig, tmp_path / "cm.pdf")
    _, text = pdf_text(tmp_path / "cm.pdf")
    assert_contains(text, "7. New CCG 7: NHS Wirral CCG (unchanged)")
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-plan-cheshire-merseyside.png", dpi=100)


@pytest.mark.slow
@pytest.mark.realdata
def test_stp_against_utla_split_figure_matches_the_lsoa_counts(
    geo: Geography, tmp_path: Path
) -> None:
    # every STP that shares an upper-tier council with another STP (England)
    fig = figures.split_figure(geo, units="stp", against="utla")
    lsoa = geo.lsoa
    people = lsoa.groupby(["utla", "stp"])["population"].sum()
    share = people / people.groupby(level="utla").transform("sum")
    n_stp = (share > 0.005).groupby(level="utla").sum()
    expected = sorted(str(geo.utla.at[c, "name"]) for c in n_stp.index[n_stp >= 2])
    caption = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
    found = sorted(part.split(":")[0].strip() for part in caption.split("Split: ")[1].split(";"))
    assert found == expected
    assert "Birmingham: 84% in Birmingham and Solihull" in caption
    _assert_pdf_page(fig, tmp_path / "split.pdf")
    on_map = [t for t in fig.axes[0].texts if t.get_text()]
    assert _overlapping(_extents(on_map)) == []
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-split-stp-utla.png", dpi=100)


# ------------------------------------------------------------------------------------------
# 2024: ICBs × combined authorities
# ------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_icbs_against_combined_authorities_2024_hatch_the_split_ones(
    data_dir: Path, tmp_path: Path
) -> None:
    import coterminus

    geo24 = coterminus.load(2024, data_dir=data_dir)
    # plain pandas: people of each combined authority in each ICB; split = > ε in two or more
    lsoa = geo24.lsoa.dropna(subset=["cauth"])
    people = lsoa.groupby(["cauth", "icb"])["population"].sum()
    share = people / people.groupby(level="cauth").transform("sum")
    n_icbs = (share > 0.005).groupby(level="cauth").sum()
    split = sorted(n_icbs.index[n_icbs >= 2])
    assert split == ["E47000007", "E47000009"]  # West Midlands, West of England
    fig = figures.split_figure(geo24, units="icb", against="cauth")
    texts = " ".join(" ".join(t.get_text().split()) for t in fig.texts)
    names = geo24.units("cauth")["name"]
    icb_names = geo24.units("icb")["name"]
    for code in split:
        parts = share.loc[code].sort_values(ascending=False)
        parts = parts[parts > 0.005]
        listed = ", ".join(f"{s:.0%} in {icb_names[i]}" for i, s in parts.items())
        assert f"{names[code]}: {listed}" in texts
    assert "2 of the 2 combined authorities shown are split between ICBs" in texts
    assert "Census 2021 usual residents" in texts
    (legend,) = [leg for leg in fig.legends if leg.get_title().get_text() == "ICBs"]
    shown = {" ".join(t.get_text().split()).split(". ", 1)[1] for t in legend.get_texts()}
    in_split = share[share > 0.005].index.get_level_values("cauth").isin(split)
    full = set(icb_names[share[share > 0.005].index.get_level_values("icb")[in_split]])
    # the key names each ICB without the "NHS … Integrated Care Board" every name shares
    assert all(n.startswith("NHS ") and n.endswith(" Integrated Care Board") for n in full)
    assert shown == {n.removeprefix("NHS ").removesuffix(" Integrated Care Board") for n in full}
    out = figures.save_figure(fig, tmp_path / "icb-cauth.pdf")
    assert_pages_are(out, "a4")
    assert chars_outside(out, **MARGINS) == []
