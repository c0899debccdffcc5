"""Two hosts: the exchange, speakers in episode.yaml, captions that say who speaks, and re-voicing one
line when its speaker changes."""

from __future__ import annotations

from itertools import groupby, pairwise
from pathlib import Path

import pytest
import yaml

from mediagen import pipeline
from mediagen.episode import load_episode
from mediagen.stages.script import TURN_S
from mediagen.text import word_count
from mediagen.writing.length import SPEAKING_RATE
from mediagen.writing.rules import problems
from tests.media_checks import read_report

from .conftest import SAMPLES
from .media_checks import read_cues

ISSUE = """---
title: Garden Notes
---

# Garden Notes

A short letter about the garden. This week the sensor and the probes.

## The sensor

Our balcony sensor measures soil moisture every ten minutes. It has been running for three weeks on
two batteries. The probe costs less than eight dollars. The data stays on the card until we copy it.

## Probes

Cheap probes drift after a month in wet soil. We calibrate them against a cup of dry sand. A
calibrated probe reads within two percent of the reference.

## Further reading

- [Calibrating soil probes](https://example.org/probes)
- [The Offline Manifesto](https://example.org/offline)
- [Old laptops, new life](https://example.org/laptops)
"""


def dialogue_checks(episode: dict) -> None:
    """What a dialogue promises: every section has lines from both hosts; no host says more than three
    lines in a row (the opening and sign-off aside); every line fits one breath and breaks no rule."""
    hosts = set(episode["speakers"])
    assert len(hosts) == 2
    lang = episode["lang"]
    limit = TURN_S * SPEAKING_RATE[lang]
    lines = [line for section in episode["sections"] for line in section["narration"]]
    opening = next(n for n, line in enumerate(lines) if line["origin"] != "show")
    signoff = max(n for n, line in enumerate(lines) if line["origin"] != "show") + 1
    runs = [len(list(group)) for _, group in groupby(line["speaker"] for line in lines[opening:signoff])]
    assert max(runs) <= 3, runs
    for section in episode["sections"]:
        said = section["narration"]
        assert {line["speaker"] for line in said} == hosts, section["id"]
        for line in said:
            assert word_count(line["text"], lang) <= limit, line
            assert not problems(line["text"], lang), line


def build_sample(tmp_path: Path, engines, **options) -> tuple[Path, dict]:
    """The dialogue test issue built into tmp_path/out with fake engines: (out folder, report)."""
    issue = tmp_path / "issue.md"
    issue.write_text(ISSUE, encoding="utf-8")
    out = tmp_path / "out"
    report = pipeline.build(
        issue, pipeline.BuildOptions(out=out, **options), engines=engines
    ).report.as_dict()
    return out, report


def test_a_dialogue_episode_has_two_hosts_who_take_turns(tmp_path, fake_engines):
    engines, _, _ = fake_engines
    out, report = build_sample(tmp_path, engines, mode="dialogue")
    episode = yaml.safe_load((out / "episode.yaml").read_text(encoding="utf-8"))
    assert episode["schema"] == 2 and episode["mode"] == "dialogue" == report["mode"]
    assert {s["name"] for s in episode["speakers"].values()} == {"Mika", "Ken"}
    dialogue_checks(episode)
    assert {s["speaker"] for s in report["sentences"]} == {"Mika", "Ken"}
    assert "Mika" in (out / "show-notes.md").read_text(encoding="utf-8")


def test_captions_say_who_speaks(tmp_path, fake_engines):
    import webvtt

    engines, _, _ = fake_engines
    out, _ = build_sample(tmp_path, engines, mode="dialogue")
    voices = [caption.voice for caption in webvtt.read(str(out / "episode.vtt"))]
    assert set(voices) == {"Mika", "Ken"} and all(voices)
    srt = [lines for _, _, lines in read_cues(out / "episode.srt")]
    changes = sum(1 for a, b in pairwise(voices) if a != b) + 1
    named = [lines[0] for lines in srt if lines[0].startswith(("Mika: ", "Ken: "))]
    assert len(named) == changes
    assert all(len(line) <= 42 for lines in srt for line in lines)


