"""A workspace as it stood at a past moment, rebuilt from what the store keeps.

Open at T means created by T and not closed by T. The tracked fields (stage, outcome,
close date, value, probability) take the value their history gives at T: the last change
made by T, else the value the first later change replaced, else today's value (it never
changed). Later outcomes, changes and activities are not used, so a forecast of these
records knows only what was known at T.

A deal imported already closed (its history starts with its close) says nothing about
its open life: while it was open its stage, probability and close date are unknown, not
those it ended with; its value is today's (amounts are rarely re-priced at the close).
The owner is the one the history says (a reassignment after T is a later fact). Fields
no history keeps (title, company, contacts) are today's.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, func, select

from vectoros_tui.engine.dates import as_utc
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.store.database import Database
from vectoros_tui.store.tables import Activity, Deal, DealEvent

_TRACKED = ("stage", "outcome", "close_date", "value", "probability")
# Read with them: who owned the deal then (a reassignment is a later fact).
_READ = (*_TRACKED, "owner")


@dataclass(frozen=True)
class _Change:
    field: str
    old: str | None
    new: str | None
    at: datetime


def earliest_created(db: Database, workspace_id: uuid.UUID) -> datetime | None:
    """When the workspace's first deal was created (None: it has no deals)."""
    with db.read() as session:
        first = session.exec(
            select(func.min(Deal.created_at)).where(Deal.workspace_id == workspace_id)
        ).one()
    if isinstance(first, str):  # SQLite returns aggregates untyped
        first = datetime.fromisoformat(first)
    return as_utc(first) if first is not None else None


def records_as_of(
    db: Database, workspace_id: uuid.UUID, current: Sequence[DealRecord], moment: datetime
) -> list[DealRecord]:
    """``current`` (the workspace's records today, as the store reads them) as they stood
    at ``moment``: the deals created by then, each with its fields of then."""
    return WorkspaceHistory.load(db, workspace_id, current).at(moment)


@dataclass(frozen=True)
class WorkspaceHistory:
    """A workspace's records and their history, read once: as many past moments as a
    backtest or a model's training asks for are rebuilt in memory."""

    current: Sequence[DealRecord]
    changes: dict[str, list[_Change]]
    activities: dict[str, list[datetime]]  # each deal's activity dates, in order

    @classmethod
    def load(
        cls, db: Database, workspace_id: uuid.UUID, current: Sequence[DealRecord]
    ) -> WorkspaceHistory:
        with db.read() as session:
            events = session.execute(
                sa_select(
                    col(DealEvent.deal_id),
                    col(DealEvent.field),
                    col(DealEvent.old_value),
                    col(DealEvent.new_value),
                    col(DealEvent.changed_at),
                )
                .join(Deal, col(Deal.id) == DealEvent.deal_id)
                .where(col(Deal.workspace_id) == workspace_id, col(DealEvent.field).in_(_READ))
                .order_by(col(DealEvent.changed_at), col(DealEvent.id))
            ).all()
            dates = session.exec(
                select(Activity.deal_id, Activity.date)
                .join(Deal, col(Deal.id) == Activity.deal_id)
                .where(Deal.workspace_id == workspace_id)
                .order_by(col(Activity.date))
            ).all()
        changes: dict[str, list[_Change]] = defaultdict(list)
        for deal_id, field, old, new, at in events:
            changes[str(deal_id)].append(_Change(field, old, new, as_utc(at)))
        activities: dict[str, list[datetime]] = defaultdict(list)
        for deal_id, at in dates:
            activities[str(deal_id)].append(as_utc(at))
        return cls(current, dict(changes), dict(activities))

    @property
    def first_created(self) -> datetime | None:
        moments = [r.created_at for r in self.current if r.created_at is not None]
        return min(moments) if moments else None

    def closed_between(self, start: datetime, end: datetime) -> dict[str, DealRecord]:
        """The deals that closed after ``start`` and by ``end``, as they stood at ``end``
        (how, when and for how much they closed), by id. Read from the history, not from
        today's records: a deal closed then and reopened since still closed then."""
        start, end = as_utc(start), as_utc(end)
        found = {}
        for record in self.current:
            changes = self.changes.get(record.id, [])
            # Only a deal whose outcome changed in the span, or that closed in it without
            # a recorded change (imported closed), can have closed in it.
            if not any(c.field == "outcome" and start < c.at <= end for c in changes) and not (
                record.closed_at is not None and start < record.closed_at <= end
            ):
                continue
            if record.created_at is None or record.created_at > end:
                continue
            then = self._record_at(record, end)
            if then.outcome and then.closed_at is not None and start < then.closed_at <= end:
                found[record.id] = then
        return found

    def at(self, moment: datetime, *, open_only: bool = False) -> list[DealRecord]:
        """The deals created by ``moment``, each as it stood then (only those open then,
        with ``open_only``: the rest are not rebuilt at all)."""
        moment = as_utc(moment)
        found = []
        for record in self.current:
            if record.created_at is None or record.created_at > moment:
                continue
            if open_only and _closed_then(record, self.changes.get(record.id, []), moment)[0]:
                continue
            found.append(self._record_at(record, moment))
        return found

    def _record_at(self, record: DealRecord, moment: datetime) -> DealRecord:
        dates = self.activities.get(record.id, [])
        done = bisect.bisect_right(dates, moment)
        last_activity = dates[done - 1] if done else None
        return _as_of(record, self.changes.get(record.id, []), last_activity, moment)


