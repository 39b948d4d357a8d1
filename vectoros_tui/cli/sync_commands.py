"""`vectoros login`, `vectoros logout` and `vectoros sync` (status, conflicts, resolve)."""

from __future__ import annotations

import sys
from typing import Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option, workspace_option
from vectoros_tui.cli.output import (
    Column,
    console,
    errors,
    listing,
    print_json,
    say,
    short_id,
    table,
)
from vectoros_tui.store.views import WorkspaceView

pass_ctx = click.make_pass_decorator(CliContext)
DIALECTS = click.Choice(["auto", "documented", "deployed"])


def _tokens(ctx: CliContext) -> Any:
    from vectoros_tui.sync.credentials import TokenStore

    return TokenStore(ctx.locations)


def _backend(ctx: CliContext, server_url: str, dialect: str) -> Any:
    from vectoros_tui.sync.errors import SyncError
    from vectoros_tui.sync.http import RemoteBackend

    token = _tokens(ctx).get(server_url)
    if token is None:
        raise SyncError(f"not signed in to {server_url}: run `vectoros login {server_url}`")
    try:
        return RemoteBackend(server_url, token.value, dialect)
    except ValueError as exc:  # a malformed URL
        raise SyncError(str(exc)) from None


@click.command()
@click.argument("server_url", metavar="URL")
@click.option(
    "--token-stdin", is_flag=True, help="Read the token from standard input (for scripts)."
)
@click.option("--dialect", type=DIALECTS, default="auto", show_default=True)
def login(server_url: str, token_stdin: bool, dialect: str) -> None:
    """Store the access token for the team's backend at URL (checked with the server first).

    The token goes to the system keyring, or else to a file only you can read; it is never
    written to the config file or logs. VECTOROS_API_TOKEN, when set, overrides it.
    """
    from vectoros_tui.locations import current_locations
    from vectoros_tui.sync.credentials import TokenStore
    from vectoros_tui.sync.http import RemoteBackend

    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = click.prompt("Access token", hide_input=True).strip()
    if not token:
        raise click.BadParameter("the token is empty", param_hint="token")
    try:
        backend = RemoteBackend(server_url, token, dialect)
    except ValueError as exc:  # a malformed URL
        raise click.BadParameter(str(exc), param_hint="URL") from None
    with backend:
        workspaces = backend.list_workspaces()  # a wrong token fails here, before storing
        detected = backend.dialect_name
    result = TokenStore(current_locations()).set(server_url, token)
    for note in result.notes:
        errors.print(note, markup=False)
    say(
        "Signed in to {} ({} API, {} workspace(s) visible); token stored in {}.",
        server_url,
        detected,
        len(workspaces),
        result.location,
    )


@click.command()
@click.argument("server_url", metavar="URL")
def logout(server_url: str) -> None:
    """Forget the stored token for URL."""
    from vectoros_tui.locations import current_locations
    from vectoros_tui.sync.credentials import TokenStore

    result = TokenStore(current_locations()).delete(server_url)
    for note in result.notes:
        errors.print(note, markup=False)
    say("Signed out of {}." if result else "No stored token for {}.", server_url)


