"""Who may see what: workspace membership of the calling user (plain queries, no FastAPI)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from vectoros_tui.store.database import Database
from vectoros_tui.store.tables import Deal, User, Workspace, WorkspaceMember, utcnow
from vectoros_tui.store.views import DealView, deal_view_columns, iso

MANAGERS = ("owner", "admin")


@dataclass(frozen=True)
class Membership:
    workspace_id: uuid.UUID
    name: str
    role: str
    created_at: Any

    def to_api(self, deal_count: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.workspace_id),
            "name": self.name,
            "role": self.role,
            "createdAt": iso(self.created_at),
        }
        if deal_count is not None:
            out["dealCount"] = deal_count
        return out


def role_in(db: Database, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Membership | None:
    """The caller's membership of the workspace, or None (not a member, or no such one)."""
    with db.read() as session:
        row = session.exec(
            select(Workspace.id, Workspace.name, WorkspaceMember.role, Workspace.created_at)
            .join(WorkspaceMember, col(WorkspaceMember.workspace_id) == Workspace.id)
            .where(Workspace.id == workspace_id, WorkspaceMember.user_id == user_id)
        ).first()
    return Membership(*row) if row is not None else None


def deal_and_role(
    db: Database, user_id: uuid.UUID, deal_id: uuid.UUID
) -> tuple[DealView, Membership] | None:
    """A deal and the caller's membership of its workspace in one query, or None (no such
    deal, or not the caller's to see)."""
    table = Deal.__table__  # type: ignore[attr-defined]
    columns = [
        *deal_view_columns(),
        col(Workspace.name).label("_ws_name"),
        col(WorkspaceMember.role).label("_ws_role"),
        col(Workspace.created_at).label("_ws_created_at"),
    ]
    query: Select[*tuple[Any, ...]] = (
        select(*columns)
        .join(Workspace, col(Workspace.id) == table.c.workspace_id)
        .join(WorkspaceMember, col(WorkspaceMember.workspace_id) == table.c.workspace_id)
        .where(table.c.id == deal_id, WorkspaceMember.user_id == user_id)
    )
    with db.read() as session:
        row = session.connection().execute(query).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    membership = Membership(
        fields["workspace_id"],
        fields.pop("_ws_name"),
        fields.pop("_ws_role"),
        fields.pop("_ws_created_at"),
    )
    return DealView(**fields), membership


def memberships(db: Database, user_id: uuid.UUID) -> list[tuple[Membership, int]]:
    """Every workspace the user belongs to, with its deal count, by name."""
    with db.read() as session:
        rows = session.exec(
            select(Workspace.id, Workspace.name, WorkspaceMember.role, Workspace.created_at)
            .join(WorkspaceMember, col(WorkspaceMember.workspace_id) == Workspace.id)
            .where(WorkspaceMember.user_id == user_id)
            .order_by(col(Workspace.name), col(Workspace.created_at), col(Workspace.id))
        ).all()
        ids = [r[0] for r in rows]
        counts: dict[uuid.UUID, int] = {}
        if ids:
            counts = dict(
                session.exec(
                    select(Deal.workspace_id, func.count())
                    .where(col(Deal.workspace_id).in_(ids))
                    .group_by(col(Deal.workspace_id))
                ).all()
            )
    return [(Membership(*r), counts.get(r[0], 0)) for r in rows]


def deal_count(db: Database, workspace_id: uuid.UUID) -> int:
    with db.read() as session:
        return int(
            session.exec(
                select(func.count()).select_from(Deal).where(Deal.workspace_id == workspace_id)
            ).one()
        )


def deal_list_order() -> tuple[Any, ...]:
    """The order of a workspace's deal list: creation, then id (the in-memory pages ask the
    database for it too, never sort themselves)."""
    table = Deal.__table__  # type: ignore[attr-defined]
    return (table.c.created_at, table.c.id)


