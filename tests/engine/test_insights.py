"""Insight rules: thresholds, priorities, stable keys, ordering and serialisable payloads."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from vectoros_tui.engine.deal_record import DealRecord, record_from_mapping
from vectoros_tui.engine.health import DealHealth, health_band, score_deal
from vectoros_tui.engine.insights import InsightDraft, generate_insights

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def in_days(days: int) -> str:
    return (NOW.date() + timedelta(days=days)).isoformat()


def make_deal(**overrides: Any) -> DealRecord:
    """A healthy open deal that triggers no rule; tests change one thing at a time (overrides
    use the JSON field names, read by the same edge reader the CLI and the server use).

    ``nextStep`` and ``nextStepDue`` are set on the record after reading, as the store sets
    them: the edge reader reads the seed's fields only."""
    step = overrides.pop("nextStep", "Send the order form")
    step_due = overrides.pop("nextStepDue", in_days(3))
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
    due = None if step_due is None else date.fromisoformat(step_due)
    return dataclasses.replace(record_from_mapping(deal), next_step=step, next_step_due=due)


def by_rule(insights: list[InsightDraft], rule: str) -> list[InsightDraft]:
    return [insight for insight in insights if insight.key.split(":")[0] == rule]


def only(insights: list[InsightDraft], rule: str) -> InsightDraft:
    matches = by_rule(insights, rule)
    assert len(matches) == 1, [i.key for i in insights]
    return matches[0]


def test_healthy_deal_has_no_insights() -> None:
    assert generate_insights([make_deal()], NOW) == []


# --------------------------------------------------------------------------- stale


def test_stale_fires_at_14_days_not_13() -> None:
    assert by_rule(generate_insights([make_deal(lastActivityAt=ago(13))], NOW), "stale") == []
    stale = only(generate_insights([make_deal(lastActivityAt=ago(14))], NOW), "stale")
    assert stale.type == "risk"
    assert stale.description == "No activity on 'Acme renewal' for 14 days"
    assert stale.data["days_since_activity"] == 14
    assert stale.data["threshold"] == 14
    assert stale.deal_id == "d1"
    assert stale.confidence == 0.9
    assert stale.actions[0] == "Contact Jane Doe to re-engage"
    nameless = make_deal(lastActivityAt=ago(14), contactName=None)
    assert only(generate_insights([nameless], NOW), "stale").actions[0] == (
        "Contact the buyer to re-engage"
    )


def pipeline(stale_value: float, **stale_overrides: Any) -> list[DealRecord]:
    """Four open deals valued 10k-40k plus the stale deal under test."""
    others = [make_deal(id=f"o{i}", value=v) for i, v in enumerate([10e3, 20e3, 30e3, 40e3])]
    return [*others, make_deal(id="s", value=stale_value, **stale_overrides)]


def test_stale_priority_medium_below_top_quartile_and_30_days() -> None:
    insights = generate_insights(pipeline(15e3, lastActivityAt=ago(29)), NOW)
    assert only(insights, "stale").priority == "medium"


def test_stale_priority_high_at_30_days() -> None:
    insights = generate_insights(pipeline(15e3, lastActivityAt=ago(30)), NOW)
    assert only(insights, "stale").priority == "high"


def test_stale_priority_high_in_top_quartile() -> None:
    # Five values: the top quartile is the ceil(5/4) = 2 largest. With 30k the two largest
    # are 40k and 30k (ties count), so 30k is in; with 29k the second largest is 30k.
    stale = only(generate_insights(pipeline(30e3, lastActivityAt=ago(15)), NOW), "stale")
    assert stale.priority == "high"
    assert stale.data["top_quartile_value"] is True
    below = only(generate_insights(pipeline(29e3, lastActivityAt=ago(15)), NOW), "stale")
    assert below.priority == "medium"
    assert below.data["top_quartile_value"] is False


