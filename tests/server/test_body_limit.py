"""Request bodies have a ceiling (`[server] max_body_bytes`, 1 MB by default): a bigger one
is answered 413 before it is parsed, whether it says its length or comes chunked; nothing
is written, and the same connection goes on working. Real HTTP on loopback, both
databases."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from vectoros_tui.config import ServerSettings, Settings
from vectoros_tui.server.app import create_app
from vectoros_tui.store.store import open_store

from .conftest import Api, running


def deal_body(workspace: str, padding: int) -> dict[str, object]:
    # An unknown field the size of the attack: the limit must hold before validation.
    return {"workspaceId": workspace, "title": "Big", "stage": "lead", "junk": "x" * padding}


def test_a_body_over_the_limit_is_413_and_the_connection_stays_usable(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    too_big = ann.post("/api/v1/deals", json=deal_body(ws, 2_000_000))
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "too_large" and "1,000,000" in too_big.json()["message"]

    def chunks() -> Iterator[bytes]:
        text = json.dumps(deal_body(ws, 3_000_000)).encode()
        for start in range(0, len(text), 65_536):
            yield text[start : start + 65_536]

    chunked = ann.post(
        "/api/v1/deals", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    # Same client, same connection: it still works, and nothing was written.
    assert ann.get(f"/api/v1/workspaces/{ws}/deals").json()["total"] == 0
    fine = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": "Fine", "stage": "lead"})
    assert fine.status_code == 201


def test_the_limit_is_configurable(database_url: str) -> None:
    settings = Settings(server=ServerSettings(max_body_bytes=4_096))
    store = open_store(database_url)
    try:
        ws = str(store.workspaces.create("Team", owner_email="ann@example.com").id)
        from vectoros_tui.server.tokens import TokenService

        token = TokenService(store.db).create("ann@example.com", "t")[1]
        with running(create_app(database_url, settings=settings)) as url:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                small = client.post("/api/v1/deals", json=deal_body(ws, 10))
                assert small.status_code in (201, 422)  # under the limit: handled as usual
                big = client.post("/api/v1/deals", json=deal_body(ws, 5_000))
                assert big.status_code == 413 and "4,096" in big.json()["message"]
    finally:
        store.close()
