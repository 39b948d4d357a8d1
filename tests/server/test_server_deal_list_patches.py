"""A write is patched into the in-memory deal list (server/deal_pages.py) instead of the
list being loaded again, on SQLite and Postgres: the page after a write comes from memory
at once, only the deals that changed are loaded, and the patched list is the list a fresh
load (and the route) gives, whatever sequence of writes came before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vectoros_tui.engine.stages import normalise_stage
from vectoros_tui.server import access
from vectoros_tui.server.app import create_app
from vectoros_tui.server.deal_pages import DealPages, compact_json, load_workspace_deals
from vectoros_tui.server.schemas import deal_json
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.validation import clean_deal

from .conftest import Api, running

OWNER = "ann@example.com"
BOB = "bob@example.com"
STAGES = ("prospect", "qualified", "proposal", "negotiation", "won", "lost")
API_STAGES = ("prospect", "qualified", "proposal", "negotiation", "closed_won", "closed_lost")
SEEDED = 40
# Each page is checked against the route's answer after every write.
CHECKS: list[dict[str, Any]] = [
    {"limit": 500},
    {"limit": 7, "offset": 3},
    {"stage": "proposal", "limit": 500},
    {"stage": "closed_won"},
    {"stage": "lost", "limit": 3, "offset": 1},
]


@dataclass
class Listing:
    api: Api
    pages: DealPages
    ws: str
    ann: httpx.Client
    bob_id: str
    counter: int = 0

    @property
    def store(self) -> Store:
        return self.api.store

    @property
    def path(self) -> str:
        return f"/api/v1/workspaces/{self.ws}/deals"

    def deal_ids(self) -> list[str]:
        return [str(d.id) for d in self.store.deals.list(uuid.UUID(self.ws), limit=10_000).deals]

    def expected(self, params: dict[str, Any]) -> bytes:
        """The route's page (deal_routes.list_deals), computed here."""
        stage = outcome = None
        if params.get("stage"):
            stage, outcome = normalise_stage(params["stage"])
        deals, total = access.deal_page(
            self.store.db,
            uuid.UUID(self.ws),
            stage,
            outcome,
            params.get("limit", 100),
            params.get("offset", 0),
        )
        return compact_json({"deals": [deal_json(d) for d in deals], "total": total})

    def from_memory(self, params: dict[str, Any]) -> bytes:
        """GET the page; it must come from memory, not from the route."""
        hits = self.pages.cache.hits
        reply = self.ann.get(self.path, params=params)
        assert reply.status_code == 200, reply.text
        assert self.pages.cache.hits == hits + 1, f"{params} was answered by the route"
        return reply.content

    def check(self) -> None:
        for params in CHECKS:
            assert self.from_memory(params) == self.expected(params), params


def _owner(listing: Listing, deal_id: str) -> str:
    return str(listing.store.deals.get(uuid.UUID(deal_id)).owner_id)


def _seed(store: Store, ws: uuid.UUID, start: int, count: int) -> None:
    """``count`` deals in one go: one creation time for all, so their order is their id."""
    rows = [
        (
            f"seed-{n}",
            clean_deal(
                {
                    "title": f"Deal {n}",
                    "company": None if n % 4 == 0 else f"Company {n % 7}",
                    "value": n * 1000.5,
                    "stage": STAGES[n % len(STAGES)],
                    "lost_reason": "price" if STAGES[n % len(STAGES)] == "lost" else None,
                }
            ),
        )
        for n in range(start, start + count)
    ]
    store.deals.upsert_many(ws, rows)


@pytest.fixture
def listing(database_url: str) -> Iterator[Listing]:
    """A server with in-memory pages and a workspace of 40 deals (some of them Bob's),
    its list already in memory."""
    store = open_store(database_url, upgrade=True)
    app = create_app(database_url)
    with running(app) as url:
        api = Api(url, store)
        ws = api.workspace(OWNER)
        bob_id = store.workspaces.add_member(uuid.UUID(ws), BOB)["userId"]
        _seed(store, uuid.UUID(ws), 0, SEEDED)
        for deal in store.deals.list(uuid.UUID(ws), limit=SEEDED).deals[::5]:
            store.deals.update(deal.id, {"owner_id": uuid.UUID(bob_id)})
        made = Listing(api, app.state.deal_pages, ws, api.user(OWNER), bob_id)
        deadline = time.monotonic() + 20
        while made.pages.cache.get(uuid.UUID(ws)) is None:  # built after the second miss
            assert time.monotonic() < deadline, "the list was never built"
            assert made.ann.get(made.path).status_code == 200
            time.sleep(0.02)
        yield made
        api.close()
    store.close()


