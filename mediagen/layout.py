"""What a rendered deck really shows, read back from its PDF: every character's box and size.

A slide is only as good as what lands on the page: a theme can push text past the edge of the picture
(where a player's controls or a phone's rounded corners hide it), cut it off in a box too small for
it, or set it too small to read in a video. `check_layout` reads each page's characters (pypdfium2's
text page: the box and the font size of each, the size scaled by the text's matrix, so a CSS transform
counts) and names the text outside the safe area — the centred share `safe` of the page's width and
height — and the text set smaller than `min_px` pixels on a picture whose short side is 1080.
"""

from __future__ import annotations

import ctypes
import unicodedata
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c

SAFE_AREA = 0.9  # the centred share of the width and the height text must stay in
MIN_TEXT_PX = 40.0  # the smallest text, in pixels at 1080 on the picture's short side
SHORT_SIDE = 1080


@dataclass(frozen=True)
class Problem:
    page: int  # from 1
    text: str  # the characters concerned, as they read
    what: str  # "outside the safe area", "set in 30 px"

    def __str__(self) -> str:
        return f"page {self.page}: {self.text!r} {self.what}"


@dataclass(frozen=True)
class Glyph:
    char: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in pixels of the picture
    px: float  # its size in pixels at SHORT_SIDE


def glyphs(page: pypdfium2.PdfPage, size: tuple[int, int]) -> list[Glyph]:
    """The visible characters of a page, with their boxes in the picture's pixels (`size`), and one
    space where the text has any (not itself checked)."""
    width_pt, height_pt = page.get_size()
    scale = size[0] / width_pt  # pixels per point
    at_1080 = SHORT_SIDE / min(size)
    text = page.get_textpage()
    matrix = pdfium_c.FS_MATRIX()
    found = []
    for index in range(text.count_chars()):
        char = text.get_text_range(index, 1)
        if not char.strip():
            if found and found[-1].char != " ":
                found.append(Glyph(" ", found[-1].box, found[-1].px))  # kept for reading, not checked
            continue
        if unicodedata.category(char[0]) in ("Cc", "Cf", "Cn", "Co"):
            continue  # a mark pdfium puts where a line was broken
        left, bottom, right, top = text.get_charbox(index)
        points = pdfium_c.FPDFText_GetFontSize(text.raw, index)
        if pdfium_c.FPDFText_GetMatrix(text.raw, index, ctypes.byref(matrix)):
            points *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
        box = (left * scale, (height_pt - top) * scale, right * scale, (height_pt - bottom) * scale)
        found.append(Glyph(char, box, points * scale * at_1080))
    return found


def check_layout(
    pdf: bytes, size: tuple[int, int], safe: float = SAFE_AREA, min_px: float = MIN_TEXT_PX
) -> list[Problem]:
    """The text of the deck `pdf` (pages of `size` pixels) outside the safe area or set too small,
    run by run of characters with the same problem."""
    width, height = size
    margin_x, margin_y = width * (1 - safe) / 2, height * (1 - safe) / 2
    problems: list[Problem] = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for number in range(len(document)):
            run: list[str] = []
            what = ""
            for glyph in glyphs(document[number], size):
                if glyph.char == " ":
                    run.append(" ")
                    continue
                left, top, right, bottom = glyph.box
                outside = left < margin_x or right > width - margin_x or top < margin_y
                outside = outside or bottom > height - margin_y
                found = "outside the safe area" if outside else ""
                if not found and glyph.px < min_px - 0.5:
                    found = f"set in {glyph.px:.0f} px"
                if found != what and run and what:
                    problems.append(Problem(number + 1, "".join(run).strip(), what))
                if found != what:
                    run = []
                what = found
                run.append(glyph.char)
            if run and what:
                problems.append(Problem(number + 1, "".join(run).strip(), what))
    finally:
        document.close()
    return problems
