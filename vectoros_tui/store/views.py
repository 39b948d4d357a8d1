"""Plain, immutable views of stored rows, and their JSON in the seed platform's field names.

Screens and the CLI only ever see these, never live ORM objects (no lazy loads from the
UI thread, no accidental writes).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from vectoros_tui.store.tables import Activity, Deal, Insight, Workspace


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


@dataclass(frozen=True)
class WorkspaceView:
    id: uuid.UUID
    name: str
    created_at: datetime
    deal_count: int = 0
    role: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "createdAt": iso(self.created_at),
            "dealCount": self.deal_count,
        }

    @classmethod
    def from_row(cls, row: Workspace, deal_count: int = 0) -> WorkspaceView:
        return cls(row.id, row.name, row.created_at, deal_count)


@dataclass(frozen=True)
class DealView:
    id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    company: str | None
    value: float
    stage: str
    probability: int
    contact_name: str | None
    contact_email: str | None
    close_date: date | None
    outcome: str | None
    lost_reason: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime
    version: int
    source_id: str | None = None
    owner_id: uuid.UUID | None = None
    next_step: str | None = None
    next_step_due: date | None = None

    @classmethod
    def from_row(cls, row: Deal) -> DealView:
        return cls(
            row.id,
            row.workspace_id,
            row.title,
            row.company,
            row.value,
            row.stage,
            row.probability,
            row.contact_name,
            row.contact_email,
            row.close_date,
            row.outcome,
            row.lost_reason,
            row.closed_at,
            row.created_at,
            row.updated_at,
            row.stage_changed_at,
            row.version,
            row.source_id,
            row.owner_id,
            row.next_step,
            row.next_step_due,
        )

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    def editable_fields(self) -> dict[str, Any]:
        """The fields a rep edits, in the form ``validation.clean_deal`` takes."""
        return {
            "title": self.title,
            "company": self.company,
            "value": self.value,
            "stage": self.stage,
            "probability": self.probability,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "close_date": self.close_date,
            "outcome": self.outcome,
            "lost_reason": self.lost_reason,
            "next_step": self.next_step,
            "next_step_due": self.next_step_due,
        }

    def to_api(self) -> dict[str, Any]:
        """The seed platform's deal JSON (camelCase)."""
        return {
            "id": str(self.id),
            "workspaceId": str(self.workspace_id),
            "title": self.title,
            "company": self.company,
            "value": self.value,
            "stage": self.stage,
            "probability": self.probability,
            "contactName": self.contact_name,
            "contactEmail": self.contact_email,
            "closeDate": iso(self.close_date),
            "outcome": self.outcome,
            "lostReason": self.lost_reason,
            "closedAt": iso(self.closed_at),
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "stageChangedAt": iso(self.stage_changed_at),
            "version": self.version,
            "sourceId": self.source_id,
            # An extension of the seed's deal: who owns it (a user of the workspace).
            "ownerId": None if self.owner_id is None else str(self.owner_id),
            # Also extensions: what happens next on the deal, and by when.
            "nextStep": self.next_step,
            "nextStepDue": iso(self.next_step_due),
        }


# The fields a DealView holds, each a column of the deals table of the same name.
DEAL_VIEW_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(DealView))


def deal_view_columns() -> list[Any]:
    """The deals table's columns a :class:`DealView` holds, for reads that build views
    from rows: a column the store keeps for itself (``observed_at``) never reaches one."""
    table = Deal.__table__  # type: ignore[attr-defined]
    return [table.c[name] for name in DEAL_VIEW_FIELDS]


@dataclass(frozen=True)
class ActivityView:
    id: uuid.UUID
    deal_id: uuid.UUID
    type: str
    description: str
    date: datetime
    created_at: datetime
    done: bool = True  # False: planned, ``date`` is when it is due

    @classmethod
    def from_row(cls, row: Activity) -> ActivityView:
        return cls(
            row.id, row.deal_id, row.type, row.description, row.date, row.created_at, row.done
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "dealId": str(self.deal_id),
            "type": self.type,
            "description": self.description,
            "date": iso(self.date),
            "createdAt": iso(self.created_at),
            "done": self.done,
        }


@dataclass(frozen=True)
class InsightView:
    id: uuid.UUID
    workspace_id: uuid.UUID
    deal_id: uuid.UUID | None
    type: str
    priority: str
    title: str
    description: str
    confidence: float
    data: dict[str, Any] = field(default_factory=dict)
    actions: list[Any] = field(default_factory=list)
    is_read: bool = False
    is_dismissed: bool = False
    rule_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Insight) -> InsightView:
        return cls(
            row.id,
            row.workspace_id,
            row.deal_id,
            row.type,
            row.priority,
            row.title,
            row.description,
            row.confidence,
            dict(row.data or {}),
            list(row.actions or []),
            row.is_read,
            row.is_dismissed,
            row.rule_key,
            row.created_at,
            row.updated_at,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "workspaceId": str(self.workspace_id),
            "dealId": str(self.deal_id) if self.deal_id else None,
            "type": self.type,
            "priority": self.priority,
            "title": self.title,
            "description": self.description,
            "confidence": self.confidence,
            "data": self.data,
            "actions": self.actions,
            "isRead": self.is_read,
            "isDismissed": self.is_dismissed,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


@dataclass(frozen=True)
class DealPage:
    deals: list[DealView]
    total: int
    limit: int
    offset: int

    def to_api(self) -> dict[str, Any]:
        return {"deals": [d.to_api() for d in self.deals], "total": self.total}
