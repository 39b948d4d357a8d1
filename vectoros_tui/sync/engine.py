"""Sync a workspace with the team's backend: push the outbox, pull the backend, and never
overwrite anyone silently.

For every linked deal the store keeps the fields both sides agreed on at the last sync
(``SyncLink.base``). A side "changed" a deal when its fields differ from that base:

* only mine changed -> pushed (:mod:`.push`);  only theirs changed -> applied here
  (:mod:`.pull`);
* both changed to the same thing -> nothing to do;  both changed differently -> a
  :class:`SyncConflict`, listed until the rep keeps mine, keeps theirs or merges fields
  (:mod:`.resolve`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session, col, func, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.tables import (
    Deal,
    SyncConflict,
    SyncLink,
    SyncOutbox,
    SyncRemote,
    Workspace,
    utcnow,
)
from vectoros_tui.sync.backend import Backend
from vectoros_tui.sync.errors import SyncError
from vectoros_tui.sync.owners import mirror_roles, pull_owners, read_people
from vectoros_tui.sync.pull import pull
from vectoros_tui.sync.push import push
from vectoros_tui.sync.reports import ConflictView, SyncReport, SyncStatus
from vectoros_tui.sync.resolve import conflicts as list_conflicts
from vectoros_tui.sync.resolve import resolve as resolve_conflict


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
            remote_workspace = remote.remote_workspace_id
            people = read_people(backend, remote_workspace)
            if people is not None:
                mirror_roles(self.db, workspace_id, people)
            push(
                self.db,
                self.clock,
                workspace_id,
                remote_workspace,
                pending,
                backend,
                report,
                people,
            )
            remote_deals = pull(
                self.db, self.clock, workspace_id, remote_workspace, backend, report
            )
            if people is not None:
                report.pulled_owners = pull_owners(self.db, workspace_id, remote_deals, people)
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
