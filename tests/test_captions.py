import itertools

import pytest

from mediagen.media.captions import NO_LINE_START, SrtWriter, VttWriter, sentence_cues, wrap

LONG_EN = (
    "When rustc needs to build a binary or a shared library, it will usually call the default linker "
    "installed on the system to do that, which can be changed on the command line."
)
LONG_JA = (
    "今週は、手元のパソコンだけで動く音声合成と、図書館の新しいサービス、そして読者からのお便りを紹介します。"
)


@pytest.mark.parametrize(("text", "lang", "width"), [(LONG_EN, "en", 42), (LONG_JA, "ja", 20)])
def test_a_long_sentence_becomes_consecutive_cues_of_at_most_two_short_lines(text, lang, width):
    cues = sentence_cues(text, 10.0, 22.0, lang)
    assert len(cues) > 1
    assert cues[0].start == 10.0 and cues[-1].end == 22.0
    assert all(a.end == b.start for a, b in itertools.pairwise(cues))
    assert all(1 <= len(c.lines) <= 2 and all(len(line) <= width for line in c.lines) for c in cues)
    joiner = " " if lang == "en" else ""
    assert joiner.join(line for c in cues for line in c.lines) == text


def test_a_sentence_is_cut_into_balanced_cues_at_phrase_boundaries_without_a_scrap_at_the_end():
    def first_words(text: str) -> list[str]:
        return [cue.lines[0].split()[0] for cue in sentence_cues(text, 0, 9, "en")]

    # Filling the first cue to the brim would leave "publishing it." and "gone." on their own.
    assert first_words(
        "We keep a short list of difficult words and listen to every recording before publishing it."
    ) == ["We", "and"]
    assert first_words(
        "The Offline Manifesto argues that software should keep working when the network is gone."
    ) == ["The", "that"]
    for text in (LONG_EN, LONG_EN + " " + LONG_EN):
        cues = sentence_cues(text, 0, 9, "en")
        sizes = [len(" ".join(c.lines)) for c in cues]
        assert min(sizes) >= 28 and len(cues) == -(-len(text) // 84), sizes


def test_a_piece_of_two_lines_length_is_cut_again_when_its_words_do_not_break_into_two_lines():
    # "...infrastructure and on nightly," is 43 characters: the piece below fits 84 but not two lines.
    text = (
        "We believe we've done all the internal testing that we could, on CI, crater, on our benchmarking "
        "infrastructure and on nightly, and plan to enable rust-lld to be the linker used by default on "
        "x86_64-unknown-linux-gnu for stable builds in 1.90.0."
    )
    cues = sentence_cues(text, 0, 9, "en")
    lines = [line for cue in cues for line in cue.lines]
    assert " ".join(lines) == text
    assert all(len(line) <= 42 and line[0] not in NO_LINE_START for line in lines), lines


def test_japanese_lines_never_start_with_closing_punctuation():
    for text in (LONG_JA, "「毎週楽しみにしています」というお便りを、東京都の読者の方からいただきました。"):
        for cue in sentence_cues(text, 0, 5, "ja"):
            assert all(line[0] not in NO_LINE_START for line in cue.lines), cue.lines


def test_wrap_balances_two_lines_at_word_boundaries():
    lines = wrap("The linkers do an important job, with concerns about stability", 42, "en")
    assert len(lines) == 2 and abs(len(lines[0]) - len(lines[1])) < 20
    assert " ".join(lines) == "The linkers do an important job, with concerns about stability"


def test_japanese_lines_break_between_phrases_not_inside_a_word():
    # "新しい" ends in し, which a particle list would take for a phrase end ("新し|い道具").
    lines = wrap("手元の機械で動かせる新しい道具を詳しく紹介する予定です。", 20, "ja")
    assert lines == ["手元の機械で動かせる新しい", "道具を詳しく紹介する予定です。"]
    lines = wrap("読者の皆さんから寄せられた質問にお答えします。", 20, "ja")
    assert lines[1].startswith(("寄せられた", "質問に", "お答え")), lines


def test_srt_and_vtt_writers_follow_their_formats():
    cues = sentence_cues("Hello <world> & friends.", 1.5, 3.25, "en")
    srt = SrtWriter().render(cues)
    vtt = VttWriter().render(cues)
    assert srt.startswith("1\n00:00:01,500 --> 00:00:03,250\nHello <world> & friends.")
    assert vtt.startswith("WEBVTT\n\n00:00:01.500 --> 00:00:03.250\nHello &lt;world&gt; &amp; friends.")
