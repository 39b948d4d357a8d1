"""records_as_of: a workspace's deals as they stood at a past moment, from their history.

Histories are built through the store with explicit moments, then read back at moments
between the changes. Every test runs on SQLite and on Postgres (``store`` fixture).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.store.as_of import earliest_created, records_as_of
from vectoros_tui.store.csv_import import apply_import, plan_import
from vectoros_tui.store.tables import Deal


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def as_of(store, workspace, moment: datetime) -> dict[str, DealRecord]:
    current = store.deals.records(workspace.id)
    return {r.title: r for r in records_as_of(store.db, workspace.id, current, moment)}


WON = {"stage": "closed", "outcome": "won", "lost_reason": None, "probability": 100}


def lost(reason: str) -> dict:
    return {"stage": "closed", "outcome": "lost", "lost_reason": reason, "probability": 0}


@dataclass
class History:
    won_later: str  # A
    reopened: str  # B
    created_later: str  # C


def build_history(store, workspace) -> History:
    """A: created 1 Jan (qualified, 30%, 1000, closing 31 Mar); 10 Jan proposal 60%;
    20 Jan worth 1500 and slipped to 30 Apr; 1 Feb won. Calls on 5 and 25 Jan.
    B: created 2 Jan (negotiation, 70%, 500, closing 28 Feb); lost on 15 Jan; reopened on
    25 Jan. C: created 22 Jan (prospect, 10)."""
    deals = store.deals
    a = deals.create(
        workspace.id,
        {
            "title": "A",
            "stage": "qualified",
            "probability": 30,
            "value": 1000,
            "close_date": "2025-03-31",
        },
        now=at(1, 1),
    )
    deals.update(a.id, {"stage": "proposal", "probability": 60}, now=at(1, 10))
    deals.update(a.id, {"value": 1500, "close_date": "2025-04-30"}, now=at(1, 20))
    deals.update(a.id, WON, now=at(2, 1))
    for day in (5, 25):
        store.activities.add(a.id, {"type": "call", "description": "call", "date": at(1, day, 10)})
    b = deals.create(
        workspace.id,
        {
            "title": "B",
            "stage": "negotiation",
            "probability": 70,
            "value": 500,
            "close_date": "2025-02-28",
        },
        now=at(1, 2),
    )
    deals.update(b.id, lost("Price"), now=at(1, 15))
    deals.update(b.id, {"outcome": None}, now=at(1, 25))  # what reopen() does
    c = deals.create(workspace.id, {"title": "C", "stage": "prospect", "value": 10}, now=at(1, 22))
    return History(str(a.id), str(b.id), str(c.id))


@pytest.fixture
def history(store, workspace) -> History:
    return build_history(store, workspace)


# --- which deals -------------------------------------------------------------------------


def test_deals_not_yet_created_are_absent(store, workspace, history: History) -> None:
    assert as_of(store, workspace, at(1, 1, 11)) == {}
    assert set(as_of(store, workspace, at(1, 1))) == {"A"}  # created at that very moment
    assert set(as_of(store, workspace, at(1, 21))) == {"A", "B"}
    assert set(as_of(store, workspace, at(1, 22))) == {"A", "B", "C"}
    ids = {r.id for r in as_of(store, workspace, at(3, 1)).values()}
    assert ids == {history.won_later, history.reopened, history.created_later}


def test_earliest_created(store, workspace) -> None:
    assert earliest_created(store.db, workspace.id) is None
    build_history(store, workspace)
    other = store.workspaces.create("Other")
    store.deals.create(
        other.id,
        {"title": "Older elsewhere", "stage": "prospect"},
        now=datetime(2020, 1, 1, tzinfo=UTC),
    )
    assert earliest_created(store.db, workspace.id) == at(1, 1)
    assert earliest_created(store.db, other.id) == datetime(2020, 1, 1, tzinfo=UTC)


# --- the fields of then ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(1, 5), ("qualified", 30.0, 1000.0, date(2025, 3, 31), at(1, 1))),
        (at(1, 10, 11), ("qualified", 30.0, 1000.0, date(2025, 3, 31), at(1, 1))),
        (at(1, 10), ("proposal", 60.0, 1000.0, date(2025, 3, 31), at(1, 10))),
        (at(1, 19), ("proposal", 60.0, 1000.0, date(2025, 3, 31), at(1, 10))),
        (at(1, 21), ("proposal", 60.0, 1500.0, date(2025, 4, 30), at(1, 10))),
    ],
)
def test_stage_probability_value_and_close_date_are_those_of_then(
    store, workspace, history: History, moment: datetime, expected: tuple
) -> None:
    a = as_of(store, workspace, moment)["A"]
    assert (a.stage, a.probability, a.value, a.close_date, a.stage_changed_at) == expected
    assert (a.outcome, a.closed_at) == (None, None)


def test_a_deal_won_later_is_open_then(store, workspace, history: History) -> None:
    a = as_of(store, workspace, at(1, 31))["A"]
    assert a.is_open
    assert (a.stage, a.outcome, a.closed_at) == ("proposal", None, None)
    assert a.probability == 60.0  # not the 100 it was given when won
    assert a.close_date == date(2025, 4, 30)  # not the day it was won
    assert a.last_open_stage is None
    # Today it is won: the record the store reads now.
    today = {r.title: r for r in store.deals.records(workspace.id)}["A"]
    assert (today.outcome, today.probability) == ("won", 100)


def test_a_deal_closed_by_then_is_closed_with_its_outcome(
    store, workspace, history: History
) -> None:
    a = as_of(store, workspace, at(2, 2))["A"]
    assert not a.is_open
    assert (a.stage, a.outcome, a.probability) == ("closed", "won", 100.0)
    assert a.closed_at == at(2, 1)
    assert a.stage_changed_at == at(2, 1)
    assert a.close_date == date(2025, 2, 1)  # winning moved the close date to that day
    assert a.last_open_stage == "proposal"
    assert as_of(store, workspace, at(2, 1))["A"].outcome == "won"  # closed at that moment


def test_a_deal_closed_then_reopened_is_closed_in_between(
    store, workspace, history: History
) -> None:
    before = as_of(store, workspace, at(1, 14))["B"]
    assert (before.stage, before.outcome, before.probability) == ("negotiation", None, 70.0)

    closed = as_of(store, workspace, at(1, 20))["B"]
    assert not closed.is_open
    assert (closed.stage, closed.outcome, closed.probability) == ("closed", "lost", 0.0)
    assert closed.close_date == date(2025, 1, 15)
    assert closed.stage_changed_at == at(1, 15)

    reopened = as_of(store, workspace, at(1, 26))["B"]
    assert reopened.is_open
    assert (reopened.stage, reopened.outcome, reopened.probability) == ("negotiation", None, 70.0)
    assert (reopened.close_date, reopened.closed_at) == (date(2025, 2, 28), None)
    assert reopened.stage_changed_at == at(1, 25)


def test_a_deal_closed_then_reopened_has_its_close_moment_in_between(
    store, workspace, history: History
) -> None:
    closed = as_of(store, workspace, at(1, 20))["B"]
    assert closed.outcome == "lost"
    assert closed.closed_at == at(1, 15)


def test_later_activities_do_not_count(store, workspace, history: History) -> None:
    assert as_of(store, workspace, at(1, 5, 9))["A"].last_activity_at is None
    assert as_of(store, workspace, at(1, 5, 10))["A"].last_activity_at == at(1, 5, 10)
    assert as_of(store, workspace, at(1, 24))["A"].last_activity_at == at(1, 5, 10)
    assert as_of(store, workspace, at(1, 26))["A"].last_activity_at == at(1, 25, 10)
    assert as_of(store, workspace, at(1, 26))["B"].last_activity_at is None


def test_close_date_history_holds_only_the_slips_made_by_then(
    store, workspace, history: History
) -> None:
    assert as_of(store, workspace, at(1, 19))["A"].close_date_history == ()
    assert as_of(store, workspace, at(1, 21))["A"].close_date_history == (date(2025, 3, 31),)
    assert as_of(store, workspace, at(2, 2))["A"].close_date_history == (
        date(2025, 3, 31),
        date(2025, 4, 30),
    )
    # Today's record has every slip.
    today = {r.title: r for r in store.deals.records(workspace.id)}["A"]
    assert today.close_date_history == (date(2025, 3, 31), date(2025, 4, 30))


def test_a_deal_never_changed_has_todays_fields(store, workspace, history: History) -> None:
    c = as_of(store, workspace, at(1, 23))["C"]
    assert (c.stage, c.probability, c.value, c.close_date, c.outcome) == (
        "prospect",
        10.0,
        10.0,
        None,
        None,
    )
    assert c.stage_changed_at == at(1, 22)


# --- deals imported already closed ---------------------------------------------------------

WITH_CLOSED_DATES = """\
id,Title,Stage,Amount,Probability,Close Date,Created Date,Closed Date,Lost Reason
w,Won,Closed Won,1000,100,2025-03-01,2025-01-01,2025-02-15,
l,Lost,Closed Lost,700,0,2025-04-01,2025-01-05,2025-02-20,Budget
o,Open,Proposal,500,40,2025-06-30,2025-01-10,,
"""
# Maven-style: no closed-date column, a closed deal's close date is the day it closed.
ON_CLOSE_DATES = """\
opportunity_id,product,account,deal_stage,engage_date,close_date,close_value
w,Won,Acme,Won,2025-01-01,2025-02-15,1000
l,Lost,Acme,Lost,2025-01-05,2025-02-20,700
o,Open,Acme,Engaging,2025-01-10,,500
"""


@pytest.mark.parametrize(
    ("text", "options"),
    [
        pytest.param(WITH_CLOSED_DATES, {}, id="closed-date-column"),
        pytest.param(
            ON_CLOSE_DATES,
            {"mapping": {"title": "product"}, "stage_map": {"Engaging": "proposal"}},
            id="maven-close-date",
        ),
    ],
)
def test_a_deal_imported_closed_is_unknown_before_its_close(
    store, workspace, text: str, options: dict
) -> None:
    apply_import(store, workspace.id, plan_import(io.StringIO(text), **options))

    assert set(as_of(store, workspace, at(1, 4))) == {"Won"}
    open_then = as_of(store, workspace, at(2, 14))
    won = open_then["Won"]
    assert won.is_open
    assert (won.stage, won.outcome, won.closed_at) == ("", None, None)
    assert (won.probability, won.close_date) == (None, None)
    assert won.value == 1000.0  # the amount is today's
    lost = open_then["Lost"]
    assert (lost.stage, lost.outcome, lost.probability, lost.close_date) == ("", None, None, None)
    assert lost.lost_reason is None
    # Before the import, an imported open deal's open life is as unknown as a closed
    # one's: reading today's stage back would mark it as the deal that never closes.
    still_open = open_then["Open"]
    assert still_open.is_open
    assert (still_open.stage, still_open.probability, still_open.close_date) == ("", None, None)
    assert still_open.value == 500.0

    after = as_of(store, workspace, at(2, 16))
    won = after["Won"]
    assert (won.stage, won.outcome, won.probability) == ("closed", "won", 100.0)
    assert won.closed_at == datetime(2025, 2, 15, tzinfo=UTC)
    assert won.close_date == (date(2025, 3, 1) if text is WITH_CLOSED_DATES else date(2025, 2, 15))
    lost = after["Lost"]
    assert lost.is_open  # closes on 20 Feb
    assert (lost.stage, lost.probability) == ("", None)

    lost = as_of(store, workspace, at(2, 21))["Lost"]
    assert (lost.stage, lost.outcome, lost.probability) == ("closed", "lost", 0.0)
    assert lost.closed_at == datetime(2025, 2, 20, tzinfo=UTC)
    if text is WITH_CLOSED_DATES:
        assert lost.lost_reason == "Budget"


def test_an_imported_deal_is_known_from_the_import_on(store, workspace) -> None:
    """Open or closed today, a deal from an export is unknown before the import (the file
    says how it stood on its own day) and as the file says from the import on; a deal
    created here is known from its creation."""
    imported_at = datetime.now(UTC)
    apply_import(store, workspace.id, plan_import(io.StringIO(WITH_CLOSED_DATES)))
    store.deals.create(
        workspace.id,
        {"title": "Here", "stage": "qualified", "probability": 30},
        now=at(1, 12),
    )
    with store.db.read() as session:
        observed = dict(
            session.exec(
                select(Deal.title, Deal.observed_at).where(Deal.workspace_id == workspace.id)
            ).all()
        )
    assert observed["Here"] is None
    assert all(observed[t] is not None and observed[t] >= imported_at for t in ("Open", "Won"))

    before = as_of(store, workspace, at(2, 1))
    assert (before["Open"].stage, before["Open"].probability) == ("", None)
    assert (before["Here"].stage, before["Here"].probability) == ("qualified", 30.0)

    after = as_of(store, workspace, datetime.now(UTC) + timedelta(minutes=1))
    opened = after["Open"]
    assert (opened.stage, opened.probability, opened.close_date) == (
        "proposal",
        40.0,
        date(2025, 6, 30),
    )
    assert (after["Won"].stage, after["Won"].outcome) == ("closed", "won")


def test_the_owner_then_is_the_one_before_a_later_reassignment(store, workspace) -> None:
    from vectoros_tui.store.as_of import records_as_of

    ana = store.owners.join(workspace.id, "ana@example.com", "Ana")
    ben = uuid.UUID(store.workspaces.add_member(workspace.id, "ben@example.com")["userId"])
    start = datetime(2025, 1, 10, 12, tzinfo=UTC)
    deal = store.deals.create(
        workspace.id, {"title": "Moved", "stage": "proposal"}, now=start, owner_id=ana
    )
    store.deals.update(deal.id, {"owner_id": ben}, now=start + timedelta(days=30))
    records = store.deals.records(workspace.id)
    assert records[0].owner_id == str(ben)
    before = records_as_of(store.db, workspace.id, records, start + timedelta(days=10))
    after = records_as_of(store.db, workspace.id, records, start + timedelta(days=40))
    assert before[0].owner_id == str(ana)
    assert after[0].owner_id == str(ben)
