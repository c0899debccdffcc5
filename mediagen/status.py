"""`mediagen status`: per stage and section, whether the last build's work still stands or why it would
be redone (changed text, changed template, changed engine, missing output), without doing any of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mediagen import incremental
from mediagen.cache import Cache, load_manifest
from mediagen.episode import Episode, EpisodeSection, Speaker
from mediagen.lexicon import Lexicon, lexicon_for
from mediagen.producing import cast as casting_for
from mediagen.scripting import edited_episode, make_writer, open_issue
from mediagen.session import MEDIA_NAMES, OUTPUT_NAMES, BuildOptions, Engines, default_out_dir
from mediagen.stages import slides, voice
from mediagen.store import Work
from mediagen.templating import Templates, search_path
from mediagen.voices import Casting, catalog
from mediagen.writer import Writer, speakers

REASONS = {
    "text": "changed text",
    "content": "changed slide content",
    "template": "changed template",
    "engine": "changed engine",
    "image": "changed image",
    "voice": "changed voice",
    "lang": "changed language",
    "mode": "changed mode",
    "aspect": "changed aspect",
    "fonts": "changed fonts",
}
UP_TO_DATE = "up to date"


@dataclass(frozen=True)
class Row:
    stage: str
    name: str
    state: str  # "up to date", "redo", "kept"
    reason: str = ""


def why(work: Work, recorded: dict | None, cached: bool) -> str:
    """Why `work` would be done: empty if it is in the cache, else the first part that changed."""
    if cached:
        return ""
    if recorded is None:
        return "new"
    changed = [
        REASONS.get(name, f"changed {name}")
        for name, value in work.parts.items()
        if recorded.get("parts", {}).get(name) != value
    ]
    return ", ".join(changed) if changed else "not in the cache (pruned, or the build stopped early)"


def issue_status(issue: Path, options: BuildOptions, engines: Engines | None = None) -> list[Row]:
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, None)
    out_dir = options.out or default_out_dir(issue)
    manifest = load_manifest(out_dir) or {}
    recorded = {
        stage: {r["name"]: r for r in records} for stage, records in manifest.get("works", {}).items()
    }
    voices = lambda lang: list(catalog(lang, options.voice))  # noqa: E731
    kept = None if options.force else edited_episode(out_dir, run.limits, voices)
    writer = make_writer(doc, lang, options, run, engines)
    rows, sections = _script_rows(writer, run.store.cache, recorded.get("script", {}), kept, options.rescript)
    casting = casting_for(lang, options, engines)
    lexicon = lexicon_for(doc.folder, run.config.lexicon.file, run.config.lexicon.starter, run.limits)
    cast = kept.speakers if kept else speakers(writer.plan)
    rows += _voice_rows(sections, lang, casting, cast, lexicon, run.store.cache, recorded.get("voice", {}))
    rows += _slide_rows(sections, doc.folder, lang, options, run.store.cache, recorded.get("slides", {}))
    rows.append(_output_row(rows, out_dir, manifest))
    return rows


def _script_rows(
    writer: Writer, cache: Cache, recorded: dict[str, dict], kept: Episode | None, rescript: tuple[str, ...]
) -> tuple[list[Row], list[EpisodeSection | str]]:
    """Script rows, and each section as it stands (or its id, when it would be written again), with
    the show around the sections written afresh, as `build` puts it."""
    kept_sections = {s.id: s for s in kept.sections} if kept else {}
    rows: list[Row] = []
    sections: list[EpisodeSection | str] = []
    fresh: set[int] = set()
    for unit in writer.units:
        if unit.id in kept_sections and unit.id not in rescript:
            section = kept_sections[unit.id]
            changed = unit.section is not None and section.source_hash != unit.section.source_hash
            note = "your edited episode.yaml" + (
                "; the Markdown changed (--rescript to regenerate)" if changed else ""
            )
            rows.append(Row("script", unit.id, "kept", note))
            sections.append(section)
            continue
        work = writer.work(unit)
        stored = cache.get_json("script", work.key)
        reason = why(work, recorded.get(unit.id), stored is not None)
        rows.append(Row("script", unit.id, "redo" if reason else UP_TO_DATE, reason))
        fresh.add(len(sections))
        sections.append(EpisodeSection.model_validate(stored["section"]) if stored else unit.id)
    if all(isinstance(s, EpisodeSection) for s in sections):
        sections = list(writer.frame(sections, fresh))  # type: ignore[arg-type]
    return rows, sections


def _voice_rows(
    sections: list[EpisodeSection | str],
    lang: str,
    casting: Casting,
    cast: dict[str, Speaker],
    lexicon: Lexicon,
    cache: Cache,
    recorded: dict[str, dict],
) -> list[Row]:
    rows = []
    for section in sections:
        if isinstance(section, str):
            rows.append(Row("voice", section, "redo", "after the section is written again"))
            continue
        episode = Episode(title="", lang=lang, speakers=cast, sections=[section])
        works = [
            incremental.voice_work(line, lang, casting.identity(line.voice))
            for line in voice.lines_to_voice(episode, lexicon, casting.scripts)
        ]
        by_position = [r for name, r in recorded.items() if name.startswith(f"{section.id}: ")]
        reasons = [
            why(
                work,
                by_position[i] if i < len(by_position) else None,
                cache.get_file("voice", work.key, ".wav") is not None,
            )
            for i, work in enumerate(works)
        ]
        rows.append(_summarize_row("voice", section.id, reasons, "sentences"))
    return rows


def _slide_rows(
    sections: list[EpisodeSection | str],
    folder: Path,
    lang: str,
    options: BuildOptions,
    cache: Cache,
    recorded: dict[str, dict],
) -> list[Row]:
    templates = Templates(search_path(options.templates))
    template = templates.fingerprint(slides.template_names())
    rows = []
    for section in sections:
        if isinstance(section, str):
            rows.append(Row("slides", section, "redo", "after the section is written again"))
            continue
        reasons = []
        for n, slide in enumerate(section.slides):
            name = f"{section.id}/{n}"
            work = incremental.slide_work(name, slide, folder, template, lang, options.aspect)
            reasons.append(why(work, recorded.get(name), cache.get_json("slides", work.key) is not None))
        rows.append(_summarize_row("slides", section.id, reasons, "slides"))
    return rows


def _summarize_row(stage: str, name: str, reasons: list[str], unit: str) -> Row:
    todo = [r for r in reasons if r]
    if not todo:
        return Row(stage, name, UP_TO_DATE, f"{len(reasons)} {unit}")
    causes = ", ".join(dict.fromkeys(todo))
    return Row(stage, name, "redo", f"{len(todo)} of {len(reasons)} {unit}: {causes}")


def _output_row(rows: Iterable[Row], out_dir: Path, manifest: dict) -> Row:
    missing = [n for n in OUTPUT_NAMES if not (out_dir / n).is_file()]
    if missing:
        return Row("assemble", "episode", "redo", f"missing output: {', '.join(missing)}")
    sizes = {n: (out_dir / n).stat().st_size for n in MEDIA_NAMES}
    if manifest.get("mux", {}).get("sizes") != sizes:
        return Row("assemble", "episode", "redo", "outputs changed since the last build")
    if any(row.state == "redo" for row in rows):
        return Row("assemble", "episode", "redo", "its inputs change")
    return Row("assemble", "episode", UP_TO_DATE, str(out_dir))
