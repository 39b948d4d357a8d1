"""Behaviour every screen shares: typed access to the app, and worker errors reported."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.worker import Worker

if TYPE_CHECKING:
    from textual.app import App

    from vectoros_tui.app import VectorOSApp
    from vectoros_tui.session import WorkspaceSession
    from vectoros_tui.store.store import Store


class ReportsWorkerErrors:
    """Mixed into every screen of the app.

    ``vectoros`` is the app with its own type, so screens reach the session, the settings
    and the clock checked by the type checker. Worker failures go to the app's single
    error reporter: Worker.StateChanged does not bubble, and without this an error in a
    screen's worker (a refused stage move, a deleted activity) would vanish without a word.
    """

    if TYPE_CHECKING:
        app: App[object]

    @property
    def vectoros(self) -> VectorOSApp:
        return cast("VectorOSApp", self.app)

    def require_store(self) -> Store:
        """The open store (screens that use it are only shown once it is open)."""
        store = self.vectoros.store
        if store is None:
            raise RuntimeError("the database is not open yet")
        return store

    def require_session(self) -> WorkspaceSession:
        """The open workspace's session (screens that write are only shown once a
        workspace is open)."""
        session = self.vectoros.session
        if session is None:
            raise RuntimeError("no workspace is open yet")
        return session

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.vectoros.report_worker_error(event)
