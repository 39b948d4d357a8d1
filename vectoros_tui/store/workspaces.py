"""Workspaces, users and membership; and the workspace a rep last chose."""

from __future__ import annotations

# For annotations in WorkspaceService, whose `list` method shadows the builtin there.
import builtins
import logging
import uuid
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import AmbiguousError, NotFoundError
from vectoros_tui.store.quick_start import matching_workspaces
from vectoros_tui.store.roles import ROLES, Actor, require_manager, require_owner_kept
from vectoros_tui.store.tables import Deal, User, Workspace, WorkspaceMember, utcnow
from vectoros_tui.store.validation import (
    EMAIL_PATTERN,
    MAX_EMAIL,
    FieldError,
    ValidationError,
    clean_text,
)
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.text_safety import visible

MAX_WORKSPACE_NAME = 200
NO_WORKSPACE_YET = (
    "there is no workspace yet: import your deals with `vectoros import FILE.csv`, get the "
    "team's with `vectoros sync --link URL`, or start an empty one with "
    "`vectoros workspace create NAME`"
)

log = logging.getLogger(__name__)


def clean_workspace_name(name: str) -> str:
    """A workspace name as stored, or ValidationError (field ``name``)."""
    try:
        text = clean_text(name, MAX_WORKSPACE_NAME)
    except ValueError as exc:
        raise ValidationError([FieldError("name", str(exc))]) from None
    if text is None:
        raise ValidationError([FieldError("name", "must not be empty")])
    return text


def clean_email(email: str, field: str = "email") -> str:
    """A user's address, lower-cased: at most 320 characters, one @, a dot in the domain."""
    try:
        address = (clean_text(email, MAX_EMAIL) or "").lower()
    except ValueError as exc:
        raise ValidationError([FieldError(field, str(exc))]) from None
    if not EMAIL_PATTERN.match(address):
        shown = visible(str(email or ""))
        raise ValidationError([FieldError(field, f"{shown!r} is not a valid email address")])
    return address


def _refuse_taken(session: Session, name: str, renamed: uuid.UUID | None = None) -> None:
    """ValidationError (field ``name``) when another workspace than ``renamed`` has
    ``name``, in any case: a name is how the CLI's ``-w`` and the switcher find one."""
    wanted = name.casefold()
    for workspace_id, other in session.exec(select(Workspace.id, Workspace.name)).all():
        if other.casefold() == wanted and workspace_id != renamed:
            shown = visible(other)
            raise ValidationError(
                [FieldError("name", f"a workspace named {shown!r} exists already; choose another")]
            )


