"""Failed webhook deliveries sent again by the next monitor runs, until one gets through.

A delivery that failed after its retries (a receiver down for an hour) is sent again at
the start of each later run, oldest first, with the body stored the first time and a
fresh signature (the secret is read again from the environment variable named then).
Each resend is recorded as a delivery of its own that supersedes the one it resends, in
one transaction, so a failed delivery is sent again once and a delivered one never. A
notification is given up once it is older than ``max_age`` or has been resent
``max_resends`` times. Delivery is at least once: a process stopped between the POST and
its record sends that body again next time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shipit.operate.notify import DEFAULT_RETRY, RetryPolicy, send_webhook
from shipit.registry.monitoring import MonitorState

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_RESENDS",
    "DEFAULT_RESEND",
    "ResendPolicy",
    "Resent",
    "resend_failed",
]

log = logging.getLogger("shipit.monitor")

DEFAULT_MAX_AGE = timedelta(hours=24)
DEFAULT_MAX_RESENDS = 30


@dataclass(frozen=True)
class ResendPolicy:
    """Which failed deliveries are sent again: first sent within ``max_age``, resent
    fewer than ``max_resends`` times, and not before a wait since the last try that starts
    at ``first_wait`` and doubles with each resend up to ``max_wait`` (so that a monitor
    running every minute still reaches a receiver that is down for hours)."""

    max_age: timedelta = DEFAULT_MAX_AGE
    max_resends: int = DEFAULT_MAX_RESENDS
    first_wait: timedelta = timedelta(minutes=1)
    max_wait: timedelta = timedelta(hours=1)

    def wait(self, resends: int) -> timedelta:
        """How long after a try that followed ``resends`` resends the next one may go."""
        return min(self.first_wait * (1 << min(resends, 32)), self.max_wait)


DEFAULT_RESEND = ResendPolicy()


@dataclass(frozen=True)
class Resent:
    """One failed delivery sent again: the row it resent, the new row, and how it went."""

    key: str
    url: str
    of: int
    delivery: int
    ok: bool
    error: str = ""


def resend_failed(
    state: MonitorState,
    *,
    policy: ResendPolicy = DEFAULT_RESEND,
    retry: RetryPolicy = DEFAULT_RETRY,
    now: datetime | None = None,
) -> list[Resent]:
    """Send every pending failed delivery again, oldest first, one attempt each with
    ``retry``'s timeout; never raises."""
    now = now or datetime.now(UTC)
    once = replace(retry, attempts=1)
    try:
        pending = [
            d
            for d in state.to_resend(now - policy.max_age, policy.max_resends)
            if d.at + policy.wait(d.resend) <= now
        ]
    except Exception:
        log.exception("monitor: cannot read the failed deliveries")
        return []
    out = []
    for d in pending:
        assert d.body is not None  # to_resend selects rows with a body
        body = d.body.encode("utf-8")
        record: dict[str, Any] = {"body": body, "format": d.format, "secret_env": d.secret_env}
        try:
            secret = os.environ.get(d.secret_env) if d.secret_env else None
            if d.secret_env and not secret:
                error = f"environment variable {d.secret_env} (the secret) is not set"
                new = state.record_delivery(
                    d.experiment_key, d.url, d.rules, ok=False, attempts=0,
                    status_code=None, error=error, resending=d, **record,
                )  # fmt: skip
                out.append(Resent(d.experiment_key, d.url, d.id, new, False, error))
                continue
            # One attempt: the later runs, spaced by ``policy.wait``, are its retries, and a
            # receiver still down does not hold the monitor's lease for the backoff.
            result = send_webhook(d.url, body, secret=secret, policy=once)
            new = state.record_delivery(
                d.experiment_key, d.url, d.rules, ok=result.ok, attempts=result.attempts,
                status_code=result.status_code, error=result.error, resending=d, **record,
            )  # fmt: skip
            out.append(Resent(d.experiment_key, d.url, d.id, new, result.ok, result.error))
        except Exception as exc:
            log.warning("monitor: resending delivery %s to %s failed: %s", d.id, d.url, exc)
    return out
