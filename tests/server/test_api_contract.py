"""The documented VectorOS API, route by route: each test sends the document's own request
example and checks the documented answer fields, over real HTTP on SQLite and Postgres.

Plus: OpenAPI lists every documented route, /health turns 503 "unhealthy" without a usable
database, and the routes keep the token and workspace-isolation rules.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from vectoros_tui.engine.forecast import SCENARIOS
from vectoros_tui.server.app import create_app

from .conftest import Api, new_id, running

# Every route of the documented API, as the document writes it.
DOCUMENTED_ROUTES = [
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/:userId"),
    ("POST", "/api/v1/workspaces"),
    ("GET", "/api/v1/workspaces/:id"),
    ("GET", "/api/v1/workspaces/:workspaceId/deals"),
    ("POST", "/api/v1/deals"),
    ("PUT", "/api/v1/deals/:id"),
    ("DELETE", "/api/v1/deals/:id"),
    ("GET", "/health"),
    ("GET", "/api/v1/forecast"),
    ("POST", "/api/v1/deals/score-workspace"),
    ("POST", "/api/v1/embeddings/embed-deal"),
    ("POST", "/api/v1/embeddings/embed-multiple"),
    ("POST", "/api/v1/embeddings/find-similar"),
    ("GET", "/api/v1/embeddings/stats"),
    ("POST", "/api/v1/workspaces/:workspaceId/deals/embed-all"),
]

# The document's request examples.
USER_REQUEST = {
    "clerkId": "user_xxx",
    "email": "user@company.com",
    "firstName": "John",
    "lastName": "Doe",
}
DEAL_REQUEST = {
    "title": "Enterprise Deal",
    "company": "Acme Corp",
    "value": 100000,
    "stage": "proposal",
    "probability": 70,
    "contactName": "John Smith",
    "contactEmail": "john@acme.com",
    "closeDate": "2025-12-31",
}
EMPTY_SCORES = {
    "success": True,
    "data": {
        "scored_deals": [],
        "metrics": {
            "average_health": 0,
            "total_deals": 0,
            "scored_deals": 0,
            "health_distribution": {"excellent": 0, "good": 0, "fair": 0, "poor": 0, "critical": 0},
        },
    },
}
OWNER = USER_REQUEST["email"]


def _template(path: str) -> str:
    """A path with its parameters blanked: ``:id`` and ``{workspace_id}`` alike."""
    return re.sub(r"(:\w+|\{\w+\})", "{}", path)


def _timestamp(value: Any) -> datetime:
    assert isinstance(value, str), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _is_uuid(value: Any) -> bool:
    return isinstance(value, str) and str(uuid.UUID(value)) == value


def _soon(days: int = 10) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _owner(api: Api) -> tuple[httpx.Client, str, str]:
    """The document's user with a workspace: (their client, their id, the workspace id)."""
    workspace = api.workspace(OWNER, "Acme Corp Sales")
    client = api.user(OWNER)
    user_id = client.get("/api/v1/users/me").json()["id"]
    return client, user_id, workspace


