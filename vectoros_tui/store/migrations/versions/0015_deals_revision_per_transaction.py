"""Postgres bumps a workspace's deals_revision once per transaction, not per statement.

A bulk load (import, the demo, a sync pull) inserts one statement per deal. Bumping the
workspace row per statement updated the same row thousands of times in one transaction,
and each update of a row walks every earlier version of it that the transaction left
behind: the cost grew with the square of the deals (a 20,000-deal load bumped it 20,000
times). A transaction-local setting now records that the bump is done, as the activities'
trigger already does; one bump per transaction is all another transaction can see, and a
savepoint rolled back takes its bump and its setting with it. SQLite is unchanged: its
per-row triggers update an in-process page, without row versions.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONCE_PER_TRANSACTION = """
CREATE OR REPLACE FUNCTION vectoros_bump_deals_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    spaces uuid[];
    ws uuid;
    done_flag text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT workspace_id) INTO spaces FROM new_deals;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT workspace_id) INTO spaces FROM old_deals;
    ELSE
        SELECT array_agg(DISTINCT workspace_id) INTO spaces FROM (
            SELECT workspace_id FROM new_deals UNION SELECT workspace_id FROM old_deals
        ) AS touched;
    END IF;
    FOREACH ws IN ARRAY coalesce(spaces, '{}'::uuid[]) LOOP
        done_flag := 'vectoros.deals_bumped_' || replace(ws::text, '-', '_');
        IF current_setting(done_flag, true) IS DISTINCT FROM '1' THEN
            UPDATE workspaces SET deals_revision = deals_revision + 1 WHERE id = ws;
            PERFORM set_config(done_flag, '1', true);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""
_PER_STATEMENT = """
CREATE OR REPLACE FUNCTION vectoros_bump_deals_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ONCE_PER_TRANSACTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PER_STATEMENT)
