"""Hostile files besides the issue (tests/hostile-files/): an edited episode.yaml, lexicon.yaml,
mediagen.toml and slide templates. Each case goes through the CLI with a time limit and must build
valid media or stop with one line and exit code 2: never a traceback, never "internal error",
never a hang, never a byte of a file outside the allowed folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediagen import pipeline
from mediagen.pipeline import MEDIA_NAMES
from tests.media_checks import read_report

from .media_checks import assert_valid_episode

CORPUS = Path(__file__).parent / "hostile-files"
TIME_LIMIT_S = 10.0  # every case, refused or built (the issue's acceptance)
LEAKS = ("root:x:0:0", "localhost")  # what /etc/passwd or /etc/hosts would put into an output
ISSUE = (
    "---\ntitle: Base\n---\n\n# Base\n\n## One\n\nThe first sentence is short. The second one is short too.\n"
)


@dataclass
class Case:
    name: str
    root: Path  # the folder the command runs in
    command: list[str]
    out: Path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediagen", *args, "-q"]


def _issue_folder(root: Path) -> Path:
    (root / "issue").mkdir(parents=True)
    (root / "issue" / "issue.md").write_text(ISSUE, encoding="utf-8")
    return root / "issue" / "issue.md"


def _episode_case(name: str, root: Path, text: bytes) -> Case:
    _issue_folder(root)
    (root / "out").mkdir()
    (root / "out" / "episode.yaml").write_bytes(text)
    return Case(name, root, _cli("render", "out/episode.yaml", "--no-qa"), root / "out")


def _build_case(name: str, root: Path) -> Case:
    issue = root / "issue" / "issue.md"
    command = _cli("build", str(issue.relative_to(root)), "--out", "out", "--mode", "verbatim", "--no-qa")
    return Case(name, root, command, root / "out")


def _lexicon_case(name: str, root: Path, text: bytes) -> Case:
    _issue_folder(root)
    (root / "issue" / "lexicon.yaml").write_bytes(text)
    return _build_case(name, root)


def _config_case(name: str, root: Path, text: bytes) -> Case:
    _issue_folder(root)
    (root / "mediagen.toml").write_bytes(text)
    return _build_case(name, root)


def _template_case(name: str, root: Path, snippet: Path) -> Case:
    _issue_folder(root)
    theme = root / "theme"
    shipped = Path(pipeline.__file__).parent / "templates"
    shutil.copytree(shipped / "slides", theme / "slides")
    shutil.copytree(shipped / "thumbnail", theme / "thumbnail")
    text = snippet.read_text(encoding="utf-8")
    if snippet.name.endswith(".deck.j2"):
        deck = theme / "slides" / "default" / "deck.html.j2"
        deck.write_text(
            deck.read_text(encoding="utf-8").replace("<body", text + "<body", 1), encoding="utf-8"
        )
    elif snippet.name.endswith(".thumbnail.j2"):
        (theme / "thumbnail" / "default" / "thumbnail.html.j2").write_text(text, encoding="utf-8")
    else:
        style = theme / "slides" / "default" / "style.css"
        style.write_text(style.read_text(encoding="utf-8") + text, encoding="utf-8")
    case = _build_case(name, root)
    case.command += ["--templates", "theme"]
    return case


def _episode_yaml(narration: str, slide: str, slides: int = 1) -> bytes:
    body = "".join(f"  - title: Slide {n}\n{slide}" for n in range(slides))
    return (
        "schema: 1\ntitle: Big\nlang: en\nsource: ../issue/issue.md\nsections:\n- id: one\n  title: One\n"
        f"  narration:\n  - text: {narration}\n  slides:\n{body}"
    ).encode()


def generated_cases(root: Path) -> list[Case]:
    """The cases too large to keep in the repository, and those that need this machine's files."""
    words = " ".join(["word"] * 40_000)
    code = "".join(f"      line {n}\n" for n in range(100_000))
    bullets = "".join(f"    - bullet {n}\n" for n in range(10_000))
    rows = "".join(f"    - [a{n}, b{n}]\n" for n in range(1_000))
    short = "The first sentence is short."
    cases = [
        _episode_case("episode/40000-word-line", root / "e-words", _episode_yaml(words, "")),
        _episode_case(
            "episode/100000-line-code-slide",
            root / "e-code",
            _episode_yaml(short, "    layout: code\n    code: |\n" + code),
        ),
        _episode_case(
            "episode/10000-bullets", root / "e-bullets", _episode_yaml(short, "    bullets:\n" + bullets)
        ),
        _episode_case(
            "episode/1000-table-rows", root / "e-rows", _episode_yaml(short, "    table:\n" + rows)
        ),
        _episode_case("episode/3000-slides", root / "e-slides", _episode_yaml(short, "", slides=3000)),
        _episode_case("episode/5mb-file", root / "e-huge", _episode_yaml(short, "") + b"#" * 5_000_000),
        _lexicon_case("lexicon/2mb-file", root / "l-huge", b"en:\n" + b"  w: say\n" * 250_000),
        _lexicon_case(
            "lexicon/10000-entries",
            root / "l-entries",
            b"en:\n" + b"".join(b"  w%d: say\n" % n for n in range(10_000)),
        ),
        _config_case("config/2mb-file", root / "c-huge", b"# " + b"x" * 2_000_000 + b"\n"),
    ]
    link = _lexicon_case("lexicon/symlink-to-passwd", root / "l-link", b"")
    (link.root / "issue" / "lexicon.yaml").unlink()
    (link.root / "issue" / "lexicon.yaml").symlink_to("/etc/passwd")
    big = _template_case(
        "templates/1mb-template", root / "t-huge", CORPUS / "templates" / "syntax-error.deck.j2"
    )
    (big.root / "theme" / "slides" / "default" / "style.css").write_text("/*" + "x" * 1_000_000 + "*/")
    return [*cases, link, big]


