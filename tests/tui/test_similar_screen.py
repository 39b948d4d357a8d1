"""The similar-deals screen (F5, and l on a deal), with the real model and a real Qdrant
Edge index in the test's data folder, on SQLite and Postgres."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from rich.console import Console
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.config import Settings, SimilarSettings
from vectoros_tui.locations import current_locations
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.screens.similar import SimilarScreen
from vectoros_tui.similar.index import EdgeIndex
from vectoros_tui.similar.texts import deal_text, text_hash
from vectoros_tui.store.deal_sources import load_deal_sources
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store

pytestmark = pytest.mark.usefixtures("model_in_home")

SIZE = (100, 30)
SEARCH_TIMEOUT = 60.0  # the first search loads the model and embeds the workspace


@pytest.fixture
def small_demo(database_url: str) -> str:
    """30 demo deals: enough closed ones for evidence, few enough to embed quickly."""
    store = open_store(database_url, upgrade=False)
    create_demo_workspace(store.db, deals=30, seed=7, now=FIXED_NOW)
    store.close()
    return database_url


def text_of(widget: Static, width: int = 98) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def result_ids(screen: SimilarScreen) -> list[str]:
    table = screen.query_one("#similar-results", DataTable)
    return [str(key.value) for key in table.rows]


def saved(editor: DealEditorScreen, version: int) -> bool:
    return editor.deal is not None and editor.deal.version > version


async def submit_query(app: VectorOSApp, pilot: Pilot, query: str) -> SimilarScreen:
    """F5, type ``query``, enter; returns the screen without waiting for the answer."""
    await wait_for_snapshot(app, pilot)
    await pilot.press("f5")
    await wait_for(lambda: isinstance(app.screen, SimilarScreen), pilot)
    screen = app.screen
    assert isinstance(screen, SimilarScreen)
    screen.query_one("#similar-query", Input).value = query
    screen.query_one("#similar-query", Input).focus()
    await pilot.press("enter")
    return screen


async def search_text(app: VectorOSApp, pilot: Pilot, query: str) -> SimilarScreen:
    screen = await submit_query(app, pilot, query)
    await wait_for(lambda: screen.results, pilot, timeout=SEARCH_TIMEOUT)
    return screen


async def search_off_message(screen: SimilarScreen, pilot: Pilot) -> str:
    """Waits for the evidence panel to say search is off; returns what it says, on one line
    (where it wraps depends on the length of the folder names in it)."""
    evidence = screen.query_one("#similar-evidence", Static)
    await wait_for(lambda: "search is off" in text_of(evidence), pilot, SEARCH_TIMEOUT)
    return " ".join(text_of(evidence).split())


async def test_search_by_text_lists_similar_deals_and_evidence(
    small_demo: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(small_demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_text(app, pilot, "security add-on for a retailer")
        table = screen.query_one("#similar-results", DataTable)
        assert table.row_count == len(screen.results) > 0
        scores = [deal.similarity for deal in screen.results]
        assert scores == sorted(scores, reverse=True)
        evidence = text_of(screen.query_one("#similar-evidence", Static))
        assert "most similar closed deals" in evidence
        assert "Win rate" in evidence
        status = text_of(screen.query_one("#similar-status", Static))
        assert "security add-on for a retailer" in status
        # The index now holds the whole workspace, in step with the database.
        assert app.workspace is not None
        drift = app.similar_service().drift(app.workspace.id)
        assert drift.in_step and drift.indexed == 30

        # The results have the focus; typing asks anew, and enter searches (no deal opens).
        # The keys arrive at once, as a fast typist's (or a paste's) do.
        assert table.has_focus
        first = screen.results
        driver = app._driver
        assert driver is not None
        for character in "cloud backup":
            key = events.Key("space" if character == " " else character, character)
            key.set_sender(app)
            driver.send_message(key)  # as a terminal's input arrives, none awaited
        query = screen.query_one("#similar-query", Input)
        await wait_for(lambda: query.value == "cloud backup", pilot)
        assert query.has_focus
        await pilot.press("enter")
        await wait_for(lambda: screen.results is not first, pilot, timeout=SEARCH_TIMEOUT)
        assert app.screen is screen
        assert "cloud backup" in text_of(screen.query_one("#similar-status", Static))


async def test_like_this_from_the_board_excludes_the_deal_and_returns(
    small_demo: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(small_demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        pipeline = app.screen
        assert isinstance(pipeline, PipelineScreen)
        chosen = pipeline._current_deal()
        assert chosen is not None  # the first card is highlighted from the start
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, SimilarScreen), pilot)
        screen = app.screen
        assert isinstance(screen, SimilarScreen)
        await wait_for(lambda: screen.results, pilot, timeout=SEARCH_TIMEOUT)
        ids = result_ids(screen)
        assert chosen.id not in ids
        assert chosen.title in text_of(screen.query_one("#similar-status", Static))
        # ctrl+l: deals like the highlighted result instead.
        first = ids[0]
        await pilot.press("ctrl+l")
        await wait_for(lambda: first not in result_ids(screen), pilot, timeout=SEARCH_TIMEOUT)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)


async def test_outcome_filter_and_opening_a_result(
    small_demo: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(small_demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_text(app, pilot, "multi-year enterprise agreement")
        assert {d.outcome for d in screen.results} != {None}  # closed deals are in the mix
        previous = screen.results
        await pilot.press("f6")  # all -> open
        await wait_for(lambda: screen.results is not previous, pilot, timeout=SEARCH_TIMEOUT)
        assert screen.outcome == "open"
        assert screen.results and all(d.outcome is None for d in screen.results)
        previous = screen.results
        await pilot.press("f6")  # open -> won
        await wait_for(lambda: screen.results is not previous, pilot, timeout=SEARCH_TIMEOUT)
        assert all(d.outcome == "won" for d in screen.results)
        wanted = result_ids(screen)[0]
        screen.query_one("#similar-results", DataTable).focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        editor = app.screen
        assert isinstance(editor, DealEditorScreen)
        assert editor.deal_id == wanted


async def test_saving_a_deal_re_embeds_it_in_the_background(
    small_demo: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(small_demo)
    async with app.run_test(size=SIZE) as pilot:
        await search_text(app, pilot, "pilot project")  # builds the index
        service = app.similar_service()
        assert app.workspace is not None
        workspace_id = app.workspace.id
        deal = app.store.deals.list(workspace_id).deals[0]  # type: ignore[union-attr]
        app.open_deal(str(deal.id))
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        editor = app.screen
        assert isinstance(editor, DealEditorScreen)
        await wait_for(lambda: editor.deal is not None, pilot)
        editor.query_one("#field-title", Input).value = "Forklift fleet for a cold-storage depot"
        await pilot.press("ctrl+s")
        await wait_for(
            lambda: editor.deal is not None and editor.deal.version > deal.version, pilot
        )
        assert app._indexer is not None and app._indexer.wait_idle(SEARCH_TIMEOUT)
        source = load_deal_sources(app.store.db, workspace_id, [deal.id])[0]  # type: ignore[union-attr]
        current = text_hash(deal_text(source), service.embedder.model_id)
        assert service.index.hashes_of([deal.id])[deal.id][1] == current
        found = service.search_text(workspace_id, "forklifts for cold storage", limit=1)
        assert found.deals[0].deal_id == deal.id


async def test_index_held_by_another_process_turns_search_off_only(
    small_demo: str, make_app: Callable[..., VectorOSApp]
) -> None:
    held = EdgeIndex(current_locations().vector_index_dir, 384)
    try:
        app = make_app(small_demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = await submit_query(app, pilot, "anything")
            message = await search_off_message(screen, pilot)
            assert "in use" in message and "VectorOS process" in message
            # Everything else still works.
            await pilot.press("f2")
            await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)
            assert app.snapshot is not None and len(app.snapshot.deals) == 30
    finally:
        held.close()
    # Released: the index opens and was not damaged.
    EdgeIndex(current_locations().vector_index_dir, 384).close()


async def test_missing_model_says_why_and_how_to_fix(
    small_demo: str, make_app: Callable[..., VectorOSApp], tmp_path: Path
) -> None:

    empty = tmp_path / "no-model"
    empty.mkdir()
    settings = Settings(similar=SimilarSettings(model_path=empty))
    app = make_app(small_demo, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await submit_query(app, pilot, "anything")
        message = " ".join((await search_off_message(screen, pilot)).split())
        assert str(empty) in message.replace(" ", "") or "no .onnx" in message
        assert "model_path" in message
        assert not screen.results
