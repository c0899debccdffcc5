"""Wires the stages (parse, script, slides, voice, align, assemble); stages never import each other."""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediagen import __version__
from mediagen.document import Document
from mediagen.engines.base import LLMEngine, TTSEngine
from mediagen.engines.registry import get_engine
from mediagen.episode import Episode, dump_episode, load_episode, set_source
from mediagen.errors import InputError
from mediagen.files import atomic_write_bytes, atomic_write_text
from mediagen.progress import Progress, SilentProgress
from mediagen.stages import align, assemble, parse, script, slides, voice
from mediagen.templating import Templates, search_path
from mediagen.text import detect_language

SUPPORTED_LANGS = ("en", "ja")
OUTPUT_NAMES = (
    "episode.mp3",
    "episode.mp4",
    "episode.srt",
    "episode.vtt",
    "slides.pdf",
    "episode.yaml",
    "report.json",
)


@dataclass
class BuildOptions:
    out: Path | None = None
    lang: str = "auto"
    mode: str = "summary"
    llm: str = "bundled"
    aspect: str = "16:9"
    templates: Path | None = None


@dataclass
class Engines:
    """Where engines come from; tests hand in fakes, the CLI uses the registry."""

    llm: Callable[[str], LLMEngine] = field(default=lambda model: get_engine("llm", "llama", model=model))
    tts: Callable[[str], TTSEngine] = field(default=lambda lang: get_engine("tts", voice.DEFAULT_TTS[lang]))


@dataclass
class BuildResult:
    out_dir: Path
    report: dict[str, Any]


class _Run:
    """Book-keeping for one run: stage timings and warnings, for report.json."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stages: dict[str, float] = {}
        self.warnings: list[str] = []
        self.script: dict[str, Any] = {}
        self.started = time.perf_counter()

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        started = time.perf_counter()
        with self.progress.stage(name, total):
            yield
        self.stages[name] = round(self.stages.get(name, 0.0) + time.perf_counter() - started, 3)


def default_out_dir(issue: Path) -> Path:
    stem = issue.parent.name if issue.stem.lower() in ("index", "_index", "readme") else issue.stem
    return Path("out") / (re.sub(r"[^\w.-]+", "-", stem).strip(".-") or "issue")


def build(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> BuildResult:
    """Markdown issue -> every output, in `options.out` (default `out/<issue name>/`)."""
    run = _Run(progress or SilentProgress())
    engines = engines or Engines()
    episode, doc, episode_path = _script(issue, options, run, engines)
    return _produce(
        episode,
        doc.folder,
        episode_path.parent,
        options,
        run,
        engines,
        episode_path=episode_path,
        source_name=str(issue),
    )


def write_script_only(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> Path:
    """Markdown issue -> episode.yaml only (slides already fitted to their pages), for review."""
    run = _Run(progress or SilentProgress())
    episode, doc, episode_path = _script(issue, options, run, engines or Engines())
    templates = Templates(search_path(options.templates), autoescape=True)
    with run.stage("slides"), tempfile.TemporaryDirectory(prefix="mediagen-") as work:
        deck = _render_deck(episode, doc.folder, templates, options, Path(work).resolve())
    dump_episode(_with_slides(episode, deck), episode_path)
    return episode_path


def render(
    episode_path: Path,
    options: BuildOptions,
    progress: Progress | None = None,
    engines: Engines | None = None,
) -> BuildResult:
    """A (possibly edited) episode.yaml -> the media. Writes to `options.out`, default the yaml's folder."""
    run = _Run(progress or SilentProgress())
    episode = load_episode(episode_path)
    out_dir = options.out or episode_path.parent
    folder = episode.issue_folder(episode_path)
    if folder is None or not folder.is_dir():
        run.warnings.append("episode.yaml names no readable source issue; slide images are left out")
    same_place = out_dir.resolve() == episode_path.parent.resolve()
    target = None if same_place else out_dir / "episode.yaml"
    if target is not None and episode.source:
        episode = set_source(episode, (episode_path.parent / episode.source), target)
    return _produce(
        episode,
        folder,
        out_dir,
        options,
        run,
        engines or Engines(),
        episode_path=target,
        source_name=str(episode_path),
    )


def _script(
    issue: Path, options: BuildOptions, run: _Run, engines: Engines
) -> tuple[Episode, Document, Path]:
    """parse + script; returns the episode (its source recorded), the document and where episode.yaml goes."""
    with run.stage("parse"):
        doc = parse.parse_issue(issue)
        run.warnings += doc.warnings
    lang = resolve_language(options.lang, doc)
    with run.stage("script", total=len(doc.sections)):
        llm = engines.llm(options.llm) if options.mode == "summary" else None
        prompts = Templates(search_path(options.templates), autoescape=False)
        episode, report = script.write_script(doc, lang, options.mode, llm, prompts, run.progress.advance)
        run.warnings += [f"script: section '{s}' used the extractive fallback" for s in report.fallbacks]
        run.script = {
            "llm": llm.model_id if llm else None,
            "llm_calls": report.llm_calls,
            "fallbacks": report.fallbacks,
            "rejected": report.rejected,
        }
    episode_path = (options.out or default_out_dir(issue)) / "episode.yaml"
    return set_source(episode, issue, episode_path), doc, episode_path


