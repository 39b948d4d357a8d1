"""SQLite shared by several processes: WAL, busy timeout and BEGIN IMMEDIATE hold up.

The workers are real processes (as several reps on one server would be), each opening the
same database file with its own engine, released together by a start file.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from vectoros_tui.store.database import SQLITE_BUSY_TIMEOUT_MS
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.tables import Deal

WORKERS = 4
ROUNDS = 50

WORKER_SCRIPT = r"""
import json, os, sys, time, uuid
from pathlib import Path

from vectoros_tui.store.errors import ConflictError
from vectoros_tui.store.store import open_store

url, mode, index, deal_id, workspace_id, go = sys.argv[1:7]
rounds = int(sys.argv[7])
deal_id, workspace_id = uuid.UUID(deal_id), uuid.UUID(workspace_id)
store = open_store(url, upgrade=False)
seen = store.deals.get(deal_id)  # what this "client" read before editing
Path(f"{go}.ready{index}").touch()
deadline = time.monotonic() + 30
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("the start signal never came")
    time.sleep(0.002)

result = {"errors": [], "created": 0, "updated": 0, "conflicts": 0}
if mode == "hammer":
    for i in range(rounds):
        try:
            # Read, then write in a new transaction (as a screen does) ...
            current = store.deals.get(deal_id)
            probability = (current.probability + 1) % 100
            store.deals.update(
                deal_id, {"title": f"shared w{index} #{i}", "probability": probability}
            )
            result["updated"] += 1
            page = store.deals.list(workspace_id, search=f"w{index} deal", limit=1)
            store.deals.create(
                workspace_id,
                {"title": f"w{index} deal {i:02d}", "stage": "prospect", "value": page.total},
            )
            result["created"] += 1
        except Exception as exc:  # reported to the test, which fails on any
            result["errors"].append(f"{type(exc).__name__}: {exc}")
elif mode == "conflict":
    try:
        store.deals.update(deal_id, {"title": f"edited by {index}"}, expected_version=seen.version)
        result["updated"] += 1
    except ConflictError as exc:
        result["conflicts"] += 1
        result["current_version"] = exc.current.version
    except Exception as exc:
        result["errors"].append(f"{type(exc).__name__}: {exc}")
store.close()
print(json.dumps(result))
"""


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "shared.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    store = open_store(sqlite_url, upgrade=False)
    yield store
    store.close()


def test_engine_uses_wal_busy_timeout_and_foreign_keys(
    sqlite_store: Store, sqlite_url: str
) -> None:
    with sqlite_store.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert SQLITE_BUSY_TIMEOUT_MS >= 5_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # WAL is a property of the file: any other program opening it sees it too.
    raw = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_every_pooled_connection_gets_the_pragmas(sqlite_store: Store) -> None:
    engine = sqlite_store.db.engine
    with engine.connect() as first, engine.connect() as second:
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_write_transactions_take_the_lock_up_front(sqlite_store: Store, sqlite_url: str) -> None:
    """A write transaction that starts by reading already holds the write lock: another
    connection cannot start writing until it ends, so the first one never fails with
    "database is locked" half way (a deferred BEGIN would)."""
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.05)
    other.isolation_level = None
    try:
        with sqlite_store.db.write() as session:
            session.exec(select(Deal.id)).all()  # a read, as update() does first
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def _run_workers(
    url: str, mode: str, deal_id: uuid.UUID, workspace_id: uuid.UUID, tmp: Path, count: int
) -> list[dict[str, Any]]:
    go = tmp / f"go-{mode}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER_SCRIPT,
                url,
                mode,
                str(index),
                str(deal_id),
                str(workspace_id),
                str(go),
                str(ROUNDS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for index in range(count)
    ]
    try:
        deadline = time.monotonic() + 30
        while not all(Path(f"{go}.ready{i}").exists() for i in range(count)):
            dead = [p for p in processes if p.poll() is not None]
            if dead:
                _, err = dead[0].communicate()
                pytest.fail(f"a worker died before starting:\n{err}")
            assert time.monotonic() < deadline, "workers did not get ready in 30 s"
            time.sleep(0.01)
        go.touch()  # all start together
        results = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            assert "database is locked" not in err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_concurrent_writer_processes_never_hit_database_is_locked(
    sqlite_store: Store, sqlite_url: str, tmp_path: Path
) -> None:
    workspace = sqlite_store.workspaces.create("Shared")
    shared = sqlite_store.deals.create(workspace.id, {"title": "shared", "stage": "prospect"})

    started = time.monotonic()
    results = _run_workers(sqlite_url, "hammer", shared.id, workspace.id, tmp_path, WORKERS)
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[:5]
    assert [r["created"] for r in results] == [ROUNDS] * WORKERS
    assert [r["updated"] for r in results] == [ROUNDS] * WORKERS

    page = sqlite_store.deals.list(workspace.id, search="deal", limit=1000)
    titles = {d.title for d in page.deals}
    expected = {f"w{w} deal {i:02d}" for w in range(WORKERS) for i in range(ROUNDS)}
    assert titles == expected
    assert page.total == WORKERS * ROUNDS
    # Every update was a real change, applied one after another: none was lost.
    assert sqlite_store.deals.get(shared.id).version == 1 + WORKERS * ROUNDS
    assert elapsed < 60


def test_two_processes_with_the_same_version_one_wins_one_conflicts(
    sqlite_store: Store, sqlite_url: str, tmp_path: Path
) -> None:
    workspace = sqlite_store.workspaces.create("Shared")
    deal = sqlite_store.deals.create(workspace.id, {"title": "contested", "stage": "prospect"})

    results = _run_workers(sqlite_url, "conflict", deal.id, workspace.id, tmp_path, 2)

    assert [e for r in results for e in r["errors"]] == []
    assert sorted(r["updated"] for r in results) == [0, 1]
    assert sorted(r["conflicts"] for r in results) == [0, 1]
    loser = next(r for r in results if r["conflicts"])
    assert loser["current_version"] == 2
    stored = sqlite_store.deals.get(deal.id)
    assert stored.version == 2
    assert stored.title in ("edited by 0", "edited by 1")
