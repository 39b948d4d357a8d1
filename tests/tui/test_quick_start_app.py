"""`vectoros` paints the board from a quick read of the database (store.quick_start)
before the store opens: the board must be right from the first frame, keys that need the
store must wait politely, and everything must work once it has opened.

On a SQLite file: what the app does with a quick read does not depend on the database it
came from, and tests/store/test_quick_start.py checks the read itself on both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from textual.widgets import Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.store import startup
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.errors import StoreError
from vectoros_tui.store.quick_start import QuickStart, read_quick_start
from vectoros_tui.store.startup import StartupData, load_startup
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.stage_board import StageDeals


@pytest.fixture
def sqlite_demo(tmp_path: Path) -> tuple[str, QuickStart]:
    path = tmp_path / "vectoros.sqlite3"
    store = open_store(f"sqlite:///{path}")
    create_demo_workspace(store.db, deals=120, seed=7, now=FIXED_NOW)
    store.close()
    quick = read_quick_start(path, None, FIXED_NOW)
    assert quick is not None
    return f"sqlite:///{path}", quick


def _status(app: VectorOSApp) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def test_board_first_then_the_store(
    sqlite_demo: tuple[str, QuickStart], make_app: Callable[..., VectorOSApp]
) -> None:
    url, quick = sqlite_demo
    opened: Future[StartupData] = Future()  # the test decides when the store has opened
    app = make_app(url, quick=quick, startup=opened)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PipelineScreen) and app.store is None
        prospect = quick.columns[0]
        cards = app.screen.query_one("#deals-prospect", StageDeals)
        assert cards.get_option_at_index(0).id == prospect.deals[0].id
        assert f"{sum(c.count for c in quick.columns):,} open deals" in _status(app)
        assert "scoring deals" in _status(app)
        assert app.sub_title == "Demo"

        cards.focus()
        await pilot.press("enter")  # open the card: the store is not there yet
        await pilot.pause()
        assert isinstance(app.screen, PipelineScreen)
        assert any("Still opening" in n.message for n in app._notifications)

        opened.set_result(load_startup(url, quick.workspace.id, FIXED_NOW))
        await wait_for_snapshot(app, pilot)
        assert app.store is not None and str(app.workspace.id) == quick.workspace.id
        await wait_for(lambda: "as of" in _status(app), pilot)
        cards.focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        assert app.screen.deal_id == prospect.deals[0].id


async def test_a_store_that_cannot_open_is_reported_not_awaited(
    sqlite_demo: tuple[str, QuickStart], make_app: Callable[..., VectorOSApp]
) -> None:
    """The quick read worked but the store then failed to open (say the file was locked
    for longer than the busy timeout): the error is shown, and keys that need the store
    repeat it instead of claiming it is still opening."""
    url, quick = sqlite_demo
    failed: Future[StartupData] = Future()
    failed.set_exception(StoreError("database is locked"))
    app = make_app(url, quick=quick, startup=failed)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.store_error is not None, pilot)
        assert isinstance(app.screen, PipelineScreen)
        # The status no longer says the deals are being scored.
        await wait_for(lambda: "could not be opened: database is locked" in _status(app), pilot)
        app.screen.query_one("#deals-prospect", StageDeals).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PipelineScreen)
        messages = [n.message for n in app._notifications]
        assert any("could not be opened: database is locked" in m for m in messages)
        assert not any("Still opening" in m for m in messages)


async def test_the_store_opens_without_reading_the_board_again(
    sqlite_demo: tuple[str, QuickStart],
    make_app: Callable[..., VectorOSApp],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quick read painted the board: opening the store skips the store's own preview
    query, and the scored snapshot then replaces the board as usual."""
    url, quick = sqlite_demo
    calls: list[object] = []
    real = startup.load_board_preview
    monkeypatch.setattr(
        startup, "load_board_preview", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    app = make_app(url, quick=quick)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_snapshot(app, pilot)
        await wait_for(lambda: "as of" in _status(app), pilot)
        assert app.store is not None and str(app.workspace.id) == quick.workspace.id
        cards = app.screen.query_one("#deals-prospect", StageDeals)
        assert cards.get_option_at_index(0).id == quick.columns[0].deals[0].id
    assert calls == []


async def test_the_app_hands_full_collections_to_its_idle_collector(
    demo_database: str, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from vectoros_tui.memory import NEVER
    from vectoros_tui.session import WorkspaceSession

    threshold = gc.get_threshold()
    app = make_app(demo_database, collect_when_idle=True)
    held_while_loading: list[bool] = []
    load = WorkspaceSession.reload

    def reload(session: WorkspaceSession, *args: object, **kwargs: object) -> object:
        held_while_loading.append(gc.get_threshold()[2] == NEVER)
        return load(session, *args, **kwargs)

    held_while_opening: list[bool] = []
    open_store = startup.load_startup

    def opening(*args: Any, **kwargs: Any) -> StartupData:
        held_while_opening.append(gc.get_threshold()[2] == NEVER)
        return open_store(*args, **kwargs)

    monkeypatch.setattr(WorkspaceSession, "reload", reload)
    monkeypatch.setattr(startup, "load_startup", opening)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: app.snapshot is not None, pilot)
            # Python's own full collections were off while the store opened (importing
            # SQLAlchemy) and while the workspace was read.
            assert held_while_opening == [True]
            assert held_while_loading and all(held_while_loading)
            await wait_for(lambda: gc.get_threshold()[2] == NEVER, pilot)
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == threshold  # given back when the app exits
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
