"""script: Document -> Episode. What is said (narration sentences) and shown (slides), per section.

`summary` mode asks the LLM for narration and bullets (few-shot prompt, JSON grammar), checks every
item against the section, retries once with a second prompt, and otherwise falls back to a
deterministic extractive summary, flagged in the episode. `verbatim` mode narrates the author's prose.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from mediagen.document import (
    INTRO_ID,
    Code,
    Document,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Section,
    Subheading,
    Table,
    meta_value,
)
from mediagen.engines.base import LLMEngine
from mediagen.episode import Episode, EpisodeSection, Link, Narration, Slide
from mediagen.templating import Templates
from mediagen.text import (
    content_words,
    ensure_sentence_end,
    grounding,
    split_sentences,
    unsupported_names,
    unsupported_numbers,
    word_count,
)

Mode = Literal["summary", "verbatim"]
FLAG_FALLBACK = "extractive-fallback"
PROMPTS = ("prompts/summary.{lang}.j2", "prompts/summary-retry.{lang}.j2")
MIN_GROUNDING = 0.75
NARRATION_WORDS = (4, 40)
BULLET_WORDS = (2, 14)
SUMMARY_BUDGET_WORDS = 70
PROMPT_SOURCE_CHARS = {"en": 1600, "ja": 700}
MAX_BULLETS = 5
LLM_SCHEMA = {
    "type": "object",
    "properties": {
        "narration": {
            "type": "array",
            "items": {"type": "string", "maxLength": 200},
            "minItems": 2,
            "maxItems": 4,
        },
        "bullets": {
            "type": "array",
            "items": {"type": "string", "maxLength": 70},
            "minItems": 3,
            "maxItems": 5,
        },
    },
    "required": ["narration", "bullets"],
}
_LEADING_CONNECTIVE = re.compile(
    r"^(?:tl;dr|however|so|for example|in any case|also|then|still|finally|in short|note that)\s*[:,]\s*",
    re.I,
)
_PHRASE_STARTS = frozenset(
    "in on at for with and but or so when while by from into after before because".split()
)
_PARENTHETICAL = re.compile(r"\s*[(（][^()（）]*[)）]")


@dataclass
class ScriptReport:
    """What the script stage decided, for report.json and the end-of-build summary."""

    llm_calls: int = 0
    fallbacks: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # The grounding guard's work: each LLM item it refused, why, and what took its place (None: dropped).
    replaced: list[dict[str, str | None]] = field(default_factory=list)

    def add(self, other: ScriptReport) -> None:
        self.llm_calls += other.llm_calls
        self.fallbacks += other.fallbacks
        self.rejected += other.rejected
        self.replaced += other.replaced


@dataclass(frozen=True)
class ScriptUnit:
    """One episode section to write: the introduction (title + text before the first heading) or a section."""

    id: str
    section: Section | None


def script_units(doc: Document) -> list[ScriptUnit]:
    intro = next((s for s in doc.sections if s.id == INTRO_ID), None)
    return [ScriptUnit(INTRO_ID, intro)] + [ScriptUnit(s.id, s) for s in doc.sections if s.id != INTRO_ID]


def unit_inputs(doc: Document, unit: ScriptUnit) -> dict[str, str]:
    """Everything of the document a unit's episode section depends on (for cache keys). Images count
    by their name in the issue's folder, so moving the folder does not change the key."""
    blocks = unit.section.blocks if unit.section else []
    portable = [_relative(b.path, doc.folder) if isinstance(b, Image) else b for b in blocks]
    inputs = {"title": unit.section.title if unit.section else "", "blocks": repr(portable)}
    if unit.id == INTRO_ID:
        inputs |= {"doc_title": doc.title, "byline": _byline(doc)}
    return inputs


