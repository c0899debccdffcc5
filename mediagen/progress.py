"""Progress display on stderr: a rich live display on a terminal, plain stage lines elsewhere (CI logs).

Stages may run at the same time (the slides beside the voice, see mediagen.runner): each open stage has
its own bar, and `advance` names the stage it counts for (else the last one opened).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[None]: ...

    def advance(self, steps: int = 1, stage: str | None = None) -> None: ...

    def note(self, message: str) -> None: ...


class SilentProgress:
    """For tests and library use: records nothing, prints nothing."""

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        yield

    def advance(self, steps: int = 1, stage: str | None = None) -> None:
        return None

    def note(self, message: str) -> None:
        return None


class ConsoleProgress:
    """One bar per open stage on a terminal; `✓ stage  1.2 s` lines when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self._lock = threading.Lock()
        self._live: Any = None  # a rich Progress while any stage is open on a terminal
        self._tasks: dict[str, Any] = {}  # open stage -> its bar

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        started = time.perf_counter()
        if self.console.is_terminal:
            with self._lock:
                if self._live is None:
                    self._live = self._bars()
                    self._live.start()
                self._tasks[name] = self._live.add_task(name, total=total)
        try:
            yield
        finally:
            if self.console.is_terminal:
                with self._lock:
                    self._live.remove_task(self._tasks.pop(name))
                    if not self._tasks:
                        self._live.stop()
                        self._live = None
        self.console.print(
            f"[green]✓[/green] {name:<9} {time.perf_counter() - started:6.1f} s", highlight=False
        )

    def _bars(self) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        return Progress(*columns, console=self.console, transient=True)

    def advance(self, steps: int = 1, stage: str | None = None) -> None:
        with self._lock:
            task = self._tasks.get(stage) if stage else next(reversed(self._tasks.values()), None)
            if self._live is not None and task is not None:
                self._live.advance(task, steps)

    def note(self, message: str) -> None:
        """Something the author should know now, not only in report.json (a long build ahead)."""
        self.console.print(f"[yellow]![/yellow] {message}", highlight=False)
