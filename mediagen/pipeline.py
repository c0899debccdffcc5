"""Wires the stages (parse, script, slides, voice, align, assemble) through the cache.

Stages never import each other; `mediagen.incremental` runs each of them piece by piece through the
cache, and this module decides what the episode is (generated, or the author's edited episode.yaml),
where things go, and what the report and the manifest say.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mediagen import __version__, incremental, pages
from mediagen.cache import Cache, default_cache_dir, load_manifest, write_manifest
from mediagen.config import Config, load_config
from mediagen.document import Document
from mediagen.engines.base import ASREngine, LLMEngine, TTSEngine
from mediagen.engines.registry import engine_identity, get_engine
from mediagen.episode import (
    Episode,
    EpisodeSection,
    check_limits,
    dump_episode,
    load_episode,
    set_source,
)
from mediagen.errors import InputError, MediagenError
from mediagen.files import atomic_write_bytes, atomic_write_text, issue_stem, safe_name, sha256_file
from mediagen.front_matter import checked
from mediagen.lexicon import lexicon_for
from mediagen.limits import Limits
from mediagen.media import burn
from mediagen.media import chapters as chapter_writers
from mediagen.media.ffmpeg import decode_audio
from mediagen.media.samples import resample
from mediagen.models import user_cache_dir
from mediagen.progress import Progress, SilentProgress
from mediagen.recognition import Heard
from mediagen.stages import align, assemble, music, parse, publish, qa, script, slides, voice
from mediagen.store import Store, Work, digest
from mediagen.templating import Templates, search_path
from mediagen.text import detect_language
from mediagen.timeline import SlideSpan, SpokenWord, Voiceover
from mediagen.voices import Casting, Voice, catalog
from mediagen.writer import WRITTEN_MODES, LLMSpec, Writer, speakers, writing_plan

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
    """Where engines come from, and who they are (for cache keys) without loading them.

    Tests hand in fakes or counting wrappers; the CLI uses the registry.
    """

    llm: Callable[[LLMSpec], LLMEngine] = field(default=lambda spec: get_engine("llm", spec[0], **spec[1]))
    llm_id: Callable[[LLMSpec], str] = field(default=lambda spec: engine_identity("llm", spec[0], **spec[1]))
    # A voice (see mediagen.voices) and its engine's identity (for cache keys, without loading it).
    tts: Callable[[Voice], TTSEngine] = field(default=lambda v: get_engine("tts", v.engine, **v.kwargs()))
    tts_id: Callable[[Voice], str] = field(default=lambda v: engine_identity("tts", v.engine, **v.kwargs()))
    # The speech check's recognizer per language (None: no check, as with a fake voice).
    asr: Callable[[str], ASREngine] | None = field(
        default=lambda lang: get_engine("asr", "whisper", lang=lang)
    )
    asr_id: Callable[[str], str] = field(default=lambda lang: engine_identity("asr", "whisper", lang=lang))
    # A second recognizer, asked only about sentences the first heard imperfectly (see qa.SECOND_OPINION).
    second_asr: Callable[[str], ASREngine] = field(
        default=lambda lang: get_engine("asr", "whisper", lang=lang, model=qa.SECOND_OPINION[lang])
    )
    second_asr_id: Callable[[str], str | None] = field(default=lambda lang: _second_opinion_id(lang))


def _second_opinion_id(lang: str) -> str | None:
    model = qa.SECOND_OPINION.get(lang)
    return engine_identity("asr", "whisper", lang=lang, model=model) if model else None


@dataclass
class BuildResult:
    out_dir: Path
    report: dict[str, Any]


class _Run:
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


# --- the three entry points ------------------------------------------------------------------------


def build(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> BuildResult:
    """Markdown issue -> every output, in `options.out` (default `out/<issue name>/`)."""
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, progress)
    out_dir = options.out or default_out_dir(issue)
    episode, write_yaml, edited = _episode_for(doc, lang, options, run, engines, out_dir)
    return _produce(
        episode,
        doc.folder,
        out_dir,
        options,
        run,
        engines,
        write_yaml=write_yaml,
        edited=edited,
        source_name=str(issue),
    )


@dataclass
class ScriptResult:
    path: Path  # episode.yaml
    written: bool  # False: the author's edited one was kept
    script: dict[str, Any]  # what the script stage decided (report.json's `script`)
    stages: dict[str, float]


def write_script_only(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> ScriptResult:
    """Markdown issue -> episode.yaml only (slides already fitted to their pages), for review; written
    unless the author edited it (see `build`)."""
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, progress)
    out_dir = options.out or default_out_dir(issue)
    episode, write_yaml, edited = _episode_for(doc, lang, options, run, engines, out_dir)
    templates = Templates(search_path(options.templates), limits=run.limits)
    with run.stage("slides"):
        deck = _render_slides(episode, doc.folder, templates, options, run)
    if write_yaml:
        _write_episode(_with_slides(episode, deck.shown), out_dir, edited)
    return ScriptResult(out_dir / "episode.yaml", write_yaml, run.script, run.stages)


def render(
    episode_path: Path,
    options: BuildOptions,
    progress: Progress | None = None,
    engines: Engines | None = None,
) -> BuildResult:
    """A (possibly edited) episode.yaml -> the media. Writes to `options.out`, default the yaml's folder."""
    engines = engines or Engines()
    config = load_config()
    limits = options.limits(config)
    episode = load_episode(episode_path, limits, lambda lang: list(catalog(lang, options.voice)))
    folder = episode.issue_folder(episode_path)
    cache = open_cache(options.cache, folder or episode_path.parent, config)
    run = _Run(progress or SilentProgress(), cache, config, limits)
    if folder is None or not folder.is_dir():
        run.warn("episode.yaml names no readable source issue; slide images are left out")
    warnings: list[str] = []
    episode = episode.model_copy(update={"meta": checked(episode.meta, episode_path.name, warnings, limits)})
    for warning in warnings:
        run.warn(warning)
    out_dir = options.out or episode_path.parent
    in_place = out_dir.resolve() == episode_path.parent.resolve()
    if not in_place and episode.source:
        episode = set_source(episode, episode_path.parent / episode.source, out_dir / "episode.yaml")
    return _produce(
        episode,
        folder,
        out_dir,
        options,
        run,
        engines,
        write_yaml=not in_place,
        edited=True,
        source_name=str(episode_path),
    )


