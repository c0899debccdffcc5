"""Ready to publish: loudness, music, chapters, feed, batch and the example CI workflow."""

from __future__ import annotations

import functools
import itertools
import json
import operator
import re
import shlex
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from mediagen import pipeline
from mediagen.batch import Shard, find_issues, issue_name
from mediagen.cache import Cache
from mediagen.config import Music, load_config
from mediagen.errors import InputError
from mediagen.media.chapters import Chapter, youtube_chapters
from mediagen.media.ffmpeg import decode_audio
from mediagen.media.parts import SECTION_GRID_S
from mediagen.stages.align import caption_cues
from mediagen.stages.music import RAMP_S, add_music
from mediagen.timeline import SectionSpan, SpokenWord, VoicedSentence, Voiceover
from tests.media_checks import read_report

from .conftest import ROOT, SAMPLES, corpus_file
from .media_checks import assert_podcasting_chapters, assert_publishable

WORKFLOW = ROOT / "examples" / "github-actions" / "publish.yml"


@pytest.mark.parametrize(
    ("lengths", "expected"),
    [
        ([30, 40, 50], [(0, 30), (30, 70), (70, 120)]),
        ([5, 40, 8, 50, 20], [(0, 45), (45, 103), (103, 123)]),  # short ones merge into their neighbour
        ([30, 40, 50, 4], [(0, 30), (30, 70), (70, 124)]),  # a short last one joins the one before
        ([30, 5, 5], []),  # fewer than three long enough: none at all
    ],
)
def test_youtube_chapters_start_at_zero_last_ten_seconds_and_number_at_least_three(lengths, expected):
    chapters, start = [], 0.0
    for n, length in enumerate(lengths):
        chapters.append(Chapter(f"c{n}", start, start + length))
        start += length
    assert [(c.start, c.end) for c in youtube_chapters(chapters)] == expected


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_shards_split_an_archive_into_disjoint_stable_parts(shards):
    names = [f"issue-{n:03d}" for n in range(60)]
    parts = [[n for n in names if Shard(k, shards).takes(n)] for k in range(1, shards + 1)]
    assert sorted(functools.reduce(operator.iadd, parts, [])) == names
    assert all(parts) and parts == [
        [n for n in names if Shard(k, shards).takes(n)] for k in range(1, shards + 1)
    ]


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "1-2"])
def test_a_bad_shard_is_bad_input(text):
    with pytest.raises(InputError, match="--shard"):
        Shard.parse(text)


def test_config_problems_are_reported_together(tmp_path):
    (tmp_path / "mediagen.toml").write_text(
        '[loudness]\nlufs = "loud"\n[music]\nbed = "missing.wav"\n[podcast]\ntitle = 3\ncolour = "red"\n'
    )
    with pytest.raises(InputError) as error:
        load_config(tmp_path)
    message = error.value.format_message()
    for part in ("'loudness.lufs'", "'music.bed'", "'podcast.title'", "'podcast.colour'"):
        assert f"Config value {part}" in message


