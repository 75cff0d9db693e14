"""SQLAlchemy 2 tables of the registry (persistence only; callers get value objects)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["audit_log", "experiments", "metadata", "phases"]

metadata = sa.MetaData()

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("decision", sa.String(20), nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

phases = sa.Table(
    "phases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_key", sa.String(200), sa.ForeignKey("experiments.key"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("salt", sa.String(400), nullable=False),
    sa.Column("hash_version", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(200), nullable=False),
    sa.Column("traffic", sa.Float, nullable=False),
    sa.Column("weights", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.UniqueConstraint("experiment_key", "number"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_key", sa.String(200), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)
