"""The open workspace of one app: its store, its snapshot and its similar-deal indexer.

Every write the app makes, from any screen or from a sync, goes through a
:class:`WorkspaceSession`: it writes, patches the snapshot with the store's own reading
of the changed deals, queues them for re-embedding and then tells its listener once.
Screens never have to remember to tell anyone. No Textual here: the methods that touch
the database run in whatever thread calls them (the app's workers), and the listener is
called from that thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from vectoros_tui.foreground import FOREGROUND
from vectoros_tui.store.snapshot import WorkspaceSnapshot, load_snapshot

if TYPE_CHECKING:
    from vectoros_tui.engine.deal_record import DealRecord
    from vectoros_tui.engine.periods import Period
    from vectoros_tui.identity import Identity
    from vectoros_tui.similar.background import BackgroundIndexer
    from vectoros_tui.store.activities import ActivityService
    from vectoros_tui.store.deals import DealService
    from vectoros_tui.store.store import Store
    from vectoros_tui.store.views import DealView, WorkspaceView

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """What one write (or load) did: the snapshot to show and the deals it touched
    (empty for a full load)."""

    snapshot: WorkspaceSnapshot
    deal_ids: tuple[str, ...] = ()


class WorkspaceSession:
    """One workspace of one store, as the screens see it.

    ``on_change`` is called once per write or load that changed what the screens show;
    ``indexer`` (optional, may be set later) re-embeds changed deals for similar-deal
    search.
    """

    def __init__(
        self,
        store: Store,
        workspace: WorkspaceView,
        *,
        clock: Callable[[], datetime],
        on_change: Callable[[Change], None],
        me: Identity | None = None,
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.clock = clock
        # Who the app's user is: the deals they create are theirs.
        self.me = me
        self.indexer: BackgroundIndexer | None = None
        self._on_change = on_change
        self._lock = threading.Lock()
        self._snapshot: WorkspaceSnapshot | None = None
        # The open deals, read first by the first load (see load): the forecast shows
        # from them while the closed ones are still being read.
        self.open_deals: list[DealRecord] | None = None
        # Set once the first load has read the open deals (or has ended without them).
        self._open_read = threading.Event()
        self._writes = 0  # writes patched in so far (see load)

    @property
    def snapshot(self) -> WorkspaceSnapshot | None:
        return self._snapshot

    # --- reading ---------------------------------------------------------------------

    def load(self) -> bool:
        """Read and score the whole workspace; True when that changed what the screens
        show. When it did not (the usual case after our own save: the patched snapshot
        already holds it) the listener is not called, so nothing repaints or recomputes
        for nothing."""
        writes = self._writes
        first = self._snapshot is None and self.open_deals is None
        try:
            fresh = load_snapshot(
                self.store,
                self.workspace,
                self.clock(),
                on_open=self._read_open if first else None,
                # A load runs behind what the rep asked for (a forecast): it steps aside.
                pause=FOREGROUND.pauser(),
            )
        finally:
            self._open_read.set()
        with self._lock:
            current = self._snapshot
            if current is not None and writes != self._writes:
                # A write of ours landed while this read ran: it may be missing from
                # ``fresh``. The patched snapshot shows it; the next poll reads again.
                return False
            if current is not None and current.deals == fresh.deals:
                # Same deals: keep the scores on screen, remember where the store is.
                self._snapshot = replace(current, fingerprint=fresh.fingerprint)
                return False
            self._snapshot = fresh
        self._on_change(Change(fresh))
        return True

    def _read_open(self, deals: list[DealRecord]) -> None:
        # Only until the snapshot is in: a write of ours after that makes it stale.
        if self._writes == 0:
            self.open_deals = deals
        self._open_read.set()

    @property
    def open_deals_read(self) -> bool:
        """Whether a forecast can start without waiting for the first load (it has read
        the open deals, or ended)."""
        return self._snapshot is not None or self._open_read.is_set()

    def wait_for_open_deals(self, timeout: float) -> list[DealRecord] | None:
        """The open deals the first load reads before the rest, once it has (waiting at
        most ``timeout`` seconds); None when there are none to hand over. Reading them
        again beside the load made both slower: a forecast asked for during the first
        second took 0.8 s or 1.4 s depending on which read won."""
        if self._snapshot is None:
            self._open_read.wait(timeout)
        return self.open_deals

    def changed_elsewhere(self) -> bool:
        """Whether the store holds changes the snapshot does not (another process's, or
        ours not yet read back); cheap enough to poll."""
        current = self._snapshot
        if current is None:
            return False
        return self.store.deals.fingerprint(self.workspace.id) != current.fingerprint

    # --- writing ---------------------------------------------------------------------

    def save_deal(
        self,
        deal_id: uuid.UUID | None,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
    ) -> DealView:
        """Create a deal (``deal_id`` None) in this workspace, or update one. A new deal
        is owned by ``changes["owner_id"]``, else by me (joining the workspace)."""
        if deal_id is None:
            fields = dict(changes)
            owner = fields.pop("owner_id", None) or self.my_member_id()
            return self.change_deal(
                lambda deals: deals.create(self.workspace.id, fields, owner_id=owner)
            )
        return self.change_deal(
            lambda deals: deals.update(deal_id, changes, expected_version=expected_version)
        )

    def my_member_id(self) -> uuid.UUID | None:
        """My user id in this workspace, joining it if need be (None: nobody is me)."""
        if self.me is None:
            return None
        return self.store.owners.join(self.workspace.id, self.me.email, self.me.name)

    def change_deal(self, change: Callable[[DealService], DealView]) -> DealView:
        """Run one change of :class:`DealService` that returns the deal it wrote."""
        saved = change(self.store.deals)
        self._written([saved.id])
        return saved

    def delete_deal(self, deal_id: uuid.UUID, *, expected_version: int | None = None) -> None:
        self.store.deals.delete(deal_id, expected_version=expected_version)
        self._written([], deleted=[deal_id])

    def change_activities(self, deal_id: uuid.UUID, change: Callable[[ActivityService], T]) -> T:
        """Add, edit or delete an activity of a deal (its last activity date feeds the
        deal's health; its notes feed similar-deal search)."""
        result = change(self.store.activities)
        self._written([deal_id])
        return result

    def reload(self) -> bool:
        """Read the whole workspace again (after a sync, a settled conflict, another
        process's edits); what changed is re-embedded."""
        changed = self.load()
        if changed and self.indexer is not None:
            self.indexer.refresh_workspace(self.workspace.id)
        return changed

    def _written(self, deal_ids: Iterable[uuid.UUID], deleted: Iterable[uuid.UUID] = ()) -> None:
        saved = list(deal_ids)
        gone = list(deleted)
        rows = self.store.deals.records(self.workspace.id, ids=saved) if saved else []
        with self._lock:
            self._writes += 1
            self.open_deals = None  # read before this write
            snapshot = self._snapshot
            if snapshot is not None:
                for row in rows:
                    snapshot = snapshot.with_deal(row)
                for deal_id in gone:
                    snapshot = snapshot.without_deal(str(deal_id))
                # The fingerprint stays the one read with the last full load: the next
                # poll sees the store moved on, reads it again and finds our change
                # already shown (see load), or someone else's as well.
                self._snapshot = snapshot
        if self.indexer is not None:
            self.indexer.changed(self.workspace.id, [*saved, *gone])
        if snapshot is None:
            self.load()
        else:
            self._on_change(Change(snapshot, tuple(str(i) for i in [*saved, *gone])))

    # --- sync --------------------------------------------------------------------------

    def sync(self, backend: Any) -> Any:
        """Push local changes to the team backend and pull the team's; returns the sync
        report."""
        from vectoros_tui.sync.engine import SyncEngine

        report = SyncEngine(self.store.db).sync(self.workspace.id, backend)
        self.reload()
        return report

    def settle_conflict(self, deal_id: Any, keep: str, fields: dict[str, str]) -> None:
        """Keep mine, theirs or a field-by-field merge of a sync conflict."""
        from vectoros_tui.sync.engine import SyncEngine

        SyncEngine(self.store.db).resolve(self.workspace.id, deal_id, keep, fields)
        self.reload()

    # --- goals -------------------------------------------------------------------------

    def goals(self) -> dict[int, float]:
        """The workspace's saved revenue goals, by forecast window in days."""
        return {g.window_days: g.amount for g in self.store.goals.all(self.workspace.id)}

    def save_goal(self, days: int, amount: float | None) -> None:
        """Save (or, with None, clear) the goal of one forecast window."""
        if amount is None:
            self.store.goals.clear(self.workspace.id, days)
        else:
            self.store.goals.set(self.workspace.id, days, amount)

    def period_goals(self) -> dict[str, float]:
        """The workspace's goals per calendar period, by label (2026-Q1, 2026-03)."""
        return {g.period: g.amount for g in self.store.goals.all_periods(self.workspace.id)}

    def save_period_goal(self, period: Period, amount: float | None) -> None:
        """Save (or, with None, clear) the goal of one month or quarter."""
        if amount is None:
            self.store.goals.clear_period(self.workspace.id, period)
        else:
            self.store.goals.set_period(self.workspace.id, period, amount)