class Scripter:
    """Writes the episode one section at a time; the LLM is loaded only when a section needs it."""

    def __init__(
        self,
        doc: Document,
        lang: str,
        mode: Mode,
        llm: Callable[[], LLMEngine] | None = None,
        prompts: Templates | None = None,
    ) -> None:
        if mode == "summary" and (llm is None or prompts is None):
            raise ValueError("summary mode needs an LLM and prompt templates")
        self.doc, self.lang, self.mode = doc, lang, mode
        self._llm_factory, self._llm, self.prompts = llm, None, prompts

    def write(self, unit: ScriptUnit) -> tuple[EpisodeSection, ScriptReport]:
        report = ScriptReport()
        if unit.id == INTRO_ID:
            return self._intro(unit.section, report), report
        section = unit.section
        said, slides, flags = self._said_and_shown(section, section.title, report)
        narration = [ensure_sentence_end(section.title, self.lang), *said]
        return EpisodeSection(
            id=section.id,
            title=section.title,
            source_hash=section.source_hash,
            flags=flags,
            links=cited_links(section),
            narration=[Narration(text=text) for text in narration],
            slides=slides or [Slide(title=section.title)],
        ), report

    def episode(self, sections: list[EpisodeSection]) -> Episode:
        return Episode(title=self.doc.title, lang=self.lang, meta=self.doc.meta, sections=sections)

    def _intro(self, intro: Section | None, report: ScriptReport) -> EpisodeSection:
        doc = self.doc
        narration = [ensure_sentence_end(doc.title, self.lang)]
        slides = [Slide(layout="title", title=doc.title, subtitle=_byline(doc) or None)]
        flags: list[str] = []
        if intro is not None:
            said, shown, flags = self._said_and_shown(intro, doc.title, report)
            narration += said
            slides += shown
        return EpisodeSection(
            id=INTRO_ID,
            title=doc.title,
            source_hash=intro.source_hash if intro else None,
            flags=flags,
            links=cited_links(intro) if intro else [],
            narration=[Narration(text=text) for text in narration],
            slides=slides,
        )

    def _said_and_shown(
        self, section: Section, title: str, report: ScriptReport
    ) -> tuple[list[str], list[Slide], list[str]]:
        """(narration sentences, slides, flags): the author's prose, or a checked summary."""
        folder = self.doc.folder
        if self.mode == "verbatim":
            return (
                prose_sentences(section, self.lang),
                _verbatim_slides(section, title, folder, self.lang),
                [],
            )
        said, bullets, flags = self._summarize(section, report)
        return said, _content_slides(section, title, bullets, folder), flags

    def _summarize(self, section: Section, report: ScriptReport) -> tuple[list[str], list[str], list[str]]:
        """LLM narration and bullets, each item checked against the section (the grounding guard):
        refused items are replaced by extractive ones from the section. A reply with nothing usable is
        retried once with a second prompt; then the whole section is extractive (flagged)."""
        sentences = prose_sentences(section, self.lang)
        if not sentences:
            return [], [], []
        source = " ".join(sentences)
        for template in PROMPTS:
            prompt = self.prompts.render(
                template.format(lang=self.lang), title=section.title, text=_clip(source, self.lang)
            ).rstrip()
            report.llm_calls += 1
            engine = self.llm  # a model that cannot be loaded stops the build (a clear error)
            try:
                reply = engine.complete(prompt, json_schema=LLM_SCHEMA, max_tokens=320)
            except Exception as exc:  # an engine may fail in many ways; the section still gets a script
                report.rejected.append(f"{section.id}: the LLM failed: {type(exc).__name__}: {exc}"[:200])
                continue
            checked = check_llm_reply(reply, source, self.lang, enough=min(2, len(sentences)))
            report.rejected += [f"{section.id}: {reason}" for reason in checked.rejected]
            if checked.ok:
                return self._guarded(section, checked, report)
        report.fallbacks.append(section.id)
        return (
            extractive_narration(section, self.lang),
            extractive_bullets(section, self.lang),
            [FLAG_FALLBACK],
        )

    def _guarded(
        self, section: Section, checked: CheckedReply, report: ScriptReport
    ) -> tuple[list[str], list[str], list[str]]:
        """The checked reply with each refused item replaced from the section: a refused bullet by the
        next extractive bullet not shown yet, a refused sentence by the next key sentence not said yet
        (or dropped when none is left). Each case goes into the report."""
        narration, bullets = list(checked.narration), list(checked.bullets)
        spare_sentences = [s for s in extractive_narration(section, self.lang) if s not in narration]
        spare_bullets = [b for b in extractive_bullets(section, self.lang) if b not in bullets]
        for refusal in checked.refusals:
            spare = spare_bullets if refusal.kind == "bullet" else spare_sentences
            taken = _unlike(spare, narration + bullets, self.lang)
            if taken is not None:
                (bullets if refusal.kind == "bullet" else narration).append(taken)
            report.replaced.append(
                {
                    "section": section.id,
                    "kind": refusal.kind,
                    "item": refusal.item,
                    "reason": refusal.reason,
                    "replacement": taken,
                }
            )
        return narration, bullets[:MAX_BULLETS], []

    @property
    def llm(self) -> LLMEngine:
        if self._llm is None:
            self._llm = self._llm_factory()
        return self._llm


