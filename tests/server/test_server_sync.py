"""Round trips through the real sync client: two SyncEngines, each with its own SQLite
database, against `vectoros serve` on Postgres (documented dialect)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from vectoros_tui.server.app import create_app
from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend
from vectoros_tui.sync.reports import SyncReport

from .conftest import running

pytestmark = pytest.mark.postgres


@dataclass
class Rep:
    """One rep's machine: a local database linked to the server's workspace."""

    store: Store
    workspace: Any
    engine: SyncEngine
    url: str
    token: str

    def sync(self, transport: httpx.BaseTransport | None = None) -> SyncReport:
        with RemoteBackend(
            self.url, self.token, "documented", sleep=lambda s: None, transport=transport
        ) as remote:
            return self.engine.sync(self.workspace.id, remote)

    def deals(self) -> list[dict[str, Any]]:
        """Every deal's fields, by title (pulled deals get local ids of their own)."""
        page = self.store.deals.list(self.workspace.id, limit=1000)
        return sorted((d.editable_fields() for d in page.deals), key=lambda d: d["title"])

    def by_title(self, title: str) -> Any:
        return next(d for d in self.store.deals.list(self.workspace.id).deals if d.title == title)


@pytest.fixture
def team(pg_url: str, tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Rep, Rep]]:
    server_store = open_store(pg_url)
    remote_ws = server_store.workspaces.create("Team", owner_email="ann@example.com")
    # An admin, so both may edit every deal (test_a_members_edit_of_anothers_deal_is_refused
    # makes him a member).
    server_store.workspaces.add_member(remote_ws.id, "bob@example.com", "admin")
    tokens = TokenService(server_store.db)
    reps = []
    stores = []
    with running(create_app(pg_url)) as url:
        for name in ("ann", "bob"):
            path = tmp_path / f"{name}.sqlite3"
            shutil.copy(sqlite_template, path)
            store = open_store(f"sqlite:///{path}")
            stores.append(store)
            workspace = store.workspaces.create(f"{name}'s copy")
            engine = SyncEngine(store.db)
            engine.link(workspace.id, url, str(remote_ws.id), "documented")
            secret = tokens.create(f"{name}@example.com", "laptop")[1]
            reps.append(Rep(store, workspace, engine, url, secret))
        yield reps[0], reps[1]
    for store in stores:
        store.close()
    server_store.close()


def test_create_update_delete_reach_the_other_rep(team: tuple[Rep, Rep]) -> None:
    ann, bob = team
    deal = ann.store.deals.create(
        ann.workspace.id,
        {"title": "Acme", "value": 1200, "stage": "proposal", "close_date": "2027-03-01"},
    )
    won = ann.store.deals.create(ann.workspace.id, {"title": "Won one", "stage": "won"})
    assert ann.sync().pushed_created == 2
    assert bob.sync().pulled_created == 2
    assert bob.deals() == ann.deals()
    assert (bob.by_title("Won one").stage, bob.by_title("Won one").outcome) == ("closed", "won")
    ann.store.deals.update(deal.id, {"value": 5000, "stage": "negotiation"})
    ann.store.deals.delete(won.id)
    report = ann.sync()
    assert (report.pushed_updated, report.pushed_deleted) == (1, 1)
    report = bob.sync()
    assert (report.pulled_updated, report.pulled_deleted) == (1, 1)
    assert bob.deals() == ann.deals()
    assert bob.by_title("Acme").value == 5000


def test_concurrent_edits_conflict_then_converge(team: tuple[Rep, Rep]) -> None:
    ann, bob = team
    deal = ann.store.deals.create(ann.workspace.id, {"title": "Pilot", "stage": "prospect"})
    ann.sync()
    bob.sync()
    ann.store.deals.update(deal.id, {"value": 100})
    bob.store.deals.update(bob.by_title("Pilot").id, {"value": 999, "title": "Pilot XL"})
    ann.sync()
    report = bob.sync()
    assert report.new_conflicts == 1
    [conflict] = bob.engine.conflicts(bob.workspace.id)
    assert conflict.mine["value"] == 999 and conflict.theirs["value"] == 100
    bob.engine.resolve(bob.workspace.id, conflict.deal_id, "merge", {"value": "mine"})
    bob.sync()
    ann.sync()
    assert bob.engine.conflicts(bob.workspace.id) == []
    assert ann.deals() == bob.deals()
    assert (ann.by_title("Pilot XL").value, bob.by_title("Pilot XL").value) == (999, 999)