def deal_list_query(
    workspace_id: uuid.UUID, stage: str | None, outcome: str | None
) -> tuple[Any, Any]:
    """(count, rows) selects of a workspace's deals in creation order (stable while a client
    pages), optionally of one stage and outcome."""
    table = Deal.__table__  # type: ignore[attr-defined]
    conditions = [table.c.workspace_id == workspace_id]
    if stage:
        conditions.append(table.c.stage == stage)
    if outcome:
        conditions.append(table.c.outcome == outcome)
    count = select(func.count()).select_from(table).where(*conditions)
    rows = select(*deal_view_columns()).where(*conditions).order_by(*deal_list_order())
    return count, rows


def deal_page(
    db: Database,
    workspace_id: uuid.UUID,
    stage: str | None,
    outcome: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DealView], int]:
    """One page of a workspace's deals and the total; Core rows, not ORM objects (a third
    of the time for a page of 100)."""
    count, rows = deal_list_query(workspace_id, stage, outcome)
    with db.read() as session:
        connection = session.connection()
        total = connection.execute(count).scalar_one()
        page = connection.execute(rows.limit(limit).offset(offset))
        return [DealView(**row._mapping) for row in page], int(total)


def workspaces_of_deals(db: Database, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """deal id -> workspace id, for those of ``deal_ids`` that exist."""
    if not deal_ids:
        return {}
    with db.read() as session:
        return dict(
            session.exec(select(Deal.id, Deal.workspace_id).where(col(Deal.id).in_(deal_ids))).all()
        )


# --- people: the caller's own record, and the members of a workspace it is in ------------


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """(firstName, lastName) of a stored full name. The store keeps one ``name``, so the
    split is at the first space: "Mary Ann Smith" reads back as "Mary" / "Ann Smith"."""
    parts = (name or "").strip().split(None, 1)
    if not parts:
        return None, None
    return parts[0], parts[1] if len(parts) > 1 else None


def person_json(user_id: uuid.UUID, email: str, name: str | None) -> dict[str, Any]:
    first, last = split_name(name)
    return {
        "id": str(user_id),
        "email": email,
        "name": name,
        "firstName": first,
        "lastName": last,
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        **person_json(user.id, user.email, user.name),
        "createdAt": iso(user.created_at),
        "updatedAt": iso(user.updated_at),
    }


def user_of(db: Database, user_id: uuid.UUID) -> dict[str, Any] | None:
    with db.read() as session:
        user = session.get(User, user_id)
        return user_json(user) if user is not None else None


def rename_user(db: Database, user_id: uuid.UUID, name: str) -> dict[str, Any] | None:
    """Set the user's full name; None when the user is gone (its token was just deleted)."""
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        if user.name != name:
            user.name, user.updated_at = name, utcnow()
            session.flush()
        return user_json(user)


def workspace_people(
    db: Database, workspace_id: uuid.UUID
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The workspace's owner (None if that user is gone) and its members, by email."""
    with db.read() as session:
        owner = session.exec(
            select(User.id, User.email, User.name)
            .join(Workspace, col(Workspace.owner_id) == User.id)
            .where(Workspace.id == workspace_id)
        ).first()
        rows = session.exec(
            # sqlmodel's select() is typed for at most four columns.
            select(  # type: ignore[call-overload]
                User.id, User.email, User.name, WorkspaceMember.role, WorkspaceMember.created_at
            )
            .join(WorkspaceMember, col(WorkspaceMember.user_id) == User.id)
            .where(WorkspaceMember.workspace_id == workspace_id)
            .order_by(col(User.email))
        ).all()
    members = []
    for uid, email, name, role, joined in rows:
        # A membership row is not a user: the user's id is "userId", as in the schema.
        member = person_json(uid, email, name)
        member["userId"] = member.pop("id")
        members.append({**member, "role": role, "joinedAt": iso(joined)})
    return (person_json(*owner) if owner is not None else None), members