def test_stale_without_any_activity_uses_creation_date_with_lower_confidence() -> None:
    deal = make_deal(lastActivityAt=None, createdAt=ago(20), stageChangedAt=ago(3))
    stale = only(generate_insights([deal], NOW), "stale")
    assert "since it was created 20 days ago" in stale.description
    assert stale.confidence == 0.6
    assert stale.data["last_activity_at"] is None
    young = make_deal(lastActivityAt=None, createdAt=ago(13), stageChangedAt=ago(3))
    assert by_rule(generate_insights([young], NOW), "stale") == []


# --------------------------------------------------------------------------- stuck


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (29, None),
        (30, ("warning", "medium")),
        (59, ("warning", "medium")),
        (60, ("risk", "critical")),
        (120, ("risk", "critical")),
    ],
)
def test_stuck_in_stage_thresholds(days: int, expected: tuple[str, str] | None) -> None:
    insights = by_rule(generate_insights([make_deal(stageChangedAt=ago(days))], NOW), "stuck")
    if expected is None:
        assert insights == []
        return
    (stuck,) = insights
    assert (stuck.type, stuck.priority) == expected
    assert stuck.data["stage"] == "negotiation"
    assert stuck.data["days_in_stage"] == days
    assert stuck.description == f"'Acme renewal' has been in negotiation for {days} days"


def test_stuck_falls_back_to_creation_date() -> None:
    deal = make_deal(stageChangedAt=None, createdAt=ago(45))
    stuck = only(generate_insights([deal], NOW), "stuck")
    assert stuck.confidence == 0.6
    assert "(counted from creation)" in stuck.description


# --------------------------------------------------------------------------- close date


@pytest.mark.parametrize(
    ("days_until", "priority"), [(0, None), (-1, "high"), (-30, "high"), (-31, "critical")]
)
def test_close_date_passed(days_until: int, priority: str | None) -> None:
    insights = generate_insights([make_deal(closeDate=in_days(days_until))], NOW)
    overdue = by_rule(insights, "overdue")
    if priority is None:
        assert overdue == []
        return
    assert overdue[0].priority == priority
    assert overdue[0].type == "risk"
    assert overdue[0].data == {
        "close_date": in_days(days_until),
        "days_overdue": -days_until,
        "value": 10_000.0,
    }
    assert f"{-days_until} day" in overdue[0].description


@pytest.mark.parametrize(
    ("history", "current", "expected"),
    [
        ([in_days(14)], in_days(20), None),  # pushed 6 days
        ([in_days(13)], in_days(20), ("medium", 7, 1)),  # pushed 7 days
        ([in_days(-9)], in_days(20), ("medium", 29, 1)),
        ([in_days(-10)], in_days(20), ("high", 30, 1)),  # 30 days in total
        ([in_days(5), in_days(10)], in_days(20), ("high", 15, 2)),  # pushed twice
        ([in_days(5), in_days(30)], in_days(20), ("medium", 15, 1)),  # one push, one pull-in
        ([in_days(40), in_days(10)], in_days(20), None),  # now earlier than first committed
    ],
)
def test_close_date_pushed(
    history: list[str], current: str, expected: tuple[str, int, int] | None
) -> None:
    deal = make_deal(closeDateHistory=history, closeDate=current)
    pushed = by_rule(generate_insights([deal], NOW), "pushed")
    if expected is None:
        assert pushed == []
        return
    priority, days, times = expected
    (insight,) = pushed
    assert insight.type == "warning"
    assert insight.priority == priority
    assert insight.data["original_close_date"] == history[0]
    assert insight.data["current_close_date"] == current
    assert (insight.data["days_pushed"], insight.data["times_pushed"]) == (days, times)
    assert f"{days} days later" in insight.description


