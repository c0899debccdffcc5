"""The rules of a spoken line, for every mode and every model: what a listener must never hear.

A spoken line is one whole sentence of the issue's language: no URL, citation marker, issue or pull
request number, file path or code; no fragment (a line that stops at a comma, a particle, a colon or
an ellipsis, or is too short to say anything); Japanese punctuation in Japanese; no glue that breaks
grammar ("…しているです"). `problems` names what a line breaks (the checker, also used by tests and
`bench/script.py`); `speakable` repairs what can be repaired (a citation marker or a URL in
parentheses dropped, ASCII punctuation in Japanese made Japanese, the full stop of a list item) and
returns None for a line that still breaks a rule. `bullet_problems` does the same for slide bullets,
which are phrases, but whole ones.
"""

from __future__ import annotations

import re

from mediagen.text import CLOSERS, letter_script

# Japanese script: kana, kanji and full-width forms.
_JA = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef々〆"
_JA_CHAR = re.compile(f"[{_JA}]")
_KANA = re.compile(
    r"[\u3040-\u30ff]"
)  # a Japanese sentence has kana, an English title in Japanese text has none

URL = re.compile(
    r"(?:https?|ftp|file)://\S+|www\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|rs|jp|app|ai)/\S*"
    # a bare domain given as an address ("viewed at this-week-in-rust.org"); one used as a name
    # ("JSer.infoは…", "Node.js") is a name
    r"|\b(?:at|to|visit|via|from|see|on)\s+[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|rs|jp|app|ai|info)\b",
    re.I,
)
CITATION = re.compile(
    r"\[\^?[\w-]{1,8}\]"  # [3], [^1], [note]
    r"|[（(]\s*(?:資料|出典|参考|注|参照|文献|図|表|source|ref|note|fig)\.?\s*[\d０-９]*\s*[)）]"
    r"|※\s*[\d０-９]+|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\*{1,3}(?=\s|$)",
    re.I,
)
ISSUE_NUMBER = re.compile(r"#\d+\b|\b(?:PR|MR)\s*#?\d{2,}\b|\bpull request\s*#?\d+\b")
FILE_PATH = re.compile(
    r"(?<![\w/])(?:~|\.{1,2})?/[\w.-]+/[\w./-]*"  # /etc/hosts, ~/.cargo/config, ./x/y
    r"|\b[\w-]+(?:/[\w.-]+)+\.[a-z]\w{0,5}\b"  # src/main.rs
    r"|\b[A-Z]:\\\S*"  # C:\Users
    r"|(?<![\w.])\.?[\w-]+\.(?:toml|ya?ml|json|rs|py|md|txt|sh|lock|cfg|ini|conf|csv)\b",  # Cargo.toml
    re.I,
)
CODE = re.compile(
    r"`|::|->|=>|\b[A-Za-z_]\w*\(\)|\b[a-z_]+\.[a-z_]+\(|(?<![\w-])--?[a-z][\w-]*=|(?<![\w-])--[a-z][\w-]+"
    r"|[A-Za-z0-9_]\s?=\s?[\w\"'-]|[{}]|\$\s|\b[a-z]+(?:_[a-z0-9]+){2,}\b|&&|\|\|",
)
TABLE_CELLS = re.compile(r"\s\|\s|^\||\|$")
# Full stops and the like that end a sentence.
_TERMINAL = {"en": ".!?", "ja": "。！？!?"}
# A Japanese line ending in a particle before its full stop stopped halfway ("DeepSeekが証明したのは。").
_JA_PARTICLE_END = re.compile(
    r"(?:[はがをにへとでやも]|の[はが]?|から|まで|より|けど|ので|のに|ながら)[。！？]$"
)
# A plain verb form glued to です: "縮まっているです", "したです".
_JA_GLUE = re.compile(r"(?:ている|ていた|てる|する|した|れる|れた|せる|なる|できる|ある)です")
_ASCII_PUNCT_IN_JA = re.compile(f"(?<=[{_JA}])[,.!?:;]|[,.!?:;](?=[{_JA}])")
MIN_WORDS = {"en": 3, "ja": 6}  # words (English) or characters (Japanese) of a whole sentence


def problems(text: str, lang: str) -> list[str]:
    """Which rules a spoken line breaks (empty: none)."""
    found = []
    for name, pattern in (
        ("a URL", URL),
        ("a citation marker", CITATION),
        ("an issue or PR number", ISSUE_NUMBER),
        ("a file path", FILE_PATH),
        ("code", CODE),
        ("table cells", TABLE_CELLS),
    ):
        if pattern.search(text):
            found.append(name)
    found += _sentence_problems(text.strip(), lang)
    return found


def _sentence_problems(text: str, lang: str) -> list[str]:
    found = []
    core = text.rstrip(CLOSERS)
    if not core or core[-1] not in _TERMINAL[lang]:
        found.append("no full stop at the end")
    if re.search(r"[,、，:：;；]\s*[.!?。！？]?$", core) or re.search(r"(…|\.\.\.)[.!?。]?$", core):
        found.append("ends halfway")
    if lang == "ja":
        if text[:1] in "-–—•·、，。)）":
            found.append("starts halfway")
        if len([ch for ch in text if ch.isalnum()]) < MIN_WORDS["ja"]:
            found.append("too short to be a sentence")
        if _JA_PARTICLE_END.search(core):
            found.append("ends on a particle")
        if _JA_GLUE.search(text):
            found.append("glued grammar")
        if _ASCII_PUNCT_IN_JA.search(_without_numbers(text)):
            found.append("ASCII punctuation in Japanese")
        if not _KANA.search(text) or _latin_share(text) > 0.8:
            found.append("not Japanese")
    else:
        words = re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text)
        if len(words) < MIN_WORDS["en"]:
            found.append("too short to be a sentence")
        if text[:1].islower() or text[:1] in "-–—•·,;:)":
            found.append("starts halfway")
        if len(words) >= 4 and not any(w.isalpha() and w.islower() for w in words):
            found.append("a heading or label, not a sentence")  # "Next Deadline: Complete Docs, July 16th."
        if _JA_CHAR.search(text):
            found.append("not English")
    return found


