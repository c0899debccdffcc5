"""Caption cues from timed sentences, and one small writer per caption format (keyed by extension)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mediagen.files import atomic_write_text
from mediagen.text import NO_LINE_END, NO_LINE_START, phrase_end

MAX_LINE_CHARS = {"en": 42, "ja": 20}
MAX_LINES = 2
# A silence this long inside a sentence is where a listener hears a phrase end (and where a cue's start
# is timed by the sound itself: see timing.snap_to_sound).
PAUSE_S = 0.1
# Characters that must not begin a line (Japanese line-breaking rules, kinsoku).
# Words that begin a clause, and prepositions (which often begin a phrase, but not after every verb:
# "listen to"): a cue cut before a clause word reads best, before a preposition next best.
_CLAUSE_STARTS_EN = frozenset(
    "and or but nor so yet because although though while when where whether which who whom whose that "
    "than if unless".split()
)
_PREPOSITIONS_EN = frozenset(
    "to for with without in on at from by into onto about over under after before since until as like".split()
)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None  # who says it, in a dialogue


def speaker_width(lang: str, names: list[str]) -> int:
    """A line's width when a speaker's name may lead it ("Mika: …" in SRT and burned captions)."""
    return MAX_LINE_CHARS[lang] - max((len(label(name)) for name in names), default=0)


def label(name: str) -> str:
    return f"{name}: "


def labelled(cues: list[Cue]) -> list[tuple[str, ...]]:
    """Each cue's lines, the first led by the speaker's name where the speaker changes."""
    shown, previous = [], None
    for cue in cues:
        lines = cue.lines
        if cue.speaker and cue.speaker != previous:
            lines = (label(cue.speaker) + lines[0], *lines[1:])
        shown.append(lines)
        previous = cue.speaker or previous
    return shown


def sentence_cues(text: str, start: float, end: float, lang: str, width: int | None = None) -> list[Cue]:
    """Cues of at most two short lines (of `width`, default MAX_LINE_CHARS) for one sentence; time is
    shared by visible characters (used when no word times are known: see `timed_cues`)."""
    width = width or MAX_LINE_CHARS[lang]
    chunks = [chunk for chunk, _, _ in cue_chunks(text, lang, width=width)]
    weights = [max(1, len(re.sub(r"\s", "", c))) for c in chunks]
    total = sum(weights)
    cues, t = [], start
    for chunk, weight in zip(chunks, weights, strict=True):
        t_end = end if chunk is chunks[-1] else t + (end - start) * weight / total
        cues.append(Cue(round(t, 3), round(t_end, 3), tuple(wrap(chunk, width, lang))))
        t = t_end
    return cues


def timed_cues(text: str, spans: list[tuple[float, float]], lang: str, width: int | None = None) -> list[Cue]:
    """Cues for one sentence from the time of each of its characters (start, end): each cue shows from
    its first spoken character to its last, so cues follow the speech, not an estimate."""
    width = width or MAX_LINE_CHARS[lang]
    spoken = [i for i, ch in enumerate(text) if ch.isalnum()]

    def silence_before(i: int) -> float:
        after = next((k for k in spoken if k >= i), None)
        before = next((k for k in reversed(spoken) if k < i), None)
        return 0.0 if after is None or before is None else spans[after][0] - spans[before][1]

    cues: list[Cue] = []
    for chunk, first, last in cue_chunks(text, lang, silence_before, width):
        start, end = spans[first][0], spans[last - 1][1]
        cues.append(Cue(round(start, 3), round(max(end, start + 0.2), 3), tuple(wrap(chunk, width, lang))))
    for n in range(len(cues) - 1):  # a cue ends before the next begins
        if cues[n].end > cues[n + 1].start:
            cues[n] = Cue(cues[n].start, cues[n + 1].start, cues[n].lines)
    return cues


def cue_chunks(
    text: str, lang: str, silence_before: Callable[[int], float] | None = None, width: int | None = None
) -> list[tuple[str, int, int]]:
    """The sentence cut into pieces that fit one cue (two lines), at clause boundaries, else where the
    voice pauses (`silence_before(i)`: seconds of silence before character i, when the speech is timed),
    else at a phrase boundary: (piece, index of its first character in `text`, index after its last)."""
    width = width or MAX_LINE_CHARS[lang]
    pieces: list[tuple[str, int, int]] = []
    offset = 0
    while True:
        rest = text[offset:]
        lead = len(rest) - len(rest.lstrip())
        offset, rest = offset + lead, rest.strip()
        if not rest:
            return pieces
        pause = (lambda i, at=offset: silence_before(at + i)) if silence_before else None
        cut = len(rest) if _fits(rest, lang, width) else _best_break(rest, width, lang, pause)
        piece = rest[:cut].rstrip()
        pieces.append((piece, offset, offset + len(piece)))
        offset += cut


def _fits(text: str, lang: str, width: int) -> bool:
    """Whether `text` can be one cue: one line, or two lines broken at a legal place."""
    return len(text) <= width or (
        len(text) <= width * MAX_LINES and bool(_two_line_breaks(text, width, lang))
    )


def _two_line_breaks(text: str, width: int, lang: str) -> list[int]:
    """The legal places to break `text` into two lines of at most `width` characters."""
    return [
        i
        for i in range(1, len(text))
        if _breakable(text, i, lang) and len(text[:i].strip()) <= width and len(text[i:].strip()) <= width
    ]


def wrap(text: str, width: int, lang: str) -> list[str]:
    """At most two balanced lines of at most `width` characters (for a chunk that fits two lines)."""
    if len(text) <= width:
        return [text]
    fitting = _two_line_breaks(text, width, lang)
    if not fitting:
        return [text[:width].strip(), text[width:].strip()]

    def badness(i: int) -> tuple[bool, float]:
        return (lang == "ja" and not phrase_end(text, i), abs(i - len(text) / 2))

    cut = min(fitting, key=badness)
    return [text[:cut].strip(), text[cut:].strip()]


def _breakable(text: str, i: int, lang: str) -> bool:
    return text[i] == " " if lang == "en" else _legal(text, i)


def _best_break(text: str, width: int, lang: str, pause: Callable[[int], float] | None = None) -> int:
    """Where to cut `text` (longer than one cue of `limit` characters) so that the pieces are balanced:
    the rest still fits the fewest cues, and neither side is a scrap of under a third of a cue. Among
    those places: after a clause mark nearest the middle, else at the longest pause of at least PAUSE_S,
    else at a phrase boundary (before "and", "that", "when"..., less readily before a preposition;
    between Japanese accent phrases) near the middle, else the legal place nearest the middle."""
    limit = width * MAX_LINES
    count = max(2, math.ceil(len(text) / limit))  # it does not fit one cue
    target = len(text) / count
    lowest = max(1, len(text) - (count - 1) * limit, limit // 3)
    highest = min(limit, len(text) - 1, len(text) - limit // 3)
    places = [
        i
        for i in range(lowest, highest + 1)
        if _breakable(text, i, lang) and _fits(text[:i].rstrip(), lang, width)
    ]
    if not places:  # long unbroken runs: the last legal place that fits, else a hard cut
        fitting = (i for i in range(min(limit, len(text) - 1), 0, -1) if _breakable(text, i, lang))
        return next((i for i in fitting if _fits(text[:i].rstrip(), lang, width)), limit)

    def off_middle(i: int) -> float:
        return abs(i - target) / limit

    clauses = [i for i in places if text[i - 1] in ",;:、。，"]
    if clauses:
        return min(clauses, key=off_middle)
    if pause is not None:
        longest = max((pause(i), i) for i in places)
        if longest[0] >= PAUSE_S:
            return longest[1]
    return min(places, key=lambda i: off_middle(i) + _inside_phrase(text, i, lang))


def _inside_phrase(text: str, i: int, lang: str) -> float:
    """How much a cut at i splits a phrase: 0 at a clause boundary, 0.3 between any two words."""
    if lang == "ja":
        return 0.0 if phrase_end(text, i) else 0.3
    following = re.match(r"\s*([A-Za-z]+)", text[i:])
    word = following.group(1).lower() if following else ""
    return 0.0 if word in _CLAUSE_STARTS_EN else 0.15 if word in _PREPOSITIONS_EN else 0.3


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
    """SRT, the speaker's name leading the cue where the speaker changes."""

    extension = "srt"

    def render(self, cues: list[Cue]) -> str:
        blocks = [
            f"{n}\n{self.timestamp(c.start, ',')} --> {self.timestamp(c.end, ',')}\n" + "\n".join(lines)
            for n, (c, lines) in enumerate(zip(cues, labelled(cues), strict=True), start=1)
        ]
        return "\n\n".join(blocks) + "\n"


class VttWriter(CaptionWriter):
    """WebVTT, each cue of a dialogue in its speaker's voice span (`<v Mika>…</v>`)."""

    extension = "vtt"

    def render(self, cues: list[Cue]) -> str:
        blocks = [
            f"{self.timestamp(c.start, '.')} --> {self.timestamp(c.end, '.')}\n" + self._payload(c)
            for c in cues
        ]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"

    @staticmethod
    def _payload(cue: Cue) -> str:
        text = "\n".join(html.escape(line, quote=False) for line in cue.lines)
        if not cue.speaker:
            return text
        name = re.sub(r"[<>&\s]+", " ", cue.speaker).strip()
        return f"<v {name}>{text}</v>"


WRITERS: dict[str, type[CaptionWriter]] = {cls.extension: cls for cls in (SrtWriter, VttWriter)}
