"""The monitor's state in the registry: alert states, webhook deliveries and the runner lease.

Alert states make each alert fire once per change of state, across runs and processes;
deliveries record every webhook attempt's outcome; the lease lets one monitor run at a time
on a shared database (a row taken by a conditional UPDATE, so SQLite and PostgreSQL
behave alike). The tables are created by Alembic migration 0004 (the deliveries' bodies
and resend chain by 0006); these are their mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shipit.registry.analyses import analyses
from shipit.registry.engine import reading

__all__ = [
    "AlertState",
    "Delivery",
    "MonitorState",
    "alert_states",
    "deliveries",
    "leases",
]

metadata = sa.MetaData()

alert_states = sa.Table(
    "alert_states",
    metadata,
    sa.Column("experiment_key", sa.String(200), primary_key=True),
    sa.Column("rule", sa.String(40), primary_key=True),
    sa.Column("state", sa.String(200), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_key", sa.String(200), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=False),
    # Migration 0006: what was sent (never the secret, only its variable's name) and the
    # resend chain, so a failed delivery is sent again at most once per run.
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("format", sa.String(20), nullable=True),
    sa.Column("secret_env", sa.String(200), nullable=True),
    sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resend", sa.Integer, nullable=True),
    sa.Column("resend_of", sa.Integer, nullable=True),
    sa.Column("superseded_by", sa.Integer, nullable=True),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class AlertState:
    """The last state seen of one rule on one experiment (``""`` when quiet)."""

    experiment_key: str
    rule: str
    state: str
    changed_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One webhook notification: where, for which rules, and how it went; what it sent
    (``body``, ``format``, ``secret_env``: None for rows older than migration 0006), when
    the notification was first sent, which resend it is (0: the first sending), the row
    it sends again and the later row that sent it again (``superseded_by``)."""

    id: int
    experiment_key: str
    at: datetime
    url: str
    rules: list[str]
    ok: bool
    attempts: int
    status_code: int | None
    error: str
    body: str | None = None
    format: str | None = None
    secret_env: str | None = None
    first_at: datetime | None = None
    resend: int = 0
    resend_of: int | None = None
    superseded_by: int | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _delivery(r: sa.Row[Any]) -> Delivery:
    return Delivery(
        r.id,
        r.experiment_key,
        _aware(r.at),
        r.url,
        list(r.rules),
        bool(r.ok),
        r.attempts,
        r.status_code,
        r.error,
        r.body,
        r.format,
        r.secret_env,
        None if r.first_at is None else _aware(r.first_at),
        r.resend or 0,
        r.resend_of,
        r.superseded_by,
    )


