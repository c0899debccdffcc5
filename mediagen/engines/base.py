"""What an engine is: one small base class per kind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


class Engine(ABC):
    """What every engine has: a registry name and an identity that cache keys are made of."""

    name: ClassVar[str]
    options: dict[str, Any]

    @classmethod
    @abstractmethod
    def identity(cls, **options: Any) -> str:
        """Engine name + model name + model file hash for these options, without loading the model."""

    @property
    def model_id(self) -> str:
        return self.identity(**self.options)

    @classmethod
    def languages_for(cls, **options: Any) -> frozenset[str] | None:
        """The languages it speaks or hears with these options (None: any; see `registry.choose`)."""
        return getattr(cls, "languages", None)


class LLMEngine(Engine):
    """A language model. `complete` returns the raw completion of a prompt (a base model's way); a
    chat model (`chat_model`: an instruct GGUF with a chat template, or a server) also answers
    `chat` messages, and is then given instructions instead of few-shot prompts."""

    chat_model: bool = False

    def chat(
        self, messages: list[dict[str, str]], *, json_schema: dict | None = None, max_tokens: int = 256
    ) -> str:
        """The model's reply to chat messages (role, content); with `json_schema`, JSON of that shape."""
        raise NotImplementedError(f"{self.name} is not a chat model")

    @abstractmethod
    def complete(
        self,
        prompt: str,
        *,
        json_schema: dict | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
    ) -> str:
        """Greedy completion of `prompt`; with `json_schema`, the output is constrained to it."""


class TTSEngine(Engine):
    """A voice. `synthesize` returns mono float32 samples in [-1, 1] at `sample_rate`."""

    languages: ClassVar[frozenset[str]]
    # The writing systems (see text.letter_script) whose letters it can say; others are left unsaid.
    scripts: ClassVar[frozenset[str]]
    sample_rate: int
    concurrency: int = 1  # how many `synthesize` calls may run at once (threads sharing this engine)
    call_cores: int = 1  # the cores one call keeps busy (its inference threads; see mediagen.runner)

    @classmethod
    def voices(cls, lang: str, **options: Any) -> dict[str, dict[str, Any]]:
        """The voices this engine offers for a language: name -> the options that make it (no model is
        loaded); none unless the engine says."""
        return {}

    @classmethod
    def speaks(cls, **options: Any) -> frozenset[str]:
        """The scripts (see text.letter_script) it can say with these options."""
        return cls.scripts

    @abstractmethod
    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        """Speak one sentence of text already normalized for speech. `take` 2 is a second, more careful
        attempt (slower, steadier) for a sentence the speech check heard wrong."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    words: list[Word]

    @property
    def text(self) -> str:
        return "".join(word.text for word in self.words).strip()


class ASREngine(Engine):
    """A speech recognizer with word timestamps."""

    concurrency: int = 1  # how many `transcribe` calls may run at once (threads sharing this engine)
    call_cores: int = 1  # the cores one call keeps busy (its inference threads; see mediagen.runner)

    @abstractmethod
    def transcribe(self, audio: Path | np.ndarray, lang: str | None = None) -> Transcript:
        """Transcribe a file or 16 kHz mono float32 samples; `lang=None` detects the language."""
