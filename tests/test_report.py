"""Board-paper reports (HTML and PDF) and the ``map`` / ``report`` command-line commands.

The tiny geography is the 2 × 2 grid drawn in ``helpers``'s docstring (footprint C1: county
U contained, unitary b split 30% inside; names carry HTML/JS).
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pypdf
import pytest

from browser import ARTIFACTS, open_page
from coterminus.cli import maps as cli_maps
from coterminus.errors import (
    MissingDependencyError,
    OutputError,
    ParameterError,
    VintageMismatchError,
)
from coterminus.geography.bundle import Geography
from coterminus.outputs import report
from coterminus.outputs.options import DrawOptions
from helpers import ATTR, CW, assert_contains, pdf_text, tiny_geography
from helpers import geo_fixture as geo_fixture  # the fixture `geo`
from helpers import tiny_fixture as tiny_fixture  # the fixture `tiny`
from pdf_pages import MM, assert_pages_are, chars_outside, page_chars

CRITERIA = [
    "Clinical leadership",
    "Financial management",
    "Joint working",
    "Engagement with communities",
    "20% running-cost savings",
    "Governing-body approval",
    "Consultation with GP members and Healthwatch",
]


# ------------------------------------------------------------------------------------------
# tiny geography
# ------------------------------------------------------------------------------------------
def test_html_report_has_verdicts_tables_map_method_and_unscored_criteria(tiny: Geography) -> None:
    page = report.report(tiny, ["E38900001"])
    assert isinstance(page, str)
    assert_contains(
        page,
        "<td>Test I</td><td>STPs/ICSs</td>",
        "Within one STP/ICS",
        "<td>Test II (headline)</td><td>Upper-tier councils</td>",
        "Not coterminous",
        "J = 0.8696",
        "ε = 0.005",
        "The people outside",
        "Place sizes (indicative)",
        "250,000–500,000",
        "below 250,000",
    )
    assert_contains(page, *CRITERIA)
    assert page.count("To be completed — not scored.") == len(CRITERIA)
    assert_contains(page, "Method note", "Jaccard", ATTR)
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)


def test_report_page_is_self_contained_and_escapes_names(tiny: Geography) -> None:
    page = report.report(tiny, ["E38900001"])
    assert "<script" not in page.lower()  # names escaped, and the report has no scripts at all
    assert_contains(
        page, "&lt;script&gt;alert(&#39;a&#39;)&lt;/script&gt;", "&lt;b&gt;Bold&lt;/b&gt;"
    )
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_plan_report_has_one_section_per_new_ccg(tiny: Geography, tmp_path: Path) -> None:
    out = report.report(
        tiny, plan={"West": ["E38900001"], "East": ["99B"]}, out=tmp_path / "p.html"
    )
    page = Path(out).read_text()
    assert_contains(
        page,
        "The plan at a glance",
        "West: NHS &lt;b&gt;Bold&lt;/b&gt; &amp; Co CCG",
        "East: NHS East CCG",
        "new (merged) CCG",
    )


@pytest.mark.slow
def test_pdf_report_has_the_map_tables_criteria_and_attribution(
    tiny: Geography, tmp_path: Path
) -> None:
    out = report.report(tiny, ["E38900001"], out=tmp_path / "r.pdf")
    n_pages, text = pdf_text(Path(out))
    assert n_pages >= 2
    assert_contains(
        text,
        ATTR,
        *CRITERIA,
        "To be completed — not scored.",
        "Test I STPs/ICSs",
        "Within one STP/ICS",
        "Test II (headline) Upper-tier councils",
        "Not coterminous",
        "J = 0.8696",
    )
    assert "<script>alert('a')</script>" in text  # plain text in a PDF, never run


def test_output_path_is_checked_before_any_work(
    tiny: Geography, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(report, "report_context", boom)
    with pytest.raises(OutputError, match="does not exist"):
        report.report(tiny, ["E38900001"], out=tmp_path / "missing" / "r.html")
    with pytest.raises(OutputError, match="unknown format"):
        report.report(tiny, ["E38900001"], out=tmp_path / "r.docx")


def test_report_refuses_an_assessment_of_another_vintage(tiny: Geography) -> None:
    from coterminus.analysis.assess import assess

    with pytest.raises(VintageMismatchError, match="2021"):
        report.report(tiny, assessment=assess(tiny_geography(2021), ["E38900001"]))


def test_place_band() -> None:
    assert report.place_band(250_000) == "within 250,000–500,000"
    assert report.place_band(500_001) == "above 500,000"


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------
def _cli(argv: list[str]) -> int:
    """Run the map/report commands through coterminus.cli.main (error 1, usage error 2)."""
    from coterminus.cli import main

    return main(argv)


def test_cli_checks_the_output_before_loading_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("data loaded before the output path was checked")

    monkeypatch.setattr("coterminus.cli.load.load", boom)
    assert _cli(["map", "--system", CW, "--out", str(tmp_path / "x" / "m.html")]) == 1
    assert _cli(["map", "--system", CW, "--out", str(tmp_path / "m.docx")]) == 1
    assert _cli(["report", "--system", CW, "--out", str(tmp_path / "r.png")]) == 1
    assert _cli(["report", "--out", str(tmp_path / "r.html")]) == 2  # no footprint
    assert _cli(["map", "--system", CW, "--ccgs", "05A", "--out", str(tmp_path / "m.html")]) == 2


def test_cli_is_wired_into_the_main_parser() -> None:
    from coterminus import cli

    parser = cli.build_parser()
    args = parser.parse_args(["report", "--system", CW, "--out", "r.pdf"])
    assert args.func is cli_maps.run_report


@pytest.mark.slow
@pytest.mark.realdata
def test_cli_writes_maps_and_reports(data_dir: Path, tmp_path: Path) -> None:
    common = ["--vintage", "2019", "--data-dir", str(data_dir)]
    assert (
        _cli(["map", *common, "--system", CW, "--offline", "--out", str(tmp_path / "m.html")]) == 0
    )
    assert "Leaflet 1.9.4" in (tmp_path / "m.html").read_text()
    assert (
        _cli(
            [
                "map",
                *common,
                "--plan",
                "E38000038,E38000195;E38000164",
                "--out",
                str(tmp_path / "plan.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "plan.png").stat().st_size > 50_000
    assert (
        _cli(["report", *common, "--ccgs", "05A", "05R", "05H", "--out", str(tmp_path / "r.pdf")])
        == 0
    )
    assert _cli(["map", *common, "--ccgs", "E38000251", "--out", str(tmp_path / "x.html")]) == 1


# ------------------------------------------------------------------------------------------
# real data: Coventry & Warwickshire 2019
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_coventry_and_warwickshire_report_opens_offline(geo: Geography, tmp_path: Path) -> None:
    out = Path(report.report(geo, system=CW, out=tmp_path / "cw.html"))
    page = out.read_text()
    assert out.stat().st_size < 1_500_000
    assert_contains(
        page,
        "949,454",
        "Coventry",
        "Warwickshire",
        "Within one STP/ICS",
        "J = 1.0000",
        "Nobody: the footprint and its best-fit councils",
    )
    with open_page(out, offline=True, viewport=(1100, 1400)) as r:
        assert r.js_errors == []
        assert r.blocked == []
        assert r.page.evaluate("() => document.images[0].naturalWidth") > 1000
        rows = "() => document.querySelectorAll('table.verdicts tr.pass').length"
        assert r.page.evaluate(rows) == 3  # test I and test II at both tiers
        ARTIFACTS.mkdir(exist_ok=True)
        r.page.screenshot(path=str(ARTIFACTS / "report-coventry-warwickshire.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.realdata
def test_coventry_and_rugby_pdf_report_lists_the_people_outside(
    geo: Geography, tmp_path: Path
) -> None:
    out = Path(report.report(geo, ["E38000038"], out=tmp_path / "cr.pdf"))
    n_pages, text = pdf_text(out)
    assert n_pages >= 3
    assert_contains(
        text,
        "108,935",
        "Warwickshire E10000031",
        "J = 0.7733",
        ATTR,
        "Rugby (E07000220)",
        "below 250,000",
    )


# ------------------------------------------------------------------------------------------
# the PDF: the HTML template typeset on A4 (or Letter) pages
# ------------------------------------------------------------------------------------------
#: Body text stays in the text block; the running header and footer sit in the top and bottom
#: margins, at least 8 mm from the edge.
BODY = {"left": 18.0, "right": 18.0, "top": 8.0, "bottom": 8.0}


def _margin_text(path: Path, *, top: bool) -> list[str]:
    """The text of each page's top (or bottom) margin, 20 mm."""
    out = []
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            h = float(page.height)
            box = (0, 0, page.width, 20 * MM) if top else (0, h - 20 * MM, page.width, h)
            out.append(" ".join((page.crop(box).extract_text() or "").split()))
    return out


