"""Content-addressed cache: every piece of work is stored under a hash of everything it depends on.

A key is the sha256 of `json.dumps({stage, version, inputs…}, sort_keys=True)`: the stage name and
version, the exact inputs (text, slide content), the options and template files that affect it, and
the engine name with its model file's hash. Entries are files under `<root>/<stage>/<key[:2]>/`, each
written under a temporary name and renamed, so a build killed at any moment leaves only complete
entries, and the next build reuses every one of them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediagen.files import atomic_write_bytes, atomic_write_text

CACHE_DIRNAME = Path(".mediagen") / "cache"
OUTPUTS_INDEX = "outputs.json"
STALE_TEMPORARY_S = 3600


def make_key(stage: str, version: int, **inputs: Any) -> str:
    blob = json.dumps({"stage": stage, "version": version, **inputs}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def default_cache_dir(issue_folder: Path) -> Path:
    return issue_folder / CACHE_DIRNAME


@dataclass
class Usage:
    """What one build took from the cache and what it had to make, per stage."""

    reused: Counter[str] = field(default_factory=Counter)
    redone: Counter[str] = field(default_factory=Counter)

    def as_report(self) -> dict[str, dict[str, int]]:
        stages = sorted(set(self.reused) | set(self.redone))
        return {stage: {"reused": self.reused[stage], "redone": self.redone[stage]} for stage in stages}


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.usage = Usage()

    # -- entries ------------------------------------------------------------------------------------

    def path(self, stage: str, key: str, suffix: str) -> Path:
        return self.root / stage / key[:2] / f"{key}{suffix}"

    def get_json(self, stage: str, key: str) -> Any | None:
        try:
            data = json.loads(self.path(stage, key, ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data

    def put_json(self, stage: str, key: str, value: Any) -> None:
        atomic_write_text(self.path(stage, key, ".json"), json.dumps(value, ensure_ascii=False))

    def get_file(self, stage: str, key: str, suffix: str) -> Path | None:
        path = self.path(stage, key, suffix)
        return path if path.is_file() else None

    def put_bytes(self, stage: str, key: str, suffix: str, data: bytes) -> Path:
        path = self.path(stage, key, suffix)
        atomic_write_bytes(path, data)
        return path

    # -- book-keeping -------------------------------------------------------------------------------

    def hit(self, stage: str, key: str) -> None:
        self.usage.reused[stage] += 1

    def miss(self, stage: str, key: str) -> None:
        self.usage.redone[stage] += 1

    def register_output(self, out_dir: Path) -> None:
        """Remember an output folder whose manifest names the entries `prune` must keep."""
        index = self._outputs()
        index[str(out_dir.resolve())] = time.time()
        atomic_write_text(self.root / OUTPUTS_INDEX, json.dumps(index, indent=1))

    def _outputs(self) -> dict[str, float]:
        try:
            return json.loads((self.root / OUTPUTS_INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    # -- info and pruning ---------------------------------------------------------------------------

    def entries(self) -> Iterator[tuple[str, str, Path]]:
        """(stage, key, file) for every file in the cache."""
        if not self.root.is_dir():
            return
        for stage_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in sorted(stage_dir.glob("*/*")):
                if path.is_file() and not path.name.startswith("."):
                    yield stage_dir.name, path.name.split(".")[0].split("-")[0], path

    def info(self) -> dict[str, dict[str, int]]:
        stats: dict[str, dict[str, int]] = {}
        for stage, key, path in self.entries():
            entry = stats.setdefault(stage, {"entries": 0, "files": 0, "bytes": 0, "_keys": set()})
            entry["files"] += 1
            entry["bytes"] += path.stat().st_size
            entry["_keys"].add(key)
        for entry in stats.values():
            entry["entries"] = len(entry.pop("_keys"))
        return stats

    def prune(self, keep: set[str]) -> tuple[int, int]:
        """Delete every file whose key is not in `keep`, and temporary files a killed build left behind
        (older than an hour, so a build running now keeps its own); returns (files removed, bytes freed)."""
        removed = freed = 0
        stale = time.time() - STALE_TEMPORARY_S
        leftovers = [p for p in self.root.glob("*/*/.*.tmp*") if p.stat().st_mtime < stale]
        unused = [path for _, key, path in self.entries() if key not in keep]
        for path in unused + leftovers:
            freed += path.stat().st_size
            path.unlink()
            removed += 1
        for folder in sorted(self.root.glob("*/*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return removed, freed

    def kept_keys(self) -> set[str]:
        """Keys named by the manifests of the output folders that still exist."""
        keep: set[str] = set()
        index = self._outputs()
        for out_dir in list(index):
            manifest = load_manifest(Path(out_dir))
            if manifest is None:
                del index[out_dir]
                continue
            keep |= set(manifest.get("keys", []))
        atomic_write_text(self.root / OUTPUTS_INDEX, json.dumps(index, indent=1))
        return keep


MANIFEST = ".mediagen-manifest.json"


def load_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
