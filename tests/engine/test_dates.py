"""The end of a day, the moment every forecast of that day measures its deals at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from vectoros_tui.engine.dates import end_of_day

LAST = datetime(2026, 12, 7, 23, 59, 59, 999_999, tzinfo=UTC)


def test_any_moment_of_a_utc_day_ends_at_its_last_microsecond() -> None:
    for moment in (
        datetime(2026, 12, 7, tzinfo=UTC),
        datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
        LAST,
        datetime(2026, 12, 7, 15, 0),  # naive: UTC, as the store writes it
    ):
        assert end_of_day(moment) == LAST
    assert end_of_day(LAST + timedelta(microseconds=1)) == LAST + timedelta(days=1)


def test_a_moment_with_another_offset_ends_its_utc_day() -> None:
    # 01:00 on the 8th in UTC+2 is 23:00 on the 7th in UTC.
    assert end_of_day(datetime(2026, 12, 8, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == LAST
    assert end_of_day(datetime(9999, 12, 31, 12, 0, tzinfo=UTC)).day == 31
