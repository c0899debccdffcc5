"""Hostile input, confinement, no network, engine faults: never a traceback, never a half-written file,
never a byte off this machine, never a file outside the issue's folder."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mediagen import pipeline
from mediagen.errors import MediagenError
from mediagen.pipeline import MEDIA_NAMES, OUTPUT_NAMES
from tests.media_checks import read_report

from .conftest import SAMPLES
from .media_checks import assert_valid_episode

HOSTILE = Path(__file__).parent / "hostile"
SECRET = "TOP-SECRET-CONTENT-4821"
# What a leaked /etc/passwd or /etc/hosts would put into an output.
LEAKS = (SECRET, "root:x:0:0", "localhost")


def _png(width: int, height: int) -> bytes:
    """A 1-bit grayscale PNG, compressed row by row (a 20000×20000 picture in a few megabytes of RAM)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def hostile_cases(root: Path) -> list[Path]:
    """Each case in a folder of its own under `root` (beside a secret file the cases must not read):
    the stored corpus, and the cases too large or too machine-specific to store."""
    root.mkdir(parents=True)
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    issues = []
    for case in sorted(HOSTILE.iterdir()):
        if case.name.startswith(".") or case.name == "README.md":
            continue
        folder = root / case.stem
        if case.is_dir():
            shutil.copytree(case, folder)
            issues.append(folder / "index.md")
        else:
            folder.mkdir()
            shutil.copy(case, folder / case.name)
            issues.append(folder / case.name)
    made = {
        "huge-10mb": ("# Huge\n\n" + "A sentence about nothing in particular. " * 260_000).encode(),
        "symlink-out": b"# Link\n\nPictures follow.\n\n![a](linked.png)\n\n![b](passwd.png)\n",
        "giant-png": b"# Giant\n\nA picture twenty thousand pixels square follows.\n\n![giant](giant.png)\n",
    }
    for name, text in made.items():
        (root / name).mkdir()
        (root / name / "index.md").write_bytes(text)
        issues.append(root / name / "index.md")
    (root / "symlink-out" / "linked.png").symlink_to(root / "secret.txt")
    (root / "symlink-out" / "passwd.png").symlink_to("/etc/passwd")
    (root / "giant-png" / "giant.png").write_bytes(_png(20_000, 20_000))
    return issues


