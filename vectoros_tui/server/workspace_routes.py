"""The workspaces of the documented API and their members: a caller only ever sees the
workspaces it is a member of (others answer 404 as if they did not exist), and only owners
and admins manage members.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from vectoros_tui.server import access
from vectoros_tui.server.access import Membership
from vectoros_tui.server.deal_pages import MAX_LIMIT
from vectoros_tui.server.dependencies import BackendDep, CallerDep, acting, member_of
from vectoros_tui.server.errors import ApiError
from vectoros_tui.server.schemas import MemberAdd, WorkspaceCreate, deal_json
from vectoros_tui.store.ids import parse_uuid

workspaces_api = APIRouter(prefix="/api/v1")


@workspaces_api.get(
    "/workspaces", tags=["workspaces"], summary="Workspaces the caller is a member of"
)
def list_workspaces(backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    rows = access.memberships(backend.store().db, caller.user_id)
    return {"workspaces": [m.to_api(count) for m, count in rows]}


@workspaces_api.post(
    "/workspaces",
    status_code=201,
    tags=["workspaces"],
    summary="Create a workspace; the caller is its owner",
    description="`ownerId` is optional; if given it must be the caller's own user id (403 "
    "otherwise): nobody creates workspaces on someone else's behalf.",
)
def create_workspace(
    body: WorkspaceCreate, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    if body.ownerId is not None and parse_uuid(body.ownerId) != caller.user_id:
        raise ApiError(403, "ownerId: a workspace is owned by the caller who creates it")
    # Many teams' workspaces: two may share a name (each team sees its own).
    created = backend.store().workspaces.create(body.name, owner_email=caller.email, unique=False)
    made = Membership(created.id, created.name, "owner", created.created_at).to_api(0)
    return {**made, "ownerId": str(caller.user_id)}


@workspaces_api.get(
    "/workspaces/{workspace_id}",
    tags=["workspaces"],
    summary="One workspace with its owner, members and first deals",
    description="`deals` holds the first `deals_limit` deals in creation order; `dealCount` "
    "is the total (page through `/workspaces/{id}/deals` for the rest).",
)
def get_workspace(
    workspace_id: str,
    backend: BackendDep,
    caller: CallerDep,
    deals_limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    db = backend.store().db
    owner, members = access.workspace_people(db, membership.workspace_id)
    deals, total = access.deal_page(db, membership.workspace_id, None, None, deals_limit, 0)
    return {
        **membership.to_api(total),
        "ownerId": owner["id"] if owner else None,
        "owner": owner,
        "members": members,
        "deals": [deal_json(d) for d in deals],
    }


@workspaces_api.get("/workspaces/{workspace_id}/members", tags=["workspaces"], summary="Members")
def list_members(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    return {"members": backend.store().workspaces.members(membership.workspace_id)}


@workspaces_api.post(
    "/workspaces/{workspace_id}/members",
    status_code=201,
    tags=["workspaces"],
    summary="Add a member or change a role (owner/admin only)",
)
def add_member(
    workspace_id: str, body: MemberAdd, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    # Who may add whom, and keeping an owner, are the store's rules (the CLI's too).
    return acting(backend, caller).workspaces.add_member(
        membership.workspace_id, body.email, body.role
    )


@workspaces_api.delete(
    "/workspaces/{workspace_id}/members/{email}",
    status_code=204,
    tags=["workspaces"],
    summary="Remove a member (owner/admin only)",
)
def remove_member(
    workspace_id: str, email: str, backend: BackendDep, caller: CallerDep
) -> Response:
    membership = member_of(backend, caller, workspace_id)
    acting(backend, caller).workspaces.remove_member(membership.workspace_id, email)
    return Response(status_code=204)
