"""Timing by the waveform: word edges moved to where the sound starts and stops, and where speech ends.

Whisper's word times wander by a few hundred milliseconds near a pause; the waveform does not. Audio
here is at RATE, the recognizer's rate, unless a rate is given.
"""

from __future__ import annotations

import numpy as np

from mediagen.timeline import SpokenWord

RATE = 16_000  # the recognizer's sample rate (see mediagen.recognition)
# Quieter than 55 dB under the clip's loudest 10 ms is silence: a soft first sound ("The") is 45-55 dB under
# in the raw voice, and the final mix's compressor lifts it to where listeners and recognizers hear it.
SOUND_SHARE = 10 ** (-55 / 20)
PAUSE_SHARE = 10 ** (-50 / 20)  # and this quiet for PAUSE_S is a pause (a stop consonant is louder)
PAUSE_S = 0.08
AFTER_PAUSE_S = 0.05  # the least sound after a pause that may be the word


def snap_to_sound(words: list[SpokenWord], audio: np.ndarray, frame_s: float = 0.01) -> list[SpokenWord]:
    """Word edges moved to the sound (audio at RATE). Whisper's word starts near a pause are often
    off by a few hundred milliseconds either way: a word starts where the sound after the last pause
    between the previous word's end and its own sound begins (a start in silence moves forward, a start
    after the onset moves back), an end in silence moves back to where the sound stops. A word with no
    sound keeps its times. The first word starts where the clip's sound does."""
    rms = frame_rms(audio, frame_s)
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


def speech_end(audio: np.ndarray, frame_s: float = 0.02) -> float:
    """Seconds until the last frame louder than a tenth of the clip's loudest frame (at RATE)."""
    rms = frame_rms(audio, frame_s)
    loud = np.flatnonzero(rms > 0.1 * rms.max()) if rms.size and rms.max() > 0 else np.array([], int)
    return (loud[-1] + 1) * frame_s if loud.size else 0.0


def frame_rms(audio: np.ndarray, frame_s: float, rate: int = RATE) -> np.ndarray:
    """The loudness (RMS) of each whole frame of `frame_s` seconds of audio at `rate`."""
    size = round(frame_s * rate)
    frames = len(audio) // size
    return np.sqrt((audio[: frames * size].reshape(frames, size).astype(np.float64) ** 2).mean(axis=1))
