"""Loudness (EBU R 128) with ffmpeg: measure, then apply, then check.

Synthetic speech has a high peak-to-loudness ratio (piper: about 24 dB), so a gentle compressor first
brings the peaks closer to the body of the voice. The episode's audio is encoded in parts (see
media.parts), each through the compressor, the gain that reaches the target and a look-ahead limiter
(run at the output rate, so inter-sample peaks stay under the true-peak limit); what each part's encoder
wrote is measured by the `ebur128` filter as its 400 ms blocks and 3 s windows, and the episode's
loudness is worked out from all of them (`combined`: the gating of BS.1770 over every block, so it is
the loudness of the whole file; the parts meet in silence, which the gate leaves out anyway). If the
limiter or the codec moved it off target, the parts are encoded again at a gain sought from the
measurements (`seek`). ffmpeg's `loudnorm` does the same job but upsamples to 192 kHz: 13 times slower
here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mediagen.media.ffmpeg import pipe_ffmpeg, run_ffmpeg

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
BLOCKS = "ebur128=peak=true:framelog=info"  # a line per 100 ms too: the blocks `combined` gates
ABSOLUTE_GATE = -70.0  # LUFS (BS.1770): blocks quieter than this are silence
RELATIVE_GATE = 10.0  # LU under the loudness of the blocks over the absolute gate
RANGE_GATE = 20.0  # LU: the relative gate of the loudness range (EBU Tech 3342)
WINDOW_FULL = 29  # frames (100 ms) before the filter's first 3 s window is full
WINDOW_BLOCKS = 27  # the 400 ms blocks, 100 ms apart, that lie in a 3 s window
SILENCE = -200.0  # what a level of minus infinity (no sound at all) is given as
_FRAME = re.compile(r"\bM:\s*(\S+)\s+S:\s*(\S+)")


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    loudness_range: float  # LU

    def as_report(self) -> dict[str, float]:
        return {key: round(value, 2) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Blocks:
    """What the `ebur128` filter measured in a stretch of audio: the loudness (LUFS) of each 400 ms block
    and of each 3 s window, 100 ms apart, and the true peak (dBTP)."""

    momentary: tuple[float, ...]
    short_term: tuple[float, ...]
    peak: float

    def to_json(self) -> dict[str, object]:
        return {"momentary": list(self.momentary), "short_term": list(self.short_term), "peak": self.peak}

    @classmethod
    def from_json(cls, data: dict) -> Blocks:
        return cls(tuple(data["momentary"]), tuple(data["short_term"]), float(data["peak"]))


def scan(input_args: list[str], data: bytes, before: str = "") -> Blocks:
    """The blocks of the audio given on standard input (read as `input_args` say), through the filters
    `before` first."""
    chain = f"{before},{BLOCKS}" if before else BLOCKS
    args = [*input_args, "-i", "-", "-af", chain, "-f", "null", "-"]
    _, report = pipe_ffmpeg(args, data, stage="assemble", loglevel="info")
    frames = report[: report.rfind("Summary:")]
    pairs = [(_level(m), _level(s)) for m, s in _FRAME.findall(frames)]
    return Blocks(tuple(m for m, _ in pairs), tuple(s for _, s in pairs), _summary(report).true_peak)


def combined(parts: Sequence[Blocks]) -> Loudness:
    """The loudness of the parts played one after another: integrated by the gating of BS.1770 over all
    their blocks (the blocks across a join are missed; the parts meet in silence, which the gate leaves
    out anyway), the loudness range (EBU Tech 3342) over their 3 s windows, the highest true peak. The
    filter gives a part's first windows only once they are full, so the windows across each join are
    worked out from the 400 ms blocks they hold (on the English sample and rust-lld, to the tenth of a
    LU of a measurement of the whole file)."""
    momentary = np.array([m for part in parts for m in part.momentary], dtype=np.float64)
    short = np.array([s for part in parts for s in part.short_term], dtype=np.float64)
    energy = 10 ** (momentary / 10)
    for start in np.cumsum([len(part.momentary) for part in parts])[:-1]:  # where each later part starts
        for at in range(max(start, WINDOW_BLOCKS - 1), min(start + WINDOW_FULL, len(short))):
            short[at] = 10 * np.log10(energy[at - WINDOW_BLOCKS + 1 : at + 1].mean())
    gated = _gated(momentary, RELATIVE_GATE)
    integrated = _energy_mean(gated) if gated.size else ABSOLUTE_GATE
    windows = _gated(short, RANGE_GATE)
    spread = float(np.percentile(windows, 95) - np.percentile(windows, 10)) if windows.size else 0.0
    peak = max((part.peak for part in parts), default=SILENCE)
    return Loudness(round(integrated, 2), peak, round(spread, 2))


def _gated(levels: np.ndarray, relative: float) -> np.ndarray:
    """The levels over the absolute gate and over the relative gate under their mean loudness."""
    heard = levels[levels > ABSOLUTE_GATE]
    if not heard.size:
        return heard
    return heard[heard > _energy_mean(heard) - relative]


def _energy_mean(levels: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** (levels / 10))))


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return SILENCE
    return value if np.isfinite(value) else SILENCE


def first_gain(shaped: Loudness, lufs: float, peak: float, loss_per_db: float = LIMITER_LOSS[1]) -> float:
    """The gain (dB) to try first on compressed audio that measured `shaped`: what reaches `lufs`, plus
    what a limiter keeping its peaks under `peak` is expected to take off (see `limiter_loss`)."""
    gain = lufs - shaped.integrated
    return gain + limiter_loss(shaped.true_peak + gain, peak, loss_per_db)


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
        name: _level(re.search(rf"{name}:\s+(-?[\d.]+|-inf)", summary).group(1))
        for name in ("I", "LRA", "Peak")
    }
    return Loudness(values["I"], values["Peak"], values["LRA"])
