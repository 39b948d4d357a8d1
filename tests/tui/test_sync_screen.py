"""The sync screen (ctrl+y) against a fake team backend over real HTTP on loopback (the
fake in tests/sync/fake_backends.py stands in for the team's Node service)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pilot_helpers import wait_for, wait_for_snapshot
from textual.widgets import DataTable, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.sync import SyncScreen
from vectoros_tui.store.store import open_store
from vectoros_tui.sync.engine import SyncEngine

sys.path.insert(0, str(Path(__file__).parents[1] / "sync"))
from fake_backends import FakeBackend

SIZE = (100, 30)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBackend]:
    with FakeBackend("deployed") as server:
        monkeypatch.setenv("VECTOROS_API_TOKEN", server.token)
        yield server
    assert not server.errors


def status_text(screen: SyncScreen) -> str:
    return str(screen.query_one("#sync-status", Static).render())


async def test_sync_now_conflict_and_merge(
    database_url: str, backend: FakeBackend, make_app: Callable[..., VectorOSApp]
) -> None:
    remote_ws = backend.add_workspace("Team")["id"]
    store = open_store(database_url, upgrade=False)
    try:
        ws = store.workspaces.create("Team")
        deal = store.deals.create(ws.id, {"title": "Renewal", "value": 100, "stage": "proposal"})
        SyncEngine(store.db).link(ws.id, backend.url, remote_ws, "deployed")
    finally:
        store.close()
    app = make_app(database_url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.press("ctrl+y")
        await wait_for(lambda: isinstance(app.screen, SyncScreen), pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        await wait_for(lambda: "1 pending" in status_text(screen), pilot)
        await pilot.press("s")
        await wait_for(lambda: "0 pending" in status_text(screen), pilot)
        assert [d["title"] for d in backend.deals.values()] == ["Renewal"]
        # The deployed backend has no next steps or activities: the screen says they
        # stayed here, as the CLI's report does.
        assert "next steps and activities not synced" in status_text(screen)
        # Both sides change the deal: the next sync lists a conflict, nothing overwritten.
        app.store.deals.update(deal.id, {"value": 200})  # type: ignore[union-attr]
        backend.edit_deal(str(deal.id), title="Renewal (theirs)", value=300)
        await pilot.press("s")
        await wait_for(lambda: "1 conflict" in status_text(screen), pilot)
        fields = screen.query_one("#sync-fields", DataTable)
        await wait_for(lambda: fields.row_count == 2, pilot)  # title and value differ
        # Theirs for the title (first row), mine for the value; apply, then sync.
        fields.focus()
        fields.move_cursor(row=0)
        await pilot.press("space", "a")
        await wait_for(lambda: "0 conflict" in status_text(screen), pilot)
        await pilot.press("s")
        await wait_for(lambda: backend.deals[str(deal.id)]["value"] == 200, pilot)
        assert backend.deals[str(deal.id)]["title"] == "Renewal (theirs)"
        local = app.store.deals.get(deal.id)  # type: ignore[union-attr]
        assert (local.title, local.value) == ("Renewal (theirs)", 200)


async def test_unlinked_workspace_says_how_to_link(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        await pilot.press("ctrl+y")
        await wait_for(lambda: isinstance(app.screen, SyncScreen), pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        await wait_for(lambda: "Not linked" in status_text(screen), pilot)
        assert "vectoros sync --link" in status_text(screen)
        await pilot.press("s")
        await wait_for(lambda: not screen.busy, pilot)
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, SyncScreen), pilot)
