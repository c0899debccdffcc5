"""script: Document -> Episode. What is said (narration) and shown (slides), section by section.

`summary` mode says each section in a few sentences: the author's own key sentences (no model, the
default), or what a model writes (the bundled base model with few-shot completion prompts; an
instruct GGUF or an OpenAI-compatible server with chat prompts), every sentence of it through the
rules of a spoken line and the faithfulness guard, a refused one replaced by a key sentence.
`verbatim` mode says all of the author's speakable prose. Either way a section that is mostly links
is said in one line and shown on slides; code and tables are shown, never said. `frame` adds the
show (opening, transitions, sign-off) around the sections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from mediagen.document import INTRO_ID, Code, Document, Image, Section, Subheading, Table, meta_value
from mediagen.engines.base import LLMEngine
from mediagen.episode import FLAG_FALLBACK, FLAG_LINKS, Episode, EpisodeSection, Link, Narration, Slide
from mediagen.errors import InputError, MediagenError
from mediagen.front_matter import NEWSLETTER_KEYS, PEOPLE_KEYS
from mediagen.templating import Templates
from mediagen.text import grounding
from mediagen.writing import extract, guard, length
from mediagen.writing.extract import Material
from mediagen.writing.reply import CheckedReply, check_llm_reply
from mediagen.writing.show import LEAD, OTHER, Show, frame
from mediagen.writing.slides import content_slides, relative, verbatim_slides

Mode = Literal["summary", "verbatim"]
COMPLETION_PROMPTS = ("prompts/summary.{lang}.j2", "prompts/summary-retry.{lang}.j2")
CHAT_PROMPTS = ("prompts/system.chat.{lang}.j2", "prompts/summary.chat.{lang}.j2")
PROMPT_SOURCE_CHARS = {"en": 1600, "ja": 700}
LLM_SCHEMA = {
    "type": "object",
    "properties": {
        "narration": {
            "type": "array",
            "items": {"type": "string", "maxLength": 300},
            "minItems": 1,
            "maxItems": 6,
        },
        "bullets": {
            "type": "array",
            "items": {"type": "string", "maxLength": 80},
            "minItems": 3,
            "maxItems": 5,
        },
    },
    "required": ["narration", "bullets"],
}
WORDS_PER_SENTENCE = {"en": 18, "ja": 18}  # what a model is asked for: a budget's sentences


def prompt_names(lang: str, chat: bool) -> list[str]:
    return [name.format(lang=lang) for name in (CHAT_PROMPTS if chat else COMPLETION_PROMPTS)]


@dataclass
class ScriptReport:
    """What the script stage decided, for report.json and the end-of-build summary."""

    llm_calls: int = 0
    fallbacks: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # The guard's work: each model's item it refused, why, and what took its place (None: dropped).
    replaced: list[dict[str, str | None]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # sections with sentences the model wrote
    left_out: list[str] = field(default_factory=list)  # warnings: the author's words not heard

    def add(self, other: ScriptReport) -> None:
        self.llm_calls += other.llm_calls
        self.fallbacks += other.fallbacks
        self.rejected += other.rejected
        self.replaced += other.replaced
        self.written += other.written
        self.left_out += other.left_out


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
    portable = [relative(b.path, doc.folder) if isinstance(b, Image) else b for b in blocks]
    inputs = {"title": unit.section.title if unit.section else "", "blocks": repr(portable)}
    if unit.id == INTRO_ID:
        inputs |= {"doc_title": doc.title, "byline": _byline(doc)}
    return inputs


@dataclass(frozen=True)
class Said:
    """One line to say: its text, who wrote it ("author", "llm", "show"), and in a dialogue whose turn
    it is: the section's "lead" (who asks) or the "other" host (who tells); `frame` names them."""

    text: str
    origin: str
    role: str | None = None


# A dialogue's turn is said in one breath: at most this long, at the voice's measured speaking rate.
TURN_S = 12.0


