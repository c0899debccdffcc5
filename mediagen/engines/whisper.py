"""ASR engine: faster-whisper (CTranslate2) with the bundled tiny.en and multilingual base models."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mediagen.cpu import cores, wait_passively
from mediagen.engines.base import ASREngine, Transcript, Word
from mediagen.models import whisper_model_dir, whisper_model_name


class WhisperEngine(ASREngine):
    """`lang` picks the bundled model (tiny.en for English, multilingual base otherwise) unless `model`
    names one."""

    name = "whisper"

    def __init__(self, lang: str | None = None, beam_size: int = 1, model: str | None = None) -> None:
        wait_passively()
        from faster_whisper import WhisperModel

        self.model = model or whisper_model_name(lang)
        self.options = {"lang": lang, "beam_size": beam_size, "model": self.model}
        self.lang = lang
        self.beam_size = beam_size
        # One thread per window and as many windows at once as there are cores: whisper's decoding
        # keeps two threads on one window busy only part of the time (rust-lld's 247 s of sentences in
        # 14 windows: tiny.en 15.0 s with two threads on one window at a time, 9.8 s with one thread
        # on each of two; base 24.7 s and 16.6 s).
        self.concurrency = cores()
        self._model = WhisperModel(
            str(whisper_model_dir(self.model)),
            device="cpu",
            compute_type="int8",
            cpu_threads=1,
            num_workers=self.concurrency,
        )

    @classmethod
    def identity(
        cls, lang: str | None = None, beam_size: int = 1, model: str | None = None, **_: object
    ) -> str:
        return f"whisper:{model or whisper_model_name(lang)}:beam{beam_size}"

    @classmethod
    def languages_for(
        cls, lang: str | None = None, model: str | None = None, **_: object
    ) -> frozenset[str] | None:
        """An English-only model (tiny.en) hears English; the multilingual ones any language."""
        return frozenset({"en"}) if (model or whisper_model_name(lang)).endswith(".en") else None

    def transcribe(self, audio: Path | np.ndarray, lang: str | None = None) -> Transcript:
        source = str(audio) if isinstance(audio, Path) else np.asarray(audio, dtype=np.float32)
        segments, info = self._model.transcribe(
            source,
            language=lang or self.lang,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        words = [
            Word(text=w.word, start=w.start, end=w.end, probability=w.probability)
            for segment in segments
            for w in segment.words or []
        ]
        return Transcript(language=info.language, language_probability=info.language_probability, words=words)
