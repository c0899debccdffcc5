"""The Episode: what will be said and shown. Stored as `episode.yaml`, meant to be read and edited."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mediagen.errors import InputError
from mediagen.files import atomic_write_text

SCHEMA_VERSION = 1
Lang = Literal["en", "ja"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Narration(_Strict):
    """One spoken sentence (or short group). `voice` overrides the episode's voice for this line."""

    text: str = Field(min_length=1)
    voice: str | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("narration text is empty")
        return value.strip()


class Slide(_Strict):
    """One page of the deck. The layout picks the template block; `continued` marks a spill-over page."""

    layout: Literal["title", "bullets", "code", "table"] = "bullets"
    title: str
    subtitle: str | None = None
    bullets: list[str] = Field(default_factory=list)
    image: str | None = None
    code: str | None = None
    code_lang: str | None = None
    table: list[list[str]] | None = None
    continued: bool = False


class Link(_Strict):
    """A link the section cites: shown in the show notes, never read out."""

    text: str
    url: str


class EpisodeSection(_Strict):
    id: str = Field(min_length=1)
    title: str
    source_hash: str | None = None
    flags: list[str] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    narration: list[Narration] = Field(min_length=1)
    slides: list[Slide] = Field(min_length=1)


class Episode(_Strict):
    schema_version: int = Field(SCHEMA_VERSION, alias="schema")
    title: str
    lang: Lang
    source: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    sections: list[EpisodeSection] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema {value}; this mediagen reads schema {SCHEMA_VERSION}")
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
        """Folder of the source issue (images are relative to it), resolved from the episode's place."""
        if not self.source:
            return None
        return (episode_path.parent / self.source).resolve().parent

    def sentences(self) -> list[tuple[EpisodeSection, Narration]]:
        return [(section, line) for section in self.sections for line in section.narration]


def dump_episode(episode: Episode, path: Path) -> None:
    """Write episode.yaml atomically, keys in schema order, unicode kept readable."""
    data = episode.model_dump(by_alias=True, exclude_none=True, exclude_defaults=False)
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


def load_episode(path: Path) -> Episode:
    """Read and validate episode.yaml; a bad edit becomes `episode.yaml:LINE: message` (exit code 2)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(f"{name}{line}: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}:1: expected a mapping with schema, title, lang and sections")
    _check_unique_ids(data, node, name)
    try:
        return Episode.model_validate(data)
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
