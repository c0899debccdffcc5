"""Confinement: untrusted Markdown and templates may only reach files inside folders we allow."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class Refused(Exception):
    """A reference that points outside the allowed folders, or at nothing usable."""


def is_inside(path: Path, roots: list[Path]) -> bool:
    """True when `path` (after resolving symlinks) lies inside one of `roots` (also resolved)."""
    real = path.resolve()
    return any(real.is_relative_to(root.resolve()) for root in roots)


def resolve_reference(ref: str, base: Path, roots: list[Path]) -> Path:
    """Resolve a relative reference such as an image `src` against `base`, inside `roots` only.

    Absolute paths, URLs of any scheme (http:, file:, data:, …) and anything that resolves outside
    the roots raise Refused with the reason.
    """
    ref = ref.strip()
    if not ref:
        raise Refused("empty reference")
    if _SCHEME.match(ref) or ref.startswith("//"):
        raise Refused(f"{ref}: only files inside the issue's folder are used")
    target = Path(unquote(urlsplit(ref).path))
    if target.is_absolute():
        raise Refused(f"{ref}: absolute paths are not used")
    candidate = base / target
    if not is_inside(candidate, roots):
        raise Refused(f"{ref}: outside the issue's folder")
    if not candidate.is_file():
        raise Refused(f"{ref}: no such file")
    return candidate.resolve()
