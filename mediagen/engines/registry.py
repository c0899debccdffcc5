"""Engine registry: `get_engine("tts", "piper")`. Plugins register through the `mediagen.engines`
entry-point group exactly as the built-in engines do (see `mediagen.engines.builtin`).

An engine is registered as a class, or as "module:Class" so that nothing heavy is imported until the
engine is used. `engine_identity` asks the class who it would be (model name and file hash) without
loading any model: that is what cache keys are made of.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from mediagen.errors import InputError

KINDS = ("llm", "tts", "asr")


class Registry:
    def __init__(self) -> None:
        self._targets: dict[tuple[str, str], type | str] = {}

    def register(self, kind: str, name: str, target: type | str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown engine kind {kind!r}; expected one of {KINDS}")
        self._targets[(kind, name)] = target

    def names(self, kind: str) -> list[str]:
        return sorted(name for k, name in self._targets if k == kind)

    def engine_class(self, kind: str, name: str) -> type:
        try:
            target = self._targets[(kind, name)]
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            raise InputError(f"unknown {kind} engine '{name}' (known: {known})") from None
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            target = getattr(import_module(module), attribute)
            self._targets[(kind, name)] = target
        return target


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
    return registry().engine_class(kind, name)(**options)


def engine_identity(kind: str, name: str, **options: Any) -> str:
    """Engine name + model identity (file hash) for cache keys, without loading the model."""
    return registry().engine_class(kind, name).identity(**options)
