"""`vectoros serve`: run the team backend, and issue, list and revoke its API tokens."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import errors, print_json, say, short_id, table

pass_ctx = click.make_pass_decorator(CliContext)
EXTRA_MISSING = "install the server extra: pip install 'vectoros-tui[server]'"


def _require_server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        errors.print(EXTRA_MISSING, markup=False)
        sys.exit(1)


def _tokens(ctx: CliContext) -> Any:
    from vectoros_tui.server.tokens import TokenService

    return TokenService(ctx.store().db)


def _when(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else None


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (about one per core). With more than one, similar-deal search "
    "needs a Qdrant server ([similar] qdrant_url): the embedded index is one process's.",
)
@click.pass_context
def serve(click_ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Run the team backend (the documented REST API) over this database.

    Issue access tokens with `vectoros serve token create --user EMAIL`. Put it behind a
    TLS-terminating proxy to serve anything but this machine.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    _require_server_extra()
    import uvicorn

    from vectoros_tui.server.app import create_app

    ctx = click_ctx.ensure_object(CliContext)
    ctx.store()  # open and migrate now: a bad database fails here, with a clear message
    shared_index = workers > 1 and not ctx.settings.similar.qdrant_url
    label = f"{workers} workers" if workers > 1 else "1 worker"
    errors.print(
        f"VectorOS team backend on http://{host}:{port}, {label} (Ctrl+C stops it)", markup=False
    )
    if shared_index:
        errors.print(
            "note: similar-deal search answers 503 in all but one worker: set [similar] "
            "qdrant_url to a Qdrant server to share the index between workers.",
            markup=False,
        )
    if workers == 1:
        from vectoros_tui.server.workers import tune_interpreter

        tune_interpreter()
        app = create_app(ctx.database_url, settings=ctx.settings)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    from vectoros_tui.server.workers import serve_in_workers

    # Each worker process builds its own app from the settings; --db travels with them.
    os.environ["VECTOROS_DATABASE_URL"] = ctx.database_url
    serve_in_workers(host, port, workers)


@serve.group()
def token() -> None:
    """Access tokens of the team backend (only their hashes are stored)."""


@token.command("create")
@click.option(
    "--user", "email", required=True, metavar="EMAIL", help="Whose token (created if new)."
)
@click.option("--name", default=None, help="A label, e.g. the laptop it is for.")
@pass_ctx
def token_create(ctx: CliContext, email: str, name: str | None) -> None:
    """Issue a token for a user; it is printed once, here, and never again."""
    view, secret = _tokens(ctx).create(email, name)
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    errors.print(
        f"Token {short_id(view.id)} ({view.name}) for {view.user_email}. Store it now: it "
        "cannot be shown again (revoke it and issue a new one if it is lost).",
        markup=False,
    )


@token.command("list")
@json_option
@pass_ctx
def token_list(ctx: CliContext, as_json: bool) -> None:
    """List tokens (never the tokens themselves)."""
    rows = _tokens(ctx).list()
    if as_json:
        print_json(
            [
                {
                    "id": str(t.id),
                    "user": t.user_email,
                    "name": t.name,
                    "createdAt": t.created_at.isoformat(),
                    "lastUsedAt": t.last_used_at.isoformat() if t.last_used_at else None,
                    "revokedAt": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in rows
            ]
        )
        return
    if not rows:
        say("No tokens yet: run `vectoros serve token create --user EMAIL`.")
        return
    table(
        "API tokens",
        ["ID", "User", "Name", "Created", "Last used", "Revoked"],
        [
            (
                short_id(t.id),
                t.user_email,
                t.name,
                _when(t.created_at),
                _when(t.last_used_at),
                _when(t.revoked_at),
            )
            for t in rows
        ],
    )


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@pass_ctx
def token_revoke(ctx: CliContext, token_id: str) -> None:
    """Revoke a token by its id (or the first 8 characters shown by `token list`)."""
    view = _tokens(ctx).revoke(token_id)
    say("Revoked token {} ({}) of {}.", short_id(view.id), view.name, view.user_email)


COMMANDS = [serve]
