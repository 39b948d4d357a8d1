"""`vectoros doctor` and `vectoros version`."""

from __future__ import annotations

import platform
import stat
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click
from rich.markup import escape
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from vectoros_tui import __version__
from vectoros_tui.cli.context import CliContext, environment_summary
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import console, print_json, say, table
from vectoros_tui.store import migrate
from vectoros_tui.store.database import open_database, redact_url
from vectoros_tui.store.tables import Activity, Deal, Insight, Workspace
from vectoros_tui.store.urls import sqlite_file_of

pass_ctx = click.make_pass_decorator(CliContext)


def _readable_by_others(url: str) -> list[str]:
    """The database's files (with -wal and -shm) that other users may read or write: made
    by an older version or another tool, or with a permissive umask."""
    path = sqlite_file_of(url)
    if path is None:
        return []
    files = [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))]
    return [
        f"{file} ({stat.filemode(file.stat().st_mode)})"
        for file in files
        if file.exists() and file.stat().st_mode & 0o077
    ]


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
            exposed = _readable_by_others(url)
            if exposed:
                report["readable_by_others"] = exposed
        if report["migrated"]:
            with db.read() as session:
                report["counts"] = {
                    name: session.exec(select(func.count()).select_from(table)).one()
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


def _check_similar(ctx: CliContext) -> dict[str, Any]:
    """Drift between the database and the similar-deal index; never loads the model for the
    built-in one (text hashes are compared, not vectors)."""
    from vectoros_tui.similar.errors import SimilarUnavailableError

    service = ctx.similar()
    report: dict[str, Any] = {"model": service.embedder.model_id}
    try:
        report["index"] = service.index.location
        report["workspaces"] = {
            ws.name: service.drift(ws.id).to_api() for ws in ctx.store().workspaces.list()
        }
        report["foreign_points"] = len(service.foreign_points())
    except SimilarUnavailableError as exc:
        report["error"] = str(exc)
        return report
    report["in_step"] = report["foreign_points"] == 0 and all(
        d["in_step"] for d in report["workspaces"].values()
    )
    return report


def _print_similar(report: dict[str, Any]) -> None:
    rows: list[list[Any]] = [["model", report["model"]], ["index", report.get("index", "—")]]
    for name, drift in report.get("workspaces", {}).items():
        rows.append(
            [
                f"{name}",
                f"{drift['indexed']} of {drift['deals']} deals indexed; "
                f"missing {drift['missing']}, stale {drift['stale']}, orphan {drift['orphans']}",
            ]
        )
    if "foreign_points" in report:
        rows.append(["points of deleted workspaces", report["foreign_points"]])
    table("Similar-deal index", ["check", "result"], rows)
    if "error" in report:
        console.print(f"[yellow]Similar-deal search is off:[/yellow] {escape(report['error'])}")
    elif not report["in_step"]:
        console.print(
            "[yellow]The similar-deal index has drifted from the database:[/yellow] run "
            "`vectoros reindex --all` (searches also catch up on their own)."
        )


@click.command()
@click.option("--upgrade", is_flag=True, help="Create or upgrade the schema if needed.")
@json_option
@pass_ctx
def doctor(ctx: CliContext, upgrade: bool, as_json: bool) -> None:
    """Check the database, schema and configuration; print every path in use."""
    ctx.prepare_default_database()
    report: dict[str, Any] = {
        "version": __version__,
        "config_file_exists": ctx.config_file.exists(),
        "paths": environment_summary(ctx),
        "settings": ctx.settings.model_dump(exclude={"database_url"}),
        "database": _check_database(ctx.database_url, upgrade),
    }
    database = report["database"]
    healthy = database["reachable"] and database.get("migrated", False)
    report["ok"] = healthy
    if healthy:
        report["similar"] = _check_similar(ctx)
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
            _print_similar(report["similar"])
            console.print("[green]Database all good.[/green]")
        for exposed in database.get("readable_by_others", []):
            say(
                "[yellow]warning:[/yellow] {} can be read by other users of this machine; "
                "run `chmod 600` on it",
                exposed,
            )
    if not healthy:
        raise click.exceptions.Exit(1)


@click.command("version")
@json_option
def version_command(as_json: bool) -> None:
    """Print the version of VectorOS and its main libraries."""
    info: dict[str, str | None] = {"vectoros": __version__, "python": platform.python_version()}
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