def test_rules_read_a_record_built_as_the_store_builds_it() -> None:
    deal = DealRecord(
        id="s1",
        title="Store deal",
        stage="proposal",
        value=25_000.0,
        probability=50.0,
        company="Acme",
        contact_name="Jane Doe",
        contact_email="jane@acme.test",
        close_date=date(2024, 7, 20),
        close_date_history=(date(2024, 6, 1), date(2024, 7, 1)),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        updated_at=NOW - timedelta(days=1),
        stage_changed_at=NOW - timedelta(days=5),
        last_activity_at=datetime(2024, 5, 20, 9, 30, tzinfo=UTC),
        next_step="Call Jane about the pilot",
        next_step_due=date(2024, 6, 20),
    )
    found = generate_insights([deal], NOW)
    assert [i.key for i in found] == ["pushed:s1:2024-07-20", "stale:s1:2024-05-20"]
    pushed = only(found, "pushed")
    assert pushed.data == {
        "original_close_date": "2024-06-01",
        "current_close_date": "2024-07-20",
        "days_pushed": 49,
        "times_pushed": 2,
        "threshold": 7,
        "value": 25_000.0,
    }
    assert pushed.description == (
        "'Store deal' close date moved from 2024-06-01 to 2024-07-20: 49 days later, pushed 2 times"
    )
    stale = only(found, "stale")
    assert stale.data["last_activity_at"] == "2024-05-20T09:30:00+00:00"
    assert stale.data["days_since_activity"] == 26


# --------------------------------------------------------------------------- low health


def with_score(score: float) -> dict[str, DealHealth]:
    health = score_deal(make_deal(), NOW, None)
    return {"d1": dataclasses.replace(health, health_score=score, health_status=health_band(score))}


@pytest.mark.parametrize(
    ("score", "priority"), [(40.0, None), (39.9, "medium"), (20.0, "medium"), (19.9, "high")]
)
def test_low_health_thresholds(score: float, priority: str | None) -> None:
    insights = by_rule(
        generate_insights([make_deal()], NOW, health=with_score(score)), "low_health"
    )
    if priority is None:
        assert insights == []
    else:
        assert [(i.type, i.priority) for i in insights] == [("risk", priority)]
        assert insights[0].data["health_score"] == score


def test_low_health_is_computed_when_not_given_and_names_weakest_components() -> None:
    deal = make_deal(
        probability=5,
        stageChangedAt=ago(90),
        lastActivityAt=ago(10),
        closeDate=None,
        contactName=None,
        contactEmail=None,
    )
    expected = score_deal(deal, NOW, 10_000.0)
    assert expected.health_score < 40
    low = only(generate_insights([deal], NOW), "low_health")
    assert low.data["health_score"] == expected.health_score
    weakest = [c["component"] for c in low.data["weakest_components"]]
    assert weakest == ["probability", "velocity"]
    assert "in negotiation for 90 days" in low.description
    assert f"{expected.health_score:.1f}/100" in low.description
    assert 0.5 <= low.confidence < 0.9


# --------------------------------------------------------------------------- concentration


def small(
    count: int, value: float = 10_000.0, p: float = 0.5
) -> list[tuple[str, str, float, float]]:
    return [(f"s{i}", f"Small {i}", value, p) for i in range(count)]


def test_concentration_fires_for_one_dominant_deal() -> None:
    contributions = [("big", "Mega deal", 1_000_000.0, 0.5), *small(5)]
    insights = generate_insights([], NOW, forecast_contributions=contributions)
    concentration = only(insights, "concentration")
    assert concentration.key == "concentration:workspace"
    assert concentration.type == "recommendation"
    assert concentration.priority == "high"
    assert concentration.deal_id is None
    assert concentration.confidence == 0.8
    top = concentration.data["top_deals"]
    assert [d["deal_id"] for d in top] == ["big", "s0", "s1"]
    assert top[0]["share"] == pytest.approx(1e12 / (1e12 + 5e8), abs=1e-4)
    assert concentration.data["deal_count"] == 6
    assert concentration.data["value"] == 1_020_000.0  # the top three deals' value
    assert concentration.data["top_share"] >= 0.75
    assert "'Mega deal' alone carries 100%" in concentration.description
    assert "across 6 deals" in concentration.description


def test_concentration_silent_for_an_even_pipeline() -> None:
    assert generate_insights([], NOW, forecast_contributions=small(7)) == []


