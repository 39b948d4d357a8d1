"""Deal owners across a sync, matched by email.

A user's id differs between the team backend and each rep's database, but their email is
the same, so owners travel as people: a pulled deal is owned here by the member with its
remote owner's email (joining as a member if new here), and a deal reassigned here is
reassigned there to the backend's user with that email. Only a backend that lists a
workspace's members with their ids (``vectoros serve``) carries owners; with one that does
not (the deployed dialect) owners stay as they are on each side.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.outbox import APPLYING_REMOTE
from vectoros_tui.store.roles import ROLES, ensure_member
from vectoros_tui.store.tables import (
    Deal,
    DealEvent,
    SyncLink,
    SyncOutbox,
    User,
    WorkspaceMember,
    utcnow,
)
from vectoros_tui.sync.errors import RemoteError
from vectoros_tui.sync.records import RemoteDeal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemotePeople:
    """The backend's members of the workspace: remote user id -> (email, name, role)."""

    by_id: dict[str, tuple[str, str | None, str]]
    by_email: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        by_email = {email: rid for rid, (email, _, _) in self.by_id.items()}
        object.__setattr__(self, "by_email", by_email)


def read_people(backend: Any, remote_workspace: str) -> RemotePeople | None:
    """The backend's members, or None when it does not say (then owners do not travel)."""
    members = getattr(backend, "members", None)
    if members is None:
        return None
    try:
        found = members(remote_workspace)
    except RemoteError as exc:
        if exc.status not in (404, 405):
            raise
        log.info("owners not synced: the backend has no workspace route (%s)", exc)
        return None
    return None if found is None else RemotePeople(found)


def local_emails(db: Database, workspace_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Local user id -> email of every user owning a deal of the workspace."""
    with db.read() as session:
        rows = session.exec(
            select(User.id, User.email)
            .join(Deal, col(Deal.owner_id) == User.id)
            .where(Deal.workspace_id == workspace_id)
            .distinct()
        ).all()
    return {user_id: email for user_id, email in rows}


def wanted_remote_owner(
    people: RemotePeople | None, emails: dict[uuid.UUID, str], local_owner: uuid.UUID | None
) -> str | None:
    """The backend's user id for a local owner, or None when it cannot be said (no owner
    here, or someone the backend does not know: their deal keeps its remote owner)."""
    if people is None or local_owner is None:
        return None
    email = emails.get(local_owner)
    return None if email is None else people.by_email.get(email)


def mirror_roles(db: Database, workspace_id: uuid.UUID, people: RemotePeople) -> None:
    """Everyone the backend lists is a member here with the backend's role, so the CLI
    and the app refuse here what the server would refuse (a member deleting a colleague's
    deal) instead of queueing a change the server will turn down. Owners first: the
    workspace is never left without one. Members only known here keep their roles."""
    ranked = sorted(people.by_id.values(), key=lambda p: ROLES.index(p[2]))
    with db.write() as session:
        for email, name, role in ranked:
            user_id = ensure_member(session, workspace_id, email, name, role)
            member = session.exec(
                select(WorkspaceMember).where(
                    WorkspaceMember.workspace_id == workspace_id,
                    WorkspaceMember.user_id == user_id,
                )
            ).one()
            if member.role != role:
                member.role = role
                session.flush()


def pull_owners(
    db: Database,
    workspace_id: uuid.UUID,
    remote_deals: Sequence[RemoteDeal],
    people: RemotePeople,
) -> int:
    """Give each linked deal the local member with its remote owner's email; returns how
    many changed. A deal with a change waiting to be pushed keeps its owner here (the push
    sends it)."""
    changed = 0
    with db.write() as session:
        session.info[APPLYING_REMOTE] = True
        links = dict(
            session.exec(
                select(SyncLink.remote_id, SyncLink.deal_id).where(
                    SyncLink.workspace_id == workspace_id
                )
            ).all()
        )
        pending = set(
            session.exec(
                select(SyncOutbox.deal_id).where(SyncOutbox.workspace_id == workspace_id)
            ).all()
        )
        owners = dict(
            session.exec(
                select(Deal.id, Deal.owner_id).where(Deal.workspace_id == workspace_id)
            ).all()
        )
        emails = dict(session.exec(select(User.id, User.email)).all())
        members: dict[str, uuid.UUID] = {}
        now = utcnow()
        for remote in remote_deals:
            deal_id = links.get(remote.id)
            if deal_id is None or deal_id in pending or deal_id not in owners:
                continue
            if remote.owner_id is None:
                continue  # nobody there: keep whoever owns it here
            here = owners[deal_id]
            if here is not None and emails.get(here) not in people.by_email:
                continue  # owned here by someone the backend does not know: could not travel
            person = people.by_id.get(remote.owner_id)
            if person is None:
                continue
            email, name, _ = person
            if email not in members:
                members[email] = ensure_member(session, workspace_id, email, name)
            owner = members[email]
            if owners[deal_id] == owner:
                continue
            # The owner as the backend has it; not a local edit, so no new version.
            session.execute(update(Deal).where(col(Deal.id) == deal_id).values(owner_id=owner))
            session.add(
                DealEvent(
                    deal_id=deal_id,
                    field="owner",
                    old_value=None if owners[deal_id] is None else str(owners[deal_id]),
                    new_value=str(owner),
                    changed_at=now,
                )
            )
            changed += 1
    return changed
