"""align: when each slide is on screen and each caption shows, from the synthesized sentence timings
and, where the speech check ran, the times of the words it heard."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from difflib import SequenceMatcher

from mediagen.episode import Episode, Slide
from mediagen.media.captions import Cue, sentence_cues, speaker_width, timed_cues
from mediagen.timeline import SlideSpan, SpokenWord, VoicedSentence, Voiceover


def slide_weight(slide: Slide) -> float:
    """How much narration a slide deserves, roughly by how much it shows."""
    if slide.layout == "title":
        return 1.0
    weight = 1.0 + len(slide.bullets) + (2.0 if slide.image else 0.0)
    weight += (len(slide.quote) / 60 if slide.quote else 0.0) + (1.0 if slide.number else 0.0)
    if slide.code:
        weight += min(6.0, slide.code.count("\n") / 3)
    if slide.table:
        weight += min(6.0, len(slide.table) / 2)
    return weight


def schedule_slides(episode: Episode, voiceover: Voiceover) -> list[SlideSpan]:
    """Consecutive spans covering the whole audio; a section's slides share its time, changing at
    sentence starts nearest to each slide's share (or mid-sentence when a section has too few)."""
    spans: list[SlideSpan] = []
    index = 0
    for section, span in zip(episode.sections, voiceover.sections, strict=True):
        boundaries = [s.start for s in voiceover.sentences if s.section_id == section.id][1:]
        cuts = _cuts([slide_weight(s) for s in section.slides], span.start, span.end, boundaries)
        edges = [span.start, *cuts, span.end]
        for offset in range(len(section.slides)):
            spans.append(SlideSpan(index + offset, edges[offset], edges[offset + 1]))
        index += len(section.slides)
    return spans


def _cuts(weights: list[float], start: float, end: float, boundaries: list[float]) -> list[float]:
    total = sum(weights)
    targets, acc = [], 0.0
    for weight in weights[:-1]:
        acc += weight
        targets.append(start + (end - start) * acc / total)
    if len(boundaries) < len(targets):
        return targets
    cuts: list[float] = []
    lowest = 0
    for k, target in enumerate(targets):
        highest = len(boundaries) - (len(targets) - k)
        choices = range(lowest, highest + 1)
        best = min(choices, key=lambda i: abs(boundaries[i] - target))
        cuts.append(boundaries[best])
        lowest = best + 1
    return cuts


def caption_cues(voiceover: Voiceover, lang: str) -> list[Cue]:
    """Cues timed by the words heard where known, else by sharing each sentence's time by characters.
    In a dialogue each cue carries its speaker, and lines leave room for a speaker's name."""
    names = sorted({s.speaker for s in voiceover.sentences if s.speaker})
    width = speaker_width(lang, names) if names else None
    cues: list[Cue] = []
    previous_end = 0.0
    for sentence in voiceover.sentences:
        spans = character_times(sentence)
        if spans is None:
            timed = sentence_cues(sentence.text, sentence.start, sentence.end, lang, width)
        else:
            timed = timed_cues(sentence.text, spans, lang, width)
        timed[0] = replace(timed[0], start=max(timed[0].start, previous_end))  # never over the last one
        cues += [replace(cue, speaker=sentence.speaker) for cue in timed]
        previous_end = timed[-1].end
    return cues


def character_times(sentence: VoicedSentence) -> list[tuple[float, float]] | None:
    """When each character of the written sentence is spoken, from the heard words: characters are
    matched (case and width folded) between the written text and what was heard; each matched one
    takes the time of its place in its heard word, and the others are placed between their matched
    neighbours. None when too little was heard to anchor the sentence."""
    written = [(i, _fold(ch)) for i, ch in enumerate(sentence.text) if ch.isalnum()]
    heard = _heard_characters(sentence.words)
    if not written or not heard:
        return None
    matcher = SequenceMatcher(None, [c for _, c in written], [c for c, _, _ in heard], autojunk=False)
    anchors: dict[int, tuple[float, float]] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            _, start, end = heard[block.b + k]
            anchors[block.a + k] = (start, end)
    if len(anchors) < max(2, len(written) // 4):
        return None
    times = _fill_between(anchors, len(written), sentence.start, sentence.end)
    spans: list[tuple[float, float]] = []
    slot = 0
    for i in range(len(sentence.text)):  # punctuation and spaces take the time of what follows them
        while slot < len(written) - 1 and written[slot][0] < i:
            slot += 1
        spans.append(times[slot] if written[slot][0] >= i else (times[slot][1], times[slot][1]))
    return spans


def _fold(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()[:1]


def _heard_characters(words: tuple[SpokenWord, ...]) -> list[tuple[str, float, float]]:
    """Each alphanumeric character heard, with the share of its word's time it takes."""
    chars: list[tuple[str, float, float]] = []
    for word in words:
        letters = [_fold(ch) for ch in word.text if ch.isalnum()]
        step = (word.end - word.start) / max(1, len(letters))
        chars += [(ch, word.start + k * step, word.start + (k + 1) * step) for k, ch in enumerate(letters)]
    return chars


def _fill_between(
    anchors: dict[int, tuple[float, float]], count: int, start: float, end: float
) -> list[tuple[float, float]]:
    """Times for every position: anchored ones as heard, the rest spread evenly between their anchored
    neighbours (or the sentence's edges)."""
    known = sorted(anchors)
    times: list[tuple[float, float]] = []
    for i in range(count):
        if i in anchors:
            times.append(anchors[i])
            continue
        before = max((k for k in known if k < i), default=None)
        after = min((k for k in known if k > i), default=None)
        left_i, left_t = (before, anchors[before][1]) if before is not None else (-1, start)
        right_i, right_t = (after, anchors[after][0]) if after is not None else (count, end)
        share = (right_t - left_t) / (right_i - left_i)
        at = left_t + share * (i - left_i - 1)
        times.append((at, at + share))
    return times
