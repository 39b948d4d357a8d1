"""The pipeline's next-step marks: a board card and the deal table's Next column say when
an open deal's next step is overdue or missing, in words (no colour needed), and say
nothing for a closed deal or a step due today or later. Driven with Pilot on the seeded
demo (SQLite; time frozen at FIXED_NOW), the next steps written by the test's own store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from next_steps_demo import give_next_steps
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.widgets.deal_table import DealTable, visible_columns
from vectoros_tui.widgets.stage_board import StageDeals

OVERDUE_CARD = "⚑ step overdue"
MISSING_CARD = "⚐ no next step"
TODAY = FIXED_NOW.date()


@dataclass
class Marked:
    url: str
    store: Store
    workspace: WorkspaceView
    kinds: dict[str, list[str]]  # deal ids: due, overdue, missing (open deals)
    due_today: str
    won: str  # a won deal whose next step is long overdue
    lost: str  # a lost deal with no next step


@pytest.fixture
def marked(demo_database: str) -> Iterator[Marked]:
    store = open_store(demo_database, upgrade=False)
    try:
        (workspace,) = store.workspaces.list()
        kinds = give_next_steps(store, workspace.id)
        # A step due today is not overdue yet.
        due_today = kinds["due"].pop()
        store.deals.update(due_today, {"next_step_due": TODAY}, now=FIXED_NOW)
        won = store.deals.list(workspace.id, outcome="won", limit=1).deals[0]
        store.deals.update(
            won.id,
            {"next_step": "Send the invoice", "next_step_due": TODAY - timedelta(days=30)},
            now=FIXED_NOW,
        )
        lost = store.deals.list(workspace.id, outcome="lost", limit=1).deals[0]
        assert lost.next_step is None
        yield Marked(demo_database, store, workspace, kinds, due_today, str(won.id), str(lost.id))
    finally:
        store.close()


async def started(app: VectorOSApp, pilot: Any) -> PipelineScreen:
    await wait_for_snapshot(app, pilot)
    screen = app.screen
    assert isinstance(screen, PipelineScreen)
    await wait_for(lambda: screen.page is not None, pilot)
    await pilot.pause()
    return screen


def cards(screen: PipelineScreen) -> dict[str, str]:
    """Each card's text by deal id."""
    found = {}
    for column in screen.query(StageDeals):
        for index in range(column.option_count):
            option = column.get_option_at_index(index)
            if option.id is not None:
                found[option.id] = str(option.prompt)
    return found


def next_cells(table: DealTable) -> dict[str, str]:
    return {
        str(row.value): str(table.get_cell(row, "next_step")) for row in table.rows if row.value
    }


async def test_board_cards_mark_overdue_and_missing_next_steps_only(
    marked: Marked, make_app: Any
) -> None:
    app = make_app(marked.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(app, pilot)
        shown = cards(screen)
        # Every open deal of the demo is on the board (no column is past BOARD_CARDS).
        assert set(shown) == {
            *marked.kinds["due"],
            *marked.kinds["overdue"],
            *marked.kinds["missing"],
            marked.due_today,
        }
        assert marked.kinds["overdue"] and marked.kinds["missing"] and marked.kinds["due"]
        for deal_id in marked.kinds["overdue"]:
            assert OVERDUE_CARD in shown[deal_id] and MISSING_CARD not in shown[deal_id]
        for deal_id in marked.kinds["missing"]:
            assert MISSING_CARD in shown[deal_id] and OVERDUE_CARD not in shown[deal_id]
        for deal_id in [*marked.kinds["due"], marked.due_today]:
            assert OVERDUE_CARD not in shown[deal_id] and MISSING_CARD not in shown[deal_id]

        # The step is done and the next one set: the card's mark goes with the save.
        fixed = marked.kinds["overdue"][0]
        session = app.session
        assert session is not None
        # From a thread, as the screens' workers write.
        await asyncio.to_thread(
            session.change_deal,
            lambda deals: deals.update(
                uuid.UUID(fixed), {"next_step_due": TODAY + timedelta(days=2)}
            ),
        )
        await wait_for(lambda: OVERDUE_CARD not in cards(screen)[fixed], pilot)
        assert MISSING_CARD not in cards(screen)[fixed]


async def test_the_table_says_when_the_next_step_is_due_in_80_columns(
    marked: Marked, make_app: Any
) -> None:
    app = make_app(marked.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(app, pilot)
        await pilot.press("v")
        table = screen.query_one(DealTable)
        await wait_for(lambda: table.row_count > 0, pilot)
        # The Next column fits beside the numbers a rep decides on, without scrolling.
        keys = [str(key.value) for key in table.columns]
        assert keys[0] == "title" and "next_step" in keys and "close_date" in keys
        assert table.virtual_size.width <= table.size.width
        layout = visible_columns(80, show_outcome=False)
        assert sum(width + 2 for _, width in layout) + 2 <= 80

        cells = next_cells(table)
        assert set(cells) == {
            *marked.kinds["due"],
            *marked.kinds["overdue"],
            *marked.kinds["missing"],
            marked.due_today,
        }
        for deal_id in marked.kinds["overdue"]:
            assert cells[deal_id] == "overdue"
        for deal_id in marked.kinds["missing"]:
            assert cells[deal_id] == "missing"
        for deal_id in [*marked.kinds["due"], marked.due_today]:
            due = marked.store.deals.get(uuid.UUID(deal_id)).next_step_due
            assert due is not None and due >= TODAY
            assert cells[deal_id] == f"{due.day} {due:%b}"

        # Closed deals ask for nothing: u shows the won, then the lost.
        await pilot.press("u")
        await wait_for(lambda: marked.won in next_cells(table), pilot)
        won = next_cells(table)
        assert won[marked.won] not in ("overdue", "missing")
        assert not {"overdue", "missing"} & set(won.values())
        await pilot.press("u")
        await wait_for(lambda: marked.lost in next_cells(table), pilot)
        lost = next_cells(table)
        assert lost[marked.lost] == "—"
        assert not {"overdue", "missing"} & set(lost.values())
