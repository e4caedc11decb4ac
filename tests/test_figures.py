"""Static print maps: checked as images (size, dpi, pixels), PDF text and SVG text.

The tiny geography is the 2 × 2 grid drawn in ``helpers``'s docstring: footprint C1 holds
county U wholly and 30% of unitary b (split).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from browser import ARTIFACTS
from coterminus import figures, maps
from coterminus.errors import OutputError, ParameterError, VintageMismatchError
from coterminus.geography import Geography
from helpers import ATTR_OS, ATTR_START, CW, assert_contains, pdf_text, tiny_geography
from helpers import geo_fixture as geo_fixture  # the fixture `geo`
from helpers import tiny_fixture as tiny_fixture  # the fixture `tiny`


def _pixels(path: Path) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    PIL = pytest.importorskip("PIL.Image")
    with PIL.open(path) as im:
        dpi = im.info.get("dpi", (0, 0))
        return np.asarray(im.convert("L"), dtype=float), dpi, im.size


def test_share_classes_stay_distinct_in_greyscale() -> None:
    def grey(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    levels = sorted(grey(c) for c in maps.SHARE_COLOURS.values())
    assert min(np.diff(levels)) > 30


def test_png_is_300_dpi_not_blank_and_the_right_size(tiny: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(tiny, ["E38900001"])
    out = figures.save_figure(fig, tmp_path / "tiny.png")
    grey, dpi, size = _pixels(out)
    assert dpi[0] == pytest.approx(300, abs=0.5)
    assert size == (round(8.27 * 300), round(11.0 * 300))
    assert grey.std() > 20  # not blank
    assert (grey < 60).mean() > 0.01  # dark fills and outlines are drawn
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-tiny.png", dpi=100)


def test_pdf_and_svg_keep_the_attribution_as_text(tiny: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(tiny, ["E38900001"], title="Tiny <script>alert(1)</script>")
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
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "split council (hatched)" in labels
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
        figures.footprint_figure(tiny, ["E38900001"], tier="parish")
    with pytest.raises(ParameterError, match="ncols"):
        figures.plans_figure(tiny, [[["E38900001"]]], ncols=0)
    from coterminus.assess import assess

    other = assess(tiny_geography(2021), ["E38900001"])
    with pytest.raises(VintageMismatchError):
        figures.footprint_figure(tiny, assessment=other)


def test_small_multiples_draw_one_panel_per_plan(tiny: Geography, tmp_path: Path) -> None:
    plans = {"Two CCGs": [["E38900001"], ["E38900002"]], "One CCG": [["E38900001", "E38900002"]]}
    fig = figures.plans_figure(tiny, plans, ncols=2)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title().startswith("Two CCGs: 2 new CCGs")
    assert "1 split council" in fig.axes[0].get_title()
    assert "0 split councils" in fig.axes[1].get_title()
    out = figures.save_figure(fig, tmp_path / "plans.png", dpi=100)
    grey, dpi, _ = _pixels(out)
    assert dpi[0] == pytest.approx(100, abs=0.5)
    assert grey.std() > 20


@pytest.mark.realdata
def test_coventry_and_rugby_print_map_in_three_formats(geo: Geography, tmp_path: Path) -> None:
    fig = figures.footprint_figure(geo, ["E38000038"], tier="both")
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
    fig = figures.plans_figure(geo, top, ncols=3)
    assert len(fig.axes) == 3
    assert "1 coterminous" in fig.axes[1].get_title()
    ARTIFACTS.mkdir(exist_ok=True)
    figures.save_figure(fig, ARTIFACTS / "figure-plans-coventry-warwickshire.png", dpi=100)
