"""How a merger plan is written as text: ``"A,B;C"`` (new units separated by ``;``, the units
that join in one by ``,``).

One reader for every place that takes a plan as text: ``--plan`` on the command line and the
``plan=`` string of :func:`coterminus.outputs.maps.plan_map`, the figures and the report. Standard library
only, so the command line can check a plan before any heavy import.

Examples
--------
>>> split_plan("E38000038, E38000195; E38000164")
[['E38000038', 'E38000195'], ['E38000164']]
"""

from __future__ import annotations

from ..errors import ParameterError

__all__ = ["parse_plan", "split_plan"]


def split_plan(text: str) -> list[list[str]]:
    """Blocks of ``text``: ``;`` between new units, ``,`` between the units of one; blanks dropped.

    Examples
    --------
    >>> split_plan(" A , B ;; C, ")
    [['A', 'B'], ['C']]
    >>> split_plan(" ; ")
    []
    """
    blocks = [[c.strip() for c in b.split(",") if c.strip()] for b in text.split(";")]
    return [b for b in blocks if b]


def parse_plan(text: str, *, what: str = "the plan") -> list[list[str]]:
    """:func:`split_plan`, refusing a plan with no units; ``what`` names the plan in the error.

    Examples
    --------
    >>> parse_plan("E38000038,E38000195;E38000164", what="--plan")
    [['E38000038', 'E38000195'], ['E38000164']]
    >>> parse_plan(" ; ", what="--plan")
    Traceback (most recent call last):
    ...
    coterminus.errors.ParameterError: --plan ' ; ' has no units; write it as "A,B;C" ...
    """
    blocks = split_plan(text)
    if not blocks:
        msg = (
            f"{what} {text!r} has no units; write it as \"A,B;C\" (new units separated by ';', "
            "their unit codes by ',')."
        )
        raise ParameterError(msg)
    return blocks
