"""Every deal has an owner: a member of its workspace.

- deals.owner_id: the user who owns the deal (NULL: nobody yet, as every deal before this
  revision; the user's removal leaves the deal unowned rather than deleting it).
- ix_deals_workspace_owner: "my deals" and per-rep forecasts read a workspace's deals by
  owner.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
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
        batch.add_column(sa.Column("owner_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_deals_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_deals_workspace_owner", "deals", ["workspace_id", "owner_id"])
    _sqlite_triggers()


def downgrade() -> None:
    op.drop_index("ix_deals_workspace_owner", table_name="deals")
    with op.batch_alter_table("deals") as batch:
        batch.drop_constraint(op.f("fk_deals_owner_id_users"), type_="foreignkey")
        batch.drop_column("owner_id")
    _sqlite_triggers()
