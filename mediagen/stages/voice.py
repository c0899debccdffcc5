"""voice: Episode -> Voiceover. Each sentence is synthesized on its own, so its timing is exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.episode import Episode
from mediagen.errors import StageError
from mediagen.lexicon import EMPTY, Lexicon
from mediagen.speech import normalize_for_speech
from mediagen.timeline import SectionSpan, SpokenWord, VoicedSentence, Voiceover

LEAD_IN_S = 0.25
SENTENCE_PAUSE_S = 0.30
SECTION_PAUSE_S = 0.90
TAIL_S = 0.60
DEFAULT_TTS = {"en": "piper", "ja": "kokoro"}


@dataclass(frozen=True)
class Line:
    """One narration line as the voice will get it."""

    section_id: str
    text: str
    spoken: str
    voice: str | None


def lines_to_voice(episode: Episode, lexicon: Lexicon = EMPTY) -> list[Line]:
    """Every narration line as the voice gets it: the lexicon's respellings applied, then normalized for
    speech; lines with nothing to say are left out."""
    lines = []
    for section in episode.sections:
        for line in section.narration:
            spoken = spoken_form(line.text, episode.lang, lexicon)
            if any(ch.isalnum() for ch in spoken):  # nothing to say in "🚀." or "—"
                lines.append(Line(section.id, line.text, spoken, line.voice))
    return lines


def spoken_form(text: str, lang: str, lexicon: Lexicon = EMPTY) -> str:
    """What the voice is given for `text`: the lexicon's respellings, then normalized for speech."""
    return normalize_for_speech(lexicon.apply(text, lang), lang)


def synthesize_line(engine: TTSEngine, line: Line, take: int = 1) -> np.ndarray:
    return _synthesize(engine, line.spoken, line.voice, line.section_id, take)


def lay_out(
    episode: Episode,
    lines: list[Line],
    clips: list[np.ndarray],
    rate: int,
    heard: list[tuple[SpokenWord, ...]] | None = None,
) -> Voiceover:
    """Put the voiced lines on one timeline: short pauses between sentences, longer ones between sections.
    `heard` (per line, times relative to its clip) becomes each sentence's words in episode time."""
    pieces: list[np.ndarray] = [_silence(LEAD_IN_S, rate)]
    cursor = len(pieces[0])
    sentences: list[VoicedSentence] = []
    starts: list[float] = []
    by_section: dict[str, list[tuple[Line, np.ndarray, tuple[SpokenWord, ...]]]] = {}
    for line, clip, words in zip(lines, clips, heard or [()] * len(lines), strict=True):
        by_section.setdefault(line.section_id, []).append((line, clip, words))
    for number, section in enumerate(episode.sections):
        starts.append(cursor / rate if number else 0.0)
        if number:
            pieces.append(_silence(SECTION_PAUSE_S - SENTENCE_PAUSE_S, rate))
            cursor += len(pieces[-1])
        for line, clip, words in by_section.get(section.id, []):
            start, cursor = cursor, cursor + len(clip)
            at = start / rate
            timed = tuple(SpokenWord(w.text, at + w.start, at + w.end) for w in words)
            sentences.append(VoicedSentence(section.id, line.text, line.spoken, at, cursor / rate, timed))
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
