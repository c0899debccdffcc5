"""One exception tree, rooted in click's, so the CLI can always print one clean line."""

from __future__ import annotations

import click

EXIT_STAGE_FAILED = 1
EXIT_BAD_INPUT = 2


class MediagenError(click.ClickException):
    """Something went wrong that the user should read about in one line. `stage` names the pipeline
    stage it happened in, when known (batch reports it)."""

    exit_code = EXIT_STAGE_FAILED
    stage: str | None = None


class InputError(MediagenError):
    """Bad input or usage: a missing file, an invalid episode.yaml, an unusable option value."""

    exit_code = EXIT_BAD_INPUT


class StageError(MediagenError):
    """A pipeline stage failed; the message names the stage and, when known, the section."""

    exit_code = EXIT_STAGE_FAILED

    def __init__(self, stage: str, message: str, section: str | None = None) -> None:
        where = f"{stage} stage" + (f", section '{section}'" if section else "")
        super().__init__(f"{where}: {message}")
        self.stage = stage
        self.section = section


class EngineUnavailable(MediagenError):
    """An engine the author chose cannot be used: a server that is not reachable or refuses. Never
    replaced by another engine without a word: the build stops (exit code 1)."""

    exit_code = EXIT_STAGE_FAILED
