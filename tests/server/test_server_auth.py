"""Every protected route refuses missing, invalid and revoked tokens; a member of one
workspace can never reach another workspace or its deals."""

from __future__ import annotations

from typing import Any

from vectoros_tui.server.tokens import TokenService, hash_token
from vectoros_tui.store.tables import ApiToken

from .conftest import Api, new_id

PUBLIC = {"/health"}


def _routes(api: Api) -> list[tuple[str, str]]:
    with api.client(None) as anonymous:
        document = anonymous.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if path not in PUBLIC
    ]


def _fill(path: str, workspace: str, deal: str) -> str:
    return (
        path.replace("{workspace_id}", workspace)
        .replace("{deal_id}", deal)
        .replace("{email}", "someone@example.com")
    )


def _body(path: str, workspace: str, deal: str) -> dict[str, Any]:
    return {
        "workspaceId": workspace,
        "workspace_id": workspace,
        "deal_id": deal,
        "deal_ids": [deal],
        "title": "T",
        "stage": "prospect",
        "name": "N",
        "email": "someone@example.com",
        "text": "widgets",
    }


def test_every_protected_route_needs_a_live_token(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    deal = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": "D", "stage": "lead"})
    deal_id = deal.json()["id"]
    revoked_secret = api.token("ann@example.com", "old")
    tokens = TokenService(api.store.db)
    old = next(t for t in tokens.list() if t.name == "old")
    tokens.revoke(str(old.id))
    routes = _routes(api)
    assert len(routes) >= 15
    callers = {
        "missing": api.client(None),
        "invalid": api.client("vos_not-a-real-token"),
        "revoked": api.client(revoked_secret),
        "wrong scheme": api.client(None),
    }
    callers["wrong scheme"].headers["Authorization"] = f"Basic {revoked_secret}"
    for method, template in routes:
        path = _fill(template, ws, deal_id)
        params = {"workspace_id": ws} if template.endswith("/stats") else None
        for label, http in callers.items():
            reply = http.request(method, path, params=params, json=_body(template, ws, deal_id))
            assert reply.status_code == 401, (label, method, path, reply.text)
            assert reply.json()["error"] == "unauthorized"
            assert reply.headers["www-authenticate"] == "Bearer"
    # Nothing was changed by the refused calls.
    assert ann.get(f"/api/v1/deals/{deal_id}").json()["version"] == 1


def test_only_hashes_are_stored_and_use_is_recorded(api: Api) -> None:
    secret = api.token("ann@example.com", "laptop")
    from sqlmodel import select

    with api.store.db.read() as session:
        row = session.exec(select(ApiToken)).one()
        assert row.token_hash == hash_token(secret) and secret not in str(row.model_dump())
        assert row.last_used_at is None
    with api.client(secret) as http:
        assert http.get("/api/v1/users/me").status_code == 200
    with api.store.db.read() as session:
        assert session.exec(select(ApiToken)).one().last_used_at is not None


def test_a_member_of_one_workspace_cannot_reach_another(api: Api) -> None:
    ws_a = api.workspace("ann@example.com", "A")
    ws_b = api.workspace("bob@example.com", "B")
    ann, bob = api.user("ann@example.com"), api.user("bob@example.com")
    b_deal = bob.post("/api/v1/deals", json={"workspaceId": ws_b, "title": "B1", "stage": "lead"})
    b_id = b_deal.json()["id"]
    a_deal = ann.post("/api/v1/deals", json={"workspaceId": ws_a, "title": "A1", "stage": "lead"})
    a_id = a_deal.json()["id"]
    touched = 0
    for method, template in _routes(api):
        if "{workspace_id}" not in template and "{deal_id}" not in template:
            continue
        path = _fill(template, ws_b, b_id)
        params = None
        reply = ann.request(method, path, params=params, json=_body(template, ws_b, b_id))
        assert reply.status_code in (403, 404), (method, path, reply.text)
        touched += 1
    assert touched >= 9
    # Routes naming workspace B or its deals in the body or the query.
    attempts = [
        ("POST", "/api/v1/deals", {"workspaceId": ws_b, "title": "X", "stage": "lead"}, None),
        ("POST", "/api/v1/ai/forecast", {"workspace_id": ws_b}, None),
        ("POST", "/api/v1/ai/score-workspace", {"workspace_id": ws_b}, None),
        ("POST", "/api/v1/embeddings/embed-deal", {"deal_id": b_id}, None),
        ("POST", "/api/v1/embeddings/embed-multiple", {"deal_ids": [a_id, b_id]}, None),
        ("POST", "/api/v1/embeddings/find-similar", {"workspace_id": ws_b, "text": "x"}, None),
        ("POST", "/api/v1/embeddings/find-similar", {"workspace_id": ws_a, "deal_id": b_id}, None),
        ("GET", "/api/v1/embeddings/stats", None, {"workspace_id": ws_b}),
        # Moving one's own deal into B, or B's deal into A, is refused too.
        (
            "PUT",
            f"/api/v1/deals/{a_id}",
            {"workspaceId": ws_b, "title": "A", "stage": "lead"},
            None,
        ),
        (
            "PUT",
            f"/api/v1/deals/{b_id}",
            {"workspaceId": ws_a, "title": "A", "stage": "lead"},
            None,
        ),
    ]
    for method, path, body, params in attempts:
        reply = ann.request(method, path, json=body, params=params)
        assert reply.status_code in (403, 404, 422), (method, path, reply.text)
        assert reply.status_code != 422 or "workspaceId" in reply.text
    # B's deal is untouched, and B is invisible to Ann.
    stored = bob.get(f"/api/v1/deals/{b_id}").json()
    assert (stored["title"], stored["version"]) == ("B1", 1)
    assert [w["id"] for w in ann.get("/api/v1/workspaces").json()["workspaces"]] == [ws_a]
    assert bob.get(f"/api/v1/workspaces/{ws_b}/deals").json()["total"] == 1
    # An unknown workspace looks exactly like a foreign one.
    foreign = ann.get(f"/api/v1/workspaces/{ws_b}")
    unknown = ann.get(f"/api/v1/workspaces/{new_id()}")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["error"] == unknown.json()["error"] == "not_found"
