"""Pronunciation lexicon: respellings applied only to the text the voice receives (captions, slides
and the episode script keep the author's spelling).

A lexicon file maps, per language, a written form to what the voice should be given:

    en:
      PostgreSQL: Post-gress-Q-L          # whole words, case-insensitive
    ja:                                   # or a list of entries, for the options
      - {word: GitHub, say: ギットハブ}
      - {word: AI, say: エーアイ, case_sensitive: true}

Latin-script words match whole words only (letters and digits may not touch them on either side, so
"GitHubで" matches "GitHub" but "GitHubber" does not); other scripts match exactly where they occur.
Later files override earlier ones: the bundled starter lexicon, then the config's, then the
`lexicon.yaml` beside the issue.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediagen.confine import is_inside
from mediagen.errors import InputError
from mediagen.limits import DEFAULT, Limits, load_yaml, read_text

LEXICON_FILE = "lexicon.yaml"
MAX_ENTRY_CHARS = 200  # a word and what to say for it
_LATIN_WORD = re.compile(r"[A-Za-z0-9][\w.+#'’-]*")


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    word: str = Field(min_length=1, max_length=MAX_ENTRY_CHARS)
    say: str = Field(min_length=1, max_length=MAX_ENTRY_CHARS)
    case_sensitive: bool = False


@dataclass(frozen=True)
class Lexicon:
    """Entries per language; `apply` rewrites a sentence in one pass, longest written form first."""

    entries: dict[str, tuple[Entry, ...]]

    def for_lang(self, lang: str) -> tuple[Entry, ...]:
        return self.entries.get(lang, ())

    def apply(self, text: str, lang: str, between: Callable[[str], str] | None = None) -> str:
        """`text` with every entry's word respelled; `between`, if given, rewrites the rest (and never
        a respelling)."""
        between = between or (lambda part: part)
        entries = self.for_lang(lang)
        if not entries:
            return between(text)
        pattern, say = _compiled(entries)
        pieces, last = [], 0
        for found in pattern.finditer(text):
            pieces += [between(text[last : found.start()]), say(found.group(0))]
            last = found.end()
        return "".join([*pieces, between(text[last:])])

    def merged(self, other: Lexicon) -> Lexicon:
        """This lexicon with `other`'s entries added; `other` wins where both spell the same word."""
        entries = {}
        for lang in self.entries.keys() | other.entries.keys():
            table = {_index(e): e for e in self.for_lang(lang)}
            table |= {_index(e): e for e in other.for_lang(lang)}
            entries[lang] = tuple(table.values())
        return Lexicon(entries)


EMPTY = Lexicon({})


def _index(entry: Entry) -> str:
    return entry.word if entry.case_sensitive else entry.word.casefold()


@functools.cache
def _compiled(entries: tuple[Entry, ...]) -> tuple[re.Pattern[str], Callable[[str], str]]:
    """One pattern for all entries (longest first) and what to say for each match: built once per
    lexicon, not per sentence. A case-sensitive entry wins over a case-insensitive one."""
    alternatives = []
    for entry in sorted(entries, key=lambda e: -len(e.word)):
        word = re.escape(entry.word)
        if _LATIN_WORD.fullmatch(entry.word):
            word = rf"(?<![A-Za-z0-9]){word}(?![A-Za-z0-9])"
        alternatives.append(word if entry.case_sensitive else f"(?i:{word})")
    exact = {e.word: e.say for e in entries if e.case_sensitive}
    folded = {e.word.casefold(): e.say for e in entries if not e.case_sensitive}

    def say(found: str) -> str:
        return exact.get(found) or folded.get(found.casefold(), found)

    return re.compile("|".join(alternatives)), say


def parse_lexicon(text: str, name: str, limits: Limits = DEFAULT) -> Lexicon:
    """A lexicon from YAML text (no aliases); any problem is one InputError naming the file and the
    entry."""
    data = load_yaml(text, name, limits)[0] or {}
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected languages (en:, ja:) at the top level")
    entries: dict[str, tuple[Entry, ...]] = {}
    for lang, table in data.items():
        if isinstance(table, dict):
            items = [{"word": str(word), "say": say} for word, say in table.items()]
        elif isinstance(table, list):
            items = table
        else:
            raise InputError(f"{name}: '{lang}' must map words to what to say, or list entries")
        limits.check(f"{name}: {lang}", "entries", len(items), "lexicon_entries")
        parsed = []
        for item in items:
            try:
                parsed.append(Entry.model_validate(item))
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(p) for p in problem["loc"])
                shown = repr(item)[:80]
                raise InputError(f"{name}: {lang} entry {shown}: {where} {problem['msg']}") from None
        entries[str(lang)] = tuple(parsed)
    return Lexicon(entries)


def load_lexicon(path: Path, limits: Limits = DEFAULT) -> Lexicon:
    return parse_lexicon(read_text(path, "lexicon_mb", limits), str(path), limits)


def starter_lexicon() -> Lexicon:
    """The bundled lexicons: tech names the voices misread (found with `mediagen qa`)."""
    lexicon = EMPTY
    for lang in ("en", "ja"):
        text = resources.files("mediagen.lexicons").joinpath(f"{lang}.yaml").read_text(encoding="utf-8")
        lexicon = lexicon.merged(parse_lexicon(text, f"starter lexicon ({lang})"))
    return lexicon


def lexicon_for(
    issue_folder: Path | None, configured: Path | None, starter: bool = True, limits: Limits = DEFAULT
) -> Lexicon:
    """Starter, then the config's file, then `lexicon.yaml` beside the issue (later entries win)."""
    lexicon = starter_lexicon() if starter else EMPTY
    if configured is not None:
        lexicon = lexicon.merged(load_lexicon(configured, limits))
    beside = issue_folder / LEXICON_FILE if issue_folder else None
    if beside is not None and beside.exists():
        if not is_inside(beside, [issue_folder]):
            raise InputError(f"{beside}: the lexicon is a link to a file outside the issue's folder")
        lexicon = lexicon.merged(load_lexicon(beside, limits))
    return lexicon
