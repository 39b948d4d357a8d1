"""A deal's activities through `vectoros serve` (an extension of the seed's API): list, add,
plan, update, mark done and delete over real HTTP on loopback, both databases. Membership
as for deals (an outsider gets 404), roles as for deals (a member only on the deals they
own: 403 naming who may), bad input 422 naming the field; a refused request writes
nothing and the connection stays usable."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vectoros_tui.store.roles import ensure_member

from .conftest import Api

ROLES = {"own": "owner", "adm": "admin", "mem": "member", "oth": "member"}


def setup(api: Api) -> dict[str, Any]:
    """A workspace with an owner, an admin and two members, a deal of each member with one
    planned activity on it, and an outsider with a workspace of their own."""
    ws = uuid.UUID(api.workspace("own@example.com"))
    with api.store.db.write() as session:
        ids = {
            who: ensure_member(session, ws, f"{who}@example.com", None, role)
            for who, role in ROLES.items()
        }
    api.workspace("out@example.com", "Elsewhere")
    team: dict[str, Any] = {"ws": str(ws)}
    for who in ("mem", "oth"):
        deal = api.store.deals.create(
            ws, {"title": f"{who}'s deal", "stage": "lead"}, owner_id=ids[who]
        )
        planned = api.store.activities.add(
            deal.id,
            {
                "type": "call",
                "description": "Kick-off",
                "date": "2026-05-04T09:00:00Z",
                "done": False,
            },
        )
        team[f"{who}_deal"], team[f"{who}_activity"] = str(deal.id), str(planned.id)
    return team


def activities(api: Api, deal_id: str) -> list[tuple[str, str, str, bool, Any]]:
    return [
        (str(a.id), a.type, a.description, a.done, a.date)
        for a in api.store.activities.list(uuid.UUID(deal_id))
    ]


def everything(api: Api, team: dict[str, Any]) -> Any:
    return activities(api, team["mem_deal"]), activities(api, team["oth_deal"])


def test_an_activity_is_listed_added_planned_updated_done_and_deleted(api: Api) -> None:
    team = setup(api)
    mem = api.user("mem@example.com")
    base = f"/api/v1/deals/{team['mem_deal']}/activities"

    listed = mem.get(base)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 1
    (kickoff,) = listed.json()["activities"]
    assert kickoff["id"] == team["mem_activity"]
    assert (kickoff["type"], kickoff["done"], kickoff["dealId"]) == (
        "call",
        False,
        team["mem_deal"],
    )
    assert kickoff["date"].startswith("2026-05-04T09:00:00")

    logged = mem.post(base, json={"type": "Email", "description": "Sent the proposal"})
    assert logged.status_code == 201, logged.text
    email = logged.json()
    assert (email["type"], email["description"], email["done"]) == (
        "email",
        "Sent the proposal",
        True,
    )
    planned = mem.post(
        base,
        json={
            "type": "meeting",
            "description": "Demo",
            "date": "2026-06-01",
            "done": False,
            "dealId": team["mem_deal"],
            "id": "ignored",
            "createdAt": "ignored",
        },
    )
    assert planned.status_code == 201, planned.text
    demo = planned.json()
    assert (demo["done"], demo["date"][:10]) == (False, "2026-06-01")
    assert mem.get(base).json()["total"] == 3

    # A partial update changes only what is sent.
    changed = mem.put(f"/api/v1/activities/{demo['id']}", json={"description": "Demo for the CFO"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["description"], changed.json()["type"], changed.json()["done"]) == (
        "Demo for the CFO",
        "meeting",
        False,
    )
    done = mem.post(f"/api/v1/activities/{demo['id']}/done")
    assert done.status_code == 200, done.text
    assert done.json()["done"] is True
    assert done.json()["date"][:10] != "2026-06-01"  # dated when it was done
    again = mem.post(f"/api/v1/activities/{demo['id']}/done")
    assert again.status_code == 200 and again.json() == done.json()

    gone = mem.delete(f"/api/v1/activities/{email['id']}")
    assert gone.status_code == 204, gone.text
    assert {a["id"] for a in mem.get(base).json()["activities"]} == {kickoff["id"], demo["id"]}
    assert mem.delete(f"/api/v1/activities/{email['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "fax", "description": "x"}, "type"),
        ({"description": "x"}, "type"),
        ({"type": "call"}, "description"),
        ({"type": "call", "description": "   "}, "description"),
        ({"type": "call", "description": "x" * 4001}, "description"),
        ({"type": "call", "description": "bell \x07"}, "description"),
        ({"type": "call", "description": "x", "date": "someday"}, "date"),
        ({"type": "call", "description": "x", "date": "2026-02-30"}, "date"),
        ({"type": "call", "description": "x", "date": "0001-01-01T00:00:00+01:00"}, "date"),
        ({"type": "call", "description": "x", "date": "1066-10-14"}, "date"),
        ({"type": "call", "description": "x", "date": 12}, "date"),
        ({"type": "call", "description": "x", "done": "maybe"}, "done"),
        ({"type": "call", "description": "x", "done": None}, "done"),
        ({"type": "call", "description": "x", "dealId": str(uuid.uuid4())}, "dealId"),
        ({"type": "x" * 65, "description": "x"}, "type"),
    ],
)
def test_bad_activities_answer_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    team = setup(api)
    mem = api.user("mem@example.com")
    before = everything(api, team)
    replies = [mem.post(f"/api/v1/deals/{team['mem_deal']}/activities", json=body)]
    if field in body:  # a partial update keeps a field it is not sent: nothing to refuse
        replies.append(mem.put(f"/api/v1/activities/{team['mem_activity']}", json=body))
    for reply in replies:
        assert reply.status_code == 422, (reply.request.method, reply.text)
        problem = reply.json()
        assert problem["error"] == "validation_error"
        assert field in {f["field"] for f in problem["fields"]}, problem
    assert everything(api, team) == before
    assert mem.get(f"/api/v1/deals/{team['mem_deal']}/activities").status_code == 200


def test_a_malformed_body_is_400_and_the_connection_stays_usable(api: Api) -> None:
    team = setup(api)
    mem = api.user("mem@example.com")
    reply = mem.post(
        f"/api/v1/deals/{team['mem_deal']}/activities",
        content=b'{"type": "call",',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400, reply.text
    assert mem.get(f"/api/v1/deals/{team['mem_deal']}/activities").json()["total"] == 1


Request = Callable[[httpx.Client, dict[str, Any], str], httpx.Response]

# What each request does to the activities of ``whose`` deal ("mem" or "oth").
REQUESTS: dict[str, Request] = {
    "add": lambda c, t, whose: c.post(
        f"/api/v1/deals/{t[whose + '_deal']}/activities",
        json={"type": "note", "description": "Spoke to legal"},
    ),
    "update": lambda c, t, whose: c.put(
        f"/api/v1/activities/{t[whose + '_activity']}", json={"description": "Moved"}
    ),
    "mark done": lambda c, t, whose: c.post(f"/api/v1/activities/{t[whose + '_activity']}/done"),
    "delete": lambda c, t, whose: c.delete(f"/api/v1/activities/{t[whose + '_activity']}"),
}
# Who may change the activities of each deal: its owner, and the owners and admins.
ALLOWED = {"mem": {"own", "adm", "mem"}, "oth": {"own", "adm"}}


@pytest.mark.parametrize("caller", ["own", "adm", "mem", "out"])
@pytest.mark.parametrize("whose", ["mem", "oth"])
@pytest.mark.parametrize("action", list(REQUESTS))
def test_activity_roles_over_http(api: Api, action: str, whose: str, caller: str) -> None:
    team = setup(api)
    client = api.user(f"{caller}@example.com")
    before = everything(api, team)
    reply = REQUESTS[action](client, team, whose)
    if caller in ALLOWED[whose]:
        assert reply.status_code in (200, 201, 204), reply.text
        assert everything(api, team) != before
        return
    if caller == "out":
        assert reply.status_code == 404, reply.text  # not even told the deal exists
        assert reply.json()["error"] == "not_found"
    else:
        assert reply.status_code == 403, reply.text
        body = reply.json()
        assert body["error"] == "forbidden"
        assert f"{caller}@example.com" in body["message"]
        assert f"{whose}@example.com" in body["message"]  # the deal's owner may
        assert "own@example.com" in body["message"]
    assert everything(api, team) == before
    assert client.get("/api/v1/workspaces").status_code == 200  # still usable


def test_every_member_reads_the_activities_an_outsider_sees_nothing(api: Api) -> None:
    team = setup(api)
    for who in ("own", "adm", "mem", "oth"):
        reply = api.user(f"{who}@example.com").get(f"/api/v1/deals/{team['oth_deal']}/activities")
        assert reply.status_code == 200, reply.text
        assert reply.json()["total"] == 1
    out = api.user("out@example.com")
    for path in (
        f"/api/v1/deals/{team['oth_deal']}/activities",
        f"/api/v1/deals/{uuid.uuid4()}/activities",
        "/api/v1/deals/not-an-id/activities",
    ):
        assert out.get(path).status_code == 404
    for missing in (str(uuid.uuid4()), "not-an-id"):
        assert (
            out.put(f"/api/v1/activities/{missing}", json={"description": "x"}).status_code == 404
        )
        assert out.post(f"/api/v1/activities/{missing}/done").status_code == 404
    # The outsider's 404 for a real activity reads as the one for a missing activity.
    missing = str(uuid.uuid4())
    for activity_id in (team["oth_activity"], missing):
        reply = out.delete(f"/api/v1/activities/{activity_id}")
        assert reply.json()["message"] == f"no activity {activity_id!r}"
    assert api.client(None).get(f"/api/v1/deals/{team['oth_deal']}/activities").status_code == 401
