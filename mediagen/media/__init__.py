"""Thin wrappers over the media binaries and formats (ffmpeg, PyAV probing, captions)."""
