from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from mediagen.document import Code, Html, Image, ListBlock, Paragraph, Subheading, Table
from mediagen.errors import InputError
from mediagen.stages.parse import parse_issue

from .conftest import corpus_file


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, "orange").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "title", "extra_key", "extra_value"),
    [
        ('---\ntitle: "YAML title"\nlang: en\n---\n', "YAML title", "lang", "en"),
        ('+++\ntitle = "TOML title"\n[extra]\nteam = "core"\n+++\n', "TOML title", "extra", {"team": "core"}),
        ("Title: Pelican title\nDate: 2026-04-15\n\n", "Pelican title", "date", "2026-04-15"),
    ],
)
def test_front_matter_in_yaml_toml_and_pelican_form_gives_title_and_metadata(
    write_issue, header, title, extra_key, extra_value
):
    doc = parse_issue(write_issue(header + "Some intro text.\n\n## First\n\nBody.\n"))
    assert doc.title == title
    assert doc.meta[extra_key] == extra_value
    assert [s.id for s in doc.sections] == ["intro", "first"]


def test_text_that_only_looks_like_a_pelican_header_stays_content(write_issue):
    doc = parse_issue(write_issue("Note: this is the first paragraph.\n\nMore text.\n"))
    assert doc.meta == {}
    assert doc.sections[0].blocks[0] == Paragraph("Note: this is the first paragraph.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: never closed\n\nBody\n", "never closed"),
        ("---\n- a\n- list\n---\nBody\n", "must be a mapping"),
        ("---\ntitle: [unbalanced\n---\nBody\n", "not valid YAML"),
        ("+++\ntitle = \n+++\nBody\n", "not valid TOML"),
    ],
)
def test_broken_front_matter_is_reported_as_bad_input(write_issue, text, message):
    with pytest.raises(InputError, match=message) as error:
        parse_issue(write_issue(text))
    assert error.value.exit_code == 2


def test_a_single_leading_h1_is_the_title_and_h2_headings_start_sections(write_issue):
    doc = parse_issue(
        write_issue("# The Title\n\nIntro.\n\n## One\n\nA.\n\n### Deeper\n\nB.\n\n## Two\n\nC.\n")
    )
    assert doc.title == "The Title"
    assert [(s.id, s.title) for s in doc.sections] == [("intro", ""), ("one", "One"), ("two", "Two")]
    assert Subheading("Deeper", 3) in doc.sections[1].blocks


def test_a_lone_h1_in_the_middle_still_starts_a_section_beside_the_h2s(write_issue):
    doc = parse_issue(write_issue("Title: T\n\nIntro.\n\n## A\n\nx\n\n## B\n\ny\n\n# Quote\n\nz\n"))
    assert [s.id for s in doc.sections] == ["intro", "a", "b", "quote"]


def test_section_ids_are_stable_slugs_and_repeats_get_a_counter(write_issue):
    doc = parse_issue(write_issue("## News!\n\na\n\n## News!\n\nb\n\n## 図書館の新サービス\n\nc\n"))
    assert [s.id for s in doc.sections] == ["news", "news-2", "図書館の新サービス"]


def test_editing_one_section_changes_only_that_sections_hash(write_issue):
    before = parse_issue(write_issue("## A\n\nalpha\n\n## B\n\nbeta\n"))
    after = parse_issue(write_issue("## A\n\nalpha, edited\n\n## B\n\nbeta\n"))
    assert [s.id for s in before.sections] == [s.id for s in after.sections]
    assert before.sections[0].source_hash != after.sections[0].source_hash
    assert before.sections[1].source_hash == after.sections[1].source_hash


def test_comments_and_template_tags_are_dropped_and_link_text_is_kept(write_issue):
    text = (
        "<!-- editors: do not read this -->\n\n"
        "{% include 'header.html' %}\n\n"
        "Read [the guide](https://example.org/guide) today. {{ shortcode() }}\n"
    )
    section = parse_issue(write_issue(text)).sections[0]
    assert section.blocks == [Paragraph("Read the guide today.")]
    assert [(link.text, link.url) for link in section.links] == [("the guide", "https://example.org/guide")]


