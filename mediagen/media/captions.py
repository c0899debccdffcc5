"""Caption cues from timed sentences, and one small writer per caption format (keyed by extension)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mediagen.files import atomic_write_text

MAX_LINE_CHARS = {"en": 42, "ja": 20}
MAX_LINES = 2
# Characters that must not begin a line (Japanese line-breaking rules, kinsoku).
NO_LINE_START = set(
    "。、，．・：；？！゛゜ヽヾゝゞ々ー’”）〕］｝〉》」』】ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ!),.:;?]}"
)
NO_LINE_END = set("（〔［｛〈《「『【([{")
_JA_PARTICLE_END = re.compile(r"(?:は|が|を|に|で|と|も|へ|や|の|から|まで|より|て|し)$")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]


def sentence_cues(text: str, start: float, end: float, lang: str) -> list[Cue]:
    """Cues of at most two short lines for one sentence; time is shared by visible characters."""
    width = MAX_LINE_CHARS[lang]
    chunks = _chunks(text.strip(), width * MAX_LINES, lang)
    weights = [max(1, len(re.sub(r"\s", "", c))) for c in chunks]
    total = sum(weights)
    cues, t = [], start
    for chunk, weight in zip(chunks, weights, strict=True):
        t_end = end if chunk is chunks[-1] else t + (end - start) * weight / total
        cues.append(Cue(round(t, 3), round(t_end, 3), tuple(wrap(chunk, width, lang))))
        t = t_end
    return cues


def _chunks(text: str, limit: int, lang: str) -> list[str]:
    """Pieces of at most `limit` characters, cut at phrase boundaries where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = _best_break(text, limit, lang, prefer_clause=True)
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def wrap(text: str, width: int, lang: str) -> list[str]:
    """At most two balanced lines of at most `width` characters (for a chunk that fits two lines)."""
    if len(text) <= width:
        return [text]
    fitting = [
        i
        for i in range(1, len(text))
        if _breakable(text, i, lang) and len(text[:i].strip()) <= width and len(text[i:].strip()) <= width
    ]
    if not fitting:
        return [text[:width].strip(), text[width:].strip()]

    def badness(i: int) -> tuple[bool, float]:
        return (lang == "ja" and not _phrase_end(text, i), abs(i - len(text) / 2))

    cut = min(fitting, key=badness)
    return [text[:cut].strip(), text[cut:].strip()]


def _breakable(text: str, i: int, lang: str) -> bool:
    return text[i] == " " if lang == "en" else _legal(text, i)


def _phrase_end(text: str, i: int) -> bool:
    return text[i - 1] in "、。，" or bool(_JA_PARTICLE_END.search(text[:i]))


def _best_break(text: str, limit: int, lang: str, prefer_clause: bool) -> int:
    """Where to cut `text`, at `limit` or before: after a clause mark, else a phrase, else anywhere legal."""
    limit = max(1, min(limit, len(text) - 1))
    lower = max(1, limit // 2)
    candidates = range(limit, lower - 1, -1)
    if prefer_clause:
        for i in candidates:
            if text[i - 1] in ",;:、。，" and _legal(text, i):
                return i
    if lang == "ja":
        for i in candidates:
            if _phrase_end(text, i) and _legal(text, i):
                return i
        for i in candidates:
            if _legal(text, i):
                return i
        return limit
    for i in candidates:
        if text[i] == " ":
            return i
    return limit


def _legal(text: str, i: int) -> bool:
    return 0 < i < len(text) and text[i] not in NO_LINE_START and text[i - 1] not in NO_LINE_END


class CaptionWriter:
    extension: ClassVar[str]

    def write(self, cues: list[Cue], path: Path) -> None:
        atomic_write_text(path, self.render(cues))

    def render(self, cues: list[Cue]) -> str:
        raise NotImplementedError

    @staticmethod
    def timestamp(seconds: float, separator: str) -> str:
        millis = round(seconds * 1000)
        hours, millis = divmod(millis, 3_600_000)
        minutes, millis = divmod(millis, 60_000)
        secs, millis = divmod(millis, 1000)
        return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


class SrtWriter(CaptionWriter):
    extension = "srt"

    def render(self, cues: list[Cue]) -> str:
        blocks = [
            f"{n}\n{self.timestamp(c.start, ',')} --> {self.timestamp(c.end, ',')}\n" + "\n".join(c.lines)
            for n, c in enumerate(cues, start=1)
        ]
        return "\n\n".join(blocks) + "\n"


class VttWriter(CaptionWriter):
    extension = "vtt"

    def render(self, cues: list[Cue]) -> str:
        blocks = [
            f"{self.timestamp(c.start, '.')} --> {self.timestamp(c.end, '.')}\n"
            + "\n".join(html.escape(line, quote=False) for line in c.lines)
            for c in cues
        ]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


WRITERS: dict[str, type[CaptionWriter]] = {cls.extension: cls for cls in (SrtWriter, VttWriter)}
