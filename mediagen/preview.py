"""`mediagen preview`: the editor's studio. Builds an issue (or renders an out folder's episode.yaml)
through the cache and serves one page on 127.0.0.1: the episode section by section (each slide as the
video shows it, the lines and who says them, a player per section that marks the line being said, the
chapter times, what the speech check heard), with narration lines, voices and slides editable in the
page. A file changed on disk (episode.yaml, a template, lexicon.yaml) is rendered again, the slides
first, so a template's change shows before the audio and video are made again.

Libraries: Starlette routes the requests and serves files with byte ranges (an audio player seeks),
uvicorn runs it, watchfiles watches the files (inotify, through Rust's notify). The page is plain HTML
and JavaScript from this package; updates reach it as server-sent events (EventSource, in every
browser), so there is no front-end library to vendor.

Safety: the server binds 127.0.0.1 only; every request must carry the random token as the first part
of its path and name this server in its Host header; files are served from a fixed table (the out
folder's media, the slide pictures in the cache, the page's own files), never from a path in the
request; the only write is the edit API's, validated as `render` validates an edited episode.yaml and
written atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediagen.episode import Episode, dump_episode, load_episode
from mediagen.errors import InputError, MediagenError
from mediagen.files import sha256_file
from mediagen.templating import search_path
from mediagen.voices import catalog

PAGE = Path(__file__).parent / "preview_page"
STATIC = {"index.html": "text/html", "preview.js": "text/javascript", "preview.css": "text/css"}
OUT_FILES = {
    "episode.mp3": "audio/mpeg",
    "episode.mp4": "video/mp4",
    "episode.vtt": "text/vtt",
    "slides.pdf": "application/pdf",
    "thumbnail.png": "image/png",
}
CONFIG_FILES = ("lexicon.yaml", "mediagen.toml")  # in the issue's folder: a change renders again
MAX_EDIT_BYTES = 256 * 1024  # one request of edits; each text is held to the episode's own limits too
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# --- edits -------------------------------------------------------------------------------------------


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineEdit(_Edit):
    """A narration line changed in the page: its text, its voice ("" for the episode's), its speaker."""

    section: str = Field(max_length=200)
    line: int = Field(ge=0)
    text: str | None = None
    voice: str | None = Field(default=None, max_length=200)
    speaker: str | None = Field(default=None, max_length=200)


class SlideEdit(_Edit):
    """A slide changed in the page: its title and its bullets."""

    section: str = Field(max_length=200)
    slide: int = Field(ge=0)
    title: str | None = None
    bullets: list[str] | None = None


class Edits(_Edit):
    lines: list[LineEdit] = Field(default_factory=list, max_length=2000)
    slides: list[SlideEdit] = Field(default_factory=list, max_length=2000)


def apply_edits(episode_path: Path, edits: Edits, limits: Any, voices: Callable[[str], list[str]]) -> str:
    """Write the edits into episode.yaml: checked as `render` checks an edited file (schema, limits,
    voices), then put in place at once. Returns the new file's sha256."""
    episode = load_episode(episode_path, limits, voices)
    sections = {s.id: s for s in episode.sections}
    updated: dict[str, Any] = {}
    for edit in edits.lines:
        section = updated.get(edit.section) or _section(sections, edit.section)
        lines = list(section.narration)
        if edit.line >= len(lines):
            raise InputError(f"section '{edit.section}' has no line {edit.line + 1}")
        change: dict[str, Any] = {}
        if edit.text is not None:
            change["text"] = edit.text
            change["origin"] = "author"  # the editor wrote it now
        if edit.voice is not None:
            change["voice"] = edit.voice or None
        if edit.speaker is not None:
            change["speaker"] = edit.speaker or None
        lines[edit.line] = lines[edit.line].model_copy(update=change)
        updated[edit.section] = section.model_copy(update={"narration": lines})
    for edit in edits.slides:
        section = updated.get(edit.section) or _section(sections, edit.section)
        shown = list(section.slides)
        if edit.slide >= len(shown):
            raise InputError(f"section '{edit.section}' has no slide {edit.slide + 1}")
        change = {k: v for k, v in (("title", edit.title), ("bullets", edit.bullets)) if v is not None}
        shown[edit.slide] = shown[edit.slide].model_copy(update=change)
        updated[edit.section] = section.model_copy(update={"slides": shown})
    new = episode.model_copy(update={"sections": [updated.get(s.id, s) for s in episode.sections]})
    # Written beside episode.yaml, read back as render would read it, and only then put in its place.
    handle, name = tempfile.mkstemp(prefix=".episode-", suffix=".yaml", dir=episode_path.parent)
    os.close(handle)
    draft = Path(name)
    try:
        dump_episode(Episode.model_validate(new.model_dump()), draft)
        load_episode(draft, limits, voices)
        os.replace(draft, episode_path)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise InputError(f"edit refused: {where}: {error['msg']}") from None
    except InputError as exc:
        raise InputError(f"edit refused: {str(exc).replace(draft.name, episode_path.name)}") from None
    finally:
        draft.unlink(missing_ok=True)
    return sha256_file(episode_path)


def _section(sections: dict[str, Any], section_id: str) -> Any:
    if section_id not in sections:
        raise InputError(f"no section '{section_id}' in episode.yaml")
    return sections[section_id]


# --- what the page shows -----------------------------------------------------------------------------


def page_view(
    episode: Episode,
    pages: list[list[str]],
    report: dict[str, Any] | None,
    voices: list[str],
) -> dict[str, Any]:
    """The episode as the page shows it: per section its slides (picture URLs), its lines with their
    speaker, voice, times and what the speech check heard, and the chapter's times. `pages`: the picture
    URLs of each slide of each section, in order; `report`: the last render's report.json (its times and
    hearings are used for the lines whose text it still has)."""
    said = list((report or {}).get("sentences", []))
    checks = list(((report or {}).get("qa") or {}).get("sentences", []))
    chapters = {s["id"]: s for s in (report or {}).get("sections", [])}
    voiced: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for sentence, check in itertools.zip_longest(said, checks[: len(said)]):
        voiced.setdefault(sentence.get("section", ""), []).append((sentence, check))
    sections, slide = [], 0
    for section in episode.sections:
        lines, heard, first = [], voiced.get(section.id, []), 0
        for number, line in enumerate(section.narration):
            entry: dict[str, Any] = {
                "index": number,
                "text": line.text,
                "speaker": line.speaker,
                "voice": line.voice or "",
            }
            # The line's sentence in the last render, if it still says this text (a line edited since
            # has none until the render that voices it is done).
            found = next((i for i in range(first, len(heard)) if heard[i][0].get("text") == line.text), None)
            if found is not None:
                sentence, check = heard[found]
                entry |= {"start_s": sentence.get("start_s"), "end_s": sentence.get("end_s")}
                if check:
                    entry |= {k: check[k] for k in ("heard", "score", "flagged", "take") if k in check}
                first = found + 1
            lines.append(entry)
        chapter = chapters.get(section.id, {})
        shown = []
        for number, source in enumerate(section.slides):
            shown.append(
                {
                    "index": number,
                    "layout": source.layout,
                    "title": source.title,
                    "bullets": list(source.bullets),
                    "pictures": pages[slide] if slide < len(pages) else [],
                }
            )
            slide += 1
        sections.append(
            {
                "id": section.id,
                "title": section.title,
                "start_s": chapter.get("start_s"),
                "end_s": chapter.get("end_s"),
                "slides": shown,
                "lines": lines,
            }
        )
    qa = (report or {}).get("qa") or {}
    return {
        "title": episode.title,
        "lang": episode.lang,
        "speakers": {key: s.name for key, s in episode.speakers.items()},
        "voices": voices,
        "duration_s": (report or {}).get("duration_s"),
        "speech_check": {k: qa[k] for k in ("metric", "overall", "max_error", "skipped") if k in qa},
        "warnings": list((report or {}).get("warnings", [])),
        "sections": sections,
    }


# --- the studio: state, one worker that renders, the watchers ----------------------------------------


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
    """A build's progress, told to the page: the stage and how far it is."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        self.studio.set_state(stage=name, done=0, total=total)
        yield

    def advance(self, steps: int = 1) -> None:
        self.studio.set_state(done=self.studio.state.get("done", 0) + steps)

    def note(self, message: str) -> None:
        self.studio.set_state(note=message[:200])


# --- the web app -------------------------------------------------------------------------------------


def make_app(studio: Studio, port_of: Callable[[], int]) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    def refused(status: int, why: str) -> Response:
        return PlainTextResponse(why, status_code=status, headers=SECURITY_HEADERS)

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def guard(request: Request) -> Response:
            allowed = {f"127.0.0.1:{port_of()}", f"localhost:{port_of()}"}
            if request.headers.get("host") not in allowed:
                return refused(403, "forbidden: this server answers only to 127.0.0.1")
            if not secrets.compare_digest(request.path_params.get("token", ""), studio.token):
                return refused(403, "forbidden: the token is missing or wrong")
            response = await handler(request)
            response.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k not in response.headers})
            return response

        return guard

    async def page(request: Request) -> Response:
        return FileResponse(PAGE / "index.html", media_type="text/html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return refused(404, "not found")
        return FileResponse(PAGE / name, media_type=STATIC[name])

    async def out_file(request: Request) -> Response:
        name = request.path_params["name"]
        path = studio.out_dir / name
        if name not in OUT_FILES or not path.is_file():
            return refused(404, "not found")
        return FileResponse(path, media_type=OUT_FILES[name])

    async def frame(request: Request) -> Response:
        index = request.path_params["index"]
        frames = studio.frames
        if not 0 <= index < len(frames) or not frames[index].is_file():
            return refused(404, "not found")
        return FileResponse(frames[index], media_type="image/png")

    async def episode(request: Request) -> Response:
        _, state = studio.snapshot()
        return JSONResponse({"state": state, "view": studio.view})

    async def events(request: Request) -> Response:
        async def stream() -> Any:
            seen = -1
            while not studio.stopping.is_set():
                tick, state = studio.snapshot()
                if tick != seen:
                    seen = tick
                    yield f"data: {json.dumps(state)}\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def edit(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin and origin not in (f"http://127.0.0.1:{port_of()}", f"http://localhost:{port_of()}"):
            return refused(403, "forbidden: edits come from the preview's own page")
        body = await _limited_body(request, MAX_EDIT_BYTES)
        if body is None:
            return JSONResponse(
                {"error": f"an edit is at most {MAX_EDIT_BYTES // 1024} KiB"}, status_code=413
            )
        try:
            edits = Edits.model_validate_json(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            return JSONResponse({"error": f"edit refused: {where}: {error['msg']}"}, status_code=400)
        try:
            await asyncio.to_thread(studio.edit, edits)
        except MediagenError as exc:
            return JSONResponse({"error": str(exc).splitlines()[0]}, status_code=400)
        return JSONResponse({"accepted": True, "version": studio.state["version"]}, status_code=202)

    base = "/{token}"
    routes = [
        Route(base + "/", guarded(page)),
        Route(base + "/static/{name}", guarded(static)),
        Route(base + "/files/{name}", guarded(out_file)),
        Route(base + "/frames/{index:int}", guarded(frame)),
        Route(base + "/api/episode", guarded(episode)),
        Route(base + "/api/events", guarded(events)),
        Route(base + "/api/edit", guarded(edit), methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return refused(404, "not found")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


async def _limited_body(request: Any, limit: int) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


# --- the command -------------------------------------------------------------------------------------


def loopback_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 only (`port` 0: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise InputError(f"--port {port}: cannot listen on 127.0.0.1 ({exc.strerror})") from None
    sock.listen(64)
    return sock


def serve(target: Path, options: Any, port: int = 0, open_browser: bool = False) -> None:
    """Build or render TARGET (an issue's Markdown, or an out folder with its episode.yaml) and serve the
    studio until interrupted."""
    import uvicorn

    from mediagen.session import default_out_dir

    if target.is_dir():
        studio = Studio(out_dir=target, options=options)
        if not studio.episode_path.is_file():
            raise InputError(
                f"{target}: no episode.yaml in this folder (preview an issue's .md to build one)"
            )
        first = "render"
    else:
        if not target.is_file():
            raise InputError(f"{target}: no such file or folder")
        studio = Studio(out_dir=options.out or default_out_dir(target), options=options, issue=target)
        first = "build"
    studio.out_dir.mkdir(parents=True, exist_ok=True)
    studio.out_dir = studio.out_dir.resolve()
    sock = loopback_socket(port)
    bound = sock.getsockname()[1]
    app = make_app(studio, lambda: bound)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    url = f"http://127.0.0.1:{bound}/{studio.token}/"
    threads = [threading.Thread(target=studio.work, name="render", daemon=True)]
    recursive, flat = studio.watched()
    threads.append(threading.Thread(target=studio.watch, args=(recursive, True), name="watch", daemon=True))
    threads.append(threading.Thread(target=studio.watch, args=(flat, False), name="watch-flat", daemon=True))
    for thread in threads:
        thread.start()
    studio.request(first)
    print(f"mediagen preview: {url}", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.run(sockets=[sock])
    finally:
        studio.stopping.set()
        with studio._cond:
            studio._cond.notify_all()
        sock.close()
