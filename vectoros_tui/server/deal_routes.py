"""The deals of the documented API. Writes may be conditional: a deal's ETag is its
version, and a write with ``If-Match`` goes through only while the deal is at that version
(412 otherwise), so a client can write without reading first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.server import access
from vectoros_tui.server.deal_pages import MAX_LIMIT, MAX_OFFSET, compact_json
from vectoros_tui.server.dependencies import (
    BackendDep,
    CallerDep,
    acting,
    deal_of,
    field_error,
    member_of,
)
from vectoros_tui.server.errors import ApiError, not_found
from vectoros_tui.server.schemas import DealCreate, DealReplace, deal_json
from vectoros_tui.store.errors import ConflictError, NotFoundError
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.views import DealView

deals_api = APIRouter(prefix="/api/v1")

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Write only if the deal is still at this version: its ETag, "<version>".',
    ),
]


def etag_of(view: DealView) -> str:
    """A deal's entity tag: its version, which every change of the deal bumps."""
    return f'"{view.version}"'


def _tagged(view: DealView, status: int = 200) -> Response:
    """The deal as JSON with its ETag. A Response, not a dict: FastAPI validates a returned
    dict against the route's response model in a worker thread of its own, one more hop
    through the thread pool that a write waited for behind every page being served."""
    response = fast_json(deal_json(view), status)
    response.headers["ETag"] = etag_of(view)
    return response


def _expected_version(if_match: str | None, view: DealView) -> int | None:
    """The version an If-Match asks for (None: unconditional); 412 when the deal has
    moved on already. ``*`` matches any existing deal."""
    if if_match is None or not if_match.strip():
        return None
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return None
    if etag_of(view) not in tags:
        raise ApiError(
            412,
            f"the deal is at version {view.version} now, not {if_match}: read it again",
            current=deal_json(view),
        )
    return view.version


@contextmanager
def _written(deal_id: str, expected: int | None) -> Iterator[None]:
    """A deal write: gone meanwhile is 404; changed meanwhile is 412 when the client made
    it conditional (If-Match), else the store's 409."""
    try:
        yield
    except NotFoundError:
        raise not_found(f"no deal {deal_id!r}") from None
    except ConflictError as exc:
        if expected is None:
            raise
        raise ApiError(412, str(exc)) from None


def fast_json(data: Any, status: int = 200) -> Response:
    """Plain JSON (values already str/number/None): skips FastAPI's per-field encoding,
    which costs more than the query for a page of 100 deals."""
    return Response(compact_json(data), status_code=status, media_type="application/json")


@deals_api.get(
    "/workspaces/{workspace_id}/deals", tags=["deals"], summary="A page of a workspace's deals"
)
def list_deals(
    workspace_id: str,
    backend: BackendDep,
    caller: CallerDep,
    stage: Annotated[str | None, Query(description="A stage, or closed_won/closed_lost")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    membership = member_of(backend, caller, workspace_id)
    stage_name = outcome = None
    if stage is not None and stage.strip():
        try:
            stage_name, outcome = normalise_stage(stage)
        except UnknownStageError as exc:
            raise field_error("stage", str(exc)) from None
    deals, total = access.deal_page(
        backend.store().db, membership.workspace_id, stage_name, outcome, limit, offset
    )
    return fast_json({"deals": [deal_json(d) for d in deals], "total": total})


@deals_api.post(
    "/deals",
    status_code=201,
    response_model=dict[str, Any],
    tags=["deals"],
    summary="Create a deal",
)
def create_deal(body: DealCreate, backend: BackendDep, caller: CallerDep) -> Response:
    membership = member_of(backend, caller, body.workspaceId)
    deal_id = None
    if body.id is not None:
        deal_id = parse_uuid(body.id)
        if deal_id is None:
            raise field_error("id", f"must be a UUID (got {body.id!r})")
    owner = _owner(body.ownerId) if body.ownerId is not None else caller.user_id
    view = acting(backend, caller).deals.create(
        membership.workspace_id, body.local(), deal_id=deal_id, owner_id=owner
    )
    return _tagged(view, 201)


def _owner(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    found = parse_uuid(text)
    if found is None:
        raise field_error("ownerId", f"must be a user id (a UUID), got {text!r}")
    return found


@deals_api.get(
    "/deals/{deal_id}",
    response_model=dict[str, Any],
    tags=["deals"],
    summary="One deal (ETag: its version)",
)
def get_deal(deal_id: str, backend: BackendDep, caller: CallerDep) -> Response:
    view, _ = deal_of(backend, caller, deal_id)
    return _tagged(view)


@deals_api.put(
    "/deals/{deal_id}",
    response_model=dict[str, Any],
    tags=["deals"],
    summary="Update a deal; with If-Match, only if unchanged (412)",
    description="A partial update, as documented: only the fields sent change (a field sent "
    "as null is cleared), so sending the whole record replaces it.",
)
def replace_deal(
    deal_id: str,
    body: DealReplace,
    backend: BackendDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> Response:
    view, _ = deal_of(backend, caller, deal_id)
    if body.id is not None and parse_uuid(body.id) != view.id:
        raise field_error("id", "does not match the deal in the URL")
    if body.workspaceId is not None and parse_uuid(body.workspaceId) != view.workspace_id:
        raise field_error("workspaceId", "a deal cannot move to another workspace")
    expected = _expected_version(if_match, view)
    changes = body.changes()
    if "ownerId" in body.model_fields_set:
        changes["owner_id"] = _owner(body.ownerId)
    with _written(deal_id, expected):
        updated = acting(backend, caller).deals.update(
            view.id, changes, expected_version=expected or body.version
        )
    return _tagged(updated)


@deals_api.delete(
    "/deals/{deal_id}",
    status_code=204,
    tags=["deals"],
    summary="Delete a deal; with If-Match, only if unchanged (412)",
)
def delete_deal(
    deal_id: str, backend: BackendDep, caller: CallerDep, if_match: IfMatch = None
) -> Response:
    view, _ = deal_of(backend, caller, deal_id)
    expected = _expected_version(if_match, view)
    with _written(deal_id, expected):
        acting(backend, caller).deals.delete(view.id, expected_version=expected)
    return Response(status_code=204)
