"""Checks of produced media by their properties (streams, durations, cues, pages), never by bytes."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np

from mediagen.media.probe import probe
from mediagen.pipeline import OUTPUT_NAMES

TIMESTAMP = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


def read_report(out: Path) -> dict:
    """OUT/report.json as written, after checking that it is a valid mediagen `Report`."""
    import json

    from mediagen.report import Report

    text = (out / "report.json").read_text(encoding="utf-8")
    Report.model_validate_json(text)
    return json.loads(text)


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def read_cues(path: Path) -> list[tuple[float, float, list[str]]]:
    """(start, end, lines as shown) of every cue in an SRT or VTT file (WebVTT's voice spans are
    markup, not shown)."""
    cues = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        lines = block.splitlines()
        for index, line in enumerate(lines):
            match = TIMESTAMP.match(line)
            if match:
                g = match.groups()
                shown = [re.sub(r"</?v(?:\s[^>]*)?>", "", text) for text in lines[index + 1 :]]
                cues.append((seconds(*g[:4]), seconds(*g[4:]), shown))
                break
    return cues


def assert_valid_episode(out: Path, max_line_chars: int) -> dict:
    """Every output present and consistent; returns facts for further checks."""

    import pypdfium2
    import yaml

    for name in OUTPUT_NAMES:  # youtube.txt is empty when there cannot be three chapters of 10 s
        assert (out / name).is_file() and ((out / name).stat().st_size > 0 or name == "youtube.txt"), name
    report = read_report(out)
    mp3, mp4 = probe(out / "episode.mp3"), probe(out / "episode.mp4")
    video, audio = mp4.stream("video"), mp4.stream("audio")
    assert mp3.stream("audio").codec.startswith("mp3")
    assert video.codec == "h264" and video.pix_fmt == "yuv420p" and audio.codec == "aac"
    assert abs(mp4.duration - mp3.duration) <= 0.1
    assert abs(video.duration - audio.duration) <= 0.1
    assert abs(report["duration_s"] - mp3.duration) <= 0.1
    assert _moov_before_mdat(out / "episode.mp4")

    episode = yaml.load((out / "episode.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    slide_count = sum(len(section["slides"]) for section in episode["sections"])
    assert len(pypdfium2.PdfDocument(out / "slides.pdf")) == slide_count
    assert video.frames <= _pictures(report, slide_count) + 1  # only the distinct pictures (the last twice)

    for name in ("episode.srt", "episode.vtt"):
        cues = read_cues(out / name)
        assert cues, name
        starts = [c[0] for c in cues]
        assert starts == sorted(starts)
        assert all(0 <= start < end <= mp3.duration + 0.05 for start, end, _ in cues)
        assert all(
            1 <= len(lines) <= 2 and all(len(line) <= max_line_chars for line in lines)
            for _, _, lines in cues
        )
    sections = report["sections"]
    assert [s["id"] for s in sections] == [s["id"] for s in episode["sections"]]
    assert all(a["end_s"] == b["start_s"] for a, b in itertools.pairwise(sections))
    assert_publishable(out, report)
    return {
        "report": report,
        "episode": episode,
        "duration": mp3.duration,
        "cues": read_cues(out / "episode.srt"),
    }


def _pictures(report: dict, slides: int) -> int:
    """How many distinct pictures the video may hold: one per slide, and in a dialogue (a name tag on
    the slide) one per stretch of one slide and one speaker."""
    speakers = {s["speaker"] for s in report["sentences"]} - {None}
    if len(speakers) < 2:
        return slides
    stretches, shown = 0, None
    for sentence in report["sentences"]:
        slide = next(s["page"] for s in report["slides"] if s["start_s"] <= sentence["start_s"] < s["end_s"])
        stretches += (slide, sentence["speaker"]) != shown
        shown = (slide, sentence["speaker"])
    return stretches + slides  # and each slide's stretch before its first sentence


def _moov_before_mdat(path: Path) -> bool:
    """+faststart: the index (moov) precedes the media data (mdat), so browsers can start playing."""
    data = path.read_bytes()[:4_000_000]
    moov, mdat = data.find(b"moov"), data.find(b"mdat")
    return 0 <= moov < mdat or (moov >= 0 and mdat < 0)


def frame_at(video: Path, t: float) -> np.ndarray:
    """The picture shown at time t (decoded, RGB)."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        shown = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > t + 1e-3:
                break
            shown = frame
        assert shown is not None
        return shown.to_ndarray(format="rgb24")


