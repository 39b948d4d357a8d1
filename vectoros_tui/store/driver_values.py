"""Values as a database driver hands them over, read into the engine's types: ids as 32
hex digits and timestamps as naive UTC text on SQLite, native objects on Postgres.

Without SQLAlchemy, so the app's first frame (store.quick_start) reads them the same way
as the whole-workspace reads do.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any


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
            # team's open deals carry 55,000 timestamps.
            with contextlib.suppress(ValueError):  # one with an offset of its own
                return datetime.fromisoformat(value + "+00:00")
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
