"""The episode's timeline: when each sentence, section and slide is heard and seen. These types cross
stage boundaries (voice makes them; music, align, assemble and publish read them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class SpokenWord:
    """A word as the speech recognizer heard it, with its time (relative to what holds it)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class VoicedSentence:
    section_id: str
    text: str  # as written (captions show this)
    spoken: str  # as sent to the voice
    start: float
    end: float
    words: tuple[SpokenWord, ...] = ()  # heard by the QA check, in episode time (empty without it)
    speaker: str | None = None  # who says it (a dialogue's host), for captions


@dataclass(frozen=True)
class SectionSpan:
    id: str
    title: str
    start: float
    end: float


@dataclass
class Voiceover:
    samples: np.ndarray  # mono float32
    sample_rate: int
    sentences: list[VoicedSentence]
    sections: list[SectionSpan]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class SlideSpan:
    index: int  # position in the deck
    start: float
    end: float


def on_grid(sample: int, rate: int, grid_s: Fraction) -> int:
    """The first sample at or after `sample` that is a whole number of `grid_s` seconds from the start."""
    return round(math.ceil(Fraction(sample, rate) / grid_s) * grid_s * rate)
