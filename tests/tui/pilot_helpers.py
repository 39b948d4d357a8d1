"""Helpers for driving the app with Pilot: a frozen clock, waiting on the app's data (never
on sleeps), and pasting text the way a terminal does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from vectoros_tui.app import VectorOSApp
    from vectoros_tui.store.snapshot import WorkspaceSnapshot

S = TypeVar("S", bound=Screen[None])

FIXED_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED_NOW


async def wait_for(condition: Callable[[], object], pilot: object, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` is true (workers finish off the main thread).

    Polls with a plain sleep, which lets the app's message pumps run (``pilot.pause`` posts
    a callback to every widget on screen each time), then lets the screen settle once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(0.02)
    await pilot.pause()  # type: ignore[attr-defined]


async def paste(pilot: object, text: str) -> None:
    """Text arriving as a terminal's bracketed paste does: one Paste event, routed by the app
    to the focused widget (typing key by key costs ~50 ms a key in Pilot)."""
    from textual import events

    pilot.app.post_message(events.Paste(text))  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def wait_for_snapshot(app: VectorOSApp, pilot: object, previous: object = None) -> None:
    await wait_for(lambda: app.snapshot is not None and app.snapshot is not previous, pilot)
    await pilot.pause()  # type: ignore[attr-defined]


async def press_before_the_workspace_loads(
    app: VectorOSApp, pilot: object, key: str, screen_type: type[S]
) -> tuple[WorkspaceSnapshot, S]:
    """Load the workspace, take its snapshot away again (as if ``key`` were pressed before
    the app had read it) and press ``key``; returns the snapshot, for the test to hand
    back, and the screen ``key`` opened."""
    await wait_for_snapshot(app, pilot)
    full = app.snapshot
    assert full is not None
    app.snapshot = None
    await pilot.press(key)  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, screen_type), pilot)
    screen = app.screen
    assert isinstance(screen, screen_type)
    return full, screen
