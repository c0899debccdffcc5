"""slides: Episode slides -> HTML (Jinja2, sandboxed) -> slides.pdf (WeasyPrint) -> PNG frames (pypdfium2).

A slide whose content does not fit its page is split into a continuation slide and the deck is laid
out again, so nothing overflows; the returned slide list is what the deck really shows.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from mediagen.confine import Refused, resolve_reference
from mediagen.episode import Slide
from mediagen.errors import InputError, StageError
from mediagen.files import sha256_file
from mediagen.pages import confined_fetcher
from mediagen.templating import Templates
from mediagen.text import japanese_phrases

DEFAULT_THEME = "default"
THEME = f"slides/{DEFAULT_THEME}"
DECK_TEMPLATE = f"{THEME}/deck.html.j2"  # a theme without a deck.html.j2 of its own uses this one
STYLESHEET = f"{THEME}/style.css"
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
THEME_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")  # as [slides] theme's pattern in mediagen.config
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


@dataclass(frozen=True)
class Theme:
    """A slide theme: the folder slides/NAME/ of the template path (its style.css, and its own
    deck.html.j2 or the default theme's), with the author's touches on top: an accent colour (the CSS
    variable --accent), a logo and a font (files in the issue's folder)."""

    name: str = DEFAULT_THEME
    accent: str | None = None
    logo: str | None = None
    font: str | None = None

    @property
    def stylesheet(self) -> str:
        return f"slides/{self.name}/style.css"

    def deck_template(self, templates: Templates) -> str:
        own = f"slides/{self.name}/deck.html.j2"
        return own if templates.has(own) else DECK_TEMPLATE

    def template_names(self, templates: Templates) -> list[str]:
        """The files the theme's slides are made of: the deck, the default theme's stylesheet (which
        another theme's may import) and the theme's own."""
        return list(dict.fromkeys([self.deck_template(templates), STYLESHEET, self.stylesheet]))

    def identity(self, templates: Templates, folder: Path | None) -> str:
        """What of the theme a slide's picture depends on: its files, the accent, the logo and font
        files' contents (for cache keys)."""
        parts = [self.name, templates.fingerprint(self.template_names(templates)), self.accent or ""]
        for name in (self.logo, self.font):
            try:
                parts.append(sha256_file(image_path(name, folder))[:20] if name else "")
            except Refused:
                parts.append("refused")
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def themes(templates: Templates) -> list[str]:
    """The themes of the template path: each folder slides/NAME/ with a style.css."""
    found = {
        folder.name
        for root in templates.paths
        if (root / "slides").is_dir()
        for folder in (root / "slides").iterdir()
        if (folder / "style.css").is_file() and THEME_NAME.match(folder.name)
    }
    return sorted(found)


def choose_theme(
    templates: Templates,
    name: str | None = None,
    accent: str | None = None,
    logo: str | None = None,
    font: str | None = None,
) -> Theme:
    """The theme asked for (`--theme`, else [slides] theme, else default), checked: a bad name stops the
    build here, with the themes there are."""
    name = name or DEFAULT_THEME
    if not THEME_NAME.match(name) or name not in themes(templates):
        raise InputError(f"--theme {name[:60]}: no such theme (themes: {', '.join(themes(templates))})")
    if font and not font.lower().endswith(FONT_SUFFIXES):
        raise InputError(f"[slides] font {font[:60]}: not a font file ({', '.join(FONT_SUFFIXES)})")
    return Theme(name, accent, logo, font)


def deck_text(slides: list[Slide], title: str, templates: Templates, theme: Theme | None = None) -> str:
    """Every character the deck may draw: the slides, the title and the templates' own text."""
    text = title + "".join(s.model_dump_json() for s in slides)
    names = (theme or Theme()).template_names(templates)
    return text + "".join(templates.locate(name).read_text(encoding="utf-8") for name in names)


def render_deck(
    slides: list[Slide],
    *,
    templates: Templates,
    issue_folder: Path | None,
    lang: str,
    title: str,
    aspect: str,
    fonts: dict[str, Path],
    theme: Theme | None = None,
) -> Deck:
    """Lay out the slides, splitting overflowing ones until every slide fits one page."""
    theme = theme or Theme()
    width, height = ASPECTS[aspect]
    notes: list[list[str]] = [[] for _ in slides]
    images = _resolve_images(slides, issue_folder, notes)
    touches, refusals = _theme_files(theme, issue_folder)
    deck_template = theme.deck_template(templates)
    roots = [*templates.paths, *{p.parent for p in fonts.values()}] + ([issue_folder] if issue_folder else [])
    refused: list[str] = []
    fetcher = confined_fetcher(roots, refused)
    clipped: set[int] = set()
    origins = list(range(len(slides)))

    def html(contexts: list[dict[str, object]], lifts: list[int] | None = None) -> str:
        lifts = lifts or [0] * len(contexts)
        return templates.render(
            deck_template,
            slides=[context | {"lift": lift} for context, lift in zip(contexts, lifts, strict=True)],
            clipped=sorted(clipped),
            lang=lang,
            title=title,
            width=width,
            height=height,
            orientation="portrait" if height > width else "landscape" if width > height else "square",
            stylesheet=templates.locate(theme.stylesheet).as_uri(),
            theme=theme.name,
            accent=theme.accent,
            **touches,
            font_regular=fonts["regular"].as_uri(),
            font_bold=fonts["bold"].as_uri(),
        )

    for _ in range(MAX_FIT_PASSES):
        contexts = [_slide_context(s, images, lang) for s in slides]  # once a pass: phrases cost
        document = _layout(html(contexts), fetcher)
        pages = _pages_per_slide(document, len(slides))
        if all(count == 1 for count in pages):
            lifts = _lifts(document)
            if any(lifts):  # laid out once more, each slide's content moved towards the middle
                lifted = _layout(html(contexts, lifts), fetcher)
                if all(count == 1 for count in _pages_per_slide(lifted, len(slides))):
                    document = lifted
            warnings = refusals + [f"slides: refused to fetch {url}" for url in dict.fromkeys(refused)]
            return Deck(slides, origins, document.write_pdf(), notes, warnings)
        slides, origins, clipped = _split_overflowing(slides, origins, pages, clipped, notes)
    raise StageError("slides", "could not fit the slides on their pages")


# A slide with this much of its page empty below its content (px) has its content moved down by this
# share of the space: to the middle of what the title leaves (the theme's CSS says what moves, by the
# variable --lift).
LIFT_FROM, LIFT_SHARE = 120, 0.5


def _lifts(document) -> list[int]:
    """Per page, how far down its content may move to sit near the middle of the page: measured from
    the laid-out frame (`.frame`) and the page's content area."""
    lifts = []
    for page in document.pages:
        box = page._page_box
        bottom = box.content_box_y() + box.height
        frames = [
            b
            for b in box.descendants()
            if "frame" in (getattr(b, "element", None) or {}).get("class", "").split()
        ]
        if not frames:
            lifts.append(0)
            continue
        frame = frames[0]
        free = bottom - (frame.position_y + frame.margin_height())
        lifts.append(int(free * LIFT_SHARE) if free > LIFT_FROM else 0)
    return lifts


def _theme_files(theme: Theme, folder: Path | None) -> tuple[dict[str, str | None], list[str]]:
    """The file: URLs of the theme's logo and font (in the issue's folder), and what was refused."""
    urls: dict[str, str | None] = {"logo_url": None, "font_url": None}
    refused: list[str] = []
    for key, name in (("logo_url", theme.logo), ("font_url", theme.font)):
        if name:
            try:
                urls[key] = image_path(name, folder).as_uri()
            except Refused as exc:
                refused.append(f"slides: theme {key.split('_')[0]} refused: {exc}")
    return urls, refused


def _layout(html: str, fetcher: object):
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    try:
        return HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, AssertionError) as exc:
        # WeasyPrint's own limits (a rule it cannot lay out yet) met by a theme's CSS: name it.
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise StageError("slides", f"the theme's CSS could not be laid out by WeasyPrint: {reason}") from None


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
    context["quote_phrases"] = phrases(slide.quote or "", lang)
    context["caption_phrases"] = phrases(slide.caption or "", lang)
    context["number_value"], context["number_unit"] = number_parts(slide.number or "")
    context["density"] = density(slide, lang)
    return context


# Characters of bullets (a Japanese character counts double: it is about twice as wide) up to which a
# slide is roomy (its type set larger), and above which it is dense (set smaller, to stay one slide).
ROOMY_CHARS, DENSE_CHARS = 180, 420
QUOTE_ROOMY, QUOTE_DENSE = 90, 150


def density(slide: Slide, lang: str) -> str:
    """How full a slide's bullets make it: "roomy", "normal" or "dense" (the theme sizes type by it)."""
    chars = sum(len(b) for b in slide.bullets) * (2 if lang == "ja" else 1)
    if slide.layout == "quote" and slide.quote:  # a short quote set larger, a long one smaller
        said = len(slide.quote) * (2 if lang == "ja" else 1)
        return "roomy" if said <= QUOTE_ROOMY else "dense" if said > QUOTE_DENSE else "normal"
    if slide.image or slide.code or slide.table:
        return "normal"
    if chars <= ROOMY_CHARS and len(slide.bullets) <= 4:
        return "roomy"
    return "dense" if chars > DENSE_CHARS else "normal"


NUMBER_VALUE = re.compile(r"^\s*([$€£¥]?\d[\d,.]*\s?[%％倍]?)\s*(.*)$")


def number_parts(number: str) -> tuple[str, str]:
    """A figure as its value, set largest, and its unit: "40 milliseconds" -> ("40", "milliseconds")."""
    found = NUMBER_VALUE.match(number)
    return (found.group(1).strip(), found.group(2).strip()) if found else (number, "")


def phrases(text: str, lang: str) -> list[str]:
    """The text in pieces a line may break between: Japanese phrases (see text.japanese_phrases); an
    English text is one piece (it breaks at its spaces)."""
    return japanese_phrases(text) if lang == "ja" else [text]
