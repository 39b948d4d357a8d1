"""The two REST dialects of the team backend, behind one interface.

``documented``
    The API as documented: plain JSON bodies; ``GET /api/v1/workspaces/:id/deals`` pages with
    ``limit``/``offset`` and answers ``{"deals": [...], "total": N}``; ``POST /api/v1/deals``
    (``workspaceId`` in the body); ``PUT /api/v1/deals/:id`` with the whole record;
    ``DELETE`` answers 204. Stages ``prospect``/``qualified``/``proposal``/``negotiation`` and
    ``closed_won``/``closed_lost`` (``closed`` plus an ``outcome`` field is read too).
``deployed``
    What the deployed server actually speaks: every answer is ``{"success": true, "data": ...}``
    (errors ``{"success": false, "error": {"code", "message"}}``); lists are ``data.items`` with
    ``data.pagination = {page, limit, total, totalPages, hasNext, hasPrev}`` (query ``page``,
    ``limit``, ``sortBy``, ``sortOrder``); updates are ``PATCH`` with the changed fields only;
    creates are ``POST /api/v1/workspaces/:workspaceId/deals``; stages ``lead``/``qualified``/
    ``proposal``/``negotiation``/``won``/``lost``; ``value``/``probability`` may be null.

Both map deals to and from :class:`~vectoros_tui.sync.records.RemoteDeal` (local names, local
stages, won/lost as the outcome), validating every field's type: a response that is not what
the API promises raises :class:`MalformedResponseError` naming the field, and nothing of it
is used. The dialects know paths and shapes only; sending, retrying and status handling live
in :mod:`vectoros_tui.sync.http`, which hands each dialect operation a :class:`Call`.

Creates carry the client's own ``id``, so a retried ``POST`` is idempotent: if the id already
exists (409, or a 2xx echoing the same id) the create counts as done and the stored deal is
returned (read back with a ``GET`` after a 409).
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Final, Protocol
from urllib.parse import quote

from vectoros_tui.engine.stages import OUTCOMES, UnknownStageError, normalise_stage
from vectoros_tui.store.validation import DEAL_JSON_NAMES
from vectoros_tui.sync.errors import MalformedResponseError, RemoteError
from vectoros_tui.sync.records import DEAL_FIELDS, RemoteDeal, RemoteWorkspace

DIALECT_NAMES: Final = ("documented", "deployed")
# Safety net against a server whose paging never ends (10 million deals at 100 a page).
MAX_PAGES: Final = 100_000
ERROR_TEXT_LIMIT: Final = 200

# local field name -> JSON name (both dialects use the documented API's camelCase).
CAMEL: Final = DEAL_JSON_NAMES
_TEXT_FIELDS: Final = ("company", "contact_name", "contact_email", "lost_reason")


# ---------------------------------------------------------------------------------------------
# What the HTTP layer hands the dialects


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
            return json.loads(self.text, parse_constant=_reject_constant)
        except ValueError:
            kind = self.content_type.split(";")[0].strip() or "no content type"
            raise MalformedResponseError(
                f"the body is not JSON (HTTP {self.status}, {kind}, starts {_snippet(self.text)})",
                request=self.request,
            ) from None


def _version(f: Fields) -> int | None:
    """The deal's version if the server sends a usable one; it is only ever used with a
    server that promises conditional writes, so anything else just means "none"."""
    _, value = f.raw("version", required=False)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
        body = json.loads(text, parse_constant=_reject_constant)
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


def detect_dialect(reply: Reply) -> str:
    """Which dialect answered ``GET /health``.

    A JSON object with a boolean ``success`` and a ``data`` key (the deployed server's
    envelope, ``{"success": true, "data": {...}}``) means ``"deployed"``. Anything else, a
    plain JSON object such as ``{"status": "ok"}`` or even a non-JSON body, means
    ``"documented"``: the documented API has no envelope. Only a successful (2xx) answer is
    ever looked at; errors are raised by the HTTP layer before detection.
    """
    try:
        body = json.loads(reply.text, parse_constant=_reject_constant)
    except ValueError:
        return "documented"
    if isinstance(body, dict) and isinstance(body.get("success"), bool) and "data" in body:
        return "deployed"
    return "documented"


# ---------------------------------------------------------------------------------------------
# Strict readers: every problem names its field


def _kind(value: Any) -> str:
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


def _show(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _join(base: str | None, key: str) -> str:
    return f"{base}.{key}" if base else key


def expect_object(value: Any, field: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponseError(f"expected an object, got {_kind(value)}", field=field)
    return value


def expect_list(value: Any, field: str | None) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedResponseError(
            f"expected an array, got {_kind(value)} {_show(value)}", field=field
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
        got = "null" if value is None else f"{_kind(value)} {_show(value)}"
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
        except ValueError:
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
        except ValueError:
            raise self.fail(
                key, f"must be an ISO datetime like 2025-01-31T12:00:00Z or null (got {text!r})"
            ) from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


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


# ---------------------------------------------------------------------------------------------
# Local records -> JSON values


def _local_text(name: str, value: Any, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{name} must be a {'non-empty ' if required else ''}string")
    return value


def _local_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value must be a number or None (got {type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError("value must be finite")
    return float(value)


def _local_probability(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"probability must be a whole number or None (got {value!r})")
    return value


def _local_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return date.fromisoformat(value).isoformat()
    raise ValueError(f"close_date must be a date or None (got {type(value).__name__})")


def local_stage(stage: Any, outcome: Any) -> tuple[str, str | None]:
    """Validated local ``(stage, outcome)``; aliases such as ``won`` or ``lead`` accepted."""
    if not isinstance(stage, str):
        raise ValueError(f"stage must be a string (got {stage!r})")
    try:
        name, implied = normalise_stage(stage)
    except UnknownStageError as exc:
        raise ValueError(str(exc)) from None
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"outcome must be won, lost or None (got {outcome!r})")
    if implied and outcome and implied != outcome:
        raise ValueError(f"stage {stage!r} contradicts outcome {outcome!r}")
    final = outcome or implied
    if name == "closed" and final is None:
        raise ValueError("a closed deal needs an outcome: won or lost")
    if name != "closed" and final is not None:
        raise ValueError(f"a deal marked {final} must be in stage closed (is {name})")
    return name, final


# ---------------------------------------------------------------------------------------------
# The dialects


class Dialect(ABC):
    """Paths, body shapes and the deal mapping of one dialect."""

    name: ClassVar[str]
    # remote stage (lower case) -> (local stage, outcome it implies)
    stages_in: ClassVar[Mapping[str, tuple[str, str | None]]]
    sends_outcome: ClassVar[bool]

    def __repr__(self) -> str:
        return f"<{self.name} dialect>"

    # -- mapping ----------------------------------------------------------------------------

    @abstractmethod
    def remote_stage(self, stage: str, outcome: str | None) -> str:
        """The dialect's stage name for a validated local stage and outcome."""

    def to_remote(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """JSON for the given local fields (any subset of :data:`DEAL_FIELDS`).

        ``stage`` and ``outcome`` go together (the remote stage encodes both); pass both or
        neither. Raises ``ValueError`` for unknown fields or values a deal cannot have:
        that is a bug in the caller, not a server problem.
        """
        unknown = sorted(set(record) - set(DEAL_FIELDS))
        if unknown:
            raise ValueError(f"not deal fields: {', '.join(unknown)}")
        out: dict[str, Any] = {}
        if "title" in record:
            out["title"] = _local_text("title", record["title"], required=True)
        for name in _TEXT_FIELDS:
            if name in record:
                out[CAMEL[name]] = _local_text(name, record[name])
        if "value" in record:
            out["value"] = _local_number(record["value"])
        if "probability" in record:
            out["probability"] = _local_probability(record["probability"])
        if "close_date" in record:
            out["closeDate"] = _local_date(record["close_date"])
        if "stage" in record or "outcome" in record:
            if "stage" not in record:
                raise ValueError("outcome cannot be sent without stage (pass both)")
            stage, outcome = local_stage(record["stage"], record.get("outcome"))
            out["stage"] = self.remote_stage(stage, outcome)
            if self.sends_outcome:
                out["outcome"] = outcome
        return out

    def from_remote(
        self, data: Any, *, field: str | None = None, workspace_id: str | None = None
    ) -> RemoteDeal:
        """A :class:`RemoteDeal` from the dialect's deal JSON, every field type-checked.

        ``id``, ``title`` and ``stage`` are required (and ``workspaceId`` unless
        ``workspace_id`` says which workspace the deal was listed in, in which case a
        ``workspaceId`` that differs is an error). Other fields may be absent (read as null).
        """
        f = Fields(data, field)
        deal_id = f.identifier("id")
        present, _ = f.raw("workspaceId", required=workspace_id is None)
        workspace = workspace_id
        if present:
            workspace = f.identifier("workspaceId")
            if workspace_id is not None and workspace != workspace_id:
                raise f.fail("workspaceId", f"is {workspace!r}, expected {workspace_id!r}")
        title = f.text("title")
        stage, outcome = self._stage_of(f)
        probability = f.integer("probability")
        if probability is not None and not 0 <= probability <= 100:
            raise f.fail("probability", f"must be between 0 and 100 (got {probability})")
        assert workspace is not None
        return RemoteDeal(
            id=deal_id,
            workspace_id=workspace,
            title=title,
            company=f.string("company"),
            value=f.number("value"),
            stage=stage,
            outcome=outcome,
            probability=probability,
            contact_name=f.string("contactName"),
            contact_email=f.string("contactEmail"),
            close_date=f.calendar_date("closeDate"),
            lost_reason=f.string("lostReason"),
            updated_at=f.timestamp("updatedAt"),
            version=_version(f),
        )

    def _stage_of(self, f: Fields) -> tuple[str, str | None]:
        raw = f.text("stage")
        key = raw.strip().lower()
        if key in self.stages_in:
            stage, implied = self.stages_in[key]
        else:
            try:
                stage, implied = normalise_stage(key)
            except UnknownStageError:
                accepted = ", ".join(self.stages_in)
                raise f.fail(
                    "stage", f"unknown stage {raw!r} (expected one of {accepted})"
                ) from None
        outcome = f.string("outcome")
        if outcome is not None and outcome.lower() not in OUTCOMES:
            raise f.fail("outcome", f"must be won, lost or null (got {outcome!r})")
        outcome = outcome.lower() if outcome else None
        if implied:
            if outcome and outcome != implied:
                raise f.fail("outcome", f"is {outcome!r}, but stage {raw!r} means {implied}")
            return stage, implied
        if stage == "closed":
            if outcome is None:
                raise f.fail("outcome", f"stage {raw!r} needs an outcome: won or lost")
            return stage, outcome
        if outcome is not None:
            raise f.fail("outcome", f"is {outcome!r}, but stage {raw!r} is an open stage")
        return stage, None

    def workspace_from(self, data: Any, field: str | None) -> RemoteWorkspace:
        f = Fields(data, field)
        return RemoteWorkspace(id=f.identifier("id"), name=f.text("name"))

    # -- operations (each gets the HTTP layer's Call) --------------------------------------

    @abstractmethod
    def payload(self, reply: Reply) -> Any:
        """The useful part of a 2xx body (the envelope's ``data`` in the deployed dialect)."""

    def payload_field(self) -> str | None:
        """Where :meth:`payload` sits in the body, for error messages."""
        return None

    def read_health(self, reply: Reply) -> dict[str, Any]:
        with reading(reply):
            body = self.payload(reply)
            if isinstance(body, dict):
                return body
            return {"status": body}

    @abstractmethod
    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]: ...

    @abstractmethod
    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]: ...

    def deal_path(self, deal_id: str) -> str:
        return f"/api/v1/deals/{segment(deal_id)}"

    def read_deal(self, reply: Reply, workspace_id: str | None = None) -> RemoteDeal:
        with reading(reply):
            body = self.payload(reply)
            return self.from_remote(body, field=self.payload_field(), workspace_id=workspace_id)

    def get_deal(self, call: Call, deal_id: str) -> RemoteDeal | None:
        reply = call("GET", self.deal_path(deal_id), allow=(404,))
        if reply.status == 404:
            return None
        return self.read_deal(reply)

    @abstractmethod
    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """``(path, body)`` of the create request."""

    def create_deal(
        self, call: Call, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> RemoteDeal:
        path, body = self.create_request(workspace_id, deal_id, fields)
        reply = call("POST", path, json=body, allow=(409,))
        if reply.status != 409:
            return self.read_deal(reply, workspace_id)
        # The id exists already: most likely our own earlier attempt, committed before the
        # connection dropped. Read it back; anything else is a real conflict.
        existing = self.get_deal(call, deal_id)
        if existing is None or existing.workspace_id != workspace_id:
            code, message = error_details(reply.text)
            raise RemoteError(409, code, message, request=reply.request)
        return existing

    @abstractmethod
    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        """Update a deal; with ``if_match`` (an entity tag), None when it changed since."""

    def delete_deal(self, call: Call, deal_id: str, if_match: str | None = None) -> bool:
        """Delete; a 404 means someone deleted it already, which is what we wanted.
        With ``if_match``, False when the deal changed since (412): nothing was deleted."""
        reply = self.write(call, "DELETE", self.deal_path(deal_id), None, if_match)
        if reply is None:
            return False
        enveloped = self.payload_field() is not None
        if enveloped and reply.status not in (204, 404) and reply.text.strip():
            with reading(reply):
                self.payload(reply)  # an envelope saying success: false raises
        return True

    @staticmethod
    def write(call: Call, method: str, path: str, body: Any, if_match: str | None) -> Reply | None:
        """Send a write; with ``if_match``, conditionally: None when the deal changed
        since that tag (412) or is gone (404, except for a DELETE, where gone is done)."""
        gone_ok = (404,) if method == "DELETE" else ()
        if if_match is None:
            return call(method, path, json=body, allow=gone_ok)
        reply = call(method, path, json=body, headers={"If-Match": if_match}, allow=(404, 412))
        if reply.status == 412 or (reply.status == 404 and not gone_ok):
            return None
        return reply


class DocumentedDialect(Dialect):
    name = "documented"
    sends_outcome = True
    stages_in: ClassVar[Mapping[str, tuple[str, str | None]]] = {
        "prospect": ("prospect", None),
        "qualified": ("qualified", None),
        "proposal": ("proposal", None),
        "negotiation": ("negotiation", None),
        "closed_won": ("closed", "won"),
        "closed_lost": ("closed", "lost"),
        "closed": ("closed", None),
    }

    def remote_stage(self, stage: str, outcome: str | None) -> str:
        return f"closed_{outcome}" if stage == "closed" else stage

    def payload(self, reply: Reply) -> Any:
        return reply.json()

    def read_deal(self, reply: Reply, workspace_id: str | None = None) -> RemoteDeal:
        with reading(reply):
            body = reply.json()
            if isinstance(body, dict) and "id" not in body and isinstance(body.get("deal"), dict):
                # Some servers wrap a single record as {"deal": {...}}.
                return self.from_remote(body["deal"], field="deal", workspace_id=workspace_id)
            return self.from_remote(body, field=None, workspace_id=workspace_id)

    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]:
        reply = call("GET", "/api/v1/workspaces")
        with reading(reply):
            body = Fields(reply.json(), None)
            _, items = body.raw("workspaces", required=True)
            return [
                self.workspace_from(item, f"workspaces[{i}]")
                for i, item in enumerate(expect_list(items, "workspaces"))
            ]

    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]:
        path = f"/api/v1/workspaces/{segment(workspace_id)}/deals"
        deals: dict[str, RemoteDeal] = {}
        offset = 0
        for _ in range(MAX_PAGES):
            reply = call("GET", path, params={"limit": page_size, "offset": offset})
            with reading(reply):
                body = Fields(reply.json(), None)
                _, items = body.raw("deals", required=True)
                page = [
                    self.from_remote(item, field=f"deals[{i}]", workspace_id=workspace_id)
                    for i, item in enumerate(expect_list(items, "deals"))
                ]
                total = body.integer("total", required=True, nullable=False, minimum=0)
                assert total is not None
                fresh = [deal for deal in page if deal.id not in deals]
                if page and not fresh:
                    raise MalformedResponseError(
                        f"paging does not advance: offset {offset} returned only deals "
                        "already read (is offset ignored?)",
                        field="deals",
                    )
            # Deals created or deleted while we page can shift offsets: the same deal may
            # come twice (kept once, last copy wins).
            deals.update((deal.id, deal) for deal in page)
            offset += len(page)
            if not page or offset >= total:
                return list(deals.values())
        raise MalformedResponseError(f"more than {MAX_PAGES} pages", request=f"GET {path}")

    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        body = {"id": deal_id, "workspaceId": workspace_id, **self.to_remote(fields)}
        return "/api/v1/deals", body

    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        record = {**full, **changes}
        missing = [name for name in DEAL_FIELDS if name not in record]
        if missing:
            raise ValueError(f"PUT needs the whole record; missing: {', '.join(missing)}")
        body = {"id": deal_id, **self.to_remote({name: record[name] for name in DEAL_FIELDS})}
        reply = self.write(call, "PUT", self.deal_path(deal_id), body, if_match)
        return None if reply is None else self.read_deal(reply)


