"""The demo's generated history: a sales process played out month by month.

The rows are checked as rows (no database): deterministic, nothing after ``now``, each
deal's events a consistent chain that ends in its stored fields, closed deals closed
properly, stale deals left with overdue close dates, wins bunched at quarter ends. Then
``create_demo_workspace(history_months=...)`` writes them, on SQLite and on Postgres, and
the history model forecasts from them.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.demo import LOST_REASONS, create_demo_workspace
from vectoros_tui.store.demo_history import DAYS_PER_MONTH, HistoryRows, build_history_rows
from vectoros_tui.store.tables import Activity, Deal, DealEvent

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
WORKSPACE = uuid.UUID("00000000-0000-4000-8000-000000000001")
MONTHS = 18
PER_MONTH = 50.0
SEED = 5


def build(seed: int = SEED, now: datetime = NOW) -> HistoryRows:
    return build_history_rows(
        WORKSPACE, months=MONTHS, deals_per_month=PER_MONTH, seed=seed, now=now
    )


@pytest.fixture(scope="module")
def rows() -> HistoryRows:
    return build()


def text(value) -> str | None:
    """A stored field as the events spell it."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def events_by_deal(rows: HistoryRows) -> dict[uuid.UUID, list[dict]]:
    found: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for event in rows.events:
        found[event["deal_id"]].append(event)
    return found


# --------------------------------------------------------------------------- the rows


def test_the_same_seed_and_now_give_the_same_rows(rows):
    again = build()
    assert again.deals == rows.deals
    assert again.events == rows.events
    assert again.activities == rows.activities
    assert again.reps == rows.reps


def test_another_seed_or_now_gives_other_rows(rows):
    assert [d["id"] for d in build(seed=SEED + 1).deals] != [d["id"] for d in rows.deals]
    later = build(now=NOW + timedelta(days=40))
    assert [d["created_at"] for d in later.deals] != [d["created_at"] for d in rows.deals]


def test_the_asked_number_of_deals_over_the_asked_months(rows):
    assert len(rows.deals) == MONTHS * PER_MONTH
    assert (
        len(build_history_rows(WORKSPACE, months=3, deals_per_month=10.4, seed=1, now=NOW).deals)
        == 31
    )
    start = NOW - timedelta(days=MONTHS * DAYS_PER_MONTH)
    created = [d["created_at"] for d in rows.deals]
    assert min(created) >= start
    assert min(created) < start + timedelta(days=10)
    assert max(created) > NOW - timedelta(days=10)
    assert len({d["id"] for d in rows.deals}) == len(rows.deals)
    assert {d["workspace_id"] for d in rows.deals} == {WORKSPACE}
    assert len({d["source_id"] for d in rows.deals}) == len(rows.deals)


def test_nothing_happens_after_now(rows):
    assert all(d["created_at"] < NOW for d in rows.deals)
    assert all(d["updated_at"] <= NOW for d in rows.deals)
    assert all(d["stage_changed_at"] <= NOW for d in rows.deals)
    assert all(d["closed_at"] <= NOW for d in rows.deals if d["closed_at"] is not None)
    assert all(e["changed_at"] <= NOW for e in rows.events)
    assert all(a["date"] <= NOW and a["created_at"] <= NOW for a in rows.activities)
    # ... and nothing before the deal it belongs to was created.
    created = {d["id"]: d["created_at"] for d in rows.deals}
    assert all(e["changed_at"] >= created[e["deal_id"]] for e in rows.events)
    assert all(a["date"] >= created[a["deal_id"]] for a in rows.activities)


def test_updated_at_is_the_deals_last_moment(rows):
    last: dict[uuid.UUID, datetime] = {}
    for item in [*rows.events, *({**a, "changed_at": a["date"]} for a in rows.activities)]:
        at = item["changed_at"]
        last[item["deal_id"]] = max(last.get(item["deal_id"], at), at)
    for deal in rows.deals:
        assert deal["updated_at"] == max(
            deal["created_at"], last.get(deal["id"], deal["created_at"])
        )


