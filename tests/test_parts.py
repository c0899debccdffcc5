"""The audio in parts (mediagen.media.parts): encoded apart, the parts decode to the episode's timeline
sample for sample, and their loudness together is the whole file's. Real ffmpeg, LAME and AAC."""

from __future__ import annotations

import numpy as np
import pytest

from mediagen.episode import Episode, EpisodeSection, Narration, Slide
from mediagen.media import loudness, parts
from mediagen.media.ffmpeg import decode_audio
from mediagen.stages import voice
from mediagen.timeline import Voiceover

GAIN_AND_LIMIT = loudness.limiting(-1.0, 10.0)


def laid_out(rate: int, sections: list[list[float]], seed: int = 1) -> Voiceover:
    """An episode of noise bursts (seconds long each, one per sentence), laid out as a build lays it out:
    each section on the parts' grid. Noise, so each burst is found by correlation at one place only."""
    episode = Episode(
        title="T",
        lang="en",
        sections=[
            EpisodeSection(
                id=f"s{n}",
                title=f"S{n}",
                narration=[Narration(text=f"Sentence {m}.") for m in range(len(lengths))]
                or [Narration(text="—")],  # nothing the voice can say: the section is only its pause
                slides=[Slide(title="S")],
            )
            for n, lengths in enumerate(sections)
        ],
    )
    noise = np.random.default_rng(seed)
    clips = []
    for length in (length for lengths in sections for length in lengths):
        count = round(length * rate)
        wobble = 0.6 + 0.4 * np.sin(np.arange(count) / rate * 9)
        envelope = np.sin(np.linspace(0, np.pi, count)) ** 0.5 * wobble
        clips.append((0.25 * noise.standard_normal(count) * envelope).astype(np.float32))
    lines = voice.lines_to_voice(episode)
    return voice.lay_out(episode, lines, clips, rate, None, parts.SECTION_GRID_S)


def encoded_and_joined(pieces: list[parts.Part], codec: parts.Codec, tmp_path, name: str):
    files, measured = [], []
    for number, piece in enumerate(pieces):
        data, blocks = parts.encode(piece, codec, GAIN_AND_LIMIT)
        files.append(tmp_path / f"{name}-{number}{codec.suffix}")
        files[-1].write_bytes(data)
        measured.append(blocks)
    joined = tmp_path / f"{name}{codec.suffix}"
    parts.join(files, joined)
    return joined, measured


def burst_starts(voiceover: Voiceover) -> list[float]:
    return [s.start for s in voiceover.sentences]


def offset_at(decoded: np.ndarray, reference: np.ndarray, at: int, width=4000, reach=600) -> int:
    """Where (in samples, relative to `at`) the stretch of `reference` starting at `at` is in `decoded`."""
    piece = reference[at : at + width]
    scores = [float(np.dot(piece, decoded[at + d : at + d + width])) for d in range(-reach, reach + 1)]
    return int(np.argmax(scores)) - reach


@pytest.mark.parametrize("rate", [22_050, 24_000, 16_000])  # piper, Kokoro, a rate 44.1 kHz is no multiple of
@pytest.mark.parametrize("codec", [parts.MP3, parts.AAC], ids=["mp3", "aac"])
def test_parts_encoded_apart_decode_to_the_timeline_sample_for_sample(tmp_path, rate, codec):
    voiceover = laid_out(rate, [[2.1, 1.3], [0.9, 2.7, 1.1], [1.7]])
    starts = [s.start for s in voiceover.sections[1:]]
    pieces = parts.split(voiceover.samples, rate, starts)
    assert len(pieces) == 3  # a cut at each section's start
    assert all(p.length % parts.GRID == 0 for p in pieces[:-1]) and pieces[-1].last
    whole = parts.split(voiceover.samples, rate, [])  # the episode as one part, as it was encoded before
    assert len(whole) == 1

    joined, _ = encoded_and_joined(pieces, codec, tmp_path, "parts")
    single, _ = encoded_and_joined(whole, codec, tmp_path, "whole")
    in_parts = decode_audio(joined, parts.OUTPUT_RATE, stage="test")
    at_once = decode_audio(single, parts.OUTPUT_RATE, stage="test")
    timeline = round(voiceover.duration * parts.OUTPUT_RATE)
    assert timeline <= len(in_parts) <= timeline + 2 * codec.frame
    joins = np.cumsum([p.length for p in pieces[:-1]])
    around = round(0.02 * parts.OUTPUT_RATE)
    assert not any(np.any(in_parts[join - around : join + around]) for join in joins)  # no click: silence
    # Every sentence is where the one-part encoding has it, in every part: to the sample, or within one
    # where 44.1 kHz is no whole multiple of the voice's rate (a part starts on the voice's nearest
    # sample to the grid).
    sentences = [round(start * parts.OUTPUT_RATE) for start in burst_starts(voiceover)]
    offsets = [offset_at(in_parts, at_once, at) for at in sentences]
    slack = 0 if parts.OUTPUT_RATE % rate == 0 else 1
    assert all(abs(offset) <= slack for offset in offsets), offsets
    # ...and where the timeline has it (the limiter's look-ahead delays every part alike, by 5 ms).
    reference = decode_audio(_wav(voiceover, tmp_path), parts.OUTPUT_RATE, stage="test")
    delays = [offset_at(in_parts, reference, at) for at in sentences]
    assert max(delays) - min(delays) <= slack and 0 <= min(delays) <= 0.006 * parts.OUTPUT_RATE, delays