def audio_segment(path: Path, start: float, end: float, rate: int = 16_000) -> np.ndarray:
    """Mono float32 samples of [start, end) of an audio file, resampled for ASR."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        samples = np.concatenate(chunks)
    return samples[int(start * rate) : int(end * rate)]


def fonts_by_character(pdf_path: Path, page: int = 0) -> dict[str, set[str]]:
    """For each character drawn on a PDF page, the names of the fonts that drew it."""
    import ctypes

    import pypdfium2
    import pypdfium2.raw as pdfium_raw

    textpage = pypdfium2.PdfDocument(pdf_path)[page].get_textpage()
    found: dict[str, set[str]] = {}
    for index in range(textpage.count_chars()):
        name = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        pdfium_raw.FPDFText_GetFontInfo(textpage.raw, index, name, 256, ctypes.byref(flags))
        char = chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, index))
        if not char.isspace():
            found.setdefault(char, set()).add(name.value.decode("latin-1"))
    return found


def assert_publishable(out: Path, report: dict) -> None:
    """Podcast-ready: loudness by ffmpeg's ebur128 filter, one ID3 chapter per section at its time,
    Podcasting 2.0 chapters, YouTube chapter rules, show notes and a 1280×720 thumbnail."""
    import json

    from mutagen.id3 import ID3
    from PIL import Image

    from mediagen.media.loudness import measure

    loudness = measure(out / "episode.mp3")
    assert -17.0 <= loudness.integrated <= -15.0, loudness
    assert loudness.true_peak <= -1.0, loudness
    tags = ID3(out / "episode.mp3")
    assert tags.version[:2] == (2, 4)
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    sections = report["sections"]
    assert len(chapters) == len(sections) and len(tags.getall("CTOC")) == 1
    for chapter, section in zip(chapters, sections, strict=True):
        assert abs(chapter.start_time / 1000 - section["start_s"]) <= 0.05
        assert chapter.sub_frames.getall("TIT2")[0].text[0] == section["title"]
    assert tags.getall("APIC") and str(tags.getall("TIT2")[0]) == report["title"]
    assert_podcasting_chapters(json.loads((out / "chapters.json").read_text(encoding="utf-8")), report)
    lines = (out / "youtube.txt").read_text(encoding="utf-8").splitlines()
    if sum(s["end_s"] - s["start_s"] >= 10 for s in sections) >= 3:
        assert lines, "three sections of 10 s or more make YouTube chapters"
    if lines:
        assert_youtube_chapters(lines, report["duration_s"])
    notes = (out / "show-notes.md").read_text(encoding="utf-8")
    assert notes.startswith(f"# {report['title']}") and all(s["title"] in notes for s in sections)
    assert "<h1>" in (out / "show-notes.html").read_text(encoding="utf-8")
    assert Image.open(out / "thumbnail.png").size == (1280, 720)


def assert_podcasting_chapters(data: dict, report: dict) -> None:
    """The Podcasting 2.0 chapters format: version, then chapters with numeric startTime and a title."""
    assert isinstance(data["version"], str) and data["version"].split(".")[0] == "1"
    chapters = data["chapters"]
    assert len(chapters) == len(report["sections"])
    for chapter, section in zip(chapters, report["sections"], strict=True):
        assert set(chapter) <= {"startTime", "endTime", "title", "img", "url", "toc", "location"}
        assert isinstance(chapter["startTime"], int | float) and isinstance(chapter["title"], str)
        assert abs(chapter["startTime"] - section["start_s"]) <= 0.05
    starts = [c["startTime"] for c in chapters]
    assert starts == sorted(starts) and starts[0] == 0


def assert_youtube_chapters(lines: list[str], duration: float) -> None:
    """YouTube's rules: first at 0:00, at least three, each at least 10 s long."""
    times = []
    for line in lines:
        stamp, title = line.split(" ", 1)
        parts = [int(p) for p in stamp.split(":")]
        times.append(sum(p * 60**i for i, p in enumerate(reversed(parts))))
        assert title.strip()
    assert times[0] == 0 and len(times) >= 3
    assert all(b - a >= 10 for a, b in itertools.pairwise([*times, duration]))
