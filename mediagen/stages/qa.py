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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mediagen.engines.base import ASREngine
from mediagen.media.samples import resample
from mediagen.speech import CURRENCY_WORDS, day_ordinals
from mediagen.text import kana_reading
from mediagen.timeline import SpokenWord

ASR_RATE = 16_000
WINDOW_S = 24.0
GAP_S = 0.5
UNHEARD_S = 1.0  # speech left after the last heard word that is heard again
REST_OVERLAP_S = 0.1
# Quieter than 55 dB under the clip's loudest 10 ms is silence: a soft first sound ("The") is 45-55 dB under
# in the raw voice, and the final mix's compressor lifts it to where listeners and recognizers hear it.
SOUND_SHARE = 10 ** (-55 / 20)
PAUSE_SHARE = 10 ** (-50 / 20)  # and this quiet for PAUSE_S is a pause (a stop consonant is louder)
PAUSE_S = 0.08
AFTER_PAUSE_S = 0.05  # the least sound after a pause that may be the word
# A sentence heard with more than this share of the limit is voiced a second time (the better take is
# kept). English: any word heard wrong, as piper is fast (RTF 0.05) and a fresh take is often heard right;
# Japanese: half the limit, as kokoro is 8x slower and kana-CER is rarely zero even when all is right.
RETAKE_SHARE = {"en": 0.0, "ja": 0.5}
METRIC = {"en": "wer", "ja": "kana-cer"}
# A second opinion on sentences the first recognizer heard imperfectly: for English the multilingual
# base model (tiny.en mishears names the voice said well: "crates" as "create", "rustup" as "Russ up");
# Japanese is heard by base already. The better of the two hearings counts.
SECOND_OPINION = {"en": "base"}


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
    flagged: bool = False
    retakes: list[float] = field(default_factory=list)  # scores of the takes not used
    heard_by: str | None = None  # the second recognizer, where it heard the sentence better

    def to_report(self) -> dict[str, object]:
        return {
            "section": self.section_id,
            "text": self.text,
            "heard": self.heard.text,
            "score": round(self.score.rate, 4),
            "errors": self.score.errors,
            "length": self.score.length,
            "take": self.take,
            "flagged": self.flagged,
        } | ({"heard_by": self.heard_by} if self.heard_by else {})


# --- recognizing: clips packed into windows --------------------------------------------------------


def pack(clips: list[np.ndarray]) -> list[tuple[np.ndarray, list[tuple[int, float, float]]]]:
    """Windows of at most WINDOW_S seconds (a longer clip gets one of its own) of clips at ASR_RATE:
    each is the audio and, per clip in it, (clip number, start, end) in seconds within the window."""
    windows: list[tuple[np.ndarray, list[tuple[int, float, float]]]] = []
    gap = np.zeros(round(GAP_S * ASR_RATE), np.float32)
    pieces: list[np.ndarray] = []
    placed: list[tuple[int, float, float]] = []
    cursor = 0.0
    for number, audio in enumerate(clips):
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
    """What was heard in each clip, word by word, with times relative to the clip.

    Whisper sometimes stops decoding before a window ends (the tiny model especially, after a word it
    could not place): where a clip's speech goes on for more than UNHEARD_S after its last heard word,
    or nothing was heard in it at all, the rest of the clip is heard again on its own and its words
    added.
    """
    audio = [resample(clip, rate, ASR_RATE) for clip in clips]
    heard = _heard_in_windows(asr, audio, lang)
    rests = []
    for number, words in enumerate(heard):
        until, end = (words[-1].end if words else 0.0), speech_end(audio[number])
        if end - until > UNHEARD_S or (not words and end > 0):
            rests.append((number, until))
    if rests:
        offsets = [max(0.0, until - REST_OVERLAP_S) for _, until in rests]
        tails = [audio[n][round(at * ASR_RATE) :] for (n, _), at in zip(rests, offsets, strict=True)]
        for (number, until), at, words in zip(
            rests, offsets, _heard_in_windows(asr, tails, lang), strict=True
        ):
            heard[number] += [
                SpokenWord(w.text, w.start + at, w.end + at)
                for w in words
                if (w.start + w.end) / 2 + at > until
            ]
    return [Heard(tuple(snap_to_sound(words, clip))) for words, clip in zip(heard, audio, strict=True)]


