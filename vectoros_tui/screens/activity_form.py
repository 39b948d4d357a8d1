"""Add or edit one activity (email, call, meeting, note), done or planned ahead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from vectoros_tui.store.validation import (
    ACTIVITY_TYPES,
    FieldError,
    ValidationError,
    clean_activity,
    parse_timestamp,
)
from vectoros_tui.store.views import ActivityView

# Done or planned, in words: a checkbox's mark reads the same ticked or not without colour.
STATUS_CHOICES = [
    ("Done: it happened", "done"),
    ("Planned: not done yet (its date is when it is due)", "planned"),
]


class ActivityFormScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with cleaned activity fields (``done`` False: planned, its date is when
    it is due), or None when cancelled. ``now`` is the app's clock: a date after it is
    planned, whatever the status says, as nothing is done in the future."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="activity.cancel"),
        Binding("ctrl+s", "save", "Save", id="activity.save"),
    ]

    def __init__(self, activity: ActivityView | None = None, *, now: datetime | None = None):
        super().__init__()
        self.activity = activity
        self.now = now or datetime.now(UTC)
        self._date_shown = activity.date.strftime("%Y-%m-%d %H:%M") if activity else ""

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
                placeholder="What happened? (planned: what is to happen)",
                id="description",
            )
            yield Input(
                self._date_shown,
                placeholder="When: YYYY-MM-DD (empty = now; a later date plans it)",
                id="date",
            )
            yield Select(
                STATUS_CHOICES,
                value="planned" if current is not None and not current.done else "done",
                allow_blank=False,
                id="status",
            )
            yield Static("", classes="error", id="activity-error")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def _later_date_typed(self) -> bool:
        """A date after now typed (not the one an edited activity already had: a done
        activity stays done unless the rep says otherwise)."""
        text = self.query_one("#date", Input).value.strip()
        if not text or text == self._date_shown:
            return False
        try:
            return parse_timestamp(text.replace(" ", "T")) > self.now
        except (ValueError, OverflowError):  # Overflow: year 1 with an offset, say
            return False

    @on(Input.Changed, "#date")
    def _date_changed(self) -> None:
        """A date ahead makes it planned as it is typed: the rep sees what will be saved."""
        if self._later_date_typed():
            self.query_one("#status", Select).value = "planned"

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        typed = self.query_one("#date", Input).value.strip()
        data = {
            "type": self.query_one("#type", Select).value,
            "description": self.query_one("#description", Input).value,
            # Empty: now by the app's clock, as "today" is everywhere else on screen.
            "date": typed.replace(" ", "T") or self.now,
        }
        try:
            clean = clean_activity(data)
            planned = (
                self.query_one("#status", Select).value == "planned" or self._later_date_typed()
            )
            if planned and not typed:
                raise ValidationError([FieldError("date", "a planned activity needs its due date")])
        except ValidationError as exc:
            self.query_one("#activity-error", Static).update(str(exc))
            return
        self.dismiss({**clean, "done": not planned})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
