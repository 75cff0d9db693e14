"""Allocation periods of bandit experiments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``bandit_periods``: one row per allocation period of a bandit's phase."""
    op.create_table(
        "bandit_periods",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment_key", sa.String(200), nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.UniqueConstraint("experiment_key", "phase", "number"),
    )


def downgrade() -> None:
    """Drop ``bandit_periods``."""
    op.drop_table("bandit_periods")
