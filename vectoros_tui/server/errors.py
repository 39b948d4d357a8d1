"""Every error answers ``{"error": code, "message": text}`` (plus ``fields`` for validation)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vectoros_tui.similar.errors import SimilarUnavailableError
from vectoros_tui.store.errors import (
    AmbiguousError,
    ConflictError,
    ForbiddenError,
    LastOwnerError,
    NotFoundError,
    SchemaError,
)
from vectoros_tui.store.store import DatabaseUnavailableError
from vectoros_tui.store.validation import ValidationError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, *, error: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error or _CODES.get(status, "error")
        self.message = message
        self.extra = extra


def not_found(what: str = "not found") -> ApiError:
    return ApiError(404, what)


def body(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": error, "message": message, **extra}, status_code=status, headers=headers
    )


# Store and search errors whose own message is the answer: type -> (status, error code).
_PLAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    NotFoundError: (404, "not_found"),
    AmbiguousError: (400, "bad_request"),
    ConflictError: (409, "conflict"),
    ForbiddenError: (403, "forbidden"),
    LastOwnerError: (409, "conflict"),
    SimilarUnavailableError: (503, "similar_unavailable"),
    DatabaseUnavailableError: (503, "database_unavailable"),
    SchemaError: (503, "database_unavailable"),
}


def _plain(status: int, error: str) -> Any:
    async def handler(_: Request, exc: Exception) -> JSONResponse:
        return body(status, error, str(exc))

    return handler


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI, json_name: Any) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return body(exc.status, exc.error, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return body(400, "bad_request", "the request body is not valid JSON")
        fields = [
            {"field": _field_of(p.get("loc", ())), "message": p.get("msg", "")} for p in problems
        ]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return body(422, "validation_error", message, fields=fields)

    @app.exception_handler(ValidationError)
    async def _store_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        fields = [{"field": json_name(e.field), "message": e.message} for e in exc.errors]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return body(422, "validation_error", message, fields=fields)

    for error_type, (status, error) in _PLAIN_ERRORS.items():
        app.add_exception_handler(error_type, _plain(status, error))

    @app.exception_handler(OperationalError)
    async def _db_error(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return body(503, "database_unavailable", "the database cannot be reached right now")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return body(exc.status_code, _CODES.get(exc.status_code, "error"), message)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return body(500, "internal_error", "an unexpected error occurred; see the server log")
