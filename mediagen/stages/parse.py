"""parse: Markdown issue -> Document (front matter, sections with stable ids, typed blocks)."""

from __future__ import annotations

import codecs
import hashlib
import html
import re
import unicodedata
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from mediagen.confine import Refused, resolve_reference
from mediagen.document import (
    INTRO_ID,
    Block,
    Code,
    Document,
    Html,
    Image,
    Link,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Section,
    Subheading,
    Table,
    meta_value,
)
from mediagen.errors import InputError
from mediagen.files import issue_stem
from mediagen.front_matter import checked, split_front_matter
from mediagen.limits import DEFAULT, Limits
from mediagen.text import clean_text

IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
MAX_IMAGE_PIXELS = 40_000_000

_HTML_DROP = re.compile(r"<(script|style|iframe|object|template)\b.*?</\1\s*>", re.S | re.I)
_HTML_TAG = re.compile(r"<[^>]*>")


def read_issue(path: Path, limits: Limits = DEFAULT) -> str:
    """Read an issue as text: UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    limits.check(path.name, "file size in MB", path.stat().st_size / 1_000_000, "input_mb")
    raw = path.read_bytes()
    encoding = "utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise InputError(f"{path}: binary data, not a Markdown file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def slugify(text: str) -> str:
    """A stable, readable id: NFKC, lower case, letters and digits of any script joined by '-'."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\w]+", "-", text).strip("-_") or "section"


# CommonMark leaves emphasis open where its closing `**` sits between punctuation and a letter, as
# Japanese writes it with no space: "**[名前](url)**になる" keeps both markers as text, which a voice
# would read and a slide show. A pair of them left in one paragraph is taken off (not in code).
_LEFT_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


class _Inline:
    """Plain text of an inline node, with the links and images it holds."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.code = False  # whether any code span holds an asterisk
        self.links: list[Link] = []
        self.images: list[tuple[str, str]] = []

    def walk(self, node: SyntaxTreeNode) -> _Inline:
        for child in node.children:
            self._visit(child)
        return self

    def _visit(self, node: SyntaxTreeNode) -> None:
        kind = node.type
        if kind == "text" or kind == "code_inline":
            self.parts.append(node.content)
            self.code = self.code or (kind == "code_inline" and "*" in node.content)
        elif kind in ("softbreak", "hardbreak"):
            self.parts.append("\n")  # a space, or nothing between Japanese (see clean_text)
        elif kind == "image":
            alt = "".join(c.content for c in node.children if c.type == "text")
            self.images.append((str(node.attrs.get("src", "")), alt))
        elif kind == "link":
            start = len(self.parts)
            self.walk(node)
            text = clean_text("".join(self.parts[start:]))
            self.links.append(Link(text=text, url=str(node.attrs.get("href", ""))))
        elif kind == "html_inline":
            return
        else:
            self.walk(node)

    @property
    def text(self) -> str:
        text = "".join(self.parts)
        return clean_text(text if self.code else _LEFT_STRONG.sub(r"\1", text))


MAX_TITLE_CHARS = 150


def clip_title(title: str, warnings: list[str]) -> str:
    """Titles go on slides, thumbnails and tags: one that would fill a page is cut, with a warning."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    warnings.append(f"a title of {len(title)} characters was cut to {MAX_TITLE_CHARS}: {title[:40]!r}…")
    cut = (
        title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
        if " " in title[:MAX_TITLE_CHARS]
        else title[:MAX_TITLE_CHARS]
    )
    return cut.rstrip(" ,;:-") + "…"


def html_visible_text(markup: str) -> str:
    markup = re.sub(r"<!--.*?(-->|$)", " ", markup, flags=re.S)
    markup = _HTML_DROP.sub(" ", markup)
    return clean_text(html.unescape(_HTML_TAG.sub(" ", markup)))