def _pages_text(path: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(str(path)).pages]


@pytest.mark.slow
def test_pdf_pages_are_a4_with_header_footer_and_text_inside_the_margins(
    tiny: Geography, tmp_path: Path
) -> None:
    for name, kw in [
        ("footprint", {"footprint": ["E38900001"]}),
        ("plan", {"plan": {"West": ["E38900001"], "East": ["99B"]}}),
    ]:
        out = Path(report.report(tiny, **kw, out=tmp_path / f"{name}.pdf"))
        n = assert_pages_are(out, "a4")
        assert page_chars(out) > 2000
        assert chars_outside(out, **BODY) == []
        pages = _pages_text(out)
        for i, text in enumerate(pages, start=1):
            assert f"Page {i} of {n}" in text  # footer
            assert "coterminus" in text
            assert "geography 2019" in text
        for i, top in enumerate(_margin_text(out, top=True), start=1):  # running header
            assert top in (
                "NHS <b>Bold</b> & Co CCG: coterminosity with local authorities",
                "Merger plan: 2 new CCGs",
            ), (i, top)
        for i, bottom in enumerate(_margin_text(out, top=False), start=1):  # footer
            assert bottom.endswith(f"Page {i} of {n}"), bottom


@pytest.mark.slow
def test_letter_paper_on_request(tiny: Geography, tmp_path: Path) -> None:
    out = Path(
        report.report(tiny, ["E38900001"], out=tmp_path / "r.pdf", draw=DrawOptions(paper="letter"))
    )
    assert_pages_are(out, "letter")
    assert chars_outside(out, **BODY) == []
    with pytest.raises(ParameterError, match="paper"):
        report.report(tiny, ["E38900001"], out=tmp_path / "r.pdf", draw=DrawOptions(paper="a3"))  # type: ignore[arg-type]


