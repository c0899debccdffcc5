"""assemble: narration audio + slide pictures -> episode.mp3, episode.mp4 and captions.

The video holds only the distinct pictures, each shown for its span (concat demuxer, variable frame
rate): nothing is encoded thirty times a second. Every output is written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from mediagen.files import atomic_path
from mediagen.media.captions import WRITERS, Cue
from mediagen.media.ffmpeg import concat_list, run_ffmpeg
from mediagen.timeline import SlideSpan, Voiceover

OUTPUT_SAMPLE_RATE = 44_100
MP3_BITRATE = "96k"
AAC_BITRATE = "128k"


def write_wav(voiceover: Voiceover, path: Path) -> None:
    """The narration as 16-bit mono PCM, the one source both encoders read."""
    pcm = (np.clip(voiceover.samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(voiceover.sample_rate)
        handle.writeframes(pcm.tobytes())


def encode_mp3(wav: Path, out: Path, metadata: dict[str, str]) -> None:
    tags = [arg for key, value in metadata.items() if value for arg in ("-metadata", f"{key}={value}")]
    with atomic_path(out) as tmp:
        run_ffmpeg(
            [
                "-i",
                str(wav),
                "-c:a",
                "libmp3lame",
                "-b:a",
                MP3_BITRATE,
                "-ar",
                str(OUTPUT_SAMPLE_RATE),
                "-ac",
                "1",
                "-id3v2_version",
                "4",
                *tags,
                str(tmp),
            ],
            stage="assemble",
        )


def encode_mp4(
    frames: list[Path], spans: list[SlideSpan], wav: Path, out: Path, work: Path, metadata: dict[str, str]
) -> None:
    """H.264 yuv420p stills at their exact times + AAC narration, moov atom first (+faststart)."""
    entries = [(frames[span.index], span.end - span.start) for span in spans if span.end > span.start]
    playlist = work / "slides.ffconcat"
    playlist.write_text(concat_list(entries), encoding="utf-8")
    tags = [arg for key, value in metadata.items() if value for arg in ("-metadata", f"{key}={value}")]
    with atomic_path(out) as tmp:
        run_ffmpeg(
            [
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(playlist),
                "-i",
                str(wav),
                "-map",
                "0:v:0",
                "-map",
                "1:a:0",
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-tune",
                "stillimage",
                "-crf",
                "22",
                "-bf",
                "0",
                "-pix_fmt",
                "yuv420p",
                "-fps_mode",
                "vfr",
                "-video_track_timescale",
                "1000",
                "-c:a",
                "aac",
                "-b:a",
                AAC_BITRATE,
                "-ar",
                str(OUTPUT_SAMPLE_RATE),
                "-movflags",
                "+faststart",
                *tags,
                str(tmp),
            ],
            stage="assemble",
        )


def write_captions(cues: list[Cue], out_dir: Path, stem: str = "episode") -> list[Path]:
    paths = []
    for extension, writer in WRITERS.items():
        path = out_dir / f"{stem}.{extension}"
        writer().write(cues, path)
        paths.append(path)
    return paths
