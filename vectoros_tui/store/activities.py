"""A deal's activity timeline: emails, calls, meetings and notes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.ids import resolve_short_id
from vectoros_tui.store.tables import Activity, Deal, utcnow
from vectoros_tui.store.validation import clean_activity
from vectoros_tui.store.views import ActivityView


class ActivityService:
    def __init__(self, db: Database) -> None:
        self.db = db

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
            if session.get(Deal, deal_id) is None:
                raise NotFoundError(f"deal {deal_id} does not exist")
            row = Activity(deal_id=deal_id, **clean)
            session.add(row)
            session.flush()
            return ActivityView.from_row(row)

    def update(self, activity_id: uuid.UUID, data: Mapping[str, Any]) -> ActivityView:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            current = {"type": row.type, "description": row.description, "date": row.date}
            clean = clean_activity({**current, **data})
            for key, value in clean.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.flush()
            return ActivityView.from_row(row)

    def delete(self, activity_id: uuid.UUID) -> None:
        with self.db.write() as session:
            row = session.get(Activity, activity_id)
            if row is None:
                raise NotFoundError(f"activity {activity_id} does not exist")
            session.delete(row)