def _deal(client: httpx.Client, workspace: str, **fields: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/deals", json={**DEAL_REQUEST, "workspaceId": workspace, **fields})
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


# --- the route list -----------------------------------------------------------------------


def test_openapi_lists_every_documented_route(api: Api) -> None:
    with api.client(None) as anonymous:
        document = anonymous.get("/openapi.json").json()
    served = {
        (method.upper(), _template(path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    missing = [(m, p) for m, p in DOCUMENTED_ROUTES if (m, _template(p)) not in served]
    assert missing == []
    # The scenario parameter offers exactly the engine's scenarios.
    forecast = document["paths"]["/api/v1/forecast"]["get"]
    scenario = next(p for p in forecast["parameters"] if p["name"] == "scenario")
    assert set(scenario["schema"]["enum"]) == set(SCENARIOS)
    # Every documented route but /health needs the bearer token.
    for method, path in DOCUMENTED_ROUTES:
        operation = next(
            ops[method.lower()]
            for p, ops in document["paths"].items()
            if _template(p) == _template(path) and method.lower() in ops
        )
        expected = None if path == "/health" else [{"bearerAuth": []}]
        assert operation.get("security") == expected, (method, path)


# --- health -------------------------------------------------------------------------------


def test_health_contract(api: Api) -> None:
    with api.client(None) as anonymous:
        reply = anonymous.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["status"], body["database"]) == ("healthy", "connected")
    assert abs(datetime.now(UTC) - _timestamp(body["timestamp"])) < timedelta(minutes=1)
    assert body["conditionalWrites"] is True  # what the sync client reads
    assert body["databaseDetails"]["reachable"] is True


def test_health_is_503_unhealthy_without_a_database() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with running(create_app(url)) as base, httpx.Client(base_url=base) as http:
        reply = http.get("/health")
    assert reply.status_code == 503
    body = reply.json()
    assert (body["status"], body["database"]) == ("unhealthy", "disconnected")
    _timestamp(body["timestamp"])
    assert body["databaseDetails"]["reachable"] is False


def test_health_is_503_unhealthy_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with running(create_app(url, upgrade=False)) as base, httpx.Client(base_url=base) as http:
        reply = http.get("/health")
    assert reply.status_code == 503
    body = reply.json()
    assert (body["status"], body["database"]) == ("unhealthy", "connected")
    assert body["databaseDetails"]["schema"] is None


# --- users --------------------------------------------------------------------------------


def test_create_user_contract(api: Api) -> None:
    client, user_id, _ = _owner(api)
    reply = client.post("/api/v1/users", json=USER_REQUEST)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["id"] == user_id and _is_uuid(body["id"])
    assert (body["clerkId"], body["email"]) == ("user_xxx", "user@company.com")
    _timestamp(body["createdAt"])
    # Again: the same record, nothing duplicated.
    again = client.post("/api/v1/users", json=USER_REQUEST)
    assert again.status_code == 201 and again.json()["id"] == user_id


def test_get_user_contract(api: Api) -> None:
    client, user_id, workspace = _owner(api)
    client.post("/api/v1/users", json=USER_REQUEST)
    reply = client.get(f"/api/v1/users/{user_id}")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["id"], body["email"]) == (user_id, "user@company.com")
    assert (body["firstName"], body["lastName"]) == ("John", "Doe")
    assert [(w["id"], w["name"], w["role"]) for w in body["workspaces"]] == [
        (workspace, "Acme Corp Sales", "owner")
    ]


def test_users_see_and_register_only_themselves(api: Api) -> None:
    client, user_id, _ = _owner(api)
    bob = api.user("bob@example.com")
    bob_id = bob.get("/api/v1/users/me").json()["id"]
    # Registering someone else is refused whether or not they exist.
    for email in ("bob@example.com", "nobody@example.com"):
        refused = client.post("/api/v1/users", json={**USER_REQUEST, "email": email})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert bob.get("/api/v1/users/me").json()["firstName"] is None  # untouched
    # Another user, an unknown id and a non-id all look alike.
    answers = [client.get(f"/api/v1/users/{ref}") for ref in (bob_id, new_id(), "me2")]
    assert [r.status_code for r in answers] == [404, 404, 404]
    assert {r.json()["error"] for r in answers} == {"not_found"}
    assert OWNER not in bob.get(f"/api/v1/users/{user_id}").text
    invalid = client.post("/api/v1/users", json={**USER_REQUEST, "email": "not-an-email"})
    assert invalid.status_code == 422 and invalid.json()["fields"][0]["field"] == "email"
    with api.client(None) as anonymous:
        assert anonymous.post("/api/v1/users", json=USER_REQUEST).status_code == 401
        assert anonymous.get(f"/api/v1/users/{user_id}").status_code == 401


# --- workspaces ---------------------------------------------------------------------------


def test_create_workspace_contract(api: Api) -> None:
    client, user_id, _ = _owner(api)
    reply = client.post("/api/v1/workspaces", json={"name": "Acme Corp Sales", "ownerId": user_id})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert _is_uuid(body["id"])
    assert (body["name"], body["ownerId"]) == ("Acme Corp Sales", user_id)
    _timestamp(body["createdAt"])
    bob_id = api.user("bob@example.com").get("/api/v1/users/me").json()["id"]
    for_bob = client.post("/api/v1/workspaces", json={"name": "Bob's", "ownerId": bob_id})
    assert for_bob.status_code == 403
    names = [w["name"] for w in client.get("/api/v1/workspaces").json()["workspaces"]]
    assert names == ["Acme Corp Sales", "Acme Corp Sales"]  # Bob's was not made


def test_get_workspace_contract(api: Api) -> None:
    client, user_id, workspace = _owner(api)
    client.post(f"/api/v1/workspaces/{workspace}/members", json={"email": "mem@example.com"})
    deal = _deal(client, workspace)
    reply = client.get(f"/api/v1/workspaces/{workspace}")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["id"], body["name"]) == (workspace, "Acme Corp Sales")
    assert (body["owner"]["id"], body["owner"]["email"]) == (user_id, OWNER)
    assert [(m["email"], m["role"]) for m in body["members"]] == [
        ("mem@example.com", "member"),
        (OWNER, "owner"),
    ]
    assert body["members"][1]["userId"] == user_id
    assert [(d["id"], d["title"], d["value"]) for d in body["deals"]] == [
        (deal["id"], "Enterprise Deal", 100000)
    ]
    assert body["dealCount"] == 1
    assert client.get(f"/api/v1/workspaces/{workspace}?deals_limit=0").json()["deals"] == []


# --- deals --------------------------------------------------------------------------------


def test_list_deals_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    made = _deal(client, workspace, title="Enterprise Plan - Acme Corp", probability=98)
    _deal(client, workspace, title="Other", stage="prospect")
    reply = client.get(
        f"/api/v1/workspaces/{workspace}/deals", params={"stage": "proposal", "limit": 100}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["total"] == 1
    [deal] = body["deals"]
    assert deal["id"] == made["id"]
    assert (deal["title"], deal["value"], deal["stage"]) == (
        "Enterprise Plan - Acme Corp",
        100000,
        "proposal",
    )
    assert (deal["probability"], deal["closeDate"]) == (98, "2025-12-31")
    second = client.get(f"/api/v1/workspaces/{workspace}/deals", params={"offset": 1}).json()
    assert second["total"] == 2 and len(second["deals"]) == 1


def test_create_deal_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    reply = client.post("/api/v1/deals", json={"workspaceId": workspace, **DEAL_REQUEST})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert _is_uuid(body["id"])
    assert {k: body[k] for k in DEAL_REQUEST} == DEAL_REQUEST
    assert body["workspaceId"] == workspace


def test_update_deal_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    deal = _deal(client, workspace)
    reply = client.put(
        f"/api/v1/deals/{deal['id']}", json={"stage": "negotiation", "probability": 85}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["id"], body["stage"], body["probability"]) == (deal["id"], "negotiation", 85)
    assert _timestamp(body["updatedAt"]) >= _timestamp(deal["updatedAt"])
    # A partial update: what was not sent is kept.
    assert (body["title"], body["company"], body["value"]) == (
        "Enterprise Deal",
        "Acme Corp",
        100000,
    )
    assert body["version"] == deal["version"] + 1


def test_delete_deal_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    deal = _deal(client, workspace)
    reply = client.delete(f"/api/v1/deals/{deal['id']}")
    assert (reply.status_code, reply.content) == (204, b"")
    assert client.get(f"/api/v1/deals/{deal['id']}").status_code == 404


# --- forecast and scores ------------------------------------------------------------------


def test_forecast_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    _deal(client, workspace, probability=98, closeDate=_soon())
    reply = client.get(
        "/api/v1/forecast",
        params={"workspace_id": workspace, "timeframe": "30d", "scenario": "likely"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["workspace_id"], body["timeframe"], body["scenario"]) == (
        workspace,
        "30d",
        "likely",
    )
    for name in ("predicted_revenue", "best_case", "likely_case", "worst_case", "mean_forecast"):
        assert isinstance(body[name], int | float) and 0 <= body[name] <= 100000, name
    assert body["predicted_revenue"] == body["likely_case"]
    assert 0 <= body["confidence"] <= 1 and body["standard_deviation"] >= 0
    assert body["deals_analyzed"] == 1
    assert body["breakdown_by_stage"] == [
        {
            "stage": "proposal",
            "deals": 1,
            "total_value": 100000,
            "weighted_value": 98000,
            "avg_probability": 98.0,
        }
    ]
    stats = body["simulation_stats"]
    assert stats["num_simulations"] == 10000
    percentiles = [stats[k] for k in ("min", "p5", "p10", "p25", "p50", "p75", "p90", "p95")]
    assert percentiles == sorted(percentiles) and stats["max"] == 100000
    [row] = body["forecasted_deals"]
    assert (row["title"], row["company"], row["value"], row["stage"]) == (
        "Enterprise Deal",
        "Acme Corp",
        100000,
        "proposal",
    )
    assert 0 < row["adjusted_probability"] <= 1
    assert row["weighted_value"] == pytest.approx(100000 * row["adjusted_probability"], abs=1)
    assert 0 <= row["confidence_score"] <= 1
    # The documented defaults: 30d, likely.
    plain = client.get("/api/v1/forecast", params={"workspace_id": workspace}).json()
    assert (plain["timeframe"], plain["scenario"]) == ("30d", "likely")
    worst = client.get(
        "/api/v1/forecast",
        params={"workspace_id": workspace, "timeframe": "90d", "scenario": "worst"},
    ).json()
    assert (worst["timeframe"], worst["predicted_revenue"]) == ("90d", worst["worst_case"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"timeframe": "forever"}, "timeframe"),
        ({"timeframe": "0d"}, "timeframe"),
        ({"timeframe": "30"}, "timeframe"),
        ({"scenario": "optimistic"}, "scenario"),
        ({"scenario": ""}, "scenario"),
    ],
)
def test_forecast_rejects_bad_parameters(api: Api, params: dict[str, str], field: str) -> None:
    client, _, workspace = _owner(api)
    reply = client.get("/api/v1/forecast", params={"workspace_id": workspace, **params})
    assert reply.status_code == 422, reply.text
    error = reply.json()
    assert error["error"] == "validation_error"
    assert [f["field"] for f in error["fields"]] == [field]
    assert field in error["message"]
    missing = client.get("/api/v1/forecast")
    assert missing.status_code == 422 and missing.json()["fields"][0]["field"] == "workspace_id"


def test_score_workspace_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    empty = client.post("/api/v1/deals/score-workspace", json={"workspace_id": workspace})
    assert empty.status_code == 200, empty.text
    assert empty.json() == EMPTY_SCORES
    deal = _deal(client, workspace, closeDate=_soon())
    _deal(client, workspace, title="Won", stage="closed_won")
    body = client.post("/api/v1/deals/score-workspace", json={"workspace_id": workspace}).json()
    assert body["success"] is True
    metrics = body["data"]["metrics"]
    assert (metrics["total_deals"], metrics["scored_deals"]) == (2, 1)
    assert sum(metrics["health_distribution"].values()) == 1
    [scored] = body["data"]["scored_deals"]
    assert scored["deal_id"] == deal["id"]
    assert metrics["average_health"] == scored["health_score"]


# --- embeddings ---------------------------------------------------------------------------


def test_embed_deal_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    deal = _deal(client, workspace, title="Enterprise Deal - Acme Corp", probability=98)
    request = {
        "deal": {
            "id": deal["id"],
            "title": "Enterprise Deal - Acme Corp",
            "company": "Acme Corp",
            "value": 100000,
            "stage": "proposal",
            "probability": 98,
        }
    }
    reply = client.post("/api/v1/embeddings/embed-deal", json=request)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["success"], body["point_id"]) == (True, deal["id"])
    assert body["message"] == "Deal 'Enterprise Deal - Acme Corp' embedded successfully"
    stats = client.get("/api/v1/embeddings/stats").json()
    assert stats["stats"]["total_deals"] == 1
    unknown = client.post("/api/v1/embeddings/embed-deal", json={"deal": {"id": new_id()}})
    assert unknown.status_code == 404
    both = client.post("/api/v1/embeddings/embed-deal", json={**request, "deal_id": deal["id"]})
    assert both.status_code == 422 and both.json()["fields"][0]["field"] == "deal"


