"""Roles in the store: owner / admin / member, for every action and every kind of caller,
on SQLite and Postgres (``store`` fixture). The same checks answer the CLI, the app and the
server (tests/server/test_server_roles.py drives the server's side over HTTP).

Each case starts from one workspace: own@ (owner), adm@ (admin), mem@ and oth@ (members,
each owning a deal), and out@, who is not a member. A refused action raises ForbiddenError
naming who may do it, and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vectoros_tui.store.errors import ForbiddenError, LastOwnerError
from vectoros_tui.store.roles import Actor, ensure_member
from vectoros_tui.store.store import Store

PEOPLE = {
    "own": "owner",
    "adm": "admin",
    "mem": "member",
    "oth": "member",
}


@dataclass
class Team:
    store: Store
    workspace: uuid.UUID
    ids: dict[str, uuid.UUID]
    deals: dict[str, uuid.UUID]  # "mem" and "oth": a deal each owns

    def as_(self, who: str) -> Store:
        return self.store.acting_as(Actor(email=f"{who}@example.com"))

    def state(self) -> Any:
        """Everything an action could change: members with roles, deals with versions and
        owners, activity counts, the workspace's name."""
        members = sorted((m.email, m.role) for m in self.store.owners.members(self.workspace))
        deals = sorted(
            (str(d.id), d.version, str(d.owner_id))
            for d in self.store.deals.list(self.workspace, limit=100).deals
        )
        activities = sorted(len(self.store.activities.list(d)) for d in self.deals.values())
        name = self.store.workspaces.resolve(str(self.workspace)).name
        return members, deals, activities, name


@pytest.fixture
def team(store: Store) -> Team:
    workspace = store.workspaces.create("Team").id
    with store.db.write() as session:
        ids = {
            who: ensure_member(session, workspace, f"{who}@example.com", who.title(), role)
            for who, role in PEOPLE.items()
        }
    deals = {
        who: store.deals.create(
            workspace, {"title": f"{who}'s deal", "stage": "proposal"}, owner_id=ids[who]
        ).id
        for who in ("mem", "oth")
    }
    return Team(store, workspace, ids, deals)


Action = Callable[[Team, Store], object]

ACTIONS: dict[str, Action] = {
    "create a deal": lambda t, s: s.deals.create(t.workspace, {"title": "New", "stage": "lead"}),
    "create a deal for oth": lambda t, s: s.deals.create(
        t.workspace, {"title": "For oth", "stage": "lead"}, owner_id=t.ids["oth"]
    ),
    "edit mem's deal": lambda t, s: s.deals.update(t.deals["mem"], {"value": 5}),
    "edit oth's deal": lambda t, s: s.deals.update(t.deals["oth"], {"value": 5}),
    "mark oth's deal won": lambda t, s: s.deals.mark_won(t.deals["oth"]),
    "delete mem's deal": lambda t, s: s.deals.delete(t.deals["mem"]),
    "delete oth's deal": lambda t, s: s.deals.delete(t.deals["oth"]),
    "log a call on mem's deal": lambda t, s: s.activities.add(
        t.deals["mem"], {"type": "call", "description": "Called"}
    ),
    "log a call on oth's deal": lambda t, s: s.activities.add(
        t.deals["oth"], {"type": "call", "description": "Called"}
    ),
    "add a member": lambda t, s: s.workspaces.add_member(t.workspace, "new@example.com"),
    "make oth an admin": lambda t, s: s.workspaces.add_member(
        t.workspace, "oth@example.com", "admin"
    ),
    "make oth an owner": lambda t, s: s.workspaces.add_member(
        t.workspace, "oth@example.com", "owner"
    ),
    "remove oth": lambda t, s: s.workspaces.remove_member(t.workspace, "oth@example.com"),
    "rename the workspace": lambda t, s: s.workspaces.rename(t.workspace, "Renamed"),
    "delete the workspace": lambda t, s: s.workspaces.delete(t.workspace),
}

