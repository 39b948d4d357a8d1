"""A CSV import writes in bulk: the same few statements for 500 rows as for 2,000, still in one
transaction (a bad row, a failure or a SIGKILL half-way writes nothing), still idempotent,
and with the deals, history, members and sync outbox the row-by-row import made.

The expected results are worked out here from the generated file itself (which stage each
CRM stage is, when each deal was created and closed, who owns it), not read back from an
import. Every test runs on SQLite and on Postgres (``store`` fixture).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from vectoros_tui.store import deals as deals_module
from vectoros_tui.store import outbox
from vectoros_tui.store.csv_import import ImportFileError, apply_import, plan_import
from vectoros_tui.store.errors import ConflictError
from vectoros_tui.store.owners import address_for
from vectoros_tui.store.tables import (
    Deal,
    DealEvent,
    SyncOutbox,
    SyncRemote,
    User,
    Workspace,
    WorkspaceMember,
)

HEADER = (
    "Opportunity ID,Opportunity Name,Account Name,Amount,Stage,Outcome,Probability (%),"
    "Close Date,Created Date,Closed Date,Opportunity Owner,Loss Reason"
)
# The CRM's stage names, and the stage and outcome each is here.
CRM_STAGES = {
    "Prospecting": ("prospect", None),
    "Qualification": ("qualified", None),
    "Proposal/Price Quote": ("proposal", None),
    "Negotiation/Review": ("negotiation", None),
    "Closed Won": ("closed", "won"),
    "Closed Lost": ("closed", "lost"),
}
OWNERS = ("Ann Rep", "Bob Rep", "cara@example.com", "Dev Rep", "Eve Rep")


@dataclass(frozen=True)
class Row:
    """One line of a generated export, with what it says in this app's terms."""

    source_id: str
    title: str
    company: str
    value: int
    crm_stage: str
    probability: int
    close_date: date
    created: date
    closed: date | None
    owner: str
    lost_reason: str | None

    @property
    def stage(self) -> str:
        return CRM_STAGES[self.crm_stage][0]

    @property
    def outcome(self) -> str | None:
        return CRM_STAGES[self.crm_stage][1]

    def line(self) -> str:
        outcome = (self.outcome or "").capitalize()
        closed = self.closed.isoformat() if self.closed else ""
        return (
            f'{self.source_id},{self.title},{self.company},"${self.value:,}",{self.crm_stage},'
            f"{outcome},{self.probability},{self.close_date:%m/%d/%Y},{self.created.isoformat()},"
            f"{closed},{self.owner},{self.lost_reason or ''}"
        )


def generated(count: int, start: int = 0) -> list[Row]:
    rows = []
    for i in range(start, start + count):
        crm_stage = list(CRM_STAGES)[i % len(CRM_STAGES)]
        _, outcome = CRM_STAGES[crm_stage]
        created = date(2024, 1, 1) + timedelta(days=i % 400)
        closed = created + timedelta(days=1 + i % 30) if outcome else None
        rows.append(
            Row(
                source_id=f"OPP-{i:05}",
                title=f"Deal {i}",
                company=f"Company {i % 37}",
                value=1_000 + (i * 37) % 9_000,
                crm_stage=crm_stage,
                probability={"won": 100, "lost": 0}.get(outcome or "", 5 + (i * 7) % 90),
                close_date=closed or date(2027, 1, 1) + timedelta(days=i % 200),
                created=created,
                closed=closed,
                owner=OWNERS[i % len(OWNERS)],
                lost_reason="Budget" if outcome == "lost" and i % 2 else None,
            )
        )
    return rows


def csv_text(rows: list[Row]) -> str:
    return "\n".join([HEADER, *(r.line() for r in rows)]) + "\n"


