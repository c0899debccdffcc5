import re

import pytest

from mediagen.speech import normalize_for_speech


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Linking is reduced 7x.", "Linking is reduced 7 times."),
        ("Scheduled for 2025-09-18.", "Scheduled for September eigh-teenth, 2025."),
        (
            "We met 18 people 18,000 times, the 18th in 2018.",
            "We met eigh-teen people 18,000 times, the eigh-teenth in 2018.",
        ),
        ("From 2024-01-02 on.", "From January 2nd, 2024 on."),
        ("Out on September 3, or 21 Oct.", "Out on September 3rd, or 21st Oct."),
        ("In May 2025 we may 5 times.", "In May 2025 we may 5 times."),
        ("Events 2026-04-15 - 2026-05-13 here.", "Events April 15th, 2026 to May 13th, 2026 here."),
        ("Rust 1.90.0-beta.6 is out.", "Rust 1 point 90 point 0 beta 6 is out."),
        ("See issues #39915 and #71515.", "See issues number 39915 and number 71515."),
        ("It costs $8 now.", "It costs 8 dollars now."),
        (
            "Bigger binaries, e.g. ripgrep, vs. others.",
            "Bigger binaries, for example ripgrep, versus others.",
        ),
        ("Read https://example.org/a?b=1 or www.rust-lang.org now.", "Read or now."),
        (
            "Visit pquantum.dev: Post-Quantum Cryptography.",
            "Visit pquantum dot dev: Post-Quantum Cryptography.",
        ),
        ("Use x86_64-unknown-linux-gnu.", "Use x86 64-unknown-linux-gnu."),
        ("Great news 🦀🎉 today.", "Great news today."),
        ("Pages 10–20 & more.", "Pages 10 to 20 and more."),
        (
            "Image bumped to v1.1.1, and v2.0 next.",
            "Image bumped to version 1 point 1 point 1, and version 2.0 next.",
        ),
        ("Kubeadm + CoreDNS in C++.", "Kubeadm plus Core DNS in C plus plus."),
        ("Keep dev1.2 and 1.2v as written.", "Keep dev1.2 and 1.2v as written."),
        (
            "Say which aspect(s) and/or box(es) need testing (see the list).",
            "Say which aspects and or boxes need testing (see the list).",
        ),
    ],
)
def test_english_text_is_rewritten_only_where_the_voice_would_mangle_it(written, spoken):
    assert normalize_for_speech(written, "en") == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("3.5倍速くなりました。", "三点五倍速くなりました。"),
        ("2026-04-15に公開。", "二千二十六年四月十五日に公開。"),
        ("成功率は９０%です。", "成功率は九十パーセントです。"),
        ("1月16日と20日に18,000人が来た。", "一月十六日と二十日に一万八千人が来た。"),
        ("ES2024とx86とMP3はそのまま。", "ES2024とx86とMP3はそのまま。"),
        ("詳しくは https://example.jp/a をご覧ください。", "詳しくは をご覧ください。"),
    ],
)
def test_japanese_text_is_normalized_for_the_japanese_voice(written, spoken):
    assert normalize_for_speech(written, "ja") == spoken


def test_english_words_openjtalk_would_spell_out_get_katakana_readings_in_japanese():
    import pyopenjtalk

    from mediagen.speech import _spelled_out

    written = "Kelsey HightowerはCloud Native Computing Foundation (CNCF)のSponsorです。"
    assert _spelled_out("Kelsey") and _spelled_out("Foundation")  # what the voice would say otherwise
    said = normalize_for_speech(written, "ja")
    for name in ("Kelsey", "Hightower", "Foundation", "Sponsor"):
        assert name not in said
    # What is left in Latin letters is an acronym or a word OpenJTalk reads as a word.
    assert "CNCF" in said
    assert all(w[:2].isupper() or not _spelled_out(w) for w in re.findall("[A-Za-z]+", said))
    # A reading is katakana, which OpenJTalk reads as written.
    reading = normalize_for_speech("Hightower", "ja")
    assert re.fullmatch(r"[\u30a0-\u30ff]+", reading)
    assert pyopenjtalk.g2p(reading, kana=True) == reading


def test_words_openjtalk_knows_acronyms_and_english_text_keep_their_letters():
    assert normalize_for_speech("GoogleとAPIとJSerとOKの話です。", "ja") == "GoogleとAPIとJSerとOKの話です。"
    assert normalize_for_speech("The Foundation met.", "en") == "The Foundation met."


def test_a_word_joined_in_camel_case_is_read_part_by_part_and_a_failed_reading_keeps_the_word():
    import warnings

    said = normalize_for_speech("PodDisruptionBudgetとStatefulSetがあります。", "ja")
    assert "Disruption" not in said and "Stateful" not in said
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # kanalizer warns where it cannot finish a reading: never shown
        said = normalize_for_speech("poddisruptionbudgetがあります。", "ja")
    assert said.startswith("poddisruptionbudget")


def test_a_sentence_that_is_only_a_url_says_nothing():
    assert normalize_for_speech("https://example.org/x", "en") == ""


def test_joined_words_are_said_apart_but_a_lexicon_respelling_is_kept_as_it_is():
    from mediagen.lexicon import parse_lexicon
    from mediagen.stages.voice import spoken_form

    lexicon = parse_lexicon("en:\n  toml: tom-ul\n  Hyperkube: hyper cube\n", "test")
    spoken = spoken_form("Copy-pasting debian-hyperkube and e-mail toml.", "en", lexicon)
    assert spoken == "Copy pasting debian hyper cube and e-mail tom-ul."
    assert spoken_form("コピー-ペースト", "ja", lexicon) == "コピー-ペースト"
