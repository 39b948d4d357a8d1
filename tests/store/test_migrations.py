"""Alembic migrations, on SQLite and Postgres: new databases, old databases, the way back.

Each Postgres test gets its own fresh schema (the shared session schema is already
migrated, so it cannot show what happens to a new or an old database).
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg_schemas import create_pg_schema, drop_pg_schema, require_postgres
from sqlalchemy import bindparam, inspect, text
from sqlmodel import SQLModel

import vectoros_tui.store.tables  # noqa: F401  (registers the tables on the metadata)
from vectoros_tui.store import migrate
from vectoros_tui.store.database import Database, open_database
from vectoros_tui.store.errors import SchemaError, StoreError
from vectoros_tui.store.store import DatabaseUnavailableError, open_store
from vectoros_tui.store.types import UTCDateTime

APP_TABLES = {
    "users",
    "workspaces",
    "workspace_members",
    "deals",
    "deal_events",
    "activities",
    "insights",
    "sync_remotes",
    "sync_outbox",
    "sync_links",
    "sync_conflicts",
    "api_tokens",
    "goals",
    "model_fits",
    "forecast_runs",
    "period_goals",
    "member_goals",
    "sync_activity_outbox",
    "sync_activity_links",
    "kept_results",
}
SEED_TABLES = APP_TABLES - {
    "deal_events",
    "sync_remotes",
    "sync_outbox",
    "sync_links",
    "sync_conflicts",
    "api_tokens",
    "goals",
    "model_fits",
    "forecast_runs",
    "period_goals",
    "member_goals",
    "sync_activity_outbox",
    "sync_activity_links",
    "kept_results",
}
T0 = datetime(2025, 11, 3, 9, 15, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    require_postgres()
    schema, url = create_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def db(empty_url: str) -> Iterator[Database]:
    opened = open_database(empty_url)
    yield opened
    opened.dispose()


def table_names(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema_differences(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


# --------------------------------------------------------------------------- raw seed data

_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "id": sa.Uuid(),
    "owner_id": sa.Uuid(),
    "workspace_id": sa.Uuid(),
    "user_id": sa.Uuid(),
    "deal_id": sa.Uuid(),
    "created_at": UTCDateTime(),
    "updated_at": UTCDateTime(),
    "closed_at": UTCDateTime(),
    "date": UTCDateTime(),
    "close_date": sa.Date(),
    "data": sa.JSON(),
    "actions": sa.JSON(),
    "is_read": sa.Boolean(),
}


def insert(connection: sa.Connection, table: str, **values: Any) -> None:
    """A plain INSERT naming only the given (0001-era) columns."""
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({params})").bindparams(
        *(bindparam(name, type_=_TYPES[name]) for name in values if name in _TYPES)
    )
    connection.execute(statement, values)


SEED = {
    "user": uuid.uuid4(),
    "workspace": uuid.uuid4(),
    "open": uuid.uuid4(),
    "won": uuid.uuid4(),
    "lost": uuid.uuid4(),
    "activities": [uuid.uuid4() for _ in range(4)],
    "insight_deal": uuid.uuid4(),
    "insight_ws": uuid.uuid4(),
}
UPDATED = {"open": T0 + timedelta(days=3), "won": T0 + timedelta(days=5), "lost": T0}


def seed_old_database(db: Database) -> None:
    """Rows as the original platform wrote them, with schema 0001's columns only."""
    stamps = {"created_at": T0, "updated_at": T0}
    with db.engine.begin() as conn:
        insert(conn, "users", id=SEED["user"], email="ann@example.com", name="Ann", **stamps)
        insert(
            conn,
            "workspaces",
            id=SEED["workspace"],
            name="Legacy",
            owner_id=SEED["user"],
            **stamps,
        )
        insert(
            conn,
            "workspace_members",
            id=uuid.uuid4(),
            workspace_id=SEED["workspace"],
            user_id=SEED["user"],
            role="owner",
            created_at=T0,
        )
        for name, stage, outcome, reason in (
            ("open", "proposal", None, None),
            ("won", "closed", "won", None),
            ("lost", "closed", "lost", "Price"),
        ):
            insert(
                conn,
                "deals",
                id=SEED[name],
                workspace_id=SEED["workspace"],
                title=f"Legacy {name}",
                company="Initech",
                value=1000.5,
                stage=stage,
                probability=50,
                contact_name=None,
                contact_email="bill@initech.example",
                close_date=date(2026, 1, 31),
                outcome=outcome,
                lost_reason=reason,
                closed_at=UPDATED[name] if outcome else None,
                created_at=T0,
                updated_at=UPDATED[name],
            )
        for i, activity_id in enumerate(SEED["activities"]):
            insert(
                conn,
                "activities",
                id=activity_id,
                deal_id=SEED["open"] if i < 3 else SEED["lost"],
                type="call",
                description=f"Call {i}",
                date=T0 + timedelta(hours=i),
                **stamps,
            )
        for key, deal in (("insight_deal", SEED["open"]), ("insight_ws", None)):
            insert(
                conn,
                "insights",
                id=SEED[key],
                workspace_id=SEED["workspace"],
                deal_id=deal,
                type="risk",
                priority="high",
                title=f"Old {key}",
                description="From the old platform",
                confidence=0.8,
                data={"value": 1000.5},
                actions=["Call Bill"],
                is_read=key == "insight_deal",
                **stamps,
            )