@click.group(invoke_without_command=True)
@workspace_option
@click.option("--link", "link_url", metavar="URL", help="Link the workspace to this backend.")
@click.option(
    "--remote-workspace",
    metavar="ID|NAME",
    help="With --link: the backend's workspace (default: the one with the same name).",
)
@click.option("--dialect", type=DIALECTS, default="auto", show_default=True)
@click.option("--status", is_flag=True, help="Last sync, pending changes and conflicts.")
@json_option
@click.pass_context
def sync(
    click_ctx: click.Context,
    workspace: str | None,
    link_url: str | None,
    remote_workspace: str | None,
    dialect: str,
    status: bool,
    as_json: bool,
) -> None:
    """Push local changes to the team's backend, then pull theirs.

    Both sides changed a deal since the last sync? Nothing is overwritten: the deal is
    listed by `vectoros sync conflicts` until `vectoros sync resolve` decides.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    from vectoros_tui.sync.engine import SyncEngine

    ctx: CliContext = click_ctx.ensure_object(CliContext)
    engine = SyncEngine(ctx.store().db)
    if link_url:
        ws = _workspace_to_link(ctx, workspace)
        with _backend(ctx, link_url, dialect) as backend:
            wanted = remote_workspace or (ws.name if ws else workspace)
            remote_ws = _remote_workspace(backend, wanted)
            if ws is None:
                # Linking is how a rep joining a team starts: the local workspace the
                # team's deals are pulled into is made here, named as asked or as theirs.
                ws = ctx.store().workspaces.create(workspace or remote_ws.name)
                ctx.remember(ws)
                say("Created workspace [bold]{}[/bold] for the team's deals.", ws.name)
            engine.link(ws.id, link_url, str(remote_ws.id), backend.dialect_name)
        say("Linked {} to workspace {} on {}.", ws.name, remote_ws.id, link_url)
    else:
        ws = ctx.workspace(workspace)
    if status:
        state = engine.status(ws.id)
        if as_json:
            print_json(state.to_api())
        else:
            _print_status(ws.name, state)
        return
    remote = engine.remote(ws.id)
    if remote is None:
        raise click.UsageError(
            f"workspace {ws.name!r} is not linked: run `vectoros sync --link URL` first"
        )
    with _backend(ctx, remote.server_url, remote.dialect) as backend:
        report = engine.sync(ws.id, backend)
    if as_json:
        print_json({"workspace": ws.name, **report.to_api()})
        return
    pushed = report.pushed_created + report.pushed_updated + report.pushed_deleted
    pulled = report.pulled_created + report.pulled_updated + report.pulled_deleted
    say("Synced {} with {}: {} pushed, {} pulled.", ws.name, remote.server_url, pushed, pulled)
    if report.pushed_activities or report.pulled_activities:
        say(
            "Activities: {} pushed, {} pulled.",
            report.pushed_activities,
            report.pulled_activities,
        )
    for note in report.notes:
        say("note: {}", note)
    for problem in report.problems:
        errors.print(f"warning: {problem}", markup=False)
    conflicts = engine.status(ws.id).conflicts
    if conflicts:
        console.print(
            f"[yellow]{conflicts} conflict(s)[/yellow]: see `vectoros sync conflicts`, then "
            "`vectoros sync resolve ID --keep mine|theirs` or `--merge field=mine|theirs`."
        )


def _workspace_to_link(ctx: CliContext, ref: str | None) -> WorkspaceView | None:
    """The local workspace `sync --link` links, or None when it is to be created: there
    is none yet, or -w names one that does not exist (an id must exist)."""
    from vectoros_tui.store.errors import NotFoundError
    from vectoros_tui.store.ids import parse_uuid

    try:
        return ctx.workspace(ref)
    except NotFoundError:
        if ref and parse_uuid(ref) is not None:
            raise
        return None


def _remote_workspace(backend: Any, wanted: str | None) -> Any:
    """The backend's workspace named (or with the id) ``wanted``; without a name, its only
    one."""
    from vectoros_tui.sync.errors import SyncError

    found = backend.list_workspaces()
    names = ", ".join(f"{w.name} ({w.id})" for w in found) or "none"
    if not wanted:
        if len(found) == 1:
            return found[0]
        raise SyncError(
            f"which of the backend's workspaces? pass --remote-workspace NAME; it has: {names}"
        )
    for item in found:
        if str(item.id) == wanted or item.name.casefold() == wanted.casefold():
            return item
    raise SyncError(f"the backend has no workspace {wanted!r}; it has: {names}")


def _print_status(name: str, state: Any) -> None:
    if not state.linked:
        say("{} is not linked to a backend (`vectoros sync --link URL`).", name)
        return
    rows = [
        ["server", state.server_url],
        ["remote workspace", state.remote_workspace_id],
        ["API dialect", state.dialect],
        [
            "last sync",
            state.last_sync_at.isoformat(timespec="seconds") if state.last_sync_at else "never",
        ],
        ["pending changes", state.pending],
        ["pending activity changes", state.pending_activities],
        ["conflicts", state.conflicts],
    ]
    if state.last_error:
        rows.append(["last problem", state.last_error])
    table(f"Sync · {name}", ["what", "value"], rows)


@sync.command("conflicts")
@workspace_option
@json_option
@pass_ctx
def conflicts_command(ctx: CliContext, workspace: str | None, as_json: bool) -> None:
    """Deals changed on both sides: yours and theirs, field by field."""
    from vectoros_tui.sync.engine import SyncEngine

    ws = ctx.workspace(workspace)
    found = SyncEngine(ctx.store().db).conflicts(ws.id)
    if as_json:
        print_json({"workspace": ws.name, "conflicts": [c.to_api() for c in found]})
        return
    if not found:
        say("No sync conflicts in {}.", ws.name)
        return
    for conflict in found:
        rows = []
        for name in conflict.differing_fields():
            mine = "(deleted)" if conflict.mine is None else conflict.mine.get(name)
            theirs = "(deleted)" if conflict.theirs is None else conflict.theirs.get(name)
            rows.append([name, conflict.base.get(name), mine, theirs])
        listing(
            f"{short_id(conflict.deal_id)}  {conflict.title}",
            [
                Column("field"),
                Column("last synced", rank=1, shrink=True, min_width=10),
                Column("mine", shrink=True, min_width=12),
                Column("theirs", shrink=True, min_width=12),
            ],
            rows,
        )


@sync.command("resolve")
@click.argument("deal_ref", metavar="ID")
@workspace_option
@click.option("--keep", type=click.Choice(["mine", "theirs"]), help="Keep one side whole.")
@click.option(
    "--merge",
    "merges",
    multiple=True,
    metavar="FIELD=mine|theirs",
    help="Pick a side per field (repeatable); unnamed fields keep mine.",
)
@pass_ctx
def resolve_command(
    ctx: CliContext, deal_ref: str, workspace: str | None, keep: str | None, merges: tuple[str, ...]
) -> None:
    """Settle a conflict; the result is pushed by the next `vectoros sync`."""
    from vectoros_tui.store.errors import AmbiguousError, NotFoundError
    from vectoros_tui.sync.engine import SyncEngine

    if bool(keep) == bool(merges):
        raise click.UsageError("give either --keep mine|theirs or one or more --merge FIELD=SIDE")
    choices: dict[str, str] = {}
    for item in merges:
        name, _, side = item.partition("=")
        if not name or side not in ("mine", "theirs"):
            raise click.BadParameter(
                f"{item!r}: use FIELD=mine or FIELD=theirs", param_hint="--merge"
            )
        choices[name.strip()] = side
    ws = ctx.workspace(workspace)
    engine = SyncEngine(ctx.store().db)
    wanted = deal_ref.strip().lower()
    matches = [c.deal_id for c in engine.conflicts(ws.id) if str(c.deal_id).startswith(wanted)]
    if not wanted or not matches:
        raise NotFoundError(
            f"no sync conflict for deal {deal_ref!r} (see `vectoros sync conflicts`)"
        )
    if len(matches) > 1:
        raise AmbiguousError(f"{deal_ref!r} matches {len(matches)} conflicts; give more of the id")
    deal_id = matches[0]
    engine.resolve(ws.id, deal_id, keep or "merge", choices)
    say("Resolved: {} kept{}.", short_id(deal_id), f" ({keep})" if keep else " (merged)")


COMMANDS = [login, logout, sync]
