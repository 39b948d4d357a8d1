"""What the engine needs to be honest, and what edits need to be safe.

- deal_events: stage and close-date history (time in stage, slipped close dates);
- deals.version (optimistic concurrency), deals.stage_changed_at, deals.source_id
  (idempotent CSV re-imports, unique per workspace);
- insights.rule_key (regeneration upserts) and insights.is_dismissed.

Existing rows are backfilled: version 1, stage_changed_at = updated_at (the best
knowledge the seed schema has), is_dismissed false.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deal_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=True),
        sa.Column("new_value", sa.String(length=64), nullable=True),
        sa.Column("changed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_events_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_events")),
    )
    op.create_index(
        "ix_deal_events_deal_field_changed", "deal_events", ["deal_id", "field", "changed_at"]
    )

    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stage_changed_at", _TS, nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(length=200), nullable=True))
    op.execute("UPDATE deals SET version = 1, stage_changed_at = updated_at")
    with op.batch_alter_table("deals") as batch:
        batch.alter_column("version", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("stage_changed_at", existing_type=_TS, nullable=False)
        batch.create_unique_constraint(
            op.f("uq_deals_workspace_id_source_id"), ["workspace_id", "source_id"]
        )

    with op.batch_alter_table("insights") as batch:
        batch.add_column(
            sa.Column("is_dismissed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("rule_key", sa.String(length=200), nullable=True))
        batch.drop_index("ix_insights_workspace_priority")
        batch.create_index(
            "ix_insights_workspace_priority", ["workspace_id", "is_dismissed", "priority"]
        )
        batch.create_unique_constraint(
            op.f("uq_insights_workspace_id_rule_key"), ["workspace_id", "rule_key"]
        )
    with op.batch_alter_table("insights") as batch:
        batch.alter_column("is_dismissed", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("insights") as batch:
        batch.drop_constraint(op.f("uq_insights_workspace_id_rule_key"), type_="unique")
        batch.drop_index("ix_insights_workspace_priority")
        batch.create_index("ix_insights_workspace_priority", ["workspace_id", "priority"])
        batch.drop_column("rule_key")
        batch.drop_column("is_dismissed")
    with op.batch_alter_table("deals") as batch:
        batch.drop_constraint(op.f("uq_deals_workspace_id_source_id"), type_="unique")
        batch.drop_column("source_id")
        batch.drop_column("stage_changed_at")
        batch.drop_column("version")
    op.drop_table("deal_events")