def test_changing_one_lines_speaker_revoices_exactly_that_line(tmp_path, fake_engines):
    engines, _, tts = fake_engines
    out, _ = build_sample(tmp_path, engines, mode="dialogue", cache=tmp_path / "cache", qa=False)
    path = out / "episode.yaml"
    episode = load_episode(path)
    line = next(line for line in episode.sections[1].narration if line.origin == "author")
    other = next(key for key in episode.speakers if key != line.speaker)
    text = path.read_text(encoding="utf-8")
    before = f"- text: {line.text}\n    speaker: {line.speaker}\n"
    assert before in text
    path.write_text(text.replace(before, f"- text: {line.text}\n    speaker: {other}\n"), encoding="utf-8")
    tts.spoken.clear()
    report = pipeline.render(
        path, pipeline.BuildOptions(cache=tmp_path / "cache", qa=False), engines=engines
    ).report.as_dict()
    assert tts.spoken == [line.text] and report["cache"]["voice"]["redone"] == 1


def test_render_records_the_mode_and_the_engines_it_used_in_a_valid_report(tmp_path, fake_engines):
    engines, _, _ = fake_engines
    out, _ = build_sample(tmp_path, engines, mode="dialogue", cache=tmp_path / "cache", qa=False)
    (out / "report.json").unlink()
    pipeline.render(
        out / "episode.yaml", pipeline.BuildOptions(cache=tmp_path / "cache", qa=False), engines=engines
    )
    report = read_report(out)  # validated against the Report model
    episode = load_episode(out / "episode.yaml")
    assert report["mode"] == "dialogue" == episode.mode and report["report_version"] == 1
    voices = report["engines"]["voices"]
    assert report["engines"]["tts"].startswith("fake-tts:") and len(voices) == 2, report["engines"]
    assert all(identity.startswith("fake-tts:") for identity in voices.values())
    assert {s["speaker"] for s in report["sentences"]} == {h.name for h in episode.speakers.values()}
    assert report["qa"] == {"skipped": "the speech check is off (--no-qa or [qa] enabled = false)"}


