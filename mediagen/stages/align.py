"""align: when each slide is on screen and each caption shows, from the synthesized sentence timings."""

from __future__ import annotations

from mediagen.episode import Episode, Slide
from mediagen.media.captions import Cue, sentence_cues
from mediagen.timeline import SlideSpan, Voiceover


def slide_weight(slide: Slide) -> float:
    """How much narration a slide deserves, roughly by how much it shows."""
    if slide.layout == "title":
        return 1.0
    weight = 1.0 + len(slide.bullets) + (2.0 if slide.image else 0.0)
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
    cues: list[Cue] = []
    for sentence in voiceover.sentences:
        cues += sentence_cues(sentence.text, sentence.start, sentence.end, lang)
    return cues
