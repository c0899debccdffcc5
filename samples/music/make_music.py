"""Generate the sample music shipped with mediagen: a short jingle and a loopable bed.

Both are synthesized here from sine partials (no samples, no recordings), so they are the project's own
work and as free as the code. Run `python samples/music/make_music.py` to write them again.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 24_000
HERE = Path(__file__).parent


def note(frequency: float, seconds: float, decay: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    partials = sum(np.sin(2 * np.pi * frequency * k * t) / k**1.5 for k in (1, 2, 3, 4))
    attack = np.minimum(1.0, t / 0.01)
    return (partials * attack * np.exp(-decay * t)).astype(np.float32)


def jingle() -> np.ndarray:
    """A rising major arpeggio that ends on a held chord: 3.5 s."""
    out = np.zeros(int(3.5 * RATE), np.float32)
    for start, frequency in [(0.0, 261.63), (0.18, 329.63), (0.36, 392.00), (0.54, 523.25)]:
        clip = note(frequency, 1.2, decay=4.0)
        begin = int(start * RATE)
        out[begin : begin + len(clip)] += clip
    for frequency in (261.63, 329.63, 392.00, 523.25):
        clip = note(frequency, 2.6, decay=1.6)
        begin = int(0.8 * RATE)
        out[begin : begin + len(clip)] += 0.5 * clip
    fade = np.minimum(1.0, (len(out) - np.arange(len(out))) / (0.4 * RATE))
    return out * fade


def bed() -> np.ndarray:
    """A soft four-chord pad, 16 s, whose end flows into its start (so it loops)."""
    chords = [(220.00, 277.18, 329.63), (174.61, 220.00, 261.63), (196.00, 246.94, 293.66), (164.81, 207.65, 246.94)]
    t = np.arange(int(4.0 * RATE)) / RATE
    swell = np.sin(np.pi * t / 4.0) ** 2
    pieces = [sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) for f in chord) * swell for chord in chords]
    return np.concatenate(pieces).astype(np.float32)


def save(samples: np.ndarray, path: Path, peak: float) -> None:
    pcm = (samples / np.abs(samples).max() * peak * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm.tobytes())


if __name__ == "__main__":
    save(jingle(), HERE / "jingle.wav", peak=0.7)
    save(bed(), HERE / "bed.wav", peak=0.5)
