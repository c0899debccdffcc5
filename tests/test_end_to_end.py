"""Whole builds with the real models, checked by the properties of what comes out."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
import yaml

from mediagen import pipeline, scoring
from mediagen.engines.registry import get_engine
from mediagen.media.captions import NO_LINE_START
from mediagen.text import character_error_rate, kana_reading
from tests.media_checks import read_report

from .conftest import SAMPLES, corpus_file
from .media_checks import assert_valid_episode, audio_segment, fonts_by_character, frame_at, read_cues

pytestmark = pytest.mark.slow
URLISH = re.compile(r"https?://|www\.|\.(com|org|dev|io)\b")


@pytest.fixture(scope="module")
def whisper_en():
    return get_engine("asr", "whisper", lang="en")


@pytest.fixture(scope="module")
def english(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("en") / "out"
    pipeline.build(SAMPLES / "issue-en.md", pipeline.BuildOptions(out=out))
    return out


@pytest.fixture(scope="module")
def japanese(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ja") / "out"
    pipeline.build(SAMPLES / "issue-ja.md", pipeline.BuildOptions(out=out))
    return out


def spoken_text(out: Path) -> str:
    """What the voice was given to say, sentence by sentence, as the report records it."""
    report = read_report(out)
    return " ".join(sentence["spoken"] for sentence in report["sentences"])


def test_the_english_sample_becomes_a_consistent_podcast_and_video(english):
    facts = assert_valid_episode(english, max_line_chars=42)
    report = facts["report"]
    assert report["lang"] == "en" and report["mode"] == "summary"
    assert set(report["stages"]) >= {"parse", "script", "voice", "slides", "assemble"}
    assert 20 < facts["duration"] < 300
    assert not URLISH.search(spoken_text(english))
    # The opening of the MP3 says the first sentences of the script, as an independent recognizer (the
    # multilingual base model, not the check's tiny.en) hears them. Scored, not matched word for word:
    # one take was heard "Filve Notes", another "quite computers".
    opening = [s for s in report["sentences"] if s["end_s"] < 10]
    assert len(opening) >= 2
    base = get_engine("asr", "whisper", lang="en", model="base")
    heard = base.transcribe(audio_segment(english / "episode.mp3", 0, opening[-1]["end_s"] + 0.2), "en")
    said = " ".join(s["text"] for s in opening)
    assert scoring.score("en", said, said, heard.text).rate < 0.2, heard.text
    slides = [s for section in facts["episode"]["sections"] for s in section["slides"]]
    assert any(s.get("image") == "soil-moisture.png" for s in slides)


def test_the_video_shows_each_slide_while_its_narration_plays(english):
    report = read_report(english)
    episode = yaml.safe_load((english / "episode.yaml").read_text())
    pages = pypdfium2.PdfDocument(english / "slides.pdf")
    slide_times = report["slides"]
    assert [s["page"] for s in slide_times] == list(range(1, len(pages) + 1))
    # Each section's slides are on screen within that section's narration.
    first_page = 1
    for section, span in zip(episode["sections"], report["sections"], strict=True):
        own = slide_times[first_page - 1 : first_page - 1 + len(section["slides"])]
        assert own[0]["start_s"] == span["start_s"] and own[-1]["end_s"] == span["end_s"]
        first_page += len(section["slides"])
    # And the picture in the video at the middle of a slide's time is that page.
    for slide in slide_times:
        middle = (slide["start_s"] + slide["end_s"]) / 2
        shown = frame_at(english / "episode.mp4", middle).astype(np.int16)
        page = pages[slide["page"] - 1].render(scale=96 / 72).to_pil().convert("RGB")
        assert np.abs(shown - np.asarray(page, dtype=np.int16)).mean() < 6, (
            f"page {slide['page']} at {middle:.1f}s"
        )


def test_the_japanese_sample_is_voiced_rendered_and_captioned_in_japanese(japanese):
    facts = assert_valid_episode(japanese, max_line_chars=20)
    assert facts["report"]["lang"] == "ja"
    whisper = get_engine("asr", "whisper", lang=None)
    opening = [s for s in facts["report"]["sentences"] if s["end_s"] < 15]
    transcript = whisper.transcribe(audio_segment(japanese / "episode.mp3", 0, opening[-1]["end_s"] + 0.2))
    assert transcript.language == "ja"
    said = kana_reading("".join(s["text"] for s in opening))
    assert character_error_rate(said, kana_reading(transcript.text)) < 0.3
    for page in range(len(pypdfium2.PdfDocument(japanese / "slides.pdf"))):
        fonts = fonts_by_character(japanese / "slides.pdf", page)
        japanese_chars = [ch for ch in fonts if ord(ch) > 0x3000]
        assert japanese_chars, f"page {page + 1} shows no Japanese"
        assert all(all("Noto-Sans-CJK-JP" in name for name in fonts[ch]) for ch in japanese_chars)
    for _, _, lines in facts["cues"]:
        assert all(line[0] not in NO_LINE_START for line in lines)


def test_editing_one_narration_sentence_changes_what_is_said(tmp_path, whisper_en):
    out = tmp_path / "out"
    pipeline.build(SAMPLES / "issue-en.md", pipeline.BuildOptions(out=out, mode="verbatim"))
    episode_path = out / "episode.yaml"
    text = episode_path.read_text(encoding="utf-8")
    old = "Thank you for reading."
    new = "Purple elephants dance quietly on the moon."
    assert old in text
    episode_path.write_text(text.replace(old, new), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mediagen", "render", str(episode_path), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = read_report(out)
    timing = next(s for s in report["sentences"] if s["text"] == new)
    heard = whisper_en.transcribe(
        audio_segment(out / "episode.mp3", timing["start_s"], timing["end_s"]), "en"
    )
    assert "purple" in heard.text.lower() and "moon" in heard.text.lower()
    for captions in ("episode.srt", "episode.vtt"):
        shown = " ".join(" ".join(lines) for _, _, lines in read_cues(out / captions))
        assert new in shown and old not in shown


@pytest.mark.parametrize(
    ("name", "title", "options"),
    [
        (
            "rust-lld-on-stable/index.md",
            "Faster linking times with 1.90.0 stable on Linux using the LLD linker",
            [],
        ),
        # The long one without the speech check (checked on rust-lld and the samples): it was more than
        # a third of the suite's time with it; and at a length to keep, two minutes.
        ("twir-2026-04-15.md", "This Week in Rust 647", ["--no-qa", "--minutes", "2"]),
    ],
)
def test_real_newsletters_build_through_the_cli(name, title, options, tmp_path):
    issue = corpus_file(name)
    out = tmp_path / "out"
    result = subprocess.run(  # a relative --out, as an author would type it
        [sys.executable, "-m", "mediagen", "build", str(issue), "--out", "out", *options],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    facts = assert_valid_episode(out, max_line_chars=42)
    assert facts["report"]["title"] == title == facts["episode"]["title"]
    assert not URLISH.search(spoken_text(out))
    assert ("skipped" in facts["report"]["qa"]) == ("--no-qa" in options)
    assert_framed_and_voiced(facts["episode"], facts["report"])
    if "--minutes" in options:  # 2 minutes, within a quarter
        assert 90 <= facts["duration"] <= 150, facts["duration"]
    print(f"{name}: audio {facts['duration']:.1f} s, built in {facts['report']['build_s']:.1f} s")


def assert_framed_and_voiced(episode: dict, report: dict) -> None:
    """The show is there and said: the opening first, a transition at every section's start, the
    sign-off last; each of their lines among the sentences voiced."""
    sections = episode["sections"]
    assert sections[0]["narration"][0]["origin"] == "show"
    assert all(section["narration"][0]["origin"] == "show" for section in sections[1:])
    assert sections[-1]["narration"][-1]["origin"] == "show"
    voiced = {s["text"] for s in report["sentences"]}
    shown = [line["text"] for s in sections for line in s["narration"] if line["origin"] == "show"]
    assert shown and all(text in voiced for text in shown)


CORPUS = [
    "rust-lld-on-stable/index.md", "twir-2026-04-15.md", "en-go-blog-15years.md", "en-lwkd-2020-07-12.md",
    "ja-jser-13th.md", "ja-k8s-blog-10-years-of-kubernetes.md",
]  # fmt: skip


@pytest.mark.parametrize("name", [*CORPUS, "samples/issue-en.md", "samples/issue-ja.md"])
def test_every_spoken_line_of_a_real_newsletter_follows_the_rules(name, tmp_path):
    from mediagen.writing.rules import problems

    issue = SAMPLES.parent / name if name.startswith("samples/") else corpus_file(name)
    out = tmp_path / "out"
    pipeline.write_script_only(issue, pipeline.BuildOptions(out=out))
    episode = yaml.safe_load((out / "episode.yaml").read_text(encoding="utf-8"))
    broken = [
        (line["text"], problems(line["text"], episode["lang"]))
        for section in episode["sections"]
        for line in section["narration"]
        if problems(line["text"], episode["lang"])
    ]
    assert not broken
    origins = {line["origin"] for section in episode["sections"] for line in section["narration"]}
    assert origins <= {"author", "show"}  # the default writes no model's sentence
    sections = episode["sections"]
    assert sections[0]["narration"][0]["origin"] == "show"  # the opening
    assert all(s["narration"][0]["origin"] == "show" for s in sections[1:])  # a line into each section
    assert sections[-1]["narration"][-1]["origin"] == "show"  # the sign-off
