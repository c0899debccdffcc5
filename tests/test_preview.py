"""mediagen preview: the edit API's checks, the server's refusals, and the whole studio in a real browser
(Debian's chromium, driven by Selenium through chromium-driver; `make test` installs both)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from mediagen.edits import Edits, apply_edits, page_view
from mediagen.episode import load_episode
from mediagen.errors import InputError
from mediagen.templating import shipped_templates

ISSUE = """---
title: Garden Notes 3
author: Ana Ruiz
date: 2026-05-04
---

# Garden Notes 3

## Tomatoes in small pots

Tomatoes grow well in pots on a sunny balcony. Water them every morning in summer.
A pot of twenty litres is enough for one plant.

## Saving seeds

Dry the seeds of your best beans on paper for a week. Keep them in a cool, dark place until spring.
"""

NEW_LINE = "The garden club meets every Tuesday evening near the library."


def _voices(lang: str) -> list[str]:
    return ["joe"]


def _episode_file(tmp_path: Path) -> Path:
    path = tmp_path / "episode.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "schema": 2,
                "title": "Notes",
                "lang": "en",
                "sections": [
                    {
                        "id": "one",
                        "title": "One",
                        "narration": [{"text": "A first line."}, {"text": "A second line."}],
                        "slides": [{"layout": "bullets", "title": "One", "bullets": ["a", "b"]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_an_edit_is_written_whole_and_checked_as_render_checks_episode_yaml(tmp_path):
    from mediagen.limits import DEFAULT

    path = _episode_file(tmp_path)
    edits = Edits.model_validate(
        {
            "lines": [{"section": "one", "line": 1, "text": "A new second line.", "voice": "joe"}],
            "slides": [{"section": "one", "slide": 0, "title": "Uno", "bullets": ["x"]}],
        }
    )
    apply_edits(path, edits, DEFAULT, _voices)
    episode = load_episode(path)
    line = episode.sections[0].narration[1]
    assert (line.text, line.voice, line.origin) == ("A new second line.", "joe", "author")
    assert episode.sections[0].narration[0].text == "A first line."
    assert (episode.sections[0].slides[0].title, episode.sections[0].slides[0].bullets) == ("Uno", ["x"])
    before = path.read_bytes()
    refused = [
        {"lines": [{"section": "one", "line": 0, "voice": "nobody"}]},  # not a voice of the language
        {"lines": [{"section": "one", "line": 5, "text": "x"}]},  # no such line
        {"lines": [{"section": "two", "line": 0, "text": "x"}]},  # no such section
        {"lines": [{"section": "one", "line": 0, "text": "   "}]},  # nothing to say
        {"lines": [{"section": "one", "line": 0, "text": "word " * 20_000}]},  # over the limits
    ]
    for body in refused:
        with pytest.raises(InputError, match=r"edit refused|has no|no section"):
            apply_edits(path, Edits.model_validate(body), DEFAULT, _voices)
        assert path.read_bytes() == before, body  # a refused edit leaves the file as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episode.yaml"]  # no draft left behind
    with pytest.raises(ValueError):
        Edits.model_validate({"lines": [{"section": "one", "line": 0, "path": "/etc/passwd"}]})


def test_the_page_shows_each_lines_times_and_hearing_only_while_the_text_is_the_one_voiced(tmp_path):
    episode = load_episode(_episode_file(tmp_path))
    report = {
        "sentences": [
            {"section": "one", "text": "A first line.", "start_s": 0.5, "end_s": 1.5},
            {"section": "one", "text": "An older second line.", "start_s": 1.8, "end_s": 3.0},
        ],
        "qa": {
            "metric": "wer",
            "overall": 0.1,
            "sentences": [
                {"text": "A first line.", "heard": "A fast line.", "score": 0.33, "flagged": True, "take": 2},
                {"text": "An older second line.", "heard": "An older second line.", "score": 0.0},
            ],
        },
        "sections": [{"id": "one", "start_s": 0.0, "end_s": 3.2}],
    }
    view = page_view(episode, [["frames/0?v=a"]], report, ["joe"])
    first, second = view["sections"][0]["lines"]
    assert (first["start_s"], first["heard"], first["flagged"]) == (0.5, "A fast line.", True)
    assert "start_s" not in second and "heard" not in second  # edited since: not voiced yet
    assert view["sections"][0]["slides"][0]["pictures"] == ["frames/0?v=a"]
    assert (view["sections"][0]["start_s"], view["sections"][0]["end_s"]) == (0.0, 3.2)


# --- the server ----------------------------------------------------------------------------------------


class Preview:
    """`mediagen preview` in a process of its own; its URL read from what it prints."""

    def __init__(self, target: Path, *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "mediagen", "preview", str(target), *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or dict(os.environ)
        )
        line = self.process.stdout.readline()
        assert line.startswith("mediagen preview: http://127.0.0.1:"), (line, self.stop())
        self.url = line.split(": ", 1)[1].strip()
        self.port = int(self.url.split(":")[2].split("/")[0])

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return _fetch(f"http://127.0.0.1:{self.port}{path}", headers)

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


def _fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_ready(preview: Preview, timeout: float = 300) -> dict:
    token = preview.url.rstrip("/").rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = preview.get(f"/{token}/api/episode")
        assert status == 200, body
        data = json.loads(body)
        if data["state"]["status"] in ("ready", "error") and data["view"]:
            assert data["state"]["status"] == "ready", data["state"]
            return data
        time.sleep(0.3)
    raise AssertionError(f"not ready in {timeout} s: {preview.stop()}")


def _built_folder(tmp_path: Path) -> Path:
    """An out folder rendered from a small episode.yaml, with no speech check (for the refusals)."""
    out = tmp_path / "out"
    out.mkdir()
    _episode_file(out)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mediagen",
            "render",
            str(out / "episode.yaml"),
            "--no-qa",
            "-q",
            "--cache",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return out


def _other_addresses() -> list[str]:
    """This machine's addresses other than loopback (the one a route to the outside leaves from)."""
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, only a route chosen
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    with contextlib.suppress(OSError):
        found |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    return sorted(a for a in found if not a.startswith("127."))


