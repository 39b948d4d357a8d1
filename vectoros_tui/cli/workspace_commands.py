"""`vectoros workspace ...`."""

from __future__ import annotations

import contextlib

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option, workspace_option
from vectoros_tui.cli.output import Column, listing, print_json, say
from vectoros_tui.store.errors import AmbiguousError, NotFoundError
from vectoros_tui.store.roles import with_article
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.store.workspaces import ROLES

pass_ctx = click.make_pass_decorator(CliContext)


def _current(ctx: CliContext) -> WorkspaceView | None:
    """The workspace a command without --workspace works on, if there is one."""
    with contextlib.suppress(AmbiguousError, NotFoundError):
        return ctx.workspace(None)
    return None


def _scoped(ctx: CliContext, positional: str | None, option: str | None) -> WorkspaceView:
    """`workspace members Team` (as before) or `-w Team` (as every other command)."""
    if positional and option and positional != option:
        raise click.UsageError(f"two workspaces given: {positional!r} and -w {option!r}")
    return ctx.workspace(positional or option)


@click.group()
def workspace() -> None:
    """Create, list, choose, rename and delete workspaces; manage members."""


@workspace.command("list")
@json_option
@pass_ctx
def list_workspaces(ctx: CliContext, as_json: bool) -> None:
    """Every workspace; the one commands use without --workspace is marked *."""
    items = ctx.store().workspaces.list()
    current = _current(ctx)
    chosen = current.id if current else None
    if as_json:
        print_json(
            {
                "workspaces": [{**w.to_api(), "current": w.id == chosen} for w in items],
                "total": len(items),
            }
        )
        return
    # The * column only when a workspace is used by default and there is a choice.
    marked = chosen is not None and len(items) > 1
    listing(
        "Workspaces",
        [
            *([Column("")] if marked else []),
            Column("name", shrink=True, min_width=16),
            Column("deals", rank=1, right=True),
            Column("created", rank=3),
            Column("id", rank=2),
        ],
        [
            [
                *(["*" if w.id == chosen else ""] if marked else []),
                w.name,
                w.deal_count,
                w.created_at.date().isoformat(),
                str(w.id),
            ]
            for w in items
        ],
        caption="* used when --workspace is not given" if marked else None,
    )


@workspace.command("use")
@click.argument("ref", metavar="NAME|ID")
@pass_ctx
def use_workspace(ctx: CliContext, ref: str) -> None:
    """Make NAME the workspace commands use when --workspace is not given (as -w does)."""
    item = ctx.workspace(ref)
    if ctx.settings.workspace:
        say(
            "Now using {}, but the configured workspace ({}) still comes first: "
            "commands without --workspace use that one.",
            item.name,
            ctx.settings.workspace,
        )
    else:
        say("Now using [bold]{}[/bold] when --workspace is not given.", item.name)


@workspace.command("create")
@click.argument("name")
@click.option("--owner", "owner_email", metavar="EMAIL", help="Owner's email address.")
@json_option
@pass_ctx
def create_workspace(ctx: CliContext, name: str, owner_email: str | None, as_json: bool) -> None:
    item = ctx.store().workspaces.create(name, owner_email=owner_email)
    if as_json:
        print_json(item.to_api())
    else:
        say("Created workspace [bold]{}[/bold] ({})", item.name, item.id)


@workspace.command("rename")
@click.argument("ref", metavar="NAME|ID")
@click.argument("new_name")
@pass_ctx
def rename_workspace(ctx: CliContext, ref: str, new_name: str) -> None:
    store = ctx.store()
    item = store.workspaces.rename(store.workspaces.resolve(ref).id, new_name)
    say("Renamed to [bold]{}[/bold]", item.name)


@workspace.command("delete")
@click.argument("ref", metavar="NAME|ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def delete_workspace(ctx: CliContext, ref: str, yes: bool) -> None:
    """Delete a workspace and ALL its deals."""
    store = ctx.store()
    item = store.workspaces.resolve(ref)
    if not yes:
        click.confirm(
            f"Delete workspace {item.name!r} and its {item.deal_count} deals?", abort=True
        )
    store.workspaces.delete(item.id)
    if ctx.last_workspace.get() == str(item.id):
        ctx.last_workspace.set(None)
    say("Deleted workspace [bold]{}[/bold]", item.name)


@workspace.command("members")
@click.argument("ref", metavar="[NAME|ID]", required=False)
@workspace_option
@json_option
@pass_ctx
def list_members(ctx: CliContext, ref: str | None, workspace: str | None, as_json: bool) -> None:
    """Members of a workspace and their roles."""
    item = _scoped(ctx, ref, workspace)
    members = ctx.store().workspaces.members(item.id)
    if as_json:
        print_json({"members": members, "total": len(members)})
        return
    listing(
        f"Members of {item.name}",
        [
            Column("email", shrink=True, min_width=20),
            Column("name", rank=2, shrink=True, min_width=12),
            Column("role", rank=1),
        ],
        [[m["email"], m["name"], m["role"]] for m in members],
    )


@workspace.command("add-member")
@click.argument("email")
@workspace_option
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@pass_ctx
def add_member(ctx: CliContext, email: str, workspace: str | None, role: str) -> None:
    item = ctx.workspace(workspace)
    member = ctx.store().workspaces.add_member(item.id, email, role)
    say("{} is now {} of {}", member["email"], with_article(member["role"]), item.name)


@workspace.command("remove-member")
@click.argument("email")
@workspace_option
@pass_ctx
def remove_member(ctx: CliContext, email: str, workspace: str | None) -> None:
    item = ctx.workspace(workspace)
    ctx.store().workspaces.remove_member(item.id, email)
    say("Removed {} from {}", email, item.name)


COMMANDS = [workspace]