class Scripter:
    """Writes the episode one section at a time; a model is loaded only when a section needs it."""

    def __init__(
        self,
        doc: Document,
        lang: str,
        mode: Mode,
        show: Show,
        llm: Callable[[], LLMEngine] | None = None,
        prompts: Templates | None = None,
        budgets: dict[str, float] | None = None,
    ) -> None:
        if llm is not None and prompts is None:
            raise ValueError("a model needs prompt templates")
        self.doc, self.lang, self.mode, self.show = doc, lang, mode, show
        self._llm_factory, self._llm, self.prompts = llm, None, prompts
        self.budgets = budgets or {}
        self._strict = budgets is not None  # a length to keep: a section may say nothing of its own
        self.turn_words = TURN_S * length.SPEAKING_RATE[lang] if mode == "dialogue" else None

    def write(self, unit: ScriptUnit) -> tuple[EpisodeSection, ScriptReport]:
        report = ScriptReport()
        intro = unit.id == INTRO_ID
        section = unit.section or Section(INTRO_ID, self.doc.title, [], [], "")
        title = self.doc.title if intro else section.title
        found = extract.material(section, self.lang, self.turn_words)
        report.left_out += [
            f"script: section '{unit.id}': left out, the voice cannot say {'/'.join(scripts).lower()} "
            f"text: {sentence[:60]!r}"
            for sentence, scripts in found.foreign
        ]
        lines, shown, flags = self._said_and_shown(unit.id, section, found, title, report)
        if not lines:  # nothing to say: the show's line for it (a title it cannot say: the plain one)
            plain = self.show.shown(section.title, self.doc.title, intro) or self.show.shown("", "", False)
            if not plain:
                raise InputError(f"template show/{self.lang}/shown.j2: it makes no line that can be said")
            lines = [Said(text, "show") for text in plain]
        if self.mode == "dialogue":
            lines = self._exchange(lines, section.title, unit.id, intro)
        slides = (
            [Slide(layout="title", title=title, subtitle=_byline(self.doc) or None)] if intro else []
        ) + shown
        return EpisodeSection(
            id=unit.id,
            title=title,
            source_hash=unit.section.source_hash if unit.section else None,
            flags=flags,
            links=cited_links(unit.section) if unit.section else [],
            narration=[Narration(text=s.text, origin=s.origin, speaker=s.role) for s in lines],
            slides=slides or [Slide(title=title)],
        ), report

    def _said_and_shown(
        self, unit_id: str, section: Section, found: Material, title: str, report: ScriptReport
    ) -> tuple[list[Said], list[Slide], list[str]]:
        """(narration lines, slides, flags): a list of links in its few sentences and one line, the
        author's prose, or a model's checked summary."""
        folder = self.doc.folder
        budget = self.budgets.get(unit_id, extract.DEFAULT_BUDGET_WORDS)
        if found.is_link_list:
            keys = extract.key_sentences(
                _texts(found), title, self.lang, min(budget, extract.LINK_LIST_WORDS)
            )
            listed = self.show.links(section.title, found.links + len(found.phrases))
            said = [Said(t, "author") for t in keys] + [Said(t, "show") for t in listed]
            bullets = extract.bullets(found, title, self.lang)
            return said, content_slides(section, title, bullets, folder), [FLAG_LINKS]
        if self.mode == "verbatim":
            said = [Said(t, "author") for t in extract.all_sentences(found)]
            return said, verbatim_slides(section, title, folder, self.lang), []
        if self._llm_factory is None or not found.sentences or budget <= 0:
            keys = extract.key_sentences(_texts(found), title, self.lang, budget, not self._strict)
            said = [Said(t, "author") for t in keys]
            return said, content_slides(section, title, extract.bullets(found, title, self.lang), folder), []
        said, bullets, flags = self._summarize(unit_id, section, found, title, budget, report)
        return said, content_slides(section, title, bullets, folder), flags

    def _exchange(self, lines: list[Said], title: str, unit_id: str, intro: bool) -> list[Said]:
        """A dialogue of a section's lines: the lead asks into the section (the introduction follows
        the opening instead), the other host tells it, two lines at a time, the lead taking every
        third; so both hosts speak in every section and neither more than three lines in a row."""
        if intro:  # after the opening, the hosts take turns
            return [Said(s.text, s.origin, (LEAD, OTHER)[n % 2]) for n, s in enumerate(lines)]
        roles = [OTHER, OTHER, LEAD]
        turns = [Said(s.text, s.origin, roles[n % 3]) for n, s in enumerate(lines)]
        index = [u.id for u in script_units(self.doc)].index(unit_id)
        count = len(script_units(self.doc)) - 1
        return [Said(t, "show", LEAD) for t in self.show.ask(title, index, count)] + turns

    # --- a model's summary, checked ----------------------------------------------------------------

    def _summarize(
        self, unit_id: str, section: Section, found: Material, title: str, budget: float, report: ScriptReport
    ) -> tuple[list[Said], list[str], list[str]]:
        """The model's narration and bullets, each checked (rules, then the guard): a refused item is
        replaced by the author's words. A reply with nothing usable is retried once with a second
        prompt; then the whole section is the author's key sentences (flagged)."""
        source = section_text(section)
        spoken = _texts(found)
        for attempt in range(2):
            report.llm_calls += 1
            engine = self.llm  # a model that cannot be loaded stops the build (a clear error)
            try:
                reply = self._ask(engine, attempt, title, source, budget)
            except MediagenError:  # a server that cannot be reached: the author is told, no fallback
                raise
            except Exception as exc:  # an engine may fail in many ways; the section still gets a script
                report.rejected.append(f"{unit_id}: the LLM failed: {type(exc).__name__}: {exc}"[:200])
                continue
            checked = check_llm_reply(reply, source, self.lang, enough=1)
            report.rejected += [f"{unit_id}: {reason}" for reason in checked.rejected]
            if checked.ok:
                report.written.append(unit_id)
                return self._guarded(unit_id, found, title, budget, checked, report)
        report.fallbacks.append(unit_id)
        said = extract.key_sentences(spoken, title, self.lang, budget, not self._strict)
        return [Said(t, "author") for t in said], extract.bullets(found, title, self.lang), [FLAG_FALLBACK]

    def _ask(self, engine: LLMEngine, attempt: int, title: str, source: str, budget: float) -> str:
        sentences = max(1, min(6, round(budget / WORDS_PER_SENTENCE[self.lang])))
        context = {
            "title": title,
            "text": _clip(source, self.lang),
            "sentences": sentences,
            "words": round(budget),
            "retry": attempt > 0,
        }
        if engine.chat_model:
            system, user = (
                self.prompts.render(name, **context).strip() for name in prompt_names(self.lang, True)
            )
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            return engine.chat(messages, json_schema=LLM_SCHEMA, max_tokens=480)
        prompt = self.prompts.render(prompt_names(self.lang, False)[attempt], **context).rstrip()
        return engine.complete(prompt, json_schema=LLM_SCHEMA, max_tokens=320)

    def _guarded(
        self,
        unit_id: str,
        found: Material,
        title: str,
        budget: float,
        checked: CheckedReply,
        report: ScriptReport,
    ) -> tuple[list[Said], list[str], list[str]]:
        """The checked reply with each refused item replaced from the section: a refused bullet by the
        next extractive bullet not shown yet, a refused sentence by the next key sentence not said yet
        (or dropped when none is left). Each case goes into the report."""
        narration = [Said(text, "llm") for text in checked.narration]
        bullets = list(checked.bullets)
        keys = extract.key_sentences(_texts(found), title, self.lang, budget, not self._strict)
        spare_sentences = [s for s in keys if s not in checked.narration]
        spare_bullets = [b for b in extract.bullets(found, title, self.lang) if b not in bullets]
        for refusal in checked.refusals:
            spare = spare_bullets if refusal.kind == "bullet" else spare_sentences
            taken = _unlike(spare, [s.text for s in narration] + bullets, self.lang)
            if taken is not None:
                if refusal.kind == "bullet":
                    bullets.append(taken)
                else:
                    narration.append(Said(taken, "author"))
            report.replaced.append(
                {
                    "section": unit_id,
                    "kind": refusal.kind,
                    "item": refusal.item,
                    "reason": refusal.reason,
                    "replacement": taken,
                }
            )
        return narration, bullets[: extract.MAX_BULLETS], []

    @property
    def llm(self) -> LLMEngine:
        if self._llm is None:
            self._llm = self._llm_factory()
        return self._llm


