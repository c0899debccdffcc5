"""music: intro and outro clips around the narration, and a bed under it that ducks while someone speaks.

The ducking follows the synthesized sentences' exact times (no guessing from the signal): the bed is
`duck_db` quieter from just before each sentence to just after it, with short ramps, and fades in and
out at its ends. The narration moves back by the intro's length, and every time in the voiceover moves
with it, so captions, slides and chapters stay on the words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from mediagen.config import Music
from mediagen.timeline import SectionSpan, VoicedSentence, Voiceover, on_grid

OVERLAP_S = 0.5  # the voice starts while the intro rings out, and the outro starts as the voice ends
INTRO_LEAD_S = 0.05  # silence before the intro: the encoders' priming stands there (see media.parts)
RAMP_S = 0.15
FADE_IN_S = 1.5
FADE_OUT_S = 2.0

Decoder = Callable[[Path, int], np.ndarray]


def add_music(
    voiceover: Voiceover, music: Music, decode: Decoder, grid_s: Fraction | None = None
) -> Voiceover:
    """The voiceover with its music. `grid_s`: the narration is moved by a whole number of these (its
    sections stay on the grid lay_out put them on; see media.parts)."""
    if not music.configured:
        return voiceover
    rate = voiceover.sample_rate
    intro = decode(music.intro, rate) if music.intro else np.zeros(0, np.float32)
    outro = decode(music.outro, rate) if music.outro else np.zeros(0, np.float32)
    lead = round(INTRO_LEAD_S * rate) if len(intro) else 0
    offset = max(0, lead + len(intro) - int(OVERLAP_S * rate)) if len(intro) else 0
    if offset and grid_s:
        offset = on_grid(offset, rate, grid_s)
    voice_end = offset + len(voiceover.samples)
    outro_start = max(0, voice_end - int(OVERLAP_S * rate)) if len(outro) else voice_end
    total = max(voice_end, outro_start + len(outro), lead + len(intro))
    mix = np.zeros(total, np.float32)
    mix[lead : lead + len(intro)] += intro
    mix[offset:voice_end] += voiceover.samples
    mix[outro_start : outro_start + len(outro)] += outro
    shifted = _shift(voiceover, offset / rate, total / rate)
    if music.bed:
        bed = _loop(decode(music.bed, rate), voice_end - offset)
        gain = bed_gain(shifted.sentences, offset, voice_end, rate, music.bed_db, music.duck_db)
        mix[offset:voice_end] += bed * gain
    return replace(shifted, samples=mix)


def bed_gain(
    sentences: list[VoicedSentence], start: int, end: int, rate: int, bed_db: float, duck_db: float
) -> np.ndarray:
    """Gain of the bed over [start, end) samples: `bed_db` in the pauses, `duck_db` lower under speech."""
    length = end - start
    ducked = np.zeros(length, np.float32)
    for sentence in sentences:
        first = max(0, int((sentence.start - RAMP_S) * rate) - start)
        last = min(length, int((sentence.end + RAMP_S) * rate) - start)
        ducked[first:last] = 1.0
    ramp = max(1, int(RAMP_S * rate))
    smooth = np.convolve(ducked, np.ones(ramp, np.float32) / ramp, mode="same")
    smooth = np.maximum(smooth, ducked)  # full depth during the words themselves
    level_db = bed_db - duck_db * smooth
    fades = np.minimum(
        1.0,
        np.minimum(
            np.arange(length) / (FADE_IN_S * rate), (length - np.arange(length)) / (FADE_OUT_S * rate)
        ),
    )
    return (10 ** (level_db / 20) * np.clip(fades, 0.0, 1.0)).astype(np.float32)


def _loop(clip: np.ndarray, length: int) -> np.ndarray:
    if len(clip) == 0:
        return np.zeros(length, np.float32)
    return np.tile(clip, length // len(clip) + 1)[:length]


def _shift(voiceover: Voiceover, seconds: float, total: float) -> Voiceover:
    """Every time in the voiceover `seconds` later: sentences, the words heard in them, sections."""
    sentences = [
        replace(
            s,
            start=s.start + seconds,
            end=s.end + seconds,
            words=tuple(replace(w, start=w.start + seconds, end=w.end + seconds) for w in s.words),
        )
        for s in voiceover.sentences
    ]
    sections = [
        SectionSpan(
            s.id,
            s.title,
            0.0 if i == 0 else s.start + seconds,
            total if i == len(voiceover.sections) - 1 else s.end + seconds,
        )
        for i, s in enumerate(voiceover.sections)
    ]
    return replace(voiceover, sentences=sentences, sections=sections)
