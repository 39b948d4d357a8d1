"""The FastAPI app of `vectoros serve`: the documented dialect of the team backend.

Every store call runs in FastAPI's threadpool (the endpoints are plain ``def``). Tokens are
bearer tokens from ``vectoros serve token create``; a caller only ever sees workspaces it
is a member of (others, and their deals, answer 404 as if they did not exist).

Health, workspaces, members and deals are here; users are in :mod:`.user_routes`, the
forecast, scores and embeddings in :mod:`.ai_routes`, and what they all depend on (the
backend, the caller, the isolation lookups) in :mod:`.dependencies`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from vectoros_tui import __version__
from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.server import access
from vectoros_tui.server.access import MANAGERS, Membership
from vectoros_tui.server.ai_routes import ai
from vectoros_tui.server.deal_pages import (
    MAX_LIMIT,
    MAX_OFFSET,
    DealPages,
    DealPagesMiddleware,
    compact_json,
)
from vectoros_tui.server.dependencies import (
    Backend,
    BackendDep,
    CallerDep,
    SimilarFactory,
    deal_of,
    field_error,
    member_of,
)
from vectoros_tui.server.errors import ApiError, install, not_found
from vectoros_tui.server.schemas import (
    DealCreate,
    DealReplace,
    MemberAdd,
    WorkspaceCreate,
    deal_json,
    json_name,
)
from vectoros_tui.server.user_routes import users
from vectoros_tui.store import migrate
from vectoros_tui.store.errors import ConflictError, NotFoundError
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.store import DatabaseUnavailableError
from vectoros_tui.store.tables import utcnow
from vectoros_tui.store.views import DealView, iso

if TYPE_CHECKING:
    from vectoros_tui.config import Settings


# --- conditional deal writes ---------------------------------------------------------------

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


def _tagged(response: Response, view: DealView) -> dict[str, Any]:
    response.headers["ETag"] = etag_of(view)
    return deal_json(view)


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


# --- health -------------------------------------------------------------------------------

public = APIRouter()

SERVICE = "vectoros-team-backend"


@public.get(
    "/health",
    tags=["health"],
    summary="Service and database health (no auth)",
    description='As documented: `{"status": "healthy", "timestamp", "database": "connected"}`, '
    'or 503 with `"status": "unhealthy"` when the database cannot be reached or its schema '
    "is not the one this server needs. `databaseDetails` says why; `conditionalWrites` "
    "promises that deal writes honour If-Match.",
    responses={503: {"description": "Unhealthy: the database is unreachable or unusable."}},
)
def health(backend: BackendDep) -> JSONResponse:
    dialect = "postgresql" if backend.database_url.startswith("postgres") else "sqlite"
    details: dict[str, Any] = {"reachable": False, "dialect": dialect, "schema": None}
    try:
        store = backend.store()
        with store.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        details["reachable"] = True
        details["schema"] = migrate.current_revision(store.db)
    except (DatabaseUnavailableError, OperationalError):
        pass
    except Exception as exc:  # a schema the server cannot use: reachable, but unusable
        details["reachable"] = True
        details["problem"] = str(exc)[:200]
    # A schema other than the head is unhealthy too: the routes would fail on it, and a
    # load balancer should send the traffic elsewhere.
    healthy = details["reachable"] and details["schema"] == migrate.head_revision()
    return JSONResponse(
        {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": iso(utcnow()),
            "database": "connected" if details["reachable"] else "disconnected",
            "service": SERVICE,
            "version": __version__,
            "databaseDetails": details,
            # Clients may write a deal with If-Match: "<its version>" instead of reading it
            # first; a deal that changed meanwhile answers 412.
            "conditionalWrites": True,
        },
        status_code=200 if healthy else 503,
    )


api = APIRouter(prefix="/api/v1")


# --- workspaces ----------------------------------------------------------------------------


@api.get("/workspaces", tags=["workspaces"], summary="Workspaces the caller is a member of")
def list_workspaces(backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    rows = access.memberships(backend.store().db, caller.user_id)
    return {"workspaces": [m.to_api(count) for m, count in rows]}


@api.post(
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
    created = backend.store().workspaces.create(body.name, owner_email=caller.email)
    made = Membership(created.id, created.name, "owner", created.created_at).to_api(0)
    return {**made, "ownerId": str(caller.user_id)}


@api.get(
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


@api.get("/workspaces/{workspace_id}/members", tags=["workspaces"], summary="Members")
def list_members(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    return {"members": backend.store().workspaces.members(membership.workspace_id)}


@api.post(
    "/workspaces/{workspace_id}/members",
    status_code=201,
    tags=["workspaces"],
    summary="Add a member or change a role (owner/admin only)",
)
def add_member(
    workspace_id: str, body: MemberAdd, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    if membership.role not in MANAGERS:
        raise ApiError(403, "only the workspace's owners and admins manage members")
    role = body.role.strip().lower()
    if role == "owner" and membership.role != "owner":
        raise ApiError(403, "only an owner can make someone an owner")
    workspaces = backend.store().workspaces
    current = {m["email"]: m["role"] for m in workspaces.members(membership.workspace_id)}
    target = body.email.strip().lower()
    if current.get(target) == "owner" and membership.role != "owner":
        raise ApiError(403, "only an owner can change an owner's role")
    if current.get(target) == "owner" and role != "owner":
        _keep_an_owner(current, target)
    return workspaces.add_member(membership.workspace_id, body.email, role)


@api.delete(
    "/workspaces/{workspace_id}/members/{email}",
    status_code=204,
    tags=["workspaces"],
    summary="Remove a member (owner/admin only)",
)
def remove_member(
    workspace_id: str, email: str, backend: BackendDep, caller: CallerDep
) -> Response:
    membership = member_of(backend, caller, workspace_id)
    if membership.role not in MANAGERS:
        raise ApiError(403, "only the workspace's owners and admins manage members")
    workspaces = backend.store().workspaces
    current = {m["email"]: m["role"] for m in workspaces.members(membership.workspace_id)}
    target = email.strip().lower()
    if target not in current:
        raise not_found(f"{email} is not a member of this workspace")
    if current[target] == "owner":
        if membership.role != "owner":
            raise ApiError(403, "only an owner can remove an owner")
        _keep_an_owner(current, target)
    workspaces.remove_member(membership.workspace_id, target)
    return Response(status_code=204)


def _keep_an_owner(current: dict[str, str], leaving: str) -> None:
    if sum(1 for role in current.values() if role == "owner") <= 1:
        raise ApiError(409, f"{leaving} is the last owner; make someone else owner first")


# --- deals ---------------------------------------------------------------------------------


@api.get(
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


@api.post("/deals", status_code=201, tags=["deals"], summary="Create a deal")
def create_deal(
    body: DealCreate, backend: BackendDep, caller: CallerDep, response: Response
) -> dict[str, Any]:
    membership = member_of(backend, caller, body.workspaceId)
    deal_id = None
    if body.id is not None:
        deal_id = parse_uuid(body.id)
        if deal_id is None:
            raise field_error("id", f"must be a UUID (got {body.id!r})")
    view = backend.store().deals.create(membership.workspace_id, body.local(), deal_id=deal_id)
    return _tagged(response, view)


@api.get("/deals/{deal_id}", tags=["deals"], summary="One deal (ETag: its version)")
def get_deal(
    deal_id: str, backend: BackendDep, caller: CallerDep, response: Response
) -> dict[str, Any]:
    view, _ = deal_of(backend, caller, deal_id)
    return _tagged(response, view)


@api.put(
    "/deals/{deal_id}",
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
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    view, _ = deal_of(backend, caller, deal_id)
    if body.id is not None and parse_uuid(body.id) != view.id:
        raise field_error("id", "does not match the deal in the URL")
    if body.workspaceId is not None and parse_uuid(body.workspaceId) != view.workspace_id:
        raise field_error("workspaceId", "a deal cannot move to another workspace")
    expected = _expected_version(if_match, view)
    with _written(deal_id, expected):
        updated = backend.store().deals.update(
            view.id, body.changes(), expected_version=expected or body.version
        )
    return _tagged(response, updated)


@api.delete(
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
        backend.store().deals.delete(view.id, expected_version=expected)
    return Response(status_code=204)


# --- the app ---------------------------------------------------------------------------------


def create_app(
    database_url: str,
    *,
    settings: Settings | None = None,
    similar_factory: SimilarFactory | None = None,
    upgrade: bool = True,
    deal_pages: bool = True,
) -> FastAPI:
    """The team backend over ``database_url`` (migrated on first use unless ``upgrade`` is
    False). ``settings`` configure similar-deal search; ``similar_factory(store)`` replaces
    the default :class:`SimilarDeals` (tests); ``deal_pages`` False lists deals through the
    route only (tests compare the two)."""
    backend = Backend(database_url, settings, similar_factory, upgrade)
    pages = DealPages(backend) if deal_pages else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if pages is not None:
                await pages.aclose()
            backend.close()

    app = FastAPI(
        title="VectorOS team backend",
        version=__version__,
        description="The documented VectorOS REST API.",
        lifespan=lifespan,
    )
    app.state.backend = backend
    app.state.deal_pages = pages
    if pages is not None:
        app.add_middleware(DealPagesMiddleware, pages=pages)
    install(app, json_name)
    app.include_router(public)
    app.include_router(api)
    app.include_router(users)
    app.include_router(ai)
    return app


def app_from_settings() -> FastAPI:
    """The app as `vectoros serve --workers N` starts it in each worker process: the
    database and settings from the config file and ``VECTOROS_*`` variables (the serve
    command puts its ``--db`` there)."""
    from vectoros_tui.config import load_settings
    from vectoros_tui.locations import current_locations
    from vectoros_tui.server.workers import tune_interpreter

    tune_interpreter()
    settings, _ = load_settings()
    return create_app(settings.resolved_database_url(current_locations()), settings=settings)


__all__ = ["Backend", "app_from_settings", "create_app"]