def import_rows(store, workspace_id: uuid.UUID, rows: list[Row]):
    plan = plan_import(io.StringIO(csv_text(rows)))
    assert plan.errors == []
    return apply_import(store, workspace_id, plan)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def amount(value: float) -> str:
    """How the history writes an amount: every digit, no ".0" on a whole one."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@contextmanager
def counted(store) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (an executemany is one)."""
    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(store.db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(store.db.engine, "before_cursor_execute", note)


def link(store, workspace_id: uuid.UUID) -> None:
    """Make the workspace a linked one, so its changes are noted in the sync outbox."""
    with store.db.write() as session:
        session.add(
            SyncRemote(
                workspace_id=workspace_id,
                server_url="https://team.example",
                remote_workspace_id="remote",
                dialect="documented",
            )
        )


@dataclass
class Stored:
    deals: dict[str, Deal]  # by source id
    events: dict[uuid.UUID, list[tuple[str, str | None, str | None, datetime]]]
    outbox: dict[uuid.UUID, tuple[str, datetime]]
    emails: dict[uuid.UUID, str]  # member id -> email
    revision: int


def stored(store, workspace_id: uuid.UUID) -> Stored:
    with store.db.read() as session:
        deals = list(session.exec(select(Deal).where(Deal.workspace_id == workspace_id)))
        events: dict[uuid.UUID, list] = {d.id: [] for d in deals}
        for e in session.exec(
            select(DealEvent)
            .join(Deal, Deal.id == DealEvent.deal_id)  # type: ignore[arg-type]
            .where(Deal.workspace_id == workspace_id)
            .order_by(DealEvent.changed_at, DealEvent.field)  # type: ignore[arg-type]
        ):
            events[e.deal_id].append((e.field, e.old_value, e.new_value, e.changed_at))
        pending = {
            o.deal_id: (o.op, o.changed_at)
            for o in session.exec(select(SyncOutbox).where(SyncOutbox.workspace_id == workspace_id))
        }
        emails = dict(
            session.exec(
                select(User.id, User.email)
                .join(WorkspaceMember, WorkspaceMember.user_id == User.id)  # type: ignore[arg-type]
                .where(WorkspaceMember.workspace_id == workspace_id)
            ).all()
        )
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        return Stored(
            {d.source_id or "": d for d in deals},
            events,
            pending,
            emails,
            workspace.deals_revision,
        )


def utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=moment.tzinfo or UTC)


def expect_new(row: Row, deal: Deal, emails: dict[uuid.UUID, str]) -> None:
    """A deal made by importing ``row``, as the file says it is."""
    assert (deal.title, deal.company, deal.value) == (row.title, row.company, float(row.value))
    assert (deal.stage, deal.outcome, deal.probability) == (row.stage, row.outcome, row.probability)
    assert (deal.close_date, deal.lost_reason) == (row.close_date, row.lost_reason)
    assert utc(deal.created_at) == midnight(row.created)
    # A closed deal entered the closed stage when it closed; an open one is counted in its
    # stage from its creation.
    assert utc(deal.closed_at) == (midnight(row.closed) if row.closed else None)
    assert utc(deal.stage_changed_at) == midnight(row.closed or row.created)
    assert deal.version == 1
    assert deal.owner_id is not None and emails[deal.owner_id] == address_for(row.owner)[0]


# --- how many statements ------------------------------------------------------------------


def test_an_import_sends_the_same_few_statements_for_500_rows_as_for_2000(store) -> None:
    """Row by row, 2,000 rows took some 9,000 statements (an INSERT and two flushes each, an
    outbox look-up per row). In bulk: a fixed number, plus at most one more page of a
    multi-row INSERT (SQLite: up to 1,000 rows a page) per 1,000 rows."""
    counts = {}
    for size in (500, 2_000):
        workspace = store.workspaces.create(f"Bulk {size}")
        link(store, workspace.id)
        rows = generated(size)
        plan = plan_import(io.StringIO(csv_text(rows)))
        with counted(store) as sent:
            result = apply_import(store, workspace.id, plan)
        assert (result.created, result.updated) == (size, 0)
        counts[size] = len(sent)
        # Re-importing with every deal changed (a new amount): updates, their history
        # and their outbox entries, in bulk as well.
        changed = [replace(r, value=r.value + 1) for r in rows]
        plan = plan_import(io.StringIO(csv_text(changed)))
        with counted(store) as sent_again:
            result = apply_import(store, workspace.id, plan)
        assert (result.created, result.updated) == (0, size)
        counts[f"{size} again"] = len(sent_again)
    assert counts[2_000] < 50, counts
    assert counts[2_000] - counts[500] <= 4, counts
    assert counts["2000 again"] < 50, counts
    assert counts["2000 again"] - counts["500 again"] <= 4, counts


# --- the same results as row by row -------------------------------------------------------


