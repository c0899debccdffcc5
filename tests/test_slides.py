import io
import itertools
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from fontTools.ttLib import TTFont
from PIL import Image as PILImage

from mediagen.episode import Slide
from mediagen.errors import InputError
from mediagen.pages import BASE_CHARS, rasterize, subset_fonts
from mediagen.stages.slides import ASPECTS, deck_text, render_deck, themes
from mediagen.templating import Templates, search_path

SHIPPED = search_path(None)


def render(
    slides: list[Slide],
    tmp_path: Path,
    templates: Templates | None = None,
    aspect: str = "16:9",
    folder: Path | None = None,
    lang: str = "en",
):
    templates = templates or Templates(SHIPPED, autoescape=True)
    fonts = {}
    for weight, data in subset_fonts(deck_text(slides, "Deck", templates) + BASE_CHARS).items():
        fonts[weight] = tmp_path / f"deck-{weight}.otf"
        fonts[weight].write_bytes(data)
    return render_deck(
        slides, templates=templates, issue_folder=folder, lang=lang, title="Deck", aspect=aspect, fonts=fonts
    )


def pictures(pdf: bytes, size: tuple[int, int]) -> list[PILImage.Image]:
    return [PILImage.open(io.BytesIO(png)) for png in rasterize(pdf, size)]


def page_count(pdf: bytes) -> int:
    return len(pypdfium2.PdfDocument(pdf))


def test_each_slide_is_one_page_and_frames_have_the_aspect_size(tmp_path):
    slides = [
        Slide(layout="title", title="Hello", subtitle="World"),
        Slide(title="A", bullets=["one", "two"]),
    ]
    for aspect, size in ASPECTS.items():
        deck = render(slides, tmp_path, aspect=aspect)
        assert page_count(deck.pdf) == 2
        frames = pictures(deck.pdf, size)
        assert [f.size for f in frames] == [size, size]


def test_content_that_overflows_continues_on_further_slides(tmp_path):
    long = Slide(
        title="Many", bullets=[f"Bullet number {n} with a few more words to wrap" for n in range(24)]
    )
    code = Slide(layout="code", title="Code", code="\n".join(f"line {n} = {n * n}" for n in range(80)))
    deck = render([long, code], tmp_path)
    assert len(deck.slides) > 2
    assert page_count(deck.pdf) == len(deck.slides)
    assert [s.continued for s in deck.slides].count(False) == 2
    assert sum(len(s.bullets) for s in deck.slides) == 24
    assert "\n".join(s.code for s in deck.slides if s.code).count("line ") == 80
    assert deck.origins[0] == 0 and deck.origins[-1] == 1


def test_an_unsplittable_giant_word_is_clipped_to_one_page_with_a_warning(tmp_path):
    deck = render([Slide(title="x" * 5000)], tmp_path)
    assert page_count(deck.pdf) == 1
    assert any("does not fit" in note for note in deck.notes[0])


def test_japanese_text_renders_with_glyphs_from_the_bundled_font(tmp_path):
    text = "図書館の新サービス：貸出期間は2週間です。「電子書籍」"
    deck = render([Slide(title=text, bullets=["一度に借りられるのは5冊までです"])], tmp_path, lang="ja")
    assert page_count(deck.pdf) == 1
    for weight in ("regular", "bold"):
        cmap = TTFont(tmp_path / f"deck-{weight}.otf").getBestCmap()
        missing = [ch for ch in text + "一度に借りられるのは冊までです" if ord(ch) not in cmap]
        assert not missing
    frame = pictures(deck.pdf, (1920, 1080))[0]
    ink = frame.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
    assert ink is not None


def test_images_inside_the_issue_folder_are_shown_and_others_refused(tmp_path):
    folder = tmp_path / "issue"
    folder.mkdir()
    PILImage.new("RGB", (400, 300), (200, 20, 20)).save(folder / "red.png")
    deck = render(
        [Slide(title="Pic", image="red.png"), Slide(title="Bad", image="../../etc/passwd")],
        tmp_path,
        folder=folder,
    )
    assert deck.notes[0] == [] and any("../../etc/passwd" in note for note in deck.notes[1])
    frames = pictures(deck.pdf, (1920, 1080))
    reds = []
    for frame in frames:
        rgb = np.asarray(frame.convert("RGB")).astype(int)
        reds.append(int(((rgb[..., 0] > 180) & (rgb[..., 1] < 60)).sum()))
    assert reds[0] > 50_000 and reds[1] == 0


