"""ctrl+y: sync with the team's backend — status, sync now, and the conflicts to settle.

A conflict shows every field that differs with the last synced value, mine and theirs;
the rep keeps mine (m), keeps theirs (t), or picks per field (space toggles the highlighted
field) and applies the merge (a). Resolutions are local; the next sync pushes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.screens.deal_fields import LABELS, show_field
from vectoros_tui.text_safety import visible
from vectoros_tui.widgets.palette import Palette


class SyncScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync_now", "Sync now", id="sync.now"),
        Binding("m", "keep('mine')", "Keep mine", id="sync.mine"),
        Binding("t", "keep('theirs')", "Keep theirs", id="sync.theirs"),
        Binding("space", "toggle_field", "Toggle field", id="sync.toggle"),
        Binding("a", "apply_merge", "Apply merge", id="sync.merge"),
        Binding("escape", "close", "Back", id="sync.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[Any] = []
        self.choices: dict[str, str] = {}  # field -> mine | theirs, for the selected conflict
        self.busy = False
        self._report: Any = None  # the last sync's from this screen

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="sync-status")
        yield Static("Conflicts: both sides changed these deals", classes="sync-title")
        yield DataTable(id="sync-conflicts", cursor_type="row")
        yield Static(
            "Fields of the highlighted conflict (space: pick a side per field, a: apply)",
            classes="sync-title",
        )
        yield DataTable(id="sync-fields", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        conflicts = self.query_one("#sync-conflicts", DataTable)
        conflicts.add_columns("Deal", "Fields that differ", "Detected")
        fields = self.query_one("#sync-fields", DataTable)
        fields.add_columns("Field", "Last synced", "Mine", "Theirs", "Keep")
        self.refresh_state()

    # --- loading ---------------------------------------------------------------------

    def refresh_state(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="sync-load", exit_on_error=False, description="sync")
    def _load(self) -> None:
        from vectoros_tui.sync.engine import SyncEngine

        session = self.vectoros.session
        if session is None:
            return
        engine = SyncEngine(session.store.db)
        status = engine.status(session.workspace.id)
        conflicts = engine.conflicts(session.workspace.id)
        self.app.call_from_thread(self._show_state, status, conflicts)

    def _show_state(self, status: Any, conflicts: list[Any]) -> None:
        palette = Palette.of(self.app)
        warning, error = palette.style("warning"), palette.style("error")
        if not status.linked:
            text = Text.assemble(
                ("Not linked to a team backend. ", "bold"),
                "From a terminal: vectoros login URL, then vectoros sync --link URL.",
            )
        else:
            last = (
                status.last_sync_at.strftime("%Y-%m-%d %H:%M") if status.last_sync_at else "never"
            )
            text = Text.assemble(
                (f"{status.server_url}", "bold"),
                f"  ({status.dialect} API)\n",
                f"Last sync {last} · ",
                (f"{status.pending} pending change(s)", warning if status.pending else ""),
                " · ",
                (f"{status.conflicts} conflict(s)", error if status.conflicts else ""),
            )
            if status.pending_activities:
                text.append(f" · {status.pending_activities} activity change(s) queued")
            if status.last_error:
                text.append(f"\nLast problem: {visible(status.last_error)}", style=warning)
            # What the last sync from this screen had to say (what the backend does not
            # carry, what it refused), until the next one.
            if self._report is not None:
                for note in self._report.notes:
                    text.append(f"\n{visible(note)}")
                for problem in self._report.problems:
                    text.append(f"\n{visible(problem)}", style=warning)
        self.query_one("#sync-status", Static).update(text)
        self.conflicts = conflicts
        table = self.query_one("#sync-conflicts", DataTable)
        table.clear()
        for conflict in conflicts:
            table.add_row(
                conflict.title,
                ", ".join(conflict.differing_fields()),
                conflict.detected_at.strftime("%Y-%m-%d %H:%M"),
                key=str(conflict.deal_id),
            )
        self._show_fields()

    def _selected(self) -> Any | None:
        table = self.query_one("#sync-conflicts", DataTable)
        if not self.conflicts or table.row_count == 0:
            return None
        return self.conflicts[min(table.cursor_row, len(self.conflicts) - 1)]

    @on(DataTable.RowHighlighted, "#sync-conflicts")
    def _conflict_highlighted(self) -> None:
        self.choices = {}
        self._show_fields()

    def _show_fields(self) -> None:
        table = self.query_one("#sync-fields", DataTable)
        table.clear()
        conflict = self._selected()
        if conflict is None:
            return
        for name in conflict.differing_fields():
            mine = (
                "(deleted)" if conflict.mine is None else show_field(name, conflict.mine.get(name))
            )
            theirs = (
                "(deleted)"
                if conflict.theirs is None
                else show_field(name, conflict.theirs.get(name))
            )
            keep = self.choices.get(name, "mine")
            table.add_row(
                LABELS.get(name, name),
                show_field(name, conflict.base.get(name)),
                Text(mine, style="bold" if keep == "mine" else "dim"),
                Text(theirs, style="bold" if keep == "theirs" else "dim"),
                keep,
                key=name,
            )

    # --- actions ---------------------------------------------------------------------

    def action_toggle_field(self) -> None:
        conflict = self._selected()
        table = self.query_one("#sync-fields", DataTable)
        if conflict is None or table.row_count == 0:
            return
        if conflict.mine is None or conflict.theirs is None:
            self.notify("One side deleted this deal: keep mine (m) or theirs (t).", timeout=4)
            return
        row = table.cursor_row
        name = str(table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value)
        self.choices[name] = "theirs" if self.choices.get(name, "mine") == "mine" else "mine"
        self._show_fields()
        table.move_cursor(row=row)

    def action_keep(self, side: str) -> None:
        conflict = self._selected()
        if conflict is not None:
            self._resolve(conflict.deal_id, side, {})

    def action_apply_merge(self) -> None:
        conflict = self._selected()
        if conflict is not None:
            self._resolve(conflict.deal_id, "merge", dict(self.choices))

    @work(
        thread=True,
        exclusive=True,
        group="sync-resolve",
        exit_on_error=False,
        description="sync-resolve",
    )
    def _resolve(self, deal_id: Any, keep: str, fields: dict[str, str]) -> None:
        self.require_session().settle_conflict(deal_id, keep, fields)
        self.app.call_from_thread(self._resolved, keep)

    def _resolved(self, keep: str) -> None:
        self.choices = {}
        self.notify(f"Conflict settled ({keep}); the next sync sends it.", timeout=3)
        self.refresh_state()

    def action_sync_now(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.query_one("#sync-status", Static).update("Syncing…")
        self._sync()

    @work(thread=True, exclusive=True, group="sync-run", exit_on_error=False, description="sync")
    def _sync(self) -> None:
        from vectoros_tui.locations import current_locations
        from vectoros_tui.sync.credentials import TokenStore
        from vectoros_tui.sync.engine import SyncEngine
        from vectoros_tui.sync.errors import SyncError
        from vectoros_tui.sync.http import RemoteBackend

        app = self.app
        session = self.require_session()
        engine = SyncEngine(session.store.db)
        try:
            remote = engine.remote(session.workspace.id)
            if remote is None:
                raise SyncError("not linked: run `vectoros sync --link URL` in a terminal first")
            token = TokenStore(current_locations()).get(remote.server_url)
            if token is None:
                raise SyncError(f"not signed in: run `vectoros login {remote.server_url}`")
            with RemoteBackend(remote.server_url, token.value, remote.dialect) as backend:
                report = session.sync(backend)
        except SyncError as exc:
            app.call_from_thread(self._sync_failed, str(exc))
            return
        except Exception as exc:  # reported, and the screen stays usable
            app.log.error("sync failed", exc)
            app.call_from_thread(self._sync_failed, f"{type(exc).__name__}: {exc}")
            return
        app.call_from_thread(self._synced, report)

    def _sync_failed(self, message: str) -> None:
        self.busy = False
        self.notify(message, title="Sync failed", severity="error", timeout=8)
        self.refresh_state()

    def _synced(self, report: Any) -> None:
        self.busy = False
        pushed = report.pushed_created + report.pushed_updated + report.pushed_deleted
        pulled = report.pulled_created + report.pulled_updated + report.pulled_deleted
        message = f"Synced: {pushed} pushed, {pulled} pulled"
        if report.pushed_activities or report.pulled_activities:
            message += (
                f" (activities: {report.pushed_activities} pushed,"
                f" {report.pulled_activities} pulled)"
            )
        if report.new_conflicts:
            message += f", {report.new_conflicts} new conflict(s)"
        self._report = report
        self.notify(message, severity="warning" if report.new_conflicts else "information")
        self.refresh_state()

    def action_close(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("Sync now", "Push local changes, pull the team's (s)", self.action_sync_now),
            (
                "Keep my version",
                "Settle the highlighted conflict (m)",
                lambda: self.action_keep("mine"),
            ),
            (
                "Keep their version",
                "Settle the highlighted conflict (t)",
                lambda: self.action_keep("theirs"),
            ),
        ]
