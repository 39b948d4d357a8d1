"""The workspace snapshot the screens share: board preview, patching after a save, and
the start-up loader. Both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import distinct, func
from sqlmodel import col, select

import vectoros_tui.store.deals as deal_service
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.funnel import stage_funnel
from vectoros_tui.engine.health import average_open_value, open_value_totals, score_deal
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.quick_start import choose_workspace
from vectoros_tui.store.snapshot import (
    BOARD_CARDS,
    load_board_preview,
    load_snapshot,
    page_by_health,
)
from vectoros_tui.store.startup import load_startup
from vectoros_tui.store.store import Store
from vectoros_tui.store.tables import Activity, Deal, DealEvent
from vectoros_tui.store.views import DealView

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo(store: Store):
    create_demo_workspace(store.db, deals=150, seed=3, now=NOW)
    return store.workspaces.resolve("Demo")


def test_board_preview_from_sql_matches_the_full_snapshot(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    full = {c.stage: c for c in snapshot.board()}
    for column in load_board_preview(store, demo, NOW):
        expected = full[column.stage]
        assert column.count == expected.count
        assert column.total_value == pytest.approx(expected.total_value)
        assert column.weighted_value == pytest.approx(expected.weighted_value)
        assert (column.ageing, column.overdue) == (expected.ageing, expected.overdue)
        assert len(column.deals) == min(expected.count, BOARD_CARDS)
        assert [d.value for d in column.deals] == [d.value for d in expected.deals][
            : len(column.deals)
        ]


def _row(store: Store, deal: DealView) -> DealRecord:
    """The store's engine record of one saved deal, as the session patches it in."""
    (row,) = store.deals.records(deal.workspace_id, ids=[deal.id])
    return row


