"""The episode a build makes: the issue opened and checked, its language settled, and its script
written section by section through the store, or the author's edited episode.yaml taken instead."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mediagen import incremental
from mediagen.cache import load_manifest
from mediagen.config import load_config
from mediagen.document import Document
from mediagen.episode import (
    Episode,
    EpisodeSection,
    check_limits,
    load_episode,
    set_source,
)
from mediagen.errors import InputError
from mediagen.files import sha256_file
from mediagen.limits import Limits
from mediagen.progress import Progress, SilentProgress
from mediagen.session import SUPPORTED_LANGS, BuildOptions, Engines, Run, failing_stage, open_cache
from mediagen.stages import parse, script
from mediagen.text import detect_language
from mediagen.voices import catalog
from mediagen.writer import WRITTEN_MODES, Writer, speakers, writing_plan

# --- parse and script -------------------------------------------------------------------------------


def open_issue(issue: Path, options: BuildOptions, progress: Progress | None) -> tuple[Document, str, Run]:
    """Parse the issue, settle its language and open its cache: what every command starts from."""
    started = time.perf_counter()
    config = load_config()
    limits = options.limits(config)
    with failing_stage("parse"):
        doc = parse.parse_issue(issue, limits)
        limits.check(issue.name, "sections", len(doc.sections), "sections")
    run = Run(progress or SilentProgress(), open_cache(options.cache, doc.folder, config), config, limits)
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


def episode_for(
    doc: Document, lang: str, options: BuildOptions, run: Run, engines: Engines, out_dir: Path
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


def _script_units(writer: Writer, run: Run, units: list[script.ScriptUnit]) -> dict[str, EpisodeSection]:
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


def make_writer(doc: Document, lang: str, options: BuildOptions, run: Run, engines: Engines) -> Writer:
    plan = writing_plan(
        run.mode, options.llm, options.llm_model, options.show, options.minutes, run.config, doc, lang
    )
    return Writer(doc, lang, plan, options.templates, run.limits, engines.load, engines.identify)


def _merge_edits(
    kept: Episode,
    generated: dict[str, EpisodeSection],
    units: list[script.ScriptUnit],
    doc: Document,
    run: Run,
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
