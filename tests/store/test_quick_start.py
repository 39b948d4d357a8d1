"""The first frame's board, read with the driver alone (store.quick_start: sqlite3 or
psycopg): it must show what the store itself would show, on SQLite and Postgres, and give
up (None) whenever it is unsure, so that the normal start-up path handles the case."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from vectoros_tui.store.board import CARD_FIELDS
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.quick_start import QuickStart, read_quick_start, read_quick_start_postgres
from vectoros_tui.store.revision import SCHEMA_HEAD
from vectoros_tui.store.snapshot import load_board_preview
from vectoros_tui.store.store import Store, open_store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


Reader = Callable[[str | None], QuickStart | None]


@pytest.fixture
def database(database_url: str) -> Iterator[tuple[Reader, Store]]:
    """Two demo workspaces, and the quick start's reader of their database."""
    store = open_store(database_url, upgrade=False)
    create_demo_workspace(store.db, deals=400, seed=11, now=NOW, name="Beta")
    create_demo_workspace(store.db, deals=120, seed=12, now=NOW, name="Alpha")
    if store.db.is_sqlite:
        path = Path(database_url.removeprefix("sqlite:///"))

        def read(ref: str | None) -> QuickStart | None:
            return read_quick_start(path, ref, NOW)
    else:

        def read(ref: str | None) -> QuickStart | None:
            return read_quick_start_postgres(database_url, ref, NOW)

    yield read, store
    store.close()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    path = tmp_path / "vectoros.sqlite3"
    store = open_store(f"sqlite:///{path}")
    create_demo_workspace(store.db, deals=60, seed=11, now=NOW, name="Beta")
    yield path, store
    store.close()


def test_quick_board_is_the_stores_own_preview(database: tuple[Reader, Store]) -> None:
    read, store = database
    for ref in ("Beta", "beta", None):
        quick = read(ref)
        assert quick is not None
        expected_ws = store.workspaces.resolve(ref or "Alpha")  # no ref: the first by name
        assert (quick.workspace.id, quick.workspace.name) == (str(expected_ws.id), expected_ws.name)
        assert not quick.ref_not_found
        expected = load_board_preview(store, expected_ws, NOW)
        assert [c.stage for c in quick.columns] == [c.stage for c in expected]
        for mine, theirs in zip(quick.columns, expected, strict=True):
            assert mine.count == theirs.count
            assert mine.total_value == pytest.approx(theirs.total_value)
            assert mine.weighted_value == pytest.approx(theirs.weighted_value)
            assert (mine.ageing, mine.overdue) == (theirs.ageing, theirs.overdue)
            assert [{k: getattr(d, k) for k in CARD_FIELDS} for d in mine.deals] == [
                {k: getattr(d, k) for k in CARD_FIELDS} for d in theirs.deals
            ]
            assert mine.deals  # the comparison had cards to compare
        assert sum(c.ageing for c in quick.columns) > 0  # the comparison had something to see
        assert sum(c.overdue for c in quick.columns) > 0


def test_quick_start_by_id_and_an_unknown_name(database: tuple[Reader, Store]) -> None:
    read, store = database
    beta = store.workspaces.resolve("Beta")
    assert read(str(beta.id)).workspace.name == "Beta"
    missing = read("Gamma")
    assert missing.workspace.name == "Alpha" and missing.ref_not_found


def test_quick_start_sees_a_change_made_a_moment_ago(database: tuple[Reader, Store]) -> None:
    read, store = database
    beta = store.workspaces.resolve("Beta")
    before = read("Beta")
    top = before.columns[0].deals[0]
    assert top.value is not None
    store.deals.update(uuid.UUID(top.id), {"value": top.value + 1_000_000}, now=NOW)
    after = read("Beta")
    assert after.columns[0].deals[0].value == top.value + 1_000_000
    assert after.columns[0].total_value == pytest.approx(before.columns[0].total_value + 1_000_000)
    assert beta.id  # same workspace throughout


def test_gives_up_on_anything_unusual(tmp_path: Path, sqlite_database: tuple[Path, Store]) -> None:
    path, store = sqlite_database
    assert read_quick_start(tmp_path / "missing.sqlite3", None, NOW) is None
    not_a_database = tmp_path / "notes.sqlite3"
    not_a_database.write_text("these are not the tables you are looking for\n" * 50)
    assert read_quick_start(not_a_database, None, NOW) is None
    empty = tmp_path / "empty.sqlite3"
    open_store(f"sqlite:///{empty}").close()  # current schema, no workspace: welcome screen
    assert read_quick_start(empty, None, NOW) is None
    store.close()
    with sqlite3.connect(path) as connection:  # a timestamp the store would not write
        connection.execute("UPDATE deals SET stage_changed_at = 'yesterday'")
    assert read_quick_start(path, None, NOW) is None
    with sqlite3.connect(path) as connection:  # an older schema: the store must upgrade it
        connection.execute("UPDATE alembic_version SET version_num = '0004'")
    assert read_quick_start(path, None, NOW) is None


def test_never_writes_to_the_database(sqlite_database: tuple[Path, Store]) -> None:
    path, store = sqlite_database
    store.close()
    before = path.stat().st_mtime_ns, path.stat().st_size
    path.chmod(0o444)
    try:
        assert read_quick_start(path, None, NOW) is not None
    finally:
        path.chmod(0o644)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == before


@pytest.mark.postgres
def test_gives_up_on_an_unusual_postgres(pg_session_url: str, empty_pg: Callable[[], None]) -> None:
    empty_pg()
    database_url = pg_session_url
    store = open_store(database_url, upgrade=False)
    try:
        assert read_quick_start_postgres(database_url, None, NOW) is None  # no workspace yet
        create_demo_workspace(store.db, deals=30, seed=3, now=NOW, name="Beta")
        assert read_quick_start_postgres(database_url, None, NOW) is not None
        # A server that does not answer, a URL that is not the store's: the full path.
        assert (
            read_quick_start_postgres("postgresql+psycopg://nobody@127.0.0.1:1/x", None, NOW)
            is None
        )
        assert read_quick_start_postgres(database_url.replace("+psycopg", ""), None, NOW) is None
        libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(libpq, autocommit=True) as connection:  # an older schema
            connection.execute("UPDATE alembic_version SET version_num = '0004'")
            try:
                assert read_quick_start_postgres(database_url, None, NOW) is None
            finally:
                connection.execute("UPDATE alembic_version SET version_num = %s", (SCHEMA_HEAD,))
        assert read_quick_start_postgres(database_url, None, NOW) is not None
        with psycopg.connect(libpq) as locker:  # another process's migration, say
            locker.execute("LOCK TABLE deals IN ACCESS EXCLUSIVE MODE")
            found: list[object] = []
            reader = threading.Thread(
                target=lambda: found.append(read_quick_start_postgres(database_url, None, NOW)),
                daemon=True,
            )
            reader.start()
            reader.join(30)
            assert found == [None]  # gave up on the lock instead of waiting for it
    finally:
        store.close()
