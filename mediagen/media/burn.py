"""Captions drawn onto the slide pictures (`--burn-captions`). The video still holds only distinct
pictures: one per stretch of time in which the same slide and the same cue (or none) are shown."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from mediagen.media.captions import Cue
from mediagen.timeline import SlideSpan


@dataclass(frozen=True)
class Stretch:
    slide: int  # index of the slide picture
    lines: tuple[str, ...]  # the caption shown, () for none
    start: float
    end: float

    def name(self, frame: Path) -> str:
        """A picture name that changes with what the picture shows."""
        digest = hashlib.sha256(repr((frame.name, self.lines)).encode("utf-8")).hexdigest()[:16]
        return f"captioned-{digest}.png"


def stretches(spans: list[SlideSpan], cues: list[Cue]) -> list[Stretch]:
    """Cut the slide spans wherever a cue starts or ends; neighbours showing the same thing are merged."""
    edges = sorted({t for s in spans for t in (s.start, s.end)} | {t for c in cues for t in (c.start, c.end)})
    out: list[Stretch] = []
    slide_at, cue_at = 0, 0
    for start, end in pairwise(edges):
        if end - start < 1e-3:
            continue
        middle = (start + end) / 2
        while slide_at < len(spans) - 1 and spans[slide_at].end <= middle:
            slide_at += 1
        while cue_at < len(cues) and cues[cue_at].end <= middle:
            cue_at += 1
        cue = cues[cue_at] if cue_at < len(cues) and cues[cue_at].start <= middle else None
        shown = Stretch(spans[slide_at].index, cue.lines if cue else (), start, end)
        if out and (out[-1].slide, out[-1].lines) == (shown.slide, shown.lines):
            out[-1] = Stretch(shown.slide, shown.lines, out[-1].start, end)
        else:
            out.append(shown)
    return out


def draw(frame: Path, lines: tuple[str, ...], target: Path, font_file: Path) -> None:
    """The slide picture with the caption in a dark box near its bottom edge."""
    from PIL import Image, ImageDraw

    with Image.open(frame) as opened:
        picture = opened.convert("RGB")
    if lines:
        width, height = picture.size
        font = _font(str(font_file), max(18, min(width, height) // 22))
        canvas = ImageDraw.Draw(picture, "RGBA")
        spacing = font.size // 3
        text = "\n".join(lines)
        left, top, right, bottom = canvas.multiline_textbbox((0, 0), text, font=font, spacing=spacing)
        pad = font.size // 2
        x = (width - (right - left)) / 2
        y = height - (bottom - top) - pad * 3
        canvas.rounded_rectangle(
            (x - pad, y - pad, x + (right - left) + pad, y + (bottom - top) + pad),
            radius=pad,
            fill=(0, 0, 0, 190),
        )
        canvas.multiline_text(
            (x - left, y - top), text, font=font, fill=(255, 255, 255), spacing=spacing, align="center"
        )
    picture.save(target)


@cache
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)
