"""The studio's edits and the page's data: a page's changes to lines and slides, written into
episode.yaml through the checks `render` makes of an edited file, and the episode as the page shows it
(slides, lines, who says them, times and what the speech check heard)."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediagen.episode import Episode, dump_episode, load_episode
from mediagen.errors import InputError
from mediagen.files import sha256_file


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineEdit(_Edit):
    """A narration line changed in the page: its text, its voice ("" for the episode's), its speaker."""

    section: str = Field(max_length=200)
    line: int = Field(ge=0)
    text: str | None = None
    voice: str | None = Field(default=None, max_length=200)
    speaker: str | None = Field(default=None, max_length=200)


class SlideEdit(_Edit):
    """A slide changed in the page: its title and its bullets."""

    section: str = Field(max_length=200)
    slide: int = Field(ge=0)
    title: str | None = None
    bullets: list[str] | None = None


class Edits(_Edit):
    lines: list[LineEdit] = Field(default_factory=list, max_length=2000)
    slides: list[SlideEdit] = Field(default_factory=list, max_length=2000)


def apply_edits(episode_path: Path, edits: Edits, limits: Any, voices: Callable[[str], list[str]]) -> str:
    """Write the edits into episode.yaml: checked as `render` checks an edited file (schema, limits,
    voices), then put in place at once. Returns the new file's sha256."""
    episode = load_episode(episode_path, limits, voices)
    sections = {s.id: s for s in episode.sections}
    updated: dict[str, Any] = {}
    for edit in edits.lines:
        section = updated.get(edit.section) or _section(sections, edit.section)
        lines = list(section.narration)
        if edit.line >= len(lines):
            raise InputError(f"section '{edit.section}' has no line {edit.line + 1}")
        change: dict[str, Any] = {}
        if edit.text is not None:
            change["text"] = edit.text
            change["origin"] = "author"  # the editor wrote it now
        if edit.voice is not None:
            change["voice"] = edit.voice or None
        if edit.speaker is not None:
            change["speaker"] = edit.speaker or None
        lines[edit.line] = lines[edit.line].model_copy(update=change)
        updated[edit.section] = section.model_copy(update={"narration": lines})
    for edit in edits.slides:
        section = updated.get(edit.section) or _section(sections, edit.section)
        shown = list(section.slides)
        if edit.slide >= len(shown):
            raise InputError(f"section '{edit.section}' has no slide {edit.slide + 1}")
        change = {k: v for k, v in (("title", edit.title), ("bullets", edit.bullets)) if v is not None}
        shown[edit.slide] = shown[edit.slide].model_copy(update=change)
        updated[edit.section] = section.model_copy(update={"slides": shown})
    new = episode.model_copy(update={"sections": [updated.get(s.id, s) for s in episode.sections]})
    # Written beside episode.yaml, read back as render would read it, and only then put in its place.
    handle, name = tempfile.mkstemp(prefix=".episode-", suffix=".yaml", dir=episode_path.parent)
    os.close(handle)
    draft = Path(name)
    try:
        dump_episode(Episode.model_validate(new.model_dump()), draft)
        load_episode(draft, limits, voices)
        os.replace(draft, episode_path)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise InputError(f"edit refused: {where}: {error['msg']}") from None
    except InputError as exc:
        raise InputError(f"edit refused: {str(exc).replace(draft.name, episode_path.name)}") from None
    finally:
        draft.unlink(missing_ok=True)
    return sha256_file(episode_path)


def _section(sections: dict[str, Any], section_id: str) -> Any:
    if section_id not in sections:
        raise InputError(f"no section '{section_id}' in episode.yaml")
    return sections[section_id]


# --- what the page shows -----------------------------------------------------------------------------


def page_view(
    episode: Episode,
    pages: list[list[str]],
    report: dict[str, Any] | None,
    voices: list[str],
) -> dict[str, Any]:
    """The episode as the page shows it: per section its slides (picture URLs), its lines with their
    speaker, voice, times and what the speech check heard, and the chapter's times. `pages`: the picture
    URLs of each slide of each section, in order; `report`: the last render's report.json (its times and
    hearings are used for the lines whose text it still has)."""
    said = list((report or {}).get("sentences", []))
    checks = list(((report or {}).get("qa") or {}).get("sentences", []))
    chapters = {s["id"]: s for s in (report or {}).get("sections", [])}
    voiced: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for sentence, check in itertools.zip_longest(said, checks[: len(said)]):
        voiced.setdefault(sentence.get("section", ""), []).append((sentence, check))
    sections, slide = [], 0
    for section in episode.sections:
        lines, heard, first = [], voiced.get(section.id, []), 0
        for number, line in enumerate(section.narration):
            entry: dict[str, Any] = {
                "index": number,
                "text": line.text,
                "speaker": line.speaker,
                "voice": line.voice or "",
            }
            # The line's sentence in the last render, if it still says this text (a line edited since
            # has none until the render that voices it is done).
            found = next((i for i in range(first, len(heard)) if heard[i][0].get("text") == line.text), None)
            if found is not None:
                sentence, check = heard[found]
                entry |= {"start_s": sentence.get("start_s"), "end_s": sentence.get("end_s")}
                if check:
                    entry |= {k: check[k] for k in ("heard", "score", "flagged", "take") if k in check}
                first = found + 1
            lines.append(entry)
        chapter = chapters.get(section.id, {})
        shown = []
        for number, source in enumerate(section.slides):
            shown.append(
                {
                    "index": number,
                    "layout": source.layout,
                    "title": source.title,
                    "bullets": list(source.bullets),
                    "pictures": pages[slide] if slide < len(pages) else [],
                }
            )
            slide += 1
        sections.append(
            {
                "id": section.id,
                "title": section.title,
                "start_s": chapter.get("start_s"),
                "end_s": chapter.get("end_s"),
                "slides": shown,
                "lines": lines,
            }
        )
    qa = (report or {}).get("qa") or {}
    return {
        "title": episode.title,
        "lang": episode.lang,
        "speakers": {key: s.name for key, s in episode.speakers.items()},
        "voices": voices,
        "duration_s": (report or {}).get("duration_s"),
        "speech_check": {k: qa[k] for k in ("metric", "overall", "max_error", "skipped") if k in qa},
        "warnings": list((report or {}).get("warnings", [])),
        "sections": sections,
    }
