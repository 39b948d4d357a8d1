"""F4: what needs the rep's attention, most urgent first, with the numbers behind it.

The list comes from the store's insights (regenerated from the engine's rules the first
time the screen is shown for a workspace and whenever the app's snapshot changes). Every
store call runs in a thread worker; the ``Loaded`` handler paints. Store calls of this
screen are serialised and numbered so a slow regeneration never paints over a newer list.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from vectoros_tui.money import format_money
from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.store.insights import RegenerationResult
from vectoros_tui.store.snapshot import WorkspaceSnapshot
from vectoros_tui.store.views import InsightView, WorkspaceView
from vectoros_tui.widgets.insight_detail import insight_detail
from vectoros_tui.widgets.palette import Palette

# Fixed columns of the table: (key, label, width); the title takes the rest. Below
# WIDE_TABLE columns the type is left to the detail pane, to leave room for the title.
COLUMNS = (
    ("mark", " ", 1),
    ("priority", "Priority", 8),
    ("type", "Type", 14),
    ("value", "Value", 7),
)
WIDE_TABLE = 90
# The table holds the most urgent insights: a team's workspace has tens of thousands, which
# took seconds to put in a table nobody scrolls to the end of. Dismissing or resolving
# some brings the next ones up.
TABLE_ROWS = 1_000


# --- the screen ----------------------------------------------------------------------


class InsightTable(DataTable[Any]):
    """The list: enter opens the highlighted insight's deal (instead of DataTable's select)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.open_deal", "Open deal", id="insights.open"),
    ]


class InsightsScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_deal", "Open deal", id="insights.open"),
        Binding("r", "toggle_read", "Read/unread", id="insights.read"),
        Binding("d", "dismiss_insight", "Dismiss", id="insights.dismiss"),
        Binding("g", "regenerate", "Regenerate", id="insights.regenerate"),
        Binding("a", "toggle_dismissed", "Show dismissed", id="insights.show_dismissed"),
    ]

    class Loaded(Message):
        """A list read by a worker; ``sequence`` orders lists read by this screen."""

        def __init__(
            self,
            workspace_id: uuid.UUID,
            sequence: int,
            insights: list[InsightView],
            regenerated: RegenerationResult | None,
            seen: tuple[uuid.UUID, object] | None = None,
        ) -> None:
            super().__init__()
            self.seen = seen
            self.workspace_id = workspace_id
            self.sequence = sequence
            self.insights = insights
            self.regenerated = regenerated

    def __init__(self) -> None:
        super().__init__()
        self.insights: list[InsightView] = []
        self.show_dismissed = False
        self.pending = 0  # store calls asked for and not yet painted
        self.regenerations = 0  # regenerations painted (tests wait on it)
        self.last_result: RegenerationResult | None = None
        self._announce = False  # say what a regeneration the rep asked for (g) changed
        self._workspace: WorkspaceView | None = None
        self._regenerated_for: WorkspaceSnapshot | None = None
        # (workspace, store fingerprint) the last regeneration read, when not a snapshot's.
        self._seen: tuple[uuid.UUID, object] | None = None
        self._store_lock = threading.Lock()
        self._sequence = 0
        self._painted_sequence = 0
        self._table_layout: tuple[object, int] = ((), 0)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading insights…", id="insights-status")
        yield InsightTable(id="insight-table", cursor_type="row")
        with VerticalScroll(id="insight-detail"):
            yield Static("", id="insight-detail-text")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed, init=False)
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        self._refresh_if_stale()

    def _snapshot_changed(self, snapshot: WorkspaceSnapshot | None) -> None:
        if self.is_current:
            self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        """Regenerate for a snapshot not seen yet (first show, a change, another workspace).
        Before the app has loaded the workspace (seconds for a team's), regenerate from
        the store, which the rules read anyway; the snapshot that then arrives is not
        regenerated for again if the store has not changed meanwhile."""
        snapshot: WorkspaceSnapshot | None = self.vectoros.snapshot
        if snapshot is None:
            session = self.vectoros.session
            if session is None or self.vectoros.store is None or self._workspace is not None:
                return
            self._workspace = session.workspace
            self._list_then_regenerate()
            return
        if snapshot is self._regenerated_for:
            return
        # Only the first snapshot after a regeneration from the store can be skipped: a
        # later one patched by a save keeps the fingerprint it was loaded with.
        seen, self._seen = self._seen, None
        self._regenerated_for = snapshot
        if seen == (snapshot.workspace.id, snapshot.fingerprint):
            return  # regenerated from the store as it still is
        if self._workspace is None or self._workspace.id != snapshot.workspace.id:
            self.insights = []
            self._paint()
        self._workspace = snapshot.workspace
        self._list_then_regenerate()

    def _list_then_regenerate(self) -> None:
        """On a first show, the insights stored by the last run at once (the status line
        says they are updating), then the rules run again: regenerating a team's
        workspace takes seconds."""
        if not self.insights:
            self._request("list")
        self._request("regenerate")

    # --- store calls (thread workers) ---------------------------------------------------

    def _request(self, operation: str, insight: InsightView | None = None) -> None:
        if self._workspace is None:
            return
        self.pending += 1
        self._paint_status()
        self._run(self._workspace, operation, insight, self.show_dismissed)

    @work(thread=True, group="insights", exit_on_error=False, description="insights")
    def _run(
        self,
        workspace: WorkspaceView,
        operation: str,
        insight: InsightView | None,
        include_dismissed: bool,
    ) -> None:
        store = self.require_store()
        result = None
        seen = None
        with self._store_lock:
            if operation == "regenerate":
                now = self.vectoros.now()
                seen = (workspace.id, store.deals.fingerprint(workspace.id))
                result = store.analytics.regenerate_insights(workspace.id, now=now)
            elif operation == "toggle_read" and insight is not None:
                store.insights.mark_read(insight.id, not insight.is_read)
            elif operation == "dismiss" and insight is not None:
                store.insights.dismiss(insight.id)
            listed = store.insights.list(workspace.id, include_dismissed=include_dismissed)
            self._sequence += 1
            sequence = self._sequence
        self.post_message(self.Loaded(workspace.id, sequence, listed, result, seen))

    # --- painting (main thread) -----------------------------------------------------------

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.pending = max(0, self.pending - 1)
        if message.regenerated is not None:
            self.regenerations += 1
            if self.vectoros.snapshot is None:
                self._seen = message.seen
            self.last_result = message.regenerated
            if self._announce:
                self._announce = False
                result = message.regenerated
                self.notify(
                    f"{result.added} new, {result.updated} still apply, {result.removed} resolved",
                    title="Insights regenerated",
                    timeout=3,
                )
        current = self._workspace
        if (
            current is None
            or message.workspace_id != current.id
            or message.sequence <= self._painted_sequence
        ):
            self._paint_status()
            return
        self._painted_sequence = message.sequence
        self.insights = message.insights
        self._paint()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # The app shows the error; here only the "working" count is put right.
        if event.worker.group == "insights" and event.state == WorkerState.ERROR:
            self.pending = max(0, self.pending - 1)
            self._paint_status()

    def _paint(self) -> None:
        table = self.query_one("#insight-table", DataTable)
        selected = self.highlighted
        keep_row = table.cursor_row
        self._paint_table()
        if self.insights:
            ids = [i.id for i in self.insights[:TABLE_ROWS]]
            row = ids.index(selected.id) if selected is not None and selected.id in ids else None
            if row is None:
                row = min(max(keep_row, 0), len(ids) - 1)
            table.move_cursor(row=row, animate=False)
        self._paint_detail()
        self._paint_status()
        self.refresh_bindings()

    def _layout(self) -> tuple[tuple[tuple[str, str, int], ...], int]:
        """The fixed columns that fit, and the width left for the title."""
        table = self.query_one("#insight-table", DataTable)
        width = table.size.width
        columns = tuple(c for c in COLUMNS if c[0] != "type" or width >= WIDE_TABLE)
        fixed = sum(w for _, _, w in columns) + 2 * table.cell_padding * (len(columns) + 1)
        return columns, max(16, width - fixed - 2)

    def _paint_table(self) -> None:
        table = self.query_one("#insight-table", DataTable)
        table.clear(columns=True)
        self._table_layout = columns, title_width = self._layout()
        for key, heading, width in columns:
            justify: JustifyMethod = "right" if key == "value" else "left"
            table.add_column(Text(heading, justify=justify), key=key, width=width)
        table.add_column("Insight", key="title", width=title_width)
        keys = [key for key, _, _ in columns] + ["title"]
        palette = Palette.of(self.app)
        for insight in self.insights[:TABLE_ROWS]:
            cells = self._cells(insight, palette)
            table.add_row(*(cells[key] for key in keys), key=str(insight.id))

    @staticmethod
    def _cells(insight: InsightView, palette: Palette) -> dict[str, Text]:
        faded = "dim strike" if insight.is_dismissed else ""
        mark = Text("●", palette.style("primary", bold=True)) if not insight.is_read else Text(" ")
        if insight.is_dismissed:
            mark = Text("×", "dim")
        return {
            "mark": mark,
            "priority": Text(insight.priority, faded or palette.priority(insight.priority)),
            "type": Text(insight.type, faded or palette.insight_type(insight.type)),
            "value": Text(
                format_money(insight.data.get("value"), compact=True), faded, justify="right"
            ),
            "title": Text(
                insight.title,
                faded or ("bold" if not insight.is_read else ""),
                overflow="ellipsis",
                no_wrap=True,
            ),
        }

    def _paint_detail(self) -> None:
        detail = self.query_one("#insight-detail-text", Static)
        insight = self.highlighted
        if insight is not None:
            detail.update(insight_detail(insight, Palette.of(self.app)))
        elif self._workspace is None:
            detail.update(Text("Waiting for the workspace to load…", style="dim"))
        else:
            detail.update(
                Text(
                    "No insights: nothing in this pipeline needs you right now.\n"
                    "g regenerates them from the current deals.",
                    style="dim",
                )
            )
        self.query_one("#insight-detail", VerticalScroll).scroll_home(animate=False)

    def _paint_status(self) -> None:
        if self._workspace is None:
            text = "Loading insights…"
        else:
            unread = sum(1 for i in self.insights if not i.is_read and not i.is_dismissed)
            text = f"{len(self.insights):,} insights · {unread:,} unread"
            if len(self.insights) > TABLE_ROWS:
                text += f" · the {TABLE_ROWS:,} most urgent shown"
            text += (
                " · dismissed shown (a hides)" if self.show_dismissed else " · a shows dismissed"
            )
            if self.pending:
                text += " · updating…"
        self.query_one("#insights-status", Static).update(text)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_columns)

    def _fit_columns(self) -> None:
        if self._layout() != self._table_layout:
            self._paint()

    @on(DataTable.RowHighlighted, "#insight-table")
    def _highlighted(self) -> None:
        self._paint_detail()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#insight-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_deal()

    @property
    def highlighted(self) -> InsightView | None:
        table = self.query_one("#insight-table", DataTable)
        row = table.cursor_row
        if not self.insights or not 0 <= row < min(len(self.insights), TABLE_ROWS):
            return None
        return self.insights[row]

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_deal":
            insight = self.highlighted if self.is_mounted else None
            return True if insight is not None and insight.deal_id is not None else None
        if action in ("toggle_read", "dismiss_insight"):
            return True if self.is_mounted and self.highlighted is not None else None
        return True

    def action_open_deal(self) -> None:
        insight = self.highlighted
        if insight is None or insight.deal_id is None:
            self.notify("This insight is about the whole pipeline, not one deal.", timeout=3)
            return
        if not insight.is_read:
            self._request("toggle_read", insight)  # opening it is reading it
        self.vectoros.open_deal(str(insight.deal_id))

    def action_toggle_read(self) -> None:
        if (insight := self.highlighted) is not None:
            self._request("toggle_read", insight)

    def action_dismiss_insight(self) -> None:
        insight = self.highlighted
        if insight is None:
            return
        if insight.is_dismissed:
            self.notify("That insight is already dismissed.", timeout=3)
            return
        self._request("dismiss", insight)

    def action_regenerate(self) -> None:
        if self._workspace is None:
            self.notify("No workspace is open yet.", timeout=3)
            return
        self._announce = True
        self._request("regenerate")

    def action_toggle_dismissed(self) -> None:
        self.show_dismissed = not self.show_dismissed
        self._paint_status()
        self._request("list")

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        shown = "Hide dismissed insights" if self.show_dismissed else "Show dismissed insights"
        return [
            (
                "Regenerate insights",
                "Run every insight rule on the current deals (g)",
                self.action_regenerate,
            ),
            (shown, "Toggle dismissed insights in the list (a)", self.action_toggle_dismissed),
            ("Mark insight read/unread", "The highlighted insight (r)", self.action_toggle_read),
            (
                "Dismiss insight",
                "Hide the highlighted insight for good (d)",
                self.action_dismiss_insight,
            ),
            (
                "Open the insight's deal",
                "Edit the deal behind the highlighted insight (enter)",
                self.action_open_deal,
            ),
        ]
