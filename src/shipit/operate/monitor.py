"""The monitor: analyse every running experiment that is due, alert, and roll back if asked.

One run (:meth:`Monitor.run_once`) takes the registry's ``monitor`` lease, so that several
monitors on one database (server replicas, a cron job beside them) run each due analysis
once; it then analyses each running experiment whose newest stored analysis is older than
its ``monitoring.every`` (default daily), stores the analysis as ``POST /analyses`` does,
evaluates the alert rules against the states stored after the previous run, turns the kill
switch on when ``auto_rollback`` is set and a guardrail is red or SRM fails, and notifies
the spec's webhooks. A failure of one experiment (no data yet, a receiver down) is recorded
in its outcome and the run goes on; a delivery that failed is sent again by the next runs
(``operate.resend``), before anything else.

The schedule lives in the registry (the time of each experiment's newest analysis), not in
the process: :meth:`Monitor.run_forever` only wakes up every few seconds and runs once. An
in-process scheduler library would add a second copy of the schedule that replicas do not
share, for a fixed-interval loop that ``threading.Event.wait`` already gives.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shipit.analysis.registered import analyze_registered
from shipit.operate.alerts import ROLLBACK_RULES, Alert, evaluate_rules, observe
from shipit.operate.bandit import BanditUpdate, update_due_bandits
from shipit.operate.notify import DEFAULT_RETRY, RetryPolicy, body_for, send_webhook
from shipit.operate.resend import DEFAULT_RESEND, ResendPolicy, Resent, resend_failed
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.lifecycle import Status
from shipit.registry.monitoring import MonitorState
from shipit.result.model import Analysis
from shipit.result.schema import to_json
from shipit.spec.monitoring import DEFAULT_EVERY, parse_every
from shipit.store.engine import Engine

__all__ = ["LEASE", "Monitor", "MonitorRun", "Outcome"]

LEASE = "monitor"
ACTOR = "shipit-monitor"
KILL_ACTION = "kill_switch_on"
FAILED = "_failed_at"  # the alert-state row that keeps the last failed attempt's time
log = logging.getLogger("shipit.monitor")


@dataclass(frozen=True)
class Outcome:
    """What one run did with one experiment."""

    key: str
    status: str  # analysed | error
    verdict: str | None = None
    alerts: tuple[Alert, ...] = ()
    rolled_back: bool = False
    delivered: int = 0
    failed: int = 0
    error: str = ""


@dataclass(frozen=True)
class MonitorRun:
    """One run: whether this monitor held the lease, and an outcome per due experiment."""

    ran: bool
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)
    bandit_updates: tuple[BanditUpdate, ...] = field(default_factory=tuple)
    resent: tuple[Resent, ...] = field(default_factory=tuple)


class Monitor:
    """Scheduled analysis, alerts and automatic rollback over one registry and one store.

    ``open_store`` is called only when some experiment is due (and this monitor holds the
    lease), and the store is closed at the end of the run (unless ``close_store`` is False):
    a local DuckDB file stays free for others between runs. ``store_lock`` is held around
    each analysis when the store is shared with other threads (the server's); ``analyze``
    runs one (default ``analyze_registered`` here; the server hands it to its worker).
    """

    def __init__(
        self,
        registry: Any,
        open_store: Callable[[], Engine],
        *,
        holder: str | None = None,
        dashboard_url: str = "",
        lease_seconds: float = 600.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] | None = None,
        close_store: bool = True,
        store_lock: AbstractContextManager[Any] | None = None,
        resend: ResendPolicy = DEFAULT_RESEND,
        analyze: Callable[[str, Engine, Any], Analysis] = analyze_registered,
    ) -> None:
        self.registry = registry
        self.open_store = open_store
        self.holder = holder or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dashboard_url = dashboard_url.rstrip("/")
        self.lease_seconds = lease_seconds
        self.retry = retry
        self.sleep = sleep
        self.close_store = close_store
        self.store_lock = store_lock  # held around each analysis (a store shared with others)
        self.resend = resend  # which failed deliveries of earlier runs are sent again
        self.analyze = analyze  # (key, engine, registry) -> Analysis: the server's worker
        self.state = MonitorState(registry.engine)
        self.analyses = AnalysisRepository(registry.engine)

    def due(self, now: datetime | None = None) -> list[str]:
        """Keys of the running experiments whose newest analysis is older than their interval."""
        now = now or datetime.now(UTC)
        out = []
        for record in self.registry.list_experiments(Status.RUNNING):
            monitoring = record.experiment.monitoring
            every = parse_every(monitoring.every if monitoring else DEFAULT_EVERY)
            last = self.state.last_analysis_at(record.key)
            tried = self._last_failure(record.key)
            if tried is not None and (last is None or tried > last):
                last = tried  # a failed attempt waits its interval too, like a success
            if last is None or last + timedelta(seconds=every) <= now:
                out.append(record.key)
        return out

    def run_once(self, now: datetime | None = None) -> MonitorRun:
        """Analyse what is due now, if this monitor can take the lease."""
        if not self.state.acquire(LEASE, self.holder, self.lease_seconds):
            return MonitorRun(ran=False)
        engine: Engine | None = None
        outcomes = []
        try:
            # Deliveries that failed in earlier runs first, oldest first (operate.resend).
            resent = resend_failed(self.state, policy=self.resend, retry=self.retry, now=now)
            for key in self.due(now):
                if not self.state.acquire(LEASE, self.holder, self.lease_seconds):
                    break  # the lease was lost (a run longer than the lease): stop here
                try:
                    if engine is None:
                        engine = self.open_store()
                    outcomes.append(self._check(key, engine, now or datetime.now(UTC)))
                except Exception as exc:  # one experiment's failure never stops the run
                    log.warning("monitor: %s failed: %s", key, exc)
                    outcomes.append(Outcome(key, "error", error=f"{type(exc).__name__}: {exc}"))
                    self._record_failure(key, now or datetime.now(UTC))

            def store() -> Engine:
                nonlocal engine
                if engine is None:
                    engine = self.open_store()
                return engine

            # Bandits whose allocation period has lasted update_every get their next one.
            updates = update_due_bandits(self.registry, store, now, self.store_lock)
        finally:
            if engine is not None and self.close_store:
                engine.close()
            self.state.release(LEASE, self.holder)
        return MonitorRun(
            ran=True,
            outcomes=tuple(outcomes),
            bandit_updates=tuple(updates),
            resent=tuple(resent),
        )

    def run_forever(self, stop: threading.Event, interval: float = 60.0) -> None:
        """Run once every ``interval`` seconds until ``stop`` is set; errors are logged."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("monitor run failed")
            stop.wait(interval)

    # -- one experiment ----------------------------------------------------------------------

    def _record_failure(self, key: str, now: datetime) -> None:
        """Keep the time of a failed attempt, so it is retried after ``every``, not at once."""
        try:
            self.state.set_alert_states(key, {FAILED: now.isoformat()}, now)
        except Exception:
            log.exception("monitor: cannot record the failure of %s", key)

    def _last_failure(self, key: str) -> datetime | None:
        state = self.state.alert_states(key).get(FAILED)
        return datetime.fromisoformat(state.state) if state is not None and state.state else None

    def _check(self, key: str, engine: Engine, now: datetime) -> Outcome:
        with self.store_lock if self.store_lock is not None else nullcontext():
            analysis = self.analyze(key, engine, self.registry)
        self.analyses.save(key, to_json(analysis), actor=ACTOR)
        record = self.registry.get(key)
        experiment = record.experiment
        observed = observe(analysis, experiment, now.date())
        previous = {rule: s.state for rule, s in self.state.alert_states(key).items()}
        alerts = evaluate_rules(observed, previous)
        monitoring = experiment.monitoring
        rolled_back = False
        # Rolled back on the current state, not only on a change: a guardrail already red
        # when auto_rollback is switched on, or a switch turned off by hand while it is
        # still red, is rolled back at the next run.
        causes = [
            Alert(rule, state, message)
            for rule, (state, message) in observed.items()
            if rule in ROLLBACK_RULES and state
        ]
        auto = monitoring is not None and monitoring.auto_rollback
        if auto and causes and not experiment.kill_switch:
            why = "; ".join(a.message for a in causes)
            self.registry.kill(key, ACTOR, reason=f"automatic rollback: {why}")
            rolled_back = True
            fired = {a.rule for a in alerts}
            alerts += [a for a in causes if a.rule not in fired]  # say why it acted
        self.state.set_alert_states(key, {rule: s for rule, (s, _) in observed.items()}, now)
        delivered = failed = 0
        if alerts and monitoring is not None:
            for channel in monitoring.notify:
                ok = self._notify(key, channel, alerts, analysis, rolled_back)
                delivered, failed = delivered + ok, failed + (not ok)
        return Outcome(
            key,
            "analysed",
            verdict=analysis.verdict.decision.value,
            alerts=tuple(alerts),
            rolled_back=rolled_back,
            delivered=delivered,
            failed=failed,
        )

    def _notify(
        self, key: str, channel: Any, alerts: list[Alert], analysis: Analysis, rolled_back: bool
    ) -> bool:
        """Send one channel's notification and record how it went; never raises."""
        rules = [a.rule for a in alerts]
        try:
            body = body_for(
                channel.format,
                key=key,
                alerts=alerts,
                verdict=analysis.verdict.decision.value,
                reasons=analysis.verdict.reasons,
                link=f"{self.dashboard_url}/experiments/{key}",
                action=KILL_ACTION if rolled_back else None,
            )
            # What was sent is kept, so that a failed delivery can be sent again later.
            sent = {"body": body, "format": channel.format, "secret_env": channel.secret_env}
            secret = None
            if channel.secret_env:
                secret = os.environ.get(channel.secret_env)
                if not secret:
                    error = f"environment variable {channel.secret_env} (the secret) is not set"
                    self.state.record_delivery(
                        key,
                        channel.webhook,
                        rules,
                        ok=False,
                        attempts=0,
                        status_code=None,
                        error=error,
                        **sent,
                    )
                    return False
            kwargs: dict[str, Any] = {"secret": secret, "policy": self.retry}
            if self.sleep is not None:
                kwargs["sleep"] = self.sleep
            result = send_webhook(channel.webhook, body, **kwargs)
            self.state.record_delivery(
                key,
                channel.webhook,
                rules,
                ok=result.ok,
                attempts=result.attempts,
                status_code=result.status_code,
                error=result.error,
                **sent,
            )
            return result.ok
        except Exception as exc:
            log.warning("monitor: notifying %s for %s failed: %s", channel.webhook, key, exc)
            return False