def test_a_template_cannot_fetch_files_outside_the_allowed_folders(tmp_path):
    custom = tmp_path / "custom"
    (custom / "slides" / "default").mkdir(parents=True)
    (custom / "slides" / "default" / "style.css").write_text(
        "body { background: url('file:///etc/hosts'); }\n"
        ".slide::after { content: url('http://example.org/x.png'); }\n"
    )
    deck = render([Slide(title="A")], tmp_path, templates=Templates(search_path(custom), autoescape=True))
    refused = " ".join(deck.warnings)
    assert "file:///etc/hosts" in refused and "http://example.org/x.png" in refused


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% include '../../../../etc/passwd' %}",
        "{% include '/etc/passwd' %}",
    ],
)
def test_sandboxed_templates_refuse_escapes_with_a_template_error(tmp_path, body):
    custom = tmp_path / "custom"
    (custom / "slides" / "default").mkdir(parents=True)
    (custom / "slides" / "default" / "deck.html.j2").write_text(body)
    with pytest.raises(InputError, match="template"):
        render([Slide(title="A")], tmp_path, templates=Templates(search_path(custom), autoescape=True))


def _issue_deck(issue: Path, aspect: str, tmp_path: Path, theme: str | None = None) -> bytes:
    """The deck of a real issue as `mediagen build` renders it (the author's key sentences: no model)."""
    from mediagen import pages
    from mediagen.producing import render_episode_slides
    from mediagen.scripting import episode_for, open_issue
    from mediagen.session import BuildOptions, Engines

    out = tmp_path / f"{aspect.replace(':', 'x')}-{theme}"
    options = BuildOptions(out=out, aspect=aspect, qa=False, llm="none", theme=theme)
    doc, lang, run = open_issue(issue, options, None)
    episode, _, _ = episode_for(doc, lang, options, run, Engines(), options.out)
    deck = render_episode_slides(episode, doc.folder, Templates(SHIPPED), options, run)
    cut = [w for w in deck.warnings if "does not fit one page" in w]
    assert not cut, f"{theme} {aspect}: {cut}"  # no slide's text overflows (cut off to fit its page)
    return pages.merge_pdfs(deck.pdfs)


THEMES = themes(Templates(SHIPPED))


def test_three_themes_ship_each_a_folder_of_the_templates():
    assert len(THEMES) >= 3 and "default" in THEMES, THEMES
    for theme in THEMES:
        assert (SHIPPED[0] / "slides" / theme / "style.css").is_file()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("name", ["issue-en.md", "issue-ja.md", "ja-jser-13th.md", "twir-2026-04-15.md"])
def test_every_slide_keeps_its_text_in_the_safe_area_and_large_enough(name, theme, tmp_path):
    """Each theme at each aspect: no text outside the centred 90 %, none under 40 px at 1080 p, and no
    slide whose overflow had to be cut (every slide fits its page whole). TWIR brings a quote."""
    from mediagen.layout import check_layout

    from .conftest import SAMPLES, corpus_file

    issue = SAMPLES / name if (SAMPLES / name).is_file() else corpus_file(name)
    for aspect, size in ASPECTS.items():
        problems = check_layout(_issue_deck(issue, aspect, tmp_path, theme), size)
        assert not problems, f"{aspect}: " + "; ".join(map(str, problems[:5]))


def test_the_layout_check_finds_text_off_the_safe_area_and_text_too_small(tmp_path):
    from mediagen.layout import check_layout

    theme = tmp_path / "theme" / "slides" / "default"
    theme.mkdir(parents=True)
    style = (SHIPPED[0] / "slides" / "default" / "style.css").read_text(encoding="utf-8")
    (theme / "style.css").write_text(
        style + "h2 { margin-left: -100px; }\n.bullets { font-size: 30px !important; }\n", encoding="utf-8"
    )
    slides = [Slide(title="Right at the edge", bullets=["Small print nobody reads from the sofa"])]
    deck = render(slides, tmp_path, Templates(search_path(tmp_path / "theme"), autoescape=True))
    problems = check_layout(deck.pdf, ASPECTS["16:9"])
    assert {p.what for p in problems} == {"outside the safe area", "set in 30 px"}
    off = [p.text for p in problems if p.what == "outside the safe area"]
    assert off and all("Right at the edge".startswith(text) for text in off)  # the title's first letters
    assert any("Small print" in p.text for p in problems if p.what == "set in 30 px")
    assert check_layout(render(slides, tmp_path).pdf, ASPECTS["16:9"]) == []


