"""Front matter: the metadata at the top of an issue (YAML between `---`, TOML between `+++`, Pelican
`Key: value` lines), read within the limits and checked value by value.

The values mediagen uses (title, date, author, language, newsletter, summary) are checked like
config values: a value of the wrong kind, or a date that is no date, becomes a warning and is left
out (the title then comes from the heading or the file name). Markdown links in text values are
reduced to their text ("[Bob Killen](https://…) (CNCF)" -> "Bob Killen (CNCF)"). Everything else is
kept as plain data (dates as ISO text).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from mediagen.errors import InputError
from mediagen.limits import DEFAULT, Limits, check_depth, load_toml, load_yaml

_PELICAN_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]{0,40}):\s*(.*)$")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Keys mediagen reads (first match wins), and the kind of value each must be.
TEXT_KEYS = ("title", "newsletter", "category", "series", "summary", "description")
LANG_KEYS = ("lang", "language", "locale")
PEOPLE_KEYS = ("author", "authors", "by")
NEWSLETTER_KEYS = ("newsletter", "category", "series")
DATE_KEYS = ("date",)
MAX_TEXT_CHARS = 2_000


def split_front_matter(text: str, name: str, limits: Limits = DEFAULT) -> tuple[dict[str, Any], str]:
    """(metadata as read, body) for YAML `---`, TOML `+++` or Pelican `Key: value` headers."""
    for fence, load in (("---", _load_yaml), ("+++", _load_toml)):
        if text.startswith(fence + "\n"):
            end = text.find(f"\n{fence}\n", len(fence))
            if end < 0 and text.rstrip("\n").endswith("\n" + fence):
                end = len(text.rstrip("\n")) - len(fence) - 1
            if end < 0:
                raise InputError(f"{name}: front matter opened with '{fence}' is never closed")
            meta = load(text[len(fence) + 1 : end], name, limits)
            return meta, text[end + len(fence) + 2 :]
    return _split_pelican(text)


def _load_yaml(block: str, name: str, limits: Limits) -> dict[str, Any]:
    """Aliases are allowed in front matter (real ones use them), but capped by what they expand to."""
    try:
        meta, _ = load_yaml(block, f"{name} (front matter)", limits, aliases=True)
    except InputError as exc:
        message = exc.format_message()
        if "over the limit" in message or "alias" in message:
            raise
        line = re.match(r"[^:]*\(front matter\):(\d+)", message)
        where = f":{int(line.group(1)) + 1}" if line else ""
        raise InputError(f"{name}{where}: front matter is not valid YAML") from None
    return _as_mapping(meta, name)


def _load_toml(block: str, name: str, limits: Limits) -> dict[str, Any]:
    return load_toml(block, f"{name} (front matter)", limits)


def _as_mapping(meta: Any, name: str) -> dict[str, Any]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InputError(
            f"{name}: front matter must be a mapping of keys to values, not a {type(meta).__name__}"
        )
    return {str(key): value for key, value in meta.items()}


def _split_pelican(text: str) -> tuple[dict[str, Any], str]:
    """Pelican-style `Key: value` lines at the very top, ended by a blank line, with a Title key."""
    lines = text.split("\n")
    header = list(itertools.takewhile(str.strip, lines))
    matches = [_PELICAN_LINE.match(line) for line in header]
    if not header or not all(matches):
        return {}, text
    meta = {m.group(1).strip().lower(): m.group(2).strip() for m in matches if m}
    if "title" not in meta:
        return {}, text
    return meta, "\n".join(lines[len(header) :])


# --- checking the values ----------------------------------------------------------------------------


def checked(
    meta: dict[str, Any], where: str, warnings: list[str], limits: Limits = DEFAULT
) -> dict[str, Any]:
    """The metadata as plain data with every value mediagen reads checked: a bad one is left out with
    a warning naming it."""
    check_depth(meta, where, limits)
    result: dict[str, Any] = {}
    for key, value in meta.items():
        kind = key.strip().lower()
        if kind in TEXT_KEYS:
            value = _text(value)
        elif kind in LANG_KEYS:
            value = value.strip() if isinstance(value, str) else _BAD
        elif kind in PEOPLE_KEYS:
            value = _people(value)
        elif kind in DATE_KEYS:
            value = _date(value)
        else:
            value = plain(value)
        if value is _BAD:
            warnings.append(f"{where}: front matter '{key}' is {_described(meta[key])}; left out")
            continue
        result[str(key)] = value
    return result


_BAD = object()


def _described(value: Any) -> str:
    if isinstance(value, str):
        return f"not a date ({value[:40]!r})"
    kinds = {dict: "a table", list: "a list", int: "a number", float: "a number", bool: "true/false"}
    return f"{kinds.get(type(value), type(value).__name__)}, not text"


def _text(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list | tuple):
        return _BAD
    if isinstance(value, dt.date | dt.time):
        value = value.isoformat()
    text = _MARKDOWN_LINK.sub(r"\1", str(value))
    return re.sub(r"\s+", " ", text).strip()[:MAX_TEXT_CHARS]


def _people(value: Any) -> Any:
    """An author, or a list of authors (each text)."""
    if isinstance(value, list | tuple):
        names = [_text(v) for v in value]
        return _BAD if any(n is _BAD for n in names) else [n for n in names if n]
    return _text(value)


def _date(value: Any) -> Any:
    """A date as ISO text, from a YAML/TOML date or an ISO 8601 string; anything else is bad."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return _BAD
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _BAD
    return moment.isoformat() if len(text) > 10 else moment.date().isoformat()


def plain(value: Any) -> Any:
    """Metadata values as JSON/YAML-friendly plain data (dates become ISO strings)."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