def test_concentration_fires_at_half_the_variance() -> None:
    # Six equal deals: the top three carry exactly 50%.
    concentration = only(
        generate_insights([], NOW, forecast_contributions=small(6)), "concentration"
    )
    assert concentration.priority == "medium"
    assert concentration.data["top_share"] == 0.5
    assert concentration.description.startswith("3 of 6 deals carry 50% of the forecast's")
    assert "'Small 0' 17%" in concentration.description


def test_concentration_high_at_three_quarters() -> None:
    # Three deals of variance 0.25 each and four of 0.0625: the top three carry 75%.
    contributions = [*small(3, value=1.0), *[(f"t{i}", "T", 0.5, 0.5) for i in range(4)]]
    concentration = only(
        generate_insights([], NOW, forecast_contributions=contributions), "concentration"
    )
    assert concentration.data["top_share"] == 0.75
    assert concentration.priority == "high"


def test_concentration_needs_five_deals() -> None:
    contributions = [("big", "Mega deal", 1_000_000.0, 0.5), *small(3)]
    assert generate_insights([], NOW, forecast_contributions=contributions) == []


def test_concentration_ignores_certain_deals() -> None:
    # p = 1 and p = 0 carry no variance: nothing to concentrate.
    contributions = [(f"c{i}", "Certain", 1e6, float(i % 2)) for i in range(6)]
    assert generate_insights([], NOW, forecast_contributions=contributions) == []


def test_concentration_derived_from_open_deals_when_not_given() -> None:
    deals = [
        make_deal(id="big", title="Mega deal", value=1_000_000.0),
        *[make_deal(id=f"s{i}", value=10_000.0) for i in range(4)],
        make_deal(id="no-prob", value=5_000_000.0, probability=None),
        make_deal(id="won", value=9_000_000.0, stage="closed", outcome="won"),
    ]
    concentration = only(generate_insights(deals, NOW), "concentration")
    assert concentration.confidence == 0.6
    assert concentration.data["probabilities"] == "rep"
    assert concentration.data["deal_count"] == 5
    assert concentration.data["top_deals"][0]["deal_id"] == "big"
    assert concentration.data["top_deals"][0]["probability"] == 0.6


# --------------------------------------------------------------------------- opportunity


@pytest.mark.parametrize(
    ("overrides", "fires"),
    [
        ({}, True),
        ({"probability": 69}, False),
        ({"closeDate": in_days(15)}, False),
        ({"closeDate": in_days(0)}, True),
        ({"lastActivityAt": ago(7)}, False),
        ({"lastActivityAt": None}, False),
    ],
)
def test_ready_to_close(overrides: dict[str, Any], fires: bool) -> None:
    base = {"probability": 70, "closeDate": in_days(14), "lastActivityAt": ago(6)}
    insights = by_rule(generate_insights([make_deal(**{**base, **overrides})], NOW), "close_soon")
    assert bool(insights) is fires
    if fires:
        assert insights[0].type == "opportunity"
        assert insights[0].priority == "medium"
        assert "70%" in insights[0].description


# --------------------------------------------------------------------------- cross-cutting


def troubled_deal(**overrides: Any) -> DealRecord:
    return make_deal(
        stageChangedAt=ago(90),
        lastActivityAt=ago(45),
        closeDate=in_days(-40),
        closeDateHistory=[in_days(-80), in_days(-60)],
        probability=5,
        **overrides,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"outcome": "won", "stage": "closed"},
        {"outcome": "lost", "stage": "closed"},
        {"stage": "closed"},
        {"stage": "lost"},
        {"outcome": "won"},
    ],
)
def test_closed_deals_never_trigger(overrides: dict[str, Any]) -> None:
    assert generate_insights([troubled_deal(**overrides)], NOW) == []


def test_troubled_deal_triggers_every_deal_risk() -> None:
    rules = {i.key.split(":")[0] for i in generate_insights([troubled_deal()], NOW)}
    assert rules == {"stale", "stuck", "overdue", "pushed", "low_health"}


