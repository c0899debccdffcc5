"""The show around the content: an opening with the show's and the issue's name and what is coming, a
transition into each section (varied by its place), a sign-off; and the lines a section gets when it
is only links, or has nothing to read out. Everything comes from editable templates per language
(`templates/show/<lang>/*.j2`, one sentence a line) and from titles and metadata only, so the framing
is grounded by construction. Each line still goes through the rules of a spoken line; a line an
edited template makes that breaks one is left out, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mediagen.episode import FLAG_LINKS, EpisodeSection, Narration
from mediagen.templating import Templates
from mediagen.writing.rules import problems, speakable

TEMPLATES = (
    "opening", "transition", "signoff", "links", "shown", "ask", "dialogue-opening", "dialogue-signoff",
)  # fmt: skip
_ROLE = re.compile(r"^([ab]):\s*")  # a dialogue template's line: which host says it
MAX_TOPICS = 4
# Sections that are the issue's own framing, not a topic to announce.
_NOT_TOPICS = re.compile(
    r"(?:thank(?:s| you)|summary|conclusion|until next time|wrap[- ]up|final words|introduction|"
    r"はじめに|おわりに|まとめ|さいごに|最後に|あとがき)",
    re.I,
)

# A line's role in a dialogue, before it is cast: the section's lead host or the other one.
LEAD, OTHER = "lead", "other"


def template_names(lang: str) -> list[str]:
    return [f"show/{lang}/{name}.j2" for name in TEMPLATES]


@dataclass
class Show:
    """The framing of one episode: its templates, language, the show's and the host's names."""

    templates: Templates
    lang: str
    name: str = ""
    host: str = ""
    enabled: bool = True
    names: frozenset[str] = frozenset()  # words the issue writes capitalized inside sentences
    hosts: tuple[str, str] | None = None  # a dialogue's two hosts' names (host a, host b)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        env = self.templates.env
        env.filters["in_sentence"] = lambda title: in_sentence(title, self.names)
        env.filters["quoted"] = lambda title: quoted(title, self.lang)
        env.filters["spoken_list"] = lambda items: spoken_list(items, self.lang)

    def opening(self, title: str, topics: list[str]) -> list[str]:
        return [text for text, _ in self.opening_roles(title, topics)]

    def opening_roles(self, title: str, topics: list[str]) -> list[tuple[str, str | None]]:
        """The opening's lines, each with the host who says it in a dialogue (a, b; None otherwise)."""
        if not self.enabled:
            return []
        announced = [t for t in topics if not closing(t) and not re.search(r"[,;、；]", t)]
        announced = announced[:MAX_TOPICS] if len(announced) >= 2 else []
        name = "dialogue-opening" if self.hosts else "opening"
        return self._lines(name, title=title, topics=announced)

    def transition(self, section: str, index: int, count: int) -> list[str]:
        if not self.enabled:
            return []
        return self._texts(
            "transition",
            section=section,
            index=index,
            count=count,
            last=index == count,
            closing=closing(section),
        )

    def ask(self, section: str, index: int, count: int) -> list[str]:
        """A dialogue's question into a section (asked whether or not the show frames the episode)."""
        return [] if closing(section) else self._texts("ask", section=section, index=index, count=count)

    def signoff(self, title: str) -> list[str]:
        return [text for text, _ in self.signoff_roles(title)]

    def signoff_roles(self, title: str) -> list[tuple[str, str | None]]:
        if not self.enabled:
            return []
        return self._lines("dialogue-signoff" if self.hosts else "signoff", title=title)

    def links(self, section: str, count: int) -> list[str]:
        return self._texts("links", section=section, count=count)

    def shown(self, section: str, title: str, intro: bool) -> list[str]:
        return self._texts("shown", section=section, title=title, intro=intro)

    def _texts(self, name: str, **context: object) -> list[str]:
        return [text for text, _ in self._lines(name, **context)]

    def _lines(self, name: str, **context: object) -> list[tuple[str, str | None]]:
        a, b = self.hosts or (self.host, "")
        rendered = self.templates.render(
            f"show/{self.lang}/{name}.j2", show=self.name, host=self.host, a=a, b=b, lang=self.lang, **context
        )
        lines = []
        for line in (part.strip() for part in rendered.splitlines()):
            role = _ROLE.match(line)
            line = line[role.end() :] if role else line
            if not line:
                continue
            said = speakable(line, self.lang)
            if said is None:
                broken = ", ".join(problems(line, self.lang))
                self.warnings.append(
                    f"show: the {name} template made a line that breaks a rule ({broken}): {line[:60]!r}"
                )
                continue
            lines.append((said, role.group(1) if role else None))
        return lines


def closing(title: str) -> bool:
    """A section that is the issue's own goodbye ("Until next time", "おわりに"): no topic to announce."""
    return bool(_NOT_TOPICS.fullmatch(title.strip().rstrip(".!?。！？")))


def in_sentence(title: str, names: frozenset[str] = frozenset()) -> str:
    """A title as it is said inside a sentence, without closing punctuation; a sentence-case title's
    first word in lower case unless it is a name ("the garden sensor", "reading list"; but "Rust 1.90
    is out" and "This Week in Rust" stay)."""
    title = title.strip().rstrip(".!?。！？:：;；")
    first, _, rest = title.partition(" ")
    words = re.findall(r"[A-Za-z][\w'’-]*", rest)
    plain_word = first[:1].isupper() and first[1:].islower() and first.isalpha()
    if plain_word and first not in names and all(w.islower() for w in words):
        return f"{first.lower()} {rest}".strip()
    return title


def proper_words(text: str) -> frozenset[str]:
    """Words written capitalized inside a sentence (not first in it): names, kept capitalized."""
    found = set()
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        words = re.findall(r"[A-Za-z][\w'’-]*", sentence)
        found |= {w for w in words[1:] if w[:1].isupper()}
    return frozenset(found)


def quoted(title: str, lang: str) -> str:
    """A title named inside a sentence: “Deprecated” (English), 「非推奨」 (Japanese). Quoted, any title
    reads as a name, so "Next, let's talk about “Deprecated”." stays grammatical where "…talk about
    deprecated." would not; the quotes are shown in captions and not said."""
    title = title.strip().rstrip(".!?。！？:：;；")
    if lang == "ja":
        return f"「{re.sub(r'[「」]', '', title)}」"
    return "“" + title.replace("“", "‘").replace("”", "’") + "”"


def spoken_list(items: list[str], lang: str) -> str:
    """ "“a”, “b”, and “c”" (English) or 「a」、「b」、「c」 (Japanese): each title quoted."""
    if lang == "ja":
        return "、".join(quoted(item, lang) for item in items)
    items = [quoted(item, lang) for item in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


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
