"""Next steps and activities travel with a sync: two reps' SQLite databases linked to one
`vectoros serve` (on SQLite and on Postgres), through the real sync client over real HTTP
on loopback (documented dialect). Next steps take part in conflicts like any deal field;
activities (planned ones too) are added, marked done and deleted on both sides, never twice,
and the server's roles hold for each activity."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
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


@dataclass
class Rep:
    """One rep's laptop: a local database linked to the server's workspace."""

    store: Store
    workspace: Any
    engine: SyncEngine
    url: str
    token: str

    def sync(
        self, transport: httpx.BaseTransport | None = None, backend: type = RemoteBackend
    ) -> SyncReport:
        with backend(
            self.url, self.token, "documented", sleep=lambda s: None, transport=transport
        ) as remote:
            return self.engine.sync(self.workspace.id, remote)  # type: ignore[no-any-return]

    def deal(self, title: str) -> Any:
        return next(d for d in self.store.deals.list(self.workspace.id).deals if d.title == title)

    def timeline(self, title: str) -> list[tuple[str, str, bool, str]]:
        """The deal's activities as (type, description, done, date), by description."""
        found = self.store.activities.list(self.deal(title).id)
        return sorted((a.type, a.description, a.done, a.date.isoformat()) for a in found)


@dataclass
class Team:
    ann: Rep
    bob: Rep
    server: Store
    remote: uuid.UUID

    def server_timeline(self, title: str) -> list[tuple[str, str, bool, str]]:
        deal = next(d for d in self.server.deals.list(self.remote).deals if d.title == title)
        found = self.server.activities.list(deal.id)
        return sorted((a.type, a.description, a.done, a.date.isoformat()) for a in found)

    def server_deal(self, title: str) -> Any:
        return next(d for d in self.server.deals.list(self.remote).deals if d.title == title)


@pytest.fixture
def team(database_url: str, tmp_path: Path, sqlite_template: Path) -> Iterator[Team]:
    server = open_store(database_url)
    remote = server.workspaces.create("Team", owner_email="ann@example.com")
    server.workspaces.add_member(remote.id, "bob@example.com", "admin")
    tokens = TokenService(server.db)
    reps: list[Rep] = []
    with running(create_app(database_url)) as url:
        for name in ("ann", "bob"):
            path = tmp_path / f"{name}.sqlite3"
            shutil.copy(sqlite_template, path)
            store = open_store(f"sqlite:///{path}")
            workspace = store.workspaces.create("Team", owner_email=f"{name}@example.com")
            engine = SyncEngine(store.db)
            engine.link(workspace.id, url, str(remote.id), "documented")
            reps.append(Rep(store, workspace, engine, url, tokens.create(f"{name}@example.com")[1]))
        yield Team(reps[0], reps[1], server, remote.id)
    for rep in reps:
        rep.store.close()
    server.close()


