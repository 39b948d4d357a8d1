"""What the HTTP layer and the dialects hand each other: one reply, the call that fetches
it, and the server's own words when it refuses.

The HTTP layer (:mod:`vectoros_tui.sync.http`) sends, retries and handles statuses; a
dialect only sees the answers it can use, as :class:`Reply`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import quote

from vectoros_tui.sync.errors import MalformedResponseError

ERROR_TEXT_LIMIT: Final = 200


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status and body text (the token already redacted from it)."""

    method: str
    path: str
    status: int
    text: str
    content_type: str = ""

    @property
    def request(self) -> str:
        """``METHOD /path`` for messages (never the query string or headers)."""
        return f"{self.method} {self.path}"

    def json(self) -> Any:
        """The parsed body; :class:`MalformedResponseError` if it is not JSON."""
        if not self.text.strip():
            raise MalformedResponseError(
                f"the body is empty (HTTP {self.status}); expected JSON", request=self.request
            )
        try:
            return parse_json(self.text)
        except ValueError:
            kind = self.content_type.split(";")[0].strip() or "no content type"
            raise MalformedResponseError(
                f"the body is not JSON (HTTP {self.status}, {kind}, starts {_snippet(self.text)})",
                request=self.request,
            ) from None


class Call(Protocol):
    """Send one request (with retries); 2xx and the ``allow``-ed statuses come back.

    Every other status raises (:class:`RemoteError`, :class:`AuthError`,
    :class:`RemoteUnavailableError`), so a dialect only sees answers it can use.
    """

    def __call__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        allow: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Reply: ...


def parse_json(text: str) -> Any:
    """Strict JSON: ``NaN`` and ``Infinity``, which Python would accept, raise ValueError."""
    return json.loads(text, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat[:limit] + ("…" if len(flat) > limit else ""))


def clip(text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    """Whitespace collapsed, at most ``limit`` characters (with an ellipsis if cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_details(text: str) -> tuple[str | None, str]:
    """``(code, message)`` from an error body in either dialect's shape (or plain text).

    Understands ``{"success": false, "error": {"code", "message"}}``, ``{"error": {...}}``,
    ``{"error": "Bad Request", "message": "..."}``, ``{"message": ...}``, ``{"detail": ...}``
    (a string or a list of ``{"msg"}``), ``{"errors": [...]}``; anything else is the body's
    text, cut to 200 characters.
    """
    try:
        body = parse_json(text)
    except ValueError:
        return None, clip(text) or "(empty body)"
    if not isinstance(body, dict):
        return None, clip(text)
    code: str | None = None
    message: str | None = None
    error = body.get("error")
    if isinstance(error, dict):
        code = _str_or_none(error.get("code"))
        message = _str_or_none(error.get("message"))
        if message is None and isinstance(error.get("details"), str):
            message = error["details"]
    elif isinstance(error, str):
        code = error
    if message is None:
        message = _str_or_none(body.get("message"))
    if message is None:
        detail = body.get("detail")
        if isinstance(detail, str):
            message = detail
        elif isinstance(detail, list):
            message = _join_messages(detail)
    if message is None and isinstance(body.get("errors"), list):
        message = _join_messages(body["errors"])
    if message is None:
        message = code if code is not None else clip(text)
        code = None if message == code else code
    if code is None and isinstance(body.get("code"), str):
        code = body["code"]
    return (clip(code, 60) if code else None), clip(message)


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _join_messages(items: list[Any]) -> str | None:
    parts: list[str] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            text = _str_or_none(item.get("message")) or _str_or_none(item.get("msg"))
            where = item.get("field") or item.get("path") or item.get("loc")
            if text and where:
                where_text = ".".join(map(str, where)) if isinstance(where, list) else str(where)
                parts.append(f"{where_text}: {text}")
            elif text:
                parts.append(text)
    return "; ".join(parts) if parts else None


@contextmanager
def reading(reply: Reply) -> Iterator[None]:
    """Any :class:`MalformedResponseError` raised inside names the request it came from."""
    try:
        yield
    except MalformedResponseError as exc:
        exc.at(reply.request)
        raise


def segment(value: str) -> str:
    """An id as one URL path segment."""
    return quote(str(value), safe="")
