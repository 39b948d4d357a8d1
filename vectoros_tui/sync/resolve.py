"""Sync conflicts: listing them, and settling one by keeping mine, theirs or a merge.

Resolving works offline: the result is applied here, the agreed base becomes theirs, and
what must reach the backend is queued for the next sync.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import col, select

from vectoros_tui.store import outbox
from vectoros_tui.store.database import Database
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.outbox import APPLYING_REMOTE
from vectoros_tui.store.tables import Deal, SyncConflict, SyncLink
from vectoros_tui.store.views import DealView
from vectoros_tui.sync.errors import SyncError
from vectoros_tui.sync.records import Record, clean_record, record_fields
from vectoros_tui.sync.reports import ConflictView


def conflicts(db: Database, workspace_id: uuid.UUID) -> list[ConflictView]:
    with db.read() as session:
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
    db: Database,
    clock: Callable[[], datetime],
    workspace_id: uuid.UUID,
    deal_id: uuid.UUID,
    keep: str,
    fields: Mapping[str, str] | None = None,
) -> None:
    """``keep``: "mine", "theirs" or "merge" (``fields``: name -> "mine"/"theirs", the
    rest from mine)."""
    if keep not in ("mine", "theirs", "merge"):
        raise SyncError(f"keep must be mine, theirs or merge, not {keep!r}")
    now = clock()
    with db.write() as session:
        conflict = session.get(SyncConflict, deal_id)
        if conflict is None or conflict.workspace_id != workspace_id:
            raise NotFoundError(f"no sync conflict for deal {deal_id}")
        mine, theirs = conflict.mine, conflict.theirs
        result = _kept(keep, mine, theirs, fields)
        link = session.get(SyncLink, deal_id)
        row = session.get(Deal, deal_id)
        # Local side becomes the result; queued for the backend unless it is theirs.
        session.info[APPLYING_REMOTE] = True
        if result is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            row = DealService._insert(session, workspace_id, clean_record(result), None, now)
            deal_id = row.id
        else:
            DealService._apply(session, row, DealView.from_row(row), clean_record(result), now)
        # Backend side: we have now seen theirs; the next push starts from it.
        if link is not None:
            if theirs is None or link.deal_id != deal_id:
                session.delete(link)  # gone there: a kept deal is created anew
            else:
                link.base, link.synced_at = theirs, now
        session.delete(conflict)
        session.info[APPLYING_REMOTE] = False
        if result != theirs:
            outbox.record(session, workspace_id, deal_id, "delete" if result is None else "upsert")


def _kept(
    keep: str, mine: Record | None, theirs: Record | None, fields: Mapping[str, str] | None
) -> Record | None:
    """The deal as the rep settles it (None: deleted)."""
    if keep == "theirs":
        return theirs
    if keep == "mine":
        return mine
    if mine is None or theirs is None:
        raise SyncError("one side deleted the deal: keep mine or keep theirs")
    names = record_fields(mine, theirs)
    unknown = sorted(set(fields or {}) - set(names))
    bad = sorted(k for k, v in (fields or {}).items() if v not in ("mine", "theirs"))
    if unknown or bad:
        raise SyncError(
            "merge takes field=mine|theirs for fields "
            + ", ".join(names)
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; bad choice for: {', '.join(bad)}" if bad else "")
        )
    return {n: (theirs if (fields or {}).get(n) == "theirs" else mine).get(n) for n in names}
