"""WorkspaceSession: every write goes through it, patches the snapshot with the store's
own reading of the deal and tells its listener once. The real store, SQLite and Postgres."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import vectoros_tui.store.deals as deal_service
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.foreground import FOREGROUND
from vectoros_tui.session import Change, WorkspaceSession
from vectoros_tui.store.errors import ConflictError
from vectoros_tui.store.snapshot import load_snapshot
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

# Ids at both ends of the id order: a deal the session creates (a random uuid4) always
# sorts between them, so a new deal patched in at either end of the list is caught.
FIRST_ID = uuid.UUID(int=1)
LAST_ID = uuid.UUID(int=2**128 - 1)


class Listener:
    """The screens' side: records every Change the session publishes."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)


class RecordingIndexer:
    """Stands in for the background embedder (``BackgroundIndexer``), which needs the
    embedding model and is tested with it elsewhere; here only what the session tells
    it matters."""

    def __init__(self) -> None:
        self.changed_ids: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
        self.refreshed: list[uuid.UUID] = []

    def changed(self, workspace_id: uuid.UUID, deal_ids: Any) -> None:
        self.changed_ids.append((workspace_id, list(deal_ids)))

    def refresh_workspace(self, workspace_id: uuid.UUID) -> None:
        self.refreshed.append(workspace_id)


@pytest.fixture
def seeded(store: Store, workspace: WorkspaceView) -> WorkspaceView:
    """Two deals at either end of the id order, one other open deal in between."""
    store.deals.create(
        workspace.id, {"title": "First", "stage": "qualified", "value": 8000}, deal_id=FIRST_ID
    )
    store.deals.create(
        workspace.id, {"title": "Last", "stage": "negotiation", "value": 30000}, deal_id=LAST_ID
    )
    store.deals.create(workspace.id, {"title": "Middle", "stage": "proposal", "value": 12000})
    return workspace


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def session(store: Store, seeded: WorkspaceView, listener: Listener) -> WorkspaceSession:
    return WorkspaceSession(store, seeded, clock=utc_now, on_change=listener)


@pytest.fixture
def loaded(session: WorkspaceSession, listener: Listener) -> WorkspaceSession:
    """The session after its first load, with that load's message cleared."""
    assert session.load() is True
    listener.changes.clear()
    return session


def fresh_deals(store: Store, workspace: WorkspaceView) -> list[DealRecord]:
    return load_snapshot(store, workspace).deals


# =========================================================================== loading


def test_the_first_load_keeps_the_open_deals_it_read_first_until_a_write(
    store: Store, session: WorkspaceSession
) -> None:
    assert session.open_deals is None
    session.load()
    assert session.snapshot is not None
    assert session.open_deals == [d for d in session.snapshot.deals if d.is_open]
    session.save_deal(FIRST_ID, {"value": 9000})
    assert session.open_deals is None  # read before the write: stale now


def test_a_load_steps_aside_while_work_the_rep_waits_for_runs(
    session: WorkspaceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deal_service, "_PAUSE_EVERY", 1)
    loaded = threading.Event()

    def load() -> None:
        session.load()
        loaded.set()

    assert not session.open_deals_read
    with FOREGROUND.running():  # a forecast the rep asked for
        threading.Thread(target=load, daemon=True).start()
        assert not loaded.wait(0.3)  # held at its first pause, in the open deals' read
        # So a forecast asked for now would wait for them.
        assert not session.open_deals_read
    assert loaded.wait(30)
    assert session.snapshot is not None and len(session.snapshot.deals) == 3
    assert session.open_deals_read
    session.save_deal(FIRST_ID, {"value": 9000})
    # The open deals handed over are stale after a write; the snapshot is there instead.
    assert session.open_deals is None and session.open_deals_read


def test_a_forecast_waits_for_the_open_deals_the_first_load_reads_first(
    session: WorkspaceSession,
) -> None:
    assert session.wait_for_open_deals(0.01) is None  # nothing read yet: not held up long
    handed: list[list[DealRecord] | None] = []
    waiter = threading.Thread(target=lambda: handed.append(session.wait_for_open_deals(30)))
    waiter.start()
    session.load()
    waiter.join(30)
    assert session.snapshot is not None
    (read,) = handed
    assert read is not None and read == [d for d in session.snapshot.deals if d.is_open]
    assert read is session.open_deals  # the very list the load read, not a second read