@pytest.mark.slow
def test_long_headings_wrap_inside_the_page(tiny: Geography, tmp_path: Path) -> None:
    title = "Coventry and Warwickshire (E54000018): coterminosity with local authorities " * 3
    out = Path(
        report.report(tiny, ["E38900001"], out=tmp_path / "t.pdf", draw=DrawOptions(title=title))
    )
    assert chars_outside(out, **BODY) == []
    assert " ".join(title.split()) in _pages_text(out)[0]  # every word, none lost off the edge


@pytest.mark.slow
def test_tables_split_across_pages_and_repeat_their_header(tiny: Geography, tmp_path: Path) -> None:
    ctx = report.report_context(tiny, ["E38900001"])
    ctx["criteria"] = [{"name": f"Criterion {i}", "what": "Evidence."} for i in range(120)]
    out = tmp_path / "long.pdf"
    report.render_pdf(ctx, out)
    pages = [p for p in _pages_text(out) if "Criterion " in p]
    assert len(pages) >= 3  # the table runs over several pages...
    for p in pages:  # ...and every page of it starts with the header row
        assert "Criterion What to evidence Evidence (to be completed by the authors)" in p
    assert chars_outside(out, **BODY) == []


@pytest.mark.slow
def test_pdf_map_is_a_vector_figure_the_width_of_the_text_block(
    tiny: Geography, tmp_path: Path
) -> None:
    ctx = report.report_context(tiny, ["E38900001"])
    w, _ = ctx["figure"].get_size_inches()
    assert w * 25.4 == pytest.approx(210 - 36)  # A4 less the side margins
    html = report.render_html(ctx, media="print")
    assert "data:image/svg+xml;base64," in html
    assert "data:image/png" not in html
    out = tmp_path / "r.pdf"
    report.render_pdf(ctx, out)
    reader = pypdf.PdfReader(str(out))
    (map_page,) = [p for p in reader.pages if "Share of each council" in (p.extract_text() or "")]
    assert "Countyshire" in map_page.extract_text()  # map labels (of the headline level) are text
    assert list(map_page.images) == []  # drawn as vectors, no raster image
    with pdfplumber.open(str(out)) as pdf:
        idx = next(i for i, p in enumerate(reader.pages) if p is map_page)
        curves = pdf.pages[idx].curves + pdf.pages[idx].rects + pdf.pages[idx].lines
        assert len(curves) > 20
        xs = [c["x0"] for c in curves] + [c["x1"] for c in curves]
        assert min(xs) >= 18 * MM - 1
        assert max(xs) <= (210 - 18) * MM + 1


