"""Deal list pages served from memory (server/deal_pages.py), on SQLite and Postgres: the
same bytes as the route, never stale, never past the token and membership checks."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pg_schemas import create_pg_schema, drop_pg_schema, require_postgres
from sqlmodel import select

from vectoros_tui.server.app import create_app
from vectoros_tui.server.deal_pages import (
    DealList,
    DealListCache,
    InThread,
    LoopSqlite,
    WorkspaceDeals,
    parse_request,
)
from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.tables import ApiToken, utcnow
from vectoros_tui.store.validation import clean_deal

from .conftest import Api, running

STAGES = ("prospect", "qualified", "proposal", "negotiation", "won", "lost")


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Api, Any, str, str]]:
    """The backend with in-memory pages, the same database served by the route alone
    (the reference), and a workspace of 230 deals."""
    store = open_store(database_url, upgrade=True)
    fast_app = create_app(database_url)
    with running(fast_app) as fast_url, running(create_app(database_url, deal_pages=False)) as ref:
        api = Api(fast_url, store)
        ws = api.workspace("ann@example.com")
        rows = [
            (
                f"seed-{n}",
                clean_deal(
                    {
                        "title": f"Deal {n} — ünïcode",
                        "company": None if n % 5 == 0 else f"Company {n % 13}",
                        "value": n * 1250.5,
                        "stage": STAGES[n % len(STAGES)],
                        "lost_reason": "price" if STAGES[n % len(STAGES)] == "lost" else None,
                    }
                ),
            )
            for n in range(230)
        ]
        store.deals.upsert_many(uuid.UUID(ws), rows)
        yield api, fast_app.state.deal_pages, ref, ws
        api.close()
    store.close()


def _warm(client: httpx.Client, pages: Any, path: str, params: dict[str, Any]) -> httpx.Response:
    """GET until the page comes from memory (a list is built in the background after the
    second miss); fails if it never does."""
    before = pages.cache.hits
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reply = client.get(path, params=params)
        assert reply.status_code == 200, reply.text
        if pages.cache.hits > before:
            return reply
        time.sleep(0.02)
    raise AssertionError("the page was never served from memory")


PAGES = [
    {},
    {"limit": 100, "offset": 100},
    {"limit": 100, "offset": 200},
    {"limit": 7, "offset": 3},
    {"limit": 500},
    {"offset": 229},
    {"offset": 5000},
    {"stage": "proposal", "limit": 10, "offset": 5},
    {"stage": "closed_won"},
    {"stage": "lost", "limit": 3},
    {"stage": "  "},
]


def test_pages_from_memory_are_the_routes_bytes(served: Any) -> None:
    api, pages, reference, ws = served
    token = api.token("ann@example.com")
    fast = api.client(token)
    slow = httpx.Client(base_url=reference, headers={"Authorization": f"Bearer {token}"})
    path = f"/api/v1/workspaces/{ws}/deals"
    try:
        for params in PAGES:
            served_fast = _warm(fast, pages, path, params)
            expected = slow.get(path, params=params)
            assert expected.status_code == 200
            assert served_fast.content == expected.content, params
            assert served_fast.headers["content-type"] == "application/json"
            assert int(served_fast.headers["content-length"]) == len(expected.content)
    finally:
        slow.close()
    assert pages.builds == 1  # one list of the workspace; the stages are filtered from it


def test_any_change_of_the_workspace_is_in_the_next_page(served: Any) -> None:
    api, pages, _, ws = served
    ann = api.user("ann@example.com")
    path = f"/api/v1/workspaces/{ws}/deals"
    first = _warm(ann, pages, path, {"limit": 5}).json()
    assert first["total"] == 230
    target = first["deals"][0]

    # A change made outside this server (the store directly: another process, the CLI).
    api.store.deals.update(uuid.UUID(target["id"]), {"title": "Renamed elsewhere"})
    after = ann.get(path, params={"limit": 5}).json()
    assert after["deals"][0]["title"] == "Renamed elsewhere"

    created = ann.post("/api/v1/deals", json={"workspaceId": ws, "title": "New", "stage": "lead"})
    assert created.status_code == 201
    assert ann.get(path, params={"limit": 1}).json()["total"] == 231

    api.store.deals.delete(uuid.UUID(target["id"]))
    listed = _warm(ann, pages, path, {"limit": 500})
    assert listed.json()["total"] == 230
    assert target["id"] not in {deal["id"] for deal in listed.json()["deals"]}
    assert "New" in {deal["title"] for deal in listed.json()["deals"]}


def test_another_workspace_changing_does_not_clear_this_one(served: Any) -> None:
    api, pages, _, ws = served
    ann = api.user("ann@example.com")
    other = uuid.UUID(api.workspace("ann@example.com", "Other"))
    path = f"/api/v1/workspaces/{ws}/deals"
    _warm(ann, pages, path, {})
    api.store.deals.create(other, {"title": "Elsewhere", "stage": "prospect"})
    hits = pages.cache.hits
    assert ann.get(path).status_code == 200
    assert pages.cache.hits == hits + 1


def test_memory_never_answers_past_the_token_or_membership(served: Any) -> None:
    api, pages, _, ws = served
    path = f"/api/v1/workspaces/{ws}/deals"
    ann_token = api.token("ann@example.com", "ann")
    ann = api.client(ann_token)
    _warm(ann, pages, path, {})

    outsider = api.user("eve@example.com")
    assert outsider.get(path).status_code == 404
    assert api.client(None).get(path).status_code == 401
    assert api.client("not-a-token").get(path).status_code == 401
    assert api.client(ann_token + "x").get(path).status_code == 401

    api.store.workspaces.add_member(uuid.UUID(ws), "bob@example.com")
    bob = api.user("bob@example.com")
    _warm(bob, pages, path, {})
    api.store.workspaces.remove_member(uuid.UUID(ws), "bob@example.com")
    gone = bob.get(path)
    assert gone.status_code == 404
    assert "no workspace" in gone.json()["message"]

    tokens = TokenService(api.store.db)
    ann_id = next(t.id for t in tokens.list() if t.name == "ann")
    tokens.revoke(str(ann_id))
    revoked = ann.get(path)
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["message"]


def test_bad_parameters_are_still_answered_by_the_route(served: Any) -> None:
    api, pages, _, ws = served
    ann = api.user("ann@example.com")
    path = f"/api/v1/workspaces/{ws}/deals"
    _warm(ann, pages, path, {})
    for bad in ({"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"stage": "x"}):
        reply = ann.get(path, params=bad)
        assert reply.status_code == 422, bad
        assert next(iter(bad)) in reply.json()["message"]
    assert ann.get(f"/api/v1/workspaces/{uuid.uuid4()}/deals").status_code == 404
    assert ann.get("/api/v1/workspaces/not-an-id/deals").status_code == 404


def test_a_token_due_for_its_last_use_stamp_still_gets_it(served: Any) -> None:
    api, pages, _, ws = served
    token = api.token("ann@example.com", "stamped")
    ann = api.client(token)
    path = f"/api/v1/workspaces/{ws}/deals"
    _warm(ann, pages, path, {})
    long_ago = utcnow() - timedelta(minutes=10)
    with api.store.db.write() as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == "stamped")).one()
        row.last_used_at = long_ago
    assert ann.get(path).status_code == 200
    with api.store.db.read() as session:
        stamped = session.exec(select(ApiToken).where(ApiToken.name == "stamped")).one()
    assert stamped.last_used_at is not None and stamped.last_used_at > long_ago


@pytest.mark.postgres
def test_without_psycopg_pool_postgres_is_checked_through_sqlalchemy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The async pool is Postgres only; without it the check runs in a thread."""
    require_postgres()
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as if not installed
    schema, url = create_pg_schema()
    store = open_store(url, upgrade=True)
    try:
        app = create_app(url)
        pages = app.state.deal_pages
        assert pages._conninfo is None
        with running(app) as base:
            api = Api(base, store)
            ws = api.workspace("ann@example.com")
            api.store.deals.create(uuid.UUID(ws), {"title": "Only", "stage": "prospect"})
            path = f"/api/v1/workspaces/{ws}/deals"
            reply = _warm(api.user("ann@example.com"), pages, path, {})
            assert [d["title"] for d in reply.json()["deals"]] == ["Only"]
            api.close()
    finally:
        store.close()
        drop_pg_schema(schema)


