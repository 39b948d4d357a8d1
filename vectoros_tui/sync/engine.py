"""Push the outbox, pull the backend, and never overwrite anyone silently.

For every linked deal the store keeps the fields both sides agreed on at the last sync
(``SyncLink.base``). A side "changed" a deal when its fields differ from that base:

* only mine changed -> pushed;  only theirs changed -> applied here;
* both changed to the same thing -> nothing to do;  both changed differently -> a
  :class:`SyncConflict`, listed until the rep keeps mine, keeps theirs or merges fields.

Each deal is pushed with one remote call followed by one local transaction (drop the
outbox entry, record the new base). A process killed between the two leaves the entry in
the outbox; the next run finds the backend already holding "mine" and only records the
base, and a create is retried with the same client-generated id, which the backend treats
as the same deal. Pulled changes are applied in chunks, each in one transaction, with the
outbox switched off for them (they came from the backend).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from vectoros_tui.store import outbox
from vectoros_tui.store.database import Database
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.outbox import APPLYING_REMOTE
from vectoros_tui.store.tables import (
    Deal,
    SyncConflict,
    SyncLink,
    SyncOutbox,
    SyncRemote,
    Workspace,
    utcnow,
)
from vectoros_tui.store.validation import DEAL_FIELDS, ValidationError, clean_deal
from vectoros_tui.store.views import DealView
from vectoros_tui.sync.errors import RemoteError, SyncError
from vectoros_tui.sync.records import RemoteDeal

log = logging.getLogger(__name__)

# The fields that travel; ids, versions and timestamps are each side's own.
FIELDS = DEAL_FIELDS
PULL_CHUNK = 500
# Deals pushed at once: enough to keep a backend busy while we wait, few enough not to
# flood a shared one.
PUSH_WORKERS = 4
# Pushed deals noted locally per transaction. A crash loses at most this many notes, and
# the next push redoes those deals harmlessly (the backend already has them: conditional
# writes and client ids make it idempotent); one SQLite transaction each cost as much CPU
# as the request itself.
SETTLE_BATCH = 25
Record = dict[str, Any]
Settlement = tuple[
    uuid.UUID, uuid.UUID, str | None, Record | None, datetime | None, RemoteDeal | None
]


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


class Backend(Protocol):
    def list_deals(self, workspace_id: str) -> list[RemoteDeal]: ...
    def get_deal(self, deal_id: str) -> RemoteDeal | None: ...
    def create_deal(self, workspace_id: str, local_record: dict[str, Any]) -> RemoteDeal: ...
    def update_deal(
        self,
        deal_id: str,
        changes: dict[str, Any],
        full: dict[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None: ...
    def delete_deal(self, deal_id: str, if_match: str | None = None) -> bool: ...
    @property
    def conditional_writes(self) -> bool: ...


# --- records: the syncable fields as plain JSON values ---------------------------------


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def record_of_view(deal: DealView) -> Record:
    fields = deal.editable_fields()
    return {name: _iso(fields[name]) if name == "close_date" else fields[name] for name in FIELDS}


def record_of_remote(deal: RemoteDeal, like: Record | None = None) -> Record:
    """The remote deal in local terms. A null value/probability (the deployed backend has
    them) is not a change: it takes the value ``like`` has (else the store's default)."""
    out: Record = {}
    for name in FIELDS:
        value = getattr(deal, name)
        if name == "close_date":
            value = _iso(value)
        if value is None and name in ("value", "probability") and like is not None:
            value = like.get(name)
        out[name] = value
    if out["value"] is None:
        out["value"] = 0.0
    if out["probability"] is None:
        out["probability"] = clean_deal(out)["probability"]
    return out


def changed_fields(before: Record, after: Record) -> dict[str, Any]:
    return {name: after.get(name) for name in FIELDS if after.get(name) != before.get(name)}


@dataclass(frozen=True)
class _Queued:
    """A deal waiting to be pushed: when it was queued (None: never pushed, not in the
    outbox), its link to the remote twin, and the local deal (None: deleted here)."""

    stamp: datetime | None
    link: SyncLink | None
    local: DealView | None


# --- reports --------------------------------------------------------------------------


@dataclass
class SyncReport:
    pushed_created: int = 0
    pushed_updated: int = 0
    pushed_deleted: int = 0
    pulled_created: int = 0
    pulled_updated: int = 0
    pulled_deleted: int = 0
    new_conflicts: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        for name in (
            "pushed_created",
            "pushed_updated",
            "pushed_deleted",
            "pulled_created",
            "pulled_updated",
            "pulled_deleted",
            "new_conflicts",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)

    def to_api(self) -> dict[str, Any]:
        return {
            "pushed": {
                "created": self.pushed_created,
                "updated": self.pushed_updated,
                "deleted": self.pushed_deleted,
            },
            "pulled": {
                "created": self.pulled_created,
                "updated": self.pulled_updated,
                "deleted": self.pulled_deleted,
            },
            "new_conflicts": self.new_conflicts,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class SyncStatus:
    linked: bool
    server_url: str | None
    remote_workspace_id: str | None
    dialect: str | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int
    conflicts: int

    def to_api(self) -> dict[str, Any]:
        return {
            "linked": self.linked,
            "server": self.server_url,
            "remote_workspace_id": self.remote_workspace_id,
            "dialect": self.dialect,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "last_error": self.last_error,
            "pending_changes": self.pending,
            "conflicts": self.conflicts,
        }


@dataclass(frozen=True)
class ConflictView:
    deal_id: uuid.UUID
    remote_id: str
    mine: Record | None
    theirs: Record | None
    base: Record
    detected_at: datetime

    @property
    def title(self) -> str:
        return str((self.mine or self.theirs or self.base).get("title", "?"))

    def differing_fields(self) -> list[str]:
        if self.mine is None or self.theirs is None:
            return list(FIELDS)
        return [n for n in FIELDS if self.mine.get(n) != self.theirs.get(n)]

    def to_api(self) -> dict[str, Any]:
        return {
            "deal_id": str(self.deal_id),
            "remote_id": self.remote_id,
            "title": self.title,
            "mine": self.mine,
            "theirs": self.theirs,
            "base": self.base,
            "fields": self.differing_fields(),
            "detected_at": self.detected_at.isoformat(),
        }


# --- the engine -----------------------------------------------------------------------


class SyncEngine:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # linking and status ----------------------------------------------------------------

    def link(
        self, workspace_id: uuid.UUID, server_url: str, remote_workspace_id: str, dialect: str
    ) -> None:
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            remote = session.get(SyncRemote, workspace_id)
            if remote is not None and (
                remote.server_url != server_url or remote.remote_workspace_id != remote_workspace_id
            ):
                raise SyncError(
                    f"this workspace already syncs with {remote.server_url} (remote workspace "
                    f"{remote.remote_workspace_id}); unlink it first"
                )
            if remote is None:
                session.add(
                    SyncRemote(
                        workspace_id=workspace_id,
                        server_url=server_url,
                        remote_workspace_id=remote_workspace_id,
                        dialect=dialect,
                    )
                )
            else:
                remote.dialect = dialect

    def unlink(self, workspace_id: uuid.UUID) -> None:
        with self.db.write() as session:
            for table in (SyncOutbox, SyncLink, SyncConflict):
                for row in session.exec(
                    select(table).where(table.workspace_id == workspace_id)  # type: ignore[attr-defined]
                ):
                    session.delete(row)
            remote = session.get(SyncRemote, workspace_id)
            if remote is not None:
                session.delete(remote)

    def remote(self, workspace_id: uuid.UUID) -> SyncRemote | None:
        with self.db.read() as session:
            return session.get(SyncRemote, workspace_id)

    def status(self, workspace_id: uuid.UUID) -> SyncStatus:
        with self.db.read() as session:
            remote = session.get(SyncRemote, workspace_id)
            pending = self._pending_ids(session, workspace_id) if remote else []
            conflicts = session.exec(
                select(func.count())
                .select_from(SyncConflict)
                .where(SyncConflict.workspace_id == workspace_id)
            ).one()
        return SyncStatus(
            linked=remote is not None,
            server_url=remote.server_url if remote else None,
            remote_workspace_id=remote.remote_workspace_id if remote else None,
            dialect=remote.dialect if remote else None,
            last_sync_at=remote.last_sync_at if remote else None,
            last_error=remote.last_error if remote else None,
            pending=len(pending),
            conflicts=int(conflicts if not isinstance(conflicts, tuple) else conflicts[0]),
        )

    @staticmethod
    def _pending_ids(session: Session, workspace_id: uuid.UUID) -> list[uuid.UUID]:
        """Outbox entries, then deals never pushed (created before the link, or imported)."""
        queued = list(
            session.exec(
                select(SyncOutbox.deal_id)
                .where(SyncOutbox.workspace_id == workspace_id)
                .order_by(col(SyncOutbox.changed_at), col(SyncOutbox.deal_id))
            )
        )
        seen = set(queued)
        conflicted = set(
            session.exec(
                select(SyncConflict.deal_id).where(SyncConflict.workspace_id == workspace_id)
            )
        )
        unlinked = session.exec(
            select(Deal.id)
            .where(Deal.workspace_id == workspace_id)
            .where(col(Deal.id).not_in(select(SyncLink.deal_id)))
            .order_by(col(Deal.created_at), col(Deal.id))
        )
        return [d for d in queued if d not in conflicted] + [
            d for d in unlinked if d not in seen and d not in conflicted
        ]

    # syncing ---------------------------------------------------------------------------

    def sync(self, workspace_id: uuid.UUID, backend: Backend) -> SyncReport:
        """Push, then pull. Connection-level failures abort (nothing is lost: what was not
        pushed stays in the outbox); a deal the backend refuses is reported and kept."""
        remote = self.remote(workspace_id)
        if remote is None:
            raise SyncError("this workspace is not linked to a backend; run `vectoros sync --link`")
        report = SyncReport()
        try:
            with self.db.read() as session:
                pending = self._pending_ids(session, workspace_id)
            self._push(workspace_id, remote.remote_workspace_id, pending, backend, report)
            self._pull(workspace_id, remote.remote_workspace_id, backend, report)
            self.db.bulk_loaded(report.pulled_created)
        except SyncError as exc:
            self._finish(workspace_id, str(exc)[:500], completed=False)
            raise
        self._finish(workspace_id, "; ".join(report.problems)[:500] or None, completed=True)
        return report

    def _finish(self, workspace_id: uuid.UUID, error: str | None, *, completed: bool) -> None:
        with self.db.write() as session:
            remote = session.get(SyncRemote, workspace_id)
            if remote is not None:
                remote.last_error = error
                if completed:
                    remote.last_sync_at = self.clock()

    def _local(self, session: Session, deal_id: uuid.UUID) -> DealView | None:
        row = session.get(Deal, deal_id)
        return DealView.from_row(row) if row is not None else None

    def _push(
        self,
        workspace_id: uuid.UUID,
        remote_workspace: str,
        pending: list[uuid.UUID],
        backend: Backend,
        report: SyncReport,
    ) -> None:
        """Push every pending deal, PUSH_WORKERS at a time: each is independent (its own
        remote call and local transaction), and the time goes into waiting for the
        server. A connection-level failure stops the push (the rest stays queued)."""

        queued = self._queued(pending)
        settlements = _Settlements() if len(pending) > 1 else None

        def push(deal_id: uuid.UUID) -> SyncReport:
            mine = SyncReport()
            try:
                self._push_one(
                    workspace_id,
                    remote_workspace,
                    deal_id,
                    queued[deal_id],
                    backend,
                    mine,
                    settlements,
                )
            except RemoteError as exc:
                mine.problems.append(f"deal {deal_id}: the backend refused it: {exc}")
            return mine

        if settlements is None:
            for deal_id in pending:
                report.add(push(deal_id))
            return
        try:
            with ThreadPoolExecutor(PUSH_WORKERS, thread_name_prefix="vectoros-push") as pool:
                futures = [pool.submit(push, deal_id) for deal_id in pending]
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
        workspace_id: uuid.UUID,
        remote_workspace: str,
        deal_id: uuid.UUID,
        queued: _Queued,
        backend: Backend,
        report: SyncReport,
        settlements: _Settlements | None = None,
    ) -> None:
        stamp, link, local = queued.stamp, queued.link, queued.local
        mine = record_of_view(local) if local else None
        if link is None:
            if mine is None:  # created and deleted between two syncs: nothing to tell
                self._settle((workspace_id, deal_id, None, None, stamp, None), settlements)
                return
            created = backend.create_deal(remote_workspace, {"id": str(deal_id), **mine})
            self._settle(
                (
                    workspace_id,
                    deal_id,
                    created.id,
                    record_of_remote(created, mine),
                    stamp,
                    created,
                ),
                settlements,
            )
            report.pushed_created += 1
            return
        base = dict(link.base)
        if self._push_conditionally(
            workspace_id, deal_id, link, mine, backend, report, stamp, settlements
        ):
            return
        current = backend.get_deal(link.remote_id)
        theirs = record_of_remote(current, base) if current else None
        if mine is None:  # deleted here
            if theirs is not None and theirs != base:
                self._conflict(workspace_id, deal_id, link.remote_id, None, theirs, base, report)
                return
            if current is not None:
                backend.delete_deal(link.remote_id)
            self._settle((workspace_id, deal_id, None, None, stamp, None), settlements)
            report.pushed_deleted += 1
            return
        if theirs is None:  # deleted there, changed here
            if mine != base:
                self._conflict(workspace_id, deal_id, link.remote_id, mine, None, base, report)
            return  # unchanged here: the pull deletes it locally
        if theirs == mine:  # already there (an interrupted earlier push)
            self._settle(
                (workspace_id, deal_id, link.remote_id, theirs, stamp, current), settlements
            )
            return
        if theirs != base:
            if mine != base:
                self._conflict(workspace_id, deal_id, link.remote_id, mine, theirs, base, report)
            return  # only theirs changed: the pull applies it
        updated = backend.update_deal(link.remote_id, changed_fields(base, mine), full=mine)
        assert updated is not None  # an unconditional update raises instead
        self._settle(
            (workspace_id, deal_id, updated.id, record_of_remote(updated, mine), stamp, updated),
            settlements,
        )
        report.pushed_updated += 1

    def _push_conditionally(
        self,
        workspace_id: uuid.UUID,
        deal_id: uuid.UUID,
        link: SyncLink,
        mine: Record | None,
        backend: Backend,
        report: SyncReport,
        stamp: datetime | None,
        settlements: _Settlements | None = None,
    ) -> bool:
        """One request instead of read-then-write, when the backend honours If-Match and
        we know the version our base came from: the write goes through only if nobody
        changed the deal since. False: not done (no tag, or it changed: the caller reads
        it and merges as usual)."""
        if link.remote_etag is None or mine == dict(link.base) or not backend.conditional_writes:
            return False
        if mine is None:
            if not backend.delete_deal(link.remote_id, if_match=link.remote_etag):
                return False
            self._settle((workspace_id, deal_id, None, None, stamp, None), settlements)
            report.pushed_deleted += 1
            return True
        updated = backend.update_deal(
            link.remote_id,
            changed_fields(dict(link.base), mine),
            full=mine,
            if_match=link.remote_etag,
        )
        if updated is None:
            return False
        self._settle(
            (workspace_id, deal_id, updated.id, record_of_remote(updated, mine), stamp, updated),
            settlements,
        )
        report.pushed_updated += 1
        return True

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
            for workspace_id, deal_id, remote_id, base, stamp, remote in items:
                self._drop_queued(session, deal_id, stamp)
                link = session.get(SyncLink, deal_id)
                if remote_id is None or base is None:
                    if link is not None:
                        session.delete(link)
                    continue
                etag = remote.etag if remote else None
                if link is None:
                    session.add(
                        SyncLink(
                            deal_id=deal_id,
                            workspace_id=workspace_id,
                            remote_id=remote_id,
                            base=base,
                            synced_at=self.clock(),
                            remote_etag=etag,
                        )
                    )
                else:
                    link.remote_id = remote_id
                    link.base = base
                    link.synced_at = self.clock()
                    link.remote_etag = etag

    def _conflict(
        self,
        workspace_id: uuid.UUID,
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
                        workspace_id=workspace_id,
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

    # pulling ---------------------------------------------------------------------------

    def _pull(
        self, workspace_id: uuid.UUID, remote_workspace: str, backend: Backend, report: SyncReport
    ) -> None:
        remote_deals = backend.list_deals(remote_workspace)
        seen: set[str] = set()
        for start in range(0, len(remote_deals), PULL_CHUNK):
            chunk = remote_deals[start : start + PULL_CHUNK]
            seen.update(d.id for d in chunk)
            self._pull_chunk(workspace_id, chunk, report)
        self._pull_deletions(workspace_id, seen, report)

    def _pull_chunk(
        self, workspace_id: uuid.UUID, chunk: Sequence[RemoteDeal], report: SyncReport
    ) -> None:
        now = self.clock()
        with self.db.write() as session:
            session.info[APPLYING_REMOTE] = True
            links = {
                link.remote_id: link
                for link in session.exec(
                    select(SyncLink).where(
                        SyncLink.workspace_id == workspace_id,
                        col(SyncLink.remote_id).in_([d.id for d in chunk]),
                    )
                )
            }
            conflicted = set(
                session.exec(
                    select(SyncConflict.deal_id).where(SyncConflict.workspace_id == workspace_id)
                )
            )
            new: list[tuple[RemoteDeal, dict[str, Any]]] = []
            for remote_deal in chunk:
                link = links.get(remote_deal.id)
                try:
                    if link is None:
                        new.append((remote_deal, _clean(record_of_remote(remote_deal))))
                        continue
                    if link.deal_id in conflicted:
                        continue
                    base = dict(link.base)
                    theirs = record_of_remote(remote_deal, base)
                    if theirs == base:
                        link.remote_etag = remote_deal.etag
                        continue
                    local = self._local(session, link.deal_id)
                    if local is None:
                        continue  # deleted here: its push (or conflict) handles it
                    mine = record_of_view(local)
                    if mine == base:
                        row = session.get(Deal, link.deal_id)
                        assert row is not None
                        DealService._apply(session, row, local, _clean(theirs), now)
                        link.base, link.synced_at = theirs, now
                        link.remote_etag = remote_deal.etag
                        report.pulled_updated += 1
                    elif mine == theirs:
                        link.base, link.synced_at = theirs, now
                        link.remote_etag = remote_deal.etag
                    else:
                        session.add(
                            SyncConflict(
                                deal_id=link.deal_id,
                                workspace_id=workspace_id,
                                remote_id=remote_deal.id,
                                mine=mine,
                                theirs=theirs,
                                base=base,
                                detected_at=now,
                            )
                        )
                        conflicted.add(link.deal_id)
                        report.new_conflicts += 1
                except ValidationError as exc:
                    report.problems.append(
                        f"remote deal {remote_deal.id} ({remote_deal.title!r}) was not taken: {exc}"
                    )
            self._pull_new(session, workspace_id, new, now)
            report.pulled_created += len(new)

    @staticmethod
    def _pull_new(
        session: Session,
        workspace_id: uuid.UUID,
        new: list[tuple[RemoteDeal, dict[str, Any]]],
        now: datetime,
    ) -> None:
        """Remote deals not seen before: inserted in bulk, each linked to its twin."""
        views = DealService.insert_remote(session, workspace_id, [clean for _, clean in new], now)
        if not views:
            return
        session.execute(
            insert(SyncLink),
            [
                {
                    "deal_id": view.id,
                    "workspace_id": workspace_id,
                    "remote_id": remote_deal.id,
                    "base": record_of_view(view),
                    "synced_at": now,
                    "remote_etag": remote_deal.etag,
                }
                for (remote_deal, _), view in zip(new, views, strict=True)
            ],
        )

    def _pull_deletions(self, workspace_id: uuid.UUID, seen: set[str], report: SyncReport) -> None:
        now = self.clock()
        with self.db.write() as session:
            session.info[APPLYING_REMOTE] = True
            gone = [
                deal_id
                for deal_id, remote_id in session.exec(
                    select(SyncLink.deal_id, SyncLink.remote_id).where(
                        SyncLink.workspace_id == workspace_id
                    )
                )
                if remote_id not in seen
            ]
            for deal_id in gone:
                link = session.get(SyncLink, deal_id)
                if link is None or session.get(SyncConflict, deal_id):
                    continue
                local = self._local(session, link.deal_id)
                base = dict(link.base)
                if local is not None and record_of_view(local) != base:
                    session.add(
                        SyncConflict(
                            deal_id=link.deal_id,
                            workspace_id=workspace_id,
                            remote_id=link.remote_id,
                            mine=record_of_view(local),
                            theirs=None,
                            base=base,
                            detected_at=now,
                        )
                    )
                    report.new_conflicts += 1
                    continue
                if local is not None:
                    row = session.get(Deal, link.deal_id)
                    session.delete(row)
                    report.pulled_deleted += 1
                session.delete(link)

    # conflicts -------------------------------------------------------------------------

    def conflicts(self, workspace_id: uuid.UUID) -> list[ConflictView]:
        with self.db.read() as session:
            rows = session.exec(
                select(SyncConflict)
                .where(SyncConflict.workspace_id == workspace_id)
                .order_by(col(SyncConflict.detected_at))
            ).all()
        return [
            ConflictView(r.deal_id, r.remote_id, r.mine, r.theirs, dict(r.base), r.detected_at)
            for r in rows
        ]

    def resolve(
        self,
        workspace_id: uuid.UUID,
        deal_id: uuid.UUID,
        keep: str,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        """``keep``: "mine", "theirs" or "merge" (``fields``: name -> "mine"/"theirs", the
        rest from mine). Works offline: the result is applied here, the agreed base becomes
        theirs, and what must reach the backend is queued for the next sync."""
        if keep not in ("mine", "theirs", "merge"):
            raise SyncError(f"keep must be mine, theirs or merge, not {keep!r}")
        now = self.clock()
        with self.db.write() as session:
            conflict = session.get(SyncConflict, deal_id)
            if conflict is None or conflict.workspace_id != workspace_id:
                raise NotFoundError(f"no sync conflict for deal {deal_id}")
            mine, theirs = conflict.mine, conflict.theirs
            result: Record | None
            if keep == "theirs":
                result = theirs
            elif keep == "mine":
                result = mine
            else:
                if mine is None or theirs is None:
                    raise SyncError("one side deleted the deal: keep mine or keep theirs")
                unknown = sorted(set(fields or {}) - set(FIELDS))
                bad = sorted(k for k, v in (fields or {}).items() if v not in ("mine", "theirs"))
                if unknown or bad:
                    raise SyncError(
                        "merge takes field=mine|theirs for fields "
                        + ", ".join(FIELDS)
                        + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                        + (f"; bad choice for: {', '.join(bad)}" if bad else "")
                    )
                result = {
                    n: (theirs if (fields or {}).get(n) == "theirs" else mine)[n] for n in FIELDS
                }
            link = session.get(SyncLink, deal_id)
            row = session.get(Deal, deal_id)
            # Local side becomes the result; queued for the backend unless it is theirs.
            session.info[APPLYING_REMOTE] = True
            if result is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                row = DealService._insert(session, workspace_id, _clean(result), None, now)
                deal_id = row.id
            else:
                DealService._apply(session, row, DealView.from_row(row), _clean(result), now)
            # Backend side: we have now seen theirs; the next push starts from it.
            if link is not None:
                if theirs is None or link.deal_id != deal_id:
                    session.delete(link)  # gone there: a kept deal is created anew
                else:
                    link.base, link.synced_at = theirs, now
            session.delete(conflict)
            session.info[APPLYING_REMOTE] = False
            if result != theirs:
                outbox.record(
                    session, workspace_id, deal_id, "delete" if result is None else "upsert"
                )


def _clean(record: Record) -> dict[str, Any]:
    return clean_deal({name: record.get(name) for name in FIELDS})


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
