"""The users of the documented API: ``POST /api/v1/users`` and ``GET /api/v1/users/:userId``
(plus ``/users/me``).

Here a user exists once a token is issued for them (`vectoros serve token create --user
EMAIL`) or they are added to a workspace; the bearer token is the identity. So a caller
reads and registers only their own record: another user's id answers 404, whether or not
it exists, and nobody learns who else has an account.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vectoros_tui.server import access
from vectoros_tui.server.backend import Backend
from vectoros_tui.server.dependencies import BackendDep, CallerDep, field_error
from vectoros_tui.server.errors import ApiError, not_found
from vectoros_tui.server.schemas import UserCreate
from vectoros_tui.server.tokens import Caller
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.validation import MAX_TEXT, clean_text
from vectoros_tui.store.workspaces import clean_email

users = APIRouter(prefix="/api/v1", tags=["users"])


def _with_workspaces(backend: Backend, caller: Caller) -> dict[str, Any]:
    db = backend.store().db
    record = access.user_of(db, caller.user_id)
    if record is None:  # the user was deleted after the token was checked
        raise not_found(f"no user {str(caller.user_id)!r}")
    memberships = access.memberships(db, caller.user_id)
    return {**record, "workspaces": [m.to_api(count) for m, count in memberships]}


def _clean_part(field: str, value: str | None) -> str | None:
    try:
        return clean_text(value, MAX_TEXT)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None


# Registered before /users/{user_id}, which would otherwise take "me" for an id.
@users.get("/users/me", summary="The calling user, with their workspaces")
def users_me(backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    return _with_workspaces(backend, caller)


@users.post(
    "/users",
    status_code=201,
    summary="Register the calling user (their own email only)",
    description="The documented sign-up call, for the caller themselves: `email` must be the "
    "address the bearer token was issued to (403 otherwise; tokens are issued with `vectoros "
    "serve token create --user EMAIL`, which is how users are created). `firstName` and "
    "`lastName`, when sent, set the stored name. Calling it again is harmless and answers "
    "201 with the same record. `clerkId` is echoed, not stored.",
    responses={403: {"description": "`email` is not the caller's."}},
)
def create_user(body: UserCreate, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    email = clean_email(body.email)
    if email != caller.email:
        raise ApiError(403, "a caller registers only themselves: email must be the token's user")
    first = _clean_part("firstName", body.firstName)
    last = _clean_part("lastName", body.lastName)
    if first or last:
        name = " ".join(part for part in (first, last) if part)
        if len(name) > 200:
            raise field_error("lastName", "the full name is too long (at most 200 characters)")
        if access.rename_user(backend.store().db, caller.user_id, name) is None:
            raise not_found(f"no user {str(caller.user_id)!r}")
    return {**_with_workspaces(backend, caller), "clerkId": body.clerkId}


@users.get(
    "/users/{user_id}",
    summary="A user with their workspaces (the caller only)",
    description="Only the caller's own id answers; any other id is 404, whether or not "
    "that user exists.",
)
def get_user(user_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    if parse_uuid(user_id) != caller.user_id:
        raise not_found(f"no user {user_id!r}")
    return _with_workspaces(backend, caller)
