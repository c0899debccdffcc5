"""Scoring what was heard against what was meant: word error rate over normalized English words
(numbers, versions, symbols and letters said as words), character error rate over kana readings for
Japanese (so a homophone written with other kanji is not an error).

A sentence is scored against both its written text and the respelling the voice was given, and the
better of the two counts: the recognizer may write "PostgreSQL" for a voice told "Post-gress-Q-L".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from mediagen.speech import CURRENCY_WORDS, day_ordinals
from mediagen.text import kana_reading


@dataclass(frozen=True)
class Score:
    errors: int
    length: int  # reference words (English) or kana (Japanese)

    @property
    def rate(self) -> float:
        return self.errors / self.length if self.length else float(self.errors > 0)


def score(
    lang: str, written: str, spoken: str, heard: str, respell: Callable[[str], str] | None = None
) -> Score:
    """The best of the heard text against the written text and against the voice's respelling, and of
    the heard text respelled as the voice's was (`respell`) against the respelling: so a sentence with
    two respelled names is right whichever spelling the recognizer writes for each."""
    pairs = {(written, heard), (spoken, heard)}
    if respell is not None:
        pairs.add((spoken, respell(heard)))
    measure = _kana_score if lang == "ja" else _word_score
    return min((measure(ref, hyp) for ref, hyp in pairs), key=lambda s: s.rate)


def _kana_score(reference: str, heard: str) -> Score:
    import jiwer

    ref, hyp = kana_reading(reference), kana_reading(heard)
    if not ref:
        return Score(len(hyp), 0)
    if not hyp:
        return Score(len(ref), len(ref))
    out = jiwer.process_characters(ref, hyp)
    return Score(out.substitutions + out.deletions + out.insertions, len(ref))


def _word_score(reference: str, heard: str) -> Score:
    import jiwer

    ref, hyp = _sounds(english_words(reference)), _sounds(english_words(heard))
    # "issue's" and "issues" sound alike: a possessive in the reference may be heard as a plural.
    owners = {m.group(1).lower() for m in _POSSESSIVE.finditer(unicodedata.normalize("NFKC", reference))}
    owners -= set(_CONTRACTED)  # "who's" and "it's" are contractions, not possessives
    hyp = [t[:-1] if t.endswith("s") and t[:-1] in owners else t for t in hyp]
    letters = {token for token in ref if _letter(token)}  # a letter said on its own ("rust C")
    hyp = [_LETTER_NAMES[t] if _LETTER_NAMES.get(t) in letters else t for t in hyp]  # heard "rust sea"
    hyp, ref = _merge_compounds(hyp, set(ref)), _merge_compounds(ref, set(hyp))
    if not ref:
        return Score(len(hyp), 0)
    if not hyp:
        return Score(len(ref), len(ref))
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return Score(out.substitutions + out.deletions + out.insertions, len(ref))


# Words that sound like a letter's name: where the reference has that letter on its own, the
# recognizer writing the word heard the letter (as a kana reading makes homophones equal in Japanese).
_LETTER_NAMES = {
    "bee": "b", "see": "c", "sea": "c", "dee": "d", "gee": "g", "jay": "j", "kay": "k", "el": "l",
    "em": "m", "pea": "p", "pee": "p", "cue": "q", "queue": "q", "are": "r", "our": "r", "ess": "s",
    "tea": "t", "tee": "t", "you": "u", "vee": "v", "ex": "x", "why": "y", "zee": "z", "zed": "z",
}  # fmt: skip
_SYMBOL_WORDS = {"%": "percent", "&": "and", "+": "plus", "=": "equals"}
# A name made of letters and digits ("x86_64", "aarch64", "MP3") is one word, said as written.
_CODE = re.compile(r"\b[a-z]+\d+(?:[_-]?\d+)*\b|\b\d+[a-z]+\d*\b(?<!\d(?:st|nd|rd|th))")
_VERSION = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.]*\d)")
_POSSESSIVE = re.compile(r"\b(\w+)['’]s\b")
# "one hundred and one" and "one hundred one" are the same number said two ways.
_NUMBER_AND = re.compile(
    r"\b(hundred|thousand|million|billion|trillion)\s+and\s+(?=(?:one|two|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve|thirteen|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"|\w+teen\b)"
)


# Words that sound the same: which one the recognizer writes says nothing about the voice ("Who's
# Hiring" heard "whose hiring"). Each is scored as the first of its group.
_HOMOPHONES = (
    ("whose", "whos"), ("their", "there", "theyre"), ("your", "youre"), ("to", "too", "two"),
    ("week", "weak"), ("new", "knew"), ("right", "write"), ("no", "know"), ("by", "buy", "bye"),
    ("for", "four"), ("one", "won"), ("here", "hear"), ("site", "sight", "cite"), ("whole", "hole"),
    ("cache", "cash"), ("role", "roll"), ("peace", "piece"), ("wait", "weight"), ("allowed", "aloud"),
    ("principle", "principal"), ("break", "brake"), ("meet", "meat"), ("which", "witch"),
)  # fmt: skip
_SAME_SOUND = {word: group[0] for group in _HOMOPHONES for word in group}
# Contractions whose "'s"/"'re" must not be dropped as a possessive's is: "who's" sounds "whose",
# "it's" "its".
_CONTRACTED = ("who", "it", "they", "you")
_CONTRACTION = re.compile(rf"\b({'|'.join(_CONTRACTED)})['’](s|re)\b")


def _sounds(words: list[str]) -> list[str]:
    return [_SAME_SOUND.get(w, w) for w in words]


def english_words(text: str) -> list[str]:
    """Words for scoring: lower case, numbers as words ("1,000" and "one thousand" compare equal),
    versions as said ("1.90.0" == "1 point 90 point 0"), names of letters and digits as one word
    ("x86_64" == "x86-64"), symbols and "e.g." said as words, no punctuation; runs of single letters
    joined ("Q L" == "QL")."""
    from num2words import num2words

    text = day_ordinals(unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"\be\.g\.", " for example ", text)
    text = re.sub(r"\bi\.e\.", " that is ", text)
    text = _CODE.sub(lambda m: re.sub(r"[_-]", "", m.group(0)), text)
    text = _VERSION.sub(
        lambda m: " point ".join(f" {_number_words(p)} " for p in m.group(0).split(".")), text
    )
    text = re.sub(r"([$€£¥])\s?(\d+(?:\.\d+)?)", lambda m: f"{m.group(2)} {CURRENCY_WORDS[m.group(1)]}", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(\d+)(?:st|nd|rd|th)\b", lambda m: f" {num2words(int(m.group(1)), to='ordinal')} ", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?[x×]\b", r"\1 times", text)
    for symbol, words in _SYMBOL_WORDS.items():
        text = text.replace(symbol, f" {words} ")
    text = re.sub(r"(?<![a-z\d])\d+(?:\.\d+)?(?![a-z\d])", lambda m: f" {_number_words(m.group(0))} ", text)
    text = re.sub(r"(?<=\w)\s*/\s*(?=\w)", " slash ", text)
    text = re.sub(r"[-–—/_]", " ", text)
    text = _CONTRACTION.sub(r"\1\2", text)
    text = re.sub(r"['’]s\b", "", text)  # "Rust's" and "Rust" are heard alike
    text = re.sub(r"['’]", "", text)
    words = _NUMBER_AND.sub(r"\1 ", re.sub(r"[^\w\s]", " ", text)).split()
    joined: list[str] = []
    spelling = False  # the last word is a run of letters said one by one
    for word in words:
        if _letter(word) and spelling:
            joined[-1] += word
        else:
            joined.append(word)
            spelling = _letter(word)
    return joined


def _letter(word: str) -> bool:
    """A letter said on its own (as in an acronym), not the words "a" and "I"."""
    return len(word) == 1 and word not in ("a", "i")


def _number_words(digits: str) -> str:
    from num2words import num2words

    return num2words(float(digits) if "." in digits else int(digits))


def _merge_compounds(tokens: list[str], vocabulary: set[str]) -> list[str]:
    """Adjacent tokens joined where the other side has them as one word ("trade off" == "tradeoff")."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2):
            if i + n <= len(tokens) and "".join(tokens[i : i + n]) in vocabulary:
                out.append("".join(tokens[i : i + n]))
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out
