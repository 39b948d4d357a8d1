"""Fuzzing the team server's write routes over real HTTP (`vectoros serve`'s app on a
loopback port): random JSON values and near-valid bodies with mutated fields. Never a 5xx;
a 4xx is a JSON error ({"error", "message"}) and writes nothing; the connection stays
usable."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fuzz_harness import FUZZ, Workspace
from hypothesis import given, settings
from hypothesis import strategies as st
from server.conftest import Api, running

from vectoros_tui.server.app import create_app
from vectoros_tui.store.store import open_store

OWNER = "ann@example.com"

# Any character, lone surrogates too (JSON can spell them; they must be a 422).
_TEXT_CHAR = st.characters()
json_text = st.one_of(
    st.text(_TEXT_CHAR, max_size=20),
    st.sampled_from(["", " ", "\x00", "\x1b[2J", "a\nb", "x" * 501, "x" * 5000, "null"]),
)
json_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(),  # NaN and ±Infinity too: json.dumps writes them, Python's json reads them
)
json_scalars = st.one_of(st.none(), st.booleans(), json_numbers, json_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=10,
)


@dataclass
class Server:
    api: Api
    http: httpx.Client
    ws: Workspace  # for its snapshot of the tables
    workspace: str
    deal: str

    def send(self, method: str, path: str, body: Any, **headers: str) -> httpx.Response:
        """``body`` as JSON (NaN and Infinity as Python writes them), or raw bytes."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = self.http.request(
            method,
            path,
            content=content,
            headers={"Content-Type": "application/json", **headers},
        )
        return response

    def check(self, method: str, path: str, body: Any, **headers: str) -> httpx.Response:
        """The request's answer is below 500; a 4xx is a JSON error and wrote nothing;
        the connection still serves the next request."""
        before = self.ws.snapshot()
        response = self.send(method, path, body, **headers)
        shown = f"{method} {path} {body!r:.2000} -> {response.status_code} {response.text:.2000}"
        assert response.status_code < 500, shown
        if response.status_code >= 400:
            error = response.json()
            assert isinstance(error.get("error"), str) and error["error"], shown
            assert isinstance(error.get("message"), str) and error["message"], shown
            assert self.ws.snapshot() == before, f"a refused request wrote:\n{shown}"
        follow = self.http.get(f"/api/v1/deals/{self.deal}")
        assert follow.status_code == 200, f"{shown}\nthen GET: {follow.status_code}"
        return response


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    store = open_store(database_url, upgrade=False)
    with running(create_app(database_url)) as url:
        api = Api(url, store)
        workspace = api.workspace(OWNER)
        http = api.user(OWNER)
        made = http.post(
            "/api/v1/deals",
            json={"workspaceId": workspace, "title": "Seed", "value": 1200, "stage": "proposal"},
        )
        assert made.status_code == 201, made.text
        yield Server(api, http, Workspace(database_url, store), workspace, made.json()["id"])
        api.close()
    store.close()


def fuzz(prop: Callable[[], None], server: Server, sqlite_examples: int) -> None:
    postgres = not server.ws.url.startswith("sqlite")
    count = max(5, sqlite_examples // 4) if postgres else sqlite_examples
    settings(FUZZ, max_examples=count)(prop)()


def mutated(base: dict[str, Any], extra_keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with up to three of its keys (or of ``extra_keys``) set to random JSON
    values or removed."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(base)
        keys = sorted({*base, *extra_keys})
        for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)):
            if key in body and draw(st.booleans()):
                del body[key]
            else:
                body[key] = draw(st.one_of(json_text, json_text, json_numbers, json_values))
        return body

    return build()


def deal_body(workspace: str) -> dict[str, Any]:
    return {
        "workspaceId": workspace,
        "title": "Acme renewal",
        "company": "Acme",
        "value": 1200.5,
        "stage": "proposal",
        "probability": 50,
        "contactName": "Ann",
        "contactEmail": "ann@acme.com",
        "closeDate": "2027-01-31",
        "outcome": None,
        "lostReason": None,
        "nextStep": "Call",
        "nextStepDue": "2027-01-15",
    }


DEAL_KEYS = ["id", "ownerId", "version", "createdAt", "extra"]
# Random bytes, or JSON cut short: not JSON at all.
not_json = st.one_of(st.binary(max_size=40), st.just(b'{"title": '), st.just(b"\xff\xfe{}"))


