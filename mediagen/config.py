"""Project settings from `mediagen.toml`, or `[tool.mediagen]` in `pyproject.toml`, in the current folder.

Every setting is checked before anything runs; problems are reported together as `Config value 'x': …`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediagen.errors import InputError

CONFIG_FILE = "mediagen.toml"


@dataclass(frozen=True)
class Config:
    cache: Path | None = None
    source: Path | None = None


def load_config(folder: Path | None = None) -> Config:
    """The settings of `folder` (default: the current folder); `MEDIAGEN_CACHE` overrides `cache`."""
    folder = folder or Path.cwd()
    raw, source = _read(folder)
    problems: list[str] = []
    cache = raw.pop("cache", None)
    if cache is not None and not isinstance(cache, str):
        problems.append(f"Config value 'cache': expected a folder path, not {type(cache).__name__}")
    problems += [f"Config value '{key}': unknown setting" for key in raw]
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))
    if os.environ.get("MEDIAGEN_CACHE"):
        cache = os.environ["MEDIAGEN_CACHE"]
    cache_path = (folder / cache).resolve() if isinstance(cache, str) else None
    return Config(cache=cache_path, source=source)


def _read(folder: Path) -> tuple[dict[str, Any], Path | None]:
    own = folder / CONFIG_FILE
    if own.is_file():
        return _toml(own), own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        table = _toml(pyproject).get("tool", {}).get("mediagen")
        if isinstance(table, dict):
            return dict(table), pyproject
    return {}, None


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML file ({exc})") from None
