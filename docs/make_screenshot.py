"""`make screenshot`: docs/preview.png, the page `mediagen preview` serves for the English sample
(built with the speech check, in a temporary folder), as headless chromium shows it."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "preview.png"


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, "-m", "mediagen", "preview", str(ROOT / "samples" / "issue-en.md")]
        command += ["--out", f"{work}/out", "--cache", f"{work}/cache", "-q"]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT / "samples")
        try:
            url = server.stdout.readline().split(": ", 1)[1].strip()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with urllib.request.urlopen(url + "api/episode", timeout=10) as answer:
                    state = json.load(answer)["state"]
                if state["status"] in ("ready", "error"):
                    break
                time.sleep(1)
            options = webdriver.ChromeOptions()
            for flag in (
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
            ):
                options.add_argument(flag)
            browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            try:
                browser.get(url)
                time.sleep(3)
                # The second section, its player part-way through and a line marked as spoken.
                browser.execute_script(
                    "const s = document.querySelectorAll('.section')[1]; s.scrollIntoView();"
                    "window.scrollBy(0, -70); const p = s.querySelector('.player');"
                    "p.currentTime = Number(s.querySelector('.line').dataset.start) + 0.5;"
                )
                time.sleep(1)
                browser.save_screenshot(str(OUT))
            finally:
                browser.quit()
        finally:
            server.terminate()
            server.wait(20)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
