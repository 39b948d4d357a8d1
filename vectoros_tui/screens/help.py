"""F1: every key that works on the screen underneath, with what it does.

The list is read from Textual's own binding chain of that screen (its focused widget, the
screen, the app), after the user's keymap, so it shows the keys as they really are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


@dataclass(frozen=True)
class KeyHelp:
    """One key of the help list: where it is bound, the key as shown, what it does."""

    group: str
    key: str
    description: str
    enabled: bool


def describe_action(action: str) -> str:
    """A readable fallback for bindings without a description: 'app.focus_next' -> 'Focus next'."""
    name = action.split("(")[0].rsplit(".", 1)[-1]
    return name.replace("_", " ").strip().capitalize() or action


def _group_name(node: DOMNode, screen: Screen) -> str:
    if isinstance(node, App):
        return "Everywhere"
    if node is screen:
        return "This screen"
    # Widgets name where their keys work ("In a board column"); others by their kind.
    named = getattr(node, "HELP_GROUP", None)
    if isinstance(named, str):
        return named
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(node).__name__).lower()
    return f"In the {words}"


def screen_keys(screen: Screen) -> list[KeyHelp]:
    """Every active binding of ``screen``: the screen's own, the focused widget's, the app's."""
    app = screen.app
    keys: list[KeyHelp] = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        display = app.get_key_display(binding.with_key(key, binding.key_display))
        keys.append(
            KeyHelp(
                _group_name(active.node, screen),
                display,
                binding.description or describe_action(binding.action),
                active.enabled,
            )
        )
    order = {"This screen": 0, "Everywhere": 2}
    return sorted(keys, key=lambda item: order.get(item.group, 1))  # stable within a group


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen below; escape, F1 or q closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        # Same id as the app's F1 binding: remapping "help" remaps opening and closing.
        Binding("f1", "close", "Close", id="help"),
        Binding("q", "close", "Close", show=False, id="help.close_q"),
    ]

    def __init__(self, screen: Screen | None = None) -> None:
        super().__init__()
        self._target = screen
        self.keys: list[KeyHelp] = []

    def _screen_below(self) -> Screen | None:
        if self._target is not None:
            return self._target
        stack = self.app.screen_stack
        index = stack.index(self) if self in stack else len(stack)
        return stack[index - 1] if index > 0 else None

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"), VerticalScroll(id="help-scroll"):
            yield Static(id="help-keys")

    def on_mount(self) -> None:
        below = self._screen_below()
        self.keys = screen_keys(below) if below is not None else []
        dialog = self.query_one("#help-dialog")
        dialog.border_title = "Keys"
        dialog.border_subtitle = "escape / F1 / q closes"
        self.query_one("#help-keys", Static).update(self._render_keys())
        self.query_one("#help-scroll").focus()

    def _render_keys(self) -> Table | Text:
        if not self.keys:
            return Text("No keys are bound here.")
        notes: list[tuple[str, str]] = list(getattr(self._screen_below(), "HELP_NOTES", ()))
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, min_width=10)
        table.add_column(ratio=1)
        group = None
        for item in self.keys:
            if item.group != group:
                if group is not None:
                    table.add_row("", "")
                table.add_row(Text(item.group, style="bold underline"), "")
                group = item.group
            description = Text(item.description, style="" if item.enabled else "dim")
            if not item.enabled:
                description.append(" (not now)", style="dim italic")
            table.add_row(Text(item.key, style="bold"), description)
        if notes:
            table.add_row("", "")
            table.add_row(Text("What the marks mean", style="bold underline"), "")
            for mark, meaning in notes:
                table.add_row(Text(mark, style="bold"), meaning)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
