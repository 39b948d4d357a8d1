"""Deal rows as the driver gives them, for reads of a whole workspace (their records are
built by store.driver_values.record_from_row).

The forecast, health scores and insight rules of a team's workspace read tens of thousands
of deals at a time. Through SQLAlchemy's column types each id became a UUID object and
each SQLite timestamp went through a regular expression: that conversion, not the query,
was most of the time. Here the driver's values are read as they come (text on SQLite,
native objects on Postgres) and turned into a record's types directly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, select, type_coerce
from sqlmodel import col

from vectoros_tui.store.driver_values import RECORD_FIELDS
from vectoros_tui.store.tables import Deal

_AS_DRIVER_GIVES = String()


def raw(column: Any) -> Any:
    """``column`` as the database driver returns it, without SQLAlchemy's conversion:
    ids as 32 hex digits and timestamps as naive UTC ISO text on SQLite, native objects
    on Postgres. The readers below take either."""
    return type_coerce(column, _AS_DRIVER_GIVES)


# Columns whose values SQLAlchemy would convert (ids, dates, timestamps): read raw.
_RAW = frozenset(
    {
        "id",
        "close_date",
        "created_at",
        "updated_at",
        "stage_changed_at",
        "closed_at",
        "owner_id",
        "next_step_due",
    }
)
# The columns of a record, in the order record_from_row reads them.
RECORD_COLUMNS = tuple(
    raw(col(getattr(Deal, name))).label(name) if name in _RAW else col(getattr(Deal, name))
    for name in RECORD_FIELDS
)


def record_query() -> Select[Any]:
    """A select of :data:`RECORD_COLUMNS`, for the caller to filter and order."""
    return select(*RECORD_COLUMNS)
