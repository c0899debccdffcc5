"""Progress display on stderr: a rich live display on a terminal, plain stage lines elsewhere (CI logs)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[None]: ...

    def advance(self, steps: int = 1) -> None: ...

    def note(self, message: str) -> None: ...


class SilentProgress:
    """For tests and library use: records nothing, prints nothing."""

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        yield

    def advance(self, steps: int = 1) -> None:
        return None

    def note(self, message: str) -> None:
        return None


class ConsoleProgress:
    """One bar per stage on a terminal; `✓ stage  1.2 s` lines when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self._progress = None
        self._task = None

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        started = time.perf_counter()
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            columns = [
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            ]
            with Progress(*columns, console=self.console, transient=True) as progress:
                self._progress, self._task = progress, progress.add_task(name, total=total)
                try:
                    yield
                finally:
                    self._progress = self._task = None
        else:
            yield
        self.console.print(
            f"[green]✓[/green] {name:<9} {time.perf_counter() - started:6.1f} s", highlight=False
        )

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, steps)

    def note(self, message: str) -> None:
        """Something the author should know now, not only in report.json (a long build ahead)."""
        self.console.print(f"[yellow]![/yellow] {message}", highlight=False)