def resolve_language(requested: str, doc: Document) -> str:
    if requested != "auto":
        return requested
    if doc.lang:
        code = doc.lang.strip().lower().replace("_", "-").split("-")[0]
        if code not in SUPPORTED_LANGS:
            raise InputError(f"{doc.path.name}: language '{doc.lang}' is not supported (en or ja)")
        return code
    sample = (
        " ".join(getattr(block, "text", "") for section in doc.sections for block in section.blocks)
        or doc.title
    )
    return detect_language(sample)


def _render_deck(
    episode: Episode, folder: Path | None, templates: Templates, options: BuildOptions, work: Path
) -> slides.Deck:
    deck_slides = [slide for section in episode.sections for slide in section.slides]
    return slides.render_deck(
        deck_slides,
        templates=templates,
        issue_folder=folder,
        lang=episode.lang,
        title=episode.title,
        aspect=options.aspect,
        work=work,
    )


def _with_slides(episode: Episode, deck: slides.Deck) -> Episode:
    """The episode with each section's slides replaced by what the deck shows for them."""
    sections, first = [], 0
    for section in episode.sections:
        own = range(first, first + len(section.slides))
        shown = [slide for slide, origin in zip(deck.slides, deck.origins, strict=True) if origin in own]
        sections.append(section.model_copy(update={"slides": shown}))
        first += len(section.slides)
    return episode.model_copy(update={"sections": sections})


def _produce(
    episode: Episode,
    folder: Path | None,
    out_dir: Path,
    options: BuildOptions,
    run: _Run,
    engines: Engines,
    *,
    episode_path: Path | None,
    source_name: str,
) -> BuildResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    templates = Templates(search_path(options.templates), autoescape=True)
    size = slides.ASPECTS[options.aspect]
    with tempfile.TemporaryDirectory(prefix=".mediagen-work-", dir=out_dir) as work_name:
        work = Path(work_name).resolve()
        with run.stage("slides"):
            deck = _render_deck(episode, folder, templates, options, work)
            run.warnings += deck.warnings
            fitted = _with_slides(episode, deck)
            if fitted != episode and episode_path is None:
                run.warnings.append(
                    "slides: some slides were split to fit their pages (episode.yaml left as is)"
                )
            episode = fitted
            if episode_path is not None:
                dump_episode(episode, episode_path)
            frames = slides.rasterize(deck.pdf, work / "frames", size)
        with run.stage("voice", total=sum(len(s.narration) for s in episode.sections)):
            tts = engines.tts(episode.lang)
            voiceover = voice.voice_episode(episode, tts, on_sentence=run.progress.advance)
        with run.stage("align"):
            spans = align.schedule_slides(episode, voiceover)
            cues = align.caption_cues(voiceover, episode.lang)
        with run.stage("assemble"):
            wav = work / "narration.wav"
            assemble.write_wav(voiceover, wav)
            tags = {"title": episode.title, "artist": _artist(episode), "language": episode.lang}
            assemble.encode_mp3(wav, out_dir / "episode.mp3", tags)
            assemble.encode_mp4(frames, spans, wav, out_dir / "episode.mp4", work, tags)
            assemble.write_captions(cues, out_dir)
            atomic_write_bytes(out_dir / "slides.pdf", deck.pdf)
    report = _report(episode, voiceover, spans, run, options, tts, source_name)
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return BuildResult(out_dir=out_dir, report=report)


def _artist(episode: Episode) -> str:
    value = parse.meta_value(episode.meta, "author", "authors")
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")


def _report(
    episode: Episode,
    voiceover: voice.Voiceover,
    spans: list[align.SlideSpan],
    run: _Run,
    options: BuildOptions,
    tts: TTSEngine,
    source_name: str,
) -> dict[str, Any]:
    flags = {s.id: s.flags for s in episode.sections}
    return {
        "mediagen": __version__,
        "source": source_name,
        "title": episode.title,
        "lang": episode.lang,
        "mode": options.mode,
        "aspect": options.aspect,
        "duration_s": round(voiceover.duration, 3),
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "start_s": round(s.start, 3),
                "end_s": round(s.end, 3),
                "flags": flags.get(s.id, []),
            }
            for s in voiceover.sections
        ],
        "slides": [
            {"page": span.index + 1, "start_s": round(span.start, 3), "end_s": round(span.end, 3)}
            for span in spans
        ],
        "sentences": [
            {
                "section": s.section_id,
                "text": s.text,
                "spoken": s.spoken,
                "start_s": round(s.start, 3),
                "end_s": round(s.end, 3),
            }
            for s in voiceover.sentences
        ],
        "engines": {"tts": tts.model_id, "llm": run.script.get("llm")},
        "script": run.script,
        "stages": run.stages,
        "build_s": round(time.perf_counter() - run.started, 3),
        "warnings": run.warnings,
    }
