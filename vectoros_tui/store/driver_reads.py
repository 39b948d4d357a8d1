"""Reading the database with its driver alone (sqlite3 or psycopg), read-only; and, for
the one update made this way (store.forecast_update), writing in one transaction.

Importing SQLAlchemy and SQLModel takes most of a second on a slow machine. What must be
on screen sooner (the app's first frame, an answer kept from an earlier command) is read
with the driver, and anything unusual — a file that is missing or locked, a server that
does not answer, a database at another schema revision, a value not as the store writes
it — gives None: the caller then takes the full path, which reports problems properly.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from vectoros_tui.store.revision import SCHEMA_HEAD
from vectoros_tui.store.urls import sqlite_file_of

T = TypeVar("T")
Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]
# A reader gets the query function and whether the database is Postgres (which hands
# back uuid, aware datetime and date objects, and takes them as parameters; SQLAlchemy's
# SQLite storage keeps UUIDs as 32 hex digits and timestamps as naive UTC text).
Reader = Callable[[Rows, bool], T | None]
# The statements (SQL with :name parameters, and the parameters) of one transaction.
Write = Callable[[list[tuple[str, dict[str, Any]]]], None]
Updater = Callable[[Rows, Write, bool], T | None]

# Connecting to a server that does not answer must not hold anything up for long: the
# full path then connects (and reports) as it always does.
PG_CONNECT_SECONDS = 2
SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"


def read_database(url: str, read: Reader[T]) -> T | None:
    """``read`` on the database at ``url`` (as the store takes it), or None."""
    path = sqlite_file_of(url)
    return read_sqlite(path, read) if path is not None else read_postgres(url, read)


def read_sqlite(path: Path, read: Reader[T]) -> T | None:
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        return read(lambda sql, params: connection.execute(sql, params).fetchall(), False)
    except (sqlite3.Error, ValueError, TypeError, KeyError):  # not as the store writes it
        return None
    finally:
        connection.close()


def read_postgres(url: str, read: Reader[T]) -> T | None:
    """In a read-only transaction, giving up on any error."""

    def use(connection: Any) -> T | None:
        connection.read_only = True
        # A table locked by another process's migration must not hold this up.
        connection.execute(f"SET LOCAL statement_timeout = '{PG_CONNECT_SECONDS}s'")
        connection.execute("SET LOCAL lock_timeout = '500ms'")
        return read(_pg_rows(connection), True)

    return _on_postgres(url, use)


def _on_postgres(url: str, use: Callable[[Any], T | None], *, autocommit: bool = False) -> T | None:
    """``use`` of a psycopg connection to the database at ``url``; None on any error."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of the app
        return None
    conninfo = _libpq_url(url)
    if conninfo is None:
        return None
    try:
        with psycopg.connect(
            conninfo, connect_timeout=PG_CONNECT_SECONDS, autocommit=autocommit
        ) as connection:
            return use(connection)
    except Exception:  # unreachable, refused, timed out, unexpected data
        # Only a head start: whatever went wrong, the full path runs (and reports).
        return None


def _pg_rows(connection: Any) -> Rows:
    return lambda sql, params: connection.execute(_pg_sql(sql), params).fetchall()


# How long an update waits for another writer's lock before leaving the work to the full
# path, which waits as long as the store does.
WRITE_WAIT_SECONDS = 1.0


def update_database(url: str, update: Updater[T]) -> T | None:
    """``update`` on the database at ``url``, given the query function, a function that
    makes its writes in one transaction, and whether it is Postgres; None on any error
    (whatever ``update`` wrote in a transaction that failed is rolled back)."""
    path = sqlite_file_of(url)
    if path is None:
        return _update_postgres(url, update)
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(path, timeout=WRITE_WAIT_SECONDS, isolation_level=None)
    except sqlite3.Error:
        return None

    def write(statements: list[tuple[str, dict[str, Any]]]) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                connection.execute(sql, params)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    try:
        connection.execute("PRAGMA foreign_keys = ON")
        return update(lambda sql, params: connection.execute(sql, params).fetchall(), write, False)
    except Exception:  # locked too long, or a value not as the store writes it
        # Only a head start: whatever went wrong, the full path runs (and reports).
        return None
    finally:
        connection.close()


def _update_postgres(url: str, update: Updater[T]) -> T | None:
    def use(connection: Any) -> T | None:
        connection.execute(f"SET statement_timeout = '{PG_CONNECT_SECONDS}s'")
        connection.execute(f"SET lock_timeout = '{int(WRITE_WAIT_SECONDS * 1000)}ms'")

        def write(statements: list[tuple[str, dict[str, Any]]]) -> None:
            with connection.transaction():
                for sql, params in statements:
                    connection.execute(_pg_sql(sql), params)

        return update(_pg_rows(connection), write, True)

    return _on_postgres(url, use, autocommit=True)


def in_chunks(values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Bounded IN lists: SQLite limits how many parameters one statement may bind."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def schema_is_current(rows: Rows) -> bool:
    """The database is at this code's schema revision (else the full path upgrades it)."""
    return rows("SELECT version_num FROM alembic_version", {}) == [(SCHEMA_HEAD,)]


def raw_id(value: uuid.UUID | str, postgres: bool) -> Any:
    """An id as the driver takes it as a parameter."""
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    return value if postgres else value.hex


def as_uuid(value: Any) -> uuid.UUID:
    """An id as the driver hands it back."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


_PG_PARAMETER = re.compile(r"(?<!:):(\w+)")


def _pg_sql(sql: str) -> str:
    """SQL with :name parameters as psycopg spells them."""
    return _PG_PARAMETER.sub(r"%(\1)s", sql)


def _libpq_url(url: str) -> str | None:
    """The store's ``postgresql+psycopg://`` URL as libpq reads it."""
    prefix = "postgresql+psycopg://"
    return "postgresql://" + url[len(prefix) :] if url.startswith(prefix) else None
