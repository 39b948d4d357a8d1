"""The documented API over real HTTP: shapes, status codes, errors, roles."""

from __future__ import annotations

import uuid

from vectoros_tui.server.app import create_app
from vectoros_tui.store import migrate

from .conftest import Api, new_id


def test_health_reports_the_database(api: Api) -> None:
    with api.client(None) as anonymous:
        reply = anonymous.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["status"], body["database"]) == ("healthy", "connected")
    assert body["databaseDetails"]["reachable"] is True
    assert body["databaseDetails"]["schema"] == migrate.head_revision()
    assert body["databaseDetails"]["dialect"] in ("sqlite", "postgresql")


def test_health_is_503_when_the_database_is_unreachable() -> None:
    from .conftest import running

    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with running(create_app(url)) as base, __import__("httpx").Client(base_url=base) as http:
        reply = http.get("/health")
        assert reply.status_code == 503
        assert reply.json()["databaseDetails"]["reachable"] is False
        # Other routes say so too, as JSON.
        denied = http.get("/api/v1/workspaces", headers={"Authorization": "Bearer x"})
        assert denied.status_code == 503
        assert denied.json()["error"] == "database_unavailable"


def test_workspaces_lists_only_the_callers_and_create_makes_an_owner(api: Api) -> None:
    mine = api.workspace("ann@example.com", "Ann's")
    api.workspace("bob@example.com", "Bob's")
    ann = api.user("ann@example.com")
    listed = ann.get("/api/v1/workspaces").json()["workspaces"]
    assert [(w["id"], w["name"], w["role"]) for w in listed] == [(mine, "Ann's", "owner")]
    created = ann.post("/api/v1/workspaces", json={"name": "New"})
    assert created.status_code == 201
    new = created.json()
    assert (new["name"], new["role"]) == ("New", "owner")
    assert ann.get(f"/api/v1/workspaces/{new['id']}").json()["dealCount"] == 0
    members = ann.get(f"/api/v1/workspaces/{new['id']}/members").json()["members"]
    assert members == [{"email": "ann@example.com", "name": None, "role": "owner"}]
    me = ann.get("/api/v1/users/me").json()
    assert me["email"] == "ann@example.com"


