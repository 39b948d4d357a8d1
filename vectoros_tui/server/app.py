"""The FastAPI app of `vectoros serve`: the documented dialect of the team backend.

Every store call runs in FastAPI's threadpool (the endpoints are plain ``def``). Tokens are
bearer tokens from ``vectoros serve token create``; a caller only ever sees workspaces it
is a member of (others, and their deals, answer 404 as if they did not exist).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from vectoros_tui import __version__
from vectoros_tui.engine.forecast import ForecastInputError
from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.server import access
from vectoros_tui.server.access import MANAGERS, Membership
from vectoros_tui.server.deal_pages import (
    MAX_LIMIT,
    MAX_OFFSET,
    DealPages,
    DealPagesMiddleware,
    compact_json,
)
from vectoros_tui.server.errors import ApiError, install, not_found
from vectoros_tui.server.schemas import (
    DealCreate,
    DealReplace,
    EmbedDealRequest,
    EmbedMultipleRequest,
    FindSimilarRequest,
    ForecastRequest,
    MemberAdd,
    WorkspaceCreate,
    WorkspaceRequest,
    deal_json,
    json_name,
)
from vectoros_tui.server.tokens import Caller, TokenService
from vectoros_tui.store import migrate
from vectoros_tui.store.errors import ConflictError, NotFoundError
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.store import DatabaseUnavailableError, Store, open_store
from vectoros_tui.store.validation import FieldError, ValidationError
from vectoros_tui.store.views import DealView

if TYPE_CHECKING:
    from vectoros_tui.config import Settings
    from vectoros_tui.similar.service import SimilarDeals

SimilarFactory = Callable[[Store], "SimilarDeals"]


class Backend:
    """The app's store, token service and similar-deal service, each opened on first use
    (so the server starts, and ``/health`` answers, while the database is down)."""

    def __init__(
        self,
        database_url: str,
        settings: Settings | None,
        similar_factory: SimilarFactory | None,
        upgrade: bool,
    ) -> None:
        self.database_url = database_url
        self.settings = settings
        self.similar_factory = similar_factory
        self.upgrade = upgrade
        self._store: Store | None = None
        self._tokens: TokenService | None = None
        self._similar: SimilarDeals | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.database_url, upgrade=self.upgrade)
                self._tokens = TokenService(self._store.db)
            return self._store

    def tokens(self) -> TokenService:
        self.store()
        assert self._tokens is not None
        return self._tokens

    def similar(self) -> SimilarDeals:
        store = self.store()
        with self._lock:
            if self._similar is None:
                if self.similar_factory is not None:
                    self._similar = self.similar_factory(store)
                else:
                    from vectoros_tui.config import Settings
                    from vectoros_tui.locations import current_locations
                    from vectoros_tui.similar.service import SimilarDeals

                    settings = self.settings or Settings()
                    self._similar = SimilarDeals(store, settings.similar, current_locations())
            return self._similar

    def close(self) -> None:
        with self._lock:
            if self._similar is not None:
                self._similar.close()
                self._similar = None
            if self._store is not None:
                self._store.close()
                self._store = None


# --- dependencies ------------------------------------------------------------------------

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="A token from `vectoros serve token create --user EMAIL`.",
)


def backend_of(request: Request) -> Backend:
    return request.app.state.backend  # type: ignore[no-any-return]


BackendDep = Annotated[Backend, Depends(backend_of)]


def current_caller(
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "send a bearer token: Authorization: Bearer <token>")
    found = backend.tokens().authenticate(credentials.credentials)
    if found is None:
        raise ApiError(401, "the token is invalid or has been revoked")
    return found


CallerDep = Annotated[Caller, Depends(current_caller)]


def _uuid(value: str, what: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise not_found(f"no {what} {value!r}")
    return parsed


def _member(backend: Backend, caller: Caller, workspace_id: str) -> Membership:
    """The caller's membership, or 404: a workspace one is not in does not exist for one."""
    wanted = _uuid(workspace_id, "workspace")
    membership = access.role_in(backend.store().db, caller.user_id, wanted)
    if membership is None:
        raise not_found(f"no workspace {workspace_id!r}")
    return membership


def _body_workspace(backend: Backend, caller: Caller, workspace_id: str) -> Membership:
    """Like :func:`_member` for a workspace named in a request body."""
    return _member(backend, caller, workspace_id)


