"""What one build is given and keeps: its options, where its engines come from, and the book-keeping of
its run (stage timings, warnings, the store) for the report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediagen.cache import Cache, default_cache_dir
from mediagen.config import Config, load_config
from mediagen.engines.registry import Choice, choose
from mediagen.errors import MediagenError
from mediagen.files import issue_stem, safe_name
from mediagen.limits import Limits
from mediagen.media import chapters as chapter_writers
from mediagen.models import user_cache_dir
from mediagen.progress import Progress
from mediagen.report import Report
from mediagen.stages import qa
from mediagen.store import Store

SUPPORTED_LANGS = ("en", "ja")
MEDIA_NAMES = ("episode.mp3", "episode.mp4")
PUBLISH_NAMES = ("chapters.json", "youtube.txt", "show-notes.md", "show-notes.html", "thumbnail.png")
OUTPUT_NAMES = (
    *MEDIA_NAMES,
    "episode.srt",
    "episode.vtt",
    "slides.pdf",
    "episode.yaml",
    "report.json",
    *PUBLISH_NAMES,
)
CHAPTER_WRITERS = chapter_writers.WRITERS


@dataclass
class BuildOptions:
    out: Path | None = None
    lang: str = "auto"
    mode: str | None = None  # summary, verbatim or dialogue; None: as [show] mode says, else summary
    llm: str | None = None  # none, bundled, a GGUF file or a server's URL; None: as [llm] says, else none
    llm_model: str | None = None  # the server's model
    minutes: float | None = None  # a length to keep (None: as [show] says, else a summary's own)
    show: bool = True  # the opening, transitions and sign-off
    aspect: str = "16:9"
    voice: str | None = None
    templates: Path | None = None
    theme: str | None = None  # a folder slides/NAME/ of the templates; None: as [slides] theme says
    cache: Path | None = None
    rescript: tuple[str, ...] = ()
    force: bool = False
    qa: bool = True  # the speech check; also off when the config says `[qa] enabled = false`
    burn_captions: bool = False  # captions drawn onto the video as well
    # --max-input-mb and --max-sections; None: as [limits] in mediagen.toml says (see mediagen.limits)
    max_input_mb: float | None = None
    max_sections: int | None = None

    def limits(self, config: Config) -> Limits:
        """The config's limits with the command line's own on top."""
        given = {"input_mb": self.max_input_mb, "sections": self.max_sections}
        return config.limits.model_copy(update={k: v for k, v in given.items() if v is not None})


@dataclass
class Engines:
    """How a build makes the engines it chose (see registry.Choice) and tells who they are, for cache
    keys, without loading them: by default each choice loads itself. Tests hand in fakes or counting
    wrappers."""

    load: Callable[[Choice], Any] = Choice.load
    identify: Callable[[Choice], str] = Choice.identity
    speech_check: bool = True  # False: no recognizer for this build (a fake voice's tone cannot be heard)


def recognizer(lang: str) -> Choice:
    """The speech check's recognizer for a language."""
    return choose("asr", "whisper", lang=lang)


def second_recognizer(lang: str) -> Choice | None:
    """The recognizer asked about sentences the first heard imperfectly (see qa.SECOND_OPINION)."""
    model = qa.SECOND_OPINION.get(lang)
    return choose("asr", "whisper", lang=lang, model=model) if model else None


def speech_check_off(options: BuildOptions, config: Config, engines: Engines) -> str | None:
    """Why a build does no speech check (None: it does one)."""
    if not (options.qa and config.qa.enabled):
        return "the speech check is off (--no-qa or [qa] enabled = false)"
    if not engines.speech_check:
        return "no speech recognizer for this build"
    return None


@dataclass
class BuildResult:
    out_dir: Path
    report: Report


class Run:
    """Book-keeping for one run: stage timings, warnings, the cache and the work done, for the report."""

    def __init__(self, progress: Progress, cache: Cache, config: Config, limits: Limits) -> None:
        self.progress = progress
        self.store = Store(cache)  # with the ledger of this build's work and its reuse/redo counts
        self.config = config
        self.limits = limits
        self.mode = "summary"  # as settled by open_issue
        self.stages: dict[str, float] = {}
        self.warnings: list[str] = []
        self.script: dict[str, Any] = {}
        self.qa: dict[str, Any] = {}
        self.started = time.perf_counter()

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        started = time.perf_counter()
        with self.progress.stage(name, total), failing_stage(name):
            yield
        self.stages[name] = round(self.stages.get(name, 0.0) + time.perf_counter() - started, 3)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


@contextmanager
def failing_stage(name: str) -> Iterator[None]:
    """Name the stage on an error raised inside it that does not name one yet."""
    try:
        yield
    except MediagenError as exc:
        if exc.stage is None:
            exc.stage = name
        raise


def default_out_dir(issue: Path) -> Path:
    return Path("out") / safe_name(issue_stem(issue))


def open_cache(option: Path | None, issue_folder: Path, config: Config | None = None) -> Cache:
    """`--cache`, else MEDIAGEN_CACHE or the config's `cache`, else `.mediagen/cache/` beside the issue
    (or in the user's cache folder when the issue's folder is read-only)."""
    chosen = option or (config or load_config()).cache
    if chosen is None:
        beside = default_cache_dir(issue_folder)
        writable = os.access(beside if beside.exists() else issue_folder, os.W_OK)
        chosen = beside if writable else user_cache_dir() / "cache"
    return Cache(chosen.resolve())
