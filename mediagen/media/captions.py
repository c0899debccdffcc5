"""Caption cues from timed sentences, and one small writer per caption format (keyed by extension)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mediagen.files import atomic_write_text

MAX_LINE_CHARS = {"en": 42, "ja": 20}
MAX_LINES = 2
# A silence this long inside a sentence is where a listener hears a phrase end (and where a cue's start
# is timed by the sound itself: see qa.snap_to_sound).
PAUSE_S = 0.1
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
    """Cues of at most two short lines for one sentence; time is shared by visible characters (used
    when no word times are known: see `timed_cues`)."""
    width = MAX_LINE_CHARS[lang]
    chunks = [chunk for chunk, _, _ in cue_chunks(text, lang)]
    weights = [max(1, len(re.sub(r"\s", "", c))) for c in chunks]
    total = sum(weights)
    cues, t = [], start
    for chunk, weight in zip(chunks, weights, strict=True):
        t_end = end if chunk is chunks[-1] else t + (end - start) * weight / total
        cues.append(Cue(round(t, 3), round(t_end, 3), tuple(wrap(chunk, width, lang))))
        t = t_end
    return cues


def timed_cues(text: str, spans: list[tuple[float, float]], lang: str) -> list[Cue]:
    """Cues for one sentence from the time of each of its characters (start, end): each cue shows from
    its first spoken character to its last, so cues follow the speech, not an estimate."""
    width = MAX_LINE_CHARS[lang]
    spoken = [i for i, ch in enumerate(text) if ch.isalnum()]

    def silence_before(i: int) -> float:
        after = next((k for k in spoken if k >= i), None)
        before = next((k for k in reversed(spoken) if k < i), None)
        return 0.0 if after is None or before is None else spans[after][0] - spans[before][1]

    cues: list[Cue] = []
    for chunk, first, last in cue_chunks(text, lang, silence_before):
        start, end = spans[first][0], spans[last - 1][1]
        cues.append(Cue(round(start, 3), round(max(end, start + 0.2), 3), tuple(wrap(chunk, width, lang))))
    for n in range(len(cues) - 1):  # a cue ends before the next begins
        if cues[n].end > cues[n + 1].start:
            cues[n] = Cue(cues[n].start, cues[n + 1].start, cues[n].lines)
    return cues


def cue_chunks(
    text: str, lang: str, silence_before: Callable[[int], float] | None = None
) -> list[tuple[str, int, int]]:
    """The sentence cut into pieces that fit one cue (two lines), at clause boundaries, else where the
    voice pauses (`silence_before(i)`: seconds of silence before character i, when the speech is timed),
    else at a phrase boundary: (piece, index of its first character in `text`, index after its last)."""
    limit = MAX_LINE_CHARS[lang] * MAX_LINES
    pieces: list[tuple[str, int, int]] = []
    offset = 0
    while True:
        rest = text[offset:]
        lead = len(rest) - len(rest.lstrip())
        offset, rest = offset + lead, rest.strip()
        if not rest:
            return pieces
        pause = (lambda i, at=offset: silence_before(at + i)) if silence_before else None
        cut = len(rest) if len(rest) <= limit else _best_break(rest, limit, lang, True, pause)
        piece = rest[:cut].rstrip()
        pieces.append((piece, offset, offset + len(piece)))
        offset += cut


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


def _best_break(
    text: str, limit: int, lang: str, prefer_clause: bool, pause: Callable[[int], float] | None = None
) -> int:
    """Where to cut `text`, at `limit` or before: after a clause mark, else at the longest pause of at
    least PAUSE_S, else a phrase, else anywhere legal."""
    limit = max(1, min(limit, len(text) - 1))
    lower = max(1, limit // 2)
    candidates = range(limit, lower - 1, -1)
    if prefer_clause:
        for i in candidates:
            if text[i - 1] in ",;:、。，" and _legal(text, i):
                return i
    if pause is not None:
        pauses = [(pause(i), i) for i in candidates if _breakable(text, i, lang)]
        longest = max(pauses, default=(0.0, 0))
        if longest[0] >= PAUSE_S:
            return longest[1]
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
