"""Template search path and the sandboxed Jinja2 environment shared by prompts and slides.

An editor overrides one file by putting a file of the same relative name in `--templates DIR`;
everything else comes from the templates shipped with mediagen (the repository's `templates/`).
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from mediagen.errors import InputError
from mediagen.limits import DEFAULT, Limits

# A template runs in the sandbox with budgets, so a contributed one cannot hang a build or fill the
# memory: loop steps over the whole render, the size of what `*`, `**` and `%` may make, the numbers
# a filter or method may be given (a width of a billion), and what it outputs.
MAX_STEPS = 1_000_000
MAX_PRODUCT = 1_000_000
MAX_ARGUMENT = 100_000
_WIDE_FORMAT = re.compile(r"\d{6,}")


def shipped_templates() -> Path:
    """The templates that ship with mediagen (in a checkout: the repository's `templates/`)."""
    return (Path(__file__).parent / "templates").resolve()


def search_path(custom: Path | None = None) -> list[Path]:
    if custom is not None and not custom.is_dir():
        raise InputError(f"--templates {custom}: no such folder")
    return [p.resolve() for p in ([custom] if custom else []) + [shipped_templates()]]


def _is_html(name: str | None) -> bool:
    return bool(name) and name.endswith((".html.j2", ".html"))


class _SizedLoader(jinja2.FileSystemLoader):
    """The template folders, each file read within the size limit."""

    def __init__(self, paths: list[Path], limits: Limits) -> None:
        super().__init__([str(p) for p in paths])
        self._limits = limits

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        if filename:
            check_size(Path(filename), self._limits)
        return source, filename, uptodate


def check_size(path: Path, limits: Limits) -> None:
    limits.check(str(path), "KB of template", path.stat().st_size / 1000, "template_kb")


class _CountingCodeGenerator(CodeGenerator):
    """Jinja's code generator with every for-loop's iterable wrapped in `environment.count_steps`."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = nodes.EnvironmentAttribute("count_steps")
        if not (isinstance(node.iter, nodes.Call) and node.iter.node == counted):
            node.iter = nodes.Call(counted, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)


class _BudgetedSandbox(SandboxedEnvironment):
    """The sandbox with loops counted, `*`, `**` and `%` checked before they are computed, and the
    numbers given to filters and methods bounded."""

    code_generator_class = _CountingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.steps = 0
        self.globals["range"] = lambda *args: self.count_steps(range(*args))
        self.globals.pop("lipsum", None)
        self.filters = {name: _bounded(f, formats=name == "format") for name, f in self.filters.items()}

    def count_steps(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for value in iterable:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise SecurityError(f"the template loops more than {MAX_STEPS:,} times")
            yield value

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and _size(left) * abs(_size(right)) > 64:
            raise SecurityError("the template raises a number to too high a power")
        if operator_name == "*" and _size(left) * _size(right) > MAX_PRODUCT:
            raise SecurityError("the template makes too large a value with '*'")
        if operator_name == "%":
            _check_format(left)
        return {"*": operator.mul, "**": operator.pow, "%": operator.mod}[operator_name](left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped


def _bounded(function: Callable[..., Any], formats: bool = False) -> Callable[..., Any]:
    """A filter that refuses huge numbers (and, for `format`, format strings with huge widths)."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        if formats and args:
            _check_format(args[0])
        return function(*args, **kwargs)

    return guarded


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
            raise SecurityError(f"the template passes a number over {MAX_ARGUMENT:,} to a filter or method")


def _check_format(template: Any) -> None:
    if isinstance(template, str) and _WIDE_FORMAT.search(template):
        raise SecurityError("the template formats with too large a width")


def _size(value: Any) -> int:
    """How much a value weighs in a product: a sequence's length, a number's magnitude."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(1, int(min(abs(value), 1e18)))
    return len(value) if hasattr(value, "__len__") else 1


class Templates:
    """Finds, renders and fingerprints templates along a search path, in a sandbox."""

    def __init__(self, paths: list[Path], autoescape: bool | None = None, limits: Limits = DEFAULT) -> None:
        """`autoescape=None` escapes HTML templates (`*.html.j2`), not text ones (prompts, Markdown)."""
        self.paths = paths
        self.limits = limits
        self.env = _BudgetedSandbox(
            loader=_SizedLoader(paths, limits),
            undefined=jinja2.StrictUndefined,
            autoescape=_is_html if autoescape is None else autoescape,
            keep_trailing_newline=True,
        )

    def has(self, name: str) -> bool:
        """Whether a folder of the search path holds this template."""
        return any((folder / name).is_file() for folder in self.paths)

    def locate(self, name: str) -> Path:
        for folder in self.paths:
            candidate = folder / name
            if candidate.is_file():
                check_size(candidate, self.limits)
                return candidate
        raise InputError(f"template {name}: not found in {', '.join(str(p) for p in self.paths)}")

    def render(self, name: str, **context: object) -> str:
        try:
            return self._render(name, context)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.TemplateNotFound as exc:
            raise InputError(
                f"template {name}: includes '{exc.name}', which is not in the template folders"
            ) from None
        except jinja2.TemplateError as exc:
            raise InputError(f"template {name}: {exc.message or exc.__class__.__name__}") from None

    def _render(self, name: str, context: dict[str, object]) -> str:
        """The template's output, stopped as soon as it is larger than the limit."""
        self.env.steps = 0
        pieces, size = [], 0
        for piece in self.env.get_template(name).generate(**context):
            size += len(piece)
            if size > self.limits.template_output_mb * 1_000_000:
                raise self.limits.refuse(
                    f"template {name}", "MB of output", size / 1_000_000, "template_output_mb"
                )
            pieces.append(piece)
        return "".join(pieces)

    def fingerprint(self, names: list[str]) -> str:
        """Hash of the template files that would be used, for cache keys and reports."""
        digest = hashlib.sha256()
        for name in names:
            path = self.locate(name)
            digest.update(name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]
