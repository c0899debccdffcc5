"""The episode's audio in parts, so that an edit encodes again only the part it changed.

MP3 and AAC streams are runs of frames (1152 and 1024 samples); an encoder puts its priming before the
first sample it is given (as decoded: 1105 samples for LAME, 1024 for ffmpeg's AAC encoder) and pads
its last frame. In a build each section begins on a grid of GRID samples at the output rate (8 MP3
frames, 9 AAC frames; see voice.lay_out and music.add_music), in the silence between sections. The
audio is cut there, where it is silent, into parts that each fill whole frames: a part's encoder is
given the part from its priming's length on and, but for the last part, up to a frame less its priming
before its end. The priming and the padding then stand where silence stood, and the frames of the
parts, one after another, decode to the episode's timeline sample for sample. The files carry no
Xing/LAME header (a decoder plays them from their first frame, as the timeline counts; at a constant
bit rate players seek by position).

Each part is encoded for its own audio, gain and settings, and stored as such (see mediagen.muxing):
an edited sentence encodes its part again and the others are read back. Where no section starts in
silence (a music bed under the whole episode) the audio is one part.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from mediagen.media.ffmpeg import concat_list, pipe_ffmpeg, run_ffmpeg
from mediagen.media.loudness import SILENCE, SPEECH_COMPRESSOR, Blocks, scan

OUTPUT_RATE = 44_100
GRID = 9216  # output samples: 8 MP3 frames, 9 AAC frames (0.209 s)
SECTION_GRID_S = Fraction(GRID, OUTPUT_RATE)
# A cut needs silence before it (an MP3 part's padding: 47 samples) and after it (the priming of the
# part it begins: 25 ms), with room for the resampler's filter.
SILENT_BEFORE_S = 0.005
SILENT_AFTER_S = 0.03
# Constant bit rate, so players seek exactly (chapters).
MP3_BITRATE = "128k"
AAC_BITRATE = "128k"
# H.264 stills (each picture a frame of its own, shown for its span; see assemble.write_mp4).
PICTURE_ARGS = ("-c:v", "libx264", "-preset", "medium", "-tune", "stillimage", "-crf", "22", "-bf", "0",
                "-pix_fmt", "yuv420p")  # fmt: skip
TIMESCALE = "1000"  # the MP4's video times in milliseconds


@dataclass(frozen=True)
class Codec:
    name: str
    frame: int  # samples per frame
    priming: int  # samples a decoder gives before the first one the encoder was given
    suffix: str
    demuxer: str  # ffmpeg's name for the raw stream format
    args: tuple[str, ...]  # the encoder and the raw stream it writes


MP3 = Codec("mp3", 1152, 1105, ".mp3", "mp3",
            ("-c:a", "libmp3lame", "-b:a", MP3_BITRATE, "-write_xing", "0", "-id3v2_version", "0",
             "-f", "mp3"))  # fmt: skip
AAC = Codec("aac", 1024, 1024, ".aac", "aac",
            ("-c:a", "aac", "-aac_coder", "fast", "-b:a", AAC_BITRATE, "-f", "adts"))  # fmt: skip


@dataclass(frozen=True, eq=False)
class Part:
    """A stretch of the episode's audio that is encoded on its own."""

    samples: np.ndarray  # mono float32 at `rate`, without the silence at its end
    rate: int
    length: int  # its length at OUTPUT_RATE: whole grid units, but for the last part
    last: bool

    @functools.cached_property
    def digest(self) -> str:
        """What the part's encodings depend on of it."""
        content = hashlib.sha256(np.ascontiguousarray(self.samples, dtype="<f4").tobytes())
        content.update(f"{self.rate}:{self.length}:{self.last}".encode())
        return content.hexdigest()[:20]

    def raw(self) -> tuple[list[str], bytes]:
        """ffmpeg's input options for the part's samples given on its standard input, and the samples."""
        options = ["-f", "f32le", "-ar", str(self.rate), "-ac", "1"]
        return options, np.ascontiguousarray(self.samples, dtype="<f4").tobytes()


