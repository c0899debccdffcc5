"""From an episode to the media: slides, voice and the speech check, alignment, music, assembly and
publishing, through the store; then the manifest and the report. The slides are drawn beside the voice,
each holding its cores of the build's budget (see mediagen.runner); the media files are mediagen.muxing's."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mediagen import __version__, incremental, pages
from mediagen.cache import load_manifest, write_manifest
from mediagen.config import Config
from mediagen.engines.base import ASREngine
from mediagen.episode import (
    Episode,
    dump_episode,
)
from mediagen.errors import InputError
from mediagen.files import atomic_write_bytes, atomic_write_text, sha256_file
from mediagen.lexicon import lexicon_for
from mediagen.media import burn, parts
from mediagen.media.ffmpeg import decode_audio
from mediagen.media.samples import resample
from mediagen.muxing import media_files
from mediagen.recognition import Heard
from mediagen.report import REPORT_FILE, Report
from mediagen.runner import Once, budget, stopped, together
from mediagen.session import (
    CHAPTER_WRITERS,
    BuildOptions,
    BuildResult,
    Engines,
    Run,
    recognizer,
    second_recognizer,
    speech_check_off,
)
from mediagen.stages import align, assemble, music, publish, qa, slides, voice
from mediagen.templating import Templates, search_path
from mediagen.timeline import SlideSpan, SpokenWord, Voiceover
from mediagen.voices import Casting

# --- slides, voice, align, assemble --------------------------------------------------------------------


def slide_theme(templates: Templates, options: BuildOptions, config: Config) -> slides.Theme:
    """The slides' theme: `--theme`, else [slides] theme, else the default; with [slides] accent, logo
    and font."""
    chosen = config.slides
    return slides.choose_theme(
        templates, options.theme or chosen.theme, chosen.accent, chosen.logo, chosen.font
    )


def render_episode_slides(
    episode: Episode, folder: Path | None, templates: Templates, options: BuildOptions, run: Run
) -> incremental.DeckParts:
    theme = slide_theme(templates, options, run.config)
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
        font_text=font_text(episode, templates, run.config.podcast.title, theme),
        theme=theme,
    )
    for warning in deck.warnings:
        run.warn(warning)
    return deck


def font_text(
    episode: Episode, templates: Templates, newsletter: str | None, theme: slides.Theme | None = None
) -> str:
    """Every character the deck and the thumbnail may draw: one font subset serves both, and stays the
    same while edits bring no new character."""
    deck = [slide for section in episode.sections for slide in section.slides]
    facts = publish.episode_facts(episode, newsletter=newsletter)
    text = slides.deck_text(deck, episode.title, templates, theme)
    return text + publish.thumbnail_text(facts, templates)


def with_slides(episode: Episode, shown: list[list[slides.Slide]]) -> Episode:
    """The episode with each slide replaced by what the deck shows for it (continuations included)."""
    sections, first = [], 0
    for section in episode.sections:
        count = len(section.slides)
        fitted = [slide for group in shown[first : first + count] for slide in group]
        sections.append(section.model_copy(update={"slides": fitted}))
        first += count
    return episode.model_copy(update={"sections": sections})


def write_episode(episode: Episode, out_dir: Path, edited: bool) -> None:
    """Write episode.yaml and remember, at once, what was written: a later change is the author's."""
    path = out_dir / "episode.yaml"
    dump_episode(episode, path)
    manifest = load_manifest(out_dir) or {}
    manifest["episode"] = {"sha256": sha256_file(path), "edited": edited}
    write_manifest(out_dir, manifest)


