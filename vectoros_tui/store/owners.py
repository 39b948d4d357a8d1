"""Deal owners: the members of a workspace, found by name, email or "me".

An owner is always a member of the deal's workspace (the seed's users and
workspace_members). A member who does not exist yet is made by :func:`ensure_member`,
inside the caller's transaction, so an import that names new reps creates them with its
deals or not at all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.roles import Actor, admit
from vectoros_tui.store.tables import User, Workspace, WorkspaceMember
from vectoros_tui.store.validation import FieldError, ValidationError
from vectoros_tui.store.workspaces import clean_email

# Names without an address (an export's "Sales Agent: Darcel Schlecht") get one under a
# domain that can never be real (RFC 2606), so they stay apart from real addresses.
IMPORTED_DOMAIN = "imported.invalid"
EVERYONE = ("all", "everyone", "*")


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    email: str
    name: str | None
    role: str

    @property
    def label(self) -> str:
        return self.name or self.email

    def to_api(self) -> dict[str, Any]:
        return {"userId": str(self.id), "email": self.email, "name": self.name, "role": self.role}


def address_for(name_or_email: str) -> tuple[str, str | None]:
    """(email, name) for an owner as a file or a user writes it: an address as it is, a
    name under :data:`IMPORTED_DOMAIN` (accents folded: "Zoë Ünal" is zoe.unal; a name
    whose letters do not fold to a-z keeps a digest of itself, so two such names never
    share an address)."""
    text = " ".join(name_or_email.split())
    if "@" in text:
        return clean_email(text, "owner"), None
    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", ".", folded).strip(".")
    lost = sum(ch.isalnum() for ch in text) > sum(ch.isalnum() for ch in folded)
    if not any(ch.isalnum() for ch in text):
        raise ValidationError([FieldError("owner", f"{text!r} is not a name or an email")])
    if lost or not slug:
        digest = hashlib.sha1(text.casefold().encode("utf-8")).hexdigest()[:10]
        slug = f"{slug[:180]}.{digest}".strip(".")
    return clean_email(f"{slug[:200]}@{IMPORTED_DOMAIN}", "owner"), text[:200]


def check_member(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Refuse an owner who is not a member of the workspace."""
    found = session.exec(
        select(WorkspaceMember.id).where(
            WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id
        )
    ).first()
    if found is None:
        raise ValidationError(
            [FieldError("owner", f"user {user_id} is not a member of this workspace")]
        )


class OwnerService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def members(self, workspace_id: uuid.UUID) -> list[Member]:
        with self.db.read() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            rows = session.exec(
                select(User.id, User.email, User.name, WorkspaceMember.role)
                .join(WorkspaceMember, col(WorkspaceMember.user_id) == User.id)
                .where(WorkspaceMember.workspace_id == workspace_id)
                .order_by(col(User.name), col(User.email))
            ).all()
        return [Member(i, e, n, r) for i, e, n, r in rows]

    def resolve(self, workspace_id: uuid.UUID, ref: str, me: str | None) -> Member | None:
        """The member ``ref`` names (an email, a name, ``me``), or None for ``all``.

        Raises :class:`ValidationError` (field ``owner``) naming the members when ``ref``
        matches none, or several."""
        text = " ".join((ref or "").split())
        if not text:
            raise ValidationError([FieldError("owner", "give a name, an email, me or all")])
        if text.casefold() in EVERYONE:
            return None
        members = self.members(workspace_id)
        if text.casefold() == "me":
            if me is None:
                raise ValidationError([FieldError("owner", "who you are is not known")])
            found = [m for m in members if m.email == me.casefold()]
            if not found:
                raise ValidationError(
                    [
                        FieldError(
                            "owner",
                            f"you ({me}) are not a member of this workspace; members: "
                            f"{_names(members)}",
                        )
                    ]
                )
            return found[0]
        wanted = text.casefold()
        found = [m for m in members if m.email == wanted] or [
            m for m in members if (m.name or "").casefold() == wanted
        ]
        if not found:
            found = [m for m in members if wanted and wanted in m.label.casefold()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValidationError(
                [FieldError("owner", f"no member named {text!r}; members: {_names(members)}")]
            )
        raise ValidationError(
            [FieldError("owner", f"{text!r} names several members: {_names(found)}; use an email")]
        )

    def memberships(self, email: str) -> list[tuple[str, str]]:
        """(workspace name, role) of each workspace ``email`` is a member of."""
        with self.db.read() as session:
            rows = session.exec(
                select(Workspace.name, WorkspaceMember.role)
                .join(WorkspaceMember, col(WorkspaceMember.workspace_id) == Workspace.id)
                .join(User, col(User.id) == WorkspaceMember.user_id)
                .where(User.email == email.casefold())
                .order_by(col(Workspace.name))
            ).all()
        return [(name, role) for name, role in rows]

    def join(self, workspace_id: uuid.UUID, email: str, name: str | None = None) -> uuid.UUID:
        """The user id of ``email`` in the workspace: a member's, or that of a local user
        claiming a workspace nobody owns yet (:func:`vectoros_tui.store.roles.admit`;
        anyone else is refused, naming who can add them)."""
        address = clean_email(email, "owner")
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            return admit(session, workspace_id, Actor(email=address, name=name)).user_id


def _names(members: list[Member]) -> str:
    if not members:
        return "none yet"
    shown = [f"{m.label} <{m.email}>" if m.name else m.email for m in members[:12]]
    more = f" and {len(members) - 12} more" if len(members) > 12 else ""
    return ", ".join(shown) + more
