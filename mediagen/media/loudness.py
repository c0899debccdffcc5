"""Loudness (EBU R 128) with ffmpeg: measure, then apply, then check.

Synthetic speech has a high peak-to-loudness ratio (piper: about 24 dB), so a gentle compressor first
brings the peaks closer to the body of the voice: one pass (`shape`) writes the compressed mix at the
output rate and measures it with the `ebur128` filter on the way (the filter passes the audio through).
Each encoder then applies the gain that reaches the target and a look-ahead limiter (run at the output
rate, so inter-sample peaks stay under the true-peak limit) as it encodes; what it wrote is measured
and, if the limiter or the codec moved it off target, encoded again at a gain sought from the
measurements (`seek`). ffmpeg's `loudnorm` does the same job but upsamples to 192 kHz: 13 times slower
here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from mediagen.media.ffmpeg import run_ffmpeg

SPEECH_COMPRESSOR = "acompressor=threshold=-30dB:ratio=3:attack=5:release=100:makeup=6dB"
# The limiter works on sample peaks; inter-sample (true) peaks and the encoders add up to about 0.6 dB.
LIMITER_MARGIN_DB = 1.0
CORRECTION_TOLERANCE = 0.3
CORRECTION_PEAK_MARGIN = 0.2
SEEK_TRIES = 5
# What the limiter takes off the loudness, added to the first gain tried (without it the first render
# of a piper episode fell short by more than the tolerance, and every build rendered twice): nothing
# for peaks up to 1.5 dB over the limiter, then 0.1 LU per dB, at most 1 LU. Measured: piper on
# rust-lld, 5.2 dB over, lost 0.4 LU; Kokoro on the Japanese sample, 1.3 dB over, nothing. A wrong
# guess costs one more render (`seek`), never a wrong loudness.
LIMITER_LOSS = (1.5, 0.1, 1.0)
MIN_SLOPE = 0.1
MIN_STEP_DB = 0.05  # a smaller change of gain is not worth a render
SCAN = "ebur128=peak=true:framelog=verbose"  # the summary only, not a line per 100 ms
# The compressor adds up to 6 dB (its make-up gain) to peaks it has not caught yet: `shape` writes its
# output this much lower, so a full-scale input still fits 16-bit PCM.
SHAPED_HEADROOM_DB = 7.0


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    loudness_range: float  # LU

    def as_report(self) -> dict[str, float]:
        return {key: round(value, 2) for key, value in asdict(self).items()}


def shape(source: Path, target: Path, rate: int) -> Loudness:
    """Write `source` through the compressor to `target` at `rate`, SHAPED_HEADROOM_DB lower (16-bit PCM
    cannot hold the compressor's make-up gain on a loud input); returns the loudness of the compressed
    audio (before the headroom is taken off): what the first gain is worked out from (`first_gain`)."""
    chain = f"{SPEECH_COMPRESSOR},aresample={rate},{SCAN},volume=-{SHAPED_HEADROOM_DB:.1f}dB"
    return _summary(_apply(source, target, chain, rate, loglevel="info"))


def first_gain(shaped: Loudness, lufs: float, peak: float, loss_per_db: float = LIMITER_LOSS[1]) -> float:
    """The gain (dB) to try first on audio written by `shape` that measured `shaped`: what reaches
    `lufs`, plus what a limiter keeping its peaks under `peak` is expected to take off (see
    `limiter_loss`), plus the headroom `shape` left."""
    gain = lufs - shaped.integrated
    return gain + limiter_loss(shaped.true_peak + gain, peak, loss_per_db) + SHAPED_HEADROOM_DB


def limiter_loss(peak_after_gain: float, peak: float, loss_per_db: float = LIMITER_LOSS[1]) -> float:
    """The loudness (LU) the limiter is expected to take off a voice whose true peak, at the gain that
    reaches the target, would be `peak_after_gain` (see LIMITER_LOSS; `loss_per_db` for an encoder that
    loses more)."""
    above = peak_after_gain - (peak - LIMITER_MARGIN_DB) - LIMITER_LOSS[0]
    return min(LIMITER_LOSS[2], loss_per_db * max(0.0, above))


def seek(
    render: Callable[[float], Loudness], gain: float, lufs: float, peak: float | None = None
) -> Loudness:
    """Render at `gain` dB and, while the result misses `lufs` (or, given `peak`, passes it), render
    again; returns what the last render measured. Past the limiter a dB of gain adds less than a LU
    (a one-word episode: about 0.35) and moves the true peak less still (the limiter holds it), so each
    new gain follows the lines through the last two renders: the loudness's to reach `lufs`, the true
    peak's to stay under `peak` (stepping by the peak's room in gain, as before, left a short piper
    episode 1.5 LU under the video's target after five tries). Should the last render pass `peak`,
    the one nearest `lufs` of those that did not is rendered again."""
    reached = render(gain)
    renders = [(gain, reached)]
    for _ in range(SEEK_TRIES):
        slopes = (1.0, 1.0)  # LU and dB of true peak per dB of gain
        if len(renders) > 1 and gain != renders[-2][0]:
            before_gain, before = renders[-2]
            moved = (reached.integrated - before.integrated, reached.true_peak - before.true_peak)
            slopes = tuple(min(1.0, max(MIN_SLOPE, m / (gain - before_gain))) for m in moved)
        step = _step(reached, lufs, peak, *slopes)
        if not step:
            break
        gain += step
        reached = render(gain)
        renders.append((gain, reached))
    if peak is not None and reached.true_peak > peak:
        within = [(g, r) for g, r in renders if r.true_peak <= peak]
        if within:
            gain = min(within, key=lambda done: abs(done[1].integrated - lufs))[0]
            reached = render(gain)
    return reached


def limiting(peak: float, gain_db: float) -> str:
    """Filters for an encoder to run on its input: `gain_db` louder, its peaks kept under `peak`."""
    return f"volume={gain_db:.2f}dB,{_limiter(peak)}"


def _limiter(peak: float) -> str:
    return f"alimiter=limit={10 ** ((peak - LIMITER_MARGIN_DB) / 20):.4f}:level=false"


def _apply(source: Path, target: Path, chain: str, rate: int, loglevel: str = "error") -> str:
    """Write `source` through the filters `chain` to `target` (mono, `rate`); returns ffmpeg's report."""
    args = ["-i", str(source), "-af", chain, "-ar", str(rate), "-ac", "1", str(target)]
    return run_ffmpeg(args, stage="assemble", loglevel=loglevel)


def _step(
    measured: Loudness, lufs: float, peak: float | None, loudness_slope: float, peak_slope: float
) -> float:
    """The change of gain (dB) for the next render: down, if the true peak passed `peak` (to a little
    under it); else towards `lufs`, as far as the true peak has room; 0 when the loudness is within a
    third of a LU (encoders shift loudness a little) or the peak leaves no room."""
    if peak is not None and measured.true_peak > peak:
        return (peak - CORRECTION_PEAK_MARGIN - measured.true_peak) / peak_slope
    missing = lufs - measured.integrated
    if abs(missing) <= CORRECTION_TOLERANCE:
        return 0.0
    step = missing / loudness_slope
    if peak is not None and step > 0:
        step = min(step, (peak - measured.true_peak) / peak_slope)
    return step if abs(step) >= MIN_STEP_DB else 0.0


def measure(path: Path) -> Loudness:
    """Integrated loudness, true peak and loudness range of a file, by ffmpeg's `ebur128` filter."""
    report = run_ffmpeg(
        ["-i", str(path), "-vn", "-af", SCAN, "-f", "null", "-"], stage="assemble", loglevel="info"
    )
    return _summary(report)


def _summary(report: str) -> Loudness:
    """The loudness in the summary the `ebur128` filter printed at the end of a run."""
    summary = report[report.rfind("Summary:") :]
    values = {
        name: float(re.search(rf"{name}:\s+(-?[\d.]+|-inf)", summary).group(1).replace("-inf", "-200"))
        for name in ("I", "LRA", "Peak")
    }
    return Loudness(values["I"], values["Peak"], values["LRA"])
