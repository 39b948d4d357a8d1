"""The as-of rebuilding on arrays against the per-deal one it replaced.

``reference_*`` below is the earlier implementation, record by record (kept here as the
definition the arrays must agree with). Random histories, with ties, reopenings, deals
imported closed, reassignments and texts that are no number or date, are rebuilt both
ways at random moments, and so is a generated workspace read back from the store (SQLite
and Postgres). The training grid's rows are checked against the features of the
reference's records.
"""

from __future__ import annotations

import bisect
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from vectoros_tui.engine.dates import as_utc
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.win_features import DealColumns, OwnerRates, deal_features
from vectoros_tui.engine.win_model import LOST, STILL_OPEN, WON
from vectoros_tui.store.as_of import WorkspaceHistory
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.history_forecast import TrainingGrid
from vectoros_tui.store.tables import Activity, Deal, DealEvent

_TRACKED = ("stage", "outcome", "close_date", "value", "probability")
_READ = (*_TRACKED, "owner")

# --------------------------------------------------------------------- the reference


@dataclass(frozen=True)
class _Change:
    field: str
    old: str | None
    new: str | None
    at: datetime


@dataclass(frozen=True)
class Reference:
    current: Sequence[DealRecord]
    changes: dict[str, list[_Change]]
    activities: dict[str, list[datetime]]

    @classmethod
    def of(cls, current, events, activities) -> Reference:
        """``events`` as (deal id, field, old, new, moment, event id), in any order."""
        changes: dict[str, list[_Change]] = defaultdict(list)
        for deal_id, field, old, new, at, _ in sorted(events, key=lambda e: (e[4], e[5])):
            changes[deal_id].append(_Change(field, old, new, as_utc(at)))
        dates: dict[str, list[datetime]] = defaultdict(list)
        for deal_id, at in sorted(activities, key=lambda a: a[1]):
            dates[deal_id].append(as_utc(at))
        return cls(current, dict(changes), dict(dates))

    def closed_between(self, start: datetime, end: datetime) -> dict[str, DealRecord]:
        found = {}
        for record in self.current:
            if record.created_at is None or record.created_at > end:
                continue
            then = self.record_at(record, end)
            if then.outcome and then.closed_at is not None and start < then.closed_at <= end:
                found[record.id] = then
        return found

    def at(self, moment: datetime, *, open_only: bool = False) -> list[DealRecord]:
        found = []
        for record in self.current:
            if record.created_at is None or record.created_at > moment:
                continue
            if open_only and _closed_then(record, self.changes.get(record.id, []), moment)[0]:
                continue
            found.append(self.record_at(record, moment))
        return found

    def record_at(self, record: DealRecord, moment: datetime) -> DealRecord:
        dates = self.activities.get(record.id, [])
        done = bisect.bisect_right(dates, moment)
        last_activity = dates[done - 1] if done else None
        return _as_of(record, self.changes.get(record.id, []), last_activity, moment)


def _then(
    changes: Sequence[_Change], moment: datetime, field: str, today: Any
) -> tuple[str | None, bool]:
    found: _Change | None = None
    for change in changes:
        if change.field != field:
            continue
        if change.at <= moment:
            found = change
        else:
            return (found.new, True) if found is not None else (change.old, True)
    if found is not None:
        return found.new, True
    return (None if today is None else str(today)), False


def _closed_then(
    record: DealRecord, changes: Sequence[_Change], moment: datetime
) -> tuple[bool, bool]:
    outcome_then, recorded = _then(changes, moment, "outcome", record.outcome)
    if recorded:
        return bool(outcome_then), True
    closed = record.outcome is not None and (record.closed_at is None or record.closed_at <= moment)
    return closed, False


