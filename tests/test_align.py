import itertools

import pytest

from mediagen.episode import Episode, EpisodeSection, Narration, Slide
from mediagen.stages.align import caption_cues, schedule_slides
from mediagen.stages.voice import voice_episode
from tests.fakes import FakeTTS


def make_episode(*sections: tuple[list[str], list[Slide]]) -> Episode:
    return Episode(
        title="T",
        lang="en",
        sections=[
            EpisodeSection(
                id=f"s{i}", title=f"S{i}", narration=[Narration(text=t) for t in texts], slides=slides
            )
            for i, (texts, slides) in enumerate(sections)
        ],
    )


def test_slides_cover_the_whole_audio_in_deck_order_and_change_at_sentence_starts():
    episode = make_episode(
        (
            ["Title sentence.", "First point here.", "Second point here."],
            [Slide(layout="title", title="T"), Slide(title="B", bullets=["a", "b", "c"])],
        ),
        (["Another section with words.", "And more words."], [Slide(title="C", bullets=["x"])]),
    )
    voiced = voice_episode(episode, FakeTTS())
    spans = schedule_slides(episode, voiced)
    assert [s.index for s in spans] == [0, 1, 2]
    assert spans[0].start == 0 and spans[-1].end == pytest.approx(voiced.duration)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert spans[0].end == voiced.sentences[1].start  # the title slide gives way when the content starts
    assert spans[2].start == voiced.sections[1].start


def test_a_section_with_more_slides_than_sentences_splits_its_time_by_slide_weight():
    episode = make_episode(
        (
            ["Only one sentence here."],
            [Slide(title="A", bullets=["1", "2", "3"]), Slide(layout="code", title="B", code="x")],
        )
    )
    voiced = voice_episode(episode, FakeTTS())
    first, second = schedule_slides(episode, voiced)
    assert first.end == second.start and 0 < first.end < voiced.duration
    assert first.end - first.start > second.end - second.start


def test_caption_cues_follow_the_sentences_and_show_the_written_text():
    episode = make_episode((["It is 7x faster.", "Done."], [Slide(title="A")]))
    voiced = voice_episode(episode, FakeTTS())
    cues = caption_cues(voiced, "en")
    assert [c.lines for c in cues] == [("It is 7x faster.",), ("Done.",)]
    assert [(c.start, c.end) for c in cues] == [
        (round(s.start, 3), round(s.end, 3)) for s in voiced.sentences
    ]
