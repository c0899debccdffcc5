"""The Episode: what will be said and shown. Stored as `episode.yaml`, meant to be read and edited."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from mediagen.errors import InputError
from mediagen.files import atomic_write_text
from mediagen.limits import DEFAULT, Limits, load_yaml, read_text
from mediagen.text import clean_code, clean_text

SCHEMA_VERSION = 2  # 2: speakers; schema 1 files (one speaker) still load
SCHEMAS = (1, 2)
MARKDOWN_SUFFIXES = (".md", ".markdown")
Lang = Literal["en", "ja"]
# Text is cleaned as the Markdown path cleans it (control characters and template tags dropped,
# whitespace collapsed), so an edited episode.yaml reaches the voice and the slides the same way.
Text = Annotated[str, AfterValidator(clean_text)]
CodeText = Annotated[str, AfterValidator(clean_code)]


# Section flags: the script fell back to the author's key sentences; a section of links said in one line.
FLAG_FALLBACK = "extractive-fallback"
FLAG_LINKS = "links-in-show-notes"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Narration(_Strict):
    """One spoken sentence (or short group). `voice` overrides the episode's voice for this line;
    `origin` says who wrote it: the author (their own sentence), a model (checked against the
    section), or the show (its opening, transitions and sign-off, from templates)."""

    text: Text = Field(min_length=1)
    speaker: str | None = None  # an id of the episode's `speakers`
    voice: str | None = None
    origin: Literal["author", "llm", "show"] | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("narration text is empty")
        return value


class Speaker(_Strict):
    """One host: the name captions and show notes give, and the voice that speaks their lines."""

    name: Text = Field(min_length=1, max_length=60)
    voice: str | None = None  # a voice of the episode's language (see mediagen.voices)


class Slide(_Strict):
    """One page of the deck. The layout picks the template block; `continued` marks a spill-over page.
    quote: a passage the author quoted; number: a figure of the section set large, `caption` the
    sentence it comes from; image: one picture filling the page, `caption` its description. With
    bullets and an image, `bullets` shows both in two columns."""

    layout: Literal["title", "bullets", "code", "table", "quote", "number", "image"] = "bullets"
    title: Text
    subtitle: Text | None = None
    bullets: list[Text] = Field(default_factory=list)
    image: str | None = None
    quote: Text | None = None
    number: Text | None = Field(None, max_length=40)
    caption: Text | None = None
    code: CodeText | None = None
    code_lang: Text | None = None
    table: list[list[Text]] | None = None
    continued: bool = False


class Link(_Strict):
    """A link the section cites: shown in the show notes, never read out."""

    text: Text
    url: str


class EpisodeSection(_Strict):
    id: str = Field(min_length=1)
    title: Text
    source_hash: str | None = None
    flags: list[str] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    narration: list[Narration] = Field(min_length=1)
    slides: list[Slide] = Field(min_length=1)


class Episode(_Strict):
    schema_version: int = Field(SCHEMA_VERSION, alias="schema")
    title: Text
    lang: Lang
    source: str | None = None
    # How the script was made (summary, verbatim), and by which LLM: report.json says so for `render`.
    mode: str | None = None
    llm: str | None = None
    speakers: dict[str, Speaker] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    sections: list[EpisodeSection] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value not in SCHEMAS:
            raise ValueError(f"unsupported schema {value}; this mediagen reads schemas 1 and 2")
        return value

    @field_validator("sections")
    @classmethod
    def _unique_ids(cls, sections: list[EpisodeSection]) -> list[EpisodeSection]:
        seen: set[str] = set()
        for section in sections:
            if section.id in seen:
                raise ValueError(f"section id '{section.id}' appears twice")
            seen.add(section.id)
        return sections

    def issue_folder(self, episode_path: Path) -> Path | None:
        """Folder of the source issue (images are relative to it), resolved from the episode's place;
        None unless `source` names a Markdown file."""
        if not self.source:
            return None
        issue = (episode_path.parent / self.source).resolve()
        if issue.suffix.lower() not in MARKDOWN_SUFFIXES or not issue.is_file():
            return None
        return issue.parent


def dump_episode(episode: Episode, path: Path) -> None:
    """Write episode.yaml atomically, keys in schema order, unicode kept readable."""
    data = episode.model_dump(by_alias=True, exclude_none=True, exclude_defaults=False)
    data["schema"] = SCHEMA_VERSION
    if not data["speakers"]:
        del data["speakers"]
    for section in data["sections"]:
        for key in ("flags", "links"):
            if not section[key]:
                del section[key]
        for slide in section["slides"]:
            for key in ("bullets",):
                if not slide[key]:
                    del slide[key]
            if not slide["continued"]:
                del slide["continued"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    atomic_write_text(path, text)


def set_source(episode: Episode, issue_path: Path, episode_path: Path) -> Episode:
    """Record the issue's place relative to where episode.yaml lives, so both can move together."""
    source = os.path.relpath(issue_path.resolve(), episode_path.parent.resolve())
    return episode.model_copy(update={"source": source})


