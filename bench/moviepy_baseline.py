"""The baseline `make bench` measures our video assembly against: the common moviepy 2 approach, run
in its own environment (moviepy pins an older Pillow than mediagen uses).

    python moviepy_baseline.py PLAN.json OUT.mp4   # PLAN: {"audio": WAV, "slides": [[PNG, seconds], ...]}

Prints the seconds it took to build and write the video.
"""

import json
import sys
import time
from pathlib import Path

from moviepy import AudioFileClip, ImageClip, concatenate_videoclips

plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
started = time.perf_counter()
clips = [ImageClip(picture).with_duration(seconds) for picture, seconds in plan["slides"]]
video = concatenate_videoclips(clips).with_audio(AudioFileClip(plan["audio"]))
video.write_videofile(sys.argv[2], fps=30, codec="libx264", preset="medium", audio_codec="aac", logger=None)
print(time.perf_counter() - started)