def test_embed_multiple_contract(api: Api) -> None:
    client, _, workspace = _owner(api)
    ids = [_deal(client, workspace, title=f"Deal {n}")["id"] for n in (1, 2)]
    request = {"deals": [{"id": ids[0], "title": "Deal 1"}, {"id": ids[1], "title": "Deal 2"}]}
    reply = client.post("/api/v1/embeddings/embed-multiple", json=request)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["success"], body["embedded_count"], body["point_ids"]) == (True, 2, ids)
    assert body["message"] == "Successfully embedded 2/2 deals"
    assert client.get("/api/v1/embeddings/stats").json()["stats"]["total_deals"] == 2


SIMILAR_TITLES = [
    "Enterprise software deal for financial services",
    "Enterprise software licence for a bank",
    "Office chairs for a warehouse",
]


def _similar_setup(api: Api) -> tuple[httpx.Client, str, list[str]]:
    client, _, workspace = _owner(api)
    ids = [
        _deal(client, workspace, title=title, company=None, stage="closed_won")["id"]
        for title in SIMILAR_TITLES
    ]
    embedded = client.post(f"/api/v1/workspaces/{workspace}/deals/embed-all")
    assert embedded.status_code == 200, embedded.text
    return client, workspace, ids


def _check_similar(body: dict[str, Any], threshold: float) -> None:
    assert body["success"] is True
    assert body["count"] == len(body["similar_deals"]) >= 1
    for item in body["similar_deals"]:
        assert _is_uuid(item["deal_id"]) and isinstance(item["title"], str)
        # The schema's stage and outcome: a won deal is stage "closed", outcome "won".
        assert (item["value"], item["stage"], item["outcome"]) == (100000, "closed", "won")
        assert item["probability"] == 70
        assert item["close_date"] == "2025-12-31"
        assert "company" in item
        assert threshold <= item["similarity_score"] <= 1