def produce(
    episode: Episode,
    folder: Path | None,
    out_dir: Path,
    options: BuildOptions,
    run: Run,
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
    # The lines are the narration's, which fitting the slides to their pages leaves as it is: the
    # slides are drawn beside the voice (one core of the budget for WeasyPrint, the rest for the voice).
    lines = voice.lines_to_voice(episode, lexicon, scripts)

    def draw(stop: threading.Event) -> tuple[Episode, incremental.DeckParts]:
        with run.stage("slides"), budget().hold(1):
            deck = render_episode_slides(episode, folder, templates, options, run)
            fitted = with_slides(episode, deck.shown)
            shown = sum(len(section.slides) for section in fitted.sections)
            run.limits.check(Path(source_name).name, "slides, with their continuations", shown, "slides")
            return fitted, deck

    def speak(stop: threading.Event) -> tuple[list[np.ndarray], int]:
        def spoken() -> None:
            stopped(stop)
            run.progress.advance(stage="voice")

        with run.stage("voice", total=sum(len(s.narration) for s in episode.sections)):
            return incremental.voice_lines(lines, episode.lang, casting, run.store, spoken)

    # A line voiced afresh is heard afresh: the recognizer is then loaded beside the voice.
    skipped = speech_check_off(options, run.config, engines)
    hearer = Once(lambda: engines.load(recognizer(episode.lang)))
    ahead = not skipped and incremental.voice_pending(lines, episode.lang, casting, run.store.cache)

    def listen_ahead(stop: threading.Event) -> None:
        if ahead:
            with budget().hold(1):
                hearer()

    (fitted, deck), (clips, rate), _ = together(draw, speak, listen_ahead)
    rate = rate or assemble.OUTPUT_SAMPLE_RATE
    if fitted != episode and not write_yaml:
        run.warn("slides: some slides were split to fit their pages (episode.yaml left as is)")
    episode = fitted
    if write_yaml:
        write_episode(episode, out_dir, edited)
    for gone in voice.left_out(episode, scripts):
        run.warn(
            f"voice: section '{gone.section_id}': left out of the audio, the voice cannot say "
            f"{'/'.join(gone.scripts).lower()} text: {gone.text[:60]!r}"
        )
    heard = None
    if skipped:
        run.qa = {"skipped": skipped}
    elif lines:
        with run.stage("qa", total=len(lines)):
            respell = functools.partial(voice.spoken_form, lang=episode.lang, lexicon=lexicon)
            clips, heard = _check_speech(
                lines, clips, rate, episode.lang, casting, engines, run, respell, hearer
            )
    with run.stage("align"):
        # Sections start on the grid the audio is cut into parts on (see media.parts).
        voiceover = voice.lay_out(episode, lines, clips, rate, heard, parts.SECTION_GRID_S)
        voiceover = music.add_music(voiceover, run.config.music, _decoder, parts.SECTION_GRID_S)
        spans = align.schedule_slides(episode, voiceover)
        cues = align.caption_cues(voiceover, episode.lang)
    with run.stage("publish"):
        theme = slide_theme(templates, options, run.config)
        release, facts = _publish(episode, voiceover, out_dir, templates, run, theme)
    with run.stage("assemble"):
        names = [s.name for s in episode.speakers.values()]
        tags = names if len(names) > 1 and run.config.slides.speaker_tag else None
        drawn = options.burn_captions or tags
        burned = burn.stretches(spans, cues, options.burn_captions, tags) if drawn else None
        mux = media_files(voiceover, deck, spans, release, out_dir, run, burned)
        assemble.write_captions(cues, out_dir)
        atomic_write_bytes(out_dir / "slides.pdf", pages.merge_pdfs(deck.pdfs))
    report = Report.model_validate(
        _report(episode, voiceover, spans, run, options, casting, source_name, lines)
        | {"loudness": mux["loudness"], "episode": facts}
    )
    atomic_write_text(out_dir / REPORT_FILE, report.to_json())
    _finish_manifest(out_dir, run, mux, source_name)
    return BuildResult(out_dir=out_dir, report=report)


def _check_speech(
    lines: list[voice.Line],
    clips: list[np.ndarray],
    rate: int,
    lang: str,
    casting: Casting,
    engines: Engines,
    run: Run,
    respell: Callable[[str], str],
    first: Callable[[], ASREngine],
) -> tuple[list[np.ndarray], list[tuple[SpokenWord, ...]]]:
    """The speech check (see qa.check) with the recognizers and the voice through the store: only what
    was not heard or voiced before is; `first` loads the first recognizer (if not loaded yet). Returns
    the clips kept and the words heard in each."""
    first_choice, second_choice = recognizer(lang), second_recognizer(lang)
    first_id = engines.identify(first_choice)
    second_id = engines.identify(second_choice) if second_choice else None
    second = functools.cache(lambda: engines.load(second_choice))
    limit = run.config.qa.max_error(lang)

    def hear(chosen: list[voice.Line], audio: list[np.ndarray], take: int, other: bool) -> list[Heard]:
        asr_id, asr = (second_id, second) if other else (first_id, first)
        assert asr_id is not None
        return incremental.heard_lines(chosen, audio, rate, lang, casting, take, asr_id, asr, run.store)

    def revoice(again: list[voice.Line], take: int) -> list[np.ndarray]:
        retaken, retake_rate = incremental.voice_lines(again, lang, casting, run.store, take=take)
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
    return Casting(lang, options.voice, engines.load, engines.identify)


def _decoder(path: Path, rate: int) -> np.ndarray:
    return decode_audio(path, rate, stage="music")


def _publish(
    episode: Episode,
    voiceover: Voiceover,
    out_dir: Path,
    templates: Templates,
    run: Run,
    theme: slides.Theme,
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
    text = font_text(episode, templates, podcast.title, theme)
    thumbnail, warnings = incremental.thumbnail(facts, templates, run.store, text)
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


def _finish_manifest(out_dir: Path, run: Run, mux: dict[str, Any], source_name: str) -> None:
    manifest = load_manifest(out_dir) or {}
    manifest |= {
        "mediagen": __version__,
        "source": source_name,
        "cache": str(run.store.cache.root),
        "works": run.store.ledger.as_manifest(),
        "keys": sorted(run.store.ledger.keys()),
        "redone": run.store.ledger.redone(),
        "mux": mux,
    }
    write_manifest(out_dir, manifest)
    run.store.cache.register_output(out_dir)


def _report(
    episode: Episode,
    voiceover: Voiceover,
    spans: list[SlideSpan],
    run: Run,
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