def tone_file(path: Path, frequency: float, seconds: float, rate: int = 24_000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((0.5 * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2").tobytes())
    return path


def band_level(samples: np.ndarray, rate: int, frequency: float) -> float:
    """Level (dB) of the band around `frequency` in a stretch of audio."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    bins = np.fft.rfftfreq(len(samples), 1 / rate)
    band = spectrum[(bins > frequency * 0.95) & (bins < frequency * 1.05)]
    return 20 * np.log10(band.max() + 1e-9)


@pytest.mark.slow
def test_the_music_bed_is_at_least_12_db_quieter_under_speech_than_in_the_pauses(
    tmp_path, monkeypatch, fake_engines
):
    """A tone stands in for the voice (220 Hz) and another for the bed (2 kHz): the bed's own band is
    measured in the final MP3, in the middle of sentences and in the middle of the pauses."""
    engines, _, tts = fake_engines
    tts.seconds_per_char = 0.08
    (tmp_path / "music").mkdir()
    tone_file(tmp_path / "music" / "bed.wav", 2000, 5.0)
    tone_file(tmp_path / "music" / "jingle.wav", 660, 2.0)
    (tmp_path / "mediagen.toml").write_text('[music]\nintro = "music/jingle.wav"\nbed = "music/bed.wav"\n')
    issue = tmp_path / "issue.md"
    issue.write_text(
        "---\ntitle: Ducking\n---\n\nA first long sentence to say out loud.\n\n"
        "## Two\n\nA second long sentence to say out loud.\n\n## Three\n\nAnd a third one, long too.\n"
    )
    monkeypatch.chdir(tmp_path)
    report = pipeline.build(
        issue,
        pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", cache=tmp_path / "cache"),
        engines=engines,
    ).report.as_dict()
    rate = 16_000
    audio = decode_audio(tmp_path / "out" / "episode.mp3", rate, stage="test")
    sentences = report["sentences"]
    assert sentences[0]["start_s"] > 1.0  # the narration waits for the intro
    under_speech, in_pauses = [], []
    for sentence in sentences:
        middle = (sentence["start_s"] + sentence["end_s"]) / 2
        under_speech.append(
            band_level(audio[int((middle - 0.1) * rate) : int((middle + 0.1) * rate)], rate, 2000)
        )
    for before, after in itertools.pairwise(sentences):
        gap = after["start_s"] - before["end_s"]
        if gap > 4 * RAMP_S + 0.15:
            middle = (before["end_s"] + after["start_s"]) / 2
            in_pauses.append(
                band_level(audio[int((middle - 0.05) * rate) : int((middle + 0.05) * rate)], rate, 2000)
            )
    assert in_pauses, "no pause long enough to measure"
    assert min(in_pauses) - max(under_speech) >= 12, (in_pauses, under_speech)
    assert report["loudness"]["mp3"]["true_peak"] <= -1.0


def test_the_words_heard_move_with_their_sentence_behind_the_intro():
    """Captions are timed by the words the speech check heard: behind an intro jingle they move as their
    sentence moves (they had stayed where the narration alone had them, the jingle's length early, and a
    cue timed by them could end before it began)."""
    rate = 16_000
    words = (SpokenWord("Hello", 0.30, 0.60), SpokenWord("there.", 0.65, 0.95))
    sentence = VoicedSentence("s0", "Hello there.", "Hello there.", 0.25, 1.0, words)
    sections = [SectionSpan("s0", "S", 0.0, 2.0)]
    narration = Voiceover(np.zeros(2 * rate, np.float32), rate, [sentence], sections)
    intro = Music.model_construct(intro=Path("jingle.wav"), outro=None, bed=None)
    moved = add_music(narration, intro, lambda path, r: np.full(3 * r, 0.1, np.float32), SECTION_GRID_S)
    shift = moved.sentences[0].start - sentence.start
    assert shift > 2.0
    times = [t for w in moved.sentences[0].words for t in (w.start - shift, w.end - shift)]
    assert times == pytest.approx([0.30, 0.60, 0.65, 0.95])
    assert caption_cues(moved, "en")[0].start >= moved.sentences[0].start


def make_site(tmp_path: Path, engines: pipeline.Engines) -> Path:
    site = tmp_path / "site"
    for name in ("issue-en", "issue-ja"):
        pipeline.build(
            SAMPLES / f"{name}.md",
            pipeline.BuildOptions(out=site / name, mode="verbatim", cache=tmp_path / "cache"),
            engines=engines,
        )
    return site


@pytest.mark.slow
@pytest.mark.parametrize("words", ["# Empty\n", "# Hi\n\nOK.\n"])
def test_an_episode_of_a_word_or_two_still_reaches_the_target_loudness(tmp_path, words):
    """One spoken word has peaks far above its loudness: past the limiter a dB of gain adds about a
    third of a LU, so a build that adds the missing LU once (or four times) lands 0.5–1 LU short."""
    issue = tmp_path / "issue.md"
    issue.write_text(words)
    result = pipeline.build(
        issue,
        pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", cache=tmp_path / "cache", qa=False),
    )
    from mediagen.media.loudness import measure

    for name, tolerance in (("episode.mp3", 0.5), ("episode.mp4", 1.0)):
        measured = measure(tmp_path / "out" / name)
        assert abs(measured.integrated - result.report.as_dict()["loudness"]["target_lufs"]) <= tolerance, (
            name,
            measured,
        )
        assert measured.true_peak <= -1.0, (name, measured)


@pytest.mark.slow
def test_a_video_loudness_of_its_own_is_reached_beside_the_podcasts(tmp_path, monkeypatch):
    """`video_lufs` gives the MP4's audio a target of its own: each encoder applies its own gain to the
    one compressed mix, and each output is measured as a player hears it."""
    folder = tmp_path / "issue"
    folder.mkdir()
    (folder / "mediagen.toml").write_text("[loudness]\nvideo_lufs = -13\n")
    monkeypatch.chdir(folder)  # the settings of the folder a build runs in
    issue = folder / "issue.md"
    issue.write_text("# Loud and clear\n\nThe video is louder than the podcast. Both are measured.\n")
    pipeline.build(
        issue,
        pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", cache=tmp_path / "cache", qa=False),
    )
    from mediagen.media.loudness import measure

    mp3, mp4 = measure(tmp_path / "out" / "episode.mp3"), measure(tmp_path / "out" / "episode.mp4")
    assert abs(mp3.integrated + 16) <= 0.5 and mp3.true_peak <= -1.0, mp3
    assert abs(mp4.integrated + 13) <= 0.5 and mp4.true_peak <= -1.0, mp4


def _limited(loudness_per_db: float, peak_per_db: float, at_zero: tuple[float, float]):
    """A render whose loudness and true peak move with the gain as past a limiter (a fake encoder)."""
    from mediagen.media.loudness import Loudness

    gains: list[float] = []

    def render(gain: float) -> Loudness:
        gains.append(gain)
        return Loudness(at_zero[0] + loudness_per_db * gain, at_zero[1] + peak_per_db * gain, 1.0)

    return render, gains


def test_the_loudness_is_sought_past_a_limiter_that_holds_the_peak_and_never_left_over_the_peak():
    from mediagen.media.loudness import seek

    # A short piper episode's video (measured: -14.5 LUFS, -1.5 dBTP at the first gain, 0.35 LU and
    # about 0.1 dB of true peak per dB past the limiter): a step of the peak's room in gain each try
    # left it at -14.0 after five tries.
    render, gains = _limited(0.35, 0.1, (-14.5, -1.5))
    reached = seek(render, 0.0, -13.0, -1.0)
    assert abs(reached.integrated + 13.0) <= 0.5 and reached.true_peak <= -1.0, (reached, gains)
    # Peaks that move with the gain: the target cannot be reached under the peak; what is left is a
    # render under it, and the one written last.
    render, gains = _limited(0.5, 0.9, (-15.0, -2.0))
    reached = seek(render, 0.0, -13.0, -1.0)
    assert reached.true_peak <= -1.0 and reached.integrated >= -15.0, (reached, gains)
    assert render(gains[-1]) == reached


@pytest.mark.slow
def test_the_feed_parses_in_a_podcast_client_library_with_every_item_enclosure_and_duration(
    tmp_path, monkeypatch, fake_engines
):
    import feedparser

    site = make_site(tmp_path, fake_engines[0])
    (tmp_path / "mediagen.toml").write_text(
        '[podcast]\ntitle = "Field Notes"\nbase_url = "https://example.org/pod"\nauthor = "Mika"\n'
        'description = "Offline tools."\ncategory = "Technology"\nimage = "cover.png"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mediagen", "feed", str(site)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    parsed = feedparser.parse(str(site / "feed.xml"))
    assert not parsed.bozo and parsed.version == "rss20"
    assert parsed.feed.title == "Field Notes" and not parsed.feed.itunes_explicit
    assert "<itunes:explicit>false</itunes:explicit>" in (site / "feed.xml").read_text()
    assert "podcastindex.org/namespace/1.0" in " ".join(parsed.namespaces.values())
    assert len(parsed.entries) == 2
    for entry in parsed.entries:
        folder = site / entry.link.split("/")[-2]
        report = read_report(folder)
        enclosure = entry.enclosures[0]
        assert enclosure.href.endswith(f"/{folder.name}/episode.mp3") and enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == (folder / "episode.mp3").stat().st_size
        h, m, s = (int(x) for x in entry.itunes_duration.split(":"))
        assert abs(h * 3600 + m * 60 + s - report["duration_s"]) <= 1
        assert entry.published_parsed[:3] == tuple(int(x) for x in report["episode"]["date"].split("-"))
        assert entry.podcast_chapters["url"].endswith(f"/{folder.name}/chapters.json")
        assert_podcasting_chapters(json.loads((folder / "chapters.json").read_text()), report)
        assert_publishable(folder, report)
    guids = [e.id for e in parsed.entries]
    subprocess.run([sys.executable, "-m", "mediagen", "feed", str(site)], check=True, capture_output=True)
    assert [e.id for e in feedparser.parse(str(site / "feed.xml")).entries] == guids  # stable


def test_a_feed_without_base_url_is_a_clear_config_error(tmp_path, monkeypatch):
    (tmp_path / "site").mkdir()
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mediagen", "feed", "site"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mediagen: error: feed: set 'title' and 'base_url' in [podcast] of mediagen.toml"
    ]


@pytest.mark.slow
def test_batch_builds_the_good_issues_reports_the_broken_one_and_shards_split_the_folder(tmp_path):
    issues = tmp_path / "issues"
    issues.mkdir()
    for name in ("issue-en.md", "soil-moisture.png"):
        shutil.copy(SAMPLES / name, issues / name)
    # A real newsletter in a folder of its own (index.md); the long TWIR issue and the Japanese sample are
    # built in test_end_to_end (here they were a third and a half of this test's time).
    shutil.copytree(corpus_file("rust-lld-on-stable/index.md").parent, issues / "rust-lld-on-stable")
    (issues / "short-note.md").write_text("# A short note\n\nNo issue next week. We will be back soon.\n")
    (issues / "oshirase.md").write_text("# お知らせ\n\n来週はお休みです。再来週にまたお届けします。\n")
    (issues / "broken.md").write_text("---\ntitle: [never closed\n---\nBody\n")
    (issues / "README.md").write_text("# About this archive\n")
    names = {issue_name(i, issues) for i in find_issues(issues)}
    assert names == {"issue-en", "oshirase", "rust-lld-on-stable", "short-note", "broken"}

    def batch(site: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mediagen",
                "batch",
                str(issues),
                "--out",
                str(tmp_path / site),
                "--mode",
                "verbatim",
                "--jobs",
                "2",
                "--cache",
                str(tmp_path / "cache"),
                "--no-qa",  # batching is tested here; the speech check in test_qa
                *extra,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return result, json.loads((tmp_path / site / "batch.json").read_text())

    result, summary = batch("site")
    assert result.returncode == 1
    by_name = {Path(r["out"]).name: r for r in summary["issues"]}
    assert set(by_name) == names
    broken = by_name.pop("broken")
    assert broken["status"] == "failed" and broken["stage"] == "parse" and "not valid YAML" in broken["error"]
    for name, issue in by_name.items():
        assert issue["status"] == "built" and issue["duration_s"] > 0 and issue["stages"]
        assert (tmp_path / "site" / name / "episode.mp4").is_file()
    assert read_report(tmp_path / "site" / "oshirase")["lang"] == "ja"
    assert "broken" in result.stdout and "failed" in result.stdout

    # The shards build into the same site, so their work is already done and only the split is tested.
    shards = [batch("site", "--shard", f"{k}/2")[1] for k in (1, 2)]
    built = [Path(r["out"]).name for s in shards for r in s["issues"]]
    assert sorted(built) == sorted(names)  # together exactly the whole folder, each issue once
    assert all(shard["issues"] for shard in shards)


def test_the_example_workflow_is_valid_yaml_and_runs_only_commands_the_cli_has():
    from click.testing import CliRunner  # noqa: F401 - the CLI is resolved below without running anything

    from mediagen.cli import cli

    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert jobs["build"]["strategy"]["matrix"]["shard"] and jobs["feed"]["needs"] == "build"
    uses = [step.get("uses", "") for job in jobs.values() for step in job["steps"]]
    assert any(u.startswith("actions/cache") for u in uses) and any(
        u.startswith("actions/upload-artifact") for u in uses
    )
    commands = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    mediagen_lines = [
        line for command in commands for line in command.splitlines() if line.strip().startswith("mediagen ")
    ]
    assert {line.split()[1] for line in mediagen_lines} >= {"batch", "feed"}
    for line in mediagen_lines:
        args = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "1", line))[1:]
        context = cli.make_context("mediagen", list(args), resilient_parsing=False)
        name, command, rest = cli.resolve_command(context, args)
        command.make_context(name, rest, parent=context)  # raises on an unknown option or a bad value


def test_a_thumbnail_templates_refused_fetch_warns_when_it_is_made_and_when_it_is_reused(
    tmp_path, write_issue, fake_engines
):
    engines, _, _ = fake_engines
    theme = tmp_path / "theme"
    shutil.copytree(Path(pipeline.__file__).parent / "templates" / "thumbnail", theme / "thumbnail")
    (theme / "thumbnail" / "default" / "thumbnail.html.j2").write_text(
        "<!doctype html><html><head><style>@page { size: 1280px 720px; margin: 0; }</style></head>"
        '<body><img src="file:///etc/hostname"><p>{{ title }}</p></body></html>',
        encoding="utf-8",
    )
    issue = write_issue("---\ntitle: Thumbs\n---\n\n# Thumbs\n\n## One\n\nA sentence to say.\n")
    options = pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", templates=theme, qa=False)
    for reused in (0, 1):
        report = pipeline.build(issue, options, engines=engines).report.as_dict()
        assert report["cache"]["thumbnail"] == {"reused": reused, "redone": 1 - reused}
        assert "thumbnail: refused to fetch file:///etc/hostname" in report["warnings"]
    assert Image.open(tmp_path / "out" / "thumbnail.png").size == (1280, 720)


def test_prune_keeps_the_pages_of_a_slide_that_continues_so_the_written_script_renders_from_the_cache(
    tmp_path, write_issue, fake_engines
):
    engines, _, _ = fake_engines
    code = "\n".join(f"line_{n} = {n * n}" for n in range(80))
    issue = write_issue(
        f"---\ntitle: Long\n---\n\n# Long\n\n## Code\n\nA sentence to say.\n\n```\n{code}\n```\n"
    )
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    built = pipeline.build(
        issue, pipeline.BuildOptions(out=out, mode="verbatim", cache=cache), engines=engines
    )
    episode = yaml.safe_load((out / "episode.yaml").read_text(encoding="utf-8"))
    assert sum(s.get("continued", False) for c in episode["sections"] for s in c["slides"]) >= 1
    assert built.report.as_dict()["cache"]["slides"]["redone"] >= 1
    store = Cache(cache)
    store.prune(store.kept_keys())
    again = pipeline.render(out / "episode.yaml", pipeline.BuildOptions(cache=cache), engines=engines)
    assert again.report.as_dict()["cache"]["slides"]["redone"] == 0, again.report.as_dict()["cache"]
