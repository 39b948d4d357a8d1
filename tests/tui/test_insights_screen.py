"""The insights screen (F4), driven with Pilot on SQLite and Postgres."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest
from pilot_helpers import press_before_the_workspace_loads, wait_for, wait_for_snapshot
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.insights import InsightsScreen
from vectoros_tui.store.insights import PRIORITY_ORDER
from vectoros_tui.store.store import open_store

SIZE = (100, 30)


async def open_insights(app: VectorOSApp, pilot: Pilot) -> InsightsScreen:
    """Switch to insights and wait until the automatic regeneration has been painted."""
    await wait_for_snapshot(app, pilot)
    await pilot.press("f4")
    await wait_for(lambda: isinstance(app.screen, InsightsScreen), pilot)
    screen = app.screen
    assert isinstance(screen, InsightsScreen)
    await wait_for(lambda: screen.regenerations >= 1 and screen.pending == 0, pilot)
    await pilot.pause()
    return screen


async def settle(screen: InsightsScreen, pilot: Pilot) -> None:
    await wait_for(lambda: screen.pending == 0, pilot)
    await pilot.pause()


def stored(url: str, workspace_id, include_dismissed: bool = True):  # type: ignore[no-untyped-def]
    """What another process sees: a separate connection to the same database."""
    store = open_store(url, upgrade=False)
    try:
        return {
            i.id: i for i in store.insights.list(workspace_id, include_dismissed=include_dismissed)
        }
    finally:
        store.close()


def detail_text(screen: InsightsScreen) -> str:
    console = Console(width=98, record=True, file=io.StringIO())
    console.print(screen.query_one("#insight-detail-text", Static).content)
    return console.export_text()


async def test_insights_listed_by_priority(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        assert len(screen.insights) > 10
        ranks = [PRIORITY_ORDER[i.priority] for i in screen.insights]
        assert ranks == sorted(ranks)
        assert len(set(ranks)) > 1  # more than one priority, so the order is tested
        assert all(not i.is_dismissed for i in screen.insights)
        table = screen.query_one("#insight-table", DataTable)
        assert table.row_count == len(screen.insights)
        # All of them are the workspace's stored, undismissed insights.
        workspace_id = app.snapshot.workspace.id  # type: ignore[union-attr]
        assert set(stored(demo_database, workspace_id, False)) == {i.id for i in screen.insights}
        # The detail pane shows the highlighted insight's numbers and actions.
        first = screen.insights[0]
        assert screen.highlighted == first
        detail = detail_text(screen)
        flowing = " ".join(detail.split())  # a long description wraps onto two lines
        assert first.title in detail and " ".join(first.description.split()) in flowing
        assert "The numbers" in detail and "Suggested actions" in detail
        assert all(action in detail for action in first.actions)
        assert "$" in detail  # the deal's value, as money


async def test_dismiss_hides_and_survives_regenerate(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        count = len(screen.insights)
        await pilot.press("down")
        target = screen.highlighted
        assert target is not None
        await pilot.press("d")
        await settle(screen, pilot)
        assert target.id not in {i.id for i in screen.insights}
        assert len(screen.insights) == count - 1
        # The cursor stays in place: now on the insight that followed.
        assert screen.query_one(DataTable).cursor_row == 1

        await pilot.press("g")
        await wait_for(lambda: screen.regenerations >= 2 and screen.pending == 0, pilot)
        assert target.id not in {i.id for i in screen.insights}
        assert len(screen.insights) == count - 1

        workspace_id = app.snapshot.workspace.id  # type: ignore[union-attr]
        everything = stored(demo_database, workspace_id)
        assert everything[target.id].is_dismissed
        assert target.id not in stored(demo_database, workspace_id, include_dismissed=False)


async def test_mark_read_persists(demo_database: str, make_app: Callable[..., VectorOSApp]) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        target = screen.insights[0]
        assert not target.is_read
        await pilot.press("r")
        await settle(screen, pilot)
        assert screen.insights[0].id == target.id
        assert screen.insights[0].is_read
        workspace_id = app.snapshot.workspace.id  # type: ignore[union-attr]
        assert stored(demo_database, workspace_id)[target.id].is_read

        # Regenerating keeps the read state; r again marks it unread.
        await pilot.press("g")
        await wait_for(lambda: screen.regenerations >= 2 and screen.pending == 0, pilot)
        assert next(i for i in screen.insights if i.id == target.id).is_read
        await pilot.press("r")
        await settle(screen, pilot)
        assert not stored(demo_database, workspace_id)[target.id].is_read

    # A new session (new app, same database) still sees it as it was left.
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        assert not next(i for i in screen.insights if i.id == target.id).is_read


async def test_a_shows_dismissed(demo_database: str, make_app: Callable[..., VectorOSApp]) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        count = len(screen.insights)
        target = screen.insights[0]
        await pilot.press("d")
        await settle(screen, pilot)
        assert len(screen.insights) == count - 1

        await pilot.press("a")
        await settle(screen, pilot)
        assert screen.show_dismissed
        assert len(screen.insights) == count
        shown = next(i for i in screen.insights if i.id == target.id)
        assert shown.is_dismissed

        await pilot.press("a")
        await settle(screen, pilot)
        assert len(screen.insights) == count - 1


async def test_enter_opens_the_deal(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_database)
    opened: list[str | None] = []
    original = app.open_deal

    def open_deal(deal_id: str | None) -> None:
        opened.append(deal_id)
        original(deal_id)

    monkeypatch.setattr(app, "open_deal", open_deal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        target = screen.insights[0]
        assert target.deal_id is not None
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [str(target.deal_id)]
        from vectoros_tui.screens.deal_editor import DealEditorScreen

        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)


async def test_enter_on_a_workspace_insight_opens_nothing(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_database)
    opened: list[str | None] = []
    monkeypatch.setattr(app, "open_deal", opened.append)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        index = next(n for n, i in enumerate(screen.insights) if i.deal_id is None)
        screen.query_one(DataTable).move_cursor(row=index)
        await pilot.pause()
        assert screen.highlighted is not None and screen.highlighted.deal_id is None
        assert screen.check_action("open_deal", ()) is None  # shown, but disabled
        await pilot.press("enter")
        await pilot.pause()
        assert opened == []
        assert app.screen is screen


def _change_behind_the_apps_back(app: VectorOSApp) -> None:
    """A deal changed straight in the store, as another process would: only a reload
    shows it (a reload that finds nothing new publishes nothing)."""
    assert app.store is not None and app.snapshot is not None
    deal = app.snapshot.open_deals[0]
    app.store.deals.update(uuid.UUID(deal.id), {"value": (deal.value or 0) + 1})


async def test_snapshot_change_regenerates(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        before = app.snapshot
        _change_behind_the_apps_back(app)
        app.data_changed()
        await wait_for_snapshot(app, pilot, before)
        await wait_for(lambda: screen.regenerations >= 2 and screen.pending == 0, pilot)

        # Away from the screen, a change waits until the screen is shown again.
        await pilot.press("f2")
        before = app.snapshot
        _change_behind_the_apps_back(app)
        app.data_changed()
        await wait_for_snapshot(app, pilot, before)
        assert screen.regenerations == 2
        await pilot.press("f4")
        await wait_for(lambda: screen.regenerations >= 3 and screen.pending == 0, pilot)


async def test_palette_commands(demo_database: str, make_app: Callable[..., VectorOSApp]) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        commands = {name: callback for name, _, callback in screen.palette_commands()}
        assert "Regenerate insights" in commands
        commands["Show dismissed insights"]()
        await settle(screen, pilot)
        assert screen.show_dismissed
        assert "Hide dismissed insights" in {n for n, _, _ in screen.palette_commands()}


async def test_a_workspace_with_more_insights_than_the_table_holds_shows_the_most_urgent(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vectoros_tui.screens import insights as insights_screen

    monkeypatch.setattr(insights_screen, "TABLE_ROWS", 5)
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_insights(app, pilot)
        assert len(screen.insights) > 5
        table = screen.query_one("#insight-table", DataTable)
        assert table.row_count == 5
        shown = [str(table.get_row_at(row)[-1]) for row in range(5)]
        assert shown == [i.title[: len(s)] for i, s in zip(screen.insights, shown, strict=False)]
        status = str(screen.query_one("#insights-status", Static).content)
        assert f"{len(screen.insights):,} insights" in status
        assert "the 5 most urgent shown" in status
        table.move_cursor(row=50, animate=False)  # past the end: the last row shown
        await pilot.pause()
        assert table.cursor_row == 4
        assert screen.highlighted == screen.insights[4]


async def test_insights_come_from_the_store_before_the_workspace_has_loaded(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        full, screen = await press_before_the_workspace_loads(app, pilot, "f4", InsightsScreen)
        await wait_for(lambda: screen.regenerations == 1 and screen.pending == 0, pilot)
        assert len(screen.insights) > 10
        early = {i.id for i in screen.insights}
        # The workspace arrives unchanged: nothing to regenerate for.
        app.snapshot = full
        await pilot.pause(0.3)
        assert screen.regenerations == 1 and screen.pending == 0
        assert {i.id for i in screen.insights} == early
        # A change after that regenerates as always.
        deal = full.open_deals[0]
        app.snapshot = full.with_deal(replace(deal, probability=1))
        await wait_for(lambda: screen.regenerations == 2 and screen.pending == 0, pilot)


async def test_the_stored_insights_show_first_then_the_regenerated_ones(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    store = open_store(demo_database)
    try:
        workspace = store.workspaces.resolve("Demo")
        store.analytics.regenerate_insights(workspace.id)  # a previous run's insights
        before = {i.id for i in store.insights.list(workspace.id)}
    finally:
        store.close()
    loaded: list[InsightsScreen.Loaded] = []

    def hook(message: object) -> None:
        if isinstance(message, InsightsScreen.Loaded):
            loaded.append(message)

    app = make_app(demo_database)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await open_insights(app, pilot)
        assert len(loaded) >= 2
        # First what the last run stored, read without running the rules; then the rules.
        assert loaded[0].regenerated is None
        assert {i.id for i in loaded[0].insights} == before
        assert any(m.regenerated is not None for m in loaded[1:])
