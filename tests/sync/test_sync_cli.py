"""`vectoros login`, `logout` and `sync` in-process through ``run(argv)``, against the fake
team backend over real HTTP on loopback, on SQLite and Postgres."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from fake_backends import FakeBackend

from vectoros_tui.cli import run
from vectoros_tui.locations import current_locations


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBackend]:
    monkeypatch.delenv("VECTOROS_API_TOKEN", raising=False)
    with FakeBackend("deployed", token="s3cret-token-value") as fake:
        yield fake
    assert not fake.errors


def cli(capsys: pytest.CaptureFixture[str], database_url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--db", database_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def login(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    server: FakeBackend,
    token: str | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO((token or server.token) + "\n"))
    return cli(capsys, database_url, "login", server.url, "--token-stdin")


def test_login_checks_the_token_and_stores_it_privately(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    server: FakeBackend,
) -> None:
    code, out, err = login(capsys, monkeypatch, database_url, server, token="wrong")
    assert code == 1 and "vectoros login" in err and "wrong" not in err + out
    assert not (current_locations().config_dir / "credentials.toml").exists()
    code, out, err = login(capsys, monkeypatch, database_url, server)
    assert code == 0, err
    assert "deployed API" in out and "plain text" in err
    stored = current_locations().config_dir / "credentials.toml"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert server.token not in out + err
    config = current_locations().config_file
    assert not config.exists() or server.token not in config.read_text()
    code, out, _ = cli(capsys, database_url, "logout", server.url)
    assert code == 0 and "Signed out" in out


def test_link_sync_status_conflicts_and_resolve(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    server: FakeBackend,
) -> None:
    remote_ws = server.add_workspace("Team")["id"]
    server.add_deal(remote_ws, title="From the team", stage="lead", value=None)
    assert cli(capsys, database_url, "workspace", "create", "Team")[0] == 0
    code, _, err = cli(capsys, database_url, "sync", "--link", server.url)
    assert code == 1 and f"vectoros login {server.url}" in err  # not signed in yet
    assert login(capsys, monkeypatch, database_url, server)[0] == 0
    code, out, err = cli(capsys, database_url, "sync", "--link", server.url)
    assert code == 0, err
    assert "1 pulled" in out
    code, out, _ = cli(capsys, database_url, "deals", "list", "--json")
    [deal] = json.loads(out)["deals"]
    assert (deal["title"], deal["stage"], deal["value"]) == ("From the team", "prospect", 0)
    # Both sides change it: a conflict, listed with both versions.
    cli(capsys, database_url, "deals", "update", deal["id"][:8], "--title", "Mine")
    server.edit_deal(next(iter(server.deals)), title="Theirs")
    code, out, err = cli(capsys, database_url, "sync", "--json")
    assert code == 0, err
    assert json.loads(out)["new_conflicts"] == 1
    code, out, _ = cli(capsys, database_url, "sync", "--status", "--json")
    status: dict[str, Any] = json.loads(out)
    assert status["conflicts"] == 1 and status["last_sync_at"] and status["dialect"] == "deployed"
    assert server.token not in out
    code, out, _ = cli(capsys, database_url, "sync", "conflicts", "--json")
    [conflict] = json.loads(out)["conflicts"]
    assert (conflict["mine"]["title"], conflict["theirs"]["title"]) == ("Mine", "Theirs")
    assert conflict["fields"] == ["title"]
    # Bad resolutions are refused with a clear message; nothing changes.
    code, _, err = cli(capsys, database_url, "sync", "resolve", deal["id"][:8])
    assert code == 2 and "--keep" in err
    code, _, err = cli(
        capsys, database_url, "sync", "resolve", deal["id"][:8], "--merge", "colour=mine"
    )
    assert code == 1 and "unknown: colour" in err
    code, _, err = cli(capsys, database_url, "sync", "resolve", "ffffffff", "--keep", "mine")
    assert code == 2 and "no sync conflict" in err
    code, out, err = cli(capsys, database_url, "sync", "resolve", deal["id"][:8], "--keep", "mine")
    assert code == 0, err
    assert cli(capsys, database_url, "sync")[0] == 0
    assert [d["title"] for d in server.deals.values()] == ["Mine"]
    code, out, _ = cli(capsys, database_url, "sync", "--status")
    assert "pending changes" in out and server.url in out


def test_sync_of_an_unlinked_workspace_says_how_to_link(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    cli(capsys, database_url, "workspace", "create", "Solo")
    code, _, err = cli(capsys, database_url, "sync")
    assert code == 2 and "--link" in err
    code, out, _ = cli(capsys, database_url, "sync", "--status", "--json")
    assert code == 0 and json.loads(out)["linked"] is False


def test_unreachable_backend_is_reported_and_nothing_is_lost(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    server: FakeBackend,
) -> None:
    remote_ws = server.add_workspace("Team")["id"]
    cli(capsys, database_url, "workspace", "create", "Team")
    login(capsys, monkeypatch, database_url, server)
    assert (
        cli(capsys, database_url, "sync", "--link", server.url, "--remote-workspace", remote_ws)[0]
        == 0
    )
    cli(capsys, database_url, "deals", "add", "--title", "Offline work", "--stage", "proposal")
    server.stop()
    code, _, err = cli(capsys, database_url, "sync")
    assert code == 1 and "Traceback" not in err and err.strip()
    code, out, _ = cli(capsys, database_url, "sync", "--status", "--json")
    assert json.loads(out)["pending_changes"] == 1 and json.loads(out)["last_error"]
