"""The FastAPI app of `vectoros serve`: the documented dialect of the team backend.

Every store call runs in FastAPI's threadpool (the endpoints are plain ``def``). Tokens are
bearer tokens from ``vectoros serve token create``; a caller only ever sees workspaces it
is a member of (others, and their deals, answer 404 as if they did not exist).

The routes are in :mod:`.health_routes`, :mod:`.workspace_routes`, :mod:`.deal_routes`,
:mod:`.activity_routes`, :mod:`.user_routes` and :mod:`.ai_routes`; what they all depend on
(the backend, the caller, the isolation lookups) in :mod:`.dependencies`. This module only
puts them together, and no route module imports it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from vectoros_tui import __version__
from vectoros_tui.server.activity_routes import activities_api
from vectoros_tui.server.ai_routes import ai
from vectoros_tui.server.backend import Backend, SimilarFactory
from vectoros_tui.server.body_limit import BodyLimitMiddleware, limit_of
from vectoros_tui.server.deal_pages import DealPages, DealPagesMiddleware
from vectoros_tui.server.deal_routes import deals_api
from vectoros_tui.server.errors import install
from vectoros_tui.server.health_routes import public
from vectoros_tui.server.schemas import json_name
from vectoros_tui.server.user_routes import users
from vectoros_tui.server.workspace_routes import workspaces_api

if TYPE_CHECKING:
    from vectoros_tui.config import Settings


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
    # Added last, so it runs first: no body past the limit reaches anything else.
    app.add_middleware(BodyLimitMiddleware, max_bytes=limit_of(settings))
    install(app, json_name)
    app.include_router(public)
    # Workspaces before deals: the order in which the OpenAPI document lists their paths.
    app.include_router(workspaces_api)
    app.include_router(deals_api)
    app.include_router(activities_api)
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


__all__ = ["app_from_settings", "create_app"]