class _BlockReader:
    """Turns the markdown-it syntax tree into blocks and headings, resolving local images."""

    def __init__(self, folder: Path, warnings: list[str]) -> None:
        self.folder = folder
        self.warnings = warnings

    def image(self, src: str, alt: str) -> Image | None:
        try:
            path = resolve_reference(src, self.folder, [self.folder])
            _check_image(path)
        except Refused as exc:
            self.warnings.append(f"image refused: {exc}")
            return None
        return Image(path=path, alt=alt)

    def inline_blocks(self, inline: _Inline, make: type[Paragraph] | type[Quote]) -> list[Block]:
        blocks: list[Block] = [make(text=inline.text)] if inline.text else []
        for src, alt in inline.images:
            image = self.image(src, alt)
            if image:
                blocks.append(image)
        return blocks

    def list_items(self, node: SyntaxTreeNode, links: list[Link]) -> tuple[ListItem, ...]:
        items = []
        for item in node.children:
            texts, children, cited = [], (), []
            for child in item.children:
                if child.type in ("bullet_list", "ordered_list"):
                    children = children + self.list_items(child, links)
                elif child.type == "paragraph":
                    inline = _Inline().walk(child.children[0])
                    links.extend(inline.links)
                    cited += [link.text for link in inline.links if link.text]
                    texts.append(inline.text)
            text = clean_text(" ".join(texts))
            if text or children:
                items.append(ListItem(text=text, children=children, links=tuple(cited)))
        return tuple(items)

    def table(self, node: SyntaxTreeNode, links: list[Link]) -> Table:
        rows: list[tuple[str, ...]] = []
        for part in node.children:
            for row in part.children:
                cells = []
                for cell in row.children:
                    inline = _Inline().walk(cell.children[0]) if cell.children else _Inline()
                    links.extend(inline.links)
                    cells.append(inline.text)
                rows.append(tuple(cells))
        header, body = (rows[0], rows[1:]) if rows else ((), [])
        return Table(header=header, rows=tuple(body))


def _check_image(path: Path) -> None:
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as img:
            fmt, (width, height) = img.format, img.size
    except (OSError, ValueError, PILImage.DecompressionBombError):
        raise Refused(f"{path.name}: not a readable image") from None
    if fmt not in IMAGE_FORMATS:
        raise Refused(f"{path.name}: unsupported image format {fmt}")
    if width * height > MAX_IMAGE_PIXELS:
        raise Refused(f"{path.name}: image too large ({width}×{height} pixels)")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    # markdown-it leaves `file:` or `javascript:` targets as literal text, which would then be read out;
    # parse every target as a link or image instead: URLs are never spoken and images are confined.
    md.validateLink = lambda url: True
    return md


# Emphasis, links and the like nest as deep as the text says; markdown-it's tree (and our walk of it)
# recurse per level. Deeper than this, the markup is dropped and its text kept.
MAX_INLINE_NESTING = 24