def test_deal_crud_with_documented_shapes(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    deal_id = new_id()
    body = {
        "id": deal_id,
        "workspaceId": ws,
        "title": "Acme",
        "company": "Acme Inc",
        "value": 1200.5,
        "stage": "proposal",
        "probability": 50,
        "contactName": "Ann",
        "contactEmail": "ann@acme.com",
        "closeDate": "2027-01-31",
        "outcome": None,
        "lostReason": None,
    }
    created = ann.post("/api/v1/deals", json=body)
    assert created.status_code == 201, created.text
    deal = created.json()
    assert deal["id"] == deal_id and deal["workspaceId"] == ws
    assert (deal["stage"], deal["closeDate"], deal["version"]) == ("proposal", "2027-01-31", 1)
    # The same id again: 409, and the stored record is there to read.
    again = ann.post("/api/v1/deals", json=body)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict" and again.json()["message"]
    assert ann.get(f"/api/v1/deals/{deal_id}").json()["title"] == "Acme"
    # PUT the whole record: closed won comes back as closed_won.
    put = ann.put(f"/api/v1/deals/{deal_id}", json={**body, "stage": "closed_won"})
    assert put.status_code == 200, put.text
    assert (put.json()["stage"], put.json()["outcome"]) == ("closed_won", "won")
    # A stale version is a conflict; the current one applies.
    stale = ann.put(f"/api/v1/deals/{deal_id}", json={**body, "version": 1})
    assert stale.status_code == 409
    lost = {**body, "stage": "closed_lost", "lostReason": "price", "version": 2}
    assert ann.put(f"/api/v1/deals/{deal_id}", json=lost).json()["stage"] == "closed_lost"
    page = ann.get(f"/api/v1/workspaces/{ws}/deals", params={"stage": "closed_lost"}).json()
    assert page["total"] == 1 and page["deals"][0]["id"] == deal_id
    assert ann.get(f"/api/v1/workspaces/{ws}/deals", params={"stage": "prospect"}).json() == {
        "deals": [],
        "total": 0,
    }
    assert ann.delete(f"/api/v1/deals/{deal_id}").status_code == 204
    assert ann.get(f"/api/v1/deals/{deal_id}").status_code == 404
    assert ann.delete(f"/api/v1/deals/{deal_id}").status_code == 404


def test_conditional_writes_with_if_match(api: Api) -> None:
    """Every deal answer carries its version as ETag; PUT and DELETE with If-Match write
    only while the deal is still at that version (412 with the current record otherwise)."""
    with api.client(None) as anonymous:
        assert anonymous.get("/health").json()["conditionalWrites"] is True
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    deal_id = new_id()
    body = {"id": deal_id, "workspaceId": ws, "title": "Acme", "stage": "proposal"}
    created = ann.post("/api/v1/deals", json=body)
    assert created.headers["etag"] == '"1"'
    assert ann.get(f"/api/v1/deals/{deal_id}").headers["etag"] == '"1"'
    put = ann.put(
        f"/api/v1/deals/{deal_id}", json={**body, "value": 10}, headers={"If-Match": '"1"'}
    )
    assert put.status_code == 200 and put.headers["etag"] == '"2"'
    # A colleague's tag from before that change: refused, nothing written.
    stale = ann.put(
        f"/api/v1/deals/{deal_id}", json={**body, "value": 99}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "precondition_failed"
    assert stale.json()["current"]["value"] == 10
    assert ann.get(f"/api/v1/deals/{deal_id}").json()["value"] == 10
    either = ann.put(
        f"/api/v1/deals/{deal_id}", json={**body, "value": 11}, headers={"If-Match": '"7", "2"'}
    )
    assert either.status_code == 200 and either.json()["value"] == 11
    assert ann.delete(f"/api/v1/deals/{deal_id}", headers={"If-Match": '"2"'}).status_code == 412
    assert ann.get(f"/api/v1/deals/{deal_id}").status_code == 200  # still there
    assert ann.delete(f"/api/v1/deals/{deal_id}", headers={"If-Match": "*"}).status_code == 204
    assert ann.get(f"/api/v1/deals/{deal_id}").status_code == 404


def test_list_pages_with_limit_and_offset(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    for n in range(7):
        reply = ann.post(
            "/api/v1/deals", json={"workspaceId": ws, "title": f"D{n}", "stage": "prospect"}
        )
        assert reply.status_code == 201
    seen = []
    for offset in range(0, 7, 3):
        page = ann.get(f"/api/v1/workspaces/{ws}/deals", params={"limit": 3, "offset": offset})
        assert page.json()["total"] == 7
        seen += [d["title"] for d in page.json()["deals"]]
    assert sorted(seen) == [f"D{n}" for n in range(7)]
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"stage": "nope"}):
        reply = ann.get(f"/api/v1/workspaces/{ws}/deals", params=bad)
        assert reply.status_code == 422, bad
        assert next(iter(bad)) in reply.json()["message"]


def test_validation_errors_name_the_field(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    cases = [
        ({"workspaceId": ws, "title": "", "stage": "prospect"}, "title"),
        ({"workspaceId": ws, "title": "x", "stage": "sideways"}, "stage"),
        ({"workspaceId": ws, "title": "x", "stage": "prospect", "probability": 140}, "probability"),
        (
            {"workspaceId": ws, "title": "x", "stage": "prospect", "contactEmail": "no"},
            "contactEmail",
        ),
        ({"workspaceId": ws, "title": "x", "stage": "prospect", "value": "lots"}, "value"),
        ({"workspaceId": ws, "title": "x", "stage": "prospect", "id": "not-a-uuid"}, "id"),
        ({"title": "x", "stage": "prospect"}, "workspaceId"),
    ]
    for body, field in cases:
        reply = ann.post("/api/v1/deals", json=body)
        assert reply.status_code == 422, (body, reply.text)
        error = reply.json()
        assert error["error"] == "validation_error"
        assert field in [f["field"] for f in error["fields"]], error
    broken = ann.post(
        "/api/v1/deals", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "bad_request"
    assert ann.get("/api/v1/nowhere").json()["error"] == "not_found"


def test_member_management_is_for_owners_and_admins(api: Api) -> None:
    ws = api.workspace("owner@example.com")
    owner = api.user("owner@example.com")
    path = f"/api/v1/workspaces/{ws}/members"
    added = owner.post(path, json={"email": "mem@example.com", "role": "member"})
    assert added.status_code == 201 and added.json()["role"] == "member"
    assert owner.post(path, json={"email": "adm@example.com", "role": "admin"}).status_code == 201
    member, admin = api.user("mem@example.com"), api.user("adm@example.com")
    # Members read and write deals ...
    deal = member.post("/api/v1/deals", json={"workspaceId": ws, "title": "M", "stage": "lead"})
    assert deal.status_code == 201 and deal.json()["stage"] == "prospect"
    assert member.get(path).status_code == 200
    # ... but do not manage members.
    refused = member.post(path, json={"email": "x@example.com"})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert member.delete(f"{path}/adm@example.com").status_code == 403
    # Admins manage members, but not owners.
    assert admin.post(path, json={"email": "x@example.com"}).status_code == 201
    assert admin.post(path, json={"email": "y@example.com", "role": "owner"}).status_code == 403
    assert admin.delete(f"{path}/owner@example.com").status_code == 403
    assert admin.delete(f"{path}/x@example.com").status_code == 204
    # The last owner stays.
    assert owner.delete(f"{path}/owner@example.com").status_code == 409
    bad_role = owner.post(path, json={"email": "z@example.com", "role": "viewer"})
    assert bad_role.status_code == 422 and bad_role.json()["fields"][0]["field"] == "role"


def test_forecast_and_scores(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    for n in range(3):
        ann.post(
            "/api/v1/deals",
            json={"workspaceId": ws, "title": f"D{n}", "stage": "proposal", "value": 1000},
        )
    forecast = ann.post("/api/v1/ai/forecast", json={"workspace_id": ws, "timeframe": "90d"})
    assert forecast.status_code == 200, forecast.text
    assert forecast.json()["workspace_id"] == ws
    bad = ann.post("/api/v1/ai/forecast", json={"workspace_id": ws, "timeframe": "forever"})
    assert bad.status_code == 422
    score = ann.post("/api/v1/ai/score-workspace", json={"workspace_id": ws})
    assert score.status_code == 200, score.text


def test_the_forecast_is_the_cli_and_apps_until_a_deal_changes(api: Api) -> None:
    """The API forecasts with the seed the CLI and the app use: the same deals give the
    same numbers on every request and in every client; a changed deal moves them."""
    from vectoros_tui.forecast_defaults import FORECAST_SEED

    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    ids = [
        ann.post(
            "/api/v1/deals",
            json={
                "workspaceId": ws,
                "title": f"D{n}",
                "stage": "proposal",
                "value": 1000 * (n + 1),
                "probability": 30 + 10 * n,
            },
        ).json()["id"]
        for n in range(6)
    ]
    cases = ("worst_case", "likely_case", "best_case", "mean_forecast")

    def answered() -> dict:
        reply = ann.get("/api/v1/forecast", params={"workspace_id": ws})
        assert reply.status_code == 200, reply.text
        return reply.json()

    first = answered()
    assert answered() == first
    mine = api.store.analytics.forecast(uuid.UUID(ws), seed=FORECAST_SEED)
    assert [first[k] for k in cases] == [mine[k] for k in cases]
    changed = ann.put(f"/api/v1/deals/{ids[-1]}", json={"probability": 95})
    assert changed.status_code == 200, changed.text
    moved = answered()
    assert moved["mean_forecast"] > first["mean_forecast"]
    assert answered() == moved


def test_openapi_declares_bearer_auth(api: Api) -> None:
    with api.client(None) as anonymous:
        document = anonymous.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert document["paths"]["/api/v1/deals"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/health"]["get"]


def test_embeddings_find_similar_and_stats(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    titles = ["Cloud backup for hospitals", "Hospital data backup", "Office chairs"]
    ids = []
    for title in titles:
        reply = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": title, "stage": "won"})
        ids.append(reply.json()["id"])
    one = ann.post("/api/v1/embeddings/embed-deal", json={"deal_id": ids[0]})
    assert one.status_code == 200, one.text
    assert one.json() == {"success": True, "deal_id": ids[0], "embedded": 1}
    several = ann.post("/api/v1/embeddings/embed-multiple", json={"deal_ids": ids[:2]})
    assert several.json()["embedded"] == 1  # the first was indexed already
    everything = ann.post(f"/api/v1/workspaces/{ws}/embed-all")
    assert everything.json() == {"success": True, "embedded": 1, "deleted": 0}
    stats = ann.get("/api/v1/embeddings/stats", params={"workspace_id": ws}).json()
    assert stats["success"] is True
    assert (stats["stats"]["total_deals"], stats["stats"]["vector_size"]) == (3, 384)
    assert stats["stats"]["distance_metric"] == "COSINE"
    found = ann.post(
        "/api/v1/embeddings/find-similar", json={"workspace_id": ws, "deal_id": ids[0], "limit": 1}
    ).json()
    assert (found["success"], found["count"]) == (True, 1)
    assert found["similar_deals"][0]["deal_id"] == ids[1]
    by_text = ann.post(
        "/api/v1/embeddings/find-similar",
        json={"workspace_id": ws, "text": "chairs for the office"},
    ).json()
    assert by_text["similar_deals"][0]["title"] == "Office chairs"
    neither = ann.post("/api/v1/embeddings/find-similar", json={"workspace_id": ws})
    assert neither.status_code == 422 and neither.json()["fields"][0]["field"] == "deal_id"


def test_similar_unavailable_is_503_with_its_message(database_url: str) -> None:
    import httpx

    from vectoros_tui.server.tokens import TokenService
    from vectoros_tui.similar.errors import ModelUnavailableError
    from vectoros_tui.store.store import open_store

    from .conftest import running

    def broken(_store: object) -> object:
        raise ModelUnavailableError("no embedding model: run `vectoros similar setup`")

    store = open_store(database_url)
    ws = str(store.workspaces.create("T", owner_email="ann@example.com").id)
    secret = TokenService(store.db).create("ann@example.com")[1]
    app = create_app(database_url, similar_factory=broken)
    with running(app) as base, httpx.Client(base_url=base) as http:
        reply = http.get(
            "/api/v1/embeddings/stats",
            params={"workspace_id": ws},
            headers={"Authorization": f"Bearer {secret}"},
        )
    store.close()
    assert reply.status_code == 503
    assert reply.json() == {
        "error": "similar_unavailable",
        "message": "no embedding model: run `vectoros similar setup`",
    }
