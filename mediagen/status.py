"""`mediagen status`: per stage and section, whether the last build's work still stands or why it would
be redone (changed text, changed template, changed engine, missing output), without doing any of it.

It plans with the build's own pieces: the same works (`mediagen.incremental`), the same framing of the
show, the same speech check (`qa.check`, replayed over the hearings in the cache), so what it names is
what the next build does. What no plan can know beforehand is said as such: the sentences of a section
that is written again, and the further takes of a sentence voiced afresh should it be heard wrong.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mediagen import incremental
from mediagen.cache import Cache, load_manifest
from mediagen.episode import Episode, EpisodeSection, load_episode
from mediagen.errors import InputError
from mediagen.lexicon import lexicon_for
from mediagen.muxing import mux_settings
from mediagen.producing import cast as casting_for
from mediagen.producing import font_text, slide_theme
from mediagen.recognition import Heard
from mediagen.scripting import edited_episode, make_writer, open_issue
from mediagen.session import (
    OUTPUT_NAMES,
    BuildOptions,
    Engines,
    Run,
    default_out_dir,
    recognizer,
    second_recognizer,
    speech_check_off,
)
from mediagen.stages import publish, qa, voice
from mediagen.store import Work
from mediagen.templating import Templates, search_path
from mediagen.timeline import SpokenWord
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
    "asr": "changed recognizer",
    "charset": "new characters",
    "loudness": "changed loudness",
    "music": "changed music",
}
UP_TO_DATE = "up to date"
UNWRITTEN = "after the section is written again"
INPUTS_CHANGE = "its inputs change"
MEDIA_INPUTS = ("voice", "slides", "thumbnail")  # the works the media are made of


@dataclass(frozen=True)
class Row:
    stage: str
    name: str
    state: str  # "up to date", "redo", "kept"
    reason: str = ""


@dataclass
class Plan:
    """What the next build does: the rows `mediagen status` shows, the works it would do (`todo`), the
    sections whose later works are known only once they are written (`unwritten`), and the works it
    does only if what is redone before them comes out different (`maybe`): the further takes of a
    sentence voiced afresh and a second recognizer's hearing of it, if it is heard wrong; the media,
    if the new audio or pictures differ from the old."""

    rows: list[Row] = field(default_factory=list)
    todo: list[Work] = field(default_factory=list)
    unwritten: set[str] = field(default_factory=set)
    maybe: list[Work] = field(default_factory=list)


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


class _Planner:
    """One status plan: the cache to look in, what the last build recorded, and the plan being filled."""

    def __init__(self, cache: Cache, manifest: dict) -> None:
        self.cache = cache
        self.recorded = {
            stage: [r for r in records if isinstance(r, dict)]
            for stage, records in manifest.get("works", {}).items()
            if isinstance(records, list)
        }
        self.plan = Plan()
        self.used: set[tuple[str, str]] = set()  # every work looked at, done or not

    def record_of(self, stage: str, name: str, position: int = 0) -> dict | None:
        """The last build's record of the `position`-th work of that stage and name."""
        same = [r for r in self.recorded.get(stage, []) if r.get("name") == name]
        return same[position] if position < len(same) else None

    def reason(self, work: Work, cached: bool, position: int = 0) -> str:
        self.used.add((work.stage, work.key))
        reason = why(work, self.record_of(work.stage, work.name, position), cached)
        if reason:
            self.plan.todo.append(work)
        return reason

    def row(self, stage: str, name: str, reasons: list[str], unit: str) -> None:
        todo = [r for r in reasons if r]
        if not todo:
            self.plan.rows.append(Row(stage, name, UP_TO_DATE, f"{len(reasons)} {unit}"))
            return
        causes = ", ".join(dict.fromkeys(todo))
        self.plan.rows.append(Row(stage, name, "redo", f"{len(todo)} of {len(reasons)} {unit}: {causes}"))

    def section_rows(
        self, stage: str, sections: list[EpisodeSection], reasons: dict[str, list[str]], unit: str
    ) -> None:
        """One row per section: its works' reasons summed up, or that it is yet to be written."""
        for section in sections:
            if section.id in self.plan.unwritten:
                self.plan.rows.append(Row(stage, section.id, "redo", UNWRITTEN))
            else:
                self.row(stage, section.id, reasons.get(section.id, []), unit)


def issue_status(issue: Path, options: BuildOptions, engines: Engines | None = None) -> list[Row]:
    return issue_plan(issue, options, engines).rows


