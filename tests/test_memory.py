"""The idle-time full collections (vectoros_tui.memory), and the app turning them on.

The clock is a fake (a list the test advances) so that "idle" does not depend on how
fast this machine runs the test; the collections themselves are Python's real ones.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from vectoros_tui.memory import (
    FULL_COLLECTION_DUE,
    FULL_COLLECTION_OVERDUE,
    HOLD_LIMIT_SECONDS,
    NEVER,
    IdleCollector,
    collections_paused,
)


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


def young_collections(count: int) -> None:
    for _ in range(count):
        gc.collect(1)  # each one adds to gc.get_count()[2], as Python's own do


def test_nothing_happens_before_start(restore_gc: None) -> None:
    collector = IdleCollector()
    young_collections(FULL_COLLECTION_OVERDUE)
    assert collector.tick() is False
    assert gc.get_threshold()[2] != NEVER


def test_full_collections_wait_for_a_quiet_moment(restore_gc: None) -> None:
    now = [100.0]
    collector = IdleCollector(idle_seconds=1.0, clock=lambda: now[0])
    threshold = gc.get_threshold()
    gc.collect()
    collector.start()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (threshold[0], threshold[1], NEVER)

    young_collections(FULL_COLLECTION_DUE - 1)
    now[0] += 5
    assert collector.tick() is False  # not due yet

    young_collections(1)
    collector.input_seen()
    now[0] += 0.5
    assert collector.tick() is False  # due, but the rep just pressed a key
    now[0] += 1.0
    assert collector.tick(busy=True) is False  # quiet, but a worker is running
    assert collector.tick() is True
    assert gc.get_count()[2] == 0  # it was a full collection
    assert collector.collections == 1

    collector.stop()
    assert gc.get_threshold() == threshold


def test_an_overdue_collection_runs_even_while_the_rep_types(restore_gc: None) -> None:
    now = [0.0]
    collector = IdleCollector(clock=lambda: now[0])
    collector.start()
    young_collections(FULL_COLLECTION_OVERDUE)
    collector.input_seen()
    assert collector.tick(busy=True) is True
    assert gc.get_count()[2] == 0


def test_garbage_cycles_made_after_start_are_still_freed(restore_gc: None) -> None:
    collector = IdleCollector(idle_seconds=0.0)
    collector.start()

    class Node:
        pass

    freed: list[bool] = []
    node = Node()
    node.self = node  # type: ignore[attr-defined]
    weakref.finalize(node, freed.append, True)
    young_collections(2)  # alive: it moves on to the old generation
    del node
    young_collections(1)
    assert freed == []  # only a full collection looks at the old generation
    young_collections(FULL_COLLECTION_DUE)
    assert collector.tick() is True
    assert freed == [True]


def test_held_before_a_load_python_starts_no_full_collection_and_nothing_is_frozen(
    restore_gc: None,
) -> None:
    """From just before a workspace load: the load's objects set off no full collection
    of Python's own (each walked all of them, the interpreter lock held), and none is
    frozen, as not all of them live on. Starting later freezes once."""
    now = [0.0]
    collector = IdleCollector(idle_seconds=1.0, clock=lambda: now[0])
    threshold = gc.get_threshold()
    frozen = gc.get_freeze_count()
    collector.hold()
    assert collector.started and not collector.frozen
    assert gc.get_threshold() == (threshold[0], threshold[1], NEVER)
    assert gc.get_freeze_count() == frozen
    young_collections(FULL_COLLECTION_OVERDUE)
    # The load is a running worker: even an overdue collection waits for it, as what it
    # read is not frozen yet and walking it all would stall the rep's next key.
    assert collector.tick(busy=True) is False
    now[0] += 5
    assert collector.tick() is True  # due and quiet (a load that failed, say): it runs
    young_collections(FULL_COLLECTION_OVERDUE)
    collector.input_seen()
    assert collector.tick(busy=True) is False
    now[0] += HOLD_LIMIT_SECONDS
    collector.input_seen()
    assert collector.tick(busy=True) is True  # held too long: overdue ones run again
    collector.start()
    assert collector.frozen and gc.get_freeze_count() > frozen
    assert gc.get_threshold() == (threshold[0], threshold[1], NEVER)
    collector.start()  # a second workspace painted: nothing more
    collector.stop()
    assert gc.get_threshold() == threshold


def test_the_console_script_freezes_what_the_cli_imported(
    restore_gc: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vectoros COMMAND` is one command in a process of its own: what importing the CLI
    built is frozen before the command runs (its record-building then skips full walks of
    SQLAlchemy and click), while run(), which the tests call in-process, freezes nothing."""
    import vectoros_tui.cli as cli

    gc.unfreeze()
    assert cli.run(["version"]) == 0
    assert gc.get_freeze_count() == 0
    frozen_when_run: list[int] = []
    monkeypatch.setattr(cli, "run", lambda: frozen_when_run.append(gc.get_freeze_count()) or 0)
    with pytest.raises(SystemExit) as leaving:
        cli.main()
    assert leaving.value.code == 0
    assert frozen_when_run and frozen_when_run[0] > 10_000


def test_a_whole_workspace_command_runs_without_collections_and_restores_them(
    restore_gc: None,
    monkeypatch: pytest.MonkeyPatch,
    isolated_home: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`vectoros insights`, `score` and `forecast` compute with the collector off (their
    process ends soon after); whatever happens, it is as it was once they are done, for
    the tests that call them in-process and for a caller that had it off already."""
    import vectoros_tui.cli as cli
    from vectoros_tui.store import analytics

    assert cli.run(["demo", "--deals", "60", "--seed", "3"]) == 0
    enabled_while_scoring: list[bool] = []
    scoring = analytics.score_workspace
    monkeypatch.setattr(
        analytics,
        "score_workspace",
        lambda *a, **k: enabled_while_scoring.append(gc.isenabled()) or scoring(*a, **k),
    )
    for command in (["score", "--json"], ["insights"], ["forecast", "--json"]):
        assert cli.run(command) == 0
        assert gc.isenabled()
    assert enabled_while_scoring == [False]
    # A command that fails (no such workspace: exit 2) restores it too.
    assert cli.run(["score", "-w", "Nowhere"]) == 2
    assert gc.isenabled()
    capsys.readouterr()

    gc.disable()
    with collections_paused():
        assert not gc.isenabled()
    assert not gc.isenabled(), "left off, as the caller had it"
    gc.enable()
    with pytest.raises(RuntimeError), collections_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