def test_a_build_warns_of_text_its_theme_puts_off_the_safe_area(tmp_path, write_issue, fake_engines):
    from mediagen import pipeline

    theme = tmp_path / "theme" / "slides" / "default"
    theme.mkdir(parents=True)
    style = (SHIPPED[0] / "slides" / "default" / "style.css").read_text(encoding="utf-8")
    (theme / "style.css").write_text(style + "h2 { margin-left: -100px; }\n", encoding="utf-8")
    issue = write_issue(
        "# Field notes\n\nAn opening line.\n\n## Soil sensors\n\nThe sensor reads the soil.\n"
    )
    options = pipeline.BuildOptions(out=tmp_path / "out", templates=tmp_path / "theme", cache=tmp_path / "c")
    report = pipeline.build(issue, options, engines=fake_engines[0]).report
    assert any("'Soil sensors'" in w and "outside the safe area" in w for w in report.warnings)
    options.templates = None
    assert not any(
        "safe area" in w for w in pipeline.build(issue, options, engines=fake_engines[0]).report.warnings
    )


def _line_breaks(pdf: bytes) -> list[tuple[str, str]]:
    """Per line break of every page: the line before it and the first character after it, as the
    PDF's own text has them."""
    found = []
    for page in pypdfium2.PdfDocument(pdf):
        lines = page.get_textpage().get_text_range().split("\r\n")
        found += [(before, after[0]) for before, after in itertools.pairwise(lines) if before and after]
    return found


@pytest.mark.parametrize("name", ["issue-ja.md", "ja-jser-13th.md"])
def test_japanese_slide_lines_break_between_phrases_never_inside_a_word(name, tmp_path):
    from mediagen.text import NO_LINE_END, NO_LINE_START, japanese_phrases

    from .conftest import SAMPLES, corpus_file

    issue = SAMPLES / name if (SAMPLES / name).is_file() else corpus_file(name)
    katakana = lambda ch: "\u30a0" <= ch <= "\u30ff"  # noqa: E731
    breaks = 0
    for aspect in ASPECTS:
        for before, after in _line_breaks(_issue_deck(issue, aspect, tmp_path)):
            last = before[-1]
            if not ("\u3040" <= last <= "\u9fff" or "\u3040" <= after <= "\u9fff"):
                continue  # a break in English text, at a space
            breaks += 1
            assert after not in NO_LINE_START and last not in NO_LINE_END, (aspect, before, after)
            if katakana(last) and katakana(after):  # only in a phrase longer than a line, begun on it
                assert japanese_phrases(before) == [before], (aspect, before, after)
    assert breaks > 10


def test_type_is_set_larger_on_a_roomy_slide_and_smaller_on_a_full_one(tmp_path):
    from collections import Counter

    from mediagen.layout import glyphs

    few = Slide(title="Short", bullets=["Thank you for reading", "See you next week"])
    full = Slide(
        title="Long",
        bullets=[f"A bullet of a full slide, point {n}, with a few more words here" for n in range(7)],
    )
    deck = render([few, full], tmp_path)
    document = pypdfium2.PdfDocument(deck.pdf)
    sizes = [  # the size most of a page's letters are set in: its bullets'
        Counter(round(g.px) for g in glyphs(document[n], ASPECTS["16:9"])).most_common(1)[0][0]
        for n in range(len(document))
    ]
    assert [s.continued for s in deck.slides] == [False, False]  # the full one still fits one page
    assert sizes[0] == 64 and 40 <= sizes[1] < 48


