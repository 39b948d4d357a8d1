"""Database URLs: checking what people paste, hiding passwords, the default SQLite file.

Kept apart from database.py so that reading the config (which every start does) does not
import SQLAlchemy: only a URL someone actually wrote needs its parser.
"""

from __future__ import annotations

import re
from pathlib import Path


class DatabaseURLError(ValueError):
    """The database URL cannot be used; the message says what to write instead."""


# URLs in their plainest forms, which SQLAlchemy's parser accepts as they are: checked
# without importing it, since the app's first frame and a kept answer read the config
# before anything heavy is imported. Anything else goes through the parser.
_PLAIN_URL = re.compile(
    r"sqlite:///[^?]*"
    r"|postgresql\+psycopg://[\w.~%-]+(?::[\w.~%-]*)?@[\w.-]+(?::\d{1,5})?/[\w.-]+"
    r"(?:\?[\w.~%=&+-]*)?"
)


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pin psycopg 3."""
    text = url.strip()
    if not text:
        raise DatabaseURLError("database URL is empty")
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix) :]
    if _PLAIN_URL.fullmatch(text):
        return text
    return checked_database_url(text)


def checked_database_url(text: str) -> str:
    """``text`` as SQLAlchemy's parser reads it: the URL, or the reason it is refused."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
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
    except (ArgumentError, ValueError):
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
