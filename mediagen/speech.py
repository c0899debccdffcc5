"""Text normalization for speech: what the voice should say for what the author wrote.

Only what the voices mangle is rewritten (measured with piper/espeak-ng and kokoro/OpenJTalk): URLs
are dropped, ISO dates, version numbers, multipliers, currency, issue numbers and a few
abbreviations are spelled out. Plain numbers are left to the voices, which read them well. In
Japanese, an English word OpenJTalk would spell letter by letter is given a katakana reading.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_MONTHS = "January February March April May June July August September October November December".split()
_TLDS = "com|org|net|io|dev|rs|jp|co|app|ai|me|gg|fm|social|xyz|info|edu|gov|moe|so|sh|tv|uk|de|fr|nl|gr|us"

_URL = re.compile(
    rf"(?:https?|ftp|file)://\S+|www\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})/\S*",
    re.I,
)
# A site's name without a path ("this-week-in-rust.org", "JSer.info") is said, dots and all.
_DOMAIN = re.compile(
    rf"(?<![A-Za-z0-9_.-])[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\.(?:{_TLDS})(?![A-Za-z0-9_/-]|\.[A-Za-z0-9])", re.I
)
# Markup an editor may leave in a line: a tag is never said ("a < b" is not a tag).
_HTML_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
_DATE_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s+[-–—]\s+(\d{4}-\d{2}-\d{2})")
# Digit boundaries are spelled out: `\b` finds none between a digit and a Japanese character.
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_VERSION = re.compile(r"(?<![\d.])(\d+(?:\.\d+){2,})(?:-([A-Za-z]+)\.?(\d+)?)?(?![\d])")
# "v1.1.1" is read "vee one", heard "be 1.1.1": said "version 1 point 1 point 1"
_V_VERSION = re.compile(r"(?<![\w.])[vV](?=\d+(?:\.\d+)+(?![\w.]))")
_MULTIPLIER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s?[x×](?![A-Za-z0-9])")
_ISSUE_NUMBER = re.compile(r"#(\d+)\b")
_HASHTAG = re.compile(r"#(?=[A-Za-z])")
_CURRENCY = re.compile(r"([$€£¥])\s?(\d+(?:[.,]\d+)*)(\s?(?:k|m|bn|million|billion)\b)?", re.I)
CURRENCY_WORDS = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
_MONTH_NAMES = "|".join(_MONTHS + "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split())
_DAY_AFTER_MONTH = re.compile(rf"\b((?:{_MONTH_NAMES})\.? )(\d{{1,2}})(?![\d:]|[.,]\d|st\b|nd\b|rd\b|th\b)")
_DAY_BEFORE_MONTH = re.compile(rf"(?<![\d.,:])(\d{{1,2}})( (?:{_MONTH_NAMES})\b)")
_NUMBER_RANGE = re.compile(r"(\d)\s?[–—]\s?(\d)")
_SNAKE = re.compile(r"(?<=\w)_(?=\w)")
# Piper's voice drops the t of "eighteen(th)", which is then heard as "eighty"/"eighth".
_EIGHTEEN = re.compile(r"(?<![\d.,])18(th)?(?!\d|[.,]\d)")
_ABBREVIATIONS = {
    r"\be\.g\.": "for example",
    r"\bi\.e\.": "that is",
    r"\betc\.": "et cetera",
    r"\bvs\.?(?=\s)": "versus",
    r"\bapprox\.": "approximately",
    r"\bTL;DR\b:?": "In short:",
}
_SYMBOLS_EN = {
    "&": " and ",
    "→": " to ",
    "->": " to ",
    "=>": " to ",
    "|": ", ",
    "~": " about ",
    "=": " equals ",
    "+": " plus ",  # "Kubeadm + CoreDNS", "C++": said, so written for the speech check too
}
_SYMBOLS_JA = {
    "/": "、",
    "&": "アンド",
    "%": "パーセント",
    "％": "パーセント",
    "→": "から",
    "|": "、",
    "〜": "から",
    "~": "から",
}


def normalize_for_speech(text: str, lang: str) -> str:
    """The text the voice engine receives for one written sentence."""
    text = _strip_pictographs(text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _DOMAIN.sub(lambda m: m.group(0).replace(".", " dot " if lang == "en" else "ドット"), text)
    text = _DATE_RANGE.sub(r"\1 to \2" if lang == "en" else r"\1から\2", text)
    text = _ISO_DATE.sub(_say_date_en if lang == "en" else _say_date_ja, text)
    text = _V_VERSION.sub("version " if lang == "en" else "バージョン", text)
    text = _VERSION.sub(_say_version_en if lang == "en" else _say_version_ja, text)
    text = _SNAKE.sub(" ", text)
    text = _normalize_ja(text) if lang == "ja" else _normalize_en(text)
    text = re.sub(r"\s+([,.;:!?、。])(?![A-Za-z0-9_])", r"\1", text)  # not before ".cargo"
    text = re.sub(r"([,、])\s*(?=[,、.。])", "", text)
    return re.sub(r"\s+", " ", text).strip(" ,、")


# Words joined by a hyphen ("copy-pasting", "Share-Alike", "debian-hyperkube"): piper runs them into
# one ("cop pasting", "Share-like"; 4 LWKD sentences, 3 takes each: WER 0.11 -> 0.09); apart, it says each.
# (A piece may end or start at a respelled word: "debian-" + "Hyperkube".)
_HYPHENATED = re.compile(r"(?<=[A-Za-z]{2})-(?=[A-Za-z]{2}|$)|^-(?=[A-Za-z]{2})")


def unjoined(text: str, lang: str) -> str:
    """The author's words apart where they are joined; a lexicon's respellings ("Post-gress-Q-L",
    "tom-ul") are kept as they are, so this runs on the text between them."""
    return _HYPHENATED.sub(" ", text) if lang == "en" else text


def day_ordinals(text: str) -> str:
    """A day of the month as said: "September 18" and "18 September" -> "18th" (the voice would say
    "eighteen"; a recognizer writes "September 18" for "September eighteenth")."""

    def nth(day: str) -> str:
        return day + _ordinal_suffix(int(day)) if 1 <= int(day) <= 31 else day

    text = _DAY_AFTER_MONTH.sub(lambda m: m.group(1) + nth(m.group(2)), text)
    return _DAY_BEFORE_MONTH.sub(lambda m: nth(m.group(1)) + m.group(2), text)


# A word joined from words in camel case ("volumeClaimTemplates", "StatefulSets", "CoreDNS"): piper
# runs it together ("stavel sets"), so it gets its parts; a short head ("McDonald", "iPhone") stays.
_CAMEL = re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z]{2,}|[A-Z]{2,}\b)")


# "aspect(s)" is read "aspect S" and "and/or" "and slash or"; a reader says "aspects" and "and or".
_OPTIONAL_PLURAL = re.compile(r"(?<=[A-Za-z])\((?:s|es)\)(?![A-Za-z])")
_AND_OR = re.compile(r"\band\s?/\s?or\b", re.I)


def _normalize_en(text: str) -> str:
    text = _OPTIONAL_PLURAL.sub(lambda m: m.group(0)[1:-1], text)
    text = _AND_OR.sub("and or", text)
    text = _CAMEL.sub(" ", text)
    for pattern, words in _ABBREVIATIONS.items():
        text = re.sub(pattern, words, text, flags=re.I)
    text = day_ordinals(text)
    text = _EIGHTEEN.sub(lambda m: "eigh-teen" + (m.group(1) or ""), text)
    text = _MULTIPLIER.sub(r"\1 times", text)
    text = _ISSUE_NUMBER.sub(r"number \1", text)
    text = _HASHTAG.sub("", text)
    text = _CURRENCY.sub(_say_currency, text)
    text = _NUMBER_RANGE.sub(r"\1 to \2", text)
    for symbol, words in _SYMBOLS_EN.items():
        text = text.replace(symbol, words)
    return text


# A number in Japanese text, not part of a Latin-script name ("x86", "ES2024", "MP3").
_JA_NUMBER = re.compile(r"(?<![A-Za-z_\d,])(\d{1,3}(?:,\d{3})+|\d{1,16})(?![A-Za-z_\d])")


def _normalize_ja(text: str) -> str:
    text = unicodedata.normalize("NFKC", text) if re.search(r"[０-９Ａ-Ｚａ-ｚ]", text) else text
    text = _LATIN_WORD.sub(lambda m: katakana_reading(m.group(0)), text)
    text = _MULTIPLIER.sub(r"\1倍", text)
    text = re.sub(r"(\d)\.(\d)", r"\1点\2", text)
    text = _ISSUE_NUMBER.sub(r"\1番", text)
    text = _JA_NUMBER.sub(_say_number_ja, text)
    for symbol, words in _SYMBOLS_JA.items():
        text = text.replace(symbol, words)
    return text


# An English word in Japanese text. OpenJTalk reads the ones its dictionary has (Google, Microsoft,
# the, news) and spells the rest letter by letter: "Foundation" as エフオーユーエヌディーエー…,
# "Sponsor", "Hard", "Feed", "Slack" the same way. Those get the reading kanalizer (VOICEVOX's
# English-to-kana model) gives them: ファウンデーション, スポンサー, ハード, フィード. A word that starts
# with two capitals (CNCF, API, RSS, JSer) is an acronym, which Japanese says letter by letter too.
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,40}(?![A-Za-z0-9])")


_CAMEL_PARTS = re.compile(r"(?<=[a-z])(?=[A-Z])")
MAX_KANA_WORD = 20  # letters: kanalizer's readings of longer words trail off ("…ブガンバンババンバ")


@functools.lru_cache(maxsize=4096)
def katakana_reading(word: str) -> str:
    """`word` as OpenJTalk says it where its dictionary knows it, else its katakana reading, a word
    joined in camel case ("PodDisruptionBudget") part by part; the word itself if it is an acronym,
    or too long or odd for kanalizer to read whole."""
    parts = _CAMEL_PARTS.split(word)
    if len(parts) > 1:
        return "".join(katakana_reading(part) if len(part) > 1 else part for part in parts)
    if word[:2].isupper() or len(word) > MAX_KANA_WORD or not _spelled_out(word):
        return word
    import kanalizer

    try:
        return str(kanalizer.convert(word.lower(), on_incomplete="error"))
    except (ValueError, kanalizer.IncompleteConversionError):
        return word


def _spelled_out(word: str) -> bool:
    """Whether OpenJTalk reads `word` letter by letter: its dictionary does not have it, and it is
    read as a filler (フィラー) of letter names."""
    import pyopenjtalk

    tokens = pyopenjtalk.run_frontend(word)
    return len(tokens) == 1 and tokens[0]["pos"] == "フィラー"


def _say_number_ja(match: re.Match[str]) -> str:
    """Digits as kanji numerals: Kokoro's phonemizer reads digits before a counter digit by digit and
    with the wrong counter ("1月16日" as "ichi tsuki juu muika", "20日" as "nijuu bi"); in kanji
    ("一月十六日", "二十日") it reads them right. A recognizer's "16日" reads the same (see qa)."""
    from num2words import num2words

    return str(num2words(int(match.group(1).replace(",", "")), lang="ja"))


