"""The Textual app: modes (pipeline, forecast, insights), global keys, shared data.

Screens read :attr:`VectorOSApp.snapshot` (the current workspace's deals and health) and
watch it to repaint. Every write goes through :attr:`VectorOSApp.session` (see
vectoros_tui.session), from the screens' thread workers; the session's one change message
becomes a new snapshot here, on the main thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from vectoros_tui.commands import ScreenCommands
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.locations import STYLESHEET_FILE
from vectoros_tui.memory import IdleCollector
from vectoros_tui.quitting import WorkerThreads
from vectoros_tui.theme import AUTO, OUR_THEMES, theme_for
from vectoros_tui.widgets.terminal_safe import TerminalSafeFilter

if TYPE_CHECKING:
    # Imported where used: the first frame is painted before SQLAlchemy is loaded.
    from vectoros_tui.config import Settings
    from vectoros_tui.identity import Identity
    from vectoros_tui.last_workspace import LastWorkspace
    from vectoros_tui.session import Change, WorkspaceSession
    from vectoros_tui.similar.background import BackgroundIndexer
    from vectoros_tui.similar.service import SimilarDeals
    from vectoros_tui.store.board import StageColumn
    from vectoros_tui.store.quick_start import QuickStart
    from vectoros_tui.store.snapshot import WorkspaceSnapshot
    from vectoros_tui.store.startup import StartupData
    from vectoros_tui.store.store import Store
    from vectoros_tui.store.views import WorkspaceView

POLL_SECONDS = 5.0
SWITCH_INTERVAL = 0.0005  # seconds: see VectorOSApp.on_mount
# Imported in the background once the workspace is on screen (see _import_forecast_screen).
_FORECAST_SCREEN = "vectoros_tui.screens.forecast"


# Every @work below names its description: Textual would otherwise build one from the
# repr() of the arguments, and the repr of a workspace snapshot takes ~90 ms.


class VectorOSApp(App[None]):
    TITLE = "VectorOS"
    CSS_PATH = str(STYLESHEET_FILE)
    COMMANDS = App.COMMANDS | {ScreenCommands}
    MODES: ClassVar[dict[str, Any]] = {}  # filled in _register_modes(): imports stay lazy
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="help"),
        Binding("f2", "switch_mode('pipeline')", "Deals", id="pipeline"),
        Binding("f3", "switch_mode('forecast')", "Forecast", id="forecast"),
        Binding("f4", "switch_mode('insights')", "Insights", id="insights"),
        Binding("f5", "switch_mode('similar')", "Similar", id="similar"),
        Binding("ctrl+o", "switch_workspace", "Workspace", id="workspace", show=False),
        Binding("ctrl+y", "sync", "Sync", id="sync", show=False),
        Binding("ctrl+r", "reload", "Reload", id="reload", show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, show=False),
    ]

    snapshot: reactive[WorkspaceSnapshot | None] = reactive(None, always_update=True)
    # The board's columns from SQL, painted before the full snapshot of a big workspace.
    board_preview: reactive[list[StageColumn] | None] = reactive(None, always_update=True)
    workspace: reactive[WorkspaceView | None] = reactive(None)
    # Why the store could not be opened (None: it opened, or is still opening).
    store_error: reactive[str | None] = reactive(None)

    # Every painted line, whatever widget drew it: stored text never drives the terminal.
    _TERMINAL_SAFE = TerminalSafeFilter()

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), self._TERMINAL_SAFE]

    def __init__(
        self,
        database_url: str,
        *,
        settings: Settings | None = None,
        workspace_ref: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        poll_seconds: float = POLL_SECONDS,
        startup: Future[StartupData] | None = None,
        quick: QuickStart | None = None,
        collect_when_idle: bool = False,
    ) -> None:
        """``startup``: the database work already under way (see store.startup);
        ``quick``: the board read without the store, painted first (see store.quick_start);
        ``collect_when_idle``: once the first workspace is loaded, freeze what is alive and
        run Python's full collections when the rep is idle (see vectoros_tui.memory); the
        entry points set it, tests do not (it is process-wide)."""
        # None: the defaults (no config file, no variables), built when first asked for
        # so that the first frame does not wait for pydantic.
        self._settings = settings
        self._register_modes()
        super().__init__()
        self.database_url = database_url
        self.workspace_ref = workspace_ref or (settings.workspace if settings else None)
        # Without one asked for: the workspace last chosen here (CLI or app), silently
        # replaced by the first one if it has been deleted since.
        self._remembered = self.workspace_ref is None and quick is None
        if self._remembered:
            self.workspace_ref = self._last_workspace().get()
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.store: Store | None = None
        self.session: WorkspaceSession | None = None
        self._poll_timer: Timer | None = None
        self._startup = startup
        self.worker_threads = WorkerThreads()
        self._quick = quick
        self._preloaded: list[StageColumn] | None = None
        self._similar: SimilarDeals | None = None
        self._indexer: BackgroundIndexer | None = None
        self._collector: IdleCollector | None = IdleCollector() if collect_when_idle else None
        self._collect_timer: Timer | None = None
        self._switch_interval = sys.getswitchinterval()  # restored on exit
        for theme in OUR_THEMES:
            self.register_theme(theme)
        configured = settings.ui.theme if settings is not None else AUTO
        self.theme = theme_for(configured, self.console.color_system)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from vectoros_tui.config import Settings

            self._settings = Settings()
        return self._settings

    def me(self) -> Identity:
        """Who runs the app (the configured user, else the OS user)."""
        from vectoros_tui.identity import who_am_i

        user = self.settings.user
        return who_am_i(user.email, user.name, None)

    @classmethod
    def _register_modes(cls) -> None:
        # Factories, so each screen's module (the forecast's pulls in numpy and plotext) is
        # imported when the rep first opens it, not at start-up.
        def pipeline() -> Screen[None]:
            from vectoros_tui.screens.pipeline import PipelineScreen

            return PipelineScreen()

        def forecast() -> Screen[None]:
            from vectoros_tui.screens.forecast import ForecastScreen

            screen = ForecastScreen()
            screen.expect_first_forecast()
            return screen

        def insights() -> Screen[None]:
            from vectoros_tui.screens.insights import InsightsScreen

            return InsightsScreen()

        def similar() -> Screen[None]:
            from vectoros_tui.screens.similar import SimilarScreen

            return SimilarScreen()

        cls.MODES = {
            "pipeline": pipeline,
            "forecast": forecast,
            "insights": insights,
            "similar": similar,
        }

    # --- start-up -------------------------------------------------------------------

    def on_mount(self) -> None:
        # The event loop and the workers (forecast, loads) share the GIL. A worker's numpy
        # steps each release it and then wait for the loop's thread to yield it, by default
        # up to 5 ms each time; a forecast of 2,000 deals took 100 ms instead of 15 while
        # the screen repainted. A 0.5 ms switch interval hands it over sooner.
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        if self._collector is not None:
            # From the first frame: opening the store imports SQLAlchemy and the first load
            # makes a team's workspace's objects, and Python's own full collections set
            # off meanwhile (70-100 ms each) landed on the rep's first keys (see memory).
            self._collector.hold()
            self._collect_timer = self.set_interval(0.5, self._collect_if_idle)
        if not self.is_headless:
            # Quitting must not wait for a worker still computing (see quitting). Tests keep
            # asyncio's own pool, which waits, so no worker outlives its test's database.
            asyncio.get_running_loop().set_default_executor(self.worker_threads)
            if sys.__stdin__ is not None:
                self.set_interval(1.0, self._leave_if_the_terminal_is_gone)
        if self._settings is not None and self._settings.ui.keys:
            self.set_keymap(self._settings.ui.keys)
        self.switch_mode("pipeline")
        quick, self._quick = self._quick, None
        if quick is not None:
            self.sub_title = quick.workspace.name
            self.board_preview = quick.columns
            if quick.ref_not_found:
                self._workspace_not_found(quick.workspace.name)
            # The store (SQLAlchemy and all) loads once the first frame is on screen.
            self.workspace_ref = quick.workspace.id
            self.call_after_refresh(self._open_store)
            return
        startup = self._startup
        if startup is not None and startup.done() and startup.exception() is None:
            # Usually ready by now: paint the data in the very first frame.
            self._store_opened(startup.result())
        else:
            self._open_store()

    @work(thread=True, exclusive=True, group="store", exit_on_error=False, description="store")
    def _open_store(self) -> None:
        from vectoros_tui.store.startup import load_startup

        if self._startup is not None:
            data = self._startup.result()
        else:
            # After a quick start the board is painted already: no second preview query.
            painted = self.board_preview is not None
            data = load_startup(
                self.database_url, self.workspace_ref, self.now(), preview=not painted
            )
        self.call_from_thread(self._store_opened, data)

    def _store_opened(self, data: StartupData) -> None:
        from vectoros_tui.store.roles import Actor

        me = self.me()
        # Every change made here is checked against my role in the workspace.
        self.store = data.store.acting_as(Actor(email=me.email, name=me.name))
        if data.workspace is None:
            from vectoros_tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
            return
        if data.ref_not_found:
            self._workspace_not_found(data.workspace.name)
        self._preloaded = data.preview
        if self._preloaded is None and not data.ref_not_found:
            self._preloaded = self.board_preview  # the quick start's, of this workspace
        self.workspace = data.workspace

    def _last_workspace(self) -> LastWorkspace:
        from vectoros_tui.last_workspace import LastWorkspace
        from vectoros_tui.locations import current_locations

        return LastWorkspace(current_locations().data_dir, self.database_url)

    def _workspace_not_found(self, opened: str) -> None:
        if self._remembered:
            return  # the remembered one is gone; no one asked for it by name
        self.notify(
            f"No workspace named {self.workspace_ref!r}; opened {opened!r} "
            "(ctrl+o lists them all).",
            severity="warning",
            timeout=8,
        )

    def watch_workspace(self, workspace: WorkspaceView | None) -> None:
        if workspace is not None:
            from vectoros_tui.session import WorkspaceSession

            assert self.store is not None
            self.sub_title = workspace.name
            self._last_workspace().set(workspace.id)  # the CLI's default from now on
            self.session = WorkspaceSession(
                self.store,
                workspace,
                clock=self.now,
                on_change=self._session_changed,
                me=self.me(),
            )
            if self._similar_in_use():
                self.session.indexer = self._background_indexer()
            if _FORECAST_SCREEN not in sys.modules:
                # Beside the load, not after it: a team's workspace takes seconds to read,
                # and an F3 pressed meanwhile imported the screen's modules itself first.
                self._import_forecast_screen()
            if self.poll_seconds > 0 and self._poll_timer is None:
                self._poll_timer = self.set_interval(self.poll_seconds, self._poll_for_changes)
            self.snapshot = None
            preloaded, self._preloaded = self._preloaded, None
            if preloaded is not None and preloaded is self.board_preview:
                # The quick start's: its frame is on screen already.
                self.data_changed()
            elif preloaded is not None:
                self.board_preview = preloaded
                # Let the first frame reach the terminal before the full load competes
                # with it for the interpreter.
                self.call_after_refresh(self.data_changed)
            else:
                self._load_preview(workspace)
                self.data_changed()

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False, description="preview")
    def _load_preview(self, workspace: WorkspaceView) -> None:
        from vectoros_tui.store.snapshot import load_board_preview

        assert self.store is not None
        columns = load_board_preview(self.store, workspace, self.now())
        self.call_from_thread(self._preview_loaded, columns)

    def _preview_loaded(self, columns: list[StageColumn]) -> None:
        if self.snapshot is None:  # the full snapshot may already have won the race
            self.board_preview = columns

    # --- shared data ----------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def data_changed(self) -> None:
        """Read the workspace again (a change by another process, or ctrl+r)."""
        if self.session is not None:
            self._load_snapshot(self.session)

    @work(
        thread=True, exclusive=True, group="snapshot", exit_on_error=False, description="snapshot"
    )
    def _load_snapshot(self, session: WorkspaceSession) -> None:
        session.reload()

    def _session_changed(self, change: Change) -> None:
        """The session's one message per change, from whichever worker thread wrote."""
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(self._show_change, change)

    def _show_change(self, change: Change) -> None:
        session = self.session
        if session is None or change.snapshot.workspace.id != session.workspace.id:
            return  # a workspace the rep has since switched away from
        self.snapshot = change.snapshot
        if _FORECAST_SCREEN not in sys.modules:
            self._import_forecast_screen()
        if self._collector is not None and not self._collector.frozen:
            # After the screens have painted the workspace: their widgets are long-lived too.
            self.call_after_refresh(self._collector.start)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False, description="import")
    def _import_forecast_screen(self) -> None:
        """The forecast screen's modules (its charts, plotext), imported while the rep reads
        the board: the first F3 then mounts the screen at once instead of importing them
        first (~0.1 s)."""
        import importlib

        importlib.import_module(_FORECAST_SCREEN)

    def _leave_if_the_terminal_is_gone(self) -> None:
        """Textual's input thread reads a terminal that has gone away as an endless end of
        file, at a full core, for as long as the process lives; the hangup signal that would
        end it does not reach a process started under another (``make run``, a wrapper
        script). A shared server would keep one such process per dropped SSH session."""
        from vectoros_tui.quitting import leave_now, terminal_is_gone

        assert sys.__stdin__ is not None
        if terminal_is_gone(sys.__stdin__.fileno()):
            logging.getLogger(__name__).warning("the terminal has gone away; quitting")
            # Every save is committed as it is made; what a form still holds unsaved has no
            # screen left to be saved from.
            leave_now(self.worker_threads, 0)

    def _collect_if_idle(self) -> None:
        if self._collector is not None:
            self._collector.tick(busy=any(w.is_running for w in self.workers))

    async def on_event(self, event: events.Event) -> None:
        if self._collector is not None and isinstance(event, events.Key | events.MouseDown):
            self._collector.input_seen()
        await super().on_event(event)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False, description="poll")
    def _poll_for_changes(self) -> None:
        """Another rep (process) may have changed the workspace: reload if so."""
        session = self.session
        if session is not None and session.changed_elsewhere():
            session.reload()

    # --- similar-deal search -----------------------------------------------------------

    def similar_service(self) -> SimilarDeals:
        """The similar-deal service (model and index open lazily, in whichever worker asks
        first). Needs the store: call after start-up."""
        if self._similar is None:
            from vectoros_tui.locations import current_locations
            from vectoros_tui.similar.service import SimilarDeals

            assert self.store is not None
            self._similar = SimilarDeals(self.store, self.settings.similar, current_locations())
            if self.session is not None and self.session.indexer is None:
                # Search is in use: from now on every write keeps the index current.
                self.session.indexer = self._background_indexer()
        return self._similar

    def _similar_in_use(self) -> bool:
        """Only a rep who has searched keeps an index up to date as they go (for the others
        the first search builds it): no model in memory for those who never search."""
        if self._similar is not None or self.settings.similar.qdrant_url:
            return True
        from vectoros_tui.locations import current_locations

        return (current_locations().vector_index_dir / "shard").exists()

    def similar_ready(self) -> bool:
        return self._similar is not None and self._similar.embedder.loaded

    def _background_indexer(self) -> BackgroundIndexer:
        """Re-embeds what the session writes (one for the app: it queues per workspace)."""
        if self._indexer is None:
            from vectoros_tui.similar.background import BackgroundIndexer

            self._indexer = BackgroundIndexer(
                self.similar_service(), on_error=self._indexing_failed
            )
        return self._indexer

    def _indexing_failed(self, error: Exception) -> None:
        """From the indexer's thread, once per distinct reason."""
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(
                self.notify,
                f"Similar-deal search is off: {error}",
                severity="warning",
                timeout=8,
            )

    def _still_opening(self) -> bool:
        """True (and says so) while the board shows the quick preview and the store is
        still opening (a second at most), or could not be opened."""
        if self.store is None:
            if self.store_error is not None:
                self.notify(
                    f"The database could not be opened: {self.store_error}",
                    severity="error",
                    timeout=8,
                )
            else:
                self.notify("Still opening the database…", timeout=2)
        return self.store is None

    def find_similar(self, deal_id: str) -> None:
        if self._still_opening():
            return
        from vectoros_tui.screens.similar import SimilarScreen

        self.push_screen(SimilarScreen(deal_id, pushed=True))

    def open_deal(self, deal_id: str | None) -> None:
        """Open the editor on a deal (None: a new deal)."""
        if self._still_opening():
            return
        from vectoros_tui.screens.deal_editor import DealEditorScreen

        self.push_screen(DealEditorScreen(deal_id))

    # --- actions --------------------------------------------------------------------

    def action_help(self) -> None:
        from vectoros_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_sync(self) -> None:
        if self.store is None or self.workspace is None:
            return
        from vectoros_tui.screens.sync import SyncScreen

        self.push_screen(SyncScreen())

    def action_reload(self) -> None:
        self.data_changed()
        self.notify("Reloaded", timeout=1.5)

    def action_switch_workspace(self) -> None:
        if self.store is None:
            return
        from vectoros_tui.screens.workspace_switcher import WorkspaceSwitcherScreen

        def chosen(workspace: WorkspaceView | None) -> None:
            if workspace is not None:
                self.workspace = workspace

        self.push_screen(WorkspaceSwitcherScreen(), chosen)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_error(event)

    def report_worker_error(self, event: Worker.StateChanged) -> None:
        """One place for worker failures (the app's and, via ReportsWorkerErrors, every
        screen's): a notification, never a traceback."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        self.log.error("worker failed", error)
        if event.worker.group == "store":
            self.store_error = str(error)
        from vectoros_tui.store.errors import StoreError
        from vectoros_tui.store.validation import ValidationError

        if isinstance(error, StoreError | ValidationError | ValueError):
            self.notify(str(error), title="Cannot do that", severity="error", timeout=8)
        else:
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Unexpected error",
                severity="error",
                timeout=10,
            )

    async def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        if self._collector is not None:
            self._collector.stop()
        if self._indexer is not None:
            self._indexer.close()
        if self._similar is not None:
            self._similar.close()  # releases the index folder for the next process
        if self.store is not None:
            self.store.close()
