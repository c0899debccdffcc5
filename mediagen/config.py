"""Project settings from `mediagen.toml`, or `[tool.mediagen]` in `pyproject.toml`, in the current folder.

Every setting is checked before anything runs; all problems are reported together as
`Config value 'x': …`. Paths in the file are relative to the file's folder.

    cache = ".mediagen-cache"          # where finished work is kept (MEDIAGEN_CACHE overrides)

    [loudness]
    lufs = -16                         # integrated loudness of episode.mp3
    video_lufs = -14                   # of episode.mp4's audio (default: same as lufs)
    true_peak = -1                     # dBTP, at most

    [music]                            # all optional; without it nothing changes
    intro = "music/jingle.wav"         # played before the narration
    outro = "music/jingle.wav"         # played after it
    bed = "music/bed.wav"              # looped under the narration, ducked while someone speaks
    bed_db = -20                       # the bed's level in the pauses (dB, relative to full scale)
    duck_db = 15                       # how much quieter the bed is under speech

    [podcast]                          # the feed's channel, and album/artist tags
    title = "Field Notes"
    base_url = "https://example.org/podcast/"
    author = "Mika Tanabe"
    description = "Notes on tools that work offline."
    image = "cover.png"                # URL, or a path under base_url
    category = "Technology"
    language = "en"
    email = "editor@example.org"
    explicit = false

    [qa]                               # the speech check (faster-whisper) of every voiced sentence
    enabled = true                     # `--no-qa` turns it off for one build
    max_wer = 0.15                     # English: a sentence heard with more word errors is re-voiced once,
    max_cer = 0.15                     #   then flagged; Japanese: kana character error rate

    [lexicon]                          # respellings for the voice (see mediagen/lexicon.py)
    file = "lexicon.yaml"              # in addition to lexicon.yaml beside the issue
    starter = true                     # the bundled starter lexicon
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediagen.errors import InputError

CONFIG_FILE = "mediagen.toml"


@dataclass(frozen=True)
class Loudness:
    lufs: float = -16.0
    video_lufs: float | None = None
    true_peak: float = -1.0


@dataclass(frozen=True)
class Music:
    intro: Path | None = None
    outro: Path | None = None
    bed: Path | None = None
    bed_db: float = -20.0
    duck_db: float = 15.0

    @property
    def configured(self) -> bool:
        return any((self.intro, self.outro, self.bed))


@dataclass(frozen=True)
class Podcast:
    title: str | None = None
    base_url: str | None = None
    author: str | None = None
    description: str | None = None
    image: str | None = None
    category: str | None = None
    language: str | None = None
    email: str | None = None
    explicit: bool = False


@dataclass(frozen=True)
class QA:
    enabled: bool = True
    max_wer: float = 0.15
    max_cer: float = 0.15

    def max_error(self, lang: str) -> float:
        return self.max_cer if lang == "ja" else self.max_wer


@dataclass(frozen=True)
class LexiconFiles:
    file: Path | None = None
    starter: bool = True


@dataclass(frozen=True)
class Config:
    cache: Path | None = None
    loudness: Loudness = field(default_factory=Loudness)
    music: Music = field(default_factory=Music)
    podcast: Podcast = field(default_factory=Podcast)
    qa: QA = field(default_factory=QA)
    lexicon: LexiconFiles = field(default_factory=LexiconFiles)
    source: Path | None = None


_TYPES = {float: (int, float), str: (str,), bool: (bool,)}


def load_config(folder: Path | None = None) -> Config:
    """The settings of `folder` (default: the current folder); `MEDIAGEN_CACHE` overrides `cache`."""
    folder = folder or Path.cwd()
    raw, source = _read(folder)
    base = source.parent if source else folder
    problems: list[str] = []
    cache = _take(raw, "cache", str, problems)
    loudness = Loudness(
        **_table(raw, "loudness", {"lufs": float, "video_lufs": float, "true_peak": float}, problems)
    )
    music_values = _table(
        raw, "music", {"intro": str, "outro": str, "bed": str, "bed_db": float, "duck_db": float}, problems
    )
    for key in ("intro", "outro", "bed"):
        if key in music_values:
            music_values[key] = _existing_file(base / music_values[key], f"music.{key}", problems)
    podcast = Podcast(
        **_table(
            raw, "podcast", {name: str for name in Podcast.__annotations__} | {"explicit": bool}, problems
        )
    )
    qa = QA(**_table(raw, "qa", {"enabled": bool, "max_wer": float, "max_cer": float}, problems))
    for key in ("max_wer", "max_cer"):
        if not 0 <= getattr(qa, key) <= 1:
            problems.append(f"Config value 'qa.{key}': expected a rate between 0 and 1")
    lexicon_values = _table(raw, "lexicon", {"file": str, "starter": bool}, problems)
    if "file" in lexicon_values:
        lexicon_values["file"] = _existing_file(base / lexicon_values["file"], "lexicon.file", problems)
    problems += [f"Config value '{key}': unknown setting" for key in raw]
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))
    if os.environ.get("MEDIAGEN_CACHE"):
        cache = os.environ["MEDIAGEN_CACHE"]
    return Config(
        cache=(base / cache).resolve() if cache else None,
        loudness=loudness,
        music=Music(**music_values),
        podcast=podcast,
        qa=qa,
        lexicon=LexiconFiles(**lexicon_values),
        source=source,
    )


def _table(raw: dict[str, Any], name: str, fields: dict[str, type], problems: list[str]) -> dict[str, Any]:
    table = raw.pop(name, {})
    if not isinstance(table, dict):
        problems.append(f"Config value '{name}': expected a table")
        return {}
    values = {
        key: _take(table, key, kind, problems, prefix=f"{name}.")
        for key, kind in fields.items()
        if key in table
    }
    problems += [f"Config value '{name}.{key}': unknown setting" for key in table]
    return values


def _take(table: dict[str, Any], key: str, kind: type, problems: list[str], prefix: str = "") -> Any:
    value = table.pop(key, None)
    if value is not None and (
        not isinstance(value, _TYPES[kind]) or (kind is float and isinstance(value, bool))
    ):
        problems.append(f"Config value '{prefix}{key}': expected {kind.__name__}, not {type(value).__name__}")
        return None
    return float(value) if kind is float and value is not None else value


def _existing_file(path: Path, name: str, problems: list[str]) -> Path | None:
    if not path.is_file():
        problems.append(f"Config value '{name}': no such file {path}")
        return None
    return path.resolve()


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
