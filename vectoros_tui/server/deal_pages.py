"""Pages of a workspace's deal list served from memory (GET /api/v1/workspaces/{id}/deals).

Listing is what a team backend does most: every client's sync pages through the whole
workspace. Through FastAPI each page of 100 cost ~6 ms of CPU (token, membership, the page
query, 100 deals to JSON, the framework), so 20 clients on 2 cores queued for ~100 ms.

Here a worker keeps each listed workspace's deals as ready-made JSON, one piece per deal,
and answers a page with one query that checks the token, the membership and the
workspace's ``deals_revision`` together. The revision is bumped by database triggers in
the same transaction as any change of the workspace's deals, whoever makes it (migration
0007), so a list is only used while it is exactly current.

Anything unusual is left to the FastAPI route, which stays the reference: a request that
does not parse cleanly, a missing or unknown token, a workspace the caller is not in, a
token due for its last-used stamp, a database error, a list not built yet. So errors, and
their wording, come from one place. A list is built in the background after the second
miss at the same revision: a single page read after each change never pays for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import make_url
from sqlmodel import col

from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.server.access import deal_list_query
from vectoros_tui.server.schemas import deal_json
from vectoros_tui.server.tokens import TOUCH_EVERY, hash_token
from vectoros_tui.store.database import Database
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.tables import ApiToken, Workspace, WorkspaceMember, utcnow
from vectoros_tui.store.views import DealView

if TYPE_CHECKING:
    from vectoros_tui.server.backend import Backend

log = logging.getLogger(__name__)

PATH = re.compile(r"/api/v1/workspaces/([^/]+)/deals")
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
MAX_TOKEN = 200  # TokenService.authenticate refuses longer ones
CACHE_BYTES = 64 * 2**20  # per worker process
BUILD_AFTER_MISSES = 2
RETRY_AFTER_ERROR_S = 5.0
JSON_HEADERS = [(b"content-type", b"application/json")]

ListKey = tuple[uuid.UUID, str | None, str | None]  # workspace, stage, outcome


def compact_json(data: Any) -> bytes:
    """The API's JSON bytes; the FastAPI route and this module both use it, so a page
    served from memory is byte for byte the page the route would send."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class PageRequest:
    workspace_id: uuid.UUID
    stage: str | None
    outcome: str | None
    limit: int
    offset: int
    token: str

    @property
    def key(self) -> ListKey:
        return (self.workspace_id, self.stage, self.outcome)


def _number(values: dict[str, str], name: str, default: int, low: int, high: int) -> int | None:
    raw = values.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    return number if low <= number <= high else None


def parse_request(scope: dict[str, Any]) -> PageRequest | None:
    """The page a plain, valid request asks for; None leaves the request to the route."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    matched = PATH.fullmatch(scope["path"])
    if matched is None:
        return None
    workspace_id = parse_uuid(matched.group(1))
    if workspace_id is None:
        return None
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    values = dict(pairs)
    if len(values) != len(pairs):  # a repeated parameter: the route decides
        return None
    limit = _number(values, "limit", 100, 1, MAX_LIMIT)
    offset = _number(values, "offset", 0, 0, MAX_OFFSET)
    if limit is None or offset is None:
        return None
    stage = outcome = None
    if values.get("stage", "").strip():
        try:
            stage, outcome = normalise_stage(values["stage"])
        except UnknownStageError:
            return None
    token = _bearer(scope)
    if token is None:
        return None
    return PageRequest(workspace_id, stage, outcome, limit, offset, token)


def _bearer(scope: dict[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not credentials or len(credentials) > MAX_TOKEN:
                return None
            return credentials
    return None


@dataclass(frozen=True)
class DealList:
    """A workspace's (filtered) deals at one revision, each as its JSON bytes."""

    revision: int
    deals: list[bytes]

    @property
    def size(self) -> int:
        return sum(len(deal) for deal in self.deals) + 64 * len(self.deals)

    def page(self, offset: int, limit: int) -> bytes:
        chosen = b",".join(self.deals[offset : offset + limit])
        return b'{"deals":[' + chosen + b'],"total":' + str(len(self.deals)).encode() + b"}"


