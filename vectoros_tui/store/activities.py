"""A deal's activity timeline: emails, calls, meetings and notes."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from vectoros_tui.store import outbox
from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import ConflictError, NotFoundError
from vectoros_tui.store.ids import resolve_short_id
from vectoros_tui.store.roles import Actor, require_deal_access
from vectoros_tui.store.tables import Activity, Deal, utcnow
from vectoros_tui.store.validation import clean_activity
from vectoros_tui.store.views import ActivityView


class ActivityService:
    def __init__(self, db: Database, actor: Actor | None = None) -> None:
        self.db = db
        self.actor = actor  # a deal's activities change with the deal: the same roles

    def _may_change(self, session: Session, deal: Deal) -> None:
        if self.actor is not None:
            require_deal_access(
                session,
                deal.workspace_id,
                self.actor,
                deal.owner_id,
                f"change the activities of '{deal.title}'",
            )

    def resolve_id(self, ref: str) -> uuid.UUID:
        with self.db.read() as session:
            return resolve_short_id(session, Activity, ref, "activity")

    def list(self, deal_id: uuid.UUID) -> list[ActivityView]:
        """Newest first, as a timeline reads."""
        with self.db.read() as session:
            rows = session.exec(
                select(Activity)
                .where(Activity.deal_id == deal_id)
                .order_by(col(Activity.date).desc(), col(Activity.created_at).desc())
            ).all()
            return [ActivityView.from_row(r) for r in rows]

    def of_workspace(
        self, workspace_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[builtins.list[ActivityView], int]:
        """A page of every activity of the workspace's deals and their total, in the order
        they were added (stable while a client pages)."""
        with self.db.read() as session:
            total = session.exec(
                select(func.count())
                .select_from(Activity)
                .join(Deal, col(Deal.id) == Activity.deal_id)
                .where(Deal.workspace_id == workspace_id)
            ).one()
            rows = session.exec(
                select(Activity)
                .join(Deal, col(Deal.id) == Activity.deal_id)
                .where(Deal.workspace_id == workspace_id)
                .order_by(col(Activity.created_at), col(Activity.id))
                .limit(limit)
                .offset(offset)
            ).all()
            return [ActivityView.from_row(r) for r in rows], int(total)

    def add(
        self,
        deal_id: uuid.UUID,
        data: Mapping[str, Any],
        *,
        activity_id: uuid.UUID | None = None,
    ) -> ActivityView:
        """``activity_id``: a client-generated id (the sync client sends one so that a
        retried add is recognised); one this deal has already raises
        :class:`ConflictError`."""
        clean = clean_activity(data)
        with self.db.write() as session:
            deal = session.get(Deal, deal_id)
            if deal is None:
                raise NotFoundError(f"deal {deal_id} does not exist")
            self._may_change(session, deal)
            taken = session.get(Activity, activity_id) if activity_id is not None else None
            if taken is not None and taken.deal_id != deal_id:
                # Another deal's id: refusing would tell the caller it exists there, so the
                # activity gets an id of its own (the answer carries it).
                activity_id, taken = None, None
            if taken is not None:
                raise ConflictError(f"an activity with id {activity_id} already exists")
            given_id: dict[str, Any] = {"id": activity_id} if activity_id is not None else {}
            row = Activity(**given_id, deal_id=deal_id, **clean)
            session.add(row)
            session.flush()
            outbox.record_activity(session, deal.workspace_id, row.id, "upsert")
            return ActivityView.from_row(row)

    def update(self, activity_id: uuid.UUID, data: Mapping[str, Any]) -> ActivityView:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            deal = session.get_one(Deal, row.deal_id)
            self._may_change(session, deal)
            current = {
                "type": row.type,
                "description": row.description,
                "date": row.date,
                "done": row.done,
            }
            clean = clean_activity({**current, **data})
            for key, value in clean.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.flush()
            outbox.record_activity(session, deal.workspace_id, row.id, "upsert")
            return ActivityView.from_row(row)

    def mark_done(self, activity_id: uuid.UUID, now: datetime | None = None) -> ActivityView:
        """A planned activity done: dated when it was done (now), no longer due."""
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            deal = session.get_one(Deal, row.deal_id)
            self._may_change(session, deal)
            if not row.done:
                row.done, row.date = True, now or utcnow()
                row.updated_at = utcnow()
                session.flush()
                outbox.record_activity(session, deal.workspace_id, row.id, "upsert")
            return ActivityView.from_row(row)

    def delete(self, activity_id: uuid.UUID) -> None:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            deal = session.get_one(Deal, row.deal_id)
            self._may_change(session, deal)
            outbox.record_activity(session, deal.workspace_id, row.id, "delete")
            session.delete(row)
