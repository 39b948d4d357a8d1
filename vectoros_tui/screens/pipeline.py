"""Pipeline: the stage board and the deal table of the current workspace (F2)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, Input, Static

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.store.board import AGEING_DAYS
from vectoros_tui.store.errors import ConflictError
from vectoros_tui.widgets.deal_table import COLUMNS, HEALTH_SORT, SORTABLE_COLUMNS, DealTable
from vectoros_tui.widgets.formatting import compact_money
from vectoros_tui.widgets.next_step import MISSING_MARK, OVERDUE_MARK
from vectoros_tui.widgets.stage_board import StageBoard

if TYPE_CHECKING:
    # The screen paints its first frame before the store (SQLAlchemy) is imported.
    from vectoros_tui.store.board import StageColumn
    from vectoros_tui.store.deals import DealService
    from vectoros_tui.store.snapshot import WorkspaceSnapshot
    from vectoros_tui.store.views import DealPage, DealView

PAGE_SIZE = 100
OUTCOME_FILTERS: tuple[str | None, ...] = (None, "open", "won", "lost")
SEARCH_DELAY = 0.15


def stage_filters(outcome: str | None) -> tuple[str | None, ...]:
    """The stages the stage filter cycles through: only those the outcome filter can
    find (open deals are never in ``closed``; won and lost deals are in nothing else)."""
    if outcome == "open":
        return (None, *OPEN_STAGES)
    if outcome in ("won", "lost"):
        return (None,)
    return (None, *OPEN_STAGES, "closed")


class PipelineScreen(ReportsWorkerErrors, Screen[None]):
    AUTO_FOCUS = "#deals-prospect"
    # Shown under the keys in F1.
    HELP_NOTES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("!", "the close date has passed (overdue)"),
        ("~", f"{AGEING_DAYS}+ days in the same stage (ageing)"),
        (OVERDUE_MARK, "step overdue: the next step's due date has passed"),
        (MISSING_MARK, "no next step: nobody has said what happens next"),
        ("wtd", "weighted: value × the rep's probability"),
        ("72", "health score 0-100 (the deal's editor and vectoros score say why)"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "toggle_view", "View", id="pipeline.toggle_view"),
        Binding("n", "new_deal", "New", id="pipeline.new_deal"),
        Binding("e", "open_deal", "Edit", id="pipeline.open_deal"),
        Binding("f", "move(1)", "Stage→", id="pipeline.forward", show=False),
        Binding("b", "move(-1)", "←Stage", id="pipeline.back", show=False),
        Binding("o", "close_deal", "Close", id="pipeline.close_deal"),
        Binding("d", "delete_deal", "Delete", id="pipeline.delete_deal", show=False),
        Binding("l", "like_deal", "Like this", id="pipeline.similar", show=False),
        Binding("s", "search", "Search", id="pipeline.search", show=False),
        Binding("t", "cycle_stage", "Stage filter", id="pipeline.stage_filter", show=False),
        Binding("u", "cycle_outcome", "Outcome", id="pipeline.outcome_filter", show=False),
        Binding("m", "cycle_owner", "Mine/all", id="pipeline.owner_filter", show=False),
        Binding("c", "cycle_sort", "Sort", id="pipeline.sort", show=False),
        Binding("r", "reverse_sort", "Reverse", id="pipeline.reverse", show=False),
        Binding("escape", "leave_search", "Back", id="pipeline.leave_search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.stage_filter: str | None = None
        self.outcome_filter: str | None = "open"
        # A user id: only that member's deals (None: everyone's). A member with deals
        # starts on their own.
        self.owner_filter: str | None = None
        self._owner_chosen_for: object = None  # the workspace the default was chosen in
        self.search_text = ""
        self.sort = "value"
        self.descending = True
        self.page_offset = 0
        self.page: DealPage | None = None
        self._page_filters: tuple[object, ...] | None = None
        self._page_view: tuple[object, ...] | None = None  # filters and order on screen
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
        yield Footer(compact=True, show_command_palette=False)

    def on_screen_resume(self) -> None:
        if self._stale:
            self._snapshot_changed(self.snapshot)

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed)
        self.watch(self.app, "board_preview", self._preview_changed)
        self.watch(self.app, "store_error", self._store_failed)
        self._show_filters()

    # --- data -----------------------------------------------------------------------

    @property
    def snapshot(self) -> WorkspaceSnapshot | None:
        return self.vectoros.snapshot

    def _on_board(self) -> bool:
        return self.query_one(ContentSwitcher).current == "board"

    def _preview_changed(self, columns: list[StageColumn] | None) -> None:
        if columns is None or self.snapshot is not None:
            return
        board = self.query_one(StageBoard)
        now = self.vectoros.now()
        board.show(columns, {}, now, keep=board.highlighted_deal(), today=now.date())
        count = sum(c.count for c in columns)
        self._show_status(
            f"{count:,} open deal{'s' if count != 1 else ''}",
            sum(c.total_value for c in columns),
            sum(c.weighted_value for c in columns),
            "scoring deals…",
        )

    def _store_failed(self, error: str | None) -> None:
        # The status said "Opening the database…" (or "scoring deals…" under the quick
        # preview): it must not go on saying so.
        if error is not None:
            said = f"The database could not be opened: {error}"
            self.query_one("#status", Static).update(Text(said, no_wrap=True, overflow="ellipsis"))

    def _show_status(self, what: str, value: float, weighted: float, when: str) -> None:
        name = self.app.sub_title  # the workspace's name, also before the store is open
        self.query_one("#status", Static).update(
            Text(
                f"{name}: {what} · {compact_money(value)} value · "
                f"{compact_money(weighted)} weighted · {when}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )

    def _snapshot_changed(self, snapshot: WorkspaceSnapshot | None) -> None:
        if snapshot is None:
            return
        if not self.is_current:
            self._stale = True  # repaint when the rep comes back (on_screen_resume)
            return
        self._stale = False
        if snapshot.workspace.id != self._owner_chosen_for:
            self._owner_chosen_for = snapshot.workspace.id
            mine = self._my_id(snapshot)
            self.owner_filter = mine if mine and snapshot.matching(owner=mine) else None
            self._show_filters()
        self._show_board(keep=True)
        self._load_page()

    def _my_id(self, snapshot: WorkspaceSnapshot) -> str | None:
        email = self.vectoros.me().email
        return next((str(m.id) for m in snapshot.members if m.email == email), None)

    def _owner_label(self) -> str:
        snapshot = self.snapshot
        if self.owner_filter is None or snapshot is None:
            return "everyone"
        if self.owner_filter == self._my_id(snapshot):
            return "mine"
        member = snapshot.member(self.owner_filter)
        return member.label if member else "one rep"

    def _show_board(self, *, keep: bool) -> None:
        """The board with the search and sort the filter bar shows, and the status line
        with the totals of what the current view shows."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        board = self.query_one(StageBoard)
        columns = snapshot.board(
            search=self.search_text,
            sort=self.sort,
            descending=self.descending,
            owner=self.owner_filter,
        )
        board.show(
            columns,
            snapshot.health,
            snapshot.loaded_at,
            keep=board.highlighted_deal() if keep else None,
            today=self.vectoros.now().date(),
        )
        self._show_totals()

    def _show_totals(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        if self._on_board():
            found = snapshot.matching(
                outcome="open", search=self.search_text, owner=self.owner_filter
            )
            kind = "open deal"
        else:
            found = snapshot.matching(
                stage=self.stage_filter,
                outcome=self.outcome_filter,
                search=self.search_text,
                owner=self.owner_filter,
            )
            kind = f"{self.outcome_filter} deal" if self.outcome_filter else "deal"
        filtered = (
            bool(self.search_text)
            or self.owner_filter is not None
            or (not self._on_board() and (self.stage_filter or self.outcome_filter != "open"))
        )
        what = f"{len(found):,} {kind}{'s' if len(found) != 1 else ''}"
        if filtered:
            what += " found"
        self._show_status(
            what,
            sum(d.value or 0 for d in found),
            sum(d.weighted_value for d in found if d.outcome is None),
            f"as of {snapshot.loaded_at:%H:%M}",
        )

    def _load_page(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        filters = (
            snapshot.fingerprint,
            self.stage_filter,
            self.outcome_filter,
            self.search_text,
            self.owner_filter,
        )
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
                owner_id=uuid.UUID(self.owner_filter) if self.owner_filter else None,
            ),
        )

    @work(
        thread=True, exclusive=True, group="deal-page", exit_on_error=False, description="deal-page"
    )
    def _query_page(
        self, workspace_id: uuid.UUID, filters: tuple[object, ...], query: dict[str, Any]
    ) -> None:
        store = self.vectoros.store
        assert store is not None
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
        # The same filters and sort (a reload, a save): the cursor stays on its deal. A new
        # sort or filter starts from the top, as the rep asked for a new order.
        view = (*(filters or ())[1:], self.sort, self.descending)
        same_view = filters is not None and view == self._page_view
        self._page_view = view
        self.page = page
        self._page_filters = filters
        table = self.query_one(DealTable)
        health = self.snapshot.health if self.snapshot else {}
        table.show_page(
            page,
            health,
            keep=table.highlighted_deal() if same_view else None,
            show_outcome=self.outcome_filter != "open",
            today=self.vectoros.now().date(),
        )
        self._show_filters()

    def _show_filters(self) -> None:
        label = next(lbl for key, lbl, _ in COLUMNS if key == self.sort)
        sort = f"by {label} {'↓' if self.descending else '↑'} (c/r)"
        if self._on_board():
            # The board shows open deals by stage: only the search and the sort apply.
            parts = [f"search: {self.search_text}"] if self.search_text else []
            # Whose deals, when not everyone's (m cycles: the bar stays one line at 80).
            parts += [f"{self._owner_label()} (m)"] if self.owner_filter else []
            parts += [sort, "! overdue", f"~ {AGEING_DAYS}d+ in stage", "F1 keys"]
            self.query_one("#filters", Static).update(Text(" · ".join(parts), no_wrap=True))
            return
        # Short: the whole bar fits one line at 80 columns.
        parts = [
            f"{self.stage_filter or 'all stages'} (t)",
            f"{self.outcome_filter or 'all outcomes'} (u)",
            *([f"{self._owner_label()} (m)"] if self.owner_filter else []),
            sort,
        ]
        page = self.page
        if page is not None:
            first = page.offset + 1 if page.deals else 0
            last = page.offset + len(page.deals)
            paging = " (←→)" if page.total > len(page.deals) else ""
            # First: where the rep is matters most, and a narrow terminal wraps the rest.
            parts.insert(0, f"{first}-{last} of {page.total:,}{paging}")
        self.query_one("#filters", Static).update(Text(" · ".join(parts), no_wrap=True))

    # --- selection ------------------------------------------------------------------

    def _current_deal(self) -> DealRecord | None:
        if self.query_one(ContentSwitcher).current == "board":
            deal_id = self.query_one(StageBoard).highlighted_deal()
        else:
            deal_id = self.query_one(DealTable).highlighted_deal()
        if deal_id is None or self.snapshot is None:
            return None
        return self.snapshot.deal(deal_id)

    def _require_deal(self) -> DealRecord | None:
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
        self._show_totals()

    def _show_table(self) -> None:
        if self.query_one(ContentSwitcher).current != "table-view":
            self.action_toggle_view()

    def action_new_deal(self) -> None:
        self.vectoros.open_deal(None)

    def action_open_deal(self) -> None:
        deal = self._require_deal()
        if deal is not None:
            self.vectoros.open_deal(deal.id)

    def action_like_deal(self) -> None:
        deal = self._require_deal()
        if deal is not None:
            self.vectoros.find_similar(deal.id)

    @on(StageBoard.DealChosen)
    def _board_choice(self, event: StageBoard.DealChosen) -> None:
        self.vectoros.open_deal(event.deal_id)

    @on(DataTable.RowSelected)
    def _table_choice(self, event: DataTable.RowSelected) -> None:
        self.vectoros.open_deal(str(event.row_key.value))

    def action_move(self, step: int) -> None:
        deal = self._require_deal()
        if deal is None:
            return
        if deal.outcome:
            self.notify(
                f"'{deal.title}' is {deal.outcome}: press o to reopen it first.",
                severity="warning",
                timeout=4,
            )
            return
        self._write(
            lambda deals: deals.move_stage(uuid.UUID(deal.id), step, expected_version=deal.version),
            "Moved",
        )

    def action_close_deal(self) -> None:
        deal = self._require_deal()
        if deal is None:
            return
        if deal.outcome:
            self._offer_reopen(deal)
            return
        from vectoros_tui.screens.close_deal import CloseDealScreen

        def closed(result: tuple[str, str | None] | None) -> None:
            if result is None:
                return
            outcome, reason = result
            deal_id, version = uuid.UUID(deal.id), deal.version
            if outcome == "won":
                self._write(lambda s: s.mark_won(deal_id, expected_version=version), "Won")
            else:
                self._write(
                    lambda s: s.mark_lost(deal_id, reason, expected_version=version), "Lost"
                )

        self.app.push_screen(CloseDealScreen(deal.title), closed)

    def _offer_reopen(self, deal: DealRecord) -> None:
        from vectoros_tui.screens.messages import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                deal_id, version = uuid.UUID(deal.id), deal.version
                self._write(lambda s: s.reopen(deal_id, expected_version=version), "Reopened")

        self.app.push_screen(
            ConfirmScreen(
                f"'{deal.title}' is {deal.outcome}. Reopen it at the stage and "
                "probability it had before it closed?",
                "Reopen",
            ),
            confirmed,
        )

    def action_delete_deal(self) -> None:
        deal = self._require_deal()
        if deal is None:
            return
        from vectoros_tui.screens.messages import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(deal.id, deal.version, deal.title)

        self.app.push_screen(
            ConfirmScreen(f"Delete '{deal.title}' and its activities?", "Delete"), confirmed
        )

    @work(thread=True, group="deal-write", exit_on_error=False, description="deal-write")
    def _write(self, change: Callable[[DealService], DealView], verb: str) -> None:
        """Run one change through the session (which updates every screen); say what
        happened."""
        session = self.require_session()
        try:
            result = session.change_deal(change)
        except ConflictError as exc:
            self._conflicted(str(exc))
            return
        message = f"{verb}: {result.title} ({result.stage}"
        message += f", {result.outcome})" if result.outcome else ")"
        self.app.call_from_thread(self.notify, message, timeout=3)

    @work(thread=True, group="deal-write", exit_on_error=False, description="deal-delete")
    def _delete(self, deal_id: str, version: int, title: str) -> None:
        session = self.require_session()
        try:
            session.delete_deal(uuid.UUID(deal_id), expected_version=version)
        except ConflictError as exc:
            self._conflicted(str(exc))
            return
        self.app.call_from_thread(self.notify, f"Deleted '{title}'", timeout=3)

    def _conflicted(self, message: str) -> None:
        """From a worker: someone else changed the deal first; show theirs."""
        self.app.call_from_thread(
            self.notify, f"{message}. Showing the latest version.", severity="warning"
        )
        self.require_session().reload()

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
        # The search narrows whichever view is shown: the board as much as the table.
        self._requery(show_table=False)

    def _requery(self, *, show_table: bool = True) -> None:
        """Filters or order changed: back to the first page, the cursor on the first row."""
        self.page_offset = 0
        if show_table:
            self._show_table()
        self._show_board(keep=False)
        self._show_filters()
        self._load_page()

    def action_cycle_stage(self) -> None:
        choices = stage_filters(self.outcome_filter)
        current = self.stage_filter if self.stage_filter in choices else None
        self.stage_filter = choices[(choices.index(current) + 1) % len(choices)]
        self._requery()

    def action_cycle_outcome(self) -> None:
        self.outcome_filter = OUTCOME_FILTERS[
            (OUTCOME_FILTERS.index(self.outcome_filter) + 1) % len(OUTCOME_FILTERS)
        ]
        if self.stage_filter not in stage_filters(self.outcome_filter):
            self.stage_filter = None  # it would find nothing
        self._requery()

    def action_cycle_owner(self) -> None:
        """Mine, then everyone's, then each other member's in turn."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        mine = self._my_id(snapshot)
        others = [str(m.id) for m in snapshot.members if str(m.id) != mine]
        choices: list[str | None] = [*([mine] if mine else []), None, *others]
        current = self.owner_filter if self.owner_filter in choices else None
        self.owner_filter = choices[(choices.index(current) + 1) % len(choices)]
        self._requery(show_table=False)

    def _set_owner(self, owner: str | None) -> None:
        self.owner_filter = owner
        self._requery(show_table=False)

    def action_cycle_sort(self) -> None:
        self.sort = SORTABLE_COLUMNS[
            (SORTABLE_COLUMNS.index(self.sort) + 1) % len(SORTABLE_COLUMNS)
        ]
        # The board sorts too: stay on whichever view the rep is looking at.
        self._requery(show_table=False)

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self._requery(show_table=False)

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
            (
                "Show everyone's deals",
                "Every member's deals (m cycles)",
                lambda: self._set_owner(None),
            ),
            *self._owner_commands(),
        ]

    def _owner_commands(self) -> list[tuple[str, str, Any]]:
        snapshot = self.snapshot
        if snapshot is None:
            return []
        mine = self._my_id(snapshot)
        return [
            (
                "Show my deals" if str(m.id) == mine else f"Show {m.label}'s deals",
                f"Only the deals {m.email} owns ({m.role})",
                partial(self._set_owner, str(m.id)),
            )
            for m in snapshot.members
        ]

    def _set_outcome(self, outcome: str | None) -> None:
        self.outcome_filter = outcome
        if self.stage_filter not in stage_filters(outcome):
            self.stage_filter = None
        self._requery()
