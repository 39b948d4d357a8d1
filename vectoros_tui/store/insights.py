"""Stored insights: regenerated from the engine's rules without duplicates.

Each rule gives its insight a stable ``rule_key`` (rule + deal). Regenerating updates the
numbers of insights whose situation persists (keeping whether the rep read or dismissed
them), adds new ones, and removes those whose situation has gone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, insert, update
from sqlmodel import select

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
        """Store ``drafts`` as the workspace's generated insights, in one transaction:
        new keys are added, keys no longer drafted removed, and the rest ("still apply")
        rewritten only where their content changed, keeping read and dismissed. A team's
        workspace has tens of thousands of insights, nearly all the same from one run to
        the next: only the difference is written, in a few bulk statements."""
        moment = now or utcnow()
        by_key = {d.key: d for d in drafts}
        with self.db.write() as session:
            connection = session.connection()
            mine = _INSIGHTS.c.workspace_id == workspace_id
            # JSON columns read as their text: comparing the text a draft would be stored
            # as costs a fraction of decoding 30,000 documents.
            existing = connection.execute(
                select(
                    _INSIGHTS.c.rule_key,
                    *(_INSIGHTS.c[name] for name in _PLAIN),
                    *(cast(_INSIGHTS.c[name], Text).label(name) for name in _DOCUMENTS),
                ).where(mine, _INSIGHTS.c.rule_key.is_not(None))
            ).all()
            gone: list[str] = []
            changed: list[dict[str, Any]] = []
            for row in existing:
                draft = by_key.pop(row.rule_key, None)
                if draft is None:
                    gone.append(row.rule_key)
                    continue
                if tuple(row[1:]) != _stored_form(draft):
                    changed.append(
                        {"key_rule": row.rule_key, **_content(draft), "updated_at": moment}
                    )
            for chunk in _chunks(gone):
                connection.execute(delete(_INSIGHTS).where(mine, _INSIGHTS.c.rule_key.in_(chunk)))
            if changed:
                connection.execute(
                    update(_INSIGHTS).where(mine, _INSIGHTS.c.rule_key == bindparam("key_rule")),
                    changed,
                )
            if by_key:
                connection.execute(
                    insert(_INSIGHTS),
                    [
                        {
                            "id": uuid.uuid4(),
                            "workspace_id": workspace_id,
                            "rule_key": draft.key,
                            "is_read": False,
                            "is_dismissed": False,
                            "created_at": moment,
                            "updated_at": moment,
                            **_content(draft),
                        }
                        for draft in by_key.values()
                    ],
                )
        return RegenerationResult(len(by_key), len(existing) - len(gone), len(gone))

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


_INSIGHTS = Insight.__table__  # type: ignore[attr-defined]
# What a rule writes into its insight (besides its key, which names the rule and the
# deal, so the deal never changes under a key), plain and as JSON documents.
_PLAIN = ("type", "priority", "title", "description", "confidence")
_DOCUMENTS = ("data", "actions")


def _content(draft: InsightDraft) -> dict[str, Any]:
    return {
        "type": draft.type,
        "priority": draft.priority,
        "title": draft.title,
        "description": draft.description,
        "confidence": draft.confidence,
        "data": dict(draft.data),
        "actions": list(draft.actions),
        "deal_id": _uuid(draft.deal_id),
    }


def _stored_form(draft: InsightDraft) -> tuple[Any, ...]:
    """A draft's content as the select in ``replace_generated`` reads it back."""
    return (
        draft.type,
        draft.priority,
        draft.title,
        draft.description,
        draft.confidence,
        json.dumps(dict(draft.data)),
        json.dumps(list(draft.actions)),
    )


def _chunks(keys: list[str], size: int = 500) -> Iterator[list[str]]:
    """Bounded IN lists: SQLite limits how many parameters one statement may bind."""
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