def snap_to_sound(words: list[SpokenWord], audio: np.ndarray, frame_s: float = 0.01) -> list[SpokenWord]:
    """Word edges moved to the sound (audio at ASR_RATE). Whisper's word starts near a pause are often
    off by a few hundred milliseconds either way: a word starts where the sound after the last pause
    between the previous word's end and its own sound begins (a start in silence moves forward, a start
    after the onset moves back), an end in silence moves back to where the sound stops. A word with no
    sound keeps its times. The first word starts where the clip's sound does."""
    rms = _frame_rms(audio, frame_s)
    frames = len(rms)
    if not frames or not words:
        return words
    loud = rms > rms.max() * SOUND_SHARE
    still = rms <= rms.max() * PAUSE_SHARE
    pause, sound = round(PAUSE_S / frame_s), round(AFTER_PAUSE_S / frame_s)
    snapped: list[SpokenWord] = []
    previous = 0  # the frame where the previous word's sound ends
    for word in words:
        first, last = int(word.start / frame_s), min(frames, int(np.ceil(word.end / frame_s)))
        run, onset = 0, None
        for i in range(previous, last - sound):  # the last pause before enough of this word's sound
            run = run + 1 if still[i] else 0
            if run >= pause and not still[i + 1]:
                onset = i + 1
        begin = onset if onset is not None else first
        inside = np.flatnonzero(loud[begin:last])
        if inside.size:
            start = (begin + inside[0]) * frame_s
            start = start if onset is not None else max(word.start, start)
            end = min(word.end, (begin + inside[-1] + 1) * frame_s)
            word = SpokenWord(word.text, start, max(start, end))
        snapped.append(word)
        previous = max(previous, int(np.ceil(word.end / frame_s)))
    sound = np.flatnonzero(loud)
    if sound.size and sound[0] * frame_s < snapped[0].start:  # a clip is one sentence: its first
        snapped[0] = SpokenWord(snapped[0].text, sound[0] * frame_s, snapped[0].end)  # word starts it
    return _close_gaps(snapped, still, pause, frame_s)


def _close_gaps(words: list[SpokenWord], still: np.ndarray, pause: int, frame_s: float) -> list[SpokenWord]:
    """Where whisper leaves a gap between two words but the voice did not pause, the words meet in the
    middle of the gap: the boundary is somewhere in it, and a gap there is no pause to cut a cue at."""
    closed = list(words)
    for n in range(1, len(closed)):
        before, word = closed[n - 1], closed[n]
        gap = still[int(before.end / frame_s) : int(np.ceil(word.start / frame_s))]
        if word.start <= before.end or _longest_run(gap) >= pause:
            continue
        middle = (before.end + word.start) / 2
        closed[n - 1] = SpokenWord(before.text, before.start, max(before.start, middle))
        closed[n] = SpokenWord(word.text, middle, max(middle, word.end))
    return closed


def _longest_run(flags: np.ndarray) -> int:
    longest = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def _heard_in_windows(asr: ASREngine, clips: list[np.ndarray], lang: str) -> list[list[SpokenWord]]:
    heard: list[list[SpokenWord]] = [[] for _ in clips]
    for audio, placed in pack(clips):
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
    return heard


def speech_end(audio: np.ndarray, frame_s: float = 0.02) -> float:
    """Seconds until the last frame louder than a tenth of the clip's loudest frame (at ASR_RATE)."""
    rms = _frame_rms(audio, frame_s)
    loud = np.flatnonzero(rms > 0.1 * rms.max()) if rms.size and rms.max() > 0 else np.array([], int)
    return (loud[-1] + 1) * frame_s if loud.size else 0.0


def _frame_rms(audio: np.ndarray, frame_s: float) -> np.ndarray:
    """The loudness (RMS) of each whole frame of `frame_s` seconds of audio at ASR_RATE."""
    size = round(frame_s * ASR_RATE)
    frames = len(audio) // size
    return np.sqrt((audio[: frames * size].reshape(frames, size).astype(np.float64) ** 2).mean(axis=1))


def _distance(t: float, start: float, end: float) -> float:
    return max(start - t, 0.0, t - end)


def needs_retake(score: Score, lang: str, limit: float) -> bool:
    """Whether a sentence heard with `score` is voiced a second time (see RETAKE_SHARE)."""
    return score.rate > limit * RETAKE_SHARE[lang]


# --- scoring ---------------------------------------------------------------------------------------


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

    ref, hyp = english_words(reference), english_words(heard)
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
    "em": "m", "pea": "p", "pee": "p", "cue": "q", "queue": "q", "are": "r", "ess": "s", "tea": "t",
    "tee": "t", "you": "u", "vee": "v", "ex": "x", "why": "y", "zee": "z", "zed": "z",
}  # fmt: skip
_SYMBOL_WORDS = {"%": "percent", "&": "and", "+": "plus", "=": "equals"}
# A name made of letters and digits ("x86_64", "aarch64", "MP3") is one word, said as written.
_CODE = re.compile(r"\b[a-z]+\d+(?:[_-]?\d+)*\b|\b\d+[a-z]+\d*\b(?<!\d(?:st|nd|rd|th))")
_VERSION = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.]*\d)")


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
