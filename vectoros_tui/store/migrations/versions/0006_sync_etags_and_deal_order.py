"""The backend's entity tag of each synced deal, and deals indexed in creation order.

- sync_links.remote_etag: the ETag the backend sent with the deal at the last sync. A
  backend that honours If-Match lets a push send its change with that tag instead of
  reading the deal first (a conflict comes back as 412): one request per change, not two.
- ix_deals_workspace_created: the team backend lists a workspace's deals in creation order
  (stable while a client pages); without the index Postgres sorted all of a 10,000-deal
  workspace for every page (~10 ms).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_links") as batch:
        batch.add_column(sa.Column("remote_etag", sa.String(length=200), nullable=True))
    op.create_index("ix_deals_workspace_created", "deals", ["workspace_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deals_workspace_created", table_name="deals")
    with op.batch_alter_table("sync_links") as batch:
        batch.drop_column("remote_etag")
