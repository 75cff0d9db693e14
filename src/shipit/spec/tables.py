"""Where an experiment's data lives when it is not in the store's own tables.

``tables:`` in a spec maps the store tables onto existing engine tables (a warehouse's
assignment log, its orders table) without copying: each becomes a view whose columns are
renamed by ``columns`` and filled by ``constants`` (a log of one experiment has no
experiment column: ``constants: {experiment: checkout}``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TableMap", "TableMaps"]


class TableMap(BaseModel):
    """One store table read from an engine table: shipit column -> source column, and
    shipit columns given one value for every row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(min_length=1)
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | int] = Field(default_factory=dict)


class TableMaps(BaseModel):
    """The store tables an experiment reads from elsewhere (None: the store's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exposures: TableMap | None = None
    events: TableMap | None = None
    units: TableMap | None = None

    def given(self) -> dict[str, TableMap]:
        """The mapped tables by store table name."""
        out = {"exposures": self.exposures, "events": self.events, "units": self.units}
        return {k: v for k, v in out.items() if v is not None}
