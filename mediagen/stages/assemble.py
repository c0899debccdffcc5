"""assemble: the mixed narration + slide pictures -> episode.mp3, episode.mp4 and captions.

The audio is encoded in parts (see media.parts), each through the compressor, the gain that brings the
episode to its target loudness and a limiter, and measured as a player hears it; where the episode
misses its target the parts are encoded again at a gain sought from the measurements (see
media.loudness.seek). Each part, and each picture, is kept for what it is made of (see `Keep`), so a
rebuild after an edit encodes only the parts that changed, at the gains the last build ended on where
they still reach the targets. The MP3 is its parts' frames one after another; the MP4 holds each
distinct picture once, as a one-frame H.264 still shown for its span, and the AAC parts, both copied
in as they are (nothing is encoded thirty times a second). Every output is written under a temporary
name and renamed when complete.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mediagen.config import Loudness as LoudnessTargets
from mediagen.files import atomic_path, sha256_file
from mediagen.media import loudness, parts
from mediagen.media.captions import WRITERS, Cue
from mediagen.media.chapters import Chapter, FfMetadata, tag_mp3
from mediagen.media.loudness import Blocks
from mediagen.media.wav import wav_bytes
from mediagen.runner import budget, together
from mediagen.timeline import SlideSpan, Voiceover

OUTPUT_SAMPLE_RATE = parts.OUTPUT_RATE
# LAME's 128 kbit/s low-pass takes about 0.5 LU off these voices, which the MP3's first gain gives back
# in advance (then measured, and corrected).
MP3_LOUDNESS_LOSS = 0.5
# AAC moves true peaks up by as much as a dB more than MP3 does: the video's audio keeps that headroom.
AAC_PEAK_MARGIN = 1.0
# Under that tighter limit the video's audio loses about twice as much loudness per dB of limiting as
# the MP3's (piper's English sample and rust-lld: 0.3-0.35 LU more than at 0.1 LU per dB; kokoro,
# barely limited, nothing): its first gain allows for it, or most videos would be encoded twice.
AAC_LIMITER_LOSS_PER_DB = 0.2
# A rebuild keeps the gains its last build ended on while they bring each output within this much of its
# target (EBU R 128's tolerance for a programme that is not live), so an edit encodes again only the
# parts it changed; a build without them seeks to within loudness.CORRECTION_TOLERANCE.
KEPT_GAIN_TOLERANCE = 0.5
PART_PEAK_TRIES = 3  # encodes of a part whose true peak passes the ceiling, its limiter lower each time

# keep(name, parts, suffix, make): what a piece of encoding named `name` and made of `parts` (a part of
# the audio, a picture, a measurement) made and measured: `make` gives its bytes (none for a
# measurement only: suffix "") and what was measured of them (JSON), and runs only when nothing was
# kept for those parts. Returns the kept file (None for a measurement) and the measurement.
Made = tuple[bytes, dict]
Keep = Callable[[str, dict[str, str], str, Callable[[], Made]], tuple[Path | None, dict]]


@dataclass(frozen=True)
class Release:
    """What goes into the media files besides sound and pictures."""

    tags: dict[str, str]  # title, artist, album, date, language
    chapters: list[Chapter]
    cover: Path | None


def write_wav(voiceover: Voiceover, path: Path) -> None:
    """The narration as 16-bit mono PCM."""
    path.write_bytes(wav_bytes(voiceover.samples, voiceover.sample_rate))


def encode_media(
    voiceover: Voiceover,
    frames: list[Path],
    spans: list[SlideSpan],
    release: Release,
    targets: LoudnessTargets,
    out_dir: Path,
    scratch: Path,
    keep: Keep,
    gains: dict[str, float] | None = None,
) -> tuple[dict[str, object], dict[str, float]]:
    """Encode, tag and write episode.mp3 and episode.mp4; returns the loudness before and after, and the
    gains each output ended on. `gains`: those of the last build, tried first (an edit seldom moves the
    episode's loudness off its target, and at the same gain the parts it did not change are kept)."""
    pieces = parts.split(voiceover.samples, voiceover.sample_rate, [s.start for s in voiceover.sections[1:]])

    def compressed(numbered: tuple[int, parts.Part]) -> Blocks:
        number, piece = numbered
        measure = {"audio": piece.digest, "filters": loudness.SPEECH_COMPRESSOR}
        _, measured = keep(
            f"loudness {number}", measure, "", lambda: (b"", parts.compressed(piece).to_json())
        )
        return Blocks.from_json(measured)

    before = loudness.combined(list(budget().map(compressed, enumerate(pieces))))
    video_lufs = targets.video_lufs if targets.video_lufs is not None else targets.lufs
    video_peak = targets.true_peak - AAC_PEAK_MARGIN
    first = gains or {
        "mp3": loudness.first_gain(before, targets.lufs + MP3_LOUDNESS_LOSS, targets.true_peak),
        "mp4": loudness.first_gain(before, video_lufs, video_peak, AAC_LIMITER_LOSS_PER_DB),
    }

    def audio(stop: threading.Event) -> tuple[loudness.Loudness, float]:
        encoding = Encoding(pieces, parts.MP3, targets.true_peak, targets.true_peak, keep)
        reached = _sought(encoding, first["mp3"], targets.lufs, targets.true_peak, kept=bool(gains))
        with atomic_path(out_dir / "episode.mp3") as tmp:
            parts.join(encoding.files, tmp)
            tag_mp3(tmp, release.chapters, release.tags, release.cover)
        return reached, encoding.gain

    def video(stop: threading.Event) -> tuple[loudness.Loudness, float]:
        encoding = Encoding(pieces, parts.AAC, video_peak, targets.true_peak, keep)
        reached = _sought(encoding, first["mp4"], video_lufs, targets.true_peak, kept=bool(gains))
        write_mp4(frames, spans, encoding.files, out_dir / "episode.mp4", scratch, release, keep)
        return reached, encoding.gain

    # The MP3 and the MP4 at once: their parts are encoded as many at a time as there are cores.
    (mp3, mp3_gain), (mp4, mp4_gain) = together(audio, video)
    measured = {
        "target_lufs": targets.lufs,
        "target_true_peak": targets.true_peak,
        "video_target_lufs": video_lufs,
        "before": before.as_report(),
        "mp3": mp3.as_report(),
        "mp4": mp4.as_report(),
    }
    return measured, {"mp3": mp3_gain, "mp4": mp4_gain}


def _sought(encoding: Encoding, gain: float, lufs: float, peak: float, kept: bool) -> loudness.Loudness:
    """The output encoded at `gain`, or at a gain sought from there (see loudness.seek); a gain `kept`
    from the last build stays while the output is within KEPT_GAIN_TOLERANCE of `lufs`."""
    if kept:
        reached = encoding(gain)
        if abs(reached.integrated - lufs) <= KEPT_GAIN_TOLERANCE and reached.true_peak <= peak:
            return reached
    return loudness.seek(encoding, gain, lufs, peak)


class Encoding:
    """One output's audio: its parts encoded at a gain (a render for loudness.seek, which tries gains
    until the parts together reach the target); the files of the last gain tried are the output's.
    `limit`: where the limiter holds the peaks; `ceiling`: the true peak no part may pass. A part whose
    encoder took a peak past the ceiling is encoded again with its own limiter that much lower, so a
    loud new sentence moves neither the gain nor the other parts (one part's limiter a dB lower takes
    next to nothing off the episode's loudness)."""

    def __init__(
        self, pieces: Sequence[parts.Part], codec: parts.Codec, limit: float, ceiling: float, keep: Keep
    ) -> None:
        self.pieces, self.codec, self.limit, self.ceiling, self.keep = pieces, codec, limit, ceiling, keep
        self.files: list[Path] = []
        self.gain = 0.0

    def __call__(self, gain: float) -> loudness.Loudness:
        def encoded(numbered: tuple[int, parts.Part]) -> tuple[Path | None, dict]:
            number, piece = numbered
            limit = self.limit
            for _ in range(PART_PEAK_TRIES):
                path, heard = self._encoded(number, piece, loudness.limiting(limit, gain))
                over = heard["peak"] - self.ceiling
                if over <= 0:
                    break
                limit -= over + loudness.CORRECTION_PEAK_MARGIN
            return path, heard

        done = list(budget().map(encoded, enumerate(self.pieces)))
        self.files = [path for path, _ in done if path is not None]
        self.gain = gain
        return loudness.combined([Blocks.from_json(heard) for _, heard in done])

    def _encoded(self, number: int, piece: parts.Part, limited: str) -> tuple[Path | None, dict]:
        chain = parts.filters(piece, self.codec, limited)
        made_of = {"audio": piece.digest, "encoder": " ".join(self.codec.args), "filters": chain}

        def make() -> Made:
            data, heard = parts.encode(piece, self.codec, limited)
            return data, heard.to_json()

        return self.keep(f"{self.codec.name} {number}", made_of, self.codec.suffix, make)


def write_mp4(
    frames: list[Path],
    spans: list[SlideSpan],
    audio: Sequence[Path],
    out: Path,
    work: Path,
    release: Release,
    keep: Keep,
) -> None:
    """H.264 stills at their exact times (each distinct picture encoded once, kept for its picture) +
    the AAC parts + chapters and tags, moov atom first (+faststart)."""
    used = sorted({span.index for span in spans})

    def still(index: int) -> Path | None:
        frame, made = frames[index], work / f"still-{index}.mp4"

        def make() -> Made:
            parts.picture(frame, made)
            return made.read_bytes(), {}

        made_of = {"picture": sha256_file(frame)[:20], "encoder": " ".join(parts.PICTURE_ARGS)}
        return keep(f"picture {frame.name}", made_of, ".mp4", make)[0]

    stills = dict(zip(used, budget().map(still, used), strict=True))
    shown = [(stills[s.index], s.end - s.start) for s in spans if s.end > s.start]
    chapters = FfMetadata().write(release.chapters, work)
    tags = [arg for key, value in release.tags.items() if value for arg in ("-metadata", f"{key}={value}")]
    with atomic_path(out) as tmp:
        parts.mux_mp4(shown, audio, chapters, tags, tmp)  # type: ignore[arg-type]


def fresh(scratch: Path) -> Keep:
    """A `Keep` that keeps nothing: each piece is made into `scratch` (for a caller without a cache)."""
    counter = itertools.count()

    def keep(
        name: str, made_of: dict[str, str], suffix: str, make: Callable[[], Made]
    ) -> tuple[Path | None, dict]:
        data, measured = make()
        if not suffix:
            return None, measured
        path = scratch / f"piece-{next(counter)}{suffix}"
        path.write_bytes(data)
        return path, measured

    return keep


def write_captions(cues: list[Cue], out_dir: Path, stem: str = "episode") -> list[Path]:
    paths = []
    for extension, writer in WRITERS.items():
        path = out_dir / f"{stem}.{extension}"
        writer().write(cues, path)
        paths.append(path)
    return paths