def _texts(found: Material) -> list[str]:
    return [unit.text for unit in found.sentences]


def section_text(section: Section) -> str:
    """Everything the section says in words (prose, quotes, list items, sub-headings), for prompts and
    for the guard: a model's sentence must be grounded in it."""
    parts: list[str] = []
    for block in section.blocks:
        if isinstance(block, Subheading):
            parts.append(block.text)
        elif hasattr(block, "items"):
            parts += [item.text for item in extract.flatten(block.items)]
        elif hasattr(block, "text") and not isinstance(block, Code | Table):
            parts.append(block.text)
    return " ".join(p for p in parts if p)


def write_script(
    doc: Document,
    lang: str,
    mode: Mode,
    show: Show,
    llm: Callable[[], LLMEngine] | None = None,
    prompts: Templates | None = None,
) -> tuple[Episode, ScriptReport]:
    """The whole Episode for a document, section by section, with the show around it (the pipeline
    does the same, cached)."""
    scripter = Scripter(doc, lang, mode, show, llm, prompts)
    report = ScriptReport()
    sections = []
    for unit in script_units(doc):
        section, unit_report = scripter.write(unit)
        sections.append(section)
        report.add(unit_report)
    framed = frame(sections, show, doc.title, set(range(len(sections))))
    return Episode(title=doc.title, lang=lang, meta=doc.meta, sections=framed), report


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
    for keys in (NEWSLETTER_KEYS, PEOPLE_KEYS, ("date",)):
        value = meta_value(doc.meta, *keys)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value:
            parts.append(str(value)[:80])
    return " · ".join(parts)


def _clip(text: str, lang: str) -> str:
    limit = PROMPT_SOURCE_CHARS[lang]
    return text if len(text) <= limit else text[:limit].rsplit(" " if lang == "en" else "。", 1)[0]


def _unlike(spare: list[str], used: list[str], lang: str) -> str | None:
    """Take the first spare item that does not repeat one already used."""
    while spare:
        candidate = spare.pop(0)
        if not any(grounding(candidate, other, lang) > guard.REPEAT for other in used):
            return candidate
    return None
