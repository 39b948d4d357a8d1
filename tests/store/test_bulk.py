"""The bulk statements (store/bulk.py): what they write is what SQLAlchemy's own statements
write, byte for byte, and a look-up of more keys than a statement may have parameters is one
query. Both databases (``store`` fixture)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert, select, text

from vectoros_tui.store.bulk import any_of, insert_rows, read_rows, update_rows
from vectoros_tui.store.tables import Deal, DealEvent, SyncOutbox


def deal_row(workspace_id: uuid.UUID, n: int, moment: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "title": f"Deal {n}",
        "company": None if n % 2 else f"Co {n}",
        "value": 1_000.5 * n,
        "stage": "closed" if n % 3 == 0 else "proposal",
        "probability": 100 if n % 3 == 0 else 40,
        "contact_name": None,
        "contact_email": None,
        "close_date": date(2026, 1 + n % 12, 1 + n % 28),
        "outcome": "won" if n % 3 == 0 else None,
        "lost_reason": None,
        "closed_at": moment if n % 3 == 0 else None,
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "updated_at": moment,
        "stage_changed_at": moment,
        "source_id": f"S{n}",
        "owner_id": None,
        "next_step": None,
        "next_step_due": None,
        "version": 1,
    }


def stored_text(store, ids: list[uuid.UUID]) -> list[tuple]:
    """The deals' columns as the database keeps them (text on SQLite), without the id."""
    table = Deal.__table__  # type: ignore[attr-defined]
    columns = ", ".join(c.name for c in table.columns if c.name != "id")
    with store.db.read() as session:
        rows = session.execute(
            select(table.c.id, text(columns)).select_from(table).where(table.c.id.in_(ids))
        ).all()
    by_id = {row[0]: tuple(str(v) for v in row[1:]) for row in rows}
    return [by_id[i] for i in ids]


def test_insert_rows_stores_what_sqlalchemys_insert_stores(store, workspace) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    mine = [deal_row(workspace.id, n, moment) for n in range(7)]
    theirs = [{**row, "id": uuid.uuid4(), "source_id": f"T{n}"} for n, row in enumerate(mine)]
    with store.db.write() as session:
        insert_rows(session, Deal.__table__, mine)  # type: ignore[attr-defined]
        session.execute(insert(Deal.__table__), theirs)  # type: ignore[attr-defined]
    ours = stored_text(store, [r["id"] for r in mine])
    reference = stored_text(store, [r["id"] for r in theirs])
    source_column = [c.name for c in Deal.__table__.columns if c.name != "id"].index("source_id")  # type: ignore[attr-defined]
    for a, b in zip(ours, reference, strict=True):
        assert (
            a[:source_column] + a[source_column + 1 :] == b[:source_column] + b[source_column + 1 :]
        )
    # Compared in SQL too: a timestamp written either way is the same value.
    with store.db.read() as session:
        same = session.execute(
            text(
                "SELECT count(*) FROM deals a JOIN deals b ON a.updated_at = b.updated_at "
                "AND a.close_date = b.close_date WHERE a.source_id = 'S1' AND b.source_id = 'T1'"
            )
        ).scalar_one()
    assert same == 1


def test_a_look_up_of_more_keys_than_a_statement_has_parameters_is_one_query(
    store, workspace
) -> None:
    moment = datetime(2026, 3, 4, tzinfo=UTC)
    rows = [deal_row(workspace.id, n, moment) for n in range(5)]
    with store.db.write() as session:
        insert_rows(session, Deal.__table__, rows)  # type: ignore[attr-defined]
    table = Deal.__table__  # type: ignore[attr-defined]
    wanted_ids = [r["id"] for r in rows[:3]] + [uuid.uuid4() for _ in range(70_000)]
    wanted_sources = ["S1", "S4"] + [f"X{n}" for n in range(70_000)]
    with store.db.read() as session:
        by_id = session.execute(
            select(table.c.source_id).where(any_of(session, table.c.id, wanted_ids))
        ).scalars()
        assert sorted(by_id) == ["S0", "S1", "S2"]
        by_source = session.execute(
            select(table.c.source_id).where(any_of(session, table.c.source_id, wanted_sources))
        ).scalars()
        assert sorted(by_source) == ["S1", "S4"]