def test_pdf_needs_weasyprint_and_says_so_before_any_work(
    tiny: Geography, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("work started before WeasyPrint was checked")

    monkeypatch.setattr(report, "report_context", boom)
    with pytest.raises(
        MissingDependencyError,
        match=r"^PDF reports need the pdf extra \(WeasyPrint\), which is not installed: pip install 'coterminus\[pdf\]'; or write the report as \.html\.$",
    ):
        report.report(tiny, ["E38900001"], out=tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


# ------------------------------------------------------------------------------------------
# words by measure, and names that are only text
# ------------------------------------------------------------------------------------------
def _without_explain_and_places(page: str) -> str:
    """The page less ``Assessment.explain()`` (assess.py words) and the place sizes (people)."""
    page = re.sub(r'<p class="explain">.*?</p>', "", page, flags=re.S)
    return re.sub(r'<h2 id="places">.*?<h2 id="criteria">', "", page, flags=re.S)


@pytest.mark.slow
def test_report_words_fit_the_measure(tiny: Geography) -> None:
    pop = report.report(tiny, ["E38900001"], measure="population")
    area = report.report(tiny, ["E38900001"], measure="area")
    assert isinstance(pop, str)
    assert isinstance(area, str)
    assert_contains(
        pop,
        "of the people live in Grid System",
        "People inside footprint",
        "The people outside",
        "people of the footprint in an upper-tier council it does not mostly cover",
    )
    assert_contains(
        area,
        "of the area lies in Grid System",
        "Area inside footprint",
        "Council area",
        "The area outside",
        "area of a best-fit upper-tier council that lies outside the footprint",
        '<td class="num">50.0 km²</td>',  # Bee's east half, outside the footprint
    )
    assert "Population shares" not in area
    # left: the members' populations (people, whatever the measure) and the unscored criteria
    for line in _without_explain_and_places(area).splitlines():
        assert not re.search(r"\blive\b", line), line
        if "people" in line.lower():
            allowed = (
                "Population (mid-2019)",
                "people, not maps",
                "Place sizes (always of people)",
            )
            assert any(a in line for a in allowed), line
    plan = report.report(tiny, plan=[["E38900001"], ["E38900002"]], measure="area")
    assert isinstance(plan, str)
    assert_contains(plan, '<th class="num">Area</th>')


@pytest.mark.slow
def test_names_are_text_for_jinja_and_matplotlib(tmp_path: Path) -> None:
    geo = tiny_geography()
    odd = "Fund $x$ {{ 7*7 }} {% if 1 %}yes{% endif %} \\frac{"
    for level in ("utla", "ltla"):
        geo.units(level).loc["E06900001", "name"] = odd
    page = report.report(geo, ["E38900001"])
    assert isinstance(page, str)
    assert "Fund $x$ {{ 7*7 }} {% if 1 %}yes{% endif %} \\frac{" in page
    assert "49" not in re.sub(r"data:image/png;base64,[^\"]*", "", page)
    out = Path(report.report(geo, ["E38900001"], out=tmp_path / "odd.pdf"))
    assert "Fund $x$ {{ 7*7 }}" in " ".join(_pages_text(out))
    png = report.report(geo, ["E38900001"], out=tmp_path / "odd.html")
    assert Path(png).stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.realdata
def test_coventry_and_warwickshire_pdf_heading_wraps_and_stays_on_the_page(
    geo: Geography, tmp_path: Path
) -> None:
    out = Path(report.report(geo, system=CW, out=tmp_path / "cw.pdf"))
    n = assert_pages_are(out, "a4")
    assert n >= 4
    assert chars_outside(out, **BODY) == []
    pages = _pages_text(out)
    heading = "Coventry and Warwickshire (E54000018): coterminosity with local authorities"
    assert heading in pages[0]  # its last word too
    assert_contains(" ".join(pages), "949,454", "J = 1.0000", ATTR)


@pytest.mark.slow
@pytest.mark.realdata
def test_seven_block_plan_pdf_is_a4_throughout_with_every_block(
    geo: Geography, tmp_path: Path
) -> None:
    code = {str(n): c for c, n in geo.ccg["name"].items()}
    blocks = [
        ["Eastern Cheshire", "South Cheshire"],
        ["Halton", "Knowsley"],
        ["Liverpool"],
        ["South Sefton", "Southport and Formby"],
        ["St Helens", "Warrington"],
        ["Vale Royal", "West Cheshire"],
        ["Wirral"],
    ]
    plan = [[code[f"NHS {n} CCG"] for n in b] for b in blocks]
    out = Path(report.report(geo, plan=plan, out=tmp_path / "cm.pdf"))
    n = assert_pages_are(out, "a4")
    assert n >= 6
    assert chars_outside(out, **BODY) == []
    text = " ".join(_pages_text(out))
    for i in range(1, 8):
        assert f"New CCG {i}: " in text
    assert_contains(text, "7. New CCG 7: NHS Wirral CCG (unchanged)", "324,011")


# ------------------------------------------------------------------------------------------
# 2024: a report on an ICB, and the command line at any level
# ------------------------------------------------------------------------------------------
@pytest.fixture(name="geo24", scope="module")
def geo24_fixture(data_dir: Path) -> Geography:
    import coterminus

    return coterminus.load(2024, data_dir=data_dir)


@pytest.mark.slow
@pytest.mark.realdata
def test_report_on_a_2024_icb_html_and_pdf(geo24: Geography, tmp_path: Path) -> None:
    lsoa = geo24.lsoa
    in_icb = lsoa["icb"] == "E54000018"
    coventry_in_wm = int(lsoa.loc[in_icb & (lsoa["cauth"] == "E47000007"), "population"].sum())
    total = int(lsoa.loc[in_icb, "population"].sum())
    n_blocks = int((in_icb & (lsoa["cauth"] == "E47000007")).sum())
    expected = [
        "Test I",
        "Within one NHS region",
        "Upper-tier councils",
        "Lower-tier councils",
        "Combined authorities",
        "Member ICBs",
        "QWU",
        f"{total:,}",
        "E47000007",
        f"{coventry_in_wm:,}",
        f"{n_blocks:,}",
        "people of the footprint in a combined authority it does not mostly cover",
        "Census 2021 usual residents",  # the population, in the method note
        "BSC-derived",  # the polygons' resolution
        "2021 (LSOA 2021 boundaries), 2023 and 2024",  # the vintage's attribution
        "cover only part of England",
    ]
    page = report.report(geo24, system="Coventry and Warwickshire", units="icb")
    assert isinstance(page, str)
    assert_contains(" ".join(page.split()), *expected)
    assert "CCG" not in re.sub(r"data:image/[^\"]+", "", page)  # the words are the ICB's
    out = Path(
        report.report(
            geo24, system="Coventry and Warwickshire", units="icb", out=tmp_path / "cw24.pdf"
        )
    )
    n = assert_pages_are(out, "a4")
    assert chars_outside(out, **BODY) == []
    pages = _pages_text(out)
    assert all(f"Page {i} of {n}" in t and "geography 2024" in t for i, t in enumerate(pages, 1))
    assert_contains(" ".join(pages), *expected[:6], "West Midlands E47000007")
    letter = Path(
        report.report(
            geo24,
            ["QWU", "QHL"],
            against="cauth",
            out=tmp_path / "merged24.pdf",
            draw=DrawOptions(paper="letter"),
        )
    )
    assert_pages_are(letter, "letter")
    assert chars_outside(letter, **BODY) == []


@pytest.mark.realdata
def test_plan_report_of_icbs_names_new_icbs(geo24: Geography) -> None:
    page = report.report(geo24, plan=[["QWU", "QHL"], ["QGH"]])
    assert isinstance(page, str)
    assert_contains(
        page,
        "Merger plan: 2 new ICBs",
        "<th>New ICB</th>",
        "Test II Combined authorities (J)",
        "New ICB 1: ",
        "new (merged) ICB",
    )


@pytest.mark.slow
@pytest.mark.realdata
def test_cli_maps_icbs_against_combined_authorities(data_dir: Path, tmp_path: Path) -> None:
    common = ["--vintage", "2024", "--data-dir", str(data_dir)]
    png = tmp_path / "icb-cauth.png"
    assert _cli(["map", *common, "--units", "icb", "--against", "cauth", "--out", str(png)]) == 0
    assert png.stat().st_size > 20_000
    html = tmp_path / "icb-cauth.html"
    argv = ["map", *common, "--units", "icb", "--against", "cauth", "--offline", "--out", str(html)]
    assert _cli(argv) == 0
    page = html.read_text()
    assert "Largest share of each council in one ICB" in page
    assert "West of England (E47000009)" in page
    pdf = tmp_path / "cw24.pdf"
    argv = ["report", *common, "--system", "QWU", "--units", "icb", "--against", "utla", "cauth"]
    assert _cli([*argv, "--paper", "letter", "--measure", "population", "--out", str(pdf)]) == 0
    assert_pages_are(pdf, "letter")
    assert _cli(["map", *common, "--system", "QWU", "--tier", "parish", "--out", str(html)]) == 1
