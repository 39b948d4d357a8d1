"""Behaviour every screen with workers shares."""

from __future__ import annotations

from textual.worker import Worker


class ReportsWorkerErrors:
    """Send this screen's worker failures to the app's single error reporter.

    Worker.StateChanged does not bubble: without this, an error in a screen's worker (a
    refused stage move, a deleted activity) would vanish without a word.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_error(event)  # type: ignore[attr-defined]