# --- parse and script -------------------------------------------------------------------------------


def open_issue(issue: Path, options: BuildOptions, progress: Progress | None) -> tuple[Document, str, _Run]:
    """Parse the issue, settle its language and open its cache: what every command starts from."""
    started = time.perf_counter()
    config = load_config()
    limits = options.limits(config)
    with failing_stage("parse"):
        doc = parse.parse_issue(issue, limits)
        limits.check(issue.name, "sections", len(doc.sections), "sections")
    run = _Run(progress or SilentProgress(), open_cache(options.cache, doc.folder, config), config, limits)
    run.stages["parse"] = round(time.perf_counter() - started, 3)
    for warning in doc.warnings:
        run.warn(warning)
    lang = resolve_language(options.lang, doc)
    run.mode = options.mode or config.show.mode or "summary"
    minutes = expected_minutes(doc, lang, run.mode)
    if minutes > LONG_EPISODE_MINUTES:
        message = (
            f"{issue.name} is long: about {minutes:.0f} minutes of audio expected, which takes about "
            f"{minutes * BUILD_MINUTES_PER_AUDIO_MINUTE[lang]:.0f} minutes to build on a small machine"
        )
        run.warn(message)
        run.progress.note(message)
    return doc, lang, run


LONG_EPISODE_MINUTES = 30
# Measured cold builds, summary mode (README): about 0.7 (English) and 1.1 (Japanese) × the audio.
BUILD_MINUTES_PER_AUDIO_MINUTE = {"en": 0.8, "ja": 1.2}


