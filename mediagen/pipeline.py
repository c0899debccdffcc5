"""Wires the stages (parse, script, slides, voice, align, assemble) through the store: the three entry
points. The build's options and book-keeping are in `mediagen.session`, the episode it makes in
`mediagen.scripting`, and the media made from it in `mediagen.producing`.

Stages never import each other; `mediagen.incremental` runs each of them piece by piece through the
store, and these modules decide what the episode is (generated, or the author's edited episode.yaml),
where things go, and what the report and the manifest say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediagen import incremental
from mediagen.config import load_config
from mediagen.episode import (
    Episode,
    load_episode,
    set_source,
)
from mediagen.front_matter import checked
from mediagen.producing import produce, render_episode_slides, slide_theme, with_slides, write_episode
from mediagen.progress import Progress, SilentProgress
from mediagen.scripting import episode_for, open_issue
from mediagen.session import (  # the options, results and output names, for callers of the entry points
    MEDIA_NAMES,
    OUTPUT_NAMES,
    BuildOptions,
    BuildResult,
    Engines,
    Run,
    default_out_dir,
    open_cache,
)
from mediagen.templating import Templates, search_path
from mediagen.voices import catalog

__all__ = [
    "MEDIA_NAMES",
    "OUTPUT_NAMES",
    "BuildOptions",
    "BuildResult",
    "Engines",
    "ScriptResult",
    "build",
    "episode_slides",
    "open_episode",
    "render",
    "write_script_only",
]

# --- the three entry points ------------------------------------------------------------------------


def build(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> BuildResult:
    """Markdown issue -> every output, in `options.out` (default `out/<issue name>/`)."""
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, progress)
    _check_theme(options, run)
    out_dir = options.out or default_out_dir(issue)
    episode, write_yaml, edited = episode_for(doc, lang, options, run, engines, out_dir)
    return produce(
        episode,
        doc.folder,
        out_dir,
        options,
        run,
        engines,
        write_yaml=write_yaml,
        edited=edited,
        source_name=str(issue),
    )


@dataclass
class ScriptResult:
    path: Path  # episode.yaml
    written: bool  # False: the author's edited one was kept
    script: dict[str, Any]  # what the script stage decided (report.json's `script`)
    stages: dict[str, float]


def write_script_only(
    issue: Path, options: BuildOptions, progress: Progress | None = None, engines: Engines | None = None
) -> ScriptResult:
    """Markdown issue -> episode.yaml only (slides already fitted to their pages), for review; written
    unless the author edited it (see `build`)."""
    engines = engines or Engines()
    doc, lang, run = open_issue(issue, options, progress)
    _check_theme(options, run)
    out_dir = options.out or default_out_dir(issue)
    episode, write_yaml, edited = episode_for(doc, lang, options, run, engines, out_dir)
    templates = Templates(search_path(options.templates), limits=run.limits)
    with run.stage("slides"):
        deck = render_episode_slides(episode, doc.folder, templates, options, run)
    if write_yaml:
        write_episode(with_slides(episode, deck.shown), out_dir, edited)
    return ScriptResult(out_dir / "episode.yaml", write_yaml, run.script, run.stages)


def render(
    episode_path: Path,
    options: BuildOptions,
    progress: Progress | None = None,
    engines: Engines | None = None,
) -> BuildResult:
    """A (possibly edited) episode.yaml -> the media. Writes to `options.out`, default the yaml's folder."""
    engines = engines or Engines()
    episode, folder, run = open_episode(episode_path, options, progress)
    out_dir = options.out or episode_path.parent
    in_place = out_dir.resolve() == episode_path.parent.resolve()
    if not in_place and episode.source:
        episode = set_source(episode, episode_path.parent / episode.source, out_dir / "episode.yaml")
    return produce(
        episode,
        folder,
        out_dir,
        options,
        run,
        engines,
        write_yaml=not in_place,
        edited=True,
        source_name=str(episode_path),
    )


def open_episode(
    episode_path: Path, options: BuildOptions, progress: Progress | None = None
) -> tuple[Episode, Path | None, Run]:
    """An episode.yaml read and checked as `render` reads it: the episode, its issue's folder (None if it
    names none) and the run that will make its media."""
    config = load_config()
    limits = options.limits(config)
    episode = load_episode(episode_path, limits, lambda lang: list(catalog(lang, options.voice)))
    folder = episode.issue_folder(episode_path)
    cache = open_cache(options.cache, folder or episode_path.parent, config)
    run = Run(progress or SilentProgress(), cache, config, limits)
    if folder is None or not folder.is_dir():
        run.warn("episode.yaml names no readable source issue; slide images are left out")
    warnings: list[str] = []
    episode = episode.model_copy(update={"meta": checked(episode.meta, episode_path.name, warnings, limits)})
    for warning in warnings:
        run.warn(warning)
    _check_theme(options, run)
    return episode, folder, run


def _check_theme(options: BuildOptions, run: Run) -> None:
    """A theme that is not there stops the command before anything is made."""
    slide_theme(Templates(search_path(options.templates), limits=run.limits), options, run.config)


def episode_slides(
    episode_path: Path, options: BuildOptions, progress: Progress | None = None
) -> tuple[Episode, incremental.DeckParts]:
    """Only the slides of an episode.yaml, through the store (what `render` draws first): for a preview
    that shows a template's change before the media are made again."""
    episode, folder, run = open_episode(episode_path, options, progress)
    templates = Templates(search_path(options.templates), limits=run.limits)
    return episode, render_episode_slides(episode, folder, templates, options, run)
