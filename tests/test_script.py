import json

import pytest

from mediagen.episode import FLAG_FALLBACK, FLAG_LINKS
from mediagen.stages.parse import parse_issue
from mediagen.stages.script import write_script
from mediagen.templating import Templates, search_path
from mediagen.writing.extract import phrase
from mediagen.writing.reply import check_llm_reply
from mediagen.writing.rules import problems
from mediagen.writing.show import Show
from tests.fakes import FakeLLM

SECTION = (
    "---\ntitle: Garden\n---\n\n## The garden sensor\n\n"
    "Our balcony sensor measures soil moisture every ten minutes. It stores the readings on a memory card. "
    "It has been running for 3 weeks on two AA batteries.\n\n"
    "- The probe costs less than 8 dollars.\n- A reading takes about 40 milliseconds.\n"
)
GOOD_REPLY = {
    "narration": [
        "Our balcony sensor measures soil moisture every ten minutes.",
        "It has been running for 3 weeks on two AA batteries.",
    ],
    "bullets": ["Soil moisture every ten minutes", "3 weeks on two AA batteries", "Probe under 8 dollars"],
}
INVENTED_REPLY = {
    "narration": [
        "The sensor costs 240,000 dollars and was built by NASA in 1999.",
        "It measures moisture every 7 seconds on Mars.",
    ],
    "bullets": ["Built by NASA", "Costs 240,000 dollars", "Moisture every 7 seconds"],
}
EXAMPLE_COPY_REPLY = {
    "narration": [
        "The city council approved 12 kilometres of new protected bike lanes.",
        "Construction starts in March and should finish by October.",
    ],
    "bullets": [
        "12 km of protected bike lanes",
        "Built from March to October",
        "Safer routes to the station",
    ],
}


def prompts() -> Templates:
    return Templates(search_path(None))


def script(
    write_issue, text: str, mode: str, llm: FakeLLM | None = None, show: bool = True, lang: str = "en"
):
    doc = parse_issue(write_issue(text))
    framing = Show(prompts(), lang, "Field Notes", "Mika", enabled=show)
    return write_script(doc, lang, mode, framing, (lambda: llm) if llm else None, prompts())


def said(section) -> list[str]:
    return [line.text for line in section.narration]


def own(section) -> list[str]:
    """The section's lines that are not the show's."""
    return [line.text for line in section.narration if line.origin != "show"]


def test_verbatim_mode_narrates_the_authors_sentences_in_order_without_an_llm(write_issue):
    episode, report = script(write_issue, SECTION, "verbatim")
    section = episode.sections[1]
    assert own(section) == [
        "Our balcony sensor measures soil moisture every ten minutes.",
        "It stores the readings on a memory card.",
        "It has been running for 3 weeks on two AA batteries.",
        "The probe costs less than 8 dollars.",
        "A reading takes about 40 milliseconds.",
    ]
    assert {line.origin for line in section.narration if line.text in own(section)} == {"author"}
    assert report.llm_calls == 0
    assert episode.sections[0].slides[0].layout == "title"


def test_without_a_model_a_summary_is_the_authors_key_sentences(write_issue):
    episode, report = script(write_issue, SECTION, "summary")
    lines = own(episode.sections[1])
    assert 1 <= len(lines) <= 3 and report.llm_calls == 0
    source = parse_issue(write_issue(SECTION)).sections[0]
    everything = " ".join(
        b.text if hasattr(b, "text") else " ".join(i.text for i in b.items) for b in source.blocks
    )
    assert all(line.rstrip(".") in everything for line in lines)


def test_every_section_opens_with_a_varied_transition_and_the_episode_with_the_show(write_issue):
    text = SECTION + "\n## Second part\n\nThe second part has a sentence of its own.\n"
    text += "\n## Third part\n\nThe third part has a sentence too.\n"
    episode, _ = script(write_issue, text, "summary")
    opening = said(episode.sections[0])
    assert any("Field Notes" in line for line in opening) and any("Mika" in line for line in opening)
    transitions = [section.narration[0] for section in episode.sections[1:]]
    assert all(t.origin == "show" for t in transitions)
    assert len({t.text.split(" ")[0] for t in transitions}) == len(transitions)  # not the same words
    assert "garden sensor" in transitions[0].text
    assert episode.sections[-1].narration[-1].origin == "show"  # the sign-off
    for section in episode.sections:
        for line in section.narration:
            assert not problems(line.text, "en"), line.text


def test_no_show_leaves_the_framing_out(write_issue):
    episode, _ = script(write_issue, SECTION, "summary", show=False)
    assert all(line.origin != "show" for line in episode.sections[1].narration)


def test_a_grounded_llm_reply_is_used_for_narration_and_bullets(write_issue):
    llm = FakeLLM([GOOD_REPLY])
    episode, report = script(write_issue, SECTION, "summary", llm)
    section = episode.sections[1]
    assert own(section) == GOOD_REPLY["narration"]
    assert {line.origin for line in section.narration if line.origin != "show"} == {"llm"}
    assert section.slides[0].bullets == GOOD_REPLY["bullets"]
    assert FLAG_FALLBACK not in section.flags and report.written == ["the-garden-sensor"]
    assert "Our balcony sensor measures soil moisture" in llm.prompts[0]
    assert llm.prompts[0].rstrip().endswith("JSON:")


