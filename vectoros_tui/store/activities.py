"""A deal's activity timeline: emails, calls, meetings and notes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
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

    def add(self, deal_id: uuid.UUID, data: Mapping[str, Any]) -> ActivityView:
        clean = clean_activity(data)
        with self.db.write() as session:
            deal = session.get(Deal, deal_id)
            if deal is None:
                raise NotFoundError(f"deal {deal_id} does not exist")
            self._may_change(session, deal)
            row = Activity(deal_id=deal_id, **clean)
            session.add(row)
            session.flush()
            return ActivityView.from_row(row)

    def update(self, activity_id: uuid.UUID, data: Mapping[str, Any]) -> ActivityView:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            self._may_change(session, session.get_one(Deal, row.deal_id))
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
            return ActivityView.from_row(row)

    def mark_done(self, activity_id: uuid.UUID, now: datetime | None = None) -> ActivityView:
        """A planned activity done: dated when it was done (now), no longer due."""
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            self._may_change(session, session.get_one(Deal, row.deal_id))
            if not row.done:
                row.done, row.date = True, now or utcnow()
                row.updated_at = utcnow()
                session.flush()
            return ActivityView.from_row(row)

    def delete(self, activity_id: uuid.UUID) -> None:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            self._may_change(session, session.get_one(Deal, row.deal_id))
            session.delete(row)
