"""What the index embeds, read from the database: each deal with its latest notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vectoros_tui.store.deal_sources import NOTE_CHARS, RECENT_NOTES, load_deal_sources
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_each_deal_comes_with_its_three_latest_notes(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = store.deals.create(
        workspace.id,
        {
            "title": "Globex expansion",
            "company": "Globex",
            "value": 75_000,
            "stage": "lost",
            "lost_reason": "Price",
            "contact_name": "Hank Scorpio",
        },
        now=START,
    )
    quiet = store.deals.create(workspace.id, {"title": "Quiet deal", "stage": "prospect"})
    # Added out of order: the newest by date come first, whatever the insertion order.
    for day in (3, 0, 4, 1, 2):
        store.activities.add(
            deal.id,
            {"type": "note", "description": f"note of day {day}", "date": START + timedelta(day)},
        )
    long_note = "x" * (NOTE_CHARS + 200)
    store.activities.add(
        quiet.id, {"type": "email", "description": long_note, "date": START + timedelta(9)}
    )

    sources = {s.id: s for s in load_deal_sources(store.db, workspace.id)}

    assert set(sources) == {deal.id, quiet.id}
    source = sources[deal.id]
    assert len(source.notes) == RECENT_NOTES == 3
    assert source.notes == ("note of day 4", "note of day 3", "note of day 2")
    assert (source.title, source.company, source.stage) == ("Globex expansion", "Globex", "closed")
    assert (source.outcome, source.lost_reason, source.value) == ("lost", "Price", 75_000)
    assert source.contact_name == "Hank Scorpio"
    assert source.workspace_id == workspace.id
    assert source.closed_at is not None and source.created_at is not None
    assert sources[quiet.id].notes == ("x" * NOTE_CHARS,)


def test_only_the_asked_for_deals_of_that_workspace(store: Store, workspace: WorkspaceView) -> None:
    other = store.workspaces.create("Other")
    mine = [
        store.deals.create(workspace.id, {"title": f"Mine {n}", "stage": "prospect"}).id
        for n in range(3)
    ]
    theirs = store.deals.create(other.id, {"title": "Theirs", "stage": "prospect"})
    store.activities.add(theirs.id, {"type": "note", "description": "their secret note"})

    all_mine = load_deal_sources(store.db, workspace.id)
    assert [s.id for s in all_mine] == sorted(mine)
    assert all(s.notes == () for s in all_mine)

    asked = load_deal_sources(store.db, workspace.id, [mine[1], theirs.id])
    assert [s.id for s in asked] == [mine[1]]

    assert load_deal_sources(store.db, workspace.id, []) == []
    assert load_deal_sources(store.db, other.id, iter([theirs.id]))[0].notes == (
        "their secret note",
    )

    store.deals.delete(mine[0])
    assert [s.id for s in load_deal_sources(store.db, workspace.id, mine)] == sorted(mine[1:])
