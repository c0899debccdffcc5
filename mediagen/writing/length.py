"""Length: `--minutes N` turned into a budget of words (Japanese: characters, counted as words of
2.5 characters) per section, by each section's share of what the issue says and the voices' speaking
rates, measured here.

What is not content is paid first: the pauses between sentences and sections, the show's lines and
one line per link list. What is left is shared by the sections in proportion to the words they
could say; a section whose share is smaller than its shortest sentence says nothing of its own (its
transition names it), so an episode of many short sections still fits its length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mediagen.text import word_count
from mediagen.writing.extract import Material

# Words (Japanese: word_count units, 2.5 characters) a second, without pauses: piper's joe voice said
# 492 words of rust-lld in 171.4 s (2.87), Kokoro's jf_alpha 301 characters of the Japanese sample in
# 52.9 s (5.68 characters, 2.29 units).
SPEAKING_RATE = {"en": 2.87, "ja": 2.29}
# The pauses the voice stage puts between sentences and sections (stages.voice) and what a line of
# the show takes to say (about 9 words), in seconds.
SENTENCE_PAUSE_S = 0.3
SECTION_PAUSE_S = 0.9
SHOW_LINE_S = 3.3
OPENING_LINES = 4
SIGNOFF_LINES = 2


@dataclass(frozen=True)
class Plan:
    target_s: float
    content_s: float  # left for the sections' own sentences
    budgets: dict[str, float]  # words per section
    words: float = 0.0  # all the sections' words: what content_s holds


def plan(materials: dict[str, Material], lang: str, minutes: float, show: bool) -> Plan:
    """Budgets per section for an episode of about `minutes`."""
    target = minutes * 60
    sections = len(materials)
    framing_lines = (OPENING_LINES + SIGNOFF_LINES + sections - 1) if show else 0
    framing_lines += sum(found.is_link_list for found in materials.values())
    fixed = framing_lines * (SHOW_LINE_S + SENTENCE_PAUSE_S) + sections * SECTION_PAUSE_S
    content = max(0.0, target - fixed)
    available = {sid: _words(found, lang) for sid, found in materials.items() if not found.is_link_list}
    total = sum(available.values())
    words_left = content * SPEAKING_RATE[lang] / (1 + SENTENCE_PAUSE_S * SPEAKING_RATE[lang] / 15)
    budgets = {sid: words_left * words / total if total else 0.0 for sid, words in available.items()}
    return Plan(target, content, budgets, words_left)


def fitted(plan: Plan, chosen: Callable[[dict[str, float]], float], rounds: int = 4) -> Plan:
    """The plan with its budgets scaled until what the writer takes for them (`chosen`: the words it
    would say, whole sentences only) fills the length: a section whose budget is under its shortest
    sentence says nothing, and the others may then say more."""
    budgets = plan.budgets
    for _ in range(rounds):
        said = chosen(budgets)
        if not said or abs(said - plan.words) <= 0.05 * plan.words:
            break
        scale = min(2.0, max(0.5, plan.words / said))
        budgets = {sid: budget * scale for sid, budget in budgets.items()}
    return Plan(plan.target_s, plan.content_s, budgets, plan.words)


def _words(found: Material, lang: str) -> float:
    return sum(word_count(unit.text, lang) for unit in found.sentences)


def seconds(words: float, lang: str) -> float:
    return words / SPEAKING_RATE[lang]
