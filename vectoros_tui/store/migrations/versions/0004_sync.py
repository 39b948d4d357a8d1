"""Sync with a shared backend: linked workspaces, the outbox of local changes, the links
between local and remote deals (with the last agreed fields), and open conflicts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "sync_remotes",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("remote_workspace_id", sa.String(length=100), nullable=False),
        sa.Column("dialect", sa.String(length=16), nullable=False),
        sa.Column("last_sync_at", _TS, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _workspace_fk("sync_remotes"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_sync_remotes")),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", _TS, nullable=False),
        _workspace_fk("sync_outbox"),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_sync_outbox")),
    )
    op.create_index(
        "ix_sync_outbox_workspace_changed", "sync_outbox", ["workspace_id", "changed_at"]
    )
    op.create_table(
        "sync_links",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("synced_at", _TS, nullable=False),
        _workspace_fk("sync_links"),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_sync_links")),
        sa.UniqueConstraint(
            "workspace_id", "remote_id", name=op.f("uq_sync_links_workspace_id_remote_id")
        ),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("mine", sa.JSON(), nullable=True),
        sa.Column("theirs", sa.JSON(), nullable=True),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("detected_at", _TS, nullable=False),
        _workspace_fk("sync_conflicts"),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_sync_conflicts")),
    )


def downgrade() -> None:
    op.drop_table("sync_conflicts")
    op.drop_table("sync_links")
    op.drop_index("ix_sync_outbox_workspace_changed", table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_table("sync_remotes")