def row_counts(db: Database, tables: set[str]) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() for t in tables}


SEED_COUNTS = {
    "users": 1,
    "workspaces": 1,
    "workspace_members": 1,
    "deals": 3,
    "activities": 4,
    "insights": 2,
}


# --------------------------------------------------------------------------- new databases


def test_new_database_upgraded_to_head_has_every_table(db: Database) -> None:
    assert migrate.current_revision(db) is None
    assert not migrate.is_up_to_date(db)
    migrate.upgrade(db)
    assert table_names(db) == APP_TABLES | {"alembic_version"}
    assert migrate.current_revision(db) == migrate.head_revision()
    assert migrate.is_up_to_date(db)


def test_every_model_table_is_created_by_the_migrations(db: Database) -> None:
    migrate.upgrade(db)
    assert set(SQLModel.metadata.tables) <= table_names(db)


def test_models_match_the_migrations(db: Database) -> None:
    migrate.upgrade(db)
    assert schema_differences(db) == []


def test_upgrading_twice_is_harmless(db: Database) -> None:
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert migrate.is_up_to_date(db)


def test_open_store_creates_the_schema_by_default(empty_url: str) -> None:
    store = open_store(empty_url)
    try:
        workspace = store.workspaces.create("New")
        assert store.workspaces.resolve(None).id == workspace.id
    finally:
        store.close()


# --------------------------------------------------------------------------- old databases


def test_old_database_keeps_every_row_and_is_backfilled(db: Database, empty_url: str) -> None:
    migrate.upgrade(db, "0001")
    assert table_names(db) == SEED_TABLES | {"alembic_version"}
    seed_old_database(db)

    migrate.upgrade(db)

    assert migrate.is_up_to_date(db)
    assert row_counts(db, SEED_TABLES) == SEED_COUNTS
    assert row_counts(db, {"deal_events"}) == {"deal_events": 0}
    store = open_store(empty_url, upgrade=False)
    try:
        for name in ("open", "won", "lost"):
            deal = store.deals.get(SEED[name])
            assert deal.version == 1
            assert deal.stage_changed_at == UPDATED[name]
            assert deal.updated_at == UPDATED[name]
            assert deal.created_at == T0
            assert deal.source_id is None
            assert deal.close_date == date(2026, 1, 31)
            assert deal.value == 1000.5
        assert store.deals.get(SEED["lost"]).lost_reason == "Price"
        assert store.deals.get(SEED["won"]).closed_at == UPDATED["won"]

        # Activities survive: SQLite's batch rebuild of `deals` must not cascade-delete them.
        timeline = store.activities.list(SEED["open"])
        assert [a.id for a in timeline] == list(reversed(SEED["activities"][:3]))
        assert timeline[0].date == T0 + timedelta(hours=2)
        assert [a.id for a in store.activities.list(SEED["lost"])] == [SEED["activities"][3]]

        insights = store.insights.list(SEED["workspace"])
        assert {i.id for i in insights} == {SEED["insight_deal"], SEED["insight_ws"]}
        for insight in insights:
            assert insight.is_dismissed is False
            assert insight.rule_key is None
            assert insight.data == {"value": 1000.5}
            assert insight.actions == ["Call Bill"]
        by_id = {i.id: i for i in insights}
        assert by_id[SEED["insight_deal"]].is_read is True
        assert by_id[SEED["insight_deal"]].deal_id == SEED["open"]
        assert by_id[SEED["insight_ws"]].is_read is False
        assert store.workspaces.members(SEED["workspace"]) == [
            {"email": "ann@example.com", "name": "Ann", "role": "owner"}
        ]
        assert [w.deal_count for w in store.workspaces.list()] == [3]
    finally:
        store.close()


def test_upgraded_old_database_works_like_a_new_one(db: Database, empty_url: str) -> None:
    migrate.upgrade(db, "0001")
    seed_old_database(db)
    migrate.upgrade(db)
    assert schema_differences(db) == []

    store = open_store(empty_url, upgrade=False)
    try:
        moved = store.deals.update(SEED["open"], {"stage": "negotiation"}, expected_version=1)
        assert moved.version == 2
        with pytest.raises(StoreError):
            store.deals.update(SEED["open"], {"value": 1}, expected_version=1)
        assert [(h["from"], h["to"]) for h in store.deals.history(SEED["open"])] == [
            ("proposal", "negotiation")
        ]
        store.deals.upsert_many(
            SEED["workspace"],
            [("crm-1", {"title": "Imported", "stage": "prospect", "outcome": None})],
        )
        # Foreign keys (with their ON DELETE CASCADE) still hold after the table rebuilds.
        store.deals.delete(SEED["open"])
        assert row_counts(db, {"activities", "insights", "deal_events"}) == {
            "activities": 1,
            "insights": 1,
            "deal_events": 1,  # the imported deal's creation
        }
        store.workspaces.delete(SEED["workspace"])
        assert row_counts(db, {"deals", "activities", "insights", "workspace_members"}) == {
            "deals": 0,
            "activities": 0,
            "insights": 0,
            "workspace_members": 0,
        }
    finally:
        store.close()


