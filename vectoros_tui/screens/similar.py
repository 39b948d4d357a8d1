"""F5 / l: "what happened to deals like this one?" — a query box, the most similar deals
with their outcomes, and the evidence panel (win rate, sales cycle, lost reasons).

The model loads (once, in a worker) on the first search; a missing model or an index held
by another process turns this screen off with the reason and leaves the rest of the app
alone. Before the first search of a workspace, and whenever the workspace changed since,
the index is brought in step (new and changed deals embedded).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.similar.errors import SimilarUnavailableError
from vectoros_tui.widgets.formatting import compact_money
from vectoros_tui.widgets.palette import Palette

OUTCOME_FILTERS: tuple[str | None, ...] = (None, "open", "won", "lost")
LIMIT = 20


class _Results(DataTable[object]):
    """The results, which take the focus once shown: a rep who types again is asking
    anew, so the keys go to the search box (the first replacing the last query)."""

    _retyped = False

    def on_focus(self) -> None:
        self._retyped = False

    def on_key(self, event: events.Key) -> None:
        if not (event.is_printable and event.character):
            return
        query = self.screen.query_one("#similar-query", Input)
        # Keys typed fast (or pasted) reach this table until the focus has moved, each
        # in turn: the first starts the query, the rest are added to it.
        query.value = query.value + event.character if self._retyped else event.character
        query.cursor_position = len(query.value)
        self._retyped = True
        self.screen.set_focus(query)
        event.stop()
        event.prevent_default()


class SimilarScreen(ReportsWorkerErrors, Screen[None]):
    AUTO_FOCUS = "#similar-query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "cycle_outcome", "Outcome filter", id="similar.outcome"),
        Binding("ctrl+l", "like_selected", "Like this", id="similar.like"),
        Binding("ctrl+e", "open_selected", "Open deal", id="similar.open"),
        Binding("escape", "back", "Back", id="similar.back"),
    ]

    def __init__(self, deal_id: str | None = None, *, pushed: bool = False) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.pushed = pushed
        self.outcome: str | None = None
        self.last_query: tuple[str, str] | None = None  # ("deal", id) or ("text", text)
        self._fresh_fingerprint: Any = None
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Describe a deal, press enter (ctrl+l: like the highlighted one)",
            id="similar-query",
            # Focused again by a key typed over the results, which starts the new query.
            select_on_focus=False,
        )
        yield Static("", id="similar-status")
        yield _Results(id="similar-results", cursor_type="row", zebra_stripes=True)
        evidence = Static("Search to see what became of similar deals.", id="similar-evidence")
        evidence.border_title = "Evidence"
        yield evidence
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#similar-results", DataTable)
        table.add_column("Sim.", key="sim", width=5)
        # The fixed columns and cell padding take 57 cells; the title gets the rest.
        table.add_column("Title", key="title", width=max(20, self.app.size.width - 57))
        table.add_column("Stage", key="stage", width=11)
        table.add_column("Value", key="value", width=8)
        table.add_column("Outcome", key="outcome", width=7)
        table.add_column("Close", key="close", width=10)
        if self.deal_id is not None:
            self.search(("deal", self.deal_id))
        else:
            self._status("Type what a deal is about and press enter; F6 filters by outcome.")
            self._warm_up()

    @work(thread=True, group="similar-warm-up", exit_on_error=False, description="warm-up")
    def _warm_up(self) -> None:
        """Load the model and open the index while the rep types the first query."""
        try:
            service = self.vectoros.similar_service()
            service.index  # noqa: B018 - opens it
            service.embedder.load()
        except SimilarUnavailableError as exc:
            self.app.call_from_thread(self._unavailable, str(exc))

    # --- searching ------------------------------------------------------------------

    @on(Input.Submitted, "#similar-query")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._status("Type a few words about the deal first.")
            return
        self.search(("text", text))

    def search(self, query: tuple[str, str]) -> None:
        self.last_query = query
        self._status("Searching…" if self.vectoros.similar_ready() else "Loading the model…")
        self._run_search(query, self.outcome)

    @work(thread=True, exclusive=True, group="similar", exit_on_error=False, description="similar")
    def _run_search(self, query: tuple[str, str], outcome: str | None) -> None:
        app = self.vectoros
        snapshot = app.snapshot
        workspace = app.workspace
        if workspace is None:
            return
        try:
            service = app.similar_service()
            fingerprint = snapshot.fingerprint if snapshot is not None else None
            if fingerprint is None or fingerprint != self._fresh_fingerprint:

                def progress(done: int, total: int) -> None:
                    if total:
                        app.call_from_thread(
                            self._status, f"Indexing deals for search: {done} of {total}…"
                        )

                service.refresh(workspace.id, progress=progress)
                self._fresh_fingerprint = fingerprint
            outcomes = (outcome,) if outcome else ()
            kind, value = query
            if kind == "deal":
                result = service.search_deal(
                    workspace.id, uuid.UUID(value), limit=LIMIT, outcomes=outcomes
                )
                known = snapshot.deal(value) if snapshot else None
                title = known.title if known else None
                heading = f"Deals like “{title or value[:8]}”"
            else:
                result = service.search_text(workspace.id, value, limit=LIMIT, outcomes=outcomes)
                heading = f"Deals like “{value}”"
        except SimilarUnavailableError as exc:
            app.call_from_thread(self._unavailable, str(exc))
            return
        app.call_from_thread(self._show, heading, result)

    def _unavailable(self, reason: str) -> None:
        self.query_one("#similar-results", DataTable).clear()
        self.results = []
        self._status("Similar-deal search is off here.")
        self.query_one("#similar-evidence", Static).update(
            Text(
                f"Similar-deal search is off: {reason}", style=Palette.of(self.app).style("warning")
            )
        )

    def _show(self, heading: str, result: Any) -> None:
        self.results = result.deals
        table = self.query_one("#similar-results", DataTable)
        table.clear()
        palette = Palette.of(self.app)
        for deal in result.deals:
            table.add_row(
                f"{deal.similarity:.2f}",
                deal.title,
                deal.stage,
                compact_money(deal.value),
                Text(deal.outcome or "open", style=palette.outcome(deal.outcome)),
                deal.close_date.isoformat() if deal.close_date else "—",
                key=str(deal.deal_id),
            )
        shown = f" · {self.outcome} only" if self.outcome else ""
        count = len(result.deals)
        self._status(
            f"{heading}: {count} result{'s' if count != 1 else ''}{shown}"
            + (" · enter/ctrl+e opens, ctrl+l finds deals like it" if count else "")
        )
        evidence = result.evidence
        lines = [Text(evidence.summary(), style="bold")]
        if evidence.closed:
            lines.append(
                Text(f"Win rate {evidence.win_rate * 100:.0f}% of {evidence.closed} closed")
            )
            if evidence.lost_reasons:
                lines.append(
                    Text(
                        "Lost on: "
                        + ", ".join(
                            f"{reason} ({count})" for reason, count in evidence.lost_reasons
                        )
                    )
                )
        self.query_one("#similar-evidence", Static).update(Text("\n").join(lines))
        if count:
            table.focus()

    def _status(self, text: str) -> None:
        self.query_one("#similar-status", Static).update(text)

    # --- actions --------------------------------------------------------------------

    def _selected_id(self) -> str | None:
        table = self.query_one("#similar-results", DataTable)
        if not self.results or table.cursor_row is None or table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)

    @on(DataTable.RowSelected, "#similar-results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.vectoros.open_deal(str(event.row_key.value))

    def action_open_selected(self) -> None:
        deal_id = self._selected_id()
        if deal_id is not None:
            self.vectoros.open_deal(deal_id)

    def action_like_selected(self) -> None:
        deal_id = self._selected_id()
        if deal_id is None:
            self.notify("Search first, then highlight a deal.", timeout=3)
            return
        self.search(("deal", deal_id))

    def action_cycle_outcome(self) -> None:
        index = OUTCOME_FILTERS.index(self.outcome)
        self.outcome = OUTCOME_FILTERS[(index + 1) % len(OUTCOME_FILTERS)]
        if self.last_query is not None:
            self.search(self.last_query)
        else:
            self._status(f"Outcome filter: {self.outcome or 'all'}")

    def action_back(self) -> None:
        if self.pushed:
            self.dismiss()
        else:
            self.query_one("#similar-query", Input).focus()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            (
                "Filter similar deals by outcome",
                "All, open, won, lost (F6)",
                self.action_cycle_outcome,
            ),
            ("Find deals like the highlighted one", "ctrl+l", self.action_like_selected),
        ]
