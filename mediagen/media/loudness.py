"""Loudness (EBU R 128) with ffmpeg: measure, then normalize in a second pass.

Synthetic speech has a high peak-to-loudness ratio (piper: about 24 dB), so a gentle compressor first
brings the peaks closer to the body of the voice; then ffmpeg's `loudnorm` measures the result (pass 1)
and applies the measured values (pass 2: a linear gain where the true-peak limit allows, its limiter
where it does not). The final file is measured again with the `ebur128` filter, as a listener's
player would.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from mediagen.media.ffmpeg import run_ffmpeg

SPEECH_COMPRESSOR = "acompressor=threshold=-30dB:ratio=3:attack=5:release=100:makeup=6dB"
LOUDNESS_RANGE = 11.0
# Margin kept below the requested true peak: MP3 and AAC encoding move peaks by a few tenths of a dB.
ENCODER_PEAK_MARGIN = 1.0
CORRECTION_TOLERANCE = 0.3
CORRECTION_PEAK_MARGIN = 0.2


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    loudness_range: float  # LU

    def as_report(self) -> dict[str, float]:
        return {key: round(value, 2) for key, value in asdict(self).items()}


def normalize(source: Path, target: Path, lufs: float, peak: float, rate: int) -> Loudness:
    """Write `source` to `target` at `lufs` integrated loudness, true peak at most `peak`; returns what
    the first pass measured."""
    limit = peak - ENCODER_PEAK_MARGIN
    settings = f"I={lufs}:TP={limit}:LRA={LOUDNESS_RANGE}"
    report = run_ffmpeg(
        [
            "-i",
            str(source),
            "-af",
            f"{SPEECH_COMPRESSOR},loudnorm={settings}:print_format=json",
            "-f",
            "null",
            "-",
        ],
        stage="assemble",
        loglevel="info",
    )
    measured = _loudnorm_json(report)
    applied = (
        f"{settings}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true"
    )
    run_ffmpeg(
        [
            "-i",
            str(source),
            "-af",
            f"{SPEECH_COMPRESSOR},loudnorm={applied}",
            "-ar",
            str(rate),
            "-ac",
            "1",
            str(target),
        ],
        stage="assemble",
    )
    return Loudness(float(measured["input_i"]), float(measured["input_tp"]), float(measured["input_lra"]))


def adjust(source: Path, target: Path, gain_db: float) -> None:
    """A plain gain change (the correction after measuring an encoded file)."""
    run_ffmpeg(["-i", str(source), "-af", f"volume={gain_db:.2f}dB", str(target)], stage="assemble")


def correction(measured: Loudness, lufs: float, peak: float) -> float:
    """The gain (dB) that brings an encoded file back to `lufs` without its true peak passing `peak`;
    0 when it is already within a third of a LU (encoders shift loudness a little)."""
    if abs(measured.integrated - lufs) <= CORRECTION_TOLERANCE:
        return 0.0
    return min(lufs - measured.integrated, peak - CORRECTION_PEAK_MARGIN - measured.true_peak)


def measure(path: Path) -> Loudness:
    """Integrated loudness, true peak and loudness range of a file, by ffmpeg's `ebur128` filter."""
    report = run_ffmpeg(
        ["-i", str(path), "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"],
        stage="assemble",
        loglevel="info",
    )
    summary = report[report.rfind("Summary:") :]
    values = {
        name: float(re.search(rf"{name}:\s+(-?[\d.]+|-inf)", summary).group(1).replace("-inf", "-200"))
        for name in ("I", "LRA", "Peak")
    }
    return Loudness(values["I"], values["Peak"], values["LRA"])


def _loudnorm_json(report: str) -> dict[str, str]:
    start = report.rfind("{")
    return json.loads(report[start : report.index("}", start) + 1])
