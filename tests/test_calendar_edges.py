"""Timestamps at the ends of the calendar whose offset takes them past it in UTC
(0001-01-01T00:00+01:00 is before year 1 there): read as bad input, never an
OverflowError out of a parser (the fuzz suite found one in CSV import)."""

from __future__ import annotations

import pytest

from vectoros_tui.engine.dates import parse_datetime
from vectoros_tui.sync.errors import MalformedResponseError
from vectoros_tui.sync.strict_json import Fields

PAST_THE_CALENDAR = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00")


@pytest.mark.parametrize("text", PAST_THE_CALENDAR)
def test_the_engine_reads_them_as_no_timestamp(text: str) -> None:
    assert parse_datetime(text) is None


@pytest.mark.parametrize("text", PAST_THE_CALENDAR)
def test_a_server_sending_them_is_a_malformed_response_naming_the_field(text: str) -> None:
    fields = Fields({"closeDate": text, "updatedAt": text}, "deal")
    with pytest.raises(MalformedResponseError, match="ISO date") as raised:
        fields.calendar_date("closeDate")
    assert "deal.closeDate" in str(raised.value)
    with pytest.raises(MalformedResponseError, match="ISO datetime") as raised:
        fields.timestamp("updatedAt")
    assert "deal.updatedAt" in str(raised.value)