def expected_minutes(doc: Document, lang: str, mode: str) -> float:
    """A rough length of the episode before anything is voiced: all the prose in verbatim mode (150
    words or 400 characters a minute), a short summary per section otherwise."""
    if mode in WRITTEN_MODES:
        return (len(doc.sections) * 25 + 10) / 60
    text = " ".join(getattr(b, "text", "") for s in doc.sections for b in s.blocks)
    return len(text) / 400 if lang == "ja" else len(text.split()) / 150


def resolve_language(requested: str, doc: Document) -> str:
    if requested != "auto":
        return requested
    if doc.lang:
        code = doc.lang.strip().lower().replace("_", "-").split("-")[0]
        if code not in SUPPORTED_LANGS:
            raise InputError(f"{doc.path.name}: language '{doc.lang}' is not supported (en or ja)")
        return code
    sample = " ".join(getattr(b, "text", "") for s in doc.sections for b in s.blocks) or doc.title
    return detect_language(sample)


def edited_episode(
    out_dir: Path, limits: Limits, voices: Callable[[str], Sequence[str]] | None = None
) -> Episode | None:
    """The out folder's episode.yaml if the author changed it since mediagen wrote it (validated; a bad
    edit stops the build with `episode.yaml:LINE: …` before anything is written)."""
    path = out_dir / "episode.yaml"
    if not path.is_file():
        return None
    record = (load_manifest(out_dir) or {}).get("episode", {})
    if record.get("sha256") == sha256_file(path) and not record.get("edited"):
        return None
    return load_episode(path, limits, voices)


def _episode_for(
    doc: Document, lang: str, options: BuildOptions, run: _Run, engines: Engines, out_dir: Path
) -> tuple[Episode, bool, bool]:
    """(episode, whether to write episode.yaml, whether it holds the author's edits)."""
    voices = lambda lang: list(catalog(lang, options.voice))  # noqa: E731
    kept = None if options.force else edited_episode(out_dir, run.limits, voices)
    units = script.script_units(doc)
    unknown = set(options.rescript) - {u.id for u in units}
    if unknown:
        known = ", ".join(u.id for u in units)
        raise InputError(f"--rescript {', '.join(sorted(unknown))}: no such section (sections: {known})")
    kept_ids = {s.id for s in kept.sections} if kept else set()
    todo = [u for u in units if u.id not in kept_ids or u.id in options.rescript]
    writer = make_writer(doc, lang, options, run, engines)
    generated = _script_units(writer, run, todo)
    made = {"mode": run.mode, "llm": run.script["llm"]} if generated else {}
    if kept is None:
        sections = writer.frame([generated[u.id] for u in units], set(range(len(units))))
        cast = speakers(writer.plan)
        episode = Episode(title=doc.title, lang=lang, meta=doc.meta, speakers=cast, sections=sections, **made)
        episode = set_source(episode, doc.path, out_dir / "episode.yaml")
        edited = False
    else:
        merged = _merge_edits(kept, generated, units, doc, run)
        fresh = {n for n, s in enumerate(merged.sections) if generated.get(s.id) is s}
        episode = merged.model_copy(update={"sections": writer.frame(merged.sections, fresh), **made})
        edited = True
    for warning in writer.show.warnings:
        run.warn(warning)
    check_limits(episode, run.limits, lambda _: doc.path.name)
    return episode, kept is None or bool(generated), edited


def _script_units(writer: Writer, run: _Run, units: list[script.ScriptUnit]) -> dict[str, EpisodeSection]:
    report = script.ScriptReport()
    sections: dict[str, EpisodeSection] = {}
    with run.stage("script", total=len(units)):
        for unit in units:
            section, unit_report = incremental.script_section(
                writer.work(unit), unit, writer.scripter, run.store
            )
            sections[unit.id] = section
            report.add(unit_report)
            run.progress.advance()
    for section_id in report.fallbacks:
        run.warn(f"script: section '{section_id}' used the extractive fallback")
    for warning in report.left_out:
        run.warn(warning)
    run.script = {
        "llm": writer.llm_id or None,
        "llm_calls": report.llm_calls,
        "written_by_llm": report.written,
        "fallbacks": report.fallbacks,
        "rejected": report.rejected,
        "guard": report.replaced,
    }
    if writer.length:
        run.script["length"] = {
            "target_s": writer.length.target_s,
            "content_s": round(writer.length.content_s, 1),
        }
    for case in report.replaced:
        instead = f"replaced by {case['replacement'][:50]!r}" if case["replacement"] else "dropped"
        run.warn(
            f"guard: section '{case['section']}': {case['kind']} {case['item'][:50]!r} {instead} "
            f"({case['reason']})"
        )
    return sections