def _deal(backend: Backend, caller: Caller, deal_id: str) -> tuple[DealView, Membership]:
    found = access.deal_and_role(backend.store().db, caller.user_id, _uuid(deal_id, "deal"))
    if found is None:
        raise not_found(f"no deal {deal_id!r}")
    return found


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


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


# --- health and the caller ----------------------------------------------------------------

public = APIRouter()


@public.get("/health", tags=["health"], summary="Liveness and database state (no auth)")
def health(backend: BackendDep) -> JSONResponse:
    dialect = "postgresql" if backend.database_url.startswith("postgres") else "sqlite"
    database: dict[str, Any] = {"reachable": False, "dialect": dialect, "schema": None}
    try:
        store = backend.store()
        with store.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database["reachable"] = True
        database["schema"] = migrate.current_revision(store.db)
    except (DatabaseUnavailableError, OperationalError):
        return JSONResponse(
            {"status": "degraded", "version": __version__, "database": database}, status_code=503
        )
    except Exception as exc:  # a schema the server cannot use: reachable, but degraded
        database["reachable"] = True
        database["problem"] = str(exc)[:200]
    status = "ok" if database["schema"] == migrate.head_revision() else "degraded"
    return JSONResponse(
        {
            "status": status,
            "version": __version__,
            "database": database,
            # Clients may write a deal with If-Match: "<its version>" instead of reading it
            # first; a deal that changed meanwhile answers 412.
            "conditionalWrites": True,
        }
    )


api = APIRouter(prefix="/api/v1")


@api.get("/users/me", tags=["users"], summary="The calling user")
def users_me(caller: CallerDep) -> dict[str, Any]:
    return {"id": str(caller.user_id), "email": caller.email, "name": caller.name}


# --- workspaces ----------------------------------------------------------------------------


