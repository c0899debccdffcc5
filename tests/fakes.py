"""Fake engines for fast unit tests of logic: canned LLM replies and a tone instead of a voice."""

from __future__ import annotations

import json
from collections import deque

import numpy as np

from mediagen.engines.base import LLMEngine, TTSEngine


class FakeLLM(LLMEngine):
    """Replies from a queue (a string, or a dict dumped as JSON); records every prompt it was given."""

    name = "fake"

    def __init__(self, replies: list[str | dict | Exception] | None = None) -> None:
        self.options = {}
        self.replies: deque[str | dict | Exception] = deque(replies or [])
        self.prompts: list[str] = []

    @classmethod
    def identity(cls, **_: object) -> str:
        return "fake-llm"

    def complete(
        self,
        prompt: str,
        *,
        json_schema: dict | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
    ) -> str:
        self.prompts.append(prompt)
        reply = self.replies.popleft() if self.replies else ""
        if isinstance(reply, Exception):
            raise reply
        return json.dumps(reply) if isinstance(reply, dict) else reply


class FakeTTS(TTSEngine):
    """A quiet tone whose length grows with the text (60 ms per character); records what it spoke."""

    name = "fake"
    languages = frozenset({"en", "ja"})
    scripts = frozenset({"LATIN", "GREEK", "HAN", "HIRAGANA", "KATAKANA"})

    def __init__(self, sample_rate: int = 16_000, seconds_per_char: float = 0.06) -> None:
        self.options = {"sample_rate": sample_rate, "seconds_per_char": seconds_per_char}
        self.sample_rate = sample_rate
        self.seconds_per_char = seconds_per_char
        self.spoken: list[str] = []

    @classmethod
    def identity(cls, sample_rate: int = 16_000, seconds_per_char: float = 0.06, **_: object) -> str:
        return f"fake-tts:{sample_rate}:{seconds_per_char}"

    @classmethod
    def voices(cls, lang: str, **_: object) -> dict[str, dict[str, object]]:
        return {"fake": {}}

    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        self.spoken.append(text)
        count = max(1, int(len(text) * self.seconds_per_char * self.sample_rate))
        t = np.arange(count) / self.sample_rate
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
