"""The ``vectoros`` command line. Exit codes: 0 success, 2 bad input, 1 anything else."""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import workspace_option
from vectoros_tui.cli.output import FilteredStream, errors, report, visible_lines
from vectoros_tui.logfile import setup_logging

log = logging.getLogger("vectoros_tui.cli")


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    "database",
    metavar="URL",
    help="Database URL (overrides VECTOROS_DATABASE_URL and the config file). "
    "Default: SQLite in the data folder.",
)
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    """VectorOS: pipeline, forecasts, deal health and insights for B2B sales reps.

    Without a command, opens the full-screen app.
    """
    ctx.obj = CliContext(database_override=database)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            ctx.invoke(ui)
        else:
            click.echo(ctx.get_help())


@cli.command()
@workspace_option
@click.pass_obj
def ui(obj: CliContext, workspace: str | None) -> None:
    """Open the full-screen app (what `vectoros` alone does in a terminal)."""
    from vectoros_tui.config import ConfigError
    from vectoros_tui.engine.dates import utc_now
    from vectoros_tui.store.startup import start_loading
    from vectoros_tui.theme import theme_problem

    if problem := theme_problem(obj.settings.ui.theme):
        raise ConfigError(problem)
    obj.prepare_default_database()
    ref = workspace or obj.settings.workspace
    # Open the database while Textual is being imported: the two overlap at start-up.
    startup = start_loading(obj.database_url, ref, utc_now())

    from vectoros_tui.app import VectorOSApp

    app = VectorOSApp(
        obj.database_url,
        settings=obj.settings,
        workspace_ref=ref,
        startup=startup,
        collect_when_idle=True,
    )
    app.run()
    from vectoros_tui.quitting import leave_promptly

    leave_promptly(app.worker_threads, app.return_code or 0)


def _register() -> None:
    from vectoros_tui.cli import (
        analytics_commands,
        deal_commands,
        demo_commands,
        doctor_commands,
        goal_commands,
        identity_commands,
        io_commands,
        serve_commands,
        similar_commands,
        sync_commands,
        workspace_commands,
    )

    for module in (
        demo_commands,
        workspace_commands,
        deal_commands,
        analytics_commands,
        goal_commands,
        io_commands,
        similar_commands,
        sync_commands,
        serve_commands,
        doctor_commands,
        identity_commands,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def _user_errors() -> tuple[type[BaseException], ...]:
    from vectoros_tui.config import ConfigError
    from vectoros_tui.engine.forecast import ForecastInputError
    from vectoros_tui.store.csv_import import CsvImportError
    from vectoros_tui.store.database import DatabaseURLError
    from vectoros_tui.store.errors import AmbiguousError, NotFoundError
    from vectoros_tui.store.validation import ValidationError

    return (
        ConfigError,
        ForecastInputError,
        CsvImportError,
        DatabaseURLError,
        AmbiguousError,
        NotFoundError,
        ValidationError,
    )


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    from vectoros_tui.config import ConfigError
    from vectoros_tui.file_modes import make_files_private
    from vectoros_tui.locations import current_locations
    from vectoros_tui.similar.errors import SimilarUnavailableError
    from vectoros_tui.store.errors import StoreError
    from vectoros_tui.sync.errors import SyncError

    make_files_private()
    user_errors = _user_errors()
    arguments = sys.argv[1:] if argv is None else argv
    for position, argument in enumerate(arguments, 1):
        if any("\ud800" <= ch <= "\udfff" for ch in str(argument)):
            # A byte the locale could not decode: no database or search can take it.
            shown = str(argument).encode("utf-8", "backslashreplace").decode("ascii", "replace")
            report("error", f"argument {position} ({shown}) is not valid UTF-8 text")
            return 2
    home = os.environ.get("VECTOROS_HOME")
    if home and Path(home).expanduser().exists() and not Path(home).expanduser().is_dir():
        report("config error", f"VECTOROS_HOME is {home}, which is not a folder")
        return 2
    try:
        setup_logging(current_locations(), "WARNING")
    except OSError as exc:
        errors.print(f"warning: cannot write the log file: {exc}")
    try:
        # Without standalone mode click *returns* the code of an Exit instead of raising.
        code = cli.main(args=argv, prog_name="vectoros", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        errors.print("Aborted.")
        return 1
    except click.ClickException as exc:
        # Click repeats the offending value: shown as escapes if it holds control characters.
        # Click types the file as IO, but only writes to it and flushes it.
        exc.show(file=FilteredStream(sys.stderr, visible_lines))  # type: ignore[arg-type]
        return exc.exit_code
    except user_errors as exc:
        report("config error" if isinstance(exc, ConfigError) else "error", str(exc))
        return 2
    except (StoreError, SimilarUnavailableError, SyncError) as exc:
        report("error", str(exc))
        return 1
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        return 130
    except OSError as exc:  # the file system said no: a folder that cannot be made, a full disk
        where = f" ({exc.filename})" if exc.filename else ""
        report("error", f"{exc.strerror or exc}{where}")
        return 1
    except Exception as exc:  # the last line of defence: log it, never dump a traceback
        log.exception("unexpected error")
        location = current_locations().log_file
        report(
            "unexpected error",
            f"{type(exc).__name__}: {exc}\nDetails were written to {location}. Please report it.",
        )
        return 1


def main() -> None:
    """The console script: one command, then the process ends."""
    # What importing the CLI built (click, SQLAlchemy, SQLModel, pydantic: ~200,000
    # objects) lives until the process ends; out of the collector's sight, the full
    # collections that building a team's 14,000 deal records sets off walk only those
    # records. A forecast or score of a 100,000-deal workspace took 0.3-0.4 s less.
    # Not in run(): the tests call that in their own process, many times over.
    gc.freeze()
    sys.exit(run())
