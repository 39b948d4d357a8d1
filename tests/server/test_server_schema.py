"""Property-based API test: schemathesis generates requests from the OpenAPI document;
no request (authorised with a valid token, aimed at real records) may get a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from vectoros_tui.server.app import create_app

from .conftest import Api

SCHEMA = schemathesis.openapi.from_dict(create_app("sqlite://").openapi())
REAL_IDS = ("workspace_id", "workspaceId", "deal_id")


@pytest.fixture
def seeded(api: Api) -> dict[str, Any]:
    workspace = api.workspace("owner@example.com")
    token = api.token("owner@example.com")
    return {"api": api, "workspace": workspace, "token": token}


def _deal(api: Api, workspace: str) -> str:
    import uuid

    page = api.store.deals.list(uuid.UUID(workspace), limit=1)
    if page.deals:
        return str(page.deals[0].id)
    made = api.store.deals.create(uuid.UUID(workspace), {"title": "Seed", "stage": "proposal"})
    return str(made.id)


# 12 generated requests per route and database: with the fuzz suite's bodies (tests/fuzz),
# enough to reach each route's validation, and a fifth of the API tests' time at 20.
@SCHEMA.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: Any, seeded: dict[str, Any]) -> None:
    api: Api = seeded["api"]
    workspace = seeded["workspace"]
    deal = _deal(api, workspace)
    # Aim at real records (random ids only ever reach the 404 path).
    real = {"workspace_id": workspace, "workspaceId": workspace, "deal_id": deal}
    for name in ("workspace_id", "deal_id"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = real[name]
    if case.query and "workspace_id" in case.query:
        case.query["workspace_id"] = workspace
    if isinstance(case.body, dict):
        for name in REAL_IDS:
            if name in case.body:
                case.body[name] = real[name]
    response = case.call(
        base_url=api.url, headers={"Authorization": f"Bearer {seeded['token']}"}, timeout=30
    )
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert isinstance(error["error"], str) and isinstance(error["message"], str)
