"""Registers the engines that ship with mediagen, the same way a plugin would."""

from __future__ import annotations

from collections.abc import Callable


def register(register_engine: Callable[[str, str, type | str], None]) -> None:
    register_engine("llm", "llama", "mediagen.engines.llama:LlamaEngine")
    register_engine("llm", "openai", "mediagen.engines.openai_server:OpenAIServerEngine")
    register_engine("tts", "piper", "mediagen.engines.piper:PiperEngine")
    register_engine("tts", "kokoro", "mediagen.engines.kokoro:KokoroEngine")
    register_engine("asr", "whisper", "mediagen.engines.whisper:WhisperEngine")
