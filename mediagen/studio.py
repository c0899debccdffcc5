"""The studio behind `mediagen preview`: its state, one worker that builds or renders, and the
watchers that ask for a render when a file it is made from changes (the slides first, so a template's
change shows before the audio and video are made again)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mediagen.edits import Edits, apply_edits, page_view
from mediagen.episode import load_episode
from mediagen.errors import MediagenError
from mediagen.files import sha256_file
from mediagen.templating import search_path
from mediagen.voices import catalog

OUT_FILES = {
    "episode.mp3": "audio/mpeg",
    "episode.mp4": "video/mp4",
    "episode.vtt": "text/vtt",
    "slides.pdf": "application/pdf",
    "thumbnail.png": "image/png",
}
CONFIG_FILES = ("lexicon.yaml", "mediagen.toml")  # in the issue's folder: a change renders again


# --- the studio ------------------------------------------------------------------------------------


@dataclass
class Studio:
    """What the preview serves and does: the out folder, the page's data, one worker that renders."""

    out_dir: Path
    options: Any  # pipeline.BuildOptions for the first build (from Markdown) and for every render
    issue: Path | None = None  # the Markdown issue, when the preview started from one
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    frames: list[Path] = field(default_factory=list)
    view: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=lambda: {"status": "starting", "version": 0})
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._editing = threading.Lock()
        self._building = False
        self._todo: set[str] = set()
        self._ours: str | None = None  # the sha256 of the episode.yaml this preview wrote last
        self.tick = 0  # bumped on every change of state; the event stream sends each
        self.stopping = threading.Event()

    @property
    def episode_path(self) -> Path:
        return self.out_dir / "episode.yaml"

    # state

    def set_state(self, **values: Any) -> None:
        with self._cond:
            self.state = self.state | values
            self.tick += 1
            self._cond.notify_all()

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        with self._cond:
            return self.tick, dict(self.state)

    def request(self, *kinds: str) -> None:
        """Ask the worker for work: "build" (the Markdown again), "render" (episode.yaml's media)."""
        with self._cond:
            self._todo.update(kinds)
            self._cond.notify_all()

    def render_options(self) -> Any:
        return replace(self.options, out=None)

    # work

    def work(self) -> None:
        """The worker: takes what was asked, renders it, says how it went; until stopped."""
        while not self.stopping.is_set():
            with self._cond:
                while not self._todo and not self.stopping.is_set():
                    self._cond.wait(0.5)
                kinds, self._todo = self._todo, set()
            if self.stopping.is_set():
                return
            started = time.perf_counter()
            try:
                self._work(kinds)
            except MediagenError as exc:
                self.set_state(status="error", error=str(exc).splitlines()[0], stage=None)
                self.log(f"mediagen preview: {exc}")
            except Exception as exc:  # shown in the page and on stderr; the server keeps serving
                if os.environ.get("MEDIAGEN_DEBUG") == "1":
                    traceback.print_exc()
                message = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
                self.set_state(status="error", error=message, stage=None)
                self.log(f"mediagen preview: {message}")
            else:
                seconds = round(time.perf_counter() - started, 2)
                self.set_state(status="ready", error=None, stage=None, seconds=seconds)

    def _work(self, kinds: set[str]) -> None:
        from mediagen import pipeline

        progress = _PageProgress(self)
        if "build" in kinds and self.issue is not None:
            self.set_state(status="building", error=None)
            self._building = True  # the build writes episode.yaml: not an edit to render again
            try:
                pipeline.build(self.issue, replace(self.options, out=self.out_dir), progress)
            finally:
                self._remember_ours()
                self._building = False
        else:
            self.set_state(status="drawing slides", error=None)
            self._show_slides()  # a template's change is seen before the media are made again
            self.set_state(status="rendering")
            pipeline.render(self.episode_path, self.render_options(), progress)
        self._show_slides()

    def _show_slides(self) -> None:
        """Draw the slides (through the cache) and publish the page's data with them."""
        from mediagen import pipeline

        episode, deck = pipeline.episode_slides(self.episode_path, self.render_options())
        frames, pages, first = list(deck.frames), [], 0
        for shown in deck.shown:
            pages.append([f"frames/{n}?v={frames[n].stem[:16]}" for n in range(first, first + len(shown))])
            first += len(shown)
        report = _read_json(self.out_dir / "report.json")
        if report and report.get("title") != episode.title:
            report = None
        voices = list(catalog(episode.lang, self.options.voice))
        view = page_view(episode, pages, report, voices)
        view["files"] = {
            name: f"files/{name}?v={int((self.out_dir / name).stat().st_mtime_ns)}"
            for name in OUT_FILES
            if (self.out_dir / name).is_file()
        }
        with self._cond:
            self.frames, self.view = frames, view
        self.set_state(version=self.state["version"] + 1)

    def _remember_ours(self) -> None:
        self._ours = sha256_file(self.episode_path) if self.episode_path.is_file() else None

    def edit(self, edits: Edits) -> None:
        """Write the page's edits into episode.yaml and ask for the render."""
        from mediagen.config import load_config

        options = self.render_options()
        limits = options.limits(load_config())
        with self._editing:  # one edit at a time
            self._ours = apply_edits(
                self.episode_path, edits, limits, lambda lang: list(catalog(lang, options.voice))
            )
        self.request("render")

    # watching

    @functools.cached_property
    def sources(self) -> tuple[list[Path], Path | None]:
        """The template folders and the issue's folder, found once (when the watchers start)."""
        folder = self.issue.parent.resolve() if self.issue else _source_folder(self.episode_path)
        return search_path(self.options.templates), folder

    def watched(self) -> tuple[list[Path], list[Path]]:
        """The folders watched: recursively (the template folders), and only their own files (the out
        folder, the issue's folder)."""
        templates, folder = self.sources
        flat = [self.out_dir] + ([folder] if folder is not None and folder != self.out_dir.resolve() else [])
        return templates, flat

    def changed(self, paths: set[Path]) -> set[str]:
        """What a change of these files asks for (see `request`)."""
        templates, issue_folder = self.sources
        kinds: set[str] = set()
        for path in paths:
            path = path.resolve()
            if path == self.episode_path.resolve():
                if not self._building and path.is_file() and sha256_file(path) != self._ours:
                    kinds.add("render")
            elif self.issue is not None and path == self.issue.resolve():
                kinds.add("build")
            elif any(path.is_relative_to(t) for t in templates) or (
                issue_folder and path.parent == issue_folder and path.name in CONFIG_FILES
            ):
                kinds.add("render")
        return kinds

    def watch(self, folders: list[Path], recursive: bool) -> None:
        import watchfiles

        existing = [str(f) for f in folders if f.is_dir()]
        if not existing:
            return
        for changes in watchfiles.watch(
            *existing,
            recursive=recursive,
            debounce=60,
            step=20,
            stop_event=self.stopping,
            yield_on_timeout=False,
        ):
            kinds = self.changed({Path(p) for _, p in changes})
            if kinds:
                self.request(*kinds)


def _source_folder(episode_path: Path) -> Path | None:
    try:
        folder = load_episode(episode_path).issue_folder(episode_path)
    except (MediagenError, OSError):
        return None
    return folder.resolve() if folder and folder.is_dir() else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _PageProgress:
    """A build's progress, told to the page: the stages open (two at once when the slides are drawn
    beside the voice) and how far the one that counts is."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._lock = threading.Lock()
        self._open: dict[str, list[int | None]] = {}  # stage -> [done, total]

    def _show(self) -> None:
        counting = [n for n, (_, total) in self._open.items() if total is not None] or list(self._open)
        done, total = self._open[counting[-1]] if counting else (0, None)
        self.studio.set_state(stage=" + ".join(self._open) or None, done=done, total=total)

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        with self._lock:
            self._open[name] = [0, total]
            self._show()
        try:
            yield
        finally:
            with self._lock:
                self._open.pop(name, None)

    def advance(self, steps: int = 1, stage: str | None = None) -> None:
        with self._lock:
            name = stage if stage in self._open else next(reversed(self._open), None)
            if name is not None:
                self._open[name][0] = (self._open[name][0] or 0) + steps
                self._show()

    def note(self, message: str) -> None:
        self.studio.set_state(note=message[:200])