def issue_plan(issue: Path, options: BuildOptions, engines: Engines | None = None) -> Plan:
    """The next build's plan of `issue` with `options`, measured against the cache and the last build."""
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, None)
    out_dir = options.out or default_out_dir(issue)
    manifest = load_manifest(out_dir) or {}
    planner = _Planner(run.store.cache, manifest)
    voices = lambda lang: list(catalog(lang, options.voice))  # noqa: E731
    kept = None if options.force else edited_episode(out_dir, run.limits, voices)
    writer = make_writer(doc, lang, options, run, engines)
    sections = _script(planner, writer, kept, options.rescript, _last_sections(out_dir, run))
    episode = Episode.model_construct(
        title=kept.title if kept else doc.title,
        lang=lang,
        meta=kept.meta if kept else doc.meta,
        speakers=kept.speakers if kept else speakers(writer.plan),
        sections=sections,
    )
    casting = casting_for(lang, options, engines)
    lexicon = lexicon_for(doc.folder, run.config.lexicon.file, run.config.lexicon.starter, run.limits)
    known = [s for s in sections if s.id not in planner.plan.unwritten]
    lines = voice.lines_to_voice(episode.model_copy(update={"sections": known}), lexicon, casting.scripts)
    _voice(planner, episode, lines, casting)
    if speech_check_off(options, run.config, engines) is None:
        _speech_check(planner, lines, episode, lexicon, casting, engines, run)
    templates = Templates(search_path(options.templates), limits=run.limits)
    _slides(planner, episode, doc.folder, templates, options, run)
    _output(planner, out_dir, manifest, run)
    return planner.plan


def _last_sections(out_dir: Path, run: Run) -> dict[str, EpisodeSection]:
    """The sections of the last episode.yaml, which stand in for a section being written again where
    the show's framing of the others needs its title and flags."""
    try:
        return {s.id: s for s in load_episode(out_dir / "episode.yaml", run.limits).sections}
    except (InputError, OSError):
        return {}


def _script(
    planner: _Planner,
    writer: Writer,
    kept: Episode | None,
    rescript: tuple[str, ...],
    last: dict[str, EpisodeSection],
) -> list[EpisodeSection]:
    """Script rows, and each section as the build will have it, with the show around the sections
    written afresh as `build` puts it (a section to be written again stands in as it was)."""
    kept_sections = {s.id: s for s in kept.sections} if kept else {}
    sections: list[EpisodeSection] = []
    fresh: set[int] = set()
    for unit in writer.units:
        if unit.id in kept_sections and unit.id not in rescript:
            section = kept_sections[unit.id]
            changed = unit.section is not None and section.source_hash != unit.section.source_hash
            note = "your edited episode.yaml" + (
                "; the Markdown changed (--rescript to regenerate)" if changed else ""
            )
            planner.plan.rows.append(Row("script", unit.id, "kept", note))
            sections.append(section)
            continue
        work = writer.work(unit)
        stored = planner.cache.get_json("script", work.key)
        reason = planner.reason(work, stored is not None)
        planner.plan.rows.append(Row("script", unit.id, "redo" if reason else UP_TO_DATE, reason))
        fresh.add(len(sections))
        if stored is not None:
            sections.append(EpisodeSection.model_validate(stored["section"]))
        else:
            planner.plan.unwritten.add(unit.id)
            sections.append(last.get(unit.id) or _stand_in(unit.id, writer))
    return list(writer.frame(sections, fresh))


def _stand_in(section_id: str, writer: Writer) -> EpisodeSection:
    unit = next(u for u in writer.units if u.id == section_id)
    title = unit.section.title if unit.section else writer.doc.title
    return EpisodeSection.model_construct(id=section_id, title=title, flags=[], narration=[], slides=[])


def _voice(planner: _Planner, episode: Episode, lines: list[voice.Line], casting: Casting) -> None:
    seen: dict[str, int] = {}
    by_section: dict[str, list[str]] = {}
    for line in lines:
        work = incremental.voice_work(line, episode.lang, casting.identity(line.voice))
        position = seen.get(work.name, 0)
        seen[work.name] = position + 1
        cached = planner.cache.get_file("voice", work.key, ".wav") is not None
        by_section.setdefault(line.section_id, []).append(planner.reason(work, cached, position))
    planner.section_rows("voice", episode.sections, by_section, "sentences")


def _speech_check(
    planner: _Planner,
    lines: list[voice.Line],
    episode: Episode,
    lexicon: object,
    casting: Casting,
    engines: Engines,
    run: Run,
) -> None:
    """The speech check as the build does it (`qa.check`), over what the cache heard before: a hearing
    or a take missing from the cache is work to do; a hearing still to be made is assumed right, and
    the takes and second opinions it could bring are `maybe`."""
    lang = episode.lang
    second_choice = second_recognizer(lang)
    first_id = engines.identify(recognizer(lang))
    second_id = engines.identify(second_choice) if second_choice else None
    reasons: dict[str, list[str]] = {}
    fresh: set[int] = set()  # lines (by id) heard for the first time

    def hear(chosen: list[voice.Line], _audio: list, take: int, other: bool) -> list[Heard]:
        asr_id = second_id if other else first_id
        assert asr_id is not None
        heard = []
        for line in chosen:
            work = incremental.qa_work(line, lang, casting, take, asr_id)
            stored = planner.cache.get_json("qa", work.key)
            reason = planner.reason(work, stored is not None)
            if take == 1 and not other:
                reasons.setdefault(line.section_id, []).append(reason)
            if stored is not None:
                heard.append(Heard.from_json(stored["words"]))
            else:
                fresh.add(id(line))
                heard.append(Heard((SpokenWord(line.text, 0.0, 0.0),)))
        return heard

    def revoice(again: list[voice.Line], take: int) -> list[np.ndarray]:
        for line in again:
            work = incremental.voice_work(line, lang, casting.identity(line.voice), take)
            planner.reason(work, planner.cache.get_file("voice", work.key, ".wav") is not None)
        return [np.zeros(0, np.float32) for _ in again]

    respell = functools.partial(voice.spoken_form, lang=lang, lexicon=lexicon)
    clips = [np.zeros(0, np.float32) for _ in lines]
    qa.check(lines, clips, lang, run.config.qa.max_error(lang), hear, revoice, respell, second_id)
    for line in lines:
        if id(line) in fresh:
            planner.plan.maybe += _further_takes(line, lang, casting, first_id, second_id)
    planner.section_rows("qa", episode.sections, reasons, "sentences heard")


