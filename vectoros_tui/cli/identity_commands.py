"""`vectoros whoami`: who "me" is, and where that comes from."""

from __future__ import annotations

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import print_json, say

pass_ctx = click.make_pass_decorator(CliContext)


@click.command()
@json_option
@pass_ctx
def whoami(ctx: CliContext, as_json: bool) -> None:
    """Who you are here: the owner of the deals you create, and "me" in --owner me."""
    me = ctx.me()
    memberships = ctx.store().owners.memberships(me.email)
    if as_json:
        print_json(
            {
                "email": me.email,
                "name": me.name,
                "source": me.source,
                "workspaces": [{"name": n, "role": r} for n, r in memberships],
            }
        )
        return
    say(
        "You are [bold]{}[/bold]{}, from {}.",
        me.email,
        f" ({me.name})" if me.name else "",
        me.source,
    )
    if memberships:
        say("Member of: {}.", ", ".join(f"{name} ({role})" for name, role in memberships))
    else:
        say("Not a member of any workspace yet: the first deal you create makes you one.")
    say(
        "[dim]Set email (and name) under \\[user] in the config, or VECTOROS_USER__EMAIL, "
        "to be someone else.[/dim]"
    )


COMMANDS = [whoami]
