"""Engine setup for SQLite and Postgres, and the transaction helpers every service uses.

SQLite is shared by several processes when reps work on one server, so:
- WAL journal (readers never block the writer), a busy timeout, foreign keys on;
- pysqlite's own transaction handling is switched off and SQLAlchemy emits BEGIN itself,
  so that write transactions can start with ``BEGIN IMMEDIATE``: a deferred BEGIN that
  reads and then writes fails at once with "database is locked" when another process
  wrote in between, whatever the timeout (see SQLAlchemy's pysqlite docs).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import Session

from vectoros_tui import plain_json

# Re-exported: the URL helpers live apart so that reading the config does not import SQLAlchemy.
from vectoros_tui.store.urls import (  # noqa: F401
    DatabaseURLError,
    normalise_database_url,
    redact_url,
    sqlite_url_for,
)

if TYPE_CHECKING:
    import sqlite3

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
_IMMEDIATE = "vectoros_immediate"
# Deals added in one go from which the planner statistics are refreshed (Postgres).
BULK_LOAD_ROWS = 1_000


def _install_sqlite_hooks(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning(
                        "SQLite refused WAL mode (got %r); concurrent use by several "
                        "processes will be slower. Is the database on a network filesystem?",
                        mode,
                    )
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for a normalised URL. No I/O happens until first use."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=plain_json.column_text,
            json_deserializer=plain_json.loads,
            **kwargs,
        )
        _install_sqlite_hooks(engine, in_memory=in_memory)
        return engine
    return create_engine(
        url,
        echo=echo,
        json_serializer=plain_json.column_text,
        json_deserializer=plain_json.loads,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
    )


@dataclass
class Database:
    """An engine plus the two kinds of transaction the services use."""

    engine: Engine
    # SQLite has one writer at a time. Threads of this process (the app's workers, the
    # sync's pushes) queue here instead of in SQLite's busy handler, which polls with
    # sleeps of up to 100 ms; other processes still wait in the busy handler.
    _sqlite_writer: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: takes SQLite's write lock up front, commits or rolls back."""
        if not self.is_sqlite:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
            return
        bind = self.engine.execution_options(**{_IMMEDIATE: True})
        with (
            self._sqlite_writer,
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def bulk_loaded(self, rows: int) -> None:
        """Tell the database that ``rows`` deals (with their events and activities) were
        just added in one go.

        Postgres plans queries from table statistics that autovacuum refreshes a minute or
        more after a load, and never where it is turned off; until then it took a freshly
        imported 10,000-deal workspace for a few rows and sorted all of it for every page
        (8 ms instead of 1-3 ms), and read a 100,000-deal demo's last activities with a
        nested loop and a sort spilled to disk (85 ms instead of 58). So a large load
        refreshes them at once. SQLite's planner does not need this.
        """
        if rows < BULK_LOAD_ROWS or self.is_sqlite:
            return
        try:
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE deals, deal_events, activities")
        except SQLAlchemyError as exc:  # only speed is at stake: the load itself is in
            log.warning("could not refresh the planner statistics after a bulk load: %s", exc)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, echo: bool = False) -> Database:
    return Database(make_engine(url, echo=echo))
