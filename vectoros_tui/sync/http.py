"""The HTTP client for the team's backend: retries, timeouts, TLS, errors a rep can act on.

:class:`RemoteBackend` speaks either dialect (:mod:`vectoros_tui.sync.dialects`), detected
from ``GET /health`` when asked for ``"auto"``. Every call either returns complete, type-checked
data or raises a :class:`~vectoros_tui.sync.errors.SyncError`:

* timeouts, connection errors, 5xx and 429 are retried ``retries`` times with exponential
  backoff and full jitter (``Retry-After`` in seconds, or an HTTP date, is honoured on
  429/503), all capped at ``max_backoff``; then :class:`RemoteUnavailableError`;
* 401/403 raise :class:`AuthError` (run ``vectoros login``); other 4xx raise
  :class:`RemoteError` with the server's own message; none of them is retried;
* a body that is not what the API promises raises :class:`MalformedResponseError`;
* a TLS failure raises :class:`TLSError` at once (certificates do not fix themselves).

Every request, ``POST`` included, is safe to retry: creates carry a client-generated id
(the server answers 409 or the same record to a repeat), ``PUT``/``PATCH`` send absolute
values, and a repeated ``DELETE`` meets a 404, which counts as deleted.

The bearer token lives only in the client's default headers (httpx masks it in reprs). It is
never put in a message, a log line or an exception, and is redacted from anything the
server echoes back; exceptions are raised ``from None`` so no httpx exception (which holds
the request and its headers) is chained to them.
"""

from __future__ import annotations

import logging
import math
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from vectoros_tui import __version__
from vectoros_tui.store.roles import ROLES
from vectoros_tui.sync import remote_activities
from vectoros_tui.sync.dialect_base import Dialect
from vectoros_tui.sync.dialects import DIALECT_NAMES, detect_dialect, dialect_for
from vectoros_tui.sync.errors import (
    AuthError,
    MalformedResponseError,
    RemoteError,
    RemoteUnavailableError,
    SyncError,
    TLSError,
)
from vectoros_tui.sync.records import RemoteDeal, RemoteWorkspace
from vectoros_tui.sync.remote_activities import RemoteActivity
from vectoros_tui.sync.strict_json import Fields, expect_list
from vectoros_tui.sync.wire import Reply, error_details, reading, segment

log = logging.getLogger(__name__)

USER_AGENT: Final = f"vectoros-tui/{__version__}"
DIALECT_CHOICES: Final = ("auto", *DIALECT_NAMES)
REDACTED: Final = "[redacted]"
_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})

VerifyOption = bool | str | os.PathLike[str] | ssl.SSLContext


