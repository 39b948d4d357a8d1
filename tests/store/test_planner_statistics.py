"""A bulk load (a CSV import, a team's demo) refreshes Postgres's planner statistics at
once: where autovacuum is late or off, the first reads after a load were planned for
empty tables. SQLite's planner goes without, and nothing is written for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from vectoros_tui.store.database import BULK_LOAD_ROWS
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TABLES = ("deals", "deal_events", "activities")


def analysed(store: Store) -> dict[str, Any]:
    """When each table's statistics were last gathered by ANALYZE (None: never); on
    SQLite, whether it keeps any statistics at all."""
    with store.db.read() as session:
        if store.db.is_sqlite:
            found = session.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
            ).scalar()
            return {"sqlite statistics tables": found}
        rows = session.execute(
            text(
                "SELECT relname, last_analyze FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname = ANY(:tables)"
            ),
            {"tables": list(TABLES)},
        ).all()
        return dict(rows)


def refreshed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {t for t in TABLES if after.get(t) is not None and after[t] != before.get(t)}


def test_a_demo_workspace_refreshes_the_statistics(store: Store) -> None:
    before = analysed(store)
    create_demo_workspace(
        store.db, name="Team", deals=BULK_LOAD_ROWS, history_months=3, seed=2, now=NOW
    )
    after = analysed(store)
    if store.db.is_sqlite:
        assert after == {"sqlite statistics tables": 0}
    else:
        assert refreshed(before, after) == set(TABLES)


def test_a_large_import_refreshes_them_and_a_small_one_does_not(
    store: Store, workspace: WorkspaceView
) -> None:
    small = [
        (f"s{n}", {"title": f"Small {n}", "value": 100.0, "stage": "prospect"}) for n in range(10)
    ]
    before = analysed(store)
    store.deals.upsert_many(workspace.id, small, now=NOW)
    assert refreshed(before, analysed(store)) == set()
    large = [
        (f"l{n}", {"title": f"Large {n}", "value": 100.0, "stage": "prospect"})
        for n in range(BULK_LOAD_ROWS)
    ]
    store.deals.upsert_many(workspace.id, large, now=NOW)
    after = analysed(store)
    if store.db.is_sqlite:
        assert after == {"sqlite statistics tables": 0}
    else:
        assert refreshed(before, after) == set(TABLES)
