"""The command line's options, shared by its commands (see mediagen.cli)."""

from __future__ import annotations

from pathlib import Path

import click

LANGS = ("auto", "en", "ja")
MODES = ("summary", "verbatim", "dialogue")
ASPECTS = ("16:9", "9:16", "1:1")


def issue_argument(func):
    return click.argument("issue", type=click.Path(path_type=Path, dir_okay=False))(func)


def out_option(default_help: str):
    return click.option(
        "--out",
        "-o",
        type=click.Path(path_type=Path, file_okay=False),
        help=f"Folder for the outputs (default: {default_help}).",
    )


lang_option = click.option(
    "--lang",
    type=click.Choice(LANGS),
    default="auto",
    show_default=True,
    help="Language of the issue: from the front matter's `lang`, else detected from the text (auto).",
)
mode_option = click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="summary (the default, or [show] mode): each section in a few sentences and slide bullets (the "
    "author's key sentences, or a model's, each checked against the text); verbatim: narrate all of the "
    "author's own prose; dialogue: two hosts talk each section through.",
)
llm_options = [
    click.option(
        "--llm",
        default=None,
        metavar="none|bundled|PATH.gguf|URL",
        help="Who writes the summary: none (the author's own key sentences; the default unless "
        "[llm] url is set), the bundled Gemma 3 270M, a GGUF file (driven as a chat model when it has a "
        "chat template), or an OpenAI-compatible server such as http://127.0.0.1:11434/v1 (Ollama).",
    ),
    click.option(
        "--llm-model", default=None, metavar="NAME", help="The server's model (e.g. qwen2.5:7b-instruct)."
    ),
]
show_options = [
    click.option(
        "--show/--no-show",
        default=True,
        help="Put the show around the content: an opening, a transition into each section, a sign-off.",
    ),
    click.option(
        "--minutes",
        type=click.FloatRange(min=0.1, max=600),
        default=None,
        help="A length to keep: the summary says as much of each section as fits (default: [show] minutes).",
    ),
]
aspect_option = click.option(
    "--aspect",
    type=click.Choice(ASPECTS),
    default="16:9",
    show_default=True,
    help="Video and slide shape: 1920×1080, 1080×1920 or 1080×1080 pixels.",
)
voice_option = click.option(
    "--voice",
    default=None,
    metavar="NAME|PATH.onnx",
    help="The narrator's voice. English: joe (piper, the default), a Piper .onnx voice file, or one of "
    "Kokoro's packs (jf_gongitsune, jf_alpha, jf_nezumi, jf_tebukuro, jm_kumo) fed English phonemes; "
    "Japanese: a Kokoro pack (default jf_alpha). A dialogue's hosts: [show] hosts in mediagen.toml.",
)
templates_option = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder searched before the shipped templates; a file here (e.g. slides/default/style.css or "
    "prompts/summary.en.j2) overrides the shipped file of the same name.",
)
theme_option = click.option(
    "--theme",
    default=None,
    metavar="NAME",
    help="The slides' theme: a folder slides/NAME/ of the templates (shipped: default, midnight, "
    "studio; default: [slides] theme in mediagen.toml, else default).",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress display.")
cache_option = click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Cache folder (default: MEDIAGEN_CACHE, else `cache` in mediagen.toml, else .mediagen/cache/ "
    "beside the issue). Only work whose inputs changed is redone.",
)
rescript_option = click.option(
    "--rescript",
    multiple=True,
    metavar="SECTION_ID",
    help="Write this section's narration and slides afresh even though you edited episode.yaml "
    "(repeatable). Other edits are kept.",
)
qa_option = click.option(
    "--qa/--no-qa",
    default=True,
    help="Check every voiced sentence by transcribing it (faster-whisper): re-voice what was heard "
    "wrong, flag what stays wrong, time captions by the words heard. On by default.",
)
burn_option = click.option(
    "--burn-captions",
    is_flag=True,
    help="Draw the captions onto the video as well (episode.srt/.vtt are written either way).",
)
limit_options = [
    click.option(
        "--max-input-mb",
        type=click.FloatRange(min=0.001),
        default=None,
        help="Refuse an issue file larger than this (default: [limits] input_mb in mediagen.toml, 2).",
    ),
    click.option(
        "--max-sections",
        type=click.IntRange(min=1),
        default=None,
        help="Refuse an issue with more sections than this (default: [limits] sections, 150).",
    ),
]
force_option = click.option(
    "--force",
    is_flag=True,
    help="Regenerate the whole episode.yaml from the Markdown, discarding edits made to it.",
)


def _writing_options() -> list:
    """What a build from Markdown is told about writing and showing the episode (shared by the
    commands that start from an issue)."""
    return [
        lang_option,
        mode_option,
        *llm_options,
        *show_options,
        aspect_option,
        voice_option,
        templates_option,
        theme_option,
        cache_option,
    ]


def _apply(func, options: list):
    for option in reversed(options):
        func = option(func)
    return func


def issue_options(func):
    """The argument and options shared by the commands that start from a Markdown issue."""
    return _apply(
        func,
        [
            issue_argument,
            out_option("out/<issue name>/"),
            *_writing_options(),
            rescript_option,
            force_option,
            *limit_options,
            quiet_option,
        ],
    )


def preview_options(func):
    """The options of `mediagen preview`: those of a build from Markdown, without its argument."""
    return _apply(
        func,
        [
            out_option("out/<issue name>/, or TARGET itself when it is an out folder"),
            *_writing_options(),
            *limit_options,
            quiet_option,
        ],
    )