def test_next_steps_and_planned_activities_reach_the_other_rep(team: Team) -> None:
    ann, bob = team.ann, team.bob
    deal = ann.store.deals.create(
        ann.workspace.id,
        {
            "title": "Acme",
            "stage": "proposal",
            "next_step": "Send the order form",
            "next_step_due": "2027-03-01",
        },
    )
    demo = ann.store.activities.add(
        deal.id,
        {"type": "meeting", "description": "Demo", "date": "2027-03-04T10:00:00Z", "done": False},
    )
    call = ann.store.activities.add(deal.id, {"type": "call", "description": "Intro call"})
    report = ann.sync()
    assert report.pushed_created == 1 and report.pushed_activities == 2
    assert report.problems == [] and report.notes == []
    stored = team.server_deal("Acme")
    assert (stored.next_step, stored.next_step_due) == ("Send the order form", date(2027, 3, 1))
    assert team.server_timeline("Acme") == ann.timeline("Acme")

    report = bob.sync()
    assert report.pulled_created == 1 and report.pulled_activities == 2
    theirs = bob.deal("Acme")
    assert (theirs.next_step, theirs.next_step_due) == ("Send the order form", date(2027, 3, 1))
    assert bob.timeline("Acme") == ann.timeline("Acme")
    assert ("meeting", "Demo", False, "2027-03-04T10:00:00+00:00") in bob.timeline("Acme")

    # Bob holds the demo (marked done), sets the next step and plans a follow-up.
    planned = next(a for a in bob.store.activities.list(theirs.id) if a.description == "Demo")
    bob.store.activities.mark_done(planned.id)
    bob.store.deals.update(theirs.id, {"next_step": "Negotiate", "next_step_due": "2027-03-10"})
    bob.store.activities.add(
        theirs.id,
        {"type": "call", "description": "Follow-up", "date": "2027-03-12", "done": False},
    )
    assert bob.engine.status(bob.workspace.id).pending_activities == 2  # done + planned
    report = bob.sync()
    assert (report.pushed_updated, report.pushed_activities) == (1, 2)
    assert bob.engine.status(bob.workspace.id).to_api()["pending_activity_changes"] == 0
    report = ann.sync()
    assert (report.pulled_updated, report.pulled_activities) == (1, 2)
    mine = ann.store.deals.get(deal.id)
    assert (mine.next_step, mine.next_step_due) == ("Negotiate", date(2027, 3, 10))
    # Ann's own rows, changed in place.
    assert {a.id for a in ann.store.activities.list(deal.id)} >= {demo.id, call.id}
    assert next(a for a in ann.store.activities.list(deal.id) if a.id == demo.id).done is True
    assert ann.timeline("Acme") == bob.timeline("Acme") == team.server_timeline("Acme")

    # Ann deletes the intro call and clears the next step: gone for Bob too.
    ann.store.activities.delete(call.id)
    ann.store.deals.update(deal.id, {"next_step": None, "next_step_due": None})
    ann.sync()
    report = bob.sync()
    assert report.pulled_activities == 1
    assert sorted(d for _, d, _, _ in bob.timeline("Acme")) == ["Demo", "Follow-up"]
    assert (bob.deal("Acme").next_step, bob.deal("Acme").next_step_due) == (None, None)
    assert ann.timeline("Acme") == bob.timeline("Acme") == team.server_timeline("Acme")

    # Nothing left to move: syncing again changes nothing anywhere, and adds nothing twice.
    for rep in (ann, bob, ann):
        again = rep.sync()
        assert (again.pushed_activities, again.pulled_activities) == (0, 0)
        assert again.to_api()["pushed"] == {"created": 0, "updated": 0, "deleted": 0}
        assert again.to_api()["pulled"] == {"created": 0, "updated": 0, "deleted": 0}
    assert len(team.server_timeline("Acme")) == len(ann.timeline("Acme")) == 2


def test_a_next_step_changed_on_both_sides_is_a_conflict_like_any_field(team: Team) -> None:
    ann, bob = team.ann, team.bob
    deal = ann.store.deals.create(
        ann.workspace.id, {"title": "Pilot", "stage": "prospect", "next_step": "Call"}
    )
    ann.sync()
    bob.sync()
    ann.store.deals.update(deal.id, {"next_step": "Call the CFO"})
    bob.store.deals.update(
        bob.deal("Pilot").id, {"next_step": "Send the deck", "next_step_due": "2027-01-15"}
    )
    ann.sync()
    report = bob.sync()
    assert report.new_conflicts == 1
    [conflict] = bob.engine.conflicts(bob.workspace.id)
    assert conflict.differing_fields() == ["next_step", "next_step_due"]
    assert (conflict.mine["next_step"], conflict.theirs["next_step"]) == (
        "Send the deck",
        "Call the CFO",
    )
    # The local next step stays as it was until the rep decides.
    assert bob.deal("Pilot").next_step == "Send the deck"
    bob.engine.resolve(
        bob.workspace.id,
        conflict.deal_id,
        "merge",
        {"next_step": "theirs", "next_step_due": "mine"},
    )
    bob.sync()
    ann.sync()
    assert bob.engine.conflicts(bob.workspace.id) == []
    for step in (ann.store.deals.get(deal.id), bob.deal("Pilot"), team.server_deal("Pilot")):
        assert (step.next_step, step.next_step_due) == ("Call the CFO", date(2027, 1, 15))


