"""Project settings from `mediagen.toml`, or `[tool.mediagen]` in `pyproject.toml`, in the current folder.

Every setting is checked before anything runs, its type first and then its range; all problems
are reported together as `Config value 'x': …`. Paths in the file are relative to the file's folder.

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

    [limits]                           # what a build accepts (see mediagen/limits.py)
    input_mb = 2                       # e.g. the size of an issue file

    [llm]                              # a model of your own for summary mode (or `--llm URL`)
    url = "http://127.0.0.1:11434/v1"  # any OpenAI-compatible server: Ollama, llama-server, LM Studio, vLLM
    model = "qwen2.5:7b-instruct"
    api_key_env = "MY_SERVER_KEY"      # only if the server wants a key: the variable that holds it
    timeout = 300                      # seconds for one reply

    [slides]                           # the deck's look (see templates/slides/)
    theme = "midnight"                 # default, midnight or studio; `--theme` for one build
    accent = "#1f7a3a"                 # the theme's accent colour
    logo = "logo.png"                  # in the issue's folder: on every slide, top right
    font = "brand.otf"                 # in the issue's folder: the slides' text (.ttf .otf .woff .woff2)

    [show]                             # the show around the content
    enabled = true                     # opening, transitions, sign-off (`--no-show` for one build)
    mode = "dialogue"                  # the default --mode: summary, verbatim or dialogue
    name = "Field Notes"               # default: [podcast] title, else the issue's newsletter
    host = "Mika"                      # the host of a summary or verbatim episode
    minutes = 10                       # a length to keep (`--minutes`)

    [[show.hosts]]                     # a dialogue's two hosts: a name and a voice per language
    name = "Mika"
    en = "jf_alpha"
    ja = "jf_alpha"
    [[show.hosts]]
    name = "Ken"
    en = "joe"
    ja = "jm_kumo"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from mediagen.confine import is_inside
from mediagen.errors import InputError
from mediagen.limits import Limits, load_toml, read_config_text

CONFIG_FILE = "mediagen.toml"


class _Table(BaseModel):
    """One table of the file: unknown keys and values of the wrong type are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _file_in_config_folder(value: Any, info: ValidationInfo) -> Path | None:
    """A path relative to the config file's folder, which must name an existing file inside it."""
    if value is None or isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected text, not {type(value).__name__}")
    base = (info.context or {}).get("base", Path.cwd())
    path = base / value
    if not is_inside(path, [base]):
        raise ValueError(f"{value} is outside the folder of the settings file")
    if not path.is_file():
        raise ValueError(f"no such file {path}")
    return path.resolve()


class Loudness(_Table):
    lufs: float = Field(-16.0, ge=-40, le=-5)
    video_lufs: float | None = Field(None, ge=-40, le=-5)
    true_peak: float = Field(-1.0, ge=-20, le=0)


class Music(_Table):
    intro: Path | None = None
    outro: Path | None = None
    bed: Path | None = None
    bed_db: float = Field(-20.0, ge=-60, le=0)
    duck_db: float = Field(15.0, ge=0, le=60)

    _files = field_validator("intro", "outro", "bed", mode="plain")(_file_in_config_folder)

    @property
    def configured(self) -> bool:
        return any((self.intro, self.outro, self.bed))


class Podcast(_Table):
    title: str | None = None
    base_url: str | None = None
    author: str | None = None
    description: str | None = None
    image: str | None = None
    category: str | None = None
    language: str | None = None
    email: str | None = None
    explicit: bool = False


class QA(_Table):
    enabled: bool = True
    max_wer: float = Field(0.15, ge=0, le=1)
    max_cer: float = Field(0.15, ge=0, le=1)

    def max_error(self, lang: str) -> float:
        return self.max_cer if lang == "ja" else self.max_wer


class LexiconFiles(_Table):
    file: Path | None = None
    starter: bool = True

    _file = field_validator("file", mode="plain")(_file_in_config_folder)


class LLMSettings(_Table):
    url: str | None = None  # an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 (Ollama)
    model: str | None = None
    api_key_env: str | None = None  # the variable holding the server's key, if it wants one
    timeout: float = Field(300.0, gt=0, le=3600)


class HostSettings(_Table):
    """One host of a dialogue: a name, and the voice for each language (see mediagen.voices)."""

    name: str = Field(min_length=1, max_length=40)
    en: str | None = None
    ja: str | None = None


class ShowSettings(_Table):
    enabled: bool = True  # the opening, transitions and sign-off (`--no-show` for one build)
    mode: Literal["summary", "verbatim", "dialogue"] | None = None  # the default --mode
    name: str | None = None  # default: [podcast] title, else the newsletter
    host: str | None = None
    hosts: list[HostSettings] = Field(default_factory=list, max_length=2)  # a dialogue's two hosts
    minutes: float | None = Field(None, gt=0, le=600)  # a length to keep (`--minutes`)


class SlidesSettings(_Table):
    speaker_tag: bool = True  # in a dialogue, a name tag of who speaks on the slide
    # The theme (a folder slides/NAME/ of the template path; `--theme` for one build) and the author's
    # touches on top of it: an accent colour, a logo and a font (files in the folder).
    theme: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    accent: str | None = Field(None, pattern=r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
    logo: str | None = Field(None, min_length=1, max_length=300)
    font: str | None = Field(None, min_length=1, max_length=300)


class Config(_Table):
    cache: Path | None = None
    loudness: Loudness = Field(default_factory=Loudness)
    music: Music = Field(default_factory=Music)
    podcast: Podcast = Field(default_factory=Podcast)
    qa: QA = Field(default_factory=QA)
    lexicon: LexiconFiles = Field(default_factory=LexiconFiles)
    limits: Limits = Field(default_factory=Limits)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    show: ShowSettings = Field(default_factory=ShowSettings)
    slides: SlidesSettings = Field(default_factory=SlidesSettings)
    source: Path | None = Field(None, exclude=True)

    @field_validator("cache", mode="plain")
    @classmethod
    def _cache_folder(cls, value: Any, info: ValidationInfo) -> Path | None:
        if value is None or isinstance(value, Path):
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected text, not {type(value).__name__}")
        return ((info.context or {}).get("base", Path.cwd()) / value).resolve()


def load_config(folder: Path | None = None) -> Config:
    """The settings of `folder` (default: the current folder); `MEDIAGEN_CACHE` overrides `cache`."""
    folder = folder or Path.cwd()
    raw, source = _read(folder)
    base = source.parent if source else folder
    raw.pop("source", None)
    try:
        config = Config.model_validate(raw, context={"base": base})
    except ValidationError as exc:
        raise InputError(f"{source}: " + "; ".join(_problem(e) for e in exc.errors())) from None
    update: dict[str, Any] = {"source": source}
    if os.environ.get("MEDIAGEN_CACHE"):
        update["cache"] = Path(os.environ["MEDIAGEN_CACHE"]).resolve()
    return config.model_copy(update=update)


_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "model_type": "a table",
    "dict_type": "a table",
    "path_type": "text",
}


def _problem(error: dict[str, Any]) -> str:
    """`Config value 'qa.max_wer': expected a number, not str` and the like."""
    where = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown setting"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, not {type(error['input']).__name__}"
    else:
        message = error["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    return f"Config value '{where}': {message}"


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
    return load_toml(read_config_text(path), str(path))
