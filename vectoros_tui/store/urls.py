"""Database URLs: checking what people paste, hiding passwords, the default SQLite file.

Kept apart from database.py so that reading the config (which every start does) does not
import SQLAlchemy: only a URL someone actually wrote needs its parser.
"""

from __future__ import annotations

from pathlib import Path


class DatabaseURLError(ValueError):
    """The database URL cannot be used; the message says what to write instead."""


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pin psycopg 3."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = url.strip()
    if not text:
        raise DatabaseURLError("database URL is empty")
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix) :]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise DatabaseURLError(
            f"cannot parse database URL {redact_url(text)!r}: expected sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST:PORT/DBNAME"
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite "
            "(sqlite:///PATH) or Postgres (postgresql+psycopg://...)"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise DatabaseURLError(
            "Postgres URLs must use psycopg 3: write postgresql+psycopg://... "
            f"(got driver {parsed.get_driver_name()!r})"
        )
    return text


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


SQLITE_PREFIX = "sqlite:///"


def sqlite_url_for(path: Path) -> str:
    return f"{SQLITE_PREFIX}{path}"


def sqlite_file_of(url: str) -> Path | None:
    """The file behind a plain SQLite URL (what :func:`sqlite_url_for` writes); None for
    anything else: Postgres, in-memory, or URLs with options."""
    if not url.startswith(SQLITE_PREFIX) or "?" in url:
        return None
    path = url[len(SQLITE_PREFIX) :]
    return Path(path) if path and path != ":memory:" else None
