"""The deal record and its one reader of JSON-shaped deals.

``record_from_mapping`` is where a deal's fields are validated; the engine trusts what it
builds, so every field it refuses must be refused here, naming the deal and the field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from vectoros_tui.engine.deal_record import (
    MAX_DEAL_VALUE,
    DealInputError,
    DealRecord,
    record_from_mapping,
    records_from_mappings,
)


def fields(number: int = 1, **changes: Any) -> dict[str, Any]:
    deal: dict[str, Any] = {
        "id": f"d{number}",
        "title": f"Deal {number}",
        "stage": "proposal",
        "value": 10_000.0,
        "probability": 50,
        "closeDate": "2025-06-30",
    }
    deal.update(changes)
    return deal


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": -5}, "value"),
        ({"value": float("nan")}, "value"),
        ({"value": float("inf")}, "value"),
        ({"value": "lots"}, "value"),
        ({"value": [1]}, "value"),
        ({"value": 1e300}, "value"),
        ({"value": MAX_DEAL_VALUE * 1.000001}, "value"),
        ({"value": True}, "value"),
        ({"probability": 101}, "probability"),
        ({"probability": 100.01}, "probability"),
        ({"probability": -0.5}, "probability"),
        ({"probability": float("nan")}, "probability"),
        ({"probability": "likely"}, "probability"),
        ({"probability": False}, "probability"),
        ({"closeDate": "next tuesday"}, "closeDate"),
        ({"closeDate": 20250630}, "closeDate"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "closed"}, "outcome"),
    ],
)
def test_bad_fields_name_the_deal_and_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(DealInputError, match=rf"^deal d42: {field} must be"):
        records_from_mappings([fields(1), fields(42, **changes)])


def test_the_message_shows_the_bad_value() -> None:
    with pytest.raises(DealInputError, match=r"got 'lots'$"):
        record_from_mapping(fields(value="lots"))
    with pytest.raises(DealInputError, match=r"probability must be between 0 and 100, got 101$"):
        record_from_mapping(fields(probability=101))


def test_bool_is_refused_although_it_is_an_int() -> None:
    with pytest.raises(DealInputError, match="value must be a number, got True"):
        record_from_mapping(fields(value=True))
    with pytest.raises(DealInputError, match="probability must be a number, got True"):
        record_from_mapping(fields(probability=True))


def test_a_deal_without_an_id_is_named_by_its_title() -> None:
    with pytest.raises(DealInputError, match=r"^deal 'Big one': value"):
        record_from_mapping(fields(id=None, title="Big one", value=-1))
    with pytest.raises(DealInputError, match=r"^deal <no id>: probability"):
        record_from_mapping(fields(id="", title="", probability=500))


def test_something_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(DealInputError, match=r"^deal #1 must be a mapping, got list$"):
        records_from_mappings([fields(1), ["d2", "proposal"]])  # type: ignore[list-item]
    with pytest.raises(DealInputError, match=r"^a deal must be a mapping, got str$"):
        record_from_mapping("d1")  # type: ignore[arg-type]


def test_a_deal_with_neither_id_nor_title_is_named_by_its_position() -> None:
    with pytest.raises(DealInputError, match=r"#1"):
        records_from_mappings([fields(1), fields(id=None, title=None, value=-1)])


# --------------------------------------------------------------------------- numbers


def test_the_bounds_themselves_are_accepted() -> None:
    low = record_from_mapping(fields(value=0, probability=0))
    high = record_from_mapping(fields(value=MAX_DEAL_VALUE, probability=100))
    assert (low.value, low.probability) == (0.0, 0.0)
    assert (high.value, high.probability) == (MAX_DEAL_VALUE, 100.0)


def test_numbers_arrive_as_floats_whatever_their_json_type() -> None:
    record = record_from_mapping(fields(value="1234.5", probability=35))
    assert record.value == 1234.5 and isinstance(record.value, float)
    assert record.probability == 35.0 and isinstance(record.probability, float)


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_value_and_probability_stay_missing(missing: str | None) -> None:
    # None, not 0: the engine counts a missing probability as the original's 50%.
    record = record_from_mapping(fields(value=missing, probability=missing))
    assert record.value is None
    assert record.probability is None
    bare = record_from_mapping({"id": "d9"})
    assert (bare.value, bare.probability) == (None, None)


# --------------------------------------------------------------------------- stage, outcome


def test_an_unknown_stage_name_is_kept_as_given() -> None:
    record = record_from_mapping(fields(stage="  Mystery Stage "))
    assert record.stage == "Mystery Stage"
    assert record.outcome is None
    assert record.is_open


@pytest.mark.parametrize("stage", [None, "", "   ", 7])
def test_no_stage_is_the_empty_name(stage: object) -> None:
    assert record_from_mapping(fields(stage=stage)).stage == ""


@pytest.mark.parametrize(
    ("stage", "canonical", "outcome"),
    [
        ("won", "closed", "won"),
        ("closed_won", "closed", "won"),
        ("Closed-Lost", "closed", "lost"),
        ("lost", "closed", "lost"),
        ("Lead", "prospect", None),
        (" NEGOTIATION ", "negotiation", None),
    ],
)
def test_stage_aliases_are_read_with_the_outcome_they_imply(
    stage: str, canonical: str, outcome: str | None
) -> None:
    record = record_from_mapping(fields(stage=stage))
    assert (record.stage, record.outcome) == (canonical, outcome)
    assert record.is_open is (outcome is None)


def test_a_recorded_outcome_is_read_and_beats_the_stages() -> None:
    assert record_from_mapping(fields(outcome=" WON ")).outcome == "won"
    assert record_from_mapping(fields(stage="won", outcome="lost")).outcome == "lost"
    assert record_from_mapping(fields(stage="won", outcome="")).outcome == "won"
    assert record_from_mapping(fields(outcome="")).outcome is None


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "raw",
    ["2025-06-30", "2025-06-30T23:30:00Z", date(2025, 6, 30), datetime(2025, 6, 30, 9, 0)],
)
def test_close_date_is_a_calendar_date(raw: object) -> None:
    close = record_from_mapping(fields(closeDate=raw)).close_date
    assert close == date(2025, 6, 30)
    assert type(close) is date


@pytest.mark.parametrize("raw", [None, ""])
def test_no_close_date(raw: object) -> None:
    assert record_from_mapping(fields(closeDate=raw)).close_date is None


def test_close_date_history_is_read_as_dates_oldest_first() -> None:
    record = record_from_mapping(
        fields(closeDateHistory=["2025-05-01", "2025-05-15T10:00:00Z", date(2025, 6, 1)])
    )
    assert record.close_date_history == (date(2025, 5, 1), date(2025, 5, 15), date(2025, 6, 1))
    assert record_from_mapping(fields()).close_date_history == ()


def test_timestamps_are_aware_utc_in_their_own_fields() -> None:
    record = record_from_mapping(
        fields(
            createdAt="2025-06-01T14:00:00+02:00",
            updatedAt="2025-06-02T08:00:00Z",
            stageChangedAt=datetime(2025, 6, 3, 9, 30),  # naive: taken as UTC
            closedAt=datetime(2025, 6, 4, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
            lastActivityAt="2025-06-05",
        )
    )
    assert record.created_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert record.updated_at == datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    assert record.stage_changed_at == datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
    assert record.closed_at == datetime(2025, 6, 4, 6, 0, tzinfo=UTC)
    assert record.last_activity_at == datetime(2025, 6, 5, tzinfo=UTC)
    moments = (
        record.created_at,
        record.updated_at,
        record.stage_changed_at,
        record.closed_at,
        record.last_activity_at,
    )
    assert all(m is not None and m.utcoffset() == timedelta(0) for m in moments)


# --------------------------------------------------------------------------- text fields


def test_text_fields_are_stripped_and_blank_means_missing() -> None:
    record = record_from_mapping(
        fields(
            id=42,
            title="  Renewal ",
            company=" Acme ",
            contactName="   ",
            contactEmail="ann@acme.test",
            lostReason="",
            lastOpenStage="negotiation",
        )
    )
    assert record.id == "42"
    assert record.title == "Renewal"
    assert record.company == "Acme"
    assert record.contact_name is None
    assert record.contact_email == "ann@acme.test"
    assert record.lost_reason is None
    assert record.last_open_stage == "negotiation"
    nameless = record_from_mapping({"id": None})
    assert (nameless.id, nameless.title, nameless.last_open_stage) == ("", "", None)


def test_records_from_mappings_keeps_the_order() -> None:
    records = records_from_mappings(fields(n) for n in (3, 1, 2))
    assert [r.id for r in records] == ["d3", "d1", "d2"]
    assert records_from_mappings([]) == []


# --------------------------------------------------------------------------- the record


def test_is_open_means_no_outcome_and_not_closed() -> None:
    assert DealRecord(id="a", stage="proposal").is_open
    assert DealRecord(id="b", stage="mystery").is_open
    assert DealRecord(id="c", stage="").is_open
    assert not DealRecord(id="d", stage="closed").is_open
    assert not DealRecord(id="e", stage="proposal", outcome="lost").is_open


def test_label_is_the_id_else_the_quoted_title() -> None:
    assert DealRecord(id="d7", title="Big one").label == "d7"
    assert DealRecord(id="", title="Big one").label == "'Big one'"
    assert DealRecord(id="").label == "<no id>"


def test_weighted_value_is_value_times_the_reps_probability() -> None:
    assert DealRecord(id="a", value=10_000.0, probability=25.0).weighted_value == 2_500.0
    assert DealRecord(id="b", value=None, probability=80.0).weighted_value == 0.0
    assert DealRecord(id="c", value=3.0, probability=100.0).weighted_value == 3.0


def test_a_record_cannot_be_changed() -> None:
    record = DealRecord(id="a", value=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.value = 2.0  # type: ignore[misc]
    assert dataclasses.replace(record, value=2.0).value == 2.0
    assert record.value == 1.0
