"""What is drawn onto the slide pictures: the captions (`--burn-captions`) and, in a dialogue, a name
tag of who is speaking. The video still holds only distinct pictures: one per stretch of time in
which the same slide, the same cue (or none) and the same speaker are shown."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from mediagen.media.captions import Cue, labelled
from mediagen.timeline import SlideSpan

# One colour per speaker (the first host's, the second's), for the name tag and the caption's name.
SPEAKER_COLOURS = ((224, 165, 38), (86, 180, 233))


@dataclass(frozen=True)
class Stretch:
    slide: int  # index of the slide picture
    lines: tuple[str, ...]  # the caption shown, () for none
    start: float
    end: float
    speaker: str | None = None  # whose name tag is shown, if any
    colour: int = 0  # the speaker's place in SPEAKER_COLOURS

    def name(self, frame: Path) -> str:
        """A picture name that changes with what the picture shows."""
        shown = (frame.name, self.lines, self.speaker, self.colour)
        return f"captioned-{hashlib.sha256(repr(shown).encode('utf-8')).hexdigest()[:16]}.png"


def stretches(
    spans: list[SlideSpan], cues: list[Cue], captions: bool = True, speakers: list[str] | None = None
) -> list[Stretch]:
    """Cut the slide spans wherever a cue starts or ends; neighbours showing the same thing are merged.
    With `captions`, each stretch shows its cue (the speaker's name leading it where the speaker
    changes); with `speakers` (a dialogue's, in order), a name tag of who speaks, kept through pauses."""
    edges = sorted({t for s in spans for t in (s.start, s.end)} | {t for c in cues for t in (c.start, c.end)})
    shown_lines = labelled(cues)
    out: list[Stretch] = []
    slide_at, cue_at = 0, 0
    speaker: str | None = None
    for start, end in pairwise(edges):
        if end - start < 1e-3:
            continue
        middle = (start + end) / 2
        while slide_at < len(spans) - 1 and spans[slide_at].end <= middle:
            slide_at += 1
        while cue_at < len(cues) and cues[cue_at].end <= middle:
            cue_at += 1
        on = cue_at < len(cues) and cues[cue_at].start <= middle
        lines = shown_lines[cue_at] if on and captions else ()
        if speakers and on:
            speaker = cues[cue_at].speaker or speaker
        tag = speaker if speakers else None
        colour = speakers.index(tag) % len(SPEAKER_COLOURS) if speakers and tag in speakers else 0
        stretch = Stretch(spans[slide_at].index, lines, start, end, tag, colour)
        last = out[-1] if out else None
        if last and (last.slide, last.lines, last.speaker) == (stretch.slide, stretch.lines, stretch.speaker):
            out[-1] = Stretch(last.slide, last.lines, last.start, end, last.speaker, last.colour)
        else:
            out.append(stretch)
    return out


def draw(frame: Path, stretch: Stretch, target: Path, font_file: Path) -> None:
    """The slide picture with the caption in a dark box near its bottom edge, and the speaker's name
    tag in their colour at its top left."""
    from PIL import Image, ImageDraw

    with Image.open(frame) as opened:
        picture = opened.convert("RGB")
    width, height = picture.size
    font = _font(str(font_file), max(18, min(width, height) // 22))
    canvas = ImageDraw.Draw(picture, "RGBA")
    pad = font.size // 2
    if stretch.lines:
        spacing = font.size // 3
        text = "\n".join(stretch.lines)
        left, top, right, bottom = canvas.multiline_textbbox((0, 0), text, font=font, spacing=spacing)
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
    if stretch.speaker:
        left, top, right, bottom = canvas.textbbox((0, 0), stretch.speaker, font=font)
        x, y = pad * 2, pad * 2
        box = (x - pad, y - pad // 2, x + (right - left) + pad, y + (bottom - top) + pad // 2)
        canvas.rounded_rectangle(box, radius=pad, fill=(*SPEAKER_COLOURS[stretch.colour], 235))
        canvas.text((x - left, y - top), stretch.speaker, font=font, fill=(20, 20, 20))
    picture.save(target)


@cache
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)
