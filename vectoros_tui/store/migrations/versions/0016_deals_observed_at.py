"""When the store first saw a deal that existed before it.

- deals.observed_at: set when a deal arrives with a past of its own (a CSV import's
  created date earlier than the import) to the moment it arrived; NULL for a deal created
  here (or pulled from the team backend, which gives no created date), which the store
  has seen from its creation. Before that moment the deal's stage, probability and close
  date are not known: the file says only what they are on the day it was exported. A
  past forecast that read them then would know which deals were still open on that day
  and which had closed (see ``vectoros_tui.store.as_of``).

A plain ADD COLUMN and DROP COLUMN (SQLite 3.35 and later), never a table rebuild: a
rebuilt table on SQLite loses the triggers that keep its workspace's revision.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deals", sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE deals DROP COLUMN observed_at")
