"""Input validation: every message names its field and says precisely what is wrong."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    FieldError,
    ValidationError,
    clean_activity,
    clean_deal,
    parse_calendar_date,
    parse_money,
    parse_probability,
    parse_timestamp,
)


def deal(**overrides: Any) -> dict[str, Any]:
    """A valid open deal; each test breaks one thing."""
    data: dict[str, Any] = {
        "title": "Acme renewal",
        "company": "Acme",
        "value": 12_000,
        "stage": "proposal",
        "probability": 40,
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@acme.example",
        "close_date": "2026-12-31",
    }
    data.update(overrides)
    return data


def errors_of(data: dict[str, Any], **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        clean_deal(data, **kwargs)
    return info.value


def only_error(data: dict[str, Any]) -> FieldError:
    error = errors_of(data)
    assert len(error.errors) == 1, error.errors
    return error.errors[0]


# --------------------------------------------------------------------------- valid input


def test_a_valid_deal_comes_back_typed() -> None:
    clean = clean_deal(deal(value="12,000", probability="40%"))
    assert clean == {
        "title": "Acme renewal",
        "company": "Acme",
        "value": 12_000.0,
        "stage": "proposal",
        "probability": 40,
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@acme.example",
        "close_date": date(2026, 12, 31),
        "outcome": None,
        "lost_reason": None,
    }
    assert isinstance(clean["value"], float)
    assert isinstance(clean["probability"], int)


def test_missing_optional_fields_are_empty_not_errors() -> None:
    clean = clean_deal({"title": "  Bare  ", "stage": "prospect"})
    assert clean["title"] == "Bare"
    assert clean["value"] == 0.0
    # A missing probability is not an error; it becomes a whole percentage (a default).
    assert isinstance(clean["probability"], int)
    assert 0 <= clean["probability"] <= 100
    assert clean["company"] is None
    assert clean["contact_email"] is None
    assert clean["close_date"] is None
    assert clean["outcome"] is None


def test_blank_strings_count_as_empty() -> None:
    clean = clean_deal(
        deal(company="   ", contact_email="", close_date=" ", value="", probability="")
    )
    assert clean["company"] is None
    assert clean["contact_email"] is None
    assert clean["close_date"] is None
    assert clean["value"] == 0.0
    assert clean["probability"] == clean_deal(deal(probability=None))["probability"]
    assert isinstance(clean["probability"], int)


def test_explicit_zero_probability_is_kept() -> None:
    assert clean_deal(deal(probability=0))["probability"] == 0
    assert clean_deal(deal(probability="0%"))["probability"] == 0


# --------------------------------------------------------------------------- title


@pytest.mark.parametrize("title", ["", "   ", None])
def test_empty_title_is_refused(title: object) -> None:
    error = only_error(deal(title=title))
    assert error.field == "title"
    assert error.message == "must not be empty"
    assert str(error) == "title: must not be empty"


def test_missing_title_is_refused() -> None:
    data = deal()
    del data["title"]
    assert only_error(data) == FieldError("title", "must not be empty")


def test_too_long_title_says_the_limit() -> None:
    error = only_error(deal(title="x" * 201))
    assert error.field == "title"
    assert "201" in error.message and "200" in error.message


# --------------------------------------------------------------------------- value


@pytest.mark.parametrize("value", [-1, -0.01, "-5", "(300)"])
def test_negative_value_is_refused(value: object) -> None:
    error = only_error(deal(value=value))
    assert error.field == "value"
    assert "must not be negative" in error.message


def test_negative_value_message_shows_the_number() -> None:
    assert only_error(deal(value=-250)) == FieldError("value", "must not be negative (got -250)")


@pytest.mark.parametrize("value", [math.nan, "nan", "NaN", math.inf, "inf", "-inf"])
def test_nan_and_infinite_values_are_refused(value: object) -> None:
    error = only_error(deal(value=value))
    assert error.field == "value"
    assert "finite" in error.message


def test_text_value_is_refused_and_quoted() -> None:
    error = only_error(deal(value="abc"))
    assert error.field == "value"
    assert "'abc'" in error.message
    assert "not an amount of money" in error.message


def test_boolean_value_is_refused() -> None:
    assert only_error(deal(value=True)).field == "value"


def test_implausibly_large_value_is_refused() -> None:
    error = only_error(deal(value=1e14))
    assert error.field == "value"
    assert "large" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,200.50", 1200.50),
        ("1 200", 1200.0),
        ("€3,000", 3000.0),
        ("£ 99.99", 99.99),
        ("USD 2,500", 2500.0),
        ("1_000", 1000.0),
        ("0", 0.0),
        (1200, 1200.0),
        (1200.555, 1200.56),
        ("  42  ", 42.0),
    ],
)
def test_money_strings_are_parsed(text: object, expected: float) -> None:
    assert parse_money(text) == pytest.approx(expected)
    assert clean_deal(deal(value=text))["value"] == pytest.approx(expected)


# --------------------------------------------------------------------------- probability


@pytest.mark.parametrize("value", [101, -1, "101", "-1", "150%"])
def test_probability_out_of_range_is_refused(value: object) -> None:
    error = only_error(deal(probability=value))
    assert error.field == "probability"
    assert "between 0 and 100" in error.message
    assert str(value).rstrip("%") in error.message


@pytest.mark.parametrize("value", [60.5, "60.5", "60.5%"])
def test_fractional_probability_is_refused(value: object) -> None:
    error = only_error(deal(probability=value))
    assert error.field == "probability"
    assert "whole number" in error.message
    assert "60.5" in error.message


@pytest.mark.parametrize("value", ["x", "sixty", "%"])
def test_text_probability_is_refused(value: str) -> None:
    error = only_error(deal(probability=value))
    assert error.field == "probability"
    assert repr(value) in error.message
    assert "not a number" in error.message


@pytest.mark.parametrize("value", [math.nan, "nan", True])
def test_nan_and_boolean_probability_are_refused(value: object) -> None:
    error = only_error(deal(probability=value))
    assert error.field == "probability"
    assert "whole number" in error.message


@pytest.mark.parametrize("value", [60, "60", "60%", " 60 % ", 60.0, "60.0"])
def test_probability_accepted_forms(value: object) -> None:
    assert parse_probability(value) == 60
    result = clean_deal(deal(probability=value))["probability"]
    assert result == 60
    assert isinstance(result, int)


@pytest.mark.parametrize("value", [0, 100, "0%", "100%"])
def test_probability_edges_are_accepted(value: object) -> None:
    assert parse_probability(value) in (0, 100)


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@acme.example", "ada@acme", "ada @acme.example", "a@b@c.example"]
)
def test_malformed_email_is_refused_and_quoted(email: str) -> None:
    error = only_error(deal(contact_email=email))
    assert error.field == "contact_email"
    assert repr(email.strip()) in error.message
    assert "not a valid email address" in error.message


def test_valid_email_is_trimmed() -> None:
    assert clean_deal(deal(contact_email="  ada@acme.example "))["contact_email"] == (
        "ada@acme.example"
    )


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("2026-12-31T15:00:00", date(2026, 12, 31)),
        ("2026-12-31T15:00:00Z", date(2026, 12, 31)),
        ("2026/12/31", date(2026, 12, 31)),
        ("12/31/2026", date(2026, 12, 31)),
        ("31/12/2026", date(2026, 12, 31)),
        ("03/04/2026", date(2026, 3, 4)),
        ("Dec 31 2026", date(2026, 12, 31)),
        ("December 31, 2026", date(2026, 12, 31)),
        ("31 Dec 2026", date(2026, 12, 31)),
        ("31-Dec-2026", date(2026, 12, 31)),
        ("20261231", date(2026, 12, 31)),
        (date(2026, 12, 31), date(2026, 12, 31)),
    ],
)
def test_date_formats(text: object, expected: date) -> None:
    assert parse_calendar_date(text) == expected
    assert clean_deal(deal(close_date=text))["close_date"] == expected


def test_day_first_reads_ambiguous_slash_dates_as_day_month() -> None:
    assert parse_calendar_date("03/04/2026", day_first=True) == date(2026, 4, 3)
    assert clean_deal(deal(close_date="03/04/2026"), day_first=True)["close_date"] == date(
        2026, 4, 3
    )
    # Unambiguous dates read the same either way.
    assert parse_calendar_date("31/12/2026", day_first=True) == date(2026, 12, 31)
    assert parse_calendar_date("2026-04-03", day_first=True) == date(2026, 4, 3)


def test_dotted_dates_are_day_first() -> None:
    assert parse_calendar_date("01.10.2026") == date(2026, 10, 1)
    assert parse_calendar_date("31.12.2026") == date(2026, 12, 31)
    with pytest.raises(ValueError, match="not a real date"):
        parse_calendar_date("12.31.2026")  # no month 31, whatever the US habit
    assert parse_calendar_date("01/10/2026") == date(2026, 1, 10)  # slashes: month first


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_close_dates_out_of_a_sane_range_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_deal(deal(close_date=text))
    assert "out of range (1900-2199)" in (caught.value.for_field("close_date") or "")
    assert clean_deal(deal(close_date="1900-01-01"))["close_date"] == date(1900, 1, 1)
    assert clean_deal(deal(close_date="2199-12-31"))["close_date"] == date(2199, 12, 31)


def test_day_first_refuses_a_month_over_12() -> None:
    with pytest.raises(ValueError, match="not a real date"):
        parse_calendar_date("12/31/2026", day_first=True)


def test_aware_datetime_is_converted_to_its_utc_day() -> None:
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_calendar_date(moment) == date(2027, 1, 1)


@pytest.mark.parametrize("text", ["next tuesday", "31st of Dec", "2026-13", "hello"])
def test_unparseable_date_is_refused_and_quoted(text: str) -> None:
    error = only_error(deal(close_date=text))
    assert error.field == "close_date"
    assert repr(text) in error.message
    assert "YYYY-MM-DD" in error.message


@pytest.mark.parametrize("text", ["02/30/2026", "30/02/2026", "13/13/2026"])
def test_impossible_slash_date_is_refused(text: str) -> None:
    error = only_error(deal(close_date=text))
    assert error.field == "close_date"
    assert error.message == f"{text!r} is not a real date"


@pytest.mark.parametrize("text", ["2026-02-30", "2026-04-31", "2025-02-29", "2026/02/30"])
def test_impossible_iso_date_says_it_is_not_a_real_date(text: str) -> None:
    """An ISO date that does not exist is not a format problem: telling the user to
    'use YYYY-MM-DD' when they did is misleading; say the day does not exist."""
    error = only_error(deal(close_date=text))
    assert error.field == "close_date"
    assert repr(text) in error.message
    assert "not a real date" in error.message


def test_leap_day_is_accepted() -> None:
    assert parse_calendar_date("2028-02-29") == date(2028, 2, 29)


# --------------------------------------------------------------------------- stages


def test_unknown_stage_names_the_accepted_ones() -> None:
    error = only_error(deal(stage="pitching"))
    assert error.field == "stage"
    assert "'pitching'" in error.message
    for stage in ("prospect", "qualified", "proposal", "negotiation", "closed"):
        assert stage in error.message


@pytest.mark.parametrize("stage", ["", "  ", None])
def test_empty_stage_is_refused(stage: object) -> None:
    assert only_error(deal(stage=stage)) == FieldError("stage", "must not be empty")


@pytest.mark.parametrize(
    ("alias", "stage", "outcome"),
    [
        ("lead", "prospect", None),
        ("Lead", "prospect", None),
        ("PROPOSAL", "proposal", None),
        ("won", "closed", "won"),
        ("lost", "closed", "lost"),
        ("closed_won", "closed", "won"),
        ("closed_lost", "closed", "lost"),
        ("Closed Won", "closed", "won"),
        ("closed-lost", "closed", "lost"),
    ],
)
def test_stage_aliases(alias: str, stage: str, outcome: str | None) -> None:
    clean = clean_deal(deal(stage=alias))
    assert (clean["stage"], clean["outcome"]) == (stage, outcome)


def test_won_alias_with_matching_outcome_is_fine() -> None:
    clean = clean_deal(deal(stage="won", outcome="WON"))
    assert (clean["stage"], clean["outcome"]) == ("closed", "won")


def test_closed_with_outcome_is_fine() -> None:
    clean = clean_deal(deal(stage="closed", outcome="lost", lost_reason="Budget cut"))
    assert clean["outcome"] == "lost"
    assert clean["lost_reason"] == "Budget cut"


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_outcome_without_closed_stage_is_refused(outcome: str) -> None:
    error = only_error(deal(stage="negotiation", outcome=outcome))
    assert error.field == "outcome"
    assert error.message == f"a deal marked {outcome} must be in stage closed (is negotiation)"


def test_closed_without_outcome_is_refused() -> None:
    error = only_error(deal(stage="closed"))
    assert error == FieldError("outcome", "a closed deal needs an outcome: won or lost")


@pytest.mark.parametrize("outcome", ["open", "none", "", None])
def test_open_outcome_words_mean_no_outcome(outcome: object) -> None:
    assert clean_deal(deal(outcome=outcome))["outcome"] is None


def test_unknown_outcome_is_refused() -> None:
    error = only_error(deal(stage="closed", outcome="maybe"))
    assert error.field == "outcome"
    assert "'maybe'" in error.message
    assert "won, lost or empty" in error.message


@pytest.mark.parametrize(("stage", "outcome"), [("won", "lost"), ("closed_lost", "won")])
def test_stage_alias_contradicting_the_outcome_is_refused(stage: str, outcome: str) -> None:
    error = only_error(deal(stage=stage, outcome=outcome))
    assert error.field == "outcome"
    assert error.message == f"stage {stage!r} contradicts outcome {outcome!r}"


@pytest.mark.parametrize(
    "overrides",
    [{"stage": "proposal"}, {"stage": "won"}, {"stage": "closed", "outcome": "won"}],
)
def test_lost_reason_on_a_deal_that_is_not_lost_is_refused(overrides: dict[str, Any]) -> None:
    error = only_error(deal(lost_reason="Too expensive", **overrides))
    assert error == FieldError("lost_reason", "only lost deals have a lost reason")


def test_lost_reason_too_long_is_refused() -> None:
    error = only_error(deal(stage="lost", lost_reason="x" * 501))
    assert error.field == "lost_reason"
    assert "500" in error.message


def test_unknown_field_is_refused_listing_the_fields() -> None:
    error = only_error(deal(colour="red"))
    assert error.field == "colour"
    assert "is not a deal field" in error.message
    for name in DEAL_FIELDS:
        assert name in error.message


# --------------------------------------------------------------------------- all at once


def test_every_problem_is_reported_at_once() -> None:
    error = errors_of(
        {
            "title": "",
            "value": -1,
            "probability": 101,
            "contact_email": "not-an-email",
            "close_date": "someday",
            "stage": "pitching",
        }
    )
    fields = [e.field for e in error.errors]
    assert sorted(fields) == sorted(
        ["title", "value", "probability", "contact_email", "close_date", "stage"]
    )
    assert len(set(fields)) == len(fields)
    for field in fields:
        assert error.for_field(field)
        assert f"{field}: " in str(error)
    assert error.for_field("company") is None


def test_stage_rule_errors_are_reported_with_field_errors() -> None:
    error = errors_of(deal(title="", stage="proposal", outcome="won", lost_reason="Price"))
    fields = {e.field for e in error.errors}
    assert fields == {"title", "outcome", "lost_reason"}


def test_validation_error_is_a_value_error() -> None:
    error = errors_of(deal(title=""))
    assert isinstance(error, ValueError)


# --------------------------------------------------------------------------- activities


def test_clean_activity_accepts_a_valid_activity() -> None:
    clean = clean_activity(
        {"type": " Call ", "description": "  Discussed pricing ", "date": "2026-03-01T10:00:00Z"}
    )
    assert clean == {
        "type": "call",
        "description": "Discussed pricing",
        "date": datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        "done": True,  # logged after the fact, unless planned
    }
    planned = clean_activity(
        {"type": "call", "description": "Follow up", "date": "2027-01-05", "done": False}
    )
    assert planned["done"] is False and planned["date"] == datetime(2027, 1, 5, tzinfo=UTC)
    with pytest.raises(ValidationError) as refused:
        clean_activity({"type": "call", "description": "X", "done": "maybe"})
    assert refused.value.for_field("done")


def test_clean_activity_converts_offsets_to_utc() -> None:
    clean = clean_activity(
        {"type": "meeting", "description": "Demo", "date": "2026-03-01T10:00:00+02:00"}
    )
    assert clean["date"] == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert clean["date"].utcoffset() == timedelta(0)


def test_clean_activity_bare_date_is_midnight_utc() -> None:
    clean = clean_activity({"type": "note", "description": "x", "date": "2026/03/01"})
    assert clean["date"] == datetime(2026, 3, 1, tzinfo=UTC)


def test_clean_activity_missing_date_is_now() -> None:
    before = datetime.now(UTC)
    clean = clean_activity({"type": "email", "description": "Sent proposal"})
    assert before <= clean["date"] <= datetime.now(UTC)
    assert clean["date"].tzinfo is not None


def test_clean_activity_reports_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        clean_activity({"type": "fax", "description": "   ", "date": "someday"})
    error = info.value
    assert {e.field for e in error.errors} == {"type", "description", "date"}
    type_message = error.for_field("type")
    assert type_message is not None
    assert "'fax'" in type_message
    for kind in ("email", "call", "meeting", "note"):
        assert kind in type_message
    assert error.for_field("description") == "must not be empty"
    assert "'someday'" in (error.for_field("date") or "")


def test_clean_activity_missing_type_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        clean_activity({"description": "x"})
    assert [e.field for e in info.value.errors] == ["type"]


def test_clean_activity_too_long_description() -> None:
    with pytest.raises(ValidationError) as info:
        clean_activity({"type": "note", "description": "x" * 4001})
    message = info.value.for_field("description")
    assert message is not None and "4000" in message


def test_parse_timestamp_treats_naive_as_utc() -> None:
    assert parse_timestamp(datetime(2026, 1, 1, 9)) == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert parse_timestamp("2026-01-01 09:00") == datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "1850-01-01", "2300-01-01"]
)
def test_clean_activity_refuses_a_date_out_of_range(when: str) -> None:
    # The first two overflowed when moved to UTC (an exit 1, a 500) before they were bounded.
    with pytest.raises(ValidationError) as refused:
        clean_activity({"type": "call", "description": "X", "date": when})
    assert "out of range" in (refused.value.for_field("date") or "")