class RemoteBackend:
    """A client of the team's backend, in either dialect.

    ``base_url`` is the server (``https://crm.example.com``, optionally with a path prefix),
    ``token`` the bearer token, ``dialect`` ``"auto"``, ``"documented"`` or ``"deployed"``.
    ``timeout`` (seconds) applies to connecting and to each read; ``retries`` is how many
    times a failed request is sent again (so at most ``retries + 1`` attempts); the n-th
    retry waits a random time up to ``min(max_backoff, backoff * 2**(n-1))`` seconds
    (``jitter`` returns the fraction of it, default uniform in [0, 1)). ``verify`` is
    ``True`` (the certifi bundle, or ``SSL_CERT_FILE``), a CA bundle file or directory, an
    ``ssl.SSLContext``, or ``False`` (never in production). ``transport`` and ``sleep`` are
    for tests. ``page_size`` is the limit asked for per page of a list.

    Safe to share between threads (the sync pushes several deals at once over one
    connection pool); close it (or use it as a context manager) to release its connections.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        dialect: str = "auto",
        *,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 8.0,
        transport: httpx.BaseTransport | None = None,
        verify: VerifyOption = True,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 100,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        _check_token(token)
        host = httpx.URL(self.base_url).host
        if self.base_url.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("%s is plain HTTP: your access token travels unencrypted", self.base_url)
        choice = dialect.strip().lower() if isinstance(dialect, str) else ""
        if choice not in DIALECT_CHOICES:
            raise ValueError(f"unknown dialect {dialect!r}; use {', '.join(DIALECT_CHOICES)}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError("timeout must be a positive number of seconds")
        if retries < 0 or backoff < 0 or max_backoff < 0 or page_size < 1:
            raise ValueError("retries, backoff and max_backoff must be >= 0, page_size >= 1")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.page_size = int(page_size)
        self.verify = verify
        self._sleep = sleep
        self._jitter = jitter
        self._secret = _Secret(token)
        self._dialect: Dialect | None = None if choice == "auto" else dialect_for(choice)
        self._detect_lock = threading.Lock()
        self._facts: dict[str, Any] | None = None
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(self.timeout),
            transport=transport,
            verify=_ssl_option(verify),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        name = self._dialect.name if self._dialect else "auto"
        return f"RemoteBackend({self.base_url!r}, dialect={name!r})"

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the dialect -----------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        """The dialect in use; with ``"auto"``, the first access asks ``GET /health``."""
        if self._dialect is None:
            self._detect(self._call("GET", "/health"))
        assert self._dialect is not None
        return self._dialect

    @property
    def dialect_name(self) -> str:
        return self.dialect.name

    def _detect(self, reply: Reply) -> Dialect:
        with self._detect_lock:
            if self._dialect is None:
                self._dialect = dialect_for(detect_dialect(reply))
                log.info("sync server speaks the %s dialect", self._dialect.name)
            return self._dialect

    # -- the API ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The server's health answer (the envelope's ``data`` in the deployed dialect)."""
        reply = self._call("GET", "/health")
        dialect = self._dialect or self._detect(reply)
        return dialect.read_health(reply)

    def list_workspaces(self) -> list[RemoteWorkspace]:
        return self.dialect.list_workspaces(self._call)

    def list_deals(self, workspace_id: str) -> list[RemoteDeal]:
        """Every deal of the workspace (all pages read; a failure on any page raises)."""
        return self.dialect.list_deals(self._call, str(workspace_id), self.page_size)

    def get_deal(self, deal_id: str) -> RemoteDeal | None:
        """The deal, or ``None`` if the server answers 404."""
        return self.dialect.get_deal(self._call, str(deal_id))

    def create_deal(self, workspace_id: str, local_record: Mapping[str, Any]) -> RemoteDeal:
        """Create a deal with the client-generated ``local_record["id"]``.

        ``local_record`` holds ``id`` and local field names (``workspace_id`` is ignored if
        present). If the id exists already in this workspace (a retry after a lost answer),
        the stored deal is returned instead of a duplicate being made.
        """
        if "id" not in local_record or not str(local_record["id"]).strip():
            raise ValueError("create_deal needs the client-generated id in local_record['id']")
        fields = {k: v for k, v in local_record.items() if k not in ("id", "workspace_id")}
        fields.setdefault("outcome", None)
        return self.dialect.create_deal(
            self._call, str(workspace_id), str(local_record["id"]), fields
        )

    def _health_facts(self) -> dict[str, Any]:
        """What the backend's /health promises, asked once (empty when it fails: then
        nothing beyond the seed's API is assumed)."""
        if self._facts is None:
            try:
                self._facts = self.health()
            except SyncError as exc:
                log.info("no promises beyond the seed's API: /health failed (%s)", exc)
                self._facts = {}
        return self._facts

    @property
    def conditional_writes(self) -> bool:
        """Whether the backend promises to honour If-Match on deal writes (its /health
        says ``"conditionalWrites": true``): then a push need not read a deal first."""
        return self._health_facts().get("conditionalWrites") is True

    @property
    def extensions(self) -> frozenset[str]:
        """What the backend has beyond the seed's API, as its /health names them
        (``vectoros serve``: ``nextStep``, the deal's next-step fields, and ``activities``,
        the activity routes). None in the deployed dialect, which has neither."""
        if self.dialect.name != "documented":
            return frozenset()
        named = self._health_facts().get("extensions")
        if not isinstance(named, list):
            return frozenset()
        return frozenset(item for item in named if isinstance(item, str))

    def update_deal(
        self,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        """Update a deal: the documented dialect PUTs ``full`` (the whole record after the
        changes), the deployed one PATCHes ``changes`` only. A 404 raises RemoteError.
        With ``if_match`` (the deal's entity tag), the write is conditional: None when
        the deal changed since, or is gone (nothing was written)."""
        full_fields = {k: v for k, v in full.items() if k not in ("id", "workspace_id")}
        return self.dialect.update_deal(
            self._call, str(deal_id), dict(changes), full_fields, if_match
        )

    def members(self, workspace_id: str) -> dict[str, tuple[str, str | None, str]] | None:
        """The workspace's members, remote user id -> (email, name, role); None from a
        backend that does not list them with ids (only ``vectoros serve`` does)."""
        if self.dialect.name != "documented":
            return None
        reply = self._call("GET", f"/api/v1/workspaces/{segment(str(workspace_id))}")
        with reading(reply):
            body = Fields(reply.json(), None)
            present, items = body.raw("members", required=False)
            if not present:
                return None
            found: dict[str, tuple[str, str | None, str]] = {}
            for i, item in enumerate(expect_list(items, "members")):
                member = Fields(item, f"members[{i}]")
                user = member.identifier("userId")
                role = member.text("role").strip().lower()
                if role not in ROLES:
                    raise member.fail("role", f"must be one of {', '.join(ROLES)} (got {role!r})")
                email = member.text("email").strip().casefold()
                found[user] = (email, member.string("name"), role)
        return found

    def set_owner(self, deal_id: str, user_id: str) -> RemoteDeal | None:
        """Give a deal to the backend's user ``user_id`` (``vectoros serve``'s ownerId);
        None from a backend without owners."""
        if self.dialect.name != "documented":
            return None
        reply = self._call(
            "PUT", f"/api/v1/deals/{segment(str(deal_id))}", json={"ownerId": user_id}
        )
        return self.dialect.read_deal(reply)

    def delete_deal(self, deal_id: str, if_match: str | None = None) -> bool:
        """Delete a deal; one that is gone already (404) counts as deleted. With
        ``if_match``, False when the deal changed since (nothing was deleted)."""
        return self.dialect.delete_deal(self._call, str(deal_id), if_match)

    # -- activities (only a backend whose ``extensions`` name them) -----------------------

    def list_activities(self, workspace_id: str) -> list[RemoteActivity]:
        """Every activity of the workspace's deals (all pages read)."""
        return remote_activities.list_activities(self._call, str(workspace_id), self.page_size)

    def create_activity(
        self, deal_id: str, activity_id: str, record: Mapping[str, Any]
    ) -> RemoteActivity:
        """Add an activity with the client-generated ``activity_id`` to the backend's deal;
        a retry after a lost answer returns the one made, not a second."""
        return remote_activities.create_activity(self._call, str(deal_id), str(activity_id), record)

    def update_activity(self, activity_id: str, record: Mapping[str, Any]) -> RemoteActivity:
        return remote_activities.update_activity(self._call, str(activity_id), record)

    def delete_activity(self, activity_id: str) -> None:
        """Delete an activity; one gone already (404) counts as deleted."""
        remote_activities.delete_activity(self._call, str(activity_id))

    # -- sending, with retries -------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        allow: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        request = f"{method} {path}"
        attempts = self.retries + 1
        problem = "no attempt made"
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                response = self._client.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                detail = self._redact(_describe(exc))
                if _is_tls_failure(exc):
                    raise TLSError(request, detail) from None
                problem = detail
            except httpx.DecodingError as exc:
                raise MalformedResponseError(
                    f"the body could not be decoded ({self._redact(str(exc))})", request=request
                ) from None
            except httpx.HTTPError as exc:
                raise SyncError(
                    f"Could not talk to the sync server ({request}): {self._redact(_describe(exc))}"
                ) from None
            else:
                reply = Reply(
                    method=method,
                    path=path,
                    status=response.status_code,
                    text=self._redact(response.text),
                    content_type=response.headers.get("content-type", ""),
                )
                status = reply.status
                log.debug("%s -> %s (attempt %d)", request, status, attempt)
                if 200 <= status < 300 or status in allow:
                    return reply
                if status == 403 and method != "GET" and _is_record_path(path):
                    code, message = error_details(reply.text)
                    if code == "forbidden":
                        # A role refusal of this one change (a member editing a colleague's
                        # deal or its activities), not a bad sign-in: reported with the
                        # server's reason.
                        raise RemoteError(status, code, message, request=request)
                if status in (401, 403):
                    _, message = error_details(reply.text)
                    raise AuthError(status, message, request=request)
                if 300 <= status < 400:
                    location = self._redact(response.headers.get("location", "elsewhere"))
                    raise RemoteError(
                        status,
                        "redirect",
                        f"the server redirects to {location}; set the backend URL to that address",
                        request=request,
                    )
                if status != 429 and status < 500:
                    code, message = error_details(reply.text)
                    raise RemoteError(status, code, message, request=request)
                problem = f"HTTP {status}"
                if status in _RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
            if attempt == attempts:
                break
            delay = self._delay(attempt, retry_after)
            log.warning(
                "%s failed (%s); retry %d of %d in %.2f s",
                request,
                problem,
                attempt,
                self.retries,
                delay,
            )
            self._sleep(delay)
        raise RemoteUnavailableError(request, attempts, problem)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return ceiling * min(max(self._jitter(), 0.0), 1.0)

    def _redact(self, text: str) -> str:
        return self._secret.redact(text)


class _Secret:
    """The token, kept out of reprs; redacts itself (and its Bearer form) from text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<secret>"

    def redact(self, text: str) -> str:
        if len(self._value) >= 4 and self._value in text:
            return text.replace(self._value, REDACTED)
        return text


def _is_record_path(path: str) -> bool:
    """A deal's or an activity's route, where a 403 may be a role refusal of one change."""
    return "/deals" in path or "/activities" in path


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or ``None``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _check_base_url(base_url: str) -> str:
    text = (base_url or "").strip()
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"the backend URL must look like https://crm.example.com (got {base_url!r})"
        )
    if url.userinfo or url.query or url.fragment:
        raise ValueError("the backend URL must not contain a user, password, query or fragment")
    return text.rstrip("/")


def _check_token(token: str) -> None:
    if not isinstance(token, str) or not token.strip():
        raise ValueError("the access token is empty; run `vectoros login`")
    if any(ch.isspace() or not ch.isprintable() for ch in token) or not token.isascii():
        raise ValueError("the access token contains spaces or control characters")


_VERIFIED_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _verified_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once.

    Loading the CA bundle takes ~40 ms; an SSLContext is safe to share between clients.
    """
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _CONTEXTS_LOCK:
        if key not in _VERIFIED_CONTEXTS:
            _VERIFIED_CONTEXTS[key] = httpx.create_ssl_context()
        return _VERIFIED_CONTEXTS[key]


def _ssl_option(verify: VerifyOption) -> bool | ssl.SSLContext:
    if verify is True:
        return _verified_context()
    if isinstance(verify, bool | ssl.SSLContext):
        return verify
    path = Path(verify)
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        return ssl.create_default_context(cafile=str(path))
    raise ValueError(f"CA bundle not found: {path}")


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, httpx.ConnectError):
        what = "could not connect"
    elif isinstance(exc, httpx.RemoteProtocolError):
        what = "the connection was closed without a complete answer"
    elif isinstance(exc, httpx.NetworkError):
        what = "the connection failed"
    else:
        what = type(exc).__name__
    return f"{what} ({text})" if text else what
