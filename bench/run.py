"""`make bench`: mediagen against the obvious alternatives, side by side in one run on this machine.

Every figure is a ratio of two times measured here, in this run:

- video_speedup: a moviepy 2 baseline (an ImageClip per slide, concatenate_videoclips,
  write_videofile at 30 fps, libx264 preset medium) over our assemble stage's video encode, on the
  same pictures and audio; both outputs are checked to be valid videos of the same size and duration.
- voice_ratio: our voice stage (cold cache) over piper called once per sentence, serially.
- build_rtf: cold whole builds (bundled models, fresh cache), build seconds per second of audio.
- rebuild_unchanged_ratio, rebuild_edit_ratio: an unchanged rebuild, and a render after editing one
  narration sentence, over the cold build (rust-lld, summary mode).
- peak_rss_mib: the largest resident memory of a whole build's process tree.
- floor: the least an English build with the speech check costs per second of audio, on this machine
  in this run: our voice stage's RTF (piper, one sentence per core) plus tiny.en's (one hearing of
  those sentences, as the check hears them), with piper's serial RTF beside them; a build can be no
  faster than that, and build ratios from machines of other speeds compare through it.
- loaded_slowdown: the script stage (the bundled LLM, summary mode, rust-lld, cold cache) beside a
  process that keeps every core busy, over the same stage on the idle machine, run in turns.

Writes bench/results.json and prints a table.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
# moviepy lives in its own environment (made by `make bench`): it pins an older Pillow than mediagen.
BASELINE_PYTHON = ROOT / "bench" / ".venv-moviepy" / "bin" / "python"
TARGETS = {
    "video_speedup": (">=", 20.0),
    "voice_ratio": ("<=", 0.6),
    "rebuild_unchanged_ratio": ("<=", 0.03),
    "rebuild_edit_ratio": ("<=", 0.05),
    "peak_rss_mib": ("<=", 2048.0),
    "loaded_slowdown": ("<=", 2.5),
}
RTF_TARGETS = {
    ("en", "summary"): 0.25,
    ("en", "verbatim"): 0.12,
    ("ja", "summary"): 0.6,
    ("ja", "verbatim"): 0.6,
}


def corpus() -> Path:
    for place in (
        os.environ.get("MEDIAGEN_CORPUS"),
        ROOT.parent / "shared" / "corpus",
        "/work/shared/corpus",
    ):
        if place and Path(place).is_dir():
            return Path(place)
    sys.exit("bench: the real-world corpus is not found (set MEDIAGEN_CORPUS)")


# (name, issue, lang, modes)
def inputs() -> list[tuple[str, Path, str, tuple[str, ...]]]:
    shared = corpus()
    return [
        ("issue-en", ROOT / "samples" / "issue-en.md", "en", ("summary", "verbatim")),
        ("issue-ja", ROOT / "samples" / "issue-ja.md", "ja", ("summary",)),
        ("rust-lld-on-stable", shared / "rust-lld-on-stable" / "index.md", "en", ("summary", "verbatim")),
        ("twir-2026-04-15", shared / "twir-2026-04-15.md", "en", ("summary",)),
    ]


def run_cli(*args: str, cwd: Path) -> tuple[float, int]:
    """Seconds and peak resident memory (MiB) of one mediagen command and everything it started."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mediagen", *args, "-q"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: mediagen {' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss // 1024


def whole_builds(work: Path) -> tuple[dict, dict, int, dict]:
    """Cold builds of every input and mode; the rebuild figures on rust-lld (summary)."""
    rtf: dict[str, dict[str, float]] = {}
    details: dict[str, dict] = {}
    peak = 0
    rebuilds: dict[str, float] = {}
    for name, issue, _lang, modes in inputs():
        for mode in modes:
            out, cache = work / f"{name}-{mode}", work / f"cache-{name}-{mode}"
            seconds, rss = run_cli(
                "build", str(issue), "--out", str(out), "--mode", mode, "--cache", str(cache), cwd=work
            )
            from mediagen.report import load_report

            report = load_report(out).as_dict()
            rtf.setdefault(name, {})[mode] = round(seconds / report["duration_s"], 3)
            details[f"{name}/{mode}"] = {
                "build_s": round(seconds, 1),
                "audio_s": report["duration_s"],
                "stages": report["stages"],
                "peak_rss_mib": rss,
            }
            peak = max(peak, rss)
            print(
                f"  {name:20} {mode:8} {seconds:6.1f} s for {report['duration_s']:6.1f} s of audio",
                flush=True,
            )
            if name == "rust-lld-on-stable" and mode == "summary":
                rebuilds = rebuild_ratios(issue, out, cache, seconds, work)
    return rtf, details, peak, rebuilds


def rebuild_ratios(issue: Path, out: Path, cache: Path, cold: float, work: Path) -> dict[str, float]:
    unchanged, _ = run_cli("build", str(issue), "--out", str(out), "--cache", str(cache), cwd=work)
    script = out / "episode.yaml"
    text = script.read_text(encoding="utf-8")
    first = re.search(r"- text: (.+)", text.split("narration:", 2)[2])
    assert first, "no narration sentence to edit"
    script.write_text(
        text.replace(first.group(1), "This one sentence was edited for the benchmark.", 1), encoding="utf-8"
    )
    edited, _ = run_cli("render", str(script), "--cache", str(cache), cwd=work)
    return {
        "rebuild_unchanged_ratio": round(unchanged / cold, 4),
        "rebuild_edit_ratio": round(edited / cold, 4),
    }


# --- under load ------------------------------------------------------------------------------------

HOG = """
import multiprocessing, os
def spin():
    while True:
        pass
if __name__ == "__main__":
    workers = [multiprocessing.Process(target=spin) for _ in range(os.cpu_count() or 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
"""


def loaded_slowdown(work: Path, rounds: int = 2) -> dict:
    """Script-stage seconds beside a process keeping every core busy, over the same on the idle machine
    (rust-lld, the bundled LLM, a cold cache each time; idle and loaded in turns, medians)."""
    issue = corpus() / "rust-lld-on-stable" / "index.md"
    idle, loaded = [], []
    for attempt in range(rounds):
        idle.append(script_stage_seconds(issue, work / f"idle-{attempt}"))
        hog = subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)
        try:
            time.sleep(1.0)
            loaded.append(script_stage_seconds(issue, work / f"loaded-{attempt}"))
        finally:
            os.killpg(hog.pid, signal.SIGTERM)  # the busy workers with it
            hog.wait()
        print(f"  script stage idle {idle[-1]:.1f} s, beside a busy process {loaded[-1]:.1f} s", flush=True)
    return {
        "loaded_slowdown": round(statistics.median(loaded) / statistics.median(idle), 2),
        "loaded": {"idle_s": idle, "loaded_s": loaded},
    }


