"""Roles through `vectoros serve`: the store's role × action matrix over real HTTP on
loopback, both databases. The server answers what the CLI and the app do: 403 naming who
may, 409 for the last owner, and a caller outside the workspace sees nothing (404). A
refused request changes nothing, and the connection stays usable."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vectoros_tui.store.roles import ensure_member

from .conftest import Api

ROLES = {"own": "owner", "adm": "admin", "mem": "member", "oth": "member"}

Request = Callable[[httpx.Client, dict[str, Any]], httpx.Response]

REQUESTS: dict[str, Request] = {
    "create a deal": lambda c, t: c.post(
        "/api/v1/deals", json={"workspaceId": t["ws"], "title": "New", "stage": "lead"}
    ),
    "create a deal for oth": lambda c, t: c.post(
        "/api/v1/deals",
        json={"workspaceId": t["ws"], "title": "For oth", "stage": "lead", "ownerId": t["oth"]},
    ),
    "edit mem's deal": lambda c, t: c.put(f"/api/v1/deals/{t['mem_deal']}", json={"value": 5}),
    "edit oth's deal": lambda c, t: c.put(f"/api/v1/deals/{t['oth_deal']}", json={"value": 5}),
    "delete mem's deal": lambda c, t: c.delete(f"/api/v1/deals/{t['mem_deal']}"),
    "delete oth's deal": lambda c, t: c.delete(f"/api/v1/deals/{t['oth_deal']}"),
    "add a member": lambda c, t: c.post(
        f"/api/v1/workspaces/{t['ws']}/members", json={"email": "new@example.com"}
    ),
    "make oth an owner": lambda c, t: c.post(
        f"/api/v1/workspaces/{t['ws']}/members",
        json={"email": "oth@example.com", "role": "owner"},
    ),
    "remove oth": lambda c, t: c.delete(f"/api/v1/workspaces/{t['ws']}/members/oth@example.com"),
}
ALLOWED = {
    "create a deal": {"own", "adm", "mem"},
    "create a deal for oth": {"own", "adm"},
    "edit mem's deal": {"own", "adm", "mem"},
    "edit oth's deal": {"own", "adm"},
    "delete mem's deal": {"own", "adm", "mem"},
    "delete oth's deal": {"own", "adm"},
    "add a member": {"own", "adm"},
    "make oth an owner": {"own"},
    "remove oth": {"own", "adm"},
}


def setup(api: Api) -> dict[str, Any]:
    ws = uuid.UUID(api.workspace("own@example.com"))
    with api.store.db.write() as session:
        ids = {
            who: ensure_member(session, ws, f"{who}@example.com", None, role)
            for who, role in ROLES.items()
        }
    found: dict[str, Any] = {"ws": str(ws), "oth": str(ids["oth"])}
    for who in ("mem", "oth"):
        deal = api.store.deals.create(ws, {"title": who, "stage": "lead"}, owner_id=ids[who])
        found[f"{who}_deal"] = str(deal.id)
    return found


def state(api: Api, ws: str) -> Any:
    workspace = uuid.UUID(ws)
    members = sorted((m.email, m.role) for m in api.store.owners.members(workspace))
    deals = sorted(
        (str(d.id), d.version, str(d.owner_id))
        for d in api.store.deals.list(workspace, limit=100).deals
    )
    return members, deals


@pytest.mark.parametrize("caller", ["own", "adm", "mem", "out"])
@pytest.mark.parametrize("action", list(REQUESTS))
def test_role_matrix_over_http(api: Api, action: str, caller: str) -> None:
    team = setup(api)
    client = api.user(f"{caller}@example.com")
    before = state(api, team["ws"])
    reply = REQUESTS[action](client, team)
    if caller in ALLOWED[action]:
        assert reply.status_code in (200, 201, 204), reply.text
        assert state(api, team["ws"]) != before
        return
    if caller == "out":
        assert reply.status_code == 404, reply.text  # not even told the workspace exists
    else:
        assert reply.status_code == 403, reply.text
        body = reply.json()
        assert body["error"] == "forbidden"
        assert f"{caller}@example.com" in body["message"]
        assert "own@example.com" in body["message"]
    assert state(api, team["ws"]) == before
    assert client.get("/api/v1/workspaces").status_code == 200  # still usable


def test_the_last_owner_stays_over_http(api: Api) -> None:
    team = setup(api)
    own = api.user("own@example.com")
    before = state(api, team["ws"])
    path = f"/api/v1/workspaces/{team['ws']}/members"
    for reply in (
        own.delete(f"{path}/own@example.com"),
        own.post(path, json={"email": "own@example.com", "role": "member"}),
    ):
        assert reply.status_code == 409, reply.text
        assert "last owner" in reply.json()["message"]
    assert state(api, team["ws"]) == before
