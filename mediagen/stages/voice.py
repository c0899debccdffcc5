"""voice: Episode -> Voiceover. Each sentence is synthesized on its own, so its timing is exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.episode import Episode
from mediagen.errors import StageError
from mediagen.speech import normalize_for_speech
from mediagen.timeline import SectionSpan, VoicedSentence, Voiceover

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


def lines_to_voice(episode: Episode) -> list[Line]:
    """Every narration line with its text normalized for speech; lines with nothing to say are left out."""
    lines = []
    for section in episode.sections:
        for line in section.narration:
            spoken = normalize_for_speech(line.text, episode.lang)
            if spoken:
                lines.append(Line(section.id, line.text, spoken, line.voice))
    return lines


def synthesize_line(engine: TTSEngine, line: Line) -> np.ndarray:
    return _synthesize(engine, line.spoken, line.voice, line.section_id)


def lay_out(episode: Episode, lines: list[Line], clips: list[np.ndarray], rate: int) -> Voiceover:
    """Put the voiced lines on one timeline: short pauses between sentences, longer ones between sections."""
    pieces: list[np.ndarray] = [_silence(LEAD_IN_S, rate)]
    cursor = len(pieces[0])
    sentences: list[VoicedSentence] = []
    starts: list[float] = []
    by_section: dict[str, list[tuple[Line, np.ndarray]]] = {}
    for line, clip in zip(lines, clips, strict=True):
        by_section.setdefault(line.section_id, []).append((line, clip))
    for number, section in enumerate(episode.sections):
        starts.append(cursor / rate if number else 0.0)
        if number:
            pieces.append(_silence(SECTION_PAUSE_S - SENTENCE_PAUSE_S, rate))
            cursor += len(pieces[-1])
        for line, clip in by_section.get(section.id, []):
            start, cursor = cursor, cursor + len(clip)
            sentences.append(VoicedSentence(section.id, line.text, line.spoken, start / rate, cursor / rate))
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


def _synthesize(engine: TTSEngine, text: str, voice: str | None, section_id: str) -> np.ndarray:
    try:
        audio = np.asarray(engine.synthesize(text, voice), dtype=np.float32)
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
