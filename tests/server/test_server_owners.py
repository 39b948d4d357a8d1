"""Deal owners through `vectoros serve` (an extension of the seed's API): a created deal
is the caller's unless ownerId names another member; ownerId on PUT reassigns; a user who
is not a member is refused (422) and nothing changes. Real HTTP on loopback, both
databases."""

from __future__ import annotations

import uuid

from .conftest import Api


def setup(api: Api) -> tuple[str, str, str]:
    ws = api.workspace("ann@example.com")
    api.store.workspaces.add_member(uuid.UUID(ws), "bob@example.com", "member")
    members = {m.email: str(m.id) for m in api.store.owners.members(uuid.UUID(ws))}
    return ws, members["ann@example.com"], members["bob@example.com"]


def test_a_created_deal_is_the_callers_or_the_named_members(api: Api) -> None:
    ws, ann_id, bob_id = setup(api)
    ann = api.user("ann@example.com")
    mine = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": "Mine", "stage": "lead"})
    assert mine.status_code == 201
    assert mine.json()["ownerId"] == ann_id
    theirs = ann.post(
        "/api/v1/deals",
        json={"workspaceId": ws, "title": "Bob's", "stage": "lead", "ownerId": bob_id},
    )
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["ownerId"] == bob_id
    page = ann.get(f"/api/v1/workspaces/{ws}/deals").json()["deals"]
    listed = {d["title"]: d["ownerId"] for d in page}
    assert listed == {"Mine": ann_id, "Bob's": bob_id}


def test_put_reassigns_and_refuses_what_is_not_a_member(api: Api) -> None:
    ws, ann_id, bob_id = setup(api)
    elsewhere = api.workspace("eve@example.com", "Elsewhere")
    eve_id = str(api.store.owners.members(uuid.UUID(elsewhere))[0].id)
    ann = api.user("ann@example.com")
    deal = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": "D", "stage": "lead"}).json()
    moved = ann.put(f"/api/v1/deals/{deal['id']}", json={"ownerId": bob_id})
    assert moved.status_code == 200 and moved.json()["ownerId"] == bob_id
    assert moved.json()["version"] == deal["version"] + 1

    refused = ann.put(f"/api/v1/deals/{deal['id']}", json={"ownerId": eve_id})
    assert refused.status_code == 422
    assert "owner" in refused.text
    bad = ann.put(f"/api/v1/deals/{deal['id']}", json={"ownerId": "not-a-uuid"})
    assert bad.status_code == 422 and "ownerId" in bad.text
    stored = ann.get(f"/api/v1/deals/{deal['id']}").json()
    assert (stored["ownerId"], stored["version"]) == (bob_id, deal["version"] + 1)

    cleared = ann.put(f"/api/v1/deals/{deal['id']}", json={"ownerId": None})
    assert cleared.status_code == 200 and cleared.json()["ownerId"] is None
    # The connection stays usable after the refusals.
    assert ann.get(f"/api/v1/deals/{deal['id']}").status_code == 200
    assert ann_id != bob_id