def _layout_episode(tmp_path: Path, theme: str | None = None, aspect: str = "16:9"):
    from mediagen.producing import render_episode_slides
    from mediagen.scripting import episode_for, open_issue
    from mediagen.session import BuildOptions, Engines

    from .conftest import SAMPLES

    folder = tmp_path / "issue"
    folder.mkdir(exist_ok=True)
    for name in ("layouts.md", "soil-moisture.png"):  # samples/layouts.md: a section for each layout
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    issue = folder / "layouts.md"
    out = tmp_path / f"out-{theme}-{aspect.replace(':', 'x')}"
    options = BuildOptions(out=out, aspect=aspect, qa=False, llm="none", theme=theme)
    doc, lang, run = open_issue(issue, options, None)
    episode, _, _ = episode_for(doc, lang, options, run, Engines(), out)
    return episode, render_episode_slides(episode, doc.folder, Templates(SHIPPED), options, run)


def test_layouts_are_chosen_by_what_a_section_shows_and_fit_every_theme_and_aspect(tmp_path):
    from mediagen import pages
    from mediagen.layout import check_layout

    episode, _ = _layout_episode(tmp_path)
    by_section = {s.id: s.slides for s in episode.sections}
    quote = [s for s in by_section["a-word-from-a-reader"] if s.layout == "quote"]
    assert [(s.quote, s.caption) for s in quote] == [
        ("The sensor told me to water the tomatoes before I could see them wilt.", "Ana, a reader in Porto")
    ]
    (probe,) = by_section["a-small-probe"]
    assert (probe.layout, probe.number, probe.caption) == (
        "number",
        "40 milliseconds",
        "A reading takes about 40 milliseconds",
    )
    assert probe.bullets == ["The probe sleeps in between"]
    (chart,) = by_section["the-chart"]
    assert (chart.layout, chart.image, chart.caption) == (
        "image",
        "soil-moisture.png",
        "Soil moisture over one week",
    )
    # A quoted line that is mostly a link to a file is not a quote worth a slide.
    assert all(s.layout != "quote" for s in by_section["a-file-to-download"])
    for theme in THEMES:
        for aspect, size in ASPECTS.items():
            _, deck = _layout_episode(tmp_path, theme, aspect)
            assert not [w for w in deck.warnings if "does not fit" in w], (theme, aspect, deck.warnings)
            problems = check_layout(pages.merge_pdfs(deck.pdfs), size)
            assert not problems, (theme, aspect, problems[:3])
            assert len(deck.frames) == sum(len(s.slides) for s in episode.sections)  # one page each


def _accent_pixels(frame: Path, colour: tuple[int, int, int]) -> int:
    picture = np.asarray(PILImage.open(frame).convert("RGB")).astype(int)
    return int((np.abs(picture - np.array(colour)).sum(axis=2) < 30).sum())