def stored_cases(root: Path) -> list[Case]:
    cases = []
    for kind, make in (("episode", _episode_case), ("lexicon", _lexicon_case), ("config", _config_case)):
        for path in sorted((CORPUS / kind).iterdir()):
            cases.append(make(f"{kind}/{path.name}", root / kind / path.stem, path.read_bytes()))
    for path in sorted((CORPUS / "templates").iterdir()):
        cases.append(_template_case(f"templates/{path.name}", root / "templates" / path.name, path))
    return cases


@dataclass
class Outcome:
    case: Case
    done: subprocess.CompletedProcess
    seconds: float


def run(case: Case) -> Outcome:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            case.command, cwd=case.root, capture_output=True, text=True, timeout=TIME_LIMIT_S * 3,
            env={**os.environ, "MEDIAGEN_DEBUG": "0"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case.name}: still running after {TIME_LIMIT_S * 3:.0f} s")
    return Outcome(case, done, time.perf_counter() - started)


# Which cases are refused (exit code 2, with a word of the one line), the others build with a warning.
REFUSED = {
    "episode/aliases.yaml": "aliases",
    "episode/recursive-alias.yaml": "aliases",
    "episode/voice-path.yaml": "choose from: joe",
    "episode/voice-unknown-ja.yaml": "choose from: jf_alpha",
    "episode/wrong-types.yaml": "narration",
    "episode/title-list.yaml": "title",
    "episode/unknown-layout.yaml": "layout",
    "episode/schema-9.yaml": "schema",
    "episode/binary.yaml": "binary",
    "episode/empty.yaml": "expected a mapping",
    "episode/not-a-mapping.yaml": "expected a mapping",
    "episode/deep-nesting.yaml": "[limits] nesting",
    "episode/deep-mappings.yaml": "[limits] nesting",
    "episode/big-integer.yaml": "cannot be read",
    "episode/40000-word-line": "[limits] narration_chars",
    "episode/100000-line-code-slide": "[limits] code_lines",
    "episode/10000-bullets": "[limits] bullets",
    "episode/1000-table-rows": "[limits] table_rows",
    "episode/3000-slides": "[limits] slides",
    "episode/5mb-file": "[limits] episode_mb",
    "lexicon/aliases.yaml": "aliases",
    "lexicon/wrong-types.yaml": "must map words",
    "lexicon/entry-types.yaml": "say",
    "lexicon/unknown-key.yaml": "colour",
    "lexicon/not-a-mapping.yaml": "expected languages",
    "lexicon/binary.yaml": "binary",
    "lexicon/invalid-utf8.yaml": "UTF-8",
    "lexicon/invalid.yaml": "lexicon.yaml",
    "lexicon/deep-nesting.yaml": "[limits] nesting",
    "lexicon/long-say.yaml": "at most 200 characters",
    "lexicon/2mb-file": "[limits] lexicon_mb",
    "lexicon/10000-entries": "[limits] lexicon_entries",
    "lexicon/symlink-to-passwd": "outside the issue's folder",
    "config/qa-type.toml": "Config value 'qa.max_wer': expected a number, not str",
    "config/unknown.toml": "Config value 'loudnes': unknown setting",
    "config/lexicon-outside.toml": "outside the folder",
    "config/music-outside.toml": "Config value 'music.intro'",
    "config/limits.toml": "Config value 'limits.slides'",
    "config/cache-type.toml": "Config value 'cache'",
    "config/invalid.toml": "not valid TOML",
    "config/table-as-value.toml": "Config value 'qa': expected a table",
    "config/binary.toml": "binary",
    "config/deep-arrays.toml": "nesting",
    "config/deep-inline-tables.toml": "nesting",
    "config/deep-dotted-keys.toml": "nesting",
    "config/big-integer.toml": "cannot be read",
    "config/2mb-file": "settings file",
    "templates/loop-bomb.deck.j2": "loops more than",
    "templates/multiply-bomb.deck.j2": "too large a value",
    "templates/power-bomb.deck.j2": "too high a power",
    "templates/output-bomb.deck.j2": "[limits] template_output_mb",
    "templates/list-multiply-bomb.deck.j2": "loops more than",
    "templates/syntax-error.deck.j2": "template",
    "templates/undefined.deck.j2": "undefined",
    "templates/lipsum.deck.j2": "number over 100,000",
    "templates/two-page-thumbnail.thumbnail.j2": "expected 1",
    "templates/1mb-template": "[limits] template_kb",
}
# The cases that build, and a word of the warning each must leave in report.json.
BUILT = {
    "episode/control-chars.yaml": None,
    "episode/images-outside.yaml": "image refused",
    "episode/source-passwd.yaml": "no readable source issue",
    "episode/russian-in-japanese.yaml": "cannot say cyrillic",
    "episode/bad-meta-date.yaml": "'date' is not a date",
    "lexicon/empty.yaml": None,
    "config/empty.toml": None,
    "templates/fetch-outside.css": "refused to fetch",
    "templates/fetch-outside.thumbnail.j2": "thumbnail: refused to fetch",
}


