"""Mark a deal won or lost (with the reason it was lost)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

COMMON_REASONS = (
    "Price",
    "Lost to competitor",
    "No budget",
    "Timing / no decision",
    "Missing features",
    "Went silent",
)


class CloseDealScreen(ModalScreen[tuple[str, str | None] | None]):
    """Dismisses with ("won", None), ("lost", reason) or None (cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="close_deal.cancel"),
        Binding("ctrl+g", "won", "Won", id="close_deal.won"),
        Binding("ctrl+l", "lost", "Lost", id="close_deal.lost"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.deal_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="close-dialog", classes="dialog"):
            yield Label(Text.assemble("Close ", (self.deal_title, "bold")))
            yield Static("Lost reason (for lost deals), e.g. " + ", ".join(COMMON_REASONS[:3]))
            yield Input(placeholder="Why was it lost?", id="reason")
            with Horizontal():
                yield Button("Won (ctrl+g)", variant="success", id="won")
                yield Button("Lost (ctrl+l)", variant="error", id="lost")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#won")
    def action_won(self) -> None:
        self.dismiss(("won", None))

    @on(Button.Pressed, "#lost")
    @on(Input.Submitted, "#reason")
    def action_lost(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        self.dismiss(("lost", reason or None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
