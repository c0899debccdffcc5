"""Engine registry: `get_engine("tts", "piper")`. Plugins register through the `mediagen.engines`
entry-point group exactly as the built-in engines do (see `mediagen.engines.builtin`)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from mediagen.errors import InputError

Factory = Callable[..., Any]
KINDS = ("llm", "tts", "asr")


class Registry:
    def __init__(self) -> None:
        self._factories: dict[tuple[str, str], Factory] = {}

    def register(self, kind: str, name: str, factory: Factory) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown engine kind {kind!r}; expected one of {KINDS}")
        self._factories[(kind, name)] = factory

    def names(self, kind: str) -> list[str]:
        return sorted(name for k, name in self._factories if k == kind)

    def create(self, kind: str, name: str, **options: Any) -> Any:
        try:
            factory = self._factories[(kind, name)]
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            raise InputError(f"unknown {kind} engine '{name}' (known: {known})") from None
        return factory(**options)


_registry: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, filled once from the entry-point group."""
    global _registry
    if _registry is None:
        _registry = Registry()
        for entry in entry_points(group="mediagen.engines"):
            entry.load()(_registry.register)
    return _registry


def get_engine(kind: str, name: str, **options: Any) -> Any:
    return registry().create(kind, name, **options)
