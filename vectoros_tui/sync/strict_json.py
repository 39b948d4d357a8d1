"""Strict readers of parsed JSON: every value type-checked, every problem naming its field.

A response that is not what the API promises raises :class:`MalformedResponseError` with
the path of the offending field (``data.items[3].closeDate``), so nothing of it is used.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

from vectoros_tui.sync.errors import MalformedResponseError


def kind_of(value: Any) -> str:
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value: Any) -> str:
    """A value as JSON for a message, cut to 40 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _join(base: str | None, key: str) -> str:
    return f"{base}.{key}" if base else key


def expect_object(value: Any, field: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponseError(f"expected an object, got {kind_of(value)}", field=field)
    return value


def expect_list(value: Any, field: str | None) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedResponseError(
            f"expected an array, got {kind_of(value)} {show(value)}", field=field
        )
    return value


class Fields:
    """Typed access to one JSON object's keys; errors name ``<path>.<key>``."""

    def __init__(self, value: Any, path: str | None) -> None:
        self.obj = expect_object(value, path)
        self.path = path

    def where(self, key: str) -> str:
        return _join(self.path, key)

    def fail(self, key: str, problem: str) -> MalformedResponseError:
        return MalformedResponseError(problem, field=self.where(key))

    def raw(self, key: str, *, required: bool) -> tuple[bool, Any]:
        if key not in self.obj:
            if required:
                raise self.fail(key, "is missing")
            return False, None
        return True, self.obj[key]

    def _wrong(self, key: str, wanted: str, value: Any) -> MalformedResponseError:
        got = "null" if value is None else f"{kind_of(value)} {show(value)}"
        return self.fail(key, f"must be {wanted} (got {got})")

    def string(self, key: str, *, required: bool = False, nullable: bool = True) -> str | None:
        present, value = self.raw(key, required=required)
        if not present or (value is None and nullable):
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string" + (" or null" if nullable else ""), value)
        return value

    def text(self, key: str) -> str:
        """A required, non-null string."""
        value = self.string(key, required=True, nullable=False)
        assert value is not None
        return value

    def identifier(self, key: str) -> str:
        value = self.text(key)
        if not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def number(self, key: str, *, required: bool = False) -> float | None:
        _, value = self.raw(key, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(key, "a number or null", value)
        if not math.isfinite(value):
            raise self.fail(key, "must be a finite number")
        return float(value)

    def integer(
        self, key: str, *, required: bool = False, nullable: bool = True, minimum: int | None = None
    ) -> int | None:
        present, value = self.raw(key, required=required)
        if not present or (value is None and nullable):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "a whole number" + (" or null" if nullable else ""), value)
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum} (got {value})")
        return value

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        _, value = self.raw(key, required=required)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def calendar_date(self, key: str) -> date | None:
        """``YYYY-MM-DD``; a full ISO datetime is read as its UTC date (Prisma sends those)."""
        text = self.string(key)
        if text is None:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return _utc(datetime.fromisoformat(text)).date()
        except (ValueError, OverflowError):  # Overflow: outside the calendar once in UTC
            raise self.fail(
                key, f"must be an ISO date like 2025-01-31 or null (got {text!r})"
            ) from None

    def timestamp(self, key: str) -> datetime | None:
        """An ISO 8601 datetime, returned in UTC (a time without offset is taken as UTC)."""
        text = self.string(key)
        if text is None:
            return None
        try:
            if len(text) < 16:  # a bare date is not a timestamp
                raise ValueError(text)
            return _utc(datetime.fromisoformat(text))
        except (ValueError, OverflowError):
            raise self.fail(
                key, f"must be an ISO datetime like 2025-01-31T12:00:00Z or null (got {text!r})"
            ) from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
