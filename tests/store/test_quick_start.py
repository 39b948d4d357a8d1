"""The first frame's board, read with the standard library's sqlite3 (store.quick_start):
it must show what the store itself would show, and give up (None) whenever it is unsure,
so that the normal start-up path handles the case. SQLite only: that is all it reads."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vectoros_tui.store.board import CARD_FIELDS
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.quick_start import read_quick_start
from vectoros_tui.store.snapshot import load_board_preview
from vectoros_tui.store.store import Store, open_store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> tuple[Path, Store]:
    path = tmp_path / "vectoros.sqlite3"
    store = open_store(f"sqlite:///{path}")
    create_demo_workspace(store.db, deals=400, seed=11, now=NOW, name="Beta")
    create_demo_workspace(store.db, deals=120, seed=12, now=NOW, name="Alpha")
    yield path, store
    store.close()


def test_quick_board_is_the_stores_own_preview(database: tuple[Path, Store]) -> None:
    path, store = database
    for ref in ("Beta", "beta", None):
        quick = read_quick_start(path, ref, NOW)
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


def test_quick_start_by_id_and_an_unknown_name(database: tuple[Path, Store]) -> None:
    path, store = database
    beta = store.workspaces.resolve("Beta")
    assert read_quick_start(path, str(beta.id), NOW).workspace.name == "Beta"
    missing = read_quick_start(path, "Gamma", NOW)
    assert missing.workspace.name == "Alpha" and missing.ref_not_found


def test_quick_start_sees_a_change_made_a_moment_ago(database: tuple[Path, Store]) -> None:
    path, store = database
    beta = store.workspaces.resolve("Beta")
    before = read_quick_start(path, "Beta", NOW)
    top = before.columns[0].deals[0]
    assert top.value is not None
    store.deals.update(uuid.UUID(top.id), {"value": top.value + 1_000_000}, now=NOW)
    after = read_quick_start(path, "Beta", NOW)
    assert after.columns[0].deals[0].value == top.value + 1_000_000
    assert after.columns[0].total_value == pytest.approx(before.columns[0].total_value + 1_000_000)
    assert beta.id  # same workspace throughout


def test_gives_up_on_anything_unusual(tmp_path: Path, database: tuple[Path, Store]) -> None:
    path, store = database
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


def test_never_writes_to_the_database(database: tuple[Path, Store]) -> None:
    path, store = database
    store.close()
    before = path.stat().st_mtime_ns, path.stat().st_size
    path.chmod(0o444)
    try:
        assert read_quick_start(path, None, NOW) is not None
    finally:
        path.chmod(0o644)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == before
