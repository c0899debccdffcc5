"""Audio samples in memory."""

from __future__ import annotations

import numpy as np


def resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    """Mono float32 samples from `source` Hz to `target` Hz by linear interpolation: enough for speech
    that is mixed with other speech or given to a recognizer."""
    if source == target:
        return samples.astype(np.float32)
    positions = np.arange(0, len(samples), source / target)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
