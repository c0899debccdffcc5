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

from mediagen.templating import Templates
from mediagen.writing.rules import problems, speakable

TEMPLATES = ("opening", "transition", "signoff", "links", "shown")
MAX_TOPICS = 4
# Sections that are the issue's own framing, not a topic to announce.
_NOT_TOPICS = re.compile(
    r"^(?:thank(?:s| you)|summary|conclusion|until next time|wrap[- ]up|final words|introduction|"
    r"はじめに|おわりに|まとめ|さいごに|最後に|あとがき)\b",
    re.I,
)


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
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        env = self.templates.env
        env.filters["in_sentence"] = lambda title: in_sentence(title, self.names)
        env.filters["spoken_list"] = lambda items: spoken_list(items, self.lang, self.names)

    def opening(self, title: str, topics: list[str]) -> list[str]:
        if not self.enabled:
            return []
        announced = [t for t in topics if not _NOT_TOPICS.match(t) and not re.search(r"[,;、；]", t)]
        announced = announced[:MAX_TOPICS] if len(announced) >= 2 else []
        return self._lines("opening", title=title, topics=announced)

    def transition(self, section: str, index: int, count: int) -> list[str]:
        if not self.enabled:
            return []
        return self._lines("transition", section=section, index=index, count=count, last=index == count)

    def signoff(self, title: str) -> list[str]:
        return self._lines("signoff", title=title) if self.enabled else []

    def links(self, section: str, count: int) -> list[str]:
        return self._lines("links", section=section, count=count)

    def shown(self, section: str, title: str, intro: bool) -> list[str]:
        return self._lines("shown", section=section, title=title, intro=intro)

    def _lines(self, name: str, **context: object) -> list[str]:
        rendered = self.templates.render(
            f"show/{self.lang}/{name}.j2", show=self.name, host=self.host, lang=self.lang, **context
        )
        lines = []
        for line in (part.strip() for part in rendered.splitlines()):
            if not line:
                continue
            said = speakable(line, self.lang)
            if said is None:
                broken = ", ".join(problems(line, self.lang))
                self.warnings.append(
                    f"show: the {name} template made a line that breaks a rule ({broken}): {line[:60]!r}"
                )
                continue
            lines.append(said)
        return lines


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


def spoken_list(items: list[str], lang: str, names: frozenset[str] = frozenset()) -> str:
    """ "a, b, and c" (English) or 「a」、「b」、「c」 (Japanese)."""
    if lang == "ja":
        return "、".join(f"「{re.sub(r'[「」]', '', item)}」" for item in items)
    items = [in_sentence(item, names) for item in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]