def _further_takes(
    line: voice.Line, lang: str, casting: Casting, first_id: str, second_id: str | None
) -> list[Work]:
    works = [incremental.qa_work(line, lang, casting, 1, second_id)] if second_id else []
    for take in range(2, qa.TAKES[lang] + 1):
        works.append(incremental.voice_work(line, lang, casting.identity(line.voice), take))
        works += [incremental.qa_work(line, lang, casting, take, a) for a in (first_id, second_id) if a]
    return works


def _slides(
    planner: _Planner,
    episode: Episode,
    folder: Path | None,
    templates: Templates,
    options: BuildOptions,
    run: Run,
) -> None:
    """Slide rows, and the thumbnail and fonts they share (known once every section is)."""
    theme = slide_theme(templates, options, run.config)
    template = theme.identity(templates, folder)
    by_section: dict[str, list[str]] = {}
    for section in episode.sections:
        if section.id in planner.plan.unwritten:
            continue
        for n, slide in enumerate(section.slides):
            name = f"{section.id}/{n}"
            work = incremental.slide_work(name, slide, folder, template, episode.lang, options.aspect)
            cached = planner.cache.get_json("slides", work.key) is not None
            by_section.setdefault(section.id, []).append(planner.reason(work, cached))
    planner.section_rows("slides", episode.sections, by_section, "slides")
    missing = any(reason for reasons in by_section.values() for reason in reasons)
    if planner.plan.unwritten:
        return
    newsletter = run.config.podcast.title
    thumbnail = incremental.thumbnail_work(publish.episode_facts(episode, newsletter), templates)
    cached = planner.cache.get_file("thumbnail", thumbnail.key, ".png") is not None
    made = planner.reason(thumbnail, cached)
    planner.plan.rows.append(Row("publish", "thumbnail", "redo" if made else UP_TO_DATE, made))
    if missing or made:  # the fonts are cut only for slides or a thumbnail being made
        fonts = incremental.fonts_work(
            incremental.font_charset(font_text(episode, templates, newsletter, theme))
        )
        reason = planner.reason(fonts, _has_fonts(planner.cache, fonts))
        if reason:
            planner.plan.rows.append(Row("slides", "fonts", "redo", reason))


def _has_fonts(cache: Cache, work: Work) -> bool:
    return all(cache.get_file("fonts", work.key, f"-{w}.otf") for w in ("regular", "bold"))


def _output(planner: _Planner, out_dir: Path, manifest: dict, run: Run) -> None:
    row = _output_row(planner, out_dir, manifest, run)
    planner.plan.rows.append(row)
    if row.state == "redo":
        mux = Work("mux", "episode", {})
        (planner.plan.maybe if row.reason == INPUTS_CHANGE else planner.plan.todo).append(mux)


def _output_row(planner: _Planner, out_dir: Path, manifest: dict, run: Run) -> Row:
    missing = [n for n in OUTPUT_NAMES if not (out_dir / n).is_file()]
    if missing:
        return Row("assemble", "episode", "redo", f"missing output: {', '.join(missing)}")
    sizes = {n: (out_dir / n).stat().st_size for n in ("episode.mp3", "episode.mp4")}
    if manifest.get("mux", {}).get("sizes") != sizes:
        return Row("assemble", "episode", "redo", "outputs changed since the last build")
    made_of = {(stage, r.get("key")) for stage in MEDIA_INPUTS for r in planner.recorded.get(stage, [])}
    now_of = {(stage, key) for stage, key in planner.used if stage in MEDIA_INPUTS}
    if planner.plan.todo or planner.plan.unwritten or made_of != now_of:
        return Row("assemble", "episode", "redo", INPUTS_CHANGE)
    recorded = (planner.record_of("mux", "episode") or {}).get("parts", {})
    changed = [REASONS[k] for k, v in mux_settings(run.config).items() if recorded.get(k) != v]
    if changed:
        return Row("assemble", "episode", "redo", ", ".join(changed))
    return Row("assemble", "episode", UP_TO_DATE, str(out_dir))
