"""Faithfulness: a sentence a model wrote may be said only if the section says it too.

Every number (as a value: "7x" and "seven times", "1,000" and "1000"), every name (capitalized
words; in Japanese, Latin and katakana words) must occur in the section; its content words must be
the section's (English: word stems; Japanese: its kanji and katakana words, a compound counted as
supported when its every pair of kanji occurs) with a few swaps allowed for synonyms; and it may not
turn what the section says around (a "not" where the section's closest sentence has none, or the
reverse). A model adds a claim most often by adding a word the section lacks, so the share of
content words is the measure: at least MIN_SUPPORT of them.
"""

from __future__ import annotations

import re

from mediagen.text import (
    STOPWORDS_EN,
    fold,
    grounding,
    split_sentences,
    unsupported_names,
    unsupported_numbers,
)

MIN_SUPPORT = 0.7
MIN_SUPPORT_BULLET = 0.5  # a slide's phrase of three words may swap one for a synonym
REPEAT = 0.8  # an item whose content is this much another kept item's repeats it
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff々]{2,}")
_KATAKANA = re.compile(r"[ァ-ヺー]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9'’-]*")
_NEGATION_EN = re.compile(r"\b(?:not|no|never|none|nothing|cannot|without)\b|n't\b", re.I)
# Words that widen a claim ("every version" where the section says "1.18.3 and below").
_SCOPE = re.compile(r"\b(?:all|every|always|never|none|entire|whole|only|any)\b")
_SCOPE_JA = re.compile(r"すべて|全て|全部|必ず|常に|唯一|だけ|のみ")
_NEGATION_JA = re.compile(r"ない|ません|なかった|ず[、。に]|ぬ|無い|不要|できない")


def refusal(
    sentence: str, source: str, lang: str, kept: list[str] | None = None, support: float = MIN_SUPPORT
) -> str | None:
    """Why a model's sentence (or, with a lower `support`, a bullet) may not be used (None: it may),
    against the section's text."""
    invented = unsupported_numbers(sentence, source)
    if invented:
        return f"numbers not in the section ({', '.join(sorted(invented))})"
    names = unsupported_names(sentence, source, lang)
    if names:
        return f"names not in the section ({', '.join(names)})"
    words = content_words(sentence, lang)
    if not words:
        return "says nothing of the section"
    missing = [w for w in words if not supported(w, source, lang)]
    if len(missing) > max(1.0, (1 - support) * len(words)) or len(missing) == len(words):
        return f"words not in the section ({', '.join(missing[:5])})"
    nearest = closest(sentence, source, lang)
    if negated(sentence, lang) != negated(nearest, lang):
        return "turns around what the section says"
    widened = _SCOPE.findall(sentence.lower()) if lang == "en" else _SCOPE_JA.findall(sentence)
    if any(word not in (nearest.lower() if lang == "en" else nearest) for word in widened):
        return f"says more than the section ({', '.join(widened)})"
    if any(grounding(sentence, other, lang) > REPEAT for other in kept or []):
        return "repeats an earlier item"
    return None


def content_words(text: str, lang: str) -> list[str]:
    """The words that carry a claim: English stems without stopwords and numbers; Japanese kanji and
    katakana words, and Latin words."""
    folded = fold(text)
    if lang == "ja":
        return _KANJI.findall(text) + _KATAKANA.findall(text) + _LATIN_WORD.findall(folded)
    return [stem(w) for w in _LATIN_WORD.findall(folded) if w not in STOPWORDS_EN]


def supported(word: str, source: str, lang: str) -> bool:
    if lang == "ja":
        folded = fold(source)
        if word in source or word.lower() in folded:
            return True
        return bool(_KANJI.fullmatch(word)) and all(word[i : i + 2] in source for i in range(len(word) - 1))
    return word in _stems(source)


def _stems(source: str) -> set[str]:
    return {stem(w) for w in _LATIN_WORD.findall(fold(source))}


def stem(word: str) -> str:
    """A crude English stem, enough to count "linking" and "links" as "link"."""
    word = word.replace("’", "'").removesuffix("'s")
    for suffix, replacement in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def negated(text: str, lang: str) -> bool:
    return bool((_NEGATION_JA if lang == "ja" else _NEGATION_EN).search(text))


def closest(sentence: str, source: str, lang: str) -> str:
    """The section's sentence that shares most content words with `sentence`."""
    candidates = split_sentences(source, lang) or [source]
    words = set(content_words(sentence, lang))
    return max(candidates, key=lambda c: len(words & set(content_words(c, lang))))