def test_find_similar_contract(api: Api) -> None:
    client, _, ids = _similar_setup(api)
    by_id = client.post(
        "/api/v1/embeddings/find-similar",
        json={"deal_id": ids[0], "limit": 10, "score_threshold": 0.7},
    )
    assert by_id.status_code == 200, by_id.text
    _check_similar(by_id.json(), 0.7)
    # The bank licence only (~0.81): not the deal itself, not the chairs (~0.57).
    assert [d["deal_id"] for d in by_id.json()["similar_deals"]] == [ids[1]]
    # The documented text example; its 0.8 threshold is lowered because a deal is
    # embedded with its stage and value band too, so its own title scores ~0.65.
    by_text = client.post(
        "/api/v1/embeddings/find-similar",
        json={
            "deal_text": "Enterprise software deal for financial services",
            "limit": 5,
            "score_threshold": 0.62,
        },
    )
    assert by_text.status_code == 200, by_text.text
    _check_similar(by_text.json(), 0.62)
    assert [d["deal_id"] for d in by_text.json()["similar_deals"]] == [ids[0]]
    # `text` is the same as `deal_text`.
    same = client.post(
        "/api/v1/embeddings/find-similar",
        json={"text": "Enterprise software deal for financial services", "limit": 5},
    )
    assert [d["deal_id"] for d in same.json()["similar_deals"]] == ids


