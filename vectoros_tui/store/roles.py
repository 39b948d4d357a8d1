"""Who may change what in a workspace: the seed's roles owner, admin and member.

- owners and admins manage members, rename the workspace, and create, edit or delete any
  deal; only an owner makes or unmakes an owner or deletes the workspace;
- a member creates deals (their own), and edits or deletes the deals they own (a deal's
  activities go with the deal);
- a workspace always keeps an owner: its last one can be neither removed nor demoted.

The services check these inside their write transaction, for an :class:`Actor` given by
whoever calls them (the CLI and the app: the local identity; the server: the token's user),
so every front end gets the same answer. No actor is the store acting for itself (sync
applying the team's changes, the demo generator, tests' setup).

On a local database "me" is the configured or OS user, and anyone who can write the file
can claim any address: there roles keep honest reps from changing each other's deals by
mistake; the team server, where the token says who you are, is what enforces them. A
workspace nobody owns yet (one made before owners existed, or by an import that only named
reps) is claimed by the first local user to change it, who becomes its owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from vectoros_tui.store.bulk import any_of, insert_rows, update_rows
from vectoros_tui.store.errors import ForbiddenError, LastOwnerError
from vectoros_tui.store.tables import User, WorkspaceMember, utcnow

ROLES = ("owner", "admin", "member")
MANAGERS = ("owner", "admin")


@dataclass(frozen=True)
class Actor:
    """Who asks: a user by id (the server's caller), or by email (the local identity)."""

    email: str | None = None
    user_id: uuid.UUID | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.email or str(self.user_id)


@dataclass(frozen=True)
class Admitted:
    user_id: uuid.UUID
    role: str

    @property
    def manages(self) -> bool:
        return self.role in MANAGERS


def ensure_member(
    session: Session,
    workspace_id: uuid.UUID,
    email: str,
    name: str | None = None,
    role: str = "member",
) -> uuid.UUID:
    """The user of ``email`` (made if new), a member of the workspace (joined with
    ``role`` if not yet one; an existing member keeps their role)."""
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, name=name)
        session.add(user)
        session.flush()
    elif name and not user.name:
        user.name = name
    member = session.exec(
        select(WorkspaceMember).where(
            WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user.id
        )
    ).first()
    if member is None:
        session.add(WorkspaceMember(workspace_id=workspace_id, user_id=user.id, role=role))
        session.flush()
    return user.id


def ensure_members(
    session: Session,
    workspace_id: uuid.UUID,
    people: Mapping[str, str | None],
    role: str = "member",
) -> dict[str, uuid.UUID]:
    """:func:`ensure_member` for many people (``{email: name}``) in five statements however
    many they are (an import names every rep of a team): their user ids by email."""
    if not people:
        return {}
    users = User.__table__  # type: ignore[attr-defined]
    members = WorkspaceMember.__table__  # type: ignore[attr-defined]
    known = {
        email: (user_id, name)
        for user_id, email, name in session.execute(
            select(users.c.id, users.c.email, users.c.name).where(
                any_of(session, users.c.email, list(people))
            )
        ).all()
    }
    now = utcnow()
    new = [
        {"id": uuid.uuid4(), "email": email, "name": name, "created_at": now, "updated_at": now}
        for email, name in people.items()
        if email not in known
    ]
    insert_rows(session, users, new)
    named = [
        {"id": known[email][0], "name": name}
        for email, name in people.items()
        if email in known and name and not known[email][1]
    ]
    update_rows(session, users, named, match={"id": "id"})
    ids = {email: user_id for email, (user_id, _) in known.items()}
    ids.update((row["email"], row["id"]) for row in new)
    joined = set(
        session.execute(
            select(members.c.user_id).where(
                members.c.workspace_id == workspace_id,
                any_of(session, members.c.user_id, list(ids.values())),
            )
        ).scalars()
    )
    insert_rows(
        session,
        members,
        [
            {
                "id": uuid.uuid4(),
                "workspace_id": workspace_id,
                "user_id": user_id,
                "role": role,
                "created_at": now,
            }
            for user_id in ids.values()
            if user_id not in joined
        ],
    )
    return ids


def _people(session: Session, workspace_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
    """(user id, email, role) of every member."""
    rows = session.exec(
        select(User.id, User.email, WorkspaceMember.role)
        .join(WorkspaceMember, col(WorkspaceMember.user_id) == User.id)
        .where(WorkspaceMember.workspace_id == workspace_id)
        .order_by(col(User.email))
    ).all()
    return [(i, e, r) for i, e, r in rows]


def _names(people: list[tuple[uuid.UUID, str, str]], roles: tuple[str, ...]) -> str:
    found = [email for _, email, role in people if role in roles]
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return shown or "nobody"


def admit(session: Session, workspace_id: uuid.UUID, actor: Actor) -> Admitted:
    """The actor's membership, or :class:`ForbiddenError` naming who can add them. A local
    user acting in a workspace that has no owner claims it (see the module's docstring)."""
    people = _people(session, workspace_id)
    for user_id, email, role in people:
        if user_id == actor.user_id or (actor.email and email == actor.email.casefold()):
            return Admitted(user_id, role)
    if actor.user_id is None and actor.email and not any(r == "owner" for _, _, r in people):
        user_id = ensure_member(session, workspace_id, actor.email.casefold(), actor.name)
        member = session.exec(
            select(WorkspaceMember).where(
                WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id
            )
        ).one()
        member.role = "owner"
        session.flush()
        return Admitted(user_id, "owner")
    raise ForbiddenError(
        f"you ({actor.label}) are not a member of this workspace; its owners and admins "
        f"({_names(people, MANAGERS)}) can add you (`vectoros workspace add-member`)"
    )


def require_manager(
    session: Session, workspace_id: uuid.UUID, actor: Actor, doing: str, *, owner: bool = False
) -> Admitted:
    """Refuse, naming who may, unless the actor is an owner (or, without ``owner``, an
    admin)."""
    admitted = admit(session, workspace_id, actor)
    allowed = ("owner",) if owner else MANAGERS
    if admitted.role not in allowed:
        who = "owners" if owner else "owners and admins"
        people = _people(session, workspace_id)
        raise ForbiddenError(
            f"only the workspace's {who} ({_names(people, allowed)}) may {doing}; "
            f"you ({actor.label}) are {with_article(admitted.role)}"
        )
    return admitted


def require_deal_access(
    session: Session,
    workspace_id: uuid.UUID,
    actor: Actor,
    deal_owner: uuid.UUID | None,
    doing: str,
) -> Admitted:
    """A member may change only the deals they own; owners and admins any."""
    admitted = admit(session, workspace_id, actor)
    if admitted.manages or (deal_owner is not None and deal_owner == admitted.user_id):
        return admitted
    people = _people(session, workspace_id)
    owner_email = next((e for i, e, _ in people if i == deal_owner), None)
    whose = f"its owner ({owner_email})" if owner_email else "its owner (it has none)"
    raise ForbiddenError(
        f"only {whose} or the workspace's owners and admins ({_names(people, MANAGERS)}) "
        f"may {doing}; you ({actor.label}) are a member"
    )


def require_owner_kept(
    session: Session, workspace_id: uuid.UUID, leaving: uuid.UUID, email: str
) -> None:
    """Refuse to remove or demote ``leaving`` when they are the workspace's last owner."""
    owners = [i for i, _, role in _people(session, workspace_id) if role == "owner"]
    if owners == [leaving]:
        raise LastOwnerError(
            f"{email} is the last owner of this workspace; make someone else an owner first"
        )


def with_article(role: str) -> str:
    """``an owner``, ``an admin``, ``a member``."""
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"
