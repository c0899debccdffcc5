"""16-bit mono PCM WAV: the form clips are cached in and the narration both encoders read."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np


def pcm16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


def quantize(samples: np.ndarray) -> np.ndarray:
    """The samples exactly as they come back from a 16-bit WAV: a fresh clip and a cached one are then
    the same numbers, and so is everything made from them."""
    return pcm16(samples).astype(np.float32) / 32767


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm16(samples).tobytes())
    return buffer.getvalue()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32767, handle.getframerate()
