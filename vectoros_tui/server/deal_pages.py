"""Pages of a workspace's deal list served from memory (GET /api/v1/workspaces/{id}/deals).

Listing is what a team backend does most: every client's sync pages through the whole
workspace. Through FastAPI each page of 100 cost ~6 ms of CPU (token, membership, the page
query, 100 deals to JSON, the framework), so 20 clients on 2 cores queued for ~100 ms.

Here a worker keeps each listed workspace's deals as ready-made JSON, one piece per deal,
and answers a page with one query that checks the token, the membership and the
workspace's ``deals_revision`` together. The revision is bumped by database triggers in
the same transaction as any change of the workspace's deals, whoever makes it (migration
0007), so a list is only used while it is at least that current. When the revision has
moved on, the list is patched: the deals whose version (or owner, source id, update
stamp) changed are loaded again, the ones gone are dropped, the order is the database's.

Anything unusual is left to the FastAPI route, which stays the reference: a request that
does not parse cleanly, a missing or unknown token, a workspace the caller is not in, a
token due for its last-used stamp, a database error, a list not built yet. So errors, and
their wording, come from one place. A workspace's first list is built in the background
after the second miss at the same revision.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

import anyio
from sqlalchemy import Connection, Dialect, String, bindparam, cast, select
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.dialects.sqlite.pysqlite import dialect as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlmodel import col

from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.server.access import deal_list_order
from vectoros_tui.server.schemas import deal_json
from vectoros_tui.server.tokens import TOUCH_EVERY, Caller, hash_token
from vectoros_tui.store.database import Database
from vectoros_tui.store.ids import parse_uuid
from vectoros_tui.store.tables import ApiToken, Deal, User, Workspace, WorkspaceMember, utcnow
from vectoros_tui.store.views import DealView, deal_view_columns

if TYPE_CHECKING:
    from vectoros_tui.server.backend import Backend

log = logging.getLogger(__name__)

PATH = re.compile(r"/api/v1/workspaces/([^/]+)/deals")
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
MAX_TOKEN = 200  # TokenService.authenticate refuses longer ones
CACHE_BYTES = 64 * 2**20  # per worker process
BUILD_AFTER_MISSES = 2
# How long readers wait for a list being brought up to date before the route answers them.
PATCH_WAIT_S = 1.0
RETRY_AFTER_ERROR_S = 5.0
JSON_HEADERS = [(b"content-type", b"application/json")]


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

    def page(self, offset: int, limit: int) -> bytes:
        chosen = b",".join(self.deals[offset : offset + limit])
        return b'{"deals":[' + chosen + b'],"total":' + str(len(self.deals)).encode() + b"}"


# A deal as its list knows it: its key (the id as the database renders it as text) and
# what tells that its stored row changed, as the database returns them (text, so nothing
# is converted). A deal's JSON is its row. The ORM bumps ``version`` on every UPDATE it
# flushes; the few writes that bypass it change ``owner_id`` (a member removed, an owner
# mirrored by sync, a user deleted: ON DELETE SET NULL) or ``source_id`` (an import
# adopting ids); ``updated_at`` catches a future one that stamps the deal.
Mark = tuple[Any, ...]


class WorkspaceDeals:
    """All of a workspace's deals at one revision, in list order (creation, then id, as
    the database orders them); the filtered lists are derived from it as they are asked
    for. Never changed once built: a newer revision is a new object, so a page being
    sent and a patch being made in a thread never see each other's work."""

    def __init__(
        self,
        revision: int,
        order: list[str],
        marks: frozenset[Mark],
        bodies: dict[str, bytes],
        stages: dict[str, tuple[str, str | None]],
    ) -> None:
        self.revision = revision
        self.order = order  # the deals' keys, in list order
        self.marks = marks
        self.bodies = bodies  # key -> the deal's JSON
        self.stages = stages  # key -> (stage, outcome): what the list is filtered by
        self.size = sum(map(len, bodies.values())) + 64 * len(bodies)
        self._views: dict[tuple[str | None, str | None], DealList] = {}

    def view(self, stage: str | None, outcome: str | None) -> DealList:
        """The list filtered as :func:`~vectoros_tui.server.access.deal_list_query` does."""
        found = self._views.get((stage, outcome))
        if found is None:
            keys = self.order
            if stage or outcome:
                stages = self.stages
                keys = [
                    key
                    for key in keys
                    if (not stage or stages[key][0] == stage)
                    and (not outcome or stages[key][1] == outcome)
                ]
            found = DealList(self.revision, list(map(self.bodies.__getitem__, keys)))
            self._views[(stage, outcome)] = found
        return found


