"""The next-step insight rules through the store, on SQLite and on Postgres: the store
hands the rules each deal's next step and due date, regenerating keeps a step's insight
while its situation lasts and removes it once the step is set or moved, and a dismissed
overdue step comes back when a new due date passes too."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vectoros_tui.store.store import Store
from vectoros_tui.store.views import DealView, InsightView, WorkspaceView

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def days(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def new_deal(store: Store, workspace: WorkspaceView, **fields: Any) -> DealView:
    data: dict[str, Any] = {
        "title": "Acme renewal",
        "stage": "negotiation",
        "value": 50_000,
        "close_date": days(30),
        "contact_name": "Jane Doe",
        "contact_email": "jane@acme.test",
    }
    data.update(fields)
    return store.deals.create(workspace.id, data, now=NOW - timedelta(days=2))


def regenerate(store: Store, workspace: WorkspaceView, now: datetime = NOW) -> list[InsightView]:
    store.analytics.regenerate_insights(workspace.id, now=now)
    return store.insights.list(workspace.id)


def of_rule(insights: list[InsightView], rule: str, deal_id: uuid.UUID) -> list[InsightView]:
    return [
        i for i in insights if i.deal_id == deal_id and (i.rule_key or "").split(":")[0] == rule
    ]


def test_a_deal_without_a_next_step_gets_an_insight_until_it_has_one(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    planned = new_deal(store, workspace, title="Planned", next_step="Demo", next_step_due=days(2))
    found = regenerate(store, workspace)
    (insight,) = of_rule(found, "no_next_step", deal.id)
    assert insight.rule_key == f"no_next_step:{deal.id}:negotiation"
    assert insight.priority in ("medium", "high")
    assert (
        "Nobody has said what happens next on 'Acme renewal' in negotiation" in insight.description
    )
    assert of_rule(found, "no_next_step", planned.id) == []

    store.deals.update(deal.id, {"next_step": "Send the order form", "next_step_due": days(3)})
    assert of_rule(regenerate(store, workspace), "no_next_step", deal.id) == []


def test_an_overdue_step_is_reported_with_its_text_and_lateness(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, next_step="Send the security review", next_step_due=days(-4))
    (insight,) = of_rule(regenerate(store, workspace), "step_overdue", deal.id)
    assert insight.rule_key == f"step_overdue:{deal.id}:{days(-4).isoformat()}"
    assert insight.priority == "high"  # late stage
    assert insight.data["days_overdue"] == 4
    assert insight.data["next_step"] == "Send the security review"
    assert "'Send the security review'" in insight.description
    assert "4 days overdue" in insight.description

    # The next day the same insight is updated, not duplicated.
    later = regenerate(store, workspace, NOW + timedelta(days=1))
    (again,) = of_rule(later, "step_overdue", deal.id)
    assert (again.id, again.data["days_overdue"]) == (insight.id, 5)

    # Moving the date into the future removes it.
    store.deals.update(deal.id, {"next_step_due": days(5)})
    assert of_rule(regenerate(store, workspace), "step_overdue", deal.id) == []


def test_a_dismissed_overdue_step_returns_when_a_new_date_passes(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, next_step="Call the CFO", next_step_due=days(-1))
    (first,) = of_rule(regenerate(store, workspace), "step_overdue", deal.id)
    store.insights.dismiss(first.id)
    assert of_rule(regenerate(store, workspace), "step_overdue", deal.id) == []

    store.deals.update(deal.id, {"next_step_due": days(3)})
    later = NOW + timedelta(days=6)
    (second,) = of_rule(regenerate(store, workspace, later), "step_overdue", deal.id)
    assert second.id != first.id
    assert second.data["days_overdue"] == 3
    assert not second.is_dismissed


def test_closed_deals_raise_no_next_step_insights(store: Store, workspace: WorkspaceView) -> None:
    won = new_deal(store, workspace, stage="won", next_step_due=days(-10))
    lost = new_deal(store, workspace, stage="lost", title="Gone")
    found = regenerate(store, workspace)
    for deal in (won, lost):
        for rule in ("no_next_step", "step_overdue"):
            assert of_rule(found, rule, deal.id) == []
