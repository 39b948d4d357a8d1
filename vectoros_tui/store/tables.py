"""SQLModel tables: the seed platform's schema plus what the engine needs to be honest.

Additions over the seed: ``deal_events`` (stage and close-date history, for time-in-stage
and slipped close dates), ``deals.version`` (optimistic concurrency), ``deals.stage_changed_at``
(kept in step with the history so scoring 100k deals needs no aggregate), ``deals.source_id``
(idempotent CSV re-imports), and ``insights.rule_key``/``is_dismissed`` (regeneration
upserts instead of duplicating, and keeps what the rep read or dismissed).

Every schema change here needs an Alembic migration in ``store/migrations/versions``;
``tests/store/test_migrations.py`` fails when the two disagree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    true,
)
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field, SQLModel

from vectoros_tui.store.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            SaUuid, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=False
        ),
    )


class User(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Workspace(SQLModel, table=True):
    __tablename__: ClassVar[str] = "workspaces"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200, index=True)
    owner_id: uuid.UUID | None = _fk("users.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = _created()
    updated_at: datetime = _created()
    # Bumped by triggers on deals (migration 0007) whenever any of its deals changes.
    deals_revision: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    # Bumped by triggers on activities (migration 0014) whenever any of its activities changes.
    activities_revision: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )


class WorkspaceMember(SQLModel, table=True):
    __tablename__: ClassVar[str] = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    user_id: uuid.UUID = _fk("users.id")
    role: str = Field(max_length=16)  # owner | admin | member
    created_at: datetime = _created()


# A module-level Column passed both to the field and to __mapper_args__ is the form
# SQLModel accepts for version_id_col (the string form fails).
deal_version_column = Column("version", Integer, nullable=False, default=1)


class Deal(SQLModel, table=True):
    __tablename__: ClassVar[str] = "deals"
    __table_args__ = (
        Index("ix_deals_workspace_stage_updated", "workspace_id", "stage", "updated_at"),
        Index("ix_deals_workspace_updated", "workspace_id", "updated_at"),
        Index("ix_deals_workspace_close_date", "workspace_id", "close_date"),
        Index("ix_deals_workspace_outcome_stage", "workspace_id", "outcome", "stage"),
        Index("ix_deals_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_deals_workspace_owner", "workspace_id", "owner_id"),
        Index("ix_deals_workspace_next_step_due", "workspace_id", "next_step_due"),
        UniqueConstraint("workspace_id", "source_id"),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": deal_version_column}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    title: str = Field(max_length=200)
    company: str | None = Field(default=None, max_length=200)
    value: float = Field(default=0.0)
    stage: str = Field(max_length=16)
    probability: int = Field(default=0)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320)
    close_date: date | None = None
    outcome: str | None = Field(default=None, max_length=8)  # won | lost | None (open)
    lost_reason: str | None = Field(default=None, max_length=500)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    stage_changed_at: datetime = _created()
    source_id: str | None = Field(default=None, max_length=200)
    owner_id: uuid.UUID | None = _fk("users.id", nullable=True, ondelete="SET NULL")
    next_step: str | None = Field(default=None, max_length=500)
    next_step_due: date | None = None
    # When the store first saw a deal that came with a past (an import of an older deal);
    # None: seen from its creation. Its stage, probability and close date before then are
    # unknown.
    observed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=deal_version_column)


class DealEvent(SQLModel, table=True):
    """One change of a tracked field (``stage`` or ``close_date``) of a deal."""

    __tablename__: ClassVar[str] = "deal_events"
    __table_args__ = (Index("ix_deal_events_deal_field_changed", "deal_id", "field", "changed_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    deal_id: uuid.UUID = _fk("deals.id")
    field: str = Field(max_length=32)
    old_value: str | None = Field(default=None, max_length=64)
    new_value: str | None = Field(default=None, max_length=64)
    changed_at: datetime = _created()


class Activity(SQLModel, table=True):
    __tablename__: ClassVar[str] = "activities"
    __table_args__ = (Index("ix_activities_deal_date", "deal_id", "date"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    deal_id: uuid.UUID = _fk("deals.id")
    type: str = Field(max_length=16)  # email | call | meeting | note
    description: str = Field(max_length=4000)
    date: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # False: planned (``date`` is when it is due), not done yet.
    done: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Insight(SQLModel, table=True):
    __tablename__: ClassVar[str] = "insights"
    __table_args__ = (
        UniqueConstraint("workspace_id", "rule_key"),
        Index("ix_insights_workspace_priority", "workspace_id", "is_dismissed", "priority"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    deal_id: uuid.UUID | None = _fk("deals.id", nullable=True)
    type: str = Field(max_length=16)  # risk | opportunity | warning | recommendation
    priority: str = Field(max_length=16)  # critical | high | medium | low
    title: str = Field(max_length=300)
    description: str = Field(max_length=4000)
    confidence: float = 0.0
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    actions: list[Any] = Field(default_factory=list, sa_type=JSON)
    is_read: bool = False
    is_dismissed: bool = False
    rule_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = _created()
    updated_at: datetime = _created()


# --- sync with the team's shared backend (migration 0004) ------------------------------


class SyncRemote(SQLModel, table=True):
    """A workspace linked to a workspace on a shared backend."""

    __tablename__: ClassVar[str] = "sync_remotes"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    server_url: str = Field(max_length=500)
    remote_workspace_id: str = Field(max_length=100)
    dialect: str = Field(max_length=16)  # documented | deployed
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _created()


class SyncOutbox(SQLModel, table=True):
    """Local changes not yet pushed: one row per deal (later changes fold into it), written
    in the same transaction as the change. No foreign key to the deal: a pending delete
    outlives it."""

    __tablename__: ClassVar[str] = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_workspace_changed", "workspace_id", "changed_at"),)

    deal_id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    op: str = Field(max_length=8)  # upsert | delete
    changed_at: datetime = _created()


class SyncLink(SQLModel, table=True):
    """A local deal's remote twin and the fields both sides agreed on at the last sync (the
    base of three-way merges)."""

    __tablename__: ClassVar[str] = "sync_links"
    __table_args__ = (UniqueConstraint("workspace_id", "remote_id"),)

    deal_id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    remote_id: str = Field(max_length=100)
    base: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    synced_at: datetime = _created()
    # The backend's ETag for the deal at the last sync (None: it sends none).
    remote_etag: str | None = Field(default=None, max_length=200)


class SyncConflict(SQLModel, table=True):
    """Both sides changed a deal since the last sync: nothing is overwritten until the rep
    keeps theirs, keeps mine or merges field by field. ``mine``/``theirs`` None = deleted."""

    __tablename__: ClassVar[str] = "sync_conflicts"

    deal_id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    remote_id: str = Field(max_length=100)
    mine: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    theirs: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    base: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    detected_at: datetime = _created()


class SyncActivityOutbox(SQLModel, table=True):
    """Local changes of activities not yet pushed (migration 0013), one row per activity,
    written in the same transaction as the change. No foreign key to the activity: a
    pending delete outlives it."""

    __tablename__: ClassVar[str] = "sync_activity_outbox"
    __table_args__ = (
        Index("ix_sync_activity_outbox_workspace_changed", "workspace_id", "changed_at"),
    )

    activity_id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    op: str = Field(max_length=8)  # upsert | delete
    changed_at: datetime = _created()


class SyncActivityLink(SQLModel, table=True):
    """A local activity's remote twin and the fields both sides agreed on at the last sync
    (migration 0013). No foreign key to the activity: the link of one deleted here is what
    its pending delete is pushed with."""

    __tablename__: ClassVar[str] = "sync_activity_links"
    __table_args__ = (UniqueConstraint("workspace_id", "remote_id"),)

    activity_id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = _fk("workspaces.id")
    remote_id: str = Field(max_length=100)
    base: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    synced_at: datetime = _created()


# --- the team backend's access tokens (migration 0005) ---------------------------------


class ApiToken(SQLModel, table=True):
    """A bearer token of ``vectoros serve``: only its SHA-256 hash is stored."""

    __tablename__: ClassVar[str] = "api_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _fk("users.id")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- revenue goals (migration 0008) ------------------------------------------------------


class Goal(SQLModel, table=True):
    """A rep's revenue goal for one forecast window (in days) of one workspace: a 30-day
    goal is not a 90-day goal, and one workspace's goal is not another's."""

    __tablename__: ClassVar[str] = "goals"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    window_days: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    amount: float
    updated_at: datetime = _created()


# --- the history model's fits, the forecasts kept day by day, goals per period (0009) -----


class PeriodGoal(SQLModel, table=True):
    """A revenue goal for a calendar period (2026-Q1, 2026-03) of a workspace."""

    __tablename__: ClassVar[str] = "period_goals"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    period: str = Field(primary_key=True, max_length=8)
    amount: float
    updated_at: datetime = _created()


class ModelFit(SQLModel, table=True):
    """The history model last fitted for a workspace and window, with the data it saw
    (``fingerprint``) and the day it is for: reused while both still hold."""

    __tablename__: ClassVar[str] = "model_fits"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    window_days: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    fingerprint: str = Field(max_length=500)
    fitted_for: date
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _created()


class ForecastRun(SQLModel, table=True):
    """One day's forecast of a workspace for a window by a model (the last computed that
    day), kept so the forecast's history can be set against what closed."""

    __tablename__: ClassVar[str] = "forecast_runs"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    day: date = Field(primary_key=True)
    window_days: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    model: str = Field(primary_key=True, max_length=16)
    p5: float
    p50: float
    p95: float
    mean: float
    open_deals: int
    computed_at: datetime = _created()


class KeptResult(SQLModel, table=True):
    """A workspace's last result of one kind (a forecast, its health scores, an insight
    regeneration) for one set of parameters, with the revisions of its deals and
    activities and the day it was computed for: reused while all three still hold."""

    __tablename__: ClassVar[str] = "kept_results"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(primary_key=True, max_length=32)
    params: str = Field(primary_key=True, max_length=500)
    deals_revision: int = Field(sa_type=BigInteger)
    activities_revision: int = Field(sa_type=BigInteger)
    computed_for: date
    computed_at: datetime = _created()
    payload: bytes = Field(sa_type=LargeBinary)


# --- goals per rep (migration 0011) --------------------------------------------------------


class MemberGoal(SQLModel, table=True):
    """A member's revenue goal for one forecast window of a workspace."""

    __tablename__: ClassVar[str] = "member_goals"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: uuid.UUID = Field(
        sa_column=Column(SaUuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    window_days: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    amount: float
    updated_at: datetime = _created()
