"""Template search path and the sandboxed Jinja2 environment shared by prompts and slides.

An editor overrides one file by putting a file of the same relative name in `--templates DIR`;
everything else comes from the templates shipped with mediagen (the repository's `templates/`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from mediagen.errors import InputError


def shipped_templates() -> Path:
    """The templates that ship with mediagen (in a checkout: the repository's `templates/`)."""
    return (Path(__file__).parent / "templates").resolve()


def search_path(custom: Path | None = None) -> list[Path]:
    if custom is not None and not custom.is_dir():
        raise InputError(f"--templates {custom}: no such folder")
    return [p.resolve() for p in ([custom] if custom else []) + [shipped_templates()]]


def _is_html(name: str | None) -> bool:
    return bool(name) and name.endswith((".html.j2", ".html"))


class Templates:
    """Finds, renders and fingerprints templates along a search path, in a sandbox."""

    def __init__(self, paths: list[Path], autoescape: bool | None = None) -> None:
        """`autoescape=None` escapes HTML templates (`*.html.j2`), not text ones (prompts, Markdown)."""
        self.paths = paths
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(p) for p in paths]),
            undefined=jinja2.StrictUndefined,
            autoescape=_is_html if autoescape is None else autoescape,
            keep_trailing_newline=True,
        )

    def locate(self, name: str) -> Path:
        for folder in self.paths:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        raise InputError(f"template {name}: not found in {', '.join(str(p) for p in self.paths)}")

    def render(self, name: str, **context: object) -> str:
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.TemplateNotFound as exc:
            raise InputError(
                f"template {name}: includes '{exc.name}', which is not in the template folders"
            ) from None
        except jinja2.TemplateError as exc:
            raise InputError(f"template {name}: {exc.message or exc.__class__.__name__}") from None

    def fingerprint(self, names: list[str]) -> str:
        """Hash of the template files that would be used, for cache keys and reports."""
        digest = hashlib.sha256()
        for name in names:
            path = self.locate(name)
            digest.update(name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]