def make_writer(doc: Document, lang: str, options: BuildOptions, run: _Run, engines: Engines) -> Writer:
    plan = writing_plan(
        run.mode, options.llm, options.llm_model, options.show, options.minutes, run.config, doc, lang
    )
    return Writer(doc, lang, plan, options.templates, run.limits, engines.llm, engines.llm_id)


def _merge_edits(
    kept: Episode,
    generated: dict[str, EpisodeSection],
    units: list[script.ScriptUnit],
    doc: Document,
    run: _Run,
) -> Episode:
    """The author's edited episode, with the sections asked for (--rescript) or new in the Markdown
    written afresh; everything else stays exactly as the author left it."""
    sections = [generated.get(s.id, s) for s in kept.sections]
    current = {u.id: u.section.source_hash if u.section else None for u in units}
    for section in kept.sections:
        if section.id not in current:
            run.warn(f"section '{section.id}' is not in the Markdown; kept from your episode.yaml")
        elif section.id not in generated and section.source_hash != current[section.id]:
            run.warn(
                f"section '{section.id}' changed in the Markdown; kept your edited episode.yaml "
                f"(mediagen build --rescript {section.id} regenerates it)"
            )
    ids = [s.id for s in sections]
    for position, unit in enumerate(units):
        if unit.id in ids:
            continue
        before = next((u.id for u in reversed(units[:position]) if u.id in ids), None)
        at = ids.index(before) + 1 if before else 0
        sections.insert(at, generated[unit.id])
        ids.insert(at, unit.id)
        run.warn(f"section '{unit.id}' is new in the Markdown; added to your edited episode.yaml")
    return kept.model_copy(update={"sections": sections, "title": kept.title or doc.title})


# --- slides, voice, align, assemble --------------------------------------------------------------------


def _render_slides(
    episode: Episode, folder: Path | None, templates: Templates, options: BuildOptions, run: _Run
) -> incremental.DeckParts:
    deck = incremental.render_slides(
        [
            (f"{section.id}/{n}", slide)
            for section in episode.sections
            for n, slide in enumerate(section.slides)
        ],
        title=episode.title,
        lang=episode.lang,
        aspect=options.aspect,
        folder=folder,
        templates=templates,
        store=run.store,
        font_text=_font_text(episode, templates, run),
    )
    for warning in deck.warnings:
        run.warn(warning)
    return deck


def _font_text(episode: Episode, templates: Templates, run: _Run) -> str:
    """Every character the deck and the thumbnail may draw: one font subset serves both, and stays the
    same while edits bring no new character."""
    deck = [slide for section in episode.sections for slide in section.slides]
    facts = publish.episode_facts(episode, newsletter=run.config.podcast.title)
    return slides.deck_text(deck, episode.title, templates) + publish.thumbnail_text(facts, templates)


def _with_slides(episode: Episode, shown: list[list[slides.Slide]]) -> Episode:
    """The episode with each slide replaced by what the deck shows for it (continuations included)."""
    sections, first = [], 0
    for section in episode.sections:
        count = len(section.slides)
        fitted = [slide for group in shown[first : first + count] for slide in group]
        sections.append(section.model_copy(update={"slides": fitted}))
        first += count
    return episode.model_copy(update={"sections": sections})


def _write_episode(episode: Episode, out_dir: Path, edited: bool) -> None:
    """Write episode.yaml and remember, at once, what was written: a later change is the author's."""
    path = out_dir / "episode.yaml"
    dump_episode(episode, path)
    manifest = load_manifest(out_dir) or {}
    manifest["episode"] = {"sha256": sha256_file(path), "edited": edited}
    write_manifest(out_dir, manifest)


