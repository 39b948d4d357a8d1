"""Next steps: what happens next on a deal and by when, and activities planned ahead.

- deals.next_step, deals.next_step_due: the deal's next step (text) and its due date.
- ix_deals_workspace_next_step_due: `vectoros tasks` and the overdue markers read a
  workspace's deals by due date.
- activities.done: false for an activity planned ahead (its date is when it is due); every
  activity before this revision was logged after the fact, so it is done.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite changes a table by rebuilding it ("batch" mode), and a rebuilt table loses its
# triggers; the deals' triggers keep their workspace's revision, so they are made again.
_SQLITE_TRIGGERS = {
    "insert": "AFTER INSERT ON deals BEGIN UPDATE workspaces SET deals_revision = "
    "deals_revision + 1 WHERE id = NEW.workspace_id; END",
    "update": "AFTER UPDATE ON deals BEGIN UPDATE workspaces SET deals_revision = "
    "deals_revision + 1 WHERE id IN (NEW.workspace_id, OLD.workspace_id); END",
    "delete": "AFTER DELETE ON deals BEGIN UPDATE workspaces SET deals_revision = "
    "deals_revision + 1 WHERE id = OLD.workspace_id; END",
}


def _sqlite_triggers() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for event, body in _SQLITE_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS deals_revision_{event}")
        op.execute(f"CREATE TRIGGER deals_revision_{event} {body}")


def upgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("next_step", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("next_step_due", sa.Date(), nullable=True))
    op.create_index("ix_deals_workspace_next_step_due", "deals", ["workspace_id", "next_step_due"])
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.true()))
    _sqlite_triggers()


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("done")
    op.drop_index("ix_deals_workspace_next_step_due", table_name="deals")
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("next_step_due")
        batch.drop_column("next_step")
    _sqlite_triggers()
