"""The pipeline screen (F2): stage board, paged deal table, filters and deal actions.

Every test runs on SQLite and on Postgres (``demo_database``: the seeded 120-deal 'Demo'
workspace, time frozen at FIXED_NOW). What the screen shows is checked against an
independent ``Store`` opened by the test, and every write is verified in that store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from rich.text import Text
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.screens.close_deal import CloseDealScreen
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.messages import ConfirmScreen
from vectoros_tui.screens.pipeline import PAGE_SIZE, PipelineScreen
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.snapshot import AGEING_DAYS, BOARD_CARDS, load_board_preview
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.views import DealView, WorkspaceView
from vectoros_tui.widgets.deal_table import SORTABLE_COLUMNS, DealTable
from vectoros_tui.widgets.formatting import compact_money
from vectoros_tui.widgets.stage_board import StageBoard, StageDeals

SIZE = (100, 30)
DEMO_DEALS = 120


@dataclass
class Demo:
    url: str
    store: Store
    workspace: WorkspaceView

    def page(self, **query: Any) -> list[DealView]:
        """What the table should show: one page from the store, the screen's defaults."""
        query.setdefault("outcome", "open")
        query.setdefault("sort", "value")
        query.setdefault("descending", True)
        query.setdefault("limit", PAGE_SIZE)
        return self.store.deals.list(self.workspace.id, **query).deals

    def total(self, **query: Any) -> int:
        query.setdefault("outcome", "open")
        return self.store.deals.list(self.workspace.id, limit=1, **query).total


@pytest.fixture
def demo(demo_database: str) -> Iterator[Demo]:
    """The demo database plus a store of the test's own (another connection, as a CLI
    or a second rep would have)."""
    store = open_store(demo_database, upgrade=False)
    try:
        (workspace,) = store.workspaces.list()
        yield Demo(demo_database, store, workspace)
    finally:
        store.close()


# --- helpers ------------------------------------------------------------------------


def plain(widget: Static) -> str:
    rendered = widget.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def filters_text(screen: PipelineScreen) -> str:
    return plain(screen.query_one("#filters", Static))


def table_ids(screen: PipelineScreen) -> list[str]:
    table = screen.query_one(DealTable)
    return [str(key.value) for key in table.rows]


def ids(deals: list[DealView]) -> list[str]:
    return [str(d.id) for d in deals]


async def start(app: VectorOSApp, pilot: Any) -> PipelineScreen:
    await wait_for_snapshot(app, pilot)
    screen = app.screen
    assert isinstance(screen, PipelineScreen)
    # The first page of the table is loaded after the snapshot arrives.
    await wait_for(lambda: screen.page is not None, pilot)
    return screen


async def show_table(screen: PipelineScreen, pilot: Any) -> DealTable:
    await pilot.press("v")
    assert screen.query_one(ContentSwitcher).current == "table-view"
    table = screen.query_one(DealTable)
    assert screen.focused is table
    return table


async def wait_rows(screen: PipelineScreen, pilot: Any, expected: list[DealView]) -> None:
    """Wait until the table shows exactly ``expected`` (ids, in order)."""
    want = ids(expected)
    try:
        await wait_for(lambda: table_ids(screen) == want, pilot)
    except AssertionError:
        shown = table_ids(screen)
        raise AssertionError(
            f"the table shows {len(shown)} rows ({filters_text(screen)!r}); expected "
            f"{len(want)}, {'same ids in another order' if sorted(shown) == sorted(want) else ''}"
        ) from None


async def highlight_first(screen: PipelineScreen, pilot: Any, stage: str) -> str:
    """Focus a board column and highlight its first (most valuable) deal."""
    column = screen.query_one(f"#deals-{stage}", StageDeals)
    column.focus()
    await pilot.pause()
    if column.highlighted is None:
        await pilot.press("down")
    await wait_for(lambda: column.highlighted == 0, pilot)
    deal_id = screen.query_one(StageBoard).highlighted_deal()
    assert deal_id is not None
    return deal_id


def column_ids(screen: PipelineScreen, stage: str) -> list[str]:
    column = screen.query_one(f"#deals-{stage}", StageDeals)
    return [str(column.get_option_at_index(i).id) for i in range(column.option_count)]


