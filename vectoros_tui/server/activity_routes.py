"""A deal's activities: an extension of the documented API, whose schema has activities
(emails, calls, meetings, notes) but no routes for them.

An activity belongs to its deal: a caller sees the activities of the deals it can see (404
otherwise, as for the deal), and changes them as it may change the deal (a member only on
the deals they own; 403 naming who may).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from vectoros_tui.server import access
from vectoros_tui.server.backend import Backend
from vectoros_tui.server.deal_pages import MAX_LIMIT, MAX_OFFSET
from vectoros_tui.server.dependencies import (
    BackendDep,
    CallerDep,
    acting,
    deal_of,
    field_error,
    member_of,
    parse_id,
)
from vectoros_tui.server.errors import not_found
from vectoros_tui.server.schemas import ActivityCreate, ActivityFields
from vectoros_tui.server.tokens import Caller
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.tables import Activity
from vectoros_tui.store.views import ActivityView, DealView

activities_api = APIRouter(prefix="/api/v1")


def _activity_of(backend: Backend, caller: Caller, activity_id: str) -> ActivityView:
    """The activity, or 404 when there is none or its deal is in a workspace the caller is
    not in: the two must look alike."""
    wanted = parse_id(activity_id, "activity")
    with backend.store().db.read() as session:
        row = session.get(Activity, wanted)
        view = None if row is None else ActivityView.from_row(row)
    if (
        view is None
        or access.deal_and_role(backend.store().db, caller.user_id, view.deal_id) is None
    ):
        raise not_found(f"no activity {activity_id!r}")
    return view


def _of_this_deal(body: ActivityFields, deal: DealView) -> None:
    if body.dealId is not None and parse_uuid(body.dealId) != deal.id:
        raise field_error("dealId", "does not match the deal in the URL")


@activities_api.get(
    "/workspaces/{workspace_id}/activities",
    tags=["activities"],
    summary="A page of the activities of a workspace's deals, in the order they were added",
    description="Each names its deal (`dealId`); planned ones (`done: false`) included. What "
    "the sync client reads to bring a workspace's timelines up to date in a few requests.",
)
def list_workspace_activities(
    workspace_id: str,
    backend: BackendDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    found, total = backend.store().activities.of_workspace(membership.workspace_id, limit, offset)
    return {"activities": [a.to_api() for a in found], "total": total}


@activities_api.get(
    "/deals/{deal_id}/activities",
    tags=["activities"],
    summary="A deal's activities, newest first",
    description="Planned ones (`done: false`, `date` is when they are due) included.",
)
def list_activities(deal_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    deal, _ = deal_of(backend, caller, deal_id)
    found = backend.store().activities.list(deal.id)
    return {"activities": [a.to_api() for a in found], "total": len(found)}


@activities_api.post(
    "/deals/{deal_id}/activities",
    status_code=201,
    tags=["activities"],
    summary="Log an activity on a deal, or plan one (done: false)",
)
def add_activity(
    deal_id: str, body: ActivityCreate, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    deal, _ = deal_of(backend, caller, deal_id)
    _of_this_deal(body, deal)
    client_id = parse_uuid(body.id) if body.id is not None else None
    added = acting(backend, caller).activities.add(deal.id, body.changes(), activity_id=client_id)
    return added.to_api()


@activities_api.put(
    "/activities/{activity_id}",
    tags=["activities"],
    summary="Update an activity",
    description="A partial update, as for deals: only the fields sent change.",
)
def update_activity(
    activity_id: str, body: ActivityFields, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    current = _activity_of(backend, caller, activity_id)
    if body.dealId is not None and parse_uuid(body.dealId) != current.deal_id:
        raise field_error("dealId", "an activity cannot move to another deal")
    updated = acting(backend, caller).activities.update(current.id, body.changes())
    return updated.to_api()


@activities_api.post(
    "/activities/{activity_id}/done",
    tags=["activities"],
    summary="Mark a planned activity done (dated now); one done already is left as it is",
)
def mark_activity_done(activity_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    current = _activity_of(backend, caller, activity_id)
    return acting(backend, caller).activities.mark_done(current.id).to_api()


@activities_api.delete(
    "/activities/{activity_id}", status_code=204, tags=["activities"], summary="Delete an activity"
)
def delete_activity(activity_id: str, backend: BackendDep, caller: CallerDep) -> Response:
    current = _activity_of(backend, caller, activity_id)
    acting(backend, caller).activities.delete(current.id)
    return Response(status_code=204)
