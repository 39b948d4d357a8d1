"""Deal rows straight into the engine's records, for reads of a whole workspace.

The forecast, health scores and insight rules of a team's workspace read tens of thousands
of deals at a time. Through SQLAlchemy's column types each id became a UUID object and
each SQLite timestamp went through a regular expression: that conversion, not the query,
was most of the time. Here the driver's values are read as they come (text on SQLite,
native objects on Postgres) and turned into a record's types directly.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Select, String, select, type_coerce
from sqlmodel import col

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.store.driver_values import day, id_text, moment
from vectoros_tui.store.tables import Deal

_AS_DRIVER_GIVES = String()


def raw(column: Any) -> Any:
    """``column`` as the database driver returns it, without SQLAlchemy's conversion:
    ids as 32 hex digits and timestamps as naive UTC ISO text on SQLite, native objects
    on Postgres. The readers below take either."""
    return type_coerce(column, _AS_DRIVER_GIVES)


# The columns of a record, in the order record_from_row reads them.
RECORD_COLUMNS = (
    raw(col(Deal.id)).label("id"),
    col(Deal.title),
    col(Deal.stage),
    col(Deal.value),
    col(Deal.probability),
    col(Deal.outcome),
    col(Deal.company),
    col(Deal.contact_name),
    col(Deal.contact_email),
    raw(col(Deal.close_date)).label("close_date"),
    col(Deal.lost_reason),
    raw(col(Deal.created_at)).label("created_at"),
    raw(col(Deal.updated_at)).label("updated_at"),
    raw(col(Deal.stage_changed_at)).label("stage_changed_at"),
    raw(col(Deal.closed_at)).label("closed_at"),
    raw(col(Deal.owner_id)).label("owner_id"),
    col(Deal.next_step),
    raw(col(Deal.next_step_due)).label("next_step_due"),
    col(Deal.version),
)


def record_query() -> Select[Any]:
    """A select of :data:`RECORD_COLUMNS`, for the caller to filter and order."""
    return select(*RECORD_COLUMNS)


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
        stage=stage,
        value=value,
        probability=probability,
        outcome=outcome,
        company=company,
        contact_name=contact_name,
        contact_email=contact_email,
        close_date=day(close_date),
        lost_reason=lost_reason,
        created_at=moment(created_at),
        updated_at=moment(updated_at),
        stage_changed_at=moment(stage_changed_at),
        closed_at=moment(closed_at),
        last_activity_at=moment(last_activity),
        close_date_history=tuple(slips),
        last_open_stage=last_open_stage,
        owner_id=None if owner_id is None else id_text(owner_id),
        next_step=next_step,
        next_step_due=day(next_step_due),
        version=version,
    )
