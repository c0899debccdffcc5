"""assemble: the mixed narration + slide pictures -> episode.mp3, episode.mp4 and captions.

The mix is compressed and measured in one pass; each encoder then brings it to the target loudness
(see media.loudness) as it encodes. The video holds only the distinct pictures, each shown for its
span (concat demuxer, variable frame rate): nothing is encoded thirty times a second. Every output is
written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from mediagen.config import Loudness as LoudnessTargets
from mediagen.files import atomic_path
from mediagen.media import loudness
from mediagen.media.captions import WRITERS, Cue
from mediagen.media.chapters import Chapter, FfMetadata, tag_mp3
from mediagen.media.ffmpeg import concat_list, run_ffmpeg
from mediagen.media.wav import wav_bytes
from mediagen.runner import budget, together
from mediagen.timeline import SlideSpan, Voiceover

OUTPUT_SAMPLE_RATE = 44_100
# Constant bit rate, so players seek exactly (chapters); LAME's 128 kbit/s low-pass takes about 0.5 LU
# off these voices, which the MP3's first gain gives back in advance (then measured, and corrected).
MP3_BITRATE = "128k"
MP3_LOUDNESS_LOSS = 0.5
AAC_BITRATE = "128k"
# AAC moves true peaks up by as much as a dB more than MP3 does: the video's audio keeps that headroom.
AAC_PEAK_MARGIN = 1.0
# Under that tighter limit the video's audio loses about twice as much loudness per dB of limiting as
# the MP3's (piper's English sample and rust-lld: 0.3-0.35 LU more than at 0.1 LU per dB; kokoro,
# barely limited, nothing): its first gain allows for it, or most videos would be encoded twice.
AAC_LIMITER_LOSS_PER_DB = 0.2


@dataclass(frozen=True)
class Release:
    """What goes into the media files besides sound and pictures."""

    tags: dict[str, str]  # title, artist, album, date, language
    chapters: list[Chapter]
    cover: Path | None


def write_wav(voiceover: Voiceover, path: Path) -> None:
    """The narration as 16-bit mono PCM, the one source both encoders read."""
    path.write_bytes(wav_bytes(voiceover.samples, voiceover.sample_rate))


def encode_media(
    voiceover: Voiceover,
    frames: list[Path],
    spans: list[SlideSpan],
    release: Release,
    targets: LoudnessTargets,
    out_dir: Path,
    scratch: Path,
) -> dict[str, object]:
    """Normalize, encode and tag episode.mp3 and episode.mp4; returns the loudness before and after.
    The mix is compressed (and measured) once; each encoder applies the gain and the limiter itself."""
    raw, shaped = scratch / "mix.wav", scratch / "shaped.wav"
    write_wav(voiceover, raw)
    before = loudness.shape(raw, shaped, OUTPUT_SAMPLE_RATE)
    video_lufs = targets.video_lufs if targets.video_lufs is not None else targets.lufs
    # The limiter runs in each encoder; LAME takes MP3_LOUDNESS_LOSS off, and AAC moves true peaks
    # up by as much as AAC_PEAK_MARGIN, which the video's limiter keeps in hand.
    mp3_gain = loudness.first_gain(before, targets.lufs + MP3_LOUDNESS_LOSS, targets.true_peak)
    video_peak = targets.true_peak - AAC_PEAK_MARGIN
    mp4_gain = loudness.first_gain(before, video_lufs, video_peak, AAC_LIMITER_LOSS_PER_DB)

    def video(stop: threading.Event) -> loudness.Loudness:
        def render(gain: float) -> loudness.Loudness:
            limited = loudness.limiting(video_peak, gain_db=gain)
            encode_mp4(frames, spans, shaped, out_dir / "episode.mp4", scratch, release, limited)
            return loudness.measure(out_dir / "episode.mp4")

        with budget().hold(1):
            return loudness.seek(render, mp4_gain, video_lufs, targets.true_peak)

    def audio(stop: threading.Event) -> loudness.Loudness:
        def render(gain: float) -> loudness.Loudness:
            encode_mp3(shaped, out_dir / "episode.mp3", release, loudness.limiting(targets.true_peak, gain))
            return loudness.measure(out_dir / "episode.mp3")

        with budget().hold(1):
            return loudness.seek(render, mp3_gain, targets.lufs, targets.true_peak)

    # The MP3 (encoded, measured, corrected) and the MP4 (the same) at once: each is ffmpeg on about
    # one core for most of its time.
    mp3, mp4_loudness = together(audio, video)
    return {
        "target_lufs": targets.lufs,
        "target_true_peak": targets.true_peak,
        "video_target_lufs": video_lufs,
        "before": before.as_report(),
        "mp3": mp3.as_report(),
        "mp4": mp4_loudness.as_report(),
    }


def encode_mp3(wav: Path, out: Path, release: Release, audio_filter: str) -> None:
    """MP3 with ID3v2.4 tags, chapters and cover art, written in place before it gets its final name;
    `audio_filter`: filters the encoder runs on the audio first."""
    with atomic_path(out) as tmp:
        run_ffmpeg(
            [
                "-i",
                str(wav),
                "-af",
                audio_filter,
                "-c:a",
                "libmp3lame",
                "-b:a",
                MP3_BITRATE,
                "-ar",
                str(OUTPUT_SAMPLE_RATE),
                "-ac",
                "1",
                "-write_xing",
                "1",
                str(tmp),
            ],
            stage="assemble",
        )
        tag_mp3(tmp, release.chapters, release.tags, release.cover)


def encode_mp4(
    frames: list[Path],
    spans: list[SlideSpan],
    wav: Path,
    out: Path,
    work: Path,
    release: Release,
    audio_filter: str | None = None,
) -> None:
    """H.264 yuv420p stills at their exact times + AAC narration + chapters, moov atom first
    (+faststart); `audio_filter`: filters the encoder runs on the narration first."""
    entries = [(frames[span.index], span.end - span.start) for span in spans if span.end > span.start]
    playlist = work / "slides.ffconcat"
    playlist.write_text(concat_list(entries), encoding="utf-8")
    chapters = FfMetadata().write(release.chapters, work)
    tags = [arg for key, value in release.tags.items() if value for arg in ("-metadata", f"{key}={value}")]
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
                "-i",
                str(chapters),
                "-map",
                "0:v:0",
                "-map",
                "1:a:0",
                "-map_metadata",
                "2",
                "-map_chapters",
                "2",
                *(["-af", audio_filter] if audio_filter else []),
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
                "-aac_coder",
                "fast",
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
