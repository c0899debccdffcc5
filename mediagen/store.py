"""The work of a build and the cache it is kept in.

Every piece of work is a `Work`: a stage, a name, and the named parts its key is made of. A `Store`
owns the cache, the record of which works a build used (for the manifest, so `mediagen status` can say
which part changed and `cache prune` keeps what outputs still use) and how many were reused or redone:
`store.memo(work, load, compute)` is the one routine that looks a work up, counts it, and makes it
when it is missing. Work made in batches (voices, recognition, slides) looks up with `store.find`
and counts what it then makes itself.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mediagen.cache import Cache, make_key

STAGE_VERSIONS = {
    "script": 9,
    "voice": 2,
    "qa": 5,
    "slides": 3,
    "fonts": 3,
    "mux": 5,
    "encode": 1,
    "thumbnail": 1,
}

T = TypeVar("T")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Work:
    stage: str
    name: str
    parts: dict[str, str]

    @property
    def key(self) -> str:
        return make_key(self.stage, STAGE_VERSIONS[self.stage], **self.parts)

    def record(self) -> dict[str, object]:
        return {"name": self.name, "key": self.key, "parts": self.parts}


@dataclass
class Ledger:
    """The work of one build, stage by stage, for the manifest (and so for status and prune)."""

    works: dict[str, list[Work]] = field(default_factory=dict)
    made: list[Work] = field(default_factory=list)  # the works not found, so done by this build
    also_used: set[str] = field(default_factory=set)  # kept for later runs: slide pages, media parts

    def add(self, work: Work) -> None:
        self.works.setdefault(work.stage, []).append(work)

    def redone(self) -> dict[str, list[str]]:
        """The keys of the works this build did, per stage (the manifest's `redone`: what `mediagen
        status` said beforehand can be held against it)."""
        done: dict[str, list[str]] = {}
        for work in self.made:
            done.setdefault(work.stage, []).append(work.key)
        return done

    def keys(self) -> list[str]:
        return [w.key for works in self.works.values() for w in works] + sorted(self.also_used)

    def as_manifest(self) -> dict[str, list[dict[str, object]]]:
        return {stage: [w.record() for w in works] for stage, works in self.works.items()}


class Store:
    """The cache, the ledger of one build, and its reuse/redo counts (kept by the cache's usage). Work
    running at once (see mediagen.runner) records through one lock."""

    def __init__(self, cache: Cache, ledger: Ledger | None = None) -> None:
        self.cache = cache
        self.ledger = ledger if ledger is not None else Ledger()
        self._lock = threading.Lock()

    def find(self, work: Work, load: Callable[[], T | None]) -> T | None:
        """`work`'s stored result (or None), recorded as used and counted as reused when found; a
        missing one is counted by `made` once it is made."""
        with self._lock:
            self.ledger.add(work)
        stored = load()
        if stored is not None:
            with self._lock:
                self.cache.hit(work.stage, work.key)
        return stored

    def find_json(self, work: Work) -> Any | None:
        return self.find(work, lambda: self.cache.get_json(work.stage, work.key))

    def find_file(self, work: Work, suffix: str) -> Path | None:
        return self.find(work, lambda: self.cache.get_file(work.stage, work.key, suffix))

    def made(self, work: Work) -> None:
        with self._lock:
            self.ledger.made.append(work)
            self.cache.miss(work.stage, work.key)

    def memo(self, work: Work, load: Callable[[], T | None], compute: Callable[[], T]) -> T:
        """`work`'s stored result, else `compute()` (which stores it) — counted either way."""
        stored = self.find(work, load)
        if stored is not None:
            return stored
        self.made(work)
        return compute()

    def memo_json(self, work: Work, compute: Callable[[], Any]) -> Any:
        """`memo` for a result kept as JSON: a fresh result comes back as read from the cache, so a
        reused one is the same in every respect."""

        def make() -> Any:
            value = json.loads(json.dumps(compute(), ensure_ascii=False))
            self.cache.put_json(work.stage, work.key, value)
            return value

        return self.memo(work, lambda: self.cache.get_json(work.stage, work.key), make)
