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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from mediagen.document import INTRO_ID, Code, Document, Image, Section, Subheading, Table, meta_value
from mediagen.engines.base import LLMEngine
from mediagen.episode import Episode, EpisodeSection, Link, Narration, Slide
from mediagen.errors import InputError, MediagenError
from mediagen.front_matter import NEWSLETTER_KEYS, PEOPLE_KEYS
from mediagen.templating import Templates
from mediagen.text import grounding, word_count
from mediagen.writing import extract, guard, length
from mediagen.writing.extract import Material
from mediagen.writing.rules import bullet_problems, problems, speakable
from mediagen.writing.show import Show

Mode = Literal["summary", "verbatim"]
FLAG_FALLBACK = "extractive-fallback"
FLAG_LINKS = "links-in-show-notes"
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
    portable = [_relative(b.path, doc.folder) if isinstance(b, Image) else b for b in blocks]
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


LEAD, OTHER = "lead", "other"
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
            return said, _content_slides(section, title, bullets, folder), [FLAG_LINKS]
        if self.mode == "verbatim":
            said = [Said(t, "author") for t in extract.all_sentences(found)]
            return said, _verbatim_slides(section, title, folder, self.lang), []
        if self._llm_factory is None or not found.sentences or budget <= 0:
            keys = extract.key_sentences(_texts(found), title, self.lang, budget, not self._strict)
            said = [Said(t, "author") for t in keys]
            return said, _content_slides(section, title, extract.bullets(found, title, self.lang), folder), []
        said, bullets, flags = self._summarize(unit_id, section, found, title, budget, report)
        return said, _content_slides(section, title, bullets, folder), flags

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


def frame(
    sections: list[EpisodeSection],
    show: Show,
    title: str,
    fresh: set[int],
    hosts: tuple[str, str] | None = None,
) -> list[EpisodeSection]:
    """The show around the sections that were written afresh (positions in `fresh`; sections the
    author edited keep their lines): the opening before the introduction's lines, a transition before
    each section's, the sign-off after the last section's. In a dialogue (`hosts`: the speakers' ids,
    host a first) every line gets its speaker: a section's lead is the host who did not speak last."""
    topics = [s.title for s in sections[1:] if FLAG_LINKS not in s.flags] or [s.title for s in sections[1:]]
    count = len(sections) - 1
    framed: list[EpisodeSection] = []
    last: str | None = None  # who spoke last, in a dialogue
    for index, section in enumerate(sections):
        if index not in fresh:
            framed.append(section)
            last = section.narration[-1].speaker if section.narration else last
            continue
        lines = list(section.narration)
        if index == 0:
            before = show.opening_roles(title, topics)
            if before and lines and all(line.origin == "show" for line in lines):
                lines = []  # the opening says the title already
        else:
            before = [(t, LEAD) for t in show.transition(section.title, index, count)]
        after = show.signoff_roles(title) if index == len(sections) - 1 else []
        shown = lambda t, role: Narration(text=t, origin="show", speaker=role if hosts else None)  # noqa: E731
        narration = [shown(t, role) for t, role in before] + lines + [shown(t, role) for t, role in after]
        if hosts:
            narration, last = _cast(narration, hosts, last, opening_ends=len(before) if index == 0 else 0)
        framed.append(section.model_copy(update={"narration": narration}))
    return framed


def _cast(
    lines: list[Narration], hosts: tuple[str, str], last: str | None, opening_ends: int
) -> tuple[list[Narration], str | None]:
    """Each line's role (host a or b of the show's templates, the section's lead or the other host)
    made a speaker's id. The lead is the host who did not speak last (the introduction's: the one
    who did not end the opening)."""
    a, b = hosts
    by_template = {"a": a, "b": b}
    if opening_ends:
        last = by_template.get(lines[opening_ends - 1].speaker or "", a)
    lead = b if last == a else a
    roles = by_template | {LEAD: lead, OTHER: b if lead == a else a}
    cast = [line.model_copy(update={"speaker": roles.get(line.speaker or "", lead)}) for line in lines]
    return cast, cast[-1].speaker if cast else last


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


# --- checking a model's reply ------------------------------------------------------------------------


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


def check_llm_reply(reply: str, source: str, lang: str, enough: int = 1) -> CheckedReply:
    """Keep only items that follow the rules of a spoken line (bullets: of a phrase) and are faithful
    to the source; `ok` if the reply is usable at all (some narration and some bullets survive;
    refused items are replaced, see `Scripter._guarded`)."""
    try:
        data = json.loads(_json_part(reply), strict=False)  # a raw newline in a string is no harm
        narration, bullets = data["narration"], data["bullets"]
        if not all(isinstance(x, str) for x in [*narration, *bullets]):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return CheckedReply([], [], [f"reply is not the expected JSON: {reply[:60]!r}"], ok=False)
    refusals: list[Refusal] = []
    kept_narration = _kept("narration", narration, source, lang, refusals)
    kept_bullets = _kept("bullet", bullets, source, lang, refusals)
    ok = len(kept_narration) >= enough and len(kept_bullets) >= 1
    return CheckedReply(
        kept_narration, kept_bullets, [f"{r.reason}: {r.item[:60]!r}" for r in refusals], ok, refusals
    )


def _json_part(reply: str) -> str:
    """The JSON object in a reply (a model without structured output may wrap it in prose or fences)."""
    start, end = reply.find("{"), reply.rfind("}")
    return reply[start : end + 1] if 0 <= start < end else reply


def _kept(
    kind: Literal["narration", "bullet"], items: list[str], source: str, lang: str, refusals: list[Refusal]
) -> list[str]:
    kept: list[str] = []
    for item in (i.strip() for i in items):
        text, reason = _checked_item(kind, item, source, lang, kept)
        if reason:
            refusals.append(Refusal(kind, item, reason))
        else:
            kept.append(text)
    return kept


def _checked_item(kind: str, item: str, source: str, lang: str, kept: list[str]) -> tuple[str, str | None]:
    """(the item as it will be used, why it may not be used or None)."""
    if kind == "bullet":
        text = extract.phrase(item, lang) or item
        broken = bullet_problems(text, lang)
    else:
        text = speakable(item, lang) or item
        broken = problems(text, lang)
    if broken:
        return text, f"breaks a rule ({', '.join(broken)})"
    if kind == "narration" and word_count(text, lang) > 45:
        return text, "too long for one breath"
    support = guard.MIN_SUPPORT if kind == "narration" else guard.MIN_SUPPORT_BULLET
    return text, guard.refusal(text, source, lang, kept, support)


def _unlike(spare: list[str], used: list[str], lang: str) -> str | None:
    """Take the first spare item that does not repeat one already used."""
    while spare:
        candidate = spare.pop(0)
        if not any(grounding(candidate, other, lang) > guard.REPEAT for other in used):
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
                slides.append(
                    Slide(layout="table", title=title, table=[list(block.header), *rows], continued=n > 0)
                )
    return slides


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _verbatim_slides(section: Section, title: str, folder: Path, lang: str) -> list[Slide]:
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
