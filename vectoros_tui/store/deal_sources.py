"""What the similar-deal index embeds, read in bulk: each deal with its recent notes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.tables import Activity, Deal

# Notes beyond the latest few add little signal and cost embedding time (embedding time
# grows with the text; the built-in model reads at most 256 tokens).
RECENT_NOTES = 3
NOTE_CHARS = 300


@dataclass(frozen=True)
class DealSource:
    id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    company: str | None
    stage: str
    value: float
    probability: int
    contact_name: str | None
    outcome: str | None
    lost_reason: str | None
    close_date: date | None
    created_at: datetime
    closed_at: datetime | None
    notes: tuple[str, ...] = ()


_COLUMNS = (
    "id",
    "workspace_id",
    "title",
    "company",
    "stage",
    "value",
    "probability",
    "contact_name",
    "outcome",
    "lost_reason",
    "close_date",
    "created_at",
    "closed_at",
)


def load_deal_sources(
    db: Database, workspace_id: uuid.UUID, deal_ids: Iterable[uuid.UUID] | None = None
) -> list[DealSource]:
    """Deals of one workspace (all, or those of ``deal_ids`` that still exist), by id."""
    wanted = None if deal_ids is None else list(deal_ids)
    if wanted == []:
        return []
    table = Deal.__table__  # type: ignore[attr-defined]
    with db.read() as session:
        query = (
            select(*(table.c[name] for name in _COLUMNS))
            .where(table.c.workspace_id == workspace_id)
            .order_by(table.c.id)
        )
        if wanted is not None:
            query = query.where(table.c.id.in_(wanted))
        rows = session.connection().execute(query).all()
        notes: dict[uuid.UUID, list[str]] = defaultdict(list)
        activities = (
            select(Activity.deal_id, Activity.description)
            .join(Deal, col(Deal.id) == Activity.deal_id)
            .where(Deal.workspace_id == workspace_id)
            .order_by(col(Activity.deal_id), col(Activity.date).desc(), col(Activity.id))
        )
        if wanted is not None:
            activities = activities.where(col(Activity.deal_id).in_(wanted))
        for deal_id, text in session.exec(activities):
            kept = notes[deal_id]
            if len(kept) < RECENT_NOTES:
                kept.append(text[:NOTE_CHARS])
    return [DealSource(**row._mapping, notes=tuple(notes.get(row.id, ()))) for row in rows]
