"""The page of a print figure: paper, margins, and the blocks stacked inside them.

A figure of its own is a whole page (:data:`PAPER`, A4 or US Letter) whose title, subtitle,
map, keys, caption and note all lie inside the margins :data:`MARGINS_MM`
(:func:`layout_page`); text is wrapped to the width of the text block as it is measured, and
drawn as given (:func:`plain_text`). :mod:`coterminus.outputs.figures` draws its figures on these
pages; the report's CSS uses the same margins.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

__all__ = [
    "MARGINS_MM",
    "PAPER",
    "Key",
    "MapFigure",
    "check_paper",
    "clear_page",
    "compose",
    "layout_page",
    "new_figure",
    "page_margins",
    "page_size",
    "plain_text",
    "renderer_of",
    "text_block",
]

#: Paper sizes, portrait, in inches.
PAPER: dict[str, tuple[float, float]] = {"a4": (210 / 25.4, 297 / 25.4), "letter": (8.5, 11.0)}
#: Page margins in millimetres (top, right, bottom, left); the report's CSS uses the same.
MARGINS_MM: tuple[float, float, float, float] = (20.0, 18.0, 20.0, 18.0)
_GAP_PT = 6.0  # vertical space between the blocks of a page layout

#: A key under the map: its handles, its number of columns and its title.
Key = tuple[list[Any], int, "str | None"]


def check_paper(paper: str) -> str:
    """``paper`` as a key of :data:`PAPER`, or :class:`~coterminus.errors.ParameterError`.

    Examples
    --------
    >>> check_paper("A4")
    'a4'
    """
    key = str(paper).lower()
    if key not in PAPER:
        msg = f"paper={paper!r}; give one of {', '.join(repr(p) for p in PAPER)}."
        raise ParameterError(msg)
    return key


def page_size(paper: str = "a4") -> tuple[float, float]:
    """Width and height of a portrait page in inches.

    Examples
    --------
    >>> [round(x * 25.4) for x in page_size("a4")], page_size("letter")
    ([210, 297], (8.5, 11.0))
    """
    return PAPER[check_paper(paper)]


def text_block(paper: str = "a4") -> tuple[float, float]:
    """Width and height (inches) of the text block: the page less the margins :data:`MARGINS_MM`.

    Examples
    --------
    >>> [round(x * 25.4) for x in text_block("a4")]
    [174, 257]
    """
    w, h = page_size(paper)
    top, right, bottom, left = (m / 25.4 for m in MARGINS_MM)
    return w - left - right, h - top - bottom


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    """Matplotlib text created inside this block is drawn as given: no mathtext, no LaTeX.

    A council called ``"$x$"`` would otherwise be typeset as maths, and ``"$\\frac"`` would
    stop the drawing with a parse error. Every figure of this module draws its text inside it.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> with plain_text():
    ...     t = Figure().text(0, 0, "Fund $x$ \\\\frac{")
    >>> t.get_parse_math(), t.get_usetex()
    (False, False)
    """
    # unhinted: text measures as wide as in a PDF
    with mpl.rc_context(
        {"text.parse_math": False, "text.usetex": False, "text.hinting": "no_hinting"}
    ):
        yield


#: Resolution of the picture a figure shows in a notebook.
_NOTEBOOK_DPI = 100


class MapFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself in Jupyter, with no magic.

    IPython displays an object by its ``_repr_png_`` (the rich display protocol), whatever
    the matplotlib backend: the figures of this package are made without pyplot (so no
    figure is kept alive in a global registry, and none is shown twice), and this is how a
    notebook cell ending in one shows the page. Under the inline backend, IPython's own
    printer for figures takes precedence, with the same picture.

    Examples
    --------
    >>> fig = new_figure((2, 1))
    >>> fig._repr_png_()[1:4]
    b'PNG'
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        with mpl.rc_context({"text.hinting": "no_hinting"}):  # as the layout was measured
            self.savefig(buf, format="png", dpi=_NOTEBOOK_DPI, facecolor="white")
        return buf.getvalue()


def new_figure(figsize: tuple[float, float]) -> MapFigure:
    """A figure of ``figsize`` inches on an Agg canvas (no pyplot, no global state)."""
    fig = MapFigure(figsize=figsize, layout=None)
    FigureCanvasAgg(fig)
    return fig


def renderer_of(fig: Any) -> Any:
    """A renderer to measure text with (attaches an Agg canvas to a bare Figure)."""
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


# ------------------------------------------------------------------------------------------
# page layout: title, subtitle, map, keys and note stacked inside the margins
# ------------------------------------------------------------------------------------------
def _px_to_fig_y(fig: Any, px: float) -> float:
    return float(px / (fig.get_size_inches()[1] * fig.dpi))


def _fit_text(
    fig: Figure,
    renderer: Any,
    xy: tuple[float, float],
    text: str,
    *,
    width_px: float,
    fontsize: float,
    va: str,
    **kw: Any,
) -> Text:
    """Figure text at ``xy`` wrapped so that it is no wider than ``width_px``."""
    chars = max(12, int(width_px / (fontsize * fig.dpi / 72 * 0.5)))
    while True:
        wrapped = "\n".join(textwrap.fill(p, chars) or p for p in text.split("\n"))
        t = fig.text(*xy, wrapped, fontsize=fontsize, va=va, ha="left", **kw)
        if t.get_window_extent(renderer).width <= width_px or chars <= 12:
            return t
        t.remove()
        chars = int(chars * 0.93)


def _fit_legend(
    fig: Figure,
    renderer: Any,
    handles: list[Any],
    *,
    xy: tuple[float, float],
    width_px: float,
    ncols: int,
    title: str | None,
    fontsize: float = 7.5,
) -> Any:
    """A figure legend with its lower-left corner at ``xy``, no wider than ``width_px``."""
    labels = [str(h.get_label()) for h in handles]
    chars = max(20, int(width_px / ncols / (fontsize * fig.dpi / 72 * 0.5)) - 6)
    while True:
        wrapped = ["\n".join(textwrap.wrap(s, chars)) or s for s in labels]
        leg = fig.legend(
            handles,
            wrapped,
            loc="lower left",
            bbox_to_anchor=xy,
            ncols=ncols,
            fontsize=fontsize,
            frameon=False,
            title=title,
            title_fontsize=fontsize + 0.5,
            alignment="left",
            borderaxespad=0.0,
            borderpad=0.0,
            handletextpad=0.5,
            columnspacing=1.2,
        )
        if leg.get_window_extent(renderer).width <= width_px or chars <= 20:
            for text, handle in zip(leg.get_texts(), handles, strict=False):
                text.set_gid(handle.get_gid())  # which drawn element each entry stands for
            return leg
        leg.remove()
        if ncols > 1:
            ncols -= 1
            chars = max(20, int(width_px / ncols / (fontsize * fig.dpi / 72 * 0.5)) - 6)
        else:
            chars = int(chars * 0.93)


def layout_page(
    fig: Figure,
    axes: Any,
    *,
    margins_in: tuple[float, float, float, float],
    title: str,
    subtitle: str,
    keys: Sequence[Key],
    note: str,
    caption: str = "",
    head_room_pt: float = 0.0,
    content_height_in: float | None = None,
) -> tuple[float, float, float, float]:
    """Stack title, subtitle, (map), keys, caption and note inside the margins; return the map's box.

    ``axes`` is one axes (given the box) or None (the caller fills the box, e.g. with a grid of
    panels). ``head_room_pt`` leaves room above the box (e.g. for panel titles). When the map
    needs only ``content_height_in`` (its width times its aspect), the box shrinks to it and
    the keys and note follow right under it, leaving the spare room at the foot of the page.
    """
    renderer = renderer_of(fig)
    w_in, h_in = fig.get_size_inches()
    top, right, bottom, left = margins_in
    x0, x1 = left / w_in, 1 - right / w_in
    width_px = (w_in - left - right) * fig.dpi * 0.99
    gap = _GAP_PT / 72 / h_in
    y = 1 - top / h_in
    t = _fit_text(
        fig,
        renderer,
        (x0, y),
        title,
        width_px=width_px,
        fontsize=13,
        va="top",
        fontweight="bold",
        gid="coterminus-title",
    )
    y = _px_to_fig_y(fig, t.get_window_extent(renderer).y0) - gap
    if subtitle:
        t = _fit_text(fig, renderer, (x0, y), subtitle, width_px=width_px, fontsize=8.5, va="top")
        y = _px_to_fig_y(fig, t.get_window_extent(renderer).y0) - gap
    y -= head_room_pt / 72 / h_in
    yb = bottom / h_in
    below: list[tuple[Any, float]] = []  # what sits under the map, and its anchor height
    t = _fit_text(
        fig, renderer, (x0, yb), note, width_px=width_px, fontsize=6.5, va="bottom", color="#222222"
    )
    below.append((t, yb))
    yb = _px_to_fig_y(fig, t.get_window_extent(renderer).y1) + gap
    if caption:
        t = _fit_text(
            fig, renderer, (x0, yb), caption, width_px=width_px, fontsize=7.5, va="bottom"
        )
        below.append((t, yb))
        yb = _px_to_fig_y(fig, t.get_window_extent(renderer).y1) + gap
    for handles, ncols, key_title in reversed(keys):
        if not handles:
            continue
        leg = _fit_legend(
            fig, renderer, handles, xy=(x0, yb), width_px=width_px, ncols=ncols, title=key_title
        )
        below.append((leg, yb))
        yb = _px_to_fig_y(fig, leg.get_window_extent(renderer).y1) + gap
    spare = (y - yb) - (content_height_in / h_in if content_height_in else y - yb)
    if spare > 0:  # lift everything under the map to just below it
        for item, anchor in below:
            if hasattr(item, "set_bbox_to_anchor"):
                item.set_bbox_to_anchor((x0, anchor + spare), transform=fig.transFigure)
            else:
                item.set_y(anchor + spare)
        yb += spare
    box = (x0, yb, x1 - x0, max(y - yb, 0.05))
    if axes is not None:
        axes.set_position(box)
    return box


#: ``gid`` of what :func:`clear_page` removes from a map to place it again: labels, their
#: leader lines, the scale bar and the north arrow.
_PLACED = ("coterminus-label", "coterminus-leader", "coterminus-furniture")


def clear_page(fig: Figure, ax: Axes | None) -> None:
    """Remove the page's text and keys, and what was placed on ``ax``, to lay the page out again."""
    for t in list(fig.texts):
        t.remove()
    for leg in list(fig.legends):
        leg.remove()
    if ax is not None:
        for artist in [*ax.texts, *ax.lines, *ax.patches]:
            if artist.get_gid() in _PLACED:
                artist.remove()