def test_events_form_a_chain_per_deal_and_field_ending_in_the_stored_value(rows):
    by_deal = events_by_deal(rows)
    deals = {d["id"]: d for d in rows.deals}
    assert set(by_deal) <= set(deals)
    for deal_id, events in by_deal.items():
        deal = deals[deal_id]
        fields: dict[str, list[dict]] = defaultdict(list)
        for event in events:
            assert event["old_value"] != event["new_value"]
            fields[event["field"]].append(event)
        for field, chain in fields.items():
            # A field's changes are listed in the order they happened.
            assert chain == sorted(chain, key=lambda e: e["changed_at"]), (deal_id, field)
            for previous, event in itertools.pairwise(chain):
                assert event["old_value"] == previous["new_value"], (deal_id, field)
            assert chain[-1]["new_value"] == text(deal[field]), (deal_id, field)
        stage = fields["stage"]
        assert stage[0]["old_value"] is None
        assert stage[0]["new_value"] == "prospect"
        assert stage[0]["changed_at"] == deal["created_at"]
        # Stage by stage: each step is to the next open stage, or to closed.
        for event in stage[1:]:
            if event["new_value"] != "closed":
                old = OPEN_STAGES.index(event["old_value"])
                assert OPEN_STAGES[old + 1] == event["new_value"]
        assert deal["stage_changed_at"] == stage[-1]["changed_at"]


def test_every_deal_has_a_first_stage_event(rows):
    firsts = {e["deal_id"] for e in rows.events if e["field"] == "stage" and e["old_value"] is None}
    assert firsts == {d["id"] for d in rows.deals}


def test_closed_deals_are_closed_properly(rows):
    closed = [d for d in rows.deals if d["outcome"] is not None]
    assert {d["outcome"] for d in closed} == {"won", "lost"}
    reasons = {r for r, _ in LOST_REASONS}
    for deal in closed:
        assert deal["stage"] == "closed"
        assert deal["closed_at"] is not None
        assert deal["stage_changed_at"] == deal["closed_at"]
        assert deal["close_date"] == deal["closed_at"].date()
        if deal["outcome"] == "won":
            assert deal["probability"] == 100
            assert deal["lost_reason"] is None
        else:
            assert deal["probability"] == 0
            assert deal["lost_reason"] in reasons
    for deal in rows.deals:
        if deal["outcome"] is None:
            assert deal["stage"] in OPEN_STAGES
            assert deal["closed_at"] is None
            assert deal["lost_reason"] is None
            assert 5 <= deal["probability"] <= 95
            assert deal["close_date"] is not None


def test_won_deals_went_through_every_stage(rows):
    by_deal = events_by_deal(rows)
    for deal in rows.deals:
        if deal["outcome"] == "won":
            stages = [e["new_value"] for e in by_deal[deal["id"]] if e["field"] == "stage"]
            assert stages == [*OPEN_STAGES, "closed"]


def test_a_realistic_mix_of_outcomes(rows):
    count = len(rows.deals)
    won = sum(d["outcome"] == "won" for d in rows.deals)
    lost = sum(d["outcome"] == "lost" for d in rows.deals)
    assert 0.05 * count < won < 0.3 * count
    assert lost > won
    assert count - won - lost > 30  # an open pipeline today


def test_stale_open_deals_keep_overdue_close_dates(rows):
    by_deal = events_by_deal(rows)
    touched: dict[uuid.UUID, datetime] = defaultdict(lambda: datetime.min.replace(tzinfo=UTC))
    for a in rows.activities:
        touched[a["deal_id"]] = max(touched[a["deal_id"]], a["date"])
    stale = [
        d
        for d in rows.deals
        if d["outcome"] is None
        and d["close_date"] < (NOW - timedelta(days=30)).date()
        and max(e["changed_at"] for e in by_deal[d["id"]]) < NOW - timedelta(days=60)
        and touched[d["id"]] < NOW - timedelta(days=60)
    ]
    assert len(stale) >= 5
    # Some stale deals were cleaned up as lost, went silent, long after they stalled.
    silent = [d for d in rows.deals if d["lost_reason"] == "Went silent"]
    assert silent


def test_close_dates_slip_while_deals_are_alive(rows):
    slips = [
        e
        for e in rows.events
        if e["field"] == "close_date" and e["old_value"] and e["new_value"] > e["old_value"]
    ]
    assert len(slips) > 50
    # A slip happens once the old date has passed, within a week of it.
    for event in slips[:200]:
        old = date.fromisoformat(event["old_value"])
        if event["new_value"] == event["changed_at"].date().isoformat():
            continue  # the close itself sets the close date to its day
        assert old <= event["changed_at"].date() <= old + timedelta(days=7)


