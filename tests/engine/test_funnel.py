"""The forecast screen's pure logic: funnel, histogram bins, health counts, stage revenue,
what-if overrides and the parsers behind its prompts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest

from vectoros_tui.engine.deal_record import DealRecord, record_from_mapping
from vectoros_tui.engine.forecast import forecast_revenue
from vectoros_tui.engine.funnel import (
    FUNNEL_STEPS,
    apply_what_if,
    band_counts,
    describe_what_if,
    histogram_bins,
    parse_close_date,
    parse_goal,
    parse_probability,
    set_override,
    stable_order,
    stage_funnel,
    stage_revenue,
    toggle_exclusion,
)


def deal(i: int, stage: str, outcome: str | None = None, **extra: object) -> DealRecord:
    """A deal record; ``extra`` fields use the JSON names (``closeDate``)."""
    return record_from_mapping({"id": f"d{i}", "stage": stage, "outcome": outcome, **extra})


# --------------------------------------------------------------------------- funnel


def test_funnel_counts_deals_at_or_beyond_each_stage() -> None:
    deals = [
        deal(1, "prospect"),
        deal(2, "prospect"),
        deal(3, "qualified"),
        deal(4, "proposal"),
        deal(5, "negotiation"),
        deal(6, "closed", "won"),
        deal(7, "closed", "won"),
        deal(8, "closed", "lost"),
    ]
    funnel = stage_funnel(deals)
    reached = {s.step: s.reached for s in funnel.steps}
    # Lost deal without history: only the first stage is known.
    assert reached == {"prospect": 8, "qualified": 5, "proposal": 4, "negotiation": 3, "won": 2}
    conversions = [s.conversion for s in funnel.steps]
    assert conversions[0] is None
    assert conversions[1:] == pytest.approx([5 / 8, 4 / 5, 3 / 4, 2 / 3])
    assert [s.current for s in funnel.steps] == [2, 1, 1, 1, 2]
    assert (funnel.open, funnel.won, funnel.lost) == (5, 2, 1)
    assert funnel.win_rate == pytest.approx(2 / 3)
    assert [s.step for s in funnel.steps] == list(FUNNEL_STEPS)


def test_funnel_uses_the_last_open_stage_of_lost_deals_when_known() -> None:
    deals = [
        deal(1, "closed", "lost", lastOpenStage="negotiation"),
        deal(2, "closed", "lost"),
        deal(3, "proposal"),
    ]
    funnel = stage_funnel(deals)
    reached = [s.reached for s in funnel.steps]
    assert reached == [3, 2, 2, 1, 0]
    assert funnel.steps[-1].conversion == 0.0
    assert (funnel.open, funnel.won, funnel.lost) == (1, 0, 2)
    # A won deal reached every step whatever its history says.
    won = stage_funnel(
        [DealRecord(id="w", stage="closed", outcome="won", last_open_stage="qualified")]
    )
    assert [s.reached for s in won.steps] == [1, 1, 1, 1, 1]


def test_funnel_reads_stage_aliases_and_skips_what_it_cannot_place() -> None:
    deals = [
        deal(1, "won"),  # alias: closed, won
        deal(2, "Lead"),  # alias of prospect
        deal(3, "mystery"),  # unknown stage, no outcome: left out
        deal(4, "closed"),  # closed without an outcome: left out
        DealRecord(id="d5", stage=""),  # no stage: left out
    ]
    funnel = stage_funnel(deals)
    assert (funnel.open, funnel.won, funnel.lost) == (1, 1, 0)
    assert funnel.steps[0].reached == 2
    assert [s.current for s in funnel.steps] == [1, 0, 0, 0, 1]


def test_a_recorded_outcome_places_a_deal_whatever_its_stage_name() -> None:
    deals = [
        DealRecord(id="d1", stage="mystery", outcome="lost", last_open_stage="proposal"),
        DealRecord(id="d2", stage="negotiation", outcome="won"),
    ]
    funnel = stage_funnel(deals)
    assert (funnel.open, funnel.won, funnel.lost) == (0, 1, 1)
    assert [s.reached for s in funnel.steps] == [2, 2, 2, 1, 1]


def test_empty_funnel_has_no_conversions() -> None:
    funnel = stage_funnel([])
    assert all(s.reached == 0 for s in funnel.steps)
    assert all(s.conversion is None for s in funnel.steps)
    assert funnel.win_rate is None


# --------------------------------------------------------------------------- histogram


def test_histogram_bins_cover_every_total() -> None:
    totals = np.random.default_rng(1).normal(100_000, 20_000, 5_000)
    histogram = histogram_bins(totals, bins=25)
    assert len(histogram.counts) == 25
    assert len(histogram.edges) == 26
    assert histogram.total == 5_000
    assert histogram.edges[0] == pytest.approx(totals.min())
    assert histogram.edges[-1] == pytest.approx(totals.max())
    assert len(histogram.centers) == 25
    assert histogram.width == pytest.approx((totals.max() - totals.min()) / 25)


def test_histogram_of_equal_totals_is_one_bin() -> None:
    histogram = histogram_bins(np.zeros(100))
    assert histogram.counts == (100,)
    assert histogram.centers == [0.0]
    assert histogram_bins(np.array([])).counts == ()


# --------------------------------------------------------------------------- health, stages


def test_band_counts_always_has_five_bands_in_order() -> None:
    counts = band_counts(["good", "good", "critical", "nonsense"])
    assert list(counts) == ["excellent", "good", "fair", "poor", "critical"]
    assert counts == {"excellent": 0, "good": 2, "fair": 0, "poor": 0, "critical": 1}


def test_stage_revenue_fills_missing_open_stages() -> None:
    rows = stage_revenue(
        [
            {"stage": "proposal", "deals": 2, "total_value": 100.0, "weighted_value": 50.0},
            {"stage": "custom", "deals": 1, "total_value": 10.0, "weighted_value": 1.0},
        ]
    )
    assert [r.stage for r in rows] == [
        "prospect",
        "qualified",
        "proposal",
        "negotiation",
        "custom",
    ]
    assert rows[2].total_value == 100.0 and rows[2].weighted_value == 50.0
    assert rows[0].deals == 0 and rows[0].total_value == 0.0


# --------------------------------------------------------------------------- what-if


def test_apply_what_if_replaces_only_what_it_overrides() -> None:
    deals = [
        deal(1, "proposal", value=1000, probability=50, closeDate="2026-12-01"),
        deal(2, "proposal", value=2000, probability=50),
        deal(3, "proposal", value=3000, probability=50),
        deal(4, "proposal", value=4000, probability=50),
    ]
    what_if: dict[str, dict[str, Any]] = {
        "d1": {"probability": 0.0},
        "d2": {"excluded": True},
        "d4": {"close_date": "2027-01-15", "probability": 35, "value": 1},
        "d9": {"excluded": True},
    }
    adjusted = apply_what_if(deals, what_if)
    assert [d.id for d in adjusted] == ["d1", "d3", "d4"]
    assert adjusted[0] == dataclasses.replace(deals[0], probability=0.0)
    assert deals[0].probability == 50.0  # originals untouched
    assert adjusted[1] is deals[2]  # the others are passed through
    # Only probability and close date can be overridden; the value stays.
    assert adjusted[2] == dataclasses.replace(
        deals[3], probability=35.0, close_date=date(2027, 1, 15)
    )
    assert apply_what_if(deals, {}) == deals and apply_what_if(deals, {}) is not deals


@pytest.mark.parametrize(
    "changes", [{"probability": 140}, {"probability": "lots"}, {"close_date": "2027-02-30"}]
)
def test_apply_what_if_refuses_what_the_prompts_would(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"between 0 and 100|not a number|calendar date"):
        apply_what_if([deal(1, "proposal")], {"d1": changes})


def test_a_zero_probability_override_removes_the_deal_from_every_run() -> None:
    deals = [
        deal(1, "proposal", value=1_000_000, probability=90),
        deal(2, "proposal", value=10, probability=50),
    ]
    adjusted = apply_what_if(deals, {"d1": {"probability": 0.0}})
    result = forecast_revenue(adjusted, simulations=2_000, seed=0)
    assert result["simulation_stats"]["max"] <= 10


def test_a_close_date_override_moves_the_deal_out_of_the_window() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    deals = [deal(1, "proposal", value=500, probability=50, closeDate="2026-11-10")]
    moved = apply_what_if(deals, {"d1": {"close_date": "2027-03-01"}})
    assert forecast_revenue(deals, simulations=10, now=now)["deals_analyzed"] == 1
    assert forecast_revenue(moved, simulations=10, now=now)["deals_analyzed"] == 0
    # The prompt shows a record's own date, so a date object is read as well as its text.
    back = apply_what_if(moved, {"d1": {"close_date": date(2026, 11, 20)}})
    assert back[0].close_date == date(2026, 11, 20)
    assert forecast_revenue(back, simulations=10, now=now)["deals_analyzed"] == 1


def test_toggle_exclusion_and_overrides_keep_a_plain_dict() -> None:
    what_if: dict[str, dict[str, object]] = {}
    assert toggle_exclusion(what_if, "d1") is True
    assert what_if == {"d1": {"excluded": True}}
    assert toggle_exclusion(what_if, "d1") is False
    assert what_if == {}
    set_override(what_if, "d1", "probability", 30.0)
    toggle_exclusion(what_if, "d1")
    toggle_exclusion(what_if, "d1")
    assert what_if == {"d1": {"probability": 30.0}}  # other changes survive the toggle
    set_override(what_if, "d1", "close_date", "2026-12-01")
    assert describe_what_if(what_if["d1"]) == "p 30%, close 2026-12-01"
    assert describe_what_if({"excluded": True, "probability": 5}) == "excluded"
    with pytest.raises(ValueError, match="cannot be overridden"):
        set_override(what_if, "d1", "value", 1)
    # Keys are the record's field names, not the JSON ones.
    with pytest.raises(ValueError, match="cannot be overridden"):
        set_override(what_if, "d1", "closeDate", "2026-12-01")


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0.0), ("35", 35.0), (" 72.5% ", 72.5), ("100", 100.0)]
)
def test_parse_probability_accepts_0_to_100(text: str, value: float) -> None:
    assert parse_probability(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-1", "100.5", "150", "nan", "inf"])
def test_parse_probability_rejects_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"number|between 0 and 100"):
        parse_probability(text)


def test_parse_close_date() -> None:
    assert parse_close_date(" 2026-12-01 ") == "2026-12-01"
    for bad in ("", "2026-13-01", "2026-02-30", "01/12/2026", "2026-1-1", "tomorrow"):
        with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar date"):
            parse_close_date(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250000", 250_000.0),
        ("$250,000", 250_000.0),
        ("250k", 250_000.0),
        ("1.2M", 1_200_000.0),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_goal(text: str, value: float | None) -> None:
    assert parse_goal(text) == value


@pytest.mark.parametrize("text", ["-5", "abc", "1.2B", "$"])
def test_parse_goal_rejects_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_goal(text)


def test_stable_order_makes_the_forecast_independent_of_row_order() -> None:
    deals = [
        deal(i, "proposal", value=1_000 * (i + 1), probability=10 * (i % 9 + 1)) for i in range(30)
    ]
    shuffled = list(reversed(deals))
    assert stable_order(shuffled) == stable_order(deals)
    assert [d.id for d in stable_order(shuffled)] == sorted(d.id for d in deals)
    ordered = forecast_revenue(stable_order(deals), simulations=1_000, seed=3)
    assert forecast_revenue(stable_order(shuffled), simulations=1_000, seed=3) == ordered