# Who may: "own" owner, "adm" admin, "mem" a member (owning mem's deal), "out" no member.
ALLOWED: dict[str, set[str]] = {
    "create a deal": {"own", "adm", "mem"},
    "create a deal for oth": {"own", "adm"},
    "edit mem's deal": {"own", "adm", "mem"},
    "edit oth's deal": {"own", "adm"},
    "mark oth's deal won": {"own", "adm"},
    "delete mem's deal": {"own", "adm", "mem"},
    "delete oth's deal": {"own", "adm"},
    "log a call on mem's deal": {"own", "adm", "mem"},
    "log a call on oth's deal": {"own", "adm"},
    "add a member": {"own", "adm"},
    "make oth an admin": {"own", "adm"},
    "make oth an owner": {"own"},
    "remove oth": {"own", "adm"},
    "rename the workspace": {"own", "adm"},
    "delete the workspace": {"own"},
}
CALLERS = ("own", "adm", "mem", "out")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_matrix(team: Team, action: str, caller: str) -> None:
    before = team.state()
    acting = team.as_(caller)
    if caller in ALLOWED[action]:
        ACTIONS[action](team, acting)
        if action != "delete the workspace":
            assert team.state() != before  # it did something
        return
    with pytest.raises(ForbiddenError) as refused:
        ACTIONS[action](team, acting)
    message = str(refused.value)
    assert f"{caller}@example.com" in message  # who was refused
    assert "own@example.com" in message  # and who may do it
    assert team.state() == before


def test_a_members_new_deal_is_theirs(team: Team) -> None:
    created = team.as_("mem").deals.create(team.workspace, {"title": "Mine", "stage": "lead"})
    assert created.owner_id == team.ids["mem"]


def test_a_member_may_hand_their_deal_over_and_then_no_longer_edit_it(team: Team) -> None:
    mem = team.as_("mem")
    mem.deals.update(team.deals["mem"], {"owner_id": team.ids["oth"]})
    with pytest.raises(ForbiddenError, match=r"its owner \(oth@example.com\)"):
        mem.deals.update(team.deals["mem"], {"value": 1})


def test_an_unowned_deal_is_for_owners_and_admins(team: Team) -> None:
    nobody = team.store.deals.create(team.workspace, {"title": "Nobody's", "stage": "lead"})
    with pytest.raises(ForbiddenError, match="it has none"):
        team.as_("mem").deals.update(nobody.id, {"value": 1})
    assert team.as_("adm").deals.update(nobody.id, {"value": 1}).value == 1


def test_an_admin_cannot_remove_or_demote_an_owner(team: Team) -> None:
    before = team.state()
    adm = team.as_("adm")
    for action in (
        lambda: adm.workspaces.remove_member(team.workspace, "own@example.com"),
        lambda: adm.workspaces.add_member(team.workspace, "own@example.com", "member"),
    ):
        with pytest.raises(ForbiddenError, match="only the workspace's owners"):
            action()
    assert team.state() == before


@pytest.mark.parametrize("acting", ["own", None])
def test_the_last_owner_is_never_removed_or_demoted(team: Team, acting: str | None) -> None:
    """Not by themselves, nor by the store acting for itself (no actor)."""
    store = team.as_(acting) if acting else team.store
    before = team.state()
    for action in (
        lambda: store.workspaces.remove_member(team.workspace, "own@example.com"),
        lambda: store.workspaces.add_member(team.workspace, "own@example.com", "admin"),
    ):
        with pytest.raises(LastOwnerError, match=r"own@example\.com is the last owner"):
            action()
    assert team.state() == before
    # With a second owner, the first may step down.
    team.as_("own").workspaces.add_member(team.workspace, "adm@example.com", "owner")
    team.as_("own").workspaces.add_member(team.workspace, "own@example.com", "member")
    roles = dict(sorted((m.email, m.role) for m in team.store.owners.members(team.workspace)))
    assert (roles["own@example.com"], roles["adm@example.com"]) == ("member", "owner")


def test_a_server_caller_never_claims_a_workspace(store: Store) -> None:
    """A local user may claim a workspace nobody owns; a server caller (known by user id)
    who is not a member is refused even then."""
    workspace = store.workspaces.create("Unowned").id
    with store.db.write() as session:
        stranger = ensure_member(session, store.workspaces.create("Theirs").id, "s@example.com")
    server_caller = store.acting_as(Actor(email="s@example.com", user_id=stranger))
    with pytest.raises(ForbiddenError):
        server_caller.deals.create(workspace, {"title": "X", "stage": "lead"})
    assert store.owners.members(workspace) == []
    local = store.acting_as(Actor(email="s@example.com"))
    local.deals.create(workspace, {"title": "X", "stage": "lead"})
    assert [(m.email, m.role) for m in store.owners.members(workspace)] == [
        ("s@example.com", "owner")
    ]
