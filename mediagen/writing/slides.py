"""The slides a section shows: its bullets, images, code and tables (long ones continued on further
slides), or in verbatim mode one slide per sub-heading part, following the prose."""

from __future__ import annotations

import re
from pathlib import Path

from mediagen.document import Code, Image, Paragraph, Quote, Section, Subheading, Table
from mediagen.episode import Slide
from mediagen.writing import extract

# Long content is spread over continuation slides here already (the deck splits further what does not
# fit): a Markdown list, code block or table of any length never makes one slide over the limits.
SLIDE_BULLETS = 12
SLIDE_CODE_LINES = 60
SLIDE_TABLE_ROWS = 30
# A quote gets a slide of its own up to this long (characters; a Japanese one counts double), longer
# ones stay in the narration and the bullets.
QUOTE_CHARS = 240
# A figure worth a slide of its own: a number with a unit or a percent sign ("40 milliseconds",
# "8 dollars", "3 weeks", "99.9 %", "2倍", "40ミリ秒").
FIGURE = re.compile(
    r"(?<![0-9A-Za-z.,])(?:[$€£¥])?\d[\d,.]*\s?(?:%|percent|x\b|times|ms\b|milliseconds?|seconds?|minutes?|hours?|"
    r"days?|weeks?|months?|years?|[KMGT]B\b|megabytes?|gigabytes?|dollars?|euros?|yen|"
    r"倍|割|パーセント|％|ミリ秒|秒|分|時間|日|週間|か月|ヶ月|年|円|ドル|万人|万円|億円|件|人|万|億)",
    re.IGNORECASE,
)
YEAR = re.compile(r"(19|20)\d\d\s?年")  # a date ("2024年"), not a figure
NUMBER_BULLETS = 2  # a section of at most this many bullets, one of them a figure, shows it large


def content_slides(section: Section, title: str, bullets: list[str], folder: Path) -> list[Slide]:
    """The section's slides, each laid out for what it shows: bullets (beside the first picture, in two
    columns), a figure set large, a quote, each further picture filling its page, code and tables."""
    images = [b for b in section.blocks if isinstance(b, Image)]
    slides: list[Slide] = []
    figure = _figure(bullets)
    if figure is not None and not images:
        number, caption = figure
        rest = [b for b in bullets if b != caption]
        slides.append(Slide(layout="number", title=title, number=number, caption=caption, bullets=rest))
    elif bullets:
        first_image = relative(images[0].path, folder) if images else None
        for n, part in enumerate(_chunks(bullets, SLIDE_BULLETS)):
            slides.append(Slide(title=title, bullets=part, image=None if n else first_image, continued=n > 0))
    pictures = images[1:] if bullets and slides and slides[0].image else images
    slides += [
        Slide(layout="image", title=title, image=relative(image.path, folder), caption=image.alt or None)
        for image in pictures
    ]
    for n, block in enumerate(section.blocks):
        after = section.blocks[n + 1] if n + 1 < len(section.blocks) else None
        if isinstance(block, Quote) and _quotable(block):
            slides.append(Slide(layout="quote", title=title, quote=block.text, caption=_attribution(after)))
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


def _figure(bullets: list[str]) -> tuple[str, str] | None:
    """The figure a short list of bullets is about, and its bullet: the first figure of the first bullet
    that has one, if the list is short enough to show it large."""
    if not bullets or len(bullets) > NUMBER_BULLETS:
        return None
    for bullet in bullets:
        for found in FIGURE.finditer(bullet):
            figure = found.group(0).strip()
            if len(figure) <= 24 and not YEAR.fullmatch(figure):
                return figure, bullet
    return None


def _quotable(quote: Quote) -> bool:
    """A quote worth a slide: short enough, and words rather than links (a quoted line that names a
    file to download is not a quote)."""
    wide = sum(1 for c in quote.text if ord(c) > 0x2E80)
    linked = sum(len(text) for text in quote.links)
    return 0 < len(quote.text) + wide <= QUOTE_CHARS and linked <= 0.3 * len(quote.text)


ATTRIBUTION = re.compile(r"^\s*[–—―-]{1,2}\s*(\S.{0,80})$")


def _attribution(block: object) -> str | None:
    """Who said a quote: the paragraph after it, when it is a dash and a name ("– Teufelchen on …")."""
    if isinstance(block, Paragraph):
        found = ATTRIBUTION.match(block.text)
        if found:
            return found.group(1).strip()
    return None


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