def workspace() -> list[DealRecord]:
    return [
        troubled_deal(id="t1", title="Troubled", value=50_000.0),
        make_deal(id="d2", title="Quiet", lastActivityAt=ago(20), value=5_000.0),
        make_deal(id="d3", title="Slow", stageChangedAt=ago(40), value=80_000.0),
        make_deal(id="d4", title="Big one", value=2_000_000.0, probability=50),
        *[make_deal(id=f"e{i}", title=f"Even {i}", value=10_000.0) for i in range(4)],
        make_deal(id="won", stage="closed", outcome="won", lastActivityAt=ago(300)),
    ]


def test_keys_are_stable_for_the_same_situation() -> None:
    first = generate_insights(workspace(), NOW)
    later = generate_insights(workspace(), NOW + timedelta(days=2))
    assert [i.key for i in first] == [i.key for i in later]
    assert len({i.key for i in first}) == len(first)
    assert "concentration:workspace" in {i.key for i in first}


def test_a_new_situation_gets_a_new_key() -> None:
    before = only(generate_insights([make_deal(stageChangedAt=ago(40))], NOW), "stuck")
    moved = make_deal(stage="proposal", stageChangedAt=ago(40))
    after = only(generate_insights([moved], NOW), "stuck")
    assert before.key != after.key


def test_sorted_by_priority_then_value() -> None:
    insights = generate_insights(workspace(), NOW)
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    order = [(rank[i.priority], -i.data["value"]) for i in insights]
    assert order == sorted(order)
    assert insights[0].priority == "critical"
    assert len({i.priority for i in insights}) >= 3


def test_payloads_are_json_serialisable() -> None:
    for insight in generate_insights(workspace(), NOW):
        encoded = json.dumps(dataclasses.asdict(insight))
        assert json.loads(encoded)["key"] == insight.key
        assert 0.0 <= insight.confidence <= 1.0
        assert insight.actions and all(isinstance(a, str) for a in insight.actions)


def test_generation_is_deterministic() -> None:
    assert generate_insights(workspace(), NOW) == generate_insights(workspace(), NOW)


# --------------------------------------------------------------------------- next steps


def test_no_next_step_fires_only_when_nothing_is_said() -> None:
    bare = make_deal(nextStep=None, nextStepDue=None)
    insight = only(generate_insights([bare], NOW), "no_next_step")
    assert insight.key == "no_next_step:d1:negotiation"
    assert insight.type == "warning"
    assert insight.deal_id == "d1"
    assert (
        insight.description == "Nobody has said what happens next on 'Acme renewal' in negotiation"
    )
    assert insight.data["stage"] == "negotiation"
    assert insight.data["value"] == 10_000.0
    # A written step, or just a date for one, is a plan.
    for said in ({"nextStepDue": None}, {"nextStep": None}):
        assert by_rule(generate_insights([make_deal(**said)], NOW), "no_next_step") == []


@pytest.mark.parametrize(
    ("stage", "value", "priority"),
    [
        ("prospect", 30e3, None),  # first stage, at the median (30k of 10/20/30/30/40k)
        ("prospect", 35e3, "medium"),  # first stage, above the median, top quartile
        ("qualified", 15e3, "low"),  # past the first stage, ordinary size
        ("negotiation", 15e3, "medium"),  # late stage, ordinary size
        ("proposal", 30e3, "high"),  # late stage and top quartile
        ("negotiation", 29e3, "medium"),  # late stage, just below the top quartile
    ],
)
def test_no_next_step_asks_only_of_deals_that_matter(
    stage: str, value: float, priority: str | None
) -> None:
    deals = pipeline(value, stage=stage, nextStep=None, nextStepDue=None)
    found = by_rule(generate_insights(deals, NOW), "no_next_step")
    if priority is None:
        assert found == []
        return
    (insight,) = found
    assert insight.deal_id == "s"
    assert insight.priority == priority
    assert insight.data["median_value"] in (20e3, 29e3, 30e3)


def test_no_next_step_in_a_new_stage_is_news() -> None:
    qualified = make_deal(stage="qualified", nextStep=None, nextStepDue=None)
    proposal = make_deal(stage="proposal", nextStep=None, nextStepDue=None)
    before = only(generate_insights([qualified], NOW), "no_next_step")
    after = only(generate_insights([proposal], NOW), "no_next_step")
    assert (before.key, after.key) == ("no_next_step:d1:qualified", "no_next_step:d1:proposal")


