"""Sync a workspace with the team's backend: push the outbox, pull the backend, and never
overwrite anyone silently.

For every linked deal the store keeps the fields both sides agreed on at the last sync
(``SyncLink.base``). A side "changed" a deal when its fields differ from that base:

* only mine changed -> pushed (:mod:`.push`);  only theirs changed -> applied here
  (:mod:`.pull`);
* both changed to the same thing -> nothing to do;  both changed differently -> a
  :class:`SyncConflict`, listed until the rep keeps mine, keeps theirs or merges fields
  (:mod:`.resolve`).

What a backend carries beyond the seed's API, it names in /health (``vectoros serve``: a
deal's next step, and activity routes): only then do next steps take part in the above, and
do activities go both ways (:mod:`.activity_sync`). With any other backend both stay here
as they are, and the report says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, cast

from sqlmodel import Session, col, func, select

from vectoros_tui.store import outbox
from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.tables import (
    Deal,
    SyncActivityOutbox,
    SyncConflict,
    SyncLink,
    SyncOutbox,
    SyncRemote,
    Workspace,
    utcnow,
)
from vectoros_tui.store.validation import NEXT_STEP_FIELDS
from vectoros_tui.sync.activity_sync import forget_activities, sync_activities
from vectoros_tui.sync.backend import ActivityBackend, Backend, extensions_of
from vectoros_tui.sync.errors import SyncError
from vectoros_tui.sync.owners import mirror_roles, pull_owners, read_people
from vectoros_tui.sync.pull import pull
from vectoros_tui.sync.push import push
from vectoros_tui.sync.records import sync_fields
from vectoros_tui.sync.reports import ConflictView, SyncReport, SyncStatus
from vectoros_tui.sync.resolve import conflicts as list_conflicts
from vectoros_tui.sync.resolve import resolve as resolve_conflict

NOT_CARRIED: Final = (
    "{} not synced: this backend does not say it has them (`vectoros serve` does); "
    "they stay here as they are"
)


def _carry_next_steps(db: Database, workspace_id: uuid.UUID) -> None:
    """Deals linked before their next step travelled: their base gets the backend's next
    step of then (none: nothing sent it), and one with a next step here is queued, so it
    goes with this sync instead of waiting for the deal's next edit."""
    with db.write() as session:
        older = [
            (deal_id, dict(base))
            for deal_id, base in session.exec(
                select(SyncLink.deal_id, SyncLink.base).where(SyncLink.workspace_id == workspace_id)
            ).all()
            if any(name not in base for name in NEXT_STEP_FIELDS)
        ]
        for deal_id, base in older:
            link = session.get_one(SyncLink, deal_id)
            link.base = {**base, **{name: base.get(name) for name in NEXT_STEP_FIELDS}}
            deal = session.get(Deal, deal_id)
            if deal is not None and (deal.next_step or deal.next_step_due):
                outbox.record(session, workspace_id, deal_id, "upsert")


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
                for row in session.exec(select(table).where(table.workspace_id == workspace_id)):
                    session.delete(row)
            forget_activities(session, workspace_id)
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
            conflicts = _count(session, SyncConflict, workspace_id)
            queued_activities = _count(session, SyncActivityOutbox, workspace_id) if remote else 0
        return SyncStatus(
            linked=remote is not None,
            server_url=remote.server_url if remote else None,
            remote_workspace_id=remote.remote_workspace_id if remote else None,
            dialect=remote.dialect if remote else None,
            last_sync_at=remote.last_sync_at if remote else None,
            last_error=remote.last_error if remote else None,
            pending=len(pending),
            conflicts=conflicts,
            pending_activities=queued_activities,
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
            remote_workspace = remote.remote_workspace_id
            people = read_people(backend, remote_workspace)
            if people is not None:
                mirror_roles(self.db, workspace_id, people)
            extensions = extensions_of(backend)
            next_steps = "nextStep" in extensions
            fields = sync_fields(next_steps)
            if next_steps:
                _carry_next_steps(self.db, workspace_id)
            with self.db.read() as session:
                pending = self._pending_ids(session, workspace_id)
            push(
                self.db,
                self.clock,
                workspace_id,
                remote_workspace,
                pending,
                backend,
                report,
                people,
                fields,
            )
            remote_deals = pull(
                self.db, self.clock, workspace_id, remote_workspace, backend, report, fields
            )
            if people is not None:
                report.pulled_owners = pull_owners(self.db, workspace_id, remote_deals, people)
            if "activities" in extensions:
                sync_activities(
                    self.db,
                    self.clock,
                    workspace_id,
                    remote_workspace,
                    cast(ActivityBackend, backend),
                    {d.id for d in remote_deals},
                    report,
                )
            missing = [
                what
                for what, has in (
                    ("next steps", next_steps),
                    ("activities", "activities" in extensions),
                )
                if not has
            ]
            if missing:
                report.notes.append(NOT_CARRIED.format(" and ".join(missing)))
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

    # conflicts -------------------------------------------------------------------------

    def conflicts(self, workspace_id: uuid.UUID) -> list[ConflictView]:
        return list_conflicts(self.db, workspace_id)

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
        resolve_conflict(self.db, self.clock, workspace_id, deal_id, keep, fields)


def _count(session: Session, table: Any, workspace_id: uuid.UUID) -> int:
    """Rows of a sync table (conflicts, queued activities) kept for a workspace."""
    found = session.exec(
        select(func.count()).select_from(table).where(table.workspace_id == workspace_id)
    ).one()
    return int(found[0] if isinstance(found, tuple) else found)
