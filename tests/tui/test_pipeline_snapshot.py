"""Screenshots of the pipeline board, the deal table, the deal editor, the welcome
screen, and every dialog: help and workspace switcher over the board; lost reason,
activity form, delete confirmation and edit conflict over the editor (100x30).

The demo database is seeded (120 deals, seed 7) and the app's clock is frozen at
FIXED_NOW, so the screens are the same on every run. Update the SVGs with
``pytest tests/tui/test_pipeline_snapshot.py --snapshot-update`` and look at them
(``snapshot_report.html`` on failure) before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from textual.pilot import Pilot
from textual.widgets import Input

from vectoros_tui.screens.activity_form import ActivityFormScreen
from vectoros_tui.screens.close_deal import CloseDealScreen
from vectoros_tui.screens.conflict import ConflictScreen
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.help import HelpScreen
from vectoros_tui.screens.messages import ConfirmScreen
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.screens.welcome import WelcomeScreen
from vectoros_tui.screens.workspace_switcher import WorkspaceSwitcherScreen
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.deal_table import DealTable
from vectoros_tui.widgets.stage_board import StageDeals

SIZE = (100, 30)
# The size a rep's terminal starts at: everything a rep needs must fit it too.
SIZES = pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["100x30", "80x24"])


@pytest.fixture
def demo_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    store = open_store(url)
    try:
        create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    finally:
        store.close()
    return url


async def loaded(pilot: Pilot[Any]) -> PipelineScreen:
    """Wait for the workspace snapshot and the first table page."""
    app = pilot.app
    await wait_for_snapshot(app, pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, PipelineScreen)
    await wait_for(lambda: screen.page is not None, pilot)
    return screen


async def steady(pilot: Pilot[Any], size: tuple[int, int] = SIZE) -> None:
    """Take out what varies from run to run.

    No blinking cursor (a screenshot would catch it on or off at random). And a resize
    there and back: the board's option lists measure their deals before their scrollbar
    appears or after it, depending on whether the data beat the first layout (see
    test_board_titles_are_not_clipped_when_a_column_fills_up); a resize makes them
    measure again at their final width.
    """
    width, height = size
    await pilot.resize_terminal(width + 8, height)
    await pilot.pause()
    await pilot.resize_terminal(width, height)
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


@SIZES
def test_board(snap_compare: Any, demo_url: str, make_app: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await loaded(pilot)
        assert screen.query_one("#deals-prospect", StageDeals).option_count > 0
        await steady(pilot, size)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=run_before)


@SIZES
def test_table(snap_compare: Any, demo_url: str, make_app: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await loaded(pilot)
        await pilot.press("v")
        table = screen.query_one(DealTable)
        await wait_for(lambda: table.row_count > 0 and screen.focused is table, pilot)
        await steady(pilot, size)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=run_before)


async def open_editor(pilot: Pilot[Any], size: tuple[int, int] = SIZE) -> DealEditorScreen:
    """The most valuable prospect, highlighted on the board from the start, opened."""
    await loaded(pilot)
    await pilot.press("e")
    await wait_for(lambda: isinstance(pilot.app.screen, DealEditorScreen), pilot)
    editor = pilot.app.screen
    assert isinstance(editor, DealEditorScreen)
    await wait_for(lambda: editor.deal is not None and editor.activities, pilot)
    await steady(pilot, size)
    return editor


@SIZES
def test_deal_editor(
    snap_compare: Any, demo_url: str, make_app: Any, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_editor(pilot, size)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(
    ("key", "dialog"),
    [("f7", CloseDealScreen), ("f8", ActivityFormScreen), ("f9", ConfirmScreen)],
    ids=["lost-reason", "activity-form", "confirm-delete"],
)
def test_editor_dialog(
    snap_compare: Any, demo_url: str, make_app: Any, key: str, dialog: type
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_editor(pilot)
        await pilot.press(key)
        await wait_for(lambda: isinstance(pilot.app.screen, dialog), pilot)
        await steady(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=SIZE, run_before=run_before)


def test_edit_conflict(snap_compare: Any, demo_url: str, make_app: Any) -> None:
    """Someone else saved the deal while it was open here: both versions side by side."""

    async def run_before(pilot: Pilot[Any]) -> None:
        editor = await open_editor(pilot)
        assert editor.deal is not None
        store = pilot.app.store  # type: ignore[attr-defined]
        store.deals.update(editor.deal.id, {"value": 250_000, "probability": 35})
        editor.query_one("#field-probability", Input).value = "55"
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(pilot.app.screen, ConflictScreen), pilot)
        await steady(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=SIZE, run_before=run_before)


def test_welcome_on_an_empty_database(snap_compare: Any, tmp_path: Path, make_app: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(
            lambda: (
                isinstance(pilot.app.screen, WelcomeScreen) and pilot.app.screen.query("#intro")
            ),
            pilot,
        )
        await steady(pilot)

    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    assert snap_compare(make_app(url), terminal_size=SIZE, run_before=run_before)


def test_help_over_the_board(snap_compare: Any, demo_url: str, make_app: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await steady(pilot)
        await pilot.press("f1")
        await wait_for(lambda: isinstance(pilot.app.screen, HelpScreen), pilot)
        await pilot.pause()

    assert snap_compare(make_app(demo_url), terminal_size=SIZE, run_before=run_before)


def test_workspace_switcher(snap_compare: Any, demo_url: str, make_app: Any) -> None:
    store = open_store(demo_url)
    try:
        store.workspaces.create("Enterprise team")
    finally:
        store.close()

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await steady(pilot)
        await pilot.press("ctrl+o")
        await wait_for(lambda: isinstance(pilot.app.screen, WorkspaceSwitcherScreen), pilot)
        switcher = pilot.app.screen
        await wait_for(lambda: len(switcher.workspaces) == 2, pilot)
        await pilot.pause()

    assert snap_compare(make_app(demo_url), terminal_size=SIZE, run_before=run_before)
