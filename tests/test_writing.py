"""The rules of a spoken line, the faithfulness guard, the show's framing and the length budget."""

from __future__ import annotations

import pytest

from mediagen.stages.parse import parse_issue
from mediagen.stages.script import section_text
from mediagen.templating import Templates, search_path
from mediagen.text import split_sentences
from mediagen.writing import guard, length
from mediagen.writing.extract import material
from mediagen.writing.rules import bullet_problems, problems, speakable
from mediagen.writing.show import Show, in_sentence, quoted, spoken_list

from .conftest import SAMPLES, corpus_file

# --- rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "line", "broken"),
    [
        ("en", "See https://example.org for details.", "a URL"),
        ("en", "The results[3] were clear.", "a citation marker"),
        ("en", "#92310: kubectl debug: support debugging nodes.", "an issue or PR number"),
        ("en", "It lives in ~/.cargo/config.toml today.", "a file path"),
        ("en", "Set RUSTFLAGS=-Clinker-features=-lld when you build.", "code"),
        ("en", "2026-04-15 | Hybrid | Vancouver Rust.", "table cells"),
        ("en", "Names of tricky words and listen to…", "ends halfway"),
        ("en", "A small voice handles everyday sentences well,", "no full stop at the end"),
        ("en", "– Teufelchen on matrix chat.", "starts halfway"),
        ("ja", "DeepSeekが証明したのは、", "ends halfway"),
        ("ja", "最後に読んでいただき、。", "ends halfway"),
        ("ja", "主な項目は、米国と中国の技術力の差が縮まっているです。", "glued grammar"),
        ("ja", "記事を読む前に必ず確認してください,そして読みます.", "ASCII punctuation in Japanese"),
        ("ja", "この結果は明らかです(資料1)。", "a citation marker"),
        ("ja", "The Offline Manifesto argues that software should keep working.", "not Japanese"),
        ("ja", "DeepSeekが証明したのは。", "ends on a particle"),
    ],
)
def test_each_rule_names_what_a_listener_must_never_hear(lang, line, broken):
    assert broken in problems(line, lang)


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "Linking with LLD makes debug builds of ripgrep seven times faster."),
        ("en", "Node.js and Deno both run JavaScript."),
        ("en", "Rust 1.90.0 will be released next month, on the 18th of September 2025."),
        ("ja", "JSer.infoは2024年1月16日で13周年を迎えました。"),
        ("ja", "Kubernetes(K8s)はコンテナを動かします。"),
        ("ja", "GitHubで紹介回数が多いのは、GitHub Releasesでリリースノートを書いてるライブラリです。"),
    ],
)
def test_whole_sentences_break_no_rule(lang, line):
    assert problems(line, lang) == []


def test_repairs_keep_the_meaning_and_never_glue_a_fragment():
    assert speakable("The results[3] were clear.", "en") == "The results were clear."
    assert speakable("この結果は明らかです(資料1)。", "ja") == "この結果は明らかです。"
    assert speakable("記事を読む前に必ず確認してください,そして読みます.", "ja") == (
        "記事を読む前に必ず確認してください、そして読みます。"
    )
    assert speakable("It moved (see https://example.org/x) last week.", "en") == "It moved last week."
    assert speakable("The probe costs less than 8 dollars", "en") is None  # not known to be whole
    assert (
        speakable("The probe costs less than 8 dollars", "en", close=True)
        == "The probe costs less than 8 dollars."
    )


def test_an_aside_in_parentheses_is_said_as_a_sentence_and_japanese_gets_japanese_brackets():
    assert speakable("(一部のサイトは除外するなどの対応をしています。)", "ja") == (
        "一部のサイトは除外するなどの対応をしています。"
    )
    assert speakable("(週一更新なので年に52回の表示があります)", "ja", close=True) == (
        "週一更新なので年に52回の表示があります。"
    )
    assert speakable("(He came back later.)", "en") == "He came back later."
    assert speakable("そのアイディアは(2013年に登場した)最初のコミットの前からありました。", "ja") == (
        "そのアイディアは（2013年に登場した）最初のコミットの前からありました。"
    )
    written = 'GoogleはNative Foundation (CNCF)に"Kubernetes"を寄贈しました。'
    assert speakable(written, "ja") == "GoogleはNative Foundation（CNCF）に「Kubernetes」を寄贈しました。"
    assert speakable('He said "go" (twice) and left.', "en") == 'He said "go" (twice) and left.'


