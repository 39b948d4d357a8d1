"""What the insights screen looks like: a demo pipeline at a frozen moment, 100x30.

Update after an intended change with ``pytest tests/tui/test_insights_snapshot.py
--snapshot-update`` and look at the SVG before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from textual.pilot import Pilot

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.insights import InsightsScreen
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store


def demo_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    store = open_store(url)
    create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    store.close()
    return url


def test_insights_screen(
    snap_compare: Callable[..., bool], tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_sqlite(tmp_path))

    async def show_insights(pilot: Pilot) -> None:
        await wait_for_snapshot(app, pilot)
        await pilot.press("f4")
        await wait_for(lambda: isinstance(app.screen, InsightsScreen), pilot)
        screen = app.screen
        assert isinstance(screen, InsightsScreen)
        await wait_for(lambda: screen.regenerations >= 1 and screen.pending == 0, pilot)
        # Read the second insight, so both the unread and the read look are in the picture.
        await pilot.press("down", "r")
        await wait_for(lambda: screen.pending == 0, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=show_insights)
