"""The build's scheduler (mediagen.runner): work at once within a budget of cores, never more."""

from __future__ import annotations

import threading
import time

import pytest

from mediagen.runner import Cores, Stopped, stopped, together


class Watch:
    """How many pieces of work ran at once, at the most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def work(self, seconds: float = 0.02) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(seconds)
        with self.lock:
            self.now -= 1


def test_map_runs_as_many_at_once_as_there_are_cores_and_keeps_the_order():
    cores, watch = Cores(2), Watch()

    def work(n: int) -> int:
        watch.work()
        return n * n

    assert list(cores.map(work, range(12), width=8)) == [n * n for n in range(12)]
    assert watch.most == 2 and cores.most_held == 2 and cores.free == 2


def test_work_that_holds_every_core_runs_alone_and_one_core_work_beside_it_waits():
    cores, watch = Cores(2), Watch()
    order: list[str] = []

    def wide(stop: threading.Event) -> None:
        list(cores.map(lambda _: (watch.work(0.05), order.append("wide")), range(3), each=2))

    def narrow(stop: threading.Event) -> None:
        time.sleep(0.01)
        list(cores.map(lambda _: (watch.work(0.01), order.append("narrow")), range(3)))

    together(wide, narrow)
    assert cores.most_held == 2 and watch.most <= 2 and cores.free == 2
    assert sorted(order) == ["narrow"] * 3 + ["wide"] * 3


def test_a_thread_that_holds_cores_and_asks_again_is_not_kept_waiting_by_itself():
    cores = Cores(2)
    with cores.hold(1), cores.hold(2), cores.hold(1):
        assert cores.free == 0
    assert cores.free == 2


def test_slides_beside_the_voice_take_a_core_from_it_rather_than_a_third_one():
    cores, watch = Cores(2), Watch()

    def slides(stop: threading.Event) -> str:
        with cores.hold(1):
            watch.work(0.1)
        return "deck"

    def voice(stop: threading.Event) -> list[int]:
        return list(cores.map(lambda n: (watch.work(0.02), n)[1], range(10)))

    assert together(slides, voice) == ["deck", list(range(10))]
    assert watch.most == 2


def test_when_one_call_fails_the_others_give_up_and_its_error_is_raised():
    cores = Cores(2)
    done: list[int] = []

    def failing(stop: threading.Event) -> None:
        time.sleep(0.02)
        raise ValueError("bad slide")

    def long(stop: threading.Event) -> None:
        for n in range(200):
            stopped(stop)
            with cores.hold(1):
                time.sleep(0.005)
            done.append(n)

    with pytest.raises(ValueError, match="bad slide"):
        together(long, failing)
    assert 0 < len(done) < 200  # stopped early, not run to the end
    assert cores.free == 2


def test_a_call_stopped_by_another_does_not_hide_the_real_error():
    def failing(stop: threading.Event) -> None:
        raise KeyError("first")

    def gives_up(stop: threading.Event) -> None:
        stop.wait(1)
        raise Stopped

    with pytest.raises(KeyError):
        together(gives_up, failing)


def test_the_progress_display_has_a_bar_per_stage_running_and_counts_each_for_its_own():
    import io

    from rich.console import Console

    from mediagen.progress import ConsoleProgress

    progress = ConsoleProgress()
    progress.console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with progress.stage("voice", total=10):
        with progress.stage("slides"):
            progress.advance(3, stage="voice")
            bars = {task.description: task for task in progress._live.tasks}
            assert set(bars) == {"voice", "slides"}
            assert bars["voice"].completed == 3 and bars["slides"].completed == 0
        progress.advance(2)  # the stage still open
        assert [(t.description, t.completed) for t in progress._live.tasks] == [("voice", 5)]
    assert progress._live is None
    printed = progress.console.file.getvalue()
    assert printed.index("slides") < printed.rindex("voice")  # each says when it is done


def test_work_that_holds_every_core_and_maps_more_work_runs_it_itself_instead_of_waiting_forever():
    cores = Cores(2)
    result: list[list[int]] = []
    worker = threading.Thread(target=lambda: result.append(_nested(cores)), daemon=True)
    worker.start()
    worker.join(5)
    assert result == [[0, 1, 4, 9]] and cores.free == 2


def _nested(cores: Cores) -> list[int]:
    with cores.hold(2):
        return list(cores.map(lambda n: n * n, range(4)))
