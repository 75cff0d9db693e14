"""The audit log refuses TRUNCATE too (PostgreSQL; SQLite has no TRUNCATE).

Row-level triggers do not fire on TRUNCATE, so a statement-level one is needed; it reuses
the function that refuses UPDATE and DELETE.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add a BEFORE TRUNCATE trigger on ``audit_log``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION shipit_audit_append_only()"
        )


def downgrade() -> None:
    """Drop the trigger."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
