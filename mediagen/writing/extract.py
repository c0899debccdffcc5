"""The extractive writer: a section said in the author's own sentences, and shown in the author's own
phrases. Deterministic and grounded by construction.

A section's `Material` is what of it can be said: its prose sentences and the list items that are
sentences, each repaired or left out by the rules (mediagen.writing.rules); the list items that are
phrases (shown, not said) and those that are mostly a link. A section that is mostly links (a
reference list, "Further reading") is said in one line, from the show's templates.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from mediagen.document import ListBlock, ListItem, Paragraph, Quote, Section, Subheading
from mediagen.text import content_words, letter_script, split_sentences, word_count
from mediagen.writing.rules import bullet_problems, japanese_punctuation, speakable

# A sentence that opens by pointing back (a pronoun, a connective) needs the one before it.
_ANAPHORA = {
    "en": re.compile(r"(?:These|Those|They|It|Its|This is|That is|Such|However|But|And|Also|Then|Still)\b"),
    "ja": re.compile(r"(?:それ|そのため|そこで|しかし|ただし|また、|さらに|つまり|これら)"),
}
# A sentence that points ahead at what follows it on the page (a command, a list, a picture): the
# listener never hears that part ("Slackでは次のコマンドでRSSを登録できます。").
_POINTS_AHEAD = {
    "en": re.compile(r"\b(?:the following|as follows|below|shown here|like this)\b", re.I),
    "ja": re.compile(r"次の(?:コマンド|コード|よう|とおり|通り|設定|例)|以下の|以下のよう|下記|こちらの"),
}
DEFAULT_BUDGET_WORDS = 70  # what a section is summarized in, without --minutes
LINK_LIST_WORDS = 35  # what a section of links says of its own before its one line
MAX_KEY_SENTENCES = 3
MAX_BULLETS = 5
LINK_SHARE = 0.6  # a list item whose text is mostly its links' text is a link
ITEM_SENTENCE_WORDS = 6  # a list item this long without a full stop is said as a sentence


@dataclass(frozen=True)
class Unit:
    """One sentence that may be said, in the section's order."""

    text: str
    position: int
    from_list: bool = False


@dataclass
class Material:
    """What a section offers the writer."""

    sentences: list[Unit]  # speakable prose sentences and sentence-like list items, in order
    phrases: list[str]  # list items that are phrases: for slides
    links: int  # list items that are mostly a link
    items: int  # list items in all
    prose: int  # prose sentences before the rules (said or not)
    # Prose sentences left out because they are mostly in another language's letters (the author is
    # told: what they wrote there is not heard), each with those letters' scripts.
    foreign: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def is_link_list(self) -> bool:
        """Mostly a list of links or titles, with little prose: said in one line, shown on slides."""
        unsaid = self.links + len(self.phrases)
        return self.items >= 3 and unsaid >= LINK_SHARE * self.items and len(self.sentences) < 3


def material(section: Section, lang: str, breath_words: float | None = None) -> Material:
    """What the section offers; with `breath_words` (a dialogue's turn), each sentence at most that
    long: a longer one is cut at a clause boundary into sentences that are, or left out."""
    found = _material(section, lang)
    if breath_words is None:
        return found
    units = [
        Unit(part, n, unit.from_list)
        for n, (unit, part) in enumerate(
            (u, p) for u in found.sentences for p in in_one_breath(u.text, lang, breath_words)
        )
    ]
    return Material(units, found.phrases, found.links, found.items, found.prose, found.foreign)


def _material(section: Section, lang: str) -> Material:
    units: list[Unit] = []
    phrases: list[str] = []
    foreign: list[tuple[str, tuple[str, ...]]] = []
    links = items = prose = 0
    for block in section.blocks:
        if isinstance(block, Paragraph | Quote):
            sentences = split_sentences(block.text, lang)
            for number, sentence in enumerate(sentences):
                prose += 1
                # A paragraph's last sentence may lack its full stop (Markdown often does): a whole
                # clause gets one, a trailing label ("Next Deadline: Complete Docs") does not.
                last = number == len(sentences) - 1 and _is_sentence(sentence, lang)
                said = speakable(sentence, lang, close=last)
                if said:
                    units.append(Unit(said, len(units)))
                elif other := _other_scripts(sentence, lang):
                    foreign.append((sentence, other))
        elif isinstance(block, ListBlock):
            for item in flatten(block.items):
                items += 1
                if _is_link(item):
                    links += 1
                    phrases.append(item.text)
                elif _is_sentence(item.text, lang) and (said := speakable(item.text, lang, close=True)):
                    units.append(Unit(said, len(units), from_list=True))
                else:
                    phrases.append(item.text)
    return Material(units, phrases, links, items, prose, foreign)