def test_emphasis_markdown_leaves_open_next_to_japanese_is_not_kept_as_asterisks(write_issue):
    # CommonMark does not close "**" between ")" and "に": the markers would be read and shown.
    text = "企業の方は、**[スポンサー](https://example.org/s)**になるとロゴを表示できます。`a**b**c`も。\n\n**太字**です。\n"
    section = parse_issue(write_issue(text)).sections[0]
    assert section.blocks == [
        Paragraph("企業の方は、**スポンサー**になるとロゴを表示できます。a**b**cも。"),  # code keeps its own
        Paragraph("太字です。"),
    ]
    section = parse_issue(write_issue(text.replace("`a**b**c`も。", ""))).sections[0]
    assert section.blocks[0] == Paragraph("企業の方は、スポンサーになるとロゴを表示できます。")


def test_code_tables_lists_and_html_keep_their_kind(write_issue):
    text = (
        "## S\n\n```toml\n[x]\ny = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "- one\n  - nested\n- two\n\n<div><script>alert(1)</script>Shown</div>\n"
    )
    blocks = parse_issue(write_issue(text)).sections[0].blocks
    assert Code("[x]\ny = 1", "toml") in blocks
    assert Table(("a", "b"), (("1", "2"),)) in blocks
    lists = [b for b in blocks if isinstance(b, ListBlock)]
    assert lists[0].items[0].text == "one" and lists[0].items[0].children[0].text == "nested"
    assert Html("Shown") in blocks


def test_local_images_are_kept_and_everything_outside_the_folder_is_refused(write_issue, tmp_path):
    (tmp_path / "secret.png").write_bytes(png_bytes())
    text = (
        "![ok](chart.png)\n\n![up](../secret.png)\n\n![abs](/etc/hosts)\n\n![web](http://example.org/a.png)\n\n"
        "![file](file:///etc/passwd)\n\n![gone](missing.png)\n\n![fake](fake.png)\n"
    )
    doc = parse_issue(write_issue(text, **{"chart.png": png_bytes(), "fake.png": b"not an image"}))
    images = [b for b in doc.sections[0].blocks if isinstance(b, Image)]
    assert [image.path.name for image in images] == ["chart.png"]
    refused = " ".join(doc.warnings)
    for reference in (
        "../secret.png",
        "/etc/hosts",
        "http://example.org/a.png",
        "file:///etc/passwd",
        "missing.png",
        "fake.png",
    ):
        assert reference in refused


def test_a_symlink_pointing_out_of_the_issue_folder_is_refused(write_issue, tmp_path):
    (tmp_path / "outside.png").write_bytes(png_bytes())
    path = write_issue("![x](link.png)\n")
    (path.parent / "link.png").symlink_to(tmp_path / "outside.png")
    doc = parse_issue(path)
    assert not any(isinstance(b, Image) for s in doc.sections for b in s.blocks)
    assert "link.png" in " ".join(doc.warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\xff\xfe\xfa invalid", "not UTF-8"), (b"abc\x00def", "binary")],
)
def test_unreadable_bytes_are_bad_input(tmp_path, data, message):
    path = tmp_path / "bad.md"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        parse_issue(path)


def test_utf16_with_a_bom_is_read(tmp_path):
    path = tmp_path / "wide.md"
    path.write_bytes("# Hello\n\nWorld.\n\n## Part\n\nMore.\n".encode("utf-16"))
    doc = parse_issue(path)
    assert doc.title == "Hello"
    assert [s.title for s in doc.sections] == ["", "Part"]


def test_toml_front_matter_of_the_rust_blog_post_gives_its_title():
    doc = parse_issue(corpus_file("rust-lld-on-stable/index.md"))
    assert doc.title == "Faster linking times with 1.90.0 stable on Linux using the LLD linker"
    assert [s.id for s in doc.sections][:3] == ["intro", "some-context", "benefits"]
    assert any(isinstance(b, Image) for s in doc.sections for b in s.blocks)


def test_pelican_header_of_this_week_in_rust_gives_its_title_and_sections():
    doc = parse_issue(corpus_file("twir-2026-04-15.md"))
    assert doc.title == "This Week in Rust 647"
    ids = [s.id for s in doc.sections]
    assert "quote-of-the-week" in ids and "upcoming-events" in ids
    texts = " ".join(getattr(b, "text", "") for s in doc.sections for b in s.blocks)
    assert "Dear community contributors" not in texts  # an HTML comment
    assert "https://" not in texts
