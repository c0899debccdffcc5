"""Pages made with WeasyPrint, for the slides and the thumbnail: the fonts they may use, a URL fetcher
that reaches only allowed folders, and PDF helpers (split, merge, rasterize with pypdfium2)."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from mediagen.confine import is_inside

CSS_PX_PER_PT = 96 / 72


def font_files() -> dict[str, Path]:
    import noto_cjk_sans_jp_bold
    import noto_cjk_sans_jp_regular

    return {
        "regular": Path(str(noto_cjk_sans_jp_regular.FONT_PATH)),
        "bold": Path(str(noto_cjk_sans_jp_bold.FONT_PATH)),
    }


# Always in the deck fonts, whatever the slides say: printable ASCII, Latin-1, common punctuation, kana.
BASE_CHARS = "".join(
    chr(c)
    for c in [
        *range(0x20, 0x7F),
        *range(0xA0, 0x180),
        *range(0x2010, 0x2070),
        *range(0x3000, 0x3100),
        *range(0xFF01, 0xFF66),
    ]
)


def font_identity() -> str:
    """The deck fonts' packages and versions (part of every slide's cache key)."""
    from importlib.metadata import version

    return ",".join(
        f"{name}={version(name)}" for name in ("noto-cjk-sans-jp-regular", "noto-cjk-sans-jp-bold")
    )


# What a subset keeps besides the features HarfBuzz applies itself: the Japanese spacing and figure
# ones a theme may ask for. ("*" would keep alternates of every glyph: a closure twice the size.)
LAYOUT_FEATURES = ["palt", "halt", "pkna", "frac", "numr", "dnom", "case", "tnum", "pnum", "lnum", "onum"]


def subset_fonts(charset: str) -> dict[str, bytes]:
    """The Noto Sans CJK JP fonts (OpenType data) cut down to the characters in `charset`.

    WeasyPrint would subset the full 16 MB fonts itself with fontTools, which takes seconds per weight;
    HarfBuzz's subsetter (uharfbuzz) cuts them to a deck's few hundred glyphs in 0.03 s a weight, and
    WeasyPrint's own pass over so small a font is then instant.
    """
    return {weight: _subset(source, charset) for weight, source in font_files().items()}


def _subset(source: Path, charset: str) -> bytes:
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(str(source)))
    wanted = hb.SubsetInput()
    wanted.unicode_set.update(ord(char) for char in charset)
    # HarfBuzz keeps the features it applies itself; add the Japanese spacing and figure ones.
    wanted.layout_feature_tag_set.update(int.from_bytes(tag.encode(), "big") for tag in LAYOUT_FEATURES)
    return hb.subset(face, wanted).blob.data


def confined_fetcher(roots: list[Path], refused: list[str]):
    """A WeasyPrint URL fetcher that serves files from `roots` only: no network, nothing elsewhere."""
    from weasyprint.urls import URLFetcher

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url: str, headers: dict | None = None):
            parts = urlsplit(url)
            allowed = parts.scheme == "data" or (
                parts.scheme == "file" and is_inside(Path(url2pathname(parts.path)), roots)
            )
            if not allowed:
                refused.append(url)
                raise ValueError(f"refused to fetch {url}")
            return super().fetch(url, headers)

    return ConfinedFetcher(allowed_protocols=("file", "data"))


def split_pdf(pdf: bytes, counts: list[int]) -> list[bytes]:
    """Cut a PDF into consecutive documents of `counts` pages each."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(pdf)
    parts, first = [], 0
    for count in counts:
        part = pdfium.PdfDocument.new()
        part.import_pages(source, list(range(first, first + count)))
        parts.append(_pdf_bytes(part))
        first += count
    return parts


def merge_pdfs(parts: list[bytes]) -> bytes:
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    for part in parts:
        merged.import_pages(pdfium.PdfDocument(part))
    return _pdf_bytes(merged)


def _pdf_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rasterize(pdf: bytes, size: tuple[int, int]) -> list[bytes]:
    """PNG bytes of each PDF page at exactly `size` pixels (CSS px are 1/96 in, PDF points 1/72 in)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    pictures = []
    for number in range(len(document)):
        image = document[number].render(scale=CSS_PX_PER_PT).to_pil().convert("RGB")
        if image.size != size:
            image = image.resize(size)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        pictures.append(buffer.getvalue())
    return pictures