def test_update_rows_matches_on_every_key_and_counts_what_it_changed(store, workspace) -> None:
    moment = datetime(2026, 3, 4, tzinfo=UTC)
    rows = [deal_row(workspace.id, n, moment) for n in range(4)]
    events = [
        {
            "id": uuid.uuid4(),
            "deal_id": row["id"],
            "field": "stage",
            "old_value": None,
            "new_value": row["stage"],
            "changed_at": moment,
        }
        for row in rows
    ]
    later = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    with store.db.write() as session:
        insert_rows(session, Deal.__table__, rows)  # type: ignore[attr-defined]
        insert_rows(session, DealEvent.__table__, events)  # type: ignore[attr-defined]
        changed = update_rows(
            session,
            Deal.__table__,  # type: ignore[attr-defined]
            [
                {"id": rows[0]["id"], "expected": 1, "title": "Renamed", "version": 2},
                {"id": rows[1]["id"], "expected": 7, "title": "Stale", "version": 8},
            ],
            match={"id": "id", "expected": "version"},
        )
        assert changed == 1  # the second row's version is not 7
        moved = update_rows(
            session,
            DealEvent.__table__,  # type: ignore[attr-defined]
            [{"deal_id": r["id"], "old": moment, "changed_at": later} for r in rows[:2]],
            match={"deal_id": "deal_id", "old": "changed_at"},
            where=(DealEvent.__table__.c.field == "stage",),  # type: ignore[attr-defined]
        )
        assert moved == 2
    with store.db.read() as session:
        titles = dict(session.execute(select(Deal.id, Deal.title)).all())
        times = dict(session.execute(select(DealEvent.deal_id, DealEvent.changed_at)).all())
    assert [titles[r["id"]] for r in rows[:2]] == ["Renamed", "Deal 1"]
    assert [times[r["id"]].astimezone(UTC) for r in rows] == [later, later, moment, moment]


def test_insert_rows_upserts_on_a_key(store, workspace) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    later = datetime(2026, 2, 2, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in range(3)]
    table = SyncOutbox.__table__  # type: ignore[attr-defined]
    with store.db.write() as session:
        insert_rows(
            session,
            table,
            [
                {"deal_id": i, "workspace_id": workspace.id, "op": "delete", "changed_at": first}
                for i in ids[:2]
            ],
        )
        insert_rows(
            session,
            table,
            [
                {"deal_id": i, "workspace_id": workspace.id, "op": "upsert", "changed_at": later}
                for i in ids[1:]
            ],
            upsert_on=("deal_id",),
        )
    with store.db.read() as session:
        pending = {
            row.deal_id: (row.op, row.changed_at.astimezone(UTC))
            for row in session.execute(select(table))
        }
    assert pending == {
        ids[0]: ("delete", first),
        ids[1]: ("upsert", later),
        ids[2]: ("upsert", later),
    }


def test_read_rows_gives_what_sqlalchemys_column_types_give(store, workspace) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    rows = [deal_row(workspace.id, n, moment) for n in range(6)]
    table = Deal.__table__  # type: ignore[attr-defined]
    with store.db.write() as session:
        insert_rows(session, table, rows)
    names = [c.name for c in table.columns]
    with store.db.read() as session:
        ours = read_rows(session, table, names, table.c.workspace_id == workspace.id)
        theirs = [dict(r._mapping) for r in session.execute(select(table))]
    key = lambda row: row["source_id"]  # noqa: E731
    assert sorted(ours, key=key) == sorted(theirs, key=key)
    assert {type(v) for r in ours for v in r.values()} == {
        type(v) for r in theirs for v in r.values()
    }
