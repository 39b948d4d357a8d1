"""Fixtures for driving the Textual app with Pilot, on SQLite and Postgres.

Time is frozen (FIXED_NOW) and the demo data is seeded, so numbers and screens are
deterministic. ``wait_for_snapshot`` waits on the app's data, never on sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store

FIXED_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED_NOW


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


async def wait_for(condition: Callable[[], object], pilot: object, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` is true (workers finish off the main thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)  # type: ignore[attr-defined]


async def wait_for_snapshot(app: VectorOSApp, pilot: object, previous: object = None) -> None:
    await wait_for(lambda: app.snapshot is not None and app.snapshot is not previous, pilot)
    await pilot.pause()  # type: ignore[attr-defined]
