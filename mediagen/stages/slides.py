"""slides: Episode slides -> HTML (Jinja2, sandboxed) -> slides.pdf (WeasyPrint) -> PNG frames (pypdfium2).

A slide whose content does not fit its page is split into a continuation slide and the deck is laid
out again, so nothing overflows; the returned slide list is what the deck really shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from mediagen.confine import Refused, resolve_reference
from mediagen.episode import Slide
from mediagen.errors import InputError, StageError
from mediagen.pages import confined_fetcher
from mediagen.templating import Templates
from mediagen.text import japanese_phrases

THEME = "slides/default"
DECK_TEMPLATE = f"{THEME}/deck.html.j2"
STYLESHEET = f"{THEME}/style.css"
ASPECTS = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
MAX_FIT_PASSES = 6


@dataclass
class Deck:
    slides: list[Slide]
    origins: list[int]  # for each slide shown, the index of the slide it came from (splits share one)
    pdf: bytes
    notes: list[list[str]]  # per input slide: what went wrong with it (refused image, cut overflow)
    warnings: list[str] = field(default_factory=list)  # about the whole deck (refused template fetches)

    def pages_per_input(self) -> list[int]:
        return [self.origins.count(origin) for origin in range(len(self.notes))]


def template_names() -> list[str]:
    return [DECK_TEMPLATE, STYLESHEET]


def deck_text(slides: list[Slide], title: str, templates: Templates) -> str:
    """Every character the deck may draw: the slides, the title and the templates' own text."""
    text = title + "".join(s.model_dump_json() for s in slides)
    return text + "".join(templates.locate(name).read_text(encoding="utf-8") for name in template_names())


def render_deck(
    slides: list[Slide],
    *,
    templates: Templates,
    issue_folder: Path | None,
    lang: str,
    title: str,
    aspect: str,
    fonts: dict[str, Path],
) -> Deck:
    """Lay out the slides, splitting overflowing ones until every slide fits one page."""
    width, height = ASPECTS[aspect]
    notes: list[list[str]] = [[] for _ in slides]
    images = _resolve_images(slides, issue_folder, notes)
    roots = [*templates.paths, *{p.parent for p in fonts.values()}] + ([issue_folder] if issue_folder else [])
    refused: list[str] = []
    fetcher = confined_fetcher(roots, refused)
    clipped: set[int] = set()
    origins = list(range(len(slides)))
    for _ in range(MAX_FIT_PASSES):
        html = templates.render(
            DECK_TEMPLATE,
            slides=[_slide_context(s, images, lang) for s in slides],
            clipped=sorted(clipped),
            lang=lang,
            title=title,
            width=width,
            height=height,
            orientation="portrait" if height > width else "landscape" if width > height else "square",
            stylesheet=templates.locate(STYLESHEET).as_uri(),
            font_regular=fonts["regular"].as_uri(),
            font_bold=fonts["bold"].as_uri(),
        )
        document = _layout(html, fetcher)
        pages = _pages_per_slide(document, len(slides))
        if all(count == 1 for count in pages):
            warnings = [f"slides: refused to fetch {url}" for url in dict.fromkeys(refused)]
            return Deck(slides, origins, document.write_pdf(), notes, warnings)
        slides, origins, clipped = _split_overflowing(slides, origins, pages, clipped, notes)
    raise StageError("slides", "could not fit the slides on their pages")


def _layout(html: str, fetcher: object):
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, base_url=None, url_fetcher=fetcher).render()


def _pages_per_slide(document, count: int) -> list[int]:
    """How many pages each slide's box spans, from the page on which each slide's anchor first appears."""
    first_page: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("slide-"):
                first_page.setdefault(anchor, number)
    starts = sorted(first_page.values())
    if len(starts) != count:
        raise InputError(f"template {DECK_TEMPLATE}: it rendered {len(starts)} slides, expected {count}")
    ends = [*starts[1:], len(document.pages)]
    return [end - start for start, end in zip(starts, ends, strict=True)]


