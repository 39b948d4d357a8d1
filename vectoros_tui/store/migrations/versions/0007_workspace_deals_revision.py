"""A revision number per workspace that every change of its deals bumps.

- workspaces.deals_revision: kept by triggers on ``deals`` (insert, update, delete), so
  a change made by any process, the CLI, the TUI or another server worker moves it in
  the same transaction. The team backend caches a workspace's deal list and checks the
  number on each request (in the query that checks the token anyway) instead of reading
  and serialising 100 deals per page.
- Postgres bumps once per statement (transition tables), not once per row: a bulk load of
  10,000 deals updates the workspace row a handful of times. SQLite triggers are per row,
  cheap in-process.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """
CREATE FUNCTION vectoros_bump_deals_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE workspaces SET deals_revision = deals_revision + 1
        WHERE id IN (SELECT workspace_id FROM new_deals);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE workspaces SET deals_revision = deals_revision + 1
        WHERE id IN (SELECT workspace_id FROM old_deals);
    ELSE
        UPDATE workspaces SET deals_revision = deals_revision + 1
        WHERE id IN (SELECT workspace_id FROM new_deals
                     UNION SELECT workspace_id FROM old_deals);
    END IF;
    RETURN NULL;
END
$$
"""
# Postgres allows transition tables only on single-event triggers: one trigger per event.
_PG_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_deals",
    "UPDATE": "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals",
    "DELETE": "REFERENCING OLD TABLE AS old_deals",
}
_SQLITE_TRIGGERS = {
    "INSERT": "WHERE id = NEW.workspace_id",
    "UPDATE": "WHERE id IN (NEW.workspace_id, OLD.workspace_id)",
    "DELETE": "WHERE id = OLD.workspace_id",
}


def _trigger(event: str) -> str:
    return f"deals_revision_{event.lower()}"


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("deals_revision", sa.BigInteger(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for event, referencing in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(event)} AFTER {event} ON deals {referencing} "
                "FOR EACH STATEMENT EXECUTE FUNCTION vectoros_bump_deals_revision()"
            )
    else:
        for event, where in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(event)} AFTER {event} ON deals BEGIN "
                f"UPDATE workspaces SET deals_revision = deals_revision + 1 {where}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {_trigger(event)}{' ON deals' if postgres else ''}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS vectoros_bump_deals_revision()")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("deals_revision")