def open_in_store(demo: Demo, stage: str) -> list[DealView]:
    return demo.store.deals.list(demo.workspace.id, stage=stage, outcome="open", limit=1000).deals


# --- the board ----------------------------------------------------------------------


async def test_board_shows_four_stage_columns_matching_the_store(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        assert screen.query_one(ContentSwitcher).current == "board"
        assert [c.stage for c in screen.query(StageDeals)] == list(OPEN_STAGES)
        columns = {c.stage: c for c in app.snapshot.board()}

        total_open = 0
        for stage in OPEN_STAGES:
            deals = open_in_store(demo, stage)
            total_open += len(deals)
            column = columns[stage]
            # Same deals as the store, most valuable first.
            assert sorted(column_ids(screen, stage)) == sorted(ids(deals))
            values = [d.value for d in column.deals]
            assert values == sorted(values, reverse=True)
            assert column_ids(screen, stage) == [d.id for d in column.deals]

            header = plain(screen.query_one(f"#header-{stage}", Static))
            assert header.startswith(stage.title())
            assert f"{stage.title()} · {len(deals)}\n" in header

            ageing = [
                d for d in deals if (FIXED_NOW - d.stage_changed_at) >= timedelta(AGEING_DAYS)
            ]
            overdue = [d for d in deals if d.close_date and d.close_date < FIXED_NOW.date()]
            assert column.ageing == len(ageing)
            assert column.overdue == len(overdue)
            # The counts with their marks (words too, when they fit the column).
            assert (f"~{len(ageing)}" in header) == bool(ageing)
            assert (f"!{len(overdue)}" in header) == bool(overdue)

            # Each deal line carries its markers: ! overdue, ~ ageing.
            options = screen.query_one(f"#deals-{stage}", StageDeals)
            for index in range(options.option_count):
                option = options.get_option_at_index(index)
                numbers = str(option.prompt).split("\n")[0]
                assert ("!" in numbers) == any(str(d.id) == option.id for d in overdue)
                assert ("~" in numbers) == any(str(d.id) == option.id for d in ageing)

        assert total_open == demo.total() == len(app.snapshot.open_deals)
        # The seeded demo has both kinds of marker somewhere on the board.
        assert sum(c.ageing for c in columns.values()) > 0
        assert sum(c.overdue for c in columns.values()) > 0
        status = plain(screen.query_one("#status", Static))
        assert f"Demo: {total_open} open deals" in status
        assert "as of 09:00" in status


async def test_the_sql_board_preview_agrees_with_the_full_snapshot(
    demo: Demo, make_app: Any
) -> None:
    """The board painted first (from SQL) shows what the scored snapshot then shows."""
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        preview = load_board_preview(demo.store, demo.workspace, FIXED_NOW)
        for early, full in zip(preview, app.snapshot.board(), strict=True):
            assert early.stage == full.stage
            assert (early.count, early.ageing, early.overdue) == (
                full.count,
                full.ageing,
                full.overdue,
            )
            assert early.total_value == pytest.approx(full.total_value)
            assert early.weighted_value == pytest.approx(full.weighted_value)
            assert [d.id for d in early.deals] == [d.id for d in full.deals]


async def test_a_crowded_column_shows_its_top_deals_and_how_many_more(
    demo: Demo, make_app: Any
) -> None:
    extra = BOARD_CARDS  # the demo's 19 prospects plus these overflow the column
    for number in range(extra):
        demo.store.deals.create(
            demo.workspace.id, {"title": f"Small deal {number}", "value": 10, "stage": "prospect"}
        )
    prospects = open_in_store(demo, "prospect")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        column = screen.query_one("#deals-prospect", StageDeals)
        assert column.option_count == BOARD_CARDS + 1
        biggest = sorted(prospects, key=lambda d: (-d.value, str(d.id)))[:BOARD_CARDS]
        assert column_ids(screen, "prospect")[:BOARD_CARDS] == ids(biggest)
        more = column.get_option_at_index(BOARD_CARDS)
        assert more.disabled
        assert f"+{len(prospects) - BOARD_CARDS} more" in str(more.prompt)
        header = plain(screen.query_one("#header-prospect", Static))
        assert f"Prospect · {len(prospects)}\n" in header
        # The table still pages through all of them.
        await pilot.press("t")
        await wait_rows(screen, pilot, demo.page(stage="prospect"))
        assert f"of {len(prospects)}" in filters_text(screen)


async def test_board_headers_show_the_ageing_and_overdue_counts_on_screen(
    demo: Demo, make_app: Any
) -> None:
    """The flags must be visible at the usual terminal size, not clipped off the header."""
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        flagged = [c for c in app.snapshot.board() if c.ageing or c.overdue]
        assert flagged
        for column in flagged:
            header = screen.query_one(f"#header-{column.stage}", Static)
            visible = "\n".join(header.render_line(y).text for y in range(header.outer_size.height))
            assert f"{column.stage.title()} · {column.count}" in visible
            if column.ageing:
                assert f"~{column.ageing}" in visible, visible
            if column.overdue:
                assert f"!{column.overdue}" in visible, visible
            if bool(column.ageing) != bool(column.overdue):  # one flag: room for its word
                assert "ageing" in visible or "overdue" in visible, visible


def wrapped_lines(app: VectorOSApp, column: StageDeals) -> list[str]:
    """Every line the column's deals need at the column's current content width."""
    width = column.scrollable_content_region.width
    lines: list[str] = []
    for index in range(column.option_count):
        prompt = column.get_option_at_index(index).prompt
        assert isinstance(prompt, Text)
        lines += [line.plain.rstrip() for line in prompt.wrap(app.console, width)]
    return lines


def visible_lines(column: StageDeals) -> list[str]:
    height = column.scrollable_content_region.height
    return [column.render_line(y).text.rstrip() for y in range(height)]


async def test_board_titles_are_not_clipped_when_a_column_fills_up(
    demo: Demo, make_app: Any
) -> None:
    """A column that gains a scrollbar on repaint still shows every deal's whole title."""
    prospects = open_in_store(demo, "prospect")
    parked = prospects[3:]
    for deal in parked:  # a short prospect column: no scrollbar
        demo.store.deals.mark_lost(deal.id, "parked")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        column = screen.query_one("#deals-prospect", StageDeals)
        assert column.option_count == 3
        # Another rep reopens the parked deals; the column now overflows.
        for deal in parked:
            demo.store.deals.update(deal.id, {"stage": "prospect"})
        snapshot = app.snapshot
        app.data_changed()
        await wait_for_snapshot(app, pilot, snapshot)
        await pilot.pause()
        assert column.option_count == len(prospects)
        visible = visible_lines(column)
        # Scrolled, maybe, to keep the highlighted card in view (cards are 2-4 lines).
        top = column.scroll_offset.y
        assert visible == wrapped_lines(app, column)[top : top + len(visible)]


# --- the table ----------------------------------------------------------------------


async def test_v_toggles_the_table_which_pages_by_100(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        table = await show_table(screen, pilot)
        open_total = demo.total()
        await wait_rows(screen, pilot, demo.page())
        assert table.row_count == open_total <= PAGE_SIZE
        assert f"1-{open_total} of {open_total}" in filters_text(screen)

        # All outcomes: u cycles open -> won -> lost -> all.
        for outcome in ("won", "lost", None):
            await pilot.press("u")
            await wait_rows(screen, pilot, demo.page(outcome=outcome))
            assert f"{outcome or 'all outcomes'} (u)" in filters_text(screen)
        assert table.row_count == PAGE_SIZE
        assert f"1-100 of {DEMO_DEALS}" in filters_text(screen)

        await pilot.press("right")
        await wait_rows(screen, pilot, demo.page(outcome=None, offset=PAGE_SIZE))
        assert table.row_count == DEMO_DEALS - PAGE_SIZE
        assert f"101-{DEMO_DEALS} of {DEMO_DEALS}" in filters_text(screen)

        # There is no third page: right stays on the last one.
        before = screen.page
        await pilot.press("right")
        await pilot.pause(0.1)
        assert screen.page is before
        assert screen.page_offset == PAGE_SIZE

        await pilot.press("left")
        await wait_rows(screen, pilot, demo.page(outcome=None))
        assert f"1-100 of {DEMO_DEALS}" in filters_text(screen)
        await pilot.press("left")  # already on the first page
        await pilot.pause(0.1)
        assert screen.page_offset == 0

        await pilot.press("v")
        assert screen.query_one(ContentSwitcher).current == "board"
        assert "of 120" not in filters_text(screen)
        assert isinstance(screen.focused, StageDeals)


async def test_c_cycles_the_sort_and_r_reverses_it(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await show_table(screen, pilot)
        await wait_rows(screen, pilot, demo.page())

        start_index = SORTABLE_COLUMNS.index("value")
        # Once round every sort column, back to value (health has its own test below).
        for step in range(1, len(SORTABLE_COLUMNS) + 1):
            sort = SORTABLE_COLUMNS[(start_index + step) % len(SORTABLE_COLUMNS)]
            await pilot.press("c")
            if sort == "health":
                await wait_for(lambda: screen.sort == "health", pilot)
                continue
            expected = demo.page(sort=sort)
            await wait_rows(screen, pilot, expected)
            assert screen.sort == sort

        assert screen.sort == "value"
        rows = demo.page(sort="value")
        assert rows[0].value == max(d.value for d in rows)
        assert "by Value ↓" in filters_text(screen)

        await pilot.press("r")
        ascending = demo.page(sort="value", descending=False)
        await wait_rows(screen, pilot, ascending)
        assert ascending[0].value == min(d.value for d in ascending)
        assert table_ids(screen)[0] != ids(rows)[0]
        assert "by Value ↑" in filters_text(screen)
        # The value cell of the first row shows the smallest deal.
        table = screen.query_one(DealTable)
        assert str(table.get_cell_at((0, 2))) == compact_money(ascending[0].value)

        await pilot.press("r")
        await wait_rows(screen, pilot, rows)


async def test_t_cycles_the_stage_filter(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        table = screen.query_one(DealTable)
        # t from the board switches to the table and filters it.
        for stage in OPEN_STAGES[:2]:
            await pilot.press("t")
            expected = demo.page(stage=stage)
            await wait_rows(screen, pilot, expected)
            assert screen.query_one(ContentSwitcher).current == "table-view"
            assert 0 < table.row_count == demo.total(stage=stage) < demo.total()
            assert {table.get_cell_at((row, 3)) for row in range(table.row_count)} == {stage}
            assert f"{stage} (t)" in filters_text(screen)
            assert f"1-{len(expected)} of {len(expected)}" in filters_text(screen)

        # ... proposal, negotiation, then all again: open deals are never in "closed", so
        # the filter does not offer it while the outcome filter shows open deals.
        for _ in range(2):
            await pilot.press("t")
        assert screen.stage_filter == "negotiation"
        await pilot.press("t")
        await wait_rows(screen, pilot, demo.page())
        assert "all stages (t)" in filters_text(screen)

        # All outcomes (open → won → lost → all): "closed" is one of the stages.
        await pilot.press("u", "u", "u")
        assert screen.outcome_filter is None
        for _ in range(len(OPEN_STAGES) + 1):
            await pilot.press("t")
        assert screen.stage_filter == "closed"
        await wait_rows(screen, pilot, demo.page(stage="closed", outcome=None))
        assert table.row_count > 0
        # Back to open deals: the stage filter that would find nothing is dropped.
        await pilot.press("u")
        assert (screen.outcome_filter, screen.stage_filter) == ("open", None)


async def test_the_health_column_sorts_by_the_scores_shown(demo: Demo, make_app: Any) -> None:
    """Health is computed, not stored: the table still sorts by it, both ways (paging is
    checked with the store, tests/store/test_snapshot.py)."""
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await show_table(screen, pilot)
        table = screen.query_one(DealTable)
        scores = {k: v.health_score for k, v in app.snapshot.health.items()}
        open_ids = [
            str(d.id)
            for d in demo.store.deals.list(demo.workspace.id, outcome="open", limit=10_000).deals
        ]
        assert len(set(scores[i] for i in open_ids)) > 10
        best_first = sorted(open_ids, key=lambda i: (-scores[i], i))

        table.post_message(
            DataTable.HeaderSelected(
                table, table.columns["health"].key, 1, table.columns["health"].label
            )
        )
        await wait_for(lambda: table_ids(screen) == best_first, pilot)
        assert "by Health ↓" in filters_text(screen)
        shown = [float(str(table.get_cell_at((row, 1)))) for row in range(table.row_count)]
        assert shown == sorted(shown, reverse=True)

        await pilot.press("r")
        worst_first = sorted(open_ids, key=lambda i: (scores[i], i))
        await wait_for(lambda: table_ids(screen)[:5] == worst_first[:5], pilot)
        assert "by Health ↑" in filters_text(screen)

        # Every outcome: closed deals have no score and come after the scored ones, so
        # even worst-first the page starts with the same open deals.
        await pilot.press("u", "u", "u")  # open -> won -> lost -> all
        total = demo.store.deals.list(demo.workspace.id, limit=1).total
        assert total > len(open_ids)
        await wait_for(lambda: screen.page is not None and screen.page.total == total, pilot)
        await wait_for(lambda: table_ids(screen)[: len(open_ids)] == worst_first, pilot)
        assert not set(table_ids(screen)[len(open_ids) :]) & set(scores)


async def test_search_filters_rows_after_the_debounce(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("s")
        search = screen.query_one("#search", Input)
        assert screen.focused is search

        company = demo.page()[0].company
        assert company
        fragment = company.split()[0][:5].lower()
        expected = demo.page(search=fragment)
        assert 0 < len(expected) < demo.total()

        await pilot.press(*fragment)
        # Pilot's press returns once the process looks idle, which on a loaded machine can
        # be before the Input has handled the last key.
        await wait_for(lambda: search.value == fragment, pilot, timeout=5)
        # Nothing happens until the typing pauses (debounce), then only matches remain.
        # (Typing slowed by a loaded machine may pause after a prefix, whose matches can be
        # the same rows: wait for the whole fragment's search.)
        await wait_for(lambda: screen.search_text == fragment, pilot, timeout=5)
        await wait_rows(screen, pilot, expected)
        # The board stays in view and shows only what the search finds, as the table does.
        assert screen.query_one(ContentSwitcher).current == "board"
        on_board = {i for stage in OPEN_STAGES for i in column_ids(screen, stage)}
        assert on_board == set(ids(expected))
        assert f"search: {fragment}" in filters_text(screen)
        assert f"{len(expected)} open deals found" in plain(screen.query_one("#status", Static))
        for deal in expected:
            haystack = " ".join(filter(None, (deal.title, deal.company, deal.contact_name)))
            assert fragment in haystack.lower()

        # Escape leaves the search box for the (filtered) table.
        await pilot.press("escape")
        assert screen.focused is screen.query_one(DealTable)
        assert f"of {len(expected)}" in filters_text(screen)

        # Clearing the search brings every open deal back.
        search.focus()
        await pilot.press(*["backspace"] * len(fragment))
        await wait_rows(screen, pilot, demo.page())
        assert screen.search_text == ""


async def test_search_with_no_match_shows_an_empty_table(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("s", *"zzqx", "enter")
        await wait_rows(screen, pilot, [])
        assert "0-0 of 0" in filters_text(screen)
        assert screen.focused is screen.query_one(DealTable)
        # Actions on an empty table warn instead of failing.
        await pilot.press("f", "o", "d", "e")
        await pilot.pause()
        assert isinstance(app.screen, PipelineScreen)


# --- deal actions -------------------------------------------------------------------


async def test_f_moves_the_highlighted_deal_forward_and_b_back(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "prospect")
        before = demo.store.deals.get(deal_id)
        assert before.stage == "prospect"

        snapshot = app.snapshot
        await pilot.press("f")
        await wait_for_snapshot(app, pilot, snapshot)
        await wait_for(lambda: deal_id in column_ids(screen, "qualified"), pilot)
        moved = demo.store.deals.get(deal_id)
        assert moved.stage == "qualified"
        assert moved.outcome is None
        assert moved.version == before.version + 1
        assert deal_id not in column_ids(screen, "prospect")
        history = demo.store.deals.history(uuid.UUID(deal_id))
        assert history[-1]["field"] == "stage"
        assert (history[-1]["from"], history[-1]["to"]) == ("prospect", "qualified")

        # Focus follows the moved deal to its new column, still highlighted: press b.
        qualified = screen.query_one("#deals-qualified", StageDeals)
        assert screen.focused is qualified
        assert screen.query_one(StageBoard).highlighted_deal() == deal_id
        snapshot = app.snapshot
        await pilot.press("b")
        await wait_for_snapshot(app, pilot, snapshot)
        await wait_for(lambda: deal_id in column_ids(screen, "prospect"), pilot)
        back = demo.store.deals.get(deal_id)
        assert back.stage == "prospect"
        assert back.version == before.version + 2
        history = demo.store.deals.history(uuid.UUID(deal_id))
        assert (history[-1]["from"], history[-1]["to"]) == ("qualified", "prospect")


async def test_f_in_the_table_moves_the_highlighted_row(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        table = await show_table(screen, pilot)
        await pilot.press("t", "t")  # qualified
        await wait_rows(screen, pilot, demo.page(stage="qualified"))
        deal_id = table.highlighted_deal()
        assert deal_id is not None

        snapshot = app.snapshot
        await pilot.press("f")
        await wait_for_snapshot(app, pilot, snapshot)
        assert demo.store.deals.get(deal_id).stage == "proposal"
        # It leaves the qualified-only table.
        await wait_rows(screen, pilot, demo.page(stage="qualified"))
        assert deal_id not in table_ids(screen)


async def test_f_on_the_last_open_stage_changes_nothing(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "negotiation")
        before = demo.store.deals.get(deal_id)
        await pilot.press("f")
        # The refused move is reported; the deal is untouched.
        await wait_for(lambda: app._notifications, pilot)
        after = demo.store.deals.get(deal_id)
        assert (after.stage, after.version) == ("negotiation", before.version)
        messages = [n.message for n in app._notifications]
        assert any("last open stage" in m for m in messages), messages


async def test_o_then_ctrl_l_marks_the_deal_lost_with_a_reason(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "proposal")
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, CloseDealScreen), pilot)
        dialog = app.screen
        assert demo.store.deals.get(deal_id).title in plain(dialog.query_one("Label"))
        reason = dialog.query_one("#reason", Input)
        assert dialog.focused is reason
        snapshot = app.snapshot
        await pilot.press(*"Lost to competitor", "ctrl+l")
        await wait_for(lambda: app.screen is screen, pilot)
        await wait_for_snapshot(app, pilot, snapshot)

        lost = demo.store.deals.get(deal_id)
        assert lost.outcome == "lost"
        assert lost.stage == "closed"
        assert lost.lost_reason == "Lost to competitor"
        assert lost.probability == 0
        assert lost.closed_at is not None
        assert deal_id not in column_ids(screen, "proposal")
        assert app.snapshot.deal(deal_id).outcome == "lost"


async def test_o_then_ctrl_g_marks_the_deal_won(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "negotiation")
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, CloseDealScreen), pilot)
        await pilot.press("ctrl+g")
        await wait_for(lambda: demo.store.deals.get(deal_id).outcome == "won", pilot)
        won = demo.store.deals.get(deal_id)
        assert (won.stage, won.probability, won.lost_reason) == ("closed", 100, None)
        await wait_for(lambda: deal_id not in column_ids(screen, "negotiation"), pilot)


async def test_o_then_escape_changes_nothing(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "qualified")
        before = demo.store.deals.get(deal_id)
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, CloseDealScreen), pilot)
        await pilot.press(*"Price", "escape")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.pause(0.1)
        assert demo.store.deals.get(deal_id) == before


async def test_d_asks_and_deletes_only_when_confirmed(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "prospect")
        title = demo.store.deals.get(deal_id).title

        # n (or escape) cancels.
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert title in plain(app.screen.query_one("#question", Static))
        await pilot.press("n")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.pause(0.1)
        assert demo.store.deals.get(deal_id).title == title

        # y deletes.
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        snapshot = app.snapshot
        await pilot.press("y")
        await wait_for_snapshot(app, pilot, snapshot)
        with pytest.raises(NotFoundError):
            demo.store.deals.get(deal_id)
        assert demo.store.deals.list(demo.workspace.id, limit=1).total == DEMO_DEALS - 1
        assert deal_id not in column_ids(screen, "prospect")
        assert app.snapshot.deal(deal_id) is None


async def test_n_opens_an_empty_deal_editor(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        editor = app.screen
        assert editor.deal_id is None
        assert editor.focused is editor.query_one("#field-title", Input)
        assert editor.query_one("#field-title", Input).value == ""


async def test_e_opens_the_highlighted_deal_in_the_editor(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        table = await show_table(screen, pilot)
        await wait_rows(screen, pilot, demo.page())
        await pilot.press("down")
        deal_id = table.highlighted_deal()
        assert deal_id == ids(demo.page())[1]
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        editor = app.screen
        await wait_for(lambda: editor.deal is not None, pilot)
        assert editor.query_one("#field-title", Input).value == demo.store.deals.get(deal_id).title

        # Back on the pipeline, enter on a row opens it too.
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        assert app.screen.deal_id == deal_id


async def test_a_deal_changed_elsewhere_is_neither_moved_nor_deleted_blindly(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = await highlight_first(screen, pilot, "prospect")
        # Another rep changes the deal; this screen still shows the old version.
        theirs = demo.store.deals.update(deal_id, {"title": "Renamed elsewhere"})

        snapshot = app.snapshot
        await pilot.press("f")
        await wait_for_snapshot(app, pilot, snapshot)
        assert demo.store.deals.get(deal_id) == theirs
        assert any("changed by someone else" in n.message for n in app._notifications)
        # The reload shows their version.
        assert app.snapshot.deal(deal_id).title == "Renamed elsewhere"

        demo.store.deals.update(deal_id, {"value": 1})
        theirs = demo.store.deals.get(deal_id)
        assert await highlight_first(screen, pilot, "prospect") == deal_id
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        snapshot = app.snapshot
        await pilot.press("y")
        await wait_for_snapshot(app, pilot, snapshot)
        assert demo.store.deals.get(deal_id) == theirs


async def test_a_page_emptied_by_a_reload_steps_back_to_the_last_page(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await show_table(screen, pilot)
        await pilot.press("u", "u", "u")  # all outcomes: 120 deals, two pages
        await wait_rows(screen, pilot, demo.page(outcome=None))
        await pilot.press("right")
        second_page = demo.page(outcome=None, offset=PAGE_SIZE)
        await wait_rows(screen, pilot, second_page)

        # Someone deletes every deal of the second page, then this rep reloads.
        for deal in second_page:
            demo.store.deals.delete(deal.id)
        snapshot = app.snapshot
        await pilot.press("ctrl+r")
        await wait_for_snapshot(app, pilot, snapshot)
        await wait_for(lambda: screen.page.total == PAGE_SIZE, pilot)
        # Not an empty "0-0 of 100" page: the last page that has deals.
        await wait_rows(screen, pilot, demo.page(outcome=None))
        assert f"1-100 of {PAGE_SIZE}" in filters_text(screen)


# --- two reps, one database -----------------------------------------------------------


async def test_a_second_instance_sees_the_first_ones_change_after_refresh(
    demo: Demo, make_app: Any
) -> None:
    viewer = make_app(demo.url, poll_seconds=0)
    async with viewer.run_test(size=SIZE) as viewer_pilot:
        viewer_screen = await start(viewer, viewer_pilot)
        stale = viewer.snapshot
        deal_id = column_ids(viewer_screen, "prospect")[0]

        # Another rep, in another app instance on the same database, moves that deal.
        editor = make_app(demo.url, poll_seconds=0)
        async with editor.run_test(size=SIZE) as editor_pilot:
            editor_screen = await start(editor, editor_pilot)
            assert await highlight_first(editor_screen, editor_pilot, "prospect") == deal_id
            snapshot = editor.snapshot
            await editor_pilot.press("f")
            await wait_for_snapshot(editor, editor_pilot, snapshot)
        assert demo.store.deals.get(deal_id).stage == "qualified"

        # Without polling the first instance still shows what it loaded...
        await viewer_pilot.pause(0.1)
        assert viewer.snapshot is stale
        assert deal_id in column_ids(viewer_screen, "prospect")
        # ... until it reloads (ctrl+r).
        await viewer_pilot.press("ctrl+r")
        await wait_for_snapshot(viewer, viewer_pilot, stale)
        await wait_for(lambda: deal_id in column_ids(viewer_screen, "qualified"), viewer_pilot)
        assert deal_id not in column_ids(viewer_screen, "prospect")
        assert viewer.snapshot.deal(deal_id).stage == "qualified"

        # A change made through the store (a CLI, say) shows after data_changed().
        demo.store.deals.update(deal_id, {"value": 123_456})
        stale = viewer.snapshot
        viewer.data_changed()
        await wait_for_snapshot(viewer, viewer_pilot, stale)
        assert viewer.snapshot.deal(deal_id).value == 123_456


async def test_polling_picks_up_another_instances_change(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url, poll_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        deal_id = column_ids(screen, "qualified")[0]
        stale = app.snapshot
        await pilot.pause(0.3)
        assert app.snapshot is stale  # nothing changed: no reload
        demo.store.deals.move_stage(uuid.UUID(deal_id), 1)
        await wait_for(lambda: deal_id in column_ids(screen, "proposal"), pilot)
        assert app.snapshot is not stale


# --- small terminals ----------------------------------------------------------------


async def test_80x24_renders_the_board_and_the_table(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start(app, pilot)
        board_svg = app.export_screenshot()
        for stage in OPEN_STAGES:
            assert stage.title() in board_svg
        table = await show_table(screen, pilot)
        await wait_rows(screen, pilot, demo.page())
        await pilot.pause()
        table_svg = app.export_screenshot()
        assert "Title" in table_svg
        assert table.row_count == demo.total()
        await pilot.press("down", "right", "left", "v", "n")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        await pilot.pause()
        assert "Title" in app.export_screenshot()


# --- what the board, the table and the status line agree on ---------------------------


async def test_the_board_follows_the_sort_shown_in_its_header(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        by_value = open_in_store(demo, "proposal")
        by_value.sort(key=lambda d: -d.value)
        assert column_ids(screen, "proposal")[: len(by_value)] == ids(by_value)[:BOARD_CARDS]
        # Sort by title (c: value → stage … once round to title), still on the board.
        while screen.sort != "title":
            await pilot.press("c")
        assert screen.query_one(ContentSwitcher).current == "board"
        # The sort keeps its direction (descending): Z to A.
        by_title = sorted(
            open_in_store(demo, "proposal"), key=lambda d: d.title.lower(), reverse=True
        )
        await wait_for(
            lambda: column_ids(screen, "proposal")[:BOARD_CARDS] == ids(by_title)[:BOARD_CARDS],
            pilot,
        )
        assert "by Title" in filters_text(screen)


async def test_status_totals_are_those_of_the_filtered_view(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("t")  # the table, prospects only
        prospects = demo.store.deals.list(
            demo.workspace.id, stage="prospect", outcome="open", limit=1000
        ).deals
        await wait_rows(screen, pilot, demo.page(stage="prospect"))
        status = plain(screen.query_one("#status", Static))
        assert f"{len(prospects)} open deals found" in status
        assert compact_money(sum(d.value for d in prospects)) + " value" in status
        weighted = sum(d.value * d.probability / 100 for d in prospects)
        assert compact_money(weighted) + " weighted" in status


async def test_a_new_sort_starts_at_the_top_and_home_end_go_to_the_ends(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        table = await show_table(screen, pilot)
        await wait_rows(screen, pilot, demo.page())
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        await pilot.press("r")  # a new order: the first row, not the same deal further down
        await wait_rows(screen, pilot, demo.page(descending=False))
        assert table.cursor_row == 0
        assert table.scroll_y == 0


async def test_o_on_a_closed_deal_reopens_it_where_it_was(demo: Demo, make_app: Any) -> None:
    deal = demo.store.deals.list(demo.workspace.id, stage="proposal", outcome="open").deals[0]
    demo.store.deals.update(deal.id, {"probability": 45})
    demo.store.deals.mark_lost(deal.id, "Price")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("u", "u")  # outcome: won, then lost
        await wait_for(lambda: str(deal.id) in table_ids(screen), pilot)
        table = screen.query_one(DealTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(deal.id)))
        await pilot.pause()
        await pilot.press("b")  # moving a closed deal says how to reopen it
        await wait_for(lambda: any("press o" in n.message for n in app._notifications), pilot)
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: demo.store.deals.get(deal.id).outcome is None, pilot)
        reopened = demo.store.deals.get(deal.id)
        assert (reopened.stage, reopened.probability, reopened.lost_reason) == (
            "proposal",
            45,
            None,
        )