def _without_numbers(text: str) -> str:
    """Decimal points, version numbers and names like Node.js are not punctuation."""
    return re.sub(r"\d[.,:]\d|[A-Za-z][.][A-Za-z]", "", text)


def _latin_share(text: str) -> float:
    """Of the letters outside 「」 (a quoted title may be in any language), the share that is Latin."""
    letters = [ch for ch in re.sub(r"「[^」]*」", "", text) if ch.isalpha()]
    return sum(letter_script(ch) == "LATIN" for ch in letters) / len(letters) if letters else 0.0


# --- repair --------------------------------------------------------------------------------------------

_PAREN_URL = re.compile(r"\s*[(（\[][^)）\]]*(?:https?://|www\.)[^)）\]]*[)）\]]")
_FULL_WIDTH = {",": "、", ".": "。", "!": "！", "?": "？", ":": "：", ";": "；"}


def speakable(text: str, lang: str, close: bool = False) -> str | None:
    """The line repaired where a repair keeps its meaning, or None if it still breaks a rule. `close`:
    the text is whole as written (a list item), so a missing full stop may be added."""
    text = _PAREN_URL.sub("", text)
    text = CITATION.sub("", text)
    text = re.sub(r"\s*[(（]\s*#\d+\s*[)）]", "", text)  # "(#1234)" after a name
    text = re.sub(r"\s+", " ", text).strip()
    text = _unwrapped(text)
    if lang == "ja":
        text = japanese_punctuation(text)
    if close:
        text = _closed(text, lang)
    return text if text and not problems(text, lang) else None


# A sentence wholly in parentheses, an aside ("(一部のサイトは除外しています。)"): said as a sentence.
_WRAPPED = re.compile(r"^[(（]([^()（）]+)[)）]([。.!?！？]?)$")
# ASCII brackets and double quotes around or beside Japanese: "(2013年に登場した)", "Foundation (CNCF)に",
# "\"Kubernetes the Hard Way\"ガイド".
_ASCII_PAREN = re.compile(r"\s*\(([^()]*)\)\s*")
_ASCII_QUOTE = re.compile(r'\s*"([^"]+)"\s*')


def _unwrapped(text: str) -> str:
    match = _WRAPPED.match(text)
    return match.group(1).strip() + match.group(2) if match else text


def japanese_punctuation(text: str) -> str:
    """ASCII , . ! ? : ; next to Japanese made Japanese (decimals and names like Node.js stay), and
    ASCII brackets and double quotes that touch Japanese made （） and 「」."""
    text = _ASCII_PAREN.sub(lambda m: _japanese_pair(m, "（", "）"), text)
    text = _ASCII_QUOTE.sub(lambda m: _japanese_pair(m, "「", "」"), text)
    protected = re.sub(r"\d[.,:]\d|[A-Za-z]\.[A-Za-z]", _protect, text)
    fixed = _ASCII_PUNCT_IN_JA.sub(lambda m: _FULL_WIDTH[m.group(0)], protected)
    fixed = re.sub(r"\s*([、。！？：；])\s*", r"\1", fixed)
    return fixed.replace("\0", ".").replace("\1", ",").replace("\2", ":")


def _japanese_pair(match: re.Match[str], opening: str, closing: str) -> str:
    """The bracketed text in Japanese brackets if it or what is beside it is Japanese, else as it was."""
    inner, whole = match.group(1), match.string
    before = whole[match.start() - 1] if match.start() > 0 else ""
    after = whole[match.end()] if match.end() < len(whole) else ""
    if not any(_JA_CHAR.match(ch) for ch in (inner[:1], inner[-1:], before, after) if ch):
        return match.group(0)
    return f"{opening}{inner.strip()}{closing}"


def _protect(match: re.Match[str]) -> str:
    return match.group(0).replace(".", "\0").replace(",", "\1").replace(":", "\2")


def _closed(text: str, lang: str) -> str:
    """A line that reads as a sentence but lacks its full stop gets one."""
    core = text.rstrip(CLOSERS)
    if core and core[-1] not in _TERMINAL[lang] and core[-1] not in ",、，:：;；…":
        return text + ("。" if lang == "ja" else ".")
    return text


MAX_BULLET = {"en": 14, "ja": 32}  # words (English) or characters (Japanese)
MIN_BULLET = {"en": 2, "ja": 3}


def bullet_problems(text: str, lang: str) -> list[str]:
    """Which rules a slide bullet breaks: a bullet is a phrase, not always a sentence, but a whole one."""
    found = [
        name for name, pattern in (("a URL", URL), ("a citation marker", CITATION)) if pattern.search(text)
    ]
    core = text.strip().rstrip(CLOSERS)
    if re.search(r"(…|\.\.\.)$|[,、，:：;；]$", core):
        found.append("cut off")
    if lang == "ja" and (
        _JA_PARTICLE_END.search(core + "。") or _ASCII_PUNCT_IN_JA.search(_without_numbers(text))
    ):
        found.append("ends on a particle or has ASCII punctuation")
    size = len(core) if lang == "ja" else len(core.split())
    if not MIN_BULLET[lang] <= size <= MAX_BULLET[lang]:
        found.append("too long or too short for a bullet")
    return found