def test_a_bulk_import_makes_the_deals_history_members_and_outbox_of_the_file(
    store, workspace
) -> None:
    link(store, workspace.id)
    rows = generated(300)
    before = datetime.now(UTC)
    result = import_rows(store, workspace.id, rows)
    assert (result.created, result.updated, result.unchanged) == (300, 0, 0)
    assert sorted(result.new_members) == sorted(
        f"{name} <{email}>" if name else email for email, name in map(address_for, OWNERS)
    )
    now = stored(store, workspace.id)
    assert sorted(now.emails.values()) == sorted(address_for(o)[0] for o in OWNERS)
    assert set(now.deals) == {r.source_id for r in rows}
    for row in rows:
        deal = now.deals[row.source_id]
        expect_new(row, deal, now.emails)
        # Its history: it entered its stage then (what as-of views are rebuilt from).
        assert now.events[deal.id] == [
            ("stage", None, row.stage, midnight(row.closed or row.created))
        ]
        op, noted = now.outbox[deal.id]
        assert op == "upsert" and noted >= before - timedelta(seconds=1)
    assert len(now.outbox) == 300
    # The workspace's revision moved, so cached deal lists are read again.
    assert now.revision > 0


def test_a_bulk_reimport_updates_what_changed_as_edits_one_by_one_would(store, workspace) -> None:
    link(store, workspace.id)
    rows = generated(240)
    import_rows(store, workspace.id, rows)
    first = stored(store, workspace.id)
    open_stages = [s for s, (_, outcome) in CRM_STAGES.items() if outcome is None]

    changed: list[Row] = []
    for i, row in enumerate(rows):
        if i % 4 == 0:  # a new amount
            row = replace(row, value=row.value + 500)
        elif i % 4 == 1 and row.outcome is None:  # an open deal moves on a stage
            following = open_stages[(open_stages.index(row.crm_stage) + 1) % len(open_stages)]
            row = replace(row, crm_stage=following)
        elif i % 4 == 2:  # another rep owns it
            row = replace(row, owner=OWNERS[(OWNERS.index(row.owner) + 1) % 5])
        changed.append(row)
    extra = generated(20, start=240)
    result = import_rows(store, workspace.id, changed + extra)

    edited = {r.source_id for r, old in zip(changed, rows, strict=True) if r != old}
    assert (result.created, result.updated, result.unchanged) == (
        20,
        len(edited),
        240 - len(edited),
    )
    now = stored(store, workspace.id)
    ids_by_email = {email: user_id for user_id, email in now.emails.items()}
    moments = {now.deals[s].updated_at for s in edited}
    assert len(moments) == 1  # one import, one moment
    [moment] = moments
    for new, old in zip(changed, rows, strict=True):
        before, after = first.deals[new.source_id], now.deals[new.source_id]
        if new == old:
            assert after.model_dump() == before.model_dump()
            assert now.events[after.id] == first.events[after.id]
            assert now.outbox[after.id] == first.outbox[after.id]
            continue
        expected_events = list(first.events[after.id])
        if new.value != old.value:
            expected_events.append(("value", amount(old.value), amount(new.value), moment))
        if new.stage != old.stage:
            expected_events.append(("stage", old.stage, new.stage, moment))
            assert utc(after.stage_changed_at) == utc(moment)
        else:
            assert utc(after.stage_changed_at) == utc(before.stage_changed_at)
        if new.owner != old.owner:
            old_id = ids_by_email[address_for(old.owner)[0]]
            new_id = ids_by_email[address_for(new.owner)[0]]
            expected_events.append(("owner", str(old_id), str(new_id), moment))
        assert sorted(now.events[after.id], key=str) == sorted(expected_events, key=str)
        assert (after.value, after.stage, after.version) == (
            float(new.value),
            new.stage,
            before.version + 1,
        )
        assert ids_by_email[address_for(new.owner)[0]] == after.owner_id
        assert utc(after.created_at) == utc(before.created_at)
        # The pending change of the first import folds into this one.
        assert now.outbox[after.id][0] == "upsert"
        assert now.outbox[after.id][1] > first.outbox[after.id][1]
    for row in extra:
        expect_new(row, now.deals[row.source_id], now.emails)
    assert len(now.outbox) == 260


def test_importing_the_same_file_twice_changes_nothing_the_second_time(store, workspace) -> None:
    link(store, workspace.id)
    rows = generated(200)
    import_rows(store, workspace.id, rows)
    first = stored(store, workspace.id)
    again = import_rows(store, workspace.id, rows)
    assert (again.created, again.updated, again.unchanged, again.new_members) == (0, 0, 200, ())
    second = stored(store, workspace.id)
    assert {s: d.model_dump() for s, d in second.deals.items()} == {
        s: d.model_dump() for s, d in first.deals.items()
    }
    assert second.events == first.events  # no history row twice
    assert second.outbox == first.outbox  # nothing new to push
    assert second.emails == first.emails
    assert second.revision == first.revision  # no deal row was even rewritten


