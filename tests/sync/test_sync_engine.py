"""The sync engine against both backend dialects, over real HTTP on loopback (the fake
backends in fake_backends.py stand in for the team's Node service), on SQLite and Postgres.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fake_backends import FakeBackend, Fault

from vectoros_tui.store.store import Store
from vectoros_tui.store.tables import SyncOutbox
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.errors import MalformedResponseError, RemoteUnavailableError
from vectoros_tui.sync.http import RemoteBackend
from vectoros_tui.sync.push import SETTLE_BATCH


@pytest.fixture(params=["documented", "deployed"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeBackend]:
    with FakeBackend(request.param) as fake:
        yield fake
    assert not fake.errors, fake.errors


@pytest.fixture
def remote_ws(server: FakeBackend) -> str:
    return server.add_workspace("Team")["id"]


def client(server: FakeBackend, **options: Any) -> RemoteBackend:
    options.setdefault("sleep", lambda _seconds: None)
    options.setdefault("timeout", 2.0)
    return RemoteBackend(server.url, server.token, server.dialect, **options)


def linked(store: Store, workspace: Any, server: FakeBackend, remote_ws: str) -> SyncEngine:
    engine = SyncEngine(store.db)
    engine.link(workspace.id, server.url, remote_ws, server.dialect)
    return engine


def run_sync(engine: SyncEngine, workspace: Any, server: FakeBackend, **options: Any):  # type: ignore[no-untyped-def]
    with client(server, **options) as backend:
        return engine.sync(workspace.id, backend)


def outbox(store: Store) -> list[SyncOutbox]:
    with store.db.read() as session:
        from sqlmodel import select

        return list(session.exec(select(SyncOutbox)))


def remote_titles(server: FakeBackend, remote_ws: str) -> list[str]:
    return sorted(d["title"] for d in server.deals_in(remote_ws))


def local_titles(store: Store, workspace: Any) -> list[str]:
    return sorted(d.title for d in store.deals.list(workspace.id, limit=1000).deals)


def test_first_sync_pushes_local_deals_and_pulls_remote_ones(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    store.deals.create(workspace.id, {"title": "Local one", "value": 1200, "stage": "proposal"})
    won_stage = "closed_won" if server.dialect == "documented" else "won"
    server.add_deal(remote_ws, title="Remote won", stage=won_stage, value=5000)
    engine = linked(store, workspace, server, remote_ws)
    assert engine.status(workspace.id).pending == 1  # created before the link
    report = run_sync(engine, workspace, server)
    assert (report.pushed_created, report.pulled_created) == (1, 1)
    assert remote_titles(server, remote_ws) == ["Local one", "Remote won"]
    assert local_titles(store, workspace) == ["Local one", "Remote won"]
    pulled = next(d for d in store.deals.list(workspace.id).deals if d.title == "Remote won")
    assert (pulled.stage, pulled.outcome, pulled.value) == ("closed", "won", 5000)
    # The pushed deal kept its client-generated id on the backend.
    local = next(d for d in store.deals.list(workspace.id).deals if d.title == "Local one")
    assert str(local.id) in server.deals
    status = engine.status(workspace.id)
    assert status.pending == 0 and status.conflicts == 0 and status.last_sync_at is not None
    # Nothing left to do: a second sync changes nothing on either side.
    again = run_sync(engine, workspace, server)
    assert again.to_api()["pushed"] == {"created": 0, "updated": 0, "deleted": 0}
    assert again.to_api()["pulled"] == {"created": 0, "updated": 0, "deleted": 0}


def test_offline_edits_are_queued_and_pushed_later(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Renewal", "value": 900, "stage": "prospect"})
    run_sync(engine, workspace, server)
    # Offline: edits and a new deal, each noted in the outbox with the change itself.
    store.deals.update(deal.id, {"value": 1500, "stage": "negotiation"})
    store.deals.update(deal.id, {"title": "Renewal 2027"})
    extra = store.deals.create(workspace.id, {"title": "Upsell", "stage": "prospect"})
    assert {row.deal_id for row in outbox(store)} == {deal.id, extra.id}
    report = run_sync(engine, workspace, server)
    assert (report.pushed_updated, report.pushed_created) == (1, 1)
    assert outbox(store) == []
    remote = server.deals[str(deal.id)]
    assert (remote["title"], remote["value"], remote["stage"]) == (
        "Renewal 2027",
        1500,
        "negotiation",
    )


def test_remote_changes_are_pulled_without_echoing_back(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Pilot", "value": 100, "stage": "prospect"})
    run_sync(engine, workspace, server)
    server.edit_deal(str(deal.id), title="Pilot (expanded)", value=2500)
    report = run_sync(engine, workspace, server)
    assert report.pulled_updated == 1 and report.pushed_updated == 0
    local = store.deals.get(deal.id)
    assert (local.title, local.value) == ("Pilot (expanded)", 2500)
    assert outbox(store) == []  # applied from the backend: not queued to go back


def test_both_sides_changed_is_a_conflict_and_nothing_is_overwritten(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(
        workspace.id, {"title": "Expansion", "value": 100, "stage": "prospect"}
    )
    run_sync(engine, workspace, server)
    store.deals.update(deal.id, {"value": 200, "company": "Acme"})
    server.edit_deal(str(deal.id), value=300, title="Expansion (theirs)")
    report = run_sync(engine, workspace, server)
    assert report.new_conflicts == 1
    assert store.deals.get(deal.id).value == 200  # mine kept here
    assert server.deals[str(deal.id)]["value"] == 300  # theirs kept there
    [conflict] = engine.conflicts(workspace.id)
    assert conflict.mine is not None and conflict.theirs is not None
    assert (conflict.mine["value"], conflict.theirs["value"], conflict.base["value"]) == (
        200,
        300,
        100,
    )
    assert set(conflict.differing_fields()) == {"value", "company", "title"}
    # Another sync neither overwrites nor duplicates the conflict.
    assert run_sync(engine, workspace, server).new_conflicts == 0
    assert len(engine.conflicts(workspace.id)) == 1
    # Merge field by field: their title, my value and company.
    engine.resolve(workspace.id, deal.id, "merge", {"title": "theirs"})
    assert engine.conflicts(workspace.id) == []
    run_sync(engine, workspace, server)
    local, remote = store.deals.get(deal.id), server.deals[str(deal.id)]
    assert (local.title, local.value, local.company) == ("Expansion (theirs)", 200, "Acme")
    assert (remote["title"], remote["value"], remote["company"]) == (
        "Expansion (theirs)",
        200,
        "Acme",
    )


@pytest.mark.parametrize("keep", ["mine", "theirs"])
def test_keep_one_side(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str, keep: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Deal", "value": 1, "stage": "prospect"})
    run_sync(engine, workspace, server)
    store.deals.update(deal.id, {"title": "Mine"})
    server.edit_deal(str(deal.id), title="Theirs")
    run_sync(engine, workspace, server)
    engine.resolve(workspace.id, deal.id, keep)
    run_sync(engine, workspace, server)
    expected = "Mine" if keep == "mine" else "Theirs"
    assert store.deals.get(deal.id).title == expected
    assert server.deals[str(deal.id)]["title"] == expected
    assert engine.status(workspace.id).conflicts == 0


def test_deletes_travel_both_ways(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    mine = store.deals.create(workspace.id, {"title": "Delete here", "stage": "prospect"})
    theirs = store.deals.create(workspace.id, {"title": "Delete there", "stage": "prospect"})
    run_sync(engine, workspace, server)
    store.deals.delete(mine.id)
    with server.lock:
        del server.deals[str(theirs.id)]
    report = run_sync(engine, workspace, server)
    assert (report.pushed_deleted, report.pulled_deleted) == (1, 1)
    assert remote_titles(server, remote_ws) == [] and local_titles(store, workspace) == []


def test_deleted_there_but_changed_here_is_a_conflict(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Contested", "stage": "prospect"})
    run_sync(engine, workspace, server)
    store.deals.update(deal.id, {"value": 777})
    with server.lock:
        del server.deals[str(deal.id)]
    assert run_sync(engine, workspace, server).new_conflicts == 1
    assert store.deals.get(deal.id).value == 777  # not deleted silently
    [conflict] = engine.conflicts(workspace.id)
    assert conflict.theirs is None
    engine.resolve(workspace.id, deal.id, "mine")
    run_sync(engine, workspace, server)
    assert [d["value"] for d in server.deals_in(remote_ws)] == [777]  # created anew


def test_server_errors_are_retried_and_the_sync_completes(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    store.deals.create(workspace.id, {"title": "Flaky", "stage": "prospect"})
    server.faults += [Fault.error(500), Fault.error(429, retry_after="1"), Fault.drop()]
    report = run_sync(engine, workspace, server)
    assert report.pushed_created == 1
    assert remote_titles(server, remote_ws) == ["Flaky"]


def test_killed_mid_push_then_rerun_has_no_duplicates(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    for title in ("One", "Two", "Three"):
        store.deals.create(workspace.id, {"title": title, "stage": "prospect"})
    # One create is stored, then the connection dies before the answer: to the client this
    # is a crash between the remote write and the local bookkeeping. Every other attempt
    # dies too (3 deals pushed at once, at most 2 attempts each): the sync gives up.
    server.faults.append(Fault.commit_then_drop(match="POST"))
    server.faults += [Fault.drop(match="POST") for _ in range(5)]
    with pytest.raises(RemoteUnavailableError):
        run_sync(engine, workspace, server, retries=1)
    assert engine.status(workspace.id).last_error
    assert len(server.deals) == 1  # the one that got through
    server.faults.clear()  # a push not started when the sync gave up left its faults unused
    report = run_sync(engine, workspace, server)
    assert remote_titles(server, remote_ws) == ["One", "Three", "Two"]  # each exactly once
    assert report.pushed_created >= 2
    assert engine.status(workspace.id).pending == 0


def test_a_push_that_stops_half_way_still_notes_what_got_through(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    """Pushed deals are noted locally in batches (SETTLE_BATCH); when the push stops, the
    deals the backend took are noted all the same, and only the rest stays queued."""
    engine = linked(store, workspace, server, remote_ws)
    for n in range(2 * SETTLE_BATCH):
        store.deals.create(workspace.id, {"title": f"Deal {n}", "stage": "prospect"})
    # Every create after the first SETTLE_BATCH + 5 is dropped, retries included (each
    # request lets every waiting fault count it).
    drop_later = dataclasses.replace(Fault.drop(match="POST"), skip=SETTLE_BATCH + 5)
    server.faults += [dataclasses.replace(drop_later) for _ in range(40)]
    with pytest.raises(RemoteUnavailableError):
        run_sync(engine, workspace, server, retries=1)
    taken = len(server.deals)
    assert SETTLE_BATCH < taken < 2 * SETTLE_BATCH
    assert engine.status(workspace.id).pending == 2 * SETTLE_BATCH - taken
    server.faults.clear()
    report = run_sync(engine, workspace, server)
    assert report.pushed_created == 2 * SETTLE_BATCH - taken  # the rest, once
    assert len(server.deals) == 2 * SETTLE_BATCH
    assert engine.status(workspace.id).pending == 0


def test_malformed_answer_is_a_clear_error_and_loses_nothing(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Careful", "stage": "prospect"})
    run_sync(engine, workspace, server)
    store.deals.update(deal.id, {"value": 42})
    server.faults.append(Fault.raw("<html>proxy error</html>", content_type="text/html"))
    with pytest.raises(MalformedResponseError):
        run_sync(engine, workspace, server)
    assert [row.deal_id for row in outbox(store)] == [deal.id]  # still queued
    run_sync(engine, workspace, server)
    assert server.deals[str(deal.id)]["value"] == 42


def test_two_clients_share_one_backend(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    """Rep A and rep B (here two local workspaces, each with its own links) sync through the
    same backend workspace."""
    engine = linked(store, workspace, server, remote_ws)
    deal = store.deals.create(workspace.id, {"title": "Shared", "value": 10, "stage": "prospect"})
    run_sync(engine, workspace, server)
    ws_b = store.workspaces.create("Rep B")
    engine.link(ws_b.id, server.url, remote_ws, server.dialect)
    run_sync(engine, ws_b, server)
    [copy] = store.deals.list(ws_b.id).deals
    assert copy.title == "Shared" and copy.id != deal.id
    store.deals.update(copy.id, {"value": 99})
    run_sync(engine, ws_b, server)
    run_sync(engine, workspace, server)
    assert store.deals.get(deal.id).value == 99
    store.deals.delete(copy.id)
    run_sync(engine, ws_b, server)
    run_sync(engine, workspace, server)
    assert local_titles(store, workspace) == [] and remote_titles(server, remote_ws) == []


def test_unlinked_workspace_keeps_no_outbox(store: Store, workspace: Any) -> None:
    store.deals.create(workspace.id, {"title": "Solo", "stage": "prospect"})
    assert outbox(store) == []
    assert not SyncEngine(store.db).status(workspace.id).linked


def test_resolving_unknown_conflict_is_refused(store: Store, workspace: Any) -> None:
    from vectoros_tui.store.errors import NotFoundError

    with pytest.raises(NotFoundError):
        SyncEngine(store.db).resolve(workspace.id, uuid.uuid4(), "mine")


def test_no_if_match_for_a_server_that_did_not_promise_it(
    store: Store, workspace: Any, server: FakeBackend, remote_ws: str
) -> None:
    """The fake backend sends deal versions but its /health never says it honours If-Match
    (like a Node service with a version column): a push must read the deal before writing,
    or a colleague's change could be overwritten unseen."""
    engine = linked(store, workspace, server, remote_ws)
    server.add_deal(remote_ws, title="Versioned", stage="proposal")
    for deal in server.deals.values():
        deal["version"] = 5
    run_sync(engine, workspace, server)
    [local] = store.deals.list(workspace.id).deals
    store.deals.update(local.id, {"value": 321})
    server.requests.clear()
    report = run_sync(engine, workspace, server)
    assert report.pushed_updated == 1
    assert all("if-match" not in r.headers for r in server.requests)
    reads = [r for r in server.requests if r.method == "GET" and "/deals/" in r.path]
    assert len(reads) == 1  # read, compared with the base, then written
