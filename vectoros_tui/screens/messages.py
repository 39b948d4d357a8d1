"""Small reusable dialogs: a yes/no question and an error with copyable text.

``ConfirmScreen`` dismisses with True (confirmed) or False (cancelled), so callers write
``self.app.push_screen(ConfirmScreen("Delete 'Acme'?", "Delete"), on_answer)``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from vectoros_tui.store.validation import ValidationError


def explain(error: Exception) -> str:
    """A store error as a sentence for a form: 'Name must not be empty'."""
    if isinstance(error, ValidationError) and error.errors:
        return "; ".join(
            f"{e.field.replace('_', ' ').capitalize()} {e.message}" for e in error.errors
        )
    return str(error)


class ConfirmScreen(ModalScreen[bool]):
    """Ask a question; ``y``/the confirm button answers True, ``n``/escape answers False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, question: str, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, id="question", classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (n)", id="cancel")
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        # Cancel is the safe default for enter.
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ErrorScreen(ModalScreen[None]):
    """An error the user may want to paste into a bug report: ``c`` copies it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="error.copy"),
        Binding("escape", "close", "Close", id="error.close"),
        Binding("enter", "close", "Close", show=False, id="error.close_enter"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.error_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.error_title, classes="dialog-title")
            with VerticalScroll(id="error-text"):
                yield Static(self.text, markup=False)
            yield Static("c copies the text · escape closes", id="hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy (c)", id="copy")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied the error text", timeout=2)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
