"""qa: what the voice really said. Every sentence's audio is heard by faster-whisper (see
mediagen.recognition) and scored against what was meant to be said (see mediagen.scoring); a sentence
heard worse than the language's share of the limit is voiced again (up to the language's number of
takes) and the best take kept; one still over the limit is flagged. The words heard, with their times,
also time the captions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mediagen.recognition import Heard
from mediagen.scoring import Score, score

# A sentence heard with more than this share of the limit is voiced a second time (the better take is
# kept). English: any word heard wrong, as piper is fast (RTF 0.05) and a fresh take is often heard right;
# Japanese: only what would be flagged, as kokoro is 8x slower and says a sentence the same way each
# time (its second take is only slower), so a retake rarely changes what is heard: replayed on the
# same takes (bench/takes.py), retaking above half the limit instead moved the kana-CER by 0.16 (sample)
# and 0.49 (ja-k8s) points and flagged the same sentences, for twice the speech check's time.
RETAKE_SHARE = {"en": 0.0, "ja": 1.0}
# Takes a sentence may get in all. English: three, as a third of piper's takes costs little and, with
# fresh noise, is often heard right where the second was not; Japanese: two (kokoro's cost).
TAKES = {"en": 3, "ja": 2}
# A take after this one is tried only where the take before it was heard better than every earlier
# one: where a new take was heard no better, the words misheard are most often what the voice says
# every time or what the recognizers cannot spell, and a further take is wasted (bench/takes.py).
GAINING_AFTER = 2
METRIC = {"en": "wer", "ja": "kana-cer"}
# A second opinion on sentences the first recognizer heard imperfectly: for English the multilingual
# base model (tiny.en mishears names the voice said well: "crates" as "create", "rustup" as "Russ up");
# Japanese is heard by base already. The better of the two hearings counts.
SECOND_OPINION = {"en": "base"}


@dataclass
class Check:
    """One sentence's verdict: the take used, what was heard and how well it matched."""

    section_id: str
    text: str
    spoken: str
    take: int
    heard: Heard
    score: Score
    flagged: bool = False
    retakes: list[float] = field(default_factory=list)  # scores of the takes not used
    heard_by: str | None = None  # the second recognizer, where it heard the sentence better

    def to_report(self) -> dict[str, object]:
        return {
            "section": self.section_id,
            "text": self.text,
            "heard": self.heard.text,
            "score": round(self.score.rate, 4),
            "errors": self.score.errors,
            "length": self.score.length,
            "take": self.take,
            "flagged": self.flagged,
        } | ({"heard_by": self.heard_by} if self.heard_by else {})


def needs_retake(score: Score, lang: str, limit: float) -> bool:
    """Whether a sentence heard with `score` is voiced a second time (see RETAKE_SHARE)."""
    return score.rate > limit * RETAKE_SHARE[lang]


class SpokenLine(Protocol):
    section_id: str
    text: str
    spoken: str


# hear(lines, clips, take, second): what the first recognizer (or the second, asked for a second
# opinion) heard in each clip; revoice(lines, take): a further, careful take (2, 3…) of each line, at
# the clips' rate.
Hear = Callable[[list, list[np.ndarray], int, bool], list[Heard]]
Revoice = Callable[[list, int], list[np.ndarray]]


@dataclass
class QAResult:
    clips: list[np.ndarray]  # the take kept for each line
    checks: list[Check]
    second_opinion: Counter[str]  # sentences the second recognizer was asked about, and heard better


def check(
    lines: Sequence[SpokenLine],
    clips: list[np.ndarray],
    lang: str,
    limit: float,
    hear: Hear,
    revoice: Revoice,
    respell: Callable[[str], str] | None = None,
    second_id: str | None = None,
) -> QAResult:
    """Hear every line, re-voice each one heard worse than the language's share of the limit (up to
    TAKES in all, while the best take still is and the last one was heard better than those before),
    keep the best take, flag what is still over the limit.
    `respell` gives what the voice is told for a text (see scoring.score); `second_id`: the second
    recognizer, asked about imperfect hearings."""
    asked: Counter[str] = Counter()

    def listen(chosen: list[SpokenLine], audio: list[np.ndarray], take: int) -> list[Check]:
        checks = [
            Check(
                line.section_id,
                line.text,
                line.spoken,
                take,
                h,
                score(lang, line.text, line.spoken, h.text, respell),
            )
            for line, h in zip(chosen, hear(chosen, audio, take, False), strict=True)
        ]
        doubtful = [i for i, c in enumerate(checks) if c.score.errors]
        if second_id and doubtful:
            again = hear([chosen[i] for i in doubtful], [audio[i] for i in doubtful], take, True)
            for i, h in zip(doubtful, again, strict=True):
                other = score(lang, chosen[i].text, chosen[i].spoken, h.text, respell)
                asked["asked"] += 1
                if other.rate < checks[i].score.rate:
                    asked["heard_better"] += 1
                    checks[i].heard, checks[i].score, checks[i].heard_by = h, other, second_id
        return checks

    kept = list(clips)
    checks = listen(list(lines), kept, 1)
    # Re-voicing is cheap next to a wrong word: another take for what was heard wrong (RETAKE_SHARE);
    # past GAINING_AFTER, only where the last take was heard better than the ones before.
    gaining: set[int] = set()
    for take in range(2, TAKES[lang] + 1):
        bad = [
            i
            for i, c in enumerate(checks)
            if (take <= GAINING_AFTER or i in gaining) and needs_retake(c.score, lang, limit)
        ]
        if not bad:
            break
        again = [lines[i] for i in bad]
        retaken = revoice(again, take)
        gaining = set()
        for i, clip, retake in zip(bad, retaken, listen(again, retaken, take), strict=True):
            if retake.score.rate < checks[i].score.rate:
                retake.retakes = [*checks[i].retakes, checks[i].score.rate]
                checks[i], kept[i] = retake, clip
                gaining.add(i)
            else:
                checks[i].retakes.append(retake.score.rate)
    for c in checks:
        c.flagged = c.score.rate > limit
    return QAResult(kept, checks, asked)


def overall(checks: list[Check]) -> float:
    errors = sum(c.score.errors for c in checks)
    length = sum(c.score.length for c in checks)
    return errors / length if length else 0.0


def report(checks: list[Check], lang: str, asr_id: str, limit: float) -> dict[str, object]:
    """The `qa` block of report.json: per sentence and per section scores, the overall score, the
    flagged sentences and how many were re-voiced."""
    sections: dict[str, list[Check]] = {}
    for check in checks:
        sections.setdefault(check.section_id, []).append(check)
    return {
        "asr": asr_id,
        "metric": METRIC[lang],
        "max_error": limit,
        "overall": round(overall(checks), 4),
        "sections": {sid: round(overall(group), 4) for sid, group in sections.items()},
        "retaken": sum(1 for c in checks if c.retakes),
        "flagged": [n for n, c in enumerate(checks) if c.flagged],
        "sentences": [c.to_report() for c in checks],
    }