def test_the_loudness_of_the_parts_together_is_the_whole_files(tmp_path):
    voiceover = laid_out(22_050, [[3.1, 4.3], [2.9, 5.7, 3.1], [6.7, 2.2], [4.0]], seed=7)
    pieces = parts.split(voiceover.samples, 22_050, [s.start for s in voiceover.sections[1:]])
    assert len(pieces) == 4
    for codec in (parts.MP3, parts.AAC):
        joined, measured = encoded_and_joined(pieces, codec, tmp_path, codec.name)
        together = loudness.combined(measured)
        whole = loudness.measure(joined)
        assert abs(together.integrated - whole.integrated) <= 0.1, (together, whole)
        assert abs(together.loudness_range - whole.loudness_range) <= 0.2, (together, whole)
        assert abs(together.true_peak - whole.true_peak) <= 0.15, (together, whole)


def test_the_audio_is_cut_only_on_the_grid_and_in_silence():
    rate = 22_050
    voiceover = laid_out(rate, [[1.0], [1.0], [1.0]])
    starts = [s.start for s in voiceover.sections[1:]]
    assert len(parts.split(voiceover.samples, rate, starts)) == 3
    off_grid = [start + 0.05 for start in starts]
    assert len(parts.split(voiceover.samples, rate, off_grid)) == 1
    bed = voiceover.samples + np.float32(0.001)  # music under everything: no silence to cut in
    assert len(parts.split(bed, rate, starts)) == 1
    # The parts hold all of the audio, each without the silence at its end.
    pieces = parts.split(voiceover.samples, rate, starts)
    assert sum(p.length for p in pieces) == round(len(voiceover.samples) * parts.OUTPUT_RATE / rate)
    assert all(p.samples[-1] != 0 for p in pieces)


def _wav(voiceover: Voiceover, tmp_path):
    from mediagen.stages.assemble import write_wav

    path = tmp_path / "timeline.wav"
    write_wav(voiceover, path)
    return path


def test_a_section_with_nothing_said_is_a_silent_part_measured_as_silence(tmp_path):
    """A section whose lines the voice cannot say is only its pause: its part is encoded (as silence of
    its length) and measured as silence, not as the 0 dB peak ffmpeg reports for no audio at all."""
    voiceover = laid_out(22_050, [[1.5], [], [1.2]])
    pieces = parts.split(voiceover.samples, 22_050, [s.start for s in voiceover.sections[1:]])
    assert len(pieces) == 3 and not np.any(pieces[1].samples)
    assert parts.compressed(pieces[1]).peak == loudness.SILENCE
    joined, measured = encoded_and_joined(pieces, parts.MP3, tmp_path, "silent")
    assert measured[1].peak == loudness.SILENCE and not any(
        m > loudness.ABSOLUTE_GATE for m in measured[1].momentary
    )
    whole = loudness.measure(joined)
    assert abs(loudness.combined(measured).integrated - whole.integrated) <= 0.1
    before = loudness.combined([parts.compressed(p) for p in pieces])
    assert before.true_peak < -1.0  # the loud parts' peak, not the silent one's


def test_a_part_whose_peak_passes_the_ceiling_is_encoded_again_alone_with_its_limiter_lower(tmp_path):
    """The limiter set above the ceiling (so that the encoder's true peak passes it): the loud part is
    encoded again with its own limiter lower until it is under the ceiling; the quiet part, and the
    gain, stay as they were."""
    from mediagen.stages import assemble

    voiceover = laid_out(22_050, [[2.0], [2.0]], seed=3)
    loud = voiceover.samples.copy()
    second = round(voiceover.sections[1].start * 22_050)
    loud[second:] *= 0.05  # the second section far under the limiter
    pieces = parts.split(loud, 22_050, [voiceover.sections[1].start])
    assert len(pieces) == 2
    encodes: list[str] = []
    fresh = assemble.fresh(tmp_path)

    def keep(name, made_of, suffix, make):
        encodes.append(name)
        return fresh(name, made_of, suffix, make)

    for codec in (parts.MP3, parts.AAC):
        encodes.clear()
        reached = assemble.Encoding(pieces, codec, 1.0, -1.0, keep)(16.0)
        assert reached.true_peak <= -1.0, (codec.name, reached)
        assert encodes.count(f"{codec.name} 1") == 1 and encodes.count(f"{codec.name} 0") >= 2, encodes