def test_a_theme_an_accent_a_logo_and_a_font_from_mediagen_toml_or_the_command_line(tmp_path, monkeypatch):
    import subprocess
    import sys

    from mediagen import pages

    from .media_checks import fonts_by_character

    folder = tmp_path / "issue"
    episode, plain = _layout_episode(tmp_path, "studio")
    # The studio theme's own accent colours its title bands.
    assert _accent_pixels(plain.frames[1], (0xC2, 0x25, 0x5C)) > 50_000
    (folder / "brand.otf").write_bytes(pages.font_files()["regular"].read_bytes())
    (folder / "mediagen.toml").write_text(
        '[slides]\ntheme = "studio"\naccent = "#1f7a3a"\nlogo = "soil-moisture.png"\nfont = "brand.otf"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(folder)
    _, touched = _layout_episode(tmp_path)  # the theme from [slides], not --theme
    title_slide = 1  # the first content slide: its title on the accent's band
    assert _accent_pixels(touched.frames[title_slide], (0x1F, 0x7A, 0x3A)) > 50_000
    assert _accent_pixels(touched.frames[title_slide], (0xC2, 0x25, 0x5C)) == 0
    # The logo: the chart's picture, top right, where the plain slide has the band's colour only.
    corner = np.asarray(PILImage.open(touched.frames[title_slide]).convert("RGB"))[60:150, 1500:1810]
    assert (corner.sum(axis=2) > 700).mean() > 0.3  # mostly the logo's white background
    # The author's font draws the titles (the theme's own are in the bold face).
    pdf = tmp_path / "touched.pdf"
    pdf.write_bytes(touched.pdfs[title_slide])
    heading = episode.sections[1].slides[0].title[0]
    plain_pdf = tmp_path / "plain.pdf"
    plain_pdf.write_bytes(plain.pdfs[title_slide])
    assert fonts_by_character(pdf)[heading] != fonts_by_character(plain_pdf)[heading]
    # A theme that is not there, a bad accent: one clear line each, before anything is made.
    for args, toml, message in (
        (["--theme", "nosuch"], "", "no such theme (themes: default, midnight, studio)"),
        (["--theme", "../default"], "", "no such theme"),
        ([], '[slides]\naccent = "red; background: url(http://x)"\n', "accent"),
    ):
        (folder / "mediagen.toml").write_text(toml, encoding="utf-8")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mediagen",
                "script",
                "layouts.md",
                "-q",
                "--out",
                str(tmp_path / "o"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_theme_logo_or_font_outside_the_issue_folder_is_refused_with_a_warning(tmp_path, monkeypatch):
    from .conftest import SAMPLES

    secret = tmp_path / "secret.png"
    secret.write_bytes((SAMPLES / "soil-moisture.png").read_bytes())
    folder = tmp_path / "issue"
    folder.mkdir()
    (folder / "mediagen.toml").write_text(
        f'[slides]\nlogo = "../secret.png"\nfont = "{pages_font()}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(folder)
    _, deck = _layout_episode(tmp_path)
    refused = [w for w in deck.warnings if "refused" in w]
    assert any("logo refused" in w for w in refused) and any("font refused" in w for w in refused), (
        deck.warnings
    )
    (folder / "mediagen.toml").unlink()
    _, plain = _layout_episode(tmp_path, "default")
    frame = np.asarray(PILImage.open(deck.frames[1]).convert("RGB"))
    assert np.array_equal(frame, np.asarray(PILImage.open(plain.frames[1]).convert("RGB")))  # nothing drawn


def pages_font() -> str:
    """A font file that exists, outside any issue's folder (the bundled one)."""
    from mediagen.pages import font_files

    return str(font_files()["regular"])


def test_a_slide_with_room_to_spare_has_its_content_in_the_middle_of_the_space_under_its_title(tmp_path):
    slides = [Slide(title="Until next time", bullets=["Thank you for reading", "Write back"])]
    height = ASPECTS["16:9"][1]
    title_bottom, body = _title_and_body(_first_page_glyphs(render(slides, tmp_path).pdf))
    top, bottom = min(g.box[1] for g in body), max(g.box[3] for g in body)
    page_bottom = height - 100  # the page's bottom margin
    middle = (title_bottom + page_bottom) / 2
    assert abs((top + bottom) / 2 - middle) < 0.12 * (page_bottom - title_bottom), (top, bottom, middle)
    assert top - title_bottom > 300  # moved down: the theme's own gap is about 160 px
    # A full slide is not moved: its bullets start right under the title.
    full = [
        Slide(title="Full", bullets=[f"Bullet number {n} says a fair amount of text here" for n in range(8)])
    ]
    title_bottom, body = _title_and_body(_first_page_glyphs(render(full, tmp_path).pdf))
    assert min(g.box[1] for g in body) - title_bottom < 200  # the theme's own gap, about 160 px


def _first_page_glyphs(pdf_bytes: bytes):
    import pypdfium2

    from mediagen.layout import glyphs

    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return glyphs(pdf[0], ASPECTS["16:9"])
    finally:
        pdf.close()


def _title_and_body(found):
    """The bottom of a slide's title (its first line of text) and the glyphs under it."""
    first = min(g.box[1] for g in found if g.char.strip())
    title = [g for g in found if g.char.strip() and g.box[1] < first + 30]
    bottom = max(g.box[3] for g in title)
    return bottom, [g for g in found if g.char.strip() and g.box[1] > bottom]


def test_a_figure_is_a_number_with_its_unit_never_a_year():
    from mediagen.writing.slides import _figure

    assert _figure(["A reading takes about 40 milliseconds", "It sleeps"]) == (
        "40 milliseconds",
        "A reading takes about 40 milliseconds",
    )
    assert _figure(["2024年にリリースされました", "速度が2倍になりました"]) == (
        "2倍",
        "速度が2倍になりました",
    )
    assert _figure(["利用者は3万人を超えました"]) == ("3万人", "利用者は3万人を超えました")
    assert _figure(["2024年にリリースされました"]) is None  # a date
    assert _figure(["Version v2 ships", "It runs on Linux"]) is None  # no unit
    assert _figure(["a", "b", "It grew 38 %"]) is None  # three bullets: a slide of bullets