# --- the parts, without a server ------------------------------------------------------------


def _scope(path: str, query: str = "", token: str | None = "t0ken", method: str = "GET") -> dict:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
    }


def test_parse_request_takes_only_plain_valid_pages() -> None:
    ws = uuid.uuid4()
    path = f"/api/v1/workspaces/{ws}/deals"
    plain = parse_request(_scope(path, "limit=20&offset=40&stage=won"))
    assert plain is not None
    assert (plain.workspace_id, plain.limit, plain.offset) == (ws, 20, 40)
    assert (plain.stage, plain.outcome, plain.token) == ("closed", "won", "t0ken")
    defaults = parse_request(_scope(path))
    assert defaults is not None and (defaults.limit, defaults.offset, defaults.stage) == (
        100,
        0,
        None,
    )
    for query in ("limit=0", "limit=501", "limit=+5", "limit=٣", "offset=-1", "stage=nope"):
        assert parse_request(_scope(path, query)) is None, query
    assert parse_request(_scope(path, "limit=5&limit=6")) is None
    assert parse_request(_scope(path, token=None)) is None
    assert parse_request(_scope(path, method="HEAD")) is None
    assert parse_request(_scope(path + "/x")) is None
    assert parse_request(_scope("/api/v1/workspaces/nope/deals")) is None
    basic = _scope(path)
    basic["headers"] = [(b"authorization", b"Basic abc")]
    assert parse_request(basic) is None


