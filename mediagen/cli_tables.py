"""What the command line prints from a build's report: the end-of-build table and summary line."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mediagen.report import Report


def console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, width=max(100, shutil.get_terminal_size((120, 20)).columns))


def section_table(report: Report):
    """The end-of-build table: per section its duration, speech check score, flags and guard cases."""
    from rich.table import Table

    qa = report.speech_check()
    heard = qa.sentences if qa else []
    scores = qa.sections if qa else {}
    flagged_by_section: dict[str, int] = {}
    for number in qa.flagged if qa else []:
        section = heard[number].section
        flagged_by_section[section] = flagged_by_section.get(section, 0) + 1
    guarded: dict[str, int] = {}
    for case in report.script.guard:
        guarded[str(case["section"])] = guarded.get(str(case["section"]), 0) + 1
    table = Table(box=None, pad_edge=False)
    for column in ("section", "duration", qa.metric if qa else "qa", "flags", "guard"):
        table.add_column(column)
    for section in report.sections:
        sid = section.id
        flags = list(section.flags)
        if flagged_by_section.get(sid):
            flags.append(f"{flagged_by_section[sid]} heard wrong")
        table.add_row(
            sid,
            f"{section.end_s - section.start_s:.1f} s",
            f"{scores[sid]:.1%}" if sid in scores else "–",
            ", ".join(flags) or "–",
            f"{guarded[sid]} replaced" if guarded.get(sid) else "–",
        )
    return table


def build_summary(result, started: float) -> None:
    from mediagen.pipeline import OUTPUT_NAMES

    report = result.report
    console().print(section_table(report))
    minutes, seconds = divmod(report.duration_s, 60)
    click.echo(
        f"{result.out_dir}/: {' '.join(OUTPUT_NAMES)} · audio {int(minutes)}:{seconds:04.1f}"
        f" · built in {time.perf_counter() - started:.1f} s"
        + (f" · {len(report.warnings)} warnings (see report.json)" if report.warnings else ""),
        err=True,
    )
