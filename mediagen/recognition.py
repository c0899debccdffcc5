"""Recognition: what the recognizer heard in each clip, word by word, with times relative to the clip.

Sentences are transcribed in windows of up to WINDOW_S seconds, joined by short silences: the
recognizer's cost is per 30-second window, so one pass per window instead of one per sentence. The
words' edges are then moved to the sound (see mediagen.timing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mediagen.engines.base import ASREngine
from mediagen.media.samples import resample
from mediagen.runner import budget
from mediagen.timeline import SpokenWord
from mediagen.timing import RATE, snap_to_sound, speech_end

ASR_RATE = RATE
WINDOW_S = 24.0
GAP_S = 0.5
UNHEARD_S = 1.0  # speech left after the last heard word that is heard again
REST_OVERLAP_S = 0.1


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


def pack(
    clips: list[np.ndarray], at_least: int = 1
) -> list[tuple[np.ndarray, list[tuple[int, float, float]]]]:
    """Windows of at most WINDOW_S seconds (a longer clip gets one of its own) of clips at ASR_RATE, and
    `at_least` windows where there are as many clips (to be heard at once): each is the audio and, per
    clip in it, (clip number, start, end) in seconds within the window."""
    windows: list[tuple[np.ndarray, list[tuple[int, float, float]]]] = []
    gap = np.zeros(round(GAP_S * ASR_RATE), np.float32)
    total = sum(len(audio) / ASR_RATE + GAP_S for audio in clips) + GAP_S
    longest = min(WINDOW_S, total / max(1, at_least))
    pieces: list[np.ndarray] = []
    placed: list[tuple[int, float, float]] = []
    cursor = 0.0
    for number, audio in enumerate(clips):
        seconds = len(audio) / ASR_RATE
        if placed and cursor + seconds > longest:
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


def _heard_in_windows(asr: ASREngine, clips: list[np.ndarray], lang: str) -> list[list[SpokenWord]]:
    """The words heard in each clip, its windows heard as many at a time as the recognizer allows."""
    heard: list[list[SpokenWord]] = [[] for _ in clips]
    windows = pack(clips, asr.concurrency)
    hear = budget().map(
        lambda window: asr.transcribe(window[0], lang), windows, each=asr.call_cores, width=asr.concurrency
    )
    transcripts = list(hear)
    for (_, placed), transcript in zip(windows, transcripts, strict=True):
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


def _distance(t: float, start: float, end: float) -> float:
    return max(start - t, 0.0, t - end)
