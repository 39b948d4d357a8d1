"""Push a workspace's pending deals (the outbox, then deals never pushed) to its backend.

Each deal is pushed with one remote call followed by one local note (drop the outbox
entry, record the new base), several deals at once. A process killed between the two
leaves the entry in the outbox; the next run finds the backend already holding "mine" and
only records the base, and a create is retried with the same client-generated id, which
the backend treats as the same deal.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.tables import Deal, SyncConflict, SyncLink, SyncOutbox
from vectoros_tui.store.views import DealView
from vectoros_tui.sync.backend import Backend
from vectoros_tui.sync.errors import RemoteError
from vectoros_tui.sync.owners import RemotePeople, local_emails, wanted_remote_owner
from vectoros_tui.sync.pull import PULL_CHUNK
from vectoros_tui.sync.records import (
    DEAL_FIELDS,
    Record,
    RemoteDeal,
    base_of,
    changed_fields,
    record_of_remote,
    record_of_view,
)
from vectoros_tui.sync.reports import SyncReport

# Deals pushed at once: enough to keep a backend busy while we wait, few enough not to
# flood a shared one.
PUSH_WORKERS = 4
# Pushed deals noted locally per transaction. A crash loses at most this many notes, and
# the next push redoes those deals harmlessly (the backend already has them: conditional
# writes and client ids make it idempotent); one SQLite transaction each cost as much CPU
# as the request itself.
SETTLE_BATCH = 25


@dataclass(frozen=True)
class Settlement:
    """One pushed deal, to be noted locally: its outbox entry done, the base both sides
    agree on now and the version the backend holds."""

    workspace_id: uuid.UUID
    deal_id: uuid.UUID
    # The remote twin and the agreed base; None: the deal is gone, forget the link.
    remote_id: str | None
    base: Record | None
    # When the outbox entry was queued (None: never queued): a later one stays queued.
    stamp: datetime | None
    # The deal as the backend answered, whose version the next conditional write names.
    remote: RemoteDeal | None


class _Settlements:
    """Deals pushed by the workers of one push, waiting to be noted locally together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Settlement] = []

    def add(self, item: Settlement) -> list[Settlement]:
        """Queue one; returns a full batch to write (else an empty list)."""
        with self._lock:
            self._items.append(item)
            if len(self._items) < SETTLE_BATCH:
                return []
            batch, self._items = self._items, []
            return batch

    def take(self) -> list[Settlement]:
        with self._lock:
            batch, self._items = self._items, []
            return batch


@dataclass(frozen=True)
class _Queued:
    """A deal waiting to be pushed: when it was queued (None: never pushed, not in the
    outbox), its link to the remote twin, and the local deal (None: deleted here)."""

    stamp: datetime | None
    link: SyncLink | None
    local: DealView | None


def push(
    db: Database,
    clock: Callable[[], datetime],
    workspace_id: uuid.UUID,
    remote_workspace: str,
    pending: list[uuid.UUID],
    backend: Backend,
    report: SyncReport,
    people: RemotePeople | None = None,
    fields: tuple[str, ...] = DEAL_FIELDS,
) -> None:
    """Push every pending deal, PUSH_WORKERS at a time: each is independent (its own
    remote call and local transaction), and the time goes into waiting for the
    server. A connection-level failure stops the push (the rest stays queued). With
    ``people`` (the backend's members) a deal's owner goes too, by email; ``fields`` are
    those the backend carries (see :func:`~vectoros_tui.sync.records.sync_fields`)."""
    _Push(db, clock, workspace_id, remote_workspace, backend, people, fields).run(pending, report)