# --- all or nothing -----------------------------------------------------------------------


def counts(store) -> tuple[int, ...]:
    with store.db.read() as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Deal, DealEvent, User, WorkspaceMember, SyncOutbox)
        )


def test_a_bad_row_near_the_end_of_a_big_file_writes_nothing(store, workspace) -> None:
    link(store, workspace.id)
    rows = generated(2_000)
    rows[1_990] = replace(rows[1_990], close_date=date(1850, 1, 1))
    plan = plan_import(io.StringIO(csv_text(rows)))
    assert [e.line for e in plan.errors] == [1_992]
    before = counts(store)
    with pytest.raises(ImportFileError, match="line 1992"):
        apply_import(store, workspace.id, plan)
    assert counts(store) == before


def test_a_failure_after_the_deals_are_written_rolls_all_of_it_back(
    store, workspace, monkeypatch
) -> None:
    link(store, workspace.id)
    import_rows(store, workspace.id, generated(100))
    before = counts(store)
    first = stored(store, workspace.id)

    def fail(*args, **kwargs) -> None:
        raise RuntimeError("the disk is full")

    # The last write of the transaction: new deals, their history, the updates and the
    # new members are all written by then.
    monkeypatch.setattr(outbox, "record_created", fail)
    changed = [replace(r, value=r.value + 1) for r in generated(100)]
    with pytest.raises(RuntimeError, match="disk is full"):
        import_rows(store, workspace.id, changed + generated(50, start=100))
    assert counts(store) == before
    after = stored(store, workspace.id)
    assert {s: d.model_dump() for s, d in after.deals.items()} == {
        s: d.model_dump() for s, d in first.deals.items()
    }


def test_a_deal_changed_by_someone_else_during_the_import_refuses_it_all(
    store, workspace, monkeypatch
) -> None:
    """Postgres lets another transaction change a deal between the import's read and its
    write (SQLite's write lock is taken first); the UPDATE then finds an other version."""
    rows = generated(30)
    import_rows(store, workspace.id, rows)
    first = stored(store, workspace.id)
    real = deals_module.matching_deals

    def stale(*args, **kwargs):
        found, adopted = real(*args, **kwargs)
        found["OPP-00007"] = {**found["OPP-00007"], "version": 0}  # read before an edit
        return found, adopted

    monkeypatch.setattr(deals_module, "matching_deals", stale)
    changed = [replace(r, value=r.value + 1) for r in rows]
    with pytest.raises(ConflictError, match="changed by someone else"):
        import_rows(store, workspace.id, changed)
    after = stored(store, workspace.id)
    assert {s: d.model_dump() for s, d in after.deals.items()} == {
        s: d.model_dump() for s, d in first.deals.items()
    }
    assert after.events == first.events


CHILD = """
import os, signal, sys
from vectoros_tui.store import outbox

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

# Called inside the import's transaction once its deals and their history are written.
outbox.record_created = killed
from vectoros_tui.cli import run
sys.exit(run(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_an_import_killed_half_way_leaves_nothing(store, database_url, tmp_path: Path) -> None:
    store.workspaces.create("Team")
    before = counts(store)
    path = tmp_path / "deals.csv"
    path.write_text(csv_text(generated(300)))
    env = {k: v for k, v in os.environ.items() if k != "VECTOROS_TEST_PG_URL"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "--db", database_url, "import", str(path), "-w", "Team"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert counts(store) == before
    # The same file imports whole afterwards.
    [workspace] = store.workspaces.list()
    assert import_rows(store, workspace.id, generated(300)).created == 300


def test_rows_that_leave_fields_out_get_the_columns_defaults(store, workspace) -> None:
    """upsert_many is also given rows not made by clean_deal (an older caller's, a test's):
    what they leave out is what the table's defaults say, as row by row."""
    store.deals.upsert_many(
        workspace.id, [("crm-1", {"title": "Imported", "stage": "prospect", "outcome": None})]
    )
    [deal] = store.deals.list(workspace.id).deals
    assert (deal.title, deal.value, deal.probability, deal.version) == ("Imported", 0.0, 0, 1)
