"""The build's one scheduler: a budget of cores that all work running at once draws from.

Work that can run at the same time (the slides beside the voice, the MP3 beside the MP4, sentences
voiced and windows heard side by side) does, and each piece holds the cores it keeps busy while it
runs: a piper sentence or a whisper window one (one inference thread each), WeasyPrint one (Python),
an encoder one (ffmpeg on about one core), an engine whose own threads fill every core (Kokoro's ONNX
session, llama.cpp) all of them. So the slides drawn beside the voice take a core from it, rather
than a third thread fighting two for two cores; the voice has both again as soon as they are done.

A thread that holds cores and asks for more (work nested in work) is given only what it does not hold
yet, so nesting never waits on itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from mediagen.cpu import cores

T = TypeVar("T")
R = TypeVar("R")


class Cores:
    """`count` cores, held by the work that runs (see `hold`)."""

    def __init__(self, count: int | None = None) -> None:
        self.count = max(1, count or cores())
        self._free = self.count
        self._cond = threading.Condition()
        self._local = threading.local()
        self.most_held = 0  # the most cores ever held at once (never above `count`)

    @property
    def free(self) -> int:
        with self._cond:
            return self._free

    def _held_here(self) -> int:
        return getattr(self._local, "held", 0)

    @contextmanager
    def hold(self, wanted: int = 1) -> Iterator[None]:
        """Wait until `wanted` cores (at most all of them) are free, and hold them while the block runs."""
        held = self._held_here()
        take = max(0, min(wanted, self.count) - held)
        with self._cond:
            while self._free < take:
                self._cond.wait()
            self._free -= take
            self.most_held = max(self.most_held, self.count - self._free)
        self._local.held = held + take
        try:
            yield
        finally:
            self._local.held = held
            with self._cond:
                self._free += take
                self._cond.notify_all()

    def map(
        self, work: Callable[[T], R], items: Iterable[T], each: int = 1, width: int | None = None
    ) -> Iterator[R]:
        """`work` on each item, as many at once as cores allow (each holding `each` cores, at most
        `width` at a time); results in the items' order, each as soon as it and those before it are done.
        A thread that already holds cores runs the items itself, one after another: threads of a pool
        would wait for the cores it holds while it waits for them."""
        items = list(items)
        if not items:
            return iter(())
        width = max(1, min(width or self.count, len(items), max(1, self.count // max(1, each))))
        if self._held_here():
            width = 1

        def held(item: T) -> R:
            with self.hold(each):
                return work(item)

        if width == 1:
            return (held(item) for item in items)
        pool = ThreadPoolExecutor(width, thread_name_prefix="mediagen")
        results = pool.map(held, items)

        def ordered() -> Iterator[R]:
            try:
                yield from results
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

        return ordered()


_budget: Cores | None = None
_budget_lock = threading.Lock()


def budget() -> Cores:
    """The process's cores (one budget for every build it runs)."""
    global _budget
    with _budget_lock:
        if _budget is None:
            _budget = Cores()
        return _budget


class Once(Generic[T]):
    """A value made once, by whichever thread asks first (ahead of need, beside other work, or when
    needed); a thread that asks while it is being made waits for it."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._made: list[T] = []

    def __call__(self) -> T:
        with self._lock:
            if not self._made:
                self._made.append(self._make())
            return self._made[0]


class Stopped(Exception):
    """Work given up because work running beside it failed (see `together`)."""


def stopped(stop: threading.Event) -> None:
    """Give up (raise Stopped) if work running beside this one has failed."""
    if stop.is_set():
        raise Stopped


def together(*calls: Callable[[threading.Event], Any]) -> list[Any]:
    """Run the calls at the same time (the first in this thread) and return their results in order.
    Each call holds the cores it needs itself, and is given an event set as soon as one of them fails:
    the others may give up early (`stopped`), their finished work is kept in the cache. The first
    error in the calls' order is raised, once every call has returned."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)
    stop = threading.Event()

    def run(number: int) -> None:
        try:
            results[number] = calls[number](stop)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors[number] = exc
            stop.set()

    threads = [threading.Thread(target=run, args=(n,), name=f"mediagen-{n}") for n in range(1, len(calls))]
    for thread in threads:
        thread.start()
    try:
        run(0)
        for thread in threads:
            thread.join()
    except BaseException:  # interrupted while waiting (Ctrl-C): the others give up too
        stop.set()
        for thread in threads:
            thread.join()
        raise
    failures = [e for e in errors if e is not None]
    if failures:
        raise next((e for e in failures if not isinstance(e, Stopped)), failures[0])
    return results
