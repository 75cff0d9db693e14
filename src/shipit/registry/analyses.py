"""Saved analyses: the JSON of each analysis run of an experiment, newest last.

The registry stores the text as given (``shipit.result.schema`` writes and reads it), so the
registry needs nothing of the analysis model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from shipit.errors import NotFoundError
from shipit.registry.engine import reading
from shipit.registry.keys import metadata

__all__ = ["AnalysisRepository", "SavedAnalysis", "analyses"]

analyses = sa.Table(
    "analyses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class SavedAnalysis:
    """One stored analysis run."""

    id: int
    experiment: str
    created_at: datetime
    actor: str
    body: str


class AnalysisRepository:
    """Save analysis runs and fetch the latest one of an experiment."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def save(self, experiment: str, body: str, *, actor: str) -> SavedAnalysis:
        """Store one run's JSON."""
        now = datetime.now(UTC)
        with self.engine.begin() as con:
            result = con.execute(
                analyses.insert().values(
                    experiment=experiment, created_at=now, actor=actor, body=body
                )
            )
            pk = result.inserted_primary_key
        return SavedAnalysis(int(pk[0]) if pk else 0, experiment, now, actor, body)

    def latest(self, experiment: str) -> SavedAnalysis:
        """The newest run of ``experiment``; NotFoundError when it was never analysed."""
        query = (
            analyses.select()
            .where(analyses.c.experiment == experiment)
            .order_by(analyses.c.id.desc())
            .limit(1)
        )
        with reading(self.engine) as con:
            row = con.execute(query).first()
        if row is None:
            raise NotFoundError(
                f"experiment {experiment!r} has no analysis yet: run one with "
                f"POST /v1/experiments/{experiment}/analyses"
            )
        m = row._mapping
        return SavedAnalysis(m["id"], m["experiment"], m["created_at"], m["actor"], m["body"])

    def history(self, experiment: str, *, since: datetime | None = None) -> list[SavedAnalysis]:
        """Every run of ``experiment`` (saved at or after ``since``, if given), oldest first."""
        query = analyses.select().where(analyses.c.experiment == experiment).order_by(analyses.c.id)
        with reading(self.engine) as con:
            rows = con.execute(query).all()
        out = []
        for row in rows:
            m = row._mapping
            created = m["created_at"]
            if created.tzinfo is None:  # SQLite returns naive datetimes, written in UTC
                created = created.replace(tzinfo=UTC)
            if since is None or created >= _utc(since):
                out.append(SavedAnalysis(m["id"], m["experiment"], created, m["actor"], m["body"]))
        return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