def _capped_nesting(tokens: list) -> list:
    """The tokens with inline markup nested deeper than MAX_INLINE_NESTING flattened to its text."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        kept, opened = [], []  # per open tag: whether it was dropped
        for child in token.children:
            if child.nesting == 1:
                opened.append(len(opened) >= MAX_INLINE_NESTING)
                if opened[-1]:
                    continue
            elif child.nesting == -1 and opened and opened.pop():
                continue
            kept.append(child)
        token.children = kept
    return tokens


def _split_level(levels: list[int]) -> int:
    """The heading level that starts sections: the top level, or the next one if the top is used once."""
    if not levels:
        return 0
    top = min(levels)
    deeper = sorted({level for level in levels if level > top})
    if levels.count(top) == 1 and deeper:
        return deeper[0]
    return top


def _heading_level(node: SyntaxTreeNode) -> int:
    return int(node.tag[1])


def parse_issue(path: Path, limits: Limits = DEFAULT) -> Document:
    """Parse an issue file into a Document."""
    text = read_issue(path, limits)
    warnings: list[str] = []
    meta, body = split_front_matter(text, path.name, limits)
    meta = checked(meta, path.name, warnings, limits)
    reader = _BlockReader(path.parent.resolve(), warnings)
    root = SyntaxTreeNode(_capped_nesting(_markdown().parse(body)))
    nodes = list(root.children)
    levels = [_heading_level(n) for n in nodes if n.type == "heading"]
    split = _split_level(levels)

    title_heading = _title_heading(nodes, levels, split, meta_value(meta, "title"))

    body_lines = body.split("\n")
    sections: list[Section] = []
    ids: dict[str, int] = {}
    current = _SectionBuilder(INTRO_ID, "", 0)
    for node in nodes:
        if node is title_heading:
            current.start_line = node.map[1] if node.map else 0
            continue
        if node.type == "heading" and _heading_level(node) <= split:
            sections.append(current.finish(body_lines))
            heading = _Inline().walk(node.children[0])
            title = clip_title(heading.text, warnings) or f"Section {len(sections)}"
            current = _SectionBuilder(_unique_id(slugify(title), ids), title, node.map[0] if node.map else 0)
            current.links.extend(heading.links)
            continue
        current.add(node, reader)
    sections.append(current.finish(body_lines))
    sections = [s for s in sections if s.id != INTRO_ID or s.blocks]

    title = meta_value(meta, "title")
    if not title and title_heading is not None:
        title = _Inline().walk(title_heading.children[0]).text
    lang = meta_value(meta, "lang", "language", "locale")
    return Document(
        path=path.resolve(),
        title=clip_title(clean_text(str(title)), warnings) if title else _title_from_name(path),
        meta=meta,
        lang=str(lang) if lang else None,
        sections=sections,
        warnings=warnings,
    )


def _title_heading(
    nodes: list[SyntaxTreeNode], levels: list[int], split: int, meta_title: Any
) -> SyntaxTreeNode | None:
    """The issue's own title: a first heading alone at the top level that the front matter does not
    contradict (a front-matter title makes a different lone heading a section)."""
    first = next((n for n in nodes if not _is_invisible(n)), None)
    if first is None or first.type != "heading" or levels.count(min(levels)) != 1:
        return None
    if meta_title and _Inline().walk(first.children[0]).text != clean_text(str(meta_title)):
        return None
    is_top = _heading_level(first) == min(levels)
    return first if is_top and (split != min(levels) or len(levels) == 1) else None


def _is_invisible(node: SyntaxTreeNode) -> bool:
    return (node.type == "html_block" and not html_visible_text(node.content)) or node.type == "hr"


def _unique_id(base: str, seen: dict[str, int]) -> str:
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", issue_stem(path)).strip().capitalize() or "Untitled"


class _SectionBuilder:
    def __init__(self, section_id: str, title: str, start_line: int) -> None:
        self.id = section_id
        self.title = title
        self.start_line = start_line
        self.end_line = start_line
        self.blocks: list[Block] = []
        self.links: list[Link] = []

    def add(self, node: SyntaxTreeNode, reader: _BlockReader) -> None:
        if node.map:
            self.end_line = max(self.end_line, node.map[1])
        self.blocks.extend(self._blocks(node, reader))

    def _blocks(self, node: SyntaxTreeNode, reader: _BlockReader) -> list[Block]:
        kind = node.type
        if kind == "paragraph":
            inline = _Inline().walk(node.children[0])
            self.links.extend(inline.links)
            return reader.inline_blocks(inline, Paragraph)
        if kind == "heading":
            inline = _Inline().walk(node.children[0])
            self.links.extend(inline.links)
            return [Subheading(text=inline.text, level=_heading_level(node))] if inline.text else []
        if kind in ("bullet_list", "ordered_list"):
            items = reader.list_items(node, self.links)
            return [ListBlock(items=items, ordered=kind == "ordered_list")] if items else []
        if kind == "blockquote":
            inner: list[Block] = []
            known = len(self.links)
            for child in node.children:
                inner.extend(self._blocks(child, reader))
            text = clean_text(" ".join(b.text for b in inner if isinstance(b, Paragraph)))
            cited = tuple(link.text for link in self.links[known:] if link.text)
            return ([Quote(text=text, links=cited)] if text else []) + [
                b for b in inner if not isinstance(b, Paragraph)
            ]
        if kind in ("fence", "code_block"):
            code = node.content.rstrip("\n")
            return (
                [Code(code=code, lang=(node.info or "").split()[0] if node.info else "")]
                if code.strip()
                else []
            )
        if kind == "table":
            return [reader.table(node, self.links)]
        if kind == "html_block":
            text = html_visible_text(node.content)
            return [Html(text=text)] if text else []
        return []

    def finish(self, body_lines: list[str]) -> Section:
        source = "\n".join(body_lines[self.start_line : self.end_line])
        digest = hashlib.sha256(f"{self.title}\n{source}".encode()).hexdigest()[:16]
        return Section(id=self.id, title=self.title, blocks=self.blocks, links=self.links, source_hash=digest)
