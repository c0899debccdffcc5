"""Command line: parses options and calls the pipeline. Heavy modules are imported inside commands,
so `mediagen --help` stays fast."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from mediagen import __version__
from mediagen.cli_options import (
    aspect_option,
    burn_option,
    cache_option,
    issue_options,
    lang_option,
    llm_options,
    mode_option,
    out_option,
    preview_options,
    qa_option,
    quiet_option,
    show_options,
    templates_option,
    theme_option,
    voice_option,
)
from mediagen.cli_tables import build_summary, console
from mediagen.errors import EXIT_BAD_INPUT, MediagenError


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


@cli.command()
@issue_options
@qa_option
@burn_option
def build(issue: Path, quiet: bool, **options: object) -> None:
    """Build every output for ISSUE (a Markdown file): episode.mp3, episode.mp4, episode.srt/.vtt,
    slides.pdf, episode.yaml and report.json.

    Work is cached: a rebuild redoes only what changed. If you edited the out folder's episode.yaml,
    your edits are kept; use --rescript SECTION_ID to regenerate one section, or --force for all.
    """
    from mediagen import pipeline

    started = time.perf_counter()
    result = pipeline.build(issue, pipeline.BuildOptions(**options), _progress(quiet))
    build_summary(result, started)


@cli.command("script")
@issue_options
def script_command(issue: Path, quiet: bool, **options: object) -> None:
    """Write only episode.yaml for ISSUE: what will be said and shown, to review and edit before
    `mediagen render`."""
    from mediagen import pipeline

    result = pipeline.write_script_only(issue, pipeline.BuildOptions(**options), _progress(quiet))
    click.echo(f"{'wrote' if result.written else 'kept your edited'} {result.path}", err=True)


@cli.command()
@click.argument("episode", type=click.Path(path_type=Path, dir_okay=False))
@out_option("the folder of EPISODE")
@aspect_option
@voice_option
@templates_option
@theme_option
@cache_option
@qa_option
@burn_option
@quiet_option
def render(episode: Path, quiet: bool, **options: object) -> None:
    """Produce the media from EPISODE (an episode.yaml, possibly edited by hand). Only sentences and
    slides that changed are voiced and drawn again."""
    from mediagen import pipeline

    options = pipeline.BuildOptions(**options)
    started = time.perf_counter()
    result = pipeline.render(episode, options, _progress(quiet))
    build_summary(result, started)


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
@lang_option
@mode_option
@llm_options[0]
@llm_options[1]
@show_options[0]
@show_options[1]
@aspect_option
@voice_option
@templates_option
@theme_option
@cache_option
@qa_option
@burn_option
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
@issue_options
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


@cli.command()
@click.argument("target", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: a free one)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@preview_options
@qa_option
@burn_option
def preview(target: Path, port: int, open_browser: bool, quiet: bool, **options: object) -> None:
    """Build TARGET (an issue's Markdown, or an out folder with its episode.yaml) and serve a live
    preview on 127.0.0.1: each section's slides, lines, audio and speech check, editable in the page.
    Saving, or changing episode.yaml, a template or lexicon.yaml on disk, renders again only what
    changed and updates the page. The URL (with its token) is printed; Ctrl-C stops."""
    from mediagen import pipeline
    from mediagen.preview import serve

    serve(target, pipeline.BuildOptions(**options), port=port, open_browser=open_browser)


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
@cache_option
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
@cache_option
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

    from mediagen.report import load_report

    report = load_report(out_dir)
    block = report.speech_check()
    if block is None:
        skipped = getattr(report.qa, "skipped", "not run")
        raise click.ClickException(f"{out_dir}: no speech check in report.json ({skipped})")
    table = Table(title=f"{report.title}: {block.metric} {block.overall:.1%} overall")
    for column in ("#", "section", "said", "heard", block.metric, "take"):
        table.add_column(column, overflow="fold")
    for number, row in enumerate(block.sentences):
        if show_all or row.score > 0 or row.flagged:
            mark = " ⚑" if row.flagged else ""
            table.add_row(
                str(number),
                row.section,
                row.text,
                row.heard,
                f"{row.score:.0%}{mark}",
                str(row.take) + (" (2nd opinion)" if row.heard_by else ""),
            )
    console(stderr=False).print(table)
    flagged = block.flagged
    click.echo(f"{len(flagged)} flagged, {block.retaken} re-voiced, of {len(block.sentences)} sentences")
    if second := block.second_opinion:
        click.echo(
            f"second opinion ({second.asr}): asked about {second.asked} sentences, "
            f"heard {second.heard_better} of them better"
        )
    if flagged:
        sys.exit(1)


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