def test_embedding_stats_contract(api: Api) -> None:
    client, _, _ = _similar_setup(api)
    reply = client.get("/api/v1/embeddings/stats")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["success"] is True
    stats = body["stats"]
    assert (stats["total_deals"], stats["vector_size"], stats["distance_metric"]) == (
        3,
        384,
        "COSINE",
    )


def test_embed_all_contract(api: Api) -> None:
    client, workspace, _ = _similar_setup(api)  # embedded all three once already
    _deal(client, workspace, title="A fourth deal")
    reply = client.post(f"/api/v1/workspaces/{workspace}/deals/embed-all")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["success"] is True
    assert (body["embedded_count"], body["total_deals"]) == (4, 4)
    assert body["message"] == "Successfully embedded 4/4 deals"
    assert body["embedded"] == 1  # only the new one needed embedding


def test_search_and_stats_need_a_workspace_when_the_caller_has_several(api: Api) -> None:
    client, _, workspace = _owner(api)
    api.workspace(OWNER, "Second")
    for reply in (
        client.get("/api/v1/embeddings/stats"),
        client.post("/api/v1/embeddings/find-similar", json={"deal_text": "software"}),
    ):
        assert reply.status_code == 422, reply.text
        assert reply.json()["fields"][0]["field"] == "workspace_id"
        assert "2 workspaces" in reply.json()["message"]
    named = client.get("/api/v1/embeddings/stats", params={"workspace_id": workspace})
    assert named.status_code == 200 and named.json()["stats"]["total_deals"] == 0