def _produce(
    episode: Episode,
    folder: Path | None,
    out_dir: Path,
    options: BuildOptions,
    run: _Run,
    engines: Engines,
    *,
    write_yaml: bool,
    edited: bool,
    source_name: str,
) -> BuildResult:
    casting = cast(episode.lang, options, engines)  # a bad --voice stops the build here
    scripts = casting.scripts
    if not voice.lines_to_voice(episode, scripts=scripts):
        raise InputError(
            f"{source_name}: nothing to narrate (no words in its title or text the voice can say)"
        )
    lexicon = lexicon_for(folder, run.config.lexicon.file, run.config.lexicon.starter, run.limits)
    out_dir.mkdir(parents=True, exist_ok=True)
    templates = Templates(search_path(options.templates), limits=run.limits)
    with run.stage("slides"):
        deck = _render_slides(episode, folder, templates, options, run)
        fitted = _with_slides(episode, deck.shown)
        shown = sum(len(section.slides) for section in fitted.sections)
        run.limits.check(Path(source_name).name, "slides, with their continuations", shown, "slides")
        if fitted != episode and not write_yaml:
            run.warn("slides: some slides were split to fit their pages (episode.yaml left as is)")
        episode = fitted
        if write_yaml:
            _write_episode(episode, out_dir, edited)
    for gone in voice.left_out(episode, scripts):
        run.warn(
            f"voice: section '{gone.section_id}': left out of the audio, the voice cannot say "
            f"{'/'.join(gone.scripts).lower()} text: {gone.text[:60]!r}"
        )
    with run.stage("voice", total=sum(len(s.narration) for s in episode.sections)):
        lines = voice.lines_to_voice(episode, lexicon, scripts)
        clips, rate = incremental.voice_lines(lines, episode.lang, casting, run.store, run.progress.advance)
        rate = rate or assemble.OUTPUT_SAMPLE_RATE
    heard = None
    if not (options.qa and run.config.qa.enabled):
        run.qa = {"skipped": "the speech check is off (--no-qa or [qa] enabled = false)"}
    elif engines.asr is None:
        run.qa = {"skipped": "no speech recognizer for this build"}
    elif lines:
        with run.stage("qa", total=len(lines)):
            respell = functools.partial(voice.spoken_form, lang=episode.lang, lexicon=lexicon)
            clips, heard = _check_speech(lines, clips, rate, episode.lang, casting, engines, run, respell)
    with run.stage("align"):
        voiceover = voice.lay_out(episode, lines, clips, rate, heard)
        voiceover = music.add_music(voiceover, run.config.music, _decoder)
        spans = align.schedule_slides(episode, voiceover)
        cues = align.caption_cues(voiceover, episode.lang)
    with run.stage("publish"):
        release, facts = _publish(episode, voiceover, out_dir, templates, run)
    with run.stage("assemble"):
        names = [s.name for s in episode.speakers.values()]
        tags = names if len(names) > 1 and run.config.slides.speaker_tag else None
        drawn = options.burn_captions or tags
        burned = burn.stretches(spans, cues, options.burn_captions, tags) if drawn else None
        mux = _assemble(voiceover, deck, spans, release, out_dir, run, burned)
        assemble.write_captions(cues, out_dir)
        atomic_write_bytes(out_dir / "slides.pdf", pages.merge_pdfs(deck.pdfs))
    report = _report(episode, voiceover, spans, run, options, casting, source_name, lines)
    report["loudness"] = mux["loudness"]
    report["episode"] = facts
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _finish_manifest(out_dir, run, mux, source_name)
    return BuildResult(out_dir=out_dir, report=report)


