"""The fuzz suite's fixtures: a fresh workspace per test function (not per Hypothesis
example: the properties hold whatever earlier examples left behind, and a fresh database
per example would cost more than the examples themselves)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fuzz_harness import ME, WORKSPACE, Workspace

from vectoros_tui.store.store import open_store


@pytest.fixture(autouse=True)
def _me(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest keeps VECTOROS_TEST_PG_URL for itself; the CLI must not see it.
    monkeypatch.delenv("VECTOROS_TEST_PG_URL", raising=False)
    monkeypatch.setenv("VECTOROS_USER__EMAIL", ME)


@contextmanager
def _workspace(url: str) -> Iterator[Workspace]:
    store = open_store(url, upgrade=False)
    try:
        made = Workspace(url, store)
        made.ok("workspace", "create", WORKSPACE)
        made.ok("workspace", "use", WORKSPACE, as_json=False)
        yield made
    finally:
        store.close()


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    """A workspace ``ME`` owns, on each database."""
    with _workspace(database_url) as made:
        yield made


@pytest.fixture
def sqlite_ws(tmp_path: Path, sqlite_template: Path) -> Iterator[Workspace]:
    """``ws`` on SQLite only, for the properties too slow to run twice."""
    path = tmp_path / "vectoros.sqlite3"
    shutil.copy(sqlite_template, path)
    with _workspace(f"sqlite:///{path}") as made:
        yield made
