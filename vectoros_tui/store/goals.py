"""Revenue goals: one amount per workspace and forecast window, kept across runs.

A goal belongs to a window: $250k in 30 days and $750k in 90 days are different targets,
so each window of each workspace has its own (or none).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vectoros_tui.engine.periods import Period
from vectoros_tui.money import MoneyError, parse_money
from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.owners import check_member
from vectoros_tui.store.tables import Goal, MemberGoal, PeriodGoal, Workspace, utcnow
from vectoros_tui.store.validation import FieldError, ValidationError
from vectoros_tui.store.views import iso

MAX_WINDOW_DAYS = 9999  # the longest window a forecast timeframe can name (4 digits)
_GOALS = Goal.__table__  # type: ignore[attr-defined]
_PERIOD_GOALS = PeriodGoal.__table__  # type: ignore[attr-defined]
_MEMBER_GOALS = MemberGoal.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SavedPeriodGoal:
    period: str
    amount: float
    updated_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {"period": self.period, "amount": self.amount, "updatedAt": iso(self.updated_at)}


@dataclass(frozen=True)
class SavedGoal:
    window_days: int
    amount: float
    updated_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "window": f"{self.window_days}d",
            "windowDays": self.window_days,
            "amount": self.amount,
            "updatedAt": iso(self.updated_at),
        }


def clean_window(days: object) -> int:
    """A window in whole days, 1 to 9999."""
    if isinstance(days, bool) or not isinstance(days, int):
        problem = f"must be a whole number of days (got {days!r})"
        raise ValidationError([FieldError("window", problem)])
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(
            [FieldError("window", f"must be 1 to {MAX_WINDOW_DAYS} days (got {days})")]
        )
    return days


def clean_amount(amount: object) -> float:
    """A goal as a number or as typed (``750k``, ``$1.2M``), by the money parser's rules."""
    try:
        return parse_money(amount)
    except MoneyError as exc:
        raise ValidationError([FieldError("goal", str(exc))]) from None