def test_reps_differ_in_optimism(rows):
    assert len(rows.reps) == 8
    assert len({rep.optimism for rep in rows.reps}) > 1
    assert all(0 <= rep.optimism <= 20 for rep in rows.reps)


def test_wins_bunch_up_in_the_last_month_of_the_quarter(rows):
    by_month = defaultdict(float)
    for deal in rows.deals:
        if deal["outcome"] == "won":
            by_month[(deal["closed_at"].month - 1) % 3 + 1] += deal["value"]
    assert by_month[3] > by_month[1]
    assert by_month[3] > by_month[2]


def test_activities_belong_to_deals_and_have_known_kinds(rows):
    ids = {d["id"] for d in rows.deals}
    assert rows.activities
    assert {a["deal_id"] for a in rows.activities} <= ids
    assert {a["type"] for a in rows.activities} <= {"email", "call", "meeting", "note"}


# --------------------------------------------------------------------------- written


def count(store, table, workspace_id) -> int:
    with store.db.read() as session:
        query = select(func.count()).select_from(table)
        if table is Deal:
            query = query.where(Deal.workspace_id == workspace_id)
        else:
            query = query.join(Deal, Deal.id == table.deal_id).where(
                Deal.workspace_id == workspace_id
            )
        return session.exec(query).one()


def test_create_demo_workspace_writes_the_history(store):
    summary = create_demo_workspace(
        store.db, name="History", deals=900, history_months=MONTHS, seed=SEED, now=NOW
    )
    expected = build_history_rows(
        summary.workspace_id, months=MONTHS, deals_per_month=900 / MONTHS, seed=SEED, now=NOW
    )
    assert summary.deals == len(expected.deals) == 900
    assert count(store, Deal, summary.workspace_id) == 900
    assert count(store, DealEvent, summary.workspace_id) == len(expected.events)
    assert summary.activities == len(expected.activities)
    assert count(store, Activity, summary.workspace_id) == len(expected.activities)
    records = store.deals.records(summary.workspace_id)
    assert summary.open_deals == sum(r.is_open for r in records)
    assert {w.name: w.id for w in store.workspaces.list()}["History"] == summary.workspace_id
    # Read back as written: timestamps in UTC, outcomes and close dates kept.
    written = {uuid.UUID(r.id): r for r in records}
    for row in expected.deals[:50]:
        record = written[row["id"]]
        assert record.created_at == row["created_at"]
        assert record.outcome == row["outcome"]
        assert record.closed_at == row["closed_at"]
        assert record.close_date == row["close_date"]
        assert record.value == row["value"]

    result = store.analytics.history_forecast(
        summary.workspace_id, simulations=1_000, seed=1, now=NOW
    )
    assert result["model"] == "history"
    assert result["deals_analyzed"] == summary.open_deals
    assert len(result["forecasted_deals"]) == summary.open_deals
    assert (
        result["training"]["won_within_window"]
        >= result["training"]["minimum"]["won_within_window"]
    )
    assert 0 <= result["worst_case"] <= result["likely_case"] <= result["best_case"]


def test_demos_from_one_seed_live_side_by_side(store):
    """Every workspace made from one seed draws the same numbers; their ids must not
    collide in the one database (a second `vectoros demo --name` failed on it)."""
    first = create_demo_workspace(store.db, name="One", deals=120, seed=SEED, now=NOW)
    second = create_demo_workspace(
        store.db, name="Two", deals=120, history_months=6, seed=SEED, now=NOW
    )
    third = create_demo_workspace(
        store.db, name="Three", deals=120, history_months=6, seed=SEED, now=NOW
    )
    ids = [{r.id for r in store.deals.records(s.workspace_id)} for s in (first, second, third)]
    assert all(len(found) == 120 for found in ids)
    assert not (ids[0] & ids[1]) and not (ids[1] & ids[2])
    # Still the seed's: the same seed and workspace give the same ids.
    again = build_history_rows(third.workspace_id, months=6, deals_per_month=20, seed=SEED, now=NOW)
    assert {str(row["id"]) for row in again.deals} == ids[2]
