"""Revenue goals: one per workspace and forecast window, kept in the database (SQLite and
Postgres), validated by the money parser."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.goals import SavedGoal
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import WorkspaceView


def test_no_goal_until_one_is_set(store: Store, workspace: WorkspaceView) -> None:
    assert store.goals.get(workspace.id, 30) is None
    assert store.goals.all(workspace.id) == []


def test_a_goal_is_kept_across_opening_the_database_again(
    database_url: str, store: Store, workspace: WorkspaceView
) -> None:
    before = datetime.now(UTC)
    saved = store.goals.set(workspace.id, 30, "750k")
    assert (saved.window_days, saved.amount) == (30, 750_000.0)
    assert before - timedelta(seconds=1) <= saved.updated_at <= datetime.now(UTC)
    reopened = open_store(database_url, upgrade=False)
    try:
        assert reopened.goals.get(workspace.id, 30) == 750_000.0
        [stored] = reopened.goals.all(workspace.id)
        assert stored.amount == 750_000.0 and stored.window_days == 30
        assert stored.updated_at.tzinfo is not None
    finally:
        reopened.close()


def test_each_window_has_its_own_goal(store: Store, workspace: WorkspaceView) -> None:
    store.goals.set(workspace.id, 90, 2_400_000)
    store.goals.set(workspace.id, 30, "$750,000")
    store.goals.set(workspace.id, 60, 1.5e6)
    assert store.goals.get(workspace.id, 30) == 750_000
    assert store.goals.get(workspace.id, 60) == 1_500_000
    assert store.goals.get(workspace.id, 90) == 2_400_000
    assert store.goals.get(workspace.id, 45) is None
    assert [g.window_days for g in store.goals.all(workspace.id)] == [30, 60, 90]


def test_setting_a_window_again_replaces_its_goal(store: Store, workspace: WorkspaceView) -> None:
    first = store.goals.set(workspace.id, 30, 100)
    second = store.goals.set(workspace.id, 30, "1.2M")
    assert store.goals.get(workspace.id, 30) == 1_200_000
    assert [(g.window_days, g.amount) for g in store.goals.all(workspace.id)] == [(30, 1.2e6)]
    assert second.updated_at >= first.updated_at


def test_goals_belong_to_their_workspace(store: Store, workspace: WorkspaceView) -> None:
    other = store.workspaces.create("Other team")
    store.goals.set(workspace.id, 30, 500)
    assert store.goals.get(other.id, 30) is None
    store.goals.set(other.id, 30, 900)
    assert store.goals.get(workspace.id, 30) == 500
    assert store.goals.clear(other.id, 30)
    assert store.goals.get(workspace.id, 30) == 500


def test_clear_forgets_one_window(store: Store, workspace: WorkspaceView) -> None:
    store.goals.set(workspace.id, 30, 500)
    store.goals.set(workspace.id, 90, 900)
    assert store.goals.clear(workspace.id, 30) is True
    assert store.goals.clear(workspace.id, 30) is False
    assert store.goals.get(workspace.id, 30) is None
    assert store.goals.all(workspace.id) == [
        SavedGoal(90, 900.0, store.goals.all(workspace.id)[0].updated_at)
    ]


def test_deleting_the_workspace_deletes_its_goals(store: Store, workspace: WorkspaceView) -> None:
    store.goals.set(workspace.id, 30, 500)
    store.workspaces.delete(workspace.id)
    assert store.goals.all(workspace.id) == []
    with pytest.raises(NotFoundError):
        store.goals.set(workspace.id, 30, 500)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("-5", "must not be negative"),
        (-1, "must not be negative"),
        ("lots", "'lots' is not an amount"),
        ("1,20", "ambiguous"),
        (float("nan"), "finite"),
        (1e14, "large"),
    ],
)
def test_bad_amounts_are_refused_and_change_nothing(
    store: Store, workspace: WorkspaceView, amount: object, words: str
) -> None:
    store.goals.set(workspace.id, 30, 500)
    with pytest.raises(ValidationError) as caught:
        store.goals.set(workspace.id, 30, amount)
    assert caught.value.for_field("goal") is not None
    assert words in str(caught.value)
    assert store.goals.get(workspace.id, 30) == 500


@pytest.mark.parametrize("days", [0, -30, 10_000, True, 30.0, "30d"])
def test_bad_windows_are_refused(store: Store, workspace: WorkspaceView, days: object) -> None:
    with pytest.raises(ValidationError) as caught:
        store.goals.set(workspace.id, days, 500)  # type: ignore[arg-type]
    assert caught.value.for_field("window") is not None
    assert store.goals.all(workspace.id) == []


def test_saves_of_one_window_at_the_same_moment_all_succeed(
    database_url: str, workspace: WorkspaceView
) -> None:
    """Two apps (or the app and the CLI) saving the same window at once: the later one
    wins, neither fails on the unique key."""
    stores = [open_store(database_url, upgrade=False) for _ in range(4)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def save(index: int) -> None:
        start.wait()
        try:
            for round_ in range(5):
                stores[index].goals.set(workspace.id, 30, 1_000 * (index + 1) + round_)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(stores))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        [saved] = stores[0].goals.all(workspace.id)
        assert saved.amount in {1_000 * (i + 1) + 4 for i in range(len(stores))}
    finally:
        for opened in stores:
            opened.close()
