"""Re-embeds changed deals off the caller's thread, so a save never waits for the model.

Changes queue up and are coalesced per workspace: ten quick edits to one deal cost one
embedding. A failure (no model, index held by another process) is handed to ``on_error``
once per distinct message and the work is dropped: the index is derived data, and the next
refresh or `vectoros reindex` catches up.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable

from vectoros_tui.similar.errors import SimilarUnavailableError
from vectoros_tui.similar.service import SimilarDeals

log = logging.getLogger(__name__)


class BackgroundIndexer:
    def __init__(
        self,
        service: SimilarDeals,
        on_error: Callable[[Exception], None] | None = None,
        on_done: Callable[[uuid.UUID], None] | None = None,
    ) -> None:
        self.service = service
        self._on_error = on_error
        self._on_done = on_done
        self._pending: dict[uuid.UUID, set[uuid.UUID] | None] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="vectoros-indexer", daemon=True)
        self._thread.start()

    def changed(self, workspace_id: uuid.UUID, deal_ids: Iterable[uuid.UUID]) -> None:
        """These deals were created, edited or deleted (all the same: refresh compares)."""
        with self._cond:
            current = self._pending.get(workspace_id, set())
            if current is not None:
                current.update(deal_ids)
            self._pending[workspace_id] = current
            self._cond.notify()

    def refresh_workspace(self, workspace_id: uuid.UUID) -> None:
        """Bring the whole workspace in step (after an import, or another process's edits)."""
        with self._cond:
            self._pending[workspace_id] = None
            self._cond.notify()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once nothing is queued or running (tests and shutdown use it)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                workspace_id, deal_ids = self._pending.popitem()
                self._busy = True
            try:
                self.service.refresh(workspace_id, deal_ids)
                self._last_error = None
                if self._on_done:
                    self._on_done(workspace_id)
            except Exception as exc:  # reported, never fatal: search is an extra
                if not isinstance(exc, SimilarUnavailableError):
                    log.exception("background indexing failed")
                message = str(exc)
                if message != self._last_error and self._on_error:
                    self._on_error(exc)
                self._last_error = message
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
