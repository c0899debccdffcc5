"""Media properties read with PyAV (imageio-ffmpeg has no ffprobe)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StreamInfo:
    kind: str
    codec: str
    duration: float
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    sample_rate: int = 0
    frames: int = 0


@dataclass(frozen=True)
class MediaInfo:
    format: str
    duration: float
    streams: tuple[StreamInfo, ...]

    def stream(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == kind), None)


def probe(path: Path) -> MediaInfo:
    import av

    with av.open(str(path)) as container:
        streams = tuple(_stream_info(s) for s in container.streams if s.type in ("audio", "video"))
        duration = (container.duration or 0) / 1_000_000
        return MediaInfo(format=container.format.name, duration=duration, streams=streams)


def _stream_info(stream) -> StreamInfo:
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    context = stream.codec_context
    return StreamInfo(
        kind=stream.type,
        codec=context.name,
        duration=duration,
        width=getattr(context, "width", 0) or 0,
        height=getattr(context, "height", 0) or 0,
        pix_fmt=str(getattr(context, "pix_fmt", "") or ""),
        sample_rate=getattr(context, "sample_rate", 0) or 0,
        frames=stream.frames or 0,
    )
