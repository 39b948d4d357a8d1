"""The one money parser and the one money format (vectoros_tui.money), and the places that
must agree with them: the store's validation and the forecast screen's goal prompt."""

from __future__ import annotations

import math

import pytest

from vectoros_tui.engine.funnel import parse_goal
from vectoros_tui.money import MoneyError, format_money, parse_money
from vectoros_tui.store.validation import clean_deal
from vectoros_tui.store.validation import parse_money as store_parse_money
from vectoros_tui.widgets.formatting import compact_money, money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("750k", 750_000.0),
        ("750K", 750_000.0),
        ("1.2M", 1_200_000.0),
        ("$1.5m", 1_500_000.0),
        ("$ 2.5 k", 2_500.0),
        (".5k", 500.0),
        ("1,200k", 1_200_000.0),
        ("$1,200", 1_200.0),
        ("1 200", 1_200.0),
        ("1\u00a0200", 1_200.0),  # a no-break space, as spreadsheets copy it
        ("1200.50", 1_200.5),
        ("USD 2,500", 2_500.0),
        ("€3,000", 3_000.0),
        ("0", 0.0),
        (1200, 1_200.0),
        (1200.555, 1_200.56),
    ],
)
def test_amounts_as_reps_type_them(text: object, expected: float) -> None:
    assert parse_money(text) == expected
    # The store and the deal form read them the same way.
    assert store_parse_money(text) == expected
    assert clean_deal({"title": "T", "stage": "lead", "value": text})["value"] == expected


@pytest.mark.parametrize(
    ("text", "message", "problem"),
    [
        ("-5", "must not be negative (got -5)", "it must not be negative"),
        ("-5k", "must not be negative (got -5000)", "it must not be negative"),
        ("(300)", "must not be negative (got -300)", "it must not be negative"),
        ("1,20", "'1,20' is ambiguous", "the comma is ambiguous"),
        ("3.000,50", "'3.000,50' is ambiguous", "the comma is ambiguous"),
        ("1,20k", "'1,20k' is ambiguous", "the comma is ambiguous"),
        ("nan", "must be a finite number", "it must be finite"),
        ("-inf", "must be a finite number", "it must be finite"),
        ("2e13", "implausibly large", "over 10 trillion"),
        ("20000000M", "implausibly large", "over 10 trillion"),
        ("lots", "'lots' is not an amount of money", "250k or 1.2M"),
        ("k", "'k' is not an amount of money", "250k or 1.2M"),
        ("$", "'$' is not an amount of money", "250k or 1.2M"),
        ("2bn", "'2bn' is not an amount of money", "250k or 1.2M"),
        ("1.2.3", "'1.2.3' is not an amount of money", "250k or 1.2M"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str, problem: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money(text)
    assert message in str(caught.value)
    assert problem in caught.value.problem
    # Standing alone (prompts, options), the message quotes what was typed.
    assert caught.value.explain().startswith(f"{text!r} is not an amount: ")


@pytest.mark.parametrize("value", [True, math.nan, math.inf, -0.01, 1e14])
def test_typed_values_are_checked_too(value: object) -> None:
    with pytest.raises(ValueError):
        parse_money(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("250000", 250_000.0), ("$250,000", 250_000.0), ("750k", 750_000.0), ("1.2M", 1.2e6)],
)
def test_goal_prompt_reads_amounts_like_everything_else(text: str, expected: float) -> None:
    assert parse_goal(text) == expected == parse_money(text)


@pytest.mark.parametrize("text", ["", "   "])
def test_a_blank_goal_clears_it(text: str) -> None:
    assert parse_goal(text) is None


@pytest.mark.parametrize("text", ["-5", "1,20", "lots"])
def test_goal_prompt_refusals_quote_the_input(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount") as caught:
        parse_goal(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "full", "compact"),
    [
        (0, "$0", "$0"),
        (49.5, "$49.50", "$50"),
        (99.999, "$100", "$100"),
        (999, "$999", "$999"),
        (999.6, "$1,000", "$1.0k"),
        (1_200, "$1,200", "$1.2k"),
        (1_200.5, "$1,200", "$1.2k"),
        (9_999, "$9,999", "$10k"),
        (45_000, "$45,000", "$45k"),
        (450_000, "$450,000", "$450k"),
        (999_499, "$999,499", "$999k"),
        (999_500, "$999,500", "$1.0M"),
        (1_200_000, "$1,200,000", "$1.2M"),
        (2.5e9, "$2,500,000,000", "$2,500M"),
        (-1_200, "-$1,200", "-$1.2k"),
    ],
)
def test_one_format_everywhere(value: float, full: str, compact: str) -> None:
    assert format_money(value) == full == money(value)
    assert format_money(value, compact=True) == compact == compact_money(value)


@pytest.mark.parametrize("value", [None, math.nan, math.inf, "1200", True])
def test_no_amount_is_a_dash(value: object) -> None:
    assert format_money(value) == "—"
    assert format_money(value, compact=True) == "—"


@pytest.mark.parametrize("value", [0.0, 49.5, 1_200.0, 750_000.0, 1_234_567.0])
def test_what_is_shown_in_full_reads_back_as_the_same_amount(value: float) -> None:
    assert parse_money(format_money(value)) == value
