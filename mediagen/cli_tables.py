"""What the command line prints from a build's report: the end-of-build table and summary line."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import click


def read_report(out_dir: Path) -> dict:
    path = out_dir / "report.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: cannot read the build report ({exc})") from None


def console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, width=max(100, shutil.get_terminal_size((120, 20)).columns))


def section_table(report: dict):
    """The end-of-build table: per section its duration, speech check score, flags and guard cases."""
    from rich.table import Table

    qa = report.get("qa") or {}
    scores = qa.get("sections", {})
    flagged_by_section: dict[str, int] = {}
    for number in qa.get("flagged", []):
        section = qa["sentences"][number]["section"]
        flagged_by_section[section] = flagged_by_section.get(section, 0) + 1
    guarded: dict[str, int] = {}
    for case in report.get("script", {}).get("guard", []):
        guarded[case["section"]] = guarded.get(case["section"], 0) + 1
    table = Table(box=None, pad_edge=False)
    for column in ("section", "duration", qa.get("metric", "qa"), "flags", "guard"):
        table.add_column(column)
    for section in report["sections"]:
        sid = section["id"]
        flags = list(section["flags"])
        if flagged_by_section.get(sid):
            flags.append(f"{flagged_by_section[sid]} heard wrong")
        table.add_row(
            sid,
            f"{section['end_s'] - section['start_s']:.1f} s",
            f"{scores[sid]:.1%}" if sid in scores else "–",
            ", ".join(flags) or "–",
            f"{guarded[sid]} replaced" if guarded.get(sid) else "–",
        )
    return table


def build_summary(result, started: float) -> None:
    from mediagen.pipeline import OUTPUT_NAMES

    report = result.report
    console().print(section_table(report))
    minutes, seconds = divmod(report["duration_s"], 60)
    click.echo(
        f"{result.out_dir}/: {' '.join(OUTPUT_NAMES)} · audio {int(minutes)}:{seconds:04.1f}"
        f" · built in {time.perf_counter() - started:.1f} s"
        + (f" · {len(report['warnings'])} warnings (see report.json)" if report["warnings"] else ""),
        err=True,
    )
