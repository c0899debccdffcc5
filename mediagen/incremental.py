"""The stages run through the store (see mediagen.store): per section for the script, per sentence for
the voice and the speech check, per slide for the pictures, per character set for the fonts, per title
for the thumbnail. Only work whose key is not in the cache is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mediagen import pages
from mediagen.cache import Cache
from mediagen.confine import Refused
from mediagen.document import Document
from mediagen.engines.base import ASREngine, TTSEngine
from mediagen.episode import EpisodeSection, Slide
from mediagen.files import sha256_file
from mediagen.layout import check_layout
from mediagen.media.samples import resample
from mediagen.media.wav import quantize, read_wav, wav_bytes
from mediagen.recognition import Heard, recognize
from mediagen.runner import budget
from mediagen.stages import publish, script, slides, voice
from mediagen.store import Store, Work, digest
from mediagen.templating import Templates
from mediagen.voices import Casting

# --- script: one entry per section -------------------------------------------------------------------


def script_work(
    doc: Document,
    unit: script.ScriptUnit,
    lang: str,
    mode: str,
    templates: str,
    llm: str,
    budget: float | None,
) -> Work:
    """A section's script: its text, the language and mode, the prompt and show templates, the model
    (none: the author's key sentences) and, for a length to keep, its budget of words."""
    parts = {"text": digest(repr(sorted(script.unit_inputs(doc, unit).items()))), "lang": lang, "mode": mode}
    parts |= {"template": templates, "engine": llm if mode in ("summary", "dialogue") else ""}
    if budget is not None:
        parts["budget"] = f"{budget:.1f}"
    return Work("script", unit.id, parts)


def script_section(
    work: Work, unit: script.ScriptUnit, scripter: script.Scripter, store: Store
) -> tuple[EpisodeSection, script.ScriptReport]:
    calls = 0  # the model's calls made now (none for a reused section)

    def write() -> dict[str, object]:
        nonlocal calls
        section, report = scripter.write(unit)
        calls = report.llm_calls
        return {
            "section": section.model_dump(mode="json"),
            "fallbacks": report.fallbacks,
            "rejected": report.rejected,
            "replaced": report.replaced,
            "written": report.written,
            "left_out": report.left_out,
        }

    stored = store.memo_json(work, write)
    report = script.ScriptReport(
        llm_calls=calls,
        fallbacks=stored["fallbacks"],
        rejected=stored["rejected"],
        replaced=stored["replaced"],
        written=stored["written"],
        left_out=stored.get("left_out", []),
    )
    return EpisodeSection.model_validate(stored["section"]), report


# --- voice: one entry per sentence -------------------------------------------------------------------


def voice_work(line: voice.Line, lang: str, engine: str, take: int = 1) -> Work:
    parts = {"text": digest(line.spoken), "voice": line.voice or "", "lang": lang, "engine": engine}
    if take > 1:
        parts["take"] = str(take)
    return Work("voice", f"{line.section_id}: {line.text[:40]}", parts)


def voice_pending(lines: list[voice.Line], lang: str, casting: Casting, cache: Cache) -> bool:
    """Whether any line is not in the cache yet (so it is voiced, and heard, afresh); looked up only,
    neither recorded nor counted."""
    return any(
        cache.get_file("voice", voice_work(line, lang, casting.identity(line.voice)).key, ".wav") is None
        for line in lines
    )


def voice_lines(
    lines: list[voice.Line],
    lang: str,
    casting: Casting,
    store: Store,
    on_line: Callable[[], None] | None = None,
    take: int = 1,
) -> tuple[list[np.ndarray], int]:
    """Audio of every line, from the cache where it is there; each voice's engine is loaded only if a
    line of it must be voiced. Lines not in the cache are voiced as many at a time as their engine
    allows (piper: one per core), and each is kept in the cache as soon as it is done, so a build
    stopped halfway loses nothing finished. All clips come back at the first one's sample rate."""
    voiced: list[tuple[np.ndarray, int] | None] = []
    todo: dict[str | None, list[tuple[int, voice.Line, Work]]] = {}
    for number, line in enumerate(lines):
        work = voice_work(line, lang, casting.identity(line.voice), take)
        stored = store.find_file(work, ".wav")
        if stored is not None:
            voiced.append(read_wav(stored))
            if on_line:
                on_line()
        else:
            store.made(work)
            voiced.append(None)
            todo.setdefault(line.voice, []).append((number, line, work))
    for name, items in todo.items():
        tts = casting.engine(name)

        def speak(item: tuple[int, voice.Line, Work], tts: TTSEngine = tts) -> tuple[int, np.ndarray, int]:
            number, line, work = item
            clip = quantize(voice.synthesize_line(tts, line, take))
            store.cache.put_bytes("voice", work.key, ".wav", wav_bytes(clip, tts.sample_rate))
            return number, clip, tts.sample_rate

        for number, clip, clip_rate in budget().map(speak, items, each=tts.call_cores, width=tts.concurrency):
            voiced[number] = (clip, clip_rate)
            if on_line:
                on_line()
    rate = voiced[0][1] if voiced and voiced[0] else 0
    clips = [resample(clip, clip_rate, rate) for clip, clip_rate in voiced]  # type: ignore[misc]
    return clips, rate


# --- qa: what was heard in each take, one entry per voiced clip ---------------------------------------


def qa_work(line: voice.Line, lang: str, casting: Casting, take: int, asr_id: str) -> Work:
    """What `asr_id` heard in one take of a line: the take's voice entry and the recognizer."""
    parts = {"voice": voice_work(line, lang, casting.identity(line.voice), take).key, "asr": asr_id}
    return Work("qa", f"{line.section_id}: {line.text[:40]}", parts)


def heard_lines(
    lines: list[voice.Line],
    clips: list[np.ndarray],
    rate: int,
    lang: str,
    casting: Casting,
    take: int,
    asr_id: str,
    asr: Callable[[], ASREngine],
    store: Store,
) -> list[Heard]:
    """What the recognizer heard in each clip; only clips not heard before are transcribed (together,
    packed into windows), and the recognizer is loaded only then."""
    works = [qa_work(line, lang, casting, take, asr_id) for line in lines]
    heard: list[Heard | None] = []
    for work in works:
        stored = store.find_json(work)
        heard.append(Heard.from_json(stored["words"]) if stored is not None else None)
    todo = [i for i, h in enumerate(heard) if h is None]
    if todo:
        fresh = recognize(asr(), [clips[i] for i in todo], rate, lang)
        for i, result in zip(todo, fresh, strict=True):
            store.made(works[i])
            store.cache.put_json("qa", works[i].key, {"words": result.to_json()})
            heard[i] = result
    return [h for h in heard if h is not None]


# --- slides: one entry per slide (its pages: one, or more when it continues) ---------------------------


@dataclass
class DeckParts:
    """What the deck shows, per slide of the episode: the fitted slides, their pages and pictures."""

    shown: list[list[Slide]]
    pdfs: list[bytes]
    frames: list[Path]
    warnings: list[str]


def slide_work(name: str, slide: Slide, folder: Path | None, template: str, lang: str, aspect: str) -> Work:
    image = ""
    if slide.image:
        try:
            image = sha256_file(slides.image_path(slide.image, folder))[:20]
        except Refused:
            image = "refused"
    parts = {
        "content": digest(slide.model_dump_json()),
        "image": image,
        "template": template,
        "lang": lang,
        "aspect": aspect,
        "fonts": pages.font_identity(),
    }
    return Work("slides", name, parts)


def render_slides(
    named_slides: list[tuple[str, Slide]],
    *,
    title: str,
    lang: str,
    aspect: str,
    folder: Path | None,
    templates: Templates,
    store: Store,
    font_text: str,
    theme: slides.Theme | None = None,
) -> DeckParts:
    """Fit and render the slides that are not in the cache (in one layout pass, with fonts cut to the
    characters of `font_text`), then read every slide's pages and pictures from the cache."""
    theme = theme or slides.Theme()
    template = theme.identity(templates, folder)
    works = [slide_work(name, s, folder, template, lang, aspect) for name, s in named_slides]
    deck_slides = [s for _, s in named_slides]
    missing = [i for i, w in enumerate(works) if store.find_json(w) is None]
    global_warnings: list[str] = []
    if missing:
        todo = [deck_slides[i] for i in missing]
        fonts = deck_fonts(font_text, store)
        deck = slides.render_deck(
            todo,
            templates=templates,
            issue_folder=folder,
            lang=lang,
            title=title,
            aspect=aspect,
            fonts=fonts,
            theme=theme,
        )
        global_warnings = deck.warnings
        size = slides.ASPECTS[aspect]
        pdf_parts = pages.split_pdf(deck.pdf, deck.pages_per_input())
        for position, (index, pdf) in enumerate(zip(missing, pdf_parts, strict=True)):
            shown = [s for s, origin in zip(deck.slides, deck.origins, strict=True) if origin == position]
            notes = deck.notes[position] + deck.warnings + layout_notes(shown[0].title, pdf, size)
            pngs = pages.rasterize(pdf, size)
            page_keys = []
            if len(shown) > 1:
                # A slide that continues on further pages: each page is also stored as the slide it now
                # is, so rendering the episode.yaml written with those slides finds them all (and the
                # slide's entry names them, so `cache prune` keeps them while the slide is in use).
                for slide, page_pdf, png in zip(
                    shown, pages.split_pdf(pdf, [1] * len(shown)), pngs, strict=True
                ):
                    key = slide_work("", slide, folder, template, lang, aspect).key
                    _store_slide(store.cache, key, [slide], page_pdf, [png], notes)
                    page_keys.append(key)
            store.made(works[index])
            _store_slide(store.cache, works[index].key, shown, pdf, pngs, notes, page_keys)
    return _collect_slides(works, store, global_warnings)


def layout_notes(title: str, pdf: bytes, size: tuple[int, int]) -> list[str]:
    """A slide's text outside the safe area or too small to read (see mediagen.layout), as warnings."""
    return [
        f"slides: '{title[:40]}': {problem.text[:40]!r} {problem.what}"
        for problem in check_layout(pdf, size)[:3]
    ]


def _store_slide(
    cache: Cache,
    key: str,
    shown: list[Slide],
    pdf: bytes,
    pngs: list[bytes],
    notes: list[str],
    page_keys: list[str] | None = None,
) -> None:
    """One slide's entry: its pictures and pages first, the index (JSON) last, so a present index means
    a complete entry."""
    for page, png in enumerate(pngs):
        cache.put_bytes("slides", key, f"-{page}.png", png)
    cache.put_bytes("slides", key, ".pdf", pdf)
    index = {"shown": [s.model_dump(mode="json") for s in shown], "notes": notes, "pages": page_keys or []}
    cache.put_json("slides", key, index)


def _collect_slides(works: list[Work], store: Store, warnings: list[str]) -> DeckParts:
    cache = store.cache
    parts = DeckParts([], [], [], list(warnings))
    for work in works:
        stored = cache.get_json("slides", work.key)
        store.ledger.also_used.update(stored.get("pages", []))
        shown = [Slide.model_validate(s) for s in stored["shown"]]
        parts.shown.append(shown)
        parts.pdfs.append(cache.path("slides", work.key, ".pdf").read_bytes())
        parts.frames += [cache.path("slides", work.key, f"-{page}.png") for page in range(len(shown))]
        parts.warnings += [note for note in stored["notes"] if note not in parts.warnings]
    return parts


def font_charset(text: str) -> str:
    return "".join(sorted(set(text + pages.BASE_CHARS)))


def fonts_work(charset: str) -> Work:
    return Work("fonts", "deck fonts", {"charset": digest(charset), "fonts": pages.font_identity()})


def deck_fonts(text: str, store: Store) -> dict[str, Path]:
    """The deck fonts cut to the characters in use, kept in the cache by character set."""
    charset = font_charset(text)
    work = fonts_work(charset)
    paths = {weight: store.cache.path("fonts", work.key, f"-{weight}.otf") for weight in ("regular", "bold")}

    def subset() -> dict[str, Path]:
        for weight, data in pages.subset_fonts(charset).items():
            store.cache.put_bytes("fonts", work.key, f"-{weight}.otf", data)
        return paths

    return store.memo(work, lambda: paths if all(p.is_file() for p in paths.values()) else None, subset)


# --- thumbnail: one entry per title, date and newsletter -------------------------------------------------


def thumbnail_work(facts: dict[str, object], templates: Templates) -> Work:
    """The thumbnail: what it shows, its template and the fonts."""
    template = templates.fingerprint([publish.THUMBNAIL_TEMPLATE])
    shown = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    parts = {"content": digest(shown), "template": template, "fonts": pages.font_identity()}
    return Work("thumbnail", "thumbnail", parts)


def thumbnail(
    facts: dict[str, object], templates: Templates, store: Store, font_text: str
) -> tuple[Path, list[str]]:
    """The episode's thumbnail PNG (in the cache), made only when what it shows or its template changed;
    its fonts are the deck's (cut to the characters of `font_text`); and its template's refused fetches,
    kept with it so that a reused thumbnail warns as the made one did."""
    work = thumbnail_work(facts, templates)
    cache = store.cache

    def load() -> tuple[Path, list[str]] | None:
        png, notes = cache.get_file("thumbnail", work.key, ".png"), cache.get_json("thumbnail", work.key)
        return (png, [str(w) for w in notes.get("warnings", [])]) if png and isinstance(notes, dict) else None

    def make() -> tuple[Path, list[str]]:
        png, warnings = publish.render_thumbnail(facts, templates, deck_fonts(font_text, store))
        cache.put_json("thumbnail", work.key, {"warnings": warnings})
        return cache.put_bytes("thumbnail", work.key, ".png", png), warnings

    return store.memo(work, load, make)