class DeployedDialect(Dialect):
    name = "deployed"
    sends_outcome = False
    stages_in: ClassVar[Mapping[str, tuple[str, str | None]]] = {
        "lead": ("prospect", None),
        "qualified": ("qualified", None),
        "proposal": ("proposal", None),
        "negotiation": ("negotiation", None),
        "won": ("closed", "won"),
        "lost": ("closed", "lost"),
    }
    SORT: ClassVar[dict[str, str]] = {"sortBy": "createdAt", "sortOrder": "asc"}

    def remote_stage(self, stage: str, outcome: str | None) -> str:
        if stage == "closed":
            assert outcome is not None
            return outcome
        return "lead" if stage == "prospect" else stage

    def payload(self, reply: Reply) -> Any:
        body = reply.json()
        if not isinstance(body, dict) or "success" not in body:
            raise MalformedResponseError(
                f'expected the {{"success": ..., "data": ...}} envelope, got {_kind(body)} '
                f"{_show(body)}"
            )
        success = body["success"]
        if not isinstance(success, bool):
            raise MalformedResponseError(
                f"must be true or false (got {_kind(success)})", field="success"
            )
        if not success:
            code, message = error_details(reply.text)
            raise RemoteError(reply.status, code, message, request=reply.request)
        if "data" not in body:
            raise MalformedResponseError("is missing", field="data")
        return body["data"]

    def payload_field(self) -> str | None:
        return "data"

    def _pages(
        self, call: Call, path: str, page_size: int, extra: Mapping[str, Any]
    ) -> Iterator[tuple[Reply, list[Any]]]:
        """Every page of a paginated list: ``(reply, items)``, until ``hasNext`` is false.

        A plain array in ``data`` (no pagination) is read as the whole list.
        """
        for number in range(1, MAX_PAGES + 1):
            reply = call("GET", path, params={"page": number, "limit": page_size, **extra})
            with reading(reply):
                data = self.payload(reply)
                if isinstance(data, list) and number == 1:
                    items, more = data, False
                else:
                    items, more = self._page(data, number)
            yield reply, items
            if not more:
                return
        raise MalformedResponseError(f"more than {MAX_PAGES} pages", request=f"GET {path}")

    @staticmethod
    def _page(data: Any, number: int) -> tuple[list[Any], bool]:
        """``(items, whether another page follows)`` of one page's ``data``."""
        body = Fields(data, "data")
        _, raw_items = body.raw("items", required=True)
        items = expect_list(raw_items, "data.items")
        _, raw_pagination = body.raw("pagination", required=True)
        pagination = Fields(raw_pagination, "data.pagination")
        page = pagination.integer("page", required=True, nullable=False)
        total_pages = pagination.integer("totalPages", required=True, nullable=False, minimum=0)
        has_next = pagination.boolean("hasNext")
        pagination.integer("total", required=True, nullable=False, minimum=0)
        pagination.integer("limit", nullable=False, minimum=1)
        pagination.boolean("hasPrev", required=False)
        assert total_pages is not None
        if page != number:
            raise pagination.fail("page", f"is {page}, but page {number} was asked for")
        more = bool(has_next) and number < total_pages
        if more and not items:
            raise pagination.fail("hasNext", "is true, but the page has no items")
        return items, more

    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]:
        found: dict[str, RemoteWorkspace] = {}
        for reply, items in self._pages(call, "/api/v1/workspaces", 100, {}):
            with reading(reply):
                for i, item in enumerate(items):
                    workspace = self.workspace_from(item, f"data.items[{i}]")
                    found[workspace.id] = workspace
        return list(found.values())

    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]:
        path = f"/api/v1/workspaces/{segment(workspace_id)}/deals"
        deals: dict[str, RemoteDeal] = {}
        # Oldest first: deals created while we page land on the last page instead of
        # shifting the ones not read yet.
        for reply, items in self._pages(call, path, page_size, self.SORT):
            with reading(reply):
                for i, item in enumerate(items):
                    deal = self.from_remote(
                        item, field=f"data.items[{i}]", workspace_id=workspace_id
                    )
                    deals[deal.id] = deal
        return list(deals.values())

    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        body = {"id": deal_id, **self.to_remote(fields)}
        return f"/api/v1/workspaces/{segment(workspace_id)}/deals", body

    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        patch = {name: value for name, value in changes.items() if name not in _STAGE_PAIR}
        if _STAGE_PAIR & set(changes):
            record = {**full, **changes}
            patch["stage"] = record.get("stage")
            patch["outcome"] = record.get("outcome")
        if not patch:
            current = self.get_deal(call, deal_id)
            if current is None:
                request = f"GET {self.deal_path(deal_id)}"
                raise RemoteError(404, None, "deal not found", request=request)
            return current
        reply = self.write(call, "PATCH", self.deal_path(deal_id), self.to_remote(patch), if_match)
        return None if reply is None else self.read_deal(reply)


_STAGE_PAIR: Final = frozenset({"stage", "outcome"})
_DIALECTS: Final[dict[str, type[Dialect]]] = {
    "documented": DocumentedDialect,
    "deployed": DeployedDialect,
}


def dialect_for(name: str) -> Dialect:
    """The dialect called ``name`` (``documented`` or ``deployed``)."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _DIALECTS:
        raise ValueError(f"unknown dialect {name!r}; use auto, {' or '.join(DIALECT_NAMES)}")
    return _DIALECTS[key]()
