"""Shared fixtures. Real models run on short inputs; fakes (tests/fakes.py) test logic fast."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mediagen import pipeline
from tests.fakes import FakeLLM, FakeTTS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
# The shared real-world corpus: beside the checkout here, wherever MEDIAGEN_CORPUS says elsewhere.
CORPUS_PLACES = [
    Path(p)
    for p in (os.environ.get("MEDIAGEN_CORPUS"), ROOT.parent / "shared" / "corpus", "/work/shared/corpus")
    if p
]


def corpus_file(name: str) -> Path:
    for folder in CORPUS_PLACES:
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"real-world corpus not found in {', '.join(map(str, CORPUS_PLACES))} (set MEDIAGEN_CORPUS)")


@pytest.fixture(autouse=True, scope="session")
def session_cache(tmp_path_factory) -> Path:
    """Builds in tests (and the CLI they start) cache into a temporary folder, never beside the samples."""
    folder = tmp_path_factory.mktemp("mediagen-cache")
    os.environ["MEDIAGEN_CACHE"] = str(folder)
    return folder


@pytest.fixture
def fake_engines() -> tuple[pipeline.Engines, FakeLLM, FakeTTS]:
    """Engines that record their calls: a queue-fed LLM and a tone for a voice."""
    llm, tts = FakeLLM(), FakeTTS()
    engines = pipeline.Engines(
        load=lambda choice: llm if choice.kind == "llm" else tts,
        identify=lambda choice: (llm if choice.kind == "llm" else tts).model_id,
        speech_check=False,  # a tone cannot be checked by listening
    )
    return engines, llm, tts


@pytest.fixture
def write_issue(tmp_path: Path):
    """Write a Markdown issue (and optional extra files) into a fresh folder; returns its path."""

    def write(text: str, name: str = "issue.md", **files: bytes) -> Path:
        folder = tmp_path / "issue"
        folder.mkdir(exist_ok=True)
        for filename, data in files.items():
            (folder / filename).write_bytes(data)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