def test_the_page_after_a_write_is_patched_with_only_the_deals_that_changed(
    listing: Listing,
) -> None:
    pages = listing.pages
    builds = pages.builds
    ids = listing.deal_ids()

    def loaded_for(params: dict[str, Any]) -> tuple[int, bytes]:
        before = pages.loaded
        body = listing.from_memory(params)
        assert body == listing.expected(params)
        return pages.loaded - before, body

    # A write through this server, then the writer's own next page: its change is there.
    reply = listing.ann.put(f"/api/v1/deals/{ids[3]}", json={"value": 123456})
    assert reply.status_code == 200
    count, body = loaded_for({"limit": 500})
    assert count == 1
    assert b'"value":123456.0' in body

    created = listing.ann.post(
        "/api/v1/deals", json={"workspaceId": listing.ws, "title": "Fresh", "stage": "proposal"}
    ).json()
    count, body = loaded_for({"stage": "proposal", "limit": 500})
    assert count == 1
    assert created["id"].encode() in body

    assert listing.ann.delete(f"/api/v1/deals/{ids[4]}").status_code == 204
    count, body = loaded_for({"limit": 500})
    assert count == 0
    assert ids[4].encode() not in body

    # Changes made elsewhere (the CLI, another worker) the same way: three deals changed.
    for deal_id in ids[6:9]:
        listing.store.deals.update(uuid.UUID(deal_id), {"title": f"Renamed {deal_id[:4]}"})
    assert loaded_for({"limit": 500})[0] == 3

    # A write that does not bump the deals' versions: Bob leaves, his deals are nobody's.
    bobs = [i for i in listing.deal_ids() if _owner(listing, i) == listing.bob_id]
    assert bobs
    listing.store.workspaces.remove_member(uuid.UUID(listing.ws), BOB)
    count, body = loaded_for({"limit": 500})
    assert count == len(bobs)
    assert listing.bob_id.encode() not in body

    assert pages.builds == builds  # never loaded whole again
    assert pages.patches == 5


def test_readers_of_an_unchanged_workspace_load_nothing(listing: Listing) -> None:
    loaded, patches = listing.pages.loaded, listing.pages.patches
    listing.check()
    assert (listing.pages.loaded, listing.pages.patches) == (loaded, patches)


# --- any sequence of writes --------------------------------------------------------------

_OPS = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(API_STAGES), st.booleans()),
    st.tuples(st.just("value"), st.integers(0, 10**7), st.booleans()),
    st.tuples(st.just("stage"), st.sampled_from(API_STAGES), st.booleans()),
    st.tuples(st.just("delete"), st.none(), st.booleans()),
    st.tuples(st.just("bulk"), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("owner"), st.booleans(), st.booleans()),
    st.tuples(st.just("bob leaves"), st.booleans(), st.booleans()),
)


def _apply(listing: Listing, op: tuple[Any, ...], pick: int) -> int:
    """Make the write (through the server, or the store as another process would); how
    many deals it created or changed."""
    kind, arg, via_api = op
    ws = uuid.UUID(listing.ws)
    ids = listing.deal_ids()
    target = ids[pick % len(ids)]
    ann = listing.ann
    listing.counter += 1
    if kind == "create":
        if via_api:
            body = {"workspaceId": listing.ws, "title": f"New {listing.counter}", "stage": arg}
            assert ann.post("/api/v1/deals", json=body).status_code == 201
        else:
            stage, outcome = normalise_stage(arg)
            listing.store.deals.create(
                ws, {"title": f"New {listing.counter}", "stage": stage, "outcome": outcome}
            )
        return 1
    if kind == "value":
        if via_api:
            assert ann.put(f"/api/v1/deals/{target}", json={"value": arg}).status_code == 200
        else:
            listing.store.deals.update(uuid.UUID(target), {"value": arg})
        return 1
    if kind == "stage":
        assert ann.put(f"/api/v1/deals/{target}", json={"stage": arg}).status_code == 200
        return 1
    if kind == "delete":
        if len(ids) <= SEEDED // 2:  # keep the workspace from emptying
            return 0
        if via_api:
            assert ann.delete(f"/api/v1/deals/{target}").status_code == 204
        else:
            listing.store.deals.delete(uuid.UUID(target))
        return 0
    if kind == "bulk":
        _seed(listing.store, ws, 1000 + 10 * listing.counter, arg)
        return int(arg)
    if kind == "owner":
        owner = listing.bob_id if arg else None
        assert ann.put(f"/api/v1/deals/{target}", json={"ownerId": owner}).status_code == 200
        return 1
    # Bob leaves (his deals become nobody's, without a new version) and comes back.
    owned = sum(1 for i in ids if _owner(listing, i) == listing.bob_id)
    listing.store.workspaces.remove_member(ws, BOB)
    listing.store.workspaces.add_member(ws, BOB)
    return owned


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(_OPS, st.integers(0, 10**6)), min_size=1, max_size=5))
def test_a_patched_list_is_the_list_a_fresh_load_gives(
    listing: Listing, steps: list[tuple[tuple[Any, ...], int]]
) -> None:
    pages, ws = listing.pages, uuid.UUID(listing.ws)
    builds = pages.builds
    for op, pick in steps:
        changed = _apply(listing, op, pick)
        loaded = pages.loaded
        listing.check()
        assert pages.loaded - loaded <= changed, op
    assert pages.builds == builds
    patched = pages.cache.get(ws)
    fresh, _ = load_workspace_deals(listing.store.db, ws)
    assert patched is not None and fresh is not None
    assert patched.revision == fresh.revision
    assert patched.order == fresh.order
    assert patched.bodies == fresh.bodies
    assert patched.stages == fresh.stages
    assert patched.marks == fresh.marks
    for stage, outcome in [(None, None), ("proposal", None), ("closed", "won"), ("closed", None)]:
        assert patched.view(stage, outcome) == fresh.view(stage, outcome)