def split(samples: np.ndarray, rate: int, starts: Sequence[float]) -> list[Part]:
    """The parts of an episode's audio: cut at each of `starts` (seconds; the sections' starts) that is
    on the grid and in silence."""
    cuts, at_output = [0], [0]
    before, after = math.ceil(SILENT_BEFORE_S * rate), math.ceil(SILENT_AFTER_S * rate)
    for start in starts:
        cut = round(start * rate)
        exact = cut * OUTPUT_RATE / rate
        on_grid = round(exact / GRID) * GRID
        if abs(exact - on_grid) > 1.5 or on_grid <= at_output[-1] or cut + after > len(samples):
            continue
        if cut >= before and not np.any(samples[cut - before : cut + after]):
            cuts.append(cut)
            at_output.append(on_grid)
    total = round(len(samples) * OUTPUT_RATE / rate)
    ends = [*at_output[1:], total]
    return [
        Part(np.trim_zeros(samples[cut:stop], "b"), rate, end - start, last=number == len(cuts) - 1)
        for number, (cut, stop, start, end) in enumerate(
            zip(cuts, [*cuts[1:], len(samples)], at_output, ends, strict=True)
        )
    ]


def filters(part: Part, codec: Codec, gain_and_limit: str) -> str:
    """From the part's samples to what its encoder is given: compressed, at the output rate, the
    priming's length taken off its start and (but for the last part) a frame less the priming off its
    end, then `gain_and_limit` (see loudness.limiting), exactly as long as that."""
    end = part.length if part.last else part.length - codec.frame + codec.priming
    kept = end - codec.priming
    return (
        f"{SPEECH_COMPRESSOR},aresample={OUTPUT_RATE},apad=whole_len={part.length},"
        f"atrim=start_sample={codec.priming}:end_sample={end},asetpts=N/SR/TB,{gain_and_limit},"
        f"apad=whole_len={kept},atrim=end_sample={kept}"
    )


def encode(part: Part, codec: Codec, gain_and_limit: str) -> tuple[bytes, Blocks]:
    """The part encoded (its frames) and what a player hears in them, measured."""
    options, data = part.raw()
    args = [*options, "-i", "-", "-af", filters(part, codec, gain_and_limit), "-ac", "1", *codec.args, "-"]
    encoded, _ = pipe_ffmpeg(args, data, stage="assemble")
    return encoded, scan(["-f", codec.demuxer], encoded)


def compressed(part: Part) -> Blocks:
    """The part's loudness through the compressor, before any gain: what the first gain is worked out
    from (see loudness.first_gain)."""
    if not np.any(part.samples):  # nothing for the filter to measure (it would report a peak of 0 dB)
        return Blocks((), (), SILENCE)
    options, data = part.raw()
    return scan(options, data, before=f"{SPEECH_COMPRESSOR},aresample={OUTPUT_RATE}")


def picture(png: Path, out: Path) -> None:
    """A picture as a one-frame H.264 video (a still of the MP4)."""
    run_ffmpeg(["-i", str(png), "-frames:v", "1", *PICTURE_ARGS, "-video_track_timescale", TIMESCALE,
                "-f", "mp4", str(out)], stage="assemble")  # fmt: skip


def join(parts: Sequence[Path], out: Path) -> None:
    """The parts' frames one after another (MP3 or ADTS: each frame carries its own header)."""
    with out.open("wb") as joined:
        for part in parts:
            joined.write(part.read_bytes())


def mux_mp4(
    stills: Sequence[tuple[Path, float]], audio: Sequence[Path], metadata: Path, tags: list[str], out: Path
) -> None:
    """The MP4 from encoded stills (each shown for its seconds) and the AAC parts, copied as they are,
    with the chapters and tags of ffmpeg's metadata file `metadata`, moov atom first. The parts are
    joined into one stream first, so their frames are timed one after another (the concat demuxer
    would time each file by its length guessed from its bit rate)."""
    work = metadata.parent
    video, sound = work / "video.ffconcat", work / "audio.aac"
    # The last still is listed again, with no duration: the demuxer drops the final entry's duration.
    video.write_text(concat_list([*stills, (stills[-1][0], None)] if stills else []), encoding="utf-8")
    join(audio, sound)
    inputs = ["-f", "concat", "-safe", "0", "-i", str(video), "-f", "aac", "-i", str(sound),
              "-i", str(metadata)]  # fmt: skip
    run_ffmpeg([*inputs, "-map", "0:v:0", "-map", "1:a:0", "-map_metadata", "2", "-map_chapters", "2",
                "-c", "copy", "-video_track_timescale", TIMESCALE, "-movflags", "+faststart", *tags,
                "-f", "mp4", str(out)], stage="assemble")  # fmt: skip