class MonitorState:
    """Read and write the monitor's tables of one registry database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- alerts ------------------------------------------------------------------------------

    def alert_states(self, key: str) -> dict[str, AlertState]:
        """The stored state of each rule of ``key``."""
        query = sa.select(alert_states).where(alert_states.c.experiment_key == key)
        with reading(self.engine) as con:
            rows = con.execute(query).all()
        return {
            r.rule: AlertState(r.experiment_key, r.rule, r.state, _aware(r.changed_at))
            for r in rows
        }

    def set_alert_states(self, key: str, states: dict[str, str], at: datetime) -> None:
        """Store the new state of each rule given (rows that did not change are untouched)."""
        with self.engine.begin() as con:
            current = {
                r.rule: r.state
                for r in con.execute(
                    sa.select(alert_states).where(alert_states.c.experiment_key == key)
                )
            }
            for rule, state in states.items():
                if rule not in current:
                    con.execute(
                        alert_states.insert().values(
                            experiment_key=key, rule=rule, state=state, changed_at=at
                        )
                    )
                elif current[rule] != state:
                    con.execute(
                        alert_states.update()
                        .where(alert_states.c.experiment_key == key, alert_states.c.rule == rule)
                        .values(state=state, changed_at=at)
                    )

    # -- deliveries --------------------------------------------------------------------------

    def record_delivery(
        self,
        key: str,
        url: str,
        rules: list[str],
        *,
        ok: bool,
        attempts: int,
        status_code: int | None,
        error: str = "",
        body: bytes | None = None,
        format: str | None = None,
        secret_env: str | None = None,
        resending: Delivery | None = None,
    ) -> int:
        """Append one notification's outcome and return its id. ``resending`` is the failed
        delivery this one sends again: it is marked superseded in the same transaction, so
        that it is never sent a third time."""
        now = datetime.now(UTC)
        first_at = now if resending is None else (resending.first_at or resending.at)
        with self.engine.begin() as con:
            inserted = con.execute(
                deliveries.insert().values(
                    experiment_key=key,
                    at=now,
                    url=url,
                    rules=list(rules),
                    ok=ok,
                    attempts=attempts,
                    status_code=status_code,
                    error=error,
                    body=None if body is None else body.decode("utf-8"),
                    format=format,
                    secret_env=secret_env,
                    first_at=first_at,
                    resend=0 if resending is None else resending.resend + 1,
                    resend_of=None if resending is None else resending.id,
                )
            ).inserted_primary_key
            assert inserted is not None
            new_id = int(inserted[0])
            if resending is not None:
                con.execute(
                    deliveries.update()
                    .where(deliveries.c.id == resending.id)
                    .values(superseded_by=new_id)
                )
        return new_id

    def to_resend(self, since: datetime, max_resends: int) -> list[Delivery]:
        """Failed deliveries to send again, oldest first: not superseded, their body
        stored, first sent at or after ``since`` and resent fewer than ``max_resends`` times."""
        c = deliveries.c
        query = (
            sa.select(deliveries)
            .where(
                c.ok == sa.false(),
                c.superseded_by.is_(None),
                c.body.is_not(None),
                c.first_at >= since,
                sa.func.coalesce(c.resend, 0) < max_resends,
            )
            .order_by(c.id)
        )
        with reading(self.engine) as con:
            return [_delivery(r) for r in con.execute(query)]

    def deliveries(self, key: str | None = None) -> list[Delivery]:
        """Recorded notifications, oldest first (of one experiment if ``key`` is given)."""
        query = sa.select(deliveries).order_by(deliveries.c.id)
        if key is not None:
            query = query.where(deliveries.c.experiment_key == key)
        with reading(self.engine) as con:
            return [_delivery(r) for r in con.execute(query)]

    # -- the runner lease --------------------------------------------------------------------

    def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take (or renew) lease ``name`` for ``seconds``: True if ``holder`` now has it.

        A conditional UPDATE (free, expired or already ours) is atomic on both databases;
        the first taker of a new lease inserts its row, and a second inserter loses on the
        primary key.
        """
        now = datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        with self.engine.begin() as con:
            taken = con.execute(
                leases.update()
                .where(
                    leases.c.name == name,
                    sa.or_(leases.c.holder == holder, leases.c.expires_at < now),
                )
                .values(holder=holder, expires_at=until)
            ).rowcount
            if taken:
                return True
            exists = con.scalar(sa.select(sa.func.count()).where(leases.c.name == name))
        if exists:
            return False
        try:
            with self.engine.begin() as con:
                con.execute(leases.insert().values(name=name, holder=holder, expires_at=until))
        except sa.exc.IntegrityError:
            return False
        return True

    def release(self, name: str, holder: str) -> None:
        """Give lease ``name`` up (only if ``holder`` has it)."""
        with self.engine.begin() as con:
            con.execute(
                leases.update()
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            )

    # -- schedule ----------------------------------------------------------------------------

    def last_analysis_at(self, key: str) -> datetime | None:
        """When the newest stored analysis of ``key`` was saved (None: never)."""
        query = sa.select(sa.func.max(analyses.c.created_at)).where(analyses.c.experiment == key)
        with reading(self.engine) as con:
            value = con.scalar(query)
        return None if value is None else _aware(value)
