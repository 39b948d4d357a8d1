"""``GET /health``: whether the service can reach a database it can use (no auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from vectoros_tui import __version__
from vectoros_tui.server.dependencies import BackendDep
from vectoros_tui.store import migrate
from vectoros_tui.store.store import DatabaseUnavailableError
from vectoros_tui.store.tables import utcnow
from vectoros_tui.store.views import iso

public = APIRouter()

SERVICE = "vectoros-team-backend"
EXTENSIONS = ("nextStep", "activities")


@public.get(
    "/health",
    tags=["health"],
    summary="Service and database health (no auth)",
    description='As documented: `{"status": "healthy", "timestamp", "database": "connected"}`, '
    'or 503 with `"status": "unhealthy"` when the database cannot be reached or its schema '
    "is not the one this server needs. `databaseDetails` says why; `conditionalWrites` "
    "promises that deal writes honour If-Match; `extensions` names what this server has "
    "beyond the seed's API (`nextStep`: the deal fields nextStep and nextStepDue; "
    "`activities`: the activity routes).",
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
            # What a client may use beyond the seed's API: the sync client carries next
            # steps and activities only with a server that says it has them.
            "extensions": list(EXTENSIONS),
        },
        status_code=200 if healthy else 503,
    )