class WorkspaceService:
    def __init__(self, db: Database, actor: Actor | None = None) -> None:
        self.db = db
        self.actor = actor  # whose role changes are checked against (None: unchecked)

    def create(
        self, name: str, *, owner_email: str | None = None, unique: bool = True
    ) -> WorkspaceView:
        """A new workspace. ``unique``: refuse a name another workspace has, in any case
        (the CLI's ``-w NAME`` could no longer tell them apart); a team server, whose
        workspaces are many teams', names them as each team likes."""
        clean = clean_workspace_name(name)
        owner_name = None
        if not owner_email and self.actor is not None and self.actor.email:
            # Whoever creates a workspace owns it (unless they name someone else).
            owner_email, owner_name = self.actor.email, self.actor.name
        with self.db.write() as session:
            if unique:
                _refuse_taken(session, clean)
            workspace = Workspace(name=clean)
            session.add(workspace)
            if owner_email:
                user = self._user(session, owner_email, owner_name)
                workspace.owner_id = user.id
                session.flush()
                session.add(
                    WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role="owner")
                )
            session.flush()
            return WorkspaceView.from_row(workspace)

    def list(self) -> list[WorkspaceView]:
        with self.db.read() as session:
            counts = dict(
                session.exec(
                    select(Deal.workspace_id, func.count()).group_by(col(Deal.workspace_id))
                ).all()
            )
            rows = session.exec(
                select(Workspace).order_by(col(Workspace.name), col(Workspace.created_at))
            ).all()
            return [WorkspaceView.from_row(w, counts.get(w.id, 0)) for w in rows]

    def resolve(self, ref: str | None) -> WorkspaceView:
        """Find a workspace by id or name (case-insensitive); None means "the only one"."""
        workspaces = self.list()
        if ref is None or not str(ref).strip():
            if len(workspaces) == 1:
                return workspaces[0]
            if not workspaces:
                raise NotFoundError(NO_WORKSPACE_YET)
            names = ", ".join(w.name for w in workspaces)
            raise AmbiguousError(
                f"there are several workspaces ({names}); pass --workspace NAME once (it is "
                "remembered for the next commands) or run `vectoros workspace use NAME`"
            )
        match = matching_workspaces(workspaces, ref)
        if not match:
            names = ", ".join(w.name for w in workspaces) or "none"
            raise NotFoundError(f"no workspace named {ref!r} (workspaces: {names})")
        if len(match) > 1:
            ids = ", ".join(str(w.id) for w in match)
            raise AmbiguousError(f"several workspaces are named {ref!r}; use an id: {ids}")
        return match[0]

    def rename(self, workspace_id: uuid.UUID, name: str) -> WorkspaceView:
        clean = clean_workspace_name(name)
        with self.db.write() as session:
            row = session.get(Workspace, workspace_id)
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            if self.actor is not None:
                require_manager(session, workspace_id, self.actor, "rename the workspace")
            _refuse_taken(session, clean, workspace_id)
            row.name, row.updated_at = clean, utcnow()
            session.flush()
            return WorkspaceView.from_row(row)

    def delete(self, workspace_id: uuid.UUID) -> None:
        with self.db.write() as session:
            row = session.get(Workspace, workspace_id)
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            if self.actor is not None:
                require_manager(
                    session, workspace_id, self.actor, "delete the workspace", owner=True
                )
            session.delete(row)

    # --- members -------------------------------------------------------------------

    @staticmethod
    def _user(session: Session, email: str, name: str | None = None) -> User:
        address = clean_email(email)
        user = session.exec(select(User).where(User.email == address)).first()
        if user is None:
            user = User(email=address, name=name)
            session.add(user)
            session.flush()
        return user

    def add_member(self, workspace_id: uuid.UUID, email: str, role: str = "member") -> dict:
        role = (role or "").strip().lower()
        if role not in ROLES:
            raise ValidationError([FieldError("role", f"must be one of {', '.join(ROLES)}")])
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            user = self._user(session, email)
            member = session.exec(
                select(WorkspaceMember).where(
                    WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user.id
                )
            ).first()
            was = member.role if member is not None else None
            if self.actor is not None:
                require_manager(session, workspace_id, self.actor, "manage members")
                if "owner" in (role, was) and role != was:
                    require_manager(
                        session,
                        workspace_id,
                        self.actor,
                        "make someone an owner" if role == "owner" else "change an owner's role",
                        owner=True,
                    )
            if was == "owner" and role != "owner":
                require_owner_kept(session, workspace_id, user.id, user.email)
            if member is None:
                member = WorkspaceMember(workspace_id=workspace_id, user_id=user.id, role=role)
                session.add(member)
            else:
                member.role = role
            session.flush()
            return {"email": user.email, "role": member.role, "userId": str(user.id)}

    def remove_member(self, workspace_id: uuid.UUID, email: str) -> None:
        with self.db.write() as session:
            row = session.exec(
                select(WorkspaceMember)
                .join(User, col(User.id) == WorkspaceMember.user_id)
                .where(
                    WorkspaceMember.workspace_id == workspace_id,
                    User.email == email.strip().lower(),
                )
            ).first()
            if row is None:
                raise NotFoundError(f"{email} is not a member of this workspace")
            if self.actor is not None:
                require_manager(session, workspace_id, self.actor, "manage members")
                if row.role == "owner":
                    require_manager(
                        session, workspace_id, self.actor, "remove an owner", owner=True
                    )
            if row.role == "owner":
                require_owner_kept(session, workspace_id, row.user_id, email.strip().lower())
            # Their deals are nobody's now: an owner is always a member.
            session.execute(
                update(Deal)
                .where(col(Deal.workspace_id) == workspace_id, col(Deal.owner_id) == row.user_id)
                .values(owner_id=None)
            )
            session.delete(row)

    def members(self, workspace_id: uuid.UUID) -> builtins.list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.exec(
                select(User.email, User.name, WorkspaceMember.role)
                .join(WorkspaceMember, col(WorkspaceMember.user_id) == User.id)
                .where(WorkspaceMember.workspace_id == workspace_id)
                .order_by(col(User.email))
            ).all()
            return [{"email": e, "name": n, "role": r} for e, n, r in rows]
