import numpy as np
import pytest

from mediagen.engines.registry import get_engine
from mediagen.episode import Episode, EpisodeSection, Narration, Slide
from mediagen.errors import InputError, StageError
from mediagen.media.samples import resample
from mediagen.speech import normalize_for_speech
from mediagen.stages.voice import SECTION_PAUSE_S, SENTENCE_PAUSE_S, voice_episode
from mediagen.text import character_error_rate, kana_reading
from tests.fakes import FakeTTS


def episode(lang: str, *sections: list[str]) -> Episode:
    return Episode(
        title="T",
        lang=lang,
        sections=[
            EpisodeSection(
                id=f"s{i}",
                title=f"S{i}",
                narration=[Narration(text=t) for t in texts],
                slides=[Slide(title=f"S{i}")],
            )
            for i, texts in enumerate(sections)
        ],
    )


def test_sentence_times_are_exact_and_pauses_separate_sentences_and_sections():
    tts = FakeTTS(sample_rate=8000)
    voiced = voice_episode(episode("en", ["One two.", "Three four five."], ["Six."]), tts)
    first, second, third = voiced.sentences
    assert first.end - first.start == pytest.approx(len("One two.") * 0.06, abs=1e-3)
    assert second.start - first.end == pytest.approx(SENTENCE_PAUSE_S, abs=1e-3)
    assert third.start - second.end == pytest.approx(SECTION_PAUSE_S, abs=1e-3)
    assert voiced.sections[0].start == 0 and voiced.sections[-1].end == pytest.approx(voiced.duration)
    assert voiced.sections[0].end == voiced.sections[1].start <= third.start


def test_the_voice_gets_normalized_text_and_captions_keep_the_written_text():
    tts = FakeTTS()
    voiced = voice_episode(episode("en", ["Linking is 7x faster since 2025-09-18."]), tts)
    assert tts.spoken == ["Linking is 7 times faster since September eigh-teenth, 2025."]
    assert voiced.sentences[0].text == "Linking is 7x faster since 2025-09-18."


def test_a_sentence_that_is_only_a_url_is_skipped():
    tts = FakeTTS()
    voice_episode(episode("en", ["https://example.org/only-a-link", "Real words."]), tts)
    assert tts.spoken == ["Real words."]


def test_a_voice_that_returns_silence_fails_the_stage_naming_the_section():
    class Silent(FakeTTS):
        def synthesize(self, text, voice=None, take=1):
            return np.zeros(1000, np.float32)

    with pytest.raises(StageError, match="voice stage, section 's0'"):
        voice_episode(episode("en", ["Hello there."]), Silent())


@pytest.fixture(scope="module")
def whisper_en():
    return get_engine("asr", "whisper", lang="en")


@pytest.fixture(scope="module")
def whisper_multi():
    return get_engine("asr", "whisper", lang=None)


def test_piper_speaks_an_english_sentence_that_whisper_understands(whisper_en):
    piper = get_engine("tts", "piper")
    audio = piper.synthesize("The garden sensor measures soil moisture every ten minutes.")
    assert 2.0 < len(audio) / piper.sample_rate < 6.0
    words = whisper_en.transcribe(resample(audio, piper.sample_rate, 16_000), "en").text.lower()
    assert "garden" in words and "moisture" in words


def test_kokoro_speaks_japanese_that_whisper_hears_as_japanese(whisper_multi):
    kokoro = get_engine("tts", "kokoro")
    audio = kokoro.synthesize("図書館では、来月から電子書籍の貸し出しが始まります。")
    assert 2.0 < len(audio) / kokoro.sample_rate < 8.0
    transcript = whisper_multi.transcribe(resample(audio, kokoro.sample_rate, 16_000))
    assert transcript.language == "ja"
    reference = kana_reading("図書館では、来月から電子書籍の貸し出しが始まります。")
    assert character_error_rate(reference, kana_reading(transcript.text)) < 0.2


def test_english_names_in_japanese_are_said_as_words_not_spelled_letter_by_letter(whisper_multi):
    """OpenJTalk spells a Latin word its dictionary lacks by letter names ("Kelsey" as ケーイーエルエス
    イーワイ); given its katakana reading, Kokoro says it as a word, and it is heard as what it was given."""
    written = "Kelsey Hightowerは有名なガイドの最初のコミットをプッシュしました。"
    spoken = normalize_for_speech(written, "ja")
    kokoro = get_engine("tts", "kokoro")
    as_words, spelled = kokoro.synthesize(spoken), kokoro.synthesize(written)
    assert len(as_words) < 0.8 * len(spelled)  # letter names take far longer to say (measured: 0.58)
    heard = whisper_multi.transcribe(resample(as_words, kokoro.sample_rate, 16_000), "ja").text
    assert character_error_rate(kana_reading(spoken), kana_reading(heard)) < 0.15


def test_an_engine_is_checked_when_it_is_chosen():
    from mediagen.engines.registry import choose

    piper = choose("tts", "piper", lang="en")
    assert piper.identity().startswith("piper:") and piper.kwargs() == {}
    with pytest.raises(InputError, match="tts engine 'piper' does not speak 'ja'"):
        choose("tts", "piper", lang="ja")
    with pytest.raises(InputError, match="asr engine 'whisper' does not speak 'ja'"):
        choose("asr", "whisper", lang="ja", model="tiny.en")
    assert choose("asr", "whisper", lang="ja").identity() == "whisper:base:beam1"
    with pytest.raises(InputError, match="takes no option voice"):
        choose("tts", "piper", lang="en", voice="joe")
    with pytest.raises(InputError, match="unknown llm engine 'gpt'"):
        choose("llm", "gpt")
