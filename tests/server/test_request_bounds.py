"""The same bounds everywhere: a forecast window over 9999 days (the config's limit) and a
similar-deal search text over 10,000 characters are 422 naming the field, through the
server as through the CLI; never a 500, never minutes of work."""

from __future__ import annotations

import pytest

from vectoros_tui.engine.forecast import ForecastInputError, parse_timeframe

from .conftest import Api


@pytest.mark.parametrize("bad", ["10000d", "99999d", "9" * 5000 + "d", "0d", "30"])
def test_parse_timeframe_bounds(bad: str) -> None:
    with pytest.raises(ForecastInputError, match="timeframe"):
        parse_timeframe(bad)
    assert parse_timeframe("9999d") == 9999


def test_the_server_refuses_a_window_past_the_bound(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    for reply in (
        ann.post("/api/v1/ai/forecast", json={"workspace_id": ws, "timeframe": "99999d"}),
        ann.get("/api/v1/forecast", params={"workspace_id": ws, "timeframe": "10000d"}),
    ):
        assert reply.status_code == 422, reply.text
        assert "timeframe" in reply.text
    fine = ann.get("/api/v1/forecast", params={"workspace_id": ws, "timeframe": "9999d"})
    assert fine.status_code == 200


def test_a_search_text_past_the_bound_is_422(api: Api) -> None:
    api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    for field in ("deal_text", "text"):
        reply = ann.post("/api/v1/embeddings/find-similar", json={field: "x" * 10_001})
        assert reply.status_code == 422, reply.text
        assert field in reply.text


def test_a_lone_surrogate_in_json_is_422_naming_the_field(api: Api) -> None:
    ws = api.workspace("ann@example.com")
    ann = api.user("ann@example.com")
    # JSON can spell half of a UTF-16 pair ("\ud800"); no database can store it.
    body = '{"workspaceId": "' + ws + '", "title": "a\\ud800b", "stage": "lead"}'
    reply = ann.post("/api/v1/deals", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert "title" in reply.text
    assert ann.get(f"/api/v1/workspaces/{ws}/deals").json()["total"] == 0
