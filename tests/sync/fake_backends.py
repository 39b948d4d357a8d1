"""In-memory fakes of the team backend, one per dialect, serving real HTTP on loopback.

Standard library only (``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread), faithful
to the wire formats of the two dialects:

``documented``  bare JSON; lists ``{"deals": [...], "total": N}`` paged by ``limit``/``offset``;
                ``POST /api/v1/deals`` (``workspaceId`` in the body); ``PUT`` the whole record;
                ``DELETE`` answers 204; stages prospect..negotiation, closed_won/closed_lost
                (plus an ``outcome`` field); errors ``{"error": "Not Found", "message": ...}``.
``deployed``    ``{"success": true, "data": ...}`` everywhere; errors ``{"success": false,
                "error": {"code", "message"}}``; lists ``data.items`` + ``data.pagination``
                (``page``/``limit``/``sortBy``/``sortOrder``, default newest first);
                ``POST /api/v1/workspaces/:id/deals``; ``PATCH`` with changed fields only;
                stages lead/qualified/proposal/negotiation/won/lost; ``value``/``probability``
                may be null.

Usage (also as a pytest fixture)::

    with FakeBackend("deployed") as server:
        ws = server.add_workspace("Acme")
        server.add_deal(ws["id"], title="Big one", stage="won", value=None)
        client = RemoteBackend(server.url, server.token)
        server.faults.append(Fault.error(503, retry_after="2"))  # next request gets a 503
        server.edit_deal(deal_id, stage="lost")  # another client's change (bumps updatedAt)
        server.requests  # every request: method, path, query, headers, body, fault

``server.deals`` and ``server.workspaces`` hold the records in the dialect's own JSON
(camelCase, the dialect's stage names); edit them directly to simulate another client.
``server.faults`` is served first-in first-out before normal handling (a fault with
``match="POST /api/v1"`` only fires for requests starting that way). ``server.errors``
collects exceptions raised inside the fake itself (assert it stays empty).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DOCUMENTED = "documented"
DEPLOYED = "deployed"
DIALECTS = (DOCUMENTED, DEPLOYED)

STAGES = {
    DOCUMENTED: ("prospect", "qualified", "proposal", "negotiation", "closed_won", "closed_lost"),
    DEPLOYED: ("lead", "qualified", "proposal", "negotiation", "won", "lost"),
}
_DOC_OUTCOME = {"closed_won": "won", "closed_lost": "lost"}
DEAL_KEYS = (
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "contactName",
    "contactEmail",
    "closeDate",
    "lostReason",
)
_TEXT_KEYS = ("company", "contactName", "contactEmail", "lostReason")
SORTABLE = ("createdAt", "updatedAt", "title", "value")


@dataclass
class Fault:
    """Something to go wrong with the next matching request.

    ``kind``: ``"error"`` (answer ``status`` with ``body`` and optional ``Retry-After``),
    ``"delay"`` (wait ``seconds``, then close the connection unanswered, handling nothing),
    ``"drop"`` (close the connection at once, unanswered, handling nothing), ``"after"``
    (handle the request, committing any change, then close unanswered), ``"body"`` (answer
    ``status`` with the raw ``body``). ``match`` limits it to requests whose ``"METHOD /path"``
    starts with it; ``skip`` lets that many matching requests through before it fires.
    Build them with the class methods, then ``dataclasses.replace(fault, skip=1)`` if needed.
    """

    kind: str
    status: int = 500
    body: str | None = None
    content_type: str = "application/json"
    retry_after: str | None = None
    seconds: float = 0.0
    match: str | None = None
    skip: int = 0  # let this many matching requests through first

    @classmethod
    def error(
        cls,
        status: int,
        *,
        retry_after: str | int | None = None,
        body: str | None = None,
        content_type: str = "application/json",
        match: str | None = None,
    ) -> Fault:
        after = None if retry_after is None else str(retry_after)
        return cls("error", status, body, content_type, after, match=match)

    @classmethod
    def delay(cls, seconds: float, *, match: str | None = None) -> Fault:
        return cls("delay", seconds=seconds, match=match)

    @classmethod
    def drop(cls, *, match: str | None = None) -> Fault:
        return cls("drop", match=match)

    @classmethod
    def commit_then_drop(cls, *, match: str | None = None) -> Fault:
        return cls("after", match=match)

    @classmethod
    def raw(
        cls,
        body: str,
        *,
        status: int = 200,
        content_type: str = "application/json",
        match: str | None = None,
    ) -> Fault:
        return cls("body", status, body, content_type, match=match)

    def matches(self, method: str, path: str) -> bool:
        return self.match is None or f"{method} {path}".startswith(self.match)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, the raw text if not JSON, None if empty
    fault: str | None = None  # the kind of fault served, if any


@dataclass
class _Answer:
    status: int
    payload: Any = None  # JSON-able, or None for no body
    headers: dict[str, str] = field(default_factory=dict)


class _Problem(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class FakeBackend:
    """One fake backend speaking ``dialect``; start it, or use it as a context manager."""

    def __init__(
        self,
        dialect: str,
        *,
        token: str = "test-token",
        max_page_size: int = 100,
        duplicate_create: str = "conflict",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}")
        if duplicate_create not in ("conflict", "return"):
            raise ValueError("duplicate_create is 'conflict' (409) or 'return' (200, the record)")
        self.dialect = dialect
        self.token = token
        self.max_page_size = max_page_size
        # What a POST whose id exists gets: "conflict" -> 409, "return" -> 200 and the record.
        self.duplicate_create = duplicate_create
        self.deals: dict[str, dict[str, Any]] = {}
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self.errors: list[BaseException] = []
        self.tls = tls  # a server-side context: serve HTTPS instead of HTTP
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeBackend:
        backend = self

        class Handler(_Handler):
            fake = backend

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        if self.tls is not None:  # the handshake happens in the handler thread
            httpd.socket = self.tls.wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the fake backend is not running"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- state helpers for tests -----------------------------------------------------------

    def stamp(self) -> str:
        """A strictly increasing UTC timestamp, ISO with milliseconds and ``Z``."""
        with self.lock:
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if now <= self._last_stamp:
                now = self._last_stamp + timedelta(milliseconds=1)
            self._last_stamp = now
            return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add_workspace(self, name: str = "Workspace", id: str | None = None) -> dict[str, Any]:
        workspace_id = id or str(uuid.uuid4())
        with self.lock:
            self.workspaces[workspace_id] = {
                "id": workspace_id,
                "name": name,
                "createdAt": self.stamp(),
            }
            return self.workspaces[workspace_id]

    def add_deal(self, workspace_id: str, **fields: Any) -> dict[str, Any]:
        """Store a deal (wire names and stages); defaults for what is not given."""
        deal_id = str(fields.pop("id", None) or uuid.uuid4())
        stamp = self.stamp()
        deal: dict[str, Any] = {
            "id": deal_id,
            "workspaceId": workspace_id,
            "title": "Deal",
            "company": None,
            "value": 1000.0,
            "stage": STAGES[self.dialect][0],
            "probability": 10,
            "contactName": None,
            "contactEmail": None,
            "closeDate": None,
            "lostReason": None,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        deal.update(fields)
        if self.dialect == DOCUMENTED:
            deal.setdefault("outcome", _DOC_OUTCOME.get(deal["stage"]))
        with self.lock:
            self.deals[deal_id] = deal
        return deal

    def edit_deal(self, deal_id: str, **fields: Any) -> dict[str, Any]:
        """Another client's change: update wire fields and bump ``updatedAt``."""
        with self.lock:
            deal = self.deals[deal_id]
            deal.update(fields)
            if self.dialect == DOCUMENTED and "stage" in fields and "outcome" not in fields:
                deal["outcome"] = _DOC_OUTCOME.get(deal["stage"])
            deal["updatedAt"] = self.stamp()
            return deal

    def deals_in(self, workspace_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d in self.deals.values() if d["workspaceId"] == workspace_id]

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests were received (optionally of one method and path prefix)."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(path_prefix)
            )

    # -- the wire --------------------------------------------------------------------------

    def ok(self, data: Any, status: int = 200) -> _Answer:
        if self.dialect == DEPLOYED:
            return _Answer(status, {"success": True, "data": data})
        return _Answer(status, data)

    def error_payload(self, status: int, code: str | None, message: str) -> dict[str, Any]:
        code = code or _CODES.get(status, "ERROR")
        if self.dialect == DEPLOYED:
            return {"success": False, "error": {"code": code, "message": message}}
        return {"error": _REASONS.get(status, "Error"), "message": message}

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    return self.faults.pop(index)
        return None

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> _Answer:
        if method == "GET" and path == "/health":
            data = {
                "status": "ok" if self.dialect == DOCUMENTED else "healthy",
                "timestamp": self.stamp(),
            }
            return self.ok(data)
        if headers.get("authorization") != f"Bearer {self.token}":
            raise _Problem(401, "UNAUTHORIZED", "Invalid or expired token")
        with self.lock:
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> _Answer:
        if path == "/api/v1/workspaces" and method == "GET":
            return self._list_workspaces(query)
        match = re.fullmatch(r"/api/v1/workspaces/([^/]+)/deals", path)
        if match:
            workspace_id = unquote(match.group(1))
            if method == "GET":
                return self._list_deals(workspace_id, query)
            if method == "POST" and self.dialect == DEPLOYED:
                return self._create(workspace_id, body)
        if path == "/api/v1/deals" and method == "POST" and self.dialect == DOCUMENTED:
            data = _object(body)
            workspace_id = data.get("workspaceId")
            if not isinstance(workspace_id, str) or not workspace_id:
                raise _Problem(400, "VALIDATION_ERROR", "workspaceId is required")
            return self._create(workspace_id, data)
        match = re.fullmatch(r"/api/v1/deals/([^/]+)", path)
        if match:
            deal_id = unquote(match.group(1))
            if method == "GET":
                return self.ok(self._deal(deal_id))
            if method == "PUT" and self.dialect == DOCUMENTED:
                return self._update(deal_id, body, full=True)
            if method == "PATCH" and self.dialect == DEPLOYED:
                return self._update(deal_id, body, full=False)
            if method == "DELETE":
                self._deal(deal_id)
                del self.deals[deal_id]
                if self.dialect == DOCUMENTED:
                    return _Answer(204)
                return self.ok({"id": deal_id})
        raise _Problem(404, "NOT_FOUND", f"Cannot {method} {path}")

    def _deal(self, deal_id: str) -> dict[str, Any]:
        if deal_id not in self.deals:
            raise _Problem(404, "NOT_FOUND", f"Deal {deal_id} not found")
        return self.deals[deal_id]

    def _workspace(self, workspace_id: str) -> dict[str, Any]:
        if workspace_id not in self.workspaces:
            raise _Problem(404, "NOT_FOUND", f"Workspace {workspace_id} not found")
        return self.workspaces[workspace_id]

    def _list_workspaces(self, query: dict[str, str]) -> _Answer:
        items = [{**w, "dealCount": len(self.deals_in(w["id"]))} for w in self.workspaces.values()]
        if self.dialect == DOCUMENTED:
            return _Answer(200, {"workspaces": items})
        return self.ok(self._paginate(items, query))

    def _list_deals(self, workspace_id: str, query: dict[str, str]) -> _Answer:
        self._workspace(workspace_id)
        deals = self.deals_in(workspace_id)
        if query.get("stage"):
            deals = [d for d in deals if d["stage"] == query["stage"]]
        if self.dialect == DOCUMENTED:
            deals.sort(key=lambda d: d["createdAt"])
            limit = min(_int_param(query, "limit", 50, minimum=1), self.max_page_size)
            offset = _int_param(query, "offset", 0, minimum=0)
            return _Answer(200, {"deals": deals[offset : offset + limit], "total": len(deals)})
        sort_by = query.get("sortBy", "createdAt")
        if sort_by not in SORTABLE:
            raise _Problem(400, "VALIDATION_ERROR", f"sortBy must be one of {', '.join(SORTABLE)}")
        order = query.get("sortOrder", "desc")
        if order not in ("asc", "desc"):
            raise _Problem(400, "VALIDATION_ERROR", "sortOrder must be asc or desc")
        deals.sort(key=lambda d: (d[sort_by] is None, d[sort_by] or 0), reverse=order == "desc")
        return self.ok(self._paginate(deals, query))

    def _paginate(self, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        page = _int_param(query, "page", 1, minimum=1)
        limit = min(_int_param(query, "limit", 20, minimum=1), self.max_page_size)
        total = len(items)
        total_pages = math.ceil(total / limit)
        start = (page - 1) * limit
        return {
            "items": items[start : start + limit],
            "pagination": {
                "page": page,
                "limit": limit,
                "total": total,
                "totalPages": total_pages,
                "hasNext": page < total_pages,
                "hasPrev": page > 1,
            },
        }

    def _create(self, workspace_id: str, body: Any) -> _Answer:
        self._workspace(workspace_id)
        data = _object(body)
        allowed = {*DEAL_KEYS, "id"} | (
            {"workspaceId", "outcome"} if self.dialect == DOCUMENTED else set()
        )
        self._validate(data, allowed, required=("title", "stage"))
        deal_id = data.get("id") or str(uuid.uuid4())
        if not isinstance(deal_id, str):
            raise _Problem(400, "VALIDATION_ERROR", "id must be a string")
        if deal_id in self.deals:
            if self.duplicate_create == "conflict":
                raise _Problem(409, "CONFLICT", f"Deal {deal_id} already exists")
            return self.ok(self.deals[deal_id])
        fields = {k: v for k, v in data.items() if k not in ("id", "workspaceId")}
        deal = self.add_deal(workspace_id, id=deal_id, **fields)
        return self.ok(deal, status=201)

    def _update(self, deal_id: str, body: Any, *, full: bool) -> _Answer:
        deal = self._deal(deal_id)
        data = _object(body)
        allowed = set(DEAL_KEYS) | ({"id", "workspaceId", "outcome"} if full else set())
        self._validate(data, allowed, required=(*DEAL_KEYS, "outcome") if full else ())
        if "id" in data and data["id"] != deal_id:
            raise _Problem(400, "VALIDATION_ERROR", "id in the body differs from the URL")
        fields = {k: v for k, v in data.items() if k not in ("id", "workspaceId")}
        return self.ok(self.edit_deal(deal["id"], **fields))

    def _validate(self, data: dict[str, Any], allowed: set[str], required: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                raise _Problem(400, "VALIDATION_ERROR", f"Unknown field '{key}'")
        for key in required:
            if key not in data:
                raise _Problem(400, "VALIDATION_ERROR", f"{key} is required")
        problems: list[str] = []
        if "title" in data and (not isinstance(data["title"], str) or not data["title"].strip()):
            problems.append("title must be a non-empty string")
        if "stage" in data and data["stage"] not in STAGES[self.dialect]:
            problems.append(f"stage must be one of {', '.join(STAGES[self.dialect])}")
        for key in _TEXT_KEYS:
            if key in data and data[key] is not None and not isinstance(data[key], str):
                problems.append(f"{key} must be a string or null")
        value = data.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append("value must be a number or null")
        probability = data.get("probability")
        if probability is not None and (
            isinstance(probability, bool)
            or not isinstance(probability, int)
            or not 0 <= probability <= 100
        ):
            problems.append("probability must be a whole number from 0 to 100 or null")
        close = data.get("closeDate")
        if close is not None:
            try:
                date.fromisoformat(close)
            except (TypeError, ValueError):
                problems.append("closeDate must be YYYY-MM-DD or null")
        if self.dialect == DOCUMENTED and "outcome" in data and "stage" in data:
            expected = _DOC_OUTCOME.get(data["stage"])
            if data["outcome"] != expected:
                problems.append(f"outcome must be {expected} for stage {data['stage']}")
        if problems:
            raise _Problem(422, "VALIDATION_ERROR", "; ".join(problems))


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _Problem(400, "VALIDATION_ERROR", "the body must be a JSON object")
    return body


def _int_param(query: dict[str, str], name: str, default: int, *, minimum: int) -> int:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise _Problem(400, "VALIDATION_ERROR", f"{name} must be a whole number") from None
    if value < minimum:
        raise _Problem(400, "VALIDATION_ERROR", f"{name} must be at least {minimum}")
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)
    fake: FakeBackend

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def handle(self) -> None:
        # A client that gives up (timeout, rejected certificate) is normal here, not noise.
        with contextlib.suppress(OSError):
            super().handle()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        fake = self.fake
        try:
            split = urlsplit(self.path)
            path = split.path
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            fault = fake.take_fault(self.command, path)
            with fake.lock:
                fake.requests.append(
                    LoggedRequest(
                        self.command, path, query, headers, body, fault.kind if fault else None
                    )
                )
            if fault is not None and fault.kind != "after":
                self._fault(fault)
                return
            try:
                if isinstance(body, str):
                    raise _Problem(400, "VALIDATION_ERROR", "the body is not valid JSON")
                answer = fake.handle(self.command, path, query, headers, body)
            except _Problem as problem:
                answer = _Answer(
                    problem.status,
                    fake.error_payload(problem.status, problem.code, problem.message),
                )
            if fault is not None:  # "after": the change is committed, the answer is lost
                self._drop()
                return
            self._send(answer.status, answer.payload, headers=answer.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        except Exception as exc:  # a bug in the fake: record it, answer 500
            fake.errors.append(exc)
            with contextlib.suppress(OSError):
                self._send(500, {"error": "fake backend crashed", "message": repr(exc)})

    def _fault(self, fault: Fault) -> None:
        if fault.kind == "drop":
            self._drop()
        elif fault.kind == "delay":
            self.fake._stopping.wait(fault.seconds)
            self._drop()
        elif fault.kind == "error":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.body is None:
                payload = self.fake.error_payload(fault.status, None, "injected fault")
                self._send(fault.status, payload, headers=headers)
            else:
                self._send_raw(fault.status, fault.body, fault.content_type, headers)
        elif fault.kind == "body":
            self._send_raw(fault.status, fault.body or "", fault.content_type, {})
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        text = "" if payload is None else json.dumps(payload)
        self._send_raw(status, text, "application/json", headers or {})

    def _send_raw(self, status: int, text: str, content_type: str, headers: dict[str, str]) -> None:
        data = text.encode("utf-8")
        self.send_response(status, _REASONS.get(status))
        if status != 204:
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if status != 204 and data:
            self.wfile.write(data)
        self.wfile.flush()