def _listed(revision: int, *bodies: bytes) -> WorkspaceDeals:
    keys = [str(n) for n in range(len(bodies))]
    marks = frozenset((key, 1) for key in keys)
    stages = dict.fromkeys(keys, ("prospect", None))
    return WorkspaceDeals(revision, keys, marks, dict(zip(keys, bodies, strict=True)), stages)


def test_cache_keeps_the_newest_list_within_its_budget() -> None:
    cache = DealListCache(budget=1_500)  # one of the lists below (820 bytes), not two
    a, b = uuid.uuid4(), uuid.uuid4()
    cache.put(a, _listed(3, *[b"x" * 100] * 5))
    found = cache.get(a)
    assert found is not None and found.revision == 3
    cache.put(a, _listed(2, b"old"))  # a slower, older build finishing late
    assert cache.get(a) is found
    cache.put(b, _listed(1, *[b"y" * 100] * 5))
    assert cache.get(a) is None and cache.get(b) is not None  # a was least recent
    cache.put(b, _listed(2, b"z" * 5_000))  # too big to keep at all
    assert len(cache) == 0
    assert not cache.missed(a, 7)
    assert cache.missed(a, 7)
    assert not cache.missed(a, 8)  # a new revision starts the count again


def test_page_body_slices_and_totals() -> None:
    deals = DealList(1, [b'{"n":1}', b'{"n":2}', b'{"n":3}'])
    assert deals.page(1, 5) == b'{"deals":[{"n":2},{"n":3}],"total":3}'
    assert deals.page(9, 5) == b'{"deals":[],"total":3}'


def test_every_change_of_a_workspaces_deals_bumps_its_revision(store: Store) -> None:
    ws = store.workspaces.create("Mine")
    other = store.workspaces.create("Theirs")

    def revisions() -> tuple[int, int]:
        with store.db.read() as session:
            from vectoros_tui.store.tables import Workspace

            return (
                session.get(Workspace, ws.id).deals_revision,
                session.get(Workspace, other.id).deals_revision,
            )

    start, other_start = revisions()
    deal = store.deals.create(ws.id, {"title": "A", "stage": "prospect"})
    created, _ = revisions()
    store.deals.update(deal.id, {"value": 10})
    updated, _ = revisions()
    store.deals.upsert_many(
        ws.id, [(f"s{n}", clean_deal({"title": f"B{n}", "stage": "prospect"})) for n in range(50)]
    )
    loaded, _ = revisions()
    store.deals.delete(deal.id)
    deleted, other_now = revisions()
    assert start < created < updated < loaded < deleted
    assert other_now == other_start


def test_the_loop_never_waits_on_a_locked_sqlite_database(tmp_path: Any) -> None:
    """SQLite's access check runs in the event loop: a database locked in a way that would
    make a reader wait (here a rollback journal and an exclusive lock) answers InThread
    at once, and that check goes to a thread instead."""
    import sqlite3

    path = tmp_path / "locked.sqlite3"
    open_store(f"sqlite:///{path}", upgrade=True).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    loop_side = LoopSqlite(str(path))
    assert loop_side.access("no-such-token", uuid.uuid4()) is None
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE workspaces SET name = name")
        started = time.monotonic()
        with pytest.raises(InThread):
            loop_side.access("no-such-token", uuid.uuid4())
        assert time.monotonic() - started < 1.0
    finally:
        holder.close()
        loop_side.close()


def test_the_caller_read_in_the_loop_is_the_token_services(database_url: str) -> None:
    """Routes authenticate in the event loop (DealPages.caller) with TokenService's query;
    a token due for its last-used stamp, and no token at all, are left to TokenService."""
    import asyncio

    from vectoros_tui.server.backend import Backend
    from vectoros_tui.server.deal_pages import DealPages

    store = open_store(database_url, upgrade=True)
    tokens = TokenService(store.db)
    fresh = tokens.create("ann@example.com", "fresh")[1]
    tokens.authenticate(fresh)  # stamped: used within the last minute
    unstamped = tokens.create("bob@example.com", "never used")[1]
    revoked = tokens.create("eve@example.com", "revoked")[1]
    tokens.revoke(next(str(t.id) for t in tokens.list() if t.name == "revoked"))
    pages = DealPages(Backend(database_url, None, None, True))

    async def run() -> None:
        try:
            assert await pages.caller(fresh) == tokens.authenticate(fresh)
            assert await pages.caller(revoked) is None
            assert await pages.caller("vos_unknown") is None
            assert await pages.caller("x" * 300) is None
            with pytest.raises(InThread):
                await pages.caller(unstamped)
        finally:
            await pages.aclose()

    try:
        asyncio.run(run())
    finally:
        pages.backend.close()
        store.close()
