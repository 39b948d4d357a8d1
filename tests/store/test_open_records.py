"""The open deals' records kept between reads (store.open_records), on SQLite and Postgres.

Each read must equal a read that keeps nothing (``pause`` given: the background path
reads everything); what is reused shows as the very same record objects handed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.store.open_records import KEPT_WORKSPACES
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import DealView, WorkspaceView


def add_deal(store: Store, workspace: WorkspaceView, number: int, **fields: Any) -> DealView:
    data: dict[str, Any] = {
        "title": f"Deal {number}",
        "stage": "proposal",
        "value": 1_000 * (number + 1),
        "probability": 40,
        "close_date": utc_now().date() + timedelta(days=number % 20),
    }
    data.update(fields)
    return store.deals.create(workspace.id, data)


@pytest.fixture
def deals(store: Store, workspace: WorkspaceView) -> list[DealView]:
    made = [add_deal(store, workspace, n) for n in range(12)]
    store.activities.add(
        made[0].id,
        {
            "type": "call",
            "description": "Intro call",
            "date": datetime(2026, 1, 5, tzinfo=UTC),
            "done": True,
        },
    )
    store.deals.update(made[1].id, {"close_date": utc_now().date() + timedelta(days=40)})
    return made


def read_open(store: Store, workspace: WorkspaceView) -> list[DealRecord]:
    return store.deals.records(workspace.id, open_only=True)


def read_afresh(store: Store, workspace: WorkspaceView) -> list[DealRecord]:
    return store.deals.records(workspace.id, open_only=True, pause=lambda: None)


def by_id(records: list[DealRecord]) -> dict[str, DealRecord]:
    return {r.id: r for r in records}


def test_nothing_changed_hands_back_the_same_records(
    store: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = read_open(store, workspace)
    second = read_open(store, workspace)
    assert second == first == read_afresh(store, workspace)
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert [r.id for r in first] == sorted(r.id for r in first)


def test_a_changed_deal_is_read_again_and_the_rest_reused(
    store: Store, other_process: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = by_id(read_open(store, workspace))
    moved = str(deals[3].id)
    other_process.deals.update(deals[3].id, {"value": 123_456, "close_date": utc_now().date()})
    second = read_open(store, workspace)
    assert second == read_afresh(store, workspace)
    again = by_id(second)
    assert again[moved].value == 123_456
    assert again[moved].close_date_history == (deals[3].close_date,)
    assert again[moved] is not first[moved]
    assert all(again[i] is first[i] for i in first if i != moved)


def test_deals_closed_created_and_deleted_come_and_go(
    store: Store, other_process: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    read_open(store, workspace)
    other_process.deals.mark_won(deals[2].id)
    other_process.deals.delete(deals[5].id)
    created = add_deal(other_process, workspace, 99, title="New one")
    second = read_open(store, workspace)
    assert second == read_afresh(store, workspace)
    ids = [r.id for r in second]
    assert str(created.id) in ids and ids == sorted(ids)
    assert str(deals[2].id) not in ids and str(deals[5].id) not in ids
    assert len(second) == len(deals) - 1


def test_an_activity_reads_everything_again(
    store: Store, other_process: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = read_open(store, workspace)
    contact = datetime(2026, 3, 1, tzinfo=UTC)
    other_process.activities.add(
        deals[7].id, {"type": "email", "description": "Follow-up", "date": contact, "done": True}
    )
    second = read_open(store, workspace)
    assert second == read_afresh(store, workspace)
    assert by_id(second)[str(deals[7].id)].last_activity_at == contact
    # The deal's own row did not change: only the activities' revision shows it.
    assert not any(a is b for a, b in zip(first, second, strict=True))


def test_many_changes_read_everything_again(
    store: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = read_open(store, workspace)
    for deal in deals[:6]:
        store.deals.update(deal.id, {"probability": 90})
    second = read_open(store, workspace)
    assert second == read_afresh(store, workspace)
    assert not any(a is b for a, b in zip(first, second, strict=True))


def test_services_acting_as_someone_share_what_is_kept(
    store: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = read_open(store, workspace)
    acting = store.acting_as(None)
    assert all(a is b for a, b in zip(first, read_open(acting, workspace), strict=True))


def test_owner_and_id_reads_are_not_served_from_what_is_kept(
    store: Store, workspace: WorkspaceView, deals: list[DealView]
) -> None:
    first = by_id(read_open(store, workspace))
    some = store.deals.records(workspace.id, [deals[4].id], open_only=True)
    assert some == [first[str(deals[4].id)]] and some[0] is not first[str(deals[4].id)]


def test_only_the_most_recent_workspaces_are_kept(store: Store) -> None:
    spaces = [store.workspaces.create(f"Team {n}") for n in range(KEPT_WORKSPACES + 1)]
    for n, space in enumerate(spaces):
        add_deal(store, space, n)
        read_open(store, space)
    kept = store.deals.open_records
    assert kept.get(spaces[0].id) is None
    assert all(kept.get(space.id) is not None for space in spaces[1:])