def script_stage_seconds(issue: Path, folder: Path) -> float:
    """The script stage of `mediagen script` with the bundled LLM (its progress line), fresh cache: the
    default writer (the author's own sentences) takes a tenth of a second and measures nothing."""
    done = subprocess.run(
        [sys.executable, "-m", "mediagen", "script", str(issue), "--out", str(folder / "out"),
         "--cache", str(folder / "cache"), "--llm", "bundled"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"script\s+([\d.]+) s", done.stderr)
    if done.returncode != 0 or not found:
        sys.exit(f"bench: mediagen script failed:\n{done.stderr}")
    return float(found.group(1))


# --- video assembly ---------------------------------------------------------------------------------


def video_assembly(work: Path) -> dict:
    """Our concat-demuxer encode against moviepy 2 on the English sample's pictures and audio."""
    from mediagen import pages
    from mediagen.media import parts
    from mediagen.media.ffmpeg import decode_audio
    from mediagen.media.probe import probe
    from mediagen.report import load_report
    from mediagen.stages import assemble
    from mediagen.timeline import SlideSpan

    built = work / "issue-en-verbatim"
    report = load_report(built).as_dict()
    pictures = work / "pictures"
    pictures.mkdir(exist_ok=True)
    frames = []
    for number, png in enumerate(pages.rasterize((built / "slides.pdf").read_bytes(), (1920, 1080))):
        frame = pictures / f"slide-{number:03d}.png"
        frame.write_bytes(png)
        frames.append(frame)
    spans = [SlideSpan(s["page"] - 1, s["start_s"], s["end_s"]) for s in report["slides"]]
    audio = work / "audio.wav"
    samples = decode_audio(built / "episode.mp3", assemble.OUTPUT_SAMPLE_RATE, stage="bench")
    assemble.write_wav(_voiceover(samples), audio)
    release = assemble.Release(tags={}, chapters=[], cover=None)

    ours_times = []
    for attempt in range(3):
        scratch = work / f"ours-{attempt}"
        scratch.mkdir()
        started = time.perf_counter()
        keep = assemble.fresh(scratch)  # every picture and part encoded afresh, as in a cold build
        sound = assemble.Encoding(parts.split(samples, parts.OUTPUT_RATE, []), parts.AAC, -2.0, -1.0, keep)
        sound(0.0)
        assemble.write_mp4(frames, spans, sound.files, work / "ours.mp4", scratch, release, keep)
        ours_times.append(time.perf_counter() - started)

    plan = work / "moviepy-plan.json"
    slides = [[str(frames[s.index]), s.end - s.start] for s in spans]
    plan.write_text(json.dumps({"audio": str(audio), "slides": slides}), encoding="utf-8")
    done = subprocess.run(
        [
            str(BASELINE_PYTHON),
            str(ROOT / "bench" / "moviepy_baseline.py"),
            str(plan),
            str(work / "moviepy.mp4"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"bench: the moviepy baseline failed:\n{done.stderr}")
    baseline = float(done.stdout.strip().splitlines()[-1])

    ours_info, base_info = probe(work / "ours.mp4"), probe(work / "moviepy.mp4")
    for info in (ours_info, base_info):
        video = info.stream("video")
        assert video.codec == "h264" and (video.width, video.height) == (1920, 1080), info
    assert abs(ours_info.duration - base_info.duration) <= 0.1, (ours_info.duration, base_info.duration)
    ours = statistics.median(ours_times)
    return {
        "video_speedup": round(baseline / ours, 1),
        "video": {
            "ours_s": round(ours, 2),
            "moviepy_s": round(baseline, 1),
            "duration_s": round(ours_info.duration, 2),
            "pictures": len(frames),
            "frames_ours": ours_info.stream("video").frames,
            "frames_moviepy": base_info.stream("video").frames,
        },
    }


def _voiceover(samples):
    from mediagen.stages import assemble
    from mediagen.timeline import Voiceover

    return Voiceover(samples=samples, sample_rate=assemble.OUTPUT_SAMPLE_RATE, sentences=[], sections=[])


# --- voice ---------------------------------------------------------------------------------------------


def voice(work: Path) -> dict:
    """Our voice stage (cold cache) against piper once per sentence, serially, same sentences; then
    the floor: our voice stage's and one tiny.en hearing's seconds per second of those sentences."""
    from mediagen import incremental, recognition
    from mediagen.cache import Cache
    from mediagen.engines.registry import engine_identity, get_engine
    from mediagen.engines.whisper import WhisperEngine
    from mediagen.episode import load_episode
    from mediagen.stages.voice import lines_to_voice
    from mediagen.store import Store
    from mediagen.voices import Casting

    lines = lines_to_voice(load_episode(work / "rust-lld-on-stable-verbatim" / "episode.yaml"))
    engine = get_engine("tts", "piper")
    engine.synthesize("Warm up.")
    identity = engine_identity("tts", "piper")
    ours, baseline = [], []
    for attempt in range(3):
        started = time.perf_counter()
        for line in lines:
            engine.synthesize(line.spoken)
        baseline.append(time.perf_counter() - started)
        cache = Cache(work / f"voice-cache-{attempt}")
        started = time.perf_counter()
        casting = Casting("en", None, lambda _: engine, lambda _: identity)
        clips, rate = incremental.voice_lines(lines, "en", casting, Store(cache))
        ours.append(time.perf_counter() - started)
    audio_s = sum(len(clip) for clip in clips) / rate
    asr = WhisperEngine(lang="en")
    asr.transcribe(np.zeros(16_000, np.float32))  # warm up
    started = time.perf_counter()
    recognition.recognize(asr, clips, rate, "en")
    heard_s = time.perf_counter() - started
    voice_rtf, tiny_rtf = statistics.median(ours) / audio_s, heard_s / audio_s
    floor = {
        "voice_rtf": round(voice_rtf, 3),
        "piper_serial_rtf": round(statistics.median(baseline) / audio_s, 3),
        "tiny_en_rtf": round(tiny_rtf, 3),
        "sum": round(voice_rtf + tiny_rtf, 3),
    }
    return {
        "voice_ratio": round(statistics.median(ours) / statistics.median(baseline), 3),
        "voice": {
            "sentences": len(lines),
            "ours_s": round(statistics.median(ours), 2),
            "piper_serial_s": round(statistics.median(baseline), 2),
            "audio_s": round(audio_s, 1),
        },
        "floor": floor,
    }


# --- report --------------------------------------------------------------------------------------------


def machine() -> dict:
    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def verdicts(results: dict) -> list[tuple[str, str, str, bool]]:
    rows = []
    for key, (op, target) in TARGETS.items():
        value = results[key]
        ok = value >= target if op == ">=" else value <= target
        rows.append((key, f"{value}", f"{op} {target}", ok))
    langs = {name: lang for name, _, lang, _ in inputs()}
    for name, modes in results["build_rtf"].items():
        for mode, value in modes.items():
            target = RTF_TARGETS[(langs[name], mode)]
            rows.append((f"build_rtf {name} {mode}", f"{value}", f"<= {target}", value <= target))
    return rows


def main() -> None:
    if sys.argv[1:] == ["loaded"]:  # only the figure under load, merged into the last results
        with tempfile.TemporaryDirectory(prefix="mediagen-bench-") as folder:
            load = loaded_slowdown(Path(folder))
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        results["loaded_slowdown"] = load["loaded_slowdown"]
        results["details"]["loaded"] = load["loaded"]
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"loaded_slowdown {load['loaded_slowdown']}")
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mediagen-bench-") as folder:
        work = Path(folder)
        print("cold builds:", flush=True)
        rtf, details, peak, rebuilds = whole_builds(work)
        print("voice:", flush=True)
        voiced = voice(work)
        print("video assembly:", flush=True)
        video = video_assembly(work)
        print("under load:", flush=True)
        load = loaded_slowdown(work)
    results = {
        "video_speedup": video["video_speedup"],
        "voice_ratio": voiced["voice_ratio"],
        "build_rtf": rtf,
        **rebuilds,
        "peak_rss_mib": peak,
        "loaded_slowdown": load["loaded_slowdown"],
        "floor": voiced["floor"],
        "machine": machine(),
        "details": {
            "builds": details,
            "video": video["video"],
            "voice": voiced["voice"],
            "loaded": load["loaded"],
        },
        "bench_s": round(time.perf_counter() - started, 1),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\n{'figure':38} {'value':>8}  target")
    for key, value, target, ok in verdicts(results):
        print(f"{key:38} {value:>8}  {target:10} {'ok' if ok else 'MISSED'}")
    facts = results["machine"]
    floor = results["floor"]
    print(f"\nfloor here: voice {floor['voice_rtf']} + tiny.en {floor['tiny_en_rtf']} = {floor['sum']} "
          f"seconds per second of audio (piper serially: {floor['piper_serial_rtf']})")  # fmt: skip
    print(f"{facts['cores']} cores, {facts['cpu']}; the benchmark took {results['bench_s']} s")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