def test_the_server_refuses_requests_without_the_token_outside_its_files_or_off_loopback(tmp_path):
    out = _built_folder(tmp_path)
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    preview = Preview(out, "--no-qa", "--cache", str(tmp_path / "cache"))
    try:
        data = _wait_ready(preview)
        token = preview.url.rstrip("/").rsplit("/", 1)[1]
        assert preview.get(f"/{token}/")[0] == 200
        assert preview.get(f"/{token}/files/episode.mp3")[0] == 200
        picture = data["view"]["sections"][0]["slides"][0]["pictures"][0]
        status, png = preview.get(f"/{token}/{picture}")
        assert status == 200 and png.startswith(b"\x89PNG")
        # Ranges, so the page's players can seek.
        status, part = preview.get(f"/{token}/files/episode.mp3", {"Range": "bytes=100-199"})
        assert status == 206 and len(part) == 100
        refused = [
            "/",
            f"/{token[:-1]}x/",  # a wrong token
            f"/{token[:-1]}x/files/episode.mp3",
            "/files/episode.mp3",
            f"/{token}/files/episode.yaml",  # in the out folder, but not a file the page needs
            f"/{token}/files/report.json",
            f"/{token}/files/..%2Fsecret.txt",
            f"/{token}/files/%2Fetc%2Fpasswd",
            f"/{token}/static/..%2F..%2Fepisode.py",
            f"/{token}/frames/-1",
            f"/{token}/frames/999",
            f"/{token}/../secret.txt",
            f"/{token}//etc/passwd",
        ]
        for path in refused:
            status, body = preview.get(path)
            assert status in (403, 404), (path, status)
            assert b"secret" not in body and b"root:" not in body, path
        # A page of another site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused.
        assert preview.get(f"/{token}/api/episode", {"Host": f"evil.example:{preview.port}"})[0] == 403
        # Writes only through the edit API, and only from the preview's own page.
        edit = json.dumps({"lines": [{"section": "one", "line": 0, "text": "Changed."}]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{preview.port}/{token}/api/edit",
            data=edit,
            headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
        )
        with pytest.raises(urllib.error.HTTPError) as refusal:
            urllib.request.urlopen(request, timeout=10)
        assert refusal.value.code == 403
        assert "Changed." not in (out / "episode.yaml").read_text(encoding="utf-8")
        # Bound to loopback only: on every other address of this machine, nothing listens on the port.
        for address in _other_addresses():
            with socket.socket() as probe:
                probe.settimeout(2)
                assert probe.connect_ex((address, preview.port)) != 0, address
        listening = [
            line.split()[1]
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == preview.port
        ]
        assert listening == [f"0100007F:{preview.port:04X}"], listening  # 127.0.0.1, and only it
    finally:
        preview.stop()


# --- the studio in a browser -------------------------------------------------------------------------


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    assert browser and driver, "chromium and chromium-driver are missing: `make test` installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1400,1000",
        "--mute-audio",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def _wait(until, what: str, timeout: float = 300, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = until()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"waited {timeout} s for {what}")


PIXEL = """
const img = document.querySelector('.section img.slide');
if (!img || !img.complete || !img.naturalWidth) return null;
const canvas = document.createElement('canvas');
canvas.width = 4; canvas.height = 4;
const context = canvas.getContext('2d');
context.drawImage(img, 0, 0, 4, 4, 0, 0, 4, 4);
return Array.from(context.getImageData(1, 1, 1, 1).data.slice(0, 3));
"""


@pytest.mark.slow
def test_the_studio_in_a_browser_plays_edits_and_follows_files_changed_on_disk(tmp_path):
    import av
    from faster_whisper import WhisperModel

    from mediagen.models import whisper_model_dir
    from mediagen.report import load_report

    from .media_checks import audio_segment

    issue = tmp_path / "garden.md"
    issue.write_text(ISSUE, encoding="utf-8")
    templates = tmp_path / "templates"
    (templates / "slides" / "default").mkdir(parents=True)
    style = templates / "slides" / "default" / "style.css"
    shutil.copy(shipped_templates() / "slides" / "default" / "style.css", style)
    out = tmp_path / "out"
    preview = Preview(issue, "--out", str(out), "--templates", str(templates), "--cache", str(tmp_path / "c"))
    browser = _chromium()
    try:
        data = _wait_ready(preview)
        browser.get(preview.url)
        frames = sum(len(s["pictures"]) for sec in data["view"]["sections"] for s in sec["slides"])
        # Every slide's picture loads.
        loaded = (
            "return Array.from(document.querySelectorAll('img.slide'))"
            ".filter(i => i.complete && i.naturalWidth > 0).length"
        )
        _wait(lambda: browser.execute_script(loaded) == frames, "every slide picture", 60)
        assert frames >= 3
        # A section's player plays its part of the episode and marks the line being said.
        browser.execute_script("document.querySelector('.section .player').play()")
        speaking = _wait(
            lambda: browser.execute_script(
                "const p = document.querySelector('.section .player');"
                "const s = document.querySelector('.section .line.speaking');"
                "return p.currentTime > 0.5 && s ? s.dataset.line : null;"
            ),
            "the first line marked while it plays",
            30,
        )
        assert speaking is not None
        browser.execute_script("document.querySelector('.section .player').pause()")

        # An edit in the page: one line of the second section.
        before = {name: (out / name).stat().st_mtime_ns for name in ("episode.mp3", "episode.mp4")}
        section = browser.find_elements("css selector", ".section")[1]
        section_id = section.get_attribute("data-section")
        box = section.find_elements("css selector", ".line .text")[0]
        box.clear()
        box.send_keys(NEW_LINE)
        section.find_element("css selector", ".save").click()
        check = (
            "const line = document.querySelector(`.section[data-section='${arguments[0]}'] .line`);"
            "return document.body.dataset.status === 'ready' && line.dataset.start !== undefined &&"
            " line.querySelector('.text').dataset.saved === arguments[1];"
        )
        _wait(lambda: browser.execute_script(check, section_id, NEW_LINE), "the edited line voiced", 300)
        episode = load_episode(out / "episode.yaml")
        edited = next(s for s in episode.sections if s.id == section_id)
        assert edited.narration[0].text == NEW_LINE
        manifest = json.loads((out / ".mediagen-manifest.json").read_text(encoding="utf-8"))
        works = {w["key"]: w for w in manifest["works"]["voice"]}
        first_takes = [
            works[k] for k in manifest["redone"].get("voice", []) if "take" not in works[k]["parts"]
        ]
        assert len(first_takes) == 1 and first_takes[0]["name"].startswith(section_id), manifest["redone"]
        assert not manifest["redone"].get("slides"), manifest["redone"]
        for name, stamp in before.items():
            assert (out / name).stat().st_mtime_ns != stamp, name  # both media made again
        report = load_report(out)
        said = next(s for s in report.sentences if s.text == NEW_LINE)
        for name in ("episode.mp3", "episode.mp4"):
            with av.open(str(out / name)) as media:
                assert abs(media.duration / 1e6 - report.duration_s) < 0.3, name
        # The MP3 itself says the new line where the report puts it.
        model = WhisperModel(str(whisper_model_dir("tiny.en")), device="cpu", compute_type="int8")
        segments, _ = model.transcribe(
            audio_segment(out / "episode.mp3", said.start_s, said.end_s), language="en"
        )
        heard = " ".join(s.text for s in segments).lower()
        assert "tuesday" in heard and "library" in heard, heard

        # A CSS change saved on disk is seen in the page within 2 s.
        assert browser.execute_script(PIXEL) != [255, 0, 255]
        saved = time.monotonic()
        style.write_text(
            style.read_text(encoding="utf-8") + "\n@page { background: #ff00ff; }\n", encoding="utf-8"
        )
        _wait(lambda: browser.execute_script(PIXEL) == [255, 0, 255], "the new background in the page", 30)
        seen = time.monotonic() - saved
        assert seen <= 2.0, seen
        print(f"CSS change seen in the page {seen:.2f} s after saving")
    finally:
        browser.quit()
        preview.stop()
