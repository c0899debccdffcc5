"""A model's reply checked: the JSON it was asked for, every item through the rules of a spoken line
(a bullet: of a phrase) and the faithfulness guard; what fails is refused, with the reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from mediagen.text import word_count
from mediagen.writing import extract, guard
from mediagen.writing.rules import bullet_problems, problems, speakable


@dataclass(frozen=True)
class Refusal:
    kind: Literal["narration", "bullet"]
    item: str
    reason: str


@dataclass
class CheckedReply:
    narration: list[str]
    bullets: list[str]
    rejected: list[str]
    ok: bool
    refusals: list[Refusal] = field(default_factory=list)


def check_llm_reply(reply: str, source: str, lang: str, enough: int = 1) -> CheckedReply:
    """Keep only items that follow the rules of a spoken line (bullets: of a phrase) and are faithful
    to the source; `ok` if the reply is usable at all (some narration and some bullets survive;
    refused items are replaced, see `Scripter._guarded`)."""
    try:
        data = json.loads(_json_part(reply), strict=False)  # a raw newline in a string is no harm
        narration, bullets = data["narration"], data["bullets"]
        if not all(isinstance(x, str) for x in [*narration, *bullets]):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return CheckedReply([], [], [f"reply is not the expected JSON: {reply[:60]!r}"], ok=False)
    refusals: list[Refusal] = []
    kept_narration = _kept("narration", narration, source, lang, refusals)
    kept_bullets = _kept("bullet", bullets, source, lang, refusals)
    ok = len(kept_narration) >= enough and len(kept_bullets) >= 1
    return CheckedReply(
        kept_narration, kept_bullets, [f"{r.reason}: {r.item[:60]!r}" for r in refusals], ok, refusals
    )


def _json_part(reply: str) -> str:
    """The JSON object in a reply (a model without structured output may wrap it in prose or fences)."""
    start, end = reply.find("{"), reply.rfind("}")
    return reply[start : end + 1] if 0 <= start < end else reply


def _kept(
    kind: Literal["narration", "bullet"], items: list[str], source: str, lang: str, refusals: list[Refusal]
) -> list[str]:
    kept: list[str] = []
    for item in (i.strip() for i in items):
        text, reason = _checked_item(kind, item, source, lang, kept)
        if reason:
            refusals.append(Refusal(kind, item, reason))
        else:
            kept.append(text)
    return kept


def _checked_item(kind: str, item: str, source: str, lang: str, kept: list[str]) -> tuple[str, str | None]:
    """(the item as it will be used, why it may not be used or None)."""
    if kind == "bullet":
        text = extract.phrase(item, lang) or item
        broken = bullet_problems(text, lang)
    else:
        text = speakable(item, lang) or item
        broken = problems(text, lang)
    if broken:
        return text, f"breaks a rule ({', '.join(broken)})"
    if kind == "narration" and word_count(text, lang) > 45:
        return text, "too long for one breath"
    support = guard.MIN_SUPPORT if kind == "narration" else guard.MIN_SUPPORT_BULLET
    return text, guard.refusal(text, source, lang, kept, support)