def write_script(
    doc: Document,
    lang: str,
    mode: Mode,
    llm: Callable[[], LLMEngine] | None = None,
    prompts: Templates | None = None,
) -> tuple[Episode, ScriptReport]:
    """The whole Episode for a document, section by section (the pipeline does the same, cached)."""
    scripter = Scripter(doc, lang, mode, llm, prompts)
    report = ScriptReport()
    sections = []
    for unit in script_units(doc):
        section, unit_report = scripter.write(unit)
        sections.append(section)
        report.add(unit_report)
    return scripter.episode(sections), report


def cited_links(section: Section) -> list[Link]:
    """The section's web and mail links, each once, for the show notes."""
    seen: dict[str, Link] = {}
    for link in section.links:
        if urlsplit(link.url).scheme in ("http", "https", "mailto") and link.url not in seen:
            seen[link.url] = Link(text=link.text or link.url, url=link.url)
    return list(seen.values())


def _byline(doc: Document) -> str:
    """The title slide's subtitle: newsletter, author(s) and date, as the front matter gives them."""
    parts = []
    for keys in (("newsletter", "category", "series"), ("author", "authors"), ("date",)):
        value = meta_value(doc.meta, *keys)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value:
            parts.append(str(value)[:80])
    return " · ".join(parts)


# --- the author's prose, as sentences ------------------------------------------------------------


def prose_sentences(section: Section, lang: str) -> list[str]:
    """Every sentence the author wrote in prose, lists and quotes, in order (code and tables excluded)."""
    sentences: list[str] = []
    for block in section.blocks:
        if isinstance(block, Paragraph | Quote):
            sentences += split_sentences(block.text, lang)
        elif isinstance(block, Subheading):
            sentences.append(ensure_sentence_end(block.text, lang))
        elif isinstance(block, ListBlock):
            sentences += [
                ensure_sentence_end(s, lang)
                for item in _flatten(block.items)
                for s in split_sentences(item, lang)
            ]
    return sentences


def _flatten(items: tuple[ListItem, ...]) -> list[str]:
    flat: list[str] = []
    for item in items:
        if item.text:
            flat.append(item.text)
        flat += _flatten(item.children)
    return flat


def _paragraph_sentences(section: Section, lang: str) -> list[str]:
    return [
        s for b in section.blocks if isinstance(b, Paragraph | Quote) for s in split_sentences(b.text, lang)
    ]


def _list_items(section: Section) -> list[str]:
    return [text for b in section.blocks if isinstance(b, ListBlock) for text in _flatten(b.items)]


# --- extractive summary: deterministic, grounded by construction ------------------------------------


def key_sentences(
    sentences: list[str], title: str, lang: str, budget_words: int = SUMMARY_BUDGET_WORDS
) -> list[str]:
    """The most central sentences (shared vocabulary, early position, title words), in reading order."""
    words = [content_words(s, lang) for s in sentences]
    frequency = Counter(w for ws in words for w in set(ws))
    title_words = set(content_words(title, lang))

    def score(index: int) -> float:
        unique = set(words[index])
        count = word_count(sentences[index], lang)
        if count < 4:
            return -1.0
        centrality = sum(frequency[w] - 1 for w in unique) / math.sqrt(len(unique) or 1)
        position = 1.5 if index == 0 else 1.0 / (1 + 0.15 * index)
        title_bonus = 0.5 * len(unique & title_words)
        length_penalty = 0.5 if count > 45 else 1.0
        return (centrality + 1.0) * position * length_penalty + title_bonus

    chosen: list[int] = []
    used = 0
    for index in sorted(range(len(sentences)), key=lambda i: (-score(i), i)):
        count = word_count(sentences[index], lang)
        if score(index) < 0 or (chosen and used + count > budget_words):
            continue
        chosen.append(index)
        used += count
        if len(chosen) == 3:
            break
    return [sentences[i] for i in sorted(chosen)]


