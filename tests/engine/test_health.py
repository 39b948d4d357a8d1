"""Deal health scoring: exact component scores, tier and band boundaries, workspace metrics."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectoros_tui.engine.deal_record import DealRecord, record_from_mapping
from vectoros_tui.engine.health import (
    BAND_NAMES,
    WEIGHTS,
    ComponentScore,
    health_band,
    health_total,
    score_deal,
    score_workspace,
)

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
AVERAGE = 10_000.0


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def in_days(days: int) -> str:
    return (NOW.date() + timedelta(days=days)).isoformat()


def make_deal(**overrides: Any) -> DealRecord:
    """A healthy, complete negotiation deal; tests change one thing at a time (overrides use
    the JSON field names, read by the same edge reader the CLI and the server use)."""
    deal: dict[str, Any] = {
        "id": "d1",
        "title": "Acme renewal",
        "company": "Acme",
        "value": 10_000.0,
        "stage": "negotiation",
        "probability": 60,
        "closeDate": in_days(20),
        "createdAt": ago(100),
        "updatedAt": ago(1),
        "outcome": None,
        "contactName": "Jane Doe",
        "contactEmail": "jane@acme.test",
        "lostReason": None,
        "closedAt": None,
        "stageChangedAt": ago(3),
        "lastActivityAt": ago(2),
        "closeDateHistory": [],
    }
    deal.update(overrides)
    return record_from_mapping(deal)


def component(deal: DealRecord, name: str, average: float | None = AVERAGE) -> ComponentScore:
    return score_deal(deal, NOW, average).components[name]


def test_complete_healthy_deal_scores_exactly() -> None:
    health = score_deal(make_deal(), NOW, AVERAGE)
    scores = {name: c.score for name, c in health.components.items()}
    assert scores == {
        "probability": 60.0,
        "velocity": 100.0,
        "freshness": 100.0,
        "completeness": 100.0,
        "urgency": 90.0,
        "value_score": 70.0,
    }
    # 15 + 20 + 15 + 15 + 13.5 + 7
    assert health.health_score == 85.5
    assert health.health_status == "excellent"
    assert health.deal_id == "d1"
    assert health.title == "Acme renewal"
    assert {name: c.weight for name, c in health.components.items()} == WEIGHTS
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, 100.0),
        (6.9, 100.0),
        (7, 80.0),
        (13, 80.0),
        (14, 60.0),
        (29, 60.0),
        (30, 40.0),
        (59, 40.0),
        (60, 20.0),
        (400, 20.0),
    ],
)
def test_velocity_tiers_use_days_in_current_stage(days: float, expected: float) -> None:
    assert component(make_deal(stageChangedAt=ago(days)), "velocity").score == expected


def test_velocity_explanation_names_stage_and_days() -> None:
    velocity = component(make_deal(stageChangedAt=ago(45)), "velocity")
    assert velocity.explanation == "in negotiation for 45 days (stalled)"


def test_velocity_ignores_recent_edits() -> None:
    # The original scored velocity from updatedAt; an edit yesterday must not hide 70 days.
    velocity = component(make_deal(stageChangedAt=ago(70), updatedAt=ago(0)), "velocity")
    assert velocity.score == 20.0


def test_velocity_falls_back_to_created_at_and_says_so() -> None:
    velocity = component(make_deal(stageChangedAt=None, createdAt=ago(45)), "velocity")
    assert velocity.score == 40.0
    assert "45 days" in velocity.explanation
    assert "counted from creation" in velocity.explanation


def test_velocity_unknown_scores_50() -> None:
    velocity = component(make_deal(stageChangedAt=None, createdAt=None), "velocity")
    assert velocity.score == 50.0
    assert velocity.explanation == (
        "time in negotiation unknown (no stage change or creation date)"
    )


def test_future_stage_change_counts_as_zero_days() -> None:
    velocity = component(make_deal(stageChangedAt=ago(-2)), "velocity")
    assert velocity.score == 100.0
    assert "0 days" in velocity.explanation


@pytest.mark.parametrize(
    ("days", "expected"), [(6, 100.0), (7, 80.0), (14, 60.0), (21, 60.0), (30, 40.0), (60, 20.0)]
)
def test_freshness_tiers(days: int, expected: float) -> None:
    assert component(make_deal(lastActivityAt=ago(days)), "freshness").score == expected


def test_freshness_explanation() -> None:
    freshness = component(make_deal(lastActivityAt=ago(21)), "freshness")
    assert freshness.explanation == "no activity for 21 days"
    assert component(make_deal(lastActivityAt=ago(0.5)), "freshness").explanation == (
        "activity today"
    )


def test_freshness_falls_back_to_updated_at() -> None:
    freshness = component(make_deal(lastActivityAt=None, updatedAt=ago(10)), "freshness")
    assert freshness.score == 80.0
    assert "no activity logged" in freshness.explanation
    assert "10 days" in freshness.explanation


def test_freshness_unknown_scores_50() -> None:
    freshness = component(make_deal(lastActivityAt=None, updatedAt=None), "freshness")
    assert (freshness.score, freshness.explanation) == (50.0, "no activity or update date known")


def test_completeness_weights_required_and_useful_fields() -> None:
    partial = component(make_deal(company=None, contactEmail=None), "completeness")
    assert partial.score == pytest.approx(110 / 130 * 100)
    assert partial.explanation == "6 of 8 fields filled; missing company, contact email"

    sparse = score_deal(make_deal(value=None, probability=None, closeDate=None), NOW, AVERAGE)
    assert sparse.components["completeness"].score == pytest.approx(70 / 130 * 100)
    assert any("Missing value, probability, close date" in line for line in sparse.advice)


def test_completeness_counts_zero_as_filled() -> None:
    assert component(make_deal(probability=0, value=0), "completeness").score == 100.0


def test_completeness_counts_a_blank_string_as_missing() -> None:
    # Built directly, as the store does: nothing between it and the engine strips text.
    deal = dataclasses.replace(make_deal(), title="", company="  ", contact_name="\t")
    completeness = component(deal, "completeness")
    assert completeness.score == pytest.approx(90 / 130 * 100)
    assert completeness.explanation == (
        "5 of 8 fields filled; missing title, company, contact name"
    )


def test_a_deal_without_title_or_stage_is_named_for_display() -> None:
    deal = DealRecord(id="bare", created_at=NOW - timedelta(days=45))
    health = score_deal(deal, NOW, None)
    assert health.title == "Untitled deal"
    assert health.components["velocity"].explanation == (
        "in its stage for 45 days (stalled; counted from creation)"
    )
    assert health.components["completeness"].explanation.endswith(
        "missing title, value, stage, probability, close date, company, contact name, contact email"
    )


@pytest.mark.parametrize(
    ("days_until", "expected", "text"),
    [
        (-40, 30.0, "close date passed 40 days ago"),
        (-1, 30.0, "close date passed 1 day ago"),
        (0, 100.0, "closes today"),
        (5, 100.0, "closes in 5 days"),
        (6, 100.0, "closes in 6 days"),
        (7, 90.0, "closes in 7 days"),
        (29, 90.0, "closes in 29 days"),
        (30, 70.0, "closes in 30 days"),
        (59, 70.0, "closes in 59 days"),
        (60, 50.0, "closes in 60 days"),
        (89, 50.0, "closes in 89 days"),
        (90, 40.0, "closes in 90 days"),
    ],
)
def test_urgency_tiers(days_until: int, expected: float, text: str) -> None:
    urgency = component(make_deal(closeDate=in_days(days_until)), "urgency")
    assert (urgency.score, urgency.explanation) == (expected, text)


def test_urgency_without_close_date() -> None:
    urgency = component(make_deal(closeDate=None), "urgency")
    assert (urgency.score, urgency.explanation) == (30.0, "no close date set")


@pytest.mark.parametrize(
    ("value", "expected", "shown"),
    [
        (23_000.0, 100.0, "2.3×"),
        (20_000.0, 100.0, "2.0×"),
        (19_999.0, 90.0, "1.9×"),
        (15_000.0, 90.0, "1.5×"),
        (14_999.0, 70.0, "1.4×"),
        (8_000.0, 70.0, "0.8×"),
        (7_999.0, 50.0, "0.7×"),
        (5_000.0, 50.0, "0.5×"),
        (4_999.0, 30.0, "0.4×"),
    ],
)
def test_value_tiers(value: float, expected: float, shown: str) -> None:
    value_score = component(make_deal(value=value), "value_score")
    assert value_score.score == expected
    assert value_score.explanation == f"value is {shown} the workspace average"


@pytest.mark.parametrize("average", [None, 0.0])
def test_value_without_context_scores_50(average: float | None) -> None:
    assert component(make_deal(), "value_score", average).score == 50.0


def test_value_missing_counts_as_zero() -> None:
    value_score = component(make_deal(value=None), "value_score")
    assert value_score.score == 30.0
    assert "no value set" in value_score.explanation


@pytest.mark.parametrize(
    ("probability", "expected", "text"),
    [
        (None, 0.0, "no win probability set"),
        (0, 0.0, "win probability is 0%"),
        (65, 65.0, "win probability is 65%"),
        (37.5, 37.5, "win probability is 37.5%"),
        (100, 100.0, "win probability is 100%"),
    ],
)
def test_probability_scores_the_reps_percentage(
    probability: float | None, expected: float, text: str
) -> None:
    score = component(make_deal(probability=probability), "probability")
    assert (score.score, score.explanation) == (expected, text)


def test_an_unset_probability_asks_for_qualification() -> None:
    advice = score_deal(make_deal(probability=None), NOW, AVERAGE).advice
    assert "No win probability set - qualify the deal" in advice


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100.0, "excellent"),
        (80.0, "excellent"),
        (79.9, "good"),
        (60.0, "good"),
        (59.9, "fair"),
        (40.0, "fair"),
        (39.9, "poor"),
        (20.0, "poor"),
        (19.9, "critical"),
        (0.0, "critical"),
    ],
)
def test_health_band_boundaries(score: float, band: str) -> None:
    assert health_band(score) == band


def test_band_follows_the_rounded_score_at_the_boundary() -> None:
    # 85.5 with probability 60; each probability point is worth 0.25.
    at_80 = score_deal(make_deal(probability=38), NOW, AVERAGE)
    assert (at_80.health_score, at_80.health_status) == (80.0, "excellent")
    below = score_deal(make_deal(probability=37.6), NOW, AVERAGE)
    assert (below.health_score, below.health_status) == (79.9, "good")


def test_to_dict_has_the_original_shape() -> None:
    deal = make_deal(probability=85, value=25_000.0, stageChangedAt=ago(45), company=None)
    result = score_deal(deal, NOW, AVERAGE).to_dict()
    keys = {"probability", "velocity", "freshness", "completeness", "urgency", "value_score"}
    assert set(result) == {
        "deal_id",
        "title",
        "health_score",
        "health_status",
        "components",
        "explanations",
        "insights",
    }
    assert set(result["components"]) == keys
    assert set(result["explanations"]) == keys
    assert result["components"]["completeness"] == 92.3
    assert result["explanations"]["velocity"] == "in negotiation for 45 days (stalled)"
    assert result["explanations"]["value_score"] == "value is 2.5× the workspace average"
    assert "High win probability (85%) - prioritise closing" in result["insights"]
    assert any("senior resources" in line for line in result["insights"])
    json.dumps(result)


def test_advice_lines_for_weak_components() -> None:
    deal = make_deal(probability=20, stageChangedAt=ago(70), lastActivityAt=ago(65), closeDate=None)
    advice = score_deal(deal, NOW, AVERAGE).advice
    assert "Low win probability (20%) - qualify harder or lower the forecast" in advice
    assert any("In negotiation for 70 days" in line for line in advice)
    assert any("No activity for 65 days" in line for line in advice)
    assert "No close date set - agree a target close date" in advice


def test_weakest_components_rank_by_points_lost() -> None:
    deal = make_deal(probability=10, stageChangedAt=ago(70))
    weakest = score_deal(deal, NOW, AVERAGE).weakest_components(2)
    # probability loses 90 × 0.25 = 22.5 points, velocity 80 × 0.20 = 16.
    assert [name for name, _ in weakest] == ["probability", "velocity"]


@pytest.mark.parametrize(
    ("overrides", "is_open"),
    [
        ({}, True),
        ({"outcome": "won", "stage": "closed"}, False),
        ({"stage": "closed"}, False),
        ({"stage": "won"}, False),
        ({"stage": "closed_lost"}, False),
        ({"outcome": "lost"}, False),
        ({"stage": "lead"}, True),
        ({"stage": "mystery"}, True),
    ],
)
def test_only_open_deals_are_scored(overrides: dict[str, Any], is_open: bool) -> None:
    metrics = score_workspace([make_deal(**overrides)], NOW)["workspace_metrics"]
    assert (metrics["total_deals"], metrics["scored_deals"]) == (1, int(is_open))


def test_score_workspace_scores_open_deals_only() -> None:
    deals = [
        make_deal(id="a", value=10_000.0),
        make_deal(id="b", value=30_000.0, stageChangedAt=ago(70), lastActivityAt=ago(70)),
        make_deal(id="won", value=1_000_000.0, stage="closed", outcome="won"),
        make_deal(id="lost", value=1_000_000.0, stage="lost"),
    ]
    result = score_workspace(deals, NOW)
    metrics = result["workspace_metrics"]
    assert metrics["total_deals"] == 4
    assert metrics["scored_deals"] == 2
    assert [d["deal_id"] for d in result["scored_deals"]] == ["a", "b"]
    # The average is over open deals (20,000), so the closed millions do not shrink "a".
    assert result["scored_deals"][0]["explanations"]["value_score"] == (
        "value is 0.5× the workspace average"
    )
    assert result["scored_deals"][0]["components"]["value_score"] == 50.0
    assert result["scored_deals"][1]["components"]["value_score"] == 90.0  # 1.5×
    assert set(metrics["health_distribution"]) == set(BAND_NAMES)
    assert sum(metrics["health_distribution"].values()) == 2
    scores = [d["health_score"] for d in result["scored_deals"]]
    assert metrics["average_health"] == round(sum(scores) / 2, 1)
    json.dumps(result)


def test_score_workspace_distribution_counts_bands() -> None:
    deals = [
        make_deal(id="excellent"),
        make_deal(
            id="poor",
            probability=0,
            stageChangedAt=ago(90),
            lastActivityAt=ago(90),
            closeDate=None,
            company=None,
            contactName=None,
            contactEmail=None,
        ),
    ]
    distribution = score_workspace(deals, NOW)["workspace_metrics"]["health_distribution"]
    assert distribution == {"excellent": 1, "good": 0, "fair": 0, "poor": 1, "critical": 0}


@pytest.mark.parametrize(
    "deals", [[], [make_deal(stage="closed", outcome="won"), make_deal(outcome="lost")]]
)
def test_score_workspace_with_nothing_open(deals: list[DealRecord]) -> None:
    result = score_workspace(deals, NOW)
    assert result["scored_deals"] == []
    assert result["workspace_metrics"] == {
        "average_health": 0.0,
        "total_deals": len(deals),
        "scored_deals": 0,
        "health_distribution": dict.fromkeys(BAND_NAMES, 0),
    }


def test_scoring_is_deterministic_and_tolerates_missing_extras() -> None:
    bare = DealRecord(
        id="7", title="Bare", stage="prospect", created_at=datetime(2024, 6, 1, tzinfo=UTC)
    )
    first = score_deal(bare, NOW, None)
    assert first == score_deal(bare, NOW, None)
    assert first.deal_id == "7"
    assert first.components["velocity"].score == 60.0  # 14 days since creation
    assert first.components["freshness"].score == 50.0


def test_a_record_built_as_the_store_builds_it() -> None:
    deal = DealRecord(
        id="s1",
        title="Store deal",
        stage="proposal",
        value=10_000.0,
        probability=50.0,
        close_date=date(2024, 6, 20),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        updated_at=datetime(2024, 6, 14, tzinfo=UTC),
        stage_changed_at=NOW - timedelta(days=10),
        last_activity_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
    )
    health = score_deal(deal, NOW, AVERAGE)
    assert health.deal_id == "s1"
    assert health.components["velocity"].explanation == "in proposal for 10 days (on pace)"
    assert health.components["freshness"].explanation == "no activity for 14 days"
    assert health.components["urgency"].explanation == "closes in 5 days"
    # A naive ``now`` is taken as UTC, as the store writes its timestamps.
    assert score_deal(deal, NOW.replace(tzinfo=None), AVERAGE) == health


@given(
    probability=st.one_of(st.none(), st.floats(0, 100)),
    stage_days=st.floats(0, 1000),
    activity_days=st.floats(0, 1000),
    close_in=st.integers(-500, 500),
    value=st.one_of(st.none(), st.floats(0, 1e9)),
)
def test_score_stays_in_range_and_band_matches(
    probability: float | None,
    stage_days: float,
    activity_days: float,
    close_in: int,
    value: float | None,
) -> None:
    deal = make_deal(
        probability=probability,
        stageChangedAt=ago(stage_days),
        lastActivityAt=ago(activity_days),
        closeDate=in_days(close_in),
        value=value,
    )
    health = score_deal(deal, NOW, AVERAGE)
    assert 0.0 <= health.health_score <= 100.0
    assert health.health_status == health_band(health.health_score)
    assert all(0.0 <= c.score <= 100.0 for c in health.components.values())


def test_a_small_deal_reads_as_a_share_of_the_average_not_zero_times_it() -> None:
    small = component(make_deal(value=4_700), "value_score", 200_000)
    assert small.explanation == "value is 2% of the workspace average"
    assert "0.0×" not in small.explanation
    big = component(make_deal(value=300_000), "value_score", 200_000)
    assert big.explanation == "value is 1.5× the workspace average"


@given(
    probability=st.one_of(st.none(), st.floats(0, 100)),
    stage_days=st.one_of(st.none(), st.floats(-5, 1000)),
    created_days=st.one_of(st.none(), st.floats(0, 1000)),
    activity_days=st.one_of(st.none(), st.floats(-5, 1000)),
    updated_days=st.one_of(st.none(), st.floats(0, 1000)),
    close_in=st.one_of(st.none(), st.integers(-500, 500)),
    value=st.one_of(st.none(), st.floats(0, 1e9)),
    average=st.one_of(st.none(), st.just(0.0), st.floats(1, 1e7)),
    blanks=st.sets(st.sampled_from(["title", "company", "contactName", "contactEmail"])),
)
def test_the_total_alone_is_the_full_scores_own(
    probability: float | None,
    stage_days: float | None,
    created_days: float | None,
    activity_days: float | None,
    updated_days: float | None,
    close_in: int | None,
    value: float | None,
    average: float | None,
    blanks: set[str],
) -> None:
    """What the low-health rule compares (insights score a deal in full only below the
    threshold): the very float score_deal gives, whatever is missing or out of range."""

    def when(days: float | None) -> str | None:
        return None if days is None else ago(days)

    deal = make_deal(
        probability=probability,
        stageChangedAt=when(stage_days),
        createdAt=when(created_days),
        lastActivityAt=when(activity_days),
        updatedAt=when(updated_days),
        closeDate=None if close_in is None else in_days(close_in),
        value=value,
        **dict.fromkeys(blanks, " "),
    )
    assert health_total(deal, NOW, average) == score_deal(deal, NOW, average).health_score
