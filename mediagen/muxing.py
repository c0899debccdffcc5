"""The episode's media files through the store: episode.mp3 and episode.mp4 are encoded (see
stages.assemble) unless the out folder already holds them for these exact inputs (the audio, the
pictures and their times, the tags and chapters, the cover, the loudness and music settings). When
they are made, each piece of their encoding (a part of the audio, a picture) is a work of its own
("encode"), so only the pieces that changed are encoded again; the record of the media keeps the
pieces' keys (kept by `cache prune` while these outputs exist) and the gains the encoders ended on
(tried first next time)."""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediagen import incremental, pages
from mediagen.cache import load_manifest
from mediagen.config import Config
from mediagen.files import sha256_file
from mediagen.media import burn
from mediagen.session import MEDIA_NAMES, Run
from mediagen.stages import assemble
from mediagen.store import Work, digest
from mediagen.timeline import SlideSpan, Voiceover

MAX_GAIN_DB = 60.0  # a recorded gain beyond this is no gain a build ended on


def media_files(
    voiceover: Voiceover,
    deck: incremental.DeckParts,
    spans: list[SlideSpan],
    release: assemble.Release,
    out_dir: Path,
    run: Run,
    burned: list[burn.Stretch] | None = None,
) -> dict[str, Any]:
    """Encode episode.mp3 and episode.mp4 unless the folder already holds them for these exact inputs.
    With `burned` (captions drawn on), the video shows one picture per stretch instead of per slide."""
    if burned is None:
        pictures = [(deck.frames[s.index].name, round(s.start, 3), round(s.end, 3)) for s in spans]
    else:
        pictures = [(s.name(deck.frames[s.slide]), round(s.start, 3), round(s.end, 3)) for s in burned]
    chapters = [(c.title, round(c.start, 3), round(c.end, 3)) for c in release.chapters]
    work = Work(
        "mux",
        "episode",
        {
            "audio": hashlib.sha256(voiceover.samples.tobytes()).hexdigest()[:20],
            "rate": str(voiceover.sample_rate),
            "video": digest(json.dumps(pictures)),
            "tags": digest(json.dumps([release.tags, chapters], sort_keys=True)),
            "cover": sha256_file(release.cover)[:20] if release.cover else "",
            **mux_settings(run.config),
        },
    )
    recorded = (load_manifest(out_dir) or {}).get("mux", {})
    sizes = {name: (out_dir / name).stat().st_size for name in MEDIA_NAMES if (out_dir / name).is_file()}
    same = recorded.get("key") == work.key and recorded.get("sizes") == sizes and "loudness" in recorded
    if run.store.find(work, lambda: recorded if same else None) is not None:  # the outputs are the entry
        run.store.ledger.also_used.update(_strings(recorded.get("parts")))  # kept for the next edit
        return recorded
    run.store.made(work)
    settings = mux_settings(run.config)["loudness"]
    gains = _last_gains(recorded) if recorded.get("settings") == settings else None
    with tempfile.TemporaryDirectory(prefix=".mediagen-work-", dir=out_dir) as work_dir:
        scratch = Path(work_dir).resolve()
        frames, shown = deck.frames, spans
        if burned is not None:
            frames, shown = captioned_pictures(deck.frames, burned, scratch)
        used: list[str] = []
        measured, gains = assemble.encode_media(
            voiceover, frames, shown, release, run.config.loudness, out_dir, scratch, _keep(run, used), gains
        )
    return {
        "key": work.key,
        "loudness": measured,
        "sizes": {name: (out_dir / name).stat().st_size for name in MEDIA_NAMES},
        "gains": gains,
        "settings": settings,
        "parts": sorted(set(used)),
    }


def _last_gains(recorded: dict[str, Any]) -> dict[str, float] | None:
    """The gains the last build's encoders ended on, if its record holds them as numbers."""
    gains = recorded.get("gains")
    try:
        found = {name: float(gains[name]) for name in ("mp3", "mp4")}  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
    return found if all(math.isfinite(g) and abs(g) <= MAX_GAIN_DB for g in found.values()) else None


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _keep(run: Run, used: list[str]) -> assemble.Keep:
    """Each piece of the media's encoding through the store, as a work of the "encode" stage: a file (if
    any) and what was measured of it, under one key; `used` collects the keys."""
    store, cache = run.store, run.store.cache

    def keep(
        name: str, made_of: dict[str, str], suffix: str, make: Callable[[], assemble.Made]
    ) -> tuple[Path | None, dict]:
        work = Work("encode", name, made_of)
        used.append(work.key)

        def load() -> tuple[Path | None, dict] | None:
            measured = cache.get_json(work.stage, work.key)
            path = cache.get_file(work.stage, work.key, suffix) if suffix else None
            return (path, measured) if measured is not None and (path or not suffix) else None

        def compute() -> tuple[Path | None, dict]:
            data, measured = make()
            path = cache.put_bytes(work.stage, work.key, suffix, data) if suffix else None
            cache.put_json(work.stage, work.key, measured)  # last: the entry is whole once this is there
            return path, measured

        return store.memo(work, load, compute)

    return keep


def mux_settings(config: Config) -> dict[str, str]:
    """What of the configuration the media's encoding depends on beyond its audio and pictures (the
    music is in the audio too, but `mediagen status` sees it only here)."""
    return {"loudness": digest(repr(config.loudness)), "music": digest(repr(config.music))}


def captioned_pictures(
    frames: list[Path], burned: list[burn.Stretch], scratch: Path
) -> tuple[list[Path], list[SlideSpan]]:
    """Each distinct (slide, caption) picture drawn once, and the spans that show them."""
    font = pages.font_files()["regular"]
    pictures: dict[str, int] = {}
    made: list[Path] = []
    spans: list[SlideSpan] = []
    for stretch in burned:
        name = stretch.name(frames[stretch.slide])
        if name not in pictures:
            pictures[name] = len(made)
            made.append(scratch / name)
            burn.draw(frames[stretch.slide], stretch, made[-1], font)
        spans.append(SlideSpan(pictures[name], stretch.start, stretch.end))
    return made, spans
