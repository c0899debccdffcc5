"""Language-aware text helpers shared by the stages: detection, sentences, words, numbers, grounding."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_JA_SENTENCE_END = "。！？!?"
# Full stops that never end a sentence: glued to what follows (`a().b()`, `file.rs`), starting a name
# (`.cargo`, `.NET`), or inside "e.g." and "i.e." (which pysbd splits after when a lower-case word follows).
_GLUED_STOP = re.compile(
    r"(?<=[\w)\]])\.(?=[A-Za-z_(])|(?<![^\s(\[`'\"])\.(?=\w)|(?<=\b[eE]\.[gG])\.|(?<=\b[iI]\.[eE])\."
)
_STOP_PLACEHOLDER = "\ue000"

STOPWORDS_EN = frozenset(
    """
    a an the and or but if then so of to in on at by for with from into onto over under about as is
    are was were be been being it its this that these those there here we you they he she i our your
    their his her my me us them will would can could should may might must do does did done has have
    had not no yes also just than very more most much many some any all each every such only other
    which who whom whose what when where why how up down out off again further once both few own
    same too s t now new use using used
    """.split()
)


_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


_JA_AROUND_BREAK = re.compile(
    r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])[ \t]*\n\s*(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])"
)


def clean_text(text: str) -> str:
    """Text as the author meant it to be read: template tags and control characters (terminal escapes
    included) dropped, whitespace collapsed; a line break between Japanese characters (a hard-wrapped
    paragraph) joins them without a space."""
    text = _TEMPLATE_TAG.sub(" ", text)
    text = _JA_AROUND_BREAK.sub("", text)
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def clean_code(text: str) -> str:
    """Code as shown: control characters dropped, but lines and tabs kept."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def letter_script(ch: str) -> str:
    """The writing system of a letter, from its Unicode name: LATIN, GREEK, CYRILLIC, HAN, HIRAGANA,
    KATAKANA, HANGUL, ARABIC… (full- and half-width forms count as their script)."""
    words = unicodedata.name(ch, "UNKNOWN").replace("-", " ").split()
    if words[0] in ("FULLWIDTH", "HALFWIDTH") and len(words) > 1:
        words = words[1:]
    if words[0] in ("CJK", "IDEOGRAPHIC"):
        return "HAN"
    return words[0]


def detect_language(text: str) -> str:
    """'ja' when kana/kanji make up a real share of the letters, else 'en'."""
    cjk = len(_KANA_KANJI.findall(text))
    latin = len(_LATIN.findall(text))
    return "ja" if cjk and cjk >= 0.2 * (cjk + latin) else "en"


@functools.cache
def _segmenter(lang: str):
    import pysbd

    return pysbd.Segmenter(language=lang, clean=False)


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences of one paragraph, trimmed; pysbd knows abbreviations, versions and Japanese stops.

    A full stop glued to what follows (`a().b()`, `file.rs`), starting a name (`.cargo`) or inside "e.g."
    and "i.e." never ends a sentence.
    """
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    protected = _GLUED_STOP.sub(_STOP_PLACEHOLDER, text)
    pieces = [piece.replace(_STOP_PLACEHOLDER, ".") for piece in _whole(protected, lang)]
    return [part for piece in pieces for part in _bounded(piece) if any(ch.isalnum() for ch in part)]


# What closes a sentence after its full stop: quotes and brackets.
CLOSERS = "\"'”’)）」』】"


def _whole(text: str, lang: str) -> list[str]:
    """pysbd's sentences of `text`, a closing bracket or quote kept with the sentence it closes: after a
    Japanese full stop ("…しています。)"), pysbd gives it to the next sentence or makes it one."""
    sentences: list[str] = []
    for piece in (piece.strip() for piece in _segmenter(lang).segment(text)):
        closers = len(piece) - len(piece.lstrip(CLOSERS)) if sentences else 0
        if closers:
            sentences[-1] += piece[:closers]
            piece = piece[closers:].strip()
        if piece:
            sentences.append(piece)
    return sentences


MAX_SENTENCE_CHARS = 300


def _bounded(sentence: str) -> list[str]:
    """A run-on "sentence" (no stops for pages) cut into pieces a voice can say in one breath: after a
    clause mark where there is one, else at a space, else anywhere."""
    parts: list[str] = []
    while len(sentence) > MAX_SENTENCE_CHARS:
        window = sentence[:MAX_SENTENCE_CHARS]
        cut = max(window.rfind(mark) + 1 for mark in ",;:、，")
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = MAX_SENTENCE_CHARS
        parts.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return [*parts, sentence] if sentence else parts


def ensure_sentence_end(text: str, lang: str) -> str:
    """Close a heading or list item with a full stop so the voice ends it like a sentence."""
    text = text.strip()
    if not text or text[-1] in ".!?…:;" + _JA_SENTENCE_END:
        return text
    return text + ("。" if lang == "ja" else ".")


def fold(text: str) -> str:
    """Compare-friendly form: NFKC (full-width digits and letters become ASCII), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def content_words(text: str, lang: str) -> list[str]:
    """Words that carry meaning: English words minus stopwords; for Japanese, character bigrams."""
    folded = fold(text)
    if lang == "ja":
        chars = [ch for ch in folded if ch.isalnum()]
        return ["".join(pair) for pair in itertools.pairwise(chars)]
    return [w for w in _WORD.findall(folded) if w not in STOPWORDS_EN and not w.isdigit()]


