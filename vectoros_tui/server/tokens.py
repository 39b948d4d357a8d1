"""API tokens of the team backend: issued per user, stored only as a SHA-256 hash.

No FastAPI here: the CLI issues, lists and revokes tokens without the server extra.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlmodel import col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.ids import resolve_short_id
from vectoros_tui.store.tables import ApiToken, User, utcnow
from vectoros_tui.store.validation import EMAIL_PATTERN, FieldError, ValidationError

TOKEN_PREFIX: Final = "vos_"
# last_used_at is written at most this often per token (not on every request).
TOUCH_EVERY: Final = timedelta(minutes=1)
MAX_NAME: Final = 100


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request."""

    user_id: uuid.UUID
    email: str
    name: str | None
    token_id: uuid.UUID


@dataclass(frozen=True)
class TokenView:
    id: uuid.UUID
    user_email: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class TokenService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, email: str, name: str | None = None) -> tuple[TokenView, str]:
        """A new token for the user (created if missing); returns it and the secret, which
        is not stored anywhere and cannot be shown again."""
        address = (email or "").strip().lower()
        if not EMAIL_PATTERN.match(address):
            raise ValidationError([FieldError("user", f"{email!r} is not a valid email address")])
        label = (name or "").strip() or "default"
        if len(label) > MAX_NAME:
            raise ValidationError([FieldError("name", f"is too long (at most {MAX_NAME})")])
        secret = new_secret()
        with self.db.write() as session:
            user = session.exec(select(User).where(User.email == address)).first()
            if user is None:
                user = User(email=address)
                session.add(user)
                session.flush()
            row = ApiToken(user_id=user.id, name=label, token_hash=hash_token(secret))
            session.add(row)
            session.flush()
            view = TokenView(row.id, user.email, row.name, row.created_at, None, None)
        return view, secret

    def list(self) -> list[TokenView]:
        with self.db.read() as session:
            rows = session.exec(
                select(ApiToken, User.email)
                .join(User, col(User.id) == ApiToken.user_id)
                .order_by(col(ApiToken.created_at), col(ApiToken.id))
            ).all()
            return [
                TokenView(t.id, email, t.name, t.created_at, t.last_used_at, t.revoked_at)
                for t, email in rows
            ]

    def revoke(self, ref: str) -> TokenView:
        """Revoke by id or id prefix (8+ hex digits); revoking twice is harmless."""
        with self.db.write() as session:
            token_id = resolve_short_id(session, ApiToken, ref, "token")
            row = session.get(ApiToken, token_id)
            if row is None:
                raise NotFoundError(f"no token with id {ref!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            user = session.get(User, row.user_id)
            session.flush()
            return TokenView(
                row.id,
                user.email if user else "?",
                row.name,
                row.created_at,
                row.last_used_at,
                row.revoked_at,
            )

    def authenticate(self, secret: str) -> Caller | None:
        """The caller of a live token, or None (unknown or revoked)."""
        if not secret or len(secret) > 200:
            return None
        digest = hash_token(secret)
        with self.db.read() as session:
            found = session.exec(
                # sqlmodel's select() is typed for at most four columns.
                select(  # type: ignore[call-overload]
                    ApiToken.id, ApiToken.last_used_at, User.id, User.email, User.name
                )
                .join(User, col(User.id) == ApiToken.user_id)
                .where(ApiToken.token_hash == digest, col(ApiToken.revoked_at).is_(None))
            ).first()
        if found is None:
            return None
        token_id, last_used, user_id, email, name = found
        now = utcnow()
        if last_used is None or now - last_used >= TOUCH_EVERY:
            self._touch(token_id, now)
        return Caller(user_id, email, name, token_id)

    def _touch(self, token_id: uuid.UUID, now: datetime) -> None:
        try:
            with self.db.write() as session:
                row = session.get(ApiToken, token_id)
                if row is not None:
                    row.last_used_at = now
        except Exception:
            pass
