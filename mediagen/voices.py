"""The voices an episode may use, per language, and which engine speaks each.

English: piper's bundled `joe` (or a Piper .onnx voice file given with `--voice`), and Kokoro-82M's
five voice packs fed English phonemes; Japanese: Kokoro's five packs. A voice is a name in this
catalog (what `--voice`, a line's `voice:` and a speaker's `voice:` in episode.yaml name), and an
engine of the registry with its options. Nothing is loaded to list them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediagen.engines.base import TTSEngine
from mediagen.engines.registry import Choice, choose, registry
from mediagen.errors import InputError

# The engines that speak each language, in the order their voices are listed.
SPEAKERS_OF = {"en": ("piper", "kokoro"), "ja": ("kokoro",)}
DEFAULT = {"en": "joe", "ja": "jf_alpha"}


@dataclass(frozen=True)
class Voice:
    name: str
    lang: str
    engine: str
    options: tuple[tuple[str, Any], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)

    def choice(self) -> Choice:
        """Its engine, checked to speak its language (see registry.choose)."""
        options = {key: value for key, value in self.options if key != "lang"}  # the voice's own
        return choose("tts", self.engine, lang=self.lang, **options)


def catalog(lang: str, choice: str | None = None) -> dict[str, Voice]:
    """Every voice of the language (with `--voice PATH.onnx`, that Piper voice too)."""
    voices: dict[str, Voice] = {}
    for engine in SPEAKERS_OF[lang]:
        cls = registry().engine_class("tts", engine)
        extra = {"model": choice} if engine == "piper" and choice and choice.endswith(".onnx") else {}
        for name, options in cls.voices(lang, **extra).items():
            voices[name] = Voice(name, lang, engine, tuple(sorted(options.items())))
    return voices


def default_voice(lang: str, choice: str | None = None) -> Voice:
    """`--voice` (a name, or a Piper voice file for English), else the language's default."""
    voices = catalog(lang, choice)
    name = Path(choice).name.removesuffix(".onnx") if choice and choice.endswith(".onnx") else choice
    name = name or DEFAULT[lang]
    if name not in voices:
        raise InputError(f"--voice {choice}: not a voice for '{lang}' (choose from: {', '.join(voices)})")
    return voices[name]


class Casting:
    """The voices of one episode: its language's catalog, the voice a line gets by default, and each
    voice's engine (loaded on first use, once) and identity (for cache keys)."""

    def __init__(
        self,
        lang: str,
        choice: str | None,
        make: Callable[[Choice], TTSEngine],
        identify: Callable[[Choice], str],
    ) -> None:
        self.lang = lang
        self.catalog = catalog(lang, choice)
        self.default = default_voice(lang, choice)
        self._make, self._identify = make, identify
        self._engines: dict[str, TTSEngine] = {}
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def voice(self, name: str | None) -> Voice:
        return self.catalog[name] if name else self.default

    def identity(self, name: str | None) -> str:
        voice = self.voice(name)
        if voice.name not in self._ids:
            self._ids[voice.name] = self._identify(voice.choice())
        return self._ids[voice.name]

    def engine(self, name: str | None) -> TTSEngine:
        voice = self.voice(name)
        with self._lock:
            if voice.name not in self._engines:
                self._engines[voice.name] = self._make(voice.choice())
            return self._engines[voice.name]

    @property
    def scripts(self) -> frozenset[str]:
        """The scripts every voice of the language can say (the default voice's engine's)."""
        voice = self.default
        return registry().engine_class("tts", voice.engine).speaks(**voice.kwargs())
