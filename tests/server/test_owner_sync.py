"""Deal owners travel with a sync, matched by email: two reps' SQLite databases linked to
`vectoros serve` on Postgres (documented dialect), through the real sync client."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    store: Store
    workspace: Any
    engine: SyncEngine
    url: str
    token: str

    def sync(self) -> SyncReport:
        with RemoteBackend(self.url, self.token, "documented", sleep=lambda s: None) as remote:
            return self.engine.sync(self.workspace.id, remote)

    def owner_email(self, title: str) -> str | None:
        deal = next(d for d in self.store.deals.list(self.workspace.id).deals if d.title == title)
        members = {m.id: m.email for m in self.store.owners.members(self.workspace.id)}
        return members.get(deal.owner_id) if deal.owner_id else None

    def member(self, email: str) -> uuid.UUID:
        self.store.workspaces.add_member(self.workspace.id, email)
        return next(m.id for m in self.store.owners.members(self.workspace.id) if m.email == email)


@dataclass
class Team:
    ann: Rep
    bob: Rep
    server: Store
    remote: uuid.UUID

    def server_owner(self, title: str) -> str | None:
        deal = next(d for d in self.server.deals.list(self.remote).deals if d.title == title)
        members = {m.id: m.email for m in self.server.owners.members(self.remote)}
        return members.get(deal.owner_id) if deal.owner_id else None


@pytest.fixture
def team(pg_url: str, tmp_path: Path, sqlite_template: Path) -> Iterator[Team]:
    server = open_store(pg_url)
    remote = server.workspaces.create("Team", owner_email="ann@example.com")
    server.workspaces.add_member(remote.id, "bob@example.com", "member")
    tokens = TokenService(server.db)
    reps: list[Rep] = []
    with running(create_app(pg_url)) as url:
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


def test_owners_travel_both_ways_by_email(team: Team) -> None:
    ann, bob = team.ann, team.bob
    local_bob = ann.member("bob@example.com")
    ann_local = next(m.id for m in ann.store.owners.members(ann.workspace.id))
    ann.store.deals.create(
        ann.workspace.id, {"title": "Bob's", "stage": "lead"}, owner_id=local_bob
    )
    ann.store.deals.create(
        ann.workspace.id, {"title": "Ann's", "stage": "lead"}, owner_id=ann_local
    )
    ann.sync()
    # The server's users are other rows with other ids: matched by email.
    assert team.server_owner("Bob's") == "bob@example.com"
    assert team.server_owner("Ann's") == "ann@example.com"

    # Bob's copy: the deals come with their owners, so "mine" is his deal.
    report = bob.sync()
    assert report.pulled_created == 2 and report.to_api()["owners_pulled"] == 2
    assert (bob.owner_email("Bob's"), bob.owner_email("Ann's")) == (
        "bob@example.com",
        "ann@example.com",
    )
    me = next(m for m in bob.store.owners.members(bob.workspace.id) if m.email == "bob@example.com")
    mine = bob.store.deals.list(bob.workspace.id, owner_id=me.id).deals
    assert [d.title for d in mine] == ["Bob's"]

    # Ann (the owner) gives Bob's deal to herself in her copy: the server and Bob follow.
    deal = next(d for d in ann.store.deals.list(ann.workspace.id).deals if d.title == "Bob's")
    ann.store.deals.update(deal.id, {"owner_id": ann_local})
    ann.sync()
    assert team.server_owner("Bob's") == "ann@example.com"
    assert bob.sync().to_api()["owners_pulled"] == 1
    assert bob.owner_email("Bob's") == "ann@example.com"
    # Nothing left to move: a second sync changes no owner.
    assert bob.sync().to_api()["owners_pulled"] == 0
    assert ann.sync().to_api()["owners_pulled"] == 0


def test_an_owner_the_server_does_not_know_stays_local(team: Team) -> None:
    ann = team.ann
    stranger = ann.member("cy@example.com")  # a member here, not on the server
    ann.store.deals.create(ann.workspace.id, {"title": "Cy's", "stage": "lead"}, owner_id=stranger)
    report = ann.sync()
    assert report.problems == []
    assert team.server_owner("Cy's") == "ann@example.com"  # the server's default: the caller
    assert ann.owner_email("Cy's") == "cy@example.com"  # kept here, not overwritten
    ann.sync()
    assert ann.owner_email("Cy's") == "cy@example.com"


def test_roles_follow_the_server_so_a_member_is_refused_here_too(team: Team) -> None:
    """Bob created his copy (so owned it here); after a sync he has his server role, and
    deleting Ann's deal is refused on his laptop as the server would refuse it."""
    from vectoros_tui.store.errors import ForbiddenError
    from vectoros_tui.store.roles import Actor

    ann, bob = team.ann, team.bob
    ann_local = next(m.id for m in ann.store.owners.members(ann.workspace.id))
    ann.store.deals.create(
        ann.workspace.id, {"title": "Ann's", "stage": "lead"}, owner_id=ann_local
    )
    ann.sync()
    bob.sync()
    roles = {m.email: m.role for m in bob.store.owners.members(bob.workspace.id)}
    assert roles == {"ann@example.com": "owner", "bob@example.com": "member"}
    as_bob = bob.store.acting_as(Actor(email="bob@example.com"))
    deal = next(d for d in bob.store.deals.list(bob.workspace.id).deals if d.title == "Ann's")
    with pytest.raises(ForbiddenError, match=r"only its owner \(ann@example\.com\)"):
        as_bob.deals.delete(deal.id)
    mine = as_bob.deals.create(bob.workspace.id, {"title": "Bob's", "stage": "lead"})
    assert bob.owner_email("Bob's") == "bob@example.com" and mine.owner_id is not None
    bob.sync()
    assert team.server_owner("Bob's") == "bob@example.com"