# The letters each language's sentences are written in (Japanese quotes English names freely).
LANGUAGE_SCRIPTS = {"en": frozenset({"LATIN"}), "ja": frozenset({"HAN", "HIRAGANA", "KATAKANA", "LATIN"})}


def _other_scripts(sentence: str, lang: str) -> tuple[str, ...]:
    """The scripts of a sentence mostly written in letters its language does not use (else empty)."""
    letters = [letter_script(ch) for ch in sentence if ch.isalpha()]
    others = [s for s in letters if s not in LANGUAGE_SCRIPTS[lang]]
    return tuple(sorted(set(others))) if letters and len(others) >= 0.5 * len(letters) else ()


# Where an English sentence may be cut into two that are still whole: "…; B", "…, and B", "…, but B".
_BREATH_CUTS = re.compile(r";\s+|,\s+(?=(?:and|but|so|while|which means|because)\s)|\s[–—]\s")


def in_one_breath(sentence: str, lang: str, words: float) -> list[str]:
    """The sentence, if one breath says it; else its two halves cut at the clause boundary nearest its
    middle, each a whole sentence of its own ("…, and it works." -> "…." + "And it works."); else
    nothing (Japanese clauses cannot be cut without conjugating their verbs)."""
    if word_count(sentence, lang) <= words:
        return [sentence]
    if lang != "en":
        return []
    middle = len(sentence) / 2
    for cut in sorted(_BREATH_CUTS.finditer(sentence), key=lambda m: abs(m.start() - middle)):
        head = speakable(sentence[: cut.start()].rstrip(",;") + ".", lang)
        rest = sentence[cut.end() :].strip()
        tail = speakable(rest[:1].upper() + rest[1:], lang)
        if head and tail and max(word_count(head, lang), word_count(tail, lang)) <= words:
            return [head, tail]
    return []


def flatten(items: tuple[ListItem, ...]) -> list[ListItem]:
    flat: list[ListItem] = []
    for item in items:
        if item.text:
            flat.append(item)
        flat += flatten(item.children)
    return flat


def _is_link(item: ListItem) -> bool:
    linked = sum(len(text) for text in item.links)
    return bool(item.text) and linked >= LINK_SHARE * len(item.text)


def _is_sentence(text: str, lang: str) -> bool:
    """A list item that reads as a sentence: it ends with a full stop, or is long enough in words (not
    numbers or dates) to be a clause."""
    if text.rstrip()[-1:] in ".!?。！？":
        return True
    if lang == "ja":
        return word_count(text, lang) >= ITEM_SENTENCE_WORDS
    return len(re.findall(r"[A-Za-z][\w'’-]*", text)) >= ITEM_SENTENCE_WORDS


def subheadings(section: Section) -> list[str]:
    return [b.text for b in section.blocks if isinstance(b, Subheading)]


# --- narration ---------------------------------------------------------------------------------------