# --- auth and isolation -------------------------------------------------------------------


def _documented_requests(
    workspace: str, deal: str, user: str
) -> list[tuple[str, str, Any, dict[str, str] | None]]:
    """(method, path, body, query) of every documented route but /health, aimed at the
    given workspace, deal and user."""
    return [
        ("POST", "/api/v1/users", USER_REQUEST, None),
        ("GET", f"/api/v1/users/{user}", None, None),
        ("POST", "/api/v1/workspaces", {"name": "X", "ownerId": user}, None),
        ("GET", f"/api/v1/workspaces/{workspace}", None, None),
        ("GET", f"/api/v1/workspaces/{workspace}/deals", None, None),
        ("POST", "/api/v1/deals", {**DEAL_REQUEST, "workspaceId": workspace}, None),
        ("PUT", f"/api/v1/deals/{deal}", {"stage": "negotiation"}, None),
        ("DELETE", f"/api/v1/deals/{deal}", None, None),
        ("GET", "/api/v1/forecast", None, {"workspace_id": workspace}),
        ("POST", "/api/v1/deals/score-workspace", {"workspace_id": workspace}, None),
        ("POST", "/api/v1/embeddings/embed-deal", {"deal": {"id": deal}}, None),
        ("POST", "/api/v1/embeddings/embed-multiple", {"deals": [{"id": deal}]}, None),
        ("POST", "/api/v1/embeddings/find-similar", {"deal_id": deal}, None),
        ("GET", "/api/v1/embeddings/stats", None, {"workspace_id": workspace}),
        ("POST", f"/api/v1/workspaces/{workspace}/deals/embed-all", None, None),
    ]


def test_documented_routes_need_a_token(api: Api) -> None:
    client, user_id, workspace = _owner(api)
    deal = _deal(client, workspace)
    requests = _documented_requests(workspace, deal["id"], user_id)
    assert len(requests) == len(DOCUMENTED_ROUTES) - 1  # all but /health
    for token in (None, "vos_not-a-real-token"):
        with api.client(token) as http:
            for method, path, body, query in requests:
                reply = http.request(method, path, json=body, params=query)
                assert reply.status_code == 401, (token, method, path, reply.text)
                assert reply.json()["error"] == "unauthorized"
    after = client.get(f"/api/v1/deals/{deal['id']}").json()
    assert (after["stage"], after["version"]) == ("proposal", 1)
    assert len(client.get("/api/v1/workspaces").json()["workspaces"]) == 1


def test_documented_routes_keep_workspaces_apart(api: Api) -> None:
    client, user_id, workspace = _owner(api)
    deal = _deal(client, workspace)
    api.workspace("bob@example.com", "Bob's")
    bob = api.user("bob@example.com")
    answers = {
        (method, path.replace(workspace, "{ws}").replace(deal["id"], "{deal}")): bob.request(
            method, path, json=body, params=query
        ).status_code
        for method, path, body, query in _documented_requests(workspace, deal["id"], user_id)
    }
    # Acting for Ann is forbidden outright; everything of her workspace is not found.
    forbidden = {("POST", "/api/v1/users"), ("POST", "/api/v1/workspaces")}
    assert {route for route, status in answers.items() if status == 403} == forbidden
    assert {route for route, status in answers.items() if status != 403} == {
        route for route, status in answers.items() if status == 404
    }
    # Found nothing of it through the routes without a workspace in them either.
    assert bob.get("/api/v1/embeddings/stats").json()["stats"]["total_deals"] == 0
    after = client.get(f"/api/v1/deals/{deal['id']}").json()
    assert (after["stage"], after["version"]) == ("proposal", 1)
    assert client.get(f"/api/v1/workspaces/{workspace}").json()["dealCount"] == 1
