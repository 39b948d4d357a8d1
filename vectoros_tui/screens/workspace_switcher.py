"""ctrl+o: pick another workspace, or create one (``n``).

Dismisses with the chosen (or newly created) :class:`WorkspaceView`, or None when
cancelled. The list is read and the workspace created in thread workers; the handlers
paint the results.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.screens.messages import explain
from vectoros_tui.store.errors import StoreError
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.widgets.palette import Palette


def _deals(count: int) -> str:
    return "1 deal" if count == 1 else f"{count:,} deals"


class WorkspaceSwitcherScreen(ReportsWorkerErrors, ModalScreen[WorkspaceView | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", id="switcher.select"),
        Binding("n", "new", "New workspace", id="switcher.new"),
        Binding("escape", "cancel", "Cancel", id="switcher.cancel"),
    ]

    class Loaded(Message):
        def __init__(self, workspaces: list[WorkspaceView]) -> None:
            super().__init__()
            self.workspaces = workspaces

    class Created(Message):
        def __init__(self, workspace: WorkspaceView | None, error: str | None) -> None:
            super().__init__()
            self.workspace = workspace
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.workspaces: list[WorkspaceView] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher", classes="dialog"):
            yield Static("Loading workspaces…", id="switcher-status")
            yield OptionList(id="workspaces")
            with Vertical(id="new-form"):
                yield Input(placeholder="Name of the new workspace", id="new-name")
                yield Static("", id="new-error")

    def on_mount(self) -> None:
        box = self.query_one("#switcher")
        box.border_title = "Workspaces"
        box.border_subtitle = "enter open · n new · escape cancel"
        self.query_one("#workspaces", OptionList).focus()
        self._load()

    # --- workers ----------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="switcher-load",
        exit_on_error=False,
        description="switcher-load",
    )
    def _load(self) -> None:
        store = self.require_store()
        self.post_message(self.Loaded(store.workspaces.list()))

    @work(
        thread=True,
        exclusive=True,
        group="switcher-create",
        exit_on_error=False,
        description="switcher-create",
    )
    def _create(self, name: str) -> None:
        store = self.require_store()
        try:
            created = store.workspaces.create(name)
        except (ValidationError, StoreError) as error:
            self.post_message(self.Created(None, explain(error)))
            return
        self.post_message(self.Created(created, None))

    # --- handlers -----------------------------------------------------------------------

    @on(Loaded)
    def _paint(self, message: Loaded) -> None:
        self.workspaces = message.workspaces
        current = getattr(self.app, "workspace", None)
        options = self.query_one("#workspaces", OptionList)
        options.clear_options()
        palette = Palette.of(self.app)
        highlight = 0
        width = min(36, max((len(w.name) for w in self.workspaces), default=0))
        for index, workspace in enumerate(self.workspaces):
            prompt = Text()
            is_current = current is not None and current.id == workspace.id
            prompt.append("● " if is_current else "  ", style=palette.style("success", bold=True))
            prompt.append(workspace.name.ljust(width), style="bold" if is_current else "")
            prompt.append(f"  {_deals(workspace.deal_count):>12}", style="dim")
            options.add_option(Option(prompt, id=str(workspace.id)))
            if is_current:
                highlight = index
        status = self.query_one("#switcher-status", Static)
        if self.workspaces:
            options.highlighted = highlight
            count = len(self.workspaces)
            noun = "workspace" if count == 1 else "workspaces"
            status.update(f"{count} {noun} · ● is the open one")
        else:
            status.update("No workspace yet: press n to create one")

    @on(OptionList.OptionSelected, "#workspaces")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.workspaces):
            self.dismiss(self.workspaces[index])

    @on(Input.Submitted, "#new-name")
    def _submit_new(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#new-error", Static).update("Creating…")
        self._create(event.value)

    @on(Created)
    def _created(self, message: Created) -> None:
        if message.workspace is None:
            self.query_one("#new-error", Static).update(f"Cannot create it: {message.error}.")
            self.query_one("#new-name", Input).focus()
            return
        self.notify(f"Created workspace {message.workspace.name!r}", timeout=3)
        self.dismiss(message.workspace)

    # --- actions ------------------------------------------------------------------------

    def action_select(self) -> None:
        if self.has_class("creating"):
            return
        self._choose(self.query_one("#workspaces", OptionList).highlighted)

    def action_new(self) -> None:
        self.add_class("creating")
        self.query_one("#new-error", Static).update("enter creates it and opens it")
        name = self.query_one("#new-name", Input)
        name.value = ""
        name.focus()

    def action_cancel(self) -> None:
        if self.has_class("creating"):
            self.remove_class("creating")
            self.query_one("#workspaces", OptionList).focus()
            return
        self.dismiss(None)
