"""The `vectoros` command's entry point: straight to the app when that is all it is asked.

`vectoros` alone in a terminal opens the app. On that path the board is read with the
database driver alone (store.quick_start) and painted before the CLI, SQLAlchemy or
SQLModel are imported; they load behind the first frame. Every other invocation, and any
start the quick path is unsure of (no database yet, a server that does not answer, a
schema to upgrade, a bad config), goes through the full CLI, which reports problems
properly. `vectoros forecast --json` and `vectoros score --json` are answered the same way
when today's result is already kept (kept_commands).
"""

from __future__ import annotations

import sys

from vectoros_tui.file_modes import make_files_private


def main() -> None:
    make_files_private()
    if len(sys.argv) == 1 and sys.stdin.isatty() and sys.stdout.isatty():
        code = _quick_app()
        if code is not None:
            sys.exit(code)
    if len(sys.argv) > 1 and sys.argv[1] in ("forecast", "score"):
        from vectoros_tui.kept_commands import answer_from_kept

        if answer_from_kept(sys.argv[1:]):
            sys.exit(0)
    from vectoros_tui.cli import main as cli_main

    cli_main()


def _quick_app() -> int | None:
    """Run the app from a quick look at the database and return its exit code; None when
    that cannot be done."""
    import os
    from dataclasses import replace

    from vectoros_tui.config_sources import plain_settings
    from vectoros_tui.engine.dates import utc_now
    from vectoros_tui.last_workspace import LastWorkspace
    from vectoros_tui.locations import current_locations
    from vectoros_tui.logfile import setup_logging
    from vectoros_tui.store.quick_start import (
        QuickStart,
        read_quick_start,
        read_quick_start_postgres,
    )
    from vectoros_tui.store.urls import sqlite_file_of, sqlite_url_for

    try:
        locations = current_locations()
        plain = plain_settings(locations, os.environ)
        workspace: str | None = None
        if plain is not None:
            # Nothing for pydantic to check (the defaults, but for where the data is and
            # which workspace): none before the first frame.
            settings = None
            database_url = plain.database_url or sqlite_url_for(locations.database_file)
            workspace = plain.workspace
        else:
            from vectoros_tui.config import ConfigError, load_settings

            try:
                settings, _ = load_settings()
            except ConfigError:
                return None  # the CLI says what is wrong
            from vectoros_tui.theme import theme_problem

            if theme_problem(settings.ui.theme):
                return None
            database_url = settings.resolved_database_url(locations)
            workspace = settings.workspace
        path = sqlite_file_of(database_url)
        # Without one asked for: the workspace last chosen (CLI or app); if it has been
        # deleted since, the first one, without a warning nobody asked for.
        remembered = None if workspace else LastWorkspace(locations.data_dir, database_url).get()

        def read(ref: str | None) -> QuickStart | None:
            if path is not None:
                return read_quick_start(path, ref, utc_now())
            return read_quick_start_postgres(database_url, ref, utc_now())

        quick = read(workspace or remembered)
        if quick is not None and remembered and quick.ref_not_found:
            # The board is the first workspace's already, as asked for by none.
            quick = replace(quick, ref_not_found=False)
        if quick is None:
            return None
        setup_logging(locations, "WARNING")
    except OSError:
        return None
    from vectoros_tui.app import VectorOSApp

    app = VectorOSApp(
        database_url,
        settings=settings,
        workspace_ref=workspace,
        quick=quick,
        collect_when_idle=True,
    )
    app.run()
    code = app.return_code or 0
    from vectoros_tui.quitting import leave_promptly

    leave_promptly(app.worker_threads, code)
    return code
