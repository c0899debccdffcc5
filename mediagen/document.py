"""The Document: what the author wrote, parsed into sections of typed blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: Literal["paragraph"] = "paragraph"


@dataclass(frozen=True)
class ListItem:
    text: str
    children: tuple[ListItem, ...] = ()
    links: tuple[str, ...] = ()  # the text of each link in the item (a reference list is mostly links)


@dataclass(frozen=True)
class ListBlock:
    items: tuple[ListItem, ...]
    ordered: bool = False
    kind: Literal["list"] = "list"


@dataclass(frozen=True)
class Quote:
    text: str
    links: tuple[str, ...] = ()  # the text of each link in the quote
    kind: Literal["quote"] = "quote"


@dataclass(frozen=True)
class Code:
    code: str
    lang: str = ""
    kind: Literal["code"] = "code"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class Image:
    """A picture kept for the slides. `path` is the resolved file, confined to the issue's folder."""

    path: Path
    alt: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class Subheading:
    text: str
    level: int
    kind: Literal["subheading"] = "subheading"


@dataclass(frozen=True)
class Html:
    """Raw HTML from the issue, reduced to its visible text. Neither spoken nor rendered."""

    text: str
    kind: Literal["html"] = "html"


INTRO_ID = "intro"  # the section of text before the first heading


Block = Paragraph | ListBlock | Quote | Code | Table | Image | Subheading | Html


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block]
    links: list[Link]
    source_hash: str


@dataclass
class Document:
    path: Path
    title: str
    meta: dict[str, Any]
    lang: str | None
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent


def meta_value(meta: dict[str, Any], *keys: str) -> Any:
    """First value among `keys`, matching keys case-insensitively (also inside a TOML [extra] table)."""
    lowered = {k.lower(): v for k, v in meta.items()}
    extra = lowered.get("extra") if isinstance(lowered.get("extra"), dict) else {}
    for key in keys:
        for table in (lowered, extra):
            if table.get(key) not in (None, ""):
                return table[key]
    return None
