"""qa: what the voice really said. Every sentence's audio is transcribed with faster-whisper and scored
against what was meant to be said: word error rate for English, character error rate over kana
readings for Japanese (so a homophone written with other kanji is not an error).

A sentence is scored against both its written text and the respelling the voice was given, and the
better of the two counts: the recognizer may write "PostgreSQL" for a voice told "Post-gress-Q-L".
The words the recognizer heard, with their times, also time the captions (see `align`).

Sentences are transcribed in windows of up to WINDOW_S seconds, joined by short silences: the
recognizer's cost is per 30-second window, so one pass per window instead of one per sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from mediagen.engines.base import ASREngine
from mediagen.media.samples import resample
from mediagen.text import kana_reading
from mediagen.timeline import SpokenWord

ASR_RATE = 16_000
WINDOW_S = 24.0
GAP_S = 0.5
RETAKE_SHARE = 0.5  # a sentence heard with more than this share of the limit is voiced a second time
METRIC = {"en": "wer", "ja": "kana-cer"}
FLAG = "asr-mismatch"


@dataclass(frozen=True)
class Heard:
    """What the recognizer heard in one sentence's clip."""

    words: tuple[SpokenWord, ...]  # times relative to the clip

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()

    def to_json(self) -> list[list[object]]:
        return [[w.text, round(w.start, 3), round(w.end, 3)] for w in self.words]

    @classmethod
    def from_json(cls, rows: list[list[object]]) -> Heard:
        return cls(tuple(SpokenWord(str(t), float(s), float(e)) for t, s, e in rows))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Score:
    errors: int
    length: int  # reference words (English) or kana (Japanese)

    @property
    def rate(self) -> float:
        return self.errors / self.length if self.length else float(self.errors > 0)


@dataclass
class Check:
    """One sentence's verdict: the take used, what was heard and how well it matched."""

    section_id: str
    text: str
    spoken: str
    take: int
    heard: Heard
    score: Score
    flagged: bool
    retakes: list[float] = field(default_factory=list)  # scores of the takes not used

    def to_report(self) -> dict[str, object]:
        return {
            "section": self.section_id,
            "text": self.text,
            "heard": self.heard.text,
            "score": round(self.score.rate, 4),
            "take": self.take,
            "flagged": self.flagged,
        }


# --- recognizing: clips packed into windows --------------------------------------------------------


def pack(clips: list[np.ndarray], rate: int) -> list[tuple[np.ndarray, list[tuple[int, float, float]]]]:
    """Windows of at most WINDOW_S seconds (a longer clip gets one of its own): each is the audio and,
    per clip in it, (clip number, start, end) in seconds within the window."""
    windows: list[tuple[np.ndarray, list[tuple[int, float, float]]]] = []
    gap = np.zeros(round(GAP_S * ASR_RATE), np.float32)
    pieces: list[np.ndarray] = []
    placed: list[tuple[int, float, float]] = []
    cursor = 0.0
    for number, clip in enumerate(clips):
        audio = resample(clip, rate, ASR_RATE)
        seconds = len(audio) / ASR_RATE
        if placed and cursor + seconds > WINDOW_S:
            windows.append((np.concatenate(pieces), placed))
            pieces, placed, cursor = [], [], 0.0
        if not placed:
            pieces.append(gap)
            cursor = GAP_S
        placed.append((number, cursor, cursor + seconds))
        pieces += [audio, gap]
        cursor += seconds + GAP_S
    if placed:
        windows.append((np.concatenate(pieces), placed))
    return windows


def recognize(asr: ASREngine, clips: list[np.ndarray], rate: int, lang: str) -> list[Heard]:
    """What was heard in each clip, word by word, with times relative to the clip."""
    heard: list[list[SpokenWord]] = [[] for _ in clips]
    for audio, placed in pack(clips, rate):
        transcript = asr.transcribe(audio, lang)
        for word in transcript.words:
            middle = (word.start + word.end) / 2
            number, start, end = min(placed, key=lambda p: _distance(middle, p[1], p[2]))
            if _distance(middle, start, end) > GAP_S / 2:
                continue  # heard in a silence between clips
            duration = end - start
            heard[number].append(
                SpokenWord(
                    word.text,
                    min(max(0.0, word.start - start), duration),
                    min(max(0.0, word.end - start), duration),
                )
            )
    return [Heard(tuple(words)) for words in heard]


def _distance(t: float, start: float, end: float) -> float:
    return max(start - t, 0.0, t - end)


# --- scoring ---------------------------------------------------------------------------------------


def score(lang: str, written: str, spoken: str, heard: str) -> Score:
    """The better of the heard text against the written text and against the voice's respelling."""
    if lang == "ja":
        return min((_kana_score(ref, heard) for ref in {written, spoken}), key=lambda s: s.rate)
    return min((_word_score(ref, heard) for ref in {written, spoken}), key=lambda s: s.rate)


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

    ref, hyp = english_words(reference), english_words(heard)
    hyp, ref = _merge_compounds(hyp, set(ref)), _merge_compounds(ref, set(hyp))
    if not ref:
        return Score(len(hyp), 0)
    if not hyp:
        return Score(len(ref), len(ref))
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return Score(out.substitutions + out.deletions + out.insertions, len(ref))


_CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}


def english_words(text: str) -> list[str]:
    """Words for scoring: lower case, numbers as words ("1,000" and "one thousand" compare equal),
    symbols said as words, no punctuation; runs of single letters joined ("Q L" == "QL")."""
    from num2words import num2words

    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"([$€£¥])\s?(\d+(?:\.\d+)?)", lambda m: f"{m.group(2)} {_CURRENCY[m.group(1)]}", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(\d+)(?:st|nd|rd|th)\b", lambda m: f" {num2words(int(m.group(1)), to='ordinal')} ", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?[x×]\b", r"\1 times", text)
    text = text.replace("%", " percent ").replace("&", " and ").replace("+", " plus ")
    text = re.sub(r"\d+(?:\.\d+)?", lambda m: f" {_number_words(m.group(0))} ", text)
    text = re.sub(r"[-–—/_]", " ", text)
    text = re.sub(r"['’]s\b", "", text)  # "Rust's" and "Rust" are heard alike
    text = re.sub(r"['’]", "", text)
    words = re.sub(r"[^\w\s]", " ", text).split()
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


def overall(checks: list[Check]) -> float:
    errors = sum(c.score.errors for c in checks)
    length = sum(c.score.length for c in checks)
    return errors / length if length else 0.0


def report(checks: list[Check], lang: str, asr_id: str, limit: float) -> dict[str, object]:
    """The `qa` block of report.json: per sentence and per section scores, the overall score, the
    flagged sentences and how many were re-voiced."""
    sections: dict[str, list[Check]] = {}
    for check in checks:
        sections.setdefault(check.section_id, []).append(check)
    return {
        "asr": asr_id,
        "metric": METRIC[lang],
        "max_error": limit,
        "overall": round(overall(checks), 4),
        "sections": {sid: round(overall(group), 4) for sid, group in sections.items()},
        "retaken": sum(1 for c in checks if c.retakes),
        "flagged": [n for n, c in enumerate(checks) if c.flagged],
        "sentences": [c.to_report() for c in checks],
    }
