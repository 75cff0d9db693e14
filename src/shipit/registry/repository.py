"""The experiment registry on SQLAlchemy 2: SQLite file by default, PostgreSQL by URL.

Every change runs in one transaction: a refused change (wrong state, conflict, randomization
change without a new phase) raises before anything is written, so the stored experiment is
left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shipit.errors import ConflictError, EngineError, NotFoundError, SpecError, StateError
from shipit.registry.audit import AuditEntry, diff, record
from shipit.registry.changes import Review, review_running_update
from shipit.registry.conflicts import check_conflicts
from shipit.registry.engine import create_registry_engine, reading
from shipit.registry.lifecycle import Decision, Status, check_transition
from shipit.registry.tables import audit_log, experiments, phases
from shipit.spec.experiment import Experiment

__all__ = [
    "ExperimentRecord",
    "Phase",
    "SqlAlchemyRepository",
    "default_url",
    "open_registry",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Decisions that take the variants away: recording one turns the kill switch on.
WITHDRAWN = frozenset({Decision.KILL, Decision.ROLL_BACK, Decision.HALT})


@dataclass(frozen=True)
class Phase:
    """A period with fixed randomization: analyses use exposures of the current phase."""

    number: int
    started_at: datetime
    ended_at: datetime | None
    salt: str
    hash_version: int
    unit: str
    traffic: float
    weights: dict[str, float]
    reason: str


@dataclass(frozen=True)
class ExperimentRecord:
    """A stored experiment with its state and current phase."""

    experiment: Experiment
    status: Status
    decision: Decision | None
    created_at: datetime
    updated_at: datetime
    phase: Phase | None

    @property
    def key(self) -> str:
        """The experiment key."""
        return self.experiment.key


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def default_url(project_dir: Path | None = None) -> str:
    """The SQLite file ``.shipit/shipit.db`` under the project directory (default: cwd)."""
    path = (project_dir or Path.cwd()) / ".shipit" / "shipit.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def open_registry(url: str | None = None, project_dir: Path | None = None) -> SqlAlchemyRepository:
    """Connect to the registry (default: the project's SQLite file) and run migrations."""
    repo = SqlAlchemyRepository(create_registry_engine(url or default_url(project_dir)))
    repo.migrate()
    return repo


class SqlAlchemyRepository:
    """Experiments, their lifecycle, phases and audit log in a SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.OperationalError as exc:
            raise EngineError(f"cannot open the registry database: {exc.orig}") from exc

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- reads -------------------------------------------------------------------------------

    def get(self, key: str) -> ExperimentRecord:
        """One experiment; NotFoundError names the key."""
        with reading(self.engine) as conn:
            return self._get(conn, key)

    def list_experiments(self, status: Status | None = None) -> list[ExperimentRecord]:
        """All experiments (optionally of one status), by key."""
        query = sa.select(experiments.c.key).order_by(experiments.c.key)
        if status is not None:
            query = query.where(experiments.c.status == status.value)
        with reading(self.engine) as conn:
            return [self._get(conn, k) for k in conn.scalars(query).all()]

    def phases(self, key: str) -> list[Phase]:
        """Every phase of an experiment, oldest first."""
        with reading(self.engine) as conn:
            self._row(conn, key)
            return self._phases(conn, key)

    def audit(self, key: str | None = None) -> list[AuditEntry]:
        """Audit entries, oldest first (of one experiment if ``key`` is given)."""
        query = sa.select(audit_log).order_by(audit_log.c.id)
        if key is not None:
            query = query.where(audit_log.c.experiment_key == key)
        with reading(self.engine) as conn:
            return [
                AuditEntry(
                    r.id, r.experiment_key, _aware(r.at) or r.at, r.actor, r.action, r.details
                )
                for r in conn.execute(query)
            ]

    # -- changes -----------------------------------------------------------------------------

    def create(self, experiment: Experiment, actor: str = "unknown") -> ExperimentRecord:
        """Store a new draft; ConflictError if the key is taken."""
        return self.create_many([experiment], actor)[0]

    def create_many(
        self, specs: Sequence[Experiment], actor: str = "unknown"
    ) -> list[ExperimentRecord]:
        """Store new drafts in one transaction: all of them, or none when a key is taken."""
        now = _now()
        keys = [e.key for e in specs]
        with self.engine.begin() as conn:
            taken = conn.scalars(sa.select(experiments.c.key).where(experiments.c.key.in_(keys)))
            clash = sorted(set(taken) | {k for i, k in enumerate(keys) if k in keys[:i]})
            if clash:
                names = ", ".join(repr(k) for k in clash)
                verb = "already exists" if len(clash) == 1 else "already exist"
                raise ConflictError(f"experiment {names} {verb}; nothing was created")
            for experiment in specs:
                spec = experiment.to_dict(with_shared=True)
                conn.execute(
                    experiments.insert().values(
                        key=experiment.key,
                        status=Status.DRAFT.value,
                        decision=None,
                        spec=spec,
                        created_at=now,
                        updated_at=now,
                    )
                )
                record(conn, experiment.key, now, actor, "create", {"spec": spec})
            return [self._get(conn, key) for key in keys]

    def update(
        self,
        experiment: Experiment,
        actor: str = "unknown",
        *,
        new_phase: bool = False,
        reason: str = "",
    ) -> ExperimentRecord:
        """Replace a draft's or running experiment's spec.

        A running experiment's randomization (unit, salt, hash version, the ordered variant
        weights, namespace, holdout) and analysis plan (control, metrics, guardrails,
        ``analysis``, forced and excluded units) change only with ``new_phase=True`` and a
        ``reason`` (see ``shipit.registry.changes``); a traffic or targeting change starts a
        new phase by itself. Override edits are audited with the units they move.
        """
        now = _now()
        key = experiment.key
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            status = Status(row.status)
            old = Experiment.model_validate(row.spec)
            if status not in (Status.DRAFT, Status.RUNNING):
                raise StateError(f"cannot change experiment {key!r}: it is {status}")
            review = Review()
            if status is Status.RUNNING:
                review = review_running_update(old, experiment, new_phase=new_phase, reason=reason)
                if experiment.namespace != old.namespace or experiment.targeting != old.targeting:
                    check_conflicts(conn, experiment)
            spec = experiment.to_dict(with_shared=True)
            changes = diff(row.spec, spec)
            conn.execute(
                experiments.update()
                .where(experiments.c.key == key)
                .values(spec=spec, updated_at=now)
            )
            details: dict[str, Any] = {"changes": changes}
            if review.moved:
                details["units_moved"] = review.moved
            if review.phase_reason:
                number = self._new_phase(conn, experiment, now, review.phase_reason)
                details["phase"] = {"number": number, "reason": review.phase_reason}
            record(conn, key, now, actor, "update", details)
            return self._get(conn, key)

    def start(self, key: str, actor: str = "unknown") -> ExperimentRecord:
        """draft → running, opening phase 1; refused if it overlaps a running experiment."""
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            check_transition(key, Status(row.status), Status.RUNNING)
            experiment = Experiment.model_validate(row.spec)
            check_conflicts(conn, experiment)
            self._set_status(conn, key, Status.RUNNING, now)
            number = self._new_phase(conn, experiment, now, "start")
            record(conn, key, now, actor, "start", {"phase": number})
            return self._get(conn, key)

    def stop(self, key: str, actor: str = "unknown") -> ExperimentRecord:
        """running → stopped, closing the current phase."""
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            check_transition(key, Status(row.status), Status.STOPPED)
            self._close_phase(conn, key, now)
            record(conn, key, now, actor, "stop", {})
            return self._get(conn, key)

    def decide(
        self,
        key: str,
        decision: Decision | str,
        actor: str = "unknown",
        *,
        reason: str = "",
        stop_running: bool = False,
    ) -> ExperimentRecord:
        """stopped → decided, with any value of the verdict's vocabulary (``Decision``).

        With ``stop_running`` a running experiment is stopped first, in the same transaction.
        A decision that takes the variants away (kill, roll_back, halt) also turns the kill
        switch on, so assignment serves control to everyone not forced.
        """
        try:
            verdict = Decision(decision)
        except ValueError as exc:
            raise SpecError(
                f"unknown decision {decision!r}; use one of {', '.join(d.value for d in Decision)}"
            ) from exc
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            status = Status(row.status)
            if stop_running and status is Status.RUNNING:
                self._close_phase(conn, key, now)
                record(conn, key, now, actor, "stop", {"reason": f"decided: {verdict.value}"})
                status = Status.STOPPED
            check_transition(key, status, Status.DECIDED)
            details: dict[str, Any] = {"decision": verdict.value}
            if reason:
                details["reason"] = reason
            if verdict in WITHDRAWN and not row.spec.get("kill_switch", False):
                spec = {**row.spec, "kill_switch": True}
                conn.execute(experiments.update().where(experiments.c.key == key).values(spec=spec))
                details["kill_switch"] = True
            self._set_status(conn, key, Status.DECIDED, now, decision=verdict)
            record(conn, key, now, actor, "decide", details)
            return self._get(conn, key)

    def kill(self, key: str, actor: str = "unknown", *, reason: str = "") -> ExperimentRecord:
        """Turn a draft's or running experiment's kill switch on (control for everyone not
        forced), audited as ``kill`` with who and why; no phase change, as for any edit of
        the switch. Idempotent: an experiment already killed gets no second entry."""
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            status = Status(row.status)
            if status not in (Status.DRAFT, Status.RUNNING):
                raise StateError(f"cannot kill experiment {key!r}: it is {status}")
            if not row.spec.get("kill_switch", False):
                spec = {**row.spec, "kill_switch": True}
                conn.execute(
                    experiments.update()
                    .where(experiments.c.key == key)
                    .values(spec=spec, updated_at=now)
                )
                record(conn, key, now, actor, "kill", {"kill_switch": True, "reason": reason})
            return self._get(conn, key)

    def note(self, key: str, action: str, details: dict[str, Any], actor: str = "unknown") -> None:
        """Append an audit entry about ``key`` that changes nothing else (a rollout step
        taken, an alert sent)."""
        with self.engine.begin() as conn:
            self._row(conn, key)
            record(conn, key, _now(), actor, action, details)

    def ramp(
        self, key: str, traffic: float, actor: str = "unknown", *, reason: str = ""
    ) -> ExperimentRecord:
        """Set a running experiment's traffic: a new phase, audited as ``ramp``."""
        if not 0.0 < traffic <= 1.0:
            raise SpecError(f"traffic must be in (0, 1], got {traffic:g}")
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            status = Status(row.status)
            if status is not Status.RUNNING:
                raise StateError(f"cannot ramp experiment {key!r}: it is {status}, not running")
            old = Experiment.model_validate(row.spec)
            if old.traffic == traffic:
                raise StateError(f"experiment {key!r} already runs at traffic {traffic:g}")
            new = old.model_copy(update={"traffic": traffic})
            spec = new.to_dict(with_shared=True)
            conn.execute(
                experiments.update()
                .where(experiments.c.key == key)
                .values(spec=spec, updated_at=now)
            )
            why = f"traffic {old.traffic:g} -> {traffic:g}" + (f": {reason}" if reason else "")
            number = self._new_phase(conn, new, now, why)
            details = {
                "traffic": [old.traffic, traffic],
                "phase": {"number": number, "reason": why},
                "reason": reason,
            }
            record(conn, key, now, actor, "ramp", details)
            return self._get(conn, key)

    def archive(self, key: str, actor: str = "unknown") -> ExperimentRecord:
        """decided (or draft) → archived."""
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, key, lock=True)
            check_transition(key, Status(row.status), Status.ARCHIVED)
            self._set_status(conn, key, Status.ARCHIVED, now)
            record(conn, key, now, actor, "archive", {})
            return self._get(conn, key)

    # -- internals ---------------------------------------------------------------------------

    def _row(self, conn: sa.Connection, key: str, lock: bool = False) -> Any:
        query = sa.select(experiments).where(experiments.c.key == key)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no experiment {key!r} in the registry")
        return row

    def _get(self, conn: sa.Connection, key: str) -> ExperimentRecord:
        row = self._row(conn, key)
        current = [p for p in self._phases(conn, key) if p.ended_at is None]
        return ExperimentRecord(
            experiment=Experiment.model_validate(row.spec),
            status=Status(row.status),
            decision=Decision(row.decision) if row.decision else None,
            created_at=_aware(row.created_at) or row.created_at,
            updated_at=_aware(row.updated_at) or row.updated_at,
            phase=current[-1] if current else None,
        )

    def _phases(self, conn: sa.Connection, key: str) -> list[Phase]:
        rows = conn.execute(
            sa.select(phases).where(phases.c.experiment_key == key).order_by(phases.c.number)
        )
        return [
            Phase(
                number=r.number,
                started_at=_aware(r.started_at) or r.started_at,
                ended_at=_aware(r.ended_at),
                salt=r.salt,
                hash_version=r.hash_version,
                unit=r.unit,
                traffic=r.traffic,
                weights=dict(r.weights),
                reason=r.reason,
            )
            for r in rows
        ]

    def _set_status(
        self,
        conn: sa.Connection,
        key: str,
        status: Status,
        now: datetime,
        decision: Decision | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "updated_at": now}
        if decision is not None:
            values["decision"] = decision.value
        conn.execute(experiments.update().where(experiments.c.key == key).values(**values))

    def _close_phase(self, conn: sa.Connection, key: str, now: datetime) -> None:
        """running → stopped: the status and the current phase's end."""
        self._set_status(conn, key, Status.STOPPED, now)
        conn.execute(
            phases.update()
            .where(phases.c.experiment_key == key, phases.c.ended_at.is_(None))
            .values(ended_at=now)
        )

    def _new_phase(
        self, conn: sa.Connection, experiment: Experiment, now: datetime, reason: str
    ) -> int:
        key = experiment.key
        conn.execute(
            phases.update()
            .where(phases.c.experiment_key == key, phases.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        last = conn.scalar(
            sa.select(sa.func.max(phases.c.number)).where(phases.c.experiment_key == key)
        )
        number = int(last or 0) + 1
        conn.execute(
            phases.insert().values(
                experiment_key=key,
                number=number,
                started_at=now,
                ended_at=None,
                salt=experiment.hash_salt,
                hash_version=experiment.hash_version,
                unit=experiment.unit,
                traffic=experiment.traffic,
                weights=dict(zip(experiment.variant_keys, experiment.weights, strict=True)),
                reason=reason,
            )
        )
        return number