def test_a_closing_bracket_stays_with_the_sentence_it_closes():
    # pysbd cuts ")" after a Japanese full stop off, as a sentence or onto the next one
    assert split_sentences("助かります。(一部は除外しています。)次の話です。", "ja") == [
        "助かります。",
        "(一部は除外しています。)",
        "次の話です。",
    ]
    assert split_sentences("助かります。(一部は除外しています。)", "ja")[-1] == "(一部は除外しています。)"
    assert split_sentences("He left. (He came back.) Then it rained.", "en") == [
        "He left.",
        "(He came back.)",
        "Then it rained.",
    ]


def test_a_bullet_is_a_whole_phrase():
    assert bullet_problems("Rustc uses LLD by default", "en") == []
    assert bullet_problems("Names of tricky words and listen to…", "en")
    assert bullet_problems("DeepSeekが証明したのは、", "ja")


# --- faithfulness ----------------------------------------------------------------------------------

# A capable model's sentences, written by hand from corpus sections (no capable instruct model can be
# installed here): faithful retellings (kept) and sentences that add a name, a number, an actor or a
# claim, or turn the section around (refused).
FAITHFUL = {
    ("rust-lld-on-stable/index.md", "benefits"): [
        "The most immediate benefit is much improved linking times.",
        "For an incremental rebuild of ripgrep, linking is reduced 7x.",
        "End-to-end compilation times drop by 40% for incremental rebuilds.",
        "A from-scratch debug build improves by 20%.",
        "Bigger binaries and incremental rebuilds see the biggest gains.",
    ],
    ("en-lwkd-2020-07-12.md", "developer-news"): [
        "Kubernetes is replacing the quarterly SIG reports with annual reports.",
        "The annual reports will be more formal but less frequent.",
        "A vulnerability in kube-proxy lets users reach localhost services across the local network.",
        "StackOverflow code samples are not compatible with the project's licensing.",
    ],
    ("ja-k8s-blog-10-years-of-kubernetes.md", "kubernetesの未来"): [
        "10年が経っても、Kubernetesの未来は明るく見えます。",
        "コミュニティはユーザー体験の改善とプロジェクトの持続可能性を優先しています。",
        "コミュニティは新しいコントリビューターを歓迎しています。",
        "Kubernetesの次の10年は、ユーザーとエコシステム、そして貢献する人々によって導かれます。",
    ],
    ("ja-jser-13th.md", "今までのjser-info"): [
        "JSer.infoは13年間で676の記事を公開しました。",
        "紹介したサイトは合計12429コになります。",
        "2023年に紹介したサイトでは、GitHubが30%近くを占めています。",
        "紹介するドメインやリポジトリの傾向は、時間とともに変化しています。",
    ],
}
UNFAITHFUL = {
    ("rust-lld-on-stable/index.md", "benefits"): [
        "Linking is reduced 9x for every build.",  # a number
        "Google measured the improvement on its own servers.",  # a name, an actor
        "The new linker does not improve linking times.",  # turned around
        "The change also makes the compiler use less memory and energy.",  # a claim
    ],
    ("en-lwkd-2020-07-12.md", "developer-news"): [
        "Kubernetes is replacing the SIG reports with monthly newsletters written by Google.",
        "CVE-2020-8558 affects every version of kube-proxy.",
        "StackOverflow code samples are compatible with the project's licensing.",
    ],
    ("ja-k8s-blog-10-years-of-kubernetes.md", "kubernetesの未来"): [
        "Kubernetesの未来は明るくないと見られています。",  # turned around
        "中国のサーバーに置かれた人工知覚が将来を決めます。",  # words, a claim
        "Kubernetesは20年後に終わる予定です。",  # a number
    ],
    ("ja-jser-13th.md", "今までのjser-info"): [
        "JSer.infoは20年間で1000の記事を公開しました。",
        "マイクロソフトが紹介サイトの半分を占めています。",
        "紹介するドメインの傾向は、時間がたっても変化していません。",
    ],
}


def _source(name: str, section_id: str) -> tuple[str, str]:
    doc = parse_issue(corpus_file(name))
    lang = "ja" if name.startswith("ja-") else "en"
    return next(section_text(s) for s in doc.sections if s.id == section_id), lang


