"""Creating a deal with the id of another workspace's deal tells the caller nothing about
that deal: it is created under an id of its own (201), exactly as for an unused id, and
the other deal is untouched. Real HTTP on loopback, both databases."""

from __future__ import annotations

import uuid

from .conftest import Api


def test_another_workspaces_deal_id_is_not_revealed(api: Api) -> None:
    theirs_ws = api.workspace("eve@example.com", "Theirs")
    eve = api.user("eve@example.com")
    secret = eve.post(
        "/api/v1/deals", json={"workspaceId": theirs_ws, "title": "Secret", "stage": "lead"}
    ).json()
    mine_ws = api.workspace("ann@example.com", "Mine")
    ann = api.user("ann@example.com")
    body = {"workspaceId": mine_ws, "title": "Probe", "stage": "lead"}
    probe = ann.post("/api/v1/deals", json={**body, "id": secret["id"]})
    fresh = ann.post("/api/v1/deals", json={**body, "id": str(uuid.uuid4())})
    assert probe.status_code == fresh.status_code == 201
    assert set(probe.json()) == set(fresh.json())
    assert probe.json()["id"] != secret["id"] and probe.json()["workspaceId"] == mine_ws
    # Eve's deal is as it was, and Ann still cannot see it.
    assert eve.get(f"/api/v1/deals/{secret['id']}").json()["title"] == "Secret"
    assert ann.get(f"/api/v1/deals/{secret['id']}").status_code == 404
    # Within one's own workspace a repeated id is still a retry: 409, nothing duplicated.
    again = ann.post("/api/v1/deals", json={**body, "id": probe.json()["id"]})
    assert again.status_code == 409
    assert ann.get(f"/api/v1/workspaces/{mine_ws}/deals").json()["total"] == 2
