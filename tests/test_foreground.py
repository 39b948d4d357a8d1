"""Foreground: background loops step aside while work a rep waits for runs, and only then
(never longer than their limit)."""

from __future__ import annotations

import threading

from vectoros_tui.foreground import Foreground


def stepping_aside(foreground: Foreground, limit: float = 30.0) -> threading.Event:
    """A background thread's step aside; the event is set once it has returned."""
    returned = threading.Event()

    def run() -> None:
        foreground.step_aside(limit)
        returned.set()

    threading.Thread(target=run, daemon=True).start()
    return returned


def test_nothing_awaited_means_no_waiting() -> None:
    foreground = Foreground()
    assert not foreground.busy
    assert stepping_aside(foreground).wait(5)


def test_background_work_waits_until_all_awaited_work_is_done() -> None:
    foreground = Foreground()
    first, second = foreground.running(), foreground.running()
    first.__enter__()
    second.__enter__()
    assert foreground.busy
    returned = stepping_aside(foreground)
    assert not returned.wait(0.2)
    first.__exit__(None, None, None)
    assert not returned.wait(0.2)  # the other awaited work still runs
    second.__exit__(None, None, None)
    assert returned.wait(5)
    assert not foreground.busy


def test_awaited_work_that_fails_still_lets_background_work_go_on() -> None:
    foreground = Foreground()
    try:
        with foreground.running():
            raise RuntimeError("the forecast failed")
    except RuntimeError:
        pass
    assert not foreground.busy
    assert stepping_aside(foreground).wait(5)


def test_background_work_is_never_held_past_its_limit() -> None:
    foreground = Foreground()
    with foreground.running():
        assert stepping_aside(foreground, limit=0.05).wait(5)


def test_a_pauser_waits_at_most_its_budget_in_all() -> None:
    foreground = Foreground()
    pause = foreground.pauser(budget=0.2)
    finished = threading.Event()

    def background() -> None:
        for _ in range(100):  # 100 chunks, each of which would wait up to 2 s alone
            pause()
        finished.set()

    with foreground.running():
        threading.Thread(target=background, daemon=True).start()
        assert finished.wait(10)  # the budget, not 100 x the limit


def test_a_pauser_steps_aside_while_awaited_work_runs() -> None:
    foreground = Foreground()
    pause = foreground.pauser(budget=30)
    returned = threading.Event()

    def background() -> None:
        pause()
        returned.set()

    with foreground.running():
        threading.Thread(target=background, daemon=True).start()
        assert not returned.wait(0.2)
    assert returned.wait(5)


def test_expected_work_holds_background_work_until_it_has_run() -> None:
    """Asked for but not started (a worker thread a moment away): background work waits
    for it as for running work, and goes on once it has run."""
    foreground = Foreground()
    foreground.expect(within=30.0)
    assert foreground.busy
    returned = stepping_aside(foreground)
    assert not returned.wait(0.2)
    with foreground.running():
        assert not returned.wait(0.2)
    assert returned.wait(5)
    assert not foreground.busy


def test_an_expectation_that_never_arrives_lapses() -> None:
    """A worker cancelled before it started must not hold background work for good."""
    foreground = Foreground()
    foreground.expect(within=0.3)
    returned = stepping_aside(foreground, limit=30.0)
    assert not returned.wait(0.1)
    assert returned.wait(5)
    assert not foreground.busy


def test_a_pauser_steps_aside_for_expected_work_too() -> None:
    foreground = Foreground()
    pause = foreground.pauser(budget=30.0)
    foreground.expect(within=30.0)
    paused = threading.Event()

    def run() -> None:
        pause()
        paused.set()

    threading.Thread(target=run, daemon=True).start()
    assert not paused.wait(0.2)
    with foreground.running():
        pass
    assert paused.wait(5)
