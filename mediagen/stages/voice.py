"""voice: Episode -> Voiceover. Each sentence is synthesized on its own, so its timing is exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.episode import Episode
from mediagen.errors import StageError
from mediagen.speech import normalize_for_speech

LEAD_IN_S = 0.25
SENTENCE_PAUSE_S = 0.30
SECTION_PAUSE_S = 0.90
TAIL_S = 0.60
DEFAULT_TTS = {"en": "piper", "ja": "kokoro"}


@dataclass(frozen=True)
class VoicedSentence:
    section_id: str
    text: str  # as written (captions show this)
    spoken: str  # as sent to the voice
    start: float
    end: float


@dataclass(frozen=True)
class SectionSpan:
    id: str
    title: str
    start: float
    end: float


@dataclass
class Voiceover:
    samples: np.ndarray  # mono float32
    sample_rate: int
    sentences: list[VoicedSentence]
    sections: list[SectionSpan]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def voice_episode(
    episode: Episode, engine: TTSEngine, on_sentence: Callable[[], None] | None = None
) -> Voiceover:
    """Speak every narration line, with short pauses between sentences and longer ones between sections."""
    rate = engine.sample_rate
    pieces: list[np.ndarray] = [_silence(LEAD_IN_S, rate)]
    cursor = len(pieces[0])
    sentences: list[VoicedSentence] = []
    starts: list[float] = []
    for number, section in enumerate(episode.sections):
        starts.append(cursor / rate if number else 0.0)
        if number:
            pieces.append(_silence(SECTION_PAUSE_S - SENTENCE_PAUSE_S, rate))
            cursor += len(pieces[-1])
        for line in section.narration:
            spoken = normalize_for_speech(line.text, episode.lang)
            if on_sentence:
                on_sentence()
            if not spoken:
                continue
            audio = _synthesize(engine, spoken, line.voice, section.id)
            sentences.append(
                VoicedSentence(section.id, line.text, spoken, cursor / rate, (cursor + len(audio)) / rate)
            )
            pieces += [audio, _silence(SENTENCE_PAUSE_S, rate)]
            cursor += len(audio) + len(pieces[-1])
    pieces.append(_silence(TAIL_S - SENTENCE_PAUSE_S, rate))
    samples = np.concatenate(pieces)
    total = len(samples) / rate
    ends = [*starts[1:], total]
    spans = [
        SectionSpan(s.id, s.title, start, end)
        for s, start, end in zip(episode.sections, starts, ends, strict=True)
    ]
    return Voiceover(samples=samples, sample_rate=rate, sentences=sentences, sections=spans)


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