class DealListCache:
    """Each listed workspace's deals, least recently used dropped past a byte budget; and
    the misses that decide when a workspace never listed before is worth loading."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._lists: OrderedDict[uuid.UUID, WorkspaceDeals] = OrderedDict()
        self._bytes = 0
        self._misses: dict[uuid.UUID, tuple[int, int]] = {}
        self.hits = 0

    def get(self, workspace_id: uuid.UUID) -> WorkspaceDeals | None:
        """The workspace's newest list, whatever its revision."""
        found = self._lists.get(workspace_id)
        if found is not None:
            self._lists.move_to_end(workspace_id)
        return found

    def put(self, workspace_id: uuid.UUID, deals: WorkspaceDeals) -> None:
        old = self._lists.get(workspace_id)
        if old is not None and old.revision > deals.revision:
            return  # a slower load finished after a newer one
        if old is not None:
            self._bytes -= self._lists.pop(workspace_id).size
        if deals.size > self.budget:
            return
        self._lists[workspace_id] = deals
        self._bytes += deals.size
        while self._bytes > self.budget:
            self._bytes -= self._lists.popitem(last=False)[1].size

    def drop(self, workspace_id: uuid.UUID) -> None:
        old = self._lists.pop(workspace_id, None)
        if old is not None:
            self._bytes -= old.size

    def missed(self, workspace_id: uuid.UUID, revision: int) -> bool:
        """Note a miss; True when the list should now be built."""
        seen_revision, count = self._misses.get(workspace_id, (revision, 0))
        count = count + 1 if seen_revision == revision else 1
        self._misses[workspace_id] = (revision, count)
        if len(self._misses) > 4096:  # forget old keys; a rebuild costs one extra miss
            self._misses.clear()
            self._misses[workspace_id] = (revision, count)
        return count >= BUILD_AFTER_MISSES

    def __len__(self) -> int:
        return len(self._lists)


# --- the one query per request ------------------------------------------------------------

Access = tuple[int, datetime | None]  # the workspace's deals_revision, the token's last use

# One query checks the token, the membership and reads the revision. Written once: run
# through SQLAlchemy in a thread, or as its compiled text in the event loop (the async
# pool on Postgres, a connection of its own on SQLite).
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
# The caller of a live token: TokenService.authenticate's query.
CALLER_QUERY = (
    select(
        col(ApiToken.id), col(ApiToken.last_used_at), col(User.id), col(User.email), col(User.name)
    )
    .join(User, col(User.id) == ApiToken.user_id)
    .where(col(ApiToken.token_hash) == bindparam("token_hash"), col(ApiToken.revoked_at).is_(None))
)


class InThread(Exception):
    """The event loop will not run this read (no way to, or it would wait): a thread must."""


class LoopQuery:
    """A select compiled for one driver, run on its own cursor: the parameters and the
    columns converted as SQLAlchemy would (UUIDs, UTC timestamps)."""

    def __init__(self, query: Any, dialect: Dialect) -> None:
        compiled = query.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or [])
        self.binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in query.selected_columns
        ]

    def params(self, values: dict[str, Any]) -> Any:
        done = {k: (bind(v) if (bind := self.binds.get(k)) else v) for k, v in values.items()}
        return [done[name] for name in self.names] if self.names else done

    def row(self, raw: Any) -> tuple[Any, ...] | None:
        if raw is None:
            return None
        return tuple(
            convert(value) if convert else value
            for convert, value in zip(self.results, raw, strict=True)
        )


_PG_QUERIES = {query: LoopQuery(query, psycopg_dialect()) for query in (ACCESS_QUERY, CALLER_QUERY)}


def _access_params(token_hash: str, workspace_id: uuid.UUID) -> dict[str, Any]:
    return {"token_hash": token_hash, "workspace_id": workspace_id}


