"""Values as a database driver hands them over, read into the engine's types: ids as 32
hex digits and timestamps as naive UTC text on SQLite, native objects on Postgres.

Without SQLAlchemy, so the app's first frame (store.quick_start) reads them the same way
as the whole-workspace reads do.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from sys import intern
from typing import Any

from vectoros_tui.engine.deal_record import DealRecord

# A deal's columns that its record holds, in the order record_from_row reads them.
RECORD_FIELDS = (
    "id",
    "title",
    "stage",
    "value",
    "probability",
    "outcome",
    "company",
    "contact_name",
    "contact_email",
    "close_date",
    "lost_reason",
    "created_at",
    "updated_at",
    "stage_changed_at",
    "closed_at",
    "owner_id",
    "next_step",
    "next_step_due",
    "version",
)
# A workspace's open deals' record rows, as the store reads them and in the same order
# (a seeded forecast depends on it); and the revisions that label what is kept from them.
OPEN_RECORDS = f"""
    SELECT {", ".join(RECORD_FIELDS)} FROM deals
    WHERE workspace_id = :workspace AND outcome IS NULL AND stage != 'closed'
    ORDER BY id
"""
REVISIONS = "SELECT deals_revision, activities_revision FROM workspaces WHERE id = :workspace"


def id_text(value: Any) -> str:
    """A raw id as the record's text form (``8-4-4-4-12`` hex digits)."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def moment(value: Any) -> datetime | None:
    """A raw timestamp as aware UTC (SQLite keeps naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > 10:  # a date and a time (a bare date would ignore the offset)
            # Parsed with its offset: replace(tzinfo=) took 7x as long as the parse, and a
            # team's deals carry 500,000 timestamps (try, not contextlib.suppress: its
            # context manager took longer than the parse).
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:  # one with an offset of its own
                pass
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _shared(text: str | None) -> str | None:
    """One string for every deal that holds this text: stages, outcomes, lost reasons
    and owners take a handful of values, and a team's 100,000 records each held a copy
    of their own (28 MB of the app's memory)."""
    return None if text is None else intern(text)


def record_from_row(
    row: Any,
    last_activity: Any = None,
    slips: Collection[date] = (),
    last_open_stage: str | None = None,
) -> DealRecord:
    """The record of a row of :data:`RECORD_COLUMNS`, with the derived history fields
    given by the caller (``last_activity`` raw, as ``moment`` reads it)."""
    (
        deal_id,
        title,
        stage,
        value,
        probability,
        outcome,
        company,
        contact_name,
        contact_email,
        close_date,
        lost_reason,
        created_at,
        updated_at,
        stage_changed_at,
        closed_at,
        owner_id,
        next_step,
        next_step_due,
        version,
    ) = row
    return DealRecord(
        id=id_text(deal_id),
        title=title,
        stage=intern(stage),
        value=value,
        probability=probability,
        outcome=_shared(outcome),
        company=company,
        contact_name=contact_name,
        contact_email=contact_email,
        close_date=day(close_date),
        lost_reason=_shared(lost_reason),
        created_at=moment(created_at),
        updated_at=moment(updated_at),
        stage_changed_at=moment(stage_changed_at),
        closed_at=moment(closed_at),
        last_activity_at=moment(last_activity),
        close_date_history=tuple(slips),
        last_open_stage=_shared(last_open_stage),
        owner_id=None if owner_id is None else intern(id_text(owner_id)),
        next_step=next_step,
        next_step_due=day(next_step_due),
        version=version,
    )