def _strip_pictographs(text: str) -> str:
    """Emoji and other pictographs are not spoken."""
    return "".join(" " if unicodedata.category(ch) in ("So", "Cs", "Co") else ch for ch in text)


def _say_date_en(match: re.Match[str]) -> str:
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return match.group(0)
    return f"{_MONTHS[month - 1]} {day}{_ordinal_suffix(day)}, {year}"  # "September 18th": said "eighteenth"


def _ordinal_suffix(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _say_date_ja(match: re.Match[str]) -> str:
    year, month, day = (int(g) for g in match.groups())
    return f"{year}年{month}月{day}日"


def _say_version_en(match: re.Match[str]) -> str:
    spoken = " point ".join(match.group(1).split("."))
    if match.group(2):
        spoken += f" {match.group(2)}" + (f" {match.group(3)}" if match.group(3) else "")
    return spoken


def _say_version_ja(match: re.Match[str]) -> str:
    spoken = "点".join(match.group(1).split("."))
    if match.group(2):
        spoken += f" {match.group(2)}" + (f" {match.group(3)}" if match.group(3) else "")
    return spoken


def _say_currency(match: re.Match[str]) -> str:
    symbol, amount, scale = match.groups()
    scale = (scale or "").strip().lower()
    scale_word = {"k": " thousand", "m": " million", "bn": " billion"}.get(
        scale, f" {scale}" if scale else ""
    )
    return f"{amount}{scale_word} {CURRENCY_WORDS[symbol]}"
