"""Pull a workspace's deals from its backend and apply what changed only there.

Pulled changes are applied in chunks, each in one transaction, with the outbox switched
off for them (they came from the backend). A deal changed on both sides since the base
becomes a :class:`~vectoros_tui.store.tables.SyncConflict` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.outbox import APPLYING_REMOTE
from vectoros_tui.store.tables import Deal, SyncConflict, SyncLink
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import DealView
from vectoros_tui.sync.backend import Backend
from vectoros_tui.sync.records import (
    DEAL_FIELDS,
    RemoteDeal,
    base_of,
    clean_record,
    record_of_remote,
    record_of_view,
)
from vectoros_tui.sync.reports import SyncReport

# Remote deals applied per transaction; also the most ids one query asks about.
PULL_CHUNK = 500


def pull(
    db: Database,
    clock: Callable[[], datetime],
    workspace_id: uuid.UUID,
    remote_workspace: str,
    backend: Backend,
    report: SyncReport,
    fields: tuple[str, ...] = DEAL_FIELDS,
) -> list[RemoteDeal]:
    """Apply what changed only on the backend; returns the backend's deals. ``fields``:
    those the backend carries (a field it has not, such as a next step, stays as it is)."""
    remote_deals = backend.list_deals(remote_workspace)
    seen: set[str] = set()
    for start in range(0, len(remote_deals), PULL_CHUNK):
        chunk = remote_deals[start : start + PULL_CHUNK]
        seen.update(d.id for d in chunk)
        _pull_chunk(db, clock(), workspace_id, chunk, report, fields)
    _pull_deletions(db, clock(), workspace_id, seen, report, fields)
    return remote_deals


def _local(session: Session, deal_id: uuid.UUID) -> DealView | None:
    row = session.get(Deal, deal_id)
    return DealView.from_row(row) if row is not None else None


def _pull_chunk(
    db: Database,
    now: datetime,
    workspace_id: uuid.UUID,
    chunk: Sequence[RemoteDeal],
    report: SyncReport,
    fields: tuple[str, ...],
) -> None:
    with db.write() as session:
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
                    theirs = record_of_remote(remote_deal, None, fields)
                    new.append((remote_deal, clean_record(theirs)))
                    continue
                if link.deal_id in conflicted:
                    continue
                base = base_of(link.base, fields)
                theirs = record_of_remote(remote_deal, base, fields)
                if theirs == base:
                    link.remote_etag = remote_deal.etag
                    continue
                local = _local(session, link.deal_id)
                if local is None:
                    continue  # deleted here: its push (or conflict) handles it
                mine = record_of_view(local, fields)
                if mine == base:
                    row = session.get(Deal, link.deal_id)
                    assert row is not None
                    DealService._apply(session, row, local, clean_record(theirs), now)
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
        _pull_new(session, workspace_id, new, now, fields)
        report.pulled_created += len(new)


def _pull_new(
    session: Session,
    workspace_id: uuid.UUID,
    new: list[tuple[RemoteDeal, dict[str, Any]]],
    now: datetime,
    fields: tuple[str, ...],
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
                "base": record_of_view(view, fields),
                "synced_at": now,
                "remote_etag": remote_deal.etag,
            }
            for (remote_deal, _), view in zip(new, views, strict=True)
        ],
    )


def _pull_deletions(
    db: Database,
    now: datetime,
    workspace_id: uuid.UUID,
    seen: set[str],
    report: SyncReport,
    fields: tuple[str, ...],
) -> None:
    with db.write() as session:
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
            if link is None or session.get(SyncConflict, deal_id) is not None:
                continue
            local = _local(session, link.deal_id)
            base = base_of(link.base, fields)
            if local is not None and record_of_view(local, fields) != base:
                session.add(
                    SyncConflict(
                        deal_id=link.deal_id,
                        workspace_id=workspace_id,
                        remote_id=link.remote_id,
                        mine=record_of_view(local, fields),
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