class DealListCache:
    """Lists by (workspace, stage, outcome), least recently used dropped past a byte
    budget; and the misses that decide when a list is worth building."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._lists: OrderedDict[ListKey, tuple[DealList, int]] = OrderedDict()
        self._bytes = 0
        self._misses: dict[ListKey, tuple[int, int]] = {}
        self.hits = 0

    def get(self, key: ListKey, revision: int) -> DealList | None:
        found = self._lists.get(key)
        if found is None or found[0].revision != revision:
            return None
        self._lists.move_to_end(key)
        self.hits += 1
        return found[0]

    def put(self, key: ListKey, deals: DealList) -> None:
        size = deals.size
        old = self._lists.get(key)
        if old is not None and old[0].revision > deals.revision:
            return  # a slower build finished after a newer one
        if old is not None:
            self._bytes -= self._lists.pop(key)[1]
        if size > self.budget:
            return
        self._lists[key] = (deals, size)
        self._bytes += size
        while self._bytes > self.budget:
            self._bytes -= self._lists.popitem(last=False)[1][1]

    def missed(self, key: ListKey, revision: int) -> bool:
        """Note a miss; True when the list should now be built."""
        seen_revision, count = self._misses.get(key, (revision, 0))
        count = count + 1 if seen_revision == revision else 1
        self._misses[key] = (revision, count)
        if len(self._misses) > 4096:  # forget old keys; a rebuild costs one extra miss
            self._misses.clear()
            self._misses[key] = (revision, count)
        return count >= BUILD_AFTER_MISSES

    def __len__(self) -> int:
        return len(self._lists)


# --- the one query per request ------------------------------------------------------------

Access = tuple[int, datetime | None]  # the workspace's deals_revision, the token's last use

# One query checks the token, the membership and reads the revision. Written once: run
# through SQLAlchemy on SQLite, and as its compiled Postgres text on the async pool.
ACCESS_QUERY = (
    select(col(Workspace.deals_revision), col(ApiToken.last_used_at))
    .join(WorkspaceMember, col(WorkspaceMember.user_id) == ApiToken.user_id)
    .join(Workspace, col(Workspace.id) == WorkspaceMember.workspace_id)
    .where(
        col(ApiToken.token_hash) == bindparam("token_hash"),
        col(ApiToken.revoked_at).is_(None),
        col(Workspace.id) == bindparam("workspace_id"),
    )
)
_PG_ACCESS = str(ACCESS_QUERY.compile(dialect=psycopg_dialect()))


def _access_params(token_hash: str, workspace_id: uuid.UUID) -> dict[str, Any]:
    return {"token_hash": token_hash, "workspace_id": workspace_id}


def access_of(db: Database, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
    """:data:`ACCESS_QUERY` through SQLAlchemy (SQLite, or Postgres without the pool)."""
    with db.read() as session:
        row = session.execute(ACCESS_QUERY, _access_params(token_hash, workspace_id)).first()
    return (int(row[0]), row[1]) if row is not None else None


def load_deal_list(db: Database, key: ListKey) -> DealList | None:
    """Every deal of the list as JSON, at the revision read first: a change committed in
    between is in the list but not in its revision, so the list is only ever newer than
    its revision says, never older."""
    workspace_id, stage, outcome = key
    _, rows = deal_list_query(workspace_id, stage, outcome)
    with db.read() as session:
        connection = session.connection()
        revision = connection.execute(
            select(col(Workspace.deals_revision)).where(col(Workspace.id) == workspace_id)
        ).scalar_one_or_none()
        if revision is None:
            return None
        deals = [
            compact_json(deal_json(DealView(**row._mapping))) for row in connection.execute(rows)
        ]
    return DealList(int(revision), deals)


def postgres_conninfo(database_url: str) -> str | None:
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class DealPages:
    """The cache, the access check and the background builds of one worker process."""

    def __init__(self, backend: Backend, budget: int = CACHE_BYTES) -> None:
        self.backend = backend
        self.cache = DealListCache(budget)
        self.builds = 0
        self._conninfo = postgres_conninfo(backend.database_url)
        if self._conninfo is not None:
            try:
                import psycopg_pool  # noqa: F401
            except ImportError:
                # Installed without the server extra: the same check through SQLAlchemy, in
                # a thread (slower, still correct).
                log.warning("deal pages: psycopg-pool is not installed; pip install '.[server]'")
                self._conninfo = None
        self._pool: Any = None
        self._building: set[ListKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused_until = 0.0
        self._pool_lock = asyncio.Lock()

    async def respond(self, request: PageRequest) -> bytes | None:
        """The page's body, or None when the route must answer."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            access = await self._access(hash_token(request.token), request.workspace_id)
        except Exception as exc:  # database down or restarting: the route reports it
            self._paused_until = time.monotonic() + RETRY_AFTER_ERROR_S
            log.warning(
                "deal pages: access check failed (%s); served by the route", type(exc).__name__
            )
            return None
        if access is None:
            return None  # 401 or 404, worded by the route
        revision, last_used = access
        if last_used is None or utcnow() - last_used >= TOUCH_EVERY:
            return None  # the route stamps the token's last use
        deals = self.cache.get(request.key, revision)
        if deals is not None:
            return deals.page(request.offset, request.limit)
        if self.cache.missed(request.key, revision) and request.key not in self._building:
            self._start_build(request.key)
        return None

    async def _access(self, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
        if self._conninfo is None:
            return await anyio.to_thread.run_sync(self._access_sync, token_hash, workspace_id)
        if self._pool is None:
            await self._open_pool(self._conninfo)
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_PG_ACCESS, _access_params(token_hash, workspace_id))
            row = await cursor.fetchone()
        return (int(row[0]), row[1]) if row is not None else None

    async def _open_pool(self, conninfo: str) -> None:
        async with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import AsyncConnectionPool

                # The store first: it migrates the database (deals_revision is 0007's).
                await anyio.to_thread.run_sync(self.backend.store)
                pool = AsyncConnectionPool(
                    conninfo,
                    min_size=1,
                    max_size=4,
                    timeout=2.0,
                    kwargs={"autocommit": True},
                    open=False,
                )
                await pool.open()
                self._pool = pool

    def _access_sync(self, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
        # In a worker thread: the first call may open (and migrate) the store.
        return access_of(self.backend.store().db, token_hash, workspace_id)

    def _start_build(self, key: ListKey) -> None:
        self._building.add(key)
        task = asyncio.get_running_loop().create_task(self._build(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _build(self, key: ListKey) -> None:
        try:
            deals = await anyio.to_thread.run_sync(self._load, key)
            if deals is not None:
                self.cache.put(key, deals)
                self.builds += 1
        except Exception as exc:
            log.warning("deal pages: could not build a deal list (%s)", type(exc).__name__)
        finally:
            self._building.discard(key)

    def _load(self, key: ListKey) -> DealList | None:
        return load_deal_list(self.backend.store().db, key)

    async def settled(self) -> None:
        """Wait for the builds under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.settled()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class DealPagesMiddleware:
    """Answers the pages it can from :class:`DealPages`; hands everything else on."""

    def __init__(self, app: Asgi, pages: DealPages) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = parse_request(scope)
        body = await self.pages.respond(request) if request is not None else None
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-length", str(len(body)).encode()), *JSON_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


__all__ = ["DealPages", "DealPagesMiddleware", "compact_json", "parse_request"]
