"""Whose deals the pipeline shows (mine / everyone's / one rep's) and the editor's owner
field, driven with Pilot on a history demo whose reps own its deals (SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from textual.widgets import Input, Select, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings, UserSettings
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.deal_table import DealTable
from vectoros_tui.widgets.stage_board import StageBoard, StageDeals

SIZE = (100, 30)


def history_demo(tmp_path: Path) -> tuple[str, list[Any]]:
    url = f"sqlite:///{tmp_path / 'owners.sqlite3'}"
    store = open_store(url)
    summary = create_demo_workspace(store.db, deals=300, seed=4, now=FIXED_NOW, history_months=6)
    members = store.owners.members(summary.workspace_id)
    store.close()
    return url, members


def as_user(email: str | None) -> Settings:
    return Settings(user=UserSettings(email=email))


def text(widget: Static) -> str:
    return str(widget.content)


def status(screen: PipelineScreen) -> str:
    return text(screen.query_one("#status", Static))


def board_ids(screen: PipelineScreen) -> set[str]:
    """The deals on the board's cards (each column shows its first cards)."""
    found = set()
    for column in screen.query(StageDeals):
        for index in range(column.option_count):
            option_id = column.get_option_at_index(index).id
            if option_id is not None:
                found.add(option_id)
    return found


async def started(app: VectorOSApp, pilot: Any) -> PipelineScreen:
    await wait_for_snapshot(app, pilot)
    screen = app.screen
    assert isinstance(screen, PipelineScreen)
    await wait_for(lambda: screen.page is not None, pilot)
    await pilot.pause()
    return screen


async def test_a_member_with_deals_starts_on_their_own_and_m_cycles(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    url, members = history_demo(tmp_path)
    rep = members[0]
    app = make_app(url, settings=as_user(rep.email))
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(app, pilot)
        assert app.snapshot is not None
        mine = {d.id for d in app.snapshot.deals if d.is_open and d.owner_id == str(rep.id)}
        everyone = {d.id for d in app.snapshot.deals if d.is_open}
        assert mine and mine != everyone
        assert screen.owner_filter == str(rep.id)
        assert board_ids(screen) <= mine and board_ids(screen)
        assert "mine (m)" in text(screen.query_one("#filters", Static))
        assert f"{len(mine)} open deal" in status(screen)

        await pilot.press("m")  # everyone's
        await wait_for(lambda: f"{len(everyone)} open deals" in status(screen), pilot)
        assert screen.owner_filter is None
        assert board_ids(screen) <= everyone and not board_ids(screen) <= mine
        assert "(m)" not in text(screen.query_one("#filters", Static))

        await pilot.press("m")  # the next rep's
        other = members[1] if members[1].id != rep.id else members[2]
        theirs = {d.id for d in app.snapshot.deals if d.is_open and d.owner_id == str(other.id)}
        await wait_for(lambda: f"{len(theirs)} open deal" in status(screen), pilot)
        assert board_ids(screen) <= theirs
        assert f"{other.label} (m)" in text(screen.query_one("#filters", Static))

        # The table pages through that rep's deals only, from the database.
        await pilot.press("v")
        table = screen.query_one(DealTable)
        await wait_for(lambda: screen.page is not None and screen.page.total == len(theirs), pilot)
        assert {str(d.id) for d in screen.page.deals} <= theirs
        assert table.row_count == len(theirs)


async def test_someone_who_is_not_a_member_sees_everyones_deals(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    url, _ = history_demo(tmp_path)
    app = make_app(url, settings=as_user("visitor@example.com"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(app, pilot)
        assert screen.owner_filter is None
        assert app.snapshot is not None
        everyone = {d.id for d in app.snapshot.deals if d.is_open}
        assert board_ids(screen) <= everyone
        assert f"{len(everyone)} open deals" in status(screen)


async def test_the_editor_reassigns_a_deal_and_a_new_deal_is_mine(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    url, members = history_demo(tmp_path)
    rep, other = members[0], members[1]
    app = make_app(url, settings=as_user(rep.email))
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(app, pilot)
        board = screen.query_one(StageBoard)
        deal_id = board.highlighted_deal()
        assert deal_id is not None
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        editor = app.screen
        assert isinstance(editor, DealEditorScreen)
        await wait_for(lambda: editor.deal is not None, pilot)
        owner = editor.query_one("#field-owner", Select)
        assert owner.value == str(rep.id)
        choices = {value for _, value in owner._options if isinstance(value, str)}
        assert choices == {str(m.id) for m in members}

        owner.value = str(other.id)
        await pilot.press("ctrl+s")
        await wait_for(lambda: editor.deal is not None and editor.deal.owner_id == other.id, pilot)
        assert app.store is not None
        stored = app.store.deals.get(uuid.UUID(deal_id))
        assert stored.owner_id == other.id
        assert [h["field"] for h in app.store.deals.history(stored.id)][-1] == "owner"

        # A new deal, saved without choosing an owner, is mine.
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        new = app.screen
        assert isinstance(new, DealEditorScreen)
        new.query_one("#field-title", Input).value = "Mine, new"
        await pilot.press("ctrl+s")
        await wait_for(lambda: new.deal is not None, pilot)
        assert new.deal is not None and new.deal.owner_id == rep.id
        assert new.query_one("#field-owner", Select).value == str(rep.id)
