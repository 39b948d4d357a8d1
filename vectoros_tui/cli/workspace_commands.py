"""`vectoros workspace ...`."""

from __future__ import annotations

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import print_json, say, table
from vectoros_tui.store.views import iso
from vectoros_tui.store.workspaces import ROLES

pass_ctx = click.make_pass_decorator(CliContext)


@click.group()
def workspace() -> None:
    """Create, list, rename and delete workspaces; manage members."""


@workspace.command("list")
@json_option
@pass_ctx
def list_workspaces(ctx: CliContext, as_json: bool) -> None:
    items = ctx.store().workspaces.list()
    if as_json:
        print_json({"workspaces": [w.to_api() for w in items], "total": len(items)})
        return
    table(
        "Workspaces",
        ["id", "name", ("deals", "right"), "created"],
        [[str(w.id), w.name, w.deal_count, iso(w.created_at)] for w in items],
    )


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
    say("Deleted workspace [bold]{}[/bold]", item.name)


@workspace.command("members")
@click.argument("ref", metavar="NAME|ID", required=False)
@json_option
@pass_ctx
def list_members(ctx: CliContext, ref: str | None, as_json: bool) -> None:
    item = ctx.workspace(ref)
    members = ctx.store().workspaces.members(item.id)
    if as_json:
        print_json({"members": members, "total": len(members)})
        return
    table(
        f"Members of {item.name}",
        ["email", "name", "role"],
        [[m["email"], m["name"], m["role"]] for m in members],
    )


@workspace.command("add-member")
@click.argument("email")
@click.option("--workspace", "-w", "ref", metavar="NAME|ID")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@pass_ctx
def add_member(ctx: CliContext, email: str, ref: str | None, role: str) -> None:
    item = ctx.workspace(ref)
    member = ctx.store().workspaces.add_member(item.id, email, role)
    say("{} is now {} of {}", member["email"], member["role"], item.name)


@workspace.command("remove-member")
@click.argument("email")
@click.option("--workspace", "-w", "ref", metavar="NAME|ID")
@pass_ctx
def remove_member(ctx: CliContext, email: str, ref: str | None) -> None:
    item = ctx.workspace(ref)
    ctx.store().workspaces.remove_member(item.id, email)
    say("Removed {} from {}", email, item.name)


COMMANDS = [workspace]