@api.get("/workspaces", tags=["workspaces"], summary="Workspaces the caller is a member of")
def list_workspaces(backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    rows = access.memberships(backend.store().db, caller.user_id)
    return {"workspaces": [m.to_api(count) for m, count in rows]}


@api.post("/workspaces", status_code=201, tags=["workspaces"], summary="Create (caller is owner)")
def create_workspace(
    body: WorkspaceCreate, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    created = backend.store().workspaces.create(body.name, owner_email=caller.email)
    return Membership(created.id, created.name, "owner", created.created_at).to_api(0)


@api.get("/workspaces/{workspace_id}", tags=["workspaces"], summary="One workspace")
def get_workspace(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = _member(backend, caller, workspace_id)
    return membership.to_api(access.deal_count(backend.store().db, membership.workspace_id))


@api.get("/workspaces/{workspace_id}/members", tags=["workspaces"], summary="Members")
def list_members(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = _member(backend, caller, workspace_id)
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
    membership = _member(backend, caller, workspace_id)
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
    membership = _member(backend, caller, workspace_id)
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
    membership = _member(backend, caller, workspace_id)
    stage_name = outcome = None
    if stage is not None and stage.strip():
        try:
            stage_name, outcome = normalise_stage(stage)
        except UnknownStageError as exc:
            raise _field_error("stage", str(exc)) from None
    deals, total = access.deal_page(
        backend.store().db, membership.workspace_id, stage_name, outcome, limit, offset
    )
    return fast_json({"deals": [deal_json(d) for d in deals], "total": total})


@api.post("/deals", status_code=201, tags=["deals"], summary="Create a deal")
def create_deal(
    body: DealCreate, backend: BackendDep, caller: CallerDep, response: Response
) -> dict[str, Any]:
    membership = _body_workspace(backend, caller, body.workspaceId)
    deal_id = None
    if body.id is not None:
        deal_id = parse_uuid(body.id)
        if deal_id is None:
            raise _field_error("id", f"must be a UUID (got {body.id!r})")
    view = backend.store().deals.create(membership.workspace_id, body.local(), deal_id=deal_id)
    return _tagged(response, view)


@api.get("/deals/{deal_id}", tags=["deals"], summary="One deal (ETag: its version)")
def get_deal(
    deal_id: str, backend: BackendDep, caller: CallerDep, response: Response
) -> dict[str, Any]:
    view, _ = _deal(backend, caller, deal_id)
    return _tagged(response, view)


@api.put(
    "/deals/{deal_id}",
    tags=["deals"],
    summary="Replace a deal (the whole record); with If-Match, only if unchanged (412)",
)
def replace_deal(
    deal_id: str,
    body: DealReplace,
    backend: BackendDep,
    caller: CallerDep,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    view, _ = _deal(backend, caller, deal_id)
    if body.id is not None and parse_uuid(body.id) != view.id:
        raise _field_error("id", "does not match the deal in the URL")
    if body.workspaceId is not None and parse_uuid(body.workspaceId) != view.workspace_id:
        raise _field_error("workspaceId", "a deal cannot move to another workspace")
    expected = _expected_version(if_match, view)
    with _written(deal_id, expected):
        updated = backend.store().deals.update(
            view.id, body.local(), expected_version=expected or body.version
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
    view, _ = _deal(backend, caller, deal_id)
    expected = _expected_version(if_match, view)
    with _written(deal_id, expected):
        backend.store().deals.delete(view.id, expected_version=expected)
    return Response(status_code=204)


# --- AI: forecast, scores, similar deals ---------------------------------------------------

ai = APIRouter(prefix="/api/v1", tags=["ai"])


@ai.post("/ai/forecast", summary="Monte Carlo revenue forecast of a workspace")
def forecast(body: ForecastRequest, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = _body_workspace(backend, caller, body.workspace_id)
    try:
        return backend.store().analytics.forecast(
            membership.workspace_id, timeframe=body.timeframe, scenario=body.scenario
        )
    except ForecastInputError as exc:
        raise ApiError(422, str(exc)) from None


@ai.post("/ai/score-workspace", summary="Health scores of a workspace's deals")
def score_workspace(
    body: WorkspaceRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    membership = _body_workspace(backend, caller, body.workspace_id)
    return backend.store().analytics.score(membership.workspace_id)


@ai.post("/embeddings/embed-deal", summary="Embed one deal for similar-deal search")
def embed_deal(body: EmbedDealRequest, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    view, _ = _deal(backend, caller, body.deal_id)
    result = backend.similar().refresh(view.workspace_id, [view.id])
    return {"success": True, "deal_id": str(view.id), "embedded": result.embedded}


@ai.post("/embeddings/embed-multiple", summary="Embed several deals")
def embed_multiple(
    body: EmbedMultipleRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    ids = list(dict.fromkeys(_uuid(d, "deal") for d in body.deal_ids))
    owners = access.workspaces_of_deals(backend.store().db, ids)
    roles: dict[uuid.UUID, bool] = {}
    for deal_id in ids:
        workspace = owners.get(deal_id)
        if workspace is not None and workspace not in roles:
            roles[workspace] = (
                access.role_in(backend.store().db, caller.user_id, workspace) is not None
            )
        if workspace is None or not roles[workspace]:
            raise not_found(f"no deal {str(deal_id)!r}")
    embedded = 0
    for workspace in roles:
        mine = [d for d in ids if owners[d] == workspace]
        embedded += backend.similar().refresh(workspace, mine).embedded
    return {"success": True, "count": len(ids), "embedded": embedded}


@ai.post("/embeddings/find-similar", summary="Deals similar to a deal or to a text")
def find_similar(
    body: FindSimilarRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    membership = _body_workspace(backend, caller, body.workspace_id)
    if (body.deal_id is None) == (body.text is None):
        raise _field_error("deal_id", "give either deal_id or text")
    if not 1 <= body.limit <= 100:
        raise _field_error("limit", "must be between 1 and 100")
    if body.score_threshold is not None and not -1.0 <= body.score_threshold <= 1.0:
        raise _field_error("score_threshold", "a cosine similarity, between -1 and 1")
    if body.deal_id is not None:
        view, _ = _deal(backend, caller, body.deal_id)
        if view.workspace_id != membership.workspace_id:
            raise not_found(f"no deal {body.deal_id!r} in this workspace")
        result = backend.similar().search_deal(
            membership.workspace_id, view.id, limit=body.limit, threshold=body.score_threshold
        )
    else:
        assert body.text is not None
        result = backend.similar().search_text(
            membership.workspace_id, body.text, limit=body.limit, threshold=body.score_threshold
        )
    return result.to_api()


@ai.get("/embeddings/stats", summary="Size of a workspace's similar-deal index")
def embedding_stats(
    workspace_id: Annotated[str, Query()], backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    membership = _member(backend, caller, workspace_id)
    return backend.similar().stats(membership.workspace_id)


@ai.post("/workspaces/{workspace_id}/embed-all", summary="Embed every deal of a workspace")
def embed_all(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = _member(backend, caller, workspace_id)
    result = backend.similar().refresh(membership.workspace_id)
    return {"success": True, "embedded": result.embedded, "deleted": result.deleted}


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
