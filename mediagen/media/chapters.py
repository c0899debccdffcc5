"""Chapters, one per section, from the real audio times; and one small writer per chapter format.

Formats: ID3v2.4 CHAP/CTOC frames in the MP3 (with title, artist, album, date and cover art), the
Podcasting 2.0 JSON chapters file, ffmpeg's metadata file (chapters in the MP4), and YouTube's
description lines, which have rules of their own (see `youtube_chapters`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mediagen.files import atomic_write_text

PODCASTING_CHAPTERS_VERSION = "1.2.0"
YOUTUBE_MIN_CHAPTER_S = 10.0
YOUTUBE_MIN_CHAPTERS = 3


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float
    end: float


def youtube_chapters(chapters: list[Chapter]) -> list[Chapter]:
    """Chapters that follow YouTube's rules: the first at 0:00, each at least 10 s long (a shorter one
    is merged into its neighbour), at least three of them (else none: YouTube would ignore them)."""
    merged: list[Chapter] = []
    for chapter in chapters:
        if merged and merged[-1].end - merged[-1].start < YOUTUBE_MIN_CHAPTER_S:
            merged[-1] = Chapter(merged[-1].title, merged[-1].start, chapter.end)
        else:
            merged.append(chapter)
    if len(merged) > 1 and merged[-1].end - merged[-1].start < YOUTUBE_MIN_CHAPTER_S:
        last = merged.pop()
        merged[-1] = Chapter(merged[-1].title, merged[-1].start, last.end)
    if merged:
        merged[0] = Chapter(merged[0].title, 0.0, merged[0].end)
    return merged if len(merged) >= YOUTUBE_MIN_CHAPTERS else []


def clock(seconds: float) -> str:
    """0:00, 4:05, 1:02:03: the way players and YouTube write times."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ChapterWriter:
    filename: ClassVar[str]

    def write(self, chapters: list[Chapter], folder: Path) -> Path:
        path = folder / self.filename
        atomic_write_text(path, self.render(chapters))
        return path

    def render(self, chapters: list[Chapter]) -> str:
        raise NotImplementedError


class PodcastingJson(ChapterWriter):
    """Podcasting 2.0 JSON chapters (podcastindex.org, `application/json+chapters`)."""

    filename = "chapters.json"

    def render(self, chapters: list[Chapter]) -> str:
        items = [
            {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title} for c in chapters
        ]
        return (
            json.dumps(
                {"version": PODCASTING_CHAPTERS_VERSION, "chapters": items}, indent=2, ensure_ascii=False
            )
            + "\n"
        )


class YouTubeText(ChapterWriter):
    filename = "youtube.txt"

    def render(self, chapters: list[Chapter]) -> str:
        lines = [f"{clock(c.start)} {c.title}" for c in youtube_chapters(chapters)]
        return "\n".join(lines) + ("\n" if lines else "")


class FfMetadata(ChapterWriter):
    """ffmpeg's metadata file: how chapters get into the MP4."""

    filename = "chapters.ffmetadata"

    def render(self, chapters: list[Chapter]) -> str:
        blocks = [";FFMETADATA1"]
        for c in chapters:
            blocks += [
                "[CHAPTER]",
                "TIMEBASE=1/1000",
                f"START={round(c.start * 1000)}",
                f"END={round(c.end * 1000)}",
                f"title={_escape(c.title)}",
            ]
        return "\n".join(blocks) + "\n"


def _escape(text: str) -> str:
    for char in "\\=;#\n":
        text = text.replace(char, "\\" + char)
    return text


def tag_mp3(path: Path, chapters: list[Chapter], tags: dict[str, str], cover: Path | None) -> None:
    """ID3v2.4: title, artist, album, date, language, cover art, and CHAP frames under one CTOC."""
    from mutagen.id3 import APIC, CHAP, CTOC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, CTOCFlags

    id3 = ID3()
    for frame, key in (
        (TIT2, "title"),
        (TPE1, "artist"),
        (TALB, "album"),
        (TDRC, "date"),
        (TLAN, "language"),
    ):
        if tags.get(key):
            id3.add(frame(encoding=3, text=tags[key]))
    if cover is not None:
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=cover.read_bytes()))
    ids = [f"chp{n}" for n in range(len(chapters))]
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=tags.get("title", ""))],
        )
    )
    for element, chapter in zip(ids, chapters, strict=True):
        id3.add(
            CHAP(
                element_id=element,
                start_time=round(chapter.start * 1000),
                end_time=round(chapter.end * 1000),
                sub_frames=[TIT2(encoding=3, text=chapter.title)],
            )
        )
    id3.save(str(path), v2_version=4)


WRITERS: tuple[type[ChapterWriter], ...] = (PodcastingJson, YouTubeText)
