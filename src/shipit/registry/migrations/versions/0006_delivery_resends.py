"""What a webhook delivery sent, so that the monitor can send a failed one again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("body", "format", "secret_env", "first_at", "resend", "resend_of", "superseded_by")


def upgrade() -> None:
    """Add to ``deliveries`` the body sent, its format and the secret's environment
    variable (never the secret), and the resend chain: when the notification was first
    sent, which resend this is, the row it resends and the row that took it over."""
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("body", sa.Text, nullable=True))
        batch.add_column(sa.Column("format", sa.String(20), nullable=True))
        batch.add_column(sa.Column("secret_env", sa.String(200), nullable=True))
        batch.add_column(sa.Column("first_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resend", sa.Integer, nullable=True))
        batch.add_column(sa.Column("resend_of", sa.Integer, nullable=True))
        batch.add_column(sa.Column("superseded_by", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop the columns again (rows keep what 0004 stored)."""
    with op.batch_alter_table("deliveries") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
