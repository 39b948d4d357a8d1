"""Activities sync with a shared backend that has activity routes (`vectoros serve`).

- sync_activity_outbox: local changes of activities not pushed yet, noted in the same
  transaction as the change (a crash never loses the fact that something must be pushed).
- sync_activity_links: each synced activity's remote twin and the fields both sides agreed
  on at the last sync, so a re-sync recognises it instead of adding it again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
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
        "sync_activity_outbox",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", _TS, nullable=False),
        _workspace_fk("sync_activity_outbox"),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_sync_activity_outbox")),
    )
    op.create_index(
        "ix_sync_activity_outbox_workspace_changed",
        "sync_activity_outbox",
        ["workspace_id", "changed_at"],
    )
    op.create_table(
        "sync_activity_links",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("synced_at", _TS, nullable=False),
        _workspace_fk("sync_activity_links"),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_sync_activity_links")),
        sa.UniqueConstraint(
            "workspace_id", "remote_id", name=op.f("uq_sync_activity_links_workspace_id_remote_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("sync_activity_links")
    op.drop_index("ix_sync_activity_outbox_workspace_changed", table_name="sync_activity_outbox")
    op.drop_table("sync_activity_outbox")
