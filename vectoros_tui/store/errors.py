"""Errors the services raise. All are user-facing: their messages are shown as they are."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class: something the user asked for cannot be done as asked."""


class NotFoundError(StoreError):
    pass


class AmbiguousError(StoreError):
    pass


class ConflictError(StoreError):
    """The deal changed since the caller read it; ``current`` is the stored version."""

    def __init__(self, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.current = current


class SchemaError(StoreError):
    """The database is not at the schema version this program expects."""


class ForbiddenError(StoreError):
    """The caller's role does not allow it; the message says who may."""


class LastOwnerError(StoreError):
    """The change would leave a workspace without an owner."""
