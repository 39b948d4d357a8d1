"""`vectoros import` and `vectoros export`."""

from __future__ import annotations

import codecs
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option, owner_option, workspace_option
from vectoros_tui.cli.output import (
    FilteredStream,
    errors,
    print_json,
    progress_bar,
    say,
    visible_lines,
)
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.store.workspaces import clean_workspace_name
from vectoros_tui.text_safety import json_for_terminal

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

pass_ctx = click.make_pass_decorator(CliContext)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} must look like field=column", param_hint=option)
        out[key.strip()] = value.strip()
    return out


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from COLUMN (repeatable), e.g. --map value=close_value.",
)
@click.option(
    "--stage-map",
    "stage_maps",
    multiple=True,
    metavar="NAME=STAGE",
    help='Map your CRM\'s stage names, e.g. --stage-map "Demo Scheduled=qualified".',
)
@click.option("--day-first", is_flag=True, help="Read 03/04/2026 as 3 April (default: March 4).")
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    metavar="NAME",
    help="The file's text encoding, e.g. cp1252 for Excel's plain CSV on Windows.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@json_option
@pass_ctx
def import_deals(
    ctx: CliContext,
    file: Path,
    workspace: str | None,
    maps: tuple[str, ...],
    stage_maps: tuple[str, ...],
    day_first: bool,
    encoding: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import deals from a CSV file: all rows or none.

    Columns are detected from common CRM header names. Re-importing the same file updates
    the deals it created instead of duplicating them.
    """
    from vectoros_tui.store.csv_import import (
        ImportFileError,
        ImportResult,
        apply_import,
        plan_import,
    )
    from vectoros_tui.store.csv_import.applying import joining, plan_owners

    if not file.exists():
        raise click.BadParameter(f"{file} does not exist", param_hint="FILE")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise click.BadParameter(
            f"{encoding!r} is not an encoding Python knows (e.g. utf-8, cp1252, latin-1)",
            param_hint="--encoding",
        ) from None
    # UTF-8 with or without Excel's byte-order mark.
    codec = "utf-8-sig" if codec == "utf-8" else codec
    mapping = _pairs(maps, "--map")
    stage_map = _pairs(stage_maps, "--stage-map")
    store = ctx.store()
    # A first import into an empty database makes the workspace it needs (named after
    # --workspace, else the file) instead of sending the rep off to create one first.
    new_name = None
    if not store.workspaces.list():
        new_name = workspace.strip() if workspace and workspace.strip() else file.stem
    ws = None if new_name else ctx.workspace(workspace)
    with progress_bar(f"Reading {file.name}", not as_json) as report:
        plan = plan_import(
            file,
            mapping=mapping or None,
            stage_map=stage_map or None,
            day_first=day_first,
            encoding=codec,
            progress=report,
        )
    if new_name is None:
        assert ws is not None
        result = apply_import(store, ws.id, plan, dry_run=dry_run)
    else:
        if plan.errors:  # before the workspace is made: a refused file leaves nothing
            raise ImportFileError(plan.errors)
        if dry_run:
            # Into a workspace that does not exist yet every row is a new deal.
            name = clean_workspace_name(new_name)
            ws = WorkspaceView(uuid.uuid4(), name, utc_now())
            result = ImportResult(
                len(plan.rows),
                0,
                0,
                plan.total_rows,
                dry_run=True,
                new_members=joining(plan_owners(plan), set()),
            )
        else:
            ws = store.workspaces.create(new_name)
            ctx.remember(ws)
            result = apply_import(store, ws.id, plan)
    summary: dict[str, Any] = {
        "file": str(file),
        "workspace": ws.name,
        "createdWorkspace": new_name is not None,
        "dryRun": result.dry_run,
        "rows": result.total_rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "columns": plan.header_map,
        "ignoredColumns": list(getattr(plan, "ignored_columns", [])),
        "newMembers": list(result.new_members),
        # How the file's ambiguous cells were read (date order, fractions, commas).
        "notes": list(plan.warnings),
    }
    if as_json:
        print_json(summary)
        return
    verb = "Would import" if dry_run else "Imported"
    if new_name is not None:
        say(
            "{} workspace [bold]{}[/bold] (there was none yet).",
            "Would create" if dry_run else "Created",
            ws.name,
        )
    say(
        "{} {} row{} into {}: {} new, {} updated, {} unchanged.",
        verb,
        result.total_rows,
        "" if result.total_rows == 1 else "s",
        ws.name,
        result.created,
        result.updated,
        result.unchanged,
    )
    say("Columns: {}", ", ".join(f"{f} ← {c!r}" for f, c in plan.header_map.items()))
    if summary["ignoredColumns"]:
        say("Ignored columns: {}", ", ".join(summary["ignoredColumns"]))
    for note in plan.warnings:
        say("[bold]Note:[/bold] {}", note)
    if result.new_members:
        say(
            "{} {} new member{} (deal owners the file names): {}",
            "Would add" if dry_run else "Added",
            len(result.new_members),
            "" if len(result.new_members) == 1 else "s",
            ", ".join(result.new_members),
        )


@click.command("export")
@workspace_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option("--stage", help="Only deals in this stage.")
@click.option("--outcome", type=click.Choice(["open", "won", "lost"]))
@owner_option
@pass_ctx
def export_deals(
    ctx: CliContext,
    workspace: str | None,
    fmt: Literal["csv", "json"],
    output: Path | None,
    stage: str | None,
    outcome: str | None,
    owner: str | None,
) -> None:
    """Export deals to CSV or JSON (CSV cells are safe to open in spreadsheets)."""
    from vectoros_tui.store.csv_export import export_deals as write_export

    ws = ctx.workspace(workspace)
    store = ctx.store()
    member = ctx.owner(ws.id, owner)
    owner_id = member.id if member else None
    if output is None:
        stream: SupportsWrite[str]
        # JSON stays the same JSON value; CSV is exact through a pipe, and shown with escapes
        # when it goes straight to a terminal.
        if fmt == "json":
            stream = FilteredStream(sys.stdout, json_for_terminal)
        elif sys.stdout.isatty():
            stream = FilteredStream(sys.stdout, visible_lines)
        else:
            stream = sys.stdout
        write_export(store, ws.id, stream, fmt=fmt, stage=stage, outcome=outcome, owner_id=owner_id)
        return
    partial = output.with_name(output.name + ".partial")
    # Write beside the target and rename, so a failed export never leaves half a file.
    with partial.open("w", encoding="utf-8", newline="") as out:
        count = write_export(
            store, ws.id, out, fmt=fmt, stage=stage, outcome=outcome, owner_id=owner_id
        )
    partial.replace(output)
    errors.print(f"Exported {count} deals to {output}", markup=False)


COMMANDS = [import_deals, export_deals]
