"""Calendar periods for goals and forecasts: quarters, months and "this ..."."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vectoros_tui.engine.periods import PeriodError, parse_period

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "label", "first", "last"),
    [
        ("2026-Q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2024q1", "2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2026-Q4", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2024-02", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-12", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("this-month", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("This Quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_periods_are_read_to_their_first_and_last_days(
    text: str, label: str, first: date, last: date
) -> None:
    period = parse_period(text, TODAY)
    assert (period.label, period.first, period.last) == (label, first, last)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-Q5", "Q1 to Q4"),
        ("2026-Q0", "Q1 to Q4"),
        ("2026-13", "01 to 12"),
        ("0000-01", "1900 to 9998"),
        ("9999-Q4", "1900 to 9998"),
        ("next year", "not a period"),
        ("", "not a period"),
    ],
)
def test_a_bad_period_says_what_is_accepted(text: str, words: str) -> None:
    with pytest.raises(PeriodError, match=words):
        parse_period(text, TODAY)


def test_days_left_count_today_and_the_end_is_the_last_instant() -> None:
    period = parse_period("2026-12", TODAY)
    assert period.days_left(datetime(2026, 12, 4, 23, 0, tzinfo=UTC)) == 28
    assert period.days_left(datetime(2026, 12, 31, 1, 0, tzinfo=UTC)) == 1
    assert period.end == datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert period.start == datetime(2026, 12, 1, tzinfo=UTC)