def build_cli(issue: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mediagen", "build", str(issue), "--out", str(out), "-q", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=issue.parent)


@pytest.mark.slow
def test_every_hostile_input_builds_or_stops_with_one_clear_line(tmp_path):
    cases = hostile_cases(tmp_path / "cases")
    assert len(cases) >= 30

    def run(issue: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
        out = tmp_path / "out" / issue.parent.name
        return (
            issue,
            out,
            build_cli(issue, out, "--mode", "verbatim", "--no-qa", "--cache", str(tmp_path / "cache")),
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, cases))
    outcomes = {}
    for issue, out, done in results:
        name = issue.parent.name
        outcomes[name] = done.returncode
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, (name, done.stderr)
        assert done.returncode in (0, 2), (name, done.stderr)
        if done.returncode == 2:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("mediagen: error: "), (name, done.stderr)
            assert not any((out / media).exists() for media in MEDIA_NAMES), name
            continue
        try:
            assert_valid_episode(out, max_line_chars=42)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
        for produced in out.iterdir():
            if produced.is_file():
                data = produced.read_bytes()
                assert not any(leak.encode() in data for leak in LEAKS), (name, produced.name)
    assert outcomes["empty"] in (0, 2) and outcomes["binary"] == 2
    assert outcomes["huge-10mb"] == 2 and outcomes["thousand-headings"] == 2
    assert outcomes["front-matter-aliases"] == 2 and outcomes["front-matter-toml-deep"] == 2
    for name, warned in {
        "front-matter-bad-values": "'date' is not a date",
        "russian-in-japanese": "cannot say cyrillic",
    }.items():
        report = read_report(tmp_path / "out" / name)
        assert any(warned in warning for warning in report["warnings"]), (name, report["warnings"])
    for name, refused in {
        "img-passwd": "etc/passwd",
        "img-secret": "../secret.txt",
        "img-etc-hosts": "/etc/hosts",
        "img-file-url": "file:///etc/passwd",
        "img-http": "http://example.com/image.png",
        "symlink-out": "linked.png",
    }.items():
        report = read_report(tmp_path / "out" / name)
        assert any(refused in warning for warning in report["warnings"]), (name, report["warnings"])


def _template_folder(tmp_path: Path, insert: str) -> Path:
    folder = tmp_path / "theme"
    shutil.copytree(Path(pipeline.__file__).parent / "templates" / "slides", folder / "slides")
    deck = folder / "slides" / "default" / "deck.html.j2"
    text = deck.read_text(encoding="utf-8")
    deck.write_text(text.replace("<body", insert + "<body", 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("insert", "message"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "unsafe"),
        ("{% include '../../../../../../etc/passwd' %}", "not in the template folders"),
        ("{% include '/etc/passwd' %}", "not in the template folders"),
    ],
)
def test_a_template_that_reaches_out_fails_with_a_clear_template_error(
    tmp_path, fake_engines, insert, message
):
    engines, _, _ = fake_engines
    issue = tmp_path / "issue.md"
    issue.write_text("# Title\n\n## One\n\nSome text here.\n", encoding="utf-8")
    options = pipeline.BuildOptions(
        out=tmp_path / "out", mode="verbatim", templates=_template_folder(tmp_path, insert)
    )
    with pytest.raises(MediagenError, match=rf"template .*{message}"):
        pipeline.build(issue, options, engines=engines)
    assert not (tmp_path / "out" / "episode.mp4").exists()


GUARD = """
import socket, sys
attempts = open(sys.argv[1], "a")
def refuse(*args, **kwargs):
    attempts.write(repr(args[:2]) + "\\n"); attempts.flush()
    raise OSError("network use refused by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.argv = ["mediagen", *sys.argv[2:]]
from mediagen.cli import main
main()
"""


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"]).returncode == 0


@pytest.mark.slow
def test_a_whole_build_needs_no_network(tmp_path):
    """A summary-mode build with the speech check, in a network namespace with no network where the
    machine allows it, and always with every socket connection refused and recorded."""
    issue = tmp_path / "issue.md"
    issue.write_text(
        "---\ntitle: Offline\n---\n\n# Offline\n\n## Tools\n\nThe tool runs on the laptop. It needs no "
        "account. It keeps every file on the disk.\n\n![chart](chart.png)\n",
        encoding="utf-8",
    )
    shutil.copy(SAMPLES / "soil-moisture.png", tmp_path / "chart.png")
    attempts = tmp_path / "attempts.log"
    command = [
        sys.executable,
        "-c",
        GUARD,
        str(attempts),
        "build",
        str(issue),
        "--out",
        str(tmp_path / "out"),
        "-q",
    ]
    if _unshare_works():
        command = ["unshare", "-n", *command]
    env = {**os.environ, "HF_HUB_OFFLINE": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    assert not attempts.exists() or attempts.read_text() == ""
    for name in OUTPUT_NAMES:
        assert (tmp_path / "out" / name).is_file()
    report = read_report(tmp_path / "out")
    assert report["mode"] == "summary" and "sentences" in report["qa"]


# --- engine faults ---------------------------------------------------------------------------------

FAULT_ISSUE = """---
title: Faults
---

# Faults

## The sensor

Our balcony sensor measures soil moisture every ten minutes. It has been running for three weeks on
two batteries. The probe costs less than eight dollars.
"""


@pytest.mark.parametrize(
    "reply",
    [
        "{narration: [unquoted",  # not JSON
        '{"narration": ["' + "and then " * 400,  # looped until the token limit
        "",  # nothing
        RuntimeError("llama_decode returned -1"),  # the engine raised
    ],
    ids=["invalid-json", "loop", "empty", "raises"],
)
def test_a_failing_llm_falls_back_to_an_extractive_script(tmp_path, fake_engines, reply):
    engines, llm, _ = fake_engines
    llm.replies.extend([reply, reply])
    issue = tmp_path / "issue.md"
    issue.write_text(FAULT_ISSUE, encoding="utf-8")
    options = pipeline.BuildOptions(out=tmp_path / "out", llm="bundled")  # the fake stands in for it
    result = pipeline.build(issue, options, engines=engines)
    assert result.report.as_dict()["script"]["fallbacks"] == ["the-sensor"]
    assert len(result.report.as_dict()["script"]["rejected"]) == 2  # the first try and the retry
    assert "soil moisture" in (tmp_path / "out" / "episode.yaml").read_text(encoding="utf-8")


def test_a_voice_that_raises_names_the_stage_and_section_and_keeps_finished_clips(tmp_path, fake_engines):
    engines, _, tts = fake_engines
    real = tts.synthesize

    def flaky(text, voice=None, take=1):
        if "batteries" in text:
            raise RuntimeError("onnxruntime: out of memory")
        return real(text, voice)

    tts.synthesize = flaky
    issue = tmp_path / "issue.md"
    issue.write_text(FAULT_ISSUE, encoding="utf-8")
    options = pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", cache=tmp_path / "cache")
    with pytest.raises(MediagenError) as raised:
        pipeline.build(issue, options, engines=engines)
    assert raised.value.stage == "voice" and "section 'the-sensor'" in str(raised.value)
    assert list((tmp_path / "cache").rglob("*.wav"))  # the sentences voiced before it are kept
    assert not (tmp_path / "out" / "episode.mp3").exists()


def test_ffmpeg_failing_on_a_full_disk_is_one_clear_line_and_leaves_no_media(
    tmp_path, fake_engines, monkeypatch
):
    from mediagen.media import ffmpeg

    engines, _, _ = fake_engines
    issue = tmp_path / "issue.md"
    issue.write_text(FAULT_ISSUE, encoding="utf-8")
    full = tmp_path / "ffmpeg"
    full.write_text("#!/bin/sh\necho 'episode.mp3: No space left on device' >&2\nexit 1\n", encoding="utf-8")
    full.chmod(0o755)
    monkeypatch.setattr(ffmpeg, "ffmpeg_exe", lambda: str(full))
    options = pipeline.BuildOptions(out=tmp_path / "out", mode="verbatim", cache=tmp_path / "cache")
    with pytest.raises(MediagenError, match="No space left on device") as raised:
        pipeline.build(issue, options, engines=engines)
    assert raised.value.stage in ("voice", "assemble")
    assert not any((tmp_path / "out" / name).exists() for name in MEDIA_NAMES)
    assert not list((tmp_path / "out").glob("*.tmp*"))
