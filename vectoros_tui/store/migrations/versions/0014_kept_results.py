"""Results kept against the data they were computed from.

- workspaces.activities_revision: kept by triggers on ``activities`` (insert, update,
  delete), as ``deals_revision`` is on ``deals``; together the two numbers move whenever
  anything a forecast, a health score or an insight reads has changed, whichever process
  changed it.
- kept_results: a workspace's last forecast, scores or insight regeneration per kind and
  parameters, with the two revisions and the day it was computed for; reused while all
  three still hold (see ``vectoros_tui.store.kept_results``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = "UPDATE workspaces SET activities_revision = activities_revision + 1"
# An activity belongs to its workspace through its deal. Postgres bumps a workspace once
# per transaction, however many statements change its activities: a bulk load sends a
# statement per row, and updating one row again and again within a transaction makes each
# update walk every earlier version of it (quadratic). A transaction-local setting
# remembers that the bump is done; one bump per transaction is all a reader can see.
_PG_FUNCTION = """
CREATE FUNCTION vectoros_bump_activities_revision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    spaces uuid[];
    ws uuid;
    done_flag text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT d.workspace_id) INTO spaces FROM deals d
        WHERE d.id IN (SELECT deal_id FROM new_activities);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT d.workspace_id) INTO spaces FROM deals d
        WHERE d.id IN (SELECT deal_id FROM old_activities);
    ELSE
        SELECT array_agg(DISTINCT d.workspace_id) INTO spaces FROM deals d
        WHERE d.id IN (SELECT deal_id FROM new_activities
                       UNION SELECT deal_id FROM old_activities);
    END IF;
    FOREACH ws IN ARRAY coalesce(spaces, '{}'::uuid[]) LOOP
        done_flag := 'vectoros.activities_bumped_' || replace(ws::text, '-', '_');
        IF current_setting(done_flag, true) IS DISTINCT FROM '1' THEN
            UPDATE workspaces SET activities_revision = activities_revision + 1 WHERE id = ws;
            PERFORM set_config(done_flag, '1', true);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""
# Postgres allows transition tables only on single-event triggers: one trigger per event.
# Per statement, so a bulk load of activities bumps the workspace once, not per row.
_PG_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_activities",
    "UPDATE": "REFERENCING OLD TABLE AS old_activities NEW TABLE AS new_activities",
    "DELETE": "REFERENCING OLD TABLE AS old_activities",
}
_OF = "(SELECT workspace_id FROM deals WHERE id = {}.deal_id)"
_SQLITE_TRIGGERS = {
    "INSERT": f"WHERE id = {_OF.format('NEW')}",
    "UPDATE": f"WHERE id IN ({_OF.format('NEW')}, {_OF.format('OLD')})",
    "DELETE": f"WHERE id = {_OF.format('OLD')}",
}


def _trigger(event: str) -> str:
    return f"activities_revision_{event.lower()}"


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("activities_revision", sa.BigInteger(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for event, referencing in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(event)} AFTER {event} ON activities {referencing} "
                "FOR EACH STATEMENT EXECUTE FUNCTION vectoros_bump_activities_revision()"
            )
    else:
        for event, where in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(event)} AFTER {event} ON activities BEGIN "
                f"{_BUMP} {where}; END"
            )
    op.create_table(
        "kept_results",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.String(length=500), nullable=False),
        sa.Column("deals_revision", sa.BigInteger(), nullable=False),
        sa.Column("activities_revision", sa.BigInteger(), nullable=False),
        sa.Column("computed_for", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kept_results_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "kind", "params", name=op.f("pk_kept_results")),
    )


def downgrade() -> None:
    op.drop_table("kept_results")
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in _PG_TRIGGERS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {_trigger(event)}{' ON activities' if postgres else ''}"
        )
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS vectoros_bump_activities_revision()")
        op.drop_column("workspaces", "activities_revision")
    else:
        # Not by rebuilding the table ("batch" mode): the deals' triggers name workspaces,
        # and SQLite refuses to rename a table into place under them.
        op.execute("ALTER TABLE workspaces DROP COLUMN activities_revision")