def test_a_members_edit_of_anothers_deal_is_refused_and_reported(
    team: tuple[Rep, Rep], pg_url: str
) -> None:
    """The server's roles hold for a synced change: Bob, a member, cannot push an edit of
    Ann's deal; his sync says why and goes on with the rest, and Ann's deal is untouched."""
    ann, bob = team
    server = open_store(pg_url)
    try:
        remote = server.workspaces.resolve("Team")
        server.workspaces.add_member(remote.id, "bob@example.com", "member")
        deal = ann.store.deals.create(ann.workspace.id, {"title": "Ann's", "stage": "prospect"})
        ann.sync()
        bob.sync()
        bob.store.deals.update(bob.by_title("Ann's").id, {"value": 999})
        bob.store.deals.create(bob.workspace.id, {"title": "Bob's", "stage": "prospect"})
        report = bob.sync()
        assert report.pushed_created == 1 and report.pushed_updated == 0
        [problem] = report.problems
        assert "only its owner (ann@example.com)" in problem and "bob@example.com" in problem
        assert "vectoros login" not in problem
        stored = {d.title: d for d in server.deals.list(remote.id).deals}
        assert stored["Ann's"].value == ann.store.deals.get(deal.id).value == 0
        assert "Bob's" in stored
    finally:
        server.close()


def test_offline_edits_are_pushed_later(team: tuple[Rep, Rep]) -> None:
    ann, bob = team
    deal = ann.store.deals.create(ann.workspace.id, {"title": "Renewal", "stage": "prospect"})
    ann.sync()
    bob.sync()
    # Ann works offline: the server is not asked; the changes wait in her outbox.
    ann.store.deals.update(deal.id, {"stage": "lost", "lost_reason": "budget"})
    ann.store.deals.create(ann.workspace.id, {"title": "Upsell", "stage": "qualified"})
    assert ann.engine.status(ann.workspace.id).pending == 2
    assert bob.sync().pulled_updated == 0
    report = ann.sync()
    assert (report.pushed_updated, report.pushed_created) == (1, 1)
    assert ann.engine.status(ann.workspace.id).pending == 0
    bob.sync()
    assert bob.deals() == ann.deals()
    assert bob.by_title("Renewal").lost_reason == "budget"


class Recording(httpx.HTTPTransport):
    """The real HTTP transport, noting each request's method, path and If-Match header."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path, request.headers.get("if-match")))
        return super().handle_request(request)

    def deal_requests(self, method: str) -> list[tuple[str, str | None]]:
        return [
            (p, tag) for m, p, tag in self.seen if m == method and p.startswith("/api/v1/deals/")
        ]


def test_an_edit_is_pushed_in_one_conditional_request(team: tuple[Rep, Rep]) -> None:
    """The server promises If-Match: a pushed edit is a PUT with the version the base came
    from, without reading the deal first."""
    ann, bob = team
    for n in range(3):
        ann.store.deals.create(ann.workspace.id, {"title": f"Deal {n}", "stage": "prospect"})
    ann.sync()
    bob.sync()
    for n in range(3):
        bob.store.deals.update(bob.by_title(f"Deal {n}").id, {"value": 100 + n})
    recording = Recording()
    report = bob.sync(recording)
    assert report.pushed_updated == 3 and report.new_conflicts == 0
    puts = recording.deal_requests("PUT")
    assert len(puts) == 3 and all(tag == '"1"' for _, tag in puts)
    assert recording.deal_requests("GET") == []
    ann.sync()
    assert ann.deals() == bob.deals()


def test_a_colleagues_change_stops_a_conditional_push(team: tuple[Rep, Rep]) -> None:
    """The version bob's base came from is stale: the server refuses the write (412), the
    client reads the deal, finds both sides changed, and lists a conflict. Ann's value
    stays on the server."""
    ann, bob = team
    deal = ann.store.deals.create(ann.workspace.id, {"title": "Pilot", "stage": "prospect"})
    ann.sync()
    bob.sync()
    ann.store.deals.update(deal.id, {"value": 100})
    ann.sync()
    bob.store.deals.update(bob.by_title("Pilot").id, {"value": 999})
    recording = Recording()
    report = bob.sync(recording)
    assert report.new_conflicts == 1 and report.pushed_updated == 0
    [(_, tag)] = recording.deal_requests("PUT")
    assert tag == '"1"'  # refused: the deal is at version 2
    assert len(recording.deal_requests("GET")) == 1  # then read, to merge
    [conflict] = bob.engine.conflicts(bob.workspace.id)
    assert (conflict.mine["value"], conflict.theirs["value"]) == (999, 100)
    ann.sync()
    assert ann.by_title("Pilot").value == 100