def _as_of(
    record: DealRecord, changes: list[_Change], last_activity: datetime | None, moment: datetime
) -> DealRecord:
    known = [c for c in changes if c.at <= moment]
    stages = [c for c in changes if c.field == "stage"]
    born_closed = bool(stages) and stages[0].old is None and stages[0].new == "closed"
    closed_then, recorded = _closed_then(record, changes, moment)
    values: dict[str, Any] = {}
    for field in _TRACKED:
        text, from_history = _then(changes, moment, field, getattr(record, field))
        values[field] = text
        if not closed_then and born_closed and not from_history and field != "value":
            values[field] = None
    stage = values["stage"] or ""
    outcome = values["outcome"] if closed_then else None
    if not closed_then:
        if stage == "closed" or (born_closed and not stage):
            stage = record.last_open_stage or ""
        outcome = None
    elif outcome is None:
        outcome = record.outcome
    stage_changes = [c.at for c in known if c.field == "stage"]
    closed_at, left_from = record.closed_at, record.last_open_stage
    if closed_then and recorded:
        closing = [c for c in known if c.field == "outcome" and c.new]
        closed_at = closing[-1].at if closing else closed_at
        into_closed = [c for c in known if c.field == "stage" and c.new == "closed"]
        left_from = into_closed[-1].old if into_closed else left_from
    owner_then, _ = _then(changes, moment, "owner", record.owner_id)
    return replace(
        record,
        owner_id=owner_then,
        stage=stage,
        outcome=outcome,
        value=_number(values["value"]),
        probability=_number(values["probability"]),
        close_date=_day(values["close_date"]),
        lost_reason=record.lost_reason if closed_then else None,
        updated_at=max([record.created_at or moment, *(c.at for c in known)]),
        stage_changed_at=stage_changes[-1] if stage_changes else record.created_at,
        closed_at=closed_at if closed_then else None,
        last_activity_at=last_activity,
        close_date_history=tuple(
            day
            for c in known
            if c.field == "close_date" and c.old and (day := _day(c.old)) is not None
        ),
        last_open_stage=left_from if closed_then else None,
    )


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


# --------------------------------------------------------------------- random histories

START = datetime(2025, 1, 1, tzinfo=UTC)
STAGES = ["prospect", "qualified", "proposal", "negotiation", "closed", "", "discovery-call"]
OWNERS = [str(uuid.UUID(int=i + 1)) for i in range(4)]
TEXTS = {
    "stage": [None, *STAGES],
    "outcome": [None, "", "won", "lost", "won", "lost"],
    "close_date": [None, "", "2025-02-03", "2025-03-31", "2025-05-01T00:00:00", "not a date"],
    "value": [None, "", "1000", "2500.5", "1e4", "lots"],
    "probability": [None, "", "10", "45", "90", "100", "?"],
    "owner": [None, *OWNERS],
}


def moment(rng: random.Random) -> datetime:
    """Hours apart, so changes and moments often fall on the same instant."""
    return START + timedelta(hours=rng.randrange(0, 120 * 24, 6))


