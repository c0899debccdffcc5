from pathlib import Path

import pytest

from mediagen.episode import Episode, EpisodeSection, Narration, Slide, dump_episode, load_episode
from mediagen.errors import InputError


def small_episode() -> Episode:
    return Episode(
        title="T",
        lang="en",
        sections=[
            EpisodeSection(
                id="intro",
                title="T",
                narration=[Narration(text="Hello.")],
                slides=[Slide(layout="title", title="T")],
            ),
            EpisodeSection(
                id="news",
                title="News",
                narration=[Narration(text="A thing happened.")],
                slides=[Slide(title="News", bullets=["A thing"])],
            ),
        ],
    )


def test_an_episode_survives_a_round_trip_through_yaml(tmp_path: Path):
    path = tmp_path / "episode.yaml"
    dump_episode(small_episode(), path)
    assert load_episode(path) == small_episode()
    assert path.read_text().startswith("schema: 1\ntitle: T\nlang: en\n")


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.replace("- text: A thing happened.", "- text: ''"), 16, "at least 1 character"),
        (lambda t: t.replace("lang: en", "lang: fr"), 3, "lang"),
        (lambda t: t.replace("  - text: A thing happened.", "  - txt: A thing happened."), 16, "txt"),
        (lambda t: t.replace("schema: 1", "schema: 7"), 1, "unsupported schema 7"),
        (lambda t: t.replace("id: news", "id: intro"), 13, "appears twice"),
        (lambda t: t + "  - : [\n", 22, ""),
    ],
)
def test_a_bad_edit_is_reported_with_its_line_and_exit_code_2(tmp_path: Path, edit, line, message):
    path = tmp_path / "episode.yaml"
    dump_episode(small_episode(), path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(InputError) as error:
        load_episode(path)
    text = error.value.format_message()
    assert text.startswith(f"episode.yaml:{line}:"), text
    assert message in text
    assert error.value.exit_code == 2


def test_a_missing_episode_file_is_bad_input(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        load_episode(tmp_path / "nope.yaml")
