"""Limits on every file a build reads, and the guarded readers for them.

The issue, an edited `episode.yaml`, `lexicon.yaml`, `mediagen.toml` and the templates are all
untrusted: each is read with a size limit, YAML and TOML with a nesting limit (checked before a
recursive parser could overflow) and YAML aliases capped by what they expand to (a few lines of
anchors can stand for billions of nodes). Content is limited where it costs time later: characters
per narration line, bullets, code lines and table rows per slide, slides per episode.

A refusal is one line naming the file (and the line, where known), the value, the limit and how to
change it: every limit is a setting of `[limits]` in mediagen.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from mediagen.errors import InputError


class Limits(BaseModel):
    """What a build accepts; each field is a setting of `[limits]` in mediagen.toml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    input_mb: float = Field(2.0, gt=0)  # the Markdown issue (also --max-input-mb)
    sections: int = Field(150, gt=0)  # sections of an issue (also --max-sections)
    episode_mb: float = Field(4.0, gt=0)  # episode.yaml
    lexicon_mb: float = Field(1.0, gt=0)  # lexicon.yaml
    template_kb: float = Field(512.0, gt=0)  # each template file
    template_output_mb: float = Field(20.0, gt=0)  # what one template may render
    nesting: int = Field(40, gt=0)  # levels of YAML/TOML lists and tables
    yaml_nodes: int = Field(200_000, gt=0)  # values in a YAML file, its aliases expanded
    narration_chars: int = Field(5_000, gt=0)  # characters of one narration line
    bullets: int = Field(40, gt=0)  # bullets on one slide
    code_lines: int = Field(500, gt=0)  # lines of one code slide
    table_rows: int = Field(300, gt=0)  # rows of one table slide
    slides: int = Field(1_000, gt=0)  # slides of one episode, continuations included
    lexicon_entries: int = Field(5_000, gt=0)  # entries of one lexicon file

    def refuse(self, where: str, what: str, value: float, key: str) -> InputError:
        """The one-line error for `value` over the limit `key`."""
        return InputError(
            f"{where}: {what} ({_number(value)}), over the limit of {_number(getattr(self, key))} "
            f"({how_to_change(key)})"
        )

    def check(self, where: str, what: str, value: float, key: str) -> None:
        if value > getattr(self, key):
            raise self.refuse(where, what, value, key)


DEFAULT = Limits()
_OPTIONS = {"input_mb": "--max-input-mb", "sections": "--max-sections"}


def how_to_change(key: str) -> str:
    option = f"{_OPTIONS[key]}, or " if key in _OPTIONS else ""
    return f"{option}[limits] {key} in mediagen.toml"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# --- reading files -----------------------------------------------------------------------------------


def read_text(path: Path, key: str, limits: Limits = DEFAULT) -> str:
    """A text file's contents within the size limit `key` (in MB): UTF-8 (a byte order mark is
    dropped), no NUL bytes."""
    return _read_text(path, getattr(limits, key), how_to_change(key))


CONFIG_MB = 1.0  # mediagen.toml itself, read before its [limits] are known


def read_config_text(path: Path) -> str:
    return _read_text(path, CONFIG_MB, "the most mediagen reads of a settings file")


def _read_text(path: Path, megabytes: float, how: str) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size > megabytes * 1_000_000:
        raise InputError(
            f"{path}: {_number(size / 1_000_000)} MB, over the limit of {_number(megabytes)} MB ({how})"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise InputError(f"{path}: binary data, not a text file")
    return text


# --- YAML ------------------------------------------------------------------------------------------------


class _GuardedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit while composing (the composer is recursive), aliases
    refused or allowed, and dates that are not real dates kept as text (`2024-13-45`)."""

    def __init__(self, text: str, name: str, limits: Limits, aliases: bool) -> None:
        super().__init__(text)
        self._name, self._limits, self._aliases, self._depth = name, limits, aliases, 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) and not self._aliases:
            raise InputError(
                f"{self._name}:{event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "accepted in this file; write the value out"
            )
        self._depth += 1
        try:
            if self._depth > self._limits.nesting:
                line = event.start_mark.line + 1
                raise self._limits.refuse(f"{self._name}:{line}", "levels of nesting", self._depth, "nesting")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_GuardedLoader.add_constructor("tag:yaml.org,2002:timestamp", _GuardedLoader.construct_yaml_timestamp)


def load_yaml(
    text: str, name: str, limits: Limits = DEFAULT, *, aliases: bool = False
) -> tuple[Any, yaml.Node | None]:
    """(data, root node) of one YAML document, within the limits; any problem is one InputError."""
    loader = _GuardedLoader(text, name, limits, aliases)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, name, limits)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(f"{name}{line}: {problem}") from None
    except ValueError as exc:  # a value PyYAML cannot build, e.g. an integer of 5,000 digits
        raise InputError(f"{name}: a value cannot be read ({str(exc)[:80]})") from None
    finally:
        loader.dispose()
    return data, node


def _check_expansion(root: yaml.Node, name: str, limits: Limits) -> None:
    """Count the values the document stands for with every alias expanded (each node's expanded size
    is computed once), and refuse an alias that refers to a node containing it (an endless value)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > limits.yaml_nodes:
                line = node.start_mark.line + 1
                raise limits.refuse(
                    f"{name}:{line}", "values, with its aliases expanded", sizes[key], "yaml_nodes"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise InputError(
                f"{name}:{node.start_mark.line + 1}: a YAML alias refers to a value that holds it"
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in _children(node) if id(child) not in sizes]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


# --- TOML ------------------------------------------------------------------------------------------------


def load_toml(text: str, name: str, limits: Limits = DEFAULT) -> dict[str, Any]:
    """A TOML document within the nesting limit (tomllib recurses into nested arrays and inline tables,
    so their depth is counted before it parses); any problem is one InputError."""
    depth = _toml_bracket_depth(text)
    if depth > limits.nesting:
        raise limits.refuse(name, "levels of nesting", depth, "nesting")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: not valid TOML ({exc})") from None
    except ValueError as exc:  # an integer of 5,000 digits
        raise InputError(f"{name}: a value cannot be read ({str(exc)[:80]})") from None
    check_depth(data, name, limits)
    return data


def _toml_bracket_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings and comments."""
    depth = deepest = 0
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = size if end < 0 else end
        elif ch in "\"'":
            i = _string_end(text, i)
            continue
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def _string_end(text: str, start: int) -> int:
    """The index after the TOML string starting at `start` (basic or literal, one line or several)."""
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    i = start + len(delimiter)
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            return i + len(delimiter)
        if delimiter == quote and text[i] == "\n":
            return i
        i += 1
    return len(text)


def check_depth(data: Any, name: str, limits: Limits = DEFAULT) -> None:
    """Refuse data nested deeper than the limit (dotted TOML keys nest without brackets)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.nesting:
            raise limits.refuse(name, "levels of nesting", depth, "nesting")
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list | tuple):
            stack += [(v, depth + 1) for v in value]
