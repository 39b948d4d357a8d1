"""First run (welcome), the workspace switcher (ctrl+o), help (F1) and the small dialogs."""

from __future__ import annotations

from collections.abc import Callable

from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.help import HelpScreen
from vectoros_tui.screens.messages import ConfirmScreen, ErrorScreen
from vectoros_tui.screens.welcome import WelcomeScreen
from vectoros_tui.screens.workspace_switcher import WorkspaceSwitcherScreen
from vectoros_tui.store.demo import DEMO_DEALS
from vectoros_tui.store.store import open_store

SIZE = (100, 30)


def static_text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)  # type: ignore[attr-defined]


async def welcome(app: VectorOSApp, pilot: Pilot) -> WelcomeScreen:
    # Pushed is not yet composed: wait for its widgets too.
    await wait_for(
        lambda: isinstance(app.screen, WelcomeScreen) and app.screen.query("#intro"), pilot
    )
    assert isinstance(app.screen, WelcomeScreen)
    return app.screen


# --- welcome ---------------------------------------------------------------------------


async def test_empty_database_welcomes_and_loads_the_demo(
    database_url: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(database_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await welcome(app, pilot)
        assert "VectorOS" in static_text(screen, "#intro")
        assert app.snapshot is None and app.workspace is None
        await pilot.press("d")
        await wait_for(lambda: app.snapshot is not None, pilot, timeout=30)
        await pilot.pause()
        assert not isinstance(app.screen, WelcomeScreen)
        assert app.workspace is not None and app.workspace.name == "Demo"
        assert app.snapshot is not None and len(app.snapshot.deals) == DEMO_DEALS
        assert any(d.outcome == "won" for d in app.snapshot.deals)  # with its history
        # The demo's dates follow the app's clock.
        assert app.snapshot.loaded_at == FIXED_NOW


async def test_create_empty_workspace_validates_the_name(
    database_url: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(database_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await welcome(app, pilot)
        await pilot.press("c")
        name = screen.query_one("#create-name", Input)
        assert name.has_focus
        await pilot.press("enter")
        await wait_for(lambda: "must not be empty" in static_text(screen, "#create-error"), pilot)
        assert app.screen is screen and app.workspace is None

        await pilot.press(*"EMEA Q4")
        await pilot.press("enter")
        await wait_for_snapshot(app, pilot)
        assert not isinstance(app.screen, WelcomeScreen)
        assert app.workspace is not None and app.workspace.name == "EMEA Q4"
        assert app.snapshot is not None and app.snapshot.deals == []

    store = open_store(database_url, upgrade=False)
    assert [w.name for w in store.workspaces.list()] == ["EMEA Q4"]
    store.close()


# --- switcher --------------------------------------------------------------------------


async def open_switcher(app: VectorOSApp, pilot: Pilot) -> WorkspaceSwitcherScreen:
    await pilot.press("ctrl+o")
    await wait_for(lambda: isinstance(app.screen, WorkspaceSwitcherScreen), pilot)
    screen = app.screen
    assert isinstance(screen, WorkspaceSwitcherScreen)
    await wait_for(lambda: len(screen.workspaces) > 0, pilot)
    await pilot.pause()
    return screen


async def test_switcher_lists_and_switches(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    store = open_store(demo_database, upgrade=False)
    store.workspaces.create("Second")
    store.close()
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        assert app.workspace is not None and app.workspace.name == "Demo"
        screen = await open_switcher(app, pilot)
        assert [(w.name, w.deal_count) for w in screen.workspaces] == [
            ("Demo", 120),
            ("Second", 0),
        ]
        options = screen.query_one(OptionList)
        assert options.option_count == 2
        assert options.highlighted == 0  # the open workspace
        assert "120 deals" in str(options.get_option_at_index(0).prompt)

        before = app.snapshot
        await pilot.press("down", "enter")
        await wait_for_snapshot(app, pilot, before)
        assert not isinstance(app.screen, WorkspaceSwitcherScreen)
        assert app.workspace is not None and app.workspace.name == "Second"
        assert app.snapshot is not None and app.snapshot.workspace.name == "Second"
        assert app.snapshot.deals == []


async def test_switcher_escape_cancels(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        workspace = app.workspace
        await open_switcher(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, WorkspaceSwitcherScreen)
        assert app.workspace == workspace


async def test_switcher_creates_a_workspace(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        screen = await open_switcher(app, pilot)
        await pilot.press("n")
        assert screen.query_one("#new-name", Input).has_focus
        await pilot.press("enter")
        await wait_for(lambda: "must not be empty" in static_text(screen, "#new-error"), pilot)
        assert app.screen is screen
        # escape closes the form first, then the dialog; n opens it again.
        await pilot.press("escape")
        assert app.screen is screen and screen.query_one(OptionList).has_focus
        await pilot.press("n", *"APAC", "enter")
        await wait_for(lambda: app.workspace is not None and app.workspace.name == "APAC", pilot)
        await wait_for(lambda: app.snapshot.workspace.name == "APAC", pilot)  # type: ignore[union-attr]
        assert not isinstance(app.screen, WorkspaceSwitcherScreen)


# --- help ------------------------------------------------------------------------------


async def test_help_lists_every_key(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_snapshot(app, pilot)
        below = app.screen
        expected = {binding.binding.description for binding in below.active_bindings.values()}
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        descriptions = {k.description for k in help_screen.keys}
        assert {"Deals", "Forecast", "Insights", "Help", "Workspace"} <= descriptions
        assert {d for d in expected if d} <= descriptions
        keys = {k.key for k in help_screen.keys}
        assert {"f2", "f3", "f4", "^o"} <= keys
        # The screen below's own keys are there too (the pipeline's "New").
        assert any(k.group == "This screen" for k in help_screen.keys)
        await pilot.press("escape")
        assert app.screen is below

        await pilot.press("f4")
        await wait_for(lambda: app.screen is not below, pilot)
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        descriptions = {k.description for k in help_screen.keys}
        assert {"Dismiss", "Regenerate", "Read/unread", "Open deal"} <= descriptions
        await pilot.press("f1")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)


# --- dialogs ---------------------------------------------------------------------------


class DialogApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool | None] = []

    def compose(self) -> ComposeResult:
        yield Static("below")


async def test_confirm_screen_answers() -> None:
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, answer in (("y", True), ("n", False), ("escape", False)):
            app.push_screen(ConfirmScreen("Delete 'Acme'?", "Delete"), app.answers.append)
            await pilot.pause()
            assert "Delete 'Acme'?" in static_text(app.screen, "#question")
            await pilot.press(key)
            await pilot.pause()
            assert app.answers[-1] is answer
        app.push_screen(ConfirmScreen("Sure?"), app.answers.append)
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause()
        assert app.answers[-1] is True


async def test_error_screen_copies_its_text() -> None:
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ErrorScreen("Import failed", "row 3: value: must be a number"))
        await pilot.pause()
        await pilot.press("c")
        assert app.clipboard == "row 3: value: must be a number"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorScreen)


async def test_the_app_opens_the_workspace_last_chosen_and_remembers_a_switch(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    """One remembered workspace for the CLI and the app (kept in the data folder)."""
    from vectoros_tui.last_workspace import LastWorkspace
    from vectoros_tui.locations import current_locations
    from vectoros_tui.store.store import open_store

    store = open_store(demo_database, upgrade=False)
    try:
        other = store.workspaces.create("Second team")
    finally:
        store.close()
    remembered = LastWorkspace(current_locations().data_dir, demo_database)
    remembered.set(other.id)
    app = make_app(demo_database)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.workspace is not None, pilot)
        assert app.workspace is not None and app.workspace.id == other.id
    # A deleted one is forgotten quietly: the app opens another, with no warning.
    remembered.set("11111111-1111-4111-8111-111111111111")
    app = make_app(demo_database)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.workspace is not None, pilot)
        assert not any("No workspace named" in n.message for n in app._notifications)
        assert app.workspace is not None
        assert remembered.get() == str(app.workspace.id)  # and the one opened is remembered
