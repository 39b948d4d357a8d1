"""Lenient parsing of the timestamps and dates deal mappings carry.

Deals reach the engine from the store, from CSV files and from the REST backend, so a
timestamp may be a ``datetime``, a ``date``, an ISO string with ``Z`` or an offset, or
missing. Everything is normalised to timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def end_of_day(moment: datetime) -> datetime:
    """The last instant of ``moment``'s day in UTC (naive: taken as UTC): what is stamped
    at the next midnight (an imported date is) belongs to the next day."""
    day = as_utc(moment)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, microseconds=-1)


def as_utc(value: datetime) -> datetime:
    """A naive datetime is taken to be UTC (that is how the store writes them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(value: object) -> datetime | None:
    """Parse a deal timestamp to aware UTC, or ``None`` when missing or unparseable.

    A bare date means midnight UTC of that day.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return as_utc(datetime.fromisoformat(text))
        except (ValueError, OverflowError):  # Overflow: outside the calendar once in UTC
            return None
    return None


def parse_date(value: object) -> date | None:
    """Parse a calendar date (a close date), or ``None`` when missing or unparseable."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = parse_datetime(value)
    return moment.date() if moment else None


def days_between(earlier: datetime, later: datetime) -> float:
    """Fractional days from ``earlier`` to ``later`` (negative if reversed)."""
    return (later - earlier).total_seconds() / 86_400.0
