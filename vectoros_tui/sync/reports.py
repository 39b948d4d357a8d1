"""What a sync tells the rep: the report of one run, a workspace's status, its conflicts.

Each has ``to_api()``: itself as the JSON the CLI prints.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vectoros_tui.sync.records import Record, record_fields


@dataclass
class SyncReport:
    pushed_created: int = 0
    pushed_updated: int = 0
    pushed_deleted: int = 0
    pulled_created: int = 0
    pulled_updated: int = 0
    pulled_deleted: int = 0
    new_conflicts: int = 0
    pulled_owners: int = 0  # deals whose owner here followed the backend's
    # Activities added, changed or deleted: here and pushed, there and pulled.
    pushed_activities: int = 0
    pulled_activities: int = 0
    problems: list[str] = field(default_factory=list)
    # What the rep should know that went as it should (what this backend does not carry).
    notes: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        for name in (
            "pushed_created",
            "pushed_updated",
            "pushed_deleted",
            "pulled_created",
            "pulled_updated",
            "pulled_deleted",
            "new_conflicts",
            "pushed_activities",
            "pulled_activities",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.notes.extend(other.notes)

    def to_api(self) -> dict[str, Any]:
        return {
            "pushed": {
                "created": self.pushed_created,
                "updated": self.pushed_updated,
                "deleted": self.pushed_deleted,
            },
            "pulled": {
                "created": self.pulled_created,
                "updated": self.pulled_updated,
                "deleted": self.pulled_deleted,
            },
            "owners_pulled": self.pulled_owners,
            "activities": {"pushed": self.pushed_activities, "pulled": self.pulled_activities},
            "new_conflicts": self.new_conflicts,
            "problems": self.problems,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class SyncStatus:
    linked: bool
    server_url: str | None
    remote_workspace_id: str | None
    dialect: str | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int
    conflicts: int
    # Activity changes made here since the link, waiting for a backend that carries
    # activities (one that does not leaves them local, and they stay counted).
    pending_activities: int = 0

    def to_api(self) -> dict[str, Any]:
        return {
            "linked": self.linked,
            "server": self.server_url,
            "remote_workspace_id": self.remote_workspace_id,
            "dialect": self.dialect,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "last_error": self.last_error,
            "pending_changes": self.pending,
            "pending_activity_changes": self.pending_activities,
            "conflicts": self.conflicts,
        }


@dataclass(frozen=True)
class ConflictView:
    deal_id: uuid.UUID
    remote_id: str
    mine: Record | None
    theirs: Record | None
    base: Record
    detected_at: datetime

    @property
    def title(self) -> str:
        return str((self.mine or self.theirs or self.base).get("title", "?"))

    def differing_fields(self) -> list[str]:
        names = record_fields(self.mine, self.theirs, self.base)
        if self.mine is None or self.theirs is None:
            return list(names)
        return [n for n in names if self.mine.get(n) != self.theirs.get(n)]

    def to_api(self) -> dict[str, Any]:
        return {
            "deal_id": str(self.deal_id),
            "remote_id": self.remote_id,
            "title": self.title,
            "mine": self.mine,
            "theirs": self.theirs,
            "base": self.base,
            "fields": self.differing_fields(),
            "detected_at": self.detected_at.isoformat(),
        }
