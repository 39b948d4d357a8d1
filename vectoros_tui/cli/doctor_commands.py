"""`vectoros doctor` and `vectoros version`."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from vectoros_tui import __version__
from vectoros_tui.cli.context import CliContext, environment_summary
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import console, print_json, table
from vectoros_tui.store import migrate
from vectoros_tui.store.database import open_database, redact_url
from vectoros_tui.store.tables import Activity, Deal, Insight, Workspace

pass_ctx = click.make_pass_decorator(CliContext)


def _check_database(url: str, upgrade: bool) -> dict[str, Any]:
    report: dict[str, Any] = {"url": redact_url(url), "reachable": False}
    db = open_database(url)
    try:
        if upgrade:
            migrate.upgrade(db)
        current = migrate.current_revision(db)
        report.update(
            reachable=True,
            dialect=db.engine.dialect.name,
            schema_revision=current,
            schema_head=migrate.head_revision(),
        )
        report["migrated"] = current == report["schema_head"]
        if db.is_sqlite:
            with db.engine.connect() as conn:
                report["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if report["migrated"]:
            with db.read() as session:
                report["counts"] = {
                    name: session.exec(select(func.count()).select_from(table)).one()[0]
                    for name, table in (
                        ("workspaces", Workspace),
                        ("deals", Deal),
                        ("activities", Activity),
                        ("insights", Insight),
                    )
                }
    except OperationalError as exc:
        report["error"] = str(exc.orig or exc).strip().splitlines()[0]
    finally:
        db.dispose()
    return report


@click.command()
@click.option("--upgrade", is_flag=True, help="Create or upgrade the schema if needed.")
@json_option
@pass_ctx
def doctor(ctx: CliContext, upgrade: bool, as_json: bool) -> None:
    """Check the database, schema and configuration; print every path in use."""
    ctx.prepare_default_database()
    report = {
        "version": __version__,
        "config_file_exists": ctx.config_file.exists(),
        "paths": environment_summary(ctx),
        "settings": ctx.settings.model_dump(exclude={"database_url"}),
        "database": _check_database(ctx.database_url, upgrade),
    }
    database = report["database"]
    healthy = database["reachable"] and database.get("migrated", False)
    report["ok"] = healthy
    if as_json:
        print_json(report)
    else:
        table("Paths", ["what", "where"], list(report["paths"].items()))
        rows = [[k, v] for k, v in database.items() if k != "counts"]
        rows += [[f"{k} (count)", v] for k, v in database.get("counts", {}).items()]
        table("Database", ["check", "result"], rows)
        if not database["reachable"]:
            console.print(
                "[red]The database cannot be reached.[/red] Check --db / "
                "VECTOROS_DATABASE_URL / database_url in the config file."
            )
        elif not database.get("migrated"):
            console.print(
                "[yellow]The schema is not up to date:[/yellow] run "
                "`vectoros doctor --upgrade` (other commands upgrade it too)."
            )
        else:
            console.print("[green]All good.[/green]")
    if not healthy:
        raise click.exceptions.Exit(1)


@click.command("version")
@json_option
def version_command(as_json: bool) -> None:
    """Print the version of VectorOS and its main libraries."""
    info = {"vectoros": __version__, "python": platform.python_version()}
    for package in ("textual", "sqlalchemy", "sqlmodel", "alembic", "numpy", "scipy", "psycopg"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    if as_json:
        print_json(info)
    else:
        console.print(" ".join(f"{k} {v}" for k, v in info.items()))


COMMANDS = [doctor, version_command]
