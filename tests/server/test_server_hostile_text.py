"""The REST API is a way in: text that could drive a terminal is refused with 422 naming the
field, on create and on update, and nothing is written."""

from __future__ import annotations

import pytest

from .conftest import Api, new_id

HOSTILE = {
    "OSC title": "EVIL\x1b]0;pwned\x07",
    "CSI clear": "EVIL\x1b[2J",
    "BEL": "EVIL\x07",
    "8-bit CSI": "EVIL\x9b2J",
    "NUL": "EVIL\x00",
    "RLO": "EVIL\u202etxt",
}


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_deals_with_control_characters_are_refused(api: Api, hostile: str) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    for field in ("title", "company", "contactName", "lostReason"):
        body = {"id": new_id(), "workspaceId": ws, "title": "Fine", "stage": "proposal"}
        if field == "lostReason":
            body.update(stage="closed", outcome="lost")
        body[field] = hostile
        reply = ann.post("/api/v1/deals", json=body)
        assert reply.status_code == 422, (field, reply.text)
        assert "control character" in reply.text and field.lower() in reply.text.lower()
        assert "\x1b" not in reply.text
    listed = ann.get(f"/api/v1/workspaces/{ws}/deals").json()
    assert listed["total"] == 0, "nothing was written"

    created = ann.post(
        "/api/v1/deals",
        json={"id": new_id(), "workspaceId": ws, "title": "Fine", "stage": "proposal"},
    ).json()
    reply = ann.put(f"/api/v1/deals/{created['id']}", json={"title": hostile})
    assert reply.status_code == 422, reply.text
    assert ann.get(f"/api/v1/deals/{created['id']}").json()["title"] == "Fine"


def test_workspace_names_with_control_characters_are_refused(api: Api) -> None:
    api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    reply = ann.post("/api/v1/workspaces", json={"name": "WS\x1b[2J"})
    assert reply.status_code == 422, reply.text
    assert "name" in reply.text and "control character" in reply.text