class LosesFirstAnswer(httpx.HTTPTransport):
    """The real transport, but the answer to the first request matching ``method`` and
    ``suffix`` is lost after the server has handled it (a dropped connection)."""

    def __init__(self, method: str, suffix: str) -> None:
        super().__init__()
        self.method, self.suffix = method, suffix
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if (
            not self.lost
            and request.method == self.method
            and request.url.path.endswith(self.suffix)
        ):
            self.lost += 1
            response.read()
            response.close()
            raise httpx.ReadError("connection dropped", request=request)
        return response


def test_a_retried_activity_is_added_once_and_a_resync_adds_nothing(team: Team) -> None:
    ann, bob = team.ann, team.bob
    deal = ann.store.deals.create(ann.workspace.id, {"title": "Renewal", "stage": "lead"})
    ann.sync()
    ann.store.activities.add(
        deal.id, {"type": "email", "description": "Quote", "date": "2027-02-01", "done": False}
    )
    lossy = LosesFirstAnswer("POST", "/activities")
    report = ann.sync(lossy)
    assert lossy.lost == 1 and report.problems == []
    assert len(team.server_timeline("Renewal")) == 1  # the retry was recognised
    for _ in range(2):
        assert bob.sync().problems == []
        assert ann.sync().pushed_activities == 0
    assert len(team.server_timeline("Renewal")) == 1
    assert len(ann.timeline("Renewal")) == len(bob.timeline("Renewal")) == 1


def test_a_next_step_set_before_it_travelled_goes_with_the_next_sync(team: Team) -> None:
    """A deal synced while next steps did not travel (its agreed base has none): its next
    step reaches the server with the first sync that carries them, the deal unedited."""

    class WithoutExtensions(RemoteBackend):
        @property
        def extensions(self) -> frozenset[str]:
            return frozenset()

    ann = team.ann
    deal = ann.store.deals.create(
        ann.workspace.id, {"title": "Old", "stage": "lead", "next_step": "Visit"}
    )
    report = ann.sync(backend=WithoutExtensions)
    assert report.notes and "next steps and activities" in report.notes[0]
    assert team.server_deal("Old").next_step is None
    assert ann.store.deals.get(deal.id).next_step == "Visit"  # nothing lost here
    report = ann.sync()
    assert report.pushed_updated == 1 and report.new_conflicts == 0
    assert team.server_deal("Old").next_step == "Visit"


def test_a_members_activity_on_a_colleagues_deal_is_refused_for_that_activity(
    team: Team,
) -> None:
    """Bob, a member, may not change the activities of Ann's deal: the server refuses that
    one (403), the report says why for that activity (not a sign-in problem), it stays
    queued, and Bob's activity on his own deal still goes."""
    ann, bob = team.ann, team.bob
    team.server.workspaces.add_member(team.remote, "bob@example.com", "member")
    ann.store.deals.create(ann.workspace.id, {"title": "Ann's", "stage": "lead"})
    ann.sync()
    bob.sync()
    bob.store.activities.add(bob.deal("Ann's").id, {"type": "note", "description": "Sneaky"})
    own = bob.store.deals.create(bob.workspace.id, {"title": "Bob's", "stage": "lead"})
    bob.store.activities.add(own.id, {"type": "call", "description": "Mine"})
    report = bob.sync()
    assert report.pushed_created == 1 and report.pushed_activities == 1
    [problem] = report.problems
    assert "Sneaky" in problem and "only its owner (ann@example.com)" in problem
    assert "vectoros login" not in problem
    assert team.server_timeline("Ann's") == []
    assert [d for _, d, _, _ in team.server_timeline("Bob's")] == ["Mine"]
    # Still queued, still reported, never lost.
    assert len(bob.sync().problems) == 1
    assert [d for _, d, _, _ in bob.timeline("Ann's")] == ["Sneaky"]
