"""Calendar periods a goal or a forecast can be for: a month (2026-03) or a quarter
(2026-Q1), named outright or as "this month" / "this quarter" (UTC calendar)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vectoros_tui.engine.deal_record import DealRecord

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


def won_in_period(deals: Iterable[DealRecord], period: Period, now: datetime) -> float:
    """Revenue of the deals won from the period's start up to ``now``."""
    return sum(
        d.value or 0.0
        for d in deals
        if d.outcome == "won" and d.closed_at is not None and period.start <= d.closed_at <= now
    )


@dataclass(frozen=True)
class PeriodForecast:
    """A forecast to the end of a calendar period: what it has won so far, its goal and
    what is left of the goal for the days left (the simulation's goal)."""

    label: str
    first: str
    last: str
    days_left: int
    won: float
    goal: float | None
    goal_source: str | None

    @classmethod
    def of(
        cls,
        period: Period,
        deals: Iterable[DealRecord],
        now: datetime,
        goal: float | None,
        goal_source: str | None,
    ) -> PeriodForecast:
        return cls(
            period.label,
            period.first.isoformat(),
            period.last.isoformat(),
            period.days_left(now),
            won_in_period(deals, period, now),
            goal,
            goal_source if goal is not None else None,
        )

    @property
    def remaining(self) -> float | None:
        return None if self.goal is None else max(self.goal - self.won, 0.0)

    def add_to(self, result: dict[str, Any]) -> None:
        """``result`` (a forecast of the days left) gains the period's totals."""
        result["period"] = {
            "period": self.label,
            "from": self.first,
            "to": self.last,
            "days_left": self.days_left,
            "won_so_far": round(self.won, 2),
            "worst_case": round(self.won + result["worst_case"], 2),
            "likely_case": round(self.won + result["likely_case"], 2),
            "best_case": round(self.won + result["best_case"], 2),
        }
        if self.goal is not None:
            # The simulation's goal was what is left of it; report the period's own.
            result["period"]["goal"] = self.goal
            result["period"]["probability_of_hitting_goal"] = result.get(
                "probability_of_hitting_goal"
            )