@pytest.mark.parametrize(("name", "section_id"), list(FAITHFUL))
def test_the_guard_keeps_faithful_retellings_and_refuses_added_names_numbers_and_claims(name, section_id):
    source, lang = _source(name, section_id)
    refused_good = [s for s in FAITHFUL[(name, section_id)] if guard.refusal(s, source, lang)]
    assert not refused_good, [(s, guard.refusal(s, source, lang)) for s in refused_good]
    kept_bad = [s for s in UNFAITHFUL[(name, section_id)] if not guard.refusal(s, source, lang)]
    assert not kept_bad


# --- the show --------------------------------------------------------------------------------------


def test_titles_inside_a_sentence_keep_names_and_lower_plain_words():
    assert in_sentence("The garden sensor") == "the garden sensor"
    assert in_sentence("Reading list") == "reading list"
    assert in_sentence("This Week in Rust 647") == "This Week in Rust 647"
    assert in_sentence("Rust 1.90 is out", frozenset({"Rust"})) == "Rust 1.90 is out"
    assert spoken_list(["A", "B", "C"], "en") == "“A”, “B”, and “C”"
    assert spoken_list(["一", "二"], "ja") == "「一」、「二」"


def test_the_shows_lines_name_any_title_so_that_the_sentence_stays_grammatical():
    show = Show(Templates(search_path(None)), "en", "Field Notes")
    titles = ["Deprecated", "Why we moved to Rust?", "Rust 1.90 is out", "What's “new”"]
    lines = [line for n, title in enumerate(titles, 1) for line in show.transition(title, n, 4)]
    lines += show.signoff("Deprecated") + show.ask("Deprecated", 1, 4)
    assert "Let's start with “Deprecated”." in lines
    assert "Our next topic is “Rust 1.90 is out”." in lines
    assert "Finally, let's look at “What's ‘new’”." in lines  # no quotes inside quotes
    assert all("?”" not in line for line in lines)  # a title's own question mark is not the line's
    assert quoted("非推奨", "ja") == "「非推奨」"


def test_a_heading_or_a_label_is_not_a_sentence():
    assert "a heading or label, not a sentence" in problems("Next Deadline: Complete Docs, July 16th.", "en")
    assert not problems("CSI Migration for vSphere goes beta.", "en")
    assert not problems("And I'm Ken.", "en")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_line_the_show_makes_follows_the_rules(lang):
    show = Show(Templates(search_path(None)), lang, "Field Notes", "Mika")
    lines = show.opening("Issue 12", ["Speech without the cloud", "The garden sensor", "Reading list"])
    lines += [line for n in range(1, 7) for line in show.transition(f"Part {n}", n, 6)]
    lines += show.signoff("Issue 12") + show.links("Links", 12) + show.shown("Code", "Issue 12", False)
    assert len(lines) >= 13 and not show.warnings
    assert all(not problems(line, lang) for line in lines), [(line, problems(line, lang)) for line in lines]
    assert len(set(lines)) == len(lines)


def test_a_template_line_that_breaks_a_rule_is_left_out_with_a_warning(tmp_path):
    folder = tmp_path / "show" / "en"
    folder.mkdir(parents=True)
    (folder / "signoff.j2").write_text("Thanks for listening, see https://example.org\nSee you next week.\n")
    show = Show(Templates(search_path(tmp_path)), "en")
    assert show.signoff("Issue") == ["See you next week."]
    assert show.warnings and "signoff" in show.warnings[0]


# --- length ----------------------------------------------------------------------------------------


def test_a_length_is_shared_by_the_sections_by_what_they_say():
    doc = parse_issue(SAMPLES / "issue-en.md")
    materials = {s.id: material(s, "en") for s in doc.sections}
    short, long = length.plan(materials, "en", 1.0, True), length.plan(materials, "en", 4.0, True)
    assert sum(long.budgets.values()) > 3 * sum(short.budgets.values()) > 0
    words = {sid: sum(len(u.text.split()) for u in m.sentences) for sid, m in materials.items()}
    most = max(words, key=words.get)
    assert long.budgets[most] == max(long.budgets.values())


def test_the_speaking_rates_are_the_measured_ones():
    assert 2.5 < length.SPEAKING_RATE["en"] < 3.2 and 2.0 < length.SPEAKING_RATE["ja"] < 2.6
