"""A deal's next step through `vectoros serve` (an extension of the seed's deal): POST and
PUT take ``nextStep`` and ``nextStepDue``, the deal JSON carries them, and a bad date or a
too-long step answers 422 naming the field with nothing written. Real HTTP on loopback,
both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .conftest import Api


def _deal(client: httpx.Client, ws: str, **fields: Any) -> dict[str, Any]:
    reply = client.post(
        "/api/v1/deals", json={"workspaceId": ws, "title": "Acme", "stage": "proposal", **fields}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _fields(reply: httpx.Response) -> set[str]:
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert body["error"] == "validation_error"
    return {f["field"] for f in body["fields"]}


def test_next_step_is_created_read_changed_and_cleared(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    made = _deal(ann, ws, nextStep="Send the order form", nextStepDue="2026-04-01")
    assert (made["nextStep"], made["nextStepDue"]) == ("Send the order form", "2026-04-01")
    path = f"/api/v1/deals/{made['id']}"
    assert ann.get(path).json()["nextStep"] == "Send the order form"

    # A partial update changes only the step; the date stays.
    moved = ann.put(path, json={"nextStep": "  Book the signing call  "})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["nextStep"], moved.json()["nextStepDue"]) == (
        "Book the signing call",
        "2026-04-01",
    )
    cleared = ann.put(path, json={"nextStep": None, "nextStepDue": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["nextStep"], cleared.json()["nextStepDue"]) == (None, None)

    # Without them a deal has none, and a PUT without them keeps what is there.
    plain = _deal(ann, ws)
    assert (plain["nextStep"], plain["nextStepDue"]) == (None, None)
    ann.put(f"/api/v1/deals/{plain['id']}", json={"nextStep": "Demo", "nextStepDue": "2026-05-02"})
    kept = ann.put(f"/api/v1/deals/{plain['id']}", json={"value": 900})
    assert (kept.json()["nextStep"], kept.json()["nextStepDue"]) == ("Demo", "2026-05-02")


def test_the_deal_list_shows_a_changed_next_step(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    made = _deal(ann, ws, nextStep="First")
    # Several reads, so the server's ready-made list of the workspace is in use.
    for _ in range(3):
        assert ann.get(f"/api/v1/workspaces/{ws}/deals").json()["deals"][0]["nextStep"] == "First"
    ann.put(f"/api/v1/deals/{made['id']}", json={"nextStep": "Second", "nextStepDue": "2026-06-30"})
    listed = ann.get(f"/api/v1/workspaces/{ws}/deals").json()["deals"][0]
    assert (listed["nextStep"], listed["nextStepDue"]) == ("Second", "2026-06-30")


def test_bad_next_steps_answer_422_naming_the_field_and_write_nothing(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    made = _deal(ann, ws, nextStep="Keep me", nextStepDue="2026-04-01")
    path = f"/api/v1/deals/{made['id']}"

    assert _fields(ann.put(path, json={"nextStepDue": "next Tuesday"})) == {"nextStepDue"}
    assert _fields(ann.put(path, json={"nextStepDue": "2026-02-30"})) == {"nextStepDue"}
    assert _fields(ann.put(path, json={"nextStepDue": "0001-01-01"})) == {"nextStepDue"}
    assert _fields(ann.put(path, json={"nextStepDue": "9" * 200})) == {"nextStepDue"}
    assert _fields(ann.put(path, json={"nextStepDue": 20260401})) == {"nextStepDue"}
    too_long = ann.put(path, json={"nextStep": "x" * 501, "value": 5})
    assert _fields(too_long) == {"nextStep"}
    assert "at most 500" in too_long.json()["message"]
    both = ann.put(path, json={"nextStep": "x" * 501, "nextStepDue": "soon"})
    assert _fields(both) == {"nextStep", "nextStepDue"}

    stored = ann.get(path).json()
    assert (stored["nextStep"], stored["nextStepDue"], stored["value"]) == (
        "Keep me",
        "2026-04-01",
        made["value"],
    )
    assert stored["version"] == made["version"]

    refused = ann.post(
        "/api/v1/deals",
        json={"workspaceId": ws, "title": "New", "stage": "lead", "nextStepDue": "31/31/2026"},
    )
    assert _fields(refused) == {"nextStepDue"}
    assert _fields(
        ann.post(
            "/api/v1/deals",
            json={"workspaceId": ws, "title": "New", "stage": "lead", "nextStep": "y" * 600},
        )
    ) == {"nextStep"}
    assert api.store.deals.list(uuid.UUID(ws), limit=10).total == 1
    # The connection stays usable after the refusals.
    assert ann.get(path).status_code == 200


def test_a_member_sets_the_next_step_only_on_their_own_deals(api: Api) -> None:
    ws = api.workspace("own@example.com")
    api.store.workspaces.add_member(uuid.UUID(ws), "mem@example.com", "member")
    own, mem = api.user("own@example.com"), api.user("mem@example.com")
    theirs = _deal(own, ws)
    refused = mem.put(f"/api/v1/deals/{theirs['id']}", json={"nextStep": "Mine now"})
    assert refused.status_code == 403, refused.text
    assert "own@example.com" in refused.json()["message"]
    assert own.get(f"/api/v1/deals/{theirs['id']}").json()["nextStep"] is None
    outsider = api.user("out@example.com")
    hidden = outsider.put(f"/api/v1/deals/{theirs['id']}", json={"nextStep": "Hi"})
    assert hidden.status_code == 404
    mine = _deal(mem, ws, nextStep="Call back")
    assert mine["nextStep"] == "Call back"
