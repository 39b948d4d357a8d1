"""A screenshot of the forecast screen at 100x30 on a seeded SQLite demo (time frozen, seed
0), compared with the accepted SVG in ``__snapshots__``. Update it deliberately with
``pytest tests/tui/test_forecast_snapshot.py --snapshot-update`` and look at the SVG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, wait_for
from textual.pilot import Pilot

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.forecast import ForecastScreen
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store


def sqlite_demo(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'forecast-demo.sqlite3'}"
    store = open_store(url)
    create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    store.close()
    return url


async def forecast_painted(pilot: Pilot) -> None:
    app = pilot.app
    await wait_for(lambda: getattr(app, "snapshot", None) is not None, pilot)
    await pilot.press("f3")

    def painted() -> bool:
        screen = app.screen
        return (
            isinstance(screen, ForecastScreen)
            and screen.result is not None
            and not screen.pending
            and not screen.models_pending
        )

    await wait_for(painted, pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_forecast_screen_snapshot(
    snap_compare: Any,
    tmp_path: Path,
    make_app: Callable[..., VectorOSApp],
    size: tuple[int, int],
) -> None:
    app = make_app(sqlite_demo(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=forecast_painted)
