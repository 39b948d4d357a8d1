"""What the app needs before its first paint, loadable before Textual is even imported.

`vectoros` starts this in a thread first thing, so opening the database and reading the
board's first columns overlap with importing the UI (the two together took ~1.1 s one
after the other for a 10,000-deal workspace).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from vectoros_tui.store.quick_start import choose_workspace, named_workspace
from vectoros_tui.store.snapshot import StageColumn, load_board_preview
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.views import WorkspaceView


@dataclass(frozen=True)
class StartupData:
    store: Store
    workspaces: list[WorkspaceView]
    workspace: WorkspaceView | None
    preview: list[StageColumn] | None
    # A workspace was asked for by name or id but none matched (the first one was opened).
    ref_not_found: bool = False


def load_startup(
    database_url: str, workspace_ref: str | None, now: datetime, *, preview: bool = True
) -> StartupData:
    """``preview=False`` when the board is on screen already (store.quick_start)."""
    store = open_store(database_url)
    try:
        workspaces = store.workspaces.list()
        chosen = choose_workspace(workspaces, workspace_ref)
        columns = load_board_preview(store, chosen, now) if chosen and preview else None
    except BaseException:
        store.close()
        raise
    not_found = bool(workspaces) and bool((workspace_ref or "").strip())
    not_found = not_found and named_workspace(workspaces, workspace_ref) is None
    return StartupData(store, workspaces, chosen, columns, not_found)


def start_loading(
    database_url: str, workspace_ref: str | None, now: datetime
) -> Future[StartupData]:
    """Run :func:`load_startup` in a daemon thread; errors arrive through the future."""
    future: Future[StartupData] = Future()

    def run() -> None:
        try:
            future.set_result(load_startup(database_url, workspace_ref, now))
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name="vectoros-startup", daemon=True).start()
    return future