def load_episode(
    path: Path, limits: Limits = DEFAULT, voices: Callable[[str], Sequence[str]] | None = None
) -> Episode:
    """Read and validate episode.yaml within the limits; a bad edit becomes `episode.yaml:LINE: message`
    (exit code 2). `voices` gives, for the episode's language, the names a line's `voice:` may take."""
    name = path.name
    text = read_text(path, "episode_mb", limits)
    data, node = load_yaml(text, name, limits)
    if not isinstance(data, dict):
        raise InputError(f"{name}:1: expected a mapping with schema, title, lang and sections")
    _check_unique_ids(data, node, name)
    try:
        episode = Episode.model_validate(data)
    except ValidationError as exc:
        # A misspelt key also makes the real key "missing": name the unknown key, it is the cause.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        line = _line_of(node, error["loc"])
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{error['loc'][-1]}'"
        else:
            message = error["msg"].removeprefix("Value error, ")
        raise InputError(f"{name}:{line}: {where}: {message}") from None
    locate = lambda loc: f"{name}:{_line_of(node, loc)}"  # noqa: E731
    check_limits(episode, limits, locate)
    check_voices(episode, voices(episode.lang) if voices else None, locate)
    return episode


def check_limits(episode: Episode, limits: Limits, locate: Callable[[tuple[Any, ...]], str]) -> None:
    """Refuse narration lines, slides and decks over the limits; `locate` names a place in the file."""
    slides = 0
    for s, section in enumerate(episode.sections):
        for n, line in enumerate(section.narration):
            where = locate(("sections", s, "narration", n, "text"))
            limits.check(where, "characters in a narration line", len(line.text), "narration_chars")
        for n, slide in enumerate(section.slides):
            where = locate(("sections", s, "slides", n))
            limits.check(where, "bullets on a slide", len(slide.bullets), "bullets")
            limits.check(where, "lines on a code slide", (slide.code or "").count("\n") + 1, "code_lines")
            limits.check(where, "rows on a table slide", len(slide.table or []), "table_rows")
        slides += len(section.slides)
    limits.check(locate(("sections",)), "slides", slides, "slides")


def check_voices(
    episode: Episode, voices: Sequence[str] | None, locate: Callable[[tuple[Any, ...]], str]
) -> None:
    """Every `speaker:` must be one of the episode's speakers; every `voice:` (of a line or a speaker)
    a voice of the episode's language, when `voices` are given."""
    choices = ", ".join(voices or ()) or "none"

    def check(voice: str | None, loc: tuple[Any, ...]) -> None:
        if voices is not None and voice is not None and voice not in voices:
            raise InputError(
                f"{locate(loc)}: voice '{voice[:60]}' is not a voice for language '{episode.lang}' "
                f"(choose from: {choices})"
            )

    for key, speaker in episode.speakers.items():
        check(speaker.voice, ("speakers", key, "voice"))
    for s, section in enumerate(episode.sections):
        for n, line in enumerate(section.narration):
            check(line.voice, ("sections", s, "narration", n, "voice"))
            if line.speaker is not None and line.speaker not in episode.speakers:
                known = ", ".join(episode.speakers) or "none: add a speakers table"
                raise InputError(
                    f"{locate(('sections', s, 'narration', n, 'speaker'))}: no speaker '{line.speaker[:40]}' "
                    f"(speakers: {known})"
                )


def _check_unique_ids(data: dict[str, Any], node: yaml.Node, name: str) -> None:
    """Point a repeated section id at the line of its second use (the model check has no line)."""
    sections = data.get("sections")
    if not isinstance(sections, list):
        return
    seen: set[str] = set()
    for index, section in enumerate(sections):
        section_id = section.get("id") if isinstance(section, dict) else None
        if isinstance(section_id, str) and section_id in seen:
            line = _line_of(node, ("sections", index, "id"))
            raise InputError(f"{name}:{line}: sections.{index}.id: section id '{section_id}' appears twice")
        if isinstance(section_id, str):
            seen.add(section_id)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the YAML node at `loc` (or of the deepest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
