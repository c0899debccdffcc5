import json

import pytest

from mediagen.engines.fake import FakeLLM
from mediagen.stages.parse import parse_issue
from mediagen.stages.script import FLAG_FALLBACK, check_llm_reply, compress, write_script
from mediagen.templating import Templates, search_path

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
    return Templates(search_path(None), autoescape=False)


def script(write_issue, text: str, mode: str, llm: FakeLLM | None = None):
    doc = parse_issue(write_issue(text))
    return write_script(doc, "en", mode, (lambda: llm) if llm else None, prompts() if llm else None)


def test_verbatim_mode_narrates_the_authors_sentences_in_order_without_an_llm(write_issue):
    episode, report = script(write_issue, SECTION, "verbatim")
    section = episode.sections[1]
    assert [n.text for n in section.narration] == [
        "The garden sensor.",
        "Our balcony sensor measures soil moisture every ten minutes.",
        "It stores the readings on a memory card.",
        "It has been running for 3 weeks on two AA batteries.",
        "The probe costs less than 8 dollars.",
        "A reading takes about 40 milliseconds.",
    ]
    assert report.llm_calls == 0
    assert episode.sections[0].slides[0].layout == "title"


def test_a_grounded_llm_reply_is_used_for_narration_and_bullets(write_issue):
    llm = FakeLLM([GOOD_REPLY])
    episode, _report = script(write_issue, SECTION, "summary", llm)
    section = episode.sections[1]
    assert [n.text for n in section.narration][1:] == GOOD_REPLY["narration"]
    assert section.slides[0].bullets == GOOD_REPLY["bullets"]
    assert FLAG_FALLBACK not in section.flags
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
    said = " ".join(n.text for n in section.narration) + " ".join(section.slides[0].bullets)
    for invented in ("NASA", "240,000", "Mars", "bike lanes", "council"):
        assert invented not in said
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
    assert not checked.ok


@pytest.mark.parametrize(
    ("sentence", "bullet"),
    [
        (
            "TL;DR: rustc will start using the LLD linker by default on the x86_64 target, which is new.",
            "Rustc will start using the LLD linker by default on the x86_64 target",
        ),
        ("The probe costs less than 8 dollars.", "The probe costs less than 8 dollars"),
        (
            "A voice model of about sixty megabytes can read a page of text in a few seconds and more.",
            "A voice model of about sixty megabytes can read a page of text",
        ),
    ],
)
def test_compress_turns_a_sentence_into_a_slide_sized_phrase(sentence, bullet):
    assert compress(sentence, "en") == bullet


def test_japanese_compress_keeps_the_main_clause():
    assert compress(
        "東京都の読者の方から、「毎週楽しみにしています」というお便りをいただきました。", "ja"
    ) == ("「毎週楽しみにしています」というお便りをいただきました")


def test_code_blocks_and_tables_get_their_own_slides_and_are_not_read_out(write_issue):
    text = (
        "---\ntitle: Guide\n---\n\n## Setup\n\nInstall it first.\n\n```sh\nmake demo\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    episode, _ = script(write_issue, text, "verbatim")
    layouts = [s.layout for s in episode.sections[1].slides]
    assert layouts == ["bullets", "code", "table"]
    assert all("make demo" not in n.text for n in episode.sections[1].narration)


def test_a_long_list_code_block_and_table_continue_on_slides_within_the_limits(write_issue):
    from mediagen.episode import check_limits
    from mediagen.limits import Limits

    items = "".join(f"- Item number {n} of a long list.\n" for n in range(2_000))
    code = "\n".join(f"line_{n} = {n}" for n in range(1_000))
    rows = "".join(f"| a{n} | b{n} |\n" for n in range(700))
    text = f"# Long\n\n## Parts\n\n{items}\n```python\n{code}\n```\n\n| a | b |\n| - | - |\n{rows}"
    episode, _ = write_script(parse_issue(write_issue(text)), "en", "verbatim")
    slides = [slide for section in episode.sections for slide in section.slides]
    check_limits(episode, Limits(), lambda loc: "issue.md")  # raises over a limit
    assert sum(len(s.bullets) for s in slides) == 2_000
    assert "\n".join(s.code for s in slides if s.code) == code
    assert sum(len(s.table) - 1 for s in slides if s.table) == 700
    assert all(s.continued for s in slides if s.code and not s.code.startswith("line_0 "))