class GoalService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, workspace_id: uuid.UUID, days: int) -> float | None:
        """The goal for the ``days``-day window, or None when none is saved."""
        with self.db.read() as session:
            row = session.get(Goal, (workspace_id, clean_window(days)))
            return None if row is None else row.amount

    def set(self, workspace_id: uuid.UUID, days: int, amount: object) -> SavedGoal:
        """Save (or replace) the goal for the ``days``-day window."""
        window = clean_window(days)
        value = clean_amount(amount)
        now = utcnow()
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            self._upsert(
                session,
                _GOALS,
                {"workspace_id": workspace_id, "window_days": window},
                {"amount": value, "updated_at": now},
            )
        return SavedGoal(window, value, now)

    def _upsert(
        self, session: Any, table: Any, keys: dict[str, Any], values: dict[str, Any]
    ) -> None:
        # One statement, so two processes saving the same goal at once both succeed (the
        # later one wins) instead of one failing on the primary key.
        postgres = self.db.engine.dialect.name == "postgresql"
        insert = postgres_insert if postgres else sqlite_insert
        session.connection().execute(
            insert(table)
            .values(**keys, **values)
            .on_conflict_do_update(index_elements=list(keys), set_=values)
        )

    # --- goals per calendar period (2026-Q1, 2026-03) -------------------------------

    def set_period(
        self, workspace_id: uuid.UUID, period: Period, amount: object
    ) -> SavedPeriodGoal:
        value = clean_amount(amount)
        now = utcnow()
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            self._upsert(
                session,
                _PERIOD_GOALS,
                {"workspace_id": workspace_id, "period": period.label},
                {"amount": value, "updated_at": now},
            )
        return SavedPeriodGoal(period.label, value, now)

    def get_period(self, workspace_id: uuid.UUID, period: Period) -> float | None:
        with self.db.read() as session:
            row = session.get(PeriodGoal, (workspace_id, period.label))
            return None if row is None else row.amount

    def clear_period(self, workspace_id: uuid.UUID, period: Period) -> bool:
        with self.db.write() as session:
            result = session.connection().execute(
                delete(_PERIOD_GOALS).where(
                    _PERIOD_GOALS.c.workspace_id == workspace_id,
                    _PERIOD_GOALS.c.period == period.label,
                )
            )
            return result.rowcount > 0

    def all_periods(self, workspace_id: uuid.UUID) -> list[SavedPeriodGoal]:
        """Every period goal of the workspace, earliest period first."""
        table = _PERIOD_GOALS
        with self.db.read() as session:
            rows = (
                session.connection()
                .execute(
                    select(table.c.period, table.c.amount, table.c.updated_at)
                    .where(table.c.workspace_id == workspace_id)
                    .order_by(table.c.period)
                )
                .all()
            )
            return [SavedPeriodGoal(period, amount, updated) for period, amount, updated in rows]

    # --- goals per rep (one member, one window) ---------------------------------------

    def set_member(
        self, workspace_id: uuid.UUID, user_id: uuid.UUID, days: int, amount: object
    ) -> SavedGoal:
        """Save (or replace) a member's goal for the ``days``-day window."""
        window = clean_window(days)
        value = clean_amount(amount)
        now = utcnow()
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            check_member(session, workspace_id, user_id)
            self._upsert(
                session,
                _MEMBER_GOALS,
                {"workspace_id": workspace_id, "user_id": user_id, "window_days": window},
                {"amount": value, "updated_at": now},
            )
        return SavedGoal(window, value, now)

    def members(self, workspace_id: uuid.UUID, days: int) -> dict[uuid.UUID, float]:
        """Each member's goal for the ``days``-day window, by user id."""
        table = _MEMBER_GOALS
        query = select(table.c.user_id, table.c.amount).where(
            table.c.workspace_id == workspace_id, table.c.window_days == clean_window(days)
        )
        with self.db.read() as session:
            return {user: amount for user, amount in session.connection().execute(query).all()}

    def all_members(self, workspace_id: uuid.UUID) -> list[tuple[uuid.UUID, int, float]]:
        """(user id, window days, amount) of every member goal, by window."""
        table = _MEMBER_GOALS
        with self.db.read() as session:
            rows = session.connection().execute(
                select(table.c.user_id, table.c.window_days, table.c.amount)
                .where(table.c.workspace_id == workspace_id)
                .order_by(table.c.window_days, table.c.user_id)
            )
            return [(user, days, amount) for user, days, amount in rows.all()]

    def clear_member(self, workspace_id: uuid.UUID, user_id: uuid.UUID, days: int) -> bool:
        table = _MEMBER_GOALS
        with self.db.write() as session:
            result = session.connection().execute(
                delete(table).where(
                    table.c.workspace_id == workspace_id,
                    table.c.user_id == user_id,
                    table.c.window_days == clean_window(days),
                )
            )
            return result.rowcount > 0

    def clear(self, workspace_id: uuid.UUID, days: int) -> bool:
        """Forget the goal for the ``days``-day window; False when there was none."""
        window = clean_window(days)
        with self.db.write() as session:
            result = session.connection().execute(
                delete(_GOALS).where(
                    _GOALS.c.workspace_id == workspace_id, _GOALS.c.window_days == window
                )
            )
            return result.rowcount > 0

    def all(self, workspace_id: uuid.UUID) -> list[SavedGoal]:
        """Every saved goal of the workspace, shortest window first."""
        with self.db.read() as session:
            rows = (
                session.connection()
                .execute(
                    select(_GOALS.c.window_days, _GOALS.c.amount, _GOALS.c.updated_at)
                    .where(_GOALS.c.workspace_id == workspace_id)
                    .order_by(_GOALS.c.window_days)
                )
                .all()
            )
            return [SavedGoal(days, amount, updated) for days, amount, updated in rows]