def numbers(text: str) -> set[str]:
    """Numbers in the text as values: thousands separators removed ("1,000" == "1000"), full-width
    digits folded, and English number words read ("seven times" == "7x", "twenty-five" == "25")."""
    found = set()
    folded = fold(text)
    for match in _NUMBER.findall(folded):
        value = re.sub(r",(?=\d{3}\b)", "", match).rstrip(".,")
        found.add(value[:-2] if value.endswith(".0") else value)
    for word in re.findall(r"[a-z]+(?:-[a-z]+)?", folded):
        if word in _number_words():
            found.add(_number_words()[word])
    return found


@functools.cache
def _number_words() -> dict[str, str]:
    from num2words import num2words

    words = {num2words(n): str(n) for n in range(2, 100)}
    words |= {num2words(n, to="ordinal"): str(n) for n in range(3, 32)}
    # "one", "first" and "second" are as often plain words ("one of", "at first", "a second look").
    return words | {"hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000"}


# Words that start sentences or name months and days without being a claim about the section.
_NOT_NAMES = frozenset("i a an the this that these those it we you they".split())
_KATAKANA_WORD = re.compile(r"[ァ-ヺー]{3,}")
_LATIN_NAME = re.compile(r"\b[A-Z][\w.+#-]*[\w+#]|\b[A-Z]\b")


def unsupported_names(text: str, source: str, lang: str) -> list[str]:
    """Proper nouns in the text that the source never mentions: capitalized words after a sentence's
    first word (English), Latin-script words and katakana words (Japanese)."""
    folded_source = fold(source)
    if lang == "ja":
        candidates = _KATAKANA_WORD.findall(text) + re.findall(
            r"[A-Za-z][A-Za-z0-9.+#-]*[A-Za-z0-9+#]|[A-Za-z]", text
        )
    else:
        candidates = []
        for sentence in split_sentences(text, lang) or [text]:
            words = _LATIN_NAME.findall(sentence)
            # A sentence's first word is capitalized anyway; it counts only when written like a name
            # ("GitHub", "NVIDIA"), not like a word ("Construction").
            if words and sentence.lstrip(" \"'“‘(").startswith(words[0]) and words[0].istitle():
                words = words[1:]
            candidates += words
    missing = []
    for name in candidates:
        if fold(name) not in folded_source and name not in missing and name.casefold() not in _NOT_NAMES:
            missing.append(name)
    return missing


def grounding(text: str, source: str, lang: str) -> float:
    """Share of the text's content words that occur in the source (1.0 = every word grounded)."""
    words = content_words(text, lang)
    if not words:
        return 0.0
    source_words = set(content_words(source, lang))
    return sum(word in source_words for word in words) / len(words)


def unsupported_numbers(text: str, source: str) -> set[str]:
    return numbers(text) - numbers(source)


def word_count(text: str, lang: str) -> int:
    """Words for English; characters / 2.5 for Japanese (roughly a word's worth of reading)."""
    if lang == "ja":
        return round(len([ch for ch in text if ch.isalnum()]) / 2.5)
    return len(_WORD.findall(text))


def kana_reading(text: str) -> str:
    """Katakana reading of Japanese text (via OpenJTalk), without punctuation: homophones compare equal."""
    import pyopenjtalk

    reading = pyopenjtalk.g2p(unicodedata.normalize("NFKC", text), kana=True)
    return "".join(ch for ch in reading if ch.isalnum() or ch == "ー")


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance between the two strings, per reference character (jiwer)."""
    import jiwer

    if not reference:
        return float(bool(hypothesis))
    if not hypothesis:
        return 1.0
    return jiwer.cer(reference, hypothesis)


# Japanese line breaking (kinsoku): characters a line may not start with, and may not end with.
NO_LINE_START = set(
    "。、，．・：；？！゛゜ヽヾゝゞ々ー’”）〕］｝〉》」』】ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ!),.:;?]}"
)
NO_LINE_END = set("（〔［｛〈《「『【([{")


def phrase_end(text: str, i: int) -> bool:
    """Whether a Japanese phrase ends before character i: after a comma or full stop, or where
    OpenJTalk's analysis starts a new accent phrase (a bunsetsu: "手元の|機械で|動かせる|新しい|道具を")."""
    return text[i - 1] in "、。，" or i in accent_phrase_starts(text)


@functools.lru_cache(maxsize=256)
def accent_phrase_starts(text: str) -> frozenset[int]:
    import pyopenjtalk

    starts, cursor = set(), 0
    for token in pyopenjtalk.run_frontend(text):
        at = text.find(token["string"], cursor)
        if at < 0:  # OpenJTalk rewrote this token (width, symbols): go on after it
            continue
        if token["chain_flag"] == 0 and token["pos"] != "記号":
            starts.add(at)
        cursor = at + len(token["string"])
    return frozenset(starts)


def japanese_phrases(text: str) -> list[str]:
    """Japanese text cut where a line may break without splitting a word: between accent phrases
    (see phrase_end), never inside a run of katakana, never after an opening bracket or before a
    closing one or a comma or full stop."""
    cuts = [
        i
        for i in range(1, len(text))
        if phrase_end(text, i)
        and text[i] not in NO_LINE_START
        and text[i - 1] not in NO_LINE_END
        and not (letter_script(text[i - 1]) == letter_script(text[i]) == "KATAKANA")
    ]
    return [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]