def test_first_load_publishes_once_and_a_second_with_nothing_changed_does_not(
    store: Store, session: WorkspaceSession, listener: Listener
) -> None:
    assert session.snapshot is None
    assert session.load() is True
    assert len(listener.changes) == 1
    (change,) = listener.changes
    assert change.deal_ids == ()  # a full load, not one deal's change
    assert [d.title for d in change.snapshot.deals] == ["First", "Middle", "Last"]
    assert set(change.snapshot.health) == {d.id for d in change.snapshot.deals}
    assert session.snapshot is change.snapshot

    assert session.load() is False
    assert len(listener.changes) == 1
    assert session.changed_elsewhere() is False


# =========================================================================== saving


def test_creating_a_deal_publishes_one_change_with_the_new_deal_and_its_health(
    store: Store, loaded: WorkspaceSession, listener: Listener
) -> None:
    before = len(loaded.snapshot.deals)
    saved = loaded.save_deal(
        None,
        {"title": "Globex expansion", "company": "Globex", "stage": "proposal", "value": 45000},
    )
    assert saved.workspace_id == loaded.workspace.id
    assert store.deals.get(saved.id).title == "Globex expansion"

    assert len(listener.changes) == 1
    (change,) = listener.changes
    assert change.deal_ids == (str(saved.id),)
    assert change.snapshot is loaded.snapshot
    assert len(change.snapshot.deals) == before + 1
    deal = change.snapshot.deal(str(saved.id))
    assert deal is not None
    assert (deal.title, deal.stage, deal.value) == ("Globex expansion", "proposal", 45000)
    assert deal.version == 1
    health = change.snapshot.health[str(saved.id)]
    assert health.deal_id == str(saved.id)
    assert 0 <= health.health_score <= 100

    # The patched list is the store's own reading, in its order: a full read finds the
    # same, so the next poll repaints nothing.
    assert change.snapshot.deals == fresh_deals(store, loaded.workspace)
    ids = [d.id for d in change.snapshot.deals]
    assert ids[0] == str(FIRST_ID) and ids[-1] == str(LAST_ID)
    assert loaded.load() is False
    assert len(listener.changes) == 1


def test_a_save_before_the_first_load_publishes_the_full_load_once(
    store: Store, session: WorkspaceSession, listener: Listener
) -> None:
    saved = session.save_deal(None, {"title": "Early", "stage": "prospect", "value": 100})
    assert len(listener.changes) == 1
    snapshot = listener.changes[0].snapshot
    assert snapshot.deal(str(saved.id)) is not None
    assert len(snapshot.deals) == 4
    assert session.load() is False


def test_updating_a_deal_patches_it_in(
    store: Store, loaded: WorkspaceSession, listener: Listener
) -> None:
    deal = store.deals.get(FIRST_ID)
    saved = loaded.save_deal(
        FIRST_ID, {"value": 9500, "probability": 35}, expected_version=deal.version
    )
    assert saved.version == deal.version + 1
    assert len(listener.changes) == 1
    assert listener.changes[0].deal_ids == (str(FIRST_ID),)
    patched = loaded.snapshot.deal(str(FIRST_ID))
    assert patched is not None
    assert (patched.value, patched.probability, patched.version) == (9500, 35, 2)
    assert loaded.snapshot.health[str(FIRST_ID)].components["probability"].score == 35
    assert loaded.snapshot.deals == fresh_deals(store, loaded.workspace)
    assert loaded.load() is False


def test_a_stale_version_is_a_conflict_and_publishes_nothing(
    store: Store, loaded: WorkspaceSession, listener: Listener, other_process: Store
) -> None:
    other_process.deals.update(FIRST_ID, {"value": 1}, expected_version=1)
    shown = loaded.snapshot
    with pytest.raises(ConflictError) as info:
        loaded.save_deal(FIRST_ID, {"value": 2}, expected_version=1)
    assert info.value.current is not None and info.value.current.version == 2
    assert listener.changes == []
    assert loaded.snapshot is shown
    assert store.deals.get(FIRST_ID).value == 1


def test_marking_lost_keeps_where_it_left_the_funnel_and_drops_its_health(
    store: Store, loaded: WorkspaceSession, listener: Listener
) -> None:
    assert str(LAST_ID) in loaded.snapshot.health
    lost = loaded.change_deal(lambda deals: deals.mark_lost(LAST_ID, "Price"))
    assert (lost.outcome, lost.lost_reason) == ("lost", "Price")
    assert len(listener.changes) == 1
    assert listener.changes[0].deal_ids == (str(LAST_ID),)
    deal = loaded.snapshot.deal(str(LAST_ID))
    assert deal is not None
    assert (deal.stage, deal.outcome) == ("closed", "lost")
    assert deal.last_open_stage == "negotiation"
    assert str(LAST_ID) not in loaded.snapshot.health
    assert str(LAST_ID) not in {d.id for d in loaded.snapshot.open_deals}
    assert loaded.snapshot.deals == fresh_deals(store, loaded.workspace)


