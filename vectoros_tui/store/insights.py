"""Stored insights: regenerated from the engine's rules without duplicates.

Each rule gives its insight a stable ``rule_key`` (rule + deal). Regenerating updates the
numbers of insights whose situation persists (keeping whether the rep read or dismissed
them), adds new ones, and removes those whose situation has gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from vectoros_tui.engine.insights import InsightDraft
from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.ids import resolve_short_id
from vectoros_tui.store.tables import Insight, utcnow
from vectoros_tui.store.views import InsightView

PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class RegenerationResult:
    added: int
    updated: int
    removed: int


class InsightService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def resolve_id(self, ref: str) -> uuid.UUID:
        with self.db.read() as session:
            return resolve_short_id(session, Insight, ref, "insight")

    def list(
        self, workspace_id: uuid.UUID, *, include_dismissed: bool = False, unread_only: bool = False
    ) -> list[InsightView]:
        """By priority (critical first), then newest."""
        with self.db.read() as session:
            query = select(Insight).where(Insight.workspace_id == workspace_id)
            if not include_dismissed:
                query = query.where(Insight.is_dismissed == False)  # noqa: E712
            if unread_only:
                query = query.where(Insight.is_read == False)  # noqa: E712
            rows = [InsightView.from_row(r) for r in session.exec(query).all()]
        return sorted(
            rows,
            key=lambda i: (
                PRIORITY_ORDER.get(i.priority, 9),
                -float(i.data.get("value") or 0),
                i.title,
            ),
        )

    def replace_generated(
        self, workspace_id: uuid.UUID, drafts: Iterable[InsightDraft], now: datetime | None = None
    ) -> RegenerationResult:
        moment = now or utcnow()
        by_key = {d.key: d for d in drafts}
        added = updated = removed = 0
        with self.db.write() as session:
            existing = session.exec(
                select(Insight).where(
                    Insight.workspace_id == workspace_id,
                    col(Insight.rule_key).is_not(None),
                )
            ).all()
            for row in existing:
                draft = by_key.pop(row.rule_key or "", None)
                if draft is None:
                    session.delete(row)
                    removed += 1
                    continue
                row.type, row.priority, row.title = draft.type, draft.priority, draft.title
                row.description, row.confidence = draft.description, draft.confidence
                row.data, row.actions = dict(draft.data), list(draft.actions)
                row.deal_id = _uuid(draft.deal_id)
                row.updated_at = moment
                updated += 1
            for draft in by_key.values():
                session.add(
                    Insight(
                        workspace_id=workspace_id,
                        deal_id=_uuid(draft.deal_id),
                        type=draft.type,
                        priority=draft.priority,
                        title=draft.title,
                        description=draft.description,
                        confidence=draft.confidence,
                        data=dict(draft.data),
                        actions=list(draft.actions),
                        rule_key=draft.key,
                        created_at=moment,
                        updated_at=moment,
                    )
                )
                added += 1
        return RegenerationResult(added, updated, removed)

    def _set(self, insight_id: uuid.UUID, **values: bool) -> InsightView:
        with self.db.write() as session:
            row = session.get(Insight, insight_id)
            if row is None:
                raise NotFoundError(f"insight {insight_id} does not exist")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return InsightView.from_row(row)

    def mark_read(self, insight_id: uuid.UUID, read: bool = True) -> InsightView:
        return self._set(insight_id, is_read=read)

    def dismiss(self, insight_id: uuid.UUID) -> InsightView:
        return self._set(insight_id, is_dismissed=True, is_read=True)


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
