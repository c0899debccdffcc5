"""Registers the engines that ship with mediagen, the same way a plugin would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register(register_engine: Callable[[str, str, Callable[..., Any]], None]) -> None:
    def lazy(module: str, cls: str) -> Callable[..., Any]:
        def create(**options: Any) -> Any:
            from importlib import import_module

            return getattr(import_module(module), cls)(**options)

        return create

    register_engine("llm", "llama", lazy("mediagen.engines.llama", "LlamaEngine"))
    register_engine("tts", "piper", lazy("mediagen.engines.piper", "PiperEngine"))
    register_engine("tts", "kokoro", lazy("mediagen.engines.kokoro", "KokoroEngine"))
    register_engine("asr", "whisper", lazy("mediagen.engines.whisper", "WhisperEngine"))
    register_engine("llm", "fake", lazy("mediagen.engines.fake", "FakeLLM"))
    register_engine("tts", "fake", lazy("mediagen.engines.fake", "FakeTTS"))