def key_sentences(
    sentences: list[str], title: str, lang: str, budget_words: float, at_least_one: bool = True
) -> list[str]:
    """The most central sentences (shared vocabulary, early position, title words), in reading order,
    as many as fit the budget (MAX_KEY_SENTENCES without a larger one). The best sentence is taken
    even when it alone is over the budget, unless `at_least_one` is false (a length to keep)."""
    if not sentences or budget_words <= 0:
        return []
    words = [content_words(s, lang) for s in sentences]
    frequency = Counter(w for ws in words for w in set(ws))
    title_words = set(content_words(title, lang))
    most = max(MAX_KEY_SENTENCES, math.ceil(budget_words / 25))

    def score(index: int) -> float:
        unique = set(words[index])
        count = word_count(sentences[index], lang)
        centrality = sum(frequency[w] - 1 for w in unique) / math.sqrt(len(unique) or 1)
        position = 1.5 if index == 0 else 1.0 / (1 + 0.15 * index)
        length_penalty = 0.5 if count > 45 else 1.0
        # "These usually see bottlenecks…" out of its context points at nothing.
        context_penalty = 0.5 if index and _ANAPHORA[lang].match(sentences[index]) else 1.0
        return (centrality + 1.0) * position * length_penalty * context_penalty + 0.5 * len(
            unique & title_words
        )

    chosen: list[int] = []
    used = 0
    # A sentence that points ahead at what the listener does not hear is said only when nothing else is.
    candidates = [i for i, s in enumerate(sentences) if not _POINTS_AHEAD[lang].search(s)]
    for index in sorted(candidates or range(len(sentences)), key=lambda i: (-score(i), i)):
        count = word_count(sentences[index], lang)
        if (chosen or not at_least_one) and used + count > budget_words:
            continue
        chosen.append(index)
        used += count
        if len(chosen) == most:
            break
    return [sentences[i] for i in sorted(chosen)]


def all_sentences(found: Material) -> list[str]:
    """Every speakable sentence of the section (verbatim mode)."""
    return [u.text for u in found.sentences]


# --- bullets -------------------------------------------------------------------------------------------

_CLAUSE_MARKS = (r";\s", r":\s", r"\s[–—]\s", r",\s", r"\s(?:which|where|because|so that|while)\s")
# A clause that opens so is not the main one: "When rustc needs to build a binary, …" says nothing alone.
_SUBORDINATE = re.compile(
    r"(?:when|while|if|although|though|because|since|as|for|after|before|unless|until|once|with|to|by)\b",
    re.I,
)
_PARENTHETICAL = re.compile(r"\s*[(（][^()（）]*[)）]")
_LEADING_CONNECTIVE = re.compile(
    r"^(?:tl;dr|however|so|for example|in any case|also|then|still|finally|in short|note that|and|but)"
    r"\s*[:,]?\s+",
    re.I,
)


def bullets(found: Material, title: str, lang: str, limit: int = MAX_BULLETS) -> list[str]:
    """Up to `limit` whole phrases: list items first for list-heavy sections, else key sentences."""
    sentences = [u.text for u in found.sentences if not u.from_list]
    ranked = key_sentences(sentences, title, lang, budget_words=10_000) if sentences else []
    ranked += [s for s in sentences if s not in ranked]
    items = [u.text for u in found.sentences if u.from_list] + found.phrases
    pool = items + ranked if len(items) >= len(sentences) else ranked + items
    chosen: list[str] = []
    for candidate in pool:
        bullet = phrase(candidate, lang)
        if bullet and bullet.casefold() not in (b.casefold() for b in chosen):
            chosen.append(bullet)
        if len(chosen) == limit:
            break
    return chosen


def phrase(text: str, lang: str) -> str | None:
    """A slide-sized whole phrase of a sentence or item: no parentheses, lead-in or full stop; a long
    one cut only at a clause boundary (Japanese: its main clause, which comes last). None if no whole
    phrase of it fits."""
    text = _PARENTHETICAL.sub("", text).strip()
    text = _LEADING_CONNECTIVE.sub("", text).strip().rstrip("。.!?！？")
    if lang == "ja":
        text = japanese_punctuation(text).rstrip("。")
        candidates = [text] + [text[m.end() :] for m in re.finditer("[、，]", text)]
    else:
        candidates = [text]
        for cut in _clause_cuts(text):
            head, rest = text[: cut.start()], text[cut.end() :]
            candidates.append(rest if _SUBORDINATE.match(head) else head)
    for candidate in candidates:
        candidate = _capitalize(candidate.strip()) if lang == "en" else candidate.strip()
        if candidate and not bullet_problems(candidate, lang):
            return candidate
    return None


def _clause_cuts(text: str) -> list[re.Match[str]]:
    return [m for mark in _CLAUSE_MARKS for m in re.finditer(mark, text)]


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
