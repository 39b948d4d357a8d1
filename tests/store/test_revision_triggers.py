"""The workspace revisions kept by triggers on ``deals`` and ``activities``, on SQLite and
Postgres: every committed change moves them, only its own workspace's, and on Postgres a
transaction of many statements bumps each once (bumping per statement updated one row
thousands of times in a bulk load, each update slower than the last)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from vectoros_tui.store.kept_results import KeptResults, Revision
from vectoros_tui.store.store import Store
from vectoros_tui.store.tables import Activity, Deal, Workspace
from vectoros_tui.store.views import WorkspaceView

ROWS = 400


def deal_row(workspace_id: uuid.UUID, n: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "title": f"Deal {n}",
        "value": 1000.0 + n,
        "stage": "lead",
        "probability": 10,
        "created_at": now,
        "updated_at": now,
        "stage_changed_at": now,
        "version": 1,
    }


def revision(store: Store, workspace_id: uuid.UUID) -> Revision:
    found = KeptResults(store.db).revision(workspace_id)
    assert found is not None
    return found


def test_a_transaction_of_many_statements_moves_the_revisions_once_on_postgres(
    store: Store, workspace: WorkspaceView
) -> None:
    other = store.workspaces.create("Other")
    start = revision(store, workspace.id)
    rows = [deal_row(workspace.id, n) for n in range(ROWS)]
    with store.db.write() as session:
        for row in rows:  # a statement per deal, as bulk loads send them
            session.execute(insert(Deal).values(**row))
        for row in rows:
            session.execute(
                insert(Activity).values(
                    id=uuid.uuid4(),
                    deal_id=row["id"],
                    type="call",
                    description="Spoke",
                    date=datetime.now(UTC) - timedelta(days=1),
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        for row in rows[:50]:
            session.execute(update(Deal).where(Deal.id == row["id"]).values(value=5.0))
    loaded = revision(store, workspace.id)
    if store.db.is_sqlite:
        # Per row: cheap in-process, and at least once per change all the same.
        assert loaded.deals == start.deals + ROWS + 50
        assert loaded.activities == start.activities + ROWS
    else:
        assert loaded == Revision(start.deals + 1, start.activities + 1)
    assert revision(store, other.id) == Revision(0, 0)

    # The next transaction bumps again: the flag that the bump is done is the
    # transaction's own.
    with store.db.write() as session:
        session.execute(update(Deal).where(Deal.id == rows[0]["id"]).values(value=6.0))
    assert revision(store, workspace.id).deals == loaded.deals + 1


def test_a_change_rolled_back_leaves_the_revisions_where_they_were(
    store: Store, workspace: WorkspaceView
) -> None:
    start = revision(store, workspace.id)
    try:
        with store.db.write() as session:
            session.execute(insert(Deal).values(**deal_row(workspace.id, 1)))
            raise RuntimeError("the change fails after its first statement")
    except RuntimeError:
        pass
    assert revision(store, workspace.id) == start
    with store.db.read() as session:
        count = session.execute(
            select(Workspace.deals_revision).where(Workspace.id == workspace.id)
        ).scalar_one()
    assert count == start.deals
    # The failed transaction's flag went with it: the next change bumps.
    store.deals.create(workspace.id, {"title": "Acme", "stage": "lead", "value": 10})
    assert revision(store, workspace.id).deals == start.deals + 1


def test_a_savepoint_rolled_back_takes_its_bump_with_it(
    store: Store, workspace: WorkspaceView
) -> None:
    start = revision(store, workspace.id)
    with store.db.write() as session:
        nested = session.begin_nested()
        session.execute(insert(Deal).values(**deal_row(workspace.id, 1)))
        nested.rollback()  # the bump and the note that it was done go with it
        session.execute(insert(Deal).values(**deal_row(workspace.id, 2)))
    assert revision(store, workspace.id).deals == start.deals + 1
