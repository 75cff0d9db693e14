"""Where an experiment's data comes from when it is not the event store: a per-unit table.

One row per unit (a CSV or Parquet file, or a table of the engine), with the variant in one
column and outcomes, covariates and segments in others; metrics name their ``column``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TableSource"]


class TableSource(BaseModel):
    """A per-unit table: ``table`` is a ``.csv``/``.parquet`` path or ``engine:NAME`` (a table
    of the store); ``variant`` and ``unit`` name its columns (``unit`` is optional and only
    checked for duplicates)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(min_length=1)
    variant: str = Field(min_length=1)
    unit: str | None = Field(default=None, min_length=1)
