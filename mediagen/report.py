"""report.json: what a build made and how, as one versioned, typed record.

The build assembles a `Report` from its stages' results and writes it; everything that reads a
report back (`mediagen qa`, the end-of-build table, `batch`, `feed`) reads it through `load_report`,
so a field renamed here is renamed for all of them, and a file that is not a report of this version
is one clear error, not a KeyError deep in a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediagen.errors import InputError

REPORT_VERSION = 1
REPORT_FILE = "report.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SectionTime(_Record):
    id: str
    title: str
    start_s: float
    end_s: float
    flags: list[str] = []


class SlideTime(_Record):
    page: int
    start_s: float
    end_s: float


class SentenceTime(_Record):
    section: str
    text: str
    spoken: str
    speaker: str | None = None
    start_s: float
    end_s: float


class EngineIds(_Record):
    """The identity of each engine the build used (the same strings the cache keys name)."""

    tts: str
    voices: dict[str, str]
    llm: str | None = None
    asr: str | None = None


class ScriptLength(_Record):
    target_s: float
    content_s: float


class ScriptBlock(_Record):
    llm: str | None = None
    llm_calls: int = 0
    written_by_llm: list[str] = []
    fallbacks: list[str] = []
    rejected: list[str] = []
    guard: list[dict[str, str | None]] = []
    length: ScriptLength | None = None


class HeardSentence(_Record):
    section: str
    text: str
    heard: str
    score: float
    errors: int
    length: int
    take: int
    flagged: bool
    heard_by: str | None = None


class SecondOpinion(_Record):
    asr: str
    asked: int = 0
    heard_better: int = 0


class SpeechCheck(_Record):
    asr: str
    metric: Literal["wer", "kana-cer"]
    max_error: float
    overall: float
    sections: dict[str, float]
    retaken: int
    flagged: list[int]
    sentences: list[HeardSentence]
    second_opinion: SecondOpinion | None = None


class SpeechCheckSkipped(_Record):
    skipped: str


class Measured(_Record):
    integrated: float
    true_peak: float
    loudness_range: float


class Loudness(_Record):
    target_lufs: float
    target_true_peak: float
    video_target_lufs: float
    before: Measured
    mp3: Measured
    mp4: Measured


class EpisodeFacts(_Record):
    title: str
    newsletter: str = ""
    date: str = ""
    author: str = ""
    summary: str = ""
    lang: str
    hosts: list[str] = []


class CacheUse(_Record):
    reused: int
    redone: int


class Report(_Record):
    report_version: Literal[1] = REPORT_VERSION
    mediagen: str
    source: str
    title: str
    lang: str
    mode: str | None = None  # as the episode says; an edited episode.yaml may not
    aspect: str
    duration_s: float
    sections: list[SectionTime]
    slides: list[SlideTime]
    sentences: list[SentenceTime]
    engines: EngineIds
    script: ScriptBlock
    qa: SpeechCheck | SpeechCheckSkipped
    stages: dict[str, float]
    cache: dict[str, CacheUse | str] = Field(default_factory=dict)  # "folder", then per stage its use
    build_s: float
    warnings: list[str]
    loudness: Loudness
    episode: EpisodeFacts

    def speech_check(self) -> SpeechCheck | None:
        return self.qa if isinstance(self.qa, SpeechCheck) else None

    def as_dict(self) -> dict[str, Any]:
        """The report as report.json holds it (plain JSON values)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def parse_report(text: str, name: str = REPORT_FILE) -> Report:
    """A report from its JSON text; anything else is one clear InputError."""
    try:
        return Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["loc"][:1] == ("report_version",):
            raise InputError(
                f"{name}: a build report of version {first.get('input')!r}; this mediagen reads version "
                f"{REPORT_VERSION} (build the issue again)"
            ) from None
        problem = f"field '{where}': {first['msg'].lower()}" if where else first["msg"]
        raise InputError(f"{name}: not a mediagen build report ({problem})") from None


def load_report(out_dir: Path) -> Report:
    """OUT_DIR/report.json, validated."""
    path = out_dir / REPORT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the build report ({exc})") from None
    return parse_report(text, str(path))
