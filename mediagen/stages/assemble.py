"""assemble: the mixed narration + slide pictures -> episode.mp3, episode.mp4 and captions.

The audio is brought to the target loudness in two passes before encoding. The video holds only the
distinct pictures, each shown for its span (concat demuxer, variable frame rate): nothing is encoded
thirty times a second. Every output is written under a temporary name and renamed when complete.
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
# off these voices, which the MP3's source is given back in advance (then measured, and corrected).
MP3_BITRATE = "128k"
MP3_LOUDNESS_LOSS = 0.5
AAC_BITRATE = "128k"
# AAC moves true peaks up by as much as a dB more than MP3 does: the video's audio keeps that headroom.
AAC_PEAK_MARGIN = 1.0


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
    """Normalize, encode and tag episode.mp3 and episode.mp4; returns the loudness before and after."""
    raw, podcast = scratch / "mix.wav", scratch / "podcast.wav"
    write_wav(voiceover, raw)
    podcast_lufs = targets.lufs + MP3_LOUDNESS_LOSS
    before = loudness.normalize(raw, podcast, podcast_lufs, targets.true_peak, OUTPUT_SAMPLE_RATE)
    video_peak = targets.true_peak - AAC_PEAK_MARGIN

    def video(stop: threading.Event) -> loudness.Loudness:
        with budget().hold(1):
            if targets.video_lufs is not None and targets.video_lufs != targets.lufs:
                video_audio = scratch / "video.wav"
                loudness.normalize(raw, video_audio, targets.video_lufs, video_peak, OUTPUT_SAMPLE_RATE)
                encode_mp4(frames, spans, video_audio, out_dir / "episode.mp4", scratch, release)
            else:  # the podcast's audio, limited for AAC as the encoder reads it
                limited = loudness.limiting(video_peak, gain_db=-MP3_LOUDNESS_LOSS)
                encode_mp4(frames, spans, podcast, out_dir / "episode.mp4", scratch, release, limited)
            return loudness.measure(out_dir / "episode.mp4")

    def audio(stop: threading.Event) -> loudness.Loudness:
        with budget().hold(1):
            return _encode_measured(
                podcast, out_dir / "episode.mp3", targets.lufs, targets.true_peak, release
            )

    # The MP3 (encoded, measured, corrected) and the MP4 (encoded, measured) at once: each is ffmpeg
    # on about one core for most of its time.
    mp3, mp4_loudness = together(audio, video)
    return {
        "target_lufs": targets.lufs,
        "target_true_peak": targets.true_peak,
        "video_target_lufs": targets.video_lufs if targets.video_lufs is not None else targets.lufs,
        "before": before.as_report(),
        "mp3": mp3.as_report(),
        "mp4": mp4_loudness.as_report(),
    }


def _encode_measured(wav: Path, out: Path, lufs: float, peak: float, release: Release) -> loudness.Loudness:
    """Encode the MP3, measure it as a player would, and correct it if the encoder moved it off target.
    A correction goes through the limiter: a very short episode (one spoken word) has peaks far above
    its loudness, and only limiting brings it to the target."""

    def render(gain: float) -> loudness.Loudness:
        encode_mp3(wav, out, release, loudness.limiting(peak, gain_db=gain) if gain else None)
        return loudness.measure(out)

    return loudness.seek(render, 0.0, lufs, peak)


def encode_mp3(wav: Path, out: Path, release: Release, audio_filter: str | None = None) -> None:
    """MP3 with ID3v2.4 tags, chapters and cover art, written in place before it gets its final name;
    `audio_filter`: filters the encoder runs on the audio first."""
    with atomic_path(out) as tmp:
        run_ffmpeg(
            [
                "-i",
                str(wav),
                *(["-af", audio_filter] if audio_filter else []),
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