def extractive_narration(section: Section, lang: str) -> list[str]:
    """Key sentences of the prose, then the section's list highlights."""
    said = key_sentences(_paragraph_sentences(section, lang), section.title, lang)
    items = _list_items(section)
    sentence_items = [i for i in items if i.rstrip()[-1:] in ".!?。！？" or word_count(i, lang) > 12]
    if sentence_items:
        said += [ensure_sentence_end(s, lang) for s in key_sentences(sentence_items, section.title, lang, 50)]
    short_items = [compress(i, lang) for i in items if i not in sentence_items][:3]
    if short_items:
        said.append(_highlights(short_items, lang))
    return said


def _highlights(items: list[str], lang: str) -> str:
    if lang == "ja":
        return "主な項目は、" + "、".join(items) + "です。"
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return f"Highlights include {listed}."


def extractive_bullets(section: Section, lang: str) -> list[str]:
    """Up to five short bullets: list items first for list-heavy sections, else key sentences."""
    items = [compress(i, lang) for i in _list_items(section)]
    sentences = _paragraph_sentences(section, lang)
    ranked = key_sentences(sentences, section.title, lang, budget_words=10_000)
    ranked += [s for s in sentences if s not in ranked]
    pool = items + ranked if len(items) >= len(sentences) else ranked + items
    bullets: list[str] = []
    for candidate in pool:
        bullet = compress(candidate, lang)
        if bullet and bullet.casefold() not in (b.casefold() for b in bullets):
            bullets.append(bullet)
        if len(bullets) == MAX_BULLETS:
            break
    return bullets


def compress(sentence: str, lang: str) -> str:
    """A slide-sized phrase from a sentence: no parentheses or lead-in, cut at a clause boundary."""
    text = _PARENTHETICAL.sub("", sentence).strip()
    text = _LEADING_CONNECTIVE.sub("", text).strip()
    text = text.rstrip("。.!?！？:;")
    if lang == "ja":
        return _cut_japanese(text)
    words = text.split()
    if len(words) <= BULLET_WORDS[1]:
        return _capitalize(text)
    for boundary in (
        r";\s",
        r":\s",
        r"\s[–—]\s",
        r",\s",
        r"\s(?:which|where|because|so that|resulting in)\s",
    ):
        for match in re.finditer(boundary, text):
            head = text[: match.start()]
            if 4 <= len(head.split()) <= BULLET_WORDS[1]:
                return _capitalize(head)
    for cut in range(BULLET_WORDS[1], 3, -1):
        if words[cut].lower() in _PHRASE_STARTS:
            return _capitalize(" ".join(words[:cut]).rstrip(",;:"))
    return _capitalize(" ".join(words[: BULLET_WORDS[1] - 2]).rstrip(",;:") + "…")


def _cut_japanese(text: str, limit: int = 32) -> str:
    """Japanese puts the main clause last: drop leading clauses (up to a 、) before cutting the end."""
    if len(text) <= limit:
        return text
    for match in re.finditer("[、，]", text):
        rest = text[match.end() :]
        if 8 <= len(rest) <= limit:
            return rest
    return text[: limit - 1] + "…"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# --- summary mode: the LLM, checked --------------------------------------------------------------


def _clip(text: str, lang: str) -> str:
    limit = PROMPT_SOURCE_CHARS[lang]
    return text if len(text) <= limit else text[:limit].rsplit(" " if lang == "en" else "。", 1)[0]


@dataclass(frozen=True)
class Refusal:
    kind: Literal["narration", "bullet"]
    item: str
    reason: str


@dataclass
class CheckedReply:
    narration: list[str]
    bullets: list[str]
    rejected: list[str]
    ok: bool
    refusals: list[Refusal] = field(default_factory=list)


