"""API keys of the server (hashed) and saved analysis runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``api_keys`` and ``analyses``."""
    op.create_table(
        "api_keys",
        sa.Column("prefix", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_analyses_experiment", "analyses", ["experiment"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_analyses_experiment", table_name="analyses")
    op.drop_table("analyses")
    op.drop_table("api_keys")
