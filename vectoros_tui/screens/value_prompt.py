"""A one-value input dialog with inline validation (goal, probability, close date)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


@dataclass(frozen=True)
class Answer:
    value: object


class ValuePrompt(ModalScreen[Answer | None]):
    """Ask for one value; ``parse`` validates it and its ``ValueError`` is shown inline.

    Dismisses with an :class:`Answer` holding the parsed value, or ``None`` on escape.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, hint: str, parse: Callable[[str], object], value: str = ""
    ) -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._parse = parse
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog") as box:
            box.border_title = self._title
            yield Label(self._hint, classes="hint")
            yield Input(self._value, id="prompt-input")
            yield Label("", id="prompt-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = self._parse(event.value)
        except ValueError as error:
            self.query_one("#prompt-error", Label).update(f"{error}. Esc cancels.")
            return
        self.dismiss(Answer(value))

    def action_cancel(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- screen
