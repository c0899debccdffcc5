"""`mediagen preview`: the editor's studio. Builds an issue (or renders an out folder's episode.yaml)
through the cache and serves one page on 127.0.0.1: the episode section by section (each slide as the
video shows it, the lines and who says them, a player per section that marks the line being said, the
chapter times, what the speech check heard), with narration lines, voices and slides editable in the
page. A file changed on disk (episode.yaml, a template, lexicon.yaml) is rendered again, the slides
first, so a template's change shows before the audio and video are made again.

Libraries: Starlette routes the requests and serves files with byte ranges (an audio player seeks),
uvicorn runs it, watchfiles watches the files (inotify, through Rust's notify). The page is plain HTML
and JavaScript from this package; updates reach it as server-sent events (EventSource, in every
browser), so there is no front-end library to vendor. The studio's worker and watchers are in mediagen.studio,
the edits and the page's data in mediagen.edits; this module is the web server.

Safety: the server binds 127.0.0.1 only; every request must carry the random token as the first part
of its path and name this server in its Host header; files are served from a fixed table (the out
folder's media, the slide pictures in the cache, the page's own files), never from a path in the
request; the only write is the edit API's, validated as `render` validates an edited episode.yaml and
written atomically.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mediagen.edits import Edits
from mediagen.errors import InputError, MediagenError
from mediagen.studio import OUT_FILES, Studio

PAGE = Path(__file__).parent / "preview_page"
STATIC = {"index.html": "text/html", "preview.js": "text/javascript", "preview.css": "text/css"}
MAX_EDIT_BYTES = 256 * 1024  # one request of edits; each text is held to the episode's own limits too
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


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
