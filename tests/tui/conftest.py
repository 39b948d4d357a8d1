"""Fixtures for driving the Textual app with Pilot.

The screens run on SQLite; the deal editor's tests (saving, conflicts, reopening: where
the app's writes meet the database) run on Postgres as well, as do every store and session
test underneath. Each Postgres run of a screen that only reads doubled the suite's
slowest part for no behaviour of its own.

Time is frozen (FIXED_NOW) and the demo data is seeded, so numbers and screens are
deterministic. ``wait_for_snapshot`` waits on the app's data, never on sleeps.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pilot_helpers import FIXED_NOW, fixed_clock

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database (see the module's docstring for Postgres)."""
    path = tmp_path / "vectoros.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _add_demo(url: str) -> None:
    store = open_store(url, upgrade=False)
    create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    store.close()


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite demo database, made once per test process and copied for each test."""
    path = tmp_path_factory.mktemp("demo-template") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    _add_demo(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_database(database_url: str, request: pytest.FixtureRequest) -> str:
    """A migrated database (both kinds) holding the 'Demo' workspace: 120 deals, seed 7."""
    if database_url.startswith("sqlite:///"):
        template = request.getfixturevalue("sqlite_demo_template")
        shutil.copy(template, database_url.removeprefix("sqlite:///"))
    else:
        _add_demo(database_url)
    return database_url


@pytest.fixture
def make_app() -> Callable[..., VectorOSApp]:
    def factory(url: str, **kwargs: object) -> VectorOSApp:
        kwargs.setdefault("clock", fixed_clock)
        kwargs.setdefault("poll_seconds", 0)
        kwargs.setdefault("settings", Settings())
        app = VectorOSApp(url, **kwargs)  # type: ignore[arg-type]
        # Smooth scrolling and the loading spinner redraw the screen frame by frame while a
        # test waits: a tenth of the Pilot tests' CPU, and no test looks at a frame between.
        app.animation_level = "none"
        return app

    return factory