def test_sqlite_foreign_keys_are_back_on_after_migrating(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'fk.sqlite3'}")
    try:
        migrate.upgrade(db, "0001")
        seed_old_database(db)
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            insert(
                conn,
                "activities",
                id=uuid.uuid4(),
                deal_id=uuid.uuid4(),
                type="call",
                description="orphan",
                date=T0,
                created_at=T0,
                updated_at=T0,
            )
    finally:
        db.dispose()


# --------------------------------------------------------------------------- the way back


def test_downgrade_to_base_and_upgrade_again(db: Database) -> None:
    migrate.upgrade(db)
    migrate.downgrade(db, "base")
    assert table_names(db) - {"alembic_version"} == set()
    assert migrate.current_revision(db) is None

    migrate.upgrade(db)
    assert table_names(db) == APP_TABLES | {"alembic_version"}
    assert migrate.is_up_to_date(db)
    assert schema_differences(db) == []


def test_downgrade_to_0001_keeps_the_data(db: Database) -> None:
    migrate.upgrade(db, "0001")
    seed_old_database(db)
    migrate.upgrade(db)
    migrate.downgrade(db, "0001")

    assert migrate.current_revision(db) == "0001"
    assert table_names(db) == SEED_TABLES | {"alembic_version"}
    assert row_counts(db, SEED_TABLES) == SEED_COUNTS
    columns = {c["name"] for c in inspect(db.engine).get_columns("deals")}
    assert {"version", "stage_changed_at", "source_id"}.isdisjoint(columns)

    migrate.upgrade(db)
    assert row_counts(db, SEED_TABLES) == SEED_COUNTS
    assert schema_differences(db) == []


# --------------------------------------------------------------------------- opening


def test_open_store_without_upgrade_on_an_empty_database_says_what_to_run(
    empty_url: str,
) -> None:
    with pytest.raises(SchemaError) as info:
        open_store(empty_url, upgrade=False)
    message = str(info.value)
    assert migrate.head_revision() in message
    assert "run `vectoros" in message
    assert "upgrade" in message


def test_open_store_without_upgrade_on_an_old_database_names_both_versions(
    db: Database, empty_url: str
) -> None:
    migrate.upgrade(db, "0001")
    with pytest.raises(SchemaError) as info:
        open_store(empty_url, upgrade=False)
    message = str(info.value)
    assert "0001" in message
    assert migrate.head_revision() in message
    assert "upgrade" in message
    # Nothing was changed behind the user's back.
    assert migrate.current_revision(db) == "0001"


def _stamp_newer(db: Database) -> None:
    """As if a teammate's newer vectoros had migrated the shared database further."""
    migrate.upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))


def test_newer_database_without_upgrade_does_not_advise_upgrading(
    db: Database, empty_url: str
) -> None:
    """This program does not know schema 9999: upgrading cannot help, a newer vectoros can."""
    _stamp_newer(db)
    with pytest.raises(SchemaError) as info:
        open_store(empty_url, upgrade=False)
    message = str(info.value)
    assert "9999" in message
    assert "--upgrade" not in message


def test_newer_database_with_upgrade_is_a_schema_error(db: Database, empty_url: str) -> None:
    """Opening must fail with a StoreError saying so, not with Alembic's CommandError."""
    _stamp_newer(db)
    with pytest.raises(SchemaError) as info:
        open_store(empty_url, upgrade=True)
    assert "9999" in str(info.value)


PASSWORD = "hunter2-very-secret"


@pytest.mark.parametrize("upgrade", [False, True], ids=["no-upgrade", "upgrade"])
@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://rep:{PASSWORD}@127.0.0.1:1/vectoros",
        f"postgres://rep:{PASSWORD}@127.0.0.1:1/vectoros",
    ],
    ids=["psycopg", "postgres-scheme"],
)
def test_unreachable_postgres_is_unavailable_without_leaking_the_password(
    url: str, upgrade: bool
) -> None:
    with pytest.raises(DatabaseUnavailableError) as info:
        open_store(url, upgrade=upgrade)
    error = info.value
    message = str(error)
    assert "127.0.0.1" in message
    assert PASSWORD not in message
    assert PASSWORD not in repr(error)
    assert PASSWORD not in "".join(traceback.format_exception(error))


def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    with pytest.raises(DatabaseUnavailableError) as info:
        open_store(url, upgrade=False)
    assert "no-such-folder" in str(info.value)


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "vectoros.sqlite3"
    path.write_text("these are my notes, not a database\n")
    with pytest.raises(DatabaseUnavailableError) as info:
        open_store(f"sqlite:///{path}")
    assert "file is not a database" in str(info.value)
    assert str(path) in str(info.value)
    assert path.read_text() == "these are my notes, not a database\n", "left as it was"
