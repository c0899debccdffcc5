"""How the speech check's retake rule moves its verdicts and its cost, paired on the same takes.

    .venv/bin/python bench/takes.py ISSUE.md [--mode verbatim] [ISSUE.md ...]

Each issue is built once (fresh cache under a temporary folder) with every line voiced in every take
the language allows and every take heard by both recognizers; the retake rules are then replayed on
those same hearings, so a difference between two rules is the rules', not the voice's noise. For each
rule: the WER it would report, the sentences it would flag, and the seconds of voicing and listening it
would cost (each priced at this run's measured speed). `qa.check` itself is replayed for the rule in
use; "every take" is the rule before it (a further take while any word is heard wrong).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mediagen.recognition import Heard
from mediagen.scoring import score
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
# Variants of the check in use: the share of the limit above which a sentence is voiced again.
VARIANTS = {
    "in use": {},
    **{f"Japanese retake above {share:.0%} of the limit": {"ja": share} for share in (0.5, 0.75, 1.0)},
}


def replay(lines, takes, heard, lang, limit, respell, second_id, rule: str):
    """(errors, length, flagged, audio samples voiced / heard first / heard second) under `rule`."""
    used = {"voice": 0, "first": 0, "second": 0}
    index = {id(line): n for n, line in enumerate(lines)}

    def hear(chosen, audio, take, other):
        used["second" if other else "first"] += sum(len(a) for a in audio)
        return [heard[take, other][index[id(line)]] for line in chosen]

    def revoice(again, take):
        clips = [takes[take][index[id(line)]] for line in again]
        used["voice"] += sum(len(c) for c in clips)
        return clips

    if rule in VARIANTS:  # the check in use, or it with another share of the limit to retake at
        saved = dict(qa.RETAKE_SHARE)
        qa.RETAKE_SHARE.update(VARIANTS[rule])
        try:
            checks = ORIGINAL(lines, list(takes[1]), lang, limit, hear, revoice, respell, second_id).checks
        finally:
            qa.RETAKE_SHARE.update(saved)
        rows = [(c.score, c.flagged) for c in checks]
    else:  # "every take": a further take while the best one has any word (or share) heard wrong
        rows = []
        for n, line in enumerate(lines):
            best = None
            for take in range(1, (2 if rule == "two takes" else qa.TAKES[lang]) + 1):
                if best is not None and not qa.needs_retake(best, lang, limit):
                    break
                if take > 1:
                    revoice([line], take)
                first = hear([line], [takes[take][n]], take, False)[0]
                candidate = score(lang, line.text, line.spoken, first.text, respell)
                if second_id and candidate.errors:
                    other = hear([line], [takes[take][n]], take, True)[0]
                    candidate = min(candidate, score(lang, line.text, line.spoken, other.text, respell),
                                    key=lambda s: s.rate)  # fmt: skip
                if best is None or candidate.rate < best.rate:
                    best = candidate
            rows.append((best, best.rate > limit))
    errors = sum(s.errors for s, _ in rows)
    length = sum(s.length for s, _ in rows)
    return errors, length, [n for n, (_, flagged) in enumerate(rows) if flagged], used


def child(out: Path, issue: str, mode: str, cache: Path) -> None:
    qa.check = record
    from mediagen.cli import cli

    cli.main(["build", issue, "--out", str(out), "--mode", mode, "--cache", str(cache), "-q"],
             standalone_mode=False)  # fmt: skip
    lines, takes, heard, lang, limit, respell, second_id, spent = RECORDED[0]
    price = {kind: seconds / samples if samples else 0.0 for kind, (seconds, samples) in spent.items()}
    print(f"{Path(issue).name} ({mode}, {lang}): {len(lines)} sentences")
    rules = ("every take", "in use", "two takes") if lang == "en" else tuple(VARIANTS)
    for rule in rules:
        errors, length, flagged, used = replay(lines, takes, heard, lang, limit, respell, second_id, rule)
        cost = sum(price[kind] * samples for kind, samples in used.items())
        print(f"  {rule:40} {qa.METRIC[lang]} {100 * errors / max(1, length):5.2f} %  "
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
