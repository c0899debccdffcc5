"""`make gallery`: docs/themes.png, every slide of both samples and of samples/layouts.md (a section
for each layout) at each aspect, as the build renders them with each theme under templates/slides/
(the author's key sentences: no model, no voice)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "themes.png"
ROW_HEIGHT = 150  # pixels of a slide's picture in the sheet (a 16:9 slide is 356 wide)
GAP = 12


def deck_pictures(issue: Path, aspect: str, work: Path, theme: str) -> list[Image.Image]:
    from mediagen.producing import render_episode_slides
    from mediagen.scripting import episode_for, open_issue
    from mediagen.session import BuildOptions, Engines
    from mediagen.templating import Templates, search_path

    out = work / f"{issue.stem}-{aspect.replace(':', 'x')}-{theme}"
    options = BuildOptions(out=out, aspect=aspect, qa=False, llm="none", cache=work / "cache", theme=theme)
    doc, lang, run = open_issue(issue, options, None)
    episode, _, _ = episode_for(doc, lang, options, run, Engines(), out)
    deck = render_episode_slides(episode, doc.folder, Templates(search_path(None)), options, run)
    pictures = []
    for frame in deck.frames:
        with Image.open(frame) as picture:
            width = round(picture.width * ROW_HEIGHT / picture.height)
            pictures.append(picture.convert("RGB").resize((width, ROW_HEIGHT), Image.LANCZOS))
    return pictures


def main() -> None:
    from mediagen.pages import font_files
    from mediagen.stages.slides import ASPECTS
    from mediagen.stages.slides import themes as theme_names
    from mediagen.templating import Templates, search_path

    themes = theme_names(Templates(search_path(None)))
    rows: list[tuple[str, list[Image.Image]]] = []
    with tempfile.TemporaryDirectory(prefix="mediagen-gallery-") as folder:
        for theme in themes:
            for sample in ("issue-en.md", "issue-ja.md", "layouts.md"):
                for aspect in ASPECTS:
                    label = f"{theme} · {sample} · {aspect}"
                    rows.append(
                        (label, deck_pictures(ROOT / "samples" / sample, aspect, Path(folder), theme))
                    )
                    print(label, len(rows[-1][1]), "slides", flush=True)
    font = ImageFont.truetype(str(font_files()["bold"]), 22)
    width = max(sum(p.width + GAP for p in pictures) for _, pictures in rows) + GAP
    height = sum(ROW_HEIGHT + 40 + GAP for _ in rows) + GAP
    sheet = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(sheet)
    y = GAP
    for label, pictures in rows:
        draw.text((GAP, y), label, fill="#1d2433", font=font)
        x = GAP
        for picture in pictures:
            sheet.paste(picture, (x, y + 34))
            draw.rectangle((x, y + 34, x + picture.width - 1, y + 33 + ROW_HEIGHT), outline="#c9c4b8")
            x += picture.width + GAP
        y += ROW_HEIGHT + 40 + GAP
    OUT.parent.mkdir(exist_ok=True)
    sheet.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({width}x{height})", file=sys.stderr)


if __name__ == "__main__":
    main()