def _check_speech(
    lines: list[voice.Line],
    clips: list[np.ndarray],
    rate: int,
    lang: str,
    casting: Casting,
    engines: Engines,
    run: _Run,
    respell: Callable[[str], str],
) -> tuple[list[np.ndarray], list[tuple[SpokenWord, ...]]]:
    """The speech check (see qa.check) with the recognizers and the voice through the store: only what
    was not heard or voiced before is. Returns the clips kept and the words heard in each."""
    assert engines.asr is not None
    first_id, second_id = engines.asr_id(lang), engines.second_asr_id(lang)
    first = functools.cache(lambda: engines.asr(lang))  # type: ignore[misc]  # loaded if needed
    second = functools.cache(lambda: engines.second_asr(lang))
    limit = run.config.qa.max_error(lang)

    def hear(chosen: list[voice.Line], audio: list[np.ndarray], take: int, other: bool) -> list[Heard]:
        asr_id, asr = (second_id, second) if other else (first_id, first)
        assert asr_id is not None
        return incremental.heard_lines(chosen, audio, rate, lang, casting, take, asr_id, asr, run.store)

    def revoice(again: list[voice.Line]) -> list[np.ndarray]:
        retaken, retake_rate = incremental.voice_lines(again, lang, casting, run.store, take=2)
        return [resample(c, retake_rate, rate) for c in retaken]

    result = qa.check(lines, clips, lang, limit, hear, revoice, respell, second_id)
    for check in result.checks:
        if check.flagged:
            run.warn(
                f"qa: section '{check.section_id}': heard {check.heard.text[:60]!r} "
                f"for {check.text[:60]!r} ({qa.METRIC[lang]} {check.score.rate:.0%})"
            )
        run.progress.advance()
    run.qa = qa.report(result.checks, lang, first_id, limit)
    if second_id:
        run.qa["second_opinion"] = {"asr": second_id, "asked": 0, "heard_better": 0} | result.second_opinion
    return result.clips, [c.heard.words for c in result.checks]


def cast(lang: str, options: BuildOptions, engines: Engines) -> Casting:
    """The episode's voices: `--voice` or the language's default, and every other of its catalog."""
    return Casting(lang, options.voice, engines.tts, engines.tts_id)


def _decoder(path: Path, rate: int) -> np.ndarray:
    return decode_audio(path, rate, stage="music")


def _publish(
    episode: Episode, voiceover: Voiceover, out_dir: Path, templates: Templates, run: _Run
) -> tuple[assemble.Release, dict[str, Any]]:
    """Chapters, show notes and the thumbnail; returns what the media files carry (tags, chapters, cover)
    and the facts about the episode (title, date, summary…) for the report and the feed."""
    podcast = run.config.podcast
    facts = publish.episode_facts(episode, newsletter=podcast.title)
    chapters = publish.chapters(voiceover)
    for writer in CHAPTER_WRITERS:
        writer().write(chapters, out_dir)
    markdown, html = publish.show_notes(episode, voiceover, facts, templates)
    atomic_write_text(out_dir / "show-notes.md", markdown)
    atomic_write_text(out_dir / "show-notes.html", html)
    font_text = _font_text(episode, templates, run)
    thumbnail, warnings = incremental.thumbnail(facts, templates, run.store, font_text)
    for warning in warnings:
        run.warn(warning)
    atomic_write_bytes(out_dir / "thumbnail.png", thumbnail.read_bytes())
    tags = {
        "title": facts["title"],
        "artist": facts["author"] or (podcast.author or ""),
        "album": facts["newsletter"],
        "date": facts["date"],
        "language": facts["lang"],
    }
    return assemble.Release(tags=tags, chapters=chapters, cover=out_dir / "thumbnail.png"), facts


