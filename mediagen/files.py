"""Atomic file output (a final file is either complete under its name or absent), and an issue's name."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

# A page bundle's page: the issue is named after its folder (`rust-lld-on-stable/index.md`).
BUNDLE_PAGES = ("index", "_index", "readme")


def issue_stem(issue: Path) -> str:
    """An issue's own name: its file's, or its folder's for a bundle's page (see BUNDLE_PAGES)."""
    return issue.parent.name if issue.stem.lower() in BUNDLE_PAGES else issue.stem


def safe_name(name: str) -> str:
    """`name` as a folder name: runs of anything but word characters, dots and hyphens as one hyphen."""
    return re.sub(r"[^\w.-]+", "-", name).strip(".-") or "issue"


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
