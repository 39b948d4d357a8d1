"""Closing a deal dates it; reopening one puts it back where it was. DealService on SQLite
and Postgres, at the real clock: "today" is the UTC date when the deal closed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from vectoros_tui.engine.stages import DEFAULT_PROBABILITY
from vectoros_tui.store.errors import ConflictError
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import DealView, WorkspaceView


def utc_today() -> date:
    return datetime.now(UTC).date()


def new_deal(store: Store, workspace: WorkspaceView, **fields: Any) -> DealView:
    data: dict[str, Any] = {"title": "Initech rollout", "stage": "proposal", "value": 20000}
    data.update(fields)
    return store.deals.create(workspace.id, data)


def closed_today(deal: DealView, before: date) -> None:
    """``deal`` closed in this call and carries the UTC date it closed on."""
    assert deal.closed_at is not None
    assert deal.close_date == deal.closed_at.astimezone(UTC).date()
    assert deal.close_date in (before, utc_today())  # the call may straddle midnight


def open_ids(store: Store, workspace: WorkspaceView) -> set[uuid.UUID]:
    return {d.id for d in store.deals.list(workspace.id, outcome="open", limit=1000).deals}


def history(store: Store, deal_id: uuid.UUID, field: str) -> list[tuple[str | None, str | None]]:
    return [(h["from"], h["to"]) for h in store.deals.history(deal_id) if h["field"] == field]


# =========================================================================== closing


@pytest.mark.parametrize("close", ["won", "lost"])
def test_closing_moves_a_close_date_still_ahead_to_today(
    store: Store, workspace: WorkspaceView, close: str
) -> None:
    planned = utc_today() + timedelta(days=45)
    deal = new_deal(store, workspace, close_date=planned)
    before = utc_today()
    if close == "won":
        closed = store.deals.mark_won(deal.id)
    else:
        closed = store.deals.mark_lost(deal.id, "Price")
    closed_today(closed, before)
    assert closed.outcome == close
    assert store.deals.get(deal.id) == closed
    # The planned date stays in the history (a slipped-then-closed deal is visible).
    assert history(store, deal.id, "close_date") == [
        (planned.isoformat(), closed.close_date.isoformat())
    ]


def test_winning_keeps_a_close_date_already_past(store: Store, workspace: WorkspaceView) -> None:
    past = utc_today() - timedelta(days=20)
    deal = new_deal(store, workspace, close_date=past)
    won = store.deals.mark_won(deal.id)
    assert won.close_date == past
    assert won.closed_at is not None
    assert history(store, deal.id, "close_date") == []


def test_winning_a_deal_without_a_close_date_dates_it_today(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    assert deal.close_date is None
    before = utc_today()
    won = store.deals.mark_won(deal.id)
    closed_today(won, before)
    assert history(store, deal.id, "close_date") == [(None, won.close_date.isoformat())]


@pytest.mark.parametrize("days", [+60, -10])
def test_a_close_date_given_with_the_outcome_is_kept(
    store: Store, workspace: WorkspaceView, days: int
) -> None:
    deal = new_deal(store, workspace, close_date=utc_today() + timedelta(days=5))
    given = utc_today() + timedelta(days=days)
    won = store.deals.update(deal.id, {"outcome": "won", "stage": "closed", "close_date": given})
    assert (won.outcome, won.close_date) == ("won", given)
    assert won.closed_at is not None


def test_closing_by_the_won_stage_alias_also_dates_it_today(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, close_date=utc_today() + timedelta(days=30))
    before = utc_today()
    won = store.deals.update(deal.id, {"stage": "won"})
    assert won.outcome == "won"
    closed_today(won, before)


def test_a_closed_deal_changing_outcome_keeps_its_close_date(
    store: Store, workspace: WorkspaceView
) -> None:
    past = utc_today() - timedelta(days=3)
    deal = new_deal(store, workspace, stage="won", close_date=past)
    lost = store.deals.mark_lost(deal.id, "Contract cancelled")
    assert (lost.outcome, lost.close_date) == ("lost", past)


# =========================================================================== reopening


def test_reopen_puts_a_lost_deal_back_where_it_was(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    lost = store.deals.mark_lost(deal.id, "Price")
    assert (lost.stage, lost.probability, lost.lost_reason) == ("closed", 0, "Price")
    assert deal.id not in open_ids(store, workspace)
    assert store.deals.before_closing(deal.id) == ("proposal", 40)

    reopened = store.deals.reopen(deal.id, expected_version=lost.version)
    assert (reopened.stage, reopened.probability) == ("proposal", 40)
    assert (reopened.outcome, reopened.lost_reason, reopened.closed_at) == (None, None, None)
    assert reopened.is_open
    assert reopened.version == lost.version + 1
    assert store.deals.get(deal.id) == reopened
    assert deal.id in open_ids(store, workspace)
    assert deal.id not in {
        d.id for d in store.deals.list(workspace.id, outcome="lost", limit=1000).deals
    }


def test_reopen_returns_to_the_last_open_stage_not_the_first(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="prospect", probability=10)
    store.deals.update(deal.id, {"stage": "qualified", "probability": 30})
    store.deals.update(deal.id, {"stage": "negotiation", "probability": 80})
    store.deals.mark_won(deal.id)
    reopened = store.deals.reopen(deal.id)
    assert (reopened.stage, reopened.probability, reopened.outcome) == ("negotiation", 80, None)
    assert deal.id not in {
        d.id for d in store.deals.list(workspace.id, outcome="won", limit=1000).deals
    }


def test_reopen_with_a_stale_version_is_a_conflict(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    lost = store.deals.mark_lost(deal.id, "Price")
    with pytest.raises(ConflictError):
        store.deals.reopen(deal.id, expected_version=lost.version - 1)
    assert store.deals.get(deal.id) == lost


def test_clearing_the_outcome_reopens_like_reopen(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    store.deals.mark_lost(deal.id, "Price")
    reopened = store.deals.update(deal.id, {"outcome": None})
    assert (reopened.stage, reopened.probability) == ("proposal", 40)
    assert (reopened.outcome, reopened.lost_reason, reopened.closed_at) == (None, None, None)
    assert deal.id in open_ids(store, workspace)


def test_reopening_honours_the_stage_and_probability_it_is_given(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    store.deals.mark_lost(deal.id, "Price")
    reopened = store.deals.update(
        deal.id, {"outcome": None, "stage": "qualified", "probability": 15}
    )
    assert (reopened.stage, reopened.probability, reopened.outcome) == ("qualified", 15, None)
    assert reopened.lost_reason is None
    assert deal.id in open_ids(store, workspace)


@pytest.mark.parametrize("stage", ["won", "lost"])
def test_a_deal_created_closed_reopens_at_the_first_stage_and_its_default_probability(
    store: Store, workspace: WorkspaceView, stage: str
) -> None:
    """No open stage in its history: the first stage, and clean_deal's default for it
    (not the 100 or 0 it had while closed)."""
    deal = new_deal(store, workspace, stage=stage)
    assert deal.outcome == stage and deal.stage == "closed"
    assert store.deals.before_closing(deal.id) == ("prospect", None)
    reopened = store.deals.reopen(deal.id)
    assert reopened.stage == "prospect"
    assert reopened.probability == DEFAULT_PROBABILITY["prospect"]
    assert (reopened.outcome, reopened.lost_reason, reopened.closed_at) == (None, None, None)
    assert deal.id in open_ids(store, workspace)


# =========================================================================== history


def test_history_keeps_value_and_probability_as_readable_text(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="proposal", value=45000, probability=40)
    store.deals.update(deal.id, {"value": "52,000.50", "probability": 60})
    store.deals.update(deal.id, {"value": 52000.5})  # unchanged: no new event
    store.deals.mark_won(deal.id)
    store.deals.reopen(deal.id)
    assert history(store, deal.id, "value") == [("45000", "52000.5")]
    assert history(store, deal.id, "probability") == [
        ("40", "60"),
        ("60", "100"),
        ("100", "60"),
    ]
    assert history(store, deal.id, "outcome") == [(None, "won"), ("won", None)]
    assert history(store, deal.id, "stage") == [
        (None, "proposal"),
        ("proposal", "closed"),
        ("closed", "proposal"),
    ]


def test_history_keeps_every_digit_of_a_large_value(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, value=123456.78)
    store.deals.update(deal.id, {"value": 1234567})
    assert history(store, deal.id, "value") == [("123456.78", "1234567")]


def test_a_won_then_lost_deal_reopens_where_it_was_before_it_first_closed(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    store.deals.mark_won(deal.id)
    store.deals.mark_lost(deal.id, "Contract cancelled")
    reopened = store.deals.reopen(deal.id)
    assert (reopened.stage, reopened.probability) == ("proposal", 40)


def test_reopening_puts_back_the_close_date_closing_moved(
    store: Store, workspace: WorkspaceView
) -> None:
    planned = date(2099, 6, 30)
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    store.deals.update(deal.id, {"close_date": planned})
    assert store.deals.mark_lost(deal.id, "Price").close_date != planned
    assert store.deals.reopen(deal.id).close_date == planned
