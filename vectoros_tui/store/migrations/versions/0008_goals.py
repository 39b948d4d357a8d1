"""Revenue goals, one per workspace and forecast window.

- goals: (workspace_id, window_days) is the primary key, so a workspace has at most one
  goal per window and saving one again replaces it; deleting the workspace deletes its
  goals.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("window_days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_goals_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "window_days", name=op.f("pk_goals")),
    )


def downgrade() -> None:
    op.drop_table("goals")