@pytest.mark.parametrize("days_until", [0, 5])
def test_a_step_due_today_or_later_is_not_overdue(days_until: int) -> None:
    deal = make_deal(nextStepDue=in_days(days_until))
    assert by_rule(generate_insights([deal], NOW), "step_overdue") == []


def test_next_step_overdue_says_how_late_and_what() -> None:
    deal = make_deal(
        stage="qualified", nextStep="Send the security questionnaire", nextStepDue=in_days(-3)
    )
    insight = only(generate_insights([deal], NOW), "step_overdue")
    assert insight.key == f"step_overdue:d1:{in_days(-3)}"
    assert insight.type == "risk"
    assert insight.priority == "high"  # a lone deal is its own top quartile
    assert insight.confidence == 0.9
    assert insight.description == (
        f"'Acme renewal': next step 'Send the security questionnaire' was due on "
        f"{in_days(-3)}, 3 days overdue"
    )
    assert insight.data == {
        "next_step": "Send the security questionnaire",
        "next_step_due": in_days(-3),
        "days_overdue": 3,
        "stage": "qualified",
        "value": 10_000.0,
        "late_stage": False,
        "top_quartile_value": True,  # the only deal is its own top quartile
    }
    assert insight.actions[0] == "Do the step or agree a new date"
    assert (
        "1 day overdue"
        in only(
            generate_insights([make_deal(nextStepDue=in_days(-1))], NOW), "step_overdue"
        ).description
    )


@pytest.mark.parametrize(
    ("stage", "value", "days", "priority"),
    [
        ("qualified", 15e3, 1, "medium"),
        ("qualified", 15e3, 13, "medium"),
        ("qualified", 15e3, 14, "high"),  # two weeks late on any deal
        ("negotiation", 15e3, 1, "high"),  # late stage
        ("prospect", 30e3, 1, "high"),  # top quartile
    ],
)
def test_next_step_overdue_priority(stage: str, value: float, days: int, priority: str) -> None:
    deals = pipeline(value, stage=stage, nextStepDue=in_days(-days))
    insight = only(generate_insights(deals, NOW), "step_overdue")
    assert (insight.deal_id, insight.priority) == ("s", priority)


def test_a_long_step_is_cut_short_in_the_description_only() -> None:
    step = "Walk the buyer's security team through the questionnaire " * 5
    insight = only(
        generate_insights([make_deal(nextStep=step.strip(), nextStepDue=in_days(-1))], NOW),
        "step_overdue",
    )
    assert insight.data["next_step"] == step.strip()
    assert f"'{step[:59]}…' was due on" in insight.description
    assert len(insight.description) < 140


def test_an_overdue_date_without_a_step_asks_for_one() -> None:
    deal = make_deal(nextStep=None, nextStepDue=in_days(-2))
    found = generate_insights([deal], NOW)
    assert by_rule(found, "no_next_step") == []  # the date is a plan; its lateness is the news
    insight = only(found, "step_overdue")
    assert "(no step written)" in insight.description
    assert insight.data["next_step"] is None
    assert insight.actions[0] == "Write down what the step is"


def test_a_new_due_date_gets_a_new_key() -> None:
    first = only(generate_insights([make_deal(nextStepDue=in_days(-2))], NOW), "step_overdue")
    later = NOW + timedelta(days=10)
    moved = make_deal(nextStepDue=in_days(5))
    again = only(generate_insights([moved], later), "step_overdue")
    assert first.key != again.key
    assert again.data["days_overdue"] == 5


@pytest.mark.parametrize("stage", ["won", "lost"])
def test_closed_deals_have_no_next_step_insights(stage: str) -> None:
    for overrides in ({"nextStep": None, "nextStepDue": None}, {"nextStepDue": in_days(-9)}):
        deal = make_deal(stage=stage, **overrides)
        assert generate_insights([deal], NOW) == []
