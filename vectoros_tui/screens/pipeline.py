"""Pipeline: the stage board and the deal table of the current workspace (F2)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, Input, Static

from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.store.errors import ConflictError
from vectoros_tui.widgets.deal_table import COLUMNS, HEALTH_SORT, SORTABLE_COLUMNS, DealTable
from vectoros_tui.widgets.stage_board import StageBoard

if TYPE_CHECKING:
    # The screen paints its first frame before the store (SQLAlchemy) is imported.
    from vectoros_tui.store.board import StageColumn
    from vectoros_tui.store.snapshot import WorkspaceSnapshot
    from vectoros_tui.store.views import DealPage

PAGE_SIZE = 100
STAGE_FILTERS: tuple[str | None, ...] = (None, *OPEN_STAGES, "closed")
OUTCOME_FILTERS: tuple[str | None, ...] = (None, "open", "won", "lost")
SEARCH_DELAY = 0.15


class PipelineScreen(ReportsWorkerErrors, Screen[None]):
    AUTO_FOCUS = "#deals-prospect"
    DEFAULT_CSS = """
    PipelineScreen #filter-bar { height: auto; padding: 0 1; }
    PipelineScreen #search { width: 24; height: 1; border: none; padding: 0 1; }
    PipelineScreen #filters { width: 1fr; padding: 0 1; color: $text-muted; }
    PipelineScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    PipelineScreen #views { height: 1fr; }
    PipelineScreen #table-view { height: 1fr; }
    PipelineScreen DealTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "toggle_view", "Board/Table", id="pipeline.toggle_view"),
        Binding("n", "new_deal", "New", id="pipeline.new_deal"),
        Binding("e", "open_deal", "Edit", id="pipeline.open_deal"),
        Binding("f", "move(1)", "Stage→", id="pipeline.forward"),
        Binding("b", "move(-1)", "←Stage", id="pipeline.back"),
        Binding("o", "close_deal", "Won/Lost", id="pipeline.close_deal"),
        Binding("d", "delete_deal", "Delete", id="pipeline.delete_deal"),
        Binding("l", "like_deal", "Like this", id="pipeline.similar"),
        Binding("s", "search", "Search", id="pipeline.search"),
        Binding("t", "cycle_stage", "Stage filter", id="pipeline.stage_filter"),
        Binding("u", "cycle_outcome", "Outcome", id="pipeline.outcome_filter", show=False),
        Binding("c", "cycle_sort", "Sort", id="pipeline.sort", show=False),
        Binding("r", "reverse_sort", "Reverse", id="pipeline.reverse", show=False),
        Binding("escape", "leave_search", "Back", id="pipeline.leave_search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.stage_filter: str | None = None
        self.outcome_filter: str | None = "open"
        self.search_text = ""
        self.sort = "updated_at"
        self.descending = True
        self.page_offset = 0
        self.page: DealPage | None = None
        self._page_filters: tuple[object, ...] | None = None
        self._stale = False
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filter-bar"):
            yield Input(placeholder="search (s)", id="search")
            yield Static(id="filters")
        with ContentSwitcher(initial="board", id="views"):
            yield StageBoard(id="board")
            with Vertical(id="table-view"):
                yield DealTable(id="deals")
        yield Static("Opening the database…", id="status")
        yield Footer()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._snapshot_changed(self.snapshot)

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed)
        self.watch(self.app, "board_preview", self._preview_changed)
        self._show_filters()

    # --- data -----------------------------------------------------------------------

    @property
    def snapshot(self) -> WorkspaceSnapshot | None:
        return self.app.snapshot  # type: ignore[attr-defined,no-any-return]

    def _preview_changed(self, columns: list[StageColumn] | None) -> None:
        if columns is None or self.snapshot is not None:
            return
        board = self.query_one(StageBoard)
        now = self.app.now()  # type: ignore[attr-defined]
        board.show(columns, {}, now, keep=board.highlighted_deal())
        self._show_status(columns, "scoring deals…")

    def _show_status(self, columns: list[StageColumn], when: str) -> None:
        open_value = sum(c.total_value for c in columns)
        weighted = sum(c.weighted_value for c in columns)
        name = self.app.sub_title  # the workspace's name, also before the store is open
        self.query_one("#status", Static).update(
            f"{name}: {sum(c.count for c in columns):,} open deals · ${open_value:,.0f} "
            f"pipeline · ${weighted:,.0f} weighted · {when}"
        )

    def _snapshot_changed(self, snapshot: WorkspaceSnapshot | None) -> None:
        if snapshot is None:
            return
        if not self.is_current:
            self._stale = True  # repaint when the rep comes back (on_screen_resume)
            return
        self._stale = False
        board = self.query_one(StageBoard)
        columns = snapshot.board()
        board.show(columns, snapshot.health, snapshot.loaded_at, keep=board.highlighted_deal())
        self._load_page()
        self._show_status(columns, f"as of {snapshot.loaded_at:%H:%M}")

    def _load_page(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        filters = (snapshot.fingerprint, self.stage_filter, self.outcome_filter, self.search_text)
        page = self.page
        # Paging and sorting keep the filters: reuse the total instead of counting again.
        known = page.total if page is not None and self._page_filters == filters else None
        self._query_page(
            snapshot.workspace.id,
            filters,
            dict(
                known_total=known,
                stage=self.stage_filter,
                outcome=self.outcome_filter,
                search=self.search_text or None,
                sort=self.sort,
                descending=self.descending,
                limit=PAGE_SIZE,
                offset=self.page_offset,
            ),
        )

    @work(
        thread=True, exclusive=True, group="deal-page", exit_on_error=False, description="deal-page"
    )
    def _query_page(
        self, workspace_id: uuid.UUID, filters: tuple[object, ...], query: dict[str, Any]
    ) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        if query["sort"] != HEALTH_SORT:
            page = store.deals.list(workspace_id, **query)
        else:
            from vectoros_tui.store.snapshot import page_by_health

            # Read here, not passed in (see ForecastScreen._forecast on finished workers).
            snapshot = self.snapshot
            if snapshot is None or snapshot.workspace.id != workspace_id:
                return  # the next snapshot asks again
            del query["sort"], query["known_total"]
            page = page_by_health(store, snapshot, **query)
        self.app.call_from_thread(self._show_page, page, filters)

    def _show_page(self, page: DealPage, filters: tuple[object, ...] | None = None) -> None:
        if not page.deals and page.total and page.offset >= page.total:
            # Deals on this page went away (deleted elsewhere): show the last page instead.
            self.page_offset = (page.total - 1) // PAGE_SIZE * PAGE_SIZE
            self._load_page()
            return
        self.page = page
        self._page_filters = filters
        table = self.query_one(DealTable)
        health = self.snapshot.health if self.snapshot else {}
        table.show_page(page, health, keep=table.highlighted_deal())
        self._show_filters()

    def _show_filters(self) -> None:
        label = next(lbl for key, lbl, _ in COLUMNS if key == self.sort)
        parts = [
            f"stage: {self.stage_filter or 'all'} (t)",
            f"outcome: {self.outcome_filter or 'all'} (u)",
            f"sort: {label} {'↓' if self.descending else '↑'} (c/r)",
        ]
        page = self.page
        if page is not None and self.query_one(ContentSwitcher).current == "table-view":
            first = page.offset + 1 if page.deals else 0
            last = page.offset + len(page.deals)
            paging = " (←/→)" if page.total > len(page.deals) else ""
            # First: where the rep is matters most, and a narrow terminal wraps the rest.
            parts.insert(0, f"{first}-{last} of {page.total:,}{paging}")
        self.query_one("#filters", Static).update(Text(" · ".join(parts)))

    # --- selection ------------------------------------------------------------------

    def _current_deal(self) -> dict[str, Any] | None:
        if self.query_one(ContentSwitcher).current == "board":
            deal_id = self.query_one(StageBoard).highlighted_deal()
        else:
            deal_id = self.query_one(DealTable).highlighted_deal()
        if deal_id is None or self.snapshot is None:
            return None
        return self.snapshot.deal(deal_id)

    def _require_deal(self) -> dict[str, Any] | None:
        deal = self._current_deal()
        if deal is None:
            self.notify("Highlight a deal first.", severity="warning", timeout=3)
        return deal

    # --- actions --------------------------------------------------------------------

    def action_toggle_view(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "table-view" if switcher.current == "board" else "board"
        if switcher.current == "table-view":
            self.query_one(DealTable).focus()
        else:
            self.query_one("#deals-prospect").focus()
        self._show_filters()

    def _show_table(self) -> None:
        if self.query_one(ContentSwitcher).current != "table-view":
            self.action_toggle_view()

    def action_new_deal(self) -> None:
        self.app.open_deal(None)  # type: ignore[attr-defined]

    def action_open_deal(self) -> None:
        deal = self._require_deal()
        if deal is not None:
            self.app.open_deal(deal["id"])  # type: ignore[attr-defined]

    def action_like_deal(self) -> None:
        deal = self._require_deal()
        if deal is not None:
            self.app.find_similar(deal["id"])  # type: ignore[attr-defined]

    @on(StageBoard.DealChosen)
    def _board_choice(self, event: StageBoard.DealChosen) -> None:
        self.app.open_deal(event.deal_id)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def _table_choice(self, event: DataTable.RowSelected) -> None:
        self.app.open_deal(str(event.row_key.value))  # type: ignore[attr-defined]

    def action_move(self, step: int) -> None:
        deal = self._require_deal()
        if deal is not None:
            self._write(
                lambda deals: deals.move_stage(
                    uuid.UUID(deal["id"]), step, expected_version=deal["version"]
                ),
                "Moved",
            )

    def action_close_deal(self) -> None:
        deal = self._require_deal()
        if deal is None:
            return
        from vectoros_tui.screens.close_deal import CloseDealScreen

        def closed(result: tuple[str, str | None] | None) -> None:
            if result is None:
                return
            outcome, reason = result
            deal_id, version = uuid.UUID(deal["id"]), deal["version"]
            if outcome == "won":
                self._write(lambda s: s.mark_won(deal_id, expected_version=version), "Won")
            else:
                self._write(
                    lambda s: s.mark_lost(deal_id, reason, expected_version=version), "Lost"
                )

        self.app.push_screen(CloseDealScreen(deal["title"]), closed)

    def action_delete_deal(self) -> None:
        deal = self._require_deal()
        if deal is None:
            return
        from vectoros_tui.screens.messages import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._write(
                    lambda s: s.delete(uuid.UUID(deal["id"]), expected_version=deal["version"]),
                    "Deleted",
                    deleted=deal["id"],
                )

        self.app.push_screen(
            ConfirmScreen(f"Delete '{deal['title']}' and its activities?", "Delete"), confirmed
        )

    @work(thread=True, group="deal-write", exit_on_error=False, description="deal-write")
    def _write(self, change: Any, verb: str, deleted: str | None = None) -> None:
        """Run one DealService change; every outcome is reported, then data reloads."""
        from vectoros_tui.store.views import DealView

        try:
            result = change(self.app.store.deals)  # type: ignore[attr-defined]
        except ConflictError as exc:
            self.app.call_from_thread(
                self.notify, f"{exc}. Showing the latest version.", severity="warning"
            )
            self.app.call_from_thread(self.app.data_changed)  # type: ignore[attr-defined]
            return
        except Exception:
            self.app.call_from_thread(self.app.data_changed)  # type: ignore[attr-defined]
            raise
        if isinstance(result, DealView):
            message = f"{verb}: {result.title} ({result.stage}"
            message += f", {result.outcome})" if result.outcome else ")"
            self.app.call_from_thread(self.notify, message, timeout=3)
            self.app.call_from_thread(self.app.deal_saved, result)  # type: ignore[attr-defined]
        elif deleted is not None:
            self.app.call_from_thread(self.notify, verb, timeout=3)
            self.app.call_from_thread(self.app.deal_deleted, deleted)  # type: ignore[attr-defined]
        else:
            self.app.call_from_thread(self.notify, verb, timeout=3)
            self.app.call_from_thread(self.app.data_changed)  # type: ignore[attr-defined]

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_leave_search(self) -> None:
        if isinstance(self.focused, Input):
            self._show_table()
            self.query_one(DealTable).focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._apply_search(event.value))

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._apply_search(event.value)
        self.action_leave_search()

    def _apply_search(self, text: str) -> None:
        if text.strip() == self.search_text:
            return
        self.search_text = text.strip()
        self.page_offset = 0
        self._show_table()
        self._load_page()

    def _requery(self) -> None:
        self.page_offset = 0
        self._show_table()
        self._load_page()

    def action_cycle_stage(self) -> None:
        self.stage_filter = STAGE_FILTERS[
            (STAGE_FILTERS.index(self.stage_filter) + 1) % len(STAGE_FILTERS)
        ]
        self._requery()

    def action_cycle_outcome(self) -> None:
        self.outcome_filter = OUTCOME_FILTERS[
            (OUTCOME_FILTERS.index(self.outcome_filter) + 1) % len(OUTCOME_FILTERS)
        ]
        self._requery()

    def action_cycle_sort(self) -> None:
        self.sort = SORTABLE_COLUMNS[
            (SORTABLE_COLUMNS.index(self.sort) + 1) % len(SORTABLE_COLUMNS)
        ]
        self._requery()

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self._requery()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key not in SORTABLE_COLUMNS:
            return
        self.descending = not self.descending if key == self.sort else key != "title"
        self.sort = key
        self._requery()

    @on(DealTable.PageRequested)
    def _page(self, event: DealTable.PageRequested) -> None:
        if self.page is None:
            return
        offset = self.page_offset + event.step * PAGE_SIZE
        if 0 <= offset < max(self.page.total, 1):
            self.page_offset = offset
            self._load_page()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("New deal", "Create a deal (n)", self.action_new_deal),
            ("Toggle board / table", "Switch the pipeline view (v)", self.action_toggle_view),
            (
                "Show all outcomes",
                "Open, won and lost deals in the table",
                lambda: self._set_outcome(None),
            ),
            ("Show open deals only", "Hide won and lost deals", lambda: self._set_outcome("open")),
            (
                "Find similar deals",
                "Deals like the selected one, and what became of them (l)",
                self.action_like_deal,
            ),
        ]

    def _set_outcome(self, outcome: str | None) -> None:
        self.outcome_filter = outcome
        self._requery()