class _Push:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        workspace_id: uuid.UUID,
        remote_workspace: str,
        backend: Backend,
        people: RemotePeople | None = None,
        fields: tuple[str, ...] = DEAL_FIELDS,
    ) -> None:
        self.db = db
        self.fields = fields
        self.clock = clock
        self.workspace_id = workspace_id
        self.remote_workspace = remote_workspace
        self.backend = backend
        self.people = people
        self.emails = local_emails(db, workspace_id) if people is not None else {}

    def run(self, pending: list[uuid.UUID], report: SyncReport) -> None:
        queued = self._queued(pending)
        settlements = _Settlements() if len(pending) > 1 else None

        def push_one(deal_id: uuid.UUID) -> SyncReport:
            mine = SyncReport()
            try:
                self._push_one(deal_id, queued[deal_id], mine, settlements)
            except RemoteError as exc:
                mine.problems.append(f"deal {deal_id}: the backend refused it: {exc}")
            return mine

        if settlements is None:
            for deal_id in pending:
                report.add(push_one(deal_id))
            return
        try:
            with ThreadPoolExecutor(PUSH_WORKERS, thread_name_prefix="vectoros-push") as pool:
                futures = [pool.submit(push_one, deal_id) for deal_id in pending]
                failure: BaseException | None = None
                for future in futures:
                    try:
                        report.add(future.result())
                    except CancelledError:
                        pass  # not started: still in the outbox
                    except BaseException as exc:  # re-raised once the others have stopped
                        if failure is None:
                            failure = exc
                            for other in futures:
                                other.cancel()
                if failure is not None:
                    raise failure
        finally:
            # What the backend has taken is noted even when the push stops half way.
            self._write_settlements(settlements.take())

    def _queued(self, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, _Queued]:
        """What a push needs to know of each deal, read in one go (not one transaction
        per deal). A change made after this read keeps its outbox entry (see _drop_queued)."""
        stamps: dict[uuid.UUID, datetime] = {}
        links: dict[uuid.UUID, SyncLink] = {}
        deals: dict[uuid.UUID, DealView] = {}
        with self.db.read() as session:
            for start in range(0, len(deal_ids), PULL_CHUNK):
                chunk = deal_ids[start : start + PULL_CHUNK]
                for row in session.exec(
                    select(SyncOutbox).where(col(SyncOutbox.deal_id).in_(chunk))
                ):
                    stamps[row.deal_id] = row.changed_at
                for link in session.exec(select(SyncLink).where(col(SyncLink.deal_id).in_(chunk))):
                    links[link.deal_id] = link
                for deal in session.exec(select(Deal).where(col(Deal.id).in_(chunk))):
                    deals[deal.id] = DealView.from_row(deal)
        return {
            deal_id: _Queued(stamps.get(deal_id), links.get(deal_id), deals.get(deal_id))
            for deal_id in deal_ids
        }

    def _push_one(
        self,
        deal_id: uuid.UUID,
        queued: _Queued,
        report: SyncReport,
        settlements: _Settlements | None,
    ) -> None:
        stamp, link, local = queued.stamp, queued.link, queued.local
        mine = record_of_view(local, self.fields) if local else None
        backend = self.backend
        if link is None:
            if mine is None:  # created and deleted between two syncs: nothing to tell
                self._settle(self._gone(deal_id, stamp), settlements)
                return
            created = backend.create_deal(self.remote_workspace, {"id": str(deal_id), **mine})
            created = self._owner_follows(local, created)
            self._settle(self._taken(deal_id, stamp, created, mine), settlements)
            report.pushed_created += 1
            return
        base = base_of(link.base, self.fields)
        if self._push_conditionally(deal_id, link, base, mine, report, stamp, settlements):
            return
        current = backend.get_deal(link.remote_id)
        theirs = record_of_remote(current, base, self.fields) if current else None
        if mine is None:  # deleted here
            if theirs is not None and theirs != base:
                self._conflict(deal_id, link.remote_id, None, theirs, base, report)
                return
            if current is not None:
                backend.delete_deal(link.remote_id)
            self._settle(self._gone(deal_id, stamp), settlements)
            report.pushed_deleted += 1
            return
        if theirs is None:  # deleted there, changed here
            if mine != base:
                self._conflict(deal_id, link.remote_id, mine, None, base, report)
            return  # unchanged here: the pull deletes it locally
        if theirs == mine:  # already there (an interrupted earlier push, or an owner change)
            assert current is not None  # theirs came from it
            current = self._owner_follows(local, current)
            already = Settlement(self.workspace_id, deal_id, link.remote_id, theirs, stamp, current)
            self._settle(already, settlements)
            return
        if theirs != base:
            if mine != base:
                self._conflict(deal_id, link.remote_id, mine, theirs, base, report)
            return  # only theirs changed: the pull applies it
        updated = backend.update_deal(
            link.remote_id, changed_fields(base, mine, self.fields), full=mine
        )
        assert updated is not None  # an unconditional update raises instead
        updated = self._owner_follows(local, updated)
        self._settle(self._taken(deal_id, stamp, updated, mine), settlements)
        report.pushed_updated += 1

    def _push_conditionally(
        self,
        deal_id: uuid.UUID,
        link: SyncLink,
        base: Record,
        mine: Record | None,
        report: SyncReport,
        stamp: datetime | None,
        settlements: _Settlements | None,
    ) -> bool:
        """One request instead of read-then-write, when the backend honours If-Match and
        we know the version our base came from: the write goes through only if nobody
        changed the deal since. False: not done (no tag, or it changed: the caller reads
        it and merges as usual)."""
        backend = self.backend
        if link.remote_etag is None or mine == base or not backend.conditional_writes:
            return False
        if mine is None:
            if not backend.delete_deal(link.remote_id, if_match=link.remote_etag):
                return False
            self._settle(self._gone(deal_id, stamp), settlements)
            report.pushed_deleted += 1
            return True
        updated = backend.update_deal(
            link.remote_id,
            changed_fields(base, mine, self.fields),
            full=mine,
            if_match=link.remote_etag,
        )
        if updated is None:
            return False
        updated = self._owner_follows(self._local_of(deal_id), updated)
        self._settle(self._taken(deal_id, stamp, updated, mine), settlements)
        report.pushed_updated += 1
        return True

    def _owner_follows(self, local: DealView | None, remote: RemoteDeal) -> RemoteDeal:
        """Reassign the remote twin to the backend's user with the local owner's email,
        when that differs from its owner there."""
        wanted = wanted_remote_owner(self.people, self.emails, local.owner_id if local else None)
        setter = getattr(self.backend, "set_owner", None)
        if wanted is None or wanted == remote.owner_id or setter is None:
            return remote
        return setter(remote.id, wanted) or remote

    def _local_of(self, deal_id: uuid.UUID) -> DealView | None:
        with self.db.read() as session:
            row = session.get(Deal, deal_id)
            return None if row is None else DealView.from_row(row)

    def _gone(self, deal_id: uuid.UUID, stamp: datetime | None) -> Settlement:
        """A deal that exists on neither side now: no link to keep."""
        return Settlement(self.workspace_id, deal_id, None, None, stamp, None)

    def _taken(
        self, deal_id: uuid.UUID, stamp: datetime | None, remote: RemoteDeal, mine: Record
    ) -> Settlement:
        """A deal the backend took from us: what it answered is the new base."""
        base = record_of_remote(remote, mine, self.fields)
        return Settlement(self.workspace_id, deal_id, remote.id, base, stamp, remote)

    @staticmethod
    def _drop_queued(session: Session, deal_id: uuid.UUID, stamp: datetime | None) -> None:
        queued = session.get(SyncOutbox, deal_id)
        # A change made while this deal was being pushed stays queued for the next push.
        if queued is not None and (stamp is None or queued.changed_at <= stamp):
            session.delete(queued)

    def _settle(self, item: Settlement, settlements: _Settlements | None) -> None:
        """After a successful remote call: note it now, or with the push's next batch."""
        if settlements is None:
            self._write_settlements([item])
            return
        batch = settlements.add(item)
        if batch:
            self._write_settlements(batch)

    def _write_settlements(self, items: list[Settlement]) -> None:
        """For each pushed deal, in one transaction: its outbox entry done, the new agreed
        base (None: forget the link) and the version the backend holds now."""
        if not items:
            return
        with self.db.write() as session:
            for item in items:
                self._drop_queued(session, item.deal_id, item.stamp)
                link = session.get(SyncLink, item.deal_id)
                if item.remote_id is None or item.base is None:
                    if link is not None:
                        session.delete(link)
                    continue
                etag = item.remote.etag if item.remote else None
                if link is None:
                    session.add(
                        SyncLink(
                            deal_id=item.deal_id,
                            workspace_id=item.workspace_id,
                            remote_id=item.remote_id,
                            base=item.base,
                            synced_at=self.clock(),
                            remote_etag=etag,
                        )
                    )
                else:
                    link.remote_id = item.remote_id
                    link.base = item.base
                    link.synced_at = self.clock()
                    link.remote_etag = etag

    def _conflict(
        self,
        deal_id: uuid.UUID,
        remote_id: str,
        mine: Record | None,
        theirs: Record | None,
        base: Record,
        report: SyncReport,
    ) -> None:
        with self.db.write() as session:
            existing = session.get(SyncConflict, deal_id)
            if existing is None:
                session.add(
                    SyncConflict(
                        deal_id=deal_id,
                        workspace_id=self.workspace_id,
                        remote_id=remote_id,
                        mine=mine,
                        theirs=theirs,
                        base=base,
                        detected_at=self.clock(),
                    )
                )
                report.new_conflicts += 1
            else:
                existing.mine, existing.theirs = mine, theirs
            queued = session.get(SyncOutbox, deal_id)
            if queued is not None:  # the conflict holds both versions now
                session.delete(queued)