def check_llm_reply(reply: str, source: str, lang: str, enough: int = 2) -> CheckedReply:
    """Keep only items that are well-formed and grounded in the source; `ok` if the reply is usable
    at all (some narration and some bullets survive; refused items are replaced, see `_guarded`)."""
    try:
        data = json.loads(reply)
        narration, bullets = data["narration"], data["bullets"]
        if not all(isinstance(x, str) for x in [*narration, *bullets]):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return CheckedReply([], [], [f"reply is not the expected JSON: {reply[:60]!r}"], ok=False)
    refusals: list[Refusal] = []
    kept_narration = _keep_grounded("narration", narration, source, lang, NARRATION_WORDS, refusals)
    kept_bullets = _keep_grounded(
        "bullet", [b.rstrip("。.") for b in bullets], source, lang, BULLET_WORDS, refusals
    )
    ok = len(kept_narration) >= min(1, enough) and len(kept_bullets) >= 1
    return CheckedReply(
        [ensure_sentence_end(s, lang) for s in kept_narration],
        kept_bullets,
        [f"{r.reason}: {r.item[:60]!r}" for r in refusals],
        ok,
        refusals,
    )


def _keep_grounded(
    kind: Literal["narration", "bullet"],
    items: list[str],
    source: str,
    lang: str,
    words: tuple[int, int],
    refusals: list[Refusal],
) -> list[str]:
    kept: list[str] = []
    for item in (i.strip() for i in items):
        reason = _problem(item, source, lang, words, kept)
        if reason:
            refusals.append(Refusal(kind, item, reason))
        else:
            kept.append(item)
    return kept


def _problem(item: str, source: str, lang: str, words: tuple[int, int], kept: list[str]) -> str | None:
    """Why an LLM item may not be used, or None. Every number, date and name in it must be in the
    section (numbers compared as values: "7x" and "seven times", "1,000" and "1000", "７" and "7")."""
    count = word_count(item, lang)
    if not words[0] <= count <= words[1]:
        return f"{count} words"
    if re.search(r"https?://|www\.", item):
        return "contains a URL"
    invented = unsupported_numbers(item, source)
    if invented:
        return f"numbers not in the section ({', '.join(sorted(invented))})"
    names = unsupported_names(item, source, lang)
    if names:
        return f"names not in the section ({', '.join(names)})"
    if grounding(item, source, lang) < MIN_GROUNDING:
        return "not grounded in the section"
    if any(grounding(item, other, lang) > 0.8 for other in kept):
        return "repeats an earlier item"
    return None


def _unlike(spare: list[str], used: list[str], lang: str) -> str | None:
    """Take the first spare item that does not repeat one already used."""
    while spare:
        candidate = spare.pop(0)
        if not any(grounding(candidate, other, lang) > 0.8 for other in used):
            return candidate
    return None


# --- slides ------------------------------------------------------------------------------------


# Long content is spread over continuation slides here already (the deck splits further what does not
# fit): a Markdown list, code block or table of any length never makes one slide over the limits.
SLIDE_BULLETS = 12
SLIDE_CODE_LINES = 60
SLIDE_TABLE_ROWS = 30


def _content_slides(section: Section, title: str, bullets: list[str], folder: Path) -> list[Slide]:
    images = [b for b in section.blocks if isinstance(b, Image)]
    slides: list[Slide] = []
    if bullets or images:
        first_image = _relative(images[0].path, folder) if images else None
        for n, part in enumerate(_chunks(bullets, SLIDE_BULLETS) or [[]]):
            slides.append(Slide(title=title, bullets=part, image=None if n else first_image, continued=n > 0))
    slides += [Slide(title=title, image=_relative(image.path, folder)) for image in images[1:]]
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
                table = [list(block.header), *rows]
                slides.append(Slide(layout="table", title=title, table=table, continued=n > 0))
    return slides


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _verbatim_slides(section: Section, title: str, folder: Path, lang: str) -> list[Slide]:
    """Slides that follow the prose: one per sub-heading part, showing every list item it reads out."""
    slides: list[Slide] = []
    for heading, blocks in _parts(section):
        part = Section(id=section.id, title=heading or title, blocks=blocks, links=[], source_hash="")
        items = _list_items(part)
        if len(items) >= len(_paragraph_sentences(part, lang)):
            bullets = list(dict.fromkeys(compress(i, lang) for i in items if compress(i, lang)))
        else:
            bullets = extractive_bullets(part, lang)
        for slide in _content_slides(part, title, bullets, folder):
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


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder.resolve()).as_posix()