@pytest.mark.parametrize(
    "bad_reply", [INVENTED_REPLY, EXAMPLE_COPY_REPLY, "not json at all", {"narration": []}]
)
def test_an_unusable_reply_is_retried_once_then_replaced_by_an_extractive_summary(write_issue, bad_reply):
    llm = FakeLLM([bad_reply, bad_reply])
    episode, report = script(write_issue, SECTION, "summary", llm)
    section = episode.sections[1]
    assert len(llm.prompts) == 2 and llm.prompts[0] != llm.prompts[1]
    assert FLAG_FALLBACK in section.flags
    assert report.fallbacks == ["the-garden-sensor"]
    spoken = " ".join(said(section)) + " ".join(section.slides[0].bullets)
    for invented in ("NASA", "240,000", "Mars", "bike lanes", "council"):
        assert invented not in spoken
    assert 2 <= len(section.slides[0].bullets) <= 5


def test_the_retry_prompt_can_succeed_after_a_bad_first_reply(write_issue):
    llm = FakeLLM([INVENTED_REPLY, GOOD_REPLY])
    episode, report = script(write_issue, SECTION, "summary", llm)
    assert FLAG_FALLBACK not in episode.sections[1].flags
    assert report.llm_calls == 2


def test_checking_a_reply_names_each_rejected_item():
    source = "Linking is reduced 7x, resulting in a 40% reduction in compilation times."
    reply = json.dumps(
        {
            "narration": ["Linking is reduced 7x.", "It gives a 70% reduction in compilation times."],
            "bullets": ["7x faster linking", "40% shorter compilation", "Visit https://example.org"],
        }
    )
    checked = check_llm_reply(reply, source, "en")
    assert checked.narration == ["Linking is reduced 7x."]
    assert any("70" in reason for reason in checked.rejected)
    assert any("URL" in reason for reason in checked.rejected)
    assert checked.ok


@pytest.mark.parametrize(
    ("sentence", "bullet"),
    [
        (
            "TL;DR: rustc will start using the LLD linker by default on the x86_64 target, which is new.",
            "Rustc will start using the LLD linker by default on the x86_64 target",
        ),
        ("The probe costs less than 8 dollars.", "The probe costs less than 8 dollars"),
        (  # no clause boundary within a slide's length: no bullet, never one cut mid-phrase
            "A voice model of about sixty megabytes reads a whole page of text in a few seconds on a laptop.",
            None,
        ),
        (
            "A small voice handles everyday sentences well but stumbles on rare names, so we keep a list.",
            "A small voice handles everyday sentences well but stumbles on rare names",
        ),
    ],
)
def test_a_bullet_is_a_whole_phrase_cut_only_at_a_clause_boundary(sentence, bullet):
    assert phrase(sentence, "en") == bullet


def test_a_japanese_bullet_keeps_the_main_clause():
    assert phrase("東京都の読者の方から、「毎週楽しみにしています」というお便りをいただきました。", "ja") == (
        "「毎週楽しみにしています」というお便りをいただきました"
    )


def test_code_blocks_and_tables_get_their_own_slides_and_are_not_read_out(write_issue):
    text = (
        "---\ntitle: Guide\n---\n\n## Setup\n\nInstall it first.\n\n```sh\nmake demo\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    episode, _ = script(write_issue, text, "verbatim")
    layouts = [s.layout for s in episode.sections[1].slides]
    assert layouts == ["bullets", "code", "table"]
    assert all("make demo" not in n.text for n in episode.sections[1].narration)


REFERENCES = (
    "---\ntitle: Notes\n---\n\n## Further reading\n\n"
    "- [The Offline Manifesto](https://example.org/offline)\n- [Calibrating soil probes](https://example.org/probes)\n"
    "- [Old laptops, new life](https://example.org/laptops)\n- [#92310: kubectl debug](https://example.org/pr)\n"
)


@pytest.mark.parametrize("mode", ["summary", "verbatim"])
def test_a_section_of_links_is_shown_and_said_in_one_line(write_issue, mode):
    episode, _ = script(write_issue, REFERENCES, mode)
    section = episode.sections[1]
    assert FLAG_LINKS in section.flags and len(own(section)) == 0
    assert [line.text for line in section.narration if "show notes" in line.text]
    assert "The Offline Manifesto" in section.slides[0].bullets
    assert all("92310" not in line.text for line in section.narration)


def test_a_japanese_reference_list_of_english_titles_is_not_read_in_the_japanese_voice(write_issue):
    text = (
        "---\ntitle: ノート\nlang: ja\n---\n\n## 参考資料\n\n"
        "- [The Offline Manifesto](https://example.org/offline)\n"
        "- [Calibrating soil probes](https://example.org/probes)\n"
        "- [Old laptops, new life](https://example.org/laptops)\n"
    )
    episode, _ = script(write_issue, text, "summary", lang="ja")
    lines = said(episode.sections[1])
    assert not any("Manifesto" in line for line in lines)
    assert any("概要欄" in line for line in lines)


def test_a_long_list_code_block_and_table_continue_on_slides_within_the_limits(write_issue):
    from mediagen.episode import check_limits
    from mediagen.limits import Limits

    items = "".join(f"- Item number {n} of a long list.\n" for n in range(2_000))
    code = "\n".join(f"line_{n} = {n}" for n in range(1_000))
    rows = "".join(f"| a{n} | b{n} |\n" for n in range(700))
    text = f"# Long\n\n## Parts\n\n{items}\n```python\n{code}\n```\n\n| a | b |\n| - | - |\n{rows}"
    episode, _ = script(write_issue, text, "verbatim")
    slides = [slide for section in episode.sections for slide in section.slides]
    check_limits(episode, Limits(), lambda loc: "issue.md")  # raises over a limit
    assert sum(len(s.bullets) for s in slides) == 2_000
    assert "\n".join(s.code for s in slides if s.code) == code
    assert sum(len(s.table) - 1 for s in slides if s.table) == 700
    assert all(s.continued for s in slides if s.code and not s.code.startswith("line_0 "))