def access_of(db: Database, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
    """:data:`ACCESS_QUERY` through SQLAlchemy (SQLite, or Postgres without the pool)."""
    with db.read() as session:
        row = session.execute(ACCESS_QUERY, _access_params(token_hash, workspace_id)).first()
    return (int(row[0]), row[1]) if row is not None else None


# Deals loaded by id at a time when a few changed (a bound parameter each).
LOAD_CHUNK = 500


def _key_column(table: Any) -> Any:
    return cast(table.c.id, String).label("list_key")


_MARKS: dict[str, LoopQuery] = {}


def _marks(connection: Connection, workspace_id: uuid.UUID) -> list[Mark]:
    """Every deal's :data:`Mark`, in list order, as plain tuples on the driver's own cursor
    (a Row apiece took longer than the query)."""
    dialect = connection.dialect
    query = _MARKS.get(dialect.name)
    if query is None:
        table = Deal.__table__  # type: ignore[attr-defined]
        query = _MARKS[dialect.name] = LoopQuery(
            select(
                _key_column(table),
                table.c.version,
                cast(table.c.owner_id, String),
                table.c.source_id,
                cast(table.c.updated_at, String),
            )
            .where(table.c.workspace_id == bindparam("workspace_id"))
            .order_by(*deal_list_order()),
            dialect,
        )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(query.sql, query.params({"workspace_id": workspace_id}))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _rows_query(workspace_id: uuid.UUID, ids: list[uuid.UUID] | None) -> Any:
    table = Deal.__table__  # type: ignore[attr-defined]
    query = select(*deal_view_columns(), _key_column(table)).where(
        table.c.workspace_id == workspace_id
    )
    return query if ids is None else query.where(table.c.id.in_(ids))


def load_workspace_deals(
    db: Database, workspace_id: uuid.UUID, previous: WorkspaceDeals | None = None
) -> tuple[WorkspaceDeals | None, int]:
    """The workspace's deals now (None: no such workspace) and how many were loaded whole.

    With ``previous`` only the deals whose :data:`Mark` changed since are loaded and
    turned into JSON; the others are taken from it, and deals no longer there are left
    out. The revision, the marks and the rows are read in one snapshot, so the list is
    exactly the workspace at that revision, never a mix of two states of it.
    """
    options = {} if db.is_sqlite else {"isolation_level": "REPEATABLE READ"}
    with db.read() as session:
        # SQLite: one read transaction is one snapshot already (WAL).
        connection = session.connection(execution_options=options)
        revision = connection.execute(
            select(col(Workspace.deals_revision)).where(col(Workspace.id) == workspace_id)
        ).scalar_one_or_none()
        if revision is None:
            return None, 0
        rows = _marks(connection, workspace_id)
        order = list(map(itemgetter(0), rows))
        marks = frozenset(rows)
        if previous is None:
            changed = set(order)
            bodies: dict[str, bytes] = {}
            stages: dict[str, tuple[str, str | None]] = {}
        else:
            changed = {mark[0] for mark in marks - previous.marks}
            bodies, stages = previous.bodies.copy(), previous.stages.copy()
            for key in (previous.bodies.keys() - set(order)) | changed:
                bodies.pop(key, None)
                stages.pop(key, None)
        batches: list[list[uuid.UUID] | None] = []
        if 2 * len(changed) > len(order):  # most of them: one pass over the workspace
            batches = [None]
        elif changed:
            ids = [uuid.UUID(key) for key in changed]
            batches = [ids[n : n + LOAD_CHUNK] for n in range(0, len(ids), LOAD_CHUNK)]
        loaded = 0
        for batch in batches:
            for row in connection.execute(_rows_query(workspace_id, batch)).all():
                loaded += 1
                fields = dict(row._mapping)
                key = fields.pop("list_key")
                if key in changed:
                    view = DealView(**fields)
                    bodies[key] = compact_json(deal_json(view))
                    stages[key] = (view.stage, view.outcome)
    listed = WorkspaceDeals(int(revision), order, marks, bodies, stages)
    listed.view(None, None)  # here, in the loading thread, not in the event loop
    return listed, loaded


class LoopSqlite:
    """Reads run in the event loop on a read-only SQLite connection of its own. Through a
    worker thread each access check cost a thread hand-off and a SQLAlchemy session (most
    of a core at ~900 pages/s), and 20 readers' threads contended for the GIL with the
    threads serving writes; the query itself takes tens of microseconds. The connection
    never waits for a lock (busy timeout 0): a database busy in a way that would block a
    reader (rollback journal, a recovery) raises :class:`InThread`, and that read goes to
    a thread as before."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )
        self.connection.execute("PRAGMA busy_timeout = 0")
        dialect = sqlite_dialect()
        self.queries = {query: LoopQuery(query, dialect) for query in (ACCESS_QUERY, CALLER_QUERY)}

    def fetch_one(self, query: Any, values: dict[str, Any]) -> tuple[Any, ...] | None:
        compiled = self.queries[query]
        try:
            raw = self.connection.execute(compiled.sql, compiled.params(values)).fetchone()
        except sqlite3.OperationalError as exc:  # locked or busy: never wait in the loop
            raise InThread from exc
        return compiled.row(raw)

    def access(self, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
        row = self.fetch_one(ACCESS_QUERY, _access_params(token_hash, workspace_id))
        return (int(row[0]), row[1]) if row is not None else None

    def close(self) -> None:
        self.connection.close()


def sqlite_path(database_url: str) -> str | None:
    """The file of a SQLite database URL (None: not SQLite, or in memory)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def postgres_conninfo(database_url: str) -> str | None:
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class DealPages:
    """The cache, the background loads and the reads done in the event loop (each page's
    access check, and every route's caller: see :meth:`caller`) of one worker process."""

    def __init__(self, backend: Backend, budget: int = CACHE_BYTES) -> None:
        self.backend = backend
        self.cache = DealListCache(budget)
        self.builds = 0  # lists loaded from scratch
        self.patches = 0  # lists brought up to date from an older one
        self.loaded = 0  # deals loaded from the database for either
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
        self._caller_pool: Any = None
        self._sqlite_path = sqlite_path(backend.database_url)
        self._sqlite: LoopSqlite | None = None
        self._loading: dict[uuid.UUID, asyncio.Task[None]] = {}
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
        deals = await self._current(request.workspace_id, revision)
        if deals is None:
            return None
        self.cache.hits += 1
        return deals.view(request.stage, request.outcome).page(request.offset, request.limit)

    async def _current(self, workspace_id: uuid.UUID, revision: int) -> WorkspaceDeals | None:
        """The workspace's list at ``revision`` or newer, or None for the route.

        A write bumps the revision. Loading the whole list again for it (a quarter of a
        second of CPU for 5,000 deals) while readers fell through to the route collapsed
        reads to ~70 a second under 4 writes a second; a patch loads only the deals that
        changed, so readers wait for it (one patch for all of them) instead. The list they
        get is at least as new as the revision their request saw, so a client always reads
        its own acknowledged writes.
        """
        deals = self.cache.get(workspace_id)
        if deals is not None and deals.revision >= revision:
            return deals
        if deals is None:
            # Never listed (or dropped): loaded in the background after the second miss,
            # so a single page read after each change never pays for a whole list.
            if self.cache.missed(workspace_id, revision) and workspace_id not in self._loading:
                self._start_load(workspace_id)
            return None
        # A load under way may have read its revision before this request's: then a
        # second one starts, which reads it after.
        for _ in range(2):
            task = self._loading.get(workspace_id) or self._start_load(workspace_id)
            try:
                await asyncio.wait_for(asyncio.shield(task), PATCH_WAIT_S)
            except TimeoutError:
                return None  # a large change: the route answers while it loads
            deals = self.cache.get(workspace_id)
            if deals is None:
                return None
            if deals.revision >= revision:
                return deals
        return None

    async def _access(self, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
        try:
            row = await self._in_loop(ACCESS_QUERY, _access_params(token_hash, workspace_id))
        except InThread:
            return await anyio.to_thread.run_sync(self._access_sync, token_hash, workspace_id)
        return (int(row[0]), row[1]) if row is not None else None

    async def caller(self, secret: str) -> Caller | None:
        """The caller of a live token (None: unknown or revoked), read in the event loop: a
        trip through the thread pool for it waited behind every page being served. Raises
        :class:`InThread` when the token is due for its last-used stamp (a write) or the
        read cannot run here; TokenService.authenticate does it then."""
        if not secret or len(secret) > MAX_TOKEN:
            return None
        try:
            row = await self._in_loop(CALLER_QUERY, {"token_hash": hash_token(secret)})
        except InThread:
            raise
        except Exception as exc:  # the thread's path reports it as it always did
            raise InThread from exc
        if row is None:
            return None
        token_id, last_used, user_id, email, name = row
        if last_used is None or utcnow() - last_used >= TOUCH_EVERY:
            raise InThread
        return Caller(user_id, email, name, token_id)

    async def _in_loop(self, query: Any, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """One row of ``query`` read in the event loop; :class:`InThread` if it cannot be."""
        if self._sqlite_path is not None:
            if self._sqlite is None:
                await self._open_sqlite(self._sqlite_path)
            if self._sqlite is None:
                raise InThread
            return self._sqlite.fetch_one(query, values)
        if self._conninfo is None:
            raise InThread
        if self._pool is None:
            await self._open_pool(self._conninfo)
        compiled = _PG_QUERIES[query]
        # Callers on connections of their own: behind 20 readers' page checks a write's
        # caller waited ~13 ms for one of the pages' connections.
        pool = self._caller_pool if query is CALLER_QUERY else self._pool
        async with pool.connection() as connection:
            cursor = await connection.execute(compiled.sql, compiled.params(values))
            return compiled.row(await cursor.fetchone())

    async def _open_pool(self, conninfo: str) -> None:
        async with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import AsyncConnectionPool

                # The store first: it migrates the database (deals_revision is 0007's).
                await anyio.to_thread.run_sync(self.backend.store)
                pool, callers = (
                    AsyncConnectionPool(
                        conninfo,
                        min_size=1,
                        max_size=size,
                        timeout=2.0,
                        kwargs={"autocommit": True},
                        open=False,
                    )
                    for size in (4, 2)
                )
                await pool.open()
                await callers.open()
                self._pool, self._caller_pool = pool, callers

    async def _open_sqlite(self, path: str) -> None:
        # The store first: it creates and migrates the database (deals_revision is 0007's).
        await anyio.to_thread.run_sync(self.backend.store)
        if self._sqlite is None and self._sqlite_path is not None:
            try:
                self._sqlite = LoopSqlite(path)
            except sqlite3.Error as exc:  # checked in threads instead, as before
                log.warning("deal pages: could not open %s (%s)", path, type(exc).__name__)
                self._sqlite_path = None

    def _access_sync(self, token_hash: str, workspace_id: uuid.UUID) -> Access | None:
        # In a worker thread: the first call may open (and migrate) the store.
        return access_of(self.backend.store().db, token_hash, workspace_id)

    def _start_load(self, workspace_id: uuid.UUID) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._load(workspace_id))
        self._loading[workspace_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _load(self, workspace_id: uuid.UUID) -> None:
        try:
            previous = self.cache.get(workspace_id)
            deals, loaded = await anyio.to_thread.run_sync(self._load_sync, workspace_id, previous)
            self.loaded += loaded
            if deals is None:
                self.cache.drop(workspace_id)
            else:
                self.cache.put(workspace_id, deals)
                if previous is None:
                    self.builds += 1
                else:
                    self.patches += 1
        except Exception as exc:
            log.warning("deal pages: could not load a deal list (%s)", type(exc).__name__)
        finally:
            self._loading.pop(workspace_id, None)

    def _load_sync(
        self, workspace_id: uuid.UUID, previous: WorkspaceDeals | None
    ) -> tuple[WorkspaceDeals | None, int]:
        return load_workspace_deals(self.backend.store().db, workspace_id, previous)

    async def settled(self) -> None:
        """Wait for the builds under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.settled()
        if self._pool is not None:
            await self._pool.close()
            await self._caller_pool.close()
            self._pool = self._caller_pool = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None


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


__all__ = ["DealPages", "DealPagesMiddleware", "InThread", "compact_json", "parse_request"]
