"""voice: Episode -> Voiceover. Each sentence is synthesized on its own, so its timing is exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.episode import Episode
from mediagen.errors import StageError
from mediagen.lexicon import EMPTY, Lexicon
from mediagen.speech import normalize_for_speech, unjoined
from mediagen.text import MAX_SENTENCE_CHARS, letter_script, split_sentences
from mediagen.timeline import SectionSpan, SpokenWord, VoicedSentence, Voiceover, on_grid

LEAD_IN_S = 0.25
SENTENCE_PAUSE_S = 0.30
SECTION_PAUSE_S = 0.90
TAIL_S = 0.60


@dataclass(frozen=True)
class Line:
    """One narration line as the voice will get it, and who says it."""

    section_id: str
    text: str
    spoken: str
    voice: str | None  # the voice's name (see mediagen.voices); None: the episode's default
    speaker: str | None = None  # the speaker's name, for captions


@dataclass(frozen=True)
class LeftOut:
    """A narration line the voice cannot speak: kept in episode.yaml, not in the audio."""

    section_id: str
    text: str
    scripts: tuple[str, ...]  # the writing systems the voice does not cover


def lines_to_voice(
    episode: Episode, lexicon: Lexicon = EMPTY, scripts: frozenset[str] | None = None
) -> list[Line]:
    """Every narration line as the voice gets it: cut into pieces a voice can say in one breath (as the
    Markdown path cuts run-on sentences), the lexicon's respellings applied, normalized for speech.
    Lines with nothing to say are left out, and so are lines mostly in a script the voice does not
    cover (`scripts`; see `left_out`)."""
    lines = []
    for section_id, piece, voice, speaker in _pieces(episode):
        said = speakable(piece, scripts)
        spoken = spoken_form(said, episode.lang, lexicon) if said is not None else ""
        if any(ch.isalnum() for ch in spoken):  # nothing to say in "🚀." or "—"
            lines.append(Line(section_id, piece, spoken, voice, speaker))
    return lines


def left_out(episode: Episode, scripts: frozenset[str]) -> list[LeftOut]:
    """The lines (or pieces of lines) `lines_to_voice` leaves out because the voice cannot say them."""
    found = []
    for section_id, piece, _, _ in _pieces(episode):
        if speakable(piece, scripts) is None:
            foreign = sorted({letter_script(ch) for ch in piece if ch.isalpha()} - scripts)
            found.append(LeftOut(section_id, piece, tuple(foreign)))
    return found


def _pieces(episode: Episode) -> list[tuple[str, str, str | None, str | None]]:
    """(section id, text, voice, speaker's name) of every piece of every narration line: the line's own
    voice, else its speaker's."""
    pieces = []
    for section in episode.sections:
        for line in section.narration:
            speaker = episode.speakers.get(line.speaker) if line.speaker else None
            voice = line.voice or (speaker.voice if speaker else None)
            name = speaker.name if speaker else None
            pieces += [(section.id, piece, voice, name) for piece in breath_pieces(line.text, episode.lang)]
    return pieces


def breath_pieces(text: str, lang: str) -> list[str]:
    """A line as the voice gets it: whole, or, when longer than a run-on sentence may be, its sentences
    (themselves cut where they are run-ons), exactly as the Markdown path cuts an issue's prose."""
    return (split_sentences(text, lang) or [text]) if len(text) > MAX_SENTENCE_CHARS else [text]


# A letter-run of a script the voice lacks is dropped from what it says; if such letters are at least
# this share of a line's letters, the line is left out instead.
FOREIGN_SHARE = 0.5


def speakable(text: str, scripts: frozenset[str] | None) -> str | None:
    """The text without the letters the voice cannot say (a voice reads "Привет" as a string of letter
    names, or says nothing); None when those are most of its letters. `scripts` None: every script."""
    if scripts is None:
        return text
    letters = [ch for ch in text if ch.isalpha()]
    foreign = [ch for ch in letters if letter_script(ch) not in scripts]
    if not foreign:
        return text
    if len(foreign) >= FOREIGN_SHARE * len(letters):
        return None
    return "".join(" " if ch.isalpha() and letter_script(ch) not in scripts else ch for ch in text)


def spoken_form(text: str, lang: str, lexicon: Lexicon = EMPTY) -> str:
    """What the voice is given for `text`: the lexicon's respellings, the author's own words apart where
    they are joined (see `speech.unjoined`), then normalized for speech."""
    return normalize_for_speech(lexicon.apply(text, lang, lambda part: unjoined(part, lang)), lang)


def synthesize_line(engine: TTSEngine, line: Line, take: int = 1) -> np.ndarray:
    return _synthesize(engine, line.spoken, line.voice, line.section_id, take)


def lay_out(
    episode: Episode,
    lines: list[Line],
    clips: list[np.ndarray],
    rate: int,
    heard: list[tuple[SpokenWord, ...]] | None = None,
    grid_s: Fraction | None = None,
) -> Voiceover:
    """Put the voiced lines on one timeline: short pauses between sentences, longer ones between sections.
    `heard` (per line, times relative to its clip) becomes each sentence's words in episode time.
    `grid_s`: each section after the first starts on a whole number of these (its pause is up to one
    longer), where the audio can be cut into parts encoded on their own (see media.parts)."""
    pieces: list[np.ndarray] = [_silence(LEAD_IN_S, rate)]
    cursor = len(pieces[0])
    sentences: list[VoicedSentence] = []
    starts: list[float] = []
    by_section: dict[str, list[tuple[Line, np.ndarray, tuple[SpokenWord, ...]]]] = {}
    for line, clip, words in zip(lines, clips, heard or [()] * len(lines), strict=True):
        by_section.setdefault(line.section_id, []).append((line, clip, words))
    for number, section in enumerate(episode.sections):
        if number and grid_s:
            pieces.append(np.zeros(on_grid(cursor, rate, grid_s) - cursor, np.float32))
            cursor += len(pieces[-1])
        starts.append(cursor / rate if number else 0.0)
        if number:
            pieces.append(_silence(SECTION_PAUSE_S - SENTENCE_PAUSE_S, rate))
            cursor += len(pieces[-1])
        for line, clip, words in by_section.get(section.id, []):
            start, cursor = cursor, cursor + len(clip)
            at = start / rate
            timed = tuple(SpokenWord(w.text, at + w.start, at + w.end) for w in words)
            sentences.append(
                VoicedSentence(section.id, line.text, line.spoken, at, cursor / rate, timed, line.speaker)
            )
            pieces += [clip, _silence(SENTENCE_PAUSE_S, rate)]
            cursor += len(pieces[-1])
    pieces.append(_silence(TAIL_S - SENTENCE_PAUSE_S, rate))
    samples = np.concatenate(pieces)
    ends = [*starts[1:], len(samples) / rate]
    spans = [
        SectionSpan(s.id, s.title, start, end)
        for s, start, end in zip(episode.sections, starts, ends, strict=True)
    ]
    return Voiceover(samples=samples, sample_rate=rate, sentences=sentences, sections=spans)


def voice_episode(
    episode: Episode, engine: TTSEngine, on_sentence: Callable[[], None] | None = None
) -> Voiceover:
    """Speak every narration line (uncached; the pipeline does the same through its cache)."""
    lines = lines_to_voice(episode)
    clips = []
    for line in lines:
        clips.append(synthesize_line(engine, line))
        if on_sentence:
            on_sentence()
    return lay_out(episode, lines, clips, engine.sample_rate)


def _synthesize(
    engine: TTSEngine, text: str, voice: str | None, section_id: str, take: int = 1
) -> np.ndarray:
    try:
        audio = np.asarray(engine.synthesize(text, voice, take=take), dtype=np.float32)
    except Exception as exc:  # an engine may fail in many ways; name the stage and section
        raise StageError(
            "voice", f"{engine.name} failed on {text[:50]!r}: {exc}", section=section_id
        ) from exc
    if audio.size == 0 or not np.isfinite(audio).all() or np.abs(audio).max() < 1e-4:
        raise StageError(
            "voice", f"{engine.name} produced no audible audio for {text[:50]!r}", section=section_id
        )
    return np.clip(audio, -1.0, 1.0)


def _silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(max(0, round(seconds * rate)), np.float32)