def _assemble(
    voiceover: Voiceover,
    deck: incremental.DeckParts,
    spans: list[SlideSpan],
    release: assemble.Release,
    out_dir: Path,
    run: _Run,
    burned: list[burn.Stretch] | None = None,
) -> dict[str, Any]:
    """Encode episode.mp3 and episode.mp4 unless the folder already holds them for these exact inputs.
    With `burned` (captions drawn on), the video shows one picture per stretch instead of per slide."""
    if burned is None:
        pictures = [(deck.frames[s.index].name, round(s.start, 3), round(s.end, 3)) for s in spans]
    else:
        pictures = [(s.name(deck.frames[s.slide]), round(s.start, 3), round(s.end, 3)) for s in burned]
    chapters = [(c.title, round(c.start, 3), round(c.end, 3)) for c in release.chapters]
    work = Work(
        "mux",
        "episode",
        {
            "audio": hashlib.sha256(voiceover.samples.tobytes()).hexdigest()[:20],
            "rate": str(voiceover.sample_rate),
            "video": digest(json.dumps(pictures)),
            "tags": digest(json.dumps([release.tags, chapters], sort_keys=True)),
            "cover": sha256_file(release.cover)[:20] if release.cover else "",
            "loudness": digest(repr(run.config.loudness)),
        },
    )
    recorded = (load_manifest(out_dir) or {}).get("mux", {})
    sizes = {name: (out_dir / name).stat().st_size for name in MEDIA_NAMES if (out_dir / name).is_file()}
    same = recorded.get("key") == work.key and recorded.get("sizes") == sizes and "loudness" in recorded
    if run.store.find(work, lambda: recorded if same else None) is not None:  # the outputs are the entry
        return recorded
    run.store.made(work)
    with tempfile.TemporaryDirectory(prefix=".mediagen-work-", dir=out_dir) as work_dir:
        scratch = Path(work_dir).resolve()
        frames, shown = deck.frames, spans
        if burned is not None:
            frames, shown = _captioned_pictures(deck.frames, burned, scratch)
        measured = assemble.encode_media(
            voiceover, frames, shown, release, run.config.loudness, out_dir, scratch
        )
    return {
        "key": work.key,
        "loudness": measured,
        "sizes": {name: (out_dir / name).stat().st_size for name in MEDIA_NAMES},
    }


def _captioned_pictures(
    frames: list[Path], burned: list[burn.Stretch], scratch: Path
) -> tuple[list[Path], list[SlideSpan]]:
    """Each distinct (slide, caption) picture drawn once, and the spans that show them."""
    font = pages.font_files()["regular"]
    pictures: dict[str, int] = {}
    made: list[Path] = []
    spans: list[SlideSpan] = []
    for stretch in burned:
        name = stretch.name(frames[stretch.slide])
        if name not in pictures:
            pictures[name] = len(made)
            made.append(scratch / name)
            burn.draw(frames[stretch.slide], stretch, made[-1], font)
        spans.append(SlideSpan(pictures[name], stretch.start, stretch.end))
    return made, spans


def _finish_manifest(out_dir: Path, run: _Run, mux: dict[str, Any], source_name: str) -> None:
    manifest = load_manifest(out_dir) or {}
    manifest |= {
        "mediagen": __version__,
        "source": source_name,
        "cache": str(run.store.cache.root),
        "works": run.store.ledger.as_manifest(),
        "keys": sorted(run.store.ledger.keys()),
        "mux": mux,
    }
    write_manifest(out_dir, manifest)
    run.store.cache.register_output(out_dir)


def _report(
    episode: Episode,
    voiceover: Voiceover,
    spans: list[SlideSpan],
    run: _Run,
    options: BuildOptions,
    casting: Casting,
    source_name: str,
    lines: list[voice.Line],
) -> dict[str, Any]:
    flags = {s.id: s.flags for s in episode.sections}
    return {
        "mediagen": __version__,
        "source": source_name,
        "title": episode.title,
        "lang": episode.lang,
        "mode": episode.mode,
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
                "speaker": s.speaker,
                "start_s": round(s.start, 3),
                "end_s": round(s.end, 3),
            }
            for s in voiceover.sentences
        ],
        "engines": {
            "tts": casting.identity(None),
            "voices": {
                name: casting.identity(name) for name in sorted({casting.voice(x.voice).name for x in lines})
            },
            "llm": episode.llm,
            "asr": run.qa.get("asr"),
        },
        "script": run.script,
        "qa": run.qa,
        "stages": run.stages,
        "cache": {"folder": str(run.store.cache.root), **run.store.cache.usage.as_report()},
        "build_s": round(time.perf_counter() - run.started, 3),
        "warnings": run.warnings,
    }
