"""What a rep has to do next: the next steps of open deals and the activities planned on
them, soonest due first (`vectoros tasks`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.tables import Activity, Deal, User
from vectoros_tui.store.views import iso


@dataclass(frozen=True)
class Task:
    kind: str  # "next step" or an activity type (call, email, meeting, note)
    what: str | None
    due: date | None
    deal_id: uuid.UUID
    deal: str
    owner_id: uuid.UUID | None
    owner: str | None  # the owner's name, else email
    activity_id: uuid.UUID | None = None

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today

    def to_api(self, today: date) -> dict[str, Any]:
        return {
            "kind": "next_step" if self.activity_id is None else "activity",
            "type": None if self.activity_id is None else self.kind,
            "what": self.what,
            "due": iso(self.due),
            "overdue": self.overdue(today),
            "dealId": str(self.deal_id),
            "deal": self.deal,
            "ownerId": None if self.owner_id is None else str(self.owner_id),
            "owner": self.owner,
            "activityId": None if self.activity_id is None else str(self.activity_id),
        }


@dataclass(frozen=True)
class TaskList:
    tasks: list[Task]
    without_next_step: int  # open deals (of the owner asked for) nobody has said what is next on


def open_tasks(
    db: Database,
    workspace_id: uuid.UUID,
    *,
    today: date,
    owner_id: uuid.UUID | None = None,
    overdue_only: bool = False,
) -> TaskList:
    """The next steps of the workspace's open deals (those with a step or a due date) and
    the activities planned on them and not done yet, soonest due first (undated last)."""
    deal_filter: list[Any] = [Deal.workspace_id == workspace_id, col(Deal.outcome).is_(None)]
    if owner_id is not None:
        deal_filter.append(Deal.owner_id == owner_id)
    owner_label = func.coalesce(User.name, User.email)
    with db.read() as session:
        steps = session.exec(
            # sqlmodel's select() is typed for at most four columns.
            select(  # type: ignore[call-overload]
                Deal.id, Deal.title, Deal.next_step, Deal.next_step_due, Deal.owner_id
            )
            .add_columns(owner_label)
            .outerjoin(User, col(User.id) == Deal.owner_id)
            .where(
                *deal_filter,
                (col(Deal.next_step).is_not(None)) | (col(Deal.next_step_due).is_not(None)),
            )
        ).all()
        planned = session.exec(
            select(  # type: ignore[call-overload]
                Activity.id,
                Activity.type,
                Activity.description,
                Activity.date,
                Deal.id,
                Deal.title,
                Deal.owner_id,
            )
            .add_columns(owner_label)
            .join(Deal, col(Deal.id) == Activity.deal_id)
            .outerjoin(User, col(User.id) == Deal.owner_id)
            .where(*deal_filter, col(Activity.done).is_(False))
        ).all()
        missing = session.exec(
            select(func.count())
            .select_from(Deal)
            .where(*deal_filter, col(Deal.next_step).is_(None))
        ).one()
    tasks = [
        Task("next step", step, due, deal_id, title, owner, label)
        for deal_id, title, step, due, owner, label in steps
    ]
    tasks += [
        Task(kind, text, when.date(), deal_id, title, owner, label, activity_id)
        for activity_id, kind, text, when, deal_id, title, owner, label in planned
    ]
    if overdue_only:
        tasks = [t for t in tasks if t.overdue(today)]
    tasks.sort(key=lambda t: (t.due is None, t.due or today, t.deal.casefold(), t.kind))
    return TaskList(tasks, int(missing))