def test_with_deal_shows_a_saved_deal_at_once_and_keeps_its_history(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    deal = next(d for d in snapshot.open_deals if d.close_date)
    saved = store.deals.update(
        uuid.UUID(deal.id), {"probability": 3, "close_date": "2027-06-30"}, now=NOW
    )
    patched = snapshot.with_deal(_row(store, saved))
    record = patched.deal(deal.id)
    assert record is not None and record.probability == 3
    assert record.close_date_history[-1] == deal.close_date
    assert record.last_activity_at == deal.last_activity_at
    assert patched.health[deal.id].components["probability"].score == 3
    assert len(patched.deals) == len(snapshot.deals)
    unchanged = snapshot.deal(deal.id)
    assert unchanged is not None and unchanged.probability == deal.probability
    # What the patch shows is what a full reload shows for that deal.
    reloaded = load_snapshot(store, demo, NOW).deal(deal.id)
    assert reloaded is not None
    for attribute in ("probability", "close_date", "close_date_history", "version", "stage"):
        assert getattr(record, attribute) == getattr(reloaded, attribute)


def test_with_deal_adds_a_new_deal_and_without_deal_removes_it(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    created = store.deals.create(demo.id, {"title": "New", "stage": "proposal", "value": 10})
    added = snapshot.with_deal(_row(store, created))
    assert len(added.deals) == len(snapshot.deals) + 1
    # In the order the store reads them: a reload finds the very same list.
    assert added.deals == load_snapshot(store, demo, NOW).deals
    assert str(created.id) in added.health
    removed = added.without_deal(str(created.id))
    assert len(removed.deals) == len(snapshot.deals)
    assert str(created.id) not in removed.health


def test_closing_a_deal_in_the_patch_removes_its_health_and_records_the_stage(
    store: Store, demo
) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    deal = next(d for d in snapshot.open_deals if d.stage == "proposal")
    lost = store.deals.mark_lost(uuid.UUID(deal.id), "Price")
    patched = snapshot.with_deal(_row(store, lost))
    assert deal.id not in patched.health
    closed = patched.deal(deal.id)
    assert closed is not None and closed.last_open_stage == "proposal"
    reloaded = load_snapshot(store, demo, NOW).deal(deal.id)
    assert reloaded is not None and reloaded.last_open_stage == "proposal"


def test_patches_keep_the_open_value_totals_the_health_scores_average(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    assert snapshot.priced_open == open_value_totals(snapshot.deals)
    deal = next(d for d in snapshot.open_deals if d.value)
    steps = [
        snapshot.with_deal(_row(store, store.deals.update(uuid.UUID(deal.id), {"value": 987_654}))),
        snapshot.with_deal(_row(store, store.deals.mark_lost(uuid.UUID(deal.id), "Price"))),
        snapshot.without_deal(deal.id),
        snapshot.with_deal(
            _row(
                store, store.deals.create(demo.id, {"title": "N", "stage": "proposal", "value": 5})
            )
        ),
    ]
    for patched in steps:
        total, count = patched.open_value_totals()
        expected_total, expected_count = open_value_totals(patched.deals)
        assert count == expected_count
        assert total == pytest.approx(expected_total)
    assert steps[0].open_value_totals()[1] == snapshot.priced_open[1]  # type: ignore[index]
    assert steps[1].open_value_totals()[1] == snapshot.priced_open[1] - 1  # type: ignore[index]
    # The saved deal is scored against the workspace average including its new value.
    saved = steps[0].deal(deal.id)
    assert saved is not None
    rescored = score_deal(
        saved,
        NOW,
        average_open_value(steps[0].deals),  # type: ignore[arg-type]
    )
    assert steps[0].health[deal.id].components == rescored.components


def test_pages_by_health_follow_the_scores_and_the_filters(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    scores = {k: v.health_score for k, v in snapshot.health.items()}
    open_ids = [str(i) for i in store.deals.matching_ids(demo.id, outcome="open")]
    best_first = sorted(open_ids, key=lambda i: (-scores[i], i))
    pages = [
        page_by_health(store, snapshot, outcome="open", limit=40, offset=offset)
        for offset in range(0, len(open_ids), 40)
    ]
    assert [str(d.id) for p in pages for d in p.deals] == best_first
    assert {p.total for p in pages} == {len(open_ids)}

    worst = page_by_health(store, snapshot, descending=False, limit=len(best_first) + 5)
    worst_first = sorted(open_ids, key=lambda i: (scores[i], i))
    assert [str(d.id) for d in worst.deals][: len(open_ids)] == worst_first
    assert all(str(d.id) not in scores for d in worst.deals[len(open_ids) :])  # closed last

    proposal = page_by_health(store, snapshot, stage="proposal", search="a", limit=500)
    expected = store.deals.list(demo.id, stage="proposal", search="a", limit=500)
    assert {d.id for d in proposal.deals} == {d.id for d in expected.deals}
    assert proposal.total == expected.total


def test_fingerprint_changes_with_deals_and_activities(store: Store, demo) -> None:
    before = store.deals.fingerprint(demo.id)
    deal_id = uuid.UUID(load_snapshot(store, demo, NOW).open_deals[0].id)
    store.activities.add(deal_id, {"type": "call", "description": "Check-in"})
    after_activity = store.deals.fingerprint(demo.id)
    assert after_activity != before
    store.deals.update(deal_id, {"probability": 55})
    assert store.deals.fingerprint(demo.id) != after_activity


def test_known_total_skips_the_count_but_not_the_page(store: Store, demo) -> None:
    counted = store.deals.list(demo.id, outcome="open", limit=10)
    trusted = store.deals.list(demo.id, outcome="open", limit=10, known_total=counted.total)
    assert trusted.total == counted.total
    assert [d.id for d in trusted.deals] == [d.id for d in counted.deals]


def test_startup_loads_store_workspace_and_preview(database_url: str, store: Store, demo) -> None:
    data = load_startup(database_url, "demo", NOW)
    try:
        assert data.workspace is not None and data.workspace.id == demo.id
        assert data.preview is not None and len(data.preview) == 4
        assert not data.ref_not_found
    finally:
        data.store.close()
    missing = load_startup(database_url, "no such workspace", NOW)
    try:
        assert missing.ref_not_found and missing.workspace is not None
    finally:
        missing.store.close()


def test_choose_workspace_by_name_id_or_first(store: Store, demo) -> None:
    other = store.workspaces.create("Other")
    workspaces = store.workspaces.list()
    assert choose_workspace(workspaces, "OTHER").id == other.id
    assert choose_workspace(workspaces, str(demo.id)).id == demo.id
    assert choose_workspace(workspaces, None).id == workspaces[0].id
    assert choose_workspace(workspaces, "missing").id == workspaces[0].id
    assert choose_workspace([], "x") is None


def test_the_funnel_is_carried_across_a_save_that_leaves_it_and_recounted_otherwise(
    store: Store, demo
) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    assert snapshot.counted_funnel == stage_funnel(snapshot.deals)
    deal = next(d for d in snapshot.open_deals if d.stage == "qualified")
    saved = store.deals.update(uuid.UUID(deal.id), {"probability": 7}, now=NOW)
    same = snapshot.with_deal(_row(store, saved))
    # A probability does not move the funnel: the count is carried, not redone.
    assert same.counted_funnel is snapshot.counted_funnel
    assert same.funnel() == stage_funnel(same.deals)
    saved = store.deals.update(uuid.UUID(deal.id), {"stage": "negotiation"}, now=NOW)
    moved = same.with_deal(_row(store, saved))
    assert moved.counted_funnel is None  # counted again, from the deals as they are now
    assert moved.funnel() == stage_funnel(moved.deals) != snapshot.funnel()
    gone = moved.without_deal(deal.id)
    assert gone.funnel() == stage_funnel(gone.deals)


def test_open_then_closed_reads_every_deal_once_in_the_same_order(store: Store, demo) -> None:
    everything = store.deals.records(demo.id)
    opened = store.deals.records(demo.id, open_only=True)
    closed = store.deals.records(demo.id, closed_only=True)
    assert opened and closed
    assert all(d.is_open for d in opened) and not any(d.is_open for d in closed)
    assert sorted([*opened, *closed], key=lambda d: d.id) == everything
    with pytest.raises(ValueError, match="exclude"):
        store.deals.records(demo.id, open_only=True, closed_only=True)


def test_a_snapshot_read_in_two_phases_hands_over_the_open_deals_first(store: Store, demo) -> None:
    handed: list[list[DealRecord]] = []
    whole = load_snapshot(store, demo, NOW)
    phased = load_snapshot(store, demo, NOW, on_open=handed.append)
    assert phased.deals == whole.deals  # same deals, same order: a seeded forecast agrees
    assert phased.health == whole.health
    assert phased.fingerprint == whole.fingerprint
    (opened,) = handed
    assert opened == [d for d in whole.deals if d.is_open]


def _rows_fetched(store: Store, workspace_id: uuid.UUID) -> dict[str, int]:
    """How many rows each of the four queries of a read of every deal fetches."""
    in_workspace = col(Deal.workspace_id) == workspace_id
    with store.db.read() as session:

        def count(query: Any) -> int:
            return int(session.exec(query).one())

        events = (
            select(func.count())
            .select_from(DealEvent)
            .join(Deal, col(Deal.id) == DealEvent.deal_id)
        )
        return {
            "deals": count(select(func.count()).select_from(Deal).where(in_workspace)),
            "last activities": count(
                select(func.count(distinct(Activity.deal_id)))
                .join(Deal, col(Deal.id) == Activity.deal_id)
                .where(in_workspace, col(Activity.done).is_(True))
            ),
            "close-date slips": count(events.where(in_workspace, DealEvent.field == "close_date")),
            "left the funnel": count(
                events.where(
                    in_workspace, DealEvent.field == "stage", DealEvent.new_value == "closed"
                )
            ),
        }


def test_a_read_with_pauses_reads_the_same_deals_pausing_between_chunks(
    store: Store, demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = store.deals.records(demo.id)
    monkeypatch.setattr(deal_service, "_PAUSE_EVERY", 7)
    pauses: list[int] = []
    assert store.deals.records(demo.id, pause=lambda: pauses.append(1)) == everything
    fetched = _rows_fetched(store, demo.id)
    assert fetched["deals"] == len(everything)
    # Each query spans several fetches here, or this would not show them paused.
    assert all(rows > 7 for rows in fetched.values()), fetched
    chunks = -(-len(everything) // 7)
    # Once per fetch of each query's rows (the driver holds the interpreter while it
    # turns a fetch into values), and between the chunks turned into records.
    assert len(pauses) == sum(-(-rows // 7) for rows in fetched.values()) + chunks - 1
    pauses.clear()
    handed: list[list[DealRecord]] = []
    phased = load_snapshot(store, demo, NOW, on_open=handed.append, pause=lambda: pauses.append(1))
    assert phased.deals == load_snapshot(store, demo, NOW).deals
    assert len(pauses) >= chunks


def test_patches_carry_the_open_deals_as_picking_them_again_would(store: Store, demo) -> None:
    snapshot = load_snapshot(store, demo, NOW)
    opened = [d for d in snapshot.open_deals if d.value]
    first, second = opened[0], opened[1]
    closed = next(d for d in snapshot.deals if not d.is_open)
    steps = [
        _row(store, store.deals.update(uuid.UUID(first.id), {"value": 4_321})),  # open, stays
        _row(store, store.deals.update(uuid.UUID(closed.id), {"title": "Renamed"})),  # closed
        _row(store, store.deals.mark_won(uuid.UUID(second.id))),  # open -> closed
        _row(store, store.deals.reopen(uuid.UUID(second.id))),  # closed -> open again
        _row(store, store.deals.create(demo.id, {"title": "N", "stage": "proposal"})),  # new
    ]
    patched = snapshot
    for row in steps:
        patched.open_deals  # noqa: B018 (picked, so the next patch carries them)
        patched = patched.with_deal(row)
        assert patched.open_deals == [d for d in patched.deals if d.is_open]
    assert [d.id for d in patched.open_deals].count(second.id) == 1
    assert next(d for d in patched.open_deals if d.id == first.id).value == 4_321


def test_a_change_made_while_the_snapshot_loads_is_seen_by_the_next_poll(
    store: Store, demo
) -> None:
    """The fingerprint is read before the deals: a change landing while they are read
    leaves the snapshot behind the store, and the poll reads it again."""
    changed = []

    def meanwhile(opened: list[DealRecord]) -> None:
        changed.append(store.deals.update(uuid.UUID(opened[0].id), {"probability": 1}))

    snapshot = load_snapshot(store, demo, NOW, on_open=meanwhile)
    assert changed
    assert store.deals.fingerprint(demo.id) != snapshot.fingerprint
    settled = load_snapshot(store, demo, NOW)
    assert store.deals.fingerprint(demo.id) == settled.fingerprint


def test_records_share_one_string_per_stage_outcome_reason_and_owner(store: Store, demo) -> None:
    """A team's 100,000 records held a copy each of a handful of texts (28 MB)."""
    ann = store.owners.join(demo.id, "ann@example.com", "Ann")
    for title in ("One", "Two", "Three"):
        store.deals.create(demo.id, {"title": title, "stage": "prospect"}, owner_id=ann)
    everything = store.deals.records(demo.id)
    for field in ("stage", "outcome", "lost_reason", "last_open_stage", "owner_id"):
        held = [value for d in everything if (value := getattr(d, field)) is not None]
        assert len(held) > len(set(held)), f"every deal holds its own {field}: not shown here"
        assert len({id(value) for value in held}) == len(set(held)), field
    # The same of a saved deal re-read alone, as the snapshot patches it in.
    first = everything[0]
    (again,) = store.deals.records(demo.id, ids=[uuid.UUID(first.id)])
    assert again == first and again.stage is first.stage
