"""Calendar periods a goal or a forecast can be for: a month (2026-03) or a quarter
(2026-Q1), named outright or as "this month" / "this quarter" (UTC calendar)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_QUARTER = re.compile(r"^(\d{4})-?Q(\d+)$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_THIS = {
    "month": "month",
    "this-month": "month",
    "this month": "month",
    "quarter": "quarter",
    "this-quarter": "quarter",
    "this quarter": "quarter",
}


class PeriodError(ValueError):
    """Not a period; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    label: str  # 2026-Q1 or 2026-03: how it is stored and shown
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The period's last instant."""
        return datetime(self.last.year, self.last.month, self.last.day, tzinfo=UTC) + timedelta(
            days=1, microseconds=-1
        )

    def days_left(self, now: datetime) -> int:
        """Whole days from ``now`` to the period's end, today counted (at least 1)."""
        return max((self.last - now.astimezone(UTC).date()).days + 1, 1)


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", first, following - timedelta(days=1))


def quarter_period(year: int, quarter: int) -> Period:
    first_month = 3 * (quarter - 1) + 1
    first = date(year, first_month, 1)
    last = month_period(year, first_month + 2).last
    return Period(f"{year:04d}-Q{quarter}", first, last)


def parse_period(text: str, today: date) -> Period:
    """``2026-Q1``, ``2026-03``, ``this-month`` or ``this-quarter`` (of ``today``)."""
    cleaned = (text or "").strip()
    relative = _THIS.get(cleaned.lower())
    if relative == "month":
        return month_period(today.year, today.month)
    if relative == "quarter":
        return quarter_period(today.year, (today.month - 1) // 3 + 1)
    quarter = _QUARTER.match(cleaned)
    month = _MONTH.match(cleaned)
    if (quarter or month) and not 1900 <= int(cleaned[:4]) <= 9998:
        raise PeriodError(f"{cleaned!r}: the year must be 1900 to 9998")
    if quarter:
        year, number = int(quarter.group(1)), int(quarter.group(2))
        if not 1 <= number <= 4:
            raise PeriodError(f"{cleaned!r}: a year has quarters Q1 to Q4")
        return quarter_period(year, number)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise PeriodError(f"{cleaned!r}: months are 01 to 12")
        return month_period(year, number)
    raise PeriodError(
        f"{cleaned!r} is not a period: use a quarter (2026-Q1), a month (2026-03), "
        "this-month or this-quarter"
    )