def test_create_deal(server: Server) -> None:
    body = mutated(deal_body(server.workspace), DEAL_KEYS)
    odd_ids = st.one_of(
        st.just(server.workspace), st.uuids().map(str), st.just(server.deal), json_values
    )

    @given(body=st.one_of(body, body, json_values, not_json), workspace=odd_ids)
    def prop(body: Any, workspace: Any) -> None:
        if isinstance(body, dict) and "workspaceId" in body and workspace != server.workspace:
            body = {**body, "workspaceId": workspace}
        deals = server.ws.count("deals")
        created = server.check("POST", "/api/v1/deals", body)
        if created.status_code == 201:
            assert server.ws.count("deals") == deals + 1

    fuzz(prop, server, 60)


def test_update_deal(server: Server) -> None:
    body = mutated(
        {k: v for k, v in deal_body(server.workspace).items() if k != "title"},
        ["title", *DEAL_KEYS],
    )
    if_match = st.one_of(st.none(), st.sampled_from(['"1"', "*", '"999"', "", '"1", "2"', ", ,"]))

    @given(body=st.one_of(body, body, json_values, not_json), if_match=if_match)
    def prop(body: Any, if_match: str | None) -> None:
        headers = {} if if_match is None else {"If-Match": if_match}
        server.check("PUT", f"/api/v1/deals/{server.deal}", body, **headers)

    fuzz(prop, server, 60)


def test_add_member(server: Server) -> None:
    base = {"email": "bob@example.com", "role": "member"}
    roles = st.sampled_from(["member", "admin", "owner", "viewer", "OWNER", "", "root"])
    body = st.one_of(
        mutated(base, []),
        st.fixed_dictionaries({"email": st.one_of(st.emails().map(str), json_text), "role": roles}),
    )

    @given(body=st.one_of(body, body, json_values, not_json))
    def prop(body: Any) -> None:
        server.check("POST", f"/api/v1/workspaces/{server.workspace}/members", body)

    fuzz(prop, server, 40)


def test_add_activity(server: Server) -> None:
    base = {"type": "call", "description": "Discovery call", "date": "2026-01-15"}
    body = mutated(base, ["done", "dealId", "id"])

    @given(body=st.one_of(body, body, json_values, not_json))
    def prop(body: Any) -> None:
        activities = server.ws.count("activities")
        added = server.check("POST", f"/api/v1/deals/{server.deal}/activities", body)
        if added.status_code == 201:
            assert server.ws.count("activities") == activities + 1

    fuzz(prop, server, 50)


def test_forecast(server: Server) -> None:
    base = {"workspace_id": server.workspace, "timeframe": "30d", "scenario": "likely"}
    timeframes = st.one_of(
        st.integers(-5, 20_000).map(lambda n: f"{n}d"), st.sampled_from(["", "d", "1e9d"])
    )
    body = st.one_of(
        mutated(base, []),
        st.builds(lambda t: {**base, "timeframe": t}, timeframes),
    )

    @given(body=st.one_of(body, body, json_values, not_json))
    def prop(body: Any) -> None:
        answer = server.check("POST", "/api/v1/ai/forecast", body)
        if answer.status_code == 200:
            # Every number in the forecast is finite: JSON has no NaN.
            numbers = [v for v in _leaves(answer.json()) if isinstance(v, float)]
            assert all(math.isfinite(v) for v in numbers), answer.text[:2000]

    fuzz(prop, server, 40)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def test_ids_in_the_path(server: Server) -> None:
    """Odd deal and workspace ids in the URL (percent-encoded): 404 or 422, never a 5xx."""
    ids = st.one_of(
        st.uuids().map(str),
        st.just(server.deal.upper()),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    )

    @given(
        deal=ids.map(lambda s: quote(s, safe="")), workspace=ids.map(lambda s: quote(s, safe=""))
    )
    def prop(deal: str, workspace: str) -> None:
        server.check("PUT", f"/api/v1/deals/{deal}", {"title": "Renamed"})
        activity = {"type": "call", "description": "x"}
        server.check("POST", f"/api/v1/deals/{deal}/activities", activity)
        members = f"/api/v1/workspaces/{workspace}/members"
        server.check("POST", members, {"email": "bob@example.com"})

    fuzz(prop, server, 25)


LONE = "Acme \udcff\ud800"  # JSON "Acme \\udcff\\ud800": valid JSON, not valid Unicode


@pytest.mark.parametrize("where", ["create-title", "update-next-step"])
def test_lone_surrogates_in_stored_text(server: Server, where: str) -> None:
    """Once a 500 (UnicodeEncodeError from the database driver) after which the server
    dropped the keep-alive connection; now a 422 naming the field."""
    if where == "create-title":
        body = {**deal_body(server.workspace), "title": LONE}
        answer = server.check("POST", "/api/v1/deals", body)
    else:
        answer = server.check("PUT", f"/api/v1/deals/{server.deal}", {"nextStep": LONE})
    assert answer.status_code == 422, answer.text
