"""Short ids: tables show the first 8 characters of a UUID; commands accept them back."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, select

from vectoros_tui.store.errors import AmbiguousError, NotFoundError

SHORT_ID_LENGTH = 8


def parse_uuid(text: object) -> uuid.UUID | None:
    """The UUID ``text`` spells, or None."""
    try:
        return uuid.UUID(str(text).strip())
    except ValueError:
        return None


def resolve_short_id(
    session: Session, table: Any, ref: str, noun: str, *conditions: Any
) -> uuid.UUID:
    """A full UUID, or a unique prefix of at least 8 hex digits of one in ``table``."""
    full = parse_uuid(ref)
    if full is not None:
        return full
    text = str(ref).strip().lower()
    prefix = text.replace("-", "")
    if len(prefix) < SHORT_ID_LENGTH or any(c not in "0123456789abcdef" for c in prefix):
        raise NotFoundError(
            f"{ref!r} is not a {noun} id (use the id or its first {SHORT_ID_LENGTH} characters)"
        )
    # Both dialects render the first 8 hex digits identically (with or without dashes).
    prefix = prefix[:SHORT_ID_LENGTH]
    query = select(table.id).where(cast(table.id, String).like(prefix + "%"), *conditions).limit(2)
    found = session.exec(query).all()
    if not found:
        raise NotFoundError(f"no {noun} with id {ref!r}")
    if len(found) > 1:
        raise AmbiguousError(f"several {noun}s start with {ref!r}; give the full id")
    return found[0]
