"""publish: what makes an episode publishable besides its media: chapters, show notes, a thumbnail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediagen.document import meta_value
from mediagen.episode import Episode
from mediagen.errors import InputError
from mediagen.front_matter import NEWSLETTER_KEYS, PEOPLE_KEYS
from mediagen.media.chapters import Chapter, clock
from mediagen.pages import confined_fetcher, rasterize
from mediagen.templating import Templates
from mediagen.timeline import Voiceover

THUMBNAIL_TEMPLATE = "thumbnail/default/thumbnail.html.j2"
SHOW_NOTES = ("show-notes/show-notes.md.j2", "show-notes/show-notes.html.j2")
THUMBNAIL_SIZE = (1280, 720)
SUMMARY_CHARS = 400
LINK_SCHEMES = ("http", "https", "mailto")


def chapters(voiceover: Voiceover) -> list[Chapter]:
    return [Chapter(s.title, s.start, s.end) for s in voiceover.sections]


def episode_facts(episode: Episode, newsletter: str | None = None) -> dict[str, Any]:
    """Title, newsletter, date, author and a short summary, from the front matter and the introduction."""
    meta = episode.meta
    author = meta_value(meta, *PEOPLE_KEYS)
    summary = meta_value(meta, "summary", "description")
    if not summary:
        intro = episode.sections[0].narration[1:] if episode.sections[0].id == "intro" else []
        summary = ("" if episode.lang == "ja" else " ").join(line.text for line in intro)
        if len(summary) > SUMMARY_CHARS:
            summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return {
        "title": episode.title,
        "newsletter": str(meta_value(meta, *NEWSLETTER_KEYS) or newsletter or ""),
        "date": str(meta_value(meta, "date") or "")[:10],
        "author": ", ".join(map(str, author)) if isinstance(author, list) else str(author or ""),
        "summary": str(summary or ""),
        "lang": episode.lang,
        "hosts": [speaker.name for speaker in episode.speakers.values()],
    }


def show_notes(
    episode: Episode, voiceover: Voiceover, facts: dict[str, Any], templates: Templates
) -> tuple[str, str]:
    """(Markdown, HTML) show notes: title, summary, each section with its start time and its links."""
    links = {
        s.id: [link for link in s.links if urlsplit(link.url).scheme in LINK_SCHEMES]
        for s in episode.sections
    }
    sections = [
        {
            "title": span.title,
            "start": clock(span.start),
            "start_s": round(span.start, 3),
            "links": links.get(span.id, []),
        }
        for span in voiceover.sections
    ]
    markdown, html = (templates.render(name, sections=sections, **facts) for name in SHOW_NOTES)
    return markdown.strip() + "\n", html


def thumbnail_text(facts: dict[str, Any], templates: Templates) -> str:
    """Every character the thumbnail may draw: what it shows and its template's own text."""
    shown = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return shown + templates.locate(THUMBNAIL_TEMPLATE).read_text(encoding="utf-8")


def render_thumbnail(
    facts: dict[str, Any], templates: Templates, fonts: dict[str, Path]
) -> tuple[bytes, list[str]]:
    """The thumbnail as PNG bytes, exactly 1280×720, and a warning for each fetch its template was refused
    (as the slides stage gives them)."""
    from weasyprint import HTML

    refused: list[str] = []
    fetcher = confined_fetcher([*templates.paths, *{p.parent for p in fonts.values()}], refused)
    html = templates.render(
        THUMBNAIL_TEMPLATE, font_regular=fonts["regular"].as_uri(), font_bold=fonts["bold"].as_uri(), **facts
    )
    pictures = rasterize(HTML(string=html, url_fetcher=fetcher).write_pdf(), THUMBNAIL_SIZE)
    if len(pictures) != 1:
        raise InputError(f"template {THUMBNAIL_TEMPLATE}: it made {len(pictures)} pages, expected 1")
    return pictures[0], [f"thumbnail: refused to fetch {url}" for url in dict.fromkeys(refused)]
