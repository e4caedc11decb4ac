"""Checks of PDF pages: paper size (pypdf page boxes) and where the text lies (pdfplumber).

Used by the report and figure tests: every page is the paper asked for, and no character's
bounding box crosses the page margins.
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pypdf

MM = 72 / 25.4  # PDF points per millimetre
PAPER_PT = {"a4": (210 * MM, 297 * MM), "letter": (8.5 * 72, 11.0 * 72)}


def assert_pages_are(path: Path, paper: str) -> int:
    """Every page of the PDF has the media box of ``paper`` (±0.5 pt); return the page count."""
    reader = pypdf.PdfReader(str(path))
    want = PAPER_PT[paper]
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    wrong = [
        (i + 1, w, h)
        for i, (w, h) in enumerate(sizes)
        if abs(w - want[0]) > 0.5 or abs(h - want[1]) > 0.5
    ]
    assert not wrong, f"pages not {paper} ({want[0]:.1f} × {want[1]:.1f} pt): {wrong}"
    return len(sizes)


def chars_outside(
    path: Path, *, left: float, right: float, top: float, bottom: float
) -> list[tuple[int, str, float, float, float, float]]:
    """Characters whose box crosses the given margins (millimetres from each page edge).

    Returns ``(page, text, x0, top, x1, bottom)`` in points for each offending character.
    """
    bad = []
    with pdfplumber.open(str(path)) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            w, h = float(page.width), float(page.height)
            for c in page.chars:
                if not c["text"].strip():
                    continue
                if (
                    c["x0"] < left * MM - 0.5
                    or c["x1"] > w - right * MM + 0.5
                    or c["top"] < top * MM - 0.5
                    or c["bottom"] > h - bottom * MM + 0.5
                ):
                    bad.append((n, c["text"], c["x0"], c["top"], c["x1"], c["bottom"]))
    return bad


def page_chars(path: Path) -> int:
    """Number of non-blank characters in the PDF (to show that a check had text to check)."""
    with pdfplumber.open(str(path)) as pdf:
        return sum(1 for page in pdf.pages for c in page.chars if c["text"].strip())
