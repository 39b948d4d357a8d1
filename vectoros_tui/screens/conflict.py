"""Someone else saved the deal first: show both versions, let the rep choose."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from vectoros_tui.screens.deal_fields import LABELS, show_field

Choice = Literal["reload", "overwrite"]


class ConflictScreen(ModalScreen[Choice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reload", "Reload theirs", id="conflict.reload", priority=True),
        Binding(
            "ctrl+o", "overwrite", "Overwrite with mine", id="conflict.overwrite", priority=True
        ),
        Binding("escape", "cancel", "Keep editing", id="conflict.cancel"),
    ]

    def __init__(self, mine: dict[str, Any], theirs: dict[str, Any], version: int) -> None:
        super().__init__()
        self.mine, self.theirs, self.version = mine, theirs, version

    def compose(self) -> ComposeResult:
        differences = Table("field", "yours", f"theirs (version {self.version})", expand=True)
        for field, value in self.mine.items():
            other = self.theirs.get(field)
            if show_field(field, value) == show_field(field, other):
                continue
            differences.add_row(
                LABELS.get(field, field), show_field(field, value), show_field(field, other)
            )
        with Vertical(id="conflict-dialog", classes="dialog -warning"):
            yield Label("This deal was changed by someone else since you opened it.")
            yield Static(differences)
            yield Label("Nothing is lost until you choose.")
            with Horizontal():
                yield Button("Reload theirs (ctrl+r)", id="reload")
                yield Button("Overwrite with mine (ctrl+o)", variant="warning", id="overwrite")
                yield Button("Keep editing (esc)", id="cancel")

    @on(Button.Pressed, "#reload")
    def action_reload(self) -> None:
        self.dismiss("reload")

    @on(Button.Pressed, "#overwrite")
    def action_overwrite(self) -> None:
        self.dismiss("overwrite")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
