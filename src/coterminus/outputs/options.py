"""How an output is drawn: :class:`DrawOptions`, one object for every map, figure and report.

The analysis decides *what* is shown (an :class:`~coterminus.analysis.assess.Assessment`, the
blocks of a merger plan, every system of a vintage); :class:`DrawOptions` says *how*: the
level shaded, labels, title, display simplification, paper, figure size, offline HTML, web
tiles, coordinate precision, resolution and columns of small multiples. Every output entry
point (``footprint_map``, ``plan_map``, ``footprint_figure``, ``plan_figure``,
``plans_figure``, ``split_figure``, ``report``) takes it as ``draw=`` and checks it once,
before any work (:meth:`DrawOptions.check`).

The drawing keywords these functions took before (``offline=True``, ``paper="letter"``...)
still work for one release through :func:`merge_legacy`, with a :class:`DeprecationWarning`
naming the new spelling.

Examples
--------
>>> opts = DrawOptions(tier="utla", paper="letter", offline=True)
>>> opts.paper, opts.simplify_m
('letter', 'auto')
>>> opts.replace(title="Board map").title
'Board map'
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import ParameterError
from ._page import check_paper
from ._request import ALL_TIERS, HasBlocks, PlanLike, Simplify, check_tier_word, resolve_simplify

if TYPE_CHECKING:
    from ..geography.bundle import Geography

__all__ = ["DrawOptions", "HasBlocks", "PlanLike", "merge_legacy"]


@dataclass(frozen=True)
class DrawOptions:
    """How a map, a figure or a report is drawn (not *what*: that is the result drawn).

    Attributes
    ----------
    tier : str, optional
        The level shaded (maps, figures) and the headline verdict (report): one of the levels
        assessed against, or ``"both"``/``"all"`` for every one of them (the headline shaded,
        the others' boundaries drawn over it). Default: a footprint is drawn with every level
        (the headline shaded), a plan with the headline level only.
    labels : bool, optional
        Area names on print maps (default: when at most 30 areas are shaded). The councils
        behind a mismatch are always named.
    title : str, optional
        Title of a figure or report (default from the result).
    simplify_m : float, "auto" or None, default "auto"
        Display simplification in metres (``"auto"``: 50 m for a system, growing with the
        extent); None draws the polygons as loaded.
    paper : {"a4", "letter"}, default "a4"
        A figure of its own is this page; a PDF report is typeset on it.
    figsize : (float, float), optional
        Inches, instead of a whole page (4 mm margins).
    offline : bool, default False
        Interactive maps embed Leaflet so the page opens with no network.
    tiles : str, optional
        A folium tile layer name (e.g. ``"OpenStreetMap"``); never with ``offline``.
    precision : int, default 6
        Decimal places of longitude/latitude in interactive maps.
    dpi : int, default 150
        Resolution of the map embedded in an HTML report.
    ncols : int, default 3
        Columns of small multiples (:func:`~coterminus.outputs.figures.plans_figure`).
    """

    tier: str | None = None
    labels: bool | None = None
    title: str | None = None
    simplify_m: Simplify = "auto"
    paper: Literal["a4", "letter"] = "a4"
    figsize: tuple[float, float] | None = None
    offline: bool = False
    tiles: str | None = None
    precision: int = 6
    dpi: int = 150
    ncols: int = 3

    def replace(self, **changes: object) -> DrawOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def check(self, geo: Geography | None = None) -> DrawOptions:
        """Refuse impossible options before any work; return the options (``paper`` lower case).

        Raises
        ------
        ParameterError
            A ``tier`` that is not a level of ``geo``, tiles with ``offline``, an unknown
            paper, a bad ``simplify_m``, ``precision``, ``dpi`` or ``ncols``.

        Examples
        --------
        >>> DrawOptions(tiles="OpenStreetMap", offline=True).check()
        Traceback (most recent call last):
        ...
        coterminus.errors.ParameterError: tiles='OpenStreetMap' with offline=True: web map tiles are fetched from the internet when the map is viewed, so an offline map cannot have them; pass tiles=None.
        """
        check_tier_word(self.tier, geo)
        if self.tiles and self.offline:
            msg = (
                f"tiles={self.tiles!r} with offline=True: web map tiles are fetched from the "
                "internet when the map is viewed, so an offline map cannot have them; pass "
                "tiles=None."
            )
            raise ParameterError(msg)
        paper = check_paper(self.paper)
        resolve_simplify(self.simplify_m, np.array([0.0, 0.0, 1.0, 1.0]))
        for name, low in (("precision", 0), ("dpi", 10), ("ncols", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                msg = f"{name}={value!r}; give a whole number ≥ {low}."
                raise ParameterError(msg)
        if self.figsize is not None and (
            len(self.figsize) != 2 or not all(float(x) > 0 for x in self.figsize)
        ):
            msg = f"figsize={self.figsize!r}; give (width, height) in inches, both > 0."
            raise ParameterError(msg)
        return self if paper == self.paper else self.replace(paper=paper)

    @property
    def every_tier(self) -> bool:
        """Whether ``tier`` asks for every level (``"both"``/``"all"``)."""
        return self.tier in ALL_TIERS


_FIELDS = frozenset(f.name for f in fields(DrawOptions))


def merge_legacy(
    draw: DrawOptions | None,
    legacy: Mapping[str, object],
    *,
    where: str,
    accepted: Sequence[str] = tuple(sorted(_FIELDS)),
) -> DrawOptions:
    """``draw`` with the drawing keywords of the old call form applied (deprecated).

    ``legacy`` holds the keywords a caller passed that are now fields of
    :class:`DrawOptions`; they override ``draw`` and raise one :class:`DeprecationWarning`
    that names the new spelling. A keyword that was never an option of ``where`` is a
    ``TypeError``, as Python would raise.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     merge_legacy(None, {"paper": "letter"}, where="footprint_figure").paper
    'letter'
    >>> print(w[0].message)  # doctest: +NORMALIZE_WHITESPACE
    footprint_figure(paper=...) is deprecated and will be removed in the next release; pass
    draw=DrawOptions(paper='letter').
    """
    if not legacy:
        return draw or DrawOptions()
    unknown = sorted(set(legacy) - set(accepted))
    if unknown:
        msg = f"{where}() got an unexpected keyword argument {unknown[0]!r}"
        raise TypeError(msg)
    names = ", ".join(f"{k}=..." for k in legacy)
    spelled = ", ".join(f"{k}={v!r}" for k, v in legacy.items())
    warnings.warn(
        f"{where}({names}) is deprecated and will be removed in the next release; pass "
        f"draw=DrawOptions({spelled}).",
        DeprecationWarning,
        stacklevel=3,
    )
    return (draw or DrawOptions()).replace(**legacy)