def test_a_report_that_is_not_a_valid_report_is_one_clear_error(tmp_path):
    from mediagen.errors import InputError
    from mediagen.report import load_report

    (tmp_path / "report.json").write_text('{"title": "x", "duration_s": "long"}', encoding="utf-8")
    with pytest.raises(InputError, match=r"report.json: not a mediagen build report \(\w+"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_text('{"report_version": 9}', encoding="utf-8")
    with pytest.raises(InputError, match="version 9; this mediagen reads version 1"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="cannot read the build report"):
        load_report(tmp_path)


def test_a_schema_1_episode_renders_with_one_voice(tmp_path, fake_engines):
    engines, _, _tts = fake_engines
    out, _ = build_sample(tmp_path, engines, mode="summary")
    path = out / "episode.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("schema: 2", "schema: 1"), encoding="utf-8")
    report = pipeline.render(path, pipeline.BuildOptions(), engines=engines).report.as_dict()
    assert report["duration_s"] > 0 and {s["speaker"] for s in report["sentences"]} == {None}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_samples_script_as_a_dialogue(lang, tmp_path, fake_engines):
    engines, _, _ = fake_engines
    out = tmp_path / "out"
    options = pipeline.BuildOptions(out=out, mode="dialogue")
    pipeline.write_script_only(SAMPLES / f"issue-{lang}.md", options, engines=engines)
    dialogue_checks(yaml.safe_load((out / "episode.yaml").read_text(encoding="utf-8")))


# --- with the real voices and recognizers ------------------------------------------------------------


def median_pitch(samples, rate: int) -> float:
    """The median fundamental frequency (Hz) of the voiced 40 ms frames (autocorrelation)."""
    import numpy as np

    frame, hop = int(0.04 * rate), int(0.01 * rate)
    found = []
    for i in range(0, len(samples) - frame, hop):
        x = samples[i : i + frame] - samples[i : i + frame].mean()
        if np.sqrt((x**2).mean()) < 0.02:
            continue
        ac = np.correlate(x, x, "full")[frame - 1 :]
        lo, hi = int(rate / 400), int(rate / 70)
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            found.append(rate / lag)
    return float(np.median(found)) if found else 0.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("issue", "lang", "minutes"),
    # The English sample's dialogue is scripted by test_the_samples_script_as_a_dialogue; voicing it
    # too would add 100 s to the suite for what rust-lld's build checks already (and with --minutes).
    [("samples/issue-ja.md", "ja", None), ("rust-lld-on-stable/index.md", "en", 1.5)],
)
def test_a_dialogue_episode_is_heard_right_in_both_voices_and_publishes(issue, lang, minutes, tmp_path):
    import json
    import subprocess
    import sys

    import feedparser
    import webvtt

    from mediagen.config import Podcast
    from mediagen.feed import write_feed

    from .conftest import corpus_file
    from .media_checks import assert_valid_episode, audio_segment

    path = SAMPLES.parent / issue if issue.startswith("samples/") else corpus_file(issue)
    out = tmp_path / "site" / "episode"
    command = [
        sys.executable,
        "-m",
        "mediagen",
        "build",
        str(path),
        "--out",
        str(out),
        "--mode",
        "dialogue",
        "-q",
    ] + (["--minutes", str(minutes)] if minutes else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    facts = assert_valid_episode(out, max_line_chars=42 if lang == "en" else 20)
    report = facts["report"]
    dialogue_checks(facts["episode"])
    if minutes:  # the length asked for, within the 25 % a section's whole sentences allow
        assert 0.75 * minutes * 60 <= report["duration_s"] <= 1.25 * minutes * 60, report["duration_s"]
    assert report["qa"]["overall"] <= (0.03 if lang == "en" else 0.08), report["qa"]["overall"]
    pitch: dict[str, list[float]] = {}
    heard: dict[str, list[tuple[int, int]]] = {}  # per speaker: (errors, length) of each line
    for said, check in zip(report["sentences"], report["qa"]["sentences"], strict=True):
        assert said["text"] == check["text"]
        heard.setdefault(said["speaker"], []).append((check["errors"], check["length"]))
        samples = audio_segment(out / "episode.mp3", said["start_s"], said["end_s"])
        pitch.setdefault(said["speaker"], []).append(median_pitch(samples, 16_000))
    assert set(heard) == {s["name"] for s in facts["episode"]["speakers"].values()}
    # Each voice is heard right: within twice the episode's target, as a voice says about half of the
    # words (100 here) and one sentence alone moves its share by 4 points: in 20 builds of rust-lld,
    # Ken's "rustc to use" ("rust, C to use" through the lexicon) was heard "C2U's" in 9, his share
    # 1-4 % (0 % in 11; the episode 0-1.8 %). A broken voice is heard 20 % wrong and more.
    for speaker, scores in heard.items():
        rate = sum(e for e, _ in scores) / sum(n for _, n in scores)
        assert rate <= 2 * (0.03 if lang == "en" else 0.08), (speaker, rate)
    low, high = sorted(sorted(values)[len(values) // 2] for values in pitch.values())
    assert high >= 1.5 * low, pitch  # a female and a male voice, far apart
    assert {c.voice for c in webvtt.read(str(out / "episode.vtt"))} == set(heard)
    feed = write_feed(out.parent, Podcast(title="Show", base_url="https://example.org/show/"))
    parsed = feedparser.parse(feed.read_text(encoding="utf-8"))
    assert not parsed.bozo and len(parsed.entries) == 1
    assert json.loads((out / "chapters.json").read_text(encoding="utf-8"))["chapters"]
