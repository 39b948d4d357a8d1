"""Fixtures for driving the Textual app with Pilot, on SQLite and Postgres.

Time is frozen (FIXED_NOW) and the demo data is seeded, so numbers and screens are
deterministic. ``wait_for_snapshot`` waits on the app's data, never on sleeps.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pilot_helpers import FIXED_NOW, fixed_clock

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store


@pytest.fixture
def demo_database(database_url: str) -> str:
    """A migrated database (both kinds) holding the 'Demo' workspace: 120 deals, seed 7."""
    store = open_store(database_url, upgrade=False)
    create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    store.close()
    return database_url


@pytest.fixture
def make_app() -> Callable[..., VectorOSApp]:
    def factory(url: str, **kwargs: object) -> VectorOSApp:
        kwargs.setdefault("clock", fixed_clock)
        kwargs.setdefault("poll_seconds", 0)
        kwargs.setdefault("settings", Settings())
        return VectorOSApp(url, **kwargs)  # type: ignore[arg-type]

    return factory
