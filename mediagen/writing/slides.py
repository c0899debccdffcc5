"""The slides a section shows: its bullets, images, code and tables (long ones continued on further
slides), or in verbatim mode one slide per sub-heading part, following the prose."""

from __future__ import annotations

from pathlib import Path

from mediagen.document import Code, Image, Section, Subheading, Table
from mediagen.episode import Slide
from mediagen.writing import extract

# Long content is spread over continuation slides here already (the deck splits further what does not
# fit): a Markdown list, code block or table of any length never makes one slide over the limits.
SLIDE_BULLETS = 12
SLIDE_CODE_LINES = 60
SLIDE_TABLE_ROWS = 30


def content_slides(section: Section, title: str, bullets: list[str], folder: Path) -> list[Slide]:
    images = [b for b in section.blocks if isinstance(b, Image)]
    slides: list[Slide] = []
    if bullets or images:
        first_image = relative(images[0].path, folder) if images else None
        for n, part in enumerate(_chunks(bullets, SLIDE_BULLETS) or [[]]):
            slides.append(Slide(title=title, bullets=part, image=None if n else first_image, continued=n > 0))
    slides += [Slide(title=title, image=relative(image.path, folder)) for image in images[1:]]
    for block in section.blocks:
        if isinstance(block, Code):
            for n, lines in enumerate(_chunks(block.code.split("\n"), SLIDE_CODE_LINES)):
                code = "\n".join(lines)
                slides.append(
                    Slide(
                        layout="code", title=title, code=code, code_lang=block.lang or None, continued=n > 0
                    )
                )
        elif isinstance(block, Table):
            for n, rows in enumerate(_chunks([list(r) for r in block.rows], SLIDE_TABLE_ROWS) or [[]]):
                slides.append(
                    Slide(layout="table", title=title, table=[list(block.header), *rows], continued=n > 0)
                )
    return slides


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def verbatim_slides(section: Section, title: str, folder: Path, lang: str) -> list[Slide]:
    """Slides that follow the prose: one per sub-heading part, showing its list items (as whole phrases)
    or its key sentences."""
    slides: list[Slide] = []
    for heading, blocks in _parts(section):
        part = Section(id=section.id, title=heading or title, blocks=blocks, links=[], source_hash="")
        found = extract.material(part, lang)
        if found.items >= len(found.sentences) - sum(u.from_list for u in found.sentences):
            items = [u.text for u in found.sentences if u.from_list] + found.phrases
            bullets = list(dict.fromkeys(b for b in (extract.phrase(i, lang) for i in items) if b))
        else:
            bullets = extract.bullets(found, title, lang)
        for slide in content_slides(part, title, bullets, folder):
            slides.append(slide.model_copy(update={"subtitle": heading}) if heading else slide)
    return slides


def _parts(section: Section) -> list[tuple[str | None, list]]:
    """The section's blocks grouped under their sub-headings (the first group has none)."""
    parts: list[tuple[str | None, list]] = [(None, [])]
    for block in section.blocks:
        if isinstance(block, Subheading):
            parts.append((block.text, []))
        else:
            parts[-1][1].append(block)
    return [(heading, blocks) for heading, blocks in parts if blocks]


def relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder.resolve()).as_posix()