def test_deleting_a_deal_removes_it_with_one_message(
    store: Store, loaded: WorkspaceSession, listener: Listener
) -> None:
    loaded.delete_deal(FIRST_ID, expected_version=1)
    assert len(listener.changes) == 1
    assert listener.changes[0].deal_ids == (str(FIRST_ID),)
    assert loaded.snapshot.deal(str(FIRST_ID)) is None
    assert str(FIRST_ID) not in loaded.snapshot.health
    assert len(loaded.snapshot.deals) == 2
    assert loaded.snapshot.deals == fresh_deals(store, loaded.workspace)
    assert loaded.load() is False
    assert len(listener.changes) == 1


def test_an_activity_moves_the_deals_last_activity(
    store: Store, loaded: WorkspaceSession, listener: Listener
) -> None:
    assert loaded.snapshot.deal(str(FIRST_ID)).last_activity_at is None
    when = (datetime.now(UTC) - timedelta(days=1)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    added = loaded.change_activities(
        FIRST_ID,
        lambda acts: acts.add(
            FIRST_ID, {"type": "call", "description": "x", "date": when.isoformat()}
        ),
    )
    assert added.deal_id == FIRST_ID
    assert len(listener.changes) == 1
    assert listener.changes[0].deal_ids == (str(FIRST_ID),)
    last_activity = loaded.snapshot.deal(str(FIRST_ID)).last_activity_at
    assert last_activity == when and last_activity.utcoffset() == timedelta(0)  # UTC
    assert loaded.snapshot.deals == fresh_deals(store, loaded.workspace)


# =========================================================================== other processes


def test_a_change_made_elsewhere_shows_only_after_reload(
    store: Store, loaded: WorkspaceSession, listener: Listener, other_process: Store
) -> None:
    other_process.deals.update(FIRST_ID, {"title": "Renamed elsewhere"})
    assert loaded.snapshot.deal(str(FIRST_ID)).title == "First"
    assert listener.changes == []
    assert loaded.changed_elsewhere() is True

    assert loaded.reload() is True
    assert len(listener.changes) == 1
    (change,) = listener.changes
    assert change.deal_ids == ()
    assert change.snapshot.deal(str(FIRST_ID)).title == "Renamed elsewhere"
    assert loaded.changed_elsewhere() is False
    assert loaded.reload() is False
    assert len(listener.changes) == 1


def test_our_own_save_reads_back_without_a_repaint(
    loaded: WorkspaceSession, listener: Listener
) -> None:
    """The fingerprint stays the last full load's: the store has moved on, so the poll
    reads it, finds the patched snapshot already shows it, and stays quiet."""
    loaded.save_deal(FIRST_ID, {"value": 123})
    assert len(listener.changes) == 1
    assert loaded.changed_elsewhere() is True
    assert loaded.reload() is False
    assert loaded.changed_elsewhere() is False
    assert len(listener.changes) == 1


# =========================================================================== indexer


def test_saved_and_deleted_ids_reach_the_indexer(
    loaded: WorkspaceSession, other_process: Store
) -> None:
    indexer = RecordingIndexer()
    loaded.indexer = indexer  # type: ignore[assignment]
    workspace_id = loaded.workspace.id

    created = loaded.save_deal(None, {"title": "New", "stage": "prospect", "value": 10})
    loaded.save_deal(LAST_ID, {"value": 31000})
    loaded.change_activities(
        FIRST_ID, lambda acts: acts.add(FIRST_ID, {"type": "note", "description": "met"})
    )
    loaded.delete_deal(created.id)
    assert indexer.changed_ids == [
        (workspace_id, [created.id]),
        (workspace_id, [LAST_ID]),
        (workspace_id, [FIRST_ID]),
        (workspace_id, [created.id]),
    ]
    assert indexer.refreshed == []

    assert loaded.reload() is False  # only our own writes: nothing to re-embed
    assert indexer.refreshed == []
    other_process.deals.update(FIRST_ID, {"title": "Changed elsewhere"})
    assert loaded.reload() is True
    assert indexer.refreshed == [workspace_id]
