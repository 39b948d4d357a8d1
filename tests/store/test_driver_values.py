"""Values as the database driver hands them over, read into the engine's types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vectoros_tui.store.driver_values import moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01 12:34:56.123456",  # as SQLite keeps a timestamp: naive UTC
        "2026-03-01 12:34:56",
        "2026-03-01T12:34:56",
        "2026-03-01",
        "2026-03-01T10:00:00+02:00",  # an offset of its own: the clock time, read as UTC
        "2026-03-01T10:00:00Z",
    ],
)
def test_a_stored_timestamp_reads_as_utc_whatever_its_form(text: str) -> None:
    read = moment(text)
    assert read == datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert read is not None and read.tzinfo is UTC


def test_native_timestamps_read_as_utc() -> None:
    naive = datetime(2026, 3, 1, 12, 0)
    assert moment(naive) == naive.replace(tzinfo=UTC)
    assert moment(None) is None
