"""Run the tests whose outcome rests on synthesized sound many times over, and count the passes.

Synthesized sound varies from take to take (piper draws noise; whisper's hearing moves with it), so a
test that judges sound must pass every time or its margin is wrong. This runs each listed test N
times (20 by default), each run in a fresh pytest process with its own temporary folders and cache,
and writes bench/margins.json: per test, passes out of runs and the seconds of each run.

    .venv/bin/python bench/margins.py                 # the default list, 20 runs each
    .venv/bin/python bench/margins.py -n 5 tests/test_voice.py    # another list, 5 runs each
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Every test that synthesizes sound and judges what is heard or where it starts, and is short enough
# to repeat; the whole-build tests judge the same things on longer inputs (see the README).
SOUND_TESTS = [
    "tests/test_voice.py::test_piper_speaks_an_english_sentence_that_whisper_understands",
    "tests/test_voice.py::test_kokoro_speaks_japanese_that_whisper_hears_as_japanese",
    "tests/test_qa.py::test_a_mangled_name_is_flagged_and_a_lexicon_entry_fixes_it_while_captions_keep_the_spelling",
    "tests/test_qa.py::test_caption_cues_after_a_pause_start_where_the_sound_does",
]


def run_once(test: str, cache: Path) -> tuple[bool, float, str]:
    env = dict(os.environ, MEDIAGEN_CACHE=str(cache))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--tb=line", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    tail = "\n".join(done.stdout.splitlines()[-8:])  # the failing assertion's line with its values
    return done.returncode == 0, time.perf_counter() - started, tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=SOUND_TESTS)
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "margins.json")
    args = parser.parse_args()
    results = {}
    for test in args.tests:
        passes, seconds, failures = 0, [], []
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="margins-") as folder:
                ok, took, tail = run_once(test, Path(folder) / "cache")
            passes += ok
            seconds.append(round(took, 1))
            if not ok:
                failures.append({"run": run + 1, "output": tail})
            verdict = "pass" if ok else "FAIL"
            print(f"{test.split('::')[-1][:70]:70s} run {run + 1:2d}: {verdict} {took:5.1f} s")
        results[test] = {"runs": args.runs, "passes": passes, "seconds": seconds, "failures": failures}
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print()
    for test, result in results.items():
        print(f"{result['passes']:2d}/{result['runs']}  {test}")
    return 0 if all(r["passes"] == r["runs"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
