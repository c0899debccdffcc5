"""`mediagen batch ISSUES_DIR --out SITE_DIR`: build every issue of an archive, one folder per issue,
keeping going past failures, optionally in parallel and as one shard of several (for CI jobs)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from mediagen.errors import InputError, MediagenError
from mediagen.files import atomic_write_text, issue_stem, safe_name
from mediagen.pipeline import BuildOptions, build

BATCH_REPORT = "batch.json"
SKIPPED_NAMES = {"readme.md", "changelog.md", "license.md", "contributing.md"}


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise InputError(f"--shard {text}: expected K/N with 1 <= K <= N, e.g. 1/3")
        return cls(int(match.group(1)), int(match.group(2)))

    def takes(self, name: str) -> bool:
        """A stable choice: the same issue lands in the same shard on every run and every machine."""
        digest = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:12], 16)
        return digest % self.count == self.number - 1


@dataclass
class IssueResult:
    issue: str
    out: str
    status: str  # "built" or "failed"
    stage: str | None = None
    error: str | None = None
    seconds: float = 0.0
    duration_s: float | None = None
    stages: dict[str, float] | None = None


def find_issues(folder: Path) -> list[Path]:
    """Markdown issues in FOLDER: its *.md files and its bundles' index.md, READMEs and the like left out."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    found = [p for p in folder.glob("*.md") if p.name.lower() not in SKIPPED_NAMES]
    found += [p for p in folder.glob("*/index.md")] + [p for p in folder.glob("*/_index.md")]
    return sorted(p for p in found if p.is_file())


def issue_name(issue: Path, folder: Path) -> str:
    """The issue's folder name under SITE_DIR: its file name, or its bundle's name for an index.md."""
    return safe_name(issue_stem(issue.relative_to(folder)))


def run_batch(
    folder: Path,
    site: Path,
    options: BuildOptions,
    jobs: int = 1,
    shard: Shard | None = None,
    on_result: Callable[[IssueResult], None] | None = None,
) -> list[IssueResult]:
    """Build every issue (of this shard) into SITE_DIR/<name>/; write SITE_DIR/batch.json."""
    issues = [(i, issue_name(i, folder)) for i in find_issues(folder)]
    if shard:
        issues = [(i, name) for i, name in issues if shard.takes(name)]
    results: list[IssueResult] = []
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(build_one, issue, site / name, options) for issue, name in issues]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            if on_result:
                on_result(result)
    results.sort(key=lambda r: r.issue)
    site.mkdir(parents=True, exist_ok=True)
    summary = {
        "shard": asdict(shard) if shard else None,
        "issues": [asdict(r) for r in results],
        "built": sum(r.status == "built" for r in results),
        "failed": sum(r.status == "failed" for r in results),
    }
    atomic_write_text(site / BATCH_REPORT, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return results


def build_one(issue: Path, out: Path, options: BuildOptions) -> IssueResult:
    """Build one issue in a worker process; any failure becomes a result, never an exception."""
    started = time.perf_counter()
    result = IssueResult(issue=str(issue), out=str(out), status="built")
    try:
        report = build(issue, replace(options, out=out)).report
        return replace(
            result,
            seconds=round(time.perf_counter() - started, 2),
            duration_s=report.duration_s,
            stages=report.stages,
        )
    except MediagenError as exc:
        stage, message = (
            exc.stage or ("input" if isinstance(exc, InputError) else "build"),
            exc.format_message(),
        )
    except Exception as exc:  # a bug must not stop the other issues; it is reported like a failure
        stage, message = "internal", f"{type(exc).__name__}: {exc}"
    return replace(
        result,
        status="failed",
        stage=stage,
        error=message.splitlines()[0] if message else "",
        seconds=round(time.perf_counter() - started, 2),
    )
