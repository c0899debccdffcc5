"""How the speech check's retake rule moves its verdicts and its cost, paired on the same takes.

    .venv/bin/python bench/takes.py ISSUE.md [--mode verbatim] [ISSUE.md ...]

Each issue is built once (fresh cache under a temporary folder) with every line voiced in every take
the language allows and every take heard by both recognizers; the retake rules are then replayed on
those same hearings, so a difference between two rules is the rules', not the voice's noise. For each
rule: the WER it would report, the sentences it would flag, and the seconds of voicing and listening it
would cost (each priced at this run's measured speed). Every rule is `qa.check` itself, replayed with
its constants as in use or changed ("every take", the English rule before: a further take while any
word is heard wrong).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mediagen.recognition import Heard
from mediagen.stages import qa


def record(lines, clips, lang, limit, hear, revoice, respell=None, second_id=None):
    """qa.check's stand-in: every take of every line, heard by every recognizer; then the real check."""
    takes = {1: clips}
    spent = {"voice": [0.0, 0.0], "first": [0.0, 0.0], "second": [0.0, 0.0]}  # seconds, audio samples
    for take in range(2, qa.TAKES[lang] + 1):
        started = time.perf_counter()
        takes[take] = revoice(list(lines), take)
        spent["voice"][0] += time.perf_counter() - started
        spent["voice"][1] += sum(len(c) for c in takes[take])
    heard: dict[tuple[int, bool], list[Heard]] = {}
    for take, audio in takes.items():
        for other in (False, True) if second_id else (False,):
            started = time.perf_counter()
            heard[take, other] = hear(list(lines), audio, take, other)
            kind = "second" if other else "first"
            spent[kind][0] += time.perf_counter() - started
            spent[kind][1] += sum(len(c) for c in audio)
    RECORDED.append((lines, takes, heard, lang, limit, respell, second_id, spent))
    return ORIGINAL(lines, clips, lang, limit, hear, revoice, respell, second_id)


ORIGINAL = qa.check
RECORDED: list = []
# The rules compared: the check in use, and it with other values of its constants.
VARIANTS = {
    "en": {
        "in use": {},
        "every take (a third for any word heard wrong)": {"GAINING_AFTER": qa.TAKES["en"]},
        "two takes": {"TAKES": {**qa.TAKES, "en": 2}},
    },
    "ja": {
        "in use": {},
        **{
            f"retake above {share:.0%} of the limit": {"RETAKE_SHARE": {**qa.RETAKE_SHARE, "ja": share}}
            for share in (0.5, 0.75)
        },
        "one take": {"TAKES": {**qa.TAKES, "ja": 1}},
    },
}


def replay(lines, takes, heard, lang, limit, respell, second_id, changes: dict):
    """(errors, length, flagged, audio samples voiced / heard first / heard second) with qa's
    constants set as in `changes`."""
    used = {"voice": 0, "first": 0, "second": 0}
    index = {id(line): n for n, line in enumerate(lines)}

    def hear(chosen, audio, take, other):
        used["second" if other else "first"] += sum(len(a) for a in audio)
        return [heard[take, other][index[id(line)]] for line in chosen]

    def revoice(again, take):
        clips = [takes[take][index[id(line)]] for line in again]
        used["voice"] += sum(len(c) for c in clips)
        return clips

    saved = {name: getattr(qa, name) for name in changes}
    for name, value in changes.items():
        setattr(qa, name, value)
    try:
        checks = ORIGINAL(lines, list(takes[1]), lang, limit, hear, revoice, respell, second_id).checks
    finally:
        for name, value in saved.items():
            setattr(qa, name, value)
    errors = sum(c.score.errors for c in checks)
    length = sum(c.score.length for c in checks)
    return errors, length, [n for n, c in enumerate(checks) if c.flagged], used


def child(out: Path, issue: str, mode: str, cache: Path) -> None:
    qa.check = record
    from mediagen.cli import cli

    cli.main(["build", issue, "--out", str(out), "--mode", mode, "--cache", str(cache), "-q"],
             standalone_mode=False)  # fmt: skip
    lines, takes, heard, lang, limit, respell, second_id, spent = RECORDED[0]
    price = {kind: seconds / samples if samples else 0.0 for kind, (seconds, samples) in spent.items()}
    print(f"{Path(issue).name} ({mode}, {lang}): {len(lines)} sentences")
    for rule, changes in VARIANTS[lang].items():
        errors, length, flagged, used = replay(lines, takes, heard, lang, limit, respell, second_id, changes)
        cost = sum(price[kind] * samples for kind, samples in used.items())
        print(f"  {rule:46} {qa.METRIC[lang]} {100 * errors / max(1, length):5.2f} %  "
              f"speech check {cost:5.1f} s  flagged {flagged}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("issues", nargs="+")
    parser.add_argument("--mode", default="summary")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.issues[0], args.mode, Path(args.child[1]))
        return
    for issue in args.issues:  # one process per issue: the recorded hearings stay its own
        with tempfile.TemporaryDirectory(prefix="mediagen-takes-") as work:
            command = [sys.executable, __file__, issue, "--mode", args.mode, "--child",
                       str(Path(work) / "out"), str(Path(work) / "cache")]  # fmt: skip
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
