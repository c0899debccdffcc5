"""Engine registry: `get_engine("tts", "piper")`. Plugins register through the `mediagen.engines`
entry-point group exactly as the built-in engines do (see `mediagen.engines.builtin`).

An engine is registered as a class, or as "module:Class" so that nothing heavy is imported until the
engine is used. A build names each engine it uses as a `Choice` (`choose("tts", "piper", lang="en")`):
its kind, name and options, checked when it is made (an unknown engine or option, a language it does
not speak: one clear error before anything is loaded); its `identity` (model name and file hash, without
loading any model) is what cache keys are made of, and `load` makes the engine.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
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
    return choose(kind, name, **options).load()


def engine_identity(kind: str, name: str, **options: Any) -> str:
    """Engine name + model identity (file hash) for cache keys, without loading the model."""
    return choose(kind, name, **options).identity()


@dataclass(frozen=True)
class Choice:
    """One engine as a build uses it: kind, registry name and options (see `choose`)."""

    kind: str
    name: str
    options: tuple[tuple[str, Any], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)

    def engine_class(self) -> type:
        return registry().engine_class(self.kind, self.name)

    def identity(self) -> str:
        return self.engine_class().identity(**self.kwargs())

    def load(self) -> Any:
        return self.engine_class()(**self.kwargs())


def choose(kind: str, name: str, lang: str | None = None, **options: Any) -> Choice:
    """The engine `name` of `kind` with `options` (None values left out), for `lang` if given: an
    unknown engine, an option it does not take, or a language it does not speak is an input error."""
    if kind not in KINDS:
        raise ValueError(f"unknown engine kind {kind!r}; expected one of {KINDS}")
    cls = registry().engine_class(kind, name)
    given = {key: value for key, value in options.items() if value is not None}
    takes = inspect.signature(cls.__init__).parameters
    if lang is not None and "lang" in takes:
        given["lang"] = lang
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in takes.values()):
        unknown = sorted(set(given) - set(takes) - {"self"})
        if unknown:
            known = ", ".join(n for n in takes if n != "self") or "none"
            raise InputError(
                f"{kind} engine '{name}' takes no option {', '.join(unknown)} (options: {known})"
            )
    speaks = cls.languages_for(**given) if hasattr(cls, "languages_for") else None
    if lang is not None and speaks is not None and lang not in speaks:
        raise InputError(
            f"{kind} engine '{name}' does not speak '{lang}' (it speaks {', '.join(sorted(speaks))})"
        )
    return Choice(kind, name, tuple(sorted(given.items())))
