"""First run: the database has no workspace yet.

Offers the demo pipeline (``d``) or an empty workspace (``c``). Either is created in a
thread worker; the handler then opens it (sets ``app.workspace``) and dismisses.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.screens.messages import explain
from vectoros_tui.store.demo import DEMO_DEALS, DEMO_HISTORY_MONTHS, create_demo_workspace
from vectoros_tui.store.errors import StoreError
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import WorkspaceView

DEMO_NAME = "Demo"
DEMO_SEED = 7

INTRO = (
    "VectorOS: revenue intelligence for B2B sales reps, in your terminal.\n"
    "Track deals, forecast revenue and see which deals need you now."
)
HINT = (
    f"The demo is {DEMO_DEALS:,} realistic deals over {DEMO_HISTORY_MONTHS} months, "
    f"in a workspace named {DEMO_NAME!r}."
)


class WelcomeScreen(ReportsWorkerErrors, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "Load the demo", id="welcome.demo"),
        Binding("c", "create", "Create empty", id="welcome.create"),
        Binding("escape", "back", "Back", id="welcome.back"),
    ]

    class Opened(Message):
        """A workspace was created (``workspace``) or could not be (``error``)."""

        def __init__(self, workspace: WorkspaceView | None, error: str | None = None) -> None:
            super().__init__()
            self.workspace = workspace
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome", classes="dialog"):
            yield Static(INTRO, id="intro")
            with Horizontal(id="choices"):
                yield Button("Load the demo pipeline (d)", id="demo", variant="primary")
                yield Button("Create an empty workspace (c)", id="create")
            with Vertical(id="create-form"):
                yield Input(placeholder="Workspace name, e.g. EMEA Q4", id="create-name")
                yield Static("", id="create-error")
            yield Static(HINT, id="welcome-status")

    def on_mount(self) -> None:
        box = self.query_one("#welcome")
        box.border_title = "Welcome to VectorOS"
        box.border_subtitle = "d demo · c create · ctrl+q quit"
        self.query_one("#demo", Button).focus()

    # --- workers ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="welcome", exit_on_error=False, description="welcome")
    def _load_demo(self) -> None:
        store = self.require_store()
        create_demo_workspace(
            store.db,
            name=DEMO_NAME,
            deals=DEMO_DEALS,
            seed=DEMO_SEED,
            history_months=DEMO_HISTORY_MONTHS,
            now=self.vectoros.now(),
        )
        self.post_message(self.Opened(store.workspaces.resolve(DEMO_NAME)))

    @work(thread=True, exclusive=True, group="welcome", exit_on_error=False, description="welcome")
    def _create_empty(self, name: str) -> None:
        store = self.require_store()
        try:
            workspace = store.workspaces.create(name)
        except (ValidationError, StoreError) as error:
            self.post_message(self.Opened(None, explain(error)))
            return
        self.post_message(self.Opened(workspace))

    # --- handlers -----------------------------------------------------------------------

    def _set_busy(self, busy: bool, status: str = "") -> None:
        self.busy = busy
        for button in self.query("#choices Button").results(Button):
            button.disabled = busy
        self.query_one("#create-name", Input).disabled = busy
        if status:
            self.query_one("#welcome-status", Static).update(status)

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        if message.workspace is None:
            self._set_busy(False, HINT)
            self.query_one("#create-error", Static).update(f"Cannot create it: {message.error}.")
            self.query_one("#create-name", Input).focus()
            return
        self.vectoros.workspace = message.workspace
        self.dismiss(None)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # The app reports the error; here we only make the choices usable again.
        if event.state == WorkerState.ERROR:
            self._set_busy(False, "That did not work (see the notification); try again.")

    @on(Button.Pressed, "#demo")
    def _demo_pressed(self) -> None:
        self.action_demo()

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.action_create()

    @on(Input.Submitted, "#create-name")
    def _name_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.busy:
            return
        self.query_one("#create-error", Static).update("")
        self._set_busy(True, "Creating the workspace…")
        self._create_empty(event.value)

    # --- actions ------------------------------------------------------------------------

    def action_demo(self) -> None:
        if self.busy:
            return
        self.remove_class("creating")
        self._set_busy(
            True,
            f"Creating the demo pipeline ({DEMO_DEALS:,} deals, {DEMO_HISTORY_MONTHS} months)…",
        )
        self._load_demo()

    def action_create(self) -> None:
        if self.busy:
            return
        self.add_class("creating")
        self.query_one("#create-error", Static).update("enter creates it")
        name = self.query_one("#create-name", Input)
        name.focus()

    def action_back(self) -> None:
        if self.has_class("creating") and not self.busy:
            self.remove_class("creating")
            self.query_one("#demo", Button).focus()
