"""Add or edit one activity (email, call, meeting, note)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from vectoros_tui.store.validation import ACTIVITY_TYPES, ValidationError, clean_activity
from vectoros_tui.store.views import ActivityView


class ActivityFormScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with cleaned activity fields, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="activity.cancel"),
        Binding("ctrl+s", "save", "Save", id="activity.save"),
    ]

    def __init__(self, activity: ActivityView | None = None) -> None:
        super().__init__()
        self.activity = activity

    def compose(self) -> ComposeResult:
        current = self.activity
        with Vertical(id="activity-dialog", classes="dialog"):
            yield Label("Edit activity" if current else "Add activity")
            yield Select(
                [(kind.title(), kind) for kind in ACTIVITY_TYPES],
                value=current.type if current else "note",
                allow_blank=False,
                id="type",
            )
            yield Input(
                current.description if current else "",
                placeholder="What happened?",
                id="description",
            )
            yield Input(
                current.date.strftime("%Y-%m-%d %H:%M") if current else "",
                placeholder="When: YYYY-MM-DD (empty = now)",
                id="date",
            )
            yield Static("", classes="error", id="activity-error")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        data = {
            "type": self.query_one("#type", Select).value,
            "description": self.query_one("#description", Input).value,
            "date": self.query_one("#date", Input).value.replace(" ", "T") or None,
        }
        try:
            self.dismiss(clean_activity(data))
        except ValidationError as exc:
            self.query_one("#activity-error", Static).update(str(exc))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