def key(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def random_history(seed: int, deals: int = 80) -> tuple[list[DealRecord], list, list]:
    rng = random.Random(seed)
    current, events, activities = [], [], []
    for index in range(deals):
        deal_id = key(rng)
        created = None if index % 29 == 5 else moment(rng)
        outcome = rng.choice([None, None, "won", "lost", ""])
        closed_at = rng.choice([None, moment(rng), moment(rng)]) if outcome is not None else None
        if rng.random() < 0.1:
            closed_at = moment(rng)  # reopened since: today open, a close moment kept
        current.append(
            DealRecord(
                id=deal_id,
                title=f"Deal {index}",
                stage=rng.choice(STAGES),
                value=rng.choice([None, 0.0, 1500.0, 1e6 / 3]),
                probability=rng.choice([None, 0.0, 30.0, 75.0]),
                outcome=outcome,
                close_date=rng.choice([None, date(2025, 4, 1), date(2025, 2, 10)]),
                lost_reason=rng.choice([None, "Price"]),
                created_at=created,
                updated_at=created,
                stage_changed_at=created and rng.choice([created, moment(rng)]),
                closed_at=closed_at,
                last_open_stage=rng.choice([None, "proposal", "negotiation", ""]),
                owner_id=rng.choice([None, *OWNERS]),
            )
        )
        if rng.random() < 0.15:  # imported closed: the history starts at the close
            at = moment(rng)
            events.append((deal_id, "stage", None, "closed", at, key(rng)))
            events.append((deal_id, "outcome", None, rng.choice(["won", "lost"]), at, key(rng)))
        for _ in range(rng.randrange(0, 9)):
            field = rng.choice(_READ)
            events.append(
                (
                    deal_id,
                    field,
                    rng.choice(TEXTS[field]),
                    rng.choice(TEXTS[field]),
                    moment(rng),
                    key(rng),
                )
            )
        if rng.random() < 0.3:  # changes of one field made at one moment: by id, then
            field, at = rng.choice(_READ), moment(rng)
            for _ in range(rng.randrange(2, 4)):
                events.append(
                    (
                        deal_id,
                        field,
                        rng.choice(TEXTS[field]),
                        rng.choice(TEXTS[field]),
                        at,
                        key(rng),
                    )
                )
        for _ in range(rng.randrange(0, 4)):
            activities.append((deal_id, moment(rng)))
    # Changes of a deal that is not among the records are left out, as a deal deleted
    # between the two reads would be.
    events.append((key(rng), "stage", None, "prospect", moment(rng), key(rng)))
    return current, events, activities


def as_driver_gives(events, activities, form: str, seed: int) -> tuple[list, list]:
    """Events and activities in no order, as the store reads them, with ids and moments in
    SQLite's raw form (``text``) or Postgres's (``objects``)."""

    def key(deal_id: str) -> Any:
        return deal_id.replace("-", "") if form == "text" else uuid.UUID(deal_id)

    def at(moment: datetime) -> Any:
        return moment.replace(tzinfo=None).isoformat(" ") if form == "text" else moment

    rows = [(key(d), f, old, new, at(t), key(i)) for d, f, old, new, t, i in events]
    random.Random(seed).shuffle(rows)
    return rows, [(key(d), at(t)) for d, t in reversed(activities)]


def moments(seed: int, count: int = 12) -> list[datetime]:
    rng = random.Random(seed)
    found = [moment(rng) for _ in range(count)]
    # Between the hours, and before and after everything.
    found += [START + timedelta(hours=7, microseconds=1), START - timedelta(days=1)]
    return [*found, START + timedelta(days=200)]


@pytest.mark.parametrize("form", ["text", "objects"])
@pytest.mark.parametrize("seed", range(6))
def test_random_histories_are_rebuilt_as_record_by_record(seed: int, form: str) -> None:
    current, events, activities = random_history(seed)
    reference = Reference.of(current, events, activities)
    history = WorkspaceHistory(current, *as_driver_gives(events, activities, form, seed))
    for at in moments(seed):
        assert history.at(at) == reference.at(at)
        assert history.at(at, open_only=True) == reference.at(at, open_only=True)
        for span in (timedelta(hours=6), timedelta(days=30)):
            assert history.closed_between(at - span, at) == reference.closed_between(at - span, at)
            check_arrays(history, reference, at - span, at)


def check_arrays(
    history: WorkspaceHistory, reference: Reference, start: datetime, end: datetime
) -> None:
    """The arrays the training grid and the backtest read say what the records say."""
    ids = [record.id for record in history.current]
    open_then = reference.at(start, open_only=True)
    positions, columns, owners = history.open_columns(start)
    assert [ids[p] for p in positions] == [r.id for r in open_then]
    assert [history.text(code) for code in owners.tolist()] == [r.owner_id for r in open_then]
    expected = DealColumns.of(open_then)
    for name in ("stage", "created", "stage_changed", "value", "close_day", "last_activity"):
        np.testing.assert_array_equal(getattr(columns, name), getattr(expected, name), name)
    np.testing.assert_array_equal(columns.probability, expected.probability)
    closed = reference.closed_between(start, end)
    closings = history.closings(start, end)
    assert [ids[p] for p in closings.position] == list(closed)
    assert closings.won.tolist() == [r.outcome == "won" for r in closed.values()]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [epoch + timedelta(microseconds=t) for t in closings.closed_at.tolist()] == [
        r.closed_at for r in closed.values()
    ]
    assert [None if v != v else v for v in closings.value.tolist()] == [
        r.value for r in closed.values()
    ]
    assert closings.owner == [r.owner_id for r in closed.values()]
    ended, won = history.ended(start, end)
    assert {ids[i] for i in np.flatnonzero(ended)} == set(closed)
    assert {ids[i] for i in np.flatnonzero(won)} == {
        i for i, r in closed.items() if r.outcome == "won"
    }


# --------------------------------------------------------------------- from the store

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def reference_load(store, workspace_id: uuid.UUID, current) -> Reference:
    """The reference, read as the per-deal rebuilding read the store."""
    with store.db.read() as session:
        events = session.execute(
            sa_select(
                col(DealEvent.deal_id),
                col(DealEvent.field),
                col(DealEvent.old_value),
                col(DealEvent.new_value),
                col(DealEvent.changed_at),
                col(DealEvent.id),
            )
            .join(Deal, col(Deal.id) == DealEvent.deal_id)
            .where(col(Deal.workspace_id) == workspace_id, col(DealEvent.field).in_(_READ))
        ).all()
        dates = session.exec(
            select(Activity.deal_id, Activity.date)
            .join(Deal, col(Deal.id) == Activity.deal_id)
            .where(Deal.workspace_id == workspace_id)
        ).all()
    return Reference.of(
        current,
        [(str(d), f, old, new, at, str(i)) for d, f, old, new, at, i in events],
        [(str(d), at) for d, at in dates],
    )


@pytest.fixture
def edited(store):
    """A generated history, then reopenings, reassignments and edits made after it."""
    summary = create_demo_workspace(
        store.db, name="Arrays", deals=300, history_months=12, seed=5, now=NOW
    )
    later = NOW + timedelta(days=1)
    records = store.deals.records(summary.workspace_id)
    members = [m.id for m in store.owners.members(summary.workspace_id)]
    rng = random.Random(1)
    for record in rng.sample(records, 40):
        if record.outcome is not None and rng.random() < 0.5:
            store.deals.reopen(uuid.UUID(record.id))
        elif record.outcome is None:
            store.deals.update(
                uuid.UUID(record.id),
                {"probability": 55, "close_date": date(2025, 8, 1)},
                now=later,
            )
        else:
            store.deals.update(uuid.UUID(record.id), {"owner_id": rng.choice(members)}, now=later)
    return store, summary.workspace_id


@pytest.mark.parametrize("other", [0, 200, 900], ids=["alone", "most", "fewer"])
def test_a_stored_history_is_rebuilt_as_record_by_record(edited, other: int) -> None:
    """Alone in its database or with most of its deals, a workspace's changes are read in
    one pass over the table (the other's left out); with fewer, deal by deal."""
    store, workspace_id = edited
    if other:
        create_demo_workspace(
            store.db, name="Other", deals=other, history_months=12, seed=6, now=NOW
        )
    current = store.deals.records(workspace_id)
    history = WorkspaceHistory.load(store.db, workspace_id, current)
    reference = reference_load(store, workspace_id, current)
    rng = random.Random(2)
    first = history.first_created
    assert first == min(r.created_at for r in current)
    for _ in range(8):
        at = first + timedelta(seconds=rng.randrange(int((NOW - first).total_seconds()) + 86_400))
        assert history.at(at) == reference.at(at)
        assert history.closed_between(at - timedelta(days=30), at) == reference.closed_between(
            at - timedelta(days=30), at
        )
        check_arrays(history, reference, at - timedelta(days=30), at)


def test_the_training_rows_are_the_features_of_the_records_then(edited) -> None:
    store, workspace_id = edited
    current = store.deals.records(workspace_id)
    grid = TrainingGrid(WorkspaceHistory.load(store.db, workspace_id, current), 30)
    reference = reference_load(store, workspace_id, current)
    cutoffs = grid.cutoffs(NOW)
    assert len(cutoffs) >= 8
    # Per cut-off, its open deals' owners and whether each won within the window.
    rows: dict[datetime, tuple[list[str | None], list[bool]]] = {}

    def learned_by(moment: datetime) -> OwnerRates:
        """The owners' rates from the windows that had ended by ``moment``; the windows
        overlap, so each deal's window is told ``grid.overlap`` times."""
        ended = [c for c in rows if c + timedelta(days=30) <= moment]
        owners = [owner for c in ended for owner in rows[c][0]]
        won = [win for c in ended for win in rows[c][1]]
        return OwnerRates.learn(owners, won, repeats=grid.overlap)

    assert grid.overlap == 3
    for cutoff in cutoffs:
        matrix, outcome = grid.block(cutoff)
        open_then = reference.at(cutoff, open_only=True)
        ended = reference.closed_between(cutoff, cutoff + timedelta(days=30))
        expected = deal_features(open_then, cutoff, 30, learned_by(cutoff)).matrix
        np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-12)
        labels = [
            STILL_OPEN if d.id not in ended else WON if ended[d.id].outcome == "won" else LOST
            for d in open_then
        ]
        assert outcome.tolist() == labels
        rows[cutoff] = ([d.owner_id for d in open_then], [label == WON for label in labels])
    learned = learned_by(NOW)
    kept = grid.owner_rates(cutoffs)
    assert kept.base == pytest.approx(learned.base, rel=1e-12)
    assert list(kept.counts) == list(learned.counts)
    for owner, (wins, count) in learned.counts.items():
        assert kept.counts[owner] == pytest.approx((wins, count), rel=1e-12)


def test_moments_are_read_in_every_form_the_drivers_give() -> None:
    from vectoros_tui.store.as_of import _micros_column, micros

    moment = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    expected = [micros(moment)] * 2
    assert _micros_column(["2025-03-01 12:30:05.123456"] * 2).tolist() == expected
    assert _micros_column(["2025-03-01 13:30:05.123456+01:00"] * 2).tolist() == expected
    assert _micros_column([moment, moment.replace(tzinfo=None)]).tolist() == expected
    assert _micros_column(expected).tolist() == expected