@pytest.mark.slow
def test_every_hostile_file_builds_or_stops_with_one_clear_line_in_seconds(tmp_path):
    cases = stored_cases(tmp_path / "stored") + generated_cases(tmp_path / "generated")
    assert len(cases) >= 60 and {c.name for c in cases} == set(REFUSED) | set(BUILT)
    with ThreadPoolExecutor(max_workers=2) as pool:  # refusals are light: two at a time
        outcomes = list(pool.map(run, [case for case in cases if case.name in REFUSED]))
    outcomes += [run(case) for case in cases if case.name in BUILT]  # whole builds: one at a time
    problems = [problem for outcome in outcomes for problem in _problems(outcome)]
    assert not problems, "\n".join(problems)


def _problems(outcome: Outcome) -> list[str]:
    """What is wrong with one case's outcome (nothing, if it was refused or built as it should be)."""
    case, done = outcome.case, outcome.done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    said = f"{case.name}: exit {done.returncode} in {outcome.seconds:.1f} s: {done.stderr.strip()[:300]}"
    if "Traceback" in done.stderr or "internal error" in done.stderr or outcome.seconds > TIME_LIMIT_S:
        return [said]
    if case.name in REFUSED:
        one_line = len(lines) == 1 and lines[0].startswith("mediagen: error: ")
        if done.returncode != 2 or not one_line or REFUSED[case.name] not in lines[0]:
            return [said]
        return [f"{case.name}: {media} written" for media in MEDIA_NAMES if (case.out / media).exists()]
    if done.returncode != 0:
        return [said]
    try:
        assert_valid_episode(case.out, max_line_chars=20 if "japanese" in case.name else 42)
    except AssertionError as exc:
        return [f"{case.name}: {exc}"]
    report = read_report(case.out)
    problems = []
    if BUILT[case.name] and not any(BUILT[case.name] in w for w in report["warnings"]):
        problems.append(f"{case.name}: no warning with {BUILT[case.name]!r} in {report['warnings']}")
    for produced in case.out.iterdir():
        if produced.is_file() and any(leak.encode() in produced.read_bytes() for leak in LEAKS):
            problems.append(f"{case.name}: {produced.name} holds a leaked file's content")
    return problems


def test_control_characters_and_tags_in_an_edited_line_never_reach_the_voice(tmp_path, fake_engines):
    engines, _, tts = fake_engines
    case = _episode_case("control", tmp_path, (CORPUS / "episode" / "control-chars.yaml").read_bytes())
    pipeline.render(case.out / "episode.yaml", pipeline.BuildOptions(), engines=engines)
    assert tts.spoken == ["The first sentence is short.", "Bold words are said without their tags."]


def test_render_cuts_a_run_on_line_for_the_voice_as_the_markdown_path_does(tmp_path, fake_engines):
    engines, _, _ = fake_engines
    run_on = ", ".join(f"clause number {n} goes on" for n in range(60)) + "."
    case = _episode_case("run-on", tmp_path, _episode_yaml(run_on, ""))
    report = pipeline.render(
        case.out / "episode.yaml", pipeline.BuildOptions(qa=False), engines=engines
    ).report.as_dict()
    pieces = [s["text"] for s in report["sentences"]]
    assert len(pieces) > 1 and all(len(piece) <= 300 for piece in pieces)
    assert " ".join(pieces) == run_on