def _split_overflowing(
    slides: list[Slide], origins: list[int], pages: list[int], clipped: set[int], notes: list[list[str]]
) -> tuple[list[Slide], list[int], set[int]]:
    """Split every slide that spans several pages; one that cannot be split is clipped instead."""
    result: list[Slide] = []
    result_origins: list[int] = []
    new_clipped: set[int] = set()
    for index, (slide, origin, count) in enumerate(zip(slides, origins, pages, strict=True)):
        parts = _split(slide) if count > 1 else [slide]
        if index in clipped or (count > 1 and len(parts) == 1):
            new_clipped.add(len(result))
            if index not in clipped:
                notes[origin].append(
                    f"slides: '{slide.title[:40]}' does not fit one page; its overflow is cut off"
                )
        result += parts
        result_origins += [origin] * len(parts)
    return result, result_origins, new_clipped


def _split(slide: Slide) -> list[Slide]:
    """Two slides sharing one slide's content, or the slide alone if it cannot be shared."""
    more = {"continued": True}
    if len(slide.bullets) >= 2:
        half = (len(slide.bullets) + 1) // 2
        return [
            slide.model_copy(update={"bullets": slide.bullets[:half]}),
            slide.model_copy(update={"bullets": slide.bullets[half:], "image": None, **more}),
        ]
    if slide.bullets and slide.image:
        return [slide.model_copy(update={"image": None}), slide.model_copy(update={"bullets": [], **more})]
    if slide.code and slide.code.count("\n") >= 1:
        lines = slide.code.split("\n")
        half = (len(lines) + 1) // 2
        return [
            slide.model_copy(update={"code": "\n".join(lines[:half])}),
            slide.model_copy(update={"code": "\n".join(lines[half:]), **more}),
        ]
    if slide.table and len(slide.table) >= 3:
        header, rows = slide.table[0], slide.table[1:]
        half = (len(rows) + 1) // 2
        return [
            slide.model_copy(update={"table": [header, *rows[:half]]}),
            slide.model_copy(update={"table": [header, *rows[half:]], **more}),
        ]
    return [slide]


def _resolve_images(slides: list[Slide], folder: Path | None, notes: list[list[str]]) -> dict[str, str]:
    """file: URLs of the slide images that lie inside the issue's folder; others are left out."""
    urls: dict[str, str] = {}
    for index, slide in enumerate(slides):
        if not slide.image or slide.image in urls:
            continue
        try:
            urls[slide.image] = image_path(slide.image, folder).as_uri()
        except Refused as exc:
            notes[index].append(f"slides: image refused: {exc}")
    return urls


def image_path(name: str, folder: Path | None) -> Path:
    """The file a slide's image names, confined to the issue's folder (raises Refused otherwise)."""
    if folder is None:
        raise Refused(f"{name}: the issue's folder is unknown")
    return resolve_reference(name, folder, [folder])


def _slide_context(slide: Slide, images: dict[str, str], lang: str) -> dict[str, object]:
    context = slide.model_dump()
    context["image_url"] = images.get(slide.image or "")
    context["title_phrases"] = phrases(slide.title, lang)
    context["bullet_phrases"] = [phrases(bullet, lang) for bullet in slide.bullets]
    context["density"] = density(slide, lang)
    return context


# Characters of bullets (a Japanese character counts double: it is about twice as wide) up to which a
# slide is roomy (its type set larger), and above which it is dense (set smaller, to stay one slide).
ROOMY_CHARS, DENSE_CHARS = 180, 420


def density(slide: Slide, lang: str) -> str:
    """How full a slide's bullets make it: "roomy", "normal" or "dense" (the theme sizes type by it)."""
    chars = sum(len(b) for b in slide.bullets) * (2 if lang == "ja" else 1)
    if slide.image or slide.code or slide.table:
        return "normal"
    if chars <= ROOMY_CHARS and len(slide.bullets) <= 4:
        return "roomy"
    return "dense" if chars > DENSE_CHARS else "normal"


def phrases(text: str, lang: str) -> list[str]:
    """The text in pieces a line may break between: Japanese phrases (see text.japanese_phrases); an
    English text is one piece (it breaks at its spaces)."""
    return japanese_phrases(text) if lang == "ja" else [text]