def _then(
    changes: Sequence[_Change], moment: datetime, field: str, today: Any
) -> tuple[str | None, bool]:
    """(the field's stored text at ``moment``, whether the history says so): the last
    change by then, else the value the first later change replaced, else today's."""
    found: _Change | None = None
    for change in changes:
        if change.field != field:
            continue
        if change.at <= moment:
            found = change
        else:
            return (found.new, True) if found is not None else (change.old, True)
    if found is not None:
        return found.new, True
    return (None if today is None else str(today)), False


def _closed_then(
    record: DealRecord, changes: Sequence[_Change], moment: datetime
) -> tuple[bool, bool]:
    """(whether the deal was closed at ``moment``, whether its outcome history says so)."""
    outcome_then, recorded = _then(changes, moment, "outcome", record.outcome)
    if recorded:  # closed and reopened through the app: the history says
        return bool(outcome_then), True
    # Never changed since it was created, or imported closed: when did it close?
    closed = record.outcome is not None and (record.closed_at is None or record.closed_at <= moment)
    return closed, False


def _as_of(
    record: DealRecord, changes: list[_Change], last_activity: datetime | None, moment: datetime
) -> DealRecord:
    known = [c for c in changes if c.at <= moment]
    stages = [c for c in changes if c.field == "stage"]
    # Imported already closed: the history begins at the close.
    born_closed = bool(stages) and stages[0].old is None and stages[0].new == "closed"

    def then(field: str, today: Any) -> tuple[str | None, bool]:
        return _then(changes, moment, field, today)

    closed_then, recorded = _closed_then(record, changes, moment)
    values: dict[str, Any] = {}
    for field in _TRACKED:
        text, from_history = then(field, getattr(record, field))
        values[field] = text
        if not closed_then and born_closed and not from_history and field != "value":
            values[field] = None  # only the close is known, not the open life before it

    stage = values["stage"] or ""
    outcome = values["outcome"] if closed_then else None
    if not closed_then:
        if stage == "closed" or (born_closed and not stage):
            stage = record.last_open_stage or ""
        outcome = None
    elif outcome is None:
        outcome = record.outcome  # closed by then: how it closed is not a later fact
    stage_changes = [c.at for c in known if c.field == "stage"]
    closed_at, left_from = record.closed_at, record.last_open_stage
    if closed_then and recorded:
        # Closed by then through the app: the history says when, and from which stage
        # (today's record forgets both if the deal has been reopened since).
        closing = [c for c in known if c.field == "outcome" and c.new]
        closed_at = closing[-1].at if closing else closed_at
        into_closed = [c for c in known if c.field == "stage" and c.new == "closed"]
        left_from = into_closed[-1].old if into_closed else left_from
    owner_then, _ = then("owner", record.owner_id)
    return replace(
        record,
        owner_id=owner_then,
        stage=stage,
        outcome=outcome,
        value=_number(values["value"]),
        probability=_number(values["probability"]),
        close_date=_day(values["close_date"]),
        lost_reason=record.lost_reason if closed_then else None,
        updated_at=max([record.created_at or moment, *(c.at for c in known)]),
        stage_changed_at=stage_changes[-1] if stage_changes else record.created_at,
        closed_at=closed_at if closed_then else None,
        last_activity_at=last_activity,
        close_date_history=tuple(
            day
            for c in known
            if c.field == "close_date" and c.old and (day := _day(c.old)) is not None
        ),
        last_open_stage=left_from if closed_then else None,
    )


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
