"""The sync outbox: every local change of a deal (or of an activity) in a linked workspace is
noted in the same transaction as the change, so a crash can never lose the fact that
something must be pushed. Changes applied *from* the backend are not noted (they came from
there)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlmodel import Session

from vectoros_tui.store.bulk import insert_rows
from vectoros_tui.store.tables import SyncActivityOutbox, SyncOutbox, SyncRemote, utcnow

# Set on a session's ``info`` while the sync engine applies remote changes.
APPLYING_REMOTE = "vectoros.applying_remote"


def _keeps_outbox(session: Session, workspace_id: uuid.UUID) -> bool:
    """Whether a change here is queued for the sync: only in a linked workspace, and not
    while the sync itself applies the remote's changes (they must not echo back)."""
    if session.info.get(APPLYING_REMOTE):
        return False
    return session.get(SyncRemote, workspace_id) is not None


def record_created(session: Session, workspace_id: uuid.UUID, deal_ids: list[uuid.UUID]) -> None:
    """Note new deals (none can be pending yet) in one multi-row INSERT."""
    if not deal_ids or not _keeps_outbox(session, workspace_id):
        return
    moment = utcnow()
    session.execute(
        insert(SyncOutbox),
        [
            {"deal_id": d, "workspace_id": workspace_id, "op": "upsert", "changed_at": moment}
            for d in deal_ids
        ],
    )


def record_many(
    session: Session, workspace_id: uuid.UUID, deal_ids: list[uuid.UUID], op: str
) -> None:
    """:func:`record` for many deals in one statement: a pending change of a deal folds
    into this one, as there."""
    if not deal_ids or not _keeps_outbox(session, workspace_id):
        return
    moment = utcnow()
    insert_rows(
        session,
        SyncOutbox.__table__,  # type: ignore[attr-defined]
        [
            {"deal_id": d, "workspace_id": workspace_id, "op": op, "changed_at": moment}
            for d in deal_ids
        ],
        upsert_on=("deal_id",),
    )


def record(session: Session, workspace_id: uuid.UUID, deal_id: uuid.UUID, op: str) -> None:
    """Note that ``deal_id`` was created/changed (``upsert``) or deleted (``delete``).

    Only linked workspaces keep an outbox: the first sync of a workspace pushes every deal
    that has no remote twin yet, so nothing is missed before linking.
    """
    if not _keeps_outbox(session, workspace_id):
        return
    pending = session.get(SyncOutbox, deal_id)
    if pending is None:
        session.add(SyncOutbox(deal_id=deal_id, workspace_id=workspace_id, op=op))
    else:
        pending.op = op
        pending.changed_at = utcnow()


def record_activity(
    session: Session, workspace_id: uuid.UUID, activity_id: uuid.UUID, op: str
) -> None:
    """Note that an activity of the workspace was added or changed (``upsert``) or deleted
    (``delete``); as :func:`record`, only in linked workspaces."""
    if not _keeps_outbox(session, workspace_id):
        return
    pending = session.get(SyncActivityOutbox, activity_id)
    if pending is None:
        session.add(SyncActivityOutbox(activity_id=activity_id, workspace_id=workspace_id, op=op))
    else:
        pending.op = op
        pending.changed_at = utcnow()
