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
    assert path.read_text().startswith("schema: 2\ntitle: T\nlang: en\n")


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.replace("- text: A thing happened.", "- text: ''"), 16, "at least 1 character"),
        (lambda t: t.replace("lang: en", "lang: fr"), 3, "lang"),
        (lambda t: t.replace("  - text: A thing happened.", "  - txt: A thing happened."), 16, "txt"),
        (lambda t: t.replace("schema: 2", "schema: 7"), 1, "unsupported schema 7"),
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


def test_a_schema_1_episode_still_loads_as_one_speaker(tmp_path: Path):
    path = tmp_path / "episode.yaml"
    dump_episode(small_episode(), path)
    path.write_text(path.read_text().replace("schema: 2", "schema: 1"))
    episode = load_episode(path)
    assert episode.schema_version == 1 and episode.speakers == {}
    assert all(line.speaker is None for s in episode.sections for line in s.narration)


def test_a_line_of_a_speaker_the_episode_does_not_have_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "episode.yaml"
    dump_episode(small_episode(), path)
    path.write_text(path.read_text().replace("- text: Hello.", "- text: Hello.\n    speaker: nobody"))
    with pytest.raises(InputError, match=r"episode.yaml:\d+: no speaker 'nobody'"):
        load_episode(path)
