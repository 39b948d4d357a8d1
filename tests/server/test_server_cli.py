"""`vectoros serve token create|list|revoke` and the missing-extra message."""

from __future__ import annotations

import builtins
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from vectoros_tui.cli import serve_commands
from vectoros_tui.cli.context import CliContext
from vectoros_tui.server.app import create_app

from .conftest import running


def _run(url: str, *args: str) -> Any:
    context = CliContext(database_override=url)
    try:
        return CliRunner().invoke(serve_commands.serve, list(args), obj=context)
    finally:
        context.close()


def test_tokens_are_shown_once_listed_without_secrets_and_revocable(database_url: str) -> None:
    created = _run(database_url, "token", "create", "--user", "Ann@Example.com", "--name", "mac")
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("vos_") and "\n" not in secret
    assert "cannot be shown again" in created.stderr
    listed = _run(database_url, "token", "list", "--json")
    [row] = __import__("json").loads(listed.stdout)
    assert (row["user"], row["name"], row["revokedAt"]) == ("ann@example.com", "mac", None)
    assert secret not in listed.stdout
    auth = {"Authorization": f"Bearer {secret}"}
    with (
        running(create_app(database_url)) as base,
        httpx.Client(base_url=base, headers=auth) as http,
    ):
        assert http.get("/api/v1/users/me").json()["email"] == "ann@example.com"
        revoked = _run(database_url, "token", "revoke", row["id"][:8])
        assert revoked.exit_code == 0, revoked.output
        assert http.get("/api/v1/users/me").status_code == 401
    table = _run(database_url, "token", "list")
    assert row["id"][:8] in table.stdout and secret not in table.stdout


def test_bad_input_is_reported(database_url: str) -> None:
    bad = _run(database_url, "token", "create", "--user", "not-an-email")
    assert bad.exit_code != 0
    missing = _run(database_url, "token", "revoke", "deadbeef")
    assert missing.exit_code != 0


def test_serve_without_the_extra_says_how_to_install_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_server(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("fastapi", "uvicorn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_server)
    result = _run(database_url, "--port", "0")
    assert result.exit_code == 1
    assert "install the server extra: pip install 'vectoros-tui[server]'" in result.stderr
