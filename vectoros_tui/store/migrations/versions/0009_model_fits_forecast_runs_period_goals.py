"""The history model's kept fits, each day's forecasts, and goals per calendar period.

- model_fits: one per (workspace, window): the fitted coefficients and covariance as JSON,
  the data fingerprint and day they were fitted for (a later read reuses them while both
  still hold).
- forecast_runs: one per (workspace, day, window, model): the band and mean computed that
  day, so the forecast's history can be compared with what closed.
- period_goals: one per (workspace, period), the period a quarter (2026-Q1) or a month
  (2026-03).

Both go with their workspace.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_fits",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("window_days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=500), nullable=False),
        sa.Column("fitted_for", sa.Date(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_model_fits_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "window_days", name=op.f("pk_model_fits")),
    )
    op.create_table(
        "forecast_runs",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("p5", sa.Float(), nullable=False),
        sa.Column("p50", sa.Float(), nullable=False),
        sa.Column("p95", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("open_deals", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_forecast_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "day", "window_days", "model", name=op.f("pk_forecast_runs")
        ),
    )

    op.create_table(
        "period_goals",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_period_goals_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "period", name=op.f("pk_period_goals")),
    )


def downgrade() -> None:
    op.drop_table("period_goals")
    op.drop_table("forecast_runs")
    op.drop_table("model_fits")
