"""Command line: parses options and calls the pipeline. Heavy modules are imported inside commands,
so `mediagen --help` stays fast."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click

from mediagen import __version__
from mediagen.errors import EXIT_BAD_INPUT, MediagenError

LANGS = ("auto", "en", "ja")
MODES = ("summary", "verbatim", "dialogue")
ASPECTS = ("16:9", "9:16", "1:1")


def _issue_argument(func):
    return click.argument("issue", type=click.Path(path_type=Path, dir_okay=False))(func)


def _out_option(default_help: str):
    return click.option(
        "--out",
        "-o",
        type=click.Path(path_type=Path, file_okay=False),
        help=f"Folder for the outputs (default: {default_help}).",
    )


_lang_option = click.option(
    "--lang",
    type=click.Choice(LANGS),
    default="auto",
    show_default=True,
    help="Language of the issue: from the front matter's `lang`, else detected from the text (auto).",
)
_mode_option = click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="summary (the default, or [show] mode): each section in a few sentences and slide bullets (the "
    "author's key sentences, or a model's, each checked against the text); verbatim: narrate all of the "
    "author's own prose; dialogue: two hosts talk each section through.",
)
_llm_options = [
    click.option(
        "--llm",
        default=None,
        metavar="none|bundled|PATH.gguf|URL",
        help="Who writes the summary: none (the author's own key sentences; the default unless "
        "[llm] url is set), the bundled Gemma 3 270M, a GGUF file (driven as a chat model when it has a "
        "chat template), or an OpenAI-compatible server such as http://127.0.0.1:11434/v1 (Ollama).",
    ),
    click.option(
        "--llm-model", default=None, metavar="NAME", help="The server's model (e.g. qwen2.5:7b-instruct)."
    ),
]
_show_options = [
    click.option(
        "--show/--no-show",
        default=True,
        help="Put the show around the content: an opening, a transition into each section, a sign-off.",
    ),
    click.option(
        "--minutes",
        type=click.FloatRange(min=0.1, max=600),
        default=None,
        help="A length to keep: the summary says as much of each section as fits (default: [show] minutes).",
    ),
]
_aspect_option = click.option(
    "--aspect",
    type=click.Choice(ASPECTS),
    default="16:9",
    show_default=True,
    help="Video and slide shape: 1920×1080, 1080×1920 or 1080×1080 pixels.",
)
_voice_option = click.option(
    "--voice",
    default=None,
    metavar="NAME|PATH.onnx",
    help="The narrator's voice. English: joe (piper, the default), a Piper .onnx voice file, or one of "
    "Kokoro's packs (jf_gongitsune, jf_alpha, jf_nezumi, jf_tebukuro, jm_kumo) fed English phonemes; "
    "Japanese: a Kokoro pack (default jf_alpha). A dialogue's hosts: [show] hosts in mediagen.toml.",
)
_templates_option = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder searched before the shipped templates; a file here (e.g. slides/default/style.css or "
    "prompts/summary.en.j2) overrides the shipped file of the same name.",
)
_quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress display.")
_cache_option = click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Cache folder (default: MEDIAGEN_CACHE, else `cache` in mediagen.toml, else .mediagen/cache/ "
    "beside the issue). Only work whose inputs changed is redone.",
)
_rescript_option = click.option(
    "--rescript",
    multiple=True,
    metavar="SECTION_ID",
    help="Write this section's narration and slides afresh even though you edited episode.yaml "
    "(repeatable). Other edits are kept.",
)
_qa_option = click.option(
    "--qa/--no-qa",
    default=True,
    help="Check every voiced sentence by transcribing it (faster-whisper): re-voice what was heard "
    "wrong, flag what stays wrong, time captions by the words heard. On by default.",
)
_burn_option = click.option(
    "--burn-captions",
    is_flag=True,
    help="Draw the captions onto the video as well (episode.srt/.vtt are written either way).",
)
_limit_options = [
    click.option(
        "--max-input-mb",
        type=click.FloatRange(min=0.001),
        default=None,
        help="Refuse an issue file larger than this (default: [limits] input_mb in mediagen.toml, 2).",
    ),
    click.option(
        "--max-sections",
        type=click.IntRange(min=1),
        default=None,
        help="Refuse an issue with more sections than this (default: [limits] sections, 150).",
    ),
]
_force_option = click.option(
    "--force",
    is_flag=True,
    help="Regenerate the whole episode.yaml from the Markdown, discarding edits made to it.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediagen")
def cli() -> None:
    """Turn a Markdown newsletter issue into a podcast episode (MP3) and a narrated slide video (MP4)
    with captions and a PDF deck, using only models that run on this machine.

    \b
    Typical use:
      mediagen build issue.md                 # everything, into out/issue/
      mediagen script issue.md -o out/issue   # only episode.yaml, to review and edit
      mediagen render out/issue/episode.yaml  # media from the (edited) script

    Set MEDIAGEN_DEBUG=1 to see tracebacks.
    """


def _issue_options(func):
    """The argument and options shared by the commands that start from a Markdown issue."""
    for option in reversed(
        [
            _issue_argument,
            _out_option("out/<issue name>/"),
            _lang_option,
            _mode_option,
            *_llm_options,
            *_show_options,
            _aspect_option,
            _voice_option,
            _templates_option,
            _cache_option,
            _rescript_option,
            _force_option,
            *_limit_options,
            _quiet_option,
        ]
    ):
        func = option(func)
    return func


@cli.command()
@_issue_options
@_qa_option
@_burn_option
def build(issue: Path, quiet: bool, **options: object) -> None:
    """Build every output for ISSUE (a Markdown file): episode.mp3, episode.mp4, episode.srt/.vtt,
    slides.pdf, episode.yaml and report.json.

    Work is cached: a rebuild redoes only what changed. If you edited the out folder's episode.yaml,
    your edits are kept; use --rescript SECTION_ID to regenerate one section, or --force for all.
    """
    from mediagen import pipeline

    started = time.perf_counter()
    result = pipeline.build(issue, pipeline.BuildOptions(**options), _progress(quiet))
    _summary(result, started)


@cli.command("script")
@_issue_options
def script_command(issue: Path, quiet: bool, **options: object) -> None:
    """Write only episode.yaml for ISSUE: what will be said and shown, to review and edit before
    `mediagen render`."""
    from mediagen import pipeline

    result = pipeline.write_script_only(issue, pipeline.BuildOptions(**options), _progress(quiet))
    click.echo(f"{'wrote' if result.written else 'kept your edited'} {result.path}", err=True)


@cli.command()
@click.argument("episode", type=click.Path(path_type=Path, dir_okay=False))
@_out_option("the folder of EPISODE")
@_aspect_option
@_voice_option
@_templates_option
@_cache_option
@_qa_option
@_burn_option
@_quiet_option
def render(episode: Path, quiet: bool, **options: object) -> None:
    """Produce the media from EPISODE (an episode.yaml, possibly edited by hand). Only sentences and
    slides that changed are voiced and drawn again."""
    from mediagen import pipeline

    options = pipeline.BuildOptions(**options)
    started = time.perf_counter()
    result = pipeline.render(episode, options, _progress(quiet))
    _summary(result, started)


@cli.command()
@click.argument("issues", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--out",
    "-o",
    "site",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="The site folder: one folder per issue is built inside it, and batch.json.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Issues built at the same time (each in its own process).",
)
@click.option(
    "--shard",
    metavar="K/N",
    default=None,
    help="Build only the K-th of N stable parts of the archive, so N CI jobs can share it.",
)
@_lang_option
@_mode_option
@_llm_options[0]
@_llm_options[1]
@_show_options[0]
@_show_options[1]
@_aspect_option
@_voice_option
@_templates_option
@_cache_option
@_qa_option
@_burn_option
def batch(issues: Path, site: Path, jobs: int, shard: str | None, **options: object) -> None:
    """Build every issue in ISSUES (its *.md files and its folders' index.md) into SITE, one folder per
    issue, keeping going past an issue that fails. Writes SITE/batch.json (per issue: status, failed
    stage, error, durations); the exit code is 1 if any issue failed."""
    from rich.console import Console
    from rich.table import Table

    from mediagen import pipeline
    from mediagen.batch import Shard, run_batch

    console = Console(stderr=True)

    def done(result) -> None:
        mark = "[green]✓[/green]" if result.status == "built" else "[red]✗[/red]"
        console.print(
            f"{mark} {result.issue} ({result.seconds:.1f} s)" + (f": {result.error}" if result.error else ""),
            highlight=False,
        )

    chosen = Shard.parse(shard) if shard else None
    results = run_batch(
        issues, site, pipeline.BuildOptions(**options), jobs=jobs, shard=chosen, on_result=done
    )
    table = Table("issue", "status", "stage", "audio", "build", "error", box=None)
    for r in results:
        audio = f"{r.duration_s:.0f} s" if r.duration_s else ""
        table.add_row(r.issue, r.status, r.stage or "", audio, f"{r.seconds:.1f} s", r.error or "")
    Console().print(table)
    failed = sum(r.status == "failed" for r in results)
    click.echo(f"{len(results) - failed} built, {failed} failed · {site / 'batch.json'}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


@cli.command()
@click.argument("site", type=click.Path(path_type=Path, file_okay=False))
def feed(site: Path) -> None:
    """Write SITE/feed.xml: an RSS 2.0 podcast feed (iTunes and Podcasting 2.0 tags) with one item per
    built issue in SITE. Channel settings come from [podcast] in mediagen.toml (base_url and title
    required)."""
    from mediagen.config import load_config
    from mediagen.feed import write_feed

    path = write_feed(site, load_config().podcast)
    click.echo(f"wrote {path}", err=True)


@cli.command()
@_issue_options
def status(issue: Path, quiet: bool, **options: object) -> None:
    """Say, per stage and section, whether a build of ISSUE would reuse the last build's work or why
    it would redo it (changed text, changed template, changed engine, missing output). Changes nothing."""
    from rich.console import Console
    from rich.table import Table

    from mediagen import pipeline
    from mediagen.status import issue_status

    table = Table("stage", "section", "state", "why", box=None, pad_edge=False)
    for row in issue_status(issue, pipeline.BuildOptions(**options)):
        style = {"redo": "yellow", "kept": "cyan"}.get(row.state, "green")
        table.add_row(row.stage, row.name, f"[{style}]{row.state}[/{style}]", row.reason)
    Console().print(table)


@cli.group()
def cache() -> None:
    """Inspect and clean the cache of finished work (scripts, voiced sentences, slide pictures)."""


_where_argument = click.argument("where", required=False, type=click.Path(path_type=Path, exists=True))


def _open_cache(where: Path | None, folder: Path | None):
    from mediagen import pipeline

    base = where or Path.cwd()
    return pipeline.open_cache(folder, base.parent if base.is_file() else base)


@cache.command("info")
@_where_argument
@_cache_option
def cache_info(where: Path | None, cache: Path | None) -> None:
    """Size and entries of the cache used for WHERE (an issue file or its folder; default: here)."""
    store = _open_cache(where, cache)
    stats = store.info()
    click.echo(f"cache: {store.root}")
    for stage, entry in sorted(stats.items()):
        click.echo(
            f"  {stage:<8} {entry['entries']:>6} entries {entry['files']:>6} files {_size(entry['bytes'])}"
        )
    total = sum(entry["bytes"] for entry in stats.values())
    click.echo(
        f"  {'total':<8} {sum(e['entries'] for e in stats.values()):>6} entries {'':>12} {_size(total)}"
    )


@cache.command("prune")
@_where_argument
@_cache_option
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def cache_prune(where: Path | None, cache: Path | None, dry_run: bool) -> None:
    """Remove every cache entry that no current output uses (outputs are the out folders built with
    this cache that still exist)."""
    store = _open_cache(where, cache)
    keep = store.kept_keys()
    if dry_run:
        unused = [path for _, key, path in store.entries() if key not in keep]
        click.echo(f"would remove {len(unused)} files, {_size(sum(p.stat().st_size for p in unused))}")
        return
    removed, freed = store.prune(keep)
    click.echo(f"removed {removed} files, {_size(freed)}; kept what {len(keep)} keys of current outputs use")


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


@cli.command()
@click.option("--prepare", is_flag=True, help="Also assemble the bundled models into the model cache.")
def doctor(prepare: bool) -> None:
    """Show the engines, models, ffmpeg and fonts this installation uses."""
    from mediagen import doctor as checks

    ok = checks.report(prepare=prepare, echo=click.echo)
    if not ok:
        raise MediagenError("some components are missing; see above")


def _progress(quiet: bool):
    from mediagen.progress import ConsoleProgress, SilentProgress

    return SilentProgress() if quiet else ConsoleProgress()


@cli.command("qa")
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--all", "show_all", is_flag=True, help="Every sentence, not only those heard differently.")
def qa_command(out_dir: Path, show_all: bool) -> None:
    """Print the speech check of a built episode (OUT_DIR/report.json): per sentence what was said and
    what the recognizer heard, the score, and the flagged sentences. Exit code 1 if any is flagged."""
    from rich.table import Table

    report = _read_report(out_dir)
    block = report.get("qa") or {}
    if "sentences" not in block:
        raise click.ClickException(
            f"{out_dir}: no speech check in report.json ({block.get('skipped', 'not run')})"
        )
    table = Table(title=f"{report.get('title', '')}: {block['metric']} {block['overall']:.1%} overall")
    for column in ("#", "section", "said", "heard", block["metric"], "take"):
        table.add_column(column, overflow="fold")
    for number, row in enumerate(block["sentences"]):
        if show_all or row["score"] > 0 or row["flagged"]:
            mark = " ⚑" if row["flagged"] else ""
            table.add_row(
                str(number),
                row["section"],
                row["text"],
                row["heard"],
                f"{row['score']:.0%}{mark}",
                str(row["take"]) + (" (2nd opinion)" if row.get("heard_by") else ""),
            )
    _console(stderr=False).print(table)
    flagged = block["flagged"]
    click.echo(
        f"{len(flagged)} flagged, {block['retaken']} re-voiced, of {len(block['sentences'])} sentences"
    )
    if second := block.get("second_opinion"):
        click.echo(
            f"second opinion ({second['asr']}): asked about {second['asked']} sentences, "
            f"heard {second['heard_better']} of them better"
        )
    if flagged:
        sys.exit(1)


def _read_report(out_dir: Path) -> dict:
    path = out_dir / "report.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: cannot read the build report ({exc})") from None


def _console(stderr: bool = True):
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


def _summary(result, started: float) -> None:
    from mediagen.pipeline import OUTPUT_NAMES

    report = result.report
    _console().print(section_table(report))
    minutes, seconds = divmod(report["duration_s"], 60)
    click.echo(
        f"{result.out_dir}/: {' '.join(OUTPUT_NAMES)} · audio {int(minutes)}:{seconds:04.1f}"
        f" · built in {time.perf_counter() - started:.1f} s"
        + (f" · {len(report['warnings'])} warnings (see report.json)" if report["warnings"] else ""),
        err=True,
    )


def main() -> None:
    """Entry point: every failure becomes one line on stderr and an exit code (1 stage, 2 input/usage)."""
    debug = os.environ.get("MEDIAGEN_DEBUG") == "1"
    try:
        code = cli.main(prog_name="mediagen", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("mediagen: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if debug:
            raise
        kind = "usage" if isinstance(exc, click.UsageError) else "error"
        click.echo(f"mediagen: {kind}: {exc.format_message()}", err=True)
        sys.exit(EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("mediagen: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # a full disk, a folder that cannot be written: the system's own words
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"mediagen: error: {exc.strerror or exc}{where}", err=True)
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(
            f"mediagen: internal error: {type(exc).__name__}: {message} (MEDIAGEN_DEBUG=1 shows more)",
            err=True,
        )
        sys.exit(1)
