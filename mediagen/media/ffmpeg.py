"""ffmpeg (the static binary from imageio-ffmpeg), always called with an argument list, never a shell."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np

from mediagen.errors import StageError


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], stage: str, loglevel: str = "error") -> str:
    """Run ffmpeg; return what it printed (filters such as ebur128 report there), or on failure raise
    a StageError carrying ffmpeg's last line."""
    return pipe_ffmpeg(args, None, stage, loglevel)[1]


def pipe_ffmpeg(
    args: list[str], data: bytes | None, stage: str, loglevel: str = "error"
) -> tuple[bytes, str]:
    """Run ffmpeg with `data` on its standard input (given as `-i -`); returns what it wrote to its
    standard output (`-`) and what it printed."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", loglevel, "-y", *args]
    if data is None:
        command.insert(2, "-nostdin")
    result = subprocess.run(command, input=data, capture_output=True, check=False)
    printed = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        lines = [line for line in printed.strip().splitlines() if line.strip()]
        raise StageError(stage, f"ffmpeg failed: {lines[-1] if lines else f'exit code {result.returncode}'}")
    return result.stdout, printed


def concat_list(entries: list[tuple[Path, float | None]]) -> str:
    """A concat-demuxer script: each file, shown or played for its duration where one is given."""
    lines = ["ffconcat version 1.0"]
    for path, duration in entries:
        lines.append("file '" + str(path.resolve()).replace("'", "'\\''") + "'")
        if duration is not None:
            lines.append(f"duration {duration:.6f}")
    return "\n".join(lines) + "\n"


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
