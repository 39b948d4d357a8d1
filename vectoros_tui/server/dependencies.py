"""What every route of `vectoros serve` depends on: the backend (store, tokens, similar
deals; see :mod:`.backend`), the authenticated caller, and the lookups that enforce
workspace isolation.

Kept apart from :mod:`.app` so the route modules can share them without importing the
app that includes those modules.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vectoros_tui.server import access
from vectoros_tui.server.access import Membership
from vectoros_tui.server.backend import Backend
from vectoros_tui.server.deal_pages import DealPages, InThread
from vectoros_tui.server.errors import ApiError, not_found
from vectoros_tui.server.tokens import Caller
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.roles import Actor
from vectoros_tui.store.store import Store
from vectoros_tui.store.validation import FieldError, ValidationError
from vectoros_tui.store.views import DealView

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="A token from `vectoros serve token create --user EMAIL`.",
)


async def backend_of(request: Request) -> Backend:
    # async: a plain def dependency runs in the thread pool, a hop that every request
    # waited for behind the event loop's other work, for an attribute read.
    return request.app.state.backend


BackendDep = Annotated[Backend, Depends(backend_of)]


async def current_caller(
    request: Request,
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "send a bearer token: Authorization: Bearer <token>")
    # Read in the event loop where it can be: a trip through the thread pool for it waited
    # behind every deal page being served. A token due for its last-used stamp, and any
    # trouble, take the thread and TokenService as before.
    pages: DealPages | None = getattr(request.app.state, "deal_pages", None)
    try:
        if pages is None:
            raise InThread
        found = await pages.caller(credentials.credentials)
    except InThread:
        found = await run_in_threadpool(backend.tokens().authenticate, credentials.credentials)
    if found is None:
        raise ApiError(401, "the token is invalid or has been revoked")
    return found


CallerDep = Annotated[Caller, Depends(current_caller)]


def parse_id(value: str, what: str) -> uuid.UUID:
    """An id from a path or body; one that is not a UUID names nothing, hence 404."""
    parsed = parse_uuid(value)
    if parsed is None:
        raise not_found(f"no {what} {value!r}")
    return parsed


def member_of(backend: Backend, caller: Caller, workspace_id: str) -> Membership:
    """The caller's membership, or 404: a workspace one is not in does not exist for one."""
    wanted = parse_id(workspace_id, "workspace")
    membership = access.role_in(backend.store().db, caller.user_id, wanted)
    if membership is None:
        raise not_found(f"no workspace {workspace_id!r}")
    return membership


def deal_of(backend: Backend, caller: Caller, deal_id: str) -> tuple[DealView, Membership]:
    """A deal and the caller's membership of its workspace, or 404 (no such deal, or one
    in a workspace the caller is not in: the two must look alike)."""
    found = access.deal_and_role(backend.store().db, caller.user_id, parse_id(deal_id, "deal"))
    if found is None:
        raise not_found(f"no deal {deal_id!r}")
    return found


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


def acting(backend: Backend, caller: Caller) -> Store:
    """The store, its changes checked against the caller's role (as the CLI and the app
    are against the local user's)."""
    return backend.store().acting_as(Actor(email=caller.email, user_id=caller.user_id))
