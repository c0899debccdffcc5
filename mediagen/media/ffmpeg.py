"""ffmpeg (the static binary from imageio-ffmpeg), always called with an argument list, never a shell."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np

from mediagen.errors import StageError

TIMESTAMP_RATE = 1000


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], stage: str, loglevel: str = "error") -> str:
    """Run ffmpeg; return what it printed (filters such as loudnorm report there), or on failure raise
    a StageError carrying ffmpeg's last line."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel, "-y", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise StageError(stage, f"ffmpeg failed: {lines[-1] if lines else f'exit code {result.returncode}'}")
    return result.stderr


def concat_list(entries: list[tuple[Path, float]]) -> str:
    """A concat-demuxer script showing each picture for its duration (variable frame rate).

    The last picture is listed twice: the demuxer drops the duration of the final entry otherwise.
    Each picture is read at a 1/1000 s time base, or its start would be rounded to 1/25 s.
    """
    lines = ["ffconcat version 1.0"]
    for path, duration in entries:
        lines += [f"file '{_quote(path)}'", f"option framerate {TIMESTAMP_RATE}", f"duration {duration:.6f}"]
    if entries:
        lines += [f"file '{_quote(entries[-1][0])}'", f"option framerate {TIMESTAMP_RATE}"]
    return "\n".join(lines) + "\n"


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")


def decode_audio(path: Path, rate: int, stage: str) -> np.ndarray:
    """Any audio file ffmpeg reads, as mono float32 samples at `rate`."""
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-f",
        "f32le",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-",
    ]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StageError(stage, f"cannot read {path.name}: {lines[-1] if lines else 'ffmpeg failed'}")
    return np.frombuffer(result.stdout, dtype="<f4").copy()