def page_margins(
    figsize: tuple[float, float] | None, paper: str
) -> tuple[tuple[float, float], Any]:
    """Figure size and margins (inches): a whole page with :data:`MARGINS_MM`, or 4 mm."""
    if figsize is None:
        return page_size(paper), tuple(m / 25.4 for m in MARGINS_MM)
    check_paper(paper)
    return (float(figsize[0]), float(figsize[1])), (4 / 25.4,) * 4


def compose(
    fig: Figure,
    ax: Axes,
    *,
    margins_in: Any,
    title: str,
    subtitle: str,
    keys: Sequence[Key],
    note: str,
    label: Callable[[], list[str]],
    caption: str = "",
    fit: Callable[[float], None] | None = None,
) -> list[str]:
    """Lay out a page, then label the map; list what found no room (and re-lay out once).

    With ``fit``, the map is first given the whole box left for it and ``fit(aspect)`` may
    change the axes limits to that box's height over width (see
    :func:`coterminus.outputs._figure_map.fit_frame`). The map box is then no taller than the
    map needs at the width of the text block, so the keys sit right under the map.
    """
    w_in, h_in = fig.get_size_inches()
    w_in -= margins_in[1] + margins_in[3]
    listed: list[str] = []
    missing: list[str] = []
    for _ in range(3):
        clear_page(fig, ax)
        extra = (
            f"\nNot labelled on the map for lack of room: {', '.join(listed)}." if listed else ""
        )
        page = {
            "margins_in": margins_in,
            "title": title,
            "subtitle": subtitle,
            "keys": keys,
            "note": note + extra,
            "caption": caption,
        }
        if fit is not None:
            box = layout_page(fig, ax, **page)
            fit(box[3] * h_in / (box[2] * fig.get_size_inches()[0]))
            clear_page(fig, ax)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        content_height_in = w_in * abs(y1 - y0) / abs(x1 - x0)
        layout_page(fig, ax, **page, content_height_in=content_height_in)
        missing = label()
        if sorted(missing) == sorted(listed):
            break
        listed = missing
    return missing
